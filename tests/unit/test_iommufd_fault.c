/*
 * iommufd fault queues and PASID attachments through the ioctl ABI:
 * FAULT_QUEUE_ALLOC, HWPT_ALLOC with a fault ID, TRIGGER_IOPF, the fault
 * fd's read/write/poll and their errnos, automatic answers on replace,
 * detach (per attachment) and close; PASID_ATTACH/REPLACE/DETACH/CHECK_HWPT
 * with the kernel's PASID-compatibility rules and the reserved-PASID
 * rollback (the selftest's iommufd_device_pasid without its vIOMMU).
 *
 * Without the preload shim, the fd numbers are real eventfds: poll() works
 * on them, read and write go through sio_file_read/sio_file_write.
 */
#include <poll.h>
#include <fcntl.h>

#include "iommufd_helpers.h"
#include "softiommu/file.h"

#define REC ((long)sizeof(struct iommu_hwpt_pgfault))
#define RESP ((long)sizeof(struct iommu_hwpt_page_response))

static long fault_alloc(struct fx *f, uint32_t flags, uint32_t *id, int *fd)
{
	struct iommu_fault_alloc c = { .size = sizeof(c), .flags = flags };
	long rc = io(f, IOMMU_FAULT_QUEUE_ALLOC, &c);

	*id = c.out_fault_id;
	*fd = (int)c.out_fault_fd;
	return rc;
}

static long mock_domain_flags(struct fx *f, uint32_t pt, uint32_t flags,
			      uint32_t *stdev, uint32_t *idev)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
		.id = pt, .mock_domain_flags = { .dev_flags = flags },
	};
	long rc = io(f, IOMMU_TEST_CMD, &c);

	*stdev = c.mock_domain_flags.out_stdev_id;
	*idev = c.mock_domain_flags.out_idev_id;
	return rc;
}

static long trigger(struct fx *f, uint32_t idev, uint32_t pasid, uint32_t grpid)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_TRIGGER_IOPF,
		.trigger_iopf = { .dev_id = idev, .pasid = pasid, .grpid = grpid,
				  .perm = IOMMU_PGFAULT_PERM_READ |
					  IOMMU_PGFAULT_PERM_WRITE,
				  .addr = 0xdeadbeaf },
	};

	return io(f, IOMMU_TEST_CMD, &c);
}

static long pasid_op(struct fx *f, uint32_t op, uint32_t stdev, uint32_t pasid,
		     uint32_t pt)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = op, .id = stdev,
		.pasid_attach = { .pasid = pasid, .pt_id = pt },
	};

	return io(f, IOMMU_TEST_CMD, &c);
}

#define pasid_attach(f, s, p, pt) pasid_op(f, IOMMU_TEST_OP_PASID_ATTACH, s, p, pt)
#define pasid_replace(f, s, p, pt) pasid_op(f, IOMMU_TEST_OP_PASID_REPLACE, s, p, pt)
#define pasid_detach(f, s, p) pasid_op(f, IOMMU_TEST_OP_PASID_DETACH, s, p, 0)
#define pasid_check(f, s, p, pt) pasid_op(f, IOMMU_TEST_OP_PASID_CHECK_HWPT, s, p, pt)

static ssize_t fd_write(int fd, const void *buf, size_t len)
{
	struct sio_file *file = sio_file_lookup(fd);
	ssize_t n;

	assert_non_null(file);
	n = sio_file_write(file, buf, len);
	sio_file_put(file);
	return n;
}

static ssize_t respond(int fd, uint32_t cookie, uint32_t code)
{
	struct iommu_hwpt_page_response r = { .cookie = cookie, .code = code };

	return fd_write(fd, &r, sizeof(r));
}

/* The responses the mock device got, by code. */
static uint64_t responses(struct fx *f, uint32_t idev, int code)
{
	struct sio_iopf_stats st;
	struct sio_device *dev;

	assert_int_equal(sio_iommufd_device_get(f->ictx, idev, &dev), 0);
	assert_int_equal(sio_iopf_device_stats(dev, &st), 0);
	sio_device_put(dev);
	return st.responses[code];
}

