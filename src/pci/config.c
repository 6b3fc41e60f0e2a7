/*
 * Config space of an emulated PCI function: the type 0 header, the
 * standard capabilities and the write rule.
 *
 * pci_config_build() lays out the header from the model's description and
 * chains the capabilities the function has (PCI Express with FLR, MSI-X,
 * MSI, power management; PASID in extended space), filling the power-on
 * image and the masks.  A host write then needs one rule for every byte:
 * the bits in wmask take the written value, the bits in w1c clear where a
 * 1 is written, all others keep theirs.  BAR sizing is that rule too: a
 * BAR's wmask covers only its address bits above its size, so writing all
 * ones reads back the size mask with the type bits, as on hardware.
 *
 * What needs more than the rule (FLR, MSI/MSI-X control and masks) is
 * handled after the bytes are written, in pci_config_host_write().
 */
#include <linux/pci_regs.h>
#include <string.h>

#include "pci/pci_private.h"

uint32_t pci_cfg_get(const struct sio_pci_dev *pdev, uint32_t off,
		     unsigned int size)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < size; i++)
		v |= (uint32_t)pdev->cfg[off + i] << (8 * i);
	return v;
}

void pci_cfg_put(struct sio_pci_dev *pdev, uint32_t off, unsigned int size,
		 uint32_t val)
{
	for (unsigned int i = 0; i < size; i++)
		pdev->cfg[off + i] = (uint8_t)(val >> (8 * i));
}

/* Set a register's power-on value and masks (bytes, little endian). */
static void reg(struct sio_pci_dev *pdev, uint32_t off, unsigned int size,
		uint32_t init, uint32_t wmask, uint32_t w1c)
{
	for (unsigned int i = 0; i < size; i++) {
		pdev->init[off + i] = (uint8_t)(init >> (8 * i));
		pdev->wmask[off + i] = (uint8_t)(wmask >> (8 * i));
		pdev->w1c[off + i] = (uint8_t)(w1c >> (8 * i));
	}
}

static void build_header(struct sio_pci_dev *pdev)
{
	const struct sio_pci_dev_desc *d = &pdev->desc;
	uint16_t cmd_mask = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			    PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
			    PCI_COMMAND_INTX_DISABLE;

	for (int i = 0; i < SIO_PCI_NUM_BARS; i++)
		if (d->bars[i].size && (d->bars[i].flags & SIO_PCI_BAR_IO))
			cmd_mask |= PCI_COMMAND_IO;
	reg(pdev, PCI_VENDOR_ID, 2, d->vendor_id, 0, 0);
	reg(pdev, PCI_DEVICE_ID, 2, d->device_id, 0, 0);
	reg(pdev, PCI_COMMAND, 2, 0, cmd_mask, 0);
	/* Error bits are write-1-to-clear; the capability list bit is
	 * read-only and set because every function here has one. */
	reg(pdev, PCI_STATUS, 2, PCI_STATUS_CAP_LIST, 0,
	    PCI_STATUS_DETECTED_PARITY | PCI_STATUS_SIG_SYSTEM_ERROR |
	    PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_REC_TARGET_ABORT |
	    PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_PARITY);
	reg(pdev, PCI_REVISION_ID, 1, d->revision, 0, 0);
	reg(pdev, PCI_CLASS_PROG, 1, d->class_code & 0xff, 0, 0);
	reg(pdev, PCI_CLASS_DEVICE, 2, (d->class_code >> 8) & 0xffff, 0, 0);
	reg(pdev, PCI_CACHE_LINE_SIZE, 1, 0, 0xff, 0);
	reg(pdev, PCI_LATENCY_TIMER, 1, 0, 0xff, 0);
	reg(pdev, PCI_HEADER_TYPE, 1, PCI_HEADER_TYPE_NORMAL, 0, 0);
	reg(pdev, PCI_SUBSYSTEM_VENDOR_ID, 2, d->subsystem_vendor_id, 0, 0);
	reg(pdev, PCI_SUBSYSTEM_ID, 2, d->subsystem_id, 0, 0);
	reg(pdev, PCI_INTERRUPT_LINE, 1, 0, 0xff, 0);
	reg(pdev, PCI_INTERRUPT_PIN, 1, d->intx ? 1 : 0, 0, 0);

	for (int i = 0; i < SIO_PCI_NUM_BARS; i++) {
		const struct sio_pci_bar_desc *b = &d->bars[i];
		uint32_t off = PCI_BASE_ADDRESS_0 + 4 * (uint32_t)i;
		uint64_t addr_mask = ~(b->size - 1);
		uint32_t type;

		if (!b->size)
			continue;
		if (b->flags & SIO_PCI_BAR_IO) {
			reg(pdev, off, 4, PCI_BASE_ADDRESS_SPACE_IO,
			    (uint32_t)addr_mask & PCI_BASE_ADDRESS_IO_MASK, 0);
			continue;
		}
		type = (b->flags & SIO_PCI_BAR_MEM64) ?
			       PCI_BASE_ADDRESS_MEM_TYPE_64 : 0;
		if (b->flags & SIO_PCI_BAR_PREFETCH)
			type |= PCI_BASE_ADDRESS_MEM_PREFETCH;
		reg(pdev, off, 4, type,
		    (uint32_t)addr_mask & PCI_BASE_ADDRESS_MEM_MASK, 0);
		if (b->flags & SIO_PCI_BAR_MEM64) {
			reg(pdev, off + 4, 4, 0, (uint32_t)(addr_mask >> 32), 0);
			i++;
		}
	}
}

