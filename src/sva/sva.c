/*
 * SVA: bonds between devices and process address spaces.
 *
 * Per mm the layer keeps a struct sva_mm in the mm's IOMMU slot (the
 * kernel's iommu_mm_data): the mm's PASID, allocated on the first bind in
 * a one-PASID set whose token is the mm, and the SVA domains of the mm, one
 * per IOMMU, each with a count of the bonds attached through it.  A bond
 * (struct sio_sva, the kernel's iommu_sva) embeds the attach handle the
 * core stores at (group, PASID): that is how a second bind of the same
 * device finds it (the first io_mm proposal returned -EEXIST there; the
 * kernel later made it a reference, as here).
 *
 * Locking (the library's order is the table in docs/locking.md):
 * sva_mm->lock (SIO_LOCK_SVA_MM) serializes binds and unbinds of one mm and
 * protects its fields.  Under it come group mutexes (PASID attach/detach),
 * then mm->lock (the driver's notifier registration), then driver locks;
 * the PASID space lock and the system's SVA hook lock too.  Nothing
 * here runs in the data path, which finds the domain through the core's
 * PASID table and the mm through domain->mm.
 *
 * Lifetimes: a domain holds a count on its mm (sio_mm_grab), so the page
 * table it walks stays until the domain is freed, even after the mm exits.
 * The sva_mm lives as long as the mm structure; its release frees the
 * PASID (FREE event) with the set.
 */
#include <pthread.h>
#include <stdlib.h>
#include <urcu/list.h>

#include "softiommu/attach.h"
#include "softiommu/device.h"
#include "softiommu/domain.h"
#include "softiommu/driver.h"
#include "softiommu/mm.h"
#include "softiommu/pasid.h"
#include "softiommu/sva.h"
#include "core/core.h"
#include "mm/mm_iommu.h"
#include "util/error.h"
#include "util/fail.h"

struct sva_mm {
	struct sio_mm_iommu iommu;	/* in the mm's slot */
	struct sio_mm *mm;		/* no reference: the mm owns us */
	pthread_mutex_t lock;		/* SIO_LOCK_SVA_MM; see above */
	sio_pasid_t pasid;		/* atomic reads; SIO_PASID_INVALID */
	struct sio_pasid_space *space;	/* a reference, with the PASID */
	struct sio_pasid_set *set;
	struct cds_list_head domains;	/* struct sva_domain.node */
	unsigned int ndomains;
};

struct sva_domain {
	struct sio_domain *domain;
	unsigned int users;		/* bonds attached through it */
	struct cds_list_head node;
};

struct sio_sva {
	struct sio_attach_handle handle;	/* stored by the core */
	struct sio_device *dev;			/* a reference */
	struct sva_mm *smm;
	struct sva_domain *sd;
	unsigned int users;			/* under smm->lock */
};

static void sva_mm_release(struct sio_mm_iommu *data)
{
	struct sva_mm *smm = sio_container_of(data, struct sva_mm, iommu);

	/* Every domain held a count on the mm: none is left. */
	sio_pasid_set_free(smm->set);
	sio_pasid_space_put(smm->space);
	pthread_mutex_destroy(&smm->lock);
	free(smm);
}

static struct sva_mm *sva_mm_of(struct sio_mm *mm)
{
	struct sio_mm_iommu *cur = mm_iommu_data(mm);
	struct sva_mm *smm;

	if (cur)
		return sio_container_of(cur, struct sva_mm, iommu);
	smm = sio_calloc(1, sizeof(*smm));
	if (!smm)
		return NULL;
	smm->iommu.release = sva_mm_release;
	smm->mm = mm;
	smm->pasid = SIO_PASID_INVALID;
	pthread_mutex_init(&smm->lock, NULL);
	CDS_INIT_LIST_HEAD(&smm->domains);
	cur = mm_iommu_install(mm, &smm->iommu);
	if (cur != &smm->iommu) {
		pthread_mutex_destroy(&smm->lock);
		free(smm);
	}
	return sio_container_of(cur, struct sva_mm, iommu);
}

/* The mm's PASID for dev, allocated on first use (smm->lock held). */
static int mm_pasid(struct sva_mm *smm, struct sio_device *dev,
		    struct sio_pasid_space *space)
{
	uint32_t max = sio_device_max_pasids(dev);
	sio_pasid_t pasid;
	int rc;

