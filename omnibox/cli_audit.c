/* cli_audit.c - `omnibox audit`: read and verify the egress audit log.
 *
 *   omnibox audit [FILE] [--follow] [--host GLOB] [--decision allow|deny|ask]
 *                 [--since TIME] [--json] [--verify]
 *
 * Shows one line per record (or the records as stored with --json), filtered
 * by host glob, decision and time (all given filters must match); --follow
 * keeps reading as the proxy appends, until SIGINT/SIGTERM. --verify checks
 * the whole chain: exit 0 "verified N records", 1 naming the first bad line.
 * Exit 2: usage. The log format and what --verify proves: docs/AUDIT.md.
 * A thin shell over proxy/audit.h. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../proxy/audit.h"
#include "cli.h"

#define EXIT_USAGE       2
#define FOLLOW_POLL_MS   200
#define SHOW_FIELD_BYTES 512

static const char usage[] =
	"usage: omnibox audit [FILE] [--follow] [--host GLOB] [--decision allow|deny|ask]\n"
	"                     [--since TIME] [--json] [--verify]\n"
	"  FILE        default: $XDG_STATE_HOME/omnigent/audit.jsonl\n"
	"              (~/.local/state/omnigent/audit.jsonl)\n"
	"  --host GLOB records whose host, SNI or CONNECT host matches ('*' wildcards)\n"
	"  --since T   RFC 3339 (2026-11-24T10:00:00Z) or relative: 30s, 10m, 2h, 7d\n"
	"  --json      the records as stored, one per line\n"
	"  --follow    keep reading as records are appended (until Ctrl-C)\n"
	"  --verify    check the hash chain; exit 0 if intact, 1 naming the first bad line\n";

struct opts {
	const char *file, *host, *decision;
	bool follow, json, verify, have_since;
	int64_t since_ms;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_since(const char *s, int64_t *ms)
{
	char *end;
	long long n;
	struct timespec now;
	int64_t unit;

	if (proxy_audit_parse_ts(s, ms) == 0)
		return 0;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || end == s || n < 0 || s[0] == '-' || s[0] == '+' || end[0] == '\0' ||
	    end[1] != '\0')
		return -EINVAL;
	switch (*end) {
	case 's':
		unit = 1000;
		break;
	case 'm':
		unit = 60 * 1000;
		break;
	case 'h':
		unit = 3600 * 1000;
		break;
	case 'd':
		unit = 86400 * 1000;
		break;
	default:
		return -EINVAL;
	}
	if (n > INT64_MAX / unit / 2)
		return -EINVAL;
	clock_gettime(CLOCK_REALTIME, &now);
	*ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 - n * unit;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"follow", no_argument, NULL, 'f'},         {"host", required_argument, NULL, 'H'},
		{"decision", required_argument, NULL, 'd'}, {"since", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},           {"verify", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o->follow = true;
			break;
		case 'H':
			o->host = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'v':
			o->verify = true;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(0);
		case 'd':
			if (strcmp(optarg, "allow") && strcmp(optarg, "deny") &&
			    strcmp(optarg, "ask")) {
				ombx_cli_error("audit: --decision must be allow, deny or ask");
				return -EINVAL;
			}
			o->decision = optarg;
			break;
		case 's':
			if (parse_since(optarg, &o->since_ms) < 0) {
				ombx_cli_error("audit: --since: not RFC 3339 nor a relative time "
					       "like 10m or 2h");
				return -EINVAL;
			}
			o->have_since = true;
			break;
		default:
			ombx_cli_error("audit: unknown or incomplete option '%s'\n%s",
				       argv[optind - 1], usage);
			return -EINVAL;
		}
	}
	if (optind < argc)
		o->file = argv[optind++];
	if (optind < argc) {
		ombx_cli_error("audit: one FILE at most\n%s", usage);
		return -EINVAL;
	}
	if (o->verify && (o->follow || o->json || o->host || o->decision || o->have_since)) {
		ombx_cli_error("audit: --verify checks the whole log and takes no other option");
		return -EINVAL;
	}
	return 0;
}

/* ---- showing records ---- */

static const char *field(json_t *rec, const char *key)
{
	return json_string_value(json_object_get(rec, key));
}

static bool host_matches(json_t *rec, const char *glob)
{
	static const char *const keys[] = {"host", "sni", "connect_host"};

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *h = field(rec, keys[i]);
		if (h && fnmatch(glob, h, FNM_CASEFOLD) == 0)
			return true;
	}
	return false;
}

static bool selected(json_t *rec, const struct opts *o)
{
	if (o->host && !host_matches(rec, o->host))
		return false;
	if (o->decision && (!field(rec, "decision") || strcmp(field(rec, "decision"), o->decision)))
		return false;
	if (o->have_since) {
		int64_t ts;
		if (!field(rec, "ts") || proxy_audit_parse_ts(field(rec, "ts"), &ts) < 0 ||
		    ts < o->since_ms)
			return false;
	}
	return true;
}

/* A field for the terminal: the log holds what clients sent, so control
 * characters (C0, DEL, C1) become '?' and the length is bounded. */
