#!/bin/sh
# proxy_hostile.sh OMNIBOX: a hostile client against `omnibox proxy`. Each
# case sends exact bytes (tests/fixtures/rawclient.py) and asserts both the
# status the client got and the audit record the proxy wrote: special and
# private addresses in every spelling, names pinned to loopback without
# --allow-cidr, authority mismatches (CONNECT / SNI / Host), request
# smuggling shapes, header and chunk abuse, a placeholder sent where its
# secret is not bound, a bound host echoing the secret back, redirects,
# per-request decisions on one connection, the proxy itself, slowloris,
# the connection cap and 1,000 idle tunnels.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../fixtures/helpers.sh"
. "$(dirname "$0")/proxy_lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")
need_fixture_tools
make_testca
start_origin good --tls "$PKI/origin.pem" "$PKI/origin.key"
OP=$ORIGIN_PORT

SECRET="s3cr3t-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
cat >"$T/policy.yaml" <<EOF
egress:
  allow:
    - "GET,HEAD origin.test/**"
    - "GET,POST echo.test/**"
    - "GET other.test/**"
    - "GET redirect.test/**"
    - "GET loop.test/**"
secrets:
  tok:
    source: env:OMBX_TEST_SECRET
    placeholder_env: TEST_TOKEN
    inject:
      - {hosts: [echo.test], header: Authorization, format: "Bearer {secret}"}
EOF
# loop.test is pinned to loopback but 127.0.0.0/8 is not opened for it:
# --allow-cidr opens exactly 127.0.0.1/32, and loop.test points at 127.0.0.2.
OMBX_TEST_SECRET=$SECRET start_proxy h "$T/policy.yaml" --upstream-ca "$PKI/ca.pem" \
	--allow-cidr 127.0.0.1/32 --max-conns 1200 \
	--resolve "origin.test:$OP:127.0.0.1" --resolve "echo.test:$OP:127.0.0.1" \
	--resolve "other.test:$OP:127.0.0.1" --resolve "redirect.test:$OP:127.0.0.1" \
	--resolve "loop.test:$OP:127.0.0.2"
PH=$(placeholder TEST_TOKEN)
[ -n "$PH" ] || die "no placeholder for TEST_TOKEN"
RAW="$PY $FIXTURES/rawclient.py $PROXY --timeout 5"
H="Host: origin.test:$OP"

# hostile NAME STATUS EVENT ARGS...: rawclient ARGS; first line must be STATUS
# and the last audit record's event (request|refused) EVENT and status.
hostile() {
	_n=$1 _want=$2 _ev=$3
	shift 3
	_before=$(wc -l <"$AUDIT")
	$RAW "$@" >"$T/h-$_n.out" 2>&1
	_got=$(head -n 1 "$T/h-$_n.out")
	case $_got in
	"$_want"*) ;;
	*) fail "$_n: client got '$_got', expected $_want ($(sed -n 2,12p "$T/h-$_n.out" | tr '\r\n' '  '))"; return ;;
	esac
	# the record is written before or just after the reply; give it a moment
	_i=0
	while [ "$(wc -l <"$AUDIT")" -le "$_before" ] && [ $_i -lt 40 ]; do sleep 0.05; _i=$((_i + 1)); done
	[ "$(wc -l <"$AUDIT")" -gt "$_before" ] || { fail "$_n: no audit record"; return; }
	_rs=$(record event status reason)
	_re=$(echo "$_rs" | cut -f1)
	[ "$_re" = "-" ] && _re=request
	_rst=$(echo "$_rs" | cut -f2)
	case $_want in [0-9]*) _wst=$_want ;; *) _wst="-" ;; esac
	if [ "$_re" = "$_ev" ] && { [ "$_rst" = "$_wst" ] || [ "$_wst" = "-" ]; }; then
		ok "$_n: $_got; audit $_re $_rst: $(echo "$_rs" | cut -f3 | cut -c1-90)"
	else
		fail "$_n: audit record '$_rs', expected $_ev $_wst"
	fi
}

