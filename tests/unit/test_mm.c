/*
 * Process address spaces: mmap (hinted, fixed, populated), demand faults
 * and the CPU's loads and stores, munmap splitting mappings, mprotect
 * (including PROT_NONE keeping the data), the x86-64 page table underneath,
 * invalidation notifiers called before munmap/mprotect return, exit with
 * release() first, and the errors of bad input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "softiommu/softiommu.h"

#define PG SIO_MM_PAGE_SIZE
#define RW (SIO_PROT_READ | SIO_PROT_WRITE)

static struct sio_mm *mm_new(void)
{
	struct sio_mm *mm = NULL;

	assert_int_equal(sio_mm_create(&mm), 0);
	return mm;
}

static uint64_t map_ok(struct sio_mm *mm, uint64_t addr, uint64_t len,
		       unsigned int prot, unsigned int flags)
{
	uint64_t out = 0;

	assert_int_equal(sio_mm_mmap(mm, addr, len, prot, flags, &out), 0);
	return out;
}

static struct sio_mm_stats stats(struct sio_mm *mm)
{
	struct sio_mm_stats st;

	sio_mm_stats(mm, &st);
	return st;
}

static void test_mmap_fault_read_write(void **state)
{
	struct sio_mm *mm = mm_new();
	struct sio_xlate x;
	char buf[64];
	uint64_t a;

	(void)state;
	a = map_ok(mm, 0, 3 * PG, RW, 0);
	assert_int_equal(a, SIO_MM_MIN_ADDR);
	assert_int_equal(stats(mm).pages, 0);
	/* Nothing is present until touched. */
	assert_int_equal(sio_mm_lookup(mm, a, &x), -ENOENT);
	assert_int_equal(sio_mm_read(mm, a + PG + 8, buf, 8), 0);
	assert_memory_equal(buf, "\0\0\0\0\0\0\0\0", 8);
	assert_int_equal(stats(mm).faults, 1);
	/* A store across a page boundary populates the next page. */
	assert_int_equal(sio_mm_write(mm, a + 2 * PG - 3, "abcdef", 6), 0);
	assert_int_equal(stats(mm).pages, 2);
	assert_int_equal(sio_mm_read(mm, a + 2 * PG - 3, buf, 6), 0);
	assert_memory_equal(buf, "abcdef", 6);
	/* The CPU table is x86-64: the leaf maps the page, writable. */
	assert_int_equal(sio_mm_lookup(mm, a + 2 * PG, &x), 0);
	assert_int_equal(x.page_size, PG);
	assert_int_equal(x.prot & RW, RW);
	assert_memory_equal((void *)(uintptr_t)x.phys, "def", 3);
	/* Outside any mapping. */
	assert_int_equal(sio_mm_read(mm, a + 3 * PG, buf, 1), -EFAULT);
	assert_int_equal(sio_mm_fault(mm, 0x1000, SIO_PROT_READ), -EFAULT);

	/* Hints: the lowest free range at or above. */
	assert_int_equal(map_ok(mm, a, PG, RW, 0), a + 3 * PG);
	assert_int_equal(map_ok(mm, 0x40000000, PG, RW, 0), 0x40000000);
	sio_mm_put(mm);
}

static void test_populate_and_fixed(void **state)
{
	struct sio_mm *mm = mm_new();
	uint64_t a, b;
	char c;

	(void)state;
	a = map_ok(mm, 0x100000, 4 * PG, RW, SIO_MM_MAP_POPULATE);
	assert_int_equal(stats(mm).pages, 4);
	assert_int_equal(sio_mm_write(mm, a + PG, "x", 1), 0);
	/* FIXED over the middle replaces it with fresh zeroed memory. */
	b = map_ok(mm, a + PG, PG, SIO_PROT_READ, SIO_MM_MAP_FIXED);
	assert_int_equal(b, a + PG);
	assert_int_equal(stats(mm).vmas, 3);
	assert_int_equal(stats(mm).pages, 3);
	assert_int_equal(sio_mm_read(mm, b, &c, 1), 0);
	assert_int_equal(c, 0);
	assert_int_equal(sio_mm_write(mm, b, "y", 1), -EACCES);
	assert_int_equal(sio_mm_mmap(mm, a + 1, PG, RW, SIO_MM_MAP_FIXED, &b), -EINVAL);
	assert_int_equal(sio_mm_mmap(mm, SIO_MM_TASK_SIZE - PG, 2 * PG, RW,
				     SIO_MM_MAP_FIXED, &b), -EINVAL);
	assert_int_equal(sio_mm_mmap(mm, 0, 0, RW, 0, &b), -EINVAL);
	assert_int_equal(sio_mm_mmap(mm, 0, PG, RW, 0x80, &b), -EINVAL);
	assert_int_equal(sio_mm_mmap(mm, 0, PG, 0x10, 0, &b), -EINVAL);
	assert_int_equal(sio_mm_mmap(mm, 0, SIO_MM_TASK_SIZE, RW, 0, &b), -ENOMEM);
	assert_int_equal(sio_mm_mmap(mm, UINT64_MAX, PG, RW, 0, &b), -ENOMEM);
	sio_mm_put(mm);
}

