/* audit.c - the audit log's appender: open (continuing the chain, dropping a
 * torn tail), chain records (built by audit_format.c) and append them as
 * whole lines, several threads' at once in one write (group commit). The
 * format and its guarantees: audit.h, docs/AUDIT.md. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/cleanup.h"
#include "proxy/audit.h"
#include "proxy/audit_format.h"

/* Room for the chain's fields: {"v":N,"seq":N,"prev":"<64 hex>","recovered":N} */
#define CHAIN_MAX 192

/* Bytes of records waiting for the writer; past it an appender waits (a
 * stalled disk holds the proxy back rather than growing its memory). */
#define QUEUE_MAX (1024 * 1024)

/* A record built and waiting for the writer. */
struct queued {
	struct queued *next;
	size_t len;
	char body[];
};

struct proxy_audit {
	pthread_mutex_t lock; /* the queue, writing, broken */
	pthread_cond_t drained; /* the writer took the queue, or stopped writing */
	struct queued *q_head, *q_tail;
	size_t q_bytes; /* queued, bounded by QUEUE_MAX */
	bool writing; /* an appender is writing: the chain below is its alone */
	int fd;
	unsigned flags;
	bool broken;        /* a failed append could not be cut back: refuse more */
	off_t size;         /* bytes of complete lines in the file */
	uint64_t seq;       /* of the last record, 0: none */
	uint64_t recovered; /* torn bytes dropped at open, for the next record */
	char prev[PROXY_AUDIT_HASH_HEX];
	char *path;
};

/* SHA-256 fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up
 * again on every digest (a record, an approval key). */
static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void proxy_audit_hash(const void *data, size_t len, char hex[PROXY_AUDIT_HASH_HEX])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	pthread_once(&sha256_once, sha256_fetch);
	if (EVP_Digest(data, len, md, &n, sha256 ? sha256 : EVP_sha256(), NULL) != 1 || n != 32) {
		/* Cannot happen with a working libcrypto; a wrong hash fails verify. */
		memset(hex, '0', 64);
		hex[64] = '\0';
		return;
	}
	for (unsigned i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

int proxy_audit_redact_path(const char *path, char *out, size_t size)
{
	const char *q = strchr(path, '?');
	size_t keep = q ? (size_t)(q - path) : strlen(path);
	size_t need = keep + (q ? strlen(PROXY_AUDIT_REDACTED) : 0);

	if (size == 0)
		return -ENOSPC;
	if (need >= size || need > INT_MAX) {
		out[0] = '\0';
		return -ENOSPC;
	}
	memcpy(out, path, keep);
	if (q)
		memcpy(out + keep, PROXY_AUDIT_REDACTED, strlen(PROXY_AUDIT_REDACTED));
	out[need] = '\0';
	return (int)need;
}

int proxy_audit_default_path(char *buf, size_t size, ombx_err *err)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(buf, size, "%s/omnigent/audit.jsonl", xdg);
	else if (home && home[0] == '/')
		n = snprintf(buf, size, "%s/.local/state/omnigent/audit.jsonl", home);
	else
		return ombx_err_set(err, ENOENT,
				    "no audit log path: neither XDG_STATE_HOME nor HOME is an "
				    "absolute path; name the file");
	if (n < 0 || (size_t)n >= size)
		return ombx_err_set(err, ENAMETOOLONG, "the default audit log path is too long");
	return 0;
}

/* Appends to *out (growing it) the line for body: {"v":…,"seq":…,"prev":…
 * [,"recovered":…], then body's fields, and a newline; the chain advances.
 * -ENOMEM, or 0. */
