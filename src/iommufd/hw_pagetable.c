/*
 * HW page tables (the kernel's hw_pagetable.c): an IOMMU domain as an
 * object.  A paging HWPT belongs to one IOAS, which keeps its domain
 * filled with every area; it holds a user reference on the IOAS.  "Auto"
 * HWPTs are the ones device attach made for an IOAS: they are reused by any
 * compatible device attached to that IOAS and destroyed with their last
 * attachment.  A nested HWPT is a stage-1 domain on a NEST_PARENT paging
 * parent, which it holds; one allocated on a vIOMMU (pt_id a vIOMMU) is
 * the vIOMMU driver's and holds the vIOMMU too.  A HWPT allocated with a
 * fault queue (IOMMU_HWPT_FAULT_ID_VALID) holds it, and its domain takes
 * page faults through the queue's handler (fault.c).
 *
 * HWPT_ALLOC copies the driver data from the program with the fault-safe
 * copy and passes it to the driver as a struct sio_user_data; the driver
 * applies the kernel's type and size rules (sio_user_data_copy).
 */
#include <stdlib.h>
#include <string.h>

#include "iommufd/iommufd_private.h"

#define HWPT_VALID_PAGING_FLAGS                                              \
	(IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING |      \
	 IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID)

void iommufd_hwpt_paging_destroy(struct iommufd_object *obj)
{
	struct iommufd_hwpt_paging *hwpt_paging = to_hwpt_paging(obj);

	if (hwpt_paging->in_iopt) {
		pthread_mutex_lock(&hwpt_paging->ioas->mutex);
		cds_list_del(&hwpt_paging->hwpt_item);
		pthread_mutex_unlock(&hwpt_paging->ioas->mutex);
		iopt_table_remove_domain(&hwpt_paging->ioas->iopt,
					 hwpt_paging->common.domain);
		hwpt_paging->in_iopt = false;
	}
	if (hwpt_paging->common.domain)
		sio_domain_free(hwpt_paging->common.domain);
	if (hwpt_paging->common.fault)
		iommufd_obj_put(&hwpt_paging->common.fault->common.obj);
	iommufd_obj_put(&hwpt_paging->ioas->obj);
}

/* Abort runs with ioas->mutex held by the creator. */
void iommufd_hwpt_paging_abort(struct iommufd_object *obj)
{
	struct iommufd_hwpt_paging *hwpt_paging = to_hwpt_paging(obj);

	if (hwpt_paging->in_iopt) {
		cds_list_del(&hwpt_paging->hwpt_item);
		iopt_table_remove_domain(&hwpt_paging->ioas->iopt,
					 hwpt_paging->common.domain);
		hwpt_paging->in_iopt = false;
	}
	iommufd_hwpt_paging_destroy(obj);
}

void iommufd_hwpt_nested_destroy(struct iommufd_object *obj)
{
	struct iommufd_hwpt_nested *hwpt_nested =
		sio_container_of(obj, struct iommufd_hwpt_nested, common.obj);

	if (hwpt_nested->common.domain)
		sio_domain_free(hwpt_nested->common.domain);
	if (hwpt_nested->common.fault)
		iommufd_obj_put(&hwpt_nested->common.fault->common.obj);
	if (hwpt_nested->viommu)
		iommufd_obj_put(&hwpt_nested->viommu->obj);
	iommufd_obj_put(&hwpt_nested->parent->common.obj);
}

void iommufd_hw_pagetable_put(struct sio_iommufd *ictx,
			      struct iommufd_hw_pagetable *hwpt)
{
	if (hwpt->obj.type == IOMMUFD_OBJ_HWPT_PAGING &&
	    to_hwpt_paging(&hwpt->obj)->auto_domain) {
		iommufd_object_put_and_try_destroy(ictx, &hwpt->obj);
		return;
	}
	iommufd_obj_put(&hwpt->obj);
}

/*
 * A paging HWPT on ioas for idev's IOMMU (iommufd_hwpt_paging_alloc).  The
 * caller holds ioas->mutex until it finalizes or aborts the object.
 */
