/*
 * The data path's IOTLB and its invalidation: after an unmap, a replace, a
 * detach, a PASID detach or a nested domain's cache invalidation, a DMA
 * faults or reaches the new pages, never the old ones, however warm the
 * cache was.  Also: copies over host pages that are partly contiguous, and
 * the rule that a DMA's own callbacks may not unmap (-EDEADLK).
 */
#include "helpers.h"

struct fix {
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_device *dev;		/* PASID-capable */
	struct sio_group *group;
	struct sio_domain *d1, *d2;
	char *a, *b;			/* one page each, 'A' and 'B' */
};

#define RW (SIO_PROT_READ | SIO_PROT_WRITE)

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	f->sys = t_system();
	f->iommu = t_mock(f->sys, NULL);
	f->dev = t_probe(f->iommu, "dev", 0, 0, SIO_MOCK_DEV_PASID);
	f->group = t_group(f->dev);
	f->d1 = t_paging(f->dev, SIO_DOMAIN_ALLOC_NEST_PARENT);
	f->d2 = t_paging(f->dev, 0);
	f->a = t_buf(T_PG, T_PG);
	f->b = t_buf(T_PG, T_PG);
	memset(f->a, 'A', T_PG);
	memset(f->b, 'B', T_PG);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	sio_detach_group(f->group);
	assert_int_equal(sio_domain_free(f->d1), 0);
	assert_int_equal(sio_domain_free(f->d2), 0);
	sio_group_put(f->group);
	t_unprobe(f->dev);
	assert_int_equal(sio_system_destroy(f->sys), 0);
	free(f->a);
	free(f->b);
	free(f);
	return 0;
}

static uint64_t misses(struct sio_device *dev)
{
	struct sio_device_stats s;

	sio_device_stats(dev, &s);
	return s.iotlb_misses;
}

/* Read one byte at iova through (dev, pasid): the byte, or -errno. */
static int peek(struct sio_device *dev, sio_pasid_t pasid, uint64_t iova)
{
	char c = 0;
	int rc = sio_dma_read(dev, pasid, iova, &c, 1, NULL);

	return rc ? rc : c;
}

/* Translate twice: the second is a hit (no new miss) and agrees. */
static void warm(struct sio_device *dev, sio_pasid_t pasid, uint64_t iova,
		 const void *host)
{
	struct sio_dma_xlate x;
	uint64_t m;

	assert_int_equal(sio_dma_translate(dev, pasid, iova, SIO_DMA_READ, &x,
					   NULL), 0);
	assert_ptr_equal(x.host, host);
	m = misses(dev);
	assert_int_equal(sio_dma_translate(dev, pasid, iova, SIO_DMA_READ, &x,
					   NULL), 0);
	assert_ptr_equal(x.host, host);
	assert_int_equal(peek(dev, pasid, iova), *(const char *)host);
	assert_int_equal(misses(dev), m);
}

/* A hit costs no walk; the translation says where the leaf ends. */
static void test_hit(void **state)
{
	struct fix *f = *state;
	struct sio_dma_xlate x;
	uint64_t m;

	assert_int_equal(sio_map(f->d1, T_IOVA, t_pa(f->a), T_PG, RW), 0);
	assert_int_equal(sio_attach_group(f->d1, f->group, NULL), 0);
	m = misses(f->dev);
	assert_int_equal(sio_dma_translate(f->dev, SIO_NO_PASID, T_IOVA + 5,
					   SIO_DMA_WRITE, &x, NULL), 0);
	assert_int_equal(misses(f->dev), m + 1);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(sio_dma_translate(f->dev, SIO_NO_PASID,
						   T_IOVA + 7, SIO_DMA_READ,
						   &x, NULL), 0);
		assert_ptr_equal(x.host, f->a + 7);
		assert_int_equal(x.len, T_PG - 7);
	}
	assert_int_equal(misses(f->dev), m + 1);
	/* A hit still checks the access: read-only mapping, write refused. */
	assert_int_equal(sio_unmap(f->d1, T_IOVA, T_PG), T_PG);
	assert_int_equal(sio_map(f->d1, T_IOVA, t_pa(f->a), T_PG,
				 SIO_PROT_READ), 0);
	warm(f->dev, SIO_NO_PASID, T_IOVA, f->a);
	assert_int_equal(sio_dma_write(f->dev, SIO_NO_PASID, T_IOVA, "w", 1,
				       NULL), -EACCES);
	assert_int_equal(f->a[0], 'A');
	assert_int_equal(sio_unmap(f->d1, T_IOVA, T_PG), T_PG);
}

