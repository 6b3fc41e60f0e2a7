/*
 * Unmap's wait for the DMA copies in flight on a domain (epoch.h).
 */
#include <sched.h>

#include "core/core.h"
#include "core/epoch.h"

_Thread_local unsigned int sio_dma_depth SIO_TLS_IE;

/* Until count idx reads zero.  Copies are short: spin a little, then give
 * the CPU away (the copy may be running on a thread this one preempted). */
static void drain(struct sio_domain *d, unsigned int idx)
{
	for (unsigned int spins = 0;
	     __atomic_load_n(&d->dma_readers[idx], __ATOMIC_SEQ_CST); spins++) {
		if (spins < 64)
			__builtin_ia32_pause();
		else
			sched_yield();
	}
}

void sio_dma_epoch_drain(struct sio_domain *d)
{
	unsigned int active;

	/* Waiters take turns, so no waiter's flip makes the count another
	 * is draining the active one again. */
	sio_mutex_lock(&d->epoch_lock, SIO_LOCK_DOMAIN_EPOCH);
	active = (unsigned int)__atomic_load_n(&d->dma_epoch, __ATOMIC_RELAXED) & 1;
	/* Only copies that read the index before the last flip add to the
	 * inactive count: it drains. */
	drain(d, active ^ 1);
	__atomic_store_n(&d->dma_epoch,
			 __atomic_load_n(&d->dma_epoch, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_SEQ_CST);
	/* New copies now count on the other side: this one drains too. */
	drain(d, active);
	sio_mutex_unlock(&d->epoch_lock);
}
