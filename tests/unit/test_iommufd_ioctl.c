/*
 * iommufd through sio_iommufd_ioctl(): the dispatcher's size rules, the
 * object lifecycle, the IOAS ioctls (after the kernel selftest's
 * iommufd_ioas cases), mock domains and DMA through pinned pages.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "softiommu/softiommu.h"
#include "softiommu/dma.h"
#include "softiommu/file.h"
#include "softiommu/iommufd.h"
#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/iommufd_test.h"

#include "iommufd_helpers.h"

/* ---------------------------------------------------------------- */

static void test_size_rules(void **state)
{
	struct fx *f = *state;
	struct {
		struct iommu_ioas_alloc c;
		uint8_t tail[64];
	} big;

	/* Short: below the minimum (up to out_ioas_id). */
	memset(&big, 0, sizeof(big));
	big.c.size = offsetof(struct iommu_ioas_alloc, out_ioas_id);
	assert_int_equal(io(f, IOMMU_IOAS_ALLOC, &big), -EINVAL);
	/* Long with a zero tail: fine, the answer has our size. */
	big.c.size = sizeof(big);
	assert_int_equal(io(f, IOMMU_IOAS_ALLOC, &big), 0);
	assert_int_equal(big.c.out_ioas_id, 1);
	/* Long with a non-zero tail. */
	big.tail[63] = 1;
	assert_int_equal(io(f, IOMMU_IOAS_ALLOC, &big), -E2BIG);
	/* Bad pointer. */
	assert_int_equal(sio_iommufd_ioctl(f->ictx, IOMMU_IOAS_ALLOC, 8), -EFAULT);
	/* A tail that runs into unmapped memory. */
	{
		uint8_t *pg = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct iommu_ioas_alloc *c;

		munmap(pg + PAGE, PAGE);
		c = (void *)(pg + PAGE - sizeof(*c));
		memset(c, 0, sizeof(*c));
		c->size = sizeof(*c) + 16;
		assert_int_equal(io(f, IOMMU_IOAS_ALLOC, c), -EFAULT);
		munmap(pg, PAGE);
	}
	/* Unknown commands. */
	{
		uint32_t sz = 64;

		assert_int_equal(io(f, _IO(IOMMUFD_TYPE, 0x9f), &sz), -ENOTTY);
		assert_int_equal(io(f, _IO(IOMMUFD_TYPE, 0xa1), &sz), -ENOTTY);
		assert_int_equal(io(f, _IO('x', 0x81), &sz), -ENOTTY);
		assert_int_equal(io(f, _IO(IOMMUFD_TYPE, 0x10), &sz), -ENOTTY);
		/* In range, but not ours: the size is read first. */
		assert_int_equal(sio_iommufd_ioctl(f->ictx, _IO('x', 0x81), 8),
				 -EFAULT);
	}
	/* Unsupported flags. */
	{
		struct iommu_ioas_alloc c = { .size = sizeof(c), .flags = 1 };

		assert_int_equal(io(f, IOMMU_IOAS_ALLOC, &c), -EOPNOTSUPP);
	}
	/* Every command in the table gets the size rules first. */
	{
		struct iommu_viommu_alloc v = { .size = 4 };

		assert_int_equal(io(f, IOMMU_VIOMMU_ALLOC, &v), -EINVAL);
		v.size = sizeof(v);
		assert_int_equal(io(f, IOMMU_VIOMMU_ALLOC, &v), -EOPNOTSUPP);
	}
	/* A short answer: only the caller's bytes are written. */
	{
		struct {
			struct iommu_ioas_unmap u;
			uint64_t guard;
		} s;
		uint32_t ioas = ioas_alloc(f);

		memset(&s, 0xff, sizeof(s));
		s.u.size = sizeof(s.u);
		s.u.ioas_id = ioas;
		s.u.iova = 0;
		s.u.length = UINT64_MAX;
		assert_int_equal(io(f, IOMMU_IOAS_UNMAP, &s), 0);
		assert_int_equal(s.u.length, 0);
		assert_true(s.guard == UINT64_MAX);
	}
}

