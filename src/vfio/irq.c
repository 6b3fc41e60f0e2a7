/*
 * Interrupts of a VFIO PCI device: GET_IRQ_INFO and SET_IRQS (the kernel's
 * vfio_pci_core.c and vfio_pci_intrs.c, Linux 7.3).
 *
 * The program hands eventfds in; the library keeps its own duplicate of
 * each (the kernel holds the eventfd context, so the program may close its
 * descriptor and the vector keeps working) and connects the function's
 * interrupt sink (softiommu/pci.h), whose signal writes 1 to the vector's
 * eventfd with a raw write system call.  Enabling MSI or MSI-X tells the
 * function the mode and vector count (sio_pci_irq_set_mode), as the
 * kernel's PCI core programs the capability.
 *
 * Indexes, as vfio-pci reports them:
 *   INTx   count 1 if the function has an interrupt pin, else 0;
 *          EVENTFD | MASKABLE | AUTOMASKED: each interrupt masks the line
 *          until the program unmasks it; if the function still asserts
 *          it then (or raised it meanwhile), the next interrupt follows
 *   MSI    the capability's vector count; EVENTFD | NORESIZE
 *   MSI-X  the table size; EVENTFD (x86's MSI-X can add vectors while
 *          enabled, so no NORESIZE)
 *   ERR    1; EVENTFD | NORESIZE (nothing reports AER errors here)
 *   REQ    1; EVENTFD | NORESIZE (signalled when the device is removed)
 *
 * SET_IRQS follows the kernel rule for rule: argsz at least up to count,
 * index < 5, start + count within the index's count, flags only the data
 * and action bits, exactly one data type (EINVAL), an action that is not
 * exactly one of MASK, UNMASK and TRIGGER, or MASK/UNMASK on MSI/MSI-X,
 * ERR or REQ: ENOTTY; data of count * (0, 1 or 4) bytes after the header
 * (EINVAL if argsz is short, EFAULT).  TRIGGER with eventfds enables the
 * index (EINVAL while another is enabled); a negative eventfd tears one
 * vector down (for ERR and REQ only -1); a descriptor that is not open is
 * EBADF, one that is not an eventfd EINVAL.  TRIGGER with DATA_NONE (or
 * BOOL true) fires the vectors' eventfds; DATA_NONE with count 0 disables
 * the index.  UNMASK with an eventfd (the kernel's virqfd) is not offered:
 * ENOTTY, as MASK with an eventfd is in the kernel.
 */
#include <fcntl.h>
#include <linux/pci_regs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "file/private_fd.h"
#include "file/file.h"
#include "softiommu/file.h"
#include "vfio/vfio_private.h"
#include "util/fail.h"

/* ------------------------------------------------------------------ */
/* Eventfds                                                             */
/* ------------------------------------------------------------------ */

/*
 * Where the library's duplicates go: high in the descriptor table, out of
 * the way of a program that expects the lowest free numbers for its own
 * files (the kernel holds an eventfd without any number at all).
 */
static int dup_floor(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < 128)
		return 3;
	return rl.rlim_cur > 65536 ? 32768 : (int)(rl.rlim_cur / 2);
}

/* The library's own duplicate of the program's eventfd fd (the kernel's
 * eventfd_ctx_fdget): -EBADF for a closed fd, -EINVAL for one that is not
 * an eventfd (an emulated file is backed by one, but is not one). */
