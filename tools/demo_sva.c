/*
 * softiommu demo --sva: two devices sharing one process address space.
 *
 * A soft IOMMU with two PASID-capable devices in separate groups, and a
 * process address space (an mm) with some memory.  Both devices are bound
 * to the mm and get its one PASID, through one SVA domain; they read and
 * write the process's memory, the CPU sees what they wrote; a munmap
 * invalidates the IOTLB and both devices' caches before it returns, after
 * which neither reaches the page; then the devices are unbound.  Every step
 * checks its result, so the demo doubles as a smoke test.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "softiommu/softiommu.h"

#include "cli.h"
#include "demo_step.h"

#define PG SIO_MM_PAGE_SIZE

/* A DMA that must fail, and why it did. */
static int refused(const char *who, int rc, int want, const struct sio_dma_fault *f)
{
	if (rc != want)
		return failed("expecting the DMA to fail", rc ? rc : -EINVAL);
	printf("  %s: DMA refused: %s (%s)\n", who, sio_fault_reason_name(f->reason),
	       strerror(-rc));
	return 0;
}

static void show_caches(struct sio_domain *d, struct sio_device *a,
			struct sio_device *b)
{
	struct sio_device *devs[] = { a, b };
	struct sio_soft_sva_stats st;

	sio_soft_sva_stats(d, &st);
	printf("  IOTLB: %llu invalidation(s), %llu hit(s), %llu miss(es)\n",
	       (unsigned long long)st.iotlb_invalidations,
	       (unsigned long long)st.iotlb_hits, (unsigned long long)st.iotlb_misses);
	for (int i = 0; i < 2; i++) {
		uint64_t n = 0, s = 0, e = 0;

		if (sio_soft_sva_atc(d, devs[i], &n, &s, &e))
			continue;
		printf("  %s device cache: %llu invalidation(s)", sio_device_name(devs[i]),
		       (unsigned long long)n);
		if (n)
			printf(", last [%#llx, %#llx)", (unsigned long long)s,
			       (unsigned long long)e);
		printf("\n");
	}
}

