/* fuzz_policy_load.c - fuzz target: any bytes as a policy file.
 *
 * A load either fails with a message that starts with the file's name (every
 * load error names FILE:LINE:COL, or FILE: for whole-file problems) or yields
 * a set that then survives a round of evaluations. The corpus is replayed
 * by ctest (replay.c); with clang, -DOMBX_FUZZ=ON builds the libFuzzer
 * binary. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(struct policy_set *set)
{
	static const char *argv[] = {"git", "push", "--force"};
	struct policy_event evs[] = {
		{.kind = POLICY_EGRESS,
		 .method = "GET",
		 .scheme = "https",
		 .host = "api.github.com",
		 .path = "/repos/a/b"},
		{.kind = POLICY_EGRESS,
		 .method = "POST",
		 .scheme = "https",
		 .host = "github.com",
		 .path = "/a/b.git/git-receive-pack"},
		{.kind = POLICY_EGRESS,
		 .method = "GET",
		 .scheme = "http",
		 .host = "10.0.0.1",
		 .path = "/"},
		{.kind = POLICY_EXEC, .argv = argv, .argc = 3},
		{.kind = POLICY_TOOL_CALL, .tool = "Bash", .command = "rm -rf / && git push -f"},
		{.kind = POLICY_USAGE, .cost_micro_usd = 3000000},
	};
	struct policy_engine *e;
	struct policy_session *s;

	if (policy_engine_new(&e) < 0)
		return;
	policy_engine_swap(e, POLICY_LEVEL_AGENT, policy_set_ref(set));
	if (policy_session_new(e, &s) == 0) {
		for (int round = 0; round < 2; round++)
			for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
				struct policy_decision d;
				struct policy_injection in[4];
				policy_eval(s, &evs[i], &d);
				if (d.verdict == POLICY_NONE || !d.why.rule || !d.why.reason)
					abort();
				if (d.verdict == POLICY_ASK)
					policy_resolve(s, &d, round == 0);
				if (evs[i].kind == POLICY_EGRESS)
					policy_injections(&d, &evs[i], in, 4);
				policy_decision_release(&d);
			}
		policy_session_free(s);
	}
	policy_engine_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_set *set = NULL;
	ombx_err err = {0};

	if (policy_set_load_buffer("fuzz.yaml", (const char *)data, size, &set, &err) < 0) {
		if (set || (strncmp(err.msg, "fuzz.yaml:", 10) != 0 && err.code != 12 /* ENOMEM */))
			abort(); /* an error must name the file */
		return 0;
	}
	exercise(set);
	policy_set_unref(set);
	return 0;
}
