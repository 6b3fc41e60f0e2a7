/*
 * The VFIO type1 container ioctls on the iommufd fd, through
 * sio_iommufd_ioctl(): IOMMU_VFIO_IOAS, GET_API_VERSION, CHECK_EXTENSION,
 * SET_IOMMU (type1, type1v2, no-IOMMU), GET_INFO and its capability chain,
 * MAP_DMA and UNMAP_DMA (type1 cuts, type1v2 refuses partial unmaps), with
 * their error paths (after the kernel selftest's vfio_compat cases).
 */
#include <linux/capability.h>

#include "iommufd_helpers.h"
#include "iommufd/iommufd_private.h"
#include "softiommu/dma.h"
#include "softiommu/file.h"
#include "softiommu/uapi/vfio_compat.h"

#define NPAGES (BUFSZ / PAGE)

/* What compat_setup() made. */
struct compat {
	uint32_t ioas, stdev, hwpt, idev;
	struct sio_device *dev;		/* the mock device, a reference */
};

/* CHECK_EXTENSION and SET_IOMMU take a number, not a pointer. */
static long io_val(struct fx *f, unsigned int cmd, unsigned long val)
{
	return sio_iommufd_ioctl(f->ictx, cmd, val);
}

static long vfio_ioas(struct fx *f, uint16_t op, uint32_t *id)
{
	struct iommu_vfio_ioas c = { .size = sizeof(c), .op = op,
				     .ioas_id = id ? *id : 0 };
	long rc = io(f, IOMMU_VFIO_IOAS, &c);

	if (id)
		*id = c.ioas_id;
	return rc;
}

/* The kernel selftest's vfio_compat_mock_domain fixture: an IOAS with a
 * mock device, made the compat IOAS, then SET_IOMMU(type). */
static void compat_setup(struct fx *f, struct compat *c, unsigned long type)
{
	uint32_t id;

	c->ioas = ioas_alloc(f);
	assert_int_equal(mock_domain(f, c->ioas, &c->stdev, &c->hwpt,
				     &c->idev), 0);
	assert_int_equal(sio_iommufd_device_get(f->ictx, c->idev, &c->dev), 0);
	id = c->ioas;
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_SET, &id), 0);
	assert_int_equal(io_val(f, SIO_VFIO_SET_IOMMU, type), 0);
}

static long map_dma(struct fx *f, uint64_t iova, void *p, uint64_t size,
		    uint32_t flags)
{
	struct sio_vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = flags,
		.vaddr = (uintptr_t)p, .iova = iova, .size = size,
	};

	return io(f, SIO_VFIO_IOMMU_MAP_DMA, &m);
}

static long map_rw(struct fx *f, uint64_t iova, void *p, uint64_t size)
{
	return map_dma(f, iova, p, size, SIO_VFIO_DMA_MAP_FLAG_READ |
					 SIO_VFIO_DMA_MAP_FLAG_WRITE);
}

static long unmap_dma(struct fx *f, uint64_t iova, uint64_t size,
		      uint32_t flags, uint64_t *unmapped)
{
	struct sio_vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .flags = flags, .iova = iova, .size = size,
	};
	long rc = io(f, SIO_VFIO_IOMMU_UNMAP_DMA, &u);

	if (unmapped)
		*unmapped = u.size;
	return rc;
}

static long check_map(struct fx *f, uint32_t hwpt, uint64_t iova, void *p,
		      uint64_t len)
{
	struct iommu_test_cmd t = {
		.size = sizeof(t), .op = IOMMU_TEST_OP_MD_CHECK_MAP,
		.id = hwpt,
		.check_map = { .iova = iova, .length = len,
			       .uptr = (uintptr_t)p },
	};

	return io(f, IOMMU_TEST_CMD, &t);
}

/* IOMMU_OPTION_HUGE_PAGES of an IOAS is on (1) or off (0). */
static void assert_huge_pages(struct fx *f, uint32_t ioas, uint64_t want)
{
	struct iommu_option c = {
		.size = sizeof(c), .option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_GET, .object_id = ioas, .val64 = 3,
	};

	assert_int_equal(io(f, IOMMU_OPTION, &c), 0);
	assert_int_equal(c.val64, want);
}

/* ---------------------------------------------------------------- */

static void test_simple_ioctls(void **state)
{
	struct fx *f = *state;

	assert_int_equal(io_val(f, SIO_VFIO_GET_API_VERSION, 0),
			 SIO_VFIO_API_VERSION);
	assert_int_equal(io_val(f, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_TYPE1_IOMMU), 1);
	assert_int_equal(io_val(f, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_TYPE1v2_IOMMU), 1);
	assert_int_equal(io_val(f, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_UNMAP_ALL), 1);
	assert_int_equal(io_val(f, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_NOIOMMU_IOMMU), 1);
	assert_int_equal(io_val(f, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_UPDATE_VADDR), 0);
	assert_int_equal(io_val(f, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_RESERVED_TYPE1_NESTING_IOMMU), 0);
	assert_int_equal(io_val(f, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_SPAPR_TCE_IOMMU), 0);
	assert_int_equal(io_val(f, SIO_VFIO_CHECK_EXTENSION, 12345), 0);
	/* The full unsigned long is the extension number. */
	assert_int_equal(io_val(f, SIO_VFIO_CHECK_EXTENSION,
				(1ul << 32) | SIO_VFIO_TYPE1_IOMMU), 0);
	/* Cache coherency is a question about the compat IOAS. */
	assert_int_equal(io_val(f, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_DMA_CC_IOMMU), -ENODEV);

	/* SPAPR-only, type1 dirty tracking and unknown numbers. */
	assert_int_equal(io_val(f, SIO_VFIO_IOMMU_ENABLE, 0), -ENOTTY);
	assert_int_equal(io_val(f, SIO_VFIO_IOMMU_DISABLE, 0), -ENOTTY);
	assert_int_equal(io(f, SIO_VFIO_IOMMU_DIRTY_PAGES, f->buf), -ENOTTY);
	assert_int_equal(io_val(f, _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 3), 0),
			 -ENOTTY);
	/* The right number with another direction/size is another ioctl. */
	assert_int_equal(io_val(f, _IOR(SIO_VFIO_TYPE, SIO_VFIO_BASE, int), 0),
			 -ENOTTY);
}

