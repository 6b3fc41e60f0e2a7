/*
 * Emulated PCI functions: creation, references, the host's accessors and
 * the model's DMA.
 *
 * A function is probed as a core device named by its BDF, with the BDF's
 * bus:devfn as requester ID, so the IOMMU groups and translates it as any
 * device.  The host's accessors take the function's lock and route each
 * access: config space to the masks of config.c (then to the model's hook
 * and to the reactions PCI defines: FLR, MSI/MSI-X masks), BAR accesses to
 * the MSI-X table and PBA (irq.c) or to the model's ops.
 */
#include <linux/pci_regs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pci/pci_private.h"
#include "softiommu/device.h"
#include "util/fail.h"

SIO_API char *sio_pci_bdf_format(uint32_t bdf, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%x", SIO_PCI_BDF_SEG(bdf),
		 SIO_PCI_BDF_BUS(bdf), SIO_PCI_BDF_DEV(bdf), SIO_PCI_BDF_FN(bdf));
	return buf;
}

SIO_API int sio_pci_bdf_parse(const char *s, uint32_t *bdf)
{
	unsigned int seg = 0, bus, dev, fn;
	int n = -1;

	if (!s || !bdf)
		return -EINVAL;
	if (sscanf(s, "%4x:%2x:%2x.%1u%n", &seg, &bus, &dev, &fn, &n) != 4 ||
	    (size_t)n != strlen(s)) {
		seg = 0;
		n = -1;
		if (sscanf(s, "%2x:%2x.%1u%n", &bus, &dev, &fn, &n) != 3 ||
		    (size_t)n != strlen(s))
			return sio_err(-EINVAL, "pci: bad BDF \"%s\"", s);
	}
	if (dev > 0x1f || fn > 7)
		return sio_err(-EINVAL, "pci: bad BDF \"%s\"", s);
	*bdf = SIO_PCI_BDF(seg, bus, dev, fn);
	return 0;
}

static int check_desc(const struct sio_pci_dev_desc *d)
{
	if (!d->ops || !d->ops->bar_read || !d->ops->bar_write)
		return sio_err(-EINVAL, "pci: model without BAR ops");
	for (int i = 0; i < SIO_PCI_NUM_BARS; i++) {
		const struct sio_pci_bar_desc *b = &d->bars[i];

		if (!b->size)
			continue;
		if (b->size & (b->size - 1))
			return sio_err(-EINVAL, "pci: BAR%d size %#llx", i,
				       (unsigned long long)b->size);
		if ((b->flags & SIO_PCI_BAR_MEM64) &&
		    (i == SIO_PCI_NUM_BARS - 1 || d->bars[i + 1].size))
			return sio_err(-EINVAL, "pci: 64-bit BAR%d needs BAR%d",
				       i, i + 1);
		if (b->flags & SIO_PCI_BAR_MEM64)
			i++;
	}
	if (d->msix_vectors) {
		uint64_t n = d->msix_vectors, bsize;

		if (n > 2048 || d->msix_bar < 0 ||
		    d->msix_bar >= SIO_PCI_NUM_BARS)
			return sio_err(-EINVAL, "pci: MSI-X layout");
		bsize = d->bars[d->msix_bar].size;
		if ((d->msix_table_offset | d->msix_pba_offset) & 7 ||
		    d->msix_table_offset + 16 * n > bsize ||
		    d->msix_pba_offset + 8 * ((n + 63) / 64) > bsize)
			return sio_err(-EINVAL, "pci: MSI-X outside BAR%d",
				       d->msix_bar);
	}
	if (d->msi_vectors && (d->msi_vectors > 32 ||
			       (d->msi_vectors & (d->msi_vectors - 1))))
		return sio_err(-EINVAL, "pci: %u MSI vectors", d->msi_vectors);
	if (d->pasid_bits > SIO_PASID_MAX_BITS)
		return sio_err(-EINVAL, "pci: %u PASID bits", d->pasid_bits);
	return 0;
}

static void pdev_free(struct sio_pci_dev *pdev)
{
	free(pdev->msix_table);
	free(pdev->msix_pba);
	pthread_mutex_destroy(&pdev->lock);
	free(pdev);
}

