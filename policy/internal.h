/* internal.h - what the policy library's modules share and nobody else sees.
 *
 * The compiled form of a policy file (struct policy_set and its rules), the
 * arena it lives in, the snapshot of the three levels a decision holds, and
 * the small helpers every module uses. Everything a compiled set points to is
 * allocated from the set's arena and freed with it, so a half-built set frees
 * cleanly. Nothing here ever holds a secret's value. */
#ifndef OMBX_POLICY_INTERNAL_H
#define OMBX_POLICY_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/quote.h"
#include "policy.h"

/* ---- arena: one allocation lifetime per set ---- */

struct policy__arena {
	struct policy__block *head;
};
void *policy__alloc(struct policy__arena *a, size_t size); /* zeroed; NULL on ENOMEM */
char *policy__strndup(struct policy__arena *a, const char *s, size_t len);
void policy__arena_free(struct policy__arena *a);

/* ---- small helpers (util.c) ---- */

#define POLICY_QUOTE_MAX 120 /* a quoted value in a message (common/quote.h) */
uint64_t policy__hash(const char *s, size_t len);
/* [A-Za-z_][A-Za-z0-9_.-]*, at most POLICY_NAME_MAX bytes. */
bool policy__name_valid(const char *s, size_t len);
/* Decimal USD ("5", "5.00", "0.125"; up to 6 decimals, no sign) into
 * micro-USD: 0, -EINVAL or -ERANGE. */
int policy__parse_usd(const char *s, size_t len, int64_t *out);
/* Writes micro-USD as "$5.00" (two decimals, more if needed). */
void policy__format_usd(char *buf, size_t size, int64_t micro);

/* ---- hosts, addresses, globs, commands (host.c, cidr.c, glob.c, cmd.c) ---- */

/* p against t, '*' matching any run of characters (no other wildcards). */
bool policy__wildmatch(const char *p, size_t plen, const char *t, size_t tlen);

/* A host pattern: an exact name, "*.suffix" (subdomains of suffix only) or
 * "*" (any host, names and addresses). */
struct policy__hostpat {
	const char *name; /* canonical exact name, or the suffix after "*." */
	size_t len;
	bool wildcard, any;
};
/* Compiles a host pattern; IP literals are refused (CIDRs say that). msg
 * gets the reason on -EINVAL. */
int policy__hostpat_parse(struct policy__arena *a, const char *s, size_t len,
			  struct policy__hostpat *out, char *msg, size_t msgsize);
bool policy__hostpat_match(const struct policy__hostpat *p, const char *host, size_t len,
			   bool is_ip);
/* policy_host_canon without the libidn2 slow path's allocation for ASCII
 * input; *is_ip says whether out is an IP literal. msg on -EINVAL. */
int policy__host_canon(const char *host, size_t len, char *out, size_t size, bool *is_ip, char *msg,
		       size_t msgsize);

struct policy__cidr {
	uint8_t a[16]; /* masked; IPv4 as ::ffff:a.b.c.d */
	uint8_t bits;  /* prefix length over the 128-bit form */
};
/* "a.b.c.d/n" or "v6/n" (a bare address is a /32 or /128). Host bits must be
 * zero. msg on -EINVAL. */
int policy__cidr_parse(const char *s, size_t len, struct policy__cidr *out, char *msg,
		       size_t msgsize);
bool policy__cidr_match(const struct policy__cidr *c, const struct policy_addr *a);
/* The strict dotted quad (four decimal parts 0-255, no leading zeros). */
int policy__parse_v4(const char *s, size_t len, uint8_t out[4]);
void policy__addr_text(const struct policy_addr *a, char *buf, size_t size);
/* Whether s (len bytes) looks like a CIDR rather than host/path. */
bool policy__looks_cidr(const char *s, size_t len);

enum policy__seg_kind { SEG_LIT, SEG_STAR, SEG_DSTAR };
struct policy__glob {
	const char *text;  /* as written, for messages */
	const char **segs; /* each segment's pattern (may contain '*'), normalised */
	uint16_t *seg_len;
	uint8_t *seg_kind; /* enum policy__seg_kind */
	size_t n_segs;
};
int policy__glob_parse(struct policy__arena *a, const char *s, size_t len, struct policy__glob *out,
		       char *msg, size_t msgsize);
/* path must be normalised (policy__path_norm). */
bool policy__glob_match(const struct policy__glob *g, const char *path, size_t len);
/* Normalises a request path into out (size >= len + 1): drops the query and
 * fragment, decodes %XX of unreserved characters, upper-cases other %XX.
 * -EINVAL with msg for anything a server could read two ways: no leading
 * '/', dot-segments, bad %XX, bytes that must be encoded. */
