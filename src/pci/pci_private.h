/*
 * The PCI function behind struct sio_pci_dev (softiommu/pci.h): config
 * space with its masks, the MSI-X table and PBA, interrupt routing.
 *
 * Config space is kept as bytes with three masks of the same size, set
 * once when the function is built (config.c): wmask (bits a host write may
 * change), w1c (bits a host write of 1 clears) and the power-on image that
 * reset restores.  Everything PCI defines for every function is derived
 * from those masks, so the write path is one rule for every register: BAR
 * sizing, read-only IDs, write-1-to-clear status all fall out of it.
 */
#ifndef SIO_PCI_PRIVATE_H
#define SIO_PCI_PRIVATE_H

#include <pthread.h>

#include "softiommu/pci.h"
#include "util/error.h"

/* Where config.c puts the standard capabilities; 0x40..0x5f is left to
 * the model's own registers, as on many real functions. */
#define PCI_CAP_PCIE_OFF	0x60
#define PCI_CAP_MSIX_OFF	0xa0
#define PCI_CAP_MSI_OFF		0xb0
#define PCI_CAP_PM_OFF		0xd0
#define PCI_EXT_CAP_OFF		0x100

struct sio_pci_dev {
	unsigned int refs;			/* atomic */
	struct sio_pci_dev_desc desc;		/* immutable after create */
	struct sio_device *dev;			/* the core device; ref held */
	uint32_t cfg_size;

	/*
	 * lock protects everything below; the model's ops run under it.  Its
	 * place in the library's lock order is in docs/locking.md: under it
	 * the model DMAs, and a DMA on a fault-capable domain raises a page
	 * request (the page-fault layer's device and queue locks); the host's
	 * IRQ sink runs under it too and must not call back into this
	 * function.  No control-path lock of the core is taken under it.
	 */
	pthread_mutex_t lock;
	uint8_t cfg[SIO_PCIE_CONFIG_SIZE];
	uint8_t wmask[SIO_PCIE_CONFIG_SIZE];
	uint8_t w1c[SIO_PCIE_CONFIG_SIZE];
	uint8_t init[SIO_PCIE_CONFIG_SIZE];
	uint8_t owned[SIO_PCIE_CONFIG_SIZE];	/* 1: a register is declared */
	uint8_t *msix_table;			/* 16 bytes per vector */
	uint64_t *msix_pba;			/* one bit per vector */
	enum sio_pci_irq_type irq_mode;
	unsigned int irq_vectors;
	struct sio_pci_irq_sink sink;
	uint32_t msi_pending;			/* MSI vectors held by a mask */

	/* DMA faults the function met (atomics): for tests and tools. */
	uint64_t dma_faults;
	struct sio_dma_fault last_fault;	/* under lock */
};

/* config.c */
void pci_config_build(struct sio_pci_dev *pdev);
void pci_config_restore(struct sio_pci_dev *pdev);
uint32_t pci_cfg_get(const struct sio_pci_dev *pdev, uint32_t off,
		     unsigned int size);
void pci_cfg_put(struct sio_pci_dev *pdev, uint32_t off, unsigned int size,
		 uint32_t val);
/* Apply a host write under the masks; says which reactions it needs. */
void pci_config_host_write(struct sio_pci_dev *pdev, uint32_t off,
			   unsigned int size, uint32_t val);

/* irq.c (all under pdev->lock) */
void pci_irq_reset(struct sio_pci_dev *pdev);
bool pci_msix_covers(const struct sio_pci_dev *pdev, int bar, uint64_t off,
		     unsigned int size);
uint64_t pci_msix_read(struct sio_pci_dev *pdev, uint64_t off,
		       unsigned int size);
void pci_msix_write(struct sio_pci_dev *pdev, uint64_t off, unsigned int size,
		    uint64_t val);
/* Config space changed the MSI/MSI-X masks: deliver what is unmasked. */
void pci_irq_config_changed(struct sio_pci_dev *pdev);
int pci_irq_raise(struct sio_pci_dev *pdev, unsigned int vector);

static inline bool pci_size_ok(unsigned int size, unsigned int max)
{
	return size && size <= max && !(size & (size - 1));
}

#endif
