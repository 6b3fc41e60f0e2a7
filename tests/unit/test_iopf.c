/*
 * I/O page faults: page requests grouped per device, dispatched through the
 * attach handle at (device, PASID), answered exactly once; automatic
 * answers when a handle is detached or replaced (only that handle's), when
 * page requests are disabled; limits; the device model's wake op; requests
 * the data path raises; the SVA handler resolving through the mm.
 */
#include <unistd.h>

#include "helpers.h"
#include "softiommu/sva.h"

#include "softiommu/iopf.h"
#include "softiommu/mm.h"
#include "core/core.h"

#define MAXG 16

/* A handler that keeps the groups it is given until the test answers. */
struct thandler {
	struct sio_iopf_handler h;
	int refuse;			/* returned by handle */
	struct sio_iopf_group *held[MAXG];
	unsigned int nheld, nhandled, nflush;
	struct sio_attach_handle *flushed;	/* last flush's handle */
	bool flush_answers;		/* flush answers its groups itself */
};

/* The device model: counts the responses it gets. */
struct tmodel {
	unsigned int n[3];
	struct sio_page_response last;
};

struct fix {
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_device *dev;		/* PASID-capable */
	struct sio_group *group;
	struct sio_domain *d1, *d2;	/* fault-capable paging */
	struct thandler th;
	struct tmodel model;
	char *buf;
};

static struct thandler *to_th(struct sio_iopf_handler *h)
{
	return sio_container_of(h, struct thandler, h);
}

static int th_handle(struct sio_iopf_handler *h, struct sio_iopf_group *g)
{
	struct thandler *th = to_th(h);

	th->nhandled++;
	if (th->refuse)
		return th->refuse;
	assert_true(th->nheld < MAXG);
	th->held[th->nheld++] = g;
	return 0;
}

/* Drop held[i] from the list (after answering it). */
static void th_forget(struct thandler *th, unsigned int i)
{
	th->held[i] = th->held[--th->nheld];
}

static void th_flush(struct sio_iopf_handler *h, struct sio_attach_handle *handle)
{
	struct thandler *th = to_th(h);

	th->nflush++;
	th->flushed = handle;
	if (!th->flush_answers)
		return;
	for (unsigned int i = 0; i < th->nheld;) {
		if (sio_iopf_group_handle(th->held[i]) != handle) {
			i++;
			continue;
		}
		assert_int_equal(sio_iopf_group_respond(th->held[i],
							SIO_PAGE_RESP_INVALID), 0);
		th_forget(th, i);
	}
}

static const struct sio_iopf_handler_ops th_ops = {
	.handle = th_handle,
	.flush = th_flush,
};

static void model_response(struct sio_device *dev, void *arg,
			   const struct sio_page_response *resp)
{
	struct tmodel *m = arg;

	assert_true(resp->code <= SIO_PAGE_RESP_FAILURE);
	m->n[resp->code]++;
	m->last = *resp;
}

static const struct sio_iopf_device_ops model_ops = {
	.page_response = model_response,
};

static unsigned int nresp(const struct tmodel *m)
{
	return m->n[0] + m->n[1] + m->n[2];
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	f->sys = t_system();
	f->iommu = t_mock(f->sys, NULL);
	f->dev = t_probe(f->iommu, "dev", 0, 0, SIO_MOCK_DEV_PASID);
	f->group = t_group(f->dev);
	f->d1 = t_paging(f->dev, 0);
	f->d2 = t_paging(f->dev, 0);
	f->th.h.ops = &th_ops;
	assert_int_equal(sio_domain_set_iopf_handler(f->d1, &f->th.h), 0);
	assert_int_equal(sio_domain_set_iopf_handler(f->d2, &f->th.h), 0);
	assert_int_equal(sio_iopf_device_enable(f->dev, &model_ops, &f->model,
						NULL), 0);
	f->buf = t_buf(T_PG, T_PG);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	/* Tests answer what they hold and leave nothing attached. */
	assert_int_equal(f->th.nheld, 0);
	sio_iopf_device_disable(f->dev);
	assert_int_equal(sio_domain_free(f->d1), 0);
	assert_int_equal(sio_domain_free(f->d2), 0);
	sio_group_put(f->group);
	t_unprobe(f->dev);
	assert_int_equal(sio_system_destroy(f->sys), 0);
	free(f->buf);
	free(f);
	return 0;
}

static struct sio_page_request req(sio_pasid_t pasid, uint32_t grpid,
				   uint64_t addr, bool last)
{
	struct sio_page_request r = {
		.pasid = pasid,
		.grpid = grpid,
		.perm = SIO_DMA_READ,
		.flags = last ? SIO_PRQ_LAST : 0,
		.addr = addr,
	};
	return r;
}

static int report(struct fix *f, sio_pasid_t pasid, uint32_t grpid,
		  uint64_t addr, bool last)
{
	struct sio_page_request r = req(pasid, grpid, addr, last);

	return sio_iopf_report(f->dev, &r);
}

