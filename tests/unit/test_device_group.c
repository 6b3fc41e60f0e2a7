/*
 * Devices and groups: probe into groups, the group's first device,
 * removal (also while attached), references, reserved regions, hardware
 * information, and DMA ownership.
 */
#include "helpers.h"

/* The mock puts each device in its own group on the blocked default. */
static void test_mock_one_group_per_device(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_mock(sys, "mock0");
	struct sio_device *a = t_probe(iommu, "a", 7, 0, 0);
	struct sio_device *b = t_probe(iommu, "b", 7, 0, 0);
	struct sio_group *ga = t_group(a), *gb = t_group(b);
	struct sio_device *first = NULL;

	assert_ptr_not_equal(ga, gb);
	assert_int_not_equal(sio_group_id(ga), sio_group_id(gb));
	assert_int_equal(sio_group_device_count(ga), 1);
	assert_int_equal(sio_group_device_count(gb), 1);
	assert_int_equal(sio_group_first_device(ga, &first), 0);
	assert_ptr_equal(first, a);
	sio_device_put(first);

	/* Both start on the blocked domain, which is their default. */
	assert_ptr_equal(sio_group_domain(ga), sio_group_default_domain(ga));
	assert_int_equal(sio_domain_type(sio_group_domain(ga)), SIO_DOMAIN_BLOCKED);
	assert_ptr_equal(sio_group_domain(ga), sio_group_domain(gb));
	assert_ptr_equal(sio_device_iommu(a), iommu);
	assert_string_equal(sio_device_name(a), "a");
	assert_int_equal(sio_device_rid(a), 0x100);
	assert_false(sio_device_is_removed(a));

	sio_group_put(ga);
	sio_group_put(gb);
	t_unprobe(a);
	t_unprobe(b);
	assert_int_equal(sio_system_destroy(sys), 0);
}

static int count_dev(struct sio_device *dev, void *arg)
{
	struct sio_device **seen = arg;

	while (*seen)
		seen++;
	*seen = dev;
	return 0;
}

static int stop_at_first(struct sio_device *dev, void *arg)
{
	(*(int *)arg)++;
	return 42;
}

/* A driver grouping by alias gets multi-device groups. */
static void test_alias_groups(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_tdrv(sys, "t", SIO_DOMAIN_BLOCKED);
	struct sio_device *a = t_tdev(iommu, "a", 5, 0);
	struct sio_device *b = t_tdev(iommu, "b", 5, 0);
	struct sio_device *c = t_tdev(iommu, "c", 6, 0);
	struct sio_device *d = t_tdev(iommu, "d", 0, 0);
	struct sio_group *ga = t_group(a), *gb = t_group(b);
	struct sio_group *gc = t_group(c), *gd = t_group(d);
	struct sio_device *seen[4] = { 0 };
	int calls = 0;

	assert_ptr_equal(ga, gb);
	assert_ptr_not_equal(ga, gc);
	assert_ptr_not_equal(ga, gd);
	assert_ptr_not_equal(gc, gd);
	assert_int_equal(sio_group_device_count(ga), 2);
	assert_int_equal(sio_group_device_count(gc), 1);

	/* Devices in probe order. */
	assert_int_equal(sio_group_for_each_device(ga, count_dev, seen), 0);
	assert_ptr_equal(seen[0], a);
	assert_ptr_equal(seen[1], b);
	assert_null(seen[2]);
	assert_int_equal(sio_group_for_each_device(ga, stop_at_first, &calls), 42);
	assert_int_equal(calls, 1);

	/* A single-device convenience refuses a shared group. */
	struct sio_domain *dom = t_paging(a, 0);

	assert_int_equal(sio_attach_device(dom, a), -EINVAL);
	assert_int_equal(sio_attach_device(dom, c), 0);
	assert_ptr_equal(sio_group_domain(gc), dom);
	assert_int_equal(sio_domain_attach_count(dom), 1);
	sio_detach_device(c);
	assert_ptr_equal(sio_group_domain(gc), sio_group_default_domain(gc));
	assert_int_equal(sio_domain_attach_count(dom), 0);
	assert_int_equal(sio_domain_free(dom), 0);

	sio_group_put(ga);
	sio_group_put(gb);
	sio_group_put(gc);
	sio_group_put(gd);
	t_unprobe(a);
	t_unprobe(b);
	t_unprobe(c);
	t_unprobe(d);
	assert_int_equal(sio_system_destroy(sys), 0);
}

