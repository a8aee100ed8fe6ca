/* policy.h - Omnigent's policy engine: the whole public contract of libpolicy.
 *
 * What it owns: turning policy YAML (docs/POLICY.md) into compiled, immutable
 * policy sets; holding one set per level (server, agent, session) in an engine
 * that swaps them atomically; deciding egress requests, exec, tool calls and
 * usage reports for a session, with per-session state (flags, counters,
 * spend) and approvals; and describing which secret may be injected into an
 * allowed request, and how.
 *
 * What it must never do: print, exit, touch the network, or read anything but
 * its policy files and (only through policy_secret_read) a secret's source.
 * A secret's value never appears in a decision, an error or any other string
 * this library produces.
 *
 * Errors: calls that can fail return 0 or a negative errno; those that must
 * explain (a policy file) also fill an ombx_err whose message starts with
 * "FILE:LINE:COL: " (1-based) for anything found in a file.
 *
 * Threads: policy sets are immutable and may be shared freely. An engine may
 * be swapped from any thread while sessions evaluate. A session (and the
 * decisions it produced) must be used by one thread at a time. */
#ifndef OMBX_POLICY_H
#define OMBX_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

/* ---- bounds (STYLE: bounded everything); exceeding one is an error ---- */
#define POLICY_FILE_MAX   (1024 * 1024) /* bytes of one policy file */
#define POLICY_RULES_MAX  100000        /* rules of one file, shorthand included */
#define POLICY_NAME_MAX   64            /* rule, flag, counter, secret names */
#define POLICY_HOST_MAX   253           /* a canonical host name, without the final dot */
#define POLICY_PATH_MAX   8192          /* a request path, without the query */
#define POLICY_ARGV_MAX   4096          /* argv entries of an exec event */
#define POLICY_CMD_MAX    (128 * 1024)  /* a tool call's command string */
#define POLICY_STATE_MAX  4096          /* distinct flags/counters per session */
#define POLICY_SECRET_MAX (64 * 1024)   /* a secret's value */

/* Strictness order: deny > ask > allow > none. */
enum policy_verdict { POLICY_NONE = 0, POLICY_ALLOW = 1, POLICY_ASK = 2, POLICY_DENY = 3 };

/* Where a decision came from. ENGINE is the engine itself: the kind's
 * default, the special-purpose address ranges, malformed requests and
 * secrets sent where they are not bound. */
enum policy_level {
	POLICY_LEVEL_SERVER = 0,
	POLICY_LEVEL_AGENT = 1,
	POLICY_LEVEL_SESSION = 2,
	POLICY_LEVEL_ENGINE = 3,
};
#define POLICY_N_LEVELS 3 /* levels that hold a policy set */

enum policy_kind { POLICY_EGRESS, POLICY_EXEC, POLICY_TOOL_CALL, POLICY_USAGE };

const char *policy_verdict_name(enum policy_verdict v); /* "none", "allow", "ask", "deny" */
const char *policy_level_name(enum policy_level l);     /* "server", ..., "engine" */
const char *policy_kind_name(enum policy_kind k);       /* "egress", "exec", ... */

/* ---- compiled policy sets ---- */

struct policy_set; /* one compiled file; immutable; reference counted */

/* Reads and compiles one policy file. Any unknown key, wrong type, bad glob,
 * CIDR, host, condition or handler is an error naming FILE:LINE:COL; nothing
 * is ignored. The file is at most POLICY_FILE_MAX bytes. */
int policy_set_load(const char *path, struct policy_set **out, ombx_err *err);
/* The same from memory; name stands for the file in messages. */
int policy_set_load_buffer(const char *name, const char *buf, size_t len, struct policy_set **out,
			   ombx_err *err);
struct policy_set *policy_set_ref(struct policy_set *s);
void policy_set_unref(struct policy_set *s); /* NULL is fine */
const char *policy_set_name(const struct policy_set *s);
size_t policy_set_rule_count(const struct policy_set *s); /* shorthand and built-ins included */

/* ---- the engine: one set per level, swapped atomically ---- */

struct policy_engine;

int policy_engine_new(struct policy_engine **out);
/* Frees the engine once every session made from it is freed. NULL is fine. */
void policy_engine_free(struct policy_engine *e);
/* Installs set (taking over the caller's reference; NULL empties the level).
 * Sessions see the new set from their next evaluation on; decisions already
 * made keep the sets they were made with. */
