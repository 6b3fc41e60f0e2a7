/*
 * Page requests: collecting a group and dispatching it to its handler
 * (the kernel's iommu_report_device_fault).
 *
 * Requests that are not the last of their group wait on the device; the
 * last one takes every waiting request with the same PASID and group ID
 * (the kernel matches the group ID alone; a device never reuses an index
 * that is still outstanding, so the PASID only keeps two PASIDs' groups
 * apart when a device model reuses indexes across them).
 *
 * The handler is found through the attach handle at (device, PASID): the
 * PASID's entry, or the RID's for a request without PASID.  A request with
 * a PASID that nothing is attached to goes to the RID when the IOMMU lets
 * the guest own the PASID table and the RID has a nested domain (the
 * kernel's user_pasid_table case).  The lookup, the group's entry on the
 * device's outstanding list and the call to the handler all happen inside
 * one RCU read-side section.  That is what makes detach safe without a
 * reference count on the handle: the grace period at the end of a detach
 * or replace waits for every dispatch that could have found the old
 * handle, so when the core then retires the handle, every group that will
 * ever carry it is already on a list where the retirement finds it.
 */
#include <stdlib.h>
#include <string.h>

#include "iopf/iopf_private.h"
#include "softiommu/dma.h"
#include "util/fail.h"

static bool same_group(const struct sio_page_request *a,
		       const struct sio_page_request *b)
{
	return a->grpid == b->grpid && a->pasid == b->pasid;
}

/* Under RCU: the attach handle faults of req go to, if it can take them. */
static struct sio_attach_handle *find_handle(struct sio_device *dev,
					     const struct sio_page_request *req)
{
	struct sio_group *group = sio_rcu_deref(dev->group);
	struct sio_attach_handle *handle = NULL;

	if (!group)
		return NULL;
	if (req->pasid != SIO_NO_PASID) {
		struct sio_pasid_entry *e = NULL;

		if (req->pasid < dev->max_pasids)
			e = sio_pasid_table_load(&group->pasids, req->pasid);
		if (e) {
			handle = e->handle;
		} else if (dev->iommu->caps.features & SIO_FEAT_USER_PASID_TABLE) {
			handle = sio_rcu_deref(group->rid_handle);
			if (handle && handle->domain->type != SIO_DOMAIN_NESTED)
				handle = NULL;
		}
	} else {
		handle = sio_rcu_deref(group->rid_handle);
	}
	if (!handle || !handle->domain->iopf_handler)
		return NULL;
	return handle;
}

/* Under st->lock: answer requests that cannot become a group, with the
 * waiting partial requests of their group. */
static void refuse_locked(struct sio_iopf_dev *st,
			  const struct sio_page_request *last,
			  enum sio_page_response_code code)
{
	struct iopf_partial *p, *tmp;

	SIO_ASSERT_HELD(&st->lock);
	cds_list_for_each_entry_safe(p, tmp, &st->partial, node) {
		if (!same_group(&p->req, last))
			continue;
		cds_list_del(&p->node);
		st->stats.partial--;
		free(p);
	}
	sio_iopf_deliver_locked(st, last, code);
}

/* Under st->lock: a group made of the waiting requests of last's group and
 * last itself, or NULL when memory runs out. */
static struct sio_iopf_group *collect_locked(struct sio_iopf_dev *st,
					     const struct sio_page_request *last)
{
	struct iopf_partial *p, *tmp;
	struct sio_iopf_group *g;
	size_t n = 0;

	SIO_ASSERT_HELD(&st->lock);
	cds_list_for_each_entry(p, &st->partial, node)
		n += same_group(&p->req, last);
	g = sio_malloc(sizeof(*g) + (n + 1) * sizeof(g->reqs[0]));
	if (!g)
		return NULL;
	g->count = 0;
	cds_list_for_each_entry_safe(p, tmp, &st->partial, node) {
		if (!same_group(&p->req, last))
			continue;
		g->reqs[g->count++] = p->req;
		cds_list_del(&p->node);
		st->stats.partial--;
		free(p);
	}
	g->reqs[g->count++] = *last;
	return g;
}

