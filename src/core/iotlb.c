/*
 * The IOTLB's tags (iotlb.h): one global clock from which every domain
 * takes a fresh tag at init and again whenever its cached translations
 * must go.  A 64-bit counter does not wrap in the life of a process.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/epoch.h"
#include "core/iotlb.h"
#include "util/fail.h"

static uint64_t iotlb_clock;	/* atomic: the last tag handed out */

uint64_t sio_iotlb_clock_next(void)
{
	return __atomic_add_fetch(&iotlb_clock, 1, __ATOMIC_RELAXED);
}

void sio_domain_new_tag(struct sio_domain *d)
{
	/* Sequentially consistent: ordered after the table change it
	 * publishes (release), and before unmap's loads of the DMA counts
	 * (core/epoch.h).  An exchange, not a store: every change of the tag
	 * is then a read-modify-write, so a copy that reads a later unmap's
	 * tag also synchronizes with this one and sees this table change
	 * (a release sequence), whichever unmap's clear came first. */
	(void)__atomic_exchange_n(&d->iotlb_gen, sio_iotlb_clock_next(),
				  __ATOMIC_SEQ_CST);
}

SIO_API void sio_domain_iotlb_invalidate(struct sio_domain *domain)
{
	if (domain)
		sio_domain_new_tag(domain);
}

int sio_device_iotlb_alloc(struct sio_device *dev)
{
	void *p;

	/* Entries are a cache line each: aligned, so none straddles two. */
	if (sio_should_fail(SIO_FAIL_SLAB) ||
	    posix_memalign(&p, 64, sizeof(*dev->iotlb)))
		return -ENOMEM;
	memset(p, 0, sizeof(*dev->iotlb));
	dev->iotlb = p;
	return 0;
}

void sio_device_iotlb_free(struct sio_device *dev)
{
	free(dev->iotlb);
	dev->iotlb = NULL;
}
