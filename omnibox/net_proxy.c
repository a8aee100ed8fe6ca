/* net_proxy.c - the jail's only way out, built inside its network namespace.
 *
 * With --net proxy the jail's namespace has only `lo`. Here, inside it, we
 * make every listening socket the proxy will serve — the explicit proxy on
 * 127.0.0.1:3128, transparent listeners on :80 and :443 (IPv4 and IPv6), the
 * DNS stub on :53 (UDP and TCP, both families) — and an rtnetlink socket,
 * and hand them to the proxy (outside the jail) over a SOCK_SEQPACKET
 * socket with SCM_RIGHTS. Through that socket the proxy adds `local`
 * routes for 0.0.0.0/0 and ::/0 on lo (jail_routes.h), so that a
 * connection to any address lands on those listeners with the address it
 * dialled as its local address; it says 'K' only once they are in place.
 * Nothing is routable: there is no other interface, no veth and no
 * firewall rule. Any port without a listener refuses the connection. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "jail.h"

struct lsock {
	int family, type;
	const char *addr;
	unsigned port;
	char kind; /* E explicit, T transparent, U DNS/UDP, D DNS/TCP */
};

static const struct lsock socks[] = {
	{AF_INET, SOCK_STREAM, "127.0.0.1", OMBX_PROXY_PORT, 'E'},
	{AF_INET, SOCK_STREAM, "0.0.0.0", 80, 'T'},
	{AF_INET, SOCK_STREAM, "0.0.0.0", 443, 'T'},
	{AF_INET6, SOCK_STREAM, "::", 80, 'T'},
	{AF_INET6, SOCK_STREAM, "::", 443, 'T'},
	{AF_INET, SOCK_DGRAM, "0.0.0.0", 53, 'U'},
	{AF_INET6, SOCK_DGRAM, "::", 53, 'U'},
	{AF_INET, SOCK_STREAM, "0.0.0.0", 53, 'D'},
	{AF_INET6, SOCK_STREAM, "::", 53, 'D'},
};
#define N_SOCKS (sizeof(socks) / sizeof(socks[0]))
#define PROXY_START_MS 30000 /* for the proxy to serve what it was sent */

static int make_socket(const struct lsock *s)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int fd = socket(s->family, s->type | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s->family == AF_INET) {
		struct sockaddr_in *a = (void *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)s->port);
		inet_pton(AF_INET, s->addr, &a->sin_addr);
		len = sizeof(*a);
		/* DNS replies leave from the address the query was sent to */
		if (s->type == SOCK_DGRAM)
			setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	} else {
		struct sockaddr_in6 *a = (void *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)s->port);
		inet_pton(AF_INET6, s->addr, &a->sin6_addr);
		len = sizeof(*a);
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (s->type == SOCK_DGRAM)
			setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (s->type == SOCK_STREAM && listen(fd, 512) < 0)) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* A bound rtnetlink socket in this (the jail's) network namespace, for
 * the proxy to add the jail's routes through. */
static int make_rtnl_socket(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* The proxy says 'K' once it serves the sockets; a proxy that could not
 * start (a secret's source missing, say) closes its end instead, having
 * said why on stderr: then no command may run. */
static int wait_proxy(int fd, const char **what)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char k = 0;
	int r;

	while ((r = poll(&pfd, 1, PROXY_START_MS)) < 0 && errno == EINTR)
		;
	if (r == 0) {
		*what = "the egress proxy did not start in time";
		return -ETIMEDOUT;
	}
	if (r < 0 || recv(fd, &k, 1, 0) != 1 || k != 'K') {
		*what = "the egress proxy did not start (its error is above)";
		return -EPIPE;
	}
	return 0;
}

int ombx__net_proxy_setup(int send_fd, const char **what)
{
	int fds[N_SOCKS + 1];
	char kinds[N_SOCKS + 1];
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {kinds, sizeof(kinds)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm;
	size_t n = 0;
	int r = make_rtnl_socket();

	if (r < 0) {
		*what = "a netlink socket for the jail's routes";
	} else {
		fds[n] = r;
		kinds[n++] = 'R';
		r = 0;
	}
	for (size_t i = 0; r == 0 && i < N_SOCKS; i++) {
		r = make_socket(&socks[i]);
		if (r < 0) {
			*what = "a listening socket for the proxy";
			break;
		}
		fds[n] = r;
		kinds[n++] = socks[i].kind;
		r = 0;
	}
	if (r == 0) {
		memset(&u, 0, sizeof(u));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(fds));
		memcpy(CMSG_DATA(cm), fds, sizeof(fds));
		if (sendmsg(send_fd, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof(kinds)) {
			*what = "handing the listening sockets to the proxy";
			r = errno ? -errno : -EIO;
		}
	}
	if (r == 0)
		r = wait_proxy(send_fd, what);
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
	close(send_fd);
	return r;
}
