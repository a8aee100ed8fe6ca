/* approvals.h - the standalone proxy's approval control socket: requests a
 * policy rule holds for a human ("ask") wait here until someone on the
 * control socket approves or denies them, or they time out.
 *
 * Owns: the unix stream socket (0600, peers checked with SO_PEERCRED: only
 * our own uid or root), one thread serving it with poll(), and the table of
 * pending asks. Protocol, one line each way, every reply one JSON object:
 *   {"op":"list"}                        list
 *   {"op":"approve","id":N,"scope":S}    approve ID [once|session]   (S: once)
 *   {"op":"deny","id":N}                 deny ID
 *   {"op":"watch"}                       watch
 * Replies {"ok":true,...} or {"ok":false,"error":"..."}; list gives
 * "pending":[{id, session, client, method, authority, path, rule, reason,
 * body_sha256, waiting_ms}] (and "more":N when not all fit in one reply);
 * approve and deny give "id" and "answer", or an error for an id that is
 * unknown or already answered; a watching connection gets
 * {"event":"ask",...the same fields} for every pending and new ask and
 * {"event":"resolved","id":N,"answer":A} (A: once, session, deny, timeout)
 * for those it was shown, while it may still send commands. Blank lines are
 * ignored; a client that shuts its writing side down stays connected while
 * it watches.
 *
 * Bounded: request lines (PROXY_APPROVALS_LINE_MAX; longer: an error reply and
 * the connection is closed), control clients, pending asks (more: DENY at
 * once), each string field shown (PROXY_APPROVALS_FIELD_MAX, cut with a
 * mark), and the output a client may fall behind by (more: it is dropped).
 * The serving thread never blocks on a client.
 *
 * Never: prints, or lets anything but a human's approve turn an ask into an
 * approval (a timeout, a full table, a duplicate id, closing: DENY or
 * TIMEOUT). No secret value passes through here: paths come with their
 * queries already redacted. */
#ifndef OMBX_PROXY_APPROVALS_H
#define OMBX_PROXY_APPROVALS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define PROXY_APPROVALS_LINE_MAX    4096        /* bytes of a request line, without '\n' */
#define PROXY_APPROVALS_CLIENTS_MAX 32          /* control connections at once */
#define PROXY_APPROVALS_PENDING_MAX 4096        /* asks waiting at once */
#define PROXY_APPROVALS_OUT_MAX     (64 * 1024) /* unsent bytes before a client is dropped */
#define PROXY_APPROVALS_FIELD_MAX   1024        /* bytes of one string field in a reply */

/* The answer to one ask. */
enum proxy_answer {
	PROXY_ANSWER_DENY,
	PROXY_ANSWER_ONCE,
	PROXY_ANSWER_SESSION,
	PROXY_ANSWER_TIMEOUT
};
#define PROXY_APPROVER_MAX 128
/* One request held for a human. Borrowed strings, valid during the call. */
struct proxy_ask {
	uint64_t id;                           /* unique per proxy process, from 1 */
	const char *session;                   /* may be NULL */
	const char *client;                    /* "ip:port" */
	const char *method, *authority, *path; /* path already has its query redacted */
	const char *rule, *reason;             /* the policy rule asking and why */
	const char *body_sha256;               /* hex, or NULL when there is no body */
};
/* The embedding program's way to ask a human: blocks the calling (connection)
 * thread until answered or timeout_ms passed (then PROXY_ANSWER_TIMEOUT). It
 * writes who answered into approver (NUL-terminated; "" when no human did,
 * e.g. DENY for want of a terminal). Must be callable from many threads at
 * once. */
typedef enum proxy_answer (*proxy_ask_fn)(void *arg, const struct proxy_ask *q, int timeout_ms,
					  char *approver, size_t approver_size);

struct proxy_approvals;
/* Creates the unix stream socket at path (mode 0600; refuses to replace
 * anything that is not a stale socket of ours; parent dir must exist) and
 * starts one thread serving it. -EADDRINUSE when a server answers on path,
 * -EEXIST when something else is there. */
int proxy_approvals_open(const char *path, struct proxy_approvals **out, ombx_err *err);
/* Stops the thread, unlinks the socket, answers every waiter DENY and waits
 * for them to return. NULL ok. No ask may begin once close has been called. */
void proxy_approvals_close(struct proxy_approvals *a);
/* Answers every waiter DENY and every later ask DENY at once, but keeps the
 * object (and the socket) alive: for a program stopping its proxy, whose
 * connection threads may still ask until they have all ended. NULL ok. */
void proxy_approvals_shutdown(struct proxy_approvals *a);
/* A proxy_ask_fn; arg is the struct proxy_approvals *. Also DENY at once (no
 * human asked) when PROXY_APPROVALS_PENDING_MAX asks wait already, when an
 * ask with the same id is pending, for id 0, and while closing; TIMEOUT at
 * once for timeout_ms <= 0. approver names who answered ("control socket
 * uid=U pid=P", cut to fit) - approved or denied - and is "" when no human
 * did (a timeout, closing, a full table). */
enum proxy_answer proxy_approvals_ask(void *arg, const struct proxy_ask *q, int timeout_ms,
				      char *approver, size_t approver_size);

#endif
