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
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "file/file.h"

#if defined(__SANITIZE_THREAD__)
#define GATE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GATE_TSAN 1
#endif
#endif

struct gate_slot {
	struct gate_slot *next;	/* set before publication, then constant */
	unsigned int busy;	/* atomic: its thread is inside the gate */
	unsigned int used;	/* atomic: a live thread owns it */
	/* atomic: the file its thread looked up without a reference
	 * (file.c, "lookups without a reference"), or NULL. */
	struct sio_file *hazard;
};

static struct gate_slot *gate_slots;	/* atomic head: push only */
static unsigned int gate_overflow;	/* atomic: readers without a slot */
unsigned int sio_file_gate_closed;	/* atomic: a fork is under way */
#define gate_closed sio_file_gate_closed
/* Held by fork while the gate is closed; readers that find it closed
 * wait on it.  The fork gate's lock (rank 100). */
static pthread_mutex_t gate_mutex = PTHREAD_MUTEX_INITIALIZER;
bool sio_file_gate_membarrier;	/* registered: readers need no fence */
#define gate_membarrier sio_file_gate_membarrier
static pthread_key_t gate_key;
static bool gate_key_ok;
static pthread_once_t gate_once = PTHREAD_ONCE_INIT;

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

static void gate_slot_release(void *arg)
{
	struct gate_slot *s = arg;

	/* A lookup its thread never put goes with it, as a reference
	 * never put would stay. */
	__atomic_store_n(&s->hazard, NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&s->busy, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&s->used, 0, __ATOMIC_RELEASE);
	gate_self = NULL;
	sio_file_gate_busy = NULL;
	sio_file_hazard = NULL;
}

static void gate_setup(void)
{
#ifndef GATE_TSAN
	gate_membarrier = syscall(SYS_membarrier,
				  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
				  0, 0) == 0;
#endif
	gate_key_ok = pthread_key_create(&gate_key, gate_slot_release) == 0;
}

/* This thread's slot: a free one reused, or a new one pushed. */
static struct gate_slot *gate_slot_get(void)
{
	struct gate_slot *s, *head;

	pthread_once(&gate_once, gate_setup);
	for (s = __atomic_load_n(&gate_slots, __ATOMIC_ACQUIRE); s; s = s->next) {
		unsigned int free_ = 0;

		if (__atomic_load_n(&s->used, __ATOMIC_RELAXED) == 0 &&
		    __atomic_compare_exchange_n(&s->used, &free_, 1, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
			break;
	}
	if (!s) {
		/* Plain calloc: the gate is not a fault-injection site. */
		s = calloc(1, sizeof(*s));
		if (!s || !gate_key_ok) {
			free(s);
			return &gate_no_slot;
		}
		s->used = 1;
		head = __atomic_load_n(&gate_slots, __ATOMIC_RELAXED);
		do {
			s->next = head;
		} while (!__atomic_compare_exchange_n(&gate_slots, &head, s, true,
						      __ATOMIC_RELEASE,
						      __ATOMIC_RELAXED));
	}
	if (gate_key_ok)
		pthread_setspecific(gate_key, s);
	gate_self = s;
	sio_file_gate_busy = &s->busy;
	return s;
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
	pthread_once(&gate_once, gate_setup);
	pthread_mutex_lock(&gate_mutex);
	__atomic_store_n(&gate_closed, 1, __ATOMIC_SEQ_CST);
	if (!gate_membarrier ||
	    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0)) {
		/* Readers fence for themselves when not registered; a
		 * failing barrier here cannot happen once registered. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	for (s = __atomic_load_n(&gate_slots, __ATOMIC_ACQUIRE); s; s = s->next)
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
		for (s = __atomic_load_n(&gate_slots, __ATOMIC_ACQUIRE); s;
		     s = s->next) {
			if (s == gate_self)
				continue;
			__atomic_store_n(&s->busy, 0, __ATOMIC_RELAXED);
			__atomic_store_n(&s->used, 0, __ATOMIC_RELAXED);
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
	pthread_once(&gate_once, gate_setup);
	if (!gate_membarrier ||
	    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0))
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool sio_file_hazard_held(const struct sio_file *file)
{
	struct gate_slot *s;

	for (s = __atomic_load_n(&gate_slots, __ATOMIC_ACQUIRE); s; s = s->next)
		if (__atomic_load_n(&s->hazard, __ATOMIC_ACQUIRE) == file)
			return true;
	return false;
}
