/* approvals_cmd.c - the control socket's protocol (approvals.h): parsing a
 * request line in either form, running it, and every reply and event as one
 * JSON line into a client's bounded output buffer. Called with a->lock held;
 * never does I/O itself. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/utf8.h"
#include "proxy/approvals_internal.h"

#define CUT_MARK "...[truncated]"

static const char *answer_name(enum proxy_answer a)
{
	switch (a) {
	case PROXY_ANSWER_ONCE:
		return "once";
	case PROXY_ANSWER_SESSION:
		return "session";
	case PROXY_ANSWER_TIMEOUT:
		return "timeout";
	case PROXY_ANSWER_DENY:
		break;
	}
	return "deny";
}

/* ---- output ---- */

/* Appends s (n bytes) and a newline if they fit in c's output. */
static bool append_line(struct proxy__client *c, const char *s, size_t n)
{
	if (c->out_len + n + 1 > sizeof(c->out))
		return false;
	memcpy(c->out + c->out_len, s, n);
	c->out[c->out_len + n] = '\n';
	c->out_len += n + 1;
	return true;
}

/* Appends j (taken) as one line, or marks c dead when it does not fit (or
 * cannot be built: a client that misses a line must not go on). */
static void send_json(struct proxy__client *c, json_t *j)
{
	_cleanup_free_ char *s = j && !c->dead ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!c->dead && (!s || !append_line(c, s, strlen(s))))
		c->dead = true;
}

/* A string field: null for NULL; invalid UTF-8 as U+FFFD; cut (on a
 * character boundary, with the mark) past PROXY_APPROVALS_FIELD_MAX bytes. */
static json_t *field(const char *s)
{
	char out[PROXY_APPROVALS_FIELD_MAX + sizeof(CUT_MARK)];
	size_t n, o = 0, limit = PROXY_APPROVALS_FIELD_MAX;

	if (!s)
		return json_null();
	n = strnlen(s, PROXY_APPROVALS_FIELD_MAX + 1);
	if (n <= PROXY_APPROVALS_FIELD_MAX) {
		json_t *j = json_stringn(s, n);
		if (j)
			return j;
	}
	for (size_t i = 0; s[i];) {
		size_t l = ombx_utf8_seq((const unsigned char *)s + i, strnlen(s + i, 4));
		size_t w = l ? l : 3;
		if (o + w > limit) {
			memcpy(out + o, CUT_MARK, strlen(CUT_MARK));
			o += strlen(CUT_MARK);
			break;
		}
		memcpy(out + o, l ? s + i : "\xef\xbf\xbd", w);
		o += w;
		i += l ? l : 1;
	}
	return json_stringn(out, o);
}

void proxy__approvals_reply_error(struct proxy__client *c, const char *msg)
{
	json_t *j = json_object();

	json_object_set_new(j, "ok", json_false());
	json_object_set_new(j, "error", field(msg));
	send_json(c, j);
}

__attribute__((format(printf, 2, 3))) static void reply_errorf(struct proxy__client *c,
							       const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	proxy__approvals_reply_error(c, msg);
}

/* Adds the fields of one pending ask to obj; NULL when obj is. */
static json_t *ask_json(const struct proxy__waiter *w, json_t *obj)
{
	const struct proxy_ask *q = w->q;
	int64_t waited = proxy__approvals_now_ms() - w->since_ms;

	if (!obj)
		return NULL;
	json_object_set_new(obj, "id", json_integer((json_int_t)q->id));
	json_object_set_new(obj, "session", field(q->session));
	json_object_set_new(obj, "client", field(q->client));
	json_object_set_new(obj, "method", field(q->method));
	json_object_set_new(obj, "authority", field(q->authority));
	json_object_set_new(obj, "path", field(q->path));
	json_object_set_new(obj, "rule", field(q->rule));
	json_object_set_new(obj, "reason", field(q->reason));
	json_object_set_new(obj, "body_sha256", field(q->body_sha256));
	json_object_set_new(obj, "waiting_ms", json_integer(waited < 0 ? 0 : waited));
	return obj;
}

/* ---- events ---- */

/* The first pending ask with a seq above seq, walking from the nearer end. */
static struct proxy__waiter *next_after(struct proxy_approvals *a, uint64_t seq)
{
	struct proxy__waiter *w;

