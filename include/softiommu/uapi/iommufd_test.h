/*
 * softiommu's own description of the iommufd selftest ("mock") ABI.
 *
 * This file is part of softiommu and was written for it from the documented
 * layout; it is not a copy of the kernel's header.  It is byte-compatible
 * with drivers/iommu/iommufd/iommufd_test.h of Linux 7.3 (kernel 7.3.4): the
 * IOMMU_TEST_CMD ioctl, struct iommu_test_cmd with every member of its union,
 * the mock driver's HWPT/vIOMMU/invalidation/event data formats and the
 * MOCK_* and IOMMU_TEST_* constants have the kernel's names, sizes, offsets
 * and values.  A program written against the kernel's mock driver (such as
 * the kernel's own tools/testing/selftests/iommu) runs against softiommu's
 * mock driver unchanged.  tests/abi/ proves the layout (see docs/abi.md).
 *
 * The kernel only offers IOMMU_TEST_CMD when built with
 * CONFIG_IOMMUFD_TEST; softiommu always offers it on its /dev/iommu.
 */
#ifndef SOFTIOMMU_UAPI_IOMMUFD_TEST_H
#define SOFTIOMMU_UAPI_IOMMUFD_TEST_H

#include <linux/types.h>

#include "iommufd.h"

/* Operations of IOMMU_TEST_CMD (iommu_test_cmd.op); "@id" is the header's id. */
enum {
	IOMMU_TEST_OP_ADD_RESERVED = 1,		/* reserve an IOVA range in IOAS @id */
	IOMMU_TEST_OP_MOCK_DOMAIN = 2,		/* add a mock device attached to @id */
	IOMMU_TEST_OP_MD_CHECK_MAP = 3,		/* check the HWPT/IOAS @id maps uptr */
	IOMMU_TEST_OP_MD_CHECK_REFS = 4,	/* check pin counts of user pages */
	IOMMU_TEST_OP_CREATE_ACCESS = 5,	/* access object on IOAS @id, returns an fd */
	IOMMU_TEST_OP_DESTROY_ACCESS_PAGES = 6,	/* unpin pages pinned by ACCESS_PAGES */
	IOMMU_TEST_OP_ACCESS_PAGES = 7,		/* pin pages through access fd @id */
	IOMMU_TEST_OP_ACCESS_RW = 8,		/* read/write IOVA through access fd @id */
	IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT = 9,/* limit temporary allocations */
	IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE = 10,	/* re-attach mock device @id */
	IOMMU_TEST_OP_ACCESS_REPLACE_IOAS = 11,	/* move access fd @id to another IOAS */
	IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS = 12,	/* MOCK_DOMAIN with device flags */
	IOMMU_TEST_OP_DIRTY = 13,		/* mark pages dirty in HWPT @id */
	IOMMU_TEST_OP_MD_CHECK_IOTLB = 14,	/* check a nested HWPT's mock IOTLB entry */
	IOMMU_TEST_OP_TRIGGER_IOPF = 15,	/* make a device report a page fault */
	IOMMU_TEST_OP_DEV_CHECK_CACHE = 16,	/* check a mock device cache entry */
	IOMMU_TEST_OP_TRIGGER_VEVENT = 17,	/* make a device report a vEVENT */
	IOMMU_TEST_OP_PASID_ATTACH = 18,	/* attach pt to a PASID of device @id */
	IOMMU_TEST_OP_PASID_REPLACE = 19,	/* replace a PASID's domain */
	IOMMU_TEST_OP_PASID_DETACH = 20,	/* detach a PASID */
	IOMMU_TEST_OP_PASID_CHECK_HWPT = 21,	/* check what a PASID is attached to */
	IOMMU_TEST_OP_DMABUF_GET = 22,		/* create a test dma-buf, returns an fd */
	IOMMU_TEST_OP_DMABUF_REVOKE = 23,	/* revoke/restore a test dma-buf */
};

/* Page-table formats of the mock domain (iommu_hwpt_selftest.pagetable_type). */
enum {
	MOCK_IOMMUPT_DEFAULT = 0,
	MOCK_IOMMUPT_HUGE = 1,
};

/* Geometry of a MOCK_IOMMUPT_DEFAULT domain. */
enum {
	MOCK_APERTURE_START = 1 << 24,		/* first usable IOVA: 16 MiB */
	MOCK_APERTURE_LAST = 0x7fffffff,	/* last usable IOVA: 2 GiB - 1 */
	MOCK_PAGE_SIZE = 2048,			/* mock IOPTE granule */
	MOCK_HUGE_PAGE_SIZE = 512 * 2048,	/* mock large IOPTE: 1 MiB */
};

