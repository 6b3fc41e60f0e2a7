/*
 * The word lock of util/wordlock.h and the IOAS table lock built on it
 * (iopt->lock, a biased lock over a word lock): mutual exclusion under
 * contention, a sleeper woken by the unlock (with no timeout to fall back
 * on: a lost wake-up hangs the test), and IOAS_MAP/IOAS_UNMAP from
 * several threads on one IOAS, each on its own IOVA and all on one,
 * ending with every mapping accounted for.  Run again under TSan.
 */
#include <pthread.h>
#include <time.h>

#include "iommufd_helpers.h"
#include "util/wordlock.h"

#define NTHREADS 4

static struct sio_wordlock wl = SIO_WORDLOCK_INIT;
static unsigned long counter;		/* under wl, deliberately plain */
static unsigned int inside;		/* atomic: holders right now */

static void *hammer(void *arg)
{
	unsigned long n = (unsigned long)(uintptr_t)arg;

	for (unsigned long i = 0; i < n; i++) {
		sio_wordlock_lock(&wl);
		assert_int_equal(__atomic_add_fetch(&inside, 1,
						    __ATOMIC_RELAXED), 1);
		counter++;
		/* Now and then hold it long enough that others sleep. */
		if ((i & 1023) == 0) {
			struct timespec ts = { 0, 200000 };

			nanosleep(&ts, NULL);
		}
		__atomic_sub_fetch(&inside, 1, __ATOMIC_RELAXED);
		sio_wordlock_unlock(&wl);
	}
	return NULL;
}

static void test_exclusion(void **state)
{
	pthread_t t[NTHREADS];
	unsigned long per = 20000;

	(void)state;
	counter = 0;
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer,
						(void *)(uintptr_t)per), 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(counter, per * NTHREADS);
	/* Free again: a trylock-like look finds the word 0. */
	assert_int_equal(__atomic_load_n(&wl.word, __ATOMIC_RELAXED), 0);
}

/* A waiter blocked behind a long hold is woken by the unlock. */
static void *waiter(void *arg)
{
	bool *got = arg;

	sio_wordlock_lock(&wl);
	__atomic_store_n(got, true, __ATOMIC_RELEASE);
	sio_wordlock_unlock(&wl);
	return NULL;
}

static void test_sleeper_woken(void **state)
{
	struct timespec ts = { 0, 1000000 };
	bool got = false;
	pthread_t t;
	int ms = 0;

	(void)state;
	sio_wordlock_lock(&wl);
	assert_int_equal(pthread_create(&t, NULL, waiter, &got), 0);
	/* Past its spin it says in the word that it may sleep. */
	while (__atomic_load_n(&wl.word, __ATOMIC_RELAXED) != 2 && ms++ < 10000)
		nanosleep(&ts, NULL);
	assert_int_equal(__atomic_load_n(&wl.word, __ATOMIC_RELAXED), 2);
	nanosleep(&ts, NULL);
	assert_false(__atomic_load_n(&got, __ATOMIC_ACQUIRE));
	sio_wordlock_unlock(&wl);
	pthread_join(t, NULL);
	assert_true(__atomic_load_n(&got, __ATOMIC_ACQUIRE));
	assert_int_equal(__atomic_load_n(&wl.word, __ATOMIC_RELAXED), 0);
}

struct mapper {
	struct fx *f;
	uint32_t ioas;
	uint64_t iova;		/* own IOVA, or shared */
	bool shared;
	unsigned int rounds;
	unsigned int mapped;	/* successful maps (shared: may be EEXIST) */
	unsigned int unmapped;
};

static void *mapper_run(void *arg)
{
	struct mapper *m = arg;

	for (unsigned int i = 0; i < m->rounds; i++) {
		uint64_t iova = m->iova, done = 0;
		long rc = map(m->f, m->ioas, m->f->buf, PAGE, &iova,
			      IOMMU_IOAS_MAP_FIXED_IOVA);

		if (!m->shared)
			assert_int_equal(rc, 0);
		else
			assert_true(rc == 0 || rc == -EEXIST);
		m->mapped += rc == 0;
		rc = unmap(m->f, m->ioas, m->iova, PAGE, &done);
		if (!m->shared) {
			assert_int_equal(rc, 0);
			assert_int_equal(done, PAGE);
		} else {
			assert_true(rc == 0 || rc == -ENOENT);
		}
		m->unmapped += rc == 0;
	}
	return NULL;
}

static void run_mappers(struct fx *f, uint32_t ioas, bool shared)
{
	struct mapper m[NTHREADS];
	pthread_t t[NTHREADS];
	unsigned int mapped = 0, unmapped = 0;

	for (int i = 0; i < NTHREADS; i++) {
		m[i] = (struct mapper){
			.f = f, .ioas = ioas, .shared = shared, .rounds = 2000,
			.iova = MOCK_APERTURE_START +
				(shared ? 0 : (uint64_t)i * 4 * PAGE),
		};
		assert_int_equal(pthread_create(&t[i], NULL, mapper_run, &m[i]),
				 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		mapped += m[i].mapped;
		unmapped += m[i].unmapped;
	}
	/* Every map was unmapped by exactly one unmap: nothing is left. */
	assert_int_equal(mapped, unmapped);
	assert_int_equal(unmap(f, ioas, 0, UINT64_MAX, NULL), 0);
}

static void test_ioas_map_unmap_threads(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), stdev, hwpt;
	uint64_t done = 1;

	run_mappers(f, ioas, false);
	run_mappers(f, ioas, true);
	/* With a domain the same, and the domain ends empty. */
	assert_int_equal(mock_domain(f, ioas, &stdev, &hwpt, NULL), 0);
	run_mappers(f, ioas, false);
	run_mappers(f, ioas, true);
	assert_int_equal(unmap(f, ioas, MOCK_APERTURE_START, PAGE, &done),
			 -ENOENT);
	assert_int_equal(destroy(f, stdev), 0);
	assert_int_equal(destroy(f, ioas), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exclusion),
		cmocka_unit_test(test_sleeper_woken),
		cmocka_unit_test_setup_teardown(test_ioas_map_unmap_threads,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
