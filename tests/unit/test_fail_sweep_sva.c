/*
 * SVA under every fault-injection point (fail_sweep.h): a process address
 * space made and populated, two devices of a soft IOMMU bound to it (one
 * twice), a device writing and the other reading through the mm's PASID,
 * and every bond unbound.  Each iteration either fails with an errno or
 * completes; the undo unbinds what is left and drops the mm, after which
 * the devices have nothing on any PASID and the IOMMU no SVA domain (no
 * leak under ASan).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "softiommu/softiommu.h"
#include "fail_sweep.h"

#define PG SIO_MM_PAGE_SIZE
#define RW (SIO_PROT_READ | SIO_PROT_WRITE)
#define NBOND 3

struct sflow {
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_device *nic, *gpu;
	/* What one iteration built. */
	struct sio_mm *mm;
	struct sio_sva *bond[NBOND];
	sio_pasid_t pasid;
};

static struct sio_device *probe(struct sio_iommu *iommu, const char *name)
{
	struct sio_device_desc desc = { .name = name, .pasid_bits = 20 };
	struct sio_device *d = NULL;

	assert_int_equal(sio_device_probe(iommu, &desc, &d), 0);
	return d;
}

static int sflow_setup(void **state)
{
	struct sio_soft_config cfg = { .format = SIO_PT_X86_64, .pasid_bits = 20,
				       .default_domain_type = SIO_DOMAIN_BLOCKED };
	struct sflow *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(sio_system_create(&f->sys), 0);
	assert_int_equal(sio_soft_iommu_create(f->sys, "soft0", &cfg, &f->iommu), 0);
	f->nic = probe(f->iommu, "nic");
	f->gpu = probe(f->iommu, "gpu");
	f->pasid = SIO_PASID_INVALID;
	*state = f;
	return 0;
}

static int sflow_teardown(void **state)
{
	struct sflow *f = *state;

	sio_device_remove(f->nic);
	sio_device_put(f->nic);
	sio_device_remove(f->gpu);
	sio_device_put(f->gpu);
	assert_int_equal(sio_system_destroy(f->sys), 0);
	free(f);
	return 0;
}

static int sflow_body(void *arg)
{
	struct sflow *f = arg;
	uint64_t va = 0;
	char out[16];
	int rc;

	rc = sio_mm_create(&f->mm);
	if (rc)
		return rc;
	rc = sio_mm_mmap(f->mm, 0, 4 * PG, RW, SIO_MM_MAP_POPULATE, &va);
	if (rc)
		return rc;
	rc = sio_sva_bind_device(f->nic, f->mm, &f->bond[0]);
	if (!rc)
		rc = sio_sva_bind_device(f->gpu, f->mm, &f->bond[1]);
	if (!rc)
		rc = sio_sva_bind_device(f->nic, f->mm, &f->bond[2]);
	if (rc)
		return rc;
	f->pasid = sio_sva_get_pasid(f->bond[0]);
	if (f->bond[2] != f->bond[0] || sio_sva_get_pasid(f->bond[1]) != f->pasid)
		return -EIO;
	/* One device writes the process's memory, the other reads it. */
	rc = sio_dma_write(f->gpu, f->pasid, va + PG + 8, "shared", 7, NULL);
	if (!rc)
		rc = sio_dma_read(f->nic, f->pasid, va + PG + 8, out, 7, NULL);
	if (rc)
		return rc;
	if (strcmp(out, "shared"))
		return -EIO;
	for (unsigned int i = NBOND; i-- > 0;) {
		sio_sva_unbind_device(f->bond[i]);
		f->bond[i] = NULL;
	}
	if (sio_device_pasid_domain(f->nic, f->pasid) ||
	    sio_sva_mm_domains(f->mm))
		return -EIO;
	return 0;
}

static void sflow_undo(void *arg)
{
	struct sflow *f = arg;

	for (unsigned int i = NBOND; i-- > 0;) {
		if (f->bond[i])
			sio_sva_unbind_device(f->bond[i]);
		f->bond[i] = NULL;
	}
	if (f->mm) {
		f->pasid = sio_sva_mm_pasid(f->mm);
		assert_int_equal(sio_sva_mm_domains(f->mm), 0);
		sio_mm_put(f->mm);
	}
	f->mm = NULL;
	/* As it was: nothing on the PASID the mm had. */
	if (f->pasid != SIO_PASID_INVALID) {
		assert_null(sio_device_pasid_domain(f->nic, f->pasid));
		assert_null(sio_device_pasid_domain(f->gpu, f->pasid));
	}
	f->pasid = SIO_PASID_INVALID;
}

static void sva_sweep(void **state)
{
	struct sflow *f = *state;
	/* The mm, its pages, the PASID, the SVA domain and its attaches. */
	fail_sweep_check("sva", sflow_body, sflow_undo, f, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(sva_sweep, sflow_setup,
						sflow_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