/* Chain capability id at off after *prev (the pointer byte to fill). */
static void chain(struct sio_pci_dev *pdev, uint32_t *prev, uint8_t id,
		  uint32_t off)
{
	pdev->init[*prev] = (uint8_t)off;
	pdev->init[off] = id;
	pdev->init[off + 1] = 0;
	*prev = off + 1;
}

static unsigned int log2u(unsigned int v)
{
	unsigned int l = 0;

	while ((1u << l) < v)
		l++;
	return l;
}

static void build_caps(struct sio_pci_dev *pdev)
{
	const struct sio_pci_dev_desc *d = &pdev->desc;
	uint32_t prev = PCI_CAPABILITY_LIST;

	if (d->pcie) {
		uint32_t c = PCI_CAP_PCIE_OFF;

		chain(pdev, &prev, PCI_CAP_ID_EXP, c);
		reg(pdev, c + PCI_EXP_FLAGS, 2,
		    2 | (PCI_EXP_TYPE_ENDPOINT << 4), 0, 0);
		/* Function-level reset, 256-byte max payload. */
		reg(pdev, c + PCI_EXP_DEVCAP, 4, PCI_EXP_DEVCAP_FLR | 1, 0, 0);
		/* Device control: the usual enables are plain RW; writing
		 * the FLR bit starts a reset and it reads back 0. */
		reg(pdev, c + PCI_EXP_DEVCTL, 2, 0x2810,
		    0x7fff | PCI_EXP_DEVCTL_BCR_FLR, 0);
		reg(pdev, c + PCI_EXP_DEVSTA, 2, 0, 0, 0x000f);
		/* Link: x1 at 2.5 GT/s, up. */
		reg(pdev, c + PCI_EXP_LNKCAP, 4, 0x11 | (1u << 4), 0, 0);
		reg(pdev, c + PCI_EXP_LNKCTL, 2, 0, 0x0fff, 0);
		reg(pdev, c + PCI_EXP_LNKSTA, 2, 0x11, 0, 0);
		reg(pdev, c + PCI_EXP_DEVCAP2, 4, 0, 0, 0);
		reg(pdev, c + PCI_EXP_DEVCTL2, 2, 0, 0x041f, 0);
	}
	if (d->msix_vectors) {
		uint32_t c = PCI_CAP_MSIX_OFF;

		chain(pdev, &prev, PCI_CAP_ID_MSIX, c);
		reg(pdev, c + PCI_MSIX_FLAGS, 2, d->msix_vectors - 1,
		    PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL, 0);
		reg(pdev, c + PCI_MSIX_TABLE, 4,
		    (uint32_t)d->msix_table_offset | (uint32_t)d->msix_bar, 0, 0);
		reg(pdev, c + PCI_MSIX_PBA, 4,
		    (uint32_t)d->msix_pba_offset | (uint32_t)d->msix_bar, 0, 0);
	}
	if (d->msi_vectors) {
		uint32_t c = PCI_CAP_MSI_OFF;

		chain(pdev, &prev, PCI_CAP_ID_MSI, c);
		reg(pdev, c + PCI_MSI_FLAGS, 2,
		    PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT |
			    (log2u(d->msi_vectors) << 1),
		    PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE, 0);
		reg(pdev, c + PCI_MSI_ADDRESS_LO, 4, 0, 0xfffffffc, 0);
		reg(pdev, c + PCI_MSI_ADDRESS_HI, 4, 0, 0xffffffff, 0);
		reg(pdev, c + PCI_MSI_DATA_64, 2, 0, 0xffff, 0);
		reg(pdev, c + PCI_MSI_MASK_64, 4, 0,
		    d->msi_vectors >= 32 ? 0xffffffff :
					   (1u << d->msi_vectors) - 1, 0);
		reg(pdev, c + PCI_MSI_PENDING_64, 4, 0, 0, 0);
	}
	{
		uint32_t c = PCI_CAP_PM_OFF;

		chain(pdev, &prev, PCI_CAP_ID_PM, c);
		reg(pdev, c + PCI_PM_PMC, 2, 3, 0, 0);	/* version 3 */
		/* D0..D3hot selectable; no reset on D3hot -> D0. */
		reg(pdev, c + PCI_PM_CTRL, 2, PCI_PM_CTRL_NO_SOFT_RESET,
		    PCI_PM_CTRL_STATE_MASK, PCI_PM_CTRL_PME_STATUS);
	}
	if (d->pcie && d->pasid_bits) {
		uint32_t c = PCI_EXT_CAP_OFF;

		/* Extended header: id, version 1, next 0. */
		reg(pdev, c, 4, PCI_EXT_CAP_ID_PASID | (1u << 16), 0, 0);
		reg(pdev, c + PCI_PASID_CAP, 2, (d->pasid_bits & 0x1f) << 8, 0, 0);
		reg(pdev, c + PCI_PASID_CTRL, 2, 0, PCI_PASID_CTRL_ENABLE, 0);
	}
}

