/* profile.c - ombx_profile_load (see omnibox.h): a YAML profile into a config.
 *
 * Walks libyaml's event stream, so nothing is built but the config itself and
 * every node's mark is at hand: each error names file:line:column (1-based).
 * Values go through config.c, so they are checked and worded exactly as the
 * same flags would be. Refuses what a profile has no use for and a reader
 * could be misled by: anchors/aliases, several documents, duplicate keys,
 * files over 1 MiB. Never shows an env value (it may be a secret). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "../common/cleanup.h"
#include "../common/file.h"

#define PROFILE_MAX (1024 * 1024)

struct pctx {
	const char *path;
	const unsigned char *buf; /* the whole file, for reader-error positions */
	size_t len;
	yaml_parser_t *parser;
	struct ombx_config *cfg;
	ombx_err *err;
};

struct pkey {
	const char *name;
	int (*apply)(struct pctx *p, const struct pkey *k, yaml_event_t *ev);
	enum ombx_bind_kind kind; /* ro, rw, hide */
};

static void parser_deletep(yaml_parser_t *y)
{
	yaml_parser_delete(y); /* fine on a zeroed parser */
}

static void event_deletep(yaml_event_t *ev)
{
	yaml_event_delete(ev); /* fine on a zeroed event */
}

static void strv_freep(char ***v)
{
	if (*v)
		for (char **s = *v; *s; s++)
			free(*s);
	free(*v);
}

__attribute__((format(printf, 4, 5))) static int perr(struct pctx *p, yaml_mark_t m, int code,
						      const char *fmt, ...)
{
	char msg[sizeof(((ombx_err *)0)->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ombx_err_set(p->err, code, "%s:%zu:%zu: %s", p->path, m.line + 1, m.column + 1, msg);
}

/* The mark of a byte offset; columns count characters, as libyaml's do. */
static yaml_mark_t mark_at(const struct pctx *p, size_t off)
{
	yaml_mark_t m = { .index = off };

	for (size_t i = 0; i < off && i < p->len; i++) {
		if (p->buf[i] == '\n') {
			m.line++;
			m.column = 0;
		} else if ((p->buf[i] & 0xc0) != 0x80) {
			m.column++;
		}
	}
	return m;
}

static int syntax_error(struct pctx *p)
{
	const yaml_parser_t *y = p->parser;
	const char *problem = y->problem ? y->problem : "invalid YAML";

	switch (y->error) {
	case YAML_MEMORY_ERROR:
		return ombx_err_set(p->err, ENOMEM, "%s: out of memory reading the profile",
				    p->path);
	case YAML_READER_ERROR:
		if (y->problem_value >= 0)
			return perr(p, mark_at(p, y->problem_offset), EINVAL,
				    "not valid YAML text: %s (0x%x)", problem,
				    (unsigned)y->problem_value);
		return perr(p, mark_at(p, y->problem_offset), EINVAL, "not valid YAML text: %s",
			    problem);
	default:
		break;
	}
	if (y->context)
		return perr(p, y->problem_mark, EINVAL, "YAML syntax error: %s (%s at %zu:%zu)",
			    problem, y->context, y->context_mark.line + 1,
			    y->context_mark.column + 1);
	return perr(p, y->problem_mark, EINVAL, "YAML syntax error: %s", problem);
}

/* Replaces *ev with the next event. Refuses aliases and anchors: a profile is
 * meant to be read top to bottom, and aliases invite "billion laughs". */
static int next(struct pctx *p, yaml_event_t *ev)
{
	const yaml_char_t *anchor = NULL;

	yaml_event_delete(ev);
	if (!yaml_parser_parse(p->parser, ev))
		return syntax_error(p);
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return perr(p, ev->start_mark, EINVAL,
			    "aliases are not supported (write the value out in full)");
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		break;
	default:
		break;
	}
	if (anchor)
		return perr(p, ev->start_mark, EINVAL,
			    "anchors (&name) and aliases are not supported (remove the anchor)");
	return 0;
}

static const char *kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return "a single value";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	default:
		return "this";
	}
}

