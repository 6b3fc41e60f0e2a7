/*
 * What the soft driver's SVA model did, for tests and demos.
 *
 * The soft driver implements SVA domains (one per mm and IOMMU, made by the
 * SVA layer, softiommu/sva.h) the way hardware does: a PASID-table entry
 * per (PASID table, PASID) pointing at the mm's page table, where devices
 * of one group share a PASID table (the io_mm proposal's
 * attach_domain/detach_domain: the second device only flushes, the last
 * one out clears the entry); an
 * IOTLB in front of the page-table walk; and a device-side cache (ATC) per
 * attached device that every change of the mm invalidates.
 */
#ifndef SOFTIOMMU_SOFT_SVA_H
#define SOFTIOMMU_SOFT_SVA_H

#include "softiommu/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sio_soft_sva_stats {
	uint64_t entry_writes;		/* PASID-table entries installed */
	uint64_t entry_shared;		/* attaches that found theirs installed */
	uint64_t entry_clears;		/* entries cleared by the last device */
	uint64_t entry_kept;		/* detaches that left it to others */
	uint64_t iotlb_invalidations;	/* one per change of the mm */
	uint64_t atc_invalidations;	/* one per change and attached device */
	uint64_t iotlb_hits, iotlb_misses;
	unsigned int entries;		/* PASID-table entries pointing here */
	unsigned int devices;		/* (device, PASID) attachments now */
	bool mm_exited;			/* DMA through the domain fails */
};

/* -EINVAL if domain is not a soft SVA domain. */
SIO_API int sio_soft_sva_stats(struct sio_domain *domain,
			       struct sio_soft_sva_stats *out);
/* The device cache of (dev, the domain's PASID on it): how many times it
 * was invalidated and the last range [start, end).  -ENOENT if dev is not
 * attached to the domain. */
SIO_API int sio_soft_sva_atc(struct sio_domain *domain, struct sio_device *dev,
			     uint64_t *invalidations, uint64_t *start,
			     uint64_t *end);

#ifdef __cplusplus
}
#endif
#endif
