/*
 * Emulated files: the descriptor table, references and release, readiness
 * through the backing eventfd, dup/dup3/F_DUPFD onto and from emulated and
 * plain descriptors, fork, and lookups racing with close.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "softiommu/file.h"

struct tpriv {
	int released;
	int ioctls;
	unsigned int last_cmd;
	unsigned long last_arg;
};

static void t_release(struct sio_file *file)
{
	struct tpriv *p = sio_file_priv(file);

	__atomic_add_fetch(&p->released, 1, __ATOMIC_RELAXED);
}

static long t_ioctl(struct sio_file *file, unsigned int cmd, unsigned long arg)
{
	struct tpriv *p = sio_file_priv(file);

	p->ioctls++;
	p->last_cmd = cmd;
	p->last_arg = arg;
	return cmd == 0xbad ? -EFAULT : 7;
}

static ssize_t t_read(struct sio_file *file, void *buf, size_t len)
{
	memset(buf, 'r', len);
	return (ssize_t)len;
}

static const struct sio_file_ops t_ops = {
	.name = "test",
	.read = t_read,
	.ioctl = t_ioctl,
	.release = t_release,
};

static const struct sio_file_ops bare_ops = {
	.name = "bare",
	.release = t_release,
};

static int t_create(struct tpriv *p, bool cloexec, struct sio_file **out)
{
	int fd = -1;

	assert_int_equal(sio_file_create(&t_ops, p, cloexec, out, &fd), 0);
	assert_true(fd >= 0);
	return fd;
}

static bool t_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	assert_true(poll(&pfd, 1, 0) >= 0);
	return pfd.revents & POLLIN;
}

static bool t_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	assert_true(fl >= 0);
	return fl & FD_CLOEXEC;
}

static void test_create_lookup_close(void **state)
{
	struct tpriv p = { 0 };
	struct sio_file *file, *f;
	int fd = t_create(&p, false, &file);

	assert_ptr_equal(sio_file_priv(file), &p);
	assert_ptr_equal(sio_file_ops(file), &t_ops);
	f = sio_file_lookup(fd);
	assert_ptr_equal(f, file);
	sio_file_put(f);
	assert_false(t_cloexec(fd));

	assert_int_equal(sio_file_close(fd), 0);
	assert_int_equal(p.released, 1);
	assert_null(sio_file_lookup(fd));
	assert_int_equal(sio_file_close(fd), -EBADF);
	/* The number went back to the kernel. */
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
}

static void test_lookup_not_emulated(void **state)
{
	int pfd[2];

	assert_null(sio_file_lookup(-1));
	assert_null(sio_file_lookup(0));
	assert_null(sio_file_lookup(1 << 30));
	assert_null(sio_file_lookup(INT32_MAX));
	assert_int_equal(pipe(pfd), 0);
	assert_null(sio_file_lookup(pfd[0]));
	assert_int_equal(sio_file_close(pfd[0]), -EBADF);
	close(pfd[0]);
	close(pfd[1]);
}

static void test_cloexec_create(void **state)
{
	struct tpriv p = { 0 };
	int fd = t_create(&p, true, NULL);

	assert_true(t_cloexec(fd));
	assert_int_equal(sio_file_close(fd), 0);
	assert_int_equal(p.released, 1);
}

static void test_readable(void **state)
{
	struct tpriv p = { 0 };
	struct sio_file *file;
	int fd = t_create(&p, false, &file);

	assert_false(t_readable(fd));
	sio_file_set_readable(file, true);
	assert_true(t_readable(fd));
	sio_file_set_readable(file, true);	/* idempotent */
	assert_true(t_readable(fd));
	sio_file_set_readable(file, false);
	assert_false(t_readable(fd));
	sio_file_set_readable(file, false);
	assert_false(t_readable(fd));
	/* Clearing never blocks, even on a blocking description. */
	assert_int_equal(fcntl(fd, F_SETFL, 0), 0);
	sio_file_set_readable(file, true);
	sio_file_set_readable(file, false);
	assert_false(t_readable(fd));
	assert_int_equal(sio_file_close(fd), 0);
}

