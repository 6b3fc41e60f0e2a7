/*
 * softiommu's own description of the VFIO uAPI for groups, devices and
 * device cdevs: what a program does on /dev/vfio/<group> and
 * /dev/vfio/devices/vfio<N> and on the device fds they give.
 *
 * This file is part of softiommu and was written for it from the documented
 * layout; it is not a copy of the kernel's header.  Its structures and
 * numbers are byte-compatible with <linux/vfio.h> of Linux 7.3 (kernel
 * 7.3.4); tests/abi/ proves it (see docs/abi.md).  The container part
 * (SIO_VFIO_GET_API_VERSION, the type1 ioctls, the capability header) is in
 * vfio_compat.h, which this file includes, so that a program needs only
 * this one.
 *
 * Naming: as in vfio_compat.h, every name carries a "sio_"/"SIO_" prefix in
 * front of the kernel's (struct sio_vfio_region_info <-> struct
 * vfio_region_info, SIO_VFIO_DEVICE_GET_INFO <-> VFIO_DEVICE_GET_INFO), so
 * that this header and <linux/vfio.h> can be included in one file; the
 * values are identical.  The kernel's device API strings
 * (VFIO_DEVICE_API_PCI_STRING, ...), the s390, AP, CCW, EEH and SPAPR parts
 * and the retired v1 migration region are not described here.
 *
 * Argument sizes follow VFIO's rule, not iommufd's: each structure starts
 * with @argsz, the caller's buffer size; a call reads the fields up to its
 * minimum (named per ioctl below) and fails with EINVAL below it, and an
 * INFO call that has capabilities to report raises @argsz to what they
 * need when the caller's buffer is too small (see vfio_compat.h's
 * struct sio_vfio_info_cap_header for the chain).  docs/vfio.md says what
 * softiommu's emulated PCI functions answer to each ioctl.
 */
#ifndef SOFTIOMMU_UAPI_VFIO_H
#define SOFTIOMMU_UAPI_VFIO_H

#include <linux/ioctl.h>
#include <linux/types.h>

#include "vfio_compat.h"

/* ---------------- Group: /dev/vfio/<group> ---------------- */

/* SIO_VFIO_GROUP_GET_STATUS.  Minimum @argsz: up to @flags. */
struct sio_vfio_group_status {
	__u32 argsz;
	__u32 flags;
#define SIO_VFIO_GROUP_FLAGS_VIABLE (1 << 0)	/* every device is usable */
#define SIO_VFIO_GROUP_FLAGS_CONTAINER_SET (1 << 1)
};
#define SIO_VFIO_GROUP_GET_STATUS _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 3)

/* The argument points to the container's fd (an int). */
#define SIO_VFIO_GROUP_SET_CONTAINER _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 4)
#define SIO_VFIO_GROUP_UNSET_CONTAINER _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 5)
/* The argument points to the device's name ("0000:00:01.0"); returns a
 * device fd. */
#define SIO_VFIO_GROUP_GET_DEVICE_FD _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 6)

/* ---------------- Device fd ---------------- */

/* SIO_VFIO_DEVICE_GET_INFO.  Minimum @argsz: up to @num_irqs. */
struct sio_vfio_device_info {
	__u32 argsz;
	__u32 flags;
#define SIO_VFIO_DEVICE_FLAGS_RESET (1 << 0)	/* VFIO_DEVICE_RESET works */
#define SIO_VFIO_DEVICE_FLAGS_PCI (1 << 1)
#define SIO_VFIO_DEVICE_FLAGS_PLATFORM (1 << 2)
#define SIO_VFIO_DEVICE_FLAGS_AMBA (1 << 3)
#define SIO_VFIO_DEVICE_FLAGS_CCW (1 << 4)
#define SIO_VFIO_DEVICE_FLAGS_AP (1 << 5)
#define SIO_VFIO_DEVICE_FLAGS_FSL_MC (1 << 6)
#define SIO_VFIO_DEVICE_FLAGS_CAPS (1 << 7)	/* @cap_offset is valid */
#define SIO_VFIO_DEVICE_FLAGS_CDX (1 << 8)
	__u32 num_regions;	/* highest region index + 1 */
	__u32 num_irqs;		/* highest IRQ index + 1 */
	__u32 cap_offset;	/* first capability, from the start */
	__u32 pad;
};
#define SIO_VFIO_DEVICE_GET_INFO _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 7)

