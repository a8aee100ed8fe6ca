/* load.c - policy_set_load: reading a policy file and compiling it.
 *
 * The file becomes a YAML node tree (yaml.c), each top-level section is
 * compiled by its own module (load_egress.c, load_rules.c, load_secrets.c)
 * into rules in file order, and index.c builds the lookup tables. The first
 * problem found stops the load and is reported at its FILE:LINE:COL; a set
 * is only ever handed out complete. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

#include "../common/cleanup.h"
#include "../common/file.h"

int policy__oom(struct lctx *c)
{
	return ombx_err_set(c->err, ENOMEM, "%s: out of memory compiling the policy", c->name);
}

/* ---- typed readers ---- */

int policy__fields(struct lctx *c, const struct policy__ynode *map, const char *what,
		   const char *const *keys, size_t nkeys, const struct policy__ynode **out)
{
	for (size_t k = 0; k < nkeys; k++)
		out[k] = NULL;
	for (size_t i = 0; i < map->n; i++) {
		const struct policy__ynode *key = map->items[2 * i];
		size_t k;
		for (k = 0; k < nkeys; k++)
			if (policy__y_is(key, keys[k]))
				break;
		if (k == nkeys) {
			char q[POLICY_QUOTE_MAX], list[256];
			size_t off = 0;
			for (size_t j = 0; j < nkeys && off < sizeof(list); j++)
				off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
							j ? ", " : "", keys[j]);
			ombx_quote(q, sizeof(q), key->val, key->len);
			return LERR(c, key, "%s: unknown key %s (expected one of: %s)", what, q,
				    list);
		}
		out[k] = map->items[2 * i + 1];
	}
	return 0;
}

int policy__want_map(struct lctx *c, const struct policy__ynode *n, const char *what)
{
	if (n->type != Y_MAP)
		return LERR(c, n, "%s: expected a mapping (key: value), not %s", what,
			    policy__y_kind(n));
	return 0;
}

int policy__want_list(struct lctx *c, const struct policy__ynode *n, const char *what,
		      const struct policy__ynode *const **items, size_t *count,
		      const struct policy__ynode **one)
{
	if (n->type == Y_SEQ) {
		if (n->n == 0)
			return LERR(c, n, "%s: the list is empty", what);
		*items = (const struct policy__ynode *const *)n->items;
		*count = n->n;
		return 0;
	}
	if (n->type == Y_SCALAR && !policy__y_null(n)) {
		*one = n; /* one scalar stands for a list of one */
		*items = one;
		*count = 1;
		return 0;
	}
	return LERR(c, n, "%s: expected a list, not %s", what, policy__y_kind(n));
}

int policy__want_str(struct lctx *c, const struct policy__ynode *n, const char *what, size_t max)
{
	if (n->type != Y_SCALAR)
		return LERR(c, n, "%s: expected a single value, not %s", what, policy__y_kind(n));
	if (policy__y_null(n))
		return LERR(c, n, "%s: no value given", what);
	if (strlen(n->val) != n->len)
		return LERR(c, n, "%s: the value contains a NUL byte", what);
	if (n->len > max)
		return LERR(c, n, "%s: longer than %zu bytes", what, max);
	return 0;
}

int policy__want_bool(struct lctx *c, const struct policy__ynode *n, const char *what, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE"};
	static const char *const no[] = {"false", "False", "FALSE"};
	char q[POLICY_QUOTE_MAX];

	if (n->type == Y_SCALAR && n->plain)
		for (size_t i = 0; i < 3; i++) {
			if (policy__y_is(n, yes[i]) || policy__y_is(n, no[i])) {
				*out = policy__y_is(n, yes[i]);
				return 0;
			}
		}
	if (n->type != Y_SCALAR)
		return LERR(c, n, "%s: expected true or false, not %s", what, policy__y_kind(n));
	ombx_quote(q, sizeof(q), n->val, n->len);
	return LERR(c, n, "%s: expected true or false, not %s%s", what, q,
		    n->plain ? "" : " (a quoted string)");
}

