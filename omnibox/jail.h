/* jail.h - internals shared by the parent side (jail.c), the in-jail side
 * (child.c) and the root file system builder (mount.c).
 *
 * The parent prepares everything that can be prepared outside (paths,
 * environment, the seccomp filter, the cgroup) into one ombx__plan; the
 * child only executes the plan. Never shared between jails. */
#ifndef OMBX_JAIL_H
#define OMBX_JAIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "omnibox.h"
#include "seccomp.h"
#include "tty.h"

#define OMBX_JAIL_HOME "/home/user"
#define OMBX_JAIL_HOSTNAME "omnibox"
/* In the jail's root while it is built, removed before the command runs:
 * the host root's mount point and the empty file --hide binds. A host path
 * there (the workspace, --ro/--rw/--hide) would name the setup's own, so
 * jail.c refuses one. */
#define OMBX_SETUP_DIR "/.omnibox"
#define OMBX_JAIL_PATH "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"

/* A message from inside the jail to the parent over the status pipe. */
enum { OMBX_MSG_SETUP = 'S', OMBX_MSG_EXEC = 'X' };
struct ombx__msg {
	int kind;
	int err;        /* positive errno */
	char text[480]; /* what failed (a path, a step); < PIPE_BUF in all */
};

struct ombx__bind {
	enum ombx_bind_kind kind;
	char *path;   /* canonical host path == path inside the jail */
	bool is_dir;
	bool exists;
};

struct ombx__plan {
	const struct ombx_config *cfg;
	char *workspace;            /* canonical */
	struct ombx__bind *binds;
	size_t n_binds;
	char **argv;                /* copy of cfg->argv: the originals get wiped */
	char **envp;                /* the jail's whole environment */
	unsigned jail_uid, jail_gid, host_uid, host_gid;
	bool privileged;            /* invoked as root */
	int landlock_abi;
	const struct sock_fprog *seccomp; /* compiled at build time */
	uint64_t nproc;             /* RLIMIT_NPROC inside: per jail, via its user namespace */
	int sync_fd;                /* child reads "go" here */
	int msg_fd;                 /* child writes ombx__msg here (CLOEXEC) */
	struct ombx_tty_init tty;   /* tty.sock is -1 without --tty */
};

/* child.c: runs in the new namespaces as the jail's pid 1. Never returns. */
__attribute__((noreturn)) void ombx__child_main(struct ombx__plan *p);

/* net_proxy.c: in the jail's network namespace, the proxy's listening
 * sockets and an rtnetlink socket for its routes (which the proxy adds:
 * jail_routes.h); sends them over send_fd (closed) and waits for the
 * proxy's 'K'. 0 or -errno with *what. */
int ombx__net_proxy_setup(int send_fd, const char **what);

/* child.c: report a failure to the parent (async-signal-safe). */
void ombx__send(const struct ombx__plan *p, int kind, int err, const char *what);

/* mount.c: the jail's root, in stages, in this order (init runs them all
 * while the command's process sets itself up; see child.c). Each returns 0
 * or -errno with *what naming the path or step that failed.
 *   begin:    private tree, pivot into the jail's root tmpfs (host root at
 *             /.omnibox/host), the system binds and an empty /etc
 *   rest:     /dev, /proc, /tmp, $HOME, the workspace, --ro/--rw/--hide
 *   populate: /etc's copies and binds
 *   seal:     /etc's synthetic files; detach the host's root, make /
 *             read-only */
int ombx__mount_begin(const struct ombx__plan *p, const char **what);
int ombx__mount_rest(const struct ombx__plan *p, const char **what);
int ombx__etc_populate(const struct ombx__plan *p, const char **what);
int ombx__mount_seal(const struct ombx__plan *p, const char **what);

#endif
