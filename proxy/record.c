/* record.c - the proxy's audit records: one per request, one per refused
 * connection, one alert per placeholder headed where its secret is not
 * bound. A failed append is not retried (the appender never leaves a
 * partial record: audit.h). The proxy then fails closed: every request from
 * then on is refused with 503 (request.c) until it is restarted, since
 * nothing it forwarded could be audited. */
#include <stdio.h>
#include <string.h>

#include "proxy/internal.h"

static void base(struct proxy_conn *c, struct proxy_audit_record *r)
{
	*r = (struct proxy_audit_record){0};
	r->session = c->p->o.session;
	r->conn_id = c->id;
	r->client = c->client;
	r->connect_host = c->tunnel ? c->connect_raw : NULL;
	r->sni = c->sni[0] ? c->sni : NULL;
	r->dns_ms = r->connect_ms = r->tls_ms = r->first_byte_ms = r->total_ms = -1;
}

static void append(struct proxy *p, const struct proxy_audit_record *r)
{
	ombx_err err = {0};

	if (!p->o.audit)
		return;
	if (proxy_audit_append(p->o.audit, r, &err) < 0 &&
	    !atomic_exchange(&p->audit_failed, true))
		fprintf(stderr,
			"omnibox proxy: %s; refusing every request from now on (fail closed): "
			"fix the log and restart the proxy\n",
			err.msg);
}

static void fill_request(struct proxy_conn *c, struct req_info *ri, struct proxy_audit_record *r,
			 char *version, size_t vsize)
{
	base(c, r);
	r->req_id = ri->req_id;
	r->host = ri->host_hdr[0] ? ri->host_hdr : NULL;
	r->resolved = c->up.resolved[0] ? c->up.resolved : NULL;
	r->method = ri->method;
	r->path = ri->path;
	r->decision = ri->decision;
	r->rule = ri->rule[0] ? ri->rule : NULL;
	r->level = ri->level;
	snprintf(version, vsize, "%llu", (unsigned long long)policy_engine_version(c->p->o.engine));
	r->policy_version = version;
	r->reason = ri->reason[0] ? ri->reason : NULL;
	r->approval_id = ri->approval_id[0] ? ri->approval_id : NULL;
	r->approver = ri->approver[0] ? ri->approver : NULL;
	r->secrets = ri->secrets;
	r->n_secrets = ri->n_secrets;
	r->status = ri->status;
	r->bytes_up = c->c.bytes_in - ri->up0;
	r->bytes_down = c->c.bytes_out - ri->down0;
	r->has_timings = true;
	r->dns_ms = c->up.dns_ms;
	r->connect_ms = c->up.connect_ms;
	r->tls_ms = c->up.tls_ms;
	r->first_byte_ms = ri->first_byte_ms;
	r->total_ms = proxy__now_ms() - ri->t0;
}

void proxy__record_request(struct proxy_conn *c, struct req_info *ri)
{
	struct proxy_audit_record r;
	char version[24];

	fill_request(c, ri, &r, version, sizeof(version));
	append(c->p, &r);
	c->up.dns_ms = c->up.connect_ms = c->up.tls_ms = -1; /* timings belong to one request */
}

void proxy__record_alert(struct proxy_conn *c, struct req_info *ri, const char *const *names,
			 size_t n)
{
	struct proxy_audit_record r;
	char version[24];

	fill_request(c, ri, &r, version, sizeof(version));
	r.event = "alert";
	r.secrets = names; /* the placeholders carried: names, never values */
	r.n_secrets = n;
	r.status = 0;
	r.has_timings = false;
	append(c->p, &r);
}

void proxy__record_refused(struct proxy_conn *c, int status, const char *reason)
{
	struct proxy_audit_record r;

	base(c, &r);
	r.event = "refused";
	r.decision = "deny";
	r.level = "engine";
	r.reason = reason;
	r.status = status;
	r.bytes_up = c->c.bytes_in;
	r.bytes_down = c->c.bytes_out;
	r.has_timings = true;
	r.total_ms = proxy__now_ms() - c->t_accept;
	append(c->p, &r);
}
