/*
 * The models a machine's device list may name.  A new bundled model is one
 * line here.
 */
#include "machine/models.h"

#include <string.h>

#include "softiommu/ioat.h"

static const struct sio_machine_model models[] = {
	{ "ioat", sio_ioat_create },
};

const struct sio_machine_model *sio_machine_model_find(const char *name)
{
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++)
		if (!strcmp(models[i].name, name))
			return &models[i];
	return NULL;
}

const char *sio_machine_model_names(void)
{
	return "ioat";
}
