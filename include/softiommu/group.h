/*
 * IOMMU groups: the smallest set of devices the IOMMU can isolate.
 *
 * A group's devices always share one RID domain.  A group is kernel-managed
 * (it sits on its default domain) until an owner claims it for user-space
 * DMA (as VFIO/iommufd do): then it moves to the blocking domain, and a
 * detach returns it there instead of to the default domain.  Every attach,
 * detach and domain allocation on a group runs under its mutex.  Group-wide
 * allocation uses the group's first device, chosen under that mutex; a
 * driver must answer the same for every device of one group.
 */
#ifndef SOFTIOMMU_GROUP_H
#define SOFTIOMMU_GROUP_H

#include "softiommu/common.h"

#ifdef __cplusplus
extern "C" {
#endif

SIO_API struct sio_group *sio_group_get(struct sio_group *group);
SIO_API void sio_group_put(struct sio_group *group);

SIO_API uint32_t sio_group_id(const struct sio_group *group);
SIO_API size_t sio_group_device_count(struct sio_group *group);
/* The first device with a reference taken; -ENODEV if the group is empty. */
SIO_API int sio_group_first_device(struct sio_group *group,
				   struct sio_device **out);
SIO_API int sio_group_for_each_device(
	struct sio_group *group,
	int (*fn)(struct sio_device *dev, void *arg), void *arg);

/* The domain the group's RID is attached to now (no reference: valid while
 * the caller keeps it attached). */
SIO_API struct sio_domain *sio_group_domain(struct sio_group *group);
SIO_API struct sio_domain *sio_group_default_domain(struct sio_group *group);

/*
 * DMA ownership, as iommu_{group,device}_claim_dma_owner():
 *  - owner NULL -> -EINVAL; the group already owned: group claim -> -EPERM,
 *    device claim -> -EPERM unless it is the same owner (then counted);
 *  - a non-default RID domain or any PASID attachment -> -EBUSY;
 *  - on success the group moves to its blocking domain.
 * release: back to the default domain when the count reaches zero.
 */
SIO_API int sio_group_claim_dma_owner(struct sio_group *group, const void *owner);
SIO_API void sio_group_release_dma_owner(struct sio_group *group);
SIO_API bool sio_group_dma_owned(struct sio_group *group);
SIO_API int sio_device_claim_dma_owner(struct sio_device *dev, const void *owner);
SIO_API void sio_device_release_dma_owner(struct sio_device *dev);

#ifdef __cplusplus
}
#endif
#endif
