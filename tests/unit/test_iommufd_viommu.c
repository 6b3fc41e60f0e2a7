/*
 * iommufd vIOMMU objects through the ioctl ABI: VIOMMU_ALLOC (with and
 * without the mock's data, the mmap region and its errnos), nested HWPTs
 * on a vIOMMU and the vDEVICE their attach needs, VDEVICE_ALLOC with its
 * uniqueness and tombstone rules, vIOMMU cache invalidation by virtual ID,
 * vEVENTQs (read rules, overflow and the lost-events header, readiness),
 * HW queues (the mock's index rules, pinning against UNMAP, dependency);
 * and the file layer's following of mappings of an emulated file.
 *
 * Without the preload shim, fds are real eventfds (poll works on them)
 * and read goes through sio_file_read; the iommufd's mmap goes through
 * sio_iommufd_mmap/munmap, as the shim's file ops call them.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <poll.h>

#include "iommufd_helpers.h"
#include "softiommu/file.h"

#define HDR sizeof(struct iommufd_vevent_header)
#define EVT sizeof(struct iommu_viommu_event_selftest)

struct vfx {
	struct fx *f;
	uint32_t ioas, stdev, idev, parent, viommu, nested;
};

static long viommu_alloc(struct fx *f, uint32_t dev, uint32_t hwpt,
			 uint32_t type, void *data, uint32_t len, uint32_t *out)
{
	struct iommu_viommu_alloc c = {
		.size = sizeof(c), .type = type, .dev_id = dev, .hwpt_id = hwpt,
		.data_len = len, .data_uptr = (uintptr_t)data,
	};
	long rc = io(f, IOMMU_VIOMMU_ALLOC, &c);

	if (out)
		*out = c.out_viommu_id;
	return rc;
}

static long vdev_alloc(struct fx *f, uint32_t viommu, uint32_t dev,
		       uint64_t virt_id, uint32_t *out)
{
	struct iommu_vdevice_alloc c = { .size = sizeof(c), .viommu_id = viommu,
					 .dev_id = dev, .virt_id = virt_id };
	long rc = io(f, IOMMU_VDEVICE_ALLOC, &c);

	if (out)
		*out = c.out_vdevice_id;
	return rc;
}

static long veventq_alloc(struct fx *f, uint32_t viommu, uint32_t type,
			  uint32_t depth, uint32_t *id, int *fd)
{
	struct iommu_veventq_alloc c = { .size = sizeof(c), .viommu_id = viommu,
					 .type = type, .veventq_depth = depth };
	long rc = io(f, IOMMU_VEVENTQ_ALLOC, &c);

	if (id)
		*id = c.out_veventq_id;
	if (fd)
		*fd = (int)c.out_veventq_fd;
	return rc;
}

static long hw_queue_alloc(struct fx *f, uint32_t viommu, uint32_t type,
			   uint32_t index, uint64_t iova, uint64_t len,
			   uint32_t *out)
{
	struct iommu_hw_queue_alloc c = {
		.size = sizeof(c), .viommu_id = viommu, .type = type,
		.index = index, .nesting_parent_iova = iova, .length = len,
	};
	long rc = io(f, IOMMU_HW_QUEUE_ALLOC, &c);

	if (out)
		*out = c.out_hw_queue_id;
	return rc;
}

static long invalidate(struct fx *f, uint32_t id, void *reqs, uint32_t type,
		       uint32_t entry_len, uint32_t *num)
{
	struct iommu_hwpt_invalidate c = {
		.size = sizeof(c), .hwpt_id = id, .data_uptr = (uintptr_t)reqs,
		.data_type = type, .entry_len = entry_len, .entry_num = *num,
	};
	long rc = io(f, IOMMU_HWPT_INVALIDATE, &c);

	*num = c.entry_num;
	return rc;
}

static long trigger(struct fx *f, uint32_t idev)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_TRIGGER_VEVENT,
		.trigger_vevent = { .dev_id = idev },
	};

	return io(f, IOMMU_TEST_CMD, &c);
}

static long check_cache(struct fx *f, uint32_t idev, uint32_t id, uint32_t val)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_DEV_CHECK_CACHE,
		.id = idev, .check_dev_cache = { .id = id, .cache = val },
	};

	return io(f, IOMMU_TEST_CMD, &c);
}

/* The selftest's iommufd_viommu fixture: a mock device on an IOAS, a
 * nesting parent, a vIOMMU on it and a nested HWPT on the vIOMMU. */
