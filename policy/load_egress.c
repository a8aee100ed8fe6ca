// load_egress.c - the egress shorthand:
//
//   egress:
//     allow: ["GET,HEAD api.github.com/**", "* registry.npmjs.org/**"]
//     ask:   ["POST github.com/*/*.git/git-receive-pack"]
//     deny:  ["* 169.254.0.0/16"]
//
/* Each entry is "METHODS DESTINATION": METHODS is "*" or a comma-separated
 * list (GET,HEAD); DESTINATION is a CIDR (or a bare IP address) or
 * HOST[:PORT][/PATH-GLOB], HOST being a name, *.domain or *. An entry
 * compiles into a rule named egress.VERDICT[INDEX] (from 0). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "load.h"

int policy__load_methods(struct lctx *c, const struct policy__ynode *n, const char *text,
			 size_t len, struct policy__rule *r)
{
	size_t i = 0, nx = 0, cap = 0;
	const char **x = NULL;

	if (len == 1 && text[0] == '*') {
		r->methods = M_ANY;
		return 0;
	}
	r->methods = 0;
	for (size_t k = 0; k < len; k++)
		cap += text[k] == ',';
	cap++;
	while (i <= len) {
		size_t start = i;
		uint32_t bit;
		while (i < len && text[i] != ',')
			i++;
		if (i == start)
			return LERR(c, n, "methods: empty method name (write e.g. GET,HEAD or *)");
		for (size_t k = start; k < i; k++)
			if (!((text[k] >= 'A' && text[k] <= 'Z') || text[k] == '-' ||
			      text[k] == '_'))
				return LERR(c, n,
					    "methods: \"%.*s\" is not an HTTP method (upper "
					    "case, e.g. GET or POST; * for any)",
					    (int)(i - start > 40 ? 40 : i - start), text + start);
		bit = policy__method_bit(text + start, i - start);
		if (bit == M_OTHER) {
			if (!x) {
				x = policy__alloc(c->a, cap * sizeof(*x));
				if (!x)
					return policy__oom(c);
			}
			x[nx] = policy__strndup(c->a, text + start, i - start);
			if (!x[nx++])
				return policy__oom(c);
		}
		r->methods |= bit;
		i++;
	}
	r->xmethods = x;
	r->n_xmethods = nx;
	return 0;
}

/* HOST[:PORT][/GLOB] into r. */
static int host_dest(struct lctx *c, const struct policy__ynode *n, const char *d, size_t len,
		     struct policy__rule *r)
{
	const char *slash = memchr(d, '/', len), *colon;
	size_t hlen = slash ? (size_t)(slash - d) : len;
	char msg[256];
	int e;

	colon = memchr(d, ':', hlen);
	if (colon) {
		int64_t port = 0;
		size_t k = (size_t)(colon - d) + 1;
		if (k == hlen)
			return LERR(c, n, "no port after ':'");
		for (; k < hlen; k++) {
			if (d[k] < '0' || d[k] > '9' || port > 65535)
				return LERR(c, n, "bad port (expected 1 to 65535)");
			port = port * 10 + (d[k] - '0');
		}
		if (port < 1 || port > 65535)
			return LERR(c, n, "bad port (expected 1 to 65535)");
		r->ports = policy__alloc(c->a, sizeof(*r->ports));
		if (!r->ports)
			return policy__oom(c);
		r->ports[0] = (unsigned)port;
		r->n_ports = 1;
		hlen = (size_t)(colon - d);
	}
	r->hosts = policy__alloc(c->a, sizeof(*r->hosts));
	if (!r->hosts)
		return policy__oom(c);
	e = policy__hostpat_parse(c->a, d, hlen, r->hosts, msg, sizeof(msg));
	if (e < 0)
		return LERR(c, n, "host \"%.*s\": %s", (int)(hlen > 80 ? 80 : hlen), d, msg);
	r->n_hosts = 1;
	if (slash) {
		r->paths = policy__alloc(c->a, sizeof(*r->paths));
		if (!r->paths)
			return policy__oom(c);
		e = policy__glob_parse(c->a, slash, len - (size_t)(slash - d), r->paths, msg,
				       sizeof(msg));
		if (e < 0)
			return LERR(c, n, "path glob: %s", msg);
		r->n_paths = 1;
	}
	return 0;
}

static int entry(struct lctx *c, const struct policy__ynode *n, enum policy_verdict v,
		 const char *vname, size_t idx)
{
	char name[48], msg[256], q[POLICY_QUOTE_MAX];
	const char *s, *sp, *dest;
	struct policy__rule *r;
	size_t mlen, dlen;
	int e;

	e = policy__want_str(c, n, "egress entry", 1024);
	if (e < 0)
		return e;
	s = n->val;
	sp = strpbrk(s, " \t");
	for (dest = sp; dest && (*dest == ' ' || *dest == '\t'); dest++)
		;
	if (!sp || sp == s || !*dest || strpbrk(dest, " \t"))
		return LERR(c, n,
			    "egress.%s: expected \"METHODS host/path-glob\" or \"METHODS "
			    "CIDR\", e.g. \"GET,HEAD api.github.com/**\" or \"* 10.0.0.0/8\"",
			    vname);
	mlen = (size_t)(sp - s);
	dlen = strlen(dest);
	snprintf(name, sizeof(name), "egress.%s[%zu]", vname, idx);
	e = policy__new_rule(c, n, name, &r);
	if (e < 0)
		return e;
	r->on = POLICY_EGRESS;
	r->decision = v;
	ombx_quote(q, sizeof(q), s, n->len);
	r->reason = policy__strndup(c->a, msg,
				    (size_t)snprintf(msg, sizeof(msg), "egress.%s %s", vname, q));
	if (!r->reason)
		return policy__oom(c);
	e = policy__load_methods(c, n, s, mlen, r);
	if (e < 0)
		return e;
	if (!policy__looks_cidr(dest, dlen))
		return host_dest(c, n, dest, dlen, r);
	r->cidrs = policy__alloc(c->a, sizeof(*r->cidrs));
	if (!r->cidrs)
		return policy__oom(c);
	e = policy__cidr_parse(dest, dlen, r->cidrs, msg, sizeof(msg));
	if (e < 0)
		return LERR(c, n, "CIDR \"%.*s\": %s", (int)(dlen > 60 ? 60 : dlen), dest, msg);
	r->n_cidrs = 1;
	return 0;
}

int policy__load_egress(struct lctx *c, const struct policy__ynode *n)
{
	static const char *const keys[] = {"allow", "ask", "deny"};
	static const enum policy_verdict verdicts[] = {POLICY_ALLOW, POLICY_ASK, POLICY_DENY};
	const struct policy__ynode *v[3];
	int e;

	e = policy__want_map(c, n, "egress");
	if (e == 0)
		e = policy__fields(c, n, "egress", keys, 3, v);
	for (size_t k = 0; e == 0 && k < 3; k++) {
		const struct policy__ynode *const *items, *one;
		size_t count;
		char what[16];
		if (!v[k])
			continue;
		snprintf(what, sizeof(what), "egress.%s", keys[k]);
		e = policy__want_list(c, v[k], what, &items, &count, &one);
		for (size_t i = 0; e == 0 && i < count; i++)
			e = entry(c, items[i], verdicts[k], keys[k], i);
	}
	return e;
}
