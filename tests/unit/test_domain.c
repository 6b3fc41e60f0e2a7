/*
 * Domains: allocation rules, the mock's geometry, and map / unmap /
 * iova_to_phys on paging domains with their error paths.
 */
#include "helpers.h"

struct fix {
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_device *dev;		/* PASID-capable, dirty-capable */
	struct sio_device *nodirty;
	uint64_t pt_bytes;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	f->pt_bytes = t_pt_bytes();
	f->sys = t_system();
	f->iommu = t_mock(f->sys, NULL);
	f->dev = t_probe(f->iommu, "dev", 0, 0, SIO_MOCK_DEV_PASID);
	f->nodirty = t_probe(f->iommu, "nodirty", 0, 0, SIO_MOCK_DEV_NO_DIRTY);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	t_unprobe(f->dev);
	t_unprobe(f->nodirty);
	assert_int_equal(sio_system_destroy(f->sys), 0);
	/* Every table page of every domain the test made is gone. */
	assert_int_equal(t_pt_bytes(), f->pt_bytes);
	free(f);
	return 0;
}

static void test_alloc_flags(void **state)
{
	struct fix *f = *state;
	const uint32_t ok[] = {
		0,
		SIO_DOMAIN_ALLOC_DIRTY_TRACKING,
		SIO_DOMAIN_ALLOC_NEST_PARENT,
		SIO_DOMAIN_ALLOC_PASID,
		SIO_DOMAIN_ALLOC_NEST_PARENT | SIO_DOMAIN_ALLOC_DIRTY_TRACKING |
			SIO_DOMAIN_ALLOC_PASID,
	};
	struct sio_domain *d;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		d = NULL;
		assert_int_equal(sio_domain_alloc_paging(f->dev, ok[i], NULL, &d), 0);
		assert_int_equal(sio_domain_type(d), SIO_DOMAIN_PAGING);
		assert_ptr_equal(sio_domain_iommu(d), f->iommu);
		assert_true(sio_mock_domain_is_mock(d));
		assert_int_equal(sio_domain_attach_count(d), 0);
		assert_int_equal(sio_domain_free(d), 0);
	}
	/* Unknown flags. */
	d = NULL;
	assert_int_equal(sio_domain_alloc_paging(f->dev, 1u << 2, NULL, &d),
			 -EOPNOTSUPP);
	assert_int_equal(sio_domain_alloc_paging(f->dev, 1u << 30, NULL, &d),
			 -EOPNOTSUPP);
	/* Dirty tracking on a device without it. */
	assert_int_equal(sio_domain_alloc_paging(f->nodirty,
						 SIO_DOMAIN_ALLOC_DIRTY_TRACKING,
						 NULL, &d), -EOPNOTSUPP);
	assert_null(d);
	assert_string_not_equal(sio_last_error(), "");
	/* Without dirty tracking the same device is fine. */
	d = t_paging(f->nodirty, SIO_DOMAIN_ALLOC_NEST_PARENT);
	assert_int_equal(sio_domain_free(d), 0);
	assert_int_equal(sio_domain_alloc_paging(NULL, 0, NULL, &d), -EINVAL);
	assert_int_equal(sio_domain_alloc_paging(f->dev, 0, NULL, NULL), -EINVAL);
}

