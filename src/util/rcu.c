/*
 * Automatic RCU reader registration, the annotated grace period and the
 * deferred calls (see rcu.h for why each exists).
 */
#include "util/rcu.h"

#include <pthread.h>
#include <stdlib.h>

_Thread_local int sio_rcu_registered SIO_TLS_IE;
#if defined(SIO_SANITIZE_THREAD)
char sio_rcu_tsan_token;
#endif

static pthread_key_t rcu_key;
static pthread_once_t rcu_key_once = PTHREAD_ONCE_INIT;

/* Runs in the exiting thread, which is what liburcu's unregister needs. */
static void rcu_thread_exit(void *unused)
{
	(void)unused;
	if (sio_rcu_registered) {
		urcu_memb_unregister_thread();
		sio_rcu_registered = 0;
	}
}

static void rcu_key_init(void)
{
	pthread_key_create(&rcu_key, rcu_thread_exit);
}

void sio_rcu_register_slow(void)
{
	pthread_once(&rcu_key_once, rcu_key_init);
	urcu_memb_register_thread();
	sio_rcu_registered = 1;
	/* Any non-NULL value makes the destructor run at thread exit. */
	pthread_setspecific(rcu_key, &sio_rcu_registered);
}

void sio_rcu_synchronize(void)
{
	urcu_memb_synchronize_rcu();
	sio_rcu_tsan_acquire();
}

struct deferred {
	struct deferred *next;
	void (*fn)(void *arg);
	void *arg;
};

static struct deferred *defer_head;	/* atomic: the queue, a stack */
static unsigned int defer_count;	/* atomic: calls queued */

void sio_rcu_defer_flush(void)
{
	struct deferred *list = __atomic_exchange_n(&defer_head, NULL,
						    __ATOMIC_ACQUIRE);
	unsigned int n = 0;

	if (!list)
		return;
	for (struct deferred *d = list; d; d = d->next)
		n++;
	__atomic_sub_fetch(&defer_count, n, __ATOMIC_RELAXED);
	sio_rcu_synchronize();
	while (list) {
		struct deferred *next = list->next;

		list->fn(list->arg);
		free(list);
		list = next;
	}
}

void sio_rcu_defer(void (*fn)(void *arg), void *arg)
{
	/* Plain malloc: a failure is handled below, not reported, so fault
	 * injection has nothing to exercise here. */
	struct deferred *d = malloc(sizeof(*d));

	if (!d) {
		/* Out of memory inside a read-side section: waiting would
		 * never end, so what fn would free stays allocated. */
		if (urcu_memb_read_ongoing())
			return;
		sio_rcu_synchronize();
		fn(arg);
		return;
	}
	d->fn = fn;
	d->arg = arg;
	d->next = __atomic_load_n(&defer_head, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&defer_head, &d->next, d, true,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
	/* A caller inside a read-side section (a map rolled back from inside
	 * a DMA) cannot wait for a grace period: the next caller flushes. */
	if (__atomic_add_fetch(&defer_count, 1, __ATOMIC_RELAXED) >=
		    SIO_RCU_DEFER_BATCH &&
	    !urcu_memb_read_ongoing())
		sio_rcu_defer_flush();
}
