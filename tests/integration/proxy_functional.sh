#!/bin/sh
# proxy_functional.sh OMNIBOX: `omnibox proxy` intercepting TLS for real
# clients (curl, Python's urllib, a WebSocket client, openssl s_client)
# against the local origin fixture: GET, POST, chunked both ways, a 100 MB
# body each way, keep-alive reuse on both sides, WebSocket echo, a leaf
# minted once per name then cached, a bad or expired upstream certificate
# answered 502 naming why, plain absolute-form HTTP, redirects passed back
# and never followed. Every request leaves one audit record; the log verifies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../fixtures/helpers.sh"
. "$(dirname "$0")/proxy_lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")
need_fixture_tools
make_testca

start_origin good --tls "$PKI/origin.pem" "$PKI/origin.key"
OP=$ORIGIN_PORT
start_origin bad --tls "$PKI/bad.pem" "$PKI/bad.key"
BP=$ORIGIN_PORT
start_origin expired --tls "$PKI/expired.pem" "$PKI/expired.key"
EP=$ORIGIN_PORT
start_origin plain
PP=$ORIGIN_PORT

cat >"$T/policy.yaml" <<EOF
egress:
  allow:
    - "* origin.test/**"
    - "* other.test/**"
    - "* ws.test/**"
    - "GET bad.test/**"
    - "GET expired.test/**"
    - "GET,POST plain.test/**"
EOF
start_proxy f "$T/policy.yaml" --upstream-ca "$PKI/ca.pem" --allow-cidr 127.0.0.0/8 \
	--resolve "origin.test:$OP:127.0.0.1" --resolve "other.test:$OP:127.0.0.1" \
	--resolve "ws.test:$OP:127.0.0.1" --resolve "bad.test:$BP:127.0.0.1" \
	--resolve "expired.test:$EP:127.0.0.1" --resolve "plain.test:$PP:127.0.0.1"
CURL="curl -sS --max-time 60 -x http://$PROXY --cacert $PROXY_CA/ca.pem"
U="https://origin.test:$OP"

# ---- GET ----
$CURL "$U/echo?q=1" -o "$T/get.json" -w '%{http_code}' >"$T/get.code" 2>"$T/get.err"
[ "$(cat "$T/get.code")" = 200 ] && ok "GET through the interception: 200" ||
	fail "GET: $(cat "$T/get.code") $(cat "$T/get.err")"