static void test_user_data_copy(void **state)
{
	struct { uint32_t a, b; } dst;
	unsigned char src[16] = { 1, 0, 0, 0, 2, 0, 0, 0 };
	struct sio_user_data ud = { .type = 7, .buf = src, .len = 8 };

	assert_int_equal(sio_user_data_copy(&dst, sizeof(dst), 4, NULL, 7), -EINVAL);
	/* Type must match. */
	assert_int_equal(sio_user_data_copy(&dst, sizeof(dst), 4, &ud, 8), -EINVAL);
	/* Exact size. */
	assert_int_equal(sio_user_data_copy(&dst, sizeof(dst), 4, &ud, 7), 0);
	assert_int_equal(dst.a, 1);
	assert_int_equal(dst.b, 2);
	/* Shorter than the structure, not below the minimum: zero-extended. */
	memset(&dst, 0xff, sizeof(dst));
	ud.len = 4;
	assert_int_equal(sio_user_data_copy(&dst, sizeof(dst), 4, &ud, 7), 0);
	assert_int_equal(dst.a, 1);
	assert_int_equal(dst.b, 0);
	/* Below the minimum. */
	ud.len = 3;
	assert_int_equal(sio_user_data_copy(&dst, sizeof(dst), 4, &ud, 7), -EINVAL);
	ud.len = 0;
	assert_int_equal(sio_user_data_copy(&dst, sizeof(dst), 4, &ud, 7), -EINVAL);
	/* Longer than the structure, whatever the tail: -EINVAL, and the
	 * destination is untouched. */
	ud.len = 16;
	memset(&dst, 0xee, sizeof(dst));
	assert_int_equal(sio_user_data_copy(&dst, sizeof(dst), 4, &ud, 7), -EINVAL);
	assert_int_equal(dst.a, 0xeeeeeeee);
	src[15] = 1;
	assert_int_equal(sio_user_data_copy(&dst, sizeof(dst), 4, &ud, 7), -EINVAL);
}

static void test_alloc_user_data(void **state)
{
	struct fix *f = *state;
	unsigned char raw[16] = { 0 };
	struct sio_mock_hwpt_data *data = (void *)raw;
	struct sio_user_data ud = { .type = SIO_MOCK_HWPT_DATA, .buf = raw,
				    .len = sizeof(*data) };
	const struct sio_domain_geometry *g;
	struct sio_domain *d = NULL;

	data->iotlb = SIO_MOCK_IOTLB_DEFAULT;
	assert_int_equal(sio_domain_alloc_paging(f->dev, 0, &ud, &d), 0);
	g = sio_domain_geometry(d);
	assert_int_equal(g->aperture_start, SIO_MOCK_APERTURE_START);
	assert_int_equal(sio_domain_free(d), 0);
	/* Just the iotlb field: the minimum. */
	ud.len = sizeof(data->iotlb);
	assert_int_equal(sio_domain_alloc_paging(f->dev, 0, &ud, &d), 0);
	assert_int_equal(sio_domain_free(d), 0);
	/* Shorter than the minimum. */
	ud.len = 2;
	d = NULL;
	assert_int_equal(sio_domain_alloc_paging(f->dev, 0, &ud, &d), -EINVAL);
	/* Longer than the structure the mock knows: -EINVAL, as the
	 * kernel's iommu_copy_struct_from_user() has it. */
	ud.len = sizeof(raw);
	assert_int_equal(sio_domain_alloc_paging(f->dev, 0, &ud, &d), -EINVAL);
	assert_null(d);
	/* A type the mock does not know; "none" with data is not selftest
	 * data either. */
	ud.len = sizeof(*data);
	ud.type = 0x1234;
	assert_int_equal(sio_domain_alloc_paging(f->dev, 0, &ud, &d), -EOPNOTSUPP);
	ud.type = 0;
	assert_int_equal(sio_domain_alloc_paging(f->dev, 0, &ud, &d), -EINVAL);
	assert_null(d);
	/* Unknown page-table type. */
	ud.type = SIO_MOCK_HWPT_DATA;
	data->pagetable_type = 7;
	assert_int_equal(sio_domain_alloc_paging(f->dev, 0, &ud, &d), -EOPNOTSUPP);
	assert_null(d);

	/* The huge type: 1 MiB and CPU-size pages, no aperture restriction. */
	data->pagetable_type = SIO_MOCK_PT_HUGE;
	assert_int_equal(sio_domain_alloc_paging(f->dev, 0, &ud, &d), 0);
	assert_int_equal(sio_domain_pgsize_bitmap(d),
			 SIO_MOCK_HUGE_PAGE_SIZE | 4096);
	g = sio_domain_geometry(d);
	assert_int_equal(g->aperture_start, 0);
	assert_true(g->aperture_end > SIO_MOCK_APERTURE_LAST);
	assert_int_equal(sio_map(d, 0, 0x40000000, SIO_MOCK_HUGE_PAGE_SIZE,
				 SIO_PROT_READ), 0);
	assert_int_equal(sio_iova_to_phys(d, 0x1234), 0x40001234);
	assert_int_equal(sio_unmap(d, 0, SIO_MOCK_HUGE_PAGE_SIZE),
			 SIO_MOCK_HUGE_PAGE_SIZE);
	/* 2 KiB is not one of its page sizes. */
	assert_int_equal(sio_map(d, 0, 0x40000000, T_PG, SIO_PROT_READ), -EINVAL);
	assert_int_equal(sio_domain_free(d), 0);
}

