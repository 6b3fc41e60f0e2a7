/*
 * Dirty tracking on /dev/iommu: IOMMU_HWPT_SET_DIRTY_TRACKING and
 * IOMMU_HWPT_GET_DIRTY_BITMAP (the kernel's hw_pagetable.c handlers with
 * io_pagetable.c's dirty walk and iova_bitmap.c's user bitmap).
 *
 * The program's bitmap has one bit per page_size bytes of IOVA from
 * cmd->iova, bit i of the array of __u64 at cmd->data (bit i % 64 of word
 * i / 64).  Bits are only ever set, never cleared: a clean page leaves its
 * bit as the program had it, as the kernel's set_bit() on the pinned
 * bitmap does.  A dirty leaf sets the bits of every page it covers (inside
 * the requested range), so a 2 MiB leaf reports 512 bits of 4 KiB.
 *
 * The bitmap is written through a window of WINDOW_BYTES bytes: the walk
 * reports leaves in IOVA order, each window is OR-ed into the program's
 * memory once it moves on, so a huge sparse range costs what its mapped
 * areas cost, not what its length is.
 */
#include <stdlib.h>
#include <string.h>

#include "iommufd/iommufd_private.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the bitmap window assumes a little-endian layout of __u64 words"
#endif

#define WINDOW_BYTES 4096u
#define WINDOW_BITS (WINDOW_BYTES * 8ull)

struct user_bitmap {
	struct sio_umem_owner *owner;
	uint64_t iova;			/* IOVA of bit 0 */
	uint64_t last;			/* last IOVA the bitmap covers */
	unsigned int pgshift;		/* lg2 of the bitmap's page_size */
	uint64_t data;			/* the program's bitmap */
	uint64_t win;			/* window index loaded, or UINT64_MAX */
	size_t lo, hi;			/* bytes of buf touched: [lo, hi) */
	int err;			/* first write-back failure */
	unsigned char buf[WINDOW_BYTES];
};

/* OR the touched bytes of the window into the program's bitmap. */
static void window_flush(struct user_bitmap *bm)
{
	unsigned char cur[WINDOW_BYTES];
	uint64_t uaddr;
	size_t n;

	if (bm->win == UINT64_MAX || bm->lo >= bm->hi || bm->err)
		return;
	uaddr = bm->data + bm->win * WINDOW_BYTES + bm->lo;
	n = bm->hi - bm->lo;
	if (sio_umem_read(bm->owner, cur, uaddr, n)) {
		bm->err = -EFAULT;
		return;
	}
	for (size_t i = 0; i < n; i++)
		cur[i] |= bm->buf[bm->lo + i];
	if (sio_umem_write(bm->owner, uaddr, cur, n))
		bm->err = -EFAULT;
}

static void window_load(struct user_bitmap *bm, uint64_t win)
{
	window_flush(bm);
	bm->win = win;
	bm->lo = WINDOW_BYTES;
	bm->hi = 0;
	memset(bm->buf, 0, sizeof(bm->buf));
}

/* Set bits [lo, hi] of buf: partial bytes bit by bit, whole ones at once
 * (a 1 GiB leaf is 32 KiB of bitmap at 4 KiB pages). */
static void fill_bits(unsigned char *buf, uint64_t lo, uint64_t hi)
{
	for (; lo <= hi && lo % 8; lo++)
		buf[lo / 8] |= 1u << (lo % 8);
	if (lo + 7 <= hi) {
		memset(buf + lo / 8, 0xff, (hi + 1 - lo) / 8);
		lo += (hi + 1 - lo) / 8 * 8;
	}
	for (; lo <= hi; lo++)
		buf[lo / 8] |= 1u << (lo % 8);
}

/* Set the bits of [first, last] (bit numbers), window by window. */
static void set_bits(struct user_bitmap *bm, uint64_t first, uint64_t last)
{
	while (first <= last) {
		uint64_t win = first / WINDOW_BITS;
		uint64_t end = (win + 1) * WINDOW_BITS - 1;
		size_t byte;

		if (win != bm->win)
			window_load(bm, win);
		if (end > last)
			end = last;
		fill_bits(bm->buf, first % WINDOW_BITS, end % WINDOW_BITS);
		byte = (first % WINDOW_BITS) / 8;
		if (byte < bm->lo)
			bm->lo = byte;
		byte = (end % WINDOW_BITS) / 8 + 1;
		if (byte > bm->hi)
			bm->hi = byte;
		if (end == UINT64_MAX)
			break;
		first = end + 1;
	}
}

/* sio_dirty_record_fn: a dirty leaf [iova, iova + len). */
static void record_dirty(void *arg, uint64_t iova, uint64_t len)
{
	struct user_bitmap *bm = arg;
	uint64_t last = iova + len - 1;

	if (last < bm->iova || iova > bm->last)
		return;
	if (iova < bm->iova)
		iova = bm->iova;
	if (last > bm->last)
		last = bm->last;
	set_bits(bm, (iova - bm->iova) >> bm->pgshift,
		 (last - bm->iova) >> bm->pgshift);
}

