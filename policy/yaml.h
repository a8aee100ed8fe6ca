/* yaml.h - a policy file as a small tree of YAML nodes that remember where
 * they were written (1-based line and column), built with libyaml.
 *
 * Refuses what a policy has no use for and a reader could be misled by:
 * anchors and aliases, tags, several documents, non-scalar or duplicate
 * keys, nesting deeper than 32. The tree lives in the caller's arena. */
#ifndef OMBX_POLICY_YAML_H
#define OMBX_POLICY_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

enum policy__ytype { Y_SCALAR, Y_SEQ, Y_MAP };

struct policy__ynode {
	enum policy__ytype type;
	unsigned line, col;
	/* scalars: NUL-terminated value (may contain NUL: check len) */
	const char *val;
	size_t len;
	bool plain; /* unquoted: may be a number, boolean or null */
	/* sequences: n items; mappings: n pairs, key = items[2i], value = items[2i+1] */
	struct policy__ynode **items;
	size_t n;
};

/* Parses buf (len bytes); *root is NULL for an empty document. name stands
 * for the file in messages ("NAME:LINE:COL: ..."). */
int policy__yaml_parse(const char *name, const char *buf, size_t len, struct policy__arena *a,
		       struct policy__ynode **root, ombx_err *err);

/* "NAME:LINE:COL: message" for node n into err; returns -code. */
int policy__yerr(ombx_err *err, const char *name, const struct policy__ynode *n, int code,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

bool policy__y_null(const struct policy__ynode *n); /* plain "", "~", "null", "Null", "NULL" */
bool policy__y_is(const struct policy__ynode *n, const char *s); /* a scalar equal to s */
const char *policy__y_kind(const struct policy__ynode *n);       /* "a list", "a mapping", ... */

#endif