struct iommufd_hwpt_paging *
iommufd_hwpt_paging_alloc(struct sio_iommufd *ictx, struct iommufd_ioas *ioas,
			  struct iommufd_device *idev, sio_pasid_t pasid,
			  uint32_t flags, bool immediate_attach,
			  const struct sio_user_data *user_data, int *err)
{
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_object *obj;
	int rc;

	if (flags & ~HWPT_VALID_PAGING_FLAGS) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	if ((flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) &&
	    !sio_device_capable(idev->dev, SIO_CAP_DIRTY_TRACKING)) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	if ((flags & IOMMU_HWPT_FAULT_ID_VALID) &&
	    (flags & IOMMU_HWPT_ALLOC_NEST_PARENT)) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	obj = iommufd_object_alloc(ictx, sizeof(*hwpt_paging),
				   IOMMUFD_OBJ_HWPT_PAGING, err);
	if (!obj) {
		return NULL;
	}
	hwpt_paging = to_hwpt_paging(obj);
	CDS_INIT_LIST_HEAD(&hwpt_paging->hwpt_item);
	iommufd_obj_get(&ioas->obj);
	hwpt_paging->ioas = ioas;
	hwpt_paging->nest_parent = flags & IOMMU_HWPT_ALLOC_NEST_PARENT;
	hwpt_paging->common.pasid_compat = flags & IOMMU_HWPT_ALLOC_PASID;

	rc = sio_domain_alloc_paging(idev->dev,
				     flags & ~IOMMU_HWPT_FAULT_ID_VALID,
				     user_data, &hwpt_paging->common.domain);
	if (rc) {
		hwpt_paging->common.domain = NULL;
		goto out_abort;
	}
	if (immediate_attach) {
		rc = iommufd_hw_pagetable_attach(&hwpt_paging->common, idev,
						 pasid);
		if (rc)
			goto out_abort;
	}
	rc = iopt_table_add_domain(&ioas->iopt, hwpt_paging->common.domain);
	if (rc)
		goto out_detach;
	hwpt_paging->in_iopt = true;
	cds_list_add_tail(&hwpt_paging->hwpt_item, &ioas->hwpt_list);
	return hwpt_paging;

out_detach:
	if (immediate_attach)
		iommufd_hw_pagetable_detach(idev, pasid);
out_abort:
	iommufd_object_abort_and_destroy(ictx, obj);
	*err = rc;
	return NULL;
}

#define HWPT_VALID_NESTED_FLAGS                                              \
	(IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID)

/*
 * A nested HWPT on parent: its domain comes from the vIOMMU's driver when
 * viommu is set (iommufd_viommu_alloc_hwpt_nested), else from idev's
 * driver (iommufd_hwpt_nested_alloc).  The callers checked the flags and
 * that parent and device go together.
 */
static struct iommufd_hwpt_nested *
hwpt_nested_create(struct sio_iommufd *ictx, struct iommufd_hwpt_paging *parent,
		   struct iommufd_viommu *viommu, struct iommufd_device *idev,
		   uint32_t flags, const struct sio_user_data *user_data,
		   int *err)
{
	struct iommufd_hwpt_nested *hwpt_nested;
	struct sio_domain **domain;
	struct iommufd_object *obj;
	int rc;

	obj = iommufd_object_alloc(ictx, sizeof(*hwpt_nested),
				   IOMMUFD_OBJ_HWPT_NESTED, err);
	if (!obj) {
		return NULL;
	}
	hwpt_nested = sio_container_of(obj, struct iommufd_hwpt_nested,
				       common.obj);
	iommufd_obj_get(&parent->common.obj);
	hwpt_nested->parent = parent;
	if (viommu)
		iommufd_obj_get(&viommu->obj);
	hwpt_nested->viommu = viommu;
	hwpt_nested->common.pasid_compat = flags & IOMMU_HWPT_ALLOC_PASID;
	flags &= ~IOMMU_HWPT_FAULT_ID_VALID;
	domain = &hwpt_nested->common.domain;
	if (viommu)
		rc = sio_viommu_alloc_domain_nested(viommu->core, flags,
						    user_data, domain);
	else
		rc = sio_domain_alloc_nested(idev->dev, parent->common.domain,
					     flags, user_data, domain);
	if (rc) {
		*domain = NULL;
		iommufd_object_abort_and_destroy(ictx, obj);
		*err = rc;
		return NULL;
	}
	return hwpt_nested;
}

static struct iommufd_hwpt_nested *
iommufd_hwpt_nested_alloc(struct sio_iommufd *ictx,
			  struct iommufd_hwpt_paging *parent,
			  struct iommufd_device *idev, uint32_t flags,
			  const struct sio_user_data *user_data, int *err)
{
	if ((flags & ~HWPT_VALID_NESTED_FLAGS) || !user_data->len) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	if (parent->auto_domain || !parent->nest_parent ||
	    sio_domain_iommu(parent->common.domain) !=
		    sio_device_iommu(idev->dev)) {
		*err = -EINVAL;
		return NULL;
	}
	return hwpt_nested_create(ictx, parent, NULL, idev, flags, user_data,
				  err);
}

/* A nested HWPT on a vIOMMU: the vIOMMU's driver makes its domain on the
 * vIOMMU's parent. */
