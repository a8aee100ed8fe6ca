/* test_approvals.c - the approval control socket (proxy/approvals.h), driven
 * as a human's tool would drive it: askers block in threads while the test
 * connects, lists, approves once and for the session, denies, lets one time
 * out, in both the word and the JSON form; watchers get ask and resolved
 * events and may still send commands; garbage and over-long lines get error
 * replies without disturbing what is pending; the bounds on clients, on a
 * client that stops reading, on a list reply and on fields; a watcher
 * catching up on more asks than its output holds; other uids are refused;
 * close answers every waiter DENY; a live socket is not taken over, a stale
 * one is; the socket is 0600. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "approvals_fixture.h"
#include "check.h"
#include "proxy/approvals.h"

static char dir[] = "/tmp/ombx-approvals-test.XXXXXX";

static const char *tmp(const char *name)
{
	static char buf[8][256];
	static int i;
	char *p = buf[i++ % 8];

	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

/* ---- the socket ---- */

static void test_open(void)
{
	const char *path = tmp("ctl.sock"), *file = tmp("file"), *stale = tmp("stale.sock");
	struct proxy_approvals *a = NULL, *b = NULL;
	ombx_err err = {0};
	struct stat st;
	struct conn c;
	int r, fd;

	r = proxy_approvals_open(path, &a, &err);
	check(r == 0 && a, "open: creates the socket", "%d %s", r, err.msg);
	if (!a)
		return;
	check(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600,
	      "open: the socket is 0600", "mode %o", st.st_mode & 07777);
	r = proxy_approvals_open(path, &b, &err);
	check(r == -EADDRINUSE && !b && strstr(err.msg, path),
	      "open: a live socket is not taken over", "%d %s", r, err.msg);
	json_t *j = conn_open(&c, path) == 0 ? cmd(&c, "list") : NULL;
	check(is_ok(j) && json_array_size(json_object_get(j, "pending")) == 0,
	      "open: the first server still answers", "no");
	json_decref(j);
	conn_close(&c);
	proxy_approvals_close(a);
	check(lstat(path, &st) < 0 && errno == ENOENT, "close: the socket is removed",
	      "still there");

	fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	close(fd);
	r = proxy_approvals_open(file, &b, &err);
	check(r == -EEXIST && !b && lstat(file, &st) == 0 && S_ISREG(st.st_mode),
	      "open: a regular file is not replaced", "%d %s", r, err.msg);
	r = proxy_approvals_open(tmp("no/such/dir.sock"), &b, &err);
	check(r == -ENOENT && !b, "open: a missing directory is an error", "%d %s", r, err.msg);

	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", stale);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		abort();
	close(fd); /* left behind, as by a crash */
	r = proxy_approvals_open(stale, &b, &err);
	check(r == 0 && b, "open: a stale socket of ours is replaced", "%d %s", r, err.msg);
	proxy_approvals_close(b);
	proxy_approvals_close(NULL);
}

/* ---- answers ---- */