static void test_enable_errors(void **state)
{
	struct fix *f = *state;
	struct sio_iopf_device_ops none = { 0 };
	struct sio_iopf_stats st;
	struct sio_page_request r = req(SIO_NO_PASID, 1, 0, true);

	assert_int_equal(sio_iopf_device_enable(f->dev, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(sio_iopf_device_enable(f->dev, &none, NULL, NULL), -EINVAL);
	assert_int_equal(sio_iopf_device_enable(f->dev, &model_ops, NULL, NULL),
			 -EBUSY);
	sio_iopf_device_disable(f->dev);
	sio_iopf_device_disable(f->dev);	/* idempotent */
	assert_int_equal(sio_iopf_device_stats(f->dev, &st), -ENODEV);
	assert_int_equal(sio_iopf_report(f->dev, &r), -ENODEV);
	assert_int_equal(nresp(&f->model), 0);
	r.pasid = 1u << 20;
	assert_int_equal(sio_iopf_report(f->dev, &r), -EINVAL);
	assert_int_equal(sio_iopf_report(NULL, &r), -EINVAL);
	assert_int_equal(sio_iopf_device_enable(f->dev, &model_ops, &f->model,
						NULL), 0);
	assert_int_equal(sio_iopf_device_stats(f->dev, &st), 0);
	assert_int_equal(st.requests, 0);
}

static void test_handler_errors(void **state)
{
	struct fix *f = *state;
	struct sio_iopf_handler_ops no_handle = { 0 };
	struct sio_iopf_handler bad = { .ops = &no_handle };
	struct sio_domain *blocked = NULL;

	assert_ptr_equal(sio_domain_iopf_handler(f->d1), &f->th.h);
	assert_int_equal(sio_domain_set_iopf_handler(f->d1, &bad), -EINVAL);
	assert_int_equal(sio_domain_get_blocked(f->dev, &blocked), 0);
	assert_int_equal(sio_domain_set_iopf_handler(blocked, &f->th.h), -EINVAL);
	assert_int_equal(sio_attach_group(f->d1, f->group, NULL), 0);
	assert_int_equal(sio_domain_set_iopf_handler(f->d1, NULL), -EBUSY);
	sio_detach_group(f->group);
	assert_int_equal(sio_domain_set_iopf_handler(f->d1, NULL), 0);
	assert_null(sio_domain_iopf_handler(f->d1));
	assert_int_equal(sio_domain_set_iopf_handler(f->d1, &f->th.h), 0);
}

/* Nothing to take the group: INVALID at once, one response. */
static void test_no_handler(void **state)
{
	struct fix *f = *state;
	struct t_handle h = { 0 };
	struct sio_domain *plain = t_paging(f->dev, 0);

	assert_int_equal(report(f, SIO_NO_PASID, 3, 0x1000, true), -EINVAL);
	assert_int_equal(f->model.n[SIO_PAGE_RESP_INVALID], 1);
	assert_int_equal(f->model.last.grpid, 3);
	/* Attached without a handle. */
	assert_int_equal(sio_attach_group(f->d1, f->group, NULL), 0);
	assert_int_equal(report(f, SIO_NO_PASID, 4, 0x1000, true), -EINVAL);
	sio_detach_group(f->group);
	/* A handle, but the domain cannot take faults. */
	assert_int_equal(sio_attach_group(plain, f->group, &h.handle), 0);
	assert_int_equal(report(f, SIO_NO_PASID, 5, 0x1000, true), -EINVAL);
	/* A PASID with nothing attached: the RID is not nested. */
	assert_int_equal(report(f, 7, 6, 0x1000, true), -EINVAL);
	sio_detach_group(f->group);
	assert_int_equal(f->model.n[SIO_PAGE_RESP_INVALID], 4);
	assert_int_equal(nresp(&f->model), 4);
	assert_int_equal(f->th.nhandled, 0);
	assert_int_equal(sio_domain_free(plain), 0);
}

/* Partial requests wait for their last; the group answers once. */
static void test_group_collect(void **state)
{
	struct fix *f = *state;
	struct t_handle h = { 0 };
	const struct sio_page_request *reqs;
	struct sio_iopf_stats st;
	size_t n;

	assert_int_equal(sio_attach_group(f->d1, f->group, &h.handle), 0);
	assert_int_equal(report(f, SIO_NO_PASID, 9, 0x1000, false), 0);
	assert_int_equal(report(f, SIO_NO_PASID, 8, 0x5000, false), 0);
	assert_int_equal(report(f, 3, 9, 0x6000, false), 0);	/* other PASID */
	assert_int_equal(report(f, SIO_NO_PASID, 9, 0x2000, false), 0);
	assert_int_equal(f->th.nhandled, 0);
	assert_int_equal(nresp(&f->model), 0);
	assert_int_equal(report(f, SIO_NO_PASID, 9, 0x3000, true), 0);
	assert_int_equal(f->th.nheld, 1);

	reqs = sio_iopf_group_requests(f->th.held[0], &n);
	assert_int_equal(n, 3);
	assert_int_equal(reqs[0].addr, 0x1000);
	assert_int_equal(reqs[1].addr, 0x2000);
	assert_int_equal(reqs[2].addr, 0x3000);
	assert_ptr_equal(sio_iopf_group_last(f->th.held[0]), &reqs[2]);
	assert_ptr_equal(sio_iopf_group_device(f->th.held[0]), f->dev);
	assert_ptr_equal(sio_iopf_group_handle(f->th.held[0]), &h.handle);
	assert_ptr_equal(sio_iopf_group_domain(f->th.held[0]), f->d1);

	assert_int_equal(sio_iopf_device_stats(f->dev, &st), 0);
	assert_int_equal(st.requests, 5);
	assert_int_equal(st.groups, 1);
	assert_int_equal(st.outstanding, 1);
	assert_int_equal(st.partial, 2);	/* grpid 8, and PASID 3's */

	assert_int_equal(sio_iopf_group_respond(f->th.held[0], 7), -EINVAL);
	assert_int_equal(sio_iopf_group_respond(f->th.held[0],
						SIO_PAGE_RESP_SUCCESS), 0);
	th_forget(&f->th, 0);
	assert_int_equal(nresp(&f->model), 1);
	assert_int_equal(f->model.n[SIO_PAGE_RESP_SUCCESS], 1);
	assert_int_equal(f->model.last.grpid, 9);
	assert_int_equal(f->model.last.addr, 0x3000);
	assert_int_equal(f->model.last.pasid, SIO_NO_PASID);
	assert_int_equal(sio_iopf_device_stats(f->dev, &st), 0);
	assert_int_equal(st.outstanding, 0);
	assert_int_equal(st.responses[SIO_PAGE_RESP_SUCCESS], 1);

	/* Detach: nothing left for that handle; the partials stay. */
	sio_detach_group(f->group);
	assert_int_equal(nresp(&f->model), 1);
	assert_int_equal(f->th.nflush, 1);
	assert_ptr_equal(f->th.flushed, &h.handle);
}

/*
 * The attach-handle design's open question: detaching the RID answers the
 * RID's groups only, detaching a PASID only that PASID's, each before the
 * detach returns.
 */
static void test_detach_answers_its_handle_only(void **state)
{
	struct fix *f = *state;
	struct t_handle rid = { 0 }, p5 = { 0 };
	struct sio_iopf_stats st;

	assert_int_equal(sio_attach_group(f->d1, f->group, &rid.handle), 0);
	assert_int_equal(sio_attach_device_pasid(f->d2, f->dev, 5, &p5.handle), 0);
	assert_int_equal(report(f, SIO_NO_PASID, 1, 0x1000, true), 0);
	assert_int_equal(report(f, 5, 2, 0x2000, true), 0);
	assert_int_equal(report(f, 5, 3, 0x3000, true), 0);
	assert_int_equal(f->th.nheld, 3);
	assert_ptr_equal(sio_iopf_group_handle(f->th.held[0]), &rid.handle);
	assert_ptr_equal(sio_iopf_group_handle(f->th.held[1]), &p5.handle);

	/* The handler does not flush: the layer answers for it. */
	sio_detach_group(f->group);
	assert_int_equal(f->model.n[SIO_PAGE_RESP_INVALID], 1);
	assert_int_equal(f->model.last.grpid, 1);
	assert_int_equal(nresp(&f->model), 1);
	/* The handler's late answer is refused and never reaches the device. */
	assert_int_equal(sio_iopf_group_respond(f->th.held[0],
						SIO_PAGE_RESP_SUCCESS), -EALREADY);
	th_forget(&f->th, 0);
	assert_int_equal(nresp(&f->model), 1);
	assert_int_equal(sio_iopf_device_stats(f->dev, &st), 0);
	assert_int_equal(st.outstanding, 2);

	/* The PASID's groups are still there; its detach answers them. */
	f->th.flush_answers = true;
	sio_detach_device_pasid(f->d2, f->dev, 5);
	assert_ptr_equal(f->th.flushed, &p5.handle);
	assert_int_equal(f->th.nheld, 0);
	assert_int_equal(f->model.n[SIO_PAGE_RESP_INVALID], 3);
	assert_int_equal(nresp(&f->model), 3);
	assert_int_equal(sio_iopf_device_stats(f->dev, &st), 0);
	assert_int_equal(st.outstanding, 0);
	assert_int_equal(st.responses[SIO_PAGE_RESP_INVALID], 3);
}

/* Replace answers the old handle's groups; the new handle gets new ones. */
static void test_replace_answers_old_handle(void **state)
{
	struct fix *f = *state;
	struct t_handle a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };

	assert_int_equal(sio_attach_device_pasid(f->d1, f->dev, 7, &a.handle), 0);
	assert_int_equal(report(f, 7, 1, 0x1000, true), 0);
	assert_int_equal(sio_replace_device_pasid(f->d2, f->dev, 7, &b.handle), 0);
	assert_int_equal(f->model.n[SIO_PAGE_RESP_INVALID], 1);
	assert_int_equal(report(f, 7, 2, 0x2000, true), 0);
	assert_ptr_equal(sio_iopf_group_handle(f->th.held[1]), &b.handle);
	assert_int_equal(sio_iopf_group_respond(f->th.held[0],
						SIO_PAGE_RESP_SUCCESS), -EALREADY);
	assert_int_equal(sio_iopf_group_respond(f->th.held[1],
						SIO_PAGE_RESP_SUCCESS), 0);
	f->th.nheld = 0;
	sio_detach_device_pasid(f->d2, f->dev, 7);

	/* The same on the RID, through the same domain with a new handle. */
	assert_int_equal(sio_attach_group(f->d1, f->group, &c.handle), 0);
	assert_int_equal(report(f, SIO_NO_PASID, 3, 0x3000, true), 0);
	f->th.flush_answers = true;
	assert_int_equal(sio_replace_group(f->group, f->d1, &d.handle), 0);
	assert_ptr_equal(f->th.flushed, &c.handle);
	assert_int_equal(f->th.nheld, 0);
	assert_int_equal(f->model.n[SIO_PAGE_RESP_INVALID], 2);
	assert_int_equal(f->model.n[SIO_PAGE_RESP_SUCCESS], 1);
	sio_detach_group(f->group);
	assert_int_equal(nresp(&f->model), 3);
}

/* A failed replace keeps the old handle and its groups. */
static void test_failed_replace_keeps_groups(void **state)
{
	struct fix *f = *state;
	struct t_handle a = { 0 }, b = { 0 };

	/* The mock fails every second attach of PASID 1024. */
	assert_int_equal(sio_attach_device_pasid(f->d1, f->dev,
						 SIO_MOCK_PASID_RESERVED,
						 &a.handle), 0);
	assert_int_equal(report(f, SIO_MOCK_PASID_RESERVED, 1, 0x1000, true), 0);
	assert_int_equal(sio_replace_device_pasid(f->d2, f->dev,
						  SIO_MOCK_PASID_RESERVED,
						  &b.handle), -ENOMEM);
	assert_int_equal(nresp(&f->model), 0);
	assert_int_equal(f->th.nflush, 0);
	assert_int_equal(sio_iopf_group_respond(f->th.held[0],
						SIO_PAGE_RESP_SUCCESS), 0);
	f->th.nheld = 0;
	sio_detach_device_pasid(f->d1, f->dev, SIO_MOCK_PASID_RESERVED);
	assert_int_equal(nresp(&f->model), 1);
}

static void test_limits(void **state)
{
	struct fix *f = *state;
	struct sio_iopf_limits lim = { .max_groups = 2, .max_partial = 1 };
	struct t_handle h = { 0 };
	struct sio_iopf_stats st;

	sio_iopf_device_disable(f->dev);
	assert_int_equal(sio_iopf_device_enable(f->dev, &model_ops, &f->model,
						&lim), 0);
	assert_int_equal(sio_attach_group(f->d1, f->group, &h.handle), 0);
	assert_int_equal(report(f, SIO_NO_PASID, 1, 0x1000, false), 0);
	assert_int_equal(report(f, SIO_NO_PASID, 2, 0x1000, false), -ENOSPC);
	assert_int_equal(report(f, SIO_NO_PASID, 1, 0x2000, true), 0);
	assert_int_equal(report(f, SIO_NO_PASID, 3, 0x3000, true), 0);
	/* A third outstanding group is refused: FAILURE, with its partials. */
	assert_int_equal(report(f, SIO_NO_PASID, 4, 0x4000, false), 0);
	assert_int_equal(report(f, SIO_NO_PASID, 4, 0x5000, true), -EBUSY);
	assert_int_equal(f->model.n[SIO_PAGE_RESP_FAILURE], 1);
	assert_int_equal(f->model.last.grpid, 4);
	assert_int_equal(sio_iopf_device_stats(f->dev, &st), 0);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(st.partial, 0);
	assert_int_equal(st.outstanding, 2);
	/* Answering one makes room again. */
	assert_int_equal(sio_iopf_group_respond(f->th.held[0],
						SIO_PAGE_RESP_SUCCESS), 0);
	th_forget(&f->th, 0);
	assert_int_equal(report(f, SIO_NO_PASID, 5, 0x5000, true), 0);
	f->th.flush_answers = true;
	sio_detach_group(f->group);
	assert_int_equal(f->th.nheld, 0);
	assert_int_equal(nresp(&f->model), 4);
}

/* A handler that refuses: FAILURE, and it holds nothing. */
static void test_handler_refuses(void **state)
{
	struct fix *f = *state;
	struct t_handle h = { 0 };

	f->th.refuse = -ENOMEM;
	assert_int_equal(sio_attach_group(f->d1, f->group, &h.handle), 0);
	assert_int_equal(report(f, SIO_NO_PASID, 1, 0x1000, true), -ENOMEM);
	assert_int_equal(f->model.n[SIO_PAGE_RESP_FAILURE], 1);
	assert_int_equal(nresp(&f->model), 1);
	sio_detach_group(f->group);
	assert_int_equal(nresp(&f->model), 1);
}

/* Disable answers what is outstanding; nothing reaches the model after. */
static void test_disable_answers(void **state)
{
	struct fix *f = *state;
	struct t_handle h = { 0 };

	assert_int_equal(sio_attach_device_pasid(f->d1, f->dev, 2, &h.handle), 0);
	assert_int_equal(report(f, 2, 1, 0x1000, true), 0);
	assert_int_equal(report(f, 2, 2, 0x1000, false), 0);
	sio_iopf_device_disable(f->dev);
	assert_int_equal(f->model.n[SIO_PAGE_RESP_INVALID], 1);
	assert_int_equal(sio_iopf_group_respond(f->th.held[0],
						SIO_PAGE_RESP_SUCCESS), -EALREADY);
	th_forget(&f->th, 0);
	assert_int_equal(report(f, 2, 2, 0x1000, true), -ENODEV);
	assert_int_equal(nresp(&f->model), 1);
	sio_detach_device_pasid(f->d1, f->dev, 2);
	assert_int_equal(sio_iopf_device_enable(f->dev, &model_ops, &f->model,
						NULL), 0);
}

/* A model with a wake op: it comes after the responses, with the device's
 * fault lock dropped (it takes that lock itself here, through the stats),
 * once per answering call, and never after disable returned. */
struct wmodel {
	struct sio_device *dev;
	unsigned int responses, wakes;
	bool disabling;			/* the stats are gone: -ENODEV */
};

static void wmodel_response(struct sio_device *dev, void *arg,
			    const struct sio_page_response *resp)
{
	struct wmodel *m = arg;

	(void)dev;
	(void)resp;
	m->responses++;
}

static void wmodel_wake(struct sio_device *dev, void *arg)
{
	struct wmodel *m = arg;
	struct sio_iopf_stats st;

	assert_ptr_equal(dev, m->dev);
	/* Deadlocks (or trips the lock checks) if st->lock were held. */
	if (m->disabling) {
		assert_int_equal(sio_iopf_device_stats(dev, &st), -ENODEV);
	} else {
		assert_int_equal(sio_iopf_device_stats(dev, &st), 0);
		assert_int_equal(st.responses[0] + st.responses[1] +
				 st.responses[2], m->responses);
	}
	m->wakes++;
}

static const struct sio_iopf_device_ops wmodel_ops = {
	.page_response = wmodel_response,
	.wake = wmodel_wake,
};

static void test_wake_op(void **state)
{
	struct fix *f = *state;
	struct wmodel m = { .dev = f->dev };
	struct t_handle h = { 0 };

	sio_iopf_device_disable(f->dev);
	assert_int_equal(sio_iopf_device_enable(f->dev, &wmodel_ops, &m, NULL),
			 0);
	/* Refused at once on the reporting thread: a wake there too. */
	assert_int_equal(report(f, 2, 1, 0x1000, true), -EINVAL);
	assert_int_equal(m.responses, 1);
	assert_int_equal(m.wakes, 1);
	/* A partial request answers nothing: no wake. */
	assert_int_equal(sio_attach_device_pasid(f->d1, f->dev, 2, &h.handle), 0);
	assert_int_equal(report(f, 2, 2, 0x1000, false), 0);
	assert_int_equal(report(f, 2, 2, 0x2000, true), 0);
	assert_int_equal(report(f, 2, 3, 0x3000, true), 0);
	assert_int_equal(m.wakes, 1);
	assert_int_equal(f->th.nheld, 2);
	/* The handler's answer. */
	assert_int_equal(sio_iopf_group_respond(f->th.held[0],
						SIO_PAGE_RESP_SUCCESS), 0);
	th_forget(&f->th, 0);
	assert_int_equal(m.responses, 2);
	assert_int_equal(m.wakes, 2);
	/* Disable answers the other group and wakes before it returns. */
	m.disabling = true;
	sio_iopf_device_disable(f->dev);
	assert_int_equal(m.responses, 3);
	assert_int_equal(m.wakes, 3);
	assert_int_equal(sio_iopf_group_respond(f->th.held[0],
						SIO_PAGE_RESP_SUCCESS), -EALREADY);
	th_forget(&f->th, 0);
	assert_int_equal(m.wakes, 3);
	sio_detach_device_pasid(f->d1, f->dev, 2);
	assert_int_equal(sio_iopf_device_enable(f->dev, &model_ops, &f->model,
						NULL), 0);
}

/* PASID requests reach a nested domain on the RID when the guest owns the
 * PASID table (the mock's user_pasid_table). */
static void test_user_pasid_table(void **state)
{
	struct fix *f = *state;
	struct sio_mock_hwpt_data data = { .iotlb = 1 };
	struct sio_user_data ud = { .type = SIO_MOCK_HWPT_DATA, .buf = &data,
				    .len = sizeof(data) };
	struct sio_domain *parent = t_paging(f->dev, SIO_DOMAIN_ALLOC_NEST_PARENT);
	struct sio_domain *n = NULL;
	struct t_handle h = { 0 }, p = { 0 };

	assert_true(sio_iommu_caps(f->iommu)->features & SIO_FEAT_USER_PASID_TABLE);
	assert_int_equal(sio_domain_alloc_nested(f->dev, parent, 0, &ud, &n), 0);
	assert_int_equal(sio_domain_set_iopf_handler(n, &f->th.h), 0);
	assert_int_equal(sio_attach_group(n, f->group, &h.handle), 0);
	assert_int_equal(report(f, 1, 2, 0xdeadbeaf, true), 0);
	assert_ptr_equal(sio_iopf_group_handle(f->th.held[0]), &h.handle);
	/* A PASID that is attached goes to its own handle. */
	assert_int_equal(sio_attach_device_pasid(f->d1, f->dev, 1, &p.handle), 0);
	assert_int_equal(report(f, 1, 3, 0xdeadbeaf, true), 0);
	assert_ptr_equal(sio_iopf_group_handle(f->th.held[1]), &p.handle);
	f->th.flush_answers = true;
	sio_detach_device_pasid(f->d1, f->dev, 1);
	sio_detach_group(f->group);
	assert_int_equal(f->th.nheld, 0);
	assert_int_equal(f->model.n[SIO_PAGE_RESP_INVALID], 2);
	assert_int_equal(sio_domain_free(n), 0);
	assert_int_equal(sio_domain_free(parent), 0);
}

/*
 * The data path asks for the page: a DMA through a fault-capable domain
 * that misses sends a request and returns -EAGAIN; the handler maps the
 * page and answers SUCCESS; the retried DMA works.
 */
static void test_dma_raises_request(void **state)
{
	struct fix *f = *state;
	struct t_handle h = { 0 };
	struct sio_dma_fault fault;
	const struct sio_page_request *last;
	char out[4];

	strcpy(f->buf, "hi!");
	assert_int_equal(sio_attach_device_pasid(f->d1, f->dev, 9, &h.handle), 0);
	assert_int_equal(sio_dma_read(f->dev, 9, T_IOVA + 8, out, 4, &fault),
			 -EAGAIN);
	assert_int_equal(fault.reason, SIO_FAULT_NOT_MAPPED);
	assert_int_equal(f->th.nheld, 1);
	last = sio_iopf_group_last(f->th.held[0]);
	assert_int_equal(last->addr, T_IOVA + 8);
	assert_int_equal(last->pasid, 9);
	assert_int_equal(last->perm, SIO_DMA_READ);
	assert_true(last->flags & SIO_PRQ_LAST);

	assert_int_equal(sio_map(f->d1, T_IOVA, t_pa(f->buf), T_PG,
				 SIO_PROT_READ), 0);
	assert_int_equal(sio_iopf_group_respond(f->th.held[0],
						SIO_PAGE_RESP_SUCCESS), 0);
	th_forget(&f->th, 0);
	assert_int_equal(f->model.last.addr, T_IOVA + 8);
	assert_int_equal(sio_dma_read(f->dev, 9, T_IOVA, out, 4, &fault), 0);
	assert_string_equal(out, "hi!");

	/* Not allowed: a write to a read-only page asks too. */
	assert_int_equal(sio_dma_write(f->dev, 9, T_IOVA, "x", 1, &fault),
			 -EAGAIN);
	assert_int_equal(fault.reason, SIO_FAULT_PERMISSION);
	assert_int_equal(sio_iopf_group_last(f->th.held[0])->perm, SIO_DMA_WRITE);
	f->th.flush_answers = true;
	sio_detach_device_pasid(f->d1, f->dev, 9);
	assert_int_equal(f->th.nheld, 0);

	/* A domain without a handler just faults. */
	f->th.flush_answers = false;
	assert_int_equal(sio_domain_set_iopf_handler(f->d2, NULL), 0);
	assert_int_equal(sio_attach_device_pasid(f->d2, f->dev, 9, &h.handle), 0);
	assert_int_equal(sio_dma_read(f->dev, 9, T_IOVA, out, 4, &fault), -EFAULT);
	sio_detach_device_pasid(f->d2, f->dev, 9);
	/* Nor does a device without page requests enabled. */
	sio_iopf_device_disable(f->dev);
	assert_int_equal(sio_attach_device_pasid(f->d1, f->dev, 9, &h.handle), 0);
	assert_int_equal(sio_dma_read(f->dev, 9, T_IOVA + T_PG, out, 4, &fault),
			 -EFAULT);
	sio_detach_device_pasid(f->d1, f->dev, 9);
	assert_int_equal(f->th.nhandled, 2);
	assert_int_equal(sio_unmap(f->d1, T_IOVA, T_PG), (ssize_t)T_PG);
	assert_int_equal(sio_iopf_device_enable(f->dev, &model_ops, &f->model,
						NULL), 0);
}

/* Wait (bounded) until dev has delivered n responses. */
static void wait_responses(struct sio_device *dev, uint64_t n)
{
	struct sio_iopf_stats st;

	for (int i = 0; i < 5000; i++) {
		assert_int_equal(sio_iopf_device_stats(dev, &st), 0);
		if (st.responses[0] + st.responses[1] + st.responses[2] >= n)
			return;
		usleep(1000);
	}
	fail_msg("no response after 5 s");
}

/*
 * The SVA handler: a page request on an SVA domain is resolved through
 * the mm's fault handler on the handler's thread: SUCCESS, the page is
 * now present and the device's retried DMA sees the CPU's data; a request
 * outside any mapping is INVALID.
 */
static void test_sva_handler(void **state)
{
	struct sio_soft_config cfg = { .format = SIO_PT_X86_64, .pasid_bits = 20 };
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = NULL;
	struct sio_device *dev;
	struct sio_domain *sva = NULL;
	struct sio_iopf_sva *q = NULL;
	struct sio_mm *mm = NULL;
	struct tmodel model = { 0 };
	struct t_handle h = { 0 };
	struct sio_xlate x;
	uint64_t va;
	struct sio_page_request r = { .pasid = 5, .grpid = 1,
				      .perm = SIO_DMA_READ | SIO_DMA_WRITE,
				      .flags = SIO_PRQ_LAST };
	char out[8];

	(void)state;
	assert_int_equal(sio_soft_iommu_create(sys, "soft", &cfg, &iommu), 0);
	dev = t_probe(iommu, "sva-dev", 0, 20, 0);
	assert_int_equal(sio_mm_create(&mm), 0);
	assert_int_equal(sio_mm_mmap(mm, 0, 4 * 4096, SIO_PROT_READ | SIO_PROT_WRITE,
				     0, &va), 0);
	assert_int_equal(sio_iopf_sva_create(2, &q), 0);
	assert_int_equal(sio_iopf_sva_create(0, &q), -EINVAL);
	assert_int_equal(sio_domain_alloc_sva(dev, mm, &sva), 0);
	assert_int_equal(sio_domain_set_iopf_handler(sva, sio_iopf_sva_handler(q)), 0);
	assert_int_equal(sio_attach_device_pasid(sva, dev, 5, &h.handle), 0);
	assert_int_equal(sio_iopf_device_enable(dev, &model_ops, &model, NULL), 0);

	/* Not present yet: the page comes with the response. */
	assert_int_not_equal(sio_mm_lookup(mm, va + 4096, &x), 0);
	r.addr = va + 4096 + 8;
	assert_int_equal(sio_iopf_report(dev, &r), 0);
	wait_responses(dev, 1);
	assert_int_equal(model.n[SIO_PAGE_RESP_SUCCESS], 1);
	assert_int_equal(sio_mm_lookup(mm, va + 4096, &x), 0);
	assert_int_equal(sio_mm_write(mm, va + 4096 + 8, "cpu", 4), 0);
	assert_int_equal(sio_dma_read(dev, 5, va + 4096 + 8, out, 4, NULL), 0);
	assert_string_equal(out, "cpu");

	/* Nothing mapped there: INVALID. */
	r.addr = va + 64 * 4096;
	r.grpid = 2;
	assert_int_equal(sio_iopf_report(dev, &r), 0);
	wait_responses(dev, 2);
	assert_int_equal(model.n[SIO_PAGE_RESP_INVALID], 1);
	assert_int_equal(model.last.grpid, 2);

	sio_detach_device_pasid(sva, dev, 5);
	sio_iopf_device_disable(dev);
	assert_int_equal(sio_domain_free(sva), 0);
	sio_iopf_sva_destroy(q);
	sio_mm_put(mm);
	t_unprobe(dev);
	assert_int_equal(sio_system_destroy(sys), 0);
}

/*
 * The whole SVA path: with the SVA handler installed, a bound device's DMA
 * to a page the process has not touched is a page request (-EAGAIN), the
 * mm's fault handler makes the page present, the response comes back and
 * the retried DMA reaches the process's memory.  Unbind detaches it.
 */
static void test_sva_bind_page_request(void **state)
{
	struct sio_soft_config cfg = { .format = SIO_PT_X86_64, .pasid_bits = 20 };
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = NULL;
	struct sio_iopf_sva *q = NULL;
	struct tmodel model = { 0 };
	struct sio_dma_fault f;
	struct sio_device *dev;
	struct sio_sva *bond;
	struct sio_mm *mm = NULL;
	sio_pasid_t pasid;
	uint64_t va;
	char out[8] = { 0 };

	(void)state;
	assert_int_equal(sio_soft_iommu_create(sys, "soft", &cfg, &iommu), 0);
	dev = t_probe(iommu, "sva-prq", 0, 20, 0);
	assert_int_equal(sio_mm_create(&mm), 0);
	assert_int_equal(sio_mm_mmap(mm, 0, 4 * 4096,
				     SIO_PROT_READ | SIO_PROT_WRITE, 0, &va), 0);
	assert_int_equal(sio_iopf_sva_create(1, &q), 0);
	sio_iopf_sva_install(sys, q);
	assert_int_equal(sio_iopf_device_enable(dev, &model_ops, &model, NULL), 0);
	assert_int_equal(sio_sva_bind_device(dev, mm, &bond), 0);
	pasid = sio_sva_get_pasid(bond);
	assert_non_null(sio_domain_iopf_handler(sio_sva_domain(bond)));

	assert_int_equal(sio_dma_write(dev, pasid, va + 2 * 4096, "dev", 4, &f),
			 -EAGAIN);
	assert_int_equal(f.reason, SIO_FAULT_NOT_MAPPED);
	wait_responses(dev, 1);
	assert_int_equal(model.n[SIO_PAGE_RESP_SUCCESS], 1);
	assert_int_equal(sio_dma_write(dev, pasid, va + 2 * 4096, "dev", 4, &f), 0);
	assert_int_equal(sio_mm_read(mm, va + 2 * 4096, out, 4), 0);
	assert_string_equal(out, "dev");

	/* Outside every mapping: the mm refuses, INVALID. */
	assert_int_equal(sio_dma_read(dev, pasid, va + 64 * 4096, out, 1, &f),
			 -EAGAIN);
	wait_responses(dev, 2);
	assert_int_equal(model.n[SIO_PAGE_RESP_INVALID], 1);

	sio_sva_unbind_device(bond);
	assert_int_equal(sio_dma_read(dev, pasid, va + 2 * 4096, out, 1, &f),
			 -ENOENT);
	sio_iopf_sva_install(sys, NULL);
	sio_iopf_device_disable(dev);
	sio_iopf_sva_destroy(q);
	sio_mm_put(mm);
	t_unprobe(dev);
	assert_int_equal(sio_system_destroy(sys), 0);
}

/*
 * The SVA domain hook and the page-fault layer's handle retirement are the
 * system's: installing the SVA handler on one system leaves the SVA
 * domains of another without a fault handler, and enabling page requests
 * on a device registers the retirement on that device's system only.
 */
static void test_sva_install_per_system(void **state)
{
	struct sio_soft_config cfg = { .format = SIO_PT_X86_64, .pasid_bits = 20 };
	struct sio_system *sys1 = t_system(), *sys2 = t_system();
	struct sio_iommu *i1 = NULL, *i2 = NULL;
	struct sio_device *d1, *d2;
	struct sio_iopf_sva *q = NULL;
	struct tmodel model = { 0 };
	struct sio_sva *b1, *b2;
	struct sio_mm *mm = NULL;

	(void)state;
	assert_int_equal(sio_soft_iommu_create(sys1, "soft", &cfg, &i1), 0);
	assert_int_equal(sio_soft_iommu_create(sys2, "soft", &cfg, &i2), 0);
	d1 = t_probe(i1, "sva-1", 0, 20, 0);
	d2 = t_probe(i2, "sva-2", 0, 20, 0);
	assert_int_equal(sio_mm_create(&mm), 0);
	assert_int_equal(sio_iopf_sva_create(1, &q), 0);

	sio_iopf_sva_install(sys1, q);
	assert_null(sys1->handle_retire);
	assert_int_equal(sio_iopf_device_enable(d1, &model_ops, &model, NULL), 0);
	assert_non_null(sys1->handle_retire);
	assert_null(sys2->handle_retire);

	assert_int_equal(sio_sva_bind_device(d1, mm, &b1), 0);
	assert_ptr_equal(sio_domain_iopf_handler(sio_sva_domain(b1)),
			 sio_iopf_sva_handler(q));
	/* The mm's PASID space is sys1's: d2 binds another mm. */
	sio_sva_unbind_device(b1);
	sio_mm_put(mm);
	assert_int_equal(sio_mm_create(&mm), 0);
	assert_int_equal(sio_sva_bind_device(d2, mm, &b2), 0);
	assert_null(sio_domain_iopf_handler(sio_sva_domain(b2)));
	sio_sva_unbind_device(b2);

	sio_iopf_sva_install(sys1, NULL);
	sio_iopf_device_disable(d1);
	sio_iopf_sva_destroy(q);
	sio_mm_put(mm);
	t_unprobe(d1);
	t_unprobe(d2);
	assert_int_equal(sio_system_destroy(sys1), 0);
	assert_int_equal(sio_system_destroy(sys2), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_enable_errors),
		T(test_handler_errors),
		T(test_no_handler),
		T(test_group_collect),
		T(test_detach_answers_its_handle_only),
		T(test_replace_answers_old_handle),
		T(test_failed_replace_keeps_groups),
		T(test_limits),
		T(test_handler_refuses),
		T(test_disable_answers),
		T(test_wake_op),
		T(test_user_pasid_table),
		T(test_dma_raises_request),
		cmocka_unit_test(test_sva_handler),
		cmocka_unit_test(test_sva_bind_page_request),
		cmocka_unit_test(test_sva_install_per_system),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
