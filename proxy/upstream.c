/* upstream.c - reaching an origin without being steered (SSRF).
 *
 * A name is resolved once per upstream connection (or taken from a --resolve
 * pin); every address it has is vetted — the special-purpose ranges, the
 * policy's CIDR rules, the proxy's own listeners — and one refused address
 * refuses the name (a resolver answering with a public and a private address
 * is not trusted for either). Only vetted addresses are dialled, and the
 * socket's peer is compared with the address dialled before a byte is sent. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proxy/internal.h"

#define ADDRS_MAX 16

void proxy__sockaddr_addr(const struct sockaddr *sa, struct policy_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		a->a[10] = a->a[11] = 0xff;
		memcpy(a->a + 12, &s4->sin_addr, 4);
		a->v4 = true;
	} else {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		memcpy(a->a, &s6->sin6_addr, 16);
	}
}

unsigned proxy__sockaddr_port(const struct sockaddr *sa)
{
	return ntohs(sa->sa_family == AF_INET
			     ? ((const struct sockaddr_in *)(const void *)sa)->sin_port
			     : ((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
}

void proxy__sockaddr_text(const struct sockaddr *sa, char *buf, size_t size)
{
	struct policy_addr a;
	char t[INET6_ADDRSTRLEN];

	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) {
		snprintf(buf, size, "local");
		return;
	}
	proxy__sockaddr_addr(sa, &a);
	policy_addr_text(&a, t, sizeof(t));
	snprintf(buf, size, a.v4 ? "%s:%u" : "[%s]:%u", t, proxy__sockaddr_port(sa));
}

static bool is_loopback(const struct policy_addr *a)
{
	static const uint8_t v6lo[16] = {[15] = 1};
	static const uint8_t v4map[12] = {[10] = 0xff, [11] = 0xff};

	return memcmp(a->a, v6lo, 16) == 0 || (memcmp(a->a, v4map, 12) == 0 && a->a[12] == 127);
}

static bool is_unspecified(const struct policy_addr *a)
{
	static const uint8_t any6[16], any4[16] = {[10] = 0xff, [11] = 0xff};

	return memcmp(a->a, any6, 16) == 0 || memcmp(a->a, any4, 16) == 0;
}

/* Whether sa is one of the proxy's own listeners (or the address the client
 * reached us on): a CONNECT there would loop through us. Every loopback
 * address reaches a loopback or wildcard listener. */
static bool is_self(struct proxy_conn *c, const struct sockaddr *sa)
{
	struct policy_addr a, l;

	if (c->p->o.listeners_elsewhere)
		return false;
	proxy__sockaddr_addr(sa, &a);
	for (size_t i = 0; i <= c->p->o.n_listen; i++) {
		const struct sockaddr *ls = i < c->p->o.n_listen
						    ? (const struct sockaddr *)&c->p->listen_addr[i]
						    : (const struct sockaddr *)&c->local;

		if (ls->sa_family != AF_INET && ls->sa_family != AF_INET6)
			continue;
		if (proxy__sockaddr_port(ls) != proxy__sockaddr_port(sa))
			continue;
		proxy__sockaddr_addr(ls, &l);
		if (memcmp(l.a, a.a, 16) == 0 ||
		    ((is_unspecified(&l) || is_loopback(&l)) && is_loopback(&a)))
			return true;
	}
	return false;
}

int proxy__vet_addr(struct proxy_conn *c, const struct sockaddr *sa, char *why, size_t size)
{
	struct proxy *p = c->p;
	struct policy_decision d;
	struct policy_addr a;
	char text[INET6_ADDRSTRLEN];
	bool ok, engine;

	proxy__sockaddr_addr(sa, &a);
	policy_addr_text(&a, text, sizeof(text));
	if (is_self(c, sa)) {
		snprintf(why, size, "%s:%u is this proxy itself", text, proxy__sockaddr_port(sa));
		return -EACCES;
	}
	pthread_mutex_lock(&p->policy_lock);
	policy_check_addr(p->session, text, &d);
	ok = policy_decision_effective(&d) == POLICY_ALLOW;
	engine = d.why.level == POLICY_LEVEL_ENGINE;
	if (!ok)
		snprintf(why, size, "address %s refused by %s (%s): %s", text, d.why.rule,
			 policy_level_name(d.why.level), d.why.reason);
	policy_decision_release(&d);
	pthread_mutex_unlock(&p->policy_lock);
	if (ok)
		return 0;
	if (engine) /* a special range: only --allow-cidr opens it */
		for (size_t i = 0; i < p->o.n_allow_cidrs; i++)
			if (policy_cidr_match(&p->o.allow_cidrs[i], &a))
				return 0;
	return -EACCES;
}

struct gai_call {
	const char *name, *port;
	const struct addrinfo *hints;
	struct addrinfo *res;
	int r, err;
};

static void gai_run(void *arg)
{
	struct gai_call *g = arg;

	g->r = getaddrinfo(g->name, g->port, g->hints, &g->res);
	g->err = errno;
}

