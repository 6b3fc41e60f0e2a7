/*
 * softiommu's own description of the /dev/iommu (iommufd) ioctl ABI.
 *
 * This file is part of softiommu and was written for it from the documented
 * layout of the Linux uAPI; it is not a copy of the kernel's header.  It is
 * byte-compatible with <linux/iommufd.h> of Linux 7.3 (Debian linux-libc-dev
 * 7.3, kernel 7.3.4): every structure has the same size, alignment, field
 * offsets and field sizes, every ioctl number and every enum/flag value is
 * the same, and the names are the kernel's, so a program written against the
 * kernel header compiles and runs against softiommu unchanged.
 * tests/abi/ proves this against the kernel's own header (see docs/abi.md).
 *
 * It needs only <linux/types.h> and <linux/ioctl.h> (present on any Linux
 * system, including ones whose linux-libc-dev predates iommufd) and never
 * includes the kernel's header.  It defines the same names as the kernel's
 * header, under its own include guard: do not include both in one file.
 *
 * General rules of the ABI (the kernel's, which softiommu implements):
 *  - Every command is _IO(IOMMUFD_TYPE, nr): the size is not encoded in the
 *    ioctl number.  Instead the first __u32 of every argument structure is
 *    @size, the number of bytes the caller passes.
 *  - A caller may pass a structure longer than the implementation knows, as
 *    long as the bytes beyond what it knows are zero (otherwise E2BIG), and a
 *    shorter one down to the command's minimum size (otherwise EINVAL).  The
 *    minimum size is "offsetofend(struct, field)" for the field named below as
 *    "minimum size: up to @field"; fields added later are optional.
 *  - Errors: ENOTTY unknown command; E2BIG unknown non-zero trailing bytes;
 *    EOPNOTSUPP a known field holds a value that is not supported; EINVAL a
 *    field is wrong; ENOENT an ID or IOVA does not exist; ENOMEM; EOVERFLOW
 *    arithmetic overflow; EFAULT a bad user pointer.
 *  - Fields named __reserved* must be zero on input.
 *  - "in" fields are read, "out" fields are written on success.
 */
#ifndef SOFTIOMMU_UAPI_IOMMUFD_H
#define SOFTIOMMU_UAPI_IOMMUFD_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Old <linux/types.h> may lack the 8-byte aligned 64-bit types. */
#ifndef __aligned_u64
#define __aligned_u64 __u64 __attribute__((aligned(8)))
#endif
#ifndef __aligned_le64
#define __aligned_le64 __le64 __attribute__((aligned(8)))
#endif

/* The ioctl "type" byte of iommufd; VFIO uses the same one (numbers 100+). */
#define IOMMUFD_TYPE (';')

/* Command numbers (the "nr" byte of the ioctl number). */
enum {
	IOMMUFD_CMD_BASE = 0x80,
	IOMMUFD_CMD_DESTROY = 0x80,
	IOMMUFD_CMD_IOAS_ALLOC = 0x81,
	IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82,
	IOMMUFD_CMD_IOAS_COPY = 0x83,
	IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84,
	IOMMUFD_CMD_IOAS_MAP = 0x85,
	IOMMUFD_CMD_IOAS_UNMAP = 0x86,
	IOMMUFD_CMD_OPTION = 0x87,
	IOMMUFD_CMD_VFIO_IOAS = 0x88,
	IOMMUFD_CMD_HWPT_ALLOC = 0x89,
	IOMMUFD_CMD_GET_HW_INFO = 0x8a,
	IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING = 0x8b,
	IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP = 0x8c,
	IOMMUFD_CMD_HWPT_INVALIDATE = 0x8d,
	IOMMUFD_CMD_FAULT_QUEUE_ALLOC = 0x8e,
	IOMMUFD_CMD_IOAS_MAP_FILE = 0x8f,
	IOMMUFD_CMD_VIOMMU_ALLOC = 0x90,
	IOMMUFD_CMD_VDEVICE_ALLOC = 0x91,
	IOMMUFD_CMD_IOAS_CHANGE_PROCESS = 0x92,
	IOMMUFD_CMD_VEVENTQ_ALLOC = 0x93,
	IOMMUFD_CMD_HW_QUEUE_ALLOC = 0x94,
	IOMMUFD_CMD_IOAS_NOIOMMU_GET_PA = 0x95,
};

/* ------------------------------------------------------------------------ */
/* Objects in general                                                        */

