/* approvals.c - the approval control socket (approvals.h): creating and
 * removing the socket, the one thread serving it (poll; non-blocking reads
 * and writes; an eventfd to wake it), and the askers waiting on their own
 * condition variables with a CLOCK_MONOTONIC deadline. The protocol itself:
 * approvals_cmd.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "proxy/approvals_internal.h"

#define READS_PER_WAKE   16 /* recv()s for one client before others get a turn */
#define ACCEPTS_PER_WAKE 16
#define ACCEPT_PAUSE_MS  100 /* out of fds: stop polling the listener this long */

void proxy__approvals_wake(struct proxy_approvals *a)
{
	uint64_t one = 1;

	/* Fails only when the counter is full: the thread is awake anyway. */
	(void)!write(a->wake_fd, &one, sizeof(one));
}

/* ---- the serving thread ---- */

static void drop(struct proxy_approvals *a, size_t i)
{
	struct proxy__client *c = a->clients[i];

	close(c->fd);
	free(c);
	a->clients[i] = NULL;
	a->n_clients--;
}

static void flush(struct proxy__client *c)
{
	while (c->out_len && !c->dead) {
		ssize_t w = send(c->fd, c->out, c->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->dead = true;
			return;
		}
		memmove(c->out, c->out + w, c->out_len - (size_t)w);
		c->out_len -= (size_t)w;
	}
}

/* An error reply, then the connection closes: what follows a line cut
 * short cannot be trusted to be a line. */
static void too_long(struct proxy__client *c)
{
	proxy__approvals_reply_error(c, "request line over 4096 bytes; closing");
	flush(c);
	c->dead = true;
}

/* Runs the complete lines in c->in; keeps an unfinished one. */
static void take_lines(struct proxy_approvals *a, struct proxy__client *c)
{
	size_t start = 0;
	char *nl;

	while (!c->dead && (nl = memchr(c->in + start, '\n', c->in_len - start))) {
		size_t len = (size_t)(nl - (c->in + start));
		if (len - (len && c->in[start + len - 1] == '\r') > PROXY_APPROVALS_LINE_MAX) {
			too_long(c);
			return;
		}
		proxy__approvals_line(a, c, c->in + start, len);
		start += len + 1;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
}

static void on_readable(struct proxy_approvals *a, struct proxy__client *c)
{
	for (int i = 0; i < READS_PER_WAKE && !c->dead && !c->eof; i++) {
		/* One byte always stays free: a line's end is NUL-terminated in place. */
		ssize_t r =
			recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->dead = true;
			return;
		}
		if (r == 0) {
			c->eof = true;
			if (c->in_len > PROXY_APPROVALS_LINE_MAX)
				too_long(c);
			else if (c->in_len) /* a last line without its newline */
				proxy__approvals_line(a, c, c->in, c->in_len);
			c->in_len = 0;
			return;
		}
		c->in_len += (size_t)r;
		take_lines(a, c);
		if (!c->dead && c->in_len == sizeof(c->in) - 1)
			too_long(c); /* full, and still no line end */
	}
}

static void on_accept(struct proxy_approvals *a, int64_t *pause_until)
{
	uid_t me = geteuid();

	for (int i = 0; i < ACCEPTS_PER_WAKE; i++) {
		struct ucred cr;
		socklen_t len = sizeof(cr);
		struct proxy__client *c;
		size_t slot = 0;
		int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				*pause_until = proxy__approvals_now_ms() + ACCEPT_PAUSE_MS;
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 ||
		    (cr.uid != me && cr.uid != 0)) {
			close(fd); /* not ours: no word */
			continue;
		}
		if (a->n_clients == PROXY_APPROVALS_CLIENTS_MAX || !(c = calloc(1, sizeof(*c)))) {
			static const char busy[] = "{\"ok\":false,\"error\":\"too many control "
						   "connections\"}\n";
			(void)!send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->uid = cr.uid;
		c->pid = cr.pid;
		while (a->clients[slot])
			slot++;
		a->clients[slot] = c;
		a->n_clients++;
	}
}

/* After a round: send what is queued, feed watchers, close the finished. */
static void sweep(struct proxy_approvals *a)
{
	for (size_t i = 0; i < PROXY_APPROVALS_CLIENTS_MAX; i++) {
		struct proxy__client *c = a->clients[i];
		if (!c)
			continue;
		/* Until the socket takes no more (POLLOUT brings us back) or there
		 * is nothing left to send: a watcher behind on asks always has
		 * output waiting, or it would never be woken to catch up. */
		for (;;) {
			uint64_t seq = c->sent_seq;
			flush(c);
			if (c->dead || c->out_len)
				break;
			proxy__approvals_pump(a, c);
			if (c->sent_seq == seq)
				break;
		}
		if (c->dead || (c->eof && !c->watching && c->out_len == 0))
			drop(a, i);
	}
}

