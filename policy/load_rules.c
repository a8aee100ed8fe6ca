/* load_rules.c - the general form:
 *
 *   rules:
 *     - name: push-after-install
 *       on: egress                 # egress | exec | tool_call | usage
 *       match: {hosts: [github.com], methods: [POST], paths: ["/NAME/NAME.git/git-receive-pack"]}
 *       if: installed_package      # FLAG | not FLAG | NAME OP N | spend OP USD; or a list (all)
 *       decision: ask              # allow | deny | ask
 *       reason: git push after a new npm package was installed
 *       set: [flag]                # also unset: [flag], increment: {counter: n}
 *
 * match keys by kind: egress hosts, cidrs, methods, paths, ports, schemes;
 * exec commands; tool_call tools, commands; usage none. A rule must decide
 * or update state, or it would do nothing, which is refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

#define REASON_MAX 512

typedef int (*list_fn)(struct lctx *c, const struct policy__ynode *item, const char *what,
		       struct policy__rule *r, size_t i);

/* Calls fn for each item of the list (or single scalar) n, after calling
 * alloc with the count. */
static int each(struct lctx *c, const struct policy__ynode *n, const char *what,
		struct policy__rule *r, int (*alloc)(struct lctx *, struct policy__rule *, size_t),
		list_fn fn)
{
	const struct policy__ynode *const *items, *one;
	size_t count;
	int e = policy__want_list(c, n, what, &items, &count, &one);

	if (e == 0 && alloc)
		e = alloc(c, r, count);
	for (size_t i = 0; e == 0 && i < count; i++) {
		e = policy__want_str(c, items[i], what, 4096);
		if (e == 0)
			e = fn(c, items[i], what, r, i);
	}
	return e;
}

#define ALLOC_FN(fname, field, count)                                                              \
	static int fname(struct lctx *c, struct policy__rule *r, size_t n)                         \
	{                                                                                          \
		r->field = policy__alloc(c->a, n * sizeof(*r->field));                             \
		r->count = n;                                                                      \
		return r->field ? 0 : policy__oom(c);                                              \
	}
ALLOC_FN(alloc_hosts, hosts, n_hosts)
ALLOC_FN(alloc_cidrs, cidrs, n_cidrs)
ALLOC_FN(alloc_paths, paths, n_paths)
ALLOC_FN(alloc_ports, ports, n_ports)
ALLOC_FN(alloc_tools, tools, n_tools)
ALLOC_FN(alloc_cmds, cmds, n_cmds)
ALLOC_FN(alloc_conds, conds, n_conds)

static int one_host(struct lctx *c, const struct policy__ynode *n, const char *what,
		    struct policy__rule *r, size_t i)
{
	char msg[256], q[POLICY_QUOTE_MAX];

	if (policy__hostpat_parse(c->a, n->val, n->len, &r->hosts[i], msg, sizeof(msg)) < 0) {
		ombx_quote(q, sizeof(q), n->val, n->len);
		return LERR(c, n, "%s: host %s: %s", what, q, msg);
	}
	return 0;
}

int policy__load_hosts(struct lctx *c, const struct policy__ynode *n, const char *what,
		       struct policy__hostpat **out, size_t *count, bool allow_any)
{
	struct policy__rule tmp = {0};
	int e = each(c, n, what, &tmp, alloc_hosts, one_host);

	for (size_t i = 0; e == 0 && i < tmp.n_hosts; i++)
		if (tmp.hosts[i].any && !allow_any)
			return LERR(c, n, "%s: '*' (any host) is not allowed here", what);
	*out = tmp.hosts;
	*count = tmp.n_hosts;
	return e;
}

static int one_cidr(struct lctx *c, const struct policy__ynode *n, const char *what,
		    struct policy__rule *r, size_t i)
{
	char msg[256], q[POLICY_QUOTE_MAX];

	if (policy__cidr_parse(n->val, n->len, &r->cidrs[i], msg, sizeof(msg)) < 0) {
		ombx_quote(q, sizeof(q), n->val, n->len);
		return LERR(c, n, "%s: %s: %s", what, q, msg);
	}
	return 0;
}

static int one_path(struct lctx *c, const struct policy__ynode *n, const char *what,
		    struct policy__rule *r, size_t i)
{
	char msg[256], q[POLICY_QUOTE_MAX];

	if (policy__glob_parse(c->a, n->val, n->len, &r->paths[i], msg, sizeof(msg)) < 0) {
		ombx_quote(q, sizeof(q), n->val, n->len);
		return LERR(c, n, "%s: %s: %s", what, q, msg);
	}
	return 0;
}

static int one_cmd(struct lctx *c, const struct policy__ynode *n, const char *what,
		   struct policy__rule *r, size_t i)
{
	char msg[256], q[POLICY_QUOTE_MAX];