SIO_API int sio_pci_dev_create(struct sio_iommu *iommu,
			       const struct sio_pci_dev_desc *desc,
			       struct sio_pci_dev **out)
{
	struct sio_pci_dev *pdev;
	char name[16];
	size_t n;
	int rc;

	sio_err_clear();
	if (!iommu || !desc || !out)
		return sio_err(-EINVAL, "pci: create: missing argument");
	rc = check_desc(desc);
	if (rc)
		return rc;
	pdev = sio_calloc(1, sizeof(*pdev));
	if (!pdev)
		return sio_err(-ENOMEM, "pci: create");
	n = desc->msix_vectors;
	if (n) {
		pdev->msix_table = sio_calloc(n, 16);
		pdev->msix_pba = sio_calloc((n + 63) / 64, 8);
		if (!pdev->msix_table || !pdev->msix_pba) {
			pdev_free(pdev);
			return sio_err(-ENOMEM, "pci: create: MSI-X table");
		}
	}
	pthread_mutex_init(&pdev->lock, NULL);
	pdev->refs = 1;
	pdev->desc = *desc;
	pdev->cfg_size = desc->pcie ? SIO_PCIE_CONFIG_SIZE : SIO_PCI_CONFIG_SIZE;
	pci_config_build(pdev);
	for (unsigned int i = 0; i < desc->nconfig_regs; i++) {
		const struct sio_pci_config_reg *r = &desc->config_regs[i];

		rc = sio_pci_model_config_reg(pdev, r->offset, r->size, r->init,
					      r->wmask, r->w1c);
		if (rc) {
			pdev_free(pdev);
			return rc;
		}
	}
	pdev->desc.config_regs = NULL;	/* the caller's array may go */
	pdev->desc.nconfig_regs = 0;
	pci_irq_reset(pdev);
	rc = sio_device_probe(iommu, &(struct sio_device_desc){
		.name = sio_pci_bdf_format(desc->bdf, name, sizeof(name)),
		.rid = SIO_PCI_BDF_RID(desc->bdf),
		.pasid_bits = desc->pasid_bits,
		.priv = pdev,
	}, &pdev->dev);
	if (rc) {
		pdev_free(pdev);
		return rc;
	}
	if (desc->ops->reset) {
		pthread_mutex_lock(&pdev->lock);
		desc->ops->reset(pdev);
		pthread_mutex_unlock(&pdev->lock);
	}
	*out = pdev;
	return 0;
}

SIO_API struct sio_pci_dev *sio_pci_dev_get(struct sio_pci_dev *pdev)
{
	if (pdev)
		__atomic_add_fetch(&pdev->refs, 1, __ATOMIC_RELAXED);
	return pdev;
}

SIO_API void sio_pci_dev_put(struct sio_pci_dev *pdev)
{
	if (!pdev || __atomic_sub_fetch(&pdev->refs, 1, __ATOMIC_ACQ_REL))
		return;
	if (pdev->desc.ops->release)
		pdev->desc.ops->release(pdev);
	sio_device_put(pdev->dev);
	pdev_free(pdev);
}

SIO_API void sio_pci_dev_destroy(struct sio_pci_dev *pdev)
{
	if (!pdev)
		return;
	sio_device_remove(pdev->dev);
	sio_pci_dev_put(pdev);
}

SIO_API void *sio_pci_dev_priv(const struct sio_pci_dev *pdev)
{
	return pdev->desc.priv;
}

SIO_API const struct sio_pci_dev_desc *sio_pci_dev_desc(
	const struct sio_pci_dev *pdev)
{
	return &pdev->desc;
}

SIO_API uint32_t sio_pci_dev_bdf(const struct sio_pci_dev *pdev)
{
	return pdev->desc.bdf;
}

SIO_API struct sio_device *sio_pci_dev_device(const struct sio_pci_dev *pdev)
{
	return pdev->dev;
}

SIO_API uint32_t sio_pci_dev_config_size(const struct sio_pci_dev *pdev)
{
	return pdev->cfg_size;
}

