/* dns.c - the jail's DNS stub: names in, fake addresses out, nothing recursed.
 *
 * A jail's resolver talks to this stub on port 53 (UDP and TCP) and to
 * nothing else. A name some egress rule could allow gets an A record from a
 * private fake range (PROXY_FAKE_V4, 198.18.0.0/15), remembered so that a
 * transparent connection to that address carries its name even without SNI;
 * other names get NXDOMAIN, other types an empty answer. The stub never
 * asks anyone: the proxy resolves a name itself, once, when a request to it
 * is allowed. Queries are parsed with libresolv (ns_initparse/ns_parserr);
 * anything malformed is dropped (UDP) or closed (TCP). */
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy/internal.h"

#define FAKE_BASE   0xc6120001u      /* 198.18.0.1: .0 is not handed out */
#define FAKE_SIZE   ((1u << 17) - 2) /* the rest of the /15 */
#define TCP_TIMEOUT 2000             /* ms for a TCP query, start to end */

bool proxy__dns_fake(const struct policy_addr *a, uint32_t *index)
{
	uint32_t v;

	if (!a->v4)
		return false;
	v = (uint32_t)a->a[12] << 24 | (uint32_t)a->a[13] << 16 | (uint32_t)a->a[14] << 8 |
	    a->a[15];
	if (v < FAKE_BASE || v >= FAKE_BASE + FAKE_SIZE)
		return false;
	*index = v - FAKE_BASE;
	return true;
}

