/*
 * libFuzzer target over the iommufd ioctl dispatcher.
 *
 * One host for the whole run; each input opens up to two contexts, runs
 * its operations (fuzz_format.h) on them, closes every fd it made,
 * releases the contexts (some inputs release one early, with its access
 * fds still open: the kernel keeps the context until they close) and then
 * checks that nothing is left: no pinned or listed
 * iopt_pages, no pinned or charged user pages, no descriptor.  Memory
 * leaks are LeakSanitizer's business (libFuzzer runs it after an input
 * whose mallocs and frees do not balance).
 *
 * Pointers.  The library pins user memory by making aliases of it and may
 * turn private memory into shared memory, so no pointer the fuzzer passes
 * ever points at its own heap, stack or code: every pointer field (and the
 * ioctl argument itself) is the scratch arena (shared anonymous memory
 * between two PROT_NONE guard pages) or an address that must give EFAULT:
 * NULL, page 0, the guard pages, a kernel-half or non-canonical address,
 * [vsyscall], or a range running off the arena's end into its guard.
 * Integer arguments are small or have bit 63 set, so they are never a
 * mapped address either.  Lengths paired with a user pointer are clamped
 * to the arena, so no input pins more than a few pages.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "softiommu/file.h"
#include "softiommu/iommufd.h"
#include "softiommu/umem.h"
#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/iommufd_test.h"
#include "softiommu/uapi/vfio_compat.h"
#include "iommufd/iommufd_private.h"

#include "fuzz_format.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OFFSETOFEND(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))

/* VFIO structures with their trailing data spelled out (the layouts of
 * sio_vfio_iommu_type1_dma_unmap and _dirty_bitmap plus their data[]). */
struct fz_vfio_unmap {
	__u32 argsz;
	__u32 flags;
	__u64 iova;
	__u64 size;
	struct sio_vfio_bitmap bitmap;
};

struct fz_vfio_dirty {
	__u32 argsz;
	__u32 flags;
	struct sio_vfio_iommu_type1_dirty_bitmap_get get;
};

union fz_buf {
	struct iommu_destroy destroy;
	struct iommu_fault_alloc fault;
	struct iommu_hw_info info;
	struct iommu_hw_queue_alloc hw_queue;
	struct iommu_hwpt_alloc hwpt;
	struct iommu_hwpt_get_dirty_bitmap get_dirty;
	struct iommu_hwpt_invalidate inv;
	struct iommu_hwpt_set_dirty_tracking set_dirty;
	struct iommu_ioas_alloc alloc;
	struct iommu_ioas_allow_iovas allow;
	struct iommu_ioas_change_process change;
	struct iommu_ioas_copy copy;
	struct iommu_ioas_noiommu_get_pa get_pa;
	struct iommu_ioas_iova_ranges ranges;
	struct iommu_ioas_map map;
	struct iommu_ioas_map_file map_file;
	struct iommu_ioas_unmap unmap;
	struct iommu_option option;
	struct iommu_vdevice_alloc vdev;
	struct iommu_veventq_alloc veventq;
	struct iommu_vfio_ioas vfio_ioas;
	struct iommu_viommu_alloc viommu;
	struct iommu_test_cmd test;
	struct sio_vfio_iommu_type1_info vinfo;
	struct sio_vfio_iommu_type1_dma_map vmap;
	struct fz_vfio_unmap vunmap;
	struct fz_vfio_dirty vdirty;
	uint64_t raw[8];
};

/* Process-wide: made once. */
static struct {
	struct sio_iommufd_host *host;
	uint8_t *map;		/* guard | arena | guard */
	uint8_t *arena;
	size_t page, arena_size;
	int memfd;		/* a fuzzer-owned memfd for MAP_FILE */
	bool trace;		/* FUZZ_IOMMUFD_TRACE=1: print every call */
} G;

/* One input. */
struct fz {
	const uint8_t *p;
	size_t n;
	struct sio_iommufd *ictx[2];
	unsigned int cur;
	int fds[FZ_MAX_FDS];
	unsigned int nfds;
};

