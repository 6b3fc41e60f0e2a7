/*
 * I/O page tables: behaviour tests written once and run over every format
 * configuration in cfgs[] (each test x config is one cmocka test named
 * "test/config"), plus hand-computed entry encodings per format.
 *
 * Leaf output addresses are never dereferenced by the tables, so tests use
 * made-up aligned addresses; only table pages are real memory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "softiommu/pgtable.h"
#include "pgtable/pt_format.h"

struct cfgdef {
	const char *name;
	struct sio_pt_cfg cfg;
};

#define CFG(n, f, ...) { n, { .format = f, __VA_ARGS__ } }
static const struct cfgdef cfgs[] = {
	CFG("mock", SIO_PT_MOCK),
	CFG("mock-56", SIO_PT_MOCK, .ias = 56),
	CFG("amdv1", SIO_PT_AMD_V1),
	CFG("amdv1-39", SIO_PT_AMD_V1, .ias = 39),
	CFG("amdv1-64", SIO_PT_AMD_V1, .ias = 64),
	CFG("x86_64-4", SIO_PT_X86_64, .levels = 4),
	CFG("x86_64-5", SIO_PT_X86_64, .levels = 5),
	CFG("x86_64-dirty", SIO_PT_X86_64, .features = SIO_PT_FEAT_DIRTY),
	CFG("arm-s1-4k-48", SIO_PT_ARM_LPAE_S1, .granule_lg2 = 12, .ias = 48,
	    .features = SIO_PT_FEAT_DIRTY),
	CFG("arm-s1-4k-32", SIO_PT_ARM_LPAE_S1, .granule_lg2 = 12, .ias = 32),
	CFG("arm-s1-16k-48", SIO_PT_ARM_LPAE_S1, .granule_lg2 = 14, .ias = 48,
	    .features = SIO_PT_FEAT_DIRTY),
	CFG("arm-s1-16k-36", SIO_PT_ARM_LPAE_S1, .granule_lg2 = 14, .ias = 36),
	CFG("arm-s1-64k-48", SIO_PT_ARM_LPAE_S1, .granule_lg2 = 16, .ias = 48),
	CFG("arm-s1-64k-42", SIO_PT_ARM_LPAE_S1, .granule_lg2 = 16, .ias = 42,
	    .features = SIO_PT_FEAT_DIRTY),
	CFG("arm-s2-4k-40", SIO_PT_ARM_LPAE_S2, .granule_lg2 = 12, .ias = 40,
	    .features = SIO_PT_FEAT_DIRTY),
	CFG("arm-s2-4k-48", SIO_PT_ARM_LPAE_S2, .granule_lg2 = 12, .ias = 48),
	CFG("arm-s2-16k-48", SIO_PT_ARM_LPAE_S2, .granule_lg2 = 14, .ias = 48,
	    .features = SIO_PT_FEAT_DIRTY),
	CFG("arm-s2-64k-48", SIO_PT_ARM_LPAE_S2, .granule_lg2 = 16, .ias = 48),
	CFG("vtd-ss-39", SIO_PT_VTD_SS, .ias = 39),
	CFG("vtd-ss-48", SIO_PT_VTD_SS, .ias = 48),
	CFG("vtd-ss-57", SIO_PT_VTD_SS, .ias = 57),
	CFG("riscv-sv39", SIO_PT_RISCV_SV39),
	CFG("riscv-sv48", SIO_PT_RISCV_SV48, .features = SIO_PT_FEAT_DIRTY),
	CFG("riscv-sv57", SIO_PT_RISCV_SV57),
};
#define NCFG (sizeof(cfgs) / sizeof(cfgs[0]))

#define RW (SIO_PROT_READ | SIO_PROT_WRITE)

/* ---------------------------------------------------------------- helpers */

static uint64_t mem_pages(void)
{
	struct sio_pt_mem_stats s;

	sio_pt_mem_stats(&s);
	return s.pages;
}

static uint64_t rng_state;
static uint64_t rnd(void)
{
	/* xorshift64*: reproducible per config. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static struct sio_pt *mk(const struct cfgdef *d)
{
	struct sio_pt *pt = NULL;

	assert_int_equal(sio_pt_create(&d->cfg, &pt), 0);
	assert_non_null(pt);
	return pt;
}

static uint64_t min_size(const struct sio_pt *pt)
{
	uint64_t b = sio_pt_pgsize_bitmap(pt);

	return b & -b;
}

static uint64_t oa_last(const struct sio_pt *pt)
{
	unsigned int oas = sio_pt_config(pt)->oas;

	return oas >= 64 ? UINT64_MAX : (1ull << oas) - 1;
}

static size_t unmap(struct sio_pt *pt, uint64_t iova, size_t pgsize,
		    size_t count)
{
	struct sio_iotlb_gather g;
	size_t r;

	sio_iotlb_gather_init(&g);
	r = sio_pt_unmap_pages(pt, iova, pgsize, count, &g);
	/* Single-threaded: no reader can still walk the freed tables. */
	sio_pt_free_deferred(g.freelist);
	return r;
}

static void check_map(struct sio_pt *pt, uint64_t iova, uint64_t pa,
		      uint64_t size, unsigned int prot)
{
	struct sio_xlate x;

	assert_int_equal(sio_pt_lookup(pt, iova, &x), 0);
	assert_int_equal(x.phys, pa);
	assert_int_equal(x.page_size, size);
	assert_int_equal(x.prot & RW, prot & RW);
	assert_int_equal(sio_pt_lookup(pt, iova + size - 1, &x), 0);
	assert_int_equal(x.phys, pa + size - 1);
	assert_int_equal(sio_pt_iova_to_phys(pt, iova + size / 2),
			 pa + size / 2);
}

/* Per-config test wrapper. */
typedef void (*cfg_test_fn)(const struct cfgdef *d);
struct cfg_test {
	cfg_test_fn fn;
	const struct cfgdef *d;
};

static void run_cfg_test(void **state)
{
	struct cfg_test *t = *state;
	uint64_t before = mem_pages();

	sio_pt_test_fail_alloc(-1);	/* a failed test may leave it on */
	rng_state = 0x9e3779b97f4a7c15ull ^ (uintptr_t)t->d;
	t->fn(t->d);
	/* Every test destroys its tables: table memory is back. */
	assert_int_equal(mem_pages(), before);
}

/* ------------------------------------------------------------ the tests */

/* Every page size of the bitmap maps, translates and unmaps. */
/* The table at level holding iova, as (level, iova >> its span), in
 * tables[0..*n) unless it is there already. */
static void note_table(uint64_t (*tables)[2], unsigned int *n,
		       const struct sio_pt *pt, unsigned int level,
		       uint64_t iova)
{
	uint64_t key = iova >> (pt->item_lg2[level] + pt->idx_bits[level]);

	for (unsigned int i = 0; i < *n; i++)
		if (tables[i][0] == level && tables[i][1] == key)
			return;
	tables[*n][0] = level;
	tables[(*n)++][1] = key;
}

static void t_sizes(const struct cfgdef *d)
{
	struct sio_pt *pt = mk(d);
	uint64_t bm = sio_pt_pgsize_bitmap(pt);
	uint64_t base = mem_pages();
	uint64_t tables[64 * PT_MAX_LEVELS][2];
	unsigned int ntables = 0;

	for (unsigned int lg2 = 0; lg2 < 64; lg2++) {
		uint64_t size = 1ull << lg2, iova, pa;
		size_t mapped = 1;

		if (!(bm & size))
			continue;
		/* The map makes the tables below the root down to the
		 * leaf's level; none is freed by the unmap below, which
		 * covers no whole table. */
		for (unsigned int l = (unsigned int)pt->size_level[lg2];
		     l < pt->top; l++)
			note_table(tables, &ntables, pt, l, size);
		/* iova = size (the second page of this size), pa = the
		 * highest page of this size below 2^40 or the OA limit. */
		assert_true(2 * size - 1 <= sio_pt_iova_last(pt));
		iova = size;
		pa = size >= (1ull << 40) ? 0 : (1ull << 40) - size;
		assert_int_equal(sio_pt_map_pages(pt, iova, pa, size, 1, RW,
						  &mapped), 0);
		assert_int_equal(mapped, size);
		check_map(pt, iova, pa, size, RW);
		assert_int_equal(sio_pt_lookup(pt, iova - 1,
					       &(struct sio_xlate){ 0 }),
				 -ENOENT);
		if (iova + size <= sio_pt_iova_last(pt))
			assert_int_equal(sio_pt_iova_to_phys(pt, iova + size),
					 0);
		assert_int_equal(unmap(pt, iova, size, 1), size);
		assert_int_equal(sio_pt_iova_to_phys(pt, iova), 0);
		assert_int_equal(unmap(pt, iova, size, 1), 0);
	}
	/* Unmapping leaves keeps the tables on their paths: exactly the
	 * tables the maps made are left (destroy frees them). */
	assert_true(ntables > 0);
	assert_int_equal(mem_pages(), base + ntables);
	sio_pt_destroy(pt);
}

