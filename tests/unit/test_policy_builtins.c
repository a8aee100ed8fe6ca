/* test_policy_builtins.c - the seed's built-ins (cost_budget: each threshold
 * once, exactly at the cap, past it; max_tool_calls_per_session; deny/ask
 * on command patterns) and secrets (which binding goes where, placeholders
 * sent elsewhere, require_approval, and the accessor, whose errors must
 * never show a value). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "policy_fixture.h"

#define BUDGET(max, th)                                                                            \
	"policies:\n  budget:\n    type: function\n    handler: "                                  \
	"omnigent.policies.builtins.cost.cost_budget\n    factory_params:\n      "                 \
	"max_cost_usd: " max "\n      ask_thresholds_usd: " th "\n"

/* One step of a budget story: an event, the answer to an ask, the verdict
 * and words the reason must contain. */
struct step {
	const char *cost; /* usage cost; NULL: an allowed egress request */
	int approve;
	enum policy_verdict want;
	const char *says;
};

static const struct step story[] = {
	{"0.50", -1, POLICY_ALLOW, "default"},
	{"0.50", 1, POLICY_ASK, "spend $1.00 reached the $1.00 threshold"}, /* exactly at it */
	{"0.50", -1, POLICY_ALLOW, "default"},                              /* asked once only */
	{"0.50", 0, POLICY_ASK, "reached the $2.00 threshold"},             /* rejected... */
	{NULL, 1, POLICY_ASK, "reached the $2.00 threshold"},               /* ...asks again */
	{NULL, -1, POLICY_ALLOW, "egress.allow"},
	{"1.00", 1, POLICY_ASK, "reached the $3.00 threshold"},
	{"1.50", -1, POLICY_ALLOW, "default"},
	{"0.50", -1, POLICY_DENY, "spend $5.00 reached the cost cap of $5.00"}, /* at the cap */
	{NULL, -1, POLICY_DENY, "spend $5.00 reached the cost cap of $5.00"},
	{"1.00", -1, POLICY_DENY, "spend $6.00 reached the cost cap of $5.00"}, /* past it */
};

static void run_story(const char *name, const char *yaml, const struct step *st, size_t n)
{
	struct fx f;
	char label[128];

	fx_init(&f, NULL, yaml, NULL);
	for (size_t i = 0; i < n; i++) {
		struct policy_event ev = st[i].cost ? ev_usage(st[i].cost)
						    : ev_egress("GET", "api.example.com", "/");
		struct policy_decision d;
		policy_eval(f.s, &ev, &d);
		snprintf(label, sizeof(label), "%s, step %zu (%s)", name, i,
			 st[i].cost ? st[i].cost : "egress");
		check(d.verdict == st[i].want && strstr(d.why.reason, st[i].says) != NULL, label,
		      "got %s: %s", policy_verdict_name(d.verdict), d.why.reason);
		if (d.verdict == POLICY_ASK && st[i].approve >= 0)
			policy_resolve(f.s, &d, st[i].approve == 1);
		policy_decision_release(&d);
	}
	fx_free(&f);
}

static void test_budget(void)
{
	static const struct step jump[] = {
		{"2.50", 1, POLICY_ASK, "reached the $2.00 threshold"}, /* two at once: one ask */
		{"0.10", -1, POLICY_ALLOW, "default"},
		{"0.40", 1, POLICY_ASK, "reached the $3.00 threshold"},
	};
	static const struct step no_thresholds[] = {
		{"4.999999", -1, POLICY_ALLOW, "default"},
		{"0.000001", -1, POLICY_DENY, "spend $5.00 reached the cost cap of $5.00"},
	};
	struct policy_event total = {.kind = POLICY_USAGE, .total_micro_usd = 7000000};
	struct fx f;

	run_story("budget",
		  "egress: {allow: [\"GET api.example.com/**\"]}\n" BUDGET("5.00", "[1, 2, 3.00]"),
		  story, sizeof(story) / sizeof(story[0]));
	run_story("budget jump", BUDGET("5", "[2, 3]"), jump, sizeof(jump) / sizeof(jump[0]));
	run_story("budget, cap only",
		  "policies:\n  b: {handler: omnigent.policies.builtins.cost.cost_budget, "
		  "factory_params: {max_cost_usd: 5}}\n",
		  no_thresholds, sizeof(no_thresholds) / sizeof(no_thresholds[0]));

	fx_init(&f, BUDGET("10", "[9]"), BUDGET("5", "[4]"), NULL);
	check(fx_verdict(&f, &total, -1) == POLICY_DENY && policy_session_spend(f.s) == 7000000,
	      "total_cost_usd raises spend; the stricter level's cap denies", "spend %lld",
	      (long long)policy_session_spend(f.s));
	total.total_micro_usd = 1000000;
	fx_verdict(&f, &total, -1);
	check(policy_session_spend(f.s) == 7000000, "spend never falls", "spend %lld",
	      (long long)policy_session_spend(f.s));
	fx_free(&f);

	fx_init(&f, BUDGET("10", "[3]"), BUDGET("10", "[3]"), NULL);
	{
		struct policy_event u = ev_usage("3.5");
		struct policy_decision d;
		check(fx_eval(&f, &u, 1, &d) == POLICY_ALLOW && d.n_asks == 2,
		      "budgets at two levels: one approval carries both asks", "asks=%zu",
		      d.n_asks);
		policy_decision_release(&d);
		u = ev_usage("0.1");
		check(fx_verdict(&f, &u, -1) == POLICY_ALLOW, "both thresholds approved", "-");
	}
	fx_free(&f);
}

