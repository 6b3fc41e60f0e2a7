/*
 * iommufd devices (the kernel's device.c, device half): binding a core
 * device to a context, and attaching its RID or one of its PASIDs to an
 * IOAS or a HWPT.
 *
 * Bind claims DMA ownership of the device for the context (its group moves
 * to the blocking domain) and joins the context's iommufd_group for the
 * device's core group.  The group is the unit of attachment, per PASID
 * (SIO_NO_PASID for the RID): the iommufd_group keeps one attach record per
 * attached PASID, with its HWPT, the core attach handle and the devices
 * that attached it.  The first device attaching a PASID makes the core
 * attachment; the others must name the same HWPT (-EINVAL otherwise) and,
 * for the RID, only add their reserved regions; the last one detaching
 * removes it.  Every attached device holds a user reference on the HWPT,
 * every attachment one on the device.
 *
 * PASID compatibility (the kernel's iommufd_hwpt_pasid_compat): a PASID
 * takes only HWPTs allocated with IOMMU_HWPT_ALLOC_PASID, and only while
 * the RID is on such a HWPT (or not attached); the RID takes another kind
 * only while no PASID is attached.
 *
 * Each core attachment gets a fresh attach handle naming the device, which
 * is how a page fault finds the device to report.  The core answers the
 * page faults still waiting on a handle when its detach or replace
 * retires it (fault.c flushes them), so the handle is freed right after.
 *
 * Attaching to an IOAS picks an "auto" HWPT of that IOAS the device is
 * compatible with (a refusal with -EINVAL means incompatible: try the next)
 * or makes a new one, as iommufd_device_auto_get_domain() does.
 */
#include <stdlib.h>

#include "iommufd/iommufd_private.h"
#include "softiommu/group.h"

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
	igroup = sio_calloc(1, sizeof(*igroup));
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
	CDS_INIT_LIST_HEAD(&igroup->attaches);
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

	obj = iommufd_object_alloc(ictx, sizeof(*idev), IOMMUFD_OBJ_DEVICE,
				   err);
	if (!obj)
		return NULL;
	idev = sio_container_of(obj, struct iommufd_device, obj);
	idev->ictx = ictx;
	idev->dev = sio_device_get(dev);

	/* iommufd always maps cache coherent. */
	if (!sio_device_capable(dev, SIO_CAP_CACHE_COHERENCY)) {
		rc = sio_err(-EINVAL, "bind: the device is not cache coherent");
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
	int rc;

	/* Its vDEVICE holds it and goes first, leaving a tombstone. */
	iommufd_device_remove_vdev(idev);
	/* Out of the table at once, then wait for the ioctls holding it
	 * (the kernel's REMOVE_WAIT): the device is gone when this returns.
	 * -EBUSY only if a caller left it attached (a bug of the caller):
	 * it then stays published and the last close destroys it. */
	rc = iommufd_object_remove(idev->ictx, &idev->obj, idev->obj.id,
				   IOMMUFD_REMOVE_WAIT);
	if (rc)
		sio_err(rc, "iommufd: unbind: device %u still attached",
			idev->obj.id);
}

/* ------------------------------------------------------------------ */
/* Attach                                                               */
/* ------------------------------------------------------------------ */

/* One attachment of the group in this context: the RID or a PASID. */
struct iommufd_attach {
	struct cds_list_head node;	/* in igroup->attaches */
	sio_pasid_t pasid;
	struct iommufd_hw_pagetable *hwpt;
	struct iommufd_attach_handle *handle;	/* the core's */
	struct iommufd_device **devs;	/* the devices that attached it */
	unsigned int ndevs, cap;
};

static struct iommufd_hwpt_paging *find_hwpt_paging(struct iommufd_hw_pagetable *hwpt)
{
	if (hwpt->obj.type == IOMMUFD_OBJ_HWPT_PAGING)
		return to_hwpt_paging(&hwpt->obj);
	if (hwpt->obj.type == IOMMUFD_OBJ_HWPT_NESTED)
		return sio_container_of(hwpt, struct iommufd_hwpt_nested,
					common)->parent;
	return NULL;
}

static struct iommufd_attach *find_attach(struct iommufd_group *igroup,
					  sio_pasid_t pasid)
{
	struct iommufd_attach *attach;

	cds_list_for_each_entry(attach, &igroup->attaches, node)
		if (attach->pasid == pasid)
			return attach;
	return NULL;
}

static int attach_index(const struct iommufd_attach *attach,
			const struct iommufd_device *idev)
{
	for (unsigned int i = 0; i < attach->ndevs; i++)
		if (attach->devs[i] == idev)
			return (int)i;
	return -1;
}