	SIO_ASSERT_HELD(&smm->lock);
	if (smm->pasid != SIO_PASID_INVALID) {
		if (smm->space != space)
			return sio_err(-EINVAL, "SVA: the mm's PASID is of another system");
		if (smm->pasid >= max)
			return sio_err(-EOVERFLOW, "SVA: PASID %u is beyond %s's %u PASIDs",
				       smm->pasid, sio_device_name(dev), max);
		return 0;
	}
	if (max < 2)
		return sio_err(-ENOSPC, "SVA: %s has no PASID to give",
			       sio_device_name(dev));
	if (!smm->set) {
		rc = sio_pasid_set_alloc(space, 1, smm->mm, &smm->set);
		if (rc)
			return rc;
		smm->space = sio_pasid_space_get(space);
	}
	rc = sio_pasid_alloc(space, smm->set, 1, max - 1, SIO_PASID_INVALID,
			     smm->mm, &pasid);
	if (rc)
		return rc;
	__atomic_store_n(&smm->pasid, pasid, __ATOMIC_RELEASE);
	return 0;
}

/* The bond already at (dev's group, PASID), if it is ours. */
static int existing_bond(struct sva_mm *smm, struct sio_device *dev,
			 struct sio_sva **out)
{
	struct sio_attach_handle *h;
	int rc = sio_device_attach_handle_get(dev, smm->pasid, SIO_DOMAIN_SVA, &h);

	if (rc == -ENOENT)
		return 0;
	if (rc)
		return sio_err(-EBUSY, "SVA: PASID %u of %s is attached to another "
			       "domain", smm->pasid, sio_device_name(dev));
	if (h->domain->mm != smm->mm)
		return sio_err(-EBUSY, "SVA: PASID %u of %s shares another mm",
			       smm->pasid, sio_device_name(dev));
	*out = sio_container_of(h, struct sio_sva, handle);
	return 0;
}

/* The hook of sio_sva_set_domain_init() lives in the system (core/core.h):
 * its lock protects fn and arg, which are read together whenever a domain
 * is made, and is held while fn runs, so that once a new hook is set no
 * call of the old one is still going on. */
SIO_API void sio_sva_set_domain_init(struct sio_system *sys,
				     sio_sva_domain_init_fn fn, void *arg)
{
	if (!sys)
		return;
	sio_mutex_lock(&sys->sva_hook.lock, SIO_LOCK_SVA_HOOK);
	sys->sva_hook.fn = fn;
	sys->sva_hook.arg = fn ? arg : NULL;
	sio_mutex_unlock(&sys->sva_hook.lock);
}

static int domain_init(struct sio_system *sys, struct sio_domain *d)
{
	int rc = 0;

	sio_mutex_lock(&sys->sva_hook.lock, SIO_LOCK_SVA_HOOK);
	if (sys->sva_hook.fn)
		rc = sys->sva_hook.fn(sys->sva_hook.arg, d);
	sio_mutex_unlock(&sys->sva_hook.lock);
	return rc;
}

/* Attach the bond through the mm's domain on dev's IOMMU, made if need be
 * (smm->lock held). */
static int attach_bond(struct sva_mm *smm, struct sio_sva *bond)
{
	struct sio_iommu *iommu = sio_device_iommu(bond->dev);
	struct sva_domain *sd;
	struct sio_domain *d;
	int rc;

	SIO_ASSERT_HELD(&smm->lock);
	cds_list_for_each_entry(sd, &smm->domains, node) {
		if (sio_domain_iommu(sd->domain) != iommu)
			continue;
		rc = sio_attach_device_pasid(sd->domain, bond->dev, smm->pasid,
					     &bond->handle);
		if (rc)
			return rc;
		sd->users++;
		bond->sd = sd;
		return 0;
	}
	sd = sio_calloc(1, sizeof(*sd));
	if (!sd)
		return sio_err(-ENOMEM, "SVA: out of memory");
	sio_mm_grab(smm->mm);
	rc = sio_domain_alloc_sva(bond->dev, smm->mm, &d);
	if (!rc) {
		rc = domain_init(sio_iommu_system(iommu), d);
		if (!rc)
			rc = sio_attach_device_pasid(d, bond->dev, smm->pasid,
						     &bond->handle);
		if (rc)
			sio_domain_free(d);
	}
	if (rc) {
		sio_mm_drop(smm->mm);
		free(sd);
		return rc;
	}
	sd->domain = d;
	sd->users = 1;
	cds_list_add_tail(&sd->node, &smm->domains);
	smm->ndomains++;
	bond->sd = sd;
	return 0;
}

/* The last bond through sd is gone (smm->lock held). */
static void put_domain(struct sva_mm *smm, struct sva_domain *sd)
{
	SIO_ASSERT_HELD(&smm->lock);
	if (--sd->users)
		return;
	cds_list_del(&sd->node);
	smm->ndomains--;
	/* Busy only if a removed device left the PASID attached on the rest
	 * of its group: then the domain (and its count) must stay. */
	if (sio_domain_free(sd->domain) == 0)
		sio_mm_drop(smm->mm);
	free(sd);
}

