#!/bin/sh
# badinput.sh OMNIBOX: bad input is refused with the documented status and a
# message that names the offending thing.
. "$(dirname "$0")/lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")
make_workspace

# refused NAME WANT_RC TEXT WHAT ARGS...: omnibox exits WANT_RC and says TEXT on stderr.
refused() {
	_n=$1 _want=$2 _text=$3 _what=$4
	shift 4
	run "$_n" timeout -k 5 60 "$OMNIBOX" "$@"
	if [ "$RC" -eq "$_want" ] && grep -qF -- "$_text" "$T/$_n.err"; then
		ok "$_what (exit $RC)"
	else
		fail "$_what: exit $RC (want $_want), stderr should mention '$_text'"
		show "$_n"
	fi
}

refused unknown 125 "--no-such-option" "unknown option" exec --no-such-option -- true
refused nows 125 "/nonexistent/ombx-ws" "missing workspace" exec --workspace /nonexistent/ombx-ws -- true
refused mem 125 "12Q" "bad --memory size" exec --workspace "$WS" --memory 12Q -- true
refused net 125 "bogus" "bad --net mode" exec --workspace "$WS" --net bogus -- true
refused tmo 125 "soon" "bad --timeout" exec --workspace "$WS" --timeout soon -- true
refused pids 125 "lots" "bad --pids" exec --workspace "$WS" --pids lots -- true

PROFILE="$T/profile.yaml"
printf '# a profile with a typo\nnet: none\nmemroy: 64M\n' >"$PROFILE"
refused profile 125 "$PROFILE:3:1" "profile key typo reported as FILE:3:1" \
	exec --workspace "$WS" --profile "$PROFILE" -- true
refused noprofile 125 "$T/none.yaml" "missing profile file" \
	exec --workspace "$WS" --profile "$T/none.yaml" -- true

refused notfound 127 "ombx-no-such-command" "command not found" \
	exec --workspace "$WS" -- ombx-no-such-command
printf '#!/bin/sh\necho should not run\n' >"$WS/notexec.sh"
chmod 644 "$WS/notexec.sh"
own_workspace
refused noexec 126 "notexec.sh" "non-executable file" exec --workspace "$WS" -- "$WS/notexec.sh"

# --json-status is written even when nothing ran, saying why, with no layers.
run jsbad timeout -k 5 60 "$OMNIBOX" exec --json-status "$T/bad.json" --memory 12Q -- true
expect_rc jsbad 125 "bad --memory with --json-status"
[ "$(json_get "$T/bad.json" exit_code)" = 125 ] && [ "$(json_get "$T/bad.json" started)" = false ] &&
	[ "$(json_get "$T/bad.json" layers)" = null ] && ok "--json-status written for a refused run: 125, not started, no layers" ||
	fail "--json-status for a refused run: $(cat "$T/bad.json" 2>/dev/null)"
expect_in "$T/bad.json" "12Q" "the status names what was refused"
run jsgood timeout -k 5 60 "$OMNIBOX" exec --workspace "$WS" --json-status "$T/good.json" -- true
[ "$(json_get "$T/good.json" started)" = true ] && [ "$(json_get "$T/good.json" layers.seccomp)" = '"filter"' ] &&
	ok "--json-status of a run that started lists its layers" || fail "--json-status of a good run: $(cat "$T/good.json")"

run nocmd timeout -k 5 60 "$OMNIBOX" exec --workspace "$WS"
expect_rc nocmd 125 "exec without a command"
run nocmd2 timeout -k 5 60 "$OMNIBOX" exec --workspace "$WS" --
expect_rc nocmd2 125 "exec with '--' and no command"
finish
