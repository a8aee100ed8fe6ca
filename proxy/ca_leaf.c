/* ca_leaf.c - leaf certificates: minted per canonical name with the one
 * shared leaf key, single-flight, kept in a bounded LRU cache.
 *
 * An entry is MINTING while one thread signs outside the lock; others asking
 * for the same name wait on the entry's condition variable. Entries are
 * reference-counted so that eviction or a failed mint never frees what a
 * waiter is about to read. A ready entry is handed out for reuse_secs (half
 * the leaf's lifetime at most), then re-minted. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca_internal.h"
#include "common/quote.h"

enum leaf_state { LEAF_MINTING, LEAF_READY, LEAF_FAILED };

struct proxy_ca_leaf {
	struct proxy_ca_leaf *hnext;               /* hash chain */
	struct proxy_ca_leaf *lru_prev, *lru_next; /* ready entries only */
	enum leaf_state state;
	bool linked;   /* in the hash (and, when ready, in the LRU list) */
	unsigned refs; /* threads holding it: the minter and the waiters */
	pthread_cond_t done;
	int64_t minted_at; /* CLOCK_MONOTONIC seconds */
	X509 *cert;
	ombx_err fail; /* LEAF_FAILED: what the minter got */
	char name[];
};

static int64_t now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* ---- names ---- */

int proxy_ca_name_check(const char *name, bool *is_ip, char *msg, size_t size)
{
	size_t len = strnlen(name, PROXY_CA_NAME_MAX + 1), label = 0;
	char q[OMBX_QUOTE_MAX], canon[INET6_ADDRSTRLEN];
	unsigned char addr[16];
	bool digits_only = true;

	ombx_quote(q, sizeof(q), name, len);
	*is_ip = false;
	if (len == 0 || len > PROXY_CA_NAME_MAX) {
		snprintf(msg, size, "leaf name %s: must be 1 to %d characters", q,
			 PROXY_CA_NAME_MAX);
		return -EINVAL;
	}
	for (int af = AF_INET; af <= AF_INET6; af += AF_INET6 - AF_INET)
		if (inet_pton(af, name, addr) == 1) {
			if (!inet_ntop(af, addr, canon, sizeof(canon)) || strcmp(canon, name)) {
				snprintf(msg, size, "leaf name %s: not canonical IP text", q);
				return -EINVAL;
			}
			*is_ip = true;
			return 0;
		}
	for (size_t i = 0; i <= len; i++) {
		char c = name[i];
		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || name[i - 1] == '-') {
				snprintf(msg, size, "leaf name %s: empty, long or '-'-ended label",
					 q);
				return -EINVAL;
			}
			digits_only = true;
			if (c == '\0')
				break;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
			snprintf(msg, size,
				 "leaf name %s: only lowercase letters, digits, '-', '_' and '.'",
				 q);
			return -EINVAL;
		}
		if (label == 0 && c == '-') {
			snprintf(msg, size, "leaf name %s: a label starts with '-'", q);
			return -EINVAL;
		}
		if (!(c >= '0' && c <= '9'))
			digits_only = false;
		label++;
		if (name[i + 1] == '\0' && digits_only) {
			snprintf(msg, size, "leaf name %s: numeric last label (an IP literal?)", q);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- minting ---- */

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = ext && X509_add_ext(x, ext, -1);

	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* The SAN is built as a GENERAL_NAME, never from a config string, so a name
 * cannot smuggle in another entry. */
static int add_san(X509 *x, const char *name, bool is_ip)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gen =
		a2i_GENERAL_NAME(NULL, NULL, NULL, is_ip ? GEN_IPADD : GEN_DNS, name, 0);
	int ok = gens && gen && sk_GENERAL_NAME_push(gens, gen);

	if (!ok)
		GENERAL_NAME_free(gen);
	ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
	sk_GENERAL_NAME_pop_free(gens, GENERAL_NAME_free);
	return ok ? 0 : -1;
}

