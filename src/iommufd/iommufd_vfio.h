/*
 * What the VFIO layer uses of iommufd (the kernel's include/linux/iommufd.h
 * for drivers/vfio): a narrow interface, so that src/vfio/ never sees the
 * context's or the objects' insides.
 *
 * A VFIO device fd binds its device to a context (iommufd_device_bind, the
 * device then being an ordinary device object of that context, with the ID
 * bind returns), attaches its RID or a PASID to an IOAS or HWPT by ID, and
 * unbinds when the fd goes.  A VFIO group on an iommufd container uses the
 * context's compat IOAS (vfio_compat.c).  Contexts are found from a
 * program's descriptor and are held by reference, as the kernel holds the
 * iommufd file.
 *
 * iommufd_private.h includes this file, so the definitions are checked
 * against these declarations.
 */
#ifndef SIO_IOMMUFD_VFIO_H
#define SIO_IOMMUFD_VFIO_H

#include <stdint.h>

#include "softiommu/common.h"

struct sio_iommufd;
struct sio_iommufd_host;
struct sio_umem_owner;
struct iommufd_device;

/* The context behind an iommufd descriptor (/dev/iommu, or /dev/vfio/vfio
 * which is one), with a reference taken, or NULL when fd is not one. */
struct sio_iommufd *iommufd_ctx_from_fd(int fd);
void iommufd_ctx_get(struct sio_iommufd *ictx);
void iommufd_ctx_put(struct sio_iommufd *ictx);
/* The host a context was opened on. */
struct sio_iommufd_host *iommufd_ctx_host(struct sio_iommufd *ictx);
/* The host's owner of user memory: how VFIO copies ioctl arguments. */
struct sio_umem_owner *iommufd_host_owner(struct sio_iommufd_host *host);
/* Replace the host's owner of user memory (the shared mode's server gives
 * its dispatch owner, src/umem/remote.h) before any context is opened;
 * takes over the caller's reference. */
void iommufd_host_set_owner(struct sio_iommufd_host *host,
			    struct sio_umem_owner *owner);

/*
 * A device of the context.  Bind claims DMA ownership of dev for ictx and
 * publishes a device object (*id): -EINVAL without cache coherency,
 * -EBUSY when another owner has its group.  Unbind detaches nothing: the
 * caller detaches what it attached first (iommufd_device_detach_all).
 * Attach and replace take an IOAS or HWPT ID in *pt_id and return the HWPT
 * used there; SIO_NO_PASID is the RID.
 */
struct iommufd_device *iommufd_device_bind(struct sio_iommufd *ictx,
					   struct sio_device *dev,
					   uint32_t *id, int *err);
void iommufd_device_unbind(struct iommufd_device *idev);
int iommufd_device_attach(struct iommufd_device *idev, sio_pasid_t pasid,
			  uint32_t *pt_id);
int iommufd_device_replace(struct iommufd_device *idev, sio_pasid_t pasid,
			   uint32_t *pt_id);
void iommufd_device_detach(struct iommufd_device *idev, sio_pasid_t pasid);
void iommufd_device_detach_all(struct iommufd_device *idev);

/* The compat IOAS (the one the VFIO container ioctls act on): its ID
 * (-ENODEV if none); make one if none (-EINVAL in no-IOMMU mode); enter
 * no-IOMMU mode (-EINVAL once a compat IOAS is set). */
int iommufd_vfio_compat_ioas_get_id(struct sio_iommufd *ictx,
				    uint32_t *out_ioas_id);
int iommufd_vfio_compat_ioas_create(struct sio_iommufd *ictx);
int iommufd_vfio_compat_set_no_iommu(struct sio_iommufd *ictx);

#endif