void policy_engine_swap(struct policy_engine *e, enum policy_level level, struct policy_set *set);
/* Loads path and swaps it in. On any error the level keeps its current set,
 * err says why, and the engine's version does not change. */
int policy_engine_reload(struct policy_engine *e, enum policy_level level, const char *path,
			 ombx_err *err);
/* Increases by one at every swap. */
uint64_t policy_engine_version(struct policy_engine *e);

/* ---- events ---- */

/* Borrowed strings; the event need only live for the policy_eval call. */
struct policy_event {
	enum policy_kind kind;
	/* egress: host as the client named it (any case, IDNA, trailing dot or
	 * IP literal, [v6] brackets allowed); path may carry a query, which is
	 * ignored; addr, if set, is the address the proxy resolved host to (CIDR
	 * rules and the special ranges then apply to it too); secrets names the
	 * placeholders the request carries. port 0 means the scheme's default. */
	const char *method, *scheme, *host, *path, *addr;
	unsigned port;
	const char *const *secrets;
	size_t n_secrets;
	/* exec */
	const char *const *argv;
	size_t argc;
	/* tool_call: the tool's name and, for shell-like tools, its command */
	const char *tool, *command;
	/* usage: spend in millionths of a USD. cost is added to the session's
	 * spend; total, when higher than the spend, raises it (spend never
	 * falls; 0 means no total). model is informational. */
	int64_t cost_micro_usd, total_micro_usd;
	const char *model;
};

/* ---- sessions and decisions ---- */

struct policy_session; /* per-session state: flags, counters, spend, approvals */

int policy_session_new(struct policy_engine *e, struct policy_session **out);
void policy_session_free(struct policy_session *s); /* NULL is fine */
/* A flag or counter's value (flags are 0 or 1; never set is 0). */
int64_t policy_session_value(const struct policy_session *s, const char *name);
int64_t policy_session_spend(const struct policy_session *s); /* micro-USD */

#define POLICY_MAX_ASKS 16
#define POLICY_TEXT_MAX 2048

struct policy_why {
	const char *rule; /* e.g. "push-after-install", "egress.allow[1]", "default" */
	enum policy_level level;
	const char *reason; /* never NULL */
};

enum policy_approval { POLICY_NOT_ASKED, POLICY_PENDING, POLICY_APPROVED, POLICY_REJECTED };

/* Filled by policy_eval; the strings stay valid until policy_decision_release.
 * A decision must not be copied: its strings may point into it. */
struct policy_decision {
	enum policy_verdict verdict; /* ALLOW, ASK or DENY: never NONE */
	bool by_default;             /* no rule had an opinion: the kind's default */
	struct policy_why why;       /* the deciding rule; for ASK the first ask */
	/* For ASK: every ask, in evaluation order (session, server, agent; file
	 * order within a level). Past POLICY_MAX_ASKS the last entry says how
	 * many more there were. */
	struct policy_why asks[POLICY_MAX_ASKS];
	size_t n_asks;
	enum policy_approval approval;

	/* private to the library */
	struct policy_session *session_;
	struct policy__snap *snap_;
	struct policy__pending *pending_;
	size_t n_pending_, cap_pending_;
	char text_[POLICY_TEXT_MAX];
	size_t text_len_;
};

/* Decides ev for session s. State updates of the matched rules are applied
 * now if the verdict is ALLOW or DENY (a deny applies only the deciding
 * rule's updates), and held until policy_resolve if it is ASK. Returns 0, or
 * -ENOMEM (d is then a DENY). d must be released with policy_decision_release
 * even on error. */
int policy_eval(struct policy_session *s, const struct policy_event *ev, struct policy_decision *d);
/* Answers an ASK: approved applies the held updates; rejected drops them.
 * -EINVAL if d is not a pending ASK made by s. */
int policy_resolve(struct policy_session *s, struct policy_decision *d, bool approved);
/* The verdict to enforce now: ALLOW, DENY, or ASK while still pending. */
enum policy_verdict policy_decision_effective(const struct policy_decision *d);
void policy_decision_release(struct policy_decision *d);

/* ---- secrets ---- */

struct policy_secret; /* a binding's description; lives as long as its set */

enum policy_inject_how { POLICY_INJECT_HEADER, POLICY_INJECT_BASIC };

struct policy_injection {
	const struct policy_secret *secret;
	const char *name; /* the secret's name, e.g. "github" (never its value) */
	enum policy_inject_how how;
	const char *header;          /* HEADER: header name, e.g. "Authorization" */
	const char *prefix, *suffix; /* HEADER: the format around {secret} */
	const char *basic_user;      /* BASIC: the user name; the secret is the password */
	bool require_approval;
};

