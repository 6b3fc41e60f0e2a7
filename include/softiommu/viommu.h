/*
 * Virtual IOMMUs: the contract between the core, the drivers and the user
 * of a vIOMMU (the kernel's struct iommufd_viommu and iommufd_viommu_ops
 * of include/linux/iommufd.h).
 *
 * A vIOMMU is one VM's view of one IOMMU instance, on a nesting-parent
 * (stage-2) paging domain.  It holds what is global to the VM's IOMMU
 * rather than to one page table: the virtual IDs the VM gives its devices
 * (vDEVICEs), invalidation of caches named by those IDs, events reported
 * to the VM, and hardware queues the guest fills itself.  Nested (stage-1)
 * domains allocated on it belong to it.
 *
 * Allocation is split as in the kernel: the driver says how large its
 * structure is (sio_iommu_ops.get_viommu_size, viommu_ops.vdevice_size,
 * get_hw_queue_size), the core allocates it zeroed with the core part
 * first and filled in, then the driver initializes its part
 * (viommu_init, which must set viommu->ops; vdevice_init;
 * hw_queue_init_phys).  Drivers embed struct sio_viommu, sio_vdevice and
 * sio_hw_queue first in their own structures and get back with
 * sio_container_of().  Freeing runs the driver's destroy op and then
 * frees the memory.
 *
 * Upward calls: the user of a vIOMMU (iommufd) passes a table of user ops
 * when it allocates one.  That is how a driver reports an event to the VM
 * or offers memory for the program to mmap() without calling a layer above
 * it; the core's helpers below call through that table.
 *
 * Lifetimes are the user's to order: nested domains, vDEVICEs and HW
 * queues go before their vIOMMU (sio_viommu_free refuses while vDEVICEs or
 * HW queues remain); a vIOMMU keeps its parent domain busy.
 */
#ifndef SOFTIOMMU_VIOMMU_H
#define SOFTIOMMU_VIOMMU_H

#include "softiommu/driver.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sio_viommu;
struct sio_vdevice;
struct sio_hw_queue;

/* What the user of a vIOMMU provides to its driver. */
struct sio_viommu_user_ops {
	/* Queue an event of type (len bytes of the type's record) for the
	 * VM: -EOPNOTSUPP when nobody listens for that type.  Called from
	 * any thread with no core lock held; must not block. */
	int (*report_event)(struct sio_viommu *viommu, uint32_t type,
			    const void *data, size_t len);
	/* Offer length bytes (page multiple) of memory file fd from
	 * fd_offset (page aligned) for mmap() at *offset of the user's file.
	 * The fd stays the driver's: it must outlive destroy_mmap. */
	int (*alloc_mmap)(struct sio_viommu *viommu, int fd,
			  uint64_t fd_offset, size_t length, uint64_t *offset);
	void (*destroy_mmap)(struct sio_viommu *viommu, uint64_t offset);
};

struct sio_viommu_ops {
	/* The driver's part goes; the core frees the memory after. */
	void (*destroy)(struct sio_viommu *viommu);
	/* A nested domain on the vIOMMU's parent, for the VM's stage 1.  The
	 * core sets domain->parent. */
	int (*alloc_domain_nested)(struct sio_viommu *viommu, uint32_t flags,
				   const struct sio_user_data *user_data,
				   struct sio_domain **out);
	/* Invalidate caches named by virtual IDs (sio_viommu_find_dev) with
	 * an array of driver-defined entries; sets array->entry_num to the
	 * number handled, on failure too. */
	int (*cache_invalidate)(struct sio_viommu *viommu,
				struct sio_user_data_array *array);
	/* vDEVICEs: 0 means sizeof(struct sio_vdevice) and no init. */
	size_t vdevice_size;
	int (*vdevice_init)(struct sio_vdevice *vdev);
	void (*vdevice_destroy)(struct sio_vdevice *vdev);
	/* HW queues: the size of the driver's queue structure for type, 0 if
	 * the type is not supported.  init_phys gets the host address of the
	 * queue's memory, which the user has pinned for the queue's life. */
	size_t (*get_hw_queue_size)(struct sio_viommu *viommu, uint32_t type);
	int (*hw_queue_init_phys)(struct sio_hw_queue *queue, uint32_t index,
				  uint64_t base_pa);
	void (*hw_queue_destroy)(struct sio_hw_queue *queue);
};

