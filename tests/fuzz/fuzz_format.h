/*
 * The input format of fuzz_iommufd (shared with gen_corpus.c, which writes
 * the seed corpus).  An input is a sequence of operations; each starts
 * with a kind byte (taken modulo FZ_NKINDS):
 *
 *   ioctl kinds (every iommufd command, IOMMU_TEST_CMD, the VFIO compat
 *   numbers):  kind, mode, param, then sizeof(struct) bytes of the
 *   command's structure (zero-padded when the input ends).
 *     mode & 15 picks the size the caller claims (FZ_SZ_*), mode >> 4
 *     where the structure is placed (FZ_ARG_*); param tunes both.
 *     Before the call the structure is patched: every pointer field is
 *     decoded by FZ_PTR_* (so it points into the fuzzer's scratch arena or
 *     at a deliberately bad address, never at the fuzzer's own memory),
 *     object IDs are reduced to small numbers (fz_id) so commands meet the
 *     objects made earlier in the input, access fds are taken from the fds
 *     the input created, and lengths paired with a user pointer are
 *     clamped to the arena.
 *   FZ_VFIO_GET_API_VERSION/CHECK_EXTENSION/SET_IOMMU/ENABLE/DISABLE take
 *     an integer: kind, mode, param, 8 bytes of integer.
 *   FZ_RAW:    kind, mode, param, 4 bytes ioctl number, 64 bytes of
 *              contents (every aligned 64-bit word decoded as a pointer).
 *   FZ_FILL:   kind, 2 bytes arena offset, 1 byte length, that many bytes.
 *   FZ_CLOSE:  kind, index: close the index'th fd the input holds.
 *   FZ_DUP:    kind, index: dup it (the dup is held too).
 *   FZ_SWITCH: kind, which: issue the next ioctls on context which & 1
 *              (opened on first use, released at the input's end, after
 *              its fds are closed); with which & 2 release that context
 *              now, while fds it made may still be open (the next use
 *              opens a fresh one).
 */
#ifndef FUZZ_FORMAT_H
#define FUZZ_FORMAT_H

enum fz_kind {
	FZ_DESTROY,
	FZ_IOAS_ALLOC,
	FZ_IOAS_ALLOW_IOVAS,
	FZ_IOAS_COPY,
	FZ_IOAS_IOVA_RANGES,
	FZ_IOAS_MAP,
	FZ_IOAS_UNMAP,
	FZ_OPTION,
	FZ_VFIO_IOAS,
	FZ_HWPT_ALLOC,
	FZ_GET_HW_INFO,
	FZ_HWPT_SET_DIRTY_TRACKING,
	FZ_HWPT_GET_DIRTY_BITMAP,
	FZ_HWPT_INVALIDATE,
	FZ_FAULT_QUEUE_ALLOC,
	FZ_IOAS_MAP_FILE,
	FZ_VIOMMU_ALLOC,
	FZ_VDEVICE_ALLOC,
	FZ_IOAS_CHANGE_PROCESS,
	FZ_VEVENTQ_ALLOC,
	FZ_HW_QUEUE_ALLOC,
	FZ_IOAS_NOIOMMU_GET_PA,
	FZ_TEST_CMD,
	FZ_VFIO_GET_API_VERSION,
	FZ_VFIO_CHECK_EXTENSION,
	FZ_VFIO_SET_IOMMU,
	FZ_VFIO_IOMMU_GET_INFO,
	FZ_VFIO_IOMMU_MAP_DMA,
	FZ_VFIO_IOMMU_UNMAP_DMA,
	FZ_VFIO_IOMMU_ENABLE,
	FZ_VFIO_IOMMU_DISABLE,
	FZ_VFIO_IOMMU_DIRTY_PAGES,
	FZ_RAW,
	FZ_FILL,
	FZ_CLOSE,
	FZ_DUP,
	FZ_SWITCH,
	FZ_NKINDS
};

/* mode & 15: the size written into the structure's size/argsz field. */
enum {
	FZ_SZ_REAL = 0,		/* 0..8: sizeof(struct) */
	FZ_SZ_MIN = 9,		/* the command's minimum size */
	FZ_SZ_SHORT = 10,	/* param % minimum: below the minimum */
	FZ_SZ_LONG_ZERO = 11,	/* longer by 1 + param % 64, zero tail */
	FZ_SZ_LONG_DIRTY = 12,	/* the same, one non-zero tail byte */
	FZ_SZ_ZERO = 13,	/* 0 */
	FZ_SZ_RAW = 14,		/* whatever the structure bytes say */
	FZ_SZ_HUGE = 15,	/* 0xffffffff - param */
};

/* mode >> 4: where the argument is. */
enum {
	FZ_ARG_ARENA = 0,	/* 0..11: the arena's command slot */
	FZ_ARG_END = 12,	/* flush against the guard page after the arena */
	FZ_ARG_NULL = 13,
	FZ_ARG_GUARD = 14,	/* inside the guard page */
	FZ_ARG_KERNEL = 15,	/* a kernel-half address */
};

/* A pointer field v is decoded by its top byte: */
enum {
	FZ_PTR_NULL = 0x01,	/* NULL */
	FZ_PTR_GUARD_LO = 0x02,	/* the guard page before the arena + low bits */
	FZ_PTR_GUARD_HI = 0x03,	/* the guard page after the arena + low bits */
	FZ_PTR_KERNEL = 0x04,	/* 0xffff888000000000 + low 24 bits */
	FZ_PTR_NONCANON = 0x05,	/* 0x8000000000000000 | low 16 bits */
	FZ_PTR_LOW = 0x06,	/* low 12 bits: page 0, never mapped */
	FZ_PTR_STRADDLE = 0x07,	/* the arena's end - low 8 bits */
	FZ_PTR_VSYSCALL = 0x08,	/* the [vsyscall] page + low 12 bits */
	/* anything else: the arena + v % arena size (so 0 is the arena) */
};

/* Lengths paired with a user pointer: top byte 0xff is U64_MAX - low 16
 * bits, 0x80 is 1 << 63, anything else v % (arena + 2 pages + 1). */

/* The scratch arena: FZ_ARENA_PAGES pages between two guard pages; the
 * last arena page is the command slot. */
#define FZ_ARENA_PAGES 16
#define FZ_MAX_OPS 64
#define FZ_MAX_FDS 16

#endif