static const char *sval(const yaml_event_t *ev)
{
	return (const char *)ev->data.scalar.value;
}

static bool is_null(const yaml_event_t *ev)
{
	return ev->data.scalar.length == 0 && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* Checks that ev is a non-empty scalar without NUL bytes; what/noun word the
 * message ("memory: expected a single value, not a list"). */
static int want_scalar(struct pctx *p, const yaml_event_t *ev, const char *what, const char *noun)
{
	if (ev->type != YAML_SCALAR_EVENT)
		return perr(p, ev->start_mark, EINVAL, "%s: expected %s, not %s", what, noun,
			    kind(ev));
	if (is_null(ev))
		return perr(p, ev->start_mark, EINVAL, "%s: no value given (expected %s)", what,
			    noun);
	if (strlen(sval(ev)) != ev->data.scalar.length)
		return perr(p, ev->start_mark, EINVAL, "%s: the value contains a NUL byte", what);
	return 0;
}

static int apply_scalar(struct pctx *p, const struct pkey *k, yaml_event_t *ev)
{
	ombx_err e = { 0 };
	int r;

	r = want_scalar(p, ev, k->name, "a single value");
	if (r < 0)
		return r;
	r = ombx_config_set(p->cfg, k->name, sval(ev), k->name, &e);
	if (r < 0)
		return perr(p, ev->start_mark, -r, "%s", e.msg);
	return 0;
}

static int apply_tty(struct pctx *p, const struct pkey *k, yaml_event_t *ev)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	char q[OMBX_QUOTE_MAX];
	int r;

	r = want_scalar(p, ev, k->name, "true or false");
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcmp(sval(ev), yes[i]) == 0) {
			p->cfg->tty = true;
			return 0;
		}
		if (strcmp(sval(ev), no[i]) == 0) {
			p->cfg->tty = false;
			return 0;
		}
	}
	ombx_quote(q, sizeof(q), sval(ev), ev->data.scalar.length);
	return perr(p, ev->start_mark, EINVAL, "%s: %s is not a boolean (expected true or false)",
		    k->name, q);
}

/* A list of scalars, each handed to add(); e.g. "ro: [/opt, /srv]". */
static int apply_list(struct pctx *p, const struct pkey *k, yaml_event_t *ev, const char *item,
		      const char *items, const char *example,
		      int (*add)(struct pctx *, const struct pkey *, const char *, ombx_err *))
{
	ombx_err e = { 0 };
	int r;

	if (ev->type != YAML_SEQUENCE_START_EVENT)
		return perr(p, ev->start_mark, EINVAL, "%s: expected a list of %s, e.g. %s, not %s",
			    k->name, items, example, kind(ev));
	for (;;) {
		r = next(p, ev);
		if (r < 0)
			return r;
		if (ev->type == YAML_SEQUENCE_END_EVENT)
			return 0;
		r = want_scalar(p, ev, k->name, item);
		if (r < 0)
			return r;
		r = add(p, k, sval(ev), &e);
		if (r < 0)
			return perr(p, ev->start_mark, -r, "%s", e.msg);
	}
}

static int add_bind(struct pctx *p, const struct pkey *k, const char *v, ombx_err *e)
{
	return ombx_config_add_bind(p->cfg, k->kind, v, e);
}

static int add_env_pass(struct pctx *p, const struct pkey *k, const char *v, ombx_err *e)
{
	return ombx_config_add_env_pass(p->cfg, v, e);
}

static int apply_binds(struct pctx *p, const struct pkey *k, yaml_event_t *ev)
{
	return apply_list(p, k, ev, "an absolute path", "absolute paths", "[/opt/data]",
			  add_bind);
}

static int apply_env_pass(struct pctx *p, const struct pkey *k, yaml_event_t *ev)
{
	return apply_list(p, k, ev, "a variable name", "variable names", "[TERM, LANG]",
			  add_env_pass);
}

