/*
 * The slot an mm keeps for the SVA layer (the kernel's mm->iommu_mm): the
 * mm's PASID and its SVA domains live in the SVA layer's structure, which
 * the mm only stores and releases when the structure itself is freed (a
 * PASID stays with its mm for the mm's whole life, as in Linux).
 */
#ifndef SIO_MM_IOMMU_H
#define SIO_MM_IOMMU_H

struct sio_mm;

struct sio_mm_iommu {
	/* Called once, when the mm structure is freed (last sio_mm_drop). */
	void (*release)(struct sio_mm_iommu *data);
};

/* The data installed, or NULL. */
struct sio_mm_iommu *mm_iommu_data(struct sio_mm *mm);
/* Install data if the slot is empty; returns what the slot holds after the
 * call (data, or what another thread installed first). */
struct sio_mm_iommu *mm_iommu_install(struct sio_mm *mm,
				      struct sio_mm_iommu *data);

#endif
