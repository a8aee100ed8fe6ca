/* index.c - the lookup tables of a compiled set.
 *
 * An egress request should cost a few hash lookups, not a walk over every
 * rule: rules are filed under each exact host they name, under the suffix of
 * each "*.domain" they name (a request then looks up each of its parent
 * domains), in a list for rules that match any host, and in a list for rules
 * with CIDRs (consulted only when the request has an address). Other kinds
 * are filed by kind. Every list keeps file order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct pair {
	const char *key;
	size_t len;
	uint64_t hash;
	uint32_t rule;
};

static int pair_cmp(const void *pa, const void *pb)
{
	const struct pair *a = pa, *b = pb;
	int d;

	if (a->hash != b->hash)
		return a->hash < b->hash ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	d = memcmp(a->key, b->key, a->len);
	if (d)
		return d;
	return a->rule < b->rule ? -1 : a->rule > b->rule;
}

static bool same_key(const struct pair *a, const struct pair *b)
{
	return a->hash == b->hash && a->len == b->len && memcmp(a->key, b->key, a->len) == 0;
}

static int build_map(struct policy__arena *ar, struct pair *p, size_t n, struct policy__hmap *m)
{
	size_t keys = 0, cap = 1, i = 0;

	if (n == 0)
		return 0;
	qsort(p, n, sizeof(*p), pair_cmp);
	for (size_t k = 0; k < n; k++)
		keys += k == 0 || !same_key(&p[k - 1], &p[k]);
	while (cap < 2 * keys)
		cap <<= 1;
	m->slots = policy__alloc(ar, cap * sizeof(*m->slots));
	if (!m->slots)
		return -ENOMEM;
	m->mask = cap - 1;
	while (i < n) {
		size_t j = i, cnt = 0;
		struct policy__hslot *s;
		size_t h = p[i].hash & m->mask;
		while (j < n && same_key(&p[i], &p[j]))
			j++;
		while (m->slots[h].key)
			h = (h + 1) & m->mask;
		s = &m->slots[h];
		s->key = p[i].key;
		s->len = p[i].len;
		s->hash = p[i].hash;
		s->rules = policy__alloc(ar, (j - i) * sizeof(*s->rules));
		if (!s->rules)
			return -ENOMEM;
		for (size_t k = i; k < j; k++)
			if (k == i || p[k].rule != p[k - 1].rule)
				s->rules[cnt++] = p[k].rule;
		s->n_rules = cnt;
		i = j;
	}
	return 0;
}

const struct policy__hslot *policy__hmap_get(const struct policy__hmap *m, const char *key,
					     size_t len, uint64_t hash)
{
	if (!m->slots)
		return NULL;
	for (size_t h = hash & m->mask;; h = (h + 1) & m->mask) {
		const struct policy__hslot *s = &m->slots[h];
		if (!s->key)
			return NULL;
		if (s->hash == hash && s->len == len && memcmp(s->key, key, len) == 0)
			return s;
	}
}

static int list_add(struct policy__arena *a, struct policy__list *l, size_t cap, uint32_t idx)
{
	if (!l->idx) {
		l->idx = policy__alloc(a, cap * sizeof(*l->idx));
		if (!l->idx)
			return -ENOMEM;
	}
	if (l->n && l->idx[l->n - 1] == idx)
		return 0;
	l->idx[l->n++] = idx;
	return 0;
}

static bool egress_rule(const struct policy__rule *r)
{
	return r->handler == H_NONE && !r->any_kind && r->on == POLICY_EGRESS;
}

/* Files rule r's hosts into the exact/wild pair arrays or the any list. */
static int file_hosts(struct policy_set *s, const struct policy__rule *r, struct pair *ex,
		      size_t *nex, struct pair *wi, size_t *nwi)
{
	int e = 0;

	if (r->n_hosts == 0 && r->n_cidrs == 0)
		e = list_add(&s->arena, &s->egress_any, s->n_rules, r->index);
	for (size_t h = 0; e == 0 && h < r->n_hosts; h++) {
		const struct policy__hostpat *hp = &r->hosts[h];
		struct pair p = {hp->name, hp->len, policy__hash(hp->name, hp->len), r->index};
		if (hp->any)
			e = list_add(&s->arena, &s->egress_any, s->n_rules, r->index);
		else if (hp->wildcard)
			wi[(*nwi)++] = p;
		else
			ex[(*nex)++] = p;
	}
	if (e == 0 && r->n_cidrs)
		e = list_add(&s->arena, &s->egress_cidr, s->n_rules, r->index);
	return e;
}

int policy__set_index(struct policy_set *s)
{
	struct pair *ex = NULL, *wi = NULL;
	size_t nhosts = 0, nex = 0, nwi = 0;
	int e = 0;

	for (size_t i = 0; i < s->n_rules; i++)
		if (egress_rule(&s->rules[i]))
			nhosts += s->rules[i].n_hosts;
	if (nhosts) {
		ex = malloc(nhosts * sizeof(*ex));
		wi = malloc(nhosts * sizeof(*wi));
		if (!ex || !wi)
			e = -ENOMEM;
	}
	for (size_t i = 0; e == 0 && i < s->n_rules; i++) {
		const struct policy__rule *r = &s->rules[i];
		if (r->any_kind)
			e = list_add(&s->arena, &s->any_kind, s->n_rules, r->index);
		else if (egress_rule(r))
			e = file_hosts(s, r, ex, &nex, wi, &nwi);
		else
			e = list_add(&s->arena, &s->by_kind[r->on], s->n_rules, r->index);
	}
	if (e == 0)
		e = build_map(&s->arena, ex, nex, &s->exact);
	if (e == 0)
		e = build_map(&s->arena, wi, nwi, &s->wild);
	free(ex);
	free(wi);
	return e;
}