	if (policy__cmdpat_parse(c->a, n->val, n->len, &r->cmds[i], msg, sizeof(msg)) < 0) {
		ombx_quote(q, sizeof(q), n->val, n->len);
		return LERR(c, n, "%s: %s: %s", what, q, msg);
	}
	return 0;
}

static int one_tool(struct lctx *c, const struct policy__ynode *n, const char *what,
		    struct policy__rule *r, size_t i)
{
	for (size_t k = 0; k < n->len; k++) {
		char ch = n->val[k];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr("_.:-*", ch)) ||
		    n->len > 128)
			return LERR(c, n,
				    "%s: \"%.*s\" is not a tool name (letters, digits, _ . : - "
				    "and * globs, at most 128)",
				    what, (int)(n->len > 60 ? 60 : n->len), n->val);
	}
	r->tools[i] = policy__strndup(c->a, n->val, n->len);
	return r->tools[i] ? 0 : policy__oom(c);
}

static int one_method(struct lctx *c, const struct policy__ynode *n, const char *what,
		      struct policy__rule *r, size_t i)
{
	struct policy__rule tmp = {0};
	const char **x;
	int e;

	if (memchr(n->val, ',', n->len))
		return LERR(c, n, "%s: one method per list item", what);
	e = policy__load_methods(c, n, n->val, n->len, &tmp);
	if (e < 0)
		return e;
	if (i == 0)
		r->methods = 0;
	r->methods |= tmp.methods;
	if (tmp.n_xmethods) {
		x = policy__alloc(c->a, (r->n_xmethods + 1) * sizeof(*x));
		if (!x)
			return policy__oom(c);
		if (r->n_xmethods)
			memcpy(x, r->xmethods, r->n_xmethods * sizeof(*x));
		x[r->n_xmethods++] = tmp.xmethods[0];
		r->xmethods = x;
	}
	return 0;
}

static int one_port(struct lctx *c, const struct policy__ynode *n, const char *what,
		    struct policy__rule *r, size_t i)
{
	int64_t v;
	int e = policy__want_int(c, n, what, 1, 65535, &v);

	if (e == 0)
		r->ports[i] = (unsigned)v;
	return e;
}

static int one_scheme(struct lctx *c, const struct policy__ynode *n, const char *what,
		      struct policy__rule *r, size_t i)
{
	if (policy__y_is(n, "http"))
		r->schemes |= SCHEME_HTTP;
	else if (policy__y_is(n, "https"))
		r->schemes |= SCHEME_HTTPS;
	else
		return LERR(c, n, "%s: expected http or https", what);
	return 0;
}

/* ---- match ---- */

static const struct {
	const char *key;
	unsigned kinds; /* bit per policy_kind */
	int (*alloc)(struct lctx *, struct policy__rule *, size_t);
	list_fn fn;
} match_keys[] = {
	{"hosts", 1u << POLICY_EGRESS, alloc_hosts, one_host},
	{"cidrs", 1u << POLICY_EGRESS, alloc_cidrs, one_cidr},
	{"methods", 1u << POLICY_EGRESS, NULL, one_method},
	{"paths", 1u << POLICY_EGRESS, alloc_paths, one_path},
	{"ports", 1u << POLICY_EGRESS, alloc_ports, one_port},
	{"schemes", 1u << POLICY_EGRESS, NULL, one_scheme},
	{"tools", 1u << POLICY_TOOL_CALL, alloc_tools, one_tool},
	{"commands", 1u << POLICY_EXEC | 1u << POLICY_TOOL_CALL, alloc_cmds, one_cmd},
};
#define N_MATCH (sizeof(match_keys) / sizeof(match_keys[0]))

static int load_match(struct lctx *c, const struct policy__ynode *n, struct policy__rule *r)
{
	const char *keys[N_MATCH];
	const struct policy__ynode *v[N_MATCH];
	int e;

	for (size_t k = 0; k < N_MATCH; k++)
		keys[k] = match_keys[k].key;
	e = policy__want_map(c, n, "match");
	if (e == 0)
		e = policy__fields(c, n, "match", keys, N_MATCH, v);
	for (size_t k = 0; e == 0 && k < N_MATCH; k++) {
		char what[32];
		if (!v[k])
			continue;
		snprintf(what, sizeof(what), "match.%s", keys[k]);
		if (!(match_keys[k].kinds & (1u << r->on)))
			return LERR(c, v[k], "%s is not available for on: %s", what,
				    policy_kind_name(r->on));
		e = each(c, v[k], what, r, match_keys[k].alloc, match_keys[k].fn);
	}
	return e;
}

/* ---- if: conditions ---- */

static const struct {
	const char *op;
	enum policy__cmp cmp;
} ops[] = {{"<=", CMP_LE}, {">=", CMP_GE}, {"==", CMP_EQ},
	   {"!=", CMP_NE}, {"<", CMP_LT},  {">", CMP_GT}};

