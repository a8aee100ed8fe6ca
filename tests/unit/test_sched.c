/* test_sched.c - the proxy's coroutine scheduler (proxy/sched.c) on one
 * worker: a connection that never waits still lets others run, a wait
 * times out, a wait ends when its descriptor is ready, and a blocking call
 * run through proxy__sched_block leaves the worker free. */
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "proxy/internal.h"

static atomic_int done;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wait_done(int n)
{
	for (int i = 0; i < 1000 && atomic_load(&done) < n; i++)
		usleep(10000);
}

/* ---- fairness ---- */

static char trace[4001];
static atomic_int tlen, started;

static void *busy(void *arg)
{
	char c = *(const char *)arg;

	/* Both first: the worker may run all of A before main has spawned B
	 * (it did, 1 run in 30, beside a CPU-bound loop), which says nothing
	 * about fairness. Bounded: a scheduler that never switches fails the
	 * check below instead of hanging here. */
	atomic_fetch_add(&started, 1);
	for (int i = 0; i < 1000000 && atomic_load(&started) < 2; i++)
		proxy__sched_tick();
	for (int i = 0; i < 2000; i++) {
		trace[atomic_fetch_add(&tlen, 1)] = c;
		proxy__sched_tick(); /* what every read and write calls */
	}
	atomic_fetch_add(&done, 1);
	return NULL;
}

/* ---- waits ---- */

static int pipe_fds[2];
static int got_timeout, got_ready;
static int64_t waited_timeout, waited_ready;

static void *wait_timeout(void *arg)
{
	int p[2];
	struct pollfd pfd;
	int64_t t0 = now_ms();

	(void)arg;
	if (pipe(p) == 0) {
		pfd = (struct pollfd){.fd = p[0], .events = POLLIN};
		got_timeout = proxy__poll(&pfd, 1, 60);
		waited_timeout = now_ms() - t0;
		proxy__close(p[0]);
		proxy__close(p[1]);
	}
	atomic_fetch_add(&done, 1);
	return NULL;
}

static void *wait_ready(void *arg)
{
	struct pollfd pfd = {.fd = pipe_fds[0], .events = POLLIN};
	int64_t t0 = now_ms();

	(void)arg;
	got_ready = proxy__poll(&pfd, 1, 5000);
	got_ready = got_ready == 1 && (pfd.revents & POLLIN) ? 1 : -1;
	waited_ready = now_ms() - t0;
	atomic_fetch_add(&done, 1);
	return NULL;
}

static void *writer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200; i++)
		proxy__sched_tick(); /* let the reader start waiting */
	(void)!write(pipe_fds[1], "x", 1);
	atomic_fetch_add(&done, 1);
	return NULL;
}

/* ---- a blocking call ---- */

static atomic_int block_over, ran_meanwhile;

static void sleepy(void *arg)
{
	(void)arg;
	usleep(200000);
	atomic_store(&block_over, 1);
}

static void *blocker(void *arg)
{
	(void)arg;
	proxy__sched_block(sleepy, NULL);
	atomic_fetch_add(&done, 1);
	return NULL;
}

static void *meanwhile(void *arg)
{
	struct pollfd none = {.fd = -1};

	(void)arg;
	proxy__poll(&none, 1, 20); /* let the blocker go first */
	if (!atomic_load(&block_over))
		atomic_store(&ran_meanwhile, 1);
	atomic_fetch_add(&done, 1);
	return NULL;
}

int main(void)
{
	struct proxy p;
	ombx_err err = {0};
	static const char a = 'A', b = 'B';

	memset(&p, 0, sizeof(p));
	if (proxy__sched_init(&p, 1, &err) < 0) {
		printf("not ok - init: %s\n", err.msg);
		return 1;
	}

	proxy__sched_spawn(&p, busy, (void *)&a);
	proxy__sched_spawn(&p, busy, (void *)&b);
	wait_done(2);
	const char *first_b = memchr(trace, 'B', 4000), *last_a = memrchr(trace, 'A', 4000);
	check(atomic_load(&done) == 2 && first_b && last_a && first_b < last_a,
	      "a coroutine that never waits lets the other one run", "trace %.40s...",
	      trace);

	atomic_store(&done, 0);
	if (pipe(pipe_fds) < 0)
		return 1;
	proxy__sched_spawn(&p, wait_timeout, NULL);
	proxy__sched_spawn(&p, wait_ready, NULL);
	proxy__sched_spawn(&p, writer, NULL);
	wait_done(3);
	check(got_timeout == 0 && waited_timeout >= 50,
	      "a wait on a quiet descriptor times out (0 after its timeout)", "%d after %lld ms",
	      got_timeout, (long long)waited_timeout);
	check(got_ready == 1 && waited_ready < 5000,
	      "a wait ends with POLLIN when another coroutine writes", "%d after %lld ms",
	      got_ready, (long long)waited_ready);

	atomic_store(&done, 0);
	proxy__sched_spawn(&p, blocker, NULL);
	proxy__sched_spawn(&p, meanwhile, NULL);
	wait_done(2);
	check(atomic_load(&done) == 2 && atomic_load(&ran_meanwhile),
	      "a blocking call through proxy__sched_block leaves the worker to others",
	      "done %d, ran meanwhile %d", atomic_load(&done), atomic_load(&ran_meanwhile));

	proxy__sched_stop(&p);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	return finish();
}
