/* test_ca.c - the interception CA (proxy/ca.h): creation and file modes,
 * reload, refusal of exposed keys and directories, leaves that verify (and
 * only for their own name) with X509_verify_cert and in a real TLS handshake,
 * the cache (hits, single-flight across 16 threads, LRU eviction, re-mint),
 * name validation, the jail bundle, concurrent first runs. Prints the time
 * to mint one leaf. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "../../common/quote.h"
#include "../../proxy/ca.h"
#include "check.h"


static char tmp[64];
static char cadir[128];

static mode_t mode_of(const char *dir, const char *name)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the CA on disk ---- */

static void test_create_reload(void)
{
	struct proxy_ca *a = NULL, *b = NULL, *c = NULL;
	ombx_err err = {0};
	bool created = false;
	int r;

	r = proxy_ca_load(cadir, NULL, &a, &err);
	check(r == -ENOENT && strstr(err.msg, "omnibox ca init"), "load before init: ENOENT",
	      "r=%d msg=%s", r, err.msg);
	r = proxy_ca_load_or_create(cadir, NULL, &a, &created, &err);
	check(r == 0 && created, "create", "r=%d msg=%s", r, err.msg);
	if (r < 0)
		exit(1);
	check(mode_of(tmp, "ca") == 0700, "directory 0700", "%04o", mode_of(tmp, "ca"));
	check(mode_of(cadir, "ca.key") == 0600, "ca.key 0600", "%04o", mode_of(cadir, "ca.key"));
	check(mode_of(cadir, "ca.pem") == 0644, "ca.pem 0644", "%04o", mode_of(cadir, "ca.pem"));
	check(X509_check_ca(proxy_ca_cert(a)) == 1, "the certificate is a CA", "not a CA");

	r = proxy_ca_load_or_create(cadir, NULL, &b, &created, &err);
	check(r == 0 && !created && X509_cmp(proxy_ca_cert(a), proxy_ca_cert(b)) == 0,
	      "second load_or_create keeps the CA", "r=%d created=%d %s", r, created, err.msg);
	r = proxy_ca_load(cadir, NULL, &c, &err);
	check(r == 0 && X509_cmp(proxy_ca_cert(a), proxy_ca_cert(c)) == 0, "load gives the same CA",
	      "r=%d %s", r, err.msg);
	proxy_ca_free(a);
	proxy_ca_free(b);
	proxy_ca_free(c);
}

static void test_refusals(void)
{
	char key[256];
	struct proxy_ca *ca = NULL;
	ombx_err err = {0};
	int r;

	snprintf(key, sizeof(key), "%s/ca.key", cadir);
	chmod(key, 0644);
	r = proxy_ca_load(cadir, NULL, &ca, &err);
	check(r == -EPERM && strstr(err.msg, key) && strstr(err.msg, "0644"),
	      "a 0644 key is refused, by name", "r=%d msg=%s", r, err.msg);
	r = proxy_ca_load_or_create(cadir, NULL, &ca, NULL, &err);
	check(r == -EPERM, "load_or_create refuses it too (and does not replace it)", "r=%d", r);
	chmod(key, 0640);
	r = proxy_ca_load(cadir, NULL, &ca, &err);
	check(r == -EPERM, "a 0640 key is refused", "r=%d msg=%s", r, err.msg);
	chmod(key, 0600);

	chmod(cadir, 0777);
	r = proxy_ca_load(cadir, NULL, &ca, &err);
	check(r == -EPERM && strstr(err.msg, "others write"),
	      "a world-writable directory is refused", "r=%d msg=%s", r, err.msg);
	chmod(cadir, 0700);

	if (geteuid() == 0) {
		if (chown(key, 65534, 65534) == 0) {
			r = proxy_ca_load(cadir, NULL, &ca, &err);
			check(r == -EPERM && strstr(err.msg, "owned by uid 65534"),
			      "a key owned by another user is refused", "r=%d msg=%s", r, err.msg);
			if (chown(key, 0, 0) < 0)
				perror("chown");
		}
	} else {
		printf("# skipped the foreign-owner case: needs root\n");
	}
	r = proxy_ca_load(cadir, NULL, &ca, &err);
	check(r == 0, "restored: loads again", "r=%d %s", r, err.msg);
	proxy_ca_free(ca);
}

