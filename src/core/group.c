/*
 * IOMMU groups: lifetime, the group mutex, grouping helpers for drivers,
 * and DMA ownership (kernel-managed vs. user-owned).
 *
 * A group lives while anything holds a reference: each of its devices holds
 * one until the device is removed, and users hold theirs.  When the last
 * reference goes, every attachment it still has is dropped, and a paging
 * default domain it made is freed.
 */
#include <stdlib.h>

#include "core/core.h"
#include "util/fail.h"

void sio_group_lock(struct sio_group *group)
{
	sio_mutex_lock(&group->mutex, SIO_LOCK_GROUP);
	__atomic_store_n(&group->mutex_holder, (uintptr_t)pthread_self(),
			 __ATOMIC_RELAXED);
}

void sio_group_unlock(struct sio_group *group)
{
	__atomic_store_n(&group->mutex_holder, 0, __ATOMIC_RELAXED);
	sio_mutex_unlock(&group->mutex);
}

SIO_API bool sio_device_group_locked(const struct sio_device *dev)
{
	struct sio_group *group = __atomic_load_n(&dev->group, __ATOMIC_ACQUIRE);

	return group && __atomic_load_n(&group->mutex_holder, __ATOMIC_RELAXED) ==
				(uintptr_t)pthread_self();
}

static int group_create(struct sio_iommu *iommu, uint32_t alias,
			struct sio_group **out)
{
	struct sio_group *group = sio_calloc(1, sizeof(*group));

	if (!group)
		return sio_err(-ENOMEM, "group: out of memory");
	group->refcount = 1;
	group->iommu = iommu;
	group->alias = alias;
	group->id = __atomic_fetch_add(&iommu->sys->next_group_id, 1,
				       __ATOMIC_RELAXED);
	pthread_mutex_init(&group->mutex, NULL);
	CDS_INIT_LIST_HEAD(&group->devices);
	sio_pasid_table_init(&group->pasids);
	group->attach_gen = sio_iotlb_clock_next();
	sio_mutex_lock(&iommu->lock, SIO_LOCK_IOMMU);
	cds_list_add_tail(&group->iommu_node, &iommu->groups);
	sio_mutex_unlock(&iommu->lock);
	*out = group;
	return 0;
}

SIO_API int sio_group_alloc(struct sio_iommu *iommu, struct sio_group **out)
{
	return group_create(iommu, 0, out);
}

SIO_API int sio_generic_device_group(struct sio_device *dev,
				     struct sio_group **out)
{
	return group_create(dev->iommu, 0, out);
}

SIO_API int sio_alias_device_group(struct sio_device *dev,
				   struct sio_group **out)
{
	struct sio_iommu *iommu = dev->iommu;
	struct sio_group *group;

	if (!dev->alias)
		return group_create(iommu, 0, out);
	sio_mutex_lock(&iommu->lock, SIO_LOCK_IOMMU);
	cds_list_for_each_entry(group, &iommu->groups, iommu_node) {
		if (group->alias == dev->alias &&
		    sio_ref_inc_not_zero(&group->refcount)) {
			sio_mutex_unlock(&iommu->lock);
			*out = group;
			return 0;
		}
	}
	sio_mutex_unlock(&iommu->lock);
	return group_create(iommu, dev->alias, out);
}

SIO_API struct sio_group *sio_group_get(struct sio_group *group)
{
	sio_ref_inc(&group->refcount);
	return group;
}

SIO_API void sio_group_put(struct sio_group *group)
{
	struct sio_iommu *iommu;

	if (!group || !sio_ref_dec(&group->refcount))
		return;
	iommu = group->iommu;
	sio_mutex_lock(&iommu->lock, SIO_LOCK_IOMMU);
	cds_list_del(&group->iommu_node);
	sio_mutex_unlock(&iommu->lock);

	/* No device and no reference is left, so no reader can reach the
	 * group: its attachments go without a grace period. */
	sio_group_drop_pasids(group);
	if (group->domain)
		sio_domain_attach_dec(group->domain);
	if (group->default_domain_owned)
		sio_domain_destroy(group->default_domain);
	sio_pasid_table_destroy(&group->pasids);
	pthread_mutex_destroy(&group->mutex);
	free(group);
}

SIO_API uint32_t sio_group_id(const struct sio_group *group)
{
	return group->id;
}

SIO_API size_t sio_group_device_count(struct sio_group *group)
{
	size_t n;

	sio_group_lock(group);
	n = group->ndevices;
	sio_group_unlock(group);
	return n;
}