/*
 * IOMMU_DESTROY: destroy the object @id, whatever its type.
 * Fails with EBUSY while other objects still depend on it.
 * Minimum size: up to @id.
 */
struct iommu_destroy {
	__u32 size;
	__u32 id;		/* in: object ID */
};
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)

/* ------------------------------------------------------------------------ */
/* IO address spaces (IOAS)                                                  */

/*
 * IOMMU_IOAS_ALLOC: create an empty IO address space (a set of IOVA -> user
 * memory mappings that HW page tables are built from).
 * Minimum size: up to @out_ioas_id.
 */
struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;		/* in: must be 0 */
	__u32 out_ioas_id;	/* out: ID of the new IOAS */
};
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)

/* One interval of IOVA space; @last is inclusive. */
struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/*
 * IOMMU_IOAS_IOVA_RANGES: read the IOVA ranges that may currently be mapped
 * in @ioas_id.  @allowed_iovas points to an array of struct iommu_iova_range
 * with room for @num_iovas entries; on return @num_iovas holds the number of
 * ranges.  If the array is too small the call fails with EMSGSIZE and
 * @num_iovas tells how many are needed.  The ranges narrow as devices with
 * restrictions are attached and widen again on detach.
 * @out_iova_alignment is the alignment that the start and the end of every
 * IOVA range given to MAP/COPY must have (1 = any, at most PAGE_SIZE).
 * Minimum size: up to @out_iova_alignment.
 */
struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;			/* in */
	__u32 num_iovas;		/* in: array capacity; out: count */
	__u32 __reserved;
	__aligned_u64 allowed_iovas;	/* in: user pointer to the array */
	__aligned_u64 out_iova_alignment;
};
#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES)

/*
 * IOMMU_IOAS_ALLOW_IOVAS: replace the list of IOVA ranges that @ioas_id
 * promises to keep usable.  Fails if the IOAS is already narrower; afterwards
 * attaching a device that would narrow it fails instead.  Automatic IOVA
 * allocation by MAP then only picks IOVAs inside these ranges.
 * @allowed_iovas points to @num_iovas struct iommu_iova_range.
 * Minimum size: up to @allowed_iovas.
 */
struct iommu_ioas_allow_iovas {
	__u32 size;
	__u32 ioas_id;			/* in */
	__u32 num_iovas;		/* in */
	__u32 __reserved;
	__aligned_u64 allowed_iovas;	/* in: user pointer to the array */
};
#define IOMMU_IOAS_ALLOW_IOVAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOW_IOVAS)

/* Flags of IOMMU_IOAS_MAP, IOMMU_IOAS_MAP_FILE and IOMMU_IOAS_COPY. */
enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,	/* use the given IOVA, else choose one */
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,	/* devices may write */
	IOMMU_IOAS_MAP_READABLE = 1 << 2,	/* devices may read */
};

/*
 * IOMMU_IOAS_MAP: map @length bytes of the caller's memory at @user_va into
 * @ioas_id.  With IOMMU_IOAS_MAP_FIXED_IOVA the mapping goes at @iova, which
 * must be unused; otherwise a free IOVA is chosen (honouring the reserved and
 * allowed ranges) and returned in @iova.  The memory is pinned.
 * Minimum size: up to @iova.
 */
struct iommu_ioas_map {
	__u32 size;
	__u32 flags;			/* in: enum iommufd_ioas_map_flags */
	__u32 ioas_id;			/* in */
	__u32 __reserved;
	__aligned_u64 user_va;		/* in */
	__aligned_u64 length;		/* in */
	__aligned_u64 iova;		/* in if FIXED_IOVA, out always */
};
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)

/*
 * IOMMU_IOAS_NOIOMMU_GET_PA: for no-IOMMU devices only: give the physical
 * address behind @iova in @ioas_id.  @iova must be mapped; on input @length
 * (non-zero) is the most bytes to look at, on output the number of physically
 * contiguous bytes from @out_phys.
 * Minimum size: up to @out_phys.
 */
struct iommu_ioas_noiommu_get_pa {
	__u32 size;
	__u32 flags;			/* in: must be 0 */
	__u32 ioas_id;			/* in */
	__u32 __reserved;
	__aligned_u64 iova;		/* in */
	__aligned_u64 length;		/* in/out */
	__aligned_u64 out_phys;		/* out */
};
#define IOMMU_IOAS_NOIOMMU_GET_PA _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_NOIOMMU_GET_PA)

