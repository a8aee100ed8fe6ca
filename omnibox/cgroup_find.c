/* cgroup_find.c - where omnibox's cgroup is, and which version serves a jail.
 *
 * Reads /proc/self/cgroup (where we are in each hierarchy) and
 * /proc/self/mountinfo (where each hierarchy is mounted), and takes a
 * hierarchy's directory only when it is reachable and of the right kind.
 * Only reads: never creates or writes anything. */
#include "cgroup_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#include <linux/magic.h>

#include "../common/cleanup.h"

#define LINE_MAX_LEN 16384 /* longer mountinfo lines are skipped */

const char *const ombx__cg_ctrl_names[N_CTRLS] = { "memory", "pids", "cpu", "freezer" };

void ombx__cg_host_free(struct host *h)
{
	free(h->v2_base);
	free(h->v2_rel);
	for (int i = 0; i < N_CTRLS; i++) {
		free(h->v1_base[i]);
		free(h->v1_rel[i]);
	}
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

unsigned ombx__cg_parse_ctrls(const char *list, const char *seps)
{
	unsigned m = 0;
	for (int i = 0; i < N_CTRLS; i++)
		if (has_word(list, ombx__cg_ctrl_names[i], seps))
			m |= 1u << i;
	return m;
}

void ombx__cg_mask_names(unsigned m, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (int i = 0; i < N_CTRLS; i++)
		if ((m & (1u << i)) && o < len)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "," : "",
					      ombx__cg_ctrl_names[i]);
}

/* "12:cpu,cpuacct:/a/b" for v1, "0::/a/b" for v2. */
static int parse_proc_cgroup(struct host *h)
{
	_cleanup_free_ char *buf = NULL;
	char *save = NULL;
	int r = ombx__cg_read_all("/proc/self/cgroup", &buf);

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
		unsigned m = ombx__cg_parse_ctrls(c1 + 1, ",");
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
		if (!h->v1_rel[i] || h->v1_base[i] || !has_word(sopts, ombx__cg_ctrl_names[i], ","))
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

int ombx__cg_discover(struct host *h, ombx_err *err)
{
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = parse_proc_cgroup(h)) < 0)
		return ombx_err_errno(err, -r, "reading /proc/self/cgroup");
	if ((r = parse_mountinfo(h)) < 0)
		return ombx_err_errno(err, -r, "reading /proc/self/mountinfo");
	if (h->v2_base) {
		_cleanup_free_ char *p = ombx__cg_path_join(h->v2_base, "cgroup.controllers");
		_cleanup_free_ char *c = NULL;
		if (p && ombx__cg_read_all(p, &c) == 0)
			h->v2_avail = ombx__cg_parse_ctrls(c, " \n");
	}
	return 0;
}

unsigned ombx__cg_v1_avail(const struct host *h)
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
int ombx__cg_choose(const struct host *h, unsigned req, int *version, unsigned *use, ombx_err *err)
{
	unsigned a1 = ombx__cg_v1_avail(h), a2 = h->v2_base ? h->v2_avail & C_LIMITS : 0;
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
		ombx__cg_mask_names(req | C_PIDS, names, sizeof(names));
		ombx__cg_mask_names(a1, n1, sizeof(n1));
		ombx__cg_mask_names(a2, n2, sizeof(n2));
		return ombx_err_set(err, EOPNOTSUPP,
				    "cgroup controllers %s are not all available in one cgroup version "
				    "here (v1 has: %s; v2 has: %s)", names, n1[0] ? n1 : "none",
				    n2[0] ? n2 : "none");
	}
	ombx__cg_mask_names(missing, names, sizeof(names));
	snprintf(where, sizeof(where), "%s", h->v2_base ? h->v2_base : "any cgroup hierarchy");
	return ombx_err_set(err, EOPNOTSUPP,
			    "cgroup controller(s) %s not available to omnibox's cgroup (%s%s), "
			    "so the requested limit cannot be enforced; " DELEGATE_HINT,
			    names, where, h->v2_base ? "/cgroup.controllers" : "");
}
