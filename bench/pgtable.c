/*
 * I/O page-table microbenchmarks, per format.
 *
 * For each format configuration prints the median over RUNS runs of:
 *   map1      ns per sio_pt_map_pages() of one minimum page (tables exist)
 *   unmap1    ns per sio_pt_unmap_pages() of one minimum page
 *   map256    ns per call mapping 256 minimum pages in one call
 *   unmap256  ns per call unmapping them in one call
 *   blk       ns per map + unmap of one level-1 block (2 MiB on x86)
 *   seq, rnd  ns per sio_pt_iova_to_phys() over 2^20 mapped minimum pages,
 *             in order and in a random order
 *   B/page    bytes of table memory per mapped page, with 2^20 pages
 * The kernel's figures to compare with (kernel code compiled for
 * userspace): io-pgtable-arm map 4K 22-39 ns, unmap 4K 19-39 ns, 256x4K
 * map 360-590 ns and unmap 670-1270 ns per call, 2M map+unmap 37-67 ns,
 * iova_to_phys sequential 12-44 ns; generic formats map 4K 41-48 ns,
 * unmap 256x4K 84-600 ns.
 *
 * Usage: bench_pgtable [runs]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "softiommu/pgtable.h"

#define RUNS_DEFAULT 7
#define N1 512			/* single-page operations per run */
#define NLEAVES (1u << 20)

struct cfgdef {
	const char *name;
	struct sio_pt_cfg cfg;
};

static const struct cfgdef cfgs[] = {
	{ "mock (2K)", { .format = SIO_PT_MOCK } },
	{ "amdv1", { .format = SIO_PT_AMD_V1 } },
	{ "x86_64-4", { .format = SIO_PT_X86_64 } },
	{ "x86_64-5", { .format = SIO_PT_X86_64, .levels = 5 } },
	{ "arm-s1-4k", { .format = SIO_PT_ARM_LPAE_S1 } },
	{ "arm-s2-4k", { .format = SIO_PT_ARM_LPAE_S2 } },
	{ "arm-s1-64k", { .format = SIO_PT_ARM_LPAE_S1, .granule_lg2 = 16 } },
	{ "vtd-ss", { .format = SIO_PT_VTD_SS } },
	{ "riscv-sv48", { .format = SIO_PT_RISCV_SV48 } },
};

static void die(const char *what)
{
	fprintf(stderr, "bench_pgtable: %s failed: %s\n", what,
		sio_last_error());
	exit(1);
}

static size_t unmap(struct sio_pt *pt, uint64_t iova, size_t pgsize,
		    size_t count)
{
	struct sio_iotlb_gather g;
	size_t r;

	sio_iotlb_gather_init(&g);
	r = sio_pt_unmap_pages(pt, iova, pgsize, count, &g);
	sio_pt_free_deferred(g.freelist);	/* single-threaded */
	return r;
}

#define RW (SIO_PROT_READ | SIO_PROT_WRITE)

