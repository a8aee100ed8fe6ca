#!/bin/sh
# --tty: the command gets a terminal (isatty, window size, input, output),
# without --tty it gets none, and the exit status still comes through.
. "$(dirname "$0")/lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")
DRIVE="$PY $(dirname "$0")/../fixtures/pty_drive.py"
make_workspace
cd "$WS" || die "cd $WS"

out=$($DRIVE 33 101 hello -- "$OMNIBOX" exec --tty -- sh -c \
	'test -t 0 && test -t 1 && echo stdin-and-stdout-are-ttys; tty; stty size; read x; echo "got:$x"; exit 7' 2>&1)
code=$?
echo "$out" | sed 's/^/    | /'
echo "$out" | grep -qx 'stdin-and-stdout-are-ttys' && ok "--tty: stdin and stdout are terminals" || fail "--tty: not a terminal"
echo "$out" | grep -qx '/dev/pts/0' && ok "--tty: the terminal has a name in the jail (/dev/pts/0)" ||
	fail "--tty: tty(1) does not name the terminal"
echo "$out" | grep -qx '33 101' && ok "--tty: window size passed on (33 101)" || fail "--tty: window size lost"
echo "$out" | grep -qx 'got:hello' && ok "--tty: input relayed" || fail "--tty: input not relayed"
[ "$code" = 7 ] && ok "--tty: exit status 7 passed through" || fail "--tty: exit status $code, expected 7"

out=$(OMBX_RESIZE=50,132 $DRIVE 24 80 go -- "$OMNIBOX" exec --tty -- sh -c 'stty size; read x; stty size' 2>&1)
echo "$out" | sed 's/^/    | /'
echo "$out" | grep -qx '50 132' && ok "--tty: a window resize reaches the jail (24 80 -> 50 132)" ||
	fail "--tty: the resize did not reach the jail"

out=$($DRIVE 24 80 hello -- "$OMNIBOX" exec -- sh -c 'if test -t 0; then echo has-tty; else echo no-tty; fi; (exec 3</dev/tty) 2>/dev/null && echo has-ctty || echo no-ctty' 2>&1)
echo "$out" | sed 's/^/    | /'
echo "$out" | grep -qx 'no-ctty' && ok "without --tty: no controlling terminal" || fail "without --tty: /dev/tty opens"
finish