static int vsetup(void **state)
{
	struct vfx *v = calloc(1, sizeof(*v));
	void *fs;

	setup(&fs);
	v->f = fs;
	v->ioas = ioas_alloc(v->f);
	assert_int_equal(mock_domain(v->f, v->ioas, &v->stdev, NULL, &v->idev), 0);
	assert_int_equal(hwpt_alloc(v->f, v->idev, v->ioas,
				    IOMMU_HWPT_ALLOC_NEST_PARENT, 0, false,
				    &v->parent), 0);
	assert_int_equal(viommu_alloc(v->f, v->idev, v->parent,
				      IOMMU_VIOMMU_TYPE_SELFTEST, NULL, 0,
				      &v->viommu), 0);
	assert_int_equal(hwpt_alloc(v->f, v->idev, v->viommu, 0, 0, true,
				    &v->nested), 0);
	*state = v;
	return 0;
}

static int vteardown(void **state)
{
	struct vfx *v = *state;
	void *fs = v->f;

	teardown(&fs);
	free(v);
	return 0;
}

static void test_viommu_alloc_errors(void **state)
{
	struct vfx *v = *state;
	struct fx *f = v->f;
	struct iommu_viommu_alloc c = { .size = sizeof(c), .flags = 1,
					.type = IOMMU_VIOMMU_TYPE_SELFTEST,
					.dev_id = v->idev, .hwpt_id = v->parent };
	uint32_t plain, id;

	assert_int_equal(io(f, IOMMU_VIOMMU_ALLOC, &c), -EOPNOTSUPP);
	assert_int_equal(viommu_alloc(f, v->idev, v->parent,
				      IOMMU_VIOMMU_TYPE_DEFAULT, NULL, 0, NULL),
			 -EOPNOTSUPP);
	assert_int_equal(viommu_alloc(f, v->idev, v->parent, 0xdead, NULL, 0,
				      NULL), -EOPNOTSUPP);
	assert_int_equal(viommu_alloc(f, 9999, v->parent,
				      IOMMU_VIOMMU_TYPE_SELFTEST, NULL, 0, NULL),
			 -ENOENT);
	assert_int_equal(viommu_alloc(f, v->idev, 0, IOMMU_VIOMMU_TYPE_SELFTEST,
				      NULL, 0, NULL), -ENOENT);
	/* A HWPT that is not a nesting parent; an IOAS is no HWPT. */
	assert_int_equal(hwpt_alloc(f, v->idev, v->ioas, 0, 0, false, &plain), 0);
	assert_int_equal(viommu_alloc(f, v->idev, plain,
				      IOMMU_VIOMMU_TYPE_SELFTEST, NULL, 0, NULL),
			 -EINVAL);
	assert_int_equal(viommu_alloc(f, v->idev, v->ioas,
				      IOMMU_VIOMMU_TYPE_SELFTEST, NULL, 0, NULL),
			 -ENOENT);
	assert_int_equal(destroy(f, plain), 0);
	/* Data of the wrong length, or unreadable. */
	assert_int_equal(viommu_alloc(f, v->idev, v->parent,
				      IOMMU_VIOMMU_TYPE_SELFTEST, f->buf, 4,
				      NULL), -EINVAL);
	assert_int_equal(viommu_alloc(f, v->idev, v->parent,
				      IOMMU_VIOMMU_TYPE_SELFTEST, (void *)8, 8,
				      NULL), -EFAULT);
	/* The parent and the vIOMMU are busy while used; a second vIOMMU
	 * on the same parent is fine. */
	assert_int_equal(destroy(f, v->parent), -EBUSY);
	assert_int_equal(destroy(f, v->viommu), -EBUSY);
	assert_int_equal(viommu_alloc(f, v->idev, v->parent,
				      IOMMU_VIOMMU_TYPE_SELFTEST, NULL, 0, &id),
			 0);
	assert_int_equal(destroy(f, id), 0);
	assert_int_equal(destroy(f, v->nested), 0);
	assert_int_equal(destroy(f, v->viommu), 0);
	assert_int_equal(destroy(f, v->parent), 0);
}