/* Unmap: the warm entry goes; the DMA faults, then reaches the new page. */
static void test_unmap(void **state)
{
	struct fix *f = *state;
	struct sio_dma_fault flt;
	struct sio_dma_xlate x;
	char c;

	assert_int_equal(sio_attach_group(f->d1, f->group, NULL), 0);
	assert_int_equal(sio_attach_device_pasid(f->d1, f->dev, 3, NULL), 0);
	assert_int_equal(sio_map(f->d1, T_IOVA, t_pa(f->a), T_PG, RW), 0);
	warm(f->dev, SIO_NO_PASID, T_IOVA, f->a);
	warm(f->dev, 3, T_IOVA, f->a);
	assert_int_equal(sio_unmap(f->d1, T_IOVA, T_PG), T_PG);
	assert_int_equal(sio_dma_translate(f->dev, SIO_NO_PASID, T_IOVA,
					   SIO_DMA_READ, &x, &flt), -EFAULT);
	assert_int_equal(flt.reason, SIO_FAULT_NOT_MAPPED);
	assert_int_equal(sio_dma_read(f->dev, 3, T_IOVA, &c, 1, &flt), -EFAULT);
	assert_int_equal(flt.reason, SIO_FAULT_NOT_MAPPED);
	assert_int_equal(sio_dma_write(f->dev, SIO_NO_PASID, T_IOVA, "x", 1,
				       NULL), -EFAULT);
	assert_int_equal(f->a[0], 'A');
	/* Mapped again, elsewhere: the new page, never the old one. */
	assert_int_equal(sio_map(f->d1, T_IOVA, t_pa(f->b), T_PG, RW), 0);
	assert_int_equal(peek(f->dev, SIO_NO_PASID, T_IOVA), 'B');
	assert_int_equal(peek(f->dev, 3, T_IOVA + 9), 'B');
	assert_int_equal(sio_dma_write(f->dev, 3, T_IOVA, "y", 1, NULL), 0);
	assert_int_equal(f->b[0], 'y');
	assert_int_equal(f->a[0], 'A');
	f->b[0] = 'B';
	/* Unmapping part of a range drops only what it must, but drops it. */
	assert_int_equal(sio_map(f->d1, T_IOVA + T_PG, t_pa(f->a), T_PG, RW), 0);
	warm(f->dev, SIO_NO_PASID, T_IOVA, f->b);
	warm(f->dev, SIO_NO_PASID, T_IOVA + T_PG, f->a);
	assert_int_equal(sio_unmap(f->d1, T_IOVA + T_PG, T_PG), T_PG);
	assert_int_equal(peek(f->dev, SIO_NO_PASID, T_IOVA + T_PG), -EFAULT);
	assert_int_equal(peek(f->dev, SIO_NO_PASID, T_IOVA), 'B');
	assert_int_equal(sio_unmap(f->d1, T_IOVA, T_PG), T_PG);
	sio_detach_device_pasid(f->d1, f->dev, 3);
}

