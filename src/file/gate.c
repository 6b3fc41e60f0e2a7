/*
 * The fork gate (file/file.h): no thread is inside an emulated-file op
 * when fork() copies the process.
 *
 * Readers are every op, on every ioctl of the program; the writer is fork,
 * which is rare.  So the writer pays for the ordering, not the readers:
 *  - a reader marks its own thread's slot busy (a plain store), then checks
 *    that the gate is open (a plain load).  No read-modify-write, no fence
 *    on x86: the store and the load are ordered by the writer's barrier;
 *  - the writer closes the gate, makes every running thread of the
 *    process execute a full memory barrier
 *    (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)), then waits until no
 *    slot is busy.  A reader that marked itself before that barrier is
 *    seen busy; one that marks itself after it sees the gate closed, so it
 *    unmarks itself and waits on gate_mutex, which the writer holds until
 *    the fork is over.  (A thread not running when the barrier is sent
 *    went through the context switch's own barrier.)
 * Where membarrier is refused (old kernels, seccomp) and under
 * ThreadSanitizer, which does not know it, the readers put a full fence
 * between their store and their load instead.
 *
 * This replaced a writer-preferring pthread rwlock, whose two atomic
 * read-modify-writes per op were a fifth of an emulated ioctl's cost
 * (docs/fast-path.md).  Semantics are the same: a fork waits for the ops
 * in flight and holds new ones until it is done; nesting is counted per
 * thread (gate_depth), so an op that releases another file does not wait
 * for itself; a fork from inside an op does not close the gate (its own
 * thread could never leave it).
 *
 * Slots: one per thread that ever entered, on a list that only grows; a
 * thread's slot is given back at its exit (a thread-specific key's
 * destructor) and reused by a later thread, never freed, so the writer
 * walks the list without a lock.  If no slot can be allocated, the thread
 * counts itself in gate_overflow with atomic increments instead.
 *
 * Lock: gate_mutex is the fork gate's row in docs/locking.md (rank 100),
 * held by the forking thread from the prepare handler to the parent's or
 * child's handler.
 */
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "file/file.h"
#include "util/thread_slot.h"

/* A thread's slot (util/thread_slot.h). */
struct gate_slot {
	struct sio_thread_slot slot;
	unsigned int busy;	/* atomic: its thread is inside the gate */
	/* atomic: the file its thread looked up without a reference
	 * (file.c, "lookups without a reference"), or NULL. */
	struct sio_file *hazard;
};

static unsigned int gate_overflow;	/* atomic: readers without a slot */
unsigned int sio_file_gate_closed;	/* atomic: a fork is under way */
#define gate_closed sio_file_gate_closed
/* Held by fork while the gate is closed; readers that find it closed
 * wait on it.  The fork gate's lock (rank 100). */
static pthread_mutex_t gate_mutex = PTHREAD_MUTEX_INITIALIZER;

_Thread_local unsigned int sio_file_gate_depth
	__attribute__((tls_model("initial-exec")));
#define gate_depth sio_file_gate_depth
_Thread_local struct sio_file **sio_file_hazard
	__attribute__((tls_model("initial-exec")));
static _Thread_local struct gate_slot *gate_self
	__attribute__((tls_model("initial-exec")));
/* &gate_self->busy once the thread has a slot of its own: what the
 * inline enter and exit (file.h) store to. */
_Thread_local unsigned int *sio_file_gate_busy
	__attribute__((tls_model("initial-exec")));
/* The overflow marker: gate_self of a thread counted in gate_overflow. */
static struct gate_slot gate_no_slot;

static void gate_slot_release(struct sio_thread_slot *slot)
{
	struct gate_slot *s = (struct gate_slot *)slot;

	/* A lookup its thread never put goes with it, as a reference
	 * never put would stay. */
	__atomic_store_n(&s->hazard, NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE);
	gate_self = NULL;
	sio_file_gate_busy = NULL;
	sio_file_hazard = NULL;
}

static struct sio_thread_slots gate_slots =
	SIO_THREAD_SLOTS_INIT(struct gate_slot, gate_slot_release);

#define for_each_gate_slot(s)                                              \
	for ((s) = (struct gate_slot *)sio_thread_slots_first(&gate_slots); \
	     (s); (s) = (struct gate_slot *)(s)->slot.next)

