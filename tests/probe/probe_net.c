/* probe_net.c - sockets and the network from inside the jail.
 *
 * Refused socket families and protocols, a working NETLINK_ROUTE, no way to
 * the outside or to the host's loopback and unix sockets, an own hostname.
 * Traffic to outside addresses is sent only when the netns holds nothing
 * but lo, so a probe run outside a jail never reaches the network. With
 * OMBX_PROBE_NET=proxy (a --net proxy jail), TCP to :80 must reach only the
 * proxy, other ports nothing, DNS only the stub, UDP nowhere. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "probe.h"

static bool net_isolated; /* netns holds only lo: outside traffic cannot leave */

/* ---------- sockets and network ---------- */

struct sock_case {
	const char *name;
	unsigned long domain, type; /* unsigned long: room for high bits */
	int proto;
};

static void check_socket_families(void)
{
	static const struct sock_case cases[] = {
		{ "socket(AF_PACKET, SOCK_RAW)", AF_PACKET, SOCK_RAW, 0x0300 /* htons(ETH_P_ALL) */ },
		{ "socket(AF_PACKET, SOCK_DGRAM)", AF_PACKET, SOCK_DGRAM, 0 },
		{ "socket(AF_INET, SOCK_RAW, ICMP)", AF_INET, SOCK_RAW, IPPROTO_ICMP },
		{ "socket(AF_INET, SOCK_RAW|CLOEXEC|NONBLOCK, RAW)", AF_INET,
		  SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_RAW },
		{ "socket(AF_INET6, SOCK_RAW, ICMPV6)", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6 },
		{ "socket(AF_INET, HIGH32|SOCK_RAW)", AF_INET, HIGH32 | SOCK_RAW, IPPROTO_ICMP },
		{ "socket(HIGH32|AF_PACKET, SOCK_RAW)", HIGH32 | AF_PACKET, SOCK_RAW, 0 },
		{ "socket(AF_VSOCK)", AF_VSOCK, SOCK_STREAM, 0 },
		{ "socket(AF_ALG)", AF_ALG, SOCK_SEQPACKET, 0 },
		{ "socket(AF_KEY)", AF_KEY, SOCK_RAW, 2 /* PF_KEY_V2 */ },
		{ "socket(AF_XDP)", AF_XDP, SOCK_RAW, 0 },
		{ "socket(AF_NETLINK, NETLINK_AUDIT)", AF_NETLINK, SOCK_RAW, NETLINK_AUDIT },
		{ "socket(AF_NETLINK, NETLINK_KOBJECT_UEVENT)", AF_NETLINK, SOCK_RAW, NETLINK_KOBJECT_UEVENT },
		{ "socket(AF_NETLINK, NETLINK_GENERIC)", AF_NETLINK, SOCK_RAW, NETLINK_GENERIC },
		{ "socket(AF_NETLINK, SOCK_DGRAM, NETLINK_GENERIC)", AF_NETLINK, SOCK_DGRAM, NETLINK_GENERIC },
		{ "socket(AF_NETLINK, NETLINK_NETFILTER)", AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER },
		{ "socket(AF_NETLINK, NETLINK_XFRM)", AF_NETLINK, SOCK_RAW, NETLINK_XFRM },
	};
	/* The filter answers EAFNOSUPPORT or EPERM depending on how it refuses
	 * (family not allowed vs SOCK_RAW / netlink protocol refused). */
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		EXPECT_FD(cases[i].name, syscall(SYS_socket, cases[i].domain, cases[i].type, cases[i].proto),
			  EAFNOSUPPORT, EPERM);
}

