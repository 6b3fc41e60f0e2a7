/*
 * HW page tables on /dev/iommu beyond allocation: dirty tracking
 * (HWPT_SET_DIRTY_TRACKING, HWPT_GET_DIRTY_BITMAP, the mock's DIRTY op and
 * real device writes through the data path) and nested page tables
 * (HWPT_ALLOC on a nesting parent, HWPT_INVALIDATE's array rules,
 * MD_CHECK_IOTLB, attach/replace and DMA through a nested table).
 */
#include "softiommu/dma.h"
#include "softiommu/mock.h"

#include "iommufd_helpers.h"

/* HWPT_ALLOC with any data type and length, for the error cases. */
static long hwpt_alloc_data(struct fx *f, uint32_t idev, uint32_t pt,
			    uint32_t flags, uint32_t type, void *data,
			    uint32_t len, uint32_t *out)
{
	struct iommu_hwpt_alloc c = {
		.size = sizeof(c), .flags = flags, .dev_id = idev, .pt_id = pt,
		.data_type = type, .data_len = len,
		.data_uptr = (uintptr_t)data,
	};
	long rc = io(f, IOMMU_HWPT_ALLOC, &c);

	*out = c.out_hwpt_id;
	return rc;
}

static long set_tracking(struct fx *f, uint32_t hwpt, uint32_t flags)
{
	struct iommu_hwpt_set_dirty_tracking c = {
		.size = sizeof(c), .flags = flags, .hwpt_id = hwpt,
	};

	return io(f, IOMMU_HWPT_SET_DIRTY_TRACKING, &c);
}

static long get_bitmap(struct fx *f, uint32_t hwpt, uint64_t iova,
		       uint64_t length, uint64_t page_size, void *data,
		       uint32_t flags)
{
	struct iommu_hwpt_get_dirty_bitmap c = {
		.size = sizeof(c), .hwpt_id = hwpt, .flags = flags,
		.iova = iova, .length = length, .page_size = page_size,
		.data = (uintptr_t)data,
	};

	return io(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &c);
}

static bool bit(const uint64_t *bm, unsigned int i)
{
	return bm[i / 64] >> (i % 64) & 1;
}

/*
 * A device on a dirty-tracking HWPT over an IOAS that maps the fixture's
 * buffer in CPU pages (huge pages off, so each page is its own leaf).
 */
struct dirty_env {
	uint32_t ioas, stdev, idev, hwpt;
	struct sio_device *dev;
	uint64_t iova;
};

static void dirty_env(struct fx *f, struct dirty_env *e, uint32_t extra)
{
	struct iommu_option o = {
		.size = sizeof(o), .option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_SET, .val64 = 0,
	};
	uint32_t dev_hwpt;

	e->ioas = ioas_alloc(f);
	o.object_id = e->ioas;
	assert_int_equal(io(f, IOMMU_OPTION, &o), 0);
	e->iova = SIO_MOCK_APERTURE_START;
	assert_int_equal(map(f, e->ioas, f->buf, BUFSZ, &e->iova,
			     IOMMU_IOAS_MAP_FIXED_IOVA), 0);
	assert_int_equal(mock_domain(f, e->ioas, &e->stdev, &dev_hwpt,
				     &e->idev), 0);
	assert_int_equal(hwpt_alloc(f, e->idev, e->ioas,
				    IOMMU_HWPT_ALLOC_DIRTY_TRACKING | extra, 0,
				    false, &e->hwpt), 0);
	assert_int_equal(sio_iommufd_device_get(f->ictx, e->idev, &e->dev), 0);
	{
		struct iommu_test_cmd c = {
			.size = sizeof(c),
			.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, .id = e->stdev,
			.mock_domain_replace = { .pt_id = e->hwpt },
		};

		assert_int_equal(io(f, IOMMU_TEST_CMD, &c), 0);
	}
}

