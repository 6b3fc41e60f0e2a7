/*
 * Automatic RCU reader registration and the annotated grace period (see
 * rcu.h for why both exist).
 */
#include "util/rcu.h"

#include <pthread.h>

_Thread_local int sio_rcu_registered;
#if defined(SIO_SANITIZE_THREAD)
char sio_rcu_tsan_token;
#endif

static pthread_key_t rcu_key;
static pthread_once_t rcu_key_once = PTHREAD_ONCE_INIT;

/* Runs in the exiting thread, which is what liburcu's unregister needs. */
static void rcu_thread_exit(void *unused)
{
	(void)unused;
	if (sio_rcu_registered) {
		urcu_memb_unregister_thread();
		sio_rcu_registered = 0;
	}
}

static void rcu_key_init(void)
{
	pthread_key_create(&rcu_key, rcu_thread_exit);
}

void sio_rcu_register_slow(void)
{
	pthread_once(&rcu_key_once, rcu_key_init);
	urcu_memb_register_thread();
	sio_rcu_registered = 1;
	/* Any non-NULL value makes the destructor run at thread exit. */
	pthread_setspecific(rcu_key, &sio_rcu_registered);
}

void sio_rcu_synchronize(void)
{
	urcu_memb_synchronize_rcu();
	sio_rcu_tsan_acquire();
}