static uint8_t get_u8(struct fz *f)
{
	uint8_t v = 0;

	if (f->n) {
		v = *f->p++;
		f->n--;
	}
	return v;
}

static void get_bytes(struct fz *f, void *dst, size_t len)
{
	size_t n = len < f->n ? len : f->n;

	memcpy(dst, f->p, n);
	memset((uint8_t *)dst + n, 0, len - n);
	f->p += n;
	f->n -= n;
}

/* ------------------------------------------------------------------ */
/* Field decoders                                                       */
/* ------------------------------------------------------------------ */

static uint64_t arena_addr(void)
{
	return (uint64_t)(uintptr_t)G.arena;
}

static uint64_t fz_ptr(uint64_t v)
{
	uint64_t lo = (uint64_t)(uintptr_t)G.map, hi = arena_addr() + G.arena_size;

	switch (v >> 56) {
	case FZ_PTR_NULL:
		return 0;
	case FZ_PTR_GUARD_LO:
		return lo + (v & (G.page - 1));
	case FZ_PTR_GUARD_HI:
		return hi + (v & (G.page - 1));
	case FZ_PTR_KERNEL:
		return 0xffff888000000000ull + (v & 0xffffff);
	case FZ_PTR_NONCANON:
		return 0x8000000000000000ull | (v & 0xffff);
	case FZ_PTR_LOW:
		return v & 0xfff;
	case FZ_PTR_STRADDLE:
		return hi - (v & 0xff);
	case FZ_PTR_VSYSCALL:
		return 0xffffffffff600000ull + (v & 0xfff);
	default:
		return arena_addr() + v % G.arena_size;
	}
}

static uint64_t fz_len(uint64_t v)
{
	if ((v >> 56) == 0xff)
		return UINT64_MAX - (v & 0xffff);
	if ((v >> 56) == 0x80)
		return 1ull << 63;
	return v % (G.arena_size + 2 * G.page + 1);
}

/* Object IDs: small, so that they name the objects of this input. */
static uint32_t fz_id(uint32_t v)
{
	return (v & 0x80000000u) ? v : v % 16;
}

/* An fd the input holds (by index), or an invalid number. */
static uint32_t fz_fd(struct fz *f, uint32_t v)
{
	if ((v & 0x80000000u) || !f->nfds)
		return v | 0x80000000u;
	return (uint32_t)f->fds[v % f->nfds];
}

/* Values of an enum-like field: the interesting ones, or raw. */
static uint32_t fz_pick(uint32_t v, const uint32_t *vals, size_t n)
{
	return (v & 0x80000000u) ? v : vals[v % n];
}
#define PICK(v, ...)                                                       \
	fz_pick((v), (const uint32_t[]){ __VA_ARGS__ },                     \
		sizeof((const uint32_t[]){ __VA_ARGS__ }) / sizeof(uint32_t))

/* Hold an fd the library made, to close it by the input's end.  Only
 * emulated fds: a number that is not one is not the fuzzer's to close. */
static void track_fd(struct fz *f, long fd)
{
	struct sio_file *file;

	if (fd < 0 || fd > INT32_MAX)
		return;
	file = sio_file_lookup((int)fd);
	if (!file)
		return;
	sio_file_put(file);
	if (f->nfds == FZ_MAX_FDS) {
		sio_file_close((int)fd);
		return;
	}
	f->fds[f->nfds++] = (int)fd;
}

/* ------------------------------------------------------------------ */
/* Commands                                                             */
/* ------------------------------------------------------------------ */

#define ID(x) ((x) = fz_id(x))
#define PTR(x) ((x) = fz_ptr(x))
#define LEN(x) ((x) = fz_len(x))