/* The kernel's unmap_cmd, map_cmd, info_cmd and set_iommu_cmd: argsz and
 * flags are checked before the missing compat IOAS. */
static void test_no_compat_ioas(void **state)
{
	struct fx *f = *state;
	struct sio_vfio_iommu_type1_dma_unmap u = {
		.iova = MOCK_APERTURE_START, .size = PAGE,
	};
	struct sio_vfio_iommu_type1_dma_map m = {
		.iova = MOCK_APERTURE_START, .size = PAGE,
		.vaddr = (uintptr_t)f->buf,
	};
	struct sio_vfio_iommu_type1_info info = { 0 };

	u.argsz = offsetof(struct sio_vfio_iommu_type1_dma_unmap, size) + 7;
	assert_int_equal(io(f, SIO_VFIO_IOMMU_UNMAP_DMA, &u), -EINVAL);
	u.argsz = sizeof(u);
	u.flags = 1u << 31;
	assert_int_equal(io(f, SIO_VFIO_IOMMU_UNMAP_DMA, &u), -EINVAL);
	u.flags = SIO_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	assert_int_equal(io(f, SIO_VFIO_IOMMU_UNMAP_DMA, &u), -EINVAL);
	u.flags = SIO_VFIO_DMA_UNMAP_FLAG_VADDR;
	assert_int_equal(io(f, SIO_VFIO_IOMMU_UNMAP_DMA, &u), -EINVAL);
	u.flags = 0;
	assert_int_equal(io(f, SIO_VFIO_IOMMU_UNMAP_DMA, &u), -ENODEV);
	u.flags = SIO_VFIO_DMA_UNMAP_FLAG_ALL;
	assert_int_equal(io(f, SIO_VFIO_IOMMU_UNMAP_DMA, &u), -ENODEV);

	m.argsz = 1;
	assert_int_equal(io(f, SIO_VFIO_IOMMU_MAP_DMA, &m), -EINVAL);
	m.argsz = sizeof(m);
	m.flags = 1u << 31;
	assert_int_equal(io(f, SIO_VFIO_IOMMU_MAP_DMA, &m), -EINVAL);
	m.flags = SIO_VFIO_DMA_MAP_FLAG_VADDR;
	assert_int_equal(io(f, SIO_VFIO_IOMMU_MAP_DMA, &m), -EINVAL);
	m.flags = SIO_VFIO_DMA_MAP_FLAG_READ | SIO_VFIO_DMA_MAP_FLAG_WRITE;
	assert_int_equal(io(f, SIO_VFIO_IOMMU_MAP_DMA, &m), -ENODEV);

	info.argsz = 1;
	assert_int_equal(io(f, SIO_VFIO_IOMMU_GET_INFO, &info), -EINVAL);
	info.argsz = sizeof(info);
	assert_int_equal(io(f, SIO_VFIO_IOMMU_GET_INFO, &info), -ENODEV);

	assert_int_equal(io_val(f, SIO_VFIO_SET_IOMMU, SIO_VFIO_TYPE1v2_IOMMU),
			 -ENODEV);
	assert_int_equal(io_val(f, SIO_VFIO_SET_IOMMU, SIO_VFIO_TYPE1_IOMMU),
			 -ENODEV);
	/* The type is checked first. */
	assert_int_equal(io_val(f, SIO_VFIO_SET_IOMMU, SIO_VFIO_SPAPR_TCE_IOMMU),
			 -EINVAL);
	assert_int_equal(io_val(f, SIO_VFIO_SET_IOMMU, SIO_VFIO_NOIOMMU_IOMMU),
			 -EINVAL);

	/* Bad pointers: the fixed part is read before anything else. */
	assert_int_equal(io_val(f, SIO_VFIO_IOMMU_MAP_DMA, 0), -EFAULT);
	assert_int_equal(io_val(f, SIO_VFIO_IOMMU_UNMAP_DMA, 0), -EFAULT);
	assert_int_equal(io_val(f, SIO_VFIO_IOMMU_GET_INFO, 0), -EFAULT);
	assert_int_equal(io_val(f, SIO_VFIO_IOMMU_GET_INFO, 8), -EFAULT);
}

