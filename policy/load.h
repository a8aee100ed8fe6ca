/* load.h - the loader's shared context and typed readers (load*.c only).
 *
 * Every reader checks one node's type and value and, when it is wrong, fills
 * the error with "FILE:LINE:COL: what: why" for that node and returns a
 * negative errno. Nothing is skipped or defaulted silently. */
#ifndef OMBX_POLICY_LOAD_H
#define OMBX_POLICY_LOAD_H

#include "internal.h"
#include "yaml.h"

struct lctx {
	const char *name; /* the file, for messages */
	struct policy_set *set;
	struct policy__arena *a; /* the set's arena */
	ombx_err *err;
	struct policy__rule *rules; /* growing; moved into the set at the end */
	size_t n_rules, cap_rules;
	/* rule names seen, for duplicates: open addressing over rules[] */
	uint32_t *names;
	size_t names_cap;
	/* the node each rule was defined at, by rule index */
	const struct policy__ynode **rule_nodes;
};

#define LERR(c, node, ...) policy__yerr((c)->err, (c)->name, (node), EINVAL, __VA_ARGS__)
int policy__oom(struct lctx *c);

/* Looks up each of keys[0..nkeys) in map; out[i] is its value or NULL.
 * Unknown keys are an error listing the expected ones; what names the
 * mapping ("rule", "secrets.github"). */
int policy__fields(struct lctx *c, const struct policy__ynode *map, const char *what,
		   const char *const *keys, size_t nkeys, const struct policy__ynode **out);
int policy__want_map(struct lctx *c, const struct policy__ynode *n, const char *what);
/* A non-empty list, or one scalar standing for a list of one (then *one
 * holds it and *items points at one). */
int policy__want_list(struct lctx *c, const struct policy__ynode *n, const char *what,
		      const struct policy__ynode *const **items, size_t *count,
		      const struct policy__ynode **one);
/* A non-empty scalar without NUL bytes, at most max bytes. */
int policy__want_str(struct lctx *c, const struct policy__ynode *n, const char *what, size_t max);
int policy__want_bool(struct lctx *c, const struct policy__ynode *n, const char *what, bool *out);
int policy__want_int(struct lctx *c, const struct policy__ynode *n, const char *what, int64_t min,
		     int64_t max, int64_t *out);
int policy__want_usd(struct lctx *c, const struct policy__ynode *n, const char *what, int64_t *out);
/* A name (policy__name_valid) not reserved for the engine ("spend", "_..."). */
int policy__want_state_name(struct lctx *c, const struct policy__ynode *n, const char *what);

/* Appends a zeroed rule named name (checked for duplicates) defined at node;
 * returns it through *out (valid until the next policy__new_rule). */
int policy__new_rule(struct lctx *c, const struct policy__ynode *node, const char *name,
		     struct policy__rule **out);

/* The sections (load_egress.c, load_rules.c, load_secrets.c). */
int policy__load_egress(struct lctx *c, const struct policy__ynode *n);
int policy__load_rules(struct lctx *c, const struct policy__ynode *n);
int policy__load_secrets(struct lctx *c, const struct policy__ynode *n);
int policy__load_policies(struct lctx *c, const struct policy__ynode *n);

/* Egress match lists shared by the shorthand and match: (load_rules.c). */
int policy__load_hosts(struct lctx *c, const struct policy__ynode *n, const char *what,
		       struct policy__hostpat **out, size_t *count, bool allow_any);
int policy__load_methods(struct lctx *c, const struct policy__ynode *n, const char *text,
			 size_t len, struct policy__rule *r);

#endif
