/*
 * The remote owner (src/umem/remote.c): another process's memory reached
 * through the /proc/self/mem descriptor it sent, pins of the memory files
 * it recorded, and what happens when that process unmaps its view or
 * exits; and the dispatch owner that forwards to the current one.
 *
 * A forked child plays the client: it sends its own /proc/self/mem over a
 * socket pair and then does what the parent asks, one byte command at a
 * time.  The child's static buffer sits at the same address as ours
 * (fork), but holds its own bytes.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "softiommu/umem.h"
#include "umem/remote.h"
#include "umem/umem.h"

#define NPG 4
static size_t PG;
static unsigned char *shared_view;	/* the child's memfd view */
static int view_fd = -1;		/* the memfd behind it */

struct child {
	pid_t pid;
	int sock;
	struct sio_umem_owner *owner;
};

static void send_fd(int sock, int fd)
{
	char c = 0, cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &c, 1 };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&h);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	if (sendmsg(sock, &h, 0) != 1)
		_exit(9);
}

static int recv_fd(int sock)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	assert_int_equal(recvmsg(sock, &h, 0), 1);
	cm = CMSG_FIRSTHDR(&h);
	assert_non_null(cm);
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

/* The child: w fills its view with 0xc0 + page, u unmaps it, c checks
 * that byte 0 is 0x5a (answers 1 or 0), x exits. */
static void child_loop(int sock)
{
	char cmd;

	send_fd(sock, open("/proc/self/mem", O_RDWR | O_CLOEXEC));
	send_fd(sock, view_fd);
	while (read(sock, &cmd, 1) == 1) {
		char ok = 1;

		switch (cmd) {
		case 'w':
			for (size_t p = 0; p < NPG; p++)
				memset(shared_view + p * PG, 0xc0 + (int)p, PG);
			break;
		case 'u':
			munmap(shared_view, NPG * PG);
			break;
		case 'c':
			ok = shared_view[0] == 0x5a;
			break;
		case 'x':
			_exit(0);
		}
		if (write(sock, &ok, 1) != 1)
			_exit(8);
	}
	_exit(0);
}

static char ask(struct child *c, char cmd)
{
	char ok = 0;

	assert_int_equal(write(c->sock, &cmd, 1), 1);
	if (cmd != 'x')
		assert_int_equal(read(c->sock, &ok, 1), 1);
	return ok;
}

static void child_start(struct child *c, int *memfd)
{
	int sv[2], mem;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		close(sv[0]);
		child_loop(sv[1]);
	}
	close(sv[1]);
	c->sock = sv[0];
	mem = recv_fd(c->sock);
	*memfd = recv_fd(c->sock);
	assert_int_equal(sio_umem_owner_remote(mem, -1, c->pid, getuid(),
					       &c->owner), 0);
	assert_true(sio_umem_owner_is_remote(c->owner));
	assert_int_equal(sio_umem_remote_pid(c->owner), c->pid);
}

static void child_end(struct child *c)
{
	int st;

	ask(c, 'x');
	assert_int_equal(waitpid(c->pid, &st, 0), c->pid);
	close(c->sock);
}

static int setup(void **state)
{
	(void)state;
	PG = (size_t)sysconf(_SC_PAGESIZE);
	view_fd = memfd_create("remote-test", MFD_CLOEXEC);
	assert_true(view_fd >= 0);
	assert_int_equal(ftruncate(view_fd, (off_t)(NPG * PG)), 0);
	shared_view = mmap(NULL, NPG * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			   view_fd, 0);
	assert_true(shared_view != MAP_FAILED);
	return 0;
}

/* Copies reach the child's bytes, not ours; holes are EFAULT. */
static void test_read_write(void **state)
{
	static unsigned char priv[64] = { 1, 2, 3 };
	unsigned char got[64];
	struct child c;
	int memfd;

	(void)state;
	child_start(&c, &memfd);
	close(memfd);
	ask(&c, 'w');
	assert_int_equal(sio_umem_read(c.owner, got, (uintptr_t)shared_view, 8), 0);
	assert_int_equal(got[0], 0xc0);
	/* Our private copy of priv is the same as the child's (fork). */
	assert_int_equal(sio_umem_read(c.owner, got, (uintptr_t)priv, 3), 0);
	assert_memory_equal(got, priv, 3);
	got[0] = 0x5a;
	assert_int_equal(sio_umem_write(c.owner, (uintptr_t)shared_view, got, 1), 0);
	assert_int_equal(ask(&c, 'c'), 1);
	/* Not mapped, or not addressable at all: EFAULT. */
	assert_int_equal(sio_umem_read(c.owner, got, 8, 8), -EFAULT);
	assert_int_equal(sio_umem_read(c.owner, got, 1ull << 63, 8), -EFAULT);
	child_end(&c);
	/* The address space is gone: 0 bytes, EFAULT, never another
	 * process's memory. */
	assert_int_equal(sio_umem_read(c.owner, got, (uintptr_t)shared_view, 8),
			 -EFAULT);
	assert_int_equal(sio_umem_write(c.owner, (uintptr_t)shared_view, got, 1),
			 -EFAULT);
	sio_umem_owner_put(c.owner);
}

/* A pin maps the recorded file: the alias outlives the child's view and
 * the child; a pin after the child exited is EFAULT. */
