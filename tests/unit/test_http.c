/* test_http.c - table-driven tests of proxy/http.h: every refusal the header
 * lists (with its reason), requests and responses that must be accepted and
 * how their bodies are framed, persistence and upgrades, field lookup, the
 * size limits at and one past their bounds, and the chunked decoder, each of
 * whose vectors is also fed one byte at a time and in random splits (the
 * result must not depend on where the input is cut). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proxy/http.h"
#include "proxy/phr.h"

/* A table case's parse: refused with exactly the reason it wants (why_want
 * set), or a whole head to check further (true). */
static bool parsed_as_wanted(const char *name, int r, const char *why, const char *why_want)
{
	if (why_want) {
		check(r == HTTP_BAD && why && strcmp(why, why_want) == 0, name,
		      "got %d (%s), want \"%s\"", r, why ? why : "-", why_want);
		return false;
	}
	if (r <= 0) {
		check(0, name, "got %d (%s)", r, why ? why : "-");
		return false;
	}
	return true;
}

enum { NONE = HTTP_BODY_NONE, LEN = HTTP_BODY_LENGTH, CHUNK = HTTP_BODY_CHUNKED };

/* flags: k keep_alive, u upgrade, w websocket, e expect_continue */
struct req_case {
	const char *name;
	const char *in;
	size_t len;
	const char *why; /* NULL: accepted, with the framing below */
	int body;        /* an enum http_body */
	uint64_t length;
	const char *flags;
};

/* clang-format off */
#define BAD(n, lit, w) {.name = n, .in = lit, .len = sizeof(lit) - 1, .why = w}
#define OK(n, lit, b, l, f) {.name = n, .in = lit, .len = sizeof(lit) - 1, \
	.body = b, .length = l, .flags = f}
/* clang-format on */

#define GET "GET / HTTP/1.1\r\nHost: a\r\n"

