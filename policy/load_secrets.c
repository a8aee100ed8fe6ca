/* load_secrets.c - the secrets: and policies: sections.
 *
 *   secrets:
 *     github:
 *       source: env:GITHUB_TOKEN          # or file:/ABSOLUTE/PATH
 *       placeholder_env: GITHUB_TOKEN     # optional
 *       inject:
 *         - {hosts: [api.github.com], header: Authorization, format: "Bearer {secret}"}
 *         - {hosts: [github.com], basic_user: x-access-token}
 *       require_approval: false
 *   policies:
 *     budget:
 *       type: function
 *       handler: omnigent.policies.builtins.cost.cost_budget
 *       factory_params: {max_cost_usd: 5.00, ask_thresholds_usd: [3.00]}
 *
 * The seed's newer spelling, function: NAME or function: {path: NAME,
 * arguments: {...}}, loads too. Only the secret's source is recorded here;
 * its value is read by policy_secret_read and nowhere else. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "load.h"

static bool env_name(const char *s, size_t len)
{
	if (len == 0 || len > 128 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static bool header_name(const char *s, size_t len)
{
	static const char *const refused[] = {"host",       "content-length", "transfer-encoding",
					      "connection", "upgrade",        "te",
					      "trailer",    "keep-alive",     "proxy-connection"};

	if (len == 0 || len > 128)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("!#$%&'*+-.^_`|~", s[i])))
			return false;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (strlen(refused[i]) == len && strncasecmp(s, refused[i], len) == 0)
			return false;
	return true;
}

/* ---- secrets ---- */

static int load_inject(struct lctx *c, const struct policy__ynode *n, const char *sname,
		       struct policy__inject *in)
{
	static const char *const keys[] = {"hosts", "header", "format", "basic_user"};
	const struct policy__ynode *v[4];
	const char *mark;
	int e;

	e = policy__want_map(c, n, "inject");
	if (e == 0)
		e = policy__fields(c, n, "inject", keys, 4, v);
	if (e < 0)
		return e;
	if (!v[0])
		return LERR(c, n,
			    "secrets.%s.inject: missing key \"hosts\" (where the secret may "
			    "go)",
			    sname);
	e = policy__load_hosts(c, v[0], "inject.hosts", &in->hosts, &in->n_hosts, false);
	if (e < 0)
		return e;
	if (!v[1] == !v[3])
		return LERR(c, n,
			    "secrets.%s.inject: give either header (with an optional "
			    "format) or basic_user",
			    sname);
	if (v[3]) {
		if (v[2])
			return LERR(c, v[2], "format: only with header");
		e = policy__want_str(c, v[3], "basic_user", 256);
		if (e == 0 && memchr(v[3]->val, ':', v[3]->len))
			e = LERR(c, v[3], "basic_user: a user name cannot contain ':'");
		for (size_t i = 0; e == 0 && i < v[3]->len; i++)
			if ((unsigned char)v[3]->val[i] < 0x20 || v[3]->val[i] == 0x7f)
				e = LERR(c, v[3], "basic_user: control characters are not allowed");
		in->how = POLICY_INJECT_BASIC;
		if (e == 0 && !(in->basic_user = policy__strndup(c->a, v[3]->val, v[3]->len)))
			e = policy__oom(c);
		return e;
	}
	e = policy__want_str(c, v[1], "header", 128);
	if (e == 0 && !header_name(v[1]->val, v[1]->len))
		e = LERR(c, v[1],
			 "header: not a header name a secret may go in (a token such as "
			 "Authorization; not Host or framing headers)");
	if (e < 0)
		return e;
	in->how = POLICY_INJECT_HEADER;
	in->header = policy__strndup(c->a, v[1]->val, v[1]->len);
	if (!in->header)
		return policy__oom(c);
	if (!v[2]) {
		in->prefix = in->suffix = "";
		return 0;
	}
	e = policy__want_str(c, v[2], "format", 1024);
	if (e < 0)
		return e;
	for (size_t i = 0; i < v[2]->len; i++)
		if ((unsigned char)v[2]->val[i] < 0x20 || v[2]->val[i] == 0x7f)
			return LERR(c, v[2], "format: control characters are not allowed");
	mark = strstr(v[2]->val, "{secret}");
	if (!mark || strstr(mark + 1, "{secret}"))
		return LERR(c, v[2],
			    "format: must contain {secret} exactly once, e.g. "
			    "\"Bearer {secret}\"");
	in->prefix = policy__strndup(c->a, v[2]->val, (size_t)(mark - v[2]->val));
	in->suffix = policy__strndup(c->a, mark + 8, strlen(mark + 8));
	return in->prefix && in->suffix ? 0 : policy__oom(c);
}

