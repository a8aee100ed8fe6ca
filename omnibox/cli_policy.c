/* cli_policy.c - `omnibox policy`: check policy files, explain decisions.
 *
 *   omnibox policy check FILE...
 *     Compiles each file; prints "FILE: ok ..." or "FILE:LINE:COL: error".
 *     Exit 0 when every file is valid, 1 otherwise (2: usage).
 *   omnibox policy explain [--server F] [--agent F] [--session F] --events E
 *     One JSON event per line of E ("-": stdin) in, one JSON decision per
 *     line out, with one session's state carried from line to line. An event
 *     may carry "approve": true|false to answer its own ask.
 *
 * A thin shell over libpolicy: all semantics live there (docs/POLICY.md). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../policy/policy.h"
#include "cli.h"

#define EXIT_USAGE     2
#define LINE_MAX_BYTES (1024 * 1024)

static const char usage[] =
	"usage: omnibox policy check FILE...\n"
	"       omnibox policy explain [--server FILE] [--agent FILE] [--session FILE]\n"
	"                              --events EVENTS.jsonl\n";

static int check(int argc, char **argv)
{
	int bad = 0;

	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		struct policy_set *s = NULL;
		ombx_err err = {0};
		if (policy_set_load(argv[i], &s, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			bad = 1;
			continue;
		}
		printf("%s: ok (%zu rule%s)\n", argv[i], policy_set_rule_count(s),
		       policy_set_rule_count(s) == 1 ? "" : "s");
		policy_set_unref(s);
	}
	return bad;
}

/* ---- explain ---- */

struct jevent {
	struct policy_event ev;
	const char *argv[POLICY_ARGV_MAX];
	const char *secrets[64];
	int approve; /* -1: not given */
};

static const char *jstr(json_t *o, const char *key, bool *bad)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return NULL;
	if (!json_is_string(v))
		*bad = true;
	return json_string_value(v);
}

static int64_t usd(json_t *v, bool *bad)
{
	double x;

	if (!v)
		return 0;
	if (!json_is_number(v) || (x = json_number_value(v)) < 0 || x > 1e9 || isnan(x)) {
		*bad = true;
		return 0;
	}
	return llround(x * 1e6);
}

static int string_array(json_t *a, const char **out, size_t max, size_t *n)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a) || json_array_size(a) > max)
		return -1;
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			return -1;
		out[i] = json_string_value(v);
	}
	*n = json_array_size(a);
	return 0;
}

static const char *egress_event(json_t *o, struct jevent *je, bool *bad)
{
	struct policy_event *ev = &je->ev;
	json_t *v;

	ev->kind = POLICY_EGRESS;
	ev->method = jstr(o, "method", bad);
	ev->scheme = jstr(o, "scheme", bad);
	ev->host = jstr(o, "host", bad);
	ev->path = jstr(o, "path", bad);
	ev->addr = jstr(o, "addr", bad);
	if ((v = json_object_get(o, "port"))) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 65535)
			return "\"port\" must be a number from 1 to 65535";
		ev->port = (unsigned)json_integer_value(v);
	}
	if ((v = json_object_get(o, "secrets"))) {
		if (string_array(v, je->secrets, 64, &ev->n_secrets) < 0)
			return "\"secrets\" must be a list of at most 64 names";
		ev->secrets = je->secrets;
	}
	return NULL;
}

/* Fills je from o; returns NULL or what is wrong. */
static const char *to_event(json_t *o, struct jevent *je)
{
	static const char *const keys[] = {"kind",           "method", "scheme", "host",
					   "port",           "path",   "addr",   "secrets",
					   "argv",           "tool",   "args",   "cost_usd",
					   "total_cost_usd", "model",  "approve"};
	struct policy_event *ev = &je->ev;
	const char *kind, *key;
	bool bad = false;
	json_t *v;

	memset(je, 0, sizeof(*je));
	je->approve = -1;
	if (!json_is_object(o))
		return "an event is a JSON object";
	json_object_foreach(o, key, v)
	{
		size_t k;
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]) && strcmp(key, keys[k]); k++)
			;
		if (k == sizeof(keys) / sizeof(keys[0]))
			return "unknown key (expected kind, method, scheme, host, port, path, "
			       "addr, "
			       "secrets, argv, tool, args, cost_usd, total_cost_usd, model, "
			       "approve)";
	}
	kind = jstr(o, "kind", &bad);
	if (!kind)
		return "no \"kind\" (egress, exec, tool_call or usage)";
	if ((v = json_object_get(o, "approve"))) {
		if (!json_is_boolean(v))
			return "\"approve\" must be true or false";
		je->approve = json_is_true(v);
	}
	if (strcmp(kind, "egress") == 0) {
		const char *why = egress_event(o, je, &bad);
		if (why)
			return why;
	} else if (strcmp(kind, "exec") == 0) {
		ev->kind = POLICY_EXEC;
		if (!(v = json_object_get(o, "argv")) ||
		    string_array(v, je->argv, POLICY_ARGV_MAX, &ev->argc) < 0)
			return "\"argv\" must be a list of strings";
		ev->argv = je->argv;
	} else if (strcmp(kind, "tool_call") == 0) {
		ev->kind = POLICY_TOOL_CALL;
		ev->tool = jstr(o, "tool", &bad);
		if ((v = json_object_get(o, "args"))) {
			json_t *c = json_object_get(v, "command");
			if (!c)
				c = json_object_get(v, "cmd");
			if (!json_is_object(v))
				return "\"args\" must be an object";
			ev->command = json_is_string(c) ? json_string_value(c) : NULL;
		}
	} else if (strcmp(kind, "usage") == 0) {
		ev->kind = POLICY_USAGE;
		ev->cost_micro_usd = usd(json_object_get(o, "cost_usd"), &bad);
		ev->total_micro_usd = usd(json_object_get(o, "total_cost_usd"), &bad);
		ev->model = jstr(o, "model", &bad);
		if (bad)
			return "cost_usd and total_cost_usd must be amounts in USD from 0 to 1e9";
	} else {
		return "\"kind\" must be egress, exec, tool_call or usage";
	}
	return bad ? "a field that should be a string is not" : NULL;
}