/* Device info capabilities (s390 zPCI ones are described elsewhere). */
#define SIO_VFIO_DEVICE_INFO_CAP_ZPCI_BASE 1
#define SIO_VFIO_DEVICE_INFO_CAP_ZPCI_GROUP 2
#define SIO_VFIO_DEVICE_INFO_CAP_ZPCI_UTIL 3
#define SIO_VFIO_DEVICE_INFO_CAP_ZPCI_PFIP 4

/* PCIe AtomicOp completion widths the path to the root supports. */
#define SIO_VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP 5
struct sio_vfio_device_info_cap_pci_atomic_comp {
	struct sio_vfio_info_cap_header header;
	__u32 flags;
#define SIO_VFIO_PCI_ATOMIC_COMP32 (1 << 0)
#define SIO_VFIO_PCI_ATOMIC_COMP64 (1 << 1)
#define SIO_VFIO_PCI_ATOMIC_COMP128 (1 << 2)
	__u32 reserved;
};

/*
 * SIO_VFIO_DEVICE_GET_REGION_INFO: the caller sets @argsz and @index.
 * Minimum @argsz: up to @offset.  @offset is where the region is in the
 * device fd (pread/pwrite/mmap); a region of @size 0 does not exist.
 */
struct sio_vfio_region_info {
	__u32 argsz;
	__u32 flags;
#define SIO_VFIO_REGION_INFO_FLAG_READ (1 << 0)
#define SIO_VFIO_REGION_INFO_FLAG_WRITE (1 << 1)
#define SIO_VFIO_REGION_INFO_FLAG_MMAP (1 << 2)
#define SIO_VFIO_REGION_INFO_FLAG_CAPS (1 << 3)	/* @cap_offset is valid */
	__u32 index;
	__u32 cap_offset;
	__aligned_u64 size;
	__aligned_u64 offset;
};
#define SIO_VFIO_DEVICE_GET_REGION_INFO _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 8)

/* Region capability: only these parts of the region may be mmapped. */
#define SIO_VFIO_REGION_INFO_CAP_SPARSE_MMAP 1

struct sio_vfio_region_sparse_mmap_area {
	__aligned_u64 offset;	/* within the region */
	__aligned_u64 size;
};

struct sio_vfio_region_info_cap_sparse_mmap {
	struct sio_vfio_info_cap_header header;
	__u32 nr_areas;
	__u32 reserved;
	struct sio_vfio_region_sparse_mmap_area areas[];
};

/* Region capability: what a device-specific region (index >= 9) is. */
#define SIO_VFIO_REGION_INFO_CAP_TYPE 2

struct sio_vfio_region_info_cap_type {
	struct sio_vfio_info_cap_header header;
	__u32 type;
	__u32 subtype;
};

/* Region types; a PCI vendor's own types carry its vendor ID. */
#define SIO_VFIO_REGION_TYPE_PCI_VENDOR_TYPE (1 << 31)
#define SIO_VFIO_REGION_TYPE_PCI_VENDOR_MASK (0xffff)
#define SIO_VFIO_REGION_TYPE_GFX (1)
#define SIO_VFIO_REGION_TYPE_CCW (2)
#define SIO_VFIO_REGION_TYPE_MIGRATION_DEPRECATED (3)