TLS="--tls --cafile $PROXY_CA/ca.pem"
C="--connect origin.test:$OP $TLS"

# ---- addresses: special-purpose ranges in every spelling ----
hostile metadata-v4 403 refused --connect 169.254.169.254:443
hostile private-10 403 refused --connect 10.0.0.1:443
hostile private-192 403 refused --connect 192.168.1.1:443
hostile cgnat 403 refused --connect 100.64.0.1:443
hostile loopback-other 403 refused --connect 127.0.0.2:443
hostile v6-loopback 403 refused --connect "[::1]:443"
hostile v6-ula 403 refused --connect "[fd00::1]:443"
hostile v6-linklocal 403 refused --connect "[fe80::1]:443"
hostile v4-mapped 403 refused --connect "[::ffff:169.254.169.254]:443"
hostile nat64 403 refused --connect "[64:ff9b::a9fe:a9fe]:443"
hostile 6to4 403 refused --connect "[2002:a9fe:a9fe::1]:443"
hostile teredo 403 refused --connect "[2001::1]:443"
hostile zero 403 refused --connect 0.0.0.0:443
hostile class-e 403 refused --connect 240.0.0.1:443
hostile multicast 403 refused --connect 224.0.0.1:443
hostile v6-multicast 403 refused --connect "[ff02::1]:443"
hostile decimal-ip 400 refused --connect 2130706433:443
hostile hex-ip 400 refused --connect 0x7f000001:443
hostile octal-ip 400 refused --connect 0177.0.0.1:443
hostile short-ip 400 refused --connect 127.1:443
# a name pinned to loopback outside --allow-cidr: decided, then refused at dial
hostile pinned-loopback 403 request --connect "loop.test:$OP" $TLS \
	--send "GET /echo HTTP/1.1\r\nHost: loop.test:$OP\r\nConnection: close\r\n\r\n"
grep -q "refused address" "$T/h-pinned-loopback.out" && ok "pinned-loopback: the body says the address was refused" ||
	fail "pinned-loopback body: $(cat "$T/h-pinned-loopback.out")"
hostile self 403 refused --connect "$PROXY"
hostile self-localhost 403 refused --connect "127.0.0.1:${PROXY##*:}"

# ---- one authority per connection ----
hostile connect-sni-mismatch tls-error refused --connect "origin.test:$OP" $TLS --sni other.test
hostile sni-missing tls-error refused --connect "origin.test:$OP" $TLS --sni -
hostile sni-host-mismatch 400 refused $C --send "GET /echo HTTP/1.1\r\nHost: other.test:$OP\r\n\r\n"
hostile host-port-mismatch 400 refused $C --send "GET /echo HTTP/1.1\r\nHost: origin.test:1\r\n\r\n"
hostile absolute-in-tunnel 400 refused $C --send "GET https://origin.test:$OP/echo HTTP/1.1\r\n$H\r\n\r\n"
hostile no-host 400 refused $C --send "GET /echo HTTP/1.1\r\n\r\n"
hostile https-absolute-form 400 refused --send "GET https://origin.test:$OP/ HTTP/1.1\r\n$H\r\n\r\n"
hostile origin-form-to-proxy 400 refused --send "GET / HTTP/1.1\r\n$H\r\n\r\n"

