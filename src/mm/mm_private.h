/*
 * Private definitions of the mm layer: the address space, its mappings
 * (VMAs) and the helpers its files share.
 *
 * mm->lock (the "mmap lock") protects the VMA tree, every change to both
 * page tables, the page pool, the notifier list, the counters and the
 * exited flag.  It is
 * taken before any lock of a notifier's owner (drivers' SVA domain locks,
 * through the callbacks) and never while holding one of those.  The device
 * data path reads mm->pt without it, under RCU.
 */
#ifndef SIO_MM_PRIVATE_H
#define SIO_MM_PRIVATE_H

#include <pthread.h>

#include "softiommu/mm.h"
#include "mm/mm_iommu.h"
#include "mm/pool.h"
#include "util/error.h"
#include "util/interval_tree.h"
#include "util/rcu.h"

struct mm_vma {
	struct sio_itree_node node;	/* [start, last] */
	unsigned int prot;		/* SIO_PROT_READ/WRITE */
};

struct sio_mm {
	unsigned int users;		/* atomic: mmget/mmput */
	unsigned int count;		/* atomic: mmgrab/mmdrop */
	struct sio_mm_iommu *iommu;	/* atomic: the SVA layer's data */

	pthread_mutex_t lock;		/* see above */
	bool exited;			/* atomic reads without the lock */
	struct sio_itree vmas;		/* struct mm_vma */
	/* The CPU page table: populated pages the mapping lets the CPU read
	 * or write.  RCU for readers. */
	struct sio_pt *pt;
	/* Every populated page whatever its rights (a PROT_NONE page keeps
	 * its data): what munmap frees and mprotect maps back. */
	struct sio_pt *pages;
	struct sio_mm_notifier *notifiers;
	struct sio_mm_stats stats;
	struct mm_pool pool;		/* zeroed pages for faults (pool.c) */
};

/* Host pages and table pages to free after a grace period. */
struct mm_reap {
	void **pages;
	size_t npages, cap;
	struct sio_iotlb_gather pt_gather, pages_gather;
};

void mm_reap_init(struct mm_reap *r);
/* After the mm lock is dropped: wait for readers, then free (the pages
 * back to mm's pool). */
void mm_reap(struct sio_mm *mm, struct mm_reap *r);
/* Remove the populated pages of [start, end) from both tables, onto r
 * (mm->lock held). */
void mm_unmap_pages(struct sio_mm *mm, uint64_t start, uint64_t end,
		    struct mm_reap *r);
/* Tell the notifiers [start, end) changed (mm->lock held). */
void mm_invalidate(struct sio_mm *mm, uint64_t start, uint64_t end);
/* Tell the notifiers the mm exits (mm->lock held). */
void mm_notify_release(struct sio_mm *mm);
/* The x86-64 rights of a mapping with prot: 0 when the CPU cannot touch
 * it at all (x86 has no write-only pages: write implies read). */
unsigned int mm_leaf_prot(unsigned int prot);

#endif