/* A mock device on an IOAS with a fault queue and a fault-capable nested
 * HWPT on a nesting parent. */
struct qfx {
	uint32_t ioas, stdev, idev, parent, iopf, fault;
	int fd;
};

static void qsetup(struct fx *f, struct qfx *q, uint32_t dev_flags,
		   uint32_t hwpt_flags)
{
	q->ioas = ioas_alloc(f);
	assert_int_equal(mock_domain_flags(f, q->ioas, dev_flags, &q->stdev,
					   &q->idev), 0);
	assert_int_equal(fault_alloc(f, 0, &q->fault, &q->fd), 0);
	assert_int_equal(hwpt_alloc(f, q->idev, q->ioas,
				    IOMMU_HWPT_ALLOC_NEST_PARENT |
					    (hwpt_flags & IOMMU_HWPT_ALLOC_PASID),
				    0, false, &q->parent), 0);
	assert_int_equal(hwpt_alloc(f, q->idev, q->parent,
				    IOMMU_HWPT_FAULT_ID_VALID | hwpt_flags,
				    q->fault, true, &q->iopf), 0);
}

/* The same with the device's RID on the fault-capable HWPT. */
static void qstart(struct fx *f, struct qfx *q)
{
	qsetup(f, q, 0, 0);
	assert_int_equal(replace(f, q->stdev, q->iopf), 0);
}