	if (!a->tail || a->tail->seq <= seq)
		return NULL;
	if (seq - a->head->seq < a->tail->seq - seq || seq < a->head->seq) {
		for (w = a->head; w->seq <= seq; w = w->next)
			;
		return w;
	}
	for (w = a->tail; w->prev && w->prev->seq > seq; w = w->prev)
		;
	return w;
}

void proxy__approvals_pump(struct proxy_approvals *a, struct proxy__client *c)
{
	while (c->watching && !c->dead && c->sent_seq < a->last_seq) {
		struct proxy__waiter *w = next_after(a, c->sent_seq);
		json_auto_t *ev = NULL;
		_cleanup_free_ char *s = NULL;
		if (!w) {
			c->sent_seq = a->last_seq;
			break;
		}
		ev = json_object();
		json_object_set_new(ev, "event", json_string("ask"));
		s = ask_json(w, ev) ? json_dumps(ev, JSON_COMPACT) : NULL;
		if (!s) {
			c->dead = true;
			break;
		}
		/* An event always fits an empty buffer: wait for room, never drop. */
		if (!append_line(c, s, strlen(s)))
			break;
		c->sent_seq = w->seq;
	}
}

void proxy__approvals_resolve(struct proxy_approvals *a, struct proxy__waiter *w,
			      enum proxy_answer answer, const char *approver)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		a->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		a->tail = w->prev;
	w->prev = w->next = NULL;
	a->n_pending--;
	for (size_t i = 0; i < PROXY_APPROVALS_CLIENTS_MAX; i++) {
		struct proxy__client *c = a->clients[i];
		json_t *ev;
		if (!c || !c->watching || c->dead || w->seq > c->sent_seq)
			continue; /* a watcher that was never shown the ask is not told */
		ev = json_object();
		json_object_set_new(ev, "event", json_string("resolved"));
		json_object_set_new(ev, "id", json_integer((json_int_t)w->q->id));
		json_object_set_new(ev, "answer", json_string(answer_name(answer)));
		send_json(c, ev);
	}
	w->answered = true;
	w->answer = answer;
	snprintf(w->approver, sizeof(w->approver), "%s", approver ? approver : "");
	pthread_cond_signal(&w->cond);
	proxy__approvals_wake(a);
}

/* ---- commands ---- */

struct cmd {
	const char *op;
	bool has_id;
	uint64_t id;
	const char *scope; /* NULL: not given */
};

static void list(struct proxy_approvals *a, struct proxy__client *c)
{
	json_auto_t *arr = json_array();
	json_t *reply = json_object();
	/* What a list may add to the output: the rest is counted in "more". */
	size_t room = sizeof(c->out) - c->out_len, used = 64, more = 0;

	for (struct proxy__waiter *w = a->head; w; w = w->next) {
		json_t *e = ask_json(w, json_object());
		size_t n = e ? json_dumpb(e, NULL, 0, JSON_COMPACT) + 1 : 0;
		if (!e || more || used + n > room) {
			json_decref(e);
			more++;
			continue;
		}
		used += n;
		json_array_append_new(arr, e);
	}
	json_object_set_new(reply, "ok", json_true());
	json_object_set_new(reply, "pending", json_incref(arr));
	if (more)
		json_object_set_new(reply, "more", json_integer((json_int_t)more));
	send_json(c, reply);
}

static struct proxy__waiter *find(struct proxy_approvals *a, uint64_t id)
{
	for (struct proxy__waiter *w = a->head; w; w = w->next)
		if (w->q->id == id)
			return w;
	return NULL;
}

static void answer(struct proxy_approvals *a, struct proxy__client *c, const struct cmd *cmd,
		   enum proxy_answer ans)
{
	struct proxy__waiter *w = find(a, cmd->id);
	char who[PROXY_APPROVER_MAX];
	json_t *reply;

	if (!w) {
		reply_errorf(c, "no pending ask %" PRIu64 " (unknown or already answered)",
			     cmd->id);
		return;
	}
	reply = json_object();
	json_object_set_new(reply, "ok", json_true());
	json_object_set_new(reply, "id", json_integer((json_int_t)cmd->id));
	json_object_set_new(reply, "answer", json_string(answer_name(ans)));
	send_json(c, reply);
	snprintf(who, sizeof(who), "control socket uid=%u pid=%d", (unsigned)c->uid, (int)c->pid);
	proxy__approvals_resolve(a, w, ans, who); /* who denied is named too */
}

