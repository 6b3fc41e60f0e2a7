/*
 * The preload shim end to end: a plain program, built without softiommu,
 * run under `softiommu run`.  It opens /dev/iommu, issues ioctls with good
 * and bad arguments, dups, closes, forks, polls, and checks that ordinary
 * descriptors are untouched.  Prints "N passed, M failed"; exits non-zero
 * when anything failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "softiommu/uapi/iommufd.h"
#include "shim_check.h"

/* ioctl's result and errno as one value: the return or -errno. */
static long xioctl(int fd, unsigned long cmd, void *arg)
{
	errno = 0;
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static long ioas_alloc(int fd, __u32 *id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	long rc = xioctl(fd, IOMMU_IOAS_ALLOC, &cmd);

	*id = cmd.out_ioas_id;
	return rc;
}

static long destroy(int fd, __u32 id)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	return xioctl(fd, IOMMU_DESTROY, &cmd);
}

static bool cloexec(int fd)
{
	return fcntl(fd, F_GETFD) & FD_CLOEXEC;
}

static void test_ioctls(void)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	int fd = open("/dev/iommu", O_RDWR);
	__u32 id = 0;

	check(fd >= 0, "open /dev/iommu");
	check(!cloexec(fd), "no O_CLOEXEC asked, none set");
	check(ioas_alloc(fd, &id) == 0 && id != 0, "IOMMU_IOAS_ALLOC: id %u", id);
	check(destroy(fd, id) == 0, "IOMMU_DESTROY");
	check(destroy(fd, id) == -ENOENT, "IOMMU_DESTROY twice: ENOENT");
	check(xioctl(fd, _IO(IOMMUFD_TYPE, 0x7f), &cmd) == -ENOTTY,
	      "unknown iommufd ioctl: ENOTTY");
	check(xioctl(fd, _IO('x', 0x80), &cmd) == -ENOTTY,
	      "ioctl of another type: ENOTTY");
	check(xioctl(fd, IOMMU_IOAS_ALLOC, (void *)8) == -EFAULT,
	      "bad pointer: EFAULT");
	check(xioctl(fd, IOMMU_IOAS_ALLOC, NULL) == -EFAULT, "NULL: EFAULT");
	cmd.size = 4;
	check(xioctl(fd, IOMMU_IOAS_ALLOC, &cmd) == -EINVAL, "short size: EINVAL");
	check(ioctl(fd, FIOCLEX) == 0 && cloexec(fd), "FIOCLEX reaches the fd");
	check(ioctl(fd, FIONCLEX) == 0 && !cloexec(fd), "FIONCLEX reaches the fd");
	check(close(fd) == 0, "close");
	check(close(fd) == -1 && errno == EBADF, "close twice: EBADF");
	check(xioctl(fd, IOMMU_IOAS_ALLOC, &cmd) == -EBADF, "ioctl after close: EBADF");

	fd = openat(AT_FDCWD, "/dev/iommu", O_RDWR | O_CLOEXEC);
	check(fd >= 0 && cloexec(fd), "openat with O_CLOEXEC");
	check(ioas_alloc(fd, &id) == 0, "ioctl on the openat fd");
	close(fd);
}

static void test_read_write_mmap(void)
{
	int fd = open("/dev/iommu", O_RDWR);
	char buf[16];
	struct iovec iov = { buf, sizeof(buf) };

	errno = 0;
	check(read(fd, buf, sizeof(buf)) == -1 && errno == EINVAL, "read: EINVAL");
	errno = 0;
	check(write(fd, buf, sizeof(buf)) == -1 && errno == EINVAL, "write: EINVAL");
	errno = 0;
	check(readv(fd, &iov, 1) == -1 && errno == EINVAL, "readv: EINVAL");
	/* Through a volatile, so the compiler cannot see the bad pointer. */
	struct iovec *volatile bad = (struct iovec *)8;
	errno = 0;
	check(readv(fd, bad, 1) == -1 && errno == EFAULT, "readv bad iov: EFAULT");
	check(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED,
	      "mmap fails cleanly");
	close(fd);
}

static void test_dup(void)
{
	int fd = open("/dev/iommu", O_RDWR), d, d2, pfd[2];
	__u32 id, id2;

	d = dup(fd);
	check(d >= 0 && d != fd, "dup");
	check(ioas_alloc(fd, &id) == 0, "alloc on the original");
	d2 = fcntl(fd, F_DUPFD, 100);
	check(d2 >= 100, "F_DUPFD 100: %d", d2);
	check(close(fd) == 0, "close the original");
	/* One context behind every descriptor. */
	check(destroy(d, id) == 0, "destroy through the dup");
	check(ioas_alloc(d2, &id2) == 0, "alloc through F_DUPFD's fd");
	close(d2);
	d2 = fcntl(d, F_DUPFD_CLOEXEC, 0);
	check(d2 >= 0 && cloexec(d2), "F_DUPFD_CLOEXEC");
	check(destroy(d2, id2) == 0, "destroy through F_DUPFD_CLOEXEC's fd");

	/* dup2 onto a pipe makes that number the iommufd... */
	check(pipe(pfd) == 0, "pipe");
	check(dup2(d, pfd[1]) == pfd[1], "dup2 onto a pipe");
	check(ioas_alloc(pfd[1], &id) == 0, "the pipe's number is iommufd now");
	/* ...and a pipe dup3'd onto it makes it a pipe again. */
	check(dup3(pfd[0], pfd[1], O_CLOEXEC) == pfd[1], "dup3 a pipe onto it");
	check(xioctl(pfd[1], IOMMU_IOAS_ALLOC, &id) == -ENOTTY,
	      "now a pipe: the kernel says ENOTTY");
	check(dup3(d, d, 0) == -1 && errno == EINVAL, "dup3 same fd: EINVAL");
	check(dup2(d, d) == d, "dup2 same fd");
	check(dup3(d, d2, 0x4000) == -1 && errno == EINVAL, "dup3 bad flags: EINVAL");
	close(pfd[0]);
	close(pfd[1]);
	close(d);
	close(d2);
}

