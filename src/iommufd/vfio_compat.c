/*
 * The VFIO type1 container on the iommufd fd (the kernel's vfio_compat.c,
 * Linux 7.3 semantics).
 *
 * A program written for a VFIO container can issue the container ioctls
 * (SIO_VFIO_* in softiommu/uapi/vfio_compat.h) on /dev/iommu instead.  They
 * carry no IOAS ID, so they act on one chosen IOAS of the context, the
 * "compat IOAS": IOMMU_VFIO_IOAS gets, sets or clears it; the VFIO group
 * emulation may create one on demand (iommufd_vfio_compat_ioas_create, the
 * only path that creates it: no container ioctl does, they answer -ENODEV
 * while there is none).  The pointer holds no reference: destroying the IOAS
 * clears it, under the object lock, so a lookup that finds it can take a
 * user reference safely.
 *
 * Type1 and type1v2 differ only in unmap: type1 may unmap part of a
 * mapping.  As in the kernel, SET_IOMMU(TYPE1) turns off large pages in the
 * IOAS so that no IOPTE crosses a page, and UNMAP_DMA then cuts the areas
 * at the ends of the range before unmapping; with type1v2 a partial unmap
 * fails with -ENOENT.  No-IOMMU mode, entered by the VFIO emulation when a
 * device without an IOMMU joins the container, refuses the type1 IOMMUs.
 *
 * Every VFIO structure is read with its own minimum size (argsz rules of
 * VFIO, not iommufd's size rules), through the fault-safe umem copies.
 */
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommufd/iommufd_private.h"
#include "softiommu/uapi/vfio_compat.h"

#define OFFSETOFEND(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))

/*
 * Debian builds Linux 7.3 with CONFIG_VFIO_NOIOMMU=y: CHECK_EXTENSION
 * reports the no-IOMMU type and SET_IOMMU accepts it in no-IOMMU mode.
 */
#define VFIO_COMPAT_NOIOMMU 1

/* The compat IOAS with a user reference, or NULL (-ENODEV). */
static struct iommufd_ioas *get_compat_ioas(struct sio_iommufd *ictx)
{
	struct iommufd_ioas *ioas;

	pthread_mutex_lock(&ictx->obj_lock);
	ioas = ictx->vfio_ioas;
	if (ioas && !iommufd_lock_obj(ictx, &ioas->obj))
		ioas = NULL;
	pthread_mutex_unlock(&ictx->obj_lock);
	return ioas;
}

static int no_compat_ioas(void)
{
	return sio_err(-ENODEV, "vfio compat: no compat IOAS (IOMMU_VFIO_IOAS)");
}

int iommufd_vfio_compat_ioas_get_id(struct sio_iommufd *ictx,
				    uint32_t *out_ioas_id)
{
	struct iommufd_ioas *ioas = get_compat_ioas(ictx);

	if (!ioas)
		return no_compat_ioas();
	*out_ioas_id = ioas->obj.id;
	iommufd_put_object(ictx, &ioas->obj);
	return 0;
}

int iommufd_vfio_compat_set_no_iommu(struct sio_iommufd *ictx)
{
	int rc = 0;

	pthread_mutex_lock(&ictx->obj_lock);
	if (ictx->vfio_ioas)
		rc = sio_err(-EINVAL, "vfio compat: no-IOMMU mode on a "
			     "container with an IOAS");
	else
		ictx->no_iommu_mode = true;
	pthread_mutex_unlock(&ictx->obj_lock);
	return rc;
}

/*
 * Attaching a VFIO group to the container creates the compat IOAS if there
 * is none.  It becomes an ordinary object: IOMMU_VFIO_IOAS GET tells its
 * ID, DESTROY or the last close removes it.  Published as compat before it
 * is finalized, so no one can set another compat IOAS in between.
 */
int iommufd_vfio_compat_ioas_create(struct sio_iommufd *ictx)
{
	int rc = 0;
	struct iommufd_ioas *ioas = iommufd_ioas_alloc(ictx, &rc);

	if (!ioas)
		return rc;
	pthread_mutex_lock(&ictx->obj_lock);
	/* VFIO never mixes IOMMU and no-IOMMU use of a container. */
	if (ictx->no_iommu_mode) {
		rc = sio_err(-EINVAL, "vfio compat: the container is in "
			     "no-IOMMU mode");
		goto out_abort;
	}
	/* One exists already: nothing to do. */
	if (ictx->vfio_ioas)
		goto out_abort;
	ictx->vfio_ioas = ioas;
	pthread_mutex_unlock(&ictx->obj_lock);
	iommufd_object_finalize(ictx, &ioas->obj);
	return 0;

out_abort:
	pthread_mutex_unlock(&ictx->obj_lock);
	iommufd_object_abort_and_destroy(ictx, &ioas->obj);
	return rc;
}

