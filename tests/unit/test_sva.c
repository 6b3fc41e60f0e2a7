/*
 * Shared Virtual Addressing on the soft driver: devices reading and writing
 * a process address space through its PASID (the core's data path), one
 * PASID per mm, bonds counted per (device, mm), SVA domains shared per
 * (mm, IOMMU), the PASID-table entry shared by a group, IOTLB
 * and device caches invalidated by munmap/mprotect before they return, a
 * device refused for its PASID width, the mm exiting while bound, and the
 * errors of bind.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "softiommu/softiommu.h"

#define PG SIO_MM_PAGE_SIZE
#define RW (SIO_PROT_READ | SIO_PROT_WRITE)

struct env {
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_mm *mm;
	uint64_t buf;			/* 4 pages, RW, populated */
};

static struct sio_iommu *soft(struct sio_system *sys, const char *name)
{
	struct sio_soft_config cfg = { .format = SIO_PT_X86_64, .pasid_bits = 20,
				       .default_domain_type = SIO_DOMAIN_BLOCKED };
	struct sio_iommu *iommu = NULL;

	assert_int_equal(sio_soft_iommu_create(sys, name, &cfg, &iommu), 0);
	return iommu;
}

static struct sio_device *dev(struct sio_iommu *iommu, const char *name,
			      uint32_t alias, uint32_t pasid_bits)
{
	struct sio_device_desc desc = { .name = name, .alias = alias,
					.pasid_bits = pasid_bits };
	struct sio_device *d = NULL;

	assert_int_equal(sio_device_probe(iommu, &desc, &d), 0);
	return d;
}

static void gone(struct sio_device *d)
{
	sio_device_remove(d);
	sio_device_put(d);
}

static struct sio_mm *mm_new(uint64_t *buf)
{
	struct sio_mm *mm = NULL;

	assert_int_equal(sio_mm_create(&mm), 0);
	if (buf)
		assert_int_equal(sio_mm_mmap(mm, 0, 4 * PG, RW, SIO_MM_MAP_POPULATE,
					     buf), 0);
	return mm;
}

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_int_equal(sio_system_create(&e->sys), 0);
	e->iommu = soft(e->sys, "soft0");
	e->mm = mm_new(&e->buf);
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;

	if (e->mm)
		sio_mm_put(e->mm);
	assert_int_equal(sio_system_destroy(e->sys), 0);
	free(e);
	return 0;
}

static struct sio_sva *bind_ok(struct sio_device *d, struct sio_mm *mm)
{
	struct sio_sva *bond = NULL;

	if (sio_sva_bind_device(d, mm, &bond))
		fail_msg("bind %s: %s", sio_device_name(d), sio_last_error());
	return bond;
}

static struct sio_soft_sva_stats sva_stats(struct sio_sva *bond)
{
	struct sio_soft_sva_stats st;

	assert_int_equal(sio_soft_sva_stats(sio_sva_domain(bond), &st), 0);
	return st;
}

/* Two devices in groups of their own, both bound to the env's mm. */
struct pair {
	struct sio_device *nic, *gpu;
	struct sio_sva *b1, *b2;
	sio_pasid_t pasid;
};

static struct pair bind_pair(struct env *e)
{
	struct pair p;

	p.nic = dev(e->iommu, "nic", 0, 20);
	p.gpu = dev(e->iommu, "gpu", 0, 20);
	p.b1 = bind_ok(p.nic, e->mm);
	p.b2 = bind_ok(p.gpu, e->mm);
	p.pasid = sio_sva_get_pasid(p.b1);
	return p;
}

static void unbind_pair(struct pair *p)
{
	sio_sva_unbind_device(p->b1);
	sio_sva_unbind_device(p->b2);
	gone(p->nic);
	gone(p->gpu);
}

