/*
 * Private interface between the generic I/O page-table walker and the
 * per-format accessors.
 *
 * Every supported format is a radix tree of 64-bit entries.  What differs
 * between formats is small and is captured here in two parts:
 *
 *  - geometry, filled in once by the format's init() into struct sio_pt:
 *    how many levels, how many index bits per level, how large a table page
 *    is, which page sizes each level can hold as leaves, and where the
 *    output address lives inside an entry (a mask and a shift, because for
 *    every format the address field is the address shifted by a constant);
 *  - a vtable of entry accessors (struct pt_fmt): classify an entry, make a
 *    table entry, make a leaf, read a leaf's size and permissions, and the
 *    dirty-bit operations.
 *
 * Defaults.  What most formats encode the same way is not written once per
 * format: a format describes it with a few bits of geometry and leaves the
 * accessor NULL, and the walker uses the default accessor below (pt_classify,
 * pt_mk_table, pt_is_dirty, pt_mk_clean, pt_mk_dirty), which reads those bits.  A format
 * whose hardware differs sets its own accessor, which then wins (AMD v1's
 * table entries carry their level; Arm's dirty state is DBM plus a
 * permission bit).  The kernel's generic_pt does the same with
 * pt_fmt_defaults.h.  The defaults cost no indirect call (and classify is
 * not called by the walkers anyway: see cls_bits).
 *
 * The walker (walk.c, pgtable.c) never looks at format bits except through
 * these two; the hot loops use only the geometry (present mask, address
 * shift, and the classification bitmap sio_pt_create derives from
 * classify()), so walking and filling cost no indirect call per level or
 * per entry.
 *
 * Levels are numbered as in the kernel's generic_pt: level 0 holds the
 * smallest pages, the root is level "top".  ARM's level 3 is our level 0.
 */
#ifndef SIO_PGTABLE_PT_FORMAT_H
#define SIO_PGTABLE_PT_FORMAT_H

#include "softiommu/pgtable.h"

#include <stdbool.h>
#include <stdint.h>

#define PT_MAX_LEVELS 6

enum pt_etype {
	PT_ENTRY_EMPTY,
	PT_ENTRY_TABLE,
	PT_ENTRY_LEAF,
};

struct sio_pt;

struct pt_fmt {
	const char *name;
	/* Apply the format's defaults to pt->cfg (zero fields), validate it,
	 * and fill the geometry: pt_set_geometry(), pt->leaf_sizes[],
	 * oa_mask, oa_shift, present_mask, dirty_ok (and contig_mask/val for
	 * multi-entry leaves).  Returns 0 or a negative errno. */
	int (*init)(struct sio_pt *pt);
	/* Type of a present entry (e & present_mask != 0) at level > 0; at
	 * level 0 every present entry is a leaf and this is not called.
	 * NULL: by a page-size bit (pt->ps_bit, ps_top; pt_classify). */
	enum pt_etype (*classify)(const struct sio_pt *pt, unsigned int level,
				  uint64_t e);
	/* Entry pointing at a next-level table (the table's address is
	 * encoded by the caller with pt_oa_encode and passed as "oa").
	 * NULL: pt->table_bits | oa at every level (pt_mk_table). */
	uint64_t (*mk_table)(const struct sio_pt *pt, unsigned int level,
			     uint64_t oa);
	/* Every bit of a leaf of 2^size_lg2 bytes at level except the output
	 * address (which the walker ORs in and steps).  -EINVAL for a prot
	 * the format cannot express. */
	int (*mk_leaf)(const struct sio_pt *pt, unsigned int level,
		       unsigned int size_lg2, unsigned int prot, uint64_t *bits);
	/* lg2 of the size of the leaf that present entry e at level belongs
	 * to.  NULL when every leaf is exactly one entry (size = item size). */
	unsigned int (*leaf_size_lg2)(const struct sio_pt *pt,
				      unsigned int level, uint64_t e);
	/* SIO_PROT_* a leaf grants. */
	unsigned int (*leaf_prot)(const struct sio_pt *pt, uint64_t e);
	/* Dirty tracking.  is_dirty: the leaf was written since it was last
	 * cleaned; mk_clean/mk_dirty return the entry with the state changed
	 * (mk_dirty returns e unchanged when the leaf cannot become dirty,
	 * e.g. it is not writable).  All NULL: the one-bit defaults over
	 * pt->dirty_bit, dirty_need and dirty_also (pt_is_dirty ...), or no
	 * dirty state at all when dirty_bit is 0 too.  Set all three or
	 * none. */
	bool (*is_dirty)(const struct sio_pt *pt, uint64_t e);
	uint64_t (*mk_clean)(const struct sio_pt *pt, uint64_t e);
	uint64_t (*mk_dirty)(const struct sio_pt *pt, uint64_t e);
};