static void test_answers(void)
{
	enum proxy_answer ans;
	struct proxy_approvals *a;
	ombx_err err;
	struct asker k;
	struct conn c;
	char want[128];
	json_t *j, *e;

	if (proxy_approvals_open(tmp("answers.sock"), &a, &err) < 0 ||
	    conn_open(&c, tmp("answers.sock")) < 0) {
		check(0, "answers: setup", "%s", err.msg);
		return;
	}
	snprintf(want, sizeof(want), "control socket uid=%u pid=%d", (unsigned)geteuid(),
		 (int)getpid());

	ask_start(&k, a, 1, 10000);
	check(wait_pending(&c, 1), "ask: shows up in list", "never");
	j = cmd(&c, "{\"op\":\"list\"}");
	e = entry(j, 1);
	check(e && strcmp(str(e, "session"), "s-1") == 0 &&
		      strcmp(str(e, "client"), "10.0.0.2:51000") == 0 &&
		      strcmp(str(e, "method"), "POST") == 0 &&
		      strcmp(str(e, "authority"), "api.github.com:443") == 0 &&
		      strcmp(str(e, "path"), "/repos/o/r/issues?REDACTED") == 0 &&
		      strcmp(str(e, "rule"), "egress.ask[0]") == 0 &&
		      strcmp(str(e, "reason"), "writes to GitHub need a human") == 0 &&
		      strlen(str(e, "body_sha256")) == 64 &&
		      json_is_integer(json_object_get(e, "waiting_ms")) &&
		      num(e, "waiting_ms") >= 0,
	      "list (JSON): every field of the ask", "%s", j ? "a field is wrong" : "no reply");
	json_decref(j);
	expect_answer(&c, "{\"op\":\"approve\",\"id\":1}", "once");
	ans = ask_end(&k);
	check(ans == PROXY_ANSWER_ONCE && strcmp(k.approver, want) == 0,
	      "approve (JSON, default scope): ONCE, approver named", "%d \"%s\"", k.answer,
	      k.approver);
	j = cmd(&c, "approve 1");
	check(is_error(j), "approve: an answered id is an error", "no");
	json_decref(j);

	ask_start(&k, a, 2, 10000);
	wait_pending(&c, 2);
	expect_answer(&c, "approve 2 session", "session");
	ans = ask_end(&k);
	check(ans == PROXY_ANSWER_SESSION && strcmp(k.approver, want) == 0,
	      "approve (words) session: SESSION", "%d", k.answer);

	ask_start(&k, a, 3, 10000);
	wait_pending(&c, 3);
	expect_answer(&c, "deny 3", "deny");
	ans = ask_end(&k);
	check(ans == PROXY_ANSWER_DENY && strcmp(k.approver, want) == 0,
	      "deny (words): DENY, who denied named", "%d \"%s\"",
	      k.answer, k.approver);

	ask_start(&k, a, 4, 10000);
	wait_pending(&c, 4);
	expect_answer(&c, "{\"op\":\"deny\",\"id\":4}", "deny");
	ans = ask_end(&k);
	check(ans == PROXY_ANSWER_DENY, "deny (JSON): DENY", "%d", k.answer);

	ask_start(&k, a, 5, 10000);
	wait_pending(&c, 5);
	expect_answer(&c, "  {\"op\":\"approve\",\"id\":5,\"scope\":\"session\"}\r", "session");
	ans = ask_end(&k);
	check(ans == PROXY_ANSWER_SESSION, "approve (JSON) session: SESSION", "%d", k.answer);

	ask_start(&k, a, 6, 300);
	wait_pending(&c, 6);
	ans = ask_end(&k);
	check(ans == PROXY_ANSWER_TIMEOUT && k.approver[0] == '\0',
	      "timeout: TIMEOUT after timeout_ms", "%d", k.answer);
	j = cmd(&c, "list");
	check(is_ok(j) && !entry(j, 6), "timeout: no longer listed", "still there");
	json_decref(j);
	j = cmd(&c, "approve 6");
	check(is_error(j), "timeout: approving it afterwards is an error", "no");
	json_decref(j);

	/* At once, without a human. */
	ask_start(&k, a, 7, 10000);
	wait_pending(&c, 7);
	struct asker dup, zero, now;
	ask_start(&dup, a, 7, 10000);
	ask_start(&zero, a, 0, 10000);
	ask_start(&now, a, 8, 0);
	ans = ask_end(&dup);
	check(ans == PROXY_ANSWER_DENY, "ask: a duplicate pending id is denied at once", "%d",
	      dup.answer);
	ans = ask_end(&zero);
	check(ans == PROXY_ANSWER_DENY, "ask: id 0 is denied at once", "%d", zero.answer);
	ans = ask_end(&now);
	check(ans == PROXY_ANSWER_TIMEOUT, "ask: timeout 0 times out at once", "%d", now.answer);
	check(proxy_approvals_ask(a, NULL, 1000, NULL, 0) == PROXY_ANSWER_DENY,
	      "ask: no request, DENY", "no");

	/* Garbage: error replies, and 7 stays pending. */
	static const char *const garbage[] = {
		"foo",
		"{",
		"[1]",
		"\"list\"",
		"{\"op\":\"approve\",\"id\":\"7\"}",
		"{\"op\":\"approve\"}",
		"{\"op\":\"approve\",\"id\":7,\"id\":7}",
		"{\"op\":\"approve\",\"id\":-7}",
		"{\"op\":\"approve\",\"id\":7,\"scope\":\"forever\"}",
		"{\"op\":\"list\",\"extra\":1}",
		"{\"id\":7}",
		"{\"op\":7}",
		"approve",
		"approve abc",
		"approve 0",
		"approve -1",
		"approve 7x",
		"approve 99999999999999999999",
		"approve 99",
		"approve 7 forever",
		"approve 7 once extra",
		"deny 7 session",
		"list 7",
		"watch now",
		"APPROVE 7",
		"\x01\xff\xfe garbage \xc3",
	};
	int bad = 0;
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		j = cmd(&c, garbage[i]);
		if (!is_error(j)) {
			bad++;
			printf("# no error reply to: %s\n", garbage[i]);
		}
		json_decref(j);
	}
	check(bad == 0, "garbage: every line gets an error reply", "%d did not", bad);
	conn_send(&c, "");
	conn_send(&c, " \t\r");
	j = cmd(&c, "list");
	check(is_ok(j) && entry(j, 7) && json_array_size(json_object_get(j, "pending")) == 1,
	      "garbage: the pending ask is undisturbed (blank lines ignored)", "no");
	json_decref(j);
	expect_answer(&c, "approve\t7\tonce", "once");
	ans = ask_end(&k);
	check(ans == PROXY_ANSWER_ONCE, "garbage: then approving works", "%d", k.answer);

	ask_prepare(&k, a, 9, 10000);
	k.q.session = k.q.body_sha256 = NULL;
	ask_run(&k);
	wait_pending(&c, 9);
	j = cmd(&c, "list");
	e = entry(j, 9);
	check(e && json_is_null(json_object_get(e, "session")) &&
		      json_is_null(json_object_get(e, "body_sha256")),
	      "list: no session, no body: null", "no");
	json_decref(j);
	expect_answer(&c, "deny 9", "deny");
	ask_end(&k);

	conn_close(&c);
	proxy_approvals_close(a);
}

