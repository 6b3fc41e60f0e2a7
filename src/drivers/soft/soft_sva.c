/*
 * SVA domains of the soft driver: a device's PASID walks a process's CPU
 * page table, as an IOMMU with a first-stage (x86-64 format) table does.
 *
 * Hardware model.  A PASID-table entry points at the mm's page table; the
 * devices of one group share a PASID table, so when the core installs a
 * PASID on each device of a group only the first writes the entry and the
 * others just flush, and only the last one out clears it (the io_mm
 * proposal's attach_domain/detach_domain).  Translation goes through an IOTLB of
 * SVA_IOTLB_SIZE entries in front of the walk.  Each attached device has a
 * device-side cache (ATC) that the driver must invalidate, which it counts.
 *
 * The mm is followed through an MMU notifier registered at allocation:
 * invalidate() flushes the IOTLB and the ATC of every attached device before
 * munmap or mprotect return; release() (the mm exits) makes every lookup
 * fail from then on, so devices stop reaching the mm's memory before its
 * pages are freed.
 *
 * The IOTLB is lock-free, like the walk behind it.  A generation number
 * tags every entry: an invalidation bumps it, which flushes the whole IOTLB
 * at once (as an invalidation by ASID does).  A lookup reads the generation
 * before it walks and fills the entry with it, so a walk that raced with an
 * invalidation leaves an entry that can never hit.  Entries are seqlocked
 * (odd sequence: being written) and every field is atomic, so a reader
 * sees a whole entry or misses.
 *
 * Locks: sd->lock (SIO_LOCK_SOFT_SVA in docs/locking.md) protects the
 * PASID-table entries, the device list and the counters.  The core calls
 * set_dev_pasid with a group mutex held, the mm calls the notifier with its
 * lock held: both come before sd->lock.
 */
#include <stdlib.h>
#include <urcu/list.h>

#include "softiommu/group.h"
#include "softiommu/mm.h"
#include "softiommu/soft_sva.h"
#include "drivers/soft/soft_sva.h"
#include "util/error.h"
#include "util/lock.h"
#include "util/fail.h"

#define SVA_PAGE 4096ull
#define SVA_IOTLB_SIZE 64

struct iotlb_entry {
	uint64_t seq;			/* odd while being written */
	uint64_t tag;			/* page number + 1; 0: empty */
	uint64_t page;			/* host address of the page */
	uint64_t gen;			/* the generation it was filled in */
	unsigned int prot;
};

/* A PASID-table entry that points at this domain. */
struct pasid_slot {
	struct cds_list_head node;
	const struct sio_group *table;	/* the group: its devices share it */
	sio_pasid_t pasid;
	unsigned int ndevs;
};

/* An attached (device, PASID) and its device cache. */
struct atc {
	struct cds_list_head node;
	struct sio_device *dev;
	sio_pasid_t pasid;
	struct pasid_slot *slot;
	uint64_t invalidations, start, end;
};

struct soft_sva_domain {
	struct sio_domain domain;
	struct sio_mm_notifier mn;
	bool dead;			/* atomic: the mm exited */
	uint64_t gen;			/* atomic: IOTLB generation */
	uint64_t hits, misses;		/* atomic */
	struct iotlb_entry iotlb[SVA_IOTLB_SIZE];
	pthread_mutex_t lock;		/* see above */
	struct cds_list_head slots;	/* struct pasid_slot */
	struct cds_list_head atcs;	/* struct atc */
	struct sio_soft_sva_stats stats;
};

static const struct sio_domain_ops soft_sva_ops;

static struct soft_sva_domain *to_sva(struct sio_domain *d)
{
	return sio_container_of(d, struct soft_sva_domain, domain);
}

static bool iotlb_read(struct iotlb_entry *e, uint64_t vpn, uint64_t gen,
		       uint64_t iova, struct sio_xlate *out)
{
	uint64_t s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
	uint64_t tag, page, egen;
	unsigned int prot;

	if (s & 1)
		return false;
	tag = __atomic_load_n(&e->tag, __ATOMIC_RELAXED);
	page = __atomic_load_n(&e->page, __ATOMIC_RELAXED);
	egen = __atomic_load_n(&e->gen, __ATOMIC_RELAXED);
	prot = __atomic_load_n(&e->prot, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != s || tag != vpn + 1 ||
	    egen != gen)
		return false;
	out->phys = page | (iova & (SVA_PAGE - 1));
	out->page_size = SVA_PAGE;
	out->prot = prot;
	return true;
}