/*
 * IOMMU_IOAS_MAP_FILE: like IOMMU_IOAS_MAP, but the memory is @length bytes
 * of the file @fd (a memfd, or a supported dma-buf) from byte offset @start.
 * Minimum size: up to @iova.
 */
struct iommu_ioas_map_file {
	__u32 size;
	__u32 flags;			/* in: enum iommufd_ioas_map_flags */
	__u32 ioas_id;			/* in */
	__s32 fd;			/* in */
	__aligned_u64 start;		/* in: file offset */
	__aligned_u64 length;		/* in */
	__aligned_u64 iova;		/* in if FIXED_IOVA, out always */
};
#define IOMMU_IOAS_MAP_FILE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP_FILE)

/*
 * IOMMU_IOAS_COPY: map into @dst_ioas_id the same pages that
 * @src_ioas_id maps at [@src_iova, @src_iova + @length), which must be
 * exactly a range made by one MAP.  The pages are not pinned a second time.
 * @dst_iova follows the rules of iommu_ioas_map.iova.
 * Minimum size: up to @src_iova.
 */
struct iommu_ioas_copy {
	__u32 size;
	__u32 flags;			/* in: enum iommufd_ioas_map_flags */
	__u32 dst_ioas_id;		/* in */
	__u32 src_ioas_id;		/* in */
	__aligned_u64 length;		/* in */
	__aligned_u64 dst_iova;		/* in if FIXED_IOVA, out always */
	__aligned_u64 src_iova;		/* in */
};
#define IOMMU_IOAS_COPY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_COPY)

/*
 * IOMMU_IOAS_UNMAP: remove every mapping inside [@iova, @iova + @length) of
 * @ioas_id.  The range must cover whole MAP/COPY ranges (no splitting);
 * iova 0 with length U64_MAX removes everything.  @length returns the number
 * of bytes unmapped.
 * Minimum size: up to @length.
 */
struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;			/* in */
	__aligned_u64 iova;		/* in */
	__aligned_u64 length;		/* in/out */
};
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)

/* ------------------------------------------------------------------------ */
/* Options                                                                   */

/*
 * Option IDs for IOMMU_OPTION.
 * IOMMU_OPTION_RLIMIT_MODE: global (object_id 0), privileged to set:
 *   0 = RLIMIT_MEMLOCK accounted per user (default), 1 = per process.
 * IOMMU_OPTION_HUGE_PAGES: per IOAS (object_id = IOAS ID): 1 = contiguous
 *   pages may be mapped with large IOPTEs (default), 0 = PAGE_SIZE only.
 */
enum iommufd_option {
	IOMMU_OPTION_RLIMIT_MODE = 0,
	IOMMU_OPTION_HUGE_PAGES = 1,
};

enum iommufd_option_ops {
	IOMMU_OPTION_OP_SET = 0,
	IOMMU_OPTION_OP_GET = 1,
};

/*
 * IOMMU_OPTION: set (OP_SET: from @val64) or read (OP_GET: into @val64) the
 * option @option_id of the object @object_id.
 * Minimum size: up to @val64.
 */
struct iommu_option {
	__u32 size;
	__u32 option_id;		/* in: enum iommufd_option */
	__u16 op;			/* in: enum iommufd_option_ops */
	__u16 __reserved;
	__u32 object_id;		/* in */
	__aligned_u64 val64;		/* in for SET, out for GET */
};
#define IOMMU_OPTION _IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION)

/* ------------------------------------------------------------------------ */
/* VFIO compatibility IOAS (the VFIO type1 ioctls themselves are in          */
/* softiommu/uapi/vfio_compat.h)                                             */

enum iommufd_vfio_ioas_op {
	IOMMU_VFIO_IOAS_GET = 0,	/* read the compat IOAS into ioas_id */
	IOMMU_VFIO_IOAS_SET = 1,	/* make ioas_id the compat IOAS */
	IOMMU_VFIO_IOAS_CLEAR = 2,	/* forget the compat IOAS */
};

/*
 * IOMMU_VFIO_IOAS: the VFIO type1 ioctls on an iommufd have no ID argument
 * and act on one "compatibility" IOAS.  GET returns it (creating one if
 * needed), SET chooses it, CLEAR unsets it.  Neither SET nor CLEAR destroys
 * an IOAS that was created automatically.
 * Minimum size: up to @__reserved.
 */
struct iommu_vfio_ioas {
	__u32 size;
	__u32 ioas_id;			/* in for SET, out for GET */
	__u16 op;			/* in: enum iommufd_vfio_ioas_op */
	__u16 __reserved;
};
#define IOMMU_VFIO_IOAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VFIO_IOAS)