/* Subtypes of the Intel vendor type. */
#define SIO_VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION (1)
#define SIO_VFIO_REGION_SUBTYPE_INTEL_IGD_HOST_CFG (2)
#define SIO_VFIO_REGION_SUBTYPE_INTEL_IGD_LPC_CFG (3)
/* Of the NVIDIA and IBM vendor types (retired NVLink2 regions). */
#define SIO_VFIO_REGION_SUBTYPE_NVIDIA_NVLINK2_RAM (1)
#define SIO_VFIO_REGION_SUBTYPE_IBM_NVLINK2_ATSD (1)
/* Of SIO_VFIO_REGION_TYPE_GFX and SIO_VFIO_REGION_TYPE_CCW. */
#define SIO_VFIO_REGION_SUBTYPE_GFX_EDID (1)
#define SIO_VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD (1)
#define SIO_VFIO_REGION_SUBTYPE_CCW_SCHIB (2)
#define SIO_VFIO_REGION_SUBTYPE_CCW_CRW (3)
#define SIO_VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED (1)

/*
 * Region capability, header only: the MSI-X table and PBA inside this BAR
 * may be mmapped with the rest of it.
 */
#define SIO_VFIO_REGION_INFO_CAP_MSIX_MAPPABLE 3

/* Region capabilities of the retired NVLink2 regions. */
#define SIO_VFIO_REGION_INFO_CAP_NVLINK2_SSATGT 4

struct sio_vfio_region_info_cap_nvlink2_ssatgt {
	struct sio_vfio_info_cap_header header;
	__aligned_u64 tgt;
};

#define SIO_VFIO_REGION_INFO_CAP_NVLINK2_LNKSPD 5

struct sio_vfio_region_info_cap_nvlink2_lnkspd {
	struct sio_vfio_info_cap_header header;
	__u32 link_speed;
	__u32 __pad;
};

/*
 * SIO_VFIO_DEVICE_GET_IRQ_INFO: the caller sets @argsz and @index.
 * Minimum @argsz: up to @count.  MASKABLE: ACTION_MASK/UNMASK work;
 * AUTOMASKED: each interrupt masks the line until unmasked (level
 * triggered); NORESIZE: the set of enabled vectors is fixed once enabled
 * (disable all to change it).
 */
struct sio_vfio_irq_info {
	__u32 argsz;
	__u32 flags;
#define SIO_VFIO_IRQ_INFO_EVENTFD (1 << 0)
#define SIO_VFIO_IRQ_INFO_MASKABLE (1 << 1)
#define SIO_VFIO_IRQ_INFO_AUTOMASKED (1 << 2)
#define SIO_VFIO_IRQ_INFO_NORESIZE (1 << 3)
	__u32 index;
	__u32 count;		/* vectors of this index */
};
#define SIO_VFIO_DEVICE_GET_IRQ_INFO _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 9)

/*
 * SIO_VFIO_DEVICE_SET_IRQS: one action on vectors [@start, @start +
 * @count) of @index, with @data holding nothing, a __u8 per vector
 * (BOOL) or an __s32 eventfd per vector (EVENTFD, -1 to tear one down).
 * TRIGGER with DATA_EVENTFD connects the vectors; with DATA_NONE or BOOL it
 * fires their eventfds (loopback); DATA_NONE with @count 0 disables the
 * index.  Minimum @argsz: up to @count, plus the data.
 */
struct sio_vfio_irq_set {
	__u32 argsz;
	__u32 flags;
#define SIO_VFIO_IRQ_SET_DATA_NONE (1 << 0)
#define SIO_VFIO_IRQ_SET_DATA_BOOL (1 << 1)
#define SIO_VFIO_IRQ_SET_DATA_EVENTFD (1 << 2)
#define SIO_VFIO_IRQ_SET_ACTION_MASK (1 << 3)
#define SIO_VFIO_IRQ_SET_ACTION_UNMASK (1 << 4)
#define SIO_VFIO_IRQ_SET_ACTION_TRIGGER (1 << 5)
	__u32 index;
	__u32 start;
	__u32 count;
	__u8 data[];
};
#define SIO_VFIO_DEVICE_SET_IRQS _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 10)