static void test_tool_calls(void)
{
	struct policy_event bash = ev_tool("Bash", "ls"), danger = ev_tool("Danger", NULL);
	struct policy_event ask = ev_tool("Ask", NULL);
	struct policy_decision d;
	struct fx f;

	fx_init(&f,
		"policies:\n  calls: {handler: "
		"omnigent.policies.builtins.safety.max_tool_calls_per_session, factory_params: "
		"{limit: 2}}\n",
		"rules:\n  - {name: no-danger, on: tool_call, match: {tools: [Danger]}, decision: "
		"deny}\n  - {name: ask-ask, on: tool_call, match: {tools: [Ask]}, decision: ask}\n",
		NULL);
	check(fx_verdict(&f, &bash, -1) == POLICY_ALLOW, "tool call 1", "-");
	check(fx_verdict(&f, &danger, -1) == POLICY_DENY, "a denied call is not counted", "-");
	check(fx_verdict(&f, &ask, 0) == POLICY_DENY, "a rejected call is not counted", "-");
	check(fx_verdict(&f, &ask, 1) == POLICY_ALLOW, "an approved call is counted (2)", "-");
	check(fx_eval(&f, &bash, -1, &d) == POLICY_DENY &&
		      strstr(d.why.reason,
			     "2 tool calls already made in this session, the limit is 2"),
	      "the third is denied", "%s", d.why.reason);
	policy_decision_release(&d);
	fx_free(&f);
}

static void test_commands(void)
{
	static const struct {
		const char *tool, *cmd;
		enum policy_verdict want;
		const char *says;
	} t[] = {
		{"Bash", "git push --force origin main", POLICY_DENY, "history"},
		{"Bash", "cd repo && git push -f", POLICY_DENY, "history"},
		{"Bash", "sudo rm -rf / --no-preserve-root", POLICY_ASK, "\"rm -rf /\""},
		{"Bash", "echo 'unbalanced", POLICY_ASK, "could not be taken apart"},
		{"Bash", "git push origin main", POLICY_ALLOW, "default"},
		{"Read", NULL, POLICY_ALLOW, "default"},
	};
	const char *argv[] = {"bash", "-c", "git push --force"};
	struct policy_event ex = {.kind = POLICY_EXEC, .argv = argv, .argc = 3};
	struct policy_decision d;
	struct fx f;

	fx_init(&f,
		"policies:\n  no-force:\n    handler: "
		"omnigent.policies.builtins.safety.deny_commands\n"
		"    factory_params: {patterns: [\"git push --force\", \"git push -f\"], reason: "
		"force-pushing rewrites history}\n"
		"  careful:\n    function: {path: omnigent.policies.builtins.safety.ask_commands, "
		"arguments: {patterns: [\"rm -rf /\"]}}\n",
		NULL, NULL);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct policy_event ev = ev_tool(t[i].tool, t[i].cmd);
		char name[128];
		snprintf(name, sizeof(name), "commands: %s %s", t[i].tool,
			 t[i].cmd ? t[i].cmd : "");
		policy_eval(f.s, &ev, &d);
		check(d.verdict == t[i].want && strstr(d.why.reason, t[i].says), name, "got %s: %s",
		      policy_verdict_name(d.verdict), d.why.reason);
		policy_decision_release(&d);
	}
	check(fx_verdict(&f, &ex, -1) == POLICY_DENY, "commands: exec of bash -c", "-");
	fx_free(&f);
}

