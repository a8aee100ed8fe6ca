# lib.sh - shared helpers for the omnibox integration tests (POSIX sh, sourced).
#
# A test calls ok/fail for each assertion and `finish` at the end: exit 0 when
# nothing failed, 1 otherwise. `skip REASON` exits 77 at once (ctest SKIP);
# `die REASON` exits 1 at once. Everything a test creates is removed by the
# EXIT trap, including background helpers (killed by their own pid).

N_OK=0
N_FAIL=0
CLEANUP=""
T=$(mktemp -d /tmp/ombx-test.XXXXXX) || exit 1
chmod 755 "$T"
# Anything an assertion needs to see goes under $T: out/err of each run.
# shellcheck disable=SC2089 # CLEANUP is eval'ed, quotes included
CLEANUP="rm -rf '$T'"
# shellcheck disable=SC2090
trap 'eval "$CLEANUP"' EXIT
trap 'exit 1' INT TERM HUP

ok() { N_OK=$((N_OK + 1)); echo "ok - $*"; }
fail() { N_FAIL=$((N_FAIL + 1)); echo "FAIL - $*"; }
skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL - $*"; exit 1; }
note() { echo "# $*"; }

finish() {
	echo "$N_OK passed, $N_FAIL failed"
	[ "$N_FAIL" -eq 0 ] && exit 0
	exit 1
}

# at_exit CMD: run CMD (a string, eval'ed) when the test exits, before $T goes.
at_exit() { CLEANUP="$1; $CLEANUP"; }

# A hang fails and says where: OMBX_TEST_DEADLINE seconds after the start
# (CMake sets it a little under ctest's own timeout) the test's processes
# are shown with what each waits for (hang_dump.sh), then killed, and the
# test fails. Its sleeps hold no copy of the output ctest waits on.
if [ -n "${OMBX_TEST_DEADLINE:-}" ]; then
	_test_pid=$$
	_test_dir=$(dirname "$0")/../integration # lib.sh's own (tests/fixtures use it too)
	(
		exec </dev/null 1>&2
		_end=$(($(date +%s) + OMBX_TEST_DEADLINE))
		while [ "$(date +%s)" -lt "$_end" ]; do
			sleep 1 >/dev/null 2>&1
			kill -0 "$_test_pid" 2>/dev/null || exit 0
		done
		echo "FAIL - still running after $OMBX_TEST_DEADLINE s; what its processes wait for:"
		sh "$_test_dir/hang_dump.sh" "$_test_pid" --kill
	) &
	_watchdog=$!
	at_exit "kill $_watchdog 2>/dev/null"
fi

# need_omnibox PATH: the binary under test must exist; a missing one fails
# (it is a build problem, not a reason to skip).
need_omnibox() {
	[ -n "$1" ] || die "usage: $0 OMNIBOX [PROBE]"
	[ -x "$1" ] || die "omnibox binary not found or not executable: $1"
}

abspath() { (cd "$(dirname "$1")" && echo "$(pwd -P)/$(basename "$1")"); }

# Host Python for the helpers (JSON, listeners): the system one, which any
# user can run, rather than a shim under root's HOME.
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=$(command -v python3); fi

# The uid the jail runs as when root invokes it: the workspace owner.
WS_UID=65534
WS_GID=65534

# make_workspace: sets WS to a fresh directory, owned by nobody when we are
# root (root invocations are mapped to the workspace owner), else by us.
make_workspace() {
	WS=$(mktemp -d /tmp/ombx-ws.XXXXXX) || die "mktemp -d failed"
	at_exit "rm -rf '$WS'"
	chmod 755 "$WS"
	own_workspace
}

own_workspace() {
	if [ "$(id -u)" -eq 0 ]; then chown -R "$WS_UID:$WS_GID" "$WS"; fi
}

# make_git_fixture DIR: the persistence paths the jail must keep read-only.
make_git_fixture() {
	mkdir -p "$1/.git/hooks" || die "mkdir $1/.git/hooks"
	printf '#!/bin/sh\necho ombx-fixture-hook\nexit 0\n' >"$1/.git/hooks/pre-commit"
	chmod 755 "$1/.git/hooks/pre-commit"
	printf '[core]\n\trepositoryformatversion = 0\n\tbare = false\n' >"$1/.git/config"
}

# run NAME CMD...: stdout to $T/NAME.out, stderr to $T/NAME.err, status in RC,
# wall time in whole seconds in SECS. Standard input is /dev/null.
run() {
	_name=$1
	shift
	_t0=$(date +%s)
	"$@" <"/dev/null" >"$T/$_name.out" 2>"$T/$_name.err"
	RC=$?
	# shellcheck disable=SC2034 # read by the tests
	SECS=$(($(date +%s) - _t0))
}

# show NAME: print a run's output, indented, for the log.
show() {
	sed 's/^/    | /' "$T/$1.out"
	sed 's/^/    ! /' "$T/$1.err"
}

# expect_rc NAME WANT WHAT: assert the status of run NAME.
expect_rc() {
	if [ "$RC" -eq "$2" ]; then
		ok "$3 (exit $RC)"
	else
		fail "$3: exit $RC, expected $2"
		show "$1"
	fi
}

