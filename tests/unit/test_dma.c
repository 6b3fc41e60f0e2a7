/*
 * The device data path: translate, read and write through blocked,
 * identity and paging domains, and every way a DMA can fault.
 */
#include "helpers.h"

struct fix {
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_device *dev;		/* PASID-capable */
	struct sio_device *nopasid;
	struct sio_group *group;
	struct sio_domain *dom;		/* attached to dev's RID */
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	f->sys = t_system();
	f->iommu = t_mock(f->sys, NULL);
	f->dev = t_probe(f->iommu, "dev", 0, 0, SIO_MOCK_DEV_PASID);
	f->nopasid = t_probe(f->iommu, "nopasid", 0, 0, 0);
	f->group = t_group(f->dev);
	f->dom = t_paging(f->dev, 0);
	assert_int_equal(sio_attach_group(f->dom, f->group, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	sio_detach_group(f->group);
	assert_int_equal(sio_domain_free(f->dom), 0);
	sio_group_put(f->group);
	t_unprobe(f->dev);
	t_unprobe(f->nopasid);
	assert_int_equal(sio_system_destroy(f->sys), 0);
	free(f);
	return 0;
}

static void assert_fault(const struct sio_dma_fault *f,
			 enum sio_fault_reason reason, uint64_t iova,
			 sio_pasid_t pasid, unsigned int access)
{
	assert_int_equal(f->reason, reason);
	assert_int_equal(f->iova, iova);
	assert_int_equal(f->pasid, pasid);
	assert_int_equal(f->access, access);
	assert_string_not_equal(sio_fault_reason_name(reason), "unknown");
}

/* The mock's default: all DMA is refused. */
static void test_blocked(void **state)
{
	struct fix *f = *state;
	struct sio_dma_xlate x;
	struct sio_dma_fault flt;
	char buf[8] = "xxxxxxx";

	assert_int_equal(sio_dma_translate(f->nopasid, SIO_NO_PASID, T_IOVA,
					   SIO_DMA_READ, &x, &flt), -EPERM);
	assert_fault(&flt, SIO_FAULT_BLOCKED, T_IOVA, SIO_NO_PASID, SIO_DMA_READ);
	assert_int_equal(sio_dma_write(f->nopasid, SIO_NO_PASID, 0x1000, buf, 8,
				       &flt), -EPERM);
	assert_fault(&flt, SIO_FAULT_BLOCKED, 0x1000, SIO_NO_PASID, SIO_DMA_WRITE);
	assert_int_equal(sio_dma_read(f->nopasid, SIO_NO_PASID, 0, buf, 8, NULL),
			 -EPERM);
	assert_string_equal(buf, "xxxxxxx");
	/* After a detach, dev is back on the blocked domain too. */
	sio_detach_group(f->group);
	assert_int_equal(sio_dma_read(f->dev, SIO_NO_PASID, T_IOVA, buf, 8, &flt),
			 -EPERM);
	assert_int_equal(flt.reason, SIO_FAULT_BLOCKED);
	/* The blocked domain attached at a PASID blocks there. */
	struct sio_domain *blocked = NULL;

	assert_int_equal(sio_domain_get_blocked(f->dev, &blocked), 0);
	assert_int_equal(sio_attach_device_pasid(blocked, f->dev, 4, NULL), 0);
	assert_int_equal(sio_dma_read(f->dev, 4, T_IOVA, buf, 8, &flt), -EPERM);
	assert_fault(&flt, SIO_FAULT_BLOCKED, T_IOVA, 4, SIO_DMA_READ);
	sio_detach_device_pasid(blocked, f->dev, 4);
	assert_int_equal(sio_dma_read(f->dev, 4, T_IOVA, buf, 8, &flt), -ENOENT);
	assert_int_equal(sio_attach_group(f->dom, f->group, NULL), 0);
}

/* Identity: the DMA address is the host address. */
static void test_identity(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_tdrv(sys, "t", SIO_DOMAIN_IDENTITY);
	struct sio_device *dev = t_tdev(iommu, "d", 0, 4);
	struct sio_domain *ident = NULL;
	struct sio_dma_xlate x;
	struct sio_dma_fault flt;
	char target[32] = "........";
	char out[32] = { 0 };
	uint64_t addr = t_pa(target);

	assert_int_equal(sio_domain_get_identity(dev, &ident), 0);
	assert_ptr_equal(sio_device_pasid_domain(dev, SIO_NO_PASID), ident);
	assert_int_equal(sio_dma_translate(dev, SIO_NO_PASID, addr,
					   SIO_DMA_READ | SIO_DMA_WRITE, &x, &flt), 0);
	assert_int_equal(flt.reason, SIO_FAULT_NONE);
	assert_ptr_equal(x.host, target);
	assert_true(x.len >= sizeof(target));
	assert_true(x.prot & SIO_PROT_WRITE);
	assert_int_equal(sio_iova_to_phys(ident, addr), addr);

	assert_int_equal(sio_dma_write(dev, SIO_NO_PASID, addr + 2, "identity", 9,
				       &flt), 0);
	assert_string_equal(target, "..identity");
	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID, addr, out, 10, &flt), 0);
	assert_string_equal(out, "..identity");