/* An interrupted first run (key, no certificate) is reported, not papered over. */
static void test_half_written(void)
{
	char d[160], cmd[1024];
	struct proxy_ca *ca = NULL;
	ombx_err err = {0};
	int r;

	snprintf(d, sizeof(d), "%s/half", tmp);
	snprintf(cmd, sizeof(cmd), "mkdir -m 700 %s && cp -p %s/ca.key %s/", d, cadir, d);
	if (system(cmd) != 0) {
		check(0, "half-written CA fixture", "%s failed", cmd);
		return;
	}
	r = proxy_ca_load_or_create(d, NULL, &ca, NULL, &err);
	check(r == -ENOENT && strstr(err.msg, "interrupted"), "a key without a certificate",
	      "r=%d msg=%s", r, err.msg);
	snprintf(cmd, sizeof(cmd), "mv %s/ca.key %s/ca.pem && chmod 644 %s/ca.pem", d, d, d);
	if (system(cmd) != 0)
		return;
	r = proxy_ca_load_or_create(d, NULL, &ca, NULL, &err);
	check(r == -EEXIST && strstr(err.msg, "without its key") &&
		      mode_of(d, "ca.key") == (mode_t)-1,
	      "a certificate without a key: refused, no key written", "r=%d msg=%s", r, err.msg);
	proxy_ca_free(ca);
}

/* Four processes create one CA at once: all end up with the same one. */
static void test_concurrent_init(void)
{
	char d[160];
	unsigned char want[32], got[32];
	unsigned n;
	int fds[2], ok = 1;

	snprintf(d, sizeof(d), "%s/race/ca", tmp);
	if (pipe(fds) < 0)
		return;
	for (int i = 0; i < 4; i++) {
		if (fork() == 0) {
			struct proxy_ca *ca = NULL;
			unsigned char md[32];
			close(fds[0]);
			if (proxy_ca_load_or_create(d, NULL, &ca, NULL, NULL) < 0 ||
			    !X509_digest(proxy_ca_cert(ca), EVP_sha256(), md, &n))
				_exit(1);
			_exit(write(fds[1], md, 32) == 32 ? 0 : 1);
		}
	}
	close(fds[1]);
	for (int i = 0; i < 4; i++) {
		int st;
		wait(&st);
		ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	for (int i = 0; i < 4 && ok; i++) {
		ok = read(fds[0], i ? got : want, 32) == 32 && (i == 0 || !memcmp(got, want, 32));
	}
	close(fds[0]);
	check(ok, "four concurrent first runs agree on one CA", "they differ or failed");
}

/* ---- leaves ---- */

static int verify(X509 *ca, X509 *leaf, const char *host, const char *ip)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *p;
	int ok;

	X509_STORE_add_cert(store, ca);
	X509_STORE_CTX_init(ctx, store, leaf, NULL);
	p = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_purpose(p, X509_PURPOSE_SSL_SERVER);
	if (host)
		X509_VERIFY_PARAM_set1_host(p, host, 0);
	if (ip)
		X509_VERIFY_PARAM_set1_ip_asc(p, ip);
	ok = X509_verify_cert(ctx) == 1;
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return ok;
}

static const struct {
	const char *name, *host, *ip;
	bool ok;
} verifies[] = {
	{"example.com", "example.com", NULL, true},
	{"example.com", "other.com", NULL, false},
	{"example.com", "www.example.com", NULL, false},
	{"api.github.com", "api.github.com", NULL, true},
	{"127.0.0.1", NULL, "127.0.0.1", true},
	{"127.0.0.1", NULL, "127.0.0.2", false},
	{"2001:db8::1", NULL, "2001:db8::1", true},
	{"2001:db8::1", NULL, "2001:db8::2", false},
};

