/* eval.c - policy_eval: one event, three levels, one decision.
 *
 * Levels are evaluated session, server, agent; within a level, rules in
 * file order. The strictest verdict wins (deny > ask > allow > none) and
 * the first deny stops evaluation (so a session deny short-circuits the
 * rest). Every ask is collected into one approval. With no opinion anywhere
 * the kind's default applies: egress deny, the others allow. The engine's
 * own checks come last: special-purpose addresses (unless a CIDR rule
 * allowed or asked for the address explicitly), secrets sent where they are
 * not bound, and secrets that require approval.
 *
 * State: conditions read the state as it was before the event (for usage,
 * after its spend is added: spend is a fact, recorded whatever the verdict).
 * Updates apply when the event goes ahead: at once for allow (and for a deny,
 * the deciding rule's own updates only), at approval for ask. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eval.h"
#include "internal.h"

const char *policy__text(struct policy_decision *d, const char *fmt, ...)
{
	size_t room = POLICY_TEXT_MAX - d->text_len_;
	char *p = d->text_ + d->text_len_;
	va_list ap;
	int n;

	if (room < 2)
		return "(no room left for this reason)";
	va_start(ap, fmt);
	n = vsnprintf(p, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return "(unprintable reason)";
	d->text_len_ += (size_t)n < room ? (size_t)n + 1 : room;
	return p;
}

/* ---- collecting verdicts ---- */

static int pend(struct policy_decision *d, const struct policy__rule *r, enum policy_level lvl,
		enum policy_verdict v, int64_t arg)
{
	if (d->n_pending_ == d->cap_pending_) {
		size_t nc = d->cap_pending_ ? d->cap_pending_ * 2 : 8;
		struct policy__pending *np = realloc(d->pending_, nc * sizeof(*np));
		if (!np)
			return -ENOMEM;
		d->pending_ = np;
		d->cap_pending_ = nc;
	}
	d->pending_[d->n_pending_++] = (struct policy__pending){r, lvl, v, arg};
	return 0;
}

int policy__contribute(struct policy__ectx *x, const struct policy__rule *r, const char *name,
		       enum policy_level lvl, enum policy_verdict v, const char *reason,
		       bool has_update, int64_t arg, bool via_cidr)
{
	struct policy_why why = {name, lvl, reason};
	struct policy_decision *d = x->d;
	struct policy__acc *acc = x->acc;

	if (has_update && pend(d, r, lvl, v, arg) < 0)
		return -ENOMEM;
	switch (v) {
	case POLICY_DENY:
		acc->denied = true;
		acc->deny = r;
		acc->deny_why = why;
		return 1;
	case POLICY_ASK:
		if (d->n_asks < POLICY_MAX_ASKS)
			d->asks[d->n_asks++] = why;
		acc->asks_total++;
		acc->cidr_ok |= via_cidr;
		return 0;
	case POLICY_ALLOW:
		if (!acc->allowed) {
			acc->allowed = true;
			acc->allow_why = why;
		}
		acc->cidr_ok |= via_cidr;
		return 0;
	default:
		return 0;
	}
}

/* ---- one level ---- */

/* Merges up to MAX_LISTS sorted rule-index lists, calling each rule once in
 * file order. */
#define MAX_LISTS 140
struct cursor {
	const uint32_t *idx;
	size_t n, pos;
};

static int run_rules(struct policy__ectx *x, const struct policy_set *set, enum policy_level lvl,
		     struct cursor *cur, size_t ncur)
{
	for (;;) {
		uint32_t best = UINT32_MAX;
		int r;
		for (size_t i = 0; i < ncur; i++)
			if (cur[i].pos < cur[i].n && cur[i].idx[cur[i].pos] < best)
				best = cur[i].idx[cur[i].pos];
		if (best == UINT32_MAX)
			return 0;
		for (size_t i = 0; i < ncur; i++)
			if (cur[i].pos < cur[i].n && cur[i].idx[cur[i].pos] == best)
				cur[i].pos++;
		r = policy__eval_rule(x, &set->rules[best], lvl);
		if (r != 0)
			return r;
	}
}

static void add_list(struct cursor *cur, size_t *n, const uint32_t *idx, size_t cnt)
{
	if (cnt && *n < MAX_LISTS)
		cur[(*n)++] = (struct cursor){idx, cnt, 0};
}

