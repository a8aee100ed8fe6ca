/* request.c - one request, start to end: decide it by policy, hold it for a
 * human when policy asks (before any upstream connection), inject the secrets
 * policy allows, forward it, relay the response, write its audit record.
 *
 * Secret values live only in this file's wiped, mlock'd buffers for the
 * duration of one request, and in the head buffer sent upstream (wiped). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "proxy/internal.h"
#include "proxy/redact.h"

#define INJ_MAX 8

struct secrets {
	struct policy_injection inj[INJ_MAX];
	char *val[INJ_MAX];
	size_t len[INJ_MAX];
	size_t n;
};

static void copy_field(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static void copy_text(char *dst, size_t size, const char *s)
{
	copy_field(dst, size, s, strlen(s));
}

static void secrets_wipe(struct secrets *s)
{
	for (size_t i = 0; i < s->n; i++) {
		if (!s->val[i])
			continue;
		explicit_bzero(s->val[i], POLICY_SECRET_MAX + 1);
		munlock(s->val[i], POLICY_SECRET_MAX + 1);
		free(s->val[i]);
		s->val[i] = NULL;
	}
	s->n = 0;
}

/* Reads the value of every injection d allows for ev; why on failure. */
static int secrets_load(struct proxy *p, struct policy_decision *d, const struct policy_event *ev,
			struct secrets *s, char *why, size_t size)
{
	int n;

	pthread_mutex_lock(&p->policy_lock);
	n = policy_injections(d, ev, s->inj, INJ_MAX);
	pthread_mutex_unlock(&p->policy_lock);
	if (n < 0) {
		snprintf(why, size, "cannot work out the secrets of this request");
		return n;
	}
	for (int i = 0; i < n; i++) {
		ombx_err err = {0};
		s->val[i] = malloc(POLICY_SECRET_MAX + 1);
		s->n = (size_t)i + 1;
		if (!s->val[i]) {
			snprintf(why, size, "out of memory");
			return -ENOMEM;
		}
		mlock(s->val[i], POLICY_SECRET_MAX + 1); /* best effort: never swapped */
		if (policy_secret_read(s->inj[i].secret, s->val[i], POLICY_SECRET_MAX + 1,
				       &s->len[i], &err) < 0) {
			copy_field(why, size, err.msg, strnlen(err.msg, sizeof(err.msg)));
			/* ^ names the secret and its source, never its value */
			return -EIO;
		}
	}
	return 0;
}

/* The origin-form part of the target (absolute-form: after the authority). */
static void origin_target(const struct http_request *req, bool tunnel, const char **t, size_t *n)
{
	*t = req->target;
	*n = req->target_len;
	if (!tunnel && *n > 7) {
		const char *a = *t + 7, *end = *t + *n;
		while (a < end && *a != '/' && *a != '?')
			a++;
		*n = (size_t)(end - a);
		*t = a;
	}
	if (*n == 0)
		*t = "/", *n = 1;
}

static bool approved_before(struct proxy *p, const char *key)
{
	bool found = false;

	pthread_mutex_lock(&p->approved_lock);
	for (size_t i = 0; i < p->n_approved && !found; i++)
		found = strcmp(p->approved[i], key) == 0;
	pthread_mutex_unlock(&p->approved_lock);
	return found;
}

static void remember(struct proxy *p, const char *key)
{
	char *k;

	pthread_mutex_lock(&p->approved_lock);
	if (p->n_approved < 4096 && (k = strdup(key))) {
		char **nv = realloc(p->approved, (p->n_approved + 1) * sizeof(*nv));
		if (nv) {
			p->approved = nv;
			p->approved[p->n_approved++] = k;
		} else {
			free(k);
		}
	}
	pthread_mutex_unlock(&p->approved_lock);
}

/* What a session approval is bound to: method, authority, the whole path
 * (query included) and the body's digest, hashed so that the key is exact
 * whatever their length (a cut string could match another request). */
static void approval_key(const char *method, const char *authority, const char *path,
			 const char *digest, char key[PROXY_AUDIT_HASH_HEX])
{
	struct obuf o = {0};
	const char *parts[] = {method, authority, path, digest ? digest : "-"};

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		proxy__obuf_add(&o, parts[i], strlen(parts[i]) + 1); /* NUL-separated */
	if (o.oom) /* no key: nothing matches, nothing is remembered */
		memset(key, 0, PROXY_AUDIT_HASH_HEX);
	else
		proxy_audit_hash(o.b, o.len, key);
	proxy__obuf_free(&o);
}

