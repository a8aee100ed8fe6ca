/* seccomp.c - default-deny syscall allowlist for the jail.
 *
 * The allowlist follows the container runtimes' default profile: what ordinary
 * programs (shells, compilers, interpreters, git, node) need, nothing that
 * reaches kernel attack surface or another namespace. Anything not listed
 * fails with ENOSYS so programs take their fallback paths; the syscalls an
 * attacker wants fail with EPERM so a probe can tell "refused" from "absent".
 * Foreign ABIs (i386, x32) kill the process. */
#include "seccomp.h"

#include <errno.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/cleanup.h"

#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif
#ifndef NETLINK_ROUTE
#define NETLINK_ROUTE 0
#endif

static const char *const allowed[] = {
	"accept", "accept4", "access", "adjtimex", "alarm", "arch_prctl", "bind", "brk",
	"capget", "chdir", "chmod", "chown", "clock_adjtime", "clock_getres",
	"clock_gettime", "clock_nanosleep", "close", "close_range", "connect",
	"copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
	"epoll_ctl", "epoll_pwait", "epoll_pwait2", "epoll_wait", "eventfd", "eventfd2",
	"execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
	"fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchown", "fchownat",
	"fcntl", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
	"fsetxattr", "fstat", "fstatfs", "fsync", "ftruncate", "futex", "futex_waitv",
	"futimesat", "get_robust_list", "get_thread_area", "getcpu", "getcwd", "getdents",
	"getdents64", "getegid", "geteuid", "getgid", "getgroups", "getitimer",
	"getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
	"getrandom", "getresgid", "getresuid", "getrlimit", "getrusage", "getsid",
	"getsockname", "getsockopt", "gettid", "gettimeofday", "getuid", "getxattr",
	"inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
	"io_cancel", "io_destroy", "io_getevents", "io_pgetevents", "io_setup", "io_submit",
	"ioprio_get", "ioprio_set", "kill", "landlock_add_rule", "landlock_create_ruleset",
	"landlock_restrict_self", "lchown", "lgetxattr", "link", "linkat", "listen",
	"listxattr", "llistxattr", "lremovexattr", "lseek", "lsetxattr", "lstat", "madvise",
	"membarrier", "memfd_create", "mincore", "mkdir", "mkdirat", "mknod", "mknodat",
	"mlock", "mlock2", "mlockall", "mmap", "mprotect", "mq_getsetattr", "mq_notify",
	"mq_open", "mq_timedreceive", "mq_timedsend", "mq_unlink", "mremap", "msgctl",
	"msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
	"name_to_handle_at", "nanosleep", "newfstatat", "open", "openat", "openat2",
	"pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "poll",
	"ppoll", "prctl", "pread64", "preadv", "preadv2", "prlimit64", "pselect6", "pwrite64",
	"pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv",
	"recvfrom", "recvmmsg", "recvmsg", "remap_file_pages", "removexattr", "rename",
	"renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
	"rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
	"rt_sigsuspend", "rt_sigtimedwait", "rt_tgsigqueueinfo", "sched_get_priority_max",
	"sched_get_priority_min", "sched_getaffinity", "sched_getattr", "sched_getparam",
	"sched_getscheduler", "sched_rr_get_interval", "sched_setaffinity",
	"sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield",
	"seccomp", "select", "semctl", "semget", "semop", "semtimedop", "sendfile",
	"sendmmsg", "sendmsg", "sendto", "set_robust_list", "set_thread_area",
	"set_tid_address", "setfsgid", "setfsuid", "setgid", "setgroups", "setitimer",
	"setpgid", "setpriority", "setregid", "setresgid", "setresuid", "setreuid",
	"setrlimit", "setsid", "setsockopt", "setuid", "setxattr", "shmat", "shmctl",
	"shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4",
	"socketpair", "splice", "stat", "statfs", "statx", "symlink", "symlinkat", "sync",
	"sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create",
	"timer_delete", "timer_getoverrun", "timer_gettime", "timer_settime",
	"timerfd_create", "timerfd_gettime", "timerfd_settime", "times", "tkill",
	"truncate", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat", "utimes",
	"vfork", "wait4", "waitid", "write", "writev", "cachestat", "map_shadow_stack",
	"fchmodat2", "process_mrelease", "futex_wait", "futex_wake", "futex_requeue",
	"mseal", "getxattrat", "listxattrat", "setxattrat", "removexattrat",
};

/* Refused with EPERM so that callers see "not permitted", not "absent". */
static const char *const refused[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
	"pidfd_getfd", /* takes another process's descriptors: ptrace's power */
	"bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
	"io_uring_setup", "io_uring_enter", "io_uring_register", "kexec_load",
	"kexec_file_load", "init_module", "finit_module", "delete_module", "mount",
	"umount", "umount2", "pivot_root", "chroot", "setns", "open_by_handle_at",
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
	"mount_setattr", "open_tree_attr", "statmount", "listmount", "swapon", "swapoff",
	"reboot", "acct", "quotactl", "quotactl_fd", "lookup_dcookie", "syslog",
	"settimeofday", "clock_settime", "stime", "sethostname", "setdomainname",
	"iopl", "ioperm", "vhangup", "uselib", "personality", "ustat", "sysfs",
	"_sysctl", "nfsservctl", "fanotify_init", "mbind", "set_mempolicy",
	"migrate_pages", "move_pages", "get_mempolicy", "set_mempolicy_home_node",
	"modify_ldt", "pkey_alloc", "pkey_free", "pkey_mprotect", "vm86", "vm86old",
	"lsm_get_self_attr", "lsm_set_self_attr", "lsm_list_modules",
};

static const uint64_t ns_flags[] = {
	CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
	CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP, 0x00000080 /* CLONE_NEWTIME */,
};

