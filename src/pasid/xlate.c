/*
 * An example PASID subscriber: a VM's guest PASID -> host PASID table, the
 * way KVM keeps the PASID translation table the CPU consults when a guest
 * issues ENQCMD (the ioasid set review: "when kvm receives a notification
 * about a new guest-host PASID mapping, it needs to know which vm it
 * belongs to").
 *
 * The VMM allocates the host PASIDs of a guest in a set whose token is the
 * VM, with the guest PASID as private ID.  The table listens by token, so it
 * can be created before the set exists.  A guest PASID is translated while
 * at least one bond holds the host PASID: the first BIND publishes it, the
 * last UNBIND (or a FREE) withdraws it.  Callbacks run serialized under the
 * space lock, which is the table's writer lock; lookups are lock-free.  The
 * table keeps host PASIDs as IDs in its slots, never pointers, so nothing it
 * withdraws ever needs a grace period.
 */
#include <stdlib.h>

#include "pasid/pasid_private.h"
#include "util/fail.h"

struct sio_pasid_xlate {
	struct sio_pasid_notifier nb;
	struct idmap guest_to_host;	/* RCU: guest PASID -> host PASID (IDs) */
	struct idmap binds;		/* writer only: guest PASID -> bonds */
	uint32_t count;			/* translations; atomic reads */
};

static void withdraw(struct sio_pasid_xlate *xl, sio_pasid_t guest)
{
	if (!idmap_load(&xl->guest_to_host, guest))
		return;
	idmap_store(&xl->guest_to_host, guest, NULL);
	idmap_store(&xl->binds, guest, NULL);
	__atomic_sub_fetch(&xl->count, 1, __ATOMIC_RELAXED);
}

static void xlate_notify(struct sio_pasid_notifier *nb,
			 const struct sio_pasid_event *ev)
{
	struct sio_pasid_xlate *xl = sio_container_of(nb, struct sio_pasid_xlate, nb);
	sio_pasid_t guest = ev->private_id;
	uintptr_t binds;

	if (guest == SIO_PASID_INVALID)
		return;
	binds = (uintptr_t)idmap_load(&xl->binds, guest);
	switch (ev->type) {
	case SIO_PASID_EVENT_BIND:
		/* Bind counts are stored as values; a full table just misses
		 * this translation (the guest's ENQCMD would fault). */
		if (idmap_store(&xl->binds, guest, (void *)(binds + 1)))
			return;
		if (!binds &&
		    !idmap_store_id(&xl->guest_to_host, guest, ev->pasid))
			__atomic_add_fetch(&xl->count, 1, __ATOMIC_RELAXED);
		break;
	case SIO_PASID_EVENT_UNBIND:
		if (binds > 1)
			idmap_store(&xl->binds, guest, (void *)(binds - 1));
		else
			withdraw(xl, guest);
		break;
	case SIO_PASID_EVENT_FREE:
		withdraw(xl, guest);
		break;
	case SIO_PASID_EVENT_ALLOC:
		break;
	}
}

SIO_API int sio_pasid_xlate_create(struct sio_pasid_space *space,
				   const void *vm_token,
				   struct sio_pasid_xlate **out)
{
	struct sio_pasid_xlate *xl;
	int rc;

	if (!space || !vm_token || !out)
		return sio_err(-EINVAL, "PASID table: missing argument");
	xl = sio_calloc(1, sizeof(*xl));
	if (!xl)
		return sio_err(-ENOMEM, "PASID table: out of memory");
	idmap_init(&xl->guest_to_host);
	idmap_init(&xl->binds);
	xl->nb.notify = xlate_notify;
	xl->nb.token = vm_token;
	rc = sio_pasid_notifier_register(space, &xl->nb);
	if (rc) {
		free(xl);
		return rc;
	}
	*out = xl;
	return 0;
}

SIO_API void sio_pasid_xlate_destroy(struct sio_pasid_xlate *xl)
{
	if (!xl)
		return;
	sio_pasid_notifier_unregister(&xl->nb);
	/* Lookups may still be walking the table. */
	sio_rcu_synchronize();
	idmap_destroy(&xl->guest_to_host);
	idmap_destroy(&xl->binds);
	free(xl);
}

SIO_API int sio_pasid_xlate_lookup(struct sio_pasid_xlate *xl,
				   sio_pasid_t guest, sio_pasid_t *host)
{
	if (idmap_lookup_id(&xl->guest_to_host, guest, host))
		return sio_err(-ENOENT, "guest PASID %u has no host PASID", guest);
	return 0;
}

SIO_API uint32_t sio_pasid_xlate_count(struct sio_pasid_xlate *xl)
{
	return __atomic_load_n(&xl->count, __ATOMIC_RELAXED);
}