static int mint(struct proxy_ca *ca, const char *name, bool is_ip, X509 **out, ombx_err *err)
{
	X509 *x = X509_new();
	X509_NAME *subj;
	X509V3_CTX ctx;
	int ok;

	ok = x && X509_set_version(x, X509_VERSION_3) && proxy_ca__serial(x) == 0 &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -PROXY_CA_LEAF_BACKDATE) &&
	     X509_gmtime_adj(X509_getm_notAfter(x), PROXY_CA_LEAF_LIFETIME) &&
	     X509_set_pubkey(x, ca->leaf_key) &&
	     X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) &&
	     (subj = X509_get_subject_name(x)) &&
	     X509_NAME_add_entry_by_txt(subj, "O", MBSTRING_ASC,
					(const unsigned char *)"Omnigent interception", -1, -1,
					0) &&
	     /* A CN holds 64 characters at most; the SAN is what clients check. */
	     (strlen(name) > 64 ||
	      X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)name, -1,
					 -1, 0));
	if (ok) {
		X509V3_set_ctx(&ctx, ca->cert, x, NULL, NULL, 0);
		ok = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
		     add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") == 0 &&
		     add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") == 0 &&
		     add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") == 0 &&
		     add_san(x, name, is_ip) == 0 && X509_sign(x, ca->key, EVP_sha256()) > 0;
	}
	if (!ok) {
		X509_free(x);
		return ombx_err_set(err, EIO, "minting a certificate for %s: %s", name,
				    proxy_ca__ssl_error());
	}
	*out = x;
	return 0;
}

/* ---- the cache ---- */

int proxy_ca__cache_init(struct proxy_ca *ca, const struct proxy_ca_opts *opts, ombx_err *err)
{
	size_t cap = opts && opts->cache_size ? opts->cache_size : PROXY_CA_CACHE_DEFAULT;
	int64_t reuse = opts && opts->reuse_secs ? opts->reuse_secs : PROXY_CA_REUSE_DEFAULT;

	if (cap > (1u << 20) || reuse < 0 || reuse > PROXY_CA_LEAF_LIFETIME / 2)
		return ombx_err_set(err, EINVAL,
				    "leaf cache: at most 1048576 entries, reused at most %d s",
				    PROXY_CA_LEAF_LIFETIME / 2);
	ca->capacity = cap;
	ca->reuse_secs = reuse;
	ca->n_buckets = 16;
	while (ca->n_buckets < cap)
		ca->n_buckets <<= 1;
	ca->buckets = calloc(ca->n_buckets, sizeof(*ca->buckets));
	if (!ca->buckets || pthread_mutex_init(&ca->lock, NULL) != 0) {
		free(ca->buckets);
		ca->buckets = NULL;
		return ombx_err_set(err, ENOMEM, "out of memory for the leaf cache");
	}
	ca->leaf_key = EVP_EC_gen("P-256");
	if (!ca->leaf_key)
		return ombx_err_set(err, EIO, "generating the leaf key: %s", proxy_ca__ssl_error());
	return 0;
}

static void entry_free(struct proxy_ca_leaf *e)
{
	pthread_cond_destroy(&e->done);
	X509_free(e->cert);
	free(e);
}

void proxy_ca__cache_free(struct proxy_ca *ca)
{
	if (!ca->buckets)
		return;
	for (size_t i = 0; i < ca->n_buckets; i++)
		for (struct proxy_ca_leaf *e = ca->buckets[i], *next; e; e = next) {
			next = e->hnext;
			entry_free(e);
		}
	free(ca->buckets);
	ca->buckets = NULL;
	pthread_mutex_destroy(&ca->lock);
}

static size_t bucket_of(const struct proxy_ca *ca, const char *name)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ull;
	return (size_t)(h & (ca->n_buckets - 1));
}

static void lru_unlink(struct proxy_ca *ca, struct proxy_ca_leaf *e)
{
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else if (ca->lru_head == e)
		ca->lru_head = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else if (ca->lru_tail == e)
		ca->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct proxy_ca *ca, struct proxy_ca_leaf *e)
{
	e->lru_prev = NULL;
	e->lru_next = ca->lru_head;
	if (ca->lru_head)
		ca->lru_head->lru_prev = e;
	ca->lru_head = e;
	if (!ca->lru_tail)
		ca->lru_tail = e;
}

/* Takes e out of the hash and the LRU list; frees it unless a thread holds it
 * (the last one to let go frees it). Lock held. */