int policy__want_int(struct lctx *c, const struct policy__ynode *n, const char *what, int64_t min,
		     int64_t max, int64_t *out)
{
	char q[POLICY_QUOTE_MAX], *end;
	long long v;

	if (n->type != Y_SCALAR || !n->plain || policy__y_null(n))
		goto bad;
	if (!((n->val[0] >= '0' && n->val[0] <= '9') || n->val[0] == '-'))
		goto bad;
	errno = 0;
	v = strtoll(n->val, &end, 10);
	if (end != n->val + n->len || end == n->val)
		goto bad;
	if (errno == ERANGE || v < min || v > max)
		return LERR(c, n, "%s: %s is out of range (%lld to %lld)", what, n->val,
			    (long long)min, (long long)max);
	*out = v;
	return 0;
bad:
	if (n->type != Y_SCALAR)
		return LERR(c, n, "%s: expected a whole number, not %s", what, policy__y_kind(n));
	ombx_quote(q, sizeof(q), n->val, n->len);
	return LERR(c, n, "%s: expected a whole number, not %s%s", what, q,
		    n->plain ? "" : " (a quoted string)");
}

int policy__want_usd(struct lctx *c, const struct policy__ynode *n, const char *what, int64_t *out)
{
	char q[POLICY_QUOTE_MAX];
	int r;

	if (n->type != Y_SCALAR || !n->plain || policy__y_null(n)) {
		if (n->type != Y_SCALAR || policy__y_null(n))
			return LERR(c, n, "%s: expected an amount in USD such as 5.00, not %s",
				    what, policy__y_kind(n));
		ombx_quote(q, sizeof(q), n->val, n->len);
		return LERR(c, n,
			    "%s: expected an amount in USD such as 5.00, not %s (a quoted "
			    "string)",
			    what, q);
	}
	r = policy__parse_usd(n->val, n->len, out);
	if (r == -ERANGE)
		return LERR(c, n, "%s: %s is more than the largest amount (1000000000)", what,
			    n->val);
	if (r < 0) {
		ombx_quote(q, sizeof(q), n->val, n->len);
		return LERR(c, n,
			    "%s: %s is not an amount in USD (expected e.g. 5 or 2.50; no "
			    "sign, at most 6 decimals)",
			    what, q);
	}
	return 0;
}

int policy__want_state_name(struct lctx *c, const struct policy__ynode *n, const char *what)
{
	char q[POLICY_QUOTE_MAX];
	int r = policy__want_str(c, n, what, 1024);

	if (r < 0)
		return r;
	ombx_quote(q, sizeof(q), n->val, n->len);
	if (!policy__name_valid(n->val, n->len))
		return LERR(c, n,
			    "%s: %s is not a name (letters, digits, _ . -, starting with a "
			    "letter or _, at most %d bytes)",
			    what, q, POLICY_NAME_MAX);
	if (n->val[0] == '_' || policy__y_is(n, "spend"))
		return LERR(c, n,
			    "%s: %s is reserved for the engine (names starting with _, and "
			    "spend)",
			    what, q);
	return 0;
}

/* ---- rules and their names ---- */

static int names_add(struct lctx *c, uint32_t idx, const struct policy__ynode *node)
{
	const char *name = c->rules[idx].name;
	size_t len = strlen(name);

	if (c->n_rules * 2 >= c->names_cap) {
		size_t ncap = c->names_cap ? c->names_cap * 2 : 64;
		uint32_t *nt = malloc(ncap * sizeof(*nt));
		if (!nt)
			return policy__oom(c);
		for (size_t i = 0; i < ncap; i++)
			nt[i] = UINT32_MAX;
		for (size_t i = 0; i < c->names_cap; i++) {
			uint32_t r = c->names[i];
			size_t h;
			if (r == UINT32_MAX)
				continue;
			h = policy__hash(c->rules[r].name, strlen(c->rules[r].name)) & (ncap - 1);
			while (nt[h] != UINT32_MAX)
				h = (h + 1) & (ncap - 1);
			nt[h] = r;
		}
		free(c->names);
		c->names = nt;
		c->names_cap = ncap;
	}
	for (size_t h = policy__hash(name, len) & (c->names_cap - 1);;
	     h = (h + 1) & (c->names_cap - 1)) {
		uint32_t r = c->names[h];
		if (r == UINT32_MAX) {
			c->names[h] = idx;
			return 0;
		}
		if (strcmp(c->rules[r].name, name) == 0)
			return LERR(c, node,
				    "duplicate rule name \"%s\" (first defined at line %u)", name,
				    c->rule_nodes[r]->line);
	}
}

