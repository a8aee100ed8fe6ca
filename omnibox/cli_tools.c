/* cli_tools.c - omnibox-tools: the subcommands of `omnibox` that need
 * OpenSSL, `ca` and `audit`, as a program of their own.
 *
 * The static `omnibox` executes it for them (cli_main.c) and, when the
 * jail's trust bundle must be made again, for `ca jail-bundle`
 * (cli_exec_proxy.c). Kept out of `omnibox` because every launch executes
 * that one: statically linked OpenSSL made each launch ~0.7 ms slower
 * (relocations and page faults in three processes; docs/PERFORMANCE.md). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "omnibox.h"

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "ca") == 0)
		return ombx_cli_ca(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "audit") == 0)
		return ombx_cli_audit(argc - 1, argv + 1);
	ombx_cli_error("omnibox-tools runs `omnibox ca` and `omnibox audit`; use those");
	return OMBX_EXIT_FAILURE;
}