static void patch_test(struct fz *f, union fz_buf *b)
{
	struct iommu_test_cmd *c = &b->test;

	if (!(c->op & 0x80000000u))
		c->op %= 32;
	switch (c->op) {
	case IOMMU_TEST_OP_ADD_RESERVED:
	case IOMMU_TEST_OP_MOCK_DOMAIN:
	case IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS:
	case IOMMU_TEST_OP_CREATE_ACCESS:
	case IOMMU_TEST_OP_DEV_CHECK_CACHE:
	case IOMMU_TEST_OP_PASID_DETACH:
		ID(c->id);
		break;
	case IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE:
		ID(c->id);
		ID(c->mock_domain_replace.pt_id);
		break;
	case IOMMU_TEST_OP_MD_CHECK_MAP:
		ID(c->id);
		LEN(c->check_map.length);
		PTR(c->check_map.uptr);
		break;
	case IOMMU_TEST_OP_MD_CHECK_REFS:
		LEN(c->check_refs.length);
		PTR(c->check_refs.uptr);
		break;
	case IOMMU_TEST_OP_DESTROY_ACCESS_PAGES:
		c->id = fz_fd(f, c->id);
		break;
	case IOMMU_TEST_OP_ACCESS_PAGES:
		c->id = fz_fd(f, c->id);
		LEN(c->access_pages.length);
		PTR(c->access_pages.uptr);
		break;
	case IOMMU_TEST_OP_ACCESS_RW:
		c->id = fz_fd(f, c->id);
		LEN(c->access_rw.length);
		PTR(c->access_rw.uptr);
		break;
	case IOMMU_TEST_OP_ACCESS_REPLACE_IOAS:
		c->id = fz_fd(f, c->id);
		ID(c->access_replace_ioas.ioas_id);
		break;
	case IOMMU_TEST_OP_DIRTY:
		ID(c->id);
		LEN(c->dirty.length);
		PTR(c->dirty.uptr);
		break;
	case IOMMU_TEST_OP_MD_CHECK_IOTLB:
		ID(c->id);
		break;
	case IOMMU_TEST_OP_TRIGGER_IOPF:
		ID(c->trigger_iopf.dev_id);
		break;
	case IOMMU_TEST_OP_TRIGGER_VEVENT:
		ID(c->trigger_vevent.dev_id);
		break;
	case IOMMU_TEST_OP_PASID_ATTACH:
	case IOMMU_TEST_OP_PASID_REPLACE:
	case IOMMU_TEST_OP_PASID_CHECK_HWPT:
		ID(c->id);
		ID(c->pasid_attach.pt_id);
		break;
	case IOMMU_TEST_OP_DMABUF_GET:
		c->dmabuf_get.length = (uint32_t)fz_len(c->dmabuf_get.length);
		break;
	case IOMMU_TEST_OP_DMABUF_REVOKE:
		c->dmabuf_revoke.dmabuf_fd =
			(int32_t)fz_fd(f, (uint32_t)c->dmabuf_revoke.dmabuf_fd);
		break;
	default:
		break;
	}
}

