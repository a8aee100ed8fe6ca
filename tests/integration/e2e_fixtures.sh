#!/bin/sh
# e2e_fixtures.sh: the self-test of the end-to-end fixtures, no proxy
# involved: git_server.py driven by git (clone, push with and without the
# token), npm_registry.py by npm (install), fake_anthropic.py by curl and by
# the real Claude Code CLI of tests/e2e (installed first by its install.sh).
# Skips (77) only when python3, openssl, curl, git, node or npm is missing; an
# npm registry that cannot be reached is a failure.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../fixtures/helpers.sh"
need_fixture_tools
command -v git >/dev/null 2>&1 || skip "git not found: apt-get install git"
command -v node >/dev/null 2>&1 || skip "node not found: scripts/install-deps installs it"
command -v npm >/dev/null 2>&1 || skip "npm not found: scripts/install-deps installs it"

# The install of the real CLI comes first; without it the CLI part fails.
claude_bin

# Hermetic clients: nothing from this machine's CA settings, git config or
# credential helpers; every client is given the test CA explicitly.
unset GIT_SSL_CAINFO GIT_SSL_CAPATH CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR NODE_EXTRA_CA_CERTS \
	GIT_ASKPASS SSH_ASKPASS HTTPS_PROXY https_proxy HTTP_PROXY http_proxy ALL_PROXY all_proxy
HOME=$T/home GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0
export HOME GIT_CONFIG_NOSYSTEM GIT_TERMINAL_PROMPT
mkdir -p "$HOME"
make_testca
CA=$PKI/ca.pem
TLS="--tls $PKI/origin.pem $PKI/origin.key"
# not_zero NAME WHAT: the run NAME failed, as it should.
not_zero() { if [ "$RC" -ne 0 ]; then ok "$2 (exit $RC)"; else fail "$2: exit 0" && show "$1"; fi; }
# expect_count FILE EXPR WANT WHAT: log_count FILE EXPR is WANT ("+" = at least one).
expect_count() {
	_n=$(log_count "$1" "$2")
	if { [ "$3" = + ] && [ "$_n" -gt 0 ]; } || [ "$_n" = "$3" ]; then
		ok "$4 ($_n)"
	else
		fail "$4: $_n log lines where $2, expected $3"
		sed 's/^/    ! /' "$1" | cut -c1-400
	fi
}

# ---- git_server.py ----
TOKEN=ghs_omnigent_test_$$
B64=$(printf 'x-access-token:%s' "$TOKEN" | base64 | tr -d '\n')
make_bare_repo "$T/repos" demo
[ -f "$T/repos/demo.git/HEAD" ] && ok "make_bare_repo: demo.git" || fail "make_bare_repo made no demo.git"
# shellcheck disable=SC2086 # $TLS is two options
start_git_server main --root "$T/repos" $TLS --token "$TOKEN"
GP=$GIT_PORT
GLOG=$T/git-main.log
g() {
	git -c http.sslCAInfo="$CA" -c "http.curloptResolve=git.test:$GP:127.0.0.1" \
		-c user.name=tester -c user.email=tester@omnigent.test -c init.defaultBranch=main "$@"
}
URL=https://git.test:$GP/demo.git
run clone g clone -q "$URL" "$T/c1"
expect_rc clone 0 "git clone https://git.test:PORT/demo.git (http.curloptResolve)"
expect_in "$T/c1/README.md" "hello from demo" "the clone has the initial commit"
expect_count "$GLOG" 'd["service"] == "git-upload-pack" and d["status"] == 200 and d["sni"] == "git.test"' + \
	"log: upload-pack requests, SNI git.test"
expect_count "$GLOG" 'd["service"] == "git-upload-pack" and d["auth_present"]' 0 "log: clone sent no Authorization"
# 3 MB of random data: more than http.postBuffer, so git posts it chunked.
head -c 3000000 /dev/urandom >"$T/c1/blob"
g -C "$T/c1" add blob && g -C "$T/c1" commit -q -m "3 MB blob" || die "git commit failed"
HEAD1=$(g -C "$T/c1" rev-parse HEAD)

