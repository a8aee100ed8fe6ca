/* ca.c - the interception CA on disk: create, load, check, bundle.
 *
 * The directory is created 0700 and must stay ours and closed to others; the
 * key is written to a fresh O_EXCL 0600 temporary file, fsync'd and linked
 * into place without replacing anything, then the certificate likewise; both
 * happen under flock() on the directory, so two first runs agree on one CA.
 * Key bytes read from disk are cleansed from our buffers after parsing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca_internal.h"
#include "common/cleanup.h"
#include "common/quote.h"

#define FILE_MAX   (64 * 1024)        /* ca.key / ca.pem: a few hundred bytes */
#define BUNDLE_MAX (16 * 1024 * 1024) /* the system roots: ~200 KiB */

const char *proxy_ca__ssl_error(void)
{
	static __thread char buf[256];
	unsigned long e = ERR_get_error();

	if (!e)
		return "unknown OpenSSL error";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

int proxy_ca__serial(X509 *x)
{
	unsigned char b[16];
	BIGNUM *bn;
	int ok;

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -EIO;
	b[0] &= 0x7f; /* positive, and 16 bytes in DER */
	b[0] |= 0x40; /* never zero, never shorter */
	bn = BN_bin2bn(b, sizeof(b), NULL);
	ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	return ok ? 0 : -ENOMEM;
}

/* ---- paths and files ---- */

/* mkdir -p, every created component 0700. */
static int mkdir_p(const char *path, ombx_err *err)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return ombx_err_set(err, ENAMETOOLONG, "CA directory path too long");
	for (char *p = tmp + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return ombx_err_errno(err, errno, "creating %s", tmp);
		*p = c;
		if (!c)
			return 0;
	}
}

/* The directory must be ours and writable by nobody else: whoever can write
 * it can swap the certificate a jail is told to trust. */
