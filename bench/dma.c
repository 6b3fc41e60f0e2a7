/*
 * bench/dma: the device data path.  Median ns per sio_dma_translate() of a
 * mapped IOVA (RID and PASID), per 64-byte sio_dma_read(), and per
 * sio_map()+sio_unmap() of one 4 KiB page through the core (which includes
 * the grace period unmap waits for), over several runs.
 *
 * Usage: bench_dma [runs]   (default 7)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "softiommu/softiommu.h"

#define IOVA 0x1000000ull
#define NPAGES 1024
#define PAGE 4096

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 7;
	struct sio_device_desc desc = { .name = "bench", .flags = SIO_MOCK_DEV_PASID };
	struct sio_attach_handle h = { 0 };
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_device *dev;
	struct sio_domain *dom;
	struct sio_dma_xlate x;
	double t_rid[64], t_pasid[64], t_read[64], t_map[64];
	char *mem, out[64];
	const long iters = 1000000, map_iters = 2000;

	if (runs < 1 || runs > 64)
		runs = 7;
	mem = aligned_alloc(PAGE, (size_t)NPAGES * PAGE);
	if (!mem || sio_system_create(&sys) ||
	    sio_mock_iommu_create(sys, "mock0", &iommu) ||
	    sio_device_probe(iommu, &desc, &dev) ||
	    sio_domain_alloc_paging(dev, 0, NULL, &dom) ||
	    sio_attach_device(dom, dev) ||
	    sio_attach_device_pasid(dom, dev, 7, &h) ||
	    sio_map(dom, IOVA, (uintptr_t)mem, (size_t)NPAGES * PAGE,
		    SIO_PROT_READ | SIO_PROT_WRITE)) {
		fprintf(stderr, "bench_dma: setup: %s\n", sio_last_error());
		return 1;
	}
	memset(mem, 1, (size_t)NPAGES * PAGE);
	for (int r = 0; r < runs; r++) {
		double t0 = bench_now_ns();

		for (long i = 0; i < iters; i++)
			sio_dma_translate(dev, SIO_NO_PASID,
					  IOVA + (uint64_t)(i % NPAGES) * PAGE,
					  SIO_DMA_READ, &x, NULL);
		t_rid[r] = (bench_now_ns() - t0) / iters;
		t0 = bench_now_ns();
		for (long i = 0; i < iters; i++)
			sio_dma_translate(dev, 7, IOVA + (uint64_t)(i % NPAGES) * PAGE,
					  SIO_DMA_READ, &x, NULL);
		t_pasid[r] = (bench_now_ns() - t0) / iters;
		t0 = bench_now_ns();
		for (long i = 0; i < iters; i++)
			sio_dma_read(dev, SIO_NO_PASID,
				     IOVA + (uint64_t)(i % NPAGES) * PAGE, out,
				     sizeof(out), NULL);
		t_read[r] = (bench_now_ns() - t0) / iters;
		t0 = bench_now_ns();
		for (long i = 0; i < map_iters; i++) {
			uint64_t iova = IOVA + (uint64_t)NPAGES * PAGE;

			sio_map(dom, iova, (uintptr_t)mem, PAGE, SIO_PROT_READ);
			sio_unmap(dom, iova, PAGE);
		}
		t_map[r] = (bench_now_ns() - t0) / map_iters;
	}
	printf("bench_dma: median of %d runs (mock driver, 2 KiB-granule table)\n", runs);
	printf("  %-40s %10.1f ns\n", "translate, RID", bench_median(t_rid, runs));
	printf("  %-40s %10.1f ns\n", "translate, PASID", bench_median(t_pasid, runs));
	printf("  %-40s %10.1f ns\n", "dma_read 64 B", bench_median(t_read, runs));
	printf("  %-40s %10.1f ns\n", "sio_map + sio_unmap 4 KiB (core)", bench_median(t_map, runs));

	sio_detach_device_pasid(dom, dev, 7);
	sio_detach_device(dev);
	sio_unmap(dom, IOVA, (size_t)NPAGES * PAGE);
	sio_domain_free(dom);
	sio_device_remove(dev);
	sio_device_put(dev);
	sio_system_destroy(sys);
	free(mem);
	return 0;
}
