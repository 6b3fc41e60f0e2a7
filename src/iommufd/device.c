/*
 * iommufd devices (the kernel's device.c, device half): binding a core
 * device to a context, and attaching its RID to an IOAS or a HWPT.
 *
 * Bind claims DMA ownership of the device for the context (its group moves
 * to the blocking domain) and joins the context's iommufd_group for the
 * device's core group.  The group is the unit of attachment: the first
 * device of a group attached to a HWPT attaches the group's RID; the others
 * must name the same HWPT (-EINVAL otherwise) and only add their reserved
 * regions; the last one detaching returns the group to blocking.  Every
 * attached device holds a user reference on its HWPT, every attachment a
 * reference on the device.
 *
 * Attaching to an IOAS picks an "auto" HWPT of that IOAS the device is
 * compatible with (a refusal with -EINVAL means incompatible: try the next)
 * or makes a new one, as iommufd_device_auto_get_domain() does.  Only the
 * RID (no PASID) is handled here so far.
 */
#include <stdlib.h>

#include "iommufd/iommufd_private.h"
#include "softiommu/group.h"

/* RID attach handle of a group in one context. */
struct iommufd_attach_handle {
	struct sio_attach_handle handle;
	struct iommufd_group *igroup;
};

static struct iommufd_group *iommufd_get_group(struct sio_iommufd *ictx,
					       struct sio_device *dev, int *err)
{
	struct iommufd_group *igroup;
	struct sio_group *group;
	int rc;

	rc = sio_device_group(dev, &group);
	if (rc) {
		*err = rc;
		return NULL;
	}
	pthread_mutex_lock(&ictx->groups_lock);
	cds_list_for_each_entry(igroup, &ictx->groups, node) {
		if (igroup->group == group) {
			igroup->refcount++;
			pthread_mutex_unlock(&ictx->groups_lock);
			sio_group_put(group);
			return igroup;
		}
	}
	igroup = calloc(1, sizeof(*igroup));
	if (!igroup) {
		pthread_mutex_unlock(&ictx->groups_lock);
		sio_group_put(group);
		*err = -ENOMEM;
		return NULL;
	}
	igroup->refcount = 1;
	igroup->ictx = ictx;
	igroup->group = group;		/* the reference moves in */
	pthread_mutex_init(&igroup->lock, NULL);
	CDS_INIT_LIST_HEAD(&igroup->devices);
	cds_list_add_tail(&igroup->node, &ictx->groups);
	pthread_mutex_unlock(&ictx->groups_lock);
	return igroup;
}

static void iommufd_put_group(struct iommufd_group *igroup)
{
	struct sio_iommufd *ictx = igroup->ictx;

	pthread_mutex_lock(&ictx->groups_lock);
	if (--igroup->refcount) {
		pthread_mutex_unlock(&ictx->groups_lock);
		return;
	}
	cds_list_del(&igroup->node);
	pthread_mutex_unlock(&ictx->groups_lock);
	sio_group_put(igroup->group);
	pthread_mutex_destroy(&igroup->lock);
	free(igroup->handle);
	free(igroup);
}

void iommufd_device_destroy(struct iommufd_object *obj)
{
	struct iommufd_device *idev =
		sio_container_of(obj, struct iommufd_device, obj);

	if (idev->igroup) {
		sio_device_release_dma_owner(idev->dev);
		iommufd_put_group(idev->igroup);
	}
	sio_device_put(idev->dev);
}