static int demo_sva_steps(struct sio_iommu *iommu, struct sio_mm *mm)
{
	struct sio_device_desc nic_desc = { .name = "nic0", .rid = 0x100, .pasid_bits = 20 };
	struct sio_device_desc gpu_desc = { .name = "gpu0", .rid = 0x200, .pasid_bits = 20 };
	struct sio_device *nic, *gpu;
	struct sio_sva *nic_bond, *gpu_bond, *again;
	struct sio_mm_stats mst;
	struct sio_dma_fault f;
	struct sio_domain *dom;
	sio_pasid_t pasid;
	uint64_t buf;
	char msg[32];

	STEP(sio_device_probe(iommu, &nic_desc, &nic), "probing nic0");
	STEP(sio_device_probe(iommu, &gpu_desc, &gpu), "probing gpu0");
	printf("  probed nic0 and gpu0 (separate groups, 20-bit PASIDs)\n");

	printf("\n== a process address space\n");
	STEP(sio_mm_mmap(mm, 0, 4 * PG, SIO_PROT_READ | SIO_PROT_WRITE, 0, &buf),
	     "mmap");
	STEP(sio_mm_write(mm, buf + 0x10, "hello from the CPU", 19), "CPU store");
	STEP(sio_mm_fault(mm, buf + PG, SIO_PROT_WRITE), "CPU touching page 1");
	STEP(sio_mm_fault(mm, buf + 2 * PG, SIO_PROT_WRITE), "CPU touching page 2");
	sio_mm_stats(mm, &mst);
	printf("  mmap: 16 KiB at %#llx (x86-64 4-level page table)\n",
	       (unsigned long long)buf);
	printf("  the CPU wrote at +0x10 and touched pages 1 and 2: %llu pages"
	       " populated on demand, page 3 never touched\n",
	       (unsigned long long)mst.pages);

	printf("\n== bind both devices to it\n");
	STEP(sio_sva_bind_device(nic, mm, &nic_bond), "binding nic0");
	STEP(sio_sva_bind_device(gpu, mm, &gpu_bond), "binding gpu0");
	pasid = sio_sva_get_pasid(nic_bond);
	dom = sio_sva_domain(nic_bond);
	if (sio_sva_get_pasid(gpu_bond) != pasid || sio_sva_domain(gpu_bond) != dom)
		return failed("expecting one PASID and one domain", -EINVAL);
	printf("  nic0 and gpu0 both got PASID %u: one PASID per mm\n", pasid);
	printf("  one SVA domain for the mm on this IOMMU, attached %u times\n",
	       sio_domain_attach_count(dom));
	STEP(sio_sva_bind_device(nic, mm, &again), "binding nic0 again");
	if (again != nic_bond)
		return failed("expecting the same bond", -EINVAL);
	printf("  binding nic0 again returns the same bond, now with %u users\n",
	       sio_sva_users(nic_bond));
	sio_sva_unbind_device(again);

	printf("\n== DMA through the PASID\n");
	STEP(sio_dma_read(gpu, pasid, buf + 0x10, msg, 19, &f), "gpu0 DMA read");
	printf("  gpu0 read %#llx: \"%s\"\n", (unsigned long long)(buf + 0x10), msg);
	STEP(sio_dma_write(nic, pasid, buf + PG, "hello from nic0", 16, &f),
	     "nic0 DMA write");
	STEP(sio_dma_read(gpu, pasid, buf + PG, msg, 16, &f), "gpu0 DMA read");
	printf("  nic0 wrote %#llx, gpu0 reads it back: \"%s\"\n",
	       (unsigned long long)(buf + PG), msg);
	STEP(sio_mm_read(mm, buf + PG, msg, 16), "CPU load");
	printf("  and so does the CPU: \"%s\"\n", msg);
	if (refused("nic0 at a page never touched", sio_dma_read(nic, pasid, buf + 3 * PG,
								  msg, 4, &f),
		    -EFAULT, &f))
		return 1;
	printf("  (with I/O page faults this is where a page request would go)\n");
	show_caches(dom, nic, gpu);

	printf("\n== munmap invalidates both devices\n");
	STEP(sio_mm_munmap(mm, buf + PG, PG), "munmap");
	printf("  munmap [%#llx, %#llx) returned; before it did:\n",
	       (unsigned long long)(buf + PG), (unsigned long long)(buf + 2 * PG));
	show_caches(dom, nic, gpu);
	if (refused("nic0 at the unmapped page",
		    sio_dma_read(nic, pasid, buf + PG, msg, 4, &f), -EFAULT, &f) ||
	    refused("gpu0 at the unmapped page",
		    sio_dma_write(gpu, pasid, buf + PG, "x", 1, &f), -EFAULT, &f))
		return 1;
	STEP(sio_dma_read(gpu, pasid, buf + 0x10, msg, 19, &f), "DMA elsewhere");
	printf("  the rest of the mapping still works: gpu0 reads \"%s\"\n", msg);

	printf("\n== unbind\n");
	sio_sva_unbind_device(nic_bond);
	if (refused("nic0 after unbind", sio_dma_read(nic, pasid, buf + 0x10, msg, 4, &f),
		    -ENOENT, &f))
		return 1;
	STEP(sio_dma_read(gpu, pasid, buf + 0x10, msg, 19, &f), "gpu0 after nic0's unbind");
	printf("  gpu0 is still bound: reads \"%s\"\n", msg);
	sio_sva_unbind_device(gpu_bond);
	if (refused("gpu0 after unbind", sio_dma_read(gpu, pasid, buf + 0x10, msg, 4, &f),
		    -ENOENT, &f))
		return 1;
	printf("  SVA domains left for the mm: %u; it keeps PASID %u until it is freed\n",
	       sio_sva_mm_domains(mm), sio_sva_mm_pasid(mm));
	sio_device_remove(nic);
	sio_device_put(nic);
	sio_device_remove(gpu);
	sio_device_put(gpu);
	return 0;
}

int demo_sva(void)
{
	struct sio_soft_config cfg = {
		.format = SIO_PT_X86_64,
		.pasid_bits = 20,
		.default_domain_type = SIO_DOMAIN_BLOCKED,
	};
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_mm *mm;
	int rc;

	printf("== an IOMMU with SVA\n");
	STEP(sio_system_create(&sys), "creating the system");
	STEP(sio_soft_iommu_create(sys, "soft0", &cfg, &iommu), "registering soft0");
	printf("  registered %s: %u-bit PASIDs, SVA\n", sio_iommu_name(iommu),
	       sio_iommu_caps(iommu)->pasid_bits);
	STEP(sio_mm_create(&mm), "creating the process address space");
	rc = demo_sva_steps(iommu, mm);
	if (rc)
		return rc;
	sio_mm_put(mm);
	STEP(sio_system_destroy(sys), "destroying the system");
	printf("\n  the process exited, its PASID went back, system destroyed\n");
	return 0;
}
