/*
 * bench/shim/pin: what a pin costs as the number of live pins grows.
 *
 * Runs under the launcher as an unmodified program would:
 *   build/softiommu run -- build/bench/bench_pin [max_pins] [budget_s]
 *
 * It opens /dev/iommu, attaches a mock domain to an IOAS (the selftest
 * ABI's IOMMU_TEST_OP_MOCK_DOMAIN), so every IOMMU_IOAS_MAP pins its pages
 * and maps them into the domain, and measures:
 *
 *  1. IOMMU_IOAS_MAP and IOMMU_IOAS_UNMAP of one 4 KiB page of private
 *     anonymous memory, repeated on the same page (median ns of batches),
 *     while 1, 1,000 and max_pins (default 100,000) other pages are pinned:
 *     distinct pages of one private anonymous mapping, each mapped at its
 *     own IOVA.  Making those pins is timed too (per map).
 *  2. 1 GiB of private anonymous memory mapped in 4 KiB pieces at
 *     consecutive IOVAs, as a VMM maps guest memory while it boots: the
 *     total and the time per map, then one IOAS_UNMAP of everything.
 *
 * Each figure is printed with its ratio to two floors measured in the same
 * run (floors.h): ioctl(FIONREAD) on a pipe and getppid().  A section that
 * fails (an ioctl error) or passes budget_s seconds (default 60) while
 * making pins stops there and says how far it got, so the figures of a
 * slow implementation stay measurable.  The "target" line compares the
 * map of section 1 with twice the FIONREAD floor.
 *
 * The process's mapping count (lines of /proc/self/maps) is printed after
 * each section: the library should add mappings per memory file, not per
 * pin.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench_util.h"
#include "floors.h"
#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/iommufd_test.h"

#define PAGE 4096ul
#define BATCHES 7
#define PER_BATCH 300
#define GIB (1ul << 30)

static int iommufd = -1;
static uint32_t ioas_id;

static int map_page(uint64_t uva, uint64_t iova, size_t len)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map), .ioas_id = ioas_id,
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.user_va = uva, .length = len, .iova = iova,
	};

	return ioctl(iommufd, IOMMU_IOAS_MAP, &map);
}

static int unmap_range(uint64_t iova, uint64_t len)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap), .ioas_id = ioas_id,
		.iova = iova, .length = len,
	};

	return ioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap);
}

static long count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;

	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static double fion, ppid;

static void show(const char *what, double ns)
{
	printf("  %-52s %11.0f ns  %7.2fx FIONREAD  %7.2fx getppid\n", what, ns,
	       ns / fion, ns / ppid);
}

/*
 * Pin pages [0, n) of mem at IOVAs from iova_base, stopping at the budget;
 * returns how many were mapped, *ns the time.
 */
static long make_pins(char *mem, long n, uint64_t iova_base, double budget_ns,
		      double *ns)
{
	double t0 = bench_now_ns();
	long i;

	for (i = 0; i < n; i++) {
		if (map_page((uintptr_t)mem + i * PAGE, iova_base + i * PAGE,
			     PAGE)) {
			fprintf(stderr, "bench_pin: IOAS_MAP of pin %ld failed: %s\n",
				i, strerror(errno));
			break;
		}
		if ((i & 255) == 255 && bench_now_ns() - t0 > budget_ns) {
			i++;
			break;
		}
	}
	*ns = bench_now_ns() - t0;
	return i;
}

/* Median ns of one IOAS_MAP and one IOAS_UNMAP of the page at uva. */
static int map_unmap(uint64_t uva, uint64_t iova, double *map_ns,
		     double *unmap_ns)
{
	double m[BATCHES], u[BATCHES];

	for (int b = 0; b < BATCHES; b++) {
		double tm = 0, tu = 0;

		for (int i = 0; i < PER_BATCH; i++) {
			double t0 = bench_now_ns(), t1;

			if (map_page(uva, iova, PAGE))
				return -1;
			t1 = bench_now_ns();
			if (unmap_range(iova, PAGE))
				return -1;
			tm += t1 - t0;
			tu += bench_now_ns() - t1;
		}
		m[b] = tm / PER_BATCH;
		u[b] = tu / PER_BATCH;
	}
	*map_ns = bench_median(m, BATCHES);
	*unmap_ns = bench_median(u, BATCHES);
	return 0;
}

