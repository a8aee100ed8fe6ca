/* jail.c - ombx_run: prepare a jail, start it, watch it, tear it down.
 *
 * Everything that can be decided outside the jail is decided here, before
 * clone: canonical paths, the environment, the seccomp program, the cgroup,
 * the uid mapping. The child only carries out the plan (child.c). This side
 * writes the id maps, joins the child to its cgroup, relays signals and the
 * pty, enforces --timeout, and reports how the command ended. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "cgroup.h"
#include "jail.h"
#include "landlock.h"
#include "tty.h"

#define NOBODY 65534u

static double now_sec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* jail_ + 48-bit millisecond time + 80 random bits: sortable, unique. */
int ombx_session_id(char out[40])
{
	struct timespec ts;
	unsigned char rnd[10];
	uint64_t ms;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	n = snprintf(out, 40, "jail_%012llx", (unsigned long long)(ms & 0xffffffffffffULL));
	for (size_t i = 0; i < sizeof(rnd); i++)
		n += snprintf(out + n, 40 - (size_t)n, "%02x", rnd[i]);
	return 0;
}

static void plan_free(struct ombx__plan *p)
{
	for (size_t i = 0; i < p->n_binds; i++)
		free(p->binds[i].path);
	free(p->binds);
	for (char **v = p->envp; v && *v; v++)
		free(*v);
	free(p->envp);
	for (char **v = p->argv; v && *v; v++)
		free(*v);
	free(p->argv);
	free(p->workspace);
}

static int env_push(char **envp, size_t *n, const char *name, const char *value)
{
	size_t len = strlen(name);

	/* Later settings replace earlier ones. */
	for (size_t i = 0; i < *n; i++)
		if (strncmp(envp[i], name, len) == 0 && envp[i][len] == '=') {
			free(envp[i]);
			envp[i] = NULL;
			if (asprintf(&envp[i], "%s=%s", name, value) < 0)
				return -ENOMEM;
			return 0;
		}
	if (asprintf(&envp[*n], "%s=%s", name, value) < 0)
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int copy_argv(char *const *argv, struct ombx__plan *p)
{
	size_t n = 0;

	while (argv[n])
		n++;
	p->argv = calloc(n + 1, sizeof(char *));
	if (!p->argv)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(p->argv[i] = strdup(argv[i])))
			return -ENOMEM;
	return 0;
}

/* Deny by default: a fixed base, then --env-pass names, then --env. */
static int build_env(const struct ombx_config *c, struct ombx__plan *p)
{
	size_t n = 0, cap = 8 + c->n_env_pass + c->n_env + 1;
	const char *term = getenv("TERM");
	int r = 0;

	p->envp = calloc(cap, sizeof(char *));
	if (!p->envp)
		return -ENOMEM;
	r |= env_push(p->envp, &n, "PATH", OMBX_JAIL_PATH);
	r |= env_push(p->envp, &n, "HOME", OMBX_JAIL_HOME);
	r |= env_push(p->envp, &n, "USER", "user");
	r |= env_push(p->envp, &n, "LOGNAME", "user");
	r |= env_push(p->envp, &n, "SHELL", "/bin/sh");
	r |= env_push(p->envp, &n, "LANG", "C.UTF-8");
	if (term && (c->tty || isatty(STDOUT_FILENO)))
		r |= env_push(p->envp, &n, "TERM", term);
	for (size_t i = 0; r == 0 && i < c->n_env_pass; i++) {
		const char *v = getenv(c->env_pass[i]);
		if (v)
			r = env_push(p->envp, &n, c->env_pass[i], v);
	}
	for (size_t i = 0; r == 0 && i < c->n_env; i++) {
		char name[256];
		const char *eq = strchr(c->env[i], '=');
		if (!eq || (size_t)(eq - c->env[i]) >= sizeof(name))
			return -EINVAL;
		memcpy(name, c->env[i], (size_t)(eq - c->env[i]));
		name[eq - c->env[i]] = '\0';
		r = env_push(p->envp, &n, name, eq + 1);
	}
	return r < 0 ? -ENOMEM : 0;
}

