/*
 * softiommu's own description of the VFIO type1 container ioctls that an
 * iommufd answers on the same fd (the kernel's "VFIO compatibility" mode,
 * drivers/iommu/iommufd/vfio_compat.c).
 *
 * This file is part of softiommu and was written for it from the documented
 * layout; it is not a copy of the kernel's header.  Its structures and
 * numbers are byte-compatible with the corresponding parts of <linux/vfio.h>
 * of Linux 7.3 (kernel 7.3.4); tests/abi/ proves it (see docs/abi.md).
 *
 * Naming: every name carries a "sio_"/"SIO_" prefix in front of the kernel's
 * name (struct sio_vfio_iommu_type1_dma_map <-> struct
 * vfio_iommu_type1_dma_map, SIO_VFIO_IOMMU_MAP_DMA <-> VFIO_IOMMU_MAP_DMA;
 * the kernel's __VFIO_RESERVED_TYPE1_NESTING_IOMMU is
 * SIO_VFIO_RESERVED_TYPE1_NESTING_IOMMU).  <linux/vfio.h> has been in every
 * Linux system header set for a decade and programs (and softiommu's own
 * sources, e.g. the LD_PRELOAD shim that sees VFIO ioctls on group and device
 * fds) include it freely; unprefixed names here would make any file that
 * includes both fail to compile with redefinitions.  The prefix makes the two
 * coexist; the values are identical, so either spelling may be used on the
 * wire.
 *
 * Semantics on an iommufd (as the kernel implements them):
 *  - SIO_VFIO_GET_API_VERSION returns SIO_VFIO_API_VERSION.
 *  - SIO_VFIO_CHECK_EXTENSION(ext) returns 1 for TYPE1_IOMMU, TYPE1v2_IOMMU
 *    and UNMAP_ALL (0 in no-IOMMU mode), 1 for NOIOMMU_IOMMU (a kernel
 *    built with CONFIG_VFIO_NOIOMMU, as Debian's is); DMA_CC_IOMMU reports
 *    whether every domain of the compat IOAS enforces cache coherency
 *    (ENODEV without a compat IOAS); everything else (UPDATE_VADDR, the
 *    reserved nesting type, ...) returns 0.
 *  - SIO_VFIO_SET_IOMMU(type) accepts TYPE1_IOMMU (which disables large
 *    IOPTEs so any sub-range can be unmapped) and TYPE1v2_IOMMU, ENODEV
 *    without a compat IOAS; NOIOMMU_IOMMU only in no-IOMMU mode (EPERM
 *    without CAP_SYS_RAWIO); EINVAL else.
 *  - SIO_VFIO_IOMMU_GET_INFO, SIO_VFIO_IOMMU_MAP_DMA (flags READ|WRITE only)
 *    and SIO_VFIO_IOMMU_UNMAP_DMA (flag ALL only) act on the compatibility
 *    IOAS (see IOMMU_VFIO_IOAS in iommufd.h); ENODEV without one.
 *  - SIO_VFIO_IOMMU_ENABLE/DISABLE (SPAPR), SIO_VFIO_IOMMU_DIRTY_PAGES and
 *    all other numbers give ENOTTY.
 * docs/vfio-compat.md has the details.
 * The argument is the extension/type number itself (not a pointer) for
 * CHECK_EXTENSION and SET_IOMMU.
 */
#ifndef SOFTIOMMU_UAPI_VFIO_COMPAT_H
#define SOFTIOMMU_UAPI_VFIO_COMPAT_H

#include <linux/ioctl.h>
#include <linux/types.h>

#ifndef __aligned_u64
#define __aligned_u64 __u64 __attribute__((aligned(8)))
#endif

#define SIO_VFIO_API_VERSION 0

/* Extensions (SIO_VFIO_CHECK_EXTENSION) and IOMMU types (SIO_VFIO_SET_IOMMU). */
#define SIO_VFIO_TYPE1_IOMMU 1
#define SIO_VFIO_SPAPR_TCE_IOMMU 2
#define SIO_VFIO_TYPE1v2_IOMMU 3
#define SIO_VFIO_DMA_CC_IOMMU 4		/* DMA is cache coherent (no-snoop blocked) */
#define SIO_VFIO_EEH 5
#define SIO_VFIO_RESERVED_TYPE1_NESTING_IOMMU 6	/* retired, never supported */
#define SIO_VFIO_SPAPR_TCE_v2_IOMMU 7
#define SIO_VFIO_NOIOMMU_IOMMU 8
#define SIO_VFIO_UNMAP_ALL 9		/* SIO_VFIO_DMA_UNMAP_FLAG_ALL works */
#define SIO_VFIO_UPDATE_VADDR 10	/* the VADDR flags work */

/* VFIO's ioctl type is iommufd's; VFIO numbers start at 100, iommufd's at 0x80. */
#define SIO_VFIO_TYPE (';')
#define SIO_VFIO_BASE 100

/*
 * Header of one capability in the chain that follows an INFO structure.
 * @next is the offset of the next capability from the start of the INFO
 * buffer, 0 at the end of the chain.
 */
