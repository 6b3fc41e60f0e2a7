/*
 * I/O page tables under concurrency: reader threads translate (and mark
 * pages dirty, as devices do) inside RCU read sections while one writer
 * maps and unmaps, freeing table pages only after sio_rcu_synchronize().
 *
 * Every mapping the writer makes translates iova to iova + OFF, whatever
 * its page size, so a reader can check any translation it sees without
 * knowing the writer's state: a torn entry, a stale table reused for
 * something else or a freed page (ASan/TSan) shows up as a wrong address,
 * a wrong size or a sanitizer report.
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

#include "softiommu/pgtable.h"
#include "pgtable/pt_format.h"
#include "util/rcu.h"

#define OFF (1ull << 32)
#define SLOTS 8
#define NREADERS 3
#define RW (SIO_PROT_READ | SIO_PROT_WRITE)

struct shared {
	struct sio_pt *pt;
	uint64_t base, min, big;
	int stop;
	uint64_t hits;
	uint64_t misses;
	uint64_t errors;
	uint64_t progress;	/* batches of lookups done by all readers */
};

static uint64_t xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *reader(void *arg)
{
	struct shared *sh = arg;
	uint64_t seed = (uintptr_t)&seed | 1, hits = 0, misses = 0, errs = 0;
	uint64_t span = SLOTS * sh->big;

	while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
		for (int i = 0; i < 64; i++) {
			uint64_t iova = sh->base + xs(&seed) % span;
			struct sio_xlate x;
			int rc;

			sio_rcu_read_lock();
			rc = sio_pt_lookup(sh->pt, iova, &x);
			if (rc == 0) {
				hits++;
				if (x.phys != iova + OFF ||
				    (x.page_size != sh->min &&
				     x.page_size != sh->big) ||
				    !(x.prot & SIO_PROT_READ))
					errs++;
				/* A device write: marks the leaf dirty. */
				if (sh->pt->dirty_ok && (i & 7) == 0) {
					rc = sio_pt_set_dirty(sh->pt, iova);
					if (rc && rc != -ENOENT)
						errs++;
				}
			} else if (rc == -ENOENT) {
				misses++;
			} else {
				errs++;
			}
			sio_rcu_read_unlock();
		}
		/* Published per sweep: the writer runs on until both states
		 * were seen. */
		__atomic_fetch_add(&sh->hits, hits, __ATOMIC_RELAXED);
		__atomic_fetch_add(&sh->misses, misses, __ATOMIC_RELAXED);
		hits = misses = 0;
		__atomic_fetch_add(&sh->progress, 1, __ATOMIC_RELAXED);
	}
	__atomic_fetch_add(&sh->errors, errs, __ATOMIC_RELAXED);
	return NULL;
}

static void count_dirty(void *arg, uint64_t iova, uint64_t len)
{
	(void)iova;
	*(uint64_t *)arg += len;
}

enum slot_state { EMPTY, FULL_SMALL, PART_SMALL, BIG };