jq_get() { "$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }
[ "$(jq_get "$T/get.json" "['path']")" = "/echo?q=1" ] && ok "the origin saw the path and query" ||
	fail "origin path: $(cat "$T/get.json")"
[ "$(jq_get "$T/get.json" "['sni']")" = "origin.test" ] && ok "upstream SNI is the canonical name" ||
	fail "upstream SNI: $(jq_get "$T/get.json" "['sni']")"
expect_record "GET recorded" decision=allow status=200 method=GET path=/echo?REDACTED \
	sni=origin.test resolved="127.0.0.1:$OP" rule="egress.allow[0]"

# ---- POST, chunked upload ----
head -c 300000 /dev/urandom >"$T/body"
SUM=$(sha256sum <"$T/body" | cut -d' ' -f1)
$CURL "$U/echo" --data-binary @"$T/body" -o "$T/post.json" 2>"$T/post.err"
[ "$(jq_get "$T/post.json" "['body_sha256']")" = "$SUM" ] && ok "POST body arrives intact" ||
	fail "POST body: $(cat "$T/post.json" "$T/post.err")"
$CURL "$U/echo" -H 'Transfer-Encoding: chunked' --data-binary @"$T/body" -o "$T/chunk.json" 2>"$T/chunk.err"
[ "$(jq_get "$T/chunk.json" "['body_sha256']")" = "$SUM" ] && ok "chunked upload arrives intact" ||
	fail "chunked upload: $(cat "$T/chunk.json" "$T/chunk.err")"

# ---- chunked download, 100 MB each way ----
$CURL "$U/chunked?n=50&size=1000" -o "$T/chunked.out" 2>"$T/chunked.err"
[ "$(wc -c <"$T/chunked.out")" -eq 50000 ] && ok "chunked response relayed (50 x 1000 bytes)" ||
	fail "chunked response: $(wc -c <"$T/chunked.out") bytes $(cat "$T/chunked.err")"
head -c 100000000 /dev/zero | tr '\0' 'a' >"$T/big"
$CURL -T "$T/big" "$U/echo" -o "$T/big.json" 2>"$T/big.err"
[ "$(jq_get "$T/big.json" "['body_len']")" = 100000000 ] && ok "a 100 MB request body is streamed through" ||
	fail "100 MB upload: $(cat "$T/big.json" "$T/big.err")"
rm -f "$T/big"
$CURL "$U/bytes?n=100000000" -o /dev/null -w '%{size_download}' >"$T/dl.size" 2>"$T/dl.err"
[ "$(cat "$T/dl.size")" = 100000000 ] && ok "a 100 MB response body is streamed through" ||
	fail "100 MB download: $(cat "$T/dl.size") $(cat "$T/dl.err")"

# ---- keep-alive: two requests, one client connection, one upstream connection ----
$CURL "$U/echo?a" "$U/echo?b" -o "$T/ka1.json" -o "$T/ka2.json" 2>"$T/ka.err"
c1=$(jq_get "$T/ka1.json" "['conn']")
c2=$(jq_get "$T/ka2.json" "['conn']")
[ -n "$c1" ] && [ "$c1" = "$c2" ] && ok "keep-alive: both requests reused one upstream connection" ||
	fail "keep-alive upstream: conn $c1 then $c2"
r1=$(record 2 conn req)
r2=$(record 1 conn req)
[ "${r1%	*}" = "${r2%	*}" ] && [ "${r1#*	}" = 1 ] && [ "${r2#*	}" = 2 ] &&
	ok "keep-alive: one client connection, requests 1 and 2 each recorded" ||
	fail "keep-alive records: '$r1' '$r2'"

# ---- a client library ----
"$PY" - "$PROXY" "$PROXY_CA/ca.pem" "$U/echo?lib" >"$T/urllib.out" 2>&1 <<'EOF'
import json, ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
op = urllib.request.build_opener(urllib.request.ProxyHandler({"https": "http://" + sys.argv[1]}),
                                 urllib.request.HTTPSHandler(context=ctx))
r = op.open(urllib.request.Request(sys.argv[3], data=b"x" * 1000, method="PUT"), timeout=30)
print(r.status, json.load(r)["body_len"])
EOF
[ "$(cat "$T/urllib.out")" = "200 1000" ] && ok "Python urllib PUT through the proxy" ||
	fail "urllib: $(cat "$T/urllib.out")"

# ---- WebSocket ----
"$PY" "$FIXTURES/ws_client.py" "wss://ws.test:$OP/ws" --proxy "$PROXY" --cafile "$PROXY_CA/ca.pem" \
	>"$T/ws.out" 2>&1 && ok "WebSocket echo through the interception" || fail "WebSocket: $(cat "$T/ws.out")"

# ---- leaves: one per name, minted once ----
serial() {
	openssl s_client -proxy "$PROXY" -connect "$1:$OP" -servername "$1" </dev/null 2>/dev/null |
		openssl x509 -noout -serial 2>/dev/null
}
s1=$(serial origin.test)
s2=$(serial origin.test)
s3=$(serial other.test)
[ -n "$s1" ] && [ "$s1" = "$s2" ] && ok "a name's leaf is minted once, then cached ($s1)" ||
	fail "leaf cache: '$s1' then '$s2'"
[ -n "$s3" ] && [ "$s3" != "$s1" ] && ok "another name gets its own leaf" || fail "leaf per name: '$s3'"

# ---- bad upstream certificates ----
$CURL "https://bad.test:$BP/echo" -o "$T/bad.out" -w '%{http_code}' >"$T/bad.code" 2>/dev/null
[ "$(cat "$T/bad.code")" = 502 ] && grep -q "did not verify" "$T/bad.out" &&
	ok "an untrusted upstream certificate is a 502 saying why: $(cat "$T/bad.out")" ||
	fail "bad cert: $(cat "$T/bad.code") $(cat "$T/bad.out")"
expect_record "bad certificate recorded" status=502 sni=bad.test
$CURL "https://expired.test:$EP/echo" -o "$T/exp.out" -w '%{http_code}' >"$T/exp.code" 2>/dev/null
[ "$(cat "$T/exp.code")" = 502 ] && grep -q "expired" "$T/exp.out" &&
	ok "an expired upstream certificate is a 502 saying so" ||
	fail "expired cert: $(cat "$T/exp.code") $(cat "$T/exp.out")"

# ---- plain HTTP, absolute-form ----
curl -sS --max-time 30 -x "http://$PROXY" "http://plain.test:$PP/echo?p" -o "$T/plain.json" 2>"$T/plain.err"
[ "$(jq_get "$T/plain.json" "['tls']")" = False ] && ok "absolute-form plain HTTP is forwarded" ||
	fail "plain: $(cat "$T/plain.json" "$T/plain.err")"
expect_record "plain request recorded" decision=allow status=200 method=GET host="plain.test:$PP"

# ---- redirects go back to the client, never followed ----
before=$(curl -sS --cacert "$PKI/ca.pem" --resolve "origin.test:$OP:127.0.0.1" "$U/count")
$CURL "$U/redirect?to=https://other.test:$OP/echo" -o /dev/null -w '%{http_code} %{redirect_url}' \
	>"$T/redir.out" 2>&1
after=$(curl -sS --cacert "$PKI/ca.pem" --resolve "origin.test:$OP:127.0.0.1" "$U/count")
req_n() { echo "$1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["requests"])'; }
[ "$(cat "$T/redir.out")" = "302 https://other.test:$OP/echo" ] &&
	[ $(($(req_n "$after") - $(req_n "$before"))) -eq 1 ] &&
	ok "a 302 is passed to the client and not followed" ||
	fail "redirect: $(cat "$T/redir.out"); origin requests $(req_n "$before") -> $(req_n "$after")"

# ---- the log ----
run verify "$OMNIBOX" audit "$AUDIT" --verify
expect_rc verify 0 "the audit log verifies"

# ---- bad flags: refused before listening, saying which flag and why ----
# badflag NAME WANT_RC TEXT ARGS...: omnibox proxy ARGS exits WANT_RC and its
# stderr contains TEXT
badflag() {
	_bn=$1 _brc=$2 _bt=$3
	shift 3
	run "bad-$_bn" "$OMNIBOX" proxy --policy "$T/policy.yaml" --audit "$T/bad.jsonl" \
		--ca "$T/ca-bad" "$@"
	if [ "$RC" -eq "$_brc" ] && grep -qF -- "$_bt" "$T/bad-$_bn.err"; then
		ok "bad flag $_bn: exit $RC, '$(head -n 1 "$T/bad-$_bn.err" | cut -c1-80)'"
	else
		fail "bad flag $_bn: exit $RC, stderr '$(head -n 1 "$T/bad-$_bn.err")'"
	fi
}
badflag unknown 2 "unrecognized option '--bogus'" --listen 127.0.0.1:0 --bogus
badflag listen 125 '--listen "nonsense": expected ADDR:PORT' --listen nonsense
badflag port 125 '--listen "127.0.0.1:99999"' --listen 127.0.0.1:99999
badflag resolve 2 '--resolve "bad": expected HOST:PORT:ADDRESS' --listen 127.0.0.1:0 --resolve bad
badflag cidr 2 'prefix length /99' --listen 127.0.0.1:0 --allow-cidr 10.0.0.0/99
badflag max-conns 2 "--max-conns wants 1 to 100000" --listen 127.0.0.1:0 --max-conns x
badflag workers-0 2 "--workers wants 1 to 16" --listen 127.0.0.1:0 --workers 0
badflag workers-17 2 "--workers wants 1 to 16" --listen 127.0.0.1:0 --workers 17
badflag ask-timeout 2 "--ask-timeout wants" --listen 127.0.0.1:0 --ask-timeout 0
badflag policy 125 "cannot open policy" --listen 127.0.0.1:0 --policy "$T/missing.yaml"
[ ! -e "$T/bad.jsonl" ] && [ ! -e "$T/ca-bad" ] && ok "no refused start left an audit log or a CA behind" ||
	fail "a refused start wrote $(ls -d "$T/bad.jsonl" "$T/ca-bad" 2>/dev/null)"
finish
