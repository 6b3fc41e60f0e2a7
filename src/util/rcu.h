/*
 * Read-copy-update for the device data path, on liburcu's memb flavour.
 *
 * The data path (translate, DMA, fault report) never takes a control-path
 * lock: it reads page tables, domain pointers and PASID tables inside an RCU
 * read-side section, and control paths publish new pointers with
 * sio_rcu_assign() and free old objects only after sio_rcu_synchronize().
 *
 * Two things are added to liburcu here:
 *  - threads register themselves on first use (and unregister when they
 *    exit), so neither users of the library nor device emulator threads have
 *    to know about RCU;
 *  - ThreadSanitizer cannot see inside liburcu, so read-side exits release
 *    and grace periods acquire one annotation token, and publication uses
 *    __atomic builds TSan understands.  Without this every reader would be
 *    reported as racing with the free that follows a grace period.
 */
#ifndef SIO_UTIL_RCU_H
#define SIO_UTIL_RCU_H

#include <urcu/urcu-memb.h>

#if defined(SIO_SANITIZE_THREAD)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char sio_rcu_tsan_token;
#define sio_rcu_tsan_release() __tsan_release(&sio_rcu_tsan_token)
#define sio_rcu_tsan_acquire() __tsan_acquire(&sio_rcu_tsan_token)
#else
#define sio_rcu_tsan_release() do { } while (0)
#define sio_rcu_tsan_acquire() do { } while (0)
#endif

extern _Thread_local int sio_rcu_registered;
void sio_rcu_register_slow(void);

static inline void sio_rcu_read_lock(void)
{
	if (__builtin_expect(!sio_rcu_registered, 0))
		sio_rcu_register_slow();
	urcu_memb_read_lock();
}

static inline void sio_rcu_read_unlock(void)
{
	sio_rcu_tsan_release();
	urcu_memb_read_unlock();
}

/* Wait until every read-side section that began before this call has ended. */
void sio_rcu_synchronize(void);

/* Publish a pointer to readers / read a published pointer. */
#define sio_rcu_assign(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define sio_rcu_deref(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)

#endif
