/*
 * bench/iommufd: latency of the iommufd ioctls a VMM issues most, through
 * the library's ioctl entry point (what the /dev/iommu shim calls): median
 * ns per IOMMU_IOAS_MAP and per IOMMU_IOAS_UNMAP of one 4 KiB page, on an
 * IOAS with one mock domain attached (so each map pins the page and maps
 * it into the domain's page table, and each unmap reverses both, with the
 * grace period unmap waits for), and on an IOAS with no domain.
 *
 * Usage: bench_iommufd [runs]   (default 7)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include "bench_util.h"
#include "softiommu/iommufd.h"
#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/iommufd_test.h"

#define PAGE 4096
#define ITERS 2000

/* One run: ITERS map+unmap pairs, timing each ioctl kind separately. */
static int run(struct sio_iommufd *ictx, uint32_t ioas, void *buf,
	       double *map_ns, double *unmap_ns)
{
	double tmap = 0, tunmap = 0;

	for (int i = 0; i < ITERS; i++) {
		struct iommu_ioas_map map = {
			.size = sizeof(map), .ioas_id = ioas,
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.user_va = (uintptr_t)buf, .length = PAGE,
			.iova = MOCK_APERTURE_START,
		};
		struct iommu_ioas_unmap unmap = {
			.size = sizeof(unmap), .ioas_id = ioas,
			.iova = MOCK_APERTURE_START, .length = PAGE,
		};
		double t0 = bench_now_ns(), t1;

		if (sio_iommufd_ioctl(ictx, IOMMU_IOAS_MAP, (unsigned long)&map))
			return -1;
		t1 = bench_now_ns();
		if (sio_iommufd_ioctl(ictx, IOMMU_IOAS_UNMAP, (unsigned long)&unmap))
			return -1;
		tmap += t1 - t0;
		tunmap += bench_now_ns() - t1;
	}
	*map_ns = tmap / ITERS;
	*unmap_ns = tunmap / ITERS;
	return 0;
}

static int alloc_ioas(struct sio_iommufd *ictx, uint32_t *id)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	if (sio_iommufd_ioctl(ictx, IOMMU_IOAS_ALLOC, (unsigned long)&a))
		return -1;
	*id = a.out_ioas_id;
	return 0;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 7;
	double m_dom[64], u_dom[64], m_bare[64], u_bare[64];
	struct sio_iommufd_host *host;
	struct sio_iommufd *ictx;
	uint32_t ioas_dom, ioas_bare;
	struct iommu_test_cmd mock = { .size = sizeof(mock),
				       .op = IOMMU_TEST_OP_MOCK_DOMAIN };
	void *buf;

	if (runs < 1 || runs > 64)
		runs = 7;
	buf = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		   -1, 0);
	if (buf == MAP_FAILED || sio_iommufd_host_create(&host) ||
	    sio_iommufd_open(host, &ictx) || alloc_ioas(ictx, &ioas_dom) ||
	    alloc_ioas(ictx, &ioas_bare)) {
		fprintf(stderr, "bench_iommufd: setup failed\n");
		return 1;
	}
	mock.id = ioas_dom;
	if (sio_iommufd_ioctl(ictx, IOMMU_TEST_CMD, (unsigned long)&mock)) {
		fprintf(stderr, "bench_iommufd: mock domain failed\n");
		return 1;
	}
	memset(buf, 1, PAGE);
	for (int r = 0; r < runs; r++) {
		if (run(ictx, ioas_dom, buf, &m_dom[r], &u_dom[r]) ||
		    run(ictx, ioas_bare, buf, &m_bare[r], &u_bare[r])) {
			fprintf(stderr, "bench_iommufd: ioctl failed\n");
			return 1;
		}
	}
	printf("bench_iommufd: median of %d runs of %d map+unmap pairs, one 4 KiB page\n",
	       runs, ITERS);
	printf("  %-44s %10.0f ns\n", "IOMMU_IOAS_MAP, IOAS with a mock domain",
	       bench_median(m_dom, runs));
	printf("  %-44s %10.0f ns\n", "IOMMU_IOAS_UNMAP, IOAS with a mock domain",
	       bench_median(u_dom, runs));
	printf("  %-44s %10.0f ns\n", "IOMMU_IOAS_MAP, IOAS without a domain",
	       bench_median(m_bare, runs));
	printf("  %-44s %10.0f ns\n", "IOMMU_IOAS_UNMAP, IOAS without a domain",
	       bench_median(u_bare, runs));
	sio_iommufd_release(ictx);
	sio_iommufd_host_destroy(host);
	munmap(buf, PAGE);
	return 0;
}
