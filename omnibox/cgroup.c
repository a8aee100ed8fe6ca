/* cgroup.c - one cgroup per jail, beneath the cgroup omnibox runs in.
 *
 * Discovery reads /proc/self/cgroup (where we are in each hierarchy) and
 * /proc/self/mountinfo (where each hierarchy is mounted). A jail gets
 * "<mount>/<our path>/omnibox-<id>" in v2 when the needed controllers are
 * delegated to our cgroup, else one such directory per v1 hierarchy. This file
 * only ever creates, writes, kills in and removes directories it made itself;
 * the one write to a cgroup it did not make is enabling controllers in our
 * own cgroup.subtree_control (v2), which delegation requires. */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include "../common/cleanup.h"

enum { C_MEMORY = 1u << 0, C_PIDS = 1u << 1, C_CPU = 1u << 2, C_FREEZER = 1u << 3 };
#define N_CTRLS 4
#define C_LIMITS (C_MEMORY | C_PIDS | C_CPU)
static const char *const ctrl_names[N_CTRLS] = { "memory", "pids", "cpu", "freezer" };

#define JAIL_ID_MAX 39
#define CPUS_MAX 65536.0
#define CPU_PERIOD_US 100000ULL
#define CPU_QUOTA_MIN_US 1000ULL /* the kernel refuses smaller quotas */
#define FILE_MAX (1u << 20)      /* bound on any cgroup/proc file we read */
#define LINE_MAX_LEN 16384       /* longer mountinfo lines are skipped */
#define PIDS_ROUND_MAX 65536     /* pids handled per cgroup.procs read */
#define KILL_CHUNK 128           /* pidfds held at once while killing */
#define SUBDIRS_MAX 256          /* sub-cgroups walked per directory */
#define DEPTH_MAX 16             /* sub-cgroup nesting walked on destroy */
#define KILL_TIMEOUT_MS 2000
#define FREEZE_TIMEOUT_MS 500
#define RMDIR_TRIES 20
#define POLL_MS 10
#define DELEGATE_HINT                                                                              \
	"run omnibox as root, or via `systemd-run --user --scope -p Delegate=yes omnibox ...`"

struct host {
	char *v2_base;            /* our cgroup's directory in the v2 hierarchy, or NULL */
	unsigned v2_avail;        /* controllers listed in its cgroup.controllers */
	char *v1_base[N_CTRLS];   /* our cgroup's directory in each controller's v1 hierarchy */
	int v1_hier[N_CTRLS];     /* v1 hierarchy ids, to share co-mounted hierarchies */
	char *v2_rel;             /* our paths from /proc/self/cgroup, during discovery */
	char *v1_rel[N_CTRLS];
};

struct ombx_cgroup {
	int version;
	size_t n;
	char *dir[N_CTRLS];       /* only directories this object created */
	unsigned ctrl[N_CTRLS];   /* controllers served by each directory */
};

static void host_free(struct host *h)
{
	free(h->v2_base);
	free(h->v2_rel);
	for (int i = 0; i < N_CTRLS; i++) {
		free(h->v1_base[i]);
		free(h->v1_rel[i]);
	}
}

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

static char *path_join(const char *dir, const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

/* Reads a whole (small) file; -EFBIG past FILE_MAX rather than truncating. */
static int read_all(const char *path, char **out)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		if (cap - len < 4096) {
			char *nb;
			if (cap >= FILE_MAX)
				return -EFBIG;
			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap + 1);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = TAKE_PTR(buf);
	return 0;
}

/* Writes val to dir/file in one write(2), as cgroupfs expects. */
static int write_at(const char *dir, const char *file, const char *val, ombx_err *err)
{
	_cleanup_free_ char *p = path_join(dir, file);
	_cleanup_close_ int fd = -1;
	size_t len = strlen(val);
	ssize_t n;

	if (!p)
		return ombx_err_errno(err, ENOMEM, "cgroup path");
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return ombx_err_errno(err, errno, "opening %s", p);
	n = write(fd, val, len);
	if (n < 0)
		return ombx_err_errno(err, errno, "writing \"%s\" to %s", val, p);
	if ((size_t)n != len)
		return ombx_err_set(err, EIO, "short write of \"%s\" to %s", val, p);
	return 0;
}

static bool exists_at(const char *dir, const char *file)
{
	_cleanup_free_ char *p = path_join(dir, file);
	return p && access(p, F_OK) == 0;
}

