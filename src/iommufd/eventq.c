/*
 * Event queues on emulated fds (the kernel's eventq.c, common half): what
 * fault queues (fault.c) and vEVENTQs (veventq.c) share.  Each kind keeps
 * its own records on the deliver list and its own read (and write) ops;
 * this file owns the fd: creating it with the references it holds, its
 * readiness (readable exactly while records wait), and its last close.
 *
 * The fd holds a user reference on the queue's object, so DESTROY of a
 * queue whose fd is open is -EBUSY, and one on the context, so the
 * context outlives the fd (the kernel's anon inode file does both).  After
 * the last close nobody can read the queue: file is NULL, and the queue's
 * closed hook decides what happens to records that keep arriving.
 */
#include "iommufd/iommufd_private.h"
#include "softiommu/file.h"

void iommufd_eventq_update_readable(struct iommufd_eventq *eventq)
{
	if (eventq->file)
		sio_file_set_readable(eventq->file,
				      !cds_list_empty(&eventq->deliver));
}

int iommufd_eventq_init(struct iommufd_eventq *eventq,
			struct sio_iommufd *ictx,
			const struct sio_file_ops *fops, int *fd)
{
	int rc;

	eventq->ictx = ictx;
	pthread_mutex_init(&eventq->mutex, NULL);
	CDS_INIT_LIST_HEAD(&eventq->deliver);
	rc = sio_file_create(fops, eventq, true, &eventq->file, fd);
	if (rc)
		return rc;
	iommufd_obj_get(&eventq->obj);
	iommufd_ctx_get(ictx);
	return 0;
}

void iommufd_eventq_release(struct sio_file *file)
{
	struct iommufd_eventq *eventq = sio_file_priv(file);
	/* The queue may be destroyed once its user reference is dropped. */
	struct sio_iommufd *ictx = eventq->ictx;

	pthread_mutex_lock(&eventq->mutex);
	eventq->file = NULL;
	if (eventq->closed)
		eventq->closed(eventq);
	pthread_mutex_unlock(&eventq->mutex);
	iommufd_obj_put(&eventq->obj);
	iommufd_ctx_put(ictx);
}

void iommufd_eventq_destroy(struct iommufd_eventq *eventq)
{
	pthread_mutex_destroy(&eventq->mutex);
}

int iommufd_eventq_respond(struct iommufd_ucmd *ucmd, size_t cmd_len, int fd)
{
	int rc = iommufd_ucmd_respond(ucmd, cmd_len);

	/* The program never learnt the fd: close it for it. */
	if (rc)
		sio_file_close(fd);
	return rc;
}
