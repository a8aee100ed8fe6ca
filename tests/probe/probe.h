/* probe.h - what the probe's files share: reporting and the check groups.
 *
 * probe.c holds main, the reporting helpers and the process, identity and
 * environment checks; probe_kernel.c the syscalls seccomp refuses (ioctl,
 * keys, bpf, namespaces, mounts, foreign ABIs); probe_net.c sockets and the
 * network; probe_fs.c the filesystem and what must stay writable. Every
 * check reports exactly once, through ok() or fail(), under a fixed name. */
#ifndef OMBX_PROBE_H
#define OMBX_PROBE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define HIGH32 0xffffffff00000000UL

extern bool verbose;
extern bool as_root; /* skip attempts that would change a host */
extern const char *ws; /* the workspace, as given on the command line */

/* ---------- reporting (probe.c) ---------- */

const char *ename(int e);
void ok(const char *name, const char *what);
void fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* only with -v */
void not_attempted(const char *name);
/* The call (ret, err) must have failed with one of allowed[]. */
bool expect_errno(const char *name, long ret, int err, const int *allowed, size_t n);
/* WS/rel into buf. */
void wspath(char *buf, size_t len, const char *rel);

/* Runs CALL, checks it failed with one of the errnos listed; yields the return
 * value so a caller can clean up what an unexpected success created. */
#define EXPECT(name, call, ...)                                                  \
	({                                                                       \
		errno = 0;                                                       \
		long r_ = (long)(call);                                          \
		int e_ = errno;                                                  \
		static const int a_[] = { __VA_ARGS__ };                         \
		expect_errno((name), r_, e_, a_, ARRAY_SIZE(a_));                \
		r_;                                                              \
	})
/* Same for calls returning a descriptor: closed again if one came back. */
#define EXPECT_FD(name, call, ...)                                               \
	do {                                                                     \
		long fd_ = EXPECT(name, call, __VA_ARGS__);                      \
		if (fd_ >= 0)                                                    \
			close((int)fd_);                                         \
	} while (0)

struct child_res {
	long ret;
	int err;
	bool reported; /* false: the child died before it could say */
	int status;    /* waitpid status */
};

/* Runs fn in a forked child so that a success (a new namespace, a tracer, a
 * stray clone) cannot affect the probe itself. */
int in_child(long (*fn)(void), struct child_res *out);

#define EXPECT_CHILD(name, fn, ...)                                              \
	do {                                                                     \
		struct child_res c_;                                             \
		static const int a_[] = { __VA_ARGS__ };                         \
		if (in_child(fn, &c_) < 0)                                       \
			fail(name, "fork failed: %s", ename(errno));             \
		else if (!c_.reported)                                           \
			fail(name, "child died (wait status 0x%x)", c_.status);  \
		else                                                             \
			expect_errno(name, c_.ret, c_.err, a_, ARRAY_SIZE(a_));  \
	} while (0)

/* ---------- the check groups, in the order main runs them ---------- */

void check_kernel(void);     /* probe_kernel.c */
void check_network(void);    /* probe_net.c */
void check_filesystem(void); /* probe_fs.c */

#endif
