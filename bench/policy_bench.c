/* policy_bench.c - egress evaluations per second against a 1,000-rule
 * policy, and the latency distribution of one evaluation.
 *
 *   policy_bench [SECONDS]      (run it through bench/policy, pinned to a core)
 *
 * The policy is generated: 700 exact-host shorthand rules with method and
 * path globs, 150 "*.domain" rules, 100 general rules with conditions and
 * state updates, 40 CIDR rules, 9 denies and the seed's cost budget (which
 * sees every event). The events are 4,096 requests cycling through hosts
 * that hit exact, wildcard and CIDR rules and hosts that match nothing, in
 * mixed case, with queries and percent-encoding to normalise. Anchors: the
 * same events against an empty policy (the engine's fixed cost: host and
 * path canonicalisation, snapshot, decision) and against a single rule.
 * Not a test: record the figures in docs/PERFORMANCE.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../policy/policy.h"

#define N_EVENTS    4096
#define LAT_SAMPLES 1000000

static char *policy_text(int n_rules)
{
	size_t cap = 1 << 20, off = 0;
	char *y = malloc(cap);
	int made = 0;

#define P(...) (off += (size_t)snprintf(y + off, cap - off, __VA_ARGS__))
	if (n_rules == 0) {
		y[0] = '\0';
		return y;
	}
	P("egress:\n  allow:\n");
	for (int i = 0; i < 700 && made < n_rules; i++, made++)
		P("    - \"%s host%d.example.com/%s\"\n", i % 3 ? "GET,HEAD" : "*", i,
		  i % 2 ? "api/v1/**" : "repos/*/*/issues/**");
	for (int i = 0; i < 150 && made < n_rules; i++, made++)
		P("    - \"* *.svc%d.internal.example/**\"\n", i);
	for (int i = 0; i < 40 && made < n_rules; i++, made++)
		P("    - \"* 203.0.%d.0/24\"\n", i); /* IP literals: by CIDR */
	if (made < n_rules)
		P("  deny:\n");
	for (int i = 0; i < 9 && made < n_rules; i++, made++)
		P("    - \"DELETE host%d.example.com/**\"\n", i * 7);
	if (made < n_rules)
		P("rules:\n");
	for (int i = 0; i < 100 && made < n_rules; i++, made++)
		P("  - {name: r%d, on: egress, match: {hosts: [host%d.example.com], methods: "
		  "[POST], "
		  "paths: [\"/**/git-receive-pack\"]}, if: \"flag%d\", decision: ask, increment: "
		  "{pushes: 1}}\n",
		  i, i * 5, i % 10);
	if (made < n_rules) {
		P("policies:\n  budget: {handler: omnigent.policies.builtins.cost.cost_budget, "
		  "factory_params: {max_cost_usd: 5.00, ask_thresholds_usd: [3.00]}}\n");
		made++;
	}
#undef P
	return y;
}

struct ev {
	char host[96], path[96];
	const char *method;
};

