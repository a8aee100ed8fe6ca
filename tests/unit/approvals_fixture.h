/* approvals_fixture.h - the approval tests' two sides: askers (a thread
 * each, blocked in proxy_approvals_ask) and control connections speaking the
 * line protocol, with small JSON accessors for the replies. */
#ifndef OMBX_TEST_APPROVALS_FIXTURE_H
#define OMBX_TEST_APPROVALS_FIXTURE_H

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "proxy/approvals.h"

/* ---- askers: one thread each ---- */

struct asker {
	pthread_t t;
	struct proxy_approvals *a;
	struct proxy_ask q;
	int timeout_ms;
	enum proxy_answer answer;
	char approver[PROXY_APPROVER_MAX];
};

static inline void *ask_main(void *p)
{
	struct asker *k = p;

	k->answer =
		proxy_approvals_ask(k->a, &k->q, k->timeout_ms, k->approver, sizeof(k->approver));
	return NULL;
}

static inline void ask_prepare(struct asker *k, struct proxy_approvals *a, uint64_t id,
			       int timeout_ms)
{
	memset(k, 0, sizeof(*k));
	k->a = a;
	k->timeout_ms = timeout_ms;
	k->q = (struct proxy_ask){
		.id = id,
		.session = "s-1",
		.client = "10.0.0.2:51000",
		.method = "POST",
		.authority = "api.github.com:443",
		.path = "/repos/o/r/issues?REDACTED",
		.rule = "egress.ask[0]",
		.reason = "writes to GitHub need a human",
		.body_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	};
	strcpy(k->approver, "unset");
}

static inline void ask_run(struct asker *k)
{
	if (pthread_create(&k->t, NULL, ask_main, k) != 0)
		abort();
}

static inline void ask_start(struct asker *k, struct proxy_approvals *a, uint64_t id,
			     int timeout_ms)
{
	ask_prepare(k, a, id, timeout_ms);
	ask_run(k);
}

static inline enum proxy_answer ask_end(struct asker *k)
{
	pthread_join(k->t, NULL);
	return k->answer;
}

/* ---- a control connection ---- */

struct conn {
	int fd;
	size_t len;
	char buf[1 << 16];
};

static inline int conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	c->len = 0;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

static inline void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static inline void conn_send(struct conn *c, const char *line)
{
	size_t n = strlen(line);

	if (send(c->fd, line, n, MSG_NOSIGNAL) != (ssize_t)n ||
	    send(c->fd, "\n", 1, MSG_NOSIGNAL) != 1)
		printf("# send failed: %s\n", strerror(errno));
}

/* The next line, parsed; NULL on timeout, end of stream or a line that is
 * not JSON. *eof tells the second. */
static inline json_t *conn_read(struct conn *c, int timeout_ms, bool *eof)
{
	char *nl;
	bool dummy;

	eof = eof ? eof : &dummy;
	*eof = false;
	while (!(nl = memchr(c->buf, '\n', c->len))) {
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		ssize_t r;
		if (poll(&p, 1, timeout_ms) != 1)
			return NULL;
		r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (r <= 0) {
			*eof = true;
			return NULL;
		}
		c->len += (size_t)r;
	}
	json_t *j = json_loadb(c->buf, (size_t)(nl - c->buf), 0, NULL);
	c->len -= (size_t)(nl + 1 - c->buf);
	memmove(c->buf, nl + 1, c->len);
	return j;
}

static inline json_t *cmd(struct conn *c, const char *line)
{
	conn_send(c, line);
	return conn_read(c, 5000, NULL);
}

static inline bool is_ok(json_t *j)
{
	return json_is_true(json_object_get(j, "ok"));
}

static inline bool is_error(json_t *j)
{
	return json_is_false(json_object_get(j, "ok")) &&
	       json_is_string(json_object_get(j, "error"));
}

static inline const char *str(json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));
	return s ? s : "(none)";
}

static inline json_int_t num(json_t *j, const char *key)
{
	return json_integer_value(json_object_get(j, key));
}

/* The pending entry with this id in a list reply, or NULL. */
static inline json_t *entry(json_t *list, uint64_t id)
{
	size_t i;
	json_t *e;

	json_array_foreach(json_object_get(list, "pending"), i,
			   e) if (num(e, "id") == (json_int_t)id) return e;
	return NULL;
}

/* Lists until the ask with this id is pending (askers run in threads). */
static inline bool wait_pending(struct conn *c, uint64_t id)
{
	for (int i = 0; i < 500; i++) {
		json_t *l = cmd(c, "list");
		bool found = entry(l, id) != NULL;
		json_decref(l);
		if (found)
			return true;
		usleep(10000);
	}
	return false;
}

/* Sends line and checks the reply is {"ok":true,...,"answer":want}. */
static inline void expect_answer(struct conn *c, const char *line, const char *want)
{
	json_t *j = cmd(c, line);

	check(is_ok(j) && strcmp(str(j, "answer"), want) == 0, line, "reply %s",
	      j ? str(j, "error") : "none");
	json_decref(j);
}

#endif
