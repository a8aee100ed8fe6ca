/* conn.c - one client connection, from its first request head to its close.
 *
 * A connection is bound to one authority when it CONNECTs: every request
 * inside the tunnel must name that host (Host, and SNI when it speaks TLS),
 * canonicalised, or it is refused. Absolute-form requests outside a tunnel
 * carry their own authority, checked against Host. Anything that is not
 * HTTP inside a tunnel is refused: nothing leaves undecided. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/quote.h"
#include "proxy/internal.h"

static const char *status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 408:
		return "Request Timeout";
	case 413:
		return "Content Too Large";
	case 417:
		return "Expectation Failed";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Error";
	}
}

int proxy__send_error(struct proxy_conn *c, int status, const char *body, bool close)
{
	char head[256], text[1200];
	int tn = snprintf(text, sizeof(text), "omnibox proxy: %s\n", body);
	int hn;

	if (tn < 0 || (size_t)tn >= sizeof(text))
		tn = (int)strlen(text);
	hn = snprintf(head, sizeof(head),
		      "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		      "Content-Length: %d\r\nCache-Control: no-store\r\n%s\r\n",
		      status, status_text(status), tn, close ? "Connection: close\r\n" : "");
	if (proxy__write(&c->c, head, (size_t)hn, c->p->o.io_timeout_ms) < 0)
		return -EPIPE;
	return proxy__write(&c->c, text, (size_t)tn, c->p->o.io_timeout_ms);
}

void proxy__consume(struct proxy_conn *c, size_t n)
{
	c->off += n;
	if (c->off >= c->len) {
		c->off = c->len = 0;
		if (c->cap > PROXY_BUF_STEP) { /* an idle connection keeps little */
			free(c->buf);
			c->buf = NULL;
			c->cap = 0;
		}
	}
}

/* Room for at least one more byte after c->len, up to a head's limit. */
static int make_room(struct proxy_conn *c)
{
	size_t want;
	char *nb;

	if (c->off > 0 && c->len == c->cap) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len < c->cap)
		return 0;
	if (c->cap >= HTTP_HEAD_MAX + 1)
		return -EMSGSIZE;
	want = c->cap ? c->cap * 2 : PROXY_BUF_STEP;
	if (want > HTTP_HEAD_MAX + 1)
		want = HTTP_HEAD_MAX + 1;
	nb = realloc(c->buf, want);
	if (!nb)
		return -ENOMEM;
	c->buf = nb;
	c->cap = want;
	return 0;
}

/* Whether buf[from..len) holds the end of a head ("\n\r\n", or "\n\n",
 * which the parser then refuses as bare LF). */
