/*
 * Private definitions of the IOMMU core: the system, IOMMU instances,
 * devices and groups, and the helpers the core's files share.
 *
 * Locks.  The library has one lock order, the table in docs/locking.md
 * (enum sio_lock_rank in util/lock.h); the core's locks in it, outer
 * first, each taken through sio_mutex_lock() with its rank:
 *   sys->lock           SIO_LOCK_SYSTEM      the system's instance list
 *   iommu->lock         SIO_LOCK_IOMMU       an instance's group list
 *   group->mutex        SIO_LOCK_GROUP       one group's attachments
 *   domain->map_lock    SIO_LOCK_DOMAIN_MAP  a paging domain's table
 *   viommu->vdevs_lock  SIO_LOCK_VIOMMU_VDEVS  a vIOMMU's vDEVICEs
 *   dev->resv_lock      SIO_LOCK_DEV_RESV    a device's reserved regions
 *   sys->sva_hook.lock  SIO_LOCK_SVA_HOOK    the SVA layer's domain hook
 * The device data path takes none of them: it reads dev->group,
 * group->domain, group->rid_handle and the PASID table under RCU.
 * Probe and removal never hold iommu->lock and a group mutex together.
 */
#ifndef SIO_CORE_CORE_H
#define SIO_CORE_CORE_H

#include <pthread.h>
#include <urcu/list.h>

#include "softiommu/driver.h"
#include "softiommu/group.h"
#include "core/pasid_table.h"
#include "util/error.h"
#include "util/lock.h"
#include "util/rcu.h"

struct sio_iopf_dev;
struct sio_iotlb;

/*
 * What becomes of the page requests still waiting on an attach handle that
 * a detach or replace retired.  The page-fault layer, which sits above the
 * core, registers it on the system the first time one of the system's
 * devices enables page requests (sio_iopf_device_enable), so before any
 * request can be dispatched to a handle of that system.  The core calls it
 * at the end of every detach and replace that retired a handle, after the
 * grace period and with no lock held, and returns only when it returned:
 * that is the core's promise that no fault of the old handle is left.
 */
typedef void (*sio_handle_retire_fn)(struct sio_group *group,
				     struct sio_attach_handle *handle);

/* The SVA layer's hook for every SVA domain it makes (sva/sva.c,
 * sio_sva_set_domain_init); the core only keeps it for that layer. */
struct sio_sva_hook {
	pthread_mutex_t lock;		/* SIO_LOCK_SVA_HOOK: protects fn,
					 * arg; held while fn runs */
	int (*fn)(void *arg, struct sio_domain *domain);
	void *arg;
};

struct sio_system {
	pthread_mutex_t lock;		/* SIO_LOCK_SYSTEM: protects iommus */
	struct cds_list_head iommus;	/* struct sio_iommu.node */
	uint32_t next_group_id;		/* atomic */
	uint32_t next_device_id;	/* atomic */
	struct sio_pasid_space *pasids;	/* the system PASID space (pasid/) */
	sio_handle_retire_fn handle_retire;	/* atomic; NULL: none yet */
	struct sio_sva_hook sva_hook;
};

struct sio_iommu {
	struct cds_list_head node;	/* in sys->iommus, under sys->lock */
	struct sio_system *sys;
	char name[64];
	const struct sio_iommu_ops *ops;
	struct sio_iommu_caps caps;
	void *priv;
	/* Static domains, made at registration, freed at unregister. */
	struct sio_domain *blocked_domain;
	struct sio_domain *identity_domain;	/* NULL: none */
	unsigned int ndevices;		/* probed, not removed; atomic */
	pthread_mutex_t lock;		/* SIO_LOCK_IOMMU: protects groups */
	struct cds_list_head groups;	/* struct sio_group.iommu_node */
	/* sio_map/sio_unmap calls that changed its domains (atomics). */
	uint64_t st_maps, st_unmaps;
};

struct sio_group {
	unsigned int refcount;		/* atomic */
	uint32_t id;
	uint32_t alias;			/* set at alloc, for alias grouping */
	struct sio_iommu *iommu;
	struct cds_list_head iommu_node;	/* under iommu->lock */

	/*
	 * The group mutex (SIO_LOCK_GROUP, taken by sio_group_lock())
	 * protects every field below; the fields marked RCU
	 * are also read without it by the data path and the fault path, so
	 * they are published with sio_rcu_assign() and old values are
	 * retired only after sio_rcu_synchronize().
	 */
	pthread_mutex_t mutex;
	uintptr_t mutex_holder;		/* pthread_self() of holder; atomic */
	struct cds_list_head devices;	/* struct sio_device.group_node */
	size_t ndevices;
	struct sio_domain *domain;		/* RCU: the RID domain */
	struct sio_attach_handle *rid_handle;	/* RCU: handle of the RID */
	struct sio_domain *default_domain;
	bool default_domain_owned;	/* a paging default we must free */
	const void *owner;		/* DMA owner, NULL: kernel-managed */
	unsigned int owner_cnt;
	struct sio_pasid_table pasids;	/* RCU: PASID attachments */
	/* Changes whenever what is attached at the RID or a PASID changes
	 * (a value of the IOTLB clock, so never seen before): the IOTLB's
	 * entries carry it, and a translation that finds it unchanged can
	 * take the domain from the entry (core/iotlb.h).  Written after the
	 * change is published, under the mutex; read with acquire. */
	uint64_t attach_gen;
};

