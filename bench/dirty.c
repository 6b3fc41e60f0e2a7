/*
 * bench/dirty: IOMMU_HWPT_GET_DIRTY_BITMAP over 1 GiB, the read a VMM makes
 * once per round of a live migration, through the library's ioctl entry
 * point (what the /dev/iommu shim calls).
 *
 * Set-up, as the kernel's iommufd_dirty_tracking selftest: an IOAS with a
 * mock device, 1 GiB of shared memory mapped at the mock aperture in
 * pieces of PIECE bytes (one IOMMU_IOAS_MAP each), a paging HWPT allocated
 * with IOMMU_HWPT_ALLOC_DIRTY_TRACKING, tracking switched on, NDIRTY pages
 * spread over the range marked dirty with IOMMU_TEST_OP_DIRTY.  Twice:
 * with huge pages on (leaves as large as the pinned memory's alignment
 * allows, which varies from run to run: the line says what they were)
 * and with IOMMU_OPTION_HUGE_PAGES off (every leaf a 4 KiB CPU page, the
 * largest table to scan).  The memory itself is never touched, so the
 * benchmark costs no resident gigabyte.
 *
 * Timed: one GET_DIRTY_BITMAP of the whole range with 4 KiB bits (a
 * 32 KiB bitmap), with clearing (the pages are marked dirty again before
 * each call, outside the timing) and with IOMMU_HWPT_GET_DIRTY_BITMAP_
 * NO_CLEAR.  Each call's bitmap is checked: exactly the dirtied pages'
 * leaves.  Printed: median ns per call, GB/s of IOVA scanned, and the
 * getppid floor of the same run.
 *
 * Usage: bench_dirty [runs]   (default 7)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench_util.h"
#include "floors.h"
#include "softiommu/iommufd.h"
#include "softiommu/softiommu.h"
#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/iommufd_test.h"

#define SPAN (1ull << 30)		/* IOVA scanned per call */
#define PIECE (2ull << 20)		/* one IOMMU_IOAS_MAP */
#define BIT_PAGE 4096ull		/* the bitmap's page_size */
#define NBITS (SPAN / BIT_PAGE)
#define NDIRTY 16			/* pages marked dirty */
#define CALLS 200			/* timed calls per run */
#define MAXRUNS 64

static long ioc(struct sio_iommufd *ictx, unsigned int cmd, void *arg)
{
	long rc = sio_iommufd_ioctl(ictx, cmd, (unsigned long)arg);

	if (rc < 0) {
		fprintf(stderr, "bench_dirty: ioctl %#x: %ld %s\n", cmd, rc,
			sio_last_error());
		exit(1);
	}
	return rc;
}

struct env {
	struct sio_iommufd *ictx;
	uint32_t hwpt;
	uint64_t iova;
	uint64_t *want;			/* the dirtied pages' bits */
	uint64_t *got;
	uint64_t nset;			/* bits a read sets: the dirtied
					 * pages' whole leaves */
};

static void mark_dirty(struct env *e)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_DIRTY, .id = e->hwpt,
		.dirty = { .iova = e->iova, .length = SPAN,
			   .page_size = BIT_PAGE, .uptr = (uintptr_t)e->want },
	};

	ioc(e->ictx, IOMMU_TEST_CMD, &c);
	if (c.dirty.out_nr_dirty != NDIRTY) {
		fprintf(stderr, "bench_dirty: %llu pages marked, not %d\n",
			(unsigned long long)c.dirty.out_nr_dirty, NDIRTY);
		exit(1);
	}
}

/* One timed read; the bitmap must hold each dirtied page's whole leaf. */
static double read_bitmap(struct env *e, unsigned int flags)
{
	struct iommu_hwpt_get_dirty_bitmap c = {
		.size = sizeof(c), .hwpt_id = e->hwpt, .flags = flags,
		.iova = e->iova, .length = SPAN, .page_size = BIT_PAGE,
		.data = (uintptr_t)e->got,
	};
	uint64_t nset = 0;
	double t0;

	memset(e->got, 0, NBITS / 8);
	t0 = bench_now_ns();
	ioc(e->ictx, IOMMU_HWPT_GET_DIRTY_BITMAP, &c);
	t0 = bench_now_ns() - t0;
	for (uint64_t w = 0; w < NBITS / 64; w++)
		nset += (uint64_t)__builtin_popcountll(e->got[w]);
	if (nset != e->nset) {
		fprintf(stderr, "bench_dirty: %llu bits set, not %llu\n",
			(unsigned long long)nset, (unsigned long long)e->nset);
		exit(1);
	}
	for (int i = 0; i < NDIRTY; i++) {
		uint64_t bit = (uint64_t)i * (NBITS / NDIRTY) + 7;

		if (!(e->got[bit / 64] >> (bit % 64) & 1)) {
			fprintf(stderr, "bench_dirty: page %llu not reported\n",
				(unsigned long long)bit);
			exit(1);
		}
	}
	return t0;
}

static double run_clear(struct env *e)
{
	double v[CALLS];

	for (int i = 0; i < CALLS; i++) {
		mark_dirty(e);
		v[i] = read_bitmap(e, 0);
	}
	return bench_median(v, CALLS);
}

static double run_no_clear(struct env *e)
{
	double v[CALLS];

	mark_dirty(e);
	for (int i = 0; i < CALLS; i++)
		v[i] = read_bitmap(e, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR);
	return bench_median(v, CALLS);
}

/* An iommufd context set up as the file comment says; huge false turns
 * IOMMU_OPTION_HUGE_PAGES off on the IOAS, so every leaf is a CPU page. */
