/*
 * iopt_pages: one linear range of the program's memory that IOAS areas map
 * (the kernel's pages.c, reduced to what in-process pinning needs).
 *
 * Nothing is pinned when an area is made: like the kernel, pages are pinned
 * on demand, by the users that need them: an area while its IOAS has
 * domains (its pages' alias is what the domains map), and each access
 * object pin.  Every user holds its own umem pin of the pages it needs
 * (sio_umem_pin with SIO_UMEM_PIN_NOCHARGE); the aliases of two pins of
 * the same pages reach the same memory (docs/pinning.md).  A page that
 * several users pin counts once: it is charged to RLIMIT_MEMLOCK (in the
 * mode fixed when the range was mapped) when the first pin covers it and
 * uncharged when the last one goes, the kernel's npinned/last_npinned
 * accounting.  The live pins are kept in an interval tree by page index,
 * so the cost is per pin, never per page of the range: a range may be
 * huge (any length up to SIZE_MAX, as in the kernel) and pinned sparsely.
 *
 * The host keeps every live iopt_pages in a list so that MD_CHECK_REFS can
 * tell how many of them pin a page (the kernel reads the page's pin count).
 */
#include <stdlib.h>

#include "iommufd/iommufd_private.h"

struct iopt_pages *iopt_alloc_user_pages(struct sio_iommufd_host *host,
					 uint64_t uptr, uint64_t length,
					 bool writable, enum sio_umem_acct acct,
					 int *err)
{
	uint64_t ps = host->page_size, end, down = uptr & ~(ps - 1);
	struct iopt_pages *pages;

	if (__builtin_add_overflow(uptr, length, &end)) {
		*err = -EOVERFLOW;
		return NULL;
	}
	if (length == 0 || length > SIZE_MAX - ps) {
		*err = -EINVAL;
		return NULL;
	}
	pages = calloc(1, sizeof(*pages));
	if (!pages) {
		*err = -ENOMEM;
		return NULL;
	}
	pages->refcount = 1;
	pages->host = host;
	pages->uptr = down;
	pages->npages = (length + (uptr - down) + ps - 1) / ps;
	pages->writable = writable;
	pages->acct = sio_umem_acct_effective(host->owner, acct);
	pthread_mutex_init(&pages->mutex, NULL);
	pthread_mutex_lock(&host->lock);
	cds_list_add_tail(&pages->host_node, &host->pages_list);
	pthread_mutex_unlock(&host->lock);
	return pages;
}

void iopt_pages_get(struct iopt_pages *pages)
{
	__atomic_add_fetch(&pages->refcount, 1, __ATOMIC_RELAXED);
}

void iopt_pages_put(struct iopt_pages *pages)
{
	struct sio_iommufd_host *host = pages->host;

	if (__atomic_sub_fetch(&pages->refcount, 1, __ATOMIC_ACQ_REL))
		return;
	pthread_mutex_lock(&host->lock);
	cds_list_del(&pages->host_node);
	pthread_mutex_unlock(&host->lock);
	if (pages->npinned)
		sio_err(-EBUSY, "iommufd: pages freed with %zu pinned",
			pages->npinned);
	pthread_mutex_destroy(&pages->mutex);
	free(pages);
}

struct pages_pin_rec {
	struct sio_itree_node node;	/* [first, last] in pages->pins */
	struct sio_umem_pin *pin;
};

/* Pages of [first, last] that no live pin covers.  pages->mutex held. */
static size_t pages_uncovered(struct iopt_pages *pages, size_t first,
			      size_t last)
{
	struct sio_itree_span sp;
	size_t n = 0;

	for (sio_itree_span_first(&sp, &pages->pins, NULL, first, last);
	     !sio_itree_span_done(&sp); sio_itree_span_next(&sp))
		if (sp.is_hole)
			n += sp.last - sp.start + 1;
	return n;
}

/*
 * Where to pin [first, last] from: the alias of a live pin that covers the
 * range in one piece, if there is one, else the program's address.  The
 * kernel's pfn reader works the same way: pages already pinned (in a
 * domain or the pinned xarray) are used as they are, so an IOAS_COPY or a
 * second domain reaches the very pages the first pin got, even after the
 * program unmapped or remapped its view.  Called with pages->mutex held,
 * which keeps the source pin alive while it is aliased.
 */
