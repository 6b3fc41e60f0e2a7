/*
 * Private definitions of the PASID layer: the space, its sets and the entry
 * of each allocated PASID, and the helpers its files share.
 *
 * One lock per space, space->lock (SIO_LOCK_PASID_SPACE in the library's
 * order, docs/locking.md), protects everything in the space that is
 * written: the free-value finder, the maps (writer side), the accounting,
 * the set and notifier lists, every entry's and set's mutable fields.  It is
 * a leaf for the library (nothing is called with it held except notifier
 * callbacks, which must not call back in).  Lookups take no lock: they read
 * space->map and set->private_map under RCU, and an entry removed from the
 * map is freed only after a grace period (pasid_reap()).
 */
#ifndef SIO_PASID_PRIVATE_H
#define SIO_PASID_PRIVATE_H

#include <pthread.h>
#include <urcu/list.h>

#include "softiommu/pasid.h"
#include "pasid/idalloc.h"
#include "pasid/idmap.h"
#include "util/error.h"
#include "util/lock.h"
#include "util/rcu.h"

struct pasid_entry {
	sio_pasid_t pasid;
	sio_pasid_t private_id;		/* SIO_PASID_INVALID: none */
	const void *token;		/* copied from the set at alloc */
	void *data;
	/* Under space->lock; set, binds and freed are also read lock-free. */
	struct sio_pasid_set *set;	/* NULL: global, or its set is gone */
	unsigned int refs;		/* the owner's (until freed) + binds */
	unsigned int binds;
	bool freed;			/* the owner let go: hidden from lookups */
	struct cds_list_head set_node;	/* in set->pasids while set != NULL */
	struct pasid_entry *reap_next;	/* waiting for a grace period */
};

struct sio_pasid_set {
	struct sio_pasid_space *space;	/* a reference */
	const void *token;
	uint32_t quota;
	/* Under space->lock. */
	uint32_t used;			/* entries with this set (freed ones
					 * that bonds still hold too) */
	struct cds_list_head node;	/* in space->sets */
	struct cds_list_head pasids;	/* struct pasid_entry.set_node */
	struct idmap private_map;	/* RCU: private ID -> PASID (an ID map) */
};

struct sio_pasid_space {
	unsigned int refs;		/* atomic */
	pthread_mutex_t lock;		/* see above */
	unsigned int bits;		/* atomic reads by lookups */
	struct idalloc ids;
	struct idmap map;		/* RCU: PASID -> struct pasid_entry */
	uint32_t nreserved;		/* reserved values below 2^bits, with 0 */
	uint32_t quota_reserved;	/* sum of the sets' quotas */
	uint32_t global_used;		/* global PASIDs and orphans of freed sets */
	struct cds_list_head sets;
	struct sio_pasid_notifier *notifiers;	/* in registration order */
};

/* Values 2^bits - reserved: what quotas and global PASIDs share. */
static inline uint32_t pasid_capacity(const struct sio_pasid_space *s)
{
	return (1u << s->bits) - s->nreserved;
}

/* Room left for new quotas or global PASIDs (space->lock held). */
static inline uint32_t pasid_room(const struct sio_pasid_space *s)
{
	return pasid_capacity(s) - s->quota_reserved - s->global_used;
}

/* Tell the subscribers about e (space->lock held). */
void pasid_notify(struct sio_pasid_space *space, enum sio_pasid_event_type type,
		  const struct pasid_entry *e, const void *binder);

/* Drop a reference of e (space->lock held); the last one unpublishes it,
 * frees its value for reuse and puts it on *reap. */
void pasid_entry_put(struct sio_pasid_space *space, struct pasid_entry *e,
		     struct pasid_entry **reap);
/* The owner lets go of e: FREE event, hidden from lookups, reference
 * dropped (space->lock held). */
void pasid_entry_free(struct sio_pasid_space *space, struct pasid_entry *e,
		      struct pasid_entry **reap);
/* Free the entries of a reap list after a grace period (no lock held);
 * the second when the caller has waited for one already. */
void pasid_reap(struct pasid_entry *reap);
void pasid_entries_free(struct pasid_entry *reap);

#endif
