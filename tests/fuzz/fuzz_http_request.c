/* fuzz_http_request.c - fuzz target for the HTTP head parsers
 * (http_parse_request and http_parse_response in proxy/http.c).
 *
 * Replayed over corpus/fuzz_http_request by ctest (replay.c); fuzzed with
 * libFuzzer as tests/fuzz/README.md says. The same bytes are parsed as a
 * request and as a response (to GET, HEAD and CONNECT). Whatever is
 * accepted must hold together: the head lies within the input and ends in
 * CRLF CRLF with no bare LF before, every pointer of the result lies inside
 * the head, every field name is a token, the framing is one the contract
 * allows, and the result does not depend on the bytes after the head (a
 * proper prefix is incomplete, the head alone parses the same). A refusal
 * always has a reason, and never the one that says our own line check and
 * picohttpparser disagreed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void within(const char *buf, size_t head_len, const char *p, size_t n)
{
	if (n && (!p || p < buf || p + n > buf + head_len))
		abort();
}

static void check_head(const char *buf, size_t size, int r, const struct http_head *h)
{
	if ((size_t)r > size || (size_t)r > HTTP_HEAD_MAX || h->head_len != (size_t)r || r < 4 ||
	    memcmp(buf + r - 4, "\r\n\r\n", 4) != 0)
		abort();
	for (int i = 0; i < r; i++)
		if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
			abort();
	if (h->n_fields > HTTP_HEADERS_MAX || (h->minor != 0 && h->minor != 1))
		abort();
	for (size_t i = 0; i < h->n_fields; i++) {
		const struct http_field *f = &h->fields[i];
		within(buf, (size_t)r, f->name, f->name_len);
		within(buf, (size_t)r, f->value, f->value_len);
		if (f->name_len == 0 || memchr(f->name, ':', f->name_len) ||
		    memchr(f->name, ' ', f->name_len))
			abort();
		for (size_t k = 0; k < f->value_len; k++)
			if (f->value[k] == '\0' || f->value[k] == '\r' || f->value[k] == '\n')
				abort();
		if (f->value_len && (f->value[0] == ' ' || f->value[f->value_len - 1] == ' '))
			abort();
		if (http_field_find(h, "x", i) > (int)h->n_fields)
			abort();
	}
	if (h->websocket && !h->upgrade)
		abort();
	if (h->body != HTTP_BODY_LENGTH && h->length != 0)
		abort();
	if (h->body == HTTP_BODY_CLOSE && h->keep_alive)
		abort();
}

static void refused(const char *why)
{
	if (!why || !why[0] || strcmp(why, "head tokenised inconsistently") == 0)
		abort();
}

/* Whether the parser took a whole head (r > 0); a refusal must say why, and
 * only a buffer shorter than the limit may be incomplete. */
static bool parsed(int r, const char *why, size_t size)
{
	if (r == HTTP_BAD) {
		refused(why);
		return false;
	}
	if (r == HTTP_INCOMPLETE) {
		if (size >= HTTP_HEAD_MAX)
			abort();
		return false;
	}
	if (r < 0)
		abort();
	return true;
}

static void request(const char *buf, size_t size)
{
	static struct http_request req, again;
	const char *why = NULL;
	int r = http_parse_request(buf, size, &req, &why);

	if (!parsed(r, why, size))
		return;
	check_head(buf, size, r, &req.h);
	within(buf, (size_t)r, req.method, req.method_len);
	within(buf, (size_t)r, req.target, req.target_len);
	if (!req.method_len || !req.target_len || req.h.body == HTTP_BODY_CLOSE)
		abort();
	for (size_t i = 0; i < req.target_len; i++)
		if ((unsigned char)req.target[i] <= 0x20 || (unsigned char)req.target[i] >= 0x7f)
			abort();
	if (req.host_field >= (int)req.h.n_fields ||
	    (req.host_field >= 0 && http_field_find(&req.h, "host", 0) != req.host_field))
		abort();
	if (http_parse_request(buf, (size_t)r, &again, &why) != r ||
	    again.h.n_fields != req.h.n_fields || again.h.body != req.h.body ||
	    again.h.length != req.h.length || again.h.keep_alive != req.h.keep_alive)
		abort();
	if (http_parse_request(buf, (size_t)r - 1, &again, &why) != HTTP_INCOMPLETE)
		abort();
}

static void response(const char *buf, size_t size, bool head, bool connect)
{
	static struct http_response res;
	const char *why = NULL;
	int r = http_parse_response(buf, size, head, connect, &res, &why);

	if (!parsed(r, why, size))
		return;
	check_head(buf, size, r, &res.h);
	within(buf, (size_t)r, res.reason, res.reason_len);
	if (res.status < 100 || res.status > 599)
		abort();
	if ((head || res.status / 100 == 1 || res.status == 204 || res.status == 304 ||
	     (connect && res.status / 100 == 2)) != (res.h.body == HTTP_BODY_NONE))
		abort();
	if (http_parse_response(buf, (size_t)r - 1, head, connect, &res, &why) != HTTP_INCOMPLETE)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;

	request(buf, size);
	response(buf, size, false, false);
	response(buf, size, true, false);
	response(buf, size, false, true);
	return 0;
}