#define SIO_VFIO_IRQ_SET_DATA_TYPE_MASK (SIO_VFIO_IRQ_SET_DATA_NONE | \
					 SIO_VFIO_IRQ_SET_DATA_BOOL | \
					 SIO_VFIO_IRQ_SET_DATA_EVENTFD)
#define SIO_VFIO_IRQ_SET_ACTION_TYPE_MASK (SIO_VFIO_IRQ_SET_ACTION_MASK | \
					   SIO_VFIO_IRQ_SET_ACTION_UNMASK | \
					   SIO_VFIO_IRQ_SET_ACTION_TRIGGER)

/* Reset the device (no argument). */
#define SIO_VFIO_DEVICE_RESET _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 11)

/* The fixed region indexes of a vfio-pci device. */
enum {
	SIO_VFIO_PCI_BAR0_REGION_INDEX,
	SIO_VFIO_PCI_BAR1_REGION_INDEX,
	SIO_VFIO_PCI_BAR2_REGION_INDEX,
	SIO_VFIO_PCI_BAR3_REGION_INDEX,
	SIO_VFIO_PCI_BAR4_REGION_INDEX,
	SIO_VFIO_PCI_BAR5_REGION_INDEX,
	SIO_VFIO_PCI_ROM_REGION_INDEX,
	SIO_VFIO_PCI_CONFIG_REGION_INDEX,
	/* Legacy VGA ranges of a base class 03 subclass 00 function, each at
	 * its own address within the region. */
	SIO_VFIO_PCI_VGA_REGION_INDEX,
	SIO_VFIO_PCI_NUM_REGIONS = 9	/* further ones: see CAP_TYPE */
};

/* The IRQ indexes of a vfio-pci device. */
enum {
	SIO_VFIO_PCI_INTX_IRQ_INDEX,
	SIO_VFIO_PCI_MSI_IRQ_INDEX,
	SIO_VFIO_PCI_MSIX_IRQ_INDEX,
	SIO_VFIO_PCI_ERR_IRQ_INDEX,	/* AER error notification */
	SIO_VFIO_PCI_REQ_IRQ_INDEX,	/* the host asks for the device back */
	SIO_VFIO_PCI_NUM_IRQS
};

/* A device affected by a hot reset: its group or, with the DEV_ID flag,
 * its iommufd device ID (OWNED: bound to the caller's iommufd without an
 * ID; NOT_OWNED: not the caller's). */
struct sio_vfio_pci_dependent_device {
	union {
		__u32 group_id;
		__u32 devid;
#define SIO_VFIO_PCI_DEVID_OWNED 0
#define SIO_VFIO_PCI_DEVID_NOT_OWNED -1
	};
	__u16 segment;
	__u8 bus;
	__u8 devfn;
};

/* SIO_VFIO_DEVICE_GET_PCI_HOT_RESET_INFO.  Minimum @argsz: up to @count;
 * ENOSPC with @count set when @devices does not fit. */
struct sio_vfio_pci_hot_reset_info {
	__u32 argsz;
	__u32 flags;
#define SIO_VFIO_PCI_HOT_RESET_FLAG_DEV_ID (1 << 0)
#define SIO_VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED (1 << 1)
	__u32 count;
	struct sio_vfio_pci_dependent_device devices[];
};
#define SIO_VFIO_DEVICE_GET_PCI_HOT_RESET_INFO \
	_IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 12)

/* SIO_VFIO_DEVICE_PCI_HOT_RESET: the group fds proving ownership of every
 * affected device (none with device cdevs).  Minimum @argsz: up to @count. */
struct sio_vfio_pci_hot_reset {
	__u32 argsz;
	__u32 flags;
	__u32 count;
	__s32 group_fds[];
};
#define SIO_VFIO_DEVICE_PCI_HOT_RESET _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 13)