/*
 * Group-wide allocation uses the group's first device; when it is removed
 * the next one takes its place, and an empty group allocates nothing.
 */
static void test_first_device_rule(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_tdrv(sys, "t", SIO_DOMAIN_BLOCKED);
	struct tdrv *t = t_tdrv_state(iommu);
	struct sio_device *a = t_tdev(iommu, "a", 9, 0);
	struct sio_device *b = t_tdev(iommu, "b", 9, 0);
	struct sio_group *group = t_group(b);
	struct sio_domain *d = NULL;
	struct sio_device *first = NULL;

	/* Allocating for b still asks the driver for b itself... */
	assert_int_equal(sio_domain_alloc_paging(b, 0, NULL, &d), 0);
	assert_ptr_equal(t->last_alloc_dev, b);
	assert_int_equal(sio_domain_free(d), 0);
	/* ...but group-wide allocation always for the first device. */
	assert_int_equal(sio_group_domain_alloc_paging(group, 0, NULL, &d), 0);
	assert_ptr_equal(t->last_alloc_dev, a);
	assert_int_equal(sio_domain_free(d), 0);

	sio_device_remove(a);
	assert_int_equal(sio_group_device_count(group), 1);
	assert_int_equal(sio_group_first_device(group, &first), 0);
	assert_ptr_equal(first, b);
	sio_device_put(first);
	t->last_alloc_dev = NULL;
	assert_int_equal(sio_group_domain_alloc_paging(group, 0, NULL, &d), 0);
	assert_ptr_equal(t->last_alloc_dev, b);
	assert_int_equal(sio_domain_free(d), 0);
	/* The removed device cannot have domains allocated for it. */
	d = NULL;
	assert_int_equal(sio_domain_alloc_paging(a, 0, NULL, &d), -ENODEV);
	assert_null(d);

	sio_device_remove(b);
	assert_int_equal(sio_group_device_count(group), 0);
	assert_int_equal(sio_group_first_device(group, &first), -ENODEV);
	assert_int_equal(sio_group_domain_alloc_paging(group, 0, NULL, &d), -ENODEV);
	assert_null(d);
	assert_string_not_equal(sio_last_error(), "");
	assert_int_equal(t->paging_allocs, 3);

	sio_group_put(group);
	sio_device_put(a);
	sio_device_put(b);
	assert_int_equal(sio_system_destroy(sys), 0);
}

/* Removal while the RID is attached: the device's DMA fails, the group
 * keeps its domain for its owner to detach. */
static void test_remove_while_rid_attached(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_mock(sys, NULL);
	struct sio_device *dev = t_probe(iommu, "d", 0, 0, 0);
	struct sio_group *group = t_group(dev);
	struct sio_domain *dom = t_paging(dev, 0);
	struct t_handle h = { .cookie = 1 };
	struct sio_dma_fault f;
	char *buf = t_buf(T_PG, T_PG);
	char out[16] = { 0 };

	assert_int_equal(sio_map(dom, T_IOVA, t_pa(buf), T_PG,
				 SIO_PROT_READ | SIO_PROT_WRITE), 0);
	assert_int_equal(sio_attach_group(dom, group, &h.handle), 0);
	assert_int_equal(sio_dma_write(dev, SIO_NO_PASID, T_IOVA, "hello", 6, &f), 0);
	assert_string_equal(buf, "hello");

	sio_device_remove(dev);
	sio_device_remove(dev);		/* idempotent */
	assert_true(sio_device_is_removed(dev));
	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID, T_IOVA, out, 6, &f),
			 -ENODEV);
	assert_int_equal(f.reason, SIO_FAULT_DEVICE_GONE);
	assert_int_equal(f.iova, T_IOVA);
	assert_int_equal(f.access, SIO_DMA_READ);
	assert_string_equal(out, "");

	/* The group keeps its attachment for the owner to detach. */
	assert_ptr_equal(sio_group_domain(group), dom);
	assert_int_equal(sio_domain_attach_count(dom), 1);
	assert_int_equal(sio_domain_free(dom), -EBUSY);
	sio_detach_group(group);
	assert_int_equal(sio_domain_attach_count(dom), 0);
	assert_int_equal(sio_unmap(dom, T_IOVA, T_PG), (ssize_t)T_PG);
	assert_int_equal(sio_domain_free(dom), 0);

	sio_group_put(group);
	sio_device_put(dev);
	free(buf);
	assert_int_equal(sio_system_destroy(sys), 0);
}

