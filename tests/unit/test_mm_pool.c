/*
 * The mm's page pool: every page a fault hands out reads as zero, whether
 * fresh from a batch or recycled after an munmap that had dirtied it; no
 * page is handed out twice; what munmap frees is kept up to the pool's
 * bound and the rest goes back to the kernel; exit and the last drop
 * return every page (mm_pool_mapped_pages() back where it started).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mm/pool.h"
#include "softiommu/softiommu.h"

#define PG SIO_MM_PAGE_SIZE
#define RW (SIO_PROT_READ | SIO_PROT_WRITE)
/* More than a batch, and not a multiple of one. */
#define NPAGES (3 * MM_POOL_BATCH + 7)

static struct sio_mm_stats stats(struct sio_mm *mm)
{
	struct sio_mm_stats st;

	sio_mm_stats(mm, &st);
	return st;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Fault in npages at a, check each reads all zero, then dirty it; the
 * host pages into phys. */
static void fault_check_dirty(struct sio_mm *mm, uint64_t a, size_t npages,
			      uint64_t *phys)
{
	static unsigned char buf[PG], zero[PG];

	for (size_t i = 0; i < npages; i++) {
		struct sio_xlate x;

		assert_int_equal(sio_mm_fault(mm, a + i * PG, SIO_PROT_WRITE), 0);
		assert_int_equal(sio_mm_read(mm, a + i * PG, buf, PG), 0);
		assert_memory_equal(buf, zero, PG);
		memset(buf, 0xa5, PG);
		assert_int_equal(sio_mm_write(mm, a + i * PG, buf, PG), 0);
		assert_int_equal(sio_mm_lookup(mm, a + i * PG, &x), 0);
		phys[i] = x.phys;
	}
}

static void assert_unique(uint64_t *phys, size_t n)
{
	qsort(phys, n, sizeof(*phys), cmp_u64);
	for (size_t i = 1; i < n; i++)
		assert_true(phys[i] >= phys[i - 1] + PG);
}

static void test_zero_and_unique(void **state)
{
	static uint64_t first[NPAGES], second[NPAGES], both[2 * NPAGES];
	uint64_t base = mm_pool_mapped_pages();
	struct sio_mm *mm = NULL;
	size_t reused = 0;
	uint64_t a;

	(void)state;
	assert_int_equal(sio_mm_create(&mm), 0);
	assert_int_equal(sio_mm_mmap(mm, 0, NPAGES * PG, RW, 0, &a), 0);
	fault_check_dirty(mm, a, NPAGES, first);
	memcpy(both, first, sizeof(first));
	assert_unique(both, NPAGES);
	assert_int_equal(stats(mm).pages, NPAGES);
	assert_true(mm_pool_mapped_pages() - base >= NPAGES);

	/* munmap keeps the dirtied pages; the next faults get them back,
	 * zeroed. */
	assert_int_equal(sio_mm_munmap(mm, a, NPAGES * PG), 0);
	assert_int_equal(stats(mm).pages, 0);
	assert_true(stats(mm).pool >= NPAGES);
	assert_int_equal(mm_pool_mapped_pages() - base, stats(mm).pool);
	assert_int_equal(sio_mm_mmap(mm, a, NPAGES * PG, RW, SIO_MM_MAP_FIXED,
				     &a), 0);
	fault_check_dirty(mm, a, NPAGES, second);
	memcpy(both + NPAGES, second, sizeof(second));
	assert_unique(both + NPAGES, NPAGES);
	qsort(first, NPAGES, sizeof(*first), cmp_u64);
	for (size_t i = 0; i < NPAGES; i++)
		reused += bsearch(&second[i], first, NPAGES, sizeof(*first),
				  cmp_u64) != NULL;
	assert_int_equal(reused, NPAGES);

	/* Two mms never share a page either. */
	{
		static uint64_t other[NPAGES];
		struct sio_mm *mm2 = NULL;
		uint64_t b;

		assert_int_equal(sio_mm_create(&mm2), 0);
		assert_int_equal(sio_mm_mmap(mm2, 0, NPAGES * PG, RW, 0, &b), 0);
		fault_check_dirty(mm2, b, NPAGES, other);
		for (size_t i = 0; i < NPAGES; i++)
			assert_null(bsearch(&other[i], second, NPAGES,
					    sizeof(*second), cmp_u64));
		sio_mm_put(mm2);
	}

	/* Exit returns the populated pages and the pool's. */
	sio_mm_put(mm);
	assert_int_equal(mm_pool_mapped_pages(), base);
}

static void test_bound_and_teardown(void **state)
{
	const size_t n = MM_POOL_MAX + 2 * MM_POOL_BATCH + 3;
	uint64_t base = mm_pool_mapped_pages();
	struct sio_mm *mm = NULL;
	uint64_t a;
	char c;

	(void)state;
	assert_int_equal(sio_mm_create(&mm), 0);
	assert_int_equal(sio_mm_mmap(mm, 0, n * PG, RW, SIO_MM_MAP_POPULATE,
				     &a), 0);
	assert_int_equal(stats(mm).pages, n);
	/* munmap keeps at most MM_POOL_MAX; the rest went back. */
	assert_int_equal(sio_mm_munmap(mm, a, n * PG), 0);
	assert_true(stats(mm).pool <= MM_POOL_MAX);
	assert_true(stats(mm).pool >= MM_POOL_MAX - MM_POOL_BATCH);
	assert_int_equal(mm_pool_mapped_pages() - base, stats(mm).pool);

	/* An mm kept alive by a count after exit: exit returned its pages
	 * but the structure (and its pool) lives until the last drop. */
	assert_int_equal(sio_mm_mmap(mm, a, 5 * PG, RW, SIO_MM_MAP_FIXED, &a), 0);
	assert_int_equal(sio_mm_write(mm, a + 4 * PG, "x", 1), 0);
	sio_mm_grab(mm);
	sio_mm_put(mm);
	assert_true(sio_mm_exited(mm));
	assert_int_equal(stats(mm).pages, 0);
	assert_int_equal(sio_mm_read(mm, a, &c, 1), -ESRCH);
	assert_int_equal(mm_pool_mapped_pages() - base, stats(mm).pool);
	sio_mm_drop(mm);
	assert_int_equal(mm_pool_mapped_pages(), base);
}

/* mprotect to PROT_NONE keeps a page's data; it is not recycled. */
static void test_prot_none_keeps_page(void **state)
{
	uint64_t base = mm_pool_mapped_pages();
	struct sio_mm *mm = NULL;
	char buf[4];
	uint64_t a;

	(void)state;
	assert_int_equal(sio_mm_create(&mm), 0);
	assert_int_equal(sio_mm_mmap(mm, 0, 2 * PG, RW, 0, &a), 0);
	assert_int_equal(sio_mm_write(mm, a, "abc", 4), 0);
	assert_int_equal(sio_mm_mprotect(mm, a, 2 * PG, 0), 0);
	assert_int_equal(stats(mm).pages, 1);
	assert_int_equal(sio_mm_mprotect(mm, a, 2 * PG, RW), 0);
	assert_int_equal(sio_mm_read(mm, a, buf, 4), 0);
	assert_string_equal(buf, "abc");
	assert_int_equal(sio_mm_read(mm, a + PG, buf, 4), 0);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	sio_mm_put(mm);
	assert_int_equal(mm_pool_mapped_pages(), base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zero_and_unique),
		cmocka_unit_test(test_bound_and_teardown),
		cmocka_unit_test(test_prot_none_keeps_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
