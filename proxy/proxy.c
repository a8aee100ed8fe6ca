/* proxy.c - the proxy object: options, placeholders, the accept loop, the
 * connection cap, and one detached thread per client connection. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/quote.h"
#include "proxy/internal.h"

static bool placeholder_ok(const char *v)
{
	size_t pl = sizeof(PROXY_PLACEHOLDER_PREFIX) - 1;

	if (strlen(v) != PROXY_PLACEHOLDER_LEN || strncmp(v, PROXY_PLACEHOLDER_PREFIX, pl) != 0)
		return false;
	for (v += pl; *v; v++)
		if (!((*v >= '0' && *v <= '9') || (*v >= 'a' && *v <= 'f')))
			return false;
	return true;
}

static int make_placeholders(struct proxy *p, ombx_err *err)
{
	struct policy_placeholder ph[PROXY_SECRETS_MAX + 1];
	int n = policy_session_placeholders(p->session, ph, PROXY_SECRETS_MAX + 1);

	if (n > PROXY_SECRETS_MAX)
		return ombx_err_set(err, E2BIG,
				    "the policies define more than %d secrets with a "
				    "placeholder",
				    PROXY_SECRETS_MAX);
	for (int i = 0; i < n; i++) {
		struct proxy_ph *x = &p->ph[p->n_ph];
		char *val = malloc(POLICY_SECRET_MAX + 1);
		size_t len;
		int r;

		if (!val)
			return -ENOMEM;
		/* fail closed now rather than at the first request */
		r = policy_secret_read(ph[i].secret, val, POLICY_SECRET_MAX + 1, &len, err);
		explicit_bzero(val, POLICY_SECRET_MAX + 1);
		free(val);
		if (r < 0)
			return r;
		x->name = strdup(ph[i].name);
		x->env = strdup(ph[i].env ? ph[i].env : ph[i].name);
		p->n_ph++; /* proxy_free frees what is there */
		if (!x->name || !x->env)
			return -ENOMEM;
		x->len = 0;
		for (size_t k = 0; k < p->o.n_given_ph; k++)
			if (strcmp(p->o.given_ph_secret[k], x->name) == 0) {
				const char *v = p->o.given_ph_value[k];
				if (!placeholder_ok(v))
					return ombx_err_set(
						err, EINVAL,
						"the placeholder given for secret %s is "
						"not " PROXY_PLACEHOLDER_PREFIX
						" and 32 hex digits",
						x->name);
				memcpy(x->value, v, PROXY_PLACEHOLDER_LEN + 1);
				x->len = PROXY_PLACEHOLDER_LEN;
			}
		if (!x->len && proxy_placeholder_make(x->value, sizeof(x->value)) < 0)
			return ombx_err_errno(err, errno, "no randomness for placeholders");
		x->len = strlen(x->value);
	}
	return 0;
}

int proxy_new(const struct proxy_opts *opts, struct proxy **out, ombx_err *err)
{
	struct proxy *p;
	int r;

	*out = NULL;
	if (!opts->engine || !opts->ca || opts->n_listen == 0 || opts->n_listen > PROXY_LISTEN_MAX)
		return ombx_err_set(err, EINVAL,
				    "proxy: an engine, a CA and 1 to %d listeners "
				    "are needed",
				    PROXY_LISTEN_MAX);
	/* a core dump of this process would hold secrets and the CA key */
	if (prctl(PR_SET_DUMPABLE, 0) < 0)
		return ombx_err_errno(err, errno, "cannot make the proxy non-dumpable");
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->o = *opts;
	p->wake_fd = -1;
	p->park_fd = -1;
	p->dns_stop[0] = p->dns_stop[1] = -1;
	if (!p->o.max_conns)
		p->o.max_conns = PROXY_CONN_DEFAULT;
#define DEF(f, v)                                                                                  \
	if (p->o.f <= 0)                                                                           \
	p->o.f = (v)
	DEF(ask_timeout_ms, PROXY_ASK_TIMEOUT);
	DEF(header_timeout_ms, PROXY_HEADER_TIMEOUT);
	DEF(idle_timeout_ms, PROXY_IDLE_TIMEOUT);
	DEF(io_timeout_ms, PROXY_IO_TIMEOUT);
#undef DEF
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->idle, NULL);
	pthread_mutex_init(&p->policy_lock, NULL);
	pthread_mutex_init(&p->approved_lock, NULL);
	pthread_mutex_init(&p->dns_lock, NULL);
	for (size_t i = 0; i < p->o.n_listen; i++) {
		socklen_t len = sizeof(p->listen_addr[i]);
		int fd = p->o.listen_fds[i];
		if (getsockname(fd, (struct sockaddr *)&p->listen_addr[i], &len) < 0 ||
		    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
			r = ombx_err_errno(err, errno, "proxy: listener %zu is not a socket", i);
			goto fail;
		}
	}
	p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->wake_fd < 0) {
		r = ombx_err_errno(err, errno, "proxy: eventfd");
		goto fail;
	}
	r = policy_session_new(p->o.engine, &p->session);
	if (r < 0) {
		ombx_err_set(err, -r, "proxy: cannot start a policy session");
		goto fail;
	}
	r = make_placeholders(p, err);
	if (r < 0)
		goto fail;
	r = proxy__tls_init(p, err);
	if (r < 0)
		goto fail;
	r = proxy__sched_init(p, p->o.workers, err);
	if (r < 0)
		goto fail;
	r = proxy__park_init(p, err);
	if (r < 0)
		goto fail;
	r = proxy__dns_start(p, err);
	if (r < 0)
		goto fail;
	*out = p;
	return 0;
