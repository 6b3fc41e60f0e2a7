/*
 * vEVENTQs (the kernel's eventq.c, vEVENTQ half): a vIOMMU's events of
 * one type, read from an fd as an iommufd_vevent_header followed by the
 * type's record.  The fd, its readiness and references are the event
 * queue's (eventq.c).
 *
 * A queue holds at most depth events.  An event that finds it full is
 * lost, and the queue's one lost-events header (IOMMU_VEVENTQ_FLAG_LOST_
 * EVENTS, no record after it) goes to the tail in its place; each arrival,
 * lost or not, takes the next sequence number (0..INT_MAX, wrapping), so a
 * reader sees the loss both in the flag and in the gap.  A later loss
 * moves the header to the tail again; it leaves the queue when read.
 *
 * read(): a count below one header is -EINVAL; events are copied whole,
 * in order, while they fit; a first event whose record does not fit is
 * -EINVAL; an empty queue reads 0 (the kernel's read does not wait
 * either).  A fault on the buffer leaves the event queued: -EFAULT unless
 * some events were read.
 *
 * Locking: viommu->veventqs_lock (the vIOMMU's list of queues, one per
 * type) is held for reading while an event is reported and for writing
 * while a queue is added or removed; the queue's mutex inside it protects
 * the records, num_events and sequence.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "iommufd/iommufd_private.h"
#include "softiommu/file.h"

/* An arbitrary bound that fits every known IOMMU, as the kernel's. */
#define VEVENTQ_MAX_DEPTH (1u << 19)

struct iommufd_vevent {
	struct cds_list_head node;	/* in deliver */
	struct iommufd_vevent_header header;
	size_t data_len;		/* 0 for the lost-events header */
	unsigned char data[];
};

struct iommufd_veventq {
	struct iommufd_eventq common;
	struct iommufd_viommu *viommu;	/* a user reference */
	struct cds_list_head node;	/* in viommu->veventqs */
	uint32_t type;
	uint32_t depth;
	/* Under common.mutex: */
	uint32_t num_events;		/* queued events, not counting lost */
	uint32_t sequence;		/* of the next arrival */
	bool lost_queued;		/* lost is on deliver */
	/* The lost-events header, flags set, never freed; last. */
	struct iommufd_vevent lost;
};

static struct iommufd_veventq *to_veventq(struct iommufd_object *obj)
{
	return sio_container_of(obj, struct iommufd_veventq, common.obj);
}

/* viommu->veventqs_lock held. */
static struct iommufd_veventq *find_veventq(struct iommufd_viommu *viommu,
					    uint32_t type)
{
	struct iommufd_veventq *q;

	cds_list_for_each_entry(q, &viommu->veventqs, node)
		if (q->type == type)
			return q;
	return NULL;
}

/* Queue ev (an event or the lost header) with the next sequence number;
 * common.mutex held. */
static void deliver_locked(struct iommufd_veventq *q, struct iommufd_vevent *ev)
{
	/* A lost header already last is replaced by the new arrival: the
	 * sequence gap says the same thing.  Anywhere else it stays, unless
	 * it is the one moving. */
	if (q->lost_queued &&
	    (ev == &q->lost || q->common.deliver.prev == &q->lost.node)) {
		cds_list_del(&q->lost.node);
		q->lost_queued = false;
	}
	cds_list_add_tail(&ev->node, &q->common.deliver);
	if (ev == &q->lost)
		q->lost_queued = true;
	ev->header.sequence = q->sequence;
	q->sequence = (q->sequence + 1) & INT_MAX;
	iommufd_eventq_update_readable(&q->common);
}

int iommufd_viommu_report_event(struct iommufd_viommu *viommu, uint32_t type,
				const void *data, size_t len)
{
	struct iommufd_veventq *q;
	struct iommufd_vevent *ev;
	int rc = 0;

	pthread_rwlock_rdlock(&viommu->veventqs_lock);
	q = find_veventq(viommu, type);
	if (!q) {
		pthread_rwlock_unlock(&viommu->veventqs_lock);
		return sio_err(-EOPNOTSUPP,
			       "vIOMMU event: no vEVENTQ of type %u", type);
	}
	ev = sio_malloc(sizeof(*ev) + len);
	pthread_mutex_lock(&q->common.mutex);
	if (!ev) {
		/* Out of memory is a loss the reader should know of. */
		rc = sio_err(-ENOMEM,
			     "vIOMMU event: out of memory, event lost");
		ev = &q->lost;
	} else if (q->num_events == q->depth) {
		free(ev);
		ev = &q->lost;
	} else {
		memset(&ev->header, 0, sizeof(ev->header));
		ev->data_len = len;
		memcpy(ev->data, data, len);
		q->num_events++;
	}
	deliver_locked(q, ev);
	pthread_mutex_unlock(&q->common.mutex);
	pthread_rwlock_unlock(&viommu->veventqs_lock);
	return rc;
}

/* Copy ev out at ubuf: header, then record. */
static int copy_event(struct iommufd_veventq *q, const struct iommufd_vevent *ev,
		      uint64_t ubuf)
{
	struct sio_umem_owner *owner = q->common.ictx->host->owner;

	if (sio_umem_write(owner, ubuf, &ev->header, sizeof(ev->header)))
		return sio_err(-EFAULT, "vEVENTQ read: buffer not writable");
	if (ev->data_len &&
	    sio_umem_write(owner, ubuf + sizeof(ev->header), ev->data,
			   ev->data_len))
		return sio_err(-EFAULT, "vEVENTQ read: buffer not writable");
	return 0;
}

