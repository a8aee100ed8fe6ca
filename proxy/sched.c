/* sched.c - connections as coroutines on a few event-loop threads.
 *
 * A connection's code reads as if it had a thread of its own: it reads,
 * writes and waits with deadlines (io.c, tls.c, upstream.c, relay.c). Here
 * each active connection runs as a coroutine on one of a few worker threads
 * (one per CPU). Where it would block in poll(2) it waits on its
 * descriptors in its worker's epoll set (sched_wait.c) and yields; the
 * worker runs whichever connections are ready, many per wakeup, instead of
 * a thread sleeping and waking twice per request. A coroutine that never
 * waits yields every SCHED_OPS_TURN reads and writes (proxy__sched_tick).
 *
 * Rules for code that runs in a coroutine:
 *  - never hold a mutex across proxy__poll: another coroutine of the same
 *    thread may want it, and the thread would deadlock;
 *  - a call that can block for long (name resolution, asking a human) goes
 *    through proxy__sched_block, which runs it on a thread of its own;
 *  - a coroutine stays on the worker that started it.
 * Short waits on a mutex or condition variable (the audit log, a leaf
 * certificate another worker is minting) only pause the worker briefly. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/err.h>

#include "proxy/ctx.h"
#include "proxy/internal.h"
#include "proxy/sched_int.h"

#if defined(__SANITIZE_ADDRESS__)
#define SCHED_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCHED_ASAN 1
#endif
#endif
#ifdef SCHED_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

__thread struct worker *proxy__sched_self;

static size_t stack_total(void)
{
	return PROXY_THREAD_STACK + (size_t)sysconf(_SC_PAGESIZE);
}

static char *stack_new(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, stack_total(), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

	if (m == MAP_FAILED)
		return NULL;
	if (mprotect(m, page, PROT_NONE) < 0) { /* the guard: an overflow faults */
		munmap(m, stack_total());
		return NULL;
	}
	return m + page;
}

static void stack_free(char *st)
{
	munmap(st - sysconf(_SC_PAGESIZE), stack_total());
}

/* ---- switching ---- */

static void asan_enter(void **save, const void *bottom, size_t size)
{
#ifdef SCHED_ASAN
	__sanitizer_start_switch_fiber(save, bottom, size);
#else
	(void)save, (void)bottom, (void)size;
#endif
}

static void asan_entered(void *save, const void **bottom, size_t *size)
{
#ifdef SCHED_ASAN
	__sanitizer_finish_switch_fiber(save, bottom, size);
#else
	(void)save, (void)bottom, (void)size;
#endif
}

static void trampoline(void)
{
	struct worker *w = proxy__sched_self;
	struct coro *co = w->cur;

	asan_entered(NULL, &w->main_bottom, &w->main_size);
	co->fn(co->arg);
	co->done = true;
	asan_enter(NULL, w->main_bottom, w->main_size); /* NULL: this fiber ends */
	proxy__ctx_switch(&co->ctx, &w->main_ctx); /* never resumed */
	abort();
}

/* The worker runs co until it waits or ends. */
static void run(struct worker *w, struct coro *co)
{
	if (!co->started) {
		co->started = true;
		proxy__ctx_make(&co->ctx, co->stack, PROXY_THREAD_STACK, trampoline);
	}
	w->cur = co;
	co->ops = 0;
	ERR_clear_error(); /* OpenSSL's error queue is the thread's: start clean */
	asan_enter(&w->fake_stack, co->stack, PROXY_THREAD_STACK);
	proxy__ctx_switch(&w->main_ctx, &co->ctx);
	asan_entered(w->fake_stack, NULL, NULL);
	w->cur = NULL;
	if (!co->done)
		return;
	while (co->n_fds) /* still open (a parked client): out of our set */
		proxy__sched_unenroll(w, co, co->fds[0], true);
	pthread_mutex_lock(&w->lock);
	if (w->n_stacks < SCHED_STACKS_KEPT)
		w->stacks[w->n_stacks++] = co->stack;
	else
		stack_free(co->stack);
	w->n_coros--;
	pthread_mutex_unlock(&w->lock);
	free(co);
}

void proxy__sched_yield(struct worker *w, struct coro *co)
{
	asan_enter(&co->fake_stack, w->main_bottom, w->main_size);
	proxy__ctx_switch(&co->ctx, &w->main_ctx);
	asan_entered(co->fake_stack, &w->main_bottom, &w->main_size);
}

