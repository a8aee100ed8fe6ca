/* inject.c - the request head that leaves the proxy, and the placeholders in
 * the one that arrived.
 *
 * The head sent upstream is rebuilt, not patched: request line in
 * origin-form, the client's fields minus hop-by-hop ones (and those its
 * Connection names), framing chosen by the proxy, then the injections of
 * secrets policy allowed for this host. A placeholder of an injected secret
 * is swapped for its value wherever it appears in the target or a field. The
 * buffer that holds secret values is wiped when freed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "proxy/internal.h"

void proxy__obuf_add(struct obuf *o, const void *s, size_t n)
{
	if (o->oom || n == 0) /* n == 0: s may be NULL */
		return;
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 4096; /* a head and a small body: one allocation */
		char *nb;
		while (cap < o->len + n)
			cap *= 2;
		nb = malloc(cap);
		if (!nb) {
			o->oom = true;
			return;
		}
		if (o->b) {
			memcpy(nb, o->b, o->len);
			explicit_bzero(o->b, o->len); /* may hold a secret */
			if (!o->ext)
				free(o->b);
		}
		o->b = nb;
		o->cap = cap;
		o->ext = false;
	}
	memcpy(o->b + o->len, s, n);
	o->len += n;
}

void proxy__obuf_str(struct obuf *o, const char *s)
{
	proxy__obuf_add(o, s, strlen(s));
}

void proxy__obuf_free(struct obuf *o)
{
	if (o->b)
		explicit_bzero(o->b, o->len); /* only [0, len) was ever written */
	if (!o->ext)
		free(o->b);
	*o = (struct obuf){0};
}

static const struct proxy_ph *ph_of(const struct proxy *p, const char *name)
{
	for (size_t i = 0; i < p->n_ph; i++)
		if (strcmp(p->ph[i].name, name) == 0)
			return &p->ph[i];
	return NULL;
}

/* Whether s[0..n) holds placeholder ph, also inside Basic credentials (of
 * any length a head can carry). */
static bool carries(const struct proxy_ph *ph, const char *s, size_t n, bool basic)
{
	unsigned char *dec;
	bool found;
	int dn;

	if (memmem(s, n, ph->value, ph->len))
		return true;
	if (!basic || n < 6 || strncasecmp(s, "basic ", 6) != 0)
		return false;
	s += 6, n -= 6;
	while (n && *s == ' ')
		s++, n--;
	if (n == 0 || n % 4 || n > HTTP_HEAD_MAX)
		return false;
	dec = malloc(n / 4 * 3 + 1);
	if (!dec)
		return true; /* cannot look: treat it as carrying (refused, fail closed) */
	dn = EVP_DecodeBlock(dec, (const unsigned char *)s, (int)n);
	found = dn > 0 && memmem(dec, (size_t)dn, ph->value, ph->len);
	explicit_bzero(dec, n / 4 * 3 + 1); /* someone's credentials */
	free(dec);
	return found;
}

size_t proxy__find_placeholders(struct proxy *p, const struct http_request *req, const char **names,
				size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_ph && n < max; i++) {
		const struct proxy_ph *ph = &p->ph[i];
		bool found = carries(ph, req->target, req->target_len, false);

		for (size_t f = 0; !found && f < req->h.n_fields; f++) {
			const struct http_field *fl = &req->h.fields[f];
			bool auth = (fl->name_len == 13 &&
				     !strncasecmp(fl->name, "authorization", 13)) ||
				    (fl->name_len == 19 &&
				     !strncasecmp(fl->name, "proxy-authorization", 19));
			found = carries(ph, fl->value, fl->value_len, auth) ||
				memmem(fl->name, fl->name_len, ph->value, ph->len);
		}
		if (found)
			names[n++] = ph->name;
	}
	return n;
}

static bool name_is(const struct http_field *f, const char *name)
{
	return f->name_len == strlen(name) && strncasecmp(f->name, name, f->name_len) == 0;
}

/* Hop-by-hop: never forwarded as the client sent them. */
static bool hop_by_hop(const struct http_head *h, const struct http_field *f)
{
	static const char *const names[] = {
		"connection",
		"keep-alive",
		"proxy-connection",
		"proxy-authorization",
		"proxy-authenticate",
		"te",
		"trailer",
		"transfer-encoding",
		"upgrade",
		"content-length",
		"expect",
	};
	char tok[64];

	if (f->name_len >= sizeof(tok)) /* longer than any name above */
		return http_field_in_connection(h, f);
	/* Content_Length, Transfer_Encoding, Host_: some servers read '_' as
	 * '-'; such a field could smuggle framing past us, so it is dropped */
	for (size_t i = 0; i < f->name_len; i++)
		tok[i] = f->name[i] == '_' ? '-' : f->name[i];
	tok[f->name_len] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(tok, names[i]) == 0)
			return true;
	if (memchr(f->name, '_', f->name_len) && strcasecmp(tok, "host") == 0)
		return true;
	return http_field_in_connection(h, f);
}