static void test_two_devices_share_the_mm(void **state)
{
	struct env *e = *state;
	struct pair p = bind_pair(e);
	struct sio_device *nic = p.nic, *gpu = p.gpu;
	struct sio_sva *b1 = p.b1, *b2 = p.b2, *again;
	sio_pasid_t pasid = p.pasid;
	struct sio_dma_fault f;
	char buf[32];

	assert_int_not_equal(pasid, SIO_NO_PASID);
	assert_int_equal(sio_sva_get_pasid(b2), pasid);
	assert_int_equal(sio_sva_mm_pasid(e->mm), pasid);
	assert_ptr_not_equal(b1, b2);
	/* One SVA domain for the mm on this IOMMU, attached twice. */
	assert_ptr_equal(sio_sva_domain(b1), sio_sva_domain(b2));
	assert_int_equal(sio_sva_mm_domains(e->mm), 1);
	assert_int_equal(sio_domain_type(sio_sva_domain(b1)), SIO_DOMAIN_SVA);
	assert_int_equal(sio_domain_attach_count(sio_sva_domain(b1)), 2);
	assert_ptr_equal(sio_sva_device(b2), gpu);
	assert_ptr_equal(sio_device_pasid_domain(nic, pasid), sio_sva_domain(b1));

	/* CPU writes, devices read; a device writes, the other and the CPU
	 * read it: all the same memory. */
	assert_int_equal(sio_mm_write(e->mm, e->buf + 100, "from the cpu", 13), 0);
	assert_int_equal(sio_dma_read(nic, pasid, e->buf + 100, buf, 13, &f), 0);
	assert_string_equal(buf, "from the cpu");
	assert_int_equal(sio_dma_write(gpu, pasid, e->buf + PG - 4, "across!", 8, &f), 0);
	assert_int_equal(sio_dma_read(nic, pasid, e->buf + PG - 4, buf, 8, &f), 0);
	assert_string_equal(buf, "across!");
	assert_int_equal(sio_mm_read(e->mm, e->buf + PG - 4, buf, 8), 0);
	assert_string_equal(buf, "across!");
	/* Not through the RID, nor another PASID. */
	assert_int_equal(sio_dma_read(nic, SIO_NO_PASID, e->buf, buf, 1, &f), -EPERM);
	assert_int_equal(sio_dma_read(nic, pasid + 1, e->buf, buf, 1, &f), -ENOENT);
	assert_int_equal(f.reason, SIO_FAULT_NO_PASID);

	/* Binding again: the same bond, counted. */
	again = bind_ok(nic, e->mm);
	assert_ptr_equal(again, b1);
	assert_int_equal(sio_sva_users(b1), 2);
	sio_sva_unbind_device(again);
	assert_int_equal(sio_sva_users(b1), 1);
	assert_int_equal(sio_dma_read(nic, pasid, e->buf + 100, buf, 4, &f), 0);

	sio_sva_unbind_device(b1);
	assert_int_equal(sio_dma_read(nic, pasid, e->buf + 100, buf, 4, &f), -ENOENT);
	assert_int_equal(f.reason, SIO_FAULT_NO_PASID);
	assert_int_equal(sio_dma_read(gpu, pasid, e->buf + 100, buf, 4, &f), 0);
	assert_int_equal(sio_sva_mm_domains(e->mm), 1);
	sio_sva_unbind_device(b2);
	assert_int_equal(sio_dma_read(gpu, pasid, e->buf, buf, 4, &f), -ENOENT);
	assert_int_equal(sio_sva_mm_domains(e->mm), 0);
	/* The PASID stays with the mm. */
	assert_int_equal(sio_sva_mm_pasid(e->mm), pasid);
	b1 = bind_ok(gpu, e->mm);
	assert_int_equal(sio_sva_get_pasid(b1), pasid);
	sio_sva_unbind_device(b1);
	gone(nic);
	gone(gpu);
}

