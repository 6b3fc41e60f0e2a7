/*
 * Intel VT-d second-stage (SS, formerly "second-level") page tables.
 *
 * Intel Virtualization Technology for Directed I/O Architecture
 * Specification, 3.7 "Second-Stage Translation" and 9.8 "Second-Stage
 * Paging Entries":
 *   bit 0 R read, bit 1 W write, bit 2 X execute (unused here),
 *   bit 7 PS page size (SS-PDPE maps 1 GiB, SS-PDE 2 MiB),
 *   bit 8 A accessed, bit 9 D dirty (only with SLADE; 3.6.2 / 3.7.2),
 *   bit 11 SNP snoop, bits 51:12 address.
 * There is no present bit: an entry is present when R or W is set
 * (9.8), so every leaf needs R or W and tables carry both.  3, 4 or 5
 * levels (AGAW 39, 48, 57 bits); leaves at levels 0..2.
 */
#include "pgtable/pt_format.h"

#include <errno.h>

#define VTD_R (1ull << 0)
#define VTD_W (1ull << 1)
#define VTD_PS (1ull << 7)
#define VTD_D (1ull << 9)
#define VTD_OA_MASK 0x000ffffffffff000ull	/* bits 51:12 */

static int vtd_init(struct sio_pt *pt)
{
	struct sio_pt_cfg *c = &pt->cfg;
	unsigned int levels;
	int rc;

	if (c->granule_lg2 && c->granule_lg2 != 12)
		return -EINVAL;
	c->granule_lg2 = 12;
	if (!c->ias)
		c->ias = c->levels == 3 ? 39 : c->levels == 5 ? 57 : 48;
	if (!c->oas)
		c->oas = 52;
	if (c->ias > 57 || c->oas > 52 || c->oas <= 12)
		return -EINVAL;
	levels = pt_levels_for(c->ias, 12, 12);
	if (levels < 3 || (c->levels && c->levels != levels))
		return -EINVAL;
	c->levels = levels;
	rc = pt_set_geometry(pt, 12, 12, levels);
	if (rc)
		return rc;
	for (unsigned int l = 0; l <= 2; l++)
		pt->leaf_sizes[l] = 1ull << pt->item_lg2[l];
	pt->oa_mask = VTD_OA_MASK;
	pt->oa_shift = 0;
	/* Present = any bit: leaves always have R or W. */
	pt->present_mask = ~0ull;
	pt->ps_bit = VTD_PS;		/* leaves above level 0 have PS */
	pt->ps_top = 2;
	pt->table_bits = VTD_R | VTD_W;
	pt->dirty_bit = VTD_D;
	pt->dirty_need = VTD_W;
	pt->dirty_ok = true;
	return 0;
}

static int vtd_mk_leaf(const struct sio_pt *pt, unsigned int level,
		       unsigned int size_lg2, unsigned int prot, uint64_t *bits)
{
	uint64_t e = 0;

	(void)pt;
	(void)size_lg2;
	/* 9.8: with neither R nor W the entry would be "not present". */
	if (!(prot & (SIO_PROT_READ | SIO_PROT_WRITE)))
		return -EINVAL;
	if (prot & SIO_PROT_READ)
		e |= VTD_R;
	if (prot & SIO_PROT_WRITE)
		e |= VTD_W;
	if (level)
		e |= VTD_PS;
	*bits = e;
	return 0;
}

static unsigned int vtd_leaf_prot(const struct sio_pt *pt, uint64_t e)
{
	(void)pt;
	return ((e & VTD_R) ? SIO_PROT_READ : 0) |
	       ((e & VTD_W) ? SIO_PROT_WRITE : 0);
}

const struct pt_fmt pt_fmt_vtd_ss = {
	.name = "vtd_ss",
	.init = vtd_init,
	.mk_leaf = vtd_mk_leaf,
	.leaf_prot = vtd_leaf_prot,
};