	/* Identity at a PASID as well. */
	assert_int_equal(sio_attach_device_pasid(ident, dev, 2, NULL), 0);
	assert_int_equal(sio_dma_write(dev, 2, addr, "P", 1, NULL), 0);
	assert_int_equal(target[0], 'P');
	sio_detach_device_pasid(ident, dev, 2);
	assert_int_equal(sio_dma_write(dev, 2, addr, "Q", 1, &flt), -ENOENT);
	assert_int_equal(target[0], 'P');

	t_unprobe(dev);
	assert_int_equal(sio_system_destroy(sys), 0);
}

/* Paging: DMA reaches the mapped host buffer. */
static void test_paging(void **state)
{
	struct fix *f = *state;
	char *buf = t_buf(4 * T_PG, T_PG);
	struct sio_dma_xlate x;
	struct sio_dma_fault flt;
	char out[16] = { 0 };
	const uint64_t iova = T_IOVA + 32 * T_PG;

	assert_int_equal(sio_map(f->dom, iova, t_pa(buf), 4 * T_PG,
				 SIO_PROT_READ | SIO_PROT_WRITE), 0);
	assert_int_equal(sio_dma_translate(f->dev, SIO_NO_PASID, iova + 100,
					   SIO_DMA_WRITE, &x, &flt), 0);
	assert_ptr_equal(x.host, buf + 100);
	assert_true(x.len >= T_PG - 100);
	assert_int_equal((t_pa(buf) + 100 + x.len) % T_PG, 0);
	assert_int_equal(x.prot & (SIO_PROT_READ | SIO_PROT_WRITE),
			 SIO_PROT_READ | SIO_PROT_WRITE);

	assert_int_equal(sio_dma_write(f->dev, SIO_NO_PASID, iova + 100, "hello", 6,
				       &flt), 0);
	assert_int_equal(flt.reason, SIO_FAULT_NONE);
	assert_string_equal(buf + 100, "hello");
	memcpy(buf + 3 * T_PG + 7, "world", 6);
	assert_int_equal(sio_dma_read(f->dev, SIO_NO_PASID, iova + 3 * T_PG + 7, out,
				      6, &flt), 0);
	assert_string_equal(out, "world");
	/* Zero bytes: nothing happens, successfully. */
	assert_int_equal(sio_dma_read(f->dev, SIO_NO_PASID, iova, out, 0, NULL), 0);

	/* Unmapped: DMA faults again. */
	assert_int_equal(sio_unmap(f->dom, iova, 4 * T_PG), 4 * T_PG);
	assert_int_equal(sio_dma_read(f->dev, SIO_NO_PASID, iova + 100, out, 6, &flt),
			 -EFAULT);
	assert_fault(&flt, SIO_FAULT_NOT_MAPPED, iova + 100, SIO_NO_PASID,
		     SIO_DMA_READ);
	free(buf);
}

