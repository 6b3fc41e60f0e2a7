/*
 * The io_pagetable: an IOAS's IOVA space (the kernel's io_pagetable.c).
 *
 * Three interval trees describe it: areas (IOVA ranges backed by an
 * iopt_pages slice), allowed ranges (where automatic IOVA allocation may
 * look; everywhere when empty) and reserved ranges (never mapped: outside
 * a domain's aperture, a device's reserved regions, ADD_RESERVED), each
 * reserved range tagged with its owner so it goes away with it.  Every
 * area is mapped into every domain of the table; a domain added later is
 * filled with all areas, one removed is emptied.  While the table has
 * domains each area holds a pin of its pages and maps that pin's alias
 * (sio_map's "physical" addresses are alias host addresses); the pin is
 * dropped with the area or with the last domain.
 *
 * The IOVA alignment is the largest minimum page size of the domains and
 * the accesses (1 when there are none, PAGE_SIZE when huge pages are
 * disabled); adding a domain or an access that would misalign an existing
 * area fails with -EADDRINUSE, one whose page size exceeds PAGE_SIZE with
 * -EINVAL.
 *
 * VFIO type1 compatibility may cut an area in two (iopt_cut_iova) so
 * that part of a mapping can be unmapped; the parts share the area's pages
 * and domain pin.
 *
 * One lock (iopt->lock, a biased lock: util/biaslock.h) protects the whole
 * table; the kernel splits it into iova_rwsem and domains_rwsem.  A map or
 * an unmap holds it once.  Unmapping an area that access objects pin
 * drops the lock to call their unmap callbacks and retries, as
 * iopt_unmap_iova_range() does.
 */
#include <stdlib.h>
#include <string.h>

#include "iommufd/dmabuf.h"
#include "iommufd/iommufd_private.h"
#include "softiommu/mmio.h"

#define HPAGE_SIZE (2ull << 20)

static uint64_t area_iova(const struct iopt_area *a)
{
	return a->node.start;
}

static uint64_t area_last(const struct iopt_area *a)
{
	return a->node.last;
}

static uint64_t area_length(const struct iopt_area *a)
{
	return a->node.last - a->node.start + 1;
}

static size_t area_first_index(const struct iopt_area *a)
{
	return a->start_byte / a->iopt->host->page_size;
}

static size_t area_last_index(const struct iopt_area *a)
{
	return (a->start_byte + area_length(a) - 1) / a->iopt->host->page_size;
}

static struct iopt_area *area_first(struct io_pagetable *iopt, uint64_t start,
				    uint64_t last)
{
	struct sio_itree_node *n = sio_itree_iter_first(&iopt->area_itree,
							start, last);

	return n ? sio_container_of(n, struct iopt_area, node) : NULL;
}

static struct iopt_area *area_next(struct io_pagetable *iopt,
				   struct iopt_area *a, uint64_t start,
				   uint64_t last)
{
	struct sio_itree_node *n = sio_itree_iter_next(&iopt->area_itree,
						       &a->node, start, last);

	return n ? sio_container_of(n, struct iopt_area, node) : NULL;
}

#define for_each_area(a, iopt, s, l)                                          \
	for ((a) = area_first((iopt), (s), (l)); (a);                         \
	     (a) = area_next((iopt), (a), (s), (l)))

static uint64_t ffs64(uint64_t v)
{
	return v ? 1ull << __builtin_ctzll(v) : 0;
}

void iopt_init_table(struct io_pagetable *iopt, struct sio_iommufd_host *host)
{
	iopt->host = host;
	sio_biaslock_init(&iopt->lock);
	iopt->area_itree = (struct sio_itree)SIO_ITREE_INIT;
	iopt->allowed_itree = (struct sio_itree)SIO_ITREE_INIT;
	iopt->reserved_itree = (struct sio_itree)SIO_ITREE_INIT;
	CDS_INIT_LIST_HEAD(&iopt->accesses);
	/* Software tables accept any IOVA, unaligned. */
	iopt->iova_alignment = 1;
	iopt->free_valid = false;
	iopt->area_hint = NULL;
}

static void free_tree(struct sio_itree *t, size_t offset)
{
	struct sio_itree_node *n;

	while ((n = sio_itree_iter_first(t, 0, UINT64_MAX))) {
		sio_itree_remove(t, n);
		free((char *)n - offset);
	}
}

/*
 * Area cache.  A program that maps and unmaps in a loop (a VMM's DMA
 * mappings, a driver's buffers) would malloc and free one area per pair:
 * a tenth of the pair's cost.  An unmapped area goes on its table's short
 * list instead (iopt->lock), linked through its pages pointer, and the
 * next map takes it back and clears it as calloc would.  A thread with
 * fault injection armed allocates as before, so every allocation site
 * still counts (util/fail.h).
 */
#define IOPT_AREA_CACHE 8

/* An area with nothing of a former use; iopt->lock held. */
static inline struct iopt_area *area_alloc(struct io_pagetable *iopt)
{
	struct iopt_area *area = iopt->area_cache;

	if (!area || sio_fail_nth_left)
		return sio_calloc(1, sizeof(*area));
	iopt->area_cache = (struct iopt_area *)area->pages;
	iopt->area_cached--;
	/* What area_init() does not set, field by field: clearing the whole
	 * struct is a "rep stos" whose start-up cost showed in profiles. */
	area->pages = NULL;
	area->dom_pin = NULL;
	area->dom_pin_first = 0;
	area->num_accesses = 0;
	area->num_locks = 0;
	area->prevent_access = false;
	return area;
}

