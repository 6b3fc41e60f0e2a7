/*
 * Private definitions of the iommufd layer (the kernel's
 * drivers/iommu/iommufd/iommufd_private.h): the host, the context, the
 * object model and the object families each file implements.
 *
 * Lock order (outer first):
 *   1. ioas->mutex          the IOAS's list of HWPTs (auto domain choice)
 *   2. igroup->lock         attachments of one group in one context
 *   3. iopt->lock           an IOAS's areas, allowed/reserved ranges,
 *                           domains and accesses (io_pagetable.c)
 *   4. host->lock           the host's list of live iopt_pages
 *   4a. dmabuf->lock        a dmabuf's revoked flag and attachments
 *                           (dmabuf.c); taken alone by a revocation
 *   5. pages->mutex         pin counts of one iopt_pages (pages.c), a
 *                           dmabuf's revoked state and domain tracks
 *   6. ictx->obj_lock       the object table's writers and limbo
 *                           (object.c); leaf.  Lookups take no lock
 *                           (object.c, "Lookups"; docs/locking.md)
 * An event queue's mutex (eventq.c: fault queues, vEVENTQs) is taken
 * inside igroup->lock (a detach flushes the fault queue), inside a
 * vIOMMU's veventqs_lock (reporting an event) and outside the I/O
 * page-fault layer's device locks; its ready_lock inside it (or alone)
 * and outside the emulated file's lock.  ictx->mmap_lock (mmap.c) is taken
 * outside ictx->obj_lock only.
 * A vIOMMU's core vdevs_lock is taken inside igroup->lock (attach checks
 * the vDEVICE).
 * access->lock (access.c) is taken before iopt->lock, never inside it.
 * Unmap callbacks into access objects run with no iommufd lock held.
 */
#ifndef SIO_IOMMUFD_PRIVATE_H
#define SIO_IOMMUFD_PRIVATE_H

#include <pthread.h>
#include <urcu/list.h>

#include "softiommu/attach.h"
#include "softiommu/device.h"
#include "softiommu/domain.h"
#include "softiommu/driver.h"
#include "softiommu/iommufd.h"
#include "softiommu/iopf.h"
#include "softiommu/umem.h"
#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/iommufd_test.h"
#include "softiommu/viommu.h"
#include "iommufd/iommufd_vfio.h"
#include "util/error.h"
#include "util/fail.h"
#include "util/interval_tree.h"
#include "util/safecopy.h"

struct iopt_pages;
struct sio_file;
struct sio_file_ops;

/* ------------------------------------------------------------------ */
/* Host and context                                                     */
/* ------------------------------------------------------------------ */

struct sio_iommufd_host {
	struct sio_system *sys;
	struct sio_iommu *mock;		/* where MOCK_DOMAIN probes devices;
					 * NULL: no selftest ABI */
	struct sio_umem_owner *owner;	/* one per host: MM counter per process */
	size_t page_size;		/* the owner's CPU page size */
	pthread_mutex_t lock;		/* protects pages_list, next_mock_rid */
	struct cds_list_head pages_list;	/* live iopt_pages.host_node */
	uint32_t next_mock_rid;
	unsigned int temp_memory_limit;	/* SET_TEMP_MEMORY_LIMIT; atomic */
};

enum iommufd_object_type {
	IOMMUFD_OBJ_NONE = 0,
	IOMMUFD_OBJ_ANY = IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_DEVICE,
	IOMMUFD_OBJ_HWPT_PAGING,
	IOMMUFD_OBJ_HWPT_NESTED,
	IOMMUFD_OBJ_IOAS,
	IOMMUFD_OBJ_ACCESS,
	IOMMUFD_OBJ_SELFTEST,
	IOMMUFD_OBJ_FAULT,
	IOMMUFD_OBJ_VIOMMU,
	IOMMUFD_OBJ_VDEVICE,
	IOMMUFD_OBJ_VEVENTQ,
	IOMMUFD_OBJ_HW_QUEUE,
	IOMMUFD_OBJ_MAX,
};

