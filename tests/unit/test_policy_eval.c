/* test_policy_eval.c - decisions across levels (strictest wins, session
 * first, deny short-circuits, asks merge), egress matching end to end
 * (special-purpose ranges and CIDR exceptions, IDNA, methods, ports,
 * malformed requests), state and approvals, and swapping sets under a
 * running session (atomicity, failed reloads, decisions outliving sets). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "policy_fixture.h"

/* ---- levels ---- */

#define ALLOW_A  "egress: {allow: [\"* a.com/**\"]}\n"
#define DENY_A   "egress: {deny: [\"* a.com/**\"]}\n"
#define ASK_A(n) "egress: {ask: [\"* a.com/" n "\"]}\n"

static const struct {
	const char *name, *server, *agent, *session;
	const char *method, *host, *path;
	enum policy_verdict want;
	const char *rule;
	enum policy_level level;
	size_t asks;
} levels[] = {
	{"no rule anywhere: egress default deny", NULL, NULL, NULL, "GET", "a.com", "/",
	 POLICY_DENY, "default", POLICY_LEVEL_ENGINE, 0},
	{"agent allow", NULL, ALLOW_A, NULL, "GET", "a.com", "/", POLICY_ALLOW, "egress.allow[0]",
	 POLICY_LEVEL_AGENT, 0},
	{"server deny beats agent allow", DENY_A, ALLOW_A, NULL, "GET", "a.com", "/", POLICY_DENY,
	 "egress.deny[0]", POLICY_LEVEL_SERVER, 0},
	{"server deny beats session allow", DENY_A, NULL, ALLOW_A, "GET", "a.com", "/", POLICY_DENY,
	 "egress.deny[0]", POLICY_LEVEL_SERVER, 0},
	{"session deny short-circuits", ALLOW_A, ALLOW_A, DENY_A, "GET", "a.com", "/", POLICY_DENY,
	 "egress.deny[0]", POLICY_LEVEL_SESSION, 0},
	{"ask beats allow", ASK_A("**"), ALLOW_A, NULL, "GET", "a.com", "/", POLICY_ASK,
	 "egress.ask[0]", POLICY_LEVEL_SERVER, 1},
	{"deny beats ask", ASK_A("**"), DENY_A, NULL, "GET", "a.com", "/", POLICY_DENY,
	 "egress.deny[0]", POLICY_LEVEL_AGENT, 0},
	{"asks merge, session first", ASK_A("**"), ASK_A("*"), ASK_A("x"), "GET", "a.com", "/x",
	 POLICY_ASK, "egress.ask[0]", POLICY_LEVEL_SESSION, 3},
	{"session ask over agent allow", NULL, ALLOW_A, ASK_A("**"), "GET", "a.com", "/",
	 POLICY_ASK, "egress.ask[0]", POLICY_LEVEL_SESSION, 1},
	{"other host: default", NULL, ALLOW_A, NULL, "GET", "b.com", "/", POLICY_DENY, "default",
	 POLICY_LEVEL_ENGINE, 0},
	{"file order names the first deny", NULL,
	 "egress: {deny: [\"POST a.com/**\", \"* a.com/**\"]}\n", NULL, "POST", "a.com", "/",
	 POLICY_DENY, "egress.deny[0]", POLICY_LEVEL_AGENT, 0},
	/* special-purpose ranges */
	{"IP literal in a special range", NULL, "egress: {allow: [\"* *\"]}\n", NULL, "GET",
	 "10.0.0.5", "/", POLICY_DENY, "special-purpose-address", POLICY_LEVEL_ENGINE, 0},
	{"metadata address", NULL, "egress: {allow: [\"* *\"]}\n", NULL, "GET", "169.254.169.254",
	 "/latest", POLICY_DENY, "special-purpose-address", POLICY_LEVEL_ENGINE, 0},
	{"v4-mapped v6 literal", NULL, "egress: {allow: [\"* *\"]}\n", NULL, "GET",
	 "[::ffff:8.8.8.8]", "/", POLICY_DENY, "special-purpose-address", POLICY_LEVEL_ENGINE, 0},
	{"public IP literal with any-host allow", NULL, "egress: {allow: [\"* *\"]}\n", NULL, "GET",
	 "8.8.8.8", "/", POLICY_ALLOW, "egress.allow[0]", POLICY_LEVEL_AGENT, 0},
	{"CIDR allow lifts the special range", NULL, "egress: {allow: [\"* 10.0.0.0/8\"]}\n", NULL,
	 "GET", "10.0.0.5", "/", POLICY_ALLOW, "egress.allow[0]", POLICY_LEVEL_AGENT, 0},
	{"v4 CIDR matches a v4-mapped v6 literal", NULL, "egress: {allow: [\"* 10.0.0.0/8\"]}\n",
	 NULL, "GET", "[::ffff:10.0.0.5]", "/", POLICY_ALLOW, "egress.allow[0]", POLICY_LEVEL_AGENT,
	 0},
	{"CIDR ask lifts it too, as an ask", NULL, "egress: {ask: [\"GET 10.0.0.0/8\"]}\n", NULL,
	 "GET", "10.1.1.1", "/", POLICY_ASK, "egress.ask[0]", POLICY_LEVEL_AGENT, 1},
	{"server CIDR deny beats agent CIDR allow", "egress: {deny: [\"* 10.0.0.0/8\"]}\n",
	 "egress: {allow: [\"* 10.0.0.0/8\"]}\n", NULL, "GET", "10.0.0.5", "/", POLICY_DENY,
	 "egress.deny[0]", POLICY_LEVEL_SERVER, 0},
	{"the seed's deny of 169.254/16", NULL, "egress: {deny: [\"* 169.254.0.0/16\"]}\n", NULL,
	 "GET", "169.254.169.254", "/", POLICY_DENY, "egress.deny[0]", POLICY_LEVEL_AGENT, 0},
	/* hosts, methods, ports */
	{"wildcard: subdomain", NULL, "egress: {allow: [\"* *.example.com/**\"]}\n", NULL, "GET",
	 "a.b.example.com", "/", POLICY_ALLOW, "egress.allow[0]", POLICY_LEVEL_AGENT, 0},
	{"wildcard: not the domain itself", NULL, "egress: {allow: [\"* *.example.com/**\"]}\n",
	 NULL, "GET", "example.com", "/", POLICY_DENY, "default", POLICY_LEVEL_ENGINE, 0},
	{"case and trailing dot", NULL, ALLOW_A, NULL, "GET", "A.COM.", "/", POLICY_ALLOW,
	 "egress.allow[0]", POLICY_LEVEL_AGENT, 0},
	{"IDNA rule, A-label request", NULL,
	 "egress: {allow: [\"GET b\xc3\xbc"
	 "cher.de/**\"]}\n",
	 NULL, "GET", "xn--bcher-kva.de", "/", POLICY_ALLOW, "egress.allow[0]", POLICY_LEVEL_AGENT,
	 0},
	{"IDNA rule, U-label request in capitals", NULL,
	 "egress: {allow: [\"GET xn--bcher-kva.de/**\"]}\n", NULL, "GET",
	 "B\xc3\x9c"
	 "CHER.DE.",
	 "/", POLICY_ALLOW, "egress.allow[0]", POLICY_LEVEL_AGENT, 0},
	{"method not listed", NULL, "egress: {allow: [\"GET,HEAD a.com/**\"]}\n", NULL, "POST",
	 "a.com", "/", POLICY_DENY, "default", POLICY_LEVEL_ENGINE, 0},
	{"extension method", NULL, "egress: {allow: [\"PROPFIND a.com/**\"]}\n", NULL, "PROPFIND",
	 "a.com", "/", POLICY_ALLOW, "egress.allow[0]", POLICY_LEVEL_AGENT, 0},
	{"extension method vs GET rule", NULL, "egress: {allow: [\"GET a.com/**\"]}\n", NULL,
	 "PROPFIND", "a.com", "/", POLICY_DENY, "default", POLICY_LEVEL_ENGINE, 0},
	{"port not allowed", NULL, "egress: {allow: [\"GET a.com:8443/**\"]}\n", NULL, "GET",
	 "a.com", "/", POLICY_DENY, "default", POLICY_LEVEL_ENGINE, 0},
	{"path glob", NULL, "egress: {allow: [\"GET a.com/v1/*\"]}\n", NULL, "GET", "a.com",
	 "/v1/x/y", POLICY_DENY, "default", POLICY_LEVEL_ENGINE, 0},
	{"dot-segments are refused", NULL, "egress: {allow: [\"GET a.com/pub/**\"]}\n", NULL, "GET",
	 "a.com", "/pub/../admin", POLICY_DENY, "malformed-event", POLICY_LEVEL_ENGINE, 0},
	{"non-canonical IP is refused", NULL, "egress: {allow: [\"* *\"]}\n", NULL, "GET",
	 "0x7f000001", "/", POLICY_DENY, "malformed-event", POLICY_LEVEL_ENGINE, 0},
	{"lower-case method is refused", NULL, ALLOW_A, NULL, "get", "a.com", "/", POLICY_DENY,
	 "malformed-event", POLICY_LEVEL_ENGINE, 0},
	{"rule without hosts matches every host", NULL,
	 "rules: [{name: all-get, on: egress, match: {methods: [GET]}, decision: allow}]\n", NULL,
	 "GET", "z.org", "/", POLICY_ALLOW, "all-get", POLICY_LEVEL_AGENT, 0},
};