/* One table page per slot of a deferred-free node.  The nodes are separate
 * allocations so a freed table page is never written: a walker that loaded
 * its address before it was unlinked may still be reading it. */
struct pt_dead_page {
	void *page;
	unsigned int lg2;
};

struct sio_pt_page {
	struct sio_pt_page *next;
	unsigned int count;
	unsigned int cap;
	struct pt_dead_page pages[];
};

struct sio_pt {
	struct sio_pt_cfg cfg;		/* with the format's defaults applied */
	const struct pt_fmt *fmt;
	uint64_t *root;			/* top table, never replaced */

	/* Geometry (set by init, constant afterwards). */
	unsigned int top;		/* top level = levels - 1 */
	unsigned int table_lg2;		/* bytes of a non-top table page */
	unsigned int top_lg2;		/* bytes of the top table */
	uint8_t item_lg2[PT_MAX_LEVELS];	/* IOVA bits one entry spans */
	uint8_t idx_bits[PT_MAX_LEVELS];	/* index bits of a table */
	uint64_t leaf_sizes[PT_MAX_LEVELS];	/* leaf sizes (bitmap) per level */
	int8_t size_level[64];		/* level holding a leaf of 2^n, or -1 */
	uint64_t pgsize_bitmap;
	uint64_t iova_last;
	uint64_t oa_last;		/* highest output address of a leaf */
	uint64_t oa_mask;		/* entry bits holding the address */
	int oa_shift;			/* field = addr << shift (or >> -shift) */
	uint64_t present_mask;		/* entry present iff e & present_mask */
	/* A leaf entry (any level) may be part of a leaf larger than one
	 * entry (AMD v1 NextLevel=7) only if (e & contig_mask) == contig_val;
	 * formats without such leaves use mask 0, val 1 (never).  Lets the
	 * walkers skip the leaf_size_lg2 call for ordinary entries.  A format
	 * with leaf_size_lg2 that sets neither gets mask 0, val 0 (always
	 * call).  contig_val is never 0 when contig_mask is not. */
	uint64_t contig_mask, contig_val;
	uint64_t fmt_flags;		/* per-format settings (stage, ...) */

	/* Fast classification.  A format whose classify() depends only on
	 * a small field of the entry (at most 5 bits: type bits, PS, AMD's
	 * NextLevel, RISC-V's R/W/X) sets cls_bits and cls_shift in init();
	 * sio_pt_create() then asks classify() about every value of the
	 * field at every level and records the answers in lvl[].table_map,
	 * so the walkers classify with a shift and a bit test instead of an
	 * indirect call (pt_entry_is_table).  cls_bits 0: always call. */
	unsigned int cls_shift, cls_bits;
	uint64_t cls_mask;		/* (1 << cls_bits) - 1 */
	/* Address decode without a branch on the sign of oa_shift:
	 * addr = ((e & oa_mask) >> oa_rshift) << oa_lshift, and encode the
	 * other way round.  Filled by sio_pt_create from oa_shift. */
	unsigned int oa_rshift, oa_lshift;
	/* Per-level data the walkers read on every step, packed. */
	struct pt_lvl {
		uint64_t idx_mask;	/* (1 << idx_bits) - 1 */
		uint32_t table_map;	/* bit c: field value c is a table */
		uint32_t shift;		/* = item_lg2 */
	} lvl[PT_MAX_LEVELS];
	bool dirty_ok;			/* read_and_clear/set_dirty work */
	/* For the default accessors (see the file comment), set by init():
	 * the bits of a table entry besides its address (mk_table NULL); a
	 * leaf's dirty bit, the bits a leaf needs before it can become dirty
	 * (its write permission; 0: any leaf can), and the bits that become
	 * set with the dirty bit (RISC-V's accessed bit) (is_dirty NULL). */
	uint64_t table_bits;
	uint64_t dirty_bit, dirty_need, dirty_also;
	/* And for the default classify: a present entry at a level from 1
	 * to ps_top with ps_bit set is a leaf, any other above level 0 a
	 * table (x86's and VT-d's PS).  sio_pt_create then derives cls_shift
	 * and cls_bits from ps_bit. */
	uint64_t ps_bit;
	unsigned int ps_top;

	/* The last leaf bits map got from mk_leaf(), for the size and prot
	 * it asked for (leaf_lg2 ~0u: none yet), so repeated maps of the
	 * same kind skip the call.  Written by map only (writers are
	 * serialized), read by nobody else. */
	unsigned int leaf_lg2, leaf_prot;
	uint64_t leaf_bits;