/* Appends s[0..n) with every placeholder of an injected secret swapped. */
static void add_swapped(struct proxy *p, struct obuf *o, const char *s, size_t n,
			const struct policy_injection *inj, char *const *values,
			const size_t *vlens, size_t n_inj)
{
	while (n > 0) {
		const char *best = NULL;
		size_t bi = 0, blen = 0;

		for (size_t i = 0; i < n_inj; i++) {
			const struct proxy_ph *ph = ph_of(p, inj[i].name);
			const char *hit = ph ? memmem(s, n, ph->value, ph->len) : NULL;
			if (hit && (!best || hit < best))
				best = hit, bi = i, blen = ph->len;
		}
		if (!best) {
			proxy__obuf_add(o, s, n);
			return;
		}
		proxy__obuf_add(o, s, (size_t)(best - s));
		proxy__obuf_add(o, values[bi], vlens[bi]);
		n -= (size_t)(best - s) + blen;
		s = best + blen;
	}
}

static bool replaced_by_injection(const struct http_field *f, const struct policy_injection *inj,
				  size_t n_inj)
{
	for (size_t i = 0; i < n_inj; i++) {
		const char *h = inj[i].how == POLICY_INJECT_BASIC ? "authorization" : inj[i].header;
		if (name_is(f, h))
			return true;
	}
	return false;
}

static void add_injection(struct obuf *o, const struct policy_injection *in, const char *v,
			  size_t vlen)
{
	if (in->how == POLICY_INJECT_HEADER) {
		proxy__obuf_str(o, in->header);
		proxy__obuf_str(o, ": ");
		proxy__obuf_str(o, in->prefix ? in->prefix : "");
		proxy__obuf_add(o, v, vlen);
		proxy__obuf_str(o, in->suffix ? in->suffix : "");
		proxy__obuf_str(o, "\r\n");
		return;
	}
	/* Basic: base64(user ":" secret), built in wiped buffers */
	size_t ulen = strlen(in->basic_user), plen = ulen + 1 + vlen;
	size_t blen = 4 * ((plen + 2) / 3) + 1;
	char *plain = malloc(plen), *b64 = malloc(blen);

	if (!plain || !b64) {
		o->oom = true;
	} else {
		memcpy(plain, in->basic_user, ulen);
		plain[ulen] = ':';
		memcpy(plain + ulen + 1, v, vlen);
		EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)plain, (int)plen);
		proxy__obuf_str(o, "Authorization: Basic ");
		proxy__obuf_str(o, b64);
		proxy__obuf_str(o, "\r\n");
	}
	if (plain)
		explicit_bzero(plain, plen);
	if (b64)
		explicit_bzero(b64, blen);
	free(plain);
	free(b64);
}

int proxy__build_request_head(struct proxy *p, const struct http_request *req, const char *target,
			      size_t target_len, const char *framing, bool upgrade,
			      const struct policy_injection *inj, char *const *values,
			      const size_t *vlens, size_t n_inj, struct obuf *o)
{
	const struct http_head *h = &req->h;

	proxy__obuf_add(o, req->method, req->method_len);
	proxy__obuf_str(o, " ");
	add_swapped(p, o, target, target_len, inj, values, vlens, n_inj);
	proxy__obuf_str(o, " HTTP/1.1\r\n");
	for (size_t i = 0; i < h->n_fields; i++) {
		const struct http_field *f = &h->fields[i];
		if (hop_by_hop(h, f) || replaced_by_injection(f, inj, n_inj))
			continue;
		proxy__obuf_add(o, f->name, f->name_len);
		proxy__obuf_str(o, ": ");
		add_swapped(p, o, f->value, f->value_len, inj, values, vlens, n_inj);
		proxy__obuf_str(o, "\r\n");
	}
	for (size_t i = 0; i < n_inj; i++)
		add_injection(o, &inj[i], values[i], vlens[i]);
	proxy__obuf_str(o, framing);
	if (upgrade) {
		int u = http_field_find(h, "upgrade", 0);
		proxy__obuf_str(o, "Connection: upgrade\r\nUpgrade: ");
		proxy__obuf_add(o, h->fields[u].value, h->fields[u].value_len);
		proxy__obuf_str(o, "\r\n");
	}
	proxy__obuf_str(o, "\r\n");
	return o->oom ? -ENOMEM : 0;
}