static void put_field(const char *s)
{
	size_t n = 0;

	if (!s || !*s) {
		fputc('-', stdout);
		return;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p && n < SHOW_FIELD_BYTES;
	     p++, n++) {
		if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)) {
			fputc('?', stdout);
			if (*p == 0xc2)
				p++;
		} else {
			fputc(*p, stdout);
		}
	}
	if (s[n])
		fputs("...", stdout);
}

static void show(json_t *rec, const char *line, size_t len, const struct opts *o)
{
	static const char *const cols[] = {"ts", "decision", "method", "host", "path"};
	json_t *status = json_object_get(rec, "status");

	if (o->json) {
		fwrite(line, 1, len, stdout);
		fputc('\n', stdout);
		return;
	}
	const char *event = field(rec, "event");
	bool request = !event || strcmp(event, "request") == 0;

	for (size_t i = 0; i < ARRAY_SIZE(cols); i++) {
		const char *v = field(rec, cols[i]);
		if (i == 1 && !request)
			v = event; /* "refused", "alert": not a request's decision */
		if (i == 3 && !v)
			v = field(rec, "connect_host");
		put_field(v);
		fputc(' ', stdout);
	}
	if (json_is_integer(status))
		printf("%lld ", (long long)json_integer_value(status));
	else
		fputs("- ", stdout);
	put_field(field(rec, request || field(rec, "rule") ? "rule" : "reason"));
	fputc('\n', stdout);
}

static int show_line(const char *line, size_t len, uint64_t lineno, const struct opts *o)
{
	json_t *rec = json_loadb(line, len, 0, NULL);

	if (!json_is_object(rec)) {
		ombx_cli_note("audit: line %llu is not a JSON record; skipped (run --verify)",
			      (unsigned long long)lineno);
		json_decref(rec);
		return 0;
	}
	if (selected(rec, o))
		show(rec, line, len, o);
	json_decref(rec);
	return 0;
}

static int wait_for_more(void)
{
	poll(NULL, 0, FOLLOW_POLL_MS);
	return stop ? -EINTR : 0;
}

static int list(int fd, const char *path, const struct opts *o)
{
	struct proxy_audit_reader rd;
	const char *line;
	size_t len;
	int r;

	if (proxy_audit_reader_init(&rd, fd) < 0) {
		ombx_cli_error("audit: out of memory");
		return 1;
	}
	for (;;) {
		r = proxy_audit_reader_next(&rd, &line, &len);
		if (r == 1) {
			show_line(line, len, rd.line, o);
			continue;
		}
		if (r == -EINTR && !stop)
			continue;
		if (r < 0 && r != -EINTR) {
			ombx_cli_error("%s: line %llu: %s", path, (unsigned long long)rd.line + 1,
				       r == -EMSGSIZE ? "longer than the 64 KiB line limit"
						      : strerror(-r));
			proxy_audit_reader_free(&rd);
			return 1;
		}
		fflush(stdout);
		if (!o->follow || stop || wait_for_more() < 0)
			break;
	}
	if (!o->follow && proxy_audit_reader_pending(&rd))
		ombx_cli_note("%s: the last line is incomplete (%zu bytes; a crash mid-write?)",
			      path, proxy_audit_reader_pending(&rd));
	proxy_audit_reader_free(&rd);
	return 0;
}

static int verify(int fd, const char *path)
{
	struct proxy_audit_verify_result res;
	ombx_err err = {0};
	int r = proxy_audit_verify_fd(fd, &res, &err);

	if (r == -EBADMSG) {
		ombx_cli_error("%s: %s", path, err.msg);
		printf("verified %llu records before line %llu; the log is NOT intact\n",
		       (unsigned long long)res.records, (unsigned long long)res.bad_line);
		return 1;
	}
	if (r < 0) {
		ombx_cli_error("%s: %s", path, err.msg);
		return 1;
	}
	printf("verified %llu records\nlast hash %s\n", (unsigned long long)res.records,
	       res.last_hash);
	if (res.torn_bytes)
		ombx_cli_note("%s: note: line %llu is torn (%llu bytes without a newline: a "
			      "crash mid-write); every record before it verified, and the next "
			      "append drops it",
			      path, (unsigned long long)res.records + 1,
			      (unsigned long long)res.torn_bytes);
	return 0;
}

int ombx_cli_audit(int argc, char **argv)
{
	struct opts o;
	char def[PATH_MAX];
	ombx_err err = {0};
	_cleanup_close_ int fd = -1;
	struct sigaction sa = {.sa_handler = on_signal};

	if (parse_opts(argc, argv, &o) < 0)
		return EXIT_USAGE;
	if (!o.file) {
		if (proxy_audit_default_path(def, sizeof(def), &err) < 0) {
			ombx_cli_error("audit: %s", err.msg);
			return EXIT_USAGE;
		}
		o.file = def;
	}
	fd = strcmp(o.file, "-") == 0 ? dup(0) : open(o.file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ombx_cli_error("%s: cannot open: %s", o.file, strerror(errno));
		return 1;
	}
	if (o.verify)
		return verify(fd, o.file);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return list(fd, o.file, &o);
}