	/* Tables unlinked by map (replacing an empty table by a large leaf),
	 * handed to the next unmap's gather, freed at destroy.  Protected by
	 * the caller's map/unmap serialization. */
	struct sio_pt_page *pending;
};

/* --- formats --- */
extern const struct pt_fmt pt_fmt_amdv1;
extern const struct pt_fmt pt_fmt_mock;
extern const struct pt_fmt pt_fmt_x86_64;
extern const struct pt_fmt pt_fmt_arm_lpae_s1;
extern const struct pt_fmt pt_fmt_arm_lpae_s2;
extern const struct pt_fmt pt_fmt_vtd_ss;
extern const struct pt_fmt pt_fmt_riscv;

/* --- geometry helpers for the formats' init() --- */

/* Levels of granule_lg2 pages and table pages of table_lg2 bytes (8-byte
 * entries) needed to cover ias bits. */
static inline unsigned int pt_levels_for(unsigned int ias,
					 unsigned int granule_lg2,
					 unsigned int table_lg2)
{
	unsigned int bits = table_lg2 - 3;

	if (ias <= granule_lg2)
		return 1;
	return (ias - granule_lg2 + bits - 1) / bits;
}

/* Fill top, item_lg2, idx_bits, table_lg2 and top_lg2 for "levels" levels
 * covering cfg.ias bits.  The top table holds the remaining index bits, so
 * it may be smaller than a page (ARM with a short input size) or larger
 * (ARM stage 2 concatenated tables).  Returns -EINVAL if it does not fit. */
int pt_set_geometry(struct sio_pt *pt, unsigned int granule_lg2,
		    unsigned int table_lg2, unsigned int levels);

/* Sizes from 2^lo to 2^hi inclusive as a bitmap. */
static inline uint64_t pt_size_range(unsigned int lo, unsigned int hi)
{
	uint64_t top = hi >= 63 ? ~0ull : (2ull << hi) - 1;

	return top & ~((1ull << lo) - 1);
}

/* These two are valid once sio_pt_create() has derived oa_rshift and
 * oa_lshift from oa_shift, i.e. not inside a format's init(). */
static inline uint64_t pt_oa_encode(const struct sio_pt *pt, uint64_t addr)
{
	return ((addr >> pt->oa_lshift) << pt->oa_rshift) & pt->oa_mask;
}

static inline uint64_t pt_oa_decode(const struct sio_pt *pt, uint64_t e)
{
	return ((e & pt->oa_mask) >> pt->oa_rshift) << pt->oa_lshift;
}

static inline uint64_t *pt_table_ptr(const struct sio_pt *pt, uint64_t e)
{
	return (uint64_t *)(uintptr_t)pt_oa_decode(pt, e);
}

static inline unsigned int pt_index(const struct sio_pt *pt, uint64_t iova,
				    unsigned int level)
{
	return (unsigned int)((iova >> pt->lvl[level].shift) &
			      pt->lvl[level].idx_mask);
}

/* --- entry accessors with defaults (see the file comment) --- */

static inline enum pt_etype pt_classify(const struct sio_pt *pt,
					unsigned int level, uint64_t e)
{
	if (pt->fmt->classify)
		return pt->fmt->classify(pt, level, e);
	return level <= pt->ps_top && (e & pt->ps_bit) ? PT_ENTRY_LEAF
						       : PT_ENTRY_TABLE;
}

static inline uint64_t pt_mk_table(const struct sio_pt *pt, unsigned int level,
				   uint64_t oa)
{
	if (pt->fmt->mk_table)
		return pt->fmt->mk_table(pt, level, oa);
	return pt->table_bits | oa;
}

/* Whether the format keeps dirty state in its leaves at all (then dirty_ok
 * says whether this table tracks it). */
static inline bool pt_fmt_has_dirty(const struct sio_pt *pt)
{
	return pt->fmt->is_dirty || pt->dirty_bit;
}

static inline bool pt_is_dirty(const struct sio_pt *pt, uint64_t e)
{
	if (pt->fmt->is_dirty)
		return pt->fmt->is_dirty(pt, e);
	return (e & pt->dirty_bit) != 0;
}

static inline uint64_t pt_mk_clean(const struct sio_pt *pt, uint64_t e)
{
	if (pt->fmt->mk_clean)
		return pt->fmt->mk_clean(pt, e);
	return e & ~pt->dirty_bit;
}