static void test_levels(void)
{
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		struct policy_event ev =
			ev_egress(levels[i].method, levels[i].host, levels[i].path);
		struct policy_decision d;
		struct fx f;
		if (!fx_init(&f, levels[i].server, levels[i].agent, levels[i].session)) {
			check(0, levels[i].name, "fixture failed");
			fx_free(&f);
			continue;
		}
		policy_eval(f.s, &ev, &d);
		check(d.verdict == levels[i].want && strcmp(d.why.rule, levels[i].rule) == 0 &&
			      d.why.level == levels[i].level && d.n_asks == levels[i].asks &&
			      d.why.reason && *d.why.reason,
		      levels[i].name, "got %s %s %s (%s) asks=%zu", policy_verdict_name(d.verdict),
		      d.why.rule, policy_level_name(d.why.level), d.why.reason, d.n_asks);
		policy_decision_release(&d);
		fx_free(&f);
	}
}

static void test_other_kinds(void)
{
	const char *argv[] = {"ls", "-l"};
	struct policy_event ex = {.kind = POLICY_EXEC, .argv = argv, .argc = 2};
	struct policy_event tc = ev_tool("Read", NULL), us = ev_usage("0.10");
	struct policy_decision d;
	struct fx f;

	fx_init(&f, NULL, NULL, NULL);
	check(fx_eval(&f, &ex, -1, &d) == POLICY_ALLOW && d.by_default, "exec: default allow", "%s",
	      d.why.reason);
	policy_decision_release(&d);
	check(fx_verdict(&f, &tc, -1) == POLICY_ALLOW, "tool call: default allow", "-");
	check(fx_verdict(&f, &us, -1) == POLICY_ALLOW && policy_session_spend(f.s) == 100000,
	      "usage: default allow, spend recorded", "spend %lld",
	      (long long)policy_session_spend(f.s));
	ex.argc = 0;
	check(fx_verdict(&f, &ex, -1) == POLICY_DENY, "exec without argv is refused", "-");
	fx_free(&f);

	fx_init(&f,
		"rules: [{name: no-curl, on: exec, match: {commands: [curl]}, decision: deny}]\n",
		"rules: [{name: t, on: tool_call, match: {tools: [\"mcp__*\"]}, decision: ask}]\n",
		NULL);
	ex.argc = 2;
	check(fx_verdict(&f, &ex, -1) == POLICY_ALLOW, "exec: other command allowed", "-");
	argv[0] = "/usr/bin/curl";
	check(fx_verdict(&f, &ex, -1) == POLICY_DENY, "exec: command rule denies", "-");
	tc.tool = "mcp__github__push";
	check(fx_verdict(&f, &tc, -1) == POLICY_ASK, "tool call: tool glob asks", "-");
	tc.tool = "Read";
	check(fx_verdict(&f, &tc, -1) == POLICY_ALLOW, "tool call: other tool allowed", "-");
	fx_free(&f);
}

