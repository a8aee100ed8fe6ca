/* test_policy_load.c - table-driven tests of loading policies: every kind of
 * load error, each with the FILE:LINE:COL it must name and words it must
 * say; and the documents that must load (the seed, its variants,
 * empty ones), with their rule counts. Run under ASan too: every failed load
 * frees a half-built set. */
#include <stdlib.h>
#include <unistd.h>

#include "policy_test.h"

static const struct {
	const char *yaml, *where, *says;
} bad[] = {
	/* structure and YAML */
	{"egres:\n  allow: []\n", "t.yaml:1:1:", "unknown key \"egres\""},
	{"- a\n", "t.yaml:1:1:", "a policy is a mapping"},
	{"egress: [\n", "t.yaml:2:1:", "YAML syntax error"},
	{"a: &x 1\n", "t.yaml:1:4:", "anchors"},
	{"a: 1\nb: *x\n", "t.yaml:2:4:", "aliases"},
	{"egress: !!map {}\n", "t.yaml:1:9:", "tags"},
	{"---\nrules: []\n---\nrules: []\n", "t.yaml:3:1:", "only one YAML document"},
	{"egress:\n  allow: [\"\xff\"]\n", "t.yaml:2:12:", "not valid YAML text"},
	{"rules:\n  - name: a\n    name: b\n", "t.yaml:3:5:",
	 "duplicate key \"name\" (first given "
	 "at line 2)"},
	{"egress: {}\negress: {}\n", "t.yaml:2:1:", "duplicate key \"egress\""},
	{"{[a]: 1}\n", "t.yaml:1:2:", "keys must be plain names"},
	{"a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	 "t.yaml:1:", "nested deeper than 32"},
	/* egress shorthand */
	{"egress: [a]\n", "t.yaml:1:9:", "egress: expected a mapping"},
	{"egress:\n  permit: [x]\n", "t.yaml:2:3:",
	 "unknown key \"permit\" (expected one of: "
	 "allow, ask, deny)"},
	{"egress:\n  allow: []\n", "t.yaml:2:10:", "the list is empty"},
	{"egress:\n  allow: {a: 1}\n", "t.yaml:2:10:", "expected a list, not a mapping"},
	{"egress:\n  allow: [\"GET\"]\n", "t.yaml:2:11:", "expected \"METHODS host/path-glob\""},
	{"egress:\n  allow: [\"GET a.com b.com\"]\n", "t.yaml:2:11:", "expected \"METHODS"},
	{"egress:\n  allow: [\"get api.github.com\"]\n", "t.yaml:2:11:", "not an HTTP method"},
	{"egress:\n  allow: [\"GET,,HEAD a.com\"]\n", "t.yaml:2:11:", "empty method name"},
	{"egress:\n  allow: [\"GET a..b/x\"]\n", "t.yaml:2:11:", "empty label"},
	{"egress:\n  allow: [\"GET a.com/x/**y\"]\n", "t.yaml:2:11:",
	 "'**' must be a whole "
	 "segment"},
	{"egress:\n  allow: [\"GET a.com/x?y\"]\n", "t.yaml:2:11:", "queries and fragments"},
	{"egress:\n  allow: [\"GET a.com/../x\"]\n", "t.yaml:2:11:", "'..' segments"},
	{"egress:\n  deny: [\"* 10.0.0.1/8\"]\n", "t.yaml:2:10:",
	 "host bits are set (did you "
	 "mean 10.0.0.0/8?)"},
	{"egress:\n  deny: [\"* 10.0.0.0/40\"]\n", "t.yaml:2:10:", "longer than /32"},
	{"egress:\n  allow: [\"GET a.com:99999/x\"]\n", "t.yaml:2:11:", "bad port"},
	{"egress:\n  allow: [\"GET a.com:/x\"]\n", "t.yaml:2:11:", "no port"},
	{"egress:\n  allow: [\"GET 10.0.0.1/x\"]\n", "t.yaml:2:11:", "matched by CIDR"},
	{"egress:\n  allow: [\"GET 127.1/x\"]\n", "t.yaml:2:11:", "not a canonical IPv4"},
	{"egress:\n  allow: [\"GET 2130706433\"]\n",
	 "t.yaml:2:11:", "four decimal parts without leading zeros"},
	{"egress:\n  allow: [\"GET a*.com\"]\n", "t.yaml:2:11:", "'*' cannot appear elsewhere"},
	/* rules */
	{"rules: {a: 1}\n", "t.yaml:1:8:", "rules: expected a list of rules"},
	{"rules:\n  - on: egress\n    decision: allow\n", "t.yaml:2:5:", "missing key \"name\""},
	{"rules:\n  - name: a\n    decision: allow\n", "t.yaml:2:5:", "missing key \"on\""},
	{"rules:\n  - name: a b\n    on: egress\n", "t.yaml:2:11:", "is not a rule name"},
	{"rules:\n  - name: a\n    on: egress\n    decison: allow\n",
	 "t.yaml:4:5:", "unknown key \"decison\""},
	{"rules:\n  - name: a\n    on: network\n    decision: allow\n",
	 "t.yaml:3:9:", "on: expected egress, exec, tool_call or usage"},
	{"rules:\n  - name: a\n    on: egress\n    decision: maybe\n",
	 "t.yaml:4:15:", "decision: expected allow, deny or ask"},
	{"rules:\n  - name: a\n    on: egress\n", "t.yaml:2:5:", "rule a does nothing"},
	{"rules:\n  - {name: a, on: egress, decision: deny}\n  - {name: a, on: exec, decision: "
	 "deny}\n",
	 "t.yaml:3:12:", "duplicate rule name \"a\" (first defined at line 2)"},
	{"rules:\n  - {name: a, on: exec, match: {hosts: [a.com]}, decision: deny}\n",
	 "t.yaml:2:40:", "match.hosts is not available for on: exec"},
	{"rules:\n  - {name: a, on: usage, match: {commands: [ls]}, decision: deny}\n",
	 "t.yaml:2:44:", "match.commands is not available for on: usage"},
	{"rules:\n  - {name: a, on: egress, match: {host: [a.com]}, decision: deny}\n",
	 "t.yaml:2:35:", "unknown key \"host\""},
	{"rules:\n  - {name: a, on: egress, match: [a], decision: deny}\n",
	 "t.yaml:2:34:", "match: expected a mapping"},
	{"rules:\n  - {name: a, on: egress, match: {methods: {GET: 1}}, decision: deny}\n",
	 "t.yaml:2:44:", "expected a list, not a mapping"},
	{"rules:\n  - {name: a, on: egress, match: {methods: [\"GET,HEAD\"]}, decision: deny}\n",
	 "t.yaml:2:45:", "one method per list item"},
	{"rules:\n  - {name: a, on: egress, match: {ports: [\"443\"]}, decision: deny}\n",
	 "t.yaml:2:43:", "expected a whole number, not \"443\" (a quoted string)"},
	{"rules:\n  - {name: a, on: egress, match: {ports: [0]}, decision: deny}\n",
	 "t.yaml:2:43:", "out of range (1 to 65535)"},
	{"rules:\n  - {name: a, on: egress, match: {schemes: [ftp]}, decision: deny}\n",
	 "t.yaml:2:45:", "expected http or https"},
	{"rules:\n  - {name: a, on: egress, match: {paths: [x]}, decision: deny}\n",
	 "t.yaml:2:43:", "must start with '/'"},
	{"rules:\n  - {name: a, on: egress, match: {cidrs: [10.0.0.0/33]}, decision: deny}\n",
	 "t.yaml:2:43:", "longer than /32"},
	{"rules:\n  - {name: a, on: egress, match: {hosts: [\"a b\"]}, decision: deny}\n",
	 "t.yaml:2:43:", "host names may contain only"},
	{"rules:\n  - {name: a, on: exec, match: {commands: [\"rm -rf / ; ls\"]}, decision: "
	 "deny}\n",
	 "t.yaml:2:44:", "plain words"},
	{"rules:\n  - {name: a, on: tool_call, match: {tools: [\"B ash\"]}, decision: deny}\n",
	 "t.yaml:2:46:", "not a tool name"},
	{"rules:\n  - {name: a, on: egress, if: \"x >\", decision: deny}\n",
	 "t.yaml:2:31:", "a counter is compared with a whole number"},
	{"rules:\n  - {name: a, on: egress, if: \"spend > lots\", decision: deny}\n",
	 "t.yaml:2:31:", "spend is compared with an amount in USD"},
	{"rules:\n  - {name: a, on: egress, if: spend, decision: deny}\n",
	 "t.yaml:2:31:", "spend is compared with an amount"},
	{"rules:\n  - {name: a, on: egress, if: \"x => 3\", decision: deny}\n",
	 "t.yaml:2:31:", "unknown comparison"},
	{"rules:\n  - {name: a, on: egress, if: \"not x > 3\", decision: deny}\n",
	 "t.yaml:2:31:", "\"not\" takes a flag name only"},
	{"rules:\n  - {name: a, on: egress, if: \"_x\", decision: deny}\n",
	 "t.yaml:2:31:", "expected FLAG"},
	{"rules:\n  - {name: a, on: egress, if: {a: 1}, decision: deny}\n",
	 "t.yaml:2:31:", "if: expected a list"},
	{"rules:\n  - {name: a, on: egress, set: [spend]}\n",
	 "t.yaml:2:33:", "reserved for the engine"},
	{"rules:\n  - {name: a, on: egress, set: [_mine]}\n",
	 "t.yaml:2:33:", "reserved for the engine"},
	{"rules:\n  - {name: a, on: egress, unset: [\"a b\"]}\n", "t.yaml:2:35:", "is not a name"},
	{"rules:\n  - {name: a, on: egress, increment: {n: 0}}\n",
	 "t.yaml:2:42:", "0 would change nothing"},
	{"rules:\n  - {name: a, on: egress, increment: {n: x}}\n",
	 "t.yaml:2:42:", "expected a whole number"},
	{"rules:\n  - {name: a, on: egress, increment: [n]}\n",
	 "t.yaml:2:38:", "increment: expected a mapping"},
	{"rules:\n  - {name: a, on: egress, decision: deny, reason: \"a\\0b\"}\n",
	 "t.yaml:2:51:", "contains a NUL byte"},
	{"rules:\n  - {name: a, on: egress, decision: deny, reason: [a]}\n",
	 "t.yaml:2:51:", "reason: expected a single value, not a list"},
	/* secrets */
	{"secrets: [a]\n", "t.yaml:1:10:", "secrets: expected a mapping"},
	{"secrets:\n  gh:\n    inject: [{hosts: [a.com], header: X}]\n",
	 "t.yaml:3:5:", "missing key \"source\""},
	{"secrets:\n  gh: {source: env:X}\n", "t.yaml:2:7:", "missing key \"inject\""},
	{"secrets:\n  gh: {source: vault:x, inject: [{hosts: [a.com], header: X}]}\n",
	 "t.yaml:2:16:", "expected env:NAME or file:/PATH"},
	{"secrets:\n  gh: {source: \"file:rel/x\", inject: [{hosts: [a.com], header: X}]}\n",
	 "t.yaml:2:16:", "absolute path"},
	{"secrets:\n  gh: {source: \"env:A-B\", inject: [{hosts: [a.com], header: X}]}\n",
	 "t.yaml:2:16:", "needs a variable name"},
	{"secrets:\n  gh: {source: env:X, inject: [{header: X}]}\n",
	 "t.yaml:2:32:", "missing key \"hosts\""},
	{"secrets:\n  gh: {source: env:X, inject: [{hosts: [\"*\"], header: X}]}\n",
	 "t.yaml:2:40:", "'*' (any host) is not allowed here"},
	{"secrets:\n  gh: {source: env:X, inject: [{hosts: [a.com]}]}\n",
	 "t.yaml:2:32:", "give either header"},
	{"secrets:\n  gh: {source: env:X, inject: [{hosts: [a.com], header: X, basic_user: u}]}\n",
	 "t.yaml:2:32:", "give either header"},
	{"secrets:\n  gh: {source: env:X, inject: [{hosts: [a.com], header: X, format: Bearer}]}\n",
	 "t.yaml:2:68:", "must contain {secret} exactly once"},
	{"secrets:\n  gh: {source: env:X, inject: [{hosts: [a.com], header: Host}]}\n",
	 "t.yaml:2:57:", "not a header name a secret may go in"},
	{"secrets:\n  gh: {source: env:X, inject: [{hosts: [a.com], basic_user: \"a:b\"}]}\n",
	 "t.yaml:2:61:", "cannot contain ':'"},
	{"secrets:\n  gh: {source: env:X, inject: [{hosts: [a.com], header: X}], "
	 "require_approval: \"true\"}\n",
	 "t.yaml:2:80:", "expected true or false, not \"true\" (a quoted string)"},
	{"secrets:\n  gh: {source: env:X, placeholder_env: \"1X\", inject: [{hosts: [a.com], "
	 "header: X}]}\n",
	 "t.yaml:2:40:", "not an environment variable name"},
	{"secrets:\n  gh: {source: env:X, inject: []}\n", "t.yaml:2:31:", "the list is empty"},
	{"secrets:\n  a: {source: env:X, placeholder_env: P, inject: [{hosts: [a.com], header: "
	 "X}]}\n"
	 "  b: {source: env:Y, placeholder_env: P, inject: [{hosts: [b.com], header: X}]}\n",
	 "t.yaml:3:6:", "placeholder_env P is already used by secret a"},
	/* policies */
	{"policies: [a]\n", "t.yaml:1:11:", "policies: expected a mapping"},
	{"policies:\n  b:\n    type: function\n    handler: "
	 "omnigent.policies.builtins.cost.cost_budgett\n    factory_params: {max_cost_usd: 5}\n",
	 "t.yaml:4:14:", "unknown handler \"omnigent.policies.builtins.cost.cost_budgett\""},
	{"policies:\n  b: {type: prompt, handler: x}\n",
	 "t.yaml:2:13:", "only type: function is supported"},
	{"policies:\n  b: {type: function}\n", "t.yaml:2:6:", "give either handler"},
	{"policies:\n  b: {handler: omnigent.policies.builtins.cost.cost_budget, function: x}\n",
	 "t.yaml:2:6:", "give either handler"},
	{"policies:\n  b: {handler: omnigent.policies.builtins.cost.cost_budget}\n",
	 "t.yaml:2:16:", "cost_budget needs factory_params with max_cost_usd"},
	{"policies:\n  b: {handler: omnigent.policies.builtins.cost.cost_budget, factory_params: "
	 "{ask_thresholds_usd: [1]}}\n",
	 "t.yaml:2:77:", "missing max_cost_usd"},
	{"policies:\n  b: {handler: omnigent.policies.builtins.cost.cost_budget, factory_params: "
	 "{max_cost_usd: \"5\"}}\n",
	 "t.yaml:2:92:", "expected an amount in USD such as 5.00, not \"5\" (a quoted string)"},
	{"policies:\n  b: {handler: omnigent.policies.builtins.cost.cost_budget, factory_params: "
	 "{max_cost_usd: [5]}}\n",
	 "t.yaml:2:92:", "expected an amount in USD"},
	{"policies:\n  b: {handler: omnigent.policies.builtins.cost.cost_budget, factory_params: "
	 "{max_cost_usd: 0}}\n",
	 "t.yaml:2:92:", "must be more than 0"},
	{"policies:\n  b: {handler: omnigent.policies.builtins.cost.cost_budget, factory_params: "
	 "{max_cost_usd: -5}}\n",
	 "t.yaml:2:92:", "is not an amount in USD"},
	{"policies:\n  b: {handler: omnigent.policies.builtins.cost.cost_budget, factory_params: "
	 "{max_cost_usd: 5, ask_thresholds_usd: [3, 2]}}\n",
	 "t.yaml:2:119:", "ascending order"},
	{"policies:\n  b: {handler: omnigent.policies.builtins.cost.cost_budget, factory_params: "
	 "{max_cost_usd: 5, ask_thresholds_usd: [5]}}\n",
	 "t.yaml:2:116:", "less than max_cost_usd"},
	{"policies:\n  b: {handler: omnigent.policies.builtins.cost.cost_budget, factory_params: "
	 "{max_cost_usd: 5, expensive_models: [opus]}}\n",
	 "t.yaml:2:95:", "unknown key \"expensive_models\""},
	{"policies:\n  b: {handler: omnigent.policies.builtins.safety.max_tool_calls_per_session, "
	 "factory_params: {limit: -1}}\n",
	 "t.yaml:2:102:", "out of range"},
	{"policies:\n  b: {handler: omnigent.policies.builtins.safety.deny_commands, "
	 "factory_params: {}}\n",
	 "t.yaml:2:81:", "missing patterns"},
	{"policies:\n  b: {function: {path: omnigent.policies.builtins.safety.deny_commands, "
	 "arguments: {patterns: [\"-x\"]}}}\n",
	 "t.yaml:2:96:", "starts with the command"},
	{"policies:\n  b: {function: {arguments: {}}}\n", "t.yaml:2:17:", "missing key \"path\""},
	{"policies:\n  \"a b\": {function: x}\n", "t.yaml:2:3:", "is not a policy name"},
	{"policies:\n  b: {handler: x, factory_params: [1]}\n", "t.yaml:2:16:", "unknown handler"},
	{"rules:\n  - {name: budget, on: usage, decision: deny}\npolicies:\n  budget: {function: "
	 "omnigent.policies.builtins.safety.max_tool_calls_per_session}\n",
	 "t.yaml:4:3:", "duplicate rule name \"budget\""},
};

static void test_bad(void)
{
	char name[96];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ombx_err err;
		struct policy_set *s = load(bad[i].yaml, &err);
		snprintf(name, sizeof(name), "load error %zu (%s %s)", i, bad[i].where,
			 bad[i].says);
		check(!s && strncmp(err.msg, bad[i].where, strlen(bad[i].where)) == 0 &&
			      strstr(err.msg, bad[i].says),
		      name, "got: %s", s ? "loaded" : err.msg);
		policy_set_unref(s);
	}
}

