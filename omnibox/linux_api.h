/* linux_api.h - the newer mount and fd calls, from either C library.
 *
 * The static `omnibox` is built with musl (omnibox/CMakeLists.txt), whose
 * headers (1.2.3, Debian 12) neither wrap close_range, open_tree,
 * move_mount and mount_setattr nor declare struct mount_attr; glibc 2.36
 * does both, and its <sys/mount.h> clashes with <linux/mount.h>. Include
 * this instead of <sys/mount.h> wherever those are used. */
#ifndef OMBX_LINUX_API_H
#define OMBX_LINUX_API_H

#include <sys/mount.h>
#include <unistd.h>

#ifndef __GLIBC__
/* musl spells these three as unsigned; the kernel's header, the same
 * values as int, would redefine them. */
#undef MS_NOUSER
#undef MS_RMT_MASK
#undef MS_MGC_VAL
#include <linux/close_range.h>
#include <linux/mount.h>
#include <sys/syscall.h>

static inline int close_range(unsigned first, unsigned last, int flags)
{
	return (int)syscall(SYS_close_range, first, last, flags);
}

static inline int open_tree(int dfd, const char *path, unsigned flags)
{
	return (int)syscall(SYS_open_tree, dfd, path, flags);
}

static inline int move_mount(int from_dfd, const char *from, int to_dfd, const char *to,
			     unsigned flags)
{
	return (int)syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags);
}

static inline int mount_setattr(int dfd, const char *path, unsigned flags, struct mount_attr *attr,
				size_t size)
{
	return (int)syscall(SYS_mount_setattr, dfd, path, flags, attr, size);
}
#endif

#endif
