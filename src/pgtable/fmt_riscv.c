/*
 * RISC-V Sv39, Sv48 and Sv57 page tables, as the RISC-V IOMMU uses them
 * for first-stage translation.
 *
 * The RISC-V Instruction Set Manual, Volume II: Privileged Architecture,
 * "Sv39: Page-Based 39-bit Virtual-Memory System" and its Sv48/Sv57
 * siblings (sections 12.4-12.6 of the 2024 edition, 10.x before):
 *   bit 0 V valid, bit 1 R, bit 2 W, bit 3 X, bit 4 U, bit 5 G,
 *   bit 6 A accessed, bit 7 D dirty, bits 53:10 PPN (address >> 12).
 * An entry with V set and R=W=X=0 points to the next table; any other
 * valid entry is a leaf, at any level (megapages, gigapages, ...).
 * W without R is reserved, so a writable leaf is also readable.
 *
 * Dirty state as for x86-64: without SIO_PT_FEAT_DIRTY writable leaves
 * start with D set (Svade-friendly, as Linux does).  The input range is
 * [0, 2^ias); sign extension is left to the user of the table.
 */
#include "pgtable/pt_format.h"

#include <errno.h>

#define RV_V (1ull << 0)
#define RV_R (1ull << 1)
#define RV_W (1ull << 2)
#define RV_X (1ull << 3)
#define RV_U (1ull << 4)
#define RV_A (1ull << 6)
#define RV_D (1ull << 7)
#define RV_PPN_MASK 0x003ffffffffffc00ull	/* bits 53:10 */

static int riscv_init(struct sio_pt *pt)
{
	struct sio_pt_cfg *c = &pt->cfg;
	unsigned int ias, levels;
	int rc;

	switch (c->format) {
	case SIO_PT_RISCV_SV39:
		ias = 39;
		break;
	case SIO_PT_RISCV_SV48:
		ias = 48;
		break;
	default:
		ias = 57;
		break;
	}
	levels = (ias - 12) / 9;
	if ((c->ias && c->ias != ias) || (c->levels && c->levels != levels) ||
	    (c->granule_lg2 && c->granule_lg2 != 12) || c->oas > 56 ||
	    (c->oas && c->oas <= 12))
		return -EINVAL;
	c->ias = ias;
	c->levels = levels;
	c->granule_lg2 = 12;
	if (!c->oas)
		c->oas = 56;
	rc = pt_set_geometry(pt, 12, 12, levels);
	if (rc)
		return rc;
	for (unsigned int l = 0; l < levels; l++)
		pt->leaf_sizes[l] = 1ull << pt->item_lg2[l];
	pt->oa_mask = RV_PPN_MASK;
	pt->oa_shift = -2;		/* PPN = address >> 12, at bit 10 */
	pt->present_mask = RV_V;
	pt->cls_shift = 1;		/* classify looks at R/W/X only */
	pt->cls_bits = 3;
	pt->table_bits = RV_V;
	/* A write sets D, and A with it. */
	pt->dirty_bit = RV_D;
	pt->dirty_need = RV_W;
	pt->dirty_also = RV_A;
	pt->dirty_ok = true;
	return 0;
}

static enum pt_etype riscv_classify(const struct sio_pt *pt,
				    unsigned int level, uint64_t e)
{
	(void)pt;
	(void)level;
	return (e & (RV_R | RV_W | RV_X)) ? PT_ENTRY_LEAF : PT_ENTRY_TABLE;
}

static int riscv_mk_leaf(const struct sio_pt *pt, unsigned int level,
			 unsigned int size_lg2, unsigned int prot,
			 uint64_t *bits)
{
	uint64_t e = RV_V | RV_A | RV_U;

	(void)level;
	(void)size_lg2;
	if (prot & SIO_PROT_WRITE) {
		e |= RV_W | RV_R;
		if (!(pt->cfg.features & SIO_PT_FEAT_DIRTY))
			e |= RV_D;
	}
	if (prot & SIO_PROT_READ)
		e |= RV_R;
	if (!(prot & SIO_PROT_NOEXEC))
		e |= RV_X;
	/* R=W=X=0 would be a table pointer. */
	if (!(e & (RV_R | RV_W | RV_X)))
		return -EINVAL;
	*bits = e;
	return 0;
}

static unsigned int riscv_leaf_prot(const struct sio_pt *pt, uint64_t e)
{
	(void)pt;
	return ((e & RV_R) ? SIO_PROT_READ : 0) |
	       ((e & RV_W) ? SIO_PROT_WRITE : 0) |
	       ((e & RV_X) ? 0 : SIO_PROT_NOEXEC);
}

const struct pt_fmt pt_fmt_riscv = {
	.name = "riscv",
	.init = riscv_init,
	.classify = riscv_classify,
	.mk_leaf = riscv_mk_leaf,
	.leaf_prot = riscv_leaf_prot,
};