static void test_alloc_nested(void **state)
{
	struct fix *f = *state;
	struct sio_mock_hwpt_data data = { .iotlb = 0x1234 };
	struct sio_user_data ud = { .type = SIO_MOCK_HWPT_DATA, .buf = &data,
				    .len = sizeof(data) };
	struct sio_domain *plain = t_paging(f->dev, 0);
	struct sio_domain *parent = t_paging(f->dev, SIO_DOMAIN_ALLOC_NEST_PARENT);
	struct sio_domain *blocked = NULL, *n = NULL;
	struct sio_system *sys2 = t_system();
	struct sio_iommu *other = t_mock(sys2, NULL);
	struct sio_device *odev = t_probe(other, "o", 0, 0, 0);
	struct sio_domain *oparent = t_paging(odev, SIO_DOMAIN_ALLOC_NEST_PARENT);
	uint32_t v;

	/* Only on a NEST_PARENT paging parent of the same IOMMU. */
	assert_int_equal(sio_domain_alloc_nested(f->dev, plain, 0, &ud, &n), -EINVAL);
	assert_int_equal(sio_domain_get_blocked(f->dev, &blocked), 0);
	assert_int_equal(sio_domain_alloc_nested(f->dev, blocked, 0, &ud, &n),
			 -EINVAL);
	assert_int_equal(sio_domain_alloc_nested(f->dev, oparent, 0, &ud, &n),
			 -EINVAL);
	assert_int_equal(sio_domain_alloc_nested(f->dev, NULL, 0, &ud, &n), -EINVAL);
	/* The mock wants selftest data and no flag but PASID. */
	assert_int_equal(sio_domain_alloc_nested(f->dev, parent, 0, NULL, &n),
			 -EOPNOTSUPP);
	assert_int_equal(sio_domain_alloc_nested(f->dev, parent,
						 SIO_DOMAIN_ALLOC_DIRTY_TRACKING,
						 &ud, &n), -EOPNOTSUPP);
	ud.len = 2;
	assert_int_equal(sio_domain_alloc_nested(f->dev, parent, 0, &ud, &n), -EINVAL);
	assert_null(n);
	ud.len = sizeof(data);

	assert_int_equal(sio_domain_alloc_nested(f->dev, parent,
						 SIO_DOMAIN_ALLOC_PASID, &ud, &n), 0);
	assert_int_equal(sio_domain_type(n), SIO_DOMAIN_NESTED);
	assert_ptr_equal(sio_domain_iommu(n), f->iommu);
	for (unsigned int id = 0; id < SIO_MOCK_NESTED_IOTLB_NUM; id++) {
		assert_int_equal(sio_mock_nested_iotlb(n, id, &v), 0);
		assert_int_equal(v, 0x1234);
	}
	assert_int_equal(sio_mock_nested_iotlb(n, SIO_MOCK_NESTED_IOTLB_ID_MAX + 1,
					       &v), -EINVAL);
	assert_int_equal(sio_mock_nested_iotlb(parent, 0, &v), -EINVAL);
	/* A nested domain cannot be a parent. */
	struct sio_domain *n2 = NULL;

	assert_int_equal(sio_domain_alloc_nested(f->dev, n, 0, &ud, &n2), -EINVAL);
	assert_int_equal(sio_domain_free(n), 0);

	/* Removed device: -ENODEV. */
	sio_device_remove(odev);
	n = NULL;
	assert_int_equal(sio_domain_alloc_nested(odev, oparent, 0, &ud, &n), -ENODEV);
	assert_null(n);

	assert_int_equal(sio_domain_free(plain), 0);
	assert_int_equal(sio_domain_free(parent), 0);
	assert_int_equal(sio_domain_free(oparent), 0);
	sio_device_put(odev);
	assert_int_equal(sio_system_destroy(sys2), 0);
}

