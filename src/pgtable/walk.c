/*
 * The generic walker: map, unmap and dirty tracking over any format.
 *
 * Writers (map, unmap, read_and_clear_dirty) are serialized by the caller;
 * lookups run concurrently (see pgtable.c).  The rules that make that safe:
 *  - a new table is zeroed before its pointer is published with a release
 *    store, so a reader that sees the pointer sees an empty table;
 *  - an entry is always written with one 64-bit atomic store, so a reader
 *    sees the old or the new entry, never a mix;
 *  - a table unlinked from the tree is not freed but queued (gather
 *    freelist, or pt->pending for map) until the caller's grace period.
 *
 * Speed: map walks from the root once per leaf table, then fills the
 * consecutive entries of that table in a tight loop that uses only the
 * geometry (present mask and address step); unmap does the same per table.
 * Entries are classified with the precomputed per-level bitmap
 * (pt_entry_is_table), so the walks make no indirect call per level
 * either (see docs/pgtable.md, "Speed").
 *
 * Partial unmap of a large leaf follows the kernel's generic_pt (see
 * docs/pgtable.md): a range that starts inside a leaf stops there (nothing
 * more is unmapped); a range that starts at a leaf and ends inside it
 * removes the whole leaf and reports its full size.  Leaves are never
 * split.
 */
#include "pgtable/pt_format.h"
#include "util/error.h"
#include "util/rcu.h"

#include <errno.h>

static inline bool pt_present(const struct sio_pt *pt, uint64_t e)
{
	return (e & pt->present_mask) != 0;
}

static inline bool pt_is_table(const struct sio_pt *pt, unsigned int level,
			       uint64_t e)
{
	return pt_entry_is_table(pt, level, e);
}

/* Queue a table page for freeing after a grace period.  If no list node
 * can be allocated (memory exhausted), wait for the grace period here and
 * free at once: slower, never wrong.  The caller must then not be inside
 * an RCU read section, which writers never are. */
static void pt_defer(struct sio_pt_page **list, void *page, unsigned int lg2)
{
	if (pt_page_defer(list, page, lg2) == 0)
		return;
	sio_rcu_synchronize();
	pt_page_free(page, lg2);
}

/* Queue every table under (and including) a table that is already unlinked
 * from the tree. */
static void pt_defer_tree(struct sio_pt *pt, struct sio_pt_page **list,
			  uint64_t *table, unsigned int level)
{
	unsigned int n = 1u << pt->idx_bits[level];

	if (level > 0)
		for (unsigned int i = 0; i < n; i++) {
			uint64_t e = pt_load_relaxed(&table[i]);

			if (pt_present(pt, e) && pt_is_table(pt, level, e))
				pt_defer_tree(pt, list, pt_table_ptr(pt, e),
					      level - 1);
		}
	pt_defer(list, table, pt->table_lg2);
}