run push_none g -C "$T/c1" push origin main
not_zero push_none "push without credentials fails"
expect_in "$T/push_none.err" "could not read Username" "git was asked for credentials (401)"
expect_count "$GLOG" 'd["service"] == "git-receive-pack" and d["status"] == 401 and not d["auth_present"]' + \
	"log: receive-pack without Authorization got 401"
# helper TOKEN: a credential helper that answers x-access-token:TOKEN.
helper() { echo "credential.helper=!f() { echo username=x-access-token; echo password=$1; }; f"; }
run push_bad g -c "$(helper wrong-token)" -C "$T/c1" push origin main
not_zero push_bad "push with a wrong token fails"
expect_count "$GLOG" 'd["service"] == "git-receive-pack" and d["status"] == 401 and d["auth_ok"] is False and d["auth_present"]' + \
	"log: a wrong token is logged as present and not matching"
[ "$(git --git-dir="$T/repos/demo.git" rev-parse main)" != "$HEAD1" ] && ok "the refused pushes changed nothing" ||
	fail "a refused push landed"

run push_ok g -c "$(helper "$TOKEN")" -C "$T/c1" push origin main
expect_rc push_ok 0 "push with the token (credential helper)"
expect_count "$GLOG" "d['path'].endswith('/git-receive-pack') and d['method'] == 'POST' and d['auth_ok'] and d['authorization'] == 'Basic $B64'" + \
	"log: the receive-pack POST carried Basic base64(x-access-token:TOKEN)"
expect_count "$GLOG" "d['method'] == 'POST' and d['service'] == 'git-receive-pack' and d['chunked'] and d['body_len'] > 3000000 and d['status'] == 200" 1 \
	"log: the 3 MB pack came chunked and was taken"
[ "$(git --git-dir="$T/repos/demo.git" rev-parse main)" = "$HEAD1" ] && ok "the server's main is the pushed commit" ||
	fail "the server's main is not $HEAD1"

echo second >"$T/c1/second"
g -C "$T/c1" add second && g -C "$T/c1" commit -q -m second || die "git commit failed"
run push_url g -C "$T/c1" push "https://x-access-token:$TOKEN@git.test:$GP/demo.git" main
expect_rc push_url 0 "push with the token as URL userinfo"
run clone2 g clone -q "$URL" "$T/c2"
expect_rc clone2 0 "a second clone"
[ "$(g -C "$T/c2" rev-parse HEAD)" = "$(g -C "$T/c1" rev-parse HEAD)" ] && ok "it has both pushed commits" ||
	fail "the second clone is not at the pushed commit"
if [ "$(id -u)" -eq 0 ]; then
	A443=127.0.0.$((2 + $$ % 250))
	# shellcheck disable=SC2086
	start_git_server p443 --root "$T/repos" --bind "$A443" --port 443 $TLS
	run ls443 git -c http.sslCAInfo="$CA" -c "http.curloptResolve=git.test:443:$A443" ls-remote https://git.test/demo.git
	expect_rc ls443 0 "git ls-remote https://git.test/demo.git (port 443 on $A443, as root)"
	expect_in "$T/ls443.out" "$(g -C "$T/c1" rev-parse HEAD)" "it lists the pushed main"
fi

