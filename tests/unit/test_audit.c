/* test_audit.c - table-driven tests of the audit log (proxy/audit.h): the
 * chain over many records, reopen continuing it, a torn tail recovered,
 * path redaction, field bounds, the verifier against tampered logs, RFC 3339
 * timestamps and bad inputs.
 *
 * Also the integration tests' log writer:
 *   test_audit write FILE   < lines "TS HOST DECISION METHOD PATH STATUS RULE"
 * appends one record per line (TS in RFC 3339, "now" for the current time). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxy/audit.h"
#include "check.h"

static char dir[] = "/tmp/ombx-audit-test.XXXXXX";

static char *tmp(const char *name)
{
	static char buf[8][256];
	static int i;
	char *p = buf[i++ % 8];

	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

static const struct proxy_audit_record base = {
	.ts_ms = 1764000000123,
	.session = "s-1",
	.conn_id = 7,
	.req_id = 2,
	.client = "10.0.0.2:51000",
	.connect_host = "api.github.com",
	.sni = "api.github.com",
	.host = "api.github.com",
	.resolved = "140.82.112.5:443",
	.method = "GET",
	.path = "/repos/o/r?access_token=hunter2",
	.decision = "allow",
	.rule = "egress.allow[0]",
	.level = "server",
	.policy_version = "v1",
	.status = 200,
	.bytes_up = 120,
	.bytes_down = 3456,
	.has_timings = true,
	.dns_ms = 1,
	.connect_ms = 2,
	.tls_ms = -1,
	.first_byte_ms = 30,
	.total_ms = 31,
};

static int append_n(const char *path, int n, unsigned flags)
{
	struct proxy_audit *a;
	ombx_err err = {0};

	if (proxy_audit_open(path, flags, &a, &err) < 0) {
		printf("# open: %s\n", err.msg);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct proxy_audit_record r = base;
		r.req_id = (uint64_t)i + 1;
		if (proxy_audit_append(a, &r, &err) < 0) {
			printf("# append: %s\n", err.msg);
			proxy_audit_close(a);
			return -1;
		}
	}
	proxy_audit_close(a);
	return 0;
}

static int verify(const char *path, struct proxy_audit_verify_result *res, ombx_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	memset(err, 0, sizeof(*err));
	r = proxy_audit_verify_fd(fd, res, err);
	close(fd);
	return r;
}

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(1 << 22);

	*len = f ? fread(buf, 1, (1 << 22) - 1, f) : 0;
	buf[*len] = '\0';
	if (f)
		fclose(f);
	return buf;
}

/* The n-th line (from 1) of a file, parsed. */
static json_t *line_json(const char *path, int n)
{
	size_t len;
	char *buf = read_file(path, &len), *p = buf;
	json_t *j;

	for (int i = 1; i < n && p; i++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	j = p ? json_loadb(p, strcspn(p, "\n"), 0, NULL) : NULL;
	free(buf);
	return j;
}

static void test_chain(void)
{
	const char *p = tmp("chain.jsonl");
	struct proxy_audit_verify_result res;
	ombx_err err;
	struct stat st;
	struct proxy_audit *a;

	check(append_n(p, 1000, 0) == 0, "chain: 1000 appends", "failed");
	check(verify(p, &res, &err) == 0 && res.records == 1000 && res.torn_bytes == 0,
	      "chain: 1000 records verify", "records %llu: %s", (unsigned long long)res.records,
	      err.msg);
	check(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600, "chain: file is 0600", "mode %o",
	      st.st_mode & 0777);
	check(append_n(p, 10, PROXY_AUDIT_SYNC) == 0, "reopen: 10 more appends (sync)", "failed");
	check(verify(p, &res, &err) == 0 && res.records == 1010, "reopen: chain continues",
	      "records %llu: %s", (unsigned long long)res.records, err.msg);
	if (proxy_audit_open(p, 0, &a, &err) == 0) {
		check(proxy_audit_seq(a) == 1010 &&
			      strcmp(proxy_audit_last_hash(a), res.last_hash) == 0,
		      "reopen: seq and last hash picked up", "seq %llu",
		      (unsigned long long)proxy_audit_seq(a));
		struct proxy_audit *b = NULL;
		ombx_err e2 = {0};
		check(proxy_audit_open(p, 0, &b, &e2) == -EWOULDBLOCK && !b,
		      "open: a second writer is refused", "%s", e2.msg);
		proxy_audit_close(a);
	}
	json_t *j = line_json(p, 1);
	check(j &&
		      strcmp(json_string_value(json_object_get(j, "prev")), PROXY_AUDIT_GENESIS) ==
			      0 &&
		      json_integer_value(json_object_get(j, "seq")) == 1,
	      "chain: first record has seq 1 and the genesis prev", "no");
	check(j && strcmp(json_string_value(json_object_get(j, "ts")),
			  "2025-11-24T16:00:00.123Z") == 0,
	      "record: ts is RFC 3339 UTC with ms", "%s",
	      j ? json_string_value(json_object_get(j, "ts")) : "?");
	check(j && strcmp(json_string_value(json_object_get(j, "path")), "/repos/o/r?REDACTED") ==
			      0,
	      "record: the query is redacted", "no");
	check(j && json_object_get(json_object_get(j, "timings"), "tls") == NULL &&
		      json_integer_value(json_object_get(json_object_get(j, "timings"), "total")) ==
			      31,
	      "record: timings, negative ones left out", "no");
	json_decref(j);
	size_t len;
	char *all = read_file(p, &len);
	check(!strstr(all, "hunter2"), "record: the query's value is not in the file", "found");
	free(all);
}

/* The proxy appends from every worker thread at once. */
#define THREADS 4
#define PER_THREAD 500

static void *append_many(void *arg)
{
	struct proxy_audit *a = arg;
	ombx_err err = {0};

	for (int i = 0; i < PER_THREAD; i++) {
		struct proxy_audit_record r = base;
		r.req_id = (uint64_t)i + 1;
		if (proxy_audit_append(a, &r, &err) < 0)
			return (void *)1;
	}
	return NULL;
}

static void test_threads(void)
{
	const char *p = tmp("threads.jsonl");
	struct proxy_audit_verify_result res;
	struct proxy_audit *a;
	pthread_t t[THREADS];
	ombx_err err = {0};
	bool ok = true;

	if (proxy_audit_open(p, 0, &a, &err) < 0) {
		check(false, "threads: open", "%s", err.msg);
		return;
	}
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, append_many, a);
	for (int i = 0; i < THREADS; i++) {
		void *r;
		pthread_join(t[i], &r);
		ok &= r == NULL;
	}
	proxy_audit_close(a);
	check(ok, "threads: 4 x 500 concurrent appends", "an append failed");
	check(verify(p, &res, &err) == 0 && res.records == THREADS * PER_THREAD &&
		      res.torn_bytes == 0,
	      "threads: every record whole and the chain unbroken", "records %llu: %s",
	      (unsigned long long)res.records, err.msg);
}