/* True if a table and every table under it hold no leaf. */
static bool pt_tree_empty(const struct sio_pt *pt, const uint64_t *table,
			  unsigned int level)
{
	unsigned int n = 1u << pt->idx_bits[level];

	for (unsigned int i = 0; i < n; i++) {
		uint64_t e = pt_load_relaxed(&table[i]);

		if (!pt_present(pt, e))
			continue;
		if (!pt_is_table(pt, level, e) ||
		    !pt_tree_empty(pt, pt_table_ptr(pt, e), level - 1))
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------ map */

/* Store leaves entry, entry + step, ... into slots p[0..n), stopping at
 * the first present slot; returns how many were stored.  Eight slots are
 * checked with one test (their OR), so a run of empty slots costs a load,
 * an OR and a store per page. */
static inline unsigned int pt_fill_empty(uint64_t *p, unsigned int n,
					 uint64_t entry, uint64_t step,
					 uint64_t pm)
{
	unsigned int i = 0;

	for (;;) {
		for (; i + 8 <= n; i += 8, entry += 8 * step) {
			uint64_t *t = &p[i];
			uint64_t o = (pt_load_relaxed(&t[0]) |
				      pt_load_relaxed(&t[1])) |
				     (pt_load_relaxed(&t[2]) |
				      pt_load_relaxed(&t[3])) |
				     (pt_load_relaxed(&t[4]) |
				      pt_load_relaxed(&t[5])) |
				     (pt_load_relaxed(&t[6]) |
				      pt_load_relaxed(&t[7]));

			if (o & pm)
				break;
			pt_store_release(&t[0], entry);
			pt_store_release(&t[1], entry + step);
			pt_store_release(&t[2], entry + 2 * step);
			pt_store_release(&t[3], entry + 3 * step);
			pt_store_release(&t[4], entry + 4 * step);
			pt_store_release(&t[5], entry + 5 * step);
			pt_store_release(&t[6], entry + 6 * step);
			pt_store_release(&t[7], entry + 7 * step);
		}
		if (i == n || (pt_load_relaxed(&p[i]) & pm))
			return i;
		pt_store_release(&p[i], entry);
		entry += step;
		i++;
	}
}

/* Allocate a table for the empty slot at level and publish it; NULL with
 * *err = -ENOMEM if that fails. */
static __attribute__((noinline)) uint64_t *
pt_new_table(struct sio_pt *pt, uint64_t *slot, unsigned int level, int *err)
{
	uint64_t *t = pt_page_alloc(pt->table_lg2);
	uint64_t field;

	if (!t) {
		*err = -ENOMEM;
		return NULL;
	}
	field = pt_oa_encode(pt, (uintptr_t)t);
	if (pt_oa_decode(pt, field) != (uintptr_t)t) {
		/* The host address does not fit the format's address
		 * field. */
		pt_page_free(t, pt->table_lg2);
		*err = -ENOMEM;
		return NULL;
	}
	/* Publish after the zeroing done by the allocator. */
	pt_store_release(slot, pt_mk_table(pt, level, field));
	return t;
}

/* Walk from the root to the table at "target" that holds iova, creating
 * missing tables.  NULL with *err = -EEXIST if a leaf covers iova above
 * target, -ENOMEM if a table cannot be allocated. */
static inline uint64_t *pt_walk_alloc(struct sio_pt *pt, uint64_t iova,
				      unsigned int target, int *err)
{
	uint64_t *table = pt->root;

	if (__builtin_expect(pt->cls_bits != 0, 1)) {
		/* Everything invariant in locals, as in pt_walk_leaf. */
		const struct pt_lvl *lv = &pt->lvl[pt->top];
		const struct pt_lvl *stop = &pt->lvl[target];
		uint64_t pm = pt->present_mask, cm = pt->cls_mask;
		uint64_t oam = pt->oa_mask;
		unsigned int cs = pt->cls_shift, rs = pt->oa_rshift;
		unsigned int ls = pt->oa_lshift;

		for (; lv > stop; lv--) {
			uint64_t *slot = &table[(iova >> lv->shift) &
						lv->idx_mask];
			uint64_t e = pt_load_relaxed(slot);

			if (!(e & pm)) {
				table = pt_new_table(
					pt, slot, (unsigned int)(lv - pt->lvl),
					err);
				if (!table)
					return NULL;
				continue;
			}
			if (!((lv->table_map >> ((e >> cs) & cm)) & 1)) {
				*err = -EEXIST;
				return NULL;
			}
			table = (uint64_t *)(uintptr_t)(((e & oam) >> rs)
							<< ls);
		}
		return table;
	}
	for (unsigned int l = pt->top; l > target; l--) {
		uint64_t *slot = &table[pt_index(pt, iova, l)];
		uint64_t e = pt_load_relaxed(slot);

		if (!pt_present(pt, e)) {
			table = pt_new_table(pt, slot, l, err);
			if (!table)
				return NULL;
			continue;
		}
		if (!pt_entry_is_table(pt, l, e)) {
			*err = -EEXIST;
			return NULL;
		}
		table = pt_table_ptr(pt, e);
	}
	return table;
}

/* Make the "n" slots at slot ready for a leaf: all empty, or (above level
 * 0) tables without any leaf, which are unlinked.  -EEXIST otherwise,
 * having changed nothing. */
static int pt_clear_for_leaf(struct sio_pt *pt, uint64_t *slot,
			     unsigned int level, unsigned int n, uint64_t iova,
			     uint64_t leaf)
{
	bool tables = false;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t e = pt_load_relaxed(&slot[i]);

		if (!pt_present(pt, e))
			continue;
		if (!pt_is_table(pt, level, e) ||
		    !pt_tree_empty(pt, pt_table_ptr(pt, e), level - 1))
			return -EEXIST;
		tables = true;
	}
	if (!tables)
		return 0;
	/* Replace the empty tables by the leaf right away (so no reader can
	 * see an empty entry in between) and queue them for freeing. */
	for (unsigned int i = 0; i < n; i++) {
		uint64_t e = pt_load_relaxed(&slot[i]);

		pt_store_release(&slot[i], leaf);
		if (pt_present(pt, e))
			pt_defer_tree(pt, &pt->pending, pt_table_ptr(pt, e),
				      level - 1);
	}
	if (pt->cfg.flush && pt->cfg.flush->tlb_flush_walk)
		pt->cfg.flush->tlb_flush_walk(
			iova, (size_t)n << pt->item_lg2[level],
			(size_t)1 << pt->item_lg2[level], pt->cfg.cookie);
	return 1;
}


SIO_API int sio_pt_map_pages(struct sio_pt *pt, uint64_t iova, uint64_t pa,
			     size_t pgsize, size_t count, unsigned int prot,
			     size_t *mapped)
{
	unsigned int lg2, level, contig_lg2, ncontig;
	uint64_t entry, step, bits, pmask = pt->present_mask;
	size_t dummy;
	int rc;

	if (!mapped)
		mapped = &dummy;
	*mapped = 0;
	if (!count)
		return 0;
	if (!pgsize || (pgsize & (pgsize - 1)) || !(pgsize & pt->pgsize_bitmap))
		return sio_err(-EINVAL, "map: page size %#zx not supported",
			       pgsize);
	lg2 = (unsigned int)__builtin_ctzll(pgsize);
	if ((iova | pa) & (pgsize - 1))
		return sio_err(-EINVAL, "map: iova %#llx or pa %#llx not "
			       "aligned to %#zx", (unsigned long long)iova,
			       (unsigned long long)pa, pgsize);
	if (iova > pt->iova_last ||
	    count - 1 > (pt->iova_last - iova) >> lg2)
		return sio_err(-EINVAL, "map: iova range beyond the table");
	if (pa > pt->oa_last || count - 1 > (pt->oa_last - pa) >> lg2)
		return sio_err(-EINVAL, "map: pa beyond the output size");

	level = (unsigned int)pt->size_level[lg2];
	if (pt->leaf_lg2 == lg2 && pt->leaf_prot == prot) {
		bits = pt->leaf_bits;
	} else {
		rc = pt->fmt->mk_leaf(pt, level, lg2, prot, &bits);
		if (rc)
			return sio_err(rc, "map: %s cannot express prot %#x",
				       pt->fmt->name, prot);
		pt->leaf_lg2 = lg2;
		pt->leaf_prot = prot;
		pt->leaf_bits = bits;
	}
	contig_lg2 = lg2 - pt->item_lg2[level];
	ncontig = 1u << contig_lg2;
	entry = bits | pt_oa_encode(pt, pa);
	step = pt_oa_encode(pt, (uint64_t)1 << lg2);

	while (count) {
		uint64_t *table = pt_walk_alloc(pt, iova, level, &rc);
		unsigned int idx, avail, n, i;
		uint64_t *slot;

		if (!table)
			break;
		idx = pt_index(pt, iova, level);
		avail = ((1u << pt->idx_bits[level]) - idx) >> contig_lg2;
		n = count < avail ? (unsigned int)count : avail;
		slot = &table[idx];
		for (i = 0; i < n;) {
			uint64_t *s = slot + ((size_t)i << contig_lg2);
			int r;

			/* The common case, one empty entry per page. */
			if (ncontig == 1) {
				unsigned int k = pt_fill_empty(s, n - i, entry,
							       step, pmask);

				i += k;
				entry += k * step;
				s += k;
				if (i == n)
					break;
			}
			r = pt_clear_for_leaf(pt, s, level, ncontig,
					      iova + ((uint64_t)i << lg2),
					      entry);
			if (r < 0) {
				rc = r;
				break;
			}
			if (r == 0)
				for (unsigned int j = 0; j < ncontig; j++)
					pt_store_release(&s[j], entry);
			i++;
			entry += step;
		}
		*mapped += (size_t)i << lg2;
		iova += (uint64_t)i << lg2;
		count -= i;
		if (i < n)
			break;
	}
	if (count)
		return sio_err(rc, "map: %s at iova %#llx",
			       rc == -EEXIST ? "already mapped" : "failed",
			       (unsigned long long)iova);
	return 0;
}

/* ---------------------------------------------------------------- unmap */

struct pt_unmap {
	struct sio_pt *pt;
	struct sio_pt_page **freelist;
	struct sio_iotlb_gather *gather;
	void (*add_page)(struct sio_iotlb_gather *gather, uint64_t iova,
			 size_t granule, void *cookie);
	uint64_t unmapped;
	uint64_t leaf_sizes_seen;	/* OR of the sizes of removed leaves */
	bool freed_tables;
};

/* Clear the ordinary present level-0 leaves table[idx..end] from idx on,
 * stopping at an empty entry or a multi-entry leaf; returns the index of
 * the first entry not cleared (end + 1 if all were).
 *
 * Unrolled by eight, each entry tested and cleared on its own (measured
 * faster than testing eight at once and then storing: the stores then
 * wait for all eight loads). */
#define PT_CLEAR_ONE(j, test)						\
	do {								\
		uint64_t e_ = pt_load_relaxed(&t[j]);			\
									\
		if (!(test))						\
			return i + (j);					\
		pt_store(&t[j], 0);					\
	} while (0)
#define PT_CLEAR_EIGHT(test)						\
	for (; i + 8 <= end + 1; i += 8) {				\
		uint64_t *t = &table[i];				\
									\
		PT_CLEAR_ONE(0, test);					\
		PT_CLEAR_ONE(1, test);					\
		PT_CLEAR_ONE(2, test);					\
		PT_CLEAR_ONE(3, test);					\
		PT_CLEAR_ONE(4, test);					\
		PT_CLEAR_ONE(5, test);					\
		PT_CLEAR_ONE(6, test);					\
		PT_CLEAR_ONE(7, test);					\
	}								\
	for (; i <= end; i++) {						\
		uint64_t *t = &table[i];				\
									\
		PT_CLEAR_ONE(0, test);					\
	}								\
	return i

static inline __attribute__((always_inline)) unsigned int
pt_clear_leaves0(const struct sio_pt *pt, uint64_t *table, unsigned int idx,
		 unsigned int end)
{
	uint64_t pm = pt->present_mask, cm = pt->contig_mask;
	uint64_t cv = pt->contig_val;
	unsigned int i = idx;

	if (!(pm & (pm - 1)) && cv && !(cv & ~cm)) {
		/* Multi-entry leaves and one present bit (AMD v1, mock):
		 * "present and no contig_mask bit" in one compare.  That is
		 * sufficient, not necessary (an entry with some contig_mask
		 * bits but not contig_val stops here and goes to the general
		 * walk, which treats it right); our level-0 leaves have
		 * NextLevel 0 or 7 only. */
		uint64_t fm = pm | cm;

		PT_CLEAR_EIGHT((e_ & fm) == pm);
	} else if (!cm && cv) {
		PT_CLEAR_EIGHT(e_ & pm);
	} else {
		PT_CLEAR_EIGHT((e_ & pm) && (e_ & cm) != cv);
	}
}
#undef PT_CLEAR_EIGHT
#undef PT_CLEAR_ONE

/* Account n level-0 leaves of 2^isz cleared from va on. */
static inline void pt_unmapped_leaves0(struct pt_unmap *u, uint64_t va,
				       unsigned int n, unsigned int isz)
{
	if (u->add_page)
		for (unsigned int j = 0; j < n; j++)
			u->add_page(u->gather, va + ((uint64_t)j << isz),
				    (size_t)1 << isz, u->pt->cfg.cookie);
	u->unmapped += (uint64_t)n << isz;
	u->leaf_sizes_seen |= 1ull << isz;
}

/* Unmap [va, last], which lies inside the span of this table.  Returns
 * false if it stopped early (hole, or va inside a large leaf). */
static bool pt_unmap_level(struct pt_unmap *u, uint64_t *table,
			   unsigned int level, uint64_t va, uint64_t last)
{
	struct sio_pt *pt = u->pt;
	unsigned int isz = pt->item_lg2[level];
	unsigned int idx = pt_index(pt, va, level);
	unsigned int end = pt_index(pt, last, level);

	while (idx <= end) {
		/* Level 0: a tight loop over ordinary one-entry leaves. */
		if (level == 0) {
			unsigned int i = pt_clear_leaves0(pt, table, idx, end);

			if (i != idx) {
				pt_unmapped_leaves0(u, va, i - idx, isz);
				va += (uint64_t)(i - idx) << isz;
				idx = i;
				if (idx > end)
					break;
			}
		}

		uint64_t *slot = &table[idx];
		uint64_t e = pt_load_relaxed(slot);

		if (!pt_present(pt, e))
			return false;
		if (pt_is_table(pt, level, e)) {
			uint64_t mask = (1ull << isz) - 1;
			uint64_t ent_last = (va & ~mask) + mask;
			bool full = !(va & mask) && last >= ent_last;
			uint64_t *child = pt_table_ptr(pt, e);

			if (!pt_unmap_level(u, child, level - 1, va,
					    last < ent_last ? last : ent_last))
				return false;
			/* The range covered the whole table: every entry of
			 * it was cleared, so the table goes too. */
			if (full) {
				pt_store(slot, 0);
				pt_defer(u->freelist, child, pt->table_lg2);
				u->freed_tables = true;
			}
			va = ent_last + 1;
			idx++;
		} else {
			unsigned int lg2 = pt_leaf_lg2(pt, level, e);
			uint64_t size = 1ull << lg2;
			unsigned int n = 1u << (lg2 - isz);

			/* Starting inside a large leaf: refuse (generic_pt). */
			if (va & (size - 1))
				return false;
			for (unsigned int j = 0; j < n; j++)
				pt_store(&slot[j], 0);
			if (u->add_page)
				u->add_page(u->gather, va, size, pt->cfg.cookie);
			u->unmapped += size;
			u->leaf_sizes_seen |= 1ull << lg2;
			va += size;
			idx += n;
		}
	}
	return true;
}

SIO_API size_t sio_pt_unmap_pages(struct sio_pt *pt, uint64_t iova,
				  size_t pgsize, size_t count,
				  struct sio_iotlb_gather *gather)
{
	uint64_t min_size = pt->pgsize_bitmap & -pt->pgsize_bitmap;
	const struct sio_pt_flush_ops *flush = pt->cfg.flush;
	struct pt_unmap u = { .pt = pt, .gather = gather };
	uint64_t *table = pt->root;
	unsigned int lg2, l;
	uint64_t last;

	if (!count || !pgsize || (pgsize & (pgsize - 1)) || pgsize < min_size ||
	    (iova & (min_size - 1)) || iova > pt->iova_last)
		return 0;
	lg2 = (unsigned int)__builtin_ctzll(pgsize);
	if (count - 1 > (pt->iova_last - iova) >> lg2)
		return 0;
	last = iova + ((uint64_t)count << lg2) - 1;

	if (gather) {
		u.freelist = &gather->freelist;
		/* Tables map unlinked earlier may be freed after the grace
		 * period that follows this unmap. */
		if (pt->pending) {
			pt_defer_splice(&gather->freelist, pt->pending);
			pt->pending = NULL;
		}
		if (flush)
			u.add_page = flush->tlb_add_page;
	} else {
		u.freelist = &pt->pending;
	}

	/* Descend without recursion while the range lies inside one table
	 * entry that it does not cover whole (the common small unmap).  The
	 * first level where it does not, going down, is the highest level
	 * whose entries span at most 2^stop bytes: stop is the highest bit
	 * in which iova and last differ, plus one if the range is exactly an
	 * aligned power of two (then it covers an entry of that size). */
	l = pt->top;
	{
		unsigned int d =
			63 - (unsigned int)__builtin_clzll((iova ^ last) | 1);
		unsigned int stop = d + (d < 63 && last - iova == (2ull << d) - 1);

		if (__builtin_expect(pt->cls_bits != 0, 1)) {
			const struct pt_lvl *lv = &pt->lvl[l];
			uint64_t pm = pt->present_mask, cm = pt->cls_mask;
			uint64_t oam = pt->oa_mask;
			unsigned int cs = pt->cls_shift, rs = pt->oa_rshift;
			unsigned int ls = pt->oa_lshift;

			for (; l > 0 && lv->shift > stop; l--, lv--) {
				uint64_t e = pt_load_relaxed(
					&table[(iova >> lv->shift) &
					       lv->idx_mask]);

				if (!(e & pm))
					return 0;
				if (!((lv->table_map >> ((e >> cs) & cm)) & 1))
					break;
				table = (uint64_t *)(uintptr_t)(
					((e & oam) >> rs) << ls);
			}
		} else {
			for (; l > 0 && pt->item_lg2[l] > stop; l--) {
				uint64_t e = pt_load_relaxed(
					&table[pt_index(pt, iova, l)]);

				if (!pt_present(pt, e))
					return 0;
				if (!pt_entry_is_table(pt, l, e))
					break;
				table = pt_table_ptr(pt, e);
			}
		}
	}
	if (l == 0) {
		/* Inside one leaf table: clear the run of ordinary leaves
		 * here, leave anything else to the general walk. */
		unsigned int isz = pt->lvl[0].shift;
		unsigned int idx = pt_index(pt, iova, 0);
		unsigned int end = pt_index(pt, last, 0);
		unsigned int i = pt_clear_leaves0(pt, table, idx, end);

		if (i != idx)
			pt_unmapped_leaves0(&u, iova, i - idx, isz);
		if (i <= end)
			pt_unmap_level(&u, table, 0,
				       iova + ((uint64_t)(i - idx) << isz),
				       last);
	} else {
		pt_unmap_level(&u, table, l, iova, last);
	}

	if (u.unmapped && gather) {
		bool empty = gather->start > gather->end;
		uint64_t one = u.leaf_sizes_seen & (u.leaf_sizes_seen - 1) ?
			0 : u.leaf_sizes_seen;

		if (empty)
			gather->pgsize = one ? (size_t)one : 0;
		else if (gather->pgsize != one)
			gather->pgsize = 0;
		sio_iotlb_gather_add_range(gather, iova, u.unmapped);
	}
	if (u.freed_tables && flush && flush->tlb_flush_walk)
		flush->tlb_flush_walk(iova, u.unmapped,
				      (size_t)1 << pt->item_lg2[0],
				      pt->cfg.cookie);
	return (size_t)u.unmapped;
}

/* ---------------------------------------------------------------- dirty */

struct pt_dirty {
	struct sio_pt *pt;
	unsigned int flags;
	void (*record)(void *arg, uint64_t iova, uint64_t len);
	void *arg;
	/* The format's dirty bit when one bit says it (no is_dirty op):
	 * an entry without it is clean whatever else it holds. */
	uint64_t dbit;
	bool cleared;
};

static bool pt_dirty_entry(const struct pt_dirty *d, uint64_t e)
{
	return d->dbit ? (e & d->dbit) != 0 : pt_is_dirty(d->pt, e);
}

/*
 * Most leaves are clean, so at the lowest level (leaves only) the walk
 * first skips, one load and one test each, every entry without the dirty
 * bit; the entry it stops at goes the full way below.  A clean entry of a
 * contiguous leaf can be skipped too: the leaf is handled whole from the
 * copy that holds the bit.  Only the first and the last entry of the
 * range always go the full way, because their leaf may have its dirty
 * copy outside the range.
 */
static void pt_dirty_level(struct pt_dirty *d, uint64_t *table,
			   unsigned int level, uint64_t va, uint64_t last)
{
	struct sio_pt *pt = d->pt;
	unsigned int isz = pt->item_lg2[level];
	unsigned int idx = pt_index(pt, va, level);
	unsigned int end = pt_index(pt, last, level);
	unsigned int first_idx = idx;
	bool skip = level == 0 && d->dbit;

	while (idx <= end) {
		uint64_t mask = (1ull << isz) - 1;
		uint64_t e;

		if (skip && idx != first_idx) {
			unsigned int j = idx;

			while (j < end &&
			       !(pt_load_relaxed(&table[j]) & d->dbit))
				j++;
			if (j != idx) {
				va = (va & ~mask) + ((uint64_t)(j - idx) << isz);
				idx = j;
			}
		}
		e = pt_load_relaxed(&table[idx]);

		if (!pt_present(pt, e)) {
			va = (va & ~mask) + mask + 1;
			idx++;
			continue;
		}
		if (pt_is_table(pt, level, e)) {
			uint64_t ent_last = (va & ~mask) + mask;

			pt_dirty_level(d, pt_table_ptr(pt, e), level - 1, va,
				       last < ent_last ? last : ent_last);
			va = ent_last + 1;
			idx++;
		} else {
			unsigned int lg2 = pt_leaf_lg2(pt, level, e);
			uint64_t size = 1ull << lg2;
			unsigned int n = 1u << (lg2 - isz);
			unsigned int first = idx & ~(n - 1);
			uint64_t start = va & ~(size - 1);
			bool dirty = false;

			/* A contiguous leaf is dirty if any of its copies
			 * is: the hardware marks the one entry it used. */
			for (unsigned int j = 0; j < n && !dirty; j++)
				dirty = pt_dirty_entry(
					d, pt_load_relaxed(&table[first + j]));
			if (dirty) {
				d->record(d->arg, start, size);
				if (!(d->flags & SIO_PT_DIRTY_NO_CLEAR)) {
					for (unsigned int j = 0; j < n; j++) {
						uint64_t *s = &table[first + j];
						uint64_t o = pt_load_relaxed(s);

						/* CAS: a device may set the
						 * bit again concurrently. */
						while (pt_is_dirty(pt, o) &&
						       !__atomic_compare_exchange_n(
							       s, &o,
							       pt_mk_clean(pt, o),
							       false,
							       __ATOMIC_RELAXED,
							       __ATOMIC_RELAXED))
							;
					}
					d->cleared = true;
				}
			}
			va = start + size;
			idx = first + n;
		}
	}
}

SIO_API int sio_pt_read_and_clear_dirty(struct sio_pt *pt, uint64_t iova,
					size_t size, unsigned int flags,
					void (*record)(void *arg, uint64_t iova,
						       uint64_t len),
					void *arg)
{
	struct pt_dirty d = {
		.pt = pt, .flags = flags, .record = record, .arg = arg,
		.dbit = pt->fmt->is_dirty ? 0 : pt->dirty_bit,
	};
	uint64_t last;

	if (!pt->dirty_ok)
		return sio_err(-EOPNOTSUPP, "%s: no dirty tracking%s",
			       pt->fmt->name,
			       pt_fmt_has_dirty(pt) ? " without SIO_PT_FEAT_DIRTY"
						    : "");
	if (!record || (flags & ~(unsigned int)SIO_PT_DIRTY_NO_CLEAR))
		return sio_err(-EINVAL, "read_and_clear_dirty: bad argument");
	if (!size || iova > pt->iova_last)
		return 0;
	last = size - 1 > pt->iova_last - iova ? pt->iova_last
					       : iova + size - 1;
	pt_dirty_level(&d, pt->root, pt->top, iova, last);
	if (d.cleared && pt->cfg.flush && pt->cfg.flush->tlb_flush_all)
		pt->cfg.flush->tlb_flush_all(pt->cfg.cookie);
	return 0;
}
