/*
 * Page requests on one device: enabling them (the device model says where
 * responses go), disabling them, and the device's counters.
 *
 * Enabling also registers the layer's handle retirement on the device's
 * system (sio_system_set_handle_retire), which is how the core, below this
 * layer, has outstanding requests answered when a detach or replace
 * retires their attach handle.  Registering is idempotent and never
 * undone: the function is this layer's and outlives every system.
 *
 * The state is published in dev->iopf for the lock-free report path.
 * Disable unpublishes it first and waits for a grace period, so no report
 * can add to it any more, then answers what it still holds; groups a
 * handler still holds keep the state alive through their reference and
 * find themselves answered when the handler responds (-EALREADY).
 */
#include <sched.h>
#include <stdlib.h>

#include "iopf/iopf_private.h"
#include "util/fail.h"

static void state_free(struct sio_iopf_dev *st)
{
	struct iopf_partial *p, *tmp;

	cds_list_for_each_entry_safe(p, tmp, &st->partial, node)
		free(p);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

void sio_iopf_dev_put(struct sio_iopf_dev *st)
{
	if (sio_ref_dec(&st->refs))
		state_free(st);
}

struct sio_iopf_dev *sio_iopf_dev_get(struct sio_device *dev)
{
	struct sio_iopf_dev *st;

	sio_rcu_read_lock();
	st = sio_rcu_deref(dev->iopf);
	if (st && !sio_ref_inc_not_zero(&st->refs))
		st = NULL;
	sio_rcu_read_unlock();
	return st;
}

SIO_API int sio_iopf_device_enable(struct sio_device *dev,
				   const struct sio_iopf_device_ops *ops,
				   void *arg,
				   const struct sio_iopf_limits *limits)
{
	struct sio_iopf_dev *st, *expected = NULL;

	sio_err_clear();
	if (!dev || !ops || !ops->page_response)
		return sio_err(-EINVAL, "iopf: enable needs a device and a page_response op");
	if (sio_device_is_removed(dev))
		return sio_err(-ENODEV, "iopf: %s was removed", dev->name);
	st = sio_calloc(1, sizeof(*st));
	if (!st)
		return sio_err(-ENOMEM, "iopf: out of memory");
	st->dev = dev;
	st->ops = ops;
	st->arg = arg;
	if (limits)
		st->limits = *limits;
	if (!st->limits.max_groups)
		st->limits.max_groups = SIO_IOPF_DEFAULT_MAX_GROUPS;
	if (!st->limits.max_partial)
		st->limits.max_partial = SIO_IOPF_DEFAULT_MAX_PARTIAL;
	st->refs = 1;
	st->enabled = true;
	pthread_mutex_init(&st->lock, NULL);
	CDS_INIT_LIST_HEAD(&st->partial);
	CDS_INIT_LIST_HEAD(&st->groups);
	/* Before st is published, so before any request of this system can
	 * be dispatched: detaches from now on answer what they leave. */
	sio_system_set_handle_retire(dev->iommu->sys, sio_iopf_handle_gone);
	/* A compare-and-swap, so that two enables cannot both publish. */
	if (!__atomic_compare_exchange_n(&dev->iopf, &expected, st, false,
					 __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
		state_free(st);
		return sio_err(-EBUSY, "iopf: page requests already enabled on %s",
			       dev->name);
	}
	return 0;
}

SIO_API void sio_iopf_device_disable(struct sio_device *dev)
{
	struct sio_iopf_dev *st;

	if (!dev)
		return;
	st = __atomic_exchange_n(&dev->iopf, NULL, __ATOMIC_ACQ_REL);
	if (!st)
		return;
	/* Reports that found st have dispatched what they will. */
	sio_rcu_synchronize();
	sio_iopf_answer_all(st, NULL);
	sio_mutex_lock(&st->lock, SIO_LOCK_IOPF_DEV);
	st->enabled = false;
	sio_mutex_unlock(&st->lock);
	/* No response goes out any more; a wake owed for one that did is
	 * made by now or counted in waking (sio_iopf_dev_unlock). */
	while (__atomic_load_n(&st->waking, __ATOMIC_ACQUIRE))
		sched_yield();
	sio_iopf_dev_put(st);
}

SIO_API int sio_iopf_device_stats(struct sio_device *dev,
				  struct sio_iopf_stats *out)
{
	struct sio_iopf_dev *st;

	if (!dev || !out)
		return sio_err(-EINVAL, "iopf: stats: NULL argument");
	st = sio_iopf_dev_get(dev);
	if (!st)
		return sio_err(-ENODEV, "iopf: page requests not enabled on %s",
			       dev->name);
	sio_mutex_lock(&st->lock, SIO_LOCK_IOPF_DEV);
	*out = st->stats;
	sio_mutex_unlock(&st->lock);
	sio_iopf_dev_put(st);
	return 0;
}