static void patch(struct fz *f, unsigned int kind, union fz_buf *b)
{
	switch (kind) {
	case FZ_DESTROY:
		ID(b->destroy.id);
		break;
	case FZ_IOAS_ALLOW_IOVAS:
		ID(b->allow.ioas_id);
		PTR(b->allow.allowed_iovas);
		break;
	case FZ_IOAS_COPY:
		ID(b->copy.dst_ioas_id);
		ID(b->copy.src_ioas_id);
		break;
	case FZ_IOAS_IOVA_RANGES:
		ID(b->ranges.ioas_id);
		PTR(b->ranges.allowed_iovas);
		break;
	case FZ_IOAS_MAP:
		ID(b->map.ioas_id);
		PTR(b->map.user_va);
		LEN(b->map.length);
		break;
	case FZ_IOAS_UNMAP:
		ID(b->unmap.ioas_id);
		break;
	case FZ_OPTION:
		ID(b->option.object_id);
		b->option.option_id = PICK(b->option.option_id,
					   IOMMU_OPTION_RLIMIT_MODE,
					   IOMMU_OPTION_HUGE_PAGES, 2);
		break;
	case FZ_VFIO_IOAS:
		ID(b->vfio_ioas.ioas_id);
		break;
	case FZ_HWPT_ALLOC:
		ID(b->hwpt.dev_id);
		ID(b->hwpt.pt_id);
		ID(b->hwpt.fault_id);
		PTR(b->hwpt.data_uptr);
		b->hwpt.data_type = PICK(b->hwpt.data_type, IOMMU_HWPT_DATA_NONE,
					 IOMMU_HWPT_DATA_SELFTEST,
					 IOMMU_HWPT_DATA_VTD_S1,
					 IOMMU_HWPT_DATA_ARM_SMMUV3,
					 IOMMU_HWPT_DATA_AMD_GUEST);
		break;
	case FZ_GET_HW_INFO:
		ID(b->info.dev_id);
		PTR(b->info.data_uptr);
		b->info.in_data_type = PICK(b->info.in_data_type,
					    IOMMU_HW_INFO_TYPE_DEFAULT,
					    IOMMU_HW_INFO_TYPE_SELFTEST,
					    IOMMU_HW_INFO_TYPE_INTEL_VTD,
					    IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
		break;
	case FZ_HWPT_SET_DIRTY_TRACKING:
		ID(b->set_dirty.hwpt_id);
		break;
	case FZ_HWPT_GET_DIRTY_BITMAP:
		ID(b->get_dirty.hwpt_id);
		PTR(b->get_dirty.data);
		break;
	case FZ_HWPT_INVALIDATE:
		ID(b->inv.hwpt_id);
		PTR(b->inv.data_uptr);
		b->inv.data_type = PICK(b->inv.data_type,
					IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID,
					IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
					IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3);
		break;
	case FZ_IOAS_MAP_FILE:
		ID(b->map_file.ioas_id);
		LEN(b->map_file.length);
		/* Never one of the fuzzer's own descriptors. */
		if (b->map_file.fd >= 0)
			b->map_file.fd = (b->map_file.fd & 1)
				? G.memfd
				: (int32_t)fz_fd(f, (uint32_t)b->map_file.fd >> 1);
		break;
	case FZ_VIOMMU_ALLOC:
		ID(b->viommu.dev_id);
		ID(b->viommu.hwpt_id);
		PTR(b->viommu.data_uptr);
		b->viommu.type = PICK(b->viommu.type, IOMMU_VIOMMU_TYPE_SELFTEST,
				      IOMMU_VIOMMU_TYPE_DEFAULT,
				      IOMMU_VIOMMU_TYPE_ARM_SMMUV3);
		break;
	case FZ_VDEVICE_ALLOC:
		ID(b->vdev.viommu_id);
		ID(b->vdev.dev_id);
		break;
	case FZ_VEVENTQ_ALLOC:
		ID(b->veventq.viommu_id);
		b->veventq.type = PICK(b->veventq.type,
				       IOMMU_VEVENTQ_TYPE_SELFTEST,
				       IOMMU_VEVENTQ_TYPE_DEFAULT,
				       IOMMU_VEVENTQ_TYPE_ARM_SMMUV3);
		break;
	case FZ_HW_QUEUE_ALLOC:
		ID(b->hw_queue.viommu_id);
		LEN(b->hw_queue.length);
		b->hw_queue.type = PICK(b->hw_queue.type,
					IOMMU_HW_QUEUE_TYPE_SELFTEST,
					IOMMU_HW_QUEUE_TYPE_DEFAULT);
		break;
	case FZ_IOAS_NOIOMMU_GET_PA:
		ID(b->get_pa.ioas_id);
		break;
	case FZ_TEST_CMD:
		patch_test(f, b);
		break;
	case FZ_VFIO_IOMMU_MAP_DMA:
		PTR(b->vmap.vaddr);
		LEN(b->vmap.size);
		break;
	case FZ_VFIO_IOMMU_UNMAP_DMA:
		b->vunmap.bitmap.data =
			(__u64 *)(uintptr_t)fz_ptr((uintptr_t)b->vunmap.bitmap.data);
		break;
	case FZ_VFIO_IOMMU_DIRTY_PAGES:
		b->vdirty.get.bitmap.data = (__u64 *)(uintptr_t)fz_ptr(
			(uintptr_t)b->vdirty.get.bitmap.data);
		break;
	default:
		break;
	}
}

/* The fds a successful command made, to be closed by the input's end. */
static void after(struct fz *f, unsigned int kind, const union fz_buf *out,
		  uint32_t size, long ret)
{
	if (ret > 0 && kind == FZ_TEST_CMD)	/* DMABUF_GET's fd */
		track_fd(f, ret);
	if (ret || !out)
		return;
	switch (kind) {
	case FZ_TEST_CMD:
		if (out->test.op == IOMMU_TEST_OP_CREATE_ACCESS &&
		    size >= OFFSETOFEND(struct iommu_test_cmd,
					create_access.out_access_fd))
			track_fd(f, out->test.create_access.out_access_fd);
		break;
	case FZ_FAULT_QUEUE_ALLOC:
		if (size >= OFFSETOFEND(struct iommu_fault_alloc, out_fault_fd))
			track_fd(f, out->fault.out_fault_fd);
		break;
	case FZ_VEVENTQ_ALLOC:
		if (size >= OFFSETOFEND(struct iommu_veventq_alloc,
					out_veventq_fd))
			track_fd(f, out->veventq.out_veventq_fd);
		break;
	default:
		break;
	}
}

struct fz_cmd {
	unsigned int num;
	unsigned int size, min_size;
};

#define CMD(_kind, _num, _struct, _last)                                      \
	[_kind] = { .num = _num, .size = sizeof(_struct),                     \
		    .min_size = OFFSETOFEND(_struct, _last) }

static const struct fz_cmd fz_cmds[FZ_NKINDS] = {
	CMD(FZ_DESTROY, IOMMU_DESTROY, struct iommu_destroy, id),
	CMD(FZ_IOAS_ALLOC, IOMMU_IOAS_ALLOC, struct iommu_ioas_alloc,
	    out_ioas_id),
	CMD(FZ_IOAS_ALLOW_IOVAS, IOMMU_IOAS_ALLOW_IOVAS,
	    struct iommu_ioas_allow_iovas, allowed_iovas),
	CMD(FZ_IOAS_COPY, IOMMU_IOAS_COPY, struct iommu_ioas_copy, src_iova),
	CMD(FZ_IOAS_IOVA_RANGES, IOMMU_IOAS_IOVA_RANGES,
	    struct iommu_ioas_iova_ranges, out_iova_alignment),
	CMD(FZ_IOAS_MAP, IOMMU_IOAS_MAP, struct iommu_ioas_map, iova),
	CMD(FZ_IOAS_UNMAP, IOMMU_IOAS_UNMAP, struct iommu_ioas_unmap, length),
	CMD(FZ_OPTION, IOMMU_OPTION, struct iommu_option, val64),
	CMD(FZ_VFIO_IOAS, IOMMU_VFIO_IOAS, struct iommu_vfio_ioas, __reserved),
	CMD(FZ_HWPT_ALLOC, IOMMU_HWPT_ALLOC, struct iommu_hwpt_alloc,
	    __reserved),
	CMD(FZ_GET_HW_INFO, IOMMU_GET_HW_INFO, struct iommu_hw_info,
	    __reserved),
	CMD(FZ_HWPT_SET_DIRTY_TRACKING, IOMMU_HWPT_SET_DIRTY_TRACKING,
	    struct iommu_hwpt_set_dirty_tracking, __reserved),
	CMD(FZ_HWPT_GET_DIRTY_BITMAP, IOMMU_HWPT_GET_DIRTY_BITMAP,
	    struct iommu_hwpt_get_dirty_bitmap, data),
	CMD(FZ_HWPT_INVALIDATE, IOMMU_HWPT_INVALIDATE,
	    struct iommu_hwpt_invalidate, __reserved),
	CMD(FZ_FAULT_QUEUE_ALLOC, IOMMU_FAULT_QUEUE_ALLOC,
	    struct iommu_fault_alloc, out_fault_fd),
	CMD(FZ_IOAS_MAP_FILE, IOMMU_IOAS_MAP_FILE, struct iommu_ioas_map_file,
	    iova),
	CMD(FZ_VIOMMU_ALLOC, IOMMU_VIOMMU_ALLOC, struct iommu_viommu_alloc,
	    out_viommu_id),
	CMD(FZ_VDEVICE_ALLOC, IOMMU_VDEVICE_ALLOC, struct iommu_vdevice_alloc,
	    virt_id),
	CMD(FZ_IOAS_CHANGE_PROCESS, IOMMU_IOAS_CHANGE_PROCESS,
	    struct iommu_ioas_change_process, __reserved),
	CMD(FZ_VEVENTQ_ALLOC, IOMMU_VEVENTQ_ALLOC, struct iommu_veventq_alloc,
	    out_veventq_fd),
	CMD(FZ_HW_QUEUE_ALLOC, IOMMU_HW_QUEUE_ALLOC,
	    struct iommu_hw_queue_alloc, length),
	CMD(FZ_IOAS_NOIOMMU_GET_PA, IOMMU_IOAS_NOIOMMU_GET_PA,
	    struct iommu_ioas_noiommu_get_pa, out_phys),
	CMD(FZ_TEST_CMD, IOMMU_TEST_CMD, struct iommu_test_cmd, last),
	CMD(FZ_VFIO_IOMMU_GET_INFO, SIO_VFIO_IOMMU_GET_INFO,
	    struct sio_vfio_iommu_type1_info, iova_pgsizes),
	CMD(FZ_VFIO_IOMMU_MAP_DMA, SIO_VFIO_IOMMU_MAP_DMA,
	    struct sio_vfio_iommu_type1_dma_map, size),
	CMD(FZ_VFIO_IOMMU_UNMAP_DMA, SIO_VFIO_IOMMU_UNMAP_DMA,
	    struct fz_vfio_unmap, size),
	CMD(FZ_VFIO_IOMMU_DIRTY_PAGES, SIO_VFIO_IOMMU_DIRTY_PAGES,
	    struct fz_vfio_dirty, flags),
};

/* The ioctls that take an integer, not a pointer. */
static const unsigned int fz_int_cmds[FZ_NKINDS] = {
	[FZ_VFIO_GET_API_VERSION] = SIO_VFIO_GET_API_VERSION,
	[FZ_VFIO_CHECK_EXTENSION] = SIO_VFIO_CHECK_EXTENSION,
	[FZ_VFIO_SET_IOMMU] = SIO_VFIO_SET_IOMMU,
	[FZ_VFIO_IOMMU_ENABLE] = SIO_VFIO_IOMMU_ENABLE,
	[FZ_VFIO_IOMMU_DISABLE] = SIO_VFIO_IOMMU_DISABLE,
};

static struct sio_iommufd *cur_ctx(struct fz *f)
{
	if (!f->ictx[f->cur] && sio_iommufd_open(G.host, &f->ictx[f->cur]))
		abort();
	return f->ictx[f->cur];
}

/* Never a mapped address: small (page 0) or with bit 63 set. */
static unsigned long fz_int(uint64_t v)
{
	return (v >> 63) ? (unsigned long)v : (unsigned long)(v & 0xfff);
}

static void run_struct_cmd(struct fz *f, unsigned int kind)
{
	const struct fz_cmd *c = &fz_cmds[kind];
	uint8_t mode = get_u8(f), param = get_u8(f);
	uint8_t *slot = G.arena + G.arena_size - G.page;
	unsigned int sm = mode & 15, am = mode >> 4;
	union fz_buf b;
	uint64_t arg;
	uint32_t size;
	size_t extra = 0;
	long ret;

	memset(&b, 0, sizeof(b));
	get_bytes(f, &b, c->size);
	patch(f, kind, &b);

	if (sm <= 8)
		size = c->size;
	else if (sm == FZ_SZ_MIN)
		size = c->min_size;
	else if (sm == FZ_SZ_SHORT)
		size = param % c->min_size;
	else if (sm == FZ_SZ_LONG_ZERO || sm == FZ_SZ_LONG_DIRTY)
		size = c->size + (extra = 1 + param % 64);
	else if (sm == FZ_SZ_ZERO)
		size = 0;
	else if (sm == FZ_SZ_RAW)
		memcpy(&size, &b, sizeof(size));
	else
		size = 0xffffffffu - param;
	memcpy(&b, &size, sizeof(size));	/* size and argsz: first __u32 */

	if (am <= 11 || am == FZ_ARG_END) {
		if (am == FZ_ARG_END) {
			slot = G.arena + G.arena_size - c->size;
			extra = 0;	/* the tail would be the guard page */
		}
		memcpy(slot, &b, c->size);
		memset(slot + c->size, 0, extra);
		if (extra && sm == FZ_SZ_LONG_DIRTY)
			slot[c->size + param % extra] = param | 1;
		arg = (uintptr_t)slot;
	} else if (am == FZ_ARG_NULL) {
		arg = 0;
	} else if (am == FZ_ARG_GUARD) {
		arg = fz_ptr((uint64_t)FZ_PTR_GUARD_HI << 56 | param);
	} else {
		arg = fz_ptr((uint64_t)FZ_PTR_KERNEL << 56 | param);
	}

	ret = sio_iommufd_ioctl(cur_ctx(f), c->num, arg);
	if (G.trace)
		fprintf(stderr, "ctx%u kind %u ioctl %#x size %u op %u -> %ld\n",
			f->cur, kind, c->num, size,
			kind == FZ_TEST_CMD ? b.test.op : 0, ret);
	if (arg == (uintptr_t)slot) {
		memcpy(&b, slot, c->size);
		after(f, kind, &b, size, ret);
	} else {
		after(f, kind, NULL, size, ret);
	}
}

static void run_int_cmd(struct fz *f, unsigned int kind)
{
	uint64_t v;
	long ret;

	get_u8(f);
	get_u8(f);
	get_bytes(f, &v, sizeof(v));
	ret = sio_iommufd_ioctl(cur_ctx(f), fz_int_cmds[kind], fz_int(v));
	if (G.trace)
		fprintf(stderr, "ctx%u kind %u ioctl %#x int -> %ld\n", f->cur,
			kind, fz_int_cmds[kind], ret);
	after(f, kind, NULL, 0, ret);
}

/* Any number, with contents whose every word is a safe pointer. */
static void run_raw(struct fz *f)
{
	uint8_t mode = get_u8(f), param = get_u8(f);
	uint8_t *slot = G.arena + G.arena_size - G.page;
	union fz_buf b;
	uint32_t num;
	uint64_t arg;
	long ret;

	get_bytes(f, &num, sizeof(num));
	memset(&b, 0, sizeof(b));
	get_bytes(f, b.raw, sizeof(b.raw));
	if (param & 1)	/* iommufd's (and VFIO's) type, any nr/dir/size */
		num = (num & ~0xff00u) | (IOMMUFD_TYPE << 8);
	/* Every word is a safe pointer; the first keeps its low half (the
	 * size of every iommufd and VFIO structure) with bit 63 set. */
	b.raw[0] |= 1ull << 63;
	for (size_t i = 1; i < 8; i++)
		b.raw[i] = fz_ptr(b.raw[i]);
	memcpy(slot, b.raw, sizeof(b.raw));
	arg = (param & 2) ? fz_int((uint64_t)mode << 56 | param)
			  : (uintptr_t)slot;
	ret = sio_iommufd_ioctl(cur_ctx(f), num, arg);
	if (G.trace)
		fprintf(stderr, "ctx%u raw ioctl %#x -> %ld\n", f->cur, num, ret);
	after(f, FZ_RAW, NULL, 0, ret);
}

static void run_fill(struct fz *f)
{
	uint16_t off;
	uint8_t len;

	get_bytes(f, &off, sizeof(off));
	len = get_u8(f);
	off %= G.arena_size;
	if (len > G.arena_size - off)
		len = (uint8_t)(G.arena_size - off);
	get_bytes(f, G.arena + off, len);
}

static void run_close(struct fz *f)
{
	unsigned int i = get_u8(f);

	if (!f->nfds)
		return;
	i %= f->nfds;
	sio_file_close(f->fds[i]);
	f->fds[i] = f->fds[--f->nfds];
}

static void run_dup(struct fz *f)
{
	unsigned int i = get_u8(f);
	int fd;

	if (!f->nfds)
		return;
	fd = sio_file_dup(f->fds[i % f->nfds], 0, (i & 0x80) ? O_CLOEXEC : 0);
	if (fd >= 0)
		track_fd(f, fd);
}

/* ------------------------------------------------------------------ */
/* The harness                                                          */
/* ------------------------------------------------------------------ */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t len;

	(void)argc;
	(void)argv;
	G.page = (size_t)sysconf(_SC_PAGESIZE);
	G.arena_size = FZ_ARENA_PAGES * G.page;
	len = G.arena_size + 2 * G.page;
	G.map = mmap(NULL, len, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (G.map == MAP_FAILED) {
		perror("fuzz_iommufd: mmap");
		abort();
	}
	if (mprotect(G.map, G.page, PROT_NONE) ||
	    mprotect(G.map + G.page + G.arena_size, G.page, PROT_NONE)) {
		perror("fuzz_iommufd: mprotect");
		abort();
	}
	G.arena = G.map + G.page;
	G.memfd = memfd_create("fuzz_iommufd", MFD_CLOEXEC);
	if (G.memfd < 0 || ftruncate(G.memfd, (off_t)G.arena_size)) {
		perror("fuzz_iommufd: memfd");
		abort();
	}
	G.trace = getenv("FUZZ_IOMMUFD_TRACE") != NULL;
	if (sio_iommufd_host_create(&G.host)) {
		fprintf(stderr, "fuzz_iommufd: host_create failed\n");
		abort();
	}
	return 0;
}

static int lowest_free_fd(void)
{
	int fd = fcntl(G.memfd, F_DUPFD_CLOEXEC, 0);

	if (fd >= 0)
		close(fd);
	return fd;
}

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_iommufd: %s\n", what);
	abort();
}