/* Whether path (canonical) is OMBX_SETUP_DIR or beneath it. */
static bool setup_path(const char *path)
{
	size_t n = strlen(OMBX_SETUP_DIR);

	return strncmp(path, OMBX_SETUP_DIR, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int resolve_paths(const struct ombx_config *c, struct ombx__plan *p, ombx_err *err)
{
	const char *ws = c->workspace ? c->workspace : ".";
	struct stat st;

	p->workspace = realpath(ws, NULL);
	if (!p->workspace)
		return ombx_err_errno(err, errno, "workspace %s", ws);
	if (stat(p->workspace, &st) < 0 || !S_ISDIR(st.st_mode))
		return ombx_err_set(err, ENOTDIR, "workspace %s is not a directory", ws);
	if (strcmp(p->workspace, "/") == 0)
		return ombx_err_set(err, EINVAL,
				    "workspace / would expose the whole host: choose a project directory");
	if (setup_path(p->workspace))
		return ombx_err_set(err, EINVAL, "workspace %s: paths under %s are reserved for omnibox's setup",
				    p->workspace, OMBX_SETUP_DIR);
	if (p->privileged) {
		/* Never run as host root: map to the workspace owner, or nobody. */
		p->host_uid = st.st_uid ? st.st_uid : NOBODY;
		/* Nor in the root group, even if the workspace's group is root. */
		p->host_gid = st.st_uid && st.st_gid ? st.st_gid : NOBODY;
	} else {
		p->host_uid = getuid();
		p->host_gid = getgid();
	}
	p->jail_uid = p->host_uid;
	p->jail_gid = p->host_gid;

	p->binds = calloc(c->n_binds ? c->n_binds : 1, sizeof(*p->binds));
	if (!p->binds)
		return ombx_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < c->n_binds; i++) {
		struct ombx__bind *b = &p->binds[p->n_binds];
		b->kind = c->binds[i].kind;
		b->path = realpath(c->binds[i].path, NULL);
		if (!b->path) {
			if (b->kind == OMBX_BIND_HIDE && errno == ENOENT)
				continue; /* nothing there to hide */
			return ombx_err_errno(err, errno, "--%s %s",
					      b->kind == OMBX_BIND_RO ? "ro" : b->kind == OMBX_BIND_RW ? "rw" : "hide",
					      c->binds[i].path);
		}
		p->n_binds++; /* plan_free frees it, whatever follows */
		if (strcmp(b->path, "/") == 0 && b->kind != OMBX_BIND_HIDE)
			return ombx_err_set(err, EINVAL, "binding / into the jail is refused");
		if (setup_path(b->path))
			return ombx_err_set(err, EINVAL, "%s: paths under %s are reserved for omnibox's setup",
					    b->path, OMBX_SETUP_DIR);
		b->is_dir = stat(b->path, &st) == 0 && S_ISDIR(st.st_mode);
		b->exists = true;
	}
	return 0;
}

static int write_at(int dir, const char *file, const char *s)
{
	_cleanup_close_ int fd = openat(dir, file, O_WRONLY | O_CLOEXEC);
	ssize_t n = (ssize_t)strlen(s);

	if (fd < 0)
		return -errno;
	return write(fd, s, (size_t)n) == n ? 0 : -errno;
}

/* As root, uid 0 is mapped too, so that setup inside can traverse the
 * host's root-only directories; the command never runs as it. */
static int write_id_maps(pid_t pid, const struct ombx__plan *p, ombx_err *err)
{
	char path[64], map[128];
	_cleanup_close_ int dir = -1;
	int r;

	snprintf(path, sizeof(path), "/proc/%d", pid);
	if ((dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return ombx_err_errno(err, errno, "opening %s", path);
	if (!p->privileged && (r = write_at(dir, "setgroups", "deny")) < 0)
		return ombx_err_errno(err, -r, "writing %s/setgroups", path);
	if (p->privileged && p->jail_uid != 0)
		snprintf(map, sizeof(map), "0 0 1\n%u %u 1\n", p->jail_uid, p->host_uid);
	else
		snprintf(map, sizeof(map), "%u %u 1\n", p->jail_uid, p->host_uid);
	if ((r = write_at(dir, "uid_map", map)) < 0)
		return ombx_err_errno(
			err, -r, "writing %s/uid_map (are unprivileged user namespaces enabled?)",
			path);
	if (p->privileged && p->jail_gid != 0)
		snprintf(map, sizeof(map), "0 0 1\n%u %u 1\n", p->jail_gid, p->host_gid);
	else
		snprintf(map, sizeof(map), "%u %u 1\n", p->jail_gid, p->host_gid);
	if ((r = write_at(dir, "gid_map", map)) < 0)
		return ombx_err_errno(err, -r, "writing %s/gid_map", path);
	return 0;
}

/* A cgroup only when a limit is asked for: joining one costs an RCU grace
 * period (7-15 ms here, more than the whole launch) while the pid namespace
 * already kills the whole tree and RLIMIT_NPROC already bounds it. */
static int make_cgroup(const struct ombx_config *c, const char *id, struct ombx_cgroup **cg,
		       struct ombx_layers *l, ombx_err *err)
{
	struct ombx_cgroup_limits lim = {
		.memory_max = c->memory_bytes,
		.pids_max = c->pids,
		.cpus = c->cpus,
	};
	int r;

	l->pids_max = c->pids ? c->pids : OMBX_DEFAULT_PIDS;
	if (!c->memory_bytes && !c->pids && c->cpus <= 0)
		return 0;
	r = ombx_cgroup_create(id, &lim, cg, err);
	if (r < 0)
		return r;
	l->cgroup_version = ombx_cgroup_version(*cg);
	l->memory_max = lim.memory_max;
	l->cpus = lim.cpus;
	return 0;
}

/* Reads the child's messages: a setup failure, an exec failure, the
 * command's wait status. Returns the setup/exec message kind seen, or 0. */
static int read_messages(int fd, ombx_err *err, int *wstatus, bool *have_status)
{
	struct ombx__msg m;
	int kind = 0;

	while (read(fd, &m, sizeof(m)) == (ssize_t)sizeof(m)) {
		m.text[sizeof(m.text) - 1] = '\0';
		if (m.kind == 'W') {
			*wstatus = m.err;
			*have_status = true;
		} else if (m.kind == OMBX_MSG_SETUP && !kind) {
			kind = m.kind;
			ombx_err_errno(err, m.err, "setting up the jail: %s", m.text);
		} else if (m.kind == OMBX_MSG_EXEC && !kind) {
			kind = m.kind;
			if (m.err == ENOENT)
				ombx_err_set(err, m.err, "%s: command not found in the jail "
					     "(searched PATH=%s; the jail sees /usr, /bin and the workspace)",
					     m.text, OMBX_JAIL_PATH);
			else
				ombx_err_errno(err, m.err, "%s: cannot execute", m.text);
		}
	}
	return kind;
}

struct watch {
	pid_t pid;
	int pidfd, sigfd;
	struct ombx_tty *tty;
	double deadline; /* 0: none */
	bool timed_out;
};

/* Waits for the jail's init, relaying signals and the pty, enforcing the
 * timeout. Returns its wait status. */
static int watch_child(struct watch *w)
{
	struct pollfd pfd[2 + OMBX_TTY_NFDS];
	int status;

	for (;;) {
		int timeout = -1, n = 2;
		pfd[0] = (struct pollfd){.fd = w->pidfd, .events = POLLIN};
		pfd[1] = (struct pollfd){.fd = w->sigfd, .events = POLLIN};
		if (w->tty)
			n += ombx_tty_pollfds(w->tty, pfd + 2);
		if (w->deadline > 0) {
			double left = w->deadline - now_sec();
			if (left <= 0 && !w->timed_out) {
				w->timed_out = true;
				kill(w->pid, SIGKILL);
			}
			timeout = left <= 0 ? 100 : (int)(left * 1000) + 1;
		}
		if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(w->sigfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGWINCH && w->tty)
					ombx_tty_resize(w->tty);
				kill(w->pid, (int)si.ssi_signo);
			}
		}
		if (w->tty)
			ombx_tty_relay(w->tty, pfd + 2);
	}
	if (w->tty)
		ombx_tty_drain(w->tty);
	while (waitpid(w->pid, &status, 0) < 0)
		if (errno != EINTR)
			return 0;
	return status;
}

static void fill_layers(const struct ombx__plan *p, unsigned ns, struct ombx_layers *l)
{
	l->namespaces = ns | CLONE_NEWCGROUP;
	l->landlock_abi = p->landlock_abi;
	l->landlock_scoped = p->landlock_abi >= 6;
	l->landlock_net = p->cfg->net == OMBX_NET_PROXY && p->landlock_abi >= 4;
	l->seccomp_mode = "filter";
	l->jail_uid = p->jail_uid;
	l->jail_gid = p->jail_gid;
	l->host_uid = p->host_uid;
	l->host_gid = p->host_gid;
}

static const int relayed[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

static void kill_and_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Clones the jail's init, gives it its id maps and cgroup, and lets it go.
 * The pipes' child ends are closed here once the child holds them. */
static int spawn(struct ombx__plan *p, unsigned ns, struct ombx_cgroup *cg, struct watch *w,
		 int sync_pipe[2], int msg_pipe[2], const sigset_t *oldmask, ombx_err *err)
{
	int r;

	/* The network namespace is not made here: the jail's command process
	 * makes it, in parallel with init's mounts, and init joins it before
	 * the command may run (child.c). It costs more than the other six
	 * together (~0.5 ms, the kernel's per-namespace sysctls and lo). */
	w->pid = (pid_t)syscall(
		SYS_clone, (unsigned long)(ns & ~(unsigned)CLONE_NEWNET) | CLONE_PIDFD | SIGCHLD,
		NULL, &w->pidfd, NULL, 0);
	if (w->pid < 0)
		return ombx_err_errno(err, errno, "creating the jail's namespaces (clone)");
	if (w->pid == 0) {
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		close(sync_pipe[1]);
		close(msg_pipe[0]);
		ombx__child_main(p);
	}
	close(TAKE_FD(sync_pipe[0]));
	close(TAKE_FD(msg_pipe[1]));
	if (p->tty.sock >= 0)
		close(TAKE_FD(p->tty.sock));
	if ((r = write_id_maps(w->pid, p, err)) < 0 ||
	    (cg && (r = ombx_cgroup_attach(cg, w->pid, err)) < 0)) {
		kill_and_reap(w->pid);
		return r;
	}
	if (write(sync_pipe[1], "G", 1) != 1) {
		r = ombx_err_errno(err, errno, "starting the jail");
		kill_and_reap(w->pid);
		return r;
	}
	return 0;
}

/* How the command ended: status is the command's wait status as init
 * reported it or, if init could not (it was killed), init's own. */
static void decode_exit(int status, bool timed_out, struct ombx_result *res)
{
	if (timed_out) {
		res->signal = SIGKILL;
		res->exit_code = OMBX_EXIT_SIGNAL_BASE + SIGKILL;
	} else if (WIFSIGNALED(status)) { /* the command, or init itself (e.g. OOM) */
		res->signal = WTERMSIG(status);
		res->exit_code = OMBX_EXIT_SIGNAL_BASE + res->signal;
	} else {
		res->exit_code = WEXITSTATUS(status);
	}
}

int ombx_run(const struct ombx_config *cfg, struct ombx_result *res, ombx_err *err)
{
	struct ombx__plan p = {.cfg = cfg, .sync_fd = -1, .msg_fd = -1, .tty.sock = -1};
	struct ombx_cgroup *cg = NULL;
	struct watch w = {.pid = -1, .pidfd = -1, .sigfd = -1};
	int sync_pipe[2] = {-1, -1}, msg_pipe[2] = {-1, -1};
	unsigned ns = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
	sigset_t mask, oldmask;
	double start = now_sec();
	int r, status = 0;
	bool have_status = false, masked = false;

	memset(res, 0, sizeof(*res));
	if (!cfg->argv || !cfg->argv[0])
		return ombx_err_set(err, EINVAL, "no command given");
	if (cfg->net != OMBX_NET_HOST)
		ns |= CLONE_NEWNET;
	if (cfg->net == OMBX_NET_PROXY && cfg->proxy_sock < 0)
		return ombx_err_set(err, EINVAL, "--net proxy without a proxy to hand sockets to");
	p.privileged = geteuid() == 0;
	if (cfg->jail_id)
		snprintf(res->jail_id, sizeof(res->jail_id), "%s", cfg->jail_id);
	else if ((r = ombx_session_id(res->jail_id)) < 0)
		return ombx_err_errno(err, -r, "getrandom");

	p.landlock_abi = ombx_landlock_abi();
	if (p.landlock_abi < 1) {
		r = ombx_err_errno(err, -p.landlock_abi,
				   "Landlock is not available on this kernel, and omnibox refuses to run "
				   "without it (boot with lsm=...,landlock)");
		goto out;
	}
	if ((r = resolve_paths(cfg, &p, err)) < 0)
		goto out;
	if ((r = build_env(cfg, &p)) < 0 || (r = copy_argv(cfg->argv, &p)) < 0) {
		ombx_err_errno(err, -r, "building the jail's environment");
		goto out;
	}
	p.seccomp = ombx_seccomp_builtin();
	p.nproc = cfg->pids ? cfg->pids : OMBX_DEFAULT_PIDS;
	if ((r = make_cgroup(cfg, res->jail_id, &cg, &res->layers, err)) < 0)
		goto out;
	if (cfg->tty && (r = ombx_tty_prepare(&w.tty, &p.tty, err)) < 0)
		goto out;
	if (pipe2(sync_pipe, O_CLOEXEC) < 0 || pipe2(msg_pipe, O_CLOEXEC) < 0) {
		r = ombx_err_errno(err, errno, "pipe2");
		goto out;
	}
	p.sync_fd = sync_pipe[0];
	p.msg_fd = msg_pipe[1];

	/* Block relayed signals so they queue on the signalfd, not kill us. */
	sigemptyset(&mask);
	for (size_t i = 0; i < ARRAY_SIZE(relayed); i++)
		sigaddset(&mask, relayed[i]);
	masked = sigprocmask(SIG_BLOCK, &mask, &oldmask) == 0;
	w.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (!masked || w.sigfd < 0) {
		r = ombx_err_errno(err, errno, "signalfd");
		goto out;
	}
	if ((r = spawn(&p, ns, cg, &w, sync_pipe, msg_pipe, &oldmask, err)) < 0)
		goto out;

	if (cfg->timeout_sec)
		w.deadline = start + (double)cfg->timeout_sec;
	if (w.tty)
		ombx_tty_start(w.tty);
	status = watch_child(&w);
	if (w.tty)
		ombx_tty_stop(w.tty);

	fcntl(msg_pipe[0], F_SETFL, O_NONBLOCK);
	if (read_messages(msg_pipe[0], err, &status, &have_status) == OMBX_MSG_SETUP) {
		r = -(err->code ? err->code : EIO);
		goto out;
	}
	fill_layers(&p, ns, &res->layers);
	res->timed_out = w.timed_out;
	res->oom = cg && ombx_cgroup_oom(cg);
	res->duration_sec = now_sec() - start;
	decode_exit(status, w.timed_out, res);
	r = 0;
out:
	ombx_cgroup_destroy(cg);
	ombx_tty_free(w.tty);
	if (w.sigfd >= 0)
		close(w.sigfd);
	if (masked)
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
	if (w.pidfd >= 0)
		close(w.pidfd);
	for (int i = 0; i < 2; i++) {
		if (sync_pipe[i] >= 0)
			close(sync_pipe[i]);
		if (msg_pipe[i] >= 0)
			close(msg_pipe[i]);
	}
	if (p.tty.sock >= 0)
		close(p.tty.sock);
	plan_free(&p);
	return r;
}
