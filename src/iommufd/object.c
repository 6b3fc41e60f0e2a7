/*
 * The object table of one context: IDs and the lifecycle of every object.
 *
 * IDs are allocated as the kernel's xarray with XA_FLAGS_ALLOC1 does: the
 * lowest free ID, starting at 1.  An object is born "reserved": its ID is
 * taken but lookups do not see it, so nothing can start using an object
 * whose creation may still fail.  The creator then either finalizes it
 * (published: lookups find it) or aborts it (the ID is freed, the object
 * destroyed).  So an error never leaves a half-made object visible.
 *
 * Every object counts its users: 1 for the table while published, and one
 * per holder (an ioctl working on it, a child object such as a HWPT on its
 * IOAS).  Those of ioctls in flight are counted again in wait_cnt, as the
 * kernel does.  DESTROY removes an object only when the table's is the
 * only reference (-EBUSY otherwise) and takes it out of the table before
 * its destroy op runs, which cannot fail: destroy never fails half-way.
 * A driver's removal (unbind of a device, destroy of an access: the
 * kernel's REMOVE_WAIT) cannot be refused: it takes the object out of the
 * table at once, then sleeps on destroy_wait until wait_cnt drops to 0,
 * then destroys.  A tombstone is an object destroyed for another's sake (a
 * vDEVICE whose device went) whose ID stays reserved until the context is
 * closed.
 *
 * IDs run out at the kernel's 31-bit limit (or a lower one a test sets):
 * that is -EBUSY, as xa_alloc answers, not -ENOMEM.
 *
 * Lookups take no lock.  Every MAP and UNMAP looks its IOAS up, and the
 * table's mutex was a good part of them.  Writers still change the table
 * under obj_lock; a reader:
 *  - loads the table and the slot (acquire); a table outgrown is kept
 *    until the context goes, so an old one is still readable, only
 *    stale, and a stale answer is one the lookup could have got an
 *    instant earlier;
 *  - publishes the object in its thread's hazard slot (a plain store, in
 *    a line of its own), fences as the fork gate's readers do
 *    (file/gate.c: a compiler barrier once membarrier is registered) and
 *    checks that the slot still holds it, then takes users and wait_cnt
 *    together while both are non-zero (one compare-and-swap), and empties
 *    its hazard slot.
 * A destroyed object is not freed at once: it waits on the context's
 * limbo list, and every 32 the list is reaped: a barrier on every thread
 * (membarrier; a fence alone while no other thread has a hazard slot in
 * use), then each object no slot holds is freed.  So a reader that found
 * an object in the table before it was removed reads its counts, never
 * freed memory, and a count of zero tells it the object went.  DESTROY
 * keeps the kernel's answers: it takes users from 1 to 0 with one
 * compare-and-swap, so a lookup either came first (-EBUSY) or finds it
 * gone (-ENOENT); an ID that DESTROY freed is -ENOENT for every lookup
 * that starts after it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iommufd/iommufd_private.h"
#include "util/thread_slot.h"

struct iommufd_object_ops {
	void (*destroy)(struct iommufd_object *obj);
	/* Optional: undo a creation that was not finalized (else destroy). */
	void (*abort)(struct iommufd_object *obj);
};

static const struct iommufd_object_ops iommufd_object_ops[IOMMUFD_OBJ_MAX] = {
	[IOMMUFD_OBJ_DEVICE] = { .destroy = iommufd_device_destroy },
	[IOMMUFD_OBJ_HWPT_PAGING] = { .destroy = iommufd_hwpt_paging_destroy,
				      .abort = iommufd_hwpt_paging_abort },
	[IOMMUFD_OBJ_HWPT_NESTED] = { .destroy = iommufd_hwpt_nested_destroy },
	[IOMMUFD_OBJ_IOAS] = { .destroy = iommufd_ioas_destroy },
	[IOMMUFD_OBJ_ACCESS] = { .destroy = iommufd_access_destroy_object },
	[IOMMUFD_OBJ_SELFTEST] = { .destroy = iommufd_selftest_destroy },
	[IOMMUFD_OBJ_FAULT] = { .destroy = iommufd_fault_destroy },
	[IOMMUFD_OBJ_VIOMMU] = { .destroy = iommufd_viommu_destroy },
	[IOMMUFD_OBJ_VDEVICE] = { .destroy = iommufd_vdevice_destroy,
				  .abort = iommufd_vdevice_abort },
	[IOMMUFD_OBJ_VEVENTQ] = { .destroy = iommufd_veventq_destroy,
				  .abort = iommufd_veventq_abort },
	[IOMMUFD_OBJ_HW_QUEUE] = { .destroy = iommufd_hw_queue_destroy },
};

