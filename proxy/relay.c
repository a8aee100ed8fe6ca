/* relay.c - moving bodies: the client's request body up (streamed, or held
 * whole when an ask needs its digest), the origin's response down (head
 * rebuilt, chunked bodies re-chunked, secrets of the request redacted), and
 * the raw bytes of an upgraded (WebSocket) connection both ways.
 *
 * Memory: a connection's buffer grows to PROXY_IO_CHUNK only while a body
 * moves; a held body is at most PROXY_ASK_BODY_MAX. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy/internal.h"
#include "proxy/redact.h"

/* Reads more client bytes after c->len; > 0, 0 at end of stream, -errno. */
static ssize_t client_more(struct proxy_conn *c)
{
	ssize_t n;

	if (c->off == c->len)
		c->off = c->len = 0;
	if (c->off > 0 && c->len == c->cap) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->cap < PROXY_IO_CHUNK) {
		char *nb = realloc(c->buf, PROXY_IO_CHUNK);
		if (!nb)
			return -ENOMEM;
		c->buf = nb;
		c->cap = PROXY_IO_CHUNK;
	}
	n = proxy__read(&c->c, c->buf + c->len, c->cap - c->len, c->p->o.io_timeout_ms);
	if (n > 0)
		c->len += (size_t)n;
	return n;
}

/* Calls sink for each piece of the client's body; 0 at its end, -errno, or
 * -EBADMSG with *why for a malformed chunked body. */
typedef int (*body_sink)(void *arg, const char *s, size_t n);

static int read_body(struct proxy_conn *c, enum http_body kind, uint64_t length, body_sink sink,
		     void *arg, const char **why)
{
	struct http_chunked dec;
	uint64_t left = length;

	if (kind == HTTP_BODY_NONE)
		return 0;
	http_chunked_init(&dec);
	for (;;) {
		size_t have = c->len - c->off;
		int r;

		if (kind == HTTP_BODY_LENGTH && left == 0)
			return 0;
		if (kind == HTTP_BODY_CHUNKED && dec.done)
			return 0;
		if (have == 0) {
			ssize_t n = client_more(c);
			if (n <= 0)
				return n == 0 ? -ECONNRESET : (int)n;
			continue;
		}
		if (kind == HTTP_BODY_LENGTH) {
			size_t take = have < left ? have : (size_t)left;
			r = sink(arg, c->buf + c->off, take);
			c->off += take;
			left -= take;
		} else {
			size_t n = have;
			long used = http_chunked_decode(&dec, c->buf + c->off, &n, why);
			if (used < 0)
				return -EBADMSG;
			r = n ? sink(arg, c->buf + c->off, n) : 0;
			c->off += (size_t)used;
		}
		if (r < 0)
			return r;
	}
}

struct up_sink {
	struct proxy_conn *c;
	bool chunked;
};

static int write_chunk(struct pio *io, const char *s, size_t n, int timeout)
{
	char line[24];
	int ln = snprintf(line, sizeof(line), "%zx\r\n", n);
	int r;

	if (n == 0)
		return 0;
	r = proxy__write(io, line, (size_t)ln, timeout);
	if (r == 0)
		r = proxy__write(io, s, n, timeout);
	if (r == 0)
		r = proxy__write(io, "\r\n", 2, timeout);
	return r;
}

static int to_upstream(void *arg, const char *s, size_t n)
{
	struct up_sink *u = arg;
	struct pio *io = &u->c->up.io;
	int t = u->c->p->o.io_timeout_ms;

	return u->chunked ? write_chunk(io, s, n, t) : proxy__write(io, s, n, t);
}

int proxy__send_body(struct proxy_conn *c, enum http_body kind, uint64_t length, const char **why)
{
	struct up_sink u = {c, kind == HTTP_BODY_CHUNKED};
	int r = read_body(c, kind, length, to_upstream, &u, why);

	if (r == 0 && u.chunked)
		r = proxy__write(&c->up.io, "0\r\n\r\n", 5, c->p->o.io_timeout_ms);
	return r;
}

struct hold_sink {
	struct obuf *o;
	size_t max;
};

static int to_memory(void *arg, const char *s, size_t n)
{
	struct hold_sink *h = arg;

	if (h->o->len + n > h->max)
		return -EFBIG;
	proxy__obuf_add(h->o, s, n);
	return h->o->oom ? -ENOMEM : 0;
}

