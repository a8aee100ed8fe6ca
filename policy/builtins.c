/* builtins.c - the seed's built-in policies, addressed by their dotted names.
 *
 *   omnigent.policies.builtins.cost.cost_budget {max_cost_usd, ask_thresholds_usd}
 *     Every event: at or past the cap, deny (naming spend and cap); else, the
 *     first time spend reaches a threshold, ask; the approval is remembered
 *     (a rejection is not, so it asks again on the next event).
 *   omnigent.policies.builtins.safety.max_tool_calls_per_session {limit}
 *     Tool calls: deny once `limit` calls have gone ahead in this session.
 *   omnigent.policies.builtins.safety.deny_commands {patterns, reason}
 *   omnigent.policies.builtins.safety.ask_commands {patterns, reason}
 *     Exec and tool calls whose command matches a pattern (cmd.c); a command
 *     that cannot be taken apart is asked about under either.
 *
 * A built-in never says "allow": within its limits it has no opinion, so it
 * can never widen what the rules allow. Its own state lives under names
 * starting with "_", which rules cannot write. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const struct policy__handler_info handlers[] = {
	{"omnigent.policies.builtins.cost.cost_budget", H_COST_BUDGET},
	{"omnigent.policies.builtins.safety.max_tool_calls_per_session", H_MAX_TOOL_CALLS},
	{"omnigent.policies.builtins.safety.deny_commands", H_DENY_COMMANDS},
	{"omnigent.policies.builtins.safety.ask_commands", H_ASK_COMMANDS},
};

const char policy__handler_list[] = "omnigent.policies.builtins.cost.cost_budget, "
				    "omnigent.policies.builtins.safety.max_tool_calls_per_session, "
				    "omnigent.policies.builtins.safety.deny_commands, "
				    "omnigent.policies.builtins.safety.ask_commands";

const struct policy__handler_info *policy__handler_find(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (strlen(handlers[i].dotted) == len && memcmp(handlers[i].dotted, name, len) == 0)
			return &handlers[i];
	return NULL;
}

/* The state name a built-in keeps its own count under. */
static size_t key_of(char *buf, size_t size, const char *what, enum policy_level level,
		     const struct policy__rule *r)
{
	int n = snprintf(buf, size, "_%s.%s.%s", what, policy_level_name(level), r->name);

	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

static void budget(const struct policy__rule *r, enum policy_level level,
		   const struct policy__state *st, struct policy_decision *d,
		   struct policy__bi_out *out)
{
	const struct policy__budget *b = &r->budget;
	char spend[32], cap[32], th[32], key[128];
	int64_t approved;
	size_t reached = 0, klen;

	if (st->spend < b->max && (b->n_thresholds == 0 || st->spend < b->thresholds[0]))
		return; /* the common case, checked on every event: stay cheap */
	policy__format_usd(spend, sizeof(spend), st->spend);
	policy__format_usd(cap, sizeof(cap), b->max);
	if (st->spend >= b->max) {
		out->verdict = POLICY_DENY;
		out->reason = policy__text(d, "spend %s reached the cost cap of %s (policy %s)",
					   spend, cap, r->name);
		return;
	}
	while (reached < b->n_thresholds && b->thresholds[reached] <= st->spend)
		reached++;
	if (reached == 0)
		return;
	klen = key_of(key, sizeof(key), "budget", level, r);
	approved = policy__state_get(st, key, klen, policy__hash(key, klen));
	if ((int64_t)reached <= approved)
		return;
	policy__format_usd(th, sizeof(th), b->thresholds[reached - 1]);
	out->verdict = POLICY_ASK;
	out->reason = policy__text(d,
				   "spend %s reached the %s threshold (the cap is %s; policy "
				   "%s): continue?",
				   spend, th, cap, r->name);
	out->has_update = true;
	out->arg = (int64_t)reached;
}

static void tool_calls(const struct policy__rule *r, enum policy_level level,
		       const struct policy__state *st, struct policy_decision *d,
		       struct policy__bi_out *out)
{
	char key[128];
	size_t klen = key_of(key, sizeof(key), "tool_calls", level, r);
	int64_t n = policy__state_get(st, key, klen, policy__hash(key, klen));

	if (n >= r->limit) {
		out->verdict = POLICY_DENY;
		out->reason = policy__text(d,
					   "%lld tool calls already made in this session, the "
					   "limit is %lld (policy %s)",
					   (long long)n, (long long)r->limit, r->name);
		return;
	}
	out->has_update = true;
	out->arg = 1;
}

static void commands(const struct policy__rule *r, const struct policy_event *ev,
		     struct policy_decision *d, struct policy__bi_out *out)
{
	enum policy__cmd_result m = CMD_NO_MATCH;
	size_t which = 0;

	if (ev->kind == POLICY_EXEC && ev->argv)
		m = policy__cmd_match_argv(r->cmds, r->n_cmds, ev->argv, ev->argc, &which);
	else if (ev->kind == POLICY_TOOL_CALL && ev->command)
		m = policy__cmd_match_string(r->cmds, r->n_cmds, ev->command, &which);
	if (m == CMD_NO_MATCH)
		return;
	if (m == CMD_UNPARSEABLE) {
		out->verdict = POLICY_ASK;
		out->reason = policy__text(d,
					   "the command could not be taken apart to check it "
					   "against policy %s",
					   r->name);
		return;
	}
	out->verdict = r->handler == H_DENY_COMMANDS ? POLICY_DENY : POLICY_ASK;
	out->reason = r->own_reason ? r->reason
				    : policy__text(d, "command matches \"%s\" (policy %s)",
						   r->cmds[which].text, r->name);
}

void policy__builtin_eval(const struct policy__rule *r, enum policy_level level,
			  const struct policy_event *ev, const struct policy__state *st,
			  struct policy_decision *d, struct policy__bi_out *out)
{
	memset(out, 0, sizeof(*out));
	switch (r->handler) {
	case H_COST_BUDGET:
		budget(r, level, st, d, out);
		break;
	case H_MAX_TOOL_CALLS:
		if (ev->kind == POLICY_TOOL_CALL)
			tool_calls(r, level, st, d, out);
		break;
	case H_DENY_COMMANDS:
	case H_ASK_COMMANDS:
		if (ev->kind == POLICY_EXEC || ev->kind == POLICY_TOOL_CALL)
			commands(r, ev, d, out);
		break;
	default:
		break;
	}
}

int policy__builtin_apply(const struct policy__rule *r, enum policy_level level, int64_t arg,
			  struct policy__state *st)
{
	char key[128];
	size_t klen;
	uint64_t h;

	switch (r->handler) {
	case H_COST_BUDGET:
		klen = key_of(key, sizeof(key), "budget", level, r);
		h = policy__hash(key, klen);
		if (policy__state_get(st, key, klen, h) >= arg)
			return 0;
		return policy__state_put(st, key, klen, h, arg, false);
	case H_MAX_TOOL_CALLS:
		klen = key_of(key, sizeof(key), "tool_calls", level, r);
		return policy__state_put(st, key, klen, policy__hash(key, klen), arg, true);
	default:
		return 0;
	}
}
