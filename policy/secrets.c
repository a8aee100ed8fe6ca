/* secrets.c - which secret may go into an allowed request, and the one
 * accessor that reads a secret's value.
 *
 * Bindings are descriptions (name, source, hosts, header/format or basic
 * user) and never hold a value. policy_secret_read is the only code that
 * touches one: it reads the source into the caller's buffer, checks it
 * (no NUL, CR or LF: a value must not be able to split a header) and wipes
 * what it read when it fails. No message here ever contains a value. Also
 * policy_check_addr, the proxy's address vetting, which shares nothing with
 * secrets but the need to look at every level's sets. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eval.h"

const struct policy__inject *policy__secret_binding(const struct policy_secret *s, const char *host,
						    size_t hlen, bool is_ip)
{
	for (size_t i = 0; i < s->n_inject; i++)
		for (size_t h = 0; h < s->inject[i].n_hosts; h++)
			if (policy__hostpat_match(&s->inject[i].hosts[h], host, hlen, is_ip))
				return &s->inject[i];
	return NULL;
}

static const char *header_of(const struct policy__inject *in)
{
	return in->how == POLICY_INJECT_BASIC ? "Authorization" : in->header;
}

int policy_injections(const struct policy_decision *d, const struct policy_event *ev,
		      struct policy_injection *out, size_t max)
{
	char host[POLICY_HOST_MAX + 64], msg[200];
	size_t n = 0, hlen;
	bool is_ip;

	if (!d || !d->snap_ || !ev || ev->kind != POLICY_EGRESS || !ev->host)
		return -EINVAL;
	if (policy_decision_effective(d) != POLICY_ALLOW || !ev->scheme ||
	    strcasecmp(ev->scheme, "https") != 0)
		return 0;
	if (policy__host_canon(ev->host, strlen(ev->host), host, sizeof(host), &is_ip, msg,
			       sizeof(msg)) < 0)
		return -EINVAL;
	hlen = strlen(host);
	for (int l = 0; l < POLICY_N_LEVELS; l++) {
		const struct policy_set *set = d->snap_->sets[l];
		for (size_t i = 0; set && i < set->n_secrets && n < max; i++) {
			const struct policy_secret *s = &set->secrets[i];
			const struct policy__inject *in =
				policy__secret_binding(s, host, hlen, is_ip);
			bool taken = false;
			if (!in)
				continue;
			for (size_t k = 0; k < n && !taken; k++)
				taken = strcasecmp(header_of(in), out[k].how == POLICY_INJECT_BASIC
									  ? "Authorization"
									  : out[k].header) == 0;
			if (taken)
				continue;
			out[n++] = (struct policy_injection){
				.secret = s,
				.name = s->name,
				.how = in->how,
				.header = in->how == POLICY_INJECT_HEADER ? in->header : NULL,
				.prefix = in->prefix,
				.suffix = in->suffix,
				.basic_user = in->basic_user,
				.require_approval = s->require_approval,
			};
		}
	}
	return (int)n;
}

int policy_session_placeholders(struct policy_session *s, struct policy_placeholder *out,
				size_t max)
{
	size_t n = 0;

	for (int l = 0; l < POLICY_N_LEVELS; l++) {
		const struct policy_set *set = s->snap->sets[l];
		for (size_t i = 0; set && i < set->n_secrets && n < max; i++)
			if (set->secrets[i].placeholder_env)
				out[n++] = (struct policy_placeholder){
					&set->secrets[i], set->secrets[i].name,
					set->secrets[i].placeholder_env};
	}
	return (int)n;
}

/* ---- the accessor ---- */

static int read_file(const struct policy_secret *s, char *buf, size_t size, size_t *len,
		     ombx_err *err)
{
	size_t cap = size - 1 < POLICY_SECRET_MAX ? size - 1 : POLICY_SECRET_MAX, n = 0;
	struct stat st;
	int fd = open(s->src_arg, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return ombx_err_errno(err, errno, "secret %s: cannot open its file %s", s->name,
				      s->src_arg);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ombx_err_set(err, EINVAL, "secret %s: %s is not a regular file", s->name,
				    s->src_arg);
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, cap + 1 - n > 0 ? cap + 1 - n : 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			return ombx_err_errno(err, e, "secret %s: cannot read %s", s->name,
					      s->src_arg);
		}
		if (r == 0 || (n += (size_t)r) > cap)
			break;
	}
	close(fd);
	if (n > cap)
		return ombx_err_set(err, EFBIG, "secret %s: %s is larger than %zu bytes", s->name,
				    s->src_arg, cap);
	if (n && buf[n - 1] == '\n')
		n--;
	if (n && buf[n - 1] == '\r')
		n--;
	*len = n;
	return 0;
}