static void test_viommu_data_and_mmap(void **state)
{
	struct vfx *v = *state;
	struct fx *f = v->f;
	struct iommu_viommu_selftest data = { .in_data = 0xbeef };
	uint64_t ps = PAGE;
	uint32_t id;
	void *p = NULL;
	off_t off;
	size_t len;

	assert_int_equal(viommu_alloc(f, v->idev, v->parent,
				      IOMMU_VIOMMU_TYPE_SELFTEST, &data,
				      sizeof(data), &id), 0);
	assert_int_equal(data.out_data, 0xbeef);
	assert_int_equal(data.out_mmap_length, 2 * ps);
	assert_true(data.out_mmap_offset >= ps);
	off = (off_t)data.out_mmap_offset;
	len = data.out_mmap_length;

	/* Only the region exactly, shared, not executable. */
	assert_int_equal(sio_iommufd_mmap(f->ictx, &p, len, PROT_READ,
					  MAP_SHARED, off + (off_t)ps), -ENXIO);
	assert_int_equal(sio_iommufd_mmap(f->ictx, &p, len, PROT_READ,
					  MAP_SHARED, off + 2 * (off_t)ps),
			 -ENXIO);
	assert_int_equal(sio_iommufd_mmap(f->ictx, &p, len / 2, PROT_READ,
					  MAP_SHARED, off), -ENXIO);
	assert_int_equal(sio_iommufd_mmap(f->ictx, &p, len * 2, PROT_READ,
					  MAP_SHARED, off), -ENXIO);
	assert_int_equal(sio_iommufd_mmap(f->ictx, &p, len, PROT_READ,
					  MAP_PRIVATE, off), -EINVAL);
	assert_int_equal(sio_iommufd_mmap(f->ictx, &p, len,
					  PROT_READ | PROT_EXEC, MAP_SHARED,
					  off), -EPERM);

	assert_int_equal(sio_iommufd_mmap(f->ictx, &p, len,
					  PROT_READ | PROT_WRITE, MAP_SHARED,
					  off), 0);
	assert_int_equal(*(uint32_t *)p, 0xbeef);
	/* The owner of a mapped region stays. */
	assert_int_equal(destroy(f, id), -EBUSY);
	munmap(p, len);
	sio_iommufd_munmap(f->ictx, p, len, off);
	assert_int_equal(destroy(f, id), 0);
	/* The region went with it. */
	assert_int_equal(sio_iommufd_mmap(f->ictx, &p, len, PROT_READ,
					  MAP_SHARED, off), -ENXIO);
}

static void test_nested_on_viommu(void **state)
{
	struct vfx *v = *state;
	struct fx *f = v->f;
	uint32_t hwpt, vdev, num = 0;

	/* Flags and data as for any nested HWPT. */
	assert_int_equal(hwpt_alloc(f, v->idev, v->viommu, 1u << 31, 0, true,
				    &hwpt), -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc(f, v->idev, v->viommu, 0, 0, false, &hwpt),
			 -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc(f, v->idev, v->viommu,
				    IOMMU_HWPT_ALLOC_PASID, 0, true, &hwpt), 0);
	assert_int_equal(destroy(f, hwpt), 0);
	/* Its own invalidation is the nested domain's IOTLB. */
	assert_int_equal(invalidate(f, v->nested, f->buf,
				    IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
				    sizeof(struct iommu_hwpt_invalidate_selftest),
				    &num), 0);

	/* The attach needs the device's vDEVICE on that vIOMMU. */
	assert_int_equal(replace(f, v->stdev, v->nested), -ENOENT);
	assert_int_equal(vdev_alloc(f, v->viommu, v->idev, 0x99, &vdev), 0);
	assert_int_equal(replace(f, v->stdev, v->nested), 0);
	assert_int_equal(destroy(f, v->nested), -EBUSY);
	assert_int_equal(destroy(f, v->viommu), -EBUSY);
	assert_int_equal(replace(f, v->stdev, v->ioas), 0);
	assert_int_equal(destroy(f, vdev), 0);
	assert_int_equal(destroy(f, v->nested), 0);
	assert_int_equal(destroy(f, v->viommu), 0);
}

