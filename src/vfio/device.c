/*
 * The VFIO device fd of an emulated PCI function (the kernel's
 * vfio_main.c device half with vfio_pci_core.c, Linux 7.3).
 *
 * One struct vfio_device_file per descriptor, from GET_DEVICE_FD on a
 * group (group.c) or from opening the device's cdev (cdev.c).  Until the
 * file is opened for real (the group path) or bound (the cdev path's
 * BIND_IOMMUFD) every ioctl but BIND, every read, write and mmap is
 * EINVAL.  The first open of a function binds it to the file's iommufd
 * and enables it as vfio-pci does: a function-level reset (whose success
 * is the RESET flag of GET_INFO), memory and I/O decode on, Bus Master
 * off.  The last close disables every interrupt, resets the function and
 * unbinds it.
 *
 * What the device fd answers (argsz rules as the kernel's: each structure
 * is read up to its minimum, EINVAL below it):
 *  - GET_INFO: PCI|RESET, 9 regions, 5 IRQ indexes, no capabilities;
 *  - GET_REGION_INFO: BARs at index << 40 with their sizes (0 for absent
 *    BARs and the upper half of a 64-bit BAR), read/write, and mmap for
 *    memory BARs, which with the MSI-X table also carry the MSIX_MAPPABLE
 *    capability; ROM (none: size 0); config space (256 or 4096 bytes,
 *    read/write, no mmap); VGA: EINVAL; index >= 9: EINVAL;
 *  - GET_IRQ_INFO, SET_IRQS: irq.c;
 *  - RESET: vfio_pci_reset_locked() below; EINVAL if reset does not work;
 *  - GET_PCI_HOT_RESET_INFO, PCI_HOT_RESET: the functions sit on a root
 *    bus, which has no bus reset: ENODEV after the argument checks;
 *  - IOEVENTFD: the kernel's checks; removing one that does not exist is
 *    ENODEV, adding one EOPNOTSUPP (nothing watches eventfds here);
 *  - FEATURE: the kernel's checks of flags; no feature is offered (no
 *    migration, dirty logging, low power, VF token or dmabuf): ENOTTY;
 *  - anything else: ENOTTY.
 * read/write and pread/pwrite reach the regions (rdwr.c), mmap the BARs
 * (mmap.c).
 */
#include <linux/pci_regs.h>
#include <stdlib.h>
#include <string.h>

#include "iommufd/iommufd_vfio.h"
#include "softiommu/file.h"
#include "vfio/vfio_private.h"
#include "util/fail.h"

struct vfio_device_file *vfio_device_file_alloc(struct vfio_device *vdev,
						struct vfio_group *group)
{
	struct vfio_device_file *df = sio_calloc(1, sizeof(*df));

	if (!df)
		return NULL;
	df->device = vfio_device_get(vdev);
	df->group = group ? vfio_group_get(group) : NULL;
	return df;
}

void vfio_device_file_free(struct vfio_device_file *df)
{
	vfio_device_put(df->device);
	vfio_group_put(df->group);
	free(df);
}

/* ------------------------------------------------------------------ */
/* Open and close                                                       */
/* ------------------------------------------------------------------ */

static uint32_t cfg_read(struct vfio_device *vdev, uint32_t off,
			 unsigned int size)
{
	uint32_t v = 0;

	sio_pci_config_read(vdev->pdev, off, size, &v);
	return v;
}

/* vfio_pci_core_enable(): reset the function (which tells whether reset
 * works), then what pci_enable_device() and pci_clear_master() leave. */
