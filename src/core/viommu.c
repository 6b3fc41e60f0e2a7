/*
 * Virtual IOMMUs in the core (softiommu/viommu.h): allocation split
 * between the core and the driver, the table of virtual device IDs, HW
 * queues, and the helpers through which drivers reach the vIOMMU's user.
 *
 * The vDEVICE table is a small unordered array under vdevs_lock: a VM
 * has few devices per vIOMMU, lookups by virtual ID are invalidation
 * requests and attach checks, never the data path.  A vDEVICE is put in
 * the table before the driver's vdevice_init runs, so that a second
 * allocation of the same ID fails at once, but stays invisible to lookups
 * ("live" false) until init succeeded, as the kernel reserves an xarray
 * slot before storing the entry.
 */
#include <stdlib.h>

#include "core/core.h"
#include "core/epoch.h"
#include "softiommu/viommu.h"
#include "util/fail.h"

SIO_API bool sio_viommu_type_supported(struct sio_device *dev, uint32_t type)
{
	const struct sio_iommu_ops *ops;

	if (!dev)
		return false;
	ops = dev->iommu->ops;
	return ops->get_viommu_size && ops->viommu_init &&
	       ops->get_viommu_size(dev, type) >= sizeof(struct sio_viommu);
}

SIO_API int sio_viommu_alloc(struct sio_device *dev, struct sio_domain *parent,
			     uint32_t type, struct sio_user_data *user_data,
			     const struct sio_viommu_user_ops *user_ops,
			     void *user, struct sio_viommu **out)
{
	struct sio_iommu *iommu;
	struct sio_viommu *viommu;
	int rc;

	if (!dev || !parent || !out)
		return sio_err(-EINVAL, "viommu alloc: missing argument");
	iommu = dev->iommu;
	if (!sio_viommu_type_supported(dev, type))
		return sio_err(-EOPNOTSUPP, "%s: no vIOMMU of type %#x",
			       iommu->name, type);
	if (parent->type != SIO_DOMAIN_PAGING ||
	    !(parent->alloc_flags & SIO_DOMAIN_ALLOC_NEST_PARENT))
		return sio_err(-EINVAL, "viommu alloc: parent is not a nesting parent");
	if (!sio_domain_compatible(iommu, parent))
		return sio_err(-EINVAL, "viommu alloc: parent of another IOMMU");

	viommu = sio_calloc(1, iommu->ops->get_viommu_size(dev, type));
	if (!viommu)
		return sio_err(-ENOMEM, "viommu alloc");
	viommu->iommu = iommu;
	viommu->parent = parent;
	viommu->type = type;
	viommu->user_ops = user_ops;
	viommu->user = user;
	pthread_mutex_init(&viommu->vdevs_lock, NULL);
	rc = iommu->ops->viommu_init(viommu, parent, user_data);
	if (!rc && !viommu->ops) {
		/* A driver bug, as the kernel's WARN says; nothing to undo
		 * that the driver told us about. */
		rc = -EOPNOTSUPP;
	}
	if (rc) {
		pthread_mutex_destroy(&viommu->vdevs_lock);
		free(viommu);
		return sio_err(rc, "%s: vIOMMU init", iommu->name);
	}
	/* The parent cannot go while its vIOMMU (and, through it, nested
	 * domains the VM has yet to make) may use it. */
	__atomic_add_fetch(&parent->nested_users, 1, __ATOMIC_RELAXED);
	*out = viommu;
	return 0;
}

SIO_API int sio_viommu_free(struct sio_viommu *viommu)
{
	bool busy;

	if (!viommu)
		return 0;
	sio_mutex_lock(&viommu->vdevs_lock, SIO_LOCK_VIOMMU_VDEVS);
	busy = viommu->nvdevs ||
	       __atomic_load_n(&viommu->nqueues, __ATOMIC_ACQUIRE);
	sio_mutex_unlock(&viommu->vdevs_lock);
	if (busy)
		return sio_err(-EBUSY, "viommu: vDEVICEs or HW queues remain");
	if (viommu->ops->destroy)
		viommu->ops->destroy(viommu);
	__atomic_sub_fetch(&viommu->parent->nested_users, 1, __ATOMIC_RELEASE);
	pthread_mutex_destroy(&viommu->vdevs_lock);
	free(viommu->vdevs);
	free(viommu);
	return 0;
}

