/* proxy.h - the egress proxy: the whole public contract of libproxy_net.
 *
 * One proxy decides every HTTP request that leaves its jail(s) by policy,
 * intercepts TLS with the CA of ca.h, injects secrets only into requests
 * policy allowed (or a human approved) toward the hosts they are bound to,
 * redacts them from those hosts' responses, and appends one audit record
 * (audit.h) per request and per refused connection. docs/PROXY.md is the
 * user's account of the same.
 *
 * Concurrency: one thread per client connection, blocking I/O bounded by
 * deadlines; the policy session, the audit log and the approval set are
 * shared behind one lock each. The embedding program calls proxy_run from
 * one thread and proxy_stop from any (a signal handler may not: it takes
 * locks).
 *
 * Must never: follow a redirect; dial an address that was not vetted; send a
 * secret to a host it is not bound to, over plain HTTP or over unverified
 * TLS; put a secret into a log, an error, a response to the client or a core
 * dump (the process is made non-dumpable by proxy_new). */
#ifndef OMBX_PROXY_PROXY_H
#define OMBX_PROXY_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "policy/policy.h"
#include "proxy/approvals.h"
#include "proxy/audit.h"
#include "proxy/ca.h"
#include "proxy/placeholder.h"

#define PROXY_LISTEN_MAX         16
#define PROXY_RESOLVE_MAX        64
#define PROXY_CIDR_MAX           64
#define PROXY_CONN_DEFAULT       1024          /* concurrent client connections */
#define PROXY_HEADER_TIMEOUT     (10 * 1000)   /* ms for a whole request head */
#define PROXY_IDLE_TIMEOUT       (60 * 1000)   /* ms a keep-alive conn may idle */
#define PROXY_IO_TIMEOUT         (30 * 1000)   /* ms without progress mid-message */
#define PROXY_HANDSHAKE_TIMEOUT  (10 * 1000)   /* ms for a TLS handshake / connect */
#define PROXY_ASK_TIMEOUT        (120 * 1000)  /* ms an ask waits for a human */
#define PROXY_ASK_BODY_MAX       (1024 * 1024) /* body bytes held to digest an ask */

/* A pinned name (curl's --resolve): connections to host:port dial addr. */
struct proxy_pin {
	char host[POLICY_HOST_MAX + 1]; /* canonical */
	unsigned port;
	struct policy_addr addr;
};

#define PROXY_DNS_FDS_MAX   8
#define PROXY_DNS_NAMES_MAX 65536 /* names the DNS stub hands fake addresses to */

struct proxy_opts {
	/* Listening sockets made by the caller (already bound and listening;
	 * the proxy takes them over and closes them). A transparent listener
	 * (listen_transparent[i]) receives connections whose local address is
	 * the one the client dialled (a `local` route sends every address to
	 * it): they are treated like a CONNECT to that address, or to the name
	 * the DNS stub gave it. */
	int listen_fds[PROXY_LISTEN_MAX];
	bool listen_transparent[PROXY_LISTEN_MAX];
	size_t n_listen;
	/* The listeners live in another network namespace (a jail's): no
	 * address the proxy dials can reach them, so none is "the proxy". */
	bool listeners_elsewhere;
	/* The DNS stub's sockets (UDP, or listening TCP when dns_tcp[i]);
	 * none: no stub. */
	int dns_fds[PROXY_DNS_FDS_MAX];
	bool dns_tcp[PROXY_DNS_FDS_MAX];
	size_t n_dns;
	struct policy_engine *engine; /* borrowed; outlives the proxy */
	struct proxy_ca *ca;          /* borrowed */
	struct proxy_audit *audit;    /* borrowed; NULL: no log (tests only) */
	const char *session;          /* id written into every record; may be NULL */
	const char *upstream_ca;      /* extra trust anchor file (PEM); NULL: none */
	bool no_system_roots;         /* tests: trust only upstream_ca */
	struct proxy_pin pins[PROXY_RESOLVE_MAX];
	size_t n_pins;
	struct policy_cidr allow_cidrs[PROXY_CIDR_MAX]; /* exceptions to the special ranges */
	size_t n_allow_cidrs;
	/* Placeholders chosen by the caller (who already put them into a
	 * jail's environment): secret name -> PROXY_PLACEHOLDER_PREFIX + 32
	 * lowercase hex digits. Secrets not listed get a random one. */
	const char *given_ph_secret[PROXY_SECRETS_MAX], *given_ph_value[PROXY_SECRETS_MAX];
	size_t n_given_ph;
	proxy_ask_fn ask; /* NULL: every ask is denied ("no approver") */
	void *ask_arg;
	unsigned max_conns; /* 0: PROXY_CONN_DEFAULT */
	unsigned workers;   /* event-loop threads; 0: one per CPU */
	int ask_timeout_ms, header_timeout_ms, idle_timeout_ms, io_timeout_ms; /* 0: defaults */
};

struct proxy;

/* Checks the options, builds the TLS contexts, reads every secret that has a
 * placeholder (failing if one cannot be read; the value is wiped again) and
 * makes one random placeholder for each. Makes the process non-dumpable. */
int proxy_new(const struct proxy_opts *opts, struct proxy **out, ombx_err *err);
/* Serves until proxy_stop; then waits for every connection to end (each is
 * shut down) and returns 0. */
int proxy_run(struct proxy *p, ombx_err *err);
void proxy_stop(struct proxy *p);
void proxy_free(struct proxy *p); /* NULL is fine; not while running */

/* The placeholders the jail's environment gets: for i in [0, n), *name is
 * the env variable's name (placeholder_env) and *value the placeholder.
 * Returns how many were written to the arrays. */
size_t proxy_placeholders(const struct proxy *p, const char **names, const char **values,
			  size_t max);

/* The listeners, as "ip:port" / "[ip]:port" (the port the kernel chose for
 * a port 0). */
size_t proxy_listen_count(const struct proxy *p);
void proxy_listen_addr(const struct proxy *p, size_t i, char *buf, size_t size);

/* Parses "HOST:PORT:ADDR" (ADDR may be [v6]) into a pin. */
int proxy_pin_parse(const char *s, struct proxy_pin *out, ombx_err *err);

#endif
