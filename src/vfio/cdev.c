/*
 * Device cdevs, /dev/vfio/devices/vfio<N>, and the iommufd binding of a
 * device (the kernel's device_cdev.c and drivers/vfio/iommufd.c, Linux
 * 7.3).
 *
 * Opening a cdev gives a device file that can do nothing but
 * VFIO_DEVICE_BIND_IOMMUFD.  Bind opens the device for the file: it binds
 * the function to the given iommufd, where it is an ordinary device object
 * (out_devid) that every iommufd ioctl taking a device ID acts on
 * (HWPT_ALLOC, GET_HW_INFO, fault queues, dirty tracking, vIOMMUs), and
 * grants the file access.  ATTACH_IOMMUFD_PT and DETACH_IOMMUFD_PT then
 * move its RID or one of its PASIDs between IOASes and HWPTs; closing the
 * file detaches everything and unbinds.
 *
 * The kernel's rules, errno for errno:
 *  - BIND: argsz at least up to out_devid, the tail beyond our structure
 *    zero (E2BIG), else EINVAL; iommufd < 0 or unknown flags: EINVAL; on
 *    a device fd from a group: EINVAL; while the group is open: EBUSY;
 *    bound already, or the device open through its group or another cdev:
 *    EINVAL; a VF token (FLAG_TOKEN) for a function that is neither PF nor
 *    VF: EINVAL (EFAULT if it cannot be read); a closed fd: EBADF; an fd
 *    that is not an iommufd: EBADFD; then iommufd's own (EBUSY when another
 *    context owns the group's DMA);
 *  - ATTACH: argsz up to pt_id (EINVAL), flags other than ATTACH_PASID
 *    (EINVAL), with it argsz up to pasid (EINVAL); attaching again
 *    replaces; iommufd's errnos (ENOENT for an unknown pt_id);
 *  - DETACH: argsz up to flags, DETACH_PASID likewise; detaching what is
 *    not attached is 0.
 * A cdev-bound device keeps its group closed: opening the group is EBUSY.
 */
#include <stdlib.h>
#include <string.h>

#include "iommufd/iommufd_vfio.h"
#include "softiommu/file.h"
#include "vfio/vfio_private.h"
#include "util/fail.h"

/* ------------------------------------------------------------------ */
/* The iommufd binding (vfio_iommufd_physical_*), vdev->lock held      */
/* ------------------------------------------------------------------ */

int vfio_device_iommufd_bind(struct vfio_device *vdev,
			     struct sio_iommufd *ictx, uint32_t *devid)
{
	struct iommufd_device *idev;
	int rc;

	idev = iommufd_device_bind(ictx, sio_pci_dev_device(vdev->pdev),
				   devid, &rc);
	if (!idev)
		return sio_err(rc, "vfio: %s: bind to iommufd failed", vdev->name);
	/* A bound device holds its context, as the kernel's bind holds the
	 * iommufd file: closing the iommufd fd leaves the binding working. */
	iommufd_ctx_get(ictx);
	vdev->bound = ictx;
	vdev->idev = idev;
	vdev->devid = *devid;
	vdev->attached = false;
	vdev->npasids = 0;
	return 0;
}

void vfio_device_iommufd_unbind(struct vfio_device *vdev)
{
	struct sio_iommufd *ictx = vdev->bound;

	if (!vdev->idev)
		return;
	while (vdev->npasids)
		iommufd_device_detach(vdev->idev, vdev->pasids[--vdev->npasids]);
	if (vdev->attached)
		iommufd_device_detach(vdev->idev, SIO_NO_PASID);
	vdev->attached = false;
	iommufd_device_unbind(vdev->idev);
	vdev->idev = NULL;
	vdev->bound = NULL;
	iommufd_ctx_put(ictx);
}