SIO_API int sio_viommu_alloc_domain_nested(struct sio_viommu *viommu,
					   uint32_t flags,
					   const struct sio_user_data *user_data,
					   struct sio_domain **out)
{
	struct sio_domain *d = NULL;
	int rc;

	if (!viommu || !out)
		return sio_err(-EINVAL, "viommu nested alloc: missing argument");
	if (!viommu->ops->alloc_domain_nested)
		return sio_err(-EOPNOTSUPP, "%s: no nested domains on a vIOMMU",
			       viommu->iommu->name);
	rc = viommu->ops->alloc_domain_nested(viommu, flags, user_data, &d);
	if (rc)
		return sio_err(rc, "%s: nested domain on a vIOMMU",
			       viommu->iommu->name);
	d->parent = viommu->parent;
	rc = sio_domain_finish_alloc(viommu->iommu, d, SIO_DOMAIN_NESTED, flags);
	if (rc)
		return rc;
	__atomic_add_fetch(&viommu->parent->nested_users, 1, __ATOMIC_RELAXED);
	*out = d;
	return 0;
}

SIO_API int sio_viommu_cache_invalidate(struct sio_viommu *viommu,
					struct sio_user_data_array *array)
{
	int rc;

	if (!viommu || !array)
		return sio_err(-EINVAL, "viommu invalidate: missing argument");
	if (!viommu->ops->cache_invalidate) {
		array->entry_num = 0;
		return sio_err(-EOPNOTSUPP, "%s: no vIOMMU invalidation",
			       viommu->iommu->name);
	}
	rc = viommu->ops->cache_invalidate(viommu, array);
	/* The vIOMMU's nested domains are not listed anywhere; each IOTLB
	 * entry of one carries its parent's tag too, so a new tag on the
	 * parent drops the data path's translations of all of them (and the
	 * parent's own, which costs only refills). */
	sio_domain_new_tag(viommu->parent);
	return rc;
}

/* ------------------------------------------------------------------ */
/* vDEVICEs                                                             */
/* ------------------------------------------------------------------ */

/* vdevs_lock held. */
static ssize_t vdev_index(struct sio_viommu *viommu, uint64_t virt_id)
{
	SIO_ASSERT_HELD(&viommu->vdevs_lock);
	for (size_t i = 0; i < viommu->nvdevs; i++)
		if (viommu->vdevs[i]->virt_id == virt_id)
			return (ssize_t)i;
	return -1;
}

/* Take virt_id for vdev (not live yet): -EEXIST if it is taken. */
static int vdev_reserve(struct sio_viommu *viommu, struct sio_vdevice *vdev)
{
	int rc = 0;

	sio_mutex_lock(&viommu->vdevs_lock, SIO_LOCK_VIOMMU_VDEVS);
	if (vdev_index(viommu, vdev->virt_id) >= 0) {
		rc = -EEXIST;
	} else if (viommu->nvdevs == viommu->vdevs_cap) {
		size_t ncap = viommu->vdevs_cap ? viommu->vdevs_cap * 2 : 4;
		struct sio_vdevice **n = sio_realloc(viommu->vdevs,
						 ncap * sizeof(*n));

		if (!n)
			rc = -ENOMEM;
		else {
			viommu->vdevs = n;
			viommu->vdevs_cap = ncap;
		}
	}
	if (!rc)
		viommu->vdevs[viommu->nvdevs++] = vdev;
	sio_mutex_unlock(&viommu->vdevs_lock);
	return rc;
}

