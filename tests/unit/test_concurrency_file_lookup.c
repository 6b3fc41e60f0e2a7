/*
 * Lookups without a reference (src/file/file.c): a lookup made outside
 * any op holds its file through its thread's hazard slot, and the release
 * waits for every slot that holds the file.  The shim uses them (the
 * fault-safe copy armed); these tests turn them on.
 *
 * What must hold: the release op runs exactly once per file, only after
 * the last reference and the last hazard slot let go, whichever thread
 * lets go last; an op never runs on a released file; a mapping's
 * reference taken from a hazard lookup keeps the file.  Run under
 * AddressSanitizer and ThreadSanitizer as well.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "softiommu/file.h"
#include "file/file.h"

struct thing {
	atomic_int released;
	atomic_int ops_after_release;
	/* What thing_ioctl() does besides answering 7 (THING_*). */
	int fd, inner_fd;
};

enum {
	THING_ANSWER = 1,	/* only answer */
	THING_CLOSE_SELF,	/* close its own descriptor */
	THING_LOOKUP_SELF,	/* look its own descriptor up and put it */
	THING_NESTED,		/* ioctl on inner_fd, answer that + 1 */
};

static atomic_int releases;

static long thing_ioctl(struct sio_file *file, unsigned int cmd,
			unsigned long arg)
{
	struct thing *t = sio_file_priv(file);

	struct sio_file *f;
	long rc;

	(void)arg;
	if (atomic_load(&t->released))
		atomic_fetch_add(&t->ops_after_release, 1);
	switch (cmd) {
	case THING_CLOSE_SELF:
		assert_int_equal(sio_file_close(t->fd), 0);
		assert_int_equal(atomic_load(&t->released), 0);
		break;
	case THING_LOOKUP_SELF:
		f = sio_file_lookup(t->fd);
		assert_ptr_equal(f, file);
		sio_file_put(f);
		break;
	case THING_NESTED:
		assert_true(sio_file_ioctl_fd(t->inner_fd, THING_ANSWER, 0, &rc));
		return rc + 1;
	}
	return 7;
}

static void thing_release(struct sio_file *file)
{
	struct thing *t = sio_file_priv(file);

	atomic_fetch_add(&t->released, 1);
	atomic_fetch_add(&releases, 1);
}

static const struct sio_file_ops thing_ops = {
	.name = "thing",
	.ioctl = thing_ioctl,
	.release = thing_release,
};

static int thing_open(struct thing *t)
{
	int fd = -1;

	atomic_store(&t->released, 0);
	atomic_store(&t->ops_after_release, 0);
	assert_int_equal(sio_file_create(&thing_ops, t, true, NULL, &fd), 0);
	t->fd = fd;
	return fd;
}