/* The kernel's vfio_ioas case and the rest of IOMMU_VFIO_IOAS's rules. */
static void test_vfio_ioas(void **state)
{
	struct fx *f = *state;
	struct iommu_vfio_ioas c = { .size = sizeof(c) };
	uint32_t id = 0, ioas, stdev, hwpt;

	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_GET, &id), -ENODEV);
	id = 0;
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_SET, &id), -ENOENT);
	id = 99;
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_SET, &id), -ENOENT);

	ioas = ioas_alloc(f);
	/* Only an IOAS can be the compat IOAS. */
	assert_int_equal(mock_domain(f, ioas, &stdev, &hwpt, NULL), 0);
	id = hwpt;
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_SET, &id), -ENOENT);
	id = ioas;
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_SET, &id), 0);
	id = 0;
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_GET, &id), 0);
	assert_int_equal(id, ioas);
	assert_int_equal(iommufd_vfio_compat_ioas_get_id(f->ictx, &id), 0);
	assert_int_equal(id, ioas);

	/* Unknown ops and a non-zero reserved field. */
	c.op = 3;
	assert_int_equal(io(f, IOMMU_VFIO_IOAS, &c), -EOPNOTSUPP);
	c.op = IOMMU_VFIO_IOAS_GET;
	c.__reserved = 1;
	assert_int_equal(io(f, IOMMU_VFIO_IOAS, &c), -EOPNOTSUPP);
	c.__reserved = 0;
	c.size = offsetof(struct iommu_vfio_ioas, __reserved);
	assert_int_equal(io(f, IOMMU_VFIO_IOAS, &c), -EINVAL);
	/* GET answers with the caller's size, not more. */
	{
		struct {
			struct iommu_vfio_ioas c;
			uint32_t tail;
		} big = { .c = { .size = sizeof(big.c),
				 .op = IOMMU_VFIO_IOAS_GET },
			  .tail = 0xa5a5a5a5 };

		assert_int_equal(io(f, IOMMU_VFIO_IOAS, &big), 0);
		assert_int_equal(big.c.ioas_id, ioas);
		assert_int_equal(big.tail, 0xa5a5a5a5);
	}

	/* Being the compat IOAS holds no reference: busy only for its HWPT. */
	assert_int_equal(destroy(f, ioas), -EBUSY);
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_CLEAR, NULL), 0);
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_GET, &id), -ENODEV);
	/* CLEAR with nothing set is fine too. */
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_CLEAR, NULL), 0);
	assert_int_equal(destroy(f, stdev), 0);
	assert_int_equal(destroy(f, ioas), 0);
}

/* DESTROY of the compat IOAS clears it; a new IOAS that reuses its ID
 * does not become the compat IOAS. */
static void test_destroy_clears_compat(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), id = ioas, again;

	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_SET, &id), 0);
	assert_int_equal(destroy(f, ioas), 0);
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_GET, &id), -ENODEV);
	assert_int_equal(map_rw(f, MOCK_APERTURE_START, f->buf, PAGE), -ENODEV);
	again = ioas_alloc(f);
	assert_int_equal(again, ioas);
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_GET, &id), -ENODEV);
	assert_int_equal(io_val(f, SIO_VFIO_SET_IOMMU, SIO_VFIO_TYPE1v2_IOMMU),
			 -ENODEV);
	/* Setting another IOAS replaces the compat IOAS without holding the
	 * old one. */
	id = again;
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_SET, &id), 0);
	id = ioas_alloc(f);
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_SET, &id), 0);
	assert_int_equal(destroy(f, again), 0);
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_GET, &again), 0);
	assert_int_equal(again, id);
	/* Left set at release: the last close destroys it. */
}

static void test_compat_ioas_create(void **state)
{
	struct fx *f = *state;
	uint32_t id = 0, id2 = 0, other;

	assert_int_equal(iommufd_vfio_compat_ioas_get_id(f->ictx, &id),
			 -ENODEV);
	assert_int_equal(iommufd_vfio_compat_ioas_create(f->ictx), 0);
	assert_int_equal(iommufd_vfio_compat_ioas_get_id(f->ictx, &id), 0);
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_GET, &id2), 0);
	assert_int_equal(id, id2);
	/* A second call keeps the one there is, and makes no object. */
	assert_int_equal(iommufd_vfio_compat_ioas_create(f->ictx), 0);
	assert_int_equal(iommufd_vfio_compat_ioas_get_id(f->ictx, &id2), 0);
	assert_int_equal(id, id2);
	other = ioas_alloc(f);
	assert_int_equal(other, id + 1);
	/* It is a published IOAS: usable by ID, and by the VFIO ioctls. */
	assert_int_equal(io_val(f, SIO_VFIO_SET_IOMMU, SIO_VFIO_TYPE1v2_IOMMU),
			 0);
	assert_int_equal(map_rw(f, MOCK_APERTURE_START, f->buf, PAGE), 0);
	assert_int_equal(unmap_dma(f, 0, 0, SIO_VFIO_DMA_UNMAP_FLAG_ALL, NULL),
			 0);
	/* Once set, no-IOMMU mode is refused. */
	assert_int_equal(iommufd_vfio_compat_set_no_iommu(f->ictx), -EINVAL);
	assert_int_equal(destroy(f, id), 0);
	assert_int_equal(iommufd_vfio_compat_ioas_get_id(f->ictx, &id2),
			 -ENODEV);
}