struct iommufd_object {
	enum iommufd_object_type type;
	uint32_t id;
	/* Two counts in one atomic word, so that a lookup and its put are
	 * one read-modify-write each (IOMMUFD_OBJ_USER, IOMMUFD_OBJ_WAIT):
	 *  - users, the low half: 1 for the table while published, +1 per
	 *    user (an ioctl holding it, a child object).  DESTROY needs
	 *    exactly 1;
	 *  - wait_cnt, the high half: the short-lived part of users, as the
	 *    kernel's: 1 for the table while published, +1 per
	 *    iommufd_get_object() not yet put (an ioctl in flight).  Removal
	 *    waits for it to reach 0.
	 * A lookup takes both only while both are non-zero. */
	uint64_t refs;			/* atomic */
	/* On the context's limbo once destroyed (obj_lock). */
	struct iommufd_object *limbo_next;
};
#define IOMMUFD_OBJ_USER 1ull
#define IOMMUFD_OBJ_WAIT (1ull << 32)
static inline uint32_t iommufd_obj_users(uint64_t refs)
{
	return (uint32_t)refs;
}
static inline uint32_t iommufd_obj_waits(uint64_t refs)
{
	return (uint32_t)(refs >> 32);
}

struct iommufd_obj_table {
	uint32_t cap;				/* slots */
	struct iommufd_obj_table *retired;	/* outgrown, freed last */
	struct iommufd_object *slot[];		/* atomic */
};
/* A slot of the object table: NULL = free, RESERVED = an ID taken by an
 * object not yet finalized (invisible to lookups), else the object. */
#define IOMMUFD_OBJ_RESERVED ((struct iommufd_object *)1)

struct sio_iommufd {
	struct sio_iommufd_host *host;
	/* References (atomic): 1 for the open (dropped by
	 * sio_iommufd_release) and 1 per access object, which, as in the
	 * kernel (iommufd_ctx_get), keeps the context alive until its driver
	 * destroys it.  The last one tears the context down. */
	unsigned int refs;
	/* Protects the table's slots for writers, nobjs, free_hint,
	 * id_limit, limbo, the users counts' 1 -> 0 transitions and the
	 * wait_cnt waits.  A leaf lock except
	 * that removal sleeps on destroy_wait with it (so nothing that
	 * removes an object may hold a lock an ioctl takes before it puts
	 * its objects: removal may wait for that ioctl). */
	pthread_mutex_t obj_lock;
	/* Signalled (under obj_lock) when an object's wait_cnt reaches 0,
	 * and when an ioctl lets go of a hold while hold_waiters says a
	 * removal waits for holds (object.c, "Holds"). */
	pthread_cond_t destroy_wait;
	/* Removals waiting for holds to go (atomic; changed under
	 * obj_lock, read without it by iommufd_unhold_object). */
	unsigned int hold_waiters;
	/* Indexed by ID ([0] unused).  Written under obj_lock, read
	 * without it (object.c, "Lookups"): the pointer and the slots are
	 * atomics, and a table outgrown is kept on its successor's retired
	 * list until the context goes, so a reader never reads freed
	 * memory. */
	struct iommufd_obj_table *table;
	uint32_t nobjs;			/* live and reserved */
	/* Destroyed objects not freed yet: a lookup may still hold one in
	 * its hazard slot (object.c).  Under obj_lock. */
	struct iommufd_object *limbo;	/* limbo_next */
	unsigned int nlimbo;
	uint32_t free_hint;		/* no free ID below this */
	/* The largest ID (the kernel's xa_limit_31b); beyond it alloc is
	 * -EBUSY.  Lowered only by tests (iommufd_ctx_set_id_limit). */
	uint32_t id_limit;
	enum sio_umem_acct account_mode;	/* USER or MM; under obj_lock */
	pthread_mutex_t groups_lock;	/* protects groups */
	struct cds_list_head groups;	/* iommufd_group.node */
	/* VFIO compatibility (vfio_compat.c), under obj_lock as the kernel
	 * keeps them under its object xarray's lock: the IOAS the VFIO
	 * container ioctls act on (no reference: destroying it clears
	 * this, in iommufd_object_remove), and whether a no-IOMMU device
	 * took the container, which then refuses the type1 IOMMUs. */
	struct iommufd_ioas *vfio_ioas;
	bool no_iommu_mode;
	/* Regions of driver memory the program may mmap() from this fd
	 * (mmap.c), by offset. */
	pthread_mutex_t mmap_lock;	/* protects mmaps */
	struct cds_list_head mmaps;	/* struct iommufd_mmap.node */
};