static bool head_ends(const char *buf, size_t from, size_t len)
{
	for (const char *p = buf + from; (p = memchr(p, '\n', len - (size_t)(p - buf))); p++) {
		size_t i = (size_t)(p - buf);
		if ((i + 1 < len && buf[i + 1] == '\n') ||
		    (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n'))
			return true;
	}
	return false;
}

int proxy__read_request(struct proxy_conn *c, struct http_request *req, int first_timeout_ms,
			const char **why)
{
	int64_t deadline = -1;
	size_t scanned = 0; /* bytes after c->off known to hold no end of head */

	for (;;) {
		size_t have = c->len - c->off;
		ssize_t n;
		int r;

		/* parse only once the head may be complete: a client sending one
		 * byte at a time costs O(head), not O(head^2) */
		if (have > 0 && head_ends(c->buf + c->off, scanned > 2 ? scanned - 2 : 0, have)) {
			r = http_parse_request(c->buf + c->off, have, req, why);
			if (r > 0)
				return r;
			if (r != HTTP_INCOMPLETE)
				return strstr(*why, "too large") || strstr(*why, "too many")
					       ? -EMSGSIZE
					       : -EBADMSG;
		}
		scanned = have;
		if (have >= HTTP_HEAD_MAX) {
			*why = "request head too large";
			return -EMSGSIZE;
		}
		if (have == 0) {
			r = proxy__wait_readable(&c->c, first_timeout_ms);
			if (r <= 0)
				return r == 0 ? -ETIMEDOUT : r;
		}
		if (deadline < 0)
			deadline = proxy__now_ms() + c->p->o.header_timeout_ms;
		r = make_room(c);
		if (r == -EMSGSIZE) {
			*why = "request head too large";
			return r;
		}
		if (r < 0)
			return r;
		n = proxy__read(
			&c->c, c->buf + c->len, c->cap - c->len,
			(int)(deadline - proxy__now_ms() > 0 ? deadline - proxy__now_ms() : 0));
		if (n == 0)
			return have == 0 ? 0 : -ECONNRESET;
		if (n == -ETIMEDOUT)
			return -ETIME; /* a head started and not finished in time */
		if (n < 0)
			return (int)n;
		c->len += (size_t)n;
	}
}

/* "host:port" / "[v6]:port" -> canonical host and port; 0 or -EINVAL. */
static int parse_authority(const char *s, size_t len, bool need_port, unsigned def_port, char *host,
			   size_t hsize, unsigned *port)
{
	char raw[POLICY_HOST_MAX + 8];
	const char *colon = NULL;
	size_t hlen = len;
	ombx_err err;

	if (len == 0 || len >= sizeof(raw) || memchr(s, '@', len))
		return -EINVAL;
	if (s[0] == '[') {
		const char *rb = memchr(s, ']', len);
		if (!rb)
			return -EINVAL;
		if ((size_t)(rb - s) + 1 < len) {
			if (rb[1] != ':')
				return -EINVAL;
			colon = rb + 1;
		}
		hlen = (size_t)(rb - s) + 1;
	} else {
		colon = memchr(s, ':', len);
		if (colon)
			hlen = (size_t)(colon - s);
	}
	*port = def_port;
	if (colon) {
		unsigned long v = 0;
		size_t plen = len - (size_t)(colon + 1 - s);
		if (plen == 0 || plen > 5)
			return -EINVAL;
		for (size_t i = 0; i < plen; i++) {
			char ch = colon[1 + i];
			if (ch < '0' || ch > '9')
				return -EINVAL;
			v = v * 10 + (unsigned long)(ch - '0');
		}
		if (v == 0 || v > 65535)
			return -EINVAL;
		*port = (unsigned)v;
	} else if (need_port) {
		return -EINVAL;
	}
	memcpy(raw, s, hlen);
	raw[hlen] = '\0';
	return policy_host_canon(raw, host, hsize, &err);
}

/* The Host field of req names host:port (its port may be left out). */
static bool host_matches(const struct http_request *req, const char *host, unsigned port,
			 unsigned def_port)
{
	char h[POLICY_HOST_MAX + 1];
	unsigned hp;
	const struct http_field *f;

	if (req->host_field < 0)
		return false;
	f = &req->h.fields[req->host_field];
	if (parse_authority(f->value, f->value_len, false, 0, h, sizeof(h), &hp) < 0)
		return false;
	if (strcmp(h, host) != 0)
		return false;
	return hp == 0 ? (port == def_port || def_port == 0) : hp == port;
}

static void refuse(struct proxy_conn *c, int status, const char *why)
{
	proxy__send_error(c, status, why, true);
	proxy__record_refused(c, status, why);
}

/* A request inside a tunnel (TLS or not): it must name the tunnel's
 * authority, in origin-form. Returns whether the connection goes on. */
static bool tunnel_request(struct proxy_conn *c, struct http_request *req)
{
	unsigned def = c->tunnel_tls ? 443 : 80;
	char msg[600];

	if (req->target_len == 0 || req->target[0] != '/') {
		refuse(c, 400,
		       "inside a tunnel a request must use origin-form (absolute-form refused)");
		return false;
	}
	if (!host_matches(req, c->connect_host, c->connect_port, def)) {
		char q[OMBX_QUOTE_MAX] = "(none)";
		if (req->host_field >= 0)
			ombx_quote(q, sizeof(q), req->h.fields[req->host_field].value,
				   req->h.fields[req->host_field].value_len);
		snprintf(msg, sizeof(msg), "Host %s does not name the CONNECT host %s:%u", q,
			 c->connect_host, c->connect_port);
		refuse(c, 400, msg);
		return false;
	}
	return proxy__handle_request(c, req, c->tunnel_tls ? "https" : "http", c->connect_host,
				     c->connect_port);
}

static bool intercept_if_tls(struct proxy_conn *c);

static bool serve_connect(struct proxy_conn *c, struct http_request *req)
{
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	char why[600], q[OMBX_QUOTE_MAX];
	struct policy_addr a;

	if (parse_authority(req->target, req->target_len, true, 0, c->connect_host,
			    sizeof(c->connect_host), &c->connect_port) < 0) {
		ombx_quote(q, sizeof(q), req->target, req->target_len);
		snprintf(why, sizeof(why), "CONNECT target %s is not HOST:PORT", q);
		refuse(c, 400, why);
		return false;
	}
	snprintf(c->connect_raw, sizeof(c->connect_raw), "%.*s", (int)req->target_len, req->target);
	c->tunnel = true;
	if (req->h.body != HTTP_BODY_NONE) {
		refuse(c, 400, "CONNECT with a body");
		return false;
	}
	/* An IP literal is vetted now; a name when it is resolved. */
	if (policy_addr_parse(c->connect_host, &a) == 0) {
		struct sockaddr_storage ss = {0};
		char w[400];
		if (a.v4) {
			struct sockaddr_in *s4 = (void *)&ss;
			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)c->connect_port);
			memcpy(&s4->sin_addr, a.a + 12, 4);
		} else {
			struct sockaddr_in6 *s6 = (void *)&ss;
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)c->connect_port);
			memcpy(&s6->sin6_addr, a.a, 16);
		}
		if (proxy__vet_addr(c, (struct sockaddr *)&ss, w, sizeof(w)) < 0) {
			snprintf(why, sizeof(why), "CONNECT refused: %s", w);
			refuse(c, 403, why);
			return false;
		}
	}
	proxy__consume(c, (size_t)req->h.head_len);
	if (c->len > c->off) { /* bytes before our 200: a client that does not wait */
		refuse(c, 400, "data sent before the CONNECT was answered");
		return false;
	}
	if (proxy__write(&c->c, ok, sizeof(ok) - 1, c->p->o.io_timeout_ms) < 0)
		return false;
	if (proxy__wait_readable(&c->c, c->p->o.header_timeout_ms) <= 0)
		return false;
	return intercept_if_tls(c);
}