static void test_dirty_alloc_rules(void **state)
{
	struct fx *f = *state;
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
		.mock_domain_flags = { .dev_flags = MOCK_FLAGS_DEVICE_NO_DIRTY },
	};
	uint32_t ioas = ioas_alloc(f), hwpt, plain;

	c.id = ioas;
	assert_int_equal(io(f, IOMMU_TEST_CMD, &c), 0);
	/* A device that cannot track dirty pages gets no such HWPT. */
	assert_int_equal(hwpt_alloc(f, c.mock_domain.out_idev_id, ioas,
				    IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 0, false,
				    &hwpt), -EOPNOTSUPP);
	/* A plain HWPT cannot switch tracking on (or off). */
	assert_int_equal(hwpt_alloc(f, c.mock_domain.out_idev_id, ioas, 0, 0,
				    false, &plain), 0);
	assert_int_equal(set_tracking(f, plain, IOMMU_HWPT_DIRTY_TRACKING_ENABLE),
			 -EOPNOTSUPP);
	assert_int_equal(set_tracking(f, plain, 0), -EOPNOTSUPP);
	{
		uint64_t bm = 0;

		assert_int_equal(get_bitmap(f, plain, SIO_MOCK_APERTURE_START,
					    PAGE, PAGE, &bm, 0),
				 -EOPNOTSUPP);
	}
	/* Unknown flags, objects that are not paging HWPTs. */
	assert_int_equal(set_tracking(f, plain, 2), -EOPNOTSUPP);
	assert_int_equal(set_tracking(f, ioas, 0), -ENOENT);
	assert_int_equal(set_tracking(f, 9999, 0), -ENOENT);
}

static void test_dirty_device_writes(void **state)
{
	struct fx *f = *state;
	struct dirty_env e;
	uint64_t bm[2] = { 0 };
	uint8_t byte = 0x5a;

	dirty_env(f, &e, 0);
	/* Writes before tracking is on are not reported later. */
	assert_int_equal(sio_dma_write(e.dev, SIO_NO_PASID, e.iova, &byte, 1,
				       NULL), 0);
	assert_int_equal(set_tracking(f, e.hwpt, IOMMU_HWPT_DIRTY_TRACKING_ENABLE),
			 0);
	assert_int_equal(get_bitmap(f, e.hwpt, e.iova, BUFSZ, PAGE, bm, 0), 0);
	assert_int_equal(bm[0], 0);

	/* Reads dirty nothing; a write dirties the page it lands in, and
	 * one crossing a page boundary both pages. */
	{
		uint8_t got;

		assert_int_equal(sio_dma_read(e.dev, SIO_NO_PASID,
					      e.iova + PAGE, &got, 1, NULL), 0);
	}
	assert_int_equal(sio_dma_write(e.dev, SIO_NO_PASID, e.iova + 3 * PAGE,
				       &byte, 1, NULL), 0);
	{
		uint8_t two[2] = { 1, 2 };

		assert_int_equal(sio_dma_write(e.dev, SIO_NO_PASID,
					       e.iova + 8 * PAGE - 1, two, 2,
					       NULL), 0);
	}
	assert_int_equal(f->buf[3 * PAGE], 0x5a);
	/* A bit the program set stays set: bits are OR-ed in. */
	bm[0] = 1ull << 15;
	assert_int_equal(get_bitmap(f, e.hwpt, e.iova, BUFSZ, PAGE, bm,
				    IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR), 0);
	assert_int_equal(bm[0], (1ull << 3) | (1ull << 7) | (1ull << 8) |
					(1ull << 15));
	/* NO_CLEAR left them; this read clears them. */
	bm[0] = 0;
	assert_int_equal(get_bitmap(f, e.hwpt, e.iova, BUFSZ, PAGE, bm, 0), 0);
	assert_int_equal(bm[0], (1ull << 3) | (1ull << 7) | (1ull << 8));
	bm[0] = 0;
	assert_int_equal(get_bitmap(f, e.hwpt, e.iova, BUFSZ, PAGE, bm, 0), 0);
	assert_int_equal(bm[0], 0);

	/* A coarser bitmap: one bit per 4 pages; a sub-range starting at
	 * page 4 puts page 7 at bit 3 of the finer one. */
	assert_int_equal(sio_dma_write(e.dev, SIO_NO_PASID, e.iova + 5 * PAGE,
				       &byte, 1, NULL), 0);
	assert_int_equal(get_bitmap(f, e.hwpt, e.iova, BUFSZ, 4 * PAGE, bm,
				    IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR), 0);
	assert_int_equal(bm[0], 1ull << 1);
	bm[0] = 0;
	assert_int_equal(get_bitmap(f, e.hwpt, e.iova + 4 * PAGE, 4 * PAGE,
				    PAGE, bm, 0), 0);
	assert_int_equal(bm[0], 1ull << 1);

	/* Tracking off: writes leave no trace. */
	assert_int_equal(set_tracking(f, e.hwpt, 0), 0);
	assert_int_equal(sio_dma_write(e.dev, SIO_NO_PASID, e.iova, &byte, 1,
				       NULL), 0);
	bm[0] = 0;
	assert_int_equal(get_bitmap(f, e.hwpt, e.iova, BUFSZ, PAGE, bm, 0), 0);
	assert_int_equal(bm[0], 0);
	sio_device_put(e.dev);
}

