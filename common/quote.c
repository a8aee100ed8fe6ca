/* quote.c - see quote.h. */
#include "quote.h"
#include "utf8.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

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
	n = *p >= 0x80 ? ombx_utf8_seq(p, avail) : 0;
	if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
		n = 0; /* C1 controls are escaped, not shown */
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