/* iopt->lock held. */
static void area_free(struct io_pagetable *iopt, struct iopt_area *area)
{
	if (!area)
		return;
	if (iopt->area_cached >= IOPT_AREA_CACHE) {
		free(area);
		return;
	}
	area->pages = (struct iopt_pages *)iopt->area_cache;
	iopt->area_cache = area;
	iopt->area_cached++;
}

void iopt_destroy_table(struct io_pagetable *iopt)
{
	struct iopt_area *area;

	while ((area = iopt->area_cache)) {
		iopt->area_cache = (struct iopt_area *)area->pages;
		free(area);
	}
	iopt->area_cached = 0;
	iopt_pages_cache_drain(iopt);
	free_tree(&iopt->allowed_itree, offsetof(struct iopt_allowed, node));
	free_tree(&iopt->reserved_itree, offsetof(struct iopt_reserved, node));
	if (!sio_itree_empty(&iopt->area_itree) || iopt->ndomains)
		sio_err(-EBUSY, "iommufd: IOAS destroyed while in use");
	free(iopt->domains);
}

/* ------------------------------------------------------------------ */
/* Filling domains                                                      */
/* ------------------------------------------------------------------ */

static int area_pin_for_domains(struct iopt_area *area)
{
	int rc;

	if (area->dom_pin)
		return 0;
	rc = iopt_pages_pin_domain(area->pages, area_first_index(area),
				   area_last_index(area), &area->dom_pin);
	if (rc)
		return rc;
	area->dom_pin_first = area_first_index(area);
	return 0;
}

static void area_unpin_for_domains(struct iopt_area *area)
{
	if (!area->dom_pin)
		return;
	/* Not from dom_pin_first: after a cut the pin starts before us. */
	iopt_pages_unpin(area->pages, area_first_index(area),
			 area_last_index(area), area->dom_pin);
	area->dom_pin = NULL;
}

static int area_map_domain(struct iopt_area *area, struct sio_domain *domain)
{
	uint64_t ps = area->iopt->host->page_size;
	uint64_t off = area->start_byte - area->dom_pin_first * ps;
	uint64_t iova = area_iova(area), left = area_length(area);
	int rc;

	while (left) {
		size_t contig = 0;
		uint64_t host = sio_umem_pin_host(area->dom_pin, off, &contig);
		uint64_t n = contig < left ? contig : left;

		if (!host || !n) {
			rc = sio_err(-EFAULT,
				     "a pinned page has no host address");
			goto err;
		}
		if (area->iopt->disable_large_pages && n > ps - (off % ps))
			n = ps - (off % ps);
		rc = sio_map(domain, iova, host, n, area->iommu_prot);
		if (rc)
			goto err;
		iova += n;
		off += n;
		left -= n;
	}
	return 0;
err:
	if (iova != area_iova(area))
		sio_unmap(domain, area_iova(area), iova - area_iova(area));
	return rc;
}

static void area_unmap_domain(struct iopt_area *area,
			      struct sio_domain *domain)
{
	sio_unmap(domain, area_iova(area), area_length(area));
}

/* Whether the pages go into the domain is theirs to say (a revoked dmabuf
 * does not). */
static int area_fill_domain(struct iopt_area *area, struct sio_domain *domain)
{
	return iopt_pages_fill_domain(area, domain, area_map_domain,
				      area_unmap_domain);
}

static void area_unfill_domain(struct iopt_area *area,
			       struct sio_domain *domain)
{
	iopt_pages_unfill_domain(area, domain, area_unmap_domain);
}

/* Map a new area into every domain; undo everything on failure. */
static int area_fill_domains(struct io_pagetable *iopt, struct iopt_area *area)
{
	unsigned int i;
	int rc;

	if (!iopt->ndomains)
		return 0;
	rc = area_pin_for_domains(area);
	if (rc)
		return rc;
	for (i = 0; i < iopt->ndomains; i++) {
		rc = area_fill_domain(area, iopt->domains[i]);
		if (rc)
			goto err;
	}
	return 0;
err:
	while (i--)
		area_unfill_domain(area, iopt->domains[i]);
	area_unpin_for_domains(area);
	return rc;
}

static void area_unfill_domains(struct io_pagetable *iopt,
				struct iopt_area *area)
{
	for (unsigned int i = 0; i < iopt->ndomains; i++)
		area_unfill_domain(area, iopt->domains[i]);
	area_unpin_for_domains(area);
}

/* ------------------------------------------------------------------ */
/* IOVA allocation and checks                                           */
/* ------------------------------------------------------------------ */

/* The page size is a power of two: the map path masks and shifts rather
 * than dividing by it. */
static inline uint64_t pg_offset(uint64_t x, uint64_t ps)
{
	return x & (ps - 1);
}

static inline uint64_t pg_index(uint64_t x, uint64_t ps)
{
	return x >> __builtin_ctzll(ps);
}

static bool check_range(uint64_t *start, uint64_t last, uint64_t length,
			uint64_t align, uint64_t page_offset)
{
	uint64_t aligned;

	if (__builtin_add_overflow(*start, align - 1, &aligned))
		return false;
	aligned &= ~(align - 1);
	aligned |= page_offset;
	if (aligned >= last || last - aligned < length - 1)
		return false;
	*start = aligned;
	return true;
}

/*
 * Find free IOVA for length bytes (iopt_alloc_iova): keep the alignment of
 * the user address (up to a huge page) to give domains large pages; never
 * returns IOVA 0; searches the allowed ranges (all of [PAGE_SIZE,
 * ULONG_MAX - PAGE_SIZE] when none) for a hole of reserved and used IOVA.
 */
