/* policy_test.h - the little harness the policy unit tests share: TAP-ish
 * "ok - name" / "not ok - name: why" lines, a failure count, and loading a
 * policy from a string. Header-only: each test is one program. */
#ifndef OMBX_TEST_POLICY_TEST_H
#define OMBX_TEST_POLICY_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../../policy/policy.h"

#include "check.h"

/* Loads yaml as "t.yaml"; NULL on error (err filled). */
static inline struct policy_set *load(const char *yaml, ombx_err *err)
{
	struct policy_set *s = NULL;

	memset(err, 0, sizeof(*err));
	if (policy_set_load_buffer("t.yaml", yaml, strlen(yaml), &s, err) < 0)
		return NULL;
	return s;
}

#endif