static void test_pin_outlives(void **state)
{
	uint64_t base = (uintptr_t)shared_view;
	struct sio_umem_pin *pin = NULL, *late = NULL;
	unsigned char *alias;
	struct child c;
	int memfd;

	(void)state;
	child_start(&c, &memfd);
	ask(&c, 'w');
	/* Nothing recorded: not memory the child sent. */
	assert_int_equal(sio_umem_pin(c.owner, base, NPG * PG,
				      SIO_UMEM_PIN_NOCHARGE, SIO_UMEM_ACCT_NONE,
				      &pin), -EFAULT);
	/* Unaligned records are refused (and their fd closed). */
	assert_int_equal(sio_umem_remote_record(c.owner, base + 1, PG,
						dup(memfd), 0), -EINVAL);
	assert_int_equal(sio_umem_remote_record(c.owner, base, NPG * PG,
						memfd, 0), 0);
	assert_int_equal(sio_umem_pin(c.owner, base, NPG * PG,
				      SIO_UMEM_PIN_WRITE, SIO_UMEM_ACCT_NONE,
				      &pin), 0);
	alias = (unsigned char *)(uintptr_t)sio_umem_pin_host(pin, 0, NULL);
	assert_non_null(alias);
	assert_int_equal(alias[0], 0xc0);
	assert_int_equal(alias[3 * PG], 0xc3);
	alias[0] = 0x5a;
	assert_int_equal(ask(&c, 'c'), 1);
	ask(&c, 'u');
	child_end(&c);
	/* The same pages after the child's munmap and exit. */
	assert_int_equal(alias[PG], 0xc1);
	assert_int_equal(sio_umem_pin(c.owner, base, PG, SIO_UMEM_PIN_NOCHARGE,
				      SIO_UMEM_ACCT_NONE, &late), -EFAULT);
	sio_umem_unpin(pin);
	sio_umem_owner_put(c.owner);
}

/* A newer record replaces the part of an older one it covers. */
static void test_record_split(void **state)
{
	uint64_t base = (uintptr_t)shared_view;
	struct sio_umem_range r;
	struct sio_umem_pin *pin;
	struct child c;
	int memfd, other;

	(void)state;
	child_start(&c, &memfd);
	ask(&c, 'w');
	other = memfd_create("other", MFD_CLOEXEC);
	assert_int_equal(ftruncate(other, (off_t)PG), 0);
	assert_int_equal(sio_umem_remote_record(c.owner, base, NPG * PG,
						memfd, 0), 0);
	assert_int_equal(sio_umem_remote_record(c.owner, base + PG, PG,
						other, 0), 0);
	assert_int_equal(sio_umem_pin(c.owner, base, NPG * PG,
				      SIO_UMEM_PIN_NOCHARGE, SIO_UMEM_ACCT_NONE,
				      &pin), 0);
	assert_int_equal(sio_umem_pin_nr_ranges(pin), 3);
	assert_int_equal(sio_umem_pin_range(pin, 1, &r), 0);
	assert_int_equal(r.uaddr, base + PG);
	assert_int_equal(*(unsigned char *)(uintptr_t)r.host, 0);
	assert_int_equal(sio_umem_pin_range(pin, 2, &r), 0);
	assert_int_equal(*(unsigned char *)(uintptr_t)r.host, 0xc2);
	sio_umem_unpin(pin);
	child_end(&c);
	sio_umem_owner_put(c.owner);
}

/* The dispatch owner forwards to the current owner, EFAULT without one;
 * resolve names the current owner. */
static void test_dispatch(void **state)
{
	struct sio_umem_owner *disp, *r;
	unsigned char got[8];
	struct child c;
	int memfd;

	(void)state;
	assert_int_equal(sio_umem_owner_dispatch(&disp), 0);
	assert_int_equal(sio_umem_read(disp, got, (uintptr_t)shared_view, 8),
			 -EFAULT);
	r = sio_umem_owner_resolve(disp);
	assert_ptr_equal(r, disp);
	sio_umem_owner_put(r);
	child_start(&c, &memfd);
	close(memfd);
	ask(&c, 'w');
	sio_umem_current_set(c.owner);
	assert_ptr_equal(sio_umem_current(), c.owner);
	assert_int_equal(sio_umem_read(disp, got, (uintptr_t)shared_view, 8), 0);
	assert_int_equal(got[0], 0xc0);
	r = sio_umem_owner_resolve(disp);
	assert_ptr_equal(r, c.owner);
	sio_umem_owner_put(r);
	sio_umem_current_set(NULL);
	child_end(&c);
	sio_umem_owner_put(c.owner);
	sio_umem_owner_put(disp);
}

/* The limits are the latest request's. */
static void test_limits(void **state)
{
	struct sio_umem_limits lim = { .memlock_bytes = 2 * 4096,
				       .cap_ipc_lock = false };
	struct child c;
	int memfd;

	(void)state;
	child_start(&c, &memfd);
	close(memfd);
	sio_umem_remote_set_limits(c.owner, &lim);
	assert_int_equal(sio_umem_acct_effective(c.owner, SIO_UMEM_ACCT_MM),
			 SIO_UMEM_ACCT_MM);
	assert_int_equal(sio_umem_charge(c.owner, SIO_UMEM_ACCT_MM,
					 2 * 4096 / PG), 0);
	assert_int_equal(sio_umem_charge(c.owner, SIO_UMEM_ACCT_MM, 1), -ENOMEM);
	sio_umem_uncharge(c.owner, SIO_UMEM_ACCT_MM, 2 * 4096 / PG);
	lim.cap_ipc_lock = true;
	sio_umem_remote_set_limits(c.owner, &lim);
	assert_int_equal(sio_umem_acct_effective(c.owner, SIO_UMEM_ACCT_MM),
			 SIO_UMEM_ACCT_NONE);
	child_end(&c);
	sio_umem_owner_put(c.owner);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_write),
		cmocka_unit_test(test_pin_outlives),
		cmocka_unit_test(test_record_split),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
