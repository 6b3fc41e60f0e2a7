/*
 * Regions by read/write and pread/pwrite (the kernel's vfio_pci_rw,
 * vfio_pci_rdwr.c and the user-visible part of vfio_pci_config.c).
 *
 * The region is the offset's top bits (index << 40); its bytes follow.
 *  - BARs: [off, off + count) is clipped to the BAR (an offset at or past
 *    its end is EINVAL, an absent BAR EINVAL) and cut into naturally
 *    aligned accesses of 8, 4, 2 or 1 bytes to the function
 *    (sio_pci_bar_read/write).  The MSI-X table is excluded, as in the
 *    kernel: reads there give 0xff bytes, writes are dropped (it is
 *    reached by mmap).  A memory BAR with memory decode off in the
 *    command register is EIO.
 *  - Config space: an access outside it is EFAULT (the kernel's errno);
 *    aligned pieces of 4, 2 or 1 bytes go to sio_pci_config_read/write,
 *    whose write masks do what the kernel's permission tables do for the
 *    header (read-only IDs, BAR sizing, ...).  On top, what VFIO keeps for
 *    itself: the MSI-X capability is read-only (VFIO_DEVICE_SET_IRQS
 *    enables MSI-X), the MSI enable bit follows SET_IRQS (a program's
 *    write of it is ignored), the PCI Express Function Level Reset bit
 *    resets the function as VFIO_DEVICE_RESET does (config saved and
 *    restored); the rest of the PCI Express capability and the extended
 *    capabilities are read-only.
 *  - ROM: none; a write EINVAL.  VGA: EINVAL.  Index >= 9: EINVAL.
 * The program's buffer is reached through fault-safe copies, a bounce
 * buffer at a time (EFAULT).
 */
#include <linux/pci_regs.h>
#include <stdlib.h>
#include <string.h>

#include "vfio/vfio_private.h"

#define BOUNCE 4096

/* ------------------------------------------------------------------ */
/* Config space                                                         */
/* ------------------------------------------------------------------ */

static bool overlaps(uint32_t off, unsigned int size, uint32_t start,
		     uint32_t len)
{
	return off < start + len && start < off + size;
}

/* Replace the bytes of [field, field + 2) inside a write of size bytes at
 * off with keep's. */
static uint32_t keep_word(uint32_t off, unsigned int size, uint32_t val,
			  uint32_t field, uint16_t keep, uint16_t mask)
{
	for (unsigned int i = 0; i < size; i++) {
		uint32_t at = off + i;
		uint32_t sh = 8 * i;
		uint8_t m, k;

		if (at < field || at >= field + 2)
			continue;
		m = (uint8_t)(mask >> (8 * (at - field)));
		k = (uint8_t)(keep >> (8 * (at - field)));
		val = (val & ~((uint32_t)m << sh)) | ((uint32_t)(k & m) << sh);
	}
	return val;
}

static uint16_t field_of(uint32_t off, unsigned int size, uint32_t val,
			 uint32_t field)
{
	uint16_t r = 0;

	for (unsigned int i = 0; i < size; i++) {
		uint32_t at = off + i;

		if (at >= field && at < field + 2)
			r |= (uint16_t)(((val >> (8 * i)) & 0xff)
					<< (8 * (at - field)));
	}
	return r;
}

/*
 * Whether the program may write config byte at (the kernel's permission
 * tables, where they differ from the function's own write masks): not the
 * MSI-X capability, of the PCI Express capability only Device Control and
 * Device Control 2, not the extended capabilities.
 */
