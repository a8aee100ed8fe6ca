/* audit.h - the egress proxy's tamper-evident audit log (docs/AUDIT.md).
 *
 * One JSON object per line (jansson, compact, keys in a fixed order: the
 * bytes of a record are a function of its fields). Every record starts with
 * `v`, `seq` (1, 2, 3 … gapless) and `prev`, the SHA-256 hex of the previous
 * line's exact bytes
 * (without its newline); the first record's `prev` is PROXY_AUDIT_GENESIS,
 * the hash of the empty string. Editing or removing a line therefore breaks
 * the chain at the next line; proxy_audit_verify_fd finds where.
 *
 * This module owns the log file: it creates it 0600, holds an exclusive
 * flock while open (one writer per chain), appends whole lines only (one
 * write() with O_APPEND; a short write is cut back off), and on open drops a
 * torn last line left by a crash, recording that in the next record as
 * "recovered": BYTES_DROPPED.
 *
 * It must never log a secret value: a record has no field that could hold
 * one. `secrets` holds the *names* of the secrets injected, `path` is
 * redacted from its first '?' on, and no header, body or credential is ever
 * a field. Every field is bounded (PROXY_AUDIT_FIELD_MAX, a line at most
 * PROXY_AUDIT_LINE_MAX): a field that does not fit is cut with
 * PROXY_AUDIT_CUT_MARK and named in the record's "truncated" list — a record
 * is never a partial line. Invalid UTF-8 is replaced by U+FFFD. */
#ifndef OMBX_PROXY_AUDIT_H
#define OMBX_PROXY_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define PROXY_AUDIT_VERSION     1
#define PROXY_AUDIT_LINE_MAX    (64 * 1024) /* bytes of a line, newline included */
#define PROXY_AUDIT_FIELD_MAX   4096        /* bytes of one string field */
#define PROXY_AUDIT_NAME_MAX    128         /* bytes of one secret name */
#define PROXY_AUDIT_SECRETS_MAX 64          /* secret names in one record */
#define PROXY_AUDIT_HASH_HEX    65          /* 64 hex digits and a NUL */
#define PROXY_AUDIT_CUT_MARK    "...[truncated]"
#define PROXY_AUDIT_REDACTED    "?REDACTED"
#define PROXY_AUDIT_GENESIS     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Append flags. */
#define PROXY_AUDIT_SYNC 0x1 /* fdatasync after every record */

/* What the proxy fills in. NULL strings and zero ids are left out of the
 * record; byte counts are always written. The appender adds v, seq, prev,
 * ts (when ts_ms is 0: now) and redacts path itself. */
struct proxy_audit_record {
	const char *event;                     /* "request" (NULL means this), "refused", "alert" */
	int64_t ts_ms;                         /* ms since the epoch, UTC; 0: now */
	const char *session;                   /* jail / session id */
	uint64_t conn_id;                      /* per proxy process, from 1 */
	uint64_t req_id;                       /* per connection, from 1 */
	const char *client;                    /* "ip:port" of the jail side */
	const char *connect_host, *sni, *host; /* as the client named them */
	const char *resolved;                  /* vetted "ip:port" dialled */
	const char *method;
	const char *path;     /* raw target path: redacted from '?' on here */
	const char *decision; /* "allow" | "deny" | "ask" */
	const char *rule, *level, *policy_version, *reason;
	const char *approval_id, *approver;
	const char *const *secrets; /* names of the secrets injected, never values */
	size_t n_secrets;
	int status; /* HTTP status sent to the client; 0: none */
	uint64_t bytes_up, bytes_down;
	bool has_timings;
	/* ms; a negative value is left out (not measured) */
	int64_t dns_ms, connect_ms, tls_ms, first_byte_ms, total_ms;
};

struct proxy_audit;

/* Opens (creating 0600) the log at path for appending, continuing the chain
 * from its last complete line. A torn tail is truncated away and recorded in
 * the next record. Fails (-EBADMSG) when the last line is not a record, or
 * -EWOULDBLOCK when another process holds the log. */
int proxy_audit_open(const char *path, unsigned flags, struct proxy_audit **out, ombx_err *err);

/* Appends one record as one line; 0 or a negative errno (err filled). Safe
 * from several threads: the record is built before the log's lock is taken.
 * On
 * failure nothing of the record stays in the file and the chain does not
 * advance; if the file cannot be restored the appender refuses further
 * appends (fail closed). */
int proxy_audit_append(struct proxy_audit *a, const struct proxy_audit_record *rec, ombx_err *err);

/* NULL-safe. */
void proxy_audit_close(struct proxy_audit *a);

/* The seq of the last record written (0: none) and its hash. */
uint64_t proxy_audit_seq(const struct proxy_audit *a);
const char *proxy_audit_last_hash(const struct proxy_audit *a);

/* path with everything from its first '?' replaced by "?REDACTED". Writes a
 * NUL-terminated result into out; returns its length, or -ENOSPC when size is
 * too small (out is then empty). */
int proxy_audit_redact_path(const char *path, char *out, size_t size);

/* SHA-256 of data as 64 lowercase hex digits. */
void proxy_audit_hash(const void *data, size_t len, char hex[PROXY_AUDIT_HASH_HEX]);

/* "YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)" -> ms since the epoch. 0 or -EINVAL. */
int proxy_audit_parse_ts(const char *s, int64_t *ms);

/* $XDG_STATE_HOME/omnigent/audit.jsonl, else ~/.local/state/omnigent/audit.jsonl. */
int proxy_audit_default_path(char *buf, size_t size, ombx_err *err);

/* ---- reading ---- */

/* A bounded line reader over an fd: lines of at most PROXY_AUDIT_LINE_MAX
 * bytes. After EOF it can be called again (a growing file: --follow). */
struct proxy_audit_reader {
	int fd;
	char *buf;
	size_t off, len;
	uint64_t line; /* number of the last line returned, from 1 */
};

int proxy_audit_reader_init(struct proxy_audit_reader *r, int fd);
void proxy_audit_reader_free(struct proxy_audit_reader *r);
/* 1: *line (not NUL-terminated, no '\n') of *len bytes, valid until the next
 * call; 0: end of data for now (proxy_audit_reader_pending() bytes of an
 * unfinished line are kept); -EMSGSIZE: a line over the limit; -errno. */
int proxy_audit_reader_next(struct proxy_audit_reader *r, const char **line, size_t *len);
size_t proxy_audit_reader_pending(const struct proxy_audit_reader *r);

struct proxy_audit_verify_result {
	uint64_t records;    /* complete lines that verified */
	uint64_t torn_bytes; /* a final line without its newline (a crash mid-write) */
	uint64_t bad_line;   /* the first line that did not verify; 0: none */
	char last_hash[PROXY_AUDIT_HASH_HEX]; /* hash of the last good line */
};

/* Reads fd to its end and checks every line: a JSON object, seq gapless from
 * 1, prev = hash of the line before. 0 when everything complete verified (a
 * torn final line is reported in torn_bytes, not an error); -EBADMSG with
 * err = "line N: what is wrong" and res->bad_line set; other -errno on I/O. */
int proxy_audit_verify_fd(int fd, struct proxy_audit_verify_result *res, ombx_err *err);

#endif