/* The same with the last reference of the group going with the device:
 * freeing the group drops its attachment. */
static void test_remove_drops_last_group_ref(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_mock(sys, NULL);
	struct sio_device *dev = t_probe(iommu, "d", 0, 0, SIO_MOCK_DEV_PASID);
	struct sio_domain *rid = t_paging(dev, 0);
	struct sio_domain *pd = t_paging(dev, 0);
	struct sio_group *group = t_group(dev);

	assert_int_equal(sio_attach_group(rid, group, NULL), 0);
	sio_group_put(group);
	assert_int_equal(sio_attach_device_pasid(pd, dev, 3, NULL), 0);
	assert_int_equal(sio_domain_attach_count(rid), 1);
	assert_int_equal(sio_domain_attach_count(pd), 1);
	t_unprobe(dev);
	assert_int_equal(sio_domain_free(rid), 0);
	assert_int_equal(sio_domain_free(pd), 0);
	assert_int_equal(sio_system_destroy(sys), 0);
}

/* Removal while PASIDs are attached, in a group of two: the other device
 * keeps its PASID DMA, and the owner detaches through it. */
static void test_remove_while_pasid_attached(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_tdrv(sys, "t", SIO_DOMAIN_BLOCKED);
	struct sio_device *a = t_tdev(iommu, "a", 3, 8);
	struct sio_device *b = t_tdev(iommu, "b", 3, 8);
	struct sio_domain *dom = t_paging(a, 0);
	struct t_handle h = { .cookie = 2 };
	struct sio_attach_handle *got = NULL;
	struct sio_group *group = t_group(a);
	struct sio_dma_fault f;
	char *buf = t_buf(T_PG, T_PG);
	char out[8];

	memcpy(buf, "pasid", 6);
	assert_int_equal(sio_map(dom, T_IOVA, t_pa(buf), T_PG, SIO_PROT_READ), 0);
	assert_int_equal(sio_attach_device_pasid(dom, a, 5, &h.handle), 0);
	assert_int_equal(sio_dma_read(a, 5, T_IOVA, out, 6, &f), 0);
	assert_string_equal(out, "pasid");

	sio_device_remove(a);
	assert_int_equal(sio_dma_read(a, 5, T_IOVA, out, 6, &f), -ENODEV);
	assert_int_equal(f.reason, SIO_FAULT_DEVICE_GONE);
	assert_int_equal(f.pasid, 5);
	assert_null(sio_device_pasid_domain(a, 5));
	/* The group's PASID attachment stays for b. */
	memset(out, 0, sizeof(out));
	assert_int_equal(sio_dma_read(b, 5, T_IOVA, out, 6, &f), 0);
	assert_string_equal(out, "pasid");
	assert_int_equal(sio_attach_handle_get(group, 5, 0, &got), 0);
	assert_ptr_equal(got, &h.handle);
	assert_int_equal(sio_domain_attach_count(dom), 1);
	/* Detaching through the removed device is a no-op. */
	sio_detach_device_pasid(dom, a, 5);
	assert_int_equal(sio_domain_attach_count(dom), 1);
	sio_detach_device_pasid(dom, b, 5);
	assert_int_equal(sio_domain_attach_count(dom), 0);
	assert_int_equal(sio_attach_handle_get(group, 5, 0, &got), -ENOENT);

	/* Attach again, then lose the last device: with nobody left to
	 * detach it through, the PASID attachment goes with it. */
	assert_int_equal(sio_attach_device_pasid(dom, b, 6, &h.handle), 0);
	sio_device_remove(b);
	assert_int_equal(sio_domain_attach_count(dom), 0);
	assert_int_equal(sio_attach_handle_get(group, 6, 0, &got), -ENOENT);
	assert_int_equal(sio_domain_free(dom), 0);

	sio_group_put(group);
	sio_device_put(a);
	sio_device_put(b);
	free(buf);
	assert_int_equal(sio_system_destroy(sys), 0);
}

