/*
 * The contract between the IOMMU core and its drivers.
 *
 * A driver registers an IOMMU instance with a table of IOMMU ops (probe,
 * grouping, domain allocation, hardware info) and gives every domain it
 * allocates a table of domain ops (attach, PASID attach, map, unmap, lookup,
 * IOTLB sync, free).  The core calls drivers only through these tables, as
 * the kernel's core does; drivers call the core's helpers declared here.
 *
 * Drivers embed struct sio_domain in their own domain structure and get back
 * to it with sio_container_of(), like the kernel's container_of().  Fields
 * marked "core" are written by the core only; "driver" fields are set by the
 * driver before the domain is returned from an alloc op and never change.
 */
#ifndef SOFTIOMMU_DRIVER_H
#define SOFTIOMMU_DRIVER_H

#include <pthread.h>

#include "softiommu/attach.h"
#include "softiommu/device.h"
#include "softiommu/domain.h"
#include "softiommu/iommu.h"
#include "softiommu/pgtable.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sio_domain_ops {
	/* Attach dev's RID to this domain; old is what it had (may be NULL). */
	int (*attach_dev)(struct sio_domain *domain, struct sio_device *dev,
			  struct sio_domain *old);
	/* Install this domain at (dev, pasid).  The IOMMU's blocked domain's
	 * set_dev_pasid is how the core removes a PASID attachment. */
	int (*set_dev_pasid)(struct sio_domain *domain, struct sio_device *dev,
			     sio_pasid_t pasid, struct sio_domain *old);

	/* Paging domains.  map_pages maps count pages of pgsize (one of the
	 * domain's page sizes, iova and pa aligned to it) and reports how many
	 * bytes it mapped even on failure; unmap_pages returns bytes unmapped
	 * and stops at the first hole. */
	int (*map_pages)(struct sio_domain *domain, uint64_t iova, uint64_t pa,
			 size_t pgsize, size_t count, unsigned int prot,
			 size_t *mapped);
	size_t (*unmap_pages)(struct sio_domain *domain, uint64_t iova,
			      size_t pgsize, size_t count,
			      struct sio_iotlb_gather *gather);
	/* Called inside an RCU read-side section; must not block or lock.
	 * Returns 0 with *out filled, or -ENOENT when nothing maps iova. */
	int (*lookup)(struct sio_domain *domain, uint64_t iova,
		      struct sio_xlate *out);
	void (*iotlb_sync)(struct sio_domain *domain,
			   struct sio_iotlb_gather *gather);
	int (*iotlb_sync_map)(struct sio_domain *domain, uint64_t iova,
			      size_t size);
	void (*flush_iotlb_all)(struct sio_domain *domain);

	/* Dirty tracking, on paging domains allocated with
	 * SIO_DOMAIN_ALLOC_DIRTY_TRACKING (the kernel's iommu_dirty_ops).
	 * set_dirty_tracking (optional) programs the hardware; the core keeps
	 * the on/off state.  read_and_clear_dirty reports each dirty leaf intersecting
	 * [iova, iova + size) whole to record() and clears it unless flags
	 * has SIO_DIRTY_NO_CLEAR; it runs under the domain's map lock.
	 * set_dirty is the hardware side: a device wrote through iova while
	 * tracking was on.  It runs in the data path's RCU read-side section
	 * and must not block. */
	int (*set_dirty_tracking)(struct sio_domain *domain, bool enable);
	int (*read_and_clear_dirty)(struct sio_domain *domain, uint64_t iova,
				    uint64_t size, unsigned int flags,
				    sio_dirty_record_fn record, void *arg);
	int (*set_dirty)(struct sio_domain *domain, uint64_t iova);

	/* Nested: invalidate the caches of the guest's stage 1 with an array
	 * of driver-defined entries.  Sets array->entry_num to the number of
	 * entries handled before returning (also on error). */
	int (*cache_invalidate_user)(struct sio_domain *domain,
				     struct sio_user_data_array *array);

	/* Releases the domain; the core guarantees it is attached nowhere. */
	void (*free)(struct sio_domain *domain);
};

struct sio_iopf_handler;
struct sio_viommu;