static void test_permission(void **state)
{
	struct fix *f = *state;
	char *ro = t_buf(T_PG, T_PG), *wo = t_buf(T_PG, T_PG);
	struct sio_dma_fault flt;
	struct sio_dma_xlate x;
	char out[8] = { 0 };

	strcpy(ro, "ro");
	assert_int_equal(sio_map(f->dom, T_IOVA, t_pa(ro), T_PG, SIO_PROT_READ), 0);
	assert_int_equal(sio_map(f->dom, T_IOVA + T_PG, t_pa(wo), T_PG,
				 SIO_PROT_WRITE), 0);
	assert_int_equal(sio_dma_write(f->dev, SIO_NO_PASID, T_IOVA + 1, "X", 1, &flt),
			 -EACCES);
	assert_fault(&flt, SIO_FAULT_PERMISSION, T_IOVA + 1, SIO_NO_PASID,
		     SIO_DMA_WRITE);
	assert_string_equal(ro, "ro");
	assert_int_equal(sio_dma_read(f->dev, SIO_NO_PASID, T_IOVA, out, 3, &flt), 0);
	assert_string_equal(out, "ro");
	assert_int_equal(sio_dma_translate(f->dev, SIO_NO_PASID, T_IOVA,
					   SIO_DMA_READ | SIO_DMA_WRITE, &x, &flt),
			 -EACCES);

	/* Write-only: writes land, reads fault. */
	assert_int_equal(sio_dma_write(f->dev, SIO_NO_PASID, T_IOVA + T_PG, "wo", 3,
				       &flt), 0);
	assert_string_equal(wo, "wo");
	assert_int_equal(sio_dma_read(f->dev, SIO_NO_PASID, T_IOVA + T_PG, out, 3,
				      &flt), -EACCES);
	assert_fault(&flt, SIO_FAULT_PERMISSION, T_IOVA + T_PG, SIO_NO_PASID,
		     SIO_DMA_READ);

	assert_int_equal(sio_unmap(f->dom, T_IOVA, 2 * T_PG), 2 * T_PG);
	free(ro);
	free(wo);
}

static void test_not_mapped(void **state)
{
	struct fix *f = *state;
	struct sio_dma_xlate x;
	struct sio_dma_fault flt;

	assert_int_equal(sio_dma_translate(f->dev, SIO_NO_PASID, T_IOVA + 12345,
					   SIO_DMA_READ, &x, &flt), -EFAULT);
	assert_fault(&flt, SIO_FAULT_NOT_MAPPED, T_IOVA + 12345, SIO_NO_PASID,
		     SIO_DMA_READ);
	/* Outside the aperture, below and above. */
	assert_int_equal(sio_dma_translate(f->dev, SIO_NO_PASID, 0x1000,
					   SIO_DMA_READ, &x, &flt), -EFAULT);
	assert_fault(&flt, SIO_FAULT_APERTURE, 0x1000, SIO_NO_PASID, SIO_DMA_READ);
	assert_int_equal(sio_dma_translate(f->dev, SIO_NO_PASID,
					   SIO_MOCK_APERTURE_LAST + 1ull,
					   SIO_DMA_WRITE, &x, &flt), -EFAULT);
	assert_int_equal(flt.reason, SIO_FAULT_APERTURE);
	/* A NULL fault is allowed. */
	assert_int_equal(sio_dma_translate(f->dev, SIO_NO_PASID, T_IOVA,
					   SIO_DMA_READ, &x, NULL), -EFAULT);
}

static void test_pasid_not_attached(void **state)
{
	struct fix *f = *state;
	char *buf = t_buf(T_PG, T_PG);
	struct sio_dma_xlate x;
	struct sio_dma_fault flt;
	char out[4];

	/* The RID is attached, PASID 1 is not. */
	assert_int_equal(sio_dma_translate(f->dev, 1, T_IOVA, SIO_DMA_READ, &x, &flt),
			 -ENOENT);
	assert_fault(&flt, SIO_FAULT_NO_PASID, T_IOVA, 1, SIO_DMA_READ);
	/* Beyond the device's PASIDs, and on a device without PASIDs. */
	assert_int_equal(sio_dma_translate(f->dev, 1u << SIO_MOCK_PASID_WIDTH,
					   T_IOVA, SIO_DMA_READ, &x, &flt), -ENOENT);
	assert_int_equal(flt.reason, SIO_FAULT_NO_PASID);
	assert_int_equal(sio_dma_read(f->nopasid, 1, T_IOVA, out, 4, &flt), -ENOENT);
	assert_fault(&flt, SIO_FAULT_NO_PASID, T_IOVA, 1, SIO_DMA_READ);

	/* Attached at PASID 1: its DMA works, PASID 2 still faults. */
	strcpy(buf, "p1");
	assert_int_equal(sio_map(f->dom, T_IOVA, t_pa(buf), T_PG, SIO_PROT_READ), 0);
	assert_int_equal(sio_attach_device_pasid(f->dom, f->dev, 1, NULL), 0);
	assert_int_equal(sio_dma_read(f->dev, 1, T_IOVA, out, 3, &flt), 0);
	assert_string_equal(out, "p1");
	assert_int_equal(sio_dma_read(f->dev, 2, T_IOVA, out, 3, &flt), -ENOENT);
	sio_detach_device_pasid(f->dom, f->dev, 1);
	assert_int_equal(sio_dma_read(f->dev, 1, T_IOVA, out, 3, &flt), -ENOENT);
	assert_int_equal(sio_unmap(f->dom, T_IOVA, T_PG), T_PG);
	free(buf);
}

