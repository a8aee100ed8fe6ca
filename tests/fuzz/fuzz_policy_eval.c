/* fuzz_policy_eval.c - fuzz target: any bytes as a stream of events against
 * a fixed three-level policy that uses every feature.
 *
 * Input: lines; fields separated by TAB. The first field picks the event:
 *   e METHOD SCHEME HOST PATH [ADDR [SECRET]]    egress
 *   x ARG...                                     exec
 *   t TOOL [COMMAND]                             tool call
 *   u MICRO-USD                                  usage
 *   a | r                                        approve | reject the held ask
 *   s                                            swap the session level's set
 * Checked on every event: a verdict is never NONE and names a rule and a
 * reason; an IP literal in a special-purpose range outside the one CIDR the
 * policy allows is never allowed; nothing is allowed for a host that does
 * not canonicalise. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char server[] =
	"egress:\n  deny: [\"* 169.254.0.0/16\", \"DELETE *\"]\n"
	"policies:\n"
	"  budget: {handler: omnigent.policies.builtins.cost.cost_budget, factory_params: "
	"{max_cost_usd: 5, ask_thresholds_usd: [1, 3]}}\n"
	"  calls: {handler: omnigent.policies.builtins.safety.max_tool_calls_per_session, "
	"factory_params: {limit: 20}}\n"
	"  force: {handler: omnigent.policies.builtins.safety.deny_commands, factory_params: "
	"{patterns: [\"git push --force\", \"rm -rf /\"]}}\n"
	"  careful: {handler: omnigent.policies.builtins.safety.ask_commands, factory_params: "
	"{patterns: [\"curl *\", \"sudo *\"]}}\n";

static const char agent[] =
	"egress:\n"
	"  allow: [\"GET,HEAD api.github.com/**\", \"* registry.npmjs.org/**\", \"* "
	"*.example.com/v1/*\", \"* 10.1.0.0/16\", \"PROPFIND dav.example.org:8443/**\"]\n"
	"  ask: [\"POST github.com/*/*.git/git-receive-pack\"]\n"
	"rules:\n"
	"  - {name: mark, on: egress, match: {hosts: [registry.npmjs.org], paths: "
	"[\"/**/-/*.tgz\"]}, set: [installed]}\n"
	"  - {name: push, on: egress, match: {hosts: [github.com], methods: [POST]}, if: "
	"installed, decision: ask, increment: {pushes: 1}}\n"
	"  - {name: many, on: egress, if: [\"pushes >= 2\", \"spend > 0.5\"], decision: deny}\n"
	"  - {name: t, on: tool_call, match: {tools: [\"mcp__*\"], commands: [\"git push\"]}, "
	"decision: ask}\n"
	"  - {name: x, on: exec, match: {commands: [\"npm install\"]}, set: [installed]}\n"
	"secrets:\n  gh: {source: env:OMBX_FUZZ_TOKEN, placeholder_env: GH, require_approval: "
	"true, "
	"inject: [{hosts: [api.github.com], header: Authorization, format: \"Bearer {secret}\"}, "
	"{hosts: [github.com], basic_user: x}]}\n";

static const char *const sessions[2] = {
	"egress: {deny: [\"* evil.example.com/**\"]}\n",
	"egress: {allow: [\"GET *.example.com/**\"]}\nrules: [{name: s, on: usage, if: \"not "
	"installed\", increment: {u: 1}}]\n",
};

static struct policy_set *sets[4];

static void init(void)
{
	const char *y[4] = {server, agent, sessions[0], sessions[1]};
	ombx_err err;

	for (int i = 0; i < 4; i++)
		if (policy_set_load_buffer("fuzz", y[i], strlen(y[i]), &sets[i], &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			abort();
		}
}

static bool in_10_1(const struct policy_addr *a)
{
	static const uint8_t pfx[14] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1};

	return memcmp(a->a, pfx, sizeof(pfx)) == 0;
}

/* The property that matters most: special-purpose addresses stay out,
 * except the one CIDR the policy allows. */