/* What a removed device still answers, and what it refuses. */
static void test_removed_device_calls(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_mock(sys, NULL);
	struct sio_device *dev = t_probe(iommu, "d", 0, 0,
					 SIO_MOCK_DEV_PASID | SIO_MOCK_DEV_NO_DIRTY);
	struct sio_domain *dom = t_paging(dev, 0);
	struct sio_group *group = NULL;
	struct sio_dma_xlate x;
	struct sio_dma_fault f = { 0 };
	struct sio_attach_handle *h = NULL;
	int owner;

	sio_device_remove(dev);
	assert_int_equal(sio_device_group(dev, &group), -ENODEV);
	assert_null(group);
	assert_int_equal(sio_dma_translate(dev, SIO_NO_PASID, T_IOVA, SIO_DMA_READ,
					   &x, &f), -ENODEV);
	assert_int_equal(f.reason, SIO_FAULT_DEVICE_GONE);
	assert_int_equal(sio_dma_translate(dev, 1, T_IOVA, SIO_DMA_WRITE, &x, &f),
			 -ENODEV);
	assert_int_equal(f.pasid, 1);
	assert_int_equal(f.access, SIO_DMA_WRITE);
	assert_int_equal(sio_attach_device_pasid(dom, dev, 1, NULL), -ENODEV);
	assert_int_equal(sio_attach_device(dom, dev), -ENODEV);
	assert_int_equal(sio_device_claim_dma_owner(dev, &owner), -ENODEV);
	assert_int_equal(sio_device_attach_handle_get(dev, SIO_NO_PASID, 0, &h),
			 -ENODEV);
	assert_null(sio_device_pasid_domain(dev, SIO_NO_PASID));
	/* Queries still work (no driver data is needed for them). */
	assert_false(sio_device_capable(dev, SIO_CAP_DIRTY_TRACKING));
	assert_true(sio_device_capable(dev, SIO_CAP_CACHE_COHERENCY));
	sio_detach_device(dev);
	sio_device_release_dma_owner(dev);
	sio_detach_device_pasid(dom, dev, 1);

	assert_int_equal(sio_domain_free(dom), 0);
	sio_device_put(dev);
	assert_int_equal(sio_system_destroy(sys), 0);
}

/* References keep a removed device readable; the last reference of a
 * probed device removes it; an IOMMU cannot go while devices are probed. */
static void test_references(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_mock(sys, "refs");
	struct sio_device *dev = t_probe(iommu, "keep", 0, 0, 0);
	struct sio_device *ref = sio_device_get(dev);
	struct sio_group *group = t_group(dev);
	struct sio_group *g2 = sio_group_get(group);
	uint32_t gid = sio_group_id(group);

	assert_ptr_equal(ref, dev);
	assert_ptr_equal(sio_iommu_find(sys, "refs"), iommu);
	assert_null(sio_iommu_find(sys, "nope"));
	assert_int_equal(sio_iommu_unregister(iommu), -EBUSY);
	assert_int_equal(sio_system_destroy(sys), -EBUSY);

	sio_device_remove(dev);
	sio_device_put(dev);		/* the probe reference */
	/* Still readable through the extra reference. */
	assert_string_equal(sio_device_name(ref), "keep");
	assert_true(sio_device_is_removed(ref));
	assert_ptr_equal(sio_device_iommu(ref), iommu);
	sio_device_put(ref);

	/* The group outlives its devices while referenced, and so does
	 * its IOMMU (freeing the group uses the IOMMU's domains). */
	assert_int_equal(sio_group_id(group), gid);
	assert_int_equal(sio_group_device_count(group), 0);
	assert_int_equal(sio_iommu_unregister(iommu), -EBUSY);
	assert_int_equal(sio_system_destroy(sys), -EBUSY);
	sio_group_put(g2);
	assert_int_equal(sio_iommu_unregister(iommu), -EBUSY);
	sio_group_put(group);

	/* Dropping the last reference of a probed device removes it. */
	dev = t_probe(iommu, "drop", 0, 0, 0);
	assert_int_equal(sio_iommu_unregister(iommu), -EBUSY);
	sio_device_put(dev);
	assert_int_equal(sio_iommu_unregister(iommu), 0);
	assert_null(sio_iommu_find(sys, "refs"));
	assert_int_equal(sio_system_destroy(sys), 0);
}

