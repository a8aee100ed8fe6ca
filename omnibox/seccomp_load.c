/* seccomp_load.c - installing the built-in filter (see seccomp.h). Kept apart
 * from seccomp.c so that libomnibox does not need libseccomp at run time. */
#include <errno.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "seccomp.h"

int ombx_seccomp_load(const struct sock_fprog *prog)
{
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) < 0)
		return -errno;
	return 0;
}
