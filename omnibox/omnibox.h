/* omnibox.h - the Omnibox jail: run one command with every isolation layer.
 *
 * Public contract of libomnibox, used by the `omnibox` CLI and later by the
 * supervisor. A caller fills an ombx_config (directly, from flags, or from a
 * YAML profile), calls ombx_run(), and gets an ombx_result describing how the
 * command ended and which layers were applied. Every layer is applied or
 * ombx_run() fails before the command starts: nothing here downgrades silently.
 *
 * The library never prints and never exits; errors come back in an ombx_err. */
#ifndef OMBX_OMNIBOX_H
#define OMBX_OMNIBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

/* Exit statuses of `omnibox exec` besides the command's own. */
enum {
	OMBX_EXIT_FAILURE = 125,   /* omnibox itself failed; nothing ran */
	OMBX_EXIT_CANNOT_EXEC = 126,
	OMBX_EXIT_NOT_FOUND = 127,
	OMBX_EXIT_SIGNAL_BASE = 128, /* + signal number */
};

enum ombx_bind_kind { OMBX_BIND_RO, OMBX_BIND_RW, OMBX_BIND_HIDE };

struct ombx_bind {
	enum ombx_bind_kind kind;
	char *path; /* absolute, as given; resolved by ombx_run */
};

/* NONE: loopback only. HOST: the host's network (an explicit opt-out).
 * PROXY: loopback only, plus the proxy's listening sockets made inside the
 * jail's namespace and sent over proxy_sock (see net_proxy.c). */
enum ombx_net { OMBX_NET_NONE, OMBX_NET_HOST, OMBX_NET_PROXY };
#define OMBX_PROXY_PORT 3128 /* the explicit proxy inside a --net proxy jail */

/* Limits of bounded user input (STYLE: bounded everything). */
#define OMBX_MAX_BINDS 256
#define OMBX_MAX_ENV 1024
#define OMBX_MAX_TIMEOUT_SEC (7 * 24 * 3600)

struct ombx_config {
	char *workspace;            /* NULL: the current directory */
	struct ombx_bind *binds;    /* extra --ro/--rw/--hide, in order */
	size_t n_binds;
	enum ombx_net net;
	uint64_t memory_bytes;      /* 0: no memory limit */
	uint64_t pids;              /* 0: the default (OMBX_DEFAULT_PIDS) */
	double cpus;                /* 0: no cpu limit */
	uint64_t timeout_sec;       /* 0: no timeout */
	char **env;                 /* NAME=VALUE set inside */
	size_t n_env;
	char **env_pass;            /* NAMES copied from the caller's environment */
	size_t n_env_pass;
	bool tty;                   /* relay a pty owned by omnibox */
	int proxy_sock;             /* NET_PROXY: a SOCK_SEQPACKET socket to the proxy
	                             * (the caller's; the jail gets a copy); -1 otherwise */
	char **argv;                /* the command; argv[0] looked up in the jail's PATH */
	const char *jail_id;        /* NULL: ombx_run makes one */
};

#define OMBX_DEFAULT_PIDS 4096

/* Which layers a run applied; reported in --json-status and by doctor. */
struct ombx_layers {
	unsigned namespaces;        /* CLONE_NEW* flags in force */
	int landlock_abi;           /* ABI used (>= 1), never 0 on success */
	bool landlock_net;          /* TCP connect/bind restricted (ABI >= 4) */
	bool landlock_scoped;       /* abstract-socket + signal scoping (ABI >= 6) */
	const char *seccomp_mode;   /* "filter" */
	int cgroup_version;         /* 1 or 2; 0 when no cgroup could be made */
	uint64_t memory_max;        /* the limits actually written, 0 = none */
	uint64_t pids_max;
	double cpus;
	unsigned jail_uid, jail_gid; /* ids inside the jail */
	unsigned host_uid, host_gid; /* the host ids they map to */
};

struct ombx_result {
	int exit_code;              /* what `omnibox exec` exits with */
	int signal;                 /* signal that killed the command, 0 if none */
	bool oom;                   /* the cgroup's OOM killer fired */
	bool timed_out;             /* --timeout expired and the jail was killed */
	double duration_sec;
	struct ombx_layers layers;
	char jail_id[40];           /* jail_ + time-sortable unique id */
};

/* A fresh jail id ("jail_" + time-sortable hex + random), for callers that
 * need it before ombx_run (e.g. to name a proxy's session). */
int ombx_session_id(char out[40]);

void ombx_config_init(struct ombx_config *c);
void ombx_config_free(struct ombx_config *c); /* accepts a half-built config */

/* Runs cfg->argv in a new jail and waits for it. Returns 0 when the command
 * ran (whatever its exit status; see res->exit_code), or a negative errno when
 * omnibox could not start it, with err saying why. Not-found / cannot-execute
 * are reported as a successful run with exit_code 127 / 126 and err filled. */
int ombx_run(const struct ombx_config *cfg, struct ombx_result *res, ombx_err *err);

/* Parses "512M", "2G", "1048576", "64KiB" into bytes (binary units). */
int ombx_parse_size(const char *s, uint64_t *out);

/* Loads a YAML profile into cfg (which must be initialised). Keys mirror the
 * long options: workspace, ro, rw, hide, net, memory, pids, cpus, timeout,
 * env (map), env_pass (list), tty. Errors name file:line:column. */
int ombx_profile_load(const char *path, struct ombx_config *cfg, ombx_err *err);

#endif
