/*
 * iommufd as a dmabuf importer: IOMMU_IOAS_MAP_FILE of a dmabuf fd, after
 * Linux 7.3's pages.c (the exporter is the selftest's,
 * selftest/dmabuf.c).
 *
 * An invalidated iopt_pages is revoked for good: its areas are unmapped
 * from every domain at once (DMA through them faults from then on), later
 * domains get nothing mapped for it, and unmapping the area later unmaps
 * nothing more.  Only a new IOAS_MAP_FILE after the buffer was restored
 * maps it again.  Access objects never reach a dmabuf: pinning or reading
 * one is -EINVAL (pages.c, access.c).
 *
 * To unmap on invalidation, each dmabuf iopt_pages tracks the (area,
 * domain) pairs it is mapped in; an area is put into a domain and the
 * track made under pages->mutex, which an invalidation takes too, so it
 * never misses a mapping being made.  Lock order: dmabuf->lock, then
 * pages->mutex (iommufd_private.h).
 */
#include <stdlib.h>

#include "iommufd/dmabuf.h"
#include "iommufd/iommufd_private.h"

/* One (area, domain) pair the pages are mapped in; under pages->mutex. */
struct dmabuf_track {
	struct cds_list_head node;	/* in pages->dmabuf_tracks */
	struct iopt_area *area;
	struct sio_domain *domain;
	iopt_area_unmap_fn unmap;
};

/* iopt_revoke_notify(): cut the pages off every domain, for good. */
static void pages_invalidate(struct iopt_pages *pages)
{
	struct dmabuf_track *t;

	pthread_mutex_lock(&pages->mutex);
	if (!pages->revoked) {
		cds_list_for_each_entry(t, &pages->dmabuf_tracks, node)
			t->unmap(t->area, t->domain);
		pages->revoked = true;
	}
	pthread_mutex_unlock(&pages->mutex);
}

void iommufd_dmabuf_invalidate_mappings(struct iommufd_dmabuf *d)
{
	struct iopt_pages *pages;

	cds_list_for_each_entry(pages, &d->attachments, dmabuf_node)
		pages_invalidate(pages);
}

/* ------------------------------------------------------------------ */
/* The importer                                                         */
/* ------------------------------------------------------------------ */

struct iopt_pages *iopt_alloc_dmabuf_pages(struct sio_iommufd_host *host,
					   struct iommufd_dmabuf *d,
					   uint64_t start, uint64_t length,
					   bool writable, int *err)
{
	struct iopt_pages *pages;

	/* The caller checked that start + length - 1 does not wrap. */
	if (d->length <= start + length - 1) {
		*err = -EINVAL;
		goto err_put;
	}
	pages = iopt_pages_alloc_dmabuf(host, start, length, writable, err);
	if (!pages)
		goto err_put;
	pthread_mutex_lock(&d->lock);
	if (d->revoked) {
		/* The mock exporter refuses to hand out revoked memory. */
		pthread_mutex_unlock(&d->lock);
		iopt_pages_put(pages);
		*err = -ENODEV;
		goto err_put;
	}
	pages->dmabuf = d;
	pages->file = sio_umem_file_ref(d->mem);
	cds_list_add_tail(&pages->dmabuf_node, &d->attachments);
	pthread_mutex_unlock(&d->lock);
	return pages;

err_put:
	iommufd_dmabuf_put(d);
	return NULL;
}

void iopt_dmabuf_release_pages(struct iopt_pages *pages)
{
	struct iommufd_dmabuf *d = pages->dmabuf;

	pthread_mutex_lock(&d->lock);
	cds_list_del(&pages->dmabuf_node);
	pthread_mutex_unlock(&d->lock);
	if (!cds_list_empty(&pages->dmabuf_tracks))
		sio_err(-EBUSY, "iommufd: dmabuf pages freed while mapped");
	pages->dmabuf = NULL;
	iommufd_dmabuf_put(d);
}

int iopt_dmabuf_fill_domain(struct iopt_area *area, struct sio_domain *domain,
			    iopt_area_map_fn map, iopt_area_unmap_fn unmap)
{
	struct iopt_pages *pages = area->pages;
	struct dmabuf_track *t = sio_malloc(sizeof(*t));
	int rc = 0;

	if (!t)
		return sio_err(-ENOMEM,
			       "IOMMU_IOAS_MAP_FILE: out of memory to track the dmabuf");
	t->area = area;
	t->domain = domain;
	t->unmap = unmap;
	pthread_mutex_lock(&pages->mutex);
	/* A revoked buffer is tracked but maps nothing. */
	if (!pages->revoked)
		rc = map(area, domain);
	if (!rc)
		cds_list_add_tail(&t->node, &pages->dmabuf_tracks);
	pthread_mutex_unlock(&pages->mutex);
	if (rc)
		free(t);
	return rc;
}

void iopt_dmabuf_unfill_domain(struct iopt_area *area,
			       struct sio_domain *domain,
			       iopt_area_unmap_fn unmap)
{
	struct iopt_pages *pages = area->pages;
	struct dmabuf_track *t, *found = NULL;

	pthread_mutex_lock(&pages->mutex);
	cds_list_for_each_entry(t, &pages->dmabuf_tracks, node) {
		if (t->area == area && t->domain == domain) {
			found = t;
			break;
		}
	}
	if (found)
		cds_list_del(&found->node);
	/* Revoked: already unmapped. */
	if (!pages->revoked)
		unmap(area, domain);
	pthread_mutex_unlock(&pages->mutex);
	free(found);
}
