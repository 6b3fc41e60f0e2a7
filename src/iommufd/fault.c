/*
 * Fault queues (the kernel's eventq.c, fault half): IOMMU_FAULT_QUEUE_ALLOC
 * makes one and returns its fd; HWPTs allocated with it
 * (IOMMU_HWPT_FAULT_ID_VALID) send their page-fault groups here.
 *
 * The queue is the iommufd handler of the I/O page-fault layer (iopf.h):
 * a group it is given becomes a record on the deliver list, and the fd
 * turns readable.  read() hands out whole groups as iommu_hwpt_pgfault
 * records, each group under a fresh cookie, and moves it to the response
 * table; write() takes iommu_hwpt_page_response records and answers the
 * group of each cookie.  The kernel's errnos: a length that is not a
 * whole number of records is -ESPIPE, a buffer too small for the first
 * group -EINVAL, an unknown cookie or a bad code -EINVAL, a bad pointer
 * -EFAULT; a read or write that did some records returns their bytes.  As
 * in the kernel, read never waits: an empty queue reads 0.
 *
 * Answers nobody will give: when an attachment goes away the core asks
 * the queue to flush the groups of that attach handle (answered INVALID);
 * closing the fd answers everything the queue holds and makes it answer
 * new groups INVALID at once, since no one can read them any more.
 *
 * The fd, its readiness and its references are the event queue's
 * (eventq.c); this file adds the response table and the answers.
 *
 * Locking: the event queue's mutex protects the lists, the table and the
 * file pointer; it is taken inside an igroup->lock (detach flushes), and
 * the page-fault layer's device locks are taken inside it when it answers.
 */
#include <stdlib.h>
#include <string.h>

#include "iommufd/iommufd_private.h"
#include "softiommu/file.h"

struct iommufd_fault_record {
	struct cds_list_head node;	/* in fault->deliver until read; on
					 * a writer's list once answered */
	struct sio_iopf_group *group;
	uint32_t cookie;		/* once read */
	enum sio_page_response_code code;	/* once written */
};

static struct iommufd_fault *to_fault(struct sio_iopf_handler *h)
{
	return sio_container_of(h, struct iommufd_fault, handler);
}

/* A cookie for rec: the lowest free one from 1, as the kernel's xarray. */
static int response_add(struct iommufd_fault *fault,
			struct iommufd_fault_record *rec)
{
	uint32_t id;

	for (id = fault->response_hint; id < fault->response_cap; id++)
		if (!fault->response[id])
			break;
	if (id >= fault->response_cap) {
		uint32_t ncap = fault->response_cap ? fault->response_cap * 2
						    : 16;
		struct iommufd_fault_record **n;

		n = sio_realloc(fault->response, ncap * sizeof(*n));
		if (!n)
			return sio_err(-ENOMEM,
				       "fault queue: out of memory for the response list");
		memset(n + fault->response_cap, 0,
		       (ncap - fault->response_cap) * sizeof(*n));
		if (!fault->response_cap)
			id = 1;
		fault->response = n;
		fault->response_cap = ncap;
	}
	fault->response[id] = rec;
	fault->response_hint = id + 1;
	rec->cookie = id;
	return 0;
}

static struct iommufd_fault_record *response_take(struct iommufd_fault *fault,
						  uint32_t cookie)
{
	struct iommufd_fault_record *rec;

	if (!cookie || cookie >= fault->response_cap)
		return NULL;
	rec = fault->response[cookie];
	fault->response[cookie] = NULL;
	if (rec && cookie < fault->response_hint)
		fault->response_hint = cookie;
	return rec;
}

static void record_answer(struct iommufd_fault_record *rec,
			  enum sio_page_response_code code)
{
	/* -EALREADY: disable answered it first; nothing more to do. */
	sio_iopf_group_respond(rec->group, code);
	free(rec);
}

/* Answer INVALID every record under fault->common.mutex whose group went to
 * handle (all of them if handle is NULL). */
static void answer_held_locked(struct iommufd_fault *fault,
			       const struct sio_attach_handle *handle)
{
	struct iommufd_fault_record *rec, *tmp;

	cds_list_for_each_entry_safe(rec, tmp, &fault->common.deliver, node) {
		if (handle && sio_iopf_group_handle(rec->group) != handle)
			continue;
		cds_list_del(&rec->node);
		record_answer(rec, SIO_PAGE_RESP_INVALID);
	}
	for (uint32_t id = 1; id < fault->response_cap; id++) {
		rec = fault->response[id];
		if (!rec || (handle && sio_iopf_group_handle(rec->group) != handle))
			continue;
		record_answer(response_take(fault, id), SIO_PAGE_RESP_INVALID);
	}
	iommufd_eventq_update_readable(&fault->common);
}

