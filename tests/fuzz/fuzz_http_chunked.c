/* fuzz_http_chunked.c - fuzz target for the chunked-body decoder
 * (http_chunked_decode in proxy/http_chunked.c).
 *
 * Replayed over corpus/fuzz_http_chunked by ctest (replay.c); fuzzed with
 * libFuzzer as tests/fuzz/README.md says. The first byte picks how the rest
 * is split (0: one byte at a time; else pieces of pseudo-random sizes seeded
 * by it); the rest is decoded once whole and once in those pieces, each piece
 * a separate allocation so that ASan sees any read past it. Both must agree
 * exactly: refused or not (with the same reason), the data decoded, the bytes
 * consumed, done. And the decoder never writes more than it read, never
 * consumes more than given, and consumes everything unless it is done. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	char *out;
	size_t out_len, consumed;
	bool done;
	const char *why;
};

static void feed(struct http_chunked *c, const char *in, size_t n, struct run *r)
{
	char *tmp = malloc(n ? n : 1);
	size_t len = n;
	long k;

	memcpy(tmp, in, n);
	k = http_chunked_decode(c, tmp, &len, &r->why);
	if (k == HTTP_BAD) {
		if (!r->why || !r->why[0] || len > n)
			abort();
		free(tmp);
		return;
	}
	r->why = NULL;
	if (k < 0 || (size_t)k > n || len > (size_t)k || ((size_t)k != n && !c->done))
		abort();
	memcpy(r->out + r->out_len, tmp, len);
	r->out_len += len;
	r->consumed += (size_t)k;
	free(tmp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_chunked whole, split;
	struct run a = {0}, b = {0};
	const char *in = (const char *)data + 1;
	unsigned seed;
	size_t n, pos = 0;

	if (size < 1)
		return 0;
	seed = data[0];
	n = size - 1;
	a.out = malloc(n + 1);
	b.out = malloc(n + 1);

	http_chunked_init(&whole);
	feed(&whole, in, n, &a);
	a.done = whole.done;

	http_chunked_init(&split);
	while (pos < n && !split.done && !b.why) {
		size_t piece = 1;
		if (seed) {
			seed = seed * 1103515245u + 12345u;
			piece = 1 + (seed >> 16) % (1 + data[0] % 64);
		}
		if (piece > n - pos)
			piece = n - pos;
		feed(&split, in + pos, piece, &b);
		pos += piece;
	}
	b.done = split.done;

	if ((a.why == NULL) != (b.why == NULL) || (a.why && strcmp(a.why, b.why) != 0))
		abort();
	if (!a.why && (a.done != b.done || a.consumed != b.consumed || a.out_len != b.out_len ||
		       memcmp(a.out, b.out, a.out_len) != 0))
		abort();
	free(a.out);
	free(b.out);
	return 0;
}