static bool user_writable(struct vfio_device *vdev, uint32_t at)
{
	if (vdev->msix_cap && overlaps(at, 1, vdev->msix_cap,
				       PCI_CAP_MSIX_SIZEOF))
		return false;
	if (vdev->pcie_cap && overlaps(at, 1, vdev->pcie_cap,
				       PCI_CAP_EXP_ENDPOINT_SIZEOF_V2))
		return overlaps(at, 1, vdev->pcie_cap + PCI_EXP_DEVCTL, 2) ||
		       overlaps(at, 1, vdev->pcie_cap + PCI_EXP_DEVCTL2, 2);
	for (unsigned int i = 0; i < vdev->necaps; i++)
		if (at >= vdev->ecaps[i].start && at < vdev->ecaps[i].end)
			return false;
	return true;
}

/* One piece of a config write, under igate. */
static void config_write_locked(struct vfio_device *vdev, uint32_t off,
				unsigned int size, uint32_t val)
{
	unsigned int writable = 0;
	bool flr = false;

	if (vdev->msi_cap &&
	    overlaps(off, size, vdev->msi_cap + PCI_MSI_FLAGS, 2)) {
		uint16_t en = vdev->irq_type == SIO_VFIO_PCI_MSI_IRQ_INDEX ?
			      PCI_MSI_FLAGS_ENABLE : 0;

		val = keep_word(off, size, val, vdev->msi_cap + PCI_MSI_FLAGS,
				en, PCI_MSI_FLAGS_ENABLE);
	}
	if (vdev->pcie_cap &&
	    overlaps(off, size, vdev->pcie_cap + PCI_EXP_DEVCTL, 2)) {
		uint32_t devctl = vdev->pcie_cap + PCI_EXP_DEVCTL;
		uint32_t cap = 0;

		flr = field_of(off, size, val, devctl) & PCI_EXP_DEVCTL_BCR_FLR;
		val = keep_word(off, size, val, devctl, 0,
				PCI_EXP_DEVCTL_BCR_FLR);
		sio_pci_config_read(vdev->pdev, vdev->pcie_cap + PCI_EXP_DEVCAP,
				    4, &cap);
		flr = flr && (cap & PCI_EXP_DEVCAP_FLR);
	}
	for (unsigned int i = 0; i < size; i++)
		writable += user_writable(vdev, off + i);
	if (writable == size) {
		sio_pci_config_write(vdev->pdev, off, size, val);
	} else {
		/* Only the program's bytes are written. */
		for (unsigned int i = 0; i < size; i++)
			if (user_writable(vdev, off + i))
				sio_pci_config_write(vdev->pdev, off + i, 1,
						     (val >> (8 * i)) & 0xff);
	}
	if (flr)
		vfio_pci_reset_locked(vdev);
}

static ssize_t config_rw(struct vfio_device *vdev, uint64_t ubuf,
			 size_t count, uint64_t pos, bool iswrite)
{
	uint8_t bounce[BOUNCE];
	size_t done = 0;

	pos &= VFIO_PCI_OFFSET_MASK;
	if (pos >= vdev->cfg_size || count > vdev->cfg_size - pos)
		return -EFAULT;
	if (iswrite)
		pthread_mutex_lock(&vdev->igate);
	while (done < count) {
		size_t n = count - done < BOUNCE ? count - done : BOUNCE;

		if (iswrite && vfio_copy_from_user(vdev, bounce, ubuf + done, n)) {
			pthread_mutex_unlock(&vdev->igate);
			return -EFAULT;
		}
		for (size_t i = 0; i < n;) {
			uint32_t off = (uint32_t)(pos + done + i), v = 0;
			unsigned int sz;

			if (n - i >= 4 && !(off % 4))
				sz = 4;
			else if (n - i >= 2 && !(off % 2))
				sz = 2;
			else
				sz = 1;
			if (iswrite) {
				memcpy(&v, bounce + i, sz);
				config_write_locked(vdev, off, sz, v);
			} else {
				sio_pci_config_read(vdev->pdev, off, sz, &v);
				memcpy(bounce + i, &v, sz);
			}
			i += sz;
		}
		if (!iswrite && vfio_copy_to_user(vdev, ubuf + done, bounce, n))
			return -EFAULT;
		done += n;
	}
	if (iswrite)
		pthread_mutex_unlock(&vdev->igate);
	return (ssize_t)done;
}