static const char seed[] =
	"egress:\n"
	"  allow: [\"GET,HEAD api.github.com/**\", \"* registry.npmjs.org/**\"]\n"
	"  ask:   [\"POST github.com/*/*.git/git-receive-pack\"]\n"
	"  deny:  [\"* 169.254.0.0/16\"]\n"
	"rules:\n"
	"  - name: mark-npm-install\n"
	"    on: egress\n"
	"    match: {hosts: [registry.npmjs.org], methods: [GET], paths: [\"/**/-/*.tgz\"]}\n"
	"    set: [installed_package]\n"
	"  - name: push-after-install\n"
	"    on: egress\n"
	"    match: {hosts: [github.com], methods: [POST], paths: [\"/**/git-receive-pack\"]}\n"
	"    if: installed_package\n"
	"    decision: ask\n"
	"    reason: git push after a new npm package was installed\n"
	"secrets:\n"
	"  github:\n"
	"    source: env:GITHUB_TOKEN\n"
	"    placeholder_env: GITHUB_TOKEN\n"
	"    inject:\n"
	"      - {hosts: [api.github.com], header: Authorization, format: \"Bearer {secret}\"}\n"
	"      - {hosts: [github.com], basic_user: x-access-token}\n"
	"    require_approval: false\n"
	"policies:\n"
	"  budget:\n"
	"    type: function\n"
	"    handler: omnigent.policies.builtins.cost.cost_budget\n"
	"    factory_params:\n"
	"      max_cost_usd: 5.00\n"
	"      ask_thresholds_usd: [3.00]\n";