static void vdev_unreserve(struct sio_viommu *viommu, struct sio_vdevice *vdev)
{
	ssize_t i;

	sio_mutex_lock(&viommu->vdevs_lock, SIO_LOCK_VIOMMU_VDEVS);
	i = vdev_index(viommu, vdev->virt_id);
	if (i >= 0 && viommu->vdevs[i] == vdev)
		viommu->vdevs[i] = viommu->vdevs[--viommu->nvdevs];
	sio_mutex_unlock(&viommu->vdevs_lock);
}

SIO_API int sio_vdevice_alloc(struct sio_viommu *viommu, struct sio_device *dev,
			      uint64_t virt_id, void *user,
			      struct sio_vdevice **out)
{
	size_t size = sizeof(struct sio_vdevice);
	struct sio_vdevice *vdev;
	int rc;

	if (!viommu || !dev || !out)
		return sio_err(-EINVAL, "vdevice alloc: missing argument");
	if (dev->iommu != viommu->iommu)
		return sio_err(-EINVAL, "vdevice alloc: %s is not behind %s",
			       dev->name, viommu->iommu->name);
	if (viommu->ops->vdevice_size) {
		if (viommu->ops->vdevice_size < size || !viommu->ops->vdevice_init)
			return sio_err(-EOPNOTSUPP, "%s: bad vDEVICE ops",
				       viommu->iommu->name);
		size = viommu->ops->vdevice_size;
	}
	vdev = sio_calloc(1, size);
	if (!vdev)
		return sio_err(-ENOMEM, "vdevice alloc");
	vdev->viommu = viommu;
	vdev->dev = sio_device_get(dev);
	vdev->virt_id = virt_id;
	vdev->user = user;
	rc = vdev_reserve(viommu, vdev);
	if (rc) {
		rc = sio_err(rc, "vdevice alloc: virtual ID %#llx",
			     (unsigned long long)virt_id);
		goto err_free;
	}
	if (viommu->ops->vdevice_init) {
		rc = viommu->ops->vdevice_init(vdev);
		if (rc) {
			vdev_unreserve(viommu, vdev);
			rc = sio_err(rc, "%s: vDEVICE init", viommu->iommu->name);
			goto err_free;
		}
	}
	sio_mutex_lock(&viommu->vdevs_lock, SIO_LOCK_VIOMMU_VDEVS);
	vdev->live = true;
	sio_mutex_unlock(&viommu->vdevs_lock);
	*out = vdev;
	return 0;

err_free:
	sio_device_put(vdev->dev);
	free(vdev);
	return rc;
}

SIO_API void sio_vdevice_free(struct sio_vdevice *vdev)
{
	if (!vdev)
		return;
	if (vdev->viommu->ops->vdevice_destroy)
		vdev->viommu->ops->vdevice_destroy(vdev);
	vdev_unreserve(vdev->viommu, vdev);
	sio_device_put(vdev->dev);
	free(vdev);
}

SIO_API void sio_viommu_vdevs_lock(struct sio_viommu *viommu)
{
	sio_mutex_lock(&viommu->vdevs_lock, SIO_LOCK_VIOMMU_VDEVS);
}

SIO_API void sio_viommu_vdevs_unlock(struct sio_viommu *viommu)
{
	sio_mutex_unlock(&viommu->vdevs_lock);
}

SIO_API struct sio_device *sio_viommu_find_dev(struct sio_viommu *viommu,
					       uint64_t virt_id)
{
	ssize_t i = vdev_index(viommu, virt_id);

	return i >= 0 && viommu->vdevs[i]->live ? viommu->vdevs[i]->dev : NULL;
}

SIO_API int sio_viommu_get_vdev_id(struct sio_viommu *viommu,
				   struct sio_device *dev, uint64_t *virt_id)
{
	int rc = -ENOENT;

