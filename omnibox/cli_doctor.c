/* cli_doctor.c - `omnibox doctor`: what this kernel offers, what a jail here
 * gets, and a self-test that runs a real jail and checks it from inside.
 *
 * Tells the truth: every check is measured here, none assumed. Exits 0 only
 * if every layer a jail needs is available and the self-test passed. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "cli.h"
#include "landlock.h"
#include "omnibox.h"
#include "status.h"

struct check {
	const char *name;
	bool ok;
	bool required;
	char detail[256];
};

static bool userns_works(char *detail, size_t len)
{
	pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID |
						    CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD,
				   NULL, NULL, NULL, 0);
	int st;

	if (pid == 0)
		_exit(0);
	if (pid < 0) {
		snprintf(detail, len, "clone(CLONE_NEWUSER|...) failed: %s", strerror(errno));
		return false;
	}
	waitpid(pid, &st, 0);
	snprintf(detail, len, "user, mount, pid, net, ipc, uts namespaces can be created%s",
		 geteuid() == 0 ? " (as root)" : " (unprivileged)");
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static bool seccomp_works(char *detail, size_t len)
{
	unsigned action = SECCOMP_RET_KILL_PROCESS;

	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) {
		snprintf(detail, len, "seccomp unavailable: %s", strerror(errno));
		return false;
	}
	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0) {
		snprintf(detail, len, "SECCOMP_RET_KILL_PROCESS unavailable: %s", strerror(errno));
		return false;
	}
	snprintf(detail, len, "filter mode with kill-process; default-deny allowlist");
	return true;
}

/* The in-jail half of the self-test: each line must hold inside. */
static const char self_test[] =
	"grep -q '^CapEff:[[:space:]]*0000000000000000$' /proc/self/status || { echo CapEff; exit 1; }\n"
	"grep -q '^NoNewPrivs:[[:space:]]*1$' /proc/self/status || { echo NoNewPrivs; exit 1; }\n"
	"grep -q '^Seccomp:[[:space:]]*2$' /proc/self/status || { echo Seccomp; exit 1; }\n"
	"[ \"$(id -u)\" != 0 ] || { echo uid0; exit 1; }\n"
	"! (: > /usr/.ombx-doctor) 2>/dev/null || { echo usr-writable; exit 1; }\n"
	"[ ! -e /sys/kernel ] || { echo sys-visible; exit 1; }\n"
	"[ \"$(ls /proc | grep -c '^[0-9]')\" -lt 10 ] || { echo host-pids; exit 1; }\n"
	"exit 0\n";

static bool run_self_test(struct ombx_result *res, char *detail, size_t len)
{
	char ws[] = "/tmp/omnibox-doctor-XXXXXX";
	char *argv[] = {"/bin/sh", "-c", (char *)self_test, NULL};
	struct ombx_config cfg;
	ombx_err err = {0};
	int r, devnull;
	int saved = dup(STDOUT_FILENO);

	/* Empty and world-enterable: under root the jail runs as nobody. */
	if (!mkdtemp(ws) || chmod(ws, 0755) < 0) {
		snprintf(detail, len, "temporary workspace: %s", strerror(errno));
		return false;
	}
	ombx_config_init(&cfg);
	cfg.workspace = ws;
	cfg.argv = argv;
	cfg.timeout_sec = 30;
	/* The in-jail script names a failing check on stdout; keep it off ours. */
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull >= 0 && saved >= 0)
		dup2(devnull, STDOUT_FILENO);
	r = ombx_run(&cfg, res, &err);
	if (saved >= 0) {
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	if (devnull >= 0)
		close(devnull);
	rmdir(ws);
	if (r < 0) {
		snprintf(detail, len, "could not start a jail: %.200s", err.msg);
		return false;
	}
	if (res->exit_code != 0) {
		snprintf(detail, len, "a check failed inside the jail (exit %d)", res->exit_code);
		return false;
	}
	snprintf(detail, len, "ran a jail: caps empty, no_new_privs, seccomp filter, non-root uid, "
			      "read-only /usr, no /sys, no host pids (%.1f ms)",
		 res->duration_sec * 1000);
	return true;
}

int ombx_cli_doctor(int argc, char **argv)
{
	struct check c[6] = {0};
	struct ombx_result res = {0};
	struct utsname u;
	bool json = argc > 1 && strcmp(argv[1], "--json") == 0, all_ok = true;
	int abi, cgv, n = 0;

	if (argc > 2 || (argc == 2 && !json)) {
		ombx_cli_error("doctor: unknown argument %s (usage: omnibox doctor [--json])", argv[1]);
		return OMBX_EXIT_FAILURE;
	}
	uname(&u);

	c[n] = (struct check){.name = "namespaces", .required = true};
	c[n].ok = userns_works(c[n].detail, sizeof(c[n].detail));
	n++;

	abi = ombx_landlock_abi();
	c[n] = (struct check){.name = "landlock", .required = true, .ok = abi >= 1};
	if (abi >= 1)
		snprintf(c[n].detail, sizeof(c[n].detail),
			 "ABI %d: filesystem%s%s%s", abi, abi >= 3 ? ", truncate" : "",
			 abi >= 4 ? ", TCP bind/connect (used by --net proxy)" : "",
			 abi >= 6 ? ", abstract-socket and signal scoping" : "");
	else
		snprintf(c[n].detail, sizeof(c[n].detail), "unavailable (%s): jails refuse to run",
			 strerror(-abi));
	n++;

	c[n] = (struct check){.name = "seccomp", .required = true};
	c[n].ok = seccomp_works(c[n].detail, sizeof(c[n].detail));
	n++;

	cgv = ombx_cgroup_probe(c[n].detail, sizeof(c[n].detail));
	c[n].name = "cgroup";
	c[n].ok = cgv > 0;
	c[n].required = false; /* without one, limits are refused, not faked */
	n++;

	c[n] = (struct check){.name = "self-test", .required = true};
	c[n].ok = run_self_test(&res, c[n].detail, sizeof(c[n].detail));
	n++;

	for (int i = 0; i < n; i++)
		if (c[i].required && !c[i].ok)
			all_ok = false;

	if (json) {
		json_t *j = json_object(), *checks = json_object();
		json_object_set_new(j, "kernel", json_string(u.release));
		json_object_set_new(j, "privileged", json_boolean(geteuid() == 0));
		for (int i = 0; i < n; i++)
			json_object_set_new(checks, c[i].name,
					    json_pack("{s:b, s:b, s:s}", "ok", c[i].ok, "required",
						      c[i].required, "detail", c[i].detail));
		json_object_set_new(j, "checks", checks);
		json_object_set_new(j, "landlock_abi", json_integer(abi > 0 ? abi : 0));
		json_object_set_new(j, "cgroup_version", json_integer(cgv));
		json_object_set_new(j, "jail", ombx_layers_json(&res.layers));
		json_object_set_new(j, "ok", json_boolean(all_ok));
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(j);
	} else {
		printf("kernel %s, running as %s\n", u.release,
		       geteuid() == 0 ? "root" : "an unprivileged user");
		for (int i = 0; i < n; i++)
			printf("%-5s %-11s %s\n", c[i].ok ? "ok" : c[i].required ? "FAIL" : "warn",
			       c[i].name, c[i].detail);
		printf(all_ok ? "every layer is available; jails here get all of them\n"
			      : "a required layer is missing: omnibox exec will refuse to run\n");
	}
	return all_ok ? 0 : 1;
}
