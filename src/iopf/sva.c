/*
 * The SVA page-fault handler: a device asked for a page of a process
 * address space (an SVA domain shares the mm, domain->mm); the mm's own
 * fault handler (sio_mm_fault) makes it present with the mapping's rights,
 * and the group is answered SUCCESS, or INVALID when the mm refuses (no
 * mapping there, rights missing, the mm exited).
 *
 * Like the kernel's iopf workqueue, the work runs on the handler's own
 * threads: handle() is called inside the data path's read-side section,
 * where waiting on the mm (whose lock an munmap holds while it flushes the
 * IOMMU) is not allowed.  flush() is flush_workqueue for one attach handle:
 * queued groups of it are answered INVALID at once and one being resolved
 * is waited for, so the SVA layer may free the bond when unbind returns.
 *
 * The hand-off.  A device that faults usually faults again soon after
 * its answer, so a worker that runs out of work first spins for up to
 * SIO_IOPF_SPIN_NS watching q->queued, and only then sleeps on q->work.
 * Spinning pays only while the device's thread runs on another CPU; when
 * the CPUs are oversubscribed a spin keeps the device from running and
 * times out, so after each timed-out spin a worker skips spinning for
 * twice as many idle spells as the last time (up to 1023), and one spin
 * that finds work resets that.
 *
 * No thread is woken into a lock it must then sleep on: handle() signals
 * (only when a worker sleeps) and bumps q->queued for the spinners after
 * it dropped q->lock; a worker gives up its busy slot before it answers,
 * so the device it wakes finds q->lock free when it faults again.  A
 * worker counts itself in q->sleepers under q->lock before it waits, and
 * handle() reads the count under the same lock after queueing, so a
 * group is never left queued with every worker asleep.
 *
 * Locking: q->lock protects the queue, the busy slots, sleepers and stop;
 * workers drop it while they spin, fault and answer.  A detach (flush)
 * waits on q->idle.
 */
#include <stdlib.h>
#include <time.h>

#include "iopf/iopf_private.h"
#include "softiommu/dma.h"
#include "softiommu/mm.h"
#include "softiommu/sva.h"
#include "util/fail.h"

struct sva_work {
	struct cds_list_head node;
	struct sio_iopf_group *group;
};

struct sio_iopf_sva {
	struct sio_iopf_handler handler;
	pthread_mutex_t lock;
	pthread_cond_t work;		/* queue non-empty or stop */
	pthread_cond_t idle;		/* a worker finished a group */
	struct cds_list_head queue;
	/* A hint for spinning workers, atomic: groups queued, raised after
	 * handle() unlocks and lowered under lock when one is taken (so it
	 * may dip below zero for a moment). */
	int queued;
	unsigned int sleepers;		/* workers waiting on work */
	bool stop;			/* written under lock, also read
					 * by spinning workers (atomic) */
	unsigned int nthreads;
	/* Per worker: the handle of the group it is resolving, or NULL. */
	struct sio_attach_handle **busy;
	pthread_t *threads;
};

struct sva_worker {
	struct sio_iopf_sva *q;
	unsigned int slot;
	unsigned int spin_misses;	/* timed-out spins in a row (<= 10) */
	unsigned int spin_skip;		/* idle spells left without a spin */
};

static struct sio_iopf_sva *to_sva(struct sio_iopf_handler *h)
{
	return sio_container_of(h, struct sio_iopf_sva, handler);
}

/* Fault in every page of the group; SUCCESS only if all of them came. */
static enum sio_page_response_code resolve(struct sio_iopf_group *g)
{
	struct sio_mm *mm = sio_iopf_group_domain(g)->mm;
	const struct sio_page_request *reqs;
	size_t n;

	if (!mm)
		return SIO_PAGE_RESP_INVALID;
	reqs = sio_iopf_group_requests(g, &n);
	for (size_t i = 0; i < n; i++) {
		unsigned int access = 0;

		if (reqs[i].perm & SIO_DMA_READ)
			access |= SIO_PROT_READ;
		if (reqs[i].perm & SIO_DMA_WRITE)
			access |= SIO_PROT_WRITE;
		if (sio_mm_fault(mm, reqs[i].addr, access))
			return SIO_PAGE_RESP_INVALID;
	}
	return SIO_PAGE_RESP_SUCCESS;
}

