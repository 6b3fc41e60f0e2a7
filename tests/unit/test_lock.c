/*
 * The lock wrappers of util/lock.h: they lock and unlock in every build;
 * in a debug build they know which mutexes a thread holds and stop the
 * program on an inversion of the lock order of docs/locking.md, on a
 * mutex taken twice and on the release of a mutex not held.  The checks
 * are exercised in a child process, which must die of SIGABRT.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "util/lock.h"

static pthread_mutex_t outer = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t inner = PTHREAD_MUTEX_INITIALIZER;

static void *try_other(void *arg)
{
	int rc = pthread_mutex_trylock(arg);

	if (!rc)
		pthread_mutex_unlock(arg);
	return (void *)(intptr_t)rc;
}

/* Whether another thread finds m locked. */
static bool locked_elsewhere(pthread_mutex_t *m)
{
	pthread_t t;
	void *rc;

	assert_int_equal(pthread_create(&t, NULL, try_other, m), 0);
	assert_int_equal(pthread_join(t, &rc), 0);
	return (intptr_t)rc == EBUSY;
}

static void test_locks_in_every_build(void **state)
{
	(void)state;
	sio_mutex_lock(&outer, SIO_LOCK_GROUP);
	assert_true(locked_elsewhere(&outer));
	sio_mutex_lock(&inner, SIO_LOCK_IOPF_DEV);
	assert_true(locked_elsewhere(&inner));
	sio_mutex_unlock(&outer);	/* not necessarily in reverse order */
	assert_false(locked_elsewhere(&outer));
	sio_mutex_unlock(&inner);
	assert_false(locked_elsewhere(&inner));
}

#ifndef NDEBUG

static void test_held(void **state)
{
	(void)state;
	assert_false(sio_mutex_held(&outer));
	sio_mutex_lock(&outer, SIO_LOCK_GROUP);
	assert_true(sio_mutex_held(&outer));
	assert_false(sio_mutex_held(&inner));
	SIO_ASSERT_HELD(&outer);
	sio_mutex_lock(&inner, SIO_LOCK_IOPF_DEV);
	assert_true(sio_mutex_held(&inner));
	sio_mutex_unlock(&inner);
	assert_false(sio_mutex_held(&inner));
	assert_true(sio_mutex_held(&outer));
	sio_mutex_unlock(&outer);
	assert_false(sio_mutex_held(&outer));
}

/* Per thread: what one thread holds is not held by another. */
static void *held_here(void *arg)
{
	return (void *)(intptr_t)sio_mutex_held(arg);
}

static void test_held_is_per_thread(void **state)
{
	pthread_t t;
	void *rc;

	(void)state;
	sio_mutex_lock(&outer, SIO_LOCK_GROUP);
	assert_int_equal(pthread_create(&t, NULL, held_here, &outer), 0);
	assert_int_equal(pthread_join(t, &rc), 0);
	assert_false((intptr_t)rc);
	sio_mutex_unlock(&outer);
}

/* Run fn in a child; it must be stopped by SIGABRT. */
static void expect_abort(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		/* Keep the abort message out of the test's output. */
		int fd = open("/dev/null", O_WRONLY);

		if (fd >= 0)
			dup2(fd, STDERR_FILENO);
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void inversion(void)
{
	sio_mutex_lock(&inner, SIO_LOCK_IOPF_DEV);
	sio_mutex_lock(&outer, SIO_LOCK_GROUP);
}

static void same_rank(void)
{
	sio_mutex_lock(&outer, SIO_LOCK_GROUP);
	sio_mutex_lock(&inner, SIO_LOCK_GROUP);
}

static void twice(void)
{
	sio_mutex_lock(&outer, SIO_LOCK_GROUP);
	sio_mutex_lock(&outer, SIO_LOCK_GROUP);
}

static void not_held(void)
{
	sio_mutex_unlock(&outer);
}

static void assert_unheld(void)
{
	SIO_ASSERT_HELD(&outer);
}

static void test_checks_abort(void **state)
{
	(void)state;
	expect_abort(inversion);
	expect_abort(same_rank);
	expect_abort(twice);
	expect_abort(not_held);
	expect_abort(assert_unheld);
}

#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_locks_in_every_build),
#ifndef NDEBUG
		cmocka_unit_test(test_held),
		cmocka_unit_test(test_held_is_per_thread),
		cmocka_unit_test(test_checks_abort),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
