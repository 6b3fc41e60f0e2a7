/*
 * The device data path: translate a device's DMA and copy through it.
 *
 * This is the hot path of a device model, so it takes no control-path lock.
 * Inside one RCU read-side section it reads the device's group, the domain
 * attached at (device, PASID) and the domain's page table; control paths
 * publish those with sio_rcu_assign() and wait for a grace period before
 * retiring anything.  Translations go through the device's IOTLB
 * (core/iotlb.h): a hit is a compare of the domain's tag, and a translate
 * whose group has not changed its attachments since the entry was filled
 * takes the domain from the entry without resolving the RID or the PASID.
 *
 * sio_dma_read()/sio_dma_write() resolve the domain once, count themselves
 * in the DMA epoch of the table that maps the pages (core/epoch.h) before
 * they read its tag, and copy one contiguous host run at a time.  The epoch
 * is what lets sio_unmap() promise that no DMA reaches an unmapped page
 * once it returns while waiting only for the copies in flight; the read
 * section, which also spans the copy, is what detach and replace wait on.
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
#include "core/epoch.h"
#include "core/iotlb.h"
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

SIO_API void sio_device_stats(struct sio_device *dev,
			      struct sio_device_stats *out)
{
	out->translations = __atomic_load_n(&dev->st_translations,
					    __ATOMIC_RELAXED);
	out->faults = __atomic_load_n(&dev->st_faults, __ATOMIC_RELAXED);
	out->iotlb_misses = __atomic_load_n(&dev->st_iotlb_misses,
					    __ATOMIC_RELAXED);
}

/*
 * One translation context: what (device, PASID) is attached to, resolved
 * once per translate or per DMA, and the tags its IOTLB entries must
 * carry.  A DMA keeps the domain it resolved for the whole transfer: a
 * replace that happens meanwhile waits for the DMA's read-side section, so
 * the transfer is ordered before it.
 */
struct xctx {
	struct sio_device *dev;
	struct sio_domain *domain;
	sio_pasid_t pasid;
	unsigned int access;
	bool cached;		/* paging or nested: through the IOTLB */
	uint64_t agen;		/* the group's attach_gen, before resolving */
	uint64_t tag, ptag;
};

/* Inside a read-side section: find the domain at (dev, pasid). */
static int resolve(struct xctx *c, uint64_t iova, struct sio_dma_fault *f)
{
	struct sio_group *group = sio_rcu_deref(c->dev->group);
	struct sio_domain *domain;
	sio_pasid_t pasid = c->pasid;
	unsigned int access = c->access;

	if (!group)
		return fault(f, SIO_FAULT_DEVICE_GONE, iova, pasid, access, -ENODEV);
	c->agen = __atomic_load_n(&group->attach_gen, __ATOMIC_ACQUIRE);
	if (pasid == SIO_NO_PASID) {
		domain = sio_rcu_deref(group->domain);
	} else {
		struct sio_pasid_entry *e = NULL;

		if (pasid < c->dev->max_pasids)
			e = sio_pasid_table_load(&group->pasids, pasid);
		domain = e ? e->domain : NULL;
	}
	if (!domain)
		return fault(f, SIO_FAULT_NO_PASID, iova, pasid, access, -ENOENT);
	c->domain = domain;
	c->cached = false;
	switch (domain->type) {
	case SIO_DOMAIN_IDENTITY:
		return 0;
	case SIO_DOMAIN_PAGING:
		c->cached = true;
		return 0;
	case SIO_DOMAIN_NESTED:
		/* Through both stages, by the driver's lookup. */
		if (domain->ops->lookup) {
			c->cached = true;
			return 0;
		}
		return fault(f, SIO_FAULT_UNSUPPORTED, iova, pasid, access,
			     -EOPNOTSUPP);
	case SIO_DOMAIN_BLOCKED:
		return fault(f, SIO_FAULT_BLOCKED, iova, pasid, access, -EPERM);
	case SIO_DOMAIN_SVA:
		/* The process's CPU page table (domain->mm), walked by the
		 * driver through its own IOTLB; a miss is a page request. */
		if (domain->ops->lookup)
			return 0;
		return fault(f, SIO_FAULT_UNSUPPORTED, iova, pasid, access,
			     -EOPNOTSUPP);
	default:
		return fault(f, SIO_FAULT_UNSUPPORTED, iova, pasid, access,
			     -EOPNOTSUPP);
	}
}

