/*
 * PCI device models: the interface an emulated PCI function is written
 * against.
 *
 * A device model (the bundled Intel I/OAT, or one an embedder writes)
 * describes its function once (IDs, BARs, interrupts, capabilities) and
 * implements a small ops table: register reads and writes in its BARs, an
 * optional hook on config writes, and reset.  The library owns everything
 * PCI defines for every function: the config space with the standard
 * header, the capability list (power management, PCI Express with FLR,
 * MSI, MSI-X) and the write masks that make read-only bits read-only and
 * write-1-to-clear bits clear; BAR sizing; the MSI-X table and PBA inside
 * their BAR; interrupt delivery to whatever the host wired (VFIO: eventfds);
 * function-level reset.
 *
 * The function is probed as a core device on an IOMMU, with its
 * bus:device.function as the requester ID, so its DMA goes through the
 * data path as (device, PASID, IOVA): every domain type, IOTLB, dirty
 * tracking and page faults apply to a model exactly as to any device.  A
 * model reaches memory only through sio_pci_dma_read()/sio_pci_dma_write(),
 * which also honour the command register's Bus Master Enable.
 *
 * Concurrency: the ops may be called from any thread, including from the
 * MMIO trap of a program thread that stored to a mapped BAR (a signal
 * handler: see softiommu/mmio.h), never concurrently for one function (the
 * library serialises a function's accesses with its own lock, which the
 * ops run under: an op must not call back into the accessors that take it,
 * sio_pci_bar_read/write and sio_pci_config_read/write; the sio_pci_model_*
 * helpers below are for ops and take no lock).
 */
#ifndef SOFTIOMMU_PCI_H
#define SOFTIOMMU_PCI_H

#include "softiommu/common.h"
#include "softiommu/dma.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sio_pci_dev;

/* segment:bus:device.function packed as the kernel prints it. */
#define SIO_PCI_BDF(seg, bus, dev, fn) \
	(((uint32_t)(seg) << 16) | ((uint32_t)(bus) << 8) | \
	 ((uint32_t)(dev) << 3) | (uint32_t)(fn))
#define SIO_PCI_BDF_SEG(bdf)	((bdf) >> 16)
#define SIO_PCI_BDF_BUS(bdf)	(((bdf) >> 8) & 0xff)
#define SIO_PCI_BDF_DEV(bdf)	(((bdf) >> 3) & 0x1f)
#define SIO_PCI_BDF_FN(bdf)	((bdf) & 0x7)
/* The requester ID a BDF puts on the bus (bus:devfn, no segment). */
#define SIO_PCI_BDF_RID(bdf)	((bdf) & 0xffff)

/* "ssss:bb:dd.f" into buf (at least 13 bytes); returns buf. */
SIO_API char *sio_pci_bdf_format(uint32_t bdf, char *buf, size_t len);
/* Parse "ssss:bb:dd.f" (or "bb:dd.f", segment 0): 0 or -EINVAL. */
SIO_API int sio_pci_bdf_parse(const char *s, uint32_t *bdf);

#define SIO_PCI_NUM_BARS 6
#define SIO_PCI_CONFIG_SIZE 256		/* conventional */
#define SIO_PCIE_CONFIG_SIZE 4096	/* with PCI Express */

enum sio_pci_bar_flags {
	SIO_PCI_BAR_MEM64 = 1u << 0,	/* 64-bit memory BAR (takes two) */
	SIO_PCI_BAR_PREFETCH = 1u << 1,
	SIO_PCI_BAR_IO = 1u << 2,	/* I/O space: not mmappable */
};

struct sio_pci_bar_desc {
	uint64_t size;		/* power of two; 0: no BAR here */
	unsigned int flags;	/* SIO_PCI_BAR_* */
};

enum sio_pci_irq_type {
	SIO_PCI_IRQ_NONE = 0,
	SIO_PCI_IRQ_INTX,
	SIO_PCI_IRQ_MSI,
	SIO_PCI_IRQ_MSIX,
};

