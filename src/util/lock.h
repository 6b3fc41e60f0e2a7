/*
 * The library's lock order, and mutexes that check it in debug builds.
 *
 * enum sio_lock_rank is the one lock order of the whole library, outer
 * locks first: a thread that holds a lock may only take locks of a higher
 * rank.  docs/locking.md has the same table with what each lock protects;
 * every layer's header points there.  Ranks are spaced by ten so that a new
 * lock goes between two others without renumbering (add the row to the
 * table in docs/locking.md too).  Locks of the same rank are never held
 * together unless their row says how (the file layer's, by address).
 *
 * sio_mutex_lock() and sio_mutex_unlock() are pthread_mutex_lock() and
 * pthread_mutex_unlock().  In a debug build (NDEBUG not defined) they also
 * keep the list of mutexes the calling thread holds through them, which
 * gives two assertions for free:
 *  - taking a lock of a rank not above every lock the thread holds is an
 *    inversion of the table, caught on the path that does it even when no
 *    other thread races it;
 *  - a function that must run under a lock says so with
 *    SIO_ASSERT_HELD(&x->lock) (every *_locked() function does).
 * In a release build the list, the checks and the thread-local accesses
 * are all compiled out; mutexes stay plain pthread_mutex_t in both builds,
 * so no structure changes layout (some are in public headers).  The list is
 * per thread: a condition wait keeps its mutex on it, which is right, as
 * the thread holds the mutex again when the wait returns.
 */
#ifndef SIO_UTIL_LOCK_H
#define SIO_UTIL_LOCK_H

#include <assert.h>
#include <pthread.h>
#include <stdbool.h>

enum sio_lock_rank {
	/* file: every emulated-fd op runs inside it (reader), fork is the
	 * writer (a rwlock; not taken through these wrappers) */
	SIO_LOCK_FORK_GATE = 100,
	/* iommufd (order of src/iommufd/iommufd_private.h) */
	SIO_LOCK_IOMMUFD_IOAS = 200,		/* ioas->mutex */
	SIO_LOCK_IOMMUFD_ACCESS_IOAS = 210,	/* access->ioas_lock */
	SIO_LOCK_IOMMUFD_GROUPS = 215,		/* ictx->groups_lock */
	SIO_LOCK_IOMMUFD_IGROUP = 220,		/* igroup->lock */
	SIO_LOCK_IOMMUFD_IOPT = 230,		/* iopt->lock */
	SIO_LOCK_IOMMUFD_HOST = 240,		/* host->lock */
	SIO_LOCK_IOMMUFD_DMABUF = 250,		/* dmabuf->lock */
	SIO_LOCK_IOMMUFD_PAGES = 260,		/* pages->mutex */
	/* umem */
	SIO_LOCK_UMEM_SELF = 270,		/* self_lock: pins, the arena */
	SIO_LOCK_UMEM_WATCH = 275,		/* watch_qlock: the watch's queue */
	SIO_LOCK_UMEM_USERS = 280,		/* users_lock: accounting */
	/* core and what runs under the group mutex */
	SIO_LOCK_SYSTEM = 300,			/* sys->lock */
	SIO_LOCK_IOMMU = 310,			/* iommu->lock */
	SIO_LOCK_SVA_MM = 320,			/* sva_mm->lock (sva/sva.c) */
	SIO_LOCK_GROUP = 330,			/* group->mutex */
	SIO_LOCK_MM = 340,			/* mm->lock (mm/) */
	SIO_LOCK_SOFT_SVA = 350,		/* soft SVA domain sd->lock */
	SIO_LOCK_MOCK_VIOMMU = 360,		/* mock dev viommu_lock (rw) */
	SIO_LOCK_PCI_DEV = 370,			/* pdev->lock (pci/) */
	SIO_LOCK_IOMMUFD_VEVENTQS = 380,	/* viommu->veventqs_lock (rw) */
	SIO_LOCK_IOMMUFD_EVENTQ = 390,		/* eventq->mutex */
	SIO_LOCK_IOMMUFD_EVENTQ_READY = 395,	/* eventq->ready_lock */
	SIO_LOCK_IOPF_DEV = 400,		/* st->lock (iopf/) */
	SIO_LOCK_IOPF_SVA = 410,		/* the SVA fault queue q->lock */
	SIO_LOCK_DOMAIN_MAP = 420,		/* domain->map_lock */
	SIO_LOCK_DOMAIN_EPOCH = 425,		/* domain->epoch_lock */
	SIO_LOCK_VIOMMU_VDEVS = 430,		/* viommu->vdevs_lock */
	SIO_LOCK_DEV_RESV = 440,		/* dev->resv_lock */
	SIO_LOCK_PASID_SPACE = 450,		/* space->lock (pasid/) */
	SIO_LOCK_SVA_HOOK = 460,		/* sys->sva_hook.lock */
	SIO_LOCK_MOCK_QUEUES = 470,		/* mock vIOMMU queue_lock */
	/* leaves of iommufd and the file layer */
	SIO_LOCK_IOMMUFD_SELFTEST = 475,	/* selftest access items */
	SIO_LOCK_IOMMUFD_MMAP = 480,		/* ictx->mmap_lock */
	SIO_LOCK_IOMMUFD_OBJ = 490,		/* ictx->obj_lock */
	SIO_LOCK_FILES = 500,			/* files_lock */
	SIO_LOCK_FILE = 510,			/* file->lock, by address */
	SIO_LOCK_FILE_MAPS = 520,		/* maps_lock */
};

#ifdef NDEBUG

static inline void sio_mutex_lock(pthread_mutex_t *m, enum sio_lock_rank rank)
{
	(void)rank;
	pthread_mutex_lock(m);
}

static inline void sio_mutex_unlock(pthread_mutex_t *m)
{
	pthread_mutex_unlock(m);
}

#define SIO_ASSERT_HELD(m) ((void)0)

#else

/* Check, before blocking on it, that m may be taken at rank now (lock.c):
 * aborts on an order inversion or a mutex already held. */
void sio_lock_check(const pthread_mutex_t *m, enum sio_lock_rank rank);
/* Record m as taken at rank (lock.c). */
void sio_lock_acquired(const pthread_mutex_t *m, enum sio_lock_rank rank);
/* Forget m (lock.c); asserts it was held. */
void sio_lock_released(const pthread_mutex_t *m);
/* Whether this thread holds m through sio_mutex_lock(). */
bool sio_mutex_held(const pthread_mutex_t *m);

static inline void sio_mutex_lock(pthread_mutex_t *m, enum sio_lock_rank rank)
{
	sio_lock_check(m, rank);
	pthread_mutex_lock(m);
	sio_lock_acquired(m, rank);
}

static inline void sio_mutex_unlock(pthread_mutex_t *m)
{
	sio_lock_released(m);
	pthread_mutex_unlock(m);
}

#define SIO_ASSERT_HELD(m) assert(sio_mutex_held(m))

#endif

#endif
