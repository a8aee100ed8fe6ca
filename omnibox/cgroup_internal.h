/* cgroup_internal.h - what cgroup.c, cgroup_find.c and cgroup_kill.c share.
 *
 * Not part of libomnibox's interface: only the three cgroup files include it.
 * cgroup_find.c owns discovery (where our cgroup is in each hierarchy, and
 * which version serves a jail); cgroup_kill.c owns emptying and removing a
 * jail's cgroup; cgroup.c owns the rest and the small file helpers below. */
#ifndef OMBX_CGROUP_INTERNAL_H
#define OMBX_CGROUP_INTERNAL_H

#include <stddef.h>

#include "cgroup.h"

enum { C_MEMORY = 1u << 0, C_PIDS = 1u << 1, C_CPU = 1u << 2, C_FREEZER = 1u << 3 };
#define N_CTRLS 4
#define C_LIMITS (C_MEMORY | C_PIDS | C_CPU)
extern const char *const ombx__cg_ctrl_names[N_CTRLS]; /* indexed by bit number */

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

/* ---- cgroup.c: file helpers ---- */

/* dir/name, malloc'd; NULL on ENOMEM. */
char *ombx__cg_path_join(const char *dir, const char *name);
/* Reads a whole (small) file; -EFBIG past its bound rather than truncating. */
int ombx__cg_read_all(const char *path, char **out);
/* Writes val to dir/file in one write(2), as cgroupfs expects. */
int ombx__cg_write_at(const char *dir, const char *file, const char *val, ombx_err *err);

/* ---- cgroup_find.c: discovery ---- */

/* Controllers named in a comma- or space-separated list, as a C_* mask. */
unsigned ombx__cg_parse_ctrls(const char *list, const char *seps);
/* "memory,pids" for a mask, into buf. */
void ombx__cg_mask_names(unsigned m, char *buf, size_t len);
/* Fills h from /proc/self/cgroup and /proc/self/mountinfo; free it with
 * ombx__cg_host_free (also after a failure). */
int ombx__cg_discover(struct host *h, ombx_err *err);
void ombx__cg_host_free(struct host *h);
/* Controllers with a v1 hierarchy our cgroup is visible in. */
unsigned ombx__cg_v1_avail(const struct host *h);
/* The version serving the requested controllers, and what to set up there;
 * err says what is missing and what to do when none can. */
int ombx__cg_choose(const struct host *h, unsigned req, int *version, unsigned *use,
		    ombx_err *err);

#endif
