#!/bin/sh
# probe_root.sh OMNIBOX PROBE: the escape probe in a jail started by root
# (the jail maps root to the workspace owner, uid 65534 here).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "needs root; probe_user.sh covers unprivileged runs"
probe_test "$1" "$2" root
finish