/* A tunnel's first bytes: a TLS ClientHello is intercepted; anything else
 * must be plain HTTP. */
static bool intercept_if_tls(struct proxy_conn *c)
{
	unsigned char first;
	char why[600];
	int r;

	r = (int)recv(c->c.fd, &first, 1, MSG_PEEK);
	if (r <= 0)
		return false;
	if (first == 0x16) { /* a TLS ClientHello: intercept */
		c->tunnel_tls = true;
		if (proxy__tls_accept(c, why, sizeof(why)) < 0) {
			proxy__record_refused(c, 0, why);
			return false;
		}
	}
	return true;
}

/* An absolute-form "http://authority/path" request outside any tunnel:
 * it carries its own authority, which Host must name. */
static bool plain_request(struct proxy_conn *c, struct http_request *req)
{
	char host[POLICY_HOST_MAX + 1], msg[600], q[OMBX_QUOTE_MAX];
	const char *t = req->target, *a, *end;
	unsigned port;

	if (req->method_len == 7 && memcmp(req->method, "CONNECT", 7) == 0) {
		refuse(c, 400, "CONNECT after other requests on one connection");
		return false;
	}
	if (req->target_len < 8 || strncasecmp(t, "http://", 7) != 0) {
		ombx_quote(q, sizeof(q), t, req->target_len);
		snprintf(msg, sizeof(msg),
			 strncasecmp(t, "https://", 8) == 0
				 ? "absolute-form https target %s: use CONNECT"
				 : "target %s is neither CONNECT nor absolute-form http",
			 q);
		refuse(c, 400, msg);
		return false;
	}
	a = t + 7;
	end = a;
	while (end < t + req->target_len && *end != '/' && *end != '?')
		end++;
	if (parse_authority(a, (size_t)(end - a), false, 80, host, sizeof(host), &port) < 0 ||
	    !host_matches(req, host, port, 80)) {
		ombx_quote(q, sizeof(q), t, req->target_len);
		snprintf(msg, sizeof(msg), "target %s: bad authority, or Host does not name it", q);
		refuse(c, 400, msg);
		return false;
	}
	return proxy__handle_request(c, req, "http", host, port);
}

/* Requests on an established connection until it ends (0) or, idle, is
 * handed to the parking thread (1: the caller must not touch c again). */
