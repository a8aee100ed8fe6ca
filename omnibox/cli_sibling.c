/* cli_sibling.c - finding the programs installed next to omnibox.
 *
 * The static `omnibox`, which every launch executes, links no OpenSSL and
 * no libh2o: what needs them runs as a program of its own from the same
 * directory (omnibox-proxy; omnibox-tools for `ca` and `audit`). */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "omnibox.h"

int ombx_cli_sibling(const char *name, char *buf, size_t size)
{
	size_t len = strlen(name);
	ssize_t n;
	char *slash;

	if (size < len + 2)
		return -ENAMETOOLONG;
	n = readlink("/proc/self/exe", buf, size - len - 1);
	if (n < 0)
		return -errno;
	if (n == 0 || (size_t)n >= size - len - 1)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	memcpy(slash ? slash + 1 : buf, name, len + 1);
	return 0;
}

int ombx_cli_exec_sibling(const char *name, char **argv)
{
	char path[PATH_MAX];
	int r = ombx_cli_sibling(name, path, sizeof(path));

	if (r < 0) {
		errno = -r;
		ombx_cli_error("cannot find where omnibox is installed: %m");
		return OMBX_EXIT_FAILURE;
	}
	argv[0] = path;
	execv(path, argv);
	ombx_cli_error("cannot run %s (installed next to omnibox): %m", path);
	return OMBX_EXIT_FAILURE;
}