static void test_geometry(void **state)
{
	struct fix *f = *state;
	struct sio_domain *d = t_paging(f->dev, 0);
	const struct sio_domain_geometry *g = sio_domain_geometry(d);
	uint64_t bm = sio_domain_pgsize_bitmap(d);

	assert_int_equal(g->aperture_start, 1ull << 24);
	assert_int_equal(g->aperture_end, (1ull << 31) - 1);
	assert_true(g->force_aperture);
	/* The smallest page is 2 KiB. */
	assert_int_equal(bm & -bm, 2048);
	assert_true(bm & SIO_MOCK_HUGE_PAGE_SIZE);
	/* The instance advertises what its domains can map. */
	assert_int_equal(sio_iommu_caps(f->iommu)->pgsize_bitmap, bm);
	assert_int_equal(sio_iommu_caps(f->iommu)->pasid_bits, SIO_MOCK_PASID_WIDTH);
	assert_int_equal(sio_domain_free(d), 0);
}

static void test_static_domains(void **state)
{
	struct fix *f = *state;
	struct sio_domain *b = NULL, *i = NULL;

	assert_int_equal(sio_domain_get_blocked(f->dev, &b), 0);
	assert_int_equal(sio_domain_type(b), SIO_DOMAIN_BLOCKED);
	assert_ptr_equal(sio_domain_iommu(b), f->iommu);
	/* The mock has no identity domain. */
	assert_int_equal(sio_domain_get_identity(f->dev, &i), -EOPNOTSUPP);
	assert_null(i);
	/* Freeing a static domain does nothing. */
	assert_int_equal(sio_domain_free(b), 0);
	assert_int_equal(sio_domain_get_blocked(f->dev, &i), 0);
	assert_ptr_equal(i, b);
	/* No map on a non-paging domain. */
	assert_int_equal(sio_map(b, T_IOVA, 0x100000, T_PG, SIO_PROT_READ), -EINVAL);
	assert_int_equal(sio_unmap(b, T_IOVA, T_PG), -EINVAL);
	assert_int_equal(sio_iova_to_phys(b, T_IOVA), 0);
	assert_int_equal(sio_map(NULL, T_IOVA, 0x100000, T_PG, SIO_PROT_READ),
			 -EINVAL);
	assert_int_equal(sio_domain_free(NULL), 0);
	assert_string_equal(sio_domain_type_name(SIO_DOMAIN_PAGING), "paging");
	assert_string_equal(sio_domain_type_name(SIO_DOMAIN_BLOCKED), "blocked");
	assert_string_equal(sio_domain_type_name(SIO_DOMAIN_IDENTITY), "identity");
}