static void test_no_iommu_mode(void **state)
{
	struct fx *f = *state;
	uint32_t id = ioas_alloc(f);
	long want = iommufd_capable(CAP_SYS_RAWIO) ? 0 : -EPERM;

	/* Not in no-IOMMU mode: the no-IOMMU type is refused. */
	assert_int_equal(io_val(f, SIO_VFIO_SET_IOMMU, SIO_VFIO_NOIOMMU_IOMMU),
			 -EINVAL);
	assert_int_equal(iommufd_vfio_compat_set_no_iommu(f->ictx), 0);
	assert_int_equal(io_val(f, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_TYPE1_IOMMU), 0);
	assert_int_equal(io_val(f, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_TYPE1v2_IOMMU), 0);
	assert_int_equal(io_val(f, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_UNMAP_ALL), 0);
	assert_int_equal(io_val(f, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_NOIOMMU_IOMMU), 1);
	assert_int_equal(io_val(f, SIO_VFIO_SET_IOMMU, SIO_VFIO_NOIOMMU_IOMMU),
			 want);
	assert_int_equal(io_val(f, SIO_VFIO_SET_IOMMU, SIO_VFIO_TYPE1v2_IOMMU),
			 -EINVAL);
	assert_int_equal(io_val(f, SIO_VFIO_SET_IOMMU, SIO_VFIO_TYPE1_IOMMU),
			 -EINVAL);
	/* No compat IOAS is made for a no-IOMMU container... */
	assert_int_equal(iommufd_vfio_compat_ioas_create(f->ictx), -EINVAL);
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_GET, NULL), -ENODEV);
	/* ...and the other ioctls mostly fail for lack of one. */
	assert_int_equal(map_rw(f, MOCK_APERTURE_START, f->buf, PAGE), -ENODEV);
	/* IOMMU_VFIO_IOAS SET is not refused (as in the kernel); the mode
	 * stays, and the type1 IOMMUs stay refused. */
	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_SET, &id), 0);
	assert_int_equal(io_val(f, SIO_VFIO_SET_IOMMU, SIO_VFIO_TYPE1v2_IOMMU),
			 -EINVAL);
	assert_int_equal(iommufd_vfio_compat_set_no_iommu(f->ictx), -EINVAL);
}

/* The kernel's vfio_compat_mock_domain.map, type1v2. */
static void test_map_unmap_v2(void **state)
{
	struct fx *f = *state;
	const uint64_t iova = MOCK_APERTURE_START;
	struct compat c;
	uint64_t unmapped;
	uint8_t got[8];

	compat_setup(f, &c, SIO_VFIO_TYPE1v2_IOMMU);
	assert_huge_pages(f, c.ioas, 1);

	assert_int_equal(map_rw(f, iova, f->buf, BUFSZ), 0);
	assert_int_equal(check_map(f, c.hwpt, iova, f->buf, BUFSZ), 0);
	assert_int_equal(check_refs(f, f->buf, BUFSZ, 1), 0);
	assert_int_equal(sio_dma_read(c.dev, SIO_NO_PASID, iova + 3 * PAGE + 5,
				      got, sizeof(got), NULL), 0);
	assert_memory_equal(got, f->buf + 3 * PAGE + 5, sizeof(got));

	/* Already mapped, outside the aperture, zero size, bad memory. */
	assert_int_equal(map_rw(f, iova, f->buf, PAGE), -EEXIST);
	assert_int_equal(map_rw(f, 0x1000, f->buf, PAGE), -EINVAL);
	assert_int_equal(map_rw(f, iova + BUFSZ, f->buf, 0), -EINVAL);
	assert_int_equal(map_rw(f, iova + BUFSZ, NULL, PAGE), -EFAULT);

	/* Type1v2 never unmaps part of a mapping. */
	assert_int_equal(unmap_dma(f, iova + PAGE, PAGE, 0, &unmapped),
			 -ENOENT);
	assert_int_equal(unmapped, 0);
	assert_int_equal(unmap_dma(f, iova, PAGE, 0, NULL), -ENOENT);
	assert_int_equal(unmap_dma(f, iova, 0, 0, NULL), -EINVAL);
	assert_int_equal(unmap_dma(f, UINT64_MAX, 2, 0, NULL), -EOVERFLOW);

	assert_int_equal(unmap_dma(f, iova, BUFSZ, 0, &unmapped), 0);
	assert_int_equal(unmapped, BUFSZ);
	assert_true(sio_dma_read(c.dev, SIO_NO_PASID, iova, got, 1, NULL) < 0);
	assert_int_equal(check_refs(f, f->buf, BUFSZ, 0), 0);
	/* Unmapping nothing succeeds and reports 0. */
	assert_int_equal(unmap_dma(f, iova, BUFSZ, 0, &unmapped), 0);
	assert_int_equal(unmapped, 0);

	/* UNMAP_FLAG_ALL wants iova and size 0. */
	assert_int_equal(map_rw(f, iova, f->buf, BUFSZ), 0);
	assert_int_equal(map_rw(f, iova + 2 * BUFSZ, f->buf, PAGE), 0);
	assert_int_equal(unmap_dma(f, iova, 0, SIO_VFIO_DMA_UNMAP_FLAG_ALL,
				   NULL), -EINVAL);
	assert_int_equal(unmap_dma(f, 0, PAGE, SIO_VFIO_DMA_UNMAP_FLAG_ALL,
				   NULL), -EINVAL);
	assert_int_equal(unmap_dma(f, 0, 0, SIO_VFIO_DMA_UNMAP_FLAG_ALL,
				   &unmapped), 0);
	assert_int_equal(unmapped, BUFSZ + PAGE);

	/* Small pages, unmapped one by one. */
	for (unsigned int i = 0; i < NPAGES; i++)
		assert_int_equal(map_rw(f, iova + i * PAGE, f->buf + i * PAGE,
					PAGE), 0);
	for (unsigned int i = 0; i < NPAGES; i++) {
		unsigned int p = (i * 7) % NPAGES;

		assert_int_equal(unmap_dma(f, iova + p * PAGE, PAGE, 0,
					   &unmapped), 0);
		assert_int_equal(unmapped, PAGE);
	}
	assert_int_equal(check_refs(f, f->buf, BUFSZ, 0), 0);

	/* A read-only mapping: the device may not write. */
	assert_int_equal(map_dma(f, iova, f->buf, PAGE,
				 SIO_VFIO_DMA_MAP_FLAG_READ), 0);
	assert_true(sio_dma_write(c.dev, SIO_NO_PASID, iova, got, 1, NULL) < 0);
	assert_int_equal(sio_dma_read(c.dev, SIO_NO_PASID, iova, got, 1, NULL), 0);
	assert_int_equal(unmap_dma(f, iova, PAGE, 0, NULL), 0);
	sio_device_put(c.dev);

	/* Type1v2 after type1v2 is fine; type1 once mapped is not. */
	assert_int_equal(map_rw(f, iova, f->buf, PAGE), 0);
	assert_int_equal(io_val(f, SIO_VFIO_SET_IOMMU, SIO_VFIO_TYPE1v2_IOMMU),
			 0);
	assert_int_equal(io_val(f, SIO_VFIO_SET_IOMMU, SIO_VFIO_TYPE1_IOMMU),
			 -EINVAL);
	assert_huge_pages(f, c.ioas, 1);
}

