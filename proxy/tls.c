/* tls.c - the two TLS faces of the proxy.
 *
 * Toward the jail: a server context whose certificate callback checks that
 * the client's SNI names the host it CONNECTed to (canonicalised; a name
 * without SNI is refused) and hands out that name's leaf from ca.h.
 * Toward origins: a client context that verifies the chain against the
 * host's trust store (plus --upstream-ca, never the jail's bundle) and the
 * name, sends SNI = the canonical name and offers only http/1.1. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/quote.h"
#include "proxy/internal.h"

static const unsigned char alpn_h1[] = "\x08http/1.1";

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned inlen, void *arg)
{
	unsigned char *sel;

	if (SSL_select_next_proto(&sel, outlen, alpn_h1, sizeof(alpn_h1) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK; /* no http/1.1 offered: speak it anyway */
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static int cert_cb(SSL *ssl, void *arg)
{
	struct proxy_conn *c = SSL_get_app_data(ssl);
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	char canon[POLICY_HOST_MAX + 1];
	bool is_ip_connect;
	char msg[128];
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	ombx_err err = {0};
	int ok;

	if (proxy_ca_name_check(c->connect_host, &is_ip_connect, msg, sizeof(msg)) < 0)
		return 0;
	if (sni) {
		ombx_quote(c->sni, sizeof(c->sni), sni, strnlen(sni, 300));
		if (policy_host_canon(sni, canon, sizeof(canon), &err) < 0 ||
		    strcmp(canon, c->connect_host) != 0) {
			c->sni_bad = true;
			return 0;
		}
		snprintf(c->sni, sizeof(c->sni), "%s", canon);
	} else if (!is_ip_connect) {
		c->sni_bad = true; /* a name without SNI: nothing to compare */
		snprintf(c->sni, sizeof(c->sni), "(none)");
		return 0;
	}
	if (proxy_ca_leaf_get(c->p->o.ca, c->connect_host, &x, &k, &err) < 0)
		return 0;
	ok = SSL_use_cert_and_key(ssl, x, k, NULL, 1);
	X509_free(x);
	EVP_PKEY_free(k);
	return ok == 1;
}

static SSL_CTX *server_ctx(ombx_err *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* one read(2) per burst of records, not two per record (header, body) */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
	SSL_CTX_set_cert_cb(ctx, cert_cb, NULL);
	return ctx;
}

static SSL_CTX *upstream_ctx(const struct proxy_opts *o, ombx_err *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		ombx_err_set(err, ENOMEM, "creating the upstream TLS context failed");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_alpn_protos(ctx, alpn_h1, sizeof(alpn_h1) - 1);
	/* The system's roots by hashed directory: looked up (and kept) as a
	 * chain needs them, instead of parsing the whole bundle at start (25 ms,
	 * on every `omnibox exec --net proxy`). */
	if (!o->no_system_roots && SSL_CTX_load_verify_dir(ctx, X509_get_default_cert_dir()) != 1) {
		SSL_CTX_free(ctx);
		ombx_err_set(err, EIO, "loading the system's trusted certificates failed");
		return NULL;
	}
	if (o->upstream_ca && SSL_CTX_load_verify_locations(ctx, o->upstream_ca, NULL) != 1) {
		char q[OMBX_QUOTE_MAX];
		ombx_quote(q, sizeof(q), o->upstream_ca, strlen(o->upstream_ca));
		SSL_CTX_free(ctx);
		ERR_clear_error();
		ombx_err_set(err, EINVAL,
			     "--upstream-ca %s: not a readable PEM file of certificates", q);
		return NULL;
	}
	return ctx;
}

int proxy__tls_init(struct proxy *p, ombx_err *err)
{
	p->server_ctx = server_ctx(err);
	if (!p->server_ctx)
		return ombx_err_set(err, ENOMEM, "creating the interception TLS context failed");
	p->upstream_ctx = upstream_ctx(&p->o, err);
	return p->upstream_ctx ? 0 : -EINVAL;
}

