/*
 * A read-only walk over every leaf of a table, in IOVA order.
 *
 * For programs and tools that show a table as the hardware holds it (the
 * host namespace's debugfs dump of an Intel domain): each leaf is reported
 * with the raw entries on its path, from the root's down to the leaf's.
 * The walk only loads entries, so it may run concurrently with map and
 * unmap inside an RCU read section, like a lookup: it sees each entry old
 * or new, and never a freed table page.  It is a recursion of at most
 * PT_MAX_LEVELS frames.
 */
#include "pgtable/pt_format.h"

#include <string.h>

_Static_assert(PT_MAX_LEVELS <= SIO_PT_MAX_LEVELS,
	       "struct sio_pt_leaf holds an entry per level");

struct pt_leaf_walk {
	const struct sio_pt *pt;
	int (*fn)(void *arg, const struct sio_pt_leaf *leaf);
	void *arg;
	struct sio_pt_leaf leaf;
};

static int pt_leaves_level(struct pt_leaf_walk *w, const uint64_t *table,
			   unsigned int level, uint64_t base)
{
	const struct sio_pt *pt = w->pt;
	unsigned int n = 1u << pt->idx_bits[level];
	unsigned int shift = pt->lvl[level].shift;
	int rc;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t e = pt_load(&table[i]);
		uint64_t iova = base + ((uint64_t)i << shift);

		if (!(e & pt->present_mask))
			continue;
		w->leaf.entry[level] = e;
		if (level > 0 && pt_entry_is_table(pt, level, e)) {
			rc = pt_leaves_level(w, pt_table_ptr(pt, e), level - 1,
					     iova);
		} else {
			unsigned int lg2 = pt_leaf_lg2(pt, level, e);

			w->leaf.iova = iova;
			w->leaf.size = 1ull << lg2;
			w->leaf.level = level;
			rc = w->fn(w->arg, &w->leaf);
			/* A leaf of several entries (AMD v1 NextLevel 7, Arm
			 * contiguous) is reported once, at its first entry. */
			if (lg2 > shift) {
				uint64_t span = 1ull << (lg2 - shift);

				i = (unsigned int)((i & ~(span - 1)) + span - 1);
			}
		}
		w->leaf.entry[level] = 0;
		if (rc)
			return rc;
	}
	return 0;
}

SIO_API int sio_pt_for_each_leaf(const struct sio_pt *pt,
				 int (*fn)(void *arg,
					   const struct sio_pt_leaf *leaf),
				 void *arg)
{
	struct pt_leaf_walk w = { .pt = pt, .fn = fn, .arg = arg };

	memset(&w.leaf, 0, sizeof(w.leaf));
	w.leaf.levels = pt->top + 1;
	return pt_leaves_level(&w, pt->root, pt->top, 0);
}

SIO_API uint64_t sio_pt_root_address(const struct sio_pt *pt)
{
	return (uint64_t)(uintptr_t)pt->root;
}
