/*
 * The IOTLB's tags (iotlb.h): one global clock from which every domain
 * takes a fresh tag at init and again whenever its cached translations
 * must go.  A 64-bit counter does not wrap in the life of a process.
 *
 * Tags are only ever compared for equality, so what matters is that no
 * value is handed out twice, not their order.  Each thread takes them
 * from a block of the clock it reserved with one fetch-add: an unmap then
 * takes its new tag with no atomic read-modify-write on a line every
 * thread that unmaps shares.  Blocks are disjoint, so values stay unique
 * across threads; a thread that exits leaves the rest of its block
 * unused, and 0 (no parent tag) is never handed out.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/epoch.h"
#include "core/iotlb.h"
#include "util/fail.h"

#define IOTLB_CLOCK_BLOCK 256u

static uint64_t iotlb_clock;	/* atomic: the last value reserved */

/* This thread's block: next to hand out, and the end (exclusive). */
static _Thread_local uint64_t tag_next SIO_TLS_IE, tag_end SIO_TLS_IE;

uint64_t sio_iotlb_clock_next(void)
{
	if (__builtin_expect(tag_next == tag_end, 0)) {
		uint64_t last = __atomic_add_fetch(&iotlb_clock,
						   IOTLB_CLOCK_BLOCK,
						   __ATOMIC_RELAXED);

		tag_next = last - IOTLB_CLOCK_BLOCK + 1;
		tag_end = last + 1;
	}
	return tag_next++;
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
