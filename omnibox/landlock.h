/* landlock.h - Landlock as the jail's second wall over the mount layout.
 *
 * Read/execute everywhere in the (already minimal) jail root, write only in
 * the paths the caller lists; abstract-socket and signal scoping where the
 * ABI has them. Best effort by ABI: the ABI in use is reported, and an ABI
 * below 1 (no Landlock) makes ombx_landlock_apply fail so the jail refuses
 * to run. */
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

/* Restricts the calling thread. Async-signal-safe enough for the child after
 * clone: no allocation. Returns 0 or -errno (with *what naming the failed
 * step). Paths that do not exist are skipped. */
int ombx_landlock_apply(const struct ombx_landlock_spec *s, const char **what);

#endif
