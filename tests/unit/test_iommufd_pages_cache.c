/*
 * The per-IOAS cache of unmapped iopt_pages (src/iommufd/pages.c): a range
 * taken back for a new IOAS_MAP carries nothing of its former mapping (no
 * pin counted by MD_CHECK_REFS, the domain maps the new memory), answers
 * bad arguments with the errnos of a fresh one, and an armed fail-nth
 * still reaches the allocation it replaces.  Also the free-range hint of
 * io_pagetable.c: a FIXED_IOVA map into the range unmapped last.
 */
#include "iommufd_helpers.h"
#include "softiommu/fault_inject.h"

static long check_map(struct fx *f, uint32_t hwpt, uint64_t iova,
		      uint64_t len, void *p)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_MD_CHECK_MAP, .id = hwpt,
		.check_map = { .iova = iova, .length = len,
			       .uptr = (uintptr_t)p },
	};

	return io(f, IOMMU_TEST_CMD, &c);
}

#define FIXED IOMMU_IOAS_MAP_FIXED_IOVA

/* Map and unmap in a loop over different pages: each reuse pins only its
 * own pages, and the old ones count no pin. */
static void test_reuse_has_no_old_pins(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), stdev, hwpt;
	uint64_t base = MOCK_APERTURE_START;

	assert_int_equal(mock_domain(f, ioas, &stdev, &hwpt, NULL), 0);
	for (unsigned int round = 0; round < 3; round++) {
		for (unsigned int i = 0; i < 4; i++) {
			uint64_t iova = base;

			assert_int_equal(map(f, ioas, f->buf + i * PAGE, PAGE,
					     &iova, FIXED), 0);
			assert_int_equal(check_refs(f, f->buf + i * PAGE,
						    PAGE, 1), 0);
			for (unsigned int j = 0; j < 4; j++)
				if (j != i)
					assert_int_equal(check_refs(f,
						f->buf + j * PAGE, PAGE, 0), 0);
			assert_int_equal(check_map(f, hwpt, iova, PAGE,
						   f->buf + i * PAGE), 0);
			assert_int_equal(unmap(f, ioas, iova, PAGE, NULL), 0);
			assert_int_equal(check_refs(f, f->buf, 4 * PAGE, 0), 0);
		}
	}
	/* A larger range after small ones: its page count is its own. */
	{
		uint64_t iova = base;

		assert_int_equal(map(f, ioas, f->buf, 8 * PAGE, &iova, FIXED),
				 0);
		assert_int_equal(check_refs(f, f->buf, 8 * PAGE, 1), 0);
		assert_int_equal(check_map(f, hwpt, iova, 8 * PAGE, f->buf), 0);
		assert_int_equal(unmap(f, ioas, iova, 8 * PAGE, NULL), 0);
	}
	assert_int_equal(destroy(f, stdev), 0);
	assert_int_equal(destroy(f, ioas), 0);
}

/* Unmapped without a domain (nothing pinned), reused once a domain is
 * there: pinned then, and gone again at unmap. */
static void test_reuse_across_domain_attach(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), stdev, hwpt;
	uint64_t iova = MOCK_APERTURE_START;

	assert_int_equal(map(f, ioas, f->buf, PAGE, &iova, FIXED), 0);
	assert_int_equal(check_refs(f, f->buf, PAGE, 0), 0);
	assert_int_equal(unmap(f, ioas, iova, PAGE, NULL), 0);
	assert_int_equal(mock_domain(f, ioas, &stdev, &hwpt, NULL), 0);
	assert_int_equal(map(f, ioas, f->buf + PAGE, PAGE, &iova, FIXED), 0);
	assert_int_equal(check_refs(f, f->buf, PAGE, 0), 0);
	assert_int_equal(check_refs(f, f->buf + PAGE, PAGE, 1), 0);
	assert_int_equal(check_map(f, hwpt, iova, PAGE, f->buf + PAGE), 0);
	assert_int_equal(destroy(f, stdev), 0);
	assert_int_equal(check_refs(f, f->buf + PAGE, PAGE, 0), 0);
	assert_int_equal(unmap(f, ioas, iova, PAGE, NULL), 0);
	assert_int_equal(destroy(f, ioas), 0);
}

/* The same bad arguments on an IOAS with cached pages and on a fresh one
 * get the same answers. */