static void test_map_unmap(void **state)
{
	struct fix *f = *state;
	struct sio_domain *d = t_paging(f->dev, 0);
	const uint64_t pa = 0x7000000;

	assert_int_equal(sio_map(d, T_IOVA, pa, 4 * T_PG,
				 SIO_PROT_READ | SIO_PROT_WRITE), 0);
	assert_int_equal(sio_iova_to_phys(d, T_IOVA), pa);
	assert_int_equal(sio_iova_to_phys(d, T_IOVA + 5), pa + 5);
	assert_int_equal(sio_iova_to_phys(d, T_IOVA + 3 * T_PG + 2047),
			 pa + 3 * T_PG + 2047);
	assert_int_equal(sio_iova_to_phys(d, T_IOVA + 4 * T_PG), 0);
	assert_int_equal(sio_iova_to_phys(d, T_IOVA - 1), 0);
	/* Size 0 maps and unmaps nothing. */
	assert_int_equal(sio_map(d, T_IOVA, pa, 0, SIO_PROT_READ), 0);
	assert_int_equal(sio_unmap(d, T_IOVA, 0), 0);

	assert_int_equal(sio_unmap(d, T_IOVA, 4 * T_PG), 4 * T_PG);
	assert_int_equal(sio_iova_to_phys(d, T_IOVA), 0);
	assert_int_equal(sio_iova_to_phys(d, T_IOVA + 3 * T_PG), 0);
	/* Mapped again after an unmap. */
	assert_int_equal(sio_map(d, T_IOVA, pa + 8 * T_PG, T_PG, SIO_PROT_READ), 0);
	assert_int_equal(sio_iova_to_phys(d, T_IOVA), pa + 8 * T_PG);
	assert_int_equal(sio_unmap(d, T_IOVA, T_PG), T_PG);
	assert_int_equal(sio_domain_free(d), 0);
}

static void test_map_aperture(void **state)
{
	struct fix *f = *state;
	struct sio_domain *d = t_paging(f->dev, 0);
	const uint64_t last_pg = SIO_MOCK_APERTURE_LAST + 1 - T_PG;

	assert_int_equal(sio_map(d, T_IOVA - T_PG, 0x100000, T_PG, SIO_PROT_READ),
			 -EINVAL);
	assert_int_equal(sio_map(d, 0, 0x100000, T_PG, SIO_PROT_READ), -EINVAL);
	/* Crossing the end: nothing of it is mapped. */
	assert_int_equal(sio_map(d, last_pg, 0x100000, 2 * T_PG, SIO_PROT_READ),
			 -EINVAL);
	assert_int_equal(sio_iova_to_phys(d, last_pg), 0);
	/* Crossing the start. */
	assert_int_equal(sio_map(d, T_IOVA - T_PG, 0x100000, 2 * T_PG,
				 SIO_PROT_READ), -EINVAL);
	assert_int_equal(sio_iova_to_phys(d, T_IOVA), 0);
	/* Wrapping around. */
	assert_int_equal(sio_map(d, UINT64_MAX - T_PG + 1, 0x100000, 2 * T_PG,
				 SIO_PROT_READ), -EINVAL);
	/* The first and last pages are fine. */
	assert_int_equal(sio_map(d, last_pg, 0x100000, T_PG, SIO_PROT_READ), 0);
	assert_int_equal(sio_map(d, T_IOVA, 0x200000, T_PG, SIO_PROT_READ), 0);
	assert_int_equal(sio_iova_to_phys(d, SIO_MOCK_APERTURE_LAST), 0x100000 + 2047);
	/* Unmap outside the aperture is refused too. */
	assert_int_equal(sio_unmap(d, SIO_MOCK_APERTURE_LAST + 1, T_PG), -EINVAL);
	assert_int_equal(sio_unmap(d, last_pg, 2 * T_PG), -EINVAL);
	assert_int_equal(sio_unmap(d, last_pg, T_PG), T_PG);
	assert_int_equal(sio_unmap(d, T_IOVA, T_PG), T_PG);
	assert_int_equal(sio_domain_free(d), 0);
}