/* ------------------------------------------------------------------------ */
/* HW page tables (HWPT)                                                     */

/* Flags of IOMMU_HWPT_ALLOC. */
enum iommufd_hwpt_alloc_flags {
	IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,	  /* may be a nesting parent */
	IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1, /* needs dirty tracking */
	IOMMU_HWPT_FAULT_ID_VALID = 1 << 2,	  /* @fault_id is valid */
	/*
	 * The domain may be attached to PASIDs.  Any domain attached to the
	 * device's RID must also carry this flag before a PASID can be
	 * attached.  EOPNOTSUPP if the IOMMU has no PASID support.
	 */
	IOMMU_HWPT_ALLOC_PASID = 1 << 3,
};

/* Flags of struct iommu_hwpt_vtd_s1 (VT-d first-level PASID entry bits). */
enum iommu_hwpt_vtd_s1_flags {
	IOMMU_VTD_S1_SRE = 1 << 0,	/* supervisor requests */
	IOMMU_VTD_S1_EAFE = 1 << 1,	/* extended access flag */
	IOMMU_VTD_S1_WPE = 1 << 2,	/* write protect */
};

/* Nested HWPT data for IOMMU_HWPT_DATA_VTD_S1: a guest first-level table. */
struct iommu_hwpt_vtd_s1 {
	__aligned_u64 flags;		/* enum iommu_hwpt_vtd_s1_flags */
	__aligned_u64 pgtbl_addr;	/* root of the stage-1 table */
	__u32 addr_width;		/* input address width of the table */
	__u32 __reserved;
};

/*
 * Nested HWPT data for IOMMU_HWPT_DATA_ARM_SMMUV3: the first two 64-bit
 * words of a guest Stream Table Entry, little-endian.  Only the fields that
 * select S1/bypass/abort and describe the CD table may be set (word 0: V,
 * Cfg, S1Fmt, S1ContextPtr, S1CDMax; word 1: EATS, S1DSS, S1CIR, S1COR,
 * S1CSH, S1STALLD); anything else gives EIO.
 */
struct iommu_hwpt_arm_smmuv3 {
	__aligned_le64 ste[2];
};

/* Nested HWPT data for IOMMU_HWPT_DATA_AMD_GUEST: a guest device table entry. */
struct iommu_hwpt_amd_guest {
	__aligned_u64 dte[4];
};

/* What iommu_hwpt_alloc.data_uptr points to. */
enum iommu_hwpt_data_type {
	IOMMU_HWPT_DATA_NONE = 0,	/* no data: a kernel-managed paging HWPT */
	IOMMU_HWPT_DATA_VTD_S1 = 1,	/* struct iommu_hwpt_vtd_s1 */
	IOMMU_HWPT_DATA_ARM_SMMUV3 = 2,	/* struct iommu_hwpt_arm_smmuv3 */
	IOMMU_HWPT_DATA_AMD_GUEST = 3,	/* struct iommu_hwpt_amd_guest */
};

/*
 * IOMMU_HWPT_ALLOC: create a HW page table (an IOMMU domain) usable by
 * device @dev_id.
 *  - @pt_id is an IOAS and @data_type is IOMMU_HWPT_DATA_NONE: a paging HWPT
 *    that mirrors the IOAS (with NEST_PARENT it may parent nested HWPTs).
 *  - @pt_id is a nesting-parent HWPT or a vIOMMU and @data_type names a
 *    driver format: a nested HWPT whose stage 1 the user manages, described
 *    by @data_len bytes at @data_uptr.
 * @data_len and @data_uptr are 0 for IOMMU_HWPT_DATA_NONE.
 * Minimum size: up to @__reserved (the fields after it are optional).
 */
struct iommu_hwpt_alloc {
	__u32 size;
	__u32 flags;			/* in: enum iommufd_hwpt_alloc_flags */
	__u32 dev_id;			/* in */
	__u32 pt_id;			/* in: IOAS, parent HWPT or vIOMMU */
	__u32 out_hwpt_id;		/* out */
	__u32 __reserved;
	__u32 data_type;		/* in: enum iommu_hwpt_data_type */
	__u32 data_len;			/* in */
	__aligned_u64 data_uptr;	/* in: user pointer */
	__u32 fault_id;			/* in: FAULT object if FAULT_ID_VALID */
	__u32 __reserved2;
};
#define IOMMU_HWPT_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_ALLOC)

