/* probe.c - escape attempts run INSIDE an omnibox jail: `probe [-v] WORKSPACE`.
 *
 * Each check tries one way out and asserts it fails with the errno the jail's
 * design (DESIGN.md section 3) promises; a few positive checks make sure the
 * jail still lets ordinary work happen. One line per check:
 *   ok - NAME (ERRNO)            FAIL - NAME: what happened
 * Exit 0 only when every check passed, 1 otherwise, 2 on usage error.
 *
 * Linked -static against libc only, so it runs whatever the jail mounts.
 * It must never harm the machine it runs on when run outside a jail: it never
 * writes through a descriptor it should not have got (opening for write is
 * proof enough), never truncates, removes what it managed to create, sends
 * traffic to outside addresses only when the network namespace has nothing
 * but `lo`, and skips the host-changing attempts entirely when it runs as
 * uid 0 (those checks are then reported as FAIL, "not attempted"). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <linux/perf_event.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

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

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define HIGH32 0xffffffff00000000UL

static int n_ok, n_fail;
static bool verbose;
static bool as_root; /* skip attempts that would change a host */
static const char *ws;
static bool net_isolated; /* netns holds only lo: outside traffic cannot leave */

/* ---------- reporting ---------- */

static const char *ename(int e)
{
	const char *n = e ? strerrorname_np(e) : NULL;
	return n ? n : "errno?";
}

static void ok(const char *name, const char *what)
{
	n_ok++;
	printf("ok - %s (%s)\n", name, what);
}

__attribute__((format(printf, 2, 3))) static void fail(const char *name, const char *fmt, ...)
{
	va_list ap;
	n_fail++;
	printf("FAIL - %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;
	if (!verbose)
		return;
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void not_attempted(const char *name)
{
	fail(name, "not attempted: running as uid 0, this would change the host");
}

static void join_errnos(char *buf, size_t len, const int *a, size_t n)
{
	size_t off = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " or " : "", ename(a[i]));
}

/* The call (ret, err) must have failed with one of allowed[]. */
static bool expect_errno(const char *name, long ret, int err, const int *allowed, size_t n)
{
	char want[128];
	join_errnos(want, sizeof(want), allowed, n);
	if (ret >= 0) {
		fail(name, "succeeded (returned %ld), expected %s", ret, want);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (err == allowed[i]) {
			ok(name, ename(err));
			return true;
		}
	}
	fail(name, "expected %s got %s (%s)", want, ename(err), strerror(err));
	return false;
}

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

static void wspath(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", ws, rel);
}

/* ---------- running an attempt in a throw-away child ---------- */

struct child_res {
	long ret;
	int err;
	bool reported; /* false: the child died before it could say */
	int status;    /* waitpid status */
};

/* Runs fn in a forked child so that a success (a new namespace, a tracer, a
 * stray clone) cannot affect the probe itself. */
static int in_child(long (*fn)(void), struct child_res *out)
{
	int p[2];
	long msg[2];
	memset(out, 0, sizeof(*out));
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		close(p[0]);
		errno = 0;
		msg[0] = fn();
		msg[1] = errno;
		if (write(p[1], msg, sizeof(msg)) < 0)
			_exit(3);
		_exit(0);
	}
	close(p[1]);
	ssize_t n = read(p[0], msg, sizeof(msg));
	close(p[0]);
	while (waitpid(pid, &out->status, 0) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(msg)) {
		out->reported = true;
		out->ret = msg[0];
		out->err = (int)msg[1];
	}
	return 0;
}

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

/* A child that only waits to be killed: a target for ptrace and friends. */
static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* ---------- processes: ptrace, /proc, pid namespace ---------- */

static long do_traceme(void)
{
	return ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static void check_ptrace(void)
{
	if (as_root) {
		not_attempted("ptrace(PTRACE_ATTACH, 1)");
	} else if (EXPECT("ptrace(PTRACE_ATTACH, 1)", ptrace(PTRACE_ATTACH, 1, NULL, NULL), EPERM) == 0) {
		waitpid(1, NULL, __WALL);
		ptrace(PTRACE_DETACH, 1, NULL, NULL);
	}
	pid_t child = spawn_sleeper();
	if (child < 0) {
		fail("ptrace(PTRACE_ATTACH, child)", "fork failed: %s", ename(errno));
	} else {
		EXPECT("ptrace(PTRACE_ATTACH, child)", ptrace(PTRACE_ATTACH, child, NULL, NULL), EPERM);
		char buf[8] = "probe", dst[8];
		struct iovec local = { dst, sizeof(dst) }, remote = { buf, sizeof(buf) };
		EXPECT("process_vm_readv(child)", process_vm_readv(child, &local, 1, &remote, 1, 0), EPERM);
		EXPECT("process_vm_writev(child)", process_vm_writev(child, &remote, 1, &local, 1, 0), EPERM);
		reap(child);
	}
	EXPECT_CHILD("ptrace(PTRACE_TRACEME)", do_traceme, EPERM);
}

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Another process's root, cwd and fds lead wherever that process stands: an
 * init left holding the host's tree would be a way out (as in runc's
 * CVE-2024-21626). Each must be refused, or lead into the jail itself. */
