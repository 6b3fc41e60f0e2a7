/*
 * Debug builds: the per-thread list of mutexes held through sio_mutex_lock,
 * with the order and holder checks of util/lock.h.  A thread holds few
 * locks at a time, so the list is a short array searched linearly; it
 * exists only without NDEBUG.
 */
#include "util/lock.h"

#ifndef NDEBUG

#include <stdio.h>
#include <stdlib.h>

#define SIO_LOCKS_HELD_MAX 16

struct sio_held_lock {
	const pthread_mutex_t *mutex;
	enum sio_lock_rank rank;
};

static _Thread_local struct sio_held_lock sio_locks_held[SIO_LOCKS_HELD_MAX];
static _Thread_local unsigned int sio_nlocks_held;

static void lock_fatal(const char *what, const pthread_mutex_t *m,
		       enum sio_lock_rank rank, enum sio_lock_rank held)
{
	fprintf(stderr, "softiommu: lock order: %s (mutex %p, rank %d; "
		"holding rank %d); see docs/locking.md\n", what,
		(const void *)m, (int)rank, (int)held);
	abort();
}

void sio_lock_check(const pthread_mutex_t *m, enum sio_lock_rank rank)
{
	for (unsigned int i = 0; i < sio_nlocks_held; i++)
		if (sio_locks_held[i].rank >= rank)
			lock_fatal(sio_locks_held[i].mutex == m ?
					   "a mutex taken twice" :
					   "taken inside a lock of its rank or higher",
				   m, rank, sio_locks_held[i].rank);
}

void sio_lock_acquired(const pthread_mutex_t *m, enum sio_lock_rank rank)
{
	if (sio_nlocks_held == SIO_LOCKS_HELD_MAX)
		lock_fatal("too many locks held", m, rank, rank);
	sio_locks_held[sio_nlocks_held].mutex = m;
	sio_locks_held[sio_nlocks_held].rank = rank;
	sio_nlocks_held++;
}

void sio_lock_released(const pthread_mutex_t *m)
{
	for (unsigned int i = sio_nlocks_held; i-- > 0;) {
		if (sio_locks_held[i].mutex != m)
			continue;
		sio_locks_held[i] = sio_locks_held[--sio_nlocks_held];
		return;
	}
	lock_fatal("releasing a mutex this thread does not hold", m, 0, 0);
}

bool sio_mutex_held(const pthread_mutex_t *m)
{
	for (unsigned int i = 0; i < sio_nlocks_held; i++)
		if (sio_locks_held[i].mutex == m)
			return true;
	return false;
}

#endif
