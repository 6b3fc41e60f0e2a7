/*
 * Per-thread slots on a list that only grows, and the process's
 * membarrier registration: what the lock-free readers of the fork gate
 * (file/gate.c), of the iommufd object table (iommufd/object.c) and of
 * the biased locks (util/biaslock.c) publish into, and what their other
 * side walks without a lock after forcing a barrier on every thread.
 *
 * A thread takes a slot on first use: a free one reused, or a new one,
 * zeroed and on a cache line of its own, pushed on the list.  When the
 * thread exits, a thread-specific key's destructor calls the owner's
 * release op (which empties the owner's fields and forgets its
 * thread-locals) and gives the slot back.  Slots are never freed, so a
 * walker never reads freed memory.  Taking a slot is a
 * compare-and-swap, a full barrier: a thread that takes one after a
 * walker's barrier sees what the walker changed before it.
 */
#ifndef SIO_UTIL_THREAD_SLOT_H
#define SIO_UTIL_THREAD_SLOT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct sio_thread_slots;

/* The first field of an owner's slot. */
struct sio_thread_slot {
	struct sio_thread_slot *next;	/* set before publication */
	struct sio_thread_slots *list;	/* constant */
	unsigned int used;		/* atomic: a live thread owns it */
};

struct sio_thread_slots {
	struct sio_thread_slot *head;	/* atomic: push only */
	size_t size;			/* the owner's slot, header first */
	/* Its thread exits: empty the owner's fields (used is then
	 * cleared by the list). */
	void (*release)(struct sio_thread_slot *slot);
	unsigned int key_made;		/* atomic: key_ok says how */
	bool key_ok;
	pthread_key_t key;
};

#define SIO_THREAD_SLOTS_INIT(slot_type, release_op)                     \
	{ .head = NULL, .size = sizeof(slot_type), .release = (release_op) }

/* A slot for this thread, which keeps it until it exits; NULL without
 * memory or a thread-specific key (the owner then takes its slow way).
 * Call once per thread and list: the owner keeps it in a thread-local. */
struct sio_thread_slot *sio_thread_slot_get(struct sio_thread_slots *l);

static inline struct sio_thread_slot *
sio_thread_slots_first(struct sio_thread_slots *l)
{
	return __atomic_load_n(&l->head, __ATOMIC_ACQUIRE);
}

/* Whether membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) is registered for
 * the process (once; the registration is kept across fork).  False under
 * ThreadSanitizer, which does not see the barrier it forces: readers then
 * fence themselves.  sio_thread_slot_get() asks first, so a reader with a
 * slot sees the answer in sio_membarrier_ok. */
bool sio_membarrier_registered(void);
extern bool sio_membarrier_ok;		/* atomic: registered */

/* A reader's fence between the store to its slot and its next load: a
 * compiler barrier once membarrier is registered (the walker's
 * sio_membarrier() does the rest), a full fence otherwise. */
static inline void sio_slot_fence(void)
{
	if (__builtin_expect(__atomic_load_n(&sio_membarrier_ok,
					     __ATOMIC_RELAXED), 1))
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	else
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Force a full barrier on every running thread of the process (the
 * walker's side); a no-op where sio_membarrier_registered() is false. */
void sio_membarrier(void);

#endif
