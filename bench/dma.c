/*
 * bench/dma: the device data path, against floors measured in the same run
 * (bench/floors.h).  Median over several runs of:
 *   translate    ns per sio_dma_translate() of a mapped IOVA, RID and
 *                PASID, cycling over 1,024 pages; divided by a hit in a
 *                4,096-entry hash table;
 *   dma r/w      sio_dma_read() / sio_dma_write() of 64 B, 64 KiB and
 *                2 MiB, the same IOVA and buffer each time as the memcpy
 *                floor copies the same buffers, as GB/s divided by
 *                memcpy's GB/s at the same size.
 *   walking     the same copies moving through the 4 MiB mapped window
 *                (64 B: a new page each time; 64 KiB: the next 64 KiB),
 *                so neither the data nor the translations stay in the
 *                caches, divided by memcpy doing the same walk over the
 *                same memory (measured here, in the same run).
 * The memory behind the IOVAs is 4 KiB-aligned, so the table maps it with
 * 4 KiB leaves and a copy crosses one leaf per 4 KiB.  The map+unmap cost
 * is in bench_map.
 *
 * Usage: bench_dma [runs]   (default 7)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "floors.h"
#include "softiommu/softiommu.h"

#define IOVA 0x1000000ull
#define NPAGES 1024
#define PAGE 4096
#define MAXRUNS 64

struct copy_case {
	const char *name;
	size_t len;
	long iters;
	double floor_gbps;
	double read_ns[MAXRUNS], write_ns[MAXRUNS];
};

/* memcpy walking the window as the DMA does: ns per copy. */
static double walk_memcpy_ns(char *dst, const char *src, size_t memlen,
			     size_t len, size_t stride, long iters)
{
	double v[BENCH_FLOOR_BATCHES];

	for (int b = 0; b < BENCH_FLOOR_BATCHES; b++) {
		double t0 = bench_now_ns();

		for (long i = 0; i < iters; i++) {
			memcpy(dst, src + (size_t)i * stride % memlen, len);
			__asm__ volatile("" : : "r"(dst) : "memory");
		}
		v[b] = (bench_now_ns() - t0) / iters;
	}
	return bench_median(v, BENCH_FLOOR_BATCHES);
}