static void test_munmap_splits(void **state)
{
	struct sio_mm *mm = mm_new();
	struct sio_xlate x;
	uint64_t a;
	char c = 'q';

	(void)state;
	a = map_ok(mm, 0, 8 * PG, RW, SIO_MM_MAP_POPULATE);
	assert_int_equal(sio_mm_munmap(mm, a + 2 * PG, 3 * PG), 0);
	assert_int_equal(stats(mm).vmas, 2);
	assert_int_equal(stats(mm).pages, 5);
	assert_int_equal(sio_mm_lookup(mm, a + 2 * PG, &x), -ENOENT);
	assert_int_equal(sio_mm_read(mm, a + 3 * PG, &c, 1), -EFAULT);
	assert_int_equal(sio_mm_read(mm, a + PG, &c, 1), 0);
	assert_int_equal(sio_mm_read(mm, a + 5 * PG, &c, 1), 0);
	/* The hole is reused by the next mmap. */
	assert_int_equal(map_ok(mm, 0, 2 * PG, RW, 0), a + 2 * PG);
	/* Nothing there: fine; bad ranges: -EINVAL. */
	assert_int_equal(sio_mm_munmap(mm, 0x7000000000, PG), 0);
	assert_int_equal(sio_mm_munmap(mm, a + 1, PG), -EINVAL);
	assert_int_equal(sio_mm_munmap(mm, a, 0), -EINVAL);
	assert_int_equal(sio_mm_munmap(mm, SIO_MM_TASK_SIZE, PG), -EINVAL);
	/* Unaligned length rounds up. */
	assert_int_equal(sio_mm_munmap(mm, a, 1), 0);
	assert_int_equal(sio_mm_lookup(mm, a, &x), -ENOENT);
	assert_int_equal(stats(mm).pages, 4);
	sio_mm_put(mm);
}

static void test_mprotect(void **state)
{
	struct sio_mm *mm = mm_new();
	struct sio_xlate x;
	uint64_t a;
	char buf[4];

	(void)state;
	a = map_ok(mm, 0, 4 * PG, RW, 0);
	assert_int_equal(sio_mm_write(mm, a + PG, "keep", 4), 0);
	assert_int_equal(sio_mm_mprotect(mm, a + PG, PG, SIO_PROT_READ), 0);
	assert_int_equal(stats(mm).vmas, 3);
	assert_int_equal(sio_mm_lookup(mm, a + PG, &x), 0);
	assert_int_equal(x.prot & SIO_PROT_WRITE, 0);
	assert_int_equal(sio_mm_write(mm, a + PG, "x", 1), -EACCES);
	assert_int_equal(sio_mm_write(mm, a, "x", 1), 0);
	/* PROT_NONE: out of the CPU table, data kept for later. */
	assert_int_equal(sio_mm_mprotect(mm, a + PG, PG, 0), 0);
	assert_int_equal(sio_mm_lookup(mm, a + PG, &x), -ENOENT);
	assert_int_equal(sio_mm_read(mm, a + PG, buf, 1), -EACCES);
	assert_int_equal(sio_mm_mprotect(mm, a, 4 * PG, RW), 0);
	assert_int_equal(sio_mm_read(mm, a + PG, buf, 4), 0);
	assert_memory_equal(buf, "keep", 4);
	/* A hole in the range: nothing changes. */
	assert_int_equal(sio_mm_munmap(mm, a + 2 * PG, PG), 0);
	assert_int_equal(sio_mm_mprotect(mm, a, 4 * PG, SIO_PROT_READ), -ENOMEM);
	assert_int_equal(sio_mm_write(mm, a, "y", 1), 0);
	assert_int_equal(sio_mm_mprotect(mm, a, PG, 0x8), -EINVAL);
	sio_mm_put(mm);
}

/* A notifier that checks the page table is already changed when it is
 * called, and records the ranges. */
struct watch {
	struct sio_mm_notifier mn;
	struct sio_mm *mm;
	uint64_t start, end;
	unsigned int calls, releases, present_in_range;
};

