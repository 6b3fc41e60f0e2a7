/*
 * IOMMU_IOAS_MAP_FILE through sio_iommufd_ioctl(): memfds mapped by
 * offset (the kernel's argument checks and pin-time errors, truncation,
 * the mapping surviving the program closing its fd and never mapping the
 * file, MD_CHECK_REFS/MD_CHECK_MAP on the program's own view, COPY and
 * access objects on a file area, DMA through a mock domain, hugetlbfs
 * memfds), and the selftest's dmabufs (DMABUF_GET, mapping one, what
 * DMABUF_REVOKE does to DMA, to new maps and to access objects).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iommufd_helpers.h"
#include "softiommu/dma.h"
#include "softiommu/file.h"

#define RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

static long map_file(struct fx *f, uint32_t ioas, int fd, uint64_t start,
		     uint64_t len, uint64_t *iova, uint32_t flags)
{
	struct iommu_ioas_map_file c = {
		.size = sizeof(c), .flags = flags, .ioas_id = ioas, .fd = fd,
		.start = start, .length = len, .iova = *iova,
	};
	long rc = io(f, IOMMU_IOAS_MAP_FILE, &c);

	*iova = c.iova;
	return rc;
}

/* A memfd of len bytes of known content, written, never mapped. */
static int memfd_with(size_t len, unsigned int mflags)
{
	int fd = memfd_create("test-map-file", MFD_CLOEXEC | mflags);
	uint8_t *tmp = malloc(len);

	assert_true(fd >= 0);
	assert_non_null(tmp);
	for (size_t i = 0; i < len; i++)
		tmp[i] = (uint8_t)(i * 13 + i / 4096 + 5);
	assert_int_equal(pwrite(fd, tmp, len, 0), (ssize_t)len);
	free(tmp);
	return fd;
}

static uint8_t file_byte(uint64_t off)
{
	return (uint8_t)(off * 13 + off / 4096 + 5);
}

static struct sio_device *device_of(struct fx *f, uint32_t idev)
{
	struct sio_device *dev = NULL;

	assert_int_equal(sio_iommufd_device_get(f->ictx, idev, &dev), 0);
	return dev;
}

static long check_map(struct fx *f, uint32_t hwpt, uint64_t iova,
		      uint64_t len, void *p)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_MD_CHECK_MAP, .id = hwpt,
		.check_map = { .iova = iova, .length = len,
			       .uptr = (uintptr_t)p },
	};

	return io(f, IOMMU_TEST_CMD, &c);
}

static uint32_t create_access(struct fx *f, uint32_t ioas)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_CREATE_ACCESS, .id = ioas,
		.create_access = { .flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES },
	};

	assert_int_equal(io(f, IOMMU_TEST_CMD, &c), 0);
	return c.create_access.out_access_fd;
}

static long access_pages(struct fx *f, uint32_t afd, uint64_t iova,
			 uint64_t len, uint32_t *id)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_ACCESS_PAGES, .id = afd,
		.access_pages = { .iova = iova, .length = len },
	};
	long rc = io(f, IOMMU_TEST_CMD, &c);

	if (id)
		*id = c.access_pages.out_access_pages_id;
	return rc;
}

static long access_rw(struct fx *f, uint32_t afd, uint64_t iova, void *p,
		      uint64_t len, uint32_t flags)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_ACCESS_RW, .id = afd,
		.access_rw = { .iova = iova, .length = len,
			       .uptr = (uintptr_t)p, .flags = flags },
	};

	return io(f, IOMMU_TEST_CMD, &c);
}

/* ---------------------------------------------------------------- */

/*
 * The handler's checks in the kernel's order, and what iopt_map_file_pages
 * says before anything is pinned.  With no domain nothing is pinned, so a
 * file the kernel cannot pin (not memory, too short) still maps; with a
 * domain the pin says -EINVAL.
 */