/* Random bytes a client could send: plain ASCII mostly, with quotes,
 * backslashes, control bytes, DEL, UTF-8 of every length and invalid
 * sequences; now and then longer than a field may be. */
static char *random_text(unsigned *seed)
{
	static const char *const pieces[] = {
		"a",  "Z",   "/",	  "?q=1", "\"", "\\", "\x01", "\n", "\t", "\x1f", "\x7f",
		" ",  "%2F", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\x91", "\xff", "\xc3(",
		"\xed\xa0\x80", "</script>", "\\u0000"};
	size_t n = (size_t)(rand_r(seed) % 40), len = 0;
	char *s;

	if (rand_r(seed) % 50 == 0)
		n = PROXY_AUDIT_FIELD_MAX / 2 + (size_t)(rand_r(seed) % 400);
	s = malloc(n * 16 + 1);
	for (size_t i = 0; i < n; i++) {
		const char *p = pieces[rand_r(seed) % (sizeof(pieces) / sizeof(pieces[0]))];
		memcpy(s + len, p, strlen(p));
		len += strlen(p);
	}
	s[len] = '\0';
	return s;
}

/* Every line is byte for byte what jansson writes for the object it holds:
 * loading it and dumping it again (compact, keys in their order) gives the
 * same bytes. */
static void test_like_jansson(void)
{
	const char *p = tmp("jansson.jsonl");
	struct proxy_audit_verify_result res;
	struct proxy_audit *a;
	ombx_err err = {0};
	unsigned seed = 12345;
	int n = 3000, same = 0;
	bool shown = false;

	unlink(p);
	if (proxy_audit_open(p, 0, &a, &err) < 0) {
		check(false, "like jansson: open", "%s", err.msg);
		return;
	}
	for (int i = 0; i < n; i++) {
		struct proxy_audit_record r = base;
		char *t[8];
		const char *secrets[3];
		for (size_t k = 0; k < 8; k++)
			t[k] = random_text(&seed);
		r.method = t[0];
		r.host = t[1];
		r.path = t[2];
		r.reason = t[3];
		r.approver = rand_r(&seed) % 2 ? t[4] : NULL;
		r.sni = rand_r(&seed) % 3 ? t[5] : NULL;
		secrets[0] = t[6];
		secrets[1] = NULL;
		secrets[2] = t[7];
		r.secrets = secrets;
		r.n_secrets = rand_r(&seed) % 4;
		r.status = (int)(rand_r(&seed) % 600);
		r.bytes_up = (uint64_t)rand_r(&seed) * (rand_r(&seed) % 2 ? 1u : 4000000000u);
		r.has_timings = rand_r(&seed) % 2;
		r.conn_id = (uint64_t)(rand_r(&seed) % 3);
		r.ts_ms = 1764000000123 + (int64_t)rand_r(&seed);
		if (proxy_audit_append(a, &r, &err) < 0)
			check(false, "like jansson: append", "%s", err.msg);
		for (size_t k = 0; k < 8; k++)
			free(t[k]);
	}
	proxy_audit_close(a);

	size_t len;
	char *all = read_file(p, &len), *line = all, *nl;
	for (; (nl = strchr(line, '\n')); line = nl + 1) {
		size_t ll = (size_t)(nl - line);
		json_t *j = json_loadb(line, ll, 0, NULL);
		char *again = j ? json_dumps(j, JSON_COMPACT) : NULL;
		if (again && strlen(again) == ll && memcmp(again, line, ll) == 0)
			same++;
		else if (!shown && (shown = true))
			printf("# differs:\n#  ours    %.300s\n#  jansson %.300s\n", line,
			       again ? again : "(does not load)");
		free(again);
		json_decref(j);
	}
	free(all);
	check(same == n, "like jansson: every line equals jansson's dump of it", "%d of %d", same,
	      n);
	check(verify(p, &res, &err) == 0 && res.records == (uint64_t)n,
	      "like jansson: the random records chain and verify", "%s", err.msg);
}

static void test_deterministic(void)
{
	size_t l1, l2;
	char *a, *b;

	append_n(tmp("det1.jsonl"), 3, 0);
	append_n(tmp("det2.jsonl"), 3, 0);
	a = read_file(tmp("det1.jsonl"), &l1);
	b = read_file(tmp("det2.jsonl"), &l2);
	check(l1 == l2 && memcmp(a, b, l1) == 0 && l1 > 0, "record: bytes are deterministic",
	      "differ");
	check(strncmp(a, "{\"v\":1,\"seq\":1,\"prev\":\"" PROXY_AUDIT_GENESIS "\",\"ts\":", 94) == 0 &&
		      strstr(a, "\"bytes_up\":120,\"bytes_down\":3456,") != NULL,
	      "record: the chain's fields first, then the record's in a fixed order, compact",
	      "%.120s", a);
	free(a);
	free(b);
}

static void test_torn(void)
{
	static const struct {
		const char *name, *tail;
		int before;       /* records before the torn tail */
		uint64_t dropped; /* recorded in the next record */
	} cases[] = {
		{"torn: half a record", "{\"seq\":4,\"prev\":\"ab", 3, 19},
		{"torn: one byte", "{", 2, 1},
		{"torn: the whole file", "{\"bytes_down\":0,", 0, 16},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[32];
		struct proxy_audit_verify_result res;
		ombx_err err;
		int fd;
		snprintf(name, sizeof(name), "torn%zu.jsonl", i);
		const char *p = tmp(name);
		unlink(p);
		if (cases[i].before)
			append_n(p, cases[i].before, 0);
		fd = open(p, O_WRONLY | O_APPEND | O_CREAT, 0600);
		if (fd < 0 || write(fd, cases[i].tail, strlen(cases[i].tail)) < 0)
			abort();
		close(fd);
		check(verify(p, &res, &err) == 0 && res.records == (uint64_t)cases[i].before &&
			      res.torn_bytes == cases[i].dropped,
		      cases[i].name, "verify before recovery: records %llu torn %llu: %s",
		      (unsigned long long)res.records, (unsigned long long)res.torn_bytes, err.msg);
		check(append_n(p, 1, 0) == 0, cases[i].name, "append after a torn tail failed");
		json_t *j = line_json(p, cases[i].before + 1);
		check(j && (uint64_t)json_integer_value(json_object_get(j, "recovered")) ==
				      cases[i].dropped,
		      cases[i].name, "\"recovered\" not %llu",
		      (unsigned long long)cases[i].dropped);
		json_decref(j);
		check(verify(p, &res, &err) == 0 && res.records == (uint64_t)cases[i].before + 1 &&
			      res.torn_bytes == 0,
		      cases[i].name, "after recovery: records %llu: %s",
		      (unsigned long long)res.records, err.msg);
		j = line_json(p, cases[i].before + 2);
		check(!j, cases[i].name, "a record after the recovered one");
		json_decref(j);
	}
}

static void test_redact(void)
{
	static const struct {
		const char *in, *want;
		size_t size;
		int r;
	} cases[] = {
		{"/a/b", "/a/b", 64, 4},
		{"/a?b=1", "/a?REDACTED", 64, 11},
		{"/a?b=1?c", "/a?REDACTED", 64, 11},
		{"?x", "?REDACTED", 64, 9},
		{"/a?", "/a?REDACTED", 64, 11},
		{"", "", 64, 0},
		{"/a#f?x", "/a#f?REDACTED", 64, 13},
		{"/a?b=1", "", 11, -ENOSPC},
		{"/a?b=1", "/a?REDACTED", 12, 11},
		{"/abcd", "", 5, -ENOSPC},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[64] = "junk", name[64];
		int r = proxy_audit_redact_path(cases[i].in, out, cases[i].size);
		snprintf(name, sizeof(name), "redact: \"%s\" (size %zu)", cases[i].in,
			 cases[i].size);
		check(r == cases[i].r && strcmp(out, cases[i].want) == 0, name, "got %d \"%s\"", r,
		      out);
	}
}

/* arr is exactly [s]. */
static bool only(json_t *arr, const char *s)
{
	return json_array_size(arr) == 1 && json_string_value(json_array_get(arr, 0)) &&
	       strcmp(json_string_value(json_array_get(arr, 0)), s) == 0;
}

static void test_bounds(void)
{
	const char *p = tmp("bounds.jsonl");
	struct proxy_audit *a;
	ombx_err err = {0};
	char *big = malloc(200000), *ctl = malloc(PROXY_AUDIT_FIELD_MAX + 1), *bad = malloc(64);
	const char *many[100];
	char longname[1000];
	struct proxy_audit_verify_result res;

	memset(big, 'x', 199999);
	big[0] = '/';
	big[199999] = '\0';
	memset(ctl, '\x01', PROXY_AUDIT_FIELD_MAX);
	ctl[PROXY_AUDIT_FIELD_MAX] = '\0';
	strcpy(bad, "h\xff\xfe\xc3(\xed\xa0\x80\xf4\x90\x80\x80z"); /* invalid UTF-8 forms */
	memset(longname, 'N', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	for (size_t i = 0; i < 100; i++)
		many[i] = i == 0 ? longname : "TOKEN";
	unlink(p);
	if (proxy_audit_open(p, 0, &a, &err) < 0) {
		check(0, "bounds: open", "%s", err.msg);
		return;
	}
	struct proxy_audit_record r = base;
	r.path = big;
	check(proxy_audit_append(a, &r, &err) == 0, "bounds: a 200 KB path is appended", "%s",
	      err.msg);
	r = base;
	r.session = r.client = r.connect_host = r.sni = r.host = r.resolved = r.method = r.path =
		r.rule = r.level = r.policy_version = r.reason = r.approval_id = r.approver = ctl;
	check(proxy_audit_append(a, &r, &err) == 0,
	      "bounds: 14 fields of control bytes (6x escaping) still fit", "%s", err.msg);
	r = base;
	r.host = bad;
	r.secrets = many;
	r.n_secrets = 100;
	check(proxy_audit_append(a, &r, &err) == 0, "bounds: invalid UTF-8, 100 secret names", "%s",
	      err.msg);
	proxy_audit_close(a);

	json_t *j = line_json(p, 1);
	const char *path = json_string_value(json_object_get(j, "path"));
	size_t mark = strlen(PROXY_AUDIT_CUT_MARK);
	check(path && strlen(path) == PROXY_AUDIT_FIELD_MAX + mark &&
		      strcmp(path + PROXY_AUDIT_FIELD_MAX, PROXY_AUDIT_CUT_MARK) == 0,
	      "bounds: the path is cut at the field limit with the mark", "len %zu",
	      path ? strlen(path) : 0);
	check(only(json_object_get(j, "truncated"), "path"), "bounds: \"truncated\" names the path",
	      "no");
	json_decref(j);
	j = line_json(p, 2);
	check(j && json_array_size(json_object_get(j, "truncated")) == 14,
	      "bounds: every shrunk field is named", "%zu",
	      json_array_size(json_object_get(j, "truncated")));
	json_decref(j);
	j = line_json(p, 3);
	check(j && strcmp(json_string_value(json_object_get(j, "host")),
			  "h\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd("
			  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz") == 0,
	      "bounds: invalid UTF-8 becomes U+FFFD", "%s",
	      j ? json_string_value(json_object_get(j, "host")) : "?");
	json_t *sec = json_object_get(j, "secrets");
	check(json_array_size(sec) == PROXY_AUDIT_SECRETS_MAX &&
		      strlen(json_string_value(json_array_get(sec, 0))) ==
			      PROXY_AUDIT_NAME_MAX + mark,
	      "bounds: secret names capped in count and length", "%zu", json_array_size(sec));
	check(only(json_object_get(j, "truncated"), "secrets"),
	      "bounds: \"truncated\" names the secrets", "no");
	json_decref(j);
	size_t len;
	char *all = read_file(p, &len), *q = all;
	int ok = 1;
	while (*q) {
		size_t l = strcspn(q, "\n");
		ok &= l + 1 <= PROXY_AUDIT_LINE_MAX && q[l] == '\n';
		q += l + 1;
	}
	check(ok, "bounds: every line within the line limit", "no");
	check(verify(p, &res, &err) == 0 && res.records == 3, "bounds: the log verifies", "%s",
	      err.msg);
	free(all);
	free(big);
	free(ctl);
	free(bad);
}

/* Tampered logs: built from a good 5-record log by an edit. */
static void test_verify_tampered(void)
{
	const char *good = tmp("good.jsonl");
	size_t len;
	char *g;
	char *lines[5];
	static const struct {
		const char *name;
		int what; /* 0 edit, 1 delete, 2 swap, 3 append a line */
		int line;
		const char *text;
		uint64_t bad_line;
		const char *msg;
	} cases[] = {
		{"verify: one byte edited in line 3", 0, 3, NULL, 4,
		 "line 4: prev hash does not match line 3"},
		{"verify: line 3 deleted", 1, 3, NULL, 3, "line 3: seq 4 where 3 was expected"},
		{"verify: line 1 deleted", 1, 1, NULL, 1, "line 1: seq 2 where 1 was expected"},
		{"verify: lines 2 and 3 swapped", 2, 2, NULL, 2, "line 2: seq 3 where 2"},
		{"verify: not JSON", 3, 0, "hello", 6, "line 6: not valid JSON"},
		{"verify: empty line", 3, 0, "", 6, "line 6: empty line"},
		{"verify: an array", 3, 0, "[1]", 6, "line 6: not a JSON object"},
		{"verify: no seq", 3, 0, "{\"prev\":\"x\"}", 6, "line 6: no integer \"seq\""},
		{"verify: seq a string", 3, 0, "{\"seq\":\"6\"}", 6, "line 6: no integer \"seq\""},
		{"verify: right seq, wrong prev", 3, 0, "{\"seq\":6,\"prev\":\"00\",\"ts\":\"x\"}",
		 6, "line 6: prev hash does not match line 5"},
		{"verify: duplicate key", 3, 0, "{\"seq\":6,\"seq\":6}", 6,
		 "line 6: not valid JSON"},
		{"verify: NUL byte", 3, 0, "{\"seq\":6\0}", 6, "line 6: a NUL byte"},
	};

	unlink(good);
	append_n(good, 5, 0);
	g = read_file(good, &len);
	lines[0] = strtok(g, "\n");
	for (int i = 1; i < 5; i++)
		lines[i] = strtok(NULL, "\n");
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char *out = malloc(len + 256), *o = out;
		struct proxy_audit_verify_result res;
		ombx_err err;
		for (int i = 0; i < 5; i++) {
			int ln = i + 1;
			const char *src = lines[i];
			if (cases[c].what == 1 && ln == cases[c].line)
				continue;
			if (cases[c].what == 2 && ln == cases[c].line)
				src = lines[i + 1];
			if (cases[c].what == 2 && ln == cases[c].line + 1)
				src = lines[i - 1];
			size_t l = strlen(src);
			memcpy(o, src, l);
			if (cases[c].what == 0 && ln == cases[c].line)
				o[strstr(src, "\"GET\"") - src + 2] = 'a'; /* "GaT" */
			o += l;
			*o++ = '\n';
		}
		if (cases[c].what == 3) {
			size_t l = strlen(cases[c].text);
			memcpy(o, cases[c].text, l);
			if (strstr(cases[c].name, "NUL"))
				o[8] = '\0', l = 10, memcpy(o + 9, "}", 1);
			o += l;
			*o++ = '\n';
		}
		write_file(tmp("bad.jsonl"), out, (size_t)(o - out));
		int r = verify(tmp("bad.jsonl"), &res, &err);
		check(r == -EBADMSG && res.bad_line == cases[c].bad_line &&
			      strstr(err.msg, cases[c].msg) != NULL,
		      cases[c].name, "r %d bad_line %llu: %s", r, (unsigned long long)res.bad_line,
		      err.msg);
		free(out);
	}
	free(g);

	/* A line over the limit; a log that is all newlines; an empty log. */
	char *huge = malloc(PROXY_AUDIT_LINE_MAX + 10);
	struct proxy_audit_verify_result res;
	ombx_err err;
	memset(huge, 'x', PROXY_AUDIT_LINE_MAX + 9);
	huge[PROXY_AUDIT_LINE_MAX + 9] = '\n';
	write_file(tmp("huge.jsonl"), huge, PROXY_AUDIT_LINE_MAX + 10);
	check(verify(tmp("huge.jsonl"), &res, &err) == -EBADMSG && res.bad_line == 1 &&
		      strstr(err.msg, "line 1: longer than"),
	      "verify: an over-long line", "%s", err.msg);
	write_file(tmp("empty.jsonl"), "", 0);
	check(verify(tmp("empty.jsonl"), &res, &err) == 0 && res.records == 0 &&
		      strcmp(res.last_hash, PROXY_AUDIT_GENESIS) == 0,
	      "verify: an empty log verifies (0 records)", "%s", err.msg);

	/* open refuses what it cannot continue. */
	struct proxy_audit *a = NULL;
	write_file(tmp("notlog.jsonl"), "hello\n", 6);
	check(proxy_audit_open(tmp("notlog.jsonl"), 0, &a, &err) == -EBADMSG && !a &&
		      strstr(err.msg, "not an audit record"),
	      "open: a last line that is not a record is refused", "%s", err.msg);
	write_file(tmp("huge.jsonl"), huge, PROXY_AUDIT_LINE_MAX + 9); /* no newline */
	check(proxy_audit_open(tmp("huge.jsonl"), 0, &a, &err) == -EBADMSG && !a,
	      "open: an over-long torn tail is refused", "%s", err.msg);
	check(proxy_audit_open(dir, 0, &a, &err) < 0 && !a && err.msg[0],
	      "open: a directory is refused", "%s", err.msg);
	if (symlink(tmp("good.jsonl"), tmp("link.jsonl")) == 0)
		check(proxy_audit_open(tmp("link.jsonl"), 0, &a, &err) == -ELOOP && !a,
		      "open: a symlink is refused", "%s", err.msg);
	check(proxy_audit_open(tmp("nodir/x.jsonl"), 0, &a, &err) == -ENOENT && !a &&
		      strstr(err.msg, "nodir/x.jsonl"),
	      "open: a missing directory names the path", "%s", err.msg);
	proxy_audit_close(NULL);
	free(huge);
}

static void test_ts(void)
{
	static const struct {
		const char *in;
		int64_t ms;
		int r;
	} cases[] = {
		{"2025-11-24T16:00:00.123Z", 1764000000123, 0},
		{"2025-11-24T16:00:00Z", 1764000000000, 0},
		{"2025-11-24t16:00:00z", 1764000000000, 0},
		{"2025-11-24T17:30:00+01:30", 1764000000000, 0},
		{"2025-11-24T14:00:00.5-02:00", 1764000000500, 0},
		{"1970-01-01T00:00:00Z", 0, 0},
		{"2025-11-24T16:00:00", 0, -EINVAL},
		{"2025-11-24", 0, -EINVAL},
		{"2025-13-01T00:00:00Z", 0, -EINVAL},
		{"2025-11-24T16:00:00.Z", 0, -EINVAL},
		{"2025-11-24T16:00:00Zjunk", 0, -EINVAL},
		{"2025-11-24T16:00:00+1:00", 0, -EINVAL},
		{"", 0, -EINVAL},
		{"10m", 0, -EINVAL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ms = -1;
		char name[80];
		int r = proxy_audit_parse_ts(cases[i].in, &ms);
		snprintf(name, sizeof(name), "ts: \"%s\"", cases[i].in);
		check(r == cases[i].r && (r < 0 || ms == cases[i].ms), name, "r %d ms %lld", r,
		      (long long)ms);
	}
}

/* test_audit write FILE: one record per stdin line. */
static int writer(const char *path)
{
	struct proxy_audit *a;
	ombx_err err = {0};
	char line[4096];

	if (proxy_audit_open(path, 0, &a, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	while (fgets(line, sizeof(line), stdin)) {
		char ts[64], host[256], dec[16], meth[16], path_[1024], rule[128];
		int status;
		struct proxy_audit_record r = {0};
		if (sscanf(line, "%63s %255s %15s %15s %1023s %d %127s", ts, host, dec, meth, path_,
			   &status, rule) != 7)
			continue;
		if (strcmp(ts, "now") != 0 && proxy_audit_parse_ts(ts, &r.ts_ms) < 0) {
			fprintf(stderr, "bad ts %s\n", ts);
			return 1;
		}
		r.host = host;
		r.sni = host;
		r.decision = dec;
		r.method = meth;
		r.path = path_;
		r.status = status;
		r.rule = rule;
		if (proxy_audit_append(a, &r, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
	}
	proxy_audit_close(a);
	return 0;
}

int main(int argc, char **argv)
{
	char cmd[300];

	if (argc == 3 && strcmp(argv[1], "write") == 0)
		return writer(argv[2]);
	umask(022);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_chain();
	test_threads();
	test_like_jansson();
	test_deterministic();
	test_torn();
	test_redact();
	test_bounds();
	test_verify_tampered();
	test_ts();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return finish();
}