static void test_munmap_invalidates_every_device(void **state)
{
	struct env *e = *state;
	struct pair p = bind_pair(e);
	struct sio_device *nic = p.nic, *gpu = p.gpu;
	struct sio_sva *b1 = p.b1, *b2 = p.b2;
	sio_pasid_t pasid = p.pasid;
	struct sio_domain *d = sio_sva_domain(b1);
	struct sio_soft_sva_stats st;
	uint64_t n, start, end;
	struct sio_dma_fault f;
	char buf[8];

	/* The second read of a page hits the IOTLB. */
	assert_int_equal(sio_dma_read(nic, pasid, e->buf + PG, buf, 4, &f), 0);
	assert_int_equal(sio_dma_read(gpu, pasid, e->buf + PG, buf, 4, &f), 0);
	st = sva_stats(b1);
	assert_int_equal(st.iotlb_misses, 1);
	assert_int_equal(st.iotlb_hits, 1);
	assert_int_equal(sio_soft_sva_atc(d, nic, &n, &start, &end), 0);
	assert_int_equal(n, 0);

	assert_int_equal(sio_mm_munmap(e->mm, e->buf + PG, PG), 0);
	/* Before munmap returned: the IOTLB and both device caches. */
	st = sva_stats(b1);
	assert_int_equal(st.iotlb_invalidations, 1);
	assert_int_equal(st.atc_invalidations, 2);
	assert_int_equal(sio_soft_sva_atc(d, nic, &n, &start, &end), 0);
	assert_int_equal(n, 1);
	assert_int_equal(start, e->buf + PG);
	assert_int_equal(end, e->buf + 2 * PG);
	assert_int_equal(sio_soft_sva_atc(d, gpu, &n, &start, &end), 0);
	assert_int_equal(n, 1);
	/* Neither device reaches the page now, the IOTLB entry is dead. */
	assert_int_equal(sio_dma_read(nic, pasid, e->buf + PG, buf, 4, &f), -EFAULT);
	assert_int_equal(f.reason, SIO_FAULT_NOT_MAPPED);
	assert_int_equal(f.pasid, pasid);
	assert_int_equal(sio_dma_write(gpu, pasid, e->buf + PG, "x", 1, &f), -EFAULT);
	assert_int_equal(sio_dma_read(gpu, pasid, e->buf, buf, 4, &f), 0);

	/* mprotect read-only: reads still work, writes do not. */
	assert_int_equal(sio_mm_mprotect(e->mm, e->buf, PG, SIO_PROT_READ), 0);
	assert_int_equal(sva_stats(b1).iotlb_invalidations, 2);
	assert_int_equal(sio_dma_write(nic, pasid, e->buf, "x", 1, &f), -EACCES);
	assert_int_equal(f.reason, SIO_FAULT_PERMISSION);
	assert_int_equal(sio_dma_read(nic, pasid, e->buf, buf, 4, &f), 0);

	sio_sva_unbind_device(b1);
	/* Unbound devices are not flushed any more. */
	assert_int_equal(sio_mm_munmap(e->mm, e->buf + 2 * PG, PG), 0);
	assert_int_equal(sio_soft_sva_atc(d, nic, &n, &start, &end), -ENOENT);
	assert_int_equal(sio_soft_sva_atc(d, gpu, &n, &start, &end), 0);
	assert_int_equal(n, 3);
	sio_sva_unbind_device(b2);
	gone(nic);
	gone(gpu);
}

static void test_not_present_faults(void **state)
{
	struct env *e = *state;
	struct sio_device *nic = dev(e->iommu, "nic", 0, 20);
	struct sio_mm *mm = mm_new(NULL);
	struct sio_sva *bond = bind_ok(nic, mm);
	sio_pasid_t pasid = sio_sva_get_pasid(bond);
	struct sio_dma_fault f;
	char buf[4];
	uint64_t a;

	assert_int_equal(sio_mm_mmap(mm, 0, PG, RW, 0, &a), 0);
	/* Mapped but never touched: where a page request would go. */
	assert_int_equal(sio_dma_read(nic, pasid, a, buf, 4, &f), -EFAULT);
	assert_int_equal(f.reason, SIO_FAULT_NOT_MAPPED);
	assert_int_equal(sio_mm_fault(mm, a, SIO_PROT_WRITE), 0);
	assert_int_equal(sio_dma_write(nic, pasid, a, "ok", 3, &f), 0);
	assert_int_equal(sio_mm_read(mm, a, buf, 3), 0);
	assert_string_equal(buf, "ok");
	/* A different mm has a different PASID. */
	assert_int_not_equal(sio_sva_mm_pasid(e->mm), pasid);
	sio_sva_unbind_device(bond);
	sio_mm_put(mm);
	gone(nic);
}

/* Follows the PASID events of one mm by its token. */
struct mm_watch {
	struct sio_pasid_notifier nb;
	char log[128];
};

static void mm_watch_notify(struct sio_pasid_notifier *nb,
			    const struct sio_pasid_event *ev)
{
	struct mm_watch *w = sio_container_of(nb, struct mm_watch, nb);

	strcat(w->log, (const char *[]){ "", "alloc ", "free ", "bind ",
					  "unbind " }[ev->type]);
}

