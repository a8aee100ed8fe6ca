/* redact.c - building a redactor's patterns and finding them (redact.h).
 *
 * Matching: every pattern of PROXY_REDACT_PATTERN_MIN bytes or more is
 * indexed by its first 8 bytes in a small open-addressing table; the scan
 * loads the 8 bytes at each position, looks them up, and compares the rest of
 * the few candidates. Plain values shorter than 8 bytes are compared directly
 * at positions whose byte can start one. Linear in the input with a small
 * constant, and no per-call allocation.
 *
 * Masking never disturbs matching: the scan reads only at and after its
 * position, and an occurrence's '*' bytes are written once the scan has
 * passed its end (overlapping occurrences are merged first).
 *
 * Memory: the redactor, its index and its pattern bytes live in one private
 * anonymous mapping, mlock'd and excluded from core dumps where allowed. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "proxy/redact.h"

#define PATTERNS_PER_VALUE 9 /* plain, 2 x 3 base64 alignments, 2 URL-encodings */
#define PATTERNS_MAX       (PROXY_REDACT_VALUES_MAX * PATTERNS_PER_VALUE)
#define TABLE_BITS         9 /* 512 slots for at most 144 keys */
#define TABLE_SIZE         (1u << TABLE_BITS)
#define KEY_LEN            8

struct pattern {
	size_t off, len; /* in bytes[] */
	int next;        /* next pattern with the same key (or next short one), -1: none */
};

struct slot {
	uint64_t key; /* the first 8 bytes of the patterns on the chain */
	int head;     /* -1: empty */
};

struct proxy_redactor {
	size_t map_size;
	bool locked;
	size_t n_pats, used, cap, maxlen;
	int short_head; /* plain values shorter than KEY_LEN */
	unsigned char short_first[32];
	struct pattern pats[PATTERNS_MAX];
	struct slot table[TABLE_SIZE];
	unsigned char bytes[]; /* cap bytes of patterns */
};

/* The pending mask: [start, end) of the buffer being scanned, empty when
 * end == start. */
struct mask {
	size_t start, end;
};

struct proxy_redact_stream {
	const struct proxy_redactor *r;
	unsigned char *held; /* holdback bytes not yet final, as they came */
	size_t held_len, cap;
	struct mask m; /* relative to held[0] */
	uint64_t count;
};

static unsigned slot_of(uint64_t key)
{
	return (unsigned)((key * 0x9e3779b97f4a7c15ull) >> (64 - TABLE_BITS));
}

static struct slot *find_slot(struct proxy_redactor *r, uint64_t key)
{
	unsigned i = slot_of(key);

	while (r->table[i].head >= 0 && r->table[i].key != key)
		i = (i + 1) & (TABLE_SIZE - 1);
	return &r->table[i];
}

static bool same(const struct proxy_redactor *r, int i, const unsigned char *p, size_t len)
{
	return r->pats[i].len == len && memcmp(r->bytes + r->pats[i].off, p, len) == 0;
}

/* Keeps the pattern just written at bytes[used..used+len) unless it is too
 * short or already known; otherwise forgets its bytes. */
static void keep(struct proxy_redactor *r, size_t len, bool plain)
{
	unsigned char *p = r->bytes + r->used;
	struct pattern *pat = &r->pats[r->n_pats];
	int *head;

	if (len == 0 || (len < PROXY_REDACT_PATTERN_MIN && !plain))
		goto drop;
	if (len < KEY_LEN) {
		head = &r->short_head;
	} else {
		uint64_t key;
		struct slot *s;
		memcpy(&key, p, KEY_LEN);
		s = find_slot(r, key);
		s->key = key;
		head = &s->head;
	}
	for (int i = *head; i >= 0; i = r->pats[i].next)
		if (same(r, i, p, len))
			goto drop;
	*pat = (struct pattern){r->used, len, *head};
	*head = (int)r->n_pats++;
	if (len < KEY_LEN)
		r->short_first[p[0] >> 3] |= (unsigned char)(1u << (p[0] & 7));
	r->used += len;
	if (len > r->maxlen)
		r->maxlen = len;
	return;
drop:
	explicit_bzero(p, len);
}

