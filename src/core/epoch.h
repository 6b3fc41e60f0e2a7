/*
 * The DMA epoch of a paging domain: how sio_unmap() knows that no copy
 * through the pages it cleared is still running, without a grace period.
 *
 * A DMA copy counts itself in one of the domain's two reader counts for as
 * long as it copies (sio_dma_epoch_enter/exit), choosing the count by the
 * domain's epoch index.  Then, and only then, it reads the domain's IOTLB
 * tag (iotlb_gen) and the table.  Unmap clears the entries, stores a new
 * tag, and calls sio_dma_epoch_wait(): if both counts read zero it returns
 * at once (two loads); otherwise it waits for the count new copies do not
 * use to drain, flips the index so that the other one stops gaining new
 * copies, and waits for that one to drain too.
 *
 * Why that is enough (the whole argument is in docs/locking.md): the
 * count's increment and the tag's load on the DMA side, the tag's store
 * and the counts' loads on the unmap side, are all sequentially
 * consistent.  So either unmap's load sees the copy's increment, and waits
 * until the copy's release decrement, or the copy's tag load comes after
 * the new tag in the single order, and the copy sees the cleared entries
 * (the tag is stored after the clear, with release).  Unmap reads each
 * count as zero at least once after its new tag; the flip only makes sure
 * that the count it waits on stops gaining copies, so the wait ends.
 *
 * Waiting on the epoch from inside a DMA (a device model's page-response
 * or fault handler that unmaps while its own copy holds a count) would
 * wait for itself: the data path marks the thread (sio_dma_depth) and
 * sio_unmap() refuses with -EDEADLK.
 */
#ifndef SIO_CORE_EPOCH_H
#define SIO_CORE_EPOCH_H

#include "softiommu/driver.h"
#include "util/rcu.h"

/* Copies in progress on this thread (nested when a handler called from a
 * DMA starts another).  Not atomic: only the thread itself reads it. */
extern _Thread_local unsigned int sio_dma_depth SIO_TLS_IE;

/* Count a copy on d; returns the index to hand to exit.  Must come
 * before any load of d's tag or table that the copy relies on. */
static inline unsigned int sio_dma_epoch_enter(struct sio_domain *d)
{
	unsigned int idx =
		(unsigned int)__atomic_load_n(&d->dma_epoch, __ATOMIC_RELAXED) & 1;

	__atomic_fetch_add(&d->dma_readers[idx], 1, __ATOMIC_SEQ_CST);
	return idx;
}

/* The copy is over: release, so a waiting unmap that reads the count
 * drop also sees every access the copy made. */
static inline void sio_dma_epoch_exit(struct sio_domain *d, unsigned int idx)
{
	__atomic_fetch_sub(&d->dma_readers[idx], 1, __ATOMIC_RELEASE);
}

/* The tag as a copy reads it after entering: sequentially consistent (a
 * plain load on x86), the other half of the argument above. */
static inline uint64_t sio_dma_epoch_tag(const struct sio_domain *d)
{
	return __atomic_load_n(&d->iotlb_gen, __ATOMIC_SEQ_CST);
}

/* Give d a new tag: cached translations of d stop matching.  Called
 * after the table change it publishes. */
void sio_domain_new_tag(struct sio_domain *d);

/* The wait below when a copy is counted (epoch.c). */
void sio_dma_epoch_drain(struct sio_domain *d);

/* After sio_domain_new_tag(): return when no copy that may have used the
 * old entries is still running on d.  No lock a copy takes may be held,
 * and the caller must not be inside a copy (sio_dma_depth == 0).  With no
 * copy in flight (both counts zero) nothing that started before the new
 * tag can still be using the old entries: two loads, inline. */
static inline void sio_dma_epoch_wait(struct sio_domain *d)
{
	if (__atomic_load_n(&d->dma_readers[0], __ATOMIC_SEQ_CST) ||
	    __atomic_load_n(&d->dma_readers[1], __ATOMIC_SEQ_CST))
		sio_dma_epoch_drain(d);
}

#endif
