/*
 * The soft driver's SVA ops, as soft.c's ops tables use them.
 */
#ifndef SIO_DRIVERS_SOFT_SVA_H
#define SIO_DRIVERS_SOFT_SVA_H

#include "softiommu/driver.h"

int soft_sva_domain_alloc(struct sio_device *dev, struct sio_mm *mm,
			  struct sio_domain **out);
/* dev's PASID leaves old (any domain, or NULL): if old is a soft SVA
 * domain, its PASID-table entry and device cache go. */
void soft_sva_leave(struct sio_domain *old, struct sio_device *dev,
		    sio_pasid_t pasid);

#endif
