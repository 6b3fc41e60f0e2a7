/*
 * DMA racing unmap: device threads copy to and from IOVAs that the owner
 * maps and unmaps over and over; as soon as sio_unmap() returns the owner
 * checks that the page no longer changes, then frees it (malloc'd pages,
 * which ASan and TSan watch) or unmaps it from the process (mmap'd pages,
 * which a late copy would fault on).  Through a paging domain at the RID
 * and through a nested domain at a PASID whose parent is unmapped.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

#include "helpers.h"

#define SLOTS 4
#define ROUNDS 1500
/* A slot is many pages, so that a copy takes long enough (microseconds)
 * to still be running when an unmap that did not wait would return. */
#define SLOT (64 * 1024)
#define TAIL (SLOT - 512)	/* where a copy that began early ends */
#define RW (SIO_PROT_READ | SIO_PROT_WRITE)

struct race {
	struct sio_device *dev;
	sio_pasid_t pasid;
	struct sio_domain *unmapped;	/* the table the owner changes */
	int stop;			/* atomic */
	unsigned long ok;		/* copies that reached a page; atomic */
};

static void *device_thread(void *arg)
{
	struct race *r = arg;
	static __thread unsigned char buf[SLOT];
	unsigned long ok = 0;

	memset(buf, 'D', sizeof(buf));
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		for (int s = 0; s < SLOTS; s++) {
			uint64_t iova = T_IOVA + (uint64_t)s * SLOT;

			if (!sio_dma_write(r->dev, r->pasid, iova + 100, buf,
					   SLOT - 200, NULL))
				ok++;
			if (!sio_dma_read(r->dev, r->pasid, iova, buf, 64, NULL))
				ok++;
			memset(buf, 'D', 64);
		}
	}
	__atomic_add_fetch(&r->ok, ok, __ATOMIC_RELAXED);
	return NULL;
}

/* Map pages in every slot, unmap one at a time, check and free. */
static void owner(struct race *r)
{
	unsigned char *pages[SLOTS + 1] = { 0 };
	bool mmapped[SLOTS + 1] = { 0 };
	unsigned char snap[256];

	for (int round = 0; round < ROUNDS; round++) {
		int s = round % (SLOTS + 1);
		uint64_t iova = T_IOVA + (uint64_t)s * SLOT;

		if (!pages[s]) {
			mmapped[s] = round & 1;
			if (mmapped[s]) {
				pages[s] = mmap(NULL, SLOT, PROT_READ | PROT_WRITE,
						MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
				assert_true(pages[s] != MAP_FAILED);
			} else {
				pages[s] = t_buf(SLOT, T_PG);
			}
			memset(pages[s], 'O', SLOT);
			assert_int_equal(sio_map(r->unmapped, iova, t_pa(pages[s]),
						 SLOT, RW), 0);
			continue;
		}
		assert_int_equal(sio_unmap(r->unmapped, iova, SLOT), SLOT);
		/* No copy reaches the pages any more: they stay as they are. */
		memcpy(snap, pages[s] + TAIL, sizeof(snap));
		for (int i = 0; i < 200; i++) {
			assert_memory_equal(snap, pages[s] + TAIL, sizeof(snap));
			if (!(i % 50))
				sched_yield();
		}
		if (mmapped[s]) {
			assert_int_equal(munmap(pages[s], SLOT), 0);
		} else {
			memset(pages[s], 'F', SLOT);
			free(pages[s]);
		}
		pages[s] = NULL;
	}
	for (int s = 0; s <= SLOTS; s++) {
		if (!pages[s])
			continue;
		assert_int_equal(sio_unmap(r->unmapped, T_IOVA + (uint64_t)s * SLOT,
					   SLOT), SLOT);
		if (mmapped[s])
			munmap(pages[s], SLOT);
		else
			free(pages[s]);
	}
}

static void run(struct race *r)
{
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, device_thread, r), 0);
	owner(r);
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	/* The race was real: copies did reach mapped pages. */
	assert_true(__atomic_load_n(&r->ok, __ATOMIC_RELAXED) > 0);
}

static void test_concurrency_dma_unmap_rid(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_mock(sys, NULL);
	struct sio_device *dev = t_probe(iommu, "dev", 0, 0, SIO_MOCK_DEV_PASID);
	struct sio_domain *d = t_paging(dev, 0);
	struct race r = { .dev = dev, .pasid = SIO_NO_PASID, .unmapped = d };

	assert_int_equal(sio_attach_device(d, dev), 0);
	run(&r);
	sio_detach_device(dev);
	assert_int_equal(sio_domain_free(d), 0);
	t_unprobe(dev);
	assert_int_equal(sio_system_destroy(sys), 0);
}

static void test_concurrency_dma_unmap_nested_pasid(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_mock(sys, NULL);
	struct sio_device *dev = t_probe(iommu, "dev", 0, 0, SIO_MOCK_DEV_PASID);
	struct sio_domain *parent = t_paging(dev, SIO_DOMAIN_ALLOC_NEST_PARENT);
	struct sio_mock_hwpt_data data = { .iotlb = 0 };
	struct sio_user_data ud = { .type = SIO_MOCK_HWPT_DATA, .buf = &data,
				    .len = sizeof(data) };
	struct sio_domain *n = NULL;
	struct race r = { .dev = dev, .pasid = 11, .unmapped = parent };

	assert_int_equal(sio_domain_alloc_nested(dev, parent, 0, &ud, &n), 0);
	assert_int_equal(sio_attach_device_pasid(n, dev, 11, NULL), 0);
	run(&r);
	sio_detach_device_pasid(n, dev, 11);
	assert_int_equal(sio_domain_free(n), 0);
	assert_int_equal(sio_domain_free(parent), 0);
	t_unprobe(dev);
	assert_int_equal(sio_system_destroy(sys), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrency_dma_unmap_rid),
		cmocka_unit_test(test_concurrency_dma_unmap_nested_pasid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