# expect_in FILE TEXT WHAT: FILE contains TEXT (fixed string).
expect_in() {
	if grep -qF -- "$2" "$1"; then
		ok "$3"
	else
		fail "$3: '$2' not in $(basename "$1")"
		sed 's/^/    ! /' "$1"
	fi
}

# json_get FILE KEY.PATH: prints the value in JSON syntax (true, 64, "x"),
# or nothing when the file or the key is missing.
json_get() {
	"$PY" - "$1" "$2" <<'EOF' 2>/dev/null
import json, sys
try:
    v = json.load(open(sys.argv[1]))
    for k in sys.argv[2].split("."):
        v = v[int(k)] if isinstance(v, list) else v[k]
except Exception:
    sys.exit(1)
print(json.dumps(v))
EOF
}

# expect_json FILE KEY WANT WHAT
expect_json() {
	_v=$(json_get "$1" "$2")
	if [ "$_v" = "$3" ]; then
		ok "$4 ($2 = $_v)"
	else
		fail "$4: $2 = '${_v:-<missing>}', expected $3"
	fi
}

# check_layers STATUS_JSON: the layers every jail must report.
check_layers() {
	_ns=$(json_get "$1" layers.namespaces)
	_missing=""
	for _n in user pid net ipc uts cgroup; do
		case "$_ns" in *"\"$_n\""*) ;; *) _missing="$_missing $_n" ;; esac
	done
	case "$_ns" in *'"mnt"'* | *'"mount"'*) ;; *) _missing="$_missing mnt" ;; esac
	if [ -n "$_ns" ] && [ -z "$_missing" ]; then
		ok "json-status: all namespaces ($_ns)"
	else
		fail "json-status: namespaces '${_ns:-<missing>}' lack:$_missing"
	fi
	expect_json "$1" layers.seccomp '"filter"' "json-status: seccomp"
	_ll=$(json_get "$1" layers.landlock_abi)
	case "$_ll" in
	[1-9] | [1-9][0-9]) ok "json-status: landlock_abi $_ll" ;;
	*) fail "json-status: landlock_abi '${_ll:-<missing>}', expected >= 1" ;;
	esac
}

# pids_matching PATTERN: host pids whose command line matches (pgrep -f).
pids_matching() { pgrep -f -- "$1" 2>/dev/null | tr '\n' ' '; }

# start_host_listeners: a TCP listener on 127.0.0.1 (port in HOST_PORT), a
# unix socket at HOST_UNIX and an abstract one named HOST_ABSTRACT, all on the
# host side. Each accepted connection is logged to $T/host-connections: a jail
# that reaches one of them has escaped. The helper ends by itself (300 s).
start_host_listeners() {
	HOST_UNIX="$T/host.sock"
	HOST_ABSTRACT="ombx-probe-host-$$"
	cat >"$T/listen.py" <<'PYEOF'
import os, select, socket, sys, time
log = open(sys.argv[1], "a", buffering=1)
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.bind(("127.0.0.1", 0)); t.listen(16)
u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
u.bind(sys.argv[2]); u.listen(16); os.chmod(sys.argv[2], 0o777)
a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
a.bind("\0" + sys.argv[3]); a.listen(16)
kind = {t: "tcp", u: "unix", a: "abstract"}
print(t.getsockname()[1], flush=True)
end = time.time() + 300
while time.time() < end:
    for s in select.select(list(kind), [], [], 1)[0]:
        c, _ = s.accept()
        log.write(kind[s] + " connection accepted\n")
        c.close()
PYEOF
	: >"$T/host-connections"
	"$PY" "$T/listen.py" "$T/host-connections" "$HOST_UNIX" "$HOST_ABSTRACT" >"$T/listen.port" 2>"$T/listen.err" &
	_lpid=$!
	at_exit "kill $_lpid 2>/dev/null"
	_i=0
	while [ ! -s "$T/listen.port" ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	HOST_PORT=$(cat "$T/listen.port")
	[ -n "$HOST_PORT" ] || die "host listener did not start: $(cat "$T/listen.err")"
}

# Skips (77) unless an unprivileged user (the workspace owner, from root)
# may make a user namespace here.
need_unprivileged_userns() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid="$WS_UID" --regid="$WS_GID" --clear-groups -- unshare -U true 2>/dev/null ||
			skip "unprivileged user namespaces are disabled (setpriv ... unshare -U true failed)"
	else
		unshare -U true 2>/dev/null || skip "unprivileged user namespaces are disabled (unshare -U true failed)"
	fi
}

