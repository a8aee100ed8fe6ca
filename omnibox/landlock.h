/* landlock.h - Landlock as the jail's second wall over the mount layout.
 *
 * Read/execute everywhere in the (already minimal) jail root, write only in
 * the paths the caller lists; abstract-socket and signal scoping where the
 * ABI has them. Best effort by ABI: the ABI in use is reported, and an ABI
 * below 1 (no Landlock) makes ombx_landlock_build fail so the jail refuses
 * to run. Built and enforced in two steps, so that the rules can be made
 * while the rest of the jail is still being set up. */
#ifndef OMBX_LANDLOCK_H
#define OMBX_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>

/* The kernel's Landlock ABI, or a negative errno if Landlock is unavailable. */
int ombx_landlock_abi(void);

struct ombx_landlock_spec {
	int abi;                 /* from ombx_landlock_abi() */
	const char *const *rw;   /* paths (inside the jail) writable */
	size_t n_rw;
	const char *const *dev;  /* device nodes, or directories of them, that may be
	                          * read and written (not created in) */
	size_t n_dev;
	/* ABI >= 4: TCP connect only to these ports (the proxy's listeners);
	 * n_connect_ports == 0: TCP connect is not restricted */
	const unsigned short *connect_ports;
	size_t n_connect_ports;
};

/* The ruleset: the rules are bound to what the paths name now (paths that
 * do not exist are skipped). Returns its descriptor (close-on-exec) or
 * -errno with *what naming the failed step. No allocation: safe in the
 * child after clone. */
int ombx_landlock_build(const struct ombx_landlock_spec *s, const char **what);

/* Restricts the calling thread by the ruleset (no_new_privs first) and
 * closes it. 0 or -errno with *what naming the failed step. */
int ombx_landlock_enforce(int ruleset, const char **what);

#endif
