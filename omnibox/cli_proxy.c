/* cli_proxy.c - `omnibox proxy`: the egress proxy on its own.
 *
 * Built as its own program, omnibox-proxy (the static `omnibox` executes it
 * for `omnibox proxy`), because it links libh2o for picohttpparser and
 * Debian ships libh2o only as a shared library.
 *
 * A thin shell over proxy/proxy.h: parse flags, load policies into an
 * engine (first --policy at the server level, then agent, then session),
 * open the CA and the audit log, make the listeners, serve until SIGINT or
 * SIGTERM. Asks go to the control socket (--approvals) or are denied. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/quote.h"
#include "../proxy/proxy.h"
#include "cli.h"
#include "cli_ask.h"
#include "jail_routes.h"
#include "omnibox.h"

#define EXIT_USAGE 2

static const char usage[] =
	"usage: omnibox proxy --listen ADDR:PORT --policy FILE... [--audit FILE] [--ca DIR]\n"
	"                     [--resolve HOST:PORT:ADDR]... [--upstream-ca FILE]\n"
	"                     [--allow-cidr CIDR]... [--approvals PATH] [--ask-timeout SECONDS]\n"
	"                     [--max-conns N] [--workers N] [--session ID] [--placeholders FILE]\n"
	"                     [--ready FILE]\n"
	"                     [--placeholder SECRET=VALUE]... [--jail-socket FD] [--ask-tty]\n"
	"  --listen A:P      where clients connect (repeatable; port 0: any free port)\n"
	"  --policy FILE     up to three: the first at the server level, then agent, session\n"
	"  --audit FILE      default: $XDG_STATE_HOME/omnigent/audit.jsonl\n"
	"  --ca DIR          the interception CA (created if missing); default: omnibox ca path\n"
	"  --resolve H:P:A   connections to H:P dial A (like curl's)\n"
	"  --upstream-ca F   also trust F's certificates for origins\n"
	"  --allow-cidr C    let C through the special-purpose address guard (e.g. loopback)\n"
	"  --workers N       event-loop threads serving connections (default: one per CPU)\n"
	"  --approvals PATH  a control socket for asks (list / approve ID [once|session] /\n"
	"                    deny ID); without it every ask is denied\n"
	"  --placeholders F  write NAME=PLACEHOLDER lines for the clients' environment (0600)\n"
	"  --ready FILE      write the listening addresses once listening\n"
	"  (for omnibox exec: --placeholder fixes a secret's placeholder, --jail-socket\n"
	"   receives the jail's listening sockets, --ask-tty asks on the terminal)\n";

struct opts {
	const char *listen[PROXY_LISTEN_MAX];
	size_t n_listen;
	const char *policy[POLICY_N_LEVELS];
	size_t n_policy;
	const char *audit, *ca, *approvals, *placeholders, *ready, *session;
	int jail_socket; /* -1: none */
	bool jail_socket_given;
	bool ask_tty;
	struct proxy_opts po;
};

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return (*s < '0' || *s > '9' || *end || errno || *out > max) ? -EINVAL : 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"policy", required_argument, NULL, 'p'},
		{"audit", required_argument, NULL, 'a'},
		{"ca", required_argument, NULL, 'c'},
		{"resolve", required_argument, NULL, 'r'},
		{"upstream-ca", required_argument, NULL, 'u'},
		{"allow-cidr", required_argument, NULL, 'C'},
		{"approvals", required_argument, NULL, 'A'},
		{"ask-timeout", required_argument, NULL, 't'},
		{"max-conns", required_argument, NULL, 'm'},
		{"workers", required_argument, NULL, 'w'},
		{"session", required_argument, NULL, 's'},
		{"placeholders", required_argument, NULL, 'P'},
		{"ready", required_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},
		{"placeholder", required_argument, NULL, 'H'},
		{"jail-socket", required_argument, NULL, 'J'},
		{"ask-tty", no_argument, NULL, 'T'},
		{NULL, 0, NULL, 0},
	};
	ombx_err err = {0};
	unsigned long v;
	int ch;

	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			if (o->n_listen == PROXY_LISTEN_MAX)
				goto toomany;
			o->listen[o->n_listen++] = optarg;
			break;
		case 'p':
			if (o->n_policy == POLICY_N_LEVELS) {
				ombx_cli_error(
					"proxy: at most %d --policy files (server, agent, session)",
					POLICY_N_LEVELS);
				return -EINVAL;
			}
			o->policy[o->n_policy++] = optarg;
			break;
		case 'a':
			o->audit = optarg;
			break;
		case 'c':
			o->ca = optarg;
			break;
		case 'u':
			o->po.upstream_ca = optarg;
			break;
		case 'A':
			o->approvals = optarg;
			break;
		case 's':
			o->session = optarg;
			break;
		case 'P':
			o->placeholders = optarg;
			break;
		case 'R':
			o->ready = optarg;
			break;
		case 'r':
			if (o->po.n_pins == PROXY_RESOLVE_MAX)
				goto toomany;
			if (proxy_pin_parse(optarg, &o->po.pins[o->po.n_pins++], &err) < 0) {
				ombx_cli_error("proxy: %s", err.msg);
				return -EINVAL;
			}
			break;
		case 'C':
			if (o->po.n_allow_cidrs == PROXY_CIDR_MAX)
				goto toomany;
			if (policy_cidr_parse(optarg, &o->po.allow_cidrs[o->po.n_allow_cidrs++],
					      &err) < 0) {
				char q[OMBX_QUOTE_MAX];
				ombx_quote(q, sizeof(q), optarg, strlen(optarg));
				ombx_cli_error("proxy: --allow-cidr %s: %s", q, err.msg);
				return -EINVAL;
			}
			break;
		case 't':
			if (parse_uint(optarg, 86400, &v) < 0 || v == 0) {
				ombx_cli_error("proxy: --ask-timeout wants 1 to 86400 seconds");
				return -EINVAL;
			}
			o->po.ask_timeout_ms = (int)v * 1000;
			break;
		case 'm':
			if (parse_uint(optarg, 100000, &v) < 0 || v == 0) {
				ombx_cli_error("proxy: --max-conns wants 1 to 100000");
				return -EINVAL;
			}
			o->po.max_conns = (unsigned)v;
			break;
		case 'w':
			if (parse_uint(optarg, 16, &v) < 0 || v == 0) {
				ombx_cli_error("proxy: --workers wants 1 to 16");
				return -EINVAL;
			}
			o->po.workers = (unsigned)v;
			break;
		case 'H': {
			char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg || o->po.n_given_ph == PROXY_SECRETS_MAX) {
				ombx_cli_error("proxy: --placeholder wants SECRET=VALUE");
				return -EINVAL;
			}
			*eq = '\0';
			o->po.given_ph_secret[o->po.n_given_ph] = optarg;
			o->po.given_ph_value[o->po.n_given_ph++] = eq + 1;
			break;
		}
		case 'J':
			if (parse_uint(optarg, 1u << 20, &v) < 0 || v < 3) {
				ombx_cli_error("proxy: --jail-socket wants a descriptor number");
				return -EINVAL;
			}
			o->jail_socket = (int)v;
			o->jail_socket_given = true;
			break;
		case 'T':
			o->ask_tty = true;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		default:
			fputs(usage, stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		ombx_cli_error("proxy: unexpected argument '%s'\n%s", argv[optind], usage);
		return -EINVAL;
	}
	if ((o->n_listen == 0 && o->jail_socket < 0) || o->n_policy == 0) {
		ombx_cli_error("proxy: --listen (or --jail-socket) and --policy are required\n%s",
			       usage);
		return -EINVAL;
	}
	return 0;
