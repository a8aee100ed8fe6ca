/* fuzz_profile.c - fuzz target for the profile loader (omnibox/profile.c).
 *
 * Built two ways: with clang -fsanitize=fuzzer for libFuzzer runs
 * (tests/fuzz/README.md), and as a plain program whose main() replays every
 * file named on its command line, which ctest runs over the corpus. The
 * loader must return 0 or an error with a message, and never crash, leak or
 * read out of bounds. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "omnibox/omnibox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ombx_config cfg;
	ombx_err err = {0};
	char path[64];
	int fd = memfd_create("profile.yaml", MFD_CLOEXEC), r;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ombx_config_init(&cfg);
	r = ombx_profile_load(path, &cfg, &err);
	if (r < 0 && (err.code == 0 || err.msg[0] == '\0'))
		abort(); /* every failure explains itself */
	if (r == 0 && err.code != 0)
		abort();
	ombx_config_free(&cfg);
	close(fd);
	return 0;
}

#ifndef OMBX_LIBFUZZER
static int replay(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return 1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int bad = 0;

	for (int i = 1; i < argc; i++)
		bad |= replay(argv[i]);
	printf("replayed %d input(s)\n", argc - 1);
	return bad;
}
#endif
