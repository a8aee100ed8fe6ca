/* internal.h - what the proxy's own files share (never installed).
 *
 * proxy.c    the proxy object, listeners, accept loop, connection threads
 * io.c       reads and writes over a socket or TLS with deadlines
 * tls.c      the interception (server) and upstream (client) TLS contexts
 * upstream.c resolve once, vet every address, dial, confirm, TLS
 * conn.c     a client connection: CONNECT, tunnels, absolute-form, errors
 * request.c  one request: decide, ask, forward, relay the response
 * inject.c   placeholders found, secrets swapped in, responses redacted
 * record.c   audit records for requests and refused connections
 * park.c     idle connections held by one epoll thread, without a thread each
 * sched.c    active connections as coroutines on a few event-loop threads
 * sched_wait.c  a coroutine's waits on descriptors (sched_int.h: shared)
 * ctx.c      switching between coroutine stacks (ctx.h)
 * dns.c      the jail's DNS stub and its fake addresses */
#ifndef OMBX_PROXY_INTERNAL_H
#define OMBX_PROXY_INTERNAL_H

#include <netinet/in.h>
#include <poll.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "proxy/http.h"
#include "proxy/proxy.h"

#define PROXY_BUF_STEP           4096
#define PROXY_IO_CHUNK           (32 * 1024) /* bytes moved per read while relaying */
#define PROXY_THREAD_STACK       (256 * 1024) /* a connection's coroutine, a helper thread */
#define PROXY_PARK_AFTER_MS      100  /* a quiet client's thread waits this long, then parks it */
#define PROXY_UPSTREAM_PARKED_MS 2000 /* a parked connection's upstream is closed after this */

struct proxy_ph {
	char *name; /* the secret's name */
	char *env;  /* placeholder_env */
	char value[sizeof(PROXY_PLACEHOLDER_PREFIX) + 32];
	size_t len;
};

struct proxy_conn;
struct proxy_sched;

struct proxy {
	struct proxy_opts o;
	SSL_CTX *server_ctx;   /* what the jail's clients talk to */
	SSL_CTX *upstream_ctx; /* what we dial origins with: verified */
	struct sockaddr_storage listen_addr[PROXY_LISTEN_MAX];

	pthread_mutex_t lock; /* conns, n_conns, stopping */
	pthread_cond_t idle;
	struct proxy_conn *conns;
	unsigned n_conns;
	bool stopping;
	int wake_fd; /* eventfd: proxy_stop wakes the accept loop */

	pthread_mutex_t policy_lock; /* the session and its decisions */
	struct policy_session *session;
	pthread_mutex_t approved_lock; /* session-scoped approvals */
	char **approved;
	size_t n_approved;

	struct proxy_ph ph[PROXY_SECRETS_MAX];
	size_t n_ph;

	atomic_uint_fast64_t next_conn, next_ask;
	atomic_bool audit_failed; /* an append failed: every request is refused */

	pthread_mutex_t dns_lock; /* dns_names */
	char **dns_names;         /* index i: the name of fake address base + i */
	size_t n_dns_names, cap_dns_names;
	uint32_t *dns_index; /* open addressing over dns_names: i + 1, 0 empty */
	size_t dns_index_cap; /* a power of two, at least twice n_dns_names */
	pthread_t dns_thread;
	bool dns_started;
	int dns_stop[2];

	struct proxy_sched *sched; /* the workers running connections */

	int park_fd; /* epoll of parked connections */
	pthread_t park_thread;
	bool park_started;
};

/* A byte stream to a peer: a socket, maybe with TLS over it. */
struct pio {
	int fd;
	SSL *ssl;
	uint64_t bytes_in, bytes_out;
	bool readable; /* proxy__wait_readable said so; no read since */
};

/* read: > 0 bytes, 0 end of stream, or -errno (-ETIMEDOUT, -ECONNRESET,
 * -EPROTO for a TLS failure). timeout_ms < 0: none. */
ssize_t proxy__read(struct pio *p, void *buf, size_t n, int timeout_ms);
/* All n bytes or -errno. */
int proxy__write(struct pio *p, const void *buf, size_t n, int timeout_ms);
/* 1 readable (or TLS bytes pending), 0 timed out, -errno. */
int proxy__wait_readable(struct pio *p, int timeout_ms);
void proxy__pio_close(struct pio *p); /* TLS shutdown attempt, free, close */
/* After SSL_set_fd: tells the worker when a TLS read leaves the socket empty. */
void proxy__pio_watch(struct pio *p);
int64_t proxy__now_ms(void);          /* CLOCK_MONOTONIC */

/* An upstream connection, kept across keep-alive requests to one authority. */
struct upstream {
	struct pio io;
	bool open, tls;
	char host[POLICY_HOST_MAX + 1];
	unsigned port;
	char resolved[INET6_ADDRSTRLEN + 8]; /* "ip:port" / "[ip]:port" */
	int64_t dns_ms, connect_ms, tls_ms;  /* of the dial that made it; -1 reused */
};