static void test_vdevice_rules(void **state)
{
	struct vfx *v = *state;
	struct fx *f = v->f;
	uint32_t vdev, stdev2, idev2, next;

	assert_int_equal(vdev_alloc(f, 9999, v->idev, 1, NULL), -ENOENT);
	assert_int_equal(vdev_alloc(f, v->viommu, 9999, 1, NULL), -ENOENT);
	assert_int_equal(vdev_alloc(f, v->parent, v->idev, 1, NULL), -ENOENT);
	assert_int_equal(vdev_alloc(f, v->viommu, v->idev, 0x99, &vdev), 0);
	/* One per device, one device per virtual ID. */
	assert_int_equal(vdev_alloc(f, v->viommu, v->idev, 0x88, NULL), -EEXIST);
	assert_int_equal(mock_domain(f, v->ioas, &stdev2, NULL, &idev2), 0);
	assert_int_equal(vdev_alloc(f, v->viommu, idev2, 0x99, NULL), -EEXIST);
	assert_int_equal(vdev_alloc(f, v->viommu, idev2, 0x88, NULL), 0);
	/* The vIOMMU is held by its vDEVICEs. */
	assert_int_equal(destroy(f, v->viommu), -EBUSY);
	assert_int_equal(destroy(f, vdev), 0);
	assert_int_equal(vdev_alloc(f, v->viommu, v->idev, 0x99, &vdev), 0);

	/* The tombstone: the device goes first and takes its vDEVICE; the
	 * ID stays taken and unknown. */
	assert_int_equal(destroy(f, v->stdev), 0);
	assert_int_equal(destroy(f, vdev), -ENOENT);
	for (int i = 0; i < 3; i++) {
		next = ioas_alloc(f);
		assert_true(next != vdev);
	}
	/* The virtual ID is free again. */
	assert_int_equal(destroy(f, stdev2), 0);
	assert_int_equal(mock_domain(f, v->ioas, &stdev2, NULL, &idev2), 0);
	assert_int_equal(vdev_alloc(f, v->viommu, idev2, 0x99, NULL), 0);
}

static void test_viommu_invalidate(void **state)
{
	struct vfx *v = *state;
	struct fx *f = v->f;
	struct iommu_viommu_invalidate_selftest reqs[2] = { 0 };
	const uint32_t type = IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST;
	const uint32_t def = IOMMU_TEST_DEV_CACHE_DEFAULT;
	uint32_t vdev, num;

	assert_int_equal(vdev_alloc(f, v->viommu, v->idev, 0x99, &vdev), 0);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(check_cache(f, v->idev, i, def), 0);

	/* An empty array checks the type only. */
	num = 0;
	assert_int_equal(invalidate(f, v->viommu, reqs, type, sizeof(reqs[0]),
				    &num), 0);
	num = 0;
	assert_int_equal(invalidate(f, v->viommu, reqs,
				    IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID,
				    sizeof(reqs[0]), &num), -EINVAL);
	/* Bad entries: nothing is done, the count says so. */
	num = 1;
	reqs[0] = (struct iommu_viommu_invalidate_selftest){ .flags = ~0u,
							     .vdev_id = 0x99 };
	assert_int_equal(invalidate(f, v->viommu, reqs, type, sizeof(reqs[0]),
				    &num), -EOPNOTSUPP);
	assert_int_equal(num, 0);
	num = 1;
	reqs[0] = (struct iommu_viommu_invalidate_selftest){ .vdev_id = 0x99,
							     .cache_id = 4 };
	assert_int_equal(invalidate(f, v->viommu, reqs, type, sizeof(reqs[0]),
				    &num), -EINVAL);
	num = 1;
	reqs[0] = (struct iommu_viommu_invalidate_selftest){ .vdev_id = 0x9 };
	assert_int_equal(invalidate(f, v->viommu, reqs, type, sizeof(reqs[0]),
				    &num), -EINVAL);
	num = 1;
	assert_int_equal(invalidate(f, v->viommu, NULL, type, sizeof(reqs[0]),
				    &num), -EINVAL);
	num = 1;
	assert_int_equal(invalidate(f, v->viommu, (void *)8, type,
				    sizeof(reqs[0]), &num), -EFAULT);
	assert_int_equal(num, 0);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(check_cache(f, v->idev, i, def), 0);

	/* The first entry is done, the second fails. */
	num = 2;
	reqs[0] = (struct iommu_viommu_invalidate_selftest){ .vdev_id = 0x99 };
	reqs[1] = (struct iommu_viommu_invalidate_selftest){ .flags = ~0u,
							     .vdev_id = 0x99,
							     .cache_id = 1 };
	assert_int_equal(invalidate(f, v->viommu, reqs, type, sizeof(reqs[0]),
				    &num), -EOPNOTSUPP);
	assert_int_equal(num, 1);
	assert_int_equal(check_cache(f, v->idev, 0, 0), 0);
	assert_int_equal(check_cache(f, v->idev, 1, def), 0);
	/* Entry 2, then all. */
	num = 1;
	reqs[0] = (struct iommu_viommu_invalidate_selftest){ .vdev_id = 0x99,
							     .cache_id = 2 };
	assert_int_equal(invalidate(f, v->viommu, reqs, type, sizeof(reqs[0]),
				    &num), 0);
	assert_int_equal(num, 1);
	assert_int_equal(check_cache(f, v->idev, 2, 0), 0);
	assert_int_equal(check_cache(f, v->idev, 3, def), 0);
	reqs[0] = (struct iommu_viommu_invalidate_selftest){
		.flags = IOMMU_TEST_INVALIDATE_FLAG_ALL, .vdev_id = 0x99 };
	assert_int_equal(invalidate(f, v->viommu, reqs, type, sizeof(reqs[0]),
				    &num), 0);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(check_cache(f, v->idev, i, 0), 0);
	/* Without its vDEVICE the device has no name to invalidate by. */
	assert_int_equal(destroy(f, vdev), 0);
	assert_int_equal(invalidate(f, v->viommu, reqs, type, sizeof(reqs[0]),
				    &num), -EINVAL);
	/* A vIOMMU ID the dispatcher knows; the IOAS is not invalidatable. */
	num = 0;
	assert_int_equal(invalidate(f, v->ioas, reqs, type, sizeof(reqs[0]),
				    &num), -EINVAL);
}

