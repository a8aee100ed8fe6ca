/* check.h - the little harness every unit test shares: "ok - name" /
 * "not ok - name: why" lines and a failure count; finish() prints the
 * totals and gives main's exit status. Header-only: each test is one
 * program. */
#ifndef OMBX_TEST_CHECK_H
#define OMBX_TEST_CHECK_H

#include <stdarg.h>
#include <stdio.h>

static int n_tests, n_failed;

__attribute__((format(printf, 3, 4), unused)) static void check(int ok, const char *name,
								const char *fmt, ...)
{
	va_list ap;

	n_tests++;
	if (ok) {
		printf("ok - %s\n", name);
		return;
	}
	n_failed++;
	printf("not ok - %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

__attribute__((unused)) static int finish(void)
{
	printf("%d tests, %d failed\n", n_tests, n_failed);
	return n_failed ? 1 : 0;
}

#endif
