/*
 * Shared fixture of the iommufd unit tests (header-only: each test program
 * is one source): a host and a context, a 16-page buffer of known bytes,
 * and wrappers that issue the ioctls through sio_iommufd_ioctl() on
 * program memory the way a program's ioctl() does.
 */
#ifndef SIO_TEST_IOMMUFD_HELPERS_H
#define SIO_TEST_IOMMUFD_HELPERS_H

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "softiommu/softiommu.h"
#include "softiommu/file.h"
#include "softiommu/iommufd.h"
#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/iommufd_test.h"

#define PAGE ((size_t)sysconf(_SC_PAGESIZE))
#define BUFSZ (PAGE * 16)

struct fx {
	struct sio_iommufd_host *host;
	struct sio_iommufd *ictx;
	uint8_t *buf;
};

static inline long io(struct fx *f, unsigned int cmd, void *arg)
{
	return sio_iommufd_ioctl(f->ictx, cmd, (unsigned long)arg);
}

static inline int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_int_equal(sio_iommufd_host_create(&f->host), 0);
	assert_int_equal(sio_iommufd_open(f->host, &f->ictx), 0);
	f->buf = mmap(NULL, BUFSZ, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(f->buf != MAP_FAILED);
	for (size_t i = 0; i < BUFSZ; i++)
		f->buf[i] = (uint8_t)(i * 7 + 1);
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fx *f = *state;

	sio_iommufd_release(f->ictx);
	sio_iommufd_host_destroy(f->host);
	munmap(f->buf, BUFSZ);
	free(f);
	return 0;
}

static inline uint32_t ioas_alloc(struct fx *f)
{
	struct iommu_ioas_alloc c = { .size = sizeof(c) };

	assert_int_equal(io(f, IOMMU_IOAS_ALLOC, &c), 0);
	return c.out_ioas_id;
}

static inline long map(struct fx *f, uint32_t ioas, void *p, uint64_t len,
		       uint64_t *iova, uint32_t flags)
{
	struct iommu_ioas_map c = {
		.size = sizeof(c), .ioas_id = ioas,
		.flags = flags | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.user_va = (uintptr_t)p, .length = len, .iova = *iova,
	};
	long rc = io(f, IOMMU_IOAS_MAP, &c);

	*iova = c.iova;
	return rc;
}

/* HWPT_ALLOC with the selftest's nested data (IOTLB default) when nested,
 * none otherwise; fault_id is used with IOMMU_HWPT_FAULT_ID_VALID. */
static inline long hwpt_alloc(struct fx *f, uint32_t dev, uint32_t pt,
			      uint32_t flags, uint32_t fault_id,
			      bool nested, uint32_t *out)
{
	struct iommu_hwpt_selftest data = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };
	struct iommu_hwpt_alloc c = {
		.size = sizeof(c), .flags = flags, .dev_id = dev, .pt_id = pt,
		.fault_id = fault_id,
	};
	long rc;

	if (nested) {
		c.data_type = IOMMU_HWPT_DATA_SELFTEST;
		c.data_len = sizeof(data);
		c.data_uptr = (uintptr_t)&data;
	}
	rc = io(f, IOMMU_HWPT_ALLOC, &c);
	*out = c.out_hwpt_id;
	return rc;
}

static inline long unmap(struct fx *f, uint32_t ioas, uint64_t iova,
			 uint64_t len, uint64_t *out)
{
	struct iommu_ioas_unmap c = { .size = sizeof(c), .ioas_id = ioas,
				      .iova = iova, .length = len };
	long rc = io(f, IOMMU_IOAS_UNMAP, &c);

	if (out)
		*out = c.length;
	return rc;
}

static inline long destroy(struct fx *f, uint32_t id)
{
	struct iommu_destroy c = { .size = sizeof(c), .id = id };

	return io(f, IOMMU_DESTROY, &c);
}

static inline long mock_domain(struct fx *f, uint32_t pt, uint32_t *stdev,
			       uint32_t *hwpt, uint32_t *idev)
{
	struct iommu_test_cmd c = { .size = sizeof(c),
				    .op = IOMMU_TEST_OP_MOCK_DOMAIN, .id = pt };
	long rc = io(f, IOMMU_TEST_CMD, &c);

	if (stdev)
		*stdev = c.mock_domain.out_stdev_id;
	if (hwpt)
		*hwpt = c.mock_domain.out_hwpt_id;
	if (idev)
		*idev = c.mock_domain.out_idev_id;
	return rc;
}

/* MOCK_DOMAIN_REPLACE: the mock device stdev's RID to pt. */
static inline long replace(struct fx *f, uint32_t stdev, uint32_t pt)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = stdev, .mock_domain_replace = { .pt_id = pt },
	};

	return io(f, IOMMU_TEST_CMD, &c);
}

/* read() of an emulated fd (an event queue's): without the shim it goes
 * through the file layer. */
static inline ssize_t fd_read(int fd, void *buf, size_t len)
{
	struct sio_file *file = sio_file_lookup(fd);
	ssize_t n;

	assert_non_null(file);
	n = sio_file_read(file, buf, len);
	sio_file_put(file);
	return n;
}

/* Whether poll() finds the fd readable now. */
static inline bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static inline long check_refs(struct fx *f, void *p, uint64_t len,
			      uint32_t refs)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_MD_CHECK_REFS,
		.check_refs = { .length = len, .uptr = (uintptr_t)p,
				.refs = refs },
	};

	return io(f, IOMMU_TEST_CMD, &c);
}

#endif