static int eval_level(struct policy__ectx *x, const struct policy_set *set, enum policy_level lvl)
{
	struct cursor cur[MAX_LISTS];
	const struct policy__prep *p = x->prep;
	size_t n = 0;

	add_list(cur, &n, set->any_kind.idx, set->any_kind.n);
	if (x->ev->kind != POLICY_EGRESS) {
		add_list(cur, &n, set->by_kind[x->ev->kind].idx, set->by_kind[x->ev->kind].n);
		return run_rules(x, set, lvl, cur, n);
	}
	add_list(cur, &n, set->egress_any.idx, set->egress_any.n);
	if (p->has_addr)
		add_list(cur, &n, set->egress_cidr.idx, set->egress_cidr.n);
	if (!p->is_ip) {
		const struct policy__hslot *s;
		s = policy__hmap_get(&set->exact, p->host, p->hlen, policy__hash(p->host, p->hlen));
		if (s)
			add_list(cur, &n, s->rules, s->n_rules);
		for (const char *dot = memchr(p->host, '.', p->hlen); dot && set->wild.slots;
		     dot = memchr(dot + 1, '.', p->hlen - (size_t)(dot + 1 - p->host))) {
			size_t len = p->hlen - (size_t)(dot + 1 - p->host);
			s = policy__hmap_get(&set->wild, dot + 1, len, policy__hash(dot + 1, len));
			if (s)
				add_list(cur, &n, s->rules, s->n_rules);
		}
	}
	return run_rules(x, set, lvl, cur, n);
}

int policy__eval_rule(struct policy__ectx *x, const struct policy__rule *r, enum policy_level lvl)
{
	struct policy__bi_out bo;
	bool via_cidr = false;
	int m;

	if (r->handler != H_NONE) {
		policy__builtin_eval(r, lvl, x->ev, &x->s->st, x->d, &bo);
		if (bo.verdict == POLICY_NONE && !bo.has_update)
			return 0;
		return policy__contribute(x, r, r->name, lvl, bo.verdict, bo.reason, bo.has_update,
					  bo.arg, false);
	}
	m = policy__rule_matches(x, r, &via_cidr);
	if (m == MATCH_NO || !policy__conds_hold(r, &x->s->st))
		return 0;
	if (m == MATCH_UNSURE) /* a deny/ask command rule that could not check */
		return policy__contribute(x, r, r->name, lvl, POLICY_ASK,
					  policy__text(x->d,
						       "the command could not be taken apart "
						       "to check it against rule %s",
						       r->name),
					  false, 0, false);
	return policy__contribute(x, r, r->name, lvl, r->decision, r->reason, r->n_upds > 0, 0,
				  via_cidr);
}

/* ---- the decision ---- */

static void set_engine(struct policy_decision *d, enum policy_verdict v, const char *rule,
		       const char *reason)
{
	d->verdict = v;
	d->why = (struct policy_why){rule, POLICY_LEVEL_ENGINE, reason};
}

static int apply_one(struct policy_session *s, const struct policy__pending *p)
{
	if (p->rule->handler != H_NONE)
		return policy__builtin_apply(p->rule, p->level, p->arg, &s->st);
	return policy__apply_updates(p->rule, &s->st);
}

/* Applies the held updates with a verdict at most max (or only rule's). */
static int apply_pending(struct policy_session *s, struct policy_decision *d,
			 enum policy_verdict max, const struct policy__rule *only)
{
	int e = 0;

	for (size_t i = 0; i < d->n_pending_ && e == 0; i++) {
		const struct policy__pending *p = &d->pending_[i];
		if (only ? p->rule == only : p->v <= max)
			e = apply_one(s, p);
	}
	d->n_pending_ = 0;
	return e;
}

static int state_failed(struct policy_decision *d, int e)
{
	set_engine(d, POLICY_DENY, "session-state",
		   e == -ENOSPC ? "the session's state is full (too many flags and counters)"
				: "out of memory updating the session's state");
	d->approval = d->approval == POLICY_PENDING ? POLICY_REJECTED : d->approval;
	return e;
}

static int finish(struct policy_session *s, const struct policy_event *ev,
		  struct policy_decision *d, struct policy__acc *acc)
{
	int e;

