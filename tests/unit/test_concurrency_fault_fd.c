/*
 * A fault fd under concurrency.  Two device threads send page requests on
 * a mock device whose RID is on a fault-capable HWPT; a VMM thread polls
 * the fault fd, reads the records and answers them one write at a time;
 * a third thread keeps moving the RID to the nesting parent (no fault
 * handler) and back, and each move answers INVALID the groups of the old
 * attachment, queued, read and not yet answered alike.  So answers come
 * from the reporting threads (refused at once), from writes that drop the
 * queue's lock before they answer, and from the automatic answers of the
 * replaces, racing with each other.
 *
 * Checked: every group gets exactly one response (none lost, none twice),
 * the device model's wake op follows its responses, and once everything is
 * answered the fd is not readable: its readiness, written after the
 * queue's lock is dropped, ends up showing the empty queue.
 */
#include <pthread.h>
#include <sched.h>

#include "iommufd_helpers.h"
#include "softiommu/file.h"
#include "softiommu/iopf.h"

#define NDEV 2			/* device threads */
#define MIN_PER_DEV 1000	/* groups each, at least */
#define PER_DEV 20000		/* at most: they send until the replaces end */
#define NGROUPS (NDEV * PER_DEV)
#define NREPLACE 200

struct model {
	unsigned int seen[NGROUPS];	/* atomic: responses per group */
	unsigned int total;		/* atomic */
	unsigned int codes[3];		/* atomic: responses by code */
	unsigned int bad;		/* atomic: unknown group ID */
	unsigned int wakes;		/* atomic */
	unsigned int wake_early;	/* atomic: a wake before any response */
};