int vfio_device_attach_ioas(struct vfio_device *vdev, uint32_t *pt_id)
{
	int rc;

	if (!vdev->idev)
		return -EINVAL;
	if (vdev->attached)
		rc = iommufd_device_replace(vdev->idev, SIO_NO_PASID, pt_id);
	else
		rc = iommufd_device_attach(vdev->idev, SIO_NO_PASID, pt_id);
	if (rc)
		return rc;
	vdev->attached = true;
	return 0;
}

static void vfio_device_detach_ioas(struct vfio_device *vdev)
{
	if (!vdev->idev || !vdev->attached)
		return;
	iommufd_device_detach(vdev->idev, SIO_NO_PASID);
	vdev->attached = false;
}

static int pasid_index(struct vfio_device *vdev, uint32_t pasid)
{
	for (unsigned int i = 0; i < vdev->npasids; i++)
		if (vdev->pasids[i] == pasid)
			return (int)i;
	return -1;
}

static int vfio_device_pasid_attach_ioas(struct vfio_device *vdev,
					 uint32_t pasid, uint32_t *pt_id)
{
	int rc;

	if (!vdev->idev)
		return -EINVAL;
	if (pasid_index(vdev, pasid) >= 0)
		return iommufd_device_replace(vdev->idev, pasid, pt_id);
	if (vdev->npasids == vdev->pasids_cap) {
		unsigned int ncap = vdev->pasids_cap ? vdev->pasids_cap * 2 : 4;
		uint32_t *n = sio_realloc(vdev->pasids, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		vdev->pasids = n;
		vdev->pasids_cap = ncap;
	}
	rc = iommufd_device_attach(vdev->idev, pasid, pt_id);
	if (rc)
		return rc;
	vdev->pasids[vdev->npasids++] = pasid;
	return 0;
}

static void vfio_device_pasid_detach_ioas(struct vfio_device *vdev,
					  uint32_t pasid)
{
	int i = pasid_index(vdev, pasid);

	if (!vdev->idev || i < 0)
		return;
	iommufd_device_detach(vdev->idev, pasid);
	vdev->pasids[i] = vdev->pasids[--vdev->npasids];
}

/* ------------------------------------------------------------------ */
/* Group exclusion                                                      */
/* ------------------------------------------------------------------ */

/* A cdev bind keeps the group from being opened, and an open group
 * keeps cdevs from binding (vfio_device_block_group). */
static int block_group(struct vfio_device *vdev)
{
	struct vfio_group *group = vdev->group;
	int rc = 0;

	pthread_mutex_lock(&group->lock);
	if (group->opened)
		rc = sio_err(-EBUSY, "vfio: %s: its group %u is open",
			     vdev->name, group->id);
	else
		group->cdev_device_open_cnt++;
	pthread_mutex_unlock(&group->lock);
	return rc;
}

static void unblock_group(struct vfio_device *vdev)
{
	struct vfio_group *group = vdev->group;

	pthread_mutex_lock(&group->lock);
	group->cdev_device_open_cnt--;
	pthread_mutex_unlock(&group->lock);
}

/* ------------------------------------------------------------------ */
/* BIND, ATTACH, DETACH                                                 */
/* ------------------------------------------------------------------ */

/* The kernel's copy_struct_from_user: a larger caller structure must be
 * zero past ours. */
static int copy_struct_from_user(struct vfio_device *vdev, void *dst,
				 size_t ksize, uint64_t uarg, size_t usize)
{
	uint8_t chunk[64];

	memset(dst, 0, ksize);
	if (vfio_copy_from_user(vdev, dst, uarg, usize < ksize ? usize : ksize))
		return -EFAULT;
	for (size_t off = ksize; off < usize; off += sizeof(chunk)) {
		size_t n = usize - off < sizeof(chunk) ? usize - off :
							 sizeof(chunk);

		if (vfio_copy_from_user(vdev, chunk, uarg + off, n))
			return -EFAULT;
		for (size_t i = 0; i < n; i++)
			if (chunk[i])
				return -E2BIG;
	}
	return 0;
}

/* vfio-pci's VF token check: these functions are neither SR-IOV PFs nor
 * VFs, so a token is refused, after it has been read. */
static int check_token(struct vfio_device *vdev,
		       const struct sio_vfio_device_bind_iommufd *bind)
{
	uint8_t uuid[16];

	if (!(bind->flags & SIO_VFIO_DEVICE_BIND_FLAG_TOKEN))
		return 0;
	if (vfio_copy_from_user(vdev, uuid, bind->token_uuid_ptr, sizeof(uuid)))
		return -EFAULT;
	return sio_err(-EINVAL, "vfio: %s: VF token for a function that is not a PF or VF",
		       vdev->name);
}

long vfio_df_ioctl_bind_iommufd(struct vfio_device_file *df, uint64_t uarg)
{
	const size_t minsz = OFFSETOFEND(struct sio_vfio_device_bind_iommufd,
					 out_devid);
	struct vfio_device *vdev = df->device;
	struct sio_vfio_device_bind_iommufd bind;
	uint32_t user_size;
	int rc;

	if (vfio_copy_from_user(vdev, &user_size, uarg, sizeof(user_size)))
		return -EFAULT;
	if (user_size < minsz)
		return -EINVAL;
	rc = copy_struct_from_user(vdev, &bind, sizeof(bind), uarg, user_size);
	if (rc)
		return rc;
	if (bind.iommufd < 0 || (bind.flags & ~SIO_VFIO_DEVICE_BIND_FLAG_TOKEN))
		return -EINVAL;
	/* Only cdev fds bind: a group's device fd is open already. */
	if (df->group)
		return -EINVAL;

	rc = block_group(vdev);
	if (rc)
		return rc;
	pthread_mutex_lock(&vdev->lock);
	/* One file binds once. */
	if (__atomic_load_n(&df->access_granted, __ATOMIC_ACQUIRE)) {
		rc = sio_err(-EINVAL, "vfio: %s is bound already", vdev->name);
		goto out_unlock;
	}
	rc = check_token(vdev, &bind);
	if (rc)
		goto out_unlock;
	df->iommufd = vfio_iommufd_from_fd(vdev->host, bind.iommufd, &rc);
	if (!df->iommufd) {
		sio_err(rc, "vfio: %s: fd %d is not an iommufd", vdev->name,
			bind.iommufd);
		goto out_unlock;
	}
	rc = vfio_df_open(df);
	if (rc)
		goto out_put;
	if (vfio_copy_to_user(vdev,
			      uarg + offsetof(struct sio_vfio_device_bind_iommufd,
					      out_devid),
			      &df->devid, sizeof(df->devid))) {
		rc = -EFAULT;
		vfio_df_close(df);
		goto out_put;
	}
	vdev->cdev_opened = true;
	__atomic_store_n(&df->access_granted, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vdev->lock);
	return 0;

out_put:
	iommufd_ctx_put(df->iommufd);
	df->iommufd = NULL;
out_unlock:
	pthread_mutex_unlock(&vdev->lock);
	unblock_group(vdev);
	return rc;
}

void vfio_df_unbind_iommufd(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->device;

	/* Nothing else uses the file while it is released. */
	if (!__atomic_load_n(&df->access_granted, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&vdev->lock);
	vfio_df_close(df);
	iommufd_ctx_put(df->iommufd);
	df->iommufd = NULL;
	vdev->cdev_opened = false;
	pthread_mutex_unlock(&vdev->lock);
	unblock_group(vdev);
}

long vfio_df_ioctl_attach_pt(struct vfio_device_file *df, uint64_t uarg)
{
	const size_t minsz = OFFSETOFEND(struct sio_vfio_device_attach_iommufd_pt,
					 pt_id);
	const size_t xend = OFFSETOFEND(struct sio_vfio_device_attach_iommufd_pt,
					pasid);
	struct vfio_device *vdev = df->device;
	struct sio_vfio_device_attach_iommufd_pt attach = { 0 };
	bool pasid;
	int rc;

	if (vfio_copy_from_user(vdev, &attach, uarg, minsz))
		return -EFAULT;
	if (attach.argsz < minsz)
		return -EINVAL;
	if (attach.flags & ~SIO_VFIO_DEVICE_ATTACH_PASID)
		return -EINVAL;
	pasid = attach.flags & SIO_VFIO_DEVICE_ATTACH_PASID;
	if (pasid) {
		if (attach.argsz < xend)
			return -EINVAL;
		if (vfio_copy_from_user(vdev, (uint8_t *)&attach + minsz,
					uarg + minsz, xend - minsz))
			return -EFAULT;
	}

	pthread_mutex_lock(&vdev->lock);
	if (pasid)
		rc = vfio_device_pasid_attach_ioas(vdev, attach.pasid,
						   &attach.pt_id);
	else
		rc = vfio_device_attach_ioas(vdev, &attach.pt_id);
	if (rc)
		goto out_unlock;
	if (vfio_copy_to_user(vdev,
			      uarg + offsetof(struct sio_vfio_device_attach_iommufd_pt,
					      pt_id),
			      &attach.pt_id, sizeof(attach.pt_id))) {
		rc = -EFAULT;
		if (pasid)
			vfio_device_pasid_detach_ioas(vdev, attach.pasid);
		else
			vfio_device_detach_ioas(vdev);
	}
out_unlock:
	pthread_mutex_unlock(&vdev->lock);
	return rc;
}

long vfio_df_ioctl_detach_pt(struct vfio_device_file *df, uint64_t uarg)
{
	const size_t minsz = OFFSETOFEND(struct sio_vfio_device_detach_iommufd_pt,
					 flags);
	const size_t xend = OFFSETOFEND(struct sio_vfio_device_detach_iommufd_pt,
					pasid);
	struct vfio_device *vdev = df->device;
	struct sio_vfio_device_detach_iommufd_pt detach = { 0 };
	bool pasid;

	if (vfio_copy_from_user(vdev, &detach, uarg, minsz))
		return -EFAULT;
	if (detach.argsz < minsz)
		return -EINVAL;
	if (detach.flags & ~SIO_VFIO_DEVICE_DETACH_PASID)
		return -EINVAL;
	pasid = detach.flags & SIO_VFIO_DEVICE_DETACH_PASID;
	if (pasid) {
		if (detach.argsz < xend)
			return -EINVAL;
		if (vfio_copy_from_user(vdev, (uint8_t *)&detach + minsz,
					uarg + minsz, xend - minsz))
			return -EFAULT;
	}
	pthread_mutex_lock(&vdev->lock);
	if (pasid)
		vfio_device_pasid_detach_ioas(vdev, detach.pasid);
	else
		vfio_device_detach_ioas(vdev);
	pthread_mutex_unlock(&vdev->lock);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Open                                                                 */
/* ------------------------------------------------------------------ */

SIO_API int sio_vfio_open_cdev(struct sio_vfio *vfio, unsigned int index,
			       int flags)
{
	struct vfio_device_file *df;
	struct vfio_device *vdev;
	bool registered;
	int fd;

	sio_err_clear();
	if (!vfio)
		return sio_err(-EINVAL, "vfio: open_cdev: NULL vfio");
	vdev = vfio_lookup_device(vfio, index);
	if (!vdev)
		return sio_err(-ENOENT, "vfio: no device vfio%u", index);
	pthread_mutex_lock(&vdev->group->lock);
	registered = vdev->registered;
	pthread_mutex_unlock(&vdev->group->lock);
	if (!registered) {
		vfio_device_put(vdev);
		return sio_err(-ENODEV, "vfio: vfio%u is gone", index);
	}
	df = vfio_device_file_alloc(vdev, NULL);
	vfio_device_put(vdev);
	if (!df)
		return sio_err(-ENOMEM, "vfio: out of memory");
	fd = vfio_file_create(&vfio_device_fops, df, flags);
	if (fd < 0)
		vfio_device_file_free(df);
	return fd;
}
