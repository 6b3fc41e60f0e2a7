/*
 * Interrupts of an emulated PCI function: the MSI-X table and PBA, MSI
 * masks, and delivery to the host's sink.
 *
 * Who enables what follows VFIO: the host (the VFIO layer, acting as the
 * kernel's PCI core does for vfio-pci) says which kind of interrupt it
 * enabled and how many vectors (sio_pci_irq_set_mode), which sets the
 * enable bits in config space and unmasks the vectors in the MSI-X table,
 * as the kernel's MSI-X setup writes them; with MSI-X already on it only
 * adds vectors.  The model raises vectors;
 * masking is the function's own: a vector masked in the table, or all of
 * them by the MSI-X function mask, or an MSI vector by its mask bit, is
 * held pending (the PBA bit, the MSI pending bit) and delivered once the
 * mask clears.  INTx is delivered unless the command register disables it.
 *
 * Every function here runs under pdev->lock.
 */
#include <linux/pci_regs.h>
#include <string.h>

#include "pci/pci_private.h"

static uint32_t msix_ctrl_off(void)
{
	return PCI_CAP_MSIX_OFF + PCI_MSIX_FLAGS;
}

static bool msix_vector_masked(const struct sio_pci_dev *pdev, unsigned int v)
{
	const uint8_t *e = pdev->msix_table + 16 * v;

	return e[PCI_MSIX_ENTRY_VECTOR_CTRL] & PCI_MSIX_ENTRY_CTRL_MASKBIT;
}

static bool msix_function_masked(const struct sio_pci_dev *pdev)
{
	return pci_cfg_get(pdev, msix_ctrl_off(), 2) & PCI_MSIX_FLAGS_MASKALL;
}

static void pba_set(struct sio_pci_dev *pdev, unsigned int v, bool on)
{
	if (on)
		pdev->msix_pba[v / 64] |= 1ull << (v % 64);
	else
		pdev->msix_pba[v / 64] &= ~(1ull << (v % 64));
}

static bool pba_test(const struct sio_pci_dev *pdev, unsigned int v)
{
	return pdev->msix_pba[v / 64] & (1ull << (v % 64));
}

static void deliver(struct sio_pci_dev *pdev, enum sio_pci_irq_type type,
		    unsigned int v)
{
	if (pdev->sink.signal)
		pdev->sink.signal(pdev->sink.opaque, type, v);
}

static uint32_t msi_mask(const struct sio_pci_dev *pdev)
{
	return pci_cfg_get(pdev, PCI_CAP_MSI_OFF + PCI_MSI_MASK_64, 4);
}

void pci_irq_reset(struct sio_pci_dev *pdev)
{
	unsigned int n = pdev->desc.msix_vectors;

	/* Power-on: every MSI-X vector masked, nothing pending. */
	if (n) {
		memset(pdev->msix_table, 0, 16 * (size_t)n);
		for (unsigned int v = 0; v < n; v++)
			pdev->msix_table[16 * v + PCI_MSIX_ENTRY_VECTOR_CTRL] =
				PCI_MSIX_ENTRY_CTRL_MASKBIT;
		memset(pdev->msix_pba, 0, 8 * (((size_t)n + 63) / 64));
	}
	pdev->msi_pending = 0;
	pdev->irq_mode = SIO_PCI_IRQ_NONE;
	pdev->irq_vectors = 0;
}

bool pci_msix_covers(const struct sio_pci_dev *pdev, int bar, uint64_t off,
		     unsigned int size)
{
	const struct sio_pci_dev_desc *d = &pdev->desc;
	uint64_t n = d->msix_vectors;

	if (!n || bar != d->msix_bar)
		return false;
	if (off + size > d->msix_table_offset &&
	    off < d->msix_table_offset + 16 * n)
		return true;
	return off + size > d->msix_pba_offset &&
	       off < d->msix_pba_offset + 8 * ((n + 63) / 64);
}

/* Byte view of the table and PBA at a BAR offset, or NULL for a hole. */
static uint8_t *msix_byte(struct sio_pci_dev *pdev, uint64_t off)
{
	const struct sio_pci_dev_desc *d = &pdev->desc;
	uint64_t n = d->msix_vectors;

	if (off >= d->msix_table_offset && off < d->msix_table_offset + 16 * n)
		return pdev->msix_table + (off - d->msix_table_offset);
	if (off >= d->msix_pba_offset &&
	    off < d->msix_pba_offset + 8 * ((n + 63) / 64))
		return (uint8_t *)pdev->msix_pba + (off - d->msix_pba_offset);
	return NULL;
}

