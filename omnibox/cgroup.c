/* cgroup.c - one cgroup per jail, beneath the cgroup omnibox runs in.
 *
 * A jail gets "<mount>/<our path>/omnibox-<id>" in v2 when the needed
 * controllers are delegated to our cgroup, else one such directory per v1
 * hierarchy. Discovery (cgroup_find.c) says where; this file creates the
 * directories, writes the limits, attaches, reads OOM events and probes for
 * doctor; cgroup_kill.c empties and removes them. The module only ever
 * creates, writes, kills in and removes directories it made itself; the one
 * write to a cgroup it did not make is enabling controllers in our own
 * cgroup.subtree_control (v2), which delegation requires. */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "cgroup_internal.h"

#define JAIL_ID_MAX 39
#define CPUS_MAX 65536.0
#define CPU_PERIOD_US 100000ULL
#define CPU_QUOTA_MIN_US 1000ULL /* the kernel refuses smaller quotas */
#define FILE_MAX (1u << 20)      /* bound on any cgroup/proc file we read */

/* ---- file helpers, shared with cgroup_find.c and cgroup_kill.c ---- */

char *ombx__cg_path_join(const char *dir, const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

/* Reads a whole (small) file; -EFBIG past FILE_MAX rather than truncating. */
int ombx__cg_read_all(const char *path, char **out)
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
int ombx__cg_write_at(const char *dir, const char *file, const char *val, ombx_err *err)
{
	_cleanup_free_ char *p = ombx__cg_path_join(dir, file);
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
	_cleanup_free_ char *p = ombx__cg_path_join(dir, file);
	return p && access(p, F_OK) == 0;
}

/* ---- create: directories and limits ---- */

/* Child cgroups of ours only get controllers listed in our subtree_control. */
static int v2_enable(const char *base, unsigned need, ombx_err *err)
{
	_cleanup_free_ char *p = ombx__cg_path_join(base, "cgroup.subtree_control");
	_cleanup_free_ char *cur = NULL;
	char req[64] = "", names[64];
	unsigned missing;
	size_t o = 0;
	int r;

	if (!p)
		return ombx_err_errno(err, ENOMEM, "cgroup path");
	if ((r = ombx__cg_read_all(p, &cur)) < 0)
		return ombx_err_errno(err, -r, "reading %s", p);
	missing = need & ~ombx__cg_parse_ctrls(cur, " \n");
	if (!missing)
		return 0;
	for (int i = 0; i < N_CTRLS; i++)
		if (missing & (1u << i))
			o += (size_t)snprintf(req + o, sizeof(req) - o, "%s+%s", o ? " " : "",
					      ombx__cg_ctrl_names[i]);
	r = ombx__cg_write_at(base, "cgroup.subtree_control", req, NULL);
	ombx__cg_mask_names(missing, names, sizeof(names));
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
	_cleanup_free_ char *p = ombx__cg_path_join(base, name);

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
	return ombx__cg_write_at(dir, file, s, err);
}

static int limit_memory(const struct ombx_cgroup *cg, const char *d, uint64_t max, ombx_err *err)
{
	int r;

	if (cg->version == 2) {
		if ((r = write_u64(d, "memory.max", max, err)) < 0)
			return r;
		/* swap.max is absent without swap accounting; RAM stays limited. */
		if (exists_at(d, "memory.swap.max"))
			return ombx__cg_write_at(d, "memory.swap.max", "0", err);
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
		return ombx__cg_write_at(d, "cpu.max", s, err);
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

	if ((r = ombx__cg_choose(h, req, &version, &use, err)) < 0)
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
	_cleanup_(ombx__cg_host_free) struct host h = { 0 };
	struct ombx_cgroup *cg = NULL;
	char name[8 + JAIL_ID_MAX + 1];
	int r;

	if (!out)
		return ombx_err_set(err, EINVAL, "ombx_cgroup_create: no output pointer");
	*out = NULL;
	if ((r = check_input(jail_id, lim, err)) < 0)
		return r;
	snprintf(name, sizeof(name), "omnibox-%s", jail_id);
	if ((r = ombx__cg_discover(&h, err)) < 0)
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
		if ((r = ombx__cg_write_at(cg->dir[i], "cgroup.procs", s, err)) < 0)
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
	_cleanup_free_ char *p = ombx__cg_path_join(dir, file);
	_cleanup_free_ char *buf = NULL;
	size_t kl = strlen(key);

	if (!p || ombx__cg_read_all(p, &buf) < 0)
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

/* ---- probe ---- */

static int describe(const struct host *h, const struct ombx_cgroup *cg, unsigned missing,
		    char *buf, size_t len)
{
	char names[64], miss[64];
	unsigned m = 0;
	int o;

	for (size_t i = 0; i < cg->n; i++)
		m |= cg->ctrl[i];
	ombx__cg_mask_names(m & C_LIMITS, names, sizeof(names));
	ombx__cg_mask_names(missing, miss, sizeof(miss));
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
	_cleanup_(ombx__cg_host_free) struct host h = { 0 };
	struct ombx_cgroup *cg = NULL;
	char scratch[8], name[64];
	unsigned use, req = C_LIMITS;
	ombx_err err = { 0 };
	int version;

	if (!buf || len == 0) {
		buf = scratch;
		len = sizeof(scratch);
	}
	if (ombx__cg_discover(&h, &err) < 0) {
		snprintf(buf, len, "%s", err.msg);
		return 0;
	}
	/* Ask for what a jail with every limit would need; settle for what exists. */
	if (ombx__cg_choose(&h, req, &version, &use, NULL) < 0)
		req = (ombx__cg_v1_avail(&h) | (h.v2_base ? h.v2_avail : 0)) & C_LIMITS;
	snprintf(name, sizeof(name), "omnibox-probe-%d", (int)getpid());
	if (build(&h, req, name, &cg, &err) < 0) {
		snprintf(buf, len, "no usable cgroup: %s", err.msg);
		return 0;
	}
	version = describe(&h, cg, C_LIMITS & ~req, buf, len);
	ombx_cgroup_destroy(cg);
	return version;
}