/* ------------------------------------------------------------------ */
/* IOMMU_VFIO_IOAS                                                      */
/* ------------------------------------------------------------------ */

int iommufd_vfio_ioas(struct iommufd_ucmd *ucmd)
{
	struct iommu_vfio_ioas *cmd = ucmd->cmd;
	struct sio_iommufd *ictx = ucmd->ictx;
	struct iommufd_ioas *ioas;
	int rc = 0;

	if (cmd->__reserved)
		return sio_err(-EOPNOTSUPP, "IOMMU_VFIO_IOAS: __reserved %#x",
			       cmd->__reserved);
	switch (cmd->op) {
	case IOMMU_VFIO_IOAS_GET:
		rc = iommufd_vfio_compat_ioas_get_id(ictx, &cmd->ioas_id);
		if (rc)
			return rc;
		return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	case IOMMU_VFIO_IOAS_SET:
		ioas = iommufd_get_ioas(ictx, cmd->ioas_id, &rc);
		if (!ioas)
			return rc;
		pthread_mutex_lock(&ictx->obj_lock);
		ictx->vfio_ioas = ioas;
		pthread_mutex_unlock(&ictx->obj_lock);
		iommufd_put_object(ictx, &ioas->obj);
		return 0;
	case IOMMU_VFIO_IOAS_CLEAR:
		pthread_mutex_lock(&ictx->obj_lock);
		ictx->vfio_ioas = NULL;
		pthread_mutex_unlock(&ictx->obj_lock);
		return 0;
	default:
		return sio_err(-EOPNOTSUPP, "IOMMU_VFIO_IOAS: op %u", cmd->op);
	}
}

/* ------------------------------------------------------------------ */
/* MAP_DMA, UNMAP_DMA                                                   */
/* ------------------------------------------------------------------ */