static void entry_unlink(struct proxy_ca *ca, struct proxy_ca_leaf *e)
{
	struct proxy_ca_leaf **pp = &ca->buckets[bucket_of(ca, e->name)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	e->hnext = NULL;
	if (e->state == LEAF_READY)
		lru_unlink(ca, e);
	e->linked = false;
	ca->n_entries--;
	if (e->refs == 0)
		entry_free(e);
}

static void entry_release(struct proxy_ca_leaf *e)
{
	if (--e->refs == 0 && !e->linked)
		entry_free(e);
}

/* A new MINTING entry for name, held by the caller; evicts the least
 * recently used ready entries to stay within capacity (entries being minted
 * are not evictable, and there are at most as many as calling threads). */
static struct proxy_ca_leaf *entry_new(struct proxy_ca *ca, const char *name, size_t b)
{
	size_t len = strlen(name);
	struct proxy_ca_leaf *e = calloc(1, sizeof(*e) + len + 1);

	if (!e)
		return NULL;
	if (pthread_cond_init(&e->done, NULL) != 0) {
		free(e);
		return NULL;
	}
	memcpy(e->name, name, len + 1);
	while (ca->n_entries >= ca->capacity && ca->lru_tail)
		entry_unlink(ca, ca->lru_tail);
	e->state = LEAF_MINTING;
	e->refs = 1;
	e->linked = true;
	e->hnext = ca->buckets[b];
	ca->buckets[b] = e;
	ca->n_entries++;
	return e;
}

static int mint_into(struct proxy_ca *ca, struct proxy_ca_leaf *e, bool is_ip, ombx_err *err)
{
	X509 *cert = NULL;
	int r;

	pthread_mutex_unlock(&ca->lock);
	r = mint(ca, e->name, is_ip, &cert, err);
	pthread_mutex_lock(&ca->lock);
	if (r == 0) {
		e->cert = cert;
		e->minted_at = now_mono();
		e->state = LEAF_READY;
		lru_push_front(ca, e);
		ca->mints++;
	} else {
		e->state = LEAF_FAILED;
		e->fail = err ? *err : (ombx_err){.code = -r};
		entry_unlink(ca, e); /* held by us: not freed yet */
	}
	pthread_cond_broadcast(&e->done);
	return r;
}

int proxy_ca_leaf_get(struct proxy_ca *ca, const char *name, X509 **cert_out, EVP_PKEY **key_out,
		      ombx_err *err)
{
	struct proxy_ca_leaf *e;
	char msg[256];
	bool is_ip;
	size_t b;
	int r = 0;

	*cert_out = NULL;
	*key_out = NULL;
	if (proxy_ca_name_check(name, &is_ip, msg, sizeof(msg)) < 0)
		return ombx_err_set(err, EINVAL, "%s", msg);
	if (X509_cmp_time(X509_get0_notAfter(ca->cert), NULL) <= 0)
		return ombx_err_set(err, EKEYEXPIRED,
				    "the interception CA %s has expired: rotate it (docs/CA.md)",
				    ca->cert_path);
	b = bucket_of(ca, name);
	pthread_mutex_lock(&ca->lock);
	for (e = ca->buckets[b]; e && strcmp(e->name, name); e = e->hnext)
		;
	if (e && e->state == LEAF_READY && now_mono() - e->minted_at >= ca->reuse_secs) {
		entry_unlink(ca, e); /* stale: mint afresh */
		e = NULL;
	}
	if (!e) {
		e = entry_new(ca, name, b);
		if (!e)
			r = ombx_err_set(err, ENOMEM, "out of memory for the leaf cache");
		else
			r = mint_into(ca, e, is_ip, err);
	} else {
		e->refs++;
		while (e->state == LEAF_MINTING)
			pthread_cond_wait(&e->done, &ca->lock);
		if (e->state == LEAF_FAILED)
			r = ombx_err_set(err, e->fail.code, "%s", e->fail.msg);
	}
	if (r == 0) {
		if (e->linked && e->lru_prev) { /* most recently used first */
			lru_unlink(ca, e);
			lru_push_front(ca, e);
		}
		X509_up_ref(e->cert);
		*cert_out = e->cert;
	}
	if (e)
		entry_release(e);
	pthread_mutex_unlock(&ca->lock);
	if (r == 0) {
		EVP_PKEY_up_ref(ca->leaf_key);
		*key_out = ca->leaf_key;
	}
	return r;
}

uint64_t proxy_ca_mint_count(struct proxy_ca *ca)
{
	uint64_t n;

	pthread_mutex_lock(&ca->lock);
	n = ca->mints;
	pthread_mutex_unlock(&ca->lock);
	return n;
}
