/* http.c - strict HTTP/1.1 message heads (proxy/http.h).
 *
 * Three passes over a head, each bounded by HTTP_HEAD_MAX: find its end
 * (refusing bare LF on the way), check every line against RFC 9112's grammar
 * with a reason for each refusal, then let picohttpparser tokenise it. The
 * check comes first because picohttpparser says only "-1" when it refuses and
 * accepts things a proxy must not (phr.h lists them); its tokens are then
 * what the results point at, and a head the two read differently is refused
 * rather than guessed at. Framing (RFC 9112 6.3) is decided last, from the
 * fields. */
#include <stdint.h>
#include <string.h>

#include "proxy/http.h"
#include "proxy/http_internal.h"
#include "proxy/phr.h"

/* Content-Length values above this are refused as overflowing: a consumer
 * may well hold a length in an off_t or an int64_t. */
#define LENGTH_MAX ((uint64_t)INT64_MAX)

/* The end of the head (the first CRLF CRLF) within the first HTTP_HEAD_MAX
 * bytes: its length, HTTP_INCOMPLETE, or HTTP_BAD. Every LF must follow a CR:
 * picohttpparser accepts bare LF as a line end, and two parsers that disagree
 * about where a line ends are how requests get smuggled. */
static int find_head_end(const char *buf, size_t len, const char **why)
{
	size_t n = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
	const char *p = buf, *end = buf + n, *lf;

	while (p < end && (lf = memchr(p, '\n', (size_t)(end - p)))) {
		size_t i = (size_t)(lf - buf);
		if (i == 0 || buf[i - 1] != '\r') {
			*why = "bare LF in head";
			return HTTP_BAD;
		}
		if (i >= 3 && buf[i - 2] == '\n')
			return (int)(i + 1); /* buf[i - 3] is a CR: checked one LF ago */
		p = lf + 1;
	}
	if (len >= HTTP_HEAD_MAX) {
		*why = "head too large";
		return HTTP_BAD;
	}
	return HTTP_INCOMPLETE;
}

/* "HTTP/1.0" or "HTTP/1.1": the minor version; else -1 with *why set. */
static int check_version(const char *p, size_t n, const char **why)
{
	if (n == 8 && memcmp(p, "HTTP/1.", 7) == 0 && (p[7] == '0' || p[7] == '1'))
		return p[7] - '0';
	*why = n >= 5 && memcmp(p, "HTTP/", 5) == 0 ? "unsupported HTTP version"
						    : "bad request line";
	return -1;
}

static bool is_token(const char *p, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!http__is_tchar((unsigned char)p[i]))
			return false;
	return true;
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* RFC 9112 3.2: origin-form, absolute-form, authority-form (only and always
 * for CONNECT), asterisk-form (only for OPTIONS). The bytes themselves are
 * already known to be visible ASCII. */
static bool target_form_ok(const char *m, size_t mlen, const char *t, size_t tlen)
{
	const char *colon;

	if (mlen == 7 && memcmp(m, "CONNECT", 7) == 0) {
		/* host ":" port, the host possibly a bracketed IPv6 literal */
		colon = memrchr(t, ':', tlen);
		if (!colon || colon == t || colon + 1 == t + tlen || memchr(t, '/', tlen))
			return false;
		for (const char *d = colon + 1; d < t + tlen; d++)
			if (*d < '0' || *d > '9')
				return false;
		return true;
	}
	if (t[0] == '/')
		return true;
	if (tlen == 1 && t[0] == '*')
		return mlen == 7 && memcmp(m, "OPTIONS", 7) == 0;
	/* absolute-form: scheme ":" ... (RFC 3986 3.1) */
	if (!is_alpha(t[0]))
		return false;
	for (size_t i = 1; i < tlen; i++) {
		if (t[i] == ':')
			return i + 1 < tlen;
		if (!is_alpha(t[i]) && !(t[i] >= '0' && t[i] <= '9') && t[i] != '+' &&
		    t[i] != '-' && t[i] != '.')
			return false;
	}
	return false;
}