static struct iommufd_hwpt_nested *
iommufd_viommu_alloc_hwpt_nested(struct sio_iommufd *ictx,
				 struct iommufd_viommu *viommu,
				 struct iommufd_device *idev, uint32_t flags,
				 const struct sio_user_data *user_data,
				 int *err)
{
	if (sio_device_iommu(idev->dev) != viommu->core->iommu) {
		*err = -EINVAL;
		return NULL;
	}
	if ((flags & ~HWPT_VALID_NESTED_FLAGS) || !user_data->len) {
		*err = -EOPNOTSUPP;
		return NULL;
	}
	return hwpt_nested_create(ictx, viommu->hwpt, viommu, idev, flags,
				  user_data, err);
}

/* Copy the program's driver data: as much as any driver structure can
 * hold; the copy rules refuse anything longer before reading it. */
int iommufd_copy_user_data(struct sio_iommufd *ictx, uint32_t type,
			   uint64_t uptr, uint32_t len,
			   struct sio_user_data *ud)
{
	size_t n = len < SIO_USER_DATA_MAX ? len : SIO_USER_DATA_MAX;

	ud->type = type;
	ud->len = len;
	ud->buf = sio_calloc(1, n ? n : 1);
	if (!ud->buf)
		return sio_err(-ENOMEM, "out of memory for driver data");
	if (sio_umem_read(ictx->host->owner, ud->buf, uptr, n))
		return sio_err(-EFAULT, "data_uptr not readable");
	return 0;
}

int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_alloc *cmd = ucmd->cmd;
	struct sio_user_data ud = { 0 };
	struct iommufd_hw_pagetable *hwpt;
	struct iommufd_ioas *ioas = NULL;
	struct iommufd_object *pt_obj, *dev_obj;
	struct iommufd_device *idev;
	int rc;

	if (cmd->__reserved)
		return sio_err(-EOPNOTSUPP,
			       "IOMMU_HWPT_ALLOC: reserved field set");
	if ((cmd->data_type == IOMMU_HWPT_DATA_NONE && cmd->data_len) ||
	    (cmd->data_type != IOMMU_HWPT_DATA_NONE && !cmd->data_len))
		return sio_err(-EINVAL,
			       "IOMMU_HWPT_ALLOC: data_len and data_type disagree");
	dev_obj = iommufd_get_object(ucmd->ictx, cmd->dev_id,
				     IOMMUFD_OBJ_DEVICE, &rc);
	if (!dev_obj)
		return rc;
	idev = sio_container_of(dev_obj, struct iommufd_device, obj);
	pt_obj = iommufd_get_object(ucmd->ictx, cmd->pt_id, IOMMUFD_OBJ_ANY,
				    &rc);
	if (!pt_obj) {
		rc = sio_err(-EINVAL,
			     "IOMMU_HWPT_ALLOC: no IOAS, HWPT or vIOMMU %u", cmd->pt_id);
		goto out_put_idev;
	}
	if (cmd->data_len) {
		rc = iommufd_copy_user_data(ucmd->ictx, cmd->data_type,
					    cmd->data_uptr, cmd->data_len, &ud);
		if (rc)
			goto out_put_pt;
	}

	if (pt_obj->type == IOMMUFD_OBJ_IOAS) {
		struct iommufd_hwpt_paging *hwpt_paging;

		ioas = to_ioas(pt_obj);
		pthread_mutex_lock(&ioas->mutex);
		hwpt_paging = iommufd_hwpt_paging_alloc(
			ucmd->ictx, ioas, idev, SIO_NO_PASID, cmd->flags, false,
			ud.len ? &ud : NULL, &rc);
		if (!hwpt_paging)
			goto out_unlock;
		hwpt = &hwpt_paging->common;
	} else if (pt_obj->type == IOMMUFD_OBJ_HWPT_PAGING) {
		struct iommufd_hwpt_nested *hwpt_nested;

		hwpt_nested = iommufd_hwpt_nested_alloc(
			ucmd->ictx, to_hwpt_paging(pt_obj), idev, cmd->flags,
			&ud, &rc);
		if (!hwpt_nested)
			goto out_unlock;
		hwpt = &hwpt_nested->common;
	} else if (pt_obj->type == IOMMUFD_OBJ_VIOMMU) {
		struct iommufd_hwpt_nested *hwpt_nested;

		hwpt_nested = iommufd_viommu_alloc_hwpt_nested(
			ucmd->ictx,
			sio_container_of(pt_obj, struct iommufd_viommu, obj),
			idev, cmd->flags, &ud, &rc);
		if (!hwpt_nested)
			goto out_unlock;
		hwpt = &hwpt_nested->common;
	} else {
		rc = sio_err(-EINVAL,
			     "IOMMU_HWPT_ALLOC: pt_id %u is not an IOAS, HWPT or vIOMMU", cmd->pt_id);
		goto out_put_pt;
	}

	if (cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) {
		struct iommufd_fault *fault;

		fault = iommufd_get_fault(ucmd->ictx, cmd->fault_id, &rc);
		if (!fault)
			goto out_hwpt;
		/* Not attached yet: the domain cannot refuse a handler. */
		rc = sio_domain_set_iopf_handler(hwpt->domain, &fault->handler);
		if (!rc) {
			hwpt->fault = fault;
			iommufd_obj_get(&fault->common.obj);
		}
		iommufd_put_object(ucmd->ictx, &fault->common.obj);
		if (rc)
			goto out_hwpt;
	}
	cmd->out_hwpt_id = hwpt->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_hwpt;
	iommufd_object_finalize(ucmd->ictx, &hwpt->obj);
	goto out_unlock;

