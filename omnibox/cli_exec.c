/* cli_exec.c - `omnibox exec`: flags and profile into a config, run, report.
 *
 * Flags override the profile: the profile is loaded first, then every flag
 * is applied in order (lists append). Errors are reported once, here, with
 * what the user can do; the exit status is 125 for anything that stopped
 * the command from starting. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_exec_proxy.h"
#include "config.h"
#include "omnibox.h"
#include "status.h"

enum {
	OPT_WORKSPACE = 256,
	OPT_RO,
	OPT_RW,
	OPT_HIDE,
	OPT_NET,
	OPT_MEMORY,
	OPT_PIDS,
	OPT_CPUS,
	OPT_TIMEOUT,
	OPT_ENV,
	OPT_ENV_PASS,
	OPT_TTY,
	OPT_PROFILE,
	OPT_JSON_STATUS,
	OPT_HELP,
	OPT_PROXY, /* every option from here on is passed to the proxy */
	OPT_POLICY = OPT_PROXY,
	OPT_AUDIT,
	OPT_APPROVALS,
	OPT_CA,
	OPT_RESOLVE,
	OPT_UPSTREAM_CA,
	OPT_ALLOW_CIDR,
};

static const struct option options[] = {
	{"workspace", required_argument, NULL, OPT_WORKSPACE},
	{"ro", required_argument, NULL, OPT_RO},
	{"rw", required_argument, NULL, OPT_RW},
	{"hide", required_argument, NULL, OPT_HIDE},
	{"net", required_argument, NULL, OPT_NET},
	{"memory", required_argument, NULL, OPT_MEMORY},
	{"pids", required_argument, NULL, OPT_PIDS},
	{"cpus", required_argument, NULL, OPT_CPUS},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"env", required_argument, NULL, OPT_ENV},
	{"env-pass", required_argument, NULL, OPT_ENV_PASS},
	{"tty", no_argument, NULL, OPT_TTY},
	{"profile", required_argument, NULL, OPT_PROFILE},
	{"json-status", required_argument, NULL, OPT_JSON_STATUS},
	{"help", no_argument, NULL, OPT_HELP},
	{"policy", required_argument, NULL, OPT_POLICY},
	{"audit", required_argument, NULL, OPT_AUDIT},
	{"approvals", required_argument, NULL, OPT_APPROVALS},
	{"ca", required_argument, NULL, OPT_CA},
	{"resolve", required_argument, NULL, OPT_RESOLVE},
	{"upstream-ca", required_argument, NULL, OPT_UPSTREAM_CA},
	{"allow-cidr", required_argument, NULL, OPT_ALLOW_CIDR},
	{NULL, 0, NULL, 0},
};

static const char usage[] =
	"usage: omnibox exec [OPTIONS] [--] COMMAND [ARG...]\n"
	"  --workspace DIR     read-write at its own path (default: the current directory)\n"
	"  --ro PATH | --rw PATH | --hide PATH   extra binds, or a path made invisible\n"
	"  --net none|host|proxy  network: none (default, loopback only), the host's, or\n"
	"                      only through the egress proxy (the default with --policy)\n"
	"  --policy FILE...    the proxy's policies (up to 3: server, agent, session level)\n"
	"  --audit FILE  --approvals PATH  --ca DIR  --resolve H:P:A  --upstream-ca FILE\n"
	"  --allow-cidr CIDR   the proxy's options (see omnibox proxy --help)\n"
	"  --memory SIZE  --pids N  --cpus X  --timeout SECONDS\n"
	"  --env NAME=VALUE | --env-pass NAME    the environment is otherwise deny-by-default\n"
	"  --tty               give the command a pty owned by omnibox\n"
	"  --profile FILE      the same options in YAML; flags override it\n"
	"  --json-status FILE  write how the command ended and the layers applied\n";

static const char *scalar_key(int opt)
{
	switch (opt) {
	case OPT_WORKSPACE:
		return "workspace";
	case OPT_NET:
		return "net";
	case OPT_MEMORY:
		return "memory";
	case OPT_PIDS:
		return "pids";
	case OPT_CPUS:
		return "cpus";
	case OPT_TIMEOUT:
		return "timeout";
	default:
		return NULL;
	}
}

static int apply_flag(struct ombx_config *c, int opt, const char *arg, ombx_err *err)
{
	const char *key = scalar_key(opt);
	char label[32];

	if (key) {
		snprintf(label, sizeof(label), "--%s", key);
		return ombx_config_set(c, key, arg, label, err);
	}
	switch (opt) {
	case OPT_RO:
		return ombx_config_add_bind(c, OMBX_BIND_RO, arg, err);
	case OPT_RW:
		return ombx_config_add_bind(c, OMBX_BIND_RW, arg, err);
	case OPT_HIDE:
		return ombx_config_add_bind(c, OMBX_BIND_HIDE, arg, err);
	case OPT_ENV:
		return ombx_config_add_env(c, arg, err);
	case OPT_ENV_PASS:
		return ombx_config_add_env_pass(c, arg, err);
	case OPT_TTY:
		c->tty = true;
		return 0;
	default:
		return 0;
	}
}

