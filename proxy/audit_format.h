/* audit_format.h - building a record's fields (audit_format.c), for audit.c. */
#ifndef OMBX_PROXY_AUDIT_FORMAT_H
#define OMBX_PROXY_AUDIT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "proxy/audit.h"

/* rec's fields as one compact JSON object (ts from ts_ms; strings cut to
 * limit bytes): written into buf (size bytes) when it fits, else malloc'd
 * (*heap set, the caller frees); *len its length. NULL with errno set. */
char *proxy__audit_body(const struct proxy_audit_record *rec, int64_t ts_ms, size_t limit,
			char *buf, size_t size, size_t *len, char **heap);
int64_t proxy__audit_now_ms(void); /* CLOCK_REALTIME, ms */

#endif