/* IDs are 31 bits, as xa_limit_31b. */
#define IOMMUFD_MAX_ID 0x7fffffffu

/* ------------------------------------------------------------------ */
/* Hazard slots: one per thread that looked an object up                */
/* ------------------------------------------------------------------ */

/*
 * Per-thread slots (util/thread_slot.h), walked by the reaper and by
 * DESTROY without a lock.  A thread that cannot get one looks up under
 * obj_lock.
 */
struct obj_hazard {
	struct sio_thread_slot slot;
	struct iommufd_object *obj;	/* atomic: held by a lookup */
	/* atomic: held by an ioctl for its whole run ("Holds" below) */
	struct iommufd_object *held;
};

static _Thread_local struct obj_hazard *obj_hz_self
	__attribute__((tls_model("initial-exec")));

static void obj_hz_release(struct sio_thread_slot *slot)
{
	struct obj_hazard *h = (struct obj_hazard *)slot;

	__atomic_store_n(&h->obj, NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&h->held, NULL, __ATOMIC_RELEASE);
	obj_hz_self = NULL;
}

static struct sio_thread_slots obj_hazards =
	SIO_THREAD_SLOTS_INIT(struct obj_hazard, obj_hz_release);

#define for_each_hazard(h)                                                  \
	for ((h) = (struct obj_hazard *)sio_thread_slots_first(&obj_hazards); \
	     (h); (h) = (struct obj_hazard *)(h)->slot.next)

/* This thread's slot, or NULL (then the lookup takes obj_lock). */
static struct obj_hazard *obj_hz_get(void)
{
	obj_hz_self = (struct obj_hazard *)sio_thread_slot_get(&obj_hazards);
	return obj_hz_self;
}

/* Between a reader's store to its slot and its check of the table. */
static inline void obj_hz_fence(void)
{
	sio_slot_fence();
}

/* The reaper's side: after it, every reader's slot store that came before
 * is visible, and every reader that stores later sees the table as the
 * reaper left it. */