struct iommufd_device *iommufd_device_bind(struct sio_iommufd *ictx,
					   struct sio_device *dev,
					   uint32_t *id, int *err)
{
	struct iommufd_device *idev;
	struct iommufd_group *igroup;
	struct iommufd_object *obj;
	int rc;

	obj = iommufd_object_alloc(ictx, sizeof(*idev), IOMMUFD_OBJ_DEVICE);
	if (!obj) {
		*err = -ENOMEM;
		return NULL;
	}
	idev = sio_container_of(obj, struct iommufd_device, obj);
	idev->ictx = ictx;
	idev->dev = sio_device_get(dev);
	CDS_INIT_LIST_HEAD(&idev->attach_node);

	/* iommufd always maps cache coherent. */
	if (!sio_device_capable(dev, SIO_CAP_CACHE_COHERENCY)) {
		rc = -EINVAL;
		goto err;
	}
	igroup = iommufd_get_group(ictx, dev, &rc);
	if (!igroup)
		goto err;
	rc = sio_device_claim_dma_owner(dev, ictx);
	if (rc) {
		iommufd_put_group(igroup);
		goto err;
	}
	idev->igroup = igroup;
	/* The binding driver is a user until unbind. */
	iommufd_obj_get(obj);
	iommufd_object_finalize(ictx, obj);
	*id = obj->id;
	return idev;
err:
	iommufd_object_abort_and_destroy(ictx, obj);
	*err = rc;
	return NULL;
}

void iommufd_device_unbind(struct iommufd_device *idev)
{
	iommufd_object_remove(idev->ictx, &idev->obj, idev->obj.id);
}

/* ------------------------------------------------------------------ */
/* Attach                                                               */
/* ------------------------------------------------------------------ */

static struct iommufd_hwpt_paging *find_hwpt_paging(struct iommufd_hw_pagetable *hwpt)
{
	if (hwpt->obj.type == IOMMUFD_OBJ_HWPT_PAGING)
		return to_hwpt_paging(&hwpt->obj);
	if (hwpt->obj.type == IOMMUFD_OBJ_HWPT_NESTED)
		return sio_container_of(hwpt, struct iommufd_hwpt_nested,
					common)->parent;
	return NULL;
}

static int group_attach_hwpt(struct iommufd_group *igroup,
			     struct iommufd_hw_pagetable *hwpt, bool replace)
{
	struct iommufd_attach_handle *h = calloc(1, sizeof(*h));
	int rc;

	if (!h)
		return -ENOMEM;
	h->igroup = igroup;
	if (replace)
		rc = sio_replace_group(igroup->group, hwpt->domain, &h->handle);
	else
		rc = sio_attach_group(hwpt->domain, igroup->group, &h->handle);
	if (rc) {
		free(h);
		return rc;
	}
	free(igroup->handle);
	igroup->handle = &h->handle;
	return 0;
}

int iommufd_hw_pagetable_attach(struct iommufd_hw_pagetable *hwpt,
				struct iommufd_device *idev)
{
	struct iommufd_hwpt_paging *hwpt_paging = find_hwpt_paging(hwpt);
	struct iommufd_group *igroup = idev->igroup;
	bool first;
	int rc;

	pthread_mutex_lock(&igroup->lock);
	if (idev->attached) {
		rc = -EBUSY;
		goto out_unlock;
	}
	if (igroup->hwpt && igroup->hwpt != hwpt) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (hwpt_paging) {
		rc = iopt_table_enforce_dev_resv_regions(
			&hwpt_paging->ioas->iopt, idev->dev);
		if (rc)
			goto out_unlock;
	}
	first = !igroup->hwpt;
	if (first) {
		rc = group_attach_hwpt(igroup, hwpt, false);
		if (rc) {
			if (hwpt_paging)
				iopt_remove_reserved_iova(
					&hwpt_paging->ioas->iopt, idev->dev);
			goto out_unlock;
		}
		igroup->hwpt = hwpt;
	}
	iommufd_obj_get(&hwpt->obj);
	cds_list_add_tail(&idev->attach_node, &igroup->devices);
	igroup->ndevices++;
	idev->attached = true;
	rc = 0;
out_unlock:
	pthread_mutex_unlock(&igroup->lock);
	return rc;
}

/* Returns the HWPT left (its reference is the caller's to put). */
struct iommufd_hw_pagetable *iommufd_hw_pagetable_detach(struct iommufd_device *idev)
{
	struct iommufd_group *igroup = idev->igroup;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_hw_pagetable *hwpt;