/* The page-fault layer's handler: queue for the reader. */
static int fault_handle(struct sio_iopf_handler *h, struct sio_iopf_group *group)
{
	struct iommufd_fault *fault = to_fault(h);
	struct iommufd_fault_record *rec = sio_malloc(sizeof(*rec));
	struct iommufd_eventq_ready ready = { 0 };
	bool closed;

	if (!rec)
		return sio_err(-ENOMEM,
			       "fault queue: out of memory for the fault");
	rec->group = group;
	pthread_mutex_lock(&fault->common.mutex);
	closed = !fault->common.file;
	if (!closed) {
		cds_list_add_tail(&rec->node, &fault->common.deliver);
		ready = iommufd_eventq_note_readable(&fault->common);
	}
	pthread_mutex_unlock(&fault->common.mutex);
	if (closed)
		record_answer(rec, SIO_PAGE_RESP_INVALID);
	else
		/* The wake-up of the reader, once it can take the mutex.  The
		 * HWPT holds the queue while its domain takes faults. */
		iommufd_eventq_apply_readable(&fault->common, ready);
	return 0;
}

static void fault_flush(struct sio_iopf_handler *h,
			struct sio_attach_handle *handle)
{
	struct iommufd_fault *fault = to_fault(h);

	pthread_mutex_lock(&fault->common.mutex);
	answer_held_locked(fault, handle);
	pthread_mutex_unlock(&fault->common.mutex);
}

static const struct sio_iopf_handler_ops fault_handler_ops = {
	.handle = fault_handle,
	.flush = fault_flush,
};

static void compose(const struct sio_page_request *req,
		    const struct iommufd_attach_handle *h, uint32_t cookie,
		    struct iommu_hwpt_pgfault *out)
{
	memset(out, 0, sizeof(*out));
	if (req->pasid != SIO_NO_PASID)
		out->flags |= IOMMU_PGFAULT_FLAGS_PASID_VALID;
	if (req->flags & SIO_PRQ_LAST)
		out->flags |= IOMMU_PGFAULT_FLAGS_LAST_PAGE;
	out->dev_id = h->idev->obj.id;
	out->pasid = req->pasid;
	out->grpid = req->grpid;
	out->perm = req->perm;
	out->addr = req->addr;
	out->cookie = cookie;
}

/* Copy rec's group out at ubuf: -EFAULT leaves nothing consumed. */
static int copy_group(struct iommufd_fault *fault,
		      struct iommufd_fault_record *rec, uint64_t ubuf)
{
	const struct iommufd_attach_handle *h = sio_container_of(
		sio_iopf_group_handle(rec->group), struct iommufd_attach_handle,
		handle);
	const struct sio_page_request *reqs;
	size_t n;

	reqs = sio_iopf_group_requests(rec->group, &n);
	for (size_t i = 0; i < n; i++) {
		struct iommu_hwpt_pgfault out;

		compose(&reqs[i], h, rec->cookie, &out);
		if (sio_umem_write(fault->common.ictx->host->owner,
				   ubuf + i * sizeof(out), &out, sizeof(out)))
			return sio_err(-EFAULT,
				       "fault queue read: buffer not writable");
	}
	return 0;
}

static struct iommufd_fault *file_to_fault(struct sio_file *file)
{
	return sio_container_of(sio_file_priv(file), struct iommufd_fault,
				common);
}

static ssize_t fault_read(struct sio_file *file, void *buf, size_t len)
{
	struct iommufd_fault *fault = file_to_fault(file);
	const size_t rec_size = sizeof(struct iommu_hwpt_pgfault);
	uint64_t ubuf = (uint64_t)(uintptr_t)buf;
	struct iommufd_eventq_ready ready;
	size_t done = 0;
	int rc = 0;

	if (len % rec_size)
		return sio_err(-ESPIPE,
			       "fault queue read: length not a multiple of the record");
	pthread_mutex_lock(&fault->common.mutex);
	while (!cds_list_empty(&fault->common.deliver)) {
		struct iommufd_fault_record *rec = cds_list_first_entry(
			&fault->common.deliver, struct iommufd_fault_record, node);
		size_t n;

		sio_iopf_group_requests(rec->group, &n);
		if (n * rec_size > len - done) {
			/* The first group does not fit: the caller's error. */
			if (!done)
				rc = sio_err(-EINVAL,
					     "fault queue read: buffer smaller than one fault group");
			break;
		}
		rc = response_add(fault, rec);
		if (rc)
			break;
		rc = copy_group(fault, rec, ubuf + done);
		if (rc) {
			response_take(fault, rec->cookie);
			break;
		}
		cds_list_del(&rec->node);
		done += n * rec_size;
	}
	ready = iommufd_eventq_note_readable(&fault->common);
	pthread_mutex_unlock(&fault->common.mutex);
	iommufd_eventq_apply_readable(&fault->common, ready);
	return done ? (ssize_t)done : rc;
}

