/*
 * BAR mmap of a VFIO device fd (the kernel's vfio_pci_core_mmap).
 *
 * Mapping a BAR needs pages whose every load and store reaches the
 * function (softiommu/mmio.h), which this build does not have yet: no
 * region is offered for mmap (GET_REGION_INFO sets no MMAP flag), and
 * mmap of any region is EINVAL, as the kernel answers for a BAR it cannot
 * map.  Programs reach the BARs by pread/pwrite meanwhile.
 */
#include "vfio/vfio_private.h"

struct vfio_bar_map {
	struct vfio_bar_map *next;
};

bool vfio_pci_bar_mmappable(struct vfio_device *vdev, unsigned int index)
{
	(void)vdev;
	(void)index;
	return false;
}

int vfio_pci_mmap(struct vfio_device *vdev, void **addr, size_t len,
		  int prot, int flags, off_t off)
{
	(void)addr;
	(void)len;
	(void)prot;
	(void)flags;
	(void)off;
	return sio_err(-EINVAL, "vfio: %s: no region can be mmapped",
		       vdev->name);
}

void vfio_pci_munmap(struct vfio_device *vdev, void *addr, size_t len,
		     off_t off)
{
	(void)vdev;
	(void)addr;
	(void)len;
	(void)off;
}
