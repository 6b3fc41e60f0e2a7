/*
 * The soft IOMMU driver: an IOMMU whose paging domains use a real hardware
 * page-table format, chosen when the instance is created.
 *
 * This is the driver for VMM and device-emulator authors who want the page
 * tables their guests and hardware really use (Arm LPAE, x86-64, VT-d
 * second stage, AMD v1, RISC-V), behind the same core API as any driver:
 * devices, groups (devices with the same non-zero alias share one), blocked
 * and identity domains, paging domains of the configured format on the RID
 * and on PASIDs, and the lock-free data path.
 */
#ifndef SOFTIOMMU_SOFT_H
#define SOFTIOMMU_SOFT_H

#include "softiommu/iommu.h"
#include "softiommu/pgtable.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sio_soft_config {
	enum sio_pt_format format;
	unsigned int ias;		/* 0: the format's default */
	unsigned int oas;		/* 0: the format's default */
	unsigned int granule_lg2;	/* Arm: 12, 14 or 16; 0: default */
	unsigned int levels;		/* x86-64: 4 or 5; 0: from ias */
	uint32_t pasid_bits;		/* the IOMMU's PASID width, 0..20 */
	enum sio_domain_type default_domain_type; /* 0: IDENTITY */
	bool dirty;			/* paging domains may track dirty bits */
};

/* Register a soft IOMMU; -EINVAL if the format rejects the configuration. */
SIO_API int sio_soft_iommu_create(struct sio_system *sys, const char *name,
				  const struct sio_soft_config *cfg,
				  struct sio_iommu **out);

/* The page table behind a soft paging domain (NULL for other domains):
 * for VMMs that read or walk the hardware format themselves. */
SIO_API struct sio_pt *sio_soft_domain_pgtable(struct sio_domain *domain);

#ifdef __cplusplus
}
#endif
#endif