int proxy__hold_body(struct proxy_conn *c, enum http_body kind, uint64_t length, struct obuf *o,
		     const char **why)
{
	struct hold_sink h = {o, PROXY_ASK_BODY_MAX};

	if (kind == HTTP_BODY_LENGTH && length > PROXY_ASK_BODY_MAX)
		return -EFBIG;
	return read_body(c, kind, length, to_memory, &h, why);
}

static int discard(void *arg, const char *s, size_t n)
{
	return 0;
}

int proxy__drain_body(struct proxy_conn *c, enum http_body kind, uint64_t length)
{
	const char *why;

	if (kind == HTTP_BODY_LENGTH && length > 64 * 1024)
		return -EFBIG;
	if (kind == HTTP_BODY_CHUNKED)
		return -EFBIG; /* unbounded: the connection closes instead */
	return read_body(c, kind, length, discard, NULL, &why);
}

/* ---- the response ---- */

struct down {
	struct proxy_conn *c;
	struct proxy_redact_stream *rs;
	char *scratch; /* scratch_len: PROXY_IO_CHUNK + holdback */
	size_t scratch_len;
	bool chunked;
};

static int emit(struct down *d, const char *s, size_t n)
{
	struct pio *io = &d->c->c;
	int t = d->c->p->o.io_timeout_ms;

	if (d->rs) {
		while (n > 0) {
			size_t part = n < PROXY_IO_CHUNK ? n : PROXY_IO_CHUNK;
			size_t out = proxy_redact_stream_feed(d->rs, s, part, d->scratch);
			int r = d->chunked ? write_chunk(io, d->scratch, out, t)
					   : proxy__write(io, d->scratch, out, t);
			if (r < 0)
				return r;
			s += part, n -= part;
		}
		return 0;
	}
	return d->chunked ? write_chunk(io, s, n, t) : proxy__write(io, s, n, t);
}

static int emit_end(struct down *d)
{
	struct pio *io = &d->c->c;
	int t = d->c->p->o.io_timeout_ms;
	int r = 0;

	if (d->rs) {
		size_t out = proxy_redact_stream_finish(d->rs, d->scratch);
		r = d->chunked ? write_chunk(io, d->scratch, out, t)
			       : proxy__write(io, d->scratch, out, t);
	}
	if (r == 0 && d->chunked)
		r = proxy__write(io, "0\r\n\r\n", 5, t);
	return r;
}

/* The response buffer: a head, then body bytes as they come. */
struct ubuf {
	char *b;
	size_t cap, off, len;
};

static ssize_t up_more(struct proxy_conn *c, struct ubuf *u)
{
	ssize_t n;

	if (u->off == u->len)
		u->off = u->len = 0;
	if (u->len == u->cap) {
		if (u->off > 0) {
			memmove(u->b, u->b + u->off, u->len - u->off);
			u->len -= u->off;
			u->off = 0;
		} else {
			size_t cap = u->cap ? u->cap * 2 : 16384;
			char *nb;
			if (cap > HTTP_HEAD_MAX + 1 && u->cap >= HTTP_HEAD_MAX + 1)
				return -EMSGSIZE;
			if (cap > HTTP_HEAD_MAX + 1)
				cap = HTTP_HEAD_MAX + 1;
			nb = realloc(u->b, cap);
			if (!nb)
				return -ENOMEM;
			u->b = nb;
			u->cap = cap;
		}
	}
	n = proxy__read(&c->up.io, u->b + u->len, u->cap - u->len, c->p->o.io_timeout_ms);
	if (n > 0)
		u->len += (size_t)n;
	return n;
}