static long secs_from_now(const ASN1_TIME *t)
{
	int d = 0, s = 0;

	ASN1_TIME_diff(&d, &s, NULL, t);
	return d * 86400L + s;
}

static void test_leaf_fields(struct proxy_ca *ca, const char *name, bool ip)
{
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	char t[160];
	GENERAL_NAMES *san;
	const ASN1_INTEGER *serial;
	long nb, na;

	if (proxy_ca_leaf_get(ca, name, &x, &k, NULL) < 0) {
		check(0, name, "no leaf");
		return;
	}
	san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	snprintf(t, sizeof(t), "leaf %s: one %s SAN", name, ip ? "IP" : "DNS");
	check(san && sk_GENERAL_NAME_num(san) == 1 &&
		      sk_GENERAL_NAME_value(san, 0)->type == (ip ? GEN_IPADD : GEN_DNS),
	      t, "wrong SAN");
	GENERAL_NAMES_free(san);
	snprintf(t, sizeof(t), "leaf %s: serverAuth, digitalSignature, not a CA", name);
	check((X509_get_extended_key_usage(x) & XKU_SSL_SERVER) &&
		      X509_get_extended_key_usage(x) == XKU_SSL_SERVER &&
		      X509_get_key_usage(x) == KU_DIGITAL_SIGNATURE && X509_check_ca(x) == 0,
	      t, "eku=%x ku=%x ca=%d", X509_get_extended_key_usage(x), X509_get_key_usage(x),
	      X509_check_ca(x));
	snprintf(t, sizeof(t), "leaf %s: issued by the CA (AKID), key matches", name);
	check(X509_check_issued(proxy_ca_cert(ca), x) == X509_V_OK &&
		      X509_get0_authority_key_id(x) && X509_check_private_key(x, k),
	      t, "not issued by the CA");
	serial = X509_get0_serialNumber(x);
	snprintf(t, sizeof(t), "leaf %s: 128-bit positive serial", name);
	check(serial->length == 16 && !(serial->type & V_ASN1_NEG), t, "length %d", serial->length);
	nb = secs_from_now(X509_get0_notBefore(x));
	na = secs_from_now(X509_get0_notAfter(x));
	snprintf(t, sizeof(t), "leaf %s: valid from now-1h to now+24h", name);
	check(labs(nb + 3600) < 60 && labs(na - 86400) < 60, t, "notBefore %+lds notAfter %+lds",
	      nb, na);
	X509_free(x);
	EVP_PKEY_free(k);
}

static void test_leaves(struct proxy_ca *ca)
{
	char t[160];

	for (size_t i = 0; i < sizeof(verifies) / sizeof(verifies[0]); i++) {
		X509 *x = NULL;
		EVP_PKEY *k = NULL;
		ombx_err err = {0};
		int r = proxy_ca_leaf_get(ca, verifies[i].name, &x, &k, &err);
		snprintf(t, sizeof(t), "leaf %s %s for %s", verifies[i].name,
			 verifies[i].ok ? "verifies" : "does not verify",
			 verifies[i].host ? verifies[i].host : verifies[i].ip);
		check(r == 0 && verify(proxy_ca_cert(ca), x, verifies[i].host, verifies[i].ip) ==
					verifies[i].ok,
		      t, "r=%d %s", r, err.msg);
		X509_free(x);
		EVP_PKEY_free(k);
	}
	test_leaf_fields(ca, "example.com", false);
	test_leaf_fields(ca, "127.0.0.1", true);
	test_leaf_fields(ca, "::1", true);
	/* A 253-character name: no CN (64 at most), the SAN carries it. */
	test_leaf_fields(ca,
			 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
			 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."
			 "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc."
			 "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
			 false);
}

