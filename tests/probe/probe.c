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
 * uid 0 (those checks are then reported as FAIL, "not attempted").
 *
 * This file: main, the reporting helpers (probe.h) and the checks on the
 * process itself (descriptors, credentials, environment, ptrace, /proc). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

static int n_ok, n_fail;
bool verbose;
bool as_root;
const char *ws;

/* ---------- reporting ---------- */

const char *ename(int e)
{
	const char *n = e ? strerrorname_np(e) : NULL;
	return n ? n : "errno?";
}

void ok(const char *name, const char *what)
{
	n_ok++;
	printf("ok - %s (%s)\n", name, what);
}

void fail(const char *name, const char *fmt, ...)
{
	va_list ap;
	n_fail++;
	printf("FAIL - %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void note(const char *fmt, ...)
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

void not_attempted(const char *name)
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

bool expect_errno(const char *name, long ret, int err, const int *allowed, size_t n)
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

void wspath(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", ws, rel);
}

/* ---------- running an attempt in a throw-away child ---------- */

int in_child(long (*fn)(void), struct child_res *out)
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
		/* pidfd_getfd takes another process's descriptor: ptrace's power. */
		int pfd = (int)syscall(SYS_pidfd_open, child, 0);
		if (pfd < 0) {
			fail("pidfd_getfd(child, 0)", "pidfd_open failed: %s", ename(errno));
		} else {
			EXPECT("pidfd_getfd(child, 0)", syscall(SYS_pidfd_getfd, pfd, 0, 0), EPERM);
			close(pfd);
		}
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

	/* init is a copy of omnibox: its argv (the host's command line) and
	 * environment must have been wiped before the command ran. */
	static const int refused[] = { EACCES, EPERM };
	int fd = open("/proc/1/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		expect_errno("/proc/1/cmdline shows nothing of the host", -1, errno, refused, 2);
	} else {
		char cmd[4096];
		ssize_t len = read(fd, cmd, sizeof(cmd));
		close(fd);
		ssize_t shown = 0;
		for (ssize_t i = 0; i < len; i++)
			shown += cmd[i] != '\0';
		if (len < 0)
			fail("/proc/1/cmdline shows nothing of the host", "read: %s", ename(errno));
		else if (shown)
			fail("/proc/1/cmdline shows nothing of the host", "%zd bytes shown: %.*s", shown,
			     (int)len, cmd);
		else
			ok("/proc/1/cmdline shows nothing of the host", "only NULs");
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
				       "GIT_SSL_CAINFO", "PIP_CERT", "NPM_CONFIG_CAFILE" };
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

struct status_row {
	const char *key, *want;
};

/* Each row's line of a /proc status file must read as wanted. */
static void expect_status(const char *path, const struct status_row *rows, size_t n)
{
	bool seen[16] = { false };
	FILE *f = fopen(path, "re");
	char line[256];
	if (n > ARRAY_SIZE(seen)) {
		fail(path, "%zu rows to check, the probe handles %zu", n, ARRAY_SIZE(seen));
		if (f)
			fclose(f);
		return;
	}
	if (!f) {
		fail(path, "cannot open: %s", ename(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		for (size_t i = 0; i < n; i++) {
			size_t kl = strlen(rows[i].key);
			if (strncmp(line, rows[i].key, kl))
				continue;
			char *v = line + kl + strspn(line + kl, " \t");
			v[strcspn(v, "\n")] = '\0';
			char name[64];
			snprintf(name, sizeof(name), "%s %s %s", path, rows[i].key, rows[i].want);
			seen[i] = true;
			if (!strcmp(v, rows[i].want))
				ok(name, v);
			else
				fail(name, "is %s", v);
		}
	}
	fclose(f);
	for (size_t i = 0; i < n; i++)
		if (!seen[i])
			fail(rows[i].key, "line missing from %s", path);
}

static void check_status(void)
{
	static const struct status_row self[] = {
		{ "CapInh:", "0000000000000000" }, { "CapPrm:", "0000000000000000" },
		{ "CapEff:", "0000000000000000" }, { "CapBnd:", "0000000000000000" },
		{ "CapAmb:", "0000000000000000" }, { "NoNewPrivs:", "1" }, { "Seccomp:", "2" },
	};
	/* The jail's init holds no capability and can gain none: it never
	 * executes anything, and no_new_privs would stop an execve from
	 * granting any (its bounding set, which only limits what execve
	 * grants, is left as the user namespace made it). */
	static const struct status_row init[] = {
		{ "CapInh:", "0000000000000000" }, { "CapPrm:", "0000000000000000" },
		{ "CapEff:", "0000000000000000" }, { "CapAmb:", "0000000000000000" },
		{ "NoNewPrivs:", "1" },
	};
	char line[256];
	expect_status("/proc/self/status", self, ARRAY_SIZE(self));
	expect_status("/proc/1/status", init, ARRAY_SIZE(init));
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
	check_kernel();
	check_network();
	check_filesystem();
	check_processes_work();

	printf("# %d passed, %d failed\n", n_ok, n_fail);
	return n_fail ? 1 : 0;
}