static int check_dir(int fd, const char *dir, ombx_err *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return ombx_err_errno(err, errno, "%s", dir);
	if (st.st_uid != geteuid())
		return ombx_err_set(
			err, EPERM,
			"refusing the CA directory %s: owned by uid %u, not by us (uid %u)", dir,
			(unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & 022)
		return ombx_err_set(err, EPERM,
				    "refusing the CA directory %s: mode %04o lets others write it; "
				    "run 'chmod 700 %s'",
				    dir, (unsigned)(st.st_mode & 07777), dir);
	return 0;
}

/* Reads dir/name into *out (NUL-terminated). For the key, the file must be a
 * regular file of ours that group/other cannot access. -ENOENT is silent. */
static int read_file(int dfd, const char *path, const char *name, bool is_key, char **out,
		     size_t *len, ombx_err *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	char *buf;
	ssize_t n;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : ombx_err_errno(err, errno, "opening %s", path);
	if (fstat(fd, &st) < 0)
		return ombx_err_errno(err, errno, "%s", path);
	if (!S_ISREG(st.st_mode) || st.st_size > FILE_MAX)
		return ombx_err_set(err, EINVAL, "%s is not a regular file under %d KiB", path,
				    FILE_MAX / 1024);
	if (is_key && st.st_uid != geteuid())
		return ombx_err_set(err, EPERM,
				    "refusing the CA key %s: owned by uid %u, not by us (uid %u)",
				    path, (unsigned)st.st_uid, (unsigned)geteuid());
	if (is_key && (st.st_mode & 077))
		return ombx_err_set(err, EPERM,
				    "refusing the CA key %s: mode %04o lets group/other read it; "
				    "run 'chmod 600 %s' if it never leaked, else rotate the CA "
				    "(docs/CA.md)",
				    path, (unsigned)(st.st_mode & 07777), path);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return ombx_err_set(err, ENOMEM, "out of memory reading %s", path);
	n = read(fd, buf, (size_t)st.st_size + 1);
	if (n < 0 || n > st.st_size) {
		int e = n < 0 ? errno : EAGAIN;
		OPENSSL_clear_free(buf, (size_t)st.st_size + 1);
		return ombx_err_errno(err, e, "reading %s", path);
	}
	buf[n] = '\0';
	*out = buf;
	*len = (size_t)n;
	return 0;
}

/* Writes data to dir/name through a fresh 0600 temporary file: fsync, chmod
 * to mode, then into place: link() (never replacing: -EEXIST) or rename(). */
static int write_atomic(int dfd, const char *path, const char *name, const void *data, size_t len,
			mode_t mode, bool replace, ombx_err *err)
{
	char tmp[64];
	_cleanup_close_ int fd = -1;
	unsigned r;
	int e = 0;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return ombx_err_errno(err, EIO, "random name for %s", path);
	snprintf(tmp, sizeof(tmp), ".tmp.%d.%08x", (int)getpid(), r);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return ombx_err_errno(err, errno, "creating a temporary file next to %s", path);
	for (size_t off = 0; off < len && !e;) {
		ssize_t n = write(fd, (const char *)data + off, len - off);
		if (n < 0 && errno != EINTR)
			e = errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (!e && fchmod(fd, mode) < 0)
		e = errno;
	if (!e && fsync(fd) < 0)
		e = errno;
	if (!e && (replace ? renameat(dfd, tmp, dfd, name) : linkat(dfd, tmp, dfd, name, 0)) < 0)
		e = errno;
	if (e || !replace)
		unlinkat(dfd, tmp, 0);
	if (e == EEXIST)
		return -EEXIST;
	if (e)
		return ombx_err_errno(err, e, "writing %s", path);
	fsync(dfd);
	return 0;
}

/* ---- creating the CA ---- */

/* "Omnigent interception CA (HOST, YYYY-MM-DD)"; the host left out if the
 * whole would pass the 64 characters a CN may have. */
static void ca_name(char *cn, size_t size)
{
	char host[256] = "", date[16];
	time_t now = time(NULL);
	struct tm tm;

	gethostname(host, sizeof(host) - 1);
	for (char *p = host; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '-' && *p != '.')
			*p = '_';
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	if (!host[0] || snprintf(cn, size, "Omnigent interception CA (%s, %s)", host, date) > 64)
		snprintf(cn, size, "Omnigent interception CA (%s)", date);
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok = ext && X509_add_ext(x, ext, -1);

	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static int make_ca(EVP_PKEY **key_out, X509 **cert_out, ombx_err *err)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX ctx;
	char cn[128];
	int ok;

	ca_name(cn, sizeof(cn));
	ok = key && x && X509_set_version(x, X509_VERSION_3) && proxy_ca__serial(x) == 0 &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -PROXY_CA_LEAF_BACKDATE) &&
	     X509_time_adj_ex(X509_getm_notAfter(x), PROXY_CA_LIFETIME_DAYS, 0, NULL) &&
	     X509_set_pubkey(x, key) && (name = X509_get_subject_name(x)) &&
	     X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Omnigent",
					-1, -1, 0) &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
					0) &&
	     X509_set_issuer_name(x, name);
	if (ok) {
		X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
		ok = add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") == 0 &&
		     add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") == 0 &&
		     add_ext(x, &ctx, NID_subject_key_identifier, "hash") == 0 &&
		     add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") == 0 &&
		     X509_sign(x, key, EVP_sha256()) > 0;
	}
	if (!ok) {
		EVP_PKEY_free(key);
		X509_free(x);
		return ombx_err_set(err, EIO, "creating the CA certificate: %s",
				    proxy_ca__ssl_error());
	}
	*key_out = key;
	*cert_out = x;
	return 0;
}

/* PEM of the key or the certificate, in a memory BIO the caller frees. */
static BIO *to_pem(EVP_PKEY *key, X509 *cert)
{
	BIO *b = BIO_new(BIO_s_secmem());

	if (b && !(key ? PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)
		       : PEM_write_bio_X509(b, cert))) {
		BIO_free(b);
		return NULL;
	}
	return b;
}

static int write_pem(int dfd, struct proxy_ca *ca, bool is_key, ombx_err *err)
{
	BIO *b = to_pem(is_key ? ca->key : NULL, ca->cert);
	const char *path = is_key ? ca->key_path : ca->cert_path;
	char *data;
	long len;
	int r;

	if (!b)
		return ombx_err_set(err, ENOMEM, "encoding %s: %s", path, proxy_ca__ssl_error());
	len = BIO_get_mem_data(b, &data);
	r = write_atomic(dfd, path, is_key ? "ca.key" : "ca.pem", data, (size_t)len,
			 is_key ? 0600 : 0644, false, err);
	BIO_free(b); /* secure heap: cleansed on free */
	if (r == -EEXIST)
		return ombx_err_set(err, EEXIST, "%s appeared while creating the CA; not replaced",
				    path);
	return r;
}