/* The write-back of UNMAP_DMA's size can fault after the unmap is done. */
static void test_unmap_writeback_fault(void **state)
{
	struct fx *f = *state;
	struct sio_vfio_iommu_type1_dma_unmap *u;
	struct compat c;
	uint64_t unmapped;

	compat_setup(f, &c, SIO_VFIO_TYPE1v2_IOMMU);
	sio_device_put(c.dev);
	u = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(u != MAP_FAILED);
	*u = (struct sio_vfio_iommu_type1_dma_unmap){
		.argsz = sizeof(*u), .iova = MOCK_APERTURE_START, .size = PAGE,
	};
	assert_int_equal(mprotect(u, PAGE, PROT_READ), 0);
	assert_int_equal(map_rw(f, MOCK_APERTURE_START, f->buf, PAGE), 0);
	assert_int_equal(io(f, SIO_VFIO_IOMMU_UNMAP_DMA, u), -EFAULT);
	assert_int_equal(unmap_dma(f, MOCK_APERTURE_START, PAGE, 0, &unmapped),
			 0);
	assert_int_equal(unmapped, 0);
	munmap(u, PAGE);
}

/* Type1 (v0): large pages off, and unmap may cut a mapping anywhere on a
 * page boundary; what stays mapped stays reachable. */