/* ---- the worker's queues ---- */

void proxy__sched_runq_push(struct worker *w, struct coro *co)
{
	if (co->queued)
		return;
	co->queued = true;
	co->next = NULL;
	if (w->runq_tail)
		w->runq_tail->next = co;
	else
		w->runq = co;
	w->runq_tail = co;
}

static struct coro *runq_pop(struct worker *w)
{
	struct coro *co = w->runq;

	if (co) {
		w->runq = co->next;
		if (!w->runq)
			w->runq_tail = NULL;
		co->queued = false;
	}
	return co;
}

void proxy__sched_wait_add(struct worker *w, struct coro *co)
{
	co->waiting = true;
	co->wprev = NULL;
	co->wnext = w->waiting;
	if (w->waiting)
		w->waiting->wprev = co;
	w->waiting = co;
	if (co->deadline >= 0 && co->deadline < w->next_deadline)
		w->next_deadline = co->deadline;
}

/* Ends co's wait (an event or its deadline) and makes it runnable. */
static void wake(struct worker *w, struct coro *co)
{
	if (!co->waiting)
		return;
	co->waiting = false;
	if (co->wprev)
		co->wprev->wnext = co->wnext;
	else
		w->waiting = co->wnext;
	if (co->wnext)
		co->wnext->wprev = co->wprev;
	proxy__sched_runq_push(w, co);
}

static void expire(struct worker *w, int64_t now)
{
	struct coro *co, *next;

	if (now < w->next_deadline)
		return;
	w->next_deadline = INT64_MAX;
	for (co = w->waiting; co; co = next) {
		next = co->wnext;
		if (co->deadline >= 0 && co->deadline <= now)
			wake(w, co);
		else if (co->deadline >= 0 && co->deadline < w->next_deadline)
			w->next_deadline = co->deadline;
	}
}

/* ---- the worker's loop ---- */

static void take_inbox(struct worker *w)
{
	struct coro *co, *next;

	(void)!read(w->evfd, &(uint64_t){0}, sizeof(uint64_t));
	pthread_mutex_lock(&w->lock);
	co = w->inbox;
	w->inbox = w->inbox_tail = NULL;
	pthread_mutex_unlock(&w->lock);
	for (; co; co = next) {
		next = co->next;
		proxy__sched_runq_push(w, co);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event ev[SCHED_EVENTS];

	proxy__sched_self = w;
	w->next_deadline = INT64_MAX;
	for (;;) {
		int64_t now = proxy__now_ms();
		int timeout = -1, n;
		bool stop;

		/* each coroutine that was ready runs once per round */
		for (struct coro *co, *last = w->runq_tail; (co = runq_pop(w));) {
			run(w, co);
			if (co == last)
				break;
		}
		pthread_mutex_lock(&w->lock);
		stop = w->stop && w->n_coros == 0;
		pthread_mutex_unlock(&w->lock);
		if (stop)
			break;
		if (w->runq)
			timeout = 0;
		else if (w->next_deadline != INT64_MAX)
			timeout = w->next_deadline <= now ? 0
				  : w->next_deadline - now > 60000
					  ? 60000
					  : (int)(w->next_deadline - now);
		n = epoll_wait(w->epfd, ev, SCHED_EVENTS, timeout);
		for (int i = 0; i < n; i++) {
			uint64_t fd = ev[i].data.u64;
			struct fdent *e;
			if (fd == SCHED_INBOX) {
				take_inbox(w);
				continue;
			}
			if (fd >= w->n_fds)
				continue;
			e = &w->fds[fd];
			if (!e->owner)
				continue; /* closed since: the event was queued before */
			e->ready |= ev[i].events;
			if (e->waiter && (ev[i].events & (e->want | EPOLLERR | EPOLLHUP)))
				wake(w, e->waiter);
		}
		expire(w, proxy__now_ms());
	}
	free(w->fds);
	return NULL;
}

/* ---- the public side ---- */

int proxy__sched_spawn(struct proxy *p, void *(*fn)(void *), void *arg)
{
	struct proxy_sched *s = p->sched;
	struct worker *w = &s->w[atomic_fetch_add(&s->next, 1) % s->n];
	struct coro *co = calloc(1, sizeof(*co));
	char *stack = NULL;

	if (!co)
		return -ENOMEM;
	pthread_mutex_lock(&w->lock);
	if (w->stop) {
		pthread_mutex_unlock(&w->lock);
		free(co);
		return -ESHUTDOWN;
	}
	if (w->n_stacks)
		stack = w->stacks[--w->n_stacks];
	pthread_mutex_unlock(&w->lock);
	if (!stack)
		stack = stack_new();
	if (!stack) {
		free(co);
		return -ENOMEM;
	}
	co->stack = stack;
	co->fn = fn;
	co->arg = arg;
	co->deadline = -1;
	pthread_mutex_lock(&w->lock);
	if (w->inbox_tail)
		w->inbox_tail->next = co;
	else
		w->inbox = co;
	w->inbox_tail = co;
	w->n_coros++;
	pthread_mutex_unlock(&w->lock);
	(void)!write(w->evfd, &(uint64_t){1}, sizeof(uint64_t));
	return 0;
}

struct blocking {
	void (*fn)(void *);
	void *arg;
	int efd;
};

static void *blocking_main(void *arg)
{
	struct blocking *b = arg;
	int efd = b->efd; /* b lives on the waiting coroutine's stack */

	b->fn(b->arg);
	(void)!write(efd, &(uint64_t){1}, sizeof(uint64_t));
	return NULL;
}

int proxy__sched_block(void (*fn)(void *), void *arg)
{
	struct blocking b = {.fn = fn, .arg = arg};
	pthread_attr_t attr;
	pthread_t t;
	int r;

	if (!proxy__sched_self || !proxy__sched_self->cur) {
		fn(arg);
		return 0;
	}
	b.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b.efd < 0)
		return -errno;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, PROXY_THREAD_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&t, &attr, blocking_main, &b); /* signals: all blocked */
	pthread_attr_destroy(&attr);
	if (r != 0) {
		close(b.efd);
		return -r;
	}
	for (;;) {
		struct pollfd pfd = {.fd = b.efd, .events = POLLIN};
		uint64_t v;
		if (read(b.efd, &v, sizeof(v)) == sizeof(v))
			break;
		proxy__sched_blocked(b.efd, POLLIN);
		proxy__poll(&pfd, 1, -1);
	}
	proxy__close(b.efd);
	return 0;
}

