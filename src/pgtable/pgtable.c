/*
 * The generic I/O page table: creation, queries and the lock-free lookup.
 *
 * A table is a format (struct pt_fmt, chosen at run time from
 * cfg->format) plus the geometry the format computed for this
 * configuration.  Everything here works on that description only; the
 * formats' bit layouts stay in fmt_*.c.  Map, unmap and dirty tracking,
 * which modify the tree, are in walk.c.
 *
 * Lookups (sio_pt_lookup, sio_pt_iova_to_phys, sio_pt_set_dirty) may run
 * concurrently with map/unmap inside an RCU read section: they only load
 * entries (acquire, so a newly published table is seen zeroed or filled),
 * and table pages unlinked by unmap are freed after a grace period.
 */
#include "pgtable/pt_format.h"
#include "util/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "util/fail.h"

static const struct pt_fmt *pt_fmt_of(enum sio_pt_format f)
{
	switch (f) {
	case SIO_PT_MOCK:
		return &pt_fmt_mock;
	case SIO_PT_AMD_V1:
		return &pt_fmt_amdv1;
	case SIO_PT_X86_64:
		return &pt_fmt_x86_64;
	case SIO_PT_ARM_LPAE_S1:
		return &pt_fmt_arm_lpae_s1;
	case SIO_PT_ARM_LPAE_S2:
		return &pt_fmt_arm_lpae_s2;
	case SIO_PT_VTD_SS:
		return &pt_fmt_vtd_ss;
	case SIO_PT_RISCV_SV39:
	case SIO_PT_RISCV_SV48:
	case SIO_PT_RISCV_SV57:
		return &pt_fmt_riscv;
	}
	return NULL;
}

int pt_set_geometry(struct sio_pt *pt, unsigned int granule_lg2,
		    unsigned int table_lg2, unsigned int levels)
{
	unsigned int bits = table_lg2 - 3;
	unsigned int ias = pt->cfg.ias;
	unsigned int top_item;

	if (levels == 0 || levels > PT_MAX_LEVELS)
		return -EINVAL;
	for (unsigned int l = 0; l < levels; l++) {
		pt->item_lg2[l] = (uint8_t)(granule_lg2 + l * bits);
		pt->idx_bits[l] = (uint8_t)bits;
	}
	pt->top = levels - 1;
	top_item = pt->item_lg2[pt->top];
	/* The top table covers what is left of the input bits: fewer entries
	 * than a page for short inputs, up to 16 concatenated pages for Arm
	 * stage 2.  It must have at least one index bit. */
	if (ias <= top_item || ias - top_item > bits + 4)
		return -EINVAL;
	pt->idx_bits[pt->top] = (uint8_t)(ias - top_item);
	pt->table_lg2 = table_lg2;
	pt->top_lg2 = pt->idx_bits[pt->top] + 3;
	return 0;
}

static uint64_t lg2_last(unsigned int lg2)
{
	return lg2 >= 64 ? UINT64_MAX : (1ull << lg2) - 1;
}

/* Fill the walkers' precomputed data from what init() set: the per-level
 * index masks, the branch-free address shifts, the multi-entry leaf test,
 * and the classification table (by asking classify() about every value of
 * the format's classify field). */