SIO_API void sio_pci_model_lock(struct sio_pci_dev *pdev)
{
	pthread_mutex_lock(&pdev->lock);
}

SIO_API void sio_pci_model_unlock(struct sio_pci_dev *pdev)
{
	pthread_mutex_unlock(&pdev->lock);
}

/* ------------------------------------------------------------------ */
/* Config space                                                         */
/* ------------------------------------------------------------------ */

static int check_cfg(const struct sio_pci_dev *pdev, uint32_t off,
		     unsigned int size)
{
	if (!pci_size_ok(size, 4) || off % size || off + size > pdev->cfg_size)
		return sio_err(-EINVAL, "pci: config access %#x/%u", off, size);
	return 0;
}

SIO_API int sio_pci_config_read(struct sio_pci_dev *pdev, uint32_t off,
				unsigned int size, uint32_t *val)
{
	int rc;

	if (!pdev || !val)
		return sio_err(-EINVAL, "pci: config read: missing argument");
	rc = check_cfg(pdev, off, size);
	if (rc)
		return rc;
	pthread_mutex_lock(&pdev->lock);
	*val = pci_cfg_get(pdev, off, size);
	pthread_mutex_unlock(&pdev->lock);
	return 0;
}

static void reset_locked(struct sio_pci_dev *pdev)
{
	pci_config_restore(pdev);
	pci_irq_reset(pdev);
	if (pdev->desc.ops->reset)
		pdev->desc.ops->reset(pdev);
}

static bool overlaps(uint32_t off, unsigned int size, uint32_t reg,
		     unsigned int rsize)
{
	return off < reg + rsize && reg < off + size;
}

SIO_API int sio_pci_config_write(struct sio_pci_dev *pdev, uint32_t off,
				 unsigned int size, uint32_t val)
{
	uint32_t devctl = PCI_CAP_PCIE_OFF + PCI_EXP_DEVCTL;
	int rc;

	if (!pdev)
		return sio_err(-EINVAL, "pci: config write: no function");
	rc = check_cfg(pdev, off, size);
	if (rc)
		return rc;
	pthread_mutex_lock(&pdev->lock);
	pci_config_host_write(pdev, off, size, val);
	if (pdev->desc.pcie && overlaps(off, size, devctl, 2) &&
	    (pci_cfg_get(pdev, devctl, 2) & PCI_EXP_DEVCTL_BCR_FLR)) {
		/* Function-level reset; the FLR bit always reads 0. */
		reset_locked(pdev);
		pthread_mutex_unlock(&pdev->lock);
		return 0;
	}
	if ((pdev->desc.msix_vectors &&
	     overlaps(off, size, PCI_CAP_MSIX_OFF, 4)) ||
	    (pdev->desc.msi_vectors && overlaps(off, size, PCI_CAP_MSI_OFF, 24)))
		pci_irq_config_changed(pdev);
	if (pdev->desc.ops->config_write)
		pdev->desc.ops->config_write(pdev, off, size, val);
	pthread_mutex_unlock(&pdev->lock);
	return 0;
}

SIO_API int sio_pci_reset(struct sio_pci_dev *pdev)
{
	if (!pdev)
		return sio_err(-EINVAL, "pci: reset: no function");
	pthread_mutex_lock(&pdev->lock);
	reset_locked(pdev);
	pthread_mutex_unlock(&pdev->lock);
	return 0;
}

/* ------------------------------------------------------------------ */
/* BARs                                                                 */
/* ------------------------------------------------------------------ */

static int check_bar(const struct sio_pci_dev *pdev, int bar, uint64_t off,
		     unsigned int size)
{
	uint64_t bsize;

	if (bar < 0 || bar >= SIO_PCI_NUM_BARS || !pdev->desc.bars[bar].size)
		return sio_err(-EINVAL, "pci: no BAR%d", bar);
	bsize = pdev->desc.bars[bar].size;
	if (!pci_size_ok(size, 8) || off % size || off >= bsize ||
	    size > bsize - off)
		return sio_err(-EINVAL, "pci: BAR%d access %#llx/%u", bar,
			       (unsigned long long)off, size);
	return 0;
}

