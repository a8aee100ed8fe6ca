/* config.c - see config.h. Validates and stores user-supplied options. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"

/* The option messages below spell these numbers out. */
_Static_assert(OMBX_MAX_TIMEOUT_SEC == 604800, "update the timeout message");
_Static_assert(OMBX_MAX_PIDS == 4194304, "update the pids message");
_Static_assert(OMBX_MAX_CPUS == 1024, "update the cpus message");

void ombx_config_init(struct ombx_config *c)
{
	memset(c, 0, sizeof(*c));
	c->net = OMBX_NET_NONE;
	c->proxy_sock = -1;
}

static void strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void ombx_config_free(struct ombx_config *c)
{
	if (!c)
		return;
	free(c->workspace);
	if (c->binds)
		for (size_t i = 0; i < c->n_binds; i++)
			free(c->binds[i].path);
	free(c->binds);
	strv_free(c->env, c->n_env);
	strv_free(c->env_pass, c->n_env_pass);
	/* argv is borrowed: see config.h. */
	ombx_config_init(c);
}

static void quote(char buf[static OMBX_QUOTE_MAX], const char *s)
{
	ombx_quote(buf, OMBX_QUOTE_MAX, s, s ? strlen(s) : 0);
}

/* ---- pure parsers ---- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads the decimal digits at *p (at least one) into *v, moving *p past them.
 * -EINVAL if there are none; -ERANGE (after consuming them all) on overflow. */
static int parse_digits(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;
	bool overflow = false;

	if (!is_digit(*s))
		return -EINVAL;
	for (; is_digit(*s); s++) {
		unsigned d = (unsigned)(*s - '0');
		if (n > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			n = n * 10 + d;
	}
	*p = s;
	*v = n;
	return overflow ? -ERANGE : 0;
}

int ombx_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	const char *u;
	unsigned shift = 0;
	uint64_t n;
	int r;

	if (!s)
		return -EINVAL;
	r = parse_digits(&s, &n);
	if (r == -EINVAL)
		return r;
	/* strchr would also find the terminator: check the byte first. */
	if (*s && (u = strchr(units, *s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s))) {
		shift = 10 * (unsigned)(u - units + 1);
		s++;
		if (*s == 'i' || *s == 'I')
			s++;
	}
	if (*s == 'b' || *s == 'B')
		s++;
	if (*s)
		return -EINVAL;
	if (r < 0)
		return r;
	if (n == 0)
		return -EINVAL;
	if (n > UINT64_MAX >> shift)
		return -ERANGE;
	*out = n << shift;
	return 0;
}

static int parse_uint_range(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t n;
	int r;

	if (!s)
		return -EINVAL;
	r = parse_digits(&s, &n);
	if (r == -EINVAL || *s)
		return -EINVAL;
	if (r < 0 || n > max)
		return -ERANGE;
	if (n == 0)
		return -EINVAL;
	*out = n;
	return 0;
}

int ombx_parse_timeout(const char *s, uint64_t *out)
{
	return parse_uint_range(s, OMBX_MAX_TIMEOUT_SEC, out);
}

int ombx_parse_pids(const char *s, uint64_t *out)
{
	return parse_uint_range(s, OMBX_MAX_PIDS, out);
}

int ombx_parse_cpus(const char *s, double *out)
{
	uint64_t ip = 0, num = 0, den = 1;
	bool digits = false, nonzero = false;
	double v;
	int r = 0;

	if (!s)
		return -EINVAL;
	if (is_digit(*s)) {
		r = parse_digits(&s, &ip);
		digits = true;
	}
	if (*s == '.') {
		/* Exact integer fraction: 15 digits is below a double's precision. */
		for (s++; is_digit(*s); s++) {
			digits = true;
			if (den < 1000000000000000ULL) {
				num = num * 10 + (uint64_t)(*s - '0');
				den *= 10;
			}
			nonzero |= *s != '0';
		}
	}
	if (*s || !digits)
		return -EINVAL;
	if (r < 0)
		return r;
	v = (double)ip + (double)num / (double)den;
	if (v > OMBX_MAX_CPUS)
		return -ERANGE;
	if (ip == 0 && !nonzero)
		return -EINVAL;
	if (v < OMBX_MIN_CPUS)
		return -ERANGE;
	*out = v;
	return 0;
}

