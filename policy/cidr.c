/* cidr.c - IP addresses, CIDRs and the special-purpose ranges.
 *
 * Every address is held as 16 bytes, IPv4 as the v4-mapped IPv6 address, so
 * one comparison serves both families and a v4-mapped IPv6 address matches
 * the IPv4 CIDRs of the address it maps. A plain IPv4 address never matches
 * an IPv6 CIDR shorter than /96 (so "::/0" does not quietly mean "all IPv4"
 * too). Only the strict dotted quad is an IPv4 address here: inet_aton's
 * other spellings (2130706433, 0x7f000001, 0177.0.0.1, 127.1) are refused. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Strict dotted quad: four decimal parts 0-255, no leading zeros. */
int policy__parse_v4(const char *s, size_t len, uint8_t out[4])
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		size_t start = i;

		if (part > 0) {
			if (i >= len || s[i] != '.')
				return -EINVAL;
			start = ++i;
		}
		while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return -EINVAL;
		out[part] = (uint8_t)v;
	}
	return i == len ? 0 : -EINVAL;
}

static int parse_v6(const char *s, size_t len, uint8_t out[16])
{
	char buf[INET6_ADDRSTRLEN + 1];

	if (len == 0 || len >= sizeof(buf) || memchr(s, '%', len))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -EINVAL;
}

int policy_addr_parse(const char *s, struct policy_addr *out)
{
	size_t len = s ? strlen(s) : 0;
	uint8_t v4[4];

	if (!s)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (policy__parse_v4(s, len, v4) == 0) {
		memcpy(out->a, v4_prefix, 12);
		memcpy(out->a + 12, v4, 4);
		out->v4 = true;
		return 0;
	}
	if (len > 2 && s[0] == '[' && s[len - 1] == ']')
		return parse_v6(s + 1, len - 2, out->a);
	return parse_v6(s, len, out->a);
}

void policy__addr_text(const struct policy_addr *a, char *buf, size_t size)
{
	if (!inet_ntop(a->v4 ? AF_INET : AF_INET6, a->v4 ? a->a + 12 : a->a, buf, (socklen_t)size))
		snprintf(buf, size, "?");
}

static bool prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[whole] ^ b[whole]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

bool policy__cidr_match(const struct policy__cidr *c, const struct policy_addr *a)
{
	if (a->v4 && c->bits < 96)
		return false;
	return prefix_eq(c->a, a->a, c->bits);
}

bool policy__looks_cidr(const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	uint8_t tmp[16];
	bool v4ish = alen > 0;

	for (size_t i = 0; i < alen; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
			v4ish = false;
	if (!v4ish && parse_v6(s, alen, tmp) < 0)
		return false;
	if (!slash)
		return true;
	for (size_t i = alen + 1; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return alen + 1 < len;
}

int policy__cidr_parse(const char *s, size_t len, struct policy__cidr *out, char *msg,
		       size_t msgsize)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	unsigned bits = 0, max;
	uint8_t v4[4], masked[16];
	bool is4;

	memset(out, 0, sizeof(*out));
	is4 = policy__parse_v4(s, alen, v4) == 0;
	if (is4) {
		memcpy(out->a, v4_prefix, 12);
		memcpy(out->a + 12, v4, 4);
		max = 32;
	} else if (parse_v6(s, alen, out->a) == 0) {
		max = 128;
	} else {
		snprintf(msg, msgsize,
			 "not an IP address (IPv4 is four decimal parts without leading zeros, "
			 "e.g. 10.0.0.0/8; IPv6 e.g. fd00::/8)");
		return -EINVAL;
	}
	if (slash) {
		size_t i = alen + 1;
		if (i >= len || len - i > 3) {
			snprintf(msg, msgsize, "bad prefix length (expected /0 to /%u)", max);
			return -EINVAL;
		}
		for (; i < len; i++) {
			if (s[i] < '0' || s[i] > '9' ||
			    (i == alen + 1 && s[i] == '0' && len - i > 1)) {
				snprintf(msg, msgsize, "bad prefix length (expected /0 to /%u)",
					 max);
				return -EINVAL;
			}
			bits = bits * 10 + (unsigned)(s[i] - '0');
		}
		if (bits > max) {
			snprintf(msg, msgsize, "prefix length /%u is longer than /%u", bits, max);
			return -EINVAL;
		}
	} else {
		bits = max;
	}
	out->bits = (uint8_t)(is4 ? bits + 96 : bits);
	memset(masked, 0, sizeof(masked));
	memcpy(masked, out->a, out->bits / 8);
	if (out->bits % 8)
		masked[out->bits / 8] =
			out->a[out->bits / 8] & (uint8_t)(0xff << (8 - out->bits % 8));
	if (memcmp(masked, out->a, 16) != 0) {
		char net[INET6_ADDRSTRLEN];
		if (is4)
			inet_ntop(AF_INET, masked + 12, net, sizeof(net));
		else
			inet_ntop(AF_INET6, masked, net, sizeof(net));
		snprintf(msg, msgsize, "host bits are set (did you mean %s/%u?)", net, bits);
		return -EINVAL;
	}
	return 0;
}

/* ---- the special-purpose ranges (IANA registries, plus deprecated ones) ---- */

struct special {
	const char *name;
	struct policy__cidr c;
	bool v6_only; /* does not apply to an address given as IPv4 */
};

#define V4(o1, o2, o3, o4, n)                                                                      \
	{                                                                                          \
		.a = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, o1, o2, o3, o4}, .bits = 96 + (n)  \
	}
