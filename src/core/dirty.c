/*
 * Dirty tracking on paging domains: the switch, the read-and-clear of the
 * dirty bits the page table keeps, and the nested domains' cache
 * invalidation (both what iommufd's HWPT ioctls need).
 *
 * The on/off state is the core's (domain->dirty_tracking), written under
 * the domain's map lock and read without a lock by the data path, which
 * marks a leaf dirty on every device write while it is on.  The driver's
 * set_dirty_tracking op, optional, only programs hardware.  Reading runs under
 * the map lock too, so it never walks a table an unmap is freeing and two
 * readers never clear the same bits at once.
 */
#include "core/core.h"
#include "core/epoch.h"

SIO_API bool sio_domain_can_track_dirty(const struct sio_domain *domain)
{
	return domain && domain->type == SIO_DOMAIN_PAGING &&
	       (domain->alloc_flags & SIO_DOMAIN_ALLOC_DIRTY_TRACKING) &&
	       domain->ops->read_and_clear_dirty;
}

static void discard(void *arg, uint64_t iova, uint64_t len)
{
	(void)arg;
	(void)iova;
	(void)len;
}

SIO_API int sio_domain_set_dirty_tracking(struct sio_domain *domain,
					  bool enable)
{
	int rc = 0;

	sio_err_clear();
	if (!sio_domain_can_track_dirty(domain))
		return sio_err(-EOPNOTSUPP,
			       "dirty tracking: domain was not allocated for it");
	sio_mutex_lock(&domain->map_lock, SIO_LOCK_DOMAIN_MAP);
	if (enable == __atomic_load_n(&domain->dirty_tracking, __ATOMIC_RELAXED))
		goto out;
	/* Bits left from an earlier period must not show in the first
	 * read: start from a clean table. */
	if (enable)
		rc = domain->ops->read_and_clear_dirty(domain, 0, UINT64_MAX,
						       0, discard, NULL);
	if (!rc && domain->ops->set_dirty_tracking)
		rc = domain->ops->set_dirty_tracking(domain, enable);
	if (!rc)
		__atomic_store_n(&domain->dirty_tracking, enable,
				 __ATOMIC_RELEASE);
out:
	sio_mutex_unlock(&domain->map_lock);
	return rc ? sio_err(rc, "dirty tracking: %s failed",
			    enable ? "enable" : "disable") : 0;
}

SIO_API bool sio_domain_dirty_tracking(const struct sio_domain *domain)
{
	return domain && __atomic_load_n(&domain->dirty_tracking,
					 __ATOMIC_ACQUIRE);
}

SIO_API int sio_domain_read_and_clear_dirty(struct sio_domain *domain,
					    uint64_t iova, uint64_t size,
					    unsigned int flags,
					    sio_dirty_record_fn record,
					    void *arg)
{
	int rc;

	sio_err_clear();
	if (!sio_domain_can_track_dirty(domain))
		return sio_err(-EOPNOTSUPP,
			       "dirty bitmap: domain was not allocated for it");
	if (!record || (flags & ~SIO_DIRTY_NO_CLEAR))
		return sio_err(-EINVAL, "dirty bitmap: bad arguments");
	if (!size)
		return 0;
	sio_mutex_lock(&domain->map_lock, SIO_LOCK_DOMAIN_MAP);
	rc = domain->ops->read_and_clear_dirty(domain, iova, size, flags,
					       record, arg);
	sio_mutex_unlock(&domain->map_lock);
	return rc ? sio_err(rc, "dirty bitmap: read failed") : 0;
}

SIO_API int sio_domain_cache_invalidate_user(struct sio_domain *domain,
					     struct sio_user_data_array *array)
{
	int rc;

	sio_err_clear();
	if (!domain || !array)
		return sio_err(-EINVAL, "cache invalidate: missing argument");
	if (domain->type != SIO_DOMAIN_NESTED ||
	    !domain->ops->cache_invalidate_user) {
		array->entry_num = 0;
		return sio_err(-EOPNOTSUPP,
			       "cache invalidate: not a nested domain with caches");
	}
	rc = domain->ops->cache_invalidate_user(domain, array);
	/* The guest changed its stage 1: whatever the driver dropped, the
	 * data path's translations through this domain go too (even after
	 * a partial failure, some entries were handled). */
	sio_domain_new_tag(domain);
	return rc ? sio_err(rc, "cache invalidate: stopped after %u entries",
			    array->entry_num) : 0;
}