/* Reads one NAME: VALUE pair whose key event is ev; *seen holds the names
 * given so far in this mapping (n of them), to refuse duplicates. */
static int apply_env_pair(struct pctx *p, yaml_event_t *ev, char ***seen, size_t *n)
{
	_cleanup_free_ char *name = NULL, *entry = NULL;
	yaml_mark_t key_mark = ev->start_mark;
	char q[OMBX_QUOTE_MAX];
	ombx_err e = { 0 };
	size_t nlen, vlen;
	char **v;
	int r;

	r = want_scalar(p, ev, "env", "a variable name");
	if (r < 0)
		return r;
	nlen = ev->data.scalar.length;
	ombx_quote(q, sizeof(q), sval(ev), nlen);
	if (!ombx_env_name_valid(sval(ev), nlen))
		return perr(p, key_mark, EINVAL,
			    "env: %s is not a variable name (expected letters, digits and _, not "
			    "starting with a digit)",
			    q);
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*seen)[i], sval(ev)) == 0)
			return perr(p, key_mark, EINVAL, "env: duplicate key %s", q);
	name = strdup(sval(ev));
	v = name ? realloc(*seen, (*n + 2) * sizeof(**seen)) : NULL;
	if (!v)
		return ombx_err_set(p->err, ENOMEM, "%s: out of memory", p->path);
	*seen = v;
	v[(*n)++] = TAKE_PTR(name);
	v[*n] = NULL;

	r = next(p, ev);
	if (r < 0)
		return r;
	if (ev->type != YAML_SCALAR_EVENT)
		return perr(p, ev->start_mark, EINVAL, "env: %s: expected a single value, not %s",
			    q, kind(ev));
	if (is_null(ev))
		return perr(p, ev->start_mark, EINVAL,
			    "env: %s: no value given (write \"\" for an empty value)", q);
	vlen = ev->data.scalar.length;
	if (strlen(sval(ev)) != vlen)
		return perr(p, ev->start_mark, EINVAL, "env: %s: the value contains a NUL byte", q);
	if (asprintf(&entry, "%s=%s", v[*n - 1], sval(ev)) < 0) {
		entry = NULL;
		return ombx_err_set(p->err, ENOMEM, "%s: out of memory", p->path);
	}
	r = ombx_config_add_env(p->cfg, entry, &e);
	if (r < 0)
		return perr(p, ev->start_mark, -r, "%s", e.msg);
	return 0;
}

static int apply_env(struct pctx *p, const struct pkey *k, yaml_event_t *ev)
{
	_cleanup_(strv_freep) char **seen = NULL;
	size_t n = 0;
	int r;

	if (ev->type != YAML_MAPPING_START_EVENT)
		return perr(p, ev->start_mark, EINVAL,
			    "%s: expected a mapping of NAME: VALUE, e.g. {LANG: C.UTF-8}, not %s",
			    k->name, kind(ev));
	for (;;) {
		r = next(p, ev);
		if (r < 0)
			return r;
		if (ev->type == YAML_MAPPING_END_EVENT)
			return 0;
		r = apply_env_pair(p, ev, &seen, &n);
		if (r < 0)
			return r;
	}
}

static const struct pkey pkeys[] = {
	{ "workspace", apply_scalar, 0 },    { "ro", apply_binds, OMBX_BIND_RO },
	{ "rw", apply_binds, OMBX_BIND_RW }, { "hide", apply_binds, OMBX_BIND_HIDE },
	{ "net", apply_scalar, 0 },	     { "memory", apply_scalar, 0 },
	{ "pids", apply_scalar, 0 },	     { "cpus", apply_scalar, 0 },
	{ "timeout", apply_scalar, 0 },	     { "env", apply_env, 0 },
	{ "env_pass", apply_env_pass, 0 },   { "tty", apply_tty, 0 },
};

