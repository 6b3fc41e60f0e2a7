/*
 * A mutex of one futex word, for a lock taken once or twice by every
 * ioctl of a hot path (an IOAS's iopt->lock on IOAS_MAP and IOAS_UNMAP).
 *
 * pthread_mutex_lock() and pthread_mutex_unlock() of an uncontended
 * default mutex are one atomic read-modify-write each, like these, but
 * around it they read the mutex kind, record the owner and count users:
 * about 55 instructions for the pair, a tenth of a 4 KiB map and unmap
 * without a domain.  Here the uncontended pair is a compare-and-swap and
 * an exchange, inline.
 *
 * The word is 0 when free, 1 when held, 2 when held and a thread may be
 * waiting.  A thread that finds it held sets it to 2 and sleeps on it with
 * FUTEX_WAIT until it reads 0 while setting 2; the unlock that replaces a
 * 2 wakes one sleeper.  The acquire of the lock and the release of the
 * unlock are the atomics' own orders, which ThreadSanitizer follows.
 *
 * What it does not do that a pthread mutex does: no recursion, no error
 * checking, no robust or priority-inheritance kinds, and no condition
 * variable waits on it.  A thread that forks while another holds it leaves
 * the child a held lock, as with any mutex; the fork gate keeps every
 * ioctl out of the way of fork (file/gate.c).
 */
#ifndef SIO_UTIL_WORDLOCK_H
#define SIO_UTIL_WORDLOCK_H

#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

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
	while (__atomic_exchange_n(&l->word, 2, __ATOMIC_ACQUIRE) != 0)
		syscall(SYS_futex, &l->word, FUTEX_WAIT_PRIVATE, 2, NULL,
			NULL, 0);
}

static __attribute__((noinline, unused)) void
sio_wordlock_wake(struct sio_wordlock *l)
{
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
	if (__builtin_expect(__atomic_exchange_n(&l->word, 0,
						 __ATOMIC_RELEASE) == 2, 0))
		sio_wordlock_wake(l);
}

#endif