static int eventfd_get(int fd)
{
	const struct sio_file_proxy *proxy;
	char path[40], target[32];
	struct sio_file *file;
	ssize_t n;
	int dup;

	if (fd < 0)
		return -EBADF;
	file = sio_file_lookup(fd);
	if (file) {
		sio_file_put(file);
		return -EINVAL;
	}
	proxy = sio_file_proxy_get();
	if (proxy && proxy->getfd) {
		/* The shared mode's server: the fd is the client's. */
		int got = proxy->getfd(proxy->ctx, fd);

		if (got < 0)
			return got;
		dup = sio_sys_fcntl(got, F_DUPFD_CLOEXEC, dup_floor());
		if (dup < 0)
			dup = sio_sys_fcntl(got, F_DUPFD_CLOEXEC, 3);
		sio_sys_close(got);
		if (dup < 0)
			return -EMFILE;
	} else {
		dup = sio_sys_fcntl(fd, F_DUPFD_CLOEXEC, dup_floor());
		if (dup < 0 && errno != EBADF)
			dup = sio_sys_fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (dup < 0)
			return -errno;
	}
	/* The raw call: the shim may give /proc paths of its own. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dup);
	n = syscall(SYS_readlinkat, AT_FDCWD, path, target, sizeof(target));
	if (n != (ssize_t)strlen("anon_inode:[eventfd]") ||
	    memcmp(target, "anon_inode:[eventfd]", (size_t)n)) {
		sio_sys_close(dup);
		return -EINVAL;
	}
	/* The program's close_range/closefrom must not take it away. */
	if (sio_fd_private_add(dup)) {
		sio_sys_close(dup);
		return -ENOMEM;
	}
	return dup;
}

static void eventfd_signal(int efd)
{
	uint64_t one = 1;

	if (efd >= 0)
		(void)sio_sys_write(efd, &one, sizeof(one));
}

static void eventfd_put(int efd)
{
	if (efd >= 0)
		sio_fd_private_close(efd);
}

/* Install efd in *slot under trig_lock; the old one is closed after. */
static void trig_replace(struct vfio_device *vdev, int *slot, int efd)
{
	int old;

	pthread_mutex_lock(&vdev->trig_lock);
	old = *slot;
	*slot = efd;
	pthread_mutex_unlock(&vdev->trig_lock);
	eventfd_put(old);
}

static void trig_fire(struct vfio_device *vdev, int *slot)
{
	pthread_mutex_lock(&vdev->trig_lock);
	eventfd_signal(*slot);
	pthread_mutex_unlock(&vdev->trig_lock);
}

/* ------------------------------------------------------------------ */
/* The sink: runs under the function's lock                             */
/* ------------------------------------------------------------------ */

static void irq_sink(void *opaque, enum sio_pci_irq_type type,
		     unsigned int vector)
{
	struct vfio_device *vdev = opaque;

	pthread_mutex_lock(&vdev->trig_lock);
	switch (type) {
	case SIO_PCI_IRQ_INTX:
		/* Level triggered: masked from the interrupt to the unmask. */
		if (vdev->intx_masked) {
			vdev->intx_pending = true;
		} else {
			vdev->intx_masked = true;
			eventfd_signal(vdev->intx_trig);
		}
		break;
	case SIO_PCI_IRQ_MSI:
	case SIO_PCI_IRQ_MSIX:
		if (vector < vdev->ntrig)
			eventfd_signal(vdev->trig[vector]);
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&vdev->trig_lock);
}

int vfio_irq_init(struct vfio_device *vdev)
{
	const struct sio_pci_dev_desc *d = sio_pci_dev_desc(vdev->pdev);
	unsigned int n = d->msix_vectors > d->msi_vectors ? d->msix_vectors :
							    d->msi_vectors;

	vdev->ntrig = n;
	vdev->trig = sio_malloc((n ? n : 1) * sizeof(*vdev->trig));
	if (!vdev->trig)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++)
		vdev->trig[i] = -1;
	vdev->intx_trig = vdev->err_trig = vdev->req_trig = -1;
	vdev->irq_type = VFIO_IRQ_NONE;
	sio_pci_irq_connect(vdev->pdev, &(struct sio_pci_irq_sink){
		.signal = irq_sink, .opaque = vdev });
	return 0;
}