static bool same_file(const char *a, const char *b)
{
	struct stat x, y;
	return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

static void check_pid_links(int pid)
{
	static const int REFUSED[] = { EACCES, EPERM };
	char p[64], name[96], target[4096];
	struct stat st;

	snprintf(p, sizeof(p), "/proc/%d/root/", pid);
	snprintf(name, sizeof(name), "/proc/%d/root refused or the jail's /", pid);
	if (stat(p, &st) < 0)
		expect_errno(name, -1, errno, REFUSED, 2);
	else if (same_file(p, "/"))
		ok(name, "same as /");
	else
		fail(name, "leads to another root (dev 0x%lx ino %lu)", (unsigned long)st.st_dev,
		     (unsigned long)st.st_ino);

	snprintf(p, sizeof(p), "/proc/%d/cwd/", pid);
	snprintf(name, sizeof(name), "/proc/%d/cwd refused or inside the jail", pid);
	ssize_t n;
	if (stat(p, &st) < 0)
		expect_errno(name, -1, errno, REFUSED, 2);
	else if ((n = readlink(p, target, sizeof(target) - 1)) > 0 &&
		 (target[n] = '\0', same_file(p, target)))
		ok(name, target);
	else
		fail(name, "leads outside the jail's tree (%s)", n > 0 ? target : "unreadable link");

	snprintf(p, sizeof(p), "/proc/%d/environ", pid);
	snprintf(name, sizeof(name), "/proc/%d/environ holds no host secret", pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		expect_errno(name, -1, errno, REFUSED, 2);
	} else {
		static char env[65536];
		ssize_t len = read(fd, env, sizeof(env) - 1);
		close(fd);
		bool leak = false;
		for (ssize_t i = 0; i < len; i += (ssize_t)strlen(env + i) + 1) {
			env[len] = '\0';
			if (!strncmp(env + i, "OMBX_PROBE_SECRET=", 18))
				leak = true;
		}
		if (leak)
			fail(name, "the host's OMBX_PROBE_SECRET is readable there");
		else
			ok(name, len < 0 ? ename(errno) : "readable, no secret");
	}

	snprintf(p, sizeof(p), "/proc/%d/fd", pid);
	snprintf(name, sizeof(name), "/proc/%d/fd not listable", pid);
	DIR *d = opendir(p);
	if (!d) {
		expect_errno(name, -1, errno, REFUSED, 2);
		return;
	}
	char fds[256] = "";
	struct dirent *de;
	while ((de = readdir(d))) {
		char l[384];
		if (de->d_name[0] == '.')
			continue;
		snprintf(l, sizeof(l), "%s/%.255s", p, de->d_name);
		n = readlink(l, target, 64);
		target[n > 0 ? n : 0] = '\0';
		if (strlen(fds) + strlen(target) + 16 < sizeof(fds))
			snprintf(fds + strlen(fds), sizeof(fds) - strlen(fds), " %.16s->%.64s", de->d_name, target);
	}
	closedir(d);
	fail(name, "its descriptors can be reopened:%s", fds);
}

static void check_proc(void)
{
	/* /proc/1 is the jail's own init. Reading or writing its memory needs
	 * ptrace access, which init must not grant (non-dumpable, or holding
	 * capabilities we lack: EPERM from the ptrace check, EACCES from proc's
	 * permission check, depending on which refuses first). */
	EXPECT_FD("open /proc/1/mem O_RDONLY", open("/proc/1/mem", O_RDONLY | O_CLOEXEC), EACCES, EPERM);
	EXPECT_FD("open /proc/1/mem O_WRONLY", open("/proc/1/mem", O_WRONLY | O_CLOEXEC), EACCES, EPERM);

	DIR *d = opendir("/proc");
	if (!d) {
		fail("pid namespace: few pids", "opendir /proc: %s", ename(errno));
		return;
	}
	int count = 0, maxpid = 0, others[16], n_others = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || end == de->d_name)
			continue;
		count++;
		if (pid > maxpid)
			maxpid = (int)pid;
		if (pid != getpid() && n_others < (int)ARRAY_SIZE(others))
			others[n_others++] = (int)pid;
	}
	closedir(d);
	for (int i = 0; i < n_others; i++)
		check_pid_links(others[i]);
	if (count < 10 && maxpid < 1000) {
		char what[64];
		snprintf(what, sizeof(what), "%d pids, highest %d", count, maxpid);
		ok("pid namespace: only the jail's pids in /proc", what);
	} else {
		fail("pid namespace: only the jail's pids in /proc", "%d pids visible, highest %d", count, maxpid);
	}
	char comm[64];
	if (read_small("/proc/1/comm", comm, sizeof(comm)) < 0)
		fail("pid 1 is the jail's init", "cannot read /proc/1/comm: %s", ename(errno));
	else if (!strcmp(comm, "systemd") || !strcmp(comm, "init"))
		fail("pid 1 is the jail's init", "pid 1 is \"%s\", a host init", comm);
	else
		ok("pid 1 is the jail's init", comm);
}

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

/* ---------- sockets and network ---------- */

struct sock_case {
	const char *name;
	unsigned long domain, type; /* unsigned long: room for high bits */
	int proto;
};