static void vfio_pci_enable(struct vfio_device *vdev)
{
	const struct sio_pci_dev_desc *d = sio_pci_dev_desc(vdev->pdev);
	uint32_t cmd;

	__atomic_store_n(&vdev->reset_works, sio_pci_reset(vdev->pdev) == 0,
			 __ATOMIC_RELAXED);
	cmd = cfg_read(vdev, PCI_COMMAND, 2);
	cmd &= ~(uint32_t)(PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	for (int i = 0; i < SIO_PCI_NUM_BARS; i++) {
		if (!d->bars[i].size)
			continue;
		cmd |= (d->bars[i].flags & SIO_PCI_BAR_IO) ? PCI_COMMAND_IO :
							     PCI_COMMAND_MEMORY;
	}
	sio_pci_config_write(vdev->pdev, PCI_COMMAND, 2, cmd);
}

static void vfio_pci_disable(struct vfio_device *vdev)
{
	pthread_mutex_lock(&vdev->igate);
	vfio_pci_irqs_disable_locked(vdev);
	pthread_mutex_unlock(&vdev->igate);
	sio_pci_reset(vdev->pdev);
}

static int vfio_df_device_first_open(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->device;
	int rc;

	rc = vfio_device_iommufd_bind(vdev, df->iommufd, &df->devid);
	if (rc)
		return rc;
	vfio_pci_enable(vdev);
	return 0;
}

static void vfio_df_device_last_close(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->device;

	vfio_pci_disable(vdev);
	vfio_device_iommufd_unbind(vdev);
}

int vfio_df_open(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->device;
	int rc = 0;

	/* Only the group path opens a device more than once: a cdev has no
	 * safe way to share it. */
	if (vdev->open_count && !df->group)
		return sio_err(-EINVAL, "vfio: %s is open already", vdev->name);
	vdev->open_count++;
	if (vdev->open_count == 1) {
		rc = vfio_df_device_first_open(df);
		if (rc)
			vdev->open_count--;
	}
	return rc;
}

void vfio_df_close(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->device;

	if (!vdev->open_count)
		return;
	if (vdev->open_count == 1)
		vfio_df_device_last_close(df);
	vdev->open_count--;
}

/* ------------------------------------------------------------------ */
/* Reset                                                                */
/* ------------------------------------------------------------------ */

/*
 * The kernel resets a function with its state saved and restored around
 * the reset (pci_try_reset_function), so the program keeps its BARs,
 * command register and interrupt set-up; only the device behind them
 * starts over.  Here: read config space and the MSI-X table, reset, write
 * back every dword that changed (through the function's write masks, so
 * read-only bits stay as reset left them), the table, then the interrupt
 * mode VFIO had enabled, and last the MSI-X and MSI control words, whose
 * function mask enabling the mode clears.
 */
int vfio_pci_reset_locked(struct vfio_device *vdev)
{
	const struct sio_pci_dev_desc *d = sio_pci_dev_desc(vdev->pdev);
	size_t tlen = 16 * (size_t)d->msix_vectors;
	uint32_t *cfg = sio_calloc(vdev->cfg_size / 4, sizeof(*cfg));
	uint32_t *table = sio_calloc(tlen / 4 + 1, sizeof(*table));
	uint64_t v;
	int rc;

	if (!cfg || !table) {
		free(cfg);
		free(table);
		return -ENOMEM;
	}
	for (uint32_t off = 0; off < vdev->cfg_size; off += 4)
		cfg[off / 4] = cfg_read(vdev, off, 4);
	for (size_t i = 0; i < tlen; i += 4) {
		v = 0;
		sio_pci_bar_read(vdev->pdev, d->msix_bar,
				 d->msix_table_offset + i, 4, &v);
		table[i / 4] = (uint32_t)v;
	}

	rc = sio_pci_reset(vdev->pdev);
	if (rc)
		goto out;

	for (uint32_t off = 4; off < vdev->cfg_size; off += 4)
		if (cfg_read(vdev, off, 4) != cfg[off / 4])
			sio_pci_config_write(vdev->pdev, off, 4, cfg[off / 4]);
	for (size_t i = 0; i < tlen; i += 4)
		sio_pci_bar_write(vdev->pdev, d->msix_bar,
				  d->msix_table_offset + i, 4, table[i / 4]);
	vfio_pci_irqs_restore_locked(vdev);
	if (vdev->msix_cap)
		sio_pci_config_write(vdev->pdev, vdev->msix_cap + PCI_MSIX_FLAGS,
				     2, cfg[vdev->msix_cap / 4] >> 16);
	if (vdev->msi_cap)
		sio_pci_config_write(vdev->pdev, vdev->msi_cap + PCI_MSI_FLAGS,
				     2, cfg[vdev->msi_cap / 4] >> 16);
out:
	free(cfg);
	free(table);
	return rc;
}

static long vfio_pci_ioctl_reset(struct vfio_device *vdev)
{
	int rc;

	if (!__atomic_load_n(&vdev->reset_works, __ATOMIC_RELAXED))
		return sio_err(-EINVAL, "vfio: %s cannot be reset", vdev->name);
	pthread_mutex_lock(&vdev->igate);
	rc = vfio_pci_reset_locked(vdev);
	pthread_mutex_unlock(&vdev->igate);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Information                                                          */
/* ------------------------------------------------------------------ */

static long vfio_pci_ioctl_get_info(struct vfio_device *vdev, uint64_t uarg)
{
	size_t minsz = OFFSETOFEND(struct sio_vfio_device_info, num_irqs);
	struct sio_vfio_device_info info = { 0 };

	if (vfio_copy_from_user(vdev, &info, uarg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	if (info.argsz < sizeof(info))
		minsz = info.argsz;
	else
		minsz = sizeof(info);
	info.flags = SIO_VFIO_DEVICE_FLAGS_PCI;
	if (__atomic_load_n(&vdev->reset_works, __ATOMIC_RELAXED))
		info.flags |= SIO_VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = SIO_VFIO_PCI_NUM_REGIONS;
	info.num_irqs = SIO_VFIO_PCI_NUM_IRQS;
	/* No capability: no zPCI, and the emulated root port completes no
	 * AtomicOps. */
	return vfio_copy_to_user(vdev, uarg, &info, minsz);
}

static long vfio_pci_get_region_info(struct vfio_device *vdev, uint64_t uarg)
{
	const size_t minsz = OFFSETOFEND(struct sio_vfio_region_info, offset);
	const struct sio_pci_dev_desc *d = sio_pci_dev_desc(vdev->pdev);
	struct sio_vfio_region_info info = { 0 };
	struct sio_vfio_info_cap_header msix_cap = {
		.id = SIO_VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
		.version = 1,
	};
	size_t caps = 0;

	if (vfio_copy_from_user(vdev, &info, uarg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	switch (info.index) {
	case SIO_VFIO_PCI_CONFIG_REGION_INDEX:
		info.offset = VFIO_PCI_INDEX_TO_OFFSET(info.index);
		info.size = vdev->cfg_size;
		info.flags = SIO_VFIO_REGION_INFO_FLAG_READ |
			     SIO_VFIO_REGION_INFO_FLAG_WRITE;
		break;
	case SIO_VFIO_PCI_BAR0_REGION_INDEX ... SIO_VFIO_PCI_BAR5_REGION_INDEX:
		info.offset = VFIO_PCI_INDEX_TO_OFFSET(info.index);
		info.size = d->bars[info.index].size;
		if (!info.size) {
			info.flags = 0;
			break;
		}
		info.flags = SIO_VFIO_REGION_INFO_FLAG_READ |
			     SIO_VFIO_REGION_INFO_FLAG_WRITE;
		if (vfio_pci_bar_mmappable(vdev, info.index)) {
			info.flags |= SIO_VFIO_REGION_INFO_FLAG_MMAP;
			if (d->msix_vectors && (int)info.index == d->msix_bar)
				caps = sizeof(msix_cap);
		}
		break;
	case SIO_VFIO_PCI_ROM_REGION_INDEX:
		/* The models have no expansion ROM. */
		info.offset = VFIO_PCI_INDEX_TO_OFFSET(info.index);
		info.flags = 0;
		info.size = 0;
		break;
	case SIO_VFIO_PCI_VGA_REGION_INDEX:
		return sio_err(-EINVAL, "vfio: %s has no VGA", vdev->name);
	default:
		return sio_err(-EINVAL, "vfio: %s has no region %u",
			       vdev->name, info.index);
	}

	if (caps) {
		info.flags |= SIO_VFIO_REGION_INFO_FLAG_CAPS;
		if (info.argsz < sizeof(info) + caps) {
			info.argsz = sizeof(info) + caps;
			info.cap_offset = 0;
		} else {
			/* One capability: the chain ends with it. */
			if (vfio_copy_to_user(vdev, uarg + sizeof(info),
					      &msix_cap, sizeof(msix_cap)))
				return -EFAULT;
			info.cap_offset = sizeof(info);
		}
	}
	return vfio_copy_to_user(vdev, uarg, &info, minsz);
}

/* The functions sit on a root bus, which has no bus reset (the kernel's
 * pci_probe_reset_bus() fails there), and no slot. */
static long vfio_pci_ioctl_hot_reset_info(struct vfio_device *vdev,
					  uint64_t uarg)
{
	const size_t minsz = OFFSETOFEND(struct sio_vfio_pci_hot_reset_info,
					 count);
	struct sio_vfio_pci_hot_reset_info hdr;

	if (vfio_copy_from_user(vdev, &hdr, uarg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz)
		return -EINVAL;
	return sio_err(-ENODEV, "vfio: %s: no bus or slot reset", vdev->name);
}

static long vfio_pci_ioctl_hot_reset(struct vfio_device *vdev, uint64_t uarg)
{
	const size_t minsz = OFFSETOFEND(struct sio_vfio_pci_hot_reset, count);
	struct sio_vfio_pci_hot_reset hdr;
	bool cdev;

	if (vfio_copy_from_user(vdev, &hdr, uarg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz || hdr.flags)
		return -EINVAL;
	/* Group fds prove ownership on the group path; a cdev passes none. */
	pthread_mutex_lock(&vdev->lock);
	cdev = vdev->cdev_opened;
	pthread_mutex_unlock(&vdev->lock);
	if (!!hdr.count == cdev)
		return -EINVAL;
	return sio_err(-ENODEV, "vfio: %s: no bus or slot reset", vdev->name);
}

static long vfio_pci_ioctl_ioeventfd(struct vfio_device *vdev, uint64_t uarg)
{
	const size_t minsz = OFFSETOFEND(struct sio_vfio_device_ioeventfd, fd);
	const struct sio_pci_dev_desc *d = sio_pci_dev_desc(vdev->pdev);
	struct sio_vfio_device_ioeventfd ev;
	uint64_t pos, tstart, tend;
	unsigned int count, bar;

	if (vfio_copy_from_user(vdev, &ev, uarg, minsz))
		return -EFAULT;
	if (ev.argsz < minsz)
		return -EINVAL;
	if (ev.flags & ~SIO_VFIO_DEVICE_IOEVENTFD_SIZE_MASK)
		return -EINVAL;
	count = ev.flags & SIO_VFIO_DEVICE_IOEVENTFD_SIZE_MASK;
	if (__builtin_popcount(count) != 1 || ev.fd < -1)
		return -EINVAL;
	pos = ev.offset & VFIO_PCI_OFFSET_MASK;
	bar = VFIO_PCI_OFFSET_TO_INDEX(ev.offset);
	if (bar > SIO_VFIO_PCI_BAR5_REGION_INDEX)
		return -EINVAL;
	if (pos + count > d->bars[bar].size)
		return -EINVAL;
	tstart = d->msix_table_offset;
	tend = tstart + 16ull * d->msix_vectors;
	if (d->msix_vectors && (int)bar == d->msix_bar &&
	    !(pos + count <= tstart || pos >= tend))
		return -EINVAL;
	if (ev.fd == -1)
		return -ENODEV;		/* none was added */
	return sio_err(-EOPNOTSUPP, "vfio: %s: ioeventfds are not emulated",
		       vdev->name);
}

static long vfio_ioctl_device_feature(struct vfio_device *vdev, uint64_t uarg)
{
	const size_t minsz = OFFSETOFEND(struct sio_vfio_device_feature, flags);
	struct sio_vfio_device_feature feature;

	if (vfio_copy_from_user(vdev, &feature, uarg, minsz))
		return -EFAULT;
	if (feature.argsz < minsz)
		return -EINVAL;
	if (feature.flags & ~(SIO_VFIO_DEVICE_FEATURE_MASK |
			      SIO_VFIO_DEVICE_FEATURE_SET |
			      SIO_VFIO_DEVICE_FEATURE_GET |
			      SIO_VFIO_DEVICE_FEATURE_PROBE))
		return -EINVAL;
	/* GET and SET only together with PROBE. */
	if (!(feature.flags & SIO_VFIO_DEVICE_FEATURE_PROBE) &&
	    (feature.flags & SIO_VFIO_DEVICE_FEATURE_SET) &&
	    (feature.flags & SIO_VFIO_DEVICE_FEATURE_GET))
		return -EINVAL;
	return sio_err(-ENOTTY, "vfio: %s: no feature %u", vdev->name,
		       feature.flags & SIO_VFIO_DEVICE_FEATURE_MASK);
}

/* ------------------------------------------------------------------ */
/* The file                                                             */
/* ------------------------------------------------------------------ */

static bool access_granted(struct vfio_device_file *df)
{
	return __atomic_load_n(&df->access_granted, __ATOMIC_ACQUIRE);
}

static long df_ioctl(struct sio_file *file, unsigned int cmd,
		     unsigned long arg)
{
	struct vfio_device_file *df = sio_file_priv(file);
	struct vfio_device *vdev = df->device;

	if (cmd == SIO_VFIO_DEVICE_BIND_IOMMUFD)
		return vfio_df_ioctl_bind_iommufd(df, arg);
	if (!access_granted(df))
		return sio_err(-EINVAL, "vfio: %s: bind the device first",
			       vdev->name);
	if (!df->group) {
		switch (cmd) {
		case SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT:
			return vfio_df_ioctl_attach_pt(df, arg);
		case SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT:
			return vfio_df_ioctl_detach_pt(df, arg);
		}
	}
	switch (cmd) {
	case SIO_VFIO_DEVICE_FEATURE:
		return vfio_ioctl_device_feature(vdev, arg);
	case SIO_VFIO_DEVICE_GET_REGION_INFO:
		return vfio_pci_get_region_info(vdev, arg);
	case SIO_VFIO_DEVICE_GET_INFO:
		return vfio_pci_ioctl_get_info(vdev, arg);
	case SIO_VFIO_DEVICE_GET_IRQ_INFO:
		return vfio_pci_ioctl_get_irq_info(vdev, arg);
	case SIO_VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
		return vfio_pci_ioctl_hot_reset_info(vdev, arg);
	case SIO_VFIO_DEVICE_IOEVENTFD:
		return vfio_pci_ioctl_ioeventfd(vdev, arg);
	case SIO_VFIO_DEVICE_PCI_HOT_RESET:
		return vfio_pci_ioctl_hot_reset(vdev, arg);
	case SIO_VFIO_DEVICE_RESET:
		return vfio_pci_ioctl_reset(vdev);
	case SIO_VFIO_DEVICE_SET_IRQS:
		return vfio_pci_ioctl_set_irqs(vdev, arg);
	default:
		return -ENOTTY;
	}
}

static ssize_t df_rw(struct vfio_device_file *df, uint64_t ubuf, size_t len,
		     off_t off, bool iswrite)
{
	if (!access_granted(df))
		return -EINVAL;
	if (!len)
		return 0;
	return vfio_pci_rw(df->device, ubuf, len, (uint64_t)off, iswrite);
}

static ssize_t df_pread(struct sio_file *file, void *buf, size_t len,
			off_t off)
{
	return df_rw(sio_file_priv(file), (uintptr_t)buf, len, off, false);
}

static ssize_t df_pwrite(struct sio_file *file, const void *buf, size_t len,
			 off_t off)
{
	return df_rw(sio_file_priv(file), (uintptr_t)buf, len, off, true);
}

/* read() and write() work at the file position, which they advance (the
 * device fd cannot seek: it starts at BAR0's offset 0). */
static ssize_t df_read(struct sio_file *file, void *buf, size_t len)
{
	struct vfio_device_file *df = sio_file_priv(file);
	int64_t pos = __atomic_load_n(&df->pos, __ATOMIC_RELAXED);
	ssize_t rc = df_rw(df, (uintptr_t)buf, len, pos, false);

	if (rc > 0)
		__atomic_store_n(&df->pos, pos + rc, __ATOMIC_RELAXED);
	return rc;
}

static ssize_t df_write(struct sio_file *file, const void *buf, size_t len)
{
	struct vfio_device_file *df = sio_file_priv(file);
	int64_t pos = __atomic_load_n(&df->pos, __ATOMIC_RELAXED);
	ssize_t rc = df_rw(df, (uintptr_t)buf, len, pos, true);

	if (rc > 0)
		__atomic_store_n(&df->pos, pos + rc, __ATOMIC_RELAXED);
	return rc;
}

static int df_mmap(struct sio_file *file, void **addr, size_t len, int prot,
		   int flags, off_t off)
{
	struct vfio_device_file *df = sio_file_priv(file);

	if (!access_granted(df))
		return -EINVAL;
	return vfio_pci_mmap(df->device, addr, len, prot, flags, off);
}

static void df_munmap(struct sio_file *file, void *addr, size_t len,
		      off_t off)
{
	struct vfio_device_file *df = sio_file_priv(file);

	vfio_pci_munmap(df->device, addr, len, off);
}

static void df_release(struct sio_file *file)
{
	struct vfio_device_file *df = sio_file_priv(file);

	if (df->group)
		vfio_df_group_close(df);
	else
		vfio_df_unbind_iommufd(df);
	vfio_device_file_free(df);
}

const struct sio_file_ops vfio_device_fops = {
	.name = "vfio-device",
	.read = df_read,
	.write = df_write,
	.pread = df_pread,
	.pwrite = df_pwrite,
	.ioctl = df_ioctl,
	.mmap = df_mmap,
	.munmap = df_munmap,
	.release = df_release,
};