/* SIO_VFIO_DEVICE_IOEVENTFD: writing @data (of the size in @flags) to
 * device fd @offset each time eventfd @fd is signalled; @fd -1 removes
 * it.  Minimum @argsz: up to @fd. */
struct sio_vfio_device_ioeventfd {
	__u32 argsz;
	__u32 flags;
#define SIO_VFIO_DEVICE_IOEVENTFD_8 (1 << 0)
#define SIO_VFIO_DEVICE_IOEVENTFD_16 (1 << 1)
#define SIO_VFIO_DEVICE_IOEVENTFD_32 (1 << 2)
#define SIO_VFIO_DEVICE_IOEVENTFD_64 (1 << 3)
#define SIO_VFIO_DEVICE_IOEVENTFD_SIZE_MASK (0xf)
	__aligned_u64 offset;
	__aligned_u64 data;
	__s32 fd;
	__u32 reserved;
};
#define SIO_VFIO_DEVICE_IOEVENTFD _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 16)

/*
 * SIO_VFIO_DEVICE_FEATURE: get, set or probe the feature whose number is
 * in the low 16 bits of @flags; @data's layout is the feature's.  GET and
 * SET together only with PROBE.  Minimum @argsz: up to @flags.
 */
struct sio_vfio_device_feature {
	__u32 argsz;
	__u32 flags;
#define SIO_VFIO_DEVICE_FEATURE_MASK (0xffff)
#define SIO_VFIO_DEVICE_FEATURE_GET (1 << 16)
#define SIO_VFIO_DEVICE_FEATURE_SET (1 << 17)
#define SIO_VFIO_DEVICE_FEATURE_PROBE (1 << 18)
	__u8 data[];
};
#define SIO_VFIO_DEVICE_FEATURE _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 17)

/* ---------------- Device cdev: /dev/vfio/devices/vfio<N> ---------------- */

/*
 * SIO_VFIO_DEVICE_BIND_IOMMUFD: bind the cdev's device to iommufd
 * @iommufd; @out_devid is its device ID there.  With FLAG_TOKEN,
 * @token_uuid_ptr points to the 16-byte VF token.  Until it succeeds every
 * other ioctl, read, write and mmap of the fd fails with EINVAL; closing
 * the fd unbinds.  Minimum @argsz: up to @out_devid.
 */
struct sio_vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
#define SIO_VFIO_DEVICE_BIND_FLAG_TOKEN (1 << 0)
	__s32 iommufd;
	__u32 out_devid;
	__aligned_u64 token_uuid_ptr;
};
#define SIO_VFIO_DEVICE_BIND_IOMMUFD _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 18)

/*
 * SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT: attach the device (or, with
 * ATTACH_PASID, its @pasid) to IOAS or HWPT @pt_id; @pt_id out: the HWPT
 * used.  Attaching again replaces.  Minimum @argsz: up to @pt_id (up to
 * @pasid with ATTACH_PASID).
 */
struct sio_vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
#define SIO_VFIO_DEVICE_ATTACH_PASID (1 << 0)
	__u32 pt_id;
	__u32 pasid;
};
#define SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 19)

/* SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT: back to blocking DMA.  Minimum
 * @argsz: up to @flags (up to @pasid with DETACH_PASID). */
struct sio_vfio_device_detach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
#define SIO_VFIO_DEVICE_DETACH_PASID (1 << 0)
	__u32 pasid;
};
#define SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 20)

/* ---------------- Device features ---------------- */

/* SET: the VF token of an SR-IOV PF (16 bytes). */
#define SIO_VFIO_DEVICE_FEATURE_PCI_VF_TOKEN (0)

/* GET: which migration protocols the device supports. */
struct sio_vfio_device_feature_migration {
	__aligned_u64 flags;
#define SIO_VFIO_MIGRATION_STOP_COPY (1 << 0)
#define SIO_VFIO_MIGRATION_P2P (1 << 1)
#define SIO_VFIO_MIGRATION_PRE_COPY (1 << 2)
};
#define SIO_VFIO_DEVICE_FEATURE_MIGRATION 1