static void check_socket_families(void)
{
	static const struct sock_case cases[] = {
		{ "socket(AF_PACKET, SOCK_RAW)", AF_PACKET, SOCK_RAW, 0x0300 /* htons(ETH_P_ALL) */ },
		{ "socket(AF_PACKET, SOCK_DGRAM)", AF_PACKET, SOCK_DGRAM, 0 },
		{ "socket(AF_INET, SOCK_RAW, ICMP)", AF_INET, SOCK_RAW, IPPROTO_ICMP },
		{ "socket(AF_INET, SOCK_RAW|CLOEXEC|NONBLOCK, RAW)", AF_INET,
		  SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_RAW },
		{ "socket(AF_INET6, SOCK_RAW, ICMPV6)", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6 },
		{ "socket(AF_INET, HIGH32|SOCK_RAW)", AF_INET, HIGH32 | SOCK_RAW, IPPROTO_ICMP },
		{ "socket(HIGH32|AF_PACKET, SOCK_RAW)", HIGH32 | AF_PACKET, SOCK_RAW, 0 },
		{ "socket(AF_VSOCK)", AF_VSOCK, SOCK_STREAM, 0 },
		{ "socket(AF_ALG)", AF_ALG, SOCK_SEQPACKET, 0 },
		{ "socket(AF_KEY)", AF_KEY, SOCK_RAW, 2 /* PF_KEY_V2 */ },
		{ "socket(AF_XDP)", AF_XDP, SOCK_RAW, 0 },
		{ "socket(AF_NETLINK, NETLINK_AUDIT)", AF_NETLINK, SOCK_RAW, NETLINK_AUDIT },
		{ "socket(AF_NETLINK, NETLINK_KOBJECT_UEVENT)", AF_NETLINK, SOCK_RAW, NETLINK_KOBJECT_UEVENT },
		{ "socket(AF_NETLINK, NETLINK_GENERIC)", AF_NETLINK, SOCK_RAW, NETLINK_GENERIC },
		{ "socket(AF_NETLINK, SOCK_DGRAM, NETLINK_GENERIC)", AF_NETLINK, SOCK_DGRAM, NETLINK_GENERIC },
		{ "socket(AF_NETLINK, NETLINK_NETFILTER)", AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER },
		{ "socket(AF_NETLINK, NETLINK_XFRM)", AF_NETLINK, SOCK_RAW, NETLINK_XFRM },
	};
	/* The filter answers EAFNOSUPPORT or EPERM depending on how it refuses
	 * (family not allowed vs SOCK_RAW / netlink protocol refused). */
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		EXPECT_FD(cases[i].name, syscall(SYS_socket, cases[i].domain, cases[i].type, cases[i].proto),
			  EAFNOSUPPORT, EPERM);
}

/* NETLINK_ROUTE stays usable: dump the links (names go to verbose output). */
static void check_netlink_route(void)
{
	const char *name = "NETLINK_ROUTE RTM_GETLINK dump works";
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		fail(name, "socket: %s", ename(errno));
		return;
	}
	struct { struct nlmsghdr nh; struct ifinfomsg ifi; } req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.ifi = { .ifi_family = AF_UNSPEC },
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		fail(name, "sendto: %s", ename(errno));
		close(fd);
		return;
	}
	int links = 0;
	bool done = false;
	static char buf[16384];
	while (!done) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0) {
			fail(name, "recv: %s", n < 0 ? ename(errno) : "EOF");
			close(fd);
			return;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			if (h->nlmsg_type != RTM_NEWLINK)
				continue;
			struct ifinfomsg *ifi = NLMSG_DATA(h);
			int alen = (int)IFLA_PAYLOAD(h);
			links++;
			for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
				if (a->rta_type == IFLA_IFNAME)
					note("link %s %s", (char *)RTA_DATA(a), (ifi->ifi_flags & 1) ? "UP" : "DOWN");
		}
	}
	close(fd);
	if (links > 0) {
		char what[32];
		snprintf(what, sizeof(what), "%d link(s)", links);
		ok(name, what);
	} else {
		fail(name, "the dump listed no link");
	}
}

/* Outside traffic is attempted only when /proc/net/dev lists nothing but lo:
 * then nothing can leave the machine, whatever the kernel answers. */
static void probe_net_isolation(void)
{
	const char *name = "network namespace holds only lo";
	FILE *f = fopen("/proc/net/dev", "re");
	if (!f) {
		fail(name, "cannot read /proc/net/dev: %s", ename(errno));
		return;
	}
	char line[256], others[256] = "";
	int lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		if (++lineno <= 2)
			continue;
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		char *ifname = line + strspn(line, " ");
		if (strcmp(ifname, "lo") && strlen(others) + strlen(ifname) + 2 < sizeof(others)) {
			strcat(others, " ");
			strcat(others, ifname);
		}
	}
	fclose(f);
	if (others[0]) {
		fail(name, "interfaces besides lo:%s", others);
		return;
	}
	net_isolated = true;
	ok(name, "lo only");
}

static void connect_out(const char *name, int family, const char *addr, int port, int type)
{
	if (!net_isolated) {
		fail(name, "not attempted: the netns has interfaces besides lo, traffic could leave");
		return;
	}
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;
		s->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &s->sin_addr);
		len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, addr, &s->sin6_addr);
		len = sizeof(*s);
	}
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail(name, "socket: %s", ename(errno));
		return;
	}
	/* ENETUNREACH: no route; EACCES: Landlock's TCP connect rule; EPERM: a filter. */
	if (type == SOCK_STREAM)
		EXPECT(name, connect(fd, (struct sockaddr *)&ss, len), ENETUNREACH, EACCES, EPERM);
	else
		EXPECT(name, sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len), ENETUNREACH, EACCES, EPERM);
	close(fd);
}

static void check_icmp(void)
{
	const char *name = "ICMP echo via SOCK_DGRAM IPPROTO_ICMP";
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd < 0) { /* EACCES: ping_group_range excludes us */
		static const int want[] = { EACCES, EPERM };
		expect_errno(name, -1, errno, want, ARRAY_SIZE(want));
		return;
	}
	if (!net_isolated) {
		fail(name, "socket created; sendto not attempted, the netns has other interfaces");
		close(fd);
		return;
	}
	unsigned char echo[8] = { 8, 0, 0, 0, 0, 0, 0, 1 }; /* type 8: echo request */
	struct sockaddr_in dst = { .sin_family = AF_INET };
	inet_pton(AF_INET, "1.1.1.1", &dst.sin_addr);
	EXPECT(name, sendto(fd, echo, sizeof(echo), 0, (struct sockaddr *)&dst, sizeof(dst)),
	       ENETUNREACH, EACCES, EPERM);
	close(fd);
}

