/* test_musl_fortify.c - the buffer checks the musl-built omnibox gives
 * Debian's glibc-built archives (omnibox/musl_fortify.c): a call that fits
 * does what the plain function does; one whose size exceeds what the
 * caller's compiler knew of the destination ends the process, with glibc's
 * message, before anything is written. Built like omnibox: musl, static. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../omnibox/musl_fortify.h"
#include "check.h"

static int vcall(char *s, size_t maxlen, size_t slen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int vcall(char *s, size_t maxlen, size_t slen, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = __vsnprintf_chk(s, maxlen, 1, slen, fmt, ap);
	va_end(ap);
	return n;
}

/* Runs call(dest) in a child with 8 bytes of dest known; the child must die
 * by the trap, saying why, with dest untouched. */
static void expect_stop(const char *name, void (*call)(char *dest))
{
	char dest[16] = "untouched";
	char msg[256] = "";
	int out[2], status = 0;
	ssize_t n = 0;
	pid_t pid;

	if (pipe(out) < 0 || (pid = fork()) < 0) {
		check(0, name, "pipe/fork: %m");
		return;
	}
	if (pid == 0) {
		dup2(out[1], STDERR_FILENO);
		call(dest);
		_exit(strcmp(dest, "untouched") == 0 ? 0 : 3); /* not stopped */
	}
	close(out[1]);
	for (ssize_t r; (r = read(out[0], msg + n, sizeof(msg) - 1 - (size_t)n)) > 0;)
		n += r;
	close(out[0]);
	waitpid(pid, &status, 0);
	check(WIFSIGNALED(status) && WTERMSIG(status) == SIGILL &&
		      strstr(msg, "*** buffer overflow detected ***") != NULL,
	      name, "wait status %#x, stderr \"%s\"", status, msg);
}

static void snprintf_over(char *d)
{
	__snprintf_chk(d, 9, 1, 8, "%s", "12345678");
}
static void vsnprintf_over(char *d)
{
	vcall(d, 16, 8, "%s", "x");
}
static void memmove_over(char *d)
{
	__memmove_chk(d, "123456789", 9, 8);
}
static void strncpy_over(char *d)
{
	__strncpy_chk(d, "1", 9, 8);
}

int main(void)
{
	char buf[8];

	check(__snprintf_chk(buf, sizeof(buf), 1, sizeof(buf), "%d-%s", 42, "abcdefgh") == 11 &&
		      strcmp(buf, "42-abcd") == 0,
	      "__snprintf_chk truncates like snprintf when the size fits", "got \"%s\"", buf);
	check(vcall(buf, 4, sizeof(buf), "%s", "xyz") == 3 && strcmp(buf, "xyz") == 0,
	      "__vsnprintf_chk formats when the size fits", "got \"%s\"", buf);
	check(__memmove_chk(buf, "1234567", 8, sizeof(buf)) == buf && strcmp(buf, "1234567") == 0,
	      "__memmove_chk copies when the length fits", "got \"%s\"", buf);
	check(__strncpy_chk(buf, "ab", 8, sizeof(buf)) == buf && strcmp(buf, "ab") == 0 &&
		      buf[7] == '\0',
	      "__strncpy_chk copies and pads when n fits", "got \"%s\"", buf);

	expect_stop("__snprintf_chk stops a maxlen beyond the buffer", snprintf_over);
	expect_stop("__vsnprintf_chk stops a maxlen beyond the buffer", vsnprintf_over);
	expect_stop("__memmove_chk stops a length beyond the buffer", memmove_over);
	expect_stop("__strncpy_chk stops an n beyond the buffer", strncpy_over);
	return finish();
}
