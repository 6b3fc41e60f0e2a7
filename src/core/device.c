/*
 * Devices: probe onto an IOMMU, placement in a group, removal at any time,
 * reference counting, reserved regions and hardware information.
 *
 * Probe asks the driver to accept the device and to group it, then attaches
 * the group's current domain to it (the default domain for a new group).
 * Removal detaches the device from everything it is attached to (its PASIDs
 * and its RID, which goes to the blocked domain), unlinks it from its group
 * and unpublishes dev->group, then waits for a grace period so no data-path
 * reader still uses the device's old translation when removal returns.  The
 * group's own attachments stay for its other devices and its owner.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "util/fail.h"

static void device_free(struct sio_device *dev)
{
	pthread_mutex_destroy(&dev->resv_lock);
	sio_device_iotlb_free(dev);
	free(dev->resv);
	free(dev);
}

/* Called with the group mutex held: put dev on the group's domain. */
static int device_join_group(struct sio_group *group, struct sio_device *dev)
{
	struct sio_domain *domain;
	int rc;

	if (!group->default_domain) {
		rc = sio_group_make_default_domain(group, dev);
		if (rc)
			return rc;
	}
	domain = group->domain ? group->domain : group->default_domain;
	if (domain->ops->attach_dev) {
		rc = domain->ops->attach_dev(domain, dev, NULL);
		if (rc)
			return sio_err(rc, "device %s: attach to its group's %s domain",
				       dev->name, sio_domain_type_name(domain->type));
	}
	if (!group->domain) {
		sio_domain_attach_inc(domain);
		sio_rcu_assign(group->domain, domain);
		sio_group_attach_changed(group);
	}
	cds_list_add_tail(&dev->group_node, &group->devices);
	group->ndevices++;
	return 0;
}

SIO_API int sio_device_probe(struct sio_iommu *iommu,
			     const struct sio_device_desc *desc,
			     struct sio_device **out)
{
	struct sio_group *group = NULL;
	struct sio_device *dev;
	int rc;

	sio_err_clear();
	if (!iommu || !desc || !out)
		return sio_err(-EINVAL, "probe: missing argument");
	if (desc->pasid_bits > SIO_PASID_MAX_BITS)
		return sio_err(-EINVAL, "probe: %u PASID bits", desc->pasid_bits);
	dev = sio_calloc(1, sizeof(*dev));
	if (!dev)
		return sio_err(-ENOMEM, "probe: out of memory");
	dev->refcount = 1;
	if (desc->name)
		snprintf(dev->name, sizeof(dev->name), "%s", desc->name);
	else
		snprintf(dev->name, sizeof(dev->name), "dev%u",
			 __atomic_fetch_add(&iommu->sys->next_device_id, 1,
					    __ATOMIC_RELAXED));
	dev->rid = desc->rid;
	dev->alias = desc->alias;
	dev->pasid_bits = desc->pasid_bits;
	dev->flags = desc->flags;
	dev->priv = desc->priv;
	dev->iommu = iommu;
	pthread_mutex_init(&dev->resv_lock, NULL);
	CDS_INIT_LIST_HEAD(&dev->group_node);
	if (sio_device_iotlb_alloc(dev)) {
		rc = sio_err(-ENOMEM, "probe: out of memory");
		goto err_free;
	}

	if (iommu->ops->probe_device) {
		rc = iommu->ops->probe_device(iommu, dev);
		if (rc) {
			rc = sio_err(rc, "%s refused device %s", iommu->name, dev->name);
			goto err_free;
		}
	}
	/*
	 * The PASIDs a device may use: what its driver granted (drivers that
	 * do not say get the device's capability), never more than the
	 * IOMMU's width nor, when the description gives one, the device's.
	 */
	if (!dev->max_pasids && desc->pasid_bits)
		dev->max_pasids = 1u << desc->pasid_bits;
	if (desc->pasid_bits && dev->max_pasids > 1u << desc->pasid_bits)
		dev->max_pasids = 1u << desc->pasid_bits;
	if (dev->max_pasids > 1u << iommu->caps.pasid_bits || !iommu->caps.pasid_bits)
		dev->max_pasids = iommu->caps.pasid_bits ? 1u << iommu->caps.pasid_bits : 0;
	rc = iommu->ops->device_group(dev, &group);
	if (rc) {
		rc = sio_err(rc, "%s: no group for %s", iommu->name, dev->name);
		goto err_release;
	}
	/*
	 * dev->group is set before the driver's attach_dev and default-domain
	 * allocation run, so that sio_device_group_locked() holds inside them
	 * as the driver contract promises.  Nobody else has the device yet,
	 * so no data-path reader can see it before it is fully joined, and a
	 * failure can unpublish it without a grace period.
	 */
	sio_group_lock(group);
	sio_rcu_assign(dev->group, group);	/* the device's reference */
	rc = device_join_group(group, dev);
	if (rc)
		sio_rcu_assign(dev->group, NULL);
	sio_group_unlock(group);
	if (rc) {
		sio_group_put(group);
		goto err_release;
	}
	__atomic_add_fetch(&iommu->ndevices, 1, __ATOMIC_RELEASE);
	*out = dev;
	return 0;

err_release:
	if (iommu->ops->release_device)
		iommu->ops->release_device(dev);
err_free:
	device_free(dev);
	return rc;
}