void proxy__tls_free(struct proxy *p)
{
	SSL_CTX_free(p->server_ctx);
	SSL_CTX_free(p->upstream_ctx);
	p->server_ctx = p->upstream_ctx = NULL;
}

/* Drives SSL_accept / SSL_connect to completion before deadline. */
static int handshake(SSL *ssl, int fd, bool server, int64_t deadline)
{
	for (;;) {
		int r = server ? SSL_accept(ssl) : SSL_connect(ssl);
		struct pollfd pfd = {.fd = fd};
		int64_t left;

		if (r == 1)
			return 0;
		switch (SSL_get_error(ssl, r)) {
		case SSL_ERROR_WANT_READ:
			pfd.events = POLLIN;
			break;
		case SSL_ERROR_WANT_WRITE:
			pfd.events = POLLOUT;
			break;
		default:
			return -EPROTO;
		}
		left = deadline - proxy__now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		proxy__sched_blocked(fd, pfd.events);
		r = proxy__poll(&pfd, 1, (int)left);
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

int proxy__tls_accept(struct proxy_conn *c, char *why, size_t size)
{
	int timeout = c->p->o.header_timeout_ms;
	SSL *ssl = SSL_new(c->p->server_ctx);
	int r;

	if (!ssl) {
		snprintf(why, size, "out of memory for TLS");
		return -ENOMEM;
	}
	SSL_set_app_data(ssl, c);
	SSL_set_fd(ssl, c->c.fd);
	c->c.ssl = ssl;
	proxy__pio_watch(&c->c);
	c->c.readable = false; /* the handshake reads what was there */
	r = handshake(ssl, c->c.fd, true, proxy__now_ms() + timeout);
	if (r == 0)
		return 0;
	if (c->sni_bad)
		snprintf(why, size, "TLS SNI %s does not name the CONNECT host %s", c->sni,
			 c->connect_host);
	else if (r == -ETIMEDOUT)
		snprintf(why, size, "TLS handshake with the client timed out");
	else
		snprintf(why, size, "TLS handshake with the client failed: %s",
			 ERR_reason_error_string(ERR_peek_last_error())
				 ? ERR_reason_error_string(ERR_peek_last_error())
				 : "connection closed");
	ERR_clear_error();
	return r < 0 ? r : -EPROTO;
}

int proxy__tls_connect(struct proxy *p, struct upstream *u, char *why, size_t size)
{
	SSL *ssl = SSL_new(p->upstream_ctx);
	X509_VERIFY_PARAM *vp;
	bool is_ip = false;
	char msg[128];
	long vr;
	int r;

	if (!ssl) {
		snprintf(why, size, "out of memory for TLS");
		return -ENOMEM;
	}
	proxy_ca_name_check(u->host, &is_ip, msg, sizeof(msg));
	vp = SSL_get0_param(ssl);
	X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, u->host) != 1
		  : (X509_VERIFY_PARAM_set1_host(vp, u->host, 0) != 1 ||
		     SSL_set_tlsext_host_name(ssl, u->host) != 1)) {
		SSL_free(ssl);
		snprintf(why, size, "cannot set up TLS for %s", u->host);
		return -EINVAL;
	}
	SSL_set_fd(ssl, u->io.fd);
	u->io.ssl = ssl;
	proxy__pio_watch(&u->io);
	r = handshake(ssl, u->io.fd, false, proxy__now_ms() + p->o.io_timeout_ms);
	if (r == 0)
		return 0;
	vr = SSL_get_verify_result(ssl);
	if (vr != X509_V_OK)
		snprintf(why, size, "the certificate of %s (%s) did not verify: %s", u->host,
			 u->resolved, X509_verify_cert_error_string(vr));
	else if (r == -ETIMEDOUT)
		snprintf(why, size, "TLS handshake with %s (%s) timed out", u->host, u->resolved);
	else
		snprintf(why, size, "TLS handshake with %s (%s) failed: %s", u->host, u->resolved,
			 ERR_reason_error_string(ERR_peek_last_error())
				 ? ERR_reason_error_string(ERR_peek_last_error())
				 : "connection closed");
	ERR_clear_error();
	return r < 0 ? r : -EPROTO;
}
