#!/bin/sh
# probe_proxy.sh OMNIBOX PROBE: the escape probe in a --net proxy jail (root
# and unprivileged): every layer as in probe_root/probe_user, and the
# network's only way out is the proxy - TCP to :80 of any address reaches
# only it, other ports nothing, DNS only its stub, UDP nowhere.
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -eq 0 ]; then
	probe_test "$1" "$2" root proxy
else
	probe_test "$1" "$2" user proxy
fi
finish