static int add_names(scmp_filter_ctx ctx, uint32_t action, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not a syscall on this libseccomp/arch */
		int r = seccomp_rule_add(ctx, action, nr, 0);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The allowlist: default ENOSYS, refused[] EPERM, the rest allowed. */
static int build_allow(scmp_filter_ctx ctx)
{
	int r = add_names(ctx, SCMP_ACT_ALLOW, allowed, ARRAY_SIZE(allowed));
	if (r == 0)
		r = add_names(ctx, SCMP_ACT_ERRNO(EPERM), refused, ARRAY_SIZE(refused));
	/* Admitted here, their arguments checked by the second filter. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 0);
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 0);
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(unshare), 0);
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 0);
	/* clone3 is deliberately absent: it hides its flags in memory a filter
	 * cannot read, and the default ENOSYS makes libc fall back to clone,
	 * whose flags the second filter inspects. */
	return r;
}

static int refuse_family(scmp_filter_ctx ctx, int family)
{
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
				SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)family));
}

/* The argument filter: default ALLOW, EPERM/EAFNOSUPPORT for dangerous forms. */
static int build_args(scmp_filter_ctx ctx)
{
	const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
	int r = 0;

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(ns_flags); i++) {
		r = seccomp_rule_add(ctx, eperm, SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
		if (r == 0)
			r = seccomp_rule_add(ctx, eperm, SCMP_SYS(unshare), 1,
					     SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]));
	}
	/* The kernel reads the ioctl command as 32 bits: mask so that a
	 * variant with high bits set is refused too. */
	if (r == 0)
		r = seccomp_rule_add(ctx, eperm, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
	if (r == 0)
		r = seccomp_rule_add(ctx, eperm, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX));
	/* Nor a new line discipline on the caller's terminal, which the jail
	 * holds as fds 0-2: historic kernel attack surface, no use to an agent. */
	if (r == 0)
		r = seccomp_rule_add(ctx, eperm, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSETD));

	/* Socket families other than UNIX, INET, INET6 and NETLINK. */
	for (int fam = 0; r == 0 && fam < AF_MAX; fam++)
		if (fam != AF_UNIX && fam != AF_INET && fam != AF_INET6 && fam != AF_NETLINK)
			r = refuse_family(ctx, fam);
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1,
				     SCMP_A0(SCMP_CMP_GE, AF_MAX));
	/* Netlink only for routing information. */
	if (r == 0)
		r = seccomp_rule_add(ctx, eperm, SCMP_SYS(socket), 2,
				     SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
				     SCMP_A2(SCMP_CMP_NE, NETLINK_ROUTE));
	/* No raw or packet-type sockets on INET/INET6. */
	static const int bad_types[] = {SOCK_RAW, SOCK_RDM, SOCK_PACKET, 6 /* SOCK_DCCP */};
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(bad_types); i++) {
		r = seccomp_rule_add(ctx, eperm, SCMP_SYS(socket), 2, SCMP_A0(SCMP_CMP_EQ, AF_INET),
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, (scmp_datum_t)bad_types[i]));
		if (r == 0)
			r = seccomp_rule_add(ctx, eperm, SCMP_SYS(socket), 2,
					     SCMP_A0(SCMP_CMP_EQ, AF_INET6),
					     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf,
						     (scmp_datum_t)bad_types[i]));
	}
	return r;
}

static int export(scmp_filter_ctx ctx, struct sock_fprog *out, ombx_err *err)
{
	_cleanup_close_ int fd = memfd_create("ombx-seccomp", MFD_CLOEXEC);
	off_t len;
	int r;

	if (fd < 0)
		return ombx_err_errno(err, errno, "seccomp: memfd_create");
	r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return ombx_err_errno(err, -r, "seccomp: exporting the filter");
	len = lseek(fd, 0, SEEK_END);
	if (len <= 0 || len % (off_t)sizeof(struct sock_filter) != 0 ||
	    len / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
		return ombx_err_set(err, EINVAL, "seccomp: exported filter has a bad size (%lld)",
				    (long long)len);
	out->filter = malloc((size_t)len);
	if (!out->filter)
		return ombx_err_set(err, ENOMEM, "seccomp: out of memory");
	if (pread(fd, out->filter, (size_t)len, 0) != len)
		return ombx_err_errno(err, errno ? errno : EIO, "seccomp: reading the filter back");
	out->len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
	return 0;
}

static int build_one(uint32_t def, int (*fill)(scmp_filter_ctx), struct sock_fprog *out,
		     ombx_err *err)
{
	scmp_filter_ctx ctx = seccomp_init(def);
	int r;

	if (!ctx)
		return ombx_err_set(err, ENOMEM, "seccomp: cannot create a filter context");
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); /* set by the jail itself */
	if (r == 0) /* a binary tree, not a linear scan of ~300 syscalls */
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (r == 0)
		r = fill(ctx);
	if (r != 0) {
		seccomp_release(ctx);
		return ombx_err_errno(err, -r, "seccomp: cannot build the jail's filter");
	}
	r = export(ctx, out, err);
	seccomp_release(ctx);
	return r;
}

int ombx_seccomp_build(struct ombx_seccomp *out, ombx_err *err)
{
	int r;

	memset(out, 0, sizeof(*out));
	r = build_one(SCMP_ACT_ERRNO(ENOSYS), build_allow, &out->allow, err);
	if (r == 0)
		r = build_one(SCMP_ACT_ALLOW, build_args, &out->args, err);
	if (r < 0)
		ombx_seccomp_free(out);
	return r;
}

void ombx_seccomp_free(struct ombx_seccomp *sc)
{
	if (!sc)
		return;
	free(sc->allow.filter);
	free(sc->args.filter);
	memset(sc, 0, sizeof(*sc));
}