# ---- framing and parsing ----
hostile cl-te 400 refused $C --send "POST /echo HTTP/1.1\r\n$H\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
hostile xchunked 400 refused $C --send "POST /echo HTTP/1.1\r\n$H\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"
hostile double-cl 400 refused $C --send "POST /echo HTTP/1.1\r\n$H\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"
hostile double-host 400 refused $C --send "GET /echo HTTP/1.1\r\n$H\r\n$H\r\n\r\n"
hostile bare-lf 400 refused $C --send "GET /echo HTTP/1.1\n$H\n\n"
hostile obs-fold 400 refused $C --send "GET /echo HTTP/1.1\r\n$H\r\nX-A: a\r\n b\r\n\r\n"
hostile negative-chunk 400 request $C --send "GET /echo HTTP/1.1\r\n$H\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n"
hostile overflow-chunk 400 request $C --send "GET /echo HTTP/1.1\r\n$H\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nx\r\n0\r\n\r\n"
hostile nul-in-header 400 refused $C --send "GET /echo HTTP/1.1\r\n$H\r\nX-A: a\x00b\r\n\r\n"
hostile crlf-in-target 400 refused $C --send "GET /echo\rX HTTP/1.1\r\n$H\r\n\r\n"
hostile nul-in-target 400 refused $C --send "GET /ec\x00ho HTTP/1.1\r\n$H\r\n\r\n"
BIG=$("$PY" -c 'print("a" * 70000)')
hostile oversize-header 431 refused $C --send "GET /echo HTTP/1.1\r\n$H\r\nX-Big: $BIG\r\n\r\n"

# ---- secrets ----
hostile placeholder-unbound 403 request $C --send "GET /echo HTTP/1.1\r\n$H\r\nX-Token: $PH\r\nConnection: close\r\n\r\n"
grep -q "secret-not-bound" "$T/h-placeholder-unbound.out" && ok "the 403 names rule secret-not-bound" ||
	fail "placeholder-unbound body: $(cat "$T/h-placeholder-unbound.out")"
[ "$(records_matching event=alert)" -ge 1 ] && ok "an alert record names the placeholder's secret ($(record 2 event secrets))" ||
	fail "no alert record for the placeholder"
hostile bound-echo 200 request --connect "echo.test:$OP" $TLS \
	--send "GET /reflect?h=Authorization HTTP/1.1\r\nHost: echo.test:$OP\r\nConnection: close\r\n\r\n"
if grep -q "$SECRET" "$T/h-bound-echo.out"; then
	fail "bound-echo: the secret came back to the client"
elif grep -q "Bearer \*\*\*\*" "$T/h-bound-echo.out"; then
	ok "bound-echo: the injected header echoed back is redacted"
else
	fail "bound-echo: no redacted reflection in $(cat "$T/h-bound-echo.out")"
fi
[ "$(record secrets)" = tok ] && ok "the record names the secret injected (never its value)" ||
	fail "secrets field: $(record secrets)"
hostile redirect-other-host 302 request --connect "echo.test:$OP" $TLS \
	--send "GET /redirect?to=https://other.test:$OP/reflect%3Fh%3DAuthorization HTTP/1.1\r\nHost: echo.test:$OP\r\nConnection: close\r\n\r\n"
grep -q "$SECRET" "$T/h-redirect-other-host.out" && fail "the redirect leaked the secret" ||
	ok "a 302 to another host carries no secret and is not followed"

# ---- one decision per request on one connection ----
$RAW $C --send "GET /echo HTTP/1.1\r\n$H\r\n\r\nPOST /echo HTTP/1.1\r\n$H\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi" \
	>"$T/keep.out" 2>&1
st=$(grep -o '^HTTP/1.1 [0-9]*' "$T/keep.out" | cut -d' ' -f2 | tr '\n' ' ')
[ "$st" = "200 403 " ] && ok "GET allowed then POST denied on one keep-alive connection" ||
	fail "keep-alive decisions: '$st'"
[ "$(record 2 decision status)" = "allow	200" ] && [ "$(record 1 decision status)" = "deny	403" ] &&
	[ "$(record 2 conn)" = "$(record 1 conn)" ] && ok "both decisions recorded on one connection" ||
	fail "keep-alive records: $(record 2 decision status conn) / $(record 1 decision status conn)"

# An origin that sends an unsolicited response after the real one: the
# upstream connection must not be reused (the bytes may sit in TLS's
# read-ahead buffer or in the socket), or the next request gets them.
$RAW $C --gap 0.3 --send "GET /extra HTTP/1.1\r\n$H\r\n\r\n" \
	--send "GET /echo HTTP/1.1\r\n$H\r\nConnection: close\r\n\r\n" >"$T/extra.out" 2>&1
