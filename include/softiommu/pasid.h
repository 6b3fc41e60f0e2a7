/*
 * PASID allocation: the system PASID space, sets with a quota and an owner
 * token, set-private IDs, references held by bonds, and event notification.
 *
 * This follows the design of Jacob Pan's ioasid sets, which the Linux
 * kernel never merged.  A space is the PASID namespace of one system:
 * up to 20 bits, PASID 0 (SIO_NO_PASID) always reserved, more values
 * reservable.  A PASID is allocated either globally (set NULL) or inside a
 * set.  Sets are opaque: sio_pasid_set_alloc(quota, token) makes one and the
 * caller never fills its fields.  The quota is reserved from the space when
 * the set is made (so sets cannot starve each other) and caps how many
 * PASIDs the set holds at once (-ENOSPC beyond it).  The token names the
 * owner (an mm, a VM): subscribers recognise their PASIDs by it.  Within a
 * set a PASID may carry a private ID (a guest PASID), unique in the set,
 * and both directions are looked up lock-free.  A set can neither free nor
 * look up another set's PASIDs (-EACCES), nor a global caller a set's.
 *
 * References: allocation gives the owner one reference; every bond on the
 * PASID (sio_pasid_bind) holds another.  Freeing drops the owner's: the
 * PASID disappears from lookups at once, but its value is reused only when
 * the last bond is gone.
 *
 * Destroying a set that still has PASIDs frees each of them as
 * sio_pasid_free() would, in ascending order (one FREE event each), then
 * returns the set's quota; PASIDs still bound stay reserved until their
 * last unbind.
 *
 * Notifiers run synchronously, in registration order, under the space's
 * lock, so every subscriber sees the events of one PASID in the order they
 * happened: ALLOC, then BIND/UNBIND pairs, then FREE.  A callback must not
 * call back into this API except the lock-free lookups.
 *
 * Every function is thread-safe.  Allocation, free, bind and unbind are
 * O(log n) (a 64-ary bitmap tree for free values, a two-level radix for
 * lookups); lookups are O(1) and take no lock.
 */
#ifndef SOFTIOMMU_PASID_H
#define SOFTIOMMU_PASID_H

#include "softiommu/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sio_pasid_space;
struct sio_pasid_set;

/* A space of 2^bits PASIDs (1..20); PASID 0 is reserved.  The creator holds
 * one reference. */
SIO_API int sio_pasid_space_create(unsigned int bits,
				   struct sio_pasid_space **out);
SIO_API struct sio_pasid_space *sio_pasid_space_get(struct sio_pasid_space *space);
/* The last reference frees the space with any sets and PASIDs left. */
SIO_API void sio_pasid_space_put(struct sio_pasid_space *space);

SIO_API unsigned int sio_pasid_space_bits(struct sio_pasid_space *space);
/* Change the width: -EINVAL outside 1..20, -EBUSY if a PASID in use lies
 * beyond the new width or the quotas and global PASIDs would not fit. */
SIO_API int sio_pasid_space_set_bits(struct sio_pasid_space *space,
				     unsigned int bits);
/* Never hand out [min, max]: -EBUSY if one of them is in use, -EINVAL
 * beyond the width, -ENOSPC if the quotas would not fit any more. */
SIO_API int sio_pasid_reserve(struct sio_pasid_space *space, sio_pasid_t min,
			      sio_pasid_t max);
/* PASIDs neither reserved, nor in use globally, nor promised to a set. */
SIO_API uint32_t sio_pasid_space_available(struct sio_pasid_space *space);

/*
 * Sets.  quota > 0 and at most sio_pasid_space_available() (-EINVAL,
 * -ENOSPC); a non-NULL token may name only one set at a time (-EEXIST).
 * The set holds a reference on its space.
 */
SIO_API int sio_pasid_set_alloc(struct sio_pasid_space *space, uint32_t quota,
				const void *token, struct sio_pasid_set **out);
/* Frees the set and its PASIDs (see the rule above). */
SIO_API void sio_pasid_set_free(struct sio_pasid_set *set);
SIO_API const void *sio_pasid_set_token(const struct sio_pasid_set *set);
SIO_API uint32_t sio_pasid_set_quota(const struct sio_pasid_set *set);
/* PASIDs the set holds now: allocated, or freed but still bound. */
SIO_API uint32_t sio_pasid_set_count(struct sio_pasid_set *set);

/*
 * Allocate the lowest free PASID in [min, max] (clamped to the width; min 0
 * counts as 1), in set or globally (set NULL).  private_id is the set's own
 * name for it (SIO_PASID_INVALID: none; global PASIDs have none); data is
 * the caller's, returned by lookups and events.  -EINVAL for a bad range,
 * a private ID beyond 20 bits or on a global PASID, or a set of another
 * space; -EEXIST if the private ID is taken in the set; -ENOSPC when the
 * quota (or, globally, the space) is exhausted or no value in range is free.
 */
