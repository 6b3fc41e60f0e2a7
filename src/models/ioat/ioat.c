/*
 * The Intel I/OAT function (a Skylake-SP CBDMA function: one DMA channel),
 * written against softiommu/pci.h like any embedder's model.
 *
 * This file is the function: its PCI description (IDs, a 16 KiB 64-bit
 * BAR0 with the MSI-X table at 0x2000 and the PBA at 0x3000, one vector,
 * INTx, PCI Express), its device-specific config registers, the device
 * register block at BAR0 + 0x00 and the interrupt logic the channel
 * reaches through ioat_signal().  channel.c holds the channel.
 *
 * Register accesses are split by byte lanes over a table of registers,
 * so an access of any size and alignment the library lets through
 * reaches each register it covers exactly once, with the bits it wrote:
 * a 4-byte write to one half of a 64-bit register merges into it, an
 * 8-byte write across CHANCTRL, CHANCMD and DMACOUNT reaches each of the
 * three in address order, holes read 0 and ignore writes.
 *
 * The ops run under the function's lock, possibly inside the MMIO trap of
 * the thread that stored to the BAR: nothing here allocates, prints or
 * blocks.
 */
#include <stdlib.h>
#include <string.h>

#include "models/ioat/ioat_private.h"
#include "util/error.h"
#include "util/fail.h"

struct ioat_reg {
	uint8_t off;
	uint8_t width;
};

static const struct ioat_reg dev_regs[] = {
	{ IOAT_REG_CHANCNT, 1 },	{ IOAT_REG_XFERCAP, 1 },
	{ IOAT_REG_GENCTRL, 1 },	{ IOAT_REG_INTRCTRL, 1 },
	{ IOAT_REG_ATTNSTATUS, 4 },	{ IOAT_REG_VER, 1 },
	{ IOAT_REG_PERPORTOFFSET, 2 },	{ IOAT_REG_INTRDELAY, 2 },
	{ IOAT_REG_DEVSTS, 2 },		{ IOAT_REG_DMACAP, 4 },
	{ IOAT_REG_DCAOFFSET, 2 },
};

static const struct ioat_reg chan_regs[] = {
	{ IOAT_CH_CHANCTRL, 2 },	{ IOAT_CH_CHANCMD, 1 },
	{ IOAT_CH_DMACOUNT, 2 },	{ IOAT_CH_CHANSTS, 8 },
	{ IOAT_CH_CHAINADDR, 8 },	{ IOAT_CH_CHANCMP, 8 },
	{ IOAT_CH_CDAR, 8 },		{ IOAT_CH_CHANERR, 4 },
	{ IOAT_CH_CHANERR_MASK, 4 },	{ IOAT_CH_DCACTRL, 4 },
};

#define NREGS(t) (sizeof(t) / sizeof((t)[0]))

static const struct sio_pci_model_ops ioat_ops;

static struct ioat *to_ioat(struct sio_pci_dev *pdev)
{
	return sio_pci_dev_priv(pdev);
}

static uint64_t lanes(unsigned int bytes)
{
	return bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1;
}

/* ------------------------------------------------------------------ */
/* Interrupts                                                           */
/* ------------------------------------------------------------------ */

/*
 * The channel's interrupt.  ATTNSTATUS records it for a driver that
 * shares one vector (MSI, INTx); the vector goes out if the driver
 * enabled interrupts in INTRCTRL, either the master enable (single vector)
 * or the per-channel MSI-X vector control (the VFIO selftest sets only
 * that one).  Whichever kind the host enabled carries it: vector 0 is the
 * channel's MSI-X vector, or the function's MSI or INTx.
 */
void ioat_signal(struct ioat *s)
{
	s->attnstatus |= 1u;
	s->stats.irqs++;
	if (s->intrctrl & (IOAT_INTRCTRL_MASTER_EN | IOAT_INTRCTRL_MSIX_VECCTL))
		sio_pci_model_irq(s->pdev, 0);
}

/* ------------------------------------------------------------------ */
/* Device registers                                                     */
/* ------------------------------------------------------------------ */

