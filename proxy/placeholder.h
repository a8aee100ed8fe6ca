/* placeholder.h - the random stand-ins a jail holds instead of secrets
 * (placeholder.c). Apart from proxy.h, whose CA needs OpenSSL's headers:
 * the static `omnibox` makes the placeholders and links no OpenSSL. */
#ifndef OMBX_PROXY_PLACEHOLDER_H
#define OMBX_PROXY_PLACEHOLDER_H

#include <stddef.h>

#define PROXY_SECRETS_MAX        16 /* secrets with a placeholder */
#define PROXY_PLACEHOLDER_PREFIX "ombx_ph_"
#define PROXY_PLACEHOLDER_LEN    (sizeof(PROXY_PLACEHOLDER_PREFIX) - 1 + 32)

/* Makes a fresh random placeholder (PROXY_PLACEHOLDER_LEN characters and
 * a NUL) into buf; 0 or -errno. */
int proxy_placeholder_make(char *buf, size_t size);

#endif