	if (!viommu || !dev || !virt_id)
		return sio_err(-EINVAL, "viommu: get_vdev_id: missing argument");
	sio_mutex_lock(&viommu->vdevs_lock, SIO_LOCK_VIOMMU_VDEVS);
	for (size_t i = 0; i < viommu->nvdevs; i++) {
		if (viommu->vdevs[i]->live && viommu->vdevs[i]->dev == dev) {
			*virt_id = viommu->vdevs[i]->virt_id;
			rc = 0;
			break;
		}
	}
	sio_mutex_unlock(&viommu->vdevs_lock);
	return rc;
}

/* ------------------------------------------------------------------ */
/* HW queues                                                            */
/* ------------------------------------------------------------------ */

static size_t hw_queue_size(struct sio_viommu *viommu, uint32_t type)
{
	if (!viommu->ops->get_hw_queue_size || !viommu->ops->hw_queue_init_phys)
		return 0;
	return viommu->ops->get_hw_queue_size(viommu, type);
}

SIO_API bool sio_viommu_hw_queue_supported(struct sio_viommu *viommu,
					   uint32_t type)
{
	return viommu && hw_queue_size(viommu, type) >= sizeof(struct sio_hw_queue);
}

SIO_API int sio_hw_queue_alloc(struct sio_viommu *viommu, uint32_t type,
			       uint32_t index, uint64_t base_iova,
			       uint64_t length, uint64_t base_pa, void *user,
			       struct sio_hw_queue **out)
{
	struct sio_hw_queue *q;
	int rc;

	if (!viommu || !out)
		return sio_err(-EINVAL, "hw queue alloc: missing argument");
	if (!sio_viommu_hw_queue_supported(viommu, type))
		return sio_err(-EOPNOTSUPP, "%s: no HW queue of type %#x",
			       viommu->iommu->name, type);
	q = sio_calloc(1, hw_queue_size(viommu, type));
	if (!q)
		return sio_err(-ENOMEM, "hw queue alloc");
	q->viommu = viommu;
	q->type = type;
	q->base_iova = base_iova;
	q->length = length;
	q->user = user;
	rc = viommu->ops->hw_queue_init_phys(q, index, base_pa);
	if (rc) {
		free(q);
		return sio_err(rc, "%s: HW queue %u", viommu->iommu->name, index);
	}
	__atomic_add_fetch(&viommu->nqueues, 1, __ATOMIC_RELAXED);
	*out = q;
	return 0;
}

SIO_API void sio_hw_queue_free(struct sio_hw_queue *queue)
{
	if (!queue)
		return;
	if (queue->viommu->ops->hw_queue_destroy)
		queue->viommu->ops->hw_queue_destroy(queue);
	__atomic_sub_fetch(&queue->viommu->nqueues, 1, __ATOMIC_RELEASE);
	free(queue);
}

/* ------------------------------------------------------------------ */
/* Upward, through the user's ops                                       */
/* ------------------------------------------------------------------ */

SIO_API int sio_viommu_report_event(struct sio_viommu *viommu, uint32_t type,
				    const void *data, size_t len)
{
	if (!viommu || !data || !len)
		return sio_err(-EINVAL, "viommu: empty event");
	if (!viommu->user_ops || !viommu->user_ops->report_event)
		return -EOPNOTSUPP;
	return viommu->user_ops->report_event(viommu, type, data, len);
}

SIO_API int sio_viommu_alloc_mmap(struct sio_viommu *viommu, int fd,
				  uint64_t fd_offset, size_t length,
				  uint64_t *offset)
{
	if (!viommu || !offset)
		return sio_err(-EINVAL, "viommu: alloc_mmap: missing argument");
	if (!viommu->user_ops || !viommu->user_ops->alloc_mmap)
		return sio_err(-EOPNOTSUPP, "viommu: the user maps no memory");
	return viommu->user_ops->alloc_mmap(viommu, fd, fd_offset, length,
					    offset);
}

SIO_API void sio_viommu_destroy_mmap(struct sio_viommu *viommu,
				     uint64_t offset)
{
	if (viommu && viommu->user_ops && viommu->user_ops->destroy_mmap)
		viommu->user_ops->destroy_mmap(viommu, offset);
}
