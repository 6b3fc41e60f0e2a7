/*
 * The Intel I/OAT DMA engine (Crystal Beach, version 3.3) as a PCI device
 * model, written against softiommu/pci.h like any embedder's model.
 *
 * One PCI function with one DMA channel, as a Skylake-SP CBDMA function
 * (8086:2021): BAR0 holds the device registers and the channel's, with the
 * MSI-X table and PBA above them; descriptors are read from and completions
 * written to memory by DMA through the IOMMU, and the channel interrupts
 * through its MSI-X vector (or INTx).  The channel runs synchronously in
 * the register write that rings its doorbell.  docs/ioat.md lists the
 * registers and behaviour modelled.
 */
#ifndef SOFTIOMMU_IOAT_H
#define SOFTIOMMU_IOAT_H

#include "softiommu/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sio_pci_dev;

/* Create an I/OAT function at bdf (SIO_PCI_BDF()) on iommu; release it
 * with sio_pci_dev_destroy().  Errors as sio_pci_dev_create(). */
SIO_API int sio_ioat_create(struct sio_iommu *iommu, uint32_t bdf,
			    struct sio_pci_dev **out);

#ifdef __cplusplus
}
#endif
#endif