static void test_ops_and_defaults(void **state)
{
	struct tpriv p = { 0 };
	struct sio_file *file, *bare;
	char buf[4];
	void *addr = NULL;
	int fd = t_create(&p, false, &file), bfd;

	assert_int_equal(sio_file_ioctl(file, 0x1234, 0xdeadbeefUL), 7);
	assert_int_equal(p.last_cmd, 0x1234);
	assert_int_equal(p.last_arg, 0xdeadbeefUL);
	assert_int_equal(sio_file_ioctl(file, 0xbad, 0), -EFAULT);
	assert_int_equal(sio_file_read(file, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "rrrr", 4);
	assert_int_equal(sio_file_write(file, buf, 1), -EINVAL);
	assert_int_equal(sio_file_mmap(file, &addr, 4096, 0, 0, 0), -ENODEV);

	assert_int_equal(sio_file_create(&bare_ops, &p, false, &bare, &bfd), 0);
	assert_int_equal(sio_file_ioctl(bare, 1, 0), -ENOTTY);
	assert_int_equal(sio_file_read(bare, buf, 1), -EINVAL);
	assert_int_equal(sio_file_write(bare, buf, 1), -EINVAL);
	assert_int_equal(sio_file_mmap(bare, &addr, 4096, 0, 0, 0), -ENODEV);
	assert_int_equal(sio_file_close(bfd), 0);
	assert_int_equal(sio_file_close(fd), 0);
	assert_int_equal(p.released, 2);

	assert_int_equal(sio_file_create(NULL, NULL, false, NULL, &fd), -EINVAL);
}

static void test_dup_min(void **state)
{
	struct tpriv p = { 0 };
	struct sio_file *file;
	int fd = t_create(&p, false, &file);
	int d1, d2;

	d1 = sio_file_dup(fd, 0, 0);
	assert_true(d1 >= 0 && d1 != fd);
	assert_false(t_cloexec(d1));
	d2 = sio_file_dup(fd, 100, O_CLOEXEC);
	assert_true(d2 >= 100);
	assert_true(t_cloexec(d2));
	assert_ptr_equal(sio_file_lookup(d2), file);
	sio_file_put(file);

	/* One description: readiness shows on every descriptor. */
	sio_file_set_readable(file, true);
	assert_true(t_readable(d1) && t_readable(d2));

	assert_int_equal(sio_file_close(fd), 0);
	assert_int_equal(sio_file_close(d1), 0);
	assert_int_equal(p.released, 0);
	/* Readiness is still written, through the last descriptor. */
	sio_file_set_readable(file, false);
	assert_false(t_readable(d2));
	sio_file_set_readable(file, true);
	assert_true(t_readable(d2));
	assert_int_equal(sio_file_close(d2), 0);
	assert_int_equal(p.released, 1);

	/* A plain descriptor is just duplicated. */
	d1 = sio_file_dup(0, 50, O_CLOEXEC);
	assert_true(d1 >= 50);
	assert_null(sio_file_lookup(d1));
	close(d1);
	assert_int_equal(sio_file_dup(-1, 0, 0), -EBADF);
	assert_int_equal(sio_file_dup(0, 0, 0x4000), -EINVAL);
}

static void test_dup_exact(void **state)
{
	struct tpriv pa = { 0 }, pb = { 0 };
	struct sio_file *fa, *fb;
	int a = t_create(&pa, false, &fa), b = t_create(&pb, false, &fb);
	int pfd[2], target;

	/* Emulated onto emulated: b's file loses its only descriptor. */
	assert_int_equal(sio_file_dup(a, b, SIO_FILE_DUP_EXACT | O_CLOEXEC), b);
	assert_int_equal(pb.released, 1);
	assert_ptr_equal(sio_file_lookup(b), fa);
	sio_file_put(fa);
	assert_true(t_cloexec(b));
	assert_false(t_cloexec(a));

	/* Onto another descriptor of the same file. */
	assert_int_equal(sio_file_dup(b, a, SIO_FILE_DUP_EXACT), a);
	assert_ptr_equal(sio_file_lookup(a), fa);
	sio_file_put(fa);
	assert_int_equal(pa.released, 0);

	/* Emulated onto a pipe: the pipe's number now is the file. */
	assert_int_equal(pipe(pfd), 0);
	target = pfd[1];
	assert_int_equal(sio_file_dup(a, target, SIO_FILE_DUP_EXACT), target);
	assert_ptr_equal(sio_file_lookup(target), fa);
	sio_file_put(fa);
	sio_file_set_readable(fa, true);
	assert_true(t_readable(target));

	/* A pipe onto an emulated descriptor: that descriptor becomes the
	 * pipe, the file keeps its others. */
	assert_int_equal(sio_file_dup(pfd[0], a, SIO_FILE_DUP_EXACT), a);
	assert_null(sio_file_lookup(a));
	assert_int_equal(pa.released, 0);
	assert_int_equal(sio_file_dup(pfd[0], b, SIO_FILE_DUP_EXACT), b);
	assert_int_equal(sio_file_dup(pfd[0], target, SIO_FILE_DUP_EXACT), target);
	assert_int_equal(pa.released, 1);
	assert_null(sio_file_lookup(target));

	assert_int_equal(sio_file_dup(a, a, SIO_FILE_DUP_EXACT), -EINVAL);
	assert_int_equal(sio_file_dup(a, -1, SIO_FILE_DUP_EXACT), -EBADF);
	close(a);
	close(b);
	close(target);
	close(pfd[0]);
}

static void test_dup_exact_errors(void **state)
{
	struct tpriv p = { 0 };
	struct sio_file *file;
	int fd = t_create(&p, false, &file), bad;

	/* A closed oldfd onto an emulated newfd: nothing changes. */
	bad = dup(0);
	close(bad);
	assert_int_equal(sio_file_dup(bad, fd, SIO_FILE_DUP_EXACT), -EBADF);
	assert_ptr_equal(sio_file_lookup(fd), file);
	sio_file_put(file);
	/* Beyond the process limit. */
	assert_int_equal(sio_file_dup(fd, 1 << 30, SIO_FILE_DUP_EXACT), -EBADF);
	assert_int_equal(sio_file_close(fd), 0);
	assert_int_equal(p.released, 1);
}

static void test_lookup_holds_release(void **state)
{
	struct tpriv p = { 0 };
	struct sio_file *file, *f;
	int fd = t_create(&p, false, &file);

	f = sio_file_lookup(fd);
	assert_int_equal(sio_file_close(fd), 0);
	assert_int_equal(p.released, 0);
	assert_int_equal(sio_file_ioctl(f, 1, 2), 7);
	sio_file_put(f);
	assert_int_equal(p.released, 1);
}

static void test_stale_slot(void **state)
{
	struct tpriv p1 = { 0 }, p2 = { 0 };
	int fd1 = t_create(&p1, false, NULL), fd2;

	/* Closed behind the table's back (a raw system call): the next
	 * file to get the number replaces the stale entry. */
	syscall(SYS_close, fd1);
	fd2 = t_create(&p2, false, NULL);
	assert_int_equal(fd2, fd1);
	assert_int_equal(p1.released, 1);
	assert_int_equal(sio_file_close(fd2), 0);
	assert_int_equal(p2.released, 1);
}

static void test_recycle(void **state)
{
	struct tpriv p = { 0 };

	for (int i = 0; i < 1000; i++) {
		int fd = t_create(&p, i & 1, NULL);
		int d = sio_file_dup(fd, 0, 0);

		assert_int_equal(sio_file_close(fd), 0);
		assert_int_equal(sio_file_close(d), 0);
	}
	assert_int_equal(p.released, 1000);
}

/* The device number a file stats as: 0 until set, shared by its dups, and
 * a recycled file starts again from 0. */
static void test_rdev(void **state)
{
	struct tpriv p = { 0 };
	struct sio_file *file, *f;
	int fd = t_create(&p, false, &file), d;

	assert_int_equal(sio_file_rdev(file), 0);
	assert_int_equal(sio_file_rdev(NULL), 0);
	sio_file_set_rdev(NULL, 1);	/* ignored */
	sio_file_set_rdev(file, makedev(242, 7));
	d = sio_file_dup(fd, 0, 0);
	assert_true(d >= 0);
	f = sio_file_lookup(d);
	assert_ptr_equal(f, file);
	assert_true(sio_file_rdev(f) == makedev(242, 7));
	sio_file_put(f);
	assert_int_equal(sio_file_close(fd), 0);
	assert_int_equal(sio_file_close(d), 0);
	assert_int_equal(p.released, 1);

	/* Released files are reused: none keeps the old number. */
	for (int i = 0; i < 8; i++) {
		fd = t_create(&p, false, &file);
		assert_int_equal(sio_file_rdev(file), 0);
		sio_file_set_rdev(file, makedev(10, 196));
		assert_int_equal(sio_file_close(fd), 0);
	}
}

static void test_fork(void **state)
{
	struct tpriv p = { 0 };
	struct sio_file *file;
	int fd = t_create(&p, false, &file), d = sio_file_dup(fd, 0, O_CLOEXEC);
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sio_file *f = sio_file_lookup(fd);
		int code = 0;

		/* The child's copy works, and its readiness is its own. */
		if (f != file || sio_file_ioctl(f, 3, 4) != 7)
			code |= 1;
		sio_file_set_readable(f, true);
		if (!t_readable(fd) || !t_readable(d))
			code |= 2;
		sio_file_put(f);
		if (!(fcntl(d, F_GETFD) & FD_CLOEXEC) || (fcntl(fd, F_GETFD) & FD_CLOEXEC))
			code |= 4;
		if (sio_file_close(fd) || sio_file_close(d) || p.released != 1)
			code |= 8;
		_exit(code);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_false(t_readable(fd));
	assert_int_equal(p.released, 0);
	assert_int_equal(sio_file_ioctl(file, 5, 6), 7);
	assert_int_equal(sio_file_close(fd), 0);
	assert_int_equal(sio_file_close(d), 0);
	assert_int_equal(p.released, 1);
}

struct race {
	int fd;
	bool stop;
	struct tpriv p;
	unsigned long hits;
};

static void *race_reader(void *arg)
{
	struct race *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		int fd = __atomic_load_n(&r->fd, __ATOMIC_RELAXED);
		struct sio_file *f = sio_file_lookup(fd);

		if (f) {
			sio_file_ioctl(f, 1, 0);
			sio_file_put(f);
			__atomic_add_fetch(&r->hits, 1, __ATOMIC_RELAXED);
		}
		/* Plain descriptors are never reported as emulated. */
		f = sio_file_lookup(0);
		if (f)
			abort();
	}
	return NULL;
}

