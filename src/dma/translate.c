/*
 * The device data path: translate a device's DMA and copy through it.
 *
 * This is the hot path of a device model, so it takes no control-path lock.
 * Inside one RCU read-side section it reads the device's group, the domain
 * attached at (device, PASID) and the domain's page table; control paths
 * publish those with sio_rcu_assign() and wait for a grace period before
 * retiring anything.  sio_dma_read()/sio_dma_write() copy while still inside
 * the section, which is what lets sio_unmap() promise that no DMA reaches an
 * unmapped page once it returns.
 *
 * On a fault-capable domain (one with an I/O page-fault handler) a missing
 * or insufficient mapping is not the end: the device sends a page request
 * from inside the same section (iopf/dma_fault.h) and the DMA returns -EAGAIN,
 * to be retried when the response says the page is there.
 *
 * The copy itself is sio_safe_memcpy(): memory the IOMMU maps may vanish
 * under the mapping (a memfd pinned by IOMMU_IOAS_MAP_FILE and then
 * truncated leaves the library's mapping of it with no pages, and a load
 * there raises SIGBUS).  The kernel would still hold its pinned pages; we
 * cannot, so such a DMA fails as one to memory that is not there: -EFAULT,
 * SIO_FAULT_NOT_MAPPED, and the program lives (docs/umem.md).  That needs
 * the library's fault handler in place (src/mmio/trap.c, which the
 * iommufd layer installs when it maps a file).
 */
#include <string.h>

#include "core/core.h"
#include "iopf/dma_fault.h"
#include "softiommu/dma.h"
#include "util/safecopy.h"

SIO_API const char *sio_fault_reason_name(enum sio_fault_reason reason)
{
	switch (reason) {
	case SIO_FAULT_NONE:
		return "none";
	case SIO_FAULT_DEVICE_GONE:
		return "device removed";
	case SIO_FAULT_NO_PASID:
		return "nothing attached at this PASID";
	case SIO_FAULT_BLOCKED:
		return "blocked domain";
	case SIO_FAULT_APERTURE:
		return "outside the aperture";
	case SIO_FAULT_NOT_MAPPED:
		return "not mapped";
	case SIO_FAULT_PERMISSION:
		return "permission";
	case SIO_FAULT_UNSUPPORTED:
		return "domain type has no data path";
	}
	return "unknown";
}

static int fault(struct sio_dma_fault *f, enum sio_fault_reason reason,
		 uint64_t iova, sio_pasid_t pasid, unsigned int access, int err)
{
	if (f) {
		f->reason = reason;
		f->iova = iova;
		f->pasid = pasid;
		f->access = access;
	}
	return err;
}

static bool access_allowed(unsigned int prot, unsigned int access)
{
	if ((access & SIO_DMA_READ) && !(prot & SIO_PROT_READ))
		return false;
	if ((access & SIO_DMA_WRITE) && !(prot & SIO_PROT_WRITE))
		return false;
	if ((access & SIO_DMA_EXEC) && (prot & SIO_PROT_NOEXEC))
		return false;
	return true;
}

/*
 * What the hardware does on a write with dirty tracking on: set the dirty
 * bit of the leaf it went through.  Tracking is switched on the table the
 * VMM migrates, which for a nested domain is its parent (stage 2); the
 * nested domain's own set_dirty knows which stage-2 leaf the write used.
 */
static void mark_dirty(struct sio_domain *domain, uint64_t iova)
{
	const struct sio_domain *tracked = domain->type == SIO_DOMAIN_NESTED ?
						   domain->parent : domain;

	if (tracked &&
	    __atomic_load_n(&tracked->dirty_tracking, __ATOMIC_ACQUIRE) &&
	    domain->ops->set_dirty)
		domain->ops->set_dirty(domain, iova);
}

/*
 * A mapping that is missing or lacks the access: the one place where a
 * translation may turn into a page request.  The fault still says why;
 * -EAGAIN says a request went out and its response will come.
 */
static int page_fault(struct sio_device *dev, struct sio_domain *domain,
		      struct sio_dma_fault *f, enum sio_fault_reason reason,
		      uint64_t iova, sio_pasid_t pasid, unsigned int access,
		      int err)
{
	fault(f, reason, iova, pasid, access, err);
	if (domain->iopf_handler && !sio_iopf_dma_fault(dev, pasid, iova, access))
		return -EAGAIN;
	return err;
}

/* Count without a locked instruction (core.h: st_translations). */
static inline void count(uint64_t *c)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
}

static int translate_rcu_inner(struct sio_device *dev, sio_pasid_t pasid,
			       uint64_t iova, unsigned int access,
			       struct sio_dma_xlate *out,
			       struct sio_dma_fault *f);

/* Must run inside an RCU read-side section. */
static int translate_rcu(struct sio_device *dev, sio_pasid_t pasid,
			 uint64_t iova, unsigned int access,
			 struct sio_dma_xlate *out, struct sio_dma_fault *f)
{
	int rc = translate_rcu_inner(dev, pasid, iova, access, out, f);

	count(rc ? &dev->st_faults : &dev->st_translations);
	return rc;
}

SIO_API void sio_device_stats(struct sio_device *dev,
			      struct sio_device_stats *out)
{
	out->translations = __atomic_load_n(&dev->st_translations,
					    __ATOMIC_RELAXED);
	out->faults = __atomic_load_n(&dev->st_faults, __ATOMIC_RELAXED);
}