void pci_config_build(struct sio_pci_dev *pdev)
{
	memset(pdev->init, 0, sizeof(pdev->init));
	memset(pdev->wmask, 0, sizeof(pdev->wmask));
	memset(pdev->w1c, 0, sizeof(pdev->w1c));
	memset(pdev->owned, 0, sizeof(pdev->owned));
	build_header(pdev);
	build_caps(pdev);
	/* The library's registers end before 0x40 and inside the capability
	 * blocks: mark them so a model cannot declare over them. */
	memset(pdev->owned, 1, 0x40);
	if (pdev->desc.pcie)
		memset(pdev->owned + PCI_CAP_PCIE_OFF, 1, PCI_EXP_DEVCTL2 + 2);
	if (pdev->desc.msix_vectors)
		memset(pdev->owned + PCI_CAP_MSIX_OFF, 1, 12);
	if (pdev->desc.msi_vectors)
		memset(pdev->owned + PCI_CAP_MSI_OFF, 1, 24);
	memset(pdev->owned + PCI_CAP_PM_OFF, 1, 8);
	if (pdev->desc.pcie && pdev->desc.pasid_bits)
		memset(pdev->owned + PCI_EXT_CAP_OFF, 1, 8);
	pci_config_restore(pdev);
}

void pci_config_restore(struct sio_pci_dev *pdev)
{
	memcpy(pdev->cfg, pdev->init, sizeof(pdev->cfg));
}

void pci_config_host_write(struct sio_pci_dev *pdev, uint32_t off,
			   unsigned int size, uint32_t val)
{
	for (unsigned int i = 0; i < size; i++) {
		uint8_t v = (uint8_t)(val >> (8 * i));
		uint8_t *b = &pdev->cfg[off + i];

		*b = (uint8_t)((*b & ~pdev->wmask[off + i]) |
			       (v & pdev->wmask[off + i]));
		*b &= (uint8_t)~(v & pdev->w1c[off + i]);
	}
}

SIO_API int sio_pci_model_config_reg(struct sio_pci_dev *pdev, uint32_t off,
				     unsigned int size, uint32_t init,
				     uint32_t wmask, uint32_t w1c)
{
	if (!pdev || !pci_size_ok(size, 4) || off % size ||
	    off + size > pdev->cfg_size)
		return sio_err(-EINVAL, "pci: config register %#x/%u", off, size);
	for (unsigned int i = 0; i < size; i++)
		if (pdev->owned[off + i])
			return sio_err(-EBUSY, "pci: config %#x is taken", off);
	reg(pdev, off, size, init, wmask, w1c);
	memset(pdev->owned + off, 1, size);
	pci_cfg_put(pdev, off, size, init);
	return 0;
}

SIO_API void sio_pci_model_config_set(struct sio_pci_dev *pdev, uint32_t off,
				      unsigned int size, uint32_t val)
{
	if (pci_size_ok(size, 4) && off + size <= pdev->cfg_size)
		pci_cfg_put(pdev, off, size, val);
}

SIO_API uint32_t sio_pci_model_config_get(struct sio_pci_dev *pdev,
					  uint32_t off, unsigned int size)
{
	if (!pci_size_ok(size, 4) || off + size > pdev->cfg_size)
		return 0;
	return pci_cfg_get(pdev, off, size);
}