SIO_API int sio_pasid_alloc(struct sio_pasid_space *space,
			    struct sio_pasid_set *set, sio_pasid_t min,
			    sio_pasid_t max, sio_pasid_t private_id, void *data,
			    sio_pasid_t *out);
/* Drop the owner's reference: -ENOENT if not allocated (or freed already),
 * -EACCES if it belongs to another set (or to a set, for set NULL). */
SIO_API int sio_pasid_free(struct sio_pasid_space *space,
			   struct sio_pasid_set *set, sio_pasid_t pasid);

/* What a lookup returns. */
struct sio_pasid_info {
	sio_pasid_t pasid;
	sio_pasid_t private_id;		/* SIO_PASID_INVALID: none */
	const void *token;		/* of its set; NULL for global */
	void *data;
	unsigned int binds;		/* bonds holding it */
};

/* Lock-free lookup.  set NULL looks at any PASID (the system's view);
 * otherwise -EACCES for a PASID of another owner.  -ENOENT if none. */
SIO_API int sio_pasid_find(struct sio_pasid_space *space,
			   struct sio_pasid_set *set, sio_pasid_t pasid,
			   struct sio_pasid_info *out);
/* A set's private ID -> system PASID, lock-free; -ENOENT if none. */
SIO_API int sio_pasid_find_private(struct sio_pasid_set *set,
				   sio_pasid_t private_id, sio_pasid_t *out);

/* A bond starts using the PASID (a reference, and a BIND event naming
 * binder): -ENOENT if it is not allocated or being freed, -EACCES as for
 * sio_pasid_find.  Unbind sends UNBIND and drops the reference. */
SIO_API int sio_pasid_bind(struct sio_pasid_space *space,
			   struct sio_pasid_set *set, sio_pasid_t pasid,
			   const void *binder);
SIO_API void sio_pasid_unbind(struct sio_pasid_space *space, sio_pasid_t pasid,
			      const void *binder);

enum sio_pasid_event_type {
	SIO_PASID_EVENT_ALLOC = 1,
	SIO_PASID_EVENT_FREE,
	SIO_PASID_EVENT_BIND,
	SIO_PASID_EVENT_UNBIND,
};

struct sio_pasid_event {
	enum sio_pasid_event_type type;
	sio_pasid_t pasid;
	sio_pasid_t private_id;		/* SIO_PASID_INVALID: none */
	struct sio_pasid_set *set;	/* NULL: global (or its set is gone) */
	const void *token;
	void *data;
	const void *binder;		/* BIND/UNBIND: who */
};

/*
 * A subscriber.  Filter: set non-NULL -> that set's events only; else token
 * non-NULL -> events of PASIDs whose set has this token (also sets made
 * after registering, which is how a VM's table hears of a set its VMM makes
 * later); both NULL -> every event.  Fill notify and the filter, then
 * register; the rest is private.
 */
struct sio_pasid_notifier {
	void (*notify)(struct sio_pasid_notifier *nb,
		       const struct sio_pasid_event *ev);
	struct sio_pasid_set *set;
	const void *token;
	/* private */
	struct sio_pasid_space *space;
	struct sio_pasid_notifier *next;
};

/* -EBUSY if nb is registered already, -EINVAL without notify. */
SIO_API int sio_pasid_notifier_register(struct sio_pasid_space *space,
					struct sio_pasid_notifier *nb);
/* When it returns, nb's callback is not running and will not run again. */
SIO_API void sio_pasid_notifier_unregister(struct sio_pasid_notifier *nb);

/*
 * An example subscriber: a VM's PASID translation table, guest PASID ->
 * host PASID, kept the way KVM keeps the one the CPU uses for ENQCMD in a
 * guest.  It listens to the sets with the VM's token: a PASID with a
 * private (guest) ID enters the table when its first bond binds it and
 * leaves when its last bond unbinds or it is freed.  Lookups are lock-free.
 */
struct sio_pasid_xlate;

SIO_API int sio_pasid_xlate_create(struct sio_pasid_space *space,
				   const void *vm_token,
				   struct sio_pasid_xlate **out);
SIO_API void sio_pasid_xlate_destroy(struct sio_pasid_xlate *xl);
/* -ENOENT if the guest PASID has no host PASID now. */
SIO_API int sio_pasid_xlate_lookup(struct sio_pasid_xlate *xl,
				   sio_pasid_t guest, sio_pasid_t *host);
SIO_API uint32_t sio_pasid_xlate_count(struct sio_pasid_xlate *xl);

#ifdef __cplusplus
}
#endif
#endif
