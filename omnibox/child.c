/* child.c - the jail from the inside: setup, the tiny init, the command.
 *
 * Runs as pid 1 of the new pid namespace, in the new user/uts namespaces,
 * with the plan the parent prepared. The command's process is forked first
 * and the rest of the setup runs in two halves on two CPUs: init makes the
 * cgroup and mount namespaces and builds the root; the command's process
 * makes the IPC and network namespaces and sheds its privileges. Each
 * joins the other's namespaces (descriptors over a socket pair) before the
 * command runs. Privilege is handled in phases (as bubblewrap does):
 * acquire (the user namespace's capabilities), use (namespaces, hostname,
 * the root file system), drop (bounding
 * set, ambient, securebits, uids, capabilities), then the command's own
 * layers (session, fds, Landlock, seccomp) immediately before execve.
 * Every failure is reported to the parent and ends the jail with 125: the
 * command never starts with a layer missing. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/securebits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jail.h"
#include "landlock.h"

void ombx__send(const struct ombx__plan *p, int kind, int err, const char *what)
{
	struct ombx__msg m = {.kind = kind, .err = err};
	ssize_t n;

	snprintf(m.text, sizeof(m.text), "%s", what ? what : "");
	do
		n = write(p->msg_fd, &m, sizeof(m));
	while (n < 0 && errno == EINTR);
}

__attribute__((noreturn)) static void die(const struct ombx__plan *p, int err, const char *what)
{
	ombx__send(p, OMBX_MSG_SETUP, err < 0 ? -err : err, what);
	_exit(OMBX_EXIT_FAILURE);
}

static int loopback_up(void)
{
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		r = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (r == 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Bounding and ambient sets emptied, securebits locked so that no uid
 * transition or execve can grant a capability again. NO_SETUID_FIXUP keeps
 * the current sets through a later setresuid (which needs CAP_SETUID);
 * clear_capabilities empties them. */
static void lock_capabilities(const struct ombx__plan *p)
{
	for (int c = 0; c <= CAP_LAST_CAP || cap_valid(c); c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			die(p, errno, "dropping the capability bounding set");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		die(p, errno, "clearing ambient capabilities");
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
					     SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
					     SECBIT_NO_CAP_AMBIENT_RAISE |
					     SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
		  0, 0, 0) < 0)
		die(p, errno, "locking securebits");
}

static void clear_capabilities(const struct ombx__plan *p)
{
	cap_t none = cap_init();

	if (!none || cap_set_proc(none) < 0)
		die(p, errno, "clearing the capability sets");
	cap_free(none);
}

static void drop_privileges(const struct ombx__plan *p)
{
	lock_capabilities(p);
	if (p->privileged && setgroups(0, NULL) < 0)
		die(p, errno, "clearing supplementary groups");
	if (setresgid(p->jail_gid, p->jail_gid, p->jail_gid) < 0)
		die(p, errno, "setresgid to the jail gid");
	if (setresuid(p->jail_uid, p->jail_uid, p->jail_uid) < 0)
		die(p, errno, "setresuid to the jail uid");
	clear_capabilities(p);
}

/* The kernel refuses a new user namespace (EPERM) to a process whose root
 * is not its mount namespace's root, and while init pivots, the command's
 * process's root is not, for a moment. So init moves the root only while
 * that process is not making its user namespace, and the other way round.
 * The lock is a pipe holding one byte: read it to take, write it back to
 * give. Whoever dies holding it takes the whole jail down with it. */
static int root_lock[2] = {-1, -1};

