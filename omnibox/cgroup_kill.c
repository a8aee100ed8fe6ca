/* cgroup_kill.c - emptying and removing a jail's cgroup (ombx_cgroup_destroy).
 *
 * Kills every process listed in the jail's cgroup and its sub-cgroups, pinning
 * each by a pidfd so a reused pid is never signalled, waits (bounded) for the
 * cgroup to empty and removes the directories, children first. Only ever
 * kills in and removes directories the ombx_cgroup object created. */
#include "cgroup_internal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"

#define PIDS_ROUND_MAX 65536 /* pids handled per cgroup.procs read */
#define KILL_CHUNK 128       /* pidfds held at once while killing */
#define SUBDIRS_MAX 256      /* sub-cgroups walked per directory */
#define DEPTH_MAX 16         /* sub-cgroup nesting walked on destroy */
#define KILL_TIMEOUT_MS 2000
#define FREEZE_TIMEOUT_MS 500
#define RMDIR_TRIES 20
#define POLL_MS 10

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- destroy: kill what is left, then remove ---- */

struct pidlist {
	pid_t *v;
	size_t n;
};

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

static int read_pids(const char *dir, struct pidlist *pl)
{
	_cleanup_free_ char *p = ombx__cg_path_join(dir, "cgroup.procs");
	_cleanup_free_ char *buf = NULL;
	char *s, *end;
	int r;

	pl->v = NULL;
	pl->n = 0;
	if (!p)
		return -ENOMEM;
	if ((r = ombx__cg_read_all(p, &buf)) < 0)
		return r;
	for (s = buf; *s && pl->n < PIDS_ROUND_MAX; s = end) {
		long v = strtol(s, &end, 10);
		if (end == s)
			break;
		if (v <= 0 || v > INT_MAX)
			continue;
		if (pl->n % 256 == 0) {
			pid_t *nv = realloc(pl->v, (pl->n + 256) * sizeof(*nv));
			if (!nv) {
				free(pl->v);
				pl->v = NULL;
				pl->n = 0;
				return -ENOMEM;
			}
			pl->v = nv;
		}
		pl->v[pl->n++] = (pid_t)v;
	}
	if (pl->n > 1)
		qsort(pl->v, pl->n, sizeof(*pl->v), cmp_pid);
	return 0;
}

static int pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	errno = ENOSYS;
	return -1;
#endif
}

static void pidfd_kill(int fd, pid_t pid)
{
#ifdef SYS_pidfd_send_signal
	if (fd >= 0) {
		syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
		return;
	}
#endif
	kill(pid, SIGKILL);
}

/* Signals one chunk of listed pids. A pid read from cgroup.procs may be
 * reaped and reused before we signal it, so each is pinned by a pidfd and
 * cgroup.procs is read again: a pidfd whose pid is still listed and whose
 * process is alive when signalled refers to a member of our cgroup. Without
 * pidfds (kernel < 5.3) we fall back to kill(2). */
static void kill_chunk(const char *dir, const pid_t *pids, size_t n)
{
	int fds[KILL_CHUNK], errs[KILL_CHUNK];
	struct pidlist now;

	for (size_t i = 0; i < n; i++) {
		fds[i] = pidfd_open_(pids[i]);
		errs[i] = fds[i] < 0 ? errno : 0;
	}
	if (read_pids(dir, &now) == 0) {
		for (size_t i = 0; i < n; i++) {
			if ((fds[i] >= 0 || errs[i] == ENOSYS) && now.n &&
			    bsearch(&pids[i], now.v, now.n, sizeof(*now.v), cmp_pid))
				pidfd_kill(fds[i], pids[i]);
		}
		free(now.v);
	}
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* SIGKILLs every process in dir/cgroup.procs; returns how many were listed. */
static size_t kill_listed(const char *dir)
{
	struct pidlist all;
	size_t n;

	if (read_pids(dir, &all) < 0)
		return 0;
	for (size_t i = 0; i < all.n; i += KILL_CHUNK)
		kill_chunk(dir, all.v + i, all.n - i < KILL_CHUNK ? all.n - i : KILL_CHUNK);
	n = all.n;
	free(all.v);
	return n;
}

typedef size_t (*walk_fn)(const char *dir);

/* Applies fn to dir and every sub-cgroup beneath it (children first, so
 * rmdir works) and sums the results. Jailed code cannot normally create
 * sub-cgroups, but if it could, they must not pin ours. */
static size_t walk(const char *dir, unsigned depth, walk_fn fn)
{
	char *names[SUBDIRS_MAX];
	size_t n = 0, sum = 0;
	DIR *d = depth < DEPTH_MAX ? opendir(dir) : NULL;
	struct dirent *e;

	while (d && n < SUBDIRS_MAX && (e = readdir(d))) {
		if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0)
			continue;
		if ((names[n] = ombx__cg_path_join(dir, e->d_name)))
			n++;
	}
	if (d)
		closedir(d);
	for (size_t i = 0; i < n; i++) {
		sum += walk(names[i], depth + 1, fn);
		free(names[i]);
	}
	return sum + fn(dir);
}

static size_t rmdir_retry(const char *dir)
{
	for (int i = 0; i < RMDIR_TRIES; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return 1;
		sleep_ms(POLL_MS);
	}
	return 1;
}

static bool state_is(const char *dir, const char *want)
{
	_cleanup_free_ char *p = ombx__cg_path_join(dir, "freezer.state");
	_cleanup_free_ char *s = NULL;
	return p && ombx__cg_read_all(p, &s) == 0 && strncmp(s, want, strlen(want)) == 0;
}

/* v1: freeze so nothing forks while we kill, signal, then thaw so the
 * signals are delivered. */
static void v1_freeze_kill(const struct ombx_cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++) {
		const char *d = cg->dir[i];
		long long until = now_ms() + FREEZE_TIMEOUT_MS;
		if (!(cg->ctrl[i] & C_FREEZER))
			continue;
		if (ombx__cg_write_at(d, "freezer.state", "FROZEN", NULL) < 0)
			return;
		while (!state_is(d, "FROZEN") && now_ms() < until)
			sleep_ms(POLL_MS);
		walk(d, 0, kill_listed);
		ombx__cg_write_at(d, "freezer.state", "THAWED", NULL);
		return;
	}
}

static void kill_all(const struct ombx_cgroup *cg)
{
	long long until = now_ms() + KILL_TIMEOUT_MS;

	if (cg->version == 2 && cg->n)
		ombx__cg_write_at(cg->dir[0], "cgroup.kill", "1", NULL); /* absent before 5.14 */
	else
		v1_freeze_kill(cg);
	for (;;) {
		size_t left = 0;
		for (size_t i = 0; i < cg->n; i++)
			left += walk(cg->dir[i], 0, kill_listed);
		if (left == 0 || now_ms() >= until)
			return;
		sleep_ms(POLL_MS);
	}
}

void ombx_cgroup_destroy(struct ombx_cgroup *cg)
{
	if (!cg)
		return;
	kill_all(cg);
	for (size_t i = 0; i < cg->n; i++) {
		walk(cg->dir[i], 0, rmdir_retry);
		free(cg->dir[i]);
	}
	free(cg);
}
