/*
 * Map, unmap and iova_to_phys on paging domains.
 *
 * The core checks alignment and the aperture, splits a range into the
 * largest page sizes its alignment allows (as iommu_map() does), and calls
 * the driver's map_pages/unmap_pages under the domain's map lock.  Unmap
 * collects what it removed in an IOTLB gather, lets the driver flush once
 * (iotlb_sync), drops the data path's cached translations and waits only
 * for the DMA copies in flight on the domain, as the kernel's unmap waits
 * only for its IOTLB sync: when sio_unmap() returns, no device can reach
 * the unmapped pages any more.  The table pages the unmap emptied are
 * freed after a grace period, without waiting for it (util/rcu.h).
 */
#include "core/core.h"
#include "core/epoch.h"

static unsigned int lowest_bit(uint64_t v)
{
	return (unsigned int)__builtin_ctzll(v);
}

static unsigned int highest_bit(uint64_t v)
{
	return 63u - (unsigned int)__builtin_clzll(v);
}

/* Mask of bits 0..n inclusive. */
static uint64_t mask_upto(unsigned int n)
{
	return n >= 63 ? UINT64_MAX : (2ull << n) - 1;
}

/*
 * The largest supported page size that fits size and the alignment of
 * iova|pa, and how many of them to map before a larger size becomes usable.
 */
/* Inline in both loops: unmap's call, where iova and pa are one value,
 * folds, and neither pays a call per chunk. */
static inline __attribute__((always_inline)) size_t
pick_pgsize(uint64_t bitmap, uint64_t iova, uint64_t pa, size_t size,
	    size_t *count)
{
	uint64_t merged = iova | pa, sizes, bigger;
	unsigned int idx;

	sizes = bitmap & mask_upto(highest_bit(size));
	if (merged)
		sizes &= mask_upto(lowest_bit(merged));
	idx = highest_bit(sizes);

	/*
	 * Stop where the next larger size becomes usable, unless iova and pa
	 * are offset differently within it: then it never becomes usable,
	 * and stopping would only split the range into one call per page.
	 */
	bigger = bitmap & ~mask_upto(idx);
	if (bigger && !((iova ^ pa) & ((1ull << lowest_bit(bigger)) - 1))) {
		uint64_t next = 1ull << lowest_bit(bigger);
		uint64_t to_next = next - (merged & (next - 1));

		if (to_next + next > to_next && to_next + next <= size)
			size = to_next;
	}
	*count = size >> idx;
	return (size_t)1 << idx;
}

static int check_range(struct sio_domain *domain, uint64_t iova, size_t size,
		       const char *what)
{
	const struct sio_domain_geometry *g;
	uint64_t last = iova + size - 1;

	if (!domain || domain->type != SIO_DOMAIN_PAGING)
		return sio_err(-EINVAL, "%s: not a paging domain", what);
	g = &domain->geometry;
	if (last < iova)
		return sio_err(-EINVAL, "%s: range wraps around", what);
	if (g->force_aperture &&
	    (iova < g->aperture_start || last > g->aperture_end))
		return sio_err(-EINVAL,
			       "%s: [%#llx, %#llx] outside the aperture [%#llx, %#llx]",
			       what, (unsigned long long)iova,
			       (unsigned long long)last,
			       (unsigned long long)g->aperture_start,
			       (unsigned long long)g->aperture_end);
	return 0;
}

static size_t unmap_locked(struct sio_domain *domain, uint64_t iova,
			   size_t size, struct sio_iotlb_gather *gather)
{
	size_t unmapped = 0;

	SIO_ASSERT_HELD(&domain->map_lock);
	while (unmapped < size) {
		size_t count, pgsize, done;

		pgsize = pick_pgsize(domain->pgsize_bitmap, iova, iova,
				     size - unmapped, &count);
		done = domain->ops->unmap_pages(domain, iova, pgsize, count,
						gather);
		if (!done)
			break;
		/* Always widen the gather: a driver need not record ranges
		 * itself, and checking for an empty gather would keep only
		 * the first chunk of a range split into several page sizes. */
		sio_iotlb_gather_add_range(gather, iova, done);
		iova += done;
		unmapped += done;
	}
	return unmapped;
}

static void free_table_pages(void *freelist)
{
	sio_pt_free_deferred(freelist);
}

/*
 * Flush the driver's IOTLB, then the data path's (a new tag: core/iotlb.h),
 * wait for the DMA copies that may still use the old entries (core/epoch.h:
 * none in flight is two loads), and leave the table pages the unmap emptied
 * to be freed after a grace period, off this path: a walk that reached them
 * before the clear may still be reading them, but no copy can reach the
 * pages they mapped.  A rollback from inside a DMA (a map made by a handler
 * the DMA called) cannot wait for the copy it is part of, so it only drops
 * the cached translations.
 */
