/* approvals_internal.h - what approvals.c (the socket, its thread, the
 * waiting askers) and approvals_cmd.c (the protocol: commands, replies,
 * events) share. Nothing outside proxy/approvals*.c includes this.
 *
 * One mutex, a->lock, guards everything below: the pending list, every
 * client's buffers and flags. Only the serving thread reads or writes a
 * client's socket, accepts or frees clients; an asker may append events to a
 * client's output (never blocking: it is a buffer) and then wakes the
 * serving thread to send them. */
#ifndef OMBX_PROXY_APPROVALS_INTERNAL_H
#define OMBX_PROXY_APPROVALS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "proxy/approvals.h"

/* One ask held for a human; lives on the asking thread's stack, in the
 * pending list until answered. */
struct proxy__waiter {
	struct proxy__waiter *prev, *next;
	const struct proxy_ask *q; /* the asker's, valid while it waits */
	uint64_t seq;              /* order of arrival, from 1 */
	int64_t since_ms;          /* CLOCK_MONOTONIC */
	pthread_cond_t cond;
	bool answered;
	enum proxy_answer answer;
	char approver[PROXY_APPROVER_MAX];
};

struct proxy__client {
	int fd;
	uid_t uid;
	pid_t pid;
	bool watching;
	bool eof;          /* the peer shut its writing side: no more commands */
	bool dead;         /* to be closed: an error, over the output bound, refused */
	uint64_t sent_seq; /* watching: asks up to this seq were sent (or gone) */
	size_t in_len, out_len;
	char in[PROXY_APPROVALS_LINE_MAX + 3]; /* a line, "\r\n", room for a NUL */
	char out[PROXY_APPROVALS_OUT_MAX];
};

struct proxy_approvals {
	pthread_mutex_t lock;
	pthread_cond_t drained; /* closing: the last asker left */
	pthread_t thread;
	bool thread_started, stop, closing;
	int listen_fd, wake_fd;
	bool bound; /* path is ours to unlink (if dev/ino still match) */
	dev_t dev;
	ino_t ino;
	char *path;
	struct proxy__waiter *head, *tail; /* in seq order */
	size_t n_pending;
	uint64_t last_seq;
	unsigned inside; /* askers registered and not yet returned */
	struct proxy__client *clients[PROXY_APPROVALS_CLIENTS_MAX];
	size_t n_clients;
};

static inline int64_t proxy__approvals_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* approvals.c: makes the serving thread look at its clients again. */
void proxy__approvals_wake(struct proxy_approvals *a);

/* approvals_cmd.c, all with a->lock held: */
/* Handles one request line (without its '\n') from c, replying to it. */
void proxy__approvals_line(struct proxy_approvals *a, struct proxy__client *c, char *line,
			   size_t len);
/* Queues an error reply (a sentence, no secrets) to c. */
void proxy__approvals_reply_error(struct proxy__client *c, const char *msg);
/* Sends a watching client the asks it has not seen, while its output has
 * room; the rest follow as it drains. */
void proxy__approvals_pump(struct proxy_approvals *a, struct proxy__client *c);
/* Takes w off the pending list with this answer (approver: who, or NULL),
 * tells the watchers and wakes w's asker. */
void proxy__approvals_resolve(struct proxy_approvals *a, struct proxy__waiter *w,
			      enum proxy_answer answer, const char *approver);

#endif
