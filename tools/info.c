/*
 * softiommu info [--device SPEC]...: the drivers this build has and what
 * their instances can do, read from a live instance of each; then the
 * machine `softiommu run` would emulate with the same device list (the
 * --device options, else $SOFTIOMMU_DEVICES, else the default), made and
 * read the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "softiommu/machine.h"
#include "softiommu/pci.h"
#include "softiommu/softiommu.h"
#include "cli.h"

static void print_pgsizes(uint64_t bitmap)
{
	static const char *units[] = { "B", "K", "M", "G", "T", "P" };
	int shown = 0;

	for (unsigned int bit = 0; bit < 64; bit++) {
		if (!(bitmap & (1ull << bit)))
			continue;
		if (shown++ == 6) {
			printf(" ...");
			break;
		}
		printf(" %llu%s", 1ull << (bit % 10), units[bit / 10]);
	}
}

static int print_iommu(struct sio_iommu *iommu, void *arg)
{
	const struct sio_iommu_caps *caps = sio_iommu_caps(iommu);

	(void)arg;
	printf("%s\n  page sizes:", sio_iommu_name(iommu));
	print_pgsizes(caps->pgsize_bitmap);
	printf("\n  PASID bits: %u\n  features:  %s%s%s%s%s\n  default domain: %s\n",
	       caps->pasid_bits, caps->features & SIO_FEAT_PASID ? " pasid" : "",
	       caps->features & SIO_FEAT_SVA ? " sva" : "",
	       caps->features & SIO_FEAT_IOPF ? " iopf" : "",
	       caps->features & SIO_FEAT_NESTING ? " nesting" : "",
	       caps->features & SIO_FEAT_DIRTY ? " dirty" : "",
	       sio_domain_type_name(caps->default_domain_type ?
					    caps->default_domain_type :
					    SIO_DOMAIN_BLOCKED));
	return 0;
}

static int print_device(const struct sio_machine_device_info *info, void *arg)
{
	char bdf[16];

	(void)arg;
	printf("  %-13s %-6s %04x:%04x  group %-3u /dev/vfio/devices/vfio%u\n",
	       sio_pci_bdf_format(info->bdf, bdf, sizeof(bdf)), info->model,
	       info->vendor, info->device, info->group, info->cdev);
	return 0;
}

/* The machine of `softiommu run` with this device list. */
static void print_machine(struct sio_machine *m)
{
	printf("\nsoftiommu run emulates (IOMMU %s, VT-d second stage):\n",
	       sio_iommu_name(sio_machine_iommu(m)));
	if (!sio_machine_device_count(m))
		printf("  no PCI function\n");
	sio_machine_for_each_device(m, print_device, NULL);
}

/* --device options joined with ';' (NULL: none given). */
static int device_list(int argc, char **argv, char **out)
{
	size_t len = 0;

	*out = NULL;
	for (int i = 1; i < argc; i++) {
		const char *spec;

		if (!strcmp(argv[i], "--device") && i + 1 < argc)
			spec = argv[++i];
		else if (!strncmp(argv[i], "--device=", 9))
			spec = argv[i] + 9;
		else {
			fprintf(stderr, "usage: softiommu info [--device SPEC]...\n");
			free(*out);
			return 2;
		}
		char *list = realloc(*out, len + strlen(spec) + 2);

		if (!list) {
			free(*out);
			return 1;
		}
		if (len)
			list[len++] = ';';
		strcpy(list + len, spec);
		len += strlen(spec);
		*out = list;
	}
	return 0;
}

int cmd_info(int argc, char **argv)
{
	struct sio_machine_config cfg = { 0 };
	struct sio_machine *machine;
	struct sio_system *sys;
	struct sio_iommu *iommu;
	char *devices;
	int rc;

	rc = device_list(argc, argv, &devices);
	if (rc)
		return rc;
	/* A bad device list is refused before anything is printed. */
	cfg.devices = devices ? devices : getenv("SOFTIOMMU_DEVICES");
	rc = sio_machine_create(&cfg, &machine);
	free(devices);
	if (rc) {
		fprintf(stderr, "softiommu info: %s\n", sio_last_error());
		return 2;
	}
	printf("softiommu %s\n\n", sio_version());
	static const struct {
		const char *name;
		struct sio_soft_config cfg;
	} soft[] = {
		{ "soft (arm-lpae-s1, 4K granule)",
		  { .format = SIO_PT_ARM_LPAE_S1, .granule_lg2 = 12, .pasid_bits = 20 } },
		{ "soft (x86-64, 4-level)",
		  { .format = SIO_PT_X86_64, .levels = 4, .pasid_bits = 20 } },
		{ "soft (vt-d second stage)", { .format = SIO_PT_VTD_SS, .pasid_bits = 20 } },
		{ "soft (amd v1)", { .format = SIO_PT_AMD_V1, .pasid_bits = 16 } },
		{ "soft (risc-v sv48)", { .format = SIO_PT_RISCV_SV48, .pasid_bits = 20 } },
	};

	rc = sio_system_create(&sys);
	if (!rc)
		rc = sio_mock_iommu_create(sys, "mock", &iommu);
	for (size_t i = 0; !rc && i < sizeof(soft) / sizeof(soft[0]); i++)
		rc = sio_soft_iommu_create(sys, soft[i].name, &soft[i].cfg, &iommu);
	if (rc) {
		fprintf(stderr, "softiommu info: %s\n", sio_last_error());
		sio_machine_destroy(machine);
		return 1;
	}
	sio_iommu_for_each(sys, print_iommu, NULL);
	sio_system_destroy(sys);
	print_machine(machine);
	sio_machine_destroy(machine);
	return 0;
}