static int iopt_alloc_iova(struct io_pagetable *iopt, uint64_t *iova,
			   uint64_t addr, uint64_t length)
{
	uint64_t ps = iopt->host->page_size;
	uint64_t page_offset = pg_offset(addr, ps), align, lo = ps, hi = UINT64_MAX - ps;
	struct sio_itree_span allowed, used;

	if (length == 0 || length >= UINT64_MAX / 2)
		return sio_err(-EOVERFLOW, "length 0 or too large");
	align = length <= 1 ? 1 : 1ull << (64 - __builtin_clzll(length - 1));
	if (addr && ffs64(addr) < align)
		align = ffs64(addr);
	if (align >= HPAGE_SIZE)
		align = HPAGE_SIZE;
	if (align < iopt->iova_alignment)
		return sio_err(-EINVAL,
			       "alignment below the IOAS's %#llx", (unsigned long long)iopt->iova_alignment);

	for (sio_itree_span_first(&allowed, &iopt->allowed_itree, NULL, lo, hi);
	     !sio_itree_span_done(&allowed); sio_itree_span_next(&allowed)) {
		uint64_t a_start = allowed.start, a_last = allowed.last;

		if (sio_itree_empty(&iopt->allowed_itree)) {
			a_start = lo;
			a_last = hi;
		} else if (allowed.is_hole) {
			continue;
		}
		if (!check_range(&a_start, a_last, length, align, page_offset))
			continue;
		for (sio_itree_span_first(&used, &iopt->reserved_itree,
					  &iopt->area_itree, a_start, a_last);
		     !sio_itree_span_done(&used); sio_itree_span_next(&used)) {
			uint64_t h = used.start;

			if (!used.is_hole)
				continue;
			if (!check_range(&h, used.last, length, align,
					 page_offset))
				continue;
			*iova = h;
			return 0;
		}
		if (sio_itree_empty(&iopt->allowed_itree))
			break;
	}
	return sio_err(-ENOSPC, "no free IOVA range of that length");
}