/* ------------------------------------------------------------------------ */
/* Hardware information                                                      */

enum iommu_hw_info_vtd_flags {
	/* Read-only mappings must not be used on a nesting parent (erratum
	 * 772415, SPR17). */
	IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 = 1 << 0,
};

/* IOMMU_HW_INFO_TYPE_INTEL_VTD: the raw VT-d capability registers. */
struct iommu_hw_info_vtd {
	__u32 flags;			/* enum iommu_hw_info_vtd_flags */
	__u32 __reserved;
	__aligned_u64 cap_reg;		/* VT-d Capability Register */
	__aligned_u64 ecap_reg;		/* VT-d Extended Capability Register */
};

enum iommu_hw_info_arm_smmuv3_flags {
	/* Issue every TLBI/CFGI+SYNC twice (erratum T264-SMMU-3). */
	IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI = 1 << 0,
};

/*
 * IOMMU_HW_INFO_TYPE_ARM_SMMUV3: the raw SMMUv3 ID registers IDR0..IDR5,
 * IIDR and AIDR.  Only the fields a VMM needs for nesting are meaningful.
 */
struct iommu_hw_info_arm_smmuv3 {
	__u32 flags;			/* enum iommu_hw_info_arm_smmuv3_flags */
	__u32 __reserved;
	__u32 idr[6];
	__u32 iidr;
	__u32 aidr;
};

/* IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV: fields of the CMDQ-V PARAM register. */
struct iommu_hw_info_tegra241_cmdqv {
	__u32 flags;			/* 0 */
	__u8 version;			/* PARAM[3:0] */
	__u8 log2vcmdqs;		/* PARAM[7:4] */
	__u8 log2vsids;			/* PARAM[15:12] */
	__u8 __reserved;
};

/* IOMMU_HW_INFO_TYPE_AMD: the raw AMD Extended Feature Registers. */
struct iommu_hw_info_amd {
	__aligned_u64 efr;
	__aligned_u64 efr2;
};

/* The format of the data IOMMU_GET_HW_INFO returns. */
enum iommu_hw_info_type {
	IOMMU_HW_INFO_TYPE_NONE = 0,		/* output: driver reports no data */
	IOMMU_HW_INFO_TYPE_DEFAULT = 0,		/* input: the driver's default */
	IOMMU_HW_INFO_TYPE_INTEL_VTD = 1,
	IOMMU_HW_INFO_TYPE_ARM_SMMUV3 = 2,
	IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV = 3,
	IOMMU_HW_INFO_TYPE_AMD = 4,
};

/* Bits of iommu_hw_info.out_capabilities. */
enum iommufd_hw_capabilities {
	/* IOMMU_HWPT_SET_DIRTY_TRACKING/GET_DIRTY_BITMAP work. */
	IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0,
	/* PCI PASID Execute / Privileged mode (only if out_max_pasid_log2). */
	IOMMU_HW_CAP_PCI_PASID_EXEC = 1 << 1,
	IOMMU_HW_CAP_PCI_PASID_PRIV = 1 << 2,
	/* ATS cannot be used on this device. */
	IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED = 1 << 3,
};

/* Flags of IOMMU_GET_HW_INFO. */
enum iommufd_hw_info_flags {
	/* @in_data_type asks for a given type, else the default type. */
	IOMMU_HW_INFO_FLAG_INPUT_TYPE = 1 << 0,
};

/*
 * IOMMU_GET_HW_INFO: describe the IOMMU behind device @dev_id.  Up to
 * @data_len bytes of type-specific data are written to @data_uptr (a larger
 * buffer is zero-filled past the data); on return @data_len is the size of
 * the data the implementation has and @out_data_type its format.
 * @data_len 0 is allowed (just query).
 * Minimum size: up to @__reserved.
 */
struct iommu_hw_info {
	__u32 size;
	__u32 flags;			/* in: enum iommufd_hw_info_flags */
	__u32 dev_id;			/* in */
	__u32 data_len;			/* in/out */
	__aligned_u64 data_uptr;	/* in: user pointer */
	union {
		__u32 in_data_type;	/* in if FLAG_INPUT_TYPE */
		__u32 out_data_type;	/* out: enum iommu_hw_info_type */
	};
	__u8 out_max_pasid_log2;	/* out: PASID width, 0 = no PASID */
	__u8 __reserved[3];
	__aligned_u64 out_capabilities;	/* out: enum iommufd_hw_capabilities */
};
#define IOMMU_GET_HW_INFO _IO(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO)

