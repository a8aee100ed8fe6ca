/* cli_main.c - `omnibox`: dispatch to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "omnibox.h"

static const char usage[] = "usage: omnibox exec [OPTIONS] [--] COMMAND [ARG...]\n"
			    "       omnibox doctor [--json]\n"
			    "       omnibox policy check FILE... | explain [--server F] [--agent F] "
			    "[--session F] --events EVENTS.jsonl\n"
			    "       omnibox proxy --listen ADDR:PORT --policy FILE... [OPTIONS]\n"
			    "       omnibox ca init|show|path [--ca DIR]\n"
			    "       omnibox audit [FILE] [--follow] [--host GLOB] "
			    "[--decision allow|deny|ask] [--since TIME] [--json] [--verify]\n"
			    "Run 'omnibox exec --help' for the options.\n";

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return OMBX_EXIT_FAILURE;
	}
	if (strcmp(argv[1], "exec") == 0)
		return ombx_cli_exec(argc - 1, argv + 1);
	if (strcmp(argv[1], "doctor") == 0)
		return ombx_cli_doctor(argc - 1, argv + 1);
	if (strcmp(argv[1], "policy") == 0)
		return ombx_cli_policy(argc - 1, argv + 1);
	/* Programs of their own, installed next to this one: they link
	 * OpenSSL, which this one, executed by every launch, does not. */
	if (strcmp(argv[1], "proxy") == 0)
		return ombx_cli_exec_sibling("omnibox-proxy", argv + 1);
	if (strcmp(argv[1], "ca") == 0 || strcmp(argv[1], "audit") == 0)
		return ombx_cli_exec_sibling("omnibox-tools", argv);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	ombx_cli_error("unknown command '%s'\n%s", argv[1], usage);
	return OMBX_EXIT_FAILURE;
}
