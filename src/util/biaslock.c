/*
 * The biased lock's slow side (biaslock.h): each thread's slot, the
 * first bias, and revocation.
 */
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util/biaslock.h"

#if defined(__SANITIZE_THREAD__)
#define BIAS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BIAS_TSAN 1
#endif
#endif

_Thread_local struct sio_bias_slot *sio_bias_self
	__attribute__((tls_model("initial-exec")));
bool sio_bias_membarrier;		/* registered: the fast side needs no fence */

static struct sio_bias_slot *bias_slots;	/* atomic head: push only */
static pthread_key_t bias_key;
static bool bias_key_ok;
static pthread_once_t bias_once = PTHREAD_ONCE_INIT;

static void bias_slot_release(void *arg)
{
	struct sio_bias_slot *s = arg;

	__atomic_store_n(&s->in, NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&s->used, 0, __ATOMIC_RELEASE);
	sio_bias_self = NULL;
}

static void bias_setup(void)
{
	/* TSan does not see membarrier's barrier: fence on both sides. */
#ifndef BIAS_TSAN
	sio_bias_membarrier = syscall(SYS_membarrier,
				      MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
				      0, 0) == 0;
#endif
	bias_key_ok = pthread_key_create(&bias_key, bias_slot_release) == 0;
}

/* This thread's slot, made or reused on its first slow lock; NULL if none
 * can be had (the thread then takes every lock as a word lock). */
static struct sio_bias_slot *bias_slot_get(void)
{
	struct sio_bias_slot *s, *head;

	pthread_once(&bias_once, bias_setup);
	if (!bias_key_ok)
		return NULL;
	for (s = __atomic_load_n(&bias_slots, __ATOMIC_ACQUIRE); s; s = s->next) {
		unsigned int free_ = 0;

		if (__atomic_load_n(&s->used, __ATOMIC_RELAXED) == 0 &&
		    __atomic_compare_exchange_n(&s->used, &free_, 1, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_RELAXED))
			break;
	}
	if (!s) {
		/* Plain aligned_alloc: not a fault-injection site. */
		s = aligned_alloc(64, sizeof(*s));
		if (!s)
			return NULL;
		memset(s, 0, sizeof(*s));
		s->used = 1;
		head = __atomic_load_n(&bias_slots, __ATOMIC_RELAXED);
		do {
			s->next = head;
		} while (!__atomic_compare_exchange_n(&bias_slots, &head, s, true,
						      __ATOMIC_SEQ_CST,
						      __ATOMIC_RELAXED));
	}
	if (pthread_setspecific(bias_key, s)) {
		__atomic_store_n(&s->used, 0, __ATOMIC_RELEASE);
		return NULL;
	}
	sio_bias_self = s;
	return s;
}

/* The revoker's side of the Dekker pair: after it, a biased thread that
 * stored `in` before is seen, and one that stores later sees the bias
 * gone. */
static void bias_barrier(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (sio_bias_membarrier)
		syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
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
