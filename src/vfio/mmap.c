/*
 * BAR mmap of a VFIO device fd (the kernel's vfio_pci_core_mmap), through
 * MMIO traps (softiommu/mmio.h).
 *
 * A memory BAR is mmappable (GET_REGION_INFO's MMAP flag), also one
 * smaller than a page, which the kernel maps as a whole page when the BAR
 * starts a page; I/O BARs, the ROM, config space and VGA are not.  The
 * mapping is pages that trap every load and store to the function's
 * registers (sio_pci_bar_read/write), the MSI-X table and PBA included
 * (hence the MSIX_MAPPABLE capability).  The kernel's checks, in its
 * order, all EINVAL: an index past the regions, a mapping that is not
 * MAP_SHARED, the ROM or beyond, a BAR that cannot be mapped, a range past
 * the BAR's page-rounded end.  The program's PROT_WRITE-less mapping
 * drops stores, a PROT_READ-less one reads all ones; with memory decode
 * off the kernel's mapping faults (SIGBUS): here loads read all ones and
 * stores are dropped.  Bytes of the last page past a small BAR read all
 * ones, as nothing decodes them.
 *
 * The file layer follows each mapping (the munmap op): when the program
 * has unmapped all of it, its trap region is unregistered and freed.
 */
#include <linux/pci_regs.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "softiommu/mmio.h"
#include "vfio/vfio_private.h"
#include "util/fail.h"

struct vfio_bar_map {
	struct vfio_bar_map *next;	/* vdev->maps, under mmap_lock */
	struct vfio_device *vdev;
	struct sio_mmio_region *region;
	void *addr;
	int bar;
	int prot;
	uint64_t base;			/* BAR offset of the first page */
	uint64_t bar_size;
	bool mem;			/* a memory BAR: decode matters */
};

bool vfio_pci_bar_mmappable(struct vfio_device *vdev, unsigned int index)
{
	const struct sio_pci_dev_desc *d = sio_pci_dev_desc(vdev->pdev);

	return index < SIO_PCI_NUM_BARS && d->bars[index].size &&
	       !(d->bars[index].flags & SIO_PCI_BAR_IO);
}

/* Runs in the trap handler: no allocation, no fault. */
static bool decode_on(struct vfio_bar_map *m)
{
	uint32_t cmd = 0;

	if (!m->mem)
		return true;
	sio_pci_config_read(m->vdev->pdev, PCI_COMMAND, 2, &cmd);
	return cmd & PCI_COMMAND_MEMORY;
}

static uint64_t map_read(void *opaque, uint64_t off, unsigned int size)
{
	struct vfio_bar_map *m = opaque;
	uint64_t v = ~0ull;

	off += m->base;
	if ((m->prot & PROT_READ) && off + size <= m->bar_size &&
	    decode_on(m) &&
	    sio_pci_bar_read(m->vdev->pdev, m->bar, off, size, &v))
		v = ~0ull;
	if (size < 8)
		v &= (1ull << (8 * size)) - 1;
	return v;
}

static void map_write(void *opaque, uint64_t off, unsigned int size,
		      uint64_t val)
{
	struct vfio_bar_map *m = opaque;

	off += m->base;
	if ((m->prot & PROT_WRITE) && off + size <= m->bar_size &&
	    decode_on(m))
		sio_pci_bar_write(m->vdev->pdev, m->bar, off, size, val);
}

static const struct sio_mmio_ops map_ops = {
	.read = map_read,
	.write = map_write,
};

int vfio_pci_mmap(struct vfio_device *vdev, void **addr, size_t len,
		  int prot, int flags, off_t off)
{
	const struct sio_pci_dev_desc *d = sio_pci_dev_desc(vdev->pdev);
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t index = VFIO_PCI_OFFSET_TO_INDEX(off);
	uint64_t start = (uint64_t)off & VFIO_PCI_OFFSET_MASK;
	uint64_t plen, phys_len;
	struct vfio_bar_map *m;
	int rc;

	if (off < 0 || ((uint64_t)off & (page - 1)) || !len)
		return -EINVAL;
	if (index >= SIO_VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	if ((flags & MAP_TYPE) != MAP_SHARED &&
	    (flags & MAP_TYPE) != MAP_SHARED_VALIDATE)
		return sio_err(-EINVAL, "vfio: %s: mmap must be MAP_SHARED",
			       vdev->name);
	if (index >= SIO_VFIO_PCI_ROM_REGION_INDEX ||
	    !vfio_pci_bar_mmappable(vdev, (unsigned int)index))
		return sio_err(-EINVAL, "vfio: %s: region %u cannot be mmapped",
			       vdev->name, (unsigned int)index);
	plen = (len + page - 1) & ~(page - 1);
	phys_len = (d->bars[index].size + page - 1) & ~(page - 1);
	if (start > phys_len || plen > phys_len - start)
		return sio_err(-EINVAL, "vfio: %s: mmap past BAR%u", vdev->name,
			       (unsigned int)index);

	m = sio_calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->vdev = vdev;
	m->bar = (int)index;
	m->prot = prot;
	m->base = start;
	m->bar_size = d->bars[index].size;
	m->mem = true;
	rc = sio_mmio_map(addr, plen, flags & (MAP_FIXED | MAP_FIXED_NOREPLACE),
			  &map_ops, m, &m->region);
	if (rc) {
		free(m);
		return rc;
	}
	m->addr = *addr;
	pthread_mutex_lock(&vdev->mmap_lock);
	m->next = vdev->maps;
	vdev->maps = m;
	pthread_mutex_unlock(&vdev->mmap_lock);
	return 0;
}

void vfio_pci_munmap(struct vfio_device *vdev, void *addr, size_t len,
		     off_t off)
{
	struct vfio_bar_map **pp, *m = NULL;

	(void)len;
	(void)off;
	pthread_mutex_lock(&vdev->mmap_lock);
	for (pp = &vdev->maps; *pp; pp = &(*pp)->next) {
		if ((*pp)->addr == addr) {
			m = *pp;
			*pp = m->next;
			break;
		}
	}
	pthread_mutex_unlock(&vdev->mmap_lock);
	if (!m)
		return;
	sio_mmio_unregister(m->region);
	free(m);
}
