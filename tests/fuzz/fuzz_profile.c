/* fuzz_profile.c - fuzz target for the profile loader (omnibox/profile.c).
 *
 * Replayed over corpus/fuzz_profile by ctest (replay.c); fuzzed with
 * libFuzzer as tests/fuzz/README.md says. The loader must return 0 or an
 * error with a message, and never crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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
