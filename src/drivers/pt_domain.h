/*
 * A paging domain backed by one I/O page table of the page-table layer:
 * what every table-walking driver (mock, soft, the tests' driver) would
 * otherwise write again.  The driver embeds struct sio_pt_domain in its
 * own domain (or uses it as it is), makes it with sio_pt_domain_init(),
 * and puts SIO_PT_DOMAIN_OPS, and SIO_PT_DIRTY_OPS when its tables track
 * dirty state, in its struct sio_domain_ops; the ops forward to sio_pt_*
 * on the domain's table.  A driver replaces any of them with its own that
 * calls the sio_pt_domain_* function it stands for (to count, or to flush
 * an IOTLB), and sets the rest of its ops (attach, free, invalidation)
 * itself.  The kernel's IOMMU_PT_DOMAIN_OPS is the same idea.
 *
 * The table serializes nothing itself: the core calls map, unmap and
 * read-and-clear under the domain's map lock, and lookup and set_dirty from
 * the data path's read-side section, which the table's RCU rules allow.
 */
#ifndef SIO_DRIVERS_PT_DOMAIN_H
#define SIO_DRIVERS_PT_DOMAIN_H

#include "softiommu/driver.h"
#include "softiommu/pgtable.h"

struct sio_pt_domain {
	struct sio_domain domain;
	struct sio_pt *pt;
};

static inline struct sio_pt_domain *sio_to_pt_domain(struct sio_domain *d)
{
	return sio_container_of(d, struct sio_pt_domain, domain);
}

/* Make pd's table from cfg and its core part: a paging domain of ops that
 * maps the table's page sizes over the whole of its input range (the
 * aperture is forced).  A driver narrows either afterwards.  Returns the
 * page-table layer's error, with nothing to undo. */
int sio_pt_domain_init(struct sio_pt_domain *pd, const struct sio_pt_cfg *cfg,
		       const struct sio_domain_ops *ops);
/* Destroy the table (the domain is attached nowhere); the driver frees
 * the structure that holds pd. */
void sio_pt_domain_deinit(struct sio_pt_domain *pd);
/* A free op for drivers whose domain is a bare, malloc'd sio_pt_domain. */
void sio_pt_domain_free(struct sio_domain *d);

int sio_pt_domain_map_pages(struct sio_domain *d, uint64_t iova, uint64_t pa,
			    size_t pgsize, size_t count, unsigned int prot,
			    size_t *mapped);
size_t sio_pt_domain_unmap_pages(struct sio_domain *d, uint64_t iova,
				 size_t pgsize, size_t count,
				 struct sio_iotlb_gather *gather);
int sio_pt_domain_lookup(struct sio_domain *d, uint64_t iova,
			 struct sio_xlate *out);
/* The table's dirty bits are the whole state: nothing is programmed to
 * start or stop tracking, so there is no set_dirty_tracking here. */
int sio_pt_domain_read_and_clear_dirty(struct sio_domain *d, uint64_t iova,
				       uint64_t size, unsigned int flags,
				       sio_dirty_record_fn record, void *arg);
int sio_pt_domain_set_dirty(struct sio_domain *d, uint64_t iova);

#define SIO_PT_DOMAIN_OPS                                                    \
	.map_pages = sio_pt_domain_map_pages,                                \
	.unmap_pages = sio_pt_domain_unmap_pages,                            \
	.lookup = sio_pt_domain_lookup

#define SIO_PT_DIRTY_OPS                                                     \
	.read_and_clear_dirty = sio_pt_domain_read_and_clear_dirty,          \
	.set_dirty = sio_pt_domain_set_dirty

#endif
