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
 *
 * Readiness.  Making the fd readable is the system call that wakes a
 * reader in poll(); made under mutex, it would wake the reader into a
 * held mutex (its read() takes it), to sleep again at once.  So a change
 * of deliver is noted under mutex with a sequence number and the
 * readiness it calls for, and applied after the mutex is dropped, under
 * ready_lock: a change older than the one the fd already shows is
 * skipped, so the fd ends up showing the newest change whatever order the
 * appliers come in.  Between a change and its application the fd may lag
 * for a moment, as a kernel wake-up comes a moment after the list changed.
 */
#include "iommufd/iommufd_private.h"
#include "softiommu/file.h"

struct iommufd_eventq_ready
iommufd_eventq_note_readable(struct iommufd_eventq *eventq)
{
	return (struct iommufd_eventq_ready){
		.seq = ++eventq->ready_seq,
		.readable = !cds_list_empty(&eventq->deliver),
	};
}

void iommufd_eventq_apply_readable(struct iommufd_eventq *eventq,
				   struct iommufd_eventq_ready ready)
{
	pthread_mutex_lock(&eventq->ready_lock);
	/* A newer change was applied first: what it showed stands. */
	if (ready.seq > eventq->ready_applied) {
		eventq->ready_applied = ready.seq;
		if (eventq->file)
			sio_file_set_readable(eventq->file, ready.readable);
	}
	pthread_mutex_unlock(&eventq->ready_lock);
}

void iommufd_eventq_update_readable(struct iommufd_eventq *eventq)
{
	iommufd_eventq_apply_readable(eventq,
				      iommufd_eventq_note_readable(eventq));
}

int iommufd_eventq_init(struct iommufd_eventq *eventq,
			struct sio_iommufd *ictx,
			const struct sio_file_ops *fops, int *fd)
{
	int rc;

	eventq->ictx = ictx;
	pthread_mutex_init(&eventq->mutex, NULL);
	pthread_mutex_init(&eventq->ready_lock, NULL);
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
	pthread_mutex_lock(&eventq->ready_lock);
	eventq->file = NULL;
	pthread_mutex_unlock(&eventq->ready_lock);
	if (eventq->closed)
		eventq->closed(eventq);
	pthread_mutex_unlock(&eventq->mutex);
	iommufd_obj_put(&eventq->obj);
	iommufd_ctx_put(ictx);
}

void iommufd_eventq_destroy(struct iommufd_eventq *eventq)
{
	pthread_mutex_destroy(&eventq->ready_lock);
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
