/* audit_read.c - reading the audit log back: a bounded line reader, the
 * chain verifier, and RFC 3339 timestamps. Everything here reads bytes an
 * attacker may have written: every length is checked, nothing is trusted. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/quote.h"
#include "proxy/audit.h"

/* ---- reader ---- */

int proxy_audit_reader_init(struct proxy_audit_reader *r, int fd)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->buf = malloc(PROXY_AUDIT_LINE_MAX);
	return r->buf ? 0 : -ENOMEM;
}

void proxy_audit_reader_free(struct proxy_audit_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

size_t proxy_audit_reader_pending(const struct proxy_audit_reader *r)
{
	return r->len - r->off;
}

int proxy_audit_reader_next(struct proxy_audit_reader *r, const char **line, size_t *len)
{
	size_t scanned = 0;

	for (;;) {
		char *nl = memchr(r->buf + r->off + scanned, '\n', r->len - r->off - scanned);
		ssize_t n;
		if (nl) {
			*line = r->buf + r->off;
			*len = (size_t)(nl - *line);
			r->off += *len + 1;
			r->line++;
			return 1;
		}
		scanned = r->len - r->off;
		if (r->off > 0) {
			memmove(r->buf, r->buf + r->off, scanned);
			r->len = scanned;
			r->off = 0;
		}
		if (r->len == PROXY_AUDIT_LINE_MAX)
			return -EMSGSIZE; /* no newline within the limit */
		n = read(r->fd, r->buf + r->len, PROXY_AUDIT_LINE_MAX - r->len);
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		r->len += (size_t)n;
	}
}

/* ---- verify ---- */

struct chain {
	uint64_t line;
	char prev[PROXY_AUDIT_HASH_HEX];
};

__attribute__((format(printf, 3, 4))) static int bad(ombx_err *err, uint64_t line, const char *fmt,
						     ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ombx_err_set(err, EBADMSG, "line %llu: %s", (unsigned long long)line, msg);
}

static int check_line(struct chain *c, const char *s, size_t len, ombx_err *err)
{
	json_auto_t *j = NULL;
	json_error_t jerr;
	json_t *seq, *prev;
	char q[OMBX_QUOTE_MAX];
	uint64_t want = c->line;

	if (len == 0)
		return bad(err, c->line, "empty line");
	if (memchr(s, '\0', len))
		return bad(err, c->line, "a NUL byte at column %zu",
			   (size_t)((const char *)memchr(s, '\0', len) - s) + 1);
	j = json_loadb(s, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return bad(err, c->line, "not valid JSON (%s)", jerr.text);
	if (!json_is_object(j))
		return bad(err, c->line, "not a JSON object");
	seq = json_object_get(j, "seq");
	if (!json_is_integer(seq))
		return bad(err, c->line, "no integer \"seq\"");
	if (json_integer_value(seq) != (json_int_t)want) {
		char m[160];
		json_int_t got = json_integer_value(seq);
		if (got > (json_int_t)want && want > 1)
			snprintf(m, sizeof(m),
				 "seq %lld where %llu was expected (%lld record(s) missing: lines "
				 "were removed)",
				 (long long)got, (unsigned long long)want,
				 (long long)(got - (json_int_t)want));
		else
			snprintf(m, sizeof(m),
				 "seq %lld where %llu was expected (the log was edited, reordered "
				 "or does not start at its first record)",
				 (long long)got, (unsigned long long)want);
		return bad(err, c->line, "%s", m);
	}
	prev = json_object_get(j, "prev");
	if (!json_is_string(prev))
		return bad(err, c->line, "no string \"prev\"");
	if (strcmp(json_string_value(prev), c->prev) != 0) {
		char m[200];
		if (c->line == 1) {
			ombx_quote(q, sizeof(q), json_string_value(prev), json_string_length(prev));
			snprintf(m, sizeof(m), "prev %s is not the genesis hash", q);
		} else {
			snprintf(m, sizeof(m),
				 "prev hash does not match line %llu (the log was edited or lines "
				 "were removed)",
				 (unsigned long long)c->line - 1);
		}
		return bad(err, c->line, "%s", m);
	}
	if (!json_is_string(json_object_get(j, "ts")))
		return bad(err, c->line, "no string \"ts\"");
	return 0;
}

int proxy_audit_verify_fd(int fd, struct proxy_audit_verify_result *res, ombx_err *err)
{
	struct proxy_audit_reader rd;
	struct chain c = {0, PROXY_AUDIT_GENESIS};
	const char *line;
	size_t len;
	int r;

	memset(res, 0, sizeof(*res));
	memcpy(res->last_hash, PROXY_AUDIT_GENESIS, sizeof(res->last_hash));
	if (proxy_audit_reader_init(&rd, fd) < 0)
		return ombx_err_set(err, ENOMEM, "out of memory");
	while ((r = proxy_audit_reader_next(&rd, &line, &len)) == 1) {
		c.line = rd.line;
		r = check_line(&c, line, len, err);
		if (r < 0) {
			res->bad_line = c.line;
			break;
		}
		proxy_audit_hash(line, len, c.prev);
		res->records++;
	}
	if (r == -EMSGSIZE) {
		res->bad_line = rd.line + 1;
		r = ombx_err_set(err, EBADMSG, "line %llu: longer than %d bytes",
				 (unsigned long long)res->bad_line, PROXY_AUDIT_LINE_MAX);
	} else if (r < 0 && r != -EBADMSG) {
		r = ombx_err_errno(err, -r, "reading line %llu", (unsigned long long)rd.line + 1);
	} else if (r == 0) {
		res->torn_bytes = proxy_audit_reader_pending(&rd);
	}
	memcpy(res->last_hash, c.prev, sizeof(res->last_hash));
	proxy_audit_reader_free(&rd);
	return r;
}

/* ---- time ---- */

static int digits(const char **s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*s)[i] < '0' || (*s)[i] > '9')
			return -EINVAL;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return 0;
}

static int expect(const char **s, char c)
{
	if (**s != c && !(c == 'T' && (**s == 't' || **s == ' ')))
		return -EINVAL;
	(*s)++;
	return 0;
}

int proxy_audit_parse_ts(const char *s, int64_t *ms)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, sec, frac = 0, scale = 100, off = 0;
	time_t t;

	if (digits(&s, 4, &y) || expect(&s, '-') || digits(&s, 2, &mo) || expect(&s, '-') ||
	    digits(&s, 2, &d) || expect(&s, 'T') || digits(&s, 2, &h) || expect(&s, ':') ||
	    digits(&s, 2, &mi) || expect(&s, ':') || digits(&s, 2, &sec))
		return -EINVAL;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		for (; *s >= '0' && *s <= '9'; s++) {
			frac += (*s - '0') * scale;
			scale /= 10;
		}
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s == '-' ? -1 : 1, oh, om;
		s++;
		if (digits(&s, 2, &oh) || expect(&s, ':') || digits(&s, 2, &om) || oh > 23 ||
		    om > 59)
			return -EINVAL;
		off = sign * (oh * 60 + om);
	} else {
		return -EINVAL;
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1 && !(y == 1969 && mo == 12 && d == 31))
		return -EINVAL;
	*ms = ((int64_t)t - (int64_t)off * 60) * 1000 + frac;
	return 0;
}
