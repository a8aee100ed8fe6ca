/* http.h - strict HTTP/1.1 message heads and body framing for the proxy.
 *
 * Owns: parsing a request or response head out of a buffer (picohttpparser,
 * as exported by libh2o, does the tokenising; this module adds the checks a
 * proxy in front of hostile clients needs), deciding how the body that
 * follows is framed (RFC 9112 section 6), and a strict incremental decoder
 * for chunked bodies.
 *
 * Refused (each with a short, fixed reason string suitable for a 400 body and
 * an audit record; never a copy of the offending bytes): a head over
 * HTTP_HEAD_MAX or with more than HTTP_HEADERS_MAX fields; bare LF anywhere in
 * the head; obs-fold; NUL, CR or LF inside a field value or the target;
 * control characters or spaces in the target; an empty or non-token method or
 * field name; HTTP versions other than 1.0/1.1; Content-Length together with
 * Transfer-Encoding; more than one Content-Length or Host field; a
 * Content-Length that is not plain decimal or overflows; Transfer-Encoding
 * other than exactly "chunked" (case-insensitive, as the only and last
 * coding); in the chunked decoder: chunk sizes that are empty, not hex, have
 * more than 15 hex digits, or are followed by anything but CRLF or a
 * well-formed extension; data not followed by CRLF; trailers over the limit.
 *
 * Also refused, in the same spirit: other control characters (but HTAB) in a
 * field value; non-ASCII bytes in the target; a target of the wrong form for
 * its method (RFC 9112 3.2: authority-form always and only for CONNECT, "*"
 * only for OPTIONS, else origin- or absolute-form); Transfer-Encoding in an
 * HTTP/1.0 message (RFC 9112 6.1 calls its framing faulty); a Content-Length
 * over INT64_MAX; a status outside 100..599 or a status line without the SP
 * after the code; whitespace around a chunk size (BWS) and a chunk-size line
 * over 1 KiB. One empty line before a request line is skipped (RFC 9112 2.2)
 * and counted in head_len. A missing Host is left to the caller
 * (host_field == -1).
 *
 * Never: allocates, prints, or keeps pointers beyond the buffer it was given
 * (all strings in the results point into the caller's buffer). */
#ifndef OMBX_PROXY_HTTP_H
#define OMBX_PROXY_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX    (64 * 1024) /* bytes of a request or response head */
#define HTTP_HEADERS_MAX 128         /* fields in one head */
#define HTTP_TRAILER_MAX (8 * 1024)  /* bytes of a chunked body's trailer section */

/* Return values of the parsers besides a positive head length. */
#define HTTP_INCOMPLETE 0  /* need more bytes (and fewer than HTTP_HEAD_MAX so far) */
#define HTTP_BAD        -1 /* refused; *why says why */

struct http_field {
	const char *name;
	size_t name_len;
	const char *value; /* leading/trailing whitespace already trimmed */
	size_t value_len;
};

enum http_body { HTTP_BODY_NONE, HTTP_BODY_LENGTH, HTTP_BODY_CHUNKED, HTTP_BODY_CLOSE };

/* What every head has, parsed or derived. */
struct http_head {
	struct http_field fields[HTTP_HEADERS_MAX];
	size_t n_fields;
	int minor;           /* HTTP/1.minor */
	size_t head_len;     /* bytes of the head, final CRLF CRLF included */
	enum http_body body; /* how the body that follows is framed */
	uint64_t length;     /* HTTP_BODY_LENGTH: Content-Length */
	bool keep_alive;     /* persistence per RFC 9112 9.3 (version + Connection) */
	bool upgrade;        /* "Connection: upgrade" plus an Upgrade field */
	bool websocket;      /* upgrade to "websocket" (case-insensitive) */
};

struct http_request {
	struct http_head h;
	const char *method;
	size_t method_len;
	const char *target; /* request-target as sent */
	size_t target_len;
	int host_field;       /* index of the Host field in h.fields, -1: none */
	bool expect_continue; /* "Expect: 100-continue" */
};

struct http_response {
	struct http_head h;
	int status;
	const char *reason;
	size_t reason_len;
};

/* Parses the request head at the start of buf[0..len). Returns the head's
 * length (> 0), HTTP_INCOMPLETE, or HTTP_BAD with *why set. A request's body
 * is NONE (no CL/TE), LENGTH or CHUNKED; never CLOSE. */
int http_parse_request(const char *buf, size_t len, struct http_request *req, const char **why);

/* Parses a response head. method_head: the request was HEAD; connect: the
 * request was CONNECT. Framing per RFC 9112 6.3: 1xx, 204, 304, HEAD and a 2xx
 * to CONNECT have no body; else chunked, Content-Length, or close-delimited. */
int http_parse_response(const char *buf, size_t len, bool method_head, bool connect,
			struct http_response *res, const char **why);

/* Case-insensitive field lookup: the index of the first field called name
 * (from index `from` on), or -1. */
int http_field_find(const struct http_head *h, const char *name, size_t from);

/* Whether the field's value, as a comma-separated list, contains token
 * (case-insensitive), e.g. Connection: keep-alive, Upgrade. */
bool http_field_has_token(const struct http_field *f, const char *token);

/* Whether a Connection field of h names f (hop-by-hop by the sender's say). */
bool http_field_in_connection(const struct http_head *h, const struct http_field *f);

/* ---- chunked bodies ---- */

struct http_chunked {
	int state;          /* private */
	uint64_t remaining; /* bytes of data left in the current chunk */
	unsigned digits;    /* private: bytes of the current chunk-size line */
	size_t trailer_len; /* private */
	bool done;          /* the last chunk and the trailer section are consumed */
};

void http_chunked_init(struct http_chunked *c);

/* Decodes in place: consumes buf[0..*len), moves the data bytes it found to
 * the front of buf, and sets *len to their count. Returns the number of input
 * bytes consumed (all of them, or fewer when the body ends inside buf: the
 * rest belongs to the next message), or HTTP_BAD with *why set. Trailer
 * fields are checked for size and syntax, then dropped. Calling again after
 * done is an error. */
long http_chunked_decode(struct http_chunked *c, char *buf, size_t *len, const char **why);

#endif