static void *serve(void *arg)
{
	struct proxy_approvals *a = arg;
	struct pollfd pfd[2 + PROXY_APPROVALS_CLIENTS_MAX];
	struct proxy__client *who[PROXY_APPROVALS_CLIENTS_MAX];
	int64_t pause_until = 0;

	pthread_mutex_lock(&a->lock);
	while (!a->stop) {
		size_t n = 0;
		int64_t now = proxy__approvals_now_ms();
		bool paused = pause_until > now;

		pfd[0] = (struct pollfd){.fd = a->wake_fd, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = paused ? -1 : a->listen_fd, .events = POLLIN};
		for (size_t i = 0; i < PROXY_APPROVALS_CLIENTS_MAX; i++) {
			struct proxy__client *c = a->clients[i];
			if (!c)
				continue;
			pfd[2 + n] = (struct pollfd){
				.fd = c->fd,
				.events =
					(short)((c->eof ? 0 : POLLIN) | (c->out_len ? POLLOUT : 0)),
			};
			who[n++] = c;
		}
		pthread_mutex_unlock(&a->lock);
		poll(pfd, 2 + n, paused ? (int)(pause_until - now) : -1);
		pthread_mutex_lock(&a->lock);
		if (pfd[0].revents & POLLIN) {
			uint64_t v;
			(void)!read(a->wake_fd, &v, sizeof(v));
		}
		for (size_t i = 0; i < n; i++) {
			short ev = pfd[2 + i].revents;
			if (ev & POLLERR || (ev & POLLHUP && who[i]->eof))
				who[i]->dead = true;
			else if (ev & (POLLIN | POLLHUP))
				on_readable(a, who[i]);
		}
		if (pfd[1].revents & POLLIN)
			on_accept(a, &pause_until);
		sweep(a);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/* ---- the socket ---- */

/* Makes path free for bind: nothing there, or a socket of ours that no
 * server answers on (removed). */
static int clear_stale(const char *path, const struct sockaddr_un *sa, ombx_err *err)
{
	struct stat st;
	_cleanup_close_ int fd = -1;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return ombx_err_errno(err, errno, "approval socket %s", path);
	}
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
		return ombx_err_set(err, EEXIST,
				    "approval socket %s: something that is not a socket of ours is "
				    "there; refusing to replace it (move it away)",
				    path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return ombx_err_errno(err, errno, "approval socket %s: socket", path);
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno == EAGAIN ||
	    errno == EINPROGRESS)
		return ombx_err_set(err, EADDRINUSE,
				    "approval socket %s: another proxy is serving it (stop it, or "
				    "name another socket)",
				    path);
	if (errno != ECONNREFUSED)
		return ombx_err_errno(err, errno, "approval socket %s: probing it", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return ombx_err_errno(err, errno, "approval socket %s: removing the stale one",
				      path);
	return 0;
}

static int listen_on(struct proxy_approvals *a, ombx_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int r;

	if (strlen(a->path) >= sizeof(sa.sun_path))
		return ombx_err_set(err, ENAMETOOLONG,
				    "approval socket %s: the path is longer than %zu bytes",
				    a->path, sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, a->path, strlen(a->path));
	r = clear_stale(a->path, &sa, err);
	if (r < 0)
		return r;
	a->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (a->listen_fd < 0)
		return ombx_err_errno(err, errno, "approval socket %s: socket", a->path);
	/* Linux creates the node with the socket inode's mode: 0600 from the
	 * start, whatever the umask. The chmod below covers other kernels. */
	(void)fchmod(a->listen_fd, 0600);
	if (bind(a->listen_fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
		return ombx_err_errno(err, errno, "approval socket %s: bind%s", a->path,
				      errno == ENOENT ? " (does its directory exist?)" : "");
	if (lstat(a->path, &st) < 0)
		return ombx_err_errno(err, errno, "approval socket %s", a->path);
	a->bound = true;
	a->dev = st.st_dev;
	a->ino = st.st_ino;
	if (chmod(a->path, 0600) < 0)
		return ombx_err_errno(err, errno, "approval socket %s: chmod 0600", a->path);
	if (listen(a->listen_fd, 16) < 0)
		return ombx_err_errno(err, errno, "approval socket %s: listen", a->path);
	return 0;
}

static int start(struct proxy_approvals *a, ombx_err *err)
{
	sigset_t all, old;
	int r;

	a->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->wake_fd < 0)
		return ombx_err_errno(err, errno, "approval socket %s: eventfd", a->path);
	/* The thread takes no signals: they are the embedding program's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&a->thread, NULL, serve, a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return ombx_err_errno(err, r, "approval socket %s: starting its thread", a->path);
	a->thread_started = true;
	return 0;
}

int proxy_approvals_open(const char *path, struct proxy_approvals **out, ombx_err *err)
{
	struct proxy_approvals *a = calloc(1, sizeof(*a));
	int r;

	*out = NULL;
	if (!a)
		return ombx_err_set(err, ENOMEM, "approval socket %s: out of memory", path);
	a->listen_fd = a->wake_fd = -1;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->drained, NULL);
	a->path = strdup(path);
	if (!a->path)
		r = ombx_err_set(err, ENOMEM, "approval socket %s: out of memory", path);
	else
		r = listen_on(a, err);
	if (r == 0)
		r = start(a, err);
	if (r < 0) {
		proxy_approvals_close(a);
		return r;
	}
	*out = a;
	return 0;
}

void proxy_approvals_shutdown(struct proxy_approvals *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->closing = true;
	while (a->head)
		proxy__approvals_resolve(a, a->head, PROXY_ANSWER_DENY, NULL);
	pthread_mutex_unlock(&a->lock);
}

void proxy_approvals_close(struct proxy_approvals *a)
{
	struct stat st;

	if (!a)
		return;
	proxy_approvals_shutdown(a);
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_mutex_unlock(&a->lock);
	if (a->thread_started) {
		proxy__approvals_wake(a);
		pthread_join(a->thread, NULL);
	}
	pthread_mutex_lock(&a->lock);
	while (a->inside)
		pthread_cond_wait(&a->drained, &a->lock);
	pthread_mutex_unlock(&a->lock);
	for (size_t i = 0; i < PROXY_APPROVALS_CLIENTS_MAX; i++)
		if (a->clients[i])
			drop(a, i);
	/* Only the node we bound: a successor may already have replaced it. */
	if (a->bound && lstat(a->path, &st) == 0 && st.st_dev == a->dev && st.st_ino == a->ino)
		unlink(a->path);
	if (a->listen_fd >= 0)
		close(a->listen_fd);
	if (a->wake_fd >= 0)
		close(a->wake_fd);
	pthread_cond_destroy(&a->drained);
	pthread_mutex_destroy(&a->lock);
	free(a->path);
	free(a);
}

/* ---- asking ---- */

static bool is_pending(struct proxy_approvals *a, uint64_t id)
{
	for (struct proxy__waiter *w = a->head; w; w = w->next)
		if (w->q->id == id)
			return true;
	return false;
}

/* Registers w (a->lock held); false when the ask is to be denied at once. */
static bool enqueue(struct proxy_approvals *a, struct proxy__waiter *w, const struct proxy_ask *q)
{
	if (a->closing || a->n_pending >= PROXY_APPROVALS_PENDING_MAX || q->id == 0 ||
	    q->id > INT64_MAX || is_pending(a, q->id))
		return false;
	w->q = q;
	w->seq = ++a->last_seq;
	w->since_ms = proxy__approvals_now_ms();
	w->prev = a->tail;
	if (a->tail)
		a->tail->next = w;
	else
		a->head = w;
	a->tail = w;
	a->n_pending++;
	a->inside++;
	for (size_t i = 0; i < PROXY_APPROVALS_CLIENTS_MAX; i++)
		if (a->clients[i])
			proxy__approvals_pump(a, a->clients[i]);
	proxy__approvals_wake(a);
	return true;
}

enum proxy_answer proxy_approvals_ask(void *arg, const struct proxy_ask *q, int timeout_ms,
				      char *approver, size_t approver_size)
{
	struct proxy_approvals *a = arg;
	struct proxy__waiter w = {0};
	pthread_condattr_t attr;
	struct timespec deadline;
	enum proxy_answer answer;

	if (approver && approver_size)
		approver[0] = '\0';
	if (!a || !q)
		return PROXY_ANSWER_DENY;
	if (timeout_ms <= 0)
		return PROXY_ANSWER_TIMEOUT;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	if (pthread_condattr_init(&attr) != 0)
		return PROXY_ANSWER_DENY;
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (pthread_cond_init(&w.cond, &attr) != 0) {
		pthread_condattr_destroy(&attr);
		return PROXY_ANSWER_DENY;
	}
	pthread_condattr_destroy(&attr);

	pthread_mutex_lock(&a->lock);
	if (!enqueue(a, &w, q)) {
		pthread_mutex_unlock(&a->lock);
		pthread_cond_destroy(&w.cond);
		return PROXY_ANSWER_DENY;
	}
	while (!w.answered) {
		int r = pthread_cond_timedwait(&w.cond, &a->lock, &deadline);
		if (r != 0 && !w.answered) /* fail closed on anything but a wakeup */
			proxy__approvals_resolve(
				a, &w, r == ETIMEDOUT ? PROXY_ANSWER_TIMEOUT : PROXY_ANSWER_DENY,
				NULL);
	}
	answer = w.answer;
	if (answer != PROXY_ANSWER_TIMEOUT && approver && approver_size)
		snprintf(approver, approver_size, "%s", w.approver);
	if (--a->inside == 0 && a->closing)
		pthread_cond_broadcast(&a->drained);
	pthread_mutex_unlock(&a->lock);
	pthread_cond_destroy(&w.cond);
	return answer;
}