static void test_dirty_bitmap_errors(void **state)
{
	struct fx *f = *state;
	struct dirty_env e;
	uint64_t bm[2] = { 0 };
	uint8_t byte = 1;

	dirty_env(f, &e, 0);
	assert_int_equal(set_tracking(f, e.hwpt, IOMMU_HWPT_DIRTY_TRACKING_ENABLE),
			 0);
	assert_int_equal(get_bitmap(f, e.hwpt, e.iova, 0, PAGE, bm, 0), -EINVAL);
	assert_int_equal(get_bitmap(f, e.hwpt, e.iova, BUFSZ, 0, bm, 0),
			 -EINVAL);
	assert_int_equal(get_bitmap(f, e.hwpt, e.iova + PAGE / 2, PAGE, PAGE,
				    bm, 0), -EINVAL);
	assert_int_equal(get_bitmap(f, e.hwpt, e.iova, PAGE / 2 * 3, PAGE, bm,
				    0), -EINVAL);
	assert_int_equal(get_bitmap(f, e.hwpt, UINT64_MAX - PAGE + 1, 2 * PAGE,
				    PAGE, bm, 0), -EOVERFLOW);
	assert_int_equal(get_bitmap(f, e.hwpt, e.iova, BUFSZ, PAGE, bm, 2),
			 -EOPNOTSUPP);
	{
		struct iommu_hwpt_get_dirty_bitmap c = {
			.size = sizeof(c), .hwpt_id = e.hwpt, .iova = e.iova,
			.length = BUFSZ, .page_size = PAGE,
			.data = (uintptr_t)bm, .__reserved = 1,
		};

		assert_int_equal(io(f, IOMMU_HWPT_GET_DIRTY_BITMAP, &c),
				 -EOPNOTSUPP);
	}
	/* A range with no mapping reports nothing and succeeds. */
	assert_int_equal(get_bitmap(f, e.hwpt, e.iova + BUFSZ, BUFSZ, PAGE, bm,
				    0), 0);
	assert_int_equal(bm[0], 0);
	/* A bitmap the program cannot write: -EFAULT once there is a bit
	 * to write. */
	assert_int_equal(sio_dma_write(e.dev, SIO_NO_PASID, e.iova, &byte, 1,
				       NULL), 0);
	assert_int_equal(get_bitmap(f, e.hwpt, e.iova, BUFSZ, PAGE,
				    (void *)(uintptr_t)8, 0), -EFAULT);
	sio_device_put(e.dev);
}

