/* seccomp.h - the jail's default-deny syscall filter (libseccomp).
 *
 * The filter is the same for every jail, so it is compiled with libseccomp at
 * build time (seccomp_gen.c writes it out as BPF) and a launch only loads it
 * (ombx_seccomp_load, the child's last step before execve): no libseccomp
 * work, about 2 ms, on the launch path. ombx_seccomp_build stays for the
 * generator and for tests that compare the built-in copy with a fresh one.
 * Unknown syscalls fail with ENOSYS;
 * dangerous ones with EPERM; foreign ABIs kill the process.
 *
 * libseccomp writes it as two BPF programs because it cannot express "allow
 * this syscall except for these argument values" in one filter (an
 * unconditional rule swallows conditional ones): the allowlist admits ioctl,
 * clone, unshare and socket, and the argument filter, loaded after it and so
 * consulted with the kernel's "most restrictive wins" rule, refuses their
 * dangerous forms. seccomp_gen then joins them into the one program a jail
 * loads, proved to answer exactly as the two would (seccomp_compose.h). */
#ifndef OMBX_SECCOMP_H
#define OMBX_SECCOMP_H

#include <linux/filter.h>

#include "../common/err.h"

/* libseccomp's two programs (build time). */
struct ombx_seccomp {
	struct sock_fprog allow; /* default ENOSYS; the allowlist */
	struct sock_fprog args;  /* default ALLOW; refuses dangerous arguments */
};

int ombx_seccomp_build(struct ombx_seccomp *out, ombx_err *err);

/* The one program compiled at build time (seccomp_bpf.c, generated). */
const struct sock_fprog *ombx_seccomp_builtin(void);
/* Requires no_new_privs already set. Returns 0 or -errno. Async-signal-safe. */
int ombx_seccomp_load(const struct sock_fprog *prog);
void ombx_seccomp_free(struct ombx_seccomp *sc); /* accepts zeroed */

#endif
