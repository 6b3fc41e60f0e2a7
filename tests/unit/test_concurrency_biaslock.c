/*
 * The biased lock of util/biaslock.h (the IOAS table lock, iopt->lock):
 * the thread that takes a lock first keeps taking it without the word;
 * another thread's first take revokes that bias, waiting out a critical
 * section the biased thread is in; a thread's slot holds one lock at a
 * time, so a second lock is taken as a word lock; a bias left by a thread
 * that exited is revoked without waiting; and mutual exclusion holds
 * under contention throughout.  Run again under TSan.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "util/biaslock.h"

#define NTHREADS 4

static struct sio_biaslock bl;
static unsigned long counter;		/* under bl, deliberately plain */
static unsigned int inside;		/* atomic: holders right now */

static void sleep_us(long us)
{
	struct timespec ts = { 0, us * 1000 };

	nanosleep(&ts, NULL);
}

static void critical(unsigned long i)
{
	assert_int_equal(__atomic_add_fetch(&inside, 1, __ATOMIC_RELAXED), 1);
	counter++;
	if ((i & 4095) == 0)
		sleep_us(100);	/* long enough that others come and wait */
	__atomic_sub_fetch(&inside, 1, __ATOMIC_RELAXED);
}

static void *hammer(void *arg)
{
	unsigned long n = (unsigned long)(uintptr_t)arg;

	for (unsigned long i = 0; i < n; i++) {
		sio_biaslock_lock(&bl);
		critical(i);
		sio_biaslock_unlock(&bl);
	}
	return NULL;
}

/* One thread alone: its first take biases the lock to it, the next ones
 * do not touch the word; then threads contend, the bias goes, and no
 * increment is lost. */
static void test_bias_then_contention(void **state)
{
	pthread_t t[NTHREADS];

	(void)state;
	sio_biaslock_init(&bl);
	counter = 0;
	sio_biaslock_lock(&bl);
	critical(1);
	sio_biaslock_unlock(&bl);
	assert_ptr_equal(__atomic_load_n(&bl.bias, __ATOMIC_RELAXED),
			 sio_bias_self);
	sio_biaslock_lock(&bl);
	/* Held through the slot: the word is free. */
	assert_int_equal(__atomic_load_n(&bl.word.word, __ATOMIC_RELAXED), 0);
	assert_ptr_equal(__atomic_load_n(&sio_bias_self->in, __ATOMIC_RELAXED),
			 &bl);
	critical(1);
	sio_biaslock_unlock(&bl);
	assert_null(__atomic_load_n(&sio_bias_self->in, __ATOMIC_RELAXED));

	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer,
						(void *)(uintptr_t)100000), 0);
	hammer((void *)(uintptr_t)100000);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(counter, 2 + (NTHREADS + 1) * 100000ul);
	/* Another thread took it: revoked for good. */
	assert_null(__atomic_load_n(&bl.bias, __ATOMIC_RELAXED));
	assert_true(bl.biased_once);
}

struct holder {
	unsigned int phase;	/* atomic: 1 holding, 2 about to unlock */
	unsigned int done;	/* atomic: the critical section ended */
};

static void *bias_holder(void *arg)
{
	struct holder *h = arg;

	sio_biaslock_lock(&bl);		/* takes the bias */
	sio_biaslock_unlock(&bl);
	sio_biaslock_lock(&bl);		/* through the slot */
	assert_ptr_equal(__atomic_load_n(&sio_bias_self->in, __ATOMIC_RELAXED),
			 &bl);
	__atomic_store_n(&h->phase, 1, __ATOMIC_RELEASE);
	sleep_us(50000);		/* the other thread comes meanwhile */
	__atomic_store_n(&h->done, 1, __ATOMIC_RELAXED);
	sio_biaslock_unlock(&bl);
	return NULL;
}

/* The revoker waits for the biased thread's critical section to end. */
static void test_revoke_waits_for_holder(void **state)
{
	struct holder h = { 0 };
	pthread_t t;

	(void)state;
	sio_biaslock_init(&bl);
	assert_int_equal(pthread_create(&t, NULL, bias_holder, &h), 0);
	while (!__atomic_load_n(&h.phase, __ATOMIC_ACQUIRE))
		sched_yield();
	sio_biaslock_lock(&bl);
	assert_int_equal(__atomic_load_n(&h.done, __ATOMIC_RELAXED), 1);
	assert_null(__atomic_load_n(&bl.bias, __ATOMIC_RELAXED));
	sio_biaslock_unlock(&bl);
	pthread_join(t, NULL);
}

static void *take_once(void *arg)
{
	(void)arg;
	sio_biaslock_lock(&bl);
	sio_biaslock_unlock(&bl);
	return NULL;
}

/* A bias left by a thread that exited: revoked at once (its slot holds
 * nothing), and the lock is not biased again. */
static void test_bias_of_exited_thread(void **state)
{
	pthread_t t;

	(void)state;
	sio_biaslock_init(&bl);
	assert_int_equal(pthread_create(&t, NULL, take_once, NULL), 0);
	pthread_join(t, NULL);
	assert_non_null(__atomic_load_n(&bl.bias, __ATOMIC_RELAXED));
	sio_biaslock_lock(&bl);
	assert_null(__atomic_load_n(&bl.bias, __ATOMIC_RELAXED));
	sio_biaslock_unlock(&bl);
	/* Not biased again, to this thread or any. */
	sio_biaslock_lock(&bl);
	assert_int_equal(__atomic_load_n(&bl.word.word, __ATOMIC_RELAXED), 1);
	sio_biaslock_unlock(&bl);
	assert_null(__atomic_load_n(&bl.bias, __ATOMIC_RELAXED));
}

static struct sio_biaslock bl2;

static void *take_both(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000; i++) {
		sio_biaslock_lock(&bl);
		sio_biaslock_lock(&bl2);
		counter++;
		sio_biaslock_unlock(&bl2);
		sio_biaslock_unlock(&bl);
	}
	return NULL;
}

/* Two locks biased to one thread: the second, taken while the first is
 * held through the slot, is a word lock; both unlock orders work, and
 * another thread then takes both. */
static void test_two_locks(void **state)
{
	pthread_t t;

	(void)state;
	sio_biaslock_init(&bl);
	sio_biaslock_init(&bl2);
	counter = 0;
	take_once(NULL);
	sio_biaslock_lock(&bl2);
	sio_biaslock_unlock(&bl2);
	assert_ptr_equal(bl.bias, sio_bias_self);
	assert_ptr_equal(bl2.bias, sio_bias_self);

	sio_biaslock_lock(&bl);			/* through the slot */
	sio_biaslock_lock(&bl2);		/* the word */
	assert_ptr_equal(sio_bias_self->in, &bl);
	assert_int_equal(__atomic_load_n(&bl2.word.word, __ATOMIC_RELAXED), 1);
	sio_biaslock_unlock(&bl);		/* first taken, first let go */
	assert_null(sio_bias_self->in);
	assert_int_equal(__atomic_load_n(&bl2.word.word, __ATOMIC_RELAXED), 1);
	sio_biaslock_unlock(&bl2);
	assert_int_equal(__atomic_load_n(&bl2.word.word, __ATOMIC_RELAXED), 0);

	assert_int_equal(pthread_create(&t, NULL, take_both, NULL), 0);
	take_both(NULL);
	pthread_join(t, NULL);
	assert_int_equal(counter, 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bias_then_contention),
		cmocka_unit_test(test_revoke_waits_for_holder),
		cmocka_unit_test(test_bias_of_exited_thread),
		cmocka_unit_test(test_two_locks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
