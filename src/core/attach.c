/*
 * Attaching domains to a group's RID: attach, replace, detach.
 *
 * Changing a group's domain calls the new domain's attach_dev on each device
 * of the group.  The switch need not be atomic across devices, but DMA may
 * only ever reach the old or the new domain.  If a device refuses, the ones
 * already switched go back to the old domain and the group keeps it: this is
 * what makes a failed replace leave the old domain attached.  The data path
 * reads group->domain without a lock, so every change is published with
 * sio_rcu_assign() and followed by a grace period before the call returns:
 * after a detach or replace no device is still translating through the old
 * domain and no fault-path user of the old attach handle remains; then the
 * page requests still waiting on that handle are answered, through what
 * the page-fault layer registered on the system (sio_group_retire_handle).
 */
#include "core/core.h"

static int device_set_domain(struct sio_device *dev, struct sio_domain *new,
			     struct sio_domain *old)
{
	if (!new->ops->attach_dev)
		return 0;
	return new->ops->attach_dev(new, dev, old);
}

int sio_group_set_domain(struct sio_group *group, struct sio_domain *domain)
{
	struct sio_domain *old = group->domain;
	struct sio_device *dev, *failed;
	int rc = 0;

	SIO_ASSERT_HELD(&group->mutex);
	if (old == domain)
		return 0;
	cds_list_for_each_entry(dev, &group->devices, group_node) {
		rc = device_set_domain(dev, domain, old);
		if (rc)
			break;
	}
	if (rc) {
		failed = dev;
		cds_list_for_each_entry(dev, &group->devices, group_node) {
			if (dev == failed)
				break;
			/* Going back to a domain that worked must succeed. */
			if (old && device_set_domain(dev, old, domain))
				device_set_domain(dev, group->iommu->blocked_domain,
						  domain);
		}
		return sio_err(rc, "group %u: device %s refused the %s domain",
			       group->id, failed->name,
			       sio_domain_type_name(domain->type));
	}
	sio_domain_attach_inc(domain);
	sio_rcu_assign(group->domain, domain);
	sio_group_attach_changed(group);
	if (old)
		sio_domain_attach_dec(old);
	return 0;
}

/* Switch a locked group's RID domain and publish the handle that goes with
 * it; on failure both stay as they were. */
static int set_domain_and_handle(struct sio_group *group,
				 struct sio_domain *domain,
				 struct sio_attach_handle *handle)
{
	int rc = sio_group_set_domain(group, domain);

	if (rc)
		return rc;
	if (handle)
		handle->domain = domain;
	sio_rcu_assign(group->rid_handle, handle);
	return 0;
}

static int check_domain(struct sio_group *group, struct sio_domain *domain)
{
	if (!domain)
		return sio_err(-EINVAL, "attach: no domain");
	if (!sio_domain_compatible(group->iommu, domain))
		return sio_err(-EINVAL, "attach: domain of another IOMMU on group %u",
			       group->id);
	if (domain->type == SIO_DOMAIN_SVA)
		return sio_err(-EINVAL, "attach: SVA domains attach to PASIDs only");
	return 0;
}

SIO_API int sio_attach_group(struct sio_domain *domain, struct sio_group *group,
			     struct sio_attach_handle *handle)
{
	int rc;

	sio_err_clear();
	if (!group)
		return sio_err(-EINVAL, "attach: no group");
	rc = check_domain(group, domain);
	if (rc)
		return rc;
	sio_group_lock(group);
	if (group->domain && group->domain != group->default_domain &&
	    group->domain != group->iommu->blocked_domain) {
		rc = sio_err(-EBUSY, "group %u: already attached to a %s domain",
			     group->id, sio_domain_type_name(group->domain->type));
	} else if (group->rid_handle) {
		/* The kernel's NO_PASID slot of the PASID array is taken. */
		rc = sio_err(-EBUSY, "group %u: an attach handle is installed",
			     group->id);
	} else if (cds_list_empty(&group->devices)) {
		rc = sio_err(-ENODEV, "group %u has no devices", group->id);
	} else {
		rc = set_domain_and_handle(group, domain, handle);
	}
	sio_group_unlock(group);
	return rc;
}

SIO_API int sio_replace_group(struct sio_group *group, struct sio_domain *domain,
			      struct sio_attach_handle *handle)
{
	struct sio_attach_handle *old_handle;
	int rc;

	sio_err_clear();
	if (!group)
		return sio_err(-EINVAL, "replace: no group");
	rc = check_domain(group, domain);
	if (rc)
		return rc;
	sio_group_lock(group);
	old_handle = group->rid_handle;
	if (handle && handle == old_handle) {
		rc = sio_err(-EINVAL, "replace: reusing the attached handle");
	} else {
		rc = set_domain_and_handle(group, domain, handle);
	}
	sio_group_unlock(group);
	if (!rc) {
		sio_rcu_synchronize();
		sio_group_retire_handle(group, old_handle);
	}
	return rc;
}

SIO_API void sio_detach_group(struct sio_group *group)
{
	struct sio_attach_handle *old_handle;

	sio_group_lock(group);
	if (sio_group_set_domain(group, sio_group_core_domain(group)))
		sio_group_set_domain(group, group->iommu->blocked_domain);
	old_handle = group->rid_handle;
	sio_rcu_assign(group->rid_handle, NULL);
	sio_group_unlock(group);
	sio_rcu_synchronize();
	sio_group_retire_handle(group, old_handle);
}

/* The group of dev, locked, if dev is its only device. */
static int single_device_group(struct sio_device *dev, struct sio_group **out)
{
	struct sio_group *group;
	int rc = sio_device_group(dev, &group);

	if (rc)
		return rc;
	sio_group_lock(group);
	if (group->ndevices != 1) {
		sio_group_unlock(group);
		sio_group_put(group);
		return sio_err(-EINVAL, "device %s shares its group", dev->name);
	}
	sio_group_unlock(group);
	*out = group;
	return 0;
}

SIO_API int sio_attach_device(struct sio_domain *domain, struct sio_device *dev)
{
	struct sio_group *group;
	int rc = single_device_group(dev, &group);

	if (rc)
		return rc;
	rc = sio_attach_group(domain, group, NULL);
	sio_group_put(group);
	return rc;
}

SIO_API void sio_detach_device(struct sio_device *dev)
{
	struct sio_group *group;

	if (single_device_group(dev, &group))
		return;
	sio_detach_group(group);
	sio_group_put(group);
}