/* Fill e unless another filler holds it: a cache may always skip. */
static void iotlb_fill(struct iotlb_entry *e, uint64_t vpn, uint64_t gen,
		       const struct sio_xlate *x)
{
	uint64_t s = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);

	if ((s & 1) || !__atomic_compare_exchange_n(&e->seq, &s, s + 1, false,
						    __ATOMIC_ACQUIRE,
						    __ATOMIC_RELAXED))
		return;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&e->tag, vpn + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&e->page, x->phys & ~(SVA_PAGE - 1), __ATOMIC_RELAXED);
	__atomic_store_n(&e->gen, gen, __ATOMIC_RELAXED);
	__atomic_store_n(&e->prot, x->prot, __ATOMIC_RELAXED);
	__atomic_store_n(&e->seq, s + 2, __ATOMIC_RELEASE);
}

/* Runs in the data path's RCU read-side section: no lock, no sleep. */
static int soft_sva_lookup(struct sio_domain *d, uint64_t iova,
			   struct sio_xlate *out)
{
	struct soft_sva_domain *sd = to_sva(d);
	uint64_t vpn = iova / SVA_PAGE, gen;
	struct iotlb_entry *e = &sd->iotlb[vpn % SVA_IOTLB_SIZE];
	int rc;

	if (__atomic_load_n(&sd->dead, __ATOMIC_ACQUIRE))
		return -ENOENT;
	gen = __atomic_load_n(&sd->gen, __ATOMIC_ACQUIRE);
	if (iotlb_read(e, vpn, gen, iova, out)) {
		__atomic_add_fetch(&sd->hits, 1, __ATOMIC_RELAXED);
		return 0;
	}
	__atomic_add_fetch(&sd->misses, 1, __ATOMIC_RELAXED);
	rc = sio_mm_lookup(d->mm, iova, out);
	if (!rc)
		iotlb_fill(e, vpn, gen, out);
	return rc;
}

/* Flush the IOTLB and every attached device's cache for [start, end). */
static void invalidate(struct soft_sva_domain *sd, uint64_t start, uint64_t end)
{
	struct atc *a;

	__atomic_add_fetch(&sd->gen, 1, __ATOMIC_ACQ_REL);
	sio_mutex_lock(&sd->lock, SIO_LOCK_SOFT_SVA);
	sd->stats.iotlb_invalidations++;
	cds_list_for_each_entry(a, &sd->atcs, node) {
		a->invalidations++;
		a->start = start;
		a->end = end;
		sd->stats.atc_invalidations++;
	}
	sio_mutex_unlock(&sd->lock);
}

static void sva_mm_invalidate(struct sio_mm_notifier *mn, uint64_t start,
			      uint64_t end)
{
	invalidate(sio_container_of(mn, struct soft_sva_domain, mn), start, end);
}

static void sva_mm_release(struct sio_mm_notifier *mn)
{
	struct soft_sva_domain *sd = sio_container_of(mn, struct soft_sva_domain, mn);

	/* Hardware would now point the PASID entries at a table that
	 * aborts; failing every lookup is the same to a device. */
	__atomic_store_n(&sd->dead, true, __ATOMIC_RELEASE);
	invalidate(sd, 0, SIO_MM_TASK_SIZE);
}

static const struct sio_mm_notifier_ops sva_mm_ops = {
	.invalidate = sva_mm_invalidate,
	.release = sva_mm_release,
};

static struct pasid_slot *find_slot(struct soft_sva_domain *sd,
				    const struct sio_group *table,
				    sio_pasid_t pasid)
{
	struct pasid_slot *s;

	cds_list_for_each_entry(s, &sd->slots, node)
		if (s->table == table && s->pasid == pasid)
			return s;
	return NULL;
}

static struct atc *find_atc(struct soft_sva_domain *sd,
			    const struct sio_device *dev, sio_pasid_t pasid)
{
	struct atc *a;

	cds_list_for_each_entry(a, &sd->atcs, node)
		if (a->dev == dev && (pasid == SIO_PASID_INVALID || a->pasid == pasid))
			return a;
	return NULL;
}

/* Install the PASID entry for dev (attach_domain), or find it installed
 * by another device of its group and only count the flush. */
static int soft_sva_set_dev_pasid(struct sio_domain *d, struct sio_device *dev,
				  sio_pasid_t pasid, struct sio_domain *old)
{
	struct soft_sva_domain *sd = to_sva(d);
	struct pasid_slot *slot;
	struct sio_group *group;
	struct atc *a;
	int rc;

	soft_sva_leave(old, dev, pasid);
	rc = sio_device_group(dev, &group);
	if (rc)
		return rc;
	/* The group is only a name for its PASID table here. */
	sio_group_put(group);
	a = sio_calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	sio_mutex_lock(&sd->lock, SIO_LOCK_SOFT_SVA);
	slot = find_slot(sd, group, pasid);
	if (slot) {
		sd->stats.entry_shared++;
	} else {
		slot = sio_calloc(1, sizeof(*slot));
		if (!slot) {
			sio_mutex_unlock(&sd->lock);
			free(a);
			return -ENOMEM;
		}
		slot->table = group;
		slot->pasid = pasid;
		cds_list_add_tail(&slot->node, &sd->slots);
		sd->stats.entry_writes++;
		sd->stats.entries++;
	}
	slot->ndevs++;
	a->dev = dev;
	a->pasid = pasid;
	a->slot = slot;
	cds_list_add_tail(&a->node, &sd->atcs);
	sd->stats.devices++;
	sio_mutex_unlock(&sd->lock);
	return 0;
}