int ombx_cli_exec(int argc, char **argv)
{
	struct ombx_config cfg;
	struct ombx_exec_proxy px = {.pid = -1};
	bool net_given = false;
	char session[40];
	struct ombx_result res;
	ombx_err err = {0}, perr = {0};
	const char *profile = NULL, *json_status = NULL;
	int opt, r, code = OMBX_EXIT_FAILURE;

	ombx_config_init(&cfg);
	/* First pass: the profile, so that flags can override it. */
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		if (opt == OPT_PROFILE)
			profile = optarg;
		else if (opt == OPT_JSON_STATUS)
			json_status = optarg;
		else if (opt == OPT_HELP) {
			fputs(usage, stdout);
			return 0;
		} else if (opt == '?') {
			if (optopt)
				ombx_cli_error("exec: option %s needs a value\n%s",
					       argv[optind - 1], usage);
			else
				ombx_cli_error("exec: unknown option %s\n%s", argv[optind - 1],
					       usage);
			return OMBX_EXIT_FAILURE;
		}
	}
	memset(&res, 0, sizeof(res));
	res.exit_code = OMBX_EXIT_FAILURE;
	if (profile && (r = ombx_profile_load(profile, &cfg, &err)) < 0) {
		ombx_cli_error("%s", err.msg);
		goto refused;
	}
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		if (opt >= OPT_PROXY) {
			const char *name = NULL;
			for (const struct option *o = options; o->name; o++)
				if (o->val == opt)
					name = o->name;
			r = ombx_exec_proxy_flag(&px, name, optarg, &err);
		} else {
			net_given |= opt == OPT_NET;
			r = apply_flag(&cfg, opt, optarg, &err);
		}
		if (r < 0) {
			ombx_cli_error("exec: %s", err.msg);
			goto refused;
		}
	}
	if (px.n_policy && !net_given)
		cfg.net = OMBX_NET_PROXY; /* a policy means: egress through the proxy */
	if ((px.n_policy || px.n_args) && cfg.net != OMBX_NET_PROXY) {
		ombx_err_set(&err, EINVAL,
			     "exec: --policy and the proxy's options need --net proxy");
		ombx_cli_error("%s", err.msg);
		goto refused;
	}
	if (optind >= argc) {
		ombx_err_set(&err, EINVAL, "exec: no command given");
		ombx_cli_error("%s\n%s", err.msg, usage);
		goto refused;
	}
	cfg.argv = argv + optind;
	if (cfg.net == OMBX_NET_HOST)
		ombx_cli_note("--net host: the jail shares the host's network (no egress control)");

	if (cfg.net == OMBX_NET_PROXY) {
		ombx_session_id(session);
		cfg.jail_id = session;
		if ((r = ombx_exec_proxy_start(&px, &cfg, session, &err)) < 0) {
			ombx_cli_error("exec: %s", err.msg);
			ombx_exec_proxy_stop(&px, &cfg, &perr);
			goto refused;
		}
	}
	r = ombx_run(&cfg, &res, &err);
	/* a proxy gone before the jail ran is the jail's own error, below */
	if (ombx_exec_proxy_stop(&px, &cfg, &perr) != 0 && r == 0)
		ombx_cli_error("exec: %s", perr.msg);
	if (r < 0) {
		ombx_cli_error("%s", err.msg);
		res.exit_code = OMBX_EXIT_FAILURE;
	} else if (err.code) {
		ombx_cli_error("%s", err.msg); /* not found / cannot execute */
	}
	if (r == 0 && res.oom)
		ombx_cli_note("the command was killed for exceeding --memory %llu bytes (OOM)",
			      (unsigned long long)res.layers.memory_max);
	if (r == 0 && res.timed_out)
		ombx_cli_note("--timeout %llus expired: the whole jail was killed",
			      (unsigned long long)cfg.timeout_sec);
	code = res.exit_code;
	if (json_status && ombx_status_write(json_status, &res, r < 0 ? &err : NULL, &err) < 0) {
		ombx_cli_error("--json-status: %s", err.msg);
		if (code == 0)
			code = OMBX_EXIT_FAILURE;
	}
out:
	cfg.argv = NULL;
	ombx_config_free(&cfg);
	return code;

refused: /* nothing ran; a --json-status reader still gets a status saying why */
	if (json_status && ombx_status_write(json_status, &res, &err, &err) < 0)
		ombx_cli_error("--json-status: %s", err.msg);
	goto out;
}