/* One ioctl in flight (struct iommufd_ucmd). */
struct iommufd_ucmd {
	struct sio_iommufd *ictx;
	uint64_t ubuffer;		/* the program's argument pointer */
	uint32_t user_size;
	void *cmd;			/* our copy, zero-extended */
	struct iommufd_object *new_obj;	/* finalized/aborted by dispatcher */
	/* The dispatcher read the argument with the plain fault-safe copy
	 * (umem/copy.h): the answer, which lies inside it, goes the same
	 * way. */
	bool copy_direct;
};

/* Write back min(caller's size, cmd_len) bytes of the copy: 0 or -EFAULT.
 * Inline: every handler that answers calls it; the plain fault-safe copy
 * when the dispatcher read the argument that way, else main.c's. */
int iommufd_ucmd_respond_copy(struct iommufd_ucmd *ucmd, size_t len);
static inline int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd,
				       size_t cmd_len)
{
	size_t len = ucmd->user_size < cmd_len ? ucmd->user_size : cmd_len;

	/* Within the bytes read: no range to check again. */
	if (__builtin_expect(ucmd->copy_direct, 1) &&
	    __builtin_expect(!sio_safe_memcpy((void *)(uintptr_t)ucmd->ubuffer,
					      ucmd->cmd, len), 1))
		return 0;
	return iommufd_ucmd_respond_copy(ucmd, len);
}

/* main.c: a reference on the context (struct sio_iommufd.refs). */
void iommufd_ctx_get(struct sio_iommufd *ictx);
void iommufd_ctx_put(struct sio_iommufd *ictx);
/* The context behind an iommufd descriptor, with a reference taken
 * (iommufd_ctx_put), or NULL when fd is not an iommufd (fd.c). */
struct sio_iommufd *iommufd_ctx_from_fd(int fd);

/* object.c */
/* A reserved object, or NULL with *err: -ENOMEM, or -EBUSY when every ID
 * up to the limit is taken (the kernel's xa_alloc). */
struct iommufd_object *iommufd_object_alloc(struct sio_iommufd *ictx,
					    size_t size,
					    enum iommufd_object_type type,
					    int *err);
/* The same, recorded in ucmd so the dispatcher finalizes or aborts it. */
struct iommufd_object *iommufd_object_alloc_ucmd(struct iommufd_ucmd *ucmd,
						 size_t size,
						 enum iommufd_object_type type,
						 int *err);
/* The largest ID objects of ictx may have (for tests of exhaustion). */
void iommufd_ctx_set_id_limit(struct sio_iommufd *ictx, uint32_t limit);
void iommufd_object_finalize(struct sio_iommufd *ictx,
			     struct iommufd_object *obj);
/* Undo alloc of an object whose destroy must not run. */
void iommufd_object_abort(struct sio_iommufd *ictx, struct iommufd_object *obj);
/* Undo alloc of an initialized object: its abort/destroy op runs. */
void iommufd_object_abort_and_destroy(struct sio_iommufd *ictx,
				      struct iommufd_object *obj);
/* -ENOENT unless id names a published object of type (or ANY).  The
 * reference is short-lived (users and wait_cnt): iommufd_put_object. */
struct iommufd_object *iommufd_get_object(struct sio_iommufd *ictx, uint32_t id,
					  enum iommufd_object_type type,
					  int *err);
void iommufd_put_object(struct sio_iommufd *ictx, struct iommufd_object *obj);
/* The same lookup for an ioctl that lets go of the object before it
 * returns, on the same thread: while the thread's hold slot is free it
 * holds obj there and touches no count (*held true); otherwise, or when
 * the object is being removed, it takes a reference as
 * iommufd_get_object (*held false).  Either way DESTROY of obj meanwhile
 * is -EBUSY, and iommufd_unhold_object(ictx, obj, *held) lets go. */
struct iommufd_object *iommufd_hold_object(struct sio_iommufd *ictx,
					   uint32_t id,
					   enum iommufd_object_type type,
					   bool *held, int *err);
void iommufd_unhold_object(struct sio_iommufd *ictx,
			   struct iommufd_object *obj, bool held);
static inline void iommufd_obj_get(struct iommufd_object *obj)
{
	__atomic_add_fetch(&obj->refs, IOMMUFD_OBJ_USER, __ATOMIC_RELAXED);
}
static inline void iommufd_obj_put(struct iommufd_object *obj)
{
	__atomic_sub_fetch(&obj->refs, IOMMUFD_OBJ_USER, __ATOMIC_RELEASE);
}
/* Take a short-lived reference on obj (as iommufd_get_object), false if
 * it is not published any more.  Under obj_lock. */