int ombx_parse_net(const char *s, enum ombx_net *out)
{
	if (!s)
		return -EINVAL;
	if (strcmp(s, "none") == 0)
		*out = OMBX_NET_NONE;
	else if (strcmp(s, "host") == 0)
		*out = OMBX_NET_HOST;
	else if (strcmp(s, "proxy") == 0)
		*out = OMBX_NET_PROXY;
	else
		return -EINVAL;
	return 0;
}

/* ---- scalar options ---- */

static int set_workspace(struct ombx_config *c, const char *v)
{
	char *dup;

	if (!v || !*v)
		return -EINVAL;
	if (strnlen(v, PATH_MAX) >= PATH_MAX)
		return -ENAMETOOLONG;
	dup = strdup(v);
	if (!dup)
		return -ENOMEM;
	free(c->workspace);
	c->workspace = dup;
	return 0;
}

static int set_net(struct ombx_config *c, const char *v)
{
	return ombx_parse_net(v, &c->net);
}

static int set_memory(struct ombx_config *c, const char *v)
{
	return ombx_parse_size(v, &c->memory_bytes);
}

static int set_pids(struct ombx_config *c, const char *v)
{
	return ombx_parse_pids(v, &c->pids);
}

static int set_cpus(struct ombx_config *c, const char *v)
{
	return ombx_parse_cpus(v, &c->cpus);
}

static int set_timeout(struct ombx_config *c, const char *v)
{
	return ombx_parse_timeout(v, &c->timeout_sec);
}

static const struct scalar_opt {
	const char *key;
	int (*set)(struct ombx_config *c, const char *value);
	const char *noun;     /* `"x" is not a <noun>` */
	const char *expected; /* `(expected <expected>)` */
} scalar_opts[] = {
	{ "workspace", set_workspace, "path", "a directory, e.g. /home/me/project" },
	{ "net", set_net, "network mode", "none, host or proxy" },
	{ "memory", set_memory, "size", "e.g. 512M, 2G" },
	{ "pids", set_pids, "process count", "a whole number from 1 to 4194304" },
	{ "cpus", set_cpus, "CPU count", "a number from 0.01 to 1024, e.g. 1.5" },
	{ "timeout", set_timeout, "timeout", "whole seconds from 1 to 604800" },
};

int ombx_config_set(struct ombx_config *c, const char *key, const char *value, const char *label,
		    ombx_err *err)
{
	const struct scalar_opt *o = NULL;
	char q[OMBX_QUOTE_MAX];
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(scalar_opts) && key; i++)
		if (strcmp(scalar_opts[i].key, key) == 0)
			o = &scalar_opts[i];
	if (!o)
		return ombx_err_set(err, EINVAL, "unknown option %s", key ? key : "(null)");
	if (!label)
		label = key;

	r = o->set(c, value);
	if (r == 0)
		return 0;
	quote(q, value);
	switch (r) {
	case -ENOMEM:
		return ombx_err_set(err, ENOMEM, "%s: out of memory", label);
	case -ERANGE:
		return ombx_err_set(err, ERANGE, "%s: %s is out of range (expected %s)", label, q,
				    o->expected);
	case -EOPNOTSUPP:
		return ombx_err_set(err, EOPNOTSUPP, "%s: %s is not available yet (expected %s)",
				    label, q, o->expected);
	case -ENAMETOOLONG:
		return ombx_err_set(err, ENAMETOOLONG, "%s: %s is too long (at most %d bytes)",
				    label, q, PATH_MAX - 1);
	default:
		return ombx_err_set(err, -r, "%s: %s is not a %s (expected %s)", label, q, o->noun,
				    o->expected);
	}
}

/* ---- lists: binds, env, env_pass ---- */

static const char *bind_kind_name(enum ombx_bind_kind k)
{
	switch (k) {
	case OMBX_BIND_RO:
		return "ro";
	case OMBX_BIND_RW:
		return "rw";
	case OMBX_BIND_HIDE:
		return "hide";
	}
	return NULL;
}