static const struct {
	const char *name;
	bool ok;
} names[] = {
	{"example.com", true},
	{"a_b.example.com", true},
	{"xn--bcher-kva.de", true},
	{"1password.com", true},
	{"localhost", true},
	{"10.0.0.1", true},
	{"::ffff:127.0.0.1", true},
	{"", false},
	{"Example.com", false},
	{"example.com.", false},
	{".example.com", false},
	{"a..example.com", false},
	{"-a.example.com", false},
	{"a-.example.com", false},
	{"a b.com", false},
	{"a.com,DNS:evil.com", false},
	{"a.com\n", false},
	{"*.example.com", false},
	{"b\xc3\xbc"
	 "cher.de",
	 false},
	{"1.2.3", false},
	{"127.1", false},
	{"0177.0.0.1", false},
	{"2130706433", false},
	{"::FFFF:127.0.0.1", false},
	{"0:0:0:0:0:0:0:1", false},
	{"[::1]", false},
	{"fe80::1%eth0", false},
	{"example.com:443", false},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", false},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."
	 "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc."
	 "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
	 false}, /* 254 */
};

static void test_names(struct proxy_ca *ca)
{
	char t[300], q[OMBX_QUOTE_MAX];
	uint64_t minted_by_refused = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		X509 *x = NULL;
		EVP_PKEY *k = NULL;
		ombx_err err = {0};
		uint64_t before = proxy_ca_mint_count(ca);
		int r = proxy_ca_leaf_get(ca, names[i].name, &x, &k, &err);
		if (!names[i].ok)
			minted_by_refused += proxy_ca_mint_count(ca) - before;
		ombx_quote(q, 48, names[i].name, strlen(names[i].name));
		snprintf(t, sizeof(t), "name %s %s", q, names[i].ok ? "accepted" : "refused");
		check(names[i].ok ? r == 0 : (r == -EINVAL && !x && !k && err.msg[0]), t,
		      "r=%d msg=%s", r, err.msg);
		X509_free(x);
		EVP_PKEY_free(k);
	}
	check(minted_by_refused == 0, "refused names mint nothing", "mints %llu",
	      (unsigned long long)minted_by_refused);
}

/* ---- the cache ---- */

static X509 *get(struct proxy_ca *ca, const char *name)
{
	X509 *x = NULL;
	EVP_PKEY *k = NULL;

	if (proxy_ca_leaf_get(ca, name, &x, &k, NULL) < 0)
		return NULL;
	EVP_PKEY_free(k);
	X509_free(x); /* the cache holds one reference: the pointer stays good */
	return x;
}

static void test_cache(void)
{
	struct proxy_ca_opts o = {.cache_size = 4};
	struct proxy_ca *ca = NULL;
	X509 *a1, *a2;
	ombx_err err = {0};

	if (proxy_ca_load(cadir, &o, &ca, &err) < 0) {
		check(0, "cache CA", "%s", err.msg);
		return;
	}
	a1 = get(ca, "a.test");
	a2 = get(ca, "a.test");
	check(a1 && a1 == a2 && proxy_ca_mint_count(ca) == 1,
	      "same name: same certificate, one mint", "mints %llu",
	      (unsigned long long)proxy_ca_mint_count(ca));
	get(ca, "b.test");
	get(ca, "c.test");
	get(ca, "d.test");
	get(ca, "a.test"); /* a: most recent; b: least */
	get(ca, "e.test"); /* evicts b */
	check(proxy_ca_mint_count(ca) == 5, "four names fill a 4-entry cache", "mints %llu",
	      (unsigned long long)proxy_ca_mint_count(ca));
	check(get(ca, "a.test") == a1 && proxy_ca_mint_count(ca) == 5,
	      "the recently used entry survives eviction", "mints %llu",
	      (unsigned long long)proxy_ca_mint_count(ca));
	get(ca, "b.test");
	check(proxy_ca_mint_count(ca) == 6, "the least recently used entry was evicted",
	      "mints %llu", (unsigned long long)proxy_ca_mint_count(ca));
	proxy_ca_free(ca);
}

