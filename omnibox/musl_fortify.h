/* musl_fortify.h - glibc's checked functions that musl_fortify.c provides
 * to the glibc-built archives in the musl-built `omnibox`. Each checks the
 * destination size the caller's compiler knew (slen, destlen) and ends the
 * process, as glibc's do, when the operation would not fit. */
#ifndef OMBX_MUSL_FORTIFY_H
#define OMBX_MUSL_FORTIFY_H

#include <stdarg.h>
#include <stddef.h>

__attribute__((format(printf, 5, 6))) int __snprintf_chk(char *s, size_t maxlen, int flag,
							 size_t slen, const char *fmt, ...);
__attribute__((format(printf, 5, 0))) int __vsnprintf_chk(char *s, size_t maxlen, int flag,
							  size_t slen, const char *fmt, va_list ap);
void *__memmove_chk(void *dest, const void *src, size_t len, size_t destlen);
char *__strncpy_chk(char *dest, const char *src, size_t n, size_t destlen);

#endif
