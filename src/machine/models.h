/*
 * The PCI device models an emulated machine can hold, by name (the device
 * list's first word).
 */
#ifndef SIO_MACHINE_MODELS_H
#define SIO_MACHINE_MODELS_H

#include <stdint.h>

struct sio_iommu;
struct sio_pci_dev;

struct sio_machine_model {
	const char *name;
	/* Create the function at bdf on iommu (softiommu/pci.h). */
	int (*create)(struct sio_iommu *iommu, uint32_t bdf,
		      struct sio_pci_dev **out);
};

/* The model called name, or NULL. */
const struct sio_machine_model *sio_machine_model_find(const char *name);
/* The known names, separated by ", " (for messages). */
const char *sio_machine_model_names(void);

#endif
