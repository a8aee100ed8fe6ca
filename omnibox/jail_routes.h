/* jail_routes.h - a jail's `local` routes, added by the egress proxy.
 *
 * With --net proxy every address the jail dials must land on the proxy's
 * listeners inside the jail: `local 0.0.0.0/0` and `local ::/0` on lo, in
 * the jail's network namespace. The jail's init makes an rtnetlink socket
 * there and hands it to `omnibox proxy` with the listening sockets; the
 * proxy adds the routes through it (libnl) before it says it serves, so
 * that `omnibox`, run at every launch, links no libnl (its constructors
 * cost 0.03 ms a start). The kernel checks the socket's opener (init,
 * holding the jail's capabilities then) and the sender (the proxy: root,
 * or the jail user namespace's owner) for CAP_NET_ADMIN over the jail's
 * namespace. */
#ifndef OMBX_JAIL_ROUTES_H
#define OMBX_JAIL_ROUTES_H

#include "../common/err.h"

/* Adds both routes through rtnl_fd (a bound NETLINK_ROUTE socket made in
 * the jail's namespace; closed here). 0, or -errno with err saying which
 * step failed. */
int ombx_jail_routes_add(int rtnl_fd, ombx_err *err);

#endif