/* This thread's slot: a free one reused, or a new one pushed; the
 * overflow marker without one. */
static struct gate_slot *gate_slot_get(void)
{
	struct gate_slot *s;

	s = (struct gate_slot *)sio_thread_slot_get(&gate_slots);
	if (!s)
		return &gate_no_slot;
	gate_self = s;
	sio_file_gate_busy = &s->busy;
	return s;
}

/* The writer's side of the readers' fence: after it, a reader's store
 * that came before is seen, and one that comes later sees what the writer
 * stored before. */
static void gate_barrier(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	sio_membarrier();
}

/* The rest of sio_file_gate_enter() (file.h), whose depth is counted:
 * the thread's first entry (no slot yet), a thread without a slot (the
 * overflow count), or a fork under way. */
void sio_file_gate_enter_slow(void)
{
	struct gate_slot *s = gate_self;

	if (__builtin_expect(!s, 0))
		s = gate_slot_get();
	for (;;) {
		if (s == &gate_no_slot) {
			__atomic_add_fetch(&gate_overflow, 1, __ATOMIC_SEQ_CST);
			if (!__atomic_load_n(&gate_closed, __ATOMIC_SEQ_CST))
				return;
			__atomic_sub_fetch(&gate_overflow, 1, __ATOMIC_RELEASE);
		} else {
			__atomic_store_n(&s->busy, 1, __ATOMIC_RELAXED);
			sio_file_hazard_fence();
			if (!__atomic_load_n(&gate_closed, __ATOMIC_ACQUIRE))
				return;
			__atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE);
		}
		/* A fork is under way: wait for it. */
		pthread_mutex_lock(&gate_mutex);
		pthread_mutex_unlock(&gate_mutex);
	}
}

/* The last exit of a thread counted in gate_overflow. */
void sio_file_gate_exit_slow(void)
{
	__atomic_sub_fetch(&gate_overflow, 1, __ATOMIC_RELEASE);
}

bool sio_file_gate_inside(void)
{
	return gate_depth != 0;
}

bool sio_file_gate_close(void)
{
	struct gate_slot *s;

	if (gate_depth)
		return false;	/* forking from inside an op */
	pthread_mutex_lock(&gate_mutex);
	__atomic_store_n(&gate_closed, 1, __ATOMIC_SEQ_CST);
	gate_barrier();
	for_each_gate_slot(s)
		while (__atomic_load_n(&s->busy, __ATOMIC_ACQUIRE))
			sched_yield();
	while (__atomic_load_n(&gate_overflow, __ATOMIC_ACQUIRE))
		sched_yield();
	return true;
}

void sio_file_gate_open(bool closed, bool child)
{
	struct gate_slot *s;

	if (child) {
		/* The other threads are gone: their slots are free (a fork
		 * from inside an op did not wait for them). */
		for_each_gate_slot(s) {
			if (s == gate_self)
				continue;
			__atomic_store_n(&s->busy, 0, __ATOMIC_RELAXED);
			__atomic_store_n(&s->slot.used, 0, __ATOMIC_RELAXED);
			/* Its lookup went with its thread. */
			__atomic_store_n(&s->hazard, NULL, __ATOMIC_RELAXED);
		}
		__atomic_store_n(&gate_overflow,
				 gate_self == &gate_no_slot && gate_depth ? 1 : 0,
				 __ATOMIC_RELAXED);
	}
	if (!closed)
		return;
	__atomic_store_n(&gate_closed, 0, __ATOMIC_RELEASE);
	if (child)
		pthread_mutex_init(&gate_mutex, NULL);
	else
		pthread_mutex_unlock(&gate_mutex);
}

/* ------------------------------------------------------------------ */
/* Hazard slots of the lookups without a reference (file.c)             */
/* ------------------------------------------------------------------ */

struct sio_file **sio_file_hazard_slot(void)
{
	struct gate_slot *s = gate_self;

	if (!s)
		s = gate_slot_get();
	return s == &gate_no_slot ? NULL : &s->hazard;
}

void sio_file_hazard_barrier(void)
{
	gate_barrier();
}

bool sio_file_hazard_held(const struct sio_file *file)
{
	struct gate_slot *s;

	for_each_gate_slot(s)
		if (__atomic_load_n(&s->hazard, __ATOMIC_ACQUIRE) == file)
			return true;
	return false;
}
