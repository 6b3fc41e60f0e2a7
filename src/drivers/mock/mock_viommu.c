/*
 * The mock driver's vIOMMU (the selftest mock's mock_viommu of Linux 7.3):
 * what the kernel's iommufd_viommu tests need from a driver.
 *
 *  - Allocation with data echoes in_data to out_data and exposes a
 *    two-page region, whose first word is in_data, for the program to
 *    mmap() from its iommufd (a memory file here; the kernel maps pages).
 *  - Nested domains on it are the mock's nested domains that remember the
 *    vIOMMU: attaching a device to one needs the device's vDEVICE.
 *  - Invalidation entries name a device by its virtual ID and reset one
 *    entry (or all) of its 4-entry device cache.  The whole array is read
 *    before any entry is acted on (iommu_copy_struct_from_full_user_array),
 *    so a malformed array changes nothing.
 *  - One event type, reported by sio_mock_dev_trigger_vevent() with the
 *    device's virtual ID.
 *  - Two HW queues: index 1 needs index 0 and keeps it from going first.
 *
 * Locking (docs/locking.md): queue_lock (SIO_LOCK_MOCK_QUEUES, a leaf)
 * protects queues[]; the vDEVICE table is the core's (vdevs_lock, held
 * while an entry resets a device's cache).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "drivers/mock/mock_private.h"
#include "softiommu/viommu.h"
#include "util/error.h"
#include "util/sys.h"
#include "util/fail.h"

#define MOCK_REGION_PAGES 2

struct mock_hw_queue {
	struct sio_hw_queue core;
	uint32_t index;
};

struct mock_viommu {
	struct sio_viommu core;
	pthread_mutex_t queue_lock;	/* protects queues */
	struct mock_hw_queue *queues[SIO_MOCK_HW_QUEUE_MAX];
	/* The region to mmap (allocation with data only): a memory file,
	 * the driver's own view of it, and where the user offers it. */
	int region_fd;			/* -1: none */
	uint32_t *region;
	size_t region_len;
	uint64_t mmap_offset;
};

static struct mock_viommu *to_mock_viommu(struct sio_viommu *viommu)
{
	return sio_container_of(viommu, struct mock_viommu, core);
}

static void region_free(struct mock_viommu *mv)
{
	if (mv->region)
		sio_sys_munmap(mv->region, mv->region_len);
	if (mv->region_fd >= 0)
		sio_sys_close(mv->region_fd);
	mv->region = NULL;
	mv->region_fd = -1;
}

static int region_alloc(struct mock_viommu *mv)
{
	mv->region_len = MOCK_REGION_PAGES * (size_t)sysconf(_SC_PAGESIZE);
	mv->region_fd = memfd_create("softiommu-mock-viommu", MFD_CLOEXEC);
	if (mv->region_fd < 0)
		return -errno;
	if (ftruncate(mv->region_fd, (off_t)mv->region_len)) {
		int rc = -errno;

		region_free(mv);
		return rc;
	}
	mv->region = sio_sys_mmap(NULL, mv->region_len, PROT_READ | PROT_WRITE,
				  MAP_SHARED, mv->region_fd, 0);
	if (mv->region == MAP_FAILED) {
		mv->region = NULL;
		region_free(mv);
		return -ENOMEM;
	}
	return 0;
}

static void mock_viommu_destroy(struct sio_viommu *viommu)
{
	struct mock_viommu *mv = to_mock_viommu(viommu);

	if (mv->region)
		sio_viommu_destroy_mmap(viommu, mv->mmap_offset);
	region_free(mv);
	pthread_mutex_destroy(&mv->queue_lock);
}

static int mock_viommu_alloc_domain_nested(struct sio_viommu *viommu,
					   uint32_t flags,
					   const struct sio_user_data *ud,
					   struct sio_domain **out)
{
	struct mock_nested *mn;
	int rc;