/* access_pages.flags (MOCK_FLAGS_ACCESS_SYZ also in access_rw.flags) */
enum {
	MOCK_FLAGS_ACCESS_WRITE = 1 << 0,	/* pin for writing */
	MOCK_FLAGS_ACCESS_SYZ = 1 << 16,	/* syzkaller: iova is an index */
};

/* access_rw.flags */
enum {
	MOCK_ACCESS_RW_WRITE = 1 << 0,		/* write, else read */
	MOCK_ACCESS_RW_SLOW_PATH = 1 << 2,	/* force the page-by-page path */
};

/* create_access.flags: the access declares that it pins pages (needs_pin_pages). */
enum {
	MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES = 1 << 0,
};

/* mock_domain_flags.dev_flags */
enum {
	MOCK_FLAGS_DEVICE_NO_DIRTY = 1 << 0,	/* device cannot track dirty pages */
	MOCK_FLAGS_DEVICE_PASID = 1 << 2,	/* device supports PASID */
};

/* The mock nested domain's IOTLB: entries 0..MOCK_NESTED_DOMAIN_IOTLB_ID_MAX. */
enum {
	MOCK_NESTED_DOMAIN_IOTLB_ID_MAX = 3,
	MOCK_NESTED_DOMAIN_IOTLB_NUM = 4,
};

/* The mock device's cache: entries 0..MOCK_DEV_CACHE_ID_MAX. */
enum {
	MOCK_DEV_CACHE_ID_MAX = 3,
	MOCK_DEV_CACHE_NUM = 4,
};

/* A PASID the mock driver refuses, to test replace failure paths. */
#define IOMMU_TEST_PASID_RESERVED 1024

/*
 * IOMMU_TEST_CMD: one multiplexed ioctl; @op selects the union member that
 * carries the arguments.  Minimum size: up to @last (the full structure).
 */
struct iommu_test_cmd {
	__u32 size;
	__u32 op;		/* IOMMU_TEST_OP_* */
	__u32 id;		/* the object the op acts on */
	__u32 __reserved;
	union {
		/* ADD_RESERVED: @id = IOAS */
		struct {
			__aligned_u64 start;
			__aligned_u64 length;
		} add_reserved;
		/* MOCK_DOMAIN: @id = IOAS or HWPT to attach the new device to */
		struct {
			__u32 out_stdev_id;	/* the selftest device object */
			__u32 out_hwpt_id;	/* the HWPT it got attached to */
			__u32 out_idev_id;	/* its iommufd device (bind) ID */
		} mock_domain;
		/* MOCK_DOMAIN_FLAGS: as mock_domain, plus @dev_flags */
		struct {
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			__u32 out_idev_id;
			__u32 dev_flags;	/* MOCK_FLAGS_DEVICE_* */
		} mock_domain_flags;
		/* MOCK_DOMAIN_REPLACE: @id = stdev */
		struct {
			__u32 pt_id;		/* in: IOAS/HWPT; out: HWPT used */
		} mock_domain_replace;
		/* MD_CHECK_MAP: @id = HWPT or IOAS */
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} check_map;
		/* MD_CHECK_REFS */
		struct {
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 refs;
		} check_refs;
		/* CREATE_ACCESS: @id = IOAS */
		struct {
			__u32 out_access_fd;
			__u32 flags;
		} create_access;
		/* DESTROY_ACCESS_PAGES: @id = access fd */
		struct {
			__u32 access_pages_id;
		} destroy_access_pages;
		/* ACCESS_PAGES: @id = access fd */
		struct {
			__u32 flags;
			__u32 out_access_pages_id;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} access_pages;
		/* ACCESS_RW: @id = access fd */
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 flags;		/* MOCK_ACCESS_RW_* */
		} access_rw;
		/* SET_TEMP_MEMORY_LIMIT */
		struct {
			__u32 limit;
		} memory_limit;
		/* ACCESS_REPLACE_IOAS: @id = access fd */
		struct {
			__u32 ioas_id;
		} access_replace_ioas;
		/* DIRTY: @id = HWPT */
		struct {
			__u32 flags;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 page_size;
			__aligned_u64 uptr;
			__aligned_u64 out_nr_dirty;
		} dirty;
		/* MD_CHECK_IOTLB: @id = nested HWPT */
		struct {
			__u32 id;
			__u32 iotlb;
		} check_iotlb;
		/* TRIGGER_IOPF */
		struct {
			__u32 dev_id;
			__u32 pasid;
			__u32 grpid;
			__u32 perm;
			__u64 addr;
		} trigger_iopf;
		/* DEV_CHECK_CACHE: @id = stdev */
		struct {
			__u32 id;
			__u32 cache;
		} check_dev_cache;
		/* TRIGGER_VEVENT */
		struct {
			__u32 dev_id;
		} trigger_vevent;
		/* PASID_ATTACH: @id = stdev */
		struct {
			__u32 pasid;
			__u32 pt_id;
		} pasid_attach;
		/* PASID_REPLACE: @id = stdev */
		struct {
			__u32 pasid;
			__u32 pt_id;
		} pasid_replace;
		/* PASID_DETACH: @id = stdev */
		struct {
			__u32 pasid;
		} pasid_detach;
		/* PASID_CHECK_HWPT: @id = stdev; EINVAL unless the PASID is
		 * attached to @hwpt_id (0: unless it is detached) */
		struct {
			__u32 pasid;
			__u32 hwpt_id;
		} pasid_check;
		/* DMABUF_GET */
		struct {
			__u32 length;
			__u32 open_flags;
		} dmabuf_get;
		/* DMABUF_REVOKE */
		struct {
			__s32 dmabuf_fd;
			__u32 revoked;
		} dmabuf_revoke;
	};
	__u32 last;
};
#define IOMMU_TEST_CMD _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32)