static void root_lock_take(const struct ombx__plan *p)
{
	char c;
	ssize_t n;

	do
		n = read(root_lock[0], &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		die(p, n < 0 ? errno : EPIPE, "taking the jail's root lock");
}

static void root_lock_give(const struct ombx__plan *p)
{
	if (write(root_lock[1], "L", 1) != 1)
		die(p, errno ? errno : EPIPE, "giving back the jail's root lock");
}

static void write_self(const struct ombx__plan *p, int dir, const char *file, const char *content)
{
	int fd = openat(dir, file, O_WRONLY | O_CLOEXEC);
	ssize_t n = (ssize_t)strlen(content);

	if (fd < 0 || write(fd, content, (size_t)n) != n)
		die(p, errno, file);
	close(fd);
}

/* Under root, the jail's user namespace maps host uid 0 (setup needs it to
 * reach root-only directories). The command goes one namespace deeper,
 * where only its own uid and gid exist: host root is not even a name there.
 * Its ids are changed first (so that it may map them itself, and gives up
 * every capability in the jail's namespace with them); the bounding set,
 * securebits and the rest are locked once, in the new namespace, which
 * starts with a full bounding set whatever it was before: dropping it in
 * the jail's namespace as well (41 prctls, each a new set of credentials)
 * changed nothing the command ever had. */
static void enter_command_userns(const struct ombx__plan *p, int proc_fd)
{
	char map[64];
	int r, e;

	if (setgroups(0, NULL) < 0)
		die(p, errno, "clearing supplementary groups");
	if (setresgid(p->jail_gid, p->jail_gid, p->jail_gid) < 0)
		die(p, errno, "setresgid to the jail gid");
	if (setresuid(p->jail_uid, p->jail_uid, p->jail_uid) < 0)
		die(p, errno, "setresuid to the jail uid");
	clear_capabilities(p);

	/* Inherited from init, non-dumpable would make /proc/self root-owned;
	 * nothing else runs in the jail yet, and execve resets it anyway. */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		die(p, errno, "prctl(PR_SET_DUMPABLE)");
	root_lock_take(p);
	r = unshare(CLONE_NEWUSER);
	e = errno;
	root_lock_give(p);
	if (r < 0)
		die(p, e, "unshare(CLONE_NEWUSER) for the command");
	snprintf(map, sizeof(map), "%u %u 1\n", p->jail_uid, p->jail_uid);
	/* The host's /proc, opened before init began to move the root around;
	 * its "self" is this process. */
	write_self(p, proc_fd, "self/uid_map", map);
	write_self(p, proc_fd, "self/setgroups", "deny");
	snprintf(map, sizeof(map), "%u %u 1\n", p->jail_gid, p->jail_gid);
	write_self(p, proc_fd, "self/gid_map", map);
	lock_capabilities(p);
	clear_capabilities(p);
}

static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);
	for (; *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* execvp with the jail's PATH (not ours) and exact 126/127 semantics. */
__attribute__((noreturn)) static void exec_command(const struct ombx__plan *p)
{
	char *const *argv = p->argv;
	const char *path = env_get(p->envp, "PATH"), *dir, *end;
	char buf[PATH_MAX];
	int err = ENOENT;
	bool eacces = false;

	if (strchr(argv[0], '/')) {
		execve(argv[0], argv, p->envp);
		err = errno;
	} else {
		for (dir = path ? path : OMBX_JAIL_PATH; *dir; dir = *end ? end + 1 : end) {
			end = strchrnul(dir, ':');
			if ((size_t)(end - dir) + strlen(argv[0]) + 2 > sizeof(buf) || end == dir)
				continue;
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)(end - dir), dir, argv[0]);
			execve(buf, argv, p->envp);
			if (errno == EACCES)
				eacces = true;
			else if (errno != ENOENT && errno != ENOTDIR) {
				err = errno;
				break;
			}
		}
		if (err == ENOENT && eacces)
			err = EACCES;
	}
	ombx__send(p, OMBX_MSG_EXEC, err, argv[0]);
	_exit(err == ENOENT ? OMBX_EXIT_NOT_FOUND : OMBX_EXIT_CANNOT_EXEC);
}

static void signal_peer(const struct ombx__plan *p, int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		die(p, errno ? errno : EPIPE, "signalling the jail's other half");
}

static void wait_peer(int fd, char want)
{
	char c = 0;

	/* EOF: the other half failed and has said why; leave quietly. */
	if (read(fd, &c, 1) != 1 || c != want)
		_exit(OMBX_EXIT_FAILURE);
}

