/* test_cgroup.c - drives omnibox/cgroup.c against the real cgroup filesystem.
 *
 * Needs root (exits 77 otherwise). Every scenario creates its own jail
 * cgroup "omnibox-tcg_<pid>_<name>" and destroys it; children are bounded by
 * alarm() and PR_SET_PDEATHSIG so a failing run leaves nothing behind. The
 * directories are found independently of the code under test, from
 * /proc/<child>/cgroup and /proc/self/mountinfo. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../omnibox/cgroup.h"

#define MIB (1024ULL * 1024ULL)
#define MAX_DIRS 8

static int failures;
static char idbuf[64];

static void report(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(bool cond, const char *fmt, ...)
{
	va_list ap;
	printf("%s - ", cond ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		failures++;
}

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static const char *jail_id(const char *name)
{
	snprintf(idbuf, sizeof(idbuf), "tcg_%d_%s", (int)getpid(), name);
	return idbuf;
}

static void reap_strays(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Environment problems (controllers missing, v2 EBUSY) are a skip, not a
 * failure: the reason is printed and the run exits 77. */
static void skip_if_env(int r, const ombx_err *err)
{
	if (r == -EOPNOTSUPP || r == -EBUSY || r == -ENOENT) {
		printf("# skip: cgroups unusable here: %s\n", err->msg);
		exit(77);
	}
}

static bool read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return true;
}

/* Mount point of the hierarchy carrying ctrl (NULL: cgroup2); the test
 * assumes the usual mount root "/". */
static bool mount_of(const char *ctrl, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], root[1024], mnt[1024], rest[2048];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f)) {
		char *dash = strstr(line, " - "), fstype[64], src[256], opts[1024];
		if (!dash || sscanf(line, "%*s %*s %*s %1023s %1023s %2047[^\n]", root, mnt, rest) != 3 ||
		    sscanf(dash + 3, "%63s %255s %1023s", fstype, src, opts) != 3)
			continue;
		if (ctrl ? strcmp(fstype, "cgroup") != 0 : strcmp(fstype, "cgroup2") != 0)
			continue;
		if (ctrl) {
			char *save = NULL, *t;
			for (t = strtok_r(opts, ",", &save); t; t = strtok_r(NULL, ",", &save))
				if (strcmp(t, ctrl) == 0)
					break;
			if (!t)
				continue;
		}
		found = strcmp(root, "/") == 0;
		snprintf(out, len, "%s", mnt);
	}
	if (f)
		fclose(f);
	return found;
}

/* The directory holding pid for ctrl (NULL: the v2 hierarchy). */
static bool dir_of(pid_t pid, const char *ctrl, char *out, size_t len)
{
	char path[64], line[4096], mnt[1024];
	FILE *f;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (!mount_of(ctrl, mnt, sizeof(mnt)) || !(f = fopen(path, "re")))
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = *c2 = '\0';
		line[strcspn(line, "\n")] = '\0';
		c2[1 + strcspn(c2 + 1, "\n")] = '\0';
		if (ctrl) {
			char *save = NULL, *t;
			for (t = strtok_r(c1 + 1, ",", &save); t; t = strtok_r(NULL, ",", &save))
				if (strcmp(t, ctrl) == 0)
					found = true;
		} else {
			found = strcmp(line, "0") == 0;
		}
		if (found)
			snprintf(out, len, "%s%s", mnt, c2 + 1);
	}
	fclose(f);
	return found;
}