/* method SP request-target SP HTTP-version (RFC 9112 3). */
static int check_request_line(const char *p, size_t n, const char **why)
{
	/* The target is what lies between the first SP and the last: a space
	 * inside it is then reported as what it is. */
	const char *sp1 = memchr(p, ' ', n), *sp2 = memrchr(p, ' ', n), *t;
	size_t tlen;

	if (!sp1 || sp2 == sp1) {
		*why = "bad request line";
		return -1;
	}
	if (!is_token(p, (size_t)(sp1 - p))) {
		*why = "bad method";
		return -1;
	}
	t = sp1 + 1;
	tlen = (size_t)(sp2 - t);
	if (tlen == 0) {
		*why = "bad request target";
		return -1;
	}
	for (size_t i = 0; i < tlen; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c <= 0x20 || c >= 0x7f) {
			*why = "bad request target";
			return -1;
		}
	}
	if (check_version(sp2 + 1, (size_t)(p + n - sp2 - 1), why) < 0)
		return -1;
	if (!target_form_ok(p, (size_t)(sp1 - p), t, tlen)) {
		*why = "bad request target";
		return -1;
	}
	return 0;
}

/* HTTP-version SP 3DIGIT SP [reason-phrase] (RFC 9112 4). The second SP is
 * required: libh2o's picohttpparser refuses a status line without it. */
static int check_status_line(const char *p, size_t n, const char **why)
{
	int status;

	if (n < 8 || check_version(p, 8, why) < 0) {
		*why = n >= 5 && memcmp(p, "HTTP/", 5) == 0 ? "unsupported HTTP version"
							    : "bad status line";
		return -1;
	}
	if (n < 13 || p[8] != ' ' || p[12] != ' ')
		goto bad;
	status = 0;
	for (int i = 9; i < 12; i++) {
		if (p[i] < '0' || p[i] > '9')
			goto bad;
		status = status * 10 + (p[i] - '0');
	}
	if (status < 100 || status > 599) /* RFC 9110 15 */
		goto bad;
	for (size_t i = 13; i < n; i++)
		if (!http__is_value_byte((unsigned char)p[i]))
			goto bad;
	return 0;
bad:
	*why = "bad status line";
	return -1;
}

/* field-name ":" OWS field-value OWS (RFC 9112 5). */
static int check_field_line(const char *p, size_t n, bool first, const char **why)
{
	const char *colon;

	if (n > 0 && (p[0] == ' ' || p[0] == '\t')) {
		/* before the first field it is no fold, but RFC 9112 2.2 lets
		 * us refuse it just the same */
		*why = first ? "bad field name" : "obs-fold";
		return -1;
	}
	colon = memchr(p, ':', n);
	if (!colon || !is_token(p, (size_t)(colon - p))) {
		*why = "bad field name";
		return -1;
	}
	for (const char *v = colon + 1; v < p + n; v++) {
		if (*v == '\0' || *v == '\r') {
			*why = "NUL/CR/LF in field value";
			return -1;
		}
		if (!http__is_value_byte((unsigned char)*v)) {
			*why = "control character in field value";
			return -1;
		}
	}
	return 0;
}

/* Every line of the head buf[0..head_len), which ends in CRLF CRLF and has
 * no bare LF. *n_fields: the number of field lines. */
static int check_lines(const char *buf, size_t head_len, bool request, size_t *n_fields,
		       const char **why)
{
	const char *p = buf, *end = buf + head_len, *lf;
	size_t n = 0;

	/* RFC 9112 2.2: one empty line before a request line is ignored
	 * (picohttpparser skips it too). */
	if (request && p[0] == '\r' && p[1] == '\n')
		p += 2;
	lf = memchr(p, '\n', (size_t)(end - p));
	if ((request ? check_request_line : check_status_line)(p, (size_t)(lf - 1 - p), why) < 0)
		return -1;
	for (p = lf + 1; p < end - 2; p = lf + 1, n++) {
		if (n == HTTP_HEADERS_MAX) {
			*why = "too many header fields";
			return -1;
		}
		lf = memchr(p, '\n', (size_t)(end - p));
		if (check_field_line(p, (size_t)(lf - 1 - p), n == 0, why) < 0)
			return -1;
	}
	*n_fields = n;
	return 0;
}

