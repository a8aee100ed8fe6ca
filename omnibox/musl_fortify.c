/* musl_fortify.c - glibc's buffer checks, for the archives the musl-built
 * `omnibox` links (omnibox/CMakeLists.txt).
 *
 * Debian builds libyaml, jansson, libcap, libidn2 and libunistring against
 * glibc with _FORTIFY_SOURCE, so their objects call glibc's checked variants
 * (__snprintf_chk ...) wherever the compiler knew a buffer's size. musl has
 * none of them; these do what glibc's do: check the size the compiler
 * passed, then call the plain function. A failed check ends the process
 * as glibc's does, with its message, but by a trap: the jail's init is made
 * by a raw clone(), after which musl's raise() (and so abort()) would signal
 * the parent's thread id, and a trap ends even a pid namespace's init.
 * Only the ones those archives use are here: the link fails on a new one. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "musl_fortify.h"

static _Noreturn void chk_fail(void)
{
	static const char msg[] = "*** buffer overflow detected ***: terminated\n";

	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	__builtin_trap();
}

int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap)
{
	if (slen < maxlen)
		chk_fail();
	return vsnprintf(s, maxlen, fmt, ap);
}

int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = __vsnprintf_chk(s, maxlen, flag, slen, fmt, ap);
	va_end(ap);
	return n;
}

void *__memmove_chk(void *dest, const void *src, size_t len, size_t destlen)
{
	if (destlen < len)
		chk_fail();
	return memmove(dest, src, len);
}

char *__strncpy_chk(char *dest, const char *src, size_t n, size_t destlen)
{
	if (destlen < n)
		chk_fail();
	return strncpy(dest, src, n);
}