static int setup(void **state)
{
	(void)state;
	sio_file_set_hazard_lookups(1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sio_file_set_hazard_lookups(-1);
	return 0;
}

/* The same thread closes the descriptor while its lookup holds the file:
 * the release runs at the lookup's put, not at the close. */
static void test_close_under_own_lookup(void **state)
{
	struct thing t;
	struct sio_file *f;
	int fd = thing_open(&t);

	(void)state;
	f = sio_file_lookup(fd);
	assert_non_null(f);
	assert_int_equal(sio_file_close(fd), 0);
	assert_null(sio_file_lookup(fd));
	assert_int_equal(atomic_load(&t.released), 0);
	assert_int_equal(sio_file_ioctl(f, 1, 0), 7);
	sio_file_put(f);
	assert_int_equal(atomic_load(&t.released), 1);
	assert_int_equal(atomic_load(&t.ops_after_release), 0);
}

/* A second lookup of the thread is counted; the two puts, in either
 * order, release once, at the last. */
static void test_two_lookups(void **state)
{
	struct thing t;
	struct sio_file *a, *b;
	int fd = thing_open(&t);

	(void)state;
	a = sio_file_lookup(fd);
	b = sio_file_lookup(fd);
	assert_ptr_equal(a, b);
	assert_int_equal(sio_file_close(fd), 0);
	sio_file_put(b);
	assert_int_equal(atomic_load(&t.released), 0);
	sio_file_put(a);
	assert_int_equal(atomic_load(&t.released), 1);
}

/* A mapping's reference taken through a hazard lookup after the close
 * keeps the file past the lookup's put. */
static void test_hold_after_close(void **state)
{
	struct thing t;
	struct sio_file *f;
	int fd = thing_open(&t);

	(void)state;
	f = sio_file_lookup(fd);
	assert_int_equal(sio_file_close(fd), 0);
	sio_file_hold(f);
	sio_file_put(f);
	assert_int_equal(atomic_load(&t.released), 0);
	sio_file_put(f);
	assert_int_equal(atomic_load(&t.released), 1);
}

struct holder {
	int fd;
	struct sio_file *f;
	atomic_int looked, let_go;
};

static void *hold_thread(void *arg)
{
	struct holder *h = arg;

	h->f = sio_file_lookup(h->fd);
	atomic_store(&h->looked, 1);
	while (!atomic_load(&h->let_go))
		sched_yield();
	sio_file_ioctl(h->f, 1, 0);
	sio_file_put(h->f);
	return NULL;
}

/* Another thread's lookup holds the file when the descriptor is closed:
 * that thread's put releases it. */
static void test_close_under_other_lookup(void **state)
{
	struct thing t;
	struct holder h = { 0 };
	pthread_t th;

	(void)state;
	h.fd = thing_open(&t);
	assert_int_equal(pthread_create(&th, NULL, hold_thread, &h), 0);
	while (!atomic_load(&h.looked))
		sched_yield();
	assert_non_null(h.f);
	assert_int_equal(sio_file_close(h.fd), 0);
	assert_int_equal(atomic_load(&t.released), 0);
	atomic_store(&h.let_go, 1);
	pthread_join(th, NULL);
	assert_int_equal(atomic_load(&t.released), 1);
	assert_int_equal(atomic_load(&t.ops_after_release), 0);
}

/* Stress: threads look descriptors up and call an op while the main
 * thread closes them and opens new ones (numbers are reused).  Every file
 * is released once, none is used after its release. */
#define FILES 4
#define ROUNDS 300

struct stress {
	atomic_int fds[FILES];
	atomic_int stop;
	atomic_long calls;
	bool by_fd;		/* the shim's way: sio_file_ioctl_fd() */
};

static void *stress_thread(void *arg)
{
	struct stress *s = arg;
	unsigned int n = 0;

	while (!atomic_load(&s->stop)) {
		int fd = atomic_load(&s->fds[n++ % FILES]);
		struct sio_file *f;
		long rc;

		if (s->by_fd) {
			/* Every descriptor here is a thing's. */
			if (sio_file_ioctl_fd(fd, THING_ANSWER, 0, &rc)) {
				assert_int_equal(rc, 7);
				atomic_fetch_add(&s->calls, 1);
			}
			continue;
		}
		f = sio_file_lookup(fd);
		if (!f)
			continue;
		if (sio_file_ops(f) == &thing_ops)
			sio_file_ioctl(f, 1, 0);
		sio_file_put(f);
		atomic_fetch_add(&s->calls, 1);
	}
	return NULL;
}

static void lookups_race_close(bool by_fd)
{
	static struct thing things[FILES * ROUNDS];
	struct stress s = { .by_fd = by_fd };
	pthread_t th[2];
	int base = atomic_load(&releases), made = 0;

	for (int i = 0; i < FILES; i++)
		atomic_store(&s.fds[i], thing_open(&things[made++]));
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, stress_thread, &s), 0);
	while (atomic_load(&s.calls) < 100)
		sched_yield();
	for (int r = 1; r < ROUNDS; r++) {
		for (int i = 0; i < FILES; i++) {
			assert_int_equal(sio_file_close(atomic_load(&s.fds[i])), 0);
			atomic_store(&s.fds[i], thing_open(&things[made++]));
		}
		if (r % 32 == 0)
			sched_yield();
	}
	atomic_store(&s.stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < FILES; i++)
		assert_int_equal(sio_file_close(atomic_load(&s.fds[i])), 0);
	assert_int_equal(atomic_load(&releases) - base, made);
	for (int i = 0; i < made; i++) {
		assert_int_equal(atomic_load(&things[i].released), 1);
		assert_int_equal(atomic_load(&things[i].ops_after_release), 0);
	}
}

static void test_lookups_race_close(void **state)
{
	(void)state;
	lookups_race_close(false);
}