/* ---- watching ---- */

/* The next event line on c, skipping nothing: NULL if none comes. */
static json_t *next_event(struct conn *c, const char *event, uint64_t id)
{
	json_t *j = conn_read(c, 5000, NULL);

	if (j && strcmp(str(j, "event"), event) == 0 && num(j, "id") == (json_int_t)id)
		return j;
	if (j) {
		char *s = json_dumps(j, JSON_COMPACT);
		printf("# unexpected: %s\n", s);
		free(s);
	}
	json_decref(j);
	return NULL;
}

static void test_watch(void)
{
	enum proxy_answer ans;
	struct proxy_approvals *a;
	ombx_err err;
	struct asker k, t;
	struct conn w, w2, c;
	json_t *j;

	if (proxy_approvals_open(tmp("watch.sock"), &a, &err) < 0 ||
	    conn_open(&w, tmp("watch.sock")) < 0 || conn_open(&w2, tmp("watch.sock")) < 0 ||
	    conn_open(&c, tmp("watch.sock")) < 0) {
		check(0, "watch: setup", "%s", err.msg);
		return;
	}
	j = cmd(&w, "watch");
	check(is_ok(j), "watch (words): ok", "no");
	json_decref(j);

	ask_start(&k, a, 20, 10000);
	j = next_event(&w, "ask", 20);
	check(j && strcmp(str(j, "authority"), "api.github.com:443") == 0 &&
		      strcmp(str(j, "rule"), "egress.ask[0]") == 0 &&
		      json_is_integer(json_object_get(j, "waiting_ms")),
	      "watch: a new ask arrives as an event with its fields", "no");
	json_decref(j);

	j = cmd(&w2, "{\"op\":\"watch\"}");
	check(is_ok(j), "watch (JSON): ok", "no");
	json_decref(j);
	j = next_event(&w2, "ask", 20);
	check(j != NULL, "watch: an ask already pending is sent right away", "no");
	json_decref(j);

	j = cmd(&w, "list");
	check(is_ok(j) && entry(j, 20), "watch: commands still work while watching", "no");
	json_decref(j);

	expect_answer(&c, "approve 20", "once");
	j = next_event(&w, "resolved", 20);
	check(j && strcmp(str(j, "answer"), "once") == 0, "watch: resolved once", "no");
	json_decref(j);
	j = next_event(&w2, "resolved", 20);
	check(j && strcmp(str(j, "answer"), "once") == 0, "watch: every watcher told", "no");
	json_decref(j);
	ask_end(&k);

	ask_start(&t, a, 21, 200);
	json_decref(next_event(&w, "ask", 21));
	j = next_event(&w, "resolved", 21);
	check(j && strcmp(str(j, "answer"), "timeout") == 0, "watch: resolved timeout", "no");
	json_decref(j);
	ask_end(&t);
	json_decref(next_event(&w2, "ask", 21));
	json_decref(next_event(&w2, "resolved", 21));

	ask_start(&k, a, 22, 10000);
	json_decref(next_event(&w, "ask", 22));
	expect_answer(&w, "deny 22", "deny"); /* the reply comes before the event */
	j = next_event(&w, "resolved", 22);
	check(j && strcmp(str(j, "answer"), "deny") == 0,
	      "watch: a watcher may answer, then is told", "no");
	json_decref(j);
	ans = ask_end(&k);
	check(ans == PROXY_ANSWER_DENY, "watch: deny from the watcher", "%d", k.answer);

	/* A watcher that half-closes keeps receiving events. */
	json_decref(next_event(&w2, "ask", 22));
	json_decref(next_event(&w2, "resolved", 22));
	shutdown(w2.fd, SHUT_WR);
	ask_start(&k, a, 23, 10000);
	j = next_event(&w2, "ask", 23);
	check(j != NULL, "watch: a half-closed watcher still gets events", "no");
	json_decref(j);
	expect_answer(&c, "approve 23", "once");
	ask_end(&k);

	conn_close(&w);
	conn_close(&w2);
	conn_close(&c);
	proxy_approvals_close(a);
}

