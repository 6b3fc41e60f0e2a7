/*
 * The VFIO subsystem of one iommufd host: registering PCI functions as VFIO
 * devices, their groups, and the references that keep them alive (the
 * kernel's vfio_main.c registration half and group.c's group objects).
 *
 * sio_vfio_add_device() is vfio-pci's probe: the function becomes a device
 * with the next cdev number, in the VFIO group of its core IOMMU group.
 * Groups are numbered per subsystem in order of first appearance, as the
 * kernel numbers iommu_groups.  The subsystem keeps a reference on every
 * group and device; each open descriptor keeps its own, so a program's
 * files outlive sio_vfio_destroy(), which only unregisters the devices
 * (their groups then find no device by name; the kernel's unregister, minus
 * the wait for descriptors to close).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pci_regs.h>

#include "file/file.h"
#include "iommufd/iommufd_vfio.h"
#include "softiommu/device.h"
#include "softiommu/file.h"
#include "softiommu/group.h"
#include "softiommu/iommu.h"
#include "softiommu/umem.h"
#include "vfio/vfio_owner.h"
#include "vfio/vfio_private.h"
#include "util/fail.h"

/* ------------------------------------------------------------------ */
/* References                                                           */
/* ------------------------------------------------------------------ */

struct vfio_group *vfio_group_get(struct vfio_group *group)
{
	__atomic_add_fetch(&group->refs, 1, __ATOMIC_RELAXED);
	return group;
}

void vfio_group_put(struct vfio_group *group)
{
	if (!group || __atomic_sub_fetch(&group->refs, 1, __ATOMIC_ACQ_REL))
		return;
	/* No file and no device is left: no container either. */
	sio_group_put(group->group);
	sio_umem_owner_put(group->owner);
	free(group->devs);
	pthread_mutex_destroy(&group->lock);
	free(group);
}

struct vfio_device *vfio_device_get(struct vfio_device *vdev)
{
	__atomic_add_fetch(&vdev->refs, 1, __ATOMIC_RELAXED);
	return vdev;
}

void vfio_device_put(struct vfio_device *vdev)
{
	if (!vdev || __atomic_sub_fetch(&vdev->refs, 1, __ATOMIC_ACQ_REL))
		return;
	vfio_irq_fini(vdev);
	sio_pci_dev_put(vdev->pdev);
	vfio_group_put(vdev->group);
	sio_umem_owner_put(vdev->owner);
	free(vdev->pasids);
	pthread_mutex_destroy(&vdev->lock);
	pthread_mutex_destroy(&vdev->igate);
	pthread_mutex_destroy(&vdev->trig_lock);
	pthread_mutex_destroy(&vdev->mmap_lock);
	free(vdev);
}

/* ------------------------------------------------------------------ */
/* Shared by the files                                                  */
/* ------------------------------------------------------------------ */

/* Whether the program's fd is open: in the shared mode's server, the
 * client's (through the file proxy, file/file.h). */
bool vfio_fd_is_open(int fd)
{
	const struct sio_file_proxy *proxy = sio_file_proxy_get();
	int got;

	if (fd < 0)
		return false;
	if (!proxy || !proxy->getfd)
		return sio_sys_fcntl(fd, F_GETFD, 0) >= 0;
	got = proxy->getfd(proxy->ctx, fd);
	if (got < 0)
		return false;
	sio_sys_close(got);
	return true;
}

struct sio_iommufd *vfio_iommufd_from_fd(struct sio_iommufd_host *host,
					 int fd, int *err)
{
	struct sio_iommufd *ictx = iommufd_ctx_from_fd(fd);

	if (!ictx) {
		*err = vfio_fd_is_open(fd) ? -EBADFD : -EBADF;
		return NULL;
	}
	/* A context of another host has other devices: not ours. */
	if (iommufd_ctx_host(ictx) != host) {
		iommufd_ctx_put(ictx);
		*err = -EBADFD;
		return NULL;
	}
	return ictx;
}

