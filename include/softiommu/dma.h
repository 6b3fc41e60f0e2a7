/*
 * The device data path: what a device does with an address.
 *
 * sio_dma_translate() resolves (device, PASID or SIO_NO_PASID, IOVA,
 * access) through whatever is attached there: blocked refuses, identity
 * returns the address itself, paging walks the domain's I/O page table.
 * sio_dma_read()/sio_dma_write() copy through the translation, one
 * contiguous host run at a time.  Translations go through a per-device
 * IOTLB that unmap, attach changes and cache invalidations make miss.
 * None of these takes a control-path lock: they run inside an RCU read-side
 * section and are safe against concurrent map, unmap, attach, detach and
 * device removal; a copy is counted in the domain's DMA epoch, which
 * sio_unmap() waits on, so nothing a copy calls (a page-fault handler, the
 * device model's page response) may unmap (-EDEADLK).  A failed translation returns a negative errno and says
 * why in struct sio_dma_fault (the page-fault layer turns it into a page
 * request).
 */
#ifndef SOFTIOMMU_DMA_H
#define SOFTIOMMU_DMA_H

#include "softiommu/common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sio_dma_access {
	SIO_DMA_READ = 1u << 0,
	SIO_DMA_WRITE = 1u << 1,
	SIO_DMA_EXEC = 1u << 2,
	SIO_DMA_PRIV = 1u << 3,
};

enum sio_fault_reason {
	SIO_FAULT_NONE = 0,
	SIO_FAULT_DEVICE_GONE,	/* removed device: -ENODEV */
	SIO_FAULT_NO_PASID,	/* PASID beyond the device / nothing there: -ENOENT */
	SIO_FAULT_BLOCKED,	/* blocked domain: -EPERM */
	SIO_FAULT_APERTURE,	/* outside the domain's aperture: -EFAULT */
	SIO_FAULT_NOT_MAPPED,	/* no translation: -EFAULT */
	SIO_FAULT_PERMISSION,	/* mapping lacks the access: -EACCES */
	SIO_FAULT_UNSUPPORTED,	/* domain type has no data path yet: -EOPNOTSUPP */
};

struct sio_dma_fault {
	enum sio_fault_reason reason;
	uint64_t iova;		/* the address that failed */
	sio_pasid_t pasid;
	unsigned int access;	/* SIO_DMA_* */
};

struct sio_dma_xlate {
	void *host;		/* host address of iova */
	uint64_t len;		/* bytes valid from host, to the leaf's end */
	unsigned int prot;	/* SIO_PROT_* of the mapping */
};

SIO_API const char *sio_fault_reason_name(enum sio_fault_reason reason);

/* fault may be NULL. */
SIO_API int sio_dma_translate(struct sio_device *dev, sio_pasid_t pasid,
			      uint64_t iova, unsigned int access,
			      struct sio_dma_xlate *out,
			      struct sio_dma_fault *fault);
/* Copy len bytes; on failure nothing after the failing page is copied and
 * the fault says where. */
SIO_API int sio_dma_read(struct sio_device *dev, sio_pasid_t pasid,
			 uint64_t iova, void *buf, size_t len,
			 struct sio_dma_fault *fault);
SIO_API int sio_dma_write(struct sio_device *dev, sio_pasid_t pasid,
			  uint64_t iova, const void *buf, size_t len,
			  struct sio_dma_fault *fault);

#ifdef __cplusplus
}
#endif
#endif
