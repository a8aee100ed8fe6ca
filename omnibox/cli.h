/* cli.h - the `omnibox` command's subcommands and its one way of reporting. */
#ifndef OMBX_CLI_H
#define OMBX_CLI_H

int ombx_cli_exec(int argc, char **argv);
int ombx_cli_doctor(int argc, char **argv);
int ombx_cli_policy(int argc, char **argv);
int ombx_cli_ca(int argc, char **argv);
int ombx_cli_audit(int argc, char **argv);

/* "omnibox: error: ..." / "omnibox: ..." on stderr. */
void ombx_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ombx_cli_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
