/* child.c - the jail from the inside: setup, the tiny init, the command.
 *
 * Runs as pid 1 of the new pid namespace, in the new user/mount/ipc/uts
 * namespaces, with the plan the parent prepared; the network namespace is
 * made by the command's process and joined by init before the command runs.
 * Privilege is handled in phases (as bubblewrap does): acquire (the user
 * namespace's capabilities), use (cgroup ns, hostname, the network
 * namespace, the root file system), drop (the command's process: bounding
 * set, ambient, securebits, uids, capabilities; init: uids, capabilities,
 * no_new_privs), then the command's own layers (session, fds, Landlock,
 * seccomp) immediately before execve.
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
#include <sys/auxv.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jail.h"
#include "landlock.h"
#include "linux_api.h"

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

/* The jail's uid and gid, and (under root) no supplementary groups. */
static void set_jail_ids(const struct ombx__plan *p)
{
	if (p->privileged && setgroups(0, NULL) < 0)
		die(p, errno, "clearing supplementary groups");
	if (setresgid(p->jail_gid, p->jail_gid, p->jail_gid) < 0)
		die(p, errno, "setresgid to the jail gid");
	if (setresuid(p->jail_uid, p->jail_uid, p->jail_uid) < 0)
		die(p, errno, "setresuid to the jail uid");
}

static void drop_privileges(const struct ombx__plan *p)
{
	lock_capabilities(p);
	set_jail_ids(p);
	clear_capabilities(p);
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

	set_jail_ids(p);
	clear_capabilities(p);

	/* Inherited from init, non-dumpable would make /proc/self root-owned;
	 * nothing else runs in the jail yet, and execve resets it anyway. */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		die(p, errno, "prctl(PR_SET_DUMPABLE)");
	if (unshare(CLONE_NEWUSER) < 0)
		die(p, errno, "unshare(CLONE_NEWUSER) for the command");
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
	if (send(fd, &c, 1, MSG_NOSIGNAL) != 1)
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

/* Placements of the command's process, made by init. Only placements: a
 * failure changes nothing else, and the command's process takes back every
 * CPU as soon as it runs, and again before the command runs.
 *  - At its fork, onto another CPU than init's, to start the parallel
 *    setup there. Left to the scheduler it was queued on init's CPU in a
 *    third to a half of the launches and waited there behind init's mounts
 *    (median 0.7 ms from fork to first run over 100 launches, ftrace;
 *    0.07 ms placed).
 *  - When it is late with 'E', onto init's CPU, until 'E' (wait_ready).
 * true if pid was placed. */
static bool place(pid_t pid, bool on_this_cpu)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	if (cpu < 0 || cpu >= CPU_SETSIZE || CPU_COUNT(&all_cpus) < 2 || !CPU_ISSET(cpu, &all_cpus))
		return false;
	if (on_this_cpu) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
	} else {
		set = all_cpus;
		CPU_CLR(cpu, &set);
	}
	return sched_setaffinity(pid, sizeof(set), &set) == 0;
}

/* pid (0: this process) onto every CPU init had, whether or not init
 * managed to place it. */
static void unplace(pid_t pid)
{
	if (CPU_COUNT(&all_cpus) > 0)
		sched_setaffinity(pid, sizeof(all_cpus), &all_cpus);
}

union fd_cmsg {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};

/* 'E' from the command's process, with its network namespace attached
 * (none with --net host). A descriptor, because init could not open the
 * namespace through the other process: it is not dumpable. */
static void send_ready(const struct ombx__plan *p, int sock, int net_fd)
{
	char c = 'E';
	union fd_cmsg u;
	struct iovec iov = {&c, 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;

	if (net_fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &net_fd, sizeof(int));
	}
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) != 1)
		die(p, errno ? errno : EPIPE, "signalling the jail's init");
}

/* How long init waits for 'E' before it takes the command's process onto
 * its own CPU. The two halves end within ~0.05 ms of each other when both
 * run; past this, the command's process is most likely queued behind other
 * work on its CPU while init's, about to sleep, has nothing to do. */