/* ---- loading ---- */

static int load_pair(int dfd, struct proxy_ca *ca, ombx_err *err)
{
	_cleanup_free_ char *pem = NULL;
	char *keypem = NULL;
	size_t len = 0, keylen = 0;
	char group[32] = "";
	BIO *b;
	int r;

	r = read_file(dfd, ca->key_path, "ca.key", true, &keypem, &keylen, err);
	if (r == -ENOENT)
		return ombx_err_set(err, ENOENT, "no CA in %s: run 'omnibox ca init'", ca->dir);
	if (r < 0)
		return r;
	b = BIO_new_mem_buf(keypem, (int)keylen);
	ca->key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	OPENSSL_clear_free(keypem, keylen + 1);
	if (!ca->key)
		return ombx_err_set(err, EINVAL, "%s is not a PEM private key", ca->key_path);
	if (!EVP_PKEY_is_a(ca->key, "EC") ||
	    !EVP_PKEY_get_group_name(ca->key, group, sizeof(group), NULL) ||
	    strcmp(group, "prime256v1") != 0)
		return ombx_err_set(err, EINVAL, "%s is not an ECDSA P-256 key", ca->key_path);

	r = read_file(dfd, ca->cert_path, "ca.pem", false, &pem, &len, err);
	if (r == -ENOENT)
		return ombx_err_set(err, ENOENT,
				    "%s has no certificate next to its key (an interrupted init?); "
				    "move %s away and run 'omnibox ca init' again",
				    ca->cert_path, ca->dir);
	if (r < 0)
		return r;
	b = BIO_new_mem_buf(pem, (int)len);
	ca->cert = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!ca->cert)
		return ombx_err_set(err, EINVAL, "%s is not a PEM certificate", ca->cert_path);
	if (X509_check_ca(ca->cert) != 1 || !X509_check_private_key(ca->cert, ca->key)) {
		ERR_clear_error();
		return ombx_err_set(err, EINVAL, "%s is not a CA certificate for the key %s",
				    ca->cert_path, ca->key_path);
	}
	return 0;
}

static int open_ca(const char *dir, bool create, const struct proxy_ca_opts *opts,
		   struct proxy_ca **out, bool *created, ombx_err *err)
{
	struct proxy_ca *ca = calloc(1, sizeof(*ca));
	_cleanup_close_ int dfd = -1;
	int r;

