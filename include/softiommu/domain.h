/*
 * Domains: what a device's RID or PASID is attached to.
 *
 * Types: blocked (no DMA), identity (DMA address is the host address),
 * paging (an I/O page table managed with map/unmap), SVA (a process address
 * space, from the SVA layer) and nested (a guest-owned stage 1 on a paging
 * parent made with SIO_DOMAIN_ALLOC_NEST_PARENT).  Domains are always
 * allocated through a device's IOMMU ops, never per bus; group-wide
 * allocation uses the group's first device under the group mutex, and fails
 * with -ENODEV when the group has lost all its devices.
 *
 * Map/unmap on paging domains follow iommu_map()/iommu_unmap(): iova, pa
 * and size aligned to the smallest page size (else -EINVAL); the range
 * inside the aperture when the domain forces one (else -EINVAL; the kernel's
 * iommu_map() leaves this to the page table); mapping over an existing mapping is
 * -EEXIST and leaves nothing of the new range mapped.  Unmap returns the
 * number of bytes unmapped, stopping at the first hole: unmapping nothing
 * returns 0.  Unmap returns only after the IOTLB is synced and no device
 * can reach the unmapped pages.
 */
#ifndef SOFTIOMMU_DOMAIN_H
#define SOFTIOMMU_DOMAIN_H

#include <sys/types.h>

#include "softiommu/iommu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Allocation flags: the values of iommufd's IOMMU_HWPT_ALLOC_*. */
enum sio_domain_alloc_flags {
	SIO_DOMAIN_ALLOC_NEST_PARENT = 1u << 0,
	SIO_DOMAIN_ALLOC_DIRTY_TRACKING = 1u << 1,
	SIO_DOMAIN_ALLOC_PASID = 1u << 3,
};

struct sio_domain_geometry {
	uint64_t aperture_start;
	uint64_t aperture_end;		/* inclusive */
	bool force_aperture;		/* DMA outside the aperture faults */
};

struct sio_user_data;

/* Receives one dirty leaf: the IOVA it starts at and its size. */
typedef void (*sio_dirty_record_fn)(void *arg, uint64_t iova, uint64_t len);

/* Allocate a paging domain for dev (user_data may be NULL). */
SIO_API int sio_domain_alloc_paging(struct sio_device *dev, uint32_t flags,
				    const struct sio_user_data *user_data,
				    struct sio_domain **out);
/* The same, for a whole group: uses its first device under its mutex. */
SIO_API int sio_group_domain_alloc_paging(struct sio_group *group,
					  uint32_t flags,
					  const struct sio_user_data *user_data,
					  struct sio_domain **out);
/* A nested domain on a NEST_PARENT paging parent of the same IOMMU. */
SIO_API int sio_domain_alloc_nested(struct sio_device *dev,
				    struct sio_domain *parent, uint32_t flags,
				    const struct sio_user_data *user_data,
				    struct sio_domain **out);
/* An SVA domain sharing the process address space mm (softiommu/mm.h) for
 * dev; -EOPNOTSUPP if the driver has no SVA.  The SVA layer calls it. */
struct sio_mm;
SIO_API int sio_domain_alloc_sva(struct sio_device *dev, struct sio_mm *mm,
				 struct sio_domain **out);
/* The IOMMU's static identity / blocked domain (-EOPNOTSUPP if none). */
SIO_API int sio_domain_get_identity(struct sio_device *dev,
				    struct sio_domain **out);
SIO_API int sio_domain_get_blocked(struct sio_device *dev,
				   struct sio_domain **out);

/* Free a domain; -EBUSY while attached anywhere. Static domains: no-op. */
SIO_API int sio_domain_free(struct sio_domain *domain);

SIO_API enum sio_domain_type sio_domain_type(const struct sio_domain *domain);
SIO_API const struct sio_domain_geometry *
sio_domain_geometry(const struct sio_domain *domain);
SIO_API uint64_t sio_domain_pgsize_bitmap(const struct sio_domain *domain);
SIO_API struct sio_iommu *sio_domain_iommu(const struct sio_domain *domain);
SIO_API unsigned int sio_domain_attach_count(const struct sio_domain *domain);
SIO_API const char *sio_domain_type_name(enum sio_domain_type type);

SIO_API int sio_map(struct sio_domain *domain, uint64_t iova, uint64_t pa,
		    size_t size, unsigned int prot);
/* Bytes unmapped (>= 0), or -EINVAL for a bad domain or unaligned range.
 * It waits only for DMA copies in flight on the domain, not for a grace
 * period.  Called from inside a DMA (a page-fault handler or a device
 * model's page response, which run inside the copy that raised the
 * request), it would wait for itself: -EDEADLK, nothing unmapped. */
SIO_API ssize_t sio_unmap(struct sio_domain *domain, uint64_t iova, size_t size);
/* The host address iova maps to, or 0 when unmapped (iommu_iova_to_phys). */
SIO_API uint64_t sio_iova_to_phys(struct sio_domain *domain, uint64_t iova);

/*
 * Dirty tracking (the kernel's iommu_dirty_ops as iommufd drives them).
 * Only paging domains allocated with SIO_DOMAIN_ALLOC_DIRTY_TRACKING have
 * it (-EOPNOTSUPP otherwise).  While it is on, every device write through
 * the domain marks the leaf it went through dirty in the page table (the
 * format's dirty bit: AMD/x86 D, Arm DBM, RISC-V D...).  Turning it on
 * first clears every dirty bit, so the first read is a clean snapshot.
 * A read reports each dirty leaf that intersects [iova, iova + size)
 * whole (its start and size, which may extend beyond the range) and clears
 * it unless SIO_DIRTY_NO_CLEAR; the IOTLB is flushed after clearing.
 */
#define SIO_DIRTY_NO_CLEAR (1u << 0)
SIO_API bool sio_domain_can_track_dirty(const struct sio_domain *domain);
SIO_API int sio_domain_set_dirty_tracking(struct sio_domain *domain,
					  bool enable);
SIO_API bool sio_domain_dirty_tracking(const struct sio_domain *domain);
SIO_API int sio_domain_read_and_clear_dirty(struct sio_domain *domain,
					    uint64_t iova, uint64_t size,
					    unsigned int flags,
					    sio_dirty_record_fn record,
					    void *arg);

/* Nested domains: invalidate the guest stage 1's caches with driver-defined
 * entries (iommufd's HWPT_INVALIDATE); array->entry_num comes back as the
 * number of entries handled.  -EOPNOTSUPP if the driver has none. */
struct sio_user_data_array;
SIO_API int sio_domain_cache_invalidate_user(struct sio_domain *domain,
					     struct sio_user_data_array *array);

#ifdef __cplusplus
}
#endif
#endif