static void test_object_lifecycle(void **state)
{
	struct fx *f = *state;
	uint32_t a = ioas_alloc(f), b = ioas_alloc(f), c;

	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	assert_int_equal(destroy(f, a), 0);
	assert_int_equal(destroy(f, a), -ENOENT);
	assert_int_equal(destroy(f, 0), -ENOENT);
	assert_int_equal(destroy(f, 1000), -ENOENT);
	/* Lowest free ID is reused. */
	c = ioas_alloc(f);
	assert_int_equal(c, 1);
	/* A failed creation leaves nothing: the response write faults. */
	{
		uint8_t *pg = mmap(NULL, PAGE, PROT_READ,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct iommu_ioas_alloc tmpl = { .size = sizeof(tmpl) };
		int fdz;

		/* Put a valid struct in read-only memory. */
		munmap(pg, PAGE);
		pg = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		memcpy(pg, &tmpl, sizeof(tmpl));
		mprotect(pg, PAGE, PROT_READ);
		fdz = (int)io(f, IOMMU_IOAS_ALLOC, pg);
		assert_int_equal(fdz, -EFAULT);
		munmap(pg, PAGE);
		/* ID 3 was reserved and aborted: it is free again. */
		assert_int_equal(destroy(f, 3), -ENOENT);
		assert_int_equal(ioas_alloc(f), 3);
	}
	/* Wrong type: a device op on an IOAS ID. */
	{
		struct iommu_test_cmd t = {
			.size = sizeof(t), .op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
			.id = b, .mock_domain_replace = { .pt_id = b },
		};

		assert_int_equal(io(f, IOMMU_TEST_CMD, &t), -ENOENT);
	}
	/* Busy: an IOAS with a HWPT on it. */
	{
		uint32_t stdev, hwpt, idev;

		assert_int_equal(mock_domain(f, b, &stdev, &hwpt, &idev), 0);
		assert_int_equal(destroy(f, b), -EBUSY);
		assert_int_equal(destroy(f, hwpt), -EBUSY);
		assert_int_equal(destroy(f, idev), -EBUSY);
		assert_int_equal(destroy(f, stdev), 0);
		/* The auto HWPT went with the device. */
		assert_int_equal(destroy(f, hwpt), -ENOENT);
		assert_int_equal(destroy(f, idev), -ENOENT);
		assert_int_equal(destroy(f, b), 0);
	}
}

static void test_ioas_map_unmap(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	uint64_t iova = 0, out;

	/* No domain: any alignment goes, pages are not pinned yet. */
	iova = 0x10000;
	assert_int_equal(map(f, ioas, f->buf, PAGE, &iova,
			     IOMMU_IOAS_MAP_FIXED_IOVA), 0);
	assert_int_equal(iova, 0x10000);
	assert_int_equal(check_refs(f, f->buf, PAGE, 0), 0);
	/* Overlap: -EEXIST. */
	assert_int_equal(map(f, ioas, f->buf, PAGE, &iova,
			     IOMMU_IOAS_MAP_FIXED_IOVA), -EEXIST);
	/* Unmap must cover whole areas. */
	assert_int_equal(unmap(f, ioas, 0x10000, PAGE / 2, NULL), -ENOENT);
	assert_int_equal(unmap(f, ioas, 0x20000, PAGE, NULL), -ENOENT);
	assert_int_equal(unmap(f, ioas, 0x10000, 0, NULL), -EINVAL);
	assert_int_equal(unmap(f, ioas, 0x10000, PAGE, &out), 0);
	assert_int_equal(out, PAGE);
	/* Flags. */
	{
		struct iommu_ioas_map c = { .size = sizeof(c), .ioas_id = ioas,
					    .user_va = (uintptr_t)f->buf,
					    .length = PAGE };

		assert_int_equal(io(f, IOMMU_IOAS_MAP, &c), -EINVAL);
		c.flags = 1u << 8;
		assert_int_equal(io(f, IOMMU_IOAS_MAP, &c), -EOPNOTSUPP);
		c.flags = IOMMU_IOAS_MAP_READABLE;
		c.length = UINT64_MAX;
		assert_int_equal(io(f, IOMMU_IOAS_MAP, &c), -EOVERFLOW);
		c.length = 0;
		assert_int_equal(io(f, IOMMU_IOAS_MAP, &c), -EINVAL);
		c.ioas_id = 999;
		c.length = PAGE;
		assert_int_equal(io(f, IOMMU_IOAS_MAP, &c), -ENOENT);
	}
	/* Automatic IOVA: never 0, aligned like the user address. */
	iova = 0;
	assert_int_equal(map(f, ioas, f->buf, 4 * PAGE, &iova, 0), 0);
	assert_true(iova != 0);
	{
		uint64_t al = 4 * PAGE, ua = (uintptr_t)f->buf;

		if ((ua & -ua) < al)
			al = ua & -ua;
		assert_int_equal(iova % al, 0);
	}
	/* Unmap all returns the length. */
	{
		uint64_t iova2 = 0;

		assert_int_equal(map(f, ioas, f->buf, PAGE, &iova2, 0), 0);
		assert_int_equal(unmap(f, ioas, 0, UINT64_MAX, &out), 0);
		assert_int_equal(out, 5 * PAGE);
		assert_int_equal(unmap(f, ioas, 0, UINT64_MAX, &out), 0);
		assert_int_equal(out, 0);
	}
}

static void test_ioas_ranges(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	struct iommu_iova_range r[4];
	struct iommu_ioas_iova_ranges c = {
		.size = sizeof(c), .ioas_id = ioas, .num_iovas = 0,
		.allowed_iovas = (uintptr_t)r,
	};
	struct iommu_test_cmd t = {
		.size = sizeof(t), .op = IOMMU_TEST_OP_ADD_RESERVED, .id = ioas,
		.add_reserved = { .start = PAGE, .length = PAGE },
	};

	/* Empty IOAS: everything, one range; too small an array. */
	assert_int_equal(io(f, IOMMU_IOAS_IOVA_RANGES, &c), -EMSGSIZE);
	assert_int_equal(c.num_iovas, 1);
	c.num_iovas = 4;
	assert_int_equal(io(f, IOMMU_IOAS_IOVA_RANGES, &c), 0);
	assert_int_equal(c.num_iovas, 1);
	assert_true(r[0].start == 0 && r[0].last == UINT64_MAX);
	assert_int_equal(c.out_iova_alignment, 1);
	/* A reserved hole splits it. */
	assert_int_equal(io(f, IOMMU_TEST_CMD, &t), 0);
	c.num_iovas = 4;
	assert_int_equal(io(f, IOMMU_IOAS_IOVA_RANGES, &c), 0);
	assert_int_equal(c.num_iovas, 2);
	assert_true(r[0].start == 0 && r[0].last == PAGE - 1);
	assert_true(r[1].start == 2 * PAGE && r[1].last == UINT64_MAX);
	/* Mapping into the reserved range fails. */
	{
		uint64_t iova = PAGE;

		assert_int_equal(map(f, ioas, f->buf, PAGE, &iova,
				     IOMMU_IOAS_MAP_FIXED_IOVA), -EINVAL);
	}
	/* Allowed ranges. */
	{
		struct iommu_iova_range a[2] = {
			{ .start = 16 * PAGE, .last = 32 * PAGE - 1 },
			{ .start = 64 * PAGE, .last = 128 * PAGE - 1 },
		};
		struct iommu_ioas_allow_iovas al = {
			.size = sizeof(al), .ioas_id = ioas, .num_iovas = 2,
			.allowed_iovas = (uintptr_t)a,
		};
		uint64_t iova = 0;

		assert_int_equal(io(f, IOMMU_IOAS_ALLOW_IOVAS, &al), 0);
		assert_int_equal(map(f, ioas, f->buf, 2 * PAGE, &iova, 0), 0);
		assert_true(iova >= 16 * PAGE && iova + 2 * PAGE <= 32 * PAGE);
		/* Too big for the first range: goes to the second. */
		iova = 0;
		assert_int_equal(map(f, ioas, f->buf, 16 * PAGE, &iova, 0), 0);
		assert_true(iova >= 64 * PAGE);
		/* Overlapping or empty ranges. */
		a[1].start = 20 * PAGE;
		assert_int_equal(io(f, IOMMU_IOAS_ALLOW_IOVAS, &al), -EINVAL);
		a[1].start = a[1].last;
		assert_int_equal(io(f, IOMMU_IOAS_ALLOW_IOVAS, &al), -EINVAL);
		/* Overlapping a reserved range. */
		a[0].start = 0;
		a[0].last = 4 * PAGE;
		al.num_iovas = 1;
		assert_int_equal(io(f, IOMMU_IOAS_ALLOW_IOVAS, &al), -EADDRINUSE);
		/* A reserved range may not overlap an allowed one. */
		al.num_iovas = 0;
		assert_int_equal(io(f, IOMMU_IOAS_ALLOW_IOVAS, &al), 0);
		a[0].start = 200 * PAGE;
		a[0].last = 300 * PAGE;
		al.num_iovas = 1;
		assert_int_equal(io(f, IOMMU_IOAS_ALLOW_IOVAS, &al), 0);
		t.add_reserved.start = 250 * PAGE;
		assert_int_equal(io(f, IOMMU_TEST_CMD, &t), -EADDRINUSE);
		al.allowed_iovas = 8;
		assert_int_equal(io(f, IOMMU_IOAS_ALLOW_IOVAS, &al), -EFAULT);
	}
}

static void test_ioas_copy(void **state)
{
	struct fx *f = *state;
	uint32_t a = ioas_alloc(f), b = ioas_alloc(f);
	uint64_t iova = 0x100000, out;
	struct iommu_ioas_copy c = {
		.size = sizeof(c),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE,
		.dst_ioas_id = b, .src_ioas_id = a, .length = 2 * PAGE,
		.dst_iova = 0x2000000, .src_iova = 0x100000,
	};

	assert_int_equal(map(f, a, f->buf, 4 * PAGE, &iova,
			     IOMMU_IOAS_MAP_FIXED_IOVA), 0);
	assert_int_equal(io(f, IOMMU_IOAS_COPY, &c), 0);
	assert_int_equal(c.dst_iova, 0x2000000);
	/* Source not covered. */
	c.src_iova = 0x100000 + 3 * PAGE;
	assert_int_equal(io(f, IOMMU_IOAS_COPY, &c), -ENOENT);
	/* Copy into a domain-backed IOAS: DMA reads the source's pages. */
	{
		uint32_t stdev, hwpt, idev;
		uint8_t got[64];

		assert_int_equal(mock_domain(f, b, &stdev, &hwpt, &idev), 0);
		c.src_iova = 0x100000 + PAGE;
		c.dst_iova = 0x1000000 + 0x100000;
		assert_int_equal(io(f, IOMMU_IOAS_COPY, &c), 0);
		assert_int_equal(check_refs(f, f->buf + PAGE, 2 * PAGE, 1), 0);
		/* Page 0 is pinned by the first copy: still one pin. */
		assert_int_equal(check_refs(f, f->buf, PAGE, 1), 0);
		assert_int_equal(check_refs(f, f->buf + 3 * PAGE, PAGE, 0), 0);
		{
			struct sio_device *dev;

			assert_int_equal(sio_iommufd_device_get(f->ictx, idev,
								&dev), 0);
			assert_int_equal(sio_dma_read(dev, SIO_NO_PASID,
						      0x1100000, got,
						      sizeof(got), NULL), 0);
			assert_memory_equal(got, f->buf + PAGE, sizeof(got));
			sio_device_put(dev);
		}
		assert_int_equal(destroy(f, stdev), 0);
		assert_int_equal(check_refs(f, f->buf, 4 * PAGE, 0), 0);
	}
	assert_int_equal(unmap(f, b, 0, UINT64_MAX, &out), 0);
	assert_int_equal(out, 4 * PAGE);
	/* The copy's pages outlive the source area. */
	assert_int_equal(unmap(f, a, 0, UINT64_MAX, &out), 0);
}

/* A mock device DMAs through its domain; pins survive the program's munmap. */
static void test_mock_domain_dma(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), stdev, hwpt, idev;
	struct sio_device *dev = NULL;
	uint64_t iova = MOCK_APERTURE_START;
	uint8_t *mem, got[128];

	mem = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(mem != MAP_FAILED);
	memset(mem, 0x5a, 4 * PAGE);
	mem[PAGE + 3] = 0x77;

	assert_int_equal(mock_domain(f, ioas, &stdev, &hwpt, &idev), 0);
	assert_true(stdev && hwpt && idev);
	/* Outside the mock aperture: reserved. */
	iova = 0x1000;
	assert_int_equal(map(f, ioas, mem, 4 * PAGE, &iova,
			     IOMMU_IOAS_MAP_FIXED_IOVA), -EINVAL);
	iova = MOCK_APERTURE_START;
	assert_int_equal(map(f, ioas, mem, 4 * PAGE, &iova,
			     IOMMU_IOAS_MAP_FIXED_IOVA), 0);
	assert_int_equal(check_refs(f, mem, 4 * PAGE, 1), 0);
	{
		struct iommu_test_cmd t = {
			.size = sizeof(t), .op = IOMMU_TEST_OP_MD_CHECK_MAP,
			.id = hwpt,
			.check_map = { .iova = iova, .length = 4 * PAGE,
				       .uptr = (uintptr_t)mem },
		};

		assert_int_equal(io(f, IOMMU_TEST_CMD, &t), 0);
		t.check_map.uptr = (uintptr_t)f->buf;
		assert_int_equal(io(f, IOMMU_TEST_CMD, &t), -EINVAL);
	}
	/* Find the core device through the IOMMU: the only mock device. */
	{
		struct iommu_hw_info hi = { .size = sizeof(hi), .dev_id = idev };
		struct iommu_test_hw_info data = { 0 };

		hi.data_uptr = (uintptr_t)&data;
		hi.data_len = sizeof(data);
		assert_int_equal(io(f, IOMMU_GET_HW_INFO, &hi), 0);
		assert_int_equal(hi.out_data_type, IOMMU_HW_INFO_TYPE_SELFTEST);
		assert_int_equal(data.test_reg, IOMMU_HW_INFO_SELFTEST_REGVAL);
		assert_true(hi.out_capabilities & IOMMU_HW_CAP_DIRTY_TRACKING);
		hi.flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE;
		hi.in_data_type = 77;
		assert_int_equal(io(f, IOMMU_GET_HW_INFO, &hi), -EOPNOTSUPP);
	}
	assert_int_equal(sio_iommufd_device_get(f->ictx, idev, &dev), 0);
	assert_int_equal(sio_iommufd_device_get(f->ictx, ioas, &dev), -ENOENT);
	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID, iova + PAGE, got,
				      sizeof(got), NULL), 0);
	assert_int_equal(got[3], 0x77);
	/* The program unmaps its view; the device still sees the pages. */
	assert_int_equal(munmap(mem, 4 * PAGE), 0);
	memset(got, 0, sizeof(got));
	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID, iova + PAGE, got,
				      sizeof(got), NULL), 0);
	assert_int_equal(got[3], 0x77);
	assert_int_equal(got[0], 0x5a);
	got[0] = 0x11;
	assert_int_equal(sio_dma_write(dev, SIO_NO_PASID, iova, got, 1, NULL), 0);
	{
		struct iommu_test_cmd t = {
			.size = sizeof(t), .op = IOMMU_TEST_OP_MD_CHECK_MAP,
			.id = hwpt,
			.check_map = { .iova = iova, .length = PAGE,
				       .uptr = (uintptr_t)mem },
		};

		assert_int_equal(io(f, IOMMU_TEST_CMD, &t), -EFAULT);
	}
	assert_int_equal(unmap(f, ioas, 0, UINT64_MAX, NULL), 0);
	/* Unmapped: the device faults. */
	assert_true(sio_dma_read(dev, SIO_NO_PASID, iova, got, 1, NULL) < 0);
	assert_int_equal(destroy(f, stdev), 0);
	sio_device_put(dev);
	assert_int_equal(destroy(f, ioas), 0);
}