static void test_type1_cut(void **state)
{
	struct fx *f = *state;
	const uint64_t iova = MOCK_APERTURE_START;
	struct compat c;
	uint64_t unmapped;
	uint8_t got[16];

	compat_setup(f, &c, SIO_VFIO_TYPE1_IOMMU);
	assert_huge_pages(f, c.ioas, 0);
	/* Type1v2 afterwards does not turn them back on. */
	assert_int_equal(io_val(f, SIO_VFIO_SET_IOMMU, SIO_VFIO_TYPE1v2_IOMMU),
			 0);
	assert_huge_pages(f, c.ioas, 0);

	assert_int_equal(map_rw(f, iova, f->buf, BUFSZ), 0);

	/* A hole in the middle. */
	assert_int_equal(unmap_dma(f, iova + 5 * PAGE, 2 * PAGE, 0, &unmapped),
			 0);
	assert_int_equal(unmapped, 2 * PAGE);
	assert_true(sio_dma_read(c.dev, SIO_NO_PASID, iova + 5 * PAGE, got, 1,
				 NULL) < 0);
	assert_true(sio_dma_read(c.dev, SIO_NO_PASID, iova + 7 * PAGE - 1, got, 1,
				 NULL) < 0);
	assert_int_equal(check_map(f, c.hwpt, iova, f->buf, 5 * PAGE), 0);
	assert_int_equal(check_map(f, c.hwpt, iova + 7 * PAGE, f->buf + 7 * PAGE,
				   BUFSZ - 7 * PAGE), 0);
	assert_int_equal(check_refs(f, f->buf, 5 * PAGE, 1), 0);
	assert_int_equal(check_refs(f, f->buf + 5 * PAGE, 2 * PAGE, 0), 0);
	assert_int_equal(check_refs(f, f->buf + 7 * PAGE, BUFSZ - 7 * PAGE, 1),
			 0);
	/* DMA through both remaining parts reaches the program's pages. */
	assert_int_equal(sio_dma_read(c.dev, SIO_NO_PASID, iova + 4 * PAGE + 9,
				      got, sizeof(got), NULL), 0);
	assert_memory_equal(got, f->buf + 4 * PAGE + 9, sizeof(got));
	memset(got, 0x3c, sizeof(got));
	assert_int_equal(sio_dma_write(c.dev, SIO_NO_PASID, iova + 9 * PAGE,
				       got, sizeof(got), NULL), 0);
	assert_memory_equal(f->buf + 9 * PAGE, got, sizeof(got));

	/* Cuts must fall on the IOVA alignment (a page). */
	assert_int_equal(unmap_dma(f, iova + PAGE + 1, PAGE, 0, NULL), -EINVAL);
	assert_int_equal(unmap_dma(f, iova + PAGE, PAGE + 1, 0, NULL), -EINVAL);
	/* Over a hole: the parts around it go, the hole counts nothing. */
	assert_int_equal(unmap_dma(f, iova + 4 * PAGE, 4 * PAGE, 0, &unmapped),
			 0);
	assert_int_equal(unmapped, 2 * PAGE);
	/* The first page, and the last. */
	assert_int_equal(unmap_dma(f, iova, PAGE, 0, &unmapped), 0);
	assert_int_equal(unmapped, PAGE);
	assert_int_equal(unmap_dma(f, iova + BUFSZ - PAGE, PAGE, 0, &unmapped),
			 0);
	assert_int_equal(unmapped, PAGE);
	assert_int_equal(check_map(f, c.hwpt, iova + PAGE, f->buf + PAGE, 3 * PAGE), 0);
	assert_int_equal(check_map(f, c.hwpt, iova + 8 * PAGE, f->buf + 8 * PAGE,
				   7 * PAGE), 0);

	/* The domain goes and a new one comes: the parts are pinned again
	 * on their own and mapped into it. */
	assert_int_equal(destroy(f, c.stdev), 0);
	assert_int_equal(check_refs(f, f->buf, BUFSZ, 0), 0);
	assert_int_equal(mock_domain(f, c.ioas, &c.stdev, &c.hwpt, NULL), 0);
	assert_int_equal(check_map(f, c.hwpt, iova + PAGE, f->buf + PAGE, 3 * PAGE), 0);
	assert_int_equal(check_map(f, c.hwpt, iova + 8 * PAGE, f->buf + 8 * PAGE,
				   7 * PAGE), 0);
	assert_int_equal(check_refs(f, f->buf + PAGE, 3 * PAGE, 1), 0);
	/* A cut of a part pinned after the domain came back. */
	assert_int_equal(unmap_dma(f, iova + 10 * PAGE, PAGE, 0, &unmapped), 0);
	assert_int_equal(unmapped, PAGE);
	assert_int_equal(check_refs(f, f->buf + 10 * PAGE, PAGE, 0), 0);
	assert_int_equal(check_refs(f, f->buf + 11 * PAGE, 4 * PAGE, 1), 0);

	assert_int_equal(unmap_dma(f, 0, 0, SIO_VFIO_DMA_UNMAP_FLAG_ALL,
				   &unmapped), 0);
	assert_int_equal(unmapped, 9 * PAGE);
	assert_int_equal(check_refs(f, f->buf, BUFSZ, 0), 0);
	sio_device_put(c.dev);
}

/* Cuts without a domain: areas split on any byte the alignment allows. */
static void test_type1_cut_no_domain(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), id = ioas;
	struct iommu_option opt = {
		.size = sizeof(opt), .option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_SET, .object_id = ioas, .val64 = 0,
	};
	uint64_t unmapped;

	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_SET, &id), 0);
	assert_int_equal(io_val(f, SIO_VFIO_SET_IOMMU, SIO_VFIO_TYPE1v2_IOMMU),
			 0);
	assert_int_equal(map_rw(f, 0, f->buf, BUFSZ), 0);
	/* Large pages on: no cut, a partial unmap fails. */
	assert_int_equal(unmap_dma(f, PAGE, PAGE, 0, NULL), -ENOENT);
	/* IOMMU_OPTION turns them off: the VFIO unmap cuts from then on. */
	assert_int_equal(io(f, IOMMU_OPTION, &opt), 0);
	assert_int_equal(unmap_dma(f, PAGE, PAGE, 0, &unmapped), 0);
	assert_int_equal(unmapped, PAGE);
	/* IOVA 0 needs no cut before it. */
	assert_int_equal(unmap_dma(f, 0, PAGE / 2, 0, NULL), -EINVAL);
	assert_int_equal(unmap_dma(f, 0, PAGE, 0, &unmapped), 0);
	assert_int_equal(unmapped, PAGE);
	assert_int_equal(unmap_dma(f, 0, 0, SIO_VFIO_DMA_UNMAP_FLAG_ALL,
				   &unmapped), 0);
	assert_int_equal(unmapped, BUFSZ - 2 * PAGE);
}

struct cap_walk {
	unsigned int n_dma, n_iova;
	uint32_t avail;
	uint32_t nr_iovas;
	uint64_t start, end;
};