fail:
	p->o.n_listen = 0; /* the caller still owns them on failure */
	p->o.n_dns = 0;
	proxy_free(p);
	return r;
}

static void too_many(struct proxy *p, int fd, const char *client)
{
	static const char msg[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
				  "Content-Length: 45\r\nConnection: close\r\n\r\n"
				  "omnibox proxy: too many connections; retry\n";
	struct proxy_conn tmp = {.p = p, .c.fd = fd, .t_accept = proxy__now_ms()};

	snprintf(tmp.client, sizeof(tmp.client), "%s", client);
	(void)!send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	proxy__record_refused(&tmp, 503, "connection cap reached");
	close(fd);
}

static void start_conn(struct proxy *p, int fd, bool transparent)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	char client[INET6_ADDRSTRLEN + 8];
	struct proxy_conn *c;

	getpeername(fd, (struct sockaddr *)&peer, &plen);
	proxy__sockaddr_text((struct sockaddr *)&peer, client, sizeof(client));
	pthread_mutex_lock(&p->lock);
	if (p->n_conns >= p->o.max_conns) {
		pthread_mutex_unlock(&p->lock);
		too_many(p, fd, client);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		pthread_mutex_unlock(&p->lock);
		too_many(p, fd, client);
		return;
	}
	c->p = p;
	c->id = atomic_fetch_add(&p->next_conn, 1) + 1;
	c->c.fd = fd;
	c->up.io.fd = -1;
	c->up.dns_ms = c->up.connect_ms = c->up.tls_ms = -1;
	c->t_accept = proxy__now_ms();
	c->transparent = transparent;
	snprintf(c->client, sizeof(c->client), "%s", client);
	plen = sizeof(c->local);
	getsockname(fd, (struct sockaddr *)&c->local, &plen);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	c->next = p->conns;
	if (p->conns)
		p->conns->prev = c;
	p->conns = c;
	p->n_conns++;
	if (proxy__sched_spawn(p, proxy__conn_main, c) != 0) {
		p->conns = c->next;
		if (c->next)
			c->next->prev = NULL;
		p->n_conns--;
		pthread_mutex_unlock(&p->lock);
		free(c);
		too_many(p, fd, client);
	} else {
		pthread_mutex_unlock(&p->lock);
	}
}