# ---- npm_registry.py ----
# npm reads only the files named here: nothing from this machine's npmrc.
: >"$T/npmrc.user"
: >"$T/npmrc.global"
npmc() {
	NPM_CONFIG_USERCONFIG=$T/npmrc.user NPM_CONFIG_GLOBALCONFIG=$T/npmrc.global \
		npm --cache "$T/npmcache" --prefer-online --no-audit --no-fund --no-update-notifier \
		--fetch-retries=0 "$@"
}
newproj() { mkdir -p "$T/$1" && echo "{\"name\":\"$1\",\"version\":\"1.0.0\",\"private\":true}" >"$T/$1/package.json"; }
# shellcheck disable=SC2086
start_npm_registry main $TLS
NP=$NPM_PORT
NLOG=$T/npm-main.log
newproj p1
run npm1 npmc --prefix "$T/p1" install --registry "https://127.0.0.1:$NP/" --cafile "$CA" omnigent-hello
expect_rc npm1 0 "npm install omnigent-hello (--registry https://127.0.0.1:PORT/, --cafile)"
run hello node -e 'console.log(require(process.argv[1])())' "$T/p1/node_modules/omnigent-hello"
expect_in "$T/hello.out" "hello from omnigent-hello 1.1.0 with dep 1.0.0" "the installed package and its dependency run"
expect_in "$T/p1/package-lock.json" '"integrity": "sha512-' "the lock file has the integrity"
expect_count "$NLOG" 'd["path"] == "/omnigent-hello" and d["status"] == 200' + "log: the packument"
expect_count "$NLOG" 'd["path"] == "/omnigent-hello/-/omnigent-hello-1.1.0.tgz" and d["status"] == 200' 1 "log: the tarball"
expect_count "$NLOG" 'd["path"] == "/omnigent-dep/-/omnigent-dep-1.0.0.tgz" and d["status"] == 200' 1 "log: the dependency's tarball"
run pack curl -sS --cacert "$CA" --resolve "registry.test:$NP:127.0.0.1" "https://registry.test:$NP/omnigent-dep"
expect_in "$T/pack.out" "\"tarball\": \"https://registry.test:$NP/omnigent-dep/-/omnigent-dep-1.0.0.tgz\"" \
	"dist.tarball follows the Host the registry was reached under"

NTOKEN=npm_omnigent_test_$$
# shellcheck disable=SC2086
start_npm_registry auth $TLS --token "$NTOKEN"
NP2=$NPM_PORT
newproj p2
NODE_EXTRA_CA_CERTS=$CA
export NODE_EXTRA_CA_CERTS
run npm_noauth npmc --prefix "$T/p2" install --registry "https://127.0.0.1:$NP2/" omnigent-dep
not_zero npm_noauth "npm install from a registry with --token, without the token, fails"
run npm_auth npmc --prefix "$T/p2" install --registry "https://127.0.0.1:$NP2/" \
	"--//127.0.0.1:$NP2/:_authToken=$NTOKEN" omnigent-dep
unset NODE_EXTRA_CA_CERTS
expect_rc npm_auth 0 "npm install with the token (_authToken), the CA from NODE_EXTRA_CA_CERTS"
expect_count "$T/npm-auth.log" 'd["status"] == 401 and d["authorization"] is None' + "log: 401 without Authorization"
expect_count "$T/npm-auth.log" "d['path'].endswith('.tgz') and d['authorization'] == 'Bearer $NTOKEN' and d['auth_ok']" 1 \
	"log: the tarball request carried Bearer TOKEN"

# ---- fake_anthropic.py, with curl ----
# shellcheck disable=SC2086
start_fake_anthropic main $TLS
AP=$API_PORT
ALOG=$T/api-main.log
ac() { _an=$1; shift; run "$_an" curl -sS --cacert "$CA" --resolve "api.anthropic.com:$AP:127.0.0.1" \
	-H "x-api-key: sk-ant-curl" -H "anthropic-version: 2023-06-01" -H "content-type: application/json" "$@"; }
AU=https://api.anthropic.com:$AP
REQ='{"model":"claude-test","max_tokens":64,"messages":[{"role":"user","content":"say hi"}]'
ac sse -d "$REQ,\"stream\":true}" "$AU/v1/messages?beta=true"
expect_rc sse 0 "POST /v1/messages?beta=true, stream"
"$PY" - "$T/sse.out" >"$T/sse.check" 2>&1 <<'EOF'
import json, sys
events, text, cur = [], "", None
for line in open(sys.argv[1]).read().split("\n"):
    if line.startswith("event: "):
        cur = line[7:]
    elif line.startswith("data: "):
        d = json.loads(line[6:])
        assert d["type"] == cur, (cur, d)
        events.append(cur)
        if cur == "content_block_delta":
            text += d["delta"]["text"]
        if cur == "message_delta":
            assert d["delta"]["stop_reason"] == "end_turn" and d["usage"]["output_tokens"] > 0, d
