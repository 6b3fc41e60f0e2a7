/*
 * x86-64 4- and 5-level paging: the CPU's page tables, Intel VT-d
 * first-stage tables and AMD v2 guest tables share this format.
 *
 * Intel SDM Vol. 3A, 4.5 "4-Level Paging and 5-Level Paging", Tables 4-15
 * to 4-20 (and VT-d spec 9.7 "First-Stage Paging Entries", which reuses
 * them):
 *   bit 0 P present, bit 1 R/W writable, bit 2 U/S user, bit 5 A accessed,
 *   bit 6 D dirty (leaves only), bit 7 PS page size (a PDPTE maps 1 GiB, a
 *   PDE 2 MiB), bits 51:12 address, bit 63 XD.
 * Leaves exist at levels 0..2 (4 KiB, 2 MiB, 1 GiB); PML4/PML5 entries
 * always point to tables.  Every present entry is readable.
 *
 * Dirty state: without SIO_PT_FEAT_DIRTY writable leaves are created with
 * D already set (as Linux does, so hardware never has to update it); with
 * the feature they start clean and the "hardware" (sio_pt_set_dirty) sets
 * D on a write.  The input range is [0, 2^ias): canonical sign extension is
 * left to the user of the table.
 */
#include "pgtable/pt_format.h"

#include <errno.h>

#define X86_P (1ull << 0)
#define X86_RW (1ull << 1)
#define X86_US (1ull << 2)
#define X86_A (1ull << 5)
#define X86_D (1ull << 6)
#define X86_PS (1ull << 7)
#define X86_OA_MASK 0x000ffffffffff000ull	/* bits 51:12 */
#define X86_XD (1ull << 63)

static int x86_init(struct sio_pt *pt)
{
	struct sio_pt_cfg *c = &pt->cfg;
	unsigned int levels = c->levels;
	int rc;

	if (c->granule_lg2 && c->granule_lg2 != 12)
		return -EINVAL;
	c->granule_lg2 = 12;
	if (!levels)
		levels = c->ias > 48 ? 5 : 4;
	if (levels != 4 && levels != 5)
		return -EINVAL;
	if (!c->ias)
		c->ias = levels == 4 ? 48 : 57;
	if (!c->oas)
		c->oas = 52;
	/* The top level must be needed: 4-level covers 40..48 bits, 5-level
	 * 49..57. */
	if (pt_levels_for(c->ias, 12, 12) != levels || c->oas > 52 ||
	    c->oas <= 12)
		return -EINVAL;
	c->levels = levels;
	rc = pt_set_geometry(pt, 12, 12, levels);
	if (rc)
		return rc;
	for (unsigned int l = 0; l <= 2; l++)
		pt->leaf_sizes[l] = 1ull << pt->item_lg2[l];
	pt->oa_mask = X86_OA_MASK;
	pt->oa_shift = 0;
	pt->present_mask = X86_P;
	pt->ps_bit = X86_PS;		/* leaves above level 0 have PS */
	pt->ps_top = 2;
	/* Permissions are ANDed along the walk: tables grant everything. */
	pt->table_bits = X86_P | X86_RW | X86_US | X86_A;
	/* Only a write sets D, and only a writable page can be written. */
	pt->dirty_bit = X86_D;
	pt->dirty_need = X86_RW;
	pt->dirty_ok = true;
	return 0;
}

static int x86_mk_leaf(const struct sio_pt *pt, unsigned int level,
		       unsigned int size_lg2, unsigned int prot, uint64_t *bits)
{
	uint64_t e = X86_P | X86_US | X86_A;

	(void)size_lg2;
	if (prot & SIO_PROT_WRITE) {
		e |= X86_RW;
		if (!(pt->cfg.features & SIO_PT_FEAT_DIRTY))
			e |= X86_D;
	}
	if (level)
		e |= X86_PS;
	*bits = e;
	return 0;
}

static unsigned int x86_leaf_prot(const struct sio_pt *pt, uint64_t e)
{
	(void)pt;
	return SIO_PROT_READ | ((e & X86_RW) ? SIO_PROT_WRITE : 0) |
	       ((e & X86_XD) ? SIO_PROT_NOEXEC : 0);
}

const struct pt_fmt pt_fmt_x86_64 = {
	.name = "x86_64",
	.init = x86_init,
	.mk_leaf = x86_mk_leaf,
	.leaf_prot = x86_leaf_prot,
};
