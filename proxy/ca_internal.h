/* ca_internal.h - what ca.c (the CA on disk) and ca_leaf.c (minting, the
 * leaf cache) share. Nothing outside proxy/ca*.c includes this. */
#ifndef OMBX_PROXY_CA_INTERNAL_H
#define OMBX_PROXY_CA_INTERNAL_H

#include <limits.h>
#include <pthread.h>

#include "ca.h"

struct proxy_ca_leaf; /* one cache entry (ca_leaf.c) */

struct proxy_ca {
	char dir[PATH_MAX];
	char cert_path[PATH_MAX];
	char key_path[PATH_MAX];
	X509 *cert;
	EVP_PKEY *key;      /* the CA's; never leaves this struct */
	EVP_PKEY *leaf_key; /* shared by every leaf */

	/* The leaf cache: a hash of names, an LRU list of ready entries. */
	pthread_mutex_t lock;
	struct proxy_ca_leaf **buckets;
	size_t n_buckets, n_entries, capacity;
	struct proxy_ca_leaf *lru_head, *lru_tail; /* head: most recent */
	int64_t reuse_secs;
	uint64_t mints;
};

/* ca_leaf.c */
int proxy_ca__cache_init(struct proxy_ca *ca, const struct proxy_ca_opts *opts, ombx_err *err);
void proxy_ca__cache_free(struct proxy_ca *ca);

/* ca.c: fills a new X509 with a random positive 128-bit serial. */
int proxy_ca__serial(X509 *x);
/* The latest OpenSSL error, for a message (never key material). */
const char *proxy_ca__ssl_error(void);

#endif
