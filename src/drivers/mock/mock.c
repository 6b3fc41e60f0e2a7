/*
 * The mock IOMMU driver, with the semantics of the Linux 7.3 iommufd
 * selftest mock (drivers/iommu/iommufd/selftest.c) so that the kernel's
 * iommufd tests behave here as they do on a kernel built with the mock.
 *
 * Paging domains use the SIO_PT_MOCK page-table format (AMD v1 encoding
 * with a 2 KiB granule); the default page-table type restricts the aperture
 * to [2^24, 2^31 - 1] as the selftest expects, the huge type offers only
 * 1 MiB and 4 KiB pages.  The default domain is the blocked domain.  PASID
 * 1024 (IOMMU_TEST_PASID_RESERVED) fails every second non-blocking
 * set_dev_pasid, which is how the selftest makes a replace fail on purpose.
 * The mock's vIOMMUs are in mock_viommu.c; attaching a device to a nested
 * domain of a vIOMMU needs the device's vDEVICE there.
 */
#include <stdlib.h>
#include <string.h>

#include "drivers/mock/mock_private.h"
#include "drivers/pt_domain.h"
#include "softiommu/viommu.h"
#include "util/error.h"
#include "util/rcu.h"
#include "util/fail.h"

#define MOCK_PAGING_FLAGS                                                    \
	(SIO_DOMAIN_ALLOC_DIRTY_TRACKING | SIO_DOMAIN_ALLOC_NEST_PARENT |     \
	 SIO_DOMAIN_ALLOC_PASID)
#define MOCK_VALID_DEV_FLAGS (SIO_MOCK_DEV_NO_DIRTY | SIO_MOCK_DEV_PASID)
/* The selftest's table starts at level 2 and never grows a level, so its
 * input size is what the format gives that depth (38 bits with 2 KiB
 * pages), not the format's hardware maximum of 56: 0 asks for that. */
#define MOCK_IAS 0
#define MOCK_OAS 51	/* hw_max_oasz_lg2 */
#define CPU_PAGE_SIZE 4096u

static const struct sio_domain_ops mock_paging_ops;
static const struct sio_domain_ops mock_nested_ops;

static struct mock_nested *to_mock_nested(struct sio_domain *d)
{
	return sio_container_of(d, struct mock_nested, domain);
}

static int mock_attach_dev(struct sio_domain *domain, struct sio_device *dev,
			   struct sio_domain *old)
{
	struct mock_dev *mdev = to_mock_dev(dev);
	struct sio_viommu *viommu = NULL;
	uint64_t vdev_id = 0;

	if (!mdev)
		return 0;	/* removed: only the blocked domain comes now */
	if ((domain->alloc_flags & SIO_DOMAIN_ALLOC_DIRTY_TRACKING) &&
	    (mdev->flags & SIO_MOCK_DEV_NO_DIRTY))
		return -EINVAL;
	/* A nested domain of a vIOMMU is the VM's: the device needs its
	 * virtual ID there first (-ENOENT), as the selftest mock says. */
	if (domain->type == SIO_DOMAIN_NESTED) {
		viommu = sio_container_of(domain, struct mock_nested,
					  domain)->viommu;
		if (viommu && sio_viommu_get_vdev_id(viommu, dev, &vdev_id))
			return -ENOENT;
	}
	pthread_rwlock_wrlock(&mdev->viommu_lock);
	mdev->viommu = viommu;
	mdev->vdev_id = vdev_id;
	pthread_rwlock_unlock(&mdev->viommu_lock);
	return 0;
}

static int mock_set_dev_pasid(struct sio_domain *domain, struct sio_device *dev,
			      sio_pasid_t pasid, struct sio_domain *old)
{
	struct mock_dev *mdev = to_mock_dev(dev);

	if (pasid != SIO_MOCK_PASID_RESERVED)
		return 0;
	/* Every second attach of PASID 1024 fails; blocking resets it. */
	if (domain->type == SIO_DOMAIN_BLOCKED) {
		__atomic_store_n(&mdev->pasid_1024_fake_error, 0, __ATOMIC_RELAXED);
		return 0;
	}
	if (__atomic_exchange_n(&mdev->pasid_1024_fake_error, 0, __ATOMIC_RELAXED))
		return -ENOMEM;
	__atomic_store_n(&mdev->pasid_1024_fake_error, 1, __ATOMIC_RELAXED);
	return 0;
}

static void mock_static_free(struct sio_domain *domain)
{
	free(domain);
}

static const struct sio_domain_ops mock_blocked_ops = {
	.attach_dev = mock_attach_dev,
	.set_dev_pasid = mock_set_dev_pasid,
	.free = mock_static_free,
};

