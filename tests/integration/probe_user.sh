#!/bin/sh
# probe_user.sh OMNIBOX PROBE: the escape probe in a jail started by an
# unprivileged user (uid 65534 via setpriv when we are root, else ourselves).
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -eq 0 ]; then
	setpriv --reuid=$WS_UID --regid=$WS_GID --clear-groups -- unshare -U true 2>/dev/null ||
		skip "unprivileged user namespaces are disabled (setpriv ... unshare -U true failed)"
else
	unshare -U true 2>/dev/null || skip "unprivileged user namespaces are disabled (unshare -U true failed)"
fi
probe_test "$1" "$2" user
finish
