#!/bin/sh
# policy_cli.sh OMNIBOX EXAMPLES: drives `omnibox policy check` and
# `omnibox policy explain` end to end: exit statuses, FILE:LINE:COL errors,
# one JSON decision per event with state carried across lines, approvals,
# the shipped examples.
. "$(dirname "$0")/lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")
EX=${2:-$(dirname "$0")/../../examples/policies}
[ -d "$EX" ] || die "examples directory not found: $EX"

# ---- check ----

run good "$OMNIBOX" policy check "$EX"/*.yaml
expect_rc good 0 "every shipped example passes check"
expect_in "$T/good.out" "npm-then-push.yaml: ok" "check names each good file"

printf 'egress:\n  allow: ["GET api.github.com/**"]\nrules:\n  - name: x\n    on: egress\n    decison: allow\n' >"$T/typo.yaml"
run typo "$OMNIBOX" policy check "$T/typo.yaml"
expect_rc typo 1 "a typo fails check"
expect_in "$T/typo.err" "$T/typo.yaml:6:5: rule: unknown key \"decison\"" "the typo is named at FILE:6:5"

printf 'policies:\n  b:\n    type: function\n    handler: omnigent.policies.builtins.cost.nope\n' >"$T/handler.yaml"
run mixed "$OMNIBOX" policy check "$EX/budget.yaml" "$T/handler.yaml"
expect_rc mixed 1 "one bad file among good ones fails check"
expect_in "$T/mixed.out" "budget.yaml: ok" "the good file is still reported"
expect_in "$T/mixed.err" "$T/handler.yaml:4:14: unknown handler" "an unknown handler is a load error"

run missing "$OMNIBOX" policy check "$T/none.yaml"
expect_rc missing 1 "a missing file fails check"
expect_in "$T/missing.err" "$T/none.yaml: cannot open" "the missing file is named"

run noargs "$OMNIBOX" policy check
expect_rc noargs 2 "check without files is a usage error"
run nosub "$OMNIBOX" policy frobnicate
expect_rc nosub 2 "an unknown policy subcommand is a usage error"

# ---- explain ----

# field LINE KEY: one field of one output line (1-based), JSON syntax.
field() {
	"$PY" - "$T/explain.out" "$1" "$2" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
v = json.loads(lines[int(sys.argv[2]) - 1])
for k in sys.argv[3].split("."):
    v = v[int(k)] if isinstance(v, list) else v.get(k)
print(json.dumps(v))
EOF
}

# expect_decision LINE DECISION RULE LEVEL WHAT
expect_decision() {
	_got="$(field "$1" decision) $(field "$1" rule) $(field "$1" level)"
	_want="\"$2\" \"$3\" \"$4\""
	if [ "$_got" = "$_want" ]; then
		ok "$5"
	else
		fail "$5: line $1 is $_got, want $_want"
	fi
}

run explain "$OMNIBOX" policy explain --agent "$EX/npm-then-push.yaml" --events "$EX/npm-then-push.events.jsonl"
expect_rc explain 0 "explain the npm-then-push example"
[ "$(wc -l <"$T/explain.out")" -eq 6 ] && ok "one decision per event" || fail "expected 6 lines of output"
expect_decision 1 allow "egress.allow[3]" agent "push before any install is allowed"
expect_decision 3 allow "egress.allow[0]" agent "the tarball fetch is allowed"
expect_decision 4 ask push-after-install agent "push after install asks (state carried over)"
[ "$(field 4 approved)" = false ] && ok "approve:false is reported" || fail "line 4 approved: $(field 4 approved)"
[ "$(field 5 approved)" = true ] && ok "approve:true is reported" || fail "line 5 approved: $(field 5 approved)"
expect_decision 6 deny default engine "an unknown host falls to egress's default deny"
[ "$(field 6 default)" = true ] && ok "the default is marked as such" || fail "line 6 default: $(field 6 default)"

# three levels; asks merge; session deny short-circuits; budget
cat >"$T/server.yaml" <<'EOF'
egress:
  ask: ["POST api.example.com/**"]
  deny: ["* 169.254.0.0/16"]
EOF
cat >"$T/agent.yaml" <<'EOF'
egress:
  allow: ["GET,POST api.example.com/**", "* 127.0.0.1/32"]
rules:
  - {name: post-twice, on: egress, match: {methods: [POST]}, if: "posts >= 1", decision: ask, reason: second POST}
  - {name: count-posts, on: egress, match: {methods: [POST]}, increment: {posts: 1}}
policies:
  budget:
    type: function
    handler: omnigent.policies.builtins.cost.cost_budget
    factory_params: {max_cost_usd: 2.00, ask_thresholds_usd: [1.00]}
EOF
printf 'egress:\n  deny: ["DELETE api.example.com/**"]\n' >"$T/session.yaml"
cat >"$T/events.jsonl" <<'EOF'
{"kind":"egress","method":"GET","scheme":"https","host":"API.Example.COM.","path":"/v1/x?q=1"}
{"kind":"egress","method":"POST","scheme":"https","host":"api.example.com","path":"/v1/x","approve":true}

{"kind":"egress","method":"POST","scheme":"https","host":"api.example.com","path":"/v1/y"}
{"kind":"egress","method":"DELETE","scheme":"https","host":"api.example.com","path":"/v1/x"}
{"kind":"egress","method":"GET","scheme":"http","host":"169.254.169.254","path":"/latest/meta-data/"}
{"kind":"egress","method":"GET","scheme":"http","host":"127.0.0.1","port":8080,"path":"/"}
{"kind":"egress","method":"GET","scheme":"http","host":"10.0.0.1","path":"/"}
{"kind":"egress","method":"GET","scheme":"http","host":"2130706433","path":"/"}
{"kind":"exec","argv":["git","push","--force"]}
{"kind":"usage","cost_usd":1.0}
{"kind":"usage","cost_usd":1.0}
EOF
run explain "$OMNIBOX" policy explain --server "$T/server.yaml" --agent "$T/agent.yaml" --session "$T/session.yaml" --events "$T/events.jsonl"
expect_rc explain 0 "explain with three levels"
expect_decision 1 allow "egress.allow[0]" agent "host case, trailing dot and query do not matter"
expect_decision 2 ask "egress.ask[0]" server "server ask beats agent allow"
expect_decision 3 ask "egress.ask[0]" server "the second POST asks at two levels"
[ "$(field 3 reasons.1.rule)" = '"post-twice"' ] && ok "asks merge into one approval with every reason" || fail "line 3 reasons: $(field 3 reasons)"
expect_decision 4 deny "egress.deny[0]" session "session deny short-circuits"
expect_decision 5 deny "egress.deny[0]" server "the metadata range is denied"
expect_decision 6 allow "egress.allow[1]" agent "an explicit CIDR allows loopback"
expect_decision 7 deny special-purpose-address engine "other private addresses stay denied"
expect_decision 8 deny malformed-event engine "2130706433 is refused"
expect_decision 9 allow default engine "exec with no rule: allowed by default"
expect_decision 10 ask budget agent "the budget asks at its threshold"
expect_decision 11 deny budget agent "the budget denies at the cap"
expect_in "$T/explain.out" 'spend $2.00 reached the cost cap of $2.00' "the deny names spend and cap"

# Internationalised names: the CLI's libidn2 (linked into the musl-built
# omnibox) maps a policy's Unicode name and an event's in any case, or in
# fullwidth letters, to the one punycode name.
printf 'egress:\n  allow: ["GET b\303\274cher.example/**"]\n' >"$T/idn.yaml"
cat >"$T/idn.jsonl" <<'EOF'
{"kind":"egress","method":"GET","scheme":"https","host":"xn--bcher-kva.example","path":"/"}
{"kind":"egress","method":"GET","scheme":"https","host":"B\u00dcCHER.example","path":"/"}
{"kind":"egress","method":"GET","scheme":"https","host":"\uff42\u00fccher.example","path":"/"}
{"kind":"egress","method":"GET","scheme":"https","host":"bucher.example","path":"/"}
EOF
run explain "$OMNIBOX" policy explain --agent "$T/idn.yaml" --events "$T/idn.jsonl"
expect_rc explain 0 "explain with an internationalised name"
expect_decision 1 allow "egress.allow[0]" agent "a Unicode policy name matches its punycode"
expect_decision 2 allow "egress.allow[0]" agent "and the name in capitals"
expect_decision 3 allow "egress.allow[0]" agent "and in fullwidth letters"
expect_decision 4 deny default engine "but not the name without its umlaut"

printf '{"kind":"egress"}\n{"kind":"egress",\n' >"$T/badjson.jsonl"
run badjson "$OMNIBOX" policy explain --events "$T/badjson.jsonl"
expect_rc badjson 1 "bad JSON fails explain"
expect_in "$T/badjson.err" "$T/badjson.jsonl:2: not JSON" "the bad line is named"
printf '{"kind":"egress","aprove":true}\n' >"$T/badkey.jsonl"
run badkey "$OMNIBOX" policy explain --events "$T/badkey.jsonl"
expect_rc badkey 1 "a misspelt event key fails explain"
expect_in "$T/badkey.err" "$T/badkey.jsonl:1: unknown key" "the unknown key is reported"
run badpolicy "$OMNIBOX" policy explain --agent "$T/typo.yaml" --events "$T/events.jsonl"
expect_rc badpolicy 1 "explain refuses a bad policy"
expect_in "$T/badpolicy.err" "$T/typo.yaml:6:5:" "with its FILE:LINE:COL"
run noevents "$OMNIBOX" policy explain --agent "$EX/budget.yaml"
expect_rc noevents 2 "explain without --events is a usage error"
"$OMNIBOX" policy explain --agent "$EX/budget.yaml" --events - <"$EX/budget.events.jsonl" >"$T/stdin.out" 2>"$T/stdin.err"
RC=$?
expect_rc stdin 0 "explain reads events from stdin"
[ "$(wc -l <"$T/stdin.out")" -eq 5 ] && ok "five events, five decisions" || fail "stdin: $(wc -l <"$T/stdin.out") lines"

finish