out_hwpt:
	iommufd_object_abort_and_destroy(ucmd->ictx, &hwpt->obj);
out_unlock:
	if (ioas)
		pthread_mutex_unlock(&ioas->mutex);
out_put_pt:
	iommufd_put_object(ucmd->ictx, pt_obj);
out_put_idev:
	iommufd_put_object(ucmd->ictx, dev_obj);
	free(ud.buf);
	return rc;
}

/* The entries of an invalidation array are read from the program one at a
 * time, as the driver asks for them. */
static int read_user_array(void *ctx, uint64_t offset, void *dst, size_t len)
{
	struct iommufd_ucmd *ucmd = ctx;
	struct iommu_hwpt_invalidate *cmd = ucmd->cmd;

	return sio_umem_read(ucmd->ictx->host->owner, dst,
			     cmd->data_uptr + offset, len);
}

/* Bounds on one call, so that it cannot keep a CPU forever; entry_len (at
 * most a CPU page) also bounds the scan of an entry's tail for non-zero
 * bytes. */
#define HWPT_INVALIDATE_ENTRY_NUM_MAX (1u << 19)

int iommufd_hwpt_invalidate(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_invalidate *cmd = ucmd->cmd;
	struct sio_user_data_array array = {
		.type = cmd->data_type,
		.entry_len = cmd->entry_len,
		.entry_num = cmd->entry_num,
		.read = read_user_array,
		.ctx = ucmd,
	};
	struct iommufd_object *pt_obj;
	uint32_t done = 0;
	int rc;

	if (cmd->__reserved) {
		rc = sio_err(-EOPNOTSUPP,
			     "IOMMU_HWPT_INVALIDATE: reserved field set");
		goto out;
	}
	if (cmd->entry_num &&
	    (!cmd->data_uptr || !cmd->entry_len ||
	     cmd->entry_len > ucmd->ictx->host->page_size ||
	     cmd->entry_num > HWPT_INVALIDATE_ENTRY_NUM_MAX)) {
		rc = sio_err(-EINVAL,
			     "IOMMU_HWPT_INVALIDATE: bad array (pointer, entry_len or entry_num)");
		goto out;
	}
	pt_obj = iommufd_get_object(ucmd->ictx, cmd->hwpt_id, IOMMUFD_OBJ_ANY,
				    &rc);
	if (!pt_obj)
		goto out;
	if (pt_obj->type == IOMMUFD_OBJ_HWPT_NESTED) {
		/* An empty array still checks the data type. */
		rc = sio_domain_cache_invalidate_user(to_hwpt(pt_obj)->domain,
						      &array);
		done = array.entry_num;
	} else if (pt_obj->type == IOMMUFD_OBJ_VIOMMU) {
		/* Caches named by virtual IDs, the vIOMMU's driver's. */
		rc = sio_viommu_cache_invalidate(
			sio_container_of(pt_obj, struct iommufd_viommu,
					 obj)->core,
			&array);
		done = array.entry_num;
	} else {
		rc = sio_err(-EINVAL,
			     "IOMMU_HWPT_INVALIDATE: hwpt_id %u is not a nested HWPT or vIOMMU", cmd->hwpt_id);
	}
	iommufd_put_object(ucmd->ictx, pt_obj);
out:
	/* The count goes back even on failure: how far the driver got. */
	cmd->entry_num = done;
	if (iommufd_ucmd_respond(ucmd, sizeof(*cmd)))
		return sio_err(-EFAULT,
			       "IOMMU_HWPT_INVALIDATE: entry_num not writable");
	return rc;
}