static const struct pkey *find_key(const yaml_event_t *ev)
{
	for (size_t i = 0; i < ARRAY_SIZE(pkeys); i++)
		if (strlen(pkeys[i].name) == ev->data.scalar.length &&
		    memcmp(pkeys[i].name, sval(ev), ev->data.scalar.length) == 0)
			return &pkeys[i];
	return NULL;
}

static int unknown_key(struct pctx *p, const yaml_event_t *ev)
{
	char q[OMBX_QUOTE_MAX], keys[256];
	size_t off = 0;

	for (size_t i = 0; i < ARRAY_SIZE(pkeys) && off < sizeof(keys); i++)
		off += (size_t)snprintf(keys + off, sizeof(keys) - off, "%s%s", i ? ", " : "",
					pkeys[i].name);
	ombx_quote(q, sizeof(q), sval(ev), ev->data.scalar.length);
	return perr(p, ev->start_mark, EINVAL, "unknown key %s (expected one of: %s)", q, keys);
}

static int parse_top(struct pctx *p)
{
	_cleanup_(event_deletep) yaml_event_t ev = { 0 };
	yaml_mark_t first[ARRAY_SIZE(pkeys)];
	bool seen[ARRAY_SIZE(pkeys)] = { false };
	const struct pkey *k;
	size_t i;
	int r;

	for (;;) {
		r = next(p, &ev);
		if (r < 0)
			return r;
		if (ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		if (ev.type != YAML_SCALAR_EVENT)
			return perr(p, ev.start_mark, EINVAL,
				    "keys must be names such as memory, not %s", kind(&ev));
		k = find_key(&ev);
		if (!k)
			return unknown_key(p, &ev);
		i = (size_t)(k - pkeys);
		if (seen[i])
			return perr(p, ev.start_mark, EINVAL,
				    "duplicate key \"%s\" (first given at line %zu)", k->name,
				    first[i].line + 1);
		seen[i] = true;
		first[i] = ev.start_mark;
		r = next(p, &ev);
		if (r < 0)
			return r;
		r = k->apply(p, k, &ev);
		if (r < 0)
			return r;
	}
}

static int parse_stream(struct pctx *p)
{
	_cleanup_(event_deletep) yaml_event_t ev = { 0 };
	int r;

	r = next(p, &ev); /* stream start */
	if (r < 0)
		return r;
	r = next(p, &ev);
	if (r < 0)
		return r;
	if (ev.type == YAML_STREAM_END_EVENT)
		return 0; /* empty, or only comments */
	r = next(p, &ev); /* past document start, to the root node */
	if (r < 0)
		return r;
	if (ev.type == YAML_MAPPING_START_EVENT) {
		r = parse_top(p);
		if (r < 0)
			return r;
	} else if (!(ev.type == YAML_SCALAR_EVENT && is_null(&ev))) { /* a bare "---" is empty */
		return perr(p, ev.start_mark, EINVAL,
			    "a profile must be a mapping of keys such as \"memory: 512M\", not %s",
			    kind(&ev));
	}
	r = next(p, &ev); /* document end */
	if (r < 0)
		return r;
	r = next(p, &ev);
	if (r < 0)
		return r;
	if (ev.type != YAML_STREAM_END_EVENT)
		return perr(p, ev.start_mark, EINVAL,
			    "only one YAML document is allowed in a profile");
	return 0;
}

int ombx_profile_load(const char *path, struct ombx_config *cfg, ombx_err *err)
{
	_cleanup_(parser_deletep) yaml_parser_t parser = { 0 };
	_cleanup_free_ char *buf = NULL;
	struct pctx p;
	size_t len = 0;
	int r;

	r = ombx_read_file(path, PROFILE_MAX, "profile", &buf, &len, err);
	if (r < 0)
		return r;
	if (!yaml_parser_initialize(&parser))
		return ombx_err_set(err, ENOMEM, "%s: out of memory reading the profile", path);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	p = (struct pctx){
		.path = path,
		.buf = (const unsigned char *)buf,
		.len = len,
		.parser = &parser,
		.cfg = cfg,
		.err = err,
	};
	return parse_stream(&p);
}
