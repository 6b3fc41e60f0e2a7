/*
 * A mutex of one futex word, for a lock taken once or twice by every
 * ioctl of a hot path (an IOAS's iopt->lock on IOAS_MAP and IOAS_UNMAP).
 *
 * An uncontended pthread_mutex_lock() and pthread_mutex_unlock() are an
 * atomic read-modify-write each (a lock cmpxchg, then an xchg or a lock
 * dec), and around them they read the mutex kind, record the owner and
 * count users: about 55 instructions for the pair.  On the map and unmap
 * paths the two atomics are most of the time of the function that takes
 * the lock (perf puts three quarters of its samples right after them).
 * Here the uncontended lock is one compare-and-swap and the uncontended
 * unlock is a load and a store, no atomic at all.
 *
 * The word is 0 when free, 1 when held, 2 when held and a thread may be
 * waiting.  A thread that finds it held spins a little, then sets it to 2
 * and sleeps on it (FUTEX_WAIT) until it reads 0 while setting 2.  The
 * unlock reads the word: 2 is replaced by 0 with an exchange and one
 * sleeper is woken, as in the classic futex mutex; 1 is replaced by a
 * plain release store.  That store can race a waiter that sets 2 after
 * the read: the waiter then either finds 0 when it goes to sleep (the
 * kernel compares the word first) and takes the lock, or, if it was
 * already asleep when the store landed, sleeps without a wake-up coming.
 * So a sleeper never sleeps unboundedly: it looks again after a nap of
 * WORDLOCK_NAP_NS, doubled at each look that finds the lock still held
 * (a long hold costs it a few wake-ups, not one every nap), up to
 * WORDLOCK_NAP_MAX_NS.  The cost of that window (two instructions of the
 * unlock, reached only when the holder is interrupted between them) is a
 * late wake-up, never a missed one.  Under contention every unlock finds
 * 2 and wakes.
 *
 * The acquire of the lock's compare-and-swap or exchange pairs with the
 * release of the unlock's store or exchange; ThreadSanitizer follows
 * both.  What it does not do that a pthread mutex does: no recursion, no
 * error checking, no robust or priority-inheritance kinds, no condition
 * variable waits, no place in the debug lock-order checks of util/lock.h.
 * A thread that forks while another holds it leaves the child a held lock,
 * as with any mutex; the fork gate keeps every ioctl out of fork's way
 * (file/gate.c).
 */
#ifndef SIO_UTIL_WORDLOCK_H
#define SIO_UTIL_WORDLOCK_H

#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* How long a sleeper first sleeps before it looks at the word again; each
 * look that finds the lock still held doubles it, up to the longest. */
#define WORDLOCK_NAP_NS 50000L
#define WORDLOCK_NAP_MAX_NS 12800000L

struct sio_wordlock {
	uint32_t word;		/* 0 free, 1 held, 2 held, maybe waiters */
};

#define SIO_WORDLOCK_INIT { 0 }

static inline void sio_wordlock_init(struct sio_wordlock *l)
{
	__atomic_store_n(&l->word, 0, __ATOMIC_RELAXED);
}

static inline void sio_wordlock_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static __attribute__((noinline, unused)) void
sio_wordlock_lock_slow(struct sio_wordlock *l)
{
	/* A holder on another CPU is usually out within a few hundred
	 * cycles: look a little before sleeping. */
	for (int i = 0; i < 64; i++) {
		uint32_t c = __atomic_load_n(&l->word, __ATOMIC_RELAXED);

		if (c == 0 &&
		    __atomic_compare_exchange_n(&l->word, &c, 1, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
		if (c == 2)
			break;
		sio_wordlock_relax();
	}
	/* From here the word says 2 while we may sleep, so that the holder's
	 * unlock wakes someone; taking it this way leaves 2 behind, which
	 * costs the next unlock a wake-up that may find no one. */
	for (long ns = WORDLOCK_NAP_NS;
	     __atomic_exchange_n(&l->word, 2, __ATOMIC_ACQUIRE) != 0;) {
		struct timespec nap = { 0, ns };

		syscall(SYS_futex, &l->word, FUTEX_WAIT_PRIVATE, 2, &nap,
			NULL, 0);
		if (ns < WORDLOCK_NAP_MAX_NS)
			ns *= 2;
	}
}

static __attribute__((noinline, unused)) void
sio_wordlock_unlock_wake(struct sio_wordlock *l)
{
	__atomic_store_n(&l->word, 0, __ATOMIC_RELEASE);
	syscall(SYS_futex, &l->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static inline void sio_wordlock_lock(struct sio_wordlock *l)
{
	uint32_t free_word = 0;

	if (__builtin_expect(__atomic_compare_exchange_n(&l->word, &free_word,
							 1, false,
							 __ATOMIC_ACQUIRE,
							 __ATOMIC_RELAXED),
			     1))
		return;
	sio_wordlock_lock_slow(l);
}

static inline void sio_wordlock_unlock(struct sio_wordlock *l)
{
	if (__builtin_expect(__atomic_load_n(&l->word, __ATOMIC_RELAXED) == 1,
			     1))
		__atomic_store_n(&l->word, 0, __ATOMIC_RELEASE);
	else
		sio_wordlock_unlock_wake(l);
}

#endif
