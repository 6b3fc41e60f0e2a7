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
 * IOAS).  DESTROY removes an object only when the table's is the only
 * reference (-EBUSY otherwise) and takes it out of the table before its
 * destroy op runs, which cannot fail: destroy never fails half-way.  A
 * tombstone is an object destroyed for another's sake (a vDEVICE whose
 * device went) whose ID stays reserved until the context is closed.
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
	if (id >= ictx->cap) {
		uint32_t ncap = ictx->cap ? ictx->cap * 2 : 16;
		struct iommufd_object **n;

		if (ictx->cap >= IOMMUFD_MAX_ID)
			return -EBUSY;
		if (ncap > IOMMUFD_MAX_ID + 1u)
			ncap = IOMMUFD_MAX_ID + 1u;
		n = sio_realloc(ictx->objs, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		memset(n + ictx->cap, 0, (ncap - ictx->cap) * sizeof(*n));
		if (ictx->cap == 0)
			id = 1;
		ictx->objs = n;
		ictx->cap = ncap;
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

struct iommufd_object *iommufd_object_alloc(struct sio_iommufd *ictx,
					    size_t size,
					    enum iommufd_object_type type)
{
	struct iommufd_object *obj = sio_calloc(1, size);
	int rc;

	if (!obj)
		return NULL;
	obj->type = type;
	obj->users = 1;
	pthread_mutex_lock(&ictx->obj_lock);
	rc = table_reserve(ictx, obj);
	pthread_mutex_unlock(&ictx->obj_lock);
	if (rc) {
		free(obj);
		return NULL;
	}
	return obj;
}

struct iommufd_object *iommufd_object_alloc_ucmd(struct iommufd_ucmd *ucmd,
						 size_t size,
						 enum iommufd_object_type type)
{
	struct iommufd_object *obj;

	/* An abort op must run under the caller's locks: not for ucmd. */
	if (ucmd->new_obj || iommufd_object_ops[type].abort)
		return NULL;
	obj = iommufd_object_alloc(ucmd->ictx, size, type);
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

struct iommufd_object *iommufd_get_object(struct sio_iommufd *ictx, uint32_t id,
					  enum iommufd_object_type type,
					  int *err)
{
	struct iommufd_object *obj = NULL;

	pthread_mutex_lock(&ictx->obj_lock);
	if (id < ictx->cap) {
		obj = ictx->objs[id];
		if (obj == IOMMUFD_OBJ_RESERVED ||
		    (obj && type != IOMMUFD_OBJ_ANY && obj->type != type))
			obj = NULL;
		if (obj)
			iommufd_obj_get(obj);
	}
	pthread_mutex_unlock(&ictx->obj_lock);
	if (!obj)
		*err = -ENOENT;
	return obj;
}

void iommufd_put_object(struct sio_iommufd *ictx, struct iommufd_object *obj)
{
	(void)ictx;
	iommufd_obj_put(obj);
}

int iommufd_object_remove(struct sio_iommufd *ictx,
			  struct iommufd_object *held, uint32_t id)
{
	struct iommufd_object *obj;

	pthread_mutex_lock(&ictx->obj_lock);
	if (held)
		iommufd_obj_put(held);
	obj = id < ictx->cap ? ictx->objs[id] : NULL;
	if (!obj || obj == IOMMUFD_OBJ_RESERVED || (held && obj != held)) {
		pthread_mutex_unlock(&ictx->obj_lock);
		return -ENOENT;
	}
	if (__atomic_load_n(&obj->users, __ATOMIC_ACQUIRE) != 1) {
		pthread_mutex_unlock(&ictx->obj_lock);
		return -EBUSY;
	}
	obj->users = 0;
	table_free_id(ictx, id);
	if (ictx->vfio_ioas && &ictx->vfio_ioas->obj == obj)
		ictx->vfio_ioas = NULL;
	pthread_mutex_unlock(&ictx->obj_lock);

	iommufd_object_ops[obj->type].destroy(obj);
	free(obj);
	return 0;
}

int iommufd_object_tombstone(struct sio_iommufd *ictx,
			     const struct iommufd_object *obj, uint32_t id)
{
	struct iommufd_object *cur;

	pthread_mutex_lock(&ictx->obj_lock);
	cur = id < ictx->cap ? ictx->objs[id] : NULL;
	if (cur != obj) {
		pthread_mutex_unlock(&ictx->obj_lock);
		return -ENOENT;
	}
	if (__atomic_load_n(&cur->users, __ATOMIC_ACQUIRE) != 1) {
		pthread_mutex_unlock(&ictx->obj_lock);
		return -EBUSY;
	}
	cur->users = 0;
	/* The ID stays counted and invisible: DESTROY of it is -ENOENT and
	 * no new object gets it before the context is closed. */
	ictx->objs[id] = IOMMUFD_OBJ_RESERVED;
	pthread_mutex_unlock(&ictx->obj_lock);

	iommufd_object_ops[cur->type].destroy(cur);
	free(cur);
	return 0;
}

void iommufd_object_put_and_try_destroy(struct sio_iommufd *ictx,
					struct iommufd_object *obj)
{
	/* Busy means another user keeps it: not an error here. */
	iommufd_object_remove(ictx, obj, obj->id);
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
			if (__atomic_load_n(&obj->users, __ATOMIC_ACQUIRE) != 1) {
				pthread_mutex_unlock(&ictx->obj_lock);
				continue;
			}
			obj->users = 0;
			table_free_id(ictx, id);
			pthread_mutex_unlock(&ictx->obj_lock);
			iommufd_object_ops[obj->type].destroy(obj);
			free(obj);
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
