/* http_internal.h - byte classes shared by http.c and http_chunked.c.
 *
 * ASCII only and locale-free on purpose: <ctype.h> and strncasecmp follow
 * the process's locale, and a proxy must read the same bytes the same way
 * whatever LC_ALL says. */
#ifndef OMBX_PROXY_HTTP_INTERNAL_H
#define OMBX_PROXY_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* RFC 9110 5.6.2 tchar. */
static inline bool http__is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 9110 5.5 field-vchar, plus SP and HTAB: what a field value may hold. */
static inline bool http__is_value_byte(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static inline unsigned char http__lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Case-insensitive (ASCII) equality of a[0..n) and b[0..n). */
static inline bool http__eqi(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (http__lower((unsigned char)a[i]) != http__lower((unsigned char)b[i]))
			return false;
	return true;
}

#endif