/* ---- secrets ---- */

static const char gh[] =
	"egress: {allow: [\"GET,HEAD api.github.com/**\", \"* github.com/**\", \"* "
	"evil.com/**\"]}\n"
	"secrets:\n  github:\n    source: env:OMBX_TEST_TOKEN\n    placeholder_env: GITHUB_TOKEN\n"
	"    inject:\n"
	"      - {hosts: [api.github.com], header: Authorization, format: \"Bearer {secret}\"}\n"
	"      - {hosts: [github.com], basic_user: x-access-token}\n";

static void test_injections(void)
{
	struct policy_event api = ev_egress("GET", "API.github.com", "/user");
	struct policy_event git = ev_egress("POST", "github.com", "/a/b.git/git-receive-pack");
	struct policy_event evil = ev_egress("POST", "evil.com", "/");
	const char *carried[] = {"github"}, *unknown[] = {"gitlab"};
	struct policy_injection in[4];
	struct policy_placeholder ph[4];
	struct policy_decision d;
	struct fx f;
	int n;

	fx_init(&f, NULL, gh, NULL);
	fx_eval(&f, &api, -1, &d);
	n = policy_injections(&d, &api, in, 4);
	check(n == 1 && in[0].how == POLICY_INJECT_HEADER &&
		      !strcmp(in[0].header, "Authorization") && !strcmp(in[0].prefix, "Bearer ") &&
		      !strcmp(in[0].suffix, "") && !strcmp(in[0].name, "github"),
	      "header binding for api.github.com", "n=%d", n);
	policy_decision_release(&d);
	fx_eval(&f, &git, -1, &d);
	n = policy_injections(&d, &git, in, 4);
	check(n == 1 && in[0].how == POLICY_INJECT_BASIC &&
		      !strcmp(in[0].basic_user, "x-access-token"),
	      "basic-auth binding for github.com", "n=%d", n);
	git.scheme = "http";
	check(policy_injections(&d, &git, in, 4) == 0, "never over plain http", "-");
	policy_decision_release(&d);
	fx_eval(&f, &evil, -1, &d);
	check(policy_injections(&d, &evil, in, 4) == 0, "nothing for an unbound host", "-");
	policy_decision_release(&d);
	evil.secrets = carried;
	evil.n_secrets = 1;
	check(fx_eval(&f, &evil, -1, &d) == POLICY_DENY &&
		      !strcmp(d.why.rule, "secret-not-bound") &&
		      strstr(d.why.reason, "secret \"github\" is not bound to evil.com"),
	      "a placeholder sent elsewhere is blocked", "%s", d.why.reason);
	check(policy_injections(&d, &evil, in, 4) == 0, "and gets nothing injected", "-");
	policy_decision_release(&d);
	api.secrets = carried;
	api.n_secrets = 1;
	check(fx_verdict(&f, &api, -1) == POLICY_ALLOW, "a placeholder sent where bound is fine",
	      "-");
	api.secrets = unknown;
	check(fx_eval(&f, &api, -1, &d) == POLICY_DENY && strstr(d.why.reason, "no policy defines"),
	      "a placeholder no policy defines is blocked", "%s", d.why.reason);
	policy_decision_release(&d);
	n = policy_session_placeholders(f.s, ph, 4);
	check(n == 1 && !strcmp(ph[0].env, "GITHUB_TOKEN") && !strcmp(ph[0].name, "github"),
	      "placeholders for the jail", "n=%d", n);
	fx_free(&f);

	/* require_approval, and two levels binding the same header */
	fx_init(&f,
		"secrets:\n  admin: {source: env:A, inject: [{hosts: [api.github.com], header: "
		"authorization}]}\n",
		"egress: {allow: [\"GET api.github.com/**\"]}\nsecrets:\n  mine: {source: env:B, "
		"require_approval: true, inject: [{hosts: [\"*.github.com\"], header: "
		"Authorization}, {hosts: [api.github.com], header: X-Other}]}\n",
		NULL);
	api = ev_egress("GET", "api.github.com", "/");
	check(fx_eval(&f, &api, -1, &d) == POLICY_ASK && !strcmp(d.why.rule, "secret.mine") &&
		      strstr(d.why.reason, "requires approval"),
	      "require_approval makes every request carrying it ask", "%s %s", d.why.rule,
	      d.why.reason);
	check(policy_injections(&d, &api, in, 4) == 0, "nothing injected before approval", "-");
	policy_resolve(f.s, &d, true);
	n = policy_injections(&d, &api, in, 4);
	check(n == 1 && !strcmp(in[0].name, "admin") && !in[0].require_approval,
	      "the server's binding wins a header both want", "n=%d %s", n, n ? in[0].name : "");
	policy_decision_release(&d);
	fx_free(&f);
}

