#!/bin/sh
# probe_proxy_user.sh OMNIBOX PROBE: probe_proxy's checks in an unprivileged
# --net proxy jail (run from root, the jail's user is the workspace's
# owner). The proxy adds the jail's routes through a netlink socket made in
# the jail; the kernel lets an unprivileged proxy do so as the owner of the
# jail's user namespace, on other grounds than a root one, so both run.
. "$(dirname "$0")/lib.sh"
need_unprivileged_userns
probe_test "$1" "$2" user proxy
finish