static bool file_is(const char *dir, const char *file, const char *want)
{
	char path[2048], got[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (!read_text(path, got, sizeof(got))) {
		diag("cannot read %s: %s", path, strerror(errno));
		return false;
	}
	if (strcmp(got, want) != 0)
		diag("%s holds \"%s\", want \"%s\"", path, got, want);
	return strcmp(got, want) == 0;
}

static bool procs_has(const char *dir, pid_t pid)
{
	char path[2048], line[64];
	FILE *f;
	bool found = false;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (!(f = fopen(path, "re")))
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = atoi(line) == pid;
	fclose(f);
	return found;
}

/* A child that blocks until the parent has attached it, then runs fn. */
struct child {
	pid_t pid;
	int go;     /* write end: one byte releases the child */
	int result; /* read end: whatever fn reports */
};

static struct child spawn(void (*fn)(int out))
{
	struct child c = { -1, -1, -1 };
	int go[2], res[2];
	char b;

	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0)
		return c;
	c.pid = fork();
	if (c.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(30);
		close(go[1]);
		close(res[0]);
		if (read(go[0], &b, 1) != 1)
			_exit(99);
		fn(res[1]);
		_exit(0);
	}
	close(go[0]);
	close(res[1]);
	c.go = go[1];
	c.result = res[0];
	return c;
}

static void release(struct child *c)
{
	char b = 'g';
	if (write(c->go, &b, 1) != 1)
		diag("releasing child %d: %s", (int)c->pid, strerror(errno));
	close(c->go);
	c->go = -1;
}

static void child_done(struct child *c)
{
	if (c->go >= 0)
		close(c->go);
	if (c->result >= 0)
		close(c->result);
}

static void do_sleep(int out)
{
	for (;;)
		pause();
}

/* Names the jail's directories, found through a member pid. */
static size_t jail_dirs(int version, pid_t pid, char dirs[][1024])
{
	static const char *const ctrls[] = { "memory", "pids", "cpu", "freezer" };
	size_t n = 0;

	if (version == 2)
		return dir_of(pid, NULL, dirs[0], 1024) ? 1 : 0;
	for (size_t i = 0; i < sizeof(ctrls) / sizeof(ctrls[0]); i++)
		if (dir_of(pid, ctrls[i], dirs[n], 1024) && strstr(dirs[n], "/omnibox-tcg_"))
			n++;
	return n;
}

static void check_limit_files(int version, pid_t pid)
{
	char d[1024];

	if (version == 2) {
		bool ok = dir_of(pid, NULL, d, sizeof(d));
		report(ok && file_is(d, "memory.max", "67108864"), "v2 memory.max is 64 MiB");
		report(ok && file_is(d, "memory.swap.max", "0"), "v2 memory.swap.max is 0");
		report(ok && file_is(d, "pids.max", "32"), "v2 pids.max is 32");
		report(ok && file_is(d, "cpu.max", "50000 100000"), "v2 cpu.max is 50000 100000");
		return;
	}
	bool m = dir_of(pid, "memory", d, sizeof(d));
	report(m && file_is(d, "memory.limit_in_bytes", "67108864"),
	       "v1 memory.limit_in_bytes is 64 MiB");
	if (m && access(d, F_OK) == 0) {
		char p[1100];
		snprintf(p, sizeof(p), "%s/memory.memsw.limit_in_bytes", d);
		if (access(p, F_OK) == 0)
			report(file_is(d, "memory.memsw.limit_in_bytes", "67108864"),
			       "v1 memory.memsw.limit_in_bytes is 64 MiB");
	}
	report(dir_of(pid, "pids", d, sizeof(d)) && file_is(d, "pids.max", "32"), "v1 pids.max is 32");
	bool c = dir_of(pid, "cpu", d, sizeof(d));
	report(c && file_is(d, "cpu.cfs_quota_us", "50000"), "v1 cpu.cfs_quota_us is 50000");
	report(c && file_is(d, "cpu.cfs_period_us", "100000"), "v1 cpu.cfs_period_us is 100000");
}