static inline uint64_t pt_mk_dirty(const struct sio_pt *pt, uint64_t e)
{
	if (pt->fmt->mk_dirty)
		return pt->fmt->mk_dirty(pt, e);
	/* Only a write sets it, and only a leaf that allows one is written. */
	if ((e & pt->dirty_need) != pt->dirty_need)
		return e;
	return e | pt->dirty_bit | pt->dirty_also;
}

/* Whether present entry e at level points to a table (else it is a
 * leaf).  The field lookup is exact: sio_pt_create() built table_map from
 * classify() itself, and the tests compare both on random entries. */
static inline bool pt_entry_is_table(const struct sio_pt *pt,
				     unsigned int level, uint64_t e)
{
	if (__builtin_expect(pt->cls_bits != 0, 1))
		return (pt->lvl[level].table_map >>
			((e >> pt->cls_shift) & pt->cls_mask)) & 1;
	return level > 0 && pt_classify(pt, level, e) == PT_ENTRY_TABLE;
}

/* The same through the vtable only (tests compare the two). */
static inline bool pt_entry_is_table_slow(const struct sio_pt *pt,
					  unsigned int level, uint64_t e)
{
	return level > 0 && pt_classify(pt, level, e) == PT_ENTRY_TABLE;
}

/* lg2 of the size of the leaf present entry e at level belongs to.  Only
 * entries that match contig_mask/val (AMD v1 NextLevel=7) need the
 * format's leaf_size_lg2(); the rest span one entry. */
static inline unsigned int pt_leaf_lg2(const struct sio_pt *pt,
				       unsigned int level, uint64_t e)
{
	if (__builtin_expect((e & pt->contig_mask) == pt->contig_val, 0))
		return pt->fmt->leaf_size_lg2(pt, level, e);
	return pt->lvl[level].shift;
}

/* Entry loads and stores.  Writers are serialized; readers run
 * concurrently, so every access is atomic.  A new table pointer is stored
 * with release after the table was zeroed, and so is a new leaf: what the
 * CPU wrote to a buffer before mapping it must be visible to a device that
 * reads through the new leaf (free on x86, a barrier on weaker CPUs).
 * Readers load with acquire.  Clearing an entry needs no ordering. */
static inline uint64_t pt_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline uint64_t pt_load_relaxed(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void pt_store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline void pt_store_release(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* --- accounted table-page allocator (alloc.c) --- */

/* A zeroed table page of 2^lg2 bytes aligned to its size, or NULL. */
void *pt_page_alloc(unsigned int lg2);
/* Free now; the caller guarantees no walker can reach the page. */
void pt_page_free(void *page, unsigned int lg2);
/* Put a page on a deferred-free list; -ENOMEM if no list node could be
 * allocated (the page is then not queued). */
int pt_page_defer(struct sio_pt_page **list, void *page, unsigned int lg2);
/* Append list "from" to "*to". */
void pt_defer_splice(struct sio_pt_page **to, struct sio_pt_page *from);

/* --- walker internals shared between pgtable.c and walk.c --- */

/* Free a table and all tables below it now (destroy). */
void pt_free_tree(struct sio_pt *pt, uint64_t *table, unsigned int level,
		  unsigned int lg2);

/* --- test hooks --- */

/* The raw entry that translates iova at its leaf (or the empty entry where
 * the walk stopped), and the level it is at.  Returns false if the walk hit
 * an empty entry. */
bool sio_pt_test_raw_entry(const struct sio_pt *pt, uint64_t iova,
			   uint64_t *entry, unsigned int *level);
/* The raw entry at "level" on the path of iova (a table entry when level
 * is above the leaf), false if the walk ends above that level. */
bool sio_pt_test_raw_entry_at(const struct sio_pt *pt, uint64_t iova,
			      unsigned int level, uint64_t *entry);
/* Let "after" more table-page allocations succeed, then fail them all
 * (-1: stop failing).  Process-wide; for single-threaded tests. */
void sio_pt_test_fail_alloc(int after);
/* Number of levels of the table. */
unsigned int sio_pt_test_levels(const struct sio_pt *pt);
/* Whether present entry e at level is a table, by the fast path (fast) or
 * by the format's classify() (!fast); and the leaf size by the fast path
 * or by leaf_size_lg2() (item size when the format has none).  For tests
 * that compare the two. */
bool sio_pt_test_is_table(const struct sio_pt *pt, unsigned int level,
			  uint64_t e, bool fast);
unsigned int sio_pt_test_leaf_lg2(const struct sio_pt *pt, unsigned int level,
				  uint64_t e, bool fast);
/* The format's present mask and whether the fast classification is in use
 * (false: the format leaves it to classify()). */
uint64_t sio_pt_test_present_mask(const struct sio_pt *pt);
bool sio_pt_test_fast_classify(const struct sio_pt *pt);

#endif