static const struct req_case req_cases[] = {
	/* framing */
	BAD("CL with TE",
	    "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "Content-Length with Transfer-Encoding"),
	BAD("TE with CL",
	    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
	    "Content-Length with Transfer-Encoding"),
	BAD("TE xchunked", GET "Transfer-Encoding: xchunked\r\n\r\n",
	    "unsupported Transfer-Encoding"),
	BAD("TE chunked, gzip", GET "Transfer-Encoding: chunked, gzip\r\n\r\n",
	    "unsupported Transfer-Encoding"),
	BAD("TE gzip, chunked", GET "Transfer-Encoding: gzip, chunked\r\n\r\n",
	    "unsupported Transfer-Encoding"),
	BAD("TE identity", GET "Transfer-Encoding: identity\r\n\r\n",
	    "unsupported Transfer-Encoding"),
	BAD("TE empty", GET "Transfer-Encoding:\r\n\r\n", "unsupported Transfer-Encoding"),
	BAD("TE twice", GET "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "unsupported Transfer-Encoding"),
	BAD("TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "Transfer-Encoding in HTTP/1.0"),
	BAD("CL twice, same value", GET "Content-Length: 5\r\nContent-Length: 5\r\n\r\n",
	    "duplicate Content-Length"),
	BAD("CL twice, other case", GET "Content-Length: 5\r\ncontent-length: 6\r\n\r\n",
	    "duplicate Content-Length"),
	BAD("CL list 5, 5", GET "Content-Length: 5, 5\r\n\r\n", "bad Content-Length"),
	BAD("CL +5", GET "Content-Length: +5\r\n\r\n", "bad Content-Length"),
	BAD("CL -1", GET "Content-Length: -1\r\n\r\n", "bad Content-Length"),
	BAD("CL empty", GET "Content-Length: \r\n\r\n", "bad Content-Length"),
	BAD("CL 5 5", GET "Content-Length: 5 5\r\n\r\n", "bad Content-Length"),
	BAD("CL hex", GET "Content-Length: 0x5\r\n\r\n", "bad Content-Length"),
	BAD("CL 20 digits", GET "Content-Length: 99999999999999999999\r\n\r\n",
	    "bad Content-Length"),
	BAD("CL INT64_MAX + 1", GET "Content-Length: 9223372036854775808\r\n\r\n",
	    "bad Content-Length"),
	/* fields */
	BAD("Host twice", GET "Host: b\r\n\r\n", "duplicate Host"),
	BAD("Host twice, other case", GET "hOST: a\r\n\r\n", "duplicate Host"),
	BAD("obs-fold", GET "X: a\r\n b\r\n\r\n", "obs-fold"),
	BAD("obs-fold with tab", GET "X: a\r\n\tb\r\n\r\n", "obs-fold"),
	BAD("space before the first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", "bad field name"),
	BAD("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", "bad field name"),
	BAD("empty field name", GET ": a\r\n\r\n", "bad field name"),
	BAD("field without colon", GET "Host a\r\n\r\n", "bad field name"),
	BAD("field name not a token", GET "X(y): a\r\n\r\n", "bad field name"),
	BAD("field name non-ASCII", GET "X\xc3\xa9: a\r\n\r\n", "bad field name"),
	BAD("NUL in value", GET "X: a\0b\r\n\r\n", "NUL/CR/LF in field value"),
	BAD("CR in value", GET "X: a\rb\r\n\r\n", "NUL/CR/LF in field value"),
	BAD("CR at end of value", GET "X: a\r\r\n\r\n", "NUL/CR/LF in field value"),
	BAD("SOH in value", GET "X: a\x01\r\n\r\n", "control character in field value"),
	BAD("DEL in value", GET "X: a\x7f\r\n\r\n", "control character in field value"),
	/* line ends */
	BAD("bare LF after request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", "bare LF in head"),
	BAD("bare LF after a field", GET "X: a\nY: b\r\n\r\n", "bare LF in head"),
	BAD("bare LF at the end", GET "\n", "bare LF in head"),
	BAD("LF LF", "GET / HTTP/1.1\n\n", "bare LF in head"),
	BAD("LF first", "\nGET / HTTP/1.1\r\n\r\n", "bare LF in head"),
	BAD("bare LF in an incomplete head", "GET / HTTP/1.1\r\nX: a\n", "bare LF in head"),
	/* request line */
	BAD("HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", "unsupported HTTP version"),
	BAD("HTTP/1.2", "GET / HTTP/1.2\r\n\r\n", "unsupported HTTP version"),
	BAD("HTTP/1.10", "GET / HTTP/1.10\r\n\r\n", "unsupported HTTP version"),
	BAD("HTTP/0.9 line", "GET /\r\n\r\n", "bad request line"),
	BAD("lowercase version", "GET / http/1.1\r\n\r\n", "bad request line"),
	BAD("empty method", " / HTTP/1.1\r\n\r\n", "bad method"),
	BAD("method not a token", "G@T / HTTP/1.1\r\n\r\n", "bad method"),
	BAD("method non-ASCII", "G\xc9T / HTTP/1.1\r\n\r\n", "bad method"),
	BAD("two empty lines first", "\r\n\r\nGET / HTTP/1.1\r\n\r\n", "bad request line"),
	BAD("space in target", "GET /a b HTTP/1.1\r\n\r\n", "bad request target"),
	BAD("two spaces", "GET  / HTTP/1.1\r\n\r\n", "bad request target"),
	BAD("empty target", "GET  HTTP/1.1\r\n\r\n", "bad request target"),
	BAD("NUL in target", "GET /\0 HTTP/1.1\r\n\r\n", "bad request target"),
	BAD("tab in target", "GET /\t HTTP/1.1\r\n\r\n", "bad request target"),
	BAD("DEL in target", "GET /\x7f HTTP/1.1\r\n\r\n", "bad request target"),
	BAD("0x80 in target", "GET /\x80 HTTP/1.1\r\n\r\n", "bad request target"),
	BAD("CR in target", "GET /\r HTTP/1.1\r\n\r\n", "bad request target"),
	BAD("relative target", "GET abc HTTP/1.1\r\n\r\n", "bad request target"),
	BAD("* for GET", "GET * HTTP/1.1\r\n\r\n", "bad request target"),
	BAD("CONNECT origin-form", "CONNECT / HTTP/1.1\r\n\r\n", "bad request target"),
	BAD("CONNECT without port", "CONNECT example.com HTTP/1.1\r\n\r\n", "bad request target"),
	BAD("CONNECT bad port", "CONNECT example.com:44x HTTP/1.1\r\n\r\n", "bad request target"),
	BAD("CONNECT with path", "CONNECT example.com:443/x HTTP/1.1\r\n\r\n",
	    "bad request target"),
	BAD("absolute-form without colon", "GET http//x HTTP/1.1\r\n\r\n", "bad request target"),
	BAD("CRLF only", "\r\n\r\n", "bad request line"),

	/* accepted */
	OK("GET origin-form", GET "\r\n", NONE, 0, "k"),
	OK("GET absolute-form",
	   "GET http://example.com/x?y=1 HTTP/1.1\r\nHost: example.com\r\n\r\n", NONE, 0, "k"),
	OK("CONNECT authority-form",
	   "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", NONE, 0, "k"),
	OK("CONNECT IPv6", "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n", NONE, 0, "k"),
	OK("OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", NONE, 0, "k"),
	OK("one empty line first", "\r\n" GET "\r\n", NONE, 0, "k"),
	OK("POST CL", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", LEN, 5, "k"),
	OK("POST CL 0", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", LEN, 0, "k"),
	OK("CL INT64_MAX", GET "Content-Length: 9223372036854775807\r\n\r\n", LEN, INT64_MAX, "k"),
	OK("CL leading zeros", GET "Content-Length: 007\r\n\r\n", LEN, 7, "k"),
	OK("CL with OWS", GET "Content-Length:\t 12 \t\r\n\r\n", LEN, 12, "k"),
	OK("POST chunked", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n",
	   CHUNK, 0, "k"),
	OK("TE Chunked, OWS", GET "transfer-encoding:  Chunked \r\n\r\n", CHUNK, 0, "k"),
	OK("1.1 keep-alive by default", GET "\r\n", NONE, 0, "k"),
	OK("1.1 Connection: close", GET "Connection: close\r\n\r\n", NONE, 0, ""),
	OK("1.1 keep-alive, close", GET "Connection: keep-alive, CLOSE\r\n\r\n", NONE, 0, ""),
	OK("1.1 close in a second field", GET "Connection: x\r\nConnection: close\r\n\r\n", NONE, 0,
	   ""),
	OK("1.0 closes by default", "GET / HTTP/1.0\r\n\r\n", NONE, 0, ""),
	OK("1.0 Connection: keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", NONE,
	   0, "k"),
	OK("1.0 keep-alive, close", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", NONE,
	   0, ""),
	OK("websocket", GET "Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n", NONE,
	   0, "kuw"),
	OK("WebSocket, other case", GET "connection: upgrade\r\nupgrade: WebSocket\r\n\r\n", NONE,
	   0, "kuw"),
	OK("upgrade to h2c", GET "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\r\n",
	   NONE, 0, "ku"),
	OK("Upgrade without Connection", GET "Upgrade: websocket\r\n\r\n", NONE, 0, "k"),
	OK("Connection: upgrade without Upgrade", GET "Connection: upgrade\r\n\r\n", NONE, 0, "k"),
	OK("upgrade ignored in 1.0",
	   "GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", NONE, 0, ""),
	OK("Expect: 100-continue",
	   "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n", LEN, 3,
	   "ke"),
	OK("Expect ignored in 1.0", "PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", NONE, 0, ""),
	OK("Expect something else", GET "Expect: 200-ok\r\n\r\n", NONE, 0, "k"),
	OK("empty value, obs-text value", GET "X:\r\nY: caf\xc3\xa9\r\n\r\n", NONE, 0, "k"),
	OK("no Host", "GET / HTTP/1.1\r\n\r\n", NONE, 0, "k"),
};

#undef BAD
#undef OK

static bool flag(const char *flags, char f)
{
	return flags && strchr(flags, f);
}

static void test_requests(void)
{
	for (size_t i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++) {
		const struct req_case *c = &req_cases[i];
		struct http_request req;
		const char *why = NULL;
		char name[160];
		int r = http_parse_request(c->in, c->len, &req, &why);
		const char *end = memmem(c->in, c->len, "\r\n\r\n", 4);

		snprintf(name, sizeof(name), "request: %s", c->name);
		if (!parsed_as_wanted(name, r, why, c->why))
			continue;
		check(end && (size_t)r == (size_t)(end + 4 - c->in) &&
			      req.h.head_len == (size_t)r && (int)req.h.body == c->body &&
			      req.h.length == c->length &&
			      req.h.keep_alive == flag(c->flags, 'k') &&
			      req.h.upgrade == flag(c->flags, 'u') &&
			      req.h.websocket == flag(c->flags, 'w') &&
			      req.expect_continue == flag(c->flags, 'e'),
		      name,
		      "r %d body %d length %llu keep_alive %d upgrade %d websocket %d expect %d", r,
		      (int)req.h.body, (unsigned long long)req.h.length, req.h.keep_alive,
		      req.h.upgrade, req.h.websocket, req.expect_continue);
	}
}

/* Every proper prefix of an accepted head is incomplete, never refused. */
static void test_prefixes(void)
{
	static const char *heads[] = {
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"\r\nPOST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		bool response = heads[i][0] == 'H';
		size_t n = strlen(heads[i]), bad = 0;
		for (size_t k = 0; k < n; k++) {
			struct http_request req;
			struct http_response res;
			const char *why;
			int r = response
					? http_parse_response(heads[i], k, false, false, &res, &why)
					: http_parse_request(heads[i], k, &req, &why);
			if (r != HTTP_INCOMPLETE)
				bad = k + 1;
		}
		check(bad == 0,
		      response ? "response: prefixes are incomplete"
			       : "request: prefixes are incomplete",
		      "prefix of %zu bytes of head %zu was not", bad - 1, i);
	}
}

static void test_fields(void)
{
	static const char in[] = "GET /x?y HTTP/1.1\r\nHost:  example.com \t\r\nX-A: 1\r\n"
				 "Connection: keep-alive, Upgrade\r\nx-a: 2\r\n\r\nBODY";
	struct http_request req;
	const char *why;
	int r = http_parse_request(in, sizeof(in) - 1, &req, &why);

	check(r == (int)(sizeof(in) - 1 - 4), "fields: head length excludes the body", "%d", r);
	check(req.method == in && req.method_len == 3 && req.target == in + 4 &&
		      req.target_len == 4 && req.h.minor == 1,
	      "fields: method and target point into the buffer", "no");
	check(req.h.n_fields == 4 && req.host_field == 0 && req.h.fields[0].value_len == 11 &&
		      memcmp(req.h.fields[0].value, "example.com", 11) == 0,
	      "fields: Host found, value trimmed of OWS", "n %zu host %d", req.h.n_fields,
	      req.host_field);
	check(http_field_find(&req.h, "x-a", 0) == 1 && http_field_find(&req.h, "X-A", 2) == 3 &&
		      http_field_find(&req.h, "x-a", 4) == -1 &&
		      http_field_find(&req.h, "x-b", 0) == -1 &&
		      http_field_find(&req.h, "x-a", 99) == -1,
	      "fields: http_field_find is case-insensitive and starts at from", "no");

	static const struct {
		const char *value, *token;
		bool want;
	} tokens[] = {
		{"keep-alive, Upgrade", "upgrade", true},
		{"keep-alive, Upgrade", "keep-alive", true},
		{"keep-alive, Upgrade", "keep", false},
		{"keep-alive, Upgrade", "alive, Upgrade", false},
		{" close ", "close", true},
		{"a,,\tb\t", "b", true},
		{"closed", "close", false},
		{"", "close", false},
		{"a, ,b", "", false},
		{"upgrade", "Upgrade", true},
	};
	for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		struct http_field f = {"Connection", 10, tokens[i].value, strlen(tokens[i].value)};
		char name[128];
		snprintf(name, sizeof(name), "has_token: \"%s\" %s \"%s\"", tokens[i].value,
			 tokens[i].want ? "has" : "lacks", tokens[i].token);
		check(http_field_has_token(&f, tokens[i].token) == tokens[i].want, name, "wrong");
	}
}

/* A head of exactly `size` bytes: the request line, fields "X: aaa..." of up
 * to 1000 bytes each, and the final CRLF. */
static char *big_head(size_t size)
{
	static const char line[] = "GET / HTTP/1.1\r\n";
	char *b = malloc(size + 1), *p = b + sizeof(line) - 1, *end = b + size - 2;

	memcpy(b, line, sizeof(line) - 1);
	while (p < end) {
		size_t n = (size_t)(end - p);
		if (n > 1000)
			n = n - 1000 >= 6 ? 1000 : n - 6;
		memcpy(p, "X: ", 3);
		memset(p + 3, 'a', n - 5);
		memcpy(p + n - 2, "\r\n", 2);
		p += n;
	}
	memcpy(end, "\r\n", 2);
	b[size] = '\0';
	return b;
}

static void test_limits(void)
{
	struct http_request req;
	const char *why = NULL;
	char *b, many[129 * 8 + 64], *p;
	int r;

	b = big_head(HTTP_HEAD_MAX);
	r = http_parse_request(b, HTTP_HEAD_MAX, &req, &why);
	check(r == HTTP_HEAD_MAX, "limits: a head of exactly HTTP_HEAD_MAX bytes", "%d (%s)", r,
	      r < 0 ? why : "-");
	free(b);
	b = big_head(HTTP_HEAD_MAX + 1);
	r = http_parse_request(b, HTTP_HEAD_MAX + 1, &req, &why);
	check(r == HTTP_BAD && strcmp(why, "head too large") == 0,
	      "limits: a complete head one byte over", "%d", r);
	r = http_parse_request(b, HTTP_HEAD_MAX, &req, &why);
	check(r == HTTP_BAD && strcmp(why, "head too large") == 0,
	      "limits: HTTP_HEAD_MAX bytes and still incomplete", "%d", r);
	r = http_parse_request(b, HTTP_HEAD_MAX - 1, &req, &why);
	check(r == HTTP_INCOMPLETE, "limits: one byte less is incomplete", "%d", r);
	free(b);

	for (int n = 128; n <= 129; n++) {
		p = many + sprintf(many, "GET / HTTP/1.1\r\n");
		for (int i = 0; i < n; i++)
			p += sprintf(p, "X%d: a\r\n", i % 10);
		p += sprintf(p, "\r\n");
		r = http_parse_request(many, (size_t)(p - many), &req, &why);
		if (n == 128)
			check(r > 0 && req.h.n_fields == 128, "limits: 128 fields", "%d", r);
		else
			check(r == HTTP_BAD && strcmp(why, "too many header fields") == 0,
			      "limits: 129 fields", "%d", r);
	}
}

/* to: h the request was HEAD, c it was CONNECT; flags as for requests */
struct res_case {
	const char *name;
	const char *in;
	size_t len;
	const char *to;
	const char *why;
	int body;
	uint64_t length;
	const char *flags;
};

/* clang-format off */
#define BAD(n, lit, t, w) {.name = n, .in = lit, .len = sizeof(lit) - 1, .to = t, .why = w}
#define OK(n, lit, t, b, l, f) {.name = n, .in = lit, .len = sizeof(lit) - 1, .to = t, \
	.body = b, .length = l, .flags = f}
/* clang-format on */

static const struct res_case res_cases[] = {
	OK("200 CL", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", "", LEN, 3, "k"),
	OK("200 chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "", CHUNK, 0,
	   "k"),
	OK("200 close-delimited", "HTTP/1.1 200 OK\r\n\r\n", "", HTTP_BODY_CLOSE, 0, ""),
	OK("200 close-delimited, keep-alive asked",
	   "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\n", "", HTTP_BODY_CLOSE, 0, ""),
	OK("HEAD with CL", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "h", NONE, 0, "k"),
	OK("HEAD with chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "h", NONE,
	   0, "k"),
	OK("204", "HTTP/1.1 204 No Content\r\n\r\n", "", NONE, 0, "k"),
	OK("304 with CL", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", "", NONE, 0,
	   "k"),
	OK("100", "HTTP/1.1 100 Continue\r\n\r\n", "", NONE, 0, "k"),
	OK("101 websocket",
	   "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
	   "", NONE, 0, "kuw"),
	OK("200 to CONNECT", "HTTP/1.1 200 Connection established\r\n\r\n", "c", NONE, 0, "k"),
	OK("407 to CONNECT", "HTTP/1.1 407 Auth\r\nContent-Length: 2\r\n\r\n", "c", LEN, 2, "k"),
	OK("1.0 CL", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", "", LEN, 1, ""),
	OK("1.0 CL keep-alive",
	   "HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n", "", LEN, 1,
	   "k"),
	OK("1.1 close", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n", "",
	   LEN, 1, ""),
	OK("empty reason", "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", "", LEN, 0, "k"),
	OK("obs-text reason", "HTTP/1.1 200 \xc3\x89t\xc3\xa9\r\nContent-Length: 0\r\n\r\n", "",
	   LEN, 0, "k"),

	BAD("CL with TE",
	    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "",
	    "Content-Length with Transfer-Encoding"),
	BAD("TE gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "",
	    "unsupported Transfer-Encoding"),
	BAD("CL twice", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", "",
	    "duplicate Content-Length"),
	BAD("no reason, no SP", "HTTP/1.1 200\r\n\r\n", "", "bad status line"),
	BAD("4-digit status", "HTTP/1.1 2000 OK\r\n\r\n", "", "bad status line"),
	BAD("status 099", "HTTP/1.1 099 X\r\n\r\n", "", "bad status line"),
	BAD("status 600", "HTTP/1.1 600 X\r\n\r\n", "", "bad status line"),
	BAD("NUL in reason", "HTTP/1.1 200 O\0K\r\n\r\n", "", "bad status line"),
	BAD("HTTP/2", "HTTP/2 200 OK\r\n\r\n", "", "unsupported HTTP version"),
	BAD("HTTP/1.2", "HTTP/1.2 200 OK\r\n\r\n", "", "unsupported HTTP version"),
	BAD("not HTTP", "ICY 200 OK\r\n\r\n", "", "bad status line"),
	BAD("leading empty line", "\r\nHTTP/1.1 200 OK\r\n\r\n", "", "bad status line"),
	BAD("bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", "", "bare LF in head"),
	BAD("obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", "", "obs-fold"),
};

#undef BAD
#undef OK

static void test_responses(void)
{
	for (size_t i = 0; i < sizeof(res_cases) / sizeof(res_cases[0]); i++) {
		const struct res_case *c = &res_cases[i];
		struct http_response res;
		const char *why = NULL;
		char name[160];
		int r = http_parse_response(c->in, c->len, flag(c->to, 'h'), flag(c->to, 'c'), &res,
					    &why);
		const char *end = memmem(c->in, c->len, "\r\n\r\n", 4);

		snprintf(name, sizeof(name), "response: %s", c->name);
		if (!parsed_as_wanted(name, r, why, c->why))
			continue;
		check(end && (size_t)r == (size_t)(end + 4 - c->in) && (int)res.h.body == c->body &&
			      res.h.length == c->length &&
			      res.h.keep_alive == flag(c->flags, 'k') &&
			      res.h.upgrade == flag(c->flags, 'u') &&
			      res.h.websocket == flag(c->flags, 'w') &&
			      res.status == atoi(c->in + 9) && res.reason == c->in + 13,
		      name, "r %d body %d length %llu keep_alive %d upgrade %d websocket %d", r,
		      (int)res.h.body, (unsigned long long)res.h.length, res.h.keep_alive,
		      res.h.upgrade, res.h.websocket);
	}
}

/* The ABI phr.h assumes, against the installed libh2o. */
static void test_phr_abi(void)
{
	static const char in[] = "GET /x HTTP/1.1\r\nA: b\r\nCc: dd\r\n\r\n";
	struct phr_header h[4];
	const char *m, *p;
	size_t ml, pl, n = 4;
	int minor, r;

	r = phr_parse_request(in, sizeof(in) - 1, &m, &ml, &p, &pl, &minor, h, &n, 0);
	check(r == (int)sizeof(in) - 1 && m == in && ml == 3 && p == in + 4 && pl == 2 &&
		      minor == 1 && n == 2 && h[1].name == in + 23 && h[1].name_len == 2 &&
		      h[1].value == in + 27 && h[1].value_len == 2,
	      "phr: phr_parse_request has the ABI phr.h declares", "r %d n %zu", r, n);
	n = 1;
	r = phr_parse_request(in, sizeof(in) - 1, &m, &ml, &p, &pl, &minor, h, &n, 0);
	check(r == -1, "phr: num_headers is the capacity on entry", "r %d", r);
	n = 4;
	r = phr_parse_request(in, 10, &m, &ml, &p, &pl, &minor, h, &n, 0);
	check(r == -2, "phr: -2 for incomplete", "r %d", r);
}

/* ---- chunked bodies ---- */

struct chunk_case {
	const char *name;
	const char *in;
	size_t len;
	const char *why; /* NULL: accepted */
	const char *out; /* the data decoded */
	size_t out_len;
	long consumed; /* -1: all of the input */
	bool done;
};

/* clang-format off */
#define BAD(n, lit, w) {.name = n, .in = lit, .len = sizeof(lit) - 1, .why = w}
#define OK(n, lit, o, c, d) {.name = n, .in = lit, .len = sizeof(lit) - 1, \
	.out = o, .out_len = sizeof(o) - 1, .consumed = c, .done = d}
/* clang-format on */

static const struct chunk_case chunk_cases[] = {
	OK("one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello", -1, true),
	OK("two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", -1, true),
	OK("hex both cases", "a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n",
	   "0123456789abcdefghijk", -1, true),
	OK("15 hex digits", "000000000000005\r\nhello\r\n0\r\n\r\n", "hello", -1, true),
	OK("extensions", "5;a=b;c;d=\"x\\\"y; z\";e=\"\"\r\nhello\r\n0;last=\"\\\\\"\r\n\r\n",
	   "hello", -1, true),
	OK("trailers", "5\r\nhello\r\n0\r\nX-Sum: abc\r\nY:\r\nZ: caf\xc3\xa9 \t\r\n\r\n", "hello",
	   -1, true),
	OK("next message follows", "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", "abc", 13, true),
	OK("next message after trailer", "0\r\nA: b\r\n\r\nX", "", 11, true),
	OK("data holds CRLF and NUL", "4\r\n\r\n\0\n\r\n0\r\n\r\n", "\r\n\0\n", -1, true),
	OK("incomplete in data", "5\r\nhel", "hel", -1, false),
	OK("incomplete in trailer", "0\r\nX: a\r\n", "", -1, false),
	OK("empty input", "", "", -1, false),

	BAD("size -1", "-1\r\n", "bad chunk size"),
	BAD("size 0x10", "0x10\r\n", "bad chunk size"),
	BAD("16 hex digits", "0000000000000005\r\nhello\r\n0\r\n\r\n", "chunk size too long"),
	BAD("17 hex digits", "fffffffffffffffff\r\n", "chunk size too long"),
	BAD("empty size line", "\r\nhello\r\n", "bad chunk size"),
	BAD("space before size", " 5\r\nhello\r\n0\r\n\r\n", "bad chunk size"),
	BAD("space after size", "5 \r\nhello\r\n0\r\n\r\n", "bad chunk size"),
	BAD("size then ;", ";a\r\n", "bad chunk size"),
	BAD("not hex", "g\r\n", "bad chunk size"),
	BAD("CR CR LF", "5\r\r\nhello\r\n0\r\n\r\n", "chunk size line not ended by CRLF"),
	BAD("missing CRLF after data", "5\r\nhelloX\r\n0\r\n\r\n",
	    "chunk data not followed by CRLF"),
	BAD("LF only after data", "5\r\nhello\n0\r\n\r\n", "chunk data not followed by CRLF"),
	BAD("CR only after data", "5\r\nhello\r0\r\n\r\n", "chunk data not followed by CRLF"),
	BAD("size too small", "3\r\nhello\r\n0\r\n\r\n", "chunk data not followed by CRLF"),
	BAD("bare LF after size", "5\nhello\r\n0\r\n\r\n", "bare LF in chunked body"),
	BAD("bare LF after last chunk", "5\r\nhello\r\n0\n\r\n", "bare LF in chunked body"),
	BAD("bare LF ending the body", "0\r\n\n", "bare LF in chunked body"),
	BAD("bare LF in a trailer", "0\r\nX: a\n\r\n", "bare LF in chunked body"),
	BAD("bare LF in an extension", "5;a=b\nhello\r\n0\r\n\r\n", "bare LF in chunked body"),
	BAD("empty extension", "5;\r\nhello\r\n0\r\n\r\n", "bad chunk extension"),
	BAD("extension without value", "5;a=\r\nhello\r\n0\r\n\r\n", "bad chunk extension"),
	BAD("space in extension", "5;a b\r\nhello\r\n0\r\n\r\n", "bad chunk extension"),
	BAD("BWS before ;", "5 ;a\r\nhello\r\n0\r\n\r\n", "bad chunk size"),
	BAD("unterminated quote", "5;a=\"x\r\nhello\r\n0\r\n\r\n", "bad chunk extension"),
	BAD("text after quote", "5;a=\"x\"y\r\nhello\r\n0\r\n\r\n", "bad chunk extension"),
	BAD("NUL in quote", "5;a=\"\0\"\r\nhello\r\n0\r\n\r\n", "bad chunk extension"),
	BAD("trailer obs-fold", "0\r\nX: a\r\n b\r\n\r\n", "bad trailer field"),
	BAD("trailer without colon", "0\r\nX\r\n\r\n", "bad trailer field"),
	BAD("trailer space before colon", "0\r\nX : a\r\n\r\n", "bad trailer field"),
	BAD("trailer NUL", "0\r\nX: a\0\r\n\r\n", "bad trailer field"),
	BAD("trailer bare CR", "0\r\nX: a\rb\r\n\r\n", "bad trailer field"),
	BAD("CR then junk at the end", "0\r\n\rX", "bad trailer field"),
};

#undef BAD
#undef OK

struct decoded {
	char *out;
	size_t out_len;
	size_t consumed;
	bool done;
	const char *why; /* NULL: not refused */
	bool stuck;      /* consumed fewer bytes than given without being done */
};

/* Feeds in[0..len) to a fresh decoder in pieces: mode 0 all at once, 1 one
 * byte at a time, else random sizes from 1 to 16 seeded by mode. Each piece
 * is a copy of its own, as the bytes of one read() would be. */
static void decode(const char *in, size_t len, unsigned mode, struct decoded *d)
{
	struct http_chunked c;
	unsigned seed = mode * 2654435761u;
	size_t pos = 0;

	memset(d, 0, sizeof(*d));
	d->out = malloc(len + 1);
	http_chunked_init(&c);
	while (pos < len && !c.done) {
		size_t piece = mode == 0   ? len
			       : mode == 1 ? 1
					   : (seed = seed * 1103515245u + 12345u) >> 16 & 15;
		char *tmp;
		long k;
		piece = piece == 0 ? 1 : piece > len - pos ? len - pos : piece;
		tmp = malloc(piece);
		memcpy(tmp, in + pos, piece);
		size_t n = piece;
		k = http_chunked_decode(&c, tmp, &n, &d->why);
		if (k < 0) {
			free(tmp);
			return;
		}
		d->why = NULL;
		memcpy(d->out + d->out_len, tmp, n);
		d->out_len += n;
		d->consumed += (size_t)k;
		if ((size_t)k != piece && !c.done)
			d->stuck = true;
		free(tmp);
		pos += piece;
	}
	d->done = c.done;
}

static void test_chunked(void)
{
	for (size_t i = 0; i < sizeof(chunk_cases) / sizeof(chunk_cases[0]); i++) {
		const struct chunk_case *c = &chunk_cases[i];
		size_t want_consumed = c->consumed < 0 ? c->len : (size_t)c->consumed;
		size_t want_len = c->out_len;
		unsigned bad_mode = 0;
		const char *got = "-";
		char name[160];

		for (unsigned mode = 0; mode < 40 && !bad_mode; mode++) {
			struct decoded d;
			bool ok;
			decode(c->in, c->len, mode, &d);
			if (c->why)
				ok = d.why && strcmp(d.why, c->why) == 0;
			else
				ok = !d.why && !d.stuck && d.done == c->done &&
				     d.consumed == want_consumed && d.out_len == want_len &&
				     memcmp(d.out, c->out, want_len) == 0;
			if (!ok) {
				bad_mode = mode + 1;
				got = d.why ? d.why : "accepted";
			}
			free(d.out);
		}
		snprintf(name, sizeof(name), "chunked: %s", c->name);
		check(!bad_mode, name, "split mode %u: got %s, want %s", bad_mode - 1, got,
		      c->why ? c->why : "accepted");
	}
}

/* The bounds: a size line of 1024 bytes and a trailer of HTTP_TRAILER_MAX,
 * and one byte over each; a call after the end. */
static void test_chunked_limits(void)
{
	size_t cap = HTTP_TRAILER_MAX + 64;
	char *b = malloc(cap);
	struct http_chunked c;
	const char *why = NULL;
	size_t n;
	long k;

	for (int over = 0; over <= 1; over++) {
		/* "1;" + "a"*k + CRLF: the size line is 2 + k bytes */
		size_t k_ext = 1022 + (size_t)over;
		n = 0;
		n += (size_t)sprintf(b, "1;");
		memset(b + n, 'a', k_ext);
		n += k_ext;
		n += (size_t)sprintf(b + n, "\r\nx\r\n0\r\n\r\n");
		http_chunked_init(&c);
		k = http_chunked_decode(&c, b, &n, &why);
		if (!over)
			check(k > 0 && c.done && n == 1 && b[0] == 'x',
			      "chunked: a size line of 1024 bytes", "%ld", k);
		else
			check(k == HTTP_BAD && strcmp(why, "chunk size line too long") == 0,
			      "chunked: a size line of 1025 bytes", "%ld", k);
	}
	for (int over = 0; over <= 1; over++) {
		/* the trailer section: "X: " + value + CRLF + CRLF */
		size_t v = HTTP_TRAILER_MAX - 7 + (size_t)over;
		n = (size_t)sprintf(b, "0\r\nX: ");
		memset(b + n, 'v', v);
		n += v;
		n += (size_t)sprintf(b + n, "\r\n\r\n");
		http_chunked_init(&c);
		k = http_chunked_decode(&c, b, &n, &why);
		if (!over)
			check(k > 0 && c.done, "chunked: a trailer of HTTP_TRAILER_MAX bytes",
			      "%ld", k);
		else
			check(k == HTTP_BAD && strcmp(why, "trailer too large") == 0,
			      "chunked: a trailer one byte over", "%ld", k);
	}
	memcpy(b, "0\r\n\r\n", 5);
	n = 5;
	http_chunked_init(&c);
	k = http_chunked_decode(&c, b, &n, &why);
	n = 1;
	k = k == 5 ? http_chunked_decode(&c, b, &n, &why) : 0;
	check(k == HTTP_BAD && strcmp(why, "chunked body already ended") == 0,
	      "chunked: a call after the end is refused", "%ld", k);
	memcpy(b, "x\r\n", 3);
	n = 3;
	http_chunked_init(&c);
	k = http_chunked_decode(&c, b, &n, &why);
	memcpy(b, "0\r\n\r\n", 5);
	n = 5;
	k = k == HTTP_BAD ? http_chunked_decode(&c, b, &n, &why) : 0;
	check(k == HTTP_BAD && strcmp(why, "chunked body already refused") == 0,
	      "chunked: a refused body stays refused", "%ld", k);
	free(b);
}

int main(void)
{
	test_phr_abi();
	test_requests();
	test_prefixes();
	test_fields();
	test_limits();
	test_responses();
	test_chunked();
	test_chunked_limits();
	return finish();
}
