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
 */
#include <stdlib.h>
#include <string.h>

#include "iommufd/iommufd_private.h"

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

static int table_reserve(struct sio_iommufd *ictx, struct iommufd_object *obj)
{
	uint32_t id;

	for (id = ictx->free_hint; id < ictx->cap; id++)
		if (!ictx->objs[id])
			break;
	if (id > ictx->id_limit)
		return sio_err(-EBUSY, "object: all IDs up to %u are in use",
			       ictx->id_limit);
	if (id >= ictx->cap) {
		uint64_t ncap = ictx->cap ? (uint64_t)ictx->cap * 2 : 16;
		struct iommufd_object **n;

		if (ncap > (uint64_t)ictx->id_limit + 1)
			ncap = (uint64_t)ictx->id_limit + 1;
		n = sio_realloc(ictx->objs, ncap * sizeof(*n));
		if (!n)
			return sio_err(-ENOMEM, "object: no memory for a table "
				       "of %llu IDs", (unsigned long long)ncap);
		memset(n + ictx->cap, 0, (ncap - ictx->cap) * sizeof(*n));
		if (ictx->cap == 0)
			id = 1;
		ictx->objs = n;
		ictx->cap = (uint32_t)ncap;
	}
	ictx->objs[id] = IOMMUFD_OBJ_RESERVED;
	ictx->nobjs++;
	ictx->free_hint = id + 1;
	obj->id = id;
	return 0;
}

static void table_free_id(struct sio_iommufd *ictx, uint32_t id)
{
	ictx->objs[id] = NULL;
	ictx->nobjs--;
	if (id < ictx->free_hint)
		ictx->free_hint = id;
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
	obj->users = 1;
	obj->wait_cnt = 1;
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
	ictx->objs[obj->id] = obj;
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

bool iommufd_lock_obj(struct sio_iommufd *ictx, struct iommufd_object *obj)
{
	(void)ictx;
	/* wait_cnt 0: a removal has taken the table's count and waits. */
	if (!__atomic_load_n(&obj->wait_cnt, __ATOMIC_RELAXED) ||
	    !__atomic_load_n(&obj->users, __ATOMIC_RELAXED))
		return false;
	__atomic_add_fetch(&obj->users, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&obj->wait_cnt, 1, __ATOMIC_RELAXED);
	return true;
}

struct iommufd_object *iommufd_get_object(struct sio_iommufd *ictx, uint32_t id,
					  enum iommufd_object_type type,
					  int *err)
{
	struct iommufd_object *obj = NULL;

	pthread_mutex_lock(&ictx->obj_lock);
	if (id < ictx->cap) {
		obj = ictx->objs[id];
		if (obj == IOMMUFD_OBJ_RESERVED ||
		    (obj && type != IOMMUFD_OBJ_ANY && obj->type != type) ||
		    (obj && !iommufd_lock_obj(ictx, obj)))
			obj = NULL;
	}
	pthread_mutex_unlock(&ictx->obj_lock);
	if (!obj)
		*err = sio_err(-ENOENT, "no object %u%s", id,
			       type == IOMMUFD_OBJ_ANY ? "" : " of that type");
	return obj;
}

void iommufd_put_object(struct sio_iommufd *ictx, struct iommufd_object *obj)
{
	/* users first, then wait_cnt: a removal woken by wait_cnt reaching 0
	 * never sees this ioctl's users count.  obj may be freed as soon as
	 * wait_cnt is 0; the wake-up under obj_lock cannot be lost, as the
	 * waiter tests wait_cnt under it. */
	__atomic_sub_fetch(&obj->users, 1, __ATOMIC_RELEASE);
	if (__atomic_sub_fetch(&obj->wait_cnt, 1, __ATOMIC_ACQ_REL) == 0) {
		pthread_mutex_lock(&ictx->obj_lock);
		pthread_cond_broadcast(&ictx->destroy_wait);
		pthread_mutex_unlock(&ictx->obj_lock);
	}
}

/* Drop the table's wait_cnt and sleep until the ioctls holding obj have
 * put it.  Under obj_lock, with obj out of the table's lookups. */
static void wait_shortterm_users(struct sio_iommufd *ictx,
				 struct iommufd_object *obj)
{
	__atomic_sub_fetch(&obj->wait_cnt, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&obj->wait_cnt, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&ictx->destroy_wait, &ictx->obj_lock);
}

/* Remove obj, published as id, found under obj_lock; drops the lock. */
static int remove_locked(struct sio_iommufd *ictx, struct iommufd_object *obj,
			 uint32_t id, unsigned int flags)
{
	if (flags & IOMMUFD_REMOVE_WAIT) {
		/* Out of the table first: no new lookup finds it. */
		ictx->objs[id] = IOMMUFD_OBJ_RESERVED;
		wait_shortterm_users(ictx, obj);
	}
	if (__atomic_load_n(&obj->users, __ATOMIC_ACQUIRE) != 1) {
		if (flags & IOMMUFD_REMOVE_WAIT) {
			/* A long-lived user remains: publish it again. */
			__atomic_store_n(&obj->wait_cnt, 1, __ATOMIC_RELEASE);
			ictx->objs[id] = obj;
		}
		pthread_mutex_unlock(&ictx->obj_lock);
		return sio_err(-EBUSY, "object %u is in use", id);
	}
	obj->users = 0;
	if (flags & IOMMUFD_REMOVE_TOMBSTONE)
		/* The ID stays counted and invisible: DESTROY of it is
		 * -ENOENT and no new object gets it before the close. */
		ictx->objs[id] = IOMMUFD_OBJ_RESERVED;
	else
		table_free_id(ictx, id);
	if (ictx->vfio_ioas && &ictx->vfio_ioas->obj == obj)
		ictx->vfio_ioas = NULL;
	/* An ioctl that put its users count may not have put its wait_cnt
	 * yet: it still touches obj until then. */
	if (!(flags & IOMMUFD_REMOVE_WAIT))
		wait_shortterm_users(ictx, obj);
	pthread_mutex_unlock(&ictx->obj_lock);

	iommufd_object_ops[obj->type].destroy(obj);
	free(obj);
	return 0;
}

int iommufd_object_remove(struct sio_iommufd *ictx,
			  struct iommufd_object *held, uint32_t id,
			  unsigned int flags)
{
	struct iommufd_object *obj;

	pthread_mutex_lock(&ictx->obj_lock);
	if (held)
		iommufd_obj_put(held);
	obj = id < ictx->cap ? ictx->objs[id] : NULL;
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
	cur = id < ictx->cap ? ictx->objs[id] : NULL;
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

		for (uint32_t id = 1; id < ictx->cap; id++) {
			struct iommufd_object *obj;

			pthread_mutex_lock(&ictx->obj_lock);
			obj = ictx->objs[id];
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
