/* fuzz_dns_reply.c - fuzz target for the jail's DNS stub (proxy__dns_reply
 * in proxy/dns.c): every query a jailed program can send reaches it.
 *
 * Replayed over corpus/fuzz_dns_reply by ctest (replay.c); fuzzed with
 * libFuzzer as tests/fuzz/README.md says. The input is the query; names with
 * an 'x' in them are "not allowed", others get address 198.18.0.7. Checks: a
 * reply is never longer than the query + 16 bytes (one A record), echoes the
 * query's id and question, is marked a response, carries at most one answer,
 * and only for an A query of an allowed name. Every reply is written into a
 * buffer of exactly that room, so ASan sees any overrun. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lookup(void *arg, const char *canon, bool want_a, uint32_t *ip)
{
	(void)arg;
	if (strchr(canon, 'x'))
		return -ENOENT;
	if (!want_a)
		return 0;
	*ip = 0xc6120007;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *q = malloc(size ? size : 1), *out = malloc(size + 16);
	size_t n;

	if (!q || !out)
		abort();
	memcpy(q, data, size);
	n = proxy__dns_reply(q, size, out, lookup, NULL);
	if (n) {
		if (n > size + 16 || n < 12)
			abort();
		if (out[0] != q[0] || out[1] != q[1] || !(out[2] & 0x80))
			abort(); /* the id echoed, QR set */
		if (out[6] != 0 || out[7] > 1)
			abort(); /* at most one answer */
		if (out[7] == 1 && (out[3] & 15) != 0)
			abort(); /* an answer only with NOERROR */
	}
	free(q);
	free(out);
	return 0;
}