/* The base64 characters of v fully determined by v when v starts at byte
 * offset `align` of a 3-byte group: character j covers bits [6j, 6j + 6) of
 * the stream, v occupies bits [8 align, 8 (align + len)). */
static size_t base64_at(const unsigned char *v, size_t len, unsigned align, const char *alphabet,
			unsigned char *out)
{
	size_t first = (8 * align + 5) / 6, end = 8 * (align + len) / 6, n = 0;

	for (size_t j = first; j < end; j++) {
		size_t bit = 6 * j - 8 * align; /* from v's first bit */
		size_t byte = bit / 8, shift = bit % 8;
		unsigned w = (unsigned)v[byte] << 8;
		if (byte + 1 < len)
			w |= v[byte + 1];
		out[n++] = (unsigned char)alphabet[(w >> (10 - shift)) & 63];
	}
	return n;
}

static size_t url_encode(const unsigned char *v, size_t len, const char *hex, unsigned char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = v[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[n++] = c;
		} else {
			out[n++] = '%';
			out[n++] = (unsigned char)hex[c >> 4];
			out[n++] = (unsigned char)hex[c & 15];
		}
	}
	return n;
}

static void add_value(struct proxy_redactor *r, const unsigned char *v, size_t len)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char b64url[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

	memcpy(r->bytes + r->used, v, len);
	keep(r, len, true);
	for (unsigned align = 0; align < 3; align++) {
		keep(r, base64_at(v, len, align, b64, r->bytes + r->used), false);
		keep(r, base64_at(v, len, align, b64url, r->bytes + r->used), false);
	}
	keep(r, url_encode(v, len, "0123456789ABCDEF", r->bytes + r->used), false);
	keep(r, url_encode(v, len, "0123456789abcdef", r->bytes + r->used), false);
}

int proxy_redactor_new(const char *const *values, const size_t *lens, size_t n,
		       struct proxy_redactor **out)
{
	struct proxy_redactor *r;
	size_t cap = 0, size;
	void *map;

	*out = NULL;
	if (n > PROXY_REDACT_VALUES_MAX || (n && (!values || !lens)))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!values[i] || lens[i] == 0 || lens[i] > PROXY_REDACT_VALUE_MAX)
			return -EINVAL;
		/* plain + 6 base64 (at most 8 len / 6 + 1 each) + 2 URL (3 len each) */
		cap += lens[i] + 6 * (4 * lens[i] / 3 + 2) + 2 * 3 * lens[i];
	}
	size = sizeof(*r) + cap;
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return -ENOMEM;
	r = map;
	r->map_size = size;
	r->cap = cap;
	r->locked = mlock(map, size) == 0;
	(void)madvise(map, size, MADV_DONTDUMP);
	r->short_head = -1;
	for (size_t i = 0; i < TABLE_SIZE; i++)
		r->table[i].head = -1;
	for (size_t i = 0; i < n; i++)
		add_value(r, (const unsigned char *)values[i], lens[i]);
	*out = r;
	return 0;
}

void proxy_redactor_free(struct proxy_redactor *r)
{
	size_t size;
	bool locked;

	if (!r)
		return;
	size = r->map_size;
	locked = r->locked;
	explicit_bzero(r, size);
	if (locked)
		munlock(r, size);
	munmap(r, size);
}

size_t proxy_redactor_holdback(const struct proxy_redactor *r)
{
	return r->maxlen ? r->maxlen - 1 : 0;
}

/* ---- scanning ---- */

/* Adds [s, e) to the pending mask, first writing out the pending one when
 * the two do not touch (the scan is then past its end). */
static void mask_add(struct mask *m, unsigned char *b, size_t s, size_t e)
{
	if (m->end > m->start && s <= m->end) {
		if (e > m->end)
			m->end = e;
		return;
	}
	memset(b + m->start, '*', m->end - m->start);
	m->start = s;
	m->end = e;
}

/* Writes the pending mask's part below `limit` and keeps the rest, moved
 * down by limit (the bytes below limit leave the buffer). */