int policy__new_rule(struct lctx *c, const struct policy__ynode *node, const char *name,
		     struct policy__rule **out)
{
	struct policy__rule *r;

	if (c->n_rules >= POLICY_RULES_MAX)
		return LERR(c, node, "more than %d rules in one file", POLICY_RULES_MAX);
	if (c->n_rules == c->cap_rules) {
		size_t ncap = c->cap_rules ? c->cap_rules * 2 : 16;
		struct policy__rule *nr = realloc(c->rules, ncap * sizeof(*nr));
		const struct policy__ynode **nn = realloc(c->rule_nodes, ncap * sizeof(*nn));
		if (nr)
			c->rules = nr;
		if (nn)
			c->rule_nodes = nn;
		if (!nr || !nn)
			return policy__oom(c);
		c->cap_rules = ncap;
	}
	r = &c->rules[c->n_rules];
	memset(r, 0, sizeof(*r));
	r->index = (uint32_t)c->n_rules;
	r->name = policy__strndup(c->a, name, strlen(name));
	r->methods = M_ANY;
	if (!r->name)
		return policy__oom(c);
	c->rule_nodes[c->n_rules++] = node;
	if (names_add(c, r->index, node) < 0) {
		c->n_rules--;
		return -EINVAL;
	}
	*out = r;
	return 0;
}

/* ---- the document ---- */

static int load_root(struct lctx *c, const struct policy__ynode *root)
{
	static const char *const keys[] = {"egress", "rules", "secrets", "policies"};
	const struct policy__ynode *v[4];
	int r;

	if (!root)
		return 0; /* an empty policy has no opinion on anything */
	if (root->type != Y_MAP)
		return LERR(c, root,
			    "a policy is a mapping with the keys egress, rules, secrets "
			    "and policies, not %s",
			    policy__y_kind(root));
	r = policy__fields(c, root, "policy", keys, 4, v);
	if (r == 0 && v[0])
		r = policy__load_egress(c, v[0]);
	if (r == 0 && v[1])
		r = policy__load_rules(c, v[1]);
	if (r == 0 && v[2])
		r = policy__load_secrets(c, v[2]);
	if (r == 0 && v[3])
		r = policy__load_policies(c, v[3]);
	return r;
}

void policy_set_unref(struct policy_set *s)
{
	if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	policy__arena_free(&s->arena);
	free(s);
}

struct policy_set *policy_set_ref(struct policy_set *s)
{
	if (s)
		atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

const char *policy_set_name(const struct policy_set *s)
{
	return s->name;
}

size_t policy_set_rule_count(const struct policy_set *s)
{
	return s->n_rules;
}

int policy_set_load_buffer(const char *name, const char *buf, size_t len, struct policy_set **out,
			   ombx_err *err)
{
	struct policy__arena tree = {0};
	struct policy__ynode *root = NULL;
	struct policy_set *s;
	struct lctx c = {.name = name ? name : "<policy>", .err = err};
	int r;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return ombx_err_set(err, ENOMEM, "%s: out of memory", c.name);
	atomic_init(&s->refs, 1);
	c.set = s;
	c.a = &s->arena;
	s->name = policy__strndup(&s->arena, c.name, strlen(c.name));
	r = s->name ? policy__yaml_parse(c.name, buf, len, &tree, &root, err) : policy__oom(&c);
	if (r == 0)
		r = load_root(&c, root);
	if (r == 0 && c.n_rules) {
		s->rules = policy__alloc(&s->arena, c.n_rules * sizeof(*s->rules));
		if (!s->rules)
			r = policy__oom(&c);
		else
			memcpy(s->rules, c.rules, c.n_rules * sizeof(*s->rules));
		s->n_rules = c.n_rules;
	}
	if (r == 0 && policy__set_index(s) < 0)
		r = policy__oom(&c);
	free(c.rules);
	free(c.rule_nodes);
	free(c.names);
	policy__arena_free(&tree);
	if (r < 0) {
		policy_set_unref(s);
		return r;
	}
	*out = s;
	return 0;
}

int policy_set_load(const char *path, struct policy_set **out, ombx_err *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t n;
	int r;

	*out = NULL;
	r = ombx_read_file(path, POLICY_FILE_MAX, "policy", &buf, &n, err);
	return r < 0 ? r : policy_set_load_buffer(path, buf, n, out, err);
}