static void make_events(struct ev *evs)
{
	static const char *const methods[] = {"GET", "GET", "GET", "HEAD", "POST", "DELETE"};
	unsigned s = 12345;

	for (int i = 0; i < N_EVENTS; i++) {
		s = s * 1103515245 + 12345;
		unsigned r = (s >> 8) % 100, k = (s >> 4) % 700;
		evs[i].method = methods[(s >> 16) % 6];
		if (r < 60)
			snprintf(evs[i].host, sizeof(evs[i].host),
				 k % 4 ? "host%u.example.com" : "Host%u.Example.COM.", k);
		else if (r < 75)
			snprintf(evs[i].host, sizeof(evs[i].host), "api.svc%u.internal.example",
				 k % 150);
		else if (r < 85)
			snprintf(evs[i].host, sizeof(evs[i].host), "203.0.%u.%u", k % 60, k % 250);
		else
			snprintf(evs[i].host, sizeof(evs[i].host), "nothing%u.example.net", k);
		snprintf(evs[i].path, sizeof(evs[i].path),
			 k % 3 ? "/api/v1/items/%u?page=2" : "/repos/acme/app%%2Dx/issues/%u", k);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct result {
	double per_sec, p50, p99, p999, compile_us;
	size_t allow, deny, ask;
};

static int run(int n_rules, double seconds, const struct ev *evs, struct result *res)
{
	char *yaml = policy_text(n_rules);
	struct policy_engine *e;
	struct policy_session *s;
	struct policy_set *set;
	ombx_err err = {0};
	double t0, t1, *lat;
	size_t n = 0;

	memset(res, 0, sizeof(*res));
	t0 = now();
	if (policy_set_load_buffer("bench.yaml", yaml, strlen(yaml), &set, &err) < 0) {
		fprintf(stderr, "policy_bench: %s\n", err.msg);
		return -1;
	}
	res->compile_us = (now() - t0) * 1e6;
	if (n_rules && policy_set_rule_count(set) != (size_t)n_rules) {
		fprintf(stderr, "policy_bench: generated %zu rules, wanted %d\n",
			policy_set_rule_count(set), n_rules);
		return -1;
	}
	free(yaml);
	policy_engine_new(&e);
	policy_engine_swap(e, POLICY_LEVEL_AGENT, set);
	policy_session_new(e, &s);

	/* throughput */
	t0 = now();
	do {
		for (int i = 0; i < 1024; i++, n++) {
			const struct ev *x = &evs[n % N_EVENTS];
			struct policy_event ev = {.kind = POLICY_EGRESS,
						  .method = x->method,
						  .scheme = "https",
						  .host = x->host,
						  .path = x->path};
			struct policy_decision d;
			policy_eval(s, &ev, &d);
			res->allow += d.verdict == POLICY_ALLOW;
			res->deny += d.verdict == POLICY_DENY;
			res->ask += d.verdict == POLICY_ASK;
			policy_decision_release(&d);
		}
		t1 = now();
	} while (t1 - t0 < seconds);
	res->per_sec = (double)n / (t1 - t0);

	/* latency, one evaluation at a time (timer cost included) */
	lat = malloc(LAT_SAMPLES * sizeof(*lat));
	for (size_t i = 0; lat && i < LAT_SAMPLES; i++) {
		const struct ev *x = &evs[i % N_EVENTS];
		struct policy_event ev = {.kind = POLICY_EGRESS,
					  .method = x->method,
					  .scheme = "https",
					  .host = x->host,
					  .path = x->path};
		struct policy_decision d;
		double a = now();
		policy_eval(s, &ev, &d);
		policy_decision_release(&d);
		lat[i] = (now() - a) * 1e9;
	}
	if (lat) {
		qsort(lat, LAT_SAMPLES, sizeof(*lat), cmp_double);
		res->p50 = lat[LAT_SAMPLES / 2];
		res->p99 = lat[LAT_SAMPLES / 100 * 99];
		res->p999 = lat[LAT_SAMPLES / 1000 * 999];
	}
	free(lat);
	policy_session_free(s);
	policy_engine_free(e);
	return 0;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 3.0, timer[1001];
	static struct ev evs[N_EVENTS];
	static const int sizes[] = {0, 1, 1000};
	struct result r[3];

	if (seconds <= 0)
		seconds = 3.0;
	make_events(evs);
	for (int i = 0; i <= 1000; i++)
		timer[i] = now();
	printf("timer cost: %.0f ns per reading (included in the latencies)\n",
	       (timer[1000] - timer[0]) / 1000 * 1e9);
	printf("%-22s %14s %9s %9s %9s   %s\n", "policy", "evals/s", "p50", "p99", "p99.9",
	       "allow/deny/ask of the throughput run");
	for (int k = 0; k < 3; k++) {
		if (run(sizes[k], seconds, evs, &r[k]) < 0)
			return 1;
		printf("%-22s %14.0f %7.0fns %7.0fns %7.0fns   %zu/%zu/%zu\n",
		       k == 0   ? "empty (anchor)"
		       : k == 1 ? "1 rule (anchor)"
				: "1000 rules",
		       r[k].per_sec, r[k].p50, r[k].p99, r[k].p999, r[k].allow, r[k].deny,
		       r[k].ask);
	}
	printf("1000 rules / empty throughput ratio: %.2f\n", r[2].per_sec / r[0].per_sec);
	printf("compiling the 1000-rule policy (YAML to indexed set): %.0f us\n", r[2].compile_us);
	printf("target >= 1000000 evaluations/s on one core: %s\n",
	       r[2].per_sec >= 1e6 ? "met" : "NOT met");
	return 0;
}