int policy__path_norm(const char *path, size_t len, char *out, size_t size, size_t *outlen,
		      char *msg, size_t msgsize);

/* A command pattern: "git push --force", "rm -rf /". */
struct policy__cmdpat {
	const char *text;
	const char **words;
	size_t n_words;
};
int policy__cmdpat_parse(struct policy__arena *a, const char *s, size_t len,
			 struct policy__cmdpat *out, char *msg, size_t msgsize);
enum policy__cmd_result { CMD_NO_MATCH = 0, CMD_MATCH = 1, CMD_UNPARSEABLE = 2 };
/* Matches an argv (exec) or a shell command string (tool call) against the
 * patterns: each simple command found (split on ; && || | & newlines and
 * $( ) / backticks, through wrappers such as sudo/env/timeout and sh -c) is
 * tried. *which is the index of the first pattern that matched. */
enum policy__cmd_result policy__cmd_match_argv(const struct policy__cmdpat *pats, size_t n,
					       const char *const *argv, size_t argc, size_t *which);
enum policy__cmd_result policy__cmd_match_string(const struct policy__cmdpat *pats, size_t n,
						 const char *cmd, size_t *which);

/* ---- compiled rules ---- */

enum policy__handler {
	H_NONE = 0,       /* a rule from rules: or the egress shorthand */
	H_COST_BUDGET,    /* omnigent.policies.builtins.cost.cost_budget */
	H_MAX_TOOL_CALLS, /* ...safety.max_tool_calls_per_session */
	H_DENY_COMMANDS,  /* ...safety.deny_commands */
	H_ASK_COMMANDS,   /* ...safety.ask_commands */
};

enum policy__cmp { CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_EQ, CMP_NE };
struct policy__cond {
	enum { COND_FLAG, COND_NOT, COND_CMP, COND_SPEND } kind;
	const char *name; /* flag or counter */
	uint64_t hash;
	enum policy__cmp op;
	int64_t value; /* counters: the number; spend: micro-USD */
};

struct policy__update {
	enum { UPD_SET, UPD_UNSET, UPD_INCR } op;
	const char *name;
	uint64_t hash;
	int64_t n;
};

#define M_GET     (1u << 0)
#define M_HEAD    (1u << 1)
#define M_POST    (1u << 2)
#define M_PUT     (1u << 3)
#define M_PATCH   (1u << 4)
#define M_DELETE  (1u << 5)
#define M_OPTIONS (1u << 6)
#define M_CONNECT (1u << 7)
#define M_TRACE   (1u << 8)
#define M_OTHER   (1u << 9) /* see xmethods */
#define M_ANY     0xffffffffu
uint32_t policy__method_bit(const char *m, size_t len); /* M_OTHER if not a known one */

#define SCHEME_HTTP  1u
#define SCHEME_HTTPS 2u

struct policy__budget {
	int64_t max;         /* micro-USD */
	int64_t *thresholds; /* ascending, each < max */
	size_t n_thresholds;
};

struct policy__rule {
	uint32_t index; /* file order */
	const char *name, *reason;
	bool own_reason; /* a built-in's reason came from its factory_params */
	enum policy_kind on;
	bool any_kind; /* built-ins that see every kind */
	enum policy_verdict decision;
	/* egress */
	struct policy__hostpat *hosts;
	size_t n_hosts;
	struct policy__cidr *cidrs;
	size_t n_cidrs;
	uint32_t methods; /* M_ANY when not restricted */
	const char **xmethods;
	size_t n_xmethods;
	struct policy__glob *paths; /* n_paths == 0: any path */
	size_t n_paths;
	unsigned *ports;
	size_t n_ports;
	unsigned schemes; /* 0: any */
	/* exec, tool_call */
	const char **tools; /* tool-name patterns ('*' globs); none: any */
	size_t n_tools;
	struct policy__cmdpat *cmds;
	size_t n_cmds;
	/* state */
	struct policy__cond *conds;
	size_t n_conds;
	struct policy__update *upds;
	size_t n_upds;
	/* built-ins */
	enum policy__handler handler;
	struct policy__budget budget;
	int64_t limit;
};

/* ---- secrets ---- */

struct policy__inject {
	struct policy__hostpat *hosts;
	size_t n_hosts;
	enum policy_inject_how how;
	const char *header, *prefix, *suffix, *basic_user;
};