struct ask_call {
	struct proxy *p;
	const struct proxy_ask *q;
	char *approver;
	size_t size;
	enum proxy_answer a;
};

static void ask_run(void *arg)
{
	struct ask_call *k = arg;

	k->a = k->p->o.ask(k->p->o.ask_arg, k->q, k->p->o.ask_timeout_ms, k->approver, k->size);
}

/* Holds the request for a human; true when approved. */
static bool ask_human(struct proxy_conn *c, struct req_info *ri, const char *host, unsigned port,
		      const char *path, const char *digest)
{
	struct proxy *p = c->p;
	char authority[POLICY_HOST_MAX + 16], key[PROXY_AUDIT_HASH_HEX], redacted[1100];
	struct proxy_ask q;
	enum proxy_answer a;
	uint64_t id;

	snprintf(authority, sizeof(authority), "%s:%u", host, port);
	approval_key(ri->method, authority, path, digest, key);
	if (key[0] && approved_before(p, key)) {
		snprintf(ri->approver, sizeof(ri->approver), "session approval");
		snprintf(ri->reason + strlen(ri->reason), sizeof(ri->reason) - strlen(ri->reason),
			 " (approved earlier for this session)");
		return true;
	}
	if (!p->o.ask) {
		snprintf(ri->reason + strlen(ri->reason), sizeof(ri->reason) - strlen(ri->reason),
			 "; denied: no one to ask (no approver)");
		return false;
	}
	id = atomic_fetch_add(&p->next_ask, 1) + 1;
	snprintf(ri->approval_id, sizeof(ri->approval_id), "%llu", (unsigned long long)id);
	if (proxy_audit_redact_path(path, redacted, sizeof(redacted)) < 0)
		snprintf(redacted, sizeof(redacted), "(too long)");
	q = (struct proxy_ask){.id = id,
			       .session = p->o.session,
			       .client = c->client,
			       .method = ri->method,
			       .authority = authority,
			       .path = redacted,
			       .rule = ri->rule,
			       .reason = ri->reason,
			       .body_sha256 = digest};
	/* the answer may take minutes: the ask waits on a thread of its own,
	 * not on the worker that runs other connections; if none can be
	 * started, no one was asked: denied */
	struct ask_call k = {.p = p, .q = &q, .approver = ri->approver,
			     .size = sizeof(ri->approver), .a = PROXY_ANSWER_DENY};
	if (proxy__sched_block(ask_run, &k) < 0)
		ri->approver[0] = '\0';
	a = k.a;
	switch (a) {
	case PROXY_ANSWER_SESSION:
		if (key[0])
			remember(p, key);
		/* fall through */
	case PROXY_ANSWER_ONCE:
		return true;
	case PROXY_ANSWER_TIMEOUT:
		ri->approver[0] = '\0';
		snprintf(ri->reason + strlen(ri->reason), sizeof(ri->reason) - strlen(ri->reason),
			 "; denied: no answer within %d s", p->o.ask_timeout_ms / 1000);
		return false;
	default:
		snprintf(ri->reason + strlen(ri->reason), sizeof(ri->reason) - strlen(ri->reason),
			 ri->approver[0] ? "; denied by %s" : "; denied%s (no one approved it)",
			 ri->approver);
		ri->approver[0] = '\0';
		return false;
	}
}

/* The refusal of a request: 403 naming the rule, the body drained when small. */
static int refuse(struct proxy_conn *c, struct http_request *req, struct req_info *ri,
		  bool body_read)
{
	char msg[1100];
	enum http_body kind = req->h.body;
	uint64_t length = req->h.length;
	bool keep = req->h.keep_alive && !req->expect_continue;

	snprintf(msg, sizeof(msg), "%s %s denied by rule %s (%s): %s", ri->method,
		 ri->host_hdr[0] ? ri->host_hdr : "-", ri->rule, ri->level, ri->reason);
	ri->status = 403;
	if (!body_read) {
		proxy__consume(c, (size_t)req->h.head_len);
		if (keep && proxy__drain_body(c, kind, length) < 0)
			keep = false;
	}
	proxy__send_error(c, 403, msg, !keep);
	proxy__record_request(c, ri);
	return keep;
}

