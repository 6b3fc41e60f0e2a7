/*
 * iopt_pages: one linear range of the program's memory that IOAS areas map
 * (the kernel's pages.c, reduced to what in-process pinning needs).
 *
 * Nothing is pinned when an area is made: like the kernel, pages are pinned
 * on demand, by the users that need them: an area while its IOAS has
 * domains (its pages' alias is what the domains map), and each access
 * object pin.  Every user holds its own umem pin of the pages it needs
 * (sio_umem_pin with SIO_UMEM_PIN_NOCHARGE); the aliases of two pins of
 * the same pages reach the same memory (docs/pinning.md).  A per-page count
 * makes a page that several users pin count once: it is charged to
 * RLIMIT_MEMLOCK (in the mode fixed when the range was mapped) when its
 * count leaves 0 and uncharged when it returns there, the kernel's
 * npinned/last_npinned accounting.
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
	free(pages->pincount);
	pthread_mutex_destroy(&pages->mutex);
	free(pages);
}

/* Count the pages of [first, last] going 0 -> 1 (inc) or 1 -> 0. */
static size_t pages_count(struct iopt_pages *pages, size_t first, size_t last,
			  bool inc)
{
	size_t changed = 0;

	for (size_t i = first; i <= last; i++) {
		if (inc) {
			if (pages->pincount[i]++ == 0)
				changed++;
		} else {
			if (--pages->pincount[i] == 0)
				changed++;
		}
	}
	return changed;
}

int iopt_pages_pin(struct iopt_pages *pages, size_t first, size_t last,
		   bool write, struct sio_umem_pin **out)
{
	struct sio_iommufd_host *host = pages->host;
	unsigned int flags = SIO_UMEM_PIN_NOCHARGE;
	struct sio_umem_pin *pin;
	size_t newly;
	int rc;

	if (first > last || last >= pages->npages)
		return -EINVAL;
	/* FOLL_WRITE whenever the range may be written, as the kernel. */
	if (pages->writable || write)
		flags |= SIO_UMEM_PIN_WRITE;
	rc = sio_umem_pin(host->owner, pages->uptr + first * host->page_size,
			  (last - first + 1) * host->page_size, flags,
			  SIO_UMEM_ACCT_NONE, &pin);
	if (rc)
		return rc;

	pthread_mutex_lock(&pages->mutex);
	if (!pages->pincount) {
		pages->pincount = calloc(pages->npages, sizeof(*pages->pincount));
		if (!pages->pincount) {
			pthread_mutex_unlock(&pages->mutex);
			sio_umem_unpin(pin);
			return -ENOMEM;
		}
	}
	newly = pages_count(pages, first, last, true);
	if (newly) {
		rc = sio_umem_charge(host->owner, pages->acct, newly);
		if (rc) {
			pages_count(pages, first, last, false);
			pthread_mutex_unlock(&pages->mutex);
			sio_umem_unpin(pin);
			return rc;
		}
		pages->npinned += newly;
	}
	pthread_mutex_unlock(&pages->mutex);
	*out = pin;
	return 0;
}

void iopt_pages_unpin(struct iopt_pages *pages, size_t first, size_t last,
		      struct sio_umem_pin *pin)
{
	size_t gone;

	if (!pin)
		return;
	pthread_mutex_lock(&pages->mutex);
	gone = pages_count(pages, first, last, false);
	if (gone) {
		sio_umem_uncharge(pages->host->owner, pages->acct, gone);
		pages->npinned -= gone;
	}
	pthread_mutex_unlock(&pages->mutex);
	sio_umem_unpin(pin);
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
		if (pages->pincount && pages->pincount[idx])
			refs++;
		pthread_mutex_unlock(&pages->mutex);
	}
	pthread_mutex_unlock(&host->lock);
	return refs;
}