	pthread_mutex_lock(&igroup->lock);
	if (!idev->attached) {
		pthread_mutex_unlock(&igroup->lock);
		return NULL;
	}
	hwpt = igroup->hwpt;
	hwpt_paging = find_hwpt_paging(hwpt);
	cds_list_del_init(&idev->attach_node);
	idev->attached = false;
	if (--igroup->ndevices == 0) {
		sio_detach_group(igroup->group);
		free(igroup->handle);
		igroup->handle = NULL;
		igroup->hwpt = NULL;
	}
	if (hwpt_paging)
		iopt_remove_reserved_iova(&hwpt_paging->ioas->iopt, idev->dev);
	pthread_mutex_unlock(&igroup->lock);
	return hwpt;
}

static int do_attach(struct iommufd_device *idev,
		     struct iommufd_hw_pagetable *hwpt,
		     struct iommufd_hw_pagetable **destroy)
{
	*destroy = NULL;
	return iommufd_hw_pagetable_attach(hwpt, idev);
}

static void remove_group_resv(struct iommufd_group *igroup,
			      struct iommufd_hwpt_paging *hwpt_paging)
{
	struct iommufd_device *cur;

	cds_list_for_each_entry(cur, &igroup->devices, attach_node)
		iopt_remove_reserved_iova(&hwpt_paging->ioas->iopt, cur->dev);
}

static int do_replace(struct iommufd_device *idev,
		      struct iommufd_hw_pagetable *hwpt,
		      struct iommufd_hw_pagetable **destroy)
{
	struct iommufd_hwpt_paging *hwpt_paging = find_hwpt_paging(hwpt);
	struct iommufd_group *igroup = idev->igroup;
	struct iommufd_hwpt_paging *old_paging;
	struct iommufd_hw_pagetable *old;
	struct iommufd_device *cur;
	int rc;

	*destroy = NULL;
	pthread_mutex_lock(&igroup->lock);
	old = igroup->hwpt;
	if (!old || !idev->attached) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (hwpt == old) {
		rc = 0;
		goto out_unlock;
	}
	old_paging = find_hwpt_paging(old);
	if (hwpt_paging &&
	    (!old_paging || hwpt_paging->ioas != old_paging->ioas)) {
		cds_list_for_each_entry(cur, &igroup->devices, attach_node) {
			rc = iopt_table_enforce_dev_resv_regions(
				&hwpt_paging->ioas->iopt, cur->dev);
			if (rc) {
				remove_group_resv(igroup, hwpt_paging);
				goto out_unlock;
			}
		}
	}
	rc = group_attach_hwpt(igroup, hwpt, true);
	if (rc) {
		if (hwpt_paging &&
		    (!old_paging || hwpt_paging->ioas != old_paging->ioas))
			remove_group_resv(igroup, hwpt_paging);
		goto out_unlock;
	}
	if (old_paging &&
	    (!hwpt_paging || hwpt_paging->ioas != old_paging->ioas))
		remove_group_resv(igroup, old_paging);
	igroup->hwpt = hwpt;
	/* Move the devices' references to the new HWPT; keep one on the
	 * old for the caller to put. */
	for (unsigned int i = 0; i < igroup->ndevices; i++)
		iommufd_obj_get(&hwpt->obj);
	for (unsigned int i = 1; i < igroup->ndevices; i++)
		iommufd_obj_put(&old->obj);
	*destroy = old;
out_unlock:
	pthread_mutex_unlock(&igroup->lock);
	return rc;
}

typedef int (*attach_fn)(struct iommufd_device *idev,
			 struct iommufd_hw_pagetable *hwpt,
			 struct iommufd_hw_pagetable **destroy);

