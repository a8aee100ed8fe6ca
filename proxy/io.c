/* io.c - reads and writes over a non-blocking socket, with or without TLS,
 * each bounded by a deadline: a peer that stops sending or reading costs a
 * connection's coroutine only until the deadline (slowloris). */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>

#include "proxy/internal.h"

int64_t proxy__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until deadline (< 0: forever). 1, 0 on timeout, -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = events};
		int ms = -1, r;

		if (deadline >= 0) {
			int64_t left = deadline - proxy__now_ms();
			if (left <= 0)
				return 0;
			ms = left > 60000 ? 60000 : (int)left;
		}
		r = proxy__poll(&pfd, 1, ms);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static int64_t deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : proxy__now_ms() + timeout_ms;
}

/* After a failed SSL_read_ex/SSL_write_ex: 1 with *ev the poll events to
 * wait for, 0 for a clean end of stream, or -errno. */
static int ssl_step(SSL *ssl, int r, short *ev)
{
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		*ev = POLLIN;
		return 1;
	case SSL_ERROR_WANT_WRITE:
		*ev = POLLOUT;
		return 1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		return errno ? -errno : -ECONNRESET;
	default:
		ERR_clear_error();
		return -EPROTO;
	}
}

/* A read(2) that returned less than asked for left the socket empty: bytes
 * arriving after it come with an event of their own. Telling the worker
 * spares a wait its look at the socket (proxy__wait_readable) and the
 * upstream's reuse check their poll. */
static long watch_reads(BIO *b, int oper, const char *argp, size_t len, int argi, long argl,
			int ret, size_t *processed)
{
	(void)argp, (void)argi, (void)argl;
	if (oper == (BIO_CB_READ | BIO_CB_RETURN) && ret > 0 && processed && *processed > 0 &&
	    *processed < len)
		proxy__sched_blocked((int)BIO_get_fd(b, NULL), POLLIN);
	return ret;
}

void proxy__pio_watch(struct pio *p)
{
	BIO *b = SSL_get_rbio(p->ssl);

	if (b)
		BIO_set_callback_ex(b, watch_reads);
}

ssize_t proxy__read(struct pio *p, void *buf, size_t n, int timeout_ms)
{
	int64_t deadline = deadline_of(timeout_ms);

	p->readable = false;
	proxy__sched_tick();
	for (;;) {
		short ev = POLLIN;
		int w;

		/* nothing buffered and nothing arrived since a read left the
		 * socket empty: a read(2) would only say EAGAIN */
		if (!(p->ssl && SSL_has_pending(p->ssl)) && !proxy__sched_ready(p->fd, POLLIN))
			goto wait;
		if (p->ssl) {
			size_t got = 0;
			int r;

			errno = 0;
			r = SSL_read_ex(p->ssl, buf, n, &got);
			if (r == 1) {
				p->bytes_in += got;
				return (ssize_t)got;
			}
			r = ssl_step(p->ssl, 0, &ev);
			if (r <= 0)
				return r;
		} else {
			ssize_t r = read(p->fd, buf, n);
			if (r >= 0) {
				if (r > 0 && (size_t)r < n)
					proxy__sched_blocked(p->fd, POLLIN);
				p->bytes_in += (uint64_t)r;
				return r;
			}
			if (errno != EAGAIN && errno != EINTR)
				return -errno;
		}
		proxy__sched_blocked(p->fd, ev);
	wait:
		w = wait_fd(p->fd, ev, deadline);
		if (w == 0)
			return -ETIMEDOUT;
		if (w < 0)
			return w;
	}
}

int proxy__write(struct pio *p, const void *buf, size_t n, int timeout_ms)
{
	int64_t deadline = deadline_of(timeout_ms);
	const char *s = buf;

	proxy__sched_tick();
	while (n > 0) {
		short ev = POLLOUT;
		int w;

		if (p->ssl) {
			size_t put = 0;
			int r;

			errno = 0;
			if (SSL_write_ex(p->ssl, s, n, &put) == 1) {
				s += put, n -= put;
				p->bytes_out += put;
				continue;
			}
			r = ssl_step(p->ssl, 0, &ev);
			if (r <= 0)
				return r == 0 ? -EPIPE : r;
		} else {
			ssize_t r = send(p->fd, s, n, MSG_NOSIGNAL);
			if (r >= 0) {
				s += r, n -= (size_t)r;
				p->bytes_out += (uint64_t)r;
				continue;
			}
			if (errno != EAGAIN && errno != EINTR)
				return -errno;
		}
		proxy__sched_blocked(p->fd, ev);
		w = wait_fd(p->fd, ev, deadline);
		if (w == 0)
			return -ETIMEDOUT;
		if (w < 0)
			return w;
	}
	return 0;
}

int proxy__wait_readable(struct pio *p, int timeout_ms)
{
	int r;

	if (p->readable || (p->ssl && SSL_has_pending(p->ssl)))
		return 1;
	/* The worker's readiness may be from bytes read since: look, and
	 * sleep only on an empty socket (callers park an idle client on 0). */
	if (proxy__sched_ready(p->fd, POLLIN)) {
		char b;
		ssize_t n;
		while ((n = recv(p->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT)) < 0 && errno == EINTR)
			;
		if (n >= 0 || errno != EAGAIN) /* bytes, the end, or an error to read */
			return p->readable = true, 1;
		proxy__sched_blocked(p->fd, POLLIN);
	}
	r = wait_fd(p->fd, POLLIN, deadline_of(timeout_ms));
	p->readable = r > 0;
	return r;
}

void proxy__pio_close(struct pio *p)
{
	if (p->ssl) {
		SSL_shutdown(p->ssl); /* non-blocking: one close_notify, no wait */
		SSL_free(p->ssl);
		ERR_clear_error();
		p->ssl = NULL;
	}
	if (p->fd >= 0)
		proxy__close(p->fd);
	p->fd = -1;
	p->readable = false;
}