static void run(struct proxy_approvals *a, struct proxy__client *c, const struct cmd *cmd)
{
	bool approve = strcmp(cmd->op, "approve") == 0, deny = strcmp(cmd->op, "deny") == 0;
	enum proxy_answer ans = PROXY_ANSWER_ONCE;

	if (!approve && !deny && strcmp(cmd->op, "list") != 0 && strcmp(cmd->op, "watch") != 0) {
		reply_errorf(c, "unknown op \"%.32s\" (list, approve, deny, watch)", cmd->op);
		return;
	}
	if (!approve && !deny && (cmd->has_id || cmd->scope)) {
		reply_errorf(c, "%s takes no id or scope", cmd->op);
		return;
	}
	if ((approve || deny) && !cmd->has_id) {
		reply_errorf(c, "%s needs an id: %s ID%s", cmd->op, cmd->op,
			     approve ? " [once|session]" : "");
		return;
	}
	if (deny && cmd->scope) {
		proxy__approvals_reply_error(c, "deny takes no scope");
		return;
	}
	if (approve && cmd->scope && strcmp(cmd->scope, "once") != 0) {
		if (strcmp(cmd->scope, "session") != 0) {
			reply_errorf(c, "scope is once or session, not \"%.32s\"", cmd->scope);
			return;
		}
		ans = PROXY_ANSWER_SESSION;
	}
	if (approve || deny) {
		answer(a, c, cmd, deny ? PROXY_ANSWER_DENY : ans);
	} else if (strcmp(cmd->op, "list") == 0) {
		list(a, c);
	} else {
		json_t *ok = json_object();
		json_object_set_new(ok, "ok", json_true());
		send_json(c, ok);
		c->watching = true;
		proxy__approvals_pump(a, c);
	}
}

/* Decimal 1..INT64_MAX, nothing else. */
static bool parse_id(const char *s, uint64_t *id)
{
	uint64_t v = 0;

	if (!*s || strlen(s) > 19)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*id = v;
	return v >= 1 && v <= INT64_MAX;
}

static void run_words(struct proxy_approvals *a, struct proxy__client *c, char *line)
{
	char *words[3], *save = NULL;
	size_t n = 0;
	struct cmd cmd = {0};

	for (char *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (n == ARRAY_SIZE(words)) {
			proxy__approvals_reply_error(c, "too many words");
			return;
		}
		words[n++] = w;
	}
	if (n == 0)
		return;
	cmd.op = words[0];
	if (n > 1 && !(cmd.has_id = parse_id(words[1], &cmd.id))) {
		reply_errorf(c, "bad id \"%.32s\": a decimal number from 1", words[1]);
		return;
	}
	if (n > 2)
		cmd.scope = words[2];
	run(a, c, &cmd);
}

static void run_json(struct proxy_approvals *a, struct proxy__client *c, const char *line,
		     size_t len)
{
	json_error_t e;
	json_auto_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &e);
	struct cmd cmd = {0};
	const char *key;
	json_t *v;

	if (!json_is_object(j)) {
		reply_errorf(c, "not a JSON object: %s", j ? "another JSON value" : e.text);
		return;
	}
	json_object_foreach(j, key, v)
	{
		if (strcmp(key, "op") == 0 && json_is_string(v)) {
			cmd.op = json_string_value(v);
		} else if (strcmp(key, "id") == 0 && json_is_integer(v) &&
			   json_integer_value(v) >= 1) {
			cmd.has_id = true;
			cmd.id = (uint64_t)json_integer_value(v);
		} else if (strcmp(key, "scope") == 0 && json_is_string(v)) {
			cmd.scope = json_string_value(v);
		} else {
			reply_errorf(c,
				     "bad member \"%.32s\" (op: a string, id: a number from 1, "
				     "scope: once or session)",
				     key);
			return;
		}
	}
	if (!cmd.op) {
		proxy__approvals_reply_error(c, "no \"op\"");
		return;
	}
	run(a, c, &cmd);
}

void proxy__approvals_line(struct proxy_approvals *a, struct proxy__client *c, char *line,
			   size_t len)
{
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	while (len && (line[0] == ' ' || line[0] == '\t'))
		line++, len--;
	if (len == 0)
		return; /* blank lines are not commands */
	if (memchr(line, '\0', len)) {
		proxy__approvals_reply_error(c, "NUL byte in the line");
		return;
	}
	line[len] = '\0';
	if (line[0] == '{')
		run_json(a, c, line, len);
	else
		run_words(a, c, line);
}
