/* audit_format.c - one audit record's fields as a compact JSON object, in
 * a fixed order: every string valid UTF-8 and bounded, the path redacted,
 * the cut fields named. Byte for byte what jansson's compact dump of the
 * same object is (test_audit loads and re-dumps every line it writes to
 * check it); jansson encodes every string that needs escaping or is not
 * plain ASCII, and we write the rest directly, which is what made records
 * cheap enough for the proxy's hot path (docs/PERFORMANCE.md). The chain's
 * own fields (v, seq, prev) are added by audit.c. */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/utf8.h"
#include "proxy/audit.h"
#include "proxy/audit_format.h"

/* ---- fields: valid UTF-8, bounded ---- */

/* s as valid UTF-8 of at most limit bytes (cut on a character boundary, with
 * the mark appended); *cut tells. NULL on allocation failure. */
static char *field_text(const char *s, size_t limit, bool *cut)
{
	static const char fffd[] = "\xef\xbf\xbd";
	const size_t mark = strlen(PROXY_AUDIT_CUT_MARK);
	size_t n = strlen(s), o = 0;
	char *out = malloc(limit + mark + 1);

	*cut = false;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t l = ombx_utf8_seq((const unsigned char *)s + i, n - i);
		const char *src = l ? s + i : fffd;
		size_t w = l ? l : 3;
		if (o + w > limit) {
			*cut = true;
			break;
		}
		memcpy(out + o, src, w);
		o += w;
		i += l ? l : 1;
	}
	if (*cut) {
		memcpy(out + o, PROXY_AUDIT_CUT_MARK, mark);
		o += mark;
	}
	out[o] = '\0';
	return out;
}

/* The line being written: the caller's buffer until it outgrows it. */
struct out {
	char *b, *heap;
	size_t len, cap;
	bool oom, bad;   /* bad: a timestamp that cannot be written */
	bool first;      /* no field yet in the current object */
	const char *cut[40]; /* names of the truncated fields */
	size_t n_cut;
	size_t limit;
};

static void raw(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 1024;
		char *nb;
		while (cap < o->len + n)
			cap *= 2;
		nb = o->heap ? realloc(o->heap, cap) : malloc(cap);
		if (!nb) {
			o->oom = true;
			return;
		}
		if (!o->heap)
			memcpy(nb, o->b, o->len);
		o->b = o->heap = nb;
		o->cap = cap;
	}
	memcpy(o->b + o->len, s, n);
	o->len += n;
}

static void key(struct out *o, const char *k)
{
	raw(o, o->first ? "\"" : ",\"", o->first ? 1 : 2);
	raw(o, k, strlen(k));
	raw(o, "\":", 2);
	o->first = false;
}

/* as jansson prints a json_int_t */
static void num(struct out *o, int64_t v)
{
	char t[24];
	size_t i = sizeof(t);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do
		t[--i] = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		t[--i] = '-';
	raw(o, t + i, sizeof(t) - i);
}

/* A JSON string for s (n bytes of valid UTF-8). Printable ASCII other than
 * '"' and '\' is its own encoding, written as it is; anything else (to
 * escape, or not ASCII) is encoded by jansson. test_audit checks that every
 * line is byte for byte what jansson makes of it. */
static void str(struct out *o, const char *s, size_t n)
{
	char tmp[512];
	json_t *j;
	size_t need;

	for (size_t i = 0;; i++) {
		if (i == n) {
			raw(o, "\"", 1);
			raw(o, s, n);
			raw(o, "\"", 1);
			return;
		}
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e || s[i] == '"' ||
		    s[i] == '\\')
			break;
	}
	j = json_stringn_nocheck(s, n);
	need = j ? json_dumpb(j, tmp, sizeof(tmp), JSON_ENCODE_ANY) : 0;
	if (need == 0) {
		o->oom = true;
	} else if (need <= sizeof(tmp)) {
		raw(o, tmp, need);
	} else {
		char *big = malloc(need);
		if (big && json_dumpb(j, big, need, JSON_ENCODE_ANY) == need)
			raw(o, big, need);
		else
			o->oom = true;
		free(big);
	}
	json_decref(j);
}

/* Whether s is valid UTF-8 of at most limit bytes (*len set): the common
 * case, kept as it is without a copy. */
static bool plain_text(const char *s, size_t limit, size_t *len)
{
	size_t i = 0;

	for (; s[i]; i++) {
		if (i >= limit)
			return false;
		if ((unsigned char)s[i] >= 0x80) {
			size_t l = ombx_utf8_seq((const unsigned char *)s + i, strnlen(s + i, 4));
			if (!l || i + l > limit)
				return false;
			i += l - 1;
		}
	}
	*len = i;
	return true;
}

static void note_cut(struct out *o, const char *name)
{
	if (o->n_cut < ARRAY_SIZE(o->cut))
		o->cut[o->n_cut++] = name;
}

/* s as a bounded, valid UTF-8 string; a cut one is named in "truncated" */
static void text(struct out *o, const char *name, const char *s, size_t limit)
{
	_cleanup_free_ char *t = NULL;
	size_t len;
	bool cut;

	if (plain_text(s, limit, &len)) {
		str(o, s, len);
		return;
	}
	t = field_text(s, limit, &cut);
	if (!t) {
		o->oom = true;
		return;
	}
	if (cut)
		note_cut(o, name);
	str(o, t, strlen(t));
}

