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
 *   5. pages->mutex         pin counts of one iopt_pages (pages.c)
 *   6. ictx->obj_lock       the object table (object.c); leaf
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
#include "softiommu/umem.h"
#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/iommufd_test.h"
#include "util/error.h"
#include "util/interval_tree.h"

struct iopt_pages;

/* ------------------------------------------------------------------ */
/* Host and context                                                     */
/* ------------------------------------------------------------------ */

struct sio_iommufd_host {
	struct sio_system *sys;
	struct sio_iommu *mock;		/* where MOCK_DOMAIN probes devices */
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
	IOMMUFD_OBJ_MAX,
};

struct iommufd_object {
	enum iommufd_object_type type;
	uint32_t id;
	/* References: 1 for the table while published, +1 per user (an
	 * ioctl holding it, a child object).  DESTROY needs exactly 1. */
	unsigned int users;		/* atomic */
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
	pthread_mutex_t obj_lock;	/* protects objs, nobjs, cap, free_hint,
					 * users counts' 1 -> 0 transitions */
	struct iommufd_object **objs;	/* indexed by ID; [0] unused */
	uint32_t cap;			/* size of objs */
	uint32_t nobjs;			/* live and reserved */
	uint32_t free_hint;		/* no free ID below this */
	enum sio_umem_acct account_mode;	/* USER or MM; under obj_lock */
	pthread_mutex_t groups_lock;	/* protects groups */
	struct cds_list_head groups;	/* iommufd_group.node */
};

/* One ioctl in flight (struct iommufd_ucmd). */
struct iommufd_ucmd {
	struct sio_iommufd *ictx;
	uint64_t ubuffer;		/* the program's argument pointer */
	uint32_t user_size;
	void *cmd;			/* our copy, zero-extended */
	struct iommufd_object *new_obj;	/* finalized/aborted by dispatcher */
};

int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd, size_t cmd_len);

/* main.c: a reference on the context (struct sio_iommufd.refs). */
void iommufd_ctx_get(struct sio_iommufd *ictx);
void iommufd_ctx_put(struct sio_iommufd *ictx);

/* object.c */
struct iommufd_object *iommufd_object_alloc(struct sio_iommufd *ictx,
					    size_t size,
					    enum iommufd_object_type type);
/* The same, recorded in ucmd so the dispatcher finalizes or aborts it. */
struct iommufd_object *iommufd_object_alloc_ucmd(struct iommufd_ucmd *ucmd,
						 size_t size,
						 enum iommufd_object_type type);
void iommufd_object_finalize(struct sio_iommufd *ictx,
			     struct iommufd_object *obj);
/* Undo alloc of an object whose destroy must not run. */
void iommufd_object_abort(struct sio_iommufd *ictx, struct iommufd_object *obj);
/* Undo alloc of an initialized object: its abort/destroy op runs. */
void iommufd_object_abort_and_destroy(struct sio_iommufd *ictx,
				      struct iommufd_object *obj);
/* -ENOENT unless id names a published object of type (or ANY). */
struct iommufd_object *iommufd_get_object(struct sio_iommufd *ictx, uint32_t id,
					  enum iommufd_object_type type,
					  int *err);
void iommufd_put_object(struct sio_iommufd *ictx, struct iommufd_object *obj);
static inline void iommufd_obj_get(struct iommufd_object *obj)
{
	__atomic_add_fetch(&obj->users, 1, __ATOMIC_RELAXED);
}
static inline void iommufd_obj_put(struct iommufd_object *obj)
{
	__atomic_sub_fetch(&obj->users, 1, __ATOMIC_RELEASE);
}
/* Remove and destroy: -ENOENT, or -EBUSY while someone else holds it.
 * If held is set the caller's reference is dropped first. */
int iommufd_object_remove(struct sio_iommufd *ictx,
			  struct iommufd_object *held, uint32_t id);