static int vfio_map_dma(struct sio_iommufd *ictx, uint64_t uarg)
{
	const size_t minsz = OFFSETOFEND(struct sio_vfio_iommu_type1_dma_map,
					 size);
	const uint32_t supported = SIO_VFIO_DMA_MAP_FLAG_READ |
				   SIO_VFIO_DMA_MAP_FLAG_WRITE;
	struct sio_vfio_iommu_type1_dma_map map;
	unsigned int prot = SIO_PROT_CACHE;
	struct iommufd_ioas *ioas;
	uint64_t iova;
	int rc;

	if (sio_umem_read(ictx->host->owner, &map, uarg, minsz))
		return sio_err(-EFAULT, "VFIO_IOMMU_MAP_DMA: argument %#llx "
			       "not readable", (unsigned long long)uarg);
	if (map.argsz < minsz)
		return sio_err(-EINVAL, "VFIO_IOMMU_MAP_DMA: argsz %u below "
			       "%zu", map.argsz, minsz);
	if (map.flags & ~supported)
		return sio_err(-EINVAL, "VFIO_IOMMU_MAP_DMA: flags %#x",
			       map.flags);
	if (map.flags & SIO_VFIO_DMA_MAP_FLAG_READ)
		prot |= SIO_PROT_READ;
	if (map.flags & SIO_VFIO_DMA_MAP_FLAG_WRITE)
		prot |= SIO_PROT_WRITE;

	ioas = get_compat_ioas(ictx);
	if (!ioas)
		return no_compat_ioas();
	/* Always at the given IOVA: type1 has no IOVA allocation. */
	iova = map.iova;
	rc = iopt_map_user_pages(ictx, &ioas->iopt, &iova, map.vaddr, map.size,
				 prot, 0);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

static bool large_pages_disabled(struct io_pagetable *iopt)
{
	bool disabled;

	iopt_lock(iopt);
	disabled = iopt->disable_large_pages;
	iopt_unlock(iopt);
	return disabled;
}

/*
 * Type1 (large pages off) may unmap inside a mapping: cut the areas at
 * both ends of the range first.  An IOVA of 0 needs no cut before it.
 * The cut uses the caller's size as given, so a size of 0 still fails in
 * iopt_unmap_iova with -EINVAL as in the kernel.
 */
static int cut_for_type1(struct io_pagetable *iopt, uint64_t iova,
			 uint64_t size)
{
	const uint64_t iovas[] = { iova + size - 1, iova - 1 };

	return iopt_cut_iova(iopt, iovas, iova ? 2 : 1);
}

static int vfio_unmap_dma(struct sio_iommufd *ictx, uint64_t uarg)
{
	const size_t minsz = OFFSETOFEND(struct sio_vfio_iommu_type1_dma_unmap,
					 size);
	/* GET_DIRTY_BITMAP is superseded by iommufd's dirty tracking and
	 * VADDR cannot be made safe: neither is offered, as in the kernel. */
	const uint32_t supported = SIO_VFIO_DMA_UNMAP_FLAG_ALL;
	struct sio_vfio_iommu_type1_dma_unmap unmap;
	struct iommufd_ioas *ioas;
	uint64_t unmapped = 0;
	char reason[256];
	int rc;

	if (sio_umem_read(ictx->host->owner, &unmap, uarg, minsz))
		return sio_err(-EFAULT, "VFIO_IOMMU_UNMAP_DMA: argument %#llx "
			       "not readable", (unsigned long long)uarg);
	if (unmap.argsz < minsz)
		return sio_err(-EINVAL, "VFIO_IOMMU_UNMAP_DMA: argsz %u below "
			       "%zu", unmap.argsz, minsz);
	if (unmap.flags & ~supported)
		return sio_err(-EINVAL, "VFIO_IOMMU_UNMAP_DMA: flags %#x",
			       unmap.flags);

	ioas = get_compat_ioas(ictx);
	if (!ioas)
		return no_compat_ioas();
	if (unmap.flags & SIO_VFIO_DMA_UNMAP_FLAG_ALL) {
		if (unmap.iova || unmap.size) {
			rc = sio_err(-EINVAL, "VFIO_IOMMU_UNMAP_DMA: UNMAP_ALL "
				     "with iova %#llx size %#llx",
				     (unsigned long long)unmap.iova,
				     (unsigned long long)unmap.size);
			goto out_put;
		}
		rc = iopt_unmap_all(&ioas->iopt, &unmapped);
	} else {
		if (large_pages_disabled(&ioas->iopt)) {
			rc = cut_for_type1(&ioas->iopt, unmap.iova, unmap.size);
			if (rc)
				goto out_put;
		}
		rc = iopt_unmap_iova(&ioas->iopt, unmap.iova, unmap.size,
				     &unmapped);
	}
	/* What was unmapped is reported even when the unmap failed part way.
	 * The copy-out starts with a clean message, so the unmap's reason is
	 * kept aside across it. */
	if (rc)
		snprintf(reason, sizeof(reason), "%s", sio_last_error());
	unmap.size = unmapped;
	if (sio_umem_write(ictx->host->owner, uarg, &unmap, minsz))
		rc = sio_err(-EFAULT, "VFIO_IOMMU_UNMAP_DMA: result not "
			     "writable to %#llx", (unsigned long long)uarg);
	else if (rc)
		/* err 0: the reason already ends with its errno's text. */
		sio_err(0, "%s", reason);
out_put:
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

/* ------------------------------------------------------------------ */
/* CHECK_EXTENSION, SET_IOMMU                                           */
/* ------------------------------------------------------------------ */

/*
 * Whether a paging HWPT blocks no-snoop DMA.  The kernel asks the domain to
 * enforce coherency when the device has IOMMU_CAP_ENFORCE_CACHE_COHERENCY;
 * no softiommu driver offers that capability (the kernel's mock does not
 * either), so no HWPT here enforces it.
 */
static bool hwpt_enforces_cache_coherency(const struct iommufd_hwpt_paging *hwpt)
{
	(void)hwpt;
	return false;
}

/* DMA_CC_IOMMU: 1 if every paging HWPT of the compat IOAS enforces it. */
static int vfio_cc_iommu(struct sio_iommufd *ictx)
{
	struct iommufd_hwpt_paging *hwpt;
	struct iommufd_ioas *ioas = get_compat_ioas(ictx);
	int rc = 1;

	if (!ioas)
		return no_compat_ioas();
	pthread_mutex_lock(&ioas->mutex);
	cds_list_for_each_entry(hwpt, &ioas->hwpt_list, hwpt_item) {
		if (!hwpt_enforces_cache_coherency(hwpt)) {
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&ioas->mutex);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

static bool in_no_iommu_mode(struct sio_iommufd *ictx)
{
	bool mode;

	pthread_mutex_lock(&ictx->obj_lock);
	mode = ictx->no_iommu_mode;
	pthread_mutex_unlock(&ictx->obj_lock);
	return mode;
}

static int vfio_check_extension(struct sio_iommufd *ictx, unsigned long ext)
{
	switch (ext) {
	case SIO_VFIO_TYPE1_IOMMU:
	case SIO_VFIO_TYPE1v2_IOMMU:
	case SIO_VFIO_UNMAP_ALL:
		return !in_no_iommu_mode(ictx);
	case SIO_VFIO_NOIOMMU_IOMMU:
		return VFIO_COMPAT_NOIOMMU;
	case SIO_VFIO_DMA_CC_IOMMU:
		return vfio_cc_iommu(ictx);
	default:
		/* The retired nesting type, UPDATE_VADDR (which cannot be made
		 * safe), SPAPR, EEH and unknown numbers. */
		return 0;
	}
}

static int vfio_set_iommu(struct sio_iommufd *ictx, unsigned long type)
{
	bool no_iommu = in_no_iommu_mode(ictx);
	struct iommufd_ioas *ioas;
	int rc = 0;

	/* No-IOMMU mode is emulated loosely: the other ioctls keep working
	 * but mostly fail, as there should be no IOAS. */
	if (VFIO_COMPAT_NOIOMMU && type == SIO_VFIO_NOIOMMU_IOMMU && no_iommu)
		return iommufd_capable(CAP_SYS_RAWIO) ? 0 :
		       sio_err(-EPERM, "VFIO_SET_IOMMU: no-IOMMU needs "
			       "CAP_SYS_RAWIO");
	if (type != SIO_VFIO_TYPE1_IOMMU && type != SIO_VFIO_TYPE1v2_IOMMU)
		return sio_err(-EINVAL, "VFIO_SET_IOMMU: type %lu", type);
	if (no_iommu)
		return sio_err(-EINVAL, "VFIO_SET_IOMMU: type %lu in no-IOMMU "
			       "mode", type);

	/* VFIO refuses SET_IOMMU on a container without a group. */
	ioas = get_compat_ioas(ictx);
	if (!ioas)
		return no_compat_ioas();
	/* Type1 unmaps inside mappings: no IOPTE may span two pages.  Nothing
	 * turns large pages back on (type1v2 later leaves them off). */
	if (type == SIO_VFIO_TYPE1_IOMMU)
		rc = iopt_disable_large_pages(&ioas->iopt);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

/* ------------------------------------------------------------------ */
/* GET_INFO                                                             */
/* ------------------------------------------------------------------ */

/* What GET_INFO reports of the compat IOAS, read once. */
struct compat_info {
	struct sio_vfio_iova_range *ranges;	/* usable IOVA (holes of the
						 * reserved ranges) */
	uint32_t nr_ranges, cap_ranges;
};

static int collect_range(uint64_t start, uint64_t last, void *arg)
{
	struct compat_info *ci = arg;

	if (ci->nr_ranges == ci->cap_ranges) {
		uint32_t ncap = ci->cap_ranges ? ci->cap_ranges * 2 : 4;
		struct sio_vfio_iova_range *n;

		n = sio_realloc(ci->ranges, ncap * sizeof(*n));
		if (!n)
			return sio_err(-ENOMEM, "VFIO_IOMMU_GET_INFO: no memory "
				       "for %u IOVA ranges", ncap);
		ci->ranges = n;
		ci->cap_ranges = ncap;
	}
	ci->ranges[ci->nr_ranges].start = start;
	ci->ranges[ci->nr_ranges].end = last;
	ci->nr_ranges++;
	return 0;
}

/*
 * The page sizes every domain of the IOAS supports, as VFIO reports them:
 * sizes below the CPU page are folded into the CPU page, and the result is
 * at least the IOVA alignment (vfio_update_pgsize_bitmap()).
 */
static uint64_t compat_pagesizes(struct io_pagetable *iopt)
{
	uint64_t ps = iopt->host->page_size, bitmap = UINT64_MAX;

	iopt_lock(iopt);
	for (unsigned int i = 0; i < iopt->ndomains; i++)
		bitmap &= sio_domain_pgsize_bitmap(iopt->domains[i]);
	if (bitmap & (ps - 1)) {
		bitmap &= ~(ps - 1);
		bitmap |= ps;
	}
	if (bitmap < iopt->iova_alignment)
		bitmap = iopt->iova_alignment;
	iopt_unlock(iopt);
	return bitmap;
}

/*
 * A capability writer puts its capability at uaddr if it fits in avail
 * bytes (avail is 0 when nothing fits) and returns its size, or -EFAULT.
 * The chain's next fields are the caller's.
 */
typedef int (*cap_fill_fn)(struct sio_umem_owner *owner,
			   const struct compat_info *ci, uint64_t uaddr,
			   size_t avail);

static int fill_cap_dma_avail(struct sio_umem_owner *owner,
			      const struct compat_info *ci, uint64_t uaddr,
			      size_t avail)
{
	/* iommufd has no mapping count limit; VFIO's default of U16_MAX is
	 * too small for s390 QEMU, which reads it, hence U32_MAX. */
	struct sio_vfio_iommu_type1_info_dma_avail cap = {
		.header = { .id = SIO_VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
			    .version = 1 },
		.avail = UINT32_MAX,
	};

	(void)ci;
	if (avail >= sizeof(cap) && sio_umem_write(owner, uaddr, &cap,
						   sizeof(cap)))
		return sio_err(-EFAULT, "VFIO_IOMMU_GET_INFO: DMA_AVAIL not "
			       "writable to %#llx", (unsigned long long)uaddr);
	return sizeof(cap);
}

/* Ranges are written as far as they fit, the header only when all do. */
static int fill_cap_iova(struct sio_umem_owner *owner,
			 const struct compat_info *ci, uint64_t uaddr,
			 size_t avail)
{
	struct sio_vfio_iommu_type1_info_cap_iova_range cap = {
		.header = { .id = SIO_VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
			    .version = 1 },
		.nr_iovas = ci->nr_ranges,
	};
	const size_t rsz = sizeof(cap.iova_ranges[0]);

	for (uint32_t i = 0; i < ci->nr_ranges; i++)
		if (avail >= sizeof(cap) + (i + 1) * rsz &&
		    sio_umem_write(owner, uaddr + sizeof(cap) + i * rsz,
				   &ci->ranges[i], rsz))
			return sio_err(-EFAULT, "VFIO_IOMMU_GET_INFO: IOVA "
				       "range %u not writable", i);
	if (avail >= sizeof(cap) + ci->nr_ranges * rsz &&
	    sio_umem_write(owner, uaddr, &cap, sizeof(cap)))
		return sio_err(-EFAULT, "VFIO_IOMMU_GET_INFO: IOVA_RANGE not "
			       "writable to %#llx", (unsigned long long)uaddr);
	return (int)(sizeof(cap) + ci->nr_ranges * rsz);
}

/* The kernel's order: DMA avail first, then the IOVA ranges. */
static const cap_fill_fn cap_fills[] = {
	fill_cap_dma_avail,
	fill_cap_iova,
};

/*
 * argsz in is the room the caller gave; argsz out is what the structure
 * and all capabilities need.  A caller with too little room gets the fixed
 * part (as much of it as argsz covers), the capabilities that fit and
 * cap_offset 0, and asks again with the size it was told.
 */
static int vfio_iommu_get_info(struct sio_iommufd *ictx, uint64_t uarg)
{
	struct sio_umem_owner *owner = ictx->host->owner;
	size_t minsz = OFFSETOFEND(struct sio_vfio_iommu_type1_info,
				   iova_pgsizes);
	struct sio_vfio_iommu_type1_info info = { 0 };
	struct compat_info ci = { 0 };
	uint64_t last_cap = 0, total, align;
	struct iommufd_ioas *ioas;
	int rc;

	if (sio_umem_read(owner, &info, uarg, minsz))
		return sio_err(-EFAULT, "VFIO_IOMMU_GET_INFO: argument %#llx "
			       "not readable", (unsigned long long)uarg);
	if (info.argsz < minsz)
		return sio_err(-EINVAL, "VFIO_IOMMU_GET_INFO: argsz %u below "
			       "%zu", info.argsz, minsz);
	if (info.argsz < sizeof(info))
		minsz = info.argsz;
	else
		minsz = sizeof(info);

	ioas = get_compat_ioas(ictx);
	if (!ioas)
		return no_compat_ioas();
	info.flags = SIO_VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = compat_pagesizes(&ioas->iopt);
	info.cap_offset = 0;
	rc = iopt_for_each_iova_range(&ioas->iopt, collect_range, &ci, &align);
	if (rc)
		goto out;

	total = sizeof(info);
	for (size_t i = 0; i < sizeof(cap_fills) / sizeof(cap_fills[0]); i++) {
		size_t avail = info.argsz > total ? info.argsz - total : 0;
		uint32_t next = (uint32_t)total;
		int size;

		size = cap_fills[i](owner, &ci, avail ? uarg + total : 0, avail);
		if (size < 0) {
			rc = size;
			goto out;
		}
		/* Link the previous capability once this one's start is
		 * inside the caller's room. */
		if (last_cap && info.argsz >= total &&
		    sio_umem_write(owner,
				   uarg + last_cap +
				   offsetof(struct sio_vfio_info_cap_header,
					    next),
				   &next, sizeof(next))) {
			rc = sio_err(-EFAULT, "VFIO_IOMMU_GET_INFO: capability "
				     "chain not writable");
			goto out;
		}
		last_cap = total;
		total += ((uint64_t)size + 7) & ~(uint64_t)7;
	}
	if (info.argsz >= total)
		info.cap_offset = sizeof(info);
	info.argsz = (uint32_t)total;
	info.flags |= SIO_VFIO_IOMMU_INFO_CAPS;
	if (sio_umem_write(owner, uarg, &info, minsz))
		rc = sio_err(-EFAULT, "VFIO_IOMMU_GET_INFO: result not "
			     "writable to %#llx", (unsigned long long)uarg);
out:
	free(ci.ranges);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                             */
/* ------------------------------------------------------------------ */

/*
 * The argument is a number for CHECK_EXTENSION and SET_IOMMU, a pointer
 * for the rest.  Unknown numbers, the SPAPR-only ENABLE/DISABLE and type1
 * DIRTY_PAGES are -ENOTTY (the kernel's -ENOIOCTLCMD as the program sees
 * it).
 */
static long vfio_dispatch(struct sio_iommufd *ictx, unsigned int cmd,
			  unsigned long arg)
{
	switch (cmd) {
	case SIO_VFIO_GET_API_VERSION:
		return SIO_VFIO_API_VERSION;
	case SIO_VFIO_SET_IOMMU:
		return vfio_set_iommu(ictx, arg);
	case SIO_VFIO_CHECK_EXTENSION:
		return vfio_check_extension(ictx, arg);
	case SIO_VFIO_IOMMU_GET_INFO:
		return vfio_iommu_get_info(ictx, arg);
	case SIO_VFIO_IOMMU_MAP_DMA:
		return vfio_map_dma(ictx, arg);
	case SIO_VFIO_IOMMU_UNMAP_DMA:
		return vfio_unmap_dma(ictx, arg);
	default:
		return sio_err(-ENOTTY, "vfio compat: unknown ioctl %#x", cmd);
	}
}

static const char *vfio_ioctl_name(unsigned int cmd)
{
	switch (cmd) {
	case SIO_VFIO_SET_IOMMU:
		return "VFIO_SET_IOMMU";
	case SIO_VFIO_CHECK_EXTENSION:
		return "VFIO_CHECK_EXTENSION";
	case SIO_VFIO_IOMMU_GET_INFO:
		return "VFIO_IOMMU_GET_INFO";
	case SIO_VFIO_IOMMU_MAP_DMA:
		return "VFIO_IOMMU_MAP_DMA";
	case SIO_VFIO_IOMMU_UNMAP_DMA:
		return "VFIO_IOMMU_UNMAP_DMA";
	default:
		return NULL;
	}
}

/*
 * These ioctls bypass the iommufd dispatcher's naming, so a reason given
 * deeper (the IO page table, the compat IOAS lookup) gets the VFIO ioctl's
 * name in front here; the handlers' own reasons already carry it.
 */
long iommufd_vfio_ioctl(struct sio_iommufd *ictx, unsigned int cmd,
			unsigned long arg)
{
	long rc = vfio_dispatch(ictx, cmd, arg);
	const char *name = vfio_ioctl_name(cmd), *msg;
	char reason[256];

	if (rc >= 0 || !name)
		return rc;
	msg = sio_last_error();
	if (!msg[0]) {
		sio_err((int)rc, "%s", name);
		return rc;
	}
	if (strstr(msg, name))
		return rc;
	snprintf(reason, sizeof(reason), "%s", msg);
	/* err 0: the reason already ends with its errno's text. */
	sio_err(0, "%s: %s", name, reason);
	return rc;
}
