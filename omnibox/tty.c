/* tty.c - see tty.h. Two bounded buffers, one per direction. */
#include "tty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 16384

struct pipe_buf {
	char data[BUF];
	size_t len;
	int from, to;
	bool eof;
};

struct ombx_tty {
	int sock;            /* our end; the master arrives here */
	int master;          /* -1 until it has arrived */
	struct termios saved;
	bool raw;
	struct pipe_buf in;  /* caller stdin -> master */
	struct pipe_buf out; /* master -> caller stdout */
	int idx_sock, idx_in, idx_out; /* pollfd slots, -1 if none */
};

int ombx_tty_prepare(struct ombx_tty **out, struct ombx_tty_init *in, ombx_err *err)
{
	struct ombx_tty *t = calloc(1, sizeof(*t));
	int sv[2];

	*out = NULL;
	if (!t)
		return ombx_err_set(err, ENOMEM, "out of memory");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		free(t);
		return ombx_err_errno(err, errno, "--tty: socketpair");
	}
	t->sock = sv[0];
	t->master = -1;
	in->sock = sv[1];
	in->has_termios = tcgetattr(STDIN_FILENO, &in->termios) == 0;
	in->has_winsize = ioctl(STDIN_FILENO, TIOCGWINSZ, &in->winsize) == 0;
	*out = t;
	return 0;
}

static int send_fd(int sock, int fd)
{
	char byte = 'M';
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c = {0};
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
			     .msg_controllen = sizeof(c.buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char byte;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
			     .msg_controllen = sizeof(c.buf)};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -EIO;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int)) || (msg.msg_flags & MSG_CTRUNC))
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

int ombx_tty_attach(const struct ombx_tty_init *in)
{
	int unlock = 0, master, slave, r = 0;

	master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return -errno;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 ||
	    (slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		r = -errno;
		close(master);
		return r;
	}
	if (in->has_termios)
		tcsetattr(slave, TCSANOW, &in->termios);
	if (in->has_winsize)
		ioctl(slave, TIOCSWINSZ, &in->winsize);
	r = send_fd(in->sock, master);
	close(master);
	close(in->sock);
	if (r == 0 && ioctl(slave, TIOCSCTTY, 0) < 0)
		r = -errno;
	for (int fd = 0; r == 0 && fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			r = -errno;
	close(slave);
	return r;
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
	if (b->len > 0)
		pfd[*n] = (struct pollfd){.fd = b->to, .events = POLLOUT};
	else if (!b->eof)
		pfd[*n] = (struct pollfd){.fd = b->from, .events = POLLIN};
	else
		return;
	*idx = (*n)++;
}

int ombx_tty_pollfds(struct ombx_tty *t, struct pollfd *pfd)
{
	int n = 0;

	t->idx_sock = t->idx_in = t->idx_out = -1;
	if (t->master < 0) {
		if (t->sock >= 0) {
			pfd[n] = (struct pollfd){.fd = t->sock, .events = POLLIN};
			t->idx_sock = n++;
		}
		return n;
	}
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

static void adopt_master(struct ombx_tty *t)
{
	int fd = recv_fd(t->sock);

	close(t->sock);
	t->sock = -1; /* one master per run; the jail's end has done its part */
	if (fd < 0)
		return;   /* the jail failed before its pty; its error says why */
	t->master = fd;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	t->in = (struct pipe_buf){.from = STDIN_FILENO, .to = fd};
	t->out = (struct pipe_buf){.from = fd, .to = STDOUT_FILENO};
}

void ombx_tty_relay(struct ombx_tty *t, const struct pollfd *pfd)
{
	if (t->idx_sock >= 0 && pfd[t->idx_sock].revents)
		adopt_master(t);
	if (t->idx_in >= 0)
		step(&t->in, pfd[t->idx_in].revents);
	if (t->idx_out >= 0)
		step(&t->out, pfd[t->idx_out].revents);
}

void ombx_tty_drain(struct ombx_tty *t)
{
	if (t->master < 0)
		return;
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
	if (t->master >= 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		ioctl(t->master, TIOCSWINSZ, &ws);
}

void ombx_tty_free(struct ombx_tty *t)
{
	if (!t)
		return;
	ombx_tty_stop(t);
	if (t->master >= 0)
		close(t->master);
	if (t->sock >= 0)
		close(t->sock);
	free(t);
}