/* Drop a reference and destroy the object if that was the last user. */
void iommufd_object_put_and_try_destroy(struct sio_iommufd *ictx,
					struct iommufd_object *obj);
bool iommufd_ctx_has_objects(struct sio_iommufd *ictx);
void iommufd_objects_destroy_all(struct sio_iommufd *ictx);

/* ------------------------------------------------------------------ */
/* io_pagetable (io_pagetable.c) and iopt_pages (pages.c)               */
/* ------------------------------------------------------------------ */

struct io_pagetable {
	struct sio_iommufd_host *host;
	pthread_mutex_t lock;		/* protects everything below */
	struct sio_itree area_itree;	/* iopt_area.node */
	struct sio_itree allowed_itree;	/* iopt_allowed.node */
	struct sio_itree reserved_itree;	/* iopt_reserved.node */
	struct sio_domain **domains;
	unsigned int ndomains, domains_cap;
	struct cds_list_head accesses;	/* struct iopt_access_link.node */
	uint64_t iova_alignment;
	bool disable_large_pages;
};

struct iopt_area {
	struct sio_itree_node node;	/* IOVA range; under iopt->lock */
	struct io_pagetable *iopt;
	struct iopt_pages *pages;	/* a reference */
	uint64_t start_byte;		/* offset of iova start in pages */
	unsigned int iommu_prot;	/* SIO_PROT_* */
	/* While the IOAS has domains: the pin of the area's pages whose
	 * alias is mapped into them.  Under iopt->lock. */
	struct sio_umem_pin *dom_pin;
	uint64_t dom_pin_first;		/* page index of dom_pin's start */
	unsigned int num_accesses;	/* access pins inside; under iopt->lock */
	bool prevent_access;		/* an unmap is waiting for accesses */
};

struct iopt_allowed {
	struct sio_itree_node node;
};

struct iopt_reserved {
	struct sio_itree_node node;
	const void *owner;		/* a domain, a device or NULL */
};

/*
 * A linear range of the program's memory (iopt_pages): shared by the areas
 * that map it (MAP makes one, COPY shares it).  Pages are pinned by users
 * (an area's domain pin, an access pin), each holding its own umem pin;
 * per-page counts make each page charged and counted once however many
 * users pin it, as the kernel's npinned does.  The counts are kept as the
 * set of live pins, not as an array over the range: a range may be huge
 * (the kernel accepts any length up to SIZE_MAX) while its pins are few.
 */
struct iopt_pages {
	unsigned int refcount;		/* atomic: areas + list users */
	struct sio_iommufd_host *host;
	uint64_t uptr;			/* page aligned */
	size_t npages;
	bool writable;
	enum sio_umem_acct acct;	/* effective mode, fixed at map */
	pthread_mutex_t mutex;		/* protects npinned, pins */
	size_t npinned;			/* pages some pin covers */
	/* Live pins (struct pages_pin_rec) by page-index range: a page's
	 * pin count is the number of them covering it.  Pages pinned once
	 * are taken from an existing pin, never read again from the
	 * program's view. */
	struct sio_itree pins;
	struct cds_list_head host_node;	/* in host->pages_list */
};

struct iopt_pages *iopt_alloc_user_pages(struct sio_iommufd_host *host,
					 uint64_t uptr, uint64_t length,
					 bool writable, enum sio_umem_acct acct,
					 int *err);
void iopt_pages_get(struct iopt_pages *pages);
void iopt_pages_put(struct iopt_pages *pages);
/* Pin pages [first, last] (indexes), charging newly pinned pages. */
int iopt_pages_pin(struct iopt_pages *pages, size_t first, size_t last,
		   bool write, struct sio_umem_pin **out);
void iopt_pages_unpin(struct iopt_pages *pages, size_t first, size_t last,
		      struct sio_umem_pin *pin);
/* How many live iopt_pages of the host pin the page at user address
 * uaddr (MD_CHECK_REFS). */