want = ["message_start", "content_block_start", "ping"]
assert events[:3] == want and events[-3:] == ["content_block_stop", "message_delta", "message_stop"], events
assert set(events[3:-3]) == {"content_block_delta"}, events
print("text=" + text)
EOF
expect_in "$T/sse.check" "text=Hello from the fake API" "the SSE stream: every event in order, the text"
ac json -d "$REQ}" "$AU/v1/messages"
expect_json "$T/json.out" content.0.text '"Hello from the fake API"' "non-stream: JSON message"
expect_json "$T/json.out" stop_reason '"end_turn"' "non-stream: stop_reason"
ac ct -d "$REQ}" "$AU/v1/messages/count_tokens?beta=true"
case $(json_get "$T/ct.out" input_tokens) in [1-9]*) ok "count_tokens: input_tokens" ;; *) fail "count_tokens: $(cat "$T/ct.out")" ;; esac
ac nf -o /dev/null -w '%{http_code}' "$AU/v1/nothing"
expect_in "$T/nf.out" 404 "anything else: 404"
expect_count "$ALOG" 'd["x_api_key"] == "sk-ant-curl" and d["sni"] == "api.anthropic.com"' 4 "log: the x-api-key of each request"
expect_count "$ALOG" 'd["stream"] is True and d["model"] == "claude-test" and d["prompt"] == "say hi"' 1 "log: model, stream, prompt"
# shellcheck disable=SC2086
start_fake_anthropic keyed $TLS --key sk-ant-right
run badkey curl -sS --cacert "$CA" -H "x-api-key: sk-ant-wrong" -d "$REQ}" "https://127.0.0.1:$API_PORT/v1/messages"
expect_json "$T/badkey.out" error.type '"authentication_error"' "--key: a wrong key gets authentication_error"

# ---- the real Claude Code CLI against fake_anthropic.py ----
if [ -n "$CLAUDE_BIN" ]; then
	KEY=sk-ant-api03-omnigent-test-$$
	# shellcheck disable=SC2086
	start_fake_anthropic cli $TLS --key "$KEY"
	CLOG=$T/api-cli.log
	mkdir -p "$T/chome" "$T/cwork"
	# claude NAME KEY: the CLI in an empty directory, with nothing of our environment.
	claude() {
		cd "$T/cwork" || die "cd"
		# shellcheck disable=SC2086 # $CLAUDE_TEST_ENV is a list of assignments
		run "$1" env -i PATH="$PATH" HOME="$T/chome" ANTHROPIC_BASE_URL="https://127.0.0.1:$API_PORT" \
			ANTHROPIC_API_KEY="$2" NODE_EXTRA_CA_CERTS="$CA" $CLAUDE_TEST_ENV \
			timeout -k 5 120 "$CLAUDE_BIN" -p "say hi" --output-format stream-json --verbose
		cd - >/dev/null || die "cd -"
	}
	claude cli "$KEY"
	expect_rc cli 0 "claude -p --output-format stream-json against the fake API"
	if claude_result "$T/cli.out" >"$T/cli.result" 2>"$T/cli.reason"; then
		expect_in "$T/cli.result" "Hello from the fake API" "the final result is the fixture's text"
	else
		fail "stream-json: $(cat "$T/cli.reason")"
		show cli
	fi
	expect_count "$CLOG" "d['method'] == 'POST' and d['path'].startswith('/v1/messages') and d['x_api_key'] == '$KEY' and d['status'] == 200" + \
		"log: the CLI's Messages request carried the real key"
	expect_count "$CLOG" "d['x_api_key'] not in (None, '$KEY')" 0 "log: no other key reached the fixture"
	expect_count "$CLOG" "not d['path'].startswith('/v1/messages')" 0 "log: nothing but the Messages API was called"
	claude cli_bad sk-ant-api03-wrong
	not_zero cli_bad "the CLI with a wrong key fails (at once: CLAUDE_CODE_MAX_RETRIES=0)"
	expect_in "$T/cli_bad.out" '"api_error_status":401' "its result reports the 401"
	note "the CLI called: $("$PY" -c 'import json, sys
print(", ".join("%s %s %s" % (d["method"], d["path"], d["status"]) for d in map(json.loads, open(sys.argv[1]))))' "$CLOG")"
fi
finish
