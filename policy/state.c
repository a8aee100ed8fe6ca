/* state.c - a session's state: named flags and counters (one int64 each; a
 * flag is 0 or 1, a name never set reads 0) and its spend in micro-USD.
 *
 * Open addressing with the hash each compiled condition/update carries, so a
 * condition costs one probe. At most POLICY_STATE_MAX names: past that an
 * update fails (and the caller fails closed) rather than being dropped.
 * Counters saturate instead of wrapping. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int64_t policy__state_get(const struct policy__state *st, const char *key, size_t len,
			  uint64_t hash)
{
	if (!st->slots)
		return 0;
	for (size_t h = hash & (st->cap - 1);; h = (h + 1) & (st->cap - 1)) {
		const struct policy__kv *kv = &st->slots[h];
		if (!kv->key)
			return 0;
		if (kv->hash == hash && strncmp(kv->key, key, len) == 0 && kv->key[len] == '\0')
			return kv->val;
	}
}

static int grow(struct policy__state *st)
{
	size_t ncap = st->cap ? st->cap * 2 : 32;
	struct policy__kv *ns = calloc(ncap, sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < st->cap; i++) {
		struct policy__kv *kv = &st->slots[i];
		size_t h;
		if (!kv->key)
			continue;
		for (h = kv->hash & (ncap - 1); ns[h].key; h = (h + 1) & (ncap - 1))
			;
		ns[h] = *kv;
	}
	free(st->slots);
	st->slots = ns;
	st->cap = ncap;
	return 0;
}

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

int policy__state_put(struct policy__state *st, const char *key, size_t len, uint64_t hash,
		      int64_t val, bool add)
{
	size_t h;

	if (st->n + 1 > st->cap / 2) {
		if (st->n >= POLICY_STATE_MAX) {
			/* full: only names already present may change */
			if (!st->slots)
				return -ENOSPC;
		} else if (grow(st) < 0) {
			return -ENOMEM;
		}
	}
	for (h = hash & (st->cap - 1); st->slots[h].key; h = (h + 1) & (st->cap - 1)) {
		struct policy__kv *kv = &st->slots[h];
		if (kv->hash == hash && strncmp(kv->key, key, len) == 0 && kv->key[len] == '\0') {
			kv->val = add ? sat_add(kv->val, val) : val;
			return 0;
		}
	}
	if (st->n >= POLICY_STATE_MAX)
		return -ENOSPC;
	st->slots[h].key = strndup(key, len);
	if (!st->slots[h].key)
		return -ENOMEM;
	st->slots[h].hash = hash;
	st->slots[h].val = val;
	st->n++;
	return 0;
}

void policy__state_free(struct policy__state *st)
{
	for (size_t i = 0; i < st->cap; i++)
		free(st->slots[i].key);
	free(st->slots);
	memset(st, 0, sizeof(*st));
}

static bool compare(int64_t a, enum policy__cmp op, int64_t b)
{
	switch (op) {
	case CMP_LT:
		return a < b;
	case CMP_LE:
		return a <= b;
	case CMP_GT:
		return a > b;
	case CMP_GE:
		return a >= b;
	case CMP_EQ:
		return a == b;
	default:
		return a != b;
	}
}

bool policy__conds_hold(const struct policy__rule *r, const struct policy__state *st)
{
	for (size_t i = 0; i < r->n_conds; i++) {
		const struct policy__cond *c = &r->conds[i];
		int64_t v = c->kind == COND_SPEND
				    ? st->spend
				    : policy__state_get(st, c->name, strlen(c->name), c->hash);
		bool ok;

		switch (c->kind) {
		case COND_FLAG:
			ok = v != 0;
			break;
		case COND_NOT:
			ok = v == 0;
			break;
		default:
			ok = compare(v, c->op, c->value);
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}

int policy__apply_updates(const struct policy__rule *r, struct policy__state *st)
{
	for (size_t i = 0; i < r->n_upds; i++) {
		const struct policy__update *u = &r->upds[i];
		int e = policy__state_put(st, u->name, strlen(u->name), u->hash,
					  u->op == UPD_SET     ? 1
					  : u->op == UPD_UNSET ? 0
							       : u->n,
					  u->op == UPD_INCR);
		if (e < 0)
			return e;
	}
	return 0;
}
