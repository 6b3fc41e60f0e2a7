/*
 * The system and its IOMMU instances.
 *
 * A struct sio_system is one emulated machine: it owns the IOMMU instances
 * registered on it (and, with later layers, the system PASID space and the
 * process address spaces).  There is no global state: every object reaches
 * its system through its IOMMU.  Drivers register instances (see driver.h);
 * users create them through a driver's constructor such as
 * sio_mock_iommu_create() and query their capabilities here.
 */
#ifndef SOFTIOMMU_IOMMU_H
#define SOFTIOMMU_IOMMU_H

#include "softiommu/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The capabilities a device's IOMMU can be asked about (iommu_capable()). */
enum sio_cap {
	SIO_CAP_CACHE_COHERENCY,
	SIO_CAP_NOEXEC,
	SIO_CAP_PRE_BOOT_PROTECTION,
	SIO_CAP_ENFORCE_CACHE_COHERENCY,
	SIO_CAP_DEFERRED_FLUSH,
	SIO_CAP_DIRTY_TRACKING,
};

/* Feature bits of an IOMMU instance. */
enum sio_iommu_feature {
	SIO_FEAT_PASID = 1u << 0,	/* PASID-tagged DMA */
	SIO_FEAT_SVA = 1u << 1,		/* shared virtual addressing */
	SIO_FEAT_IOPF = 1u << 2,	/* recoverable I/O page faults */
	SIO_FEAT_NESTING = 1u << 3,	/* two-stage translation */
	SIO_FEAT_DIRTY = 1u << 4,	/* dirty tracking */
	/* The guest owns the PASID table of a nested domain on the RID, so
	 * page requests with a PASID nothing is attached to go to the RID's
	 * nested domain (the kernel's user_pasid_table). */
	SIO_FEAT_USER_PASID_TABLE = 1u << 5,
};

enum sio_domain_type {
	SIO_DOMAIN_BLOCKED = 1,		/* all DMA is refused */
	SIO_DOMAIN_IDENTITY,		/* DMA address == host address */
	SIO_DOMAIN_PAGING,		/* translated through an I/O page table */
	SIO_DOMAIN_SVA,			/* shares a process address space */
	SIO_DOMAIN_NESTED,		/* stage 1 owned by a guest, on a parent */
};

struct sio_iommu_caps {
	uint64_t pgsize_bitmap;		/* page sizes of its paging domains */
	uint32_t pasid_bits;		/* PASID width it supports, 0..20 */
	uint32_t features;		/* SIO_FEAT_* */
	enum sio_domain_type default_domain_type;	/* 0 = BLOCKED */
};

SIO_API int sio_system_create(struct sio_system **out);
/* Unregisters every instance; devices must have been removed and groups
 * put. -EBUSY if not. */
SIO_API int sio_system_destroy(struct sio_system *sys);
/* The system's PASID space (softiommu/pasid.h): 20 bits, PASID 0 reserved;
 * SVA takes its PASIDs from it.  The system holds a reference. */
struct sio_pasid_space;
SIO_API struct sio_pasid_space *sio_system_pasid_space(struct sio_system *sys);

SIO_API const char *sio_iommu_name(const struct sio_iommu *iommu);
SIO_API const struct sio_iommu_caps *sio_iommu_caps(const struct sio_iommu *iommu);
SIO_API struct sio_system *sio_iommu_system(const struct sio_iommu *iommu);
/* Unregister an instance: -EBUSY while devices are probed onto it or a
 * group of it is still referenced. */
SIO_API int sio_iommu_unregister(struct sio_iommu *iommu);

/* Look an instance up by name; NULL if none.  Iterate with a callback that
 * returns non-zero to stop. */
SIO_API struct sio_iommu *sio_iommu_find(struct sio_system *sys, const char *name);
SIO_API int sio_iommu_for_each(struct sio_system *sys,
			       int (*fn)(struct sio_iommu *iommu, void *arg),
			       void *arg);

/* What happened on an IOMMU's domains: successful sio_map() calls and
 * sio_unmap() calls that removed something (counters since it was
 * registered). */
struct sio_iommu_stats {
	uint64_t maps, unmaps;
};
SIO_API void sio_iommu_stats(struct sio_iommu *iommu,
			     struct sio_iommu_stats *out);

#ifdef __cplusplus
}
#endif
#endif
