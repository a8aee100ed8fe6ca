/* audit_format.c - one audit record's fields as a JSON object (jansson):
 * every string valid UTF-8 and bounded, the path redacted, the cut fields
 * named. The chain's own fields (v, seq, prev) are added by audit.c. */
#include <errno.h>
#include <jansson.h>
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

struct builder {
	json_t *obj, *cut; /* cut: names of the truncated fields */
	size_t limit;
	int r;
};

/* keys are our own literals: no UTF-8 check */
static void put(struct builder *b, const char *key, json_t *v)
{
	if (!v || json_object_set_new_nocheck(b->obj, key, v) < 0)
		b->r = -ENOMEM;
}

static void note_cut(struct builder *b, const char *key)
{
	if (!b->cut)
		b->cut = json_array();
	if (!b->cut || json_array_append_new(b->cut, json_string_nocheck(key)) < 0)
		b->r = -ENOMEM;
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

static json_t *text(struct builder *b, const char *key, const char *s, size_t limit)
{
	_cleanup_free_ char *t = NULL;
	size_t len;
	bool cut;

	if (plain_text(s, limit, &len))
		return json_stringn_nocheck(s, len);
	t = field_text(s, limit, &cut); /* valid UTF-8 from here on */
	if (!t)
		return NULL;
	if (cut)
		note_cut(b, key);
	return json_string_nocheck(t);
}

static void put_str(struct builder *b, const char *key, const char *s)
{
	if (s)
		put(b, key, text(b, key, s, b->limit));
}

static void put_uint(struct builder *b, const char *key, uint64_t v)
{
	put(b, key, json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v));
}

static void put_path(struct builder *b, const char *path)
{
	size_t size = strlen(path) + strlen(PROXY_AUDIT_REDACTED) + 1;
	_cleanup_free_ char *red = malloc(size);

	if (!red || proxy_audit_redact_path(path, red, size) < 0) {
		b->r = -ENOMEM;
		return;
	}
	put_str(b, "path", red);
}

static void put_secrets(struct builder *b, const struct proxy_audit_record *rec)
{
	json_t *arr = json_array();
	size_t n = rec->n_secrets;
	bool names_cut = false;

	if (!arr) {
		b->r = -ENOMEM;
		return;
	}
	if (n > PROXY_AUDIT_SECRETS_MAX) {
		n = PROXY_AUDIT_SECRETS_MAX;
		names_cut = true;
	}
	for (size_t i = 0; i < n; i++) {
		bool cut;
		_cleanup_free_ char *t = NULL;
		if (!rec->secrets[i])
			continue;
		t = field_text(rec->secrets[i], PROXY_AUDIT_NAME_MAX, &cut);
		names_cut |= cut;
		if (!t || json_array_append_new(arr, json_string(t)) < 0)
			b->r = -ENOMEM;
	}
	if (names_cut)
		note_cut(b, "secrets");
	put(b, "secrets", arr);
}

static void put_timings(struct builder *b, const struct proxy_audit_record *rec)
{
	static const char *const names[] = {"dns", "connect", "tls", "first_byte", "total"};
	const int64_t v[] = {rec->dns_ms, rec->connect_ms, rec->tls_ms, rec->first_byte_ms,
			     rec->total_ms};
	json_t *t = json_object();

	if (!t) {
		b->r = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (v[i] >= 0 && json_object_set_new_nocheck(t, names[i], json_integer(v[i])) < 0)
			b->r = -ENOMEM;
	put(b, "timings", t);
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
static __thread char ts_text[32];

static void put_ts(struct builder *b, int64_t ms)
{
	char buf[64];
	struct tm tm;
	time_t sec = (time_t)(ms / 1000);
	int frac = (int)(ms % 1000);

	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	if (sec != ts_sec) {
		if (!gmtime_r(&sec, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
			b->r = -EINVAL;
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
	put(b, "ts", json_stringn_nocheck(buf, 24));
}

/* The record's fields as one JSON object, which the chain's fields will
 * join (the record's line without them): into buf (size bytes) when it
 * fits, else malloc'd (*heap set); NULL with errno set. Built without the
 * log's lock: appends from several threads overlap here. */
char *proxy__audit_body(const struct proxy_audit_record *rec, int64_t ts_ms, size_t limit,
			char *buf, size_t size, size_t *len, char **heap)
{
	json_auto_t *obj = json_object();
	struct builder b = {obj, NULL, limit, 0};
	char *out = buf;
	size_t n;

	*heap = NULL;
	if (!obj)
		return NULL;
	put_ts(&b, ts_ms);
	put_str(&b, "event", rec->event ? rec->event : "request");
	put_str(&b, "session", rec->session);
	if (rec->conn_id)
		put_uint(&b, "conn", rec->conn_id);
	if (rec->req_id)
		put_uint(&b, "req", rec->req_id);
	put_str(&b, "client", rec->client);
	put_str(&b, "connect_host", rec->connect_host);
	put_str(&b, "sni", rec->sni);
	put_str(&b, "host", rec->host);
	put_str(&b, "resolved", rec->resolved);
	put_str(&b, "method", rec->method);
	if (rec->path)
		put_path(&b, rec->path);
	put_str(&b, "decision", rec->decision);
	put_str(&b, "rule", rec->rule);
	put_str(&b, "level", rec->level);
	put_str(&b, "policy_version", rec->policy_version);
	put_str(&b, "reason", rec->reason);
	put_str(&b, "approval_id", rec->approval_id);
	put_str(&b, "approver", rec->approver);
	if (rec->n_secrets && rec->secrets)
		put_secrets(&b, rec);
	if (rec->status)
		put(&b, "status", json_integer(rec->status));
	put_uint(&b, "bytes_up", rec->bytes_up);
	put_uint(&b, "bytes_down", rec->bytes_down);
	if (rec->has_timings)
		put_timings(&b, rec);
	if (b.cut)
		put(&b, "truncated", b.cut);
	if (b.r < 0) {
		errno = -b.r;
		return NULL;
	}
	n = json_dumpb(obj, buf, size, JSON_COMPACT);
	if (n > size) {
		out = *heap = malloc(n);
		if (!out || json_dumpb(obj, out, n, JSON_COMPACT) != n) {
			free(*heap);
			*heap = NULL;
			errno = ENOMEM;
			return NULL;
		}
	} else if (n == 0) {
		errno = ENOMEM;
		return NULL;
	}
	*len = n;
	return out;
}