static void test_remint(void)
{
	struct proxy_ca_opts o = {.reuse_secs = 1};
	struct proxy_ca *ca = NULL;
	X509 *x = NULL, *y = NULL;
	EVP_PKEY *k = NULL;

	if (proxy_ca_load(cadir, &o, &ca, NULL) < 0) {
		check(0, "re-mint CA", "load failed");
		return;
	}
	proxy_ca_leaf_get(ca, "old.test", &x, &k, NULL);
	EVP_PKEY_free(k);
	sleep(2);
	proxy_ca_leaf_get(ca, "old.test", &y, &k, NULL);
	EVP_PKEY_free(k);
	check(x && y && x != y && proxy_ca_mint_count(ca) == 2,
	      "an entry past its reuse time is re-minted (the old one stays valid for holders)",
	      "mints %llu", (unsigned long long)proxy_ca_mint_count(ca));
	X509_free(x);
	X509_free(y);
	proxy_ca_free(ca);
}

#define N_THREADS 16
static pthread_barrier_t barrier;
struct flight {
	struct proxy_ca *ca;
	const char *name;
	X509 *got;
	int r;
};

static void *flight_run(void *arg)
{
	struct flight *f = arg;
	EVP_PKEY *k = NULL;

	pthread_barrier_wait(&barrier);
	f->r = proxy_ca_leaf_get(f->ca, f->name, &f->got, &k, NULL);
	EVP_PKEY_free(k);
	return NULL;
}

static void test_single_flight(struct proxy_ca *ca)
{
	for (int round = 0; round < 20; round++) {
		char name[32];
		struct flight f[N_THREADS];
		pthread_t th[N_THREADS];
		uint64_t before = proxy_ca_mint_count(ca);
		int ok = 1;

		snprintf(name, sizeof(name), "flight%d.test", round);
		pthread_barrier_init(&barrier, NULL, N_THREADS);
		for (int i = 0; i < N_THREADS; i++) {
			f[i] = (struct flight){.ca = ca, .name = name};
			pthread_create(&th[i], NULL, flight_run, &f[i]);
		}
		for (int i = 0; i < N_THREADS; i++) {
			pthread_join(th[i], NULL);
			ok &= f[i].r == 0 && f[i].got == f[0].got;
		}
		for (int i = 0; i < N_THREADS; i++)
			X509_free(f[i].got);
		pthread_barrier_destroy(&barrier);
		if (!ok || proxy_ca_mint_count(ca) - before != 1 || round == 19) {
			check(ok && proxy_ca_mint_count(ca) - before == 1,
			      "16 threads, one new name: one mint, one certificate (20 rounds)",
			      "round %d: %llu mints, same=%d", round,
			      (unsigned long long)(proxy_ca_mint_count(ca) - before), ok);
			return;
		}
	}
}

/* ---- a real TLS handshake, in memory ---- */

static int handshake(struct proxy_ca *ca, const char *leaf_name, const char *client_host)
{
	SSL_CTX *sctx = SSL_CTX_new(TLS_server_method()), *cctx = SSL_CTX_new(TLS_client_method());
	SSL *s = NULL, *c = NULL;
	BIO *sb = NULL, *cb = NULL;
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	int ok = 0, sdone = 0, cdone = 0;

	if (proxy_ca_leaf_get(ca, leaf_name, &x, &k, NULL) < 0 || !sctx || !cctx)
		goto out;
	SSL_CTX_use_certificate(sctx, x);
	SSL_CTX_use_PrivateKey(sctx, k);
	X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx), proxy_ca_cert(ca));
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	s = SSL_new(sctx);
	c = SSL_new(cctx);
	SSL_set1_host(c, client_host);
	SSL_set_tlsext_host_name(c, client_host);
	BIO_new_bio_pair(&sb, 0, &cb, 0);
	SSL_set_bio(s, sb, sb);
	SSL_set_bio(c, cb, cb);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (int i = 0; i < 100 && !(sdone && cdone); i++) {
		int rc = SSL_do_handshake(c), rs = SSL_do_handshake(s);
		if (rc <= 0 && SSL_get_error(c, rc) != SSL_ERROR_WANT_READ)
			break;
		if (rs <= 0 && SSL_get_error(s, rs) != SSL_ERROR_WANT_READ)
			break;
		cdone = rc == 1;
		sdone = rs == 1;
	}
	ok = sdone && cdone && SSL_get_verify_result(c) == X509_V_OK;
