/*
 * Domains: allocation through a device's IOMMU ops, the static blocked and
 * identity domains of an instance, a group's default domain, and freeing.
 *
 * Allocation is always for a device and never per bus.  It must not race
 * with that device's removal, so the allocators take a reference on the
 * device's group, lock it, check the device (or, group-wide, any device) is
 * still there, and call the driver with the group mutex held.  Group-wide
 * allocation passes the group's first device: drivers must answer the same
 * for every device of one group, and this way they are never tempted not to.
 */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "util/fail.h"

/* The core's blocked domain, for drivers that have none of their own: it
 * accepts every attach, and the data path refuses all DMA through it. */
static int core_blocked_attach(struct sio_domain *d, struct sio_device *dev,
			       struct sio_domain *old)
{
	return 0;
}

static int core_blocked_set_pasid(struct sio_domain *d, struct sio_device *dev,
				  sio_pasid_t pasid, struct sio_domain *old)
{
	return 0;
}

static void core_static_free(struct sio_domain *d)
{
	free(d);
}

static const struct sio_domain_ops core_blocked_ops = {
	.attach_dev = core_blocked_attach,
	.set_dev_pasid = core_blocked_set_pasid,
	.free = core_static_free,
};

SIO_API void sio_domain_init(struct sio_domain *domain,
			     enum sio_domain_type type,
			     const struct sio_domain_ops *ops)
{
	memset(domain, 0, sizeof(*domain));
	domain->type = type;
	domain->ops = ops;
	domain->geometry.aperture_end = UINT64_MAX;
	pthread_mutex_init(&domain->map_lock, NULL);
	pthread_mutex_init(&domain->epoch_lock, NULL);
	domain->iotlb_gen = sio_iotlb_clock_next();
}

SIO_API const char *sio_domain_type_name(enum sio_domain_type type)
{
	switch (type) {
	case SIO_DOMAIN_BLOCKED:
		return "blocked";
	case SIO_DOMAIN_IDENTITY:
		return "identity";
	case SIO_DOMAIN_PAGING:
		return "paging";
	case SIO_DOMAIN_SVA:
		return "sva";
	case SIO_DOMAIN_NESTED:
		return "nested";
	}
	return "unknown";
}

int sio_domain_finish_alloc(struct sio_iommu *iommu, struct sio_domain *domain,
			    enum sio_domain_type want, uint32_t flags)
{
	if (domain->type != want || !domain->ops) {
		int type = domain->type;

		if (domain->ops && domain->ops->free)
			domain->ops->free(domain);
		return sio_err(-EINVAL, "%s: driver returned a %s domain for %s",
			       iommu->name, sio_domain_type_name(type),
			       sio_domain_type_name(want));
	}
	if (want == SIO_DOMAIN_PAGING &&
	    (!domain->pgsize_bitmap || !domain->ops->map_pages ||
	     !domain->ops->unmap_pages || !domain->ops->lookup)) {
		if (domain->ops->free)
			domain->ops->free(domain);
		return sio_err(-EINVAL, "%s: paging domain without page sizes or ops",
			       iommu->name);
	}
	domain->owner = iommu;
	domain->alloc_flags = flags;
	domain->attach_count = 0;
	return 0;
}

int sio_iommu_make_static_domains(struct sio_iommu *iommu)
{
	struct sio_domain *d = NULL;
	int rc;

	if (iommu->ops->domain_alloc_blocked) {
		rc = iommu->ops->domain_alloc_blocked(iommu, &d);
		if (rc)
			return sio_err(rc, "%s: blocked domain", iommu->name);
	} else {
		d = sio_calloc(1, sizeof(*d));
		if (!d)
			return sio_err(-ENOMEM, "%s: blocked domain", iommu->name);
		sio_domain_init(d, SIO_DOMAIN_BLOCKED, &core_blocked_ops);
	}
	rc = sio_domain_finish_alloc(iommu, d, SIO_DOMAIN_BLOCKED, 0);
	if (rc)
		return rc;
	d->is_static = true;
	iommu->blocked_domain = d;

	if (iommu->ops->domain_alloc_identity) {
		rc = iommu->ops->domain_alloc_identity(iommu, &d);
		if (!rc)
			rc = sio_domain_finish_alloc(iommu, d, SIO_DOMAIN_IDENTITY, 0);
		if (rc) {
			sio_iommu_free_static_domains(iommu);
			return sio_err(rc, "%s: identity domain", iommu->name);
		}
		d->is_static = true;
		iommu->identity_domain = d;
	}
	return 0;
}

void sio_iommu_free_static_domains(struct sio_iommu *iommu)
{
	struct sio_domain *doms[] = { iommu->blocked_domain, iommu->identity_domain };

	for (size_t i = 0; i < 2; i++)
		if (doms[i] && doms[i]->ops->free)
			doms[i]->ops->free(doms[i]);
	iommu->blocked_domain = NULL;
	iommu->identity_domain = NULL;
}