static void check_host_services(void)
{
	const char *port = getenv("OMBX_PROBE_HOST_PORT");
	if (port) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
		inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		/* ECONNREFUSED: our own loopback has no listener there; EACCES:
		 * Landlock's TCP connect rule; ENETUNREACH: our lo is down. */
		EXPECT("connect host 127.0.0.1:OMBX_PROBE_HOST_PORT",
		       connect(fd, (struct sockaddr *)&a, sizeof(a)), ECONNREFUSED, EACCES, ENETUNREACH);
		close(fd);
	} else {
		note("OMBX_PROBE_HOST_PORT unset: host TCP listener check skipped");
	}
	const char *path = getenv("OMBX_PROBE_HOST_UNIX");
	if (path) {
		struct sockaddr_un u = { .sun_family = AF_UNIX };
		snprintf(u.sun_path, sizeof(u.sun_path), "%s", path);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		/* ENOENT: not mounted in the jail; EACCES: visible but refused. */
		EXPECT("connect host unix socket path", connect(fd, (struct sockaddr *)&u, sizeof(u)), ENOENT, EACCES);
		close(fd);
	} else {
		note("OMBX_PROBE_HOST_UNIX unset: host unix socket check skipped");
	}
	const char *abs = getenv("OMBX_PROBE_HOST_ABSTRACT");
	if (abs) {
		struct sockaddr_un u = { .sun_family = AF_UNIX };
		size_t n = strnlen(abs, sizeof(u.sun_path) - 1);
		memcpy(u.sun_path + 1, abs, n);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		/* ECONNREFUSED: abstract names are per netns; EPERM: Landlock scope. */
		EXPECT("connect host abstract unix socket",
		       connect(fd, (struct sockaddr *)&u, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)),
		       ECONNREFUSED, EPERM);
		close(fd);
	} else {
		note("OMBX_PROBE_HOST_ABSTRACT unset: host abstract socket check skipped");
	}
}

static void check_hostname(void)
{
	const char *host = getenv("OMBX_PROBE_HOST_HOSTNAME");
	char mine[256] = "";
	if (!host) {
		note("OMBX_PROBE_HOST_HOSTNAME unset: hostname check skipped");
		return;
	}
	gethostname(mine, sizeof(mine) - 1);
	if (strcmp(mine, host))
		ok("own UTS namespace: hostname differs from the host's", mine);
	else
		fail("own UTS namespace: hostname differs from the host's", "it is the host's, \"%s\"", mine);
}

static void check_network(void)
{
	check_socket_families();
	check_netlink_route();
	probe_net_isolation();
	connect_out("TCP connect 1.1.1.1:443", AF_INET, "1.1.1.1", 443, SOCK_STREAM);
	connect_out("TCP connect 10.0.0.1:80", AF_INET, "10.0.0.1", 80, SOCK_STREAM);
	connect_out("TCP connect [2606:4700::1111]:443", AF_INET6, "2606:4700::1111", 443, SOCK_STREAM);
	connect_out("UDP sendto 8.8.8.8:53", AF_INET, "8.8.8.8", 53, SOCK_DGRAM);
	check_icmp();
	check_host_services();
	check_hostname();
}

/* ---------- filesystem: nothing writable outside the workspace ---------- */

static const int W_RO[] = { EROFS, EACCES }; /* read-only mount, or DAC/Landlock */

/* open(O_CREAT|O_EXCL) must fail; what an unexpected success made is removed. */
static void no_create(const char *name, const char *path, const int *want, size_t n)
{
	errno = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	expect_errno(name, fd, errno, want, n);
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
}

/* Opening an existing file for writing must fail; never writes, never truncates. */
static void no_write(const char *name, const char *path, const int *want, size_t n)
{
	errno = 0;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	expect_errno(name, fd, errno, want, n);
	if (fd >= 0)
		close(fd);
}

