/*
 * Arm VMSAv8-64 long-descriptor (LPAE) translation tables, stage 1 and
 * stage 2, with 4 KiB, 16 KiB and 64 KiB granules, as an SMMUv3 walks them.
 *
 * Arm Architecture Reference Manual for A-profile (DDI 0487), D8.3
 * "Translation table descriptor formats":
 *   bits 1:0   0b11 table (levels 0-2) or page (level 3); 0b01 block
 *              (level 1 for 4K, level 2 for all granules); bit 0 = valid
 *   bits 47:g  output address / next-level table address (g = granule)
 *   bit 10     AF access flag (set: we do not model access faults)
 *   bits 9:8   SH shareability (0b11 inner, 0b10 outer)
 *   bit 51     DBM dirty bit modifier (D8.4.6 hardware dirty state)
 *   bits 54:53 UXN/PXN (stage 1) or XN[1:0] (stage 2)
 * Stage 1 (D8.4 "Memory access control", D8.5 "Memory region attributes"):
 *   bits 4:2 AttrIndx into MAIR (0 non-cacheable, 1 write-back, 2 device,
 *   the indices Linux programs), bit 6 AP[1] unprivileged access, bit 7
 *   AP[2] read-only, bit 11 nG.
 * Stage 2: bits 5:2 MemAttr (0xf write-back, 0x5 non-cacheable, 0x1
 *   device), bit 6 S2AP[0] read, bit 7 S2AP[1] write.
 *
 * Dirty tracking (SIO_PT_FEAT_DIRTY, "HTTU-HD"): a writable leaf gets DBM
 * and starts writable-clean; a device write makes it writable-dirty.
 * Stage 1: dirty = DBM && !AP[2], clean sets AP[2].  Stage 2: dirty = DBM
 * && S2AP[1], clean clears S2AP[1].  (Linux' io-pgtable-arm maps writable
 * leaves already dirty; iommufd clears everything when tracking starts, so
 * both behave the same from the caller's side.)
 *
 * Level count: ceil((ias - g) / (g - 3)), at most 4 (no 52-bit LPA2).
 * Stage 2 concatenates up to 16 tables at the start level instead of
 * using a level-0 table with few entries (D8.2 "concatenated translation
 * tables", the same rule as io-pgtable-arm).  The output address field is
 * 48 bits; larger physical addresses are not supported.
 */
#include "pgtable/pt_format.h"

#include <errno.h>

#define ARM_VALID (1ull << 0)
#define ARM_TYPE_MASK 3ull
#define ARM_TYPE_TABLE 3ull	/* also "page" at level 3 */
#define ARM_TYPE_BLOCK 1ull
#define ARM_ATTRIDX_SHIFT 2
#define ARM_ATTRIDX_MASK (7ull << ARM_ATTRIDX_SHIFT)
#define ARM_AP_UNPRIV (1ull << 6)
#define ARM_AP_RDONLY (1ull << 7)
#define ARM_S2AP_R (1ull << 6)
#define ARM_S2AP_W (1ull << 7)
#define ARM_MEMATTR_MASK (0xfull << 2)
#define ARM_MEMATTR_OIWB (0xfull << 2)
#define ARM_MEMATTR_NC (0x5ull << 2)
#define ARM_MEMATTR_DEV (0x1ull << 2)
#define ARM_SH_OS (2ull << 8)
#define ARM_SH_IS (3ull << 8)
#define ARM_AF (1ull << 10)
#define ARM_NG (1ull << 11)
#define ARM_DBM (1ull << 51)
#define ARM_XN (3ull << 53)

#define ARM_MAIR_NC 0ull
#define ARM_MAIR_CACHE 1ull
#define ARM_MAIR_DEV 2ull

#define ARM_FLAG_S2 1ull

static bool arm_s2(const struct sio_pt *pt)
{
	return pt->fmt_flags & ARM_FLAG_S2;
}

static int arm_init(struct sio_pt *pt, bool s2)
{
	struct sio_pt_cfg *c = &pt->cfg;
	unsigned int g, bits, levels;
	int rc;

	g = c->granule_lg2 ? c->granule_lg2 : 12;
	if (g != 12 && g != 14 && g != 16)
		return -EINVAL;
	bits = g - 3;
	if (!c->ias)
		c->ias = 48;
	if (!c->oas)
		c->oas = 48;
	if (c->ias < 25 || c->ias > 48 || c->oas > 48 || c->oas <= g)
		return -EINVAL;
	c->granule_lg2 = g;
	levels = pt_levels_for(c->ias, g, g);
	if (levels > 4)
		return -EINVAL;
	/* Stage 2: a level-0 table of at most 16 entries is replaced by up
	 * to 16 concatenated level-1 tables. */
	if (s2 && levels == 4 &&
	    c->ias - (g + 3 * bits) <= 4)
		levels--;
	if (c->levels && c->levels != levels)
		return -EINVAL;
	c->levels = levels;
	pt->fmt_flags = s2 ? ARM_FLAG_S2 : 0;
	rc = pt_set_geometry(pt, g, g, levels);
	if (rc)
		return rc;
	/* Blocks: level 1 (1 GiB) only with the 4K granule, level 2 (2 MiB,
	 * 32 MiB, 512 MiB) with all; level 0/1 blocks for 16K/64K need
	 * 52-bit addressing (FEAT_LPA2/LPA), not supported. */
	for (unsigned int l = 0; l <= pt->top && l <= (g == 12 ? 2u : 1u); l++)
		pt->leaf_sizes[l] = 1ull << pt->item_lg2[l];
	pt->oa_mask = ((1ull << 48) - 1) & ~((1ull << g) - 1);
	pt->oa_shift = 0;
	pt->present_mask = ARM_VALID;
	pt->cls_shift = 0;		/* classify looks at bits 1:0 only */
	pt->cls_bits = 2;
	pt->table_bits = ARM_TYPE_TABLE;
	pt->dirty_ok = c->features & SIO_PT_FEAT_DIRTY;
	return 0;
}