out:
	SSL_free(s);
	SSL_free(c);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	X509_free(x);
	EVP_PKEY_free(k);
	ERR_clear_error();
	return ok;
}

static void test_tls(struct proxy_ca *ca)
{
	check(handshake(ca, "example.com", "example.com"),
	      "TLS handshake: client trusting the CA accepts the example.com leaf", "failed");
	check(!handshake(ca, "example.com", "other.com"),
	      "TLS handshake: the example.com leaf is refused for other.com", "accepted");
}

/* ---- the bundle ---- */

static void test_bundle(struct proxy_ca *ca)
{
	char path[160], *buf = NULL;
	size_t len = 0, plen;
	FILE *f;
	BIO *b = BIO_new(BIO_s_mem());
	char *pem;
	struct stat st;
	ombx_err err = {0};
	int r;

	snprintf(path, sizeof(path), "%s/bundle.pem", tmp);
	r = proxy_ca_bundle(ca, path, &err);
	check(r == 0 && mode_of(tmp, "bundle.pem") == 0644, "bundle written, 0644", "r=%d %s", r,
	      err.msg);
	PEM_write_bio_X509(b, proxy_ca_cert(ca));
	plen = (size_t)BIO_get_mem_data(b, &pem);
	f = fopen(path, "r");
	if (f) {
		buf = malloc(32 << 20);
		len = fread(buf, 1, 32 << 20, f);
		fclose(f);
	}
	check(buf && len >= plen && memcmp(buf + len - plen, pem, plen) == 0,
	      "the bundle ends with our CA", "len %zu", len);
	if (stat(PROXY_CA_SYSTEM_ROOTS, &st) == 0)
		check(buf && (size_t)st.st_size <= len && len - plen - (size_t)st.st_size <= 1,
		      "the bundle starts with the system roots", "len %zu roots %lld", len,
		      (long long)st.st_size);
	check(!strstr(buf ? buf : "", "PRIVATE KEY"), "the bundle holds no key", "it does");
	free(buf);
	BIO_free(b);
}

static void bench_mint(struct proxy_ca *ca)
{
	const int n = 500;
	double t0 = now_s(), t1;
	char name[64];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "bench%d.example.com", i);
		get(ca, name);
	}
	t1 = now_s();
	for (int i = 0; i < 100000; i++)
		get(ca, "bench7.example.com");
	printf("# mint one leaf: %.1f us (%d names); cached lookup: %.2f us\n", (t1 - t0) / n * 1e6,
	       n, (now_s() - t1) / 100000 * 1e6);
}

int main(void)
{
	struct proxy_ca *ca = NULL;
	ombx_err err = {0};
	char cmd[128];

	umask(022);
	snprintf(tmp, sizeof(tmp), "/tmp/ombx-ca.XXXXXX");
	if (!mkdtemp(tmp))
		return perror("mkdtemp"), 1;
	snprintf(cadir, sizeof(cadir), "%s/ca", tmp);

	test_create_reload();
	test_refusals();
	test_half_written();
	test_concurrent_init();
	if (proxy_ca_load(cadir, NULL, &ca, &err) < 0) {
		printf("not ok - load: %s\n", err.msg);
		return 1;
	}
	test_leaves(ca);
	test_names(ca);
	test_single_flight(ca);
	test_tls(ca);
	test_bundle(ca);
	test_cache();
	test_remint();
	bench_mint(ca);
	proxy_ca_free(ca);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
	return finish();
}