/* Inlined: the map path's hot checks, with their one caller. */
static inline __attribute__((always_inline)) int
iopt_check_iova(struct io_pagetable *iopt, uint64_t iova, uint64_t length)
{
	uint64_t last;

	if (iova & (iopt->iova_alignment - 1))
		return sio_err(-EINVAL,
			       "iova %#llx not aligned to the IOAS's %#llx", (unsigned long long)iova, (unsigned long long)iopt->iova_alignment);
	if (__builtin_add_overflow(iova, length - 1, &last))
		return sio_err(-EOVERFLOW, "iova + length overflows");
	if (iopt->free_valid && iova >= iopt->free_start &&
	    last <= iopt->free_last)
		return 0;
	if (sio_itree_iter_first(&iopt->reserved_itree, iova, last))
		return sio_err(-EINVAL, "the range overlaps a reserved range");
	if (sio_itree_iter_first(&iopt->area_itree, iova, last))
		return sio_err(-EEXIST, "the range overlaps a mapping");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Map                                                                  */
/* ------------------------------------------------------------------ */

/* One slice of pages to become one area (COPY: one per source area). */
struct pages_elm {
	struct iopt_pages *pages;	/* a reference */
	uint64_t start_byte;
	uint64_t length;
	struct iopt_area *area;
};

/* Set up area for [start_byte, +length) of pages at iova.  The checks a
 * slice made for exactly this map always passes (its pages were made
 * writable when the map is, for the length asked) are the caller's:
 * check_slice() below. */
static int area_init(struct io_pagetable *iopt, struct iopt_area *area,
		     struct iopt_pages *pages, uint64_t start_byte,
		     uint64_t iova, uint64_t length, unsigned int prot)
{
	if (pg_offset(start_byte, iopt->host->page_size) &
	    (iopt->iova_alignment - 1))
		return sio_err(-EINVAL, "memory not aligned as the IOAS needs");
	area->iopt = iopt;
	area->pages = pages;	/* owned once inserted */
	area->iommu_prot = prot;
	area->start_byte = start_byte;
	area->node.start = iova;
	area->node.last = iova + length - 1;
	return 0;
}

/* What a slice of existing pages (COPY) must also satisfy. */
static int check_slice(struct io_pagetable *iopt, const struct pages_elm *elm,
		       uint64_t iova, unsigned int prot)
{
	uint64_t ps = iopt->host->page_size, last;

	if ((prot & SIO_PROT_WRITE) && !elm->pages->writable)
		return sio_err(-EPERM, "writable mapping of read-only memory");
	if (pg_offset(elm->start_byte, ps) & (iopt->iova_alignment - 1))
		return sio_err(-EINVAL, "memory not aligned as the IOAS needs");
	if (__builtin_add_overflow(iova, elm->length - 1, &last))
		return sio_err(-EOVERFLOW, "iova + length overflows");
	if (pg_index(elm->start_byte + elm->length - 1, ps) >=
	    elm->pages->npages)
		return sio_err(-EOVERFLOW,
			       "range beyond the end of the memory");
	return 0;
}

/*
 * Free-range hint.  The range of the area removed last is free of areas
 * and of reserved ranges (reserving over an area is refused) until an
 * area or a reserved range is added: a FIXED_IOVA map inside it needs
 * neither tree lookup.  A map and unmap in a loop at one IOVA then
 * searches no tree of however many other areas the IOAS has.
 *
 * Area hint.  The area inserted last (iopt->area_hint; NULL once it is
 * removed) is where the next unmap most often starts: a program unmaps
 * what it mapped.  An unmap whose first byte that area holds starts there
 * without a tree lookup: areas never overlap, so no area before it in
 * the tree reaches the range.
 */
static void free_hint_set(struct io_pagetable *iopt, uint64_t start,
			  uint64_t last)
{
	iopt->free_start = start;
	iopt->free_last = last;
	iopt->free_valid = true;
}

static void area_insert(struct io_pagetable *iopt, struct iopt_area *area)
{
	iopt->free_valid = false;
	iopt->area_hint = area;
	sio_itree_insert(&iopt->area_itree, &area->node);
}

static inline __attribute__((always_inline)) void
area_remove_free(struct io_pagetable *iopt, struct iopt_area *area)
{
	free_hint_set(iopt, area->node.start, area->node.last);
	if (iopt->area_hint == area)
		iopt->area_hint = NULL;
	sio_itree_remove(&iopt->area_itree, &area->node);
	iopt_pages_release(iopt, area->pages);
	area_free(iopt, area);
}

/* area_first() that tries the area hint first. */
static struct iopt_area *area_first_hinted(struct io_pagetable *iopt,
					   uint64_t start, uint64_t last)
{
	struct iopt_area *a = iopt->area_hint;

	if (a && area_iova(a) <= start && area_last(a) >= start)
		return a;
	return area_first(iopt, start, last);
}

/* The checks of a map's length and IOVA, in the kernel's order, and the
 * IOVA chosen when flags has IOPT_ALLOC_IOVA (base: the memory's address,
 * which guides the alignment).  iopt->lock held. */
static inline __attribute__((always_inline)) int
place_iova(struct io_pagetable *iopt, uint64_t base, uint64_t length,
	   uint64_t *iova, unsigned int flags)
{
	if (!length || (length & (iopt->iova_alignment - 1)))
		return sio_err(-EINVAL,
			       "length 0 or not aligned to the IOAS's %#llx", (unsigned long long)iopt->iova_alignment);
	if (flags & IOPT_ALLOC_IOVA)
		return iopt_alloc_iova(iopt, iova, base, length);
	return iopt_check_iova(iopt, *iova, length);
}

/*
 * MAP and MAP_FILE: one new area for [start_byte, +length) of pages, which
 * were made for exactly that range (so writable when the map is, and long
 * enough), at *iova; base is the memory's address (uptr, or the file
 * offset).  On success the area owns the caller's reference to pages.
 * iopt->lock held.  Inlined in both callers: a call's set-up is a good
 * part of a map without a domain.
 */
static inline __attribute__((always_inline)) int
map_one_locked(struct io_pagetable *iopt, struct iopt_pages *pages,
	       uint64_t base, uint64_t start_byte, uint64_t length,
	       uint64_t *iova, unsigned int prot, unsigned int flags)
{
	struct iopt_area *area = area_alloc(iopt);
	int rc;

	if (!area)
		return sio_err(-ENOMEM, "out of memory");
	rc = place_iova(iopt, base, length, iova, flags);
	if (!rc)
		rc = area_init(iopt, area, pages, start_byte, *iova, length,
			       prot);
	/* Nothing to fill without domains. */
	if (!rc && iopt->ndomains)
		rc = area_fill_domains(iopt, area);
	if (rc) {
		area_free(iopt, area);
		return rc;
	}
	area_insert(iopt, area);
	return 0;
}

/* COPY: one area per slice, all or none. */
static int iopt_map_pages(struct io_pagetable *iopt, struct pages_elm *elms,
			  size_t nelms, uint64_t length, uint64_t *dst_iova,
			  unsigned int prot, unsigned int flags)
{
	size_t i, inserted = 0;
	uint64_t iova;
	int rc = 0;

	iopt_lock(iopt);
	for (i = 0; i < nelms; i++) {
		elms[i].area = area_alloc(iopt);
		if (!elms[i].area) {
			rc = sio_err(-ENOMEM, "out of memory");
			goto out_unlock;
		}
	}
	rc = place_iova(iopt, iopt_pages_base(elms[0].pages) +
				      elms[0].start_byte,
			length, dst_iova, flags);
	if (rc)
		goto out_unlock;

	iova = *dst_iova;
	for (i = 0; i < nelms; i++) {
		rc = check_slice(iopt, &elms[i], iova, prot);
		if (rc)
			goto out_unlock;
		area_init(iopt, elms[i].area, elms[i].pages,
			  elms[i].start_byte, iova, elms[i].length, prot);
		iova += elms[i].length;
	}
	for (i = 0; i < nelms; i++) {
		rc = area_fill_domains(iopt, elms[i].area);
		if (rc)
			goto out_unfill;
		/* The area owns the pages reference from here on. */
		elms[i].pages = NULL;
		area_insert(iopt, elms[i].area);
		elms[i].area = NULL;
		inserted++;
	}
	iopt_unlock(iopt);
	return 0;

out_unfill:
	/* Undo the areas already made (they map nothing of anyone else). */
	for (i = 0; i < inserted; i++) {
		struct iopt_area *area = area_first(iopt, *dst_iova, *dst_iova);
		uint64_t next;

		if (!area)
			break;
		next = area_last(area) + 1;
		area_unfill_domains(iopt, area);
		area_remove_free(iopt, area);
		*dst_iova = next;
	}
out_unlock:
	for (i = 0; i < nelms; i++) {
		area_free(iopt, elms[i].area);
		elms[i].area = NULL;
	}
	iopt_unlock(iopt);
	return rc;
}

/*
 * IOAS_MAP: the range's iopt_pages comes from the table's pages cache
 * when it has one (pages.c), so it is made under iopt->lock, and the whole
 * map is one hold of the lock.
 */
int iopt_map_user_pages(struct sio_iommufd *ictx, struct io_pagetable *iopt,
			uint64_t *iova, uint64_t uptr, uint64_t length,
			unsigned int iommu_prot, unsigned int flags)
{
	struct iopt_pages *pages;
	int rc;

	iopt_lock(iopt);
	pages = iopt_user_pages_get(iopt, uptr, length,
				    iommu_prot & SIO_PROT_WRITE,
				    ictx->account_mode, &rc);
	if (pages) {
		rc = map_one_locked(iopt, pages, uptr, uptr - pages->uptr,
				    length, iova, iommu_prot, flags);
		/* Nothing else holds or pins it: back to the cache. */
		if (rc)
			iopt_pages_release(iopt, pages);
	}
	iopt_unlock(iopt);
	return rc;
}

/*
 * IOAS_MAP_FILE (the kernel's iopt_map_file_pages()): the fd is the
 * program's; a dmabuf is mapped from its exporter's memory, any other file
 * by offset through a reference to it, so the mapping holds whether or not
 * the program ever mapped the file, and after it closes fd.
 */
int iopt_map_file_pages(struct sio_iommufd *ictx, struct io_pagetable *iopt,
			uint64_t *iova, int fd, uint64_t start, uint64_t length,
			unsigned int iommu_prot, unsigned int flags)
{
	bool writable = iommu_prot & SIO_PROT_WRITE;
	struct iommufd_dmabuf *dmabuf;
	struct iopt_pages *pages;
	uint64_t last;
	int rc = 0;

	if (!length)
		return sio_err(-EINVAL, "length 0");
	if (__builtin_add_overflow(start, length - 1, &last))
		return sio_err(-EOVERFLOW, "start + length overflows");
	/* A DMA to a file truncated under the mapping fails, not kills. */
	sio_trap_install();
	dmabuf = iommufd_dmabuf_get(fd);
	if (dmabuf)
		pages = iopt_alloc_dmabuf_pages(iopt->host, dmabuf, start,
						length, writable, &rc);
	else
		pages = iopt_alloc_file_pages(iopt->host, fd, start, length,
					      writable, ictx->account_mode,
					      &rc);
	if (!pages)
		return rc;
	iopt_lock(iopt);
	rc = map_one_locked(iopt, pages, start, start - pages->start, length,
			    iova, iommu_prot, flags);
	iopt_unlock(iopt);
	/* Put without iopt->lock: a dmabuf's release takes its own. */
	if (rc)
		iopt_pages_put(pages);
	return rc;
}

/* iopt_get_pages(): the slices of areas that contiguously cover a range. */
static int iopt_get_pages(struct io_pagetable *iopt, uint64_t iova,
			  uint64_t length, struct pages_elm **out, size_t *nout)
{
	struct pages_elm *elms = NULL;
	size_t n = 0, cap = 0;
	uint64_t last, cur = iova;
	struct iopt_area *area;
	int rc = 0;

	if (!length)
		return sio_err(-EINVAL, "length 0");
	if (__builtin_add_overflow(iova, length - 1, &last))
		return sio_err(-EOVERFLOW, "iova + length overflows");

	iopt_lock(iopt);
	for (;;) {
		uint64_t end;

		area = area_first(iopt, cur, cur);
		if (!area) {
			rc = sio_err(-ENOENT,
				     "nothing mapped at %#llx", (unsigned long long)cur);
			break;
		}
		if (n == cap) {
			struct pages_elm *ne;

			cap = cap ? cap * 2 : 4;
			ne = sio_realloc(elms, cap * sizeof(*ne));
			if (!ne) {
				rc = sio_err(-ENOMEM, "out of memory");
				break;
			}
			elms = ne;
		}
		end = area_last(area) < last ? area_last(area) : last;
		elms[n].pages = area->pages;
		elms[n].start_byte = area->start_byte + (cur - area_iova(area));
		elms[n].length = end - cur + 1;
		elms[n].area = NULL;
		iopt_pages_get(area->pages);
		n++;
		if (end == last)
			break;
		cur = end + 1;
	}
	iopt_unlock(iopt);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			iopt_pages_put(elms[i].pages);
		free(elms);
		return rc;
	}
	*out = elms;
	*nout = n;
	return 0;
}

