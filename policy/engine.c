/* engine.c - the engine (one policy set per level), its snapshots, and
 * sessions.
 *
 * A snapshot is an immutable triple of sets with a version. Swapping a level
 * builds a new snapshot under the engine's mutex and publishes its version;
 * a session compares versions (one atomic load) before each evaluation and
 * takes the new snapshot only when it changed. Decisions hold a reference to
 * the snapshot they were made with, so a swap never frees rules a pending
 * approval still points to. A failed reload never reaches the swap. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct policy_engine {
	pthread_mutex_t lock;
	struct policy__snap *cur;
	atomic_uint_fast64_t version;
	atomic_uint refs; /* the owner, plus one per session */
};

void policy__snap_unref(struct policy__snap *s)
{
	if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (int i = 0; i < POLICY_N_LEVELS; i++)
		policy_set_unref(s->sets[i]);
	free(s);
}

int policy_engine_new(struct policy_engine **out)
{
	struct policy_engine *e = calloc(1, sizeof(*e));

	*out = NULL;
	if (!e)
		return -ENOMEM;
	e->cur = calloc(1, sizeof(*e->cur));
	if (!e->cur) {
		free(e);
		return -ENOMEM;
	}
	atomic_init(&e->cur->refs, 1);
	atomic_init(&e->version, 0);
	atomic_init(&e->refs, 1);
	pthread_mutex_init(&e->lock, NULL);
	*out = e;
	return 0;
}

void policy__engine_hold(struct policy_engine *e)
{
	atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
}

void policy__engine_drop(struct policy_engine *e)
{
	if (!e || atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
		return;
	policy__snap_unref(e->cur);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

void policy_engine_free(struct policy_engine *e)
{
	policy__engine_drop(e);
}

struct policy__snap *policy__engine_snap(struct policy_engine *e)
{
	struct policy__snap *s;

	pthread_mutex_lock(&e->lock);
	s = e->cur;
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&e->lock);
	return s;
}

uint64_t policy__engine_version_relaxed(struct policy_engine *e)
{
	return atomic_load_explicit(&e->version, memory_order_acquire);
}

uint64_t policy_engine_version(struct policy_engine *e)
{
	return policy__engine_version_relaxed(e);
}

void policy_engine_swap(struct policy_engine *e, enum policy_level level, struct policy_set *set)
{
	struct policy__snap *n = NULL, *old;

	if ((unsigned)level >= POLICY_N_LEVELS) {
		policy_set_unref(set);
		return;
	}
	n = calloc(1, sizeof(*n)); /* outside the lock */
	pthread_mutex_lock(&e->lock);
	old = e->cur;
	if (!n) {
		/* Out of memory: keep serving the old snapshot, drop the new set. */
		pthread_mutex_unlock(&e->lock);
		policy_set_unref(set);
		return;
	}
	atomic_init(&n->refs, 1);
	for (int i = 0; i < POLICY_N_LEVELS; i++)
		n->sets[i] = i == (int)level ? set : policy_set_ref(old->sets[i]);
	n->version = old->version + 1;
	e->cur = n;
	atomic_store_explicit(&e->version, n->version, memory_order_release);
	pthread_mutex_unlock(&e->lock);
	policy__snap_unref(old);
}

int policy_engine_reload(struct policy_engine *e, enum policy_level level, const char *path,
			 ombx_err *err)
{
	struct policy_set *s;
	uint64_t before = policy_engine_version(e);
	int r;

	if ((unsigned)level >= POLICY_N_LEVELS)
		return ombx_err_set(err, EINVAL, "no such policy level");
	r = policy_set_load(path, &s, err);
	if (r < 0)
		return r; /* the level keeps its set */
	policy_engine_swap(e, level, s);
	if (policy_engine_version(e) == before)
		return ombx_err_set(err, ENOMEM, "%s: out of memory installing the policy", path);
	return 0;
}

/* ---- sessions ---- */

int policy_session_new(struct policy_engine *e, struct policy_session **out)
{
	struct policy_session *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	policy__engine_hold(e);
	s->engine = e;
	s->version = policy__engine_version_relaxed(e);
	s->snap = policy__engine_snap(e);
	*out = s;
	return 0;
}

void policy_session_free(struct policy_session *s)
{
	if (!s)
		return;
	policy__snap_unref(s->snap);
	policy__state_free(&s->st);
	policy__engine_drop(s->engine);
	free(s);
}

int64_t policy_session_value(const struct policy_session *s, const char *name)
{
	return policy__state_get(&s->st, name, strlen(name), policy__hash(name, strlen(name)));
}

int64_t policy_session_spend(const struct policy_session *s)
{
	return s->st.spend;
}
