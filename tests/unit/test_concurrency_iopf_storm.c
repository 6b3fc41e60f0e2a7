/*
 * A page-fault storm: injector threads send page requests (some in several
 * parts) on the RID and several PASIDs of one device, and DMA threads miss
 * on another device so that the data path raises its own, while control
 * threads attach, replace and detach fault-capable domains there with
 * fresh attach handles, freeing each handle as soon as its detach or
 * replace returns.  A queueing handler answers from worker threads.
 *
 * What must hold: every group gets exactly one response (counted per group
 * from the response's group ID), none is lost, the handler never sees a
 * handle after its detach returned (handles are poisoned before they are
 * freed, and ASan would see the access anyway), and the counters agree.
 * Worker threads never call cmocka asserts: they count what went wrong and
 * the test asserts once they are joined.  Runs under TSan and ASan.
 */
#include <pthread.h>
#include <sched.h>
#include <urcu/list.h>

#include "helpers.h"

#include "softiommu/iopf.h"

enum {
	NPASID = 4,		/* the RID and PASIDs 1..3 */
	NINJ = 2,		/* injector threads */
	GROUPS = 60000,		/* most groups an injector sends */
	CTL_ITERS = 1000,	/* attach/replace/detach rounds per control */
	NWORK = 2,		/* handler workers */
};

#define LIVE 0x1eaf1u
#define DEAD 0xdeadu

struct shandle {
	unsigned int magic;		/* LIVE until just before free */
	struct sio_attach_handle handle;
};

struct queued {
	struct cds_list_head node;
	struct sio_iopf_group *group;
};

struct world {
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_device *dev, *dmadev;
	struct sio_group *group, *dmagroup;
	struct sio_domain *d1, *d2;

	/* The handler: a queue served by workers. */
	struct sio_iopf_handler h;
	pthread_mutex_t qlock;		/* protects queue, stop; held by a
					 * worker while it answers */
	pthread_cond_t qcond;
	struct cds_list_head queue;
	bool stop;

	/* Responses per group: resp[injector][seq], and the DMA device's. */
	unsigned int resp[NINJ][GROUPS];	/* atomic */
	unsigned int sent[NINJ][GROUPS];	/* written by its injector */
	unsigned int dma_raised;	/* atomic */
	unsigned int dma_resp;		/* atomic */
	unsigned int bad;		/* atomic: anything unexpected */
	unsigned int late;		/* atomic: answers refused -EALREADY */
	unsigned int flushed;		/* atomic: dev's, answered by a flush */
	unsigned int ctl_left;		/* atomic: control threads running */
	unsigned int nsent[NINJ];	/* groups each injector sent */
	pthread_barrier_t start;	/* everyone starts together */
};

#define BAD(w) __atomic_add_fetch(&(w)->bad, 1, __ATOMIC_RELAXED)

static struct world *to_world(struct sio_iopf_handler *h)
{
	return sio_container_of(h, struct world, h);
}

static int h_handle(struct sio_iopf_handler *h, struct sio_iopf_group *g)
{
	struct world *w = to_world(h);
	struct queued *q = malloc(sizeof(*q));

	if (!q)
		return -ENOMEM;
	q->group = g;
	pthread_mutex_lock(&w->qlock);
	cds_list_add_tail(&q->node, &w->queue);
	pthread_cond_signal(&w->qcond);
	pthread_mutex_unlock(&w->qlock);
	return 0;
}

static void check_handle(struct world *w, struct sio_iopf_group *g)
{
	struct shandle *sh = sio_container_of(sio_iopf_group_handle(g),
					      struct shandle, handle);

	if (__atomic_load_n(&sh->magic, __ATOMIC_RELAXED) != LIVE)
		BAD(w);
}

/* Answer INVALID what is queued for handle; workers answer under qlock,
 * so holding it also waits for one busy with that handle. */