/* True if the comma- or space-separated list holds word exactly. */
static bool has_word(const char *list, const char *word, const char *seps)
{
	size_t wl = strlen(word);
	for (const char *s = list; *s;) {
		size_t n = strcspn(s, seps);
		if (n == wl && strncmp(s, word, wl) == 0)
			return true;
		s += n;
		s += strspn(s, seps);
	}
	return false;
}

static unsigned parse_ctrls(const char *list, const char *seps)
{
	unsigned m = 0;
	for (int i = 0; i < N_CTRLS; i++)
		if (has_word(list, ctrl_names[i], seps))
			m |= 1u << i;
	return m;
}

static void mask_names(unsigned m, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (int i = 0; i < N_CTRLS; i++)
		if ((m & (1u << i)) && o < len)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "," : "", ctrl_names[i]);
}

/* "12:cpu,cpuacct:/a/b" for v1, "0::/a/b" for v2. */
static int parse_proc_cgroup(struct host *h)
{
	_cleanup_free_ char *buf = NULL;
	char *save = NULL;
	int r = read_all("/proc/self/cgroup", &buf);

	if (r < 0)
		return r;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2 || c2[1] != '/')
			continue;
		*c1 = *c2 = '\0';
		if (strcmp(line, "0") == 0 && c1[1] == '\0') {
			if (!h->v2_rel && !(h->v2_rel = strdup(c2 + 1)))
				return -ENOMEM;
			continue;
		}
		unsigned m = parse_ctrls(c1 + 1, ",");
		for (int i = 0; i < N_CTRLS; i++) {
			if (!(m & (1u << i)) || h->v1_rel[i])
				continue;
			if (!(h->v1_rel[i] = strdup(c2 + 1)))
				return -ENOMEM;
			h->v1_hier[i] = atoi(line);
		}
	}
	return 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* Our directory in a hierarchy mounted at mnt whose mount shows root: NULL
 * with 0 when our cgroup is not visible through this mount. */
static int resolve(const char *root, const char *mnt, const char *rel, char **out)
{
	size_t rl = strlen(root);
	const char *rest = rel;

	*out = NULL;
	if (strcmp(root, "/") != 0) {
		if (strncmp(rel, root, rl) != 0 || (rel[rl] != '\0' && rel[rl] != '/'))
			return 0;
		rest = rel + rl;
	}
	if (strcmp(rest, "/") == 0)
		rest = "";
	if (asprintf(out, "%s%s", mnt, rest) < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	if (strlen(*out) >= PATH_MAX - 64) {
		free(*out);
		*out = NULL;
		return -ENAMETOOLONG;
	}
	return 0;
}

/* Splits a mountinfo line; fields after the optional ones ("-") are fstype,
 * source, super options. */
static bool split_mountinfo(char *line, char **root, char **mnt, char **fstype, char **sopts)
{
	char *f[6], *save = NULL, *t;
	int n = 0;

	for (t = strtok_r(line, " ", &save); t && n < 6; t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	if (n < 6)
		return false;
	while (t && strcmp(t, "-") != 0)
		t = strtok_r(NULL, " ", &save);
	if (!t || !(*fstype = strtok_r(NULL, " ", &save)) || !strtok_r(NULL, " ", &save) ||
	    !(*sopts = strtok_r(NULL, " \n", &save)))
		return false;
	*root = f[3];
	*mnt = f[4];
	unescape(*root);
	unescape(*mnt);
	return true;
}

/* Takes the directory only if it is reachable and of the right kind, so a
 * hierarchy hidden under a later mount is passed over. */
static int take_base(const char *root, const char *mnt, const char *rel, long magic, char **base)
{
	struct statfs sf;
	char *p;
	int r = resolve(root, mnt, rel, &p);

	if (r < 0 || !p)
		return r;
	if (statfs(p, &sf) == 0 && (long)sf.f_type == magic)
		*base = p;
	else
		free(p);
	return 0;
}

static int match_mount(struct host *h, char *line)
{
	char *root, *mnt, *fstype, *sopts;
	int r;

	if (!split_mountinfo(line, &root, &mnt, &fstype, &sopts))
		return 0;
	if (strcmp(fstype, "cgroup2") == 0 && h->v2_rel && !h->v2_base)
		return take_base(root, mnt, h->v2_rel, CGROUP2_SUPER_MAGIC, &h->v2_base);
	if (strcmp(fstype, "cgroup") != 0)
		return 0;
	for (int i = 0; i < N_CTRLS; i++) {
		if (!h->v1_rel[i] || h->v1_base[i] || !has_word(sopts, ctrl_names[i], ","))
			continue;
		if ((r = take_base(root, mnt, h->v1_rel[i], CGROUP_SUPER_MAGIC, &h->v1_base[i])) < 0)
			return r;
	}
	return 0;
}

static int parse_mountinfo(struct host *h)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return -errno;
	while ((n = getline(&line, &cap, f)) > 0) {
		int r;
		if (n > LINE_MAX_LEN)
			continue;
		if ((r = match_mount(h, line)) < 0)
			return r;
	}
	return 0;
}

static int discover(struct host *h, ombx_err *err)
{
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = parse_proc_cgroup(h)) < 0)
		return ombx_err_errno(err, -r, "reading /proc/self/cgroup");
	if ((r = parse_mountinfo(h)) < 0)
		return ombx_err_errno(err, -r, "reading /proc/self/mountinfo");
	if (h->v2_base) {
		_cleanup_free_ char *p = path_join(h->v2_base, "cgroup.controllers");
		_cleanup_free_ char *c = NULL;
		if (p && read_all(p, &c) == 0)
			h->v2_avail = parse_ctrls(c, " \n");
	}
	return 0;
}