SIO_API void sio_device_remove(struct sio_device *dev)
{
	struct sio_pasid_entry *retired = NULL;
	struct sio_group *group;
	struct sio_domain *blocked;

	if (!dev || __atomic_exchange_n(&dev->removed, true, __ATOMIC_ACQ_REL))
		return;
	group = dev->group;
	blocked = dev->iommu->blocked_domain;

	sio_group_lock(group);
	sio_group_remove_dev_pasids(group, dev);
	/* The blocked domain cannot fail to attach; its result is moot. */
	if (blocked->ops->attach_dev)
		blocked->ops->attach_dev(blocked, dev, group->domain);
	cds_list_del(&dev->group_node);
	group->ndevices--;
	sio_rcu_assign(dev->group, NULL);
	/* PASIDs are detached through a device: with none left they go. */
	if (!group->ndevices)
		retired = sio_group_retire_pasids(group);
	sio_group_unlock(group);

	sio_rcu_synchronize();
	sio_pasid_entries_free(retired);
	if (dev->iommu->ops->release_device)
		dev->iommu->ops->release_device(dev);
	__atomic_sub_fetch(&dev->iommu->ndevices, 1, __ATOMIC_RELEASE);
	sio_group_put(group);
}

SIO_API struct sio_device *sio_device_get(struct sio_device *dev)
{
	sio_ref_inc(&dev->refcount);
	return dev;
}

SIO_API void sio_device_put(struct sio_device *dev)
{
	if (!dev || !sio_ref_dec(&dev->refcount))
		return;
	/* The last reference of a device still probed removes it first. */
	sio_device_remove(dev);
	device_free(dev);
}

SIO_API int sio_device_group(struct sio_device *dev, struct sio_group **out)
{
	struct sio_group *group;

	sio_rcu_read_lock();
	group = sio_rcu_deref(dev->group);
	if (group)
		sio_group_get(group);
	sio_rcu_read_unlock();
	if (!group)
		return sio_err(-ENODEV, "device %s was removed", dev->name);
	*out = group;
	return 0;
}

SIO_API const char *sio_device_name(const struct sio_device *dev)
{
	return dev->name;
}

SIO_API uint32_t sio_device_rid(const struct sio_device *dev)
{
	return dev->rid;
}

SIO_API uint32_t sio_device_flags(const struct sio_device *dev)
{
	return dev->flags;
}

SIO_API void *sio_device_priv(const struct sio_device *dev)
{
	return dev->priv;
}

SIO_API struct sio_iommu *sio_device_iommu(const struct sio_device *dev)
{
	return dev->iommu;
}

SIO_API uint32_t sio_device_max_pasids(const struct sio_device *dev)
{
	return dev->max_pasids;
}

SIO_API bool sio_device_is_removed(const struct sio_device *dev)
{
	return __atomic_load_n(&dev->removed, __ATOMIC_ACQUIRE);
}

SIO_API bool sio_device_capable(struct sio_device *dev, enum sio_cap cap)
{
	return dev->iommu->ops->capable && dev->iommu->ops->capable(dev, cap);
}

SIO_API void sio_device_set_max_pasids(struct sio_device *dev,
				       uint32_t max_pasids)
{
	dev->max_pasids = max_pasids;
}

SIO_API void *sio_device_driver_priv(const struct sio_device *dev)
{
	return dev->driver_priv;
}

SIO_API void sio_device_set_driver_priv(struct sio_device *dev, void *priv)
{
	dev->driver_priv = priv;
}

SIO_API int sio_device_add_resv_region(struct sio_device *dev,
				       const struct sio_resv_region *region)
{
	struct sio_resv_region *r;

	if (!region || region->last < region->start)
		return sio_err(-EINVAL, "reserved region: empty or inverted");
	sio_mutex_lock(&dev->resv_lock, SIO_LOCK_DEV_RESV);
	r = sio_realloc(dev->resv, (dev->nresv + 1) * sizeof(*r));
	if (!r) {
		sio_mutex_unlock(&dev->resv_lock);
		return sio_err(-ENOMEM, "reserved region: out of memory");
	}
	r[dev->nresv++] = *region;
	dev->resv = r;
	sio_mutex_unlock(&dev->resv_lock);
	return 0;
}

SIO_API int sio_device_for_each_resv_region(
	struct sio_device *dev,
	int (*fn)(const struct sio_resv_region *region, void *arg), void *arg)
{
	int rc = 0;

	sio_mutex_lock(&dev->resv_lock, SIO_LOCK_DEV_RESV);
	for (size_t i = 0; i < dev->nresv && !rc; i++)
		rc = fn(&dev->resv[i], arg);
	sio_mutex_unlock(&dev->resv_lock);
	return rc;
}

SIO_API int sio_device_hw_info(struct sio_device *dev, uint32_t *type,
			       void **data, size_t *len)
{
	if (!dev->iommu->ops->hw_info)
		return sio_err(-EOPNOTSUPP, "%s: no hardware info",
			       dev->iommu->name);
	return dev->iommu->ops->hw_info(dev, type, data, len);
}