int proxy__dns_name_of(struct proxy *p, const struct policy_addr *a, char *out, size_t size)
{
	uint32_t i;
	int r = -ENOENT;

	if (!proxy__dns_fake(a, &i))
		return -EINVAL;
	pthread_mutex_lock(&p->dns_lock);
	if (i < p->n_dns_names) {
		snprintf(out, size, "%s", p->dns_names[i]);
		r = 0;
	}
	pthread_mutex_unlock(&p->dns_lock);
	return r;
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The slot of name in the index: its entry, or the empty slot it would take. */
static size_t index_slot(const struct proxy *p, const char *name)
{
	size_t mask = p->dns_index_cap - 1, k = name_hash(name) & mask;

	while (p->dns_index[k] && strcmp(p->dns_names[p->dns_index[k] - 1], name) != 0)
		k = (k + 1) & mask;
	return k;
}

/* Room for one more name in the index (rebuilt twice as large when half
 * full); -ENOMEM. */
static int index_room(struct proxy *p)
{
	size_t cap = p->dns_index_cap ? p->dns_index_cap : 128;
	uint32_t *old = p->dns_index;

	if (p->dns_index && (p->n_dns_names + 1) * 2 <= p->dns_index_cap)
		return 0;
	while ((p->n_dns_names + 1) * 2 > cap)
		cap *= 2;
	p->dns_index = calloc(cap, sizeof(*p->dns_index));
	if (!p->dns_index) {
		p->dns_index = old;
		return -ENOMEM;
	}
	p->dns_index_cap = cap;
	for (size_t i = 0; i < p->n_dns_names; i++)
		p->dns_index[index_slot(p, p->dns_names[i])] = (uint32_t)i + 1;
	free(old);
	return 0;
}

/* The fake address of name (canonical), allocated on first sight. */
static int fake_of(struct proxy *p, const char *name, uint32_t *ip)
{
	size_t k;
	int r = 0;

	pthread_mutex_lock(&p->dns_lock);
	if (p->dns_index) {
		k = index_slot(p, name);
		if (p->dns_index[k]) {
			*ip = FAKE_BASE + p->dns_index[k] - 1;
			goto out;
		}
	}
	if (p->n_dns_names >= PROXY_DNS_NAMES_MAX) {
		r = -ENOSPC;
		goto out;
	}
	if (p->n_dns_names == p->cap_dns_names) {
		size_t cap = p->cap_dns_names ? p->cap_dns_names * 2 : 64;
		char **nv = realloc(p->dns_names, cap * sizeof(*nv));
		if (!nv) {
			r = -ENOMEM;
			goto out;
		}
		p->dns_names = nv;
		p->cap_dns_names = cap;
	}
	if (index_room(p) < 0) {
		r = -ENOMEM;
		goto out;
	}
	p->dns_names[p->n_dns_names] = strdup(name);
	if (!p->dns_names[p->n_dns_names]) {
		r = -ENOMEM;
		goto out;
	}
	p->dns_index[index_slot(p, name)] = (uint32_t)p->n_dns_names + 1;
	*ip = FAKE_BASE + (uint32_t)p->n_dns_names++;
out:
	pthread_mutex_unlock(&p->dns_lock);
	return r;
}

static void put16(unsigned char *b, unsigned v)
{
	b[0] = (unsigned char)(v >> 8);
	b[1] = (unsigned char)v;
}

size_t proxy__dns_reply(const unsigned char *q, size_t n, unsigned char *out,
			proxy__dns_lookup_fn lookup, void *arg)
{
	char name[NS_MAXDNAME], canon[POLICY_HOST_MAX + 1];
	ombx_err err;
	ns_msg msg;
	ns_rr rr;
	int skip, rcode = ns_r_noerror, r;
	size_t qend, len;
	uint32_t ip = 0;
	bool a = false;

	if (n < NS_HFIXEDSZ || n > PROXY_DNS_MSG_MAX || ns_initparse(q, (int)n, &msg) < 0 ||
	    ns_msg_getflag(msg, ns_f_qr) || ns_msg_getflag(msg, ns_f_opcode) != ns_o_query ||
	    ns_msg_count(msg, ns_s_qd) != 1 || ns_parserr(&msg, ns_s_qd, 0, &rr) < 0)
		return 0;
	skip = dn_skipname(q + NS_HFIXEDSZ, q + n);
	if (skip < 0 || NS_HFIXEDSZ + (size_t)skip + 4 > n)
		return 0;
	qend = NS_HFIXEDSZ + (size_t)skip + 4;
	snprintf(name, sizeof(name), "%s", ns_rr_name(rr));
	if (ns_rr_class(rr) != ns_c_in || policy_host_canon(name, canon, sizeof(canon), &err) < 0) {
		rcode = ns_r_nxdomain;
	} else {
		r = lookup(arg, canon, ns_rr_type(rr) == ns_t_a, &ip);
		if (r < 0)
			rcode = r == -ENOENT ? ns_r_nxdomain : ns_r_servfail;
		a = r == 1;
	}
	/* header: the query's id and RD, QR and AA set, one question */
	memcpy(out, q, qend);
	out[2] = (unsigned char)(0x84 | (q[2] & 0x01));
	out[3] = (unsigned char)rcode;
	put16(out + 4, 1);
	put16(out + 6, a ? 1 : 0);
	put16(out + 8, 0);
	put16(out + 10, 0);
	len = qend;
	if (a) {
		unsigned char *rec = out + len;
		put16(rec, 0xc000 | NS_HFIXEDSZ); /* the question's name */
		put16(rec + 2, ns_t_a);
		put16(rec + 4, ns_c_in);
		memset(rec + 6, 0, 2);
		put16(rec + 8, 60); /* TTL */
		put16(rec + 10, 4);
		rec[12] = (unsigned char)(ip >> 24);
		rec[13] = (unsigned char)(ip >> 16);
		rec[14] = (unsigned char)(ip >> 8);
		rec[15] = (unsigned char)ip;
		len += 16;
	}
	return len;
}

/* The stub's policy: a name some rule could allow; an A gets a fake address. */
static int stub_lookup(void *arg, const char *canon, bool want_a, uint32_t *ip)
{
	struct proxy *p = arg;
	bool could;

	pthread_mutex_lock(&p->policy_lock);
	could = policy_host_could_be_allowed(p->session, canon);
	pthread_mutex_unlock(&p->policy_lock);
	if (!could)
		return -ENOENT;
	if (!want_a)
		return 0;
	return fake_of(p, canon, ip) == 0 ? 1 : -ENOSPC;
}

static size_t answer(struct proxy *p, const unsigned char *q, size_t n, unsigned char *out)
{
	return proxy__dns_reply(q, n, out, stub_lookup, p);
}

/* Makes (level, type, data) reply's one control message, in buf (at least
 * CMSG_SPACE(len) bytes, cmsghdr-aligned). */
static void set_cmsg(struct msghdr *reply, char *buf, int level, int type, const void *data,
		     size_t len)
{
	struct cmsghdr *o = (struct cmsghdr *)(void *)buf;

	o->cmsg_level = level;
	o->cmsg_type = type;
	o->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(o), data, len);
	reply->msg_control = buf;
	reply->msg_controllen = CMSG_SPACE(len);
}

/* One UDP query. The answer leaves from the address the query was sent to
 * (IP_PKTINFO / IPV6_PKTINFO, set on the socket by the jail): with every
 * address local, a query to 8.8.8.8 is answered as 8.8.8.8. */
