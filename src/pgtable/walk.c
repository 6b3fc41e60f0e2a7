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
 * geometry (present mask and address step), so a multi-page map costs an
 * indirect call per table, not per page.  Unmap does the same per table.
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
	return level > 0 && pt->fmt->classify(pt, level, e) == PT_ENTRY_TABLE;
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

/* Walk from the root to the table at "target" that holds iova, creating
 * missing tables.  NULL with *err = -EEXIST if a leaf covers iova above
 * target, -ENOMEM if a table cannot be allocated. */
static uint64_t *pt_walk_alloc(struct sio_pt *pt, uint64_t iova,
			       unsigned int target, int *err)
{
	uint64_t *table = pt->root;

	for (unsigned int l = pt->top; l > target; l--) {
		uint64_t *slot = &table[pt_index(pt, iova, l)];
		uint64_t e = pt_load_relaxed(slot);

		if (!pt_present(pt, e)) {
			uint64_t *t = pt_page_alloc(pt->table_lg2);
			uint64_t field;

			if (!t) {
				*err = -ENOMEM;
				return NULL;
			}
			field = pt_oa_encode(pt, (uintptr_t)t);
			if (pt_oa_decode(pt, field) != (uintptr_t)t) {
				/* The host address does not fit the format's
				 * address field. */
				pt_page_free(t, pt->table_lg2);
				*err = -ENOMEM;
				return NULL;
			}
			/* Publish after the zeroing done by the allocator. */
			pt_store_release(slot, pt->fmt->mk_table(pt, l, field));
			table = t;
			continue;
		}
		if (pt->fmt->classify(pt, l, e) != PT_ENTRY_TABLE) {
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
	rc = pt->fmt->mk_leaf(pt, level, lg2, prot, &bits);
	if (rc)
		return sio_err(rc, "map: %s cannot express prot %#x",
			       pt->fmt->name, prot);
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
		for (i = 0; i < n; i++, slot += ncontig, entry += step) {
			int r;

			/* The common case, one empty entry per page, in a
			 * loop that only touches locals and the table. */
			if (ncontig == 1) {
				unsigned int k = i;

				while (k < n && !(pt_load_relaxed(&slot[k - i]) &
						  pmask)) {
					pt_store_release(&slot[k - i], entry);
					entry += step;
					k++;
				}
				slot += k - i;
				i = k;
				if (i == n)
					break;
			}
			r = pt_clear_for_leaf(pt, slot, level, ncontig,
					      iova + ((uint64_t)i << lg2),
					      entry);
			if (r < 0) {
				rc = r;
				break;
			}
			if (r == 0)
				for (unsigned int j = 0; j < ncontig; j++)
					pt_store_release(&slot[j], entry);
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
			uint64_t pm = pt->present_mask, cm = pt->contig_mask;
			uint64_t cv = pt->contig_val;
			unsigned int i = idx;

			for (; i <= end; i++) {
				uint64_t e = pt_load_relaxed(&table[i]);

				if (!(e & pm) || (e & cm) == cv)
					break;
				pt_store(&table[i], 0);
			}
			if (u->add_page)
				for (unsigned int j = idx; j < i; j++)
					u->add_page(u->gather,
						    va + ((uint64_t)(j - idx) << isz),
						    (size_t)1 << isz,
						    pt->cfg.cookie);
			if (i != idx) {
				u->unmapped += (uint64_t)(i - idx) << isz;
				u->leaf_sizes_seen |= 1ull << isz;
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
			unsigned int lg2 = pt->fmt->leaf_size_lg2 ?
				pt->fmt->leaf_size_lg2(pt, level, e) : isz;
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
	unsigned int lg2;
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
		pt_defer_splice(&gather->freelist, pt->pending);
		pt->pending = NULL;
		if (flush)
			u.add_page = flush->tlb_add_page;
	} else {
		u.freelist = &pt->pending;
	}

	/* Descend without recursion while the range lies inside one table
	 * entry that it does not cover whole (the common small unmap). */
	{
		uint64_t *table = pt->root;
		unsigned int l = pt->top;

		while (l > 0) {
			unsigned int isz = pt->item_lg2[l];
			uint64_t mask = (1ull << isz) - 1, e;

			if ((iova >> isz) != (last >> isz) ||
			    (!(iova & mask) && (last & mask) == mask))
				break;
			e = pt_load_relaxed(&table[pt_index(pt, iova, l)]);
			if (!pt_present(pt, e))
				return 0;
			if (pt->fmt->classify(pt, l, e) != PT_ENTRY_TABLE)
				break;
			table = pt_table_ptr(pt, e);
			l--;
		}
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
	bool cleared;
};

static void pt_dirty_level(struct pt_dirty *d, uint64_t *table,
			   unsigned int level, uint64_t va, uint64_t last)
{
	struct sio_pt *pt = d->pt;
	unsigned int isz = pt->item_lg2[level];
	unsigned int idx = pt_index(pt, va, level);
	unsigned int end = pt_index(pt, last, level);

	while (idx <= end) {
		uint64_t mask = (1ull << isz) - 1;
		uint64_t e = pt_load_relaxed(&table[idx]);

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
			unsigned int lg2 = pt->fmt->leaf_size_lg2 ?
				pt->fmt->leaf_size_lg2(pt, level, e) : isz;
			uint64_t size = 1ull << lg2;
			unsigned int n = 1u << (lg2 - isz);
			unsigned int first = idx & ~(n - 1);
			uint64_t start = va & ~(size - 1);
			bool dirty = false;

			/* A contiguous leaf is dirty if any of its copies
			 * is: the hardware marks the one entry it used. */
			for (unsigned int j = 0; j < n && !dirty; j++)
				dirty = pt->fmt->is_dirty(
					pt, pt_load_relaxed(&table[first + j]));
			if (dirty) {
				d->record(d->arg, start, size);
				if (!(d->flags & SIO_PT_DIRTY_NO_CLEAR)) {
					for (unsigned int j = 0; j < n; j++) {
						uint64_t *s = &table[first + j];
						uint64_t o = pt_load_relaxed(s);

						/* CAS: a device may set the
						 * bit again concurrently. */
						while (pt->fmt->is_dirty(pt, o) &&
						       !__atomic_compare_exchange_n(
							       s, &o,
							       pt->fmt->mk_clean(pt, o),
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
	};
	uint64_t last;

	if (!pt->dirty_ok)
		return sio_err(-EOPNOTSUPP, "%s: no dirty tracking%s",
			       pt->fmt->name,
			       pt->fmt->is_dirty ? " without SIO_PT_FEAT_DIRTY"
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