static const struct {
	const char *name, *yaml;
	size_t rules;
} good[] = {
	{"the issue's seed", seed, 7},
	{"empty file", "", 0},
	{"a bare document marker", "---\n", 0},
	{"comments only", "# nothing here\n", 0},
	{"empty sections", "egress: {}\nrules: []\nsecrets: {}\npolicies: {}\n", 0},
	{"function: NAME",
	 "policies:\n  calls: {function: "
	 "omnigent.policies.builtins.safety.max_tool_calls_per_session}\n",
	 1},
	{"function: {path, arguments}",
	 "policies:\n  b:\n    type: function\n    function:\n      path: "
	 "omnigent.policies.builtins.cost.cost_budget\n      arguments: {max_cost_usd: 1.5}\n",
	 1},
	{"handler with description",
	 "policies:\n  d:\n    type: function\n    description: no "
	 "force pushes\n    handler: "
	 "omnigent.policies.builtins.safety.deny_commands\n    "
	 "factory_params: {patterns: [\"git push --force\", \"rm -rf "
	 "/\"], reason: rewrites history}\n",
	 1},
	{"every match key",
	 "rules:\n  - name: a\n    on: egress\n    match: {hosts: [a.com, "
	 "\"*.b.com\"], cidrs: [10.0.0.0/8, \"fd00::/8\"], methods: [GET, "
	 "PROPFIND], paths: [\"/x/**\"], ports: [443, 8443], schemes: [https]}\n"
	 "    if: [flag, \"not other\", \"n >= 3\", \"spend < $2.50\"]\n"
	 "    decision: allow\n    set: flag2\n    unset: [other]\n"
	 "    increment: {n: 1, m: -2}\n",
	 1},
	{"one scalar for a list",
	 "rules:\n  - {name: a, on: egress, match: {hosts: a.com}, "
	 "decision: allow}\n",
	 1},
	{"shorthand with port and any host",
	 "egress:\n  allow: [\"GET a.com:8443/x\", \"* "
	 "*.corp.example/**\", \"HEAD *\", \"* 1.2.3.4\", \"* "
	 "2001:db8::/32\"]\n",
	 5},
};

