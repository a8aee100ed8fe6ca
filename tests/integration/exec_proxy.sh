#!/bin/sh
# exec_proxy.sh OMNIBOX: `omnibox exec --policy` - a jail whose only way out
# is the proxy. Real clients inside (curl, python3 urllib, node fetch) reach
# an allowed HTTPS origin through the explicit proxy and transparently; other
# hosts, the metadata address and other ports are refused; DNS to any
# resolver is answered by the stub alone; UDP goes nowhere; the secret
# reaches the origin while the jail holds only its placeholder; an ask is
# approved over --approvals; every request is in the audit log under the
# jail's id.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../fixtures/helpers.sh"
. "$(dirname "$0")/proxy_lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")
need_fixture_tools
[ "$(id -u)" -eq 0 ] || skip "needs root: the origin listens on port 443 (transparent interception is for :80/:443)"
make_testca
# the origin on :443 of a loopback address of its own (parallel tests differ)
ADDR=127.$(od -An -N3 -tu1 /dev/urandom | awk '{ printf "%d.%d.%d", $1 % 250 + 2, $2 % 250 + 2, $3 % 250 + 2 }')
start_origin tls --tls "$PKI/origin.pem" "$PKI/origin.key" --bind "$ADDR" --port 443
make_workspace

SECRET="sk-test-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
cat >"$T/policy.yaml" <<EOF
egress:
  allow:
    - "GET,POST origin.test/**"
    - "GET *.many.test/**"
  ask:
    - "POST origin.test/echo/ask/**"
secrets:
  key:
    source: env:OMBX_TEST_KEY
    placeholder_env: API_KEY
    inject:
      - {hosts: [origin.test], header: X-Api-Key, format: "{secret}"}
EOF
AUDIT="$T/audit.jsonl"
SOCK="$T/approvals.sock"

# Everything the jail does is one script; it prints "name: result" lines.
cat >"$WS/inside.sh" <<'EOF'
echo "placeholder: $API_KEY"
tr '\0' '\n' </proc/self/environ | grep -c "$OMBX_CHECK_SECRET" | sed 's/^/environ-secret: /'
echo "explicit: $(curl -sS https://origin.test/echo -o /dev/null -w '%{http_code}' 2>&1)"
echo "transparent: $(curl -sS --noproxy '*' https://origin.test/echo -o /dev/null -w '%{http_code}' 2>&1)"
echo "other-host: $(curl -sS https://other.test/ -o /dev/null -w '%{http_code}' 2>&1)"
echo "metadata: $(curl -sS http://169.254.169.254/latest/meta-data/ -o /dev/null -w '%{http_code}' 2>&1)"
python3 - <<'PY'
import socket, ssl, urllib.request
def show(name, f):
    try:
        print("%s: %s" % (name, f()))
    except Exception as e:
        print("%s: %s" % (name, type(e).__name__))
