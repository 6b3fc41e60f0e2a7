/*
 * AMD IOMMU v1 host page tables, and the 2 KiB "mock" variant used by the
 * Linux iommufd selftest.
 *
 * AMD I/O Virtualization Technology (IOMMU) Specification, rev 3.x,
 * section 2.2.3 "I/O Page Tables for Host Translations":
 *   bit  0     PR   present
 *   bit  6     D    dirty (set by the IOMMU on a write, 2.2.7.4)
 *   bits 11:9  NextLevel: the level of the table this entry points to
 *              (1..5); 0 = a page of the natural size of this level;
 *              7 = a page whose size is encoded in the address bits
 *   bits 51:12 address (table or page, 4 KiB units)
 *   bit  60    FC   force coherent
 *   bit  61    IR   read permitted (ANDed along the walk)
 *   bit  62    IW   write permitted (ANDed along the walk)
 *
 * Page-size encoding (2.2.3, Table 14 "Example Page Size Encodings"): a
 * NextLevel=7 entry maps 2^n bytes with address bits [n-2:12] all one and
 * bit n-1 zero; the entry is replicated in every slot the page covers, so
 * any power of two from 8 KiB up is a page size.  512 GiB pages are not
 * used (errata; generic_pt leaves them out too).  The top level of the
 * 6-level table cannot hold pages (Table 15).
 *
 * The mock variant is the same encoding with a 2 KiB granule: 4 KiB table
 * pages of 512 entries, level 0 entries map 2 KiB, the address field holds
 * the address in 2 KiB units (so it is shifted by one bit), at most 56
 * input and 51 output bits, at most 5 levels; the selftest uses 3 levels
 * (starting level 2, 38 input bits), which is our default.
 *
 * Level numbering is the kernel's: our level L is AMD's level L+1 (mode).
 */
#include "pgtable/pt_format.h"

#include <errno.h>

#define AMD_PR (1ull << 0)
#define AMD_D (1ull << 6)
#define AMD_NL_SHIFT 9
#define AMD_NL_MASK (7ull << AMD_NL_SHIFT)
#define AMD_NL_SIZED 7ull
#define AMD_OA_MASK 0x000ffffffffff000ull	/* bits 51:12 */
#define AMD_FC (1ull << 60)
#define AMD_IR (1ull << 61)
#define AMD_IW (1ull << 62)

/* fmt_flags: the variant's granule (lg2). */
static unsigned int amd_granule(const struct sio_pt *pt)
{
	return (unsigned int)pt->fmt_flags;
}

static int amd_init_common(struct sio_pt *pt, unsigned int granule_lg2,
			   unsigned int max_ias, unsigned int max_oas,
			   unsigned int def_ias, unsigned int max_levels)
{
	struct sio_pt_cfg *c = &pt->cfg;
	unsigned int levels, bits = 12 - 3;
	int rc;

	if (c->granule_lg2 && c->granule_lg2 != granule_lg2)
		return -EINVAL;
	c->granule_lg2 = granule_lg2;
	if (!c->ias)
		c->ias = def_ias;
	if (!c->oas)
		c->oas = max_oas;
	if (c->ias > max_ias || c->ias <= granule_lg2 + bits ||
	    c->oas > max_oas || c->oas <= granule_lg2)
		return -EINVAL;
	levels = pt_levels_for(c->ias, granule_lg2, 12);
	if (levels > max_levels || (c->levels && c->levels != levels))
		return -EINVAL;
	c->levels = levels;
	pt->fmt_flags = granule_lg2;
	rc = pt_set_geometry(pt, granule_lg2, 12, levels);
	if (rc)
		return rc;

	for (unsigned int l = 0; l <= pt->top; l++) {
		unsigned int isz = pt->item_lg2[l];
		unsigned int hi = isz + bits - 1;

		/* Table 15: the top level of the 6-level (mode 6) table
		 * holds no pages. */
		if (l == max_levels - 1)
			break;
		if (hi > 51)
			hi = 51;
		pt->leaf_sizes[l] = pt_size_range(isz, hi) & ~(1ull << 39);
	}
	pt->oa_mask = AMD_OA_MASK;
	pt->oa_shift = 12 - (int)granule_lg2;
	pt->present_mask = AMD_PR;
	pt->cls_shift = AMD_NL_SHIFT;	/* classify looks at NextLevel only */
	pt->cls_bits = 3;
	pt->contig_mask = AMD_NL_MASK;
	pt->contig_val = AMD_NL_SIZED << AMD_NL_SHIFT;
	/* 2.2.7.4: the IOMMU sets D on a write; IW is checked on the walk
	 * before, so any leaf can be marked. */
	pt->dirty_bit = AMD_D;
	pt->dirty_ok = true;
	return 0;
}

