/*
 * A lock biased to the thread that uses it: that thread takes and drops
 * it with plain stores to its own thread's slot, no atomic
 * read-modify-write; any other thread takes it as a word lock
 * (util/wordlock.h), and the first time another thread does, the bias is
 * revoked for good.
 *
 * An IOAS's lock is taken twice by every IOAS_MAP+IOAS_UNMAP pair, and in
 * the usual program (a VMM's one thread that maps guest memory, a driver
 * that maps its buffers) by one thread only: its compare-and-swap was the
 * last atomic read-modify-write on that path and about a sixth of its
 * time.
 *
 * The protocol is the hazard slots' (iommufd/object.c, file/gate.c), a
 * Dekker pair with an asymmetric barrier:
 *  - the biased thread stores the lock's address in its slot's `in`,
 *    fences (a compiler barrier once membarrier is registered) and checks
 *    that the lock is still biased to it; if not, it empties `in` and
 *    takes the word lock;
 *  - a thread that takes the word lock of a lock biased to another
 *    thread clears the bias, forces a barrier on every thread (membarrier
 *    PRIVATE_EXPEDITED, or a full fence where readers fence), then waits
 *    until that thread's `in` no longer names the lock.
 * Either the biased thread sees the bias gone, or the revoker sees its
 * `in` and waits for the unlock.  The first thread to take a lock that
 * was never biased gets the bias.  Revocation costs one membarrier, once
 * per lock; after it, every thread pays the word lock's compare-and-swap.
 *
 * A thread's slot holds one lock at a time: a second lock taken while
 * one is held through the slot (IOAS_COPY holds two IOASes) is taken as
 * a word lock, whatever its bias.  Slots are reused by later threads when
 * theirs exit and are never freed; `in` is empty at exit (no lock is held
 * across a thread's end) and at fork (locks are held only inside ops,
 * which the fork gate waits for), and membarrier's registration is kept
 * across fork.  No lock-rank tracking (util/lock.h): as the word lock.
 */
#ifndef SIO_UTIL_BIASLOCK_H
#define SIO_UTIL_BIASLOCK_H

#include <stdbool.h>

#include "util/thread_slot.h"
#include "util/wordlock.h"

struct sio_bias_slot {
	struct sio_thread_slot slot;	/* util/thread_slot.h */
	const void *in;			/* atomic: the lock held through it */
};

struct sio_biaslock {
	struct sio_wordlock word;
	/* atomic: the thread that may take the lock without the word, or
	 * NULL; set and cleared under word */
	struct sio_bias_slot *bias;
	bool biased_once;		/* under word: no second bias */
};

#define SIO_BIASLOCK_INIT { SIO_WORDLOCK_INIT, NULL, false }

extern _Thread_local struct sio_bias_slot *sio_bias_self
	__attribute__((tls_model("initial-exec")));

void sio_biaslock_lock_slow(struct sio_biaslock *l);

static inline void sio_biaslock_init(struct sio_biaslock *l)
{
	sio_wordlock_init(&l->word);
	__atomic_store_n(&l->bias, NULL, __ATOMIC_RELAXED);
	l->biased_once = false;
}

static inline void sio_biaslock_lock(struct sio_biaslock *l)
{
	struct sio_bias_slot *s = sio_bias_self;

	if (__builtin_expect(s && __atomic_load_n(&l->bias, __ATOMIC_RELAXED) == s &&
			     !__atomic_load_n(&s->in, __ATOMIC_RELAXED), 1)) {
		__atomic_store_n(&s->in, l, __ATOMIC_RELAXED);
		sio_slot_fence();
		if (__builtin_expect(__atomic_load_n(&l->bias, __ATOMIC_ACQUIRE) == s,
				     1))
			return;
		/* Revoked meanwhile: the revoker waits for this. */
		__atomic_store_n(&s->in, NULL, __ATOMIC_RELEASE);
	}
	sio_biaslock_lock_slow(l);
}

static inline void sio_biaslock_unlock(struct sio_biaslock *l)
{
	struct sio_bias_slot *s = sio_bias_self;

	if (s && __atomic_load_n(&s->in, __ATOMIC_RELAXED) == l) {
		__atomic_store_n(&s->in, NULL, __ATOMIC_RELEASE);
		return;
	}
	sio_wordlock_unlock(&l->word);
}

#endif
