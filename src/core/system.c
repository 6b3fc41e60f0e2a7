/*
 * The system and the registration of IOMMU instances.
 *
 * An instance is registered by its driver with an ops table and its
 * capabilities; registration also makes the instance's static domains
 * (blocked, and identity when the driver has one), which live as long as the
 * instance.  An instance cannot go while devices are probed onto it.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "softiommu/pasid.h"
#include "util/fail.h"

static struct sio_iommu *find_locked(struct sio_system *sys, const char *name)
{
	struct sio_iommu *iommu;

	SIO_ASSERT_HELD(&sys->lock);
	cds_list_for_each_entry(iommu, &sys->iommus, node)
		if (!strcmp(iommu->name, name))
			return iommu;
	return NULL;
}

SIO_API int sio_system_create(struct sio_system **out)
{
	struct sio_system *sys = sio_calloc(1, sizeof(*sys));

	if (!sys)
		return sio_err(-ENOMEM, "system: out of memory");
	if (sio_pasid_space_create(SIO_PASID_MAX_BITS, &sys->pasids)) {
		free(sys);
		return sio_err(-ENOMEM, "system: out of memory");
	}
	pthread_mutex_init(&sys->lock, NULL);
	pthread_mutex_init(&sys->sva_hook.lock, NULL);
	CDS_INIT_LIST_HEAD(&sys->iommus);
	*out = sys;
	return 0;
}

void sio_system_set_handle_retire(struct sio_system *sys,
				  sio_handle_retire_fn fn)
{
	/* Release: a detach that sees a request dispatched after this store
	 * (through the device's published fault state) also sees fn. */
	__atomic_store_n(&sys->handle_retire, fn, __ATOMIC_RELEASE);
}

void sio_group_retire_handle(struct sio_group *group,
			     struct sio_attach_handle *handle)
{
	sio_handle_retire_fn fn;

	if (!handle)
		return;
	fn = __atomic_load_n(&group->iommu->sys->handle_retire,
			     __ATOMIC_ACQUIRE);
	if (fn)
		fn(group, handle);
}

/*
 * An instance is busy while devices are probed onto it, and also while a
 * user still holds a group of it after its devices were removed: freeing
 * the group later drops its attachments, which may be the instance's
 * static domains.  Called with sys->lock held (then iommu->lock: order).
 */
static bool iommu_busy(struct sio_iommu *iommu)
{
	bool busy;

	SIO_ASSERT_HELD(&iommu->sys->lock);
	if (__atomic_load_n(&iommu->ndevices, __ATOMIC_ACQUIRE))
		return true;
	sio_mutex_lock(&iommu->lock, SIO_LOCK_IOMMU);
	busy = !cds_list_empty(&iommu->groups);
	sio_mutex_unlock(&iommu->lock);
	return busy;
}

SIO_API int sio_system_destroy(struct sio_system *sys)
{
	struct sio_iommu *iommu, *tmp;

	if (!sys)
		return 0;
	sio_mutex_lock(&sys->lock, SIO_LOCK_SYSTEM);
	cds_list_for_each_entry(iommu, &sys->iommus, node) {
		if (iommu_busy(iommu)) {
			sio_mutex_unlock(&sys->lock);
			return sio_err(-EBUSY, "system: IOMMU %s still has devices "
				       "or groups", iommu->name);
		}
	}
	sio_mutex_unlock(&sys->lock);
	cds_list_for_each_entry_safe(iommu, tmp, &sys->iommus, node)
		sio_iommu_unregister(iommu);
	pthread_mutex_destroy(&sys->sva_hook.lock);
	pthread_mutex_destroy(&sys->lock);
	sio_pasid_space_put(sys->pasids);
	free(sys);
	/* Table pages unmaps left for a later grace period go now, so the
	 * table memory is back to what it was before the system. */
	sio_rcu_defer_flush();
	return 0;
}

SIO_API struct sio_pasid_space *sio_system_pasid_space(struct sio_system *sys)
{
	return sys->pasids;
}

