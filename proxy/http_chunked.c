/* http_chunked.c - the strict incremental chunked-body decoder (proxy/http.h).
 *
 * A state machine fed one byte at a time (data in runs), so that where the
 * input is split never changes the result. Stricter than RFC 9112 7.1 where
 * the RFC's leniency has been a smuggling vector: no whitespace around the
 * chunk size or the extensions (BWS), CRLF only, at most 15 hex digits (no
 * overflow can happen), bounded size lines and trailer sections.
 * picohttpparser's phr_decode_chunked is not used because it accepts bare LF,
 * skips extensions unread and allows any number of CRs before an LF. */
#include <string.h>

#include "proxy/http.h"
#include "proxy/http_internal.h"

#define SIZE_DIGITS_MAX 15   /* 2^60 - 1 at most: no overflow to check */
#define SIZE_LINE_MAX   1024 /* chunk-size and extensions, CRLF excluded */

enum {
	S_SIZE,         /* hex digits */
	S_EXT_NAME0,    /* after ';' */
	S_EXT_NAME,     /* in a chunk-ext-name */
	S_EXT_VALUE0,   /* after '=' */
	S_EXT_TOKEN,    /* in a token value */
	S_EXT_QUOTED,   /* in a quoted-string value */
	S_EXT_QPAIR,    /* after a backslash in a quoted-string */
	S_EXT_QEND,     /* after the closing quote */
	S_SIZE_LF,      /* after the CR that ends a size line */
	S_DATA,         /* c->remaining bytes of data to go */
	S_DATA_CR,      /* after the data */
	S_DATA_LF,      /* after the data's CR */
	S_TRAILER0,     /* at the start of a trailer line or of the final CRLF */
	S_TRAILER_NAME, /* in a trailer field name */
	S_TRAILER_VAL,  /* in a trailer field value */
	S_TRAILER_LF,   /* after the CR of a trailer line */
	S_END_LF,       /* after the CR of the final CRLF */
	S_DONE,
	S_FAILED, /* refused once: refused for good */
};

void http_chunked_init(struct http_chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->state = S_SIZE;
}

static int hex(unsigned char b)
{
	if (b >= '0' && b <= '9')
		return b - '0';
	b = http__lower(b);
	return b >= 'a' && b <= 'f' ? b - 'a' + 10 : -1;
}

/* RFC 9110 5.6.4 qdtext, and what may follow a backslash. */
static bool is_qdtext(unsigned char b)
{
	return b == '\t' || b == ' ' || b == 0x21 || (b >= 0x23 && b <= 0x5b) ||
	       (b >= 0x5d && b <= 0x7e) || b >= 0x80;
}

static bool is_qpair(unsigned char b)
{
	return b == '\t' || (b >= 0x20 && b != 0x7f);
}

/* The end of a size line, or another extension: what may follow a complete
 * chunk-size or chunk-ext. */
static int size_line_next(struct http_chunked *c, unsigned char b)
{
	if (b == ';')
		c->state = S_EXT_NAME0;
	else if (b == '\r')
		c->state = S_SIZE_LF;
	else
		return -1;
	return 0;
}

/* One byte of a size line (size and extensions). */
static int step_size_line(struct http_chunked *c, unsigned char b, const char **why)
{
	int v;

	if (++c->digits > SIZE_LINE_MAX + (b == '\r')) { /* the CR ending it is not counted */
		*why = "chunk size line too long";
		return -1;
	}
	switch (c->state) {
	case S_SIZE:
		if ((v = hex(b)) >= 0) {
			if (c->digits > SIZE_DIGITS_MAX) {
				*why = "chunk size too long";
				return -1;
			}
			c->remaining = c->remaining * 16 + (unsigned)v;
			return 0;
		}
		if (c->digits == 1 || size_line_next(c, b) < 0) {
			*why = "bad chunk size";
			return -1;
		}
		return 0;
	case S_EXT_NAME0:
		if (!http__is_tchar(b))
			break;
		c->state = S_EXT_NAME;
		return 0;
	case S_EXT_NAME:
	case S_EXT_TOKEN:
		if (http__is_tchar(b))
			return 0;
		if (b == '=' && c->state == S_EXT_NAME) {
			c->state = S_EXT_VALUE0;
			return 0;
		}
		if (size_line_next(c, b) < 0)
			break;
		return 0;
	case S_EXT_VALUE0:
		if (b == '"')
			c->state = S_EXT_QUOTED;
		else if (http__is_tchar(b))
			c->state = S_EXT_TOKEN;
		else
			break;
		return 0;
	case S_EXT_QUOTED:
		if (b == '"')
			c->state = S_EXT_QEND;
		else if (b == '\\')
			c->state = S_EXT_QPAIR;
		else if (!is_qdtext(b))
			break;
		return 0;
	case S_EXT_QPAIR:
		if (!is_qpair(b))
			break;
		c->state = S_EXT_QUOTED;
		return 0;
	case S_EXT_QEND:
		if (size_line_next(c, b) < 0)
			break;
		return 0;
	}
	*why = "bad chunk extension";
	return -1;
}