static int load_source(struct lctx *c, const struct policy__ynode *n, struct policy_secret *s)
{
	int e = policy__want_str(c, n, "source", 4096);

	if (e < 0)
		return e;
	if (strncmp(n->val, "env:", 4) == 0) {
		if (!env_name(n->val + 4, n->len - 4))
			return LERR(c, n,
				    "source: env: needs a variable name, e.g. env:GITHUB_TOKEN");
		s->src = SRC_ENV;
	} else if (strncmp(n->val, "file:", 5) == 0) {
		if (n->val[5] != '/')
			return LERR(c, n,
				    "source: file: needs an absolute path, e.g. "
				    "file:/run/secrets/github");
		s->src = SRC_FILE;
	} else {
		return LERR(c, n, "source: expected env:NAME or file:/PATH");
	}
	s->src_arg = policy__strndup(c->a, strchr(n->val, ':') + 1,
				     n->len - (size_t)(strchr(n->val, ':') + 1 - n->val));
	return s->src_arg ? 0 : policy__oom(c);
}

static int load_secret(struct lctx *c, const struct policy__ynode *key,
		       const struct policy__ynode *n, struct policy_secret *s)
{
	static const char *const keys[] = {"source", "placeholder_env", "inject",
					   "require_approval"};
	const struct policy__ynode *v[4];
	char what[96];
	int e;

	if (!policy__name_valid(key->val, key->len))
		return LERR(c, key,
			    "secrets: \"%.*s\" is not a secret name (letters, digits, _ . "
			    "-)",
			    (int)(key->len > 60 ? 60 : key->len), key->val);
	snprintf(what, sizeof(what), "secrets.%s", key->val);
	s->name = policy__strndup(c->a, key->val, key->len);
	if (!s->name)
		return policy__oom(c);
	e = policy__want_map(c, n, what);
	if (e == 0)
		e = policy__fields(c, n, what, keys, 4, v);
	if (e < 0)
		return e;
	if (!v[0])
		return LERR(c, n, "%s: missing key \"source\" (env:NAME or file:/PATH)", what);
	if (!v[2])
		return LERR(c, n, "%s: missing key \"inject\" (where and how the secret goes)",
			    what);
	e = load_source(c, v[0], s);
	if (e == 0 && v[1]) {
		e = policy__want_str(c, v[1], "placeholder_env", 128);
		if (e == 0 && !env_name(v[1]->val, v[1]->len))
			e = LERR(c, v[1], "placeholder_env: not an environment variable name");
		if (e == 0 && !(s->placeholder_env = policy__strndup(c->a, v[1]->val, v[1]->len)))
			e = policy__oom(c);
	}
	if (e == 0 && v[3])
		e = policy__want_bool(c, v[3], "require_approval", &s->require_approval);
	if (e < 0)
		return e;
	if (v[2]->type != Y_SEQ)
		return LERR(c, v[2], "inject: expected a list, not %s", policy__y_kind(v[2]));
	if (v[2]->n == 0)
		return LERR(c, v[2], "inject: the list is empty");
	s->inject = policy__alloc(c->a, v[2]->n * sizeof(*s->inject));
	if (!s->inject)
		return policy__oom(c);
	s->n_inject = v[2]->n;
	for (size_t i = 0; e == 0 && i < v[2]->n; i++)
		e = load_inject(c, v[2]->items[i], s->name, &s->inject[i]);
	return e;
}