static void test_map_file_args(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), stdev, hwpt;
	int fd = memfd_with(4 * PAGE, 0), pfd[2], opath, gone;
	uint64_t iova = 0;
	struct iommu_ioas_map_file c = {
		.size = sizeof(c), .flags = RW | (1u << 5), .ioas_id = ioas,
		.fd = fd, .length = PAGE,
	};

	assert_int_equal(io(f, IOMMU_IOAS_MAP_FILE, &c), -EOPNOTSUPP);
	c.flags = RW;
	c.iova = UINT64_MAX;
	assert_int_equal(io(f, IOMMU_IOAS_MAP_FILE, &c), -EOVERFLOW);
	c.iova = 0;
	c.length = UINT64_MAX;
	assert_int_equal(io(f, IOMMU_IOAS_MAP_FILE, &c), -EOVERFLOW);
	c.length = PAGE;
	c.flags = IOMMU_IOAS_MAP_FIXED_IOVA;
	assert_int_equal(io(f, IOMMU_IOAS_MAP_FILE, &c), -EINVAL);
	c.flags = RW;
	c.ioas_id = 9999;
	assert_int_equal(io(f, IOMMU_IOAS_MAP_FILE, &c), -ENOENT);

	assert_int_equal(map_file(f, ioas, fd, 0, 0, &iova, RW), -EINVAL);
	assert_int_equal(map_file(f, ioas, fd, UINT64_MAX - 5, 10, &iova, RW),
			 -EOVERFLOW);
	assert_int_equal(map_file(f, ioas, -1, 0, PAGE, &iova, RW), -EBADF);
	gone = dup(fd);
	assert_int_equal(close(gone), 0);
	assert_int_equal(map_file(f, ioas, gone, 0, PAGE, &iova, RW), -EBADF);
	opath = open("/proc/self/exe", O_PATH | O_CLOEXEC);
	assert_true(opath >= 0);
	assert_int_equal(map_file(f, ioas, opath, 0, PAGE, &iova, RW), -EBADF);
	close(opath);

	/* No domain: nothing is pinned yet, so nothing else is checked
	 * (inside the mock aperture, for the domain below). */
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	iova = MOCK_APERTURE_START;
	assert_int_equal(map_file(f, ioas, pfd[0], 0, PAGE, &iova,
				  RW | IOMMU_IOAS_MAP_FIXED_IOVA), 0);
	iova += PAGE;
	assert_int_equal(map_file(f, ioas, fd, 0, 64 * PAGE, &iova,
				  RW | IOMMU_IOAS_MAP_FIXED_IOVA), 0);
	/* ... and a domain cannot be added over them. */
	assert_int_equal(mock_domain(f, ioas, &stdev, &hwpt, NULL), -EINVAL);
	assert_int_equal(unmap(f, ioas, 0, UINT64_MAX, NULL), 0);

	/* With a domain the pin refuses at map time. */
	assert_int_equal(mock_domain(f, ioas, &stdev, &hwpt, NULL), 0);
	assert_int_equal(map_file(f, ioas, pfd[0], 0, PAGE, &iova, RW), -EINVAL);
	assert_int_equal(map_file(f, ioas, fd, 0, 4 * PAGE + 1, &iova, RW),
			 -EINVAL);
	assert_int_equal(map_file(f, ioas, fd, 4 * PAGE, 1, &iova, RW), -EINVAL);
	assert_int_equal(map_file(f, ioas, fd, 0, 4 * PAGE, &iova, RW), 0);
	/* Truncated: the file has no pages left to map. */
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(map_file(f, ioas, fd, 0, PAGE, &iova, RW), -EINVAL);
	/* A size that ends inside a page: only whole pages can be pinned. */
	assert_int_equal(ftruncate(fd, 2 * PAGE + 1), 0);
	assert_int_equal(map_file(f, ioas, fd, PAGE, PAGE + 1, &iova, RW),
			 -EINVAL);
	assert_int_equal(map_file(f, ioas, fd, PAGE, PAGE, &iova, RW), 0);

	assert_int_equal(destroy(f, stdev), 0);
	close(pfd[0]);
	close(pfd[1]);
	close(fd);
}

/*
 * A memfd the program never maps and closes after MAP_FILE: the device
 * reads and writes the file's pages through the domain, at an offset that
 * is not page aligned.
 */