static json_t *why_json(const struct policy_why *w)
{
	return json_pack("{s:s, s:s, s:s}", "rule", w->rule, "level", policy_level_name(w->level),
			 "reason", w->reason);
}

static json_t *decision_json(const struct policy_decision *d)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "decision", policy_verdict_name(d->verdict),
			      "rule", d->why.rule, "level", policy_level_name(d->why.level),
			      "reason", d->why.reason);

	if (!o)
		return NULL;
	if (d->by_default)
		json_object_set_new(o, "default", json_true());
	if (d->verdict == POLICY_ASK && d->n_asks > 1) {
		/* one approval carries every reason */
		char all[POLICY_TEXT_MAX];
		size_t off = 0;
		for (size_t i = 0; i < d->n_asks && off < sizeof(all); i++)
			off += (size_t)snprintf(all + off, sizeof(all) - off, "%s%s", i ? "; " : "",
						d->asks[i].reason);
		json_object_set_new(o, "reason", json_string(all));
	}
	if (d->verdict == POLICY_ASK) {
		json_t *a = json_array();
		for (size_t i = 0; a && i < d->n_asks; i++)
			json_array_append_new(a, why_json(&d->asks[i]));
		json_object_set_new(o, "reasons", a);
		if (d->approval == POLICY_APPROVED || d->approval == POLICY_REJECTED)
			json_object_set_new(o, "approved",
					    json_boolean(d->approval == POLICY_APPROVED));
	}
	return o;
}

static int explain_line(struct policy_session *s, const char *events, size_t lineno,
			const char *line, size_t len)
{
	_cleanup_(json_decrefp) json_t *in = NULL, *out = NULL;
	struct jevent *je;
	struct policy_decision d;
	json_error_t jerr;
	const char *bad;
	char *text;

	in = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!in) {
		ombx_cli_error("%s:%zu: not JSON: %s", events, lineno, jerr.text);
		return -1;
	}
	je = malloc(sizeof(*je));
	if (!je) {
		ombx_cli_error("out of memory");
		return -1;
	}
	bad = to_event(in, je);
	if (bad) {
		ombx_cli_error("%s:%zu: %s", events, lineno, bad);
		free(je);
		return -1;
	}
	policy_eval(s, &je->ev, &d);
	if (d.verdict == POLICY_ASK && je->approve >= 0)
		policy_resolve(s, &d, je->approve == 1);
	out = decision_json(&d);
	text = out ? json_dumps(out, JSON_COMPACT) : NULL;
	policy_decision_release(&d);
	free(je);
	if (!text) {
		ombx_cli_error("out of memory");
		return -1;
	}
	puts(text);
	free(text);
	return 0;
}

static int explain_events(struct policy_session *s, const char *events)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;

	f = strcmp(events, "-") == 0 ? NULL : fopen(events, "re");
	if (!f && strcmp(events, "-") != 0) {
		ombx_cli_error("%s: cannot open the events: %s", events, strerror(errno));
		return 1;
	}
	while ((n = getline(&line, &cap, f ? f : stdin)) >= 0) {
		size_t len = (size_t)n;
		lineno++;
		if (len > LINE_MAX_BYTES) {
			ombx_cli_error("%s:%zu: line longer than 1 MiB", events, lineno);
			return 1;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (strspn(line, " \t") == len)
			continue; /* blank */
		if (explain_line(s, events, lineno, line, len) < 0)
			return 1;
	}
	fflush(stdout);
	return 0;
}

static int explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{"server", required_argument, NULL, 's'},  {"agent", required_argument, NULL, 'a'},
		{"session", required_argument, NULL, 'S'}, {"events", required_argument, NULL, 'e'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	const char *files[POLICY_N_LEVELS] = {NULL}, *events = NULL;
	struct policy_engine *e = NULL;
	struct policy_session *s = NULL;
	int c, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			files[POLICY_LEVEL_SERVER] = optarg;
			break;
		case 'a':
			files[POLICY_LEVEL_AGENT] = optarg;
			break;
		case 'S':
			files[POLICY_LEVEL_SESSION] = optarg;
			break;
		case 'e':
			events = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (!events || optind != argc) {
		ombx_cli_error("policy explain: %s\n%s",
			       events ? "unexpected argument" : "--events is required", usage);
		return EXIT_USAGE;
	}
	if (policy_engine_new(&e) < 0) {
		ombx_cli_error("out of memory");
		return 1;
	}
	for (int l = 0; l < POLICY_N_LEVELS; l++) {
		ombx_err err = {0};
		if (files[l] && policy_engine_reload(e, (enum policy_level)l, files[l], &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			goto out;
		}
	}
	if (policy_session_new(e, &s) < 0) {
		ombx_cli_error("out of memory");
		goto out;
	}
	rc = explain_events(s, events);
out:
	policy_session_free(s);
	policy_engine_free(e);
	return rc;
}

int ombx_cli_policy(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return check(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "explain") == 0)
		return explain(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	fputs(usage, stderr);
	return EXIT_USAGE;
}
