/*
 * Shared helpers of the core's unit tests (header-only: the test build has
 * one source per program).
 *
 * Besides small wrappers that assert success, this provides "tdrv", a tiny
 * test IOMMU driver written against softiommu/driver.h, for what the mock
 * driver cannot show:
 *  - multi-device groups (sio_alias_device_group: desc.alias),
 *  - an identity domain and a configurable default domain type,
 *  - PASID capacity taken from desc.pasid_bits,
 *  - paging domains on the SIO_PT_MOCK table that record what the core
 *    asks of them: the device a domain was allocated for, the IOTLB gather
 *    of each unmap, and an iotlb_sync_map that can be told to fail.
 */
#ifndef SIO_TEST_HELPERS_H
#define SIO_TEST_HELPERS_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "softiommu/softiommu.h"
#include "softiommu/driver.h"
#include "drivers/pt_domain.h"

/* An IOVA inside the mock aperture that is aligned to 1 MiB. */
#define T_IOVA ((uint64_t)SIO_MOCK_APERTURE_START)
#define T_PG ((size_t)SIO_MOCK_PAGE_SIZE)

static inline uint64_t t_pa(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* A zeroed host buffer usable as DMA memory, aligned to align bytes. */
static inline void *t_buf(size_t size, size_t align)
{
	void *p = NULL;

	assert_int_equal(posix_memalign(&p, align, size), 0);
	memset(p, 0, size);
	return p;
}

static inline struct sio_system *t_system(void)
{
	struct sio_system *sys = NULL;

	assert_int_equal(sio_system_create(&sys), 0);
	assert_non_null(sys);
	return sys;
}

static inline struct sio_iommu *t_mock(struct sio_system *sys, const char *name)
{
	struct sio_iommu *iommu = NULL;

	assert_int_equal(sio_mock_iommu_create(sys, name, &iommu), 0);
	assert_non_null(iommu);
	return iommu;
}

static inline struct sio_device *t_probe(struct sio_iommu *iommu,
					 const char *name, uint32_t alias,
					 uint32_t pasid_bits, uint32_t flags)
{
	struct sio_device_desc desc = {
		.name = name,
		.rid = 0x100,
		.alias = alias,
		.pasid_bits = pasid_bits,
		.flags = flags,
	};
	struct sio_device *dev = NULL;

	assert_int_equal(sio_device_probe(iommu, &desc, &dev), 0);
	assert_non_null(dev);
	return dev;
}

/* Remove and drop the probe reference. */
static inline void t_unprobe(struct sio_device *dev)
{
	sio_device_remove(dev);
	sio_device_put(dev);
}

static inline struct sio_group *t_group(struct sio_device *dev)
{
	struct sio_group *group = NULL;

	assert_int_equal(sio_device_group(dev, &group), 0);
	assert_non_null(group);
	return group;
}

static inline struct sio_domain *t_paging(struct sio_device *dev, uint32_t flags)
{
	struct sio_domain *d = NULL;

	assert_int_equal(sio_domain_alloc_paging(dev, flags, NULL, &d), 0);
	assert_non_null(d);
	assert_int_equal(sio_domain_type(d), SIO_DOMAIN_PAGING);
	return d;
}

/* Table memory of every page table of the process, to check it returns to
 * where it was once a test frees its domains. */
static inline uint64_t t_pt_bytes(void)
{
	struct sio_pt_mem_stats st;

	sio_pt_mem_stats(&st);
	return st.bytes;
}

/* A caller-owned attach handle embedded in the caller's own data. */
struct t_handle {
	unsigned int magic;
	struct sio_attach_handle handle;
	unsigned int cookie;
};

/* ------------------------------------------------------------------ */
/* tdrv: the test driver                                               */
/* ------------------------------------------------------------------ */

struct tdrv {
	enum sio_domain_type def_type;	/* default domain of new groups */
	struct sio_device *last_alloc_dev;	/* atomic */
	unsigned int paging_allocs;	/* atomic */
};

struct tdrv_domain {
	struct sio_pt_domain pt;	/* pt.domain is the core's */
	/* What the core asked of the domain. */
	unsigned int nmap;		/* map_pages calls */
	unsigned int nsync;
	uint64_t sync_start, sync_end;
	int fail_sync_map;		/* returned by iotlb_sync_map */
};

static inline struct tdrv_domain *tdrv_domain(struct sio_domain *d)
{
	return sio_container_of(sio_to_pt_domain(d), struct tdrv_domain, pt);
}

static inline int tdrv_attach_dev(struct sio_domain *d, struct sio_device *dev,
				  struct sio_domain *old)
{
	/* Attach ops run under the group mutex. */
	return sio_device_group_locked(dev) ? 0 : -EIO;
}

static inline int tdrv_set_dev_pasid(struct sio_domain *d,
				     struct sio_device *dev, sio_pasid_t pasid,
				     struct sio_domain *old)
{
	return 0;
}

static inline void tdrv_static_free(struct sio_domain *d)
{
	free(d);
}

static inline int tdrv_map_pages(struct sio_domain *d, uint64_t iova,
				 uint64_t pa, size_t pgsize, size_t count,
				 unsigned int prot, size_t *mapped)
{
	tdrv_domain(d)->nmap++;
	return sio_pt_domain_map_pages(d, iova, pa, pgsize, count, prot,
				       mapped);
}

static inline size_t tdrv_unmap_pages(struct sio_domain *d, uint64_t iova,
				      size_t pgsize, size_t count,
				      struct sio_iotlb_gather *gather)
{
	uint64_t start = gather->start, end = gather->end;
	size_t n = sio_pt_domain_unmap_pages(d, iova, pgsize, count, gather);

	/* Like a driver without flush callbacks, tdrv leaves the range to
	 * the core: only the freed table pages stay on the gather. */
	gather->start = start;
	gather->end = end;
	return n;
}

static inline void tdrv_iotlb_sync(struct sio_domain *d,
				   struct sio_iotlb_gather *gather)
{
	struct tdrv_domain *td = tdrv_domain(d);

	td->nsync++;
	td->sync_start = gather->start;
	td->sync_end = gather->end;
}

static inline int tdrv_iotlb_sync_map(struct sio_domain *d, uint64_t iova,
				      size_t size)
{
	return tdrv_domain(d)->fail_sync_map;
}

static inline void tdrv_paging_free(struct sio_domain *d)
{
	struct tdrv_domain *td = tdrv_domain(d);

	sio_pt_domain_deinit(&td->pt);
	free(td);
}

static inline const struct sio_domain_ops *tdrv_static_ops(void)
{
	static const struct sio_domain_ops ops = {
		.attach_dev = tdrv_attach_dev,
		.set_dev_pasid = tdrv_set_dev_pasid,
		.free = tdrv_static_free,
	};
	return &ops;
}

static inline const struct sio_domain_ops *tdrv_paging_ops(void)
{
	static const struct sio_domain_ops ops = {
		.attach_dev = tdrv_attach_dev,
		.set_dev_pasid = tdrv_set_dev_pasid,
		.map_pages = tdrv_map_pages,
		.unmap_pages = tdrv_unmap_pages,
		.lookup = sio_pt_domain_lookup,
		.iotlb_sync = tdrv_iotlb_sync,
		.iotlb_sync_map = tdrv_iotlb_sync_map,
		.free = tdrv_paging_free,
	};
	return &ops;
}

static inline int tdrv_probe_device(struct sio_iommu *iommu,
				    struct sio_device *dev)
{
	(void)iommu;
	/* desc.flags of a tdrv device is its PASID width. */
	if (sio_device_flags(dev))
		sio_device_set_max_pasids(dev, 1u << sio_device_flags(dev));
	return 0;
}

static inline int tdrv_alloc_paging(struct sio_device *dev, uint32_t flags,
				    const struct sio_user_data *ud,
				    struct sio_domain **out)
{
	struct tdrv *t = sio_iommu_priv(sio_device_iommu(dev));
	struct sio_pt_cfg cfg = { .format = SIO_PT_MOCK, .ias = 48, .oas = 51 };
	struct tdrv_domain *td;
	int rc;

	if (flags & ~(uint32_t)SIO_DOMAIN_ALLOC_PASID)
		return -EOPNOTSUPP;
	if (ud)
		return -EOPNOTSUPP;
	/* Allocation runs under the group mutex of the device it is for. */
	if (!sio_device_group_locked(dev))
		return -EIO;
	td = calloc(1, sizeof(*td));
	if (!td)
		return -ENOMEM;
	rc = sio_pt_domain_init(&td->pt, &cfg, tdrv_paging_ops());
	if (rc) {
		free(td);
		return rc;
	}
	__atomic_store_n(&t->last_alloc_dev, dev, __ATOMIC_RELAXED);
	__atomic_add_fetch(&t->paging_allocs, 1, __ATOMIC_RELAXED);
	*out = &td->pt.domain;
	return 0;
}

static inline int tdrv_alloc_identity(struct sio_iommu *iommu,
				      struct sio_domain **out)
{
	struct sio_domain *d = malloc(sizeof(*d));

	if (!d)
		return -ENOMEM;
	sio_domain_init(d, SIO_DOMAIN_IDENTITY, tdrv_static_ops());
	*out = d;
	return 0;
}

static inline enum sio_domain_type tdrv_def_domain_type(struct sio_device *dev)
{
	struct tdrv *t = sio_iommu_priv(sio_device_iommu(dev));

	return t->def_type;
}

static inline void tdrv_release(struct sio_iommu *iommu)
{
	free(sio_iommu_priv(iommu));
}

static inline const struct sio_iommu_ops *tdrv_ops(void)
{
	static const struct sio_iommu_ops ops = {
		.name = "tdrv",
		.probe_device = tdrv_probe_device,
		.device_group = sio_alias_device_group,
		.domain_alloc_paging = tdrv_alloc_paging,
		.domain_alloc_identity = tdrv_alloc_identity,
		.def_domain_type = tdrv_def_domain_type,
		.iommu_release = tdrv_release,
	};
	return &ops;
}

/* Register a tdrv instance whose groups start on def_type. */
static inline struct sio_iommu *t_tdrv(struct sio_system *sys, const char *name,
				       enum sio_domain_type def_type)
{
	struct sio_iommu_caps caps = {
		.pasid_bits = SIO_PASID_MAX_BITS,
		.features = SIO_FEAT_PASID,
		.default_domain_type = def_type,
	};
	struct sio_iommu *iommu = NULL;
	struct tdrv *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->def_type = def_type;
	assert_int_equal(sio_iommu_register(sys, name, tdrv_ops(), &caps, t,
					    &iommu), 0);
	assert_non_null(iommu);
	return iommu;
}

static inline struct tdrv *t_tdrv_state(struct sio_iommu *iommu)
{
	return sio_iommu_priv(iommu);
}

/* A tdrv device: alias groups devices, pasid_bits its PASID width. */
static inline struct sio_device *t_tdev(struct sio_iommu *iommu,
					const char *name, uint32_t alias,
					uint32_t pasid_bits)
{
	return t_probe(iommu, name, alias, 0, pasid_bits);
}

#endif
