/*
 * The soft IOMMU driver: paging domains in a real hardware page-table
 * format, chosen per instance (see softiommu/soft.h).
 *
 * The driver is deliberately thin: the core does the attach bookkeeping,
 * the page-table layer does the encoding, and the data path walks the
 * table lock-free.  What the driver adds is the configuration (which format,
 * which sizes), a check at creation that the format accepts it, the static
 * blocked and identity domains, and alias-based grouping.
 */
#include <stdlib.h>
#include <string.h>

#include "softiommu/driver.h"
#include "softiommu/soft.h"
#include "drivers/pt_domain.h"
#include "drivers/soft/soft_sva.h"
#include "util/error.h"
#include "util/fail.h"

struct soft_iommu {
	struct sio_soft_config cfg;
};

static const struct sio_domain_ops soft_paging_ops;

static struct soft_iommu *to_soft(struct sio_iommu *iommu)
{
	return sio_iommu_priv(iommu);
}

static void soft_pt_config(const struct sio_soft_config *c, bool dirty,
			   struct sio_pt_cfg *pt)
{
	memset(pt, 0, sizeof(*pt));
	pt->format = c->format;
	pt->ias = c->ias;
	pt->oas = c->oas;
	pt->granule_lg2 = c->granule_lg2;
	pt->levels = c->levels;
	pt->features = dirty ? SIO_PT_FEAT_DIRTY : 0;
}

/* Blocked and identity domains need no per-device state: every attach,
 * RID or PASID, succeeds, and the data path does the rest. */
static int soft_nop_attach(struct sio_domain *d, struct sio_device *dev,
			   struct sio_domain *old)
{
	return 0;
}

static int soft_nop_set_pasid(struct sio_domain *d, struct sio_device *dev,
			      sio_pasid_t pasid, struct sio_domain *old)
{
	soft_sva_leave(old, dev, pasid);	/* an SVA entry is replaced */
	return 0;
}

static void soft_static_free(struct sio_domain *d)
{
	free(d);
}

static const struct sio_domain_ops soft_static_ops = {
	.attach_dev = soft_nop_attach,
	.set_dev_pasid = soft_nop_set_pasid,
	.free = soft_static_free,
};

static int soft_alloc_static(enum sio_domain_type type, struct sio_domain **out)
{
	struct sio_domain *d = sio_malloc(sizeof(*d));

	if (!d)
		return -ENOMEM;
	sio_domain_init(d, type, &soft_static_ops);
	*out = d;
	return 0;
}

static int soft_alloc_blocked(struct sio_iommu *iommu, struct sio_domain **out)
{
	return soft_alloc_static(SIO_DOMAIN_BLOCKED, out);
}

static int soft_alloc_identity(struct sio_iommu *iommu, struct sio_domain **out)
{
	return soft_alloc_static(SIO_DOMAIN_IDENTITY, out);
}

/* Paging domains: the page table does the work (pt_domain.h), and its
 * dirty bits are the tracking state: nothing needs programming to turn it
 * on or off, so there is no set_dirty_tracking op. */
static const struct sio_domain_ops soft_paging_ops = {
	.attach_dev = soft_nop_attach,
	.set_dev_pasid = soft_nop_set_pasid,
	SIO_PT_DOMAIN_OPS,
	SIO_PT_DIRTY_OPS,
	.free = sio_pt_domain_free,
};

#define SOFT_PAGING_FLAGS                                                     \
	(SIO_DOMAIN_ALLOC_NEST_PARENT | SIO_DOMAIN_ALLOC_DIRTY_TRACKING |     \
	 SIO_DOMAIN_ALLOC_PASID)

static int soft_alloc_paging(struct sio_device *dev, uint32_t flags,
			     const struct sio_user_data *ud,
			     struct sio_domain **out)
{
	struct soft_iommu *si = to_soft(sio_device_iommu(dev));
	bool dirty = flags & SIO_DOMAIN_ALLOC_DIRTY_TRACKING;
	struct sio_pt_cfg ptcfg;
	struct sio_pt_domain *sd;
	int rc;

	if ((flags & ~SOFT_PAGING_FLAGS) || (dirty && !si->cfg.dirty))
		return -EOPNOTSUPP;
	if (ud)
		return -EOPNOTSUPP;	/* no driver-specific data */
	sd = sio_calloc(1, sizeof(*sd));
	if (!sd)
		return -ENOMEM;
	soft_pt_config(&si->cfg, dirty, &ptcfg);
	rc = sio_pt_domain_init(sd, &ptcfg, &soft_paging_ops);
	if (rc) {
		free(sd);
		return rc;
	}
	*out = &sd->domain;
	return 0;
}

static bool soft_capable(struct sio_device *dev, enum sio_cap cap)
{
	switch (cap) {
	case SIO_CAP_CACHE_COHERENCY:
		return true;
	case SIO_CAP_DIRTY_TRACKING:
		return to_soft(sio_device_iommu(dev))->cfg.dirty;
	default:
		return false;
	}
}

static void soft_iommu_release(struct sio_iommu *iommu)
{
	free(to_soft(iommu));
}

static const struct sio_iommu_ops soft_iommu_ops = {
	.name = "soft",
	.device_group = sio_alias_device_group,
	.domain_alloc_paging = soft_alloc_paging,
	.domain_alloc_sva = soft_sva_domain_alloc,
	.domain_alloc_blocked = soft_alloc_blocked,
	.domain_alloc_identity = soft_alloc_identity,
	.capable = soft_capable,
	.iommu_release = soft_iommu_release,
};

SIO_API int sio_soft_iommu_create(struct sio_system *sys, const char *name,
				  const struct sio_soft_config *cfg,
				  struct sio_iommu **out)
{
	struct sio_iommu_caps caps = { 0 };
	struct soft_iommu *si;
	struct sio_pt_cfg ptcfg;
	struct sio_pt *pt;
	int rc;

	if (!cfg)
		return sio_err(-EINVAL, "soft: no configuration");
	if (cfg->pasid_bits > SIO_PASID_MAX_BITS)
		return sio_err(-EINVAL, "soft: %u PASID bits", cfg->pasid_bits);
	/* The instance advertises what its tables can map; a configuration
	 * the format refuses is refused here, not at the first domain. */
	soft_pt_config(cfg, cfg->dirty, &ptcfg);
	rc = sio_pt_create(&ptcfg, &pt);
	if (rc)
		return sio_err(rc, "soft: the page-table format refused the configuration");
	caps.pgsize_bitmap = sio_pt_pgsize_bitmap(pt);
	sio_pt_destroy(pt);

	caps.pasid_bits = cfg->pasid_bits;
	caps.features = (cfg->pasid_bits ? SIO_FEAT_PASID | SIO_FEAT_SVA : 0) |
			(cfg->dirty ? SIO_FEAT_DIRTY : 0);
	caps.default_domain_type = cfg->default_domain_type ?
					   cfg->default_domain_type :
					   SIO_DOMAIN_IDENTITY;
	si = sio_malloc(sizeof(*si));
	if (!si)
		return sio_err(-ENOMEM, "soft: out of memory");
	si->cfg = *cfg;
	rc = sio_iommu_register(sys, name ? name : "soft", &soft_iommu_ops, &caps,
				si, out);
	if (rc)
		free(si);
	return rc;
}

SIO_API struct sio_pt *sio_soft_domain_pgtable(struct sio_domain *domain)
{
	if (!domain || domain->ops != &soft_paging_ops)
		return NULL;
	return sio_to_pt_domain(domain)->pt;
}