/* NETLINK_ROUTE stays usable: dump the links (names go to verbose output). */
static void check_netlink_route(void)
{
	const char *name = "NETLINK_ROUTE RTM_GETLINK dump works";
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		fail(name, "socket: %s", ename(errno));
		return;
	}
	struct { struct nlmsghdr nh; struct ifinfomsg ifi; } req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.ifi = { .ifi_family = AF_UNSPEC },
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		fail(name, "sendto: %s", ename(errno));
		close(fd);
		return;
	}
	int links = 0;
	bool done = false;
	static char buf[16384];
	while (!done) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0) {
			fail(name, "recv: %s", n < 0 ? ename(errno) : "EOF");
			close(fd);
			return;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			if (h->nlmsg_type != RTM_NEWLINK)
				continue;
			struct ifinfomsg *ifi = NLMSG_DATA(h);
			int alen = (int)IFLA_PAYLOAD(h);
			links++;
			for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
				if (a->rta_type == IFLA_IFNAME)
					note("link %s %s", (char *)RTA_DATA(a), (ifi->ifi_flags & 1) ? "UP" : "DOWN");
		}
	}
	close(fd);
	if (links > 0) {
		char what[32];
		snprintf(what, sizeof(what), "%d link(s)", links);
		ok(name, what);
	} else {
		fail(name, "the dump listed no link");
	}
}

/* Outside traffic is attempted only when /proc/net/dev lists nothing but lo:
 * then nothing can leave the machine, whatever the kernel answers. */
static void probe_net_isolation(void)
{
	const char *name = "network namespace holds only lo";
	FILE *f = fopen("/proc/net/dev", "re");
	if (!f) {
		fail(name, "cannot read /proc/net/dev: %s", ename(errno));
		return;
	}
	char line[256], others[256] = "";
	int lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		if (++lineno <= 2)
			continue;
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		char *ifname = line + strspn(line, " ");
		if (strcmp(ifname, "lo") && strlen(others) + strlen(ifname) + 2 < sizeof(others)) {
			strcat(others, " ");
			strcat(others, ifname);
		}
	}
	fclose(f);
	if (others[0]) {
		fail(name, "interfaces besides lo:%s", others);
		return;
	}
	net_isolated = true;
	ok(name, "lo only");
}

static socklen_t sockaddr_of(int family, const char *addr, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;
		s->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &s->sin_addr);
		return sizeof(*s);
	}
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
	s->sin6_family = AF_INET6;
	s->sin6_port = htons((uint16_t)port);
	inet_pton(AF_INET6, addr, &s->sin6_addr);
	return sizeof(*s);
}

static void connect_out(const char *name, int family, const char *addr, int port, int type)
{
	if (!net_isolated) {
		fail(name, "not attempted: the netns has interfaces besides lo, traffic could leave");
		return;
	}
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	len = sockaddr_of(family, addr, port, &ss);
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail(name, "socket: %s", ename(errno));
		return;
	}
	/* ENETUNREACH: no route; EACCES: Landlock's TCP connect rule; EPERM: a filter. */
	if (type == SOCK_STREAM)
		EXPECT(name, connect(fd, (struct sockaddr *)&ss, len), ENETUNREACH, EACCES, EPERM);
	else
		EXPECT(name, sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len), ENETUNREACH, EACCES, EPERM);
	close(fd);
}

static void check_icmp(void)
{
	const char *name = "ICMP echo via SOCK_DGRAM IPPROTO_ICMP";
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd < 0) { /* EACCES: ping_group_range excludes us */
		static const int want[] = { EACCES, EPERM };
		expect_errno(name, -1, errno, want, ARRAY_SIZE(want));
		return;
	}
	if (!net_isolated) {
		fail(name, "socket created; sendto not attempted, the netns has other interfaces");
		close(fd);
		return;
	}
	unsigned char echo[8] = { 8, 0, 0, 0, 0, 0, 0, 1 }; /* type 8: echo request */
	struct sockaddr_in dst = { .sin_family = AF_INET };
	inet_pton(AF_INET, "1.1.1.1", &dst.sin_addr);
	EXPECT(name, sendto(fd, echo, sizeof(echo), 0, (struct sockaddr *)&dst, sizeof(dst)),
	       ENETUNREACH, EACCES, EPERM);
	close(fd);
}