static int attach_add_dev(struct iommufd_attach *attach,
			  struct iommufd_device *idev)
{
	if (attach->ndevs == attach->cap) {
		unsigned int ncap = attach->cap ? attach->cap * 2 : 4;
		struct iommufd_device **n = sio_realloc(attach->devs,
						    ncap * sizeof(*n));

		if (!n)
			return sio_err(-ENOMEM, "attach: out of memory");
		attach->devs = n;
		attach->cap = ncap;
	}
	attach->devs[attach->ndevs++] = idev;
	return 0;
}

static void attach_free(struct iommufd_attach *attach)
{
	free(attach->devs);
	free(attach);
}

static int hwpt_pasid_compat(struct iommufd_hw_pagetable *hwpt,
			     struct iommufd_group *igroup, sio_pasid_t pasid)
{
	struct iommufd_attach *attach;

	if (pasid == SIO_NO_PASID) {
		if (hwpt->pasid_compat)
			return 0;
		cds_list_for_each_entry(attach, &igroup->attaches, node)
			if (attach->pasid != SIO_NO_PASID)
				return sio_err(-EINVAL,
					       "attach: the group has PASID attachments; this HWPT cannot take them");
		return 0;
	}
	if (!hwpt->pasid_compat)
		return sio_err(-EINVAL,
			       "attach: the HWPT is not PASID-compatible");
	attach = find_attach(igroup, SIO_NO_PASID);
	if (attach && !attach->hwpt->pasid_compat)
		return sio_err(-EINVAL,
			       "attach: the group's RID domain is not PASID-compatible");
	return 0;
}

static struct iommufd_attach_handle *new_handle(struct iommufd_device *idev)
{
	struct iommufd_attach_handle *h = sio_calloc(1, sizeof(*h));

	if (h)
		h->idev = idev;
	return h;
}

/* The core attachment of the first device attaching (pasid). */
static int hwpt_attach_device(struct iommufd_attach *attach,
			      struct iommufd_hw_pagetable *hwpt,
			      struct iommufd_device *idev, sio_pasid_t pasid)
{
	struct iommufd_attach_handle *h;
	int rc = hwpt_pasid_compat(hwpt, idev->igroup, pasid);

	if (rc)
		return rc;
	h = new_handle(idev);
	if (!h)
		return sio_err(-ENOMEM, "attach: out of memory");
	if (pasid == SIO_NO_PASID)
		rc = sio_attach_group(hwpt->domain, idev->igroup->group,
				      &h->handle);
	else
		rc = sio_attach_device_pasid(hwpt->domain, idev->dev, pasid,
					     &h->handle);
	if (rc) {
		free(h);
		return rc;
	}
	attach->handle = h;
	return 0;
}

/* Undo the core attachment of the last device detaching: by the time the
 * core returns, the faults waiting on the handle are answered. */
static void hwpt_detach_device(struct iommufd_attach *attach,
			       struct iommufd_device *idev)
{
	if (attach->pasid == SIO_NO_PASID)
		sio_detach_group(idev->igroup->group);
	else
		sio_detach_device_pasid(attach->hwpt->domain, idev->dev,
					attach->pasid);
	free(attach->handle);
	attach->handle = NULL;
}

static int hwpt_replace_device(struct iommufd_attach *attach,
			       struct iommufd_hw_pagetable *hwpt,
			       struct iommufd_device *idev)
{
	struct iommufd_attach_handle *h;
	int rc = hwpt_pasid_compat(hwpt, idev->igroup, attach->pasid);

	if (rc)
		return rc;
	h = new_handle(idev);
	if (!h)
		return sio_err(-ENOMEM, "replace: out of memory");
	if (attach->pasid == SIO_NO_PASID)
		rc = sio_replace_group(idev->igroup->group, hwpt->domain,
				       &h->handle);
	else
		rc = sio_replace_device_pasid(hwpt->domain, idev->dev,
					      attach->pasid, &h->handle);
	if (rc) {
		free(h);
		return rc;
	}
	free(attach->handle);
	attach->handle = h;
	return 0;
}

int iommufd_hw_pagetable_attach(struct iommufd_hw_pagetable *hwpt,
				struct iommufd_device *idev, sio_pasid_t pasid)
{
	struct iommufd_hwpt_paging *hwpt_paging = find_hwpt_paging(hwpt);
	bool attach_resv = hwpt_paging && pasid == SIO_NO_PASID;
	struct iommufd_group *igroup = idev->igroup;
	struct iommufd_attach *attach;
	bool first;
	int rc;

