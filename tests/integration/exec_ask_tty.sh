#!/bin/sh
# exec_ask_tty.sh OMNIBOX: in a one-off `omnibox exec --policy` run, an ask
# is put to the invoking user's terminal (by the proxy, outside the jail),
# naming the request and the rule; "o" lets it through, "d" refuses it;
# with no terminal (and no --approvals) the ask is denied and logged so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../fixtures/helpers.sh"
. "$(dirname "$0")/proxy_lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")
need_fixture_tools
[ "$(id -u)" -eq 0 ] || skip "needs root: the origin listens on port 443"
command -v setsid >/dev/null || skip "setsid (util-linux) not found"
make_testca
ADDR=127.$(od -An -N3 -tu1 /dev/urandom | awk '{ printf "%d.%d.%d", $1 % 250 + 2, $2 % 250 + 2, $3 % 250 + 2 }')
start_origin tls --tls "$PKI/origin.pem" "$PKI/origin.key" --bind "$ADDR" --port 443
make_workspace
cat >"$T/policy.yaml" <<'EOF2'
egress:
  allow: ["GET origin.test/**"]
  ask: ["POST origin.test/echo/**"]
EOF2
AUDIT="$T/audit.jsonl"
jail() { # jail: the exec command line, then the jailed curl
	echo "$OMNIBOX" exec --workspace "$WS" --policy "$T/policy.yaml" --audit "$AUDIT" --ca "$T/ca" \
		--upstream-ca "$PKI/ca.pem" --allow-cidr "$ADDR/32" --resolve "origin.test:443:$ADDR" \
		-- curl -sS -X POST -d payload https://origin.test/echo/push -o /dev/null -w "status=%{http_code}"
}
DRIVE="$PY $FIXTURES/pty_drive.py"
cd "$WS" || die "cd"
# shellcheck disable=SC2046 # the command line, split on purpose
$DRIVE 24 100 o -- $(jail) >"$T/once.out" 2>&1
grep -q "the jail asks to send POST \"origin.test:443\" \"/echo/push\"" "$T/once.out" &&
	grep -q "rule egress.ask\[0\]" "$T/once.out" && ok "the prompt names the request and the rule" ||
	fail "prompt: $(tr '\n' '|' <"$T/once.out")"
grep -q "status=200" "$T/once.out" && ok "answered o: the request went through" || fail "once: $(tail -c 300 "$T/once.out")"
expect_record "the approval is recorded" decision=ask status=200
case $(record approver) in "terminal uid="*) ok "approver: $(record approver)" ;; *) fail "approver: $(record approver)" ;; esac
# shellcheck disable=SC2046
$DRIVE 24 100 d -- $(jail) >"$T/deny.out" 2>&1
grep -q "status=403" "$T/deny.out" && ok "answered d: refused with 403" || fail "deny: $(tail -c 300 "$T/deny.out")"
expect_record "the refusal is recorded" decision=ask status=403
# shellcheck disable=SC2046
setsid $(jail) </dev/null >"$T/none.out" 2>&1
grep -q "status=403" "$T/none.out" && ok "no terminal, no --approvals: the ask is denied" ||
	fail "no terminal: $(cat "$T/none.out")"
expect_record "the unasked ask is recorded as denied" decision=ask status=403
cd / || true
finish