#define OMBX_PULL_AFTER_NS 200000

/* Waits for send_ready; returns the descriptor that came with it, or -1.
 * If it is late, places the command's process on this CPU until it comes,
 * then on every CPU again (the command's process does that itself before
 * 'R' too, but may have done so before this placement). With a CPU-bound
 * loop in the VM, the command's process had waited behind it for up to
 * 3.5 ms while init's CPU was idle: 5.22 -> 3.02 ms a launch
 * (docs/PERFORMANCE.md). */
static int wait_ready(int sock, pid_t command_pid)
{
	struct pollfd pf = {.fd = sock, .events = POLLIN};
	struct timespec late = {0, OMBX_PULL_AFTER_NS};
	bool pulled = ppoll(&pf, 1, &late, NULL) == 0 && place(command_pid, true);
	char c = 0;
	union fd_cmsg u;
	struct iovec iov = {&c, 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm;
	int fd = -1;

	/* EOF: the command's process failed and has said why. */
	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != 1 || c != 'E')
		_exit(OMBX_EXIT_FAILURE);
	if (pulled)
		unplace(command_pid);
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* The jail's network namespace, made by the command's process while init
 * builds the root, with lo up; init joins it (join_netns). lo here, not in
 * init: init's half (the root) is the longer one, by more than this. */
static int make_netns(const struct ombx__plan *p, int proc_fd)
{
	int fd, r;

	if (p->cfg->net == OMBX_NET_HOST)
		return -1;
	if (unshare(CLONE_NEWNET) < 0)
		die(p, errno, "unshare(CLONE_NEWNET)");
	if ((fd = openat(proc_fd, "self/ns/net", O_RDONLY | O_CLOEXEC)) < 0)
		die(p, errno, "opening the jail's network namespace");
	if ((r = loopback_up()) < 0)
		die(p, r, "bringing up the loopback interface");
	return fd;
}

/* init joins the namespace the command's process made, before the command
 * may run, so that no jail process stays outside; then, with --net proxy,
 * the proxy's sockets and routes (the proxy must have them before the
 * command runs, and only init waits for 'K'). */
static void join_netns(const struct ombx__plan *p, int net_fd)
{
	const char *what = NULL;
	int r;

	if (p->cfg->net == OMBX_NET_HOST) {
		if (net_fd >= 0)
			close(net_fd);
		return;
	}
	if (net_fd < 0)
		die(p, EPROTO, "the jail's network namespace did not arrive");
	if (setns(net_fd, CLONE_NEWNET) < 0)
		die(p, errno, "joining the jail's network namespace");
	close(net_fd);
	if (p->cfg->net == OMBX_NET_PROXY && (r = ombx__net_proxy_setup(p->cfg->proxy_sock, &what)) < 0)
		die(p, r, what);
}

/* The command's half of the setup, run in parallel with init's mounts:
 * make the network namespace, name the host, drop privileges, build the
 * Landlock ruleset, load seccomp; then, once init reports the root
 * complete, enforce Landlock and execve. Until 'P' it looks up no path
 * (only descriptors): init pivots the root under it. */
__attribute__((noreturn)) static void run_command(const struct ombx__plan *p, int proc_fd, int init)
{
	const char *rw[4 + OMBX_MAX_BINDS];
	/* /dev holds only the nodes mount.c put there, on a read-only tmpfs. */
	static const char *const dev[] = {"/dev"};
	struct ombx_landlock_spec ll = {.abi = p->landlock_abi, .rw = rw, .dev = dev,
					.n_dev = sizeof(dev) / sizeof(dev[0])};
	const char *what = NULL;
	int r, net_fd, ruleset;

	static const unsigned short proxy_ports[] = {OMBX_PROXY_PORT, 80, 443, 53};

	if (p->cfg->net == OMBX_NET_PROXY) {
		ll.connect_ports = proxy_ports;
		ll.n_connect_ports = sizeof(proxy_ports) / sizeof(proxy_ports[0]);
	}
	/* init placed this process on another CPU than its own only so that
	 * it starts there; pinned, it would wait there for that CPU whenever
	 * it is busy (a CPU-bound loop in the VM: 6.8 ms a launch, against
	 * 4.7 ms with this; docs/PERFORMANCE.md). */
	unplace(0);
	rw[ll.n_rw++] = p->workspace;
	rw[ll.n_rw++] = "/tmp";
	rw[ll.n_rw++] = OMBX_JAIL_HOME;
	rw[ll.n_rw++] = "/dev/shm";
	for (size_t i = 0; i < p->n_binds; i++)
		if (p->binds[i].kind == OMBX_BIND_RW)
			rw[ll.n_rw++] = p->binds[i].path;

	net_fd = make_netns(p, proc_fd);
	/* Here rather than in init: one syscall fewer in init's half. */
	if (sethostname(OMBX_JAIL_HOSTNAME, strlen(OMBX_JAIL_HOSTNAME)) < 0)
		die(p, errno, "sethostname");
	/* RLIMIT_NPROC counts per uid per user namespace: in a fresh one it
	 * bounds this jail's processes, with or without a cgroup. */
	if (setrlimit(RLIMIT_NPROC, &(struct rlimit){p->nproc, p->nproc}) < 0)
		die(p, errno, "setrlimit(RLIMIT_NPROC)");
	/* 'P': init has pivoted into the jail's root and every mount a
	 * Landlock rule names is in place (its mount_rest). The kernel refuses
	 * a new user namespace (EPERM) to a process whose root is not its
	 * mount namespace's root, as this one's is not while init pivots, so
	 * the ids come after 'P' too; it is long there by then (init's half
	 * sends it ~0.2 ms before this half gets here). */
	wait_peer(init, 'P');
	if (p->privileged)
		enter_command_userns(p, proc_fd);
	else
		drop_privileges(p);
	close(proc_fd);
	/* The rules bind to what the paths name now, opened with the
	 * command's own ids; enforced after 'R'. */
	if ((ruleset = ombx_landlock_build(&ll, &what)) < 0)
		die(p, ruleset, what);
	/* The workspace is in place too: entered now, not after 'R'. */
	if (chdir(p->workspace) < 0) {
		char msg[PATH_MAX + 128];
		snprintf(msg, sizeof(msg),
			 "the jail's uid %u cannot enter the workspace %s (as root, omnibox "
			 "runs the command as the workspace's owner, or as nobody if that is "
			 "root)",
			 p->jail_uid, p->workspace);
		die(p, errno, msg);
	}
	send_ready(p, init, net_fd);
	if (net_fd >= 0)
		close(net_fd);

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

	/* Every CPU again, in case init placed this process only after the
	 * call above; now, not after 'R': a syscall less between 'R' and
	 * execve. */
	unplace(0);
	wait_peer(init, 'R');
	close(init);
	if (p->tty.sock >= 0 && (r = ombx_tty_attach(&p->tty)) < 0)
		die(p, r, "--tty: opening the jail's terminal");
	r = ombx_landlock_enforce(ruleset, &what);
	if (r < 0)
		die(p, r, what);
	exec_command(p);
}

/* Where execve put the argv and environment strings, as the kernel lays
 * them out: from argv[0] (glibc's program_invocation_name) to the end of
 * the last environment string, where it put the executable's name
 * (AT_EXECFN). NULL if that does not hold together. */
static char *exec_strings(size_t *len)
{
	char *start = program_invocation_name;
	char *end = (char *)getauxval(AT_EXECFN);

	if (!start || !end || end <= start || (size_t)(end - start) > (size_t)4 << 20 ||
	    end[-1] != '\0')
		return NULL;
	*len = (size_t)(end - start);
	return start;
}

/* The jail's init is a copy of omnibox: its argv and environment are the
 * host's. Zero them so /proc/1/cmdline and /proc/1/environ show nothing of
 * the host (the command runs from copies in the plan); the probe checks
 * /proc/1/cmdline. /proc/self/stat names the same bounds, but reading it
 * took 0.03 ms of init's half: only if exec_strings cannot tell. */
static void wipe_host_strings(void)
{
	char buf[2048], *p;
	unsigned long v[4];
	size_t len;
	ssize_t n;
	int fd;

	if ((p = exec_strings(&len))) {
		memset(p, 0, len);
		return;
	}
	if ((fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC)) < 0)
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

/* init's half: the whole root, from the pivot into it to the host's root
 * detached. The command's process looks up no path and makes no user
 * namespace until 'P' (it uses descriptors), so the root may move under
 * it until then. */
static void build_root(const struct ombx__plan *p, int to_command)
{
	const char *what = NULL;
	int r;

	r = ombx__mount_begin(p, &what);
	if (r == 0)
		r = ombx__mount_rest(p, &what);
	if (r == 0)
		signal_peer(p, to_command, 'P');
	if (r == 0)
		r = ombx__etc_populate(p, &what);
	if (r == 0)
		r = ombx__mount_seal(p, &what);
	if (r < 0)
		die(p, r, what);
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

void ombx__child_main(struct ombx__plan *p)
{
	struct pollfd pfd;
	int chan[2], proc_fd, net_fd;
	char go = 0;

	/* Wait until the parent has written our id maps and cgroup. */
	if (read(p->sync_fd, &go, 1) != 1 || go != 'G')
		_exit(OMBX_EXIT_FAILURE);

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		die(p, errno, "prctl(PR_SET_DUMPABLE)");
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
	/* Both ways: 'P' and 'R' to the command's process, 'E' back. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, chan) < 0)
		die(p, errno, "the channels between init and the command");
	command_pid = fork();
	if (command_pid < 0)
		die(p, errno, "fork of the command");
	if (command_pid == 0) {
		close(chan[0]);
		run_command(p, proc_fd, chan[1]);
	}
	place(command_pid, false);
	close(chan[1]);
	close(proc_fd);
	if (p->tty.sock >= 0)
		close(p->tty.sock);
	/* init's own business, after the fork: the command's process execs. */
	wipe_host_strings();
	/* Every mode in the jail's root is the one mount.c names: a caller's
	 * umask of 077 made /home 0700 and the jail refuse its own user. The
	 * command's process, forked already, keeps the caller's umask. */
	umask(0);

	build_root(p, chan[0]);
	net_fd = wait_ready(chan[0], command_pid);
	join_netns(p, net_fd);

	/* init keeps no capability and no way to gain one, from before 'R'
	 * (the command could otherwise start while init still held them; the
	 * probe, reading /proc/1/status first thing, caught that): no_new_privs,
	 * the jail's ids, every capability set emptied. It never executes
	 * anything, and with no_new_privs an execve could grant nothing, so
	 * its bounding set (a limit on what execve grants) is not dropped:
	 * 41 prctls, each a new set of credentials, were ~1.4% of a launch.
	 * The command cannot reach it (landlock scoping, ptrace refused, it is
	 * not dumpable). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die(p, errno, "prctl(PR_SET_NO_NEW_PRIVS) in the jail's init");
	set_jail_ids(p);
	clear_capabilities(p);
	signal_peer(p, chan[0], 'R');
	close(chan[0]);

	/* Die with the parent. Set after the uid change, which clears it; then
	 * make sure the parent did not die in between (its end of sync_fd stays
	 * open until it has reaped us). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		die(p, errno, "prctl(PR_SET_PDEATHSIG)");
	pfd = (struct pollfd){.fd = p->sync_fd, .events = POLLIN};
	if (poll(&pfd, 1, 0) != 0)
		_exit(OMBX_EXIT_FAILURE);
	init_loop(p);
}