static void bench(const struct cfgdef *d, int runs, uint32_t *perm)
{
	double m1[64], u1[64], m256[64], u256[64], blk[64], seq[64], rnd[64];
	struct sio_pt_mem_stats s0, s1;
	struct sio_pt *pt;
	uint64_t min, big, base;
	double t;
	volatile uint64_t sink = 0;
	size_t mapped;

	if (sio_pt_create(&d->cfg, &pt))
		die("create");
	min = sio_pt_pgsize_bitmap(pt) & -sio_pt_pgsize_bitmap(pt);
	big = min * 512;	/* the first block size for 8-byte entries */
	if (!(sio_pt_pgsize_bitmap(pt) & big))
		big = min << (__builtin_ctzll(min) - 3);
	base = 1ull << 32;

	for (int r = 0; r < runs; r++) {
		/* Single pages: same table, the tables already exist. */
		if (sio_pt_map_pages(pt, base, 0, min, 1, RW, &mapped))
			die("map");
		unmap(pt, base, min, 1);
		t = bench_now_ns();
		for (uint64_t i = 0; i < N1; i++)
			if (sio_pt_map_pages(pt, base + i * min, i * min, min, 1,
					     RW, &mapped))
				die("map");
		m1[r] = (bench_now_ns() - t) / N1;
		t = bench_now_ns();
		for (uint64_t i = 0; i < N1; i++) {
			struct sio_iotlb_gather g;

			sio_iotlb_gather_init(&g);
			if (sio_pt_unmap_pages(pt, base + i * min, min, 1, &g) !=
			    min)
				die("unmap");
			if (g.freelist)
				sio_pt_free_deferred(g.freelist);
		}
		u1[r] = (bench_now_ns() - t) / N1;

		/* 256 pages per call. */
		t = bench_now_ns();
		for (uint64_t i = 0; i < 16; i++)
			if (sio_pt_map_pages(pt, base + i * 256 * min, 0, min,
					     256, RW, &mapped))
				die("map256");
		m256[r] = (bench_now_ns() - t) / 16;
		t = bench_now_ns();
		for (uint64_t i = 0; i < 16; i++) {
			struct sio_iotlb_gather g;

			sio_iotlb_gather_init(&g);
			if (sio_pt_unmap_pages(pt, base + i * 256 * min, min,
					       256, &g) != 256 * min)
				die("unmap256");
			if (g.freelist)
				sio_pt_free_deferred(g.freelist);
		}
		u256[r] = (bench_now_ns() - t) / 16;

		/* Blocks. */
		t = bench_now_ns();
		for (uint64_t i = 0; i < 64; i++) {
			uint64_t iova = base + 64 * big + i * big;

			if (sio_pt_map_pages(pt, iova, iova, big, 1, RW,
					     &mapped))
				die("map block");
			if (unmap(pt, iova, big, 1) != big)
				die("unmap block");
		}
		blk[r] = (bench_now_ns() - t) / 64;
	}

	/* 2^20 leaves: lookups and memory. */
	sio_pt_mem_stats(&s0);
	for (uint64_t i = 0; i < NLEAVES; i += 512)
		if (sio_pt_map_pages(pt, base + i * min, i * min, min, 512, RW,
				     &mapped))
			die("map leaves");
	sio_pt_mem_stats(&s1);
	for (int r = 0; r < runs; r++) {
		t = bench_now_ns();
		for (uint64_t i = 0; i < NLEAVES; i++)
			sink += sio_pt_iova_to_phys(pt, base + i * min);
		seq[r] = (bench_now_ns() - t) / NLEAVES;
		t = bench_now_ns();
		for (uint64_t i = 0; i < NLEAVES; i++)
			sink += sio_pt_iova_to_phys(pt, base +
						    (uint64_t)perm[i] * min);
		rnd[r] = (bench_now_ns() - t) / NLEAVES;
	}
	(void)sink;
	printf("%-12s %5llu %6.1f %7.1f %8.1f %9.1f %7.1f %6.1f %6.1f %7.2f\n",
	       d->name, (unsigned long long)min, bench_median(m1, runs),
	       bench_median(u1, runs), bench_median(m256, runs), bench_median(u256, runs),
	       bench_median(blk, runs), bench_median(seq, runs), bench_median(rnd, runs),
	       (double)(s1.bytes - s0.bytes) / NLEAVES);
	sio_pt_destroy(pt);
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : RUNS_DEFAULT;
	uint32_t *perm = malloc(NLEAVES * sizeof(*perm));
	uint64_t x = 88172645463325252ull;

	if (runs < 1 || runs > 64 || !perm)
		return 2;
	for (uint32_t i = 0; i < NLEAVES; i++)
		perm[i] = i;
	for (uint32_t i = NLEAVES - 1; i > 0; i--) {
		uint32_t j, tmp;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (uint32_t)(x % (i + 1));
		tmp = perm[i];
		perm[i] = perm[j];
		perm[j] = tmp;
	}
	printf("median of %d runs, ns per operation (page = smallest page "
	       "size)\n", runs);
	printf("%-12s %5s %6s %7s %8s %9s %7s %6s %6s %7s\n", "format", "page",
	       "map1", "unmap1", "map256", "unmap256", "blk", "seq", "rnd",
	       "B/page");
	for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++)
		bench(&cfgs[i], runs, perm);
	free(perm);
	return 0;
}
