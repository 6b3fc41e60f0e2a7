/*
 * Sending and receiving the shared mode's messages (proto.h): one
 * SOCK_SEQPACKET record of struct sio_shared_msg with its descriptors
 * (SCM_RIGHTS).  The server and the client shim use the same two calls, so
 * both sides agree on what a malformed record is: a short record, or one
 * whose data or descriptors were cut off, is -EIO, and every descriptor
 * that came with it is closed.  EINTR is retried on both sides.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "shared/proto.h"
#include "util/sys.h"

int sio_shared_send(int sock, const struct sio_shared_msg *m, const int *fds,
		    unsigned int nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * SIO_SHARED_MAX_REC)];
	struct iovec iov = { (void *)m, sizeof(*m) };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds > SIO_SHARED_MAX_REC)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *c;

		memset(cbuf, 0, sizeof(cbuf));
		h.msg_control = cbuf;
		h.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&h);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &h, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*m) ? 0 : -EIO;
}

int sio_shared_recv(int sock, struct sio_shared_msg *m, int *fds,
		    unsigned int max, unsigned int *nfds, bool cloexec)
{
	char cbuf[CMSG_SPACE(sizeof(int) * SIO_SHARED_MAX_REC)];
	struct iovec iov = { m, sizeof(*m) };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	unsigned int got = 0;
	ssize_t n;

	do
		n = recvmsg(sock, &h, cloexec ? MSG_CMSG_CLOEXEC : 0);
	while (n < 0 && errno == EINTR);
	for (c = CMSG_FIRSTHDR(&h); n >= 0 && c; c = CMSG_NXTHDR(&h, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (got < max)
				fds[got++] = fd;
			else
				sio_sys_close(fd);
		}
	}
	if (nfds)
		*nfds = got;
	if (n != (ssize_t)sizeof(*m) || (h.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		while (got)
			sio_sys_close(fds[--got]);
		if (nfds)
			*nfds = 0;
		return -EIO;
	}
	return 0;
}
