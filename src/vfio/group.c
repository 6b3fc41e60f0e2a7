/*
 * VFIO groups, /dev/vfio/<group> (the kernel's drivers/vfio/group.c with
 * an iommufd container, Linux 7.3).
 *
 * A group file is the legacy way in: the program puts the group into a
 * container (an iommufd, from /dev/vfio/vfio or /dev/iommu), then asks it
 * for device fds by name.  With an iommufd the group only remembers the
 * context (SET_CONTAINER makes its compat IOAS); each device is bound to
 * the context by the first GET_DEVICE_FD that opens it and attached to
 * the compat IOAS, and unbound when its last device fd closes.
 *
 * The kernel's rules, errno for errno:
 *  - one open of a group at a time (EBUSY), and none while a device of it
 *    is bound through its cdev (EBUSY; cdev.c refuses the other way round);
 *  - SET_CONTAINER: EFAULT for the int, EBADF for a closed fd, EINVAL if
 *    the group has a container already, EBADFD for an fd that is not an
 *    iommufd; UNSET_CONTAINER: EINVAL without one.  Device fds keep their
 *    binding, which holds the context, so neither waits for them;
 *  - GET_DEVICE_FD: the name is a string of at most a page (EFAULT,
 *    EINVAL); "<bdf>" or "<bdf> vf_token=<uuid>" (a token for a function
 *    that is neither PF nor VF is EINVAL); ENODEV for no such device;
 *    EINVAL without a container; the fd is close-on-exec.
 *  - closing the group drops the container; device fds stay usable.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file/file.h"
#include "iommufd/iommufd_vfio.h"
#include "softiommu/file.h"
#include "softiommu/group.h"
#include "softiommu/umem.h"
#include "vfio/vfio_private.h"
#include "util/fail.h"

static bool group_has_iommu(struct vfio_group *group)
{
	return group->iommufd != NULL;
}

/* ------------------------------------------------------------------ */
/* Device fds                                                           */
/* ------------------------------------------------------------------ */

static int vfio_df_group_open(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->device;
	struct vfio_group *group = vdev->group;
	uint32_t ioas_id;
	int rc;

	pthread_mutex_lock(&group->lock);
	if (!group_has_iommu(group)) {
		rc = sio_err(-EINVAL, "vfio: group %u has no container",
			     group->id);
		goto out_unlock;
	}
	pthread_mutex_lock(&vdev->lock);
	df->iommufd = group->iommufd;
	rc = vfio_df_open(df);
	if (rc)
		goto out_clear;
	/* The first open attaches the device to the container's IOAS. */
	if (vdev->open_count == 1) {
		rc = iommufd_vfio_compat_ioas_get_id(df->iommufd, &ioas_id);
		if (!rc)
			rc = vfio_device_attach_ioas(vdev, &ioas_id);
		if (rc) {
			vfio_df_close(df);
			goto out_clear;
		}
	}
	__atomic_store_n(&df->access_granted, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vdev->lock);
	pthread_mutex_unlock(&group->lock);
	return 0;

out_clear:
	df->iommufd = NULL;
	pthread_mutex_unlock(&vdev->lock);
out_unlock:
	pthread_mutex_unlock(&group->lock);
	return rc;
}

void vfio_df_group_close(struct vfio_device_file *df)
{
	struct vfio_device *vdev = df->device;
	struct vfio_group *group = vdev->group;

	pthread_mutex_lock(&group->lock);
	pthread_mutex_lock(&vdev->lock);
	vfio_df_close(df);
	df->iommufd = NULL;
	pthread_mutex_unlock(&vdev->lock);
	pthread_mutex_unlock(&group->lock);
}

/* A string of the program's of at most max bytes with its NUL (the
 * kernel's strndup_user): read up to each page end, so a string that ends
 * just before unmapped memory is read. */