static bool make_ws_file(const char *rel, char *path, size_t len)
{
	wspath(path, len, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return false;
	bool w = write(fd, "probe\n", 6) == 6;
	close(fd);
	return w;
}

/* rename(WS/ombx-probe-mv, to) must fail. A success removes what landed at
 * `to` only when `ours` (a name the probe made up), else leaves it in place. */
static void no_rename_into(const char *name, const char *to, bool ours, const int *want, size_t n)
{
	char from[4096];
	if (!make_ws_file("ombx-probe-mv", from, sizeof(from))) {
		fail(name, "cannot create %s: %s", from, ename(errno));
		return;
	}
	errno = 0;
	int r = rename(from, to);
	expect_errno(name, r, errno, want, n);
	if (r != 0)
		unlink(from);
	else if (ours)
		unlink(to);
}

/* A read-only descriptor reopened read-write through /proc/self/fd must still
 * meet the read-only mount (EROFS) or the permission check (EACCES). */
static void reopen_rw(const char *name, const char *path)
{
	int ro = open(path, O_RDONLY | O_CLOEXEC);
	if (ro < 0) {
		fail(name, "cannot open %s read-only: %s", path, ename(errno));
		return;
	}
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", ro);
	EXPECT_FD(name, open(p, O_RDWR | O_CLOEXEC), EROFS, EACCES);
	close(ro);
}

static void check_outside_writes(void)
{
	static const int W_PROC[] = { EROFS, EACCES, EPERM };
	static const int W_SYS[] = { ENOENT, EROFS, EACCES, EPERM }; /* ENOENT: no /sys at all */
	/* EXDEV: another mount; EROFS/EACCES: read-only or refused; EBUSY: the
	 * target is a bind-mounted file (a curated /etc entry is one). */
	static const int MV[] = { EXDEV, EROFS, EACCES, EBUSY };
	static const char *names[] = {
		"create /usr/ombx-probe-x", "create /etc/ombx-probe-x", "create /ombx-probe-x",
		"mkdir /usr/ombx-probe-d", "open /etc/passwd O_WRONLY", "create via WS symlink to /usr/lib",
		"link(/etc/passwd, WS/hl)", "rename WS file to /usr", "rename WS file onto /etc/hostname",
		"open /proc/sys/kernel/hostname O_WRONLY", "open /proc/sys/vm/drop_caches O_WRONLY",
		"open /proc/sysrq-trigger O_WRONLY", "open /sys/kernel/uevent_helper O_WRONLY",
		"mkdir /sys/fs/cgroup/ombx-probe", "open /proc/sys/kernel/core_pattern O_WRONLY",
		"open /proc/sys/kernel/modprobe O_WRONLY", "open /proc/sys/fs/binfmt_misc/register O_WRONLY",
		"reopen /etc/passwd O_RDWR via /proc/self/fd",
	};
	if (as_root) {
		for (size_t i = 0; i < ARRAY_SIZE(names); i++)
			not_attempted(names[i]);
		return;
	}
	no_create(names[0], "/usr/ombx-probe-x", W_RO, 2);
	no_create(names[1], "/etc/ombx-probe-x", W_RO, 2);
	no_create(names[2], "/ombx-probe-x", W_RO, 2);
	if (EXPECT(names[3], mkdir("/usr/ombx-probe-d", 0700), EROFS, EACCES) == 0)
		rmdir("/usr/ombx-probe-d");
	no_write(names[4], "/etc/passwd", W_RO, 2);

	char sl[4096], hl[4096];
	struct stat st;
	wspath(sl, sizeof(sl), "ombx-probe-symlink");
	unlink(sl);
	bool pre = lstat("/usr/lib/ombx-probe-x", &st) == 0;
	if (symlink("/usr/lib/ombx-probe-x", sl) < 0) {
		fail(names[5], "symlink in the workspace: %s", ename(errno));
	} else {
		errno = 0;
		int fd = open(sl, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		expect_errno(names[5], fd, errno, W_RO, 2);
		if (fd >= 0) {
			close(fd);
			if (!pre)
				unlink("/usr/lib/ombx-probe-x");
		}
		unlink(sl);
	}

	/* EXDEV: /etc is another mount; EPERM: protected_hardlinks; EACCES: Landlock. */
	wspath(hl, sizeof(hl), "ombx-probe-hl");
	unlink(hl);
	if (EXPECT(names[6], link("/etc/passwd", hl), EXDEV, EPERM, EACCES) == 0) {
		no_write("write through a hardlink to /etc/passwd", hl, W_RO, 2);
		unlink(hl);
	}
	no_rename_into(names[7], "/usr/ombx-probe-mv", true, MV, 3);
	no_rename_into(names[8], "/etc/hostname", false, MV, 4);

	no_write(names[9], "/proc/sys/kernel/hostname", W_PROC, 3);
	no_write(names[10], "/proc/sys/vm/drop_caches", W_PROC, 3);
	no_write(names[11], "/proc/sysrq-trigger", W_SYS, 4);
	no_write(names[12], "/sys/kernel/uevent_helper", W_SYS, 3);
	if (EXPECT(names[13], mkdir("/sys/fs/cgroup/ombx-probe", 0700), ENOENT, EROFS, EACCES, EPERM) == 0)
		rmdir("/sys/fs/cgroup/ombx-probe");
	/* The classic container escapes: a core_pattern or binfmt handler runs on the host. */
	no_write(names[14], "/proc/sys/kernel/core_pattern", W_PROC, 3);
	/* ENOENT too: a kernel built without module support has no such file. */
	no_write(names[15], "/proc/sys/kernel/modprobe", W_SYS, 4);
	no_write(names[16], "/proc/sys/fs/binfmt_misc/register", W_SYS, 4);
	reopen_rw(names[17], "/etc/passwd");
}

/* The test creates WS/.git/hooks/pre-commit and WS/.git/config; the jail
 * mounts both read-only so nothing planted there runs later on the host. */
static void check_git_persistence(void)
{
	/* EBUSY: a mount point cannot be renamed or removed; EPERM/EACCES:
	 * refused by Landlock or the sticky/DAC rules; EROFS: read-only mount. */
	static const int GONE[] = { EBUSY, EROFS, EACCES, EPERM };
	static const int MV[] = { EXDEV, EROFS, EACCES, EBUSY };
	char hook[4096], cfg[4096], hooks[4096], git[4096], p[4096], q[4096];
	wspath(hook, sizeof(hook), ".git/hooks/pre-commit");
	wspath(cfg, sizeof(cfg), ".git/config");
	wspath(hooks, sizeof(hooks), ".git/hooks");
	wspath(git, sizeof(git), ".git");

	no_write("open .git/hooks/pre-commit O_WRONLY", hook, W_RO, 2);
	wspath(p, sizeof(p), ".git/hooks/ombx-probe-new");
	no_create("create .git/hooks/ombx-probe-new", p, W_RO, 2);
	no_write("open .git/config O_WRONLY", cfg, W_RO, 2);
	reopen_rw("reopen .git/config O_RDWR via /proc/self/fd", cfg);
	reopen_rw("reopen .git/hooks/pre-commit O_RDWR via /proc/self/fd", hook);

	struct stat st;
	mode_t mode = stat(hook, &st) == 0 ? st.st_mode & 07777 : 0755;
	if (EXPECT("chmod .git/hooks/pre-commit", chmod(hook, 0777), EROFS, EPERM, EACCES) == 0)
		chmod(hook, mode);

	/* A hardlink would share the hook's inode through the writable workspace mount. */
	wspath(p, sizeof(p), "ombx-probe-hooklink");
	unlink(p);
	if (EXPECT("link(.git/hooks/pre-commit, WS/x)", link(hook, p), EXDEV, EPERM, EACCES) == 0)
		unlink(p);
	wspath(p, sizeof(p), "ombx-probe-cfglink");
	unlink(p);
	if (EXPECT("link(.git/config, WS/x)", link(cfg, p), EXDEV, EPERM, EACCES) == 0)
		unlink(p);

	wspath(p, sizeof(p), "ombx-probe-hooksym");
	wspath(q, sizeof(q), ".git/hooks/ombx-probe-new2");
	unlink(p);
	if (symlink(q, p) == 0) {
		errno = 0;
		int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0700);
		expect_errno("create a hook via a WS symlink", fd, errno, W_RO, 2);
		if (fd >= 0) {
			close(fd);
			unlink(q);
		}
		unlink(p);
	} else {
		fail("create a hook via a WS symlink", "symlink: %s", ename(errno));
	}

	no_rename_into("rename WS file onto .git/hooks/pre-commit", hook, false, MV, 4);
	no_rename_into("rename WS file onto .git/config", cfg, false, MV, 4);

	wspath(p, sizeof(p), ".git/ombx-probe-hooks");
	if (EXPECT("rename .git/hooks", rename(hooks, p), EBUSY, EROFS, EACCES, EPERM) == 0)
		rename(p, hooks);
	/* Moving .git aside would let a fresh, writable .git/hooks take its place. */
	wspath(p, sizeof(p), "ombx-probe-git");
	if (EXPECT("rename .git", rename(git, p), EBUSY, EACCES, EPERM) == 0)
		rename(p, git);
	EXPECT("rmdir .git/hooks", rmdir(hooks), EBUSY, EROFS, EACCES, EPERM);
	EXPECT("unlink .git/config", unlink(cfg), GONE[0], GONE[1], GONE[2], GONE[3]);
	EXPECT("unlink .git/hooks/pre-commit", unlink(hook), EROFS, EACCES, EBUSY, EPERM);
}

/* DESIGN section 3: a minimal /dev. Anything else is a device the host owns. */
static void check_dev(void)
{
	static const char *allowed[] = { "null", "zero", "full", "random", "urandom", "tty", "ptmx",
					 "pts", "shm", "fd", "stdin", "stdout", "stderr" };
	char extra[256] = "";
	DIR *d = opendir("/dev");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		bool known = de->d_name[0] == '.';
		for (size_t i = 0; i < ARRAY_SIZE(allowed) && !known; i++)
			known = !strcmp(de->d_name, allowed[i]);
		if (!known && strlen(extra) + strlen(de->d_name) + 2 < sizeof(extra))
			snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " %s", de->d_name);
	}
	if (!d)
		fail("/dev holds only the minimal set", "opendir /dev: %s", ename(errno));
	else if (extra[0])
		fail("/dev holds only the minimal set", "also:%s", extra);
	else
		ok("/dev holds only the minimal set", "null zero full random urandom tty ptmx pts shm");
	if (d)
		closedir(d);
	/* ENOENT: not there; EACCES: a node on a nodev mount; EPERM: refused. */
	static const char *nodes[] = { "/dev/mem", "/dev/kmsg", "/dev/port", "/dev/sda", "/dev/vda",
				       "/dev/kvm", "/dev/fuse", "/dev/net/tun", "/dev/loop-control" };
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
		char name[64];
		snprintf(name, sizeof(name), "open %s", nodes[i]);
		EXPECT_FD(name, open(nodes[i], O_RDONLY | O_CLOEXEC | O_NONBLOCK), ENOENT, EACCES, EPERM);
	}
	char buf[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && read(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf))
		ok("/dev/urandom readable", "16 bytes");
	else
		fail("/dev/urandom readable", "%s", ename(errno));
	if (fd >= 0)
		close(fd);
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf))
		ok("/dev/null writable", "16 bytes");
	else
		fail("/dev/null writable", "%s", ename(errno));
	if (fd >= 0)
		close(fd);
}