/* ---- state and approvals ---- */

static const char npm_push[] =
	"egress:\n  allow: [\"* registry.npmjs.org/**\", \"POST github.com/**\"]\n"
	"rules:\n"
	"  - {name: mark, on: egress, match: {hosts: [registry.npmjs.org], paths: "
	"[\"/**/-/*.tgz\"]}, set: [installed]}\n"
	"  - {name: push-after-install, on: egress, match: {hosts: [github.com], methods: [POST], "
	"paths: [\"/**/git-receive-pack\"]}, if: installed, decision: ask, reason: git push after "
	"a new npm package was installed}\n";

static void test_npm_then_push(void)
{
	struct policy_event push =
		ev_egress("POST", "github.com", "/acme/app.git/git-receive-pack");
	struct policy_event meta = ev_egress("GET", "registry.npmjs.org", "/lodash");
	struct policy_event tgz = ev_egress("GET", "registry.npmjs.org", "/lodash/-/lodash-4.tgz");
	struct policy_decision d;
	struct fx f;

	fx_init(&f, NULL, npm_push, NULL);
	check(fx_verdict(&f, &push, -1) == POLICY_ALLOW, "push before any install is allowed", "-");
	check(fx_verdict(&f, &meta, -1) == POLICY_ALLOW && !policy_session_value(f.s, "installed"),
	      "metadata fetch does not mark", "-");
	check(fx_verdict(&f, &tgz, -1) == POLICY_ALLOW &&
		      policy_session_value(f.s, "installed") == 1,
	      "tarball fetch marks installed", "-");
	check(fx_eval(&f, &push, -1, &d) == POLICY_ASK &&
		      strcmp(d.why.rule, "push-after-install") == 0 &&
		      strstr(d.why.reason, "npm package"),
	      "push after install asks", "%s", d.why.rule);
	check(policy_resolve(f.s, &d, false) == 0 && policy_decision_effective(&d) == POLICY_DENY,
	      "rejecting makes it a deny", "-");
	check(policy_resolve(f.s, &d, true) == -EINVAL, "an answered ask cannot be answered again",
	      "-");
	policy_decision_release(&d);
	check(fx_verdict(&f, &push, 1) == POLICY_ALLOW, "the next push asks again; approved", "-");
	fx_free(&f);
}

