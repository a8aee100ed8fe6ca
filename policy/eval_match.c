/* eval_match.c - the parts of an evaluation that look at the event itself:
 * making it canonical (host, address, path, method), deciding whether one
 * rule matches it, and the engine's own egress checks (special-purpose
 * addresses, secrets). A malformed event is refused, never guessed at. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "eval.h"

#define SPEND_MAX (1000000000LL * 1000000LL)

static unsigned scheme_of(const char *s)
{
	if (!s || (s[0] | 0x20) != 'h' || (s[1] | 0x20) != 't' || (s[2] | 0x20) != 't' ||
	    (s[3] | 0x20) != 'p')
		return 0;
	if (s[4] == '\0')
		return SCHEME_HTTP;
	return (s[4] | 0x20) == 's' && s[5] == '\0' ? SCHEME_HTTPS : 0;
}

static const char *prep_egress(const struct policy_event *ev, struct policy__prep *p,
			       struct policy_decision *d)
{
	char msg[200], q[POLICY_QUOTE_MAX];
	size_t mlen;

	if (!ev->host || !ev->method)
		return ev->host ? "the request has no method" : "the request has no host";
	if (policy__host_canon(ev->host, strlen(ev->host), p->host, sizeof(p->host), &p->is_ip, msg,
			       sizeof(msg)) < 0) {
		ombx_quote(q, sizeof(q), ev->host, strlen(ev->host));
		return policy__text(d, "host %s: %s", q, msg);
	}
	p->hlen = strlen(p->host);
	for (mlen = 0; mlen <= 32 && ev->method[mlen]; mlen++)
		if (!((ev->method[mlen] >= 'A' && ev->method[mlen] <= 'Z') ||
		      ev->method[mlen] == '-' || ev->method[mlen] == '_'))
			break;
	if (mlen == 0 || mlen > 32 || ev->method[mlen])
		return "the method is not an HTTP method in upper case";
	p->method = ev->method;
	p->mlen = mlen;
	p->mbit = policy__method_bit(ev->method, mlen);
	p->scheme = scheme_of(ev->scheme);
	if (ev->scheme && !p->scheme)
		return "the scheme is neither http nor https";
	if (ev->port > 65535)
		return "the port is not between 1 and 65535";
	p->port = ev->port ? ev->port : p->scheme == SCHEME_HTTPS ? 443 : p->scheme ? 80 : 0;
	p->has_addr = false;
	if (ev->addr) {
		char a[POLICY_HOST_MAX + 64];
		bool ip;
		if (policy__host_canon(ev->addr, strlen(ev->addr), a, sizeof(a), &ip, msg,
				       sizeof(msg)) < 0 ||
		    !ip || policy_addr_parse(a, &p->addr) < 0)
			return "the resolved address is not an IP address in canonical form";
		if (p->is_ip) {
			struct policy_addr h;
			if (policy_addr_parse(p->host, &h) < 0 || memcmp(h.a, p->addr.a, 16) != 0)
				return "the resolved address differs from the IP address in the "
				       "host";
		}
		p->has_addr = true;
	} else if (p->is_ip) {
		p->has_addr = policy_addr_parse(p->host, &p->addr) == 0;
	}
	p->has_path = ev->path && ev->path[0];
	if (p->has_path && policy__path_norm(ev->path, strlen(ev->path), p->path, sizeof(p->path),
					     &p->plen, msg, sizeof(msg)) < 0)
		return policy__text(d, "path: %s", msg);
	return NULL;
}

const char *policy__prepare(const struct policy_event *ev, struct policy__prep *p,
			    struct policy_decision *d)
{
	switch (ev->kind) {
	case POLICY_EGRESS:
		return prep_egress(ev, p, d);
	case POLICY_EXEC:
		if (!ev->argv || ev->argc == 0 || !ev->argv[0] || !ev->argv[0][0])
			return "the command has no argv[0]";
		if (ev->argc > POLICY_ARGV_MAX)
			return "the command has too many arguments";
		for (size_t i = 0; i < ev->argc; i++)
			if (!ev->argv[i])
				return "the command's argv has a hole";
		return NULL;
	case POLICY_TOOL_CALL:
		if (!ev->tool || !ev->tool[0] || strlen(ev->tool) > 256)
			return "the tool call has no tool name (or one longer than 256 bytes)";
		if (ev->command && strlen(ev->command) > POLICY_CMD_MAX)
			return "the tool call's command is longer than 128 KiB";
		return NULL;
	case POLICY_USAGE:
		if (ev->cost_micro_usd < 0 || ev->cost_micro_usd > SPEND_MAX ||
		    ev->total_micro_usd > SPEND_MAX)
			return "the cost is negative or implausibly large";
		return NULL;
	default:
		return "unknown kind of event";
	}
}

void policy__add_spend(struct policy__state *st, const struct policy_event *ev)
{
	st->spend += ev->cost_micro_usd;
	if (st->spend > SPEND_MAX)
		st->spend = SPEND_MAX;
	if (ev->total_micro_usd > st->spend)
		st->spend = ev->total_micro_usd;
}

/* ---- does a rule match? ---- */

