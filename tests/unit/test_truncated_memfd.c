/*
 * DMA to a file truncated under its IOMMU_IOAS_MAP_FILE mapping: the
 * library's own mapping of the memfd loses its pages, and the device's
 * access fails with -EFAULT and SIO_FAULT_NOT_MAPPED instead of killing
 * the program with SIGBUS (docs/umem.md).  Also sio_safe_memcpy() itself:
 * exact copies of every small length, and -EFAULT on a page with no access
 * (SIGSEGV) or past a truncated file's end (SIGBUS) in either direction.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iommufd_helpers.h"
#include "softiommu/dma.h"
#include "softiommu/mmio.h"
#include "util/safecopy.h"

#define RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

static long map_file(struct fx *f, uint32_t ioas, int fd, uint64_t len,
		     uint64_t *iova)
{
	struct iommu_ioas_map_file c = {
		.size = sizeof(c), .flags = RW, .ioas_id = ioas, .fd = fd,
		.start = 0, .length = len,
	};
	long rc = io(f, IOMMU_IOAS_MAP_FILE, &c);

	*iova = c.iova;
	return rc;
}

static void test_dma_after_truncate(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), stdev, hwpt, idev;
	int fd = memfd_create("test-truncated", MFD_CLOEXEC);
	struct sio_device *dev = NULL;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	struct sio_dma_fault flt;
	uint8_t got[64], w[64];
	uint64_t iova = 0;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(2 * PAGE)), 0);
	memset(w, 0x5a, sizeof(w));
	assert_int_equal(pwrite(fd, w, sizeof(w), (off_t)PAGE), (ssize_t)sizeof(w));

	assert_int_equal(mock_domain(f, ioas, &stdev, &hwpt, &idev), 0);
	assert_int_equal(sio_iommufd_device_get(f->ictx, idev, &dev), 0);
	assert_int_equal(map_file(f, ioas, fd, 2 * PAGE, &iova), 0);
	/* A fault the library does not take kills the test with its signal
	 * (cmocka's handler would jump out of the DMA's RCU read-side section
	 * and leave the teardown waiting for it forever). */
	assert_int_equal(sio_trap_sigaction(SIGBUS, &dfl, NULL), 0);
	assert_int_equal(sio_trap_sigaction(SIGSEGV, &dfl, NULL), 0);

	/* Once through the pages: read what the file holds, write it. */
	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID, iova + PAGE, got,
				      sizeof(got), &flt), 0);
	assert_int_equal(flt.reason, SIO_FAULT_NONE);
	assert_memory_equal(got, w, sizeof(got));
	memset(w, 0xa5, sizeof(w));
	assert_int_equal(sio_dma_write(dev, SIO_NO_PASID, iova + 8, w,
				       sizeof(w), &flt), 0);
	assert_int_equal(pread(fd, got, sizeof(got), 8), (ssize_t)sizeof(got));
	assert_memory_equal(got, w, sizeof(got));

	/* The pages go; the mapping stays and the device's access fails. */
	assert_int_equal(ftruncate(fd, 0), 0);
	memset(&flt, 0, sizeof(flt));
	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID, iova + PAGE, got,
				      sizeof(got), &flt), -EFAULT);
	assert_int_equal(flt.reason, SIO_FAULT_NOT_MAPPED);
	assert_true(flt.iova == iova + PAGE);
	assert_int_equal(flt.access, SIO_DMA_READ);
	memset(&flt, 0, sizeof(flt));
	assert_int_equal(sio_dma_write(dev, SIO_NO_PASID, iova, w, sizeof(w),
				       &flt), -EFAULT);
	assert_int_equal(flt.reason, SIO_FAULT_NOT_MAPPED);
	assert_int_equal(flt.access, SIO_DMA_WRITE);
	/* A copy that crosses pages fails at the first one. */
	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID, iova + PAGE - 10, got,
				      sizeof(got), &flt), -EFAULT);
	assert_true(flt.iova == iova + PAGE - 10);

	assert_int_equal(unmap(f, ioas, iova, 2 * PAGE, NULL), 0);
	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID, iova, got, 1, &flt),
			 -EFAULT);
	assert_int_equal(flt.reason, SIO_FAULT_NOT_MAPPED);
	sio_device_put(dev);
	assert_int_equal(destroy(f, stdev), 0);
	assert_int_equal(destroy(f, ioas), 0);
	close(fd);
}

static void test_safe_memcpy(void **state)
{
	size_t pg = PAGE;
	uint8_t src[300], dst[300];
	uint8_t *none, *file;
	int fd = memfd_create("test-safecopy", MFD_CLOEXEC);

	(void)state;
	assert_int_equal(sio_trap_install(), 0);
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 31 + 7);
	for (size_t len = 0; len < 260; len++) {
		memset(dst, 0, sizeof(dst));
		assert_int_equal(sio_safe_memcpy(dst + 3, src + 1, len), 0);
		for (size_t i = 0; i < sizeof(dst); i++)
			assert_int_equal(dst[i], i >= 3 && i < 3 + len ?
						 src[i - 2] : 0);
	}

	none = mmap(NULL, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(none != MAP_FAILED);
	assert_int_equal(sio_safe_memcpy(dst, none, 8), -EFAULT);
	assert_int_equal(sio_safe_memcpy(none + 100, src, 8), -EFAULT);
	assert_int_equal(munmap(none, pg), 0);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)pg), 0);
	file = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(file != MAP_FAILED);
	assert_int_equal(sio_safe_memcpy(file + pg - 4, src, 4), 0);
	/* Past the file's end: SIGBUS, short and long copies alike. */
	assert_int_equal(sio_safe_memcpy(file + pg - 4, src, 8), -EFAULT);
	assert_int_equal(sio_safe_memcpy(dst, file + pg - 4, 8), -EFAULT);
	assert_int_equal(sio_safe_memcpy(file + pg - 4, src, 5), -EFAULT);
	/* The 16..64-byte paths load the tail before storing anything. */
	assert_int_equal(sio_safe_memcpy(dst, file + pg - 20, 24), -EFAULT);
	assert_int_equal(sio_safe_memcpy(dst, file + pg - 40, 48), -EFAULT);
	assert_int_equal(sio_safe_memcpy(file + pg - 40, src, 64), -EFAULT);
	assert_int_equal(sio_safe_memcpy(dst, file + pg - 100, 200), -EFAULT);
	assert_int_equal(sio_safe_memcpy(file + pg - 100, src, 200), -EFAULT);
	assert_int_equal(sio_safe_memcpy(dst, file + pg - 200, 200), 0);
	assert_int_equal(munmap(file, 2 * pg), 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dma_after_truncate, setup,
						teardown),
		cmocka_unit_test(test_safe_memcpy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