static void h_flush(struct sio_iopf_handler *h, struct sio_attach_handle *handle)
{
	struct world *w = to_world(h);
	struct queued *q, *tmp;

	pthread_mutex_lock(&w->qlock);
	cds_list_for_each_entry_safe(q, tmp, &w->queue, node) {
		bool ours = sio_iopf_group_device(q->group) == w->dev;

		if (sio_iopf_group_handle(q->group) != handle)
			continue;
		check_handle(w, q->group);
		cds_list_del(&q->node);
		/* The group may be gone once answered. */
		if (sio_iopf_group_respond(q->group, SIO_PAGE_RESP_INVALID))
			__atomic_add_fetch(&w->late, 1, __ATOMIC_RELAXED);
		else if (ours)
			__atomic_add_fetch(&w->flushed, 1, __ATOMIC_RELAXED);
		free(q);
	}
	pthread_mutex_unlock(&w->qlock);
}

static const struct sio_iopf_handler_ops h_ops = {
	.handle = h_handle,
	.flush = h_flush,
};

static void *worker(void *arg)
{
	struct world *w = arg;

	pthread_mutex_lock(&w->qlock);
	for (;;) {
		struct queued *q;

		while (cds_list_empty(&w->queue) && !w->stop)
			pthread_cond_wait(&w->qcond, &w->qlock);
		if (cds_list_empty(&w->queue))
			break;
		q = cds_list_first_entry(&w->queue, struct queued, node);
		cds_list_del(&q->node);
		check_handle(w, q->group);
		if (sio_iopf_group_respond(q->group, SIO_PAGE_RESP_SUCCESS))
			__atomic_add_fetch(&w->late, 1, __ATOMIC_RELAXED);
		free(q);
		/* Let injectors and flushes in between answers. */
		pthread_mutex_unlock(&w->qlock);
		sched_yield();
		pthread_mutex_lock(&w->qlock);
	}
	pthread_mutex_unlock(&w->qlock);
	return NULL;
}

static void model_response(struct sio_device *dev, void *arg,
			   const struct sio_page_response *resp)
{
	struct world *w = arg;
	unsigned int inj = resp->grpid >> 16, seq = resp->grpid & 0xffff;

	if (dev == w->dmadev) {
		__atomic_add_fetch(&w->dma_resp, 1, __ATOMIC_RELAXED);
		return;
	}
	if (inj >= NINJ || seq >= GROUPS) {
		BAD(w);
		return;
	}
	__atomic_add_fetch(&w->resp[inj][seq], 1, __ATOMIC_RELAXED);
}

static const struct sio_iopf_device_ops model_ops = {
	.page_response = model_response,
};

struct inj_arg {
	struct world *w;
	unsigned int id;
};

static void *injector(void *p)
{
	struct inj_arg *a = p;
	struct world *w = a->w;
	unsigned int seed = a->id * 7919u + 1, seq;

	pthread_barrier_wait(&w->start);
	/* Until the control threads are done, so that it overlaps them. */
	for (seq = 0; seq < GROUPS &&
		      __atomic_load_n(&w->ctl_left, __ATOMIC_ACQUIRE); seq++) {
		struct sio_page_request r = {
			.pasid = seq % NPASID,
			.grpid = a->id << 16 | seq,
			.perm = SIO_DMA_READ,
			.addr = (uint64_t)seq << 12,
		};
		unsigned int parts = (seed = seed * 1103515245u + 12345u) >> 30;
		int rc;

		for (unsigned int i = 0; i < parts; i++) {
			rc = sio_iopf_report(w->dev, &r);
			if (rc && rc != -ENOSPC)
				BAD(w);
			r.addr += 1 << 12;
		}
		r.flags = SIO_PRQ_LAST;
		rc = sio_iopf_report(w->dev, &r);
		/* Taken, or answered at once: either way one response. */
		if (rc && rc != -EINVAL && rc != -EBUSY)
			BAD(w);
		w->sent[a->id][seq] = 1;
		sched_yield();
	}
	w->nsent[a->id] = seq;
	return NULL;
}

