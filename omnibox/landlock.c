/* landlock.c - see landlock.h. */
#include "landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Debian 12's kernel headers predate ABI 4-6; the values are kernel ABI. */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
/* ABI 4 (Linux 6.7): TCP ports. Debian 12's headers predate it. */
#define OMBX_LL_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#define OMBX_LL_RULE_NET_PORT          2
struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
} __attribute__((packed));
#define OMBX_LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define OMBX_LL_SCOPE_SIGNAL               (1ULL << 1)

/* Our own copy of the ruleset attr, sized for ABI 6 (handled_access_net and
 * scoped follow handled_access_fs). The kernel accepts the size we pass. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

#define FS_READ                                                                                    \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_WRITE_V1                                                                                \
	(LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |                           \
	 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |                           \
	 LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |                               \
	 LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |                             \
	 LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM)

int ombx_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0)
		return -errno;
	return (int)abi;
}

static uint64_t fs_handled(int abi)
{
	uint64_t a = FS_READ | FS_WRITE_V1;
	if (abi >= 2)
		a |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		a |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		a |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return a;
}

static int add_path(int ruleset, const char *path, uint64_t access)
{
	struct landlock_path_beneath_attr pb = {.allowed_access = access};
	int r;

	pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (pb.parent_fd < 0)
		return errno == ENOENT ? 0 : -errno;
	r = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	r = r < 0 ? -errno : 0;
	close(pb.parent_fd);
	return r;
}

int ombx_landlock_build(const struct ombx_landlock_spec *s, const char **what)
{
	struct ll_ruleset_attr attr = {0};
	size_t attr_size = sizeof(uint64_t);
	uint64_t all = fs_handled(s->abi), file_rw;
	int rs, r = 0;

	if (s->abi < 1) {
		*what = "landlock is not available";
		return -EOPNOTSUPP;
	}
	attr.handled_access_fs = all;
	if (s->abi >= 4 && s->n_connect_ports) {
		attr.handled_access_net = OMBX_LL_ACCESS_NET_CONNECT_TCP;
		attr_size = 2 * sizeof(uint64_t);
	}
	if (s->abi >= 6) {
		attr.scoped = OMBX_LL_SCOPE_ABSTRACT_UNIX_SOCKET | OMBX_LL_SCOPE_SIGNAL;
		attr_size = sizeof(attr);
	}
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
	if (rs < 0) {
		*what = "landlock_create_ruleset";
		return -errno;
	}
	/* Device rules carry file rights only: read, write, truncate, ioctl. */
	file_rw = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
		  (s->abi >= 3 ? LANDLOCK_ACCESS_FS_TRUNCATE : 0) |
		  (s->abi >= 5 ? LANDLOCK_ACCESS_FS_IOCTL_DEV : 0);

	*what = "landlock rule for /";
	r = add_path(rs, "/", FS_READ);
	for (size_t i = 0; r == 0 && i < s->n_rw; i++) {
		*what = s->rw[i];
		r = add_path(rs, s->rw[i], all);
	}
	for (size_t i = 0; r == 0 && i < s->n_dev; i++) {
		*what = s->dev[i];
		r = add_path(rs, s->dev[i], file_rw);
	}
	for (size_t i = 0; r == 0 && attr.handled_access_net && i < s->n_connect_ports; i++) {
		struct ll_net_port_attr np = {.allowed_access = OMBX_LL_ACCESS_NET_CONNECT_TCP,
					      .port = s->connect_ports[i]};
		*what = "landlock rule for a proxy port";
		if (syscall(SYS_landlock_add_rule, rs, OMBX_LL_RULE_NET_PORT, &np, 0) < 0)
			r = -errno;
	}
	if (r < 0) {
		close(rs);
		return r;
	}
	return rs;
}

int ombx_landlock_enforce(int ruleset, const char **what)
{
	int r = 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		*what = "prctl(PR_SET_NO_NEW_PRIVS)";
		r = -errno;
	}
	if (r == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) {
		*what = "landlock_restrict_self";
		r = -errno;
	}
	close(ruleset);
	return r;
}