static int collect_region(const struct sio_resv_region *r, void *arg)
{
	struct sio_resv_region *out = arg;

	while (out->last)
		out++;
	*out = *r;
	return 0;
}

static int stop_region(const struct sio_resv_region *r, void *arg)
{
	(*(int *)arg)++;
	return -7;
}

static void test_resv_regions(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_mock(sys, NULL);
	struct sio_device *dev = t_probe(iommu, "d", 0, 0, 0);
	struct sio_resv_region msi = { 0xfee00000, 0xfeefffff, SIO_RESV_SW_MSI,
				       SIO_PROT_WRITE };
	struct sio_resv_region rsv = { 0x1000, 0x1fff, SIO_RESV_RESERVED, 0 };
	struct sio_resv_region bad = { 0x2000, 0x1fff, SIO_RESV_RESERVED, 0 };
	struct sio_resv_region got[3];
	int calls = 0;

	memset(got, 0, sizeof(got));
	assert_int_equal(sio_device_for_each_resv_region(dev, collect_region, got), 0);
	assert_int_equal(got[0].last, 0);

	assert_int_equal(sio_device_add_resv_region(dev, &msi), 0);
	assert_int_equal(sio_device_add_resv_region(dev, &rsv), 0);
	assert_int_equal(sio_device_add_resv_region(dev, &bad), -EINVAL);
	assert_int_equal(sio_device_add_resv_region(dev, NULL), -EINVAL);

	assert_int_equal(sio_device_for_each_resv_region(dev, collect_region, got), 0);
	assert_int_equal(got[0].start, 0xfee00000);
	assert_int_equal(got[0].last, 0xfeefffff);
	assert_int_equal(got[0].type, SIO_RESV_SW_MSI);
	assert_int_equal(got[0].prot, SIO_PROT_WRITE);
	assert_int_equal(got[1].start, 0x1000);
	assert_int_equal(got[1].type, SIO_RESV_RESERVED);
	assert_int_equal(got[2].last, 0);
	/* A callback's non-zero return stops the walk and is returned. */
	assert_int_equal(sio_device_for_each_resv_region(dev, stop_region, &calls),
			 -7);
	assert_int_equal(calls, 1);

	t_unprobe(dev);
	assert_int_equal(sio_system_destroy(sys), 0);
}

static void test_hw_info(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_mock(sys, NULL);
	struct sio_iommu *tdrv = t_tdrv(sys, "t", SIO_DOMAIN_BLOCKED);
	struct sio_device *dev = t_probe(iommu, "d", 0, 0, 0);
	struct sio_device *tdev = t_tdev(tdrv, "t", 0, 0);
	struct sio_mock_hw_info *info;
	uint32_t type = 0;
	void *data = NULL;
	size_t len = 0;

	assert_int_equal(sio_device_hw_info(dev, &type, &data, &len), 0);
	assert_int_equal(type, SIO_MOCK_HW_INFO_TYPE);
	assert_int_equal(type, 0xfeedbeef);
	assert_int_equal(len, sizeof(*info));
	info = data;
	assert_int_equal(info->test_reg, 0xdeadbeef);
	assert_int_equal(info->flags, 0);
	free(data);

	/* Asking for the selftest type by name works too. */
	type = SIO_MOCK_HW_INFO_TYPE;
	data = NULL;
	assert_int_equal(sio_device_hw_info(dev, &type, &data, &len), 0);
	assert_int_equal(((struct sio_mock_hw_info *)data)->test_reg,
			 SIO_MOCK_HW_INFO_REGVAL);
	free(data);

	/* Any other type is not supported; nothing is returned. */
	type = 1;
	data = NULL;
	assert_int_equal(sio_device_hw_info(dev, &type, &data, &len), -EOPNOTSUPP);
	assert_null(data);
	/* A driver without hw_info. */
	type = 0;
	assert_int_equal(sio_device_hw_info(tdev, &type, &data, &len), -EOPNOTSUPP);
	assert_null(data);

	t_unprobe(dev);
	t_unprobe(tdev);
	assert_int_equal(sio_system_destroy(sys), 0);
}

