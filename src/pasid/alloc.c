/*
 * Allocating, freeing, looking up and binding PASIDs.
 *
 * An allocated PASID has an entry published in space->map (and, with a
 * private ID, in its set's private map).  The entry is reference counted
 * under the space lock: the owner holds one until it frees the PASID, each
 * bond one more.  Freeing hides the entry from lookups and sends FREE at
 * once, so subscribers drop what they keep for it; the value itself goes
 * back to the free pool only with the last reference, so a bond never sees
 * its PASID handed to somebody else.
 */
#include <stdlib.h>

#include "pasid/pasid_private.h"
#include "util/fail.h"

static struct pasid_entry *entry_locked(struct sio_pasid_space *space,
					sio_pasid_t pasid)
{
	SIO_ASSERT_HELD(&space->lock);
	return idmap_load(&space->map, pasid);
}

void pasid_entries_free(struct pasid_entry *reap)
{
	while (reap) {
		struct pasid_entry *next = reap->reap_next;

		free(reap);
		reap = next;
	}
}

void pasid_reap(struct pasid_entry *reap)
{
	if (!reap)
		return;
	sio_rcu_synchronize();
	pasid_entries_free(reap);
}

void pasid_entry_put(struct sio_pasid_space *space, struct pasid_entry *e,
		     struct pasid_entry **reap)
{
	SIO_ASSERT_HELD(&space->lock);
	if (--e->refs)
		return;
	idmap_store(&space->map, e->pasid, NULL);
	idalloc_clear(&space->ids, e->pasid);
	if (e->set) {
		cds_list_del(&e->set_node);
		e->set->used--;
	} else {
		space->global_used--;
	}
	e->reap_next = *reap;
	*reap = e;
}

void pasid_entry_free(struct sio_pasid_space *space, struct pasid_entry *e,
		      struct pasid_entry **reap)
{
	SIO_ASSERT_HELD(&space->lock);
	__atomic_store_n(&e->freed, true, __ATOMIC_RELEASE);
	if (e->set && e->private_id != SIO_PASID_INVALID)
		idmap_store(&e->set->private_map, e->private_id, NULL);
	pasid_notify(space, SIO_PASID_EVENT_FREE, e, NULL);
	pasid_entry_put(space, e, reap);
}

/* Checks that need the lock: quota, room, private ID.  Then the value. */
static int alloc_locked(struct sio_pasid_space *space, struct sio_pasid_set *set,
			sio_pasid_t min, sio_pasid_t max, sio_pasid_t private_id,
			int64_t *id)
{
	uint32_t limit = 1u << space->bits;

	SIO_ASSERT_HELD(&space->lock);
	if (set && set->used >= set->quota)
		return sio_err(-ENOSPC, "PASID alloc: the set's quota of %u is used up",
			       set->quota);
	if (!set && !pasid_room(space))
		return sio_err(-ENOSPC, "PASID alloc: no global PASID left outside "
			       "the quotas");
	if (set && private_id != SIO_PASID_INVALID &&
	    idmap_load(&set->private_map, private_id))
		return sio_err(-EEXIST, "PASID alloc: private ID %u is taken",
			       private_id);
	if (max >= limit)
		max = limit - 1;
	*id = min <= max ? idalloc_next_free(&space->ids, min) : -1;
	if (*id < 0 || *id > max)
		return sio_err(-ENOSPC, "PASID alloc: no free PASID in [%u, %u]",
			       min, max);
	return 0;
}

SIO_API int sio_pasid_alloc(struct sio_pasid_space *space,
			    struct sio_pasid_set *set, sio_pasid_t min,
			    sio_pasid_t max, sio_pasid_t private_id, void *data,
			    sio_pasid_t *out)
{
	struct pasid_entry *e;
	int64_t id = -1;
	int rc;

	if (!space || !out || min > max)
		return sio_err(-EINVAL, "PASID alloc: %s", min > max ?
			       "empty range" : "missing argument");
	if (set && set->space != space)
		return sio_err(-EINVAL, "PASID alloc: set of another space");
	if (private_id != SIO_PASID_INVALID &&
	    (!set || private_id >> SIO_PASID_MAX_BITS))
		return sio_err(-EINVAL, "PASID alloc: private ID %u %s", private_id,
			       set ? "beyond 20 bits" : "without a set");
	if (!min)
		min = 1;
	e = sio_calloc(1, sizeof(*e));
	if (!e)
		return sio_err(-ENOMEM, "PASID alloc: out of memory");

	sio_mutex_lock(&space->lock, SIO_LOCK_PASID_SPACE);
	rc = alloc_locked(space, set, min, max, private_id, &id);
	if (rc)
		goto out;
	e->pasid = (sio_pasid_t)id;
	e->private_id = private_id;
	e->token = set ? set->token : NULL;
	e->data = data;
	e->set = set;
	e->refs = 1;
	/* Room in the maps first: publishing must not fail half-way. */
	rc = idmap_store(&space->map, e->pasid, e);
	if (!rc && private_id != SIO_PASID_INVALID) {
		rc = idmap_store_id(&set->private_map, private_id, e->pasid);
		if (rc)
			idmap_store(&space->map, e->pasid, NULL);
	}
	if (rc) {
		rc = sio_err(rc, "PASID alloc: out of memory");
		goto out;
	}
	idalloc_set(&space->ids, e->pasid);
	if (set) {
		set->used++;
		cds_list_add_tail(&e->set_node, &set->pasids);
	} else {
		space->global_used++;
	}
	pasid_notify(space, SIO_PASID_EVENT_ALLOC, e, NULL);
	*out = e->pasid;
	e = NULL;
out:
	sio_mutex_unlock(&space->lock);
	free(e);
	return rc;
}

