/*
 * A map from 20-bit IDs to pointers that readers use without a lock: the
 * PASID layer's system PASID -> entry table, each set's private ID ->
 * PASID table, and the VM translation table of the example subscriber.
 *
 * Two levels of 1024 slots, the second allocated on first use, so a lookup
 * is two dependent loads.  Writers are serialized by the owner's lock;
 * readers run inside an RCU read-side section and see the old or the new
 * value of a slot.  Second-level pages stay until the map is destroyed, so
 * a reader never sees one freed.  What a slot points to is the owner's:
 * it frees a value it removed only after a grace period (or stores values
 * that are not pointers at all, such as a PASID plus one).
 */
#ifndef SIO_PASID_IDMAP_H
#define SIO_PASID_IDMAP_H

#include <stddef.h>
#include <stdint.h>

#define IDMAP_LEAF_BITS 10
#define IDMAP_LEAF_SLOTS (1u << IDMAP_LEAF_BITS)
#define IDMAP_DIR_SLOTS (1u << (20 - IDMAP_LEAF_BITS))

struct idmap_leaf {
	void *slot[IDMAP_LEAF_SLOTS];
};

struct idmap {
	struct idmap_leaf **dir;	/* RCU; IDMAP_DIR_SLOTS pointers */
};

static inline void idmap_init(struct idmap *m)
{
	m->dir = NULL;
}

/* Frees the map's own pages; the values are the caller's. */
void idmap_destroy(struct idmap *m);
/* Lock-free, inside an RCU read-side section (or under the writer lock). */
void *idmap_load(const struct idmap *m, uint32_t id);
/* Writer side: 0, or -ENOMEM (storing non-NULL needs a page) leaving the
 * map unchanged; -EINVAL beyond 20 bits. */
int idmap_store(struct idmap *m, uint32_t id, void *value);
/* Maps whose values are IDs (a private ID's PASID, a guest PASID's host
 * PASID) store ID + 1, so that an empty slot stays NULL and nothing stored
 * ever needs a grace period.  The lookup takes its own RCU read-side
 * section: 0 and *id, or -ENOENT. */
int idmap_store_id(struct idmap *m, uint32_t key, uint32_t id);
int idmap_lookup_id(const struct idmap *m, uint32_t key, uint32_t *id);

/* Writer side: call fn for each non-NULL slot, in ID order. */
void idmap_for_each(struct idmap *m, void (*fn)(uint32_t id, void *value,
						void *arg),
		    void *arg);

#endif