/* The CPUs init may use, before the command's process is placed. */
static cpu_set_t all_cpus;

/* Puts the command's process on another CPU than init's for the parallel
 * setup. Left to the scheduler it was queued on init's CPU in a third to
 * a half of the launches and waited there behind init's mounts (median
 * 0.7 ms from fork to first run over 100 launches, ftrace; 0.07 ms
 * placed). Only a placement: failure changes nothing else, and the
 * command's process takes back every CPU before the command runs. */
static void place_command(pid_t pid)
{
	cpu_set_t other;
	int cpu = sched_getcpu();

	if (cpu < 0 || cpu >= CPU_SETSIZE || CPU_COUNT(&all_cpus) < 2 ||
	    !CPU_ISSET(cpu, &all_cpus))
		return;
	other = all_cpus;
	CPU_CLR(cpu, &other);
	sched_setaffinity(pid, sizeof(other), &other);
}

/* In the command's process: every CPU init had, whether or not init
 * managed to place it. */
static void unplace_self(void)
{
	if (CPU_COUNT(&all_cpus) > 0)
		sched_setaffinity(0, sizeof(all_cpus), &all_cpus);
}

union fd_cmsg {
	char buf[CMSG_SPACE(2 * sizeof(int))];
	struct cmsghdr align;
};

/* A one-byte message with n (at most two) descriptors attached: 'E' from
 * the command's process with its network namespace (none with --net
 * host), 'M' from init with its mount and IPC namespaces. Descriptors,
 * because neither may open the other's namespaces through /proc (or a
 * pidfd): each is non-dumpable. */
static void send_fds(const struct ombx__plan *p, int sock, char c, const int *fds, size_t n)
{
	union fd_cmsg u;
	struct iovec iov = {&c, 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;

	if (n > 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	}
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) != 1)
		die(p, errno ? errno : EPIPE, "signalling the jail's other half");
}

/* Waits for send_fds' message `want`; fills fds[0..n) with the descriptors
 * that came with it, -1 for any missing. EOF or another message: the other
 * half failed and has said why; leave quietly. */
static void wait_fds(int sock, char want, int *fds, size_t n)
{
	char c = 0;
	union fd_cmsg u;
	struct iovec iov = {&c, 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm;
	size_t got = 0;

	for (size_t i = 0; i < n; i++)
		fds[i] = -1;
	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != 1 || c != want)
		_exit(OMBX_EXIT_FAILURE);
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len >= CMSG_LEN(0))
		got = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	if (got > n) /* more than asked for: none is trusted */
		_exit(OMBX_EXIT_FAILURE);
	memcpy(fds, CMSG_DATA(cm), got * sizeof(int));
}

/* The jail's IPC and network namespaces, made by the command's process
 * while init builds the root (lo up in the network one); init joins them
 * (join_namespaces). Here, not in init: init's half (the root) is the
 * longer one. fds: [0] IPC, [1] network (none with --net host); returns how
 * many. */
static size_t make_namespaces(const struct ombx__plan *p, int proc_fd, int fds[2])
{
	bool net = p->cfg->net != OMBX_NET_HOST;
	int r;

	if (unshare(CLONE_NEWIPC | (net ? CLONE_NEWNET : 0)) < 0)
		die(p, errno, net ? "unshare(CLONE_NEWIPC | CLONE_NEWNET)" : "unshare(CLONE_NEWIPC)");
	if ((fds[0] = openat(proc_fd, "self/ns/ipc", O_RDONLY | O_CLOEXEC)) < 0)
		die(p, errno, "opening the jail's IPC namespace");
	if (!net)
		return 1;
	if ((fds[1] = openat(proc_fd, "self/ns/net", O_RDONLY | O_CLOEXEC)) < 0)
		die(p, errno, "opening the jail's network namespace");
	if ((r = loopback_up()) < 0)
		die(p, r, "bringing up the loopback interface");
	return 2;
}

