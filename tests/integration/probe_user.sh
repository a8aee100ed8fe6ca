#!/bin/sh
# probe_user.sh OMNIBOX PROBE: the escape probe in a jail started by an
# unprivileged user (uid 65534 via setpriv when we are root, else ourselves).
. "$(dirname "$0")/lib.sh"
need_unprivileged_userns
probe_test "$1" "$2" user
finish