/* ---- bounds ---- */

static void test_long_lines(struct proxy_approvals *a, const char *path, struct conn *c)
{
	struct conn l;
	char *line = malloc(8192);
	bool eof = false;
	json_t *j;

	memset(line, 'a', 8191);
	line[PROXY_APPROVALS_LINE_MAX] = '\0';
	j = cmd(c, line);
	check(is_error(j), "line: exactly 4096 bytes is read as a line (an error reply)", "no");
	json_decref(j);
	j = cmd(c, "list");
	check(is_ok(j), "line: the connection goes on", "no");
	json_decref(j);

	line[PROXY_APPROVALS_LINE_MAX] = 'a';
	line[8191] = '\0';
	conn_open(&l, path);
	j = cmd(&l, line);
	check(is_error(j), "line: over 4096 bytes gets an error reply", "no");
	json_decref(j);
	j = conn_read(&l, 5000, &eof);
	check(!j && eof, "line: ... and the connection is closed", "no");
	conn_close(&l);
	free(line);
	j = cmd(c, "list");
	check(is_ok(j) && entry(j, 30), "line: the pending ask is undisturbed", "no");
	json_decref(j);
	(void)a;
}

static void test_clients(const char *path)
{
	static struct conn cs[PROXY_APPROVALS_CLIENTS_MAX + 1];
	struct conn extra;
	int ok = 0;
	bool eof = false;
	json_t *j;

	/* One is the caller's; fill the rest. */
	for (int i = 0; i < PROXY_APPROVALS_CLIENTS_MAX - 1; i++) {
		j = conn_open(&cs[i], path) == 0 ? cmd(&cs[i], "list") : NULL;
		ok += is_ok(j);
		json_decref(j);
	}
	check(ok == PROXY_APPROVALS_CLIENTS_MAX - 1, "clients: 32 at once", "%d", ok + 1);
	conn_open(&extra, path);
	j = conn_read(&extra, 5000, NULL);
	check(is_error(j), "clients: the 33rd is told it is one too many", "no");
	json_decref(j);
	j = conn_read(&extra, 5000, &eof);
	check(!j && eof, "clients: ... and closed", "no");
	conn_close(&extra);
	conn_close(&cs[0]);
	j = NULL;
	for (int i = 0; i < 100 && !is_ok(j); i++) {
		json_decref(j);
		usleep(10000);
		j = conn_open(&extra, path) == 0 ? cmd(&extra, "list") : NULL;
		if (!is_ok(j))
			conn_close(&extra);
	}
	check(is_ok(j), "clients: a closed one frees its place", "no");
	json_decref(j);
	conn_close(&extra);
	for (int i = 1; i < PROXY_APPROVALS_CLIENTS_MAX - 1; i++)
		conn_close(&cs[i]);
}