struct sio_vfio_info_cap_header {
	__u16 id;
	__u16 version;
	__u32 next;
};

/* Container ioctls. */
#define SIO_VFIO_GET_API_VERSION _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 0)
#define SIO_VFIO_CHECK_EXTENSION _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 1)
#define SIO_VFIO_SET_IOMMU _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 2)

/*
 * SIO_VFIO_IOMMU_GET_INFO.  @argsz in: bytes available (at least up to
 * @iova_pgsizes); out: bytes needed for the structure and all capabilities.
 * With SIO_VFIO_IOMMU_INFO_CAPS set in @flags, @cap_offset is the offset of
 * the first capability, or 0 if @argsz was too small to hold them.
 */
struct sio_vfio_iommu_type1_info {
	__u32 argsz;
	__u32 flags;
#define SIO_VFIO_IOMMU_INFO_PGSIZES (1 << 0)	/* @iova_pgsizes is valid */
#define SIO_VFIO_IOMMU_INFO_CAPS (1 << 1)	/* @cap_offset is valid */
	__aligned_u64 iova_pgsizes;		/* bitmap of page sizes */
	__u32 cap_offset;
	__u32 pad;
};

/* Capability: the usable IOVA ranges (inclusive @end). */
#define SIO_VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE 1

struct sio_vfio_iova_range {
	__u64 start;
	__u64 end;
};

struct sio_vfio_iommu_type1_info_cap_iova_range {
	struct sio_vfio_info_cap_header header;
	__u32 nr_iovas;
	__u32 reserved;
	struct sio_vfio_iova_range iova_ranges[];
};

/* Capability: dirty page tracking for migration (not offered by iommufd). */
#define SIO_VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION 2

struct sio_vfio_iommu_type1_info_cap_migration {
	struct sio_vfio_info_cap_header header;
	__u32 flags;
	__u64 pgsize_bitmap;
	__u64 max_dirty_bitmap_size;		/* bytes */
};

/* Capability: how many more DMA mappings may be made. */
#define SIO_VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL 3

struct sio_vfio_iommu_type1_info_dma_avail {
	struct sio_vfio_info_cap_header header;
	__u32 avail;
};

#define SIO_VFIO_IOMMU_GET_INFO _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 12)

/*
 * SIO_VFIO_IOMMU_MAP_DMA: map @size bytes of process memory at @vaddr at
 * @iova.  Minimum @argsz: up to @size.
 */
struct sio_vfio_iommu_type1_dma_map {
	__u32 argsz;
	__u32 flags;
#define SIO_VFIO_DMA_MAP_FLAG_READ (1 << 0)	/* device may read */
#define SIO_VFIO_DMA_MAP_FLAG_WRITE (1 << 1)	/* device may write */
#define SIO_VFIO_DMA_MAP_FLAG_VADDR (1 << 2)	/* only update vaddr (unsupported) */
	__u64 vaddr;
	__u64 iova;
	__u64 size;
};

#define SIO_VFIO_IOMMU_MAP_DMA _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 13)

/* A user dirty bitmap: one bit per @pgsize page, @size bytes at @data. */
struct sio_vfio_bitmap {
	__u64 pgsize;
	__u64 size;
	__u64 *data;
};

/*
 * SIO_VFIO_IOMMU_UNMAP_DMA: unmap [@iova, @iova + @size); on return @size
 * is the number of bytes unmapped.  With SIO_VFIO_DMA_UNMAP_FLAG_ALL,
 * @iova and @size must be 0 and everything is unmapped.
 * Minimum @argsz: up to @size.
 */
struct sio_vfio_iommu_type1_dma_unmap {
	__u32 argsz;
	__u32 flags;
#define SIO_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP (1 << 0) /* unsupported */
#define SIO_VFIO_DMA_UNMAP_FLAG_ALL (1 << 1)
#define SIO_VFIO_DMA_UNMAP_FLAG_VADDR (1 << 2)		/* unsupported */
	__u64 iova;
	__u64 size;
	__u8 data[];
};

#define SIO_VFIO_IOMMU_UNMAP_DMA _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 14)

/* SPAPR-only; an iommufd answers ENOTTY. */
#define SIO_VFIO_IOMMU_ENABLE _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 15)
#define SIO_VFIO_IOMMU_DISABLE _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 16)

/* SIO_VFIO_IOMMU_DIRTY_PAGES: type1 dirty tracking; an iommufd answers ENOTTY. */
struct sio_vfio_iommu_type1_dirty_bitmap {
	__u32 argsz;
	__u32 flags;
#define SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_START (1 << 0)
#define SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP (1 << 1)
#define SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP (1 << 2)
	__u8 data[];
};

struct sio_vfio_iommu_type1_dirty_bitmap_get {
	__u64 iova;
	__u64 size;
	struct sio_vfio_bitmap bitmap;
};

#define SIO_VFIO_IOMMU_DIRTY_PAGES _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 17)

#endif /* SOFTIOMMU_UAPI_VFIO_COMPAT_H */