/* The selftest's DIRTY op marks pages as device writes would. */
static void test_dirty_test_op(void **state)
{
	struct fx *f = *state;
	struct dirty_env e;
	uint64_t bm[2] = { 0 }, want = (1ull << 2) | (1ull << 9);
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_DIRTY,
	};

	dirty_env(f, &e, 0);
	c.id = e.hwpt;
	c.dirty.iova = e.iova;
	c.dirty.length = BUFSZ;
	c.dirty.page_size = PAGE;
	c.dirty.uptr = (uintptr_t)&want;
	/* Tracking is off. */
	assert_int_equal(io(f, IOMMU_TEST_CMD, &c), -EINVAL);
	assert_int_equal(set_tracking(f, e.hwpt, IOMMU_HWPT_DIRTY_TRACKING_ENABLE),
			 0);
	assert_int_equal(io(f, IOMMU_TEST_CMD, &c), 0);
	assert_int_equal(c.dirty.out_nr_dirty, 2);
	assert_int_equal(get_bitmap(f, e.hwpt, e.iova, BUFSZ, PAGE, bm, 0), 0);
	assert_int_equal(bm[0], want);
	assert_true(bit(bm, 2) && !bit(bm, 3));
	c.dirty.page_size = 0;
	assert_int_equal(io(f, IOMMU_TEST_CMD, &c), -EINVAL);
	c.dirty.page_size = PAGE;
	c.dirty.uptr = 8;
	assert_int_equal(io(f, IOMMU_TEST_CMD, &c), -EFAULT);
	sio_device_put(e.dev);
}

/* ------------------------------------------------------------------ */
/* Nested                                                               */
/* ------------------------------------------------------------------ */

struct nested_env {
	uint32_t ioas, stdev, idev, parent, plain;
};

static void nested_env(struct fx *f, struct nested_env *e, uint32_t pflags)
{
	uint32_t hwpt;
	uint64_t iova = SIO_MOCK_APERTURE_START;

	e->ioas = ioas_alloc(f);
	assert_int_equal(map(f, e->ioas, f->buf, BUFSZ, &iova,
			     IOMMU_IOAS_MAP_FIXED_IOVA), 0);
	assert_int_equal(mock_domain(f, e->ioas, &e->stdev, &hwpt, &e->idev), 0);
	assert_int_equal(hwpt_alloc(f, e->idev, e->ioas,
				    IOMMU_HWPT_ALLOC_NEST_PARENT | pflags, 0,
				    false, &e->parent), 0);
	assert_int_equal(hwpt_alloc(f, e->idev, e->ioas, 0, 0, false,
				    &e->plain), 0);
}

static long nested_alloc(struct fx *f, struct nested_env *e, uint32_t pt,
			 uint32_t type, uint32_t len, uint32_t *out)
{
	struct iommu_hwpt_selftest data = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };

	return hwpt_alloc_data(f, e->idev, pt, 0, type, &data, len, out);
}

static long invalidate(struct fx *f, uint32_t hwpt, void *reqs,
		       uint32_t type, uint32_t entry_len, uint32_t *num)
{
	struct iommu_hwpt_invalidate c = {
		.size = sizeof(c), .hwpt_id = hwpt,
		.data_uptr = (uintptr_t)reqs, .data_type = type,
		.entry_len = entry_len, .entry_num = *num,
	};
	long rc = io(f, IOMMU_HWPT_INVALIDATE, &c);

	*num = c.entry_num;
	return rc;
}

static long check_iotlb(struct fx *f, uint32_t hwpt, uint32_t id,
			uint32_t value)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_MD_CHECK_IOTLB,
		.id = hwpt, .check_iotlb = { .id = id, .iotlb = value },
	};

	return io(f, IOMMU_TEST_CMD, &c);
}

