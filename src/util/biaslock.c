/*
 * The biased lock's slow side (biaslock.h): each thread's slot, the
 * first bias, and revocation.
 */
#include <sched.h>
#include <time.h>

#include "util/biaslock.h"

_Thread_local struct sio_bias_slot *sio_bias_self
	__attribute__((tls_model("initial-exec")));

static void bias_slot_release(struct sio_thread_slot *slot)
{
	struct sio_bias_slot *s = (struct sio_bias_slot *)slot;

	__atomic_store_n(&s->in, NULL, __ATOMIC_RELEASE);
	sio_bias_self = NULL;
}

static struct sio_thread_slots bias_slots =
	SIO_THREAD_SLOTS_INIT(struct sio_bias_slot, bias_slot_release);

/* This thread's slot, taken on its first slow lock; NULL if none can be
 * had (the thread then takes every lock as a word lock). */
static struct sio_bias_slot *bias_slot_get(void)
{
	sio_bias_self = (struct sio_bias_slot *)sio_thread_slot_get(&bias_slots);
	return sio_bias_self;
}

/* The revoker's side of the Dekker pair: after it, a biased thread that
 * stored `in` before is seen, and one that stores later sees the bias
 * gone. */
static void bias_barrier(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	sio_membarrier();
}

/* Wait until slot b no longer holds l: its holder is inside a critical
 * section, which may be long (a map of a large range into a domain), so
 * after a short spin the wait sleeps, longer each time. */
static void bias_wait_out(const struct sio_bias_slot *b,
			  const struct sio_biaslock *l)
{
	long ns = 1000;

	for (int i = 0; __atomic_load_n(&b->in, __ATOMIC_ACQUIRE) == l; i++) {
		if (i < 64) {
			sched_yield();
			continue;
		}
		struct timespec nap = { 0, ns };

		nanosleep(&nap, NULL);
		if (ns < 1000000)
			ns *= 2;
	}
}

void sio_biaslock_lock_slow(struct sio_biaslock *l)
{
	struct sio_bias_slot *self = sio_bias_self, *b;

	if (!self)
		self = bias_slot_get();
	sio_wordlock_lock(&l->word);
	b = __atomic_load_n(&l->bias, __ATOMIC_RELAXED);
	if (b == self && self)
		/* Ours (the slot held another lock): no other thread takes
		 * it without the word, which we hold. */
		return;
	if (b) {
		/* Another thread's: revoke for good, then wait for its
		 * critical section if it is in one. */
		__atomic_store_n(&l->bias, NULL, __ATOMIC_RELAXED);
		bias_barrier();
		bias_wait_out(b, l);
		return;
	}
	if (!l->biased_once && self) {
		/* The first taker gets the bias; the word stays held until
		 * this unlock (sio_biaslock_unlock: `in` is not l). */
		l->biased_once = true;
		__atomic_store_n(&l->bias, self, __ATOMIC_RELEASE);
	}
}