/* Follow the chain of a complete answer as the kernel selftest does. */
static void walk_caps(const uint8_t *buf, struct cap_walk *w)
{
	const struct sio_vfio_iommu_type1_info *info = (const void *)buf;
	uint32_t off = info->cap_offset;

	memset(w, 0, sizeof(*w));
	assert_int_equal(off, sizeof(*info));
	for (;;) {
		const struct sio_vfio_info_cap_header *h = (const void *)(buf + off);

		assert_true(off + sizeof(*h) <= info->argsz);
		assert_int_equal(h->version, 1);
		if (h->id == SIO_VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
			const struct sio_vfio_iommu_type1_info_dma_avail *c =
				(const void *)h;

			w->n_dma++;
			w->avail = c->avail;
		} else if (h->id == SIO_VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			const struct sio_vfio_iommu_type1_info_cap_iova_range
				*c = (const void *)h;

			w->n_iova++;
			w->nr_iovas = c->nr_iovas;
			assert_true(off + sizeof(*c) +
				    c->nr_iovas * sizeof(c->iova_ranges[0]) <=
				    info->argsz);
			w->start = c->iova_ranges[0].start;
			w->end = c->iova_ranges[c->nr_iovas - 1].end;
		} else {
			fail_msg("unknown capability %u", h->id);
		}
		if (!h->next)
			break;
		assert_true(h->next > off);
		off = h->next;
	}
}

/* GET_INFO with argsz sz into buf: everything past sz is 0xaa before. */
static long get_info(struct fx *f, uint8_t *buf, size_t bsz, uint32_t sz)
{
	struct sio_vfio_iommu_type1_info *info = (void *)buf;

	memset(buf, 0, sizeof(*info));
	info->argsz = sz;
	memset(buf + sz, 0xaa, bsz - sz);
	return io(f, SIO_VFIO_IOMMU_GET_INFO, buf);
}

static void assert_untouched(const uint8_t *buf, size_t from, size_t bsz)
{
	for (size_t i = from; i < bsz; i++)
		assert_int_equal(buf[i], 0xaa);
}

static void test_get_info(void **state)
{
	struct fx *f = *state;
	const size_t bsz = 512;
	uint8_t *buf = calloc(1, bsz);
	struct sio_vfio_iommu_type1_info *info = (void *)buf;
	const uint32_t caps_flags = SIO_VFIO_IOMMU_INFO_PGSIZES |
				    SIO_VFIO_IOMMU_INFO_CAPS;
	struct cap_walk w;
	struct compat c;
	uint32_t total;

	assert_non_null(buf);
	compat_setup(f, &c, SIO_VFIO_TYPE1v2_IOMMU);
	sio_device_put(c.dev);

	/* The pre-capability ABI: 16 bytes in, 16 bytes out. */
	assert_int_equal(get_info(f, buf, bsz, 16), 0);
	assert_int_equal(info->flags, caps_flags);
	/* Mock IOPTEs are 2 KiB: folded into the CPU page. */
	assert_true(info->iova_pgsizes & PAGE);
	assert_int_equal(info->iova_pgsizes & (PAGE - 1), 0);
	assert_untouched(buf, 16, bsz);

	/* The fixed part only: told how much the capabilities need. */
	assert_int_equal(get_info(f, buf, bsz, sizeof(*info)), 0);
	assert_int_equal(info->cap_offset, 0);
	/* 16 (DMA avail, 12 rounded up) + 16 + 16 (one IOVA range). */
	assert_int_equal(info->argsz, sizeof(*info) + 16 + 32);
	total = info->argsz;
	assert_untouched(buf, sizeof(*info), bsz);

	/* Every size in between writes nothing past argsz and no chain. */
	for (uint32_t sz = sizeof(*info); sz < total; sz++) {
		assert_int_equal(get_info(f, buf, bsz, sz), 0);
		assert_int_equal(info->flags, caps_flags);
		assert_int_equal(info->argsz, total);
		assert_int_equal(info->cap_offset, 0);
		assert_untouched(buf, sz, bsz);
	}

	/* Enough room: the whole chain. */
	for (uint32_t sz = total; sz < total + 24; sz += 8) {
		assert_int_equal(get_info(f, buf, bsz, sz), 0);
		assert_int_equal(info->argsz, total);
		walk_caps(buf, &w);
		assert_int_equal(w.n_dma, 1);
		assert_int_equal(w.avail, UINT32_MAX);
		assert_int_equal(w.n_iova, 1);
		assert_int_equal(w.nr_iovas, 1);
		assert_int_equal(w.start, MOCK_APERTURE_START);
		assert_int_equal(w.end, MOCK_APERTURE_LAST);
		assert_untouched(buf, total, bsz);
	}

	/* A caller's buffer that faults where the capabilities go. */
	{
		uint8_t *pg = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct sio_vfio_iommu_type1_info *ti;

		assert_true(pg != MAP_FAILED);
		assert_int_equal(mprotect(pg + PAGE, PAGE, PROT_NONE), 0);
		ti = (void *)(pg + PAGE - sizeof(*ti));
		*ti = (struct sio_vfio_iommu_type1_info){ .argsz = 256 };
		assert_int_equal(io(f, SIO_VFIO_IOMMU_GET_INFO, ti), -EFAULT);
		munmap(pg, 2 * PAGE);
	}
	free(buf);
}

/* No domain: the whole IOVA space, in CPU pages. */
static void test_get_info_no_domain(void **state)
{
	struct fx *f = *state;
	uint8_t buf[128];
	struct sio_vfio_iommu_type1_info *info = (void *)buf;
	uint32_t ioas = ioas_alloc(f), id = ioas;
	struct cap_walk w;

	assert_int_equal(vfio_ioas(f, IOMMU_VFIO_IOAS_SET, &id), 0);
	memset(buf, 0, sizeof(buf));
	info->argsz = sizeof(buf);
	assert_int_equal(io(f, SIO_VFIO_IOMMU_GET_INFO, buf), 0);
	assert_int_equal(info->iova_pgsizes, ~(uint64_t)(PAGE - 1));
	walk_caps(buf, &w);
	assert_int_equal(w.nr_iovas, 1);
	assert_int_equal(w.start, 0);
	assert_true(w.end == UINT64_MAX);
	/* DMA_CC_IOMMU: no HWPT, so every one enforces it. */
	assert_int_equal(io_val(f, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_DMA_CC_IOMMU), 1);
}

