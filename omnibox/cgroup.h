/* cgroup.h - one cgroup per jail, beneath the cgroup omnibox runs in.
 *
 * Owns creating, limiting, joining, OOM accounting, killing and removing a
 * jail's cgroup. Uses cgroup v2 where the memory/pids/cpu controllers are
 * delegated to our cgroup, else cgroup v1 (one directory per controller
 * hierarchy). Never creates anything at a hierarchy root on behalf of a
 * cgroup that is not ours, and never touches a cgroup it did not create. */
#ifndef OMBX_CGROUP_H
#define OMBX_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/err.h"

struct ombx_cgroup_limits {
	uint64_t memory_max; /* bytes, 0 = none; swap is limited to the same total */
	uint64_t pids_max;   /* 0 = none */
	double cpus;         /* CPUs worth of quota, 0 = none */
};

struct ombx_cgroup;

/* Creates the jail's cgroup "omnibox-<jail_id>" beneath our own cgroup in
 * every hierarchy that has a needed controller, and writes the limits.
 * Fails (with err naming the path and what to do) if a requested limit cannot
 * be enforced. *out is NULL on failure. */
int ombx_cgroup_create(const char *jail_id, const struct ombx_cgroup_limits *lim,
		       struct ombx_cgroup **out, ombx_err *err);

/* Moves pid into the cgroup (every hierarchy). */
int ombx_cgroup_attach(struct ombx_cgroup *cg, pid_t pid, ombx_err *err);

int ombx_cgroup_version(const struct ombx_cgroup *cg); /* 1 or 2 */

/* True if the kernel OOM-killed a process of this cgroup. */
bool ombx_cgroup_oom(const struct ombx_cgroup *cg);

/* Kills every process left in the cgroup, waits for it to empty and removes
 * it. Accepts NULL. */
void ombx_cgroup_destroy(struct ombx_cgroup *cg);

/* For doctor: describe what this host offers ("v2 with memory,pids,cpu
 * delegated", "v1 memory,pids,cpu", ...) into buf; returns the version a jail
 * would get (1, 2) or 0 when no cgroup can be created here. */
int ombx_cgroup_probe(char *buf, size_t len);

#endif