/* Read n whole events of the selftest type: 0, or the errno the selftest's
 * reader reports (EOVERFLOW on a lost-events header or a gap). */
static int read_events(int fd, unsigned int n, uint32_t virt_id, int *prev)
{
	unsigned char buf[8 * (HDR + EVT)];
	ssize_t got;

	assert_true(n <= 8);
	got = fd_read(fd, buf, n * (HDR + EVT));
	if (got <= 0)
		return -EFAULT;
	for (unsigned int i = 0; i < n; i++) {
		struct iommufd_vevent_header *h =
			(void *)(buf + i * (HDR + EVT));
		struct iommu_viommu_event_selftest *e = (void *)(h + 1);

		if ((h->flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS) ||
		    (int)h->sequence - *prev > 1) {
			*prev = (int)h->sequence;
			return -EOVERFLOW;
		}
		*prev = (int)h->sequence;
		if (e->virt_id != virt_id)
			return -EINVAL;
	}
	return 0;
}

static void test_veventq(void **state)
{
	struct vfx *v = *state;
	struct fx *f = v->f;
	const uint32_t type = IOMMU_VEVENTQ_TYPE_SELFTEST;
	struct iommu_veventq_alloc c = { .size = sizeof(c), .flags = 1,
					 .viommu_id = v->viommu, .type = type,
					 .veventq_depth = 2 };
	unsigned char buf[64];
	uint32_t q, q2, vdev;
	int fd, fd2, prev = -1;

	assert_int_equal(io(f, IOMMU_VEVENTQ_ALLOC, &c), -EOPNOTSUPP);
	assert_int_equal(veventq_alloc(f, v->viommu, IOMMU_VEVENTQ_TYPE_DEFAULT,
				       2, NULL, NULL), -EOPNOTSUPP);
	assert_int_equal(veventq_alloc(f, v->viommu, type, 0, NULL, NULL),
			 -EINVAL);
	assert_int_equal(veventq_alloc(f, v->viommu, type, (1u << 19) + 1,
				       NULL, NULL), -EINVAL);
	assert_int_equal(veventq_alloc(f, v->parent, type, 2, NULL, NULL),
			 -ENOENT);

	/* No queue yet: the event has nobody to go to. */
	assert_int_equal(vdev_alloc(f, v->viommu, v->idev, 0x99, &vdev), 0);
	assert_int_equal(trigger(f, v->idev), -ENOENT);	/* not attached */
	assert_int_equal(replace(f, v->stdev, v->nested), 0);
	assert_int_equal(trigger(f, v->idev), -EOPNOTSUPP);

	assert_int_equal(veventq_alloc(f, v->viommu, type, 2, &q, &fd), 0);
	assert_int_equal(veventq_alloc(f, v->viommu, type, 2, NULL, NULL),
			 -EEXIST);
	/* Another type may have its own queue. */
	assert_int_equal(veventq_alloc(f, v->viommu, 1, 2, &q2, &fd2), 0);
	assert_int_equal(sio_file_close(fd2), 0);
	assert_int_equal(destroy(f, q2), 0);

	/* Empty: a short count is wrong, a right one reads nothing. */
	assert_false(readable(fd));
	assert_int_equal(fd_read(fd, buf, 0), -EINVAL);
	assert_int_equal(fd_read(fd, buf, HDR - 1), -EINVAL);
	assert_int_equal(fd_read(fd, buf, sizeof(buf)), 0);

	assert_int_equal(trigger(f, v->idev), 0);
	assert_true(readable(fd));
	/* The header fits, the record does not. */
	assert_int_equal(fd_read(fd, buf, HDR), -EINVAL);
	assert_int_equal(fd_read(fd, (void *)8, HDR + EVT), -EFAULT);
	assert_int_equal(read_events(fd, 1, 0x99, &prev), 0);
	assert_false(readable(fd));

	/* Three events in a queue of two: the third is lost. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(trigger(f, v->idev), 0);
	assert_int_equal(read_events(fd, 3, 0x99, &prev), -EOVERFLOW);
	assert_int_equal(prev, 3);
	/* The loss was read with the header: the next one is in order. */
	assert_int_equal(trigger(f, v->idev), 0);
	assert_int_equal(read_events(fd, 1, 0x99, &prev), 0);
	assert_int_equal(prev, 4);

	/* Two events, room for one and a half: one is read. */
	assert_int_equal(trigger(f, v->idev), 0);
	assert_int_equal(trigger(f, v->idev), 0);
	assert_int_equal(fd_read(fd, buf, HDR + EVT + HDR), (long)(HDR + EVT));
	prev = 5;
	assert_int_equal(read_events(fd, 1, 0x99, &prev), 0);
	assert_int_equal(prev, 6);

	/* The queue is held by its fd; the vIOMMU by its queue. */
	assert_int_equal(destroy(f, q), -EBUSY);
	assert_int_equal(trigger(f, v->idev), 0);	/* left queued */
	assert_int_equal(sio_file_close(fd), 0);
	assert_int_equal(replace(f, v->stdev, v->ioas), 0);
	assert_int_equal(destroy(f, vdev), 0);
	assert_int_equal(destroy(f, v->nested), 0);
	assert_int_equal(destroy(f, v->viommu), -EBUSY);
	assert_int_equal(destroy(f, q), 0);
	assert_int_equal(destroy(f, v->viommu), 0);
}