static void pt_derive_fast(struct sio_pt *pt)
{
	uint64_t pm = pt->present_mask;

	pt->oa_rshift = pt->oa_shift >= 0 ? (unsigned int)pt->oa_shift : 0;
	pt->oa_lshift = pt->oa_shift >= 0 ? 0 : (unsigned int)-pt->oa_shift;
	if (pt->fmt->leaf_size_lg2 && !pt->contig_mask && pt->contig_val)
		pt->contig_val = 0;	/* no quick test: always ask */
	if (!pt->fmt->classify && !pt->cls_bits && pt->ps_bit) {
		/* The default classify looks at the PS bit only. */
		pt->cls_shift = (unsigned int)__builtin_ctzll(pt->ps_bit);
		pt->cls_bits = 1;
	}
	if (pt->cls_bits > 5)
		pt->cls_bits = 0;	/* table_map has 32 bits */
	pt->cls_mask = pt->cls_bits ? (1ull << pt->cls_bits) - 1 : 0;
	for (unsigned int l = 0; l <= pt->top; l++) {
		uint64_t field = pt->cls_mask << pt->cls_shift;
		uint64_t other = pm & ~field;
		uint32_t map = 0;

		pt->lvl[l].idx_mask = (1ull << pt->idx_bits[l]) - 1;
		pt->lvl[l].shift = pt->item_lg2[l];
		/* A present entry whose field holds c; field values that
		 * cannot be present (the present bit is in the field and
		 * clear) are never asked about. */
		for (uint64_t c = 0; l > 0 && c <= pt->cls_mask && pt->cls_bits;
		     c++) {
			uint64_t e = (c << pt->cls_shift) | (other & -other);

			if ((e & pm) &&
			    pt_classify(pt, l, e) == PT_ENTRY_TABLE)
				map |= 1u << c;
		}
		pt->lvl[l].table_map = map;
	}
}

SIO_API int sio_pt_create(const struct sio_pt_cfg *cfg, struct sio_pt **out)
{
	const struct pt_fmt *fmt;
	struct sio_pt *pt;
	uint64_t sizes = 0;
	int rc;

	sio_err_clear();
	if (!cfg || !out)
		return sio_err(-EINVAL, "sio_pt_create: NULL argument");
	fmt = pt_fmt_of(cfg->format);
	if (!fmt)
		return sio_err(-EINVAL, "sio_pt_create: unknown format %d",
			       (int)cfg->format);
	if (cfg->features & ~(uint32_t)SIO_PT_FEAT_DIRTY)
		return sio_err(-EINVAL, "sio_pt_create: unknown features %#x",
			       cfg->features);

	pt = sio_calloc(1, sizeof(*pt));
	if (!pt)
		return sio_err(-ENOMEM, "sio_pt_create: out of memory");
	pt->cfg = *cfg;
	pt->fmt = fmt;
	pt->contig_mask = 0;
	pt->contig_val = 1;
	pt->leaf_lg2 = ~0u;
	memset(pt->size_level, -1, sizeof(pt->size_level));

	rc = fmt->init(pt);
	if (rc) {
		free(pt);
		return sio_err(rc, "sio_pt_create: %s: unsupported configuration"
			       " (ias %u, oas %u, granule %u, levels %u)",
			       fmt->name, cfg->ias, cfg->oas, cfg->granule_lg2,
			       cfg->levels);
	}
	pt->iova_last = lg2_last(pt->cfg.ias);
	pt->oa_last = lg2_last(pt->cfg.oas);
	pt_derive_fast(pt);

	/* Like generic_pt: no leaf as large as half the input space (a whole
	 * top table is never one leaf), none larger than the output space. */
	for (unsigned int l = 0; l <= pt->top; l++) {
		uint64_t s = pt->leaf_sizes[l];

		if (pt->cfg.ias - 1 < 64)
			s &= (1ull << (pt->cfg.ias - 1)) - 1;
		if (pt->cfg.oas < 64)
			s &= (1ull << pt->cfg.oas) - 1;
		pt->leaf_sizes[l] = s;
		sizes |= s;
		for (unsigned int n = 0; n < 64; n++)
			if (s & (1ull << n))
				pt->size_level[n] = (int8_t)l;
	}
	pt->pgsize_bitmap = sizes;
	if (!sizes) {
		free(pt);
		return sio_err(-EINVAL, "sio_pt_create: %s: no page size fits",
			       fmt->name);
	}

	pt->root = pt_page_alloc(pt->top_lg2);
	if (!pt->root) {
		free(pt);
		return sio_err(-ENOMEM, "sio_pt_create: out of memory");
	}
	*out = pt;
	return 0;
}

void pt_free_tree(struct sio_pt *pt, uint64_t *table, unsigned int level,
		  unsigned int lg2)
{
	if (level > 0) {
		unsigned int n = 1u << pt->idx_bits[level];

		for (unsigned int i = 0; i < n; i++) {
			uint64_t e = pt_load_relaxed(&table[i]);

			if ((e & pt->present_mask) &&
			    pt_entry_is_table(pt, level, e))
				pt_free_tree(pt, pt_table_ptr(pt, e),
					     level - 1, pt->table_lg2);
		}
	}
	pt_page_free(table, lg2);
}