/* ------------------------------------------------------------------------ */
/* Dirty tracking                                                            */

enum iommufd_hwpt_set_dirty_tracking_flags {
	IOMMU_HWPT_DIRTY_TRACKING_ENABLE = 1,
};

/*
 * IOMMU_HWPT_SET_DIRTY_TRACKING: start (flag set) or stop (flag clear)
 * recording DMA writes in the dirty bits of HWPT @hwpt_id.
 * Minimum size: up to @__reserved.
 */
struct iommu_hwpt_set_dirty_tracking {
	__u32 size;
	__u32 flags;	/* in: enum iommufd_hwpt_set_dirty_tracking_flags */
	__u32 hwpt_id;	/* in */
	__u32 __reserved;
};
#define IOMMU_HWPT_SET_DIRTY_TRACKING \
	_IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING)

enum iommufd_hwpt_get_dirty_bitmap_flags {
	/* Report the dirty bits but leave them set. */
	IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1,
};

/*
 * IOMMU_HWPT_GET_DIRTY_BITMAP: for [@iova, @iova + @length) of HWPT
 * @hwpt_id, set one bit per @page_size-sized page that was written, in the
 * bitmap at user pointer @data: page n = (addr - @iova) / @page_size is bit
 * n % 64 of the 64-bit word n / 64.  Reading clears the dirty state unless
 * NO_CLEAR is given.
 * Minimum size: up to @data.
 */
struct iommu_hwpt_get_dirty_bitmap {
	__u32 size;
	__u32 hwpt_id;			/* in */
	__u32 flags;			/* in: enum iommufd_hwpt_get_dirty_bitmap_flags */
	__u32 __reserved;
	__aligned_u64 iova;		/* in */
	__aligned_u64 length;		/* in */
	__aligned_u64 page_size;	/* in */
	__aligned_u64 data;		/* in: user pointer to the bitmap */
};
#define IOMMU_HWPT_GET_DIRTY_BITMAP \
	_IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP)

/* ------------------------------------------------------------------------ */
/* Cache invalidation for user-managed page tables and vIOMMUs               */

/* Format of the entries of IOMMU_HWPT_INVALIDATE. */
enum iommu_hwpt_invalidate_data_type {
	IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = 0,	     /* iommu_hwpt_vtd_s1_invalidate */
	IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 = 1, /* iommu_viommu_arm_smmuv3_invalidate */
};

enum iommu_hwpt_vtd_s1_invalidate_flags {
	/* Only leaf entries changed (paging-structure caches may stay). */
	IOMMU_VTD_INV_FLAGS_LEAF = 1 << 0,
};

/*
 * One VT-d stage-1 invalidation: @npages 4 KiB pages from @addr (4 KiB
 * aligned); @addr 0 with @npages U64_MAX means everything.
 */
struct iommu_hwpt_vtd_s1_invalidate {
	__aligned_u64 addr;
	__aligned_u64 npages;
	__u32 flags;		/* enum iommu_hwpt_vtd_s1_invalidate_flags */
	__u32 __reserved;
};

/*
 * One SMMUv3 command-queue entry (128 bits, little-endian), for a vIOMMU:
 * TLBI_NSNH_ALL, TLBI_NH_VA/VAA/ALL/ASID, ATC_INV, CFGI_CD, CFGI_CD_ALL.
 * Other opcodes or unsupported fields give EIO.
 */
struct iommu_viommu_arm_smmuv3_invalidate {
	__aligned_le64 cmd[2];
};

/*
 * IOMMU_HWPT_INVALIDATE: run @entry_num invalidation requests of format
 * @data_type, each @entry_len bytes, from the array at @data_uptr, against
 * the nested HWPT or vIOMMU @hwpt_id.  On return @entry_num is the number of
 * requests handled.  @entry_num 0 only checks that @data_type is supported.
 * Minimum size: up to @__reserved.
 */
struct iommu_hwpt_invalidate {
	__u32 size;
	__u32 hwpt_id;			/* in: nested HWPT or vIOMMU */
	__aligned_u64 data_uptr;	/* in: user pointer to the array */
	__u32 data_type;		/* in: enum iommu_hwpt_invalidate_data_type */
	__u32 entry_len;		/* in */
	__u32 entry_num;		/* in/out */
	__u32 __reserved;
};
#define IOMMU_HWPT_INVALIDATE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_INVALIDATE)