void vfio_irq_fini(struct vfio_device *vdev)
{
	if (vdev->trig)
		sio_pci_irq_connect(vdev->pdev, NULL);
	for (unsigned int i = 0; vdev->trig && i < vdev->ntrig; i++)
		eventfd_put(vdev->trig[i]);
	free(vdev->trig);
	vdev->trig = NULL;
	eventfd_put(vdev->intx_trig);
	eventfd_put(vdev->err_trig);
	eventfd_put(vdev->req_trig);
	vdev->intx_trig = vdev->err_trig = vdev->req_trig = -1;
}

void vfio_pci_irq_request(struct vfio_device *vdev)
{
	trig_fire(vdev, &vdev->req_trig);
}

/* ------------------------------------------------------------------ */
/* GET_IRQ_INFO                                                         */
/* ------------------------------------------------------------------ */

static uint32_t cfg16(struct vfio_device *vdev, uint32_t off)
{
	uint32_t v = 0;

	sio_pci_config_read(vdev->pdev, off, 2, &v);
	return v;
}

static unsigned int irq_count(struct vfio_device *vdev, unsigned int index)
{
	uint32_t v = 0;

	switch (index) {
	case SIO_VFIO_PCI_INTX_IRQ_INDEX:
		sio_pci_config_read(vdev->pdev, PCI_INTERRUPT_PIN, 1, &v);
		return v ? 1 : 0;
	case SIO_VFIO_PCI_MSI_IRQ_INDEX:
		if (!vdev->msi_cap)
			return 0;
		v = cfg16(vdev, vdev->msi_cap + PCI_MSI_FLAGS);
		return 1u << ((v & PCI_MSI_FLAGS_QMASK) >> 1);
	case SIO_VFIO_PCI_MSIX_IRQ_INDEX:
		if (!vdev->msix_cap)
			return 0;
		v = cfg16(vdev, vdev->msix_cap + PCI_MSIX_FLAGS);
		return (v & PCI_MSIX_FLAGS_QSIZE) + 1;
	case SIO_VFIO_PCI_ERR_IRQ_INDEX:
	case SIO_VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	default:
		return 0;
	}
}

