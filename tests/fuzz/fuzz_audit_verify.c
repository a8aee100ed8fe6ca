/* fuzz_audit_verify.c - fuzz target for the audit log verifier
 * (proxy_audit_verify_fd in proxy/audit_read.c).
 *
 * Replayed over corpus/fuzz_audit_verify by ctest (replay.c); fuzzed with
 * libFuzzer as tests/fuzz/README.md says. Any bytes as a log file: the
 * verifier must not crash, leak or read out of bounds; a failure names its
 * line; a success accounts for every byte (records + a torn tail). Then the
 * appender must continue the same bytes (or refuse them with a message), and
 * a log it continued must verify. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void verify(int fd, size_t size, bool after_append)
{
	struct proxy_audit_verify_result res;
	ombx_err err = {0};
	int r;

	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	r = proxy_audit_verify_fd(fd, &res, &err);
	if (r == -EBADMSG) {
		if (res.bad_line == 0 || strncmp(err.msg, "line ", 5) != 0 || after_append)
			abort(); /* a failure names its line; an appended log verifies */
		return;
	}
	if (r != 0 || err.code != 0 || strlen(res.last_hash) != 64)
		abort();
	if (res.torn_bytes > size || (after_append && res.torn_bytes))
		abort();
}

static char dir[] = "/tmp/ombx-fuzz-audit.XXXXXX";

static void remove_dir(void)
{
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_audit_verify_result res;
	struct proxy_audit *a = NULL;
	struct proxy_audit_record rec = {.ts_ms = 1, .host = "h", .path = "/p?q"};
	ombx_err err = {0};
	static char path[64];
	int fd;

	/* A real file: the appender opens with O_NOFOLLOW, which a
	 * /proc/self/fd link would fail. One per process, rewritten per input. */
	if (!path[0]) {
		if (!mkdtemp(dir))
			abort();
		atexit(remove_dir);
		snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	}
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	verify(fd, size, false);
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	bool intact = proxy_audit_verify_fd(fd, &res, &err) == 0;

	/* The appender on the same bytes: continues or refuses, with a message. */
	memset(&err, 0, sizeof(err));
	if (proxy_audit_open(path, 0, &a, &err) < 0) {
		if (err.code == 0 || err.msg[0] == '\0' || intact)
			abort(); /* an intact log is always continued */
	} else {
		if (proxy_audit_append(a, &rec, &err) < 0)
			abort();
		proxy_audit_close(a);
		/* An intact log (torn tail or not) stays intact after an append. */
		if (intact)
			verify(fd, size + PROXY_AUDIT_LINE_MAX, true);
	}
	close(fd);
	unlink(path);
	return 0;
}