	if (flags & ~SIO_DOMAIN_ALLOC_PASID)
		return -EOPNOTSUPP;
	rc = mock_nested_new(ud, &mn);
	if (rc)
		return rc;
	mn->viommu = viommu;
	*out = &mn->domain;
	return 0;
}

/* One entry: reset the named cache entries of the device behind vdev_id. */
static int invalidate_one(struct sio_viommu *viommu,
			  const struct sio_mock_viommu_invalidate *inv)
{
	struct sio_device *dev;

	if (inv->flags & ~SIO_MOCK_INVALIDATE_FLAG_ALL)
		return -EOPNOTSUPP;
	if (inv->cache_id > SIO_MOCK_DEV_CACHE_ID_MAX)
		return -EINVAL;
	sio_viommu_vdevs_lock(viommu);
	dev = sio_viommu_find_dev(viommu, inv->vdev_id);
	if (dev) {
		struct mock_dev *mdev = to_mock_dev(dev);

		for (uint32_t i = 0; i < SIO_MOCK_DEV_CACHE_NUM; i++)
			if ((inv->flags & SIO_MOCK_INVALIDATE_FLAG_ALL) ||
			    i == inv->cache_id)
				__atomic_store_n(&mdev->cache[i], 0,
						 __ATOMIC_RELAXED);
	}
	sio_viommu_vdevs_unlock(viommu);
	return dev ? 0 : -EINVAL;
}

static int mock_viommu_cache_invalidate(struct sio_viommu *viommu,
					struct sio_user_data_array *array)
{
	struct sio_mock_viommu_invalidate *cmds;
	uint32_t n = array->entry_num, done = 0;
	int rc = 0;

	if (array->type != SIO_MOCK_VIOMMU_INVALIDATE_DATA || !n) {
		array->entry_num = 0;
		/* An empty array only checks the type. */
		return array->type == SIO_MOCK_VIOMMU_INVALIDATE_DATA ? 0
								   : -EINVAL;
	}
	cmds = sio_calloc(n, sizeof(*cmds));
	if (!cmds) {
		array->entry_num = 0;
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n && !rc; i++)
		rc = sio_user_data_array_copy(&cmds[i], sizeof(cmds[i]), 1,
					      array,
					      SIO_MOCK_VIOMMU_INVALIDATE_DATA,
					      i);
	for (; !rc && done < n; done++) {
		rc = invalidate_one(viommu, &cmds[done]);
		if (rc)
			break;
	}
	free(cmds);
	array->entry_num = done;
	return rc;
}

static size_t mock_get_hw_queue_size(struct sio_viommu *viommu, uint32_t type)
{
	(void)viommu;
	return type == SIO_MOCK_HW_QUEUE_TYPE ? sizeof(struct mock_hw_queue)
					      : 0;
}

static int mock_hw_queue_init_phys(struct sio_hw_queue *queue, uint32_t index,
				   uint64_t base_pa)
{
	struct mock_viommu *mv = to_mock_viommu(queue->viommu);
	struct mock_hw_queue *mq = sio_container_of(queue, struct mock_hw_queue,
						    core);
	int rc = 0;

	if (index >= SIO_MOCK_HW_QUEUE_MAX)
		return -EINVAL;
	sio_mutex_lock(&mv->queue_lock, SIO_LOCK_MOCK_QUEUES);
	if (mv->queues[index]) {
		rc = -EEXIST;
	} else if (index && !mv->queues[index - 1]) {
		rc = -EIO;
	} else if (!base_pa ||
		   !sio_iova_to_phys(mv->core.parent, queue->base_iova)) {
		/* The kernel's mock compares base_pa with the parent's
		 * translation.  Here both are host addresses of the same
		 * pages through different aliases, so equality proves
		 * nothing: the queue's memory must be mapped, that is all. */
		rc = -EFAULT;
	} else {
		mq->index = index;
		queue->depends_on = index ? &mv->queues[index - 1]->core : NULL;
		mv->queues[index] = mq;
	}
	sio_mutex_unlock(&mv->queue_lock);
	return rc;
}

