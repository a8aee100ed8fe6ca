#!/bin/sh
# proxy_stop.sh OMNIBOX: `omnibox proxy` stops cleanly on SIGTERM, every
# time: exit 0 within 5 s, no sanitizer report, its control socket gone.
# omnibox exec stops its proxy so after every command. The signal thread
# once stopped the approvals after the main thread had freed them: a
# use-after-free, and then a proxy that never exited (CI's exec_proxy
# timeout). It takes that thread losing its CPU at the wrong moment, so
# the cycles run beside a busy loop on every CPU: under ASan (make
# asan-check) 2-4 cycles in 100 failed so before the fix, three runs out
# of three; none in 300 after. The plain build's write into freed memory
# goes unseen; there the test checks the rest.
. "$(dirname "$0")/lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")
CYCLES=${CYCLES:-100}
printf 'egress:\n  allow: ["GET example.com/**"]\n' >"$T/policy.yaml"
"$OMNIBOX" ca init --ca "$T/ca" >/dev/null || die "ca init failed"

# one busy loop per CPU
busy=""
for _c in $(seq "$(nproc)"); do
	sh -c 'while :; do :; done' &
	busy="$busy $!"
done
at_exit "kill $busy 2>/dev/null"
bad=0 slow=0 reports=0 left=0 i=0
while [ $i -lt "$CYCLES" ]; do
	i=$((i + 1))
	rm -f "$T/ready"
	"$OMNIBOX" proxy --listen 127.0.0.1:0 --ready "$T/ready" --policy "$T/policy.yaml" \
		--ca "$T/ca" --audit "$T/audit.jsonl" --approvals "$T/s.sock" \
		</dev/null >/dev/null 2>"$T/err" &
	pid=$!
	j=0
	while [ ! -s "$T/ready" ] && [ $j -lt 400 ]; do
		kill -0 $pid 2>/dev/null || break
		sleep 0.025
		j=$((j + 1))
	done
	[ -s "$T/ready" ] || die "cycle $i: the proxy did not start: $(cat "$T/err")"
	kill -TERM $pid
	j=0
	while kill -0 $pid 2>/dev/null && [ $j -lt 100 ]; do
		sleep 0.05
		j=$((j + 1))
	done
	if kill -0 $pid 2>/dev/null; then
		slow=$((slow + 1))
		kill -KILL $pid
	fi
	wait $pid
	rc=$?
	[ $rc -eq 0 ] || bad=$((bad + 1))
	if grep -q "Sanitizer\|runtime error" "$T/err"; then
		reports=$((reports + 1))
		[ $reports -eq 1 ] && note "cycle $i: $(grep -m1 -A3 "ERROR\|runtime error" "$T/err" | tr '\n' ' ' | cut -c1-300)"
	fi
	[ -e "$T/s.sock" ] && left=$((left + 1))
done
kill $busy 2>/dev/null
[ $slow -eq 0 ] && ok "$CYCLES SIGTERMs: the proxy was gone within 5 s every time" ||
	fail "$slow of $CYCLES SIGTERMs left the proxy running after 5 s"
[ $bad -eq 0 ] && ok "it exited 0 every time" || fail "$bad of $CYCLES exits were not 0"
[ $reports -eq 0 ] && ok "no sanitizer report" || fail "$reports of $CYCLES exits printed a sanitizer report"
[ $left -eq 0 ] && ok "its control socket was removed every time" || fail "$left of $CYCLES left the control socket"
finish