static void test_approvals(void)
{
	struct policy_event x = ev_egress("GET", "x.com", "/");
	struct policy_event y = ev_egress("GET", "y.com", "/");
	struct policy_decision d, d2;
	struct fx f, g;

	fx_init(&f, NULL,
		"egress: {allow: [\"* y.com/**\"]}\n"
		"rules:\n"
		"  - {name: count-x, on: egress, match: {hosts: [x.com]}, decision: ask, "
		"increment: "
		"{n: 1}}\n"
		"  - {name: seen, on: egress, increment: {seen: 1}}\n",
		NULL);
	check(fx_eval(&f, &x, -1, &d) == POLICY_ASK && policy_session_value(f.s, "n") == 0 &&
		      policy_session_value(f.s, "seen") == 0,
	      "an ask's updates wait for approval", "n=%lld",
	      (long long)policy_session_value(f.s, "n"));
	check(policy_resolve(f.s, &d, true) == 0 && policy_session_value(f.s, "n") == 1 &&
		      policy_session_value(f.s, "seen") == 1,
	      "approval applies them (and the state rules')", "n=%lld seen=%lld",
	      (long long)policy_session_value(f.s, "n"),
	      (long long)policy_session_value(f.s, "seen"));
	policy_decision_release(&d);
	check(fx_verdict(&f, &x, 0) == POLICY_DENY && policy_session_value(f.s, "n") == 1,
	      "rejection drops them", "-");
	check(fx_verdict(&f, &y, -1) == POLICY_ALLOW && policy_session_value(f.s, "seen") == 2,
	      "an allow applies state rules at once", "-");
	x.host = "z.com";
	check(fx_verdict(&f, &x, -1) == POLICY_DENY && policy_session_value(f.s, "seen") == 2,
	      "a default deny applies nothing", "-");
	check(policy_resolve(f.s, &d, true) == -EINVAL, "a released decision cannot be resolved",
	      "-");
	fx_eval(&f, &y, -1, &d);
	check(policy_resolve(f.s, &d, true) == -EINVAL, "an allow cannot be resolved", "-");
	policy_decision_release(&d);
	fx_init(&g, NULL, NULL, NULL);
	x.host = "x.com";
	fx_eval(&f, &x, -1, &d2);
	check(policy_resolve(g.s, &d2, true) == -EINVAL, "another session cannot resolve it", "-");
	policy_decision_release(&d2);
	fx_free(&g);
	fx_free(&f);

	fx_init(&f, NULL,
		"rules:\n  - {name: d, on: exec, match: {commands: [\"rm -rf /\"]}, decision: "
		"deny, "
		"set: [tried_rm]}\n  - {name: c, on: exec, increment: {execs: 1}}\n"
		"  - {name: too-many, on: exec, if: \"execs >= 3\", decision: deny}\n",
		NULL);
	{
		const char *rm[] = {"rm", "-rf", "/"}, *ls[] = {"ls"};
		struct policy_event e1 = {.kind = POLICY_EXEC, .argv = rm, .argc = 3};
		struct policy_event e2 = {.kind = POLICY_EXEC, .argv = ls, .argc = 1};
		check(fx_verdict(&f, &e1, -1) == POLICY_DENY &&
			      policy_session_value(f.s, "tried_rm") == 1 &&
			      policy_session_value(f.s, "execs") == 0,
		      "a deny applies its own updates only", "-");
		for (int i = 0; i < 3; i++)
			fx_verdict(&f, &e2, -1);
		check(policy_session_value(f.s, "execs") == 3 &&
			      fx_verdict(&f, &e2, -1) == POLICY_DENY,
		      "a counter condition denies the fourth", "execs=%lld",
		      (long long)policy_session_value(f.s, "execs"));
	}
	fx_free(&f);

	fx_init(&f, NULL,
		"egress: {allow: [\"* api.openai.com/**\"]}\n"
		"rules: [{name: pricey, on: egress, match: {hosts: [api.openai.com]}, if: \"spend "
		">= "
		"1.00\", decision: ask}]\n",
		NULL);
	x = ev_egress("POST", "api.openai.com", "/v1/chat");
	y = ev_usage("0.99");
	check(fx_verdict(&f, &x, -1) == POLICY_ALLOW, "spend condition: under", "-");
	fx_verdict(&f, &y, -1);
	y = ev_usage("0.01");
	fx_verdict(&f, &y, -1);
	check(fx_verdict(&f, &x, -1) == POLICY_ASK, "spend condition: exactly at 1.00", "-");
	fx_free(&f);
}