static int join_chain(struct proxy_audit *a, const char *body, size_t blen, char **out,
		      size_t *len, size_t *cap)
{
	char pre[CHAIN_MAX];
	size_t plen, need, start = *len;
	int n;

	/* Two integers and 64 hex digits need no escaping: formatted here,
	 * under the lock, rather than through a jansson object (the record's
	 * own fields, which come from clients, are jansson's: audit_format.c) */
	if (a->recovered)
		n = snprintf(pre, sizeof(pre), "{\"v\":%d,\"seq\":%" PRIu64 ",\"prev\":\"%s\","
			     "\"recovered\":%" PRIu64 "}",
			     PROXY_AUDIT_VERSION, a->seq + 1, a->prev, a->recovered);
	else
		n = snprintf(pre, sizeof(pre), "{\"v\":%d,\"seq\":%" PRIu64 ",\"prev\":\"%s\"}",
			     PROXY_AUDIT_VERSION, a->seq + 1, a->prev);
	if (n < 2 || (size_t)n >= sizeof(pre) || blen < 2)
		return -ENOMEM;
	plen = (size_t)n;
	need = *len + plen + blen;
	if (need > *cap) {
		size_t c = *cap ? *cap : 8192;
		char *nb;
		while (c < need)
			c *= 2;
		nb = realloc(*out, c);
		if (!nb)
			return -ENOMEM;
		*out = nb;
		*cap = c;
	}
	/* "{...}" + "{...}" -> "{...,...}\n" */
	memcpy(*out + *len, pre, plen - 1);
	*len += plen - 1;
	if (blen > 2)
		(*out)[(*len)++] = ',';
	memcpy(*out + *len, body + 1, blen - 1);
	*len += blen - 1;
	proxy_audit_hash(*out + start, *len - start, a->prev);
	(*out)[(*len)++] = '\n';
	a->seq++;
	a->recovered = 0;
	return 0;
}

/* Writes the queued records q (freeing them) as one write(2). Only the
 * appender holding a->writing runs this: the chain is its alone. On
 * failure nothing of the batch stays in the file and the chain is as it
 * was; *broken when the file could not be cut back. */
static int write_batch(struct proxy_audit *a, struct queued *q, bool *broken, ombx_err *err)
{
	uint64_t seq0 = a->seq, rec0 = a->recovered;
	char prev0[PROXY_AUDIT_HASH_HEX];
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r = 0;
	ssize_t w;

	memcpy(prev0, a->prev, sizeof(prev0));
	for (struct queued *next; q; q = next) {
		next = q->next;
		if (r == 0 && join_chain(a, q->body, q->len, &buf, &len, &cap) < 0)
			r = ombx_err_set(err, ENOMEM, "audit log %s: building a record", a->path);
		free(q);
	}
	if (r == 0) {
		w = write(a->fd, buf, len);
		if (w == (ssize_t)len) {
			a->size += (off_t)len; /* written: the chain stands */
			free(buf);
			if ((a->flags & PROXY_AUDIT_SYNC) && fdatasync(a->fd) < 0)
				return ombx_err_errno(err, errno, "audit log %s: fdatasync",
						      a->path);
			return 0;
		}
		int e = w < 0 ? errno : ENOSPC; /* before ftruncate */
		if (w > 0 && ftruncate(a->fd, a->size) < 0)
			*broken = true;
		r = ombx_err_errno(err, e, "audit log %s: appending record %llu", a->path,
				   (unsigned long long)seq0 + 1);
	}
	if (r < 0) {
		a->seq = seq0;
		a->recovered = rec0;
		memcpy(a->prev, prev0, sizeof(prev0));
	}
	free(buf);
	return r;
}