static uint64_t pin_source(struct iopt_pages *pages, size_t first, size_t last)
{
	uint64_t ps = pages->host->page_size, len = (last - first + 1) * ps;
	struct pages_pin_rec *rec;

	struct sio_itree_node *n;

	sio_itree_for_each(n, &pages->pins, first, last) {
		size_t contig = 0;
		uint64_t host;

		if (n->start > first || n->last < last)
			continue;
		rec = sio_container_of(n, struct pages_pin_rec, node);
		host = sio_umem_pin_host(rec->pin, (first - n->start) * ps,
					 &contig);
		if (host && contig >= len)
			return host;
	}
	return pages->uptr + first * ps;
}

int iopt_pages_pin(struct iopt_pages *pages, size_t first, size_t last,
		   bool write, struct sio_umem_pin **out)
{
	struct sio_iommufd_host *host = pages->host;
	unsigned int flags = SIO_UMEM_PIN_NOCHARGE;
	struct pages_pin_rec *rec;
	struct sio_umem_pin *pin;
	size_t newly;
	int rc;

	if (first > last || last >= pages->npages)
		return -EINVAL;
	/* FOLL_WRITE whenever the range may be written, as the kernel. */
	if (pages->writable || write)
		flags |= SIO_UMEM_PIN_WRITE;
	rec = malloc(sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	pthread_mutex_lock(&pages->mutex);
	rc = sio_umem_pin(host->owner, pin_source(pages, first, last),
			  (last - first + 1) * host->page_size, flags,
			  SIO_UMEM_ACCT_NONE, &pin);
	if (rc)
		goto err_unlock;
	newly = pages_uncovered(pages, first, last);
	if (newly) {
		rc = sio_umem_charge(host->owner, pages->acct, newly);
		if (rc) {
			sio_umem_unpin(pin);
			goto err_unlock;
		}
		pages->npinned += newly;
	}
	rec->node.start = first;
	rec->node.last = last;
	rec->pin = pin;
	sio_itree_insert(&pages->pins, &rec->node);
	pthread_mutex_unlock(&pages->mutex);
	*out = pin;
	return 0;

err_unlock:
	pthread_mutex_unlock(&pages->mutex);
	free(rec);
	return rc;
}

void iopt_pages_unpin(struct iopt_pages *pages, size_t first, size_t last,
		      struct sio_umem_pin *pin)
{
	struct pages_pin_rec *found = NULL;
	struct sio_itree_node *n;
	size_t gone;

	if (!pin)
		return;
	pthread_mutex_lock(&pages->mutex);
	sio_itree_for_each(n, &pages->pins, first, last) {
		struct pages_pin_rec *rec =
			sio_container_of(n, struct pages_pin_rec, node);

		if (rec->pin == pin) {
			found = rec;
			break;
		}
	}
	if (found)
		sio_itree_remove(&pages->pins, &found->node);
	gone = pages_uncovered(pages, first, last);
	if (gone) {
		sio_umem_uncharge(pages->host->owner, pages->acct, gone);
		pages->npinned -= gone;
	}
	/* Unpinned under the mutex: a pin being made from this one's alias
	 * must not see the alias go half-way. */
	sio_umem_unpin(pin);
	pthread_mutex_unlock(&pages->mutex);
	free(found);
}

unsigned int iopt_host_page_refs(struct sio_iommufd_host *host, uint64_t uaddr)
{
	struct iopt_pages *pages;
	unsigned int refs = 0;

	pthread_mutex_lock(&host->lock);
	cds_list_for_each_entry(pages, &host->pages_list, host_node) {
		uint64_t idx;

		if (uaddr < pages->uptr)
			continue;
		idx = (uaddr - pages->uptr) / host->page_size;
		if (idx >= pages->npages)
			continue;
		pthread_mutex_lock(&pages->mutex);
		if (sio_itree_iter_first(&pages->pins, idx, idx))
			refs++;
		pthread_mutex_unlock(&pages->mutex);
	}
	pthread_mutex_unlock(&host->lock);
	return refs;
}
