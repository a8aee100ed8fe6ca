/* cli_main.c - `omnibox`: dispatch to a subcommand. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "omnibox.h"

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "omnibox: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void ombx_cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("error: ", fmt, ap);
	va_end(ap);
}

void ombx_cli_note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
}

static const char usage[] = "usage: omnibox exec [OPTIONS] [--] COMMAND [ARG...]\n"
			    "       omnibox doctor [--json]\n"
			    "       omnibox policy check FILE... | explain [--server F] [--agent F] "
			    "[--session F] --events EVENTS.jsonl\n"
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