/* A client that sends commands and never reads is dropped once it falls
 * 64 KiB behind (beyond what the kernel buffers). */
static void test_slow(const char *path, struct conn *c)
{
	struct conn s;
	char batch[500];
	bool dropped = false;
	json_t *j;

	for (size_t i = 0; i < sizeof(batch); i += 5)
		memcpy(batch + i, "list\n", 5);
	conn_open(&s, path);
	for (int i = 0; i < 100000 && !dropped; i++) {
		ssize_t w = send(s.fd, batch, sizeof(batch), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno != EAGAIN)
			dropped = true;
		else if (w < 0)
			usleep(1000);
	}
	check(dropped, "slow: a client that never reads is dropped", "still connected");
	conn_close(&s);
	j = cmd(c, "list");
	check(is_ok(j) && entry(j, 30), "slow: others and the pending ask are unaffected", "no");
	json_decref(j);
}

/* Another uid may reach the socket file but is not served. */
static void test_peer(const char *path)
{
	pid_t pid;
	int status = -1;

	if (geteuid() != 0) {
		printf("# skip: peer check needs root to connect as another uid\n");
		return;
	}
	chmod(dir, 0711);
	chmod(path, 0666);
	pid = fork();
	if (pid == 0) {
		struct conn o;
		bool eof = false;
		json_t *j;
		if (setgid(65534) < 0 || setuid(65534) < 0 || conn_open(&o, path) < 0)
			_exit(2);
		conn_send(&o, "list");
		j = conn_read(&o, 5000, &eof);
		_exit(!j && eof ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "peer: another uid is closed without a reply", "child status %d", status);
	chmod(path, 0600);
	chmod(dir, 0700);
}

static void test_bounds(void)
{
	const char *path = tmp("bounds.sock");
	struct proxy_approvals *a;
	ombx_err err;
	struct asker k;
	struct conn c;

	if (proxy_approvals_open(path, &a, &err) < 0 || conn_open(&c, path) < 0) {
		check(0, "bounds: setup", "%s", err.msg);
		return;
	}
	ask_start(&k, a, 30, 60000);
	wait_pending(&c, 30);
	test_long_lines(a, path, &c);
	test_clients(path);
	test_slow(path, &c);
	test_peer(path);
	expect_answer(&c, "deny 30", "deny");
	ask_end(&k);
	conn_close(&c);
	proxy_approvals_close(a);
}

/* ---- many asks, long fields ---- */

/* More asks than fit in one reply: list says how many it left out, a
 * watcher gets every one as its output drains, fields are cut and made valid
 * UTF-8. */
static void test_many(void)
{
	enum { N = 300 };
	const char *path = tmp("many.sock");
	static struct asker k[N];
	static char reason[2000];
	struct proxy_approvals *a;
	ombx_err err;
	struct conn w, w2, c;
	int seen = 0, seen2 = 0, denied = 0;
	json_t *j, *e;

	if (proxy_approvals_open(path, &a, &err) < 0 || conn_open(&w, path) < 0 ||
	    conn_open(&w2, path) < 0 || conn_open(&c, path) < 0) {
		check(0, "many: setup", "%s", err.msg);
		return;
	}
	json_decref(cmd(&w, "watch"));
	memset(reason, 'r', sizeof(reason) - 1);
	for (int i = 0; i < N; i++) {
		ask_prepare(&k[i], a, 100 + (uint64_t)i, 60000);
		k[i].q.reason = reason;
		k[i].q.method = "GET\xff";
		ask_run(&k[i]);
	}
	for (int i = 0; i < N && (j = conn_read(&w, 5000, NULL)); i++) {
		seen += strcmp(str(j, "event"), "ask") == 0;
		json_decref(j);
	}
	check(seen == N, "many: a watcher gets every ask (past its output bound)", "%d of %d", seen,
	      N);
	j = cmd(&c, "list");
	e = json_array_get(json_object_get(j, "pending"), 0);
	check(is_ok(j) && num(j, "more") > 0 &&
		      (json_int_t)json_array_size(json_object_get(j, "pending")) + num(j, "more") ==
			      N,
	      "many: list gives what fits and counts the rest in \"more\"", "%lld more",
	      (long long)num(j, "more"));
	check(e && strlen(str(e, "reason")) == 1024 + strlen("...[truncated]") &&
		      strstr(str(e, "reason"), "r...[truncated]"),
	      "many: a long field is cut with a mark", "%zu", strlen(str(e, "reason")));
	check(e && strcmp(str(e, "method"), "GET\xef\xbf\xbd") == 0,
	      "many: invalid UTF-8 shown as U+FFFD", "%s", str(e, "method"));
	json_decref(j);
	json_decref(cmd(&w2, "watch"));
	for (int i = 0; i < N && (j = conn_read(&w2, 5000, NULL)); i++) {
		seen2 += strcmp(str(j, "event"), "ask") == 0;
		json_decref(j);
	}
	check(seen2 == N, "many: a late watcher gets every pending ask", "%d of %d", seen2, N);
	proxy_approvals_close(a);
	for (int i = 0; i < N; i++)
		denied += ask_end(&k[i]) == PROXY_ANSWER_DENY;
	check(denied == N, "many: close denies them all", "%d of %d", denied, N);
	conn_close(&w);
	conn_close(&w2);
	conn_close(&c);
}

/* ---- close ---- */

static void test_close(void)
{
	const char *path = tmp("close.sock");
	struct proxy_approvals *a;
	ombx_err err;
	struct asker k[3];
	struct conn w, c;
	struct stat st;
	int denied = 0;

	if (proxy_approvals_open(path, &a, &err) < 0 || conn_open(&w, path) < 0 ||
	    conn_open(&c, path) < 0) {
		check(0, "close: setup", "%s", err.msg);
		return;
	}
	json_decref(cmd(&w, "watch"));
	for (int i = 0; i < 3; i++) {
		ask_start(&k[i], a, 40 + (uint64_t)i, 60000);
		wait_pending(&c, 40 + (uint64_t)i);
	}
	proxy_approvals_close(a);
	for (int i = 0; i < 3; i++)
		denied += ask_end(&k[i]) == PROXY_ANSWER_DENY && k[i].approver[0] == '\0';
	check(denied == 3, "close: every waiter answered DENY", "%d of 3", denied);
	check(lstat(path, &st) < 0, "close: the socket is removed", "still there");
	conn_close(&w);
	conn_close(&c);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_open();
	test_answers();
	test_watch();
	test_bounds();
	test_many();
	test_close();
	char cmdline[512];
	snprintf(cmdline, sizeof(cmdline), "rm -rf '%s'", dir);
	if (system(cmdline) != 0)
		printf("# could not remove %s\n", dir);
	return finish();
}