bool iommufd_lock_obj(struct sio_iommufd *ictx, struct iommufd_object *obj);
/* Remove and destroy: -ENOENT, or -EBUSY while someone else holds it.
 * If held is set the caller's reference is dropped first.  Plain removal
 * (DESTROY) is -EBUSY while an ioctl holds the object.  With
 * IOMMUFD_REMOVE_WAIT (a driver's unbind or destroy, the kernel's
 * REMOVE_WAIT) the object leaves the table at once, so no lookup finds
 * it, then removal sleeps until the ioctls holding it have put it, then
 * destroys it; -EBUSY (object published again) only if a long-lived user
 * other than held remains.  TOMBSTONE leaves the ID taken. */
enum {
	IOMMUFD_REMOVE_WAIT = 1 << 0,
	IOMMUFD_REMOVE_TOMBSTONE = 1 << 1,
};
int iommufd_object_remove(struct sio_iommufd *ictx,
			  struct iommufd_object *held, uint32_t id,
			  unsigned int flags);
/* Destroy the object published as id if it is obj and only the table
 * holds it, leaving id taken until the context closes (the kernel's
 * tombstone): 0, -ENOENT if id is not obj any more, -EBUSY if held. */
int iommufd_object_tombstone(struct sio_iommufd *ictx,
			     const struct iommufd_object *obj, uint32_t id);
/* Drop a reference and destroy the object if that was the last user. */
void iommufd_object_put_and_try_destroy(struct sio_iommufd *ictx,
					struct iommufd_object *obj);
bool iommufd_ctx_has_objects(struct sio_iommufd *ictx);
void iommufd_objects_destroy_all(struct sio_iommufd *ictx);
/* The table and the limbo, once no lookup can run (the last put). */
void iommufd_objects_free_table(struct sio_iommufd *ictx);

/* The IOAS's page table and the pages it maps: io_pagetable.h. */
#include "iommufd/io_pagetable.h"

/* ------------------------------------------------------------------ */
/* Objects                                                              */
/* ------------------------------------------------------------------ */

struct iommufd_ioas {
	struct iommufd_object obj;
	struct io_pagetable iopt;
	pthread_mutex_t mutex;		/* protects hwpt_list */
	struct cds_list_head hwpt_list;	/* iommufd_hwpt_paging.hwpt_item */
};

struct iommufd_fault;

struct iommufd_hw_pagetable {
	struct iommufd_object obj;
	struct sio_domain *domain;
	bool pasid_compat;		/* made with IOMMU_HWPT_ALLOC_PASID */
	struct iommufd_fault *fault;	/* FAULT_ID_VALID: a user reference */
};

struct iommufd_hwpt_paging {
	struct iommufd_hw_pagetable common;
	struct iommufd_ioas *ioas;
	bool auto_domain;
	bool nest_parent;
	bool in_iopt;			/* the domain is in ioas->iopt */
	struct cds_list_head hwpt_item;	/* under ioas->mutex */
};

struct iommufd_viommu;

struct iommufd_hwpt_nested {
	struct iommufd_hw_pagetable common;
	struct iommufd_hwpt_paging *parent;	/* a user reference */
	struct iommufd_viommu *viommu;	/* made on a vIOMMU: a reference */
};

/* What one context knows of a core group its devices belong to. */
struct iommufd_group {
	unsigned int refcount;		/* under ictx->groups_lock */
	struct cds_list_head node;	/* in ictx->groups */
	struct sio_iommufd *ictx;
	struct sio_group *group;	/* a reference */
	pthread_mutex_t lock;		/* protects attaches and what they hold */
	struct cds_list_head attaches;	/* struct iommufd_attach.node */
};

struct iommufd_vdevice;

struct iommufd_device {
	struct iommufd_object obj;
	struct sio_iommufd *ictx;
	struct sio_device *dev;		/* a reference */
	struct iommufd_group *igroup;
	/* Under igroup->lock: the device's vDEVICE (it holds a user
	 * reference on the device), and whether the device is going, after
	 * which it gets none. */
	struct iommufd_vdevice *vdev;
	bool destroying;
};

/*
 * The attach handle iommufd gives the core for one attachment: the fault
 * path gets from a page-fault group back to the device it reports (the
 * device that made the attachment, as in the kernel).
 */