bool sio_domain_compatible(const struct sio_iommu *iommu,
			   const struct sio_domain *domain)
{
	return domain && domain->owner == iommu;
}

void sio_domain_attach_inc(struct sio_domain *domain)
{
	__atomic_add_fetch(&domain->attach_count, 1, __ATOMIC_RELAXED);
}

void sio_domain_attach_dec(struct sio_domain *domain)
{
	__atomic_sub_fetch(&domain->attach_count, 1, __ATOMIC_RELEASE);
}

/* Called with the group mutex held and first in the group. */
int sio_group_make_default_domain(struct sio_group *group,
				  struct sio_device *first)
{
	struct sio_iommu *iommu = group->iommu;
	enum sio_domain_type type = iommu->caps.default_domain_type;
	struct sio_domain *d = NULL;
	int rc;

	if (iommu->ops->def_domain_type)
		type = iommu->ops->def_domain_type(first);
	if (type == SIO_DOMAIN_IDENTITY && !iommu->identity_domain)
		type = SIO_DOMAIN_PAGING;
	switch (type) {
	case SIO_DOMAIN_IDENTITY:
		group->default_domain = iommu->identity_domain;
		return 0;
	case SIO_DOMAIN_PAGING:
		if (!iommu->ops->domain_alloc_paging)
			break;
		rc = iommu->ops->domain_alloc_paging(first, 0, NULL, &d);
		if (!rc)
			rc = sio_domain_finish_alloc(iommu, d, SIO_DOMAIN_PAGING, 0);
		if (rc)
			return sio_err(rc, "group %u: default paging domain", group->id);
		d->group_owned = true;
		group->default_domain = d;
		group->default_domain_owned = true;
		return 0;
	default:
		break;
	}
	group->default_domain = iommu->blocked_domain;
	return 0;
}

/*
 * Lock dev's group and check dev is still in it: the guard every
 * allocation for a device runs under.
 */
static int lock_device_group(struct sio_device *dev, struct sio_group **out)
{
	struct sio_group *group;
	int rc = sio_device_group(dev, &group);

	if (rc)
		return rc;
	sio_group_lock(group);
	if (__atomic_load_n(&dev->removed, __ATOMIC_ACQUIRE)) {
		sio_group_unlock(group);
		sio_group_put(group);
		return sio_err(-ENODEV, "device %s was removed", dev->name);
	}
	*out = group;
	return 0;
}

static void unlock_group(struct sio_group *group)
{
	sio_group_unlock(group);
	sio_group_put(group);
}

static int alloc_paging_locked(struct sio_device *dev, uint32_t flags,
			       const struct sio_user_data *ud,
			       struct sio_domain **out)
{
	struct sio_iommu *iommu = dev->iommu;
	struct sio_domain *d = NULL;
	int rc;

	SIO_ASSERT_HELD(&dev->group->mutex);
	if (!iommu->ops->domain_alloc_paging)
		return sio_err(-EOPNOTSUPP, "%s: no paging domains", iommu->name);
	rc = iommu->ops->domain_alloc_paging(dev, flags, ud, &d);
	if (rc)
		return sio_err(rc, "%s: paging domain for %s", iommu->name, dev->name);
	rc = sio_domain_finish_alloc(iommu, d, SIO_DOMAIN_PAGING, flags);
	if (rc)
		return rc;
	*out = d;
	return 0;
}

SIO_API int sio_domain_alloc_paging(struct sio_device *dev, uint32_t flags,
				    const struct sio_user_data *user_data,
				    struct sio_domain **out)
{
	struct sio_group *group;
	int rc;

	if (!dev || !out)
		return sio_err(-EINVAL, "domain alloc: missing argument");
	rc = lock_device_group(dev, &group);
	if (rc)
		return rc;
	rc = alloc_paging_locked(dev, flags, user_data, out);
	unlock_group(group);
	return rc;
}

SIO_API int sio_group_domain_alloc_paging(struct sio_group *group,
					  uint32_t flags,
					  const struct sio_user_data *user_data,
					  struct sio_domain **out)
{
	struct sio_device *first;
	int rc;

	if (!group || !out)
		return sio_err(-EINVAL, "domain alloc: missing argument");
	sio_group_get(group);
	sio_group_lock(group);
	if (cds_list_empty(&group->devices)) {
		rc = sio_err(-ENODEV, "group %u has no devices", group->id);
	} else {
		first = cds_list_first_entry(&group->devices, struct sio_device,
					     group_node);
		rc = alloc_paging_locked(first, flags, user_data, out);
	}
	unlock_group(group);
	return rc;
}

SIO_API int sio_domain_alloc_nested(struct sio_device *dev,
				    struct sio_domain *parent, uint32_t flags,
				    const struct sio_user_data *user_data,
				    struct sio_domain **out)
{
	struct sio_group *group;
	struct sio_domain *d = NULL;
	struct sio_iommu *iommu;
	int rc;