toomany:
	ombx_cli_error("proxy: too many of one option (see --help for the limits)");
	return -EINVAL;
}

/* "a.b.c.d:port" or "[v6]:port" -> a listening socket. */
static int make_listener(const char *spec, ombx_err *err)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	char host[64], q[OMBX_QUOTE_MAX];
	const char *colon = strrchr(spec, ':');
	unsigned long port;
	int fd;

	ombx_quote(q, sizeof(q), spec, strlen(spec));
	if (!colon || (size_t)(colon - spec) >= sizeof(host) ||
	    parse_uint(colon + 1, 65535, &port) < 0)
		return ombx_err_set(err, EINVAL, "--listen %s: expected ADDR:PORT", q);
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *s6 = (void *)&ss;
		host[strlen(host) - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			return ombx_err_set(err, EINVAL, "--listen %s: bad IPv6 address", q);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (void *)&ss;
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return ombx_err_set(err, EINVAL, "--listen %s: bad IPv4 address", q);
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		len = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ombx_err_errno(err, errno, "--listen %s: socket", q);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){1}, sizeof(int));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1024) < 0) {
		int e = errno;
		close(fd);
		return ombx_err_errno(err, e, "--listen %s", q);
	}
	return fd;
}

/* Writes lines to path atomically (0600). */
static int write_file(const char *path, const char *text, ombx_err *err)
{
	char tmp[4096];
	int fd, n = snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	size_t len = strlen(text);

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return ombx_err_set(err, ENAMETOOLONG, "path too long: %s", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return ombx_err_errno(err, errno, "cannot create %s", tmp);
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0 || close(fd) < 0 ||
	    rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return ombx_err_errno(err, e, "cannot write %s", path);
	}
	return 0;
}