static int auto_get_domain(struct iommufd_device *idev,
			   struct iommufd_ioas *ioas, uint32_t *pt_id,
			   attach_fn fn, struct iommufd_hw_pagetable **destroy)
{
	bool immediate = fn == do_attach;
	struct iommufd_hwpt_paging *hwpt_paging;
	int rc;

	pthread_mutex_lock(&ioas->mutex);
	cds_list_for_each_entry(hwpt_paging, &ioas->hwpt_list, hwpt_item) {
		if (!hwpt_paging->auto_domain)
			continue;
		rc = fn(idev, &hwpt_paging->common, destroy);
		if (rc == -EINVAL)
			continue;	/* incompatible: try another */
		if (!rc)
			*pt_id = hwpt_paging->common.obj.id;
		goto out_unlock;
	}
	hwpt_paging = iommufd_hwpt_paging_alloc(idev->ictx, ioas, idev, 0,
						immediate, NULL, &rc);
	if (!hwpt_paging)
		goto out_unlock;
	if (!immediate) {
		rc = fn(idev, &hwpt_paging->common, destroy);
		if (rc) {
			iommufd_object_abort_and_destroy(
				idev->ictx, &hwpt_paging->common.obj);
			goto out_unlock;
		}
	}
	hwpt_paging->auto_domain = true;
	*pt_id = hwpt_paging->common.obj.id;
	iommufd_object_finalize(idev->ictx, &hwpt_paging->common.obj);
	rc = 0;
out_unlock:
	pthread_mutex_unlock(&ioas->mutex);
	return rc;
}

static int change_pt(struct iommufd_device *idev, uint32_t *pt_id,
		     attach_fn fn)
{
	struct iommufd_hw_pagetable *destroy = NULL;
	struct iommufd_object *pt_obj;
	int rc;

	pt_obj = iommufd_get_object(idev->ictx, *pt_id, IOMMUFD_OBJ_ANY, &rc);
	if (!pt_obj)
		return rc;
	switch (pt_obj->type) {
	case IOMMUFD_OBJ_HWPT_NESTED:
	case IOMMUFD_OBJ_HWPT_PAGING:
		rc = fn(idev, to_hwpt(pt_obj), &destroy);
		break;
	case IOMMUFD_OBJ_IOAS:
		rc = auto_get_domain(idev, to_ioas(pt_obj), pt_id, fn,
				     &destroy);
		break;
	default:
		rc = -EINVAL;
		break;
	}
	iommufd_put_object(idev->ictx, pt_obj);
	/* After every lock is dropped: may destroy an auto HWPT. */
	if (destroy)
		iommufd_hw_pagetable_put(idev->ictx, destroy);
	return rc;
}

int iommufd_device_attach(struct iommufd_device *idev, uint32_t *pt_id)
{
	int rc = change_pt(idev, pt_id, do_attach);

	if (rc)
		return rc;
	/* Pairs with detach: a device is not destroyed while attached. */
	iommufd_obj_get(&idev->obj);
	return 0;
}

int iommufd_device_replace(struct iommufd_device *idev, uint32_t *pt_id)
{
	return change_pt(idev, pt_id, do_replace);
}

void iommufd_device_detach(struct iommufd_device *idev)
{
	struct iommufd_hw_pagetable *hwpt = iommufd_hw_pagetable_detach(idev);

	if (!hwpt)
		return;
	iommufd_hw_pagetable_put(idev->ictx, hwpt);
	iommufd_obj_put(&idev->obj);
}

SIO_API int sio_iommufd_device_get(struct sio_iommufd *ictx, uint32_t dev_id,
				   struct sio_device **out)
{
	struct iommufd_object *obj;
	int rc;

	sio_err_clear();
	if (!ictx || !out)
		return sio_err(-EINVAL, "iommufd: device_get: NULL argument");
	obj = iommufd_get_object(ictx, dev_id, IOMMUFD_OBJ_DEVICE, &rc);
	if (!obj)
		return sio_err(rc, "iommufd: no device %u", dev_id);
	*out = sio_device_get(sio_container_of(obj, struct iommufd_device,
					       obj)->dev);
	iommufd_put_object(ictx, obj);
	return 0;
}
