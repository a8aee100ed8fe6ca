/* sched_int.h - what sched.c (workers, coroutines) and sched_wait.c
 * (descriptors and waits) share; never installed, not for other files. */
#ifndef OMBX_PROXY_SCHED_INT_H
#define OMBX_PROXY_SCHED_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "proxy/ctx.h"

#define SCHED_WORKERS_MAX 16
#define SCHED_STACKS_KEPT 32 /* free stacks a worker keeps for new coroutines */
#define SCHED_EVENTS      64
#define SCHED_INBOX       UINT64_MAX /* epoll data of a worker's eventfd */
#define SCHED_CORO_FDS    8 /* descriptors one coroutine waits on at once */
#define SCHED_OPS_TURN    64 /* reads and writes a coroutine makes before it lets others run */

struct worker;

struct coro {
	struct proxy_ctx ctx;
	char *stack; /* PROXY_THREAD_STACK bytes above one guard page */
	void *(*fn)(void *);
	void *arg;
	struct coro *next;          /* inbox or run queue */
	struct coro *wprev, *wnext; /* the worker's waiting list */
	bool started, done, queued, waiting;
	int64_t deadline; /* of the current wait; -1 none */
	int fds[SCHED_CORO_FDS]; /* enrolled in the worker's epoll set */
	unsigned n_fds;
	unsigned ops; /* since it was last switched in */
	void *fake_stack; /* ASan's, while switched away */
};

/* A descriptor in a worker's epoll set, edge-triggered: ready holds the
 * events seen since the coroutine last found the descriptor would block
 * (proxy__sched_blocked), which is when it waits. */
struct fdent {
	struct coro *owner;  /* the coroutine that enrolled it; NULL: not in the set */
	struct coro *waiter; /* owner while it waits on it */
	uint32_t ready, want;
};

struct worker {
	pthread_t thread;
	int epfd, evfd;
	pthread_mutex_t lock; /* inbox, stacks, n_coros, stop */
	struct coro *inbox, *inbox_tail;
	char *stacks[SCHED_STACKS_KEPT];
	unsigned n_stacks;
	unsigned n_coros; /* started or queued here */
	bool stop;
	/* touched only by the worker's own thread */
	struct coro *runq, *runq_tail;
	struct coro *waiting;
	int64_t next_deadline;
	struct fdent *fds;
	size_t n_fds;
	struct proxy_ctx main_ctx;
	struct coro *cur;
	void *fake_stack; /* ASan's: the thread's own stack while a coroutine runs */
	const void *main_bottom;
	size_t main_size;
};

struct proxy_sched {
	struct worker w[SCHED_WORKERS_MAX];
	unsigned n;
	atomic_uint next;
};

/* The worker this thread is (NULL: not a worker). */
extern __thread struct worker *proxy__sched_self;

void proxy__sched_yield(struct worker *w, struct coro *co); /* back to the worker's loop */
void proxy__sched_runq_push(struct worker *w, struct coro *co);
void proxy__sched_wait_add(struct worker *w, struct coro *co); /* co->deadline set */
/* Takes fd out of co's descriptors (and, with del, out of the epoll set). */
void proxy__sched_unenroll(struct worker *w, struct coro *co, int fd, bool del);

#endif