int proxy__handle_request(struct proxy_conn *c, struct http_request *req, const char *scheme,
			  const char *host, unsigned port)
{
	struct proxy *p = c->p;
	struct req_info ri = {.t0 = proxy__now_ms(),
			      .first_byte_ms = -1,
			      .up0 = c->c.bytes_in,
			      .down0 = c->c.bytes_out};
	struct policy_event ev = {
		.kind = POLICY_EGRESS, .scheme = scheme, .host = host, .port = port};
	struct policy_decision d;
	struct secrets sec = {0};
	char head_room[4096];
	struct obuf head = OBUF_ON(head_room), held = {0};
	struct proxy_redactor *red = NULL;
	struct http_request copy;
	const char *names[PROXY_SECRETS_MAX], *t, *pwhy = NULL;
	char digest[PROXY_AUDIT_HASH_HEX], why[700], framing[64] = "", *path = NULL, *hcopy = NULL;
	bool body_read = false, head_req, keep_req, ws;
	enum http_body kind = req->h.body;
	uint64_t length = req->h.length;
	size_t tn;
	int keep = 0, r, status;

	ri.req_id = ++c->n_req;
	if (atomic_load(&p->audit_failed)) { /* nothing could be audited: fail closed */
		proxy__send_error(c, 503,
				  "the audit log cannot be written; every request "
				  "is refused until the proxy is restarted (see its output)",
				  true);
		return 0;
	}
	copy_field(ri.method, sizeof(ri.method), req->method, req->method_len);
	if (req->host_field >= 0)
		copy_field(ri.host_hdr, sizeof(ri.host_hdr), req->h.fields[req->host_field].value,
			   req->h.fields[req->host_field].value_len);
	origin_target(req, c->tunnel, &t, &tn);
	copy_field(ri.path, sizeof(ri.path), t, tn);
	path = strndup(t, tn);
	if (!path || req->method_len >= sizeof(ri.method)) {
		free(path);
		proxy__send_error(c, 400, "method too long", true);
		return 0;
	}
	ev.method = ri.method;
	ev.path = path;
	ev.secrets = names;
	ev.n_secrets = proxy__find_placeholders(p, req, names, PROXY_SECRETS_MAX);

	pthread_mutex_lock(&p->policy_lock);
	policy_eval(p->session, &ev, &d);
	pthread_mutex_unlock(&p->policy_lock);
	snprintf(ri.rule, sizeof(ri.rule), "%s", d.why.rule);
	ri.level = policy_level_name(d.why.level);
	snprintf(ri.reason, sizeof(ri.reason), "%s", d.why.reason);
	ri.decision = policy_verdict_name(d.verdict);
	if (d.verdict == POLICY_DENY && strcmp(d.why.rule, "secret-not-bound") == 0)
		proxy__record_alert(c, &ri, names, ev.n_secrets);

	if (d.verdict == POLICY_ASK) {
		bool yes;
		if (kind != HTTP_BODY_NONE) {
			/* the approval binds the body: hold it (bounded) to digest it */
			hcopy = malloc(req->h.head_len);
			if (!hcopy ||
			    (memcpy(hcopy, c->buf + c->off, req->h.head_len),
			     http_parse_request(hcopy, req->h.head_len, &copy, &pwhy) <= 0)) {
				keep = 0;
				goto out;
			}
			req = &copy;
			proxy__consume(c, (size_t)req->h.head_len);
			body_read = true;
			if (req->expect_continue &&
			    proxy__write(&c->c, "HTTP/1.1 100 Continue\r\n\r\n", 25,
					 p->o.io_timeout_ms) < 0)
				goto out;
			r = proxy__hold_body(c, kind, length, &held, &pwhy);
			if (r == -EFBIG) {
				snprintf(ri.reason, sizeof(ri.reason),
					 "a body over %d bytes cannot be held for approval",
					 PROXY_ASK_BODY_MAX);
				pthread_mutex_lock(&p->policy_lock);
				policy_resolve(p->session, &d, false);
				pthread_mutex_unlock(&p->policy_lock);
				ri.status = 413;
				proxy__send_error(c, 413, ri.reason, true);
				proxy__record_request(c, &ri);
				goto out;
			}
			if (r < 0)
				goto out;
			proxy_audit_hash(held.b ? held.b : "", held.len, digest);
		}
		yes = ask_human(c, &ri, host, port, path, kind != HTTP_BODY_NONE ? digest : NULL);
		pthread_mutex_lock(&p->policy_lock);
		policy_resolve(p->session, &d, yes);
		pthread_mutex_unlock(&p->policy_lock);
	}
	if (policy_decision_effective(&d) != POLICY_ALLOW) {
		keep = refuse(c, req, &ri, body_read);
		goto out;
	}
	if (secrets_load(p, &d, &ev, &sec, why, sizeof(why)) < 0) {
		ri.status = 502;
		goto fail;
	}
	for (size_t i = 0; i < sec.n; i++)
		ri.secrets[ri.n_secrets++] = sec.inj[i].name;
	if (sec.n && proxy_redactor_new((const char *const *)sec.val, sec.len, sec.n, &red) < 0) {
		snprintf(why, sizeof(why), "out of memory");
		ri.status = 502;
		goto fail;
	}
	r = proxy__upstream_open(c, host, port, strcmp(scheme, "https") == 0, &status, why,
				 sizeof(why));
	if (r < 0) {
		ri.status = status;
		if (status == 403)
			ri.decision = "deny";
		goto fail;
	}
	if (body_read)
		snprintf(framing, sizeof(framing), "Content-Length: %zu\r\n", held.len);
	else if (kind == HTTP_BODY_LENGTH)
		snprintf(framing, sizeof(framing), "Content-Length: %llu\r\n",
			 (unsigned long long)length);
	else if (kind == HTTP_BODY_CHUNKED)
		snprintf(framing, sizeof(framing), "Transfer-Encoding: chunked\r\n");
	origin_target(req, c->tunnel, &t, &tn);
	ws = req->h.websocket;
	head_req = req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0;
	keep_req = req->h.keep_alive;
	r = proxy__build_request_head(p, req, t, tn, framing, ws, sec.inj, sec.val, sec.len, sec.n,
				      &head);
	if (r < 0) {
		snprintf(why, sizeof(why), "out of memory");
		ri.status = 502;
		goto fail;
	}
	if (!body_read) {
		bool expect = req->expect_continue;
		proxy__consume(c, (size_t)req->h.head_len); /* req is stale from here */
		req = NULL;
		if (expect && proxy__write(&c->c, "HTTP/1.1 100 Continue\r\n\r\n", 25,
					   p->o.io_timeout_ms) < 0)
			goto out;
	}
	r = proxy__write(&c->up.io, head.b, head.len, p->o.io_timeout_ms);
	proxy__obuf_free(&head);
	if (r == 0 && body_read && held.len)
		r = proxy__write(&c->up.io, held.b, held.len, p->o.io_timeout_ms);
	else if (r == 0 && !body_read)
		r = proxy__send_body(c, kind, length, &pwhy);
	if (r < 0) {
		proxy__upstream_close(&c->up);
		if (r == -EBADMSG) {
			snprintf(why, sizeof(why), "malformed request body: %s", pwhy);
			ri.status = 400;
			proxy__send_error(c, 400, why, true);
		}
		snprintf(ri.reason, sizeof(ri.reason), "request body not delivered: %s",
			 r == -EBADMSG ? pwhy : strerror(-r));
		proxy__record_request(c, &ri);
		goto out;
	}
	r = proxy__relay_response(c, head_req, keep_req, ws, red, &ri, why, sizeof(why));
	if (r < 0) {
		ri.status = 502;
		proxy__send_error(c, 502, why, true);
		copy_text(ri.reason, sizeof(ri.reason), why);
		proxy__record_request(c, &ri);
		goto out;
	}
	keep = r;
	proxy__record_request(c, &ri);
	goto out;
fail:
	copy_text(ri.reason, sizeof(ri.reason), why);
	if (!body_read)
		proxy__consume(c, (size_t)req->h.head_len);
	proxy__send_error(c, ri.status, why, true);
	proxy__record_request(c, &ri);
	keep = 0;
out:
	pthread_mutex_lock(&p->policy_lock);
	policy_decision_release(&d);
	pthread_mutex_unlock(&p->policy_lock);
	secrets_wipe(&sec);
	proxy_redactor_free(red);
	proxy__obuf_free(&head);
	proxy__obuf_free(&held);
	free(hcopy);
	free(path);
	return keep;
}
