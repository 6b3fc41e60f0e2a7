/*
 * `softiommu demo --migrate`: a VMM's pre-copy live migration of guest RAM
 * that a device keeps writing by DMA, with iommufd dirty tracking.
 *
 * The VMM embeds softiommu: it drives its /dev/iommu context with the
 * iommufd ioctls (sio_iommufd_ioctl, the same bytes a program passes to
 * ioctl(2)), and its device model DMAs through the IOMMU from a thread of
 * its own (sio_dma_write), as an emulated NIC or disk would.  The loop:
 *   1. turn dirty tracking on (HWPT_SET_DIRTY_TRACKING) and copy all RAM;
 *   2. each round, read and clear the dirty bitmap (HWPT_GET_DIRTY_BITMAP)
 *      and copy only the pages the device dirtied since the last round;
 *      the device slows down each round, as auto-converge throttles it;
 *   3. once a round is small enough, stop the device, copy the last dirty
 *      pages, and check the destination equals the source page for page.
 * If dirty tracking missed a single write, step 3 says which page differs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "softiommu/softiommu.h"
#include "softiommu/dma.h"
#include "softiommu/iommufd.h"
#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/iommufd_test.h"

#define RAM_PAGES 2048u
#define PAGE_SZ 4096u
#define RAM_SIZE ((size_t)RAM_PAGES * PAGE_SZ)
#define GUEST_IOVA ((uint64_t)MOCK_APERTURE_START)
#define MAX_ROUNDS 12
#define CONVERGED_PAGES 32u
#define ROUND_MS 20

struct migration {
	struct sio_iommufd_host *host;
	struct sio_iommufd *ictx;
	struct sio_device *dev;
	uint32_t ioas, stdev, idev, hwpt;
	unsigned char *ram, *dest;
	uint64_t bitmap[RAM_PAGES / 64];
	/* The device model: writes per millisecond (atomic; 0 stops it). */
	unsigned int rate;
	bool stop;			/* atomic */
	unsigned long writes;		/* the device thread's own count */
	int dev_err;			/* the device thread's first error */
};

static int ioctl_ok(struct migration *m, unsigned int cmd, void *arg,
		    const char *what)
{
	long rc = sio_iommufd_ioctl(m->ictx, cmd, (unsigned long)arg);

	if (rc < 0)
		fprintf(stderr, "migrate: %s: %s (%s)\n", what, strerror((int)-rc),
			sio_last_error());
	return (int)rc;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* The device: writes a record (its sequence number) into pseudo-random
 * guest pages through the IOMMU, rate writes per millisecond. */
static void *device_model(void *arg)
{
	struct migration *m = arg;
	uint64_t x = 0x9e3779b97f4a7c15ull;

	while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
		unsigned int rate = __atomic_load_n(&m->rate, __ATOMIC_RELAXED);

		for (unsigned int i = 0; i < rate; i++) {
			uint64_t seq = ++m->writes, page, off;
			struct sio_dma_fault f;
			int rc;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* A hot set of 64 pages takes half the writes. */
			page = (x & 1) ? (x >> 8) % 64 : (x >> 8) % RAM_PAGES;
			off = (x >> 32) % (PAGE_SZ - sizeof(seq));
			rc = sio_dma_write(m->dev, SIO_NO_PASID,
					   GUEST_IOVA + page * PAGE_SZ + off, &seq,
					   sizeof(seq), &f);
			if (rc) {
				m->dev_err = rc;
				return NULL;
			}
		}
		sleep_ms(1);
	}
	return NULL;
}

static int setup(struct migration *m)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_option huge = {
		.size = sizeof(huge), .option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_SET, .val64 = 0,
	};
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.length = RAM_SIZE, .iova = GUEST_IOVA,
	};
	struct iommu_test_cmd mock = { .size = sizeof(mock),
				       .op = IOMMU_TEST_OP_MOCK_DOMAIN };
	struct iommu_hwpt_alloc hwpt = {
		.size = sizeof(hwpt), .flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
	};
	struct iommu_test_cmd replace = {
		.size = sizeof(replace), .op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
	};

	if (sio_iommufd_host_create(&m->host) ||
	    sio_iommufd_open(m->host, &m->ictx)) {
		fprintf(stderr, "migrate: %s\n", sio_last_error());
		return -1;
	}
	m->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	m->dest = malloc(RAM_SIZE);
	if (m->ram == MAP_FAILED || !m->dest) {
		perror("migrate: guest RAM");
		return -1;
	}
	for (size_t i = 0; i < RAM_SIZE; i++)
		m->ram[i] = (unsigned char)(i * 131 + 7);

	if (ioctl_ok(m, IOMMU_IOAS_ALLOC, &alloc, "IOAS_ALLOC") < 0)
		return -1;
	m->ioas = alloc.out_ioas_id;
	/* One bit per CPU page: map in 4 KiB leaves, no huge pages. */
	huge.object_id = m->ioas;
	map.ioas_id = m->ioas;
	map.user_va = (uintptr_t)m->ram;
	if (ioctl_ok(m, IOMMU_OPTION, &huge, "OPTION_HUGE_PAGES") < 0 ||
	    ioctl_ok(m, IOMMU_IOAS_MAP, &map, "IOAS_MAP") < 0)
		return -1;
	mock.id = m->ioas;
	if (ioctl_ok(m, IOMMU_TEST_CMD, &mock, "MOCK_DOMAIN") < 0)
		return -1;
	m->stdev = mock.mock_domain.out_stdev_id;
	m->idev = mock.mock_domain.out_idev_id;
	hwpt.dev_id = m->idev;
	hwpt.pt_id = m->ioas;
	if (ioctl_ok(m, IOMMU_HWPT_ALLOC, &hwpt, "HWPT_ALLOC(DIRTY_TRACKING)") < 0)
		return -1;
	m->hwpt = hwpt.out_hwpt_id;
	replace.id = m->stdev;
	replace.mock_domain_replace.pt_id = m->hwpt;
	if (ioctl_ok(m, IOMMU_TEST_CMD, &replace, "attach to the dirty HWPT") < 0)
		return -1;
	if (sio_iommufd_device_get(m->ictx, m->idev, &m->dev)) {
		fprintf(stderr, "migrate: %s\n", sio_last_error());
		return -1;
	}
	printf("guest RAM: %u pages of %u KiB at IOVA %#llx, device %u on "
	       "HWPT %u (dirty tracking capable)\n",
	       RAM_PAGES, PAGE_SZ / 1024, (unsigned long long)GUEST_IOVA,
	       m->idev, m->hwpt);
	return 0;
}