static int mock_alloc_blocked(struct sio_iommu *iommu, struct sio_domain **out)
{
	struct sio_domain *d = sio_malloc(sizeof(*d));

	if (!d)
		return -ENOMEM;
	sio_domain_init(d, SIO_DOMAIN_BLOCKED, &mock_blocked_ops);
	*out = d;
	return 0;
}

/* Paging domains: the page table does the work (pt_domain.h).  Dirty
 * tracking is the table's dirty bits; the selftest's
 * mock_domain_set_dirty_tracking only flips a flag, which is the core's
 * domain->dirty_tracking here, so there is no set_dirty_tracking op. */
static const struct sio_domain_ops mock_paging_ops = {
	.attach_dev = mock_attach_dev,
	.set_dev_pasid = mock_set_dev_pasid,
	SIO_PT_DOMAIN_OPS,
	SIO_PT_DIRTY_OPS,
	.free = sio_pt_domain_free,
};

static int mock_alloc_paging(struct sio_device *dev, uint32_t flags,
			     const struct sio_user_data *ud,
			     struct sio_domain **out)
{
	struct sio_mock_hwpt_data cfg = { 0 };
	struct sio_pt_cfg ptcfg = { 0 };
	struct sio_pt_domain *md;
	bool dirty = flags & SIO_DOMAIN_ALLOC_DIRTY_TRACKING;
	int rc;

	if ((flags & ~MOCK_PAGING_FLAGS) ||
	    (dirty && (to_mock_dev(dev)->flags & SIO_MOCK_DEV_NO_DIRTY)))
		return -EOPNOTSUPP;
	if (ud && ud->type != SIO_MOCK_HWPT_DATA && ud->type != 0)
		return -EOPNOTSUPP;
	if (ud) {
		/* Only selftest data can be copied: data tagged "none" is
		 * -EINVAL, as iommu_copy_struct_from_user() makes it. */
		rc = sio_user_data_copy(&cfg, sizeof(cfg), sizeof(cfg.iotlb), ud,
					SIO_MOCK_HWPT_DATA);
		if (rc)
			return rc;
	}
	if (cfg.pagetable_type != SIO_MOCK_PT_DEFAULT &&
	    cfg.pagetable_type != SIO_MOCK_PT_HUGE)
		return -EOPNOTSUPP;

	md = sio_calloc(1, sizeof(*md));
	if (!md)
		return -ENOMEM;
	ptcfg.format = SIO_PT_MOCK;
	ptcfg.ias = MOCK_IAS;
	ptcfg.oas = MOCK_OAS;
	ptcfg.features = dirty ? SIO_PT_FEAT_DIRTY : 0;
	rc = sio_pt_domain_init(md, &ptcfg, &mock_paging_ops);
	if (rc) {
		free(md);
		return rc;
	}
	if (cfg.pagetable_type == SIO_MOCK_PT_HUGE) {
		/* Userspace maps only huge pages; the CPU page size is
		 * included so that iommufd accepts the domain. */
		md->domain.pgsize_bitmap &= SIO_MOCK_HUGE_PAGE_SIZE | CPU_PAGE_SIZE;
	} else {
		md->domain.geometry.aperture_start = SIO_MOCK_APERTURE_START;
		md->domain.geometry.aperture_end = SIO_MOCK_APERTURE_LAST;
	}
	*out = &md->domain;
	return 0;
}

static int mock_nested_set_dev_pasid(struct sio_domain *domain,
				     struct sio_device *dev, sio_pasid_t pasid,
				     struct sio_domain *old)
{
	return mock_set_dev_pasid(domain, dev, pasid, old);
}

static void mock_nested_free(struct sio_domain *d)
{
	free(to_mock_nested(d));
}

/* The mock's stage 1 is the identity: a nested domain translates what its
 * parent maps, so a device attached to it still reaches guest memory. */
static int mock_nested_lookup(struct sio_domain *d, uint64_t iova,
			      struct sio_xlate *out)
{
	return sio_pt_domain_lookup(d->parent, iova, out);
}

static int mock_nested_set_dirty(struct sio_domain *d, uint64_t iova)
{
	return sio_pt_domain_set_dirty(d->parent, iova);
}

/* The selftest's invalidation: each entry zeroes one mock IOTLB entry, or
 * all of them with IOMMU_TEST_INVALIDATE_FLAG_ALL; the first bad entry
 * stops the walk and the count says how many went before it. */
static int mock_nested_cache_invalidate(struct sio_domain *d,
					struct sio_user_data_array *array)
{
	struct mock_nested *mn = to_mock_nested(d);
	struct sio_mock_invalidate inv;
	uint32_t done = 0;
	int rc = 0;

