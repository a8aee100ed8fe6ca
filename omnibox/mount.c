/* mount.c - the jail's root file system.
 *
 * A fresh tmpfs root holding read-only binds of the system, a curated /etc,
 * the workspace read-write at its own path (its .git made a mount point with
 * hooks and config read-only), tmpfs /tmp and $HOME, a fresh /proc with a
 * read-only /proc/sys, a minimal /dev, and no /sys. Everything nosuid,nodev
 * except the device nodes. The host root is detached at the end.
 *
 * One pivot, first: the jail's root tmpfs is mounted over /tmp (in this
 * private namespace) only to pivot into it, and the jail is then built in
 * place, the host root reachable as /.omnibox/host until it is detached at the
 * end. (bubblewrap pivots twice, onto a scratch tmpfs and then into the
 * new root; one tmpfs and one pivot fewer here.) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "jail.h"
#include "linux_api.h"

#define OLD           OMBX_SETUP_DIR "/host"  /* the host root while the jail is built */
#define EMPTY         OMBX_SETUP_DIR "/empty" /* bound over each --hide file */
#define OMBX_COPY_MAX (256 * 1024)

static char what_buf[PATH_MAX + 64];

static int fail(const char **what, const char *step, const char *path)
{
	int e = errno ? errno : EIO;
	snprintf(what_buf, sizeof(what_buf), "%s %s", step, path ? path : "");
	*what = what_buf;
	return -e;
}

static int setattr(const char *path, uint64_t set, bool recursive)
{
	struct mount_attr a = {.attr_set = set};
	return mount_setattr(AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &a, sizeof(a));
}

/* mkdir -p inside the new root (all paths here are absolute); tries the
 * whole path first, since the parents usually exist. */
static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	char *slash;
	int r;

	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return -ENOENT;
	*slash = '\0';
	if ((r = mkdir_p(buf, mode)) < 0)
		return r;
	return mkdir(path, mode) == 0 || errno == EEXIST ? 0 : -errno;
}

static int make_target(const char *dst, bool is_dir)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(dst, '/');
	int fd;

	if (is_dir)
		return mkdir_p(dst, 0755);
	if (!slash || (size_t)(slash - dst) >= sizeof(parent))
		return -EINVAL;
	memcpy(parent, dst, (size_t)(slash - dst));
	parent[slash - dst] = '\0';
	if (parent[0] && mkdir_p(parent, 0755) < 0)
		return -errno;
	fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);
	if (fd < 0 && errno != EEXIST)
		return -errno;
	if (fd >= 0)
		close(fd);
	return 0;
}

/* Binds host path `src` (seen under /.omnibox/host) at `dst` in the new root,
 * on a mount point made as a directory or a file, as the caller knows src
 * to be (no stat here). */