static void test_map_file_dma_after_close(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), stdev, hwpt, idev;
	int fd = memfd_with(8 * PAGE, 0), keep = dup(fd);
	/* Inside a page, at the mock domain's page size (PAGE / 2). */
	uint64_t start = 2 * PAGE + PAGE / 2, iova = 0;
	struct sio_device *dev;
	uint8_t got[300], b;

	assert_int_equal(mock_domain(f, ioas, &stdev, &hwpt, &idev), 0);
	dev = device_of(f, idev);
	assert_int_equal(map_file(f, ioas, fd, start, 3 * PAGE, &iova, RW), 0);
	assert_int_equal(close(fd), 0);

	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID, iova + PAGE - 100,
				      got, sizeof(got), NULL), 0);
	for (size_t i = 0; i < sizeof(got); i++)
		assert_int_equal(got[i], file_byte(start + PAGE - 100 + i));
	got[0] = 0xee;
	assert_int_equal(sio_dma_write(dev, SIO_NO_PASID, iova + 10, got, 1,
				       NULL), 0);
	assert_int_equal(pread(keep, &b, 1, (off_t)(start + 10)), 1);
	assert_int_equal(b, 0xee);
	/* Outside the mapping the device faults. */
	assert_true(sio_dma_read(dev, SIO_NO_PASID, iova + 3 * PAGE, got, 1,
				 NULL) < 0);

	assert_int_equal(unmap(f, ioas, iova, 3 * PAGE, NULL), 0);
	assert_true(sio_dma_read(dev, SIO_NO_PASID, iova, got, 1, NULL) < 0);
	sio_device_put(dev);
	assert_int_equal(destroy(f, stdev), 0);
	close(keep);
}

/*
 * The program's own shared view of the file: MD_CHECK_REFS counts the file
 * pages an area pins at the view's addresses (and only those), MD_CHECK_MAP
 * finds the view's bytes behind the domain.  A read-only MAP_FILE may not
 * be mapped writable by COPY (-EPERM).
 */
static void test_map_file_refs(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), stdev, hwpt;
	int fd = memfd_with(8 * PAGE, 0);
	uint8_t *view = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			     fd, 0);
	uint64_t iova = 0, iova2 = 0;

	assert_true(view != MAP_FAILED);
	assert_int_equal(mock_domain(f, ioas, &stdev, &hwpt, NULL), 0);
	assert_int_equal(check_refs(f, view, 8 * PAGE, 0), 0);
	assert_int_equal(map_file(f, ioas, fd, 2 * PAGE, 3 * PAGE, &iova,
				  IOMMU_IOAS_MAP_READABLE), 0);
	assert_int_equal(check_refs(f, view + 2 * PAGE, 3 * PAGE, 1), 0);
	assert_int_equal(check_refs(f, view, 2 * PAGE, 0), 0);
	assert_int_equal(check_refs(f, view + 5 * PAGE, 3 * PAGE, 0), 0);
	assert_int_equal(check_map(f, hwpt, iova, 3 * PAGE, view + 2 * PAGE), 0);
	assert_int_equal(check_map(f, hwpt, iova, PAGE, view), -EINVAL);
	/* The program writes through its view: the device sees it. */
	view[2 * PAGE + 1] ^= 0xff;
	assert_int_equal(check_map(f, hwpt, iova, PAGE, view + 2 * PAGE), 0);
	/* A second area over the same pages: two pins. */
	assert_int_equal(map_file(f, ioas, fd, 2 * PAGE, PAGE, &iova2,
				  IOMMU_IOAS_MAP_READABLE), 0);
	assert_int_equal(check_refs(f, view + 2 * PAGE, PAGE, 2), 0);
	{
		struct iommu_ioas_copy c = {
			.size = sizeof(c), .flags = RW, .dst_ioas_id = ioas,
			.src_ioas_id = ioas, .length = PAGE, .src_iova = iova,
		};

		assert_int_equal(io(f, IOMMU_IOAS_COPY, &c), -EPERM);
	}
	assert_int_equal(unmap(f, ioas, 0, UINT64_MAX, NULL), 0);
	assert_int_equal(check_refs(f, view, 8 * PAGE, 0), 0);
	assert_int_equal(destroy(f, stdev), 0);
	munmap(view, 8 * PAGE);
	close(fd);
}