int iopt_copy(struct io_pagetable *src, struct io_pagetable *dst,
	      uint64_t src_iova, uint64_t length, uint64_t *dst_iova,
	      unsigned int iommu_prot, unsigned int flags)
{
	struct pages_elm *elms = NULL;
	size_t n = 0;
	int rc;

	rc = iopt_get_pages(src, src_iova, length, &elms, &n);
	if (rc)
		return rc;
	rc = iopt_map_pages(dst, elms, n, length, dst_iova, iommu_prot, flags);
	for (size_t i = 0; i < n; i++)
		if (elms[i].pages)
			iopt_pages_put(elms[i].pages);
	free(elms);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Unmap                                                                */
/* ------------------------------------------------------------------ */

/*
 * Unmap every area inside [start, last]; *unmapped is the bytes unmapped
 * even on failure.  An area that crosses either end fails the unmap
 * (-ENOENT) with what came before it unmapped, as in the kernel.  Entered
 * with iopt->lock held when locked says so; returns without it.
 */
static int iopt_unmap_iova_range(struct io_pagetable *iopt, uint64_t start,
				 uint64_t last, uint64_t *unmapped,
				 bool locked)
{
	uint64_t unmapped_bytes = 0;
	unsigned int tries = 0;
	struct iopt_area *area;
	int rc = 0;

again:
	if (!locked)
		iopt_lock(iopt);
	locked = false;
	while ((area = area_first_hinted(iopt, start, last))) {
		uint64_t a_first = area_iova(area), a_last = area_last(area);

		/* Locked by an object that is not destroyed (a HW queue). */
		if (area->num_locks) {
			rc = sio_err(-EBUSY,
				     "a mapping in the range is in use by a HW queue");
			break;
		}
		/* Unmap never splits an area. */
		if (a_first < start || a_last > last) {
			rc = sio_err(-ENOENT, "the range cuts a mapping");
			break;
		}
		if (a_first != start)
			tries = 0;
		if (area->num_accesses) {
			/* Ask the accesses to let go, without our lock. */
			start = a_first;
			area->prevent_access = true;
			iopt_unlock(iopt);
			iommufd_access_notify_unmap(iopt, a_first,
						    a_last - a_first + 1);
			if (++tries > 100) {
				rc = sio_err(-EDEADLK,
					     "accesses keep the range pinned");
				goto out;
			}
			goto again;
		}
		/* Nothing to take out of domains that are not there. */
		if (iopt->ndomains || area->dom_pin)
			area_unfill_domains(iopt, area);
		area_remove_free(iopt, area);
		unmapped_bytes += a_last - a_first + 1;
		if (a_last >= last)
			break;
		start = a_last + 1;
	}
	iopt_unlock(iopt);
out:
	*unmapped = unmapped_bytes;
	return rc;
}

int iopt_unmap_iova(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		    uint64_t *unmapped)
{
	struct iopt_area *area;
	uint64_t last;

	*unmapped = 0;
	if (!length)
		return sio_err(-EINVAL, "length 0");
	if (__builtin_add_overflow(iova, length - 1, &last))
		return sio_err(-EOVERFLOW, "iova + length overflows");
	iopt_lock(iopt);
	/*
	 * The unmap of exactly the area mapped last, which no HW queue locks
	 * and no access pins: what iopt_unmap_iova_range() would do for it,
	 * without its walk.  Anything else takes the walk.
	 */
	area = iopt->area_hint;
	if (area && area_iova(area) == iova && area_last(area) == last &&
	    !area->num_locks && !area->num_accesses) {
		if (iopt->ndomains || area->dom_pin)
			area_unfill_domains(iopt, area);
		area_remove_free(iopt, area);
		iopt_unlock(iopt);
		*unmapped = length;
		return 0;
	}
	return iopt_unmap_iova_range(iopt, iova, last, unmapped, true);
}

int iopt_unmap_all(struct io_pagetable *iopt, uint64_t *unmapped)
{
	uint64_t bytes;

	return iopt_unmap_iova_range(iopt, 0, UINT64_MAX,
				     unmapped ? unmapped : &bytes, false);
}

/*
 * Split area so that iova becomes the last byte of its first part: VFIO
 * type1 may unmap part of a mapping.  Both parts keep the area's pages and
 * share its domain pin; the domains are not touched, which is only right
 * when large pages are disabled (no IOPTE crosses the cut), as the kernel
 * requires.  Accesses pinning the area block the cut.  iopt->lock held.
 */
static int area_split(struct io_pagetable *iopt, struct iopt_area *area,
		      uint64_t iova)
{
	uint64_t ps = iopt->host->page_size, align = iopt->iova_alignment;
	uint64_t new_start = iova + 1;
	uint64_t rhs_byte = area->start_byte + (new_start - area_iova(area));
	struct iopt_area *rhs;
	int rc;

	if (iova == area_iova(area) || iova == area_last(area))
		return 0;
	if (area->prevent_access)
		return sio_err(-EBUSY, "the mapping is being unmapped");
	/* A dmabuf tracks (area, domain) pairs to revoke: never split. */
	if (area->pages->kind == IOPT_PAGES_DMABUF)
		return sio_err(-EOPNOTSUPP, "a dmabuf mapping cannot be split");
	if ((new_start & (align - 1)) || ((rhs_byte % ps) & (align - 1)))
		return sio_err(-EINVAL, "the cut is not aligned");
	if (area->num_accesses)
		return sio_err(-EINVAL, "the mapping is pinned by an access");
	if (area->dom_pin && !iopt->disable_large_pages)
		return sio_err(-EINVAL, "the mapping may use large pages");
	rhs = sio_calloc(1, sizeof(*rhs));
	if (!rhs)
		return sio_err(-ENOMEM, "out of memory");
	/* With a domain pin large pages are off: the cut is page aligned. */
	if (area->dom_pin) {
		rc = iopt_pages_split_pin(area->pages, area_first_index(area),
					  area_last_index(area), rhs_byte / ps,
					  area->dom_pin);
		if (rc) {
			free(rhs);
			return rc;
		}
	}
	sio_itree_remove(&iopt->area_itree, &area->node);
	rhs->iopt = iopt;
	rhs->pages = area->pages;
	iopt_pages_get(rhs->pages);
	rhs->start_byte = rhs_byte;
	rhs->iommu_prot = area->iommu_prot;
	rhs->dom_pin = area->dom_pin;
	rhs->dom_pin_first = area->dom_pin_first;
	rhs->node.start = new_start;
	rhs->node.last = area->node.last;
	area->node.last = iova;
	area_insert(iopt, area);
	area_insert(iopt, rhs);
	return 0;
}

int iopt_cut_iova(struct io_pagetable *iopt, const uint64_t *iovas,
		  size_t num_iovas)
{
	int rc = 0;

	iopt_lock(iopt);
	for (size_t i = 0; i < num_iovas && !rc; i++) {
		struct iopt_area *area = area_first(iopt, iovas[i], iovas[i]);

		if (area)
			rc = area_split(iopt, area, iovas[i]);
	}
	iopt_unlock(iopt);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Allowed and reserved ranges                                          */
/* ------------------------------------------------------------------ */

int iopt_set_allow_iova(struct io_pagetable *iopt,
			const struct iommu_iova_range *ranges, uint32_t num)
{
	struct sio_itree nt = SIO_ITREE_INIT, old;
	struct sio_itree_node *n;

	for (uint32_t i = 0; i < num; i++) {
		struct iopt_allowed *a = sio_calloc(1, sizeof(*a));

		if (!a) {
			free_tree(&nt, offsetof(struct iopt_allowed, node));
			return sio_err(-ENOMEM, "out of memory");
		}
		a->node.start = ranges[i].start;
		a->node.last = ranges[i].last;
		sio_itree_insert(&nt, &a->node);
	}
	iopt_lock(iopt);
	sio_itree_for_each(n, &nt, 0, UINT64_MAX) {
		if (sio_itree_iter_first(&iopt->reserved_itree, n->start,
					 n->last)) {
			iopt_unlock(iopt);
			free_tree(&nt, offsetof(struct iopt_allowed, node));
			return sio_err(-EADDRINUSE,
				       "an allowed range overlaps a mapping or a reserved range");
		}
	}
	old = iopt->allowed_itree;
	iopt->allowed_itree = nt;
	iopt_unlock(iopt);
	free_tree(&old, offsetof(struct iopt_allowed, node));
	return 0;
}

static int reserve_locked(struct io_pagetable *iopt, uint64_t start,
			  uint64_t last, const void *owner)
{
	struct iopt_reserved *r;

	if (sio_itree_iter_first(&iopt->area_itree, start, last) ||
	    sio_itree_iter_first(&iopt->allowed_itree, start, last))
		return sio_err(-EADDRINUSE,
			       "the range overlaps a mapping or an allowed range");
	r = sio_calloc(1, sizeof(*r));
	if (!r)
		return sio_err(-ENOMEM, "out of memory");
	r->node.start = start;
	r->node.last = last;
	r->owner = owner;
	iopt->free_valid = false;
	sio_itree_insert(&iopt->reserved_itree, &r->node);
	return 0;
}

static void remove_reserved_locked(struct io_pagetable *iopt,
				   const void *owner)
{
	struct sio_itree_node *n, *next;

	for (n = sio_itree_iter_first(&iopt->reserved_itree, 0, UINT64_MAX); n;
	     n = next) {
		struct iopt_reserved *r =
			sio_container_of(n, struct iopt_reserved, node);

		next = sio_itree_iter_next(&iopt->reserved_itree, n, 0,
					   UINT64_MAX);
		if (r->owner == owner) {
			sio_itree_remove(&iopt->reserved_itree, n);
			free(r);
		}
	}
}

int iopt_reserve_iova(struct io_pagetable *iopt, uint64_t start,
		      uint64_t last, const void *owner)
{
	int rc;

	iopt_lock(iopt);
	rc = reserve_locked(iopt, start, last, owner);
	iopt_unlock(iopt);
	return rc;
}

void iopt_remove_reserved_iova(struct io_pagetable *iopt, const void *owner)
{
	iopt_lock(iopt);
	remove_reserved_locked(iopt, owner);
	iopt_unlock(iopt);
}

struct resv_ctx {
	struct io_pagetable *iopt;
	struct sio_device *dev;
};

static int resv_one(const struct sio_resv_region *r, void *arg)
{
	struct resv_ctx *c = arg;

	if (r->type == SIO_RESV_DIRECT_RELAXABLE)
		return 0;
	return reserve_locked(c->iopt, r->start, r->last, c->dev);
}

/* The device's reserved regions become reserved IOVA owned by the device. */
int iopt_table_enforce_dev_resv_regions(struct io_pagetable *iopt,
					struct sio_device *dev)
{
	struct resv_ctx c = { iopt, dev };
	int rc;

	iopt_lock(iopt);
	rc = sio_device_for_each_resv_region(dev, resv_one, &c);
	if (rc)
		remove_reserved_locked(iopt, dev);
	iopt_unlock(iopt);
	return rc;
}

int iopt_for_each_iova_range(struct io_pagetable *iopt,
			     int (*fn)(uint64_t start, uint64_t last, void *arg),
			     void *arg, uint64_t *alignment)
{
	struct sio_itree_span sp;
	int rc = 0;

	iopt_lock(iopt);
	*alignment = iopt->iova_alignment;
	for (sio_itree_span_first(&sp, &iopt->reserved_itree, NULL, 0,
				  UINT64_MAX);
	     !sio_itree_span_done(&sp); sio_itree_span_next(&sp)) {
		if (!sp.is_hole)
			continue;
		rc = fn(sp.start, sp.last, arg);
		if (rc)
			break;
	}
	iopt_unlock(iopt);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Domains and alignment                                                */
/* ------------------------------------------------------------------ */

/* Every area conforms to a larger alignment. */
static int check_iova_alignment(struct io_pagetable *iopt, uint64_t align)
{
	uint64_t mask = align - 1, ps = iopt->host->page_size;
	struct iopt_area *area;

	for_each_area(area, iopt, 0, UINT64_MAX)
		if ((area_iova(area) & mask) || (area_length(area) & mask) ||
		    ((area->start_byte % ps) & mask))
			return sio_err(-EADDRINUSE,
				       "a mapping is not aligned as the new alignment needs");
	return 0;
}

static int calculate_iova_alignment(struct io_pagetable *iopt)
{
	uint64_t align = iopt->disable_large_pages ? iopt->host->page_size : 1;
	struct iopt_access_link *link;

	for (unsigned int i = 0; i < iopt->ndomains; i++) {
		uint64_t a = ffs64(sio_domain_pgsize_bitmap(iopt->domains[i]));

		if (a > align)
			align = a;
	}
	cds_list_for_each_entry(link, &iopt->accesses, node)
		if (link->access->iova_alignment > align)
			align = link->access->iova_alignment;
	if (align > iopt->iova_alignment) {
		int rc = check_iova_alignment(iopt, align);

		if (rc)
			return rc;
	}
	iopt->iova_alignment = align;
	return 0;
}

int iopt_add_access(struct io_pagetable *iopt, struct iommufd_access *access,
		    struct iopt_access_link **out)
{
	struct iopt_access_link *link = sio_malloc(sizeof(*link));
	int rc;

	if (!link)
		return sio_err(-ENOMEM, "out of memory");
	link->access = access;
	iopt_lock(iopt);
	cds_list_add_tail(&link->node, &iopt->accesses);
	rc = calculate_iova_alignment(iopt);
	if (rc)
		cds_list_del(&link->node);
	iopt_unlock(iopt);
	if (rc) {
		free(link);
		return rc;
	}
	*out = link;
	return 0;
}

void iopt_remove_access(struct io_pagetable *iopt, struct iopt_access_link *link)
{
	iopt_lock(iopt);
	cds_list_del(&link->node);
	calculate_iova_alignment(iopt);
	iopt_unlock(iopt);
	free(link);
}

int iopt_table_add_domain(struct io_pagetable *iopt, struct sio_domain *domain)
{
	const struct sio_domain_geometry *geo = sio_domain_geometry(domain);
	uint64_t align, ps = iopt->host->page_size;
	struct iopt_area *area, *end;
	int rc;

	iopt_lock(iopt);
	for (unsigned int i = 0; i < iopt->ndomains; i++)
		if (iopt->domains[i] == domain) {
			rc = sio_err(-EEXIST, "the domain is attached already");
			goto out_unlock;
		}
	/* A domain must take PAGE_SIZE: iopt_pages work in CPU pages. */
	align = ffs64(sio_domain_pgsize_bitmap(domain));
	if (align < iopt->iova_alignment)
		align = iopt->iova_alignment;
	if (align > ps) {
		rc = sio_err(-EINVAL,
			     "the domain's page size exceeds the CPU page size");
		goto out_unlock;
	}
	if (align != iopt->iova_alignment) {
		rc = check_iova_alignment(iopt, align);
		if (rc)
			goto out_unlock;
	}
	/* Nothing may be mapped outside the aperture. */
	if (geo->force_aperture && geo->aperture_start != 0) {
		rc = reserve_locked(iopt, 0, geo->aperture_start - 1, domain);
		if (rc)
			goto out_reserved;
	}
	if (geo->force_aperture && geo->aperture_end != UINT64_MAX) {
		rc = reserve_locked(iopt, geo->aperture_end + 1, UINT64_MAX,
				    domain);
		if (rc)
			goto out_reserved;
	}
	if (iopt->ndomains == iopt->domains_cap) {
		unsigned int ncap = iopt->domains_cap ? iopt->domains_cap * 2 : 4;
		struct sio_domain **nd = sio_realloc(iopt->domains,
						 ncap * sizeof(*nd));

		if (!nd) {
			rc = sio_err(-ENOMEM, "out of memory");
			goto out_reserved;
		}
		iopt->domains = nd;
		iopt->domains_cap = ncap;
	}
	/* Fill it with every area; on failure leave it as it was. */
	for_each_area(area, iopt, 0, UINT64_MAX) {
		bool pinned_here = !area->dom_pin;

		rc = area_pin_for_domains(area);
		if (!rc) {
			rc = area_fill_domain(area, domain);
			if (rc && pinned_here)
				area_unpin_for_domains(area);
		}
		if (rc)
			goto out_unfill;
	}
	iopt->iova_alignment = align;
	iopt->domains[iopt->ndomains++] = domain;
	iopt_unlock(iopt);
	return 0;

out_unfill:
	end = area;
	for_each_area(area, iopt, 0, UINT64_MAX) {
		if (area == end)
			break;
		area_unfill_domain(area, domain);
		if (!iopt->ndomains)
			area_unpin_for_domains(area);
	}
out_reserved:
	remove_reserved_locked(iopt, domain);
out_unlock:
	iopt_unlock(iopt);
	return rc;
}

void iopt_table_remove_domain(struct io_pagetable *iopt,
			      struct sio_domain *domain)
{
	struct iopt_area *area;
	unsigned int i;

	iopt_lock(iopt);
	for (i = 0; i < iopt->ndomains; i++)
		if (iopt->domains[i] == domain)
			break;
	if (i == iopt->ndomains) {
		iopt_unlock(iopt);
		return;
	}
	iopt->domains[i] = iopt->domains[--iopt->ndomains];
	for_each_area(area, iopt, 0, UINT64_MAX) {
		area_unfill_domain(area, domain);
		if (!iopt->ndomains)
			area_unpin_for_domains(area);
	}
	remove_reserved_locked(iopt, domain);
	calculate_iova_alignment(iopt);
	iopt_unlock(iopt);
}

int iopt_disable_large_pages(struct io_pagetable *iopt)
{
	int rc = 0;

	iopt_lock(iopt);
	if (iopt->disable_large_pages)
		goto out;
	/* Not once domains may have been mapped with large pages. */
	if (iopt->ndomains && !sio_itree_empty(&iopt->area_itree)) {
		rc = sio_err(-EINVAL,
			     "large pages cannot change with domains and mappings");
		goto out;
	}
	iopt->disable_large_pages = true;
	rc = calculate_iova_alignment(iopt);
	if (rc)
		iopt->disable_large_pages = false;
out:
	iopt_unlock(iopt);
	return rc;
}

void iopt_enable_large_pages(struct io_pagetable *iopt)
{
	iopt_lock(iopt);
	iopt->disable_large_pages = false;
	calculate_iova_alignment(iopt);
	iopt_unlock(iopt);
}
