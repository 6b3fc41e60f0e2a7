/*
 * vIOMMUs and vDEVICEs as iommufd objects (the kernel's viommu.c).
 *
 * VIOMMU_ALLOC makes the core's vIOMMU (softiommu/viommu.h) of a type the
 * device's driver offers, on a nesting-parent HWPT it then holds.  It
 * gives the core this layer's user ops: events go to the vIOMMU's
 * vEVENTQs (veventq.c), mmap regions to the context's table (mmap.c).
 * Driver data is in and out: what the driver writes back is copied to the
 * program after its init.
 *
 * VDEVICE_ALLOC gives a bound device a virtual ID on a vIOMMU: one per
 * device (-EEXIST), one device per ID (-EEXIST, the core's table).  The
 * vDEVICE holds the vIOMMU and the device; it is created and destroyed
 * under the device's igroup->lock, which is also where idev->vdev lives.
 *
 * The tombstone rule: a device that goes while it has a vDEVICE takes the
 * vDEVICE with it (iommufd_device_remove_vdev, before the unbind), but
 * the vDEVICE's ID stays taken, invisible, until the context is closed, so
 * DESTROY of it is -ENOENT and the ID is not reused under the program's
 * feet.  The device is marked "destroying" first so no new vDEVICE comes.
 */
#include <sched.h>
#include <stdlib.h>

#include "iommufd/iommufd_private.h"

static struct iommufd_viommu *to_iommufd_viommu(struct sio_viommu *core)
{
	return core->user;
}

static int viommu_report_event(struct sio_viommu *core, uint32_t type,
			       const void *data, size_t len)
{
	return iommufd_viommu_report_event(to_iommufd_viommu(core), type, data,
					   len);
}

static int viommu_alloc_mmap(struct sio_viommu *core, int fd,
			     uint64_t fd_offset, size_t length,
			     uint64_t *offset)
{
	struct iommufd_viommu *viommu = to_iommufd_viommu(core);

	return iommufd_mmap_alloc(viommu->ictx, &viommu->obj, fd, fd_offset,
				  length, offset);
}

static void viommu_destroy_mmap(struct sio_viommu *core, uint64_t offset)
{
	struct iommufd_viommu *viommu = to_iommufd_viommu(core);

	iommufd_mmap_destroy(viommu->ictx, &viommu->obj, offset);
}

static const struct sio_viommu_user_ops viommu_user_ops = {
	.report_event = viommu_report_event,
	.alloc_mmap = viommu_alloc_mmap,
	.destroy_mmap = viommu_destroy_mmap,
};

void iommufd_viommu_destroy(struct iommufd_object *obj)
{
	struct iommufd_viommu *viommu =
		sio_container_of(obj, struct iommufd_viommu, obj);

	/* Everything made on it held it: nothing is left to refuse. */
	if (viommu->core)
		sio_viommu_free(viommu->core);
	if (viommu->hwpt)
		iommufd_obj_put(&viommu->hwpt->common.obj);
	pthread_rwlock_destroy(&viommu->veventqs_lock);
}

struct iommufd_viommu *iommufd_get_viommu(struct sio_iommufd *ictx,
					  uint32_t id, int *err)
{
	struct iommufd_object *obj = iommufd_get_object(ictx, id,
							IOMMUFD_OBJ_VIOMMU,
							err);

	return obj ? sio_container_of(obj, struct iommufd_viommu, obj) : NULL;
}

static struct iommufd_device *get_device(struct sio_iommufd *ictx, uint32_t id,
					 int *err)
{
	struct iommufd_object *obj = iommufd_get_object(ictx, id,
							IOMMUFD_OBJ_DEVICE,
							err);

	return obj ? sio_container_of(obj, struct iommufd_device, obj) : NULL;
}

/* Create the vIOMMU: the core one, then the program gets the driver's
 * answer.  On failure the dispatcher aborts the object. */
static int viommu_init(struct iommufd_ucmd *ucmd, struct iommufd_viommu *viommu,
		       struct iommufd_device *idev)
{
	struct iommu_viommu_alloc *cmd = ucmd->cmd;
	struct sio_user_data ud = { 0 };
	int rc;