static void test_mock_probe_flags(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_mock(sys, NULL);
	struct sio_device_desc desc = { .name = "bad", .flags = 1u << 1 };
	struct sio_device *dev = NULL, *p, *n;

	assert_int_equal(sio_device_probe(iommu, &desc, &dev), -EINVAL);
	assert_null(dev);
	assert_string_not_equal(sio_last_error(), "");
	desc.flags = 1u << 31;
	assert_int_equal(sio_device_probe(iommu, &desc, &dev), -EINVAL);
	desc.flags = 0;
	desc.pasid_bits = SIO_PASID_MAX_BITS + 1;
	assert_int_equal(sio_device_probe(iommu, &desc, &dev), -EINVAL);
	assert_int_equal(sio_device_probe(iommu, NULL, &dev), -EINVAL);
	assert_int_equal(sio_device_probe(NULL, &desc, &dev), -EINVAL);
	assert_null(dev);
	/* Refused probes left nothing behind. */
	assert_int_equal(sio_iommu_unregister(iommu), 0);

	iommu = t_mock(sys, NULL);
	p = t_probe(iommu, "p", 0, 0, SIO_MOCK_DEV_PASID);
	n = t_probe(iommu, "n", 0, 0, SIO_MOCK_DEV_NO_DIRTY);
	assert_int_equal(sio_device_max_pasids(p), 1u << SIO_MOCK_PASID_WIDTH);
	assert_int_equal(sio_device_max_pasids(n), 0);
	assert_true(sio_device_capable(p, SIO_CAP_DIRTY_TRACKING));
	assert_false(sio_device_capable(n, SIO_CAP_DIRTY_TRACKING));
	assert_false(sio_device_capable(p, SIO_CAP_NOEXEC));
	assert_int_equal(sio_device_flags(n), SIO_MOCK_DEV_NO_DIRTY);
	t_unprobe(p);
	t_unprobe(n);
	assert_int_equal(sio_system_destroy(sys), 0);
}