/*
 * A file area in an IOAS with no domain, used by an access object (pins and
 * reads through the file, with or without the slow-path flag) and copied
 * into an IOAS with a domain, whose device then reads the file.
 */
static void test_map_file_copy_and_access(void **state)
{
	struct fx *f = *state;
	uint32_t src = ioas_alloc(f), dst = ioas_alloc(f), stdev, hwpt, idev;
	uint32_t afd, pages_id;
	int fd = memfd_with(4 * PAGE, 0);
	uint64_t iova = 0;
	struct iommu_ioas_copy c = {
		.size = sizeof(c), .flags = RW | IOMMU_IOAS_MAP_FIXED_IOVA,
		.dst_ioas_id = dst, .src_ioas_id = src, .length = 4 * PAGE,
		.dst_iova = MOCK_APERTURE_START,
	};
	struct sio_device *dev;
	uint8_t got[64];

	assert_int_equal(map_file(f, src, fd, 0, 4 * PAGE, &iova, RW), 0);
	close(fd);
	afd = create_access(f, src);
	assert_int_equal(access_pages(f, afd, iova, 4 * PAGE, &pages_id), 0);
	for (uint32_t flags = 0; flags <= MOCK_ACCESS_RW_SLOW_PATH;
	     flags += MOCK_ACCESS_RW_SLOW_PATH) {
		memset(got, 0, sizeof(got));
		assert_int_equal(access_rw(f, afd, iova + PAGE + 7, got,
					   sizeof(got), flags), 0);
		for (size_t i = 0; i < sizeof(got); i++)
			assert_int_equal(got[i], file_byte(PAGE + 7 + i));
	}

	assert_int_equal(mock_domain(f, dst, &stdev, &hwpt, &idev), 0);
	c.src_iova = iova;
	assert_int_equal(io(f, IOMMU_IOAS_COPY, &c), 0);
	dev = device_of(f, idev);
	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID,
				      MOCK_APERTURE_START + 3 * PAGE, got,
				      sizeof(got), NULL), 0);
	for (size_t i = 0; i < sizeof(got); i++)
		assert_int_equal(got[i], file_byte(3 * PAGE + i));
	/* A write by the device is what the access object reads. */
	got[0] = 0x3c;
	assert_int_equal(sio_dma_write(dev, SIO_NO_PASID, MOCK_APERTURE_START,
				       got, 1, NULL), 0);
	assert_int_equal(access_rw(f, afd, iova, got + 1, 1, 0), 0);
	assert_int_equal(got[1], 0x3c);

	sio_device_put(dev);
	assert_int_equal(sio_file_close((int)afd), 0);
	assert_int_equal(destroy(f, stdev), 0);
	assert_int_equal(destroy(f, dst), 0);
	assert_int_equal(destroy(f, src), 0);
}