/* Limits read back, attach, membership, and destroy killing a sleeper. */
static void test_limits_attach_destroy(void)
{
	struct ombx_cgroup_limits lim = { .memory_max = 64 * MIB, .pids_max = 32, .cpus = 0.5 };
	struct ombx_cgroup *cg = NULL;
	ombx_err err = { 0 };
	char dirs[MAX_DIRS][1024];
	int r, st = 0, version;
	size_t n;

	r = ombx_cgroup_create(jail_id("limits"), &lim, &cg, &err);
	skip_if_env(r, &err);
	report(r == 0 && cg, "create memory=64M pids=32 cpus=0.5 (r=%d %s)", r, r ? err.msg : "");
	if (!cg)
		return;
	version = ombx_cgroup_version(cg);
	report(version == 1 || version == 2, "version is %d", version);

	struct child c = spawn(do_sleep);
	r = ombx_cgroup_attach(cg, c.pid, &err);
	report(r == 0, "attach sleeping child %d (r=%d %s)", (int)c.pid, r,
	       r ? err.msg : "");
	release(&c);
	n = jail_dirs(version, c.pid, dirs);
	report(n >= 1, "child's /proc/pid/cgroup names %zu omnibox-tcg_ director%s", n,
	       n == 1 ? "y" : "ies");
	for (size_t i = 0; i < n; i++)
		report(procs_has(dirs[i], c.pid), "child listed in %s/cgroup.procs", dirs[i]);
	check_limit_files(version, c.pid);
	report(!ombx_cgroup_oom(cg), "no OOM reported for an idle jail");

	ombx_cgroup_destroy(cg);
	r = waitpid(c.pid, &st, 0) == c.pid;
	report(r && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	       "destroy SIGKILLed the sleeping child (status 0x%x)", st);
	for (size_t i = 0; i < n; i++)
		report(access(dirs[i], F_OK) < 0 && errno == ENOENT, "destroy removed %s", dirs[i]);
	child_done(&c);
}