static int keep_partial(struct sio_iopf_dev *st,
			const struct sio_page_request *req)
{
	struct iopf_partial *p = sio_malloc(sizeof(*p));
	int rc = 0;

	sio_mutex_lock(&st->lock, SIO_LOCK_IOPF_DEV);
	if (!p || st->stats.partial >= st->limits.max_partial) {
		st->stats.dropped++;
		rc = p ? -ENOSPC : -ENOMEM;
	} else {
		p->req = *req;
		cds_list_add_tail(&p->node, &st->partial);
		st->stats.partial++;
		st->stats.requests++;
		p = NULL;
	}
	sio_mutex_unlock(&st->lock);
	free(p);
	return rc;
}

/* Under RCU, with st found in dev->iopf: the last request of a group. */
static int dispatch(struct sio_iopf_dev *st, struct sio_device *dev,
		    const struct sio_page_request *last)
{
	struct sio_attach_handle *handle = find_handle(dev, last);
	struct sio_iopf_handler *handler;
	struct sio_iopf_group *g = NULL;
	int rc = 0;

	sio_mutex_lock(&st->lock, SIO_LOCK_IOPF_DEV);
	st->stats.requests++;
	if (!handle) {
		refuse_locked(st, last, SIO_PAGE_RESP_INVALID);
		rc = -EINVAL;
	} else if (st->stats.outstanding >= st->limits.max_groups) {
		refuse_locked(st, last, SIO_PAGE_RESP_FAILURE);
		rc = -EBUSY;
	} else if (!(g = collect_locked(st, last))) {
		refuse_locked(st, last, SIO_PAGE_RESP_FAILURE);
		rc = -ENOMEM;
	} else {
		sio_ref_inc(&st->refs);
		g->state = st;
		g->handle = handle;
		g->domain = handle->domain;
		g->refs = 2;		/* unanswered + the handler's */
		g->answered = false;
		cds_list_add_tail(&g->node, &st->groups);
		st->stats.outstanding++;
		st->stats.groups++;
	}
	sio_iopf_dev_unlock(st);
	if (rc)
		return rc;

	handler = g->domain->iopf_handler;
	rc = handler->ops->handle(handler, g);
	if (rc) {
		/* Refused: the handler holds nothing; answer it for it. */
		sio_iopf_group_respond(g, SIO_PAGE_RESP_FAILURE);
		return rc;
	}
	return 0;
}

/* Under RCU. */
static int report_rcu(struct sio_device *dev, const struct sio_page_request *req)
{
	struct sio_iopf_dev *st = sio_rcu_deref(dev->iopf);

	if (!st)
		return -ENODEV;
	if (!(req->flags & SIO_PRQ_LAST))
		return keep_partial(st, req);
	return dispatch(st, dev, req);
}

SIO_API int sio_iopf_report(struct sio_device *dev,
			    const struct sio_page_request *req)
{
	int rc;

	if (!dev || !req)
		return sio_err(-EINVAL, "iopf: report: NULL argument");
	if (req->pasid >> SIO_PASID_MAX_BITS)
		return sio_err(-EINVAL, "iopf: PASID %u beyond 20 bits",
			       req->pasid);
	sio_rcu_read_lock();
	rc = report_rcu(dev, req);
	sio_rcu_read_unlock();
	if (rc)
		return sio_err(rc, "iopf: %s: request %#llx (PASID %u, group %u) %s",
			       dev->name, (unsigned long long)req->addr,
			       req->pasid, req->grpid,
			       rc == -ENODEV ? "with page requests disabled"
			       : rc == -EINVAL ? "has no fault handler: INVALID"
			       : rc == -ENOSPC ? "over the partial limit: dropped"
			       : "refused: FAILURE");
	return 0;
}

int sio_iopf_dma_fault(struct sio_device *dev, sio_pasid_t pasid,
		       uint64_t iova, unsigned int access)
{
	struct sio_iopf_dev *st = sio_rcu_deref(dev->iopf);
	struct sio_page_request req = {
		.pasid = pasid,
		.perm = access & (SIO_DMA_READ | SIO_DMA_WRITE | SIO_DMA_EXEC |
				  SIO_DMA_PRIV),
		.flags = SIO_PRQ_LAST,
		.addr = iova,
	};

	if (!st)
		return -ENODEV;
	req.grpid = __atomic_fetch_add(&st->next_grpid, 1, __ATOMIC_RELAXED) &
		    SIO_IOPF_AUTO_GRPID_MASK;
	/* Whatever happened to it, the request went out and is answered. */
	dispatch(st, dev, &req);
	return 0;
}
