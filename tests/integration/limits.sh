#!/bin/sh
# limits.sh OMNIBOX: --pids, --memory and --timeout hold, are reported in
# --json-status, and leave nothing running on the host.
. "$(dirname "$0")/lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")
[ -x /usr/bin/python3 ] || skip "needs /usr/bin/python3 (the fork bomb and memory hog are python)"
make_workspace
OUT="$T/st"
mkdir "$OUT"
[ "$(id -u)" -eq 0 ] && chown "$WS_UID:$WS_GID" "$OUT"
MARK="ombx-limits-$$-$(date +%s)"
# Limits need a cgroup; as a plain user, one may not be delegated to us.
if [ "$(id -u)" -ne 0 ]; then
	run cg timeout -k 5 60 "$OMNIBOX" exec --workspace "$WS" --memory 64M -- true
	[ "$RC" -eq 125 ] && skip "omnibox cannot set limits as uid $(id -u): $(head -1 "$T/cg.err")"
fi

# --- a bounded fork bomb under --pids 64. It forks for 8 s, never more than
# 400 children (so a broken limit cannot hurt the host), children hold their
# pid until the deadline. It prints "forked N failed M".
cat >"$WS/bomb.py" <<'PYEOF'
import os, sys, time
deadline = time.time() + 8
forked = failed = 0
while time.time() < deadline and forked < 400:
    try:
        pid = os.fork()
    except OSError:
        failed += 1
        time.sleep(0.01)
        continue
    if pid == 0:
        time.sleep(max(0, deadline - time.time()) + 0.5)
        os._exit(0)
    forked += 1
print("forked", forked, "failed", failed, flush=True)
PYEOF
own_workspace
run bomb timeout -k 5 60 "$OMNIBOX" exec --workspace "$WS" --pids 64 --timeout 20 \
	--json-status "$OUT/bomb.json" -- python3 "$WS/bomb.py" "$MARK"
read -r _w1 _forked _w2 _failed <"$T/bomb.out"
if [ "$_w1" = forked ] && [ "$_forked" -lt 64 ] && [ "$_failed" -gt 0 ]; then
	ok "fork bomb stopped by --pids 64 ($_forked forks succeeded, $_failed refused, ${SECS}s)"
else
	fail "fork bomb under --pids 64: exit $RC after ${SECS}s (want < 64 forks and some refused)"
	show bomb
fi
[ "$SECS" -lt 30 ] || fail "the fork-bomb jail took ${SECS}s to end"
expect_json "$OUT/bomb.json" layers.pids_max 64 "json-status reports the pids limit"
_left=$(pids_matching "$MARK")
if [ -z "$_left" ]; then
	ok "no bomb process left on the host"
else
	fail "bomb processes left on the host: $_left"
	# shellcheck disable=SC2086 # a list of pids
	kill -9 $_left 2>/dev/null
fi
if sh -c 'true & wait'; then ok "the host can still fork"; else fail "the host cannot fork after the bomb"; fi

# --- a memory hog under --memory 64M: touches 512 MiB, 1 MiB at a time.
run oom timeout -k 5 60 "$OMNIBOX" exec --workspace "$WS" --memory 64M --timeout 40 \
	--json-status "$OUT/oom.json" -- python3 -c \
	'l = []
for i in range(512): l.append(b"\1" * (1 << 20))
print("allocated", len(l), "MiB")'
expect_rc oom 137 "memory hog killed under --memory 64M"
expect_json "$OUT/oom.json" oom true "json-status reports the OOM kill"
expect_json "$OUT/oom.json" layers.memory_max 67108864 "json-status reports the memory limit"

# --- --timeout 2 on a process tree that would live 100 s.
SLEEP="100.$$"
run tmo timeout -k 5 60 "$OMNIBOX" exec --workspace "$WS" --timeout 2 \
	--json-status "$OUT/tmo.json" -- sh -c "sleep $SLEEP & sleep $SLEEP"
if [ "$SECS" -lt 10 ]; then ok "--timeout 2 ended the jail in ${SECS}s (exit $RC)"; else fail "--timeout 2 took ${SECS}s (exit $RC)"; fi
[ "$RC" -ne 0 ] || fail "--timeout 2: a timed-out command exited 0"
expect_json "$OUT/tmo.json" timed_out true "json-status reports the timeout"
_left=$(pids_matching "sleep $SLEEP")
if [ -z "$_left" ]; then
	ok "no 'sleep $SLEEP' left on the host"
else
	fail "processes left on the host after the timeout: $_left"
	# shellcheck disable=SC2086 # a list of pids
	kill -9 $_left 2>/dev/null
fi
finish