void soft_sva_leave(struct sio_domain *old, struct sio_device *dev,
		    sio_pasid_t pasid)
{
	struct soft_sva_domain *sd;
	struct atc *a;

	if (!old || old->ops != &soft_sva_ops)
		return;
	sd = to_sva(old);
	sio_mutex_lock(&sd->lock, SIO_LOCK_SOFT_SVA);
	a = find_atc(sd, dev, pasid);
	if (a) {
		/* The device drops what it cached for the PASID... */
		sd->stats.atc_invalidations++;
		sd->stats.devices--;
		/* ...and the last device of the table clears the entry. */
		if (--a->slot->ndevs) {
			sd->stats.entry_kept++;
		} else {
			cds_list_del(&a->slot->node);
			free(a->slot);
			sd->stats.entry_clears++;
			sd->stats.entries--;
		}
		cds_list_del(&a->node);
		free(a);
	}
	sio_mutex_unlock(&sd->lock);
}

static void soft_sva_free(struct sio_domain *d)
{
	struct soft_sva_domain *sd = to_sva(d);
	struct pasid_slot *s, *stmp;
	struct atc *a, *atmp;

	sio_mm_notifier_unregister(&sd->mn);
	/* The core detached it everywhere; a removed device's records may
	 * remain if its group went without detaching. */
	cds_list_for_each_entry_safe(a, atmp, &sd->atcs, node)
		free(a);
	cds_list_for_each_entry_safe(s, stmp, &sd->slots, node)
		free(s);
	pthread_mutex_destroy(&sd->lock);
	free(sd);
}

static const struct sio_domain_ops soft_sva_ops = {
	.set_dev_pasid = soft_sva_set_dev_pasid,
	.lookup = soft_sva_lookup,
	.free = soft_sva_free,
};

int soft_sva_domain_alloc(struct sio_device *dev, struct sio_mm *mm,
			  struct sio_domain **out)
{
	struct soft_sva_domain *sd;
	int rc;

	if (!sio_device_max_pasids(dev))
		return -EOPNOTSUPP;
	sd = sio_calloc(1, sizeof(*sd));
	if (!sd)
		return -ENOMEM;
	sio_domain_init(&sd->domain, SIO_DOMAIN_SVA, &soft_sva_ops);
	pthread_mutex_init(&sd->lock, NULL);
	CDS_INIT_LIST_HEAD(&sd->slots);
	CDS_INIT_LIST_HEAD(&sd->atcs);
	sd->mn.ops = &sva_mm_ops;
	rc = sio_mm_notifier_register(mm, &sd->mn);
	if (rc) {
		pthread_mutex_destroy(&sd->lock);
		free(sd);
		return rc;
	}
	*out = &sd->domain;
	return 0;
}

SIO_API int sio_soft_sva_stats(struct sio_domain *domain,
			       struct sio_soft_sva_stats *out)
{
	struct soft_sva_domain *sd;

	if (!domain || domain->ops != &soft_sva_ops || !out)
		return sio_err(-EINVAL, "soft: not a soft SVA domain");
	sd = to_sva(domain);
	sio_mutex_lock(&sd->lock, SIO_LOCK_SOFT_SVA);
	*out = sd->stats;
	sio_mutex_unlock(&sd->lock);
	out->iotlb_hits = __atomic_load_n(&sd->hits, __ATOMIC_RELAXED);
	out->iotlb_misses = __atomic_load_n(&sd->misses, __ATOMIC_RELAXED);
	out->mm_exited = __atomic_load_n(&sd->dead, __ATOMIC_ACQUIRE);
	return 0;
}

SIO_API int sio_soft_sva_atc(struct sio_domain *domain, struct sio_device *dev,
			     uint64_t *invalidations, uint64_t *start,
			     uint64_t *end)
{
	struct soft_sva_domain *sd;
	struct atc *a;
	int rc = 0;

	if (!domain || domain->ops != &soft_sva_ops)
		return sio_err(-EINVAL, "soft: not a soft SVA domain");
	sd = to_sva(domain);
	sio_mutex_lock(&sd->lock, SIO_LOCK_SOFT_SVA);
	a = find_atc(sd, dev, SIO_PASID_INVALID);
	if (a) {
		*invalidations = a->invalidations;
		*start = a->start;
		*end = a->end;
	} else {
		rc = sio_err(-ENOENT, "soft: %s is not attached to this SVA domain",
			     sio_device_name(dev));
	}
	sio_mutex_unlock(&sd->lock);
	return rc;
}