static bool name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == '-';
}

static int cond_value(struct lctx *c, const struct policy__ynode *n, const char *p,
		      struct policy__cond *cd)
{
	size_t len = strlen(p);
	char *end;
	long long v;

	while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (cd->kind == COND_SPEND) {
		if (len && p[0] == '$')
			p++, len--;
		if (policy__parse_usd(p, len, &cd->value) < 0)
			return LERR(c, n,
				    "if: spend is compared with an amount in USD, e.g. "
				    "\"spend >= 2.50\"");
		return 0;
	}
	errno = 0;
	v = strtoll(p, &end, 10);
	if (len == 0 || end != p + len || errno == ERANGE ||
	    !(*p == '-' || (*p >= '0' && *p <= '9')))
		return LERR(c, n,
			    "if: a counter is compared with a whole number, e.g. "
			    "\"pushes >= 3\"");
	cd->value = v;
	return 0;
}

static int parse_cond(struct lctx *c, const struct policy__ynode *n, struct policy__cond *cd)
{
	const char *p = n->val, *name;
	size_t nlen, k;

	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "not ", 4) == 0 || strncmp(p, "not\t", 4) == 0) {
		cd->kind = COND_NOT;
		for (p += 4; *p == ' ' || *p == '\t'; p++)
			;
	} else {
		cd->kind = COND_FLAG;
	}
	for (name = p; name_char(*p); p++)
		;
	nlen = (size_t)(p - name);
	while (*p == ' ' || *p == '\t')
		p++;
	if (!policy__name_valid(name, nlen) || name[0] == '_')
		return LERR(c, n,
			    "if: expected FLAG, \"not FLAG\", \"COUNTER OP NUMBER\" or "
			    "\"spend OP USD\" (OP one of < <= > >= == !=)");
	cd->name = policy__strndup(c->a, name, nlen);
	if (!cd->name)
		return policy__oom(c);
	cd->hash = policy__hash(name, nlen);
	if (*p == '\0') {
		if (nlen == 5 && memcmp(name, "spend", 5) == 0)
			return LERR(c, n,
				    "if: spend is compared with an amount, e.g. "
				    "\"spend >= 2.50\"");
		return 0;
	}
	if (cd->kind == COND_NOT)
		return LERR(c, n, "if: \"not\" takes a flag name only");
	for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
		if (strncmp(p, ops[k].op, strlen(ops[k].op)) == 0)
			break;
	if (k == sizeof(ops) / sizeof(ops[0]))
		return LERR(c, n, "if: unknown comparison (expected one of < <= > >= == !=)");
	cd->op = ops[k].cmp;
	cd->kind = nlen == 5 && memcmp(name, "spend", 5) == 0 ? COND_SPEND : COND_CMP;
	for (p += strlen(ops[k].op); *p == ' ' || *p == '\t'; p++)
		;
	return cond_value(c, n, p, cd);
}

static int one_cond(struct lctx *c, const struct policy__ynode *n, const char *what,
		    struct policy__rule *r, size_t i)
{
	(void)what;
	return parse_cond(c, n, &r->conds[i]);
}

/* ---- state updates ---- */

static int add_update(struct lctx *c, struct policy__rule *r, const struct policy__ynode *n, int op,
		      int64_t amount)
{
	struct policy__update *u = &r->upds[r->n_upds++];

	u->op = op;
	u->n = amount;
	u->name = policy__strndup(c->a, n->val, n->len);
	u->hash = policy__hash(n->val, n->len);
	return u->name ? 0 : policy__oom(c);
}

static int load_updates(struct lctx *c, struct policy__rule *r, const struct policy__ynode *set,
			const struct policy__ynode *unset, const struct policy__ynode *incr)
{
	const struct policy__ynode *const *items[2], *one[2];
	size_t count[2] = {0, 0}, total;
	const struct policy__ynode *lists[2] = {set, unset};
	static const char *const what[2] = {"set", "unset"};
	int e = 0;

	for (int k = 0; e == 0 && k < 2; k++)
		if (lists[k])
			e = policy__want_list(c, lists[k], what[k], &items[k], &count[k], &one[k]);
	if (e == 0 && incr)
		e = policy__want_map(c, incr, "increment");
	if (e < 0)
		return e;
	total = count[0] + count[1] + (incr ? incr->n : 0);
	r->upds = policy__alloc(c->a, (total ? total : 1) * sizeof(*r->upds));
	if (!r->upds)
		return policy__oom(c);
	for (int k = 0; e == 0 && k < 2; k++)
		for (size_t i = 0; e == 0 && i < count[k]; i++) {
			e = policy__want_state_name(c, items[k][i], what[k]);
			if (e == 0)
				e = add_update(c, r, items[k][i], k == 0 ? UPD_SET : UPD_UNSET, 0);
		}
	for (size_t i = 0; e == 0 && incr && i < incr->n; i++) {
		int64_t amount;
		e = policy__want_state_name(c, incr->items[2 * i], "increment");
		if (e == 0)
			e = policy__want_int(c, incr->items[2 * i + 1], "increment", -1000000000,
					     1000000000, &amount);
		if (e == 0 && amount == 0)
			e = LERR(c, incr->items[2 * i + 1], "increment: 0 would change nothing");
		if (e == 0)
			e = add_update(c, r, incr->items[2 * i], UPD_INCR, amount);
	}
	return e;
}