static void test_map_unaligned(void **state)
{
	struct fix *f = *state;
	struct sio_domain *d = t_paging(f->dev, 0);

	assert_int_equal(sio_map(d, T_IOVA + 1024, 0x100000, T_PG, SIO_PROT_READ),
			 -EINVAL);
	assert_int_equal(sio_map(d, T_IOVA, 0x100000 + 512, T_PG, SIO_PROT_READ),
			 -EINVAL);
	assert_int_equal(sio_map(d, T_IOVA, 0x100000, T_PG + 1, SIO_PROT_READ),
			 -EINVAL);
	assert_int_equal(sio_map(d, T_IOVA, 0x100000, 1024, SIO_PROT_READ), -EINVAL);
	assert_int_equal(sio_iova_to_phys(d, T_IOVA), 0);
	assert_int_equal(sio_map(d, T_IOVA, 0x100000, T_PG, SIO_PROT_READ), 0);
	assert_int_equal(sio_unmap(d, T_IOVA + 1024, T_PG), -EINVAL);
	assert_int_equal(sio_unmap(d, T_IOVA, 1024), -EINVAL);
	assert_int_equal(sio_iova_to_phys(d, T_IOVA), 0x100000);
	assert_int_equal(sio_unmap(d, T_IOVA, T_PG), T_PG);
	assert_int_equal(sio_domain_free(d), 0);
}

/* Mapping over a mapping is -EEXIST and leaves nothing of the new range. */
static void test_map_overlap(void **state)
{
	struct fix *f = *state;
	struct sio_domain *d = t_paging(f->dev, 0);
	const uint64_t a = T_IOVA + 64 * T_PG;
	const uint64_t pa = 0x10000000, pb = 0x20000000;

	assert_int_equal(sio_map(d, a, pa, 4 * T_PG, SIO_PROT_READ), 0);
	/* Same range. */
	assert_int_equal(sio_map(d, a, pb, 4 * T_PG, SIO_PROT_READ), -EEXIST);
	/* Overlapping the front: the pages before it stay unmapped. */
	assert_int_equal(sio_map(d, a - 8 * T_PG, pb, 9 * T_PG, SIO_PROT_READ),
			 -EEXIST);
	for (int i = 1; i <= 8; i++)
		assert_int_equal(sio_iova_to_phys(d, a - i * T_PG), 0);
	/* Overlapping the back: the pages after the old range too. */
	assert_int_equal(sio_map(d, a + 3 * T_PG, pb, 16 * T_PG, SIO_PROT_READ),
			 -EEXIST);
	for (int i = 4; i < 19; i++)
		assert_int_equal(sio_iova_to_phys(d, a + i * T_PG), 0);
	/* Around it. */
	assert_int_equal(sio_map(d, a - 2 * T_PG, pb, 8 * T_PG, SIO_PROT_READ),
			 -EEXIST);
	assert_int_equal(sio_iova_to_phys(d, a - 2 * T_PG), 0);
	assert_int_equal(sio_iova_to_phys(d, a + 5 * T_PG), 0);
	/* The old mapping is intact. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(sio_iova_to_phys(d, a + i * T_PG), pa + i * T_PG);
	assert_int_equal(sio_unmap(d, a, 4 * T_PG), 4 * T_PG);
	/* Nothing else was left mapped. */
	assert_int_equal(sio_unmap(d, a - 8 * T_PG, 32 * T_PG), 0);
	assert_int_equal(sio_domain_free(d), 0);
}

static void test_unmap_partial(void **state)
{
	struct fix *f = *state;
	struct sio_domain *d = t_paging(f->dev, 0);
	const uint64_t a = T_IOVA + 128 * T_PG;

	/* Nothing there: 0 bytes. */
	assert_int_equal(sio_unmap(d, a, 8 * T_PG), 0);

	/* pa is only 2 KiB aligned, so these are 2 KiB leaves. */
	assert_int_equal(sio_map(d, a, 0x100800, 2 * T_PG, SIO_PROT_READ), 0);
	assert_int_equal(sio_map(d, a + 3 * T_PG, 0x200000, T_PG, SIO_PROT_READ), 0);
	/* A hole first: stops at once, nothing unmapped. */
	assert_int_equal(sio_unmap(d, a - T_PG, 4 * T_PG), 0);
	assert_int_equal(sio_iova_to_phys(d, a), 0x100800);
	/* Part of a range. */
	assert_int_equal(sio_unmap(d, a, T_PG), T_PG);
	assert_int_equal(sio_iova_to_phys(d, a), 0);
	assert_int_equal(sio_iova_to_phys(d, a + T_PG), 0x100800 + T_PG);
	/* Stops at the first hole: the page after it stays. */
	assert_int_equal(sio_unmap(d, a + T_PG, 8 * T_PG), T_PG);
	assert_int_equal(sio_iova_to_phys(d, a + 3 * T_PG), 0x200000);
	assert_int_equal(sio_unmap(d, a + 3 * T_PG, T_PG), T_PG);

	/* Part of a larger leaf: as iommu_unmap(), the whole leaf goes and
	 * the result says so. */
	assert_int_equal(sio_map(d, a, 0x100000, 2 * T_PG, SIO_PROT_READ), 0);
	assert_int_equal(sio_unmap(d, a, T_PG), 2 * T_PG);
	assert_int_equal(sio_iova_to_phys(d, a + T_PG), 0);
	assert_int_equal(sio_domain_free(d), 0);
}