SIO_API void sio_pt_destroy(struct sio_pt *pt)
{
	if (!pt)
		return;
	pt_free_tree(pt, pt->root, pt->top, pt->top_lg2);
	sio_pt_free_deferred(pt->pending);
	free(pt);
}

SIO_API uint64_t sio_pt_pgsize_bitmap(const struct sio_pt *pt)
{
	return pt->pgsize_bitmap;
}

SIO_API uint64_t sio_pt_iova_last(const struct sio_pt *pt)
{
	return pt->iova_last;
}

SIO_API const struct sio_pt_cfg *sio_pt_config(const struct sio_pt *pt)
{
	return &pt->cfg;
}

/* Walk to the entry that decides iova: a leaf (returns its level and slot)
 * or an empty entry (returns NULL).  Lock-free: see the file comment.
 *
 * Per level: one index computation, one acquire load (a plain load on
 * x86), the present test and the table test, no call.  Everything
 * invariant is copied to locals first: after each acquire load the
 * compiler would otherwise have to reload it from *pt. */
static uint64_t *pt_walk_leaf_slow(const struct sio_pt *pt, uint64_t iova,
				   uint64_t *entry, unsigned int *level)
{
	const uint64_t *table = pt->root;
	unsigned int l = pt->top;

	for (;;) {
		uint64_t *slot = (uint64_t *)&table[pt_index(pt, iova, l)];
		uint64_t e = pt_load(slot);

		if (!(e & pt->present_mask))
			return NULL;
		if (!pt_entry_is_table_slow(pt, l, e)) {
			*entry = e;
			*level = l;
			return slot;
		}
		table = pt_table_ptr(pt, e);
		l--;
	}
}

/* Returns the leaf entry (never 0: it is present) and sets *slotp and
 * *lvp, or returns 0 if the walk hit an empty entry. */
static inline __attribute__((always_inline)) uint64_t
pt_walk_fast(const struct sio_pt *pt, uint64_t iova, uint64_t **slotp,
	     const struct pt_lvl **lvp)
{
	const uint64_t *table = pt->root;
	const struct pt_lvl *lv = &pt->lvl[pt->top];
	uint64_t pm = pt->present_mask, cm = pt->cls_mask, oam = pt->oa_mask;
	unsigned int cs = pt->cls_shift, rs = pt->oa_rshift;
	unsigned int ls = pt->oa_lshift;

	for (;;) {
		uint64_t *slot = (uint64_t *)&table[(iova >> lv->shift) &
						     lv->idx_mask];
		uint64_t e = pt_load(slot);

		if (!(e & pm))
			return 0;
		if (!((lv->table_map >> ((e >> cs) & cm)) & 1)) {
			*slotp = slot;
			*lvp = lv;
			return e;
		}
		table = (const uint64_t *)(uintptr_t)(((e & oam) >> rs) << ls);
		lv--;
	}
}

static inline uint64_t *pt_walk_leaf(const struct sio_pt *pt, uint64_t iova,
				     uint64_t *entry, unsigned int *level)
{
	const struct pt_lvl *lv;
	uint64_t *slot;
	uint64_t e;

	if (__builtin_expect(!pt->cls_bits, 0))
		return pt_walk_leaf_slow(pt, iova, entry, level);
	e = pt_walk_fast(pt, iova, &slot, &lv);
	if (!e)
		return NULL;
	*entry = e;
	*level = (unsigned int)(lv - pt->lvl);
	return slot;
}

SIO_API int sio_pt_lookup(const struct sio_pt *pt, uint64_t iova,
			  struct sio_xlate *out)
{
	unsigned int level;
	uint64_t e, size;

