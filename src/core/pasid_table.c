/*
 * The PASID attachment table of a group (see pasid_table.h for the design).
 */
#include "core/pasid_table.h"

#include <errno.h>
#include <stdlib.h>

#include "util/rcu.h"
#include "util/fail.h"

#define DIR_SIZE (1u << (SIO_PASID_MAX_BITS - SIO_PASID_LEAF_BITS))

void sio_pasid_table_init(struct sio_pasid_table *t)
{
	t->dir = NULL;
	t->count = 0;
}

void sio_pasid_table_destroy(struct sio_pasid_table *t)
{
	if (!t->dir)
		return;
	for (unsigned int i = 0; i < DIR_SIZE; i++)
		free(t->dir[i]);
	free(t->dir);
	t->dir = NULL;
}

int sio_pasid_table_prepare(struct sio_pasid_table *t, sio_pasid_t pasid)
{
	struct sio_pasid_leaf *leaf;

	if (pasid >> SIO_PASID_MAX_BITS)
		return -EINVAL;
	if (!t->dir) {
		struct sio_pasid_leaf **dir = sio_calloc(DIR_SIZE, sizeof(*dir));

		if (!dir)
			return -ENOMEM;
		sio_rcu_assign(t->dir, dir);
	}
	if (t->dir[pasid >> SIO_PASID_LEAF_BITS])
		return 0;
	leaf = sio_calloc(1, sizeof(*leaf));
	if (!leaf)
		return -ENOMEM;
	sio_rcu_assign(t->dir[pasid >> SIO_PASID_LEAF_BITS], leaf);
	return 0;
}

struct sio_pasid_entry *sio_pasid_table_store(struct sio_pasid_table *t,
					      sio_pasid_t pasid,
					      struct sio_pasid_entry *entry)
{
	struct sio_pasid_leaf *leaf = t->dir[pasid >> SIO_PASID_LEAF_BITS];
	struct sio_pasid_entry **slot =
		&leaf->slot[pasid & (SIO_PASID_LEAF_SIZE - 1)];
	struct sio_pasid_entry *old = *slot;

	sio_rcu_assign(*slot, entry);
	if (old && !entry)
		t->count--;
	else if (!old && entry)
		t->count++;
	return old;
}

int sio_pasid_table_for_each(struct sio_pasid_table *t,
			     int (*fn)(sio_pasid_t pasid,
				       struct sio_pasid_entry *entry, void *arg),
			     void *arg)
{
	if (!t->dir || !t->count)
		return 0;
	for (unsigned int i = 0; i < DIR_SIZE; i++) {
		struct sio_pasid_leaf *leaf = t->dir[i];

		if (!leaf)
			continue;
		for (unsigned int j = 0; j < SIO_PASID_LEAF_SIZE; j++) {
			struct sio_pasid_entry *e = leaf->slot[j];
			int rc;

			if (!e)
				continue;
			rc = fn((sio_pasid_t)(i << SIO_PASID_LEAF_BITS | j), e, arg);
			if (rc)
				return rc;
		}
	}
	return 0;
}
