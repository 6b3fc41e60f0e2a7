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

/* Initial-exec TLS: a plain %fs-relative load on the data path instead of
 * a call to __tls_get_addr on every read-side section.  The library is
 * linked at start-up or preloaded, where static TLS is always there. */
#define SIO_TLS_IE __attribute__((tls_model("initial-exec")))
extern _Thread_local int sio_rcu_registered SIO_TLS_IE;
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

/*
 * Run fn(arg) after a grace period, without waiting for it here: calls are
 * queued and the queue is run, after one grace period for all of them, by
 * the call that fills it (SIO_RCU_DEFER_BATCH) or by sio_rcu_defer_flush().
 * So a caller pays a grace period only once per batch.  The queue is one
 * lock-free stack for the process; no thread is started (a helper thread
 * would have to be made fork-safe).  sio_rcu_defer() called inside a
 * read-side section only queues; sio_rcu_defer_flush() must not be called
 * there.  If the queue's node cannot be allocated, the call waits for a
 * grace period and runs fn at once; inside a read-side section (the one
 * such caller is a map rolled back from inside a DMA) it cannot wait, and
 * what fn would free stays allocated.
 */
#define SIO_RCU_DEFER_BATCH 64
void sio_rcu_defer(void (*fn)(void *arg), void *arg);
/* Run every queued call (after a grace period): memory they free is
 * released when it returns. */
void sio_rcu_defer_flush(void);

/* Publish a pointer to readers / read a published pointer. */
#define sio_rcu_assign(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define sio_rcu_deref(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)

#endif