/* ------------------------------------------------------------------ */
/* BARs                                                                 */
/* ------------------------------------------------------------------ */

static bool memory_enabled(struct vfio_device *vdev)
{
	uint32_t cmd = 0;

	sio_pci_config_read(vdev->pdev, PCI_COMMAND, 2, &cmd);
	return cmd & PCI_COMMAND_MEMORY;
}

static ssize_t bar_rw(struct vfio_device *vdev, unsigned int bar,
		      uint64_t ubuf, size_t count, uint64_t pos, bool iswrite)
{
	const struct sio_pci_dev_desc *d = sio_pci_dev_desc(vdev->pdev);
	uint64_t end = d->bars[bar].size, x_start = 0, x_end = 0;
	bool mem = !(d->bars[bar].flags & SIO_PCI_BAR_IO);
	uint8_t bounce[BOUNCE];
	size_t done = 0;

	pos &= VFIO_PCI_OFFSET_MASK;
	if (!end || pos >= end)
		return -EINVAL;
	if (count > end - pos)
		count = end - pos;
	if (d->msix_vectors && (int)bar == d->msix_bar) {
		x_start = d->msix_table_offset;
		x_end = x_start + 16ull * d->msix_vectors;
	}
	while (done < count) {
		size_t n = count - done < BOUNCE ? count - done : BOUNCE;

		if (iswrite && vfio_copy_from_user(vdev, bounce, ubuf + done, n))
			return -EFAULT;
		for (size_t i = 0; i < n;) {
			uint64_t off = pos + done + i, v = 0;
			size_t fill;
			unsigned int sz;

			if (off < x_start)
				fill = x_start - off < n - i ? x_start - off : n - i;
			else if (off >= x_end)
				fill = n - i;
			else
				fill = 0;
			if (!fill) {
				/* Inside the MSI-X table: reads are 0xff. */
				sz = x_end - off < n - i ? x_end - off : n - i;
				if (!iswrite)
					memset(bounce + i, 0xff, sz);
				i += sz;
				continue;
			}
			if (mem && !memory_enabled(vdev))
				return sio_err(-EIO, "vfio: %s: memory decode is off",
					       vdev->name);
			if (fill >= 8 && !(off % 8))
				sz = 8;
			else if (fill >= 4 && !(off % 4))
				sz = 4;
			else if (fill >= 2 && !(off % 2))
				sz = 2;
			else
				sz = 1;
			if (iswrite) {
				memcpy(&v, bounce + i, sz);
				sio_pci_bar_write(vdev->pdev, (int)bar, off, sz, v);
			} else {
				sio_pci_bar_read(vdev->pdev, (int)bar, off, sz, &v);
				memcpy(bounce + i, &v, sz);
			}
			i += sz;
		}
		if (!iswrite && vfio_copy_to_user(vdev, ubuf + done, bounce, n))
			return -EFAULT;
		done += n;
	}
	return (ssize_t)done;
}

ssize_t vfio_pci_rw(struct vfio_device *vdev, uint64_t ubuf, size_t count,
		    uint64_t pos, bool iswrite)
{
	uint64_t index = VFIO_PCI_OFFSET_TO_INDEX(pos);

	switch (index) {
	case SIO_VFIO_PCI_CONFIG_REGION_INDEX:
		return config_rw(vdev, ubuf, count, pos, iswrite);
	case SIO_VFIO_PCI_ROM_REGION_INDEX:
		/* No ROM; and a ROM is never written. */
		return -EINVAL;
	case SIO_VFIO_PCI_BAR0_REGION_INDEX ... SIO_VFIO_PCI_BAR5_REGION_INDEX:
		return bar_rw(vdev, (unsigned int)index, ubuf, count, pos,
			      iswrite);
	default:
		/* VGA (none) and indexes past the regions. */
		return -EINVAL;
	}
}