/* ---- one rule ---- */

enum { K_NAME, K_ON, K_MATCH, K_IF, K_DECISION, K_REASON, K_SET, K_UNSET, K_INCR, K_N };

static int rule_head(struct lctx *c, const struct policy__ynode *n, const struct policy__ynode **v,
		     struct policy__rule **out)
{
	static const char *const kinds[] = {"egress", "exec", "tool_call", "usage"};
	char q[POLICY_QUOTE_MAX];
	int e;

	if (!v[K_NAME])
		return LERR(c, n, "rule: missing key \"name\"");
	e = policy__want_str(c, v[K_NAME], "name", 1024);
	if (e < 0)
		return e;
	if (!policy__name_valid(v[K_NAME]->val, v[K_NAME]->len)) {
		ombx_quote(q, sizeof(q), v[K_NAME]->val, v[K_NAME]->len);
		return LERR(c, v[K_NAME],
			    "name: %s is not a rule name (letters, digits, _ . -, "
			    "starting with a letter or _, at most %d bytes)",
			    q, POLICY_NAME_MAX);
	}
	if (!v[K_ON])
		return LERR(c, n, "rule %s: missing key \"on\" (egress, exec, tool_call or usage)",
			    v[K_NAME]->val);
	e = policy__new_rule(c, v[K_NAME], v[K_NAME]->val, out);
	if (e < 0)
		return e;
	for (size_t k = 0; k < 4; k++)
		if (policy__y_is(v[K_ON], kinds[k])) {
			(*out)->on = (enum policy_kind)k;
			return 0;
		}
	return LERR(c, v[K_ON], "on: expected egress, exec, tool_call or usage");
}

static int load_rule(struct lctx *c, const struct policy__ynode *n)
{
	static const char *const keys[K_N] = {"name",   "on",  "match", "if",       "decision",
					      "reason", "set", "unset", "increment"};
	const struct policy__ynode *v[K_N];
	struct policy__rule *r;
	int e;

	e = policy__want_map(c, n, "rule");
	if (e == 0)
		e = policy__fields(c, n, "rule", keys, K_N, v);
	if (e == 0)
		e = rule_head(c, n, v, &r);
	if (e == 0 && v[K_MATCH])
		e = load_match(c, v[K_MATCH], r);
	if (e == 0 && v[K_IF])
		e = each(c, v[K_IF], "if", r, alloc_conds, one_cond);
	if (e == 0 && v[K_DECISION]) {
		if (policy__y_is(v[K_DECISION], "allow"))
			r->decision = POLICY_ALLOW;
		else if (policy__y_is(v[K_DECISION], "deny"))
			r->decision = POLICY_DENY;
		else if (policy__y_is(v[K_DECISION], "ask"))
			r->decision = POLICY_ASK;
		else
			e = LERR(c, v[K_DECISION], "decision: expected allow, deny or ask");
	}
	if (e == 0 && v[K_REASON]) {
		e = policy__want_str(c, v[K_REASON], "reason", REASON_MAX);
		if (e == 0 &&
		    !(r->reason = policy__strndup(c->a, v[K_REASON]->val, v[K_REASON]->len)))
			e = policy__oom(c);
	}
	if (e == 0 && (v[K_SET] || v[K_UNSET] || v[K_INCR]))
		e = load_updates(c, r, v[K_SET], v[K_UNSET], v[K_INCR]);
	if (e == 0 && r->decision == POLICY_NONE && r->n_upds == 0)
		e = LERR(c, n,
			 "rule %s does nothing: give it a decision or a state update (set, "
			 "unset, increment)",
			 r->name);
	if (e == 0 && !r->reason) {
		char buf[128];
		int len = snprintf(buf, sizeof(buf), "rule %s", r->name);
		if (!(r->reason = policy__strndup(c->a, buf, (size_t)len)))
			e = policy__oom(c);
	}
	return e;
}

int policy__load_rules(struct lctx *c, const struct policy__ynode *n)
{
	int e = 0;

	if (n->type != Y_SEQ)
		return LERR(c, n, "rules: expected a list of rules, not %s", policy__y_kind(n));
	for (size_t i = 0; e == 0 && i < n->n; i++)
		e = load_rule(c, n->items[i]);
	return e;
}