/* Reads and writes that cross leaves (and table pages) go page by page
 * through the right host pages, even when those are scattered. */
static void test_multi_page(void **state)
{
	struct fix *f = *state;
	enum { N = 6 };
	/* Straddles a 1 MiB boundary: leaves in two different tables. */
	const uint64_t iova = T_IOVA + (1u << 20) - 3 * T_PG;
	char *pages[N];
	char *in = malloc(N * T_PG), *out = malloc(N * T_PG);
	struct sio_dma_fault flt;

	for (int i = 0; i < N; i++) {
		/* Scattered in host memory, in reverse order. */
		pages[N - 1 - i] = t_buf(T_PG, T_PG);
	}
	for (int i = 0; i < N; i++) {
		memset(pages[i], 'a' + i, T_PG);
		assert_int_equal(sio_map(f->dom, iova + i * T_PG, t_pa(pages[i]), T_PG,
					 SIO_PROT_READ | SIO_PROT_WRITE), 0);
	}
	/* Read across all of them, starting mid-page. */
	assert_int_equal(sio_dma_read(f->dev, SIO_NO_PASID, iova + 100, out,
				      N * T_PG - 200, &flt), 0);
	for (size_t i = 0; i < N * T_PG - 200; i++)
		assert_int_equal(out[i], 'a' + (int)((i + 100) / T_PG));

	/* Write across them. */
	for (size_t i = 0; i < N * T_PG; i++)
		in[i] = (char)(i * 7 + 3);
	assert_int_equal(sio_dma_write(f->dev, SIO_NO_PASID, iova + 1, in,
				       N * T_PG - 2, &flt), 0);
	for (int i = 0; i < N; i++)
		for (size_t b = 0; b < T_PG; b++) {
			size_t off = i * T_PG + b;

			if (off == 0 || off == N * T_PG - 1)
				assert_int_equal(pages[i][b], 'a' + i);
			else
				assert_int_equal(pages[i][b], in[off - 1]);
		}

	/* A hole in the middle: the copy stops there and says where. */
	assert_int_equal(sio_unmap(f->dom, iova + 3 * T_PG, T_PG), T_PG);
	for (int i = 0; i < N; i++)
		memset(pages[i], 'a' + i, T_PG);
	memset(in, 'Z', N * T_PG);
	assert_int_equal(sio_dma_write(f->dev, SIO_NO_PASID, iova + T_PG, in,
				       4 * T_PG, &flt), -EFAULT);
	assert_fault(&flt, SIO_FAULT_NOT_MAPPED, iova + 3 * T_PG, SIO_NO_PASID,
		     SIO_DMA_WRITE);
	/* Pages before the hole were written, the one after was not. */
	assert_int_equal(pages[1][0], 'Z');
	assert_int_equal(pages[2][T_PG - 1], 'Z');
	assert_int_equal(pages[4][0], 'a' + 4);
	assert_int_equal(pages[0][T_PG - 1], 'a');

	assert_int_equal(sio_unmap(f->dom, iova, 3 * T_PG), 3 * T_PG);
	assert_int_equal(sio_unmap(f->dom, iova + 4 * T_PG, 2 * T_PG), 2 * T_PG);
	for (int i = 0; i < N; i++)
		free(pages[i]);
	free(in);
	free(out);
}

/* One mapping with large leaves: one translation covers the leaf. */
static void test_large_leaf(void **state)
{
	struct fix *f = *state;
	const size_t sz = 1u << 20;
	const uint64_t iova = T_IOVA + (4u << 20);
	unsigned char *buf = t_buf(sz, sz);
	unsigned char *out = malloc(sz);
	struct sio_dma_xlate x;

	for (size_t i = 0; i < sz; i++)
		buf[i] = (unsigned char)(i ^ (i >> 8));
	assert_int_equal(sio_map(f->dom, iova, t_pa(buf), sz, SIO_PROT_READ), 0);
	assert_int_equal(sio_dma_translate(f->dev, SIO_NO_PASID, iova + 10,
					   SIO_DMA_READ, &x, NULL), 0);
	assert_ptr_equal(x.host, buf + 10);
	assert_true(x.len >= T_PG - 10);
	assert_int_equal(sio_dma_read(f->dev, SIO_NO_PASID, iova, out, sz, NULL), 0);
	assert_memory_equal(out, buf, sz);
	assert_int_equal(sio_unmap(f->dom, iova, sz), (ssize_t)sz);
	free(buf);
	free(out);
}

