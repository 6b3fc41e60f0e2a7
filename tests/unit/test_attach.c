/*
 * Attach, detach and replace on a group's RID and on PASIDs; attach
 * handles; what a failed replace leaves behind.
 */
#include "helpers.h"

#define HANDLE_MAGIC 0x5a5a1234u

struct fix {
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_device *dev;		/* PASID-capable */
	struct sio_device *nodirty;	/* no PASID, no dirty tracking */
	struct sio_group *group;	/* dev's */
	struct sio_domain *d1, *d2;	/* paging, for dev */
	char *buf1, *buf2;		/* what d1 / d2 map at T_IOVA */
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	f->sys = t_system();
	f->iommu = t_mock(f->sys, NULL);
	f->dev = t_probe(f->iommu, "dev", 0, 0, SIO_MOCK_DEV_PASID);
	f->nodirty = t_probe(f->iommu, "nodirty", 0, 0, SIO_MOCK_DEV_NO_DIRTY);
	f->group = t_group(f->dev);
	f->d1 = t_paging(f->dev, 0);
	f->d2 = t_paging(f->dev, 0);
	f->buf1 = t_buf(T_PG, T_PG);
	f->buf2 = t_buf(T_PG, T_PG);
	strcpy(f->buf1, "one");
	strcpy(f->buf2, "two");
	assert_int_equal(sio_map(f->d1, T_IOVA, t_pa(f->buf1), T_PG,
				 SIO_PROT_READ | SIO_PROT_WRITE), 0);
	assert_int_equal(sio_map(f->d2, T_IOVA, t_pa(f->buf2), T_PG,
				 SIO_PROT_READ | SIO_PROT_WRITE), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	/* Tests leave nothing attached. */
	assert_int_equal(sio_domain_free(f->d1), 0);
	assert_int_equal(sio_domain_free(f->d2), 0);
	sio_group_put(f->group);
	t_unprobe(f->dev);
	t_unprobe(f->nodirty);
	assert_int_equal(sio_system_destroy(f->sys), 0);
	free(f->buf1);
	free(f->buf2);
	free(f);
	return 0;
}

/* Read the 4-byte string DMA at (dev, pasid) sees at T_IOVA. */
static int dma_str(struct sio_device *dev, sio_pasid_t pasid, char out[4])
{
	memset(out, 0, 4);
	return sio_dma_read(dev, pasid, T_IOVA, out, 4, NULL);
}

static void test_attach_detach_rid(void **state)
{
	struct fix *f = *state;
	struct t_handle h = { .magic = HANDLE_MAGIC, .cookie = 11 };
	struct sio_attach_handle *got = NULL;
	struct sio_domain *def = sio_group_default_domain(f->group);
	char s[4];

	assert_int_equal(dma_str(f->dev, SIO_NO_PASID, s), -EPERM);
	assert_int_equal(sio_attach_group(f->d1, f->group, &h.handle), 0);
	assert_ptr_equal(sio_group_domain(f->group), f->d1);
	assert_ptr_equal(sio_device_pasid_domain(f->dev, SIO_NO_PASID), f->d1);
	assert_ptr_equal(h.handle.domain, f->d1);
	assert_int_equal(sio_domain_attach_count(f->d1), 1);
	assert_int_equal(dma_str(f->dev, SIO_NO_PASID, s), 0);
	assert_string_equal(s, "one");

	/* The handle leads back to the caller's data. */
	assert_int_equal(sio_attach_handle_get(f->group, SIO_NO_PASID, 0, &got), 0);
	assert_ptr_equal(got, &h.handle);
	assert_int_equal(sio_container_of(got, struct t_handle, handle)->cookie, 11);
	assert_int_equal(sio_container_of(got, struct t_handle, handle)->magic,
			 HANDLE_MAGIC);
	got = NULL;
	assert_int_equal(sio_device_attach_handle_get(f->dev, SIO_NO_PASID,
						      SIO_DOMAIN_PAGING, &got), 0);
	assert_ptr_equal(got, &h.handle);

	sio_detach_group(f->group);
	assert_ptr_equal(sio_group_domain(f->group), def);
	assert_int_equal(sio_domain_attach_count(f->d1), 0);
	assert_int_equal(sio_attach_handle_get(f->group, SIO_NO_PASID, 0, &got),
			 -ENOENT);
	assert_int_equal(dma_str(f->dev, SIO_NO_PASID, s), -EPERM);
	/* Detaching a detached group changes nothing. */
	sio_detach_group(f->group);
	assert_ptr_equal(sio_group_domain(f->group), def);

	/* Attached without a handle: the domain is there, no handle. */
	assert_int_equal(sio_attach_group(f->d2, f->group, NULL), 0);
	assert_int_equal(sio_attach_handle_get(f->group, SIO_NO_PASID, 0, &got),
			 -ENOENT);
	assert_int_equal(dma_str(f->dev, SIO_NO_PASID, s), 0);
	assert_string_equal(s, "two");
	sio_detach_group(f->group);
}

static void test_attach_errors(void **state)
{
	struct fix *f = *state;
	struct sio_system *sys2 = t_system();
	struct sio_iommu *other = t_mock(sys2, "other");
	struct sio_device *odev = t_probe(other, "o", 0, 0, SIO_MOCK_DEV_PASID);
	struct sio_domain *foreign = t_paging(odev, 0);
	struct sio_iommu *other2 = t_mock(f->sys, "mock2");
	struct sio_device *o2 = t_probe(other2, "o2", 0, 0, 0);
	struct sio_domain *foreign2 = t_paging(o2, 0);
	struct sio_domain *blocked = NULL;

	assert_int_equal(sio_attach_group(NULL, f->group, NULL), -EINVAL);
	assert_int_equal(sio_attach_group(f->d1, NULL, NULL), -EINVAL);
	/* Domains of another IOMMU, in this system or another. */
	assert_int_equal(sio_attach_group(foreign, f->group, NULL), -EINVAL);
	assert_int_equal(sio_attach_group(foreign2, f->group, NULL), -EINVAL);
	assert_int_equal(sio_replace_group(f->group, foreign2, NULL), -EINVAL);
	assert_int_equal(sio_attach_device_pasid(foreign2, f->dev, 1, NULL), -EINVAL);
	assert_int_equal(sio_attach_device(foreign2, f->dev), -EINVAL);
	assert_ptr_equal(sio_group_domain(f->group), sio_group_default_domain(f->group));

	/* Attach while another (or the same) domain is attached. */
	assert_int_equal(sio_attach_group(f->d1, f->group, NULL), 0);
	assert_int_equal(sio_attach_group(f->d2, f->group, NULL), -EBUSY);
	assert_int_equal(sio_attach_group(f->d1, f->group, NULL), -EBUSY);
	assert_int_equal(sio_attach_device(f->d2, f->dev), -EBUSY);
	assert_ptr_equal(sio_group_domain(f->group), f->d1);
	assert_int_equal(sio_domain_attach_count(f->d1), 1);
	assert_int_equal(sio_domain_attach_count(f->d2), 0);
	sio_detach_group(f->group);

	/* The blocked domain is a core domain: attach over it works. */
	assert_int_equal(sio_domain_get_blocked(f->dev, &blocked), 0);
	assert_int_equal(sio_attach_group(blocked, f->group, NULL), 0);
	assert_int_equal(sio_attach_group(f->d1, f->group, NULL), 0);
	sio_detach_group(f->group);

	assert_int_equal(sio_domain_free(foreign), 0);
	assert_int_equal(sio_domain_free(foreign2), 0);
	t_unprobe(odev);
	t_unprobe(o2);
	assert_int_equal(sio_system_destroy(sys2), 0);
}

static void test_replace_rid(void **state)
{
	struct fix *f = *state;
	struct t_handle h1 = { .cookie = 1 }, h2 = { .cookie = 2 };
	struct t_handle h3 = { .cookie = 3 };
	struct sio_attach_handle *got = NULL;
	char s[4];

	/* Replace on a group at its default acts as an attach. */
	assert_int_equal(sio_replace_group(f->group, f->d1, &h1.handle), 0);
	assert_ptr_equal(sio_group_domain(f->group), f->d1);
	assert_int_equal(sio_replace_group(f->group, f->d2, &h2.handle), 0);
	assert_ptr_equal(sio_group_domain(f->group), f->d2);
	assert_ptr_equal(h2.handle.domain, f->d2);
	assert_int_equal(sio_domain_attach_count(f->d1), 0);
	assert_int_equal(sio_domain_attach_count(f->d2), 1);
	assert_int_equal(sio_attach_handle_get(f->group, SIO_NO_PASID, 0, &got), 0);
	assert_ptr_equal(sio_container_of(got, struct t_handle, handle), &h2);
	assert_int_equal(dma_str(f->dev, SIO_NO_PASID, s), 0);
	assert_string_equal(s, "two");

	/* Reusing the attached handle. */
	assert_int_equal(sio_replace_group(f->group, f->d1, &h2.handle), -EINVAL);
	assert_ptr_equal(sio_group_domain(f->group), f->d2);
	assert_int_equal(sio_domain_attach_count(f->d1), 0);
	/* The same domain with a new handle: only the handle changes. */
	assert_int_equal(sio_replace_group(f->group, f->d2, &h3.handle), 0);
	assert_int_equal(sio_domain_attach_count(f->d2), 1);
	assert_int_equal(sio_attach_handle_get(f->group, SIO_NO_PASID, 0, &got), 0);
	assert_ptr_equal(got, &h3.handle);
	/* Without a handle: no handle afterwards. */
	assert_int_equal(sio_replace_group(f->group, f->d1, NULL), 0);
	assert_int_equal(sio_attach_handle_get(f->group, SIO_NO_PASID, 0, &got),
			 -ENOENT);
	assert_int_equal(dma_str(f->dev, SIO_NO_PASID, s), 0);
	assert_string_equal(s, "one");
	assert_int_equal(sio_replace_group(f->group, NULL, &h1.handle), -EINVAL);
	assert_int_equal(sio_replace_group(NULL, f->d1, &h1.handle), -EINVAL);
	sio_detach_group(f->group);
	assert_int_equal(sio_domain_attach_count(f->d1), 0);
}

/* A RID replace the driver refuses keeps the old domain and handle. */
static void test_replace_rid_failure(void **state)
{
	struct fix *f = *state;
	struct sio_group *g = t_group(f->nodirty);
	struct sio_domain *dirty = t_paging(f->dev, SIO_DOMAIN_ALLOC_DIRTY_TRACKING);
	struct sio_domain *plain = t_paging(f->nodirty, 0);
	struct t_handle h1 = { .cookie = 1 }, h2 = { .cookie = 2 };
	struct sio_attach_handle *got = NULL;
	char *buf = t_buf(T_PG, T_PG);
	char s[4];

	strcpy(buf, "ok!");
	assert_int_equal(sio_map(plain, T_IOVA, t_pa(buf), T_PG, SIO_PROT_READ), 0);
	/* Plain attach of a dirty-tracking domain: refused. */
	assert_int_equal(sio_attach_group(dirty, g, &h2.handle), -EINVAL);
	assert_ptr_equal(sio_group_domain(g), sio_group_default_domain(g));
	assert_int_equal(sio_domain_attach_count(dirty), 0);
	assert_int_equal(sio_attach_handle_get(g, SIO_NO_PASID, 0, &got), -ENOENT);

	assert_int_equal(sio_attach_group(plain, g, &h1.handle), 0);
	assert_int_equal(sio_replace_group(g, dirty, &h2.handle), -EINVAL);
	assert_ptr_equal(sio_group_domain(g), plain);
	assert_int_equal(sio_domain_attach_count(plain), 1);
	assert_int_equal(sio_domain_attach_count(dirty), 0);
	assert_int_equal(sio_attach_handle_get(g, SIO_NO_PASID, 0, &got), 0);
	assert_ptr_equal(got, &h1.handle);
	assert_ptr_equal(h1.handle.domain, plain);
	assert_int_equal(dma_str(f->nodirty, SIO_NO_PASID, s), 0);
	assert_string_equal(s, "ok!");
	/* The dirty domain is attachable where dirty tracking exists. */
	assert_int_equal(sio_attach_group(dirty, f->group, NULL), 0);
	sio_detach_group(f->group);

	sio_detach_group(g);
	assert_int_equal(sio_domain_free(dirty), 0);
	assert_int_equal(sio_domain_free(plain), 0);
	sio_group_put(g);
	free(buf);
}

static void test_pasid_attach_detach(void **state)
{
	struct fix *f = *state;
	struct t_handle h = { .cookie = 42 };
	struct sio_attach_handle *got = NULL;
	char s[4];

	assert_int_equal(dma_str(f->dev, 5, s), -ENOENT);
	assert_int_equal(sio_attach_device_pasid(f->d1, f->dev, 5, &h.handle), 0);
	assert_ptr_equal(h.handle.domain, f->d1);
	assert_ptr_equal(sio_device_pasid_domain(f->dev, 5), f->d1);
	assert_null(sio_device_pasid_domain(f->dev, 6));
	assert_int_equal(sio_domain_attach_count(f->d1), 1);
	assert_int_equal(sio_attach_handle_get(f->group, 5, 0, &got), 0);
	assert_int_equal(sio_container_of(got, struct t_handle, handle)->cookie, 42);
	assert_int_equal(sio_device_attach_handle_get(f->dev, 5, SIO_DOMAIN_PAGING,
						      &got), 0);
	assert_ptr_equal(got, &h.handle);
	assert_int_equal(dma_str(f->dev, 5, s), 0);
	assert_string_equal(s, "one");
	/* The RID is untouched. */
	assert_ptr_equal(sio_group_domain(f->group), sio_group_default_domain(f->group));

	/* Detach with the wrong domain does nothing. */
	sio_detach_device_pasid(f->d2, f->dev, 5);
	assert_ptr_equal(sio_device_pasid_domain(f->dev, 5), f->d1);
	sio_detach_device_pasid(f->d1, f->dev, 6);
	assert_int_equal(sio_domain_attach_count(f->d1), 1);

	sio_detach_device_pasid(f->d1, f->dev, 5);
	assert_null(sio_device_pasid_domain(f->dev, 5));
	assert_int_equal(sio_domain_attach_count(f->d1), 0);
	assert_int_equal(sio_attach_handle_get(f->group, 5, 0, &got), -ENOENT);
	assert_int_equal(dma_str(f->dev, 5, s), -ENOENT);

	/* Without a handle; highest PASID; one domain at several PASIDs. */
	const sio_pasid_t top = (1u << SIO_MOCK_PASID_WIDTH) - 1;

	assert_int_equal(sio_attach_device_pasid(f->d2, f->dev, top, NULL), 0);
	assert_int_equal(sio_attach_device_pasid(f->d2, f->dev, 1, NULL), 0);
	assert_int_equal(sio_domain_attach_count(f->d2), 2);
	assert_int_equal(sio_attach_handle_get(f->group, top, 0, &got), -ENOENT);
	assert_int_equal(dma_str(f->dev, top, s), 0);
	assert_string_equal(s, "two");
	sio_detach_device_pasid(f->d2, f->dev, top);
	sio_detach_device_pasid(f->d2, f->dev, 1);
	assert_int_equal(sio_domain_attach_count(f->d2), 0);
}

static void test_pasid_errors(void **state)
{
	struct fix *f = *state;
	struct sio_system *sys = t_system();
	struct sio_iommu *tdrv = t_tdrv(sys, "t", SIO_DOMAIN_BLOCKED);
	struct sio_device *narrow = t_tdev(tdrv, "narrow", 0, 4);
	struct sio_domain *td = t_paging(narrow, 0);
	struct t_handle h1, h2;

	assert_int_equal(sio_attach_device_pasid(f->d1, f->dev, SIO_NO_PASID, NULL),
			 -EINVAL);
	assert_int_equal(sio_attach_device_pasid(f->d1, f->dev,
						 1u << SIO_MOCK_PASID_WIDTH, NULL),
			 -EINVAL);
	assert_int_equal(sio_attach_device_pasid(f->d1, f->dev, SIO_PASID_INVALID,
						 NULL), -EINVAL);
	assert_int_equal(sio_attach_device_pasid(NULL, f->dev, 1, NULL), -EINVAL);
	assert_int_equal(sio_attach_device_pasid(f->d1, NULL, 1, NULL), -EINVAL);
	/* A device without PASID support. */
	assert_int_equal(sio_attach_device_pasid(f->d1, f->nodirty, 1, NULL),
			 -EINVAL);
	/* Beyond this device's 16 PASIDs. */
	assert_int_equal(sio_device_max_pasids(narrow), 16);
	assert_int_equal(sio_attach_device_pasid(td, narrow, 16, NULL), -EINVAL);
	assert_int_equal(sio_attach_device_pasid(td, narrow, 15, NULL), 0);
	sio_detach_device_pasid(td, narrow, 15);

	/* Attached twice. */
	assert_int_equal(sio_attach_device_pasid(f->d1, f->dev, 9, &h1.handle), 0);
	assert_int_equal(sio_attach_device_pasid(f->d2, f->dev, 9, &h2.handle),
			 -EBUSY);
	assert_int_equal(sio_attach_device_pasid(f->d1, f->dev, 9, &h2.handle),
			 -EBUSY);
	assert_ptr_equal(sio_device_pasid_domain(f->dev, 9), f->d1);
	assert_int_equal(sio_domain_attach_count(f->d1), 1);
	assert_int_equal(sio_domain_attach_count(f->d2), 0);
	/* Replace reusing the current handle, or with none. */
	assert_int_equal(sio_replace_device_pasid(f->d2, f->dev, 9, &h1.handle),
			 -EINVAL);
	assert_int_equal(sio_replace_device_pasid(f->d2, f->dev, 9, NULL), -EINVAL);
	assert_ptr_equal(sio_device_pasid_domain(f->dev, 9), f->d1);
	/* Replace of nothing. */
	assert_int_equal(sio_replace_device_pasid(f->d2, f->dev, 10, &h2.handle),
			 -EINVAL);
	assert_null(sio_device_pasid_domain(f->dev, 10));
	assert_int_equal(sio_replace_device_pasid(f->d2, f->dev, SIO_NO_PASID,
						  &h2.handle), -EINVAL);
	/* A domain of another IOMMU. */
	assert_int_equal(sio_replace_device_pasid(td, f->dev, 9, &h2.handle), -EINVAL);
	assert_int_equal(sio_attach_device_pasid(td, f->dev, 11, NULL), -EINVAL);
	assert_int_equal(sio_domain_attach_count(f->d2), 0);
	assert_int_equal(sio_domain_attach_count(td), 0);
	sio_detach_device_pasid(f->d1, f->dev, 9);

	assert_int_equal(sio_domain_free(td), 0);
	t_unprobe(narrow);
	assert_int_equal(sio_system_destroy(sys), 0);
}

static void test_pasid_replace(void **state)
{
	struct fix *f = *state;
	struct t_handle h1 = { .cookie = 1 }, h2 = { .cookie = 2 };
	struct t_handle h3 = { .cookie = 3 };
	struct sio_attach_handle *got = NULL;
	char s[4];

	assert_int_equal(sio_attach_device_pasid(f->d1, f->dev, 77, &h1.handle), 0);
	assert_int_equal(sio_replace_device_pasid(f->d2, f->dev, 77, &h2.handle), 0);
	assert_ptr_equal(sio_device_pasid_domain(f->dev, 77), f->d2);
	assert_ptr_equal(h2.handle.domain, f->d2);
	assert_int_equal(sio_domain_attach_count(f->d1), 0);
	assert_int_equal(sio_domain_attach_count(f->d2), 1);
	assert_int_equal(sio_attach_handle_get(f->group, 77, 0, &got), 0);
	assert_ptr_equal(got, &h2.handle);
	assert_int_equal(dma_str(f->dev, 77, s), 0);
	assert_string_equal(s, "two");
	/* Same domain, new handle. */
	assert_int_equal(sio_replace_device_pasid(f->d2, f->dev, 77, &h3.handle), 0);
	assert_int_equal(sio_domain_attach_count(f->d2), 1);
	assert_int_equal(sio_attach_handle_get(f->group, 77, 0, &got), 0);
	assert_ptr_equal(got, &h3.handle);
	sio_detach_device_pasid(f->d2, f->dev, 77);
	assert_int_equal(sio_domain_attach_count(f->d2), 0);
}

/*
 * The mock's PASID 1024 rule: the first attach succeeds and arms a fake
 * error, so the next non-blocking set_dev_pasid (the replace) fails with
 * -ENOMEM.  The old domain and handle stay; the one after succeeds.
 */
static void test_pasid_replace_failure(void **state)
{
	struct fix *f = *state;
	const sio_pasid_t p = SIO_MOCK_PASID_RESERVED;
	struct t_handle h1 = { .cookie = 1 }, h2 = { .cookie = 2 };
	struct t_handle h3 = { .cookie = 3 };
	struct sio_attach_handle *got = NULL;
	char s[4];

	assert_int_equal(sio_attach_device_pasid(f->d1, f->dev, p, &h1.handle), 0);
	assert_int_equal(sio_replace_device_pasid(f->d2, f->dev, p, &h2.handle),
			 -ENOMEM);
	assert_ptr_equal(sio_device_pasid_domain(f->dev, p), f->d1);
	assert_int_equal(sio_domain_attach_count(f->d1), 1);
	assert_int_equal(sio_domain_attach_count(f->d2), 0);
	assert_int_equal(sio_attach_handle_get(f->group, p, 0, &got), 0);
	assert_ptr_equal(got, &h1.handle);
	assert_ptr_equal(h1.handle.domain, f->d1);
	assert_int_equal(dma_str(f->dev, p, s), 0);
	assert_string_equal(s, "one");

	/* The error was consumed: this replace goes through. */
	assert_int_equal(sio_replace_device_pasid(f->d2, f->dev, p, &h3.handle), 0);
	assert_ptr_equal(sio_device_pasid_domain(f->dev, p), f->d2);
	assert_int_equal(dma_str(f->dev, p, s), 0);
	assert_string_equal(s, "two");
	/* Detach (blocking) disarms it: attach, replace fails again. */
	sio_detach_device_pasid(f->d2, f->dev, p);
	assert_int_equal(sio_attach_device_pasid(f->d2, f->dev, p, &h1.handle), 0);
	assert_int_equal(sio_replace_device_pasid(f->d1, f->dev, p, &h2.handle),
			 -ENOMEM);
	assert_ptr_equal(sio_device_pasid_domain(f->dev, p), f->d2);
	sio_detach_device_pasid(f->d2, f->dev, p);
	assert_int_equal(sio_domain_attach_count(f->d1), 0);
	assert_int_equal(sio_domain_attach_count(f->d2), 0);
}

/* RID and PASID attachments never touch each other. */
static void test_rid_pasid_independent(void **state)
{
	struct fix *f = *state;
	struct t_handle hr = { .cookie = 100 }, hp = { .cookie = 200 };
	struct t_handle hr2 = { .cookie = 101 };
	struct sio_attach_handle *got = NULL;
	char s[4];

	assert_int_equal(sio_attach_group(f->d1, f->group, &hr.handle), 0);
	assert_int_equal(sio_attach_device_pasid(f->d2, f->dev, 3, &hp.handle), 0);
	assert_int_equal(dma_str(f->dev, SIO_NO_PASID, s), 0);
	assert_string_equal(s, "one");
	assert_int_equal(dma_str(f->dev, 3, s), 0);
	assert_string_equal(s, "two");

	/* Detach the RID: the PASID stays. */
	sio_detach_group(f->group);
	assert_int_equal(dma_str(f->dev, SIO_NO_PASID, s), -EPERM);
	assert_int_equal(dma_str(f->dev, 3, s), 0);
	assert_string_equal(s, "two");
	assert_int_equal(sio_attach_handle_get(f->group, 3, 0, &got), 0);
	assert_ptr_equal(got, &hp.handle);
	assert_int_equal(sio_domain_attach_count(f->d2), 1);

	/* Replacing the RID leaves the PASID as well. */
	assert_int_equal(sio_attach_group(f->d1, f->group, &hr.handle), 0);
	assert_int_equal(sio_replace_group(f->group, f->d2, &hr2.handle), 0);
	assert_int_equal(sio_domain_attach_count(f->d2), 2);
	assert_int_equal(sio_attach_handle_get(f->group, 3, 0, &got), 0);
	assert_ptr_equal(got, &hp.handle);
	assert_int_equal(sio_replace_group(f->group, f->d1, &hr.handle), 0);

	/* Detach the PASID: the RID stays. */
	sio_detach_device_pasid(f->d2, f->dev, 3);
	assert_int_equal(dma_str(f->dev, 3, s), -ENOENT);
	assert_int_equal(dma_str(f->dev, SIO_NO_PASID, s), 0);
	assert_string_equal(s, "one");
	assert_int_equal(sio_attach_handle_get(f->group, SIO_NO_PASID, 0, &got), 0);
	assert_ptr_equal(got, &hr.handle);
	assert_int_equal(sio_attach_handle_get(f->group, 3, 0, &got), -ENOENT);
	/* A PASID replace failure does not disturb the RID either. */
	assert_int_equal(sio_attach_device_pasid(f->d2, f->dev,
						 SIO_MOCK_PASID_RESERVED, &hp.handle),
			 0);
	assert_int_equal(sio_replace_device_pasid(f->d1, f->dev,
						  SIO_MOCK_PASID_RESERVED,
						  &hr2.handle), -ENOMEM);
	assert_ptr_equal(sio_group_domain(f->group), f->d1);
	assert_int_equal(sio_domain_attach_count(f->d1), 1);
	sio_detach_device_pasid(f->d2, f->dev, SIO_MOCK_PASID_RESERVED);

	sio_detach_group(f->group);
	assert_int_equal(sio_domain_attach_count(f->d1), 0);
	assert_int_equal(sio_domain_attach_count(f->d2), 0);
}

/* sio_attach_handle_get: -ENOENT for nothing, -EBUSY for another type. */
static void test_handle_get(void **state)
{
	struct fix *f = *state;
	struct t_handle h = { .cookie = 5 };
	struct sio_attach_handle *got = NULL;

	assert_int_equal(sio_attach_handle_get(f->group, SIO_NO_PASID, 0, &got),
			 -ENOENT);
	assert_int_equal(sio_attach_handle_get(f->group, 4, SIO_DOMAIN_PAGING, &got),
			 -ENOENT);
	assert_int_equal(sio_attach_handle_get(f->group, 1u << 24, 0, &got), -ENOENT);
	assert_null(got);
	assert_string_not_equal(sio_last_error(), "");

	assert_int_equal(sio_attach_group(f->d1, f->group, &h.handle), 0);
	assert_int_equal(sio_attach_handle_get(f->group, SIO_NO_PASID,
					       SIO_DOMAIN_SVA, &got), -EBUSY);
	assert_int_equal(sio_attach_handle_get(f->group, SIO_NO_PASID,
					       SIO_DOMAIN_IDENTITY, &got), -EBUSY);
	assert_int_equal(sio_device_attach_handle_get(f->dev, SIO_NO_PASID,
						      SIO_DOMAIN_SVA, &got), -EBUSY);
	assert_null(got);
	assert_int_equal(sio_attach_handle_get(f->group, SIO_NO_PASID,
					       SIO_DOMAIN_PAGING, &got), 0);
	assert_ptr_equal(got, &h.handle);
	sio_detach_group(f->group);

	assert_int_equal(sio_attach_device_pasid(f->d2, f->dev, 4, &h.handle), 0);
	got = NULL;
	assert_int_equal(sio_attach_handle_get(f->group, 4, SIO_DOMAIN_SVA, &got),
			 -EBUSY);
	assert_null(got);
	assert_int_equal(sio_attach_handle_get(f->group, 4, 0, &got), 0);
	assert_ptr_equal(got, &h.handle);
	assert_int_equal(sio_attach_handle_get(f->group, SIO_NO_PASID, 0, &got),
			 -ENOENT);
	sio_detach_device_pasid(f->d2, f->dev, 4);
}

/* A nested domain attaches like any other and keeps its parent usable. */
static void test_attach_nested(void **state)
{
	struct fix *f = *state;
	struct sio_mock_hwpt_data data = { .iotlb = 1 };
	struct sio_user_data ud = { .type = SIO_MOCK_HWPT_DATA, .buf = &data,
				    .len = sizeof(data) };
	struct sio_domain *parent = t_paging(f->dev, SIO_DOMAIN_ALLOC_NEST_PARENT);
	struct sio_domain *n = NULL;
	struct t_handle h = { .cookie = 9 };
	struct sio_attach_handle *got = NULL;

	assert_int_equal(sio_domain_alloc_nested(f->dev, parent, 0, &ud, &n), 0);
	assert_int_equal(sio_attach_group(n, f->group, &h.handle), 0);
	assert_int_equal(sio_attach_handle_get(f->group, SIO_NO_PASID,
					       SIO_DOMAIN_NESTED, &got), 0);
	assert_int_equal(sio_attach_handle_get(f->group, SIO_NO_PASID,
					       SIO_DOMAIN_PAGING, &got), -EBUSY);
	assert_int_equal(sio_domain_free(n), -EBUSY);
	assert_int_equal(sio_replace_group(f->group, parent, NULL), 0);
	assert_int_equal(sio_domain_attach_count(n), 0);
	sio_detach_group(f->group);
	assert_int_equal(sio_domain_free(n), 0);
	assert_int_equal(sio_domain_free(parent), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_attach_detach_rid),
		T(test_attach_errors),
		T(test_replace_rid),
		T(test_replace_rid_failure),
		T(test_pasid_attach_detach),
		T(test_pasid_errors),
		T(test_pasid_replace),
		T(test_pasid_replace_failure),
		T(test_rid_pasid_independent),
		T(test_handle_get),
		T(test_attach_nested),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