uint64_t pci_msix_read(struct sio_pci_dev *pdev, uint64_t off,
		       unsigned int size)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < size; i++) {
		uint8_t *b = msix_byte(pdev, off + i);

		if (b)
			v |= (uint64_t)*b << (8 * i);
	}
	return v;
}

/* Deliver the pending MSI-X vectors that are no longer masked. */
static void msix_flush_pending(struct sio_pci_dev *pdev)
{
	if (pdev->irq_mode != SIO_PCI_IRQ_MSIX || msix_function_masked(pdev))
		return;
	for (unsigned int v = 0; v < pdev->irq_vectors; v++) {
		if (pba_test(pdev, v) && !msix_vector_masked(pdev, v)) {
			pba_set(pdev, v, false);
			deliver(pdev, SIO_PCI_IRQ_MSIX, v);
		}
	}
}

void pci_msix_write(struct sio_pci_dev *pdev, uint64_t off, unsigned int size,
		    uint64_t val)
{
	const struct sio_pci_dev_desc *d = &pdev->desc;

	for (unsigned int i = 0; i < size; i++) {
		uint64_t o = off + i;

		/* The PBA is read-only. */
		if (o < d->msix_table_offset ||
		    o >= d->msix_table_offset + 16ull * d->msix_vectors)
			continue;
		/* Of the vector control word only the mask bit is writable. */
		if ((o - d->msix_table_offset) % 16 ==
		    PCI_MSIX_ENTRY_VECTOR_CTRL) {
			uint8_t *b = msix_byte(pdev, o);

			*b = (uint8_t)((val >> (8 * i)) &
				       PCI_MSIX_ENTRY_CTRL_MASKBIT);
		} else if ((o - d->msix_table_offset) % 16 <
			   PCI_MSIX_ENTRY_VECTOR_CTRL) {
			*msix_byte(pdev, o) = (uint8_t)(val >> (8 * i));
		}
	}
	msix_flush_pending(pdev);
}

void pci_irq_config_changed(struct sio_pci_dev *pdev)
{
	if (pdev->irq_mode == SIO_PCI_IRQ_MSIX) {
		msix_flush_pending(pdev);
	} else if (pdev->irq_mode == SIO_PCI_IRQ_MSI && pdev->msi_pending) {
		uint32_t ready = pdev->msi_pending & ~msi_mask(pdev);

		pdev->msi_pending &= ~ready;
		pci_cfg_put(pdev, PCI_CAP_MSI_OFF + PCI_MSI_PENDING_64, 4,
			    pdev->msi_pending);
		for (unsigned int v = 0; ready; v++, ready >>= 1)
			if (ready & 1)
				deliver(pdev, SIO_PCI_IRQ_MSI, v);
	}
}

