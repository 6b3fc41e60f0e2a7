/*
 * SVA under concurrency (run again under ThreadSanitizer in CI):
 *  - bind/unbind storms of several devices on one mm while other threads
 *    do DMA through its PASID, a thread munmaps and remaps a range (and
 *    checks its own DMA fails right after each munmap returned, whatever
 *    the others cached), and the mm exits half-way through;
 *  - many short-lived mms bound, used and torn down in parallel (exit
 *    while bound or unbind first), checking each device write lands in
 *    its own mm: PASIDs are never confused.
 * What is asserted is behaviour (results allowed at each moment, data),
 * never timing; memory safety is the sanitizers' part.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "softiommu/softiommu.h"

#define PG SIO_MM_PAGE_SIZE
#define RW (SIO_PROT_READ | SIO_PROT_WRITE)
#define NDEV 4
#define STORM_ITERS 150
#define REMAP_ITERS 200
#define SHORT_ITERS 40

struct storm {
	struct sio_mm *mm;
	struct sio_device *dev[NDEV];
	uint64_t stable;		/* never unmapped */
	uint64_t churn;			/* munmapped and remapped */
	int remaps;			/* atomic: remap iterations done */
	int binds;			/* atomic: successful binds */
	int stop;			/* atomic: DMA threads stop */
	int bad;			/* atomic: unexpected results */
	sio_pasid_t first_pasid;	/* atomic */
};

static void note_bad(struct storm *s, const char *what, int rc)
{
	fprintf(stderr, "unexpected: %s -> %d (%s)\n", what, rc, sio_last_error());
	__atomic_add_fetch(&s->bad, 1, __ATOMIC_RELAXED);
}

/* Every bond of one mm carries the same PASID. */
static void check_pasid(struct storm *s, struct sio_sva *bond)
{
	sio_pasid_t want = SIO_PASID_INVALID, got = sio_sva_get_pasid(bond);

	if (!__atomic_compare_exchange_n(&s->first_pasid, &want, got, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) &&
	    want != got)
		note_bad(s, "a second PASID for the mm", (int)got);
}

struct thread_arg {
	struct storm *s;
	int i;
};

static void *bind_storm(void *p)
{
	struct thread_arg *a = p;
	struct storm *s = a->s;
	struct sio_device *dev = s->dev[a->i];

	for (int it = 0; it < STORM_ITERS; it++) {
		struct sio_sva *b1 = NULL, *b2 = NULL;
		struct sio_dma_fault f;
		int rc = sio_sva_bind_device(dev, s->mm, &b1);
		char c;

		if (rc) {
			if (rc != -ESRCH)
				note_bad(s, "bind", rc);
			continue;
		}
		check_pasid(s, b1);
		__atomic_add_fetch(&s->binds, 1, __ATOMIC_RELEASE);
		if (it & 1) {
			rc = sio_sva_bind_device(dev, s->mm, &b2);
			if (rc && rc != -ESRCH)
				note_bad(s, "second bind", rc);
			if (!rc && b2 != b1)
				note_bad(s, "second bind, another bond", 0);
		}
		rc = sio_dma_read(dev, sio_sva_get_pasid(b1), s->stable, &c, 1, &f);
		if (rc && rc != -EFAULT)	/* -EFAULT: the mm exited */
			note_bad(s, "DMA while bound", rc);
		if (b2)
			sio_sva_unbind_device(b2);
		sio_sva_unbind_device(b1);
	}
	return NULL;
}

/* DMA from every device on the mm's PASID, bound or not, each thread in
 * its own bytes of the pages (devices racing on memory is not the point). */