static uint64_t dev_read(struct ioat *s, unsigned int off)
{
	uint8_t v;

	switch (off) {
	case IOAT_REG_CHANCNT:
		return IOAT_CHANCNT;
	case IOAT_REG_XFERCAP:
		return IOAT_XFERCAP_LOG2;
	case IOAT_REG_GENCTRL:
		return s->genctrl;
	case IOAT_REG_INTRCTRL:
		v = s->intrctrl;
		if (s->attnstatus) {
			v |= IOAT_INTRCTRL_STATUS;
			if (s->intrctrl & IOAT_INTRCTRL_MASTER_EN)
				v |= IOAT_INTRCTRL_INT;
		}
		return v;
	case IOAT_REG_ATTNSTATUS: {
		/* Reading acknowledges: the single-vector handler reads it
		 * once per interrupt to learn which channels want service. */
		uint32_t a = s->attnstatus;

		s->attnstatus = 0;
		return a;
	}
	case IOAT_REG_VER:
		return IOAT_VERSION;
	case IOAT_REG_PERPORTOFFSET:
		return IOAT_CHAN_BASE;
	case IOAT_REG_INTRDELAY:
		return s->intrdelay;	/* no coalescing support bit */
	case IOAT_REG_DMACAP:
		/* memcpy and NULL descriptors need no capability bit; no
		 * XOR, P+Q, CRC, fill, DCA or descriptor write-back. */
		return 0;
	default:	/* DEVSTS, DCAOFFSET */
		return 0;
	}
}

static void dev_write(struct ioat *s, unsigned int off, uint64_t val,
		      uint64_t mask)
{
	switch (off) {
	case IOAT_REG_GENCTRL:
		s->genctrl = (uint8_t)((s->genctrl & ~mask) |
				       (val & mask & IOAT_GENCTRL_DEBUG_EN));
		break;
	case IOAT_REG_INTRCTRL: {
		uint8_t w = IOAT_INTRCTRL_MASTER_EN | IOAT_INTRCTRL_MSIX_VECCTL;

		s->intrctrl = (uint8_t)((s->intrctrl & ~(mask & w)) |
					(val & mask & w));
		break;
	}
	case IOAT_REG_INTRDELAY:
		s->intrdelay = (uint16_t)((s->intrdelay & ~mask) |
					  (val & mask & IOAT_INTRDELAY_MASK));
		break;
	default:	/* read-only */
		break;
	}
}

/* ------------------------------------------------------------------ */
/* BAR0 dispatch                                                        */
/* ------------------------------------------------------------------ */

static uint64_t block_read(struct ioat *s, const struct ioat_reg *regs,
			   size_t n, bool chan, uint64_t off, unsigned int size)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t lo = regs[i].off, hi = lo + regs[i].width, a, b, r;

		if (hi <= off || lo >= off + size)
			continue;
		a = lo > off ? lo : off;
		b = hi < off + size ? hi : off + size;
		r = chan ? ioat_chan_read(s, regs[i].off) :
			   dev_read(s, regs[i].off);
		r = (r >> (8 * (a - lo))) & lanes((unsigned int)(b - a));
		v |= r << (8 * (a - off));
	}
	return v;
}

static void block_write(struct ioat *s, const struct ioat_reg *regs, size_t n,
			bool chan, uint64_t off, unsigned int size,
			uint64_t val)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t lo = regs[i].off, hi = lo + regs[i].width, a, b;
		uint64_t m, v;

		if (hi <= off || lo >= off + size)
			continue;
		a = lo > off ? lo : off;
		b = hi < off + size ? hi : off + size;
		m = lanes((unsigned int)(b - a));
		v = ((val >> (8 * (a - off))) & m) << (8 * (a - lo));
		m <<= 8 * (a - lo);
		if (chan)
			ioat_chan_write(s, regs[i].off, v, m);
		else
			dev_write(s, regs[i].off, v, m);
	}
}

static uint64_t ioat_bar_read(struct sio_pci_dev *pdev, int bar, uint64_t off,
			      unsigned int size)
{
	struct ioat *s = to_ioat(pdev);

	if (bar != 0)
		return 0;
	if (off < IOAT_CHAN_BASE)
		return block_read(s, dev_regs, NREGS(dev_regs), false, off,
				  size);
	if (off < IOAT_CHAN_BASE + IOAT_CHAN_SIZE)
		return block_read(s, chan_regs, NREGS(chan_regs), true,
				  off - IOAT_CHAN_BASE, size);
	return 0;
}