	if (array->type != SIO_MOCK_INVALIDATE_DATA) {
		rc = -EINVAL;
		goto out;
	}
	for (uint32_t i = 0; i < array->entry_num; i++) {
		rc = sio_user_data_array_copy(&inv, sizeof(inv), sizeof(inv),
					      array,
					      SIO_MOCK_INVALIDATE_DATA, i);
		if (rc)
			break;
		if (inv.flags & ~SIO_MOCK_INVALIDATE_FLAG_ALL) {
			rc = -EOPNOTSUPP;
			break;
		}
		if (inv.iotlb_id > SIO_MOCK_NESTED_IOTLB_ID_MAX) {
			rc = -EINVAL;
			break;
		}
		for (int j = 0; j < SIO_MOCK_NESTED_IOTLB_NUM; j++)
			if ((inv.flags & SIO_MOCK_INVALIDATE_FLAG_ALL) ||
			    (uint32_t)j == inv.iotlb_id)
				__atomic_store_n(&mn->iotlb[j], 0,
						 __ATOMIC_RELAXED);
		done++;
	}
out:
	array->entry_num = done;
	return rc;
}

static const struct sio_domain_ops mock_nested_ops = {
	.attach_dev = mock_attach_dev,
	.set_dev_pasid = mock_nested_set_dev_pasid,
	.lookup = mock_nested_lookup,
	.set_dirty = mock_nested_set_dirty,
	.cache_invalidate_user = mock_nested_cache_invalidate,
	.free = mock_nested_free,
};

static int mock_alloc_nested(struct sio_device *dev, struct sio_domain *parent,
			     uint32_t flags, const struct sio_user_data *ud,
			     struct sio_domain **out)
{
	struct mock_nested *mn;
	int rc;

	if (flags & ~SIO_DOMAIN_ALLOC_PASID)
		return -EOPNOTSUPP;
	if (!parent || parent->type != SIO_DOMAIN_PAGING ||
	    parent->ops != &mock_paging_ops)
		return -EINVAL;
	rc = mock_nested_new(ud, &mn);
	if (rc)
		return rc;
	*out = &mn->domain;
	return 0;
}

int mock_nested_new(const struct sio_user_data *ud, struct mock_nested **out)
{
	struct sio_mock_hwpt_data cfg;
	struct mock_nested *mn;
	int rc;

	if (!ud || ud->type != SIO_MOCK_HWPT_DATA)
		return -EOPNOTSUPP;
	rc = sio_user_data_copy(&cfg, sizeof(cfg), sizeof(cfg.iotlb), ud,
				SIO_MOCK_HWPT_DATA);
	if (rc)
		return rc;
	mn = sio_calloc(1, sizeof(*mn));
	if (!mn)
		return -ENOMEM;
	sio_domain_init(&mn->domain, SIO_DOMAIN_NESTED, &mock_nested_ops);
	for (int i = 0; i < SIO_MOCK_NESTED_IOTLB_NUM; i++)
		mn->iotlb[i] = cfg.iotlb;
	*out = mn;
	return 0;
}

static int mock_probe_device(struct sio_iommu *iommu, struct sio_device *dev)
{
	uint32_t flags = sio_device_flags(dev);
	struct mock_dev *mdev;

	if (flags & ~MOCK_VALID_DEV_FLAGS)
		return -EINVAL;
	mdev = sio_calloc(1, sizeof(*mdev));
	if (!mdev)
		return -ENOMEM;
	mdev->flags = flags;
	pthread_rwlock_init(&mdev->viommu_lock, NULL);
	for (int i = 0; i < SIO_MOCK_DEV_CACHE_NUM; i++)
		mdev->cache[i] = SIO_MOCK_DEV_CACHE_DEFAULT;
	sio_device_set_driver_priv(dev, mdev);
	if (flags & SIO_MOCK_DEV_PASID)
		sio_device_set_max_pasids(dev, 1u << SIO_MOCK_PASID_WIDTH);
	return 0;
}

static void mock_release_device(struct sio_device *dev)
{
	struct mock_dev *mdev = to_mock_dev(dev);

	if (mdev)
		pthread_rwlock_destroy(&mdev->viommu_lock);
	free(mdev);
	sio_device_set_driver_priv(dev, NULL);
}

static bool mock_capable(struct sio_device *dev, enum sio_cap cap)
{
	switch (cap) {
	case SIO_CAP_CACHE_COHERENCY:
		return true;
	case SIO_CAP_DIRTY_TRACKING:
		/* The core's copy of the flags: the driver data is freed when
		 * the device is removed, and users may still ask then. */
		return !(sio_device_flags(dev) & SIO_MOCK_DEV_NO_DIRTY);
	default:
		return false;
	}
}

