/*
 * Attaching domains to PASIDs of a device, and finding attach handles.
 *
 * A PASID attachment belongs to the group (all its devices that can use
 * PASIDs get it, as in the kernel), is stored in the group's PASID table
 * together with the caller's attach handle, and is independent of the RID
 * attachment.  The new entry becomes visible to the data path and the fault
 * path only once every device accepted it: a fault must never be queued to a
 * handle whose attach then fails.  Replace and detach wait for a grace
 * period before returning, so the old handle has no user left, then have
 * the page requests still waiting on it answered (sio_group_retire_handle).
 */
#include <stdlib.h>

#include "core/core.h"
#include "util/fail.h"

static bool dev_has_pasid(const struct sio_device *dev)
{
	return dev->max_pasids > 0;
}

/* Install domain at pasid on every PASID-capable device of the group; on a
 * refusal put the devices done so far back on old (or remove them). */
static int group_set_pasid(struct sio_group *group, sio_pasid_t pasid,
			   struct sio_domain *domain, struct sio_domain *old)
{
	struct sio_domain *blocked = group->iommu->blocked_domain;
	struct sio_device *dev, *failed;
	int rc = 0;

	cds_list_for_each_entry(dev, &group->devices, group_node) {
		if (!dev_has_pasid(dev))
			continue;
		rc = domain->ops->set_dev_pasid(domain, dev, pasid, old);
		if (rc)
			break;
	}
	if (!rc)
		return 0;
	failed = dev;
	cds_list_for_each_entry(dev, &group->devices, group_node) {
		if (dev == failed)
			break;
		if (!dev_has_pasid(dev))
			continue;
		if (!old || old->ops->set_dev_pasid(old, dev, pasid, domain))
			blocked->ops->set_dev_pasid(blocked, dev, pasid, domain);
	}
	return sio_err(rc, "group %u: device %s refused PASID %u", group->id,
		       failed->name, pasid);
}

/* The group of dev (a reference) and a new, unpublished entry. */
static int prepare_entry(struct sio_device *dev, struct sio_domain *domain,
			 struct sio_attach_handle *handle,
			 struct sio_group **group, struct sio_pasid_entry **entry)
{
	int rc = sio_device_group(dev, group);

	if (rc)
		return rc;
	*entry = sio_malloc(sizeof(**entry));
	if (!*entry) {
		sio_group_put(*group);
		return sio_err(-ENOMEM, "PASID attach: out of memory");
	}
	(*entry)->domain = domain;
	(*entry)->handle = handle;
	return 0;
}

static int check_pasid_args(struct sio_domain *domain, struct sio_device *dev,
			    sio_pasid_t pasid)
{
	struct sio_domain *blocked;

	if (!domain || !dev)
		return sio_err(-EINVAL, "PASID attach: missing argument");
	blocked = dev->iommu->blocked_domain;
	if (!domain->ops->set_dev_pasid || !blocked->ops->set_dev_pasid)
		return sio_err(-EOPNOTSUPP, "PASID attach: %s domain cannot attach to PASIDs",
			       sio_domain_type_name(domain->type));
	if (!sio_domain_compatible(dev->iommu, domain))
		return sio_err(-EINVAL, "PASID attach: domain of another IOMMU");
	if (pasid == SIO_NO_PASID || pasid >> SIO_PASID_MAX_BITS)
		return sio_err(-EINVAL, "PASID attach: invalid PASID %u", pasid);
	if (!dev_has_pasid(dev))
		return sio_err(-EINVAL, "PASID attach: %s has no PASID support",
			       dev->name);
	return 0;
}

SIO_API int sio_attach_device_pasid(struct sio_domain *domain,
				    struct sio_device *dev, sio_pasid_t pasid,
				    struct sio_attach_handle *handle)
{
	struct sio_pasid_entry *entry;
	struct sio_group *group;
	struct sio_device *d;
	int rc;

	sio_err_clear();
	rc = check_pasid_args(domain, dev, pasid);
	if (rc)
		return rc;
	rc = prepare_entry(dev, domain, handle, &group, &entry);
	if (rc)
		return rc;