static int translate_rcu_inner(struct sio_device *dev, sio_pasid_t pasid,
			 uint64_t iova, unsigned int access,
			 struct sio_dma_xlate *out, struct sio_dma_fault *f)
{
	struct sio_group *group = sio_rcu_deref(dev->group);
	struct sio_domain *domain;
	struct sio_xlate x;

	if (!group)
		return fault(f, SIO_FAULT_DEVICE_GONE, iova, pasid, access, -ENODEV);
	if (pasid == SIO_NO_PASID) {
		domain = sio_rcu_deref(group->domain);
	} else {
		struct sio_pasid_entry *e = NULL;

		if (pasid < dev->max_pasids)
			e = sio_pasid_table_load(&group->pasids, pasid);
		domain = e ? e->domain : NULL;
	}
	if (!domain)
		return fault(f, SIO_FAULT_NO_PASID, iova, pasid, access, -ENOENT);

	switch (domain->type) {
	case SIO_DOMAIN_IDENTITY:
		out->host = (void *)(uintptr_t)iova;
		out->len = UINT64_MAX - iova + 1 ? UINT64_MAX - iova + 1 : UINT64_MAX;
		out->prot = SIO_PROT_READ | SIO_PROT_WRITE;
		return 0;
	case SIO_DOMAIN_PAGING:
		break;
	case SIO_DOMAIN_NESTED:
		/* Through both stages, by the driver's lookup. */
		if (domain->ops->lookup)
			break;
		return fault(f, SIO_FAULT_UNSUPPORTED, iova, pasid, access,
			     -EOPNOTSUPP);
	case SIO_DOMAIN_BLOCKED:
		return fault(f, SIO_FAULT_BLOCKED, iova, pasid, access, -EPERM);
	case SIO_DOMAIN_SVA:
		/* The process's CPU page table (domain->mm), walked by the
		 * driver through its IOTLB; a miss is a page request below. */
		if (domain->ops->lookup)
			break;
		return fault(f, SIO_FAULT_UNSUPPORTED, iova, pasid, access,
			     -EOPNOTSUPP);
	default:
		return fault(f, SIO_FAULT_UNSUPPORTED, iova, pasid, access,
			     -EOPNOTSUPP);
	}
	if (domain->geometry.force_aperture &&
	    (iova < domain->geometry.aperture_start ||
	     iova > domain->geometry.aperture_end))
		return fault(f, SIO_FAULT_APERTURE, iova, pasid, access, -EFAULT);
	if (domain->ops->lookup(domain, iova, &x))
		return page_fault(dev, domain, f, SIO_FAULT_NOT_MAPPED, iova,
				  pasid, access, -EFAULT);
	if (!access_allowed(x.prot, access))
		return page_fault(dev, domain, f, SIO_FAULT_PERMISSION, iova,
				  pasid, access, -EACCES);
	if (access & SIO_DMA_WRITE)
		mark_dirty(domain, iova);
	out->host = (void *)(uintptr_t)x.phys;
	out->len = x.page_size - (iova & (x.page_size - 1));
	out->prot = x.prot;
	return 0;
}

SIO_API int sio_dma_translate(struct sio_device *dev, sio_pasid_t pasid,
			      uint64_t iova, unsigned int access,
			      struct sio_dma_xlate *out,
			      struct sio_dma_fault *f)
{
	int rc;

	sio_rcu_read_lock();
	rc = translate_rcu(dev, pasid, iova, access, out, f);
	sio_rcu_read_unlock();
	if (!rc && f)
		f->reason = SIO_FAULT_NONE;
	return rc;
}

/* Copy len bytes between buf and the device's view at iova, in the
 * direction given by access, one translated leaf at a time. */
static int dma_copy(struct sio_device *dev, sio_pasid_t pasid, uint64_t iova,
		    void *buf, size_t len, unsigned int access,
		    struct sio_dma_fault *f)
{
	unsigned char *p = buf;
	int rc = 0;

	if (f)
		f->reason = SIO_FAULT_NONE;
	sio_rcu_read_lock();
	while (len) {
		struct sio_dma_xlate x;
		size_t chunk;

		rc = translate_rcu(dev, pasid, iova, access, &x, f);
		if (rc)
			break;
		chunk = x.len < len ? (size_t)x.len : len;
		if (access & SIO_DMA_WRITE)
			rc = sio_safe_memcpy(x.host, p, chunk);
		else
			rc = sio_safe_memcpy(p, x.host, chunk);
		if (rc) {
			/* The page behind the mapping is gone. */
			rc = fault(f, SIO_FAULT_NOT_MAPPED, iova, pasid, access,
				   -EFAULT);
			break;
		}
		p += chunk;
		iova += chunk;
		len -= chunk;
	}
	sio_rcu_read_unlock();
	return rc;
}

SIO_API int sio_dma_read(struct sio_device *dev, sio_pasid_t pasid,
			 uint64_t iova, void *buf, size_t len,
			 struct sio_dma_fault *f)
{
	return dma_copy(dev, pasid, iova, buf, len, SIO_DMA_READ, f);
}

SIO_API int sio_dma_write(struct sio_device *dev, sio_pasid_t pasid,
			  uint64_t iova, const void *buf, size_t len,
			  struct sio_dma_fault *f)
{
	return dma_copy(dev, pasid, iova, (void *)buf, len, SIO_DMA_WRITE, f);
}
