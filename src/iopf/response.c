/*
 * Responses: how each group gets exactly one answer.
 *
 * Whoever answers a group (its handler, a detach that retires its attach
 * handle, disable) does it under the device's fault lock, where the group's
 * "answered" mark and the call into the device model are one step; the
 * second answerer finds the mark and gets -EALREADY.  An answered group
 * leaves its device's list of outstanding groups at once, so retiring a
 * handle only ever sees groups still waiting.
 *
 * Retiring an attach handle (sio_iopf_handle_gone, which the core calls
 * after a detach or replace through the system's registration): first the handler of its domain flushes what it holds for
 * that handle, answering it itself (iommufd drops its queued records,
 * SVA waits for its work); then whatever is still unanswered for that
 * handle on any device of the group is answered INVALID here.  Groups of
 * other handles (the RID's when a PASID goes, and the reverse) are left
 * alone: they are matched by handle, not by device.
 */
#include <stdlib.h>

#include "iopf/iopf_private.h"

/* Drop n references at once. */
static void group_put_n(struct sio_iopf_group *g, unsigned int n)
{
	if (__atomic_sub_fetch(&g->refs, n, __ATOMIC_ACQ_REL))
		return;
	sio_iopf_dev_put(g->state);
	free(g);
}

void sio_iopf_group_put(struct sio_iopf_group *g)
{
	group_put_n(g, 1);
}

void sio_iopf_deliver_locked(struct sio_iopf_dev *st,
			     const struct sio_page_request *last,
			     enum sio_page_response_code code)
{
	struct sio_page_response resp = {
		.pasid = last->pasid,
		.grpid = last->grpid,
		.addr = last->addr,
		.code = code,
	};

	SIO_ASSERT_HELD(&st->lock);
	if (!st->enabled)
		return;
	st->stats.responses[code]++;
	st->ops->page_response(st->dev, st->arg, &resp);
	if (st->ops->wake)
		st->wake_pending = true;
}

void sio_iopf_dev_unlock(struct sio_iopf_dev *st)
{
	bool wake = st->wake_pending;

	if (wake) {
		st->wake_pending = false;
		/* Counted before the unlock: a disable that takes the lock
		 * after this sees the call coming and waits for it. */
		__atomic_add_fetch(&st->waking, 1, __ATOMIC_RELAXED);
	}
	sio_mutex_unlock(&st->lock);
	if (wake) {
		st->ops->wake(st->dev, st->arg);
		__atomic_sub_fetch(&st->waking, 1, __ATOMIC_RELEASE);
	}
}

int sio_iopf_answer_locked(struct sio_iopf_dev *st, struct sio_iopf_group *g,
			   enum sio_page_response_code code)
{
	SIO_ASSERT_HELD(&st->lock);
	if (g->answered)
		return -EALREADY;
	g->answered = true;
	cds_list_del_init(&g->node);
	st->stats.outstanding--;
	sio_iopf_deliver_locked(st, &g->reqs[g->count - 1], code);
	return 0;
}

/* Answer INVALID the unanswered groups of st dispatched to handle (all if
 * handle is NULL); returns them on a local list for the caller to put
 * once the lock is dropped. */
static void answer_matching_locked(struct sio_iopf_dev *st,
				   const struct sio_attach_handle *handle,
				   struct cds_list_head *done)
{
	struct sio_iopf_group *g, *tmp;

	SIO_ASSERT_HELD(&st->lock);
	cds_list_for_each_entry_safe(g, tmp, &st->groups, node) {
		if (handle && g->handle != handle)
			continue;
		sio_iopf_answer_locked(st, g, SIO_PAGE_RESP_INVALID);
		cds_list_add_tail(&g->node, done);
	}
}

static void put_list(struct cds_list_head *done)
{
	struct sio_iopf_group *g, *tmp;

	cds_list_for_each_entry_safe(g, tmp, done, node) {
		cds_list_del(&g->node);
		sio_iopf_group_put(g);
	}
}

void sio_iopf_answer_all(struct sio_iopf_dev *st,
			 const struct sio_attach_handle *handle)
{
	struct cds_list_head done;

	CDS_INIT_LIST_HEAD(&done);
	sio_mutex_lock(&st->lock, SIO_LOCK_IOPF_DEV);
	answer_matching_locked(st, handle, &done);
	sio_iopf_dev_unlock(st);
	put_list(&done);
}

SIO_API int sio_iopf_group_respond(struct sio_iopf_group *group,
				   enum sio_page_response_code code)
{
	struct sio_iopf_dev *st;
	int rc;

	if (!group)
		return sio_err(-EINVAL, "iopf: respond: no group");
	if (code != SIO_PAGE_RESP_SUCCESS && code != SIO_PAGE_RESP_INVALID &&
	    code != SIO_PAGE_RESP_FAILURE)
		return sio_err(-EINVAL, "iopf: bad response code %d", (int)code);
	st = group->state;
	sio_mutex_lock(&st->lock, SIO_LOCK_IOPF_DEV);
	rc = sio_iopf_answer_locked(st, group, code);
	sio_iopf_dev_unlock(st);
	/* The handler's reference, and its unanswered one if this answered. */
	group_put_n(group, rc ? 1 : 2);
	return rc ? sio_err(rc, "iopf: group answered already") : 0;
}

static int sweep_device(struct sio_device *dev, void *arg)
{
	struct sio_iopf_dev *st = sio_iopf_dev_get(dev);

	if (st) {
		sio_iopf_answer_all(st, arg);
		sio_iopf_dev_put(st);
	}
	return 0;
}

void sio_iopf_handle_gone(struct sio_group *group,
			  struct sio_attach_handle *handle)
{
	struct sio_iopf_handler *handler;

	if (!handle || !handle->domain)
		return;
	/* No handler, no group was ever dispatched to this handle. */
	handler = handle->domain->iopf_handler;
	if (!handler)
		return;
	if (handler->ops->flush)
		handler->ops->flush(handler, handle);
	sio_group_for_each_device(group, sweep_device, handle);
}

SIO_API int sio_domain_set_iopf_handler(struct sio_domain *domain,
					struct sio_iopf_handler *handler)
{
	if (!domain)
		return sio_err(-EINVAL, "iopf: no domain");
	if (handler && (!handler->ops || !handler->ops->handle))
		return sio_err(-EINVAL, "iopf: handler without a handle op");
	if (domain->is_static)
		return sio_err(-EINVAL, "iopf: a %s domain cannot take faults",
			       sio_domain_type_name(domain->type));
	if (__atomic_load_n(&domain->attach_count, __ATOMIC_ACQUIRE))
		return sio_err(-EBUSY, "iopf: domain is attached");
	domain->iopf_handler = handler;
	return 0;
}

SIO_API struct sio_iopf_handler *
sio_domain_iopf_handler(const struct sio_domain *domain)
{
	return domain ? domain->iopf_handler : NULL;
}

SIO_API const struct sio_page_request *
sio_iopf_group_requests(const struct sio_iopf_group *group, size_t *count)
{
	*count = group->count;
	return group->reqs;
}

SIO_API const struct sio_page_request *
sio_iopf_group_last(const struct sio_iopf_group *group)
{
	return &group->reqs[group->count - 1];
}

SIO_API struct sio_device *sio_iopf_group_device(const struct sio_iopf_group *group)
{
	return group->state->dev;
}

SIO_API struct sio_attach_handle *
sio_iopf_group_handle(const struct sio_iopf_group *group)
{
	return group->handle;
}

SIO_API struct sio_domain *sio_iopf_group_domain(const struct sio_iopf_group *group)
{
	return group->domain;
}