/* The same through the shim's one call: lookup, op and put. */
static void test_ioctl_fd_race_close(void **state)
{
	(void)state;
	lookups_race_close(true);
}

static const struct sio_file_ops no_ioctl_ops = { .name = "no ioctl" };

/* sio_file_ioctl_fd(): false for a descriptor that is not emulated, the
 * op's answer (or -ENOTTY without one) for one that is; it holds no
 * reference after: the file goes at its close. */
static void test_ioctl_fd(void **state)
{
	struct thing t;
	struct sio_file *f;
	int fd = thing_open(&t), bare = -1;
	long rc = 0;

	(void)state;
	assert_false(sio_file_ioctl_fd(-1, THING_ANSWER, 0, &rc));
	assert_false(sio_file_ioctl_fd(1 << 21, THING_ANSWER, 0, &rc));
	assert_false(sio_file_ioctl_fd(1 << 30, THING_ANSWER, 0, &rc));
	assert_false(sio_file_ioctl_fd(0, THING_ANSWER, 0, &rc));
	assert_int_equal(rc, 0);
	for (int i = 0; i < 3; i++) {
		rc = 0;
		assert_true(sio_file_ioctl_fd(fd, THING_ANSWER, 0, &rc));
		assert_int_equal(rc, 7);
	}
	/* The thread's hazard slot is empty again: a lookup takes it. */
	f = sio_file_lookup(fd);
	assert_non_null(f);
	sio_file_put(f);
	assert_int_equal(sio_file_create(&no_ioctl_ops, NULL, true, NULL, &bare),
			 0);
	assert_true(sio_file_ioctl_fd(bare, THING_ANSWER, 0, &rc));
	assert_int_equal(rc, -ENOTTY);
	assert_int_equal(sio_file_close(bare), 0);
	assert_int_equal(sio_file_close(fd), 0);
	assert_int_equal(atomic_load(&t.released), 1);
	assert_false(sio_file_ioctl_fd(fd, THING_ANSWER, 0, &rc));
}

/* An op that closes its own descriptor: the file is released at the put
 * after the op, not under it. */
static void test_ioctl_fd_close_inside(void **state)
{
	struct thing t;
	int fd = thing_open(&t);
	long rc = 0;

	(void)state;
	assert_true(sio_file_ioctl_fd(fd, THING_CLOSE_SELF, 0, &rc));
	assert_int_equal(rc, 7);
	assert_int_equal(atomic_load(&t.released), 1);
	assert_int_equal(atomic_load(&t.ops_after_release), 0);
}

/* An op that looks its own file up (counted, inside an op) and puts it,
 * which empties the hazard slot of the outer lookup: the references still
 * balance, the file goes at its close and not before. */
static void test_ioctl_fd_lookup_inside(void **state)
{
	struct thing t;
	int fd = thing_open(&t);
	long rc = 0;

	(void)state;
	assert_true(sio_file_ioctl_fd(fd, THING_LOOKUP_SELF, 0, &rc));
	assert_int_equal(rc, 7);
	assert_int_equal(atomic_load(&t.released), 0);
	assert_true(sio_file_ioctl_fd(fd, THING_ANSWER, 0, &rc));
	assert_int_equal(sio_file_close(fd), 0);
	assert_int_equal(atomic_load(&t.released), 1);
}

/* An op that makes an ioctl on another file (inside an op: counted, and
 * the gate nests). */
static void test_ioctl_fd_nested(void **state)
{
	struct thing outer, inner;
	int ofd = thing_open(&outer), ifd = thing_open(&inner);
	long rc = 0;

	(void)state;
	outer.inner_fd = ifd;
	assert_true(sio_file_ioctl_fd(ofd, THING_NESTED, 0, &rc));
	assert_int_equal(rc, 8);
	assert_false(sio_file_gate_inside());
	assert_int_equal(sio_file_close(ifd), 0);
	assert_int_equal(atomic_load(&inner.released), 1);
	assert_int_equal(sio_file_close(ofd), 0);
	assert_int_equal(atomic_load(&outer.released), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_close_under_own_lookup,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_lookups, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hold_after_close, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_close_under_other_lookup,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookups_race_close, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ioctl_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioctl_fd_close_inside,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioctl_fd_lookup_inside,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioctl_fd_nested, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ioctl_fd_race_close, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
