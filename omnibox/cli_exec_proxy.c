/* cli_exec_proxy.c - `omnibox exec --net proxy`: the jail's proxy, started
 * before the jail and stopped after it.
 *
 * Before the jail: the policies are read (errors name file:line:col), a
 * placeholder is made for every secret that has one and put into the jail's
 * environment, the CA is loaded or created and a trust bundle (system roots
 * + our CA) written to a directory the jail gets read-only, with the
 * variables that point programs at it and at the explicit proxy. Then
 * omnibox-proxy starts (outside the jail, dying with us) and waits on a
 * SOCK_SEQPACKET socket for the listening sockets the jail makes inside its
 * own network namespace (net_proxy.c). The secrets' values are read only by
 * the proxy; the jail never sees them. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../policy/policy.h"
#include "../proxy/ca_dir.h"
#include "../proxy/placeholder.h"
#include "cli.h"
#include "cli_exec_proxy.h"
#include "config.h"

#define PROXY_STOP_GRACE_MS 5000

static const char *const ca_vars[] = {
	"SSL_CERT_FILE",     "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE",
	"CURL_CA_BUNDLE",    "GIT_SSL_CAINFO",      "PIP_CERT",
	"OMNIBOX_CA_BUNDLE", "NPM_CONFIG_CAFILE", /* a global npmrc's cafile wins otherwise */
};
static const char *const proxy_vars[] = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
					 "http_proxy", "https_proxy", "all_proxy"};

int ombx_exec_proxy_flag(struct ombx_exec_proxy *x, const char *flag, const char *arg,
			 ombx_err *err)
{
	if (strcmp(flag, "policy") == 0) {
		if (x->n_policy == POLICY_N_LEVELS)
			return ombx_err_set(err, EINVAL,
					    "at most %d --policy files (server, agent, "
					    "session)",
					    POLICY_N_LEVELS);
		x->policy[x->n_policy++] = arg;
		return 0;
	}
	if (x->n_args + 2 > EXEC_PROXY_ARGS_MAX)
		return ombx_err_set(err, E2BIG, "too many proxy options");
	if (strcmp(flag, "approvals") == 0)
		x->approvals = arg;
	x->args[x->n_args++] = flag;
	x->args[x->n_args++] = arg;
	return 0;
}

static int add_env(struct ombx_config *cfg, const char *name, const char *value, ombx_err *err)
{
	char buf[PATH_MAX + 64];

	snprintf(buf, sizeof(buf), "%s=%s", name, value);
	return ombx_config_add_env(cfg, buf, err);
}

/* Placeholders for every secret that has one, into the jail's environment
 * and the proxy's arguments. */
static int placeholders(struct ombx_exec_proxy *x, struct ombx_config *cfg, ombx_err *err)
{
	struct policy_engine *eng = NULL;
	struct policy_session *s = NULL;
	struct policy_placeholder ph[PROXY_SECRETS_MAX + 1];
	int n, r;

	if ((r = policy_engine_new(&eng)) < 0)
		return ombx_err_set(err, -r, "out of memory");
	for (size_t i = 0; i < x->n_policy; i++)
		if ((r = policy_engine_reload(eng, (enum policy_level)i, x->policy[i], err)) < 0)
			goto out;
	if ((r = policy_session_new(eng, &s)) < 0) {
		ombx_err_set(err, -r, "cannot start a policy session");
		goto out;
	}
	n = policy_session_placeholders(s, ph, PROXY_SECRETS_MAX + 1);
	if (n > PROXY_SECRETS_MAX) {
		r = ombx_err_set(err, E2BIG,
				 "the policies define more than %d secrets with a "
				 "placeholder",
				 PROXY_SECRETS_MAX);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		char v[PROXY_PLACEHOLDER_LEN + 1];
		if ((r = proxy_placeholder_make(v, sizeof(v))) < 0) {
			ombx_err_errno(err, -r, "making a placeholder");
			goto out;
		}
		if ((r = add_env(cfg, ph[i].env, v, err)) < 0)
			goto out;
		snprintf(x->ph_arg[x->n_ph], sizeof(x->ph_arg[0]), "%s=%s", ph[i].name, v);
		x->n_ph++;
	}
	r = 0;
out:
	policy_session_free(s);
	policy_engine_free(eng);
	return r;
}