unsigned int iopt_host_page_refs(struct sio_iommufd_host *host,
				 uint64_t uaddr);

void iopt_init_table(struct io_pagetable *iopt, struct sio_iommufd_host *host);
void iopt_destroy_table(struct io_pagetable *iopt);

#define IOPT_ALLOC_IOVA 1u

int iopt_map_user_pages(struct sio_iommufd *ictx, struct io_pagetable *iopt,
			uint64_t *iova, uint64_t uptr, uint64_t length,
			unsigned int iommu_prot, unsigned int flags);
/* COPY: map [src_iova, +length) of src into dst. */
int iopt_copy(struct io_pagetable *src, struct io_pagetable *dst,
	      uint64_t src_iova, uint64_t length, uint64_t *dst_iova,
	      unsigned int iommu_prot, unsigned int flags);
int iopt_unmap_iova(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		    uint64_t *unmapped);
int iopt_unmap_all(struct io_pagetable *iopt, uint64_t *unmapped);
/* Replace the allowed ranges with the given ones (already validated). */
int iopt_set_allow_iova(struct io_pagetable *iopt,
			const struct iommu_iova_range *ranges, uint32_t num);
int iopt_reserve_iova(struct io_pagetable *iopt, uint64_t start,
		      uint64_t last, const void *owner);
void iopt_remove_reserved_iova(struct io_pagetable *iopt, const void *owner);
int iopt_table_enforce_dev_resv_regions(struct io_pagetable *iopt,
					struct sio_device *dev);
int iopt_table_add_domain(struct io_pagetable *iopt, struct sio_domain *domain);
void iopt_table_remove_domain(struct io_pagetable *iopt,
			      struct sio_domain *domain);
int iopt_disable_large_pages(struct io_pagetable *iopt);
void iopt_enable_large_pages(struct io_pagetable *iopt);
/* IOAS_IOVA_RANGES: calls fn for each allowed hole of reserved ranges. */
int iopt_for_each_iova_range(struct io_pagetable *iopt,
			     int (*fn)(uint64_t start, uint64_t last, void *arg),
			     void *arg, uint64_t *alignment);

/*
 * Accesses (access.c) as the iopt sees them.  An access belongs to an IOAS
 * through a link of its own, not a node embedded in the access: while it
 * changes IOAS it is briefly in both, as in the kernel (which keeps an ID
 * per membership in an xarray for the same reason).
 */
struct iommufd_access;
struct iopt_access_link {
	struct cds_list_head node;	/* in iopt->accesses, under iopt->lock */
	struct iommufd_access *access;
};
int iopt_add_access(struct io_pagetable *iopt, struct iommufd_access *access,
		    struct iopt_access_link **out);
void iopt_remove_access(struct io_pagetable *iopt,
			struct iopt_access_link *link);
void iommufd_access_notify_unmap(struct io_pagetable *iopt, uint64_t iova,
				 uint64_t length);

/* ------------------------------------------------------------------ */
/* Objects                                                              */
/* ------------------------------------------------------------------ */

struct iommufd_ioas {
	struct iommufd_object obj;
	struct io_pagetable iopt;
	pthread_mutex_t mutex;		/* protects hwpt_list */
	struct cds_list_head hwpt_list;	/* iommufd_hwpt_paging.hwpt_item */
};

struct iommufd_hw_pagetable {
	struct iommufd_object obj;
	struct sio_domain *domain;
};

struct iommufd_hwpt_paging {
	struct iommufd_hw_pagetable common;
	struct iommufd_ioas *ioas;
	bool auto_domain;
	bool nest_parent;
	bool in_iopt;			/* the domain is in ioas->iopt */
	struct cds_list_head hwpt_item;	/* under ioas->mutex */
};

struct iommufd_hwpt_nested {
	struct iommufd_hw_pagetable common;
	struct iommufd_hwpt_paging *parent;
};