	if (iova > pt->iova_last)
		return -ENOENT;
	if (!pt_walk_leaf(pt, iova, &e, &level))
		return -ENOENT;
	size = 1ull << pt_leaf_lg2(pt, level, e);
	out->phys = (pt_oa_decode(pt, e) & ~(size - 1)) | (iova & (size - 1));
	out->page_size = size;
	out->prot = pt->fmt->leaf_prot(pt, e);
	return 0;
}

/* The data path's call: like sio_pt_lookup without the permissions. */
SIO_API uint64_t sio_pt_iova_to_phys(const struct sio_pt *pt, uint64_t iova)
{
	const struct pt_lvl *lv;
	unsigned int level, lg2;
	uint64_t *slot;
	uint64_t e, mask;

	if (iova > pt->iova_last)
		return 0;
	if (__builtin_expect(pt->cls_bits != 0, 1)) {
		e = pt_walk_fast(pt, iova, &slot, &lv);
		if (!e)
			return 0;
		lg2 = lv->shift;
		if (__builtin_expect((e & pt->contig_mask) == pt->contig_val,
				     0))
			lg2 = pt->fmt->leaf_size_lg2(
				pt, (unsigned int)(lv - pt->lvl), e);
	} else {
		if (!pt_walk_leaf_slow(pt, iova, &e, &level))
			return 0;
		lg2 = pt_leaf_lg2(pt, level, e);
	}
	mask = (1ull << lg2) - 1;
	return (pt_oa_decode(pt, e) & ~mask) | (iova & mask);
}

SIO_API int sio_pt_set_dirty(struct sio_pt *pt, uint64_t iova)
{
	unsigned int level;
	uint64_t *slot;
	uint64_t e;

	if (!pt->dirty_ok)
		return -EOPNOTSUPP;
	if (iova > pt->iova_last)
		return -ENOENT;
	slot = pt_walk_leaf(pt, iova, &e, &level);
	if (!slot)
		return -ENOENT;
	/* What the hardware does on a write: an atomic update of the leaf
	 * (the one entry that was hit, for AMD v1 contiguous leaves).  If the
	 * entry changed meanwhile (unmap, clear), retry on the new value. */
	for (;;) {
		uint64_t n = pt_mk_dirty(pt, e);

		if (n == e)
			return pt_is_dirty(pt, e) ? 0 : -EPERM;
		if (__atomic_compare_exchange_n(slot, &e, n, false,
						__ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return 0;
		if (!(e & pt->present_mask))
			return -ENOENT;
	}
}

bool sio_pt_test_raw_entry(const struct sio_pt *pt, uint64_t iova,
			   uint64_t *entry, unsigned int *level)
{
	return pt_walk_leaf(pt, iova, entry, level) != NULL;
}

bool sio_pt_test_raw_entry_at(const struct sio_pt *pt, uint64_t iova,
			      unsigned int level, uint64_t *entry)
{
	const uint64_t *table = pt->root;

	for (unsigned int l = pt->top;; l--) {
		uint64_t e = pt_load(&table[pt_index(pt, iova, l)]);

		if (l == level) {
			*entry = e;
			return true;
		}
		if (!(e & pt->present_mask) || !pt_entry_is_table(pt, l, e))
			return false;
		table = pt_table_ptr(pt, e);
	}
}

unsigned int sio_pt_test_levels(const struct sio_pt *pt)
{
	return pt->top + 1;
}

bool sio_pt_test_is_table(const struct sio_pt *pt, unsigned int level,
			  uint64_t e, bool fast)
{
	return fast ? pt_entry_is_table(pt, level, e)
		    : pt_entry_is_table_slow(pt, level, e);
}

unsigned int sio_pt_test_leaf_lg2(const struct sio_pt *pt, unsigned int level,
				  uint64_t e, bool fast)
{
	if (fast)
		return pt_leaf_lg2(pt, level, e);
	return pt->fmt->leaf_size_lg2 ? pt->fmt->leaf_size_lg2(pt, level, e)
				      : pt->item_lg2[level];
}

uint64_t sio_pt_test_present_mask(const struct sio_pt *pt)
{
	return pt->present_mask;
}

bool sio_pt_test_fast_classify(const struct sio_pt *pt)
{
	return pt->cls_bits != 0;
}