struct sio_pci_model_ops {
	/* Register access to BAR bar at off (aligned to size, size 1, 2, 4
	 * or 8).  Accesses to the MSI-X table and PBA never reach these.
	 * Unimplemented registers read 0 and ignore writes. */
	uint64_t (*bar_read)(struct sio_pci_dev *pdev, int bar, uint64_t off,
			     unsigned int size);
	void (*bar_write)(struct sio_pci_dev *pdev, int bar, uint64_t off,
			  unsigned int size, uint64_t val);
	/* Optional: a config write was applied (masks already enforced) to
	 * [off, off + size); the model reacts (e.g. to a register it
	 * declared with sio_pci_model_config_reg). */
	void (*config_write)(struct sio_pci_dev *pdev, uint32_t off,
			     unsigned int size, uint32_t val);
	/* Function-level reset: the library has already restored config
	 * space, MSI-X table and PBA to their power-on values; the model
	 * resets its own state.  Also runs once at creation. */
	void (*reset)(struct sio_pci_dev *pdev);
	/* Optional: the function is being destroyed; free priv. */
	void (*release)(struct sio_pci_dev *pdev);
};

/* A device-specific config register (see sio_pci_model_config_reg). */
struct sio_pci_config_reg {
	uint32_t offset;
	unsigned int size;		/* 1, 2 or 4 */
	uint32_t init, wmask, w1c;
};

struct sio_pci_dev_desc {
	const char *model;		/* the model's name, e.g. "ioat" */
	uint32_t bdf;			/* SIO_PCI_BDF() */
	uint16_t vendor_id, device_id;
	uint16_t subsystem_vendor_id, subsystem_id;
	uint32_t class_code;		/* 24 bits: base, sub, prog-if */
	uint8_t revision;
	struct sio_pci_bar_desc bars[SIO_PCI_NUM_BARS];
	/* MSI-X: vectors (0: none), and where table and PBA live. */
	unsigned int msix_vectors;
	int msix_bar;
	uint64_t msix_table_offset, msix_pba_offset;
	/* MSI: vectors, a power of two up to 32 (0: none), maskable. */
	unsigned int msi_vectors;
	bool pcie;			/* PCI Express endpoint, with FLR,
					 * and a 4 KiB config space */
	bool intx;			/* has an INTx pin (INTA) */
	uint32_t pasid_bits;		/* PASID capability width, 0: none */
	/* The model's own config registers, declared before the function is
	 * probed (the same rules as sio_pci_model_config_reg). */
	const struct sio_pci_config_reg *config_regs;
	unsigned int nconfig_regs;
	const struct sio_pci_model_ops *ops;
	void *priv;			/* the model's data */
};

/* Create the function and probe it onto iommu (requester ID from bdf).
 * The model's reset op runs before this returns.  *out holds one
 * reference. */
SIO_API int sio_pci_dev_create(struct sio_iommu *iommu,
			       const struct sio_pci_dev_desc *desc,
			       struct sio_pci_dev **out);
/* Remove the function from its IOMMU (its DMA fails from then on) and drop
 * the creator's reference. */
SIO_API void sio_pci_dev_destroy(struct sio_pci_dev *pdev);
SIO_API struct sio_pci_dev *sio_pci_dev_get(struct sio_pci_dev *pdev);
SIO_API void sio_pci_dev_put(struct sio_pci_dev *pdev);

SIO_API void *sio_pci_dev_priv(const struct sio_pci_dev *pdev);
SIO_API const struct sio_pci_dev_desc *sio_pci_dev_desc(
	const struct sio_pci_dev *pdev);
SIO_API uint32_t sio_pci_dev_bdf(const struct sio_pci_dev *pdev);
/* The core device it was probed as (no reference taken). */
SIO_API struct sio_device *sio_pci_dev_device(const struct sio_pci_dev *pdev);
/* Size of its config space: SIO_PCI_CONFIG_SIZE or SIO_PCIE_CONFIG_SIZE. */
SIO_API uint32_t sio_pci_dev_config_size(const struct sio_pci_dev *pdev);

/*
 * The host side: what the VFIO layer (or an embedding VMM) calls.  Each
 * takes the function's lock.  Sizes are 1, 2 or 4 (config) and 1, 2, 4 or
 * 8 (BARs), naturally aligned: -EINVAL otherwise; out of range: -EINVAL.
 */
SIO_API int sio_pci_config_read(struct sio_pci_dev *pdev, uint32_t off,
				unsigned int size, uint32_t *val);
SIO_API int sio_pci_config_write(struct sio_pci_dev *pdev, uint32_t off,
				 unsigned int size, uint32_t val);