/* A nested domain translates through both stages; the mock's stage 1 is
 * the identity, so the device reaches what the parent maps and nothing
 * else. */
static void test_nested_through_parent(void **state)
{
	struct fix *f = *state;
	struct sio_mock_hwpt_data data = { .iotlb = 0 };
	struct sio_user_data ud = { .type = SIO_MOCK_HWPT_DATA, .buf = &data,
				    .len = sizeof(data) };
	struct sio_domain *parent = t_paging(f->dev, SIO_DOMAIN_ALLOC_NEST_PARENT);
	char *buf = t_buf(T_PG, T_PG);
	struct sio_domain *n = NULL;
	struct sio_dma_fault flt;
	struct sio_dma_xlate x;

	assert_int_equal(sio_domain_alloc_nested(f->dev, parent, 0, &ud, &n), 0);
	assert_int_equal(sio_replace_group(f->group, n, NULL), 0);
	assert_int_equal(sio_dma_translate(f->dev, SIO_NO_PASID, T_IOVA, SIO_DMA_READ,
					   &x, &flt), -EFAULT);
	assert_fault(&flt, SIO_FAULT_NOT_MAPPED, T_IOVA, SIO_NO_PASID, SIO_DMA_READ);
	assert_int_equal(sio_map(parent, T_IOVA, t_pa(buf), T_PG, SIO_PROT_READ), 0);
	assert_int_equal(sio_dma_translate(f->dev, SIO_NO_PASID, T_IOVA + 4,
					   SIO_DMA_READ, &x, &flt), 0);
	assert_ptr_equal(x.host, buf + 4);
	assert_int_equal(sio_dma_write(f->dev, SIO_NO_PASID, T_IOVA, "x", 1, &flt),
			 -EACCES);
	assert_int_equal(sio_replace_group(f->group, f->dom, NULL), 0);
	assert_int_equal(sio_domain_free(parent), -EBUSY);
	assert_int_equal(sio_domain_free(n), 0);
	assert_int_equal(sio_unmap(parent, T_IOVA, T_PG), (ssize_t)T_PG);
	assert_int_equal(sio_domain_free(parent), 0);
	free(buf);
}

/* A removed device's DMA fails, whatever is attached. */
static void test_removed_device(void **state)
{
	struct fix *f = *state;
	struct sio_device *dev = t_probe(f->iommu, "gone", 0, 0, SIO_MOCK_DEV_PASID);
	struct sio_domain *d = t_paging(dev, 0);
	char *buf = t_buf(T_PG, T_PG);
	struct sio_dma_fault flt;
	char out[4];

	assert_int_equal(sio_map(d, T_IOVA, t_pa(buf), T_PG, SIO_PROT_READ), 0);
	assert_int_equal(sio_attach_device(d, dev), 0);
	assert_int_equal(sio_attach_device_pasid(d, dev, 8, NULL), 0);
	assert_int_equal(sio_dma_read(dev, 8, T_IOVA, out, 4, &flt), 0);
	sio_device_remove(dev);
	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID, T_IOVA, out, 4, &flt),
			 -ENODEV);
	assert_fault(&flt, SIO_FAULT_DEVICE_GONE, T_IOVA, SIO_NO_PASID, SIO_DMA_READ);
	assert_int_equal(sio_dma_write(dev, 8, T_IOVA, out, 4, &flt), -ENODEV);
	assert_fault(&flt, SIO_FAULT_DEVICE_GONE, T_IOVA, 8, SIO_DMA_WRITE);
	/* The group went with the device and dropped both attachments. */
	assert_int_equal(sio_domain_attach_count(d), 0);
	assert_int_equal(sio_domain_free(d), 0);
	sio_device_put(dev);
	free(buf);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_blocked),
		cmocka_unit_test(test_identity),
		T(test_paging),
		T(test_permission),
		T(test_not_mapped),
		T(test_pasid_not_attached),
		T(test_multi_page),
		T(test_large_leaf),
		T(test_nested_through_parent),
		T(test_removed_device),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