static void test_nested_alloc_rules(void **state)
{
	struct fx *f = *state;
	struct iommu_hwpt_selftest data = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };
	const uint32_t T = IOMMU_HWPT_DATA_SELFTEST;
	struct nested_env e;
	uint32_t n0, n1, x;

	nested_env(f, &e, 0);
	assert_int_equal(nested_alloc(f, &e, e.parent, IOMMU_HWPT_DATA_NONE,
				      sizeof(data), &x), -EINVAL);
	assert_int_equal(nested_alloc(f, &e, e.parent, T + 1, sizeof(data), &x),
			 -EOPNOTSUPP);
	assert_int_equal(nested_alloc(f, &e, e.parent, T, 3, &x), -EINVAL);
	assert_int_equal(hwpt_alloc_data(f, e.idev, e.parent, 0, T, NULL,
					 sizeof(data), &x), -EFAULT);
	assert_int_equal(hwpt_alloc_data(f, e.idev, e.parent,
					 IOMMU_HWPT_ALLOC_NEST_PARENT, T, &data,
					 sizeof(data), &x), -EOPNOTSUPP);
	/* Not a nesting parent; not a paging table at all. */
	assert_int_equal(nested_alloc(f, &e, e.plain, T, sizeof(data), &x),
			 -EINVAL);
	assert_int_equal(nested_alloc(f, &e, e.idev, T, sizeof(data), &x),
			 -EINVAL);

	assert_int_equal(nested_alloc(f, &e, e.parent, T, sizeof(data), &n0), 0);
	assert_int_equal(nested_alloc(f, &e, e.parent, T, sizeof(data), &n1), 0);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(check_iotlb(f, n0, i, IOMMU_TEST_IOTLB_DEFAULT),
				 0);
	assert_int_equal(check_iotlb(f, n0, 4, IOMMU_TEST_IOTLB_DEFAULT),
			 -EINVAL);
	assert_int_equal(check_iotlb(f, e.parent, 0, 0), -ENOENT);
	/* No nested table on a nested table; the parent is busy. */
	assert_int_equal(nested_alloc(f, &e, n0, T, sizeof(data), &x), -EINVAL);
	assert_int_equal(destroy(f, e.parent), -EBUSY);
	assert_int_equal(destroy(f, n0), 0);
	assert_int_equal(destroy(f, n1), 0);
	assert_int_equal(destroy(f, e.parent), 0);
}

static void test_nested_invalidate(void **state)
{
	struct fx *f = *state;
	const uint32_t T = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST;
	struct iommu_hwpt_invalidate_selftest reqs[2] = { 0 };
	struct nested_env e;
	uint32_t n, num;

	nested_env(f, &e, 0);
	assert_int_equal(nested_alloc(f, &e, e.parent, IOMMU_HWPT_DATA_SELFTEST,
				      sizeof(struct iommu_hwpt_selftest), &n),
			 0);

	/* The parent has no guest caches; an empty array checks the type. */
	num = 1;
	assert_int_equal(invalidate(f, e.parent, reqs, T, sizeof(reqs[0]), &num),
			 -EINVAL);
	assert_int_equal(num, 0);
	num = 0;
	assert_int_equal(invalidate(f, n, reqs, T, sizeof(reqs[0]), &num), 0);
	num = 0;
	assert_int_equal(invalidate(f, n, reqs,
				    IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID,
				    sizeof(reqs[0]), &num), -EINVAL);

	/* Array shape: entry sizes, NULL pointer, count bound. */
	num = 1;
	assert_int_equal(invalidate(f, n, reqs, T, 1, &num), -EINVAL);
	num = 1;
	assert_int_equal(invalidate(f, n, reqs, T, 0, &num), -EINVAL);
	num = 1;
	assert_int_equal(invalidate(f, n, reqs, T, PAGE + 1, &num), -EINVAL);
	num = 1;
	assert_int_equal(invalidate(f, n, NULL, T, sizeof(reqs[0]), &num),
			 -EINVAL);
	num = (1u << 19) + 1;
	assert_int_equal(invalidate(f, n, reqs, T, sizeof(reqs[0]), &num),
			 -EINVAL);
	assert_int_equal(num, 0);

	/* A longer entry, even with a zero tail: -EINVAL, as the kernel's
	 * iommu_copy_struct_from_user_array() refuses entries longer than
	 * the driver's structure (the selftest's alloc_hwpt_nested checks
	 * sizeof + 1). */
	{
		uint32_t big[4] = { 0, 2, 0, 0 };

		num = 1;
		assert_int_equal(invalidate(f, n, big, T, sizeof(big), &num),
				 -EINVAL);
		assert_int_equal(num, 0);
	}

	/* The first entry is applied, the second is bad: the count says 1. */
	reqs[0] = (struct iommu_hwpt_invalidate_selftest){ .iotlb_id = 0 };
	reqs[1] = (struct iommu_hwpt_invalidate_selftest){ .flags = ~0u,
							   .iotlb_id = 1 };
	num = 2;
	assert_int_equal(invalidate(f, n, reqs, T, sizeof(reqs[0]), &num),
			 -EOPNOTSUPP);
	assert_int_equal(num, 1);
	assert_int_equal(check_iotlb(f, n, 0, 0), 0);
	assert_int_equal(check_iotlb(f, n, 1, IOMMU_TEST_IOTLB_DEFAULT), 0);
	reqs[1] = (struct iommu_hwpt_invalidate_selftest){ .iotlb_id = 4 };
	num = 2;
	assert_int_equal(invalidate(f, n, reqs, T, sizeof(reqs[0]), &num),
			 -EINVAL);
	assert_int_equal(num, 1);

	/* The second entry is unreadable: -EFAULT after the first. */
	{
		uint8_t *pg = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct iommu_hwpt_invalidate_selftest *r;

		assert_true(pg != MAP_FAILED);
		munmap(pg + PAGE, PAGE);
		r = (void *)(pg + PAGE - sizeof(*r));
		*r = (struct iommu_hwpt_invalidate_selftest){ .iotlb_id = 1 };
		num = 2;
		assert_int_equal(invalidate(f, n, r, T, sizeof(*r), &num),
				 -EFAULT);
		assert_int_equal(num, 1);
		assert_int_equal(check_iotlb(f, n, 1, 0), 0);
		munmap(pg, PAGE);
	}

	/* FLAG_ALL ignores the id. */
	reqs[0] = (struct iommu_hwpt_invalidate_selftest){
		.flags = IOMMU_TEST_INVALIDATE_FLAG_ALL, .iotlb_id = 0 };
	num = 1;
	assert_int_equal(invalidate(f, n, reqs, T, sizeof(reqs[0]), &num), 0);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(check_iotlb(f, n, i, 0), 0);
}