long vfio_pci_ioctl_get_irq_info(struct vfio_device *vdev, uint64_t uarg)
{
	const size_t minsz = OFFSETOFEND(struct sio_vfio_irq_info, count);
	struct sio_vfio_irq_info info;

	if (vfio_copy_from_user(vdev, &info, uarg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= SIO_VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	info.flags = SIO_VFIO_IRQ_INFO_EVENTFD;
	info.count = irq_count(vdev, info.index);
	if (info.index == SIO_VFIO_PCI_INTX_IRQ_INDEX)
		info.flags |= SIO_VFIO_IRQ_INFO_MASKABLE |
			      SIO_VFIO_IRQ_INFO_AUTOMASKED;
	else if (info.index != SIO_VFIO_PCI_MSIX_IRQ_INDEX)
		info.flags |= SIO_VFIO_IRQ_INFO_NORESIZE;
	return vfio_copy_to_user(vdev, uarg, &info, minsz);
}

/* ------------------------------------------------------------------ */
/* INTx                                                                 */
/* ------------------------------------------------------------------ */

static bool is_intx(struct vfio_device *vdev)
{
	return vdev->irq_type == SIO_VFIO_PCI_INTX_IRQ_INDEX;
}

static bool is_irq_none(struct vfio_device *vdev)
{
	return vdev->irq_type == VFIO_IRQ_NONE;
}

static void intx_mask(struct vfio_device *vdev)
{
	pthread_mutex_lock(&vdev->trig_lock);
	vdev->intx_masked = true;
	pthread_mutex_unlock(&vdev->trig_lock);
}

/* The line is level-triggered: while the function still asserts it (the
 * status register's interrupt bit), the unmask is followed by the next
 * interrupt, which masks again.  One that came while masked counts too, in
 * case the status was read before it. */
static void intx_unmask(struct vfio_device *vdev)
{
	uint32_t status = 0;

	sio_pci_config_read(vdev->pdev, PCI_STATUS, 2, &status);
	pthread_mutex_lock(&vdev->trig_lock);
	vdev->intx_masked = false;
	if (vdev->intx_pending || (status & PCI_STATUS_INTERRUPT)) {
		vdev->intx_pending = false;
		vdev->intx_masked = true;
		eventfd_signal(vdev->intx_trig);
	}
	pthread_mutex_unlock(&vdev->trig_lock);
}

static int intx_enable(struct vfio_device *vdev, int efd)
{
	int rc = sio_pci_irq_set_mode(vdev->pdev, SIO_PCI_IRQ_INTX, 1);

	if (rc)
		return rc;
	pthread_mutex_lock(&vdev->trig_lock);
	vdev->intx_masked = false;
	vdev->intx_pending = false;
	pthread_mutex_unlock(&vdev->trig_lock);
	trig_replace(vdev, &vdev->intx_trig, efd);
	vdev->irq_type = SIO_VFIO_PCI_INTX_IRQ_INDEX;
	return 0;
}

static void intx_disable(struct vfio_device *vdev)
{
	sio_pci_irq_set_mode(vdev->pdev, SIO_PCI_IRQ_NONE, 0);
	trig_replace(vdev, &vdev->intx_trig, -1);
	pthread_mutex_lock(&vdev->trig_lock);
	vdev->intx_masked = false;
	vdev->intx_pending = false;
	pthread_mutex_unlock(&vdev->trig_lock);
	vdev->irq_type = VFIO_IRQ_NONE;
}

static int set_intx_mask(struct vfio_device *vdev, unsigned int start,
			 unsigned int count, uint32_t flags, const void *data)
{
	if (!is_intx(vdev) || start != 0 || count != 1)
		return -EINVAL;
	if (flags & SIO_VFIO_IRQ_SET_DATA_NONE)
		intx_mask(vdev);
	else if (flags & SIO_VFIO_IRQ_SET_DATA_BOOL) {
		if (*(const uint8_t *)data)
			intx_mask(vdev);
	} else if (flags & SIO_VFIO_IRQ_SET_DATA_EVENTFD) {
		return -ENOTTY;
	}
	return 0;
}

static int set_intx_unmask(struct vfio_device *vdev, unsigned int start,
			   unsigned int count, uint32_t flags,
			   const void *data)
{
	if (!is_intx(vdev) || start != 0 || count != 1)
		return -EINVAL;
	if (flags & SIO_VFIO_IRQ_SET_DATA_NONE) {
		intx_unmask(vdev);
	} else if (flags & SIO_VFIO_IRQ_SET_DATA_BOOL) {
		if (*(const uint8_t *)data)
			intx_unmask(vdev);
	} else if (flags & SIO_VFIO_IRQ_SET_DATA_EVENTFD) {
		int32_t fd;

		memcpy(&fd, data, sizeof(fd));
		/* No unmask eventfd is ever set, so removing one is done. */
		if (fd >= 0)
			return sio_err(-ENOTTY, "vfio: %s: no unmask eventfd",
				       vdev->name);
	}
	return 0;
}

static int set_intx_trigger(struct vfio_device *vdev, unsigned int start,
			    unsigned int count, uint32_t flags,
			    const void *data)
{
	if (is_intx(vdev) && !count && (flags & SIO_VFIO_IRQ_SET_DATA_NONE)) {
		intx_disable(vdev);
		return 0;
	}
	if (!(is_intx(vdev) || is_irq_none(vdev)) || start != 0 || count != 1)
		return -EINVAL;
	if (flags & SIO_VFIO_IRQ_SET_DATA_EVENTFD) {
		int32_t fd;
		int efd = -1, rc = 0;

		memcpy(&fd, data, sizeof(fd));
		if (fd >= 0) {
			efd = eventfd_get(fd);
			if (efd < 0)
				return efd;
		}
		if (is_intx(vdev))
			trig_replace(vdev, &vdev->intx_trig, efd);
		else
			rc = intx_enable(vdev, efd);
		if (rc)
			eventfd_put(efd);
		return rc;
	}
	if (!is_intx(vdev))
		return -EINVAL;
	if ((flags & SIO_VFIO_IRQ_SET_DATA_NONE) ||
	    ((flags & SIO_VFIO_IRQ_SET_DATA_BOOL) && *(const uint8_t *)data))
		trig_fire(vdev, &vdev->intx_trig);
	return 0;
}

/* ------------------------------------------------------------------ */
/* MSI and MSI-X                                                        */
/* ------------------------------------------------------------------ */

static enum sio_pci_irq_type pci_type(bool msix)
{
	return msix ? SIO_PCI_IRQ_MSIX : SIO_PCI_IRQ_MSI;
}

static int msi_enable(struct vfio_device *vdev, unsigned int nvec, bool msix)
{
	int rc;

	if (!is_irq_none(vdev))
		return -EINVAL;
	rc = sio_pci_irq_set_mode(vdev->pdev, pci_type(msix), nvec);
	if (rc)
		return rc;
	vdev->irq_type = msix ? SIO_VFIO_PCI_MSIX_IRQ_INDEX :
				SIO_VFIO_PCI_MSI_IRQ_INDEX;
	vdev->irq_nvec = nvec;
	return 0;
}

/*
 * MSI-X vectors past those enabled are added while enabled, as x86's
 * dynamic MSI-X allocation does (the PCI layer keeps the function mask
 * and the vectors already there).
 */
static int msix_grow(struct vfio_device *vdev, unsigned int nvec)
{
	int rc = sio_pci_irq_set_mode(vdev->pdev, SIO_PCI_IRQ_MSIX, nvec);

	if (rc)
		return rc;
	vdev->irq_nvec = nvec;
	return 0;
}

static int msi_set_vector_signal(struct vfio_device *vdev,
				 unsigned int vector, int fd, bool msix)
{
	int efd, rc;

	if (vector < vdev->ntrig)
		trig_replace(vdev, &vdev->trig[vector], -1);
	if (fd < 0)
		return 0;
	if (vector >= vdev->irq_nvec) {
		if (!msix || vector >= vdev->ntrig)
			return -EINVAL;
		rc = msix_grow(vdev, vector + 1);
		if (rc)
			return rc;
	}
	efd = eventfd_get(fd);
	if (efd < 0)
		return efd;
	trig_replace(vdev, &vdev->trig[vector], efd);
	return 0;
}

static int msi_set_block(struct vfio_device *vdev, unsigned int start,
			 unsigned int count, const int32_t *fds, bool msix)
{
	unsigned int i, j;
	int rc = 0;

	for (i = 0, j = start; i < count && !rc; i++, j++) {
		int32_t fd = -1;

		if (fds)
			memcpy(&fd, &fds[i], sizeof(fd));
		rc = msi_set_vector_signal(vdev, j, fd, msix);
	}
	if (rc)
		for (i = start; i < j; i++)
			msi_set_vector_signal(vdev, i, -1, msix);
	return rc;
}

static void msi_disable(struct vfio_device *vdev)
{
	for (unsigned int v = 0; v < vdev->ntrig; v++)
		trig_replace(vdev, &vdev->trig[v], -1);
	sio_pci_irq_set_mode(vdev->pdev, SIO_PCI_IRQ_NONE, 0);
	vdev->irq_type = VFIO_IRQ_NONE;
	vdev->irq_nvec = 0;
}

static int set_msi_trigger(struct vfio_device *vdev, unsigned int index,
			   unsigned int start, unsigned int count,
			   uint32_t flags, const void *data)
{
	bool msix = index == SIO_VFIO_PCI_MSIX_IRQ_INDEX;
	int rc;

	if (vdev->irq_type == index && !count &&
	    (flags & SIO_VFIO_IRQ_SET_DATA_NONE)) {
		msi_disable(vdev);
		return 0;
	}
	if (!(vdev->irq_type == index || is_irq_none(vdev)))
		return -EINVAL;
	if (flags & SIO_VFIO_IRQ_SET_DATA_EVENTFD) {
		if (vdev->irq_type == index)
			return msi_set_block(vdev, start, count, data, msix);
		rc = msi_enable(vdev, start + count, msix);
		if (rc)
			return rc;
		rc = msi_set_block(vdev, start, count, data, msix);
		if (rc)
			msi_disable(vdev);
		return rc;
	}
	if (vdev->irq_type != index)
		return -EINVAL;
	/* Loopback: fire the eventfds the vectors have. */
	for (unsigned int i = start; i < start + count && i < vdev->ntrig; i++) {
		if ((flags & SIO_VFIO_IRQ_SET_DATA_NONE) ||
		    ((flags & SIO_VFIO_IRQ_SET_DATA_BOOL) &&
		     ((const uint8_t *)data)[i - start]))
			trig_fire(vdev, &vdev->trig[i]);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* ERR and REQ                                                          */
/* ------------------------------------------------------------------ */

static int set_ctx_trigger_single(struct vfio_device *vdev, int *slot,
				  unsigned int count, uint32_t flags,
				  const void *data)
{
	if (flags & SIO_VFIO_IRQ_SET_DATA_NONE) {
		bool set;

		pthread_mutex_lock(&vdev->trig_lock);
		set = *slot >= 0;
		if (set && count)
			eventfd_signal(*slot);
		pthread_mutex_unlock(&vdev->trig_lock);
		if (!set)
			return -EINVAL;
		if (!count)
			trig_replace(vdev, slot, -1);
		return 0;
	}
	if (flags & SIO_VFIO_IRQ_SET_DATA_BOOL) {
		if (!count)
			return -EINVAL;
		if (*(const uint8_t *)data)
			trig_fire(vdev, slot);
		return 0;
	}
	if (flags & SIO_VFIO_IRQ_SET_DATA_EVENTFD) {
		int32_t fd;
		int efd;

		if (!count)
			return -EINVAL;
		memcpy(&fd, data, sizeof(fd));
		if (fd == -1) {
			trig_replace(vdev, slot, -1);
			return 0;
		}
		if (fd >= 0) {
			efd = eventfd_get(fd);
			if (efd < 0)
				return efd;
			trig_replace(vdev, slot, efd);
			return 0;
		}
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* SET_IRQS                                                             */
/* ------------------------------------------------------------------ */

typedef int (*set_fn)(struct vfio_device *vdev, unsigned int index,
		      unsigned int start, unsigned int count, uint32_t flags,
		      const void *data);

static int set_irqs_locked(struct vfio_device *vdev, uint32_t flags,
			   unsigned int index, unsigned int start,
			   unsigned int count, const void *data)
{
	uint32_t action = flags & SIO_VFIO_IRQ_SET_ACTION_TYPE_MASK;

	switch (index) {
	case SIO_VFIO_PCI_INTX_IRQ_INDEX:
		switch (action) {
		case SIO_VFIO_IRQ_SET_ACTION_MASK:
			return set_intx_mask(vdev, start, count, flags, data);
		case SIO_VFIO_IRQ_SET_ACTION_UNMASK:
			return set_intx_unmask(vdev, start, count, flags, data);
		case SIO_VFIO_IRQ_SET_ACTION_TRIGGER:
			return set_intx_trigger(vdev, start, count, flags, data);
		}
		break;
	case SIO_VFIO_PCI_MSI_IRQ_INDEX:
	case SIO_VFIO_PCI_MSIX_IRQ_INDEX:
		/* Masking MSI vectors is the function's business (its
		 * table and mask bits), not VFIO's. */
		if (action == SIO_VFIO_IRQ_SET_ACTION_TRIGGER)
			return set_msi_trigger(vdev, index, start, count, flags,
					       data);
		break;
	case SIO_VFIO_PCI_ERR_IRQ_INDEX:
	case SIO_VFIO_PCI_REQ_IRQ_INDEX:
		if (action != SIO_VFIO_IRQ_SET_ACTION_TRIGGER)
			break;
		if (start != 0 || count > 1)
			return -EINVAL;
		return set_ctx_trigger_single(
			vdev, index == SIO_VFIO_PCI_ERR_IRQ_INDEX ?
			&vdev->err_trig : &vdev->req_trig,
			count, flags, data);
	}
	return -ENOTTY;
}

long vfio_pci_ioctl_set_irqs(struct vfio_device *vdev, uint64_t uarg)
{
	const size_t minsz = OFFSETOFEND(struct sio_vfio_irq_set, count);
	struct sio_vfio_irq_set hdr;
	size_t size, data_size = 0;
	uint8_t *data = NULL;
	unsigned int max;
	long rc;

	if (vfio_copy_from_user(vdev, &hdr, uarg, minsz))
		return -EFAULT;
	max = irq_count(vdev, hdr.index);
	if (hdr.argsz < minsz || hdr.index >= SIO_VFIO_PCI_NUM_IRQS ||
	    hdr.count >= UINT32_MAX - hdr.start ||
	    (hdr.flags & ~(SIO_VFIO_IRQ_SET_DATA_TYPE_MASK |
			   SIO_VFIO_IRQ_SET_ACTION_TYPE_MASK)))
		return -EINVAL;
	if (hdr.start >= max || hdr.start + hdr.count > max)
		return -EINVAL;
	switch (hdr.flags & SIO_VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case SIO_VFIO_IRQ_SET_DATA_NONE:
		size = 0;
		break;
	case SIO_VFIO_IRQ_SET_DATA_BOOL:
		size = sizeof(uint8_t);
		break;
	case SIO_VFIO_IRQ_SET_DATA_EVENTFD:
		size = sizeof(int32_t);
		break;
	default:
		return -EINVAL;
	}
	if (size) {
		if (hdr.argsz - minsz < (size_t)hdr.count * size)
			return -EINVAL;
		data_size = (size_t)hdr.count * size;
	}
	if (data_size) {
		data = sio_malloc(data_size);
		if (!data)
			return -ENOMEM;
		if (vfio_copy_from_user(vdev, data, uarg + minsz, data_size)) {
			free(data);
			return -EFAULT;
		}
	}
	pthread_mutex_lock(&vdev->igate);
	rc = set_irqs_locked(vdev, hdr.flags, hdr.index, hdr.start, hdr.count,
			     data);
	pthread_mutex_unlock(&vdev->igate);
	free(data);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Close and reset                                                      */
/* ------------------------------------------------------------------ */

void vfio_pci_irqs_disable_locked(struct vfio_device *vdev)
{
	if (is_intx(vdev))
		intx_disable(vdev);
	else if (!is_irq_none(vdev))
		msi_disable(vdev);
	trig_replace(vdev, &vdev->err_trig, -1);
	trig_replace(vdev, &vdev->req_trig, -1);
}

void vfio_pci_irqs_restore_locked(struct vfio_device *vdev)
{
	switch (vdev->irq_type) {
	case SIO_VFIO_PCI_INTX_IRQ_INDEX:
		sio_pci_irq_set_mode(vdev->pdev, SIO_PCI_IRQ_INTX, 1);
		break;
	case SIO_VFIO_PCI_MSI_IRQ_INDEX:
		sio_pci_irq_set_mode(vdev->pdev, SIO_PCI_IRQ_MSI,
				     vdev->irq_nvec);
		break;
	case SIO_VFIO_PCI_MSIX_IRQ_INDEX:
		sio_pci_irq_set_mode(vdev->pdev, SIO_PCI_IRQ_MSIX,
				     vdev->irq_nvec);
		break;
	default:
		break;
	}
}