/* DMA ownership: claim/release errnos and the domains they move to. */
static void test_ownership(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_tdrv(sys, "t", SIO_DOMAIN_IDENTITY);
	struct sio_device *a = t_tdev(iommu, "a", 1, 4);
	struct sio_device *b = t_tdev(iommu, "b", 1, 4);
	struct sio_group *group = t_group(a);
	struct sio_domain *ident = sio_group_default_domain(group);
	struct sio_domain *blocked = NULL, *dom = t_paging(a, 0);
	int owner1, owner2;

	assert_int_equal(sio_domain_get_blocked(a, &blocked), 0);
	assert_int_equal(sio_domain_type(ident), SIO_DOMAIN_IDENTITY);
	assert_ptr_equal(sio_group_domain(group), ident);

	assert_int_equal(sio_group_claim_dma_owner(group, NULL), -EINVAL);
	assert_int_equal(sio_device_claim_dma_owner(a, NULL), -EINVAL);
	assert_false(sio_group_dma_owned(group));

	assert_int_equal(sio_group_claim_dma_owner(group, &owner1), 0);
	assert_true(sio_group_dma_owned(group));
	assert_ptr_equal(sio_group_domain(group), blocked);
	/* A group claim never counts, whoever asks. */
	assert_int_equal(sio_group_claim_dma_owner(group, &owner1), -EPERM);
	assert_int_equal(sio_group_claim_dma_owner(group, &owner2), -EPERM);
	/* A device claim counts for the same owner only. */
	assert_int_equal(sio_device_claim_dma_owner(b, &owner2), -EPERM);
	assert_int_equal(sio_device_claim_dma_owner(b, &owner1), 0);
	assert_int_equal(sio_device_claim_dma_owner(a, &owner1), 0);
	sio_device_release_dma_owner(a);
	sio_device_release_dma_owner(b);
	assert_true(sio_group_dma_owned(group));

	/* Owned: detach goes back to blocking, not to the default. */
	assert_int_equal(sio_attach_group(dom, group, NULL), 0);
	sio_detach_group(group);
	assert_ptr_equal(sio_group_domain(group), blocked);
	sio_device_release_dma_owner(a);
	assert_false(sio_group_dma_owned(group));
	assert_ptr_equal(sio_group_domain(group), ident);
	sio_device_release_dma_owner(a);	/* not owned: nothing */
	assert_ptr_equal(sio_group_domain(group), ident);

	/* Busy with a non-default RID domain... */
	assert_int_equal(sio_attach_group(dom, group, NULL), 0);
	assert_int_equal(sio_group_claim_dma_owner(group, &owner1), -EBUSY);
	assert_int_equal(sio_device_claim_dma_owner(a, &owner1), -EBUSY);
	sio_detach_group(group);
	/* ...or with any PASID attachment. */
	assert_int_equal(sio_attach_device_pasid(dom, b, 3, NULL), 0);
	assert_int_equal(sio_group_claim_dma_owner(group, &owner1), -EBUSY);
	assert_int_equal(sio_device_claim_dma_owner(a, &owner2), -EBUSY);
	assert_false(sio_group_dma_owned(group));
	sio_detach_device_pasid(dom, b, 3);

	/* Device claims counted twice, one group release drops them all. */
	assert_int_equal(sio_device_claim_dma_owner(a, &owner2), 0);
	assert_int_equal(sio_device_claim_dma_owner(b, &owner2), 0);
	sio_group_release_dma_owner(group);
	assert_false(sio_group_dma_owned(group));
	assert_ptr_equal(sio_group_domain(group), ident);
	assert_int_equal(sio_domain_attach_count(dom), 0);

	assert_int_equal(sio_domain_free(dom), 0);
	sio_group_put(group);
	t_unprobe(a);
	t_unprobe(b);
	assert_int_equal(sio_system_destroy(sys), 0);
}

/* Releasing ownership while the owner's domain is still attached puts the
 * group back on its default domain and forgets the owner's handle. */
static void test_release_while_attached(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_mock(sys, NULL);
	struct sio_device *dev = t_probe(iommu, "d", 0, 0, 0);
	struct sio_group *group = t_group(dev);
	struct sio_domain *dom = t_paging(dev, 0);
	struct sio_attach_handle *got = NULL;
	struct t_handle h = { .cookie = 3 };
	int owner;

	assert_int_equal(sio_group_claim_dma_owner(group, &owner), 0);
	assert_int_equal(sio_attach_group(dom, group, &h.handle), 0);
	assert_int_equal(sio_attach_handle_get(group, SIO_NO_PASID, 0, &got), 0);
	assert_ptr_equal(got, &h.handle);
	sio_group_release_dma_owner(group);
	assert_ptr_equal(sio_group_domain(group), sio_group_default_domain(group));
	assert_int_equal(sio_domain_attach_count(dom), 0);
	got = NULL;
	assert_int_equal(sio_attach_handle_get(group, SIO_NO_PASID, 0, &got),
			 -ENOENT);
	assert_null(got);
	assert_int_equal(sio_domain_free(dom), 0);

	sio_group_put(group);
	t_unprobe(dev);
	assert_int_equal(sio_system_destroy(sys), 0);
}

