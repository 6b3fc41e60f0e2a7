/*
 * The PASID notifier chain: who hears about alloc, free, bind and unbind.
 *
 * Delivery is synchronous and happens under the space lock, in the order
 * subscribers registered.  That lock is what orders events: a subscriber
 * can never hear a PASID's FREE before its ALLOC, nor an UNBIND before its
 * BIND, and unregistering (which takes the lock) returns only once no
 * callback of that subscriber runs.  The price is that a callback must not
 * call back into the PASID layer, except for the lock-free lookups.
 */
#include "pasid/pasid_private.h"

static bool wants(const struct sio_pasid_notifier *nb,
		  const struct sio_pasid_event *ev)
{
	if (nb->set)
		return ev->set == nb->set;
	if (nb->token)
		return ev->token == nb->token;
	return true;
}

void pasid_notify(struct sio_pasid_space *space, enum sio_pasid_event_type type,
		  const struct pasid_entry *e, const void *binder)
{
	struct sio_pasid_event ev = {
		.type = type,
		.pasid = e->pasid,
		.private_id = e->private_id,
		.set = e->set,
		.token = e->token,
		.data = e->data,
		.binder = binder,
	};

	SIO_ASSERT_HELD(&space->lock);
	for (struct sio_pasid_notifier *nb = space->notifiers; nb; nb = nb->next)
		if (wants(nb, &ev))
			nb->notify(nb, &ev);
}

SIO_API int sio_pasid_notifier_register(struct sio_pasid_space *space,
					struct sio_pasid_notifier *nb)
{
	struct sio_pasid_notifier **pos;

	if (!space || !nb || !nb->notify)
		return sio_err(-EINVAL, "PASID notifier: missing callback");
	if (__atomic_load_n(&nb->space, __ATOMIC_ACQUIRE))
		return sio_err(-EBUSY, "PASID notifier: registered already");
	sio_mutex_lock(&space->lock, SIO_LOCK_PASID_SPACE);
	for (pos = &space->notifiers; *pos; pos = &(*pos)->next)
		;
	nb->next = NULL;
	*pos = nb;
	__atomic_store_n(&nb->space, sio_pasid_space_get(space), __ATOMIC_RELEASE);
	sio_mutex_unlock(&space->lock);
	return 0;
}

SIO_API void sio_pasid_notifier_unregister(struct sio_pasid_notifier *nb)
{
	struct sio_pasid_space *space;
	struct sio_pasid_notifier **pos;

	if (!nb)
		return;
	space = __atomic_load_n(&nb->space, __ATOMIC_ACQUIRE);
	if (!space)
		return;
	sio_mutex_lock(&space->lock, SIO_LOCK_PASID_SPACE);
	for (pos = &space->notifiers; *pos; pos = &(*pos)->next) {
		if (*pos == nb) {
			*pos = nb->next;
			break;
		}
	}
	nb->next = NULL;
	__atomic_store_n(&nb->space, NULL, __ATOMIC_RELEASE);
	sio_mutex_unlock(&space->lock);
	sio_pasid_space_put(space);
}
