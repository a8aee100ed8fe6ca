/* config.h - filling an ombx_config from untrusted words (flags, profiles).
 *
 * Owns validating every user-supplied value before it lands in a config, the
 * bounds on them, and the sentences that explain a rejected value. The CLI and
 * the profile loader both go through here so a bad value reads the same from
 * either. Messages quote the offending value (escaped, shortened) but never an
 * environment variable's value, which may be a secret. Never prints or exits.
 *
 * Ownership: an ombx_config owns workspace, binds[] (and each path), env[] and
 * env_pass[] (and each string); env and env_pass are also NULL-terminated.
 * argv is borrowed (typically main's argv) and is never freed here. */
#ifndef OMBX_CONFIG_H
#define OMBX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "omnibox.h"
#include "../common/quote.h"

#define OMBX_MAX_PIDS	 4194304 /* the kernel's PID_MAX_LIMIT */
#define OMBX_MIN_CPUS	 0.01	 /* 1ms of quota per 100ms period */
#define OMBX_MAX_CPUS	 1024
#define OMBX_MAX_ENV_LEN (128 * 1024 - 1) /* execve's MAX_ARG_STRLEN, less the NUL */

/* Pure parsers. Each returns 0 and sets *out, or leaves *out alone and returns
 * -EINVAL (not of the expected form, or zero) or -ERANGE (well formed but too
 * large / too small). No leading/trailing blanks, signs or exponents. */
int ombx_parse_cpus(const char *s, double *out);      /* "1", "1.5", ".25": 0.01..1024 */
int ombx_parse_timeout(const char *s, uint64_t *out); /* whole seconds, 1..OMBX_MAX_TIMEOUT_SEC */
int ombx_parse_pids(const char *s, uint64_t *out);    /* 1..OMBX_MAX_PIDS */
/* "none" | "host"; "proxy" gives -EOPNOTSUPP (not available yet). */
int ombx_parse_net(const char *s, enum ombx_net *out);
/* (ombx_parse_size is public, in omnibox.h: digits + optional K/M/G/T, then
 * optional "i", then optional "B", case-insensitive, binary units; no
 * fractions; zero is -EINVAL; past UINT64_MAX is -ERANGE.) */

/* Sets one scalar option by its profile key: "workspace", "net", "memory",
 * "pids", "cpus" or "timeout". label names the option in the message (e.g.
 * "--memory" from the CLI); NULL means the key itself. A later call replaces
 * an earlier value. Returns 0 or -errno with err filled, e.g.
 *   --memory: "12Q" is not a size (expected e.g. 512M, 2G)
 * An unknown key is a programming error: -EINVAL. */
int ombx_config_set(struct ombx_config *c, const char *key, const char *value, const char *label,
		    ombx_err *err);

/* Appends a bind. path must be absolute and shorter than PATH_MAX; at most
 * OMBX_MAX_BINDS binds in all. */
int ombx_config_add_bind(struct ombx_config *c, enum ombx_bind_kind k, const char *path,
			 ombx_err *err);

/* Adds "NAME=VALUE". NAME must satisfy ombx_env_name_valid; if NAME is already
 * set, the new value replaces it in place (later wins). At most OMBX_MAX_ENV
 * entries, each at most OMBX_MAX_ENV_LEN bytes. */
int ombx_config_add_env(struct ombx_config *c, const char *name_eq_value, ombx_err *err);

/* Adds a NAME to pass through from the caller's environment; duplicates are
 * dropped. At most OMBX_MAX_ENV names. */
int ombx_config_add_env_pass(struct ombx_config *c, const char *name, ombx_err *err);

/* [A-Za-z_][A-Za-z0-9_]*, the first len bytes of s. */
bool ombx_env_name_valid(const char *s, size_t len);


#endif