#define V6(n, ...)                                                                                 \
	{                                                                                          \
		.a = {__VA_ARGS__}, .bits = (n)                                                    \
	}

static const struct special specials[] = {
	{"this network (0.0.0.0/8)", V4(0, 0, 0, 0, 8), false},
	{"private (10.0.0.0/8)", V4(10, 0, 0, 0, 8), false},
	{"shared address space, CGNAT (100.64.0.0/10)", V4(100, 64, 0, 0, 10), false},
	{"loopback (127.0.0.0/8)", V4(127, 0, 0, 0, 8), false},
	{"link-local (169.254.0.0/16)", V4(169, 254, 0, 0, 16), false},
	{"private (172.16.0.0/12)", V4(172, 16, 0, 0, 12), false},
	{"IETF protocol assignments (192.0.0.0/24)", V4(192, 0, 0, 0, 24), false},
	{"documentation (192.0.2.0/24)", V4(192, 0, 2, 0, 24), false},
	{"AS112 (192.31.196.0/24)", V4(192, 31, 196, 0, 24), false},
	{"AMT (192.52.193.0/24)", V4(192, 52, 193, 0, 24), false},
	{"6to4 relay anycast (192.88.99.0/24)", V4(192, 88, 99, 0, 24), false},
	{"private (192.168.0.0/16)", V4(192, 168, 0, 0, 16), false},
	{"AS112 direct delegation (192.175.48.0/24)", V4(192, 175, 48, 0, 24), false},
	{"benchmarking (198.18.0.0/15)", V4(198, 18, 0, 0, 15), false},
	{"documentation (198.51.100.0/24)", V4(198, 51, 100, 0, 24), false},
	{"documentation (203.0.113.0/24)", V4(203, 0, 113, 0, 24), false},
	{"multicast (224.0.0.0/4)", V4(224, 0, 0, 0, 4), false},
	{"reserved (240.0.0.0/4)", V4(240, 0, 0, 0, 4), false},
	{"IPv4-mapped (::ffff:0:0/96)", V6(96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff), true},
	{"unspecified, loopback or IPv4-compatible (::/96)", V6(96, 0), true},
	{"IPv4-IPv6 translation (64:ff9b::/96)", V6(96, 0, 0x64, 0xff, 0x9b), true},
	{"local-use IPv4-IPv6 translation, NAT64 (64:ff9b:1::/48)",
	 V6(48, 0, 0x64, 0xff, 0x9b, 0, 1), true},
	{"discard-only (100::/64)", V6(64, 0x01, 0x00), true},
	{"Teredo (2001::/32)", V6(32, 0x20, 0x01, 0, 0), true},
	{"IETF protocol assignments (2001::/23)", V6(23, 0x20, 0x01, 0, 0), true},
	{"documentation (2001:db8::/32)", V6(32, 0x20, 0x01, 0x0d, 0xb8), true},
	{"6to4 (2002::/16)", V6(16, 0x20, 0x02), true},
	{"documentation (3fff::/20)", V6(20, 0x3f, 0xff), true},
	{"segment routing SIDs (5f00::/16)", V6(16, 0x5f, 0x00), true},
	{"unique local, ULA (fc00::/7)", V6(7, 0xfc), true},
	{"site-local, deprecated (fec0::/10)", V6(10, 0xfe, 0xc0), true},
	{"link-local (fe80::/10)", V6(10, 0xfe, 0x80), true},
	{"multicast (ff00::/8)", V6(8, 0xff), true},
};

const char *policy_addr_special(const struct policy_addr *a)
{
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
		if (specials[i].v6_only && a->v4)
			continue;
		if (prefix_eq(specials[i].c.a, a->a, specials[i].c.bits))
			return specials[i].name;
	}
	return NULL;
}

/* ---- the public face of the above (policy.h) ---- */

int policy_cidr_parse(const char *s, struct policy_cidr *out, ombx_err *err)
{
	struct policy__cidr c;
	char msg[200];
	int r = policy__cidr_parse(s, strlen(s), &c, msg, sizeof(msg));

	if (r < 0)
		return ombx_err_set(err, EINVAL, "%s", msg);
	memcpy(out->a, c.a, sizeof(out->a));
	out->bits = c.bits;
	return 0;
}

bool policy_cidr_match(const struct policy_cidr *c, const struct policy_addr *a)
{
	struct policy__cidr pc;

	memcpy(pc.a, c->a, sizeof(pc.a));
	pc.bits = c->bits;
	return policy__cidr_match(&pc, a);
}

void policy_addr_text(const struct policy_addr *a, char *buf, size_t size)
{
	policy__addr_text(a, buf, size);
}