static void test_lookup_races_close(void **state)
{
	static const struct sio_file_ops race_ops = {
		.name = "race", .release = t_release,
	};
	struct race r = { 0 };
	pthread_t th[3];
	int created = 0;

	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, race_reader, &r), 0);
	for (int i = 0; i < 3000; i++) {
		int fd, d;

		assert_int_equal(sio_file_create(&race_ops, &r.p, false, NULL, &fd), 0);
		created++;
		__atomic_store_n(&r.fd, fd, __ATOMIC_RELAXED);
		d = sio_file_dup(fd, 0, 0);
		assert_true(d >= 0);
		if (i & 1)
			assert_int_equal(sio_file_dup(fd, d, SIO_FILE_DUP_EXACT), d);
		assert_int_equal(sio_file_close(fd), 0);
		__atomic_store_n(&r.fd, d, __ATOMIC_RELAXED);
		assert_int_equal(sio_file_close(d), 0);
	}
	__atomic_store_n(&r.stop, true, __ATOMIC_RELAXED);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(__atomic_load_n(&r.p.released, __ATOMIC_RELAXED), created);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_lookup_close),
		cmocka_unit_test(test_lookup_not_emulated),
		cmocka_unit_test(test_cloexec_create),
		cmocka_unit_test(test_readable),
		cmocka_unit_test(test_ops_and_defaults),
		cmocka_unit_test(test_dup_min),
		cmocka_unit_test(test_dup_exact),
		cmocka_unit_test(test_dup_exact_errors),
		cmocka_unit_test(test_lookup_holds_release),
		cmocka_unit_test(test_stale_slot),
		cmocka_unit_test(test_recycle),
		cmocka_unit_test(test_rdev),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_lookup_races_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