st=$(grep -o '^HTTP/1.1 [0-9]*' "$T/extra.out" | cut -d' ' -f2 | tr '\n' ' ')
oc=$(grep -o '^X-Origin-Conn: [0-9]*' "$T/extra.out" | cut -d' ' -f2 | tr '\n' ' ')
if [ "$st" = "200 200 " ] && ! grep -q EVIL "$T/extra.out" && grep -q request_on_conn "$T/extra.out" &&
	[ "$(echo "$oc" | cut -d' ' -f1)" != "$(echo "$oc" | cut -d' ' -f2)" ]; then
	ok "an origin's unsolicited bytes end its connection: the next request gets its own answer (origin conns $oc)"
else
	fail "unsolicited response: statuses '$st', origin conns '$oc': $(tr '\r\n' '  ' <"$T/extra.out" | cut -c1-300)"
fi

# ---- slowloris, the cap, idle tunnels ----
hostile slowloris 408 refused --timeout 30 --slow 0.5 \
	--send "GET http://origin.test:$OP/ HTTP/1.1\r\nHost: origin.test:$OP\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"

ulimit -n 4096 2>/dev/null || note "cannot raise the descriptor limit: $(ulimit -n)"
"$PY" - "$PROXY" "$PROXY_CA/ca.pem" "$OP" >"$T/idle.out" 2>&1 <<'EOF'
import socket, ssl, sys, time
host, port = sys.argv[1].rsplit(":", 1)
ctx = ssl.create_default_context(cafile=sys.argv[2])
conns = []
for i in range(1000):
    s = socket.create_connection((host, int(port)), timeout=20)
    s.sendall(b"CONNECT origin.test:%s HTTP/1.1\r\nHost: origin.test\r\n\r\n" % sys.argv[3].encode())
    assert s.recv(100).startswith(b"HTTP/1.1 200"), "CONNECT %d" % i
    conns.append(ctx.wrap_socket(s, server_hostname="origin.test"))
# the tunnels are idle; the proxy still serves a new client
t = socket.create_connection((host, int(port)), timeout=20)
t.sendall(b"CONNECT origin.test:%s HTTP/1.1\r\n\r\n" % sys.argv[3].encode())
ok = t.recv(100).startswith(b"HTTP/1.1 200")
# past the cap (1200): 503
extra = []
got503 = False
for i in range(250):
    s = socket.create_connection((host, int(port)), timeout=20)
    extra.append(s)
    s.sendall(b"CONNECT origin.test:%s HTTP/1.1\r\n\r\n" % sys.argv[3].encode())
    if s.recv(100).startswith(b"HTTP/1.1 503"):
        got503 = True
        break
print("idle-ok" if ok else "idle-blocked", "cap-503" if got503 else "no-503", len(conns))
EOF
grep -q "idle-ok" "$T/idle.out" && ok "1,000 idle intercepted tunnels do not block a new client" ||
	fail "idle tunnels: $(cat "$T/idle.out")"
grep -q "cap-503" "$T/idle.out" && [ "$(records_matching event=refused status=503)" -ge 1 ] &&
	ok "past --max-conns a client gets 503 and a refused record" || fail "cap: $(cat "$T/idle.out")"

run show "$OMNIBOX" audit "$AUDIT"
grep -q " refused - 169.254.169.254:443 - 403 CONNECT refused" "$T/show.out" &&
	grep -q " alert GET origin.test:$OP /echo - secret-not-bound" "$T/show.out" &&
	ok "omnibox audit shows refused connections and alerts as such" ||
	fail "omnibox audit listing: $(grep -m3 -E 'refused|alert' "$T/show.out")"
run verify "$OMNIBOX" audit "$AUDIT" --verify
expect_rc verify 0 "the audit log verifies after all of it"
finish
