/* cleanup.h - scope-bound ownership, in the manner of systemd's macros.
 *
 * `_cleanup_free_ char *p = NULL;` frees p when it leaves scope;
 * TAKE_PTR/TAKE_FD hand ownership on and leave NULL / -1 behind. */
#ifndef OMBX_COMMON_CLEANUP_H
#define OMBX_COMMON_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void ombx_freep(void *p) { free(*(void **)p); }
static inline void ombx_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void ombx_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(ombx_freep)
#define _cleanup_close_ _cleanup_(ombx_closep)
#define _cleanup_fclose_ _cleanup_(ombx_fclosep)

#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _tp = (p);                                                           \
		(p) = NULL;                                                                        \
		_tp;                                                                               \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _tf = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_tf;                                                                               \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
