/* cli_main.c - `omnibox`: dispatch to a subcommand. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* `omnibox proxy` is its own program (see cli_proxy.c), installed next to
 * this one. */
static int exec_proxy(char **argv)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	char *slash;

	if (n <= 0) {
		ombx_cli_error("proxy: cannot find where omnibox is installed: %m");
		return OMBX_EXIT_FAILURE;
	}
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "omnibox-proxy");
	argv[0] = path;
	execv(path, argv);
	ombx_cli_error("proxy: cannot run %s (installed next to omnibox): %m", path);
	return OMBX_EXIT_FAILURE;
}

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
	if (strcmp(argv[1], "proxy") == 0)
		return exec_proxy(argv + 1);
	if (strcmp(argv[1], "ca") == 0)
		return ombx_cli_ca(argc - 1, argv + 1);
	if (strcmp(argv[1], "audit") == 0)
		return ombx_cli_audit(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	ombx_cli_error("unknown command '%s'\n%s", argv[1], usage);
	return OMBX_EXIT_FAILURE;
}