static ssize_t veventq_read(struct sio_file *file, void *buf, size_t len)
{
	struct iommufd_veventq *q = sio_container_of(
		sio_file_priv(file), struct iommufd_veventq, common);
	const size_t hdr = sizeof(struct iommufd_vevent_header);
	uint64_t ubuf = (uint64_t)(uintptr_t)buf;
	size_t done = 0;
	int rc = 0;

	if (len < hdr)
		return sio_err(-EINVAL,
			       "vEVENTQ read: buffer smaller than an event header");
	pthread_mutex_lock(&q->common.mutex);
	while (!cds_list_empty(&q->common.deliver)) {
		struct iommufd_vevent *ev = cds_list_first_entry(
			&q->common.deliver, struct iommufd_vevent, node);
		size_t need = hdr + ev->data_len;

		if (need > len - done) {
			/* Only a whole event is handed out. */
			if (!done)
				rc = sio_err(-EINVAL,
					     "vEVENTQ read: buffer smaller than the next event");
			break;
		}
		rc = copy_event(q, ev, ubuf + done);
		if (rc)
			break;
		cds_list_del(&ev->node);
		if (ev == &q->lost) {
			q->lost_queued = false;
		} else {
			q->num_events--;
			free(ev);
		}
		done += need;
	}
	iommufd_eventq_update_readable(&q->common);
	pthread_mutex_unlock(&q->common.mutex);
	return done ? (ssize_t)done : rc;
}

static const struct sio_file_ops veventq_fops = {
	.name = "iommufd-viommu-event",
	.read = veventq_read,
	.release = iommufd_eventq_release,
};

/* Undo the queue; viommu->veventqs_lock held for writing. */
void iommufd_veventq_abort(struct iommufd_object *obj)
{
	struct iommufd_veventq *q = to_veventq(obj);
	struct iommufd_vevent *ev, *tmp;

	cds_list_for_each_entry_safe(ev, tmp, &q->common.deliver, node) {
		cds_list_del(&ev->node);
		if (ev != &q->lost)
			free(ev);
	}
	cds_list_del(&q->node);
	iommufd_eventq_destroy(&q->common);
	iommufd_obj_put(&q->viommu->obj);
}

void iommufd_veventq_destroy(struct iommufd_object *obj)
{
	struct iommufd_viommu *viommu = to_veventq(obj)->viommu;

	pthread_rwlock_wrlock(&viommu->veventqs_lock);
	iommufd_veventq_abort(obj);
	pthread_rwlock_unlock(&viommu->veventqs_lock);
}

/* Make the queue of cmd->type; veventqs_lock held for writing. */
static int veventq_alloc_locked(struct iommufd_ucmd *ucmd,
				struct iommufd_viommu *viommu)
{
	struct iommu_veventq_alloc *cmd = ucmd->cmd;
	struct iommufd_veventq *q;
	struct iommufd_object *obj;
	int fd, rc;

	if (find_veventq(viommu, cmd->type))
		return sio_err(-EEXIST,
			       "IOMMU_VEVENTQ_ALLOC: the vIOMMU has a vEVENTQ of type %u", cmd->type);
	/* Published under the lock, so a second ALLOC of the type sees it. */
	obj = iommufd_object_alloc(ucmd->ictx, sizeof(*q), IOMMUFD_OBJ_VEVENTQ,
				   &rc);
	if (!obj)
		return rc;
	q = to_veventq(obj);
	q->type = cmd->type;
	q->depth = cmd->veventq_depth;
	q->lost.header.flags = IOMMU_VEVENTQ_FLAG_LOST_EVENTS;
	iommufd_obj_get(&viommu->obj);
	q->viommu = viommu;
	cds_list_add_tail(&q->node, &viommu->veventqs);
	rc = iommufd_eventq_init(&q->common, ucmd->ictx, &veventq_fops, &fd);
	if (!rc) {
		cmd->out_veventq_id = obj->id;
		cmd->out_veventq_fd = fd;
		rc = iommufd_eventq_respond(ucmd, sizeof(*cmd), fd);
	}
	if (rc) {
		iommufd_object_abort_and_destroy(ucmd->ictx, obj);
		return rc;
	}
	iommufd_object_finalize(ucmd->ictx, obj);
	return 0;
}

int iommufd_veventq_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_veventq_alloc *cmd = ucmd->cmd;
	struct iommufd_viommu *viommu;
	int rc;

	if (cmd->flags || cmd->__reserved ||
	    cmd->type == IOMMU_VEVENTQ_TYPE_DEFAULT)
		return sio_err(-EOPNOTSUPP,
			       "IOMMU_VEVENTQ_ALLOC: unknown flags or type %u, or reserved field set", cmd->type);
	if (!cmd->veventq_depth || cmd->veventq_depth > VEVENTQ_MAX_DEPTH)
		return sio_err(-EINVAL,
			       "IOMMU_VEVENTQ_ALLOC: depth %u not in 1..%u", cmd->veventq_depth, VEVENTQ_MAX_DEPTH);
	viommu = iommufd_get_viommu(ucmd->ictx, cmd->viommu_id, &rc);
	if (!viommu)
		return rc;
	pthread_rwlock_wrlock(&viommu->veventqs_lock);
	rc = veventq_alloc_locked(ucmd, viommu);
	pthread_rwlock_unlock(&viommu->veventqs_lock);
	iommufd_put_object(ucmd->ictx, &viommu->obj);
	return rc;
}