show("python", lambda: urllib.request.urlopen("https://origin.test/echo", timeout=10).status)
def dns(server, name):
    q = bytes.fromhex("abcd01000001000000000000") + b"".join(
        bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0\0\1\0\1"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
    s.sendto(q, (server, 53)); d, a = s.recvfrom(512)
    ans = ".".join(str(b) for b in d[-4:]) if d[7] else "-"
    return "%s rcode=%d answer=%s" % (a[0], d[3] & 15, ans)
show("dns-8.8.8.8-origin", lambda: dns("8.8.8.8", "origin.test"))
show("dns-8.8.8.8-unlisted", lambda: dns("8.8.8.8", "example.com"))
def many():
    names = ["n%d.many.test" % i for i in range(500)]
    first = [dns("127.0.0.1", n).split("answer=")[1] for n in names]
    again = [dns("127.0.0.1", n).split("answer=")[1] for n in reversed(names)][::-1]
    if len(set(first)) != len(names) or first != again:
        return "distinct %d of %d, stable %s" % (len(set(first)), len(names), first == again)
    if not all(a.startswith(("198.18.", "198.19.")) for a in first):
        return "outside the fake range: %s" % [a for a in first if not a.startswith("198.1")][:3]
    return "500 distinct, stable"
show("dns-many", many)
def tcp(addr, port):
    s = socket.create_connection((addr, port), timeout=3); s.close(); return "connected"
show("tcp-other-port", lambda: tcp("93.184.216.34", 8080))
show("tcp-ssh", lambda: tcp("127.0.0.1", 22))
def quic():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
    s.sendto(b"\xc0" + b"\0" * 1199, ("93.184.216.34", 443)); s.recvfrom(100); return "answered"
show("udp-443", quic)
PY
node -e 'fetch("https://origin.test/echo").then(r => console.log("node: " + r.status)).catch(e => console.log("node: " + (e.cause ? e.cause.code : e)))'
echo "ask: $(curl -sS -X POST -d hi https://origin.test/echo/ask/1 -o /dev/null -w '%{http_code}' 2>&1)"
EOF
chmod 755 "$WS/inside.sh"
own_workspace

# answer the ask (in the background) over the control socket
"$PY" - "$SOCK" >"$T/approver.out" 2>&1 <<'EOF' &
import json, os, socket, sys, time
deadline = time.time() + 60
while not os.path.exists(sys.argv[1]) and time.time() < deadline:
    time.sleep(0.05)
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
while time.time() < deadline:
    f.write("list\n"); f.flush()
    r = json.loads(f.readline())
    if r.get("pending"):
        f.write("approve %d once\n" % r["pending"][0]["id"]); f.flush()
        print(f.readline().strip())
        break
    time.sleep(0.05)
EOF
apid=$!
at_exit "kill $apid 2>/dev/null"

cd "$WS" || die "cd $WS"
OMBX_TEST_KEY=$SECRET "$OMNIBOX" exec --workspace "$WS" --policy "$T/policy.yaml" \
	--audit "$AUDIT" --ca "$T/ca" --approvals "$SOCK" --upstream-ca "$PKI/ca.pem" \
	--allow-cidr "$ADDR/32" --resolve "origin.test:443:$ADDR" --env "OMBX_CHECK_SECRET=$SECRET" \
	--json-status "$T/status.json" -- sh ./inside.sh >"$T/inside.out" 2>"$T/inside.err"
rc=$?
cd / || true
[ "$rc" -eq 0 ] && ok "the jailed script ran (exit 0)" || fail "exec exit $rc: $(cat "$T/inside.err")"
grep -q "egress proxy" "$T/inside.err" && fail "omnibox had to stop the proxy: $(cat "$T/inside.err")" ||
	ok "the proxy stopped when asked"
got() { sed -n "s/^$1: //p" "$T/inside.out"; }
expect() { # expect NAME REGEX DESCRIPTION (the whole value must match)
	if got "$1" | grep -Eqx -- "$2"; then ok "$3: $(got "$1")"; else fail "$3: got '$(got "$1")' (want $2)"; fi
}
expect placeholder "ombx_ph_[0-9a-f]{32}" "the jail's API_KEY is a placeholder"
expect environ-secret 0 "the secret is nowhere in the jail's environment"
expect explicit 200 "curl through the explicit proxy (HTTPS_PROXY)"
expect transparent 200 "curl --noproxy '*' is caught transparently"
expect python 200 "python3 urllib"
expect node 200 "node fetch (ignores the proxy variables: caught transparently)"
expect other-host 403 "an unlisted host is refused with 403"
expect metadata "4[0-9]{2}" "the metadata address is refused"
expect dns-8.8.8.8-origin "8.8.8.8 rcode=0 answer=198\.1[89]\..*" "DNS to 8.8.8.8 is answered by the stub with a fake address"
expect dns-8.8.8.8-unlisted "8.8.8.8 rcode=3 answer=-" "an unlisted name gets NXDOMAIN, nothing recursed"
expect dns-many "500 distinct, stable" "500 names under an allowed wildcard: one fake address each, the same when asked again"
expect tcp-other-port "PermissionError|ConnectionRefusedError" "TCP to another port is refused"
expect tcp-ssh "PermissionError|ConnectionRefusedError" "TCP to a loopback service is refused"
expect udp-443 "timeout|TimeoutError" "UDP (QUIC) to :443 goes nowhere"
expect ask 200 "an ask approved over --approvals goes through"

grep -q "\"X-Api-Key\", \"$SECRET\"" "$T/origin-tls.log" && ok "the origin received the real secret" ||
	fail "the origin never saw the secret"
grep -q "$SECRET" "$T/inside.out" "$T/inside.err" "$AUDIT" && fail "the secret leaked into the jail's output or the log" ||
	ok "the secret is in neither the jail's output nor the audit log"
jail=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["jail_id"])' "$T/status.json" 2>/dev/null)
[ -n "$jail" ] && [ "$(records_matching session="$jail")" -ge 6 ] &&
	ok "every request is in the audit log under the jail's id ($jail)" ||
	fail "audit records for jail '$jail': $(records_matching session="$jail")"
[ "$(records_matching decision=ask status=200)" -ge 1 ] && ok "the approved ask is recorded" || fail "no approved ask record"
run verify "$OMNIBOX" audit "$AUDIT" --verify
expect_rc verify 0 "the audit log verifies"

# ---- a proxy that cannot start (here: a secret's source is missing): no
# command runs ----
cd "$WS" || die "cd $WS"
rm -f "$WS/ran"
run nostart env -u OMBX_TEST_KEY "$OMNIBOX" exec --workspace "$WS" --policy "$T/policy.yaml" \
	--audit "$T/audit-nostart.jsonl" --ca "$T/ca" -- sh -c 'touch ran'
