/* host.c - host canonicalisation and host patterns.
 *
 * One canonical spelling per destination, so that a rule written one way
 * matches a request spelled another: lowercase, no trailing dot, IDNA2008
 * A-labels (libidn2, UTS#46 non-transitional), IP literals in canonical
 * text. Anything that could be read two ways is refused instead of guessed:
 * non-canonical IPv4 spellings, names ending in a numeric label (which URL
 * parsers turn into IPv4 addresses), two trailing dots, empty labels, IPv6
 * zone identifiers. ASCII names never reach libidn2 unless they carry an
 * "xn--" label, which it then validates. */
#include <arpa/inet.h>
#include <errno.h>
#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ERR(...) (snprintf(msg, msgsize, __VA_ARGS__), -EINVAL)

static bool is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Whether the label at s (lowercase) is one a URL parser reads as a number:
 * all decimal digits, or 0x followed by hex digits. */
static bool numeric_label(const char *s, size_t len)
{
	size_t i = 0;

	if (len >= 2 && s[0] == '0' && s[1] == 'x') {
		for (i = 2; i < len; i++)
			if (!is_hex(s[i]))
				return false;
		return true;
	}
	for (; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return len > 0;
}

static int canon_v6(const char *s, size_t len, char *out, size_t size, char *msg, size_t msgsize)
{
	char buf[INET6_ADDRSTRLEN + 1];
	uint8_t a[16];

	if (memchr(s, '%', len))
		return ERR("IPv6 zone identifiers (%%...) are not allowed in a host");
	if (len >= sizeof(buf))
		return ERR("not an IPv6 address");
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET6, buf, a) != 1)
		return ERR("not an IPv6 address");
	if (size < INET6_ADDRSTRLEN || !inet_ntop(AF_INET6, a, out, (socklen_t)size))
		return ERR("IPv6 address does not fit");
	return 0;
}

/* Checks the labels of the lowercase ASCII name in out (len bytes). */
static int check_labels(const char *out, size_t len, bool *has_xn, char *msg, size_t msgsize)
{
	size_t start = 0;

	*has_xn = false;
	for (size_t i = 0; i <= len; i++) {
		size_t l;
		if (i < len && out[i] != '.') {
			if (!is_ldh(out[i]))
				return ERR(
					"%s host names may contain only letters, digits, '-' and "
					"'_' (found 0x%02x)",
					out[i] == ' ' ? "no spaces:" : "bad character:",
					(unsigned char)out[i]);
			continue;
		}
		l = i - start;
		if (l == 0)
			return ERR("empty label (two dots in a row, or a leading dot)");
		if (l > 63)
			return ERR("a label is longer than 63 characters");
		if (out[start] == '-' || out[i - 1] == '-')
			return ERR("a label starts or ends with '-'");
		if (l >= 4 && memcmp(out + start, "xn--", 4) == 0)
			*has_xn = true;
		start = i + 1;
	}
	return 0;
}

/* Runs UTS#46/IDNA2008 over name; the ASCII result replaces it in out. */
static int idna(const char *name, size_t len, char *out, size_t size, size_t *outlen, char *msg,
		size_t msgsize)
{
	char in[4 * POLICY_HOST_MAX + 8];
	char *res = NULL;
	size_t n;
	int r;

	if (len >= sizeof(in))
		return ERR("host name is too long");
	memcpy(in, name, len);
	in[len] = '\0';
	r = idn2_lookup_u8((const uint8_t *)in, (uint8_t **)&res,
			   IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
	if (r != IDN2_OK) {
		free(res);
		return ERR("not a valid internationalised name: %s", idn2_strerror(r));
	}
	n = strlen(res);
	if (n >= size) {
		free(res);
		return ERR("host name is longer than %d characters", POLICY_HOST_MAX);
	}
	memcpy(out, res, n + 1);
	free(res);
	*outlen = n;
	return 0;
}

/* A name ending in a numeric label is an IPv4 attempt (as URL parsers read
 * it): it must then be a canonical dotted quad, which sets *is_ip. */
static int numeric_tail(const char *out, size_t n, bool *is_ip, char *msg, size_t msgsize)
{
	const char *last = memrchr(out, '.', n);
	uint8_t v4[4];

	last = last ? last + 1 : out;
	if (!numeric_label(last, n - (size_t)(last - out)))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((out[i] >= '0' && out[i] <= '9') || out[i] == '.'))
			return ERR("a host name cannot end in a numeric label");
	if (policy__parse_v4(out, n, v4) < 0)
		return ERR("not a canonical IPv4 address (write four decimal parts without "
			   "leading zeros, e.g. 127.0.0.1)");
	*is_ip = true;
	return 0;
}

/* Lowercase LDH (and '_', '.'); 0 for every other byte. */
static const char fast_map[256] = {
	['a' ... 'z'] = 1, ['A' ... 'Z'] = 1, ['0' ... '9'] = 1, ['-'] = 1, ['_'] = 1, ['.'] = 1,
};

/* The common case in one pass: an ASCII name of valid LDH labels, no
 * "xn--" label, not ending in a numeric label. Returns its length, or 0 to
 * send anything else down the careful path (which also words the errors). */