/* init joins the namespaces the command's process made, before the command
 * may run, so that no jail process stays outside; then, with --net proxy,
 * the proxy's sockets and routes (the proxy must have them before the
 * command runs, and only init waits for 'K'). */
static void join_namespaces(const struct ombx__plan *p, const int fds[2])
{
	const char *what = NULL;
	int r;

	if (fds[0] < 0 || (p->cfg->net != OMBX_NET_HOST) != (fds[1] >= 0))
		die(p, EPROTO, "the jail's IPC and network namespaces did not arrive");
	if (setns(fds[0], CLONE_NEWIPC) < 0)
		die(p, errno, "joining the jail's IPC namespace");
	close(fds[0]);
	if (fds[1] < 0)
		return;
	if (setns(fds[1], CLONE_NEWNET) < 0)
		die(p, errno, "joining the jail's network namespace");
	close(fds[1]);
	if (p->cfg->net == OMBX_NET_PROXY && (r = ombx__net_proxy_setup(p->cfg->proxy_sock, &what)) < 0)
		die(p, r, what);
}

/* init makes the jail's mount namespace right after the fork, so that this
 * process starts sooner, and sends it with 'M' (after the id maps); it
 * joins it here, while it still has the capabilities that takes, and under
 * the root lock: setns gives it the namespace's root as its root, which
 * must not be read in the middle of init's pivot. */
static void join_init_namespace(const struct ombx__plan *p, int from_init)
{
	int fd, r, e;

	wait_fds(from_init, 'M', &fd, 1);
	if (fd < 0)
		die(p, EPROTO, "the jail's mount namespace did not arrive");
	root_lock_take(p);
	r = setns(fd, CLONE_NEWNS);
	e = errno;
	root_lock_give(p);
	if (r < 0)
		die(p, e, "joining the jail's mount namespace");
	close(fd);
}

/* The command's half of the setup, run in parallel with init's mounts:
 * make the network namespace, drop privileges, load seccomp; then, once
 * init reports the root complete, Landlock over it and execve. Until 'R'
 * it looks up no path (only descriptors): init pivots the root under it. */
