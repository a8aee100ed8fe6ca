/* cli_ask.h - asks answered on the invoking user's terminal. */
#ifndef OMBX_CLI_ASK_H
#define OMBX_CLI_ASK_H

#include "../proxy/approvals.h"

/* A proxy_ask_fn: prompts on /dev/tty (once / session / deny); DENY when
 * there is no terminal, TIMEOUT when nobody answers in time. */
enum proxy_answer ombx_cli_ask_tty(void *arg, const struct proxy_ask *q, int timeout_ms,
				   char *approver, size_t approver_size);

#endif
