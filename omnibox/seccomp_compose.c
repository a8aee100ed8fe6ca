/* seccomp_compose.c - the jail's two seccomp programs as one (see
 * seccomp_compose.h). Build time only: nothing here runs in a launch. */
#include "seccomp_compose.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define OP_LD_ABS 0x20 /* BPF_LD | BPF_W | BPF_ABS */
#define OP_JA     0x05
#define OP_JEQ    0x15
#define OP_JGT    0x25
#define OP_JGE    0x35
#define OP_JSET   0x45
#define OP_AND    0x54 /* BPF_ALU | BPF_AND | BPF_K */
#define OP_RET    0x06

#define OFF_NR   0
#define OFF_ARCH 4
#define DATA_LEN 64 /* sizeof(struct seccomp_data) */

enum outcome { RET, READS, STOPPED, BAD };

struct input {
	uint32_t nr, arch;
	const uint64_t *args; /* NULL: stop at the first read past nr and arch */
	bool strict;          /* refuse arithmetic or bit tests on nr and arch */
	int stop_pc;          /* stop on reaching it (-1: never) */
};

static uint32_t load(const struct input *in, uint32_t off)
{
	uint64_t a;

	if (off == OFF_NR)
		return in->nr;
	if (off == OFF_ARCH)
		return in->arch;
	if (off < 16)
		return 0; /* instruction_pointer */
	a = in->args[(off - 16) / 8];
	return (uint32_t)(off % 8 ? a >> 32 : a); /* little-endian halves */
}

/* Runs p on in; *ret gets what a RET returned. */
static enum outcome run(const struct sock_fprog *p, const struct input *in, uint32_t *ret)
{
	uint32_t A = 0;
	bool pure = false; /* A holds nr or arch, unchanged */

	for (unsigned pc = 0; pc < p->len;) {
		const struct sock_filter *f = &p->filter[pc];
		uint32_t next = pc + 1;

		if ((int)pc == in->stop_pc)
			return STOPPED;
		switch (f->code) {
		case OP_LD_ABS:
			if (f->k >= DATA_LEN || f->k % 4)
				return BAD;
			if (f->k != OFF_NR && f->k != OFF_ARCH && !in->args)
				return READS;
			A = load(in, f->k);
			pure = f->k == OFF_NR || f->k == OFF_ARCH;
			break;
		case OP_AND:
			if (pure && in->strict)
				return BAD;
			A &= f->k;
			break;
		case OP_JA:
			next += f->k;
			break;
		case OP_JEQ:
		case OP_JGT:
		case OP_JGE:
		case OP_JSET: {
			bool t = f->code == OP_JEQ   ? A == f->k
				 : f->code == OP_JGT ? A > f->k
				 : f->code == OP_JGE ? A >= f->k
						     : (A & f->k) != 0;
			if (f->code == OP_JSET && pure && in->strict)
				return BAD;
			next += t ? f->jt : f->jf;
			break;
		}
		case OP_RET:
			*ret = f->k;
			return RET;
		default:
			return BAD;
		}
		if (next <= pc) /* overflow: cBPF only jumps forward */
			return BAD;
		pc = next;
	}
	return BAD; /* ran off the end */
}

int64_t ombx_seccomp_eval(const struct sock_fprog *prog, uint32_t arch, uint32_t nr,
			  const uint64_t args[6])
{
	struct input in = {.nr = nr, .arch = arch, .args = args, .stop_pc = -1};
	uint32_t ret;

	return run(prog, &in, &ret) == RET ? (int64_t)ret : -1;
}

/* The kernel's choice among filters (kernel/seccomp.c): the lowest action
 * as a signed number wins; among equals, the first one consulted. */