/* ------------------------------------------------------------------------ */
/* I/O page faults (read from / written to the fd of a FAULT object)         */

enum iommu_hwpt_pgfault_flags {
	IOMMU_PGFAULT_FLAGS_PASID_VALID = 1 << 0,	/* @pasid is valid */
	IOMMU_PGFAULT_FLAGS_LAST_PAGE = 1 << 1,		/* last fault of its group */
};

/* Access the faulting request asked for (PCIe page request bits). */
enum iommu_hwpt_pgfault_perm {
	IOMMU_PGFAULT_PERM_READ = 1 << 0,
	IOMMU_PGFAULT_PERM_WRITE = 1 << 1,
	IOMMU_PGFAULT_PERM_EXEC = 1 << 2,	/* Execute Requested */
	IOMMU_PGFAULT_PERM_PRIV = 1 << 3,	/* Privileged Mode Requested */
};

/*
 * One page fault as read() from a fault fd.  Faults come in groups (@grpid,
 * the PRI page request group); the last one of a group has LAST_PAGE set and
 * its @cookie is what the response must echo.
 */
struct iommu_hwpt_pgfault {
	__u32 flags;		/* enum iommu_hwpt_pgfault_flags */
	__u32 dev_id;		/* device that faulted */
	__u32 pasid;
	__u32 grpid;		/* page request group index */
	__u32 perm;		/* enum iommu_hwpt_pgfault_perm */
	__u32 __reserved;
	__aligned_u64 addr;	/* faulting address */
	__u32 length;		/* hint of how much will be accessed, or 0 */
	__u32 cookie;		/* identifies the group for the response */
};

/* Response codes (PCIe page request responses). */
enum iommufd_page_response_code {
	IOMMUFD_PAGE_RESP_SUCCESS = 0,	/* handled: retry the access */
	IOMMUFD_PAGE_RESP_INVALID = 1,	/* not handled: do not retry */
};

/* One response, as write() to a fault fd. */
struct iommu_hwpt_page_response {
	__u32 cookie;		/* the cookie of the group's last fault */
	__u32 code;		/* enum iommufd_page_response_code */
};

/*
 * IOMMU_FAULT_QUEUE_ALLOC: create a FAULT object and the fd on which its
 * faults are read and answered.
 * Minimum size: up to @out_fault_fd.
 */
struct iommu_fault_alloc {
	__u32 size;
	__u32 flags;		/* in: must be 0 */
	__u32 out_fault_id;	/* out */
	__u32 out_fault_fd;	/* out */
};
#define IOMMU_FAULT_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_FAULT_QUEUE_ALLOC)

/* ------------------------------------------------------------------------ */
/* Virtual IOMMUs, virtual devices, virtual event queues, HW queues          */

enum iommu_viommu_type {
	IOMMU_VIOMMU_TYPE_DEFAULT = 0,		/* reserved */
	IOMMU_VIOMMU_TYPE_ARM_SMMUV3 = 1,
	/* SMMUv3 with the Tegra241 CMDQ-V extension; the guest must keep
	 * VINTF_CONFIG.HYP_OWN at 0. */
	IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV = 2,
};

/* vIOMMU data for IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV: where to mmap VINTF page 0. */
struct iommu_viommu_tegra241_cmdqv {
	__aligned_u64 out_vintf_mmap_offset;
	__aligned_u64 out_vintf_mmap_length;
};

/*
 * IOMMU_VIOMMU_ALLOC: create a virtual IOMMU of @type on the physical IOMMU
 * of device @dev_id, over the nesting-parent HWPT @hwpt_id.  A vIOMMU holds
 * what is global to one VM's view of the IOMMU: virtual device IDs, shared
 * invalidation, event reporting, HW queues.  Type-specific data: @data_len
 * bytes at @data_uptr (in and out).
 * Minimum size: up to @out_viommu_id.
 */
struct iommu_viommu_alloc {
	__u32 size;
	__u32 flags;			/* in: must be 0 */
	__u32 type;			/* in: enum iommu_viommu_type */
	__u32 dev_id;			/* in */
	__u32 hwpt_id;			/* in */
	__u32 out_viommu_id;		/* out */
	__u32 data_len;			/* in */
	__u32 __reserved;
	__aligned_u64 data_uptr;	/* in: user pointer */
};
#define IOMMU_VIOMMU_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VIOMMU_ALLOC)

