/* quote.c - see quote.h. */
#include "quote.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Length of the valid, printable UTF-8 sequence at p (at most avail bytes),
 * or 0 if it is invalid, overlong, a surrogate or a C1 control. */
static size_t utf8_seq(const unsigned char *p, size_t avail)
{
	uint32_t cp;
	size_t n;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < 0xa0 || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Renders the character at p into unit (>= 5 bytes); returns bytes consumed. */
static size_t quote_unit(const unsigned char *p, size_t avail, char *unit, size_t *ulen)
{
	size_t n;

	if (*p == '"' || *p == '\\') {
		unit[0] = '\\';
		unit[1] = (char)*p;
		*ulen = 2;
		return 1;
	}
	if (*p == '\n' || *p == '\t') {
		unit[0] = '\\';
		unit[1] = *p == '\n' ? 'n' : 't';
		*ulen = 2;
		return 1;
	}
	if (*p >= 0x20 && *p < 0x7f) {
		unit[0] = (char)*p;
		*ulen = 1;
		return 1;
	}
	n = *p >= 0x80 ? utf8_seq(p, avail) : 0;
	if (n) {
		memcpy(unit, p, n);
		*ulen = n;
		return n;
	}
	snprintf(unit, 5, "\\x%02x", *p);
	*ulen = 4;
	return 1;
}

void ombx_quote(char *buf, size_t size, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t limit = size - 5; /* room for `..."` and the NUL */
	size_t pos = 0, i = 0;

	buf[pos++] = '"';
	while (i < len) {
		char unit[8];
		size_t ulen, used = quote_unit(p + i, len - i, unit, &ulen);
		if (pos + ulen > limit)
			break;
		memcpy(buf + pos, unit, ulen);
		pos += ulen;
		i += used;
	}
	if (i < len) {
		memcpy(buf + pos, "...\"", 5);
	} else {
		buf[pos++] = '"';
		buf[pos] = '\0';
	}
}
