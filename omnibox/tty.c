/* tty.c - see tty.h. Two bounded buffers, one per direction. */
#include "tty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define BUF 16384

struct pipe_buf {
	char data[BUF];
	size_t len;
	int from, to;
	bool eof;
};

struct ombx_tty {
	int master;
	struct termios saved;
	bool raw;
	struct pipe_buf in;  /* caller stdin -> master */
	struct pipe_buf out; /* master -> caller stdout */
	int idx_in, idx_out; /* which pollfd slot serves which, -1 if none */
};

int ombx_tty_open(struct ombx_tty **out, int *slave_fd, ombx_err *err)
{
	struct ombx_tty *t = calloc(1, sizeof(*t));
	struct winsize ws;
	struct termios tio;
	char *name;

	*out = NULL;
	if (!t)
		return ombx_err_set(err, ENOMEM, "out of memory");
	t->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t->master < 0 || grantpt(t->master) < 0 || unlockpt(t->master) < 0 ||
	    !(name = ptsname(t->master))) {
		ombx_tty_free(t);
		return ombx_err_errno(err, errno, "--tty: opening a pseudo-terminal");
	}
	*slave_fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave_fd < 0) {
		ombx_tty_free(t);
		return ombx_err_errno(err, errno, "--tty: opening %s", name);
	}
	/* The jail's terminal starts as the caller's: same modes, same size. */
	if (tcgetattr(STDIN_FILENO, &tio) == 0)
		tcsetattr(*slave_fd, TCSANOW, &tio);
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		ioctl(*slave_fd, TIOCSWINSZ, &ws);
	fcntl(t->master, F_SETFL, O_NONBLOCK);
	t->in = (struct pipe_buf){.from = STDIN_FILENO, .to = t->master};
	t->out = (struct pipe_buf){.from = t->master, .to = STDOUT_FILENO};
	*out = t;
	return 0;
}

void ombx_tty_start(struct ombx_tty *t)
{
	struct termios raw;

	if (tcgetattr(STDIN_FILENO, &t->saved) < 0)
		return;
	raw = t->saved;
	cfmakeraw(&raw);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
		t->raw = true;
}

void ombx_tty_stop(struct ombx_tty *t)
{
	if (t->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
	t->raw = false;
}

static void add(struct pipe_buf *b, struct pollfd *pfd, int *n, int *idx)
{
	*idx = -1;
	if (b->len > 0) {
		pfd[*n] = (struct pollfd){.fd = b->to, .events = POLLOUT};
	} else if (!b->eof) {
		pfd[*n] = (struct pollfd){.fd = b->from, .events = POLLIN};
	} else {
		return;
	}
	*idx = (*n)++;
}

int ombx_tty_pollfds(struct ombx_tty *t, struct pollfd *pfd)
{
	int n = 0;
	add(&t->in, pfd, &n, &t->idx_in);
	add(&t->out, pfd, &n, &t->idx_out);
	return n;
}

static void step(struct pipe_buf *b, short revents)
{
	ssize_t n;

	if (!revents)
		return;
	if (b->len == 0) {
		n = read(b->from, b->data, sizeof(b->data));
		if (n > 0)
			b->len = (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			b->eof = true; /* EIO on the master: the jail side closed */
		return;
	}
	n = write(b->to, b->data, b->len);
	if (n > 0) {
		memmove(b->data, b->data + n, b->len - (size_t)n);
		b->len -= (size_t)n;
	} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
		b->len = 0;
		b->eof = true;
	}
}

void ombx_tty_relay(struct ombx_tty *t, const struct pollfd *pfd)
{
	if (t->idx_in >= 0)
		step(&t->in, pfd[t->idx_in].revents);
	if (t->idx_out >= 0)
		step(&t->out, pfd[t->idx_out].revents);
}

void ombx_tty_drain(struct ombx_tty *t)
{
	/* Bounded: at most a few buffers' worth after the command ended. */
	for (int i = 0; i < 64 && !t->out.eof; i++) {
		step(&t->out, POLLIN);
		if (t->out.len == 0 && !t->out.eof)
			break;
		while (t->out.len > 0 && !t->out.eof)
			step(&t->out, POLLOUT);
	}
}

void ombx_tty_resize(struct ombx_tty *t)
{
	struct winsize ws;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		ioctl(t->master, TIOCSWINSZ, &ws);
}

void ombx_tty_free(struct ombx_tty *t)
{
	if (!t)
		return;
	ombx_tty_stop(t);
	if (t->master >= 0)
		close(t->master);
	free(t);
}