/* Nothing may outlive the input's contexts. */
static void check_clean(int fd_before)
{
	struct sio_umem_stats st;

	if (!cds_list_empty(&G.host->pages_list))
		fail("iopt_pages left on the host after release");
	sio_umem_owner_stats(G.host->owner, &st);
	if (st.pinned || st.locked_mm)
		fail("pinned or charged pages left after release");
	if (lowest_free_fd() != fd_before)
		fail("a descriptor was leaked (or closed) by the input");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { .p = data, .n = size };
	int fd_before = lowest_free_fd();

	memset(G.arena, 0, G.arena_size);
	for (unsigned int ops = 0; f.n && ops < FZ_MAX_OPS; ops++) {
		unsigned int kind = get_u8(&f) % FZ_NKINDS;

		switch (kind) {
		case FZ_RAW:
			run_raw(&f);
			break;
		case FZ_FILL:
			run_fill(&f);
			break;
		case FZ_CLOSE:
			run_close(&f);
			break;
		case FZ_DUP:
			run_dup(&f);
			break;
		case FZ_SWITCH: {
			uint8_t which = get_u8(&f);

			f.cur = which & 1;
			if (which & 2) {
				sio_iommufd_release(f.ictx[f.cur]);
				f.ictx[f.cur] = NULL;
			}
			break;
		}
		default:
			if (fz_int_cmds[kind])
				run_int_cmd(&f, kind);
			else
				run_struct_cmd(&f, kind);
			break;
		}
	}

	/* Put back the host-wide knob, then close and release everything. */
	if (f.ictx[0] || f.ictx[1]) {
		struct iommu_test_cmd *c = (void *)(G.arena + G.arena_size -
						    G.page);

		memset(c, 0, sizeof(*c));
		c->size = sizeof(*c);
		c->op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT;
		c->memory_limit.limit = 65536;
		sio_iommufd_ioctl(f.ictx[0] ? f.ictx[0] : f.ictx[1],
				  IOMMU_TEST_CMD, (uintptr_t)c);
	}
	while (f.nfds)
		sio_file_close(f.fds[--f.nfds]);
	sio_iommufd_release(f.ictx[0]);
	sio_iommufd_release(f.ictx[1]);
	check_clean(fd_before);
	return 0;
}
