/* cli.h - the `omnibox` command's subcommands and its one way of reporting. */
#ifndef OMBX_CLI_H
#define OMBX_CLI_H

#include <stddef.h>

int ombx_cli_exec(int argc, char **argv);
int ombx_cli_doctor(int argc, char **argv);
int ombx_cli_policy(int argc, char **argv);
/* In omnibox-tools, which links OpenSSL (cli_tools.c). */
int ombx_cli_ca(int argc, char **argv);
int ombx_cli_audit(int argc, char **argv);

/* cli_sibling.c: the path of program `name` installed next to this one
 * (0 or -errno); run it with argv (argv[0] is replaced), returning only
 * on failure, reported, with OMBX_EXIT_FAILURE. */
int ombx_cli_sibling(const char *name, char *buf, size_t size);
int ombx_cli_exec_sibling(const char *name, char **argv);

/* "omnibox: error: ..." / "omnibox: ..." on stderr. */
void ombx_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ombx_cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