/* GET/SET the migration state; a transition may return a data fd. */
struct sio_vfio_device_feature_mig_state {
	__u32 device_state;	/* enum sio_vfio_device_mig_state */
	__s32 data_fd;
};
#define SIO_VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE 2

enum sio_vfio_device_mig_state {
	SIO_VFIO_DEVICE_STATE_ERROR = 0,
	SIO_VFIO_DEVICE_STATE_STOP = 1,
	SIO_VFIO_DEVICE_STATE_RUNNING = 2,
	SIO_VFIO_DEVICE_STATE_STOP_COPY = 3,
	SIO_VFIO_DEVICE_STATE_RESUMING = 4,
	SIO_VFIO_DEVICE_STATE_RUNNING_P2P = 5,
	SIO_VFIO_DEVICE_STATE_PRE_COPY = 6,
	SIO_VFIO_DEVICE_STATE_PRE_COPY_P2P = 7,
	SIO_VFIO_DEVICE_STATE_NR,
};

/* SIO_VFIO_MIG_GET_PRECOPY_INFO on a migration data fd. */
struct sio_vfio_precopy_info {
	__u32 argsz;
	__u32 flags;
#define SIO_VFIO_PRECOPY_INFO_REINIT (1 << 0)
	__aligned_u64 initial_bytes;
	__aligned_u64 dirty_bytes;
};
#define SIO_VFIO_MIG_GET_PRECOPY_INFO _IO(SIO_VFIO_TYPE, SIO_VFIO_BASE + 21)

/* Runtime power management. */
#define SIO_VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY 3

struct sio_vfio_device_low_power_entry_with_wakeup {
	__s32 wakeup_eventfd;
	__u32 reserved;
};
#define SIO_VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP 4
#define SIO_VFIO_DEVICE_FEATURE_LOW_POWER_EXIT 5

/* Device-side dirty tracking of DMA for migration. */
struct sio_vfio_device_feature_dma_logging_control {
	__aligned_u64 page_size;
	__u32 num_ranges;
	__u32 __reserved;
	__aligned_u64 ranges;	/* num_ranges struct ..._dma_logging_range */
};

struct sio_vfio_device_feature_dma_logging_range {
	__aligned_u64 iova;
	__aligned_u64 length;
};
#define SIO_VFIO_DEVICE_FEATURE_DMA_LOGGING_START 6
#define SIO_VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP 7

struct sio_vfio_device_feature_dma_logging_report {
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 page_size;
	__aligned_u64 bitmap;
};
#define SIO_VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT 8

struct sio_vfio_device_feature_mig_data_size {
	__aligned_u64 stop_copy_length;
};
#define SIO_VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9

/* Bus Master Enable of devices without a PCI command register. */
struct sio_vfio_device_feature_bus_master {
	__u32 op;
#define SIO_VFIO_DEVICE_FEATURE_CLEAR_MASTER 0
#define SIO_VFIO_DEVICE_FEATURE_SET_MASTER 1
};
#define SIO_VFIO_DEVICE_FEATURE_BUS_MASTER 10

/* Export ranges of a region as a dmabuf. */
#define SIO_VFIO_DEVICE_FEATURE_DMA_BUF 11

struct sio_vfio_region_dma_range {
	__u64 offset;
	__u64 length;
};

struct sio_vfio_device_feature_dma_buf {
	__u32 region_index;
	__u32 open_flags;
	__u32 flags;
	__u32 nr_ranges;
	struct sio_vfio_region_dma_range dma_ranges[];
};

#define SIO_VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2 12

struct sio_vfio_device_feature_zpci_err {
	__aligned_u64 data;
};
#define SIO_VFIO_DEVICE_FEATURE_ZPCI_ERROR 13

#endif /* SOFTIOMMU_UAPI_VFIO_H */