/* Which secrets may be injected into the egress request ev that d decided,
 * and how: only when d's effective verdict is ALLOW (an approved ASK counts),
 * only for https, only the bindings whose hosts match ev's host. When two
 * bindings want the same header (or basic auth), the one from the higher
 * level (server, then agent, then session; file order within one) wins.
 * Returns the number written to out (at most max), or -EINVAL. */
int policy_injections(const struct policy_decision *d, const struct policy_event *ev,
		      struct policy_injection *out, size_t max);
/* Every secret with a placeholder in the session's sets, for the jail's
 * environment: name and placeholder_env of each, at most max; returns the
 * count. The pointers are valid until the session's next evaluation (which
 * may pick up a swapped set) or its end. */
struct policy_placeholder {
	const struct policy_secret *secret;
	const char *name, *env;
};
int policy_session_placeholders(struct policy_session *s, struct policy_placeholder *out,
				size_t max);
/* THE accessor for a secret's value: reads its source (env:NAME or
 * file:PATH; one trailing newline dropped) into buf (NUL-terminated), sets
 * *len. Refuses values with NUL, CR or LF, empty ones and ones larger than
 * POLICY_SECRET_MAX or size-1. Errors name the secret and its source, never
 * its value. The caller wipes buf (explicit_bzero) when done. s must come
 * from a set the caller still holds (e.g. through the decision). */
int policy_secret_read(const struct policy_secret *s, char *buf, size_t size, size_t *len,
		       ombx_err *err);

/* ---- hosts and addresses (also used by the proxy) ---- */

/* Canonical form of a host: lowercase, no trailing dot (one is accepted),
 * IDNA2008 A-labels (UTS#46 non-transitional, through libidn2), LDH labels
 * (plus '_'); IP literals in canonical text (IPv4 dotted quad, IPv6 RFC 5952
 * without brackets). Refuses non-canonical IPv4 forms (2130706433,
 * 0x7f000001, 0177.0.0.1, 127.1) and any name whose last label is numeric.
 * out must hold POLICY_HOST_MAX + 1 bytes. Returns 0, or -EINVAL with err
 * saying why. */
int policy_host_canon(const char *host, char *out, size_t size, ombx_err *err);

struct policy_addr {
	uint8_t a[16]; /* IPv6, or IPv4 as ::ffff:a.b.c.d */
	bool v4;       /* given as IPv4 (not as a v4-mapped IPv6 address) */
};
/* Parses a canonical-form IP literal (see policy_host_canon): 0 or -EINVAL. */
int policy_addr_parse(const char *s, struct policy_addr *out);
/* If a is in an IANA special-purpose range (or one this engine treats as
 * such), returns that range's name (e.g. "link-local (169.254.0.0/16)");
 * NULL otherwise. */
const char *policy_addr_special(const struct policy_addr *a);
/* Whether addr (canonical-form IP text) may be dialled: not special, or
 * special but matched explicitly by a CIDR allow or ask rule of the
 * session's current sets; and denied by no CIDR deny rule. Only CIDR rules
 * are consulted (the request itself was decided by policy_eval). Fills d
 * like policy_eval (ALLOW or DENY, naming the CIDR rule or the engine);
 * applies no state. */
int policy_check_addr(struct policy_session *s, const char *addr, struct policy_decision *d);

/* Whether some egress allow or ask rule of the session's current sets names
 * host (or any host), whatever its methods, paths and conditions: the
 * jail's DNS stub answers only such names. */
bool policy_host_could_be_allowed(struct policy_session *s, const char *host);

/* An address range: "a.b.c.d/n" or "v6/n"; a bare address is a /32 or /128;
 * host bits must be zero. For callers with ranges of their own (the proxy's
 * --allow-cidr). */
struct policy_cidr {
	uint8_t a[16]; /* masked; IPv4 as ::ffff:a.b.c.d */
	uint8_t bits;  /* prefix length over the 128-bit form */
};
int policy_cidr_parse(const char *s, struct policy_cidr *out, ombx_err *err);
bool policy_cidr_match(const struct policy_cidr *c, const struct policy_addr *a);
/* Canonical text of a (dotted quad for IPv4, RFC 5952 for IPv6); size >= 46. */
void policy_addr_text(const struct policy_addr *a, char *buf, size_t size);

#endif