static unsigned default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > SCHED_WORKERS_MAX ? SCHED_WORKERS_MAX : (unsigned)n;
}

int proxy__sched_init(struct proxy *p, unsigned n, ombx_err *err)
{
	struct proxy_sched *s = calloc(1, sizeof(*s));
	sigset_t all, old;
	int r = 0;

	if (!s)
		return ombx_err_set(err, ENOMEM, "proxy: out of memory");
	p->sched = s;
	n = n ? n : default_workers();
	if (n > SCHED_WORKERS_MAX)
		n = SCHED_WORKERS_MAX;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* signals go to the embedder */
	for (; s->n < n; s->n++) {
		struct worker *w = &s->w[s->n];
		w->epfd = w->evfd = -1;
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (w->epfd < 0 || w->evfd < 0 ||
		    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->evfd,
			      &(struct epoll_event){.events = EPOLLIN, .data.u64 = SCHED_INBOX}) < 0) {
			r = ombx_err_errno(err, errno, "proxy: cannot make a worker's epoll set");
			break;
		}
		pthread_mutex_init(&w->lock, NULL);
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			pthread_mutex_destroy(&w->lock);
			r = ombx_err_set(err, EAGAIN, "proxy: cannot start a worker thread");
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) { /* the half-made worker */
		if (s->w[s->n].epfd >= 0)
			close(s->w[s->n].epfd);
		if (s->w[s->n].evfd >= 0)
			close(s->w[s->n].evfd);
	}
	return r;
}

void proxy__sched_stop(struct proxy *p)
{
	struct proxy_sched *s = p->sched;

	if (!s)
		return;
	for (unsigned i = 0; i < s->n; i++) {
		struct worker *w = &s->w[i];
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		pthread_mutex_unlock(&w->lock);
		(void)!write(w->evfd, &(uint64_t){1}, sizeof(uint64_t));
	}
	for (unsigned i = 0; i < s->n; i++) {
		struct worker *w = &s->w[i];
		pthread_join(w->thread, NULL);
		for (unsigned k = 0; k < w->n_stacks; k++)
			stack_free(w->stacks[k]);
		close(w->epfd);
		close(w->evfd);
		pthread_mutex_destroy(&w->lock);
	}
	free(s);
	p->sched = NULL;
}
