#!/bin/sh
# doctor.sh OMNIBOX: `omnibox doctor` tells the truth about this machine, as
# root and as an unprivileged user: its verdict matches what a real jail gets.
. "$(dirname "$0")/lib.sh"
need_omnibox "$1"
OMNIBOX=$(abspath "$1")

run doctor "$OMNIBOX" doctor
show doctor
expect_rc doctor 0 "doctor: every required layer available, self-test passed"
run json "$OMNIBOX" doctor --json
expect_rc json 0 "doctor --json"
[ "$(json_get "$T/json.out" ok)" = true ] && ok "doctor --json says ok" || fail "doctor --json: ok is not true"
abi=$(json_get "$T/json.out" landlock_abi)
want=$("$PY" -c 'import ctypes; print(ctypes.CDLL(None).syscall(444, None, 0, 1))')
[ "$abi" = "$want" ] && ok "doctor reports the kernel's Landlock ABI ($abi)" ||
	fail "doctor says Landlock ABI $abi, the kernel says $want"
for check in namespaces landlock seccomp self-test; do
	[ "$(json_get "$T/json.out" "checks.$check.ok")" = true ] && ok "check $check passed" ||
		fail "check $check: $(json_get "$T/json.out" "checks.$check.detail")"
done
# A jail's own status agrees with what doctor said it would get.
make_workspace
run st "$OMNIBOX" exec --workspace "$WS" --json-status "$T/st.json" -- true
[ "$(json_get "$T/st.json" layers.landlock_abi)" = "$abi" ] &&
	ok "a jail gets the Landlock ABI doctor reported" || fail "jail and doctor disagree on Landlock"
run bad "$OMNIBOX" doctor --bogus
expect_rc bad 125 "doctor with an unknown argument"

if [ "$(id -u)" -eq 0 ] && setpriv --reuid=65534 --regid=65534 --clear-groups -- unshare -U true 2>/dev/null; then
	run user setpriv --reuid=65534 --regid=65534 --clear-groups -- "$OMNIBOX" doctor --json
	expect_rc user 0 "doctor as an unprivileged user"
	[ "$(json_get "$T/user.out" privileged)" = false ] && ok "doctor knows it is unprivileged" ||
		fail "doctor as nobody claims privilege"
	[ "$(json_get "$T/user.out" checks.cgroup.ok)" = false ] &&
		ok "unprivileged without a delegated cgroup: reported, not faked" ||
		note "a cgroup is delegated to nobody here"
fi
finish