static unsigned v1_avail(const struct host *h)
{
	unsigned m = 0;
	for (int i = 0; i < N_CTRLS; i++)
		if (h->v1_base[i])
			m |= 1u << i;
	return m;
}

/* Which version serves the requested controllers, and which controllers to
 * set up there. v2 is preferred when it also has pids, since every jail gets
 * a pids limit in practice; v1 adds pids and freezer, when present, to track
 * and kill the jail's processes. */
static int choose(const struct host *h, unsigned req, int *version, unsigned *use, ombx_err *err)
{
	unsigned a1 = v1_avail(h), a2 = h->v2_base ? h->v2_avail & C_LIMITS : 0;
	unsigned missing = req & ~(a1 | a2);
	char names[64], n1[64], n2[64], where[PATH_MAX + 32];

	if (h->v2_base && !((req | C_PIDS) & ~a2)) {
		*version = 2;
		*use = req | C_PIDS;
		return 0;
	}
	if (!(req & ~a1) && (req | (a1 & (C_PIDS | C_FREEZER)))) {
		*version = 1;
		*use = req | (a1 & (C_PIDS | C_FREEZER));
		return 0;
	}
	if (h->v2_base && !(req & ~a2)) {
		*version = 2;
		*use = req | (a2 & C_PIDS);
		return 0;
	}
	if (!h->v2_base && !a1)
		return ombx_err_set(err, ENOENT,
				    "no cgroup hierarchy is mounted for omnibox's cgroup "
				    "(see /proc/self/mountinfo and /proc/self/cgroup)");
	if (!missing) {
		mask_names(req | C_PIDS, names, sizeof(names));
		mask_names(a1, n1, sizeof(n1));
		mask_names(a2, n2, sizeof(n2));
		return ombx_err_set(err, EOPNOTSUPP,
				    "cgroup controllers %s are not all available in one cgroup version "
				    "here (v1 has: %s; v2 has: %s)", names, n1[0] ? n1 : "none",
				    n2[0] ? n2 : "none");
	}
	mask_names(missing, names, sizeof(names));
	snprintf(where, sizeof(where), "%s", h->v2_base ? h->v2_base : "any cgroup hierarchy");
	return ombx_err_set(err, EOPNOTSUPP,
			    "cgroup controller(s) %s not available to omnibox's cgroup (%s%s), "
			    "so the requested limit cannot be enforced; " DELEGATE_HINT,
			    names, where, h->v2_base ? "/cgroup.controllers" : "");
}