static void test_hw_queue(void **state)
{
	struct vfx *v = *state;
	struct fx *f = v->f;
	const uint32_t type = IOMMU_HW_QUEUE_TYPE_SELFTEST;
	struct iommu_hw_queue_alloc c = { .size = sizeof(c), .flags = 1,
					  .viommu_id = v->viommu, .type = type,
					  .length = PAGE };
	uint64_t iova = 0, iova2 = 0;
	uint32_t q0, q1, bad;

	assert_int_equal(io(f, IOMMU_HW_QUEUE_ALLOC, &c), -EOPNOTSUPP);
	assert_int_equal(hw_queue_alloc(f, v->viommu, IOMMU_HW_QUEUE_TYPE_DEFAULT,
					0, 1 << 24, PAGE, NULL), -EOPNOTSUPP);
	assert_int_equal(hw_queue_alloc(f, v->viommu, 0x1234, 0, 1 << 24, PAGE,
					NULL), -EOPNOTSUPP);
	assert_int_equal(hw_queue_alloc(f, v->viommu, type, 0, 1 << 24, 0, NULL),
			 -EINVAL);
	assert_int_equal(hw_queue_alloc(f, v->viommu, type, 0, UINT64_MAX, PAGE,
					NULL), -EOVERFLOW);
	assert_int_equal(hw_queue_alloc(f, v->parent, type, 0, 1 << 24, PAGE,
					NULL), -ENOENT);
	/* Nothing mapped there. */
	assert_int_equal(hw_queue_alloc(f, v->viommu, type, 0, 1 << 24, PAGE,
					NULL), -ENOENT);

	assert_int_equal(map(f, v->ioas, f->buf, PAGE, &iova, 0), 0);
	assert_int_equal(map(f, v->ioas, f->buf + PAGE, PAGE, &iova2, 0), 0);
	/* Index 0 first; 2 is beyond the mock's two. */
	assert_int_equal(hw_queue_alloc(f, v->viommu, type, 1, iova, PAGE, NULL),
			 -EIO);
	assert_int_equal(hw_queue_alloc(f, v->viommu, type,
					IOMMU_TEST_HW_QUEUE_MAX, iova, PAGE,
					NULL), -EINVAL);
	assert_int_equal(hw_queue_alloc(f, v->viommu, type, 0, iova, PAGE, &q0),
			 0);
	assert_int_equal(hw_queue_alloc(f, v->viommu, type, 0, iova, PAGE, &bad),
			 -EEXIST);
	/* The queue's page is the queue's; its neighbour is not. */
	assert_int_equal(unmap(f, v->ioas, iova, PAGE, NULL), -EBUSY);
	assert_int_equal(unmap(f, v->ioas, iova2, PAGE, NULL), 0);
	/* Index 1, not page aligned, needs index 0. */
	assert_int_equal(hw_queue_alloc(f, v->viommu, type, 1, iova + PAGE / 2,
					PAGE / 2, &q1), 0);
	assert_int_equal(destroy(f, q0), -EBUSY);
	assert_int_equal(destroy(f, v->viommu), -EBUSY);
	assert_int_equal(destroy(f, q1), 0);
	assert_int_equal(destroy(f, q0), 0);
	assert_int_equal(unmap(f, v->ioas, iova, PAGE, NULL), 0);
}