static void test_two_opens(void)
{
	int a = open("/dev/iommu", O_RDWR), b = open("/dev/iommu", O_RDWR);
	__u32 ida, idb;

	check(a >= 0 && b >= 0 && a != b, "open twice");
	check(ioas_alloc(a, &ida) == 0, "alloc on the first");
	/* Separate contexts, separate object tables. */
	check(destroy(b, ida) == -ENOENT, "the second context does not have it");
	check(close(a) == 0, "close the first");
	check(ioas_alloc(b, &idb) == 0 && destroy(b, idb) == 0,
	      "the second context lives on");
	close(b);
}

static void test_plain_fds(void)
{
	int pfd[2], fd, n = -1;
	char buf[64];

	check(pipe(pfd) == 0, "pipe");
	check(write(pfd[1], "hello", 5) == 5, "write a pipe");
	check(ioctl(pfd[0], FIONREAD, &n) == 0 && n == 5, "FIONREAD on a pipe");
	check(read(pfd[0], buf, sizeof(buf)) == 5 && !memcmp(buf, "hello", 5),
	      "read a pipe");
	close(pfd[0]);
	close(pfd[1]);
	fd = open("/proc/self/status", O_RDONLY);
	check(fd >= 0 && read(fd, buf, sizeof(buf)) > 0, "read a regular file");
	check(lseek(fd, 0, SEEK_SET) == 0, "lseek it");
	close(fd);
	errno = 0;
	check(open("/dev/iommu-not", O_RDONLY) == -1 && errno == ENOENT,
	      "other paths reach the filesystem");
	/* A number that was iommufd and is reused by a regular file. */
	fd = open("/dev/iommu", O_RDWR);
	close(fd);
	n = open("/proc/self/status", O_RDONLY);
	check(n == fd && read(n, buf, sizeof(buf)) > 0, "reused number is plain");
	close(n);
}

static void test_poll(void)
{
	int fd = open("/dev/iommu", O_RDWR), pfd[2];
	struct pollfd p[2];

	check(pipe(pfd) == 0, "pipe");
	p[0] = (struct pollfd){ .fd = fd, .events = POLLIN | POLLOUT };
	p[1] = (struct pollfd){ .fd = pfd[0], .events = POLLIN };
	/* /dev/iommu has no poll op: the kernel's default mask. */
	check(poll(p, 2, 100) == 1, "poll: one ready");
	check((p[0].revents & (POLLIN | POLLOUT)) == (POLLIN | POLLOUT),
	      "iommufd polls readable and writable");
	check(p[1].revents == 0, "empty pipe not readable");
	close(pfd[0]);
	close(pfd[1]);
	close(fd);
}

static void test_fork(void)
{
	int fd = open("/dev/iommu", O_RDWR), status = -1;
	__u32 id, cid;
	pid_t pid;

	check(ioas_alloc(fd, &id) == 0, "alloc before fork");
	pid = fork();
	if (pid == 0) {
		/* The child has its own copy of the context. */
		int bad = 0;

		if (ioas_alloc(fd, &cid))
			bad |= 1;
		if (destroy(fd, id))
			bad |= 2;
		if (close(fd))
			bad |= 4;
		fd = open("/dev/iommu", O_RDWR);
		if (fd < 0 || ioas_alloc(fd, &cid) || close(fd))
			bad |= 8;
		exit(bad);
	}
	check(pid > 0, "fork");
	check(waitpid(pid, &status, 0) == pid, "waitpid");
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "child exited cleanly: status %#x", status);
	/* The child destroyed its copy of id, not ours. */
	check(destroy(fd, id) == 0, "parent's object survived the child");
	check(ioas_alloc(fd, &id) == 0, "parent still works");
	close(fd);
}

struct spinner {
	int fd;
	int stop;	/* atomic */
	int errors;	/* atomic */
};

static void *spin_ioctls(void *arg)
{
	struct spinner *s = arg;
	__u32 id;

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		if (ioas_alloc(s->fd, &id) || destroy(s->fd, id))
			__atomic_add_fetch(&s->errors, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* Forks while other threads are inside ioctls: the fork waits for them
 * (the fork gate), so each child gets a consistent copy. */
static void test_fork_threads(void)
{
	struct spinner s = { .fd = open("/dev/iommu", O_RDWR) };
	pthread_t th[2];
	int bad = 0;

	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, spin_ioctls, &s);
	for (int i = 0; i < 20; i++) {
		int status = -1;
		pid_t pid = fork();

		if (pid == 0) {
			__u32 id;

			_exit(ioas_alloc(s.fd, &id) || destroy(s.fd, id) ||
			      close(s.fd) ? 1 : 0);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	}
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	check(!bad, "children forked amid ioctls ran cleanly (%d bad)", bad);
	check(!s.errors, "ioctls amid forks succeeded (%d errors)", s.errors);
	close(s.fd);
}

int main(void)
{
	test_ioctls();
	test_read_write_mmap();
	test_dup();
	test_two_opens();
	test_plain_fds();
	test_poll();
	test_fork();
	test_fork_threads();
	return shim_check_done();
}