/* Replace and detach: the DMA reaches what is attached now. */
static void test_replace_detach(void **state)
{
	struct fix *f = *state;
	struct sio_dma_xlate x;
	struct sio_dma_fault flt;
	char c;

	assert_int_equal(sio_map(f->d1, T_IOVA, t_pa(f->a), T_PG, RW), 0);
	assert_int_equal(sio_map(f->d2, T_IOVA, t_pa(f->b), T_PG, RW), 0);
	assert_int_equal(sio_attach_group(f->d1, f->group, NULL), 0);
	warm(f->dev, SIO_NO_PASID, T_IOVA, f->a);
	/* Translations first: they may take the domain from a warm entry. */
	assert_int_equal(sio_replace_group(f->group, f->d2, NULL), 0);
	warm(f->dev, SIO_NO_PASID, T_IOVA, f->b);
	assert_int_equal(sio_replace_group(f->group, f->d1, NULL), 0);
	warm(f->dev, SIO_NO_PASID, T_IOVA, f->a);
	assert_int_equal(sio_replace_group(f->group, f->d2, NULL), 0);
	assert_int_equal(peek(f->dev, SIO_NO_PASID, T_IOVA), 'B');
	assert_int_equal(sio_replace_group(f->group, f->d1, NULL), 0);
	assert_int_equal(peek(f->dev, SIO_NO_PASID, T_IOVA), 'A');
	sio_detach_group(f->group);
	assert_int_equal(sio_dma_translate(f->dev, SIO_NO_PASID, T_IOVA,
					   SIO_DMA_READ, &x, &flt), -EPERM);
	assert_int_equal(sio_dma_read(f->dev, SIO_NO_PASID, T_IOVA, &c, 1, &flt),
			 -EPERM);
	assert_int_equal(flt.reason, SIO_FAULT_BLOCKED);
	/* A domain freed and another made, likely at the same address: no
	 * entry of the old one matches the new one. */
	assert_int_equal(sio_unmap(f->d2, T_IOVA, T_PG), T_PG);
	assert_int_equal(sio_domain_free(f->d2), 0);
	f->d2 = t_paging(f->dev, 0);
	assert_int_equal(sio_attach_group(f->d2, f->group, NULL), 0);
	assert_int_equal(peek(f->dev, SIO_NO_PASID, T_IOVA), -EFAULT);
	assert_int_equal(sio_map(f->d2, T_IOVA, t_pa(f->a), T_PG, RW), 0);
	assert_int_equal(peek(f->dev, SIO_NO_PASID, T_IOVA), 'A');
	sio_detach_group(f->group);
	assert_int_equal(sio_unmap(f->d2, T_IOVA, T_PG), T_PG);
	assert_int_equal(sio_unmap(f->d1, T_IOVA, T_PG), T_PG);
}

/* PASID detach and re-attach: nothing there, then the new domain. */
static void test_pasid_detach(void **state)
{
	struct fix *f = *state;
	struct sio_attach_handle h1 = { 0 }, h2 = { 0 };
	struct sio_dma_xlate x;
	struct sio_dma_fault flt;
	char c;

	assert_int_equal(sio_map(f->d1, T_IOVA, t_pa(f->a), T_PG, RW), 0);
	assert_int_equal(sio_map(f->d2, T_IOVA, t_pa(f->b), T_PG, RW), 0);
	assert_int_equal(sio_attach_device_pasid(f->d1, f->dev, 5, NULL), 0);
	warm(f->dev, 5, T_IOVA, f->a);
	sio_detach_device_pasid(f->d1, f->dev, 5);
	assert_int_equal(sio_dma_translate(f->dev, 5, T_IOVA, SIO_DMA_READ, &x,
					   &flt), -ENOENT);
	assert_int_equal(sio_dma_read(f->dev, 5, T_IOVA, &c, 1, &flt), -ENOENT);
	assert_int_equal(flt.reason, SIO_FAULT_NO_PASID);
	assert_int_equal(peek(f->dev, 5, T_IOVA), -ENOENT);
	assert_int_equal(sio_attach_device_pasid(f->d2, f->dev, 5, &h1), 0);
	warm(f->dev, 5, T_IOVA, f->b);
	/* PASID replace (it takes a new handle). */
	assert_int_equal(sio_replace_device_pasid(f->d1, f->dev, 5, &h2), 0);
	warm(f->dev, 5, T_IOVA, f->a);
	/* Another PASID's change leaves this one's entries right. */
	assert_int_equal(sio_attach_device_pasid(f->d2, f->dev, 6, NULL), 0);
	assert_int_equal(peek(f->dev, 6, T_IOVA), 'B');
	assert_int_equal(peek(f->dev, 5, T_IOVA), 'A');
	sio_detach_device_pasid(f->d2, f->dev, 6);
	sio_detach_device_pasid(f->d1, f->dev, 5);
	assert_int_equal(peek(f->dev, 5, T_IOVA), -ENOENT);
	assert_int_equal(sio_unmap(f->d1, T_IOVA, T_PG), T_PG);
	assert_int_equal(sio_unmap(f->d2, T_IOVA, T_PG), T_PG);
}

static int read_inv(void *ctx, uint64_t offset, void *dst, size_t len)
{
	memcpy(dst, (const char *)ctx + offset, len);
	return 0;
}