int policy__load_secrets(struct lctx *c, const struct policy__ynode *n)
{
	struct policy_set *set = c->set;
	int e = policy__want_map(c, n, "secrets");

	if (e < 0)
		return e;
	set->secrets = policy__alloc(c->a, (n->n ? n->n : 1) * sizeof(*set->secrets));
	if (!set->secrets)
		return policy__oom(c);
	for (size_t i = 0; e == 0 && i < n->n; i++) {
		e = load_secret(c, n->items[2 * i], n->items[2 * i + 1], &set->secrets[i]);
		for (size_t k = 0; e == 0 && k < i; k++) {
			const char *a = set->secrets[k].placeholder_env;
			const char *b = set->secrets[i].placeholder_env;
			if (a && b && strcmp(a, b) == 0)
				e = LERR(c, n->items[2 * i + 1],
					 "placeholder_env %s is already "
					 "used by secret %s",
					 b, set->secrets[k].name);
		}
		set->n_secrets = i + 1;
	}
	return e;
}

/* ---- policies: the seed's built-ins ---- */

static int budget_params(struct lctx *c, const struct policy__ynode *p, struct policy__rule *r)
{
	static const char *const keys[] = {"max_cost_usd", "ask_thresholds_usd"};
	const struct policy__ynode *v[2];
	struct policy__budget *b = &r->budget;
	int e = policy__fields(c, p, "factory_params", keys, 2, v);

	if (e < 0)
		return e;
	if (!v[0])
		return LERR(c, p, "cost_budget: missing max_cost_usd (the hard cap, e.g. 5.00)");
	e = policy__want_usd(c, v[0], "max_cost_usd", &b->max);
	if (e == 0 && b->max == 0)
		e = LERR(c, v[0], "max_cost_usd: must be more than 0");
	if (e < 0 || !v[1])
		return e;
	if (v[1]->type != Y_SEQ)
		return LERR(c, v[1],
			    "ask_thresholds_usd: expected a list of amounts, e.g. [3.00], "
			    "not %s",
			    policy__y_kind(v[1]));
	b->thresholds = policy__alloc(c->a, (v[1]->n ? v[1]->n : 1) * sizeof(*b->thresholds));
	if (!b->thresholds)
		return policy__oom(c);
	for (size_t i = 0; i < v[1]->n; i++) {
		const struct policy__ynode *t = v[1]->items[i];
		e = policy__want_usd(c, t, "ask_thresholds_usd", &b->thresholds[i]);
		if (e < 0)
			return e;
		if (b->thresholds[i] == 0 || b->thresholds[i] >= b->max)
			return LERR(c, t,
				    "ask_thresholds_usd: each threshold must be more than 0 "
				    "and less than max_cost_usd");
		if (i && b->thresholds[i] <= b->thresholds[i - 1])
			return LERR(c, t,
				    "ask_thresholds_usd: thresholds must be in ascending "
				    "order, each given once");
	}
	b->n_thresholds = v[1]->n;
	return 0;
}

static int commands_params(struct lctx *c, const struct policy__ynode *p, struct policy__rule *r)
{
	static const char *const keys[] = {"patterns", "reason"};
	const struct policy__ynode *v[2];
	int e = policy__fields(c, p, "factory_params", keys, 2, v);

	if (e < 0)
		return e;
	if (!v[0])
		return LERR(c, p, "missing patterns (e.g. [\"git push --force\", \"rm -rf /\"])");
	if (v[0]->type != Y_SEQ)
		return LERR(c, v[0], "patterns: expected a list, not %s", policy__y_kind(v[0]));
	if (v[0]->n == 0)
		return LERR(c, v[0], "patterns: the list is empty");
	r->cmds = policy__alloc(c->a, v[0]->n * sizeof(*r->cmds));
	if (!r->cmds)
		return policy__oom(c);
	r->n_cmds = v[0]->n;
	for (size_t i = 0; i < v[0]->n; i++) {
		const struct policy__ynode *t = v[0]->items[i];
		char msg[256];
		e = policy__want_str(c, t, "patterns", 4096);
		if (e < 0)
			return e;
		if (policy__cmdpat_parse(c->a, t->val, t->len, &r->cmds[i], msg, sizeof(msg)) < 0)
			return LERR(c, t, "patterns: %s", msg);
	}
	if (v[1]) {
		e = policy__want_str(c, v[1], "reason", 512);
		if (e == 0 && !(r->reason = policy__strndup(c->a, v[1]->val, v[1]->len)))
			e = policy__oom(c);
		r->own_reason = true;
	}
	return e;
}