	if (cmd->data_len) {
		rc = iommufd_copy_user_data(ucmd->ictx, cmd->type,
					    cmd->data_uptr, cmd->data_len, &ud);
		if (rc)
			goto out;
	}
	rc = sio_viommu_alloc(idev->dev, viommu->hwpt->common.domain,
			      cmd->type, ud.len ? &ud : NULL, &viommu_user_ops,
			      viommu, &viommu->core);
	if (rc) {
		viommu->core = NULL;
		goto out;
	}
	if (ud.out_len && sio_umem_write(ucmd->ictx->host->owner,
					 cmd->data_uptr, ud.buf, ud.out_len)) {
		rc = sio_err(-EFAULT,
			     "IOMMU_VIOMMU_ALLOC: data_uptr not writable");
		goto out;
	}
	cmd->out_viommu_id = viommu->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out:
	free(ud.buf);
	return rc;
}

int iommufd_viommu_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_viommu_alloc *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_viommu *viommu;
	struct iommufd_object *hwpt_obj, *obj;
	struct iommufd_device *idev;
	int rc;

	if (cmd->flags || cmd->type == IOMMU_VIOMMU_TYPE_DEFAULT)
		return sio_err(-EOPNOTSUPP,
			       "IOMMU_VIOMMU_ALLOC: unknown flags or type %u", cmd->type);
	idev = get_device(ucmd->ictx, cmd->dev_id, &rc);
	if (!idev)
		return rc;
	if (!sio_viommu_type_supported(idev->dev, cmd->type)) {
		rc = sio_err(-EOPNOTSUPP,
			     "IOMMU_VIOMMU_ALLOC: type %u not supported by the device's IOMMU", cmd->type);
		goto out_put_idev;
	}
	hwpt_obj = iommufd_get_object(ucmd->ictx, cmd->hwpt_id,
				      IOMMUFD_OBJ_HWPT_PAGING, &rc);
	if (!hwpt_obj)
		goto out_put_idev;
	hwpt_paging = to_hwpt_paging(hwpt_obj);
	if (!hwpt_paging->nest_parent) {
		rc = sio_err(-EINVAL,
			     "IOMMU_VIOMMU_ALLOC: HWPT %u is not a nesting parent", cmd->hwpt_id);
		goto out_put_hwpt;
	}
	obj = iommufd_object_alloc_ucmd(ucmd, sizeof(*viommu),
					IOMMUFD_OBJ_VIOMMU, &rc);
	if (!obj)
		goto out_put_hwpt;
	viommu = sio_container_of(obj, struct iommufd_viommu, obj);
	viommu->ictx = ucmd->ictx;
	pthread_rwlock_init(&viommu->veventqs_lock, NULL);
	CDS_INIT_LIST_HEAD(&viommu->veventqs);
	iommufd_obj_get(hwpt_obj);
	viommu->hwpt = hwpt_paging;
	rc = viommu_init(ucmd, viommu, idev);
out_put_hwpt:
	iommufd_put_object(ucmd->ictx, hwpt_obj);
out_put_idev:
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}

/* ------------------------------------------------------------------ */
/* vDEVICEs                                                             */
/* ------------------------------------------------------------------ */

/* Undo everything but the device reference; igroup->lock held. */
void iommufd_vdevice_abort(struct iommufd_object *obj)
{
	struct iommufd_vdevice *vdev =
		sio_container_of(obj, struct iommufd_vdevice, obj);

	sio_vdevice_free(vdev->core);
	vdev->idev->vdev = NULL;
	iommufd_obj_put(&vdev->viommu->obj);
}