__attribute__((noreturn)) static void run_command(const struct ombx__plan *p, int proc_fd,
						  int to_init, int from_init)
{
	const char *rw[4 + OMBX_MAX_BINDS];
	/* /dev holds only the nodes mount.c put there, on a read-only tmpfs. */
	static const char *const dev[] = {"/dev"};
	struct ombx_landlock_spec ll = {.abi = p->landlock_abi, .rw = rw, .dev = dev,
					.n_dev = sizeof(dev) / sizeof(dev[0])};
	const char *what = NULL;
	int r, ns_fds[2];
	size_t n_ns;

	static const unsigned short proxy_ports[] = {OMBX_PROXY_PORT, 80, 443, 53};

	if (p->cfg->net == OMBX_NET_PROXY) {
		ll.connect_ports = proxy_ports;
		ll.n_connect_ports = sizeof(proxy_ports) / sizeof(proxy_ports[0]);
	}
	rw[ll.n_rw++] = p->workspace;
	rw[ll.n_rw++] = "/tmp";
	rw[ll.n_rw++] = OMBX_JAIL_HOME;
	rw[ll.n_rw++] = "/dev/shm";
	for (size_t i = 0; i < p->n_binds; i++)
		if (p->binds[i].kind == OMBX_BIND_RW)
			rw[ll.n_rw++] = p->binds[i].path;

	/* Inherited from init before it went non-dumpable (early fork). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die(p, errno, "prctl(PR_SET_DUMPABLE)");
	n_ns = make_namespaces(p, proc_fd, ns_fds);
	/* 'M' comes once the parent has written the id maps (until then no uid
	 * or gid exists), with the mount namespace init made. */
	join_init_namespace(p, from_init);
	/* RLIMIT_NPROC counts per uid per user namespace: in a fresh one it
	 * bounds this jail's processes, with or without a cgroup. */
	if (setrlimit(RLIMIT_NPROC, &(struct rlimit){p->nproc, p->nproc}) < 0)
		die(p, errno, "setrlimit(RLIMIT_NPROC)");
	if (p->privileged)
		enter_command_userns(p, proc_fd);
	else
		drop_privileges(p);
	close(proc_fd);
	close(root_lock[0]);
	close(root_lock[1]);
	send_fds(p, to_init, 'E', ns_fds, n_ns);
	close(to_init);
	for (size_t i = 0; i < n_ns; i++)
		close(ns_fds[i]);

	if (setsid() < 0)
		die(p, errno, "setsid");
	/* Nothing above stderr crosses execve; msg_fd is already CLOEXEC. */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		die(p, errno, "close_range");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die(p, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
	r = ombx_seccomp_load(p->seccomp);
	if (r < 0)
		die(p, r, "loading the seccomp filter");

	wait_peer(from_init, 'R');
	close(from_init);
	unplace_self();
	if (p->tty.sock >= 0 && (r = ombx_tty_attach(&p->tty)) < 0)
		die(p, r, "--tty: opening the jail's terminal");
	if (chdir(p->workspace) < 0) {
		char msg[PATH_MAX + 128];
		snprintf(msg, sizeof(msg),
			 "the jail's uid %u cannot enter the workspace %s (as root, omnibox runs the "
			 "command as the workspace's owner, or as nobody if that is root)",
			 p->jail_uid, p->workspace);
		die(p, errno, msg);
	}
	r = ombx_landlock_apply(&ll, &what);
	if (r < 0)
		die(p, r, what);
	exec_command(p);
}

/* The jail's init is a copy of omnibox: its argv and environment are the
 * host's. Zero them so /proc/1/cmdline and /proc/1/environ show nothing of
 * the host (the command runs from copies in the plan). */
static void wipe_host_strings(void)
{
	char buf[2048], *p;
	unsigned long v[4];
	ssize_t n;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* Fields 48-51 (arg_start arg_end env_start env_end) follow comm. */
	p = strrchr(buf, ')');
	for (int field = 2; p && field < 48; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3]) != 4)
		return;
	if (v[1] > v[0])
		memset((void *)v[0], 0, v[1] - v[0]);
	if (v[3] > v[2])
		memset((void *)v[2], 0, v[3] - v[2]);
}

/* init's half: the whole root, up to the final pivot and the host's root
 * detached. The command's process looks up no path until 'R' (only
 * descriptors), so the root may move under it; only not while it makes
 * its user namespace (root_lock). */
static void build_root(const struct ombx__plan *p)
{
	const char *what = NULL;
	int r;

	root_lock_take(p);
	r = ombx__mount_begin(p, &what);
	root_lock_give(p);
	if (r == 0)
		r = ombx__mount_rest(p, &what);
	if (r == 0)
		r = ombx__etc_populate(p, &what);
	if (r == 0)
		r = ombx__mount_seal(p, &what);
	if (r < 0)
		die(p, r, what);
	close(root_lock[0]);
	close(root_lock[1]);
}

static volatile pid_t command_pid;


static void forward(int sig)
{
	if (command_pid > 0)
		kill(command_pid, sig);
}

/* pid 1: forward signals, reap everything, end with the command's status. */
__attribute__((noreturn)) static void init_loop(const struct ombx__plan *p)
{
	static const int fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
				  SIGCONT};
	struct sigaction sa = {.sa_handler = forward, .sa_flags = SA_RESTART};
	int status = 0;
	pid_t pid;

	for (size_t i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
		sigaction(fwd[i], &sa, NULL);
	for (;;) {
		pid = wait(&status);
		if (pid == command_pid)
			break;
		if (pid < 0 && errno == ECHILD)
			die(p, ECHILD, "the command vanished");
	}
	ombx__send(p, 'W', status, "");
	if (WIFSIGNALED(status))
		_exit(OMBX_EXIT_SIGNAL_BASE + WTERMSIG(status));
	_exit(WEXITSTATUS(status));
}