static void test_dma_cc_iommu(void **state)
{
	struct fx *f = *state;
	struct compat c;

	compat_setup(f, &c, SIO_VFIO_TYPE1v2_IOMMU);
	sio_device_put(c.dev);
	/* The mock domain does not block no-snoop. */
	assert_int_equal(io_val(f, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_DMA_CC_IOMMU), 0);
	assert_int_equal(destroy(f, c.stdev), 0);
	assert_int_equal(io_val(f, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_DMA_CC_IOMMU), 1);
}

/* The last failure's message names the ioctl and holds the reason. */
static void assert_msg(const char *a, const char *b)
{
	const char *m = sio_last_error();

	if (!strstr(m, a) || !strstr(m, b))
		fail_msg("message \"%s\" lacks \"%s\" / \"%s\"", m, a, b);
}

/*
 * The container ioctls bypass the iommufd dispatcher's naming: their
 * messages name the VFIO ioctl themselves, reasons from the IO page table
 * included.  An access object's failure says where the IOVA went wrong.
 */
static void test_failed_vfio_ioctls_say_why(void **state)
{
	struct fx *f = *state;
	const uint64_t iova = MOCK_APERTURE_START;
	struct compat c;
	uint8_t out[64];
	struct iommu_test_cmd create = {
		.size = sizeof(create), .op = IOMMU_TEST_OP_CREATE_ACCESS,
	};
	struct iommu_test_cmd rw = {
		.size = sizeof(rw), .op = IOMMU_TEST_OP_ACCESS_RW,
		.access_rw = { .iova = iova + 4 * BUFSZ, .length = sizeof(out),
			       .uptr = (uintptr_t)out },
	};

	/* No compat IOAS yet. */
	assert_int_equal(map_rw(f, iova, f->buf, PAGE), -ENODEV);
	assert_msg("VFIO_IOMMU_MAP_DMA", "no compat IOAS");

	compat_setup(f, &c, SIO_VFIO_TYPE1v2_IOMMU);
	assert_int_equal(map_dma(f, iova, f->buf, PAGE, 0x80), -EINVAL);
	assert_msg("VFIO_IOMMU_MAP_DMA", "flags 0x80");
	assert_int_equal(unmap_dma(f, iova, PAGE, 0x40, NULL), -EINVAL);
	assert_msg("VFIO_IOMMU_UNMAP_DMA", "flags 0x40");
	assert_int_equal(io_val(f, SIO_VFIO_SET_IOMMU, 77), -EINVAL);
	assert_msg("VFIO_SET_IOMMU", "type 77");

	/* Unmaps the page table refuses: part of a mapping, zero length. */
	assert_int_equal(map_rw(f, iova, f->buf, BUFSZ), 0);
	assert_int_equal(unmap_dma(f, iova + PAGE, PAGE, 0, NULL), -ENOENT);
	assert_msg("VFIO_IOMMU_UNMAP_DMA", "cuts a mapping");
	assert_int_equal(unmap_dma(f, iova, 0, 0, NULL), -EINVAL);
	assert_msg("VFIO_IOMMU_UNMAP_DMA", "length 0");
	/* Mapping over a mapping. */
	assert_int_equal(map_rw(f, iova, f->buf, PAGE), -EEXIST);
	assert_msg("VFIO_IOMMU_MAP_DMA", "");

	/* An access reading IOVA outside every mapping. */
	create.id = c.ioas;
	assert_int_equal(io(f, IOMMU_TEST_CMD, &create), 0);
	rw.id = create.create_access.out_access_fd;
	assert_int_equal(io(f, IOMMU_TEST_CMD, &rw), -ENOENT);
	assert_msg("IOMMU_TEST_CMD", "is not in the IOAS");
	/* A zero-length read. */
	rw.access_rw.iova = iova;
	rw.access_rw.length = 0;
	assert_int_equal(io(f, IOMMU_TEST_CMD, &rw), -EINVAL);
	assert_msg("IOMMU_TEST_CMD", "zero length");
	/* A success leaves no message. */
	rw.access_rw.length = sizeof(out);
	assert_int_equal(io(f, IOMMU_TEST_CMD, &rw), 0);
	assert_memory_equal(out, f->buf, sizeof(out));
	assert_string_equal(sio_last_error(), "");
	assert_int_equal(sio_file_close((int)rw.id), 0);
	/* Not an access file any more. */
	assert_int_equal(io(f, IOMMU_TEST_CMD, &rw), -EBADFD);
	assert_msg("IOMMU_TEST_CMD", "not an access file");
	sio_device_put(c.dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_simple_ioctls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_compat_ioas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vfio_ioas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_clears_compat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compat_ioas_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_iommu_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_unmap_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap_writeback_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_type1_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_type1_cut_no_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_info_no_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_cc_iommu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_vfio_ioctls_say_why,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
