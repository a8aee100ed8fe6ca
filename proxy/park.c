/* park.c - idle keep-alive connections without a thread each.
 *
 * A connection whose client stays quiet for PROXY_PARK_AFTER_MS is handed to
 * one epoll thread: its coroutine ends (its stack is the biggest part of an
 * idle connection's memory) and its read buffer is freed. When the client
 * sends again, a new coroutine picks the connection up where it was. The
 * parking thread also closes a parked connection's upstream after
 * PROXY_UPSTREAM_PARKED_MS and the whole connection after the idle timeout.
 * Everything about a parked connection is touched only under p->lock. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "proxy/internal.h"

#define PARK_TICK_MS 500

static void sweep_locked(struct proxy *p)
{
	int64_t now = proxy__now_ms();
	struct proxy_conn *c = p->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (!c->parked)
			continue;
		if (now - c->parked_at >= p->o.idle_timeout_ms) {
			epoll_ctl(p->park_fd, EPOLL_CTL_DEL, c->c.fd, NULL);
			proxy__conn_free_locked(c);
		} else if (c->up.open && now - c->parked_at >= PROXY_UPSTREAM_PARKED_MS) {
			proxy__upstream_close(&c->up);
		}
	}
}

static void *park_main(void *arg)
{
	struct proxy *p = arg;
	struct epoll_event ev[64];
	int64_t last_sweep = proxy__now_ms();

	for (;;) {
		int n = epoll_wait(p->park_fd, ev, 64, PARK_TICK_MS);

		pthread_mutex_lock(&p->lock);
		if (p->stopping) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			struct proxy_conn *c = ev[i].data.ptr;
			if (!c || !c->parked) /* NULL: the stop eventfd */
				continue;
			epoll_ctl(p->park_fd, EPOLL_CTL_DEL, c->c.fd, NULL);
			c->parked = false;
			if (proxy__sched_spawn(p, proxy__conn_resume, c) < 0)
				proxy__conn_free_locked(c);
		}
		if (proxy__now_ms() - last_sweep >= PARK_TICK_MS) {
			sweep_locked(p);
			last_sweep = proxy__now_ms();
		}
		pthread_mutex_unlock(&p->lock);
	}
}

int proxy__park_init(struct proxy *p, ombx_err *err)
{
	p->park_fd = epoll_create1(EPOLL_CLOEXEC);
	if (p->park_fd < 0)
		return ombx_err_errno(err, errno, "proxy: epoll_create1");
	/* proxy_stop's eventfd wakes us at once (it stays readable) */
	if (epoll_ctl(p->park_fd, EPOLL_CTL_ADD, p->wake_fd,
		      &(struct epoll_event){.events = EPOLLIN, .data.ptr = NULL}) < 0)
		return ombx_err_errno(err, errno, "proxy: epoll_ctl");
	if (pthread_create(&p->park_thread, NULL, park_main, p) != 0)
		return ombx_err_set(err, EAGAIN, "proxy: cannot start the parking thread");
	p->park_started = true;
	return 0;
}

void proxy__park_stop(struct proxy *p)
{
	struct proxy_conn *c, *next;

	if (p->park_started) {
		pthread_join(p->park_thread, NULL); /* woken by the stop eventfd */
		p->park_started = false;
	}
	pthread_mutex_lock(&p->lock);
	for (c = p->conns; c; c = next) {
		next = c->next;
		if (c->parked)
			proxy__conn_free_locked(c);
	}
	pthread_mutex_unlock(&p->lock);
}

int proxy__park(struct proxy_conn *c)
{
	struct proxy *p = c->p;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, .data.ptr = c};
	int r = 0;

	/* an idle connection keeps no buffers: ours, and OpenSSL's (which a
	 * busy one keeps, rather than freeing them after every record) */
	if (c->c.ssl)
		SSL_free_buffers(c->c.ssl);
	if (c->up.open && c->up.io.ssl)
		SSL_free_buffers(c->up.io.ssl);
	free(c->ubuf);
	c->ubuf = NULL;
	c->ubuf_cap = 0;
	free(c->buf); /* nothing is buffered: the caller checked */
	c->buf = NULL;
	c->cap = c->off = c->len = 0;
	pthread_mutex_lock(&p->lock);
	if (p->stopping) {
		r = -ESHUTDOWN;
	} else {
		c->parked = true;
		c->parked_at = proxy__now_ms();
		if (epoll_ctl(p->park_fd, EPOLL_CTL_ADD, c->c.fd, &ev) < 0) {
			r = -errno;
			c->parked = false;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}