static void test_one_pasid_per_mm(void **state)
{
	struct env *e = *state;
	struct sio_iommu *other = soft(e->sys, "soft1");
	struct sio_device *a = dev(e->iommu, "a", 0, 20);
	struct sio_device *b = dev(other, "b", 0, 20);
	struct sio_pasid_space *space = sio_system_pasid_space(e->sys);
	struct sio_mm *mm = mm_new(NULL);
	struct mm_watch w = { .nb.notify = mm_watch_notify, .nb.token = mm };
	struct sio_pasid_info info;
	struct sio_sva *ba, *bb;
	sio_pasid_t pasid;

	assert_int_equal(sio_pasid_notifier_register(space, &w.nb), 0);
	assert_int_equal(sio_sva_mm_pasid(mm), SIO_PASID_INVALID);
	ba = bind_ok(a, mm);
	bb = bind_ok(b, mm);
	pasid = sio_sva_get_pasid(ba);
	/* Same PASID across IOMMUs, one domain per IOMMU. */
	assert_int_equal(sio_sva_get_pasid(bb), pasid);
	assert_ptr_not_equal(sio_sva_domain(ba), sio_sva_domain(bb));
	assert_int_equal(sio_sva_mm_domains(mm), 2);
	assert_int_equal(sio_pasid_find(space, NULL, pasid, &info), 0);
	assert_ptr_equal(info.token, mm);
	assert_int_equal(info.binds, 2);
	sio_sva_unbind_device(ba);
	sio_sva_unbind_device(bb);
	assert_string_equal(w.log, "alloc bind bind unbind unbind ");
	/* The PASID goes with the mm structure. */
	sio_mm_put(mm);
	assert_string_equal(w.log, "alloc bind bind unbind unbind free ");
	assert_int_equal(sio_pasid_find(space, NULL, pasid, &info), -ENOENT);
	sio_pasid_notifier_unregister(&w.nb);
	gone(a);
	gone(b);
}

static void test_pasid_width(void **state)
{
	struct env *e = *state;
	struct sio_pasid_space *space = sio_system_pasid_space(e->sys);
	struct sio_device *wide = dev(e->iommu, "wide", 0, 20);
	struct sio_device *narrow = dev(e->iommu, "narrow", 0, 8);
	struct sio_device *none = dev(e->iommu, "none", 0, 0);
	struct sio_mm *fresh = mm_new(NULL);
	struct sio_sva *bond, *out = NULL;

	assert_int_equal(sio_pasid_reserve(space, 1, 300), 0);
	bond = bind_ok(wide, e->mm);
	assert_int_equal(sio_sva_get_pasid(bond), 301);
	/* 256 PASIDs cannot hold PASID 301. */
	assert_int_equal(sio_sva_bind_device(narrow, e->mm, &out), -EOVERFLOW);
	assert_int_equal(sio_sva_bind_device(none, e->mm, &out), -EOVERFLOW);
	/* A fresh mm gets nothing the narrow device can use, nor "none". */
	assert_int_equal(sio_sva_bind_device(narrow, fresh, &out), -ENOSPC);
	assert_int_equal(sio_sva_bind_device(none, fresh, &out), -ENOSPC);
	assert_null(out);
	assert_int_equal(sio_sva_mm_pasid(fresh), SIO_PASID_INVALID);
	sio_sva_unbind_device(bond);
	sio_mm_put(fresh);
	gone(wide);
	gone(narrow);
	gone(none);
}

static void test_group_shares_the_pasid_entry(void **state)
{
	struct env *e = *state;
	struct sio_device *fn0 = dev(e->iommu, "fn0", 7, 20);
	struct sio_device *fn1 = dev(e->iommu, "fn1", 7, 20);
	struct sio_soft_sva_stats st;
	struct sio_dma_fault f;
	struct sio_sva *b0, *b1;
	char buf[4];

	b0 = bind_ok(fn0, e->mm);
	/* The group's PASID table got one entry: written for fn0, only
	 * flushed for fn1 (the io_mm proposal's attach_domain = false). */
	st = sva_stats(b0);
	assert_int_equal(st.entry_writes, 1);
	assert_int_equal(st.entry_shared, 1);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.devices, 2);
	/* As in the kernel, the bond is the group's. */
	b1 = bind_ok(fn1, e->mm);
	assert_ptr_equal(b1, b0);
	assert_int_equal(sio_sva_users(b0), 2);
	assert_int_equal(sio_dma_read(fn1, sio_sva_get_pasid(b0), e->buf, buf, 4, &f), 0);
	sio_sva_unbind_device(b1);
	sio_sva_unbind_device(b0);
	gone(fn0);
	gone(fn1);

	/* Two groups: an entry each, invalidation reaches both. */
	fn0 = dev(e->iommu, "fn0", 0, 20);
	fn1 = dev(e->iommu, "fn1", 0, 20);
	b0 = bind_ok(fn0, e->mm);
	b1 = bind_ok(fn1, e->mm);
	st = sva_stats(b0);
	assert_int_equal(st.entry_writes, 2);
	assert_int_equal(st.entry_shared, 0);
	sio_sva_unbind_device(b0);
	st = sva_stats(b1);
	assert_int_equal(st.entry_clears, 1);
	assert_int_equal(st.entries, 1);
	sio_sva_unbind_device(b1);
	gone(fn0);
	gone(fn1);
}