static uint32_t combine(uint32_t consulted_first, uint32_t then)
{
	uint32_t ret = SECCOMP_RET_ALLOW;
	const uint32_t seq[2] = {consulted_first, then};

	for (int i = 0; i < 2; i++)
		if ((int32_t)(seq[i] & SECCOMP_RET_ACTION_FULL) <
		    (int32_t)(ret & SECCOMP_RET_ACTION_FULL))
			ret = seq[i];
	return ret;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* One value in every interval the programs' comparison constants cut the
 * 32-bit range into: each constant and its neighbours, and both ends.
 * Sorted, without repeats; *n their count. Caller frees. */
static uint32_t *points(const struct sock_fprog *const *progs, int n_progs, size_t *n)
{
	size_t cap = 4, k = 0;
	uint32_t *v;

	for (int i = 0; i < n_progs; i++)
		cap += 3 * (size_t)progs[i]->len;
	if (!(v = malloc(cap * sizeof(*v))))
		return NULL;
	v[k++] = 0;
	v[k++] = 1;
	v[k++] = UINT32_MAX - 1;
	v[k++] = UINT32_MAX;
	for (int i = 0; i < n_progs; i++)
		for (unsigned j = 0; j < progs[i]->len; j++) {
			const struct sock_filter *f = &progs[i]->filter[j];
			if (f->code != OP_JEQ && f->code != OP_JGT && f->code != OP_JGE)
				continue;
			v[k++] = f->k - 1; /* wraps at 0 to UINT32_MAX: also a point */
			v[k++] = f->k;
			v[k++] = f->k + 1;
		}
	qsort(v, k, sizeof(*v), cmp_u32);
	*n = 0;
	for (size_t i = 0; i < k; i++)
		if (*n == 0 || v[*n - 1] != v[i])
			v[(*n)++] = v[i];
	return v;
}

/* What the kernel answers for (arch, nr) with both programs loaded, found
 * without arguments: *ret, or *enter when the argument program reads them
 * (then the allowlist must allow, so that answer is the argument program's). */
static int expected(const struct ombx_seccomp *sc, uint32_t arch, uint32_t nr, uint32_t *ret,
		    bool *enter, ombx_err *err)
{
	struct input in = {.nr = nr, .arch = arch, .strict = true, .stop_pc = -1};
	uint32_t a, g;
	enum outcome o;

	if (run(&sc->allow, &in, &a) != RET)
		return ombx_err_set(err, EINVAL,
				    "seccomp: the allowlist reads more than the syscall number and "
				    "arch, or uses what the prover does not know (arch 0x%x nr %u)",
				    arch, nr);
	o = run(&sc->args, &in, &g);
	if (o == BAD)
		return ombx_err_set(
			err, EINVAL,
			"seccomp: the argument filter uses what the prover does not know "
			"(arch 0x%x nr %u)",
			arch, nr);
	*enter = o == READS;
	if (*enter && a != SECCOMP_RET_ALLOW)
		return ombx_err_set(err, EINVAL,
				    "seccomp: the argument filter reads arguments of a syscall the "
				    "allowlist does not allow (arch 0x%x nr %u): not composable",
				    arch, nr);
	*ret = *enter ? 0 : combine(g, a);
	return 0;
}

int ombx_seccomp_prove(const struct ombx_seccomp *sc, const struct sock_fprog *one, ombx_err *err)
{
	const struct sock_fprog *all[] = {&sc->allow, &sc->args, one};
	int entry = (int)one->len - (int)sc->args.len;
	bool tail = entry >= 0 && memcmp(one->filter + entry, sc->args.filter,
					 sc->args.len * sizeof(*one->filter)) == 0;
	size_t n;
	uint32_t *pt;
	int r = 0;

	/* Entered with A holding the syscall number, the argument program
	 * must not read A before it loads (its start alone reads nothing
	 * else: the prover knows no X or scratch memory). */
	if (sc->args.len == 0 || sc->args.filter[0].code != OP_LD_ABS)
		return ombx_err_set(err, EINVAL,
				    "seccomp: the argument filter does not start with a load: not "
				    "composable");
	if (!(pt = points(all, 3, &n)))
		return ombx_err_set(err, ENOMEM, "seccomp: out of memory");
	for (size_t i = 0; r == 0 && i < n; i++)
		for (size_t j = 0; r == 0 && j < n; j++) {
			struct input in = {.nr = pt[j],
					   .arch = pt[i],
					   .strict = true,
					   .stop_pc = tail ? entry : -1};
			uint32_t want, got;
			bool enter;
			enum outcome o;

			if ((r = expected(sc, in.arch, in.nr, &want, &enter, err)) < 0)
				break;
			o = run(one, &in, &got);
			if (o == STOPPED && !enter) { /* the argument program decides alone */
				in.stop_pc = -1;
				o = run(&sc->args, &in, &got);
			}
			if (enter ? o != STOPPED : o != RET || got != want)
				r = ombx_err_set(
					err, EINVAL,
					"seccomp: the composed filter differs from the two "
					"for arch 0x%x nr %u (%s)",
					in.arch, in.nr,
					enter ? "it must enter the argument filter"
					      : "another answer");
		}
	free(pt);
	return r;
}

struct emitter {
	struct sock_filter *f;
	unsigned n;
};

struct run_of {
	uint32_t from; /* first syscall number of the run */
	uint32_t ret;
	bool enter; /* the argument program answers */
};

/* A binary search over runs[lo..hi] at e->n: "nr >= first of the upper
 * half" at each node. Leaves are jump targets, resolved by target(). */
static int emit_tree(struct emitter *e, const struct run_of *runs, int lo, int hi,
		     int (*target)(const struct run_of *, void *), void *arg, int *at)
{
	int mid, node, t, f;

	if (lo == hi) {
		*at = target(&runs[lo], arg);
		return 0;
	}
	mid = (lo + hi + 1) / 2;
	node = (int)e->n++;
	if (emit_tree(e, runs, mid, hi, target, arg, &t) < 0 ||
	    emit_tree(e, runs, lo, mid - 1, target, arg, &f) < 0)
		return -1;
	t -= node + 1;
	f -= node + 1;
	if (t < 0 || t > 255 || f < 0 || f > 255)
		return -1;
	e->f[node] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, runs[mid].from,
						  (uint8_t)t, (uint8_t)f);
	*at = node;
	return 0;
}