/* DMA misses on dmadev until the control threads are done. */
static void *dma_thread(void *p)
{
	struct world *w = p;
	char buf[8];

	pthread_barrier_wait(&w->start);
	while (__atomic_load_n(&w->ctl_left, __ATOMIC_ACQUIRE)) {
		struct sio_dma_fault f;
		int rc = sio_dma_read(w->dmadev, SIO_NO_PASID, T_IOVA, buf,
				      sizeof(buf), &f);

		if (rc == -EAGAIN)
			__atomic_add_fetch(&w->dma_raised, 1, __ATOMIC_RELAXED);
		else if (rc != -EPERM)	/* blocked between attachments */
			BAD(w);
		sched_yield();
	}
	return NULL;
}

static struct shandle *new_handle(void)
{
	struct shandle *sh = calloc(1, sizeof(*sh));

	sh->magic = LIVE;
	return sh;
}

static void free_handle(struct shandle *sh)
{
	if (!sh)
		return;
	__atomic_store_n(&sh->magic, DEAD, __ATOMIC_RELAXED);
	free(sh);
}

struct ctl_arg {
	struct world *w;
	struct sio_device *dev;
	struct sio_group *group;
	sio_pasid_t pasid;
};

/* attach (d1, a) -> replace (d2, b) -> replace (d2, c) -> detach, freeing
 * each handle as soon as the call that retired it returns. */