void iommufd_vdevice_destroy(struct iommufd_object *obj)
{
	struct iommufd_vdevice *vdev =
		sio_container_of(obj, struct iommufd_vdevice, obj);
	struct iommufd_device *idev = vdev->idev;

	pthread_mutex_lock(&idev->igroup->lock);
	iommufd_vdevice_abort(obj);
	pthread_mutex_unlock(&idev->igroup->lock);
	/* The lookup's reference (users and wait_cnt): an unbind waiting
	 * for the device's ioctls is waiting for this one too. */
	iommufd_put_object(idev->ictx, &idev->obj);
}

/* Make the vDEVICE; igroup->lock held.  On success the vDEVICE keeps the
 * caller's lookup reference on idev and takes one on viommu. */
static int vdevice_alloc_locked(struct iommufd_ucmd *ucmd,
				struct iommufd_viommu *viommu,
				struct iommufd_device *idev)
{
	struct iommu_vdevice_alloc *cmd = ucmd->cmd;
	struct iommufd_vdevice *vdev;
	struct iommufd_object *obj;
	int rc;

	if (idev->destroying)
		return sio_err(-ENOENT,
			       "IOMMU_VDEVICE_ALLOC: the device is being unbound");
	if (idev->vdev)
		return sio_err(-EEXIST,
			       "IOMMU_VDEVICE_ALLOC: the device has a vDEVICE already");
	/* Not a ucmd object: it is published under igroup->lock, before
	 * anyone can look at idev->vdev. */
	obj = iommufd_object_alloc(ucmd->ictx, sizeof(*vdev),
				   IOMMUFD_OBJ_VDEVICE, &rc);
	if (!obj)
		return rc;
	vdev = sio_container_of(obj, struct iommufd_vdevice, obj);
	rc = sio_vdevice_alloc(viommu->core, idev->dev, cmd->virt_id, vdev,
			       &vdev->core);
	if (rc) {
		iommufd_object_abort(ucmd->ictx, obj);
		return rc;
	}
	iommufd_obj_get(&viommu->obj);
	vdev->viommu = viommu;
	vdev->idev = idev;
	idev->vdev = vdev;
	cmd->out_vdevice_id = obj->id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		iommufd_object_abort_and_destroy(ucmd->ictx, obj);
		return rc;
	}
	iommufd_object_finalize(ucmd->ictx, obj);
	return 0;
}

int iommufd_vdevice_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_vdevice_alloc *cmd = ucmd->cmd;
	struct iommufd_viommu *viommu;
	struct iommufd_device *idev;
	int rc;

	viommu = iommufd_get_viommu(ucmd->ictx, cmd->viommu_id, &rc);
	if (!viommu)
		return rc;
	idev = get_device(ucmd->ictx, cmd->dev_id, &rc);
	if (!idev)
		goto out_put_viommu;
	if (sio_device_iommu(idev->dev) != viommu->core->iommu) {
		rc = sio_err(-EINVAL,
			     "IOMMU_VDEVICE_ALLOC: the device is not behind the vIOMMU's IOMMU");
	} else {
		pthread_mutex_lock(&idev->igroup->lock);
		rc = vdevice_alloc_locked(ucmd, viommu, idev);
		pthread_mutex_unlock(&idev->igroup->lock);
	}
	/* A vDEVICE keeps the lookup's reference on its device. */
	if (rc)
		iommufd_put_object(ucmd->ictx, &idev->obj);
out_put_viommu:
	iommufd_put_object(ucmd->ictx, &viommu->obj);
	return rc;
}

void iommufd_device_remove_vdev(struct iommufd_device *idev)
{
	struct iommufd_group *igroup = idev->igroup;

	for (;;) {
		struct iommufd_vdevice *vdev;
		uint32_t id = 0;

		pthread_mutex_lock(&igroup->lock);
		idev->destroying = true;
		vdev = idev->vdev;
		if (vdev)
			id = vdev->obj.id;
		pthread_mutex_unlock(&igroup->lock);
		/* Compared by address only: vdev may be freed by now. */
		if (!vdev || !iommufd_object_tombstone(idev->ictx, &vdev->obj, id))
			return;
		/* A DESTROY of the vDEVICE is finishing (it clears
		 * idev->vdev), or an ioctl holds it for a moment. */
		sched_yield();
	}
}
