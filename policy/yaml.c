/* yaml.c - see yaml.h. Walks libyaml's event stream into a node tree. */
#include "yaml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define DEPTH_MAX 32
#define NODES_MAX 500000

struct yctx {
	const char *name;
	const unsigned char *buf;
	size_t len;
	yaml_parser_t parser;
	struct policy__arena *a;
	ombx_err *err;
	size_t nodes;
};

__attribute__((format(printf, 6, 0))) static int verr(ombx_err *err, const char *name,
						      unsigned line, unsigned col, int code,
						      const char *fmt, va_list ap)
{
	char msg[sizeof(((ombx_err *)0)->msg)];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return ombx_err_set(err, code, "%s:%u:%u: %s", name, line, col, msg);
}

int policy__yerr(ombx_err *err, const char *name, const struct policy__ynode *n, int code,
		 const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = verr(err, name, n ? n->line : 1, n ? n->col : 1, code, fmt, ap);
	va_end(ap);
	return r;
}

__attribute__((format(printf, 4, 5))) static int merr(struct yctx *c, yaml_mark_t m, int code,
						      const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = verr(c->err, c->name, (unsigned)m.line + 1, (unsigned)m.column + 1, code, fmt, ap);
	va_end(ap);
	return r;
}

/* The mark of a byte offset; columns count characters, as libyaml's do. */
static yaml_mark_t mark_at(const struct yctx *c, size_t off)
{
	yaml_mark_t m = {.index = off};

	for (size_t i = 0; i < off && i < c->len; i++) {
		if (c->buf[i] == '\n') {
			m.line++;
			m.column = 0;
		} else if ((c->buf[i] & 0xc0) != 0x80) {
			m.column++;
		}
	}
	return m;
}

static int syntax_error(struct yctx *c)
{
	const yaml_parser_t *y = &c->parser;
	const char *problem = y->problem ? y->problem : "invalid YAML";

	if (y->error == YAML_MEMORY_ERROR)
		return ombx_err_set(c->err, ENOMEM, "%s: out of memory reading the policy",
				    c->name);
	if (y->error == YAML_READER_ERROR)
		return merr(c, mark_at(c, y->problem_offset), EINVAL, "not valid YAML text: %s",
			    problem);
	if (y->context)
		return merr(c, y->problem_mark, EINVAL, "YAML syntax error: %s (%s at %zu:%zu)",
			    problem, y->context, y->context_mark.line + 1,
			    y->context_mark.column + 1);
	return merr(c, y->problem_mark, EINVAL, "YAML syntax error: %s", problem);
}

static int next(struct yctx *c, yaml_event_t *ev)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	bool implicit = true;

	yaml_event_delete(ev);
	if (!yaml_parser_parse(&c->parser, ev))
		return syntax_error(c);
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return merr(c, ev->start_mark, EINVAL,
			    "aliases (*name) are not supported: write the value out in full");
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		implicit = ev->data.scalar.plain_implicit || ev->data.scalar.quoted_implicit;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	default:
		break;
	}
	if (anchor)
		return merr(c, ev->start_mark, EINVAL,
			    "anchors (&name) are not supported: remove the anchor");
	if (tag || !implicit)
		return merr(c, ev->start_mark, EINVAL, "tags (!name) are not supported");
	return 0;
}

static struct policy__ynode *new_node(struct yctx *c, const yaml_event_t *ev, enum policy__ytype t)
{
	struct policy__ynode *n;

	if (++c->nodes > NODES_MAX)
		return NULL;
	n = policy__alloc(c->a, sizeof(*n));
	if (!n)
		return NULL;
	n->type = t;
	n->line = (unsigned)ev->start_mark.line + 1;
	n->col = (unsigned)ev->start_mark.column + 1;
	return n;
}

static int node(struct yctx *c, yaml_event_t *ev, int depth, struct policy__ynode **out);

static int key_cmp(const void *pa, const void *pb)
{
	const struct policy__ynode *a = *(struct policy__ynode *const *)pa;
	const struct policy__ynode *b = *(struct policy__ynode *const *)pb;
	int d;

	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	d = memcmp(a->val, b->val, a->len);
	if (d)
		return d;
	/* equal keys: in document order */
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->col < b->col ? -1 : a->col > b->col;
}

/* Refuses a key given twice, naming the earliest repeat (sorting keeps this
 * O(n log n) however many keys a file has). */
static int check_duplicates(struct yctx *c, struct policy__ynode **pairs, size_t n)
{
	const struct policy__ynode *dup = NULL, *first = NULL;
	struct policy__ynode **keys;
	char q[POLICY_QUOTE_MAX];

	if (n < 2)
		return 0;
	keys = malloc(n * sizeof(*keys));
	if (!keys)
		return ombx_err_set(c->err, ENOMEM, "%s: out of memory", c->name);
	for (size_t i = 0; i < n; i++)
		keys[i] = pairs[2 * i];
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (size_t i = 1; i < n; i++) {
		const struct policy__ynode *a = keys[i - 1], *b = keys[i];
		if (a->len != b->len || memcmp(a->val, b->val, a->len) != 0)
			continue;
		if (i >= 2 && keys[i - 2]->len == a->len &&
		    memcmp(keys[i - 2]->val, a->val, a->len) == 0)
			continue; /* a third or later repeat */
		if (!dup || b->line < dup->line || (b->line == dup->line && b->col < dup->col)) {
			dup = b;
			first = a;
		}
	}
	free(keys);
	if (!dup)
		return 0;
	ombx_quote(q, sizeof(q), dup->val, dup->len);
	return policy__yerr(c->err, c->name, dup, EINVAL,
			    "duplicate key %s (first given at line %u)", q, first->line);
}

