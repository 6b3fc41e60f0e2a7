/*
 * iopt_pages: one linear range of memory that IOAS areas map (the kernel's
 * pages.c, reduced to what in-process pinning needs).  The range is of one
 * of three kinds: the program's addresses (IOAS_MAP), a memory file by
 * offset (IOAS_MAP_FILE: a memfd, shmem or hugetlbfs file, reached through
 * a reference to the file, never through the program's mappings of it) or
 * a dmabuf's memory (dmabuf.c).  Everything above pins through the same
 * struct sio_umem_pin whatever the kind.
 *
 * Nothing is pinned when an area is made: like the kernel, pages are pinned
 * on demand, by the users that need them: an area while its IOAS has
 * domains (its pages' alias is what the domains map), and each access
 * object pin.  Every user holds its own umem pin of the pages it needs
 * (sio_umem_pin or sio_umem_pin_file with SIO_UMEM_PIN_NOCHARGE); the
 * aliases of two pins of the same pages reach the same memory
 * (docs/pinning.md).  A page that several users pin counts once: it is
 * charged to RLIMIT_MEMLOCK (in the mode fixed when the range was mapped)
 * when the first pin covers it and uncharged when the last one goes, the
 * kernel's npinned/last_npinned accounting; file pages are charged like
 * any others, a dmabuf's are not charged at all.  The live pins are kept
 * in an interval tree by page index, so the cost is per pin, never per
 * page of the range: a range may be huge (any length up to SIZE_MAX, as in
 * the kernel) and pinned sparsely.
 *
 * The host keeps the iopt_pages that something ever pinned in a list so
 * that MD_CHECK_REFS can tell how many of them pin a page (the kernel reads
 * the page's pin count).  One that nothing pinned cannot count for a page,
 * so it joins the list at its first pin, not when it is made: a map
 * without a domain takes no host lock.
 *
 * Pages cache.  A program that maps and unmaps in a loop would allocate
 * and free an iopt_pages per pair.  When an area goes and it held the only
 * reference to a USER range that no pin covers, the range goes on its
 * table's short list instead (iopt->lock, like the area cache of
 * io_pagetable.c), staying in the host's list if it is there (the next
 * pin then takes no host lock either), and the next IOAS_MAP of that
 * table takes it back and sets it up as new.  Nothing of the old mapping
 * survives: no pin, no charge, no page counted (npinned 0, pins empty);
 * the owner reference is kept only when the new map's owner is the same.
 * A thread with fault injection armed allocates as before, so every
 * allocation site still counts (util/fail.h).
 */
#include <stdlib.h>

#include "iommufd/iommufd_private.h"
#include "umem/remote.h"
#include "util/fail.h"

/* The fields of a new (or reused) range that every kind sets; owner is a
 * reference the pages take over. */
static void pages_setup(struct iopt_pages *pages, struct sio_iommufd_host *host,
			struct sio_umem_owner *owner,
			enum iopt_pages_kind kind, uint64_t start_byte,
			uint64_t length, bool writable, enum sio_umem_acct acct)
{
	uint64_t ps = host->page_size;

	pages->refcount = 1;
	pages->host = host;
	pages->owner = owner;
	pages->kind = kind;
	pages->npages = (length + start_byte + ps - 1) >> __builtin_ctzll(ps);
	pages->writable = writable;
	pages->acct = sio_umem_acct_effective(pages->owner, acct);
}

/* iopt_alloc_pages(): the part every kind shares. */
static struct iopt_pages *pages_alloc(struct sio_iommufd_host *host,
				      enum iopt_pages_kind kind,
				      uint64_t start_byte, uint64_t length,
				      bool writable, enum sio_umem_acct acct,
				      int *err)
{
	uint64_t ps = host->page_size;
	struct iopt_pages *pages;

	/* The page count below must not overflow. */
	if (length == 0 || length > SIZE_MAX - ps) {
		*err = -EINVAL;
		return NULL;
	}
	pages = sio_calloc(1, sizeof(*pages));
	if (!pages) {
		*err = -ENOMEM;
		return NULL;
	}
	pages_setup(pages, host, sio_umem_owner_resolve(host->owner), kind,
		    start_byte, length, writable, acct);
	pthread_mutex_init(&pages->mutex, NULL);
	CDS_INIT_LIST_HEAD(&pages->dmabuf_tracks);
	return pages;
}

