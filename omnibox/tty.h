/* tty.h - --tty: a pty relayed to the caller, its master owned by omnibox.
 *
 * The pty pair is made inside the jail, on the jail's own devpts, so that the
 * command's terminal has a name there (ttyname, `tty`, /dev/pts/0). The
 * command's process sends the master out over a socket before it execs; only
 * omnibox ever holds it. The slave starts with the caller's modes and window
 * size; the caller's terminal goes raw for the run and is restored after,
 * and window size changes are passed on. */
#ifndef OMBX_TTY_H
#define OMBX_TTY_H

#include <poll.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "../common/err.h"

#define OMBX_TTY_NFDS 2

/* What the jail side needs: filled by ombx_tty_prepare, carried in the plan. */
struct ombx_tty_init {
	int sock;               /* the jail's end of the socket */
	bool has_termios, has_winsize;
	struct termios termios; /* the caller's, if stdin is a terminal */
	struct winsize winsize;
};

struct ombx_tty;

/* Outside: the socket pair and the caller's terminal state. */
int ombx_tty_prepare(struct ombx_tty **out, struct ombx_tty_init *in, ombx_err *err);
void ombx_tty_start(struct ombx_tty *t);           /* caller's terminal raw */
int ombx_tty_pollfds(struct ombx_tty *t, struct pollfd *pfd); /* fills <= NFDS */
void ombx_tty_relay(struct ombx_tty *t, const struct pollfd *pfd);
void ombx_tty_resize(struct ombx_tty *t);
void ombx_tty_drain(struct ombx_tty *t);           /* output left after exit */
void ombx_tty_stop(struct ombx_tty *t);            /* restore the terminal */
void ombx_tty_free(struct ombx_tty *t);            /* accepts NULL */

/* Inside, in the command's process, in its new session: opens a pty on the
 * jail's /dev/ptmx, sends the master out, makes the slave the controlling
 * terminal and stdin/stdout/stderr. Returns 0 or -errno. */
int ombx_tty_attach(const struct ombx_tty_init *in);

#endif