static void test_mm_exit_while_bound(void **state)
{
	struct env *e = *state;
	struct pair p = bind_pair(e);
	struct sio_sva *out = NULL;
	struct sio_dma_fault f;
	char buf[4];

	assert_int_equal(sio_dma_write(p.nic, p.pasid, e->buf, "live", 4, &f), 0);
	assert_int_equal(sio_dma_read(p.gpu, p.pasid, e->buf, buf, 4, &f), 0);
	sio_mm_put(e->mm);			/* the process exits */
	assert_true(sva_stats(p.b1).mm_exited);
	assert_int_equal(sio_dma_read(p.nic, p.pasid, e->buf, buf, 4, &f), -EFAULT);
	assert_int_equal(sio_dma_write(p.gpu, p.pasid, e->buf, "dead", 4, &f), -EFAULT);
	assert_int_equal(f.reason, SIO_FAULT_NOT_MAPPED);
	assert_int_equal(sio_sva_bind_device(p.nic, e->mm, &out), -ESRCH);
	/* Unbinding afterwards works and frees everything (ASan). */
	e->mm = NULL;
	unbind_pair(&p);
}

static void test_bind_errors(void **state)
{
	struct env *e = *state;
	struct sio_iommu *mock = NULL;
	struct sio_device *m, *d = dev(e->iommu, "d", 0, 20);
	struct sio_device_desc desc = { .name = "m", .flags = SIO_MOCK_DEV_PASID };
	struct sio_attach_handle h = { 0 };
	struct sio_sva *out = NULL, *bond;
	struct sio_domain *paging;
	sio_pasid_t pasid;

	assert_int_equal(sio_sva_bind_device(NULL, e->mm, &out), -EINVAL);
	assert_int_equal(sio_sva_bind_device(d, NULL, &out), -EINVAL);
	/* An IOMMU without SVA. */
	assert_int_equal(sio_mock_iommu_create(e->sys, "mock", &mock), 0);
	assert_int_equal(sio_device_probe(mock, &desc, &m), 0);
	assert_int_equal(sio_sva_bind_device(m, e->mm, &out), -EOPNOTSUPP);
	assert_null(out);
	/* The mm's PASID taken by a paging domain on the device's group. */
	bond = bind_ok(d, e->mm);
	pasid = sio_sva_get_pasid(bond);
	sio_sva_unbind_device(bond);
	assert_int_equal(sio_domain_alloc_paging(d, SIO_DOMAIN_ALLOC_PASID, NULL,
						 &paging), 0);
	assert_int_equal(sio_attach_device_pasid(paging, d, pasid, &h), 0);
	assert_int_equal(sio_sva_bind_device(d, e->mm, &out), -EBUSY);
	sio_detach_device_pasid(paging, d, pasid);
	assert_int_equal(sio_domain_free(paging), 0);
	/* Removed device. */
	sio_device_remove(d);
	assert_int_equal(sio_sva_bind_device(d, e->mm, &out), -ENODEV);
	sio_device_put(d);
	gone(m);
}

static void test_remove_device_while_bound(void **state)
{
	struct env *e = *state;
	struct sio_device *d = dev(e->iommu, "d", 0, 20);
	struct sio_sva *bond = bind_ok(d, e->mm);
	struct sio_dma_fault f;
	char buf[4];

	sio_device_remove(d);
	assert_int_equal(sio_dma_read(d, sio_sva_get_pasid(bond), e->buf, buf, 4, &f),
			 -ENODEV);
	sio_sva_unbind_device(bond);
	assert_int_equal(sio_sva_mm_domains(e->mm), 0);
	sio_device_put(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, env_setup, env_teardown)
		T(test_two_devices_share_the_mm),
		T(test_munmap_invalidates_every_device),
		T(test_not_present_faults),
		T(test_one_pasid_per_mm),
		T(test_pasid_width),
		T(test_group_shares_the_pasid_entry),
		T(test_mm_exit_while_bound),
		T(test_bind_errors),
		T(test_remove_device_while_bound),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