int proxy_audit_append(struct proxy_audit *a, const struct proxy_audit_record *rec, ombx_err *err)
{
	int64_t ts = rec->ts_ms ? rec->ts_ms : proxy__audit_now_ms();
	_cleanup_free_ char *heap = NULL;
	char buf[4096];
	const char *body;
	struct queued *q;
	size_t blen = 0;
	int r = 0;

	/* Escaping can grow a field up to six times: shrink the per-field limit
	 * until the line fits. The smallest limit always fits. */
	for (size_t limit = PROXY_AUDIT_FIELD_MAX;; limit /= 2) {
		free(heap);
		errno = ENOMEM;
		body = proxy__audit_body(rec, ts, limit, buf, sizeof(buf), &blen, &heap);
		if (!body)
			return ombx_err_errno(err, errno, "audit log %s: building a record",
					      a->path);
		if (blen + CHAIN_MAX + 1 <= PROXY_AUDIT_LINE_MAX)
			break;
		if (limit <= 64)
			return ombx_err_set(err, EMSGSIZE,
					    "audit log %s: a record does not fit in %d bytes",
					    a->path, PROXY_AUDIT_LINE_MAX);
	}
	q = malloc(sizeof(*q) + blen);
	if (!q)
		return ombx_err_set(err, ENOMEM, "audit log %s: building a record", a->path);
	q->next = NULL;
	q->len = blen;
	memcpy(q->body, body, blen);

	/* Group commit: the appender that finds no one writing writes every
	 * record queued until the queue is empty, one write(2) per batch; the
	 * others queue theirs and return at once (no thread waits on another's
	 * write), unless the queue is full. Order in the file is the order of
	 * queueing. */
	pthread_mutex_lock(&a->lock);
	while (a->writing && !a->broken && a->q_bytes + blen > QUEUE_MAX)
		pthread_cond_wait(&a->drained, &a->lock);
	if (a->broken) {
		pthread_mutex_unlock(&a->lock);
		free(q);
		return ombx_err_set(err, EIO,
				    "audit log %s: an earlier append failed and could not be "
				    "undone; refusing to append (reopen it)",
				    a->path);
	}
	if (a->q_tail)
		a->q_tail->next = q;
	else
		a->q_head = q;
	a->q_tail = q;
	a->q_bytes += blen;
	if (a->writing) {
		pthread_mutex_unlock(&a->lock);
		return 0;
	}
	a->writing = true;
	while (a->q_head && !a->broken) {
		struct queued *batch = a->q_head;
		bool broken = false;
		int rb;
		a->q_head = a->q_tail = NULL;
		a->q_bytes = 0;
		pthread_cond_broadcast(&a->drained);
		pthread_mutex_unlock(&a->lock);
		rb = write_batch(a, batch, &broken, err);
		if (rb < 0 && r == 0)
			r = rb;
		pthread_mutex_lock(&a->lock);
		a->broken |= broken;
	}
	a->writing = false;
	pthread_cond_broadcast(&a->drained);
	pthread_mutex_unlock(&a->lock);
	return r;
}

/* ---- open: find where the chain stands ---- */

/* Finds the last '\n' in [end - limit, end): 1 with *pos set; 0 when the
 * file start is reached first; -EMSGSIZE when none within limit; -errno. */
static int last_newline(int fd, off_t end, size_t limit, off_t *pos)
{
	char buf[4096];
	off_t stop = end > (off_t)limit ? end - (off_t)limit : 0;

	while (end > stop) {
		size_t n = (size_t)(end - stop) < sizeof(buf) ? (size_t)(end - stop) : sizeof(buf);
		ssize_t r = pread(fd, buf, n, end - (off_t)n);
		if (r < 0)
			return -errno;
		if ((size_t)r != n)
			return -EIO;
		for (size_t i = n; i-- > 0;) {
			if (buf[i] == '\n') {
				*pos = end - (off_t)n + (off_t)i;
				return 1;
			}
		}
		end -= (off_t)n;
	}
	return stop == 0 ? 0 : -EMSGSIZE;
}

