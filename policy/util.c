/* util.c - the policy library's small shared helpers (see internal.h): the
 * arena compiled sets live in, quoting for messages, hashing, names, money. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- arena ---- */

struct policy__block {
	struct policy__block *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

#define BLOCK_MIN (16 * 1024)

void *policy__alloc(struct policy__arena *a, size_t size)
{
	struct policy__block *b = a->head;
	size_t need = (size + 15) & ~(size_t)15;
	void *p;

	if (size == 0)
		need = 16;
	if (need < size)
		return NULL;
	if (!b || b->size - b->used < need) {
		size_t bs = need > BLOCK_MIN ? need : BLOCK_MIN;
		b = calloc(1, sizeof(*b) + bs);
		if (!b)
			return NULL;
		b->size = bs;
		b->next = a->head;
		a->head = b;
	}
	p = b->data + b->used;
	b->used += need;
	return p;
}

char *policy__strndup(struct policy__arena *a, const char *s, size_t len)
{
	char *p = len + 1 > len ? policy__alloc(a, len + 1) : NULL;

	if (p && len)
		memcpy(p, s, len);
	return p;
}

void policy__arena_free(struct policy__arena *a)
{
	struct policy__block *b = a->head;

	while (b) {
		struct policy__block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
}

/* ---- hashing and names ---- */

uint64_t policy__hash(const char *s, size_t len)
{
	/* eight bytes at a time, multiply-xorshift mixing (not cryptographic:
	 * keys come from policy files and canonical hosts) */
	const uint64_t k = 0x9e3779b97f4a7c15ULL;
	uint64_t h = 0x243f6a8885a308d3ULL ^ (len * k), w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * k;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, len);
	h = (h ^ w) * k;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 32);
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool policy__name_valid(const char *s, size_t len)
{
	if (len == 0 || len > POLICY_NAME_MAX || !is_alpha(s[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!is_alpha(s[i]) && !(s[i] >= '0' && s[i] <= '9') && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* ---- money ---- */

#define USD_MAX_MICRO (1000000000LL * 1000000LL) /* one billion dollars */

int policy__parse_usd(const char *s, size_t len, int64_t *out)
{
	int64_t whole = 0, frac = 0;
	size_t i = 0, nd = 0, nf = 0;

	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++) {
		if (whole > USD_MAX_MICRO / 1000000)
			return -ERANGE;
		whole = whole * 10 + (s[i] - '0');
	}
	if (i < len && s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nf++) {
			if (nf >= 6) {
				if (s[i] != '0')
					return -EINVAL; /* finer than a micro-dollar */
				continue;
			}
			frac = frac * 10 + (s[i] - '0');
		}
		if (nf == 0)
			return -EINVAL;
	}
	if (i != len || nd == 0)
		return -EINVAL;
	for (size_t k = nf < 6 ? nf : 6; k < 6; k++)
		frac *= 10;
	if (whole > USD_MAX_MICRO / 1000000)
		return -ERANGE;
	*out = whole * 1000000 + frac;
	return 0;
}

void policy__format_usd(char *buf, size_t size, int64_t micro)
{
	const char *sign = micro < 0 ? "-" : "";
	uint64_t m = micro < 0 ? (uint64_t)0 - (uint64_t)micro : (uint64_t)micro;
	uint64_t frac = m % 1000000;

	if (frac % 10000 == 0)
		snprintf(buf, size, "%s$%llu.%02llu", sign, (unsigned long long)(m / 1000000),
			 (unsigned long long)(frac / 10000));
	else
		snprintf(buf, size, "%s$%llu.%06llu", sign, (unsigned long long)(m / 1000000),
			 (unsigned long long)frac);
}

/* ---- methods and names of enums ---- */

uint32_t policy__method_bit(const char *m, size_t len)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} methods[] = {
		{"GET", M_GET},         {"HEAD", M_HEAD},       {"POST", M_POST},
		{"PUT", M_PUT},         {"PATCH", M_PATCH},     {"DELETE", M_DELETE},
		{"OPTIONS", M_OPTIONS}, {"CONNECT", M_CONNECT}, {"TRACE", M_TRACE},
	};

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i].name) == len && memcmp(methods[i].name, m, len) == 0)
			return methods[i].bit;
	return M_OTHER;
}

const char *policy_verdict_name(enum policy_verdict v)
{
	switch (v) {
	case POLICY_ALLOW:
		return "allow";
	case POLICY_ASK:
		return "ask";
	case POLICY_DENY:
		return "deny";
	default:
		return "none";
	}
}

const char *policy_level_name(enum policy_level l)
{
	switch (l) {
	case POLICY_LEVEL_SERVER:
		return "server";
	case POLICY_LEVEL_AGENT:
		return "agent";
	case POLICY_LEVEL_SESSION:
		return "session";
	default:
		return "engine";
	}
}

const char *policy_kind_name(enum policy_kind k)
{
	switch (k) {
	case POLICY_EGRESS:
		return "egress";
	case POLICY_EXEC:
		return "exec";
	case POLICY_TOOL_CALL:
		return "tool_call";
	default:
		return "usage";
	}
}