int pci_irq_raise(struct sio_pci_dev *pdev, unsigned int vector)
{
	switch (pdev->irq_mode) {
	case SIO_PCI_IRQ_NONE:
		return -ENODEV;
	case SIO_PCI_IRQ_INTX:
		if (vector)
			return -EINVAL;
		if (pci_cfg_get(pdev, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE)
			return 1;
		pdev->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
		deliver(pdev, SIO_PCI_IRQ_INTX, 0);
		return 0;
	case SIO_PCI_IRQ_MSI:
		if (vector >= pdev->irq_vectors)
			return -EINVAL;
		if (msi_mask(pdev) & (1u << vector)) {
			pdev->msi_pending |= 1u << vector;
			pci_cfg_put(pdev, PCI_CAP_MSI_OFF + PCI_MSI_PENDING_64,
				    4, pdev->msi_pending);
			return 1;
		}
		deliver(pdev, SIO_PCI_IRQ_MSI, vector);
		return 0;
	case SIO_PCI_IRQ_MSIX:
		if (vector >= pdev->irq_vectors)
			return -EINVAL;
		if (msix_function_masked(pdev) ||
		    msix_vector_masked(pdev, vector)) {
			pba_set(pdev, vector, true);
			return 1;
		}
		deliver(pdev, SIO_PCI_IRQ_MSIX, vector);
		return 0;
	}
	return -EINVAL;
}

SIO_API void sio_pci_irq_connect(struct sio_pci_dev *pdev,
				 const struct sio_pci_irq_sink *sink)
{
	pthread_mutex_lock(&pdev->lock);
	if (sink)
		pdev->sink = *sink;
	else
		memset(&pdev->sink, 0, sizeof(pdev->sink));
	pthread_mutex_unlock(&pdev->lock);
}

static void set_enable_bits(struct sio_pci_dev *pdev,
			    enum sio_pci_irq_type type, unsigned int n)
{
	const struct sio_pci_dev_desc *d = &pdev->desc;

	if (d->msix_vectors) {
		uint32_t c = pci_cfg_get(pdev, msix_ctrl_off(), 2);
		/* MSI-X already on: vectors are added, as the kernel's dynamic
		 * MSI-X allocation does, leaving the function mask and the
		 * vectors already there as they are. */
		bool grow = pdev->irq_mode == SIO_PCI_IRQ_MSIX &&
			    type == SIO_PCI_IRQ_MSIX;
		unsigned int first = grow ? pdev->irq_vectors : 0;

		if (!grow)
			c &= ~(uint32_t)(PCI_MSIX_FLAGS_ENABLE |
					 PCI_MSIX_FLAGS_MASKALL);
		if (type == SIO_PCI_IRQ_MSIX)
			c |= PCI_MSIX_FLAGS_ENABLE;
		pci_cfg_put(pdev, msix_ctrl_off(), 2, c);
		for (unsigned int v = first; type == SIO_PCI_IRQ_MSIX && v < n; v++)
			pdev->msix_table[16 * v + PCI_MSIX_ENTRY_VECTOR_CTRL] &=
				(uint8_t)~PCI_MSIX_ENTRY_CTRL_MASKBIT;
		if (type != SIO_PCI_IRQ_MSIX)
			memset(pdev->msix_pba, 0,
			       8 * (((size_t)d->msix_vectors + 63) / 64));
	}
	if (d->msi_vectors) {
		uint32_t off = PCI_CAP_MSI_OFF + PCI_MSI_FLAGS;
		uint32_t c = pci_cfg_get(pdev, off, 2);

		c &= ~(uint32_t)(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
		if (type == SIO_PCI_IRQ_MSI) {
			unsigned int l = 0;

			while ((1u << l) < n)
				l++;
			c |= PCI_MSI_FLAGS_ENABLE | (l << 4);
		}
		pci_cfg_put(pdev, off, 2, c);
		pdev->msi_pending = 0;
		pci_cfg_put(pdev, PCI_CAP_MSI_OFF + PCI_MSI_PENDING_64, 4, 0);
	}
}

SIO_API int sio_pci_irq_set_mode(struct sio_pci_dev *pdev,
				 enum sio_pci_irq_type type,
				 unsigned int nvectors)
{
	const struct sio_pci_dev_desc *d;
	unsigned int max;

	if (!pdev)
		return sio_err(-EINVAL, "pci: irq mode: no function");
	d = &pdev->desc;
	switch (type) {
	case SIO_PCI_IRQ_NONE:
		max = 0;
		nvectors = 0;
		break;
	case SIO_PCI_IRQ_INTX:
		max = d->intx ? 1 : 0;
		break;
	case SIO_PCI_IRQ_MSI:
		max = d->msi_vectors;
		break;
	case SIO_PCI_IRQ_MSIX:
		max = d->msix_vectors;
		break;
	default:
		return sio_err(-EINVAL, "pci: irq mode %d", (int)type);
	}
	if (type != SIO_PCI_IRQ_NONE && (!nvectors || nvectors > max))
		return sio_err(-EINVAL, "pci: %u vectors of %u", nvectors, max);
	pthread_mutex_lock(&pdev->lock);
	set_enable_bits(pdev, type, nvectors);
	pdev->irq_mode = type;
	pdev->irq_vectors = nvectors;
	pthread_mutex_unlock(&pdev->lock);
	return 0;
}

SIO_API enum sio_pci_irq_type sio_pci_irq_mode(struct sio_pci_dev *pdev,
					       unsigned int *nvectors)
{
	enum sio_pci_irq_type t;

	pthread_mutex_lock(&pdev->lock);
	t = pdev->irq_mode;
	if (nvectors)
		*nvectors = pdev->irq_vectors;
	pthread_mutex_unlock(&pdev->lock);
	return t;
}

SIO_API int sio_pci_model_irq(struct sio_pci_dev *pdev, unsigned int vector)
{
	return pci_irq_raise(pdev, vector);
}

SIO_API void sio_pci_model_intx_deassert(struct sio_pci_dev *pdev)
{
	pdev->cfg[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
}

SIO_API enum sio_pci_irq_type sio_pci_model_irq_mode(struct sio_pci_dev *pdev,
						     unsigned int *nvectors)
{
	if (nvectors)
		*nvectors = pdev->irq_vectors;
	return pdev->irq_mode;
}