struct iommufd_attach_handle {
	struct sio_attach_handle handle;
	struct iommufd_device *idev;
};

/*
 * An event queue on an emulated fd (eventq.c; the kernel's struct
 * iommufd_eventq): the part fault queues and vEVENTQs share.  Records wait
 * on deliver until read; the fd is readable while there are any.  The fd
 * holds a user reference on the object and one on the context, as the
 * kernel's file does; its last close drops them (iommufd_eventq_release).
 */
struct iommufd_eventq {
	struct iommufd_object obj;
	struct sio_iommufd *ictx;
	/* mutex protects file, deliver and the state of the queue that
	 * embeds this one (fault.c, veventq.c). */
	pthread_mutex_t mutex;
	struct sio_file *file;		/* NULL once the fd is closed; written
					 * under mutex and ready_lock */
	struct cds_list_head deliver;	/* records not read yet */
	/* Optional: the fd was closed; runs under mutex. */
	void (*closed)(struct iommufd_eventq *eventq);
	/* ready_lock orders the writes of the fd's readiness that are made
	 * after mutex is dropped (eventq.c): it is taken inside mutex or
	 * alone, and the file's own lock inside it. */
	pthread_mutex_t ready_lock;
	uint64_t ready_seq;		/* under mutex: changes of deliver */
	uint64_t ready_applied;		/* under ready_lock: the newest
					 * change the fd shows */
};

/* The readiness one change of an event queue's deliver list calls for. */
struct iommufd_eventq_ready {
	uint64_t seq;
	bool readable;
};

/*
 * A fault queue (fault.c): page-fault groups of the HWPTs allocated with
 * it, read as iommu_hwpt_pgfault records from its fd and answered by
 * writing iommu_hwpt_page_response records.
 */
struct iommufd_fault {
	struct iommufd_eventq common;
	struct sio_iopf_handler handler;	/* its HWPTs' domains' handler */
	/* Under common.mutex: */
	struct iommufd_fault_record **response;	/* read, by cookie; [0] unused */
	uint32_t response_cap;
	uint32_t response_hint;		/* no free cookie below it */
};

/*
 * A vIOMMU (viommu.c): the core's struct sio_viommu as an object, on a
 * nesting-parent HWPT it holds.  vDEVICEs, vEVENTQs, HW queues and nested
 * HWPTs made on it hold it.
 */
struct iommufd_viommu {
	struct iommufd_object obj;
	struct sio_iommufd *ictx;
	struct iommufd_hwpt_paging *hwpt;	/* a user reference */
	struct sio_viommu *core;
	/* veventqs_lock protects veventqs (one per type): read while an
	 * event is reported, written by vEVENTQ alloc and destroy. */
	pthread_rwlock_t veventqs_lock;
	struct cds_list_head veventqs;	/* struct iommufd_veventq.node */
};

/* A virtual device ID (viommu.c): holds its vIOMMU and its device. */
struct iommufd_vdevice {
	struct iommufd_object obj;
	struct iommufd_viommu *viommu;	/* a user reference */
	struct iommufd_device *idev;	/* a user reference */
	struct sio_vdevice *core;
};

/*
 * An access object (access.c): an emulated device's view of an IOAS, that
 * pins pages and reads/writes through IOVA with no domain (seed 003).
 */
struct iommufd_access_ops {
	bool needs_pin_pages;
	/* An access of the library's own (a HW queue's): its pins lock
	 * their areas, UNMAP is -EBUSY, and it holds no context
	 * reference.  Made by iommufd_access_create_internal(). */
	bool internal;
	/* The IOAS is unmapping [iova, iova + length): drop every pin in it
	 * (by iommufd_access_unpin_pages) before returning. */
	void (*unmap)(void *data, uint64_t iova, uint64_t length);
};

struct iommufd_access {
	struct iommufd_object obj;
	struct sio_iommufd *ictx;
	const struct iommufd_access_ops *ops;
	void *data;
	uint64_t iova_alignment;
	pthread_mutex_t ioas_lock;	/* protects ioas, ioas_unpin */
	struct iommufd_ioas *ioas;	/* NULL while switching: no new pins */
	struct iommufd_ioas *ioas_unpin;	/* where existing pins live */
	struct iopt_access_link *iopt_link;	/* in ioas_unpin, under ioas_lock */
	struct cds_list_head pins;	/* access_pin.node, under ioas_lock */
};

