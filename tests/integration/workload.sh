#!/bin/sh
# workload.sh OMNIBOX: ordinary developer work inside a jail must just work:
# shells, interpreters, git, a C build, pipelines, signals and exit codes.
. "$(dirname "$0")/lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")
make_workspace

# jail NAME [OPTIONS...] -- CMD...: one jail on $WS, bounded in time.
jail() {
	_n=$1
	shift
	run "$_n" timeout -k 5 120 "$OMNIBOX" exec --workspace "$WS" "$@"
}

# expect_out NAME TEXT WHAT: status 0 and TEXT on stdout.
expect_out() {
	if [ "$RC" -eq 0 ] && grep -qxF -- "$2" "$T/$1.out"; then
		ok "$3"
	else
		fail "$3: exit $RC, stdout lacks the line '$2'"
		show "$1"
	fi
}

# --- shell script from the workspace
printf 'echo "from sh: $((6 * 7))"\n' >"$WS/script.sh"
own_workspace
jail sh -- sh "$WS/script.sh"
expect_out sh "from sh: 42" "sh runs a workspace script"

# --- interpreters, when the host has them (the jail mounts the host's /usr)
if [ -x /usr/bin/python3 ]; then
	jail python -- python3 -c 'import sys; print("py", sum(range(10)), sys.version_info[0])'
	expect_out python "py 45 3" "python3 -c"
else
	note "no /usr/bin/python3 on this host: python check not run"
fi
if [ -x /usr/bin/node ]; then
	jail node -- node -e 'console.log("node", 6 * 7)'
	expect_out node "node 42" "node -e"
else
	note "no /usr/bin/node on this host: node check not run"
fi

# --- git in a fresh repository, then in one made on the host (whose .git/hooks
# and .git/config the jail mounts read-only)
GITENV="--env GIT_AUTHOR_NAME=Probe --env GIT_AUTHOR_EMAIL=probe@example.invalid"
GITENV="$GITENV --env GIT_COMMITTER_NAME=Probe --env GIT_COMMITTER_EMAIL=probe@example.invalid"
mkdir -p "$WS/fresh"
echo "hello" >"$WS/fresh/README"
own_workspace
# shellcheck disable=SC2086
jail gitfresh $GITENV -- sh -c "cd '$WS/fresh' && git init -q && git add README &&
	git commit -q -m first && git status --porcelain && git log --format=%s"
expect_out gitfresh "first" "git init + add + commit + status in a new repository"
if [ "$RC" -eq 0 ] && [ "$(grep -cv '^first$' "$T/gitfresh.out")" -ne 0 ]; then
	fail "git status not clean after commit: $(tr '\n' ' ' <"$T/gitfresh.out")"
fi

mkdir -p "$WS/host"
echo "one" >"$WS/host/a.txt"
if git -C "$WS/host" init -q && git -C "$WS/host" add a.txt &&
	git -C "$WS/host" -c user.name=Host -c user.email=host@example.invalid commit -q -m host; then
	own_workspace
	echo "two" >"$WS/host/b.txt"
	own_workspace
	# shellcheck disable=SC2086
	jail githost $GITENV -- sh -c "cd '$WS/host' && git add b.txt && git commit -q -m second &&
		git status --porcelain && git log --format=%s | head -1"
	expect_out githost "second" "git add + commit + status in an existing repository (hooks/config read-only)"
else
	fail "host-side git setup failed"
fi

# --- make + cc, then run the result
cat >"$WS/hello.c" <<'CEOF'
#include <stdio.h>
int main(void) { printf("hello %d\n", 6 * 7); return 0; }
CEOF
printf 'hello: hello.c\n\tcc -O2 -o hello hello.c\n' >"$WS/Makefile"
own_workspace
jail make -- sh -c "make -s -C '$WS' && '$WS/hello'"
expect_out make "hello 42" "make + cc + run"

# --- pipeline
jail pipe -- sh -c 'seq 1 1000 | sort -n | tail -1'
expect_out pipe "1000" "seq | sort -n | tail -1"

# --- stdin and stderr reach the command and come back
printf 'abc\n' >"$T/stdin"
timeout -k 5 60 "$OMNIBOX" exec --workspace "$WS" -- cat <"$T/stdin" >"$T/stdin.out" 2>"$T/stdin.err"
RC=$?
expect_out stdin "abc" "stdin is passed to the command"
jail stderr -- sh -c 'echo to-stderr >&2'
expect_in "$T/stderr.err" "to-stderr" "stderr is passed back"

# --- signals inside the jail
jail sig -- sh -c 'sleep 10 & kill $!; wait $!; echo "waited $?"'
expect_out sig "waited 143" "kill of a background job, wait sees 143"
[ "$SECS" -lt 8 ] || fail "killing a background sleep took ${SECS}s"
jail trap -- sh -c 'trap "echo trapped; exit 7" USR1; kill -USR1 $$; sleep 1'
expect_rc trap 7 "a shell traps a signal it sends itself and exits from the trap"
expect_in "$T/trap.out" "trapped" "the trap handler ran"

# --- the command gets every CPU omnibox had (setup places its process on
# another CPU than init's for a while, and must give them all back)
HOSTCPUS=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
jail cpus -- sh -c 'sed -n "s/^Cpus_allowed_list:[[:space:]]*//p" /proc/self/status'
expect_out cpus "$HOSTCPUS" "the command may run on every CPU omnibox may ($HOSTCPUS)"
# ... also when a CPU-bound loop runs beside the jail: init, waiting for
# the command's process, then pulls it onto its own CPU (child.c), and
# must let go of it again.
nice -n 19 sh -c 'while :; do :; done' &
HOG=$!
at_exit "kill $HOG 2>/dev/null"
_pinned=0
for _i in 1 2 3 4 5 6 7 8 9 10; do
	jail cpus_busy -- sh -c 'sed -n "s/^Cpus_allowed_list:[[:space:]]*//p" /proc/self/status'
	grep -qxF -- "$HOSTCPUS" "$T/cpus_busy.out" || _pinned=$((_pinned + 1))
done
kill "$HOG"
[ "$_pinned" = 0 ] && ok "beside a busy loop too, 10 of 10 launches" ||
	fail "beside a busy loop, $_pinned of 10 commands ran on fewer CPUs: $(cat "$T/cpus_busy.out")"

# --- exit codes
jail exit3 -- sh -c 'exit 3'
expect_rc exit3 3 "the command's own exit status"
jail term -- sh -c 'kill -TERM $$'
expect_rc term 143 "killed by SIGTERM gives 128+15"
jail kill -- sh -c 'kill -KILL $$'
expect_rc kill 137 "killed by SIGKILL gives 128+9"
jail true -- true
expect_rc true 0 "true"
finish
