/* probe_kernel.c - the kernel attack surface the jail's seccomp filter refuses.
 *
 * Terminal injection (TIOCSTI, TIOCLINUX), keyrings, userfaultfd, perf, bpf,
 * io_uring, handles, modules, kexec, new namespaces, mounts and the x32/i386
 * syscall ABIs. Attempts that could succeed run in a throw-away child. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "probe.h"

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif
/* <sys/mount.h> and <linux/mount.h> clash on this glibc; the few constants: */
#define P_MNT_DETACH 2
#define P_OPEN_TREE_CLONE 1
#define P_MOVE_MOUNT_F_EMPTY_PATH 0x4
#define P_KEXEC_ARCH_BOGUS 0x00ff0000UL /* an architecture no kernel is */

/* ---------- terminal injection ---------- */

static void check_tty(void)
{
	/* '#' is what a successful injection would type: harmless if it ever lands. */
	char c = '#';
	static const char *names[] = { "ioctl(0, TIOCSTI)", "ioctl(1, TIOCSTI)", "ioctl(2, TIOCSTI)" };
	/* seccomp answers before the tty layer does, so EPERM whatever fd 0-2 are. */
	for (int fd = 0; fd < 3; fd++)
		EXPECT(names[fd], syscall(SYS_ioctl, fd, (unsigned long)TIOCSTI, &c), EPERM);
	/* The kernel truncates the request to 32 bits; the filter must too. */
	EXPECT("ioctl(0, HIGH32|TIOCSTI)", syscall(SYS_ioctl, 0, HIGH32 | TIOCSTI, &c), EPERM);
	char sub = 0; /* TIOCL_* subcode 0: nothing, but must not even reach tty code */
	EXPECT("ioctl(0, TIOCLINUX)", syscall(SYS_ioctl, 0, (unsigned long)TIOCLINUX, &sub), EPERM);
	EXPECT("ioctl(0, HIGH32|TIOCLINUX)", syscall(SYS_ioctl, 0, HIGH32 | TIOCLINUX, &sub), EPERM);
	int ldisc = 0; /* N_TTY, what it already is: harmless if it ever lands */
	EXPECT("ioctl(0, TIOCSETD)", syscall(SYS_ioctl, 0, (unsigned long)TIOCSETD, &ldisc), EPERM);
	EXPECT("ioctl(0, HIGH32|TIOCSETD)", syscall(SYS_ioctl, 0, HIGH32 | TIOCSETD, &ldisc), EPERM);

	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		ok("/dev/tty: no controlling terminal", ename(errno));
		return;
	}
	note("/dev/tty is openable: the jail has a controlling terminal");
	EXPECT("ioctl(/dev/tty, TIOCSTI)", syscall(SYS_ioctl, fd, (unsigned long)TIOCSTI, &c), EPERM);
	EXPECT("ioctl(/dev/tty, TIOCLINUX)", syscall(SYS_ioctl, fd, (unsigned long)TIOCLINUX, &sub), EPERM);
	close(fd);
}

/* ---------- kernel attack surface refused by seccomp ---------- */