static int set_tracking(struct migration *m, bool on)
{
	struct iommu_hwpt_set_dirty_tracking cmd = {
		.size = sizeof(cmd), .hwpt_id = m->hwpt,
		.flags = on ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0,
	};

	return ioctl_ok(m, IOMMU_HWPT_SET_DIRTY_TRACKING, &cmd,
			"HWPT_SET_DIRTY_TRACKING");
}

/* Read and clear the bitmap, copy the dirty pages; returns their number. */
static long copy_dirty(struct migration *m)
{
	struct iommu_hwpt_get_dirty_bitmap cmd = {
		.size = sizeof(cmd), .hwpt_id = m->hwpt, .iova = GUEST_IOVA,
		.length = RAM_SIZE, .page_size = PAGE_SZ,
		.data = (uintptr_t)m->bitmap,
	};
	long n = 0;

	memset(m->bitmap, 0, sizeof(m->bitmap));
	if (ioctl_ok(m, IOMMU_HWPT_GET_DIRTY_BITMAP, &cmd,
		     "HWPT_GET_DIRTY_BITMAP") < 0)
		return -1;
	for (unsigned int p = 0; p < RAM_PAGES; p++) {
		if (!(m->bitmap[p / 64] >> (p % 64) & 1))
			continue;
		memcpy(m->dest + (size_t)p * PAGE_SZ,
		       m->ram + (size_t)p * PAGE_SZ, PAGE_SZ);
		n++;
	}
	return n;
}

static int migrate(struct migration *m)
{
	pthread_t device;
	unsigned int rate = 64;
	long dirty = RAM_PAGES;
	int round;

	__atomic_store_n(&m->rate, rate, __ATOMIC_RELAXED);
	if (pthread_create(&device, NULL, device_model, m)) {
		perror("migrate: device thread");
		return -1;
	}
	sleep_ms(ROUND_MS);
	printf("device: DMA writes running, %u per ms\n", rate);

	if (set_tracking(m, true) < 0)
		goto fail;
	memcpy(m->dest, m->ram, RAM_SIZE);
	printf("round  0: dirty tracking on, copied all %u pages\n", RAM_PAGES);

	for (round = 1; round <= MAX_ROUNDS; round++) {
		sleep_ms(ROUND_MS);
		dirty = copy_dirty(m);
		if (dirty < 0)
			goto fail;
		printf("round %2d: %4ld dirty pages (%5.1f%% of RAM) copied; "
		       "device at %u writes/ms\n",
		       round, dirty, 100.0 * (double)dirty / RAM_PAGES, rate);
		if (dirty <= (long)CONVERGED_PAGES)
			break;
		rate = rate > 1 ? rate / 2 : 1;	/* auto-converge */
		__atomic_store_n(&m->rate, rate, __ATOMIC_RELAXED);
	}
	printf("%s: stopping the device for the last copy\n",
	       dirty <= (long)CONVERGED_PAGES ? "converged" : "round limit");
	__atomic_store_n(&m->stop, true, __ATOMIC_RELEASE);
	pthread_join(device, NULL);
	if (m->dev_err) {
		fprintf(stderr, "migrate: device DMA failed: %s\n",
			strerror(-m->dev_err));
		return -1;
	}
	dirty = copy_dirty(m);
	if (dirty < 0 || set_tracking(m, false) < 0)
		return -1;
	printf("stop-and-copy: %ld dirty pages copied; the device made %lu "
	       "writes in all\n", dirty, m->writes);

	for (unsigned int p = 0; p < RAM_PAGES; p++) {
		if (memcmp(m->dest + (size_t)p * PAGE_SZ,
			   m->ram + (size_t)p * PAGE_SZ, PAGE_SZ)) {
			fprintf(stderr, "migrate: page %u differs: a write was "
				"not reported dirty\n", p);
			return -1;
		}
	}
	printf("destination matches the source: all %u pages identical\n",
	       RAM_PAGES);
	return 0;

fail:
	__atomic_store_n(&m->stop, true, __ATOMIC_RELEASE);
	pthread_join(device, NULL);
	return -1;
}

int demo_migrate(void)
{
	struct migration m = { 0 };
	int rc;

	printf("softiommu demo --migrate: pre-copy live migration with "
	       "iommufd dirty tracking\n");
	rc = setup(&m);
	if (!rc)
		rc = migrate(&m);
	if (m.dev)
		sio_device_put(m.dev);
	if (m.ictx)
		sio_iommufd_release(m.ictx);
	if (m.host)
		sio_iommufd_host_destroy(m.host);
	if (m.ram && m.ram != MAP_FAILED)
		munmap(m.ram, RAM_SIZE);
	free(m.dest);
	return rc ? 1 : 0;
}
