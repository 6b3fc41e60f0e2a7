/*
 * Pins of known pages through the pin hint (umem/self.c: no self_lock)
 * racing changes of the arena: two threads pin and unpin pages of one
 * buffer over and over, so most of their pins go through the hint, while
 * a third maps, pins, unpins and unmaps other buffers (new entries and
 * slots, hint writes, unmaps the watch reports and the next pin applies,
 * files whose last reference goes and whose structs are reused) and pins
 * pages of the first buffer for writing.  Every pin of the first buffer
 * must reach its own pages: the host address shows the byte that page
 * holds, whoever made the hint.  Run under ThreadSanitizer by CI.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "helpers.h"
#include "softiommu/umem.h"

#define NPAGES 8
#define ROUNDS 20000
#define CHURN 400

static size_t PG;
static struct sio_umem_owner *owner;
static unsigned char *buf;
static unsigned int stop;
static unsigned int bad;

static unsigned char *pin_host(struct sio_umem_pin *pin)
{
	size_t contig = 0;

	return (unsigned char *)(uintptr_t)sio_umem_pin_host(pin, 0, &contig);
}

static void *pinner(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;

	for (unsigned int i = 0; i < ROUNDS; i++) {
		unsigned int pg = (seed = seed * 1103515245u + 12345u) >> 16;
		struct sio_umem_pin *pin = NULL;

		pg %= NPAGES;
		if (sio_umem_pin(owner, (uint64_t)(uintptr_t)(buf + pg * PG),
				 PG, i & 1 ? SIO_UMEM_PIN_WRITE : 0,
				 SIO_UMEM_ACCT_NONE, &pin)) {
			__atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (pin_host(pin)[0] != (unsigned char)(pg + 1))
			__atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
		sio_umem_unpin(pin);
	}
	return NULL;
}

static void *churner(void *arg)
{
	(void)arg;
	for (unsigned int i = 0; i < CHURN; i++) {
		size_t len = (1 + i % 4) * PG;
		unsigned char *o = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct sio_umem_pin *p1 = NULL, *p2 = NULL;

		if (o == MAP_FAILED) {
			__atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
			break;
		}
		memset(o, 0xee, len);
		/* A new entry, then a pin inside it that records the hint. */
		if (sio_umem_pin(owner, (uint64_t)(uintptr_t)o, len, 0,
				 SIO_UMEM_ACCT_NONE, &p1) ||
		    sio_umem_pin(owner, (uint64_t)(uintptr_t)o, PG,
				 SIO_UMEM_PIN_WRITE, SIO_UMEM_ACCT_NONE, &p2))
			__atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
		else if (pin_host(p2)[0] != 0xee)
			__atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
		sio_umem_unpin(p1);
		sio_umem_unpin(p2);
		/* Reported by the watch, applied by whichever pin comes next;
		 * the slot's file goes with its entry. */
		munmap(o, len);
		p1 = NULL;
		if (sio_umem_pin(owner,
				 (uint64_t)(uintptr_t)(buf + (i % NPAGES) * PG),
				 PG, SIO_UMEM_PIN_WRITE, SIO_UMEM_ACCT_NONE, &p1) ||
		    pin_host(p1)[0] != (unsigned char)(i % NPAGES + 1))
			__atomic_add_fetch(&bad, 1, __ATOMIC_RELAXED);
		sio_umem_unpin(p1);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void test_hint_races_arena_changes(void **state)
{
	pthread_t t[3];
	struct sio_umem_stats st;

	(void)state;
	PG = (size_t)sysconf(_SC_PAGESIZE);
	assert_int_equal(sio_umem_owner_self(&owner), 0);
	buf = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_ptr_not_equal(buf, MAP_FAILED);
	for (unsigned int i = 0; i < NPAGES; i++)
		memset(buf + i * PG, (int)(i + 1), PG);
	assert_int_equal(pthread_create(&t[0], NULL, pinner, (void *)1), 0);
	assert_int_equal(pthread_create(&t[1], NULL, pinner, (void *)2), 0);
	assert_int_equal(pthread_create(&t[2], NULL, churner, NULL), 0);
	for (unsigned int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(__atomic_load_n(&bad, __ATOMIC_RELAXED), 0);
	assert_int_equal(__atomic_load_n(&stop, __ATOMIC_RELAXED), 1);
	sio_umem_owner_stats(owner, &st);
	assert_int_equal(st.pinned, 0);
	assert_int_equal(munmap(buf, NPAGES * PG), 0);
	sio_umem_owner_put(owner);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hint_races_arena_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