static void setup(struct env *e, struct sio_iommufd_host *host, char *mem,
		  bool huge)
{
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct iommu_option opt = {
		.size = sizeof(opt), .option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_SET, .val64 = 0,
	};
	struct iommu_test_cmd md = { .size = sizeof(md),
				     .op = IOMMU_TEST_OP_MOCK_DOMAIN };
	struct iommu_hwpt_alloc hwpt = {
		.size = sizeof(hwpt), .flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
	};
	struct iommu_hwpt_set_dirty_tracking track = {
		.size = sizeof(track), .flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
	};
	struct iommu_hwpt_get_dirty_bitmap g = {
		.size = sizeof(g), .iova = MOCK_APERTURE_START, .length = SPAN,
		.page_size = BIT_PAGE,
	};
	if (sio_iommufd_open(host, &e->ictx)) {
		fprintf(stderr, "bench_dirty: open: %s\n", sio_last_error());
		exit(1);
	}
	e->iova = MOCK_APERTURE_START;
	ioc(e->ictx, IOMMU_IOAS_ALLOC, &ioas);
	if (!huge) {
		opt.object_id = ioas.out_ioas_id;
		ioc(e->ictx, IOMMU_OPTION, &opt);
	}
	md.id = ioas.out_ioas_id;
	ioc(e->ictx, IOMMU_TEST_CMD, &md);
	for (uint64_t off = 0; off < SPAN; off += PIECE) {
		struct iommu_ioas_map map = {
			.size = sizeof(map), .ioas_id = ioas.out_ioas_id,
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA |
				 IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.user_va = (uintptr_t)mem + off, .length = PIECE,
			.iova = e->iova + off,
		};

		ioc(e->ictx, IOMMU_IOAS_MAP, &map);
	}
	hwpt.dev_id = md.mock_domain.out_idev_id;
	hwpt.pt_id = ioas.out_ioas_id;
	ioc(e->ictx, IOMMU_HWPT_ALLOC, &hwpt);
	e->hwpt = hwpt.out_hwpt_id;
	track.hwpt_id = e->hwpt;
	ioc(e->ictx, IOMMU_HWPT_SET_DIRTY_TRACKING, &track);
	memset(e->want, 0, NBITS / 8);
	for (int i = 0; i < NDIRTY; i++) {
		uint64_t bit = (uint64_t)i * (NBITS / NDIRTY) + 7;

		e->want[bit / 64] |= 1ull << (bit % 64);
	}
	/* How much one dirty page reports: its leaf (the first read tells;
	 * the pieces' alignment in the pinned memory decides it). */
	mark_dirty(e);
	memset(e->got, 0, NBITS / 8);
	g.hwpt_id = e->hwpt;
	g.data = (uintptr_t)e->got;
	ioc(e->ictx, IOMMU_HWPT_GET_DIRTY_BITMAP, &g);
	e->nset = 0;
	for (uint64_t w = 0; w < NBITS / 64; w++)
		e->nset += (uint64_t)__builtin_popcountll(e->got[w]);
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 7;
	double clr[2][MAXRUNS], noclr[2][MAXRUNS], floor[MAXRUNS];
	struct sio_iommufd_host *host;
	struct env e[2];
	double f;
	char *mem;

	if (runs < 1 || runs > MAXRUNS)
		runs = 7;
	/* Aligned to PIECE, so that huge leaves can map it. */
	mem = mmap(NULL, SPAN + PIECE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED || sio_iommufd_host_create(&host)) {
		fprintf(stderr, "bench_dirty: setup: %s\n", sio_last_error());
		return 1;
	}
	mem += (PIECE - (uintptr_t)mem % PIECE) % PIECE;
	for (int k = 0; k < 2; k++) {
		e[k] = (struct env){
			.want = calloc(NBITS / 64, sizeof(uint64_t)),
			.got = calloc(NBITS / 64, sizeof(uint64_t)),
		};
		if (!e[k].want || !e[k].got) {
			fprintf(stderr, "bench_dirty: out of memory\n");
			return 1;
		}
		setup(&e[k], host, mem, k == 0);
	}
	for (int r = 0; r < runs; r++) {
		floor[r] = bench_floor_getppid_ns();
		for (int k = 0; k < 2; k++) {
			clr[k][r] = run_clear(&e[k]);
			noclr[k][r] = run_no_clear(&e[k]);
		}
	}
	f = bench_median(floor, runs);
	printf("bench_dirty: IOMMU_HWPT_GET_DIRTY_BITMAP over 1 GiB mapped in %llu MiB"
	       " pieces, %d pages dirty, 4 KiB bits;\n"
	       "             median of %d runs of %d calls, getppid floor %.0f ns\n",
	       (unsigned long long)(PIECE >> 20), NDIRTY, runs, CALLS, f);
	for (int k = 0; k < 2; k++) {
		double c = bench_median(clr[k], runs);
		double n = bench_median(noclr[k], runs);

		printf("  %-11s %5llu KiB leaves* read and clear %9.0f ns %7.1f GB/s"
		       " %6.0fx getppid   NO_CLEAR %9.0f ns %7.1f GB/s %6.0fx getppid\n",
		       k ? "huge off" : "huge on",
		       (unsigned long long)(e[k].nset * BIT_PAGE / NDIRTY >> 10), c,
		       (double)SPAN / c, c / f, n, (double)SPAN / n, n / f);
		sio_iommufd_release(e[k].ictx);
		free(e[k].want);
		free(e[k].got);
	}
	printf("  (* KiB reported per dirty page: the leaves that hold them)\n");
	sio_iommufd_host_destroy(host);
	return 0;
}
