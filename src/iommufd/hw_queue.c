/*
 * HW queues (the kernel's viommu.c, HW queue half): a queue in guest
 * memory that the hardware behind a vIOMMU reads by physical address,
 * such as a command queue the guest fills without trapping.
 *
 * The queue's memory is given by its IOVA in the vIOMMU's nesting parent.
 * Because the hardware reads it physically, unmapping it from the IOAS
 * must not pull the pages away while the queue lives: HW_QUEUE_ALLOC pins
 * the page-aligned range through an internal access object of the parent
 * HWPT's IOAS, whose pins lock their areas (IOAS_UNMAP of them is -EBUSY)
 * until the queue is destroyed.  The pinned memory must be contiguous in
 * the host's view (-EFAULT otherwise); the driver gets its host address.
 *
 * A driver may make a queue depend on another (the mock's queue 1 needs
 * queue 0): the dependent holds a user reference on the other's object,
 * so DESTROY of the other is -EBUSY until the dependent is gone.
 */
#include "iommufd/iommufd_private.h"

struct iommufd_hw_queue {
	struct iommufd_object obj;
	struct iommufd_viommu *viommu;		/* a user reference */
	struct sio_hw_queue *core;
	struct iommufd_hw_queue *depends_on;	/* a user reference */
	struct iommufd_access *access;		/* internal, pins the queue */
	uint64_t pin_iova, pin_length;		/* the pinned range */
};

void iommufd_hw_queue_destroy(struct iommufd_object *obj)
{
	struct iommufd_hw_queue *q =
		sio_container_of(obj, struct iommufd_hw_queue, obj);

	if (q->core)
		sio_hw_queue_free(q->core);
	if (q->depends_on)
		iommufd_obj_put(&q->depends_on->obj);
	if (q->access) {
		iommufd_access_unpin_pages(q->access, q->pin_iova,
					   q->pin_length);
		iommufd_access_destroy_internal(q->access);
	}
	if (q->viommu)
		iommufd_obj_put(&q->viommu->obj);
}

/* Pin the queue's pages from the parent's IOAS; *base_pa is the host
 * address of the queue's first byte. */
static int pin_queue(struct iommufd_hw_queue *q, struct sio_iommufd *ictx,
		     uint64_t iova, uint64_t length, uint64_t *base_pa)
{
	uint64_t ps = ictx->host->page_size;
	uint64_t offset = iova % ps, span;
	size_t contig = 0;
	int rc;

	if (__builtin_add_overflow(offset, length, &span) ||
	    __builtin_add_overflow(span, ps - 1, &span))
		return sio_err(-ERANGE,
			       "IOMMU_HW_QUEUE_ALLOC: queue range overflows");
	q->pin_iova = iova - offset;
	q->pin_length = span - span % ps;
	q->access = iommufd_access_create_internal(ictx, &rc);
	if (!q->access)
		return rc;
	rc = iommufd_access_attach(q->access,
				   q->viommu->hwpt->ioas->obj.id);
	if (rc)
		return rc;
	rc = iommufd_access_pin_pages(q->access, q->pin_iova, q->pin_length,
				      false);
	if (rc) {
		q->pin_length = 0;	/* nothing for destroy to unpin */
		return rc;
	}
	*base_pa = iommufd_access_pinned_host(q->access, q->pin_iova, &contig);
	/* The hardware reads it by physical address: one run of memory. */
	if (!*base_pa || contig < q->pin_length)
		return sio_err(-EFAULT,
			       "IOMMU_HW_QUEUE_ALLOC: queue memory not mapped or not contiguous");
	*base_pa += offset;
	return 0;
}

int iommufd_hw_queue_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_hw_queue_alloc *cmd = ucmd->cmd;
	struct iommufd_viommu *viommu;
	struct iommufd_hw_queue *q;
	struct iommufd_object *obj;
	uint64_t last, base_pa = 0;
	int rc;

	if (cmd->flags || cmd->type == IOMMU_HW_QUEUE_TYPE_DEFAULT)
		return sio_err(-EOPNOTSUPP,
			       "IOMMU_HW_QUEUE_ALLOC: unknown flags or type %u", cmd->type);
	if (!cmd->length)
		return sio_err(-EINVAL, "IOMMU_HW_QUEUE_ALLOC: length 0");
	if (__builtin_add_overflow(cmd->nesting_parent_iova, cmd->length - 1,
				   &last))
		return sio_err(-EOVERFLOW,
			       "IOMMU_HW_QUEUE_ALLOC: nesting_parent_iova + length overflows");
	viommu = iommufd_get_viommu(ucmd->ictx, cmd->viommu_id, &rc);
	if (!viommu)
		return rc;
	if (!sio_viommu_hw_queue_supported(viommu->core, cmd->type)) {
		rc = sio_err(-EOPNOTSUPP,
			     "IOMMU_HW_QUEUE_ALLOC: type %u not supported by the vIOMMU", cmd->type);
		goto out_put;
	}
	obj = iommufd_object_alloc_ucmd(ucmd, sizeof(*q), IOMMUFD_OBJ_HW_QUEUE,
					&rc);
	if (!obj)
		goto out_put;
	q = sio_container_of(obj, struct iommufd_hw_queue, obj);
	iommufd_obj_get(&viommu->obj);
	q->viommu = viommu;
	rc = pin_queue(q, ucmd->ictx, cmd->nesting_parent_iova, cmd->length,
		       &base_pa);
	if (rc)
		goto out_put;
	rc = sio_hw_queue_alloc(viommu->core, cmd->type, cmd->index,
				cmd->nesting_parent_iova, cmd->length, base_pa,
				q, &q->core);
	if (rc) {
		q->core = NULL;
		goto out_put;
	}
	if (q->core->depends_on) {
		q->depends_on = q->core->depends_on->user;
		iommufd_obj_get(&q->depends_on->obj);
	}
	cmd->out_hw_queue_id = obj->id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out_put:
	iommufd_put_object(ucmd->ictx, &viommu->obj);
	return rc;
}