static void test_hwpt_alloc(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), stdev, hwpt, idev;
	struct iommu_hwpt_alloc c = { .size = sizeof(c) };
	uint64_t iova = MOCK_APERTURE_START;

	assert_int_equal(map(f, ioas, f->buf, 4 * PAGE, &iova,
			     IOMMU_IOAS_MAP_FIXED_IOVA), 0);
	assert_int_equal(mock_domain(f, ioas, &stdev, &hwpt, &idev), 0);
	c.dev_id = idev;
	c.pt_id = ioas;
	assert_int_equal(io(f, IOMMU_HWPT_ALLOC, &c), 0);
	assert_true(c.out_hwpt_id != hwpt);
	/* A manual HWPT is filled with the IOAS's areas. */
	{
		struct iommu_test_cmd t = {
			.size = sizeof(t), .op = IOMMU_TEST_OP_MD_CHECK_MAP,
			.id = c.out_hwpt_id,
			.check_map = { .iova = iova, .length = 4 * PAGE,
				       .uptr = (uintptr_t)f->buf },
		};

		assert_int_equal(io(f, IOMMU_TEST_CMD, &t), 0);
	}
	/* Replace the device onto it; the auto HWPT goes away. */
	{
		struct iommu_test_cmd t = {
			.size = sizeof(t),
			.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, .id = stdev,
			.mock_domain_replace = { .pt_id = c.out_hwpt_id },
		};

		assert_int_equal(io(f, IOMMU_TEST_CMD, &t), 0);
		assert_int_equal(destroy(f, hwpt), -ENOENT);
		assert_int_equal(destroy(f, c.out_hwpt_id), -EBUSY);
	}
	/* Bad arguments. */
	{
		struct iommu_hwpt_alloc d = c;

		d.__reserved = 1;
		assert_int_equal(io(f, IOMMU_HWPT_ALLOC, &d), -EOPNOTSUPP);
		d = c;
		d.data_len = 8;
		assert_int_equal(io(f, IOMMU_HWPT_ALLOC, &d), -EINVAL);
		d = c;
		d.pt_id = 999;
		assert_int_equal(io(f, IOMMU_HWPT_ALLOC, &d), -EINVAL);
		d = c;
		d.dev_id = ioas;
		assert_int_equal(io(f, IOMMU_HWPT_ALLOC, &d), -ENOENT);
		d = c;
		d.flags = 1u << 30;
		assert_int_equal(io(f, IOMMU_HWPT_ALLOC, &d), -EOPNOTSUPP);
	}
	/* Selftest data: accepted. */
	{
		struct iommu_hwpt_selftest data = { .iotlb = 1 };
		struct iommu_hwpt_alloc d = c;

		d.data_type = IOMMU_HWPT_DATA_SELFTEST;
		d.data_len = sizeof(data);
		d.data_uptr = (uintptr_t)&data;
		assert_int_equal(io(f, IOMMU_HWPT_ALLOC, &d), 0);
		assert_int_equal(destroy(f, d.out_hwpt_id), 0);
		d.data_uptr = 8;
		assert_int_equal(io(f, IOMMU_HWPT_ALLOC, &d), -EFAULT);
	}
	assert_int_equal(destroy(f, stdev), 0);
	assert_int_equal(destroy(f, c.out_hwpt_id), 0);
	assert_int_equal(check_refs(f, f->buf, 4 * PAGE, 0), 0);
}

