/*
 * The two places other layers call into the I/O page-fault layer.
 *
 * The core calls sio_iopf_handle_gone() at the end of every detach and
 * replace that retired an attach handle, after its grace period and with
 * no lock held: every group dispatched to that handle and still waiting is
 * answered INVALID before the detach returns (ARCHITECTURE.md: outstanding
 * faults are tracked per attach handle).  The data path calls
 * sio_iopf_dma_fault() from inside its read-side section when a
 * translation fails on a fault-capable domain: 0 means a page request went
 * out and the DMA answers -EAGAIN.
 */
#ifndef SIO_IOPF_HOOKS_H
#define SIO_IOPF_HOOKS_H

#include "softiommu/attach.h"

void sio_iopf_handle_gone(struct sio_group *group,
			  struct sio_attach_handle *handle);
int sio_iopf_dma_fault(struct sio_device *dev, sio_pasid_t pasid,
		       uint64_t iova, unsigned int access);

#endif