/* Per-request facts for the audit record and the reply. */
struct req_info {
	uint64_t req_id;
	char method[32];
	char path[1024]; /* as sent; the record redacts the query */
	char host_hdr[POLICY_HOST_MAX + 8];
	const char *decision, *level;
	char rule[96];
	char reason[512];
	char approval_id[24];
	char approver[PROXY_APPROVER_MAX];
	const char *secrets[PROXY_SECRETS_MAX]; /* names injected */
	size_t n_secrets;
	int status;
	uint64_t up0, down0; /* client byte counts at the request's start */
	int64_t t0, first_byte_ms;
};

struct proxy_conn {
	struct proxy *p;
	struct proxy_conn *next, *prev; /* p->conns */
	uint64_t id;
	struct pio c; /* the client */
	char client[INET6_ADDRSTRLEN + 8];
	struct sockaddr_storage local;
	/* the client's bytes: a head being read, then leftovers */
	char *buf;
	size_t cap, off, len;
	/* the origin's bytes: kept between requests, freed when parked */
	char *ubuf;
	size_t ubuf_cap;
	/* the authority this connection is bound to (CONNECT) */
	bool tunnel, tunnel_tls;
	char connect_host[POLICY_HOST_MAX + 1]; /* canonical */
	char connect_raw[POLICY_HOST_MAX + 8];  /* as the client named it */
	unsigned connect_port;
	char sni[POLICY_HOST_MAX + 1];
	bool sni_bad; /* set by the certificate callback */
	struct upstream up;
	uint64_t n_req;
	int64_t t_accept;
	bool transparent; /* accepted on a transparent listener */
	bool parked;      /* owned by the parking thread (under p->lock) */
	int64_t parked_at;
};

/* tls.c */
int proxy__tls_init(struct proxy *p, ombx_err *err);
void proxy__tls_free(struct proxy *p);
/* Runs the server-side handshake on c->c (for c->connect_host). */
int proxy__tls_accept(struct proxy_conn *c, char *why, size_t size);
/* Client-side handshake to u's host, verified; why says what failed. */
int proxy__tls_connect(struct proxy *p, struct upstream *u, char *why, size_t size);

/* upstream.c: dial host:port for c (resolving, vetting); on refusal *status
 * is 403 (vetting) or 502/504 (could not reach) and why says why. */
int proxy__upstream_open(struct proxy_conn *c, const char *host, unsigned port, bool tls,
			 int *status, char *why, size_t size);
void proxy__upstream_close(struct upstream *u);
/* Vets one address for c (special ranges, --allow-cidr, CIDR rules, the
 * proxy itself); 0 or -EACCES with why. */
int proxy__vet_addr(struct proxy_conn *c, const struct sockaddr *sa, char *why, size_t size);
/* An AF_INET/AF_INET6 address as a policy address (IPv4 as v4-mapped with
 * v4 set), its port, and as "ip:port" / "[ip]:port" ("local" otherwise). */
void proxy__sockaddr_addr(const struct sockaddr *sa, struct policy_addr *a);
unsigned proxy__sockaddr_port(const struct sockaddr *sa);
void proxy__sockaddr_text(const struct sockaddr *sa, char *buf, size_t size);

/* conn.c */
void *proxy__conn_main(void *arg);   /* a new connection's thread */
void *proxy__conn_resume(void *arg); /* a parked connection's new thread */
/* Requests until the connection ends (0) or is parked (1: hands off c). */
int proxy__conn_loop(struct proxy_conn *c);
void proxy__conn_end(struct proxy_conn *c);         /* closes and frees */
void proxy__conn_free_locked(struct proxy_conn *c); /* the same, p->lock held */
int proxy__send_error(struct proxy_conn *c, int status, const char *body, bool close);
/* Reads a request head into c->buf; returns the parse result (> 0 head
 * length), 0 on a clean end of stream, or -errno / HTTP_BAD (why set). */
int proxy__read_request(struct proxy_conn *c, struct http_request *req, int first_timeout_ms,
			const char **why);
void proxy__consume(struct proxy_conn *c, size_t n);

/* request.c: one request whose head is c->buf[c->off..]; scheme "http" or
 * "https"; host/port the canonical authority. Returns 1 to keep the
 * connection, 0 to close it. */
int proxy__handle_request(struct proxy_conn *c, struct http_request *req, const char *scheme,
			  const char *host, unsigned port);

/* relay.c: the client's body up (streamed), held whole (an ask), or
 * drained (a refusal, bounded); the response down. */
int proxy__send_body(struct proxy_conn *c, enum http_body kind, uint64_t length, const char **why);
struct obuf;
int proxy__hold_body(struct proxy_conn *c, enum http_body kind, uint64_t length, struct obuf *o,
		     const char **why);
int proxy__drain_body(struct proxy_conn *c, enum http_body kind, uint64_t length);
struct proxy_redactor;
/* Reads the response from c->up and sends it to the client (redacting with
 * red when given). Returns 1 to keep the client connection, 0 to close it,
 * or -errno with why when nothing was sent to the client yet. */
int proxy__relay_response(struct proxy_conn *c, bool head_req, bool keep_req, bool ws,
			  const struct proxy_redactor *red, struct req_info *ri, char *why,
			  size_t size);