/* The jail's listening sockets, made inside its network namespace: one
 * SOCK_SEQPACKET message whose bytes say what each descriptor is (E
 * explicit proxy, T transparent, U DNS over UDP, D DNS over TCP, R the
 * rtnetlink socket through which the jail's local routes are added here:
 * jail_routes.h). */
static int receive_jail_sockets(struct opts *o, ombx_err *err)
{
	char kinds[PROXY_LISTEN_MAX + PROXY_DNS_FDS_MAX + 2];
	union {
		char buf[CMSG_SPACE(sizeof(int) * (PROXY_LISTEN_MAX + PROXY_DNS_FDS_MAX + 1))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {kinds, sizeof(kinds) - 1};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm;
	ssize_t n;
	size_t nfd = 0;
	int *fds = NULL, rtnl = -1;

	do
		n = recvmsg(o->jail_socket, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	/* the socket stays open: once serving, we say so on it (run) */
	o->po.listeners_elsewhere = true;
	if (n <= 0)
		return ombx_err_set(err, EPROTO, "the jail sent no listening sockets");
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
		fds = (int *)(void *)CMSG_DATA(cm);
		nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || nfd != (size_t)n)
		return ombx_err_set(err, EPROTO, "the jail's sockets arrived garbled");
	for (size_t i = 0; i < nfd; i++) {
		switch (kinds[i]) {
		case 'E':
		case 'T':
			if (o->po.n_listen == PROXY_LISTEN_MAX)
				goto bad;
			o->po.listen_transparent[o->po.n_listen] = kinds[i] == 'T';
			o->po.listen_fds[o->po.n_listen++] = fds[i];
			break;
		case 'U':
		case 'D':
			if (o->po.n_dns == PROXY_DNS_FDS_MAX)
				goto bad;
			o->po.dns_tcp[o->po.n_dns] = kinds[i] == 'D';
			o->po.dns_fds[o->po.n_dns++] = fds[i];
			break;
		case 'R':
			if (rtnl >= 0)
				goto bad;
			rtnl = fds[i];
			break;
		default:
			goto bad;
		}
	}
	/* Without the routes a program that ignores the proxy's variables
	 * would find nothing listening: no command may run then. */
	if (rtnl < 0)
		return ombx_err_set(err, EPROTO, "the jail sent no socket for its routes");
	return ombx_jail_routes_add(rtnl, err);
bad:
	if (rtnl >= 0)
		close(rtnl);
	return ombx_err_set(err, EPROTO, "the jail's sockets arrived garbled");
}

struct stopper {
	sigset_t set;
	struct proxy *p;
	struct proxy_approvals *a;
};

/* Runs until SIGINT or SIGTERM (or run() ending, which sends it one):
 * stops the proxy. run() joins it before freeing what it touches. */
static void *wait_signal(void *arg)
{
	struct stopper *s = arg;
	int sig;

	sigwait(&s->set, &sig);
	proxy_stop(s->p);
	if (s->a)
		proxy_approvals_shutdown(s->a); /* held requests: denied now */
	return NULL;
}

static int run(struct opts *o)
{
	struct policy_engine *eng = NULL;
	struct proxy_ca *ca = NULL;
	struct proxy_audit *audit = NULL;
	struct proxy_approvals *appr = NULL;
	struct proxy *p = NULL;
	char audit_path[4096], text[4096];
	struct stopper st = {0};
	pthread_t sigt;
	bool sig_thread = false;
	ombx_err err = {0};
	int rc = OMBX_EXIT_FAILURE;
	size_t len = 0;

	if (policy_engine_new(&eng) < 0)
		goto oom;
	for (size_t i = 0; i < o->n_policy; i++)
		if (policy_engine_reload(eng, (enum policy_level)i, o->policy[i], &err) < 0)
			goto fail;
	/* the listeners before anything is created on disk (the CA, the
	 * log): a start refused for a bad address leaves nothing behind */
	for (size_t i = 0; i < o->n_listen; i++) {
		int fd = make_listener(o->listen[i], &err);
		if (fd < 0)
			goto fail;
		o->po.listen_fds[o->po.n_listen++] = fd;
	}
	if (proxy_ca_load_or_create(o->ca, NULL, &ca, NULL, &err) < 0)
		goto fail;
	if (!o->audit) {
		if (proxy_audit_default_path(audit_path, sizeof(audit_path), &err) < 0)
			goto fail;
		o->audit = audit_path;
	}
	if (proxy_audit_open(o->audit, 0, &audit, &err) < 0)
		goto fail;
	if (o->jail_socket >= 0 && receive_jail_sockets(o, &err) < 0)
		goto fail;
	if (o->approvals && proxy_approvals_open(o->approvals, &appr, &err) < 0)
		goto fail;
	o->po.engine = eng;
	o->po.ca = ca;
	o->po.audit = audit;
	o->po.session = o->session;
	o->po.ask = appr ? proxy_approvals_ask : o->ask_tty ? ombx_cli_ask_tty : NULL;
	o->po.ask_arg = appr;
	if (proxy_new(&o->po, &p, &err) < 0)
		goto fail;
	o->po.n_listen = o->po.n_dns = 0; /* the proxy owns them now */
	if (o->placeholders) {
		const char *names[PROXY_SECRETS_MAX], *vals[PROXY_SECRETS_MAX];
		size_t n = proxy_placeholders(p, names, vals, PROXY_SECRETS_MAX);
		text[0] = '\0';
		for (size_t i = 0; i < n; i++)
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s=%s\n", names[i],
						vals[i]);
		if (write_file(o->placeholders, text, &err) < 0)
			goto fail;
	}
	len = 0;
	text[0] = '\0';
	for (size_t i = 0; i < proxy_listen_count(p); i++) {
		char a[64];
		proxy_listen_addr(p, i, a, sizeof(a));
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\n", a);
	}
	if (o->ready && write_file(o->ready, text, &err) < 0)
		goto fail;
	if (o->jail_socket >= 0) {
		/* omnibox exec: the jail's init waits for this before the command
		 * runs; a proxy that failed to get here closed the socket instead,
		 * and no command runs */
		if (send(o->jail_socket, "K", 1, MSG_NOSIGNAL) != 1) {
			ombx_err_set(&err, errno ? errno : EPIPE, "telling the jail the proxy serves");
			goto fail;
		}
		close(o->jail_socket);
		o->jail_socket = -1;
	} else if (!o->jail_socket_given) /* omnibox exec: its output is the command's */
		fprintf(stderr, "omnibox proxy: listening on %.*s (CA %s, audit %s%s%s)\n",
			(int)(len ? len - 1 : 0), text, proxy_ca_cert_path(ca), o->audit,
			appr ? ", approvals " : "", appr ? o->approvals : "");
	sigemptyset(&st.set);
	sigaddset(&st.set, SIGINT);
	sigaddset(&st.set, SIGTERM);
	st.p = p;
	st.a = appr;
	if (pthread_create(&sigt, NULL, wait_signal, &st) != 0)
		goto oom;
	sig_thread = true;
	if (proxy_run(p, &err) < 0)
		goto fail;
	rc = 0;
	goto out;
oom:
	ombx_err_set(&err, ENOMEM, "out of memory");
fail:
	ombx_cli_error("proxy: %s", err.msg);
out:
	/* The signal thread may still be stopping the proxy and the approvals
	 * (proxy_run returns once it sees the stop): it must be done before
	 * they are freed. A detached one wrote into freed approvals, and
	 * could hang on their freed lock, 1 exit in ~70 under ASan. */
	if (sig_thread) {
		pthread_kill(sigt, SIGTERM);
		pthread_join(sigt, NULL);
	}
	for (size_t i = 0; i < o->po.n_listen; i++)
		close(o->po.listen_fds[i]);
	for (size_t i = 0; i < o->po.n_dns; i++)
		close(o->po.dns_fds[i]);
	proxy_free(p);
	proxy_approvals_close(appr);
	proxy_audit_close(audit);
	proxy_ca_free(ca);
	policy_engine_free(eng);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = {.jail_socket = -1};
	sigset_t set;

	/* every thread inherits this mask; one thread waits for the signals */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* one descriptor per client and per origin: take what we may */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (parse_args(argc, argv, &o) < 0)
		return EXIT_USAGE;
	return run(&o);
}