/* A hugetlbfs memfd: mapped in huge pages by the library, read by DMA. */
static void test_map_file_hugetlb(void **state)
{
	struct fx *f = *state;
	size_t hs = 2ul << 20;
	uint32_t ioas = ioas_alloc(f), stdev, hwpt, idev;
	struct sio_device *dev;
	uint64_t iova = 0;
	uint8_t got[16], b = 0x5e;
	int fd;

	/* No 2 MiB pages on this machine (or none free): skip. */
	fd = memfd_create("test-map-file-huge", MFD_CLOEXEC | MFD_HUGETLB);
	if (fd < 0 || ftruncate(fd, (off_t)(2 * hs))) {
		if (fd >= 0)
			close(fd);
		skip();
		return;
	}
	{
		/* hugetlbfs has no write(2): through a mapping, dropped.  The
		 * shared mapping reserves both huge pages or fails. */
		uint8_t *v = mmap(NULL, 2 * hs, PROT_READ | PROT_WRITE,
				  MAP_SHARED, fd, 0);

		if (v == MAP_FAILED) {
			close(fd);
			skip();
			return;
		}
		v[hs + PAGE + 5] = b;
		assert_int_equal(munmap(v, 2 * hs), 0);
	}
	assert_int_equal(mock_domain(f, ioas, &stdev, &hwpt, &idev), 0);
	assert_int_equal(map_file(f, ioas, fd, hs + PAGE, 4 * PAGE, &iova, RW),
			 0);
	assert_int_equal(map_file(f, ioas, fd, hs, hs + PAGE, &iova, RW),
			 -EINVAL);
	close(fd);
	dev = device_of(f, idev);
	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID, iova, got, sizeof(got),
				      NULL), 0);
	assert_int_equal(got[5], 0x5e);
	assert_int_equal(got[4], 0);
	sio_device_put(dev);
	assert_int_equal(destroy(f, stdev), 0);
}

/* ---------------------------------------------------------------- */
/* dmabuf                                                             */
/* ---------------------------------------------------------------- */

static long dmabuf_get(struct fx *f, uint32_t len)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_DMABUF_GET,
		.dmabuf_get = { .length = len, .open_flags = O_CLOEXEC },
	};

	return io(f, IOMMU_TEST_CMD, &c);
}

static long dmabuf_revoke(struct fx *f, int fd, bool revoked)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_DMABUF_REVOKE,
		.dmabuf_revoke = { .dmabuf_fd = fd, .revoked = revoked },
	};

	return io(f, IOMMU_TEST_CMD, &c);
}

/* DMABUF_GET's limits and the fd it returns. */
static void test_dmabuf_get(void **state)
{
	struct fx *f = *state;
	struct sio_file *file;
	void *addr = NULL;
	long dfd;
	int memfd;

	assert_int_equal(dmabuf_get(f, 0), -EINVAL);
	assert_int_equal(dmabuf_get(f, (uint32_t)(512 * PAGE + 1)), -EINVAL);
	dfd = dmabuf_get(f, (uint32_t)(512 * PAGE));
	assert_true(dfd > 0);
	assert_int_equal(sio_file_close((int)dfd), 0);
	dfd = dmabuf_get(f, 1);
	assert_true(dfd > 0);
	file = sio_file_lookup((int)dfd);
	assert_non_null(file);
	/* The mock exporter cannot be mapped by the program. */
	assert_int_equal(sio_file_mmap(file, &addr, PAGE, PROT_READ, MAP_SHARED,
				       0), -EINVAL);
	sio_file_put(file);
	/* REVOKE of what is not a dmabuf. */
	assert_int_equal(dmabuf_revoke(f, -1, true), -EBADF);
	memfd = memfd_create("not-a-dmabuf", MFD_CLOEXEC);
	assert_int_equal(dmabuf_revoke(f, memfd, true), -EINVAL);
	close(memfd);
	assert_int_equal(sio_file_close((int)dfd), 0);
}

/*
 * A dmabuf mapped into an IOAS with a domain: the device reads and writes
 * its (zeroed) memory, also after the program closed the fd; access
 * objects cannot use it; revoking unmaps it from the domain at once (DMA
 * faults), refuses new maps with -ENODEV, and stays so for that mapping
 * after the buffer is restored, when a new map works again.
 */