static void serve_udp(struct proxy *p, int fd)
{
	unsigned char q[PROXY_DNS_MSG_MAX], out[PROXY_DNS_MSG_MAX + 16];
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} cin, cout;
	struct sockaddr_storage from;
	struct iovec iov = {q, sizeof(q)}, oiov;
	struct msghdr mh = {.msg_name = &from,
			    .msg_namelen = sizeof(from),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cin.buf,
			    .msg_controllen = sizeof(cin.buf)};
	struct msghdr reply;
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
	size_t len;

	if (n <= 0 || (mh.msg_flags & MSG_TRUNC))
		return;
	len = answer(p, q, (size_t)n, out);
	if (!len)
		return;
	oiov = (struct iovec){out, len};
	reply = (struct msghdr){.msg_name = &from,
				.msg_namelen = mh.msg_namelen,
				.msg_iov = &oiov,
				.msg_iovlen = 1};
	memset(&cout, 0, sizeof(cout));
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			set_cmsg(&reply, cout.buf, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
		} else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			pi.ipi6_ifindex = 0;
			set_cmsg(&reply, cout.buf, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
		}
	}
	sendmsg(fd, &reply, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Reads exactly n bytes before the deadline. */
static int read_full(int fd, unsigned char *b, size_t n, int64_t deadline)
{
	while (n > 0) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - proxy__now_ms();
		ssize_t r;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -ETIMEDOUT;
		r = read(fd, b, n);
		if (r <= 0)
			return -EIO;
		b += r, n -= (size_t)r;
	}
	return 0;
}

static void serve_tcp(struct proxy *p, int lfd)
{
	unsigned char q[PROXY_DNS_MSG_MAX], out[PROXY_DNS_MSG_MAX + 18];
	int64_t deadline = proxy__now_ms() + TCP_TIMEOUT;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	size_t qlen, len;

	if (fd < 0)
		return;
	if (read_full(fd, q, 2, deadline) == 0) {
		qlen = (size_t)q[0] << 8 | q[1];
		if (qlen <= sizeof(q) && read_full(fd, q, qlen, deadline) == 0 &&
		    (len = answer(p, q, qlen, out + 2)) > 0) {
			put16(out, (unsigned)len);
			(void)!write(fd, out, len + 2);
		}
	}
	close(fd);
}

static void *dns_main(void *arg)
{
	struct proxy *p = arg;
	struct pollfd pfd[PROXY_DNS_FDS_MAX + 1];
	size_t n = p->o.n_dns;

	for (size_t i = 0; i < n; i++)
		pfd[i] = (struct pollfd){.fd = p->o.dns_fds[i], .events = POLLIN};
	pfd[n] = (struct pollfd){.fd = p->dns_stop[0], .events = POLLIN};
	for (;;) {
		if (poll(pfd, n + 1, -1) < 0 && errno != EINTR)
			return NULL;
		if (pfd[n].revents)
			return NULL;
		for (size_t i = 0; i < n; i++)
			if (pfd[i].revents)
				(p->o.dns_tcp[i] ? serve_tcp : serve_udp)(p, pfd[i].fd);
	}
}

int proxy__dns_start(struct proxy *p, ombx_err *err)
{
	if (p->o.n_dns == 0)
		return 0;
	if (pipe2(p->dns_stop, O_CLOEXEC) < 0)
		return ombx_err_errno(err, errno, "proxy: pipe2");
	if (pthread_create(&p->dns_thread, NULL, dns_main, p) != 0)
		return ombx_err_set(err, EAGAIN, "proxy: cannot start the DNS stub's thread");
	p->dns_started = true;
	return 0;
}

void proxy__dns_stop(struct proxy *p)
{
	if (p->dns_started) {
		(void)!write(p->dns_stop[1], "x", 1);
		pthread_join(p->dns_thread, NULL);
		p->dns_started = false;
	}
	for (int i = 0; i < 2; i++)
		if (p->dns_stop[i] >= 0)
			close(p->dns_stop[i]);
	for (size_t i = 0; i < p->o.n_dns; i++)
		close(p->o.dns_fds[i]);
	p->o.n_dns = 0;
	for (size_t i = 0; i < p->n_dns_names; i++)
		free(p->dns_names[i]);
	free(p->dns_names);
	free(p->dns_index);
	p->dns_names = NULL;
	p->dns_index = NULL;
	p->n_dns_names = p->dns_index_cap = 0;
}
