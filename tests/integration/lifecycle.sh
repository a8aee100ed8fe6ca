#!/bin/sh
# lifecycle.sh OMNIBOX: signals sent to omnibox reach the command, and a jail
# never outlives omnibox, even when omnibox is SIGKILLed.
. "$(dirname "$0")/lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")
make_workspace
MARK="77.$$"

# SIGTERM to omnibox is forwarded: the command's trap runs and its status returns.
"$OMNIBOX" exec --workspace "$WS" --timeout 20 -- sh -c \
	'trap "echo got-term; exit 5" TERM; while :; do sleep 0.1; done' >"$T/term.out" 2>&1 &
pid=$!
sleep 1
kill -TERM "$pid"
wait "$pid"
code=$?
[ "$code" = 5 ] && ok "SIGTERM forwarded; the command's exit status 5 returned" ||
	fail "SIGTERM: exit $code, expected 5"
expect_in "$T/term.out" got-term "the command's TERM trap ran"

# SIGHUP likewise (the caller's terminal went away). (Not SIGINT: a
# background job of a non-interactive shell starts with SIGINT ignored, and
# omnibox passes ignored signals on, as exec wrappers do.)
"$OMNIBOX" exec --workspace "$WS" --timeout 20 -- sh -c 'trap "exit 9" HUP; while :; do sleep 0.1; done' \
	>/dev/null 2>&1 &
pid=$!
sleep 1
kill -HUP "$pid"
wait "$pid"
code=$?
[ "$code" = 9 ] && ok "SIGHUP forwarded (exit 9)" || fail "SIGHUP: exit $code, expected 9"

# SIGKILL to omnibox: the whole jail dies with it (die-with-parent).
"$OMNIBOX" exec --workspace "$WS" --timeout 20 -- sh -c "sleep $MARK & sleep $MARK" >/dev/null 2>&1 &
pid=$!
sleep 1
pgrep -f "sleep $MARK" >/dev/null && ok "the jail is running" || fail "the jail did not start"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
gone=no
for _ in 1 2 3 4 5 6 7 8 9 10; do
	pgrep -f "sleep $MARK" >/dev/null || { gone=yes; break; }
	sleep 0.2
done
[ "$gone" = yes ] && ok "SIGKILL to omnibox takes the whole jail with it" ||
	{ fail "jail processes outlived omnibox"; pkill -KILL -f "sleep $MARK"; }
finish
