#!/bin/sh
# proxy_approvals.sh OMNIBOX: `ask` decisions of the standalone proxy. A
# request an ask rule matches is held (no upstream connection) until a
# client of the control socket (--approvals) approves it once or for the
# session, or denies it, or --ask-timeout passes; an approval is bound to
# method + authority + path + body digest. Without --approvals every ask is
# denied. Each outcome is checked at the client, at the origin and in the
# audit record.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../fixtures/helpers.sh"
. "$(dirname "$0")/proxy_lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")
need_fixture_tools
make_testca
start_origin good --tls "$PKI/origin.pem" "$PKI/origin.key"
OP=$ORIGIN_PORT

cat >"$T/policy.yaml" <<EOF
egress:
  allow:
    - "GET origin.test/**"
  ask:
    - "POST origin.test/echo/push/**"
EOF
SOCK="$T/approvals.sock"
start_proxy a "$T/policy.yaml" --upstream-ca "$PKI/ca.pem" --allow-cidr 127.0.0.0/8 \
	--resolve "origin.test:$OP:127.0.0.1" --approvals "$SOCK" --ask-timeout 3
[ "$(stat -c %a "$SOCK")" = 600 ] && ok "the control socket is 0600" || fail "socket mode $(stat -c %a "$SOCK")"
CURL="curl -sS --max-time 30 -x http://$PROXY --cacert $PROXY_CA/ca.pem"
U="https://origin.test:$OP"
count() { curl -sS --cacert "$PKI/ca.pem" --resolve "origin.test:$OP:127.0.0.1" "$U/count" |
	"$PY" -c 'import json,sys; print(json.load(sys.stdin)["by_path"].get(sys.argv[1], 0))' "$1"; }

# answer ACTION: wait for the next pending ask on the control socket, print it
# (JSON) and answer it: "approve ID once", "approve ID session", "deny ID", or
# "none" (leave it to time out).
answer() {
	"$PY" - "$SOCK" "$1" <<'EOF'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
deadline = time.time() + 15
while time.time() < deadline:
    f.write("list\n"); f.flush()
    r = json.loads(f.readline())
    if r.get("pending"):
        q = r["pending"][0]
        print(json.dumps(q))
        if sys.argv[2] != "none":
            f.write(sys.argv[2].replace("ID", str(q["id"])) + "\n"); f.flush()
            print(f.readline().strip())
        sys.exit(0)
    time.sleep(0.05)
print("no ask arrived")
sys.exit(1)
EOF
}

# ctl LINE: one command on the control socket, its reply printed
ctl() {
	"$PY" - "$SOCK" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
f.write(sys.argv[2] + "\n"); f.flush(); print(f.readline().strip())
EOF
}

# ---- approve once ----
before=$(count /echo)
$CURL "$U/echo/push/a" -d one -o "$T/p1.out" -w '%{http_code}' >"$T/p1.code" 2>&1 &
cpid=$!
answer none >"$T/a1.out" 2>&1 || fail "no ask arrived"
held=$(count /echo)
id=$("$PY" -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["id"])' "$T/a1.out")
ctl "approve $id once" >"$T/a1.reply"
wait $cpid
after=$(count /echo)
[ "$held" = "$before" ] && [ "$after" = $((before + 1)) ] &&
	ok "the request was held: it reached the origin only after the approval" ||
	fail "origin /echo count: $before before, $held while held, $after after"
[ "$(cat "$T/p1.code")" = 200 ] && ok "approved once: 200" || fail "approve once: $(cat "$T/p1.code" "$T/p1.out")"
grep -q '"method": "POST"' "$T/a1.out" && grep -q '"authority": "origin.test:' "$T/a1.out" &&
	grep -q '"body_sha256": "' "$T/a1.out" && ok "the ask names method, authority and body digest" ||
	fail "ask shown: $(cat "$T/a1.out")"
expect_record "approved ask recorded" decision=ask status=200 rule="egress.ask[0]"
case $(record approver) in "control socket uid="*) ok "the approver is named: $(record approver)" ;;
*) fail "approver: $(record approver)" ;; esac
[ "$(record approval_id)" != "-" ] && ok "the record carries the approval id" || fail "no approval_id"