/* Random map/unmap against a reference of every minimum page in a window
 * that straddles a level-1 boundary. */
#define W 2048
struct refpage {
	bool mapped;
	uint64_t pa;		/* of the leaf */
	unsigned int start;	/* index of the leaf's first page */
	unsigned int npages;	/* pages in the leaf */
	unsigned int prot;
};

static void ref_check(struct sio_pt *pt, const struct refpage *ref,
		      uint64_t base, uint64_t min)
{
	for (unsigned int i = 0; i < W; i++) {
		struct sio_xlate x;
		uint64_t iova = base + i * min + (i % 7) * (min / 8);
		int rc = sio_pt_lookup(pt, iova, &x);

		if (!ref[i].mapped) {
			assert_int_equal(rc, -ENOENT);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(x.phys, ref[i].pa +
					 (iova - (base + ref[i].start * min)));
		assert_int_equal(x.page_size, ref[i].npages * min);
		assert_int_equal(x.prot & RW, ref[i].prot);
	}
}

static void t_random(const struct cfgdef *d)
{
	struct sio_pt *pt = mk(d);
	uint64_t min = min_size(pt), bm = sio_pt_pgsize_bitmap(pt);
	uint64_t sizes[64];
	unsigned int nsizes = 0;
	struct refpage *ref = calloc(W, sizeof(*ref));
	uint64_t base = 4ull << pt->item_lg2[1];

	assert_non_null(ref);
	base -= (W / 2) * min;
	for (unsigned int lg2 = 0; lg2 < 64; lg2++)
		if ((bm >> lg2 & 1) && (1ull << lg2) <= (W / 4) * min)
			sizes[nsizes++] = 1ull << lg2;
	assert_true(nsizes >= 1);

	for (unsigned int op = 0; op < 1500; op++) {
		if (rnd() % 2) {
			/* map: small sizes more often */
			/* Half minimum pages, a quarter the largest. */
			uint64_t size = rnd() % 4 == 0 ? sizes[nsizes - 1] :
					sizes[(rnd() % nsizes) * (rnd() % 2)];
			unsigned int np = (unsigned int)(size / min);
			unsigned int maxc = W / np < 4 ? W / np : 4;
			unsigned int count = 1 + (unsigned int)(rnd() % maxc);
			unsigned int idx = (unsigned int)(rnd() %
				(W / np - count + 1)) * np;
			uint64_t pa = ((rnd() % 4096) + 1) * size;
			unsigned int prot = rnd() & 1 ? RW : SIO_PROT_READ;
			unsigned int good = count;
			size_t mapped = 0;
			int rc;

			while (pa + count * size - 1 > oa_last(pt))
				pa /= 2, pa &= ~(size - 1);
			for (unsigned int k = 0; k < count && good == count;
			     k++)
				for (unsigned int j = 0; j < np; j++)
					if (ref[idx + k * np + j].mapped) {
						good = k;
						break;
					}
			rc = sio_pt_map_pages(pt, base + idx * min, pa, size,
					      count, prot, &mapped);
			assert_int_equal(rc, good == count ? 0 : -EEXIST);
			assert_int_equal(mapped, good * size);
			for (unsigned int k = 0; k < good; k++)
				for (unsigned int j = 0; j < np; j++) {
					struct refpage *r =
						&ref[idx + k * np + j];

					r->mapped = true;
					r->pa = pa + k * size;
					r->start = idx + k * np;
					r->npages = np;
					r->prot = prot;
				}
		} else {
			unsigned int p = (unsigned int)(rnd() % W);
			unsigned int n = 1 + (unsigned int)(rnd() % 256);
			unsigned int cur, removed = 0;
			size_t got;

			while (p < W - 1 && !ref[p].mapped)
				p++;
			if (!ref[p].mapped)
				continue;
			/* Mostly from a leaf start; sometimes from inside a
			 * large leaf, which must unmap nothing. */
			if (rnd() % 4)
				p = ref[p].start;
			if (p + n > W)
				n = W - p;
			cur = p;
			if (p == ref[p].start) {
				while (cur < p + n && ref[cur].mapped) {
					unsigned int np = ref[cur].npages;

					for (unsigned int j = 0; j < np; j++)
						ref[cur + j].mapped = false;
					removed += np;
					cur += np;
				}
			}
			got = unmap(pt, base + p * min, min, n);
			assert_int_equal(got, removed * min);
		}
		if (op % 10 == 0)
			ref_check(pt, ref, base, min);
		/* Now and then empty the window leaf by leaf, so that large
		 * pages find room again. */
		if (op % 200 == 199) {
			for (unsigned int i = 0; i < W; i++) {
				unsigned int np = ref[i].npages;

				if (!ref[i].mapped || ref[i].start != i)
					continue;
				assert_int_equal(unmap(pt, base + i * min,
						       np * min, 1), np * min);
				for (unsigned int j = 0; j < np; j++)
					ref[i + j].mapped = false;
			}
			ref_check(pt, ref, base, min);
		}
	}
	ref_check(pt, ref, base, min);
	free(ref);
	sio_pt_destroy(pt);
}

/* Address 0, the last IOVA, the last output address, and beyond. */
static void t_edges(const struct cfgdef *d)
{
	struct sio_pt *pt = mk(d);
	uint64_t min = min_size(pt), last = sio_pt_iova_last(pt);
	uint64_t top = (oa_last(pt) - min + 1);
	size_t mapped;

	assert_int_equal(last, sio_pt_config(pt)->ias >= 64 ?
			 UINT64_MAX : (1ull << sio_pt_config(pt)->ias) - 1);
	assert_int_equal(sio_pt_map_pages(pt, 0, 0, min, 1, RW, &mapped), 0);
	check_map(pt, 0, 0, min, RW);
	assert_int_equal(sio_pt_map_pages(pt, last - min + 1, top, min, 1,
					  SIO_PROT_READ, &mapped), 0);
	check_map(pt, last - min + 1, top, min, SIO_PROT_READ);
	assert_int_equal(sio_pt_iova_to_phys(pt, last), top + min - 1);
	/* Crossing the end of the IOVA or the output space. */
	assert_int_equal(sio_pt_map_pages(pt, last - min + 1, 0, min, 2, RW,
					  &mapped), -EINVAL);
	assert_int_equal(mapped, 0);
	assert_int_equal(sio_pt_map_pages(pt, 2 * min, top, min, 2, RW,
					  &mapped), -EINVAL);
	if (last != UINT64_MAX) {
		assert_int_equal(sio_pt_map_pages(pt, last + 1, 0, min, 1, RW,
						  &mapped), -EINVAL);
		assert_int_equal(sio_pt_lookup(pt, last + 1,
					       &(struct sio_xlate){ 0 }),
				 -ENOENT);
		assert_int_equal(unmap(pt, last + 1, min, 1), 0);
	}
	if (oa_last(pt) != UINT64_MAX)
		assert_int_equal(sio_pt_map_pages(pt, 4 * min, top + min, min,
						  1, RW, &mapped), -EINVAL);
	assert_int_equal(unmap(pt, last - min + 1, min, 1), min);
	assert_int_equal(unmap(pt, 0, min, 1), min);
	assert_int_equal(sio_pt_iova_to_phys(pt, 0), 0);
	sio_pt_destroy(pt);
}

static void t_einval(const struct cfgdef *d)
{
	struct sio_pt *pt = mk(d);
	uint64_t min = min_size(pt), bm = sio_pt_pgsize_bitmap(pt);
	size_t mapped = 77;

	assert_int_equal(sio_pt_map_pages(pt, min / 2, 0, min, 1, RW, &mapped),
			 -EINVAL);
	assert_int_equal(mapped, 0);
	assert_int_equal(sio_pt_map_pages(pt, min, min / 2, min, 1, RW,
					  &mapped), -EINVAL);
	assert_int_equal(sio_pt_map_pages(pt, 0, 0, min / 2, 1, RW, &mapped),
			 -EINVAL);
	assert_int_equal(sio_pt_map_pages(pt, 0, 0, 3 * min, 1, RW, &mapped),
			 -EINVAL);
	assert_int_equal(sio_pt_map_pages(pt, 0, 0, 0, 1, RW, &mapped),
			 -EINVAL);
	/* A size between two supported ones (ARM: 8K with a 4K granule). */
	if (!(bm & (2 * min)))
		assert_int_equal(sio_pt_map_pages(pt, 0, 0, 2 * min, 1, RW,
						  &mapped), -EINVAL);
	/* Count overflowing the IOVA space. */
	assert_int_equal(sio_pt_map_pages(pt, min, 0, min, SIZE_MAX, RW,
					  &mapped), -EINVAL);
	assert_int_equal(sio_pt_map_pages(pt, 0, 0, min, 0, RW, &mapped), 0);
	assert_int_equal(mapped, 0);
	/* Nothing got mapped by any of these. */
	assert_int_equal(sio_pt_iova_to_phys(pt, 0), 0);
	assert_int_equal(sio_pt_iova_to_phys(pt, min), 0);
	assert_int_equal(unmap(pt, 0, min / 2, 1), 0);
	assert_int_equal(unmap(pt, min / 2, min, 1), 0);
	sio_pt_destroy(pt);
}

static uint64_t second_size(const struct sio_pt *pt)
{
	/* The smallest size served by level 1 (2M on 4K x86). */
	uint64_t b = pt->leaf_sizes[1];

	return b & -b;
}

static void t_eexist(const struct cfgdef *d)
{
	struct sio_pt *pt = mk(d);
	uint64_t min = min_size(pt), big = second_size(pt);
	uint64_t base = 4 * big;
	size_t mapped;

	assert_true(big > min);
	assert_int_equal(sio_pt_map_pages(pt, base + 2 * min, 0x100000, min,
					  1, RW, &mapped), 0);
	/* The same page again. */
	assert_int_equal(sio_pt_map_pages(pt, base + 2 * min, 0x200000, min,
					  1, RW, &mapped), -EEXIST);
	assert_int_equal(mapped, 0);
	assert_int_equal(sio_pt_iova_to_phys(pt, base + 2 * min), 0x100000);
	/* A run whose third page exists: two pages mapped before failing. */
	assert_int_equal(sio_pt_map_pages(pt, base, 0x400000, min, 4, RW,
					  &mapped), -EEXIST);
	assert_int_equal(mapped, 2 * min);
	assert_int_equal(sio_pt_iova_to_phys(pt, base + min),
			 0x400000 + min);
	assert_int_equal(unmap(pt, base, min, 2), 2 * min);
	/* A large page over a small one. */
	assert_int_equal(sio_pt_map_pages(pt, base, 0, big, 1, RW, &mapped),
			 -EEXIST);
	assert_int_equal(mapped, 0);
	/* A small page inside a large one. */
	assert_int_equal(sio_pt_map_pages(pt, 2 * big, 0, big, 1, RW,
					  &mapped), 0);
	assert_int_equal(sio_pt_map_pages(pt, 2 * big + min, 0, min, 1, RW,
					  &mapped), -EEXIST);
	assert_int_equal(sio_pt_map_pages(pt, 2 * big - min, 0, min, 2, RW,
					  &mapped), -EEXIST);
	assert_int_equal(mapped, min);
	assert_int_equal(unmap(pt, 2 * big - min, min, 1), min);
	check_map(pt, 2 * big, 0, big, RW);
	sio_pt_destroy(pt);
}

/* A large leaf may replace a table that holds no leaf any more (the
 * table is freed after the next unmap's grace period or at destroy). */
static void t_replace_table(const struct cfgdef *d)
{
	struct sio_pt *pt = mk(d);
	uint64_t min = min_size(pt), big = second_size(pt);
	uint64_t before = mem_pages();
	struct sio_iotlb_gather g;
	size_t mapped;

	assert_int_equal(sio_pt_map_pages(pt, big + min, 0, min, 1, RW,
					  &mapped), 0);
	assert_true(mem_pages() > before);
	assert_int_equal(unmap(pt, big + min, min, 1), min);
	/* Not fully covered, so the level-0 table is still there. */
	assert_true(mem_pages() > before);
	assert_int_equal(sio_pt_map_pages(pt, big, big, big, 1, RW, &mapped),
			 0);
	check_map(pt, big, big, big, RW);
	/* The replaced table comes out on the next unmap's gather. */
	sio_iotlb_gather_init(&g);
	assert_int_equal(sio_pt_unmap_pages(pt, big, big, 1, &g), big);
	assert_non_null(g.freelist);
	assert_int_equal(g.start, big);
	assert_int_equal(g.end, 2 * big - 1);
	assert_int_equal(g.pgsize, big);
	sio_pt_free_deferred(g.freelist);
	sio_pt_destroy(pt);
}

/* Partial unmap of large leaves and holes. */
static void t_unmap_rules(const struct cfgdef *d)
{
	struct sio_pt *pt = mk(d);
	uint64_t min = min_size(pt), big = second_size(pt);
	size_t mapped;

	assert_int_equal(sio_pt_map_pages(pt, big, 0, big, 2, RW, &mapped), 0);
	/* Starting inside a leaf: nothing. */
	assert_int_equal(unmap(pt, big + min, min, 1), 0);
	check_map(pt, big, 0, big, RW);
	/* Starting at a leaf, ending inside: the whole leaf. */
	assert_int_equal(unmap(pt, big, min, 1), big);
	assert_int_equal(sio_pt_iova_to_phys(pt, big + min), 0);
	check_map(pt, 2 * big, big, big, RW);
	/* A hole first: nothing. */
	assert_int_equal(unmap(pt, big, big, 2), 0);
	check_map(pt, 2 * big, big, big, RW);
	assert_int_equal(unmap(pt, 2 * big, big, 1), big);
	/* Stop at the first hole: pages 0,1 then hole at 2, then page 3. */
	assert_int_equal(sio_pt_map_pages(pt, big, 0, min, 2, RW, &mapped), 0);
	assert_int_equal(sio_pt_map_pages(pt, big + 3 * min, 0, min, 1, RW,
					  &mapped), 0);
	assert_int_equal(unmap(pt, big, min, 4), 2 * min);
	assert_int_equal(sio_pt_iova_to_phys(pt, big + 3 * min), 0);
	assert_int_equal(unmap(pt, big + 3 * min, min, 1), min);
	sio_pt_destroy(pt);
}

/* Unmapping a range that covers whole tables frees them, and only after
 * sio_pt_free_deferred(). */
static void t_free_tables(const struct cfgdef *d)
{
	struct sio_pt *pt = mk(d);
	uint64_t min = min_size(pt), big = second_size(pt);
	uint64_t n = big / min, start = mem_pages();
	struct sio_iotlb_gather g;
	uint64_t with;
	size_t mapped;

	/* Two level-0 tables' worth of minimum pages in one call. */
	assert_int_equal(sio_pt_map_pages(pt, 2 * big, 0x10000000ull, min,
					  2 * n, RW, &mapped), 0);
	assert_int_equal(mapped, 2 * big);
	with = mem_pages();
	assert_true(with >= start + 2);
	for (uint64_t i = 0; i < 2 * n; i += n / 4 + 1)
		assert_int_equal(sio_pt_iova_to_phys(pt, 2 * big + i * min),
				 0x10000000ull + i * min);
	sio_iotlb_gather_init(&g);
	assert_int_equal(sio_pt_unmap_pages(pt, 2 * big, min, 2 * n, &g),
			 2 * big);
	assert_int_equal(g.start, 2 * big);
	assert_int_equal(g.end, 4 * big - 1);
	assert_int_equal(g.pgsize, min);
	assert_non_null(g.freelist);
	/* Still allocated until the caller's grace period is over. */
	assert_int_equal(mem_pages(), with);
	sio_pt_free_deferred(g.freelist);
	assert_int_equal(mem_pages(), with - 2);

	/* Without a gather the freed tables wait in the table until the
	 * next unmap that has one. */
	assert_int_equal(sio_pt_map_pages(pt, 2 * big, 0, min, n, RW, &mapped),
			 0);
	assert_int_equal(sio_pt_map_pages(pt, 8 * big, 0, min, 1, RW, &mapped),
			 0);
	with = mem_pages();
	assert_int_equal(sio_pt_unmap_pages(pt, 2 * big, min, n, NULL), big);
	assert_int_equal(mem_pages(), with);
	sio_iotlb_gather_init(&g);
	assert_int_equal(sio_pt_unmap_pages(pt, 8 * big, min, 1, &g), min);
	assert_non_null(g.freelist);
	sio_pt_free_deferred(g.freelist);
	assert_int_equal(mem_pages(), with - 1);
	sio_pt_destroy(pt);
}

static uint64_t dirty_seen[64][2];
static unsigned int ndirty;
static void record(void *arg, uint64_t iova, uint64_t len)
{
	(void)arg;
	assert_true(ndirty < 64);
	dirty_seen[ndirty][0] = iova;
	dirty_seen[ndirty][1] = len;
	ndirty++;
}

static void read_dirty(struct sio_pt *pt, uint64_t iova, uint64_t len,
		       unsigned int flags)
{
	ndirty = 0;
	assert_int_equal(sio_pt_read_and_clear_dirty(pt, iova, len, flags,
						     record, NULL), 0);
}

static void t_dirty(const struct cfgdef *d)
{
	struct sio_pt *pt = mk(d);
	uint64_t min = min_size(pt), big = second_size(pt);
	uint64_t base = 2 * big;
	size_t mapped;

	if (!pt->dirty_ok) {
		assert_int_equal(sio_pt_read_and_clear_dirty(pt, 0, min, 0,
							     record, NULL),
				 -EOPNOTSUPP);
		assert_int_equal(sio_pt_set_dirty(pt, 0), -EOPNOTSUPP);
		sio_pt_destroy(pt);
		return;
	}
	assert_int_equal(sio_pt_map_pages(pt, base, 0, min, 8, RW, &mapped), 0);
	assert_int_equal(sio_pt_map_pages(pt, base + 8 * min, 0, min, 1,
					  SIO_PROT_READ, &mapped), 0);
	assert_int_equal(sio_pt_map_pages(pt, 4 * big, 0, big, 1, RW, &mapped),
			 0);
	/* Clear whatever the format starts with (x86/RISC-V without the
	 * feature: writable leaves start dirty). */
	read_dirty(pt, 0, 8 * big, 0);
	read_dirty(pt, 0, 8 * big, 0);
	assert_int_equal(ndirty, 0);

	assert_int_equal(sio_pt_set_dirty(pt, base + 3 * min + 5), 0);
	assert_int_equal(sio_pt_set_dirty(pt, 4 * big + big / 2 + min), 0);
	assert_int_equal(sio_pt_set_dirty(pt, base + 100 * min), -ENOENT);
	/* A read-only page cannot be written, except that AMD v1 (like the
	 * kernel's selftest) sets D regardless. */
	if (d->cfg.format == SIO_PT_MOCK || d->cfg.format == SIO_PT_AMD_V1)
		assert_int_equal(sio_pt_set_dirty(pt, base + 8 * min), 0);
	else
		assert_int_equal(sio_pt_set_dirty(pt, base + 8 * min), -EPERM);
	/* The prot still reads back writable/read-only correctly. */
	check_map(pt, base + 3 * min, 3 * min, min, RW);

	read_dirty(pt, 0, 8 * big, SIO_PT_DIRTY_NO_CLEAR);
	{
		unsigned int want = d->cfg.format == SIO_PT_MOCK ||
				    d->cfg.format == SIO_PT_AMD_V1 ? 3 : 2;
		unsigned int k = 0;

		assert_int_equal(ndirty, want);
		assert_int_equal(dirty_seen[k][0], base + 3 * min);
		assert_int_equal(dirty_seen[k][1], min);
		k++;
		if (want == 3) {
			assert_int_equal(dirty_seen[k][0], base + 8 * min);
			k++;
		}
		/* The whole large leaf is reported. */
		assert_int_equal(dirty_seen[k][0], 4 * big);
		assert_int_equal(dirty_seen[k][1], big);
	}
	/* A range that only touches the middle of the large leaf. */
	read_dirty(pt, 4 * big + min, min, SIO_PT_DIRTY_NO_CLEAR);
	assert_int_equal(ndirty, 1);
	assert_int_equal(dirty_seen[0][0], 4 * big);
	/* Clear, then nothing is left. */
	read_dirty(pt, 0, 8 * big, 0);
	assert_true(ndirty >= 2);
	read_dirty(pt, 0, 8 * big, 0);
	assert_int_equal(ndirty, 0);
	check_map(pt, base + 3 * min, 3 * min, min, RW);
	check_map(pt, 4 * big, 0, big, RW);
	sio_pt_destroy(pt);
}

/*
 * Leaves of several lowest-level entries (AMD v1's sized leaves): reported
 * whole, once, whichever copy the device marked, also when the range read
 * starts or ends inside the leaf with the marked copy outside it.
 */
static void t_dirty_contig(const struct cfgdef *d)
{
	struct sio_pt *pt = mk(d);
	uint64_t min = min_size(pt), sizes = pt->leaf_sizes[0] & ~min;
	uint64_t s, n, base;
	size_t mapped;

	if (!pt->dirty_ok || !sizes) {
		sio_pt_destroy(pt);
		return;
	}
	s = sizes & -sizes;
	n = s / min;
	base = 8 * s;
	assert_int_equal(sio_pt_map_pages(pt, base - 2 * min, 0, min, 2, RW,
					  &mapped), 0);
	assert_int_equal(sio_pt_map_pages(pt, base, 0, s, 1, RW, &mapped), 0);
	assert_int_equal(sio_pt_map_pages(pt, base + s, 0, min, 2, RW,
					  &mapped), 0);
	read_dirty(pt, base - 2 * min, s + 4 * min, 0);
	read_dirty(pt, base - 2 * min, s + 4 * min, 0);
	assert_int_equal(ndirty, 0);

	/* The last copy marked; the range ends at the copy before it. */
	assert_int_equal(sio_pt_set_dirty(pt, base + s - min), 0);
	read_dirty(pt, base - 2 * min, s + min, SIO_PT_DIRTY_NO_CLEAR);
	assert_int_equal(ndirty, 1);
	assert_int_equal(dirty_seen[0][0], base);
	assert_int_equal(dirty_seen[0][1], s);
	/* The whole range: once, not per copy. */
	read_dirty(pt, base - 2 * min, s + 4 * min, 0);
	assert_int_equal(ndirty, 1);
	read_dirty(pt, base - 2 * min, s + 4 * min, 0);
	assert_int_equal(ndirty, 0);

	/* The first copy marked; the range starts at the second. */
	assert_int_equal(sio_pt_set_dirty(pt, base), 0);
	read_dirty(pt, base + min, s + min, SIO_PT_DIRTY_NO_CLEAR);
	assert_int_equal(ndirty, 1);
	assert_int_equal(dirty_seen[0][0], base);
	read_dirty(pt, base - 2 * min, s + 4 * min, 0);
	assert_int_equal(ndirty, 1);

	/* A middle copy and a clean neighbour's neighbour: two reports. */
	assert_int_equal(sio_pt_set_dirty(pt, base + (n / 2) * min), 0);
	assert_int_equal(sio_pt_set_dirty(pt, base + s + min), 0);
	read_dirty(pt, base - 2 * min, s + 4 * min, 0);
	assert_int_equal(ndirty, 2);
	assert_int_equal(dirty_seen[0][0], base);
	assert_int_equal(dirty_seen[0][1], s);
	assert_int_equal(dirty_seen[1][0], base + s + min);
	assert_int_equal(dirty_seen[1][1], min);
	read_dirty(pt, base - 2 * min, s + 4 * min, 0);
	assert_int_equal(ndirty, 0);
	sio_pt_destroy(pt);
}

/* Flush callbacks see every removed leaf and freed tables. */
static unsigned int n_add_page, n_flush_walk;
static uint64_t add_page_bytes;
static void cb_add_page(struct sio_iotlb_gather *g, uint64_t iova,
			size_t granule, void *cookie)
{
	assert_ptr_equal(cookie, &n_add_page);
	sio_iotlb_gather_add_range(g, iova, granule);
	n_add_page++;
	add_page_bytes += granule;
}

static void cb_flush_walk(uint64_t iova, size_t size, size_t granule,
			  void *cookie)
{
	(void)iova;
	(void)size;
	(void)granule;
	assert_ptr_equal(cookie, &n_add_page);
	n_flush_walk++;
}

static void cb_flush_all(void *cookie)
{
	(void)cookie;
}

static const struct sio_pt_flush_ops flush_ops = {
	.tlb_flush_all = cb_flush_all,
	.tlb_flush_walk = cb_flush_walk,
	.tlb_add_page = cb_add_page,
};

static void t_flush_ops(const struct cfgdef *d)
{
	struct sio_pt_cfg cfg = d->cfg;
	struct sio_pt *pt = NULL;
	uint64_t min, big;
	struct sio_iotlb_gather g;
	size_t mapped;

	cfg.flush = &flush_ops;
	cfg.cookie = &n_add_page;
	assert_int_equal(sio_pt_create(&cfg, &pt), 0);
	min = min_size(pt);
	big = second_size(pt);
	n_add_page = n_flush_walk = 0;
	add_page_bytes = 0;
	assert_int_equal(sio_pt_map_pages(pt, big, 0, min, big / min, RW,
					  &mapped), 0);
	assert_int_equal(sio_pt_map_pages(pt, 2 * big, 0, big, 1, RW,
					  &mapped), 0);
	sio_iotlb_gather_init(&g);
	assert_int_equal(sio_pt_unmap_pages(pt, big, min, 2 * big / min, &g),
			 2 * big);
	assert_int_equal(n_add_page, big / min + 1);
	assert_int_equal(add_page_bytes, 2 * big);
	assert_int_equal(n_flush_walk, 1);
	assert_int_equal(g.pgsize, 0);	/* mixed sizes */
	assert_int_equal(g.start, big);
	assert_int_equal(g.end, 3 * big - 1);
	sio_pt_free_deferred(g.freelist);
	sio_pt_destroy(pt);
}

/* Out of memory part-way: *mapped says what was mapped, nothing leaks. */
static void t_enomem(const struct cfgdef *d)
{
	struct sio_pt *pt = mk(d);
	uint64_t min = min_size(pt), big = second_size(pt), n = big / min;
	size_t mapped = 0;

	/* Warm the upper levels, then allow no new table: the first table's
	 * worth maps, the second needs a new level-0 table. */
	assert_int_equal(sio_pt_map_pages(pt, 2 * big, 0, min, n, RW,
					  &mapped), 0);
	sio_pt_test_fail_alloc(0);
	assert_int_equal(sio_pt_map_pages(pt, 0, 0, min, n, RW, &mapped),
			 -ENOMEM);
	assert_int_equal(mapped, 0);
	assert_int_equal(sio_pt_map_pages(pt, 2 * big + big, 0x100000, min,
					  n, RW, &mapped), -ENOMEM);
	assert_int_equal(mapped, 0);
	assert_int_equal(sio_pt_map_pages(pt, 2 * big - 3 * min, 0x100000,
					  min, 6, RW, &mapped), -ENOMEM);
	sio_pt_test_fail_alloc(-1);
	/* ENOMEM before reaching the mapped table: nothing mapped. */
	assert_int_equal(mapped, 0);
	assert_int_equal(sio_pt_iova_to_phys(pt, 2 * big - min), 0);
	check_map(pt, 2 * big, 0, min, RW);
	/* Now with the first table present: it fills, the next fails. */
	assert_int_equal(unmap(pt, 2 * big + min, min, n - 1), (n - 1) * min);
	sio_pt_test_fail_alloc(0);
	assert_int_equal(sio_pt_map_pages(pt, 2 * big + min, 0x100000 + min,
					  min, n, RW, &mapped), -ENOMEM);
	sio_pt_test_fail_alloc(-1);
	assert_int_equal(mapped, (n - 1) * min);
	assert_int_equal(unmap(pt, 2 * big + min, min, n - 1), (n - 1) * min);
	/* A table cannot be created at all. */
	{
		struct sio_pt *p2 = NULL;

		sio_pt_test_fail_alloc(0);
		assert_int_equal(sio_pt_create(&d->cfg, &p2), -ENOMEM);
		sio_pt_test_fail_alloc(-1);
		assert_null(p2);
	}
	sio_pt_destroy(pt);
}

/* ------------------------------------------- format-specific checks */

static uint64_t raw(struct sio_pt *pt, uint64_t iova, unsigned int *level)
{
	uint64_t e = 0;
	unsigned int l = 99;

	assert_true(sio_pt_test_raw_entry(pt, iova, &e, &l));
	if (level)
		*level = l;
	return e;
}

static struct sio_pt *mkcfg(struct sio_pt_cfg cfg)
{
	struct sio_pt *pt = NULL;

	assert_int_equal(sio_pt_create(&cfg, &pt), 0);
	return pt;
}

static void t_bitmaps(void **state)
{
	static const struct {
		struct sio_pt_cfg cfg;
		uint64_t bitmap, last;
		unsigned int levels;
	} want[] = {
		/* selftest mock: 2K..2^36 (below half of 2^38) */
		{ { .format = SIO_PT_MOCK }, 0x1ffffff800ull,
		  (1ull << 38) - 1, 3 },
		{ { .format = SIO_PT_AMD_V1, .ias = 48 },
		  0x7ffffffff000ull & ~(1ull << 39), (1ull << 48) - 1, 4 },
		{ { .format = SIO_PT_AMD_V1, .ias = 64 },
		  0x000ffffffffff000ull & ~(1ull << 39), UINT64_MAX, 6 },
		{ { .format = SIO_PT_X86_64 }, 0x40201000ull,
		  (1ull << 48) - 1, 4 },
		{ { .format = SIO_PT_X86_64, .levels = 5 }, 0x40201000ull,
		  (1ull << 57) - 1, 5 },
		{ { .format = SIO_PT_ARM_LPAE_S1 }, 0x40201000ull,
		  (1ull << 48) - 1, 4 },
		{ { .format = SIO_PT_ARM_LPAE_S1, .granule_lg2 = 14 },
		  (1ull << 14) | (1ull << 25), (1ull << 48) - 1, 4 },
		{ { .format = SIO_PT_ARM_LPAE_S1, .granule_lg2 = 16 },
		  (1ull << 16) | (1ull << 29), (1ull << 48) - 1, 3 },
		{ { .format = SIO_PT_ARM_LPAE_S1, .ias = 32 }, 0x40201000ull,
		  (1ull << 32) - 1, 3 },
		/* S2 40 bits: 2 concatenated level-1 tables, 3 levels */
		{ { .format = SIO_PT_ARM_LPAE_S2, .ias = 40 }, 0x40201000ull,
		  (1ull << 40) - 1, 3 },
		{ { .format = SIO_PT_ARM_LPAE_S2, .ias = 48 }, 0x40201000ull,
		  (1ull << 48) - 1, 4 },
		{ { .format = SIO_PT_VTD_SS, .ias = 39 }, 0x40201000ull,
		  (1ull << 39) - 1, 3 },
		{ { .format = SIO_PT_RISCV_SV39 }, 0x40201000ull,
		  (1ull << 39) - 1, 3 },
		{ { .format = SIO_PT_RISCV_SV48 }, 0x8040201000ull,
		  (1ull << 48) - 1, 4 },
		{ { .format = SIO_PT_RISCV_SV57 }, 0x1008040201000ull,
		  (1ull << 57) - 1, 5 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct sio_pt *pt = mkcfg(want[i].cfg);

		assert_int_equal(sio_pt_pgsize_bitmap(pt), want[i].bitmap);
		assert_int_equal(sio_pt_iova_last(pt), want[i].last);
		assert_int_equal(sio_pt_test_levels(pt), want[i].levels);
		sio_pt_destroy(pt);
	}
	/* S2 40-bit top table is 2 concatenated 4K pages (1024 entries). */
	{
		struct sio_pt *pt = mkcfg((struct sio_pt_cfg){
			.format = SIO_PT_ARM_LPAE_S2, .ias = 40 });
		assert_int_equal(pt->idx_bits[pt->top], 10);
		sio_pt_destroy(pt);
	}
}

static void t_create_invalid(void **state)
{
	static const struct sio_pt_cfg bad[] = {
		{ .format = 0 },
		{ .format = 99 },
		{ .format = SIO_PT_MOCK, .ias = 57 },
		{ .format = SIO_PT_MOCK, .oas = 52 },
		{ .format = SIO_PT_MOCK, .granule_lg2 = 12 },
		{ .format = SIO_PT_AMD_V1, .ias = 48, .levels = 3 },
		{ .format = SIO_PT_X86_64, .levels = 3 },
		{ .format = SIO_PT_X86_64, .ias = 39 },
		{ .format = SIO_PT_X86_64, .ias = 50, .levels = 4 },
		{ .format = SIO_PT_ARM_LPAE_S1, .granule_lg2 = 13 },
		{ .format = SIO_PT_ARM_LPAE_S1, .ias = 52 },
		{ .format = SIO_PT_ARM_LPAE_S1, .oas = 52 },
		{ .format = SIO_PT_VTD_SS, .ias = 30 },
		{ .format = SIO_PT_VTD_SS, .ias = 58 },
		{ .format = SIO_PT_RISCV_SV39, .ias = 48 },
		{ .format = SIO_PT_RISCV_SV48, .oas = 57 },
		{ .format = SIO_PT_MOCK, .features = 1u << 7 },
	};
	uint64_t before = mem_pages();

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sio_pt *pt = NULL;

		assert_int_equal(sio_pt_create(&bad[i], &pt), -EINVAL);
		assert_null(pt);
		assert_true(sio_last_error()[0] != '\0');
	}
	assert_int_equal(mem_pages(), before);
}

/* Hand-computed entries, from the specifications' bit layouts. */
static void t_enc_amd(void **state)
{
	struct sio_pt *pt;
	uint64_t e, tbl, pa = 0x12345000ull;
	unsigned int level;
	size_t m;

	(void)state;
	/* Mock (2K granule): OA field bits 51:12 hold pa >> 11. */
	pt = mkcfg((struct sio_pt_cfg){ .format = SIO_PT_MOCK });
	assert_int_equal(sio_pt_map_pages(pt, 0x1000800, pa + 0x800, 0x800, 1,
					  RW, &m), 0);
	e = raw(pt, 0x1000800, &level);
	assert_int_equal(level, 0);
	/* PR | NL=0 | (pa >> 11) << 12 | IR | IW */
	assert_int_equal(e, 1ull | ((pa + 0x800) >> 11 << 12) | (3ull << 61));
	/* The level-1 entry points to the level-0 table: PR, NL=1, IR|IW. */
	assert_true(sio_pt_test_raw_entry_at(pt, 0x1000800, 1, &tbl));
	assert_int_equal(tbl & ~0x000ffffffffff000ull,
			 1ull | (1ull << 9) | (3ull << 61));
	/* 4K page = 2 entries, NL=7, no size bits (ffz at bit 0). */
	assert_int_equal(sio_pt_map_pages(pt, 0x2000000, pa, 0x1000, 1,
					  SIO_PROT_READ, &m), 0);
	e = raw(pt, 0x2000000, &level);
	assert_int_equal(e, 1ull | (7ull << 9) | (pa >> 11 << 12) |
				    (1ull << 61));
	assert_int_equal(raw(pt, 0x2000800, NULL), e);
	assert_false(sio_pt_test_raw_entry(pt, 0x2001000, &e, &level));
	/* 8K page: OA bit 0 (entry bit 12) is one. */
	assert_int_equal(sio_pt_map_pages(pt, 0x2004000, pa - 0x1000, 0x2000,
					  1, RW, &m), 0);
	e = raw(pt, 0x2005800, &level);
	assert_int_equal(e, 1ull | (7ull << 9) |
				    (((pa - 0x1000) >> 11 | 1) << 12) |
				    (3ull << 61));
	/* 1M (MOCK_HUGE_PAGE_SIZE) is a level-1 NL=0 leaf. */
	assert_int_equal(sio_pt_map_pages(pt, 0x4000000, 0x100000, 0x100000, 1,
					  RW, &m), 0);
	e = raw(pt, 0x40fffff, &level);
	assert_int_equal(level, 1);
	assert_int_equal(e, 1ull | (0x100000ull >> 11 << 12) | (3ull << 61));
	/* Dirty is bit 6. */
	assert_int_equal(sio_pt_set_dirty(pt, 0x4000000), 0);
	assert_int_equal(raw(pt, 0x4000000, NULL), e | (1ull << 6));
	sio_pt_destroy(pt);

	/* AMD v1 (4K granule). */
	pt = mkcfg((struct sio_pt_cfg){ .format = SIO_PT_AMD_V1, .ias = 48 });
	assert_int_equal(sio_pt_map_pages(pt, 0x7000, pa, 0x1000, 1, RW, &m),
			 0);
	assert_int_equal(raw(pt, 0x7000, NULL), 1ull | pa | (3ull << 61));
	/* 32K: 8 entries; address bits 13,12 set, bit 14 clear. */
	assert_int_equal(sio_pt_map_pages(pt, 0x40000, 0x80000, 0x8000, 1, RW,
					  &m), 0);
	for (uint64_t i = 0; i < 8; i++)
		assert_int_equal(raw(pt, 0x40000 + i * 0x1000, NULL),
				 1ull | (7ull << 9) | 0x80000 | 0x3000 |
					 (3ull << 61));
	/* 2M at level 1: NL=0. 4M at level 1: 2 entries, NL=7, bits 20:12
	 * set, bit 21 clear. */
	assert_int_equal(sio_pt_map_pages(pt, 0x40000000, 0x200000, 0x200000, 1,
					  RW, &m), 0);
	e = raw(pt, 0x40000000, &level);
	assert_int_equal(level, 1);
	assert_int_equal(e, 1ull | 0x200000 | (3ull << 61));
	assert_int_equal(sio_pt_map_pages(pt, 0x40400000, 0x400000, 0x400000, 1,
					  RW, &m), 0);
	assert_int_equal(raw(pt, 0x40600000, NULL),
			 1ull | (7ull << 9) | 0x400000 | 0x1ff000 |
				 (3ull << 61));
	check_map(pt, 0x40400000, 0x400000, 0x400000, RW);
	sio_pt_destroy(pt);
}

static void t_enc_x86(void **state)
{
	struct sio_pt *pt;
	uint64_t tbl;
	size_t m;

	(void)state;
	pt = mkcfg((struct sio_pt_cfg){ .format = SIO_PT_X86_64 });
	assert_int_equal(sio_pt_map_pages(pt, 0x1000, 0xabc000, 0x1000, 1, RW,
					  &m), 0);
	/* P | RW | U | A | D */
	assert_int_equal(raw(pt, 0x1000, NULL), 0xabc000ull | 0x67);
	assert_int_equal(sio_pt_map_pages(pt, 0x2000, 0xabd000, 0x1000, 1,
					  SIO_PROT_READ, &m), 0);
	assert_int_equal(raw(pt, 0x2000, NULL), 0xabd000ull | 0x25);
	/* 2M: PS */
	assert_int_equal(sio_pt_map_pages(pt, 0x400000, 0x600000, 0x200000, 1,
					  RW, &m), 0);
	assert_int_equal(raw(pt, 0x400000, NULL), 0x600000ull | 0xe7);
	/* 1G: PS at the PDPTE */
	assert_int_equal(sio_pt_map_pages(pt, 0x80000000ull, 0x40000000ull,
					  0x40000000ull, 1, SIO_PROT_READ, &m),
			 0);
	assert_int_equal(raw(pt, 0x80000000ull, NULL), 0x40000000ull | 0xa5);
	/* A table entry: P | RW | U | A */
	assert_true(sio_pt_test_raw_entry_at(pt, 0x1000, 1, &tbl));
	assert_int_equal(tbl & 0xfff, 0x27);
	assert_int_equal(tbl & 0xfff0000000000000ull, 0);
	sio_pt_destroy(pt);

	/* With dirty tracking, writable leaves start clean. */
	pt = mkcfg((struct sio_pt_cfg){ .format = SIO_PT_X86_64,
					.features = SIO_PT_FEAT_DIRTY });
	assert_int_equal(sio_pt_map_pages(pt, 0x1000, 0xabc000, 0x1000, 1, RW,
					  &m), 0);
	assert_int_equal(raw(pt, 0x1000, NULL), 0xabc000ull | 0x27);
	assert_int_equal(sio_pt_set_dirty(pt, 0x1000), 0);
	assert_int_equal(raw(pt, 0x1000, NULL), 0xabc000ull | 0x67);
	sio_pt_destroy(pt);
}

static void t_enc_arm(void **state)
{
	struct sio_pt *pt;
	uint64_t tbl;
	size_t m;

	(void)state;
	pt = mkcfg((struct sio_pt_cfg){ .format = SIO_PT_ARM_LPAE_S1 });
	/* page (0b11) | AttrIndx 1 | AP[1] unpriv | SH inner | AF | nG */
	assert_int_equal(sio_pt_map_pages(pt, 0x1000, 0xabc000, 0x1000, 1,
					  RW | SIO_PROT_CACHE, &m), 0);
	assert_int_equal(raw(pt, 0x1000, NULL), 0xabc000ull | 0xf47);
	/* read-only, non-cacheable (idx 0, SH outer), XN */
	assert_int_equal(sio_pt_map_pages(pt, 0x2000, 0xabd000, 0x1000, 1,
					  SIO_PROT_READ | SIO_PROT_NOEXEC, &m),
			 0);
	assert_int_equal(raw(pt, 0x2000, NULL),
			 0xabd000ull | 0xec3 | (3ull << 53));
	/* 2M block (0b01), device memory, privileged */
	assert_int_equal(sio_pt_map_pages(pt, 0x400000, 0x600000, 0x200000, 1,
					  RW | SIO_PROT_MMIO | SIO_PROT_PRIV,
					  &m), 0);
	assert_int_equal(raw(pt, 0x400000, NULL), 0x600000ull | 0xe09);
	/* table descriptor */
	assert_true(sio_pt_test_raw_entry_at(pt, 0x1000, 1, &tbl));
	assert_int_equal(tbl & 0xfff, 3);
	sio_pt_destroy(pt);

	/* Stage 1 with DBM: writable-clean = DBM | AP[2]. */
	pt = mkcfg((struct sio_pt_cfg){ .format = SIO_PT_ARM_LPAE_S1,
					.features = SIO_PT_FEAT_DIRTY });
	assert_int_equal(sio_pt_map_pages(pt, 0x1000, 0xabc000, 0x1000, 1, RW,
					  &m), 0);
	assert_int_equal(raw(pt, 0x1000, NULL),
			 0xabc000ull | 0xec3 | (1ull << 51));
	assert_int_equal(sio_pt_set_dirty(pt, 0x1000), 0);
	assert_int_equal(raw(pt, 0x1000, NULL),
			 0xabc000ull | 0xe43 | (1ull << 51));
	sio_pt_destroy(pt);

	/* Stage 2: S2AP R|W, MemAttr 0xf, SH inner, AF; 64K granule. */
	pt = mkcfg((struct sio_pt_cfg){ .format = SIO_PT_ARM_LPAE_S2,
					.granule_lg2 = 16 });
	assert_int_equal(sio_pt_map_pages(pt, 0x10000, 0x230000, 0x10000, 1,
					  RW | SIO_PROT_CACHE, &m), 0);
	assert_int_equal(raw(pt, 0x10000, NULL), 0x230000ull | 0x7ff);
	/* read-only, NC (0x5) */
	assert_int_equal(sio_pt_map_pages(pt, 0x20000, 0x240000, 0x10000, 1,
					  SIO_PROT_READ, &m), 0);
	assert_int_equal(raw(pt, 0x20000, NULL), 0x240000ull | 0x657);
	/* 512M block at level 2 (our 1) */
	assert_int_equal(sio_pt_map_pages(pt, 0x20000000, 0x40000000,
					  0x20000000, 1, SIO_PROT_READ, &m), 0);
	assert_int_equal(raw(pt, 0x20000000, NULL), 0x40000000ull | 0x655);
	sio_pt_destroy(pt);
}

static void t_enc_vtd_riscv(void **state)
{
	struct sio_pt *pt;
	uint64_t tbl;
	size_t m;

	(void)state;
	pt = mkcfg((struct sio_pt_cfg){ .format = SIO_PT_VTD_SS });
	assert_int_equal(sio_pt_map_pages(pt, 0x1000, 0xabc000, 0x1000, 1, RW,
					  &m), 0);
	assert_int_equal(raw(pt, 0x1000, NULL), 0xabc000ull | 3);
	assert_int_equal(sio_pt_map_pages(pt, 0x200000, 0x400000, 0x200000, 1,
					  SIO_PROT_READ, &m), 0);
	assert_int_equal(raw(pt, 0x200000, NULL), 0x400000ull | 0x81);
	assert_true(sio_pt_test_raw_entry_at(pt, 0x1000, 1, &tbl));
	assert_int_equal(tbl & 0xfff, 3);
	assert_int_equal(sio_pt_set_dirty(pt, 0x1000), 0);
	assert_int_equal(raw(pt, 0x1000, NULL), 0xabc000ull | 3 | 0x200);
	/* Neither R nor W is "not present": refused. */
	assert_int_equal(sio_pt_map_pages(pt, 0x3000, 0, 0x1000, 1, 0, &m),
			 -EINVAL);
	sio_pt_destroy(pt);

	pt = mkcfg((struct sio_pt_cfg){ .format = SIO_PT_RISCV_SV39 });
	/* V|R|W|X|U|A|D, PPN at bit 10 */
	assert_int_equal(sio_pt_map_pages(pt, 0x1000, 0xabc000, 0x1000, 1, RW,
					  &m), 0);
	assert_int_equal(raw(pt, 0x1000, NULL), (0xabcull << 10) | 0xdf);
	/* read-only, no-exec gigapage: V|R|U|A */
	assert_int_equal(sio_pt_map_pages(pt, 0x40000000, 0x80000000ull,
					  0x40000000, 1,
					  SIO_PROT_READ | SIO_PROT_NOEXEC, &m),
			 0);
	assert_int_equal(raw(pt, 0x40000000, NULL), (0x80000ull << 10) | 0x53);
	/* pointer: V only */
	assert_true(sio_pt_test_raw_entry_at(pt, 0x1000, 1, &tbl));
	assert_int_equal(tbl & 0x3ff, 1);
	sio_pt_destroy(pt);
}

/* ------------------------------------------------------ fast paths */

/* The walkers classify entries through a table built from classify()
 * (pt_entry_is_table), decode leaf sizes with a mask test before calling
 * leaf_size_lg2(), and decode addresses without a branch.  Check each
 * against the format's accessors on random entries at every level, on
 * the entries the format itself makes, and check a table whose fast
 * classification is switched off behaves exactly like the normal one. */
static void fast_vs_slow_entry(const struct sio_pt *pt, unsigned int l,
			       uint64_t e)
{
	bool tbl = sio_pt_test_is_table(pt, l, e, false);

	if (!(e & sio_pt_test_present_mask(pt)))
		return;
	assert_int_equal(sio_pt_test_is_table(pt, l, e, true), tbl);
	if (!tbl)
		assert_int_equal(sio_pt_test_leaf_lg2(pt, l, e, true),
				 sio_pt_test_leaf_lg2(pt, l, e, false));
}

static uint64_t old_oa_encode(const struct sio_pt *pt, uint64_t addr)
{
	uint64_t f = pt->oa_shift >= 0 ? addr << pt->oa_shift
				       : addr >> -pt->oa_shift;
	return f & pt->oa_mask;
}

static uint64_t old_oa_decode(const struct sio_pt *pt, uint64_t e)
{
	uint64_t f = e & pt->oa_mask;

	return pt->oa_shift >= 0 ? f >> pt->oa_shift : f << -pt->oa_shift;
}

static void t_fast_paths(const struct cfgdef *d)
{
	struct sio_pt *pt = mk(d), *slow = mk(d);
	unsigned int levels = sio_pt_test_levels(pt);
	uint64_t pm = sio_pt_test_present_mask(pt);
	uint64_t min = min_size(pt), bitmap = sio_pt_pgsize_bitmap(pt);
	static const unsigned int prots[] = {
		SIO_PROT_READ, SIO_PROT_WRITE, RW, RW | SIO_PROT_NOEXEC,
		RW | SIO_PROT_CACHE, SIO_PROT_READ | SIO_PROT_MMIO,
		RW | SIO_PROT_PRIV,
	};

	/* Every shipped format has the fast classification. */
	assert_true(sio_pt_test_fast_classify(pt));

	/* Random entries, and random entries with the low 12 bits (where
	 * every format keeps its type bits) spread over all values. */
	for (unsigned int l = 0; l < levels; l++)
		for (unsigned int i = 0; i < 20000; i++) {
			uint64_t e = rnd();

			if (i < 4096)
				e = (e & ~0xfffull) | i;
			fast_vs_slow_entry(pt, l, e);
			fast_vs_slow_entry(pt, l, e | (pm & -pm));
		}

	/* The entries the format makes: tables at every level above 0,
	 * leaves of every size and permission. */
	for (unsigned int l = 1; l < levels; l++) {
		uint64_t oa = old_oa_encode(pt, (uint64_t)1 << 30);
		uint64_t e = pt_mk_table(pt, l, oa);

		assert_true(sio_pt_test_is_table(pt, l, e, true));
		assert_true(sio_pt_test_is_table(pt, l, e, false));
	}
	for (unsigned int lg2 = 0; lg2 < 64; lg2++) {
		unsigned int l;

		if (!(bitmap & (1ull << lg2)))
			continue;
		l = (unsigned int)pt->size_level[lg2];
		for (size_t k = 0; k < sizeof(prots) / sizeof(prots[0]); k++) {
			uint64_t bits, e;

			if (pt->fmt->mk_leaf(pt, l, lg2, prots[k], &bits))
				continue;
			e = bits | pt_oa_encode(pt, (uint64_t)3 << lg2);
			assert_false(sio_pt_test_is_table(pt, l, e, true));
			assert_int_equal(sio_pt_test_leaf_lg2(pt, l, e, true),
					 lg2);
			fast_vs_slow_entry(pt, l, e);
		}
	}

	/* Address encoding: the branch-free shifts equal the old form. */
	for (unsigned int i = 0; i < 10000; i++) {
		uint64_t a = rnd() & oa_last(pt) & ~(min - 1);
		uint64_t e = rnd();

		assert_int_equal(pt_oa_encode(pt, a), old_oa_encode(pt, a));
		assert_int_equal(pt_oa_decode(pt, pt_oa_encode(pt, a)), a);
		assert_int_equal(pt_oa_decode(pt, e), old_oa_decode(pt, e));
	}

	/* The general (vtable) path: the same operations on a table with
	 * the fast classification off give the same results. */
	bool mapped_any = false;

	slow->cls_bits = 0;
	for (unsigned int i = 0; i < 3000; i++) {
		uint64_t span = min << 11;	/* 2048 minimum pages */
		uint64_t base = (sio_pt_iova_last(pt) >> 1) & ~((span << 2) - 1);
		uint64_t iova = base + (rnd() % 2048) * min;
		unsigned int lg2 = (unsigned int)__builtin_ctzll(min);
		uint64_t cnt = 1 + rnd() % 300, pg = min;
		size_t m1 = 0, m2 = 0;
		struct sio_xlate x1, x2;
		int r1, r2;

		if (rnd() % 4 == 0) {
			/* A larger size, if any fits the window. */
			uint64_t sizes = bitmap & ((span >> 2) - 1) & ~min;

			if (sizes) {
				lg2 = 63 - (unsigned int)__builtin_clzll(sizes);
				pg = 1ull << lg2;
				iova &= ~(pg - 1);
				cnt = 1 + rnd() % 2;
			}
		}
		if (rnd() % 2) {
			r1 = sio_pt_map_pages(pt, iova, iova & oa_last(pt), pg,
					      cnt, RW, &m1);
			r2 = sio_pt_map_pages(slow, iova, iova & oa_last(pt),
					      pg, cnt, RW, &m2);
			assert_int_equal(r1, r2);
			assert_int_equal(m1, m2);
		} else {
			assert_int_equal(unmap(pt, iova, pg, cnt),
					 unmap(slow, iova, pg, cnt));
		}
		mapped_any |= m1 != 0;
		iova = base + (rnd() % span);
		r1 = sio_pt_lookup(pt, iova, &x1);
		r2 = sio_pt_lookup(slow, iova, &x2);
		assert_int_equal(r1, r2);
		if (!r1) {
			assert_int_equal(x1.phys, x2.phys);
			assert_int_equal(x1.page_size, x2.page_size);
			assert_int_equal(x1.prot, x2.prot);
		}
		assert_int_equal(sio_pt_iova_to_phys(pt, iova),
				 sio_pt_iova_to_phys(slow, iova));
	}
	assert_true(mapped_any);
	sio_pt_destroy(pt);
	sio_pt_destroy(slow);
}

/* Unmap of a long run stops at the first hole wherever it falls relative
 * to the eight-entry unrolling, and runs over multi-entry leaves. */
static void t_unmap_runs(const struct cfgdef *d)
{
	struct sio_pt *pt = mk(d);
	uint64_t min = min_size(pt), base = 0;
	uint64_t entries = 1ull << pt->idx_bits[0];
	size_t m;

	for (uint64_t hole = 0; hole < 40; hole++) {
		uint64_t start = (hole * 3) % 17;	/* unaligned starts */
		uint64_t n = entries - start < 64 ? entries - start : 64;

		assert_int_equal(sio_pt_map_pages(pt, base + start * min, 0,
						  min, n, RW, &m), 0);
		if (hole < n) {
			assert_int_equal(unmap(pt, base + (start + hole) * min,
					       min, 1), min);
			assert_int_equal(unmap(pt, base + start * min, min, n),
					 hole * min);
			if (hole + 1 < n)
				assert_int_equal(
					unmap(pt, base + (start + hole + 1) * min,
					      min, n - hole - 1),
					(n - hole - 1) * min);
		} else {
			assert_int_equal(unmap(pt, base + start * min, min, n),
					 n * min);
		}
		for (uint64_t i = 0; i < n; i++)
			assert_int_equal(sio_pt_iova_to_phys(pt, base + (start + i) * min), 0);
	}
	/* Multi-entry leaves between single ones (AMD v1, mock). */
	if (sio_pt_pgsize_bitmap(pt) & (min << 1)) {
		uint64_t two = min << 1;

		assert_int_equal(sio_pt_map_pages(pt, base, 0, min, 10, RW, &m),
				 0);
		assert_int_equal(sio_pt_map_pages(pt, base + 10 * min,
						  10 * min, two, 3, RW, &m), 0);
		assert_int_equal(sio_pt_map_pages(pt, base + 16 * min,
						  16 * min, min, 20, RW, &m), 0);
		assert_int_equal(sio_pt_iova_to_phys(pt, base + 13 * min + 5),
				 13 * min + 5);
		assert_int_equal(unmap(pt, base, min, 36), 36 * min);
		for (uint64_t i = 0; i < 36; i++)
			assert_int_equal(sio_pt_iova_to_phys(pt, base + i * min), 0);
	}
	sio_pt_destroy(pt);
}

/* ------------------------------------------------------------ main */

/* After every test: no table memory left anywhere in the process. */
static int mem_zero(void **state)
{
	struct sio_pt_mem_stats s;

	(void)state;
	sio_pt_mem_stats(&s);
	if (s.pages || s.bytes) {
		fprintf(stderr, "table memory left: %llu pages, %llu bytes\n",
			(unsigned long long)s.pages,
			(unsigned long long)s.bytes);
		return -1;
	}
	return 0;
}

static const struct {
	const char *name;
	cfg_test_fn fn;
} cfg_tests[] = {
	{ "sizes", t_sizes },
	{ "random", t_random },
	{ "edges", t_edges },
	{ "einval", t_einval },
	{ "eexist", t_eexist },
	{ "replace_table", t_replace_table },
	{ "unmap_rules", t_unmap_rules },
	{ "free_tables", t_free_tables },
	{ "dirty", t_dirty },
	{ "dirty_contig", t_dirty_contig },
	{ "flush_ops", t_flush_ops },
	{ "enomem", t_enomem },
	{ "fast_paths", t_fast_paths },
	{ "unmap_runs", t_unmap_runs },
};
#define NTEST (sizeof(cfg_tests) / sizeof(cfg_tests[0]))

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(t_bitmaps),
		cmocka_unit_test(t_create_invalid),
		cmocka_unit_test(t_enc_amd),
		cmocka_unit_test(t_enc_x86),
		cmocka_unit_test(t_enc_arm),
		cmocka_unit_test(t_enc_vtd_riscv),
	};
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	size_t n = nfixed + NTEST * NCFG, k = 0;
	struct CMUnitTest *tests = calloc(n, sizeof(*tests));
	struct cfg_test *st = calloc(NTEST * NCFG, sizeof(*st));
	int rc;

	if (!tests || !st)
		return 1;
	for (size_t i = 0; i < nfixed; i++)
		tests[k++] = fixed[i];
	for (size_t t = 0; t < NTEST; t++)
		for (size_t c = 0; c < NCFG; c++) {
			char *name = malloc(64);
			struct cfg_test *s = &st[t * NCFG + c];

			if (!name)
				return 1;
			snprintf(name, 64, "%s/%s", cfg_tests[t].name,
				 cfgs[c].name);
			s->fn = cfg_tests[t].fn;
			s->d = &cfgs[c];
			tests[k].name = name;
			tests[k].test_func = run_cfg_test;
			tests[k].initial_state = s;
			k++;
		}
	rc = _cmocka_run_group_tests("pgtable", tests, n, NULL, mem_zero);
	for (size_t i = nfixed; i < n; i++)
		free((void *)tests[i].name);
	free(tests);
	free(st);
	return rc;
}