/* Child cgroups of ours only get controllers listed in our subtree_control. */
static int v2_enable(const char *base, unsigned need, ombx_err *err)
{
	_cleanup_free_ char *p = path_join(base, "cgroup.subtree_control");
	_cleanup_free_ char *cur = NULL;
	char req[64] = "", names[64];
	unsigned missing;
	size_t o = 0;
	int r;

	if (!p)
		return ombx_err_errno(err, ENOMEM, "cgroup path");
	if ((r = read_all(p, &cur)) < 0)
		return ombx_err_errno(err, -r, "reading %s", p);
	missing = need & ~parse_ctrls(cur, " \n");
	if (!missing)
		return 0;
	for (int i = 0; i < N_CTRLS; i++)
		if (missing & (1u << i))
			o += (size_t)snprintf(req + o, sizeof(req) - o, "%s+%s", o ? " " : "",
					      ctrl_names[i]);
	r = write_at(base, "cgroup.subtree_control", req, NULL);
	mask_names(missing, names, sizeof(names));
	/* v2's "no internal processes" rule: a non-root cgroup that holds
	 * processes cannot hand domain controllers (memory) to children, and
	 * omnibox itself lives in ours (pids and cpu are threaded controllers and
	 * are not refused). Moving omnibox into a leaf beneath its cgroup would
	 * satisfy the rule, but it moves a process other modules may also
	 * account for and changes a cgroup we did not create, so we fail and
	 * say why instead. */
	if (r == -EBUSY)
		return ombx_err_set(err, EBUSY,
				    "cannot enable %s in %s: cgroup v2 refuses the memory controller "
				    "for children of a cgroup that holds processes, and omnibox runs "
				    "in it; run omnibox as root in the root cgroup, on a cgroup v1 "
				    "host, or without a memory limit", names, p);
	if (r == -EACCES || r == -EPERM || r == -EROFS)
		return ombx_err_errno(err, EACCES, "cannot enable %s in %s (%s)", names, p,
				      DELEGATE_HINT);
	if (r < 0)
		return ombx_err_errno(err, -r, "enabling %s in %s", names, p);
	return 0;
}

static int make_dir(struct ombx_cgroup *cg, const char *base, const char *name, unsigned ctrl,
		    ombx_err *err)
{
	_cleanup_free_ char *p = path_join(base, name);

	if (!p)
		return ombx_err_errno(err, ENOMEM, "cgroup path");
	if (mkdir(p, 0755) < 0) {
		int e = errno;
		if (e == EEXIST)
			return ombx_err_set(err, EEXIST,
					    "cgroup %s already exists: a jail with this id is running "
					    "or was left behind (rmdir it once it is empty)", p);
		if (e == EACCES || e == EPERM || e == EROFS)
			return ombx_err_set(err, EACCES, "cannot create cgroup %s: %s; " DELEGATE_HINT,
					    p, strerror(e));
		return ombx_err_errno(err, e, "creating cgroup %s", p);
	}
	cg->dir[cg->n] = TAKE_PTR(p);
	cg->ctrl[cg->n++] = ctrl;
	return 0;
}

static int make_dirs(struct ombx_cgroup *cg, const struct host *h, unsigned use, const char *name,
		     ombx_err *err)
{
	int r;

	if (cg->version == 2) {
		if (use && (r = v2_enable(h->v2_base, use, err)) < 0)
			return r;
		return make_dir(cg, h->v2_base, name, use, err);
	}
	for (int i = 0; i < N_CTRLS; i++) {
		bool shared = false;
		if (!(use & (1u << i)))
			continue;
		/* Co-mounted controllers (cpu,cpuacct) share one directory. */
		for (int j = 0; j < i && !shared; j++) {
			if (!(use & (1u << j)) || h->v1_hier[j] != h->v1_hier[i])
				continue;
			for (size_t k = 0; k < cg->n; k++)
				if (cg->ctrl[k] & (1u << j))
					cg->ctrl[k] |= 1u << i;
			shared = true;
		}
		if (!shared && (r = make_dir(cg, h->v1_base[i], name, 1u << i, err)) < 0)
			return r;
	}
	return 0;
}

static int write_u64(const char *dir, const char *file, unsigned long long v, ombx_err *err)
{
	char s[32];
	snprintf(s, sizeof(s), "%llu", v);
	return write_at(dir, file, s, err);
}

static int limit_memory(const struct ombx_cgroup *cg, const char *d, uint64_t max, ombx_err *err)
{
	int r;

	if (cg->version == 2) {
		if ((r = write_u64(d, "memory.max", max, err)) < 0)
			return r;
		/* swap.max is absent without swap accounting; RAM stays limited. */
		if (exists_at(d, "memory.swap.max"))
			return write_at(d, "memory.swap.max", "0", err);
		return 0;
	}
	/* memsw must never be below limit_in_bytes, so RAM goes first. */
	if ((r = write_u64(d, "memory.limit_in_bytes", max, err)) < 0)
		return r;
	if (exists_at(d, "memory.memsw.limit_in_bytes"))
		return write_u64(d, "memory.memsw.limit_in_bytes", max, err);
	return 0;
}