static void watch_invalidate(struct sio_mm_notifier *mn, uint64_t start,
			     uint64_t end)
{
	struct watch *w = sio_container_of(mn, struct watch, mn);
	struct sio_xlate x;

	w->calls++;
	w->start = start;
	w->end = end;
	if (!sio_mm_lookup(w->mm, start, &x) && !(x.prot & SIO_PROT_WRITE))
		w->present_in_range++;	/* mprotect to read-only: new leaf */
}

static void watch_release(struct sio_mm_notifier *mn)
{
	sio_container_of(mn, struct watch, mn)->releases++;
}

static const struct sio_mm_notifier_ops watch_ops = {
	.invalidate = watch_invalidate,
	.release = watch_release,
};

static void test_notifiers(void **state)
{
	struct sio_mm *mm = mm_new();
	struct watch w = { .mn.ops = &watch_ops, .mm = mm };
	struct watch w2 = { .mn.ops = &watch_ops, .mm = mm };
	struct sio_mm_notifier none = { 0 };
	uint64_t a;

	(void)state;
	assert_int_equal(sio_mm_notifier_register(mm, &w.mn), 0);
	assert_int_equal(sio_mm_notifier_register(mm, &w.mn), -EBUSY);
	assert_int_equal(sio_mm_notifier_register(mm, &none), -EINVAL);
	assert_int_equal(sio_mm_notifier_register(mm, &w2.mn), 0);
	a = map_ok(mm, 0, 4 * PG, RW, SIO_MM_MAP_POPULATE);
	assert_int_equal(w.calls, 0);		/* new pages need no flush */
	assert_int_equal(sio_mm_mprotect(mm, a, PG, SIO_PROT_READ), 0);
	assert_int_equal(w.calls, 1);
	assert_int_equal(w.start, a);
	assert_int_equal(w.end, a + PG);
	assert_int_equal(w.present_in_range, 1);
	assert_int_equal(sio_mm_munmap(mm, a + PG, 2 * PG), 0);
	assert_int_equal(w.calls, 2);
	assert_int_equal(w.start, a + PG);
	assert_int_equal(w.end, a + 3 * PG);
	assert_int_equal(w2.calls, 2);
	/* Unmapping where nothing is mapped changes nothing. */
	assert_int_equal(sio_mm_munmap(mm, 0x50000000, PG), 0);
	assert_int_equal(w.calls, 2);
	assert_int_equal(stats(mm).invalidations, 2);
	sio_mm_notifier_unregister(&w2.mn);
	assert_int_equal(sio_mm_munmap(mm, a, PG), 0);
	assert_int_equal(w.calls, 3);
	assert_int_equal(w2.calls, 2);

	/* Exit: release() once, then the mm refuses changes. */
	sio_mm_grab(mm);
	sio_mm_put(mm);
	assert_true(sio_mm_exited(mm));
	assert_int_equal(w.releases, 1);
	assert_int_equal(stats(mm).pages, 0);
	assert_int_equal(stats(mm).vmas, 0);
	assert_int_equal(sio_mm_mmap(mm, 0, PG, RW, 0, &a), -ESRCH);
	assert_int_equal(sio_mm_munmap(mm, a, PG), -ESRCH);
	assert_int_equal(sio_mm_mprotect(mm, a, PG, RW), -ESRCH);
	assert_int_equal(sio_mm_fault(mm, a, SIO_PROT_READ), -ESRCH);
	assert_int_equal(sio_mm_notifier_register(mm, &w2.mn), -ESRCH);
	assert_false(sio_mm_get_not_zero(mm));
	sio_mm_notifier_unregister(&w.mn);
	sio_mm_drop(mm);
}

static void test_refcounts(void **state)
{
	struct sio_mm *mm = mm_new();
	uint64_t a;

	(void)state;
	a = map_ok(mm, 0, PG, RW, SIO_MM_MAP_POPULATE);
	sio_mm_get(mm);
	assert_true(sio_mm_get_not_zero(mm));
	sio_mm_put(mm);
	sio_mm_put(mm);
	assert_false(sio_mm_exited(mm));
	assert_int_equal(sio_mm_write(mm, a, "z", 1), 0);
	sio_mm_put(mm);			/* exits and frees: ASan checks */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mmap_fault_read_write),
		cmocka_unit_test(test_populate_and_fixed),
		cmocka_unit_test(test_munmap_splits),
		cmocka_unit_test(test_mprotect),
		cmocka_unit_test(test_notifiers),
		cmocka_unit_test(test_refcounts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
