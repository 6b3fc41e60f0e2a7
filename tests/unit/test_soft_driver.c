/*
 * The core's domain behaviour on the soft driver, run over real hardware
 * page-table formats: map, DMA, iova_to_phys, the map errors, large pages,
 * PASID attachments independent of the RID, the identity default domain,
 * and alias groups.  Every test loops over every configuration and names
 * the one that fails.
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

#include "softiommu/softiommu.h"

#define SZ_2M (2ull << 20)
#define IOVA_BASE 0x40000000ull	/* inside every format's input range */

struct soft_case {
	const char *name;
	struct sio_soft_config cfg;
};

static const struct soft_case cases[] = {
	{ "arm-s1-4k", { .format = SIO_PT_ARM_LPAE_S1, .ias = 48, .granule_lg2 = 12 } },
	{ "arm-s2-4k", { .format = SIO_PT_ARM_LPAE_S2, .ias = 48, .granule_lg2 = 12 } },
	{ "arm-s1-16k", { .format = SIO_PT_ARM_LPAE_S1, .ias = 47, .granule_lg2 = 14 } },
	{ "arm-s1-64k", { .format = SIO_PT_ARM_LPAE_S1, .ias = 48, .granule_lg2 = 16 } },
	{ "x86_64-4", { .format = SIO_PT_X86_64, .levels = 4 } },
	{ "x86_64-5", { .format = SIO_PT_X86_64, .levels = 5 } },
	{ "amd-v1", { .format = SIO_PT_AMD_V1 } },
	{ "vtd-ss", { .format = SIO_PT_VTD_SS } },
	{ "riscv-sv39", { .format = SIO_PT_RISCV_SV39 } },
	{ "riscv-sv48", { .format = SIO_PT_RISCV_SV48 } },
	{ "riscv-sv57", { .format = SIO_PT_RISCV_SV57 } },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

struct env {
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_device *dev;
	uint64_t min_page;
};

static void env_up(const struct soft_case *c, struct env *e, uint32_t alias)
{
	struct sio_device_desc desc = { .name = "dev", .pasid_bits = 8,
					.alias = alias };
	struct sio_soft_config cfg = c->cfg;

	cfg.pasid_bits = 20;
	assert_int_equal(sio_system_create(&e->sys), 0);
	if (sio_soft_iommu_create(e->sys, c->name, &cfg, &e->iommu))
		fail_msg("%s: %s", c->name, sio_last_error());
	assert_int_equal(sio_device_probe(e->iommu, &desc, &e->dev), 0);
	e->min_page = 1ull << __builtin_ctzll(sio_iommu_caps(e->iommu)->pgsize_bitmap);
}

static void env_down(struct env *e)
{
	sio_device_remove(e->dev);
	sio_device_put(e->dev);
	assert_int_equal(sio_system_destroy(e->sys), 0);
}

static void *page_buf(size_t size, size_t align)
{
	void *p = aligned_alloc(align, size);

	assert_non_null(p);
	memset(p, 0, size);
	return p;
}

static void map_dma_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		const struct soft_case *c = &cases[i];
		struct sio_dma_fault f;
		struct sio_domain *d;
		struct env e;
		size_t len;
		char *buf, out[16];
		uint64_t last;

		env_up(c, &e, 0);
		len = (size_t)e.min_page * 4;
		buf = page_buf(len, e.min_page);
		assert_int_equal(sio_domain_alloc_paging(e.dev, 0, NULL, &d), 0);
		assert_int_equal(sio_attach_device(d, e.dev), 0);
		if (sio_map(d, IOVA_BASE, (uintptr_t)buf, len,
			    SIO_PROT_READ | SIO_PROT_WRITE))
			fail_msg("%s: map: %s", c->name, sio_last_error());

		/* A device write lands in the buffer; iova_to_phys agrees. */
		assert_int_equal(sio_dma_write(e.dev, SIO_NO_PASID,
					       IOVA_BASE + e.min_page + 8, "soft", 5, &f), 0);
		assert_string_equal(buf + e.min_page + 8, "soft");
		assert_int_equal(sio_iova_to_phys(d, IOVA_BASE + len - 1),
				 (uintptr_t)buf + len - 1);

		/* The map errors of the core, on a real format. */
		assert_int_equal(sio_map(d, IOVA_BASE + e.min_page, (uintptr_t)buf,
					 e.min_page, SIO_PROT_READ), -EEXIST);
		assert_int_equal(sio_map(d, IOVA_BASE + len + e.min_page / 2,
					 (uintptr_t)buf, e.min_page, SIO_PROT_READ), -EINVAL);
		last = sio_domain_geometry(d)->aperture_end;
		assert_int_equal(sio_map(d, last + 1 - e.min_page, (uintptr_t)buf,
					 2 * e.min_page, SIO_PROT_READ), -EINVAL);
		/* The last page of the aperture itself maps. */
		assert_int_equal(sio_map(d, last + 1 - e.min_page, (uintptr_t)buf,
					 e.min_page, SIO_PROT_READ), 0);
		assert_int_equal(sio_dma_read(e.dev, SIO_NO_PASID, last - 3, out, 4, &f), 0);
		assert_int_equal(sio_dma_write(e.dev, SIO_NO_PASID, last - 3, "x", 1, &f),
				 -EACCES);
		assert_int_equal(f.reason, SIO_FAULT_PERMISSION);
		assert_int_equal(sio_unmap(d, last + 1 - e.min_page, e.min_page),
				 (ssize_t)e.min_page);

		/* Unmap returns the length; DMA then faults. */
		assert_int_equal(sio_unmap(d, IOVA_BASE, len), (ssize_t)len);
		assert_int_equal(sio_unmap(d, IOVA_BASE, len), 0);
		assert_int_equal(sio_dma_read(e.dev, SIO_NO_PASID, IOVA_BASE, out, 4, &f),
				 -EFAULT);
		assert_int_equal(f.reason, SIO_FAULT_NOT_MAPPED);

		sio_detach_device(e.dev);
		assert_int_equal(sio_domain_free(d), 0);
		free(buf);
		env_down(&e);
	}
}

