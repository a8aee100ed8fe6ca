/* quote.h - a value, shown safely inside an error message.
 *
 * Messages quote what the user gave (a flag value, a YAML scalar, a host) so
 * they can see what was refused; the value may hold terminal escapes, NULs or
 * invalid UTF-8, and may be long. ombx_quote writes it as a double-quoted
 * string with \" \\ \n \t and \xNN escapes, valid printable UTF-8 kept,
 * cut with ..." if it does not fit. Never give it a secret's value. */
#ifndef OMBX_COMMON_QUOTE_H
#define OMBX_COMMON_QUOTE_H

#include <stddef.h>

#define OMBX_QUOTE_MAX 160

/* size must be at least 8; s may be NULL when len is 0. */
void ombx_quote(char *buf, size_t size, const char *s, size_t len);

#endif