static bool dest_matches(const struct policy__rule *r, const struct policy__prep *p, bool *via_cidr)
{
	if (r->n_hosts == 0 && r->n_cidrs == 0)
		return true;
	for (size_t i = 0; i < r->n_hosts; i++)
		if (policy__hostpat_match(&r->hosts[i], p->host, p->hlen, p->is_ip))
			return true;
	for (size_t i = 0; p->has_addr && i < r->n_cidrs; i++)
		if (policy__cidr_match(&r->cidrs[i], &p->addr)) {
			*via_cidr = true;
			return true;
		}
	return false;
}

static bool method_matches(const struct policy__rule *r, const struct policy__prep *p)
{
	if (r->methods == M_ANY)
		return true;
	if (p->mbit != M_OTHER)
		return (r->methods & p->mbit) != 0;
	for (size_t i = 0; i < r->n_xmethods; i++)
		if (strlen(r->xmethods[i]) == p->mlen &&
		    memcmp(r->xmethods[i], p->method, p->mlen) == 0)
			return true;
	return false;
}

static int egress_matches(const struct policy__rule *r, const struct policy__prep *p,
			  bool *via_cidr)
{
	size_t i;

	if (!method_matches(r, p) || (r->schemes && !(r->schemes & p->scheme)))
		return MATCH_NO;
	for (i = 0; i < r->n_ports && r->ports[i] != p->port; i++)
		;
	if (r->n_ports && i == r->n_ports)
		return MATCH_NO;
	if (r->n_paths) {
		if (!p->has_path)
			return MATCH_NO;
		for (i = 0; i < r->n_paths; i++)
			if (policy__glob_match(&r->paths[i], p->path, p->plen))
				break;
		if (i == r->n_paths)
			return MATCH_NO;
	}
	return dest_matches(r, p, via_cidr) ? MATCH_YES : MATCH_NO;
}

static bool tool_glob(const char *pat, const char *t)
{
	const char *star = strchr(pat, '*');
	size_t pl, tl;

	if (!star)
		return strcmp(pat, t) == 0;
	/* one or more '*': anchored prefix, then each piece in order */
	pl = (size_t)(star - pat);
	if (strncmp(pat, t, pl) != 0)
		return false;
	t += pl;
	pat = star + 1;
	while (*pat) {
		const char *next = strchr(pat, '*');
		size_t n = next ? (size_t)(next - pat) : strlen(pat);
		if (!next) {
			tl = strlen(t);
			return tl >= n && strcmp(t + tl - n, pat) == 0;
		}
		if (n) {
			const char *f = memmem(t, strlen(t), pat, n);
			if (!f)
				return false;
			t = f + n;
		}
		pat = next + 1;
	}
	return true;
}

