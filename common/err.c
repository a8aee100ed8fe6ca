#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>

#define EINVAL_FALLBACK EINVAL

__attribute__((format(printf, 4, 0))) static int set(ombx_err *e, int code, int with_errno,
						      const char *fmt, va_list ap)
{
	if (code < 0)
		code = -code;
	if (code == 0)
		code = EINVAL_FALLBACK;
	if (e) {
		int n;
		e->code = code;
		n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		if (with_errno && n >= 0 && (size_t)n < sizeof(e->msg))
			snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, ": %s", strerror(code));
	}
	return -code;
}

int ombx_err_set(ombx_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = set(e, code, 0, fmt, ap);
	va_end(ap);
	return r;
}

int ombx_err_errno(ombx_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = set(e, code, 1, fmt, ap);
	va_end(ap);
	return r;
}