static void test_errnos_with_cache(void **state)
{
	struct fx *f = *state;
	uint32_t fresh = ioas_alloc(f), warm = ioas_alloc(f);
	struct {
		uint64_t uptr, len;
	} bad[] = {
		{ UINT64_MAX - PAGE + 1, 2 * PAGE },	/* uptr + length wraps */
		{ (uintptr_t)f->buf, 0 },		/* length 0 */
		{ (uintptr_t)f->buf + 1, PAGE },	/* fine: unaligned uptr */
	};
	uint64_t iova = MOCK_APERTURE_START;

	assert_int_equal(map(f, warm, f->buf, PAGE, &iova, FIXED), 0);
	assert_int_equal(unmap(f, warm, iova, PAGE, NULL), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t a = MOCK_APERTURE_START, b = MOCK_APERTURE_START;
		long r1 = map(f, fresh, (void *)(uintptr_t)bad[i].uptr,
			      bad[i].len, &a, FIXED);
		long r2 = map(f, warm, (void *)(uintptr_t)bad[i].uptr,
			      bad[i].len, &b, FIXED);

		assert_int_equal(r1, r2);
		if (!r1) {
			assert_int_equal(unmap(f, fresh, a, bad[i].len, NULL), 0);
			assert_int_equal(unmap(f, warm, b, bad[i].len, NULL), 0);
		}
	}
	/* An existing mapping: -EEXIST, and the cached range is not lost. */
	iova = MOCK_APERTURE_START;
	assert_int_equal(map(f, warm, f->buf, PAGE, &iova, FIXED), 0);
	assert_int_equal(map(f, warm, f->buf, PAGE, &iova, FIXED), -EEXIST);
	assert_int_equal(unmap(f, warm, iova, PAGE, NULL), 0);
	assert_int_equal(destroy(f, fresh), 0);
	assert_int_equal(destroy(f, warm), 0);
}

/* The range unmapped last is known free until something is added: a map
 * there after a reserved range or another area came still fails. */
static void test_free_hint(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), stdev, hwpt;
	uint64_t x = MOCK_APERTURE_START, iova = x, low = PAGE;

	/* Below the aperture, no domain yet: fine; then the domain reserves
	 * it, and the same map is -EINVAL. */
	assert_int_equal(map(f, ioas, f->buf, PAGE, &low, FIXED), 0);
	assert_int_equal(unmap(f, ioas, low, PAGE, NULL), 0);
	assert_int_equal(mock_domain(f, ioas, &stdev, &hwpt, NULL), 0);
	assert_int_equal(map(f, ioas, f->buf, PAGE, &low, FIXED), -EINVAL);
	/* A two-page area goes; one page comes back in its middle; the two
	 * pages again overlap it. */
	assert_int_equal(map(f, ioas, f->buf, 2 * PAGE, &iova, FIXED), 0);
	assert_int_equal(unmap(f, ioas, x, 2 * PAGE, NULL), 0);
	iova = x + PAGE;
	assert_int_equal(map(f, ioas, f->buf, PAGE, &iova, FIXED), 0);
	iova = x;
	assert_int_equal(map(f, ioas, f->buf, 2 * PAGE, &iova, FIXED), -EEXIST);
	assert_int_equal(map(f, ioas, f->buf, PAGE, &iova, FIXED), 0);
	assert_int_equal(check_map(f, hwpt, x, PAGE, f->buf), 0);
	assert_int_equal(unmap(f, ioas, x, 2 * PAGE, NULL), 0);
	/* Inside the range freed last, a smaller map is fine. */
	iova = x + PAGE;
	assert_int_equal(map(f, ioas, f->buf + PAGE, PAGE, &iova, FIXED), 0);
	assert_int_equal(check_map(f, hwpt, x + PAGE, PAGE, f->buf + PAGE), 0);
	assert_int_equal(unmap(f, ioas, x + PAGE, PAGE, NULL), 0);
	assert_int_equal(destroy(f, stdev), 0);
	assert_int_equal(destroy(f, ioas), 0);
}

/* Unmap starts at the area mapped last when that area holds the range's
 * first byte; the answers are the walk's whatever the hint says: a cut of
 * it or of another area is -ENOENT with nothing unmapped, a range over
 * several areas unmaps them all, an area before the hint is found. */
