/*
 * The MMIO trap under concurrency: two threads hammer one region with
 * stores and loads while a third maps, uses and unregisters other regions,
 * so the handler's lock-free lookups run against table replacements and
 * grace periods.  Every access must reach the right model with the right
 * value, every region's ops must stop being called once it is
 * unregistered, and ThreadSanitizer must find no race (CI runs this test
 * under TSan).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "softiommu/mmio.h"

#define PG 4096
#define SLOTS (3 * PG / 8)	/* the largest region churn() maps */
#define COUNTER_SLOT 500	/* reads of it count up */

struct dev {
	uint64_t regs[SLOTS];
	unsigned long reads, writes;	/* atomics */
	int gone;			/* set after unregister: no op may run */
	int bad;			/* an op ran on a gone model */
};

static uint64_t dev_read(void *opaque, uint64_t off, unsigned int size)
{
	struct dev *d = opaque;

	if (__atomic_load_n(&d->gone, __ATOMIC_ACQUIRE))
		__atomic_store_n(&d->bad, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&d->reads, 1, __ATOMIC_RELAXED);
	if (off / 8 == COUNTER_SLOT)
		return __atomic_add_fetch(&d->regs[COUNTER_SLOT], 1,
					  __ATOMIC_RELAXED);
	if (size != 8 || off % 8)
		return 0;
	return __atomic_load_n(&d->regs[off / 8], __ATOMIC_RELAXED);
}

static void dev_write(void *opaque, uint64_t off, unsigned int size,
		      uint64_t val)
{
	struct dev *d = opaque;

	if (__atomic_load_n(&d->gone, __ATOMIC_ACQUIRE))
		__atomic_store_n(&d->bad, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&d->writes, 1, __ATOMIC_RELAXED);
	if (size == 8 && off % 8 == 0)
		__atomic_store_n(&d->regs[off / 8], val, __ATOMIC_RELAXED);
}

static const struct sio_mmio_ops ops = { dev_read, dev_write };

static inline uint64_t readq(const void *p)
{
	uint64_t v = *(const volatile uint64_t *)p;

	__asm__ volatile("" ::: "memory");
	return v;
}

static inline void writeq(void *p, uint64_t v)
{
	*(volatile uint64_t *)p = v;
	__asm__ volatile("" ::: "memory");
}

#define HAMMER_ITERS 20000
#define CHURN_ITERS 300

struct hammer {
	uint8_t *p;
	unsigned int slot;
	int errors;
};

static void *hammer(void *arg)
{
	struct hammer *h = arg;
	uint64_t last = 0;

	for (uint64_t i = 0; i < HAMMER_ITERS; i++) {
		uint64_t want = (i << 8) | h->slot, c;

		writeq(h->p + 8 * h->slot, want);
		if (readq(h->p + 8 * h->slot) != want)
			h->errors++;
		c = readq(h->p + 8 * COUNTER_SLOT);
		if (c <= last)
			h->errors++;
		last = c;
	}
	return NULL;
}

struct churn {
	int errors, rounds;
};

static void *churn(void *arg)
{
	struct churn *c = arg;

	for (int i = 0; i < CHURN_ITERS; i++) {
		struct dev *d = calloc(1, sizeof(*d));
		struct sio_mmio_region *r;
		void *addr = NULL;
		size_t len = (size_t)(1 + i % 3) * PG;

		if (!d || sio_mmio_map(&addr, len, 0, &ops, d, &r)) {
			c->errors++;
			free(d);
			continue;
		}
		writeq((uint8_t *)addr + len - 8, (uint64_t)i);
		if (readq((uint8_t *)addr + len - 8) != (uint64_t)i)
			c->errors++;
		/* Both orders of munmap and unregister. */
		if (i % 2) {
			munmap(addr, len);
			sio_mmio_unregister(r);
		} else {
			sio_mmio_unregister(r);
			munmap(addr, len);
		}
		/* After unregister returns, no op runs on d. */
		__atomic_store_n(&d->gone, 1, __ATOMIC_RELEASE);
		if (__atomic_load_n(&d->bad, __ATOMIC_RELAXED))
			c->errors++;
		if (__atomic_load_n(&d->reads, __ATOMIC_RELAXED) != 1 ||
		    __atomic_load_n(&d->writes, __ATOMIC_RELAXED) != 1)
			c->errors++;
		free(d);
		c->rounds++;
	}
	return NULL;
}