static void test_good(void)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ombx_err err;
		struct policy_set *s = load(good[i].yaml, &err);
		check(s && policy_set_rule_count(s) == good[i].rules, good[i].name, "%s",
		      s ? "wrong rule count" : err.msg);
		policy_set_unref(s);
	}
}

static void test_files(void)
{
	struct policy_set *s = NULL;
	ombx_err err = {0};
	char path[] = "/tmp/ombx-policy-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	check(policy_set_load("/nonexistent/p.yaml", &s, &err) == -2 && !s &&
		      strstr(err.msg, "/nonexistent/p.yaml: cannot open"),
	      "missing file names itself", "%s", err.msg);
	check(policy_set_load("/tmp", &s, &err) < 0 && strstr(err.msg, "/tmp: cannot read"),
	      "a directory is refused", "%s", err.msg);
	if (!f) {
		check(0, "temporary file", "mkstemp failed");
		return;
	}
	for (int i = 0; i < 70000; i++) /* > 1 MiB */
		fputs("# padding padding\n", f);
	fclose(f);
	check(policy_set_load(path, &s, &err) < 0 && strstr(err.msg, "larger than 1 MiB"),
	      "a file over 1 MiB is refused", "%s", err.msg);
	f = fopen(path, "w");
	if (f) {
		fputs("rules:\n  - {name: x, on: egress}\n", f);
		fclose(f);
	}
	check(policy_set_load(path, &s, &err) < 0 && strncmp(err.msg, path, strlen(path)) == 0 &&
		      strstr(err.msg, ":2:5:"),
	      "errors name the file path", "%s", err.msg);
	unlink(path);
}

int main(void)
{
	test_bad();
	test_good();
	test_files();
	return finish();
}