static char *strndup_user(struct sio_umem_owner *owner, uint64_t uaddr,
			  size_t max, size_t page, int *err)
{
	char *buf = sio_malloc(max);
	size_t got = 0;

	if (!buf) {
		*err = -ENOMEM;
		return NULL;
	}
	while (got < max) {
		size_t n = page - ((uaddr + got) & (page - 1));

		if (n > max - got)
			n = max - got;
		if (sio_umem_read(owner, buf + got, uaddr + got, n)) {
			free(buf);
			*err = -EFAULT;
			return NULL;
		}
		if (memchr(buf + got, 0, n))
			return buf;
		got += n;
	}
	free(buf);
	*err = -EINVAL;		/* longer than max */
	return NULL;
}

/*
 * vfio-pci's match: 1 if buf names vdev, 0 if not, or an error.  After
 * the name only spaces and options may follow; the only option is
 * vf_token=<uuid>, which a function that is neither an SR-IOV PF nor VF
 * refuses (EINVAL), as does a malformed or repeated option.
 */
static int device_match(struct vfio_device *vdev, const char *buf)
{
	size_t n = strlen(vdev->name);

	if (strncmp(vdev->name, buf, n))
		return 0;
	buf += n;
	if (!*buf)
		return 1;
	if (*buf != ' ')
		return 0;
	while (*buf == ' ')
		buf++;
	if (*buf)
		return sio_err(-EINVAL, "vfio: %s: no VF token here (%s)",
			       vdev->name, buf);
	return 1;
}

static long group_get_device_fd(struct vfio_group *group, uint64_t uarg)
{
	struct vfio_device *vdev = NULL;
	struct vfio_device_file *df;
	int rc = -ENODEV, fd;
	char *name;

	name = strndup_user(group->owner, uarg, sysconf(_SC_PAGESIZE),
			    sio_umem_page_size(group->owner), &rc);
	if (!name)
		return rc;
	rc = -ENODEV;
	pthread_mutex_lock(&group->lock);
	for (unsigned int i = 0; i < group->ndevs; i++) {
		int m = device_match(group->devs[i], name);

		if (m < 0) {
			rc = m;
			break;
		}
		if (m) {
			vdev = vfio_device_get(group->devs[i]);
			break;
		}
	}
	pthread_mutex_unlock(&group->lock);
	if (!vdev) {
		if (rc == -ENODEV)
			sio_err(rc, "vfio: group %u has no device \"%s\"",
				group->id, name);
		free(name);
		return rc;
	}
	free(name);

	df = vfio_device_file_alloc(vdev, group);
	vfio_device_put(vdev);
	if (!df)
		return -ENOMEM;
	rc = vfio_df_group_open(df);
	if (rc) {
		vfio_device_file_free(df);
		return rc;
	}
	fd = vfio_file_create(&vfio_device_fops, df, O_CLOEXEC);
	if (fd < 0) {
		vfio_df_group_close(df);
		vfio_device_file_free(df);
	}
	return fd;
}

/* ------------------------------------------------------------------ */
/* Status and container                                                 */
/* ------------------------------------------------------------------ */

static long group_get_status(struct vfio_group *group, uint64_t uarg)
{
	const size_t minsz = OFFSETOFEND(struct sio_vfio_group_status, flags);
	struct sio_vfio_group_status status;

	if (sio_umem_read(group->owner, &status, uarg, minsz))
		return -EFAULT;
	if (status.argsz < minsz)
		return -EINVAL;
	status.flags = 0;
	pthread_mutex_lock(&group->lock);
	if (group->removed) {
		pthread_mutex_unlock(&group->lock);
		return sio_err(-ENODEV, "vfio: group %u has no device",
			       group->id);
	}
	/* Every device of a group added to VFIO is bound to vfio-pci: the
	 * group is viable unless someone else owns its DMA. */
	if (group_has_iommu(group))
		status.flags |= SIO_VFIO_GROUP_FLAGS_CONTAINER_SET |
				SIO_VFIO_GROUP_FLAGS_VIABLE;
	else if (!sio_group_dma_owned(group->group))
		status.flags |= SIO_VFIO_GROUP_FLAGS_VIABLE;
	pthread_mutex_unlock(&group->lock);
	if (sio_umem_write(group->owner, uarg, &status, minsz))
		return -EFAULT;
	return 0;
}