static void check_host_services(void)
{
	const char *port = getenv("OMBX_PROBE_HOST_PORT");
	if (port) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
		inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		/* ECONNREFUSED: our own loopback has no listener there; EACCES:
		 * Landlock's TCP connect rule; ENETUNREACH: our lo is down. */
		EXPECT("connect host 127.0.0.1:OMBX_PROBE_HOST_PORT",
		       connect(fd, (struct sockaddr *)&a, sizeof(a)), ECONNREFUSED, EACCES, ENETUNREACH);
		close(fd);
	} else {
		note("OMBX_PROBE_HOST_PORT unset: host TCP listener check skipped");
	}
	const char *path = getenv("OMBX_PROBE_HOST_UNIX");
	if (path) {
		struct sockaddr_un u = { .sun_family = AF_UNIX };
		snprintf(u.sun_path, sizeof(u.sun_path), "%s", path);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		/* ENOENT: not mounted in the jail; EACCES: visible but refused. */
		EXPECT("connect host unix socket path", connect(fd, (struct sockaddr *)&u, sizeof(u)), ENOENT, EACCES);
		close(fd);
	} else {
		note("OMBX_PROBE_HOST_UNIX unset: host unix socket check skipped");
	}
	const char *abs = getenv("OMBX_PROBE_HOST_ABSTRACT");
	if (abs) {
		struct sockaddr_un u = { .sun_family = AF_UNIX };
		size_t n = strnlen(abs, sizeof(u.sun_path) - 1);
		memcpy(u.sun_path + 1, abs, n);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		/* ECONNREFUSED: abstract names are per netns; EPERM: Landlock scope. */
		EXPECT("connect host abstract unix socket",
		       connect(fd, (struct sockaddr *)&u, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)),
		       ECONNREFUSED, EPERM);
		close(fd);
	} else {
		note("OMBX_PROBE_HOST_ABSTRACT unset: host abstract socket check skipped");
	}
}

/* --net proxy: TCP to :80 of any address lands on the proxy, which answers
 * for itself: a 403 naming omnibox proxy, or (an address it refuses to
 * dial at all) a close without a byte. Anything else is a way out. */
static void proxy_only(const char *name, int family, const char *addr, int port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	char req[160], buf[600];
	size_t got = 0;
	len = sockaddr_of(family, addr, port, &ss);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { .tv_sec = 10 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		fail(name, "connect: %s (the transparent listener should take it)", ename(errno));
		close(fd);
		return;
	}
	snprintf(req, sizeof(req), "GET /probe HTTP/1.1\r\nHost: %s%s%s\r\nConnection: close\r\n\r\n",
		 family == AF_INET6 ? "[" : "", addr, family == AF_INET6 ? "]" : "");
	if (write(fd, req, strlen(req)) < 0) {
		ok(name, "the proxy closed it before a request");
		close(fd);
		return;
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == sizeof(buf) - 1)
			break;
	}
	buf[got] = '\0';
	close(fd);
	if (got == 0)
		ok(name, "refused by the proxy (closed)");
	else if (!strncmp(buf, "HTTP/1.1 403", 12) && strstr(buf, "omnibox proxy"))
		ok(name, "only the proxy answered: 403");
	else
		fail(name, "something else answered: %.60s", buf);
}

