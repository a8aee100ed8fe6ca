/* ca.h - the TLS interception CA and the leaf certificates it mints.
 *
 * Owns: one ECDSA P-256 CA (key + self-signed certificate) kept in a
 * directory outside every jail (default $XDG_DATA_HOME/omnigent/ca, else
 * ~/.local/share/omnigent/ca): ca.key (0600, written atomically, never
 * overwritten) and ca.pem (0644). One shared ECDSA P-256 leaf key per loaded
 * CA, generated in memory; leaf certificates minted per canonical name on
 * demand (single-flight across threads), kept in a bounded LRU cache and
 * re-minted well before they expire. docs/CA.md says how to trust and rotate.
 *
 * Must never: print, log or put key material into an error message; load a
 * key file that group/other can read or that another user owns; hand the key
 * to anything that enters a jail (only proxy_ca_bundle's public PEMs do). */
#ifndef OMBX_PROXY_CA_H
#define OMBX_PROXY_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "proxy/ca_dir.h"

#define PROXY_CA_NAME_MAX      253 /* a DNS name, dots included, no trailing dot */
#define PROXY_CA_CACHE_DEFAULT 1024
#define PROXY_CA_REUSE_DEFAULT (12 * 3600) /* seconds a leaf is handed out */
#define PROXY_CA_LEAF_BACKDATE 3600        /* notBefore = now - 1 h (clock skew) */
#define PROXY_CA_LEAF_LIFETIME (24 * 3600) /* notAfter = now + 24 h */
#define PROXY_CA_LIFETIME_DAYS 365         /* the CA itself */

struct proxy_ca;

struct proxy_ca_opts {
	size_t cache_size;  /* leaves kept; 0: PROXY_CA_CACHE_DEFAULT */
	int64_t reuse_secs; /* re-mint a cached leaf this old; 0: the default,
			       at most PROXY_CA_LEAF_LIFETIME / 2 */
};

/* Loads the CA in dir (NULL: the default), creating it (directory 0700, key,
 * certificate) if there is none; an existing key is never replaced. Creation
 * is serialised across processes by a lock on the directory. *created (may
 * be NULL) tells which happened. opts may be NULL. */
int proxy_ca_load_or_create(const char *dir, const struct proxy_ca_opts *opts,
			    struct proxy_ca **out, bool *created, ombx_err *err);

/* Loads an existing CA; -ENOENT (with a message naming dir) if there is none. */
int proxy_ca_load(const char *dir, const struct proxy_ca_opts *opts, struct proxy_ca **out,
		  ombx_err *err);

/* Accepts NULL. Waits for nothing: no proxy_ca_leaf_get may be running. */
void proxy_ca_free(struct proxy_ca *ca);

const char *proxy_ca_dir(const struct proxy_ca *ca);
const char *proxy_ca_cert_path(const struct proxy_ca *ca); /* DIR/ca.pem */
const char *proxy_ca_key_path(const struct proxy_ca *ca);  /* DIR/ca.key */
X509 *proxy_ca_cert(const struct proxy_ca *ca);            /* borrowed */

/* A leaf certificate for a canonical name (lowercase DNS name without
 * trailing dot, or canonical IPv4/IPv6 text) and the shared leaf key, both
 * up-ref'd: the caller frees them (X509_free, EVP_PKEY_free). Anything that
 * is not a canonical name is refused with -EINVAL. Thread-safe; concurrent
 * calls for one name mint once. */
int proxy_ca_leaf_get(struct proxy_ca *ca, const char *name, X509 **cert_out, EVP_PKEY **key_out,
		      ombx_err *err);

/* How many leaves this CA has minted (tests, metrics). */
uint64_t proxy_ca_mint_count(struct proxy_ca *ca);

/* Writes, atomically, the jail's trust bundle at path: the system roots
 * (PROXY_CA_SYSTEM_ROOTS, when present) followed by our CA certificate. */
int proxy_ca_bundle(const struct proxy_ca *ca, const char *path, ombx_err *err);

/* Checks a canonical leaf name; 0, or -EINVAL with why in msg. */
int proxy_ca_name_check(const char *name, bool *is_ip, char *msg, size_t size);

#endif