/* What one context knows of a core group its devices belong to. */
struct iommufd_group {
	unsigned int refcount;		/* under ictx->groups_lock */
	struct cds_list_head node;	/* in ictx->groups */
	struct sio_iommufd *ictx;
	struct sio_group *group;	/* a reference */
	pthread_mutex_t lock;		/* protects hwpt, devices, ndevices */
	struct iommufd_hw_pagetable *hwpt;	/* RID attachment, or NULL */
	struct cds_list_head devices;	/* attached iommufd_device.attach_node */
	unsigned int ndevices;
	struct sio_attach_handle *handle;	/* the group's RID handle */
};

struct iommufd_device {
	struct iommufd_object obj;
	struct sio_iommufd *ictx;
	struct sio_device *dev;		/* a reference */
	struct iommufd_group *igroup;
	bool attached;			/* under igroup->lock */
	struct cds_list_head attach_node;
};

/*
 * An access object (access.c): an emulated device's view of an IOAS, that
 * pins pages and reads/writes through IOVA with no domain (seed 003).
 */
struct iommufd_access_ops {
	bool needs_pin_pages;
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

/* selftest.c: a mock device made by MOCK_DOMAIN */
struct selftest_obj {
	struct iommufd_object obj;
	struct sio_device *dev;		/* probed on the host's mock IOMMU */
	struct iommufd_device *idev;
};

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
struct iommufd_ioas *iommufd_ioas_alloc(struct sio_iommufd *ictx);
void iommufd_ioas_destroy(struct iommufd_object *obj);
int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd);
int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd);
int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map(struct iommufd_ucmd *ucmd);
int iommufd_ioas_copy(struct iommufd_ucmd *ucmd);
int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd);
int iommufd_ioas_option(struct iommufd_ucmd *ucmd);
int iommufd_option_rlimit_mode(struct iommu_option *cmd,
			       struct sio_iommufd *ictx);

/* hw_pagetable.c */
struct iommufd_hwpt_paging *
iommufd_hwpt_paging_alloc(struct sio_iommufd *ictx, struct iommufd_ioas *ioas,
			  struct iommufd_device *idev, uint32_t flags,
			  bool immediate_attach,
			  const struct sio_user_data *user_data, int *err);
void iommufd_hwpt_paging_destroy(struct iommufd_object *obj);
void iommufd_hwpt_paging_abort(struct iommufd_object *obj);
void iommufd_hwpt_nested_destroy(struct iommufd_object *obj);
void iommufd_hw_pagetable_put(struct sio_iommufd *ictx,
			      struct iommufd_hw_pagetable *hwpt);
int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd);

/* device.c */
struct iommufd_device *iommufd_device_bind(struct sio_iommufd *ictx,
					   struct sio_device *dev,
					   uint32_t *id, int *err);
void iommufd_device_unbind(struct iommufd_device *idev);
void iommufd_device_destroy(struct iommufd_object *obj);
int iommufd_device_attach(struct iommufd_device *idev, uint32_t *pt_id);
int iommufd_device_replace(struct iommufd_device *idev, uint32_t *pt_id);
void iommufd_device_detach(struct iommufd_device *idev);
int iommufd_hw_pagetable_attach(struct iommufd_hw_pagetable *hwpt,
				struct iommufd_device *idev);
struct iommufd_hw_pagetable *
iommufd_hw_pagetable_detach(struct iommufd_device *idev);

/* hw_info.c */
int iommufd_get_hw_info(struct iommufd_ucmd *ucmd);

/* access.c */
void iommufd_access_destroy_object(struct iommufd_object *obj);

/* selftest.c */
int iommufd_test(struct iommufd_ucmd *ucmd);
void iommufd_selftest_destroy(struct iommufd_object *obj);

/* option.c */
int iommufd_option(struct iommufd_ucmd *ucmd);

/* Capabilities of the calling thread (capget). */
bool iommufd_capable(int cap);

#endif