struct sio_device {
	unsigned int refcount;		/* atomic */
	char name[64];
	uint32_t rid, alias, pasid_bits, flags;
	void *priv;			/* the device model's data */
	void *driver_priv;		/* the IOMMU driver's data */
	struct sio_iommu *iommu;
	struct sio_group *group;	/* RCU; NULL once removed */
	struct cds_list_head group_node;	/* under group->mutex */
	uint32_t max_pasids;		/* set by the driver's probe */
	struct sio_iopf_dev *iopf;	/* RCU: page-request state (src/iopf),
					 * NULL unless the model enabled it */
	bool removed;			/* atomic */
	/* Translations the data path made for it and those that failed:
	 * relaxed loads and stores, not read-modify-writes, so the hot path
	 * pays no locked instruction; concurrent DMAs of one device may lose
	 * a count (these are statistics). */
	uint64_t st_translations, st_faults, st_iotlb_misses;
	/* The data path's IOTLB (core/iotlb.h), made at probe, freed with
	 * the device; entries are atomics written by the DMA threads. */
	struct sio_iotlb *iotlb;

	pthread_mutex_t resv_lock;	/* SIO_LOCK_DEV_RESV: resv, nresv */
	struct sio_resv_region *resv;
	size_t nresv;
};

/* The IOTLB's storage and tags (core/iotlb.c). */
int sio_device_iotlb_alloc(struct sio_device *dev);
void sio_device_iotlb_free(struct sio_device *dev);
uint64_t sio_iotlb_clock_next(void);
/* After publishing a new RID domain or PASID entry (group mutex held). */
static inline void sio_group_attach_changed(struct sio_group *group)
{
	__atomic_store_n(&group->attach_gen, sio_iotlb_clock_next(),
			 __ATOMIC_RELEASE);
}

/* Register the page-fault layer's handle retirement on sys (idempotent). */
void sio_system_set_handle_retire(struct sio_system *sys,
				  sio_handle_retire_fn fn);
/* After a detach or replace retired handle (grace period over, no lock
 * held): have its outstanding page requests answered.  NULL: nothing. */
void sio_group_retire_handle(struct sio_group *group,
			     struct sio_attach_handle *handle);

/* Group mutex, recording the holder for sio_device_group_locked(). */
void sio_group_lock(struct sio_group *group);
void sio_group_unlock(struct sio_group *group);

/* Change the RID domain of every device of a locked group; on failure the
 * devices already switched go back and the group keeps its old domain. */
int sio_group_set_domain(struct sio_group *group, struct sio_domain *domain);
/* The domain a group goes back to on detach: blocking if owned. */
struct sio_domain *sio_group_core_domain(struct sio_group *group);

/* Domains of this IOMMU, including its static ones. */
bool sio_domain_compatible(const struct sio_iommu *iommu,
			   const struct sio_domain *domain);
void sio_domain_attach_inc(struct sio_domain *domain);
void sio_domain_attach_dec(struct sio_domain *domain);
/* Make the static blocked/identity domains, and the default domain of a
 * group of its first device.  Used by system.c and device.c. */
int sio_iommu_make_static_domains(struct sio_iommu *iommu);
void sio_iommu_free_static_domains(struct sio_iommu *iommu);
int sio_group_make_default_domain(struct sio_group *group,
				  struct sio_device *first);
/* Free a domain no one can reach (after the caller's checks). */
void sio_domain_destroy(struct sio_domain *domain);
/* Validate and finish a domain a driver alloc op returned. */
int sio_domain_finish_alloc(struct sio_iommu *iommu, struct sio_domain *domain,
			    enum sio_domain_type want, uint32_t flags);

/* Remove every PASID attachment of a device leaving its locked group. */
void sio_group_remove_dev_pasids(struct sio_group *group,
				 struct sio_device *dev);
/* Drop every attachment of a group being freed. */
void sio_group_drop_pasids(struct sio_group *group);
/* Unpublish every PASID attachment of a locked group that lost its last
 * device; returns the entries, to free with sio_pasid_entries_free() after
 * a grace period. */
struct sio_pasid_entry *sio_group_retire_pasids(struct sio_group *group);
void sio_pasid_entries_free(struct sio_pasid_entry *list);

static inline void sio_ref_inc(unsigned int *ref)
{
	__atomic_add_fetch(ref, 1, __ATOMIC_RELAXED);
}

/* Returns true when the count dropped to zero. */
static inline bool sio_ref_dec(unsigned int *ref)
{
	return __atomic_sub_fetch(ref, 1, __ATOMIC_ACQ_REL) == 0;
}

/* Take a reference unless the count is already zero (object dying). */
static inline bool sio_ref_inc_not_zero(unsigned int *ref)
{
	unsigned int old = __atomic_load_n(ref, __ATOMIC_RELAXED);

	do {
		if (old == 0)
			return false;
	} while (!__atomic_compare_exchange_n(ref, &old, old + 1, true,
					      __ATOMIC_ACQUIRE,
					      __ATOMIC_RELAXED));
	return true;
}

#endif