static void mask_flush(struct mask *m, unsigned char *b, size_t limit)
{
	if (m->start < limit)
		memset(b + m->start, '*', (m->end < limit ? m->end : limit) - m->start);
	if (m->end > limit) {
		m->start = m->start > limit ? m->start - limit : 0;
		m->end -= limit;
	} else {
		*m = (struct mask){0, 0};
	}
}

static bool match_at(const struct proxy_redactor *r, int i, const unsigned char *b, size_t p,
		     size_t len, size_t skip)
{
	const struct pattern *pat = &r->pats[i];

	return p + pat->len <= len &&
	       memcmp(b + p + skip, r->bytes + pat->off + skip, pat->len - skip) == 0;
}

/* Finds the occurrences starting in [from, to) of b[0..len) and masks them
 * (see mask_add); returns how many. */
static uint64_t scan(const struct proxy_redactor *r, unsigned char *b, size_t len, size_t from,
		     size_t to, struct mask *m)
{
	uint64_t count = 0;

	for (size_t p = from; p < to; p++) {
		if (r->short_head >= 0 && (r->short_first[b[p] >> 3] & (1u << (b[p] & 7))))
			for (int i = r->short_head; i >= 0; i = r->pats[i].next)
				if (match_at(r, i, b, p, len, 0)) {
					mask_add(m, b, p, p + r->pats[i].len);
					count++;
				}
		if (p + KEY_LEN <= len) {
			uint64_t key;
			unsigned s;
			memcpy(&key, b + p, KEY_LEN);
			for (s = slot_of(key); r->table[s].head >= 0 && r->table[s].key != key;)
				s = (s + 1) & (TABLE_SIZE - 1);
			for (int i = r->table[s].head; i >= 0; i = r->pats[i].next)
				if (match_at(r, i, b, p, len, KEY_LEN)) {
					mask_add(m, b, p, p + r->pats[i].len);
					count++;
				}
		}
	}
	return count;
}

size_t proxy_redact_buf(const struct proxy_redactor *r, char *buf, size_t len)
{
	struct mask m = {0, 0};
	uint64_t n = scan(r, (unsigned char *)buf, len, 0, len, &m);

	mask_flush(&m, (unsigned char *)buf, len);
	return (size_t)n;
}

/* ---- streaming ---- */

int proxy_redact_stream_new(const struct proxy_redactor *r, struct proxy_redact_stream **out)
{
	struct proxy_redact_stream *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->r = r;
	s->cap = proxy_redactor_holdback(r);
	s->held = malloc(s->cap ? s->cap : 1);
	if (!s->held) {
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

void proxy_redact_stream_free(struct proxy_redact_stream *s)
{
	if (!s)
		return;
	explicit_bzero(s->held, s->cap);
	free(s->held);
	free(s);
}

/* The working buffer is out itself: the held bytes, then the new ones. */
size_t proxy_redact_stream_feed(struct proxy_redact_stream *s, const char *in, size_t n, char *out)
{
	unsigned char *b = (unsigned char *)out;
	size_t h = s->held_len, total = h + n, hold, final;

	if (n)
		memmove(b + h, in, n);
	if (h)
		memcpy(b, s->held, h);
	hold = total < s->cap ? total : s->cap;
	final = total - hold;
	/* A position below `final` has at least holdback bytes after it: every
	 * occurrence starting there is decided now. */
	s->count += scan(s->r, b, total, 0, final, &s->m);
	mask_flush(&s->m, b, final);
	memcpy(s->held, b + final, hold);
	explicit_bzero(b + final, hold);
	s->held_len = hold;
	return final;
}

size_t proxy_redact_stream_finish(struct proxy_redact_stream *s, char *out)
{
	unsigned char *b = (unsigned char *)out;
	size_t h = s->held_len;

	memcpy(b, s->held, h);
	s->count += scan(s->r, b, h, 0, h, &s->m);
	mask_flush(&s->m, b, h);
	s->m = (struct mask){0, 0};
	explicit_bzero(s->held, s->cap);
	s->held_len = 0;
	return h;
}

uint64_t proxy_redact_stream_count(const struct proxy_redact_stream *s)
{
	return s->count;
}
