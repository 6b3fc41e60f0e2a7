/*
 * Private to the mock driver: the device and nested-domain structures
 * that mock.c (domains, devices) and mock_viommu.c (vIOMMUs) share.
 */
#ifndef SIO_DRIVERS_MOCK_PRIVATE_H
#define SIO_DRIVERS_MOCK_PRIVATE_H

#include <pthread.h>

#include "softiommu/driver.h"
#include "softiommu/mock.h"
#include "util/lock.h"

struct sio_viommu;

struct mock_dev {
	uint32_t flags;
	/* The device-side cache a vIOMMU invalidates (MOCK_DEV_CACHE_NUM
	 * entries, IOMMU_TEST_DEV_CACHE_DEFAULT until invalidated). */
	uint32_t cache[SIO_MOCK_DEV_CACHE_NUM];
	int pasid_1024_fake_error;	/* atomic: the next attach fails */
	/* viommu_lock protects viommu and vdev_id: the vIOMMU whose nested
	 * domain the RID is attached to and the device's virtual ID there
	 * (the event a test triggers names them).  Written by attach under
	 * the group mutex; held for reading while an event is reported, so
	 * the vIOMMU cannot go meanwhile (SIO_LOCK_MOCK_VIOMMU in
	 * docs/locking.md: after the group mutex, before the vIOMMU's event
	 * queues). */
	pthread_rwlock_t viommu_lock;
	struct sio_viommu *viommu;
	uint64_t vdev_id;
};

struct mock_nested {
	struct sio_domain domain;
	struct sio_viommu *viommu;	/* NULL unless made on a vIOMMU */
	uint32_t iotlb[SIO_MOCK_NESTED_IOTLB_NUM];
};

static inline struct mock_dev *to_mock_dev(struct sio_device *dev)
{
	return sio_device_driver_priv(dev);
}

/* mock.c: whether dev is behind a mock IOMMU. */
bool mock_dev_is_mock(struct sio_device *dev);
/* mock.c: a nested domain with the selftest data (the flags are the
 * caller's to check). */
int mock_nested_new(const struct sio_user_data *ud, struct mock_nested **out);

/* mock_viommu.c: the vIOMMU ops of the IOMMU ops table. */
size_t mock_get_viommu_size(struct sio_device *dev, uint32_t type);
int mock_viommu_init(struct sio_viommu *viommu, struct sio_domain *parent,
		     struct sio_user_data *user_data);

#endif