SIO_API int sio_pci_bar_read(struct sio_pci_dev *pdev, int bar, uint64_t off,
			     unsigned int size, uint64_t *val)
{
	int rc;

	if (!pdev || !val)
		return sio_err(-EINVAL, "pci: BAR read: missing argument");
	rc = check_bar(pdev, bar, off, size);
	if (rc)
		return rc;
	pthread_mutex_lock(&pdev->lock);
	if (pci_msix_covers(pdev, bar, off, size))
		*val = pci_msix_read(pdev, off, size);
	else
		*val = pdev->desc.ops->bar_read(pdev, bar, off, size);
	pthread_mutex_unlock(&pdev->lock);
	if (size < 8)
		*val &= (1ull << (8 * size)) - 1;
	return 0;
}

SIO_API int sio_pci_bar_write(struct sio_pci_dev *pdev, int bar, uint64_t off,
			      unsigned int size, uint64_t val)
{
	int rc;

	if (!pdev)
		return sio_err(-EINVAL, "pci: BAR write: no function");
	rc = check_bar(pdev, bar, off, size);
	if (rc)
		return rc;
	if (size < 8)
		val &= (1ull << (8 * size)) - 1;
	pthread_mutex_lock(&pdev->lock);
	if (pci_msix_covers(pdev, bar, off, size))
		pci_msix_write(pdev, off, size, val);
	else
		pdev->desc.ops->bar_write(pdev, bar, off, size, val);
	pthread_mutex_unlock(&pdev->lock);
	return 0;
}

/* ------------------------------------------------------------------ */
/* DMA                                                                  */
/* ------------------------------------------------------------------ */

static bool bus_master(const struct sio_pci_dev *pdev)
{
	return __atomic_load_n(&pdev->cfg[PCI_COMMAND], __ATOMIC_RELAXED) &
	       PCI_COMMAND_MASTER;
}

static int dma_result(struct sio_pci_dev *pdev, int rc,
		      struct sio_dma_fault *fault)
{
	if (rc) {
		__atomic_add_fetch(&pdev->dma_faults, 1, __ATOMIC_RELAXED);
		if (fault)
			pdev->last_fault = *fault;
	}
	return rc;
}

static int no_master(struct sio_pci_dev *pdev, sio_pasid_t pasid,
		     uint64_t iova, unsigned int access,
		     struct sio_dma_fault *fault)
{
	struct sio_dma_fault f = {
		.reason = SIO_FAULT_BLOCKED,
		.iova = iova,
		.pasid = pasid,
		.access = access,
	};

	if (fault)
		*fault = f;
	return dma_result(pdev, -EPERM, &f);
}

SIO_API int sio_pci_dma_read(struct sio_pci_dev *pdev, sio_pasid_t pasid,
			     uint64_t iova, void *buf, size_t len,
			     struct sio_dma_fault *fault)
{
	struct sio_dma_fault f;
	int rc;

	if (!bus_master(pdev))
		return no_master(pdev, pasid, iova, SIO_DMA_READ, fault);
	rc = sio_dma_read(pdev->dev, pasid, iova, buf, len, &f);
	if (rc && fault)
		*fault = f;
	return dma_result(pdev, rc, &f);
}

SIO_API int sio_pci_dma_write(struct sio_pci_dev *pdev, sio_pasid_t pasid,
			      uint64_t iova, const void *buf, size_t len,
			      struct sio_dma_fault *fault)
{
	struct sio_dma_fault f;
	int rc;

	if (!bus_master(pdev))
		return no_master(pdev, pasid, iova, SIO_DMA_WRITE, fault);
	rc = sio_dma_write(pdev->dev, pasid, iova, buf, len, &f);
	if (rc && fault)
		*fault = f;
	return dma_result(pdev, rc, &f);
}

SIO_API uint64_t sio_pci_dev_dma_faults(struct sio_pci_dev *pdev,
					struct sio_dma_fault *last)
{
	if (last) {
		pthread_mutex_lock(&pdev->lock);
		*last = pdev->last_fault;
		pthread_mutex_unlock(&pdev->lock);
	}
	return __atomic_load_n(&pdev->dma_faults, __ATOMIC_RELAXED);
}
