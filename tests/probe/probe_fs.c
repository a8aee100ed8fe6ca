/* probe_fs.c - the filesystem: nothing writable outside the workspace.
 *
 * Creating, writing, linking and renaming outside the workspace, .git hooks
 * and config, /dev, host paths that must be absent; then that the workspace,
 * /tmp and $HOME still work. Never writes into or truncates a file it should
 * not have opened, and removes whatever an unexpected success created. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "probe.h"

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

void check_filesystem(void)
{
	check_outside_writes();
	check_git_persistence();
	check_dev();
	check_host_paths();
	leave_markers();
	check_workspace_works();
}