/* ---- swapping sets ---- */

static void write_all(int fd, const char *text)
{
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		check(0, "writing a policy file", "failed");
	if (fd >= 0)
		close(fd);
}

static void test_swap(void)
{
	struct policy_event a = ev_egress("GET", "a.com", "/");
	struct policy_decision d;
	ombx_err err = {0};
	char path[] = "/tmp/ombx-policy-swap-XXXXXX";
	int fd = mkstemp(path);
	uint64_t v0;
	struct fx f;

	fx_init(&f, NULL,
		"egress: {ask: [\"* a.com/**\"]}\nrules: [{name: m, on: egress, decision: "
		"ask, increment: {k: 1}}]\n",
		NULL);
	v0 = policy_engine_version(f.e);
	check(fx_eval(&f, &a, -1, &d) == POLICY_ASK, "before the swap: ask", "-");
	policy_engine_swap(f.e, POLICY_LEVEL_AGENT, load(DENY_A, &err));
	check(policy_engine_version(f.e) == v0 + 1, "a swap bumps the version", "-");
	check(fx_verdict(&f, &a, -1) == POLICY_DENY, "the session sees the new set at once", "-");
	check(policy_resolve(f.s, &d, true) == 0 && policy_session_value(f.s, "k") == 1 &&
		      strcmp(d.why.rule, "egress.ask[0]") == 0,
	      "a decision outlives the set it came from", "k=%lld",
	      (long long)policy_session_value(f.s, "k"));
	policy_decision_release(&d);
	write_all(fd, "egress: {allow: [\"GET a.com/**\"]}\n");
	check(policy_engine_reload(f.e, POLICY_LEVEL_AGENT, path, &err) == 0 &&
		      fx_verdict(&f, &a, -1) == POLICY_ALLOW,
	      "reload installs a good file", "%s", err.msg);
	v0 = policy_engine_version(f.e);
	write_all(open(path, O_WRONLY | O_TRUNC), "egress: {allow: [\"GET a.com/**y\"]}\n");
	check(policy_engine_reload(f.e, POLICY_LEVEL_AGENT, path, &err) < 0 &&
		      strstr(err.msg, ":1:18:") && policy_engine_version(f.e) == v0 &&
		      fx_verdict(&f, &a, -1) == POLICY_ALLOW,
	      "a failed reload keeps the old set and says why", "%s", err.msg);
	unlink(path);
	fx_free(&f);
}