static void put_str(struct out *o, const char *name, const char *s)
{
	if (s) {
		key(o, name);
		text(o, name, s, o->limit);
	}
}

static void put_uint(struct out *o, const char *name, uint64_t v)
{
	key(o, name);
	num(o, v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

static void put_path(struct out *o, const char *path)
{
	size_t size = strlen(path) + strlen(PROXY_AUDIT_REDACTED) + 1;
	_cleanup_free_ char *red = malloc(size);

	if (!red || proxy_audit_redact_path(path, red, size) < 0) {
		o->oom = true;
		return;
	}
	put_str(o, "path", red);
}

static void put_secrets(struct out *o, const struct proxy_audit_record *rec)
{
	size_t n = rec->n_secrets;
	bool names_cut = false, first = true;

	if (n > PROXY_AUDIT_SECRETS_MAX) {
		n = PROXY_AUDIT_SECRETS_MAX;
		names_cut = true;
	}
	key(o, "secrets");
	raw(o, "[", 1);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *t = NULL;
		bool cut;
		if (!rec->secrets[i])
			continue;
		t = field_text(rec->secrets[i], PROXY_AUDIT_NAME_MAX, &cut);
		if (!t) {
			o->oom = true;
			return;
		}
		names_cut |= cut;
		if (!first)
			raw(o, ",", 1);
		first = false;
		str(o, t, strlen(t));
	}
	raw(o, "]", 1);
	if (names_cut)
		note_cut(o, "secrets");
}

static void put_timings(struct out *o, const struct proxy_audit_record *rec)
{
	static const char *const names[] = {"dns", "connect", "tls", "first_byte", "total"};
	const int64_t v[] = {rec->dns_ms, rec->connect_ms, rec->tls_ms, rec->first_byte_ms,
			     rec->total_ms};

	key(o, "timings");
	raw(o, "{", 1);
	o->first = true;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (v[i] < 0)
			continue;
		key(o, names[i]);
		num(o, v[i]);
	}
	raw(o, "}", 1);
	o->first = false;
}

int64_t proxy__audit_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "YYYY-MM-DDTHH:MM:SS" of the last second this thread formatted: records
 * come many per second */
static __thread time_t ts_sec = -1;
static __thread char ts_text[80]; /* room for any int the compiler imagines */

static void put_ts(struct out *o, int64_t ms)
{
	char buf[24];
	struct tm tm;
	time_t sec = (time_t)(ms / 1000);
	int frac = (int)(ms % 1000);

	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	if (sec != ts_sec) {
		if (!gmtime_r(&sec, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
			o->bad = true;
			return;
		}
		snprintf(ts_text, sizeof(ts_text), "%04d-%02d-%02dT%02d:%02d:%02d",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec);
		ts_sec = sec;
	}
	memcpy(buf, ts_text, 19);
	buf[19] = '.';
	buf[20] = (char)('0' + frac / 100);
	buf[21] = (char)('0' + frac / 10 % 10);
	buf[22] = (char)('0' + frac % 10);
	buf[23] = 'Z';
	key(o, "ts");
	str(o, buf, sizeof(buf));
}

char *proxy__audit_body(const struct proxy_audit_record *rec, int64_t ts_ms, size_t limit,
			char *buf, size_t size, size_t *len, char **heap)
{
	struct out o = {.b = buf, .cap = size, .first = true, .limit = limit};

	*heap = NULL;
	raw(&o, "{", 1);
	put_ts(&o, ts_ms);
	if (o.bad) {
		errno = EINVAL;
		return NULL;
	}
	put_str(&o, "event", rec->event ? rec->event : "request");
	put_str(&o, "session", rec->session);
	if (rec->conn_id)
		put_uint(&o, "conn", rec->conn_id);
	if (rec->req_id)
		put_uint(&o, "req", rec->req_id);
	put_str(&o, "client", rec->client);
	put_str(&o, "connect_host", rec->connect_host);
	put_str(&o, "sni", rec->sni);
	put_str(&o, "host", rec->host);
	put_str(&o, "resolved", rec->resolved);
	put_str(&o, "method", rec->method);
	if (rec->path)
		put_path(&o, rec->path);
	put_str(&o, "decision", rec->decision);
	put_str(&o, "rule", rec->rule);
	put_str(&o, "level", rec->level);
	put_str(&o, "policy_version", rec->policy_version);
	put_str(&o, "reason", rec->reason);
	put_str(&o, "approval_id", rec->approval_id);
	put_str(&o, "approver", rec->approver);
	if (rec->n_secrets && rec->secrets)
		put_secrets(&o, rec);
	if (rec->status) {
		key(&o, "status");
		num(&o, rec->status);
	}
	put_uint(&o, "bytes_up", rec->bytes_up);
	put_uint(&o, "bytes_down", rec->bytes_down);
	if (rec->has_timings)
		put_timings(&o, rec);
	if (o.n_cut) {
		key(&o, "truncated");
		raw(&o, "[", 1);
		for (size_t i = 0; i < o.n_cut; i++) {
			if (i)
				raw(&o, ",", 1);
			str(&o, o.cut[i], strlen(o.cut[i]));
		}
		raw(&o, "]", 1);
	}
	raw(&o, "}", 1);
	if (o.oom) {
		free(o.heap);
		errno = ENOMEM;
		return NULL;
	}
	*heap = o.heap;
	*len = o.len;
	return o.b;
}