static void *dma_storm(void *p)
{
	struct thread_arg *a = p;
	struct storm *s = a->s;
	uint64_t slot = 64 * (uint64_t)(a->i + 1);
	unsigned int n = 0;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		sio_pasid_t pasid = sio_sva_mm_pasid(s->mm);
		struct sio_device *dev = s->dev[n++ % NDEV];
		struct sio_dma_fault f;
		uint64_t at = ((n & 1) ? s->stable : s->churn + (n % 4) * PG) + slot;
		char buf[16] = "dma";
		int rc;

		if (pasid == SIO_PASID_INVALID) {
			sched_yield();
			continue;
		}
		rc = (n & 2) ? sio_dma_write(dev, pasid, at, buf, sizeof(buf), &f) :
			       sio_dma_read(dev, pasid, at, buf, sizeof(buf), &f);
		if (rc && rc != -ENOENT && rc != -EFAULT)
			note_bad(s, "DMA", rc);
	}
	return NULL;
}

/* munmap, check nothing reaches the range any more, map it again. */
static void *remap_storm(void *p)
{
	struct storm *s = p;

	for (int it = 0; it < REMAP_ITERS; it++) {
		struct sio_dma_fault f;
		uint64_t got;
		char c;
		int rc = sio_mm_munmap(s->mm, s->churn, 4 * PG);

		if (rc == -ESRCH)
			break;
		if (rc)
			note_bad(s, "munmap", rc);
		for (int d = 0; d < NDEV; d++) {
			sio_pasid_t pasid = sio_sva_mm_pasid(s->mm);

			if (pasid == SIO_PASID_INVALID)
				continue;
			rc = sio_dma_read(s->dev[d], pasid, s->churn + 8, &c, 1, &f);
			if (rc != -EFAULT && rc != -ENOENT)
				note_bad(s, "DMA right after munmap", rc);
		}
		rc = sio_mm_mmap(s->mm, s->churn, 4 * PG, RW,
				 SIO_MM_MAP_FIXED | SIO_MM_MAP_POPULATE, &got);
		if (rc == -ESRCH)
			break;
		if (rc)
			note_bad(s, "mmap", rc);
		__atomic_add_fetch(&s->remaps, 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&s->remaps, REMAP_ITERS, __ATOMIC_RELEASE);
	return NULL;
}

static void test_bind_storm_munmap_and_exit(void **state)
{
	struct sio_soft_config cfg = { .format = SIO_PT_X86_64, .pasid_bits = 20,
				       .default_domain_type = SIO_DOMAIN_BLOCKED };
	struct storm s = { .first_pasid = SIO_PASID_INVALID };
	struct thread_arg args[NDEV], dargs[2];
	pthread_t bt[NDEV], dt[2], rt;
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_dma_fault f;
	char c;

	(void)state;
	assert_int_equal(sio_system_create(&sys), 0);
	assert_int_equal(sio_soft_iommu_create(sys, "soft", &cfg, &iommu), 0);
	for (int i = 0; i < NDEV; i++) {
		struct sio_device_desc desc = { .pasid_bits = 20 };

		assert_int_equal(sio_device_probe(iommu, &desc, &s.dev[i]), 0);
	}
	assert_int_equal(sio_mm_create(&s.mm), 0);
	sio_mm_grab(s.mm);		/* the structure outlives the exit */
	assert_int_equal(sio_mm_mmap(s.mm, 0, PG, RW, SIO_MM_MAP_POPULATE,
				     &s.stable), 0);
	assert_int_equal(sio_mm_mmap(s.mm, 0, 4 * PG, RW, SIO_MM_MAP_POPULATE,
				     &s.churn), 0);

	for (int i = 0; i < NDEV; i++) {
		args[i] = (struct thread_arg){ &s, i };
		assert_int_equal(pthread_create(&bt[i], NULL, bind_storm, &args[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		dargs[i] = (struct thread_arg){ &s, i };
		assert_int_equal(pthread_create(&dt[i], NULL, dma_storm, &dargs[i]), 0);
	}
	assert_int_equal(pthread_create(&rt, NULL, remap_storm, &s), 0);

	/* The process exits half-way through the remaps, once the devices
	 * have been bound a few times each. */
	while (__atomic_load_n(&s.remaps, __ATOMIC_ACQUIRE) < REMAP_ITERS / 2 ||
	       __atomic_load_n(&s.binds, __ATOMIC_ACQUIRE) < NDEV * 10)
		sched_yield();
	sio_mm_put(s.mm);

	assert_int_equal(pthread_join(rt, NULL), 0);
	for (int i = 0; i < NDEV; i++)
		assert_int_equal(pthread_join(bt[i], NULL), 0);
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(dt[i], NULL), 0);

	assert_int_equal(s.bad, 0);
	assert_true(sio_mm_exited(s.mm));
	assert_int_equal(sio_sva_mm_domains(s.mm), 0);
	if (s.first_pasid != SIO_PASID_INVALID)
		assert_int_equal(sio_dma_read(s.dev[0], s.first_pasid, s.stable, &c, 1,
					      &f), -ENOENT);
	sio_mm_drop(s.mm);
	for (int i = 0; i < NDEV; i++) {
		sio_device_remove(s.dev[i]);
		sio_device_put(s.dev[i]);
	}
	assert_int_equal(sio_system_destroy(sys), 0);
}

struct short_arg {
	struct sio_device *dev;
	int id;
	int bad;
};

/* One short-lived process after another, each bound and used by dev. */
static void *short_lives(void *p)
{
	struct short_arg *a = p;

	for (int it = 0; it < SHORT_ITERS; it++) {
		struct sio_pasid_space *space =
			sio_system_pasid_space(sio_iommu_system(sio_device_iommu(a->dev)));
		struct sio_pasid_info info;
		struct sio_dma_fault f;
		struct sio_sva *bond;
		struct sio_mm *mm;
		char want[16], got[16];
		uint64_t va;

		snprintf(want, sizeof(want), "t%d-%d", a->id, it);
		if (sio_mm_create(&mm) ||
		    sio_mm_mmap(mm, 0, PG, RW, SIO_MM_MAP_POPULATE, &va) ||
		    sio_sva_bind_device(a->dev, mm, &bond)) {
			a->bad++;
			continue;
		}
		if (sio_pasid_find(space, NULL, sio_sva_get_pasid(bond), &info) ||
		    info.token != mm)
			a->bad++;
		if (sio_dma_write(a->dev, sio_sva_get_pasid(bond), va, want,
				  sizeof(want), &f) ||
		    sio_mm_read(mm, va, got, sizeof(got)) || strcmp(want, got))
			a->bad++;
		if (it & 1) {
			sio_mm_grab(mm);
			sio_mm_put(mm);		/* exit while bound */
			if (sio_dma_read(a->dev, sio_sva_get_pasid(bond), va, got, 1,
					 &f) != -EFAULT)
				a->bad++;
			sio_sva_unbind_device(bond);
			sio_mm_drop(mm);
		} else {
			sio_sva_unbind_device(bond);
			sio_mm_put(mm);
		}
	}
	return NULL;
}

static void test_many_short_lived_mms(void **state)
{
	struct sio_soft_config cfg = { .format = SIO_PT_X86_64, .pasid_bits = 20,
				       .default_domain_type = SIO_DOMAIN_BLOCKED };
	struct short_arg args[NDEV];
	pthread_t t[NDEV];
	struct sio_system *sys;
	struct sio_iommu *iommu;

	(void)state;
	assert_int_equal(sio_system_create(&sys), 0);
	assert_int_equal(sio_soft_iommu_create(sys, "soft", &cfg, &iommu), 0);
	for (int i = 0; i < NDEV; i++) {
		struct sio_device_desc desc = { .pasid_bits = 20 };

		args[i] = (struct short_arg){ .id = i };
		assert_int_equal(sio_device_probe(iommu, &desc, &args[i].dev), 0);
		assert_int_equal(pthread_create(&t[i], NULL, short_lives, &args[i]), 0);
	}
	for (int i = 0; i < NDEV; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(args[i].bad, 0);
		sio_device_remove(args[i].dev);
		sio_device_put(args[i].dev);
	}
	/* Every PASID went back with its mm. */
	assert_int_equal(sio_pasid_space_available(sio_system_pasid_space(sys)),
			 (1u << 20) - 1);
	assert_int_equal(sio_system_destroy(sys), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind_storm_munmap_and_exit),
		cmocka_unit_test(test_many_short_lived_mms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