/* --net proxy: DNS to any resolver reaches only the jail's stub. */
static void dns_stub_only(void)
{
	const char *name = "UDP 8.8.8.8:53 is answered by the stub only";
	static const unsigned char q[] = { 0x42, 0x42, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'p', 'r', 'o', 'b', 'e',
					   7, 'i', 'n', 'v', 'a', 'l', 'i', 'd', 0, 0, 1, 0, 1 };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(53) }, from;
	socklen_t flen = sizeof(from);
	unsigned char r[512];
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, "8.8.8.8", &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssize_t n = sendto(fd, q, sizeof(q), 0, (struct sockaddr *)&a, sizeof(a));
	if (n == (ssize_t)sizeof(q))
		n = recvfrom(fd, r, sizeof(r), 0, (struct sockaddr *)&from, &flen);
	close(fd);
	/* NXDOMAIN with AA set: the stub, authoritative for nothing it recurses */
	if (n >= 12 && r[0] == 0x42 && (r[2] & 0x84) == 0x84 && (r[3] & 15) == 3)
		ok(name, "NXDOMAIN from the stub, nothing recursed");
	else
		fail(name, "no stub answer (n=%zd, %s)", n, n < 0 ? ename(errno) : "unexpected reply");
}

static void udp_goes_nowhere(const char *name, const char *addr, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { .tv_sec = 2 };
	char buf[64];
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, addr, &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssize_t n = sendto(fd, "quic?", 5, 0, (struct sockaddr *)&a, sizeof(a));
	if (n == 5)
		n = recv(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n < 0 && (errno == EAGAIN || errno == ECONNREFUSED || errno == EACCES || errno == EPERM))
		ok(name, ename(errno));
	else
		fail(name, "got an answer (%zd bytes)", n);
}

static void check_hostname(void)
{
	const char *host = getenv("OMBX_PROBE_HOST_HOSTNAME");
	char mine[256] = "";
	if (!host) {
		note("OMBX_PROBE_HOST_HOSTNAME unset: hostname check skipped");
		return;
	}
	gethostname(mine, sizeof(mine) - 1);
	if (strcmp(mine, host))
		ok("own UTS namespace: hostname differs from the host's", mine);
	else
		fail("own UTS namespace: hostname differs from the host's", "it is the host's, \"%s\"", mine);
}

void check_network(void)
{
	const char *mode = getenv("OMBX_PROBE_NET");

	check_socket_families();
	check_netlink_route();
	probe_net_isolation();
	if (mode && !strcmp(mode, "proxy")) { /* the only way out is the proxy */
		if (!net_isolated)
			return;
		proxy_only("TCP 1.1.1.1:80 reaches only the proxy", AF_INET, "1.1.1.1", 80);
		proxy_only("TCP [2606:4700::1111]:80 reaches only the proxy", AF_INET6, "2606:4700::1111", 80);
		proxy_only("TCP 10.0.0.1:80 reaches only the proxy", AF_INET, "10.0.0.1", 80);
		proxy_only("TCP 169.254.169.254:80 reaches only the proxy", AF_INET, "169.254.169.254", 80);
		connect_out("TCP connect 1.1.1.1:8443", AF_INET, "1.1.1.1", 8443, SOCK_STREAM);
		connect_out("TCP connect 1.1.1.1:22", AF_INET, "1.1.1.1", 22, SOCK_STREAM);
		connect_out("TCP connect [2606:4700::1111]:8080", AF_INET6, "2606:4700::1111", 8080, SOCK_STREAM);
		dns_stub_only();
		udp_goes_nowhere("UDP 1.1.1.1:443 (QUIC) goes nowhere", "1.1.1.1", 443);
		udp_goes_nowhere("UDP 8.8.4.4:123 goes nowhere", "8.8.4.4", 123);
		check_icmp();
		check_host_services();
		check_hostname();
		return;
	}
	connect_out("TCP connect 1.1.1.1:443", AF_INET, "1.1.1.1", 443, SOCK_STREAM);
	connect_out("TCP connect 10.0.0.1:80", AF_INET, "10.0.0.1", 80, SOCK_STREAM);
	connect_out("TCP connect [2606:4700::1111]:443", AF_INET6, "2606:4700::1111", 443, SOCK_STREAM);
	connect_out("UDP sendto 8.8.8.8:53", AF_INET, "8.8.8.8", 53, SOCK_DGRAM);
	check_icmp();
	check_host_services();
	check_hostname();
}
