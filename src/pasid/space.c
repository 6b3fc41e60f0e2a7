/*
 * The system PASID space: its width, reserved values and accounting.
 *
 * Accounting keeps sets from starving each other: the capacity (values
 * below 2^bits that are not reserved) is shared between the quotas of the
 * live sets, promised in full when each set is made, and the PASIDs
 * allocated outside any set (plus those of freed sets that bonds still
 * hold).  Every change of width, reservation, quota or global allocation
 * must leave quota_reserved + global_used <= capacity.
 */
#include <stdlib.h>

#include "pasid/pasid_private.h"
#include "util/fail.h"

SIO_API int sio_pasid_space_create(unsigned int bits,
				   struct sio_pasid_space **out)
{
	struct sio_pasid_space *s;

	if (!out || bits < 1 || bits > SIO_PASID_MAX_BITS)
		return sio_err(-EINVAL, "PASID space: %u bits (1..%u)", bits,
			       SIO_PASID_MAX_BITS);
	s = sio_calloc(1, sizeof(*s));
	if (!s || idalloc_init(&s->ids)) {
		free(s);
		return sio_err(-ENOMEM, "PASID space: out of memory");
	}
	s->refs = 1;
	s->bits = bits;
	pthread_mutex_init(&s->lock, NULL);
	idmap_init(&s->map);
	CDS_INIT_LIST_HEAD(&s->sets);
	/* PASID 0 names the RID itself (SIO_NO_PASID): never handed out. */
	idalloc_reserve(&s->ids, SIO_NO_PASID);
	s->nreserved = 1;
	*out = s;
	return 0;
}

SIO_API struct sio_pasid_space *sio_pasid_space_get(struct sio_pasid_space *space)
{
	__atomic_add_fetch(&space->refs, 1, __ATOMIC_RELAXED);
	return space;
}

static void free_leftover(uint32_t id, void *value, void *arg)
{
	free(value);
}

SIO_API void sio_pasid_space_put(struct sio_pasid_space *space)
{
	if (!space || __atomic_sub_fetch(&space->refs, 1, __ATOMIC_ACQ_REL))
		return;
	/* Sets hold references, so none is left; entries may be (global
	 * PASIDs never freed, orphans still counted as bound). */
	idmap_for_each(&space->map, free_leftover, NULL);
	idmap_destroy(&space->map);
	idalloc_destroy(&space->ids);
	pthread_mutex_destroy(&space->lock);
	free(space);
}

SIO_API unsigned int sio_pasid_space_bits(struct sio_pasid_space *space)
{
	return __atomic_load_n(&space->bits, __ATOMIC_RELAXED);
}

SIO_API int sio_pasid_space_set_bits(struct sio_pasid_space *space,
				     unsigned int bits)
{
	uint32_t limit = 1u << bits, old_limit, nreserved;
	int rc = 0;

	if (bits < 1 || bits > SIO_PASID_MAX_BITS)
		return sio_err(-EINVAL, "PASID space: %u bits (1..%u)", bits,
			       SIO_PASID_MAX_BITS);
	sio_mutex_lock(&space->lock, SIO_LOCK_PASID_SPACE);
	old_limit = 1u << space->bits;
	nreserved = idalloc_count_reserved(&space->ids, 0, limit - 1);
	if (limit < old_limit &&
	    idalloc_any_used(&space->ids, limit, old_limit - 1))
		rc = sio_err(-EBUSY, "PASID space: a PASID >= %u is in use", limit);
	else if (space->quota_reserved + space->global_used > limit - nreserved)
		rc = sio_err(-EBUSY, "PASID space: %u quota + %u global PASIDs "
			     "exceed %u bits", space->quota_reserved,
			     space->global_used, bits);
	if (!rc) {
		__atomic_store_n(&space->bits, bits, __ATOMIC_RELAXED);
		space->nreserved = nreserved;
	}
	sio_mutex_unlock(&space->lock);
	return rc;
}

SIO_API int sio_pasid_reserve(struct sio_pasid_space *space, sio_pasid_t min,
			      sio_pasid_t max)
{
	uint32_t fresh;
	int rc = 0;

	sio_mutex_lock(&space->lock, SIO_LOCK_PASID_SPACE);
	if (min > max || max >= 1u << space->bits) {
		rc = sio_err(-EINVAL, "PASID reserve: [%u, %u] outside %u bits",
			     min, max, space->bits);
		goto out;
	}
	if (idalloc_any_used(&space->ids, min, max)) {
		rc = sio_err(-EBUSY, "PASID reserve: [%u, %u] has PASIDs in use",
			     min, max);
		goto out;
	}
	fresh = (max - min + 1) - idalloc_count_reserved(&space->ids, min, max);
	if (fresh > pasid_room(space)) {
		rc = sio_err(-ENOSPC, "PASID reserve: quotas need %u of the "
			     "values", space->quota_reserved);
		goto out;
	}
	for (uint32_t id = min;; id++) {
		idalloc_reserve(&space->ids, id);
		if (id == max)
			break;
	}
	space->nreserved += fresh;
out:
	sio_mutex_unlock(&space->lock);
	return rc;
}

SIO_API uint32_t sio_pasid_space_available(struct sio_pasid_space *space)
{
	uint32_t n;

	sio_mutex_lock(&space->lock, SIO_LOCK_PASID_SPACE);
	n = pasid_room(space);
	sio_mutex_unlock(&space->lock);
	return n;
}