static size_t fast_canon(const char *host, size_t len, char *out, size_t size)
{
	size_t start = 0, l;

	if (len && host[len - 1] == '.')
		len--;
	if (len == 0 || len > POLICY_HOST_MAX || len >= size)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? host[i] : '.';
		if (!fast_map[(unsigned char)c])
			return 0;
		if (c != '.') {
			out[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
			continue;
		}
		l = i - start;
		if (l == 0 || l > 63 || out[start] == '-' || out[i - 1] == '-' ||
		    (l >= 4 && memcmp(out + start, "xn--", 4) == 0))
			return 0;
		if (i < len)
			out[i] = '.';
		else if (numeric_label(out + start, l))
			return 0;
		start = i + 1;
	}
	out[len] = '\0';
	return len;
}

int policy__host_canon(const char *host, size_t len, char *out, size_t size, bool *is_ip, char *msg,
		       size_t msgsize)
{
	bool ascii = true, has_xn, idna_done = false;
	size_t n = 0;
	int r;

	*is_ip = false;
	if (fast_canon(host, len, out, size))
		return 0;
	if (len == 0)
		return ERR("empty host");
	if (len > 4 * POLICY_HOST_MAX + 2)
		return ERR("host name is too long");
	if (host[0] == '[') {
		if (len < 3 || host[len - 1] != ']')
			return ERR("unbalanced [ ] around an IPv6 address");
		*is_ip = true;
		return canon_v6(host + 1, len - 2, out, size, msg, msgsize);
	}
	if (memchr(host, ':', len)) {
		r = canon_v6(host, len, out, size, msg, msgsize);
		if (r < 0)
			return ERR("not a host name (':' belongs only in IPv6 addresses; a port "
				   "is not part of the host)");
		*is_ip = true;
		return 0;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)host[i] >= 0x80)
			ascii = false;
	if (!ascii) {
		r = idna(host, len, out, size, &n, msg, msgsize);
		if (r < 0)
			return r;
		idna_done = true;
	} else {
		if (len >= size)
			return ERR("host name is longer than %d characters", POLICY_HOST_MAX);
		for (size_t i = 0; i < len; i++) {
			char c = host[i];
			out[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
		}
		n = len;
		out[n] = '\0';
	}
	if (n > 0 && out[n - 1] == '.')
		out[--n] = '\0';
	if (n == 0)
		return ERR("empty host");
	if (n > POLICY_HOST_MAX)
		return ERR("host name is longer than %d characters", POLICY_HOST_MAX);
	r = check_labels(out, n, &has_xn, msg, msgsize);
	if (r < 0)
		return r;
	if (has_xn && !idna_done) {
		char tmp[POLICY_HOST_MAX + 1];
		size_t tn;
		r = idna(out, n, tmp, sizeof(tmp), &tn, msg, msgsize);
		if (r < 0)
			return r;
		if (tn != n || memcmp(tmp, out, n) != 0)
			return ERR("an xn-- label is not in canonical form");
	}
	return numeric_tail(out, n, is_ip, msg, msgsize);
}

int policy_host_canon(const char *host, char *out, size_t size, ombx_err *err)
{
	char msg[256], q[POLICY_QUOTE_MAX];
	bool is_ip;
	int r;

	if (!host)
		return ombx_err_set(err, EINVAL, "no host given");
	r = policy__host_canon(host, strlen(host), out, size, &is_ip, msg, sizeof(msg));
	if (r < 0) {
		ombx_quote(q, sizeof(q), host, strlen(host));
		return ombx_err_set(err, -r, "host %s: %s", q, msg);
	}
	return 0;
}

/* ---- patterns ---- */

int policy__hostpat_parse(struct policy__arena *a, const char *s, size_t len,
			  struct policy__hostpat *out, char *msg, size_t msgsize)
{
	char buf[POLICY_HOST_MAX + 1];
	bool is_ip;
	int r;

	memset(out, 0, sizeof(*out));
	if (len == 1 && s[0] == '*') {
		out->any = true;
		out->name = "*";
		out->len = 1;
		return 0;
	}
	if (len >= 2 && s[0] == '*' && s[1] == '.') {
		out->wildcard = true;
		s += 2;
		len -= 2;
	}
	if (memchr(s, '*', len))
		return ERR("a host pattern is an exact name, *.domain (its subdomains) or * (any "
			   "host); '*' cannot appear elsewhere");
	r = policy__host_canon(s, len, buf, sizeof(buf), &is_ip, msg, msgsize);
	if (r < 0)
		return r;
	if (is_ip)
		return ERR("IP addresses are matched by CIDR, not as host names (e.g. %s/%u)", buf,
			   strchr(buf, ':') ? 128 : 32);
	out->len = strlen(buf);
	out->name = policy__strndup(a, buf, out->len);
	if (!out->name)
		return ERR("out of memory");
	return 0;
}

bool policy__hostpat_match(const struct policy__hostpat *p, const char *host, size_t len,
			   bool is_ip)
{
	if (p->any)
		return true;
	if (is_ip)
		return false;
	if (!p->wildcard)
		return len == p->len && memcmp(host, p->name, len) == 0;
	return len > p->len + 1 && host[len - p->len - 1] == '.' &&
	       memcmp(host + len - p->len, p->name, p->len) == 0;
}