	if (acc->denied) {
		d->verdict = POLICY_DENY;
		d->why = acc->deny_why;
		d->n_asks = 0;    /* nothing left to approve */
		if (!acc->deny) { /* the engine's: nothing to apply */
			d->n_pending_ = 0;
			return 0;
		}
		e = apply_pending(s, d, POLICY_NONE, acc->deny);
		return e < 0 ? state_failed(d, e) : 0;
	}
	if (d->n_asks) {
		if (acc->asks_total > d->n_asks)
			d->asks[POLICY_MAX_ASKS - 1].reason = policy__text(
				d, "and %zu more reasons", acc->asks_total - POLICY_MAX_ASKS + 1);
		d->verdict = POLICY_ASK;
		d->why = d->asks[0];
		d->approval = POLICY_PENDING;
		return 0;
	}
	if (acc->allowed) {
		d->verdict = POLICY_ALLOW;
		d->why = acc->allow_why;
	} else {
		d->by_default = true;
		if (ev->kind == POLICY_EGRESS) {
			set_engine(d, POLICY_DENY, "default",
				   "no rule allows this request; egress is denied by default");
			d->n_pending_ = 0;
			return 0;
		}
		set_engine(d, POLICY_ALLOW, "default",
			   "no rule has an opinion; the default for "
			   "this kind is allow");
	}
	e = apply_pending(s, d, POLICY_ALLOW, NULL);
	return e < 0 ? state_failed(d, e) : 0;
}

static void refresh(struct policy_session *s)
{
	if (policy__engine_version_relaxed(s->engine) == s->version)
		return;
	policy__snap_unref(s->snap);
	s->snap = policy__engine_snap(s->engine);
	s->version = s->snap->version;
}

int policy_eval(struct policy_session *s, const struct policy_event *ev, struct policy_decision *d)
{
	static const enum policy_level order[] = {POLICY_LEVEL_SESSION, POLICY_LEVEL_SERVER,
						  POLICY_LEVEL_AGENT};
	struct policy__prep prep;
	struct policy__acc acc = {0};
	struct policy__ectx x = {s, ev, d, &prep, &acc};
	const char *why;
	int e = 0;

	d->verdict = POLICY_DENY;
	d->by_default = false;
	d->n_asks = 0;
	d->approval = POLICY_NOT_ASKED;
	d->session_ = s;
	d->pending_ = NULL;
	d->n_pending_ = d->cap_pending_ = 0;
	d->text_len_ = 0;
	refresh(s);
	d->snap_ = s->snap;
	atomic_fetch_add_explicit(&d->snap_->refs, 1, memory_order_relaxed);

	why = policy__prepare(ev, &prep, d);
	if (why) {
		set_engine(d, POLICY_DENY, "malformed-event", why);
		return 0;
	}
	if (ev->kind == POLICY_USAGE)
		policy__add_spend(&s->st, ev);
	for (size_t i = 0; i < 3 && e == 0; i++)
		if (d->snap_->sets[order[i]])
			e = eval_level(&x, d->snap_->sets[order[i]], order[i]);
	if (e < 0) {
		set_engine(d, POLICY_DENY, "engine", "out of memory evaluating the policy");
		d->n_pending_ = 0;
		return e;
	}
	if (!acc.denied && ev->kind == POLICY_EGRESS)
		policy__engine_checks(&x);
	return finish(s, ev, d, &acc);
}

int policy_resolve(struct policy_session *s, struct policy_decision *d, bool approved)
{
	int e;

	if (!d || d->session_ != s || d->approval != POLICY_PENDING)
		return -EINVAL;
	if (!approved) {
		d->approval = POLICY_REJECTED;
		d->n_pending_ = 0;
		return 0;
	}
	d->approval = POLICY_APPROVED;
	e = apply_pending(s, d, POLICY_ASK, NULL);
	return e < 0 ? state_failed(d, e) : 0;
}

enum policy_verdict policy_decision_effective(const struct policy_decision *d)
{
	if (d->verdict != POLICY_ASK)
		return d->verdict;
	if (d->approval == POLICY_APPROVED)
		return POLICY_ALLOW;
	return d->approval == POLICY_PENDING ? POLICY_ASK : POLICY_DENY;
}

void policy_decision_release(struct policy_decision *d)
{
	if (!d)
		return;
	free(d->pending_);
	d->pending_ = NULL;
	d->n_pending_ = d->cap_pending_ = 0;
	policy__snap_unref(d->snap_);
	d->snap_ = NULL;
}