static int bind_locked(struct sva_mm *smm, struct sio_device *dev,
		       struct sio_pasid_space *space, struct sio_sva **out)
{
	struct sio_sva *bond = NULL;
	int rc;

	SIO_ASSERT_HELD(&smm->lock);
	rc = mm_pasid(smm, dev, space);

	if (!rc)
		rc = existing_bond(smm, dev, &bond);
	if (rc)
		return rc;
	if (bond) {
		bond->users++;
		*out = bond;
		return 0;
	}
	bond = sio_calloc(1, sizeof(*bond));
	if (!bond)
		return sio_err(-ENOMEM, "SVA: out of memory");
	bond->dev = sio_device_get(dev);
	bond->smm = smm;
	bond->users = 1;
	rc = attach_bond(smm, bond);
	if (!rc) {
		rc = sio_pasid_bind(space, smm->set, smm->pasid, dev);
		if (rc) {
			sio_detach_device_pasid(bond->sd->domain, dev, smm->pasid);
			put_domain(smm, bond->sd);
		}
	}
	if (rc) {
		sio_device_put(dev);
		free(bond);
		return rc;
	}
	*out = bond;
	return 0;
}

SIO_API int sio_sva_bind_device(struct sio_device *dev, struct sio_mm *mm,
				struct sio_sva **out)
{
	struct sio_pasid_space *space;
	struct sva_mm *smm;
	int rc;

	sio_err_clear();
	if (!dev || !mm || !out)
		return sio_err(-EINVAL, "SVA bind: missing argument");
	if (sio_device_is_removed(dev))
		return sio_err(-ENODEV, "SVA bind: %s was removed",
			       sio_device_name(dev));
	if (sio_mm_exited(mm))
		return sio_err(-ESRCH, "SVA bind: the mm has exited");
	space = sio_system_pasid_space(sio_iommu_system(sio_device_iommu(dev)));
	smm = sva_mm_of(mm);
	if (!smm)
		return sio_err(-ENOMEM, "SVA bind: out of memory");
	sio_mutex_lock(&smm->lock, SIO_LOCK_SVA_MM);
	rc = bind_locked(smm, dev, space, out);
	sio_mutex_unlock(&smm->lock);
	return rc;
}

SIO_API void sio_sva_unbind_device(struct sio_sva *bond)
{
	struct sio_device *dev;
	struct sva_mm *smm;
	struct sio_mm *mm;

	if (!bond)
		return;
	smm = bond->smm;
	mm = smm->mm;
	dev = bond->dev;
	/* The last domain's count may be the mm's last: hold one more so
	 * that smm outlives its own lock. */
	sio_mm_grab(mm);
	sio_mutex_lock(&smm->lock, SIO_LOCK_SVA_MM);
	if (--bond->users) {
		sio_mutex_unlock(&smm->lock);
		sio_mm_drop(mm);
		return;
	}
	sio_detach_device_pasid(bond->sd->domain, dev, smm->pasid);
	sio_pasid_unbind(smm->space, smm->pasid, dev);
	put_domain(smm, bond->sd);
	sio_mutex_unlock(&smm->lock);
	sio_device_put(dev);
	free(bond);
	sio_mm_drop(mm);
}

SIO_API sio_pasid_t sio_sva_get_pasid(const struct sio_sva *bond)
{
	return __atomic_load_n(&bond->smm->pasid, __ATOMIC_ACQUIRE);
}

SIO_API struct sio_device *sio_sva_device(const struct sio_sva *bond)
{
	return bond->dev;
}

SIO_API struct sio_domain *sio_sva_domain(const struct sio_sva *bond)
{
	return bond->sd->domain;
}

SIO_API unsigned int sio_sva_users(const struct sio_sva *bond)
{
	unsigned int n;

	sio_mutex_lock(&bond->smm->lock, SIO_LOCK_SVA_MM);
	n = bond->users;
	sio_mutex_unlock(&bond->smm->lock);
	return n;
}

SIO_API sio_pasid_t sio_sva_mm_pasid(struct sio_mm *mm)
{
	struct sio_mm_iommu *data = mm_iommu_data(mm);

	if (!data)
		return SIO_PASID_INVALID;
	return __atomic_load_n(&sio_container_of(data, struct sva_mm, iommu)->pasid,
			       __ATOMIC_ACQUIRE);
}

SIO_API unsigned int sio_sva_mm_domains(struct sio_mm *mm)
{
	struct sio_mm_iommu *data = mm_iommu_data(mm);
	struct sva_mm *smm;
	unsigned int n;

	if (!data)
		return 0;
	smm = sio_container_of(data, struct sva_mm, iommu);
	sio_mutex_lock(&smm->lock, SIO_LOCK_SVA_MM);
	n = smm->ndomains;
	sio_mutex_unlock(&smm->lock);
	return n;
}
