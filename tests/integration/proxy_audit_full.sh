#!/bin/sh
# proxy_audit_full.sh OMNIBOX: the proxy fails closed when its audit log
# cannot be written. The proxy runs with a file size limit (RLIMIT_FSIZE,
# SIGXFSZ ignored), so its log fills after a few dozen records: from then on
# every request is refused with 503 saying why, the proxy keeps running and
# says so on stderr, and the log holds only whole, chained records.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../fixtures/helpers.sh"
. "$(dirname "$0")/proxy_lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")
need_fixture_tools
make_testca
start_origin good --tls "$PKI/origin.pem" "$PKI/origin.key"
OP=$ORIGIN_PORT
printf 'egress:\n  allow: ["GET origin.test/**"]\n' >"$T/policy.yaml"
mkdir -p "$T/ca-a"
"$OMNIBOX" ca init --ca "$T/ca-a" >/dev/null || die "ca init failed"

# 32 KiB per file for the proxy only (dash counts 512-byte blocks)
trap '' XFSZ
ulimit -S -f 64 || die "cannot set RLIMIT_FSIZE"
start_proxy a "$T/policy.yaml" --upstream-ca "$PKI/ca.pem" --allow-cidr 127.0.0.0/8 \
	--resolve "origin.test:$OP:127.0.0.1"
ulimit -S -f unlimited
trap - XFSZ

CURL="curl -sS --max-time 20 -x http://$PROXY --cacert $PROXY_CA/ca.pem"
i=0 ok200=0 first503=0 late200=0
while [ $i -lt 200 ]; do
	i=$((i + 1))
	code=$($CURL "https://origin.test:$OP/echo?i=$i" -o "$T/body" -w '%{http_code}' 2>/dev/null)
	case $code in
	200) if [ $first503 -gt 0 ]; then late200=$((late200 + 1)); else ok200=$((ok200 + 1)); fi ;;
	503) [ $first503 -gt 0 ] || { first503=$i; cp "$T/body" "$T/503.body"; } ;;
	*) fail "request $i: status $code" ;;
	esac
	[ $first503 -gt 0 ] && [ $i -ge $((first503 + 5)) ] && break
done
[ $first503 -gt 0 ] && [ $ok200 -gt 5 ] &&
	ok "requests went through ($ok200) until the log was full, then 503 (request $first503)" ||
	fail "expected 200s then 503s: $ok200 200s, first 503 at $first503"
[ $late200 -eq 0 ] && ok "no request went through after the first refusal" ||
	fail "$late200 requests got 200 after the log failed"
grep -q "audit log cannot be written" "$T/503.body" 2>/dev/null &&
	ok "the 503 says why: $(head -c 80 "$T/503.body")" || fail "503 body: $(cat "$T/503.body" 2>/dev/null)"
kill -0 "$PROXY_PID" 2>/dev/null && ok "the proxy keeps running (SIGXFSZ did not kill it)" ||
	fail "the proxy died"
grep -q "refusing every request" "$T/proxy-a.err" && ok "the proxy says so on stderr" ||
	fail "stderr: $(cat "$T/proxy-a.err")"
if "$OMNIBOX" audit "$AUDIT" --verify >"$T/verify.out" 2>&1; then
	n=$(wc -l <"$AUDIT")
	# the request whose record did not fit got its answer first: one lost
	[ "$n" -ge $((ok200 - 1)) ] && [ "$n" -le "$ok200" ] &&
		ok "the log verifies: $n whole records for $ok200 answered requests" ||
		fail "$n records for $ok200 answered requests"
else
	fail "the log does not verify: $(cat "$T/verify.out")"
fi
finish