static bool drop_down(const struct http_head *h, const struct http_field *f, bool keep_cl)
{
	static const char *const names[] = {"connection", "keep-alive",        "proxy-connection",
					    "te",         "trailer",           "transfer-encoding",
					    "upgrade",    "proxy-authenticate"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (f->name_len == strlen(names[i]) && !strncasecmp(f->name, names[i], f->name_len))
			return true;
	if (f->name_len == 14 && !strncasecmp(f->name, "content-length", 14))
		return !keep_cl;
	return http_field_in_connection(h, f);
}

/* Sends the response head, with body[0..body_len) in the same write (a
 * small body already read: one TLS record, one syscall). */
static int down_head(struct proxy_conn *c, const struct http_response *res, bool keep, bool ws,
		     const struct proxy_redactor *red, const char *body, size_t body_len)
{
	const struct http_head *h = &res->h;
	char room[4096];
	struct obuf o = OBUF_ON(room);
	char line[64];
	int r;

	snprintf(line, sizeof(line), "HTTP/1.1 %d ", res->status);
	proxy__obuf_str(&o, line);
	proxy__obuf_add(&o, res->reason, res->reason_len);
	proxy__obuf_str(&o, "\r\n");
	for (size_t i = 0; i < h->n_fields; i++) {
		const struct http_field *f = &h->fields[i];
		if (drop_down(h, f, h->body == HTTP_BODY_NONE))
			continue;
		proxy__obuf_add(&o, f->name, f->name_len);
		proxy__obuf_str(&o, ": ");
		proxy__obuf_add(&o, f->value, f->value_len);
		proxy__obuf_str(&o, "\r\n");
	}
	if (h->body == HTTP_BODY_LENGTH) {
		snprintf(line, sizeof(line), "Content-Length: %" PRIu64 "\r\n", h->length);
		proxy__obuf_str(&o, line);
	} else if (h->body == HTTP_BODY_CHUNKED) {
		proxy__obuf_str(&o, "Transfer-Encoding: chunked\r\n");
	}
	if (ws) {
		int u = http_field_find(h, "upgrade", 0);
		proxy__obuf_str(&o, "Connection: upgrade\r\nUpgrade: ");
		if (u >= 0)
			proxy__obuf_add(&o, h->fields[u].value, h->fields[u].value_len);
		proxy__obuf_str(&o, "\r\n");
	} else if (!keep) {
		proxy__obuf_str(&o, "Connection: close\r\n");
	}
	proxy__obuf_str(&o, "\r\n");
	if (o.oom) {
		proxy__obuf_free(&o);
		return -ENOMEM;
	}
	if (red)
		proxy_redact_buf(red, o.b, o.len);
	proxy__obuf_add(&o, body, body_len);
	if (o.oom) {
		proxy__obuf_free(&o);
		return -ENOMEM;
	}
	r = proxy__write(&c->c, o.b, o.len, c->p->o.io_timeout_ms);
	proxy__obuf_free(&o);
	return r;
}

/* Both directions until either side closes or idles out. */
static void pipe_both(struct proxy_conn *c, struct ubuf *u, const struct proxy_redactor *red)
{
	char *buf = malloc(PROXY_IO_CHUNK);
	struct pio *ends[2] = {&c->c, &c->up.io};

	if (!buf)
		return;
	/* bytes already read past the heads */
	if (c->len > c->off &&
	    proxy__write(&c->up.io, c->buf + c->off, c->len - c->off, c->p->o.io_timeout_ms) < 0)
		goto out;
	c->off = c->len = 0;
	if (u->len > u->off &&
	    proxy__write(&c->c, u->b + u->off, u->len - u->off, c->p->o.io_timeout_ms) < 0)
		goto out;
	for (;;) {
		struct pollfd pfd[2] = {{.fd = c->c.fd, .events = POLLIN},
					{.fd = c->up.io.fd, .events = POLLIN}};
		int r = 0;

		if (!(c->c.ssl && SSL_has_pending(c->c.ssl)) &&
		    !(c->up.io.ssl && SSL_has_pending(c->up.io.ssl))) {
			r = proxy__poll(pfd, 2, c->p->o.idle_timeout_ms);
			if (r == 0 || (r < 0 && errno != EINTR))
				goto out;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;
			if (!(pfd[i].revents || (ends[i]->ssl && SSL_has_pending(ends[i]->ssl))))
				continue;
			n = proxy__read(ends[i], buf, PROXY_IO_CHUNK, 0);
			if (n == -ETIMEDOUT)
				continue;
			if (n <= 0)
				goto out;
			if (i == 1 && red) /* frames from a bound host: per read */
				proxy_redact_buf(red, buf, (size_t)n);
			if (proxy__write(ends[1 - i], buf, (size_t)n, c->p->o.io_timeout_ms) < 0)
				goto out;
		}
	}
out:
	free(buf);
}

int proxy__relay_response(struct proxy_conn *c, bool head_req, bool keep_req, bool ws,
			  const struct proxy_redactor *red, struct req_info *ri, char *why,
			  size_t size)
{
	struct ubuf u = {c->ubuf, c->ubuf_cap, 0, 0}; /* kept across requests */
	const char *inline_body = NULL;
	struct http_response res;
	struct down d = {.c = c};
	const char *pwhy = NULL;
	bool keep = false, reuse = false;
	int r;

	for (;;) { /* a head; 1xx other than 101 are dropped (we never send Expect) */
		r = u.len > u.off ? http_parse_response(u.b + u.off, u.len - u.off, head_req, false,
							&res, &pwhy)
				  : HTTP_INCOMPLETE;
		if (r > 0 && res.status >= 100 && res.status < 200 && res.status != 101) {
			u.off += (size_t)r;
			continue;
		}
		if (r > 0)
			break;
		if (r != HTTP_INCOMPLETE) {
			snprintf(why, size, "malformed response from %s: %s", c->up.host, pwhy);
			r = -EBADMSG;
			goto fail;
		}
		ssize_t n = up_more(c, &u);
		if (ri->first_byte_ms < 0 && n > 0)
			ri->first_byte_ms = proxy__now_ms() - ri->t0;
		if (n <= 0) {
			snprintf(why, size, "%s closed or failed before a response head: %s",
				 c->up.host, n == 0 ? "end of stream" : strerror((int)-n));
			r = n == 0 ? -ECONNRESET : (int)n;
			goto fail;
		}
	}
	ri->status = res.status;
	if (res.status == 101 && !ws) {
		snprintf(why, size, "%s switched protocols without an upgrade request", c->up.host);
		r = -EPROTO;
		goto fail;
	}
	ws = res.status == 101;
	keep = keep_req && !ws && res.h.body != HTTP_BODY_CLOSE;
	u.off += (size_t)res.h.head_len;
	if (!red && res.h.body == HTTP_BODY_LENGTH && res.h.length <= 16384 &&
	    u.len - u.off >= res.h.length)
		inline_body = u.b + u.off;
	r = down_head(c, &res, keep, ws, red, inline_body, inline_body ? (size_t)res.h.length : 0);
	if (inline_body) {
		u.off += (size_t)res.h.length;
		res.h.length = 0; /* nothing left to relay */
	}
	if (r < 0)
		goto sent;
	if (ws) {
		pipe_both(c, &u, red);
		keep = false;
		goto sent;
	}
	d.chunked = res.h.body == HTTP_BODY_CHUNKED;
	if (red && res.h.body != HTTP_BODY_NONE) {
		d.scratch_len = PROXY_IO_CHUNK + proxy_redactor_holdback(red);
		d.scratch = malloc(d.scratch_len);
		if (!d.scratch || proxy_redact_stream_new(red, &d.rs) < 0) {
			keep = false;
			goto sent;
		}
	}
	{
		struct http_chunked dec;
		uint64_t left = res.h.length;

		http_chunked_init(&dec);
		for (;;) {
			size_t have = u.len - u.off;
			if (res.h.body == HTTP_BODY_NONE ||
			    (res.h.body == HTTP_BODY_LENGTH && left == 0) ||
			    (res.h.body == HTTP_BODY_CHUNKED && dec.done))
				break;
			if (have == 0) {
				ssize_t n = up_more(c, &u);
				if (n == 0 && res.h.body == HTTP_BODY_CLOSE)
					break;
				if (n <= 0) {
					keep = false;
					goto sent; /* cut short: the client sees a short body */
				}
				continue;
			}
			if (res.h.body == HTTP_BODY_CHUNKED) {
				size_t n = have;
				long used = http_chunked_decode(&dec, u.b + u.off, &n, &pwhy);
				if (used < 0) {
					keep = false;
					goto sent;
				}
				r = emit(&d, u.b + u.off, n);
				u.off += (size_t)used;
			} else {
				size_t take = res.h.body == HTTP_BODY_LENGTH && left < have
						      ? (size_t)left
						      : have;
				r = emit(&d, u.b + u.off, take);
				u.off += take;
				left -= res.h.body == HTTP_BODY_LENGTH ? take : 0;
			}
			if (r < 0) {
				keep = false;
				goto sent;
			}
		}
		if (emit_end(&d) < 0)
			keep = false;
		reuse = res.h.keep_alive && res.h.body != HTTP_BODY_CLOSE && u.off == u.len;
	}
sent:
	if (!reuse)
		proxy__upstream_close(&c->up);
	proxy_redact_stream_free(d.rs);
	if (d.scratch)
		explicit_bzero(d.scratch, d.scratch_len);
	free(d.scratch);
	if (u.b && red)
		explicit_bzero(u.b, u.cap); /* may hold a secret the origin echoed */
	c->ubuf = u.b;
	c->ubuf_cap = u.cap;
	return keep ? 1 : 0;
fail:
	proxy__upstream_close(&c->up);
	c->ubuf = u.b;
	c->ubuf_cap = u.cap;
	return r;
}