/* With q->lock dropped: true once work is queued or stop is set, false
 * when SIO_IOPF_SPIN_NS passed first. */
static bool spin_for_work(struct sio_iopf_sva *q)
{
	struct timespec t0, now;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned int i = 1;; i++) {
		if (__atomic_load_n(&q->queued, __ATOMIC_ACQUIRE) > 0 ||
		    __atomic_load_n(&q->stop, __ATOMIC_ACQUIRE))
			return true;
		if (!(i & 63)) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if ((now.tv_sec - t0.tv_sec) * 1000000000L +
			    (now.tv_nsec - t0.tv_nsec) > SIO_IOPF_SPIN_NS)
				return false;
		}
		sio_iopf_cpu_relax();
	}
}

/* The worker's spin at the start of an idle spell, unless recent spins
 * timed out (then it backs off). */
static void maybe_spin(struct sva_worker *w)
{
	if (w->spin_skip) {
		w->spin_skip--;
		return;
	}
	if (spin_for_work(w->q)) {
		w->spin_misses = 0;
		return;
	}
	if (w->spin_misses < SIO_IOPF_SPIN_MISSES_MAX)
		w->spin_misses++;
	w->spin_skip = (1u << w->spin_misses) - 1;
}

/* The next group for worker w, marked busy; NULL once stopped and
 * drained.  Called and returns with q->lock dropped. */
static struct sio_iopf_group *next_group(struct sva_worker *w)
{
	struct sio_iopf_sva *q = w->q;
	struct sio_iopf_group *g = NULL;
	struct sva_work *work;

	if (__atomic_load_n(&q->queued, __ATOMIC_ACQUIRE) <= 0)
		maybe_spin(w);
	sio_mutex_lock(&q->lock, SIO_LOCK_IOPF_SVA);
	while (cds_list_empty(&q->queue) && !q->stop) {
		q->sleepers++;
		pthread_cond_wait(&q->work, &q->lock);
		q->sleepers--;
	}
	if (!cds_list_empty(&q->queue)) {
		work = cds_list_first_entry(&q->queue, struct sva_work, node);
		cds_list_del(&work->node);
		__atomic_sub_fetch(&q->queued, 1, __ATOMIC_RELAXED);
		g = work->group;
		free(work);
		q->busy[w->slot] = sio_iopf_group_handle(g);
	}
	sio_mutex_unlock(&q->lock);
	return g;
}

static void *sva_worker(void *arg)
{
	struct sva_worker *w = arg;
	struct sio_iopf_sva *q = w->q;
	struct sio_iopf_group *g;

	while ((g = next_group(w))) {
		enum sio_page_response_code code = resolve(g);

		/* Done with the domain and its mm: a flush may return now.
		 * The answer needs neither (a detach that answers first makes
		 * it -EALREADY), and given after the unlock it wakes a device
		 * that finds q->lock free. */
		sio_mutex_lock(&q->lock, SIO_LOCK_IOPF_SVA);
		q->busy[w->slot] = NULL;
		pthread_cond_broadcast(&q->idle);
		sio_mutex_unlock(&q->lock);
		sio_iopf_group_respond(g, code);
	}
	free(w);
	return NULL;
}

static int sva_handle(struct sio_iopf_handler *h, struct sio_iopf_group *group)
{
	struct sio_iopf_sva *q = to_sva(h);
	struct sva_work *work = sio_malloc(sizeof(*work));
	bool wake;

	if (!work)
		return -ENOMEM;
	work->group = group;
	sio_mutex_lock(&q->lock, SIO_LOCK_IOPF_SVA);
	cds_list_add_tail(&work->node, &q->queue);
	wake = q->sleepers > 0;
	sio_mutex_unlock(&q->lock);
	/* After the unlock, so that no worker wakes into a held lock.  A
	 * worker that went to sleep before the unlock is counted and gets
	 * this signal; one that comes later finds the queue non-empty. */
	__atomic_add_fetch(&q->queued, 1, __ATOMIC_RELEASE);
	if (wake)
		pthread_cond_signal(&q->work);
	return 0;
}

