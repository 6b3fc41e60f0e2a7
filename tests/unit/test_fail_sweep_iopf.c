/*
 * Page-fault delivery under every fault-injection point (fail_sweep.h):
 * page requests enabled on a device, a fault-capable domain attached on
 * the RID and on a PASID with attach handles, a group of two requests
 * that the handler answers at once, and a group it holds and answers
 * later; then everything detached, disabled and freed.  Each iteration
 * either fails with an errno or completes; the undo detaches (the handler
 * answers what it still holds), checks that every complete group got
 * exactly one answer and none is outstanding, disables page requests and
 * frees the domain (no leak under ASan).
 */
#include "helpers.h"
#include "softiommu/iopf.h"
#include "fail_sweep.h"

#define PASID 5
#define MAXG 4

struct handler {
	struct sio_iopf_handler h;
	struct sio_iopf_group *held[MAXG];
	unsigned int nheld;
};

struct model {
	unsigned int n[3];
};

struct pflow {
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_device *dev;
	struct sio_group *group;
	struct sio_domain *def;
	struct handler th;
	/* What one iteration built. */
	struct model model;
	bool enabled;
	struct sio_domain *d;
	struct sio_attach_handle rid, pasid;
};

static struct handler *to_th(struct sio_iopf_handler *h)
{
	return sio_container_of(h, struct handler, h);
}

/* Answer a group on the RID at once, hold one on a PASID. */
static int th_handle(struct sio_iopf_handler *h, struct sio_iopf_group *g)
{
	struct handler *th = to_th(h);

	if (sio_iopf_group_last(g)->pasid == SIO_NO_PASID)
		return sio_iopf_group_respond(g, SIO_PAGE_RESP_SUCCESS);
	if (th->nheld == MAXG)
		return -ENOSPC;
	th->held[th->nheld++] = g;
	return 0;
}

static void th_flush(struct sio_iopf_handler *h, struct sio_attach_handle *handle)
{
	struct handler *th = to_th(h);

	for (unsigned int i = 0; i < th->nheld;) {
		if (sio_iopf_group_handle(th->held[i]) != handle) {
			i++;
			continue;
		}
		sio_iopf_group_respond(th->held[i], SIO_PAGE_RESP_INVALID);
		th->held[i] = th->held[--th->nheld];
	}
}

static const struct sio_iopf_handler_ops th_ops = {
	.handle = th_handle,
	.flush = th_flush,
};

static void model_response(struct sio_device *dev, void *arg,
			   const struct sio_page_response *resp)
{
	struct model *m = arg;

	assert_true(resp->code <= SIO_PAGE_RESP_FAILURE);
	m->n[resp->code]++;
}

static const struct sio_iopf_device_ops model_ops = {
	.page_response = model_response,
};

static int pflow_setup(void **state)
{
	struct pflow *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->sys = t_system();
	f->iommu = t_mock(f->sys, NULL);
	f->dev = t_probe(f->iommu, "dev", 0, 0, SIO_MOCK_DEV_PASID);
	f->group = t_group(f->dev);
	f->def = sio_group_default_domain(f->group);
	f->th.h.ops = &th_ops;
	*state = f;
	return 0;
}

static int pflow_teardown(void **state)
{
	struct pflow *f = *state;

	sio_group_put(f->group);
	t_unprobe(f->dev);
	assert_int_equal(sio_system_destroy(f->sys), 0);
	free(f);
	return 0;
}

static int report(struct pflow *f, sio_pasid_t pasid, uint32_t grpid,
		  uint64_t addr, bool last)
{
	struct sio_page_request r = {
		.pasid = pasid,
		.grpid = grpid,
		.perm = SIO_DMA_READ,
		.flags = last ? SIO_PRQ_LAST : 0,
		.addr = addr,
	};

	return sio_iopf_report(f->dev, &r);
}

static int pflow_body(void *arg)
{
	struct pflow *f = arg;
	int rc;

	rc = sio_iopf_device_enable(f->dev, &model_ops, &f->model, NULL);
	if (rc)
		return rc;
	f->enabled = true;
	rc = sio_domain_alloc_paging(f->dev, 0, NULL, &f->d);
	if (!rc)
		rc = sio_domain_set_iopf_handler(f->d, &f->th.h);
	if (!rc)
		rc = sio_attach_group(f->d, f->group, &f->rid);
	if (!rc)
		rc = sio_attach_device_pasid(f->d, f->dev, PASID, &f->pasid);
	/* A group of two on the RID, answered by the handler at once. */
	if (!rc)
		rc = report(f, SIO_NO_PASID, 1, 0x1000, false);
	if (!rc)
		rc = report(f, SIO_NO_PASID, 1, 0x2000, true);
	/* One on the PASID, held. */
	if (!rc)
		rc = report(f, PASID, 2, 0x3000, true);
	if (rc)
		return rc;
	if (f->th.nheld != 1 || f->model.n[SIO_PAGE_RESP_SUCCESS] != 1)
		return -EIO;
	rc = sio_iopf_group_respond(f->th.held[0], SIO_PAGE_RESP_SUCCESS);
	f->th.nheld = 0;
	if (rc)
		return rc;
	if (f->model.n[SIO_PAGE_RESP_SUCCESS] != 2)
		return -EIO;
	/* And down again. */
	sio_detach_device_pasid(f->d, f->dev, PASID);
	sio_detach_group(f->group);
	sio_iopf_device_disable(f->dev);
	f->enabled = false;
	rc = sio_domain_free(f->d);
	if (rc)
		return rc;
	f->d = NULL;
	return 0;
}

static void pflow_undo(void *arg)
{
	struct pflow *f = arg;
	struct sio_iopf_stats st;

	/* No request of a group that was complete (dispatched, answered or
	 * refused) is left waiting: the body only reports whole groups. */
	if (f->enabled) {
		assert_int_equal(sio_iopf_device_stats(f->dev, &st), 0);
		assert_int_equal(st.partial, 0);
	}
	if (f->d && sio_device_pasid_domain(f->dev, PASID) == f->d)
		sio_detach_device_pasid(f->d, f->dev, PASID);
	sio_detach_group(f->group);
	/* Detach had the handler answer what it held. */
	assert_int_equal(f->th.nheld, 0);
	if (f->enabled) {
		assert_int_equal(sio_iopf_device_stats(f->dev, &st), 0);
		/* Every group answered, none waiting. */
		assert_int_equal(st.outstanding, 0);
		assert_true(st.responses[0] + st.responses[1] +
			    st.responses[2] >= st.groups);
		for (unsigned int i = 0; i < 3; i++)
			assert_int_equal(st.responses[i], f->model.n[i]);
		sio_iopf_device_disable(f->dev);
	}
	f->enabled = false;
	assert_int_equal(sio_iopf_device_stats(f->dev, &st), -ENODEV);
	if (f->d)
		assert_int_equal(sio_domain_free(f->d), 0);
	f->d = NULL;
	assert_ptr_equal(sio_group_domain(f->group), f->def);
	assert_null(sio_device_pasid_domain(f->dev, PASID));
	memset(&f->model, 0, sizeof(f->model));
	memset(&f->rid, 0, sizeof(f->rid));
	memset(&f->pasid, 0, sizeof(f->pasid));
}

static void iopf_sweep(void **state)
{
	struct pflow *f = *state;
	/* Enable, the domain, attaches, each request and each group. */
	fail_sweep_check("iopf", pflow_body, pflow_undo, f, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(iopf_sweep, pflow_setup,
						pflow_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