static void finish_unmap(struct sio_domain *domain,
			 struct sio_iotlb_gather *gather, size_t unmapped)
{
	if (!unmapped)
		return;
	if (domain->ops->iotlb_sync)
		domain->ops->iotlb_sync(domain, gather);
	sio_domain_new_tag(domain);
	if (!sio_dma_depth)
		sio_dma_epoch_wait(domain);
	if (gather->freelist)
		sio_rcu_defer(free_table_pages, gather->freelist);
}

SIO_API int sio_map(struct sio_domain *domain, uint64_t iova, uint64_t pa,
		    size_t size, unsigned int prot)
{
	struct sio_iotlb_gather gather;
	uint64_t min_pgsize, cur_iova = iova, cur_pa = pa;
	size_t left = size, mapped = 0;
	int rc;

	sio_err_clear();
	if (!size)
		return 0;
	rc = check_range(domain, iova, size, "map");
	if (rc)
		return rc;
	min_pgsize = 1ull << lowest_bit(domain->pgsize_bitmap);
	if ((iova | pa | size) & (min_pgsize - 1))
		return sio_err(-EINVAL,
			       "map: iova %#llx pa %#llx size %#zx not aligned to %#llx",
			       (unsigned long long)iova, (unsigned long long)pa,
			       size, (unsigned long long)min_pgsize);

	sio_mutex_lock(&domain->map_lock, SIO_LOCK_DOMAIN_MAP);
	while (left) {
		size_t count, pgsize, done = 0;

		pgsize = pick_pgsize(domain->pgsize_bitmap, cur_iova, cur_pa,
				     left, &count);
		rc = domain->ops->map_pages(domain, cur_iova, cur_pa, pgsize,
					    count, prot, &done);
		mapped += done;
		if (rc)
			break;
		cur_iova += done;
		cur_pa += done;
		left -= done;
	}
	if (rc) {
		sio_iotlb_gather_init(&gather);
		unmap_locked(domain, iova, mapped, &gather);
		sio_mutex_unlock(&domain->map_lock);
		finish_unmap(domain, &gather, mapped);
		return sio_err(rc, "map: [%#llx, +%#zx)", (unsigned long long)iova,
			       size);
	}
	if (domain->ops->iotlb_sync_map)
		rc = domain->ops->iotlb_sync_map(domain, iova, size);
	sio_mutex_unlock(&domain->map_lock);
	if (rc) {
		sio_unmap(domain, iova, size);
		return sio_err(rc, "map: IOTLB sync");
	}
	__atomic_add_fetch(&domain->owner->st_maps, 1, __ATOMIC_RELAXED);
	return 0;
}

SIO_API ssize_t sio_unmap(struct sio_domain *domain, uint64_t iova, size_t size)
{
	struct sio_iotlb_gather gather;
	uint64_t min_pgsize;
	size_t unmapped;
	int rc;

	if (!size)
		return 0;
	rc = check_range(domain, iova, size, "unmap");
	if (rc)
		return rc;
	min_pgsize = 1ull << lowest_bit(domain->pgsize_bitmap);
	if ((iova | size) & (min_pgsize - 1))
		return sio_err(-EINVAL,
			       "unmap: iova %#llx size %#zx not aligned to %#llx",
			       (unsigned long long)iova, size,
			       (unsigned long long)min_pgsize);
	if (sio_dma_depth)
		return sio_err(-EDEADLK,
			       "unmap: called from inside a DMA, which it would wait for");
	sio_iotlb_gather_init(&gather);
	sio_mutex_lock(&domain->map_lock, SIO_LOCK_DOMAIN_MAP);
	unmapped = unmap_locked(domain, iova, size, &gather);
	sio_mutex_unlock(&domain->map_lock);
	finish_unmap(domain, &gather, unmapped);
	if (unmapped)
		__atomic_add_fetch(&domain->owner->st_unmaps, 1,
				   __ATOMIC_RELAXED);
	return (ssize_t)unmapped;
}

SIO_API void sio_iommu_stats(struct sio_iommu *iommu,
			     struct sio_iommu_stats *out)
{
	out->maps = __atomic_load_n(&iommu->st_maps, __ATOMIC_RELAXED);
	out->unmaps = __atomic_load_n(&iommu->st_unmaps, __ATOMIC_RELAXED);
}

SIO_API uint64_t sio_iova_to_phys(struct sio_domain *domain, uint64_t iova)
{
	struct sio_xlate x;
	uint64_t phys = 0;

	if (!domain)
		return 0;
	switch (domain->type) {
	case SIO_DOMAIN_IDENTITY:
		return iova;
	case SIO_DOMAIN_PAGING:
		sio_rcu_read_lock();
		if (!domain->ops->lookup(domain, iova, &x))
			phys = x.phys;
		sio_rcu_read_unlock();
		return phys;
	default:
		return 0;
	}
}