/* One byte of the trailer section (after the last chunk's size line). */
static int step_trailer(struct http_chunked *c, unsigned char b, const char **why)
{
	if (++c->trailer_len > HTTP_TRAILER_MAX) {
		*why = "trailer too large";
		return -1;
	}
	switch (c->state) {
	case S_TRAILER0:
		if (b == '\r')
			c->state = S_END_LF;
		else if (http__is_tchar(b))
			c->state = S_TRAILER_NAME;
		else
			break;
		return 0;
	case S_TRAILER_NAME:
		if (b == ':')
			c->state = S_TRAILER_VAL;
		else if (!http__is_tchar(b))
			break;
		return 0;
	case S_TRAILER_VAL:
		if (b == '\r')
			c->state = S_TRAILER_LF;
		else if (!http__is_value_byte(b))
			break;
		return 0;
	case S_TRAILER_LF:
		if (b != '\n')
			break;
		c->state = S_TRAILER0;
		return 0;
	case S_END_LF:
		if (b != '\n')
			break;
		c->state = S_DONE;
		c->done = true;
		return 0;
	}
	*why = "bad trailer field";
	return -1;
}

/* One byte anywhere but in data. */
static int step(struct http_chunked *c, unsigned char b, const char **why)
{
	switch (c->state) {
	case S_SIZE_LF:
		if (b != '\n') {
			*why = "chunk size line not ended by CRLF";
			return -1;
		}
		c->digits = 0;
		c->state = c->remaining ? S_DATA : S_TRAILER0;
		return 0;
	case S_DATA_CR:
	case S_DATA_LF:
		if (b != (c->state == S_DATA_CR ? '\r' : '\n')) {
			*why = "chunk data not followed by CRLF";
			return -1;
		}
		c->state = c->state == S_DATA_CR ? S_DATA_LF : S_SIZE;
		return 0;
	case S_TRAILER0:
	case S_TRAILER_NAME:
	case S_TRAILER_VAL:
	case S_TRAILER_LF:
	case S_END_LF:
		if (b == '\n' && c->state != S_TRAILER_LF && c->state != S_END_LF) {
			*why = "bare LF in chunked body";
			return -1;
		}
		return step_trailer(c, b, why);
	default:
		if (b == '\n') {
			*why = "bare LF in chunked body";
			return -1;
		}
		return step_size_line(c, b, why);
	}
}

long http_chunked_decode(struct http_chunked *c, char *buf, size_t *len, const char **why)
{
	size_t src = 0, dst = 0, n = *len;

	if (c->done || c->state == S_FAILED) {
		*why = c->done ? "chunked body already ended" : "chunked body already refused";
		*len = 0;
		return HTTP_BAD;
	}
	while (src < n && !c->done) {
		if (c->state == S_DATA) {
			size_t take = n - src < c->remaining ? n - src : (size_t)c->remaining;
			memmove(buf + dst, buf + src, take);
			src += take;
			dst += take;
			c->remaining -= take;
			if (c->remaining == 0)
				c->state = S_DATA_CR;
			continue;
		}
		if (step(c, (unsigned char)buf[src], why) < 0) {
			c->state = S_FAILED;
			*len = dst;
			return HTTP_BAD;
		}
		src++;
	}
	*len = dst;
	return (long)src;
}