static int command_matches(const struct policy__rule *r, const struct policy_event *ev)
{
	enum policy__cmd_result m;
	size_t which;

	if (ev->kind == POLICY_EXEC)
		m = policy__cmd_match_argv(r->cmds, r->n_cmds, ev->argv, ev->argc, &which);
	else if (ev->command)
		m = policy__cmd_match_string(r->cmds, r->n_cmds, ev->command, &which);
	else
		return MATCH_NO;
	if (m == CMD_MATCH)
		return MATCH_YES;
	/* what cannot be checked is not allowed, and is asked about by deny/ask rules */
	if (m == CMD_UNPARSEABLE && (r->decision == POLICY_DENY || r->decision == POLICY_ASK))
		return MATCH_UNSURE;
	return MATCH_NO;
}

int policy__rule_matches(struct policy__ectx *x, const struct policy__rule *r, bool *via_cidr)
{
	const struct policy_event *ev = x->ev;
	size_t i;

	switch (ev->kind) {
	case POLICY_EGRESS:
		return egress_matches(r, x->prep, via_cidr);
	case POLICY_TOOL_CALL:
		for (i = 0; i < r->n_tools && !tool_glob(r->tools[i], ev->tool); i++)
			;
		if (r->n_tools && i == r->n_tools)
			return MATCH_NO;
		/* fall through */
	case POLICY_EXEC:
		return r->n_cmds ? command_matches(r, ev) : MATCH_YES;
	default:
		return MATCH_YES;
	}
}

/* ---- the engine's own checks ---- */

static const struct policy_secret *find_secret(const struct policy__snap *snap, const char *name)
{
	for (int l = 0; l < POLICY_N_LEVELS; l++) {
		const struct policy_set *set = snap->sets[l];
		for (size_t i = 0; set && i < set->n_secrets; i++)
			if (strcmp(set->secrets[i].name, name) == 0)
				return &set->secrets[i];
	}
	return NULL;
}

static void secrets_checks(struct policy__ectx *x)
{
	const struct policy__prep *p = x->prep;
	const struct policy__snap *snap = x->d->snap_;
	bool tls = p->scheme == SCHEME_HTTPS;

	for (size_t i = 0; i < x->ev->n_secrets; i++) {
		const char *name = x->ev->secrets[i];
		const struct policy_secret *s = name ? find_secret(snap, name) : NULL;
		if (!s || !tls || !policy__secret_binding(s, p->host, p->hlen, p->is_ip)) {
			char q[POLICY_QUOTE_MAX];
			ombx_quote(q, sizeof(q), name ? name : "", name ? strlen(name) : 0);
			policy__contribute(x, NULL, "secret-not-bound", POLICY_LEVEL_ENGINE,
					   POLICY_DENY,
					   policy__text(x->d,
							!s ? "the request carries a placeholder "
							     "for secret %s, which no policy "
							     "defines"
							   : "secret %s is not bound to %s%s",
							q, p->host, tls ? "" : " over plain http"),
					   false, 0, false);
			return;
		}
	}
	for (int l = 0; l < POLICY_N_LEVELS && tls; l++) {
		const struct policy_set *set = snap->sets[l];
		for (size_t i = 0; set && i < set->n_secrets; i++) {
			const struct policy_secret *s = &set->secrets[i];
			if (!s->require_approval ||
			    !policy__secret_binding(s, p->host, p->hlen, p->is_ip))
				continue;
			policy__contribute(x, NULL, policy__text(x->d, "secret.%s", s->name),
					   (enum policy_level)l, POLICY_ASK,
					   policy__text(x->d,
							"requests to %s carry secret %s, which "
							"requires approval",
							p->host, s->name),
					   false, 0, false);
		}
	}
}

void policy__engine_checks(struct policy__ectx *x)
{
	const struct policy__prep *p = x->prep;
	const char *special = p->has_addr ? policy_addr_special(&p->addr) : NULL;

	if (special && !x->acc->cidr_ok) {
		char ip[64];
		policy__addr_text(&p->addr, ip, sizeof(ip));
		policy__contribute(x, NULL, "special-purpose-address", POLICY_LEVEL_ENGINE,
				   POLICY_DENY,
				   policy__text(x->d,
						"%s is in a special-purpose range: %s; only "
						"a CIDR rule can allow it",
						ip, special),
				   false, 0, false);
		return;
	}
	secrets_checks(x);
}