static void test_fault_alloc(void **state)
{
	struct fx *f = *state;
	uint32_t id, ioas = ioas_alloc(f), stdev, idev, hwpt, parent;
	int fd;

	assert_int_equal(fault_alloc(f, 1, &id, &fd), -EOPNOTSUPP);
	assert_int_equal(fault_alloc(f, 0, &id, &fd), 0);
	assert_true(id != 0 && fd > 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_false(readable(fd));
	assert_int_equal(mock_domain(f, ioas, &stdev, NULL, &idev), 0);

	/* HWPT_ALLOC with a fault ID. */
	assert_int_equal(hwpt_alloc(f, idev, ioas, IOMMU_HWPT_FAULT_ID_VALID |
				    IOMMU_HWPT_ALLOC_NEST_PARENT, id, false,
				    &hwpt), -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc(f, idev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT,
				    0, false, &parent), 0);
	assert_int_equal(hwpt_alloc(f, idev, parent, IOMMU_HWPT_FAULT_ID_VALID,
				    UINT32_MAX, true, &hwpt), -ENOENT);
	assert_int_equal(hwpt_alloc(f, idev, parent, IOMMU_HWPT_FAULT_ID_VALID,
				    ioas, true, &hwpt), -ENOENT);
	assert_int_equal(hwpt_alloc(f, idev, ioas, IOMMU_HWPT_FAULT_ID_VALID,
				    id, false, &hwpt), 0);
	/* The fd and the HWPT hold the queue. */
	assert_int_equal(destroy(f, id), -EBUSY);
	assert_int_equal(destroy(f, hwpt), 0);
	assert_int_equal(destroy(f, id), -EBUSY);
	assert_int_equal(sio_file_close(fd), 0);
	assert_int_equal(destroy(f, id), 0);
	assert_int_equal(destroy(f, parent), 0);
	assert_int_equal(destroy(f, stdev), 0);
}

/* The selftest's round trip, then every errno of read and write. */
static void test_read_write(void **state)
{
	struct fx *f = *state;
	struct iommu_hwpt_pgfault rec[3];
	struct iommu_hwpt_page_response resp[2];
	struct qfx q;

	qstart(f, &q);
	assert_int_equal(destroy(f, q.iopf), -EBUSY);
	assert_int_equal(fd_read(q.fd, rec, REC), 0);	/* empty: 0 */

	/* PASID 1 on a device without PASIDs: the RID's nested domain (the
	 * mock's user PASID table). */
	assert_int_equal(trigger(f, q.idev, 1, 2), 0);
	assert_true(readable(q.fd));
	assert_int_equal(fd_read(q.fd, rec, REC - 1), -ESPIPE);
	assert_int_equal(fd_read(q.fd, rec, 0), -EINVAL);
	assert_int_equal(fd_read(q.fd, NULL, REC), -EFAULT);
	assert_true(readable(q.fd));
	assert_int_equal(fd_read(q.fd, rec, 3 * REC), REC);
	assert_false(readable(q.fd));
	assert_int_equal(rec[0].flags, IOMMU_PGFAULT_FLAGS_PASID_VALID |
					       IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	assert_int_equal(rec[0].dev_id, q.idev);
	assert_int_equal(rec[0].pasid, 1);
	assert_int_equal(rec[0].grpid, 2);
	assert_int_equal(rec[0].perm, IOMMU_PGFAULT_PERM_READ |
					      IOMMU_PGFAULT_PERM_WRITE);
	assert_int_equal(rec[0].addr, 0xdeadbeaf);
	assert_int_equal(rec[0].length, 0);
	assert_int_not_equal(rec[0].cookie, 0);

	assert_int_equal(fd_write(q.fd, resp, RESP + 1), -ESPIPE);
	assert_int_equal(fd_write(q.fd, NULL, RESP), -EFAULT);
	assert_int_equal(respond(q.fd, rec[0].cookie, 2), -EINVAL);
	assert_int_equal(respond(q.fd, rec[0].cookie + 1, 0), -EINVAL);
	assert_int_equal(responses(f, q.idev, SIO_PAGE_RESP_SUCCESS), 0);
	assert_int_equal(respond(q.fd, rec[0].cookie, IOMMUFD_PAGE_RESP_SUCCESS),
			 RESP);
	assert_int_equal(responses(f, q.idev, SIO_PAGE_RESP_SUCCESS), 1);
	assert_int_equal(respond(q.fd, rec[0].cookie, 0), -EINVAL);

	/* Several groups in one read, several answers in one write; a bad
	 * second answer still counts the first. */
	assert_int_equal(trigger(f, q.idev, SIO_NO_PASID, 5), 0);
	assert_int_equal(trigger(f, q.idev, SIO_NO_PASID, 6), 0);
	assert_int_equal(fd_read(q.fd, rec, 3 * REC), 2 * REC);
	assert_int_equal(rec[0].flags, IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	assert_int_equal(rec[0].grpid, 5);
	assert_int_equal(rec[1].grpid, 6);
	assert_int_not_equal(rec[0].cookie, rec[1].cookie);
	resp[0] = (struct iommu_hwpt_page_response){ rec[0].cookie,
						     IOMMUFD_PAGE_RESP_INVALID };
	resp[1] = (struct iommu_hwpt_page_response){ 999, 0 };
	assert_int_equal(fd_write(q.fd, resp, 2 * RESP), RESP);
	resp[0].cookie = rec[1].cookie;
	assert_int_equal(fd_write(q.fd, resp, RESP), RESP);
	assert_int_equal(responses(f, q.idev, SIO_PAGE_RESP_INVALID), 2);

	/* Not a device: ENOENT. */
	assert_int_equal(trigger(f, q.ioas, 0, 1), -ENOENT);
	assert_int_equal(trigger(f, 4242, 0, 1), -ENOENT);

	assert_int_equal(replace(f, q.stdev, q.ioas), 0);
	assert_int_equal(destroy(f, q.iopf), 0);
	assert_int_equal(sio_file_close(q.fd), 0);
	assert_int_equal(destroy(f, q.fault), 0);
}

/* Replace and close answer what the queue holds, read or not. */
static void test_auto_response(void **state)
{
	struct fx *f = *state;
	struct iommu_hwpt_pgfault rec;
	struct qfx q;

	qstart(f, &q);
	assert_int_equal(trigger(f, q.idev, SIO_NO_PASID, 1), 0);
	assert_int_equal(trigger(f, q.idev, SIO_NO_PASID, 2), 0);
	assert_int_equal(fd_read(q.fd, &rec, REC), REC);	/* grp 1 */
	assert_int_equal(replace(f, q.stdev, q.parent), 0);
	/* Both answered INVALID, neither readable nor answerable. */
	assert_int_equal(responses(f, q.idev, SIO_PAGE_RESP_INVALID), 2);
	assert_false(readable(q.fd));
	assert_int_equal(fd_read(q.fd, &rec, REC), 0);
	assert_int_equal(respond(q.fd, rec.cookie, 0), -EINVAL);
	/* With nothing fault-capable attached: answered at once. */
	assert_int_equal(trigger(f, q.idev, SIO_NO_PASID, 3), 0);
	assert_int_equal(responses(f, q.idev, SIO_PAGE_RESP_INVALID), 3);
	assert_int_equal(fd_read(q.fd, &rec, REC), 0);

	/* Close: everything held is answered, later groups at once. */
	assert_int_equal(replace(f, q.stdev, q.iopf), 0);
	assert_int_equal(trigger(f, q.idev, SIO_NO_PASID, 4), 0);
	assert_int_equal(trigger(f, q.idev, SIO_NO_PASID, 5), 0);
	assert_int_equal(fd_read(q.fd, &rec, REC), REC);
	assert_int_equal(sio_file_close(q.fd), 0);
	assert_int_equal(responses(f, q.idev, SIO_PAGE_RESP_INVALID), 5);
	assert_int_equal(trigger(f, q.idev, SIO_NO_PASID, 6), 0);
	assert_int_equal(responses(f, q.idev, SIO_PAGE_RESP_INVALID), 6);
	assert_int_equal(responses(f, q.idev, SIO_PAGE_RESP_SUCCESS), 0);
	assert_int_equal(destroy(f, q.fault), -EBUSY);	/* the HWPT's */
	assert_int_equal(replace(f, q.stdev, q.ioas), 0);
	assert_int_equal(destroy(f, q.iopf), 0);
	assert_int_equal(destroy(f, q.fault), 0);
}

/* Detaching a PASID answers its groups, not the RID's (seed 000). */
static void test_auto_response_per_attachment(void **state)
{
	struct fx *f = *state;
	struct iommu_hwpt_pgfault rec[2];
	uint32_t iopf2;
	struct qfx q;

	qsetup(f, &q, MOCK_FLAGS_DEVICE_PASID, IOMMU_HWPT_ALLOC_PASID);
	assert_int_equal(hwpt_alloc(f, q.idev, q.parent,
				    IOMMU_HWPT_FAULT_ID_VALID |
					    IOMMU_HWPT_ALLOC_PASID,
				    q.fault, true, &iopf2), 0);
	assert_int_equal(replace(f, q.stdev, q.iopf), 0);
	assert_int_equal(pasid_attach(f, q.stdev, 2048, iopf2), 0);
	assert_int_equal(trigger(f, q.idev, SIO_NO_PASID, 1), 0);
	assert_int_equal(trigger(f, q.idev, 2048, 2), 0);
	assert_int_equal(trigger(f, q.idev, 2048, 3), 0);
	assert_int_equal(fd_read(q.fd, rec, REC), REC);	/* the RID's */
	assert_int_equal(rec[0].grpid, 1);

	assert_int_equal(pasid_detach(f, q.stdev, 2048), 0);
	assert_int_equal(responses(f, q.idev, SIO_PAGE_RESP_INVALID), 2);
	assert_int_equal(fd_read(q.fd, rec, 2 * REC), 0);
	assert_int_equal(respond(q.fd, rec[0].cookie, 0), RESP);
	assert_int_equal(responses(f, q.idev, SIO_PAGE_RESP_SUCCESS), 1);

	/* And the other way round: the RID goes, the PASID's group stays. */
	assert_int_equal(pasid_attach(f, q.stdev, 2048, iopf2), 0);
	assert_int_equal(trigger(f, q.idev, SIO_NO_PASID, 4), 0);
	assert_int_equal(trigger(f, q.idev, 2048, 5), 0);
	assert_int_equal(replace(f, q.stdev, q.parent), 0);
	assert_int_equal(responses(f, q.idev, SIO_PAGE_RESP_INVALID), 3);
	assert_int_equal(fd_read(q.fd, rec, 2 * REC), REC);
	assert_int_equal(rec[0].grpid, 5);
	assert_int_equal(rec[0].pasid, 2048);
	assert_int_equal(respond(q.fd, rec[0].cookie, 0), RESP);
	assert_int_equal(responses(f, q.idev, SIO_PAGE_RESP_SUCCESS), 2);

	/* Destroying the device detaches its PASIDs too. */
	assert_int_equal(trigger(f, q.idev, 2048, 6), 0);
	assert_int_equal(destroy(f, q.stdev), 0);
	assert_int_equal(fd_read(q.fd, rec, 2 * REC), 0);
	assert_int_equal(destroy(f, iopf2), 0);
	assert_int_equal(destroy(f, q.iopf), 0);
	assert_int_equal(sio_file_close(q.fd), 0);
	assert_int_equal(destroy(f, q.fault), 0);
}

/* The kernel's iommufd_device_pasid.pasid_attach, less its vIOMMU. */
static void test_pasid_attach(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), stdev, idev, np_stdev, np_idev;
	uint32_t parent, n0, n1, s2, pasid = 100;
	struct iommu_hwpt_pgfault rec;
	struct qfx q;

	assert_int_equal(mock_domain_flags(f, ioas, MOCK_FLAGS_DEVICE_PASID,
					   &stdev, &idev), 0);
	assert_int_equal(mock_domain_flags(f, ioas, 0, &np_stdev, &np_idev), 0);
	assert_int_equal(pasid_detach(f, stdev, pasid), 0);

	assert_int_equal(hwpt_alloc(f, idev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT,
				    0, false, &parent), 0);
	assert_int_equal(hwpt_alloc(f, idev, parent, IOMMU_HWPT_ALLOC_PASID, 0,
				    true, &n0), 0);
	assert_int_equal(hwpt_alloc(f, idev, parent, IOMMU_HWPT_ALLOC_PASID, 0,
				    true, &n1), 0);
	assert_int_equal(hwpt_alloc(f, idev, ioas, IOMMU_HWPT_ALLOC_PASID, 0,
				    false, &s2), 0);

	/* The RID on a HWPT that is not PASID-compatible: no PASID. */
	assert_int_equal(replace(f, stdev, parent), 0);
	assert_int_equal(pasid_attach(f, stdev, pasid, s2), -EINVAL);
	assert_int_equal(replace(f, stdev, s2), 0);
	assert_int_equal(pasid_attach(f, stdev, pasid, n0), 0);
	/* A PASID attached: the RID cannot go back to such a HWPT. */
	assert_int_equal(replace(f, stdev, parent), -EINVAL);
	assert_int_equal(pasid_detach(f, stdev, pasid), 0);
	assert_int_equal(pasid_check(f, stdev, pasid, 0), 0);

	/* A device without PASIDs: a PASID-compatible HWPT on its RID is
	 * fine, a PASID attach is not. */
	assert_int_equal(replace(f, np_stdev, n0), 0);
	assert_int_equal(replace(f, np_stdev, ioas), 0);
	assert_int_equal(pasid_attach(f, np_stdev, pasid, parent), -EINVAL);
	assert_int_equal(pasid_attach(f, np_stdev, pasid, s2), -EINVAL);

	assert_int_equal(pasid_attach(f, stdev, pasid, parent), -EINVAL);
	assert_int_equal(pasid_check(f, stdev, pasid, 0), 0);
	assert_int_equal(pasid_attach(f, stdev, pasid, ioas), -EINVAL);
	assert_int_equal(pasid_check(f, stdev, pasid, 0), 0);
	assert_int_equal(pasid_attach(f, stdev, pasid, s2), 0);
	assert_int_equal(pasid_check(f, stdev, pasid, s2), 0);
	assert_int_equal(pasid_check(f, stdev, pasid, n0), -EINVAL);
	assert_int_equal(pasid_check(f, stdev, pasid, 0), -EINVAL);
	assert_int_equal(pasid_check(f, stdev, pasid, ioas), -EINVAL);
	assert_int_equal(pasid_check(f, stdev, pasid, 4242), -ENOENT);
	assert_int_equal(pasid_check(f, ioas, pasid, s2), -ENOENT);
	assert_int_equal(pasid_attach(f, stdev, pasid, n0), -EBUSY);
	assert_int_equal(pasid_detach(f, stdev, pasid), 0);
	assert_int_equal(pasid_attach(f, stdev, pasid, n0), 0);
	assert_int_equal(pasid_check(f, stdev, pasid, n0), 0);
	assert_int_equal(pasid_attach(f, stdev, pasid, n0), -EBUSY);
	assert_int_equal(pasid_detach(f, stdev, pasid), 0);

	/* Replace. */
	pasid = 200;
	assert_int_equal(pasid_replace(f, stdev, pasid, s2), -EINVAL);
	assert_int_equal(pasid_attach(f, stdev, pasid, s2), 0);
	assert_int_equal(pasid_replace(f, stdev, pasid, ioas), -EINVAL);
	assert_int_equal(pasid_check(f, stdev, pasid, s2), 0);
	assert_int_equal(pasid_replace(f, stdev, pasid, n0), 0);
	assert_int_equal(pasid_check(f, stdev, pasid, n0), 0);
	assert_int_equal(pasid_replace(f, stdev, pasid, n1), 0);
	assert_int_equal(pasid_check(f, stdev, pasid, n1), 0);
	/* A HWPT in use cannot go. */
	assert_int_equal(destroy(f, n1), -EBUSY);
	assert_int_equal(pasid_detach(f, stdev, pasid), 0);

	/* The reserved PASID: the mock fails the second attach, and the old
	 * attachment stays. */
	pasid = IOMMU_TEST_PASID_RESERVED;
	assert_int_equal(pasid_attach(f, stdev, pasid, s2), 0);
	assert_int_equal(pasid_replace(f, stdev, pasid, n0), -ENOMEM);
	assert_int_equal(pasid_check(f, stdev, pasid, s2), 0);
	assert_int_equal(pasid_detach(f, stdev, pasid), 0);

	/* A fault-capable HWPT on PASID 2048: the round trip. */
	pasid = 2048;
	q.idev = idev;
	assert_int_equal(fault_alloc(f, 0, &q.fault, &q.fd), 0);
	assert_int_equal(hwpt_alloc(f, idev, parent, IOMMU_HWPT_FAULT_ID_VALID |
				    IOMMU_HWPT_ALLOC_PASID, q.fault, true,
				    &q.iopf), 0);
	assert_int_equal(pasid_attach(f, stdev, pasid, q.iopf), 0);
	assert_int_equal(pasid_check(f, stdev, pasid, q.iopf), 0);
	assert_int_equal(trigger(f, idev, pasid, 2), 0);
	assert_int_equal(fd_read(q.fd, &rec, REC), REC);
	assert_int_equal(rec.pasid, pasid);
	assert_int_equal(respond(q.fd, rec.cookie, 0), RESP);
	assert_int_equal(pasid_replace(f, stdev, pasid, s2), 0);
	assert_int_equal(pasid_check(f, stdev, pasid, s2), 0);
	assert_int_equal(pasid_detach(f, stdev, pasid), 0);
	assert_int_equal(destroy(f, q.iopf), 0);
	assert_int_equal(sio_file_close(q.fd), 0);
	assert_int_equal(destroy(f, q.fault), 0);

	assert_int_equal(replace(f, stdev, ioas), 0);
	assert_int_equal(destroy(f, n0), 0);
	assert_int_equal(destroy(f, n1), 0);
	assert_int_equal(destroy(f, s2), 0);
	assert_int_equal(destroy(f, parent), 0);
}

/* The context goes while the fault fd is open: the fd keeps it alive. */
static void test_fd_outlives_context(void **state)
{
	struct fx *f = *state;
	struct iommu_hwpt_pgfault rec;
	struct qfx q;

	qstart(f, &q);
	assert_int_equal(trigger(f, q.idev, SIO_NO_PASID, 1), 0);
	sio_iommufd_release(f->ictx);
	assert_int_equal(fd_read(q.fd, &rec, REC), REC);
	assert_int_equal(respond(q.fd, rec.cookie, 0), RESP);
	assert_int_equal(sio_file_close(q.fd), 0);
	/* For teardown. */
	assert_int_equal(sio_iommufd_open(f->host, &f->ictx), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_fault_alloc),
		T(test_read_write),
		T(test_auto_response),
		T(test_auto_response_per_attachment),
		T(test_pasid_attach),
		T(test_fd_outlives_context),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