	pthread_mutex_lock(&igroup->lock);
	attach = find_attach(igroup, pasid);
	first = !attach;
	if (first) {
		attach = sio_calloc(1, sizeof(*attach));
		if (!attach) {
			rc = sio_err(-ENOMEM, "attach: out of memory");
			goto out_unlock;
		}
		attach->pasid = pasid;
	} else if (attach_index(attach, idev) >= 0) {
		rc = sio_err(-EBUSY,
			     "attach: the device is attached there already");
		goto out_unlock;
	} else if (attach->hwpt != hwpt) {
		rc = sio_err(-EINVAL,
			     "attach: the group is attached to another HWPT");
		goto out_unlock;
	}
	rc = attach_add_dev(attach, idev);
	if (rc)
		goto out_free;
	if (attach_resv) {
		rc = iopt_table_enforce_dev_resv_regions(
			&hwpt_paging->ioas->iopt, idev->dev);
		if (rc)
			goto out_remove_dev;
	}
	if (first) {
		rc = hwpt_attach_device(attach, hwpt, idev, pasid);
		if (rc)
			goto out_unresv;
		attach->hwpt = hwpt;
		cds_list_add_tail(&attach->node, &igroup->attaches);
	}
	iommufd_obj_get(&hwpt->obj);
	pthread_mutex_unlock(&igroup->lock);
	return 0;

out_unresv:
	if (attach_resv)
		iopt_remove_reserved_iova(&hwpt_paging->ioas->iopt, idev->dev);
out_remove_dev:
	attach->ndevs--;
out_free:
	if (first)
		attach_free(attach);
out_unlock:
	pthread_mutex_unlock(&igroup->lock);
	return rc;
}

/* Returns the HWPT left (its reference is the caller's to put), or NULL if
 * idev had not attached pasid. */
struct iommufd_hw_pagetable *iommufd_hw_pagetable_detach(struct iommufd_device *idev,
							 sio_pasid_t pasid)
{
	struct iommufd_group *igroup = idev->igroup;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_hw_pagetable *hwpt;
	struct iommufd_attach *attach;
	int i;

	pthread_mutex_lock(&igroup->lock);
	attach = find_attach(igroup, pasid);
	i = attach ? attach_index(attach, idev) : -1;
	if (i < 0) {
		pthread_mutex_unlock(&igroup->lock);
		return NULL;
	}
	hwpt = attach->hwpt;
	hwpt_paging = find_hwpt_paging(hwpt);
	attach->devs[i] = attach->devs[--attach->ndevs];
	if (!attach->ndevs) {
		hwpt_detach_device(attach, idev);
		cds_list_del(&attach->node);
		attach_free(attach);
	}
	if (hwpt_paging && pasid == SIO_NO_PASID)
		iopt_remove_reserved_iova(&hwpt_paging->ioas->iopt, idev->dev);
	pthread_mutex_unlock(&igroup->lock);
	return hwpt;
}

static int do_attach(struct iommufd_device *idev, sio_pasid_t pasid,
		     struct iommufd_hw_pagetable *hwpt,
		     struct iommufd_hw_pagetable **destroy)
{
	*destroy = NULL;
	return iommufd_hw_pagetable_attach(hwpt, idev, pasid);
}

static void remove_group_resv(struct iommufd_attach *attach,
			      struct iommufd_hwpt_paging *hwpt_paging)
{
	for (unsigned int i = 0; i < attach->ndevs; i++)
		iopt_remove_reserved_iova(&hwpt_paging->ioas->iopt,
					  attach->devs[i]->dev);
}

/* The RID moves to hwpt_paging's IOAS: every attached device's reserved
 * regions go there first. */
static int replace_group_resv(struct iommufd_attach *attach,
			      struct iommufd_hwpt_paging *hwpt_paging)
{
	for (unsigned int i = 0; i < attach->ndevs; i++) {
		int rc = iopt_table_enforce_dev_resv_regions(
			&hwpt_paging->ioas->iopt, attach->devs[i]->dev);

		if (rc) {
			remove_group_resv(attach, hwpt_paging);
			return rc;
		}
	}
	return 0;
}

static int do_replace(struct iommufd_device *idev, sio_pasid_t pasid,
		      struct iommufd_hw_pagetable *hwpt,
		      struct iommufd_hw_pagetable **destroy)
{
	struct iommufd_hwpt_paging *hwpt_paging = find_hwpt_paging(hwpt);
	struct iommufd_group *igroup = idev->igroup;
	struct iommufd_hwpt_paging *old_paging;
	struct iommufd_hw_pagetable *old;
	struct iommufd_attach *attach;
	bool move_resv;
	int rc;

