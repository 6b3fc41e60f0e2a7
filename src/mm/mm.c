/*
 * An address space's life: creation, the two reference counts, exit, and
 * the deferred freeing every change of the page table ends with.
 *
 * Exit (the last user gone) runs under the mm lock: notifiers hear
 * release() first, so secondary TLBs stop using the table, then every
 * mapping goes.  Pages are freed after a grace period, once no device
 * walk that began before exit can still copy from them.  What remains is
 * an empty page table that stays valid to walk until the last count drops:
 * that is what lets an SVA domain outlive its process and still fail DMA
 * cleanly.  Freed pages go back to the mm's page pool (pool.c), which the
 * last drop empties.
 */
#include <stdlib.h>

#include "mm/mm_private.h"
#include "util/fail.h"

static int mm_table(struct sio_pt **out)
{
	struct sio_pt_cfg cfg = {
		.format = SIO_PT_X86_64,
		.ias = 48,
		.levels = 4,
	};

	return sio_pt_create(&cfg, out);
}

SIO_API int sio_mm_create(struct sio_mm **out)
{
	struct sio_mm *mm;

	if (!out)
		return sio_err(-EINVAL, "mm: missing argument");
	mm = sio_calloc(1, sizeof(*mm));
	if (!mm)
		return sio_err(-ENOMEM, "mm: out of memory");
	if (mm_table(&mm->pt) || mm_table(&mm->pages)) {
		if (mm->pt)
			sio_pt_destroy(mm->pt);
		free(mm);
		return sio_err(-ENOMEM, "mm: page table");
	}
	mm->users = 1;
	mm->count = 1;
	pthread_mutex_init(&mm->lock, NULL);
	mm->vmas = (struct sio_itree)SIO_ITREE_INIT;
	*out = mm;
	return 0;
}

SIO_API void sio_mm_get(struct sio_mm *mm)
{
	__atomic_add_fetch(&mm->users, 1, __ATOMIC_RELAXED);
}

SIO_API bool sio_mm_get_not_zero(struct sio_mm *mm)
{
	unsigned int old = __atomic_load_n(&mm->users, __ATOMIC_RELAXED);

	do {
		if (!old)
			return false;
	} while (!__atomic_compare_exchange_n(&mm->users, &old, old + 1, true,
					      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
	return true;
}

SIO_API void sio_mm_grab(struct sio_mm *mm)
{
	__atomic_add_fetch(&mm->count, 1, __ATOMIC_RELAXED);
}

SIO_API void sio_mm_drop(struct sio_mm *mm)
{
	struct sio_mm_iommu *iommu;

	if (!mm || __atomic_sub_fetch(&mm->count, 1, __ATOMIC_ACQ_REL))
		return;
	iommu = __atomic_load_n(&mm->iommu, __ATOMIC_ACQUIRE);
	if (iommu)
		iommu->release(iommu);
	/* Exit emptied the tables; whoever walked them did so under a
	 * count, and the last count is gone. */
	sio_pt_destroy(mm->pt);
	sio_pt_destroy(mm->pages);
	mm_pool_destroy(mm);
	pthread_mutex_destroy(&mm->lock);
	free(mm);
}

static void mm_exit(struct sio_mm *mm)
{
	struct sio_itree_node *n;
	struct mm_reap r;

	mm_reap_init(&r);
	pthread_mutex_lock(&mm->lock);
	__atomic_store_n(&mm->exited, true, __ATOMIC_RELEASE);
	mm_notify_release(mm);
	while ((n = sio_itree_iter_first(&mm->vmas, 0, UINT64_MAX))) {
		mm_unmap_pages(mm, n->start, n->last + 1, &r);
		sio_itree_remove(&mm->vmas, n);
		free(sio_container_of(n, struct mm_vma, node));
		mm->stats.vmas--;
	}
	pthread_mutex_unlock(&mm->lock);
	mm_reap(mm, &r);
}

SIO_API void sio_mm_put(struct sio_mm *mm)
{
	if (!mm || __atomic_sub_fetch(&mm->users, 1, __ATOMIC_ACQ_REL))
		return;
	mm_exit(mm);
	sio_mm_drop(mm);
}

SIO_API bool sio_mm_exited(struct sio_mm *mm)
{
	return __atomic_load_n(&mm->exited, __ATOMIC_ACQUIRE);
}

SIO_API void sio_mm_stats(struct sio_mm *mm, struct sio_mm_stats *out)
{
	pthread_mutex_lock(&mm->lock);
	*out = mm->stats;
	out->pool = mm->pool.count;
	pthread_mutex_unlock(&mm->lock);
}

void mm_reap_init(struct mm_reap *r)
{
	r->pages = NULL;
	r->npages = r->cap = 0;
	sio_iotlb_gather_init(&r->pt_gather);
	sio_iotlb_gather_init(&r->pages_gather);
}

void mm_reap(struct sio_mm *mm, struct mm_reap *r)
{
	if (!r->npages && !r->pt_gather.freelist && !r->pages_gather.freelist)
		return;
	sio_rcu_synchronize();
	sio_pt_free_deferred(r->pt_gather.freelist);
	sio_pt_free_deferred(r->pages_gather.freelist);
	mm_pool_put(mm, r->pages, r->npages);
	free(r->pages);
	mm_reap_init(r);
}

struct sio_mm_iommu *mm_iommu_data(struct sio_mm *mm)
{
	return __atomic_load_n(&mm->iommu, __ATOMIC_ACQUIRE);
}

struct sio_mm_iommu *mm_iommu_install(struct sio_mm *mm,
				      struct sio_mm_iommu *data)
{
	struct sio_mm_iommu *cur = NULL;

	if (__atomic_compare_exchange_n(&mm->iommu, &cur, data, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return data;
	return cur;
}
