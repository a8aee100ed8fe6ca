#!/bin/sh
# probe_proxy_user.sh OMNIBOX PROBE: probe_proxy's checks in an unprivileged
# --net proxy jail (run from root, the jail's user is the workspace's
# owner). The proxy adds the jail's routes through a netlink socket made in
# the jail; the kernel lets an unprivileged proxy do so as the owner of the
# jail's user namespace, on other grounds than a root one, so both run.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -eq 0 ]; then
	setpriv --reuid=$WS_UID --regid=$WS_GID --clear-groups -- unshare -U true 2>/dev/null ||
		skip "unprivileged user namespaces are disabled (setpriv ... unshare -U true failed)"
else
	unshare -U true 2>/dev/null || skip "unprivileged user namespaces are disabled (unshare -U true failed)"
fi
probe_test "$1" "$2" user proxy
finish
