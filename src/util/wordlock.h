/*
 * A mutex of one futex word: what a biased lock (util/biaslock.h) falls
 * back to once a second thread takes it, and what its first taker holds
 * while it sets the bias.
 *
 * An uncontended pthread_mutex_lock() and pthread_mutex_unlock() read the
 * mutex kind, record the owner and count users around their two atomics:
 * about 55 instructions for the pair; this is one compare-and-swap and
 * one exchange, about 10.
 *
 * The word is 0 when free, 1 when held, 2 when held and a thread may be
 * waiting (the classic futex mutex).  A thread that finds it held spins a
 * little, then sets it to 2 with an exchange and sleeps on it
 * (FUTEX_WAIT, which compares the word first) until its exchange returns
 * 0; taking it that way leaves 2 behind, which costs the next unlock a
 * wake-up that may find no one.  The unlock exchanges the word for 0 and,
 * if it was 2, wakes one sleeper: a waiter that set 2 before the exchange
 * is woken or finds 0 when it goes to sleep, so no wake-up is lost.
 *
 * The acquire of the lock's compare-and-swap or exchange pairs with the
 * release of the unlock's exchange; ThreadSanitizer follows both.  What
 * it does not do that a pthread mutex does: no recursion, no error
 * checking, no robust or priority-inheritance kinds, no condition
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
		syscall(SYS_futex, &l->word, FUTEX_WAKE_PRIVATE, 1, NULL,
			NULL, 0);
}

#endif