static void large_pages(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		const struct soft_case *c = &cases[i];
		struct sio_dma_xlate x;
		struct sio_domain *d;
		struct env e;
		uint64_t bitmap, block = 0;
		char *buf;

		env_up(c, &e, 0);
		bitmap = sio_iommu_caps(e.iommu)->pgsize_bitmap;
		/* The smallest block above the base page that is at most 2M,
		 * or the base page for formats whose next size is larger. */
		for (uint64_t s = e.min_page << 1; s && s <= SZ_2M; s <<= 1)
			if (bitmap & s) {
				block = s;
				break;
			}
		if (!block) {
			env_down(&e);
			continue;
		}
		buf = page_buf(block, block);
		assert_int_equal(sio_domain_alloc_paging(e.dev, 0, NULL, &d), 0);
		assert_int_equal(sio_attach_device(d, e.dev), 0);
		/* Exactly one block, both addresses aligned to it: the core
		 * must choose the block size (a larger size cannot fit, and a
		 * buffer that happens to be more aligned changes nothing). */
		assert_int_equal(sio_map(d, IOVA_BASE, (uintptr_t)buf, block,
					 SIO_PROT_READ | SIO_PROT_WRITE), 0);
		assert_int_equal(sio_dma_translate(e.dev, SIO_NO_PASID, IOVA_BASE + 16,
						   SIO_DMA_READ, &x, NULL), 0);
		if (x.len != block - 16)
			fail_msg("%s: leaf of %llu bytes, expected a %llu block", c->name,
				 (unsigned long long)(x.len + 16),
				 (unsigned long long)block);
		assert_ptr_equal(x.host, buf + 16);
		assert_int_equal(sio_unmap(d, IOVA_BASE, block), (ssize_t)block);
		sio_detach_device(e.dev);
		assert_int_equal(sio_domain_free(d), 0);
		free(buf);
		env_down(&e);
	}
}