static size_t resolve(struct proxy_conn *c, const char *host, unsigned port,
		      struct sockaddr_storage *out, char *why, size_t size)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char ps[8], text[INET6_ADDRSTRLEN];
	const char *name = host;
	size_t n = 0;
	int r;

	for (size_t i = 0; i < c->p->o.n_pins; i++) {
		const struct proxy_pin *pin = &c->p->o.pins[i];
		if (pin->port == port && strcmp(pin->host, host) == 0) {
			policy_addr_text(&pin->addr, text, sizeof(text));
			hints.ai_flags |= AI_NUMERICHOST; /* pinned: no resolver at all */
			name = text;
			break;
		}
	}
	snprintf(ps, sizeof(ps), "%u", port);
	/* a resolver can take seconds: not on a worker (a literal cannot) */
	struct gai_call g = {.name = name, .port = ps, .hints = &hints};
	if (hints.ai_flags & AI_NUMERICHOST)
		gai_run(&g);
	else if ((r = proxy__sched_block(gai_run, &g)) < 0)
		g.r = EAI_SYSTEM, g.err = -r;
	r = g.r;
	res = g.res;
	if (r != 0) {
		snprintf(why, size, "cannot resolve %s: %s", host,
			 r == EAI_SYSTEM ? strerror(g.err) : gai_strerror(r));
		return 0;
	}
	for (struct addrinfo *ai = res; ai && n < ADDRS_MAX; ai = ai->ai_next)
		if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
			memcpy(&out[n++], ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(res);
	if (n == 0)
		snprintf(why, size, "%s has no IPv4 or IPv6 address", host);
	return n;
}

/* Connects to sa before the deadline and confirms the peer is sa. */
static int dial(const struct sockaddr *sa, int timeout_ms)
{
	socklen_t len =
		sa->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	struct pollfd pfd;
	int fd, err = 0, r;
	socklen_t elen = sizeof(err);

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	if (connect(fd, sa, len) < 0 && errno != EINPROGRESS) {
		err = errno;
		goto fail;
	}
	pfd = (struct pollfd){.fd = fd, .events = POLLOUT};
	proxy__sched_blocked(fd, POLLOUT);
	do
		r = proxy__poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		err = ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err)
		goto fail;
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0 || plen != len ||
	    memcmp(&peer, sa, len) != 0) {
		err = EHOSTUNREACH; /* not the address we vetted: never send to it */
		goto fail;
	}
	setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &(int){1}, sizeof(int));
	return fd;
fail:
	proxy__close(fd);
	return -(err ? err : EIO);
}

void proxy__upstream_close(struct upstream *u)
{
	if (u->open)
		proxy__pio_close(&u->io);
	u->open = false;
	u->io.fd = -1;
}

int proxy__upstream_open(struct proxy_conn *c, const char *host, unsigned port, bool tls,
			 int *status, char *why, size_t size)
{
	struct upstream *u = &c->up;
	struct sockaddr_storage addrs[ADDRS_MAX];
	int64_t t0 = proxy__now_ms(), t1;
	size_t n;
	int fd = -ENOENT;

	if (u->open && u->port == port && u->tls == tls && strcmp(u->host, host) == 0) {
		struct pollfd pfd = {.fd = u->io.fd, .events = POLLIN};
		/* an idle upstream with anything to read, in TLS's buffer
		 * (read ahead) or the socket, has closed or is talking out of
		 * turn: never reuse it. Nothing has arrived since a read left
		 * the socket empty: no need to look there. */
		bool stale = u->io.ssl && SSL_has_pending(u->io.ssl);
		if (!stale && proxy__sched_ready(u->io.fd, POLLIN))
			stale = poll(&pfd, 1, 0) != 0;
		if (!stale) {
			u->dns_ms = u->connect_ms = u->tls_ms = -1;
			return 0;
		}
	}
	proxy__upstream_close(u);
	*u = (struct upstream){.io.fd = -1, .tls = tls, .port = port};
	snprintf(u->host, sizeof(u->host), "%s", host);
	*status = 502;
	n = resolve(c, host, port, addrs, why, size);
	t1 = proxy__now_ms();
	u->dns_ms = t1 - t0;
	if (n == 0)
		return -EHOSTUNREACH;
	for (size_t i = 0; i < n; i++) {
		char w[400];
		if (proxy__vet_addr(c, (struct sockaddr *)&addrs[i], w, sizeof(w)) < 0) {
			*status = 403;
			snprintf(why, size, "%s resolves to a refused address: %s", host, w);
			return -EACCES;
		}
	}
	for (size_t i = 0; i < n; i++) {
		proxy__sockaddr_text((struct sockaddr *)&addrs[i], u->resolved,
				     sizeof(u->resolved));
		fd = dial((struct sockaddr *)&addrs[i], c->p->o.io_timeout_ms);
		if (fd >= 0)
			break;
	}
	u->connect_ms = proxy__now_ms() - t1;
	if (fd < 0) {
		*status = fd == -ETIMEDOUT ? 504 : 502;
		snprintf(why, size, "cannot connect to %s (%s): %s", host, u->resolved,
			 strerror(-fd));
		return fd;
	}
	u->io.fd = fd;
	u->open = true;
	u->tls_ms = -1;
	if (tls) {
		int64_t t2 = proxy__now_ms();
		int r = proxy__tls_connect(c->p, u, why, size);
		u->tls_ms = proxy__now_ms() - t2;
		if (r < 0) {
			proxy__upstream_close(u);
			*status = 502;
			return r;
		}
	}
	return 0;
}