struct iommufd_access *iommufd_access_create(struct sio_iommufd *ictx,
					     const struct iommufd_access_ops *ops,
					     void *data, uint32_t *id, int *err);
void iommufd_access_destroy(struct iommufd_access *access);
struct iommufd_access *iommufd_access_create_internal(struct sio_iommufd *ictx,
						      int *err);
void iommufd_access_destroy_internal(struct iommufd_access *access);
/* The host address of iova inside a live pin of the access, and how many
 * bytes from it are contiguous there (0: not pinned). */
uint64_t iommufd_access_pinned_host(struct iommufd_access *access,
				    uint64_t iova, size_t *contig);
int iommufd_access_attach(struct iommufd_access *access, uint32_t ioas_id);
int iommufd_access_replace(struct iommufd_access *access, uint32_t ioas_id);
int iommufd_access_pin_pages(struct iommufd_access *access, uint64_t iova,
			     uint64_t length, bool write);
void iommufd_access_unpin_pages(struct iommufd_access *access, uint64_t iova,
				uint64_t length);
#define IOMMUFD_ACCESS_RW_WRITE (1u << 0)
#define IOMMUFD_ACCESS_RW_SLOW_PATH (1u << 2)
int iommufd_access_rw(struct iommufd_access *access, uint64_t iova,
		      void *data, size_t length, unsigned int flags);

static inline struct iommufd_ioas *to_ioas(struct iommufd_object *obj)
{
	return sio_container_of(obj, struct iommufd_ioas, obj);
}
static inline struct iommufd_hw_pagetable *to_hwpt(struct iommufd_object *obj)
{
	return sio_container_of(obj, struct iommufd_hw_pagetable, obj);
}
static inline struct iommufd_hwpt_paging *to_hwpt_paging(struct iommufd_object *obj)
{
	return sio_container_of(obj, struct iommufd_hwpt_paging, common.obj);
}

/* ioas.c */
struct iommufd_ioas *iommufd_get_ioas(struct sio_iommufd *ictx, uint32_t id,
				      int *err);
/* An IOAS held for one ioctl (iommufd_hold_object). */
struct iommufd_ioas *iommufd_hold_ioas(struct sio_iommufd *ictx, uint32_t id,
				       bool *held, int *err);
struct iommufd_ioas *iommufd_ioas_alloc(struct sio_iommufd *ictx, int *err);
void iommufd_ioas_destroy(struct iommufd_object *obj);
int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd);
int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd);
int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map_file(struct iommufd_ucmd *ucmd);
int iommufd_ioas_change_process(struct iommufd_ucmd *ucmd);
int iommufd_ioas_copy(struct iommufd_ucmd *ucmd);
int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd);
int iommufd_ioas_option(struct iommufd_ucmd *ucmd);
int iommufd_option_rlimit_mode(struct iommu_option *cmd,
			       struct sio_iommufd *ictx);

/* hw_pagetable.c */
/* Copy the program's driver data (data_len bytes at uptr) into ud. */
int iommufd_copy_user_data(struct sio_iommufd *ictx, uint32_t type,
			   uint64_t uptr, uint32_t len,
			   struct sio_user_data *ud);
struct iommufd_hwpt_paging *
iommufd_hwpt_paging_alloc(struct sio_iommufd *ictx, struct iommufd_ioas *ioas,
			  struct iommufd_device *idev, sio_pasid_t pasid,
			  uint32_t flags, bool immediate_attach,
			  const struct sio_user_data *user_data, int *err);
void iommufd_hwpt_paging_destroy(struct iommufd_object *obj);
void iommufd_hwpt_paging_abort(struct iommufd_object *obj);
void iommufd_hwpt_nested_destroy(struct iommufd_object *obj);
void iommufd_hw_pagetable_put(struct sio_iommufd *ictx,
			      struct iommufd_hw_pagetable *hwpt);
int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_invalidate(struct iommufd_ucmd *ucmd);

