#!/bin/sh
# e2e_jail.sh OMNIBOX: real clients no one here wrote, inside an
# `omnibox exec --policy` jail, against local fixtures reached through the
# interception as if they were the real hosts:
#   git    clone and push over HTTPS; the server sees the real token, the
#          jail only the placeholder (env, /proc/self/environ, .git/config)
#   npm    install from a registry fixture; then the contextual rule fires:
#          a git push asks - approved over --approvals it succeeds, denied
#          it fails with the rule's reason; both in the audit log
#   claude the real Claude Code CLI (-p, stream-json) against a fake
#          Anthropic API it reaches as https://api.anthropic.com; the jail
#          holds a placeholder ANTHROPIC_API_KEY, the fixture gets the real key
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../fixtures/helpers.sh"
. "$(dirname "$0")/proxy_lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")
need_fixture_tools
[ "$(id -u)" -eq 0 ] || skip "needs root: the fixtures listen on port 443 (git, npm and the CLI use default ports)"
command -v git >/dev/null || skip "git not found"
make_testca
claude_bin || true

# Each fixture on :443 of a loopback address of its own.
B=$(od -An -N2 -tu1 /dev/urandom | awk '{ printf "127.%d.%d", $1 % 250 + 2, $2 % 250 + 2 }')
GIT_ADDR=$B.11 NPM_ADDR=$B.12 API_ADDR=$B.13
TOKEN="ghp_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
KEY="sk-ant-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
start_git_server main --tls "$PKI/origin.pem" "$PKI/origin.key" --bind "$GIT_ADDR" --port 443 \
	--init demo --token "$TOKEN"
start_npm_registry main --tls "$PKI/origin.pem" "$PKI/origin.key" --bind "$NPM_ADDR" --port 443
start_fake_anthropic main --tls "$PKI/origin.pem" "$PKI/origin.key" --bind "$API_ADDR" --port 443 --key "$KEY"
make_workspace

cat >"$T/policy.yaml" <<'EOF'
egress:
  allow:
    - "GET git.test/**"
    - "POST git.test/*.git/git-upload-pack"
    - "POST git.test/*.git/git-receive-pack"
    - "GET,HEAD registry.test/**"
    - "* api.anthropic.com/**"
rules:
  - name: mark-npm-install
    on: egress
    match: {hosts: [registry.test], methods: [GET], paths: ["/**/-/*.tgz"]}
    set: [installed_package]
  - name: push-after-install
    on: egress
    match: {hosts: [git.test], methods: [POST], paths: ["/**/git-receive-pack"]}
    if: installed_package
    decision: ask
    reason: git push after a new npm package was installed
secrets:
  git:
    source: env:E2E_GIT_TOKEN
    placeholder_env: GIT_TOKEN
    inject:
      - {hosts: [git.test], basic_user: x-access-token}
  anthropic:
    source: env:E2E_ANTHROPIC_KEY
    placeholder_env: ANTHROPIC_API_KEY
    inject:
      - {hosts: [api.anthropic.com], header: x-api-key, format: "{secret}"}
EOF

# The jail's script: git, npm, the contextual push, the CLI.
CLAUDE_DIR=""
[ -n "$CLAUDE_BIN" ] && CLAUDE_DIR=$(dirname "$(dirname "$(readlink -f "$CLAUDE_BIN")")")
cat >"$WS/inside.sh" <<EOF
set -u
say() { echo "\$1: \$2"; }
export GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
git config --global user.email jail@omnibox.test && git config --global user.name jail
git config --global credential.helper '!f() { echo username=x-access-token; echo "password=\$GIT_TOKEN"; }; f'
say token-env "\$GIT_TOKEN"
say environ-real \$(tr '\0' '\n' </proc/self/environ | grep -c "$TOKEN")
git clone -q https://git.test/demo.git demo 2>clone.err; say clone \$?
cd demo || exit 1
echo one >one.txt && git add one.txt && git commit -qm one
git push -q origin HEAD:main 2>push1.err; say push-before-npm \$?
say gitconfig-real \$(grep -c "$TOKEN" .git/config)
cd ..
mkdir app && cd app && npm init -y >/dev/null 2>&1
npm install --no-audit --no-fund --registry https://registry.test/ omnigent-hello >npm.out 2>npm.err; say npm \$?
say npm-installed \$(test -f node_modules/omnigent-hello/package.json && echo yes || echo no)
cd ../demo
echo two >two.txt && git add two.txt && git commit -qm two
git push -q origin HEAD:main 2>push2.err; say push-approved \$?
echo three >three.txt && git add three.txt && git commit -qm three
git push -q origin HEAD:main 2>push3.err; say push-denied \$?
say push-denied-reason "\$(tr '\n' ' ' <push3.err | head -c 300)"
if [ -n "$CLAUDE_DIR" ]; then
	cd .. && $CLAUDE_TEST_ENV HOME=\$HOME "$CLAUDE_DIR/bin/claude.exe" -p "say hi" \\
		--output-format stream-json --verbose >claude.out 2>claude.err
	say claude \$?
	say claude-key "\$ANTHROPIC_API_KEY"
fi
EOF
chmod 755 "$WS/inside.sh"
own_workspace

