/*
 * The data path's way into the I/O page-fault layer.
 *
 * When a translation fails on a domain that takes page requests, the DMA
 * calls sio_iopf_dma_fault() from inside its read-side section: 0 means a
 * page request went out (dispatched, or answered at once) and the DMA
 * answers -EAGAIN.  The data path (src/dma) sits above this layer, so this
 * is an ordinary downward call.  The core, below, reaches the layer only
 * through what the layer registered on the system
 * (sio_system_set_handle_retire, core/core.h).
 */
#ifndef SIO_IOPF_DMA_FAULT_H
#define SIO_IOPF_DMA_FAULT_H

#include "softiommu/attach.h"

int sio_iopf_dma_fault(struct sio_device *dev, sio_pasid_t pasid,
		       uint64_t iova, unsigned int access);

#endif