static int setup(void)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	struct iommu_test_cmd mock = { .size = sizeof(mock),
				       .op = IOMMU_TEST_OP_MOCK_DOMAIN };

	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0 || ioctl(iommufd, IOMMU_IOAS_ALLOC, &a))
		return -1;
	ioas_id = a.out_ioas_id;
	mock.id = ioas_id;
	return ioctl(iommufd, IOMMU_TEST_CMD, &mock);
}

int main(int argc, char **argv)
{
	long max_pins = argc > 1 ? atol(argv[1]) : 100000;
	double budget = (argc > 2 ? atof(argv[2]) : 60) * 1e9;
	const long counts[] = { 1, 1000, max_pins };
	double worst_ratio = 0, first_ratio = 0;
	bool all_made = true;
	uint64_t iova_base = MOCK_APERTURE_START + 16 * PAGE;
	char *probe, *mem;
	long made = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (max_pins < 1000)
		max_pins = 1000;
	if (setup()) {
		fprintf(stderr, "bench_pin: no /dev/iommu with a mock domain "
			"(run under softiommu run): %s\n", strerror(errno));
		return 1;
	}
	fion = bench_floor_fionread_ns();
	ppid = bench_floor_getppid_ns();
	printf("floors: ioctl(FIONREAD) %.0f ns, getppid %.0f ns\n", fion, ppid);
	printf("mappings at start: %ld\n", count_maps());

	probe = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mem = mmap(NULL, (size_t)max_pins * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (probe == MAP_FAILED || mem == MAP_FAILED) {
		perror("bench_pin: mmap");
		return 1;
	}
	memset(probe, 1, PAGE);

	printf("\n1. IOAS_MAP + IOAS_UNMAP of one 4 KiB page, mock domain, "
	       "with live pins\n");
	for (int c = 0; c < 3; c++) {
		double ns, mns, uns;
		char what[96];

		if (counts[c] > made) {
			long got = make_pins(mem + made * PAGE, counts[c] - made,
					     iova_base + made * PAGE,
					     budget, &ns);

			snprintf(what, sizeof(what), "making pins %ld..%ld, per map",
				 made + 1, made + got);
			made += got;
			if (got)
				show(what, ns / got);
			if (made < counts[c]) {
				printf("  stopped at %ld live pins of %ld (%s after "
				       "%.1f s)\n", made, counts[c],
				       ns > budget ? "budget" : "error",
				       ns / 1e9);
				all_made = false;
			}
		}
		if (map_unmap((uintptr_t)probe, MOCK_APERTURE_START, &mns, &uns)) {
			fprintf(stderr, "bench_pin: map/unmap failed: %s\n",
				strerror(errno));
			return 1;
		}
		snprintf(what, sizeof(what), "IOAS_MAP   with %ld live pins", made);
		show(what, mns);
		snprintf(what, sizeof(what), "IOAS_UNMAP with %ld live pins", made);
		show(what, uns);
		if (c == 0)
			first_ratio = mns / fion;
		if (mns / fion > worst_ratio)
			worst_ratio = mns / fion;
		printf("  mappings: %ld\n", count_maps());
		if (made < counts[c])
			break;
	}
	if (unmap_range(0, UINT64_MAX))
		fprintf(stderr, "bench_pin: unmap all: %s\n", strerror(errno));
	munmap(mem, (size_t)max_pins * PAGE);

	printf("\n2. 1 GiB of private anonymous memory mapped in 4 KiB pieces\n");
	mem = mmap(NULL, GIB, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) {
		perror("bench_pin: mmap 1 GiB");
		return 1;
	}
	{
		long n = (long)(GIB / PAGE), got;
		double ns, t0;

		got = make_pins(mem, n, MOCK_APERTURE_START, budget, &ns);
		printf("  %ld of %ld maps in %.3f s\n", got, n, ns / 1e9);
		if (got)
			show("per map", ns / got);
		if (got < n)
			printf("  stopped at %ld maps (%s)\n", got,
			       ns > budget ? "budget" : "error");
		printf("  mappings: %ld\n", count_maps());
		t0 = bench_now_ns();
		if (unmap_range(0, UINT64_MAX))
			fprintf(stderr, "bench_pin: unmap all: %s\n",
				strerror(errno));
		printf("  unmap of everything: %.3f s\n",
		       (bench_now_ns() - t0) / 1e9);
	}

	printf("\ntarget: IOAS_MAP of 4 KiB, mock domain <= 2x FIONREAD: "
	       "%.2fx with 1 live pin, %.2fx worst (with %ld live pins%s): %s\n",
	       first_ratio, worst_ratio, made,
	       all_made ? "" : ", not all made",
	       worst_ratio <= 2 && all_made ? "met" : "not met");
	return 0;
}