static int limit_cpu(const struct ombx_cgroup *cg, const char *d, double cpus, ombx_err *err)
{
	unsigned long long quota = (unsigned long long)(cpus * (double)CPU_PERIOD_US + 0.5);
	char s[64];
	int r;

	if (quota < CPU_QUOTA_MIN_US)
		quota = CPU_QUOTA_MIN_US;
	if (cg->version == 2) {
		snprintf(s, sizeof(s), "%llu %llu", quota, CPU_PERIOD_US);
		return write_at(d, "cpu.max", s, err);
	}
	if ((r = write_u64(d, "cpu.cfs_period_us", CPU_PERIOD_US, err)) < 0)
		return r;
	return write_u64(d, "cpu.cfs_quota_us", quota, err);
}

static int write_limits(const struct ombx_cgroup *cg, const struct ombx_cgroup_limits *lim,
			ombx_err *err)
{
	int r;

	for (size_t i = 0; i < cg->n; i++) {
		const char *d = cg->dir[i];
		if ((cg->ctrl[i] & C_MEMORY) && lim->memory_max &&
		    (r = limit_memory(cg, d, lim->memory_max, err)) < 0)
			return r;
		if ((cg->ctrl[i] & C_PIDS) && lim->pids_max &&
		    (r = write_u64(d, "pids.max", lim->pids_max, err)) < 0)
			return r;
		if ((cg->ctrl[i] & C_CPU) && lim->cpus > 0 && (r = limit_cpu(cg, d, lim->cpus, err)) < 0)
			return r;
	}
	return 0;
}

static int check_input(const char *jail_id, const struct ombx_cgroup_limits *lim, ombx_err *err)
{
	size_t n = jail_id ? strlen(jail_id) : 0;

	if (n == 0 || n > JAIL_ID_MAX || strspn(jail_id, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
		return ombx_err_set(err, EINVAL,
				    "invalid jail id (%zu bytes): use 1 to %d characters of [a-z0-9_]",
				    n, JAIL_ID_MAX);
	if (!lim)
		return ombx_err_set(err, EINVAL, "no cgroup limits given");
	/* !(x >= 0) also catches NaN. */
	if (!(lim->cpus >= 0) || lim->cpus > CPUS_MAX)
		return ombx_err_set(err, EINVAL, "cpu limit %g is out of range (0 to %g CPUs)",
				    lim->cpus, CPUS_MAX);
	return 0;
}

static unsigned requested(const struct ombx_cgroup_limits *lim)
{
	return (lim->memory_max ? C_MEMORY : 0) | (lim->pids_max ? C_PIDS : 0) |
	       (lim->cpus > 0 ? C_CPU : 0);
}

static int build(const struct host *h, unsigned req, const char *name,
		 struct ombx_cgroup **out, ombx_err *err)
{
	struct ombx_cgroup *cg;
	unsigned use;
	int version, r;

	if ((r = choose(h, req, &version, &use, err)) < 0)
		return r;
	if (!(cg = calloc(1, sizeof(*cg))))
		return ombx_err_errno(err, ENOMEM, "allocating cgroup");
	cg->version = version;
	if ((r = make_dirs(cg, h, use, name, err)) < 0) {
		ombx_cgroup_destroy(cg);
		return r;
	}
	*out = cg;
	return 0;
}

int ombx_cgroup_create(const char *jail_id, const struct ombx_cgroup_limits *lim,
		       struct ombx_cgroup **out, ombx_err *err)
{
	_cleanup_(host_free) struct host h = { 0 };
	struct ombx_cgroup *cg = NULL;
	char name[8 + JAIL_ID_MAX + 1];
	int r;

	if (!out)
		return ombx_err_set(err, EINVAL, "ombx_cgroup_create: no output pointer");
	*out = NULL;
	if ((r = check_input(jail_id, lim, err)) < 0)
		return r;
	snprintf(name, sizeof(name), "omnibox-%s", jail_id);
	if ((r = discover(&h, err)) < 0)
		return r;
	if ((r = build(&h, requested(lim), name, &cg, err)) < 0)
		return r;
	if ((r = write_limits(cg, lim, err)) < 0) {
		ombx_cgroup_destroy(cg);
		return r;
	}
	*out = cg;
	return 0;
}

int ombx_cgroup_attach(struct ombx_cgroup *cg, pid_t pid, ombx_err *err)
{
	char s[32];
	int r;

	if (!cg || pid <= 0)
		return ombx_err_set(err, EINVAL, "cannot attach pid %d to %s", (int)pid,
				    cg ? "a cgroup" : "no cgroup");
	snprintf(s, sizeof(s), "%d", (int)pid);
	for (size_t i = 0; i < cg->n; i++)
		if ((r = write_at(cg->dir[i], "cgroup.procs", s, err)) < 0)
			return r;
	return 0;
}

int ombx_cgroup_version(const struct ombx_cgroup *cg)
{
	return cg ? cg->version : 0;
}

/* The value after "key " on one line of a flat-keyed file. */
static bool read_key(const char *dir, const char *file, const char *key, unsigned long long *v)
{
	_cleanup_free_ char *p = path_join(dir, file);
	_cleanup_free_ char *buf = NULL;
	size_t kl = strlen(key);

	if (!p || read_all(p, &buf) < 0)
		return false;
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, kl) == 0 && l[kl] == ' ')
			return sscanf(l + kl + 1, "%llu", v) == 1;
	return false;
}

