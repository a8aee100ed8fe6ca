/* jail_routes.c - see jail_routes.h. */
#include "jail_routes.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

/* lo's index in the jail's namespace, asked of that namespace. */
static int jail_lo(struct nl_sock *sk)
{
	struct rtnl_link *link = NULL;
	int i;

	if (rtnl_link_get_kernel(sk, 0, "lo", &link) < 0)
		return -1;
	i = rtnl_link_get_ifindex(link);
	rtnl_link_put(link);
	return i;
}

/* "local DST dev lo table local". */
static int add_local(struct nl_sock *sk, int lo, int family, const char *dst_s)
{
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = NULL;
	int r;

	if (!rt || !nh || nl_addr_parse(dst_s, family, &dst) < 0) {
		r = -NLE_NOMEM;
	} else {
		rtnl_route_set_family(rt, (uint8_t)family);
		rtnl_route_set_type(rt, RTN_LOCAL);
		rtnl_route_set_table(rt, RT_TABLE_LOCAL);
		rtnl_route_set_scope(rt, RT_SCOPE_HOST);
		rtnl_route_set_protocol(rt, RTPROT_STATIC);
		rtnl_route_set_dst(rt, dst);
		rtnl_route_nh_set_ifindex(nh, lo);
		rtnl_route_add_nexthop(rt, nh);
		nh = NULL; /* the route owns it */
		r = rtnl_route_add(sk, rt, NLM_F_CREATE | NLM_F_EXCL);
	}
	nl_addr_put(dst);
	if (nh)
		rtnl_route_nh_free(nh);
	rtnl_route_put(rt);
	return r;
}

int ombx_jail_routes_add(int rtnl_fd, ombx_err *err)
{
	struct nl_sock *sk = nl_socket_alloc();
	int lo, r;

	if (!sk) {
		close(rtnl_fd);
		return ombx_err_set(err, ENOMEM, "out of memory for the jail's routes");
	}
	if ((r = nl_socket_set_fd(sk, NETLINK_ROUTE, rtnl_fd)) < 0) {
		close(rtnl_fd);
		nl_socket_free(sk);
		return ombx_err_set(err, EPROTO, "the jail's netlink socket: %s", nl_geterror(r));
	}
	/* nl_socket_free closes rtnl_fd from here on */
	if ((lo = jail_lo(sk)) <= 0)
		r = ombx_err_set(err, ENODEV, "the jail's namespace has no lo");
	else if ((r = add_local(sk, lo, AF_INET, "0.0.0.0/0")) < 0)
		r = ombx_err_set(err, EIO, "adding the jail's local route for 0.0.0.0/0: %s",
				 nl_geterror(r));
	else if ((r = add_local(sk, lo, AF_INET6, "::/0")) < 0)
		r = ombx_err_set(err, EIO, "adding the jail's local route for ::/0: %s",
				 nl_geterror(r));
	nl_socket_free(sk);
	return r < 0 ? r : 0;
}
