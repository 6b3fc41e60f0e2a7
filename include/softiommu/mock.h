/*
 * The mock IOMMU driver: the semantics of the Linux 7.3 iommufd selftest
 * mock (drivers/iommu/iommufd/selftest.c), so the kernel's iommufd tests run
 * against softiommu.  2 KiB I/O pages, aperture [2^24, 2^31 - 1] for the
 * default page-table type, a blocking default domain, PASIDs of width 20 on
 * devices created with SIO_MOCK_DEV_PASID, dirty-tracking allocation
 * refused on SIO_MOCK_DEV_NO_DIRTY devices, dirty bits in the page table,
 * nested domains with a 4-entry IOTLB that the selftest invalidation
 * entries clear (their stage 1 is the identity over the parent), the
 * selftest hw_info, and the selftest vIOMMU (softiommu/viommu.h): an
 * in/out data echo with a two-page region to mmap, nested domains that
 * need the device's vDEVICE to attach, invalidation of the per-device
 * 4-entry cache by virtual ID, one event type, two dependent HW queues.
 */
#ifndef SOFTIOMMU_MOCK_H
#define SOFTIOMMU_MOCK_H

#include "softiommu/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Values of the selftest ABI (iommufd_test.h). */
#define SIO_MOCK_APERTURE_START (1ull << 24)
#define SIO_MOCK_APERTURE_LAST ((1ull << 31) - 1)
enum {
	SIO_MOCK_PAGE_SIZE = 2048,
	SIO_MOCK_HUGE_PAGE_SIZE = 512 * 2048,
	SIO_MOCK_PASID_WIDTH = 20,
	SIO_MOCK_NESTED_IOTLB_NUM = 4,
	SIO_MOCK_NESTED_IOTLB_ID_MAX = 3,
	SIO_MOCK_HWPT_DATA = 0xdead,		/* IOMMU_HWPT_DATA_SELFTEST */
	SIO_MOCK_IOTLB_DEFAULT = 0xbadbeef,	/* IOMMU_TEST_IOTLB_DEFAULT */
};
#define SIO_MOCK_HW_INFO_TYPE 0xfeedbeefu	/* IOMMU_HW_INFO_TYPE_SELFTEST */
#define SIO_MOCK_HW_INFO_REGVAL 0xdeadbeefu	/* IOMMU_HW_INFO_SELFTEST_REGVAL */
#define SIO_MOCK_PASID_RESERVED 1024u	/* IOMMU_TEST_PASID_RESERVED */
#define SIO_MOCK_DEV_CACHE_DEFAULT 0xbaddadu	/* IOMMU_TEST_DEV_CACHE_DEFAULT */
#define SIO_MOCK_DEV_CACHE_NUM 4		/* MOCK_DEV_CACHE_NUM */

/* The selftest hw_info (struct iommu_test_hw_info). */
struct sio_mock_hw_info {
	uint32_t flags;
	uint32_t test_reg;
};

/* Device flags (desc.flags): MOCK_FLAGS_DEVICE_*. */
enum {
	SIO_MOCK_DEV_NO_DIRTY = 1u << 0,
	SIO_MOCK_DEV_PASID = 1u << 2,
};

/* Page-table types in the selftest user data (MOCK_IOMMUPT_*). */
enum {
	SIO_MOCK_PT_DEFAULT = 0,
	SIO_MOCK_PT_HUGE = 1,
};

/* The selftest HWPT user data (struct iommu_hwpt_selftest). */
struct sio_mock_hwpt_data {
	uint32_t iotlb;
	uint32_t pagetable_type;
};

/* The selftest invalidation entry (struct iommu_hwpt_invalidate_selftest,
 * data type IOMMU_HWPT_INVALIDATE_DATA_SELFTEST). */
#define SIO_MOCK_INVALIDATE_DATA 0xdeadbeefu
#define SIO_MOCK_INVALIDATE_FLAG_ALL (1u << 0)
struct sio_mock_invalidate {
	uint32_t flags;
	uint32_t iotlb_id;
};

/* The selftest vIOMMU (IOMMU_VIOMMU_TYPE_SELFTEST) and its data (struct
 * iommu_viommu_selftest): out_data echoes in_data, which is also the first
 * 32-bit word of the out_mmap_length-byte region to mmap at
 * out_mmap_offset. */
#define SIO_MOCK_VIOMMU_TYPE 0xdeadbeefu
struct sio_mock_viommu_data {
	uint32_t in_data;
	uint32_t out_data;
	uint64_t out_mmap_offset;
	uint64_t out_mmap_length;
};

/* vIOMMU invalidation (IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, struct
 * iommu_viommu_invalidate_selftest): reset entry cache_id, or all with
 * SIO_MOCK_INVALIDATE_FLAG_ALL, of the device whose virtual ID is
 * vdev_id. */
#define SIO_MOCK_VIOMMU_INVALIDATE_DATA 0xdeadbeefu
#define SIO_MOCK_DEV_CACHE_ID_MAX 3
struct sio_mock_viommu_invalidate {
	uint32_t flags;
	uint32_t vdev_id;
	uint32_t cache_id;
};

/* The event type (IOMMU_VEVENTQ_TYPE_SELFTEST) and its record. */
#define SIO_MOCK_VEVENTQ_TYPE 0xbeefbeefu
struct sio_mock_vevent {
	uint32_t virt_id;
};

/* HW queues (IOMMU_HW_QUEUE_TYPE_SELFTEST): indexes 0 and 1, each needing
 * the one below it. */
#define SIO_MOCK_HW_QUEUE_TYPE 0xdeadbeefu
#define SIO_MOCK_HW_QUEUE_MAX 2

SIO_API int sio_mock_iommu_create(struct sio_system *sys, const char *name,
				  struct sio_iommu **out);

/* Test hooks used by the iommufd test ABI. */
/* IOTLB entry id of a mock nested domain (MD_CHECK_IOTLB). */
SIO_API int sio_mock_nested_iotlb(struct sio_domain *domain, unsigned int id,
				  uint32_t *value);
SIO_API bool sio_mock_domain_is_mock(const struct sio_domain *domain);
/* Mark the leaf mapping iova dirty as a device write would (the selftest's
 * IOMMU_TEST_OP_DIRTY): -EINVAL unless domain is a mock paging domain with
 * tracking on, -ENOENT if iova is not mapped. */
SIO_API int sio_mock_domain_set_dirty(struct sio_domain *domain,
				      uint64_t iova);
/* Entry id of a mock device's 4-entry device cache (DEV_CHECK_CACHE):
 * -EINVAL for another driver's device or id > 3, -ENODEV once removed. */
SIO_API int sio_mock_dev_cache(struct sio_device *dev, unsigned int id,
			       uint32_t *value);
/* Report a selftest event naming dev's virtual ID on the vIOMMU whose
 * nested domain dev is attached to (TRIGGER_VEVENT): -ENOENT when it is
 * attached to none or has no virtual ID there, -EOPNOTSUPP when nobody
 * listens for the event type. */
SIO_API int sio_mock_dev_trigger_vevent(struct sio_device *dev);

#ifdef __cplusplus
}
#endif
#endif
