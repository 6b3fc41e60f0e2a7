/*
 * The page-table-backed paging domain (pt_domain.h): each op is the
 * page-table call of the same name on the domain's table.
 */
#include <stdlib.h>

#include "drivers/pt_domain.h"

int sio_pt_domain_init(struct sio_pt_domain *pd, const struct sio_pt_cfg *cfg,
		       const struct sio_domain_ops *ops)
{
	int rc = sio_pt_create(cfg, &pd->pt);

	if (rc)
		return rc;
	sio_domain_init(&pd->domain, SIO_DOMAIN_PAGING, ops);
	pd->domain.pgsize_bitmap = sio_pt_pgsize_bitmap(pd->pt);
	pd->domain.geometry.aperture_start = 0;
	pd->domain.geometry.aperture_end = sio_pt_iova_last(pd->pt);
	pd->domain.geometry.force_aperture = true;
	return 0;
}

void sio_pt_domain_deinit(struct sio_pt_domain *pd)
{
	sio_pt_destroy(pd->pt);
	pd->pt = NULL;
}

void sio_pt_domain_free(struct sio_domain *d)
{
	struct sio_pt_domain *pd = sio_to_pt_domain(d);

	sio_pt_domain_deinit(pd);
	free(pd);
}

int sio_pt_domain_map_pages(struct sio_domain *d, uint64_t iova, uint64_t pa,
			    size_t pgsize, size_t count, unsigned int prot,
			    size_t *mapped)
{
	return sio_pt_map_pages(sio_to_pt_domain(d)->pt, iova, pa, pgsize,
				count, prot, mapped);
}

size_t sio_pt_domain_unmap_pages(struct sio_domain *d, uint64_t iova,
				 size_t pgsize, size_t count,
				 struct sio_iotlb_gather *gather)
{
	return sio_pt_unmap_pages(sio_to_pt_domain(d)->pt, iova, pgsize, count,
				  gather);
}

int sio_pt_domain_lookup(struct sio_domain *d, uint64_t iova,
			 struct sio_xlate *out)
{
	return sio_pt_lookup(sio_to_pt_domain(d)->pt, iova, out);
}

int sio_pt_domain_read_and_clear_dirty(struct sio_domain *d, uint64_t iova,
				       uint64_t size, unsigned int flags,
				       sio_dirty_record_fn record, void *arg)
{
	return sio_pt_read_and_clear_dirty(sio_to_pt_domain(d)->pt, iova, size,
					   flags, record, arg);
}

int sio_pt_domain_set_dirty(struct sio_domain *d, uint64_t iova)
{
	return sio_pt_set_dirty(sio_to_pt_domain(d)->pt, iova);
}