static void pasid_and_identity(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		const struct soft_case *c = &cases[i];
		struct sio_attach_handle h1 = { 0 }, h2 = { 0 };
		struct sio_domain *rid, *pd;
		struct sio_dma_fault f;
		struct env e;
		char *a, *b, out[8];

		env_up(c, &e, 0);
		a = page_buf(e.min_page, e.min_page);
		b = page_buf(e.min_page, e.min_page);

		/* The default domain is identity: DMA addresses are host ones. */
		assert_int_equal(sio_dma_write(e.dev, SIO_NO_PASID, (uintptr_t)a, "id", 3, &f), 0);
		assert_string_equal(a, "id");

		assert_int_equal(sio_domain_alloc_paging(e.dev, 0, NULL, &rid), 0);
		assert_int_equal(sio_domain_alloc_paging(e.dev, SIO_DOMAIN_ALLOC_PASID,
							 NULL, &pd), 0);
		assert_int_equal(sio_map(rid, IOVA_BASE, (uintptr_t)a, e.min_page,
					 SIO_PROT_READ | SIO_PROT_WRITE), 0);
		assert_int_equal(sio_map(pd, IOVA_BASE, (uintptr_t)b, e.min_page,
					 SIO_PROT_READ | SIO_PROT_WRITE), 0);
		assert_int_equal(sio_attach_device(rid, e.dev), 0);
		assert_int_equal(sio_attach_device_pasid(pd, e.dev, 3, &h1), 0);
		/* PASID 256 is beyond the device's 8 PASID bits. */
		assert_int_equal(sio_attach_device_pasid(pd, e.dev, 256, &h2), -EINVAL);

		/* Same IOVA, two address spaces. */
		assert_int_equal(sio_dma_write(e.dev, SIO_NO_PASID, IOVA_BASE, "rid", 4, &f), 0);
		assert_int_equal(sio_dma_write(e.dev, 3, IOVA_BASE, "pasid", 6, &f), 0);
		assert_string_equal(a, "rid");
		assert_string_equal(b, "pasid");

		/* Detaching the RID leaves the PASID, and the RID is identity. */
		sio_detach_device(e.dev);
		assert_int_equal(sio_dma_read(e.dev, 3, IOVA_BASE, out, 6, &f), 0);
		assert_string_equal(out, "pasid");
		assert_int_equal(sio_dma_read(e.dev, SIO_NO_PASID, (uintptr_t)a, out, 4, &f), 0);
		assert_string_equal(out, "rid");
		sio_detach_device_pasid(pd, e.dev, 3);
		assert_int_equal(sio_dma_read(e.dev, 3, IOVA_BASE, out, 1, &f), -ENOENT);

		sio_unmap(rid, IOVA_BASE, e.min_page);
		sio_unmap(pd, IOVA_BASE, e.min_page);
		assert_int_equal(sio_domain_free(rid), 0);
		assert_int_equal(sio_domain_free(pd), 0);
		free(a);
		free(b);
		env_down(&e);
	}
}

static void alias_group(void **state)
{
	const struct soft_case *c = &cases[0];
	struct sio_device_desc desc2 = { .name = "fn1", .alias = 7 };
	struct sio_device *dev2;
	struct sio_group *g1, *g2;
	struct sio_domain *d;
	struct env e;
	char *buf, out[4];

	(void)state;
	env_up(c, &e, 7);
	assert_int_equal(sio_device_probe(e.iommu, &desc2, &dev2), 0);
	assert_int_equal(sio_device_group(e.dev, &g1), 0);
	assert_int_equal(sio_device_group(dev2, &g2), 0);
	assert_ptr_equal(g1, g2);
	assert_int_equal(sio_group_device_count(g1), 2);
	/* A single-device attach is refused on a shared group. */
	assert_int_equal(sio_group_domain_alloc_paging(g1, 0, NULL, &d), 0);
	assert_int_equal(sio_attach_device(d, e.dev), -EINVAL);
	assert_int_equal(sio_attach_group(d, g1, NULL), 0);
	buf = page_buf(e.min_page, e.min_page);
	assert_int_equal(sio_map(d, IOVA_BASE, (uintptr_t)buf, e.min_page,
				 SIO_PROT_READ | SIO_PROT_WRITE), 0);
	assert_int_equal(sio_dma_write(e.dev, SIO_NO_PASID, IOVA_BASE, "ab", 3, NULL), 0);
	assert_int_equal(sio_dma_read(dev2, SIO_NO_PASID, IOVA_BASE, out, 3, NULL), 0);
	assert_string_equal(out, "ab");
	sio_detach_group(g1);
	sio_unmap(d, IOVA_BASE, e.min_page);
	assert_int_equal(sio_domain_free(d), 0);
	sio_group_put(g1);
	sio_group_put(g2);
	sio_device_remove(dev2);
	sio_device_put(dev2);
	free(buf);
	env_down(&e);
}

struct dirty_log {
	uint64_t iova[8];
	uint64_t len[8];
	unsigned int n;
};

static void log_dirty(void *arg, uint64_t iova, uint64_t len)
{
	struct dirty_log *l = arg;

	if (l->n < 8) {
		l->iova[l->n] = iova;
		l->len[l->n] = len;
	}
	l->n++;
}

/* Dirty tracking in every format's own dirty bits: device writes while
 * tracking is on are reported leaf by leaf, reads are not, a read clears
 * them, and domains allocated without DIRTY_TRACKING refuse it. */