static void ioat_bar_write(struct sio_pci_dev *pdev, int bar, uint64_t off,
			   unsigned int size, uint64_t val)
{
	struct ioat *s = to_ioat(pdev);

	if (bar != 0)
		return;
	if (off < IOAT_CHAN_BASE)
		block_write(s, dev_regs, NREGS(dev_regs), false, off, size,
			    val);
	else if (off < IOAT_CHAN_BASE + IOAT_CHAN_SIZE)
		block_write(s, chan_regs, NREGS(chan_regs), true,
			    off - IOAT_CHAN_BASE, size, val);
}

/* ------------------------------------------------------------------ */
/* Reset, release, creation                                             */
/* ------------------------------------------------------------------ */

/* Power-on state of every model register; the library has restored
 * config space (our declared registers included). */
static void ioat_reset(struct sio_pci_dev *pdev)
{
	struct ioat *s = to_ioat(pdev);

	s->pdev = pdev;		/* the first reset runs inside creation */
	s->genctrl = 0;
	s->intrctrl = 0;
	s->attnstatus = 0;
	s->intrdelay = 0;
	ioat_chan_reset(s);
}

static void ioat_release(struct sio_pci_dev *pdev)
{
	free(to_ioat(pdev));
}

static const struct sio_pci_model_ops ioat_ops = {
	.bar_read = ioat_bar_read,
	.bar_write = ioat_bar_write,
	.reset = ioat_reset,
	.release = ioat_release,
};

/* The device-specific config registers; part of the power-on image, so
 * a function-level reset restores them too. */
static const struct sio_pci_config_reg ioat_config_regs[] = {
	{ IOAT_CFG_DMACTRL, 4, 0, IOAT_DMACTRL_DMA_EN | IOAT_DMACTRL_MSI_EN, 0 },
	{ IOAT_CFG_DMAUNCERRSTS, 4, 0, 0, ~0u },
	{ IOAT_CFG_CHANERR_INT, 4, 0, 0, IOAT_CHANERR_ALL },
	{ IOAT_CFG_CHANERRMSK_INT, 4, 0, IOAT_CHANERR_ALL, 0 },
};

SIO_API int sio_ioat_create(struct sio_iommu *iommu, uint32_t bdf,
			    struct sio_pci_dev **out)
{
	struct sio_pci_dev_desc desc = {
		.model = "ioat",
		.bdf = bdf,
		.vendor_id = IOAT_PCI_VENDOR,
		.device_id = IOAT_PCI_DEVICE_SKX,
		.subsystem_vendor_id = IOAT_PCI_SUBSYS_VENDOR,
		.subsystem_id = IOAT_PCI_SUBSYS,
		.class_code = IOAT_PCI_CLASS,
		.revision = IOAT_PCI_REVISION,
		.bars[0] = { .size = IOAT_BAR0_SIZE,
			     .flags = SIO_PCI_BAR_MEM64 },
		.msix_vectors = IOAT_MSIX_VECTORS,
		.msix_bar = 0,
		.msix_table_offset = IOAT_MSIX_TABLE,
		.msix_pba_offset = IOAT_MSIX_PBA,
		.pcie = true,
		.intx = true,
		.config_regs = ioat_config_regs,
		.nconfig_regs = sizeof(ioat_config_regs) /
				sizeof(ioat_config_regs[0]),
		.ops = &ioat_ops,
	};
	struct sio_pci_dev *pdev;
	struct ioat *s;
	int rc;

	if (!iommu || !out)
		return sio_err(-EINVAL, "ioat: create: missing argument");
	s = sio_calloc(1, sizeof(*s));
	if (!s)
		return sio_err(-ENOMEM, "ioat: create");
	desc.priv = s;
	rc = sio_pci_dev_create(iommu, &desc, &pdev);
	if (rc) {
		free(s);
		return rc;
	}
	*out = pdev;
	return 0;
}

int ioat_stats_get(struct sio_pci_dev *pdev, struct ioat_stats *out)
{
	if (!pdev || !out || sio_pci_dev_desc(pdev)->ops != &ioat_ops)
		return sio_err(-EINVAL, "ioat: not an I/OAT function");
	sio_pci_model_lock(pdev);
	*out = to_ioat(pdev)->stats;
	sio_pci_model_unlock(pdev);
	return 0;
}
