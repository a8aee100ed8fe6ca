/* placeholder.c - the random stand-ins a jail holds instead of secrets.
 * In libproxy (not libproxy_net): `omnibox exec` makes them before the jail
 * and the proxy start, and hands the same ones to both. */
#include <errno.h>
#include <stdio.h>
#include <sys/random.h>

#include "proxy/placeholder.h"

int proxy_placeholder_make(char *buf, size_t size)
{
	unsigned char rnd[16];
	size_t len;

	if (size < PROXY_PLACEHOLDER_LEN + 1)
		return -ENOSPC;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	len = (size_t)snprintf(buf, size, PROXY_PLACEHOLDER_PREFIX);
	for (size_t k = 0; k < sizeof(rnd); k++)
		len += (size_t)snprintf(buf + len, size - len, "%02x", rnd[k]);
	return 0;
}