SIO_API int sio_pci_bar_read(struct sio_pci_dev *pdev, int bar, uint64_t off,
			     unsigned int size, uint64_t *val);
SIO_API int sio_pci_bar_write(struct sio_pci_dev *pdev, int bar, uint64_t off,
			      unsigned int size, uint64_t val);
/* Function-level reset. */
SIO_API int sio_pci_reset(struct sio_pci_dev *pdev);

/* Interrupt delivery.  The host connects a sink and says which kind of
 * interrupt it enabled with how many vectors (VFIO_DEVICE_SET_IRQS); the
 * model then raises vectors with sio_pci_model_irq().  A vector masked in
 * the MSI-X table (or by the MSI-X function mask) is left pending in the
 * PBA and delivered when unmasked.  Setting MSI-X while MSI-X is on adds
 * vectors (the function mask and the vectors there stay as they are). */
struct sio_pci_irq_sink {
	void (*signal)(void *opaque, enum sio_pci_irq_type type,
		       unsigned int vector);
	void *opaque;
};
SIO_API void sio_pci_irq_connect(struct sio_pci_dev *pdev,
				 const struct sio_pci_irq_sink *sink);
SIO_API int sio_pci_irq_set_mode(struct sio_pci_dev *pdev,
				 enum sio_pci_irq_type type,
				 unsigned int nvectors);
SIO_API enum sio_pci_irq_type sio_pci_irq_mode(struct sio_pci_dev *pdev,
					       unsigned int *nvectors);

/*
 * The model side: helpers for ops.  They take no lock: call them from ops
 * (which run under the function's lock), or from the model's own threads
 * between sio_pci_model_lock() and sio_pci_model_unlock().
 */
SIO_API void sio_pci_model_lock(struct sio_pci_dev *pdev);
SIO_API void sio_pci_model_unlock(struct sio_pci_dev *pdev);
/* Declare a device-specific config register at off (size 1, 2 or 4):
 * its power-on value, which bits a write may change (wmask) and which
 * bits a write of 1 clears (w1c). */
SIO_API int sio_pci_model_config_reg(struct sio_pci_dev *pdev, uint32_t off,
				     unsigned int size, uint32_t init,
				     uint32_t wmask, uint32_t w1c);
/* Set or read config bits directly (the device's own view, no masks). */
SIO_API void sio_pci_model_config_set(struct sio_pci_dev *pdev, uint32_t off,
				      unsigned int size, uint32_t val);
SIO_API uint32_t sio_pci_model_config_get(struct sio_pci_dev *pdev,
					  uint32_t off, unsigned int size);
/* Raise interrupt vector of whatever the host enabled: 0 delivered,
 * 1 left pending (masked), -ENODEV nothing enabled, -EINVAL bad vector.
 * With INTx this asserts the line (level-triggered: the status register's
 * interrupt bit stays set until sio_pci_model_intx_deassert()). */
SIO_API int sio_pci_model_irq(struct sio_pci_dev *pdev, unsigned int vector);
SIO_API void sio_pci_model_intx_deassert(struct sio_pci_dev *pdev);
/* sio_pci_irq_mode() for ops: what the host enabled, without the lock. */
SIO_API enum sio_pci_irq_type sio_pci_model_irq_mode(struct sio_pci_dev *pdev,
						     unsigned int *nvectors);
/* DMA as the function: -EPERM with Bus Master Enable off (nothing
 * moves), else sio_dma_read/write's result on (device, pasid, iova). */
SIO_API int sio_pci_dma_read(struct sio_pci_dev *pdev, sio_pasid_t pasid,
			     uint64_t iova, void *buf, size_t len,
			     struct sio_dma_fault *fault);
SIO_API int sio_pci_dma_write(struct sio_pci_dev *pdev, sio_pasid_t pasid,
			      uint64_t iova, const void *buf, size_t len,
			      struct sio_dma_fault *fault);
/* How many DMAs of the function failed (translation faults, Bus Master
 * off) and, in *last (may be NULL), the last one's fault.  Host side:
 * takes the function's lock. */
SIO_API uint64_t sio_pci_dev_dma_faults(struct sio_pci_dev *pdev,
					struct sio_dma_fault *last);

#ifdef __cplusplus
}
#endif
#endif
