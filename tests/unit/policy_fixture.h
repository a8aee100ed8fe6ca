/* policy_fixture.h - an engine with up to three levels loaded from strings,
 * one session, and one-line event constructors, for the evaluation tests. */
#ifndef OMBX_TEST_POLICY_FIXTURE_H
#define OMBX_TEST_POLICY_FIXTURE_H

#include <stdlib.h>

#include "policy_test.h"

struct fx {
	struct policy_engine *e;
	struct policy_session *s;
	bool ok;
};

/* yaml[level] (NULL: nothing at that level). */
static inline bool fx_init(struct fx *f, const char *server, const char *agent, const char *session)
{
	const char *y[POLICY_N_LEVELS] = {server, agent, session};

	memset(f, 0, sizeof(*f));
	if (policy_engine_new(&f->e) < 0)
		return false;
	for (int l = 0; l < POLICY_N_LEVELS; l++) {
		ombx_err err;
		struct policy_set *s;
		if (!y[l])
			continue;
		s = load(y[l], &err);
		if (!s) {
			printf("# fixture does not load: %s\n", err.msg);
			return false;
		}
		policy_engine_swap(f->e, (enum policy_level)l, s);
	}
	f->ok = policy_session_new(f->e, &f->s) == 0;
	return f->ok;
}

static inline void fx_free(struct fx *f)
{
	policy_session_free(f->s);
	policy_engine_free(f->e);
	memset(f, 0, sizeof(*f));
}

static inline struct policy_event ev_egress(const char *method, const char *host, const char *path)
{
	return (struct policy_event){.kind = POLICY_EGRESS,
				     .method = method,
				     .scheme = "https",
				     .host = host,
				     .path = path};
}

static inline struct policy_event ev_usage(const char *cost)
{
	struct policy_event ev = {.kind = POLICY_USAGE};

	ev.cost_micro_usd = (int64_t)(strtod(cost, NULL) * 1e6 + 0.5);
	return ev;
}

static inline struct policy_event ev_tool(const char *tool, const char *command)
{
	return (struct policy_event){.kind = POLICY_TOOL_CALL, .tool = tool, .command = command};
}

/* Evaluates into d, optionally answers an ask (approve: -1 leave it
 * pending, 0 reject, 1 approve) and returns the effective verdict. The
 * caller releases d (a decision must not be copied: its strings may point
 * into it). */
static inline enum policy_verdict fx_eval(struct fx *f, const struct policy_event *ev, int approve,
					  struct policy_decision *d)
{
	policy_eval(f->s, ev, d);
	if (d->verdict == POLICY_ASK && approve >= 0)
		policy_resolve(f->s, d, approve == 1);
	return policy_decision_effective(d);
}

/* The same, releasing the decision: just the verdict. */
static inline enum policy_verdict fx_verdict(struct fx *f, const struct policy_event *ev,
					     int approve)
{
	struct policy_decision d;
	enum policy_verdict v = fx_eval(f, ev, approve, &d);

	policy_decision_release(&d);
	return v;
}

#endif