/* Host paths that hold secrets or control sockets are not in the jail at all
 * (unless the workspace itself lives below one of them). */
static void check_host_paths(void)
{
	static const char *absent[] = { "/root", "/boot", "/var/lib", "/var/run/docker.sock",
					"/run/docker.sock", "/run/containerd", "/run/dbus", "/run/user",
					"/etc/shadow", "/etc/gshadow", "/etc/ssh", "/etc/sudoers", "/sys" };
	for (size_t i = 0; i < ARRAY_SIZE(absent); i++) {
		size_t l = strlen(absent[i]);
		char name[64];
		struct stat st;
		if (!strncmp(ws, absent[i], l) && (ws[l] == '/' || !ws[l]))
			continue;
		snprintf(name, sizeof(name), "host path %s absent", absent[i]);
		/* EACCES: a parent we cannot search, which hides it as well. */
		EXPECT(name, stat(absent[i], &st), ENOENT, EACCES);
	}
	/* /home: nothing but the jail's own $HOME (and the workspace's way down). */
	const char *home = getenv("HOME");
	char extra[256] = "";
	DIR *d = opendir("/home");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char full[300];
		snprintf(full, sizeof(full), "/home/%.255s", de->d_name);
		size_t l = strlen(full);
		if (de->d_name[0] == '.' || (home && !strcmp(home, full)) ||
		    (!strncmp(ws, full, l) && (ws[l] == '/' || !ws[l])))
			continue;
		if (strlen(extra) + l + 2 < sizeof(extra))
			snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " %s", full);
	}
	if (d)
		closedir(d);
	if (extra[0])
		fail("/home holds only the jail's $HOME", "also:%s", extra);
	else
		ok("/home holds only the jail's $HOME", d ? "yes" : ename(errno));
}