static void test_secret_read(void)
{
	static const char value[] = "ghp_s3cr3t-VALUE";
	char path[] = "/tmp/ombx-secret-XXXXXX", yaml[512], buf[64];
	const char *body[] = {"ghp_s3cr3t-VALUE\n", "ghp_s3cr3t-VALUE\r\n", "ghp_s3cr3t\nVALUE\n",
			      ""};
	const char *want[] = {value, value, NULL, NULL};
	struct policy_event api = ev_egress("GET", "api.github.com", "/");
	struct policy_injection in[2];
	struct policy_decision d;
	ombx_err err;
	size_t len;
	struct fx f;
	int fd = mkstemp(path);

	close(fd);
	snprintf(yaml, sizeof(yaml),
		 "egress: {allow: [\"GET api.github.com/**\"]}\nsecrets:\n  e: {source: "
		 "env:OMBX_TEST_TOKEN, inject: [{hosts: [api.github.com], header: A}]}\n  f: "
		 "{source: "
		 "\"file:%s\", inject: [{hosts: [api.github.com], header: B}]}\n",
		 path);
	fx_init(&f, NULL, yaml, NULL);
	fx_eval(&f, &api, -1, &d);
	check(policy_injections(&d, &api, in, 2) == 2, "two bindings", "-");
	unsetenv("OMBX_TEST_TOKEN");
	memset(&err, 0, sizeof(err));
	check(policy_secret_read(in[0].secret, buf, sizeof(buf), &len, &err) == -ENOENT &&
		      strstr(err.msg, "secret e: environment variable OMBX_TEST_TOKEN is not set"),
	      "env: unset", "%s", err.msg);
	setenv("OMBX_TEST_TOKEN", value, 1);
	check(policy_secret_read(in[0].secret, buf, sizeof(buf), &len, &err) == 0 &&
		      !strcmp(buf, value) && len == strlen(value),
	      "env: the value", "-");
	check(policy_secret_read(in[0].secret, buf, 8, &len, &err) == -EFBIG &&
		      !strstr(err.msg, "s3cr3t"),
	      "env: too long for the buffer, value not shown", "%s", err.msg);
	setenv("OMBX_TEST_TOKEN", "ghp_s3cr3t\nVALUE", 1);
	check(policy_secret_read(in[0].secret, buf, sizeof(buf), &len, &err) == -EINVAL &&
		      strstr(err.msg, "line break") && !strstr(err.msg, "s3cr3t") && !buf[0],
	      "env: a line break is refused, value not shown, buffer wiped", "%s", err.msg);
	for (size_t i = 0; i < sizeof(body) / sizeof(body[0]); i++) {
		char name[64];
		fd = open(path, O_WRONLY | O_TRUNC);
		if (fd < 0 || write(fd, body[i], strlen(body[i])) != (ssize_t)strlen(body[i]))
			check(0, "write secret file", "failed");
		close(fd);
		memset(&err, 0, sizeof(err));
		snprintf(name, sizeof(name), "file: case %zu", i);
		if (want[i])
			check(policy_secret_read(in[1].secret, buf, sizeof(buf), &len, &err) == 0 &&
				      !strcmp(buf, want[i]),
			      name, "%s", err.msg);
		else
			check(policy_secret_read(in[1].secret, buf, sizeof(buf), &len, &err) < 0 &&
				      !strstr(err.msg, "s3cr3t") && strstr(err.msg, "secret f"),
			      name, "%s", err.msg);
	}
	unlink(path);
	check(policy_secret_read(in[1].secret, buf, sizeof(buf), &len, &err) == -ENOENT &&
		      strstr(err.msg, path),
	      "file: missing names the path", "%s", err.msg);
	policy_decision_release(&d);
	fx_free(&f);
	unsetenv("OMBX_TEST_TOKEN");
}

int main(void)
{
	test_budget();
	test_tool_calls();
	test_commands();
	test_injections();
	test_secret_read();
	return finish();
}
