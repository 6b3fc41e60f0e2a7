/*
 * A group's PASID attachments: PASID -> (domain, attach handle).
 *
 * A two-level radix over the 20-bit PASID space (1024 x 1024 slots), so
 * lookup and update are O(1) and the data path reads it without a lock.
 * Writers hold the group mutex; each slot points to an immutable entry that
 * is replaced whole and freed only after a grace period, and directory
 * pages, once published, stay until the table is destroyed.
 */
#ifndef SIO_CORE_PASID_TABLE_H
#define SIO_CORE_PASID_TABLE_H

#include <stddef.h>

#include "softiommu/attach.h"
#include "util/rcu.h"

struct sio_pasid_entry {
	struct sio_domain *domain;
	struct sio_attach_handle *handle;	/* may be NULL */
	/* Writer side, once unpublished: links entries waiting for a grace
	 * period before they are freed.  Readers never look at it. */
	struct sio_pasid_entry *retired_next;
};

#define SIO_PASID_LEAF_BITS 10
#define SIO_PASID_LEAF_SIZE (1u << SIO_PASID_LEAF_BITS)

struct sio_pasid_leaf {
	struct sio_pasid_entry *slot[SIO_PASID_LEAF_SIZE];
};

struct sio_pasid_table {
	struct sio_pasid_leaf **dir;	/* RCU; 1024 leaf pointers, lazily */
	size_t count;			/* entries present; writer side */
};

void sio_pasid_table_init(struct sio_pasid_table *t);
/* Frees leaves and directory; entries must have been removed. */
void sio_pasid_table_destroy(struct sio_pasid_table *t);

/* Lock-free, under an RCU read-side section or the group mutex.  Inline:
 * the data path resolves a PASID on every translation. */
static inline struct sio_pasid_entry *
sio_pasid_table_load(const struct sio_pasid_table *t, sio_pasid_t pasid)
{
	struct sio_pasid_leaf **dir, *leaf;

	if (pasid >> SIO_PASID_MAX_BITS)
		return NULL;
	dir = sio_rcu_deref(t->dir);
	if (!dir)
		return NULL;
	leaf = sio_rcu_deref(dir[pasid >> SIO_PASID_LEAF_BITS]);
	if (!leaf)
		return NULL;
	return sio_rcu_deref(leaf->slot[pasid & (SIO_PASID_LEAF_SIZE - 1)]);
}

/* Writer side (group mutex held).  store returns the entry it replaced
 * (the caller frees it after a grace period); -ENOMEM leaves t unchanged. */
int sio_pasid_table_prepare(struct sio_pasid_table *t, sio_pasid_t pasid);
struct sio_pasid_entry *sio_pasid_table_store(struct sio_pasid_table *t,
					      sio_pasid_t pasid,
					      struct sio_pasid_entry *entry);

/* Visit every present entry in PASID order until fn returns non-zero. */
int sio_pasid_table_for_each(struct sio_pasid_table *t,
			     int (*fn)(sio_pasid_t pasid,
				       struct sio_pasid_entry *entry, void *arg),
			     void *arg);

#endif