/* A device on a nested table reaches what the parent maps (the mock's
 * stage 1 is the identity), and its writes dirty the parent. */
static void test_nested_attach_dma_dirty(void **state)
{
	struct fx *f = *state;
	struct nested_env e;
	struct sio_device *dev;
	uint32_t n, pt;
	uint64_t bm = 0;
	uint8_t got = 0, byte = 0xa5;

	nested_env(f, &e, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	assert_int_equal(nested_alloc(f, &e, e.parent, IOMMU_HWPT_DATA_SELFTEST,
				      sizeof(struct iommu_hwpt_selftest), &n),
			 0);
	{
		struct iommu_test_cmd c = {
			.size = sizeof(c),
			.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, .id = e.stdev,
			.mock_domain_replace = { .pt_id = n },
		};

		assert_int_equal(io(f, IOMMU_TEST_CMD, &c), 0);
		pt = c.mock_domain_replace.pt_id;
		assert_int_equal(pt, n);
	}
	assert_int_equal(sio_iommufd_device_get(f->ictx, e.idev, &dev), 0);
	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID,
				      SIO_MOCK_APERTURE_START + 5, &got, 1,
				      NULL), 0);
	assert_int_equal(got, f->buf[5]);
	assert_int_equal(set_tracking(f, e.parent,
				      IOMMU_HWPT_DIRTY_TRACKING_ENABLE), 0);
	assert_int_equal(sio_dma_write(dev, SIO_NO_PASID,
				       SIO_MOCK_APERTURE_START + 2 * PAGE,
				       &byte, 1, NULL), 0);
	assert_int_equal(f->buf[2 * PAGE], 0xa5);
	assert_int_equal(get_bitmap(f, e.parent, SIO_MOCK_APERTURE_START,
				    BUFSZ, PAGE, &bm, 0), 0);
	assert_true(bit(&bm, 2));
	/* The parent cannot go while the nested table is attached or
	 * exists; back to the parent, then both can go. */
	assert_int_equal(destroy(f, e.parent), -EBUSY);
	{
		struct iommu_test_cmd c = {
			.size = sizeof(c),
			.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, .id = e.stdev,
			.mock_domain_replace = { .pt_id = e.parent },
		};

		assert_int_equal(io(f, IOMMU_TEST_CMD, &c), 0);
	}
	assert_int_equal(destroy(f, n), 0);
	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID,
				      SIO_MOCK_APERTURE_START + 5, &got, 1,
				      NULL), 0);
	sio_device_put(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dirty_alloc_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dirty_device_writes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dirty_bitmap_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dirty_test_op, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nested_alloc_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nested_invalidate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nested_attach_dma_dirty,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