int proxy_run(struct proxy *p, ombx_err *err)
{
	struct pollfd pfd[PROXY_LISTEN_MAX + 1];
	size_t n = p->o.n_listen;

	for (size_t i = 0; i < n; i++)
		pfd[i] = (struct pollfd){.fd = p->o.listen_fds[i], .events = POLLIN};
	pfd[n] = (struct pollfd){.fd = p->wake_fd, .events = POLLIN};
	for (;;) {
		int r = poll(pfd, n + 1, -1);
		bool stop;

		if (r < 0 && errno != EINTR)
			return ombx_err_errno(err, errno, "proxy: poll");
		pthread_mutex_lock(&p->lock);
		stop = p->stopping;
		pthread_mutex_unlock(&p->lock);
		if (stop)
			break;
		for (size_t i = 0; r > 0 && i < n; i++) {
			if (!pfd[i].revents)
				continue;
			int fd = accept4(pfd[i].fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd >= 0)
				start_conn(p, fd, p->o.listen_transparent[i]);
			else if (errno == EMFILE || errno == ENFILE)
				usleep(10000); /* out of descriptors: let connections end */
		}
	}
	/* parked connections first (no thread of their own), then wake every
	 * connection thread and wait for it to finish */
	proxy__park_stop(p);
	pthread_mutex_lock(&p->lock);
	for (struct proxy_conn *c = p->conns; c; c = c->next) {
		shutdown(c->c.fd, SHUT_RDWR);
		if (c->up.io.fd >= 0)
			shutdown(c->up.io.fd, SHUT_RDWR);
	}
	while (p->n_conns > 0)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void proxy_stop(struct proxy *p)
{
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_mutex_unlock(&p->lock);
	(void)!write(p->wake_fd, &(uint64_t){1}, sizeof(uint64_t));
}

void proxy_free(struct proxy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->o.n_listen; i++)
		close(p->o.listen_fds[i]);
	if (p->park_started) { /* proxy_new failed after starting it */
		proxy_stop(p);
		proxy__park_stop(p);
	}
	proxy__dns_stop(p);
	proxy__sched_stop(p); /* proxy_run saw every connection end */
	if (p->wake_fd >= 0)
		close(p->wake_fd);
	if (p->park_fd >= 0)
		close(p->park_fd);
	proxy__tls_free(p);
	policy_session_free(p->session);
	for (size_t i = 0; i < p->n_ph; i++) {
		free(p->ph[i].name);
		free(p->ph[i].env);
	}
	for (size_t i = 0; i < p->n_approved; i++)
		free(p->approved[i]);
	free(p->approved);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->idle);
	pthread_mutex_destroy(&p->policy_lock);
	pthread_mutex_destroy(&p->approved_lock);
	pthread_mutex_destroy(&p->dns_lock);
	free(p);
}

size_t proxy_placeholders(const struct proxy *p, const char **names, const char **values,
			  size_t max)
{
	size_t n = 0;

	for (; n < p->n_ph && n < max; n++) {
		names[n] = p->ph[n].env;
		values[n] = p->ph[n].value;
	}
	return n;
}

int proxy_pin_parse(const char *s, struct proxy_pin *out, ombx_err *err)
{
	char q[OMBX_QUOTE_MAX], host[POLICY_HOST_MAX + 2], addr[64];
	const char *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *a;
	size_t alen;
	char *end;
	unsigned long port;

	ombx_quote(q, sizeof(q), s, strlen(s));
	if (!c1 || !c2 || (size_t)(c1 - s) >= sizeof(host))
		return ombx_err_set(err, EINVAL, "--resolve %s: expected HOST:PORT:ADDRESS", q);
	memcpy(host, s, (size_t)(c1 - s));
	host[c1 - s] = '\0';
	errno = 0;
	port = strtoul(c1 + 1, &end, 10);
	if (end != c2 || c1[1] < '0' || c1[1] > '9' || port == 0 || port > 65535)
		return ombx_err_set(err, EINVAL, "--resolve %s: bad port", q);
	a = c2 + 1;
	alen = strlen(a);
	if (alen >= 2 && a[0] == '[' && a[alen - 1] == ']')
		a++, alen -= 2;
	if (alen == 0 || alen >= sizeof(addr))
		return ombx_err_set(err, EINVAL, "--resolve %s: bad address", q);
	memcpy(addr, a, alen);
	addr[alen] = '\0';
	if (policy_host_canon(host, out->host, sizeof(out->host), err) < 0)
		return ombx_err_set(err, EINVAL, "--resolve %s: bad host name", q);
	if (policy_addr_parse(addr, &out->addr) < 0)
		return ombx_err_set(err, EINVAL,
				    "--resolve %s: the address must be a canonical IPv4 or IPv6 "
				    "literal",
				    q);
	out->port = (unsigned)port;
	return 0;
}

size_t proxy_listen_count(const struct proxy *p)
{
	return p->o.n_listen;
}

void proxy_listen_addr(const struct proxy *p, size_t i, char *buf, size_t size)
{
	proxy__sockaddr_text((const struct sockaddr *)&p->listen_addr[i], buf, size);
}
