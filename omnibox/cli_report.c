/* cli_report.c - the one way the omnibox programs report: "omnibox: error:
 * ..." / "omnibox: ..." on stderr. */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "omnibox: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void ombx_cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("error: ", fmt, ap);
	va_end(ap);
}

void ombx_cli_note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
}