/* Large ranges are split into large pages and come back whole. */
static void test_large_ranges(void **state)
{
	struct fix *f = *state;
	struct sio_domain *d = t_paging(f->dev, 0);
	const uint64_t iova = 1ull << 26;	/* 64 MiB, aligned */
	const size_t size = 64u << 20;
	const uint64_t pa = 1ull << 32;
	uint64_t base = t_pt_bytes();

	assert_int_equal(sio_map(d, iova, pa, size, SIO_PROT_READ | SIO_PROT_WRITE), 0);
	for (uint64_t off = 0; off < size; off += size / 64 + T_PG)
		assert_int_equal(sio_iova_to_phys(d, iova + off + 3), pa + off + 3);
	assert_int_equal(sio_iova_to_phys(d, iova + size - 1), pa + size - 1);
	assert_int_equal(sio_iova_to_phys(d, iova + size), 0);
	/* Large leaves: far less table memory than one entry per 2 KiB. */
	assert_true(t_pt_bytes() - base < (size / T_PG) * 8 / 4);
	assert_int_equal(sio_unmap(d, iova, size), (ssize_t)size);
	assert_int_equal(sio_iova_to_phys(d, iova + size / 2), 0);

	/* Only 2 KiB aligned: pa offset by one page against the IOVA. */
	assert_int_equal(sio_map(d, iova + T_PG, pa + 2 * T_PG, 8u << 20,
				 SIO_PROT_READ), 0);
	for (uint64_t off = 0; off < (8u << 20); off += 123 * T_PG)
		assert_int_equal(sio_iova_to_phys(d, iova + T_PG + off + 9),
				 pa + 2 * T_PG + off + 9);
	assert_int_equal(sio_iova_to_phys(d, iova + T_PG + (8u << 20) - 1),
			 pa + 2 * T_PG + (8u << 20) - 1);
	assert_int_equal(sio_unmap(d, iova + T_PG, 8u << 20), 8u << 20);

	/* The whole aperture in one call. */
	assert_int_equal(sio_map(d, T_IOVA, pa, SIO_MOCK_APERTURE_LAST + 1 - T_IOVA,
				 SIO_PROT_READ), 0);
	assert_int_equal(sio_iova_to_phys(d, SIO_MOCK_APERTURE_LAST),
			 pa + SIO_MOCK_APERTURE_LAST - T_IOVA);
	assert_int_equal(sio_unmap(d, T_IOVA, SIO_MOCK_APERTURE_LAST + 1 - T_IOVA),
			 SIO_MOCK_APERTURE_LAST + 1 - T_IOVA);
	assert_int_equal(sio_domain_free(d), 0);
}

/* -EBUSY while attached anywhere: RID or PASID. */
static void test_free_while_attached(void **state)
{
	struct fix *f = *state;
	struct sio_domain *d = t_paging(f->dev, 0);
	struct sio_group *group = t_group(f->dev);

	assert_int_equal(sio_attach_group(d, group, NULL), 0);
	assert_int_equal(sio_domain_free(d), -EBUSY);
	assert_string_not_equal(sio_last_error(), "");
	assert_int_equal(sio_attach_device_pasid(d, f->dev, 10, NULL), 0);
	assert_int_equal(sio_domain_attach_count(d), 2);
	sio_detach_group(group);
	assert_int_equal(sio_domain_free(d), -EBUSY);
	sio_detach_device_pasid(d, f->dev, 10);
	assert_int_equal(sio_domain_attach_count(d), 0);
	assert_int_equal(sio_domain_free(d), 0);
	sio_group_put(group);
}

