/* ca_dir.h - where the interception CA lives by default (ca_dir.c).
 *
 * Apart from ca.h, which needs OpenSSL's headers: the static `omnibox` asks
 * only this (to find the jail's trust bundle) and links no OpenSSL. */
#ifndef OMBX_PROXY_CA_DIR_H
#define OMBX_PROXY_CA_DIR_H

#include <stddef.h>

#include "common/err.h"

#define PROXY_CA_SYSTEM_ROOTS "/etc/ssl/certs/ca-certificates.crt"

/* Writes the default CA directory into buf: $XDG_DATA_HOME/omnigent/ca,
 * else ~/.local/share/omnigent/ca. */
int proxy_ca_default_dir(char *buf, size_t size, ombx_err *err);

#endif
