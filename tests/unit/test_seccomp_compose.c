/* test_seccomp_compose.c - the one seccomp program a jail loads answers as
 * libseccomp's two would: the built-in copy is the proved composition of a
 * fresh build; random inputs (arguments included) agree with the kernel's
 * rule for two filters; the prover rejects a composition with any single
 * decision changed; what cannot be composed or proved is refused. The
 * jail's real behaviour under it is checked by the probe (probe_*.sh). */
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "check.h"
#include "omnibox/seccomp.h"
#include "omnibox/seccomp_compose.h"

#define ARCH AUDIT_ARCH_X86_64

static uint64_t rnd(void)
{
	return (uint64_t)random() << 33 ^ (uint64_t)random() << 11 ^ (uint64_t)random();
}

/* Values the filters test, and their neighbours, more often than chance. */
static uint64_t arg_value(void)
{
	static const uint64_t near[] = {
		CLONE_NEWUSER | SIGCHLD,
		CLONE_NEWNS,
		CLONE_NEWNET | CLONE_VM,
		0x80,
		TIOCSTI,
		0x541C,
		TIOCSETD,
		AF_UNIX,
		AF_INET,
		AF_INET6,
		AF_NETLINK,
		AF_PACKET,
		46,
		0,
		SOCK_RAW,
		SOCK_STREAM,
		1ULL << 32 | TIOCSTI,
		0xffffffffULL,
	};
	uint64_t v = near[(size_t)random() % (sizeof(near) / sizeof(near[0]))];

	switch (random() % 4) {
	case 0:
		return rnd();
	case 1:
		return v | (rnd() & 0xffffffff00000000ULL);
	default:
		return v + (uint64_t)(random() % 3) - 1;
	}
}

/* The kernel's choice: the argument filter (loaded last) is consulted first;
 * the lowest action as a signed number wins, the first among equals. */
static int64_t two(const struct ombx_seccomp *sc, uint32_t arch, uint32_t nr, const uint64_t *a)
{
	int64_t g = ombx_seccomp_eval(&sc->args, arch, nr, a),
		w = ombx_seccomp_eval(&sc->allow, arch, nr, a);

	if (g < 0 || w < 0)
		return -1;
	return (int32_t)((uint32_t)w & SECCOMP_RET_ACTION_FULL) <
			       (int32_t)((uint32_t)g & SECCOMP_RET_ACTION_FULL)
		       ? w
		       : g;
}

static void random_inputs(const struct ombx_seccomp *sc, const struct sock_fprog *one)
{
	static const uint32_t arches[] = {ARCH, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, 0};
	long bad = 0, n = 300000;
	uint32_t bad_nr = 0;

	srandom(7);
	for (long i = 0; i < n; i++) {
		uint64_t a[6];
		uint32_t arch = random() % 8 ? ARCH : arches[random() % 4] + (random() % 2);
		uint32_t nr = random() % 4   ? (uint32_t)(random() % 520)
			      : random() % 2 ? (uint32_t)rnd()
					     : 0x40000000u + (uint32_t)(random() % 520) - 2;
		for (int k = 0; k < 6; k++)
			a[k] = arg_value();
		if (ombx_seccomp_eval(one, arch, nr, a) != two(sc, arch, nr, a) && bad++ == 0)
			bad_nr = nr;
	}
	check(bad == 0, "300,000 random inputs: the one program answers as the two",
	      "%ld differ (first: nr %u)", bad, bad_nr);
}

/* Whether m answers differently from the two somewhere around syscall nr. */
static bool differs_near(const struct ombx_seccomp *sc, const struct sock_fprog *m, uint32_t nr)
{
	for (int i = 0; i < 200; i++) {
		uint64_t a[6];
		uint32_t arch = i % 4 ? ARCH : AUDIT_ARCH_I386, at = nr + (uint32_t)(i % 3) - 1;
		for (int k = 0; k < 6; k++)
			a[k] = arg_value();
		if (ombx_seccomp_eval(m, arch, at, a) != two(sc, arch, at, a))
			return true;
	}
	return false;
}

/* Every decision of the composed program's own part (before the argument
 * program) changed in turn: the prover must notice each change that makes
 * a difference. (Moving the boundary between, say, clone and fork by one
 * sends fork through the argument filter, which allows it: no change.) */
static void mutations(const struct ombx_seccomp *sc, const struct sock_fprog *one)
{
	struct sock_fprog m = {.len = one->len, .filter = malloc(one->len * sizeof(*one->filter))};
	unsigned own = one->len - sc->args.len, tried = 0, caught = 0, neutral = 0;
	ombx_err err = {0};

	for (unsigned i = 0; m.filter && i < own; i++) {
		struct sock_filter *f = &m.filter[i];
		bool proved;
		memcpy(m.filter, one->filter, one->len * sizeof(*one->filter));
		if (f->code == (BPF_JMP | BPF_JGE | BPF_K))
			f->k++; /* a run's first syscall moves by one */
		else if (f->code == (BPF_RET | BPF_K))
			f->k = f->k == SECCOMP_RET_ALLOW ? SECCOMP_RET_ERRNO | 1
							 : SECCOMP_RET_ALLOW;
		else
			continue;
		proved = ombx_seccomp_prove(sc, &m, &err) == 0;
		if (f->code == (BPF_RET | BPF_K) || differs_near(sc, &m, f->k - 1)) {
			tried++;
			caught += !proved;
		} else {
			neutral += proved;
		}
	}
	check(tried > 50 && caught == tried,
	      "the prover rejects every change that changes an answer",
	      "%u of %u caught (%u neutral ones proved)", caught, tried, neutral);
	free(m.filter);
}