/* picohttpparser's fields into h, values trimmed of OWS (it trims only the
 * leading side). */
static int take_fields(struct http_head *h, const struct phr_header *ph, size_t n, size_t n_checked,
		       const char **why)
{
	if (n != n_checked) {
		*why = "head tokenised inconsistently";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct http_field *f = &h->fields[i];
		if (!ph[i].name) {
			*why = "obs-fold";
			return -1;
		}
		f->name = ph[i].name;
		f->name_len = ph[i].name_len;
		f->value = ph[i].value;
		f->value_len = ph[i].value_len;
		while (f->value_len && (f->value[0] == ' ' || f->value[0] == '\t')) {
			f->value++;
			f->value_len--;
		}
		while (f->value_len &&
		       (f->value[f->value_len - 1] == ' ' || f->value[f->value_len - 1] == '\t'))
			f->value_len--;
	}
	h->n_fields = n;
	return 0;
}

/* 1*DIGIT, at most LENGTH_MAX. */
static int parse_length(const struct http_field *f, uint64_t *out)
{
	uint64_t v = 0;

	if (f->value_len == 0)
		return -1;
	for (size_t i = 0; i < f->value_len; i++) {
		unsigned d = (unsigned)(unsigned char)f->value[i] - '0';
		if (d > 9 || v > (LENGTH_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static bool name_is(const struct http_field *f, const char *name)
{
	size_t n = strlen(name);

	return f->name_len == n && http__eqi(f->name, name, n);
}

/* What the framing and persistence fields say, for requests and responses
 * alike: h->body is NONE, LENGTH or CHUNKED here; a response's status may
 * still override it. */
static int read_framing(struct http_head *h, const char **why)
{
	int cl = -1, te = -1;
	bool close = false, ka = false, conn_upgrade = false, upgrade = false, ws = false;
	bool chunked = false;

	for (size_t i = 0; i < h->n_fields; i++) {
		const struct http_field *f = &h->fields[i];
		if (name_is(f, "content-length")) {
			if (cl >= 0) {
				*why = "duplicate Content-Length";
				return -1;
			}
			cl = (int)i;
			if (parse_length(f, &h->length) < 0) {
				*why = "bad Content-Length";
				return -1;
			}
		} else if (name_is(f, "transfer-encoding")) {
			if (te >= 0) {
				/* two fields are one list: "chunked, chunked" */
				*why = "unsupported Transfer-Encoding";
				return -1;
			}
			te = (int)i;
		} else if (name_is(f, "connection")) {
			close |= http_field_has_token(f, "close");
			ka |= http_field_has_token(f, "keep-alive");
			conn_upgrade |= http_field_has_token(f, "upgrade");
		} else if (name_is(f, "upgrade")) {
			upgrade = true;
			ws |= http_field_has_token(f, "websocket");
		}
	}
	if (te >= 0) {
		const struct http_field *f = &h->fields[te];
		if (cl >= 0) {
			*why = "Content-Length with Transfer-Encoding";
			return -1;
		}
		/* RFC 9112 6.1: in HTTP/1.0 the framing is faulty */
		if (h->minor == 0) {
			*why = "Transfer-Encoding in HTTP/1.0";
			return -1;
		}
		if (f->value_len != 7 || !http__eqi(f->value, "chunked", 7)) {
			*why = "unsupported Transfer-Encoding";
			return -1;
		}
		chunked = true;
	}
	h->body = chunked ? HTTP_BODY_CHUNKED : cl >= 0 ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
	h->keep_alive = !close && (h->minor >= 1 || ka);
	h->upgrade = conn_upgrade && upgrade;
	h->websocket = h->upgrade && ws;
	return 0;
}

int http_parse_request(const char *buf, size_t len, struct http_request *req, const char **why)
{
	struct phr_header ph[HTTP_HEADERS_MAX];
	size_t n = HTTP_HEADERS_MAX, n_checked = 0;
	int head_len, r;

	memset(req, 0, sizeof(*req));
	req->host_field = -1;
	head_len = find_head_end(buf, len, why);
	if (head_len <= 0)
		return head_len;
	if (check_lines(buf, (size_t)head_len, true, &n_checked, why) < 0)
		return HTTP_BAD;
	r = phr_parse_request(buf, (size_t)head_len, &req->method, &req->method_len, &req->target,
			      &req->target_len, &req->h.minor, ph, &n, 0);
	if (r != head_len) {
		*why = "head tokenised inconsistently";
		return HTTP_BAD;
	}
	if (take_fields(&req->h, ph, n, n_checked, why) < 0)
		return HTTP_BAD;
	req->h.head_len = (size_t)head_len;
	if (read_framing(&req->h, why) < 0)
		return HTTP_BAD;
	for (int i = 0; (i = http_field_find(&req->h, "host", (size_t)i)) >= 0; i++) {
		if (req->host_field >= 0) {
			*why = "duplicate Host";
			return HTTP_BAD;
		}
		req->host_field = i;
	}
	/* RFC 9110 7.8 and 10.1.1: an HTTP/1.0 request's Upgrade and
	 * "Expect: 100-continue" are ignored */
	if (req->h.minor == 0) {
		req->h.upgrade = req->h.websocket = false;
		return head_len;
	}
	for (int i = 0; (i = http_field_find(&req->h, "expect", (size_t)i)) >= 0; i++) {
		const struct http_field *f = &req->h.fields[i];
		if (f->value_len == 12 && http__eqi(f->value, "100-continue", 12))
			req->expect_continue = true;
	}
	return head_len;
}

int http_parse_response(const char *buf, size_t len, bool method_head, bool connect,
			struct http_response *res, const char **why)
{
	struct phr_header ph[HTTP_HEADERS_MAX];
	size_t n = HTTP_HEADERS_MAX, n_checked = 0;
	int head_len, r, s;

	memset(res, 0, sizeof(*res));
	head_len = find_head_end(buf, len, why);
	if (head_len <= 0)
		return head_len;
	if (check_lines(buf, (size_t)head_len, false, &n_checked, why) < 0)
		return HTTP_BAD;
	r = phr_parse_response(buf, (size_t)head_len, &res->h.minor, &res->status, &res->reason,
			       &res->reason_len, ph, &n, 0);
	if (r != head_len) {
		*why = "head tokenised inconsistently";
		return HTTP_BAD;
	}
	if (take_fields(&res->h, ph, n, n_checked, why) < 0)
		return HTTP_BAD;
	res->h.head_len = (size_t)head_len;
	if (read_framing(&res->h, why) < 0)
		return HTTP_BAD;
	s = res->status;
	/* RFC 9112 6.3 items 1 and 2: these never have content, whatever the
	 * fields say */
	if (s / 100 == 1 || s == 204 || s == 304 || method_head || (connect && s / 100 == 2)) {
		res->h.body = HTTP_BODY_NONE;
		res->h.length = 0;
	} else if (res->h.body == HTTP_BODY_NONE) {
		res->h.body = HTTP_BODY_CLOSE; /* item 8: read until the server closes */
		res->h.keep_alive = false;
	}
	return head_len;
}

int http_field_find(const struct http_head *h, const char *name, size_t from)
{
	for (size_t i = from; i < h->n_fields; i++)
		if (name_is(&h->fields[i], name))
			return (int)i;
	return -1;
}

static bool has_token(const struct http_field *f, const char *token, size_t tn)
{
	const char *p = f->value, *end = f->value + f->value_len;

	if (tn == 0)
		return false;
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - p) == tn && http__eqi(p, token, tn))
			return true;
		p = comma ? comma + 1 : end;
	}
	return false;
}

bool http_field_has_token(const struct http_field *f, const char *token)
{
	return has_token(f, token, strlen(token));
}

bool http_field_in_connection(const struct http_head *h, const struct http_field *f)
{
	for (int i = http_field_find(h, "connection", 0); i >= 0;
	     i = http_field_find(h, "connection", (size_t)i + 1))
		if (has_token(&h->fields[i], f->name, f->name_len))
			return true;
	return false;
}