	if (created)
		*created = false;
	if (!ca)
		return ombx_err_set(err, ENOMEM, "out of memory");
	if (dir) {
		if (snprintf(ca->dir, sizeof(ca->dir), "%s", dir) >= (int)sizeof(ca->dir))
			r = ombx_err_set(err, ENAMETOOLONG, "CA directory path too long");
		else
			r = dir[0] ? 0 : ombx_err_set(err, EINVAL, "empty CA directory path");
	} else {
		r = proxy_ca_default_dir(ca->dir, sizeof(ca->dir), err);
	}
	if (r == 0 && (snprintf(ca->cert_path, sizeof(ca->cert_path), "%s/ca.pem", ca->dir) >=
			       (int)sizeof(ca->cert_path) ||
		       snprintf(ca->key_path, sizeof(ca->key_path), "%s/ca.key", ca->dir) >=
			       (int)sizeof(ca->key_path)))
		r = ombx_err_set(err, ENAMETOOLONG, "CA directory path too long");
	if (r == 0 && create)
		r = mkdir_p(ca->dir, err);
	if (r == 0) {
		dfd = open(ca->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			r = errno == ENOENT
				    ? ombx_err_set(err, ENOENT,
						   "no CA in %s: run 'omnibox ca init'", ca->dir)
				    : ombx_err_errno(err, errno, "opening %s", ca->dir);
	}
	if (r == 0)
		r = check_dir(dfd, ca->dir, err);
	if (r == 0 && flock(dfd, create ? LOCK_EX : LOCK_SH) < 0)
		r = ombx_err_errno(err, errno, "locking %s", ca->dir);
	if (r == 0 && create && faccessat(dfd, "ca.key", F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
	    errno == ENOENT) {
		if (faccessat(dfd, "ca.pem", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			r = ombx_err_set(err, EEXIST,
					 "%s exists without its key %s; move it away to create a "
					 "new CA (and remove it from every trust store)",
					 ca->cert_path, ca->key_path);
		else
			r = make_ca(&ca->key, &ca->cert, err);
		if (r == 0)
			r = write_pem(dfd, ca, true, err);
		if (r == 0)
			r = write_pem(dfd, ca, false, err);
		if (r == 0 && created)
			*created = true;
	} else if (r == 0) {
		r = load_pair(dfd, ca, err);
	}
	if (r == 0)
		r = proxy_ca__cache_init(ca, opts, err);
	if (r < 0) {
		proxy_ca_free(ca);
		return r;
	}
	*out = ca;
	return 0;
}

int proxy_ca_load_or_create(const char *dir, const struct proxy_ca_opts *opts,
			    struct proxy_ca **out, bool *created, ombx_err *err)
{
	return open_ca(dir, true, opts, out, created, err);
}

int proxy_ca_load(const char *dir, const struct proxy_ca_opts *opts, struct proxy_ca **out,
		  ombx_err *err)
{
	return open_ca(dir, false, opts, out, NULL, err);
}

void proxy_ca_free(struct proxy_ca *ca)
{
	if (!ca)
		return;
	proxy_ca__cache_free(ca);
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	EVP_PKEY_free(ca->leaf_key);
	free(ca);
}

const char *proxy_ca_dir(const struct proxy_ca *ca)
{
	return ca->dir;
}

const char *proxy_ca_cert_path(const struct proxy_ca *ca)
{
	return ca->cert_path;
}

const char *proxy_ca_key_path(const struct proxy_ca *ca)
{
	return ca->key_path;
}

X509 *proxy_ca_cert(const struct proxy_ca *ca)
{
	return ca->cert;
}

/* ---- the jail's bundle ---- */

int proxy_ca_bundle(const struct proxy_ca *ca, const char *path, ombx_err *err)
{
	_cleanup_free_ char *roots = NULL, *out = NULL, *dir = NULL;
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	_cleanup_close_ int dfd = -1, rfd = -1;
	size_t n_roots = 0;
	BIO *b = to_pem(NULL, ca->cert);
	char *pem;
	long pemlen;
	int r;

	if (!b)
		return ombx_err_set(err, ENOMEM, "encoding the CA certificate");
	pemlen = BIO_get_mem_data(b, &pem);
	rfd = open(PROXY_CA_SYSTEM_ROOTS, O_RDONLY | O_CLOEXEC);
	if (rfd < 0 && errno != ENOENT) { /* no system roots at all: ours alone */
		r = ombx_err_errno(err, errno, "opening %s", PROXY_CA_SYSTEM_ROOTS);
		BIO_free(b);
		return r;
	}
	if (rfd >= 0) {
		struct stat st;
		if (fstat(rfd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > BUNDLE_MAX) {
			BIO_free(b);
			return ombx_err_set(err, EINVAL, "%s is not a regular file under %d MiB",
					    PROXY_CA_SYSTEM_ROOTS, BUNDLE_MAX >> 20);
		}
		roots = malloc((size_t)st.st_size + 1);
		while (roots && n_roots < (size_t)st.st_size) {
			ssize_t k = read(rfd, roots + n_roots, (size_t)st.st_size - n_roots);
			if (k <= 0)
				break;
			n_roots += (size_t)k;
		}
		if (roots && n_roots != (size_t)st.st_size) {
			BIO_free(b);
			return ombx_err_set(err, EIO, "reading %s: short read",
					    PROXY_CA_SYSTEM_ROOTS);
		}
		if (roots && n_roots && roots[n_roots - 1] != '\n')
			roots[n_roots++] = '\n';
	}
	out = malloc(n_roots + (size_t)pemlen + 1);
	if (!out || (rfd >= 0 && !roots)) {
		BIO_free(b);
		return ombx_err_set(err, ENOMEM, "out of memory building %s", path);
	}
	if (n_roots)
		memcpy(out, roots, n_roots);
	memcpy(out + n_roots, pem, (size_t)pemlen);
	BIO_free(b);

	dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	if (!dir)
		return ombx_err_set(err, ENOMEM, "out of memory");
	if (!*base)
		return ombx_err_set(err, EINVAL, "bundle path %s names a directory", path);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return ombx_err_errno(err, errno, "opening %s", dir);
	r = write_atomic(dfd, path, base, out, n_roots + (size_t)pemlen, 0644, true, err);
	return r;
}
