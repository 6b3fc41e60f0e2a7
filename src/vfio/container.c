/*
 * The VFIO container, /dev/vfio/vfio.
 *
 * In a kernel built with CONFIG_IOMMUFD_VFIO_CONTAINER (and without the
 * legacy container), /dev/vfio/vfio is a second name of /dev/iommu: each
 * open is an iommufd context, which answers the container ioctls
 * (GET_API_VERSION, CHECK_EXTENSION, SET_IOMMU and type1's GET_INFO,
 * MAP_DMA, UNMAP_DMA) on its compat IOAS (src/iommufd/vfio_compat.c) and
 * every iommufd ioctl besides.  A group joins it with
 * VFIO_GROUP_SET_CONTAINER (group.c), which makes the compat IOAS; so the
 * type1 order of the selftests and of QEMU works: open the container, set
 * the group's container, then SET_IOMMU, then MAP_DMA.
 */
#include "softiommu/iommufd.h"
#include "vfio/vfio_private.h"

SIO_API int sio_vfio_open_container(struct sio_vfio *vfio, int flags)
{
	sio_err_clear();
	if (!vfio)
		return sio_err(-EINVAL, "vfio: open_container: NULL vfio");
	return sio_iommufd_open_fd(vfio->host, flags);
}