/*
 * What the core asks of a driver: one iotlb_sync per unmap, covering the
 * whole range even when the core split it into several page sizes; a
 * failing iotlb_sync_map undoes the map; ranges split as iommu_map() does.
 */
static void test_driver_calls(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_tdrv(sys, "t", SIO_DOMAIN_BLOCKED);
	struct sio_device *dev = t_tdev(iommu, "d", 0, 0);
	struct sio_domain *d = t_paging(dev, 0);
	struct tdrv_domain *td = tdrv_domain(d);
	/* Starts 2 KiB past 1 MiB alignment: 2K, 4K, 8K... pages. */
	const uint64_t iova = (1ull << 30) + T_PG;
	const size_t size = (2u << 20) - T_PG;

	assert_int_equal(sio_map(d, iova, iova, size, SIO_PROT_READ), 0);
	assert_int_equal(td->nsync, 0);
	assert_int_equal(sio_unmap(d, iova, size), (ssize_t)size);
	assert_int_equal(td->nsync, 1);
	assert_int_equal(td->sync_start, iova);
	assert_int_equal(td->sync_end, iova + size - 1);
	/* Nothing unmapped, nothing flushed. */
	assert_int_equal(sio_unmap(d, iova, size), 0);
	assert_int_equal(td->nsync, 1);

	td->fail_sync_map = -EIO;
	assert_int_equal(sio_map(d, iova, iova, size, SIO_PROT_READ), -EIO);
	assert_int_equal(sio_iova_to_phys(d, iova), 0);
	assert_int_equal(sio_iova_to_phys(d, iova + size - 1), 0);
	td->fail_sync_map = 0;
	assert_int_equal(sio_map(d, iova, iova, size, SIO_PROT_READ), 0);
	assert_int_equal(sio_iova_to_phys(d, iova + 5), iova + 5);
	assert_int_equal(sio_unmap(d, iova, size), (ssize_t)size);

	/* iova and pa offset differently within every larger page: one
	 * call with 2 KiB pages, not one call per page. */
	td->nmap = 0;
	assert_int_equal(sio_map(d, 1ull << 30, (1ull << 31) + T_PG, 1u << 20,
				 SIO_PROT_READ), 0);
	assert_int_equal(td->nmap, 1);
	assert_int_equal(sio_iova_to_phys(d, (1ull << 30) + 4097),
			 (1ull << 31) + T_PG + 4097);
	/* Same offsets: small pages up to the 1 MiB boundary, then larger. */
	td->nmap = 0;
	assert_int_equal(sio_map(d, (1ull << 32) - T_PG, (1ull << 33) - T_PG,
				 (1u << 20) + T_PG, SIO_PROT_READ), 0);
	assert_int_equal(td->nmap, 2);
	assert_int_equal(sio_iova_to_phys(d, (1ull << 32) + 5), (1ull << 33) + 5);
	assert_int_equal(sio_unmap(d, 1ull << 30, 1u << 20), 1u << 20);
	assert_int_equal(sio_unmap(d, (1ull << 32) - T_PG, (1u << 20) + T_PG),
			 (1u << 20) + T_PG);

	assert_int_equal(sio_domain_free(d), 0);
	t_unprobe(dev);
	assert_int_equal(sio_system_destroy(sys), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alloc_flags, setup, teardown),
		cmocka_unit_test(test_user_data_copy),
		cmocka_unit_test_setup_teardown(test_alloc_user_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_nested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_geometry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_domains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_aperture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_unaligned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap_partial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_while_attached, setup,
						teardown),
		cmocka_unit_test(test_driver_calls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
