/* file.h - reading a whole user-named file, bounded.
 *
 * For the small files users hand us (profiles, policies): the file is read
 * in full, never more than max bytes (one byte past max is read to catch
 * files that are not regular or that grow), and every failure names the
 * file and what it was meant to be ("profile", "policy"). */
#ifndef OMBX_COMMON_FILE_H
#define OMBX_COMMON_FILE_H

#include <stddef.h>

#include "err.h"

/* On success *out is a malloc'd buffer of *len bytes plus a NUL. */
int ombx_read_file(const char *path, size_t max, const char *what, char **out, size_t *len,
		   ombx_err *err);

#endif