/* The table a copy through c's domain reaches memory through: the domain
 * whose unmap must wait for it (a nested domain's parent maps the host
 * pages), or NULL when nothing is unmapped under it. */
static struct sio_domain *epoch_domain(const struct xctx *c)
{
	if (!c->cached)
		return NULL;
	return c->domain->type == SIO_DOMAIN_NESTED ? c->domain->parent :
						      c->domain;
}

/* Read the tags, after the DMA entered its epoch (core/epoch.h). */
static void load_tags(struct xctx *c)
{
	if (!c->cached)
		return;
	c->tag = sio_dma_epoch_tag(c->domain);
	c->ptag = c->domain->parent ? sio_dma_epoch_tag(c->domain->parent) : 0;
}

/*
 * Translate iova in c.  A probe (extending a copy's run past its first
 * page) has no side effect on failure: no page request, no fault record;
 * the copy stops its run there and translates that page for real next.
 */
static int xlate(struct xctx *c, uint64_t iova, struct sio_dma_xlate *out,
		 struct sio_dma_fault *f, bool probe)
{
	struct sio_domain *domain = c->domain;
	sio_pasid_t pasid = c->pasid;
	unsigned int access = c->access;
	struct sio_iotlb_hit hit;
	struct sio_xlate x;

	if (domain->type == SIO_DOMAIN_IDENTITY) {
		out->host = (void *)(uintptr_t)iova;
		out->len = UINT64_MAX - iova + 1 ? UINT64_MAX - iova + 1 : UINT64_MAX;
		out->prot = SIO_PROT_READ | SIO_PROT_WRITE;
		return 0;
	}
	if (domain->geometry.force_aperture &&
	    (iova < domain->geometry.aperture_start ||
	     iova > domain->geometry.aperture_end))
		return probe ? -EFAULT :
			       fault(f, SIO_FAULT_APERTURE, iova, pasid, access,
				     -EFAULT);
	if (c->cached &&
	    sio_iotlb_lookup(c->dev->iotlb, pasid, iova, domain, c->tag, c->ptag,
			     &hit) &&
	    access_allowed(hit.prot, access)) {
		out->host = (void *)(uintptr_t)hit.host;
		out->len = hit.len;
		out->prot = hit.prot;
		if (access & SIO_DMA_WRITE)
			mark_dirty(domain, iova);
		return 0;
	}
	if (c->cached)
		count(&c->dev->st_iotlb_misses);
	if (domain->ops->lookup(domain, iova, &x))
		return probe ? -EFAULT :
			       page_fault(c->dev, domain, f, SIO_FAULT_NOT_MAPPED,
					  iova, pasid, access, -EFAULT);
	if (!access_allowed(x.prot, access))
		return probe ? -EACCES :
			       page_fault(c->dev, domain, f, SIO_FAULT_PERMISSION,
					  iova, pasid, access, -EACCES);
	if (c->cached)
		sio_iotlb_fill(c->dev->iotlb, pasid, iova, domain, c->agen,
			       c->tag, c->ptag, x.phys, x.page_size, x.prot);
	if (access & SIO_DMA_WRITE)
		mark_dirty(domain, iova);
	out->host = (void *)(uintptr_t)x.phys;
	out->len = x.page_size - (iova & (x.page_size - 1));
	out->prot = x.prot;
	return 0;
}

/*
 * The IOTLB hit that skips resolving the attachment: the group's
 * attach_gen is the one the entry was filled under, so the entry's domain
 * is still attached at (dev, pasid) and, inside this read-side section,
 * cannot be freed; its tags say whether its table changed since.
 */