SIO_API int sio_iommu_register(struct sio_system *sys, const char *name,
			       const struct sio_iommu_ops *ops,
			       const struct sio_iommu_caps *caps, void *priv,
			       struct sio_iommu **out)
{
	struct sio_iommu *iommu;
	int rc;

	if (!sys || !name || !ops || !caps)
		return sio_err(-EINVAL, "iommu register: missing argument");
	if (caps->pasid_bits > SIO_PASID_MAX_BITS)
		return sio_err(-EINVAL, "iommu register: %u PASID bits > %u",
			       caps->pasid_bits, SIO_PASID_MAX_BITS);
	if (!ops->device_group)
		return sio_err(-EINVAL, "iommu register: no device_group op");

	iommu = sio_calloc(1, sizeof(*iommu));
	if (!iommu)
		return sio_err(-ENOMEM, "iommu register: out of memory");
	snprintf(iommu->name, sizeof(iommu->name), "%s", name);
	iommu->sys = sys;
	iommu->ops = ops;
	iommu->caps = *caps;
	iommu->priv = priv;
	pthread_mutex_init(&iommu->lock, NULL);
	CDS_INIT_LIST_HEAD(&iommu->groups);

	rc = sio_iommu_make_static_domains(iommu);
	if (rc) {
		pthread_mutex_destroy(&iommu->lock);
		free(iommu);
		return rc;
	}
	sio_mutex_lock(&sys->lock, SIO_LOCK_SYSTEM);
	if (find_locked(sys, name)) {
		sio_mutex_unlock(&sys->lock);
		sio_iommu_free_static_domains(iommu);
		pthread_mutex_destroy(&iommu->lock);
		free(iommu);
		return sio_err(-EEXIST, "iommu register: %s exists", name);
	}
	cds_list_add_tail(&iommu->node, &sys->iommus);
	sio_mutex_unlock(&sys->lock);
	*out = iommu;
	return 0;
}

SIO_API int sio_iommu_unregister(struct sio_iommu *iommu)
{
	struct sio_system *sys = iommu->sys;

	sio_mutex_lock(&sys->lock, SIO_LOCK_SYSTEM);
	if (iommu_busy(iommu)) {
		sio_mutex_unlock(&sys->lock);
		return sio_err(-EBUSY, "iommu %s: devices or groups remain",
			       iommu->name);
	}
	cds_list_del(&iommu->node);
	sio_mutex_unlock(&sys->lock);

	sio_iommu_free_static_domains(iommu);
	if (iommu->ops->iommu_release)
		iommu->ops->iommu_release(iommu);
	pthread_mutex_destroy(&iommu->lock);
	free(iommu);
	return 0;
}

SIO_API struct sio_iommu *sio_iommu_find(struct sio_system *sys, const char *name)
{
	struct sio_iommu *found;

	sio_mutex_lock(&sys->lock, SIO_LOCK_SYSTEM);
	found = find_locked(sys, name);
	sio_mutex_unlock(&sys->lock);
	return found;
}

SIO_API int sio_iommu_for_each(struct sio_system *sys,
			       int (*fn)(struct sio_iommu *iommu, void *arg),
			       void *arg)
{
	struct sio_iommu *iommu;
	int rc = 0;

	sio_mutex_lock(&sys->lock, SIO_LOCK_SYSTEM);
	cds_list_for_each_entry(iommu, &sys->iommus, node) {
		rc = fn(iommu, arg);
		if (rc)
			break;
	}
	sio_mutex_unlock(&sys->lock);
	return rc;
}

SIO_API const char *sio_iommu_name(const struct sio_iommu *iommu)
{
	return iommu->name;
}

SIO_API const struct sio_iommu_caps *sio_iommu_caps(const struct sio_iommu *iommu)
{
	return &iommu->caps;
}

SIO_API struct sio_system *sio_iommu_system(const struct sio_iommu *iommu)
{
	return iommu->sys;
}

SIO_API void *sio_iommu_priv(const struct sio_iommu *iommu)
{
	return iommu->priv;
}

SIO_API const struct sio_iommu_ops *sio_iommu_ops(const struct sio_iommu *iommu)
{
	return iommu->ops;
}