static int amd_init(struct sio_pt *pt)
{
	return amd_init_common(pt, 12, 64, 52, 48, 6);
}

static int mock_init(struct sio_pt *pt)
{
	/* iommufd selftest: hw_max_vasz 56, hw_max_oasz 51, starting level
	 * 2 (3 levels: 11 + 3 * 9 = 38 bits). */
	return amd_init_common(pt, 11, 56, 51, 38, 5);
}

static enum pt_etype amd_classify(const struct sio_pt *pt, unsigned int level,
				  uint64_t e)
{
	uint64_t nl = (e & AMD_NL_MASK) >> AMD_NL_SHIFT;

	(void)pt;
	(void)level;
	return nl == 0 || nl == AMD_NL_SIZED ? PT_ENTRY_LEAF : PT_ENTRY_TABLE;
}

static uint64_t amd_mk_table(const struct sio_pt *pt, unsigned int level,
			     uint64_t oa)
{
	/* IR/IW are ANDed along the walk; permissions live in the leaves,
	 * so tables grant both.  NextLevel = level of the table below, which
	 * in AMD's 1-based numbering is our level of this entry. */
	(void)pt;
	return AMD_PR | ((uint64_t)level << AMD_NL_SHIFT) | oa | AMD_IR |
	       AMD_IW;
}

static int amd_mk_leaf(const struct sio_pt *pt, unsigned int level,
		       unsigned int size_lg2, unsigned int prot, uint64_t *bits)
{
	unsigned int g = amd_granule(pt);
	uint64_t e = AMD_PR;

	if (prot & SIO_PROT_READ)
		e |= AMD_IR;
	if (prot & SIO_PROT_WRITE)
		e |= AMD_IW;
	if (size_lg2 != pt->item_lg2[level]) {
		/* Table 14: ones in address bits [size-2 : granule], the
		 * address field counting in granule units. */
		uint64_t code = (1ull << (size_lg2 - g - 1)) - 1;

		e |= AMD_NL_SIZED << AMD_NL_SHIFT;
		e |= pt_oa_encode(pt, code << g);
	}
	*bits = e;
	return 0;
}

static unsigned int amd_leaf_size_lg2(const struct sio_pt *pt,
				      unsigned int level, uint64_t e)
{
	uint64_t field;

	if (((e & AMD_NL_MASK) >> AMD_NL_SHIFT) != AMD_NL_SIZED)
		return pt->item_lg2[level];
	/* The address in granule units: count the trailing ones. */
	field = (e & AMD_OA_MASK) >> 12;
	return (unsigned int)__builtin_ctzll(~field) + amd_granule(pt) + 1;
}

static unsigned int amd_leaf_prot(const struct sio_pt *pt, uint64_t e)
{
	unsigned int prot = 0;

	(void)pt;
	if (e & AMD_IR)
		prot |= SIO_PROT_READ;
	if (e & AMD_IW)
		prot |= SIO_PROT_WRITE;
	return prot;
}

const struct pt_fmt pt_fmt_amdv1 = {
	.name = "amdv1",
	.init = amd_init,
	.classify = amd_classify,
	.mk_table = amd_mk_table,
	.mk_leaf = amd_mk_leaf,
	.leaf_size_lg2 = amd_leaf_size_lg2,
	.leaf_prot = amd_leaf_prot,
};

const struct pt_fmt pt_fmt_mock = {
	.name = "mock",
	.init = mock_init,
	.classify = amd_classify,
	.mk_table = amd_mk_table,
	.mk_leaf = amd_mk_leaf,
	.leaf_size_lg2 = amd_leaf_size_lg2,
	.leaf_prot = amd_leaf_prot,
};
