/*
 * Attaching domains to a group's RID and to a device's PASIDs.
 *
 * Attach handles are caller-owned: the caller embeds a struct
 * sio_attach_handle in its own structure, passes it to an attach or replace,
 * and gets back to its data from the handle (sio_container_of) when the
 * fault path finds it by (device, PASID).  The core stores the handle per
 * (group, PASID) and never frees it; it has no reference count.  When a
 * detach or replace returns, no fault-path user of the old handle remains,
 * so the caller may free it.  Each attach or replace needs a fresh handle
 * (reusing the one attached now is -EINVAL), as in the kernel.
 *
 * RID (SIO_NO_PASID) and PASID attachments are independent: detaching or
 * replacing one never touches the other.  A replace that fails leaves the
 * old domain attached and the old handle in place.
 */
#ifndef SOFTIOMMU_ATTACH_H
#define SOFTIOMMU_ATTACH_H

#include "softiommu/domain.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sio_attach_handle {
	struct sio_domain *domain;	/* set by the core while attached */
};

/* RID: attach when on the default/blocking domain (-EBUSY otherwise), or a
 * domain of another IOMMU (-EINVAL).  handle may be NULL. */
SIO_API int sio_attach_group(struct sio_domain *domain, struct sio_group *group,
			     struct sio_attach_handle *handle);
/* Replace the RID domain without passing through blocking. */
SIO_API int sio_replace_group(struct sio_group *group, struct sio_domain *domain,
			      struct sio_attach_handle *handle);
/* Back to the default domain (blocking if the group is user-owned). */
SIO_API void sio_detach_group(struct sio_group *group);

/* Single-device conveniences (iommu_attach_device): the group must hold only
 * dev (-EINVAL otherwise). */
SIO_API int sio_attach_device(struct sio_domain *domain, struct sio_device *dev);
SIO_API void sio_detach_device(struct sio_device *dev);

/*
 * PASIDs (iommu_attach_device_pasid and friends):
 *  attach: -EOPNOTSUPP when the domain or the blocked domain cannot do
 *  PASIDs, -EINVAL for SIO_NO_PASID, a foreign domain or a PASID beyond a
 *  group device's max_pasids, -EBUSY if the PASID is attached already;
 *  replace: -EINVAL if nothing is attached there or handle is NULL or the
 *  current one; detach: removes it on every device of the group.
 */
SIO_API int sio_attach_device_pasid(struct sio_domain *domain,
				    struct sio_device *dev, sio_pasid_t pasid,
				    struct sio_attach_handle *handle);
SIO_API int sio_replace_device_pasid(struct sio_domain *domain,
				     struct sio_device *dev, sio_pasid_t pasid,
				     struct sio_attach_handle *handle);
SIO_API void sio_detach_device_pasid(struct sio_domain *domain,
				     struct sio_device *dev, sio_pasid_t pasid);

/*
 * The handle attached at (group, pasid): -ENOENT if none (or attached
 * without a handle), -EBUSY if type is non-zero and the domain is of another
 * type.  The caller synchronizes with attach/detach (as in the kernel).
 */
SIO_API int sio_attach_handle_get(struct sio_group *group, sio_pasid_t pasid,
				  enum sio_domain_type type,
				  struct sio_attach_handle **out);
/* The same found from a device, for the fault path. */
SIO_API int sio_device_attach_handle_get(struct sio_device *dev,
					 sio_pasid_t pasid,
					 enum sio_domain_type type,
					 struct sio_attach_handle **out);
/* The domain at (dev, pasid) or NULL (RID: the group's domain). */
SIO_API struct sio_domain *sio_device_pasid_domain(struct sio_device *dev,
						   sio_pasid_t pasid);

#ifdef __cplusplus
}
#endif
#endif