static void test_hammer_while_churning(void **state)
{
	struct dev *d = calloc(1, sizeof(*d));
	struct sio_mmio_region *r;
	struct hammer h[2];
	struct churn c = { 0, 0 };
	pthread_t th[3];
	void *addr = NULL;

	(void)state;
	assert_non_null(d);
	assert_int_equal(sio_mmio_map(&addr, PG, 0, &ops, d, &r), 0);
	for (int i = 0; i < 2; i++) {
		h[i] = (struct hammer){ addr, (unsigned int)(10 + i), 0 };
		assert_int_equal(pthread_create(&th[i], NULL, hammer, &h[i]), 0);
	}
	assert_int_equal(pthread_create(&th[2], NULL, churn, &c), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);

	assert_int_equal(h[0].errors, 0);
	assert_int_equal(h[1].errors, 0);
	assert_int_equal(c.errors, 0);
	assert_int_equal(c.rounds, CHURN_ITERS);
	/* Each hammer iteration: one write, two reads. */
	assert_int_equal(__atomic_load_n(&d->writes, __ATOMIC_RELAXED),
			 2 * HAMMER_ITERS);
	assert_int_equal(__atomic_load_n(&d->reads, __ATOMIC_RELAXED),
			 4 * HAMMER_ITERS);
	assert_int_equal(d->regs[COUNTER_SLOT], 2 * HAMMER_ITERS);
	sio_mmio_unregister(r);
	munmap(addr, PG);
	free(d);
}

/* Unregister waits for an op that is running: a slow read on one thread,
 * unregister on another. */
struct slow {
	int entered, release;
	int finished_before_unregister_returned;
	int unregistered;
};

static uint64_t slow_read(void *opaque, uint64_t off, unsigned int size)
{
	struct slow *s = opaque;

	(void)off;
	(void)size;
	__atomic_store_n(&s->entered, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&s->release, __ATOMIC_ACQUIRE))
		usleep(1000);
	if (!__atomic_load_n(&s->unregistered, __ATOMIC_ACQUIRE))
		__atomic_store_n(&s->finished_before_unregister_returned, 1,
				 __ATOMIC_RELEASE);
	return 42;
}

static void slow_write(void *opaque, uint64_t off, unsigned int size,
		       uint64_t val)
{
	(void)opaque;
	(void)off;
	(void)size;
	(void)val;
}

static const struct sio_mmio_ops slow_ops = { slow_read, slow_write };

static void *slow_reader(void *arg)
{
	uint64_t *v = arg;

	*v = readq((void *)(uintptr_t)v[1]);
	return NULL;
}

static void *release_later(void *arg)
{
	struct slow *s = arg;

	usleep(50000);
	__atomic_store_n(&s->release, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_unregister_waits_for_op(void **state)
{
	struct slow s = { 0 };
	struct sio_mmio_region *r;
	pthread_t reader, releaser;
	uint64_t arg[2];
	void *addr = NULL;

	(void)state;
	assert_int_equal(sio_mmio_map(&addr, PG, 0, &slow_ops, &s, &r), 0);
	arg[1] = (uint64_t)(uintptr_t)addr;
	assert_int_equal(pthread_create(&reader, NULL, slow_reader, arg), 0);
	while (!__atomic_load_n(&s.entered, __ATOMIC_ACQUIRE))
		usleep(1000);
	assert_int_equal(pthread_create(&releaser, NULL, release_later, &s), 0);
	sio_mmio_unregister(r);
	__atomic_store_n(&s.unregistered, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(reader, NULL), 0);
	assert_int_equal(pthread_join(releaser, NULL), 0);
	assert_int_equal(arg[0], 42);
	assert_true(__atomic_load_n(&s.finished_before_unregister_returned,
				    __ATOMIC_ACQUIRE));
	munmap(addr, PG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hammer_while_churning),
		cmocka_unit_test(test_unregister_waits_for_op),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