int policy_secret_read(const struct policy_secret *s, char *buf, size_t size, size_t *len,
		       ombx_err *err)
{
	const char *what = "";
	size_t n = 0;
	int r = 0;

	if (!s || !buf || size < 2 || !len)
		return ombx_err_set(err, EINVAL, "policy_secret_read: bad arguments");
	if (s->src == SRC_ENV) {
		const char *v = getenv(s->src_arg);
		if (!v)
			return ombx_err_set(err, ENOENT,
					    "secret %s: environment variable %s is not "
					    "set",
					    s->name, s->src_arg);
		n = strlen(v);
		if (n > POLICY_SECRET_MAX || n >= size)
			return ombx_err_set(err, EFBIG, "secret %s: the value of %s is too long",
					    s->name, s->src_arg);
		memcpy(buf, v, n);
	} else {
		r = read_file(s, buf, size, &n, err);
		if (r < 0) {
			explicit_bzero(buf, size);
			return r;
		}
	}
	if (n == 0)
		what = "is empty";
	else if (memchr(buf, '\0', n))
		what = "contains a NUL byte";
	else if (memchr(buf, '\n', n) || memchr(buf, '\r', n))
		what = "contains a line break";
	if (*what) {
		explicit_bzero(buf, size);
		return ombx_err_set(err, EINVAL, "secret %s: the value from %s:%s %s", s->name,
				    s->src == SRC_ENV ? "env" : "file", s->src_arg, what);
	}
	buf[n] = '\0';
	*len = n;
	return 0;
}

/* ---- address vetting ---- */

int policy_check_addr(struct policy_session *s, const char *addr, struct policy_decision *d)
{
	struct policy_event ev = {.kind = POLICY_EGRESS, .method = "CONNECT", .host = addr};
	struct policy__prep prep;
	struct policy__acc acc = {0};
	struct policy__ectx x = {s, &ev, d, &prep, &acc};
	const char *special;

	memset(d, 0, offsetof(struct policy_decision, text_));
	d->text_len_ = 0;
	d->session_ = s;
	if (policy__engine_version_relaxed(s->engine) != s->version) {
		policy__snap_unref(s->snap);
		s->snap = policy__engine_snap(s->engine);
		s->version = s->snap->version;
	}
	d->snap_ = s->snap;
	atomic_fetch_add_explicit(&d->snap_->refs, 1, memory_order_relaxed);
	d->verdict = POLICY_DENY;
	d->why = (struct policy_why){"malformed-address", POLICY_LEVEL_ENGINE,
				     "not an IP address in canonical form"};
	if (!addr || policy__prepare(&ev, &prep, d) || !prep.is_ip)
		return 0;
	/* CIDR rules only: the request itself was decided by policy_eval */
	for (int l = 0; l < POLICY_N_LEVELS && !acc.denied; l++) {
		static const enum policy_level order[] = {POLICY_LEVEL_SESSION, POLICY_LEVEL_SERVER,
							  POLICY_LEVEL_AGENT};
		const struct policy_set *set = d->snap_->sets[order[l]];
		for (size_t i = 0; set && i < set->egress_cidr.n && !acc.denied; i++) {
			const struct policy__rule *r = &set->rules[set->egress_cidr.idx[i]];
			for (size_t c = 0; c < r->n_cidrs; c++)
				if (policy__cidr_match(&r->cidrs[c], &prep.addr) &&
				    policy__conds_hold(r, &s->st)) {
					policy__contribute(&x, r, r->name, order[l], r->decision,
							   r->reason, false, 0, true);
					break;
				}
		}
	}
	special = policy_addr_special(&prep.addr);
	if (acc.denied) {
		d->why = acc.deny_why;
	} else if (special && !acc.cidr_ok) {
		d->why = (struct policy_why){"special-purpose-address", POLICY_LEVEL_ENGINE,
					     policy__text(d,
							  "%s is in a special-purpose range: %s; "
							  "only a CIDR rule can allow it",
							  prep.host, special)};
	} else {
		d->verdict = POLICY_ALLOW;
		d->by_default = !acc.cidr_ok;
		d->why = acc.cidr_ok ? (d->n_asks ? d->asks[0] : acc.allow_why)
				     : (struct policy_why){"default", POLICY_LEVEL_ENGINE,
							   "not a special-purpose address"};
		d->n_asks = 0; /* the address is fine; asks belong to the request */
	}
	return 0;
}

bool policy_host_could_be_allowed(struct policy_session *s, const char *host)
{
	char canon[POLICY_HOST_MAX + 1], msg[160];
	struct policy__snap *snap;
	bool is_ip, found = false;
	size_t len;

	if (policy__host_canon(host, strlen(host), canon, sizeof(canon), &is_ip, msg,
			       sizeof(msg)) < 0)
		return false;
	len = strlen(canon);
	snap = policy__engine_snap(s->engine);
	for (size_t l = 0; l < POLICY_N_LEVELS && !found; l++) {
		const struct policy_set *set = snap->sets[l];
		for (size_t i = 0; set && i < set->n_rules && !found; i++) {
			const struct policy__rule *r = &set->rules[i];
			if (r->on != POLICY_EGRESS || r->any_kind ||
			    (r->decision != POLICY_ALLOW && r->decision != POLICY_ASK))
				continue;
			if (r->n_hosts == 0 && r->n_cidrs == 0) {
				found = true; /* any host */
				break;
			}
			for (size_t h = 0; h < r->n_hosts && !found; h++)
				found = policy__hostpat_match(&r->hosts[h], canon, len, is_ip);
		}
	}
	policy__snap_unref(snap);
	return found;
}