/* A nested domain: its cache invalidation and its parent's unmap both
 * drop the data path's entries of it. */
static void test_nested(void **state)
{
	struct fix *f = *state;
	struct sio_mock_hwpt_data data = { .iotlb = 0 };
	struct sio_user_data ud = { .type = SIO_MOCK_HWPT_DATA, .buf = &data,
				    .len = sizeof(data) };
	struct sio_mock_invalidate inv = { .flags = SIO_MOCK_INVALIDATE_FLAG_ALL };
	struct sio_user_data_array arr = {
		.type = SIO_MOCK_INVALIDATE_DATA, .entry_len = sizeof(inv),
		.entry_num = 1, .read = read_inv, .ctx = &inv,
	};
	struct sio_domain *n = NULL;
	uint64_t m;

	assert_int_equal(sio_domain_alloc_nested(f->dev, f->d1, 0, &ud, &n), 0);
	assert_int_equal(sio_map(f->d1, T_IOVA, t_pa(f->a), T_PG, RW), 0);
	assert_int_equal(sio_attach_group(n, f->group, NULL), 0);
	assert_int_equal(sio_attach_device_pasid(n, f->dev, 9, NULL), 0);
	warm(f->dev, SIO_NO_PASID, T_IOVA, f->a);
	warm(f->dev, 9, T_IOVA, f->a);
	/* IOMMU_HWPT_INVALIDATE on the nested domain: the next translation
	 * walks again. */
	m = misses(f->dev);
	assert_int_equal(sio_domain_cache_invalidate_user(n, &arr), 0);
	assert_int_equal(arr.entry_num, 1);
	assert_int_equal(peek(f->dev, SIO_NO_PASID, T_IOVA), 'A');
	assert_int_equal(misses(f->dev), m + 1);
	warm(f->dev, SIO_NO_PASID, T_IOVA, f->a);
	/* The parent unmaps and maps elsewhere: through the nested domain,
	 * a fault, then the new page. */
	assert_int_equal(sio_unmap(f->d1, T_IOVA, T_PG), T_PG);
	assert_int_equal(peek(f->dev, SIO_NO_PASID, T_IOVA), -EFAULT);
	assert_int_equal(peek(f->dev, 9, T_IOVA), -EFAULT);
	assert_int_equal(sio_map(f->d1, T_IOVA, t_pa(f->b), T_PG, RW), 0);
	assert_int_equal(peek(f->dev, SIO_NO_PASID, T_IOVA), 'B');
	assert_int_equal(peek(f->dev, 9, T_IOVA), 'B');
	sio_detach_device_pasid(n, f->dev, 9);
	sio_detach_group(f->group);
	assert_int_equal(sio_domain_free(n), 0);
	assert_int_equal(sio_unmap(f->d1, T_IOVA, T_PG), T_PG);
}

/* A copy over host pages that are contiguous in places and not in
 * others: every byte lands where its IOVA says, cold cache and warm. */