struct race {
	struct policy_engine *e;
	volatile bool stop;
	long evals, swaps;
};

static void *swapper(void *arg)
{
	struct race *r = arg;
	ombx_err err;

	while (!r->stop) {
		policy_engine_swap(r->e, POLICY_LEVEL_AGENT,
				   load(r->swaps % 2 ? ALLOW_A : DENY_A, &err));
		r->swaps++;
	}
	return NULL;
}

static void test_swap_race(void)
{
	struct policy_event a = ev_egress("GET", "a.com", "/");
	struct race r = {0};
	struct policy_session *s;
	bool sane = true;
	pthread_t t;

	policy_engine_new(&r.e);
	policy_session_new(r.e, &s);
	pthread_create(&t, NULL, swapper, &r);
	for (r.evals = 0; r.evals < 200000 && sane; r.evals++) {
		struct policy_decision d;
		policy_eval(s, &a, &d);
		sane = (d.verdict == POLICY_DENY && (strcmp(d.why.rule, "default") == 0 ||
						     strcmp(d.why.rule, "egress.deny[0]") == 0)) ||
		       (d.verdict == POLICY_ALLOW && strcmp(d.why.rule, "egress.allow[0]") == 0);
		policy_decision_release(&d);
	}
	r.stop = true;
	pthread_join(t, NULL);
	check(sane && r.swaps > 0, "evaluations during swaps see whole sets", "evals=%ld swaps=%ld",
	      r.evals, r.swaps);
	policy_session_free(s);
	policy_engine_free(r.e);
}

static void test_check_addr(void)
{
	struct policy_decision d;
	struct fx f;

	fx_init(&f, "egress: {deny: [\"* 8.8.4.0/24\"]}\n",
		"egress: {allow: [\"* 10.1.0.0/16\", \"* a.com\"]}\n", NULL);
	policy_check_addr(f.s, "10.2.0.1", &d);
	check(d.verdict == POLICY_DENY && strcmp(d.why.rule, "special-purpose-address") == 0,
	      "addr: private address refused", "%s", d.why.rule);
	policy_decision_release(&d);
	policy_check_addr(f.s, "10.1.2.3", &d);
	check(d.verdict == POLICY_ALLOW && strcmp(d.why.rule, "egress.allow[0]") == 0,
	      "addr: allowed by CIDR", "%s", d.why.rule);
	policy_decision_release(&d);
	policy_check_addr(f.s, "8.8.8.8", &d);
	check(d.verdict == POLICY_ALLOW && d.by_default, "addr: public address", "%s", d.why.rule);
	policy_decision_release(&d);
	policy_check_addr(f.s, "8.8.4.4", &d);
	check(d.verdict == POLICY_DENY && d.why.level == POLICY_LEVEL_SERVER,
	      "addr: denied by CIDR", "%s", d.why.rule);
	policy_decision_release(&d);
	policy_check_addr(f.s, "a.com", &d);
	check(d.verdict == POLICY_DENY, "addr: a name is not an address", "%s", d.why.rule);
	policy_decision_release(&d);
	fx_free(&f);

	fx_init(&f, NULL, "egress: {allow: [\"* a.com/**\"]}\n", NULL);
	{
		struct policy_event ev = ev_egress("GET", "a.com", "/");
		ev.addr = "127.0.0.1"; /* DNS pointed the name somewhere inside */
		policy_eval(f.s, &ev, &d);
		check(d.verdict == POLICY_DENY &&
			      strcmp(d.why.rule, "special-purpose-address") == 0,
		      "a name resolved to loopback is refused", "%s", d.why.rule);
		policy_decision_release(&d);
		ev.addr = "140.82.112.3";
		check(fx_verdict(&f, &ev, -1) == POLICY_ALLOW, "a name resolved publicly is fine",
		      "-");
	}
	fx_free(&f);
}

int main(void)
{
	test_levels();
	test_other_kinds();
	test_npm_then_push();
	test_approvals();
	test_swap();
	test_swap_race();
	test_check_addr();
	return finish();
}