static void run(const struct sio_pt_cfg *cfg, unsigned int ops)
{
	struct shared sh = { 0 };
	pthread_t th[NREADERS];
	enum slot_state st[SLOTS] = { EMPTY };
	struct sio_iotlb_gather g;
	struct sio_pt_mem_stats before, after;
	uint64_t seed = 12345, n, dirty = 0;
	unsigned int pending = 0;

	sio_pt_mem_stats(&before);
	assert_int_equal(sio_pt_create(cfg, &sh.pt), 0);
	sh.min = sio_pt_pgsize_bitmap(sh.pt) & -sio_pt_pgsize_bitmap(sh.pt);
	sh.big = sh.pt->leaf_sizes[1] & -sh.pt->leaf_sizes[1];
	sh.base = 4 * sh.big;
	n = sh.big / sh.min;
	for (int i = 0; i < NREADERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, &sh), 0);

	sio_iotlb_gather_init(&g);
	/* Run at least "ops" operations, and on until the readers have done
	 * real work, seen both a mapped and an unmapped IOVA and (with dirty
	 * tracking) dirtied something, however the threads were scheduled. */
	for (unsigned int op = 0;
	     op < ops ||
	     (op < 100 * ops &&
	      (__atomic_load_n(&sh.progress, __ATOMIC_RELAXED) < 100 ||
	       !__atomic_load_n(&sh.hits, __ATOMIC_RELAXED) ||
	       !__atomic_load_n(&sh.misses, __ATOMIC_RELAXED) ||
	       ((cfg->features & SIO_PT_FEAT_DIRTY) && !dirty)));
	     op++) {
		unsigned int s = (unsigned int)(xs(&seed) % SLOTS);
		uint64_t iova = sh.base + s * sh.big;

		/* Past "ops", the readers are behind: let them run. */
		if (op >= ops)
			sched_yield();
		size_t mapped;

		switch (st[s]) {
		case EMPTY:
			switch (xs(&seed) % 3) {
			case 0:	/* a whole level-0 table in one call */
				assert_int_equal(sio_pt_map_pages(
					sh.pt, iova, iova + OFF, sh.min, n, RW,
					&mapped), 0);
				st[s] = FULL_SMALL;
				break;
			case 1:	/* a large leaf (may replace an empty
				 * level-0 table left by PART_SMALL) */
				assert_int_equal(sio_pt_map_pages(
					sh.pt, iova, iova + OFF, sh.big, 1, RW,
					&mapped), 0);
				st[s] = BIG;
				break;
			default: /* a few pages: the table stays */
				for (uint64_t k = 0; k < n; k += n / 8)
					assert_int_equal(sio_pt_map_pages(
						sh.pt, iova + k * sh.min,
						iova + k * sh.min + OFF,
						sh.min, 3, RW, &mapped), 0);
				st[s] = PART_SMALL;
				break;
			}
			break;
		case FULL_SMALL:
			/* Frees the level-0 table through the gather. */
			assert_int_equal(sio_pt_unmap_pages(sh.pt, iova, sh.min,
							    n, &g), sh.big);
			st[s] = EMPTY;
			pending++;
			break;
		case BIG:
			assert_int_equal(sio_pt_unmap_pages(sh.pt, iova, sh.big,
							    1, &g), sh.big);
			st[s] = EMPTY;
			pending++;
			break;
		case PART_SMALL:
			for (uint64_t k = 0; k < n; k += n / 8)
				assert_int_equal(sio_pt_unmap_pages(
					sh.pt, iova + k * sh.min, sh.min, 3,
					&g), 3 * sh.min);
			st[s] = EMPTY;
			pending++;
			break;
		}
		if (sh.pt->dirty_ok && op % 16 == 0)
			assert_int_equal(sio_pt_read_and_clear_dirty(
				sh.pt, sh.base, SLOTS * sh.big, 0,
				count_dirty, &dirty), 0);
		/* Release freed tables in batches, after a grace period. */
		if (pending >= 4) {
			sio_rcu_synchronize();
			sio_pt_free_deferred(g.freelist);
			sio_iotlb_gather_init(&g);
			pending = 0;
		}
	}
	__atomic_store_n(&sh.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(th[i], NULL);
	sio_pt_free_deferred(g.freelist);
	sio_pt_destroy(sh.pt);

	sio_pt_mem_stats(&after);
	assert_int_equal(after.pages, before.pages);
	assert_int_equal(sh.errors, 0);
	/* The readers really saw both states. */
	assert_true(sh.hits > 0);
	assert_true(sh.misses > 0);
	if (cfg->features & SIO_PT_FEAT_DIRTY)
		assert_true(dirty > 0);
}

static void t_mock(void **state)
{
	(void)state;
	run(&(struct sio_pt_cfg){ .format = SIO_PT_MOCK }, 600);
}

static void t_amdv1(void **state)
{
	(void)state;
	run(&(struct sio_pt_cfg){ .format = SIO_PT_AMD_V1 }, 600);
}

static void t_x86(void **state)
{
	(void)state;
	run(&(struct sio_pt_cfg){ .format = SIO_PT_X86_64,
				  .features = SIO_PT_FEAT_DIRTY }, 600);
}

static void t_arm_s1(void **state)
{
	(void)state;
	run(&(struct sio_pt_cfg){ .format = SIO_PT_ARM_LPAE_S1,
				  .features = SIO_PT_FEAT_DIRTY }, 600);
}

static void t_arm_s2_16k(void **state)
{
	(void)state;
	run(&(struct sio_pt_cfg){ .format = SIO_PT_ARM_LPAE_S2,
				  .granule_lg2 = 14 }, 200);
}

static void t_vtd(void **state)
{
	(void)state;
	run(&(struct sio_pt_cfg){ .format = SIO_PT_VTD_SS }, 600);
}

static void t_riscv(void **state)
{
	(void)state;
	run(&(struct sio_pt_cfg){ .format = SIO_PT_RISCV_SV48,
				  .features = SIO_PT_FEAT_DIRTY }, 600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_mock),
		cmocka_unit_test(t_amdv1),
		cmocka_unit_test(t_x86),
		cmocka_unit_test(t_arm_s1),
		cmocka_unit_test(t_arm_s2_16k),
		cmocka_unit_test(t_vtd),
		cmocka_unit_test(t_riscv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