static void test_noncontiguous_host(void **state)
{
	struct fix *f = *state;
	enum { N = 8 };
	/* Host order of the IOVA pages: runs 0-1, 2, 3-5, 6, 7. */
	static const int where[N] = { 4, 5, 0, 8, 9, 10, 2, 12 };
	unsigned char *host = t_buf(14 * T_PG, T_PG);
	unsigned char *in = malloc(N * T_PG), *out = malloc(N * T_PG);
	const uint64_t iova = T_IOVA + 7 * T_PG;	/* crosses a table */

	for (int i = 0; i < N; i++)
		assert_int_equal(sio_map(f->d1, iova + i * T_PG,
					 t_pa(host + where[i] * T_PG), T_PG, RW),
				 0);
	assert_int_equal(sio_attach_group(f->d1, f->group, NULL), 0);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < N * T_PG; i++)
			in[i] = (unsigned char)(i * 13 + pass * 7 + 1);
		memset(host, 0xee, 14 * T_PG);
		assert_int_equal(sio_dma_write(f->dev, SIO_NO_PASID, iova + 3,
					       in, N * T_PG - 5, NULL), 0);
		for (int i = 0; i < N; i++)
			for (size_t b = 0; b < T_PG; b++) {
				size_t off = i * T_PG + b;
				unsigned char want = off < 3 || off >= N * T_PG - 2 ?
							     0xee : in[off - 3];

				assert_int_equal(host[where[i] * T_PG + b], want);
			}
		/* Pages the IOVA range does not map stay untouched. */
		for (size_t b = 0; b < T_PG; b++) {
			assert_int_equal(host[1 * T_PG + b], 0xee);
			assert_int_equal(host[13 * T_PG + b], 0xee);
		}
		memset(out, 0, N * T_PG);
		assert_int_equal(sio_dma_read(f->dev, SIO_NO_PASID, iova + 3,
					      out, N * T_PG - 5, NULL), 0);
		assert_memory_equal(out, in, N * T_PG - 5);
	}
	/* A hole in a run that is contiguous on the host: the copy stops at
	 * the hole and reports it. */
	{
		struct sio_dma_fault flt;

		assert_int_equal(sio_unmap(f->d1, iova + 4 * T_PG, T_PG), T_PG);
		memset(host, 0xee, 14 * T_PG);
		assert_int_equal(sio_dma_write(f->dev, SIO_NO_PASID,
					       iova + 3 * T_PG, in, 3 * T_PG,
					       &flt), -EFAULT);
		assert_int_equal(flt.reason, SIO_FAULT_NOT_MAPPED);
		assert_int_equal(flt.iova, iova + 4 * T_PG);
		assert_int_equal(host[8 * T_PG], in[0]);
		assert_int_equal(host[9 * T_PG], 0xee);
		assert_int_equal(host[10 * T_PG], 0xee);
		assert_int_equal(sio_map(f->d1, iova + 4 * T_PG,
					 t_pa(host + 9 * T_PG), T_PG, RW), 0);
	}
	sio_detach_group(f->group);
	assert_int_equal(sio_unmap(f->d1, iova, N * T_PG), N * T_PG);
	free(host);
	free(in);
	free(out);
}

/* One run across leaves of different sizes: a 1 MiB leaf, then small
 * leaves that follow it on the host, then one that does not. */
