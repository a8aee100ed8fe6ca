/* tty.h - --tty: a pty owned by omnibox, relayed to the caller.
 *
 * omnibox opens the pty pair outside the jail; the slave becomes the
 * command's controlling terminal, the master never enters the jail. The
 * caller's terminal goes raw for the run and is restored after, and window
 * size changes are passed on. */
#ifndef OMBX_TTY_H
#define OMBX_TTY_H

#include <poll.h>

#include "../common/err.h"

#define OMBX_TTY_NFDS 2

struct ombx_tty;

int ombx_tty_open(struct ombx_tty **out, int *slave_fd, ombx_err *err);
void ombx_tty_start(struct ombx_tty *t);           /* caller's terminal raw */
int ombx_tty_pollfds(struct ombx_tty *t, struct pollfd *pfd); /* fills <= NFDS */
void ombx_tty_relay(struct ombx_tty *t, const struct pollfd *pfd);
void ombx_tty_resize(struct ombx_tty *t);
void ombx_tty_drain(struct ombx_tty *t);           /* output left after exit */
void ombx_tty_stop(struct ombx_tty *t);            /* restore the terminal */
void ombx_tty_free(struct ombx_tty *t);            /* accepts NULL */

#endif