struct policy_secret {
	const char *name;
	enum { SRC_ENV, SRC_FILE } src;
	const char *src_arg; /* the variable's name or the file's path */
	const char *placeholder_env;
	struct policy__inject *inject;
	size_t n_inject;
	bool require_approval;
};

/* The first of s's bindings whose hosts match host, or NULL (secrets.c). */
const struct policy__inject *policy__secret_binding(const struct policy_secret *s, const char *host,
						    size_t hlen, bool is_ip);

/* ---- a compiled set ---- */

/* Rule indices (uint32) under a host key. */
struct policy__hslot {
	const char *key;
	size_t len;
	uint64_t hash;
	uint32_t *rules;
	size_t n_rules;
};
struct policy__hmap {
	struct policy__hslot *slots; /* open addressing; key NULL = empty */
	size_t mask;                 /* capacity - 1, capacity a power of two */
};
const struct policy__hslot *policy__hmap_get(const struct policy__hmap *m, const char *key,
					     size_t len, uint64_t hash);

struct policy__list {
	uint32_t *idx;
	size_t n;
};

struct policy_set {
	atomic_uint refs;
	struct policy__arena arena;
	const char *name;
	struct policy__rule *rules;
	size_t n_rules;
	struct policy__list by_kind[4];  /* non-egress rules, by policy_kind */
	struct policy__list any_kind;    /* built-ins that see every kind */
	struct policy__hmap exact, wild; /* egress rules by host, by "*." suffix */
	struct policy__list egress_any;  /* egress rules for any host */
	struct policy__list egress_cidr; /* egress rules with CIDRs */
	struct policy_secret *secrets;
	size_t n_secrets;
};

/* Builds the indices once every rule is compiled (index.c). */
int policy__set_index(struct policy_set *s);

/* ---- snapshots: the three levels a decision was made with ---- */

struct policy__snap {
	atomic_uint refs;
	struct policy_set *sets[POLICY_N_LEVELS];
	uint64_t version;
};
void policy__snap_unref(struct policy__snap *s);
/* The engine's current snapshot, referenced. */
struct policy__snap *policy__engine_snap(struct policy_engine *e);
uint64_t policy__engine_version_relaxed(struct policy_engine *e);
void policy__engine_hold(struct policy_engine *e);
void policy__engine_drop(struct policy_engine *e);

/* ---- session state (state.c) ---- */

struct policy__kv {
	char *key; /* NULL: empty slot */
	uint64_t hash;
	int64_t val;
};
struct policy__state {
	struct policy__kv *slots;
	size_t cap, n;
	int64_t spend; /* micro-USD */
};
int64_t policy__state_get(const struct policy__state *st, const char *key, size_t len,
			  uint64_t hash);
/* Sets or adds (saturating); -ENOSPC past POLICY_STATE_MAX names, -ENOMEM. */
int policy__state_put(struct policy__state *st, const char *key, size_t len, uint64_t hash,
		      int64_t val, bool add);
void policy__state_free(struct policy__state *st);
bool policy__conds_hold(const struct policy__rule *r, const struct policy__state *st);
int policy__apply_updates(const struct policy__rule *r, struct policy__state *st);

struct policy_session {
	struct policy_engine *engine;
	struct policy__snap *snap;
	uint64_t version;
	struct policy__state st;
};

/* ---- decisions (eval.c, builtins.c) ---- */

struct policy__pending {
	const struct policy__rule *rule;
	enum policy_level level;
	enum policy_verdict v; /* the rule's own verdict on the event */
	int64_t arg;           /* a built-in's own update (e.g. the threshold approved) */
};

/* Copies text into d's own buffer; returns a stable pointer (or a fixed
 * message if the buffer is full). */
const char *policy__text(struct policy_decision *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A built-in's view of one event. */
struct policy__bi_out {
	enum policy_verdict verdict;
	const char *reason; /* from policy__text or the set */
	bool has_update;
	int64_t arg;
};
void policy__builtin_eval(const struct policy__rule *r, enum policy_level level,
			  const struct policy_event *ev, const struct policy__state *st,
			  struct policy_decision *d, struct policy__bi_out *out);
int policy__builtin_apply(const struct policy__rule *r, enum policy_level level, int64_t arg,
			  struct policy__state *st);

/* The handler table (builtins.c), for the loader. */
struct policy__handler_info {
	const char *dotted;
	enum policy__handler h;
};
const struct policy__handler_info *policy__handler_find(const char *name, size_t len);
extern const char policy__handler_list[]; /* "a, b, c" for messages */

#endif