static void test_run_across_leaf_sizes(void **state)
{
	struct fix *f = *state;
	const size_t big = 1u << 20;
	const uint64_t iova = T_IOVA + (8u << 20);
	unsigned char *host = t_buf(big + 8 * T_PG, big);
	unsigned char *other = t_buf(T_PG, T_PG);
	unsigned char *out = malloc(big + 8 * T_PG);
	struct sio_dma_xlate x;
	size_t len = big + 5 * T_PG;

	for (size_t i = 0; i < big + 8 * T_PG; i++)
		host[i] = (unsigned char)(i * 7 ^ (i >> 9));
	memset(other, 0x5a, T_PG);
	assert_int_equal(sio_map(f->d1, iova, t_pa(host), big, RW), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(sio_map(f->d1, iova + big + i * T_PG,
					 t_pa(host + big + i * T_PG), T_PG, RW), 0);
	assert_int_equal(sio_map(f->d1, iova + big + 4 * T_PG, t_pa(other), T_PG,
				 RW), 0);
	assert_int_equal(sio_attach_group(f->d1, f->group, NULL), 0);
	assert_int_equal(sio_dma_translate(f->dev, SIO_NO_PASID, iova + 3,
					   SIO_DMA_READ, &x, NULL), 0);
	assert_int_equal(x.len, big - 3);
	for (int pass = 0; pass < 2; pass++) {
		memset(out, 0, len);
		assert_int_equal(sio_dma_read(f->dev, SIO_NO_PASID, iova, out, len,
					      NULL), 0);
		assert_memory_equal(out, host, big + 4 * T_PG);
		for (size_t b = 0; b < T_PG; b++)
			assert_int_equal(out[big + 4 * T_PG + b], 0x5a);
	}
	sio_detach_group(f->group);
	assert_int_equal(sio_unmap(f->d1, iova, len), (ssize_t)len);
	free(host);
	free(other);
	free(out);
}

/* The rule: nothing a DMA calls (a page-fault handler, the device model's
 * page response) may unmap; it gets -EDEADLK and the mapping stays. */
struct unmapper {
	struct sio_iopf_handler h;
	struct sio_attach_handle handle;	/* faults are dispatched by it */
	struct sio_domain *domain;
	uint64_t iova;
	char *scratch;			/* two pages */
	ssize_t in_handler, in_response;
	int map_in_handler;		/* a map that fails half-way */
	unsigned int handled, responses;
};

static int unmapper_handle(struct sio_iopf_handler *h,
			   struct sio_iopf_group *g)
{
	struct unmapper *u = sio_container_of(h, struct unmapper, h);

	u->handled++;
	u->in_handler = sio_unmap(u->domain, u->iova, T_PG);
	/* A map whose second page is taken: it maps the first, fails, and
	 * rolls back without waiting for the DMA it is inside. */
	u->map_in_handler = sio_map(u->domain, u->iova - T_PG, t_pa(u->scratch),
				    2 * T_PG, SIO_PROT_READ);
	/* Answer at once: the response runs on this thread too. */
	assert_int_equal(sio_iopf_group_respond(g, SIO_PAGE_RESP_SUCCESS), 0);
	return 0;
}

static const struct sio_iopf_handler_ops unmapper_ops = {
	.handle = unmapper_handle,
};

static void unmapper_response(struct sio_device *dev, void *arg,
			      const struct sio_page_response *resp)
{
	struct unmapper *u = arg;

	u->responses++;
	u->in_response = sio_unmap(u->domain, u->iova, T_PG);
}

static const struct sio_iopf_device_ops unmapper_model = {
	.page_response = unmapper_response,
};

static void test_unmap_inside_dma(void **state)
{
	struct fix *f = *state;
	struct unmapper u = { .h.ops = &unmapper_ops, .domain = f->d2,
			      .iova = T_IOVA + T_PG,
			      .scratch = t_buf(2 * T_PG, T_PG) };
	struct sio_dma_fault flt;
	char c;

	assert_int_equal(sio_domain_set_iopf_handler(f->d2, &u.h), 0);
	assert_int_equal(sio_iopf_device_enable(f->dev, &unmapper_model, &u,
						NULL), 0);
	assert_int_equal(sio_map(f->d2, T_IOVA + T_PG, t_pa(f->a), T_PG, RW), 0);
	assert_int_equal(sio_attach_group(f->d2, f->group, &u.handle), 0);
	assert_int_equal(peek(f->dev, SIO_NO_PASID, T_IOVA + T_PG), 'A');
	/* A miss on this fault-capable domain sends a page request from
	 * inside the DMA; the handler and the response both try to unmap. */
	assert_int_equal(sio_dma_read(f->dev, SIO_NO_PASID, T_IOVA + 2 * T_PG, &c,
				      1, &flt), -EAGAIN);
	assert_int_equal(u.handled, 1);
	assert_int_equal(u.responses, 1);
	assert_int_equal(u.in_handler, -EDEADLK);
	assert_int_equal(u.in_response, -EDEADLK);
	assert_string_not_equal(sio_last_error(), "");
	assert_int_equal(u.map_in_handler, -EEXIST);
	assert_int_equal(sio_iova_to_phys(f->d2, T_IOVA), 0);
	/* Nothing was unmapped; outside a DMA the same unmap works, and
	 * the next DMA there is a page request again. */
	assert_int_equal(peek(f->dev, SIO_NO_PASID, T_IOVA + T_PG), 'A');
	assert_int_equal(sio_unmap(f->d2, T_IOVA + T_PG, T_PG), T_PG);
	assert_int_equal(peek(f->dev, SIO_NO_PASID, T_IOVA + T_PG), -EAGAIN);
	assert_int_equal(u.handled, 2);
	/* This time both pages were free: a map inside a DMA that does not
	 * fail needs no wait and works. */
	assert_int_equal(u.map_in_handler, 0);
	assert_int_equal(sio_unmap(f->d2, T_IOVA, 2 * T_PG), 2 * T_PG);
	sio_detach_group(f->group);
	sio_iopf_device_disable(f->dev);
	assert_int_equal(sio_domain_set_iopf_handler(f->d2, NULL), 0);
	free(u.scratch);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_hit),
		T(test_unmap),
		T(test_replace_detach),
		T(test_pasid_detach),
		T(test_nested),
		T(test_noncontiguous_host),
		T(test_run_across_leaf_sizes),
		T(test_unmap_inside_dma),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