static void check_egress(const struct policy_event *ev, const struct policy_decision *d)
{
	char host[POLICY_HOST_MAX + 64], addr[POLICY_HOST_MAX + 64];
	struct policy_addr a;
	const char *dial = host;

	if (policy_decision_effective(d) != POLICY_ALLOW)
		return;
	if (policy_host_canon(ev->host, host, sizeof(host), NULL) < 0)
		abort(); /* allowed a host that is not canonicalisable */
	if (ev->addr) {
		if (policy_host_canon(ev->addr, addr, sizeof(addr), NULL) < 0)
			abort();
		dial = addr;
	}
	if (policy_addr_parse(dial, &a) == 0 && policy_addr_special(&a) && !in_10_1(&a))
		abort(); /* a special-purpose address let through */
}

/* Decisions live in two slots: one may hold an unanswered ask while the
 * next event is evaluated in the other (a decision must not be copied). */
struct run {
	struct policy_engine *e;
	struct policy_session *s;
	struct policy_decision d[2];
	int held; /* the slot holding an ask, or -1 */
	int which;
};

static void one_event(struct run *r, char **f, size_t nf)
{
	struct policy_event ev = {0};
	struct policy_decision *d = &r->d[r->held == 0 ? 1 : 0];

	switch (f[0][0]) {
	case 'e':
		if (nf < 5)
			return;
		ev = (struct policy_event){.kind = POLICY_EGRESS,
					   .method = f[1],
					   .scheme = f[2],
					   .host = f[3],
					   .path = f[4]};
		ev.addr = nf > 5 && f[5][0] ? f[5] : NULL;
		ev.secrets = nf > 6 ? (const char *const *)&f[6] : NULL;
		ev.n_secrets = nf > 6 ? 1 : 0;
		break;
	case 'x':
		if (nf < 2)
			return;
		ev = (struct policy_event){
			.kind = POLICY_EXEC, .argv = (const char *const *)f + 1, .argc = nf - 1};
		break;
	case 't':
		if (nf < 2)
			return;
		ev = (struct policy_event){
			.kind = POLICY_TOOL_CALL, .tool = f[1], .command = nf > 2 ? f[2] : NULL};
		break;
	case 'u':
		ev = (struct policy_event){.kind = POLICY_USAGE};
		ev.cost_micro_usd = nf > 1 ? strtoll(f[1], NULL, 10) : 0;
		break;
	case 'a':
	case 'r':
		if (r->held >= 0)
			policy_resolve(r->s, &r->d[r->held], f[0][0] == 'a');
		return;
	case 's':
		r->which ^= 1;
		policy_engine_swap(r->e, POLICY_LEVEL_SESSION, policy_set_ref(sets[2 + r->which]));
		return;
	default:
		return;
	}
	policy_eval(r->s, &ev, d);
	if (d->verdict == POLICY_NONE || !d->why.rule || !d->why.reason ||
	    (d->verdict == POLICY_ASK && d->n_asks == 0))
		abort();
	if (ev.kind == POLICY_EGRESS) {
		struct policy_injection in[4];
		check_egress(&ev, d);
		policy_injections(d, &ev, in, 4);
	}
	if (d->verdict != POLICY_ASK) {
		policy_decision_release(d);
		return;
	}
	if (r->held >= 0)
		policy_decision_release(&r->d[r->held]);
	r->held = (int)(d - r->d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r = {.held = -1};
	char *buf, *line, *save = NULL;
	int events = 0;

	if (!sets[0])
		init();
	if (size > 64 * 1024 || policy_engine_new(&r.e) < 0)
		return 0;
	for (int l = 0; l < 3; l++)
		policy_engine_swap(r.e, (enum policy_level)l, policy_set_ref(sets[l]));
	buf = malloc(size + 1);
	if (!buf || policy_session_new(r.e, &r.s) < 0) {
		free(buf);
		policy_engine_free(r.e);
		return 0;
	}
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (line = strtok_r(buf, "\n", &save); line && events < 200;
	     line = strtok_r(NULL, "\n", &save), events++) {
		char *f[16], *fs = NULL;
		size_t nf = 0;
		for (char *t = strtok_r(line, "\t", &fs); t && nf < 16;
		     t = strtok_r(NULL, "\t", &fs))
			f[nf++] = t;
		if (nf)
			one_event(&r, f, nf);
	}
	if (r.held >= 0)
		policy_decision_release(&r.d[r.held]);
	policy_session_free(r.s);
	policy_engine_free(r.e);
	free(buf);
	return 0;
}
