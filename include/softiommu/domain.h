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
/* An SVA domain sharing the address space mm (the SVA layer's object,
 * opaque here) for dev; -EOPNOTSUPP if the driver has no SVA. */
SIO_API int sio_domain_alloc_sva(struct sio_device *dev, void *mm,
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
/* Bytes unmapped (>= 0), or -EINVAL for a bad domain or unaligned range. */
SIO_API ssize_t sio_unmap(struct sio_domain *domain, uint64_t iova, size_t size);
/* The host address iova maps to, or 0 when unmapped (iommu_iova_to_phys). */
SIO_API uint64_t sio_iova_to_phys(struct sio_domain *domain, uint64_t iova);

#ifdef __cplusplus
}
#endif
#endif