/* dirty.c */
int iommufd_hwpt_set_dirty_tracking(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_get_dirty_bitmap(struct iommufd_ucmd *ucmd);

/* device.c: attachments are per (device, PASID); SIO_NO_PASID is the
 * RID.  Bind, unbind, attach, replace and detach are declared in
 * iommufd_vfio.h, the interface the VFIO layer uses. */
void iommufd_device_destroy(struct iommufd_object *obj);
int iommufd_hw_pagetable_attach(struct iommufd_hw_pagetable *hwpt,
				struct iommufd_device *idev, sio_pasid_t pasid);
struct iommufd_hw_pagetable *
iommufd_hw_pagetable_detach(struct iommufd_device *idev, sio_pasid_t pasid);

/* eventq.c */
/* Create the queue's fd (its references are taken); *fd is the program's. */
int iommufd_eventq_init(struct iommufd_eventq *eventq,
			struct sio_iommufd *ictx,
			const struct sio_file_ops *fops, int *fd);
/* The fops' release op of every event queue. */
void iommufd_eventq_release(struct sio_file *file);
/* Readiness follows deliver; mutex held. */
void iommufd_eventq_update_readable(struct iommufd_eventq *eventq);
/* The same in two steps, so that the system call that wakes a reader is
 * not made under mutex: note under mutex after deliver changed, apply
 * once it is dropped (the queue must stay alive in between). */
struct iommufd_eventq_ready
iommufd_eventq_note_readable(struct iommufd_eventq *eventq);
void iommufd_eventq_apply_readable(struct iommufd_eventq *eventq,
				   struct iommufd_eventq_ready ready);
void iommufd_eventq_destroy(struct iommufd_eventq *eventq);
/* The answer of an ALLOC that made fd: respond, or close fd. */
int iommufd_eventq_respond(struct iommufd_ucmd *ucmd, size_t cmd_len, int fd);

/* fault.c */
int iommufd_fault_alloc(struct iommufd_ucmd *ucmd);
void iommufd_fault_destroy(struct iommufd_object *obj);
/* The fault queue id with a lookup reference (iommufd_put_object). */
struct iommufd_fault *iommufd_get_fault(struct sio_iommufd *ictx, uint32_t id,
					int *err);

/* viommu.c */
int iommufd_viommu_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_viommu_destroy(struct iommufd_object *obj);
struct iommufd_viommu *iommufd_get_viommu(struct sio_iommufd *ictx,
					  uint32_t id, int *err);
int iommufd_vdevice_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_vdevice_destroy(struct iommufd_object *obj);
void iommufd_vdevice_abort(struct iommufd_object *obj);
/* Before a device is unbound: its vDEVICE goes, and its ID stays taken
 * (a tombstone) until the context is closed. */
void iommufd_device_remove_vdev(struct iommufd_device *idev);

/* veventq.c */
int iommufd_veventq_alloc(struct iommufd_ucmd *ucmd);
void iommufd_veventq_destroy(struct iommufd_object *obj);
void iommufd_veventq_abort(struct iommufd_object *obj);
int iommufd_viommu_report_event(struct iommufd_viommu *viommu, uint32_t type,
				const void *data, size_t len);

/* hw_queue.c */
int iommufd_hw_queue_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_hw_queue_destroy(struct iommufd_object *obj);

/* mmap.c: regions of the fd offered by an owner object. */
int iommufd_mmap_alloc(struct sio_iommufd *ictx, struct iommufd_object *owner,
		       int fd, uint64_t fd_offset, size_t length,
		       uint64_t *offset);
void iommufd_mmap_destroy(struct sio_iommufd *ictx,
			  struct iommufd_object *owner, uint64_t offset);

/* hw_info.c */
int iommufd_get_hw_info(struct iommufd_ucmd *ucmd);

/* access.c */
void iommufd_access_destroy_object(struct iommufd_object *obj);


/* selftest/: the test ABI (IOMMU_TEST_CMD), only on a host with the
 * selftest option; the rest of its declarations are in
 * selftest/selftest.h. */
int iommufd_test(struct iommufd_ucmd *ucmd);
void iommufd_selftest_destroy(struct iommufd_object *obj);

/* option.c */
int iommufd_option(struct iommufd_ucmd *ucmd);

/* vfio_compat.c: the VFIO type1 container on the iommufd fd. */
int iommufd_vfio_ioas(struct iommufd_ucmd *ucmd);	/* IOMMU_VFIO_IOAS */
/* A VFIO container ioctl (a number outside the iommufd table). */
long iommufd_vfio_ioctl(struct sio_iommufd *ictx, unsigned int cmd,
			unsigned long arg);
/* The compat IOAS calls the VFIO layer uses are in iommufd_vfio.h. */

/* Capabilities of the calling thread (capget). */
bool iommufd_capable(int cap);

#endif