static void test_options(void **state)
{
	struct fx *f = *state;
	struct iommu_option o = { .size = sizeof(o),
				  .option_id = IOMMU_OPTION_RLIMIT_MODE,
				  .op = IOMMU_OPTION_OP_GET };
	uint32_t ioas;

	assert_int_equal(io(f, IOMMU_OPTION, &o), 0);
	assert_int_equal(o.val64, 0);
	o.object_id = 1;
	assert_int_equal(io(f, IOMMU_OPTION, &o), -EOPNOTSUPP);
	ioas = ioas_alloc(f);
	o.option_id = IOMMU_OPTION_HUGE_PAGES;
	o.object_id = ioas;
	assert_int_equal(io(f, IOMMU_OPTION, &o), 0);
	assert_int_equal(o.val64, 1);
	o.op = IOMMU_OPTION_OP_SET;
	o.val64 = 0;
	assert_int_equal(io(f, IOMMU_OPTION, &o), 0);
	o.val64 = 2;
	assert_int_equal(io(f, IOMMU_OPTION, &o), -EINVAL);
	o.op = IOMMU_OPTION_OP_GET;
	assert_int_equal(io(f, IOMMU_OPTION, &o), 0);
	assert_int_equal(o.val64, 0);
	/* With huge pages off the alignment is PAGE_SIZE. */
	{
		struct iommu_iova_range r[2];
		struct iommu_ioas_iova_ranges c = {
			.size = sizeof(c), .ioas_id = ioas, .num_iovas = 2,
			.allowed_iovas = (uintptr_t)r,
		};

		assert_int_equal(io(f, IOMMU_IOAS_IOVA_RANGES, &c), 0);
		assert_int_equal(c.out_iova_alignment, PAGE);
	}
	o.option_id = 7;
	assert_int_equal(io(f, IOMMU_OPTION, &o), -EOPNOTSUPP);
	/* RLIMIT_MODE cannot change once objects exist. */
	o.option_id = IOMMU_OPTION_RLIMIT_MODE;
	o.object_id = 0;
	o.op = IOMMU_OPTION_OP_SET;
	o.val64 = 1;
	{
		long rc = io(f, IOMMU_OPTION, &o);

		assert_true(rc == -EBUSY || rc == -EPERM);
	}
}