/* Drops a torn tail (no newline at the end), then reads the last line. */
static int resume(struct proxy_audit *a, ombx_err *err)
{
	struct stat st;
	off_t nl = -1, start = -1;
	int r;
	_cleanup_free_ char *line = NULL;
	json_auto_t *j = NULL;
	json_t *seq;
	size_t len;

	if (fstat(a->fd, &st) < 0)
		return ombx_err_errno(err, errno, "audit log %s: fstat", a->path);
	if (!S_ISREG(st.st_mode))
		return ombx_err_set(err, EINVAL, "audit log %s: not a regular file", a->path);
	a->size = st.st_size;
	if (a->size == 0)
		return 0;
	r = last_newline(a->fd, a->size, PROXY_AUDIT_LINE_MAX, &nl);
	if (r == -EMSGSIZE)
		return ombx_err_set(err, EBADMSG,
				    "audit log %s: no line end in its last %d bytes: not an audit "
				    "log (move it away)",
				    a->path, PROXY_AUDIT_LINE_MAX);
	if (r < 0)
		return ombx_err_errno(err, -r, "audit log %s: reading", a->path);
	if (nl + 1 < a->size) {
		a->recovered = (uint64_t)(a->size - (nl + 1));
		if (ftruncate(a->fd, nl + 1) < 0)
			return ombx_err_errno(err, errno, "audit log %s: dropping a torn last line",
					      a->path);
		a->size = nl + 1;
		if ((a->flags & PROXY_AUDIT_SYNC) && fdatasync(a->fd) < 0)
			return ombx_err_errno(err, errno, "audit log %s: fdatasync", a->path);
	}
	if (a->size == 0)
		return 0;
	r = last_newline(a->fd, a->size - 1, PROXY_AUDIT_LINE_MAX, &start);
	if (r < 0 && r != -EMSGSIZE)
		return ombx_err_errno(err, -r, "audit log %s: reading", a->path);
	start++; /* the line starts after that newline, or at 0 */
	if (r == -EMSGSIZE)
		return ombx_err_set(
			err, EBADMSG,
			"audit log %s: its last line is over %d bytes: not an audit log", a->path,
			PROXY_AUDIT_LINE_MAX);
	len = (size_t)(a->size - 1 - start);
	line = malloc(len + 1);
	if (!line)
		return ombx_err_set(err, ENOMEM, "audit log %s: out of memory", a->path);
	if (pread(a->fd, line, len, start) != (ssize_t)len)
		return ombx_err_errno(err, EIO, "audit log %s: reading its last line", a->path);
	j = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	seq = json_object_get(j, "seq");
	if (!json_is_object(j) || !json_is_integer(seq) || json_integer_value(seq) < 1)
		return ombx_err_set(err, EBADMSG,
				    "audit log %s: its last line is not an audit record; verify it "
				    "with 'omnibox audit --verify' and move it away",
				    a->path);
	a->seq = (uint64_t)json_integer_value(seq);
	proxy_audit_hash(line, len, a->prev);
	return 0;
}

int proxy_audit_open(const char *path, unsigned flags, struct proxy_audit **out, ombx_err *err)
{
	struct proxy_audit *a = calloc(1, sizeof(*a));
	int r;

	*out = NULL;
	if (!a)
		return ombx_err_set(err, ENOMEM, "audit log %s: out of memory", path);
	a->fd = -1;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->drained, NULL);
	a->flags = flags;
	memcpy(a->prev, PROXY_AUDIT_GENESIS, sizeof(a->prev));
	a->path = strdup(path);
	a->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (!a->path || a->fd < 0) {
		r = ombx_err_errno(err, a->path ? errno : ENOMEM, "audit log %s: cannot open",
				   path);
		proxy_audit_close(a);
		return r;
	}
	if (flock(a->fd, LOCK_EX | LOCK_NB) < 0) {
		r = ombx_err_errno(err, errno,
				   "audit log %s: in use by another process (one writer per log)",
				   path);
		proxy_audit_close(a);
		return r;
	}
	r = resume(a, err);
	if (r < 0) {
		proxy_audit_close(a);
		return r;
	}
	*out = a;
	return 0;
}

void proxy_audit_close(struct proxy_audit *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd);
	for (struct queued *q = a->q_head, *next; q; q = next) { /* after a failure */
		next = q->next;
		free(q);
	}
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->drained);
	free(a->path);
	free(a);
}

uint64_t proxy_audit_seq(const struct proxy_audit *a)
{
	return a->seq;
}

const char *proxy_audit_last_hash(const struct proxy_audit *a)
{
	return a->prev;
}