/* A file whose mmap op maps a memory file and counts what is let go. */
struct mapped_file {
	int memfd;
	int unmaps;
	size_t last_len;
	bool released;
};

static int mf_mmap(struct sio_file *file, void **addr, size_t len, int prot,
		   int flags, off_t off)
{
	struct mapped_file *m = sio_file_priv(file);
	void *p = mmap(*addr, len, prot, flags, m->memfd, off);

	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	return 0;
}

static void mf_munmap(struct sio_file *file, void *addr, size_t len, off_t off)
{
	struct mapped_file *m = sio_file_priv(file);

	(void)addr, (void)off;
	m->unmaps++;
	m->last_len = len;
}

static void mf_release(struct sio_file *file)
{
	((struct mapped_file *)sio_file_priv(file))->released = true;
}

static const struct sio_file_ops mf_ops = {
	.name = "test-mapped",
	.mmap = mf_mmap,
	.munmap = mf_munmap,
	.release = mf_release,
};

static void test_file_mapping_followed(void **state)
{
	struct mapped_file m = { 0 };
	struct sio_file *file;
	size_t len = 4 * PAGE;
	uint8_t *p = NULL;
	int fd;

	(void)state;
	m.memfd = memfd_create("test-mapped", MFD_CLOEXEC);
	assert_true(m.memfd >= 0);
	assert_int_equal(ftruncate(m.memfd, (off_t)len), 0);
	assert_int_equal(sio_file_create(&mf_ops, &m, true, NULL, &fd), 0);
	file = sio_file_lookup(fd);
	assert_int_equal(sio_file_mmap(file, (void **)&p, len,
				       PROT_READ | PROT_WRITE, MAP_SHARED, 0), 0);
	sio_file_put(file);
	/* The mapping holds the file past its last close. */
	assert_int_equal(sio_file_close(fd), 0);
	assert_false(m.released);

	/* Unmapped piece by piece (a hole first): gone with the last. */
	munmap(p + PAGE, PAGE);
	sio_file_munmap(p + PAGE, PAGE);
	munmap(p, PAGE);
	sio_file_munmap(p, PAGE);
	/* Memory next to it is not the mapping. */
	sio_file_munmap(p + 8 * PAGE, PAGE);
	assert_int_equal(m.unmaps, 0);
	munmap(p + 2 * PAGE, 2 * PAGE);
	sio_file_munmap(p + 2 * PAGE, 2 * PAGE);
	assert_int_equal(m.unmaps, 1);
	assert_int_equal(m.last_len, len);
	assert_true(m.released);
	close(m.memfd);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, vsetup, vteardown)
	const struct CMUnitTest tests[] = {
		T(test_viommu_alloc_errors),
		T(test_viommu_data_and_mmap),
		T(test_nested_on_viommu),
		T(test_vdevice_rules),
		T(test_viommu_invalidate),
		T(test_veventq),
		T(test_hw_queue),
		cmocka_unit_test(test_file_mapping_followed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