/* Reads the items of the collection n (ev is its start event) up to its end. */
static int collection(struct yctx *c, yaml_event_t *ev, int depth, struct policy__ynode *n)
{
	yaml_event_type_t end = n->type == Y_MAP ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
	struct policy__ynode **v = NULL, *item;
	size_t cnt = 0, cap = 0;
	int r;

	for (;;) {
		r = next(c, ev);
		if (r < 0)
			goto out;
		if (ev->type == end)
			break;
		r = node(c, ev, depth + 1, &item);
		if (r < 0)
			goto out;
		if (n->type == Y_MAP && cnt % 2 == 0 && item->type != Y_SCALAR) {
			r = policy__yerr(c->err, c->name, item, EINVAL,
					 "keys must be plain names, not %s", policy__y_kind(item));
			goto out;
		}
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 8;
			struct policy__ynode **nv = realloc(v, nc * sizeof(*v));
			if (!nv) {
				r = ombx_err_set(c->err, ENOMEM, "%s: out of memory", c->name);
				goto out;
			}
			v = nv;
			cap = nc;
		}
		v[cnt++] = item;
	}
	n->n = n->type == Y_MAP ? cnt / 2 : cnt;
	if (n->type == Y_MAP) {
		r = check_duplicates(c, v, n->n);
		if (r < 0)
			goto out;
	}
	n->items = policy__alloc(c->a, (cnt ? cnt : 1) * sizeof(*v));
	if (!n->items) {
		r = ombx_err_set(c->err, ENOMEM, "%s: out of memory", c->name);
		goto out;
	}
	if (cnt)
		memcpy(n->items, v, cnt * sizeof(*v));
	r = 0;
out:
	free(v);
	return r;
}

static int node(struct yctx *c, yaml_event_t *ev, int depth, struct policy__ynode **out)
{
	struct policy__ynode *n;

	if (depth > DEPTH_MAX)
		return merr(c, ev->start_mark, EINVAL, "nested deeper than %d levels", DEPTH_MAX);
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = new_node(c, ev, Y_SCALAR);
		if (!n)
			break;
		n->len = ev->data.scalar.length;
		n->val = policy__strndup(c->a, (const char *)ev->data.scalar.value, n->len);
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if (!n->val)
			break;
		*out = n;
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		n = new_node(c, ev, ev->type == YAML_MAPPING_START_EVENT ? Y_MAP : Y_SEQ);
		if (!n)
			break;
		*out = n;
		return collection(c, ev, depth, n);
	default:
		return merr(c, ev->start_mark, EINVAL, "unexpected YAML event");
	}
	if (c->nodes > NODES_MAX)
		return merr(c, ev->start_mark, E2BIG, "more than %d YAML nodes", NODES_MAX);
	return ombx_err_set(c->err, ENOMEM, "%s: out of memory", c->name);
}

static int stream(struct yctx *c, struct policy__ynode **root)
{
	yaml_event_t ev = {0};
	int r;

	*root = NULL;
	r = next(c, &ev); /* stream start */
	if (r < 0)
		goto out;
	r = next(c, &ev);
	if (r < 0 || ev.type == YAML_STREAM_END_EVENT)
		goto out; /* error, or empty */
	r = next(c, &ev); /* the root node */
	if (r < 0)
		goto out;
	r = node(c, &ev, 0, root);
	if (r < 0)
		goto out;
	r = next(c, &ev); /* document end */
	if (r < 0)
		goto out;
	r = next(c, &ev);
	if (r < 0)
		goto out;
	if (ev.type != YAML_STREAM_END_EVENT)
		r = merr(c, ev.start_mark, EINVAL, "only one YAML document is allowed in a policy");
out:
	yaml_event_delete(&ev);
	return r;
}

int policy__yaml_parse(const char *name, const char *buf, size_t len, struct policy__arena *a,
		       struct policy__ynode **root, ombx_err *err)
{
	struct yctx c = {
		.name = name, .buf = (const unsigned char *)buf, .len = len, .a = a, .err = err};
	int r;

	if (len > POLICY_FILE_MAX)
		return ombx_err_set(err, EFBIG, "%s: policy is larger than 1 MiB", name);
	if (!yaml_parser_initialize(&c.parser))
		return ombx_err_set(err, ENOMEM, "%s: out of memory", name);
	yaml_parser_set_input_string(&c.parser, c.buf, len);
	r = stream(&c, root);
	yaml_parser_delete(&c.parser);
	if (r == 0 && *root && (*root)->type == Y_SCALAR && policy__y_null(*root))
		*root = NULL; /* a bare "---" */
	return r;
}

bool policy__y_null(const struct policy__ynode *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

	if (!n || n->type != Y_SCALAR || !n->plain)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(n->val, nulls[i]) == 0 && strlen(nulls[i]) == n->len)
			return true;
	return false;
}

bool policy__y_is(const struct policy__ynode *n, const char *s)
{
	return n && n->type == Y_SCALAR && n->len == strlen(s) && memcmp(n->val, s, n->len) == 0;
}

const char *policy__y_kind(const struct policy__ynode *n)
{
	if (!n)
		return "nothing";
	if (n->type == Y_SEQ)
		return "a list";
	if (n->type == Y_MAP)
		return "a mapping";
	if (policy__y_null(n))
		return "an empty value";
	return "a single value";
}