static void test_dmabuf_map_revoke(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), stdev, hwpt, idev, afd;
	uint64_t iova = 0, iova2 = 0, iova3 = 0;
	size_t size = 4 * PAGE;
	struct sio_device *dev;
	uint8_t got[32], w[32];
	int dfd;

	dfd = (int)dmabuf_get(f, (uint32_t)size);
	assert_true(dfd > 0);
	assert_int_equal(map_file(f, ioas, dfd, 0, 0, &iova, RW), -EINVAL);
	assert_int_equal(map_file(f, ioas, dfd, size, size, &iova, RW), -EINVAL);
	assert_int_equal(map_file(f, ioas, dfd, 0, size + 1, &iova, RW),
			 -EINVAL);
	assert_int_equal(mock_domain(f, ioas, &stdev, &hwpt, &idev), 0);
	dev = device_of(f, idev);
	assert_int_equal(map_file(f, ioas, dfd, PAGE, 2 * PAGE, &iova, RW), 0);

	memset(got, 0xff, sizeof(got));
	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID, iova, got, sizeof(got),
				      NULL), 0);
	for (size_t i = 0; i < sizeof(got); i++)
		assert_int_equal(got[i], 0);
	memset(w, 0xa5, sizeof(w));
	assert_int_equal(sio_dma_write(dev, SIO_NO_PASID, iova + PAGE, w,
				       sizeof(w), NULL), 0);

	/* A second map of the same memory sees the device's write. */
	assert_int_equal(map_file(f, ioas, dfd, 0, size, &iova2, RW), 0);
	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID, iova2 + 2 * PAGE, got,
				      sizeof(got), NULL), 0);
	assert_memory_equal(got, w, sizeof(got));

	/* Access objects are refused. */
	afd = create_access(f, ioas);
	assert_int_equal(access_pages(f, afd, iova, PAGE, NULL), -EINVAL);
	assert_int_equal(access_rw(f, afd, iova, got, 8, 0), -EINVAL);
	assert_int_equal(sio_file_close((int)afd), 0);

	/* The mapping holds the buffer after the program's close. */
	assert_int_equal(sio_file_close(dfd), 0);
	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID, iova + PAGE, got,
				      sizeof(got), NULL), 0);
	assert_memory_equal(got, w, sizeof(got));
	assert_int_equal(unmap(f, ioas, 0, UINT64_MAX, NULL), 0);

	/* Revocation. */
	dfd = (int)dmabuf_get(f, (uint32_t)size);
	assert_true(dfd > 0);
	assert_int_equal(map_file(f, ioas, dfd, 0, size, &iova, RW), 0);
	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID, iova, got, 1, NULL), 0);
	assert_int_equal(dmabuf_revoke(f, dfd, true), 0);
	assert_true(sio_dma_read(dev, SIO_NO_PASID, iova, got, 1, NULL) < 0);
	assert_true(sio_dma_write(dev, SIO_NO_PASID, iova, w, 1, NULL) < 0);
	assert_int_equal(map_file(f, ioas, dfd, 0, size, &iova2, RW), -ENODEV);
	/* A domain added now gets nothing mapped for the revoked area. */
	{
		uint32_t stdev2, hwpt2, idev2;
		struct sio_device *dev2;

		assert_int_equal(mock_domain(f, ioas, &stdev2, &hwpt2, &idev2), 0);
		dev2 = device_of(f, idev2);
		assert_true(sio_dma_read(dev2, SIO_NO_PASID, iova, got, 1,
					 NULL) < 0);
		sio_device_put(dev2);
		assert_int_equal(destroy(f, stdev2), 0);
	}
	/* Restored: new maps work, the revoked one stays cut off. */
	assert_int_equal(dmabuf_revoke(f, dfd, false), 0);
	assert_int_equal(map_file(f, ioas, dfd, 0, size, &iova3, RW), 0);
	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID, iova3, got, 1, NULL), 0);
	assert_true(sio_dma_read(dev, SIO_NO_PASID, iova, got, 1, NULL) < 0);
	assert_int_equal(unmap(f, ioas, iova, size, NULL), 0);
	assert_int_equal(map_file(f, ioas, dfd, 0, size, &iova,
				  RW | IOMMU_IOAS_MAP_FIXED_IOVA), 0);
	assert_int_equal(sio_dma_read(dev, SIO_NO_PASID, iova, got, 1, NULL), 0);

	sio_device_put(dev);
	assert_int_equal(destroy(f, stdev), 0);
	assert_int_equal(sio_file_close(dfd), 0);
	assert_int_equal(destroy(f, ioas), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_map_file_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_file_dma_after_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_file_refs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_file_copy_and_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_file_hugetlb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dmabuf_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dmabuf_map_revoke, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