int vfio_file_create(const struct sio_file_ops *ops, void *priv, int flags)
{
	struct sio_file *file;
	int fd, rc;

	rc = sio_file_create(ops, priv, flags & O_CLOEXEC, &file, &fd);
	if (rc)
		return rc;
	/* No poll op in the kernel's VFIO files: always readable. */
	sio_file_set_readable(file, true);
	/* A client of the shared mode's server sets its own descriptor's
	 * flag: fd is its number, not ours. */
	if ((flags & O_NONBLOCK) && !sio_file_proxy_get())
		sio_sys_fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

int vfio_copy_from_user(struct vfio_device *vdev, void *dst, uint64_t uaddr,
			size_t len)
{
	return sio_umem_read(vdev->owner, dst, uaddr, len) ? -EFAULT : 0;
}

int vfio_copy_to_user(struct vfio_device *vdev, uint64_t uaddr,
		      const void *src, size_t len)
{
	return sio_umem_write(vdev->owner, uaddr, src, len) ? -EFAULT : 0;
}

void sio_vfio_set_owner(struct sio_vfio *vfio, struct sio_umem_owner *owner)
{
	struct sio_umem_owner *old;

	pthread_mutex_lock(&vfio->lock);
	for (unsigned int i = 0; i < vfio->ngroups; i++) {
		old = vfio->groups[i]->owner;
		vfio->groups[i]->owner = sio_umem_owner_get(owner);
		sio_umem_owner_put(old);
	}
	for (unsigned int i = 0; i < vfio->ndevices; i++) {
		old = vfio->devices[i]->owner;
		vfio->devices[i]->owner = sio_umem_owner_get(owner);
		sio_umem_owner_put(old);
	}
	old = vfio->owner;
	vfio->owner = sio_umem_owner_get(owner);
	pthread_mutex_unlock(&vfio->lock);
	sio_umem_owner_put(old);
}

/* ------------------------------------------------------------------ */
/* The subsystem                                                        */
/* ------------------------------------------------------------------ */

SIO_API int sio_vfio_create(struct sio_iommufd_host *host,
			    struct sio_vfio **out)
{
	struct sio_vfio *vfio;

	sio_err_clear();
	if (!host || !out)
		return sio_err(-EINVAL, "vfio: create: NULL argument");
	vfio = sio_calloc(1, sizeof(*vfio));
	if (!vfio)
		return sio_err(-ENOMEM, "vfio: create");
	vfio->host = host;
	vfio->owner = sio_umem_owner_get(iommufd_host_owner(host));
	pthread_mutex_init(&vfio->lock, NULL);
	*out = vfio;
	return 0;
}

/* Take vdev off its group's list: GET_DEVICE_FD no longer finds it. */
static void device_unregister(struct vfio_device *vdev)
{
	struct vfio_group *group = vdev->group;
	bool listed = false;

	pthread_mutex_lock(&group->lock);
	for (unsigned int i = 0; i < group->ndevs; i++) {
		if (group->devs[i] == vdev) {
			group->devs[i] = group->devs[--group->ndevs];
			listed = true;
			break;
		}
	}
	vdev->registered = false;
	if (!group->ndevs)
		group->removed = true;
	pthread_mutex_unlock(&group->lock);
	/* A program still using it is asked to give it back. */
	vfio_pci_irq_request(vdev);
	if (listed)
		vfio_device_put(vdev);
}

SIO_API void sio_vfio_destroy(struct sio_vfio *vfio)
{
	if (!vfio)
		return;
	for (unsigned int i = 0; i < vfio->ndevices; i++) {
		device_unregister(vfio->devices[i]);
		vfio_device_put(vfio->devices[i]);
	}
	for (unsigned int i = 0; i < vfio->ngroups; i++)
		vfio_group_put(vfio->groups[i]);
	free(vfio->devices);
	free(vfio->groups);
	sio_umem_owner_put(vfio->owner);
	pthread_mutex_destroy(&vfio->lock);
	free(vfio);
}

static int grow(void **arr, unsigned int *cap, unsigned int n, size_t elem)
{
	unsigned int ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	p = sio_realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* The VFIO group of core group cg, made on first appearance.  vfio->lock
 * held; the core group reference moves into a new group. */
static struct vfio_group *group_find_or_alloc(struct sio_vfio *vfio,
					      struct sio_group *cg, int *err)
{
	struct vfio_group *group;

	for (unsigned int i = 0; i < vfio->ngroups; i++) {
		if (vfio->groups[i]->group == cg) {
			sio_group_put(cg);
			return vfio->groups[i];
		}
	}
	if (grow((void **)&vfio->groups, &vfio->groups_cap, vfio->ngroups,
		 sizeof(*vfio->groups))) {
		*err = -ENOMEM;
		return NULL;
	}
	group = sio_calloc(1, sizeof(*group));
	if (!group) {
		*err = -ENOMEM;
		return NULL;
	}
	group->refs = 1;		/* the subsystem's */
	group->id = vfio->ngroups;
	group->group = cg;
	group->owner = sio_umem_owner_get(vfio->owner);
	group->host = vfio->host;
	group->removed = true;		/* until its first device is in */
	pthread_mutex_init(&group->lock, NULL);
	vfio->groups[vfio->ngroups++] = group;
	return group;
}

/* The offset of capability id in the standard list, or 0. */
static uint32_t find_cap(struct sio_pci_dev *pdev, uint8_t id)
{
	uint32_t pos = 0, v;

	if (sio_pci_config_read(pdev, PCI_CAPABILITY_LIST, 1, &pos))
		return 0;
	/* At most 48 capabilities fit: a loop in the list ends too. */
	for (int n = 0; pos >= 0x40 && n < 48; n++) {
		pos &= ~3u;
		if (sio_pci_config_read(pdev, pos, 1, &v))
			return 0;
		if (v == id)
			return pos;
		if (sio_pci_config_read(pdev, pos + 1, 1, &pos))
			return 0;
	}
	return 0;
}

/* The extended capabilities' ranges (the kernel's lengths by ID; an
 * unknown one is its header). */
static void find_ecaps(struct vfio_device *vdev)
{
	uint32_t pos = SIO_PCI_CONFIG_SIZE, h, len;

	if (vdev->cfg_size <= SIO_PCI_CONFIG_SIZE)
		return;
	for (int n = 0; pos >= SIO_PCI_CONFIG_SIZE && n < 64; n++) {
		if (sio_pci_config_read(vdev->pdev, pos, 4, &h) || !h ||
		    h == ~0u)
			return;
		switch (h & 0xffff) {
		case PCI_EXT_CAP_ID_PASID:
			len = PCI_EXT_CAP_PASID_SIZEOF;
			break;
		case PCI_EXT_CAP_ID_ATS:
			len = PCI_EXT_CAP_ATS_SIZEOF;
			break;
		case PCI_EXT_CAP_ID_PRI:
			len = PCI_EXT_CAP_PRI_SIZEOF;
			break;
		default:
			len = 4;
			break;
		}
		if (vdev->necaps < sizeof(vdev->ecaps) / sizeof(vdev->ecaps[0])) {
			vdev->ecaps[vdev->necaps].start = (uint16_t)pos;
			vdev->ecaps[vdev->necaps].end = (uint16_t)(pos + len);
			vdev->necaps++;
		}
		pos = PCI_EXT_CAP_NEXT(h);
	}
}

static struct vfio_device *device_alloc(struct sio_vfio *vfio,
					struct sio_pci_dev *pdev)
{
	struct vfio_device *vdev = sio_calloc(1, sizeof(*vdev));

	if (!vdev)
		return NULL;
	vdev->refs = 1;			/* the subsystem's */
	vdev->pdev = sio_pci_dev_get(pdev);
	vdev->owner = sio_umem_owner_get(vfio->owner);
	vdev->host = vfio->host;
	vdev->cfg_size = sio_pci_dev_config_size(pdev);
	sio_pci_bdf_format(sio_pci_dev_bdf(pdev), vdev->name,
			   sizeof(vdev->name));
	vdev->msi_cap = find_cap(pdev, PCI_CAP_ID_MSI);
	vdev->msix_cap = find_cap(pdev, PCI_CAP_ID_MSIX);
	vdev->pcie_cap = find_cap(pdev, PCI_CAP_ID_EXP);
	find_ecaps(vdev);
	vdev->irq_type = VFIO_IRQ_NONE;
	pthread_mutex_init(&vdev->lock, NULL);
	pthread_mutex_init(&vdev->igate, NULL);
	pthread_mutex_init(&vdev->trig_lock, NULL);
	pthread_mutex_init(&vdev->mmap_lock, NULL);
	return vdev;
}

SIO_API int sio_vfio_add_device(struct sio_vfio *vfio,
				struct sio_pci_dev *pdev)
{
	struct sio_device *dev;
	struct vfio_device *vdev;
	struct vfio_group *group;
	struct sio_group *cg;
	int rc;

	sio_err_clear();
	if (!vfio || !pdev)
		return sio_err(-EINVAL, "vfio: add_device: NULL argument");
	dev = sio_pci_dev_device(pdev);
	/* VFIO refuses devices whose DMA is not cache coherent, as iommufd
	 * always maps coherent. */
	if (!dev || !sio_device_capable(dev, SIO_CAP_CACHE_COHERENCY))
		return sio_err(-EINVAL, "vfio: %s is not cache coherent",
			       dev ? sio_device_name(dev) : "function");
	rc = sio_device_group(dev, &cg);
	if (rc)
		return sio_err(rc, "vfio: %s has no IOMMU group",
			       sio_device_name(dev));

	pthread_mutex_lock(&vfio->lock);
	for (unsigned int i = 0; i < vfio->ndevices; i++) {
		if (vfio->devices[i]->pdev == pdev) {
			pthread_mutex_unlock(&vfio->lock);
			sio_group_put(cg);
			return sio_err(-EEXIST, "vfio: %s added twice",
				       sio_device_name(dev));
		}
	}
	rc = grow((void **)&vfio->devices, &vfio->devices_cap, vfio->ndevices,
		  sizeof(*vfio->devices));
	if (rc) {
		pthread_mutex_unlock(&vfio->lock);
		sio_group_put(cg);
		return sio_err(rc, "vfio: out of memory");
	}
	group = group_find_or_alloc(vfio, cg, &rc);
	if (!group) {
		pthread_mutex_unlock(&vfio->lock);
		sio_group_put(cg);
		return sio_err(rc, "vfio: out of memory");
	}
	vdev = device_alloc(vfio, pdev);
	if (!vdev || vfio_irq_init(vdev)) {
		pthread_mutex_unlock(&vfio->lock);
		if (vdev)
			vfio_device_put(vdev);
		return sio_err(-ENOMEM, "vfio: out of memory");
	}
	vdev->group = vfio_group_get(group);
	vdev->index = vfio->ndevices;

	pthread_mutex_lock(&group->lock);
	rc = grow((void **)&group->devs, &group->devs_cap, group->ndevs,
		  sizeof(*group->devs));
	if (!rc) {
		group->devs[group->ndevs++] = vfio_device_get(vdev);
		group->removed = false;
		vdev->registered = true;
	}
	pthread_mutex_unlock(&group->lock);
	if (rc) {
		pthread_mutex_unlock(&vfio->lock);
		vfio_device_put(vdev);
		return sio_err(rc, "vfio: out of memory");
	}
	vfio->devices[vfio->ndevices++] = vdev;
	pthread_mutex_unlock(&vfio->lock);
	return 0;
}

SIO_API int sio_vfio_for_each_device(
	struct sio_vfio *vfio,
	int (*fn)(const struct sio_vfio_device_entry *info, void *arg),
	void *arg)
{
	struct sio_vfio_device_entry *infos;
	unsigned int n;
	int rc = 0;

	if (!vfio || !fn)
		return sio_err(-EINVAL, "vfio: for_each_device: NULL argument");
	/* fn runs unlocked, on a snapshot: it may open what it is shown. */
	pthread_mutex_lock(&vfio->lock);
	n = vfio->ndevices;
	infos = sio_calloc(n ? n : 1, sizeof(*infos));
	if (!infos) {
		pthread_mutex_unlock(&vfio->lock);
		return sio_err(-ENOMEM, "vfio: out of memory");
	}
	for (unsigned int i = 0; i < n; i++) {
		struct vfio_device *vdev = vfio->devices[i];

		infos[i].pdev = sio_pci_dev_get(vdev->pdev);
		infos[i].group = vdev->group->id;
		infos[i].cdev = vdev->index;
	}
	pthread_mutex_unlock(&vfio->lock);
	for (unsigned int i = 0; i < n && !rc; i++)
		rc = fn(&infos[i], arg);
	for (unsigned int i = 0; i < n; i++)
		sio_pci_dev_put(infos[i].pdev);
	free(infos);
	return rc;
}

struct vfio_device *vfio_lookup_device(struct sio_vfio *vfio,
				       unsigned int index)
{
	struct vfio_device *vdev = NULL;

	pthread_mutex_lock(&vfio->lock);
	if (index < vfio->ndevices)
		vdev = vfio_device_get(vfio->devices[index]);
	pthread_mutex_unlock(&vfio->lock);
	return vdev;
}

struct vfio_group *vfio_lookup_group(struct sio_vfio *vfio, unsigned int id)
{
	struct vfio_group *group = NULL;

	pthread_mutex_lock(&vfio->lock);
	if (id < vfio->ngroups)
		group = vfio_group_get(vfio->groups[id]);
	pthread_mutex_unlock(&vfio->lock);
	return group;
}
