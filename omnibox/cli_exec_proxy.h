/* cli_exec_proxy.h - the proxy `omnibox exec --net proxy` runs for its jail. */
#ifndef OMBX_CLI_EXEC_PROXY_H
#define OMBX_CLI_EXEC_PROXY_H

#include <limits.h>
#include <sys/types.h>

#include "../policy/policy.h"
#include "../proxy/placeholder.h"
#include "omnibox.h"

#define EXEC_PROXY_ARGS_MAX 512 /* flag/value pairs passed on to omnibox-proxy */

struct ombx_exec_proxy {
	const char *policy[POLICY_N_LEVELS];
	size_t n_policy;
	const char *args[EXEC_PROXY_ARGS_MAX]; /* "flag", "value" pairs, flag without -- */
	size_t n_args;
	const char *approvals;
	char ph_arg[PROXY_SECRETS_MAX][POLICY_NAME_MAX + PROXY_PLACEHOLDER_LEN + 2];
	size_t n_ph;
	char bundle_dir[PATH_MAX + 16];
	pid_t pid;
};

/* A proxy flag of exec (policy, audit, approvals, ca, resolve, upstream-ca,
 * allow-cidr): 0, or an error in err. */
int ombx_exec_proxy_flag(struct ombx_exec_proxy *x, const char *flag, const char *arg,
			 ombx_err *err);
/* Placeholders, the CA bundle and the proxy variables into cfg; starts
 * omnibox-proxy; sets cfg->proxy_sock. */
int ombx_exec_proxy_start(struct ombx_exec_proxy *x, struct ombx_config *cfg, const char *session,
			  ombx_err *err);
/* Stops the proxy (SIGTERM; killed if still there 5 s later); safe after a
 * failed start. Returns 0; or, with why in err, the proxy's wait status
 * when it had already exited (it died while the jail ran), -1 when it had
 * to be killed. */
int ombx_exec_proxy_stop(struct ombx_exec_proxy *x, struct ombx_config *cfg, ombx_err *err);

#endif