	*destroy = NULL;
	pthread_mutex_lock(&igroup->lock);
	attach = find_attach(igroup, pasid);
	if (!attach || attach_index(attach, idev) < 0) {
		rc = sio_err(-EINVAL,
			     "replace: the device is not attached at that PASID");
		goto out_unlock;
	}
	old = attach->hwpt;
	if (hwpt == old) {
		rc = 0;
		goto out_unlock;
	}
	old_paging = find_hwpt_paging(old);
	move_resv = pasid == SIO_NO_PASID && hwpt_paging &&
		    (!old_paging || hwpt_paging->ioas != old_paging->ioas);
	if (move_resv) {
		rc = replace_group_resv(attach, hwpt_paging);
		if (rc)
			goto out_unlock;
	}
	rc = hwpt_replace_device(attach, hwpt, idev);
	if (rc) {
		if (move_resv)
			remove_group_resv(attach, hwpt_paging);
		goto out_unlock;
	}
	if (pasid == SIO_NO_PASID && old_paging &&
	    (!hwpt_paging || hwpt_paging->ioas != old_paging->ioas))
		remove_group_resv(attach, old_paging);
	attach->hwpt = hwpt;
	/* Move the devices' references to the new HWPT; keep one on the
	 * old for the caller to put. */
	for (unsigned int i = 0; i < attach->ndevs; i++)
		iommufd_obj_get(&hwpt->obj);
	for (unsigned int i = 1; i < attach->ndevs; i++)
		iommufd_obj_put(&old->obj);
	*destroy = old;
out_unlock:
	pthread_mutex_unlock(&igroup->lock);
	return rc;
}

typedef int (*attach_fn)(struct iommufd_device *idev, sio_pasid_t pasid,
			 struct iommufd_hw_pagetable *hwpt,
			 struct iommufd_hw_pagetable **destroy);

static int auto_get_domain(struct iommufd_device *idev, sio_pasid_t pasid,
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
		rc = fn(idev, pasid, &hwpt_paging->common, destroy);
		if (rc == -EINVAL)
			continue;	/* incompatible: try another */
		if (!rc)
			*pt_id = hwpt_paging->common.obj.id;
		goto out_unlock;
	}
	hwpt_paging = iommufd_hwpt_paging_alloc(idev->ictx, ioas, idev, pasid,
						0, immediate, NULL, &rc);
	if (!hwpt_paging)
		goto out_unlock;
	if (!immediate) {
		rc = fn(idev, pasid, &hwpt_paging->common, destroy);
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

static int change_pt(struct iommufd_device *idev, sio_pasid_t pasid,
		     uint32_t *pt_id, attach_fn fn)
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
		rc = fn(idev, pasid, to_hwpt(pt_obj), &destroy);
		break;
	case IOMMUFD_OBJ_IOAS:
		rc = auto_get_domain(idev, pasid, to_ioas(pt_obj), pt_id, fn,
				     &destroy);
		break;
	default:
		rc = sio_err(-EINVAL,
			     "attach: pt_id %u is not an IOAS or a HWPT", *pt_id);
		break;
	}
	iommufd_put_object(idev->ictx, pt_obj);
	/* After every lock is dropped: may destroy an auto HWPT. */
	if (destroy)
		iommufd_hw_pagetable_put(idev->ictx, destroy);
	return rc;
}

int iommufd_device_attach(struct iommufd_device *idev, sio_pasid_t pasid,
			  uint32_t *pt_id)
{
	int rc = change_pt(idev, pasid, pt_id, do_attach);

	if (rc)
		return rc;
	/* Pairs with detach: a device is not destroyed while attached. */
	iommufd_obj_get(&idev->obj);
	return 0;
}

int iommufd_device_replace(struct iommufd_device *idev, sio_pasid_t pasid,
			   uint32_t *pt_id)
{
	return change_pt(idev, pasid, pt_id, do_replace);
}

void iommufd_device_detach(struct iommufd_device *idev, sio_pasid_t pasid)
{
	struct iommufd_hw_pagetable *hwpt =
		iommufd_hw_pagetable_detach(idev, pasid);

	if (!hwpt)
		return;
	iommufd_hw_pagetable_put(idev->ictx, hwpt);
	iommufd_obj_put(&idev->obj);
}

/* The next PASID idev has attached, or SIO_NO_PASID if none. */
static sio_pasid_t next_attached_pasid(struct iommufd_device *idev)
{
	struct iommufd_group *igroup = idev->igroup;
	struct iommufd_attach *attach;
	sio_pasid_t pasid = SIO_NO_PASID;

	pthread_mutex_lock(&igroup->lock);
	cds_list_for_each_entry(attach, &igroup->attaches, node) {
		if (attach->pasid != SIO_NO_PASID &&
		    attach_index(attach, idev) >= 0) {
			pasid = attach->pasid;
			break;
		}
	}
	pthread_mutex_unlock(&igroup->lock);
	return pasid;
}

void iommufd_device_detach_all(struct iommufd_device *idev)
{
	sio_pasid_t pasid;

	while ((pasid = next_attached_pasid(idev)) != SIO_NO_PASID)
		iommufd_device_detach(idev, pasid);
	iommufd_device_detach(idev, SIO_NO_PASID);
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