/* PASID width of the mock device and IOMMU. */
#define MOCK_PASID_WIDTH 20

/* IOMMU_GET_HW_INFO on a mock device: type and data. */
#define IOMMU_HW_INFO_TYPE_SELFTEST 0xfeedbeef
#define IOMMU_HW_INFO_SELFTEST_REGVAL 0xdeadbeef

struct iommu_test_hw_info {
	__u32 flags;
	__u32 test_reg;		/* IOMMU_HW_INFO_SELFTEST_REGVAL */
};

/* The mock driver's nested HWPT data type (outside enum iommu_hwpt_data_type). */
#define IOMMU_HWPT_DATA_SELFTEST 0xdead
/* Initial value of every mock IOTLB entry and mock device cache entry. */
#define IOMMU_TEST_IOTLB_DEFAULT 0xbadbeef
#define IOMMU_TEST_DEV_CACHE_DEFAULT 0xbaddad

/* Nested HWPT data for IOMMU_HWPT_DATA_SELFTEST. */
struct iommu_hwpt_selftest {
	__u32 iotlb;		/* value for all IOTLB entries */
	__u32 pagetable_type;	/* MOCK_IOMMUPT_* */
};

/* The mock invalidation formats (outside enum iommu_hwpt_invalidate_data_type). */
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST 0xdeadbeef
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeef

/* Flag of the mock invalidation entries: invalidate every entry. */
#define IOMMU_TEST_INVALIDATE_FLAG_ALL (1 << 0)

/* One IOMMU_HWPT_INVALIDATE_DATA_SELFTEST entry: reset IOTLB entry @iotlb_id
 * (or all of them) of a mock nested HWPT to 0. */
struct iommu_hwpt_invalidate_selftest {
	__u32 flags;		/* IOMMU_TEST_INVALIDATE_FLAG_ALL */
	__u32 iotlb_id;
};

/* The mock vIOMMU type (outside enum iommu_viommu_type). */
#define IOMMU_VIOMMU_TYPE_SELFTEST 0xdeadbeef

/*
 * vIOMMU data for IOMMU_VIOMMU_TYPE_SELFTEST: @out_data echoes @in_data;
 * @out_mmap_offset/@out_mmap_length describe a region (two pages) that may
 * be mmap()ed from the iommufd.
 */
struct iommu_viommu_selftest {
	__u32 in_data;
	__u32 out_data;
	__aligned_u64 out_mmap_offset;
	__aligned_u64 out_mmap_length;
};

/* The mock vIOMMU invalidation formats (given to IOMMU_HWPT_INVALIDATE). */
#define IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST 0xdeadbeef
#define IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeef

/* One IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST entry: reset cache entry
 * @cache_id (or all of them) of the device whose virtual ID is @vdev_id. */
struct iommu_viommu_invalidate_selftest {
	__u32 flags;		/* IOMMU_TEST_INVALIDATE_FLAG_ALL */
	__u32 vdev_id;
	__u32 cache_id;
};

/* The mock vEVENTQ type (outside enum iommu_veventq_type) and its record. */
#define IOMMU_VEVENTQ_TYPE_SELFTEST 0xbeefbeef

struct iommu_viommu_event_selftest {
	__u32 virt_id;		/* virtual ID of the device that triggered it */
};

/* The mock HW queue type (outside enum iommu_hw_queue_type) and how many
 * queues one mock vIOMMU has. */
#define IOMMU_HW_QUEUE_TYPE_SELFTEST 0xdeadbeef
#define IOMMU_TEST_HW_QUEUE_MAX 2

#endif /* SOFTIOMMU_UAPI_IOMMUFD_TEST_H */