/* inject.c */
/* Names of the secrets whose placeholders req carries (target or fields,
 * Basic credentials decoded). */
size_t proxy__find_placeholders(struct proxy *p, const struct http_request *req, const char **names,
				size_t max);
/* Appends to out the request head to send upstream: origin-form target,
 * hop-by-hop fields dropped, placeholders of the injected secrets swapped,
 * injections applied. values[i] are the secret values for inj[i]. */
struct obuf {
	char *b;
	size_t len, cap;
	bool oom;
	bool ext; /* b is the caller's (OBUF_ON), never freed here */
};
/* An obuf that starts in the caller's array (a head and a small body fit:
 * no allocation); it moves to the heap only when it outgrows it. */
#define OBUF_ON(arr) {.b = (arr), .cap = sizeof(arr), .ext = true}
void proxy__obuf_add(struct obuf *o, const void *s, size_t n);
void proxy__obuf_str(struct obuf *o, const char *s);
void proxy__obuf_free(struct obuf *o); /* wipes */
/* framing: the line(s) to add ("Content-Length: N\r\n",
 * "Transfer-Encoding: chunked\r\n" or ""); upgrade keeps the Upgrade. */
int proxy__build_request_head(struct proxy *p, const struct http_request *req, const char *target,
			      size_t target_len, const char *framing, bool upgrade,
			      const struct policy_injection *inj, char *const *values,
			      const size_t *vlens, size_t n_inj, struct obuf *out);

/* park.c */
int proxy__park_init(struct proxy *p, ombx_err *err);
void proxy__park_stop(struct proxy *p); /* closes every parked connection */
/* Hands an idle connection (nothing buffered) to the parking thread; 0, or
 * -errno when it stays with the caller. */
int proxy__park(struct proxy_conn *c);

/* sched.c */
int proxy__sched_init(struct proxy *p, unsigned workers, ombx_err *err);
void proxy__sched_stop(struct proxy *p); /* after every connection has ended */
/* Runs fn(arg) as a coroutine on one of the workers; 0 or -errno. */
int proxy__sched_spawn(struct proxy *p, void *(*fn)(void *), void *arg);
/* poll(2) for code that may run in a coroutine: there it yields to the
 * worker until an event or the timeout; elsewhere it is poll itself. */
int proxy__poll(struct pollfd *pfd, unsigned n, int timeout_ms);
/* Called before every read and write (io.c): a connection that never has
 * to wait (a big transfer between fast peers) lets the others on its
 * worker run every SCHED_OPS_TURN operations, as a thread would have been
 * preempted. */
void proxy__sched_tick(void);
/* Tells the worker that an operation on fd would block (EAGAIN, or TLS
 * wanting to read or write) for events: its next wait for them sleeps
 * until the descriptor becomes ready again. Call it before every wait that
 * follows such an operation; other waits return at once while the
 * descriptor may still be ready. */
void proxy__sched_blocked(int fd, short events);
/* Whether events were seen on fd since proxy__sched_blocked (true outside
 * a coroutine: nothing known). */
bool proxy__sched_ready(int fd, short events);
/* close(2) for descriptors a coroutine may have waited on. */
void proxy__close(int fd);
/* Runs fn(arg), which may block for long, without blocking a worker: on a
 * thread of its own while the calling coroutine waits. 0 once fn has run,
 * -errno when it could not be started (fn has not run). */
int proxy__sched_block(void (*fn)(void *), void *arg);

/* dns.c */
int proxy__dns_start(struct proxy *p, ombx_err *err);
void proxy__dns_stop(struct proxy *p);
#define PROXY_DNS_MSG_MAX 1232 /* bytes of a query we accept (EDNS-safe) */
/* Decides one name for the stub: -ENOENT (NXDOMAIN), another -errno
 * (SERVFAIL), 0 (the name exists, no address for this type) or 1 (*ip, an
 * A record). */
typedef int (*proxy__dns_lookup_fn)(void *arg, const char *canon, bool want_a, uint32_t *ip);
/* The reply to query q (n bytes) into out (n + 16 bytes of room), or 0 to
 * drop a malformed query. Pure: the fuzz target drives it. */
size_t proxy__dns_reply(const unsigned char *q, size_t n, unsigned char *out,
			proxy__dns_lookup_fn lookup, void *arg);
/* Whether a is one of the stub's fake addresses (its index in *index). */
bool proxy__dns_fake(const struct policy_addr *a, uint32_t *index);
/* The name the stub gave fake address a: 0, -ENOENT (never given), -EINVAL. */
int proxy__dns_name_of(struct proxy *p, const struct policy_addr *a, char *out, size_t size);

/* record.c */
void proxy__record_request(struct proxy_conn *c, struct req_info *ri);
void proxy__record_refused(struct proxy_conn *c, int status, const char *reason);
/* A placeholder headed where its secret is not bound: names carried. */
void proxy__record_alert(struct proxy_conn *c, struct req_info *ri, const char *const *names,
			 size_t n);

#endif
