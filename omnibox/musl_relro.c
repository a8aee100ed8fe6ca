/* musl_relro.c - RELRO for the musl-built static `omnibox`.
 *
 * The linker marks what only relocation writes (the GOT, tables of
 * function pointers) as PT_GNU_RELRO, and glibc's start-up makes it
 * read-only once relocated. musl's start-up for a static PIE applies the
 * relocations but leaves the region writable, so this constructor does
 * what glibc does (_dl_protect_relro): read-only from the region's first
 * page to its last whole one. If it cannot, omnibox stops before main. */
#include <link.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "omnibox.h"

static int protect(struct dl_phdr_info *info, size_t size, void *data)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	int *r = data;

	for (size_t i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
		uintptr_t end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz) & ~(page - 1);

		if (ph->p_type == PT_GNU_RELRO && end > start &&
		    mprotect((void *)start, end - start, PROT_READ) < 0)
			*r = -1;
	}
	return 1; /* the program itself is the first and, static, the only one */
}

__attribute__((constructor)) static void relro(void)
{
	static const char msg[] = "omnibox: cannot make its relocated data read-only (RELRO)\n";
	int r = 0;

	dl_iterate_phdr(protect, &r);
	if (r < 0) {
		(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
		_exit(OMBX_EXIT_FAILURE);
	}
}
