/*
 * bench/map: what sio_map() + sio_unmap() of one 4 KiB page costs through
 * the core, beside the page-table work alone measured in the same run:
 * sio_pt_map_pages() + sio_pt_unmap_pages() of the same page in a table of
 * the same format and configuration, with its freed table pages released
 * at once (single-threaded, so no grace period is needed there).  The
 * difference is what the core adds: checks, the page-size split, the map
 * lock, the IOTLB invalidation and the wait for DMA in flight.
 *
 * Two drivers: the mock (2 KiB-granule AMD v1 table, the selftest's) and
 * a soft IOMMU on the x86-64 4-level format.  Each domain is attached to a
 * device, as domains that are unmapped in practice are, and a device
 * thread has made one DMA and waits, as a device model's thread does
 * between requests: that makes it an RCU reader the process knows of, so
 * a grace period, where one is waited for, costs what it costs in a real
 * program (membarrier), not what it costs with no reader at all.
 *
 * Usage: bench_map [runs]   (default 7)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "softiommu/softiommu.h"

#define PAGE 4096
#define MAXRUNS 64
#define ITERS 20000

__attribute__((noreturn)) static void die(const char *what)
{
	fprintf(stderr, "bench_map: %s: %s\n", what, sio_last_error());
	exit(1);
}

/* ns per map+unmap of one 4 KiB page directly on a table of cfg. */
static double pt_alone(const struct sio_pt_cfg *cfg, uint64_t iova, char *mem)
{
	uint64_t bitmap, pgsize;
	struct sio_pt *pt;
	size_t mapped, count;
	double t0, ns;

	if (sio_pt_create(cfg, &pt))
		die("sio_pt_create");
	bitmap = sio_pt_pgsize_bitmap(pt);
	/* The split the core makes for 4 KiB: the largest size <= 4 KiB. */
	pgsize = 1ull << (63 - __builtin_clzll(bitmap & (2 * PAGE - 1)));
	count = PAGE / pgsize;
	t0 = bench_now_ns();
	for (int i = 0; i < ITERS; i++) {
		struct sio_iotlb_gather g;

		if (sio_pt_map_pages(pt, iova, (uintptr_t)mem, pgsize, count,
				     SIO_PROT_READ, &mapped))
			die("sio_pt_map_pages");
		sio_iotlb_gather_init(&g);
		if (sio_pt_unmap_pages(pt, iova, pgsize, count, &g) != PAGE)
			die("sio_pt_unmap_pages");
		sio_pt_free_deferred(g.freelist);
	}
	ns = (bench_now_ns() - t0) / ITERS;
	sio_pt_destroy(pt);
	return ns;
}

static double core_map_unmap(struct sio_domain *dom, uint64_t iova, char *mem)
{
	double t0 = bench_now_ns();

	for (int i = 0; i < ITERS; i++) {
		if (sio_map(dom, iova, (uintptr_t)mem, PAGE, SIO_PROT_READ))
			die("sio_map");
		if (sio_unmap(dom, iova, PAGE) != PAGE)
			die("sio_unmap");
	}
	return (bench_now_ns() - t0) / ITERS;
}

struct idle_device {
	struct sio_device *dev;
	uint64_t iova;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int ready, stop;
};

static void *idle_device_thread(void *arg)
{
	struct idle_device *d = arg;
	char c;

	sio_dma_read(d->dev, SIO_NO_PASID, d->iova, &c, 1, NULL);
	pthread_mutex_lock(&d->lock);
	d->ready = 1;
	pthread_cond_broadcast(&d->cond);
	while (!d->stop)
		pthread_cond_wait(&d->cond, &d->lock);
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

struct setup {
	const char *name;
	struct sio_pt_cfg ptcfg;
	uint64_t iova;
};

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 7;
	const struct setup setups[] = {
		{ "mock (2 KiB AMD v1)",
		  { .format = SIO_PT_MOCK, .ias = 0, .oas = 51 }, 0x1000000ull },
		{ "soft x86_64-4",
		  { .format = SIO_PT_X86_64 }, 0x1000000ull },
	};
	struct sio_soft_config soft = { .format = SIO_PT_X86_64,
					.default_domain_type = SIO_DOMAIN_BLOCKED };
	char *mem = aligned_alloc(PAGE, PAGE);

	if (runs < 1 || runs > MAXRUNS)
		runs = 7;
	if (!mem)
		return 1;
	printf("bench_map: median of %d runs, ns per 4 KiB map + unmap\n", runs);
	for (size_t s = 0; s < sizeof(setups) / sizeof(setups[0]); s++) {
		struct sio_device_desc desc = { .name = "bench" };
		double t_core[MAXRUNS], t_pt[MAXRUNS], core, pt;
		struct sio_system *sys = NULL;
		struct sio_iommu *iommu = NULL;
		struct sio_device *dev = NULL;
		struct sio_domain *dom = NULL;

		if (sio_system_create(&sys))
			die("system");
		if (s == 0 ? sio_mock_iommu_create(sys, "mock0", &iommu) :
			     sio_soft_iommu_create(sys, "soft0", &soft, &iommu))
			die("iommu");
		if (sio_device_probe(iommu, &desc, &dev) ||
		    sio_domain_alloc_paging(dev, 0, NULL, &dom) ||
		    sio_attach_device(dom, dev))
			die("setup");
		/* A neighbour keeps the table levels above the page alive, as
		 * in the pgtable-alone loop's steady state. */
		if (sio_map(dom, setups[s].iova + PAGE, (uintptr_t)mem, PAGE,
			    SIO_PROT_READ))
			die("neighbour");
		struct idle_device idle = { .dev = dev, .iova = setups[s].iova + PAGE,
					    .lock = PTHREAD_MUTEX_INITIALIZER,
					    .cond = PTHREAD_COND_INITIALIZER };
		pthread_t t;

		if (pthread_create(&t, NULL, idle_device_thread, &idle))
			die("pthread_create");
		pthread_mutex_lock(&idle.lock);
		while (!idle.ready)
			pthread_cond_wait(&idle.cond, &idle.lock);
		pthread_mutex_unlock(&idle.lock);
		for (int r = 0; r < runs; r++) {
			t_pt[r] = pt_alone(&setups[s].ptcfg, setups[s].iova, mem);
			t_core[r] = core_map_unmap(dom, setups[s].iova, mem);
		}
		pthread_mutex_lock(&idle.lock);
		idle.stop = 1;
		pthread_cond_broadcast(&idle.cond);
		pthread_mutex_unlock(&idle.lock);
		pthread_join(t, NULL);
		core = bench_median(t_core, runs);
		pt = bench_median(t_pt, runs);
		printf("  %-22s pgtable alone %8.1f ns   sio_map+sio_unmap %8.1f ns   %6.2fx\n",
		       setups[s].name, pt, core, core / pt);
		printf("  target: %-22s sio_map+sio_unmap <= 5.0x pgtable  measured %.2fx  %s\n",
		       setups[s].name, core / pt, core / pt <= 5.0 ? "met" : "NOT met");
		sio_detach_device(dev);
		sio_unmap(dom, setups[s].iova + PAGE, PAGE);
		sio_domain_free(dom);
		sio_device_remove(dev);
		sio_device_put(dev);
		sio_system_destroy(sys);
	}
	free(mem);
	return 0;
}