static int bind(const char *src, const char *dst, bool is_dir, uint64_t attrs, const char **what)
{
	char from[PATH_MAX + sizeof(OLD)];
	int r;

	snprintf(from, sizeof(from), OLD "%s", src);
	r = make_target(dst, is_dir);
	if (r < 0) {
		errno = -r;
		return fail(what, "creating mount point for", dst);
	}
	if (mount(from, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return fail(what, "bind-mounting", src);
	if (setattr(dst, attrs, true) < 0)
		return fail(what, "restricting mount", dst);
	return 0;
}

static int copy_symlink(int from_dir, int to_dir, const char *name, const char *path,
			const char **what)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(from_dir, name, target, sizeof(target) - 1);

	if (n < 0)
		return fail(what, "readlink", path);
	target[n] = '\0';
	if (symlinkat(target, to_dir, name) < 0 && errno != EEXIST)
		return fail(what, "symlink", path);
	return 0;
}

/* Copies a small regular file (open as in) into the new root: cheaper than
 * a bind mount to set up and to tear down, and a snapshot is all /etc
 * needs. */
static int copy_file(int in, int to_dir, const char *name, off_t size)
{
	_cleanup_close_ int out =
		openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	off_t off = 0;

	if (out < 0)
		return -errno;
	while (off < size) {
		ssize_t n = sendfile(out, in, &off, (size_t)(size - off));
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
	}
	return 0;
}

/* Mirrors path (from_dir/name on the host, to_dir/name in the new root)
 * read-only if it exists: symlinks as symlinks, small files as copies, the
 * rest as read-only binds. Directory descriptors, so that each lookup is
 * one component, not a walk from the root across /.omnibox/host; and the
 * host's entry is opened, not looked up once to stat and again to open
 * (a lookup less on each of the ~25 entries a launch mirrors). */
static int mirror_ro(int from_dir, int to_dir, const char *name, const char *path, bool optional,
		     const char **what)
{
	_cleanup_close_ int in =
		openat(from_dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	int open_err = in < 0 ? errno : 0, r;
	struct stat st;

	if (open_err == ELOOP) /* O_NOFOLLOW met a symlink */
		return copy_symlink(from_dir, to_dir, name, path, what);
	if (open_err == ENOENT && optional)
		return 0;
	/* Not readable (a directory we may only search, say): as it is. */
	if ((in >= 0 ? fstat(in, &st) : fstatat(from_dir, name, &st, AT_SYMLINK_NOFOLLOW)) < 0)
		return fail(what, "stat", path);
	if (in >= 0 && S_ISREG(st.st_mode) && st.st_size <= OMBX_COPY_MAX) {
		if ((r = copy_file(in, to_dir, name, st.st_size)) < 0) {
			errno = -r;
			return fail(what, "copying", path);
		}
		return 0;
	}
	if (S_ISREG(st.st_mode) && st.st_size <= OMBX_COPY_MAX) {
		errno = open_err; /* a small file that could not be opened to copy */
		return fail(what, "copying", path);
	}
	return bind(path, path, S_ISDIR(st.st_mode),
		    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, what);
}

/* The two directories mirror_ro works between, opened once. */
static int open_dirs(const char *from, const char *to, int fds[2], const char **what)
{
	fds[0] = open(from, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fds[0] < 0)
		return fail(what, "opening", from);
	fds[1] = open(to, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fds[1] < 0) {
		close(fds[0]);
		return fail(what, "opening", to);
	}
	return 0;
}

static int write_file(const char *path, const char *content)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t n = strlen(content);

	if (fd < 0)
		return -errno;
	return write(fd, content, n) == (ssize_t)n ? 0 : -EIO;
}

/* Writable scratch space at dst: a directory of the root tmpfs bound onto
 * itself, so that it stays writable when the root is made read-only. One
 * tmpfs for the whole jail rather than one per directory: a superblock
 * fewer each to make and, at exit, to tear down. Links and renames cannot
 * cross between these mounts and the root (EXDEV), as between tmpfses.
 * uid/gid -1: left as made (the setup's own, which may be all it has). */
static int scratch(const char *dst, mode_t mode, uid_t uid, gid_t gid, uint64_t attrs,
		   const char **what)
{
	int r = mkdir_p(dst, 0755);

	if (r < 0) {
		errno = -r;
		return fail(what, "creating", dst);
	}
	if (((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(dst, uid, gid) < 0) ||
	    chmod(dst, mode) < 0)
		return fail(what, "setting the owner and mode of", dst);
	if (mount(dst, dst, NULL, MS_BIND, NULL) < 0)
		return fail(what, "bind-mounting", dst);
	if (attrs && setattr(dst, attrs, false) < 0)
		return fail(what, "restricting mount", dst);
	return 0;
}

static const char *const system_dirs[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};

/* What programs need from /etc, and nothing that identifies the host's users
 * or holds its credentials. */
static const char *const etc_files[] = {
	"/etc/alternatives",  "/etc/ssl",          "/etc/ld.so.cache",    "/etc/ld.so.conf",
	"/etc/nsswitch.conf", "/etc/host.conf",    "/etc/gai.conf",       "/etc/localtime",
	"/etc/timezone",      "/etc/os-release",   "/etc/debian_version", "/etc/protocols",
	"/etc/services",      "/etc/inputrc",      "/etc/bash.bashrc",    "/etc/profile",
	"/etc/gitconfig",     "/etc/locale.alias", "/etc/resolv.conf", /* with --net host only */
};

/* The synthetic files; the copies are made by ombx__etc_populate. */
static int finish_etc(const struct ombx__plan *p, const char **what)
{
	char buf[1024];
	int r;

	snprintf(buf, sizeof(buf),
		 "root:x:0:0:root:/root:/usr/sbin/nologin\n"
		 "user:x:%u:%u:omnibox jail user:" OMBX_JAIL_HOME ":/bin/sh\n"
		 "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
		 p->jail_uid, p->jail_gid);
	if ((r = write_file("/etc/passwd", buf)) < 0)
		goto err;
	snprintf(buf, sizeof(buf), "root:x:0:\nuser:x:%u:\nnogroup:x:65534:\n", p->jail_gid);
	if ((r = write_file("/etc/group", buf)) < 0)
		goto err;
	r = write_file("/etc/hosts", "127.0.0.1\tlocalhost " OMBX_JAIL_HOSTNAME
				     "\n::1\tlocalhost ip6-localhost ip6-loopback\n");
	if (r < 0)
		goto err;
	if ((r = write_file("/etc/hostname", OMBX_JAIL_HOSTNAME "\n")) < 0)
		goto err;
	/* --net proxy: the only resolver is the proxy's stub, inside the jail */
	if (p->cfg->net == OMBX_NET_PROXY &&
	    (r = write_file("/etc/resolv.conf", "nameserver 127.0.0.1\noptions edns0\n")) < 0)
		goto err;
	return 0; /* read-only with the rest of the root, in ombx__mount_seal */
err:
	errno = -r;
	return fail(what, "writing", "/etc");
}

int ombx__etc_populate(const struct ombx__plan *p, const char **what)
{
	size_t n = ARRAY_SIZE(etc_files) - (p->cfg->net == OMBX_NET_HOST ? 0 : 1);
	int dir[2], r;

	if ((r = open_dirs(OLD "/etc", "/etc", dir, what)) < 0)
		return r;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = mirror_ro(dir[0], dir[1], etc_files[i] + 5, etc_files[i], true, what);
	close(dir[0]);
	close(dir[1]);
	return r;
}

static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

static int build_dev(const char **what)
{
	static const char *const links[][2] = {
		{"/proc/self/fd", "/dev/fd"},       {"/proc/self/fd/0", "/dev/stdin"},
		{"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
		{"pts/ptmx", "/dev/ptmx"},          {"/proc/kcore", NULL},
	};
	char path[64];
	/* A directory of the root tmpfs (read-only with it at the end), not a
	 * tmpfs of its own: one superblock less to make and tear down. */
	int r = mkdir("/dev", 0755) < 0 ? fail(what, "mkdir", "/dev") : 0;

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(dev_nodes); i++) {
		snprintf(path, sizeof(path), "/dev/%s", dev_nodes[i]);
		/* Device nodes are the one place without nodev. */
		r = bind(path, path, false, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, what);
	}
	if (r < 0)
		return r;
	for (size_t i = 0; links[i][1]; i++)
		if (symlink(links[i][0], links[i][1]) < 0)
			return fail(what, "symlink", links[i][1]);
	if (mkdir("/dev/pts", 0755) < 0)
		return fail(what, "mkdir", "/dev/pts");
	if (mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  "newinstance,ptmxmode=0666,mode=0620") < 0)
		return fail(what, "mounting devpts on", "/dev/pts");
	return scratch("/dev/shm", 01777, (uid_t)-1, (gid_t)-1, MOUNT_ATTR_NOEXEC, what);
}

static int build_proc(const char **what)
{
	/* The rest of /proc that writes reach is the host's root-owned files,
	 * and the command never holds uid 0 or a capability. */
	static const char *const ro[] = {"/proc/sys"};

	if (mkdir("/proc", 0555) < 0)
		return fail(what, "mkdir", "/proc");
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return fail(what, "mounting proc on", "/proc");
	for (size_t i = 0; i < ARRAY_SIZE(ro); i++) {
		if (access(ro[i], F_OK) < 0)
			continue;
		if (mount(ro[i], ro[i], NULL, MS_BIND | MS_REC, NULL) < 0 ||
		    setattr(ro[i],
			    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				    MOUNT_ATTR_NOEXEC,
			    true) < 0)
			return fail(what, "making read-only", ro[i]);
	}
	return 0;
}

/* Opens PATH (absolute, inside the jail) as the jail will see it: symlinks
 * resolved within the new root, never above it, no magic links. */
static int open_in_jail(const char *path, int flags)
{
	struct open_how how = {.flags = (uint64_t)(flags | O_PATH | O_CLOEXEC),
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd;

	if (root < 0)
		return -errno;
	fd = (int)syscall(SYS_openat2, root, path + 1, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

/* Binds the object fd refers to onto itself with attrs, by descriptor: no
 * path is looked up again, so nothing can be swapped in between. */
static int bind_fd(int fd, uint64_t attrs)
{
	struct mount_attr a = {.attr_set = attrs};
	_cleanup_close_ int tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
							 AT_EMPTY_PATH);

	if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0 ||
	    move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return -errno;
	return 0;
}

/* Makes path (as the jail sees it) read-only by descriptor; a missing path
 * is an error unless optional. */
static int protect_ro(const char *path, int flags, bool optional, const char **what)
{
	int fd = open_in_jail(path, flags), r;

	if (fd == -ENOENT && optional)
		return 0;
	r = fd < 0 ? fd : bind_fd(fd, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		errno = -r;
		return fail(what, "making read-only", path);
	}
	return 0;
}

/* The workspace read-write; its .git a mount point (so it cannot be renamed
 * away and replaced) with hooks and config read-only, since the host's git
 * would run what an agent planted there. Everything is opened as the jail
 * sees it and protected by descriptor: under root, the workspace owner must
 * not be able to race a symlink in and have omnibox act on a host path. */
static int build_workspace(const struct ombx__plan *p, const char **what)
{
	const uint64_t rw = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	char git[PATH_MAX], sub[PATH_MAX + 16];
	_cleanup_close_ int gitfd = -1;
	int r = bind(p->workspace, p->workspace, true, rw, what);

	if (r < 0)
		return r;
	if ((size_t)snprintf(git, sizeof(git), "%s/.git", p->workspace) >= sizeof(git))
		return 0;
	gitfd = open_in_jail(git, O_DIRECTORY);
	if (gitfd == -ENOENT || gitfd == -ENOTDIR)
		return 0; /* not a git work tree (or .git is a file: a linked worktree) */
	if (gitfd < 0 || (r = bind_fd(gitfd, rw)) < 0) {
		errno = gitfd < 0 ? -gitfd : -r;
		return fail(what, "protecting", git);
	}
	/* The hooks directory must exist to be protected; made for the user. */
	if (mkdirat(gitfd, "hooks", 0755) == 0) {
		if (fchownat(gitfd, "hooks", p->jail_uid, p->jail_gid, AT_SYMLINK_NOFOLLOW) < 0)
			return fail(what, "chown", git);
	} else if (errno != EEXIST) {
		return fail(what, "creating hooks in", git);
	}
	snprintf(sub, sizeof(sub), "%s/hooks", git);
	if ((r = protect_ro(sub, O_DIRECTORY, false, what)) < 0)
		return r;
	snprintf(sub, sizeof(sub), "%s/config", git);
	return protect_ro(sub, 0, true, what);
}

static int hide(const struct ombx__bind *b, const char **what)
{
	int r;

	if (access(b->path, F_OK) < 0)
		return 0; /* not visible in the jail anyway */
	if (b->is_dir)
		r = mount("tmpfs", b->path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV,
			  "mode=0,size=4k");
	else
		r = mount(EMPTY, b->path, NULL, MS_BIND, NULL);
	if (r == 0 && !b->is_dir)
		r = setattr(b->path, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
			    false);
	return r < 0 ? fail(what, "hiding", b->path) : 0;
}

/* --ro and --rw in the order given, then every --hide: a hidden path stays
 * hidden whatever order the options came in. */
static int build_binds(const struct ombx__plan *p, const char **what)
{
	const uint64_t rw = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	int r = 0;

	for (size_t i = 0; r == 0 && i < p->n_binds; i++) {
		const struct ombx__bind *b = &p->binds[i];
		if (b->kind != OMBX_BIND_HIDE)
			r = bind(b->path, b->path, b->is_dir,
				 b->kind == OMBX_BIND_RO ? rw | MOUNT_ATTR_RDONLY : rw, what);
	}
	for (size_t i = 0; r == 0 && i < p->n_binds; i++)
		if (p->binds[i].kind == OMBX_BIND_HIDE)
			r = hide(&p->binds[i], what);
	return r;
}

/* Whether a --hide names a file (bound over with EMPTY). */
static bool hides_file(const struct ombx__plan *p)
{
	for (size_t i = 0; i < p->n_binds; i++)
		if (p->binds[i].kind == OMBX_BIND_HIDE && !p->binds[i].is_dir)
			return true;
	return false;
}

int ombx__mount_begin(const struct ombx__plan *p, const char **what)
{
	int r, fd, dir[2];

	*what = "mount";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail(what, "making the mount tree private", "/");
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		return fail(what, "mounting the jail's root tmpfs on", "/tmp");
	if (mkdir("/tmp" OMBX_SETUP_DIR, 0700) < 0 || mkdir("/tmp" OLD, 0700) < 0)
		return fail(what, "mkdir", OLD);
	if (hides_file(p)) {
		fd = open("/tmp" EMPTY, O_WRONLY | O_CREAT | O_CLOEXEC, 0);
		if (fd < 0)
			return fail(what, "creating", EMPTY);
		close(fd);
	}
	if (syscall(SYS_pivot_root, "/tmp", "/tmp" OLD) < 0)
		return fail(what, "pivot_root into the jail's root", "");
	if (chdir("/") < 0)
		return fail(what, "chdir", "/");
	if ((r = open_dirs(OLD, "/", dir, what)) < 0)
		return r;
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(system_dirs); i++)
		r = mirror_ro(dir[0], dir[1], system_dirs[i] + 1, system_dirs[i], i > 0, what);
	close(dir[0]);
	close(dir[1]);
	if (r < 0)
		return r;
	/* Like /dev: a directory of the root, read-only with it at the end. */
	return mkdir("/etc", 0755) < 0 ? fail(what, "mkdir", "/etc") : 0;
}

int ombx__mount_rest(const struct ombx__plan *p, const char **what)
{
	int r;

	if ((r = build_dev(what)) < 0 || (r = build_proc(what)) < 0)
		return r;
	/* Scratch space first, so a workspace beneath /tmp or $HOME lands on it. */
	if ((r = scratch("/tmp", 01777, (uid_t)-1, (gid_t)-1, 0, what)) < 0 ||
	    (r = scratch(OMBX_JAIL_HOME, 0700, p->jail_uid, p->jail_gid, 0, what)) < 0)
		return r;
	return (r = build_workspace(p, what)) < 0 ? r : build_binds(p, what);
}

/* The synthetic /etc files; the host root detached; the root read-only. */
int ombx__mount_seal(const struct ombx__plan *p, const char **what)
{
	int r;

	if ((r = finish_etc(p, what)) < 0)
		return r;
	if (umount2(OLD, MNT_DETACH) < 0)
		return fail(what, "detaching the host root", "");
	if (rmdir(OLD) < 0)
		return fail(what, "rmdir", OLD);
	if (hides_file(p) && unlink(EMPTY) < 0) /* each --hide file holds it through its bind */
		return fail(what, "unlink", EMPTY);
	if (rmdir(OMBX_SETUP_DIR) < 0)
		return fail(what, "rmdir", OMBX_SETUP_DIR);
	if (setattr("/", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, false) < 0)
		return fail(what, "making the jail root read-only", "/");
	return 0;
}
