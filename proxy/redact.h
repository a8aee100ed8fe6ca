/* redact.h - masking a secret's value in the responses of the host it is
 * bound to (a server that echoes a credential back must not hand it to the
 * agent that was never given it).
 *
 * Owns: the patterns derived from a set of secret values and finding them in
 * response bytes, whole buffers or streamed bodies. For each value: the value
 * itself; its standard base64 and base64url at each of the three byte
 * alignments, keeping only the characters fully determined by the value (so
 * the value is found inside a longer base64 text, e.g. an echoed
 * "Authorization: Basic base64(user:secret)"); and its URL-encoding (every
 * byte outside ALPHA / DIGIT / "-._~" as %XX), with upper and with lower hex
 * digits. Derived patterns shorter than PROXY_REDACT_PATTERN_MIN bytes are
 * dropped (too likely by chance); the plain value is always kept.
 *
 * Every byte of every occurrence (overlapping ones included) is overwritten
 * with '*', so lengths, and with them any framing, stay valid: a stream's
 * total output equals its total input.
 *
 * Never: logs, prints or returns a pattern or a value; keeps a pattern in
 * memory that is not mlock'd (best effort) and explicit_bzero'd on free. */
#ifndef OMBX_PROXY_REDACT_H
#define OMBX_PROXY_REDACT_H

#include <stddef.h>
#include <stdint.h>

#define PROXY_REDACT_VALUES_MAX  16          /* secret values in one redactor */
#define PROXY_REDACT_VALUE_MAX   (64 * 1024) /* bytes of one value */
#define PROXY_REDACT_PATTERN_MIN 8           /* bytes of a derived pattern kept */

/* Patterns for a set of secret values; immutable after new, so one redactor
 * may be shared by any number of threads. */
struct proxy_redactor;

/* values[i] of lens[i] bytes (1..PROXY_REDACT_VALUE_MAX each), n at most
 * PROXY_REDACT_VALUES_MAX. 0, -EINVAL for sizes out of range, -ENOMEM. The
 * caller's values are not kept. */
int proxy_redactor_new(const char *const *values, const size_t *lens, size_t n,
		       struct proxy_redactor **out);
/* Zeroises and frees; NULL ok. */
void proxy_redactor_free(struct proxy_redactor *r);
/* The longest pattern's length - 1 (0 with no patterns): how many bytes a
 * stream holds back. */
size_t proxy_redactor_holdback(const struct proxy_redactor *r);

/* Overwrites every occurrence in buf with '*' bytes of the same length;
 * returns how many occurrences there were. */
size_t proxy_redact_buf(const struct proxy_redactor *r, char *buf, size_t len);

/* ---- streaming, for bodies ---- */

/* One body's state; one thread at a time. The redactor must outlive it. */
struct proxy_redact_stream;

int proxy_redact_stream_new(const struct proxy_redactor *r, struct proxy_redact_stream **out);
/* Zeroises the bytes it holds and frees; NULL ok. */
void proxy_redact_stream_free(struct proxy_redact_stream *s);
/* Appends in[0..n) and writes into out the bytes that are final now,
 * redacted; returns how many (at most n + holdback). out must have room for
 * n + holdback bytes and may be the same buffer as in. An occurrence that
 * spans feeds is found. The bytes held back are copied into the stream and
 * zeroed in out, so no unredacted byte is left past the returned length. */
size_t proxy_redact_stream_feed(struct proxy_redact_stream *s, const char *in, size_t n, char *out);
/* Writes the bytes still held, redacted, into out (room for holdback bytes);
 * returns how many. The stream is then empty and may be fed again. */
size_t proxy_redact_stream_finish(struct proxy_redact_stream *s, char *out);
/* Occurrences redacted so far. */
uint64_t proxy_redact_stream_count(const struct proxy_redact_stream *s);

#endif