struct sio_domain {
	/* driver */
	enum sio_domain_type type;
	const struct sio_domain_ops *ops;
	uint64_t pgsize_bitmap;		/* paging: supported page sizes */
	struct sio_domain_geometry geometry;
	uint32_t alloc_flags;		/* SIO_DOMAIN_ALLOC_* it was made with */
	struct sio_domain *parent;	/* nested: the stage-2 parent */
	struct sio_mm *mm;		/* SVA: the shared address space (core) */
	/* core */
	struct sio_iommu *owner;	/* the instance whose ops made it */
	unsigned int attach_count;	/* RID + PASID attachments, atomic */
	bool is_static;			/* blocked/identity: freed with owner */
	bool group_owned;		/* a group's default: freed with it */
	unsigned int nested_users;	/* nested domains on it; atomic */
	bool dirty_tracking;		/* tracking is on; atomic, read by the
					 * data path, written under map_lock */
	/* The I/O page-fault handler (iopf.h), set by the domain's user
	 * before its first attach; NULL: not fault-capable. */
	struct sio_iopf_handler *iopf_handler;
	pthread_mutex_t map_lock;	/* serializes map/unmap (core/map.c;
					 * lock order: docs/locking.md) */
	/* The data path's IOTLB tag (core/iotlb.h): a value of one global
	 * clock, fresh at init and taken again by every unmap and
	 * invalidation, so no two domains, and no two states of one domain,
	 * ever share it.  Atomic. */
	uint64_t iotlb_gen;
	pthread_mutex_t epoch_lock;	/* serializes unmap's waits for DMA
					 * (SIO_LOCK_DOMAIN_EPOCH) */
	/* DMA in flight through this table (core/epoch.h): the index new
	 * copies count themselves under, and the two counts.  Atomics; last,
	 * behind the locks, away from the fields every translation reads,
	 * because every DMA writes them. */
	unsigned long dma_epoch;
	unsigned long dma_readers[2];
};

/* Drivers whose translations change other than by unmap (a cache the
 * guest invalidates, a table rewritten in place) call this after the
 * change: the data path's cached translations of the domain are dropped.
 * The core calls it itself on unmap and on cache_invalidate_user. */
SIO_API void sio_domain_iotlb_invalidate(struct sio_domain *domain);

/* Drivers fill the core part of a domain they allocated. */
SIO_API void sio_domain_init(struct sio_domain *domain,
			     enum sio_domain_type type,
			     const struct sio_domain_ops *ops);

/* User data passed to an alloc op (the iommufd driver-specific data),
 * tagged with a type: len bytes, of which buf holds the first
 * min(len, SIO_USER_DATA_MAX) in library memory.  No driver structure is
 * larger, and the copy rules refuse data longer than the structure before
 * reading it, so nothing past the buffer is ever needed. */
#define SIO_USER_DATA_MAX 4096u
struct sio_user_data {
	uint32_t type;
	void *buf;
	size_t len;
	size_t out_len;	/* bytes of buf a driver wrote back for the user */
};

/*
 * Copy user data into a driver structure with the kernel's rules
 * (iommu_copy_struct_from_user): wrong type -> -EINVAL, len < min_len or
 * len > dst_size -> -EINVAL; a shorter buffer is zero-extended.
 */
SIO_API int sio_user_data_copy(void *dst, size_t dst_size, size_t min_len,
			       const struct sio_user_data *ud, uint32_t type);
/*
 * Report a driver structure back through user data
 * (iommu_copy_struct_to_user): wrong type or len < min_len -> -EINVAL;
 * min(len, src_size) bytes go to buf and out_len says so; the user of the
 * allocation copies them out to the program.
 */
SIO_API int sio_user_data_copy_out(struct sio_user_data *ud, const void *src,
				   size_t src_size, size_t min_len,
				   uint32_t type);

/*
 * An array of user entries (the iommufd driver-specific invalidation
 * requests): entry_num entries of entry_len bytes each, read on demand
 * through read() (0 or -EFAULT), so a driver walks an array of any length
 * without it ever being copied whole.  A driver handling it sets entry_num
 * to the number of entries it handled.
 */
struct sio_user_data_array {
	uint32_t type;
	uint32_t entry_len;
	uint32_t entry_num;
	int (*read)(void *ctx, uint64_t offset, void *dst, size_t len);
	void *ctx;
};

/* Entry index of the array into dst with the rules of sio_user_data_copy()
 * (entry_len is the length of each entry), checked before anything is
 * read; -EFAULT if the entry cannot be read. */
