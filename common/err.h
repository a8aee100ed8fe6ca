/* err.h - the error object every fallible library call fills.
 *
 * Low-level helpers return -errno. Calls that must explain themselves (a
 * profile at file:line:col, a mount that failed on a named path) also fill an
 * ombx_err, whose message the CLI prints once. Libraries never print. */
#ifndef OMBX_COMMON_ERR_H
#define OMBX_COMMON_ERR_H

#include <stddef.h>

typedef struct ombx_err {
	int code;       /* positive errno-style code, 0 when no error */
	char msg[768];  /* human sentence: what failed and what to do */
} ombx_err;

/* Sets *e (if e is non-NULL) and returns -code, so callers can write
 * `return ombx_err_set(e, errno, "opening %s", path);`. The message is
 * truncated to fit; it must never contain secret material. */
int ombx_err_set(ombx_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like ombx_err_set, appending ": strerror(code)". */
int ombx_err_errno(ombx_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