	sio_group_lock(group);
	cds_list_for_each_entry(d, &group->devices, group_node) {
		if (dev_has_pasid(d) && pasid >= d->max_pasids) {
			rc = sio_err(-EINVAL, "PASID %u beyond %s's %u PASIDs",
				     pasid, d->name, d->max_pasids);
			goto out;
		}
	}
	if (sio_pasid_table_load(&group->pasids, pasid)) {
		rc = sio_err(-EBUSY, "PASID %u of group %u is attached already",
			     pasid, group->id);
		goto out;
	}
	rc = sio_pasid_table_prepare(&group->pasids, pasid);
	if (rc) {
		rc = sio_err(rc, "PASID attach: table");
		goto out;
	}
	rc = group_set_pasid(group, pasid, domain, NULL);
	if (rc)
		goto out;
	if (handle)
		handle->domain = domain;
	sio_domain_attach_inc(domain);
	sio_pasid_table_store(&group->pasids, pasid, entry);
	sio_group_attach_changed(group);
	entry = NULL;
out:
	sio_group_unlock(group);
	sio_group_put(group);
	free(entry);
	return rc;
}

SIO_API int sio_replace_device_pasid(struct sio_domain *domain,
				     struct sio_device *dev, sio_pasid_t pasid,
				     struct sio_attach_handle *handle)
{
	struct sio_pasid_entry *entry, *cur;
	struct sio_group *group;
	int rc;

	sio_err_clear();
	rc = check_pasid_args(domain, dev, pasid);
	if (rc)
		return rc;
	if (!handle)
		return sio_err(-EINVAL, "PASID replace: no attach handle");
	rc = prepare_entry(dev, domain, handle, &group, &entry);
	if (rc)
		return rc;

	sio_group_lock(group);
	cur = sio_pasid_table_load(&group->pasids, pasid);
	if (!cur) {
		rc = sio_err(-EINVAL, "PASID %u is not attached: nothing to replace",
			     pasid);
	} else if (cur->handle == handle) {
		rc = sio_err(-EINVAL, "PASID replace: reusing the attached handle");
	} else if (cur->domain != domain) {
		rc = group_set_pasid(group, pasid, domain, cur->domain);
	}
	if (!rc) {
		handle->domain = domain;
		sio_domain_attach_inc(domain);
		sio_domain_attach_dec(cur->domain);
		sio_pasid_table_store(&group->pasids, pasid, entry);
		sio_group_attach_changed(group);
		entry = cur;	/* retired below, after the grace period */
	}
	sio_group_unlock(group);
	if (!rc) {
		sio_rcu_synchronize();
		sio_group_retire_handle(group, entry->handle);
	}
	sio_group_put(group);
	free(entry);
	return rc;
}

SIO_API void sio_detach_device_pasid(struct sio_domain *domain,
				     struct sio_device *dev, sio_pasid_t pasid)
{
	struct sio_domain *blocked = dev->iommu->blocked_domain;
	struct sio_pasid_entry *cur;
	struct sio_group *group;
	struct sio_device *d;

	if (sio_device_group(dev, &group))
		return;
	sio_group_lock(group);
	cur = sio_pasid_table_load(&group->pasids, pasid);
	if (!cur || cur->domain != domain) {
		sio_group_unlock(group);
		sio_group_put(group);
		return;
	}
	cds_list_for_each_entry(d, &group->devices, group_node)
		if (dev_has_pasid(d))
			blocked->ops->set_dev_pasid(blocked, d, pasid, domain);
	sio_pasid_table_store(&group->pasids, pasid, NULL);
	sio_group_attach_changed(group);
	sio_domain_attach_dec(domain);
	sio_group_unlock(group);
	sio_rcu_synchronize();
	sio_group_retire_handle(group, cur->handle);
	sio_group_put(group);
	free(cur);
}

struct remove_arg {
	struct sio_device *dev;
	struct sio_domain *blocked;
};

static int remove_one(sio_pasid_t pasid, struct sio_pasid_entry *e, void *arg)
{
	struct remove_arg *ra = arg;

	ra->blocked->ops->set_dev_pasid(ra->blocked, ra->dev, pasid, e->domain);
	return 0;
}