/* "go": the parent has written the id maps (and joined init to its
 * cgroup, if any). */
static void wait_go(const struct ombx__plan *p)
{
	char go = 0;

	if (read(p->sync_fd, &go, 1) != 1 || go != 'G')
		_exit(OMBX_EXIT_FAILURE);
}

void ombx__child_main(struct ombx__plan *p)
{
	struct pollfd pfd;
	int to_init[2], from_init[2], proc_fd, mnt_fd, ns_fds[2];

	/* The command's process is forked before "go" unless init is to be
	 * moved into a cgroup (which would leave it behind): the network
	 * namespace, its longest step, needs a user namespace's capability
	 * but no uid or gid, so it starts while the parent writes the maps. */
	if (p->in_cgroup)
		wait_go(p);
	if (unshare(CLONE_NEWCGROUP) < 0)
		die(p, errno, "unshare(CLONE_NEWCGROUP)");
	/* The command's process reaches its own namespaces through the host's
	 * /proc while init moves the root around: hand it /proc. */
	if ((proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		die(p, errno, "opening /proc");

	/* Two halves from here, on two cores: the command's process makes the
	 * network namespace, sheds its privileges and loads seccomp while init
	 * builds the root. */
	if (sched_getaffinity(0, sizeof(all_cpus), &all_cpus) < 0)
		CPU_ZERO(&all_cpus); /* more CPUs than a cpu_set_t: not placed */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, to_init) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, from_init) < 0 ||
	    pipe2(root_lock, O_CLOEXEC) < 0)
		die(p, errno, "the channels between init and the command");
	root_lock_give(p);
	command_pid = fork();
	if (command_pid < 0)
		die(p, errno, "fork of the command");
	if (command_pid == 0) {
		close(to_init[0]);
		close(from_init[1]);
		run_command(p, proc_fd, to_init[1], from_init[0]);
	}
	place_command(command_pid);
	close(to_init[1]);
	close(from_init[0]);
	if (unshare(CLONE_NEWNS) < 0)
		die(p, errno, "unshare(CLONE_NEWNS)");
	if ((mnt_fd = openat(proc_fd, "self/ns/mnt", O_RDONLY | O_CLOEXEC)) < 0)
		die(p, errno, "opening the jail's mount namespace");
	close(proc_fd);
	if (!p->in_cgroup)
		wait_go(p);
	/* Not before the maps: a non-dumpable process's /proc files are
	 * root's, and an unprivileged parent could not write them. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die(p, errno, "prctl(PR_SET_DUMPABLE)");
	send_fds(p, from_init[1], 'M', &mnt_fd, 1);
	close(mnt_fd);
	if (p->tty.sock >= 0)
		close(p->tty.sock);
	/* init's own business, after the fork: the command's process execs. */
	wipe_host_strings();
	if (sethostname(OMBX_JAIL_HOSTNAME, strlen(OMBX_JAIL_HOSTNAME)) < 0)
		die(p, errno, "sethostname");

	build_root(p);
	wait_fds(to_init[0], 'E', ns_fds, 2);
	join_namespaces(p, ns_fds);
	signal_peer(p, from_init[1], 'R');
	close(to_init[0]);
	close(from_init[1]);
	drop_privileges(p);

	/* Die with the parent. Set after the uid change, which clears it; then
	 * make sure the parent did not die in between (its end of sync_fd stays
	 * open until it has reaped us). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		die(p, errno, "prctl(PR_SET_PDEATHSIG)");
	pfd = (struct pollfd){.fd = p->sync_fd, .events = POLLIN};
	if (poll(&pfd, 1, 0) != 0)
		_exit(OMBX_EXIT_FAILURE);
	/* init keeps no capability and no way to gain one; the command cannot
	 * reach it (landlock scoping, ptrace refused, it is not dumpable). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die(p, errno, "prctl(PR_SET_NO_NEW_PRIVS) in the jail's init");
	init_loop(p);
}