/* With OMBX_PROBE_MARKER=NAME the probe leaves NAME in /tmp, /dev/shm and
 * $HOME for the test to look for on the host: it must not appear there. */
static void leave_markers(void)
{
	const char *m = getenv("OMBX_PROBE_MARKER");
	const char *dirs[] = { "/tmp", "/dev/shm", getenv("HOME") };
	if (!m)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		char p[4096];
		if (!dirs[i])
			continue;
		snprintf(p, sizeof(p), "%s/%s", dirs[i], m);
		int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		note("marker %s: %s", p, fd >= 0 ? "left" : ename(errno));
		if (fd >= 0)
			close(fd);
	}
}

static void check_filesystem(void)
{
	check_outside_writes();
	check_git_persistence();
	check_dev();
	check_host_paths();
	leave_markers();
}

static void check_ws_roundtrip(void)
{
	const char *name = "workspace: write, read, rename, unlink";
	char a[4096], b[4096], buf[16] = "";
	if (!make_ws_file("ombx-probe-rt", a, sizeof(a))) {
		fail(name, "create %s: %s", a, ename(errno));
		return;
	}
	wspath(b, sizeof(b), "ombx-probe-rt2");
	int fd = -1;
	bool okay = rename(a, b) == 0 && (fd = open(b, O_RDONLY | O_CLOEXEC)) >= 0 &&
		    read(fd, buf, sizeof(buf) - 1) == 6 && !strcmp(buf, "probe\n");
	if (fd >= 0)
		close(fd);
	okay = okay && unlink(b) == 0;
	if (okay)
		ok(name, "done");
	else
		fail(name, "%s", ename(errno));
	unlink(a);
	unlink(b);
}

static void check_scratch_dir(const char *name, const char *dir)
{
	char p[4096];
	if (!dir) {
		fail(name, "not set");
		return;
	}
	snprintf(p, sizeof(p), "%s/ombx-probe-scratch", dir);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fail(name, "create %s: %s", p, ename(errno));
		return;
	}
	close(fd);
	unlink(p);
	ok(name, dir);
}

static void check_workspace_works(void)
{
	check_ws_roundtrip();
	check_scratch_dir("/tmp is writable", "/tmp");
	check_scratch_dir("$HOME is writable", getenv("HOME"));

	char p[4096];
	wspath(p, sizeof(p), "ombx-probe-chr");
	unlink(p);
	/* EPERM: no CAP_MKNOD; EACCES: Landlock refuses MAKE_CHAR first. */
	if (EXPECT("mknod char device 1:3 in WS", mknod(p, S_IFCHR | 0600, makedev(1, 3)), EPERM, EACCES) == 0)
		unlink(p);
	wspath(p, sizeof(p), "ombx-probe-fifo");
	unlink(p);
	if (mkfifo(p, 0600) == 0) {
		note("mkfifo in the workspace: allowed");
		unlink(p);
	} else {
		note("mkfifo in the workspace: %s", ename(errno));
	}
}

/* ---------- environment, descriptors, credentials ---------- */

static bool env_allowed(const char *kv)
{
	static const char *names[] = { "PATH", "HOME", "TERM", "LANG", "LANGUAGE", "USER", "LOGNAME",
				       "SHELL", "TZ", "PWD", "TMPDIR", "HOSTNAME", "COLORTERM",
				       /* proxy mode (DESIGN section 4) */
				       "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy",
				       "https_proxy", "all_proxy", "no_proxy", "SSL_CERT_FILE",
				       "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
				       "GIT_SSL_CAINFO", "PIP_CERT" };
	size_t len = strcspn(kv, "=");
	if (!strncmp(kv, "OMBX_PROBE_SECRET=", 18))
		return false;
	/* LC_*: locale; OMBX_PROBE_*: what the test passed with --env;
	 * OMNIBOX_*: markers the jail itself may set. */
	if (!strncmp(kv, "LC_", 3) || !strncmp(kv, "OMBX_PROBE_", 11) || !strncmp(kv, "OMNIBOX_", 8))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == len && !strncmp(kv, names[i], len))
			return true;
	return false;
}