# ---- once means once: the same request asks again; deny ----
$CURL "$U/echo/push/a" -d one -o "$T/p2.out" -w '%{http_code}' >"$T/p2.code" 2>&1 &
cpid=$!
answer "deny ID" >"$T/a2.out" 2>&1 || fail "a once-approved request did not ask again"
wait $cpid
[ "$(cat "$T/p2.code")" = 403 ] && grep -q "denied by" "$T/p2.out" && ok "denied: 403 naming who denied" ||
	fail "deny: $(cat "$T/p2.code" "$T/p2.out")"
expect_record "denied ask recorded" decision=ask status=403

# ---- session: the same exact request passes without asking; another body asks ----
$CURL "$U/echo/push/s" -d two -o /dev/null -w '%{http_code}' >"$T/p3.code" 2>&1 &
cpid=$!
answer "approve ID session" >"$T/a3.out" 2>&1
wait $cpid
[ "$(cat "$T/p3.code")" = 200 ] && ok "approved for the session: 200" || fail "session approve: $(cat "$T/p3.code")"
$CURL "$U/echo/push/s" -d two -o /dev/null -w '%{http_code}' >"$T/p4.code" 2>&1
[ "$(cat "$T/p4.code")" = 200 ] && ok "the same request again passes without a human" ||
	fail "session reuse: $(cat "$T/p4.code")"
case $(record reason) in *"approved earlier"*) ok "its record says it was approved earlier" ;;
*) fail "session reuse reason: $(record reason)" ;; esac
$CURL "$U/echo/push/s" -d other-body -o "$T/p5.out" -w '%{http_code}' >"$T/p5.code" 2>&1 &
cpid=$!
answer none >"$T/a5.out" 2>&1 && ok "another body is another request: it asks again" ||
	fail "a different body did not ask"
wait $cpid
[ "$(cat "$T/p5.code")" = 403 ] && grep -q "no answer within 3 s" "$T/p5.out" &&
	ok "an unanswered ask times out to 403" || fail "timeout: $(cat "$T/p5.code" "$T/p5.out")"
expect_record "timed-out ask recorded" decision=ask status=403

# ---- a session approval binds the whole path: two long paths that differ
# only at their end are two requests ----
LONG=$("$PY" -c 'print("a" * 5000)')
$CURL "$U/echo/push/$LONG/one" -d same -o /dev/null -w '%{http_code}' >"$T/l1.code" 2>&1 &
cpid=$!
answer "approve ID session" >"$T/l1.out" 2>&1
wait $cpid
$CURL "$U/echo/push/$LONG/two" -d same -o /dev/null -w '%{http_code}' >"$T/l2.code" 2>&1 &
cpid=$!
answer none >"$T/l2.out" 2>&1 && asked=yes || asked=no
wait $cpid
[ "$(cat "$T/l1.code")" = 200 ] && [ "$asked" = yes ] && [ "$(cat "$T/l2.code")" = 403 ] &&
	ok "a session approval of one long path does not approve another that shares its first 5,000 bytes" ||
	fail "long paths: first $(cat "$T/l1.code"), second asked=$asked $(cat "$T/l2.code")"

# ---- the control socket refuses nonsense without harm ----
"$PY" - "$SOCK" >"$T/junk.out" 2>&1 <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
for line in ["approve 999999 once", "{\"op\":\"approve\",\"id\":\"x\"}", "frobnicate", "{"]:
    f.write(line + "\n"); f.flush(); print(f.readline().strip())
EOF
[ "$(grep -c '"ok": *false' "$T/junk.out")" -eq 4 ] && ok "bad control lines get error replies" ||
	fail "control socket replies: $(cat "$T/junk.out")"

# ---- no approver: asks are denied ----
start_proxy n "$T/policy.yaml" --upstream-ca "$PKI/ca.pem" --allow-cidr 127.0.0.0/8 \
	--resolve "origin.test:$OP:127.0.0.1"
curl -sS --max-time 30 -x "http://$PROXY" --cacert "$PROXY_CA/ca.pem" "$U/echo/push/n" -d x \
	-o "$T/n.out" -w '%{http_code}' >"$T/n.code" 2>&1
[ "$(cat "$T/n.code")" = 403 ] && grep -q "no approver" "$T/n.out" &&
	ok "without --approvals an ask is denied, saying so" || fail "no approver: $(cat "$T/n.code" "$T/n.out")"
expect_record "no-approver ask recorded" decision=ask status=403
finish