bool ombx_cgroup_oom(const struct ombx_cgroup *cg)
{
	unsigned long long n = 0;

	if (!cg)
		return false;
	for (size_t i = 0; i < cg->n; i++) {
		if (!(cg->ctrl[i] & C_MEMORY))
			continue;
		const char *f = cg->version == 2 ? "memory.events" : "memory.oom_control";
		return read_key(cg->dir[i], f, "oom_kill", &n) && n > 0;
	}
	return false;
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
	_cleanup_free_ char *p = path_join(dir, "cgroup.procs");
	_cleanup_free_ char *buf = NULL;
	char *s, *end;
	int r;

	pl->v = NULL;
	pl->n = 0;
	if (!p)
		return -ENOMEM;
	if ((r = read_all(p, &buf)) < 0)
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
		if ((names[n] = path_join(dir, e->d_name)))
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
	_cleanup_free_ char *p = path_join(dir, "freezer.state");
	_cleanup_free_ char *s = NULL;
	return p && read_all(p, &s) == 0 && strncmp(s, want, strlen(want)) == 0;
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
		if (write_at(d, "freezer.state", "FROZEN", NULL) < 0)
			return;
		while (!state_is(d, "FROZEN") && now_ms() < until)
			sleep_ms(POLL_MS);
		walk(d, 0, kill_listed);
		write_at(d, "freezer.state", "THAWED", NULL);
		return;
	}
}

static void kill_all(const struct ombx_cgroup *cg)
{
	long long until = now_ms() + KILL_TIMEOUT_MS;

	if (cg->version == 2 && cg->n)
		write_at(cg->dir[0], "cgroup.kill", "1", NULL); /* absent before 5.14 */
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

/* ---- probe ---- */

static int describe(const struct host *h, const struct ombx_cgroup *cg, unsigned missing,
		    char *buf, size_t len)
{
	char names[64], miss[64];
	unsigned m = 0;
	int o;

	for (size_t i = 0; i < cg->n; i++)
		m |= cg->ctrl[i];
	mask_names(m & C_LIMITS, names, sizeof(names));
	mask_names(missing, miss, sizeof(miss));
	if (cg->version == 2)
		o = snprintf(buf, len, "v2 with %s delegated (%s)", m ? names : "no controllers",
			     h->v2_base);
	else
		o = snprintf(buf, len, "v1 %s%s", names, (m & C_FREEZER) ? " (+freezer)" : "");
	if (missing && o >= 0 && (size_t)o < len)
		snprintf(buf + o, len - (size_t)o, "; %s unavailable", miss);
	return cg->version;
}

int ombx_cgroup_probe(char *buf, size_t len)
{
	_cleanup_(host_free) struct host h = { 0 };
	struct ombx_cgroup *cg = NULL;
	char scratch[8], name[64];
	unsigned use, req = C_LIMITS;
	ombx_err err = { 0 };
	int version;

	if (!buf || len == 0) {
		buf = scratch;
		len = sizeof(scratch);
	}
	if (discover(&h, &err) < 0) {
		snprintf(buf, len, "%s", err.msg);
		return 0;
	}
	/* Ask for what a jail with every limit would need; settle for what exists. */
	if (choose(&h, req, &version, &use, NULL) < 0)
		req = (v1_avail(&h) | (h.v2_base ? h.v2_avail : 0)) & C_LIMITS;
	snprintf(name, sizeof(name), "omnibox-probe-%d", (int)getpid());
	if (build(&h, req, name, &cg, &err) < 0) {
		snprintf(buf, len, "no usable cgroup: %s", err.msg);
		return 0;
	}
	version = describe(&h, cg, C_LIMITS & ~req, buf, len);
	ombx_cgroup_destroy(cg);
	return version;
}