static void *control(void *p)
{
	struct ctl_arg *c = p;
	struct world *w = c->w;

	pthread_barrier_wait(&w->start);
	for (int i = 0; i < CTL_ITERS; i++) {
		struct shandle *a = new_handle(), *b = new_handle(),
			       *d = new_handle();
		int rc;

		if (c->pasid == SIO_NO_PASID) {
			rc = sio_attach_group(w->d1, c->group, &a->handle);
			sched_yield();
			rc |= sio_replace_group(c->group, w->d2, &b->handle);
			free_handle(a);
			sched_yield();
			rc |= sio_replace_group(c->group, w->d2, &d->handle);
			free_handle(b);
			sched_yield();
			sio_detach_group(c->group);
		} else {
			rc = sio_attach_device_pasid(w->d1, c->dev, c->pasid,
						     &a->handle);
			sched_yield();
			rc |= sio_replace_device_pasid(w->d2, c->dev, c->pasid,
						       &b->handle);
			free_handle(a);
			sched_yield();
			rc |= sio_replace_device_pasid(w->d2, c->dev, c->pasid,
						       &d->handle);
			free_handle(b);
			sched_yield();
			sio_detach_device_pasid(w->d2, c->dev, c->pasid);
		}
		free_handle(d);
		if (rc)
			BAD(w);
	}
	__atomic_sub_fetch(&w->ctl_left, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_storm(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	pthread_t inj[NINJ], work[NWORK], ctl[NPASID + 1], dma;
	struct inj_arg ia[NINJ];
	struct ctl_arg ca[NPASID + 1];
	struct sio_iopf_stats st, dst;
	uint64_t answered;

	(void)state;
	w->sys = t_system();
	w->iommu = t_mock(w->sys, NULL);
	w->dev = t_probe(w->iommu, "storm", 0, 0, SIO_MOCK_DEV_PASID);
	w->dmadev = t_probe(w->iommu, "dma", 0, 0, 0);
	w->group = t_group(w->dev);
	w->dmagroup = t_group(w->dmadev);
	w->d1 = t_paging(w->dev, 0);
	w->d2 = t_paging(w->dev, 0);
	w->h.ops = &h_ops;
	pthread_mutex_init(&w->qlock, NULL);
	pthread_cond_init(&w->qcond, NULL);
	CDS_INIT_LIST_HEAD(&w->queue);
	assert_int_equal(sio_domain_set_iopf_handler(w->d1, &w->h), 0);
	assert_int_equal(sio_domain_set_iopf_handler(w->d2, &w->h), 0);
	assert_int_equal(sio_iopf_device_enable(w->dev, &model_ops, w, NULL), 0);
	assert_int_equal(sio_iopf_device_enable(w->dmadev, &model_ops, w, NULL), 0);

	w->ctl_left = NPASID + 1;
	pthread_barrier_init(&w->start, NULL, NPASID + 1 + 1 + NINJ);
	for (int i = 0; i < NWORK; i++)
		assert_int_equal(pthread_create(&work[i], NULL, worker, w), 0);
	for (unsigned int i = 0; i < NPASID; i++) {
		ca[i] = (struct ctl_arg){ w, w->dev, w->group, i };
		assert_int_equal(pthread_create(&ctl[i], NULL, control, &ca[i]), 0);
	}
	ca[NPASID] = (struct ctl_arg){ w, w->dmadev, w->dmagroup, SIO_NO_PASID };
	assert_int_equal(pthread_create(&ctl[NPASID], NULL, control,
					&ca[NPASID]), 0);
	assert_int_equal(pthread_create(&dma, NULL, dma_thread, w), 0);
	for (unsigned int i = 0; i < NINJ; i++) {
		ia[i] = (struct inj_arg){ w, i };
		assert_int_equal(pthread_create(&inj[i], NULL, injector, &ia[i]), 0);
	}
	for (int i = 0; i < NINJ; i++)
		pthread_join(inj[i], NULL);
	for (int i = 0; i <= NPASID; i++)
		pthread_join(ctl[i], NULL);
	pthread_join(dma, NULL);

	/* Everything is detached: nothing may be waiting any more. */
	assert_int_equal(sio_iopf_device_stats(w->dev, &st), 0);
	assert_int_equal(sio_iopf_device_stats(w->dmadev, &dst), 0);
	assert_int_equal(st.outstanding, 0);
	assert_int_equal(dst.outstanding, 0);

	pthread_mutex_lock(&w->qlock);
	w->stop = true;
	pthread_cond_broadcast(&w->qcond);
	pthread_mutex_unlock(&w->qlock);
	for (int i = 0; i < NWORK; i++)
		pthread_join(work[i], NULL);

	assert_int_equal(__atomic_load_n(&w->bad, __ATOMIC_RELAXED), 0);
	answered = 0;
	for (int i = 0; i < NINJ; i++) {
		answered += w->nsent[i];
		for (unsigned int s = 0; s < GROUPS; s++) {
			assert_int_equal(w->sent[i][s], s < w->nsent[i]);
			if (w->resp[i][s] != w->sent[i][s])
				print_error("group %d/%d: %u responses\n", i, s,
					    w->resp[i][s]);
			assert_int_equal(w->resp[i][s], w->sent[i][s]);
		}
	}
	assert_int_equal(st.responses[0] + st.responses[1] + st.responses[2],
			 answered);
	/* A request raised while an attach was half published (the domain
	 * there, not yet its handle) is answered at once, not grouped. */
	assert_int_equal(w->dma_resp, w->dma_raised);
	assert_int_equal(dst.responses[0] + dst.responses[1] + dst.responses[2],
			 w->dma_raised);
	assert_true(dst.groups <= w->dma_raised);
	print_message("storm: %u groups, %llu success, %llu invalid (%u of "
		      "them by a detach), %llu failure, %u late answers "
		      "refused, %u DMA requests\n",
		      (unsigned int)answered, (unsigned long long)st.responses[0],
		      (unsigned long long)st.responses[1], w->flushed,
		      (unsigned long long)st.responses[2], w->late,
		      w->dma_raised);

	sio_iopf_device_disable(w->dev);
	sio_iopf_device_disable(w->dmadev);
	assert_int_equal(sio_domain_free(w->d1), 0);
	assert_int_equal(sio_domain_free(w->d2), 0);
	sio_group_put(w->group);
	sio_group_put(w->dmagroup);
	t_unprobe(w->dev);
	t_unprobe(w->dmadev);
	assert_int_equal(sio_system_destroy(w->sys), 0);
	pthread_barrier_destroy(&w->start);
	pthread_mutex_destroy(&w->qlock);
	pthread_cond_destroy(&w->qcond);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_storm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