struct sio_viommu {
	/* core */
	struct sio_iommu *iommu;
	struct sio_domain *parent;	/* the nesting parent; kept busy */
	uint32_t type;
	const struct sio_viommu_user_ops *user_ops;
	void *user;			/* the user's object for this vIOMMU */
	/* vdevs_lock protects vdevs[] (by virt_id, unordered), nvdevs,
	 * vdevs_cap; taken inside the group mutex by attach ops (its place
	 * in the library's lock order: docs/locking.md). */
	pthread_mutex_t vdevs_lock;
	struct sio_vdevice **vdevs;
	size_t nvdevs, vdevs_cap;
	unsigned int nqueues;		/* live HW queues; atomic */
	/* driver */
	const struct sio_viommu_ops *ops;	/* set by viommu_init */
};

struct sio_vdevice {
	/* core, constant */
	struct sio_viommu *viommu;
	struct sio_device *dev;		/* a reference */
	uint64_t virt_id;
	void *user;
	bool live;	/* vdevs_lock: initialized, visible to lookups */
};

struct sio_hw_queue {
	/* core, constant */
	struct sio_viommu *viommu;
	uint32_t type;
	uint64_t base_iova;	/* in the parent's IOVA space */
	uint64_t length;
	void *user;
	/* driver: set by hw_queue_init_phys to a queue this one needs; the
	 * user keeps that queue from being freed first (the kernel's
	 * iommufd_hw_queue_depend). */
	struct sio_hw_queue *depends_on;
};

/* Whether dev's IOMMU offers vIOMMUs of type. */
SIO_API bool sio_viommu_type_supported(struct sio_device *dev, uint32_t type);
/*
 * A vIOMMU of type for dev's IOMMU on parent (a NEST_PARENT paging domain
 * of the same IOMMU, else -EINVAL); -EOPNOTSUPP for a type the driver does
 * not offer.  user_data (may be NULL) is in and out: a driver that writes
 * back sets its out_len (sio_user_data_copy_out).
 */
SIO_API int sio_viommu_alloc(struct sio_device *dev, struct sio_domain *parent,
			     uint32_t type, struct sio_user_data *user_data,
			     const struct sio_viommu_user_ops *user_ops,
			     void *user, struct sio_viommu **out);
/* -EBUSY while vDEVICEs or HW queues remain. */
SIO_API int sio_viommu_free(struct sio_viommu *viommu);

SIO_API int sio_viommu_alloc_domain_nested(struct sio_viommu *viommu,
					   uint32_t flags,
					   const struct sio_user_data *user_data,
					   struct sio_domain **out);
/* -EOPNOTSUPP if the driver has no vIOMMU invalidation. */
SIO_API int sio_viommu_cache_invalidate(struct sio_viommu *viommu,
					struct sio_user_data_array *array);

/* Give dev (of the vIOMMU's IOMMU, else -EINVAL) the virtual ID virt_id
 * (-EEXIST if taken). */
SIO_API int sio_vdevice_alloc(struct sio_viommu *viommu, struct sio_device *dev,
			      uint64_t virt_id, void *user,
			      struct sio_vdevice **out);
SIO_API void sio_vdevice_free(struct sio_vdevice *vdev);
/* The device with virtual ID virt_id, or NULL; valid while the caller
 * holds the vDEVICE table (the kernel's xa_lock on vdevs). */
SIO_API void sio_viommu_vdevs_lock(struct sio_viommu *viommu);
SIO_API void sio_viommu_vdevs_unlock(struct sio_viommu *viommu);
SIO_API struct sio_device *sio_viommu_find_dev(struct sio_viommu *viommu,
					       uint64_t virt_id);
/* dev's virtual ID on the vIOMMU: -ENOENT if it has none. */
SIO_API int sio_viommu_get_vdev_id(struct sio_viommu *viommu,
				   struct sio_device *dev, uint64_t *virt_id);

/* Whether the vIOMMU offers HW queues of type (asked before any memory
 * is pinned for one). */
SIO_API bool sio_viommu_hw_queue_supported(struct sio_viommu *viommu,
					   uint32_t type);
SIO_API int sio_hw_queue_alloc(struct sio_viommu *viommu, uint32_t type,
			       uint32_t index, uint64_t base_iova,
			       uint64_t length, uint64_t base_pa, void *user,
			       struct sio_hw_queue **out);
SIO_API void sio_hw_queue_free(struct sio_hw_queue *queue);

/* For drivers: calls through the user ops (-EOPNOTSUPP without them). */
SIO_API int sio_viommu_report_event(struct sio_viommu *viommu, uint32_t type,
				    const void *data, size_t len);
SIO_API int sio_viommu_alloc_mmap(struct sio_viommu *viommu, int fd,
				  uint64_t fd_offset, size_t length,
				  uint64_t *offset);
SIO_API void sio_viommu_destroy_mmap(struct sio_viommu *viommu,
				     uint64_t offset);

#ifdef __cplusplus
}
#endif
#endif