SIO_API int sio_user_data_array_copy(void *dst, size_t dst_size,
				     size_t min_len,
				     const struct sio_user_data_array *array,
				     uint32_t type, uint32_t index);
/* An array over entries already in memory (for C callers and tests). */
SIO_API void sio_user_data_array_init_buf(struct sio_user_data_array *array,
					  uint32_t type, const void *buf,
					  uint32_t entry_len,
					  uint32_t entry_num);

struct sio_iommu_ops {
	const char *name;

	/* Accept or refuse a device; sets its PASID capacity with
	 * sio_device_set_max_pasids().  May be NULL (accept, no PASID). */
	int (*probe_device)(struct sio_iommu *iommu, struct sio_device *dev);
	void (*release_device)(struct sio_device *dev);

	/* Return the group dev belongs to, a new one (sio_group_alloc) or an
	 * existing one with a reference taken (sio_group_get). */
	int (*device_group)(struct sio_device *dev, struct sio_group **out);

	/* Domain allocation, always for a device (never per bus).  For
	 * group-wide allocation the core passes the group's first device. */
	int (*domain_alloc_paging)(struct sio_device *dev, uint32_t flags,
				   const struct sio_user_data *user_data,
				   struct sio_domain **out);
	int (*domain_alloc_nested)(struct sio_device *dev,
				   struct sio_domain *parent, uint32_t flags,
				   const struct sio_user_data *user_data,
				   struct sio_domain **out);
	int (*domain_alloc_sva)(struct sio_device *dev, struct sio_mm *mm,
				struct sio_domain **out);
	/* Per-instance static domains, made once at registration. */
	int (*domain_alloc_blocked)(struct sio_iommu *iommu,
				    struct sio_domain **out);
	int (*domain_alloc_identity)(struct sio_iommu *iommu,
				     struct sio_domain **out);

	/* The type of the default domain for dev's group: BLOCKED, IDENTITY
	 * or PAGING.  NULL means the instance's caps.default_domain_type. */
	enum sio_domain_type (*def_domain_type)(struct sio_device *dev);

	bool (*capable)(struct sio_device *dev, enum sio_cap cap);

	/* Hardware information for iommufd's GET_HW_INFO: *type in is the
	 * requested type (0 = default), out the type returned. */
	int (*hw_info)(struct sio_device *dev, uint32_t *type, void **data,
		       size_t *len);

	/* vIOMMUs (softiommu/viommu.h): the size of the driver's vIOMMU
	 * structure for type (0: type not offered), and its initialization
	 * on a nesting parent, which sets viommu->ops.  user_data may be
	 * NULL; a driver writes back with sio_user_data_copy_out(). */
	size_t (*get_viommu_size)(struct sio_device *dev, uint32_t type);
	int (*viommu_init)(struct sio_viommu *viommu, struct sio_domain *parent,
			   struct sio_user_data *user_data);

	/* Free driver-private data of the instance at unregister. */
	void (*iommu_release)(struct sio_iommu *iommu);
};

/* Register an IOMMU instance; the core makes its static domains. */
SIO_API int sio_iommu_register(struct sio_system *sys, const char *name,
			       const struct sio_iommu_ops *ops,
			       const struct sio_iommu_caps *caps, void *priv,
			       struct sio_iommu **out);
SIO_API void *sio_iommu_priv(const struct sio_iommu *iommu);
SIO_API const struct sio_iommu_ops *sio_iommu_ops(const struct sio_iommu *iommu);

/* For device_group ops. */
SIO_API int sio_group_alloc(struct sio_iommu *iommu, struct sio_group **out);
SIO_API int sio_generic_device_group(struct sio_device *dev,
				     struct sio_group **out);
/* Devices whose desc.alias is equal and non-zero share a group. */
SIO_API int sio_alias_device_group(struct sio_device *dev,
				   struct sio_group **out);

/* For probe_device ops. */
SIO_API void sio_device_set_max_pasids(struct sio_device *dev,
				       uint32_t max_pasids);
SIO_API void *sio_device_driver_priv(const struct sio_device *dev);
SIO_API void sio_device_set_driver_priv(struct sio_device *dev, void *priv);

/* Assert-like helper for drivers: true while the caller holds the group
 * mutex of dev's group (attach ops run under it). */
SIO_API bool sio_device_group_locked(const struct sio_device *dev);

#ifdef __cplusplus
}
#endif
#endif