void sio_group_remove_dev_pasids(struct sio_group *group, struct sio_device *dev)
{
	struct remove_arg ra = { dev, group->iommu->blocked_domain };

	SIO_ASSERT_HELD(&group->mutex);
	if (dev_has_pasid(dev) && ra.blocked->ops->set_dev_pasid)
		sio_pasid_table_for_each(&group->pasids, remove_one, &ra);
}

static int drop_one(sio_pasid_t pasid, struct sio_pasid_entry *e, void *arg)
{
	struct sio_group *group = arg;

	sio_domain_attach_dec(e->domain);
	sio_pasid_table_store(&group->pasids, pasid, NULL);
	sio_group_attach_changed(group);
	free(e);
	return 0;
}

void sio_group_drop_pasids(struct sio_group *group)
{
	sio_pasid_table_for_each(&group->pasids, drop_one, group);
}

struct retire_arg {
	struct sio_group *group;
	struct sio_pasid_entry *list;
};

static int retire_one(sio_pasid_t pasid, struct sio_pasid_entry *e, void *arg)
{
	struct retire_arg *ra = arg;

	sio_domain_attach_dec(e->domain);
	sio_pasid_table_store(&ra->group->pasids, pasid, NULL);
	sio_group_attach_changed(ra->group);
	e->retired_next = ra->list;
	ra->list = e;
	return 0;
}

/*
 * A PASID attachment is detached through a device of its group.  Once the
 * group has none left, nobody can use or detach its PASID attachments any
 * more, and their domains could never be freed while a user still holds
 * the group; so they go, as they would when the group is freed.  Readers
 * that found the group before its last device left may still be looking at
 * the entries: the caller frees them after a grace period.
 */
struct sio_pasid_entry *sio_group_retire_pasids(struct sio_group *group)
{
	struct retire_arg ra = { group, NULL };

	SIO_ASSERT_HELD(&group->mutex);
	sio_pasid_table_for_each(&group->pasids, retire_one, &ra);
	return ra.list;
}

void sio_pasid_entries_free(struct sio_pasid_entry *list)
{
	while (list) {
		struct sio_pasid_entry *next = list->retired_next;

		free(list);
		list = next;
	}
}

SIO_API int sio_attach_handle_get(struct sio_group *group, sio_pasid_t pasid,
				  enum sio_domain_type type,
				  struct sio_attach_handle **out)
{
	struct sio_attach_handle *handle = NULL;
	struct sio_pasid_entry *e;
	int rc = 0;

	sio_rcu_read_lock();
	if (pasid == SIO_NO_PASID) {
		handle = sio_rcu_deref(group->rid_handle);
	} else {
		e = sio_pasid_table_load(&group->pasids, pasid);
		handle = e ? e->handle : NULL;
	}
	if (!handle)
		rc = -ENOENT;
	else if (type && handle->domain->type != type)
		rc = -EBUSY;
	sio_rcu_read_unlock();
	if (rc)
		return sio_err(rc, "no %s handle at PASID %u of group %u",
			       type ? sio_domain_type_name(type) : "attach", pasid,
			       group->id);
	*out = handle;
	return 0;
}

SIO_API int sio_device_attach_handle_get(struct sio_device *dev,
					 sio_pasid_t pasid,
					 enum sio_domain_type type,
					 struct sio_attach_handle **out)
{
	struct sio_group *group;
	int rc = sio_device_group(dev, &group);

	if (rc)
		return rc;
	rc = sio_attach_handle_get(group, pasid, type, out);
	sio_group_put(group);
	return rc;
}

SIO_API struct sio_domain *sio_device_pasid_domain(struct sio_device *dev,
						   sio_pasid_t pasid)
{
	struct sio_domain *domain = NULL;
	struct sio_group *group;

	sio_rcu_read_lock();
	group = sio_rcu_deref(dev->group);
	if (group) {
		if (pasid == SIO_NO_PASID) {
			domain = sio_rcu_deref(group->domain);
		} else {
			struct sio_pasid_entry *e =
				sio_pasid_table_load(&group->pasids, pasid);

			domain = e ? e->domain : NULL;
		}
	}
	sio_rcu_read_unlock();
	return domain;
}