	if (!dev || !parent || !out)
		return sio_err(-EINVAL, "nested alloc: missing argument");
	iommu = dev->iommu;
	if (parent->type != SIO_DOMAIN_PAGING ||
	    !(parent->alloc_flags & SIO_DOMAIN_ALLOC_NEST_PARENT))
		return sio_err(-EINVAL, "nested alloc: parent is not a nesting parent");
	if (!sio_domain_compatible(iommu, parent))
		return sio_err(-EINVAL, "nested alloc: parent of another IOMMU");
	if (!iommu->ops->domain_alloc_nested)
		return sio_err(-EOPNOTSUPP, "%s: no nested domains", iommu->name);
	rc = lock_device_group(dev, &group);
	if (rc)
		return rc;
	rc = iommu->ops->domain_alloc_nested(dev, parent, flags, user_data, &d);
	if (rc) {
		rc = sio_err(rc, "%s: nested domain for %s", iommu->name, dev->name);
	} else {
		d->parent = parent;
		rc = sio_domain_finish_alloc(iommu, d, SIO_DOMAIN_NESTED, flags);
		if (!rc) {
			__atomic_add_fetch(&parent->nested_users, 1,
					   __ATOMIC_RELAXED);
			*out = d;
		}
	}
	unlock_group(group);
	return rc;
}

SIO_API int sio_domain_alloc_sva(struct sio_device *dev, struct sio_mm *mm,
				 struct sio_domain **out)
{
	struct sio_group *group;
	struct sio_domain *d = NULL;
	struct sio_iommu *iommu;
	int rc;

	if (!dev || !mm || !out)
		return sio_err(-EINVAL, "SVA alloc: missing argument");
	iommu = dev->iommu;
	if (!iommu->ops->domain_alloc_sva)
		return sio_err(-EOPNOTSUPP, "%s: no SVA domains", iommu->name);
	rc = lock_device_group(dev, &group);
	if (rc)
		return rc;
	rc = iommu->ops->domain_alloc_sva(dev, mm, &d);
	if (rc) {
		rc = sio_err(rc, "%s: SVA domain for %s", iommu->name, dev->name);
	} else {
		d->mm = mm;
		rc = sio_domain_finish_alloc(iommu, d, SIO_DOMAIN_SVA, 0);
	}
	if (!rc)
		*out = d;
	unlock_group(group);
	return rc;
}

SIO_API int sio_domain_get_identity(struct sio_device *dev, struct sio_domain **out)
{
	if (!dev->iommu->identity_domain)
		return sio_err(-EOPNOTSUPP, "%s: no identity domain", dev->iommu->name);
	*out = dev->iommu->identity_domain;
	return 0;
}

SIO_API int sio_domain_get_blocked(struct sio_device *dev, struct sio_domain **out)
{
	*out = dev->iommu->blocked_domain;
	return 0;
}

void sio_domain_destroy(struct sio_domain *domain)
{
	struct sio_domain *parent = domain->parent;

	/*
	 * A detach unpublishes the domain before it drops the attach count,
	 * so any data-path reader that can still see it began before that:
	 * one grace period here covers every caller, however it got the
	 * count to zero.
	 */
	sio_rcu_synchronize();
	pthread_mutex_destroy(&domain->map_lock);
	pthread_mutex_destroy(&domain->epoch_lock);
	if (domain->ops->free)
		domain->ops->free(domain);
	if (parent)
		__atomic_sub_fetch(&parent->nested_users, 1, __ATOMIC_RELEASE);
}

SIO_API int sio_domain_free(struct sio_domain *domain)
{
	if (!domain || domain->is_static)
		return 0;
	if (domain->group_owned)
		return sio_err(-EBUSY, "a group's default domain goes with its group");
	if (__atomic_load_n(&domain->attach_count, __ATOMIC_ACQUIRE))
		return sio_err(-EBUSY, "domain still attached %u time(s)",
			       domain->attach_count);
	if (__atomic_load_n(&domain->nested_users, __ATOMIC_ACQUIRE))
		return sio_err(-EBUSY, "%u nested domain(s) still use this parent",
			       domain->nested_users);
	sio_domain_destroy(domain);
	return 0;
}

SIO_API enum sio_domain_type sio_domain_type(const struct sio_domain *domain)
{
	return domain->type;
}

SIO_API const struct sio_domain_geometry *
sio_domain_geometry(const struct sio_domain *domain)
{
	return &domain->geometry;
}

SIO_API uint64_t sio_domain_pgsize_bitmap(const struct sio_domain *domain)
{
	return domain->pgsize_bitmap;
}

SIO_API struct sio_iommu *sio_domain_iommu(const struct sio_domain *domain)
{
	return domain->owner;
}

SIO_API unsigned int sio_domain_attach_count(const struct sio_domain *domain)
{
	return __atomic_load_n(&domain->attach_count, __ATOMIC_ACQUIRE);
}