static void dirty_tracking(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCASES; i++) {
		struct soft_case c = cases[i];
		struct sio_domain *d, *plain;
		struct dirty_log log = { 0 };
		struct env e;
		size_t len;
		char *mem, *buf, out[4];

		c.cfg.dirty = true;
		env_up(&c, &e, 0);
		len = (size_t)e.min_page * 4;
		/* Aligned to the smallest page and to no larger one, so that
		 * every leaf is a smallest page whatever the allocator
		 * returns (AMD v1 would otherwise make 8K leaves of an 8K
		 * aligned buffer). */
		mem = page_buf(len + 2 * e.min_page, 2 * e.min_page);
		buf = mem + e.min_page;
		assert_int_equal(sio_domain_alloc_paging(e.dev, 0, NULL, &plain), 0);
		assert_int_equal(sio_domain_set_dirty_tracking(plain, true),
				 -EOPNOTSUPP);
		assert_false(sio_domain_can_track_dirty(plain));
		assert_int_equal(sio_domain_free(plain), 0);

		assert_int_equal(sio_domain_alloc_paging(
					 e.dev, SIO_DOMAIN_ALLOC_DIRTY_TRACKING,
					 NULL, &d), 0);
		assert_int_equal(sio_attach_device(d, e.dev), 0);
		assert_int_equal(sio_map(d, IOVA_BASE, (uintptr_t)buf, len,
					 SIO_PROT_READ | SIO_PROT_WRITE), 0);
		/* Writes before tracking starts are not in the snapshot. */
		assert_int_equal(sio_dma_write(e.dev, SIO_NO_PASID, IOVA_BASE,
					       "a", 1, NULL), 0);
		assert_int_equal(sio_domain_set_dirty_tracking(d, true), 0);
		assert_true(sio_domain_dirty_tracking(d));
		assert_int_equal(sio_dma_read(e.dev, SIO_NO_PASID, IOVA_BASE,
					      out, 4, NULL), 0);
		assert_int_equal(sio_dma_write(e.dev, SIO_NO_PASID,
					       IOVA_BASE + 2 * e.min_page + 9,
					       "b", 1, NULL), 0);
		if (sio_domain_read_and_clear_dirty(d, IOVA_BASE, len,
						    SIO_DIRTY_NO_CLEAR,
						    log_dirty, &log))
			fail_msg("%s: %s", c.name, sio_last_error());
		if (log.n != 1)
			fail_msg("%s: %u dirty leaves", c.name, log.n);
		/* The leaf holding the write, whole. */
		assert_int_equal(log.iova[0], IOVA_BASE + 2 * e.min_page);
		assert_int_equal(log.len[0], e.min_page);
		log.n = 0;
		assert_int_equal(sio_domain_read_and_clear_dirty(
					 d, IOVA_BASE, len, 0, log_dirty, &log), 0);
		assert_int_equal(log.n, 1);
		log.n = 0;
		assert_int_equal(sio_domain_read_and_clear_dirty(
					 d, IOVA_BASE, len, 0, log_dirty, &log), 0);
		assert_int_equal(log.n, 0);
		assert_int_equal(sio_domain_read_and_clear_dirty(
					 d, IOVA_BASE, len, 4, log_dirty, &log),
				 -EINVAL);
		/* Off: writes leave no trace. */
		assert_int_equal(sio_domain_set_dirty_tracking(d, false), 0);
		assert_int_equal(sio_dma_write(e.dev, SIO_NO_PASID, IOVA_BASE,
					       "c", 1, NULL), 0);
		assert_int_equal(sio_domain_read_and_clear_dirty(
					 d, IOVA_BASE, len, 0, log_dirty, &log), 0);
		assert_int_equal(log.n, 0);

		sio_detach_device(e.dev);
		assert_int_equal(sio_domain_free(d), 0);
		free(mem);
		env_down(&e);
	}
}

static void bad_config(void **state)
{
	struct sio_soft_config cfg = { .format = SIO_PT_ARM_LPAE_S1, .granule_lg2 = 13 };
	struct sio_system *sys;
	struct sio_iommu *iommu;

	(void)state;
	assert_int_equal(sio_system_create(&sys), 0);
	assert_int_equal(sio_soft_iommu_create(sys, "bad", &cfg, &iommu), -EINVAL);
	cfg.granule_lg2 = 12;
	cfg.pasid_bits = 21;
	assert_int_equal(sio_soft_iommu_create(sys, "bad", &cfg, &iommu), -EINVAL);
	assert_int_equal(sio_soft_iommu_create(sys, "bad", NULL, &iommu), -EINVAL);
	assert_int_equal(sio_system_destroy(sys), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(map_dma_errors),
		cmocka_unit_test(large_pages),
		cmocka_unit_test(pasid_and_identity),
		cmocka_unit_test(alias_group),
		cmocka_unit_test(dirty_tracking),
		cmocka_unit_test(bad_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
