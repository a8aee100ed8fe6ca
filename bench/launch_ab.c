/* launch_ab.c - A/B of omnibox binaries, launches interleaved.
 *
 *   launch_ab ROUNDS WORKSPACE OMNIBOX... (run it through bench/launch-ab)
 *
 * Each round launches `OMNIBOX exec --workspace WORKSPACE -- /bin/true` for
 * every binary given and bwrap as bench/launch runs it, in an order shuffled
 * afresh each round (a fixed seed, so runs are repeatable); it prints each
 * one's median and quartiles and the median ratio to bwrap. hyperfine runs
 * one command's launches back to back, then the next one's: on a shared VM
 * whose speed drifts within seconds, that made a 0.1 ms difference come out
 * either way. Here a drift lands on every binary alike. The order is
 * shuffled rather than rotated because a launch pays for what the one
 * before it left (a network namespace is torn down after its jail has
 * exited), and a rotation gives each binary the same predecessor more
 * often than the others. bench/launch-ab runs fresh copies of the binaries
 * (see there). Not a test: record the figures in docs/PERFORMANCE.md. */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define MAX_BINS 8
#define WARMUP   10

extern char **environ;

static char *bwrap_argv[] = {"bwrap", "--unshare-all", "--die-with-parent", "--new-session",
			     "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
			     "--tmpfs", "/tmp", "/bin/true", NULL};

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* xorshift64: a fixed sequence, so that two runs shuffle alike. */
static unsigned long long next_random(void)
{
	static unsigned long long x = 0x9e3779b97f4a7c15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One launch, stdout to /dev/null; its wall time, or -1 if it failed. */
static double launch(char **argv, const posix_spawn_file_actions_t *fa)
{
	double t0 = now_ms();
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, argv[0], fa, NULL, argv, environ) != 0)
		return -1;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return now_ms() - t0;
}

int main(int argc, char **argv)
{
	char *cmds[MAX_BINS + 1][7];
	double *t[MAX_BINS + 1];
	posix_spawn_file_actions_t fa;
	int rounds, n, failed = 0;

	if (argc < 4 || argc - 3 > MAX_BINS || (rounds = atoi(argv[1])) < 1) {
		fprintf(stderr, "usage: launch_ab ROUNDS WORKSPACE OMNIBOX... (at most %d)\n",
			MAX_BINS);
		return 2;
	}
	n = argc - 3 + 1; /* the binaries, then bwrap */
	for (int k = 0; k < n - 1; k++) {
		char *c[] = {argv[3 + k], "exec", "--workspace", argv[2], "--", "/bin/true", NULL};
		memcpy(cmds[k], c, sizeof(c));
	}
	for (int k = 0; k < n; k++)
		if (!(t[k] = calloc((size_t)rounds, sizeof(double))))
			return 1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	for (int i = -WARMUP; i < rounds; i++) {
		int order[MAX_BINS + 1];

		for (int j = 0; j < n; j++)
			order[j] = j;
		for (int j = n - 1; j > 0; j--) { /* Fisher-Yates */
			int r = (int)(next_random() % (unsigned)(j + 1)), x = order[j];
			order[j] = order[r];
			order[r] = x;
		}
		for (int j = 0; j < n; j++) {
			int k = order[j];
			double ms = launch(k == n - 1 ? bwrap_argv : cmds[k], &fa);
			if (ms < 0)
				failed++;
			else if (i >= 0)
				t[k][i] = ms;
		}
	}
	for (int k = 0; k < n; k++)
		qsort(t[k], (size_t)rounds, sizeof(double), cmp_double);
	for (int k = 0; k < n; k++)
		printf("%-32s median %6.3f ms  p25 %6.3f  p75 %6.3f  /bwrap %.3f\n",
		       k == n - 1 ? "bwrap" : argv[3 + k], t[k][rounds / 2], t[k][rounds / 4],
		       t[k][3 * rounds / 4], t[k][rounds / 2] / t[n - 1][rounds / 2]);
	if (failed)
		printf("%d launches failed (counted as 0 ms): the figures are not to be used\n",
		       failed);
	return failed ? 1 : 0;
}
