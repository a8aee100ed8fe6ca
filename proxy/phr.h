/* phr.h - the two picohttpparser functions proxy/http.c uses, as libh2o
 * exports them. Debian ships libh2o (2.2.5, libh2o.so.0.13) with
 * picohttpparser compiled in and its symbols exported, but no
 * picohttpparser.h, so the declarations are here.
 *
 * The ABI assumed (picohttpparser as bundled in h2o 2.2.5, x86-64 SysV):
 * struct phr_header is four words, in this order; num_headers is in/out (the
 * capacity of headers on entry, the count on return); last_len is the length
 * already parsed by an earlier call (0: parse from scratch). Both return the
 * head's length (> 0), -1 for a malformed head, -2 for an incomplete one.
 *
 * tests/unit/test_http.c checks this ABI against the installed library.
 *
 * What they accept that a proxy must not (seen in the 2.2.5 build; proxy/http.c
 * checks all of it itself before calling them): bare LF as a line end; any
 * non-control byte, >= 0x80 included, in the method and the target; an empty
 * method; a non-token method; obs-fold, reported as a field with name ==
 * NULL. They also leave trailing whitespace in field values. They keep no
 * state, never allocate and never write to the buffer. */
#ifndef OMBX_PROXY_PHR_H
#define OMBX_PROXY_PHR_H

#include <stddef.h>

struct phr_header {
	const char *name; /* NULL: an obs-fold continuation of the previous field */
	size_t name_len;
	const char *value;
	size_t value_len;
};

int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len,
		      const char **path, size_t *path_len, int *minor_version,
		      struct phr_header *headers, size_t *num_headers, size_t last_len);

int phr_parse_response(const char *buf, size_t len, int *minor_version, int *status,
		       const char **msg, size_t *msg_len, struct phr_header *headers,
		       size_t *num_headers, size_t last_len);

#endif