static int builtin_params(struct lctx *c, const struct policy__ynode *at,
			  const struct policy__ynode *p, struct policy__rule *r)
{
	static const struct policy__ynode empty = {.type = Y_MAP};
	int64_t limit = 100;
	int e;

	if (!p)
		p = &empty;
	e = policy__want_map(c, p, "factory_params");
	if (e < 0)
		return e;
	switch (r->handler) {
	case H_COST_BUDGET:
		if (p == &empty)
			return LERR(c, at, "cost_budget needs factory_params with max_cost_usd");
		r->any_kind = true;
		return budget_params(c, p, r);
	case H_MAX_TOOL_CALLS: {
		static const char *const keys[] = {"limit"};
		const struct policy__ynode *v[1];
		e = policy__fields(c, p, "factory_params", keys, 1, v);
		if (e == 0 && v[0])
			e = policy__want_int(c, v[0], "limit", 0, 1000000000, &limit);
		r->on = POLICY_TOOL_CALL;
		r->limit = limit;
		return e;
	}
	default:
		if (p == &empty)
			return LERR(c, at, "this handler needs factory_params with patterns");
		r->any_kind = true;
		return commands_params(c, p, r);
	}
}

static int load_policy(struct lctx *c, const struct policy__ynode *key,
		       const struct policy__ynode *n)
{
	static const char *const keys[] = {"type", "handler", "factory_params", "function",
					   "description"};
	const struct policy__ynode *v[5], *handler, *params;
	const struct policy__handler_info *hi;
	struct policy__rule *r;
	char what[96], q[POLICY_QUOTE_MAX];
	int e;

	if (!policy__name_valid(key->val, key->len))
		return LERR(c, key,
			    "policies: \"%.*s\" is not a policy name (letters, digits, _ . "
			    "-)",
			    (int)(key->len > 60 ? 60 : key->len), key->val);
	snprintf(what, sizeof(what), "policies.%s", key->val);
	e = policy__want_map(c, n, what);
	if (e == 0)
		e = policy__fields(c, n, what, keys, 5, v);
	if (e < 0)
		return e;
	if (v[0] && !policy__y_is(v[0], "function"))
		return LERR(c, v[0],
			    "type: only type: function is supported here (the built-in "
			    "handlers below)");
	if (!v[1] == !v[3])
		return LERR(c, n, "%s: give either handler (with factory_params) or function",
			    what);
	handler = v[1];
	params = v[2];
	if (v[3]) {
		static const char *const fkeys[] = {"path", "arguments"};
		const struct policy__ynode *f[2];
		if (v[2])
			return LERR(c, v[2], "factory_params: with function:, use its arguments");
		handler = v[3];
		if (v[3]->type == Y_MAP) {
			e = policy__fields(c, v[3], "function", fkeys, 2, f);
			if (e < 0)
				return e;
			if (!f[0])
				return LERR(c, v[3], "function: missing key \"path\"");
			handler = f[0];
			params = f[1];
		}
	}
	e = policy__want_str(c, handler, "handler", 256);
	if (e < 0)
		return e;
	hi = policy__handler_find(handler->val, handler->len);
	if (!hi) {
		ombx_quote(q, sizeof(q), handler->val, handler->len);
		return LERR(c, handler, "unknown handler %s (this engine has: %s)", q,
			    policy__handler_list);
	}
	e = policy__new_rule(c, key, key->val, &r);
	if (e < 0)
		return e;
	r->handler = hi->h;
	r->on = POLICY_USAGE;
	e = builtin_params(c, handler, params, r);
	if (e == 0 && v[4])
		e = policy__want_str(c, v[4], "description", 1024);
	if (e == 0 && !r->reason) {
		int len = snprintf(what, sizeof(what), "policy %s", r->name);
		if (!(r->reason = policy__strndup(c->a, what, (size_t)len)))
			e = policy__oom(c);
	}
	return e;
}

int policy__load_policies(struct lctx *c, const struct policy__ynode *n)
{
	int e = policy__want_map(c, n, "policies");

	for (size_t i = 0; e == 0 && i < n->n; i++)
		e = load_policy(c, n->items[2 * i], n->items[2 * i + 1]);
	return e;
}