SIO_API int sio_group_first_device(struct sio_group *group,
				   struct sio_device **out)
{
	int rc = 0;

	sio_group_lock(group);
	if (cds_list_empty(&group->devices))
		rc = sio_err(-ENODEV, "group %u has no devices", group->id);
	else
		*out = sio_device_get(cds_list_first_entry(
			&group->devices, struct sio_device, group_node));
	sio_group_unlock(group);
	return rc;
}

SIO_API int sio_group_for_each_device(
	struct sio_group *group,
	int (*fn)(struct sio_device *dev, void *arg), void *arg)
{
	struct sio_device *dev;
	int rc = 0;

	sio_group_lock(group);
	cds_list_for_each_entry(dev, &group->devices, group_node) {
		rc = fn(dev, arg);
		if (rc)
			break;
	}
	sio_group_unlock(group);
	return rc;
}

SIO_API struct sio_domain *sio_group_domain(struct sio_group *group)
{
	return sio_rcu_deref(group->domain);
}

SIO_API struct sio_domain *sio_group_default_domain(struct sio_group *group)
{
	struct sio_domain *d;

	sio_group_lock(group);
	d = group->default_domain;
	sio_group_unlock(group);
	return d;
}

struct sio_domain *sio_group_core_domain(struct sio_group *group)
{
	return group->owner ? group->iommu->blocked_domain : group->default_domain;
}

static int take_ownership(struct sio_group *group, const void *owner)
{
	int rc;

	if ((group->domain && group->domain != group->default_domain) ||
	    group->pasids.count)
		return sio_err(-EBUSY, "group %u: a domain is attached", group->id);
	rc = sio_group_set_domain(group, group->iommu->blocked_domain);
	if (rc)
		return rc;
	/* The blocking domain is attached without a handle. */
	sio_rcu_assign(group->rid_handle, NULL);
	group->owner = owner;
	group->owner_cnt = 1;
	return 0;
}

SIO_API int sio_group_claim_dma_owner(struct sio_group *group, const void *owner)
{
	int rc;

	if (!owner)
		return sio_err(-EINVAL, "claim: NULL owner");
	sio_group_lock(group);
	if (group->owner_cnt)
		rc = sio_err(-EPERM, "group %u is already owned", group->id);
	else
		rc = take_ownership(group, owner);
	sio_group_unlock(group);
	return rc;
}

static void release_ownership(struct sio_group *group)
{
	if (!group->owner_cnt || --group->owner_cnt)
		return;
	group->owner = NULL;
	/* Back to the default domain: a detach that cannot fail.  The
	 * owner's RID handle goes with the domain it was attached with, or
	 * the fault path would find a handle of a domain no longer there
	 * (callers wait for a grace period before returning). */
	if (sio_group_set_domain(group, group->default_domain))
		sio_group_set_domain(group, group->iommu->blocked_domain);
	sio_rcu_assign(group->rid_handle, NULL);
}

SIO_API void sio_group_release_dma_owner(struct sio_group *group)
{
	sio_group_lock(group);
	group->owner_cnt = group->owner_cnt ? 1 : 0;
	release_ownership(group);
	sio_group_unlock(group);
	sio_rcu_synchronize();
}

SIO_API bool sio_group_dma_owned(struct sio_group *group)
{
	bool owned;

	sio_group_lock(group);
	owned = group->owner_cnt != 0;
	sio_group_unlock(group);
	return owned;
}

SIO_API int sio_device_claim_dma_owner(struct sio_device *dev, const void *owner)
{
	struct sio_group *group;
	int rc;

	if (!owner)
		return sio_err(-EINVAL, "claim: NULL owner");
	rc = sio_device_group(dev, &group);
	if (rc)
		return rc;
	sio_group_lock(group);
	if (group->owner_cnt) {
		if (group->owner != owner)
			rc = sio_err(-EPERM, "group %u is owned by another owner",
				     group->id);
		else
			group->owner_cnt++;
	} else {
		rc = take_ownership(group, owner);
	}
	sio_group_unlock(group);
	sio_group_put(group);
	return rc;
}

SIO_API void sio_device_release_dma_owner(struct sio_device *dev)
{
	struct sio_group *group;

	if (sio_device_group(dev, &group))
		return;
	sio_group_lock(group);
	release_ownership(group);
	sio_group_unlock(group);
	sio_group_put(group);
	sio_rcu_synchronize();
}
