/*
 * VFIO: emulated PCI functions as a userspace driver sees them.
 *
 * A struct sio_vfio is the VFIO subsystem of one iommufd host: the PCI
 * functions (softiommu/pci.h) added to it become VFIO devices with the
 * Linux 7.3 uAPI (softiommu/uapi/vfio.h, byte-compatible with
 * <linux/vfio.h>):
 *  - the container, /dev/vfio/vfio, which is an iommufd answering the type1
 *    ioctls (the kernel's CONFIG_IOMMUFD_VFIO_CONTAINER);
 *  - one group per IOMMU group, /dev/vfio/<group>, numbered as the kernel
 *    numbers iommu_groups (0, 1, ...);
 *  - one device cdev per function, /dev/vfio/devices/vfio<N>, bound to an
 *    iommufd with VFIO_DEVICE_BIND_IOMMUFD;
 *  - the device fd (from the group or the cdev): regions (BARs, ROM,
 *    config space) by pread/pwrite and mmap (BARs trap to the model:
 *    softiommu/mmio.h), interrupts by eventfds, reset.
 * Each open returns a descriptor of an emulated file (softiommu/file.h)
 * that the shim routes, or a negative errno.
 */
#ifndef SOFTIOMMU_VFIO_H
#define SOFTIOMMU_VFIO_H

#include "softiommu/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sio_vfio;
struct sio_pci_dev;
struct sio_iommufd_host;

SIO_API int sio_vfio_create(struct sio_iommufd_host *host,
			    struct sio_vfio **out);
/* Closes nothing: descriptors still open keep their objects alive. */
SIO_API void sio_vfio_destroy(struct sio_vfio *vfio);

/* Make pdev a VFIO device (bound to vfio-pci, in the kernel's words); it
 * takes a reference. */
SIO_API int sio_vfio_add_device(struct sio_vfio *vfio,
				struct sio_pci_dev *pdev);

/* What the host namespace shows of each device (sysfs, /dev/vfio).  (Not
 * named sio_vfio_device_info: that is the uAPI's struct vfio_device_info,
 * softiommu/uapi/vfio.h.) */
struct sio_vfio_device_entry {
	struct sio_pci_dev *pdev;
	unsigned int group;		/* /dev/vfio/<group>, iommu_groups/<group> */
	unsigned int cdev;		/* /dev/vfio/devices/vfio<cdev> */
};
/* Calls fn for each device in the order added, until it returns
 * non-zero, which is returned. */
SIO_API int sio_vfio_for_each_device(
	struct sio_vfio *vfio,
	int (*fn)(const struct sio_vfio_device_entry *info, void *arg),
	void *arg);

/* The opens: flags are open(2)'s (O_CLOEXEC, O_NONBLOCK honoured).
 * -ENOENT for a group or cdev number that does not exist. */
SIO_API int sio_vfio_open_container(struct sio_vfio *vfio, int flags);
SIO_API int sio_vfio_open_group(struct sio_vfio *vfio, unsigned int group,
				int flags);
SIO_API int sio_vfio_open_cdev(struct sio_vfio *vfio, unsigned int cdev,
			       int flags);

#ifdef __cplusplus
}
#endif
#endif
