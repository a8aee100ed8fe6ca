/* file.c - see file.h. */
#include "file.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cleanup.h"

/* "1 MiB", "64 KiB", "100 bytes": the limit as a user would write it. */
static void size_text(char *buf, size_t n, size_t max)
{
	if (max >= 1024 * 1024 && max % (1024 * 1024) == 0)
		snprintf(buf, n, "%zu MiB", max / (1024 * 1024));
	else if (max >= 1024 && max % 1024 == 0)
		snprintf(buf, n, "%zu KiB", max / 1024);
	else
		snprintf(buf, n, "%zu bytes", max);
}

int ombx_read_file(const char *path, size_t max, const char *what, char **out, size_t *len,
		   ombx_err *err)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	char limit[32];
	size_t n;

	size_text(limit, sizeof(limit), max);
	*out = NULL;
	*len = 0;
	if (!path || !*path)
		return ombx_err_set(err, EINVAL, "no %s path given", what);
	f = fopen(path, "re");
	if (!f)
		return ombx_err_errno(err, errno, "%s: cannot open %s", path, what);
	if (fstat(fileno(f), &st) < 0)
		return ombx_err_errno(err, errno, "%s: cannot read %s", path, what);
	if (S_ISDIR(st.st_mode))
		return ombx_err_errno(err, EISDIR, "%s: cannot read %s", path, what);
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max)
		return ombx_err_set(err, EFBIG, "%s: %s is larger than %s (%jd bytes)", path, what,
				    limit, (intmax_t)st.st_size);
	buf = malloc(max + 1);
	if (!buf)
		return ombx_err_set(err, ENOMEM, "%s: out of memory reading the %s", path, what);
	errno = 0;
	n = fread(buf, 1, max + 1, f);
	if (ferror(f))
		return ombx_err_errno(err, errno ? errno : EIO, "%s: cannot read %s", path, what);
	if (n > max)
		return ombx_err_set(err, EFBIG, "%s: %s is larger than %s", path, what, limit);
	buf[n] = '\0';
	*out = TAKE_PTR(buf);
	*len = n;
	return 0;
}
