/*
 * softiommu info: the drivers this build has and what their instances can
 * do, read from a live instance of each.
 */
#include <stdio.h>

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

int cmd_info(int argc, char **argv)
{
	struct sio_system *sys;
	struct sio_iommu *iommu;
	int rc;

	(void)argc;
	(void)argv;
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
		return 1;
	}
	sio_iommu_for_each(sys, print_iommu, NULL);
	sio_system_destroy(sys);
	return 0;
}