static void target(const char *what, double ratio, double want, bool at_most)
{
	bool met = at_most ? ratio <= want : ratio >= want;

	printf("  target: %-36s %s %.1fx  measured %.2fx  %s\n", what,
	       at_most ? "<=" : ">=", want, ratio, met ? "met" : "NOT met");
}

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
	double t_rid[MAXRUNS], t_pasid[MAXRUNS], hash_ns;
	double w64[MAXRUNS], w64k[MAXRUNS], fw64, fw64k;
	struct copy_case cases[] = {
		{ "64 B", 64, 1000000, 0, { 0 }, { 0 } },
		{ "64 KiB", 64 << 10, 4000, 0, { 0 }, { 0 } },
		{ "2 MiB", 2 << 20, 100, 0, { 0 }, { 0 } },
	};
	const size_t ncases = sizeof(cases) / sizeof(cases[0]);
	const size_t memlen = (size_t)NPAGES * PAGE;
	char *mem, *buf;
	const long iters = 1000000;

	if (runs < 1 || runs > MAXRUNS)
		runs = 7;
	mem = aligned_alloc(PAGE, memlen);
	buf = aligned_alloc(PAGE, memlen);
	if (!mem || !buf || sio_system_create(&sys) ||
	    sio_mock_iommu_create(sys, "mock0", &iommu) ||
	    sio_device_probe(iommu, &desc, &dev) ||
	    sio_domain_alloc_paging(dev, 0, NULL, &dom) ||
	    sio_attach_device(dom, dev) ||
	    sio_attach_device_pasid(dom, dev, 7, &h) ||
	    sio_map(dom, IOVA, (uintptr_t)mem, memlen,
		    SIO_PROT_READ | SIO_PROT_WRITE)) {
		fprintf(stderr, "bench_dma: setup: %s\n", sio_last_error());
		return 1;
	}
	memset(mem, 1, memlen);
	memset(buf, 2, memlen);

	hash_ns = bench_floor_hash_hit_ns();
	for (size_t c = 0; c < ncases; c++)
		cases[c].floor_gbps = bench_floor_memcpy_gbps(cases[c].len);
	fw64 = walk_memcpy_ns(buf, mem, memlen, 64, PAGE, iters);
	fw64k = walk_memcpy_ns(buf, mem, memlen, 64 << 10, 64 << 10, 4000);

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

		for (size_t c = 0; c < ncases; c++) {
			struct copy_case *cc = &cases[c];

			t0 = bench_now_ns();
			for (long i = 0; i < cc->iters; i++)
				if (sio_dma_read(dev, SIO_NO_PASID,
						 IOVA, buf, cc->len, NULL))
					return 1;
			cc->read_ns[r] = (bench_now_ns() - t0) / cc->iters;
			t0 = bench_now_ns();
			for (long i = 0; i < cc->iters; i++)
				if (sio_dma_write(dev, SIO_NO_PASID,
						  IOVA, buf, cc->len, NULL))
					return 1;
			cc->write_ns[r] = (bench_now_ns() - t0) / cc->iters;
		}
		t0 = bench_now_ns();
		for (long i = 0; i < iters; i++)
			sio_dma_read(dev, SIO_NO_PASID,
				     IOVA + (uint64_t)i * PAGE % memlen, buf, 64,
				     NULL);
		w64[r] = (bench_now_ns() - t0) / iters;
		t0 = bench_now_ns();
		for (long i = 0; i < 4000; i++)
			sio_dma_read(dev, SIO_NO_PASID,
				     IOVA + ((uint64_t)i << 16) % memlen, buf,
				     64 << 10, NULL);
		w64k[r] = (bench_now_ns() - t0) / 4000;
	}

	printf("bench_dma: median of %d runs (mock driver, 4 KiB leaves)\n", runs);
	printf("  %-36s %10.1f ns\n", "floor: 4,096-entry hash hit", hash_ns);
	for (size_t c = 0; c < ncases; c++)
		printf("  floor: memcpy %-22s %10.2f GB/s\n", cases[c].name,
		       cases[c].floor_gbps);
	{
		double rid = bench_median(t_rid, runs);
		double pasid = bench_median(t_pasid, runs);

		printf("  %-36s %10.1f ns  %5.2fx hash hit\n", "translate, RID",
		       rid, rid / hash_ns);
		printf("  %-36s %10.1f ns  %5.2fx hash hit\n", "translate, PASID",
		       pasid, pasid / hash_ns);
		target("translate RID vs hash hit", rid / hash_ns, 2.0, true);
		target("translate PASID vs hash hit", pasid / hash_ns, 2.0, true);
	}
	for (size_t c = 0; c < ncases; c++) {
		struct copy_case *cc = &cases[c];
		double rns = bench_median(cc->read_ns, runs);
		double wns = bench_median(cc->write_ns, runs);
		double rg = (double)cc->len / rns, wg = (double)cc->len / wns;
		char name[64];

		snprintf(name, sizeof(name), "dma_read %s", cc->name);
		printf("  %-36s %10.1f ns %7.2f GB/s  %5.2fx memcpy\n", name,
		       rns, rg, rg / cc->floor_gbps);
		snprintf(name, sizeof(name), "dma_write %s", cc->name);
		printf("  %-36s %10.1f ns %7.2f GB/s  %5.2fx memcpy\n", name,
		       wns, wg, wg / cc->floor_gbps);
		if (cc->len == (64 << 10)) {
			target("dma_read 64 KiB vs memcpy", rg / cc->floor_gbps,
			       0.8, false);
			target("dma_write 64 KiB vs memcpy", wg / cc->floor_gbps,
			       0.8, false);
		}
	}

	{
		double a = bench_median(w64, runs), b = bench_median(w64k, runs);

		printf("  %-36s %10.1f ns  memcpy %6.1f ns  %5.2fx memcpy\n",
		       "dma_read 64 B walking (page stride)", a, fw64, fw64 / a);
		printf("  %-36s %10.1f ns  memcpy %6.1f ns  %5.2fx memcpy\n",
		       "dma_read 64 KiB walking 4 MiB", b, fw64k, fw64k / b);
	}

	sio_detach_device_pasid(dom, dev, 7);
	sio_detach_device(dev);
	sio_unmap(dom, IOVA, memlen);
	sio_domain_free(dom);
	sio_device_remove(dev);
	sio_device_put(dev);
	sio_system_destroy(sys);
	free(mem);
	free(buf);
	return 0;
}
