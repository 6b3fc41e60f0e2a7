/*
 * Devices: what a device emulator probes onto an IOMMU.
 *
 * A device is described by a name, a requester ID, an optional DMA alias
 * (devices sharing an alias cannot be isolated from each other and share a
 * group), its PASID capability and driver-specific flags.  Probing asks the
 * driver to accept it and to place it in a group; the device then starts on
 * its group's default domain.  A device can be removed at any time, also
 * while attached: its DMA fails from then on with -ENODEV, its group's
 * attachments stay as they are for the group's other devices and for the
 * owner to detach (the RID through the group; PASIDs, which are detached
 * through a device, are dropped when the group loses its last device).
 * Devices are reference counted so that an emulator may keep a pointer
 * across removal.
 */
#ifndef SOFTIOMMU_DEVICE_H
#define SOFTIOMMU_DEVICE_H

#include "softiommu/common.h"
#include "softiommu/iommu.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sio_device_desc {
	const char *name;
	uint32_t rid;		/* requester ID (bus:dev.fn), informative */
	uint32_t alias;		/* non-zero: shares a group with same alias */
	uint32_t pasid_bits;	/* device's PASID capability; 0 = as the
				 * driver decides (the mock: its flags) */
	uint32_t flags;		/* driver-specific (e.g. SIO_MOCK_DEV_*) */
	void *priv;		/* the device model's own data */
};

/* Reserved IOVA regions a device reports (iommu_get_resv_regions()). */
enum sio_resv_type {
	SIO_RESV_DIRECT,	/* must be identity-mapped */
	SIO_RESV_DIRECT_RELAXABLE,
	SIO_RESV_RESERVED,	/* must not be mapped */
	SIO_RESV_MSI,		/* hardware MSI window */
	SIO_RESV_SW_MSI,	/* software-managed MSI window */
};

struct sio_resv_region {
	uint64_t start;
	uint64_t last;		/* inclusive */
	enum sio_resv_type type;
	unsigned int prot;
};

/* Probe a device onto an IOMMU; on success *out holds one reference. */
SIO_API int sio_device_probe(struct sio_iommu *iommu,
			     const struct sio_device_desc *desc,
			     struct sio_device **out);
/* Remove a probed device (also while attached).  Drops no reference: call
 * sio_device_put() for the one probe gave.  Idempotent. */
SIO_API void sio_device_remove(struct sio_device *dev);

SIO_API struct sio_device *sio_device_get(struct sio_device *dev);
SIO_API void sio_device_put(struct sio_device *dev);

SIO_API const char *sio_device_name(const struct sio_device *dev);
SIO_API uint32_t sio_device_rid(const struct sio_device *dev);
SIO_API uint32_t sio_device_flags(const struct sio_device *dev);
SIO_API void *sio_device_priv(const struct sio_device *dev);
SIO_API struct sio_iommu *sio_device_iommu(const struct sio_device *dev);
/* Number of PASIDs the device may use (0 = no PASID support). */
SIO_API uint32_t sio_device_max_pasids(const struct sio_device *dev);
SIO_API bool sio_device_is_removed(const struct sio_device *dev);
SIO_API bool sio_device_capable(struct sio_device *dev, enum sio_cap cap);

/* The device's group with a reference taken; -ENODEV once removed. */
SIO_API int sio_device_group(struct sio_device *dev, struct sio_group **out);

/* Reserved regions: added by the driver or the platform, read by users. */
SIO_API int sio_device_add_resv_region(struct sio_device *dev,
				       const struct sio_resv_region *region);
/* Calls fn for each region until it returns non-zero, which is returned. */
SIO_API int sio_device_for_each_resv_region(
	struct sio_device *dev,
	int (*fn)(const struct sio_resv_region *region, void *arg), void *arg);

/* Hardware information (iommufd GET_HW_INFO): *data is malloc()ed. */
SIO_API int sio_device_hw_info(struct sio_device *dev, uint32_t *type,
			       void **data, size_t *len);

/* The device's DMA as the data path saw it: translations made and
 * translations that failed (faults), counted per page-table leaf walked.
 * Statistics: concurrent DMAs of one device may lose a count. */
struct sio_device_stats {
	uint64_t translations, faults;
	/* Translations through a paging or nested domain that missed the
	 * data path's IOTLB and walked the table. */
	uint64_t iotlb_misses;
};
SIO_API void sio_device_stats(struct sio_device *dev,
			      struct sio_device_stats *out);

#ifdef __cplusplus
}
#endif
#endif
