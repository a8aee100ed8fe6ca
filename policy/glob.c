/* glob.c - request paths and path globs.
 *
 * A glob is a path whose segments may be "*"-patterns ("*" matches within
 * one segment) or "**" (any number of whole segments, none included).
 * Paths and globs are normalised the same way before they meet: the query
 * and fragment dropped, %XX of unreserved characters decoded, other %XX
 * upper-cased, bytes outside RFC 3986's pchar percent-encoded. What a server
 * could read differently from us is refused rather than matched: dot-
 * segments (also as %2E), backslashes, control bytes, broken %XX. Matching
 * is linear-time backtracking over at most one "**" and one "*" at a time,
 * so no glob can make it slow. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define ERR(...)      (snprintf(msg, msgsize, __VA_ARGS__), -EINVAL)
#define GLOB_MAX      1024
#define GLOB_SEGS_MAX 128

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Byte classes of a path (RFC 3986 pchar, plus what we refuse). */
enum { C_ENC = 0, C_KEEP, C_SLASH, C_PCT, C_END, C_BAD, C_GLOBBAD };
static const unsigned char cls[256] = {
	/* everything else is C_ENC (0): percent-encoded for matching */
	[0 ... 0x20] = C_BAD,   [0x7f] = C_BAD,         ['\\'] = C_BAD,    ['a' ... 'z'] = C_KEEP,
	['A' ... 'Z'] = C_KEEP, ['0' ... '9'] = C_KEEP, ['-'] = C_KEEP,    ['.'] = C_KEEP,
	['_'] = C_KEEP,         ['~'] = C_KEEP, /* unreserved */
	['!'] = C_KEEP,         ['$'] = C_KEEP,         ['&'] = C_KEEP,    ['\''] = C_KEEP,
	['('] = C_KEEP,         [')'] = C_KEEP,         ['*'] = C_KEEP,    ['+'] = C_KEEP,
	[','] = C_KEEP,         [';'] = C_KEEP,         ['='] = C_KEEP,    [':'] = C_KEEP,
	['@'] = C_KEEP, /* sub-delims, ':' and '@' */
	['/'] = C_SLASH,        ['%'] = C_PCT,          ['?'] = C_END,     ['#'] = C_END,
	['['] = C_GLOBBAD,      [']'] = C_GLOBBAD,      ['{'] = C_GLOBBAD, ['}'] = C_GLOBBAD,
};

static bool unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static const char HEX[] = "0123456789ABCDEF";