/* iommufd_check_iova_range(): the range and page size of a bitmap. */
static int check_bitmap_range(struct io_pagetable *iopt,
			      const struct iommu_hwpt_get_dirty_bitmap *cmd,
			      uint64_t *last)
{
	uint64_t align = iopt->iova_alignment;

	if (!cmd->length)
		return sio_err(-EINVAL, "length 0");
	if (__builtin_add_overflow(cmd->iova, cmd->length - 1, last))
		return sio_err(-EOVERFLOW, "iova + length overflows");
	if (*last > UINTPTR_MAX)
		return sio_err(-EOVERFLOW, "range beyond the address width");
	if ((cmd->iova & (align - 1)) || ((*last + 1) & (align - 1)))
		return sio_err(-EINVAL,
			       "range not aligned to the IOAS alignment %#llx", (unsigned long long)align);
	if (!cmd->page_size)
		return sio_err(-EINVAL, "page_size 0");
	if ((cmd->iova & (cmd->page_size - 1)) ||
	    ((*last + 1) & (cmd->page_size - 1)))
		return sio_err(-EINVAL,
			       "range not aligned to page_size %#llx", (unsigned long long)cmd->page_size);
	return 0;
}

static struct iommufd_hwpt_paging *get_hwpt_paging(struct iommufd_ucmd *ucmd,
						   uint32_t id, int *err)
{
	struct iommufd_object *obj = iommufd_get_object(
		ucmd->ictx, id, IOMMUFD_OBJ_HWPT_PAGING, err);

	return obj ? to_hwpt_paging(obj) : NULL;
}

int iommufd_hwpt_set_dirty_tracking(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_set_dirty_tracking *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct io_pagetable *iopt;
	int rc;

	if (cmd->flags & ~IOMMU_HWPT_DIRTY_TRACKING_ENABLE)
		return sio_err(-EOPNOTSUPP,
			       "IOMMU_HWPT_SET_DIRTY_TRACKING: unknown flags %#x", cmd->flags);
	hwpt_paging = get_hwpt_paging(ucmd, cmd->hwpt_id, &rc);
	if (!hwpt_paging)
		return rc;
	/* The IOAS's lock keeps its areas still while the snapshot starts,
	 * as the kernel's iova_rwsem does. */
	iopt = &hwpt_paging->ioas->iopt;
	iopt_lock(iopt);
	rc = sio_domain_set_dirty_tracking(
		hwpt_paging->common.domain,
		cmd->flags & IOMMU_HWPT_DIRTY_TRACKING_ENABLE);
	iopt_unlock(iopt);
	iommufd_put_object(ucmd->ictx, &hwpt_paging->common.obj);
	return rc;
}

/* Read (and clear) the dirty bits of every area inside the range. */
static int read_areas(struct io_pagetable *iopt, struct sio_domain *domain,
		      uint64_t iova, uint64_t last, unsigned int flags,
		      struct user_bitmap *bm)
{
	struct sio_itree_node *n;
	int rc = 0;

	sio_itree_for_each(n, &iopt->area_itree, iova, last) {
		uint64_t start = n->start > iova ? n->start : iova;
		uint64_t end = n->last < last ? n->last : last;

		rc = sio_domain_read_and_clear_dirty(domain, start,
						     end - start + 1, flags,
						     record_dirty, bm);
		if (rc)
			break;
	}
	return rc;
}

int iommufd_hwpt_get_dirty_bitmap(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_get_dirty_bitmap *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct user_bitmap *bm;
	struct io_pagetable *iopt;
	uint64_t last = 0;
	int rc;

	if ((cmd->flags & ~IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) ||
	    cmd->__reserved)
		return sio_err(-EOPNOTSUPP,
			       "IOMMU_HWPT_GET_DIRTY_BITMAP: unknown flags or reserved field set");
	hwpt_paging = get_hwpt_paging(ucmd, cmd->hwpt_id, &rc);
	if (!hwpt_paging)
		return rc;
	iopt = &hwpt_paging->ioas->iopt;
	iopt_lock(iopt);
	rc = check_bitmap_range(iopt, cmd, &last);
	if (rc)
		goto out_unlock;
	if (!sio_domain_can_track_dirty(hwpt_paging->common.domain)) {
		rc = sio_err(-EOPNOTSUPP,
			     "IOMMU_HWPT_GET_DIRTY_BITMAP: the domain does not track dirty pages");
		goto out_unlock;
	}
	bm = sio_malloc(sizeof(*bm));
	if (!bm) {
		rc = sio_err(-ENOMEM,
			     "IOMMU_HWPT_GET_DIRTY_BITMAP: out of memory");
		goto out_unlock;
	}
	*bm = (struct user_bitmap){
		.owner = ucmd->ictx->host->owner,
		.iova = cmd->iova,
		.last = last,
		/* A page size that is not a power of two counts as its
		 * lowest set bit, as the kernel's __ffs() makes it. */
		.pgshift = (unsigned int)__builtin_ctzll(cmd->page_size),
		.data = cmd->data,
		.win = UINT64_MAX,
	};
	rc = read_areas(iopt, hwpt_paging->common.domain, cmd->iova, last,
			(cmd->flags & IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) ?
				SIO_DIRTY_NO_CLEAR : 0,
			bm);
	window_flush(bm);
	if (!rc)
		rc = bm->err;
	free(bm);
out_unlock:
	iopt_unlock(iopt);
	iommufd_put_object(ucmd->ictx, &hwpt_paging->common.obj);
	return rc;
}
