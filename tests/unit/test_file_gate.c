/*
 * The fork gate (src/file/gate.c): fork() waits for the emulated-file ops
 * in flight and holds new ones until it is done, nesting is per thread, a
 * fork from inside an op goes through, and slots of exited threads are
 * reused without stalling a later fork.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "file/file.h"
#include "softiommu/file.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = ms * 1000000L };

	nanosleep(&ts, NULL);
}

static atomic_int inside, left, entered_during;
static atomic_int fork_started;

static void *op_in_flight(void *arg)
{
	(void)arg;
	sio_file_gate_enter();
	sio_file_gate_enter();		/* nested: counted, not taken twice */
	atomic_store(&inside, 1);
	sleep_ms(150);
	atomic_store(&left, 1);
	sio_file_gate_exit();
	sio_file_gate_exit();
	return NULL;
}

static pid_t fork_and_reap(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0)
		_exit(0);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return pid;
}

/* A fork waits for the op in flight to leave. */
static void test_fork_waits(void **state)
{
	pthread_t t;

	static const struct sio_file_ops bare = { 0 };
	int fd;

	(void)state;
	/* The first file registers the file layer's fork handlers. */
	assert_int_equal(sio_file_create(&bare, NULL, true, NULL, &fd), 0);
	assert_int_equal(sio_file_close(fd), 0);
	atomic_store(&inside, 0);
	atomic_store(&left, 0);
	assert_int_equal(pthread_create(&t, NULL, op_in_flight, NULL), 0);
	while (!atomic_load(&inside))
		sched_yield();
	fork_and_reap();
	assert_int_equal(atomic_load(&left), 1);
	pthread_join(t, NULL);
}

static void *enter_while_forking(void *arg)
{
	(void)arg;
	while (!atomic_load(&fork_started))
		sched_yield();
	sleep_ms(20);
	sio_file_gate_enter();
	/* Only after the fork is over. */
	atomic_store(&entered_during, atomic_load(&left) ? 2 : 1);
	sio_file_gate_exit();
	return NULL;
}

/* While a fork waits for an op, a new op waits for the fork. */
static void test_new_ops_wait(void **state)
{
	pthread_t a, b;
	double t0;

	(void)state;
	atomic_store(&inside, 0);
	atomic_store(&left, 0);
	atomic_store(&entered_during, 0);
	atomic_store(&fork_started, 0);
	assert_int_equal(pthread_create(&a, NULL, op_in_flight, NULL), 0);
	assert_int_equal(pthread_create(&b, NULL, enter_while_forking, NULL), 0);
	while (!atomic_load(&inside))
		sched_yield();
	atomic_store(&fork_started, 1);
	t0 = now_ms();
	fork_and_reap();
	assert_true(now_ms() - t0 > 50);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	assert_int_equal(atomic_load(&entered_during), 2);
}

/* A fork from inside an op does not wait for itself; the child can enter
 * and fork again. */
static void test_fork_inside(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	sio_file_gate_enter();
	assert_true(sio_file_gate_inside());
	pid = fork();
	if (pid == 0) {
		sio_file_gate_exit();
		sio_file_gate_enter();
		sio_file_gate_exit();
		pid = fork();
		if (pid == 0)
			_exit(0);
		_exit(waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	sio_file_gate_exit();
	assert_false(sio_file_gate_inside());
}

static void *enter_exit(void *arg)
{
	(void)arg;
	sio_file_gate_enter();
	sio_file_gate_exit();
	return NULL;
}

static long record_ioctl(struct sio_file *file, unsigned int cmd,
			 unsigned long arg)
{
	(void)file;
	(void)arg;
	if (cmd == 2)
		atomic_store(&entered_during, atomic_load(&left) ? 2 : 1);
	return 0;
}

static const struct sio_file_ops record_ops = { .ioctl = record_ioctl };

static void *ioctl_fd_while_forking(void *arg)
{
	int fd = *(int *)arg;
	long rc;

	/* Once to set this thread's slots up: the next call takes the
	 * shim's common case, which finds the gate closed. */
	assert_true(sio_file_ioctl_fd(fd, 1, 0, &rc));
	while (!atomic_load(&fork_started))
		sched_yield();
	sleep_ms(20);
	assert_true(sio_file_ioctl_fd(fd, 2, 0, &rc));
	return NULL;
}

/* The shim's ioctl (lookup, gate and op in one call) waits for a fork
 * under way as sio_file_gate_enter() does, and still finds its file. */
static void test_ioctl_fd_waits(void **state)
{
	pthread_t a, b;
	int fd;

	(void)state;
	sio_file_set_hazard_lookups(1);
	assert_int_equal(sio_file_create(&record_ops, NULL, true, NULL, &fd), 0);
	atomic_store(&inside, 0);
	atomic_store(&left, 0);
	atomic_store(&entered_during, 0);
	atomic_store(&fork_started, 0);
	assert_int_equal(pthread_create(&a, NULL, op_in_flight, NULL), 0);
	assert_int_equal(pthread_create(&b, NULL, ioctl_fd_while_forking, &fd),
			 0);
	while (!atomic_load(&inside))
		sched_yield();
	atomic_store(&fork_started, 1);
	fork_and_reap();
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	assert_int_equal(atomic_load(&entered_during), 2);
	assert_int_equal(sio_file_close(fd), 0);
	sio_file_set_hazard_lookups(-1);
}

/* Threads come and go; their slots are reused and a fork still goes
 * through at once. */
static void test_slots_reused(void **state)
{
	(void)state;
	for (int i = 0; i < 64; i++) {
		pthread_t t;

		assert_int_equal(pthread_create(&t, NULL, enter_exit, NULL), 0);
		pthread_join(t, NULL);
	}
	fork_and_reap();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_waits),
		cmocka_unit_test(test_new_ops_wait),
		cmocka_unit_test(test_fork_inside),
		cmocka_unit_test(test_slots_reused),
		cmocka_unit_test(test_ioctl_fd_waits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
