/* eval.h - what eval.c and eval_match.c share: the prepared event, the
 * evaluation context and the verdict accumulator. */
#ifndef OMBX_POLICY_EVAL_H
#define OMBX_POLICY_EVAL_H

#include "internal.h"

/* An egress event made canonical once, before any rule sees it. */
struct policy__prep {
	char host[POLICY_HOST_MAX + 64];
	size_t hlen;
	bool is_ip;
	bool has_addr; /* the address dialled: addr, else an IP host */
	struct policy_addr addr;
	char path[POLICY_PATH_MAX + 8];
	size_t plen;
	bool has_path;
	uint32_t mbit;
	const char *method;
	size_t mlen;
	unsigned scheme, port;
};

struct policy__acc {
	bool denied, allowed;
	const struct policy__rule *deny; /* NULL for the engine's own */
	struct policy_why deny_why, allow_why;
	size_t asks_total;
	bool cidr_ok; /* an allow/ask rule matched the address by CIDR */
};

struct policy__ectx {
	struct policy_session *s;
	const struct policy_event *ev;
	struct policy_decision *d;
	struct policy__prep *prep;
	struct policy__acc *acc;
};

enum { MATCH_NO, MATCH_YES, MATCH_UNSURE };

/* Canonicalises ev into p; returns NULL, or why the event is refused (text
 * kept in d). */
const char *policy__prepare(const struct policy_event *ev, struct policy__prep *p,
			    struct policy_decision *d);
void policy__add_spend(struct policy__state *st, const struct policy_event *ev);
/* MATCH_*; *via_cidr when the destination matched by CIDR only. */
int policy__rule_matches(struct policy__ectx *x, const struct policy__rule *r, bool *via_cidr);
int policy__eval_rule(struct policy__ectx *x, const struct policy__rule *r, enum policy_level lvl);
/* Records a verdict; 1 for a deny (stop), <0 on ENOMEM. r is NULL for the
 * engine's own (which never carry updates). */
int policy__contribute(struct policy__ectx *x, const struct policy__rule *r, const char *name,
		       enum policy_level lvl, enum policy_verdict v, const char *reason,
		       bool has_update, int64_t arg, bool via_cidr);
/* Special-purpose addresses and secrets (egress only, when nothing denied). */
void policy__engine_checks(struct policy__ectx *x);

#endif