/* The entry of pasid as owner set sees it (space->lock held). */
static int owned_locked(struct sio_pasid_space *space, struct sio_pasid_set *set,
			sio_pasid_t pasid, bool any, struct pasid_entry **out)
{
	struct pasid_entry *e = entry_locked(space, pasid);	/* asserts */

	if (!e || e->freed)
		return sio_err(-ENOENT, "PASID %u is not allocated", pasid);
	if (e->set != set && (set || !any))
		return sio_err(-EACCES, "PASID %u belongs to another owner", pasid);
	*out = e;
	return 0;
}

SIO_API int sio_pasid_free(struct sio_pasid_space *space,
			   struct sio_pasid_set *set, sio_pasid_t pasid)
{
	struct pasid_entry *e, *reap = NULL;
	int rc;

	if (!space)
		return sio_err(-EINVAL, "PASID free: no space");
	sio_mutex_lock(&space->lock, SIO_LOCK_PASID_SPACE);
	rc = owned_locked(space, set, pasid, false, &e);
	if (!rc)
		pasid_entry_free(space, e, &reap);
	sio_mutex_unlock(&space->lock);
	pasid_reap(reap);
	return rc;
}

SIO_API int sio_pasid_find(struct sio_pasid_space *space,
			   struct sio_pasid_set *set, sio_pasid_t pasid,
			   struct sio_pasid_info *out)
{
	struct pasid_entry *e;
	int rc = 0;

	sio_rcu_read_lock();
	e = idmap_load(&space->map, pasid);
	if (!e || __atomic_load_n(&e->freed, __ATOMIC_ACQUIRE)) {
		rc = -ENOENT;
	} else if (set && __atomic_load_n(&e->set, __ATOMIC_ACQUIRE) != set) {
		rc = -EACCES;
	} else {
		out->pasid = e->pasid;
		out->private_id = e->private_id;
		out->token = e->token;
		out->data = e->data;
		out->binds = __atomic_load_n(&e->binds, __ATOMIC_RELAXED);
	}
	sio_rcu_read_unlock();
	if (rc)
		return sio_err(rc, "PASID %u: %s", pasid, rc == -ENOENT ?
			       "not allocated" : "belongs to another owner");
	return 0;
}

SIO_API int sio_pasid_find_private(struct sio_pasid_set *set,
				   sio_pasid_t private_id, sio_pasid_t *out)
{
	if (idmap_lookup_id(&set->private_map, private_id, out))
		return sio_err(-ENOENT, "no PASID with private ID %u", private_id);
	return 0;
}

SIO_API int sio_pasid_bind(struct sio_pasid_space *space,
			   struct sio_pasid_set *set, sio_pasid_t pasid,
			   const void *binder)
{
	struct pasid_entry *e;
	int rc;

	sio_mutex_lock(&space->lock, SIO_LOCK_PASID_SPACE);
	rc = owned_locked(space, set, pasid, true, &e);
	if (!rc) {
		e->refs++;
		__atomic_add_fetch(&e->binds, 1, __ATOMIC_RELAXED);
		pasid_notify(space, SIO_PASID_EVENT_BIND, e, binder);
	}
	sio_mutex_unlock(&space->lock);
	return rc;
}

SIO_API void sio_pasid_unbind(struct sio_pasid_space *space, sio_pasid_t pasid,
			      const void *binder)
{
	struct pasid_entry *e, *reap = NULL;

	sio_mutex_lock(&space->lock, SIO_LOCK_PASID_SPACE);
	e = entry_locked(space, pasid);
	if (e && e->binds) {
		__atomic_sub_fetch(&e->binds, 1, __ATOMIC_RELAXED);
		pasid_notify(space, SIO_PASID_EVENT_UNBIND, e, binder);
		pasid_entry_put(space, e, &reap);
	}
	sio_mutex_unlock(&space->lock);
	pasid_reap(reap);
}