static bool dot_segment(const char *seg, size_t len)
{
	return (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.');
}

/* Normalises s into out; glob says '*' is special and '?', '#' refused.
 * Checks dot-segments on the result. */
static int normalise(const char *s, size_t len, bool glob, char *out, size_t size, size_t *outlen,
		     char *msg, size_t msgsize)
{
	size_t o = 0, seg = 1, i;

	if (len == 0 || s[0] != '/')
		return ERR("a path must start with '/'");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int hi, lo;
		if (o + 4 > size)
			return ERR("path is longer than %d bytes", POLICY_PATH_MAX);
		switch (cls[c]) {
		case C_KEEP:
			out[o++] = (char)c;
			continue;
		case C_SLASH:
			if (i && dot_segment(out + seg, o - seg))
				return ERR("'.' and '..' segments are not allowed in a path");
			out[o++] = '/';
			seg = o;
			continue;
		case C_PCT:
			hi = i + 2 < len ? hexval(s[i + 1]) : -1;
			lo = hi >= 0 ? hexval(s[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return ERR("'%%' must be followed by two hex digits");
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
			if (unreserved(c)) {
				out[o++] = (char)c;
				continue;
			}
			break;
		case C_END:
			if (glob)
				return ERR("'%c' cannot appear in a path glob (queries and "
					   "fragments are not matched)",
					   c);
			goto done;
		case C_BAD:
			return ERR("byte 0x%02x must be percent-encoded in a path", c);
		case C_GLOBBAD:
			if (glob)
				return ERR("'%c' is not a glob character (only * and ** are)", c);
			break;
		default:
			break;
		}
		out[o++] = '%';
		out[o++] = HEX[c >> 4];
		out[o++] = HEX[c & 15];
	}
done:
	if (dot_segment(out + seg, o - seg))
		return ERR("'.' and '..' segments are not allowed in a path");
	out[o] = '\0';
	*outlen = o;
	return 0;
}

int policy__path_norm(const char *path, size_t len, char *out, size_t size, size_t *outlen,
		      char *msg, size_t msgsize)
{
	if (len > POLICY_PATH_MAX)
		return ERR("path is longer than %d bytes", POLICY_PATH_MAX);
	return normalise(path, len, false, out, size, outlen, msg, msgsize);
}

int policy__glob_parse(struct policy__arena *a, const char *s, size_t len, struct policy__glob *out,
		       char *msg, size_t msgsize)
{
	char buf[3 * GLOB_MAX + 4];
	size_t n, nseg = 0, start;
	int r;

	memset(out, 0, sizeof(*out));
	if (len > GLOB_MAX)
		return ERR("path glob is longer than %d bytes", GLOB_MAX);
	r = normalise(s, len, true, buf, sizeof(buf), &n, msg, msgsize);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		nseg += buf[i] == '/';
	if (nseg > GLOB_SEGS_MAX)
		return ERR("path glob has more than %d segments", GLOB_SEGS_MAX);
	out->text = policy__strndup(a, s, len);
	out->segs = policy__alloc(a, nseg * sizeof(*out->segs));
	out->seg_len = policy__alloc(a, nseg * sizeof(*out->seg_len));
	out->seg_kind = policy__alloc(a, nseg);
	if (!out->text || !out->segs || !out->seg_len || !out->seg_kind)
		return ERR("out of memory");
	start = 1;
	for (size_t k = 0; k < nseg; k++) {
		const char *e = memchr(buf + start, '/', n - start);
		size_t end = e ? (size_t)(e - buf) : n;
		size_t sl = end - start;
		const char *seg = buf + start;
		const char *dstar = sl ? memmem(seg, sl, "**", 2) : NULL;

		if (dstar && !(sl == 2))
			return ERR("'**' must be a whole segment (as in /a/**/b), not part of one");
		out->segs[k] = policy__strndup(a, seg, sl);
		if (!out->segs[k])
			return ERR("out of memory");
		out->seg_len[k] = (uint16_t)sl;
		out->seg_kind[k] = dstar ? SEG_DSTAR : memchr(seg, '*', sl) ? SEG_STAR : SEG_LIT;
		start = end + 1;
	}
	out->n_segs = nseg;
	return 0;
}

bool policy__wildmatch(const char *p, size_t plen, const char *t, size_t tlen)
{
	size_t pi = 0, ti = 0, sp = (size_t)-1, st = 0;

	while (ti < tlen) {
		if (pi < plen && p[pi] == '*') {
			sp = pi++;
			st = ti;
		} else if (pi < plen && p[pi] == t[ti]) {
			pi++;
			ti++;
		} else if (sp != (size_t)-1) {
			pi = sp + 1;
			ti = ++st;
		} else {
			return false;
		}
	}
	while (pi < plen && p[pi] == '*')
		pi++;
	return pi == plen;
}

static bool glob_seg(const struct policy__glob *g, size_t k, const char *t, size_t tlen)
{
	if (g->seg_kind[k] == SEG_LIT)
		return g->seg_len[k] == tlen && memcmp(g->segs[k], t, tlen) == 0;
	return policy__wildmatch(g->segs[k], g->seg_len[k], t, tlen);
}

bool policy__glob_match(const struct policy__glob *g, const char *path, size_t len)
{
	size_t pos = 1, gi = 0, star = (size_t)-1, star_pos = 0;

	if (len == 0 || path[0] != '/')
		return false;
	while (pos <= len) {
		const char *e = memchr(path + pos, '/', len - pos);
		size_t end = e ? (size_t)(e - path) : len;

		if (gi < g->n_segs && g->seg_kind[gi] == SEG_DSTAR) {
			star = gi++;
			star_pos = pos;
			continue;
		}
		if (gi < g->n_segs && glob_seg(g, gi, path + pos, end - pos)) {
			gi++;
			pos = end + 1;
			continue;
		}
		if (star == (size_t)-1)
			return false;
		/* let the "**" take one more segment and retry what follows it */
		e = memchr(path + star_pos, '/', len - star_pos);
		star_pos = e ? (size_t)(e - path) + 1 : len + 1;
		gi = star + 1;
		pos = star_pos;
	}
	while (gi < g->n_segs && g->seg_kind[gi] == SEG_DSTAR)
		gi++;
	return gi == g->n_segs;
}