# probe_test OMNIBOX PROBE root|user [proxy]: runs the escape probe in a jail,
# as root or as the unprivileged user 65534, and checks from the host side
# too; with "proxy", in a --policy jail (--net proxy) whose only way out is
# the proxy.
probe_test() {
	need_omnibox "$1"
	[ -f "$2" ] || die "probe binary not found: $2"
	OMNIBOX=$(abspath "$1")
	make_workspace
	make_git_fixture "$WS"
	own_workspace
	cp "$WS/.git/hooks/pre-commit" "$T/hook.orig"
	cp "$WS/.git/config" "$T/config.orig"
	# The probe gets its own read-only directory, readable by anyone.
	PDIR=$(mktemp -d /tmp/ombx-probe.XXXXXX) || die "mktemp"
	at_exit "rm -rf '$PDIR'"
	chmod 755 "$PDIR"
	cp "$2" "$PDIR/probe" || die "cannot copy the probe"
	chmod 755 "$PDIR/probe"
	OUT="$T/st"
	mkdir "$OUT"
	AS=""
	if [ "$3" = user ] && [ "$(id -u)" -eq 0 ]; then
		AS="setpriv --reuid=$WS_UID --regid=$WS_GID --clear-groups --"
		chown "$WS_UID:$WS_GID" "$OUT"
		UHOME=$(mktemp -d /tmp/ombx-home.XXXXXX) || die "mktemp"
		at_exit "rm -rf '$UHOME'"
		chown "$WS_UID:$WS_GID" "$UHOME"
		if ! $AS test -x "$OMNIBOX"; then
			# with the programs it runs from beside it (proxy, ca)
			for _p in "$OMNIBOX" "$(dirname "$OMNIBOX")/omnibox-proxy" \
				"$(dirname "$OMNIBOX")/omnibox-tools"; do
				[ -f "$_p" ] || continue
				cp "$_p" "$PDIR/$(basename "$_p")" && chmod 755 "$PDIR/$(basename "$_p")"
			done
			OMNIBOX="$PDIR/omnibox"
		fi
		AS="env HOME=$UHOME $AS"
	fi
	NETARGS=""
	if [ "$4" = proxy ]; then
		printf 'egress:\n  allow: ["GET example.invalid/**"]\n' >"$PDIR/policy.yaml"
		mkdir -p "$PDIR/state" && chmod 777 "$PDIR/state"
		NETARGS="--policy $PDIR/policy.yaml --audit $PDIR/state/audit.jsonl --ca $PDIR/state/ca --env OMBX_PROBE_NET=proxy"
	fi
	start_host_listeners
	# Left by the probe in its /tmp, /dev/shm and $HOME: must not show up here.
	MARKER="ombx-probe-marker-$$"
	MARKER_DIRS="/tmp /dev/shm ${UHOME:-$HOME}"
	# On the host, never passed in: the jail's environment is deny-by-default.
	OMBX_PROBE_SECRET=leak
	export OMBX_PROBE_SECRET
	# shellcheck disable=SC2086 # $AS is a command prefix, split on purpose
	run probe $AS timeout -k 5 120 "$OMNIBOX" exec --workspace "$WS" --ro "$PDIR" \
		--env "OMBX_PROBE_HOST_PORT=$HOST_PORT" --env "OMBX_PROBE_HOST_UNIX=$HOST_UNIX" \
		--env "OMBX_PROBE_HOST_ABSTRACT=$HOST_ABSTRACT" --env "OMBX_PROBE_HOST_HOSTNAME=$(hostname)" \
		--env "OMBX_PROBE_MARKER=$MARKER" --json-status "$OUT/status.json" $NETARGS \
		-- "$PDIR/probe" -v "$WS"
	unset OMBX_PROBE_SECRET
	note "probe output ($3):"
	show probe
	if [ "$RC" -eq 0 ]; then
		ok "probe passed every check inside the jail ($3)"
	else
		fail "probe inside the jail ($3) exited $RC; failing checks:"
		grep '^FAIL' "$T/probe.out" | sed 's/^/    /'
	fi
	if [ -s "$T/host-connections" ]; then
		fail "host listeners were reached from the jail: $(tr '\n' ' ' <"$T/host-connections")"
	else
		ok "no connection reached the host listeners"
	fi
	if cmp -s "$T/hook.orig" "$WS/.git/hooks/pre-commit" && cmp -s "$T/config.orig" "$WS/.git/config" &&
		[ "$(ls -A "$WS/.git/hooks")" = pre-commit ] && [ -d "$WS/.git" ]; then
		ok "host view: .git/hooks and .git/config unchanged"
	else
		fail "host view: the .git fixture changed: $(ls -la "$WS/.git" "$WS/.git/hooks" 2>&1 | tr '\n' ' ')"
	fi
	_left=""
	for _f in /usr/ombx-probe-x /etc/ombx-probe-x /ombx-probe-x /usr/lib/ombx-probe-x \
		/usr/ombx-probe-mv /usr/ombx-probe-d; do
		[ -e "$_f" ] && _left="$_left $_f"
	done
	for _d in $MARKER_DIRS; do
		[ -e "$_d/$MARKER" ] && _left="$_left $_d/$MARKER" && rm -f "$_d/$MARKER"
	done
	if [ -z "$_left" ]; then
		ok "host view: nothing created outside the workspace (nor the jail's /tmp, /dev/shm, \$HOME markers)"
	else
		fail "host view: the jail created$_left"
	fi
	if [ -s "$OUT/status.json" ]; then
		check_layers "$OUT/status.json"
	else
		fail "no --json-status file written"
	fi
}