int ombx_config_add_bind(struct ombx_config *c, enum ombx_bind_kind k, const char *path,
			 ombx_err *err)
{
	const char *name = bind_kind_name(k);
	_cleanup_free_ char *dup = NULL;
	struct ombx_bind *b;
	char q[OMBX_QUOTE_MAX];

	if (!name)
		return ombx_err_set(err, EINVAL, "unknown bind kind %d", (int)k);
	quote(q, path);
	if (!path || path[0] != '/')
		return ombx_err_set(err, EINVAL,
				    "%s: %s is not an absolute path (expected e.g. /opt/data)",
				    name, q);
	if (strnlen(path, PATH_MAX) >= PATH_MAX)
		return ombx_err_set(err, ENAMETOOLONG, "%s: %s is too long (at most %d bytes)",
				    name, q, PATH_MAX - 1);
	if (c->n_binds >= OMBX_MAX_BINDS)
		return ombx_err_set(
		    err, E2BIG,
		    "%s: %s is one path too many (at most %d ro, rw and hide paths in all)", name,
		    q, OMBX_MAX_BINDS);
	dup = strdup(path);
	if (!dup)
		return ombx_err_set(err, ENOMEM, "%s: out of memory", name);
	b = realloc(c->binds, (c->n_binds + 1) * sizeof(*b));
	if (!b)
		return ombx_err_set(err, ENOMEM, "%s: out of memory", name);
	c->binds = b;
	b[c->n_binds].kind = k;
	b[c->n_binds].path = TAKE_PTR(dup);
	c->n_binds++;
	return 0;
}

bool ombx_env_name_valid(const char *s, size_t len)
{
	if (!s || len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		bool alpha = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
		if (!alpha && (i == 0 || !is_digit(ch)))
			return false;
	}
	return true;
}

#define NAME_EXPECTED "expected letters, digits and _, not starting with a digit"

/* Appends s to the NULL-terminated vector *v of *n entries; takes s on success. */
static int strv_push(char ***v, size_t *n, char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = s;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

int ombx_config_add_env(struct ombx_config *c, const char *s, ombx_err *err)
{
	const char *eq = s ? strchr(s, '=') : NULL;
	_cleanup_free_ char *dup = NULL;
	char q[OMBX_QUOTE_MAX];
	size_t nlen;

	if (!eq) {
		quote(q, s);
		return ombx_err_set(err, EINVAL,
				    "env: %s is not NAME=VALUE (expected e.g. LANG=C.UTF-8)", q);
	}
	/* From here on only the name is ever shown: the value may be a secret. */
	nlen = (size_t)(eq - s);
	ombx_quote(q, sizeof(q), s, nlen);
	if (!ombx_env_name_valid(s, nlen))
		return ombx_err_set(err, EINVAL,
				    "env: %s is not a variable name (" NAME_EXPECTED ")", q);
	if (strnlen(s, OMBX_MAX_ENV_LEN + 1) > OMBX_MAX_ENV_LEN)
		return ombx_err_set(err, E2BIG, "env: %s: NAME=VALUE is longer than %d bytes", q,
				    OMBX_MAX_ENV_LEN);
	dup = strdup(s);
	if (!dup)
		return ombx_err_set(err, ENOMEM, "env: out of memory");
	for (size_t i = 0; i < c->n_env; i++) {
		if (strncmp(c->env[i], s, nlen + 1) == 0) {
			free(c->env[i]);
			c->env[i] = TAKE_PTR(dup);
			return 0;
		}
	}
	if (c->n_env >= OMBX_MAX_ENV)
		return ombx_err_set(err, E2BIG, "env: %s is one variable too many (at most %d)", q,
				    OMBX_MAX_ENV);
	if (strv_push(&c->env, &c->n_env, dup) < 0)
		return ombx_err_set(err, ENOMEM, "env: out of memory");
	dup = NULL;
	return 0;
}

int ombx_config_add_env_pass(struct ombx_config *c, const char *name, ombx_err *err)
{
	size_t len = name ? strnlen(name, OMBX_MAX_ENV_LEN + 1) : 0;
	char *dup;
	char q[OMBX_QUOTE_MAX];

	quote(q, name);
	if (!ombx_env_name_valid(name, len))
		return ombx_err_set(err, EINVAL,
				    "env_pass: %s is not a variable name (" NAME_EXPECTED ")", q);
	if (len > OMBX_MAX_ENV_LEN)
		return ombx_err_set(err, E2BIG, "env_pass: %s is longer than %d bytes", q,
				    OMBX_MAX_ENV_LEN);
	for (size_t i = 0; i < c->n_env_pass; i++)
		if (strcmp(c->env_pass[i], name) == 0)
			return 0;
	if (c->n_env_pass >= OMBX_MAX_ENV)
		return ombx_err_set(err, E2BIG, "env_pass: %s is one name too many (at most %d)", q,
				    OMBX_MAX_ENV);
	dup = strdup(name);
	if (!dup || strv_push(&c->env_pass, &c->n_env_pass, dup) < 0) {
		free(dup);
		return ombx_err_set(err, ENOMEM, "env_pass: out of memory");
	}
	return 0;
}
