/*
 * PASID sets: opaque containers with a quota and an owner token (the
 * ioasid set review: "we don't have to let users fill the content").
 *
 * A set promises its whole quota at creation, so allocation inside it
 * fails only on its own quota or a range with no free value.  The token is
 * unique among live sets: it is how a subscriber (a VM's PASID table) tells
 * its PASIDs from others'.  Freeing a set frees its PASIDs first; those a
 * bond still holds become orphans, counted against the space until their
 * last unbind.
 */
#include <stdlib.h>

#include "pasid/pasid_private.h"
#include "util/fail.h"

SIO_API int sio_pasid_set_alloc(struct sio_pasid_space *space, uint32_t quota,
				const void *token, struct sio_pasid_set **out)
{
	struct sio_pasid_set *set, *s;
	int rc = 0;

	if (!space || !out || !quota)
		return sio_err(-EINVAL, "PASID set: %s", quota ? "missing argument" :
			       "quota 0");
	set = sio_calloc(1, sizeof(*set));
	if (!set)
		return sio_err(-ENOMEM, "PASID set: out of memory");
	set->token = token;
	set->quota = quota;
	CDS_INIT_LIST_HEAD(&set->pasids);
	idmap_init(&set->private_map);

	sio_mutex_lock(&space->lock, SIO_LOCK_PASID_SPACE);
	if (quota > pasid_room(space)) {
		rc = sio_err(-ENOSPC, "PASID set: quota %u > %u available", quota,
			     pasid_room(space));
		goto out;
	}
	cds_list_for_each_entry(s, &space->sets, node) {
		if (token && s->token == token) {
			rc = sio_err(-EEXIST, "PASID set: token %p has a set", token);
			goto out;
		}
	}
	space->quota_reserved += quota;
	set->space = sio_pasid_space_get(space);
	cds_list_add_tail(&set->node, &space->sets);
out:
	sio_mutex_unlock(&space->lock);
	if (rc) {
		free(set);
		return rc;
	}
	*out = set;
	return 0;
}

SIO_API void sio_pasid_set_free(struct sio_pasid_set *set)
{
	struct sio_pasid_space *space;
	struct pasid_entry *e, *tmp, *reap = NULL;

	if (!set)
		return;
	space = set->space;
	sio_mutex_lock(&space->lock, SIO_LOCK_PASID_SPACE);
	cds_list_for_each_entry_safe(e, tmp, &set->pasids, set_node)
		pasid_entry_free(space, e, &reap);
	/* What is left is bound: orphans, global from now on. */
	cds_list_for_each_entry_safe(e, tmp, &set->pasids, set_node) {
		cds_list_del(&e->set_node);
		__atomic_store_n(&e->set, NULL, __ATOMIC_RELEASE);
		set->used--;
		space->global_used++;
	}
	space->quota_reserved -= set->quota;
	cds_list_del(&set->node);
	sio_mutex_unlock(&space->lock);
	/* One grace period covers the entries and the set's private map,
	 * which lock-free private lookups may still be reading. */
	sio_rcu_synchronize();
	pasid_entries_free(reap);
	idmap_destroy(&set->private_map);
	free(set);
	sio_pasid_space_put(space);
}

SIO_API const void *sio_pasid_set_token(const struct sio_pasid_set *set)
{
	return set->token;
}

SIO_API uint32_t sio_pasid_set_quota(const struct sio_pasid_set *set)
{
	return set->quota;
}

SIO_API uint32_t sio_pasid_set_count(struct sio_pasid_set *set)
{
	uint32_t n;

	sio_mutex_lock(&set->space->lock, SIO_LOCK_PASID_SPACE);
	n = set->used;
	sio_mutex_unlock(&set->space->lock);
	return n;
}