struct layout {
	int rets_at, args_at;
	uint32_t rets[8]; /* the distinct answers, each returned once */
	size_t n_rets;
};

static int leaf_target(const struct run_of *r, void *arg)
{
	const struct layout *l = arg;

	if (r->enter)
		return l->args_at;
	for (size_t i = 0; i < l->n_rets; i++)
		if (l->rets[i] == r->ret)
			return l->rets_at + (int)i;
	return -1;
}

/* The runs of syscall numbers (native arch) that share one answer, each
 * from the first point of its interval, into runs[] (n points long); their
 * distinct answers into l. */
static int find_runs(const struct ombx_seccomp *sc, uint32_t arch, const uint32_t *pt, size_t n,
		     struct run_of *runs, size_t *n_runs, struct layout *l, ombx_err *err)
{
	int r;

	*n_runs = 0;
	for (size_t i = 0; i < n; i++) {
		struct run_of x = {.from = pt[i]};
		size_t k = 0;

		if ((r = expected(sc, arch, pt[i], &x.ret, &x.enter, err)) < 0)
			return r;
		if (*n_runs && runs[*n_runs - 1].enter == x.enter && runs[*n_runs - 1].ret == x.ret)
			continue;
		runs[(*n_runs)++] = x;
		while (!x.enter && k < l->n_rets && l->rets[k] != x.ret)
			k++;
		if (x.enter || k < l->n_rets)
			continue;
		if (l->n_rets == sizeof(l->rets) / sizeof(l->rets[0]))
			return ombx_err_set(err, E2BIG, "seccomp: too many answers");
		l->rets[l->n_rets++] = x.ret;
	}
	return 0;
}

int ombx_seccomp_compose(const struct ombx_seccomp *sc, uint32_t arch, struct sock_fprog *out,
			 ombx_err *err)
{
	const struct sock_fprog *two[] = {&sc->allow, &sc->args};
	struct run_of *runs = NULL;
	uint32_t *pt, foreign;
	struct layout l = {0};
	struct emitter e = {0};
	size_t n, n_runs, tree;
	bool enter;
	int r, root;

	*out = (struct sock_fprog){0};
	if (!(pt = points(two, 2, &n)) || !(runs = calloc(n, sizeof(*runs)))) {
		r = ombx_err_set(err, ENOMEM, "seccomp: out of memory");
		goto out;
	}
	/* another arch: one answer (the allowlist kills), checked by the proof */
	if ((r = expected(sc, arch + 1, 0, &foreign, &enter, err)) < 0 ||
	    (r = find_runs(sc, arch, pt, n, runs, &n_runs, &l, err)) < 0)
		goto out;
	/* ld arch; jeq arch; ret foreign; ld nr; the tree (a jump if one
	 * run); the answers; the argument program */
	tree = n_runs > 1 ? n_runs - 1 : 1;
	l.rets_at = 4 + (int)tree;
	l.args_at = l.rets_at + (int)l.n_rets;
	if ((size_t)l.args_at + sc->args.len > BPF_MAXINSNS ||
	    !(e.f = calloc((size_t)l.args_at + sc->args.len, sizeof(*e.f)))) {
		r = ombx_err_set(err, E2BIG, "seccomp: the composed filter is too long");
		goto out;
	}
	e.f[e.n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_ARCH);
	e.f[e.n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0);
	e.f[e.n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, foreign);
	e.f[e.n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, OFF_NR);
	if (n_runs == 1) {
		root = leaf_target(&runs[0], &l);
		e.f[e.n] = (struct sock_filter)BPF_STMT(BPF_JMP | BPF_JA, (uint32_t)(root - 5));
		e.n++;
	} else if (emit_tree(&e, runs, 0, (int)n_runs - 1, leaf_target, &l, &root) < 0) {
		r = ombx_err_set(err, E2BIG, "seccomp: a jump in the composed filter is too long");
		goto out;
	}
	for (size_t i = 0; i < l.n_rets; i++)
		e.f[e.n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, l.rets[i]);
	memcpy(e.f + e.n, sc->args.filter, sc->args.len * sizeof(*e.f));
	e.n += sc->args.len;
	*out = (struct sock_fprog){.len = (unsigned short)e.n, .filter = e.f};
	e.f = NULL;
	if ((r = ombx_seccomp_prove(sc, out, err)) < 0) {
		free(out->filter);
		*out = (struct sock_fprog){0};
	}
out:
	free(e.f);
	free(runs);
	free(pt);
	return r;
}