static long group_set_container(struct vfio_group *group, uint64_t uarg)
{
	struct sio_iommufd *ictx;
	int32_t fd;
	int rc = 0;

	if (sio_umem_read(group->owner, &fd, uarg, sizeof(fd)))
		return -EFAULT;
	if (!vfio_fd_is_open(fd))
		return sio_err(-EBADF, "vfio: container fd %d", fd);

	pthread_mutex_lock(&group->lock);
	if (group_has_iommu(group)) {
		rc = sio_err(-EINVAL, "vfio: group %u has a container",
			     group->id);
		goto out_unlock;
	}
	if (group->removed) {
		rc = sio_err(-ENODEV, "vfio: group %u has no device",
			     group->id);
		goto out_unlock;
	}
	ictx = vfio_iommufd_from_fd(group->host, fd, &rc);
	if (!ictx) {
		sio_err(rc, "vfio: fd %d is not a container", fd);
		goto out_unlock;
	}
	rc = iommufd_vfio_compat_ioas_create(ictx);
	if (rc) {
		iommufd_ctx_put(ictx);
		goto out_unlock;
	}
	group->iommufd = ictx;
out_unlock:
	pthread_mutex_unlock(&group->lock);
	return rc;
}

static long group_unset_container(struct vfio_group *group)
{
	struct sio_iommufd *ictx;

	pthread_mutex_lock(&group->lock);
	ictx = group->iommufd;
	group->iommufd = NULL;
	pthread_mutex_unlock(&group->lock);
	if (!ictx)
		return sio_err(-EINVAL, "vfio: group %u has no container",
			       group->id);
	iommufd_ctx_put(ictx);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The group file                                                       */
/* ------------------------------------------------------------------ */

static long group_ioctl(struct sio_file *file, unsigned int cmd,
			unsigned long arg)
{
	struct vfio_group *group = sio_file_priv(file);

	switch (cmd) {
	case SIO_VFIO_GROUP_GET_DEVICE_FD:
		return group_get_device_fd(group, arg);
	case SIO_VFIO_GROUP_GET_STATUS:
		return group_get_status(group, arg);
	case SIO_VFIO_GROUP_SET_CONTAINER:
		return group_set_container(group, arg);
	case SIO_VFIO_GROUP_UNSET_CONTAINER:
		return group_unset_container(group);
	default:
		return -ENOTTY;
	}
}

static void group_release(struct sio_file *file)
{
	struct vfio_group *group = sio_file_priv(file);
	struct sio_iommufd *ictx;

	pthread_mutex_lock(&group->lock);
	ictx = group->iommufd;
	group->iommufd = NULL;
	group->opened = false;
	pthread_mutex_unlock(&group->lock);
	if (ictx)
		iommufd_ctx_put(ictx);
	vfio_group_put(group);
}

static const struct sio_file_ops vfio_group_fops = {
	.name = "vfio-group",
	.ioctl = group_ioctl,
	.release = group_release,
};

SIO_API int sio_vfio_open_group(struct sio_vfio *vfio, unsigned int id,
				int flags)
{
	struct vfio_group *group;
	int fd, rc = 0;

	sio_err_clear();
	if (!vfio)
		return sio_err(-EINVAL, "vfio: open_group: NULL vfio");
	group = vfio_lookup_group(vfio, id);
	if (!group)
		return sio_err(-ENOENT, "vfio: no group %u", id);
	pthread_mutex_lock(&group->lock);
	if (group->removed)
		rc = sio_err(-ENODEV, "vfio: group %u has no device", id);
	else if (group->cdev_device_open_cnt)
		rc = sio_err(-EBUSY, "vfio: group %u: a device is bound through its cdev", id);
	else if (group->opened)
		rc = sio_err(-EBUSY, "vfio: group %u is open", id);
	else
		group->opened = true;
	pthread_mutex_unlock(&group->lock);
	if (rc) {
		vfio_group_put(group);
		return rc;
	}
	/* The lookup's reference becomes the file's. */
	fd = vfio_file_create(&vfio_group_fops, group, flags);
	if (fd < 0) {
		pthread_mutex_lock(&group->lock);
		group->opened = false;
		pthread_mutex_unlock(&group->lock);
		vfio_group_put(group);
	}
	return fd;
}