#define LD(off)      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off)
#define RET(v)       BPF_STMT(BPF_RET | BPF_K, v)
#define JEQ(k, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, t, f)

static void refused(const char *name, struct sock_filter *allow, unsigned short n_allow,
		    struct sock_filter *args, unsigned short n_args, const char *want)
{
	struct ombx_seccomp sc = {.allow = {n_allow, allow}, .args = {n_args, args}};
	struct sock_fprog one;
	ombx_err err = {0};
	int r = ombx_seccomp_compose(&sc, ARCH, &one, &err);

	if (r == 0)
		free(one.filter);
	check(r < 0 && strstr(err.msg, want), name, "r=%d, '%s'", r, err.msg);
}

static void not_composable(void)
{
	struct sock_filter allow[] = {
		LD(4),         JEQ(ARCH, 1, 0),        RET(SECCOMP_RET_KILL_PROCESS), LD(0),
		JEQ(39, 0, 1), RET(SECCOMP_RET_ALLOW), RET(SECCOMP_RET_ERRNO | 38)};
	struct sock_filter args[] = {LD(4),
				     JEQ(ARCH, 1, 0),
				     RET(SECCOMP_RET_ALLOW),
				     LD(0),
				     JEQ(16, 0, 2),
				     LD(24),
				     JEQ(0x5412, 1, 0),
				     RET(SECCOMP_RET_ALLOW),
				     RET(SECCOMP_RET_ERRNO | 1)};
	struct sock_filter reads[] = {LD(16), RET(SECCOMP_RET_ALLOW)};
	struct sock_filter ldx[] = {BPF_STMT(BPF_LDX | BPF_W | BPF_LEN, 0), RET(SECCOMP_RET_ALLOW)};
	struct sock_filter and_nr[] = {LD(0), BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 1),
				       RET(SECCOMP_RET_ALLOW)};
	struct sock_filter allow_all[] = {RET(SECCOMP_RET_ALLOW)};
	struct sock_filter a_first[] = {JEQ(0, 0, 1), RET(SECCOMP_RET_ALLOW),
					RET(SECCOMP_RET_ERRNO | 1)};
	struct sock_fprog one;
	ombx_err err = {0};
	struct ombx_seccomp ok = {.allow = {7, allow}, .args = {9, args}};

	/* ioctl (16) is not allowed by this allowlist, yet the argument
	 * program reads its arguments: not composable */
	refused("an argument check on a syscall the allowlist refuses is refused", allow, 7, args,
		9, "does not allow");
	refused("an allowlist that reads arguments is refused", reads, 2, allow_all, 1,
		"reads more");
	refused("an opcode the prover does not know is refused", ldx, 2, allow_all, 1,
		"does not know");
	refused("arithmetic on the syscall number is refused", and_nr, 3, allow_all, 1,
		"does not know");
	/* entered with A = the syscall number, this would test that, not 0 */
	refused("an argument filter that reads A before loading is refused", allow_all, 1, a_first,
		3, "does not start with a load");
	/* the same with ioctl allowed composes, and answers as the two */
	allow[4].k = 16;
	check(ombx_seccomp_compose(&ok, ARCH, &one, &err) == 0 &&
		      ombx_seccomp_eval(&one, ARCH, 16, (uint64_t[6]){0, 0x5412}) ==
			      (SECCOMP_RET_ERRNO | 1) &&
		      ombx_seccomp_eval(&one, ARCH, 16, (uint64_t[6]){0, 0x5413}) ==
			      SECCOMP_RET_ALLOW &&
		      ombx_seccomp_eval(&one, ARCH, 39, (uint64_t[6]){0}) ==
			      (SECCOMP_RET_ERRNO | 38) &&
		      ombx_seccomp_eval(&one, AUDIT_ARCH_I386, 16, (uint64_t[6]){0}) ==
			      SECCOMP_RET_KILL_PROCESS,
	      "a small pair composes and answers as the two", "%s", err.msg);
	if (err.code == 0)
		free(one.filter);
}

int main(void)
{
	struct ombx_seccomp sc;
	struct sock_fprog one = {0};
	const struct sock_fprog *builtin = ombx_seccomp_builtin();
	ombx_err err = {0};

	if (ombx_seccomp_build(&sc, &err) < 0 || ombx_seccomp_compose(&sc, ARCH, &one, &err) < 0) {
		check(0, "libseccomp's two programs compose", "%s", err.msg);
		return finish();
	}
	check(one.len < sc.allow.len, "one program, shorter than the allowlist alone",
	      "%u instructions (allowlist %u, argument filter %u)", one.len, sc.allow.len,
	      sc.args.len);
	check(builtin->len == one.len &&
		      memcmp(builtin->filter, one.filter, one.len * sizeof(*one.filter)) == 0,
	      "the built-in program is the proved composition of a fresh build", "differs");
	random_inputs(&sc, &one);
	mutations(&sc, &one);
	not_composable();
	free(one.filter);
	ombx_seccomp_free(&sc);
	return finish();
}