/* Enter pages in the host's list before its first pin (MD_CHECK_REFS).
 * Never under pages->mutex: host->lock comes first. */
static void pages_list(struct iopt_pages *pages)
{
	struct sio_iommufd_host *host = pages->host;

	if (__atomic_load_n(&pages->listed, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&host->lock);
	if (!pages->listed) {
		cds_list_add_tail(&pages->host_node, &host->pages_list);
		__atomic_store_n(&pages->listed, true, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&host->lock);
}

static void pages_unlist(struct iopt_pages *pages)
{
	struct sio_iommufd_host *host = pages->host;

	if (!__atomic_load_n(&pages->listed, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&host->lock);
	cds_list_del(&pages->host_node);
	__atomic_store_n(&pages->listed, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&host->lock);
}

/* A live pin of pages, in pages->pins.  The record kept from the last
 * unpin (pages->spare_rec) holds in pin the struct of the umem pin it
 * recorded, if it was the last user of it (sio_umem_unpin_keep), for the
 * next pin of the range: no allocation and no atomic for either. */
struct pages_pin_rec {
	struct sio_itree_node node;	/* [first, last] in pages->pins */
	struct sio_umem_pin *pin;
	size_t base;			/* page index where pin's alias starts */
	/* NULL, or (after iopt_pages_split_pin) how many records share
	 * pin: its alias goes with the last of them. */
	unsigned int *sharers;
};

static void pages_free(struct iopt_pages *pages)
{
	struct pages_pin_rec *spare = pages->spare_rec;

	if (spare)
		sio_umem_pin_kept_free(spare->pin);
	free(spare);
	pthread_mutex_destroy(&pages->mutex);
	free(pages);
}

struct iopt_pages *iopt_alloc_user_pages(struct sio_iommufd_host *host,
					 uint64_t uptr, uint64_t length,
					 bool writable, enum sio_umem_acct acct,
					 int *err)
{
	uint64_t down = uptr & ~(host->page_size - 1), end;
	struct iopt_pages *pages;

	if (__builtin_add_overflow(uptr, length, &end)) {
		*err = -EOVERFLOW;
		return NULL;
	}
	pages = pages_alloc(host, IOPT_PAGES_USER, uptr - down, length,
			    writable, acct, err);
	if (pages)
		pages->uptr = down;
	return pages;
}

struct iopt_pages *iopt_user_pages_get(struct io_pagetable *iopt,
				       uint64_t uptr, uint64_t length,
				       bool writable, enum sio_umem_acct acct,
				       int *err)
{
	struct sio_iommufd_host *host = iopt->host;
	struct iopt_pages *pages = iopt->pages_cache;
	struct sio_umem_owner *owner;
	uint64_t down = uptr & ~(host->page_size - 1), end;

	if (!pages || sio_fail_nth_left)
		return iopt_alloc_user_pages(host, uptr, length, writable,
					     acct, err);
	/* The checks of iopt_alloc_user_pages(), in its order. */
	if (__builtin_add_overflow(uptr, length, &end)) {
		*err = -EOVERFLOW;
		return NULL;
	}
	if (length == 0 || length > SIZE_MAX - host->page_size) {
		*err = -EINVAL;
		return NULL;
	}
	iopt->pages_cache = pages->cache_next;
	iopt->pages_cached--;
	pages->cache_next = NULL;
	owner = sio_umem_owner_peek(host->owner);
	if (owner != pages->owner) {
		sio_umem_owner_put(pages->owner);
		sio_umem_owner_get(owner);
	}
	pages_setup(pages, host, owner, IOPT_PAGES_USER, uptr - down, length,
		    writable, acct);
	pages->uptr = down;
	return pages;
}

void iopt_pages_release(struct io_pagetable *iopt, struct iopt_pages *pages)
{
	/* Only the caller (an area of iopt, iopt->lock held) holds it: no
	 * one can take a reference or a pin meanwhile.  Pins are made and
	 * dropped under iopt->lock too, so pins and npinned are stable. */
	if (pages->kind != IOPT_PAGES_USER ||
	    __atomic_load_n(&pages->refcount, __ATOMIC_ACQUIRE) != 1 ||
	    !sio_itree_empty(&pages->pins) || pages->npinned ||
	    iopt->pages_cached >= IOPT_PAGES_CACHE || sio_fail_nth_left) {
		iopt_pages_put(pages);
		return;
	}
	/* It stays in the host's list, if it is: iopt_host_page_refs()
	 * reads nothing of a range without pins. */
	pages->refcount = 0;
	pages->cache_next = iopt->pages_cache;
	iopt->pages_cache = pages;
	iopt->pages_cached++;
}

void iopt_pages_cache_drain(struct io_pagetable *iopt)
{
	struct iopt_pages *pages;

	while ((pages = iopt->pages_cache)) {
		iopt->pages_cache = pages->cache_next;
		pages_unlist(pages);
		sio_umem_owner_put(pages->owner);
		pages_free(pages);
	}
	iopt->pages_cached = 0;
}

/*
 * iopt_alloc_file_pages(): the kernel takes a reference to the file and
 * checks nothing else; whether it is a memory file and long enough is
 * found when its pages are pinned (-EINVAL then).
 */
struct iopt_pages *iopt_alloc_file_pages(struct sio_iommufd_host *host, int fd,
					 uint64_t start, uint64_t length,
					 bool writable, enum sio_umem_acct acct,
					 int *err)
{
	uint64_t start_byte = start % host->page_size;
	struct sio_umem_file *file;
	struct iopt_pages *pages;
	int rc;

	rc = sio_umem_file_get(host->owner, fd, &file);
	if (rc) {
		*err = rc;
		return NULL;
	}
	pages = pages_alloc(host, IOPT_PAGES_FILE, start_byte, length,
			    writable, acct, err);
	if (!pages) {
		sio_umem_file_put(file);
		return NULL;
	}
	pages->file = file;
	pages->start = start - start_byte;
	return pages;
}

struct iopt_pages *iopt_pages_alloc_dmabuf(struct sio_iommufd_host *host,
					   uint64_t start, uint64_t length,
					   bool writable, int *err)
{
	uint64_t start_byte = start % host->page_size;
	struct iopt_pages *pages;

	/* dmabuf memory is not pinned-page accounted. */
	pages = pages_alloc(host, IOPT_PAGES_DMABUF, start_byte, length,
			    writable, SIO_UMEM_ACCT_NONE, err);
	if (pages)
		pages->start = start - start_byte;
	return pages;
}

uint64_t iopt_pages_base(const struct iopt_pages *pages)
{
	return pages->kind == IOPT_PAGES_USER ? pages->uptr : pages->start;
}

void iopt_pages_get(struct iopt_pages *pages)
{
	__atomic_add_fetch(&pages->refcount, 1, __ATOMIC_RELAXED);
}

void iopt_pages_put(struct iopt_pages *pages)
{
	if (__atomic_sub_fetch(&pages->refcount, 1, __ATOMIC_ACQ_REL))
		return;
	pages_unlist(pages);
	if (pages->npinned)
		sio_err(-EBUSY, "iommufd: pages freed with %zu pinned",
			pages->npinned);
	if (pages->dmabuf)
		iopt_dmabuf_release_pages(pages);
	sio_umem_file_put(pages->file);
	sio_umem_owner_put(pages->owner);
	pages_free(pages);
}

/* Pages of [first, last] that no live pin covers.  pages->mutex held. */
static size_t pages_uncovered(struct iopt_pages *pages, size_t first,
			      size_t last)
{
	struct sio_itree_span sp;
	size_t n = 0;

	/* No other pin: all of them (a range pinned once, the common case). */
	if (sio_itree_empty(&pages->pins))
		return last - first + 1;
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
		host = sio_umem_pin_host(rec->pin, (first - rec->base) * ps,
					 &contig);
		if (host && contig >= len)
			return host;
	}
	return pages->uptr + first * ps;
}

/* A new umem pin of pages [first, last], in room if not NULL (a kept
 * struct, still the caller's on failure).  pages->mutex held. */
static int pages_umem_pin(struct iopt_pages *pages, size_t first, size_t last,
			  unsigned int flags, struct sio_umem_pin *room,
			  struct sio_umem_pin **pin)
{
	struct sio_iommufd_host *host = pages->host;
	uint64_t len = (last - first + 1) * host->page_size;

	if (pages->kind == IOPT_PAGES_USER) {
		uint64_t src = pin_source(pages, first, last);

		/* Another process's pages (the shared mode's server) are
		 * not at an alias address of ours that the owner knows:
		 * pin them by their address again, which maps the same
		 * memory files, and say they are pinned already, so that
		 * a process that has gone does not make it fail. */
		if (sio_umem_owner_is_remote(pages->owner)) {
			uint64_t uaddr = pages->uptr + first * host->page_size;

			if (src != uaddr)
				flags |= SIO_UMEM_PIN_HELD;
			src = uaddr;
		}
		return sio_umem_pin_in(pages->owner, room, src, len, flags,
				       SIO_UMEM_ACCT_NONE, pin);
	}
	/* The file is the source: the pin never depends on a mapping. */
	return sio_umem_pin_file(pages->file,
				 pages->start + first * host->page_size, len,
				 flags, SIO_UMEM_ACCT_NONE, pin);
}

static int pages_pin(struct iopt_pages *pages, size_t first, size_t last,
		     bool write, struct sio_umem_pin **out)
{
	unsigned int flags = SIO_UMEM_PIN_NOCHARGE;
	struct sio_umem_pin *pin, *room = NULL;
	struct pages_pin_rec *rec;
	size_t newly;
	int rc;

	if (first > last || last >= pages->npages)
		return sio_err(-EINVAL, "pages: pin of pages %zu-%zu outside "
			       "the %zu pages", first, last, pages->npages);
	/* FOLL_WRITE whenever the range may be written, as the kernel. */
	if (pages->writable || write)
		flags |= SIO_UMEM_PIN_WRITE;
	pages_list(pages);
	pthread_mutex_lock(&pages->mutex);
	/* The record of the last unpin, if kept (not with fault injection
	 * armed: the allocation site must count). */
	rec = pages->spare_rec;
	if (rec && !sio_fail_nth_left) {
		pages->spare_rec = NULL;
		room = rec->pin;
	} else {
		rec = sio_malloc(sizeof(*rec));
		if (!rec) {
			pthread_mutex_unlock(&pages->mutex);
			return sio_err(-ENOMEM,
				       "pages: no memory for a pin record");
		}
	}
	rc = pages_umem_pin(pages, first, last, flags, room, &pin);
	if (rc)
		goto err_unlock;
	/* Not used (a file's pin): not kept either. */
	if (room && pin != room)
		sio_umem_pin_kept_free(room);
	/* A dmabuf is not pinned memory: nothing to count or charge. */
	newly = pages->kind == IOPT_PAGES_DMABUF ?
			0 : pages_uncovered(pages, first, last);
	if (newly) {
		rc = sio_umem_charge(pages->owner, pages->acct, newly);
		if (rc) {
			sio_umem_unpin(pin);
			room = NULL;
			goto err_unlock;
		}
		pages->npinned += newly;
	}
	rec->node.start = first;
	rec->node.last = last;
	rec->pin = pin;
	rec->base = first;
	rec->sharers = NULL;
	sio_itree_insert(&pages->pins, &rec->node);
	pthread_mutex_unlock(&pages->mutex);
	*out = pin;
	return 0;

err_unlock:
	/* The record and the struct kept go back as they were. */
	if (room && !pages->spare_rec) {
		rec->pin = room;
		pages->spare_rec = rec;
		rec = NULL;
	} else {
		sio_umem_pin_kept_free(room);
	}
	pthread_mutex_unlock(&pages->mutex);
	free(rec);
	return rc;
}

int iopt_pages_pin(struct iopt_pages *pages, size_t first, size_t last,
		   bool write, struct sio_umem_pin **out)
{
	/* iopt_area_add_access(), iopt_pages_rw_access(): a dmabuf is only
	 * for domains. */
	if (pages->kind == IOPT_PAGES_DMABUF)
		return sio_err(-EINVAL, "pages: dma-buf memory cannot be "
			       "pinned for an access");
	return pages_pin(pages, first, last, write, out);
}

int iopt_pages_pin_domain(struct iopt_pages *pages, size_t first, size_t last,
			  struct sio_umem_pin **out)
{
	return pages_pin(pages, first, last, false, out);
}

void iopt_pages_unpin(struct iopt_pages *pages, size_t first, size_t last,
		      struct sio_umem_pin *pin)
{
	struct pages_pin_rec *found = NULL;
	struct sio_itree_node *n;
	bool last_user = true;
	size_t gone;

	if (!pin)
		return;
	pthread_mutex_lock(&pages->mutex);
	/* The only pin (a range pinned once) is the root: no search. */
	n = pages->pins.count == 1 ? pages->pins.root : NULL;
	if (n && sio_container_of(n, struct pages_pin_rec, node)->pin == pin &&
	    n->start <= last && n->last >= first) {
		found = sio_container_of(n, struct pages_pin_rec, node);
	} else {
		sio_itree_for_each(n, &pages->pins, first, last) {
			struct pages_pin_rec *rec =
				sio_container_of(n, struct pages_pin_rec, node);

			if (rec->pin == pin) {
				found = rec;
				break;
			}
		}
	}
	if (found) {
		sio_itree_remove(&pages->pins, &found->node);
		if (found->sharers && --*found->sharers)
			last_user = false;
		else
			free(found->sharers);
	}
	gone = pages->kind == IOPT_PAGES_DMABUF ?
		       0 : pages_uncovered(pages, first, last);
	if (gone) {
		sio_umem_uncharge(pages->owner, pages->acct, gone);
		pages->npinned -= gone;
	}
	/* Unpinned under the mutex: a pin being made from this one's alias
	 * must not see the alias go half-way.  The record kept for the next
	 * pin keeps the pin's struct too, when this was its last user. */
	if (found && !pages->spare_rec) {
		found->pin = last_user && pages->kind == IOPT_PAGES_USER ?
				     sio_umem_unpin_keep(pin) : NULL;
		if (last_user && pages->kind != IOPT_PAGES_USER)
			sio_umem_unpin(pin);
		pages->spare_rec = found;
		found = NULL;
	} else if (last_user) {
		sio_umem_unpin(pin);
	}
	pthread_mutex_unlock(&pages->mutex);
	free(found);
}

/*
 * The VFIO type1 cut (iopt_cut_iova): the pin of [first, last] becomes two
 * pins, of [first, mid - 1] and [mid, last], that share its alias, because
 * the domains keep mapping the alias addresses they were given.  Each part
 * is then unpinned on its own: its pages are uncharged and no longer count
 * as pinned (MD_CHECK_REFS) when it goes, as the kernel's split areas do,
 * but the alias mapping stays until the last part is unpinned.
 */
int iopt_pages_split_pin(struct iopt_pages *pages, size_t first, size_t last,
			 size_t mid, struct sio_umem_pin *pin)
{
	struct pages_pin_rec *rec = NULL, *rhs;
	struct sio_itree_node *n;
	int rc;

	if (mid <= first || mid > last)
		return sio_err(-EINVAL, "pages: split of pages %zu-%zu at %zu",
			       first, last, mid);
	rhs = sio_malloc(sizeof(*rhs));
	if (!rhs)
		return sio_err(-ENOMEM, "pages: no memory to split a pin");
	pthread_mutex_lock(&pages->mutex);
	sio_itree_for_each(n, &pages->pins, first, last) {
		struct pages_pin_rec *r =
			sio_container_of(n, struct pages_pin_rec, node);

		if (r->pin == pin && n->start == first && n->last == last) {
			rec = r;
			break;
		}
	}
	if (!rec) {
		rc = sio_err(-ENOENT, "pages: no pin of exactly pages %zu-%zu "
			     "to split", first, last);
		goto err_unlock;
	}
	if (!rec->sharers) {
		rec->sharers = sio_malloc(sizeof(*rec->sharers));
		if (!rec->sharers) {
			rc = sio_err(-ENOMEM, "pages: no memory to split a pin");
			goto err_unlock;
		}
		*rec->sharers = 1;
	}
	(*rec->sharers)++;
	sio_itree_remove(&pages->pins, &rec->node);
	rec->node.last = mid - 1;
	sio_itree_insert(&pages->pins, &rec->node);
	rhs->node.start = mid;
	rhs->node.last = last;
	rhs->pin = pin;
	rhs->base = rec->base;
	rhs->sharers = rec->sharers;
	sio_itree_insert(&pages->pins, &rhs->node);
	pthread_mutex_unlock(&pages->mutex);
	return 0;

err_unlock:
	pthread_mutex_unlock(&pages->mutex);
	free(rhs);
	return rc;
}

/* The index of the page of pages that the program's uaddr is, if any. */
static bool page_index_of(struct iopt_pages *pages, uint64_t uaddr,
			  uint64_t *idx)
{
	uint64_t ps = pages->host->page_size, off;

	switch (pages->kind) {
	case IOPT_PAGES_USER:
		if (uaddr < pages->uptr)
			return false;
		*idx = (uaddr - pages->uptr) / ps;
		break;
	case IOPT_PAGES_FILE:
		/* The same page if the program maps this file there. */
		if (sio_umem_file_offset(pages->file, uaddr, &off) ||
		    off < pages->start)
			return false;
		*idx = (off - pages->start) / ps;
		break;
	default:
		return false;	/* a dmabuf is never the program's memory */
	}
	return *idx < pages->npages;
}

unsigned int iopt_host_page_refs(struct sio_iommufd_host *host, uint64_t uaddr)
{
	struct iopt_pages *pages;
	unsigned int refs = 0;

	pthread_mutex_lock(&host->lock);
	cds_list_for_each_entry(pages, &host->pages_list, host_node) {
		uint64_t idx;

		/* Pins first: a range in its table's cache (no pin) may be
		 * set up for a new map meanwhile, and is read only once a
		 * pin, made under the mutex, says it is in use. */
		pthread_mutex_lock(&pages->mutex);
		/* In the shared mode's server, only the caller's mappings:
		 * the same address in another process is another page. */
		if (!sio_itree_empty(&pages->pins) &&
		    page_index_of(pages, uaddr, &idx) &&
		    !(sio_umem_current() && pages->owner != sio_umem_current()) &&
		    sio_itree_iter_first(&pages->pins, idx, idx))
			refs++;
		pthread_mutex_unlock(&pages->mutex);
	}
	pthread_mutex_unlock(&host->lock);
	return refs;
}

int iopt_pages_fill_domain(struct iopt_area *area, struct sio_domain *domain,
			   iopt_area_map_fn map, iopt_area_unmap_fn unmap)
{
	if (area->pages->kind == IOPT_PAGES_DMABUF)
		return iopt_dmabuf_fill_domain(area, domain, map, unmap);
	return map(area, domain);
}

void iopt_pages_unfill_domain(struct iopt_area *area,
			      struct sio_domain *domain,
			      iopt_area_unmap_fn unmap)
{
	if (area->pages->kind == IOPT_PAGES_DMABUF)
		iopt_dmabuf_unfill_domain(area, domain, unmap);
	else
		unmap(area, domain);
}
