/* sched_wait.c - a coroutine's waits on descriptors (see sched.c): each
 * descriptor it waits on is enrolled once in its worker's epoll set,
 * edge-triggered; readiness seen by the worker is kept per descriptor until
 * the coroutine finds the descriptor would block (proxy__sched_blocked), so
 * a wait sleeps only when there is nothing to do. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "proxy/internal.h"
#include "proxy/sched_int.h"

static struct fdent *fdent(struct worker *w, int fd)
{
	if (fd < 0)
		return NULL;
	if ((size_t)fd >= w->n_fds) {
		size_t n = w->n_fds ? w->n_fds : 256;
		struct fdent *f;
		while (n <= (size_t)fd)
			n *= 2;
		f = realloc(w->fds, n * sizeof(*f));
		if (!f)
			return NULL;
		memset(f + w->n_fds, 0, (n - w->n_fds) * sizeof(*f));
		w->fds = f;
		w->n_fds = n;
	}
	return &w->fds[fd];
}

/* Puts fd in the worker's epoll set for co, edge-triggered, for as long as
 * co runs or until proxy__close: no epoll_ctl per wait. */
static int enroll(struct worker *w, struct coro *co, int fd, struct fdent **out)
{
	struct fdent *e = fdent(w, fd);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u64 = (uint64_t)fd};

	if (!e)
		return fd < 0 ? -EBADF : -ENOMEM;
	*out = e;
	if (e->owner == co)
		return 0;
	if (e->owner || co->n_fds == SCHED_CORO_FDS)
		return -EBUSY; /* another connection's descriptor: a bug, refused */
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 &&
	    (errno != EEXIST || epoll_ctl(w->epfd, EPOLL_CTL_MOD, fd, &ev) < 0))
		return -errno;
	*e = (struct fdent){.owner = co}; /* readiness comes as the first edge */
	co->fds[co->n_fds++] = fd;
	return 0;
}

/* Forgets fd (closed, or leaving with its coroutine). */
void proxy__sched_unenroll(struct worker *w, struct coro *co, int fd, bool del)
{
	for (unsigned i = 0; i < co->n_fds; i++) {
		if (co->fds[i] != fd)
			continue;
		co->fds[i] = co->fds[--co->n_fds];
		if (del)
			epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
		w->fds[fd] = (struct fdent){0};
		return;
	}
}

static uint32_t ready_for(const struct fdent *e, short events)
{
	return e->ready & ((uint32_t)events | EPOLLERR | EPOLLHUP);
}

int proxy__poll(struct pollfd *pfd, unsigned n, int timeout_ms)
{
	struct worker *w = proxy__sched_self;
	struct coro *co = w ? w->cur : NULL;
	int ready = 0, err = 0;

	if (!co)
		return poll(pfd, n, timeout_ms);
	for (unsigned i = 0; i < n; i++) {
		struct fdent *e;
		pfd[i].revents = 0;
		if (pfd[i].fd < 0)
			continue;
		err = -enroll(w, co, pfd[i].fd, &e);
		if (err == EBADF || err == EPERM) { /* as poll(2) reports them */
			pfd[i].revents = POLLNVAL;
			err = 0;
			ready++;
			continue;
		}
		if (err)
			break;
		if (ready_for(e, pfd[i].events))
			ready++;
	}
	if (!err && !ready) {
		for (unsigned i = 0; i < n; i++)
			if (pfd[i].fd >= 0) {
				w->fds[pfd[i].fd].waiter = co;
				w->fds[pfd[i].fd].want = (uint32_t)pfd[i].events;
			}
		co->deadline = timeout_ms < 0 ? -1 : proxy__now_ms() + timeout_ms;
		proxy__sched_wait_add(w, co);
		proxy__sched_yield(w, co);
	}
	for (unsigned i = 0; i < n; i++) {
		struct fdent *e;
		if (pfd[i].fd < 0 || pfd[i].revents == POLLNVAL)
			continue;
		if ((size_t)pfd[i].fd >= w->n_fds || (e = &w->fds[pfd[i].fd])->owner != co)
			continue;
		e->waiter = NULL;
		pfd[i].revents = (short)ready_for(e, pfd[i].events);
	}
	ready = 0;
	for (unsigned i = 0; i < n; i++)
		ready += pfd[i].revents != 0;
	if (err) {
		errno = err;
		return -1;
	}
	return ready;
}

void proxy__sched_tick(void)
{
	struct worker *w = proxy__sched_self;
	struct coro *co = w ? w->cur : NULL;

	if (!co || ++co->ops < SCHED_OPS_TURN)
		return;
	proxy__sched_runq_push(w, co); /* behind everyone ready now */
	proxy__sched_yield(w, co);
}

void proxy__sched_blocked(int fd, short events)
{
	struct worker *w = proxy__sched_self;

	if (w && w->cur && fd >= 0 && (size_t)fd < w->n_fds && w->fds[fd].owner == w->cur)
		w->fds[fd].ready &= ~(uint32_t)events;
}

bool proxy__sched_ready(int fd, short events)
{
	struct worker *w = proxy__sched_self;

	if (!w || !w->cur || fd < 0 || (size_t)fd >= w->n_fds || w->fds[fd].owner != w->cur)
		return true;
	return ready_for(&w->fds[fd], events) != 0;
}

void proxy__close(int fd)
{
	struct worker *w = proxy__sched_self;

	if (w && w->cur && fd >= 0 && (size_t)fd < w->n_fds && w->fds[fd].owner == w->cur)
		proxy__sched_unenroll(w, w->cur, fd, false); /* close(2) takes it out of the set */
	close(fd);
}
