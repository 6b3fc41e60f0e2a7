/*
 * Private to the I/O page-fault layer: the per-device fault state, the
 * group object, and what its files share.
 *
 * Lifetimes.  A device's fault state (struct sio_iopf_dev) is published in
 * dev->iopf (RCU) while page requests are enabled; reports find it under
 * RCU and every group holds a reference on it, so a response that comes
 * after disable still has somewhere to look (and finds its group answered).
 * A group holds two kinds of references: one while it is unanswered (it is
 * then on its device's list of outstanding groups, where auto-response
 * finds it) and one for the handler between handle() and its respond().
 *
 * Locking (the library's order is the table in docs/locking.md).
 * st->lock (SIO_LOCK_IOPF_DEV) protects everything in the device's state;
 * the device model's page_response runs under it, which keeps the answer
 * and the "answered" mark of a group one atomic step (exactly one
 * response), so a model's response op takes only locks ranked after it.
 * Its wake op runs right after the lock is dropped (sio_iopf_dev_unlock);
 * disable waits for the wake calls in flight (st->waking) before it
 * returns.
 * It is taken inside a fault queue's lock (iommufd answers a group under
 * its eventq->mutex) and inside a PCI function's lock (its model's DMA
 * raises page requests).  Handlers are called with no iopf lock held; the
 * SVA handler's queue lock (q->lock, SIO_LOCK_IOPF_SVA) is a leaf.
 */
#ifndef SIO_IOPF_PRIVATE_H
#define SIO_IOPF_PRIVATE_H

#include <pthread.h>
#include <urcu/list.h>

#include "core/core.h"
#include "iopf/dma_fault.h"
#include "softiommu/iopf.h"
#include "util/lock.h"

#define SIO_IOPF_DEFAULT_MAX_GROUPS 256u
#define SIO_IOPF_DEFAULT_MAX_PARTIAL 1024u
/* Group IDs the data path gives its own requests: PCIe's 9-bit PRG index. */
#define SIO_IOPF_AUTO_GRPID_MASK 0x1ffu
/* How long a fault thread that ran out of work watches for more before it
 * sleeps: a few times a round trip's work, so that a device faulting again
 * right after its answer is served without a wake-up, and short enough
 * that an idle handler gives its CPU back at once on the scale of a
 * scheduler tick.  After a watch that timed out the thread skips watching
 * for 2^misses - 1 idle spells, misses counting up to
 * SIO_IOPF_SPIN_MISSES_MAX: on oversubscribed CPUs (or a VM whose idle
 * vCPU takes long to wake) watching rarely pays, and then costs a round
 * trip 5 us / 1024 on average. */
#define SIO_IOPF_SPIN_NS 5000L
#define SIO_IOPF_SPIN_MISSES_MAX 10u

/* A busy-wait iteration's pause (lets the sibling hyperthread run). */
static inline void sio_iopf_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#else
	__asm__ volatile("" ::: "memory");
#endif
}

struct sio_iopf_dev {
	struct sio_device *dev;		/* no reference: the model disables
					 * before it drops its own */
	const struct sio_iopf_device_ops *ops;
	void *arg;
	struct sio_iopf_limits limits;
	unsigned int refs;		/* atomic: 1 while enabled + 1 per group */
	uint32_t next_grpid;		/* atomic: for the data path's requests */
	unsigned int waking;		/* atomic: ops->wake calls running */

	pthread_mutex_t lock;		/* SIO_LOCK_IOPF_DEV: protects
					 * everything below */
	bool enabled;			/* false once disable started */
	bool wake_pending;		/* a response went out: ops->wake is
					 * owed once the lock is dropped */
	struct cds_list_head partial;	/* struct iopf_partial.node */
	struct cds_list_head groups;	/* unanswered sio_iopf_group.node */
	struct sio_iopf_stats stats;	/* outstanding, partial included */
};

/* A request waiting for the last of its group. */
struct iopf_partial {
	struct cds_list_head node;
	struct sio_page_request req;
};

struct sio_iopf_group {
	struct sio_iopf_dev *state;	/* a reference */
	struct sio_attach_handle *handle;	/* where it was dispatched */
	struct sio_domain *domain;	/* handle->domain then */
	unsigned int refs;		/* atomic: unanswered + handler */
	bool answered;			/* under state->lock */
	struct cds_list_head node;	/* in state->groups while unanswered,
					 * then on a local list of its answerer */
	size_t count;
	struct sio_page_request reqs[];	/* the last one last */
};

/* device.c */
void sio_iopf_dev_put(struct sio_iopf_dev *st);
/* The state of dev with a reference, or NULL if not enabled. */
struct sio_iopf_dev *sio_iopf_dev_get(struct sio_device *dev);

/* response.c */
/* Drop st->lock, then call the model's wake op if a response went out
 * while it was held (every unlock after a possible delivery goes here). */
void sio_iopf_dev_unlock(struct sio_iopf_dev *st);
/* Answer a group under st->lock: the device model hears it unless it was
 * answered already (-EALREADY).  On 0 the caller owes the group's
 * unanswered reference a sio_iopf_group_put() after unlocking. */
int sio_iopf_answer_locked(struct sio_iopf_dev *st, struct sio_iopf_group *g,
			   enum sio_page_response_code code);
/* Deliver a response for requests that never became a dispatched group. */
void sio_iopf_deliver_locked(struct sio_iopf_dev *st,
			     const struct sio_page_request *last,
			     enum sio_page_response_code code);
void sio_iopf_group_put(struct sio_iopf_group *g);
/* Answer INVALID every unanswered group of st (handle NULL: all of them)
 * and put them. */
void sio_iopf_answer_all(struct sio_iopf_dev *st,
			 const struct sio_attach_handle *handle);
/* What the core calls after a detach or replace retired handle (the
 * layer registers it on the system, sio_system_set_handle_retire). */
void sio_iopf_handle_gone(struct sio_group *group,
			  struct sio_attach_handle *handle);

#endif