static ssize_t fault_write(struct sio_file *file, const void *buf, size_t len)
{
	struct iommufd_fault *fault = file_to_fault(file);
	const size_t resp_size = sizeof(struct iommu_hwpt_page_response);
	uint64_t ubuf = (uint64_t)(uintptr_t)buf;
	struct iommufd_fault_record *rec, *tmp;
	struct cds_list_head taken;
	size_t done = 0;
	int rc = 0;

	if (len % resp_size)
		return sio_err(-ESPIPE,
			       "fault queue write: length not a multiple of the response");
	CDS_INIT_LIST_HEAD(&taken);
	pthread_mutex_lock(&fault->common.mutex);
	while (done < len) {
		struct iommu_hwpt_page_response resp;

		if (sio_umem_read(fault->common.ictx->host->owner, &resp, ubuf + done,
				  resp_size)) {
			rc = sio_err(-EFAULT,
				     "fault queue write: buffer not readable");
			break;
		}
		if (resp.code != IOMMUFD_PAGE_RESP_SUCCESS &&
		    resp.code != IOMMUFD_PAGE_RESP_INVALID) {
			rc = sio_err(-EINVAL,
				     "fault queue write: unknown response code %u", resp.code);
			break;
		}
		rec = response_take(fault, resp.cookie);
		if (!rec) {
			rc = sio_err(-EINVAL,
				     "fault queue write: no fault with cookie %u", resp.cookie);
			break;
		}
		/* The uAPI codes are the layer's (SUCCESS 0, INVALID 1). */
		rec->code = (enum sio_page_response_code)resp.code;
		cds_list_add_tail(&rec->node, &taken);
		done += resp_size;
	}
	pthread_mutex_unlock(&fault->common.mutex);
	/*
	 * Answer once the queue is unlocked: the answer lets the device run
	 * on at once, and its next fault queues here, which would otherwise
	 * find the lock still held and sleep on it.  Taken out of the table,
	 * the records are this writer's alone; a detach that runs meanwhile
	 * no longer finds them here and answers their groups itself, so this
	 * answer then gets -EALREADY and the device still hears one.
	 */
	cds_list_for_each_entry_safe(rec, tmp, &taken, node)
		record_answer(rec, rec->code);
	return done ? (ssize_t)done : rc;
}

/* The last close of the fd: nobody can read or answer any more. */
static void fault_closed(struct iommufd_eventq *eventq)
{
	answer_held_locked(sio_container_of(eventq, struct iommufd_fault,
					    common), NULL);
}

static const struct sio_file_ops fault_fops = {
	.name = "iommufd-pgfault",
	.read = fault_read,
	.write = fault_write,
	.release = iommufd_eventq_release,
};

void iommufd_fault_destroy(struct iommufd_object *obj)
{
	struct iommufd_fault *fault = sio_container_of(obj, struct iommufd_fault,
						       common.obj);

	/* The fd is closed (it held a user), so nothing is held any more. */
	pthread_mutex_lock(&fault->common.mutex);
	answer_held_locked(fault, NULL);
	pthread_mutex_unlock(&fault->common.mutex);
	free(fault->response);
	iommufd_eventq_destroy(&fault->common);
}

struct iommufd_fault *iommufd_get_fault(struct sio_iommufd *ictx, uint32_t id,
					int *err)
{
	struct iommufd_object *obj = iommufd_get_object(ictx, id,
							IOMMUFD_OBJ_FAULT, err);

	return obj ? sio_container_of(obj, struct iommufd_fault, common.obj)
		   : NULL;
}

int iommufd_fault_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_fault_alloc *cmd = ucmd->cmd;
	struct iommufd_fault *fault;
	struct iommufd_object *obj;
	int fd, rc;

	if (cmd->flags)
		return sio_err(-EOPNOTSUPP,
			       "IOMMU_FAULT_QUEUE_ALLOC: unknown flags %#x", cmd->flags);
	obj = iommufd_object_alloc_ucmd(ucmd, sizeof(*fault), IOMMUFD_OBJ_FAULT,
					&rc);
	if (!obj)
		return rc;
	fault = sio_container_of(obj, struct iommufd_fault, common.obj);
	fault->handler.ops = &fault_handler_ops;
	fault->response_hint = 1;
	fault->common.closed = fault_closed;
	rc = iommufd_eventq_init(&fault->common, ucmd->ictx, &fault_fops, &fd);
	if (rc)
		return rc;
	cmd->out_fault_id = obj->id;
	cmd->out_fault_fd = fd;
	return iommufd_eventq_respond(ucmd, sizeof(*cmd), fd);
}