cd / || true
expect_rc nostart 125 "a proxy that cannot start: omnibox exec refuses"
grep -q "OMBX_TEST_KEY is not set" "$T/nostart.err" && grep -q "egress proxy did not start" "$T/nostart.err" &&
	ok "it says why: $(grep -o 'the egress proxy did not start.*' "$T/nostart.err" | cut -c1-60)" ||
	fail "nostart stderr: $(cat "$T/nostart.err")"
[ ! -e "$WS/ran" ] && ok "the command never ran" || fail "the command ran without its proxy"

# proxy_once_started FILE AUDIT: once the jailed command has made FILE (10 s
# at most), the pid of the proxy that writes AUDIT
proxy_once_started() {
	_i=0
	while [ ! -e "$1" ] && [ $_i -lt 200 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	pgrep -f -- "omnibox-proxy .*--audit $2"
}

# ---- the proxy dies while the jail runs: the jail's way out is gone (fails
# closed), and omnibox says so ----
cat >"$WS/late.sh" <<'EOF'
touch started
while [ ! -e ready-to-die ]; do sleep 0.1; done
sleep 1
echo "late: $(curl -sS --max-time 5 https://origin.test/echo -o /dev/null -w '%{http_code}' 2>&1)"
EOF
cd "$WS" || die "cd $WS"
rm -f "$WS/ready-to-die" "$WS/started"
OMBX_TEST_KEY=$SECRET "$OMNIBOX" exec --workspace "$WS" --policy "$T/policy.yaml" --audit "$T/audit-late.jsonl" \
	--ca "$T/ca" --upstream-ca "$PKI/ca.pem" --allow-cidr "$ADDR/32" \
	--resolve "origin.test:443:$ADDR" -- sh ./late.sh >"$T/late.out" 2>"$T/late.err" &
lpid=$!
cd / || true
ppid=$(proxy_once_started "$WS/started" "$T/audit-late.jsonl")
[ -n "$ppid" ] && kill -9 $ppid
touch "$WS/ready-to-die"
wait $lpid
grep -Eq "^late: .*(000|Couldn't connect)" "$T/late.out" && ok "after the proxy died, the jail's request went nowhere: $(cut -c1-80 "$T/late.out")" ||
	fail "late request: $(cat "$T/late.out")"
grep -q "egress proxy (omnibox-proxy) was killed by signal 9 while the command ran" "$T/late.err" &&
	ok "omnibox says the proxy died: $(grep -o 'the egress proxy.*' "$T/late.err" | cut -c1-90)" ||
	fail "no word of the proxy's death: $(cat "$T/late.err")"

# ---- a proxy that does not stop when the command has ended (here: stopped
# with SIGSTOP): omnibox kills it after its grace and says so; it does not
# wait for ever ----
cat >"$WS/stuck.sh" <<'EOF'
touch stuck-started
while [ ! -e stuck-go ]; do sleep 0.1; done
EOF
cd "$WS" || die "cd $WS"
rm -f "$WS/stuck-go" "$WS/stuck-started"
OMBX_TEST_KEY=$SECRET "$OMNIBOX" exec --workspace "$WS" --policy "$T/policy.yaml" \
	--audit "$T/audit-stuck.jsonl" --ca "$T/ca" -- sh ./stuck.sh >"$T/stuck.out" 2>"$T/stuck.err" &
spid=$!
cd / || true
ppid=$(proxy_once_started "$WS/stuck-started" "$T/audit-stuck.jsonl")
[ -n "$ppid" ] && kill -STOP $ppid
at_exit "kill -KILL $ppid 2>/dev/null"
# an omnibox that waits for ever would hang the test: the proxy goes on
# after 60 s, and the time taken says what happened
(sleep 60 && kill -CONT $ppid) >/dev/null 2>&1 &
at_exit "kill $! 2>/dev/null"
t0=$(date +%s)
touch "$WS/stuck-go"
wait $spid
src=$?
secs=$(($(date +%s) - t0))
[ "$src" -eq 0 ] && [ "$secs" -le 30 ] && ok "the command's exit ended omnibox exec after ${secs} s" ||
	fail "exit $src after ${secs} s"
grep -q "did not stop within 5 s of SIGTERM and was killed" "$T/stuck.err" &&
	ok "omnibox says it killed the proxy: $(grep -o 'the egress proxy.*' "$T/stuck.err" | cut -c1-80)" ||
	fail "no word of the proxy that would not stop: $(cat "$T/stuck.err")"
[ -n "$ppid" ] && ! kill -0 $ppid 2>/dev/null && ok "the proxy is gone" || fail "proxy '$ppid' still there"
finish