struct p_clone_args { /* struct clone_args, CLONE_ARGS_SIZE_VER0 */
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static long do_clone3(void)
{
	struct p_clone_args a = { .exit_signal = SIGCHLD };
	long r = syscall(SYS_clone3, &a, sizeof(a));
	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r;
}

static long do_clone_newuser(void)
{
	long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r;
}

/* The kernel reads only the low 32 bits of clone's flags: the filter must
 * look at the namespace bits, not compare the whole 64-bit argument. */
static long do_clone_newuser_high(void)
{
	long r = syscall(SYS_clone, HIGH32 | CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r;
}

static long do_unshare_user(void) { return unshare(CLONE_NEWUSER); }
static long do_unshare_mnt(void) { return unshare(CLONE_NEWNS); }
static long do_unshare_net(void) { return unshare(CLONE_NEWNET); }

static long do_setns_net(void)
{
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1; /* errno says why: reported as a wrong errno */
	return setns(fd, CLONE_NEWNET);
}

static void check_keys_and_friends(void)
{
	EXPECT("keyctl(KEYCTL_GET_KEYRING_ID)",
	       syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), EPERM);
	EXPECT("add_key(user)",
	       syscall(SYS_add_key, "user", "ombx-probe", "x", 1, KEY_SPEC_PROCESS_KEYRING), EPERM);
	EXPECT("request_key(user)",
	       syscall(SYS_request_key, "user", "ombx-probe", NULL, KEY_SPEC_PROCESS_KEYRING), EPERM);
	EXPECT_FD("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK), EPERM);

	struct perf_event_attr pa = {
		.type = PERF_TYPE_SOFTWARE, .size = sizeof(pa),
		.config = PERF_COUNT_SW_CPU_CLOCK, .disabled = 1, .exclude_kernel = 1,
	};
	EXPECT_FD("perf_event_open", syscall(SYS_perf_event_open, &pa, 0, -1, -1, 0), EPERM);

	union bpf_attr ba;
	memset(&ba, 0, sizeof(ba));
	ba.map_type = BPF_MAP_TYPE_ARRAY;
	ba.key_size = 4;
	ba.value_size = 4;
	ba.max_entries = 1;
	EXPECT_FD("bpf(BPF_MAP_CREATE)", syscall(SYS_bpf, BPF_MAP_CREATE, &ba, sizeof(ba)), EPERM);

	unsigned char params[128] = { 0 }; /* struct io_uring_params is 120 bytes */
	EXPECT_FD("io_uring_setup", syscall(SYS_io_uring_setup, 8, params), EPERM);
	EXPECT("io_uring_enter", syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0), EPERM);
	EXPECT("io_uring_register", syscall(SYS_io_uring_register, -1, 0, NULL, 0), EPERM);

	int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct { unsigned int bytes; int type; unsigned char h[8]; } fh = { 8, 1, { 0 } };
	EXPECT_FD("open_by_handle_at", syscall(SYS_open_by_handle_at, root, &fh, O_RDONLY), EPERM);
	if (root >= 0)
		close(root);

	/* Bogus arguments: even an unconfined root gets EFAULT/EBADF/EINVAL. */
	EXPECT("init_module", syscall(SYS_init_module, NULL, 0, ""), EPERM);
	EXPECT("finit_module", syscall(SYS_finit_module, -1, "", 0), EPERM);
	EXPECT("delete_module", syscall(SYS_delete_module, "ombx_probe_none", O_NONBLOCK), EPERM);
	EXPECT("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, P_KEXEC_ARCH_BOGUS), EPERM);
	EXPECT("kexec_file_load", syscall(SYS_kexec_file_load, -1, -1, 0, "", 0xffUL), EPERM);

	/* ENOSYS, not EPERM: libc falls back to clone(2), which the filter can inspect. */
	EXPECT_CHILD("clone3", do_clone3, ENOSYS);
	EXPECT_CHILD("clone(CLONE_NEWUSER)", do_clone_newuser, EPERM);
	EXPECT_CHILD("clone(HIGH32|CLONE_NEWUSER)", do_clone_newuser_high, EPERM);
	EXPECT_CHILD("unshare(CLONE_NEWUSER)", do_unshare_user, EPERM);
	EXPECT_CHILD("unshare(CLONE_NEWNS)", do_unshare_mnt, EPERM);
	EXPECT_CHILD("unshare(CLONE_NEWNET)", do_unshare_net, EPERM);
	EXPECT_CHILD("setns(/proc/self/ns/net)", do_setns_net, EPERM);
}

static void check_mounts(void)
{
	static const char *names[] = { "mount(tmpfs on /tmp)", "umount2(/proc)", "pivot_root(., .)",
				       "chroot(/tmp)", "fsopen(tmpfs)", "open_tree(/tmp, CLONE)",
				       "move_mount", "mount_setattr(/)", "fspick(/)" };
	if (as_root) {
		for (size_t i = 0; i < ARRAY_SIZE(names); i++)
			not_attempted(names[i]);
		return;
	}
	EXPECT(names[0], syscall(SYS_mount, "none", "/tmp", "tmpfs", 0UL, NULL), EPERM);
	EXPECT(names[1], syscall(SYS_umount2, "/proc", P_MNT_DETACH), EPERM);
	EXPECT(names[2], syscall(SYS_pivot_root, ".", "."), EPERM);
	EXPECT(names[3], chroot("/tmp"), EPERM);
	EXPECT_FD(names[4], syscall(SYS_fsopen, "tmpfs", 0), EPERM);
	EXPECT_FD(names[5], syscall(SYS_open_tree, AT_FDCWD, "/tmp", P_OPEN_TREE_CLONE), EPERM);
	EXPECT(names[6], syscall(SYS_move_mount, -1, "", AT_FDCWD, "/tmp", P_MOVE_MOUNT_F_EMPTY_PATH), EPERM);
	uint64_t attr[4] = { 0 }; /* struct mount_attr, all zero: a no-op if allowed */
	EXPECT(names[7], syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, attr, sizeof(attr)), EPERM);
	EXPECT_FD(names[8], syscall(SYS_fspick, AT_FDCWD, "/", 0), EPERM);
}

/* ---------- foreign ABIs ---------- */

static long do_x32_getpid(void)
{
	return syscall(__X32_SYSCALL_BIT | __NR_getpid);
}

static long do_i386_getpid(void)
{
	long ret;
	/* i386 getpid is 20; int $0x80 enters the compat table. */
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory", "cc", "r8", "r9", "r10", "r11");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

static void check_foreign_abi(const char *name, long (*fn)(void), bool segv_ok)
{
	struct child_res c;
	if (in_child(fn, &c) < 0) {
		fail(name, "fork failed: %s", ename(errno));
		return;
	}
	if (!c.reported) {
		int sig = WIFSIGNALED(c.status) ? WTERMSIG(c.status) : 0;
		/* SIGSEGV: the kernel has no ia32 emulation, int 0x80 faults. */
		if (sig == SIGSYS || (segv_ok && sig == SIGSEGV))
			ok(name, sig == SIGSYS ? "killed by SIGSYS" : "SIGSEGV: no ia32 emulation");
		else
			fail(name, "child ended with wait status 0x%x", c.status);
		return;
	}
	static const int want[] = { ENOSYS };
	expect_errno(name, c.ret, c.err, want, 1);
}

void check_kernel(void)
{
	check_tty();
	check_keys_and_friends();
	check_mounts();
	check_foreign_abi("x32 syscall (getpid)", do_x32_getpid, false);
	check_foreign_abi("i386 int 0x80 (getpid)", do_i386_getpid, true);
}