static void model_response(struct sio_device *dev, void *arg,
			   const struct sio_page_response *resp)
{
	struct model *m = arg;

	(void)dev;
	if (resp->grpid >= NGROUPS) {
		__atomic_add_fetch(&m->bad, 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_add_fetch(&m->seen[resp->grpid], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m->codes[resp->code % 3], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m->total, 1, __ATOMIC_RELEASE);
}

static void model_wake(struct sio_device *dev, void *arg)
{
	struct model *m = arg;

	(void)dev;
	/* Some response came before this wake (the count only grows). */
	if (!__atomic_load_n(&m->total, __ATOMIC_ACQUIRE))
		__atomic_add_fetch(&m->wake_early, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m->wakes, 1, __ATOMIC_RELAXED);
}

static const struct sio_iopf_device_ops model_ops = {
	.page_response = model_response,
	.wake = model_wake,
};

struct shared {
	struct fx *f;
	struct sio_device *dev;
	struct sio_file *file;
	int fd;
	uint32_t stdev, parent, iopf;
	bool stop_vmm;			/* atomic */
	bool replaces_done;		/* atomic */
	unsigned int sent[NDEV];	/* groups each device thread sent */
	unsigned int report_errors;	/* atomic: not 0/-EINVAL/-EBUSY */
	unsigned int vmm_errors;	/* atomic: unexpected read/write */
	unsigned int replace_errors;	/* atomic */
};

struct dev_arg {
	struct shared *s;
	unsigned int t;
};

static void *device_thread(void *p)
{
	struct dev_arg *a = p;
	struct shared *s = a->s;

	unsigned int i;

	for (i = 0; i < PER_DEV; i++) {
		struct sio_page_request r = {
			.pasid = SIO_NO_PASID,
			.grpid = a->t * PER_DEV + i,
			.perm = SIO_DMA_READ,
			.flags = SIO_PRQ_LAST,
			.addr = 0x100000 + (uint64_t)i * 4096,
		};
		int rc = sio_iopf_report(s->dev, &r);

		/* 0: queued; -EINVAL: no handler during a replace (INVALID
		 * at once); -EBUSY: too many outstanding (FAILURE at once). */
		if (rc && rc != -EINVAL && rc != -EBUSY)
			__atomic_add_fetch(&s->report_errors, 1, __ATOMIC_RELAXED);
		if (!(i % 64))
			sched_yield();
		if (i >= MIN_PER_DEV &&
		    __atomic_load_n(&s->replaces_done, __ATOMIC_ACQUIRE))
			break;
	}
	s->sent[a->t] = i < PER_DEV ? i + 1 : PER_DEV;
	return NULL;
}

static void *vmm_thread(void *p)
{
	struct shared *s = p;
	struct iommu_hwpt_pgfault rec[16];

	while (!__atomic_load_n(&s->stop_vmm, __ATOMIC_ACQUIRE)) {
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 5) != 1)
			continue;
		n = sio_file_read(s->file, rec, sizeof(rec));
		if (n < 0 || n % (ssize_t)sizeof(rec[0])) {
			__atomic_add_fetch(&s->vmm_errors, 1, __ATOMIC_RELAXED);
			continue;
		}
		for (ssize_t i = 0; i < n / (ssize_t)sizeof(rec[0]); i++) {
			struct iommu_hwpt_page_response r = {
				.cookie = rec[i].cookie,
				.code = IOMMUFD_PAGE_RESP_SUCCESS,
			};
			ssize_t w = sio_file_write(s->file, &r, sizeof(r));

			/* -EINVAL: a replace answered it first. */
			if (w != (ssize_t)sizeof(r) && w != -EINVAL)
				__atomic_add_fetch(&s->vmm_errors, 1,
						   __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

static void *replace_thread(void *p)
{
	struct shared *s = p;

	for (unsigned int i = 0; i < NREPLACE; i++) {
		if (replace(s->f, s->stdev, s->parent) ||
		    replace(s->f, s->stdev, s->iopf))
			__atomic_add_fetch(&s->replace_errors, 1,
					   __ATOMIC_RELAXED);
		sched_yield();
	}
	__atomic_store_n(&s->replaces_done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void test_fault_fd_storm(void **state)
{
	struct fx *f = *state;
	struct model *m = calloc(1, sizeof(*m));
	struct shared s = { .f = f };
	struct dev_arg da[NDEV];
	pthread_t dev_thr[NDEV], vmm, rep;
	uint32_t ioas = ioas_alloc(f), idev, fault;
	struct iommu_fault_alloc fa = { .size = sizeof(fa) };
	unsigned int want = 0;

	assert_non_null(m);
	assert_int_equal(mock_domain(f, ioas, &s.stdev, NULL, &idev), 0);
	assert_int_equal(io(f, IOMMU_FAULT_QUEUE_ALLOC, &fa), 0);
	fault = fa.out_fault_id;
	s.fd = (int)fa.out_fault_fd;
	assert_int_equal(hwpt_alloc(f, idev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT,
				    0, false, &s.parent), 0);
	assert_int_equal(hwpt_alloc(f, idev, s.parent, IOMMU_HWPT_FAULT_ID_VALID,
				    fault, true, &s.iopf), 0);
	assert_int_equal(replace(f, s.stdev, s.iopf), 0);
	/* The test is the device model. */
	assert_int_equal(sio_iommufd_device_get(f->ictx, idev, &s.dev), 0);
	sio_iopf_device_disable(s.dev);
	assert_int_equal(sio_iopf_device_enable(s.dev, &model_ops, m, NULL), 0);
	s.file = sio_file_lookup(s.fd);
	assert_non_null(s.file);

	assert_int_equal(pthread_create(&vmm, NULL, vmm_thread, &s), 0);
	for (unsigned int t = 0; t < NDEV; t++) {
		da[t] = (struct dev_arg){ .s = &s, .t = t };
		assert_int_equal(pthread_create(&dev_thr[t], NULL,
						device_thread, &da[t]), 0);
	}
	assert_int_equal(pthread_create(&rep, NULL, replace_thread, &s), 0);
	for (unsigned int t = 0; t < NDEV; t++)
		pthread_join(dev_thr[t], NULL);
	pthread_join(rep, NULL);
	for (unsigned int t = 0; t < NDEV; t++)
		want += s.sent[t];
	/* The RID ends on the fault-capable HWPT: the VMM answers the rest. */
	for (int i = 0; i < 20000 &&
	     __atomic_load_n(&m->total, __ATOMIC_ACQUIRE) < want; i++)
		usleep(1000);
	__atomic_store_n(&s.stop_vmm, true, __ATOMIC_RELEASE);
	pthread_join(vmm, NULL);

	print_message("%u groups: %u SUCCESS, %u INVALID, %u FAILURE, %u wakes\n",
		      want, m->codes[0], m->codes[1], m->codes[2], m->wakes);
	assert_int_equal(s.report_errors, 0);
	assert_int_equal(s.vmm_errors, 0);
	assert_int_equal(s.replace_errors, 0);
	assert_int_equal(m->bad, 0);
	for (unsigned int t = 0; t < NDEV; t++)
		for (unsigned int g = t * PER_DEV; g < (t + 1) * PER_DEV; g++)
			if (m->seen[g] != (g - t * PER_DEV < s.sent[t]))
				fail_msg("group %u: %u responses", g, m->seen[g]);
	assert_int_equal(m->total, want);
	assert_true(m->wakes > 0);
	assert_int_equal(m->wake_early, 0);
	/* Everything answered, the queue empty: the fd is not readable. */
	assert_false(readable(s.fd));

	sio_iopf_device_disable(s.dev);
	assert_int_equal(m->total, want);
	sio_device_put(s.dev);
	sio_file_put(s.file);
	assert_int_equal(sio_file_close(s.fd), 0);
	assert_int_equal(replace(f, s.stdev, s.parent), 0);
	assert_int_equal(destroy(f, s.iopf), 0);
	assert_int_equal(destroy(f, fault), 0);
	assert_int_equal(destroy(f, s.stdev), 0);
	assert_int_equal(destroy(f, s.parent), 0);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fault_fd_storm, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