# The approver: approves the first ask (the push after npm), denies the second.
SOCK="$T/approvals.sock"
"$PY" - "$SOCK" >"$T/approver.out" 2>&1 <<'EOF' &
import json, os, socket, sys, time
deadline = time.time() + 240
while not os.path.exists(sys.argv[1]) and time.time() < deadline:
    time.sleep(0.05)
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
answers = ["approve %d once", "deny %d"]
seen = set()
while answers and time.time() < deadline:
    f.write("list\n"); f.flush()
    for q in json.loads(f.readline()).get("pending", []):
        if q["id"] not in seen and answers:
            seen.add(q["id"])
            f.write(answers.pop(0) % q["id"] + "\n"); f.flush()
            print(q["method"], q["path"], q["rule"], f.readline().strip())
    time.sleep(0.05)
EOF
apid=$!
at_exit "kill $apid 2>/dev/null"

RO=""
[ -n "$CLAUDE_DIR" ] && RO="--ro $CLAUDE_DIR"
cd "$WS" || die "cd"
# shellcheck disable=SC2086 # $RO is an option and its value
E2E_GIT_TOKEN=$TOKEN E2E_ANTHROPIC_KEY=$KEY timeout 300 "$OMNIBOX" exec --workspace "$WS" $RO \
	--policy "$T/policy.yaml" --audit "$T/audit.jsonl" --ca "$T/ca" --approvals "$SOCK" \
	--upstream-ca "$PKI/ca.pem" --allow-cidr "$B.0/24" --resolve "git.test:443:$GIT_ADDR" \
	--resolve "registry.test:443:$NPM_ADDR" --resolve "api.anthropic.com:443:$API_ADDR" \
	--memory 2G --pids 2048 -- sh ./inside.sh >"$T/inside.out" 2>"$T/inside.err"
rc=$?
cd / || true
AUDIT="$T/audit.jsonl"
note "jail output: $(tr '\n' '|' <"$T/inside.out")"
[ "$rc" -eq 0 ] && ok "the jailed script ran" || fail "exec exit $rc: $(tail -5 "$T/inside.err")"
got() { sed -n "s/^$1: //p" "$T/inside.out"; }
expect() {
	if got "$1" | grep -Eqx -- "$2"; then ok "$3: $(got "$1" | cut -c1-80)"; else fail "$3: got '$(got "$1")' (want $2)"; fi
}
expect token-env "ombx_ph_[0-9a-f]{32}" "git: the jail's GIT_TOKEN is a placeholder"
expect environ-real 0 "git: the real token is not in /proc/self/environ"
expect clone 0 "git clone over HTTPS through the proxy"
expect push-before-npm 0 "git push before any npm install: allowed"
expect gitconfig-real 0 "git: the real token is not in .git/config"
log_has() { grep -q "$1" "$T/git-main.log"; }
"$PY" - "$T/git-main.log" "$TOKEN" >"$T/git-auth" <<'EOF'
import base64, json, sys
want = "Basic " + base64.b64encode(("x-access-token:" + sys.argv[2]).encode()).decode()
n = sum(1 for l in open(sys.argv[1]) if json.loads(l).get("authorization") == want)
print(n)
EOF
[ "$(cat "$T/git-auth")" -ge 1 ] && ok "the git server received the real token ($(cat "$T/git-auth") requests)" ||
	fail "the git server never saw the real token"
expect npm 0 "npm install from the registry fixture through the proxy"
expect npm-installed yes "npm: the package is in node_modules"
expect push-approved 0 "after npm install, git push asks; approved over --approvals it succeeds"
expect push-denied "[1-9][0-9]*" "a second push asks again; denied, it fails"
# git shows no HTTP error body: the client sees the 403, the log the reason
case $(got push-denied-reason) in
*"403"*) ok "the denied push fails with the proxy's 403" ;;
*) fail "denied push output: $(got push-denied-reason)" ;;
esac
"$PY" - "$T/audit.jsonl" >"$T/deny-reason" <<'EOF'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("rule") == "push-after-install" and r.get("status") == 403:
        print(r.get("reason"))
EOF
grep -q "git push after a new npm package was installed; denied by control socket uid=" "$T/deny-reason" &&
	ok "its record names the rule's reason and who denied it: $(head -1 "$T/deny-reason")" ||
	fail "denied push record reason: $(cat "$T/deny-reason")"
[ "$(records_matching decision=ask rule=push-after-install status=200)" -ge 1 ] &&
	[ "$(records_matching decision=ask rule=push-after-install status=403)" -ge 1 ] &&
	ok "the approved and the denied push are both in the audit log" ||
	fail "ask records: $(grep -c push-after-install "$AUDIT")"
if [ -n "$CLAUDE_DIR" ]; then
	expect claude 0 "the real Claude Code CLI ran in the jail"
	res=$(claude_result "$WS/claude.out" 2>&1)
	[ "$res" = "Hello from the fake API" ] && ok "its stream-json result parses: $res" ||
		fail "claude result: $res $(tail -c 400 "$WS/claude.err")"
	expect claude-key "ombx_ph_[0-9a-f]{32}" "the jail's ANTHROPIC_API_KEY is a placeholder"
	"$PY" - "$T/api-main.log" "$KEY" >"$T/api-key" <<'EOF'
import json, sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("x_api_key", json.loads(l).get("x-api-key")) == sys.argv[2]))
EOF
	[ "$(cat "$T/api-key")" -ge 1 ] && ok "the fake API received the real key" ||
		fail "the fake API never saw the real key: $(head -c 300 "$T/api-main.log")"
fi
grep -q -e "$TOKEN" -e "$KEY" "$T/inside.out" "$T/inside.err" "$AUDIT" &&
	fail "a secret leaked into the jail's output or the audit log" ||
	ok "neither secret is in the jail's output or the audit log"
run verify "$OMNIBOX" audit "$AUDIT" --verify
expect_rc verify 0 "the audit log verifies"
finish
