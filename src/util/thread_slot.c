/*
 * Per-thread slots and the membarrier registration (thread_slot.h).
 */
#include <linux/membarrier.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/sys.h"
#include "util/thread_slot.h"

bool sio_membarrier_ok;
static pthread_once_t membarrier_once = PTHREAD_ONCE_INIT;

static void membarrier_setup(void)
{
#ifndef SIO_TSAN
	__atomic_store_n(&sio_membarrier_ok,
			 syscall(SYS_membarrier,
				 MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
				 0, 0) == 0, __ATOMIC_RELAXED);
#endif
}

bool sio_membarrier_registered(void)
{
	pthread_once(&membarrier_once, membarrier_setup);
	return __atomic_load_n(&sio_membarrier_ok, __ATOMIC_RELAXED);
}

void sio_membarrier(void)
{
	if (sio_membarrier_registered())
		syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
}

/* The key's destructor: its thread is exiting. */
static void slot_exit(void *arg)
{
	struct sio_thread_slot *s = arg;

	s->list->release(s);
	__atomic_store_n(&s->used, 0, __ATOMIC_RELEASE);
}

/* One key per list, made on the list's first use, under key_lock. */
static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;

static bool key_ready(struct sio_thread_slots *l)
{
	if (!__atomic_load_n(&l->key_made, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&key_lock);
		if (!l->key_made) {
			l->key_ok = pthread_key_create(&l->key, slot_exit) == 0;
			__atomic_store_n(&l->key_made, 1, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&key_lock);
	}
	return l->key_ok;
}

struct sio_thread_slot *sio_thread_slot_get(struct sio_thread_slots *l)
{
	struct sio_thread_slot *s, *head;
	size_t size = (l->size + 63) & ~(size_t)63;

	sio_membarrier_registered();
	if (!key_ready(l))
		return NULL;
	for (s = sio_thread_slots_first(l); s; s = s->next) {
		unsigned int free_ = 0;

		if (__atomic_load_n(&s->used, __ATOMIC_RELAXED) == 0 &&
		    __atomic_compare_exchange_n(&s->used, &free_, 1, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_RELAXED))
			break;
	}
	if (!s) {
		/* Plain aligned_alloc: not a fault-injection site. */
		s = aligned_alloc(64, size);
		if (!s)
			return NULL;
		memset(s, 0, size);
		s->list = l;
		s->used = 1;
		head = __atomic_load_n(&l->head, __ATOMIC_RELAXED);
		do {
			s->next = head;
		} while (!__atomic_compare_exchange_n(&l->head, &head, s, true,
						      __ATOMIC_SEQ_CST,
						      __ATOMIC_RELAXED));
	}
	if (pthread_setspecific(l->key, s)) {
		__atomic_store_n(&s->used, 0, __ATOMIC_RELEASE);
		return NULL;
	}
	return s;
}