/* Forks until the pids limit bites and reports (count, errno). */
static void do_forkbomb(int out)
{
	int res[2] = { 0, 0 };

	for (res[0] = 0; res[0] < 200; res[0]++) {
		pid_t p = fork();
		if (p == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		if (p < 0) {
			res[1] = errno;
			break;
		}
	}
	if (write(out, res, sizeof(res)) != sizeof(res))
		_exit(98);
	for (;;)
		pause();
}

static void test_pids_limit(void)
{
	struct ombx_cgroup_limits lim = { .memory_max = 64 * MIB, .pids_max = 32 };
	struct ombx_cgroup *cg = NULL;
	ombx_err err = { 0 };
	int r, res[2] = { -1, -1 }, st = 0;

	r = ombx_cgroup_create(jail_id("pids"), &lim, &cg, &err);
	report(r == 0, "create pids=32 (r=%d %s)", r, r ? err.msg : "");
	if (!cg)
		return;
	struct child c = spawn(do_forkbomb);
	r = ombx_cgroup_attach(cg, c.pid, &err);
	report(r == 0, "attach fork-bomb child (r=%d %s)", r, r ? err.msg : "");
	release(&c);
	bool got = read(c.result, res, sizeof(res)) == sizeof(res);
	report(got && res[1] == EAGAIN && res[0] > 0 && res[0] < 100,
	       "fork fails with EAGAIN after %d forks under pids.max=32 (errno %d)", res[0], res[1]);
	ombx_cgroup_destroy(cg);
	r = waitpid(c.pid, &st, 0) == c.pid;
	report(r && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	       "destroy SIGKILLed the fork-bomb parent (status 0x%x)", st);
	child_done(&c);
	reap_strays();
}

static void do_hog(int out)
{
	size_t len = 256 * MIB;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(97);
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	_exit(0);
}

static void test_oom(void)
{
	struct ombx_cgroup_limits lim = { .memory_max = 32 * MIB, .pids_max = 16 };
	struct ombx_cgroup *cg = NULL;
	ombx_err err = { 0 };
	int r, st = 0;

	r = ombx_cgroup_create(jail_id("oom"), &lim, &cg, &err);
	report(r == 0, "create memory=32M (r=%d %s)", r, r ? err.msg : "");
	if (!cg)
		return;
	report(!ombx_cgroup_oom(cg), "no OOM before the hog runs");
	struct child c = spawn(do_hog);
	r = ombx_cgroup_attach(cg, c.pid, &err);
	report(r == 0, "attach memory hog (r=%d %s)", r, r ? err.msg : "");
	release(&c);
	r = waitpid(c.pid, &st, 0) == c.pid;
	report(r && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	       "hog touching 256 MiB under 32 MiB was SIGKILLed (status 0x%x)", st);
	report(ombx_cgroup_oom(cg), "ombx_cgroup_oom() reports the OOM kill");
	ombx_cgroup_destroy(cg);
	child_done(&c);
}

/* Every process forks as fast as it can, so the jail is never still. */
static void do_storm(int out)
{
	if (write(out, "x", 1) != 1)
		_exit(96);
	for (;;)
		if (fork() < 0)
			sched_yield();
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* destroy must empty and remove a jail whose processes keep forking. */
static void test_destroy_storm(void)
{
	struct ombx_cgroup_limits lim = { .memory_max = 256 * MIB, .pids_max = 200 };
	struct ombx_cgroup *cg = NULL;
	ombx_err err = { 0 };
	char dirs[MAX_DIRS][1024], b;
	int r, st = 0;
	size_t n;

	r = ombx_cgroup_create(jail_id("storm"), &lim, &cg, &err);
	report(r == 0, "create storm jail (r=%d %s)", r, r ? err.msg : "");
	if (!cg)
		return;
	struct child c = spawn(do_storm);
	r = ombx_cgroup_attach(cg, c.pid, &err);
	report(r == 0, "attach storm child (r=%d %s)", r, r ? err.msg : "");
	n = jail_dirs(ombx_cgroup_version(cg), c.pid, dirs);
	release(&c);
	if (read(c.result, &b, 1) != 1)
		diag("storm child did not start");
	usleep(200 * 1000);
	long long t0 = mono_ms();
	ombx_cgroup_destroy(cg);
	long long took = mono_ms() - t0;
	r = waitpid(c.pid, &st, 0) == c.pid;
	report(r && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	       "destroy SIGKILLed the storm (status 0x%x) in %lld ms", st, took);
	report(took < 3000, "destroy of a forking jail is bounded (%lld ms)", took);
	for (size_t i = 0; i < n; i++)
		report(access(dirs[i], F_OK) < 0 && errno == ENOENT, "destroy removed %s", dirs[i]);
	child_done(&c);
	reap_strays();
}

static void test_invalid(void)
{
	static const char *const bad[] = {
		"", "A", "a-b", "a.b", "a/b", "../etc", "a b", "a\nb", "\xc3\xa4",
		"0123456789012345678901234567890123456789", /* 40 */
	};
	struct ombx_cgroup_limits lim = { .pids_max = 8 };
	struct ombx_cgroup *cg = (struct ombx_cgroup *)&lim;
	ombx_err err = { 0 };
	int r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cg = (struct ombx_cgroup *)&lim;
		r = ombx_cgroup_create(bad[i], &lim, &cg, &err);
		report(r == -EINVAL && !cg, "jail id #%zu (%zu bytes) rejected with -EINVAL", i,
		       strlen(bad[i]));
	}
	r = ombx_cgroup_create(NULL, &lim, &cg, &err);
	report(r == -EINVAL && !cg, "NULL jail id rejected");
	r = ombx_cgroup_create("ok", NULL, &cg, &err);
	report(r == -EINVAL && !cg, "NULL limits rejected");
	struct ombx_cgroup_limits neg = { .cpus = -1 }, nan_ = { .cpus = NAN };
	report(ombx_cgroup_create("ok", &neg, &cg, &err) == -EINVAL, "negative cpus rejected");
	report(ombx_cgroup_create("ok", &nan_, &cg, &err) == -EINVAL, "NaN cpus rejected");

	char id39[40];
	snprintf(id39, sizeof(id39), "tcg_%d_", (int)getpid());
	memset(id39 + strlen(id39), 'z', sizeof(id39) - 1 - strlen(id39));
	id39[39] = '\0';
	r = ombx_cgroup_create(id39, &lim, &cg, &err);
	report(r == 0 && cg, "39-character id accepted (r=%d %s)", r, r ? err.msg : "");
	ombx_cgroup_destroy(cg);
}

static void test_edges(void)
{
	struct ombx_cgroup_limits lim = { .pids_max = 8 };
	struct ombx_cgroup *a = NULL, *b = NULL;
	ombx_err err = { 0 };
	int r;

	ombx_cgroup_destroy(NULL);
	report(!ombx_cgroup_oom(NULL) && ombx_cgroup_version(NULL) == 0, "NULL cgroup is inert");
	report(ombx_cgroup_attach(NULL, getpid(), &err) == -EINVAL, "attach to NULL is -EINVAL");

	r = ombx_cgroup_create(jail_id("dup"), &lim, &a, &err);
	report(r == 0, "create dup (r=%d %s)", r, r ? err.msg : "");
	r = ombx_cgroup_create(jail_id("dup"), &lim, &b, &err);
	report(r == -EEXIST && !b, "second create with the same id is -EEXIST (%s)", err.msg);
	report(a && ombx_cgroup_attach(a, 0, &err) == -EINVAL, "attach pid 0 is -EINVAL");

	/* The failed duplicate must not have removed the first one. */
	struct child c = spawn(do_sleep);
	report(a && ombx_cgroup_attach(a, c.pid, &err) == 0, "first dup still usable");
	release(&c);
	ombx_cgroup_destroy(a);
	waitpid(c.pid, NULL, 0);
	child_done(&c);
	/* A limit-free jail still gets a directory to track and kill processes. */
	struct ombx_cgroup_limits none = { 0 };
	r = ombx_cgroup_create(jail_id("nolimits"), &none, &a, &err);
	report(r == 0 && a, "create without limits (r=%d %s)", r, r ? err.msg : "");
	ombx_cgroup_destroy(a);
}

static void test_probe(void)
{
	char buf[512] = "";
	int v = ombx_cgroup_probe(buf, sizeof(buf));

	diag("probe: %d: %s", v, buf);
	report((v == 1 || v == 2) && buf[0], "probe as root reports version %d", v);
	report(ombx_cgroup_probe(NULL, 0) == v, "probe accepts a NULL buffer");
}

/* As nobody, creating beneath root's cgroup must be -EACCES with advice. */
static void test_unprivileged(void)
{
	int st = 0, fd[2];
	char msg[800] = "";
	pid_t pid;

	if (pipe2(fd, O_CLOEXEC) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		struct ombx_cgroup_limits lim = { .memory_max = 64 * MIB, .pids_max = 8 };
		struct ombx_cgroup *cg = NULL;
		ombx_err err = { 0 };
		char buf[256];
		int r;

		alarm(30);
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(3);
		r = ombx_cgroup_create(jail_id("nobody"), &lim, &cg, &err);
		if (write(fd[1], err.msg, strlen(err.msg)) < 0)
			_exit(4);
		ombx_cgroup_destroy(cg);
		if (r != -EACCES || cg || !strstr(err.msg, "Delegate=yes"))
			_exit(1);
		_exit(ombx_cgroup_probe(buf, sizeof(buf)) == 0 ? 0 : 2);
	}
	close(fd[1]);
	if (read(fd[0], msg, sizeof(msg) - 1) < 0)
		msg[0] = '\0';
	close(fd[0]);
	waitpid(pid, &st, 0);
	report(WIFEXITED(st) && WEXITSTATUS(st) != 1, "as nobody: -EACCES with advice (%s)", msg);
	report(WIFEXITED(st) && WEXITSTATUS(st) == 0, "as nobody: probe returns 0 (exit %d)",
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("# skip: test_cgroup needs root to create cgroups\n");
		return 77;
	}
	alarm(120);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	test_limits_attach_destroy(); /* first: skips when cgroups are unusable here */
	test_invalid();
	test_edges();
	test_pids_limit();
	test_oom();
	test_destroy_storm();
	test_probe();
	test_unprivileged();
	reap_strays();
	printf("# %d failure%s\n", failures, failures == 1 ? "" : "s");
	return failures ? 1 : 0;
}