static void test_area_hint(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), stdev = 0, hwpt = 0;
	uint64_t x = MOCK_APERTURE_START, iova, done;

	for (int with_domain = 0; with_domain < 2; with_domain++) {
		/* A (two pages) then B (one page, the hint). */
		iova = x;
		assert_int_equal(map(f, ioas, f->buf, 2 * PAGE, &iova, FIXED),
				 0);
		iova = x + 2 * PAGE;
		assert_int_equal(map(f, ioas, f->buf + 2 * PAGE, PAGE, &iova,
				     FIXED), 0);
		/* Cuts of A, from its start and inside it. */
		done = 1;
		assert_int_equal(unmap(f, ioas, x, PAGE, &done), -ENOENT);
		assert_int_equal(unmap(f, ioas, x + PAGE, PAGE, &done),
				 -ENOENT);
		/* B and a page past it: B goes, the hint with it. */
		assert_int_equal(unmap(f, ioas, x + 2 * PAGE, 2 * PAGE, &done),
				 0);
		assert_int_equal(done, PAGE);
		assert_int_equal(unmap(f, ioas, x + 2 * PAGE, PAGE, &done),
				 -ENOENT);
		/* A, found by the walk, exactly. */
		assert_int_equal(unmap(f, ioas, x, 2 * PAGE, &done), 0);
		assert_int_equal(done, 2 * PAGE);
		assert_int_equal(unmap(f, ioas, x, 2 * PAGE, &done), -ENOENT);

		/* A, B, C one page each; the hint (C) is cut by a range
		 * from inside it; then a range over A and B; C exactly. */
		for (unsigned int i = 0; i < 3; i++) {
			iova = x + i * PAGE;
			assert_int_equal(map(f, ioas, f->buf + i * PAGE, PAGE,
					     &iova, FIXED), 0);
		}
		assert_int_equal(unmap(f, ioas, x + 2 * PAGE, 1, &done),
				 -ENOENT);
		assert_int_equal(unmap(f, ioas, x, 2 * PAGE, &done), 0);
		assert_int_equal(done, 2 * PAGE);
		if (with_domain)
			assert_int_equal(check_map(f, hwpt, x + 2 * PAGE, PAGE,
						   f->buf + 2 * PAGE), 0);
		assert_int_equal(unmap(f, ioas, x + 2 * PAGE, PAGE, &done), 0);
		assert_int_equal(done, PAGE);
		if (with_domain)
			assert_int_not_equal(check_map(f, hwpt, x + 2 * PAGE,
						       PAGE, f->buf + 2 * PAGE),
					     0);
		/* A range over everything, of a hint-less table. */
		assert_int_equal(unmap(f, ioas, x, 3 * PAGE, &done), -ENOENT);
		if (!with_domain)
			assert_int_equal(mock_domain(f, ioas, &stdev, &hwpt,
						     NULL), 0);
	}
	assert_int_equal(destroy(f, stdev), 0);
	assert_int_equal(destroy(f, ioas), 0);
}

/* With fail-nth armed the map allocates as without the cache: each
 * counted site fails the map (-EFAULT for a copy, -ENOMEM for an
 * allocation) and leaves nothing mapped. */
static void test_fail_nth_reaches_allocation(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	uint64_t iova = MOCK_APERTURE_START;
	bool slab = sio_fail_kind_enabled(SIO_FAIL_SLAB);
	unsigned int nomem = 0;
	long rc;

	for (int i = 0; i < 4; i++) {
		iova = MOCK_APERTURE_START;
		assert_int_equal(map(f, ioas, f->buf, PAGE, &iova, FIXED), 0);
		assert_int_equal(unmap(f, ioas, iova, PAGE, NULL), 0);
	}
	sio_fail_kind_enable(SIO_FAIL_SLAB, true);
	for (unsigned int n = 1;; n++) {
		iova = MOCK_APERTURE_START;
		sio_fail_nth_set(n);
		rc = map(f, ioas, f->buf, PAGE, &iova, FIXED);
		if (sio_fail_nth_get() != 0) {
			/* Fewer than n sites: the map ran through. */
			sio_fail_nth_set(0);
			assert_int_equal(rc, 0);
			assert_true(n > 1);
			assert_int_equal(unmap(f, ioas, iova, PAGE, NULL), 0);
			break;
		}
		sio_fail_nth_set(0);
		/* A copy of the argument (-EFAULT) or an allocation. */
		assert_true(rc == -EFAULT || rc == -ENOMEM);
		nomem += rc == -ENOMEM;
		/* A failed allocation maps nothing; a failed copy of the
		 * answer leaves the mapping, as in the kernel. */
		if (rc == -ENOMEM)
			assert_int_equal(unmap(f, ioas, MOCK_APERTURE_START,
					       PAGE, NULL), -ENOENT);
		else
			unmap(f, ioas, MOCK_APERTURE_START, PAGE, NULL);
		assert_true(n < 64);
	}
	sio_fail_kind_enable(SIO_FAIL_SLAB, slab);
	/* The pages and the area were allocated, not taken from a cache. */
	assert_true(nomem >= 2);
	assert_int_equal(destroy(f, ioas), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reuse_has_no_old_pins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reuse_across_domain_attach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errnos_with_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_area_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_nth_reaches_allocation, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