int proxy__conn_loop(struct proxy_conn *c)
{
	for (;;) {
		struct http_request req;
		const char *why = NULL;
		char msg[600];
		bool more;
		int r;

		if (c->off == c->len && !(c->c.ssl && SSL_has_pending(c->c.ssl))) {
			/* a client that goes quiet gives its thread back */
			r = proxy__wait_readable(&c->c, PROXY_PARK_AFTER_MS);
			if (r < 0)
				return 0;
			if (r == 0 && proxy__park(c) == 0)
				return 1;
		}
		r = proxy__read_request(c, &req, c->p->o.idle_timeout_ms, &why);
		if (r == 0 || r == -ETIMEDOUT || r == -ECONNRESET || r == -EPIPE)
			return 0; /* closed or idle: nothing was asked */
		if (r == -ETIME) {
			refuse(c, 408, "request head not complete in time");
			return 0;
		}
		if (r < 0) {
			snprintf(msg, sizeof(msg), "malformed request: %s",
				 why ? why : strerror(-r));
			refuse(c, r == -EMSGSIZE ? 431 : 400, msg);
			return 0;
		}
		more = c->tunnel ? tunnel_request(c, &req) : plain_request(c, &req);
		if (!more)
			return 0;
	}
}

/* A connection caught by a transparent listener: the address the client
 * dialled (or the name the DNS stub gave it) is its authority, as if it had
 * sent CONNECT. Returns like proxy__conn_loop. */
static int serve_transparent(struct proxy_conn *c)
{
	const struct sockaddr *local = (const struct sockaddr *)&c->local;
	unsigned port = proxy__sockaddr_port(local);
	struct policy_addr a;
	char why[400];

	proxy__sockaddr_addr(local, &a);
	c->tunnel = true;
	c->connect_port = port;
	if (proxy__dns_name_of(c->p, &a, c->connect_host, sizeof(c->connect_host)) < 0) {
		uint32_t idx;
		policy_addr_text(&a, c->connect_host, sizeof(c->connect_host));
		if (proxy__dns_fake(&a, &idx)) {
			snprintf(why, sizeof(why), "%s was never given out by the DNS stub",
				 c->connect_host);
			proxy__record_refused(c, 0, why);
			return 0;
		}
		if (proxy__vet_addr(c, (struct sockaddr *)&c->local, why, sizeof(why)) < 0) {
			proxy__record_refused(c, 0, why);
			return 0;
		}
	}
	snprintf(c->connect_raw, sizeof(c->connect_raw), "%.*s:%u", POLICY_HOST_MAX,
		 c->connect_host, port);
	if (proxy__wait_readable(&c->c, c->p->o.header_timeout_ms) <= 0)
		return 0;
	if (!intercept_if_tls(c))
		return 0;
	return proxy__conn_loop(c);
}

/* The first request decides what the connection is: a tunnel or plain
 * forwarding. Returns like proxy__conn_loop. */
static int serve(struct proxy_conn *c)
{
	struct http_request req;
	const char *why = NULL;
	char msg[600];
	int r = proxy__read_request(c, &req, c->p->o.header_timeout_ms, &why);

	if (r == 0 || r == -ECONNRESET || r == -EPIPE)
		return 0;
	if (r == -ETIMEDOUT || r == -ETIME) {
		refuse(c, 408, "no complete request head in time");
		return 0;
	}
	if (r < 0) {
		snprintf(msg, sizeof(msg), "malformed request: %s", why ? why : strerror(-r));
		refuse(c, r == -EMSGSIZE ? 431 : 400, msg);
		return 0;
	}
	if (req.method_len == 7 && memcmp(req.method, "CONNECT", 7) == 0) {
		if (!serve_connect(c, &req))
			return 0;
	} else if (!plain_request(c, &req)) {
		return 0;
	}
	return proxy__conn_loop(c);
}

void proxy__conn_end(struct proxy_conn *c)
{
	struct proxy *p = c->p;

	pthread_mutex_lock(&p->lock);
	proxy__conn_free_locked(c);
	pthread_mutex_unlock(&p->lock);
}

void proxy__conn_free_locked(struct proxy_conn *c)
{
	struct proxy *p = c->p;

	proxy__upstream_close(&c->up);
	proxy__pio_close(&c->c);
	free(c->buf);
	free(c->ubuf);
	if (c->prev)
		c->prev->next = c->next;
	else
		p->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	p->n_conns--;
	pthread_cond_broadcast(&p->idle);
	free(c);
}

void *proxy__conn_main(void *arg)
{
	struct proxy_conn *c = arg;

	if ((c->transparent ? serve_transparent(c) : serve(c)) == 0)
		proxy__conn_end(c);
	return NULL;
}

void *proxy__conn_resume(void *arg)
{
	struct proxy_conn *c = arg;

	if (proxy__conn_loop(c) == 0)
		proxy__conn_end(c);
	return NULL;
}