static bool fast_hit(struct sio_device *dev, sio_pasid_t pasid, uint64_t iova,
		     unsigned int access, struct sio_dma_xlate *out)
{
	struct sio_group *group = sio_rcu_deref(dev->group);
	struct sio_iotlb_hit h;
	struct sio_domain *d;
	uint64_t agen;

	if (!group)
		return false;
	agen = __atomic_load_n(&group->attach_gen, __ATOMIC_ACQUIRE);
	if (!sio_iotlb_read(dev->iotlb, pasid, iova, &h) || h.agen != agen)
		return false;
	d = h.domain;
	if (sio_dma_epoch_tag(d) != h.tag ||
	    (h.ptag && sio_dma_epoch_tag(d->parent) != h.ptag) ||
	    !access_allowed(h.prot, access))
		return false;
	if (access & SIO_DMA_WRITE)
		mark_dirty(d, iova);
	out->host = (void *)(uintptr_t)h.host;
	out->len = h.len;
	out->prot = h.prot;
	return true;
}

SIO_API int sio_dma_translate(struct sio_device *dev, sio_pasid_t pasid,
			      uint64_t iova, unsigned int access,
			      struct sio_dma_xlate *out,
			      struct sio_dma_fault *f)
{
	struct xctx c = { .dev = dev, .pasid = pasid, .access = access };
	int rc;

	sio_rcu_read_lock();
	if (fast_hit(dev, pasid, iova, access, out)) {
		sio_rcu_read_unlock();
		count(&dev->st_translations);
		if (f)
			f->reason = SIO_FAULT_NONE;
		return 0;
	}
	rc = resolve(&c, iova, f);
	if (!rc) {
		load_tags(&c);
		rc = xlate(&c, iova, out, f, false);
	}
	sio_rcu_read_unlock();
	count(rc ? &dev->st_faults : &dev->st_translations);
	if (!rc && f)
		f->reason = SIO_FAULT_NONE;
	return rc;
}

/*
 * Copy len bytes between buf and the device's view at iova, in the
 * direction given by access, one contiguous host run at a time: the run
 * starts at a translated leaf and grows while the next leaf's host address
 * follows on (IOTLB hits, once the cache is warm), so memory mapped in one
 * piece is one copy however many leaves map it.
 *
 * The whole transfer is inside one read-side section (the domain, the
 * table pages) and, on a paging or nested domain, counted in the DMA
 * epoch of the table that maps the pages, which unmap waits on.
 */
static int dma_copy(struct sio_device *dev, sio_pasid_t pasid, uint64_t iova,
		    void *buf, size_t len, unsigned int access,
		    struct sio_dma_fault *f)
{
	struct xctx c = { .dev = dev, .pasid = pasid, .access = access };
	struct sio_domain *ed;
	unsigned char *p = buf;
	unsigned int idx = 0;
	int rc;

	if (f)
		f->reason = SIO_FAULT_NONE;
	if (!len)
		return 0;
	sio_rcu_read_lock();
	rc = resolve(&c, iova, f);
	if (rc) {
		sio_rcu_read_unlock();
		count(&dev->st_faults);
		return rc;
	}
	ed = epoch_domain(&c);
	if (ed) {
		idx = sio_dma_epoch_enter(ed);
		sio_dma_depth++;
	}
	load_tags(&c);
	while (len) {
		struct sio_dma_xlate x;
		uint64_t run;
		unsigned char *host;

		rc = xlate(&c, iova, &x, f, false);
		count(rc ? &dev->st_faults : &dev->st_translations);
		if (rc)
			break;
		host = x.host;
		run = x.len < len ? x.len : len;
		while (run < len) {
			struct sio_dma_xlate y;

			if (xlate(&c, iova + run, &y, NULL, true) ||
			    (unsigned char *)y.host != host + run)
				break;
			run += y.len < len - run ? y.len : len - run;
		}
		if (access & SIO_DMA_WRITE)
			rc = sio_safe_memcpy(host, p, (size_t)run);
		else
			rc = sio_safe_memcpy(p, host, (size_t)run);
		if (rc) {
			/* A page behind the mapping is gone. */
			rc = fault(f, SIO_FAULT_NOT_MAPPED, iova, pasid, access,
				   -EFAULT);
			break;
		}
		p += run;
		iova += run;
		len -= (size_t)run;
	}
	if (ed) {
		sio_dma_depth--;
		sio_dma_epoch_exit(ed, idx);
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
