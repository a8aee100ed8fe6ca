/* test_redact.c - the response redactor (proxy/redact.h): the plain value;
 * base64 and base64url at every alignment, inside longer encoded data, masked
 * so that decoding no longer yields the secret; a Basic credential; URL
 * encodings with upper and lower hex; overlapping occurrences; streams split
 * at every boundary giving exactly what the whole-buffer call gives; no false
 * positives on 1 MiB of random data; argument bounds. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proxy/redact.h"

static const char b64std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void fill(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)rnd();
}

/* Padded base64 of in into out (NUL-terminated); returns its length. */
static size_t b64(const unsigned char *in, size_t n, const char *alpha, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = i + 1 < n ? alpha[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? alpha[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

/* Decodes, reading '*' (a masked character) as 'A'; stops at '=' or at a
 * character outside the alphabet. Returns the bytes decoded. */
static size_t unb64(const char *in, size_t n, const char *alpha, unsigned char *out)
{
	unsigned acc = 0, bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = in[i] == '*' ? 'A' : in[i];
		const char *p = c ? strchr(alpha, c) : NULL;
		if (!p)
			break;
		acc = (acc << 6) | (unsigned)(p - alpha);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return o;
}

static bool contains(const void *hay, size_t n, const void *needle, size_t m)
{
	return memmem(hay, n, needle, m) != NULL;
}

static struct proxy_redactor *make(const char *const *v, const size_t *l, size_t n)
{
	struct proxy_redactor *r = NULL;

	if (proxy_redactor_new(v, l, n, &r) < 0)
		abort();
	return r;
}

static void test_args(void)
{
	static char big[PROXY_REDACT_VALUE_MAX + 1];
	const char *v[PROXY_REDACT_VALUES_MAX + 1];
	size_t l[PROXY_REDACT_VALUES_MAX + 1];
	struct proxy_redactor *r = NULL;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		v[i] = "0123456789", l[i] = 10;
	check(proxy_redactor_new(v, l, PROXY_REDACT_VALUES_MAX + 1, &r) == -EINVAL && !r,
	      "args: 17 values refused", "no");
	l[0] = 0;
	check(proxy_redactor_new(v, l, 1, &r) == -EINVAL, "args: an empty value refused", "no");
	memset(big, 'x', sizeof(big));
	v[0] = big, l[0] = sizeof(big);
	check(proxy_redactor_new(v, l, 1, &r) == -EINVAL, "args: a value over 64 KiB refused",
	      "no");
	l[0] = PROXY_REDACT_VALUE_MAX;
	check(proxy_redactor_new(v, l, PROXY_REDACT_VALUES_MAX, &r) == 0 && r,
	      "args: 16 values of 64 KiB accepted", "no");
	/* 'x' needs no URL-encoding; base64 at alignment 0: 8 * 65536 / 6 chars */
	check(r && proxy_redactor_holdback(r) == 87381 - 1, "args: holdback, longest pattern - 1",
	      "%zu", r ? proxy_redactor_holdback(r) : 0);
	proxy_redactor_free(r);
	check(proxy_redactor_new(NULL, NULL, 0, &r) == 0 && proxy_redactor_holdback(r) == 0,
	      "args: no values, no patterns, holdback 0", "no");
	proxy_redactor_free(r);
	proxy_redactor_free(NULL);
}

static void test_plain(void)
{
	const char *v[] = {"s3cr3t-t0ken-value", "abc"};
	size_t l[] = {18, 3};
	struct proxy_redactor *r = make(v, l, 2);
	char buf[] = "x s3cr3t-t0ken-value, s3cr3t-t0ken-value; abc YWJj";
	size_t n = proxy_redact_buf(r, buf, strlen(buf));

	check(n == 3 && strcmp(buf, "x ******************, ******************; *** YWJj") == 0,
	      "plain: every occurrence masked, same length; short base64 not kept", "%zu %s", n,
	      buf);
	check(proxy_redactor_holdback(r) == 24 - 1, /* base64 at alignment 0 */
	      "plain: holdback is the longest pattern - 1", "%zu", proxy_redactor_holdback(r));
	proxy_redactor_free(r);
}

static void test_overlap(void)
{
	const char *v[] = {"abababab", "AAAABBBBCCCC", "CCCCDDDDEEEE"};
	size_t l[] = {8, 12, 12};
	struct proxy_redactor *r = make(v, l, 3);
	char a[] = "xababababababy", b[] = "-AAAABBBBCCCCDDDDEEEE-";
	size_t na = proxy_redact_buf(r, a, strlen(a)), nb = proxy_redact_buf(r, b, strlen(b));

	check(na == 3 && strcmp(a, "x************y") == 0, "overlap: one value three times",
	      "%zu %s", na, a);
	check(nb == 2 && strcmp(b, "-********************-") == 0,
	      "overlap: two values sharing bytes", "%zu %s", nb, b);
	proxy_redactor_free(r);
}

static void test_dedupe(void)
{
	const char *v[] = {"same-secret-1", "same-secret-1"};
	size_t l[] = {13, 13};
	struct proxy_redactor *r = make(v, l, 2);
	char buf[] = "..same-secret-1..";

	check(proxy_redact_buf(r, buf, strlen(buf)) == 1 && strcmp(buf, "..*************..") == 0,
	      "dedupe: a value given twice is one pattern", "%s", buf);
	proxy_redactor_free(r);
}

/* One secret inside random data, base64'd whole at every alignment. */
static void base64_case(const unsigned char *secret, size_t slen, const char *alpha,
			const char *what)
{
	const char *v[] = {(const char *)secret};
	size_t l[] = {slen};
	struct proxy_redactor *r = make(v, l, 1);
	int bad = 0, found = 0;

	for (size_t pre = 0; pre < 9; pre++) {
		for (size_t post = 0; post < 4; post++) {
			unsigned char data[256], dec[512];
			char enc[512], orig[512];
			size_t n = pre + slen + post, e, d, stars = 0;
			fill(data, pre);
			memcpy(data + pre, secret, slen);
			fill(data + pre + slen, post);
			e = b64(data, n, alpha, enc);
			memcpy(orig, enc, e + 1);
			found += proxy_redact_buf(r, enc, e) >= 1;
			d = unb64(enc, e, alpha, dec);
			for (size_t i = 0; i < e; i++)
				stars += enc[i] == '*';
			if (strlen(enc) != e || contains(dec, d, secret, slen) ||
			    stars > 4 * slen / 3 + 1 ||
			    (pre >= 3 && memcmp(enc, orig, 4 * (pre / 3)) != 0)) {
				bad++;
				printf("# %s pre %zu post %zu: %s\n", what, pre, post, enc);
			}
		}
	}
	check(found == 36 && bad == 0, what, "%d of 36 found, %d wrong", found, bad);
	proxy_redactor_free(r);
}

static void test_base64(void)
{
	unsigned char bin[24];
	const char *text = "ghp_R4nd0mT0k3nV4lu3xyzABCDEF0123";

	fill(bin, sizeof(bin));
	bin[0] = 0xfb, bin[1] = 0xff; /* '+' and '/' (or '-' and '_') appear */
	base64_case(bin, sizeof(bin), b64std, "base64: binary secret, all alignments");
	base64_case(bin, sizeof(bin), b64url, "base64url: binary secret, all alignments");
	base64_case((const unsigned char *)text, strlen(text), b64std,
		    "base64: text secret, all alignments");
	base64_case((const unsigned char *)text, strlen(text), b64url,
		    "base64url: text secret, all alignments");
}

static void test_basic_auth(void)
{
	const char *secret = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";
	const char *v[] = {secret};
	size_t l[] = {strlen(secret)};
	struct proxy_redactor *r = make(v, l, 1);
	char cred[128], enc[256], hdr[512];
	unsigned char dec[256];
	size_t n, d;

	snprintf(cred, sizeof(cred), "x-access-token:%s", secret);
	b64((const unsigned char *)cred, strlen(cred), b64std, enc);
	n = (size_t)snprintf(hdr, sizeof(hdr), "Authorization: Basic %s\r\n", enc);
	check(proxy_redact_buf(r, hdr, n) == 1 && strlen(hdr) == n &&
		      strncmp(hdr, "Authorization: Basic eC1hY2Nlc3MtdG9rZW46", 40) == 0,
	      "basic: echoed credential found, user part kept", "%s", hdr);
	d = unb64(hdr + 21, n - 23, b64std, dec);
	check(!contains(dec, d, secret, strlen(secret)), "basic: decoding no longer yields it",
	      "found");
	proxy_redactor_free(r);
}

static void test_url(void)
{
	const char *secret = "p@ss/w0rd+=&?\xff~x";
	const char *v[] = {secret};
	size_t l[] = {strlen(secret)};
	struct proxy_redactor *r = make(v, l, 1);
	char up[] = "GET /cb?token=p%40ss%2Fw0rd%2B%3D%26%3F%FF~x&a=b",
	     lo[] = "GET /cb?token=p%40ss%2fw0rd%2b%3d%26%3f%ff~x&a=b", want[sizeof(up)];

	memcpy(want, up, sizeof(up));
	memset(want + 14, '*', 30);

	check(proxy_redact_buf(r, up, strlen(up)) == 1 && strcmp(up, want) == 0,
	      "url: upper-case hex", "%s", up);
	check(proxy_redact_buf(r, lo, strlen(lo)) == 1 && strcmp(lo, want) == 0,
	      "url: lower-case hex", "%s", lo);
	proxy_redactor_free(r);
}

/* A body with every kind of occurrence, some overlapping, in random filler. */
static size_t mixed_body(char *out, const char *secret)
{
	char tmp[256];
	size_t o = 0, n = strlen(secret);

	for (int i = 0; i < 12; i++) {
		size_t filler = rnd() % 40;
		for (size_t j = 0; j < filler; j++)
			out[o++] = (char)(' ' + rnd() % 90);
		switch (i % 4) {
		case 0:
			memcpy(out + o, secret, n), o += n;
			break;
		case 1:
			memcpy(tmp, "pad", 3);
			memcpy(tmp + (i % 3), secret, n);
			o += b64((unsigned char *)tmp, n + (size_t)(i % 3),
				 (i / 4) % 2 ? b64url : b64std, out + o);
			break;
		case 2:
			memcpy(out + o, "k9%2Fk9k", 8), o += 8;
			break;
		default:
			memcpy(out + o, secret, n - 3), o += n - 3; /* a near miss */
			memcpy(out + o, secret, n), o += n;
		}
	}
	memcpy(out + o, "tail", 4);
	return o + 4;
}

/* Feeds body to a fresh stream cut at the given points; 1 if the result and
 * count equal want / want_n. */
static int stream_cuts(const struct proxy_redactor *r, const char *body, size_t len,
		       const size_t *cuts, size_t ncuts, const char *want, size_t want_n)
{
	struct proxy_redact_stream *s;
	size_t hb = proxy_redactor_holdback(r), got = 0, prev = 0;
	char *res = malloc(len + hb + 1);
	int ok;

	if (proxy_redact_stream_new(r, &s) < 0)
		abort();
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len, w;
		char *out = malloc(end - prev + hb); /* exactly the room promised */
		w = proxy_redact_stream_feed(s, body + prev, end - prev, out);
		if (w > end - prev + hb || got + w > len)
			abort();
		memcpy(res + got, out, w);
		free(out);
		got += w;
		prev = end;
	}
	got += proxy_redact_stream_finish(s, res + got);
	ok = got == len && memcmp(res, want, len) == 0 && proxy_redact_stream_count(s) == want_n;
	proxy_redact_stream_free(s);
	free(res);
	return ok;
}

static void test_stream(void)
{
	const char *secret = "tok_9f8e7d6c5b4a/+";
	const char *v[] = {secret, "k9"}; /* and a short value, matched on its own path */
	size_t l[] = {strlen(secret), 2};
	struct proxy_redactor *r = make(v, l, 2);
	char body[4096], want[4096];
	size_t len = mixed_body(body, secret), want_n, cuts[4096];
	int bad = 0;

	memcpy(want, body, len);
	want_n = proxy_redact_buf(r, want, len);
	check(want_n >= 15, "stream: the test body has its occurrences", "%zu", want_n);
	for (size_t i = 0; i < len; i++)
		cuts[i] = i + 1;
	check(stream_cuts(r, body, len, cuts, len - 1, want, want_n),
	      "stream: one byte at a time equals the whole-buffer result", "differs");
	for (size_t i = 0; i <= len; i++)
		bad += !stream_cuts(r, body, len, &i, 1, want, want_n);
	check(bad == 0, "stream: two feeds cut at every boundary", "%d differ", bad);
	bad = 0;
	for (int t = 0; t < 500; t++) {
		size_t n = 1 + rnd() % 20;
		for (size_t i = 0; i < n; i++)
			cuts[i] = rnd() % (len + 1);
		for (size_t i = 1; i < n; i++) /* insertion sort */
			for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
				size_t x = cuts[j];
				cuts[j] = cuts[j - 1], cuts[j - 1] = x;
			}
		bad += !stream_cuts(r, body, len, cuts, n, want, want_n);
	}
	check(bad == 0, "stream: 500 random splits", "%d differ", bad);

	/* in == out, then reuse after finish */
	struct proxy_redact_stream *s;
	char *buf = malloc(len + proxy_redactor_holdback(r));
	size_t got;
	proxy_redact_stream_new(r, &s);
	memcpy(buf, body, len);
	got = proxy_redact_stream_feed(s, buf, len, buf);
	got += proxy_redact_stream_finish(s, buf + got);
	check(got == len && memcmp(buf, want, len) == 0, "stream: in and out the same buffer",
	      "differs");
	got = proxy_redact_stream_feed(s, secret, strlen(secret), buf);
	got += proxy_redact_stream_finish(s, buf + got);
	check(got == strlen(secret) && strspn(buf, "*") >= got &&
		      proxy_redact_stream_count(s) == want_n + 1,
	      "stream: usable again after finish", "no");
	free(buf);
	proxy_redact_stream_free(s);
	proxy_redactor_free(r);
}

static void test_random(void)
{
	const size_t len = 1 << 20;
	unsigned char vals[PROXY_REDACT_VALUES_MAX][32];
	const char *v[PROXY_REDACT_VALUES_MAX];
	size_t l[PROXY_REDACT_VALUES_MAX], cut = 0;
	unsigned char *data = malloc(len), *copy = malloc(len);
	struct proxy_redactor *r;

	for (size_t i = 0; i < PROXY_REDACT_VALUES_MAX; i++) {
		fill(vals[i], sizeof(vals[i]));
		v[i] = (const char *)vals[i], l[i] = sizeof(vals[i]);
	}
	r = make(v, l, PROXY_REDACT_VALUES_MAX);
	fill(data, len);
	memcpy(copy, data, len);
	check(proxy_redact_buf(r, (char *)copy, len) == 0 && memcmp(copy, data, len) == 0,
	      "random: no false positives in 1 MiB", "changed");
	/* Printable random text too (base64-like alphabet). */
	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)b64std[data[i] & 63];
	memcpy(copy, data, len);
	check(proxy_redact_buf(r, (char *)copy, len) == 0 && memcmp(copy, data, len) == 0,
	      "random: no false positives in 1 MiB of base64 text", "changed");
	cut = 1 + rnd() % (len - 1);
	check(stream_cuts(r, (const char *)data, len, &cut, 1, (const char *)data, 0),
	      "random: streamed unchanged", "changed");
	proxy_redactor_free(r);
	free(data);
	free(copy);
}

int main(void)
{
	test_args();
	test_plain();
	test_overlap();
	test_dedupe();
	test_base64();
	test_basic_auth();
	test_url();
	test_stream();
	test_random();
	return finish();
}