static int arm_init_s1(struct sio_pt *pt)
{
	return arm_init(pt, false);
}

static int arm_init_s2(struct sio_pt *pt)
{
	return arm_init(pt, true);
}

static enum pt_etype arm_classify(const struct sio_pt *pt, unsigned int level,
				  uint64_t e)
{
	(void)pt;
	(void)level;
	return (e & ARM_TYPE_MASK) == ARM_TYPE_TABLE ? PT_ENTRY_TABLE
						      : PT_ENTRY_LEAF;
}

static int arm_mk_leaf(const struct sio_pt *pt, unsigned int level,
		       unsigned int size_lg2, unsigned int prot, uint64_t *bits)
{
	bool dirty = pt->cfg.features & SIO_PT_FEAT_DIRTY;
	uint64_t e = ARM_AF | (level ? ARM_TYPE_BLOCK : ARM_TYPE_TABLE);

	(void)size_lg2;
	if (!(prot & (SIO_PROT_READ | SIO_PROT_WRITE)))
		return -EINVAL;
	if (!arm_s2(pt)) {
		e |= ARM_NG;
		if (!(prot & SIO_PROT_WRITE))
			e |= ARM_AP_RDONLY;
		else if (dirty)
			e |= ARM_DBM | ARM_AP_RDONLY;	/* writable-clean */
		if (!(prot & SIO_PROT_PRIV))
			e |= ARM_AP_UNPRIV;
		if (prot & SIO_PROT_MMIO)
			e |= ARM_MAIR_DEV << ARM_ATTRIDX_SHIFT;
		else if (prot & SIO_PROT_CACHE)
			e |= ARM_MAIR_CACHE << ARM_ATTRIDX_SHIFT;
	} else {
		if (prot & SIO_PROT_READ)
			e |= ARM_S2AP_R;
		if (prot & SIO_PROT_WRITE)
			e |= dirty ? ARM_DBM : ARM_S2AP_W;
		if (prot & SIO_PROT_MMIO)
			e |= ARM_MEMATTR_DEV;
		else if (prot & SIO_PROT_CACHE)
			e |= ARM_MEMATTR_OIWB;
		else
			e |= ARM_MEMATTR_NC;
	}
	e |= (prot & SIO_PROT_CACHE) ? ARM_SH_IS : ARM_SH_OS;
	if (prot & SIO_PROT_NOEXEC)
		e |= ARM_XN;
	*bits = e;
	return 0;
}

static unsigned int arm_leaf_prot(const struct sio_pt *pt, uint64_t e)
{
	unsigned int prot = 0;

	if (!arm_s2(pt)) {
		uint64_t idx = (e & ARM_ATTRIDX_MASK) >> ARM_ATTRIDX_SHIFT;

		prot |= SIO_PROT_READ;
		if (!(e & ARM_AP_RDONLY) || (e & ARM_DBM))
			prot |= SIO_PROT_WRITE;
		if (!(e & ARM_AP_UNPRIV))
			prot |= SIO_PROT_PRIV;
		if (idx == ARM_MAIR_CACHE)
			prot |= SIO_PROT_CACHE;
		else if (idx == ARM_MAIR_DEV)
			prot |= SIO_PROT_MMIO;
	} else {
		uint64_t attr = e & ARM_MEMATTR_MASK;

		if (e & ARM_S2AP_R)
			prot |= SIO_PROT_READ;
		if (e & (ARM_S2AP_W | ARM_DBM))
			prot |= SIO_PROT_WRITE;
		if (attr == ARM_MEMATTR_OIWB)
			prot |= SIO_PROT_CACHE;
		else if (attr == ARM_MEMATTR_DEV)
			prot |= SIO_PROT_MMIO;
	}
	if (e & ARM_XN)
		prot |= SIO_PROT_NOEXEC;
	return prot;
}

static bool arm_is_dirty(const struct sio_pt *pt, uint64_t e)
{
	if (!(e & ARM_DBM))
		return false;
	return arm_s2(pt) ? (e & ARM_S2AP_W) != 0 : !(e & ARM_AP_RDONLY);
}

static uint64_t arm_mk_clean(const struct sio_pt *pt, uint64_t e)
{
	if (!(e & ARM_DBM))
		return e;
	return arm_s2(pt) ? e & ~ARM_S2AP_W : e | ARM_AP_RDONLY;
}

static uint64_t arm_mk_dirty(const struct sio_pt *pt, uint64_t e)
{
	/* D8.4.6: with DBM set, a write makes the descriptor writable
	 * instead of faulting. */
	if (!(e & ARM_DBM))
		return e;
	return arm_s2(pt) ? e | ARM_S2AP_W : e & ~ARM_AP_RDONLY;
}

const struct pt_fmt pt_fmt_arm_lpae_s1 = {
	.name = "arm_lpae_s1",
	.init = arm_init_s1,
	.classify = arm_classify,
	.mk_leaf = arm_mk_leaf,
	.leaf_prot = arm_leaf_prot,
	.is_dirty = arm_is_dirty,
	.mk_clean = arm_mk_clean,
	.mk_dirty = arm_mk_dirty,
};

const struct pt_fmt pt_fmt_arm_lpae_s2 = {
	.name = "arm_lpae_s2",
	.init = arm_init_s2,
	.classify = arm_classify,
	.mk_leaf = arm_mk_leaf,
	.leaf_prot = arm_leaf_prot,
	.is_dirty = arm_is_dirty,
	.mk_clean = arm_mk_clean,
	.mk_dirty = arm_mk_dirty,
};