/*
 * IOMMU_VDEVICE_ALLOC: give device @dev_id the virtual ID @virt_id (vSID,
 * vDeviceID, vRID...) in vIOMMU @viommu_id.  Destroy it before closing the
 * device, or its ID stays taken until the iommufd is closed.
 * Minimum size: up to @virt_id.
 */
struct iommu_vdevice_alloc {
	__u32 size;
	__u32 viommu_id;		/* in */
	__u32 dev_id;			/* in */
	__u32 out_vdevice_id;		/* out */
	__aligned_u64 virt_id;		/* in */
};
#define IOMMU_VDEVICE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VDEVICE_ALLOC)

/*
 * IOMMU_IOAS_CHANGE_PROCESS: move the pinned-page accounting of every
 * mapping of this iommufd to the calling process (for live update).  Only
 * IOMMU_IOAS_MAP_FILE mappings may exist (else EINVAL); all or nothing.
 * Minimum size: up to @__reserved.
 */
struct iommu_ioas_change_process {
	__u32 size;
	__u32 __reserved;
};
#define IOMMU_IOAS_CHANGE_PROCESS \
	_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_CHANGE_PROCESS)

enum iommu_veventq_flag {
	/* Events were lost after the previous one; no data follows. */
	IOMMU_VEVENTQ_FLAG_LOST_EVENTS = (1U << 0),
};

/*
 * The header before every event read() from a vEVENTQ fd.  @sequence counts
 * 0..INT_MAX and wraps to 0; a gap means events were lost.  A LOST_EVENTS
 * header at the tail, with no data after it, reports losses at the end.
 */
struct iommufd_vevent_header {
	__u32 flags;		/* enum iommu_veventq_flag */
	__u32 sequence;
};

enum iommu_veventq_type {
	IOMMU_VEVENTQ_TYPE_DEFAULT = 0,		/* reserved */
	IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 = 1,	/* struct iommu_vevent_arm_smmuv3 */
	IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV = 2,	/* struct iommu_vevent_tegra241_cmdqv */
};

/*
 * An SMMUv3 event record (256 bits, little-endian) whose StreamID is the
 * virtual device ID (needs an IOMMU_VDEVICE_ALLOC).
 */
struct iommu_vevent_arm_smmuv3 {
	__aligned_le64 evt[4];
};

/* Tegra241 CMDQ-V: the 128-bit LVCMDQ error map of the vIOMMU's VINTF. */
struct iommu_vevent_tegra241_cmdqv {
	__aligned_le64 lvcmdq_err_map[2];
};

/*
 * IOMMU_VEVENTQ_ALLOC: create a queue of virtual events of @type for vIOMMU
 * @viommu_id (at most one per type), holding up to @veventq_depth events,
 * and the fd to read them from: each event is a struct
 * iommufd_vevent_header followed by the type's record.
 * Minimum size: up to @out_veventq_fd.
 */
struct iommu_veventq_alloc {
	__u32 size;
	__u32 flags;			/* in: must be 0 */
	__u32 viommu_id;		/* in */
	__u32 type;			/* in: enum iommu_veventq_type */
	__u32 veventq_depth;		/* in */
	__u32 out_veventq_id;		/* out */
	__u32 out_veventq_fd;		/* out: the caller closes it */
	__u32 __reserved;
};
#define IOMMU_VEVENTQ_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VEVENTQ_ALLOC)

enum iommu_hw_queue_type {
	IOMMU_HW_QUEUE_TYPE_DEFAULT = 0,	/* reserved */
	/*
	 * Tegra241 VCMDQ: allocate indexes upward from 0 and free them
	 * downward; the queue is a power of two of at least 32 bytes, aligned
	 * to its length and mapped in the IOAS.
	 */
	IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV = 1,
};

/*
 * IOMMU_HW_QUEUE_ALLOC: let the hardware read a guest queue of @length bytes
 * at guest-physical @nesting_parent_iova for vIOMMU @viommu_id.  @index
 * numbers the queues of one type of one vIOMMU.
 * Minimum size: up to @length.
 */
struct iommu_hw_queue_alloc {
	__u32 size;
	__u32 flags;			/* in: must be 0 */
	__u32 viommu_id;		/* in */
	__u32 type;			/* in: enum iommu_hw_queue_type */
	__u32 index;			/* in */
	__u32 out_hw_queue_id;		/* out */
	__aligned_u64 nesting_parent_iova; /* in */
	__aligned_u64 length;		/* in */
};
#define IOMMU_HW_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HW_QUEUE_ALLOC)

#endif /* SOFTIOMMU_UAPI_IOMMUFD_H */
