/* ca_dir.c - where the interception CA lives by default. Apart from ca.c,
 * which needs OpenSSL: the static `omnibox` only asks where the CA is (to
 * find the jail's trust bundle) and links no OpenSSL (docs/PERFORMANCE.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ca_dir.h"

int proxy_ca_default_dir(char *buf, size_t size, ombx_err *err)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	int n;

	if (xdg && xdg[0] == '/') {
		n = snprintf(buf, size, "%s/omnigent/ca", xdg);
	} else {
		if (!home || home[0] != '/')
			return ombx_err_set(err, ENOENT,
					    "no home directory to keep the CA in: set HOME or "
					    "XDG_DATA_HOME, or give --ca DIR");
		n = snprintf(buf, size, "%s/.local/share/omnigent/ca", home);
	}
	if (n < 0 || (size_t)n >= size)
		return ombx_err_set(err, ENAMETOOLONG, "the default CA directory path is too long");
	return 0;
}