/* ACCESS_RW through an access object: read 64 bytes at iova into out. */
static long access_read(struct fx *f, uint32_t access_fd, uint64_t iova,
			void *out, uint32_t flags)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_ACCESS_RW, .id = access_fd,
		.access_rw = { .iova = iova, .length = 64,
			       .uptr = (uintptr_t)out, .flags = flags },
	};

	return io(f, IOMMU_TEST_CMD, &c);
}

static long access_replace(struct fx *f, uint32_t access_fd, uint32_t ioas)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_ACCESS_REPLACE_IOAS,
		.id = access_fd, .access_replace_ioas = { .ioas_id = ioas },
	};

	return io(f, IOMMU_TEST_CMD, &c);
}

/*
 * An access object moved between two IOASes, back and forth: each move
 * puts it in the new IOAS before it leaves the old one, so for a moment it
 * belongs to both.  Reads follow the IOAS it is on; the IOAS it is on is
 * busy, the one it left is not.
 */
static void test_access_replace(void **state)
{
	struct fx *f = *state;
	uint32_t a = ioas_alloc(f), b = ioas_alloc(f);
	uint64_t iova = 1ull << 24, iova_b = iova;
	struct iommu_test_cmd create = {
		.size = sizeof(create), .op = IOMMU_TEST_OP_CREATE_ACCESS, .id = a,
	};
	uint8_t *other = mmap(NULL, BUFSZ, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint8_t out[64];
	uint32_t fd;

	assert_true(other != MAP_FAILED);
	memset(other, 0x5a, BUFSZ);
	assert_int_equal(map(f, a, f->buf, BUFSZ, &iova, IOMMU_IOAS_MAP_FIXED_IOVA), 0);
	assert_int_equal(map(f, b, other, BUFSZ, &iova_b, IOMMU_IOAS_MAP_FIXED_IOVA), 0);
	assert_int_equal(io(f, IOMMU_TEST_CMD, &create), 0);
	fd = create.create_access.out_access_fd;

	for (int round = 0; round < 3; round++) {
		assert_int_equal(access_read(f, fd, iova + 64, out, 0), 0);
		assert_memory_equal(out, f->buf + 64, sizeof(out));
		assert_int_equal(access_replace(f, fd, b), 0);
		assert_int_equal(access_read(f, fd, iova + 64, out,
					     MOCK_ACCESS_RW_SLOW_PATH), 0);
		assert_memory_equal(out, other + 64, sizeof(out));
		assert_int_equal(destroy(f, b), -EBUSY);
		assert_int_equal(access_replace(f, fd, a), 0);
	}
	assert_int_equal(access_replace(f, fd, b), 0);
	assert_int_equal(destroy(f, a), 0);
	assert_int_equal(destroy(f, b), -EBUSY);
	assert_int_equal(sio_file_close((int)fd), 0);
	assert_int_equal(destroy(f, b), 0);
	munmap(other, BUFSZ);
}

/*
 * The pinning promise after the program unmaps its view: DMA through the
 * pinned pages (the access slow path) still reads the data, the kernel's
 * fast path through the view fails, and IOAS_COPY into an IOAS with a
 * domain takes the pages already pinned instead of the vanished view.
 */
static void test_pinned_after_munmap(void **state)
{
	struct fx *f = *state;
	uint32_t a = ioas_alloc(f), b = ioas_alloc(f), stdev, hwpt, idev;
	uint32_t stdev2, hwpt2, idev2, fd;
	uint64_t iova = 1ull << 24;
	struct iommu_test_cmd create = {
		.size = sizeof(create), .op = IOMMU_TEST_OP_CREATE_ACCESS,
	};
	struct iommu_ioas_copy copy = {
		.size = sizeof(copy),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.dst_ioas_id = b, .src_ioas_id = a, .length = BUFSZ,
		.dst_iova = 1ull << 25, .src_iova = 1ull << 24,
	};
	uint8_t expect[64], out[64];

	memcpy(expect, f->buf + 128, sizeof(expect));
	assert_int_equal(mock_domain(f, a, &stdev, &hwpt, &idev), 0);
	assert_int_equal(mock_domain(f, b, &stdev2, &hwpt2, &idev2), 0);
	assert_int_equal(map(f, a, f->buf, BUFSZ, &iova, IOMMU_IOAS_MAP_FIXED_IOVA), 0);
	create.id = a;
	assert_int_equal(io(f, IOMMU_TEST_CMD, &create), 0);
	fd = create.create_access.out_access_fd;

	assert_int_equal(munmap(f->buf, BUFSZ), 0);
	assert_int_equal(access_read(f, fd, iova + 128, out, 0), -EFAULT);
	assert_int_equal(access_read(f, fd, iova + 128, out, MOCK_ACCESS_RW_SLOW_PATH), 0);
	assert_memory_equal(out, expect, sizeof(out));

	assert_int_equal(io(f, IOMMU_IOAS_COPY, &copy), 0);
	assert_int_equal(access_replace(f, fd, b), 0);
	memset(out, 0, sizeof(out));
	assert_int_equal(access_read(f, fd, copy.dst_iova + 128, out,
				     MOCK_ACCESS_RW_SLOW_PATH), 0);
	assert_memory_equal(out, expect, sizeof(out));

	assert_int_equal(sio_file_close((int)fd), 0);
	assert_int_equal(destroy(f, stdev), 0);
	assert_int_equal(destroy(f, stdev2), 0);
	/* The fixture's buffer is gone: give teardown something to unmap. */
	f->buf = mmap(NULL, BUFSZ, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(f->buf != MAP_FAILED);
}

/*
 * Inputs the fuzzer (tests/fuzz) found, each as the kernel answers it.
 *
 * ALLOW_IOVAS with a huge num_iovas and a short array: the kernel loads
 * the ranges one by one and stops at the first fault (-EFAULT); we used to
 * allocate num_iovas entries first (64 GiB here).
 */
static void test_fuzz_allow_iovas_huge_count(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	/* Two ranges at the end of a page whose next page is unmapped. */
	uint8_t *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct iommu_iova_range *r;
	struct iommu_ioas_allow_iovas al = {
		.size = sizeof(al), .ioas_id = ioas, .num_iovas = UINT32_MAX,
	};

	assert_true(m != MAP_FAILED);
	assert_int_equal(munmap(m + PAGE, PAGE), 0);
	r = (void *)(m + PAGE - 2 * sizeof(*r));
	r[0].start = 16 * PAGE;
	r[0].last = 32 * PAGE - 1;
	r[1].start = 64 * PAGE;
	r[1].last = 128 * PAGE - 1;
	al.allowed_iovas = (uintptr_t)r;
	assert_int_equal(io(f, IOMMU_IOAS_ALLOW_IOVAS, &al), -EFAULT);
	al.num_iovas = 3;
	assert_int_equal(io(f, IOMMU_IOAS_ALLOW_IOVAS, &al), -EFAULT);
	al.num_iovas = 2;
	assert_int_equal(io(f, IOMMU_IOAS_ALLOW_IOVAS, &al), 0);
	munmap(m, PAGE);
}

/*
 * A huge MAP (the kernel takes any length up to SIZE_MAX and pins on
 * demand) pinned one page at a time by an access: the pin costs one page,
 * not an array over the whole range (we used to calloc 4 bytes per page of
 * the area on the first pin: -ENOMEM here, an abort under ASan).
 */
static void test_fuzz_pin_in_huge_area(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	uint64_t iova = 1ull << 24;
	struct iommu_test_cmd create = {
		.size = sizeof(create), .op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = ioas,
		.create_access = {
			.flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES },
	};
	struct iommu_test_cmd pages = {
		.size = sizeof(pages), .op = IOMMU_TEST_OP_ACCESS_PAGES,
		.access_pages = { .iova = iova + PAGE, .length = 2 * PAGE,
				  .uptr = (uintptr_t)f->buf + PAGE },
	};
	uint64_t unmapped;
	char *other = mmap(NULL, 65 * PAGE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_ptr_not_equal(other, MAP_FAILED);
	memset(other, 1, PAGE);
	munmap(other + 64 * PAGE, PAGE);
	assert_int_equal(map(f, ioas, f->buf, 1ull << 50, &iova,
			     IOMMU_IOAS_MAP_FIXED_IOVA), 0);
	assert_int_equal(io(f, IOMMU_TEST_CMD, &create), 0);
	pages.id = create.create_access.out_access_fd;
	assert_int_equal(io(f, IOMMU_TEST_CMD, &pages), 0);
	assert_int_equal(check_refs(f, f->buf + PAGE, 2 * PAGE, 1), 0);
	assert_int_equal(check_refs(f, f->buf, PAGE, 0), 0);
	/* The pinned pages must be the ones behind uptr (the kernel's
	 * iommufd_test_check_pages): other pages are -EBADE, and the failed
	 * pin leaves nothing pinned. */
	pages.access_pages.iova = iova;
	assert_int_equal(io(f, IOMMU_TEST_CMD, &pages), -EBADE);
	assert_int_equal(check_refs(f, f->buf, PAGE, 0), 0);
	pages.access_pages.uptr = (uintptr_t)other;
	assert_int_equal(io(f, IOMMU_TEST_CMD, &pages), -EBADE);
	assert_int_equal(check_refs(f, f->buf, PAGE, 0), 0);
	/* An unmapped uptr is -EFAULT, as get_user_pages() answers. */
	pages.access_pages.uptr = (uintptr_t)other + 64 * PAGE;
	assert_int_equal(io(f, IOMMU_TEST_CMD, &pages), -EFAULT);
	/* A second, overlapping pin counts each page once; a NULL uptr
	 * skips the check. */
	pages.access_pages.uptr = (uintptr_t)f->buf;
	assert_int_equal(io(f, IOMMU_TEST_CMD, &pages), 0);
	assert_int_equal(check_refs(f, f->buf, 3 * PAGE, 1), 0);
	pages.access_pages.uptr = 0;
	assert_int_equal(io(f, IOMMU_TEST_CMD, &pages), 0);
	assert_int_equal(unmap(f, ioas, iova, 1ull << 50, &unmapped), 0);
	assert_true(unmapped == 1ull << 50);
	assert_int_equal(check_refs(f, f->buf, 3 * PAGE, 0), 0);
	assert_int_equal(sio_file_close((int)create.create_access.out_access_fd),
			 0);
	munmap(other, 64 * PAGE);
}

/*
 * Closing /dev/iommu while an access fd made on it is open: the access
 * holds the context (the kernel's iommufd_ctx_get), so its objects stay
 * until the access fd closes; closing it then used to touch the freed
 * context.
 */
static void test_fuzz_release_before_access_close(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	uint64_t iova = 1ull << 24;
	struct iommu_test_cmd create = {
		.size = sizeof(create), .op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = ioas,
		.create_access = {
			.flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES },
	};
	struct iommu_test_cmd pages = {
		.size = sizeof(pages), .op = IOMMU_TEST_OP_ACCESS_PAGES,
		.access_pages = { .iova = iova, .length = PAGE,
				  .uptr = (uintptr_t)f->buf },
	};
	uint8_t out[64];

	assert_int_equal(map(f, ioas, f->buf, BUFSZ, &iova,
			     IOMMU_IOAS_MAP_FIXED_IOVA), 0);
	assert_int_equal(io(f, IOMMU_TEST_CMD, &create), 0);
	pages.id = create.create_access.out_access_fd;
	assert_int_equal(io(f, IOMMU_TEST_CMD, &pages), 0);
	sio_iommufd_release(f->ictx);
	assert_int_equal(sio_iommufd_open(f->host, &f->ictx), 0);
	/* The access and its IOAS live on, reached through its fd. */
	assert_int_equal(check_refs(f, f->buf, PAGE, 1), 0);
	assert_int_equal(access_read(f, pages.id, iova + 64, out, 0), 0);
	assert_memory_equal(out, f->buf + 64, sizeof(out));
	assert_int_equal(sio_file_close((int)pages.id), 0);
	assert_int_equal(check_refs(f, f->buf, PAGE, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_size_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_object_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_map_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioas_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mock_domain_dma, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hwpt_alloc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pinned_after_munmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fuzz_allow_iovas_huge_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fuzz_pin_in_huge_area, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fuzz_release_before_access_close, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
