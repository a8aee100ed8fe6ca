/* cli_ask.c - asking the invoking user on their terminal (/dev/tty), for
 * `omnibox exec --net proxy` without --approvals.
 *
 * The prompt is written and the answer read on the controlling terminal of
 * the proxy, which runs outside the jail: nothing in the jail can reach it.
 * One ask at a time (a mutex); each waits at most the ask timeout. Values a
 * client chose (path, host) are quoted, so they cannot move the cursor or
 * fake a prompt. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/quote.h"
#include "cli_ask.h"

static pthread_mutex_t tty_lock = PTHREAD_MUTEX_INITIALIZER;

static void say(int fd, const char *s)
{
	(void)!write(fd, s, strlen(s));
}

enum proxy_answer ombx_cli_ask_tty(void *arg, const struct proxy_ask *q, int timeout_ms,
				   char *approver, size_t approver_size)
{
	char line[2200], path[OMBX_QUOTE_MAX], auth[OMBX_QUOTE_MAX], reason[OMBX_QUOTE_MAX];
	struct timespec t0, t1;
	enum proxy_answer a = PROXY_ANSWER_TIMEOUT;
	int fd;

	if (approver_size)
		approver[0] = '\0';
	pthread_mutex_lock(&tty_lock);
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		pthread_mutex_unlock(&tty_lock);
		return PROXY_ANSWER_DENY; /* no terminal: nobody to ask */
	}
	ombx_quote(path, sizeof(path), q->path, strlen(q->path));
	ombx_quote(auth, sizeof(auth), q->authority, strlen(q->authority));
	ombx_quote(reason, sizeof(reason), q->reason, strlen(q->reason));
	snprintf(line, sizeof(line),
		 "\r\nomnibox: the jail asks to send %s %s %s\r\n"
		 "omnibox:   rule %s: %s\r\n"
		 "omnibox: allow [o]nce, for the [s]ession, or [d]eny? (%d s) ",
		 q->method, auth, path, q->rule, reason, timeout_ms / 1000);
	say(fd, line);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		long left;
		char c[64];
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = timeout_ms -
		       ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			break;
		n = read(fd, c, sizeof(c));
		if (n <= 0) {
			a = PROXY_ANSWER_TIMEOUT; /* the terminal went away: nobody answered */
			break;
		}
		if (c[0] == 'o' || c[0] == 'O') {
			a = PROXY_ANSWER_ONCE;
			break;
		}
		if (c[0] == 's' || c[0] == 'S') {
			a = PROXY_ANSWER_SESSION;
			break;
		}
		if (c[0] == 'd' || c[0] == 'D' || c[0] == 'n' || c[0] == 'N') {
			a = PROXY_ANSWER_DENY;
			break;
		}
		say(fd, "omnibox: o, s or d? ");
	}
	say(fd, a == PROXY_ANSWER_ONCE      ? "allowed once\r\n"
		: a == PROXY_ANSWER_SESSION ? "allowed for this session\r\n"
		: a == PROXY_ANSWER_DENY    ? "denied\r\n"
					    : "no answer: denied\r\n");
	if (a != PROXY_ANSWER_TIMEOUT) /* a human answered, either way */
		snprintf(approver, approver_size, "terminal uid=%u", (unsigned)getuid());
	close(fd);
	pthread_mutex_unlock(&tty_lock);
	return a;
}