static void obj_hz_barrier(void)
{
	struct obj_hazard *h, *self = obj_hz_self;
	bool others = false;

	/* Orders the table's changes before the reads of used below; a
	 * thread that takes a slot later does so with a full barrier, then
	 * finds those changes. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for_each_hazard(h)
		if (h != self && __atomic_load_n(&h->slot.used, __ATOMIC_ACQUIRE))
			others = true;
	if (others)
		sio_membarrier();
}

/* Whether a lookup's slot (with holds) or an ioctl's hold names obj;
 * after obj_hz_barrier(). */
static bool obj_hz_slots_name(const struct iommufd_object *obj, bool lookups)
{
	struct obj_hazard *h;

	for_each_hazard(h)
		if ((lookups && __atomic_load_n(&h->obj, __ATOMIC_ACQUIRE) == obj) ||
		    __atomic_load_n(&h->held, __ATOMIC_ACQUIRE) == obj)
			return true;
	return false;
}

static bool obj_hz_held(const struct iommufd_object *obj)
{
	return obj_hz_slots_name(obj, true);
}

/* Whether an ioctl holds obj (iommufd_hold_object). */
static bool obj_hz_holding(const struct iommufd_object *obj)
{
	return obj_hz_slots_name(obj, false);
}

/* ------------------------------------------------------------------ */
/* The table                                                            */
/* ------------------------------------------------------------------ */

/* The table's entry for id: an object, RESERVED or NULL.  Any thread. */
static struct iommufd_object *table_load(struct sio_iommufd *ictx, uint32_t id)
{
	struct iommufd_obj_table *t = __atomic_load_n(&ictx->table,
						      __ATOMIC_ACQUIRE);

	if (!t || id >= t->cap)
		return NULL;
	return __atomic_load_n(&t->slot[id], __ATOMIC_ACQUIRE);
}

/* Set the entry of a reserved or published id.  obj_lock. */
static void table_store(struct sio_iommufd *ictx, uint32_t id,
			struct iommufd_object *obj)
{
	__atomic_store_n(&ictx->table->slot[id], obj, __ATOMIC_RELEASE);
}

static uint32_t table_cap(struct sio_iommufd *ictx)
{
	return ictx->table ? ictx->table->cap : 0;
}

static int table_reserve(struct sio_iommufd *ictx, struct iommufd_object *obj)
{
	uint32_t id, cap = table_cap(ictx);

	for (id = ictx->free_hint; id < cap; id++)
		if (!ictx->table->slot[id])
			break;
	if (id > ictx->id_limit)
		return sio_err(-EBUSY, "object: all IDs up to %u are in use",
			       ictx->id_limit);
	if (id >= cap) {
		uint64_t ncap = cap ? (uint64_t)cap * 2 : 16;
		struct iommufd_obj_table *n;

		if (ncap > (uint64_t)ictx->id_limit + 1)
			ncap = (uint64_t)ictx->id_limit + 1;
		n = sio_calloc(1, sizeof(*n) + ncap * sizeof(n->slot[0]));
		if (!n)
			return sio_err(-ENOMEM, "object: no memory for a table "
				       "of %llu IDs", (unsigned long long)ncap);
		n->cap = (uint32_t)ncap;
		if (cap)
			memcpy(n->slot, ictx->table->slot,
			       cap * sizeof(n->slot[0]));
		else
			id = 1;
		/* Readers may still be in the old one: it stays. */
		n->retired = ictx->table;
		__atomic_store_n(&ictx->table, n, __ATOMIC_RELEASE);
	}
	table_store(ictx, id, IOMMUFD_OBJ_RESERVED);
	ictx->nobjs++;
	ictx->free_hint = id + 1;
	obj->id = id;
	return 0;
}

static void table_free_id(struct sio_iommufd *ictx, uint32_t id)
{
	table_store(ictx, id, NULL);
	ictx->nobjs--;
	if (id < ictx->free_hint)
		ictx->free_hint = id;
}

/* Free the limbo's objects that no hazard slot holds.  obj_lock. */
static void limbo_reap(struct sio_iommufd *ictx)
{
	struct iommufd_object **pp = &ictx->limbo, *obj;

	obj_hz_barrier();
	while ((obj = *pp)) {
		if (obj_hz_held(obj)) {
			pp = &obj->limbo_next;
			continue;
		}
		*pp = obj->limbo_next;
		ictx->nlimbo--;
		free(obj);
	}
}

#define LIMBO_BATCH 32

/* A destroyed object, out of the table: freed once no lookup holds it. */
static void object_retire(struct sio_iommufd *ictx, struct iommufd_object *obj)
{
	pthread_mutex_lock(&ictx->obj_lock);
	obj->limbo_next = ictx->limbo;
	ictx->limbo = obj;
	if (++ictx->nlimbo >= LIMBO_BATCH)
		limbo_reap(ictx);
	pthread_mutex_unlock(&ictx->obj_lock);
}

void iommufd_objects_free_table(struct sio_iommufd *ictx)
{
	struct iommufd_obj_table *t = ictx->table, *next;
	struct iommufd_object *obj;

	while ((obj = ictx->limbo)) {
		ictx->limbo = obj->limbo_next;
		free(obj);
	}
	ictx->nlimbo = 0;
	for (; t; t = next) {
		next = t->retired;
		free(t);
	}
	ictx->table = NULL;
}

void iommufd_ctx_set_id_limit(struct sio_iommufd *ictx, uint32_t limit)
{
	pthread_mutex_lock(&ictx->obj_lock);
	ictx->id_limit = limit < IOMMUFD_MAX_ID ? limit : IOMMUFD_MAX_ID;
	pthread_mutex_unlock(&ictx->obj_lock);
}

struct iommufd_object *iommufd_object_alloc(struct sio_iommufd *ictx,
					    size_t size,
					    enum iommufd_object_type type,
					    int *err)
{
	struct iommufd_object *obj = sio_calloc(1, size);
	int rc;

	if (!obj) {
		*err = -ENOMEM;
		return NULL;
	}
	obj->type = type;
	obj->refs = IOMMUFD_OBJ_USER | IOMMUFD_OBJ_WAIT;
	pthread_mutex_lock(&ictx->obj_lock);
	rc = table_reserve(ictx, obj);
	pthread_mutex_unlock(&ictx->obj_lock);
	if (rc) {
		free(obj);
		*err = rc;
		return NULL;
	}
	return obj;
}

struct iommufd_object *iommufd_object_alloc_ucmd(struct iommufd_ucmd *ucmd,
						 size_t size,
						 enum iommufd_object_type type,
						 int *err)
{
	struct iommufd_object *obj;

	/* An abort op must run under the caller's locks: not for ucmd. */
	if (ucmd->new_obj || iommufd_object_ops[type].abort) {
		*err = -EINVAL;
		return NULL;
	}
	obj = iommufd_object_alloc(ucmd->ictx, size, type, err);
	ucmd->new_obj = obj;
	return obj;
}

void iommufd_object_finalize(struct sio_iommufd *ictx,
			     struct iommufd_object *obj)
{
	pthread_mutex_lock(&ictx->obj_lock);
	table_store(ictx, obj->id, obj);
	pthread_mutex_unlock(&ictx->obj_lock);
}

void iommufd_object_abort(struct sio_iommufd *ictx, struct iommufd_object *obj)
{
	pthread_mutex_lock(&ictx->obj_lock);
	table_free_id(ictx, obj->id);
	pthread_mutex_unlock(&ictx->obj_lock);
	free(obj);
}

void iommufd_object_abort_and_destroy(struct sio_iommufd *ictx,
				      struct iommufd_object *obj)
{
	const struct iommufd_object_ops *ops = &iommufd_object_ops[obj->type];

	if (ops->abort)
		ops->abort(obj);
	else
		ops->destroy(obj);
	iommufd_object_abort(ictx, obj);
}

/* Take users and wait_cnt, unless either is 0 (the object is going). */
static bool obj_tryget(struct iommufd_object *obj)
{
	uint64_t v = __atomic_load_n(&obj->refs, __ATOMIC_RELAXED);

	do {
		/* wait_cnt 0: a removal has taken the table's count and
		 * waits; users 0: destroyed. */
		if (!iommufd_obj_users(v) || !iommufd_obj_waits(v))
			return false;
	} while (!__atomic_compare_exchange_n(&obj->refs, &v,
					      v + IOMMUFD_OBJ_USER + IOMMUFD_OBJ_WAIT,
					      true, __ATOMIC_ACQUIRE,
					      __ATOMIC_RELAXED));
	return true;
}

bool iommufd_lock_obj(struct sio_iommufd *ictx, struct iommufd_object *obj)
{
	(void)ictx;
	return obj_tryget(obj);
}

/* iommufd_get_object() when its fast path did not answer: a thread's
 * first lookup (which takes its hazard slot for the next ones), a thread
 * without a hazard slot, a lookup that raced with a change of the table,
 * and every failure.  Looks again under obj_lock, where the answer is
 * final: a removal that set users to 0 and found a hold has restored it
 * (remove_locked), so a failing DESTROY never makes this lookup fail. */
static __attribute__((noinline)) struct iommufd_object *
get_object_slow(struct sio_iommufd *ictx, uint32_t id,
		enum iommufd_object_type type, int *err)
{
	struct iommufd_object *obj;

	if (__builtin_expect(!obj_hz_self, 0))
		obj_hz_get();
	pthread_mutex_lock(&ictx->obj_lock);
	obj = table_load(ictx, id);
	if (obj == IOMMUFD_OBJ_RESERVED ||
	    (obj && type != IOMMUFD_OBJ_ANY && obj->type != type) ||
	    (obj && !obj_tryget(obj)))
		obj = NULL;
	pthread_mutex_unlock(&ictx->obj_lock);
	if (!obj)
		*err = type == IOMMUFD_OBJ_ANY ?
			sio_err_uint(-ENOENT, "no object %u", id) :
			sio_err_uint(-ENOENT, "no object %u of that type", id);
	return obj;
}

/* The lock-free reader's step, into the slot field *where (a lookup's or
 * a hold's): the object the table has at id, published in *where and
 * found there again after the fence, of the type asked for; NULL
 * otherwise, when *where may still name what was published: the caller
 * empties it.  Not freed while *where names it. */
static inline struct iommufd_object *publish(struct sio_iommufd *ictx,
					     uint32_t id,
					     enum iommufd_object_type type,
					     struct iommufd_object **where)
{
	struct iommufd_obj_table *t = __atomic_load_n(&ictx->table,
						      __ATOMIC_ACQUIRE);
	struct iommufd_object *obj;

	if (__builtin_expect(!t || id >= t->cap, 0))
		return NULL;
	obj = __atomic_load_n(&t->slot[id], __ATOMIC_ACQUIRE);
	if (__builtin_expect(!obj || obj == IOMMUFD_OBJ_RESERVED, 0))
		return NULL;
	__atomic_store_n(where, obj, __ATOMIC_RELAXED);
	obj_hz_fence();
	/* Still the table's and still in it (the table not outgrown
	 * meanwhile); the type is constant. */
	if (__builtin_expect(__atomic_load_n(&ictx->table,
					     __ATOMIC_ACQUIRE) == t &&
			     __atomic_load_n(&t->slot[id],
					     __ATOMIC_ACQUIRE) == obj &&
			     (type == IOMMUFD_OBJ_ANY || obj->type == type), 1))
		return obj;
	return NULL;
}

/* Every MAP and UNMAP comes here: the common case (a thread with a hazard
 * slot finds a live object of the type asked for) in a leaf without the
 * slow cases' registers; the rest is get_object_slow(). */
struct iommufd_object *iommufd_get_object(struct sio_iommufd *ictx, uint32_t id,
					  enum iommufd_object_type type,
					  int *err)
{
	struct obj_hazard *hz = obj_hz_self;
	struct iommufd_object *obj;

	if (__builtin_expect(hz != NULL, 1)) {
		obj = publish(ictx, id, type, &hz->obj);
		if (obj && !obj_tryget(obj))
			obj = NULL;
		__atomic_store_n(&hz->obj, NULL, __ATOMIC_RELEASE);
		if (__builtin_expect(obj != NULL, 1))
			return obj;
	}
	return get_object_slow(ictx, id, type, err);
}

/* ------------------------------------------------------------------ */
/* Holds                                                                */
/* ------------------------------------------------------------------ */

/*
 * IOAS_MAP and IOAS_UNMAP look their IOAS up on every call, and the two
 * atomic read-modify-writes of a counted lookup (take users and wait_cnt,
 * put them) were a third of such a call's time.  An ioctl that lets go of
 * the object before it returns, on its own thread, holds it instead in
 * its thread's hold slot (obj_hazard.held): a plain store, the fence of
 * a lookup, and the checks a counted lookup makes, with no count taken.
 * A hold stands for a user and a wait_cnt at once:
 *  - DESTROY (remove_locked without REMOVE_WAIT) takes users 1 -> 0, then
 *    barriers and looks at every hold slot: a hold taken before the
 *    barrier is seen (users restored: -EBUSY), and one stored after it
 *    finds users at 0 and lets go, then looks up counted;
 *  - a removal that waits (REMOVE_WAIT) takes the object out of the
 *    table, counts itself in hold_waiters, barriers and sleeps until no
 *    slot holds it; a holder that lets go after that barrier sees
 *    hold_waiters and wakes it under obj_lock; one that let go before
 *    it is seen gone;
 *  - the limbo's reaper looks at the hold slots as at the lookups'.
 * One hold per thread: a second one (a nested ioctl from a signal
 * handler, an ioctl holding two objects) takes a counted reference.
 * Holds never cross a fork: the fork gate waits for every op to end.
 */

/* Empty this thread's hold slot, and wake a removal that waits for it. */
static void hold_release(struct sio_iommufd *ictx, struct obj_hazard *hz)
{
	__atomic_store_n(&hz->held, NULL, __ATOMIC_RELEASE);
	obj_hz_fence();
	if (__builtin_expect(__atomic_load_n(&ictx->hold_waiters,
					     __ATOMIC_RELAXED), 0)) {
		pthread_mutex_lock(&ictx->obj_lock);
		pthread_cond_broadcast(&ictx->destroy_wait);
		pthread_mutex_unlock(&ictx->obj_lock);
	}
}

struct iommufd_object *iommufd_hold_object(struct sio_iommufd *ictx,
					   uint32_t id,
					   enum iommufd_object_type type,
					   bool *held, int *err)
{
	struct obj_hazard *hz = obj_hz_self;
	struct iommufd_object *obj;
	uint64_t v;

	*held = false;
	if (__builtin_expect(hz && !__atomic_load_n(&hz->held,
						    __ATOMIC_RELAXED), 1)) {
		obj = publish(ictx, id, type, &hz->held);
		if (__builtin_expect(obj != NULL, 1)) {
			/* Alive: users and wait_cnt both non-zero. */
			v = __atomic_load_n(&obj->refs, __ATOMIC_ACQUIRE);
			if (__builtin_expect(iommufd_obj_users(v) &&
					     iommufd_obj_waits(v), 1)) {
				*held = true;
				return obj;
			}
		}
		/* A removal may have seen it: let go as an unhold does. */
		if (__atomic_load_n(&hz->held, __ATOMIC_RELAXED))
			hold_release(ictx, hz);
	}
	return iommufd_get_object(ictx, id, type, err);
}

void iommufd_unhold_object(struct sio_iommufd *ictx,
			   struct iommufd_object *obj, bool held)
{
	if (held)
		hold_release(ictx, obj_hz_self);
	else
		iommufd_put_object(ictx, obj);
}

void iommufd_put_object(struct sio_iommufd *ictx, struct iommufd_object *obj)
{
	/* users and wait_cnt at once: a removal woken by wait_cnt reaching
	 * 0 never sees this ioctl's users count.  obj may be retired as soon
	 * as wait_cnt is 0; the wake-up under obj_lock cannot be lost, as the
	 * waiter tests wait_cnt under it. */
	uint64_t old = __atomic_fetch_sub(&obj->refs,
					  IOMMUFD_OBJ_USER + IOMMUFD_OBJ_WAIT,
					  __ATOMIC_ACQ_REL);

	if (iommufd_obj_waits(old) == 1) {
		pthread_mutex_lock(&ictx->obj_lock);
		pthread_cond_broadcast(&ictx->destroy_wait);
		pthread_mutex_unlock(&ictx->obj_lock);
	}
}

/* Drop the table's wait_cnt and sleep until the ioctls holding obj have
 * put it, and with holds, until no ioctl holds it either ("Holds").
 * Under obj_lock, with obj out of the table's lookups. */
static void wait_shortterm_users(struct sio_iommufd *ictx,
				 struct iommufd_object *obj, bool holds)
{
	__atomic_sub_fetch(&obj->refs, IOMMUFD_OBJ_WAIT, __ATOMIC_ACQ_REL);
	if (holds) {
		/* Before the barrier: a holder that lets go after it sees
		 * hold_waiters and wakes us. */
		__atomic_add_fetch(&ictx->hold_waiters, 1, __ATOMIC_SEQ_CST);
		obj_hz_barrier();
	}
	while (iommufd_obj_waits(__atomic_load_n(&obj->refs, __ATOMIC_ACQUIRE)) ||
	       (holds && obj_hz_holding(obj)))
		pthread_cond_wait(&ictx->destroy_wait, &ictx->obj_lock);
	if (holds)
		__atomic_sub_fetch(&ictx->hold_waiters, 1, __ATOMIC_RELEASE);
}

/* Remove obj, published as id, found under obj_lock; drops the lock. */
static int remove_locked(struct sio_iommufd *ictx, struct iommufd_object *obj,
			 uint32_t id, unsigned int flags)
{
	uint64_t v;

	if (flags & IOMMUFD_REMOVE_WAIT) {
		/* Out of the table first: no new lookup finds it. */
		table_store(ictx, id, IOMMUFD_OBJ_RESERVED);
		wait_shortterm_users(ictx, obj, true);
	}
	/* users 1 -> 0 in one step: a lookup that raced took its count
	 * first (then this is -EBUSY) or finds users at 0. */
	v = __atomic_load_n(&obj->refs, __ATOMIC_ACQUIRE);
	do {
		if (iommufd_obj_users(v) != 1)
			break;
	} while (!__atomic_compare_exchange_n(&obj->refs, &v,
					      v - IOMMUFD_OBJ_USER, false,
					      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	/* An ioctl's hold counts as a user: after the barrier every hold
	 * taken before it is seen, and every later one finds users at 0
	 * and lets go (iommufd_hold_object).  A lookup that found users at
	 * 0 meanwhile looks again under obj_lock (get_object_slow), so the
	 * 0 undone below is never an answer. */
	if (iommufd_obj_users(v) == 1 && !(flags & IOMMUFD_REMOVE_WAIT)) {
		obj_hz_barrier();
		if (obj_hz_holding(obj)) {
			__atomic_add_fetch(&obj->refs, IOMMUFD_OBJ_USER,
					   __ATOMIC_RELEASE);
			v += IOMMUFD_OBJ_USER;
		}
	}
	if (iommufd_obj_users(v) != 1) {
		if (flags & IOMMUFD_REMOVE_WAIT) {
			/* A long-lived user remains: publish it again
			 * (wait_cnt is 0: no lookup can have taken it). */
			__atomic_add_fetch(&obj->refs, IOMMUFD_OBJ_WAIT,
					   __ATOMIC_RELEASE);
			table_store(ictx, id, obj);
		}
		pthread_mutex_unlock(&ictx->obj_lock);
		return sio_err(-EBUSY, "object %u is in use", id);
	}
	if (flags & IOMMUFD_REMOVE_TOMBSTONE)
		/* The ID stays counted and invisible: DESTROY of it is
		 * -ENOENT and no new object gets it before the close. */
		table_store(ictx, id, IOMMUFD_OBJ_RESERVED);
	else
		table_free_id(ictx, id);
	if (ictx->vfio_ioas && &ictx->vfio_ioas->obj == obj)
		ictx->vfio_ioas = NULL;
	/* An ioctl that put its users count may not have put its wait_cnt
	 * yet: it still touches obj until then. */
	if (!(flags & IOMMUFD_REMOVE_WAIT))
		wait_shortterm_users(ictx, obj, false);
	pthread_mutex_unlock(&ictx->obj_lock);

	iommufd_object_ops[obj->type].destroy(obj);
	object_retire(ictx, obj);
	return 0;
}

int iommufd_object_remove(struct sio_iommufd *ictx,
			  struct iommufd_object *held, uint32_t id,
			  unsigned int flags)
{
	struct iommufd_object *obj;

	/* A missing ID (the expected answer of a DESTROY that lost a race,
	 * or of a program's cleanup) needs no lock: the table is read as a
	 * lookup reads it. */
	if (!held) {
		obj = table_load(ictx, id);
		if (!obj || obj == IOMMUFD_OBJ_RESERVED)
			return sio_err_uint(-ENOENT, "no object %u", id);
	}
	pthread_mutex_lock(&ictx->obj_lock);
	if (held)
		iommufd_obj_put(held);
	obj = table_load(ictx, id);
	if (!obj || obj == IOMMUFD_OBJ_RESERVED || (held && obj != held)) {
		pthread_mutex_unlock(&ictx->obj_lock);
		return sio_err(-ENOENT, "no object %u", id);
	}
	return remove_locked(ictx, obj, id, flags);
}

int iommufd_object_tombstone(struct sio_iommufd *ictx,
			     const struct iommufd_object *obj, uint32_t id)
{
	struct iommufd_object *cur;

	pthread_mutex_lock(&ictx->obj_lock);
	cur = table_load(ictx, id);
	/* Compared by address only: obj may be freed if it is not cur. */
	if (cur != obj) {
		pthread_mutex_unlock(&ictx->obj_lock);
		return sio_err(-ENOENT, "object %u is no longer in the table",
			       id);
	}
	return remove_locked(ictx, cur, id, IOMMUFD_REMOVE_TOMBSTONE);
}

void iommufd_object_put_and_try_destroy(struct sio_iommufd *ictx,
					struct iommufd_object *obj)
{
	/* Busy means another user keeps it: not an error here. */
	iommufd_object_remove(ictx, obj, obj->id, 0);
}

bool iommufd_ctx_has_objects(struct sio_iommufd *ictx)
{
	return ictx->nobjs != 0;
}

/*
 * The last close: the objects form a graph of users counts; destroying
 * every object whose only user is the table frees its children's hold on
 * their parents, so repeating the sweep destroys everything.
 */
void iommufd_objects_destroy_all(struct sio_iommufd *ictx)
{
	for (;;) {
		unsigned int destroyed = 0;
		bool any = false;

		for (uint32_t id = 1; id < table_cap(ictx); id++) {
			struct iommufd_object *obj;

			pthread_mutex_lock(&ictx->obj_lock);
			obj = table_load(ictx, id);
			if (!obj || obj == IOMMUFD_OBJ_RESERVED) {
				pthread_mutex_unlock(&ictx->obj_lock);
				continue;
			}
			any = true;
			if (remove_locked(ictx, obj, id, 0) == 0)
				destroyed++;
		}
		if (!any)
			break;
		if (!destroyed) {
			sio_err(-EBUSY, "iommufd: release: objects still in use");
			break;
		}
	}
}