/* Probe onto a group attached to a domain puts the new device on it. */
static void test_probe_joins_attached_group(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_tdrv(sys, "t", SIO_DOMAIN_BLOCKED);
	struct sio_device *a = t_tdev(iommu, "a", 4, 0);
	struct sio_group *group = t_group(a);
	struct sio_domain *dom = t_paging(a, 0);
	char *buf = t_buf(T_PG, T_PG);
	char out[4] = { 0 };
	struct sio_device *b;

	memcpy(buf, "abc", 4);
	assert_int_equal(sio_map(dom, T_IOVA, t_pa(buf), T_PG, SIO_PROT_READ), 0);
	assert_int_equal(sio_attach_group(dom, group, NULL), 0);
	b = t_tdev(iommu, "b", 4, 0);
	assert_int_equal(sio_group_device_count(group), 2);
	assert_ptr_equal(sio_device_pasid_domain(b, SIO_NO_PASID), dom);
	assert_int_equal(sio_dma_read(b, SIO_NO_PASID, T_IOVA, out, 4, NULL), 0);
	assert_string_equal(out, "abc");
	/* One attachment for the group, however many devices. */
	assert_int_equal(sio_domain_attach_count(dom), 1);
	sio_detach_group(group);
	assert_int_equal(sio_domain_free(dom), 0);

	sio_group_put(group);
	t_unprobe(a);
	t_unprobe(b);
	free(buf);
	assert_int_equal(sio_system_destroy(sys), 0);
}

/* A default paging domain is made for the group and freed with it. */
static void test_paging_default_domain(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_tdrv(sys, "t", SIO_DOMAIN_PAGING);
	uint64_t before = t_pt_bytes();
	struct sio_device *a = t_tdev(iommu, "a", 0, 0);
	struct sio_group *group = t_group(a);
	struct sio_domain *def = sio_group_default_domain(group);

	assert_int_equal(sio_domain_type(def), SIO_DOMAIN_PAGING);
	assert_ptr_equal(sio_group_domain(group), def);
	assert_int_equal(sio_domain_attach_count(def), 1);
	assert_int_equal(sio_domain_free(def), -EBUSY);
	assert_true(t_pt_bytes() > before);
	sio_group_put(group);
	t_unprobe(a);
	assert_int_equal(t_pt_bytes(), before);
	assert_int_equal(sio_system_destroy(sys), 0);
}

/* The mock's device cache (DEV_CHECK_CACHE): defaults, bounds, other
 * drivers' devices, removal. */
static void mock_dev_cache(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_mock(sys, "mock0");
	struct sio_soft_config cfg = { .format = SIO_PT_X86_64 };
	struct sio_device *dev = t_probe(iommu, "d", 0, 0, 0);
	struct sio_iommu *soft;
	struct sio_device *other;
	uint32_t v = 0;

	(void)state;
	for (unsigned int i = 0; i < SIO_MOCK_DEV_CACHE_NUM; i++) {
		assert_int_equal(sio_mock_dev_cache(dev, i, &v), 0);
		assert_int_equal(v, SIO_MOCK_DEV_CACHE_DEFAULT);
	}
	assert_int_equal(sio_mock_dev_cache(dev, SIO_MOCK_DEV_CACHE_NUM, &v), -EINVAL);
	assert_int_equal(sio_soft_iommu_create(sys, "soft0", &cfg, &soft), 0);
	other = t_probe(soft, "o", 0, 0, 0);
	assert_int_equal(sio_mock_dev_cache(other, 0, &v), -EINVAL);
	t_unprobe(other);
	sio_device_get(dev);
	t_unprobe(dev);
	assert_int_equal(sio_mock_dev_cache(dev, 0, &v), -ENODEV);
	sio_device_put(dev);
	assert_int_equal(sio_system_destroy(sys), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mock_dev_cache),
		cmocka_unit_test(test_mock_one_group_per_device),
		cmocka_unit_test(test_alias_groups),
		cmocka_unit_test(test_first_device_rule),
		cmocka_unit_test(test_remove_while_rid_attached),
		cmocka_unit_test(test_remove_drops_last_group_ref),
		cmocka_unit_test(test_remove_while_pasid_attached),
		cmocka_unit_test(test_removed_device_calls),
		cmocka_unit_test(test_references),
		cmocka_unit_test(test_resv_regions),
		cmocka_unit_test(test_hw_info),
		cmocka_unit_test(test_mock_probe_flags),
		cmocka_unit_test(test_ownership),
		cmocka_unit_test(test_release_while_attached),
		cmocka_unit_test(test_probe_joins_attached_group),
		cmocka_unit_test(test_paging_default_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
