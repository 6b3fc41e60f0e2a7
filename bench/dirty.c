/*
 * bench/dirty: IOMMU_HWPT_GET_DIRTY_BITMAP over 1 GiB, the read a VMM makes
 * once per round of a live migration, through the library's ioctl entry
 * point (what the /dev/iommu shim calls).
 *
 * Set-up, as the kernel's iommufd_dirty_tracking selftest: an IOAS with a
 * mock device, 1 GiB of shared memory mapped at the mock aperture in
 * pieces of PIECE bytes (one IOMMU_IOAS_MAP each), a paging HWPT allocated
 * with IOMMU_HWPT_ALLOC_DIRTY_TRACKING (huge leaves where the pieces allow
 * them), tracking switched on, NDIRTY pages spread over the range marked
 * dirty with IOMMU_TEST_OP_DIRTY.  The memory itself is never touched, so
 * the benchmark costs no resident gigabyte.
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
	uint64_t leaf;			/* bytes one dirty bit reports */
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
	uint64_t per_leaf = e->leaf / BIT_PAGE, nset = 0;
	double t0;

	memset(e->got, 0, NBITS / 8);
	t0 = bench_now_ns();
	ioc(e->ictx, IOMMU_HWPT_GET_DIRTY_BITMAP, &c);
	t0 = bench_now_ns() - t0;
	for (uint64_t w = 0; w < NBITS / 64; w++)
		nset += (uint64_t)__builtin_popcountll(e->got[w]);
	if (nset != NDIRTY * per_leaf) {
		fprintf(stderr, "bench_dirty: %llu bits set, not %llu\n",
			(unsigned long long)nset,
			(unsigned long long)(NDIRTY * per_leaf));
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

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 7;
	double clr[MAXRUNS], noclr[MAXRUNS], floor[MAXRUNS];
	struct sio_iommufd_host *host;
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct iommu_test_cmd md = { .size = sizeof(md),
				     .op = IOMMU_TEST_OP_MOCK_DOMAIN };
	struct iommu_hwpt_alloc hwpt = {
		.size = sizeof(hwpt), .flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
	};
	struct iommu_hwpt_set_dirty_tracking track = {
		.size = sizeof(track), .flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
	};
	struct env e = { .iova = MOCK_APERTURE_START };
	double c, n, f;
	char *mem;

	if (runs < 1 || runs > MAXRUNS)
		runs = 7;
	/* Aligned to PIECE so that huge leaves can map it. */
	mem = mmap(NULL, SPAN + PIECE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	e.want = calloc(NBITS / 64, sizeof(uint64_t));
	e.got = calloc(NBITS / 64, sizeof(uint64_t));
	if (mem == MAP_FAILED || !e.want || !e.got ||
	    sio_iommufd_host_create(&host) || sio_iommufd_open(host, &e.ictx)) {
		fprintf(stderr, "bench_dirty: setup: %s\n", sio_last_error());
		return 1;
	}
	mem += (PIECE - (uintptr_t)mem % PIECE) % PIECE;
	ioc(e.ictx, IOMMU_IOAS_ALLOC, &ioas);
	md.id = ioas.out_ioas_id;
	ioc(e.ictx, IOMMU_TEST_CMD, &md);
	for (uint64_t off = 0; off < SPAN; off += PIECE) {
		struct iommu_ioas_map map = {
			.size = sizeof(map), .ioas_id = ioas.out_ioas_id,
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA |
				 IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.user_va = (uintptr_t)mem + off, .length = PIECE,
			.iova = e.iova + off,
		};

		ioc(e.ictx, IOMMU_IOAS_MAP, &map);
	}
	hwpt.dev_id = md.mock_domain.out_idev_id;
	hwpt.pt_id = ioas.out_ioas_id;
	ioc(e.ictx, IOMMU_HWPT_ALLOC, &hwpt);
	e.hwpt = hwpt.out_hwpt_id;
	track.hwpt_id = e.hwpt;
	ioc(e.ictx, IOMMU_HWPT_SET_DIRTY_TRACKING, &track);
	for (int i = 0; i < NDIRTY; i++) {
		uint64_t bit = (uint64_t)i * (NBITS / NDIRTY) + 7;

		e.want[bit / 64] |= 1ull << (bit % 64);
	}
	/* How much one dirty page reports: its leaf (the first read tells). */
	e.leaf = BIT_PAGE;
	{
		struct iommu_hwpt_get_dirty_bitmap g = {
			.size = sizeof(g), .hwpt_id = e.hwpt,
			.iova = e.iova, .length = SPAN, .page_size = BIT_PAGE,
			.data = (uintptr_t)e.got,
		};
		uint64_t nset = 0;

		mark_dirty(&e);
		ioc(e.ictx, IOMMU_HWPT_GET_DIRTY_BITMAP, &g);
		for (uint64_t w = 0; w < NBITS / 64; w++)
			nset += (uint64_t)__builtin_popcountll(e.got[w]);
		e.leaf = nset / NDIRTY * BIT_PAGE;
	}

	for (int r = 0; r < runs; r++) {
		floor[r] = bench_floor_getppid_ns();
		clr[r] = run_clear(&e);
		noclr[r] = run_no_clear(&e);
	}
	c = bench_median(clr, runs);
	n = bench_median(noclr, runs);
	f = bench_median(floor, runs);
	printf("bench_dirty: IOMMU_HWPT_GET_DIRTY_BITMAP over 1 GiB (%llu MiB pieces,"
	       " %llu KiB leaves, %d dirty), 4 KiB bits; median of %d runs of %d calls\n",
	       (unsigned long long)(PIECE >> 20), (unsigned long long)(e.leaf >> 10),
	       NDIRTY, runs, CALLS);
	printf("  %-22s %12.0f ns   %8.1f GB/s of IOVA   %8.0f x getppid\n",
	       "read and clear", c, (double)SPAN / c, c / f);
	printf("  %-22s %12.0f ns   %8.1f GB/s of IOVA   %8.0f x getppid\n",
	       "read, NO_CLEAR", n, (double)SPAN / n, n / f);
	printf("  %-22s %12.0f ns\n", "getppid floor", f);
	sio_iommufd_release(e.ictx);
	sio_iommufd_host_destroy(host);
	free(e.want);
	free(e.got);
	return 0;
}
