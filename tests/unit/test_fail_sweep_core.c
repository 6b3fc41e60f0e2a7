/*
 * The core under every fault-injection point (fail_sweep.h): paging
 * domains allocated on a soft IOMMU and on the mock, a mapping in each,
 * the RID attached and replaced by a second domain, PASIDs attached and
 * one replaced, then everything detached and freed.  Each iteration either
 * fails with an errno or completes; the undo detaches and frees what is
 * left, after which the groups are back on their default domains and no
 * page-table memory remains (no leak under ASan).
 */
#include "helpers.h"
#include "fail_sweep.h"

#define NPASID 3
#define IOVA 0x200000ull
#define SPG 4096u		/* the soft IOMMU's page */

struct core {
	struct sio_system *sys;
	struct sio_iommu *soft, *mock;
	struct sio_device *sdev, *mdev;
	struct sio_group *sgroup, *mgroup;
	struct sio_domain *sdef, *mdef;	/* the groups' default domains */
	char *buf;
	uint64_t pt_bytes;		/* table memory before the sweep */
	/* What one iteration built. */
	struct sio_domain *s1, *s2, *m1;
	struct sio_attach_handle rid, rid2, p[NPASID + 1], p1b;
};

static int core_setup(void **state)
{
	struct sio_soft_config cfg = { .format = SIO_PT_X86_64, .pasid_bits = 20 };
	struct sio_device_desc desc = { .name = "sdev", .rid = 0x10,
					.pasid_bits = 8 };
	struct core *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->pt_bytes = t_pt_bytes();
	c->sys = t_system();
	assert_int_equal(sio_soft_iommu_create(c->sys, "soft0", &cfg, &c->soft), 0);
	assert_int_equal(sio_device_probe(c->soft, &desc, &c->sdev), 0);
	c->mock = t_mock(c->sys, "mock0");
	c->mdev = t_probe(c->mock, "mdev", 0, 0, SIO_MOCK_DEV_PASID);
	c->sgroup = t_group(c->sdev);
	c->mgroup = t_group(c->mdev);
	c->sdef = sio_group_default_domain(c->sgroup);
	c->mdef = sio_group_default_domain(c->mgroup);
	c->buf = t_buf(SPG, SPG);
	*state = c;
	return 0;
}

static int core_teardown(void **state)
{
	struct core *c = *state;

	sio_group_put(c->sgroup);
	sio_group_put(c->mgroup);
	t_unprobe(c->sdev);
	t_unprobe(c->mdev);
	assert_int_equal(sio_system_destroy(c->sys), 0);
	assert_int_equal(t_pt_bytes(), c->pt_bytes);
	free(c->buf);
	free(c);
	return 0;
}

static int free_domain(struct sio_domain **d)
{
	int rc = 0;

	if (*d)
		rc = sio_domain_free(*d);
	if (!rc)
		*d = NULL;
	return rc;
}

static int core_body(void *arg)
{
	struct core *c = arg;
	const unsigned int rw = SIO_PROT_READ | SIO_PROT_WRITE;
	char s[4];
	int rc;

	rc = sio_domain_alloc_paging(c->sdev, 0, NULL, &c->s1);
	if (!rc)
		rc = sio_domain_alloc_paging(c->sdev, 0, NULL, &c->s2);
	if (!rc)
		rc = sio_domain_alloc_paging(c->mdev, 0, NULL, &c->m1);
	if (!rc)
		rc = sio_map(c->s1, IOVA, t_pa(c->buf), SPG, rw);
	if (!rc)
		rc = sio_map(c->s2, IOVA, t_pa(c->buf), SPG, rw);
	if (!rc)
		rc = sio_map(c->m1, T_IOVA, t_pa(c->buf), T_PG, rw);
	/* RID: attach, then replace without passing through blocking. */
	if (!rc)
		rc = sio_attach_group(c->s1, c->sgroup, &c->rid);
	if (!rc)
		rc = sio_replace_group(c->sgroup, c->s2, &c->rid2);
	if (!rc)
		rc = sio_attach_group(c->m1, c->mgroup, &c->rid);
	/* PASIDs: a couple on each IOMMU, one replaced. */
	for (sio_pasid_t p = 1; !rc && p <= NPASID; p++)
		rc = sio_attach_device_pasid(p & 1 ? c->s1 : c->s2, c->sdev, p,
					     &c->p[p]);
	if (!rc)
		rc = sio_replace_device_pasid(c->s2, c->sdev, 1, &c->p1b);
	if (!rc)
		rc = sio_attach_device_pasid(c->m1, c->mdev, 2, NULL);
	if (rc)
		return rc;
	/* What DMA sees through it all. */
	strcpy(c->buf, "abc");
	rc = sio_dma_read(c->sdev, 1, IOVA, s, 4, NULL);
	if (!rc)
		rc = sio_dma_read(c->mdev, SIO_NO_PASID, T_IOVA, s, 4, NULL);
	if (rc)
		return rc;
	if (strcmp(s, "abc") || sio_device_pasid_domain(c->sdev, 1) != c->s2 ||
	    sio_group_domain(c->sgroup) != c->s2)
		return -EIO;
	/* And down again: detach everything, free the domains. */
	for (sio_pasid_t p = 1; p <= NPASID; p++)
		sio_detach_device_pasid(sio_device_pasid_domain(c->sdev, p),
					c->sdev, p);
	sio_detach_device_pasid(c->m1, c->mdev, 2);
	sio_detach_group(c->sgroup);
	sio_detach_group(c->mgroup);
	rc = free_domain(&c->s1);
	if (!rc)
		rc = free_domain(&c->s2);
	if (!rc)
		rc = free_domain(&c->m1);
	return rc;
}

static void core_undo(void *arg)
{
	struct core *c = arg;
	struct sio_domain *d;

	for (sio_pasid_t p = 1; p <= NPASID; p++) {
		d = sio_device_pasid_domain(c->sdev, p);
		if (d)
			sio_detach_device_pasid(d, c->sdev, p);
		d = sio_device_pasid_domain(c->mdev, p);
		if (d)
			sio_detach_device_pasid(d, c->mdev, p);
	}
	sio_detach_group(c->sgroup);
	sio_detach_group(c->mgroup);
	assert_int_equal(free_domain(&c->s1), 0);
	assert_int_equal(free_domain(&c->s2), 0);
	assert_int_equal(free_domain(&c->m1), 0);
	/* Everything as it was before the iteration. */
	assert_ptr_equal(sio_group_domain(c->sgroup), c->sdef);
	assert_ptr_equal(sio_group_domain(c->mgroup), c->mdef);
	for (sio_pasid_t p = 1; p <= NPASID; p++) {
		assert_null(sio_device_pasid_domain(c->sdev, p));
		assert_null(sio_device_pasid_domain(c->mdev, p));
	}
	memset(c->buf, 0, SPG);
	memset(&c->rid, 0, sizeof(c->rid));
	memset(&c->rid2, 0, sizeof(c->rid2));
	memset(&c->p1b, 0, sizeof(c->p1b));
	memset(c->p, 0, sizeof(c->p));
}

static void core_sweep(void **state)
{
	struct core *c = *state;
	uint64_t pt_bytes = t_pt_bytes();

	/* Domains, tables, attach, replace and PASID bookkeeping; no
	 * page-table page may outlive the undo. */
	fail_sweep_check("core", core_body, core_undo, c, 10);
	assert_int_equal(t_pt_bytes(), pt_bytes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(core_sweep, core_setup,
						core_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