static bool busy_with(struct sio_iopf_sva *q, struct sio_attach_handle *handle)
{
	for (unsigned int i = 0; i < q->nthreads; i++)
		if (q->busy[i] == handle)
			return true;
	return false;
}

static void sva_flush(struct sio_iopf_handler *h, struct sio_attach_handle *handle)
{
	struct sio_iopf_sva *q = to_sva(h);
	struct sva_work *work, *tmp;
	struct cds_list_head mine;

	CDS_INIT_LIST_HEAD(&mine);
	sio_mutex_lock(&q->lock, SIO_LOCK_IOPF_SVA);
	cds_list_for_each_entry_safe(work, tmp, &q->queue, node)
		if (sio_iopf_group_handle(work->group) == handle) {
			cds_list_move(&work->node, &mine);
			__atomic_sub_fetch(&q->queued, 1, __ATOMIC_RELAXED);
		}
	while (busy_with(q, handle))
		pthread_cond_wait(&q->idle, &q->lock);
	sio_mutex_unlock(&q->lock);
	cds_list_for_each_entry_safe(work, tmp, &mine, node) {
		sio_iopf_group_respond(work->group, SIO_PAGE_RESP_INVALID);
		free(work);
	}
}

static const struct sio_iopf_handler_ops sva_ops = {
	.handle = sva_handle,
	.flush = sva_flush,
};

SIO_API int sio_iopf_sva_create(unsigned int nthreads,
				struct sio_iopf_sva **out)
{
	struct sio_iopf_sva *q;

	if (!out || !nthreads || nthreads > 64)
		return sio_err(-EINVAL, "iopf: SVA handler needs 1..64 threads");
	q = sio_calloc(1, sizeof(*q));
	if (!q)
		return sio_err(-ENOMEM, "iopf: out of memory");
	q->busy = sio_calloc(nthreads, sizeof(*q->busy));
	q->threads = sio_calloc(nthreads, sizeof(*q->threads));
	if (!q->busy || !q->threads) {
		free(q->busy);
		free(q->threads);
		free(q);
		return sio_err(-ENOMEM, "iopf: out of memory");
	}
	q->handler.ops = &sva_ops;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->work, NULL);
	pthread_cond_init(&q->idle, NULL);
	CDS_INIT_LIST_HEAD(&q->queue);
	for (; q->nthreads < nthreads; q->nthreads++) {
		struct sva_worker *w = sio_calloc(1, sizeof(*w));

		if (!w)
			break;
		w->q = q;
		w->slot = q->nthreads;
		if (pthread_create(&q->threads[q->nthreads], NULL, sva_worker, w)) {
			free(w);
			break;
		}
	}
	if (q->nthreads < nthreads) {
		sio_iopf_sva_destroy(q);
		return sio_err(-ENOMEM, "iopf: cannot start SVA fault threads");
	}
	*out = q;
	return 0;
}

SIO_API void sio_iopf_sva_destroy(struct sio_iopf_sva *q)
{
	if (!q)
		return;
	/* Workers drain what is queued, then stop. */
	sio_mutex_lock(&q->lock, SIO_LOCK_IOPF_SVA);
	__atomic_store_n(&q->stop, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&q->work);
	sio_mutex_unlock(&q->lock);
	for (unsigned int i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	pthread_cond_destroy(&q->idle);
	pthread_cond_destroy(&q->work);
	pthread_mutex_destroy(&q->lock);
	free(q->threads);
	free(q->busy);
	free(q);
}

SIO_API struct sio_iopf_handler *sio_iopf_sva_handler(struct sio_iopf_sva *q)
{
	return &q->handler;
}

static int sva_domain_init(void *arg, struct sio_domain *domain)
{
	return sio_domain_set_iopf_handler(domain,
					   sio_iopf_sva_handler(arg));
}

SIO_API void sio_iopf_sva_install(struct sio_system *sys,
				  struct sio_iopf_sva *q)
{
	sio_sva_set_domain_init(sys, q ? sva_domain_init : NULL, q);
}