static int mock_hw_info(struct sio_device *dev, uint32_t *type, void **data,
			size_t *len)
{
	struct sio_mock_hw_info *info;

	if (*type != 0 && *type != SIO_MOCK_HW_INFO_TYPE)
		return -EOPNOTSUPP;
	info = sio_calloc(1, sizeof(*info));
	if (!info)
		return -ENOMEM;
	info->test_reg = SIO_MOCK_HW_INFO_REGVAL;
	*data = info;
	*len = sizeof(*info);
	*type = SIO_MOCK_HW_INFO_TYPE;
	return 0;
}

static const struct sio_iommu_ops mock_iommu_ops = {
	.name = "mock",
	.probe_device = mock_probe_device,
	.release_device = mock_release_device,
	.device_group = sio_generic_device_group,
	.domain_alloc_paging = mock_alloc_paging,
	.domain_alloc_nested = mock_alloc_nested,
	.domain_alloc_blocked = mock_alloc_blocked,
	.capable = mock_capable,
	.hw_info = mock_hw_info,
	.get_viommu_size = mock_get_viommu_size,
	.viommu_init = mock_viommu_init,
};

SIO_API int sio_mock_iommu_create(struct sio_system *sys, const char *name,
				  struct sio_iommu **out)
{
	struct sio_iommu_caps caps = {
		.pasid_bits = SIO_MOCK_PASID_WIDTH,
		.features = SIO_FEAT_PASID | SIO_FEAT_NESTING | SIO_FEAT_DIRTY |
			    SIO_FEAT_IOPF | SIO_FEAT_USER_PASID_TABLE,
		.default_domain_type = SIO_DOMAIN_BLOCKED,
	};
	struct sio_pt_cfg ptcfg = { .format = SIO_PT_MOCK, .ias = MOCK_IAS,
				    .oas = MOCK_OAS };
	struct sio_pt *pt;
	int rc;

	/* The instance advertises what its tables can map. */
	rc = sio_pt_create(&ptcfg, &pt);
	if (rc)
		return sio_err(rc, "mock: page table");
	caps.pgsize_bitmap = sio_pt_pgsize_bitmap(pt);
	sio_pt_destroy(pt);
	return sio_iommu_register(sys, name ? name : "mock", &mock_iommu_ops,
				  &caps, NULL, out);
}

SIO_API bool sio_mock_domain_is_mock(const struct sio_domain *domain)
{
	return domain && (domain->ops == &mock_paging_ops ||
			  domain->ops == &mock_nested_ops);
}

bool mock_dev_is_mock(struct sio_device *dev)
{
	return dev && sio_iommu_ops(sio_device_iommu(dev)) == &mock_iommu_ops;
}

SIO_API int sio_mock_dev_cache(struct sio_device *dev, unsigned int id,
			       uint32_t *value)
{
	struct mock_dev *mdev;

	if (!mock_dev_is_mock(dev))
		return sio_err(-EINVAL, "mock: not a mock device");
	if (id >= SIO_MOCK_DEV_CACHE_NUM)
		return sio_err(-EINVAL, "mock: device cache id %u > %u", id,
			       SIO_MOCK_DEV_CACHE_NUM - 1);
	mdev = to_mock_dev(dev);
	if (!mdev)
		return sio_err(-ENODEV, "mock: device %s was removed",
			       sio_device_name(dev));
	*value = __atomic_load_n(&mdev->cache[id], __ATOMIC_RELAXED);
	return 0;
}

SIO_API int sio_mock_nested_iotlb(struct sio_domain *domain, unsigned int id,
				  uint32_t *value)
{
	if (!domain || domain->ops != &mock_nested_ops)
		return sio_err(-EINVAL, "mock: not a mock nested domain");
	if (id > SIO_MOCK_NESTED_IOTLB_ID_MAX)
		return sio_err(-EINVAL, "mock: IOTLB id %u > %u", id,
			       SIO_MOCK_NESTED_IOTLB_ID_MAX);
	*value = __atomic_load_n(&to_mock_nested(domain)->iotlb[id],
				 __ATOMIC_RELAXED);
	return 0;
}

SIO_API int sio_mock_domain_set_dirty(struct sio_domain *domain,
				      uint64_t iova)
{
	int rc;

	if (!domain || domain->ops != &mock_paging_ops)
		return sio_err(-EINVAL, "mock: not a mock paging domain");
	if (!sio_domain_dirty_tracking(domain))
		return sio_err(-EINVAL, "mock: dirty tracking is off");
	/* As the data path does: the table may be unmapped concurrently. */
	sio_rcu_read_lock();
	rc = sio_pt_domain_set_dirty(domain, iova);
	sio_rcu_read_unlock();
	return rc;
}