static void mock_hw_queue_destroy(struct sio_hw_queue *queue)
{
	struct mock_viommu *mv = to_mock_viommu(queue->viommu);
	struct mock_hw_queue *mq = sio_container_of(queue, struct mock_hw_queue,
						    core);

	sio_mutex_lock(&mv->queue_lock, SIO_LOCK_MOCK_QUEUES);
	if (mv->queues[mq->index] == mq)
		mv->queues[mq->index] = NULL;
	sio_mutex_unlock(&mv->queue_lock);
}

static const struct sio_viommu_ops mock_viommu_ops = {
	.destroy = mock_viommu_destroy,
	.alloc_domain_nested = mock_viommu_alloc_domain_nested,
	.cache_invalidate = mock_viommu_cache_invalidate,
	.get_hw_queue_size = mock_get_hw_queue_size,
	.hw_queue_init_phys = mock_hw_queue_init_phys,
	.hw_queue_destroy = mock_hw_queue_destroy,
};

size_t mock_get_viommu_size(struct sio_device *dev, uint32_t type)
{
	(void)dev;
	return type == SIO_MOCK_VIOMMU_TYPE ? sizeof(struct mock_viommu) : 0;
}

/* The data: echo in_data, and offer the region with in_data in it. */
static int init_with_data(struct mock_viommu *mv, struct sio_user_data *ud)
{
	struct sio_mock_viommu_data data;
	size_t min_len = offsetof(struct sio_mock_viommu_data, out_data) +
			 sizeof(data.out_data);
	int rc;

	rc = sio_user_data_copy(&data, sizeof(data), min_len, ud,
				SIO_MOCK_VIOMMU_TYPE);
	if (rc)
		return rc;
	rc = region_alloc(mv);
	if (rc)
		return rc;
	rc = sio_viommu_alloc_mmap(&mv->core, mv->region_fd, 0, mv->region_len,
				   &mv->mmap_offset);
	if (rc) {
		region_free(mv);
		return rc;
	}
	mv->region[0] = data.in_data;
	data.out_data = data.in_data;
	data.out_mmap_offset = mv->mmap_offset;
	data.out_mmap_length = mv->region_len;
	rc = sio_user_data_copy_out(ud, &data, sizeof(data), min_len,
				    SIO_MOCK_VIOMMU_TYPE);
	if (rc) {
		sio_viommu_destroy_mmap(&mv->core, mv->mmap_offset);
		region_free(mv);
	}
	return rc;
}

int mock_viommu_init(struct sio_viommu *viommu, struct sio_domain *parent,
		     struct sio_user_data *ud)
{
	struct mock_viommu *mv = to_mock_viommu(viommu);
	int rc;

	(void)parent;
	mv->region_fd = -1;
	if (ud) {
		rc = init_with_data(mv, ud);
		if (rc)
			return rc;
	}
	pthread_mutex_init(&mv->queue_lock, NULL);
	viommu->ops = &mock_viommu_ops;
	return 0;
}

SIO_API int sio_mock_dev_trigger_vevent(struct sio_device *dev)
{
	struct sio_mock_vevent ev = { 0 };
	struct mock_dev *mdev;
	int rc = -ENOENT;

	if (!mock_dev_is_mock(dev))
		return sio_err(-EINVAL, "mock: not a mock device");
	mdev = to_mock_dev(dev);
	if (!mdev)
		return sio_err(-ENODEV, "mock: device %s was removed",
			       sio_device_name(dev));
	/* Held across the report: an attach elsewhere waits, so the vIOMMU
	 * stays while its event is queued. */
	pthread_rwlock_rdlock(&mdev->viommu_lock);
	if (mdev->viommu && mdev->vdev_id) {
		ev.virt_id = (uint32_t)mdev->vdev_id;
		rc = sio_viommu_report_event(mdev->viommu,
					     SIO_MOCK_VEVENTQ_TYPE, &ev,
					     sizeof(ev));
	}
	pthread_rwlock_unlock(&mdev->viommu_lock);
	return rc;
}