static void check_env(void)
{
	extern char **environ;
	const char *secret = getenv("OMBX_PROBE_SECRET");
	if (secret)
		fail("host env OMBX_PROBE_SECRET not inherited", "it is set (%zu bytes)", strlen(secret));
	else
		ok("host env OMBX_PROBE_SECRET not inherited", "unset");
	int count = 0;
	char bad[512] = "";
	for (char **e = environ; *e; e++) {
		count++;
		note("env %s", *e);
		size_t len = strcspn(*e, "=");
		if (!env_allowed(*e) && strlen(bad) + len + 2 < sizeof(bad))
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), " %.*s", (int)len, *e);
	}
	if (bad[0] || count > 32)
		fail("environment is a small allowlist", "%d variables, not on the allowlist:%s", count,
		     bad[0] ? bad : " (none)");
	else {
		char what[32];
		snprintf(what, sizeof(what), "%d variables", count);
		ok("environment is a small allowlist", what);
	}
}

/* Must run first: every other check closes what it opens. */
static void check_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		fail("no inherited fds above 2", "opendir /proc/self/fd: %s", ename(errno));
		return;
	}
	char extra[256] = "";
	struct dirent *de;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);
		if (de->d_name[0] == '.' || fd <= 2 || fd == dirfd(d))
			continue;
		char link[64], target[128] = "?";
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 1] = '\0';
		if (strlen(extra) + strlen(target) + 16 < sizeof(extra))
			snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " %d->%s", fd, target);
	}
	closedir(d);
	if (extra[0])
		fail("no inherited fds above 2", "open:%s", extra);
	else
		ok("no inherited fds above 2", "none");
}

static void check_status(void)
{
	static const struct { const char *key, *want; } rows[] = {
		{ "CapInh:", "0000000000000000" }, { "CapPrm:", "0000000000000000" },
		{ "CapEff:", "0000000000000000" }, { "CapBnd:", "0000000000000000" },
		{ "CapAmb:", "0000000000000000" }, { "NoNewPrivs:", "1" }, { "Seccomp:", "2" },
	};
	bool seen[ARRAY_SIZE(rows)] = { false };
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	while (f && fgets(line, sizeof(line), f)) {
		for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
			size_t kl = strlen(rows[i].key);
			if (strncmp(line, rows[i].key, kl))
				continue;
			char *v = line + kl + strspn(line + kl, " \t");
			v[strcspn(v, "\n")] = '\0';
			char name[48];
			snprintf(name, sizeof(name), "/proc/self/status %s %s", rows[i].key, rows[i].want);
			seen[i] = true;
			if (!strcmp(v, rows[i].want))
				ok(name, v);
			else
				fail(name, "is %s", v);
		}
	}
	if (f)
		fclose(f);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		if (!seen[i])
			fail(rows[i].key, "line missing from /proc/self/status");
	FILE *m = fopen("/proc/self/uid_map", "re");
	while (m && fgets(line, sizeof(line), m)) {
		line[strcspn(line, "\n")] = '\0';
		note("uid_map: %s", line);
	}
	if (m)
		fclose(m);
	note("securebits: 0x%x", (unsigned)prctl(PR_GET_SECUREBITS));
}

static void check_ids(void)
{
	uid_t uid = getuid(), euid = geteuid();
	char what[48];
	snprintf(what, sizeof(what), "uid %u euid %u", (unsigned)uid, (unsigned)euid);
	if (uid != 0 && euid != 0)
		ok("not uid 0", what);
	else
		fail("not uid 0", "%s", what);
	EXPECT("setuid(0)", setuid(0), EPERM, EINVAL); /* EINVAL: 0 is not even mapped */
}

/* ---------- positive: ordinary work still works ---------- */

static void *thread_fn(void *arg)
{
	return arg;
}

static void check_processes_work(void)
{
	const char *name = "fork + pipe + kill work";
	int p[2];
	char c = 0;
	if (pipe2(p, O_CLOEXEC) < 0) {
		fail(name, "pipe: %s", ename(errno));
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		if (write(p[1], "k", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	int status = 0;
	bool got = pid > 0 && read(p[0], &c, 1) == 1 && c == 'k';
	close(p[0]);
	bool killed = pid > 0 && kill(pid, SIGTERM) == 0 && waitpid(pid, &status, 0) == pid &&
		      WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM;
	if (got && killed)
		ok(name, "child signalled with SIGTERM");
	else
		fail(name, "fork %d, pipe byte %s, wait status 0x%x (%s)", (int)pid, got ? "read" : "missing",
		     status, ename(errno));

	pthread_t t;
	int r = pthread_create(&t, NULL, thread_fn, NULL);
	if (r == 0 && pthread_join(t, NULL) == 0)
		ok("pthread_create works (clone3 falls back to clone)", "joined");
	else
		fail("pthread_create works (clone3 falls back to clone)", "pthread_create: %s", ename(r));
}

int main(int argc, char **argv)
{
	int i = 1;
	if (i < argc && !strcmp(argv[i], "-v")) {
		verbose = true;
		i++;
	}
	if (getenv("OMBX_PROBE_VERBOSE"))
		verbose = true;
	if (i + 1 != argc) {
		fprintf(stderr, "usage: %s [-v] WORKSPACE\n", argv[0]);
		return 2;
	}
	ws = argv[i];
	setvbuf(stdout, NULL, _IOLBF, 0);
	as_root = geteuid() == 0;

	check_fds();
	check_status();
	check_ids();
	check_env();
	check_ptrace();
	check_proc();
	check_tty();
	check_keys_and_friends();
	check_mounts();
	check_foreign_abi("x32 syscall (getpid)", do_x32_getpid, false);
	check_foreign_abi("i386 int 0x80 (getpid)", do_i386_getpid, true);
	check_network();
	check_filesystem();
	check_workspace_works();
	check_processes_work();

	printf("# %d passed, %d failed\n", n_ok, n_fail);
	return n_fail ? 1 : 0;
}