static bool newer_or_same(const struct stat *a, const char *path)
{
	struct stat b;

	return stat(path, &b) == 0 &&
	       (a->st_mtim.tv_sec > b.st_mtim.tv_sec ||
		(a->st_mtim.tv_sec == b.st_mtim.tv_sec && a->st_mtim.tv_nsec >= b.st_mtim.tv_nsec));
}

/* `omnibox ca jail-bundle --ca DIR`, run as omnibox-tools: OpenSSL is
 * linked there, not here (cli_tools.c). It reports its own errors. */
static int make_bundle(const char *dir, ombx_err *err)
{
	char path[PATH_MAX];
	const char *argv[] = {"omnibox-tools", "ca", "jail-bundle", "--ca", dir, NULL};
	int r = ombx_cli_sibling("omnibox-tools", path, sizeof(path)), status;
	pid_t pid;

	if (r < 0)
		return ombx_err_errno(err, -r, "finding omnibox-tools next to omnibox");
	pid = fork();
	if (pid < 0)
		return ombx_err_errno(err, errno, "fork of omnibox-tools");
	if (pid == 0) {
		execv(path, (char *const *)argv);
		fprintf(stderr, "omnibox: error: cannot run %s: %m\n", path);
		_exit(OMBX_EXIT_FAILURE);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return ombx_err_errno(err, errno, "waiting for omnibox-tools");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return ombx_err_set(err, EIO, "could not make the jail's trust bundle in %s/jail-bundle",
				    dir);
	return 0;
}

/* The jail's trust bundle (system roots + our CA), kept in DIR/jail-bundle/
 * (0755; the CA directory itself stays 0700 and is never bound) and made
 * again only when the CA or the system roots are newer: loading the CA and
 * copying 200 KiB of roots on every exec cost ~10 ms. That directory alone
 * is bound read-only into the jail. */
static int bundle(struct ombx_exec_proxy *x, struct ombx_config *cfg, ombx_err *err)
{
	char dirbuf[PATH_MAX], ca_pem[PATH_MAX + 16], path[PATH_MAX + 32];
	const char *dir = NULL;
	struct stat st;
	int r;

	for (size_t i = 0; i + 1 < x->n_args; i += 2)
		if (strcmp(x->args[i], "ca") == 0)
			dir = x->args[i + 1];
	if (!dir) {
		if ((r = proxy_ca_default_dir(dirbuf, sizeof(dirbuf), err)) < 0)
			return r;
		dir = dirbuf;
	}
	snprintf(ca_pem, sizeof(ca_pem), "%s/ca.pem", dir);
	snprintf(x->bundle_dir, sizeof(x->bundle_dir), "%s/jail-bundle", dir);
	snprintf(path, sizeof(path), "%s/ca-bundle.pem", x->bundle_dir);
	if ((stat(path, &st) != 0 || !newer_or_same(&st, ca_pem) ||
	     (access(PROXY_CA_SYSTEM_ROOTS, F_OK) == 0 &&
	      !newer_or_same(&st, PROXY_CA_SYSTEM_ROOTS))) &&
	    (r = make_bundle(dir, err)) < 0)
		return r;
	if ((r = ombx_config_add_bind(cfg, OMBX_BIND_RO, x->bundle_dir, err)) < 0)
		return r;
	for (size_t i = 0; i < sizeof(ca_vars) / sizeof(ca_vars[0]); i++)
		if ((r = add_env(cfg, ca_vars[i], path, err)) < 0)
			return r;
	return 0;
}

static void spawn_proxy(struct ombx_exec_proxy *x, int sock, const char *session)
{
	const char *argv[EXEC_PROXY_ARGS_MAX * 2 + 3 * PROXY_SECRETS_MAX + 32];
	char path[PATH_MAX], fdtext[16];
	size_t a = 0;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (ombx_cli_sibling("omnibox-proxy", path, sizeof(path)) < 0)
		_exit(125);
	/* fd 3 for the proxy, without close-on-exec (dup2 onto itself would
	 * keep the flag) */
	if ((sock == 3 ? fcntl(3, F_SETFD, 0) : dup2(sock, 3)) < 0)
		_exit(125);
	argv[a++] = path;
	argv[a++] = "--jail-socket";
	snprintf(fdtext, sizeof(fdtext), "%d", 3);
	argv[a++] = fdtext;
	argv[a++] = "--session";
	argv[a++] = session;
	for (size_t i = 0; i < x->n_policy; i++) {
		argv[a++] = "--policy";
		argv[a++] = x->policy[i];
	}
	for (size_t i = 0; i + 1 < x->n_args; i += 2) {
		static char flags[EXEC_PROXY_ARGS_MAX][32];
		snprintf(flags[i / 2], sizeof(flags[0]), "--%s", x->args[i]);
		argv[a++] = flags[i / 2];
		argv[a++] = x->args[i + 1];
	}
	for (size_t i = 0; i < x->n_ph; i++) {
		argv[a++] = "--placeholder";
		argv[a++] = x->ph_arg[i];
	}
	if (!x->approvals)
		argv[a++] = "--ask-tty";
	argv[a] = NULL;
	execv(path, (char *const *)argv);
	fprintf(stderr, "omnibox: error: cannot run %s: %m\n", path);
	_exit(125);
}

int ombx_exec_proxy_start(struct ombx_exec_proxy *x, struct ombx_config *cfg, const char *session,
			  ombx_err *err)
{
	int sp[2], r;
	char url[64];

	x->pid = -1;
	if (x->n_policy == 0)
		return ombx_err_set(err, EINVAL, "--net proxy needs at least one --policy FILE");
	if ((r = placeholders(x, cfg, err)) < 0 || (r = bundle(x, cfg, err)) < 0)
		return r;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", OMBX_PROXY_PORT);
	for (size_t i = 0; i < sizeof(proxy_vars) / sizeof(proxy_vars[0]); i++)
		if ((r = add_env(cfg, proxy_vars[i], url, err)) < 0)
			return r;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return ombx_err_errno(err, errno, "socketpair for the proxy");
	x->pid = fork();
	if (x->pid < 0) {
		close(sp[0]);
		close(sp[1]);
		return ombx_err_errno(err, errno, "fork of the proxy");
	}
	if (x->pid == 0) {
		close(sp[0]);
		spawn_proxy(x, sp[1], session);
	}
	close(sp[1]);
	cfg->proxy_sock = sp[0];
	return 0;
}

/* SIGTERM, then up to PROXY_STOP_GRACE_MS for the proxy to finish its
 * connections and its log; a proxy still there is killed (omnibox exec
 * ends when its command does, whatever the proxy does). False if it had
 * to be killed. Without a pidfd (out of descriptors) it waits as long as
 * the proxy takes. */
static bool stopped_in_time(pid_t pid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), r = 1;
	struct pollfd pfd = {.fd = pidfd, .events = POLLIN};

	kill(pid, SIGTERM);
	if (pidfd >= 0) {
		while ((r = poll(&pfd, 1, PROXY_STOP_GRACE_MS)) < 0 && errno == EINTR)
			;
		close(pidfd);
	}
	if (r == 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return r != 0;
}

int ombx_exec_proxy_stop(struct ombx_exec_proxy *x, struct ombx_config *cfg, ombx_err *err)
{
	int status = 0, died = 0;
	pid_t r;

	if (cfg->proxy_sock >= 0)
		close(cfg->proxy_sock);
	cfg->proxy_sock = -1;
	if (x->pid <= 0)
		return 0;
	while ((r = waitpid(x->pid, &status, WNOHANG)) < 0 && errno == EINTR)
		;
	if (r == x->pid) { /* gone before we asked it to go */
		died = status ? status : -1;
		if (WIFSIGNALED(status))
			ombx_err_set(err, EPIPE,
				     "the egress proxy (omnibox-proxy) was killed by signal %d while "
				     "the command ran: from then on the jail's connections went "
				     "nowhere (failed closed)",
				     WTERMSIG(status));
		else
			ombx_err_set(err, EPIPE,
				     "the egress proxy (omnibox-proxy) exited with status %d while "
				     "the command ran: from then on the jail's connections went "
				     "nowhere (failed closed); its messages are above",
				     WEXITSTATUS(status));
	} else if (!stopped_in_time(x->pid)) {
		died = -1;
		ombx_err_set(err, ETIMEDOUT,
			     "the egress proxy (omnibox-proxy) did not stop within %d s of SIGTERM "
			     "and was killed: the audit log may lack its last records",
			     PROXY_STOP_GRACE_MS / 1000);
	}
	x->pid = -1;
	return died;
}
