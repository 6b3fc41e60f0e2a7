/*
 * mmap, munmap and mprotect: the mappings (VMAs) of an address space and
 * what changing them does to its page tables.
 *
 * VMAs are disjoint ranges in an interval tree.  A change that covers part
 * of a VMA first splits it at the range's edges, so every VMA is then
 * either wholly inside the range or wholly outside.  munmap and mprotect
 * change the page tables under the mm lock, tell the notifiers before they
 * drop it, and free what they removed only after a grace period: once they
 * return, no device can reach the old pages or rights, and no walk that
 * raced with them touches freed memory.
 */
#include <stdlib.h>

#include "mm/mm_private.h"
#include "util/fail.h"

#define PAGE SIO_MM_PAGE_SIZE

static struct mm_vma *vma_of(struct sio_itree_node *n)
{
	return sio_container_of(n, struct mm_vma, node);
}

static bool aligned(uint64_t v)
{
	return !(v & (PAGE - 1));
}

/* [addr, addr + len) page-rounded inside the user range, or -EINVAL. */
static int user_range(uint64_t addr, uint64_t len, uint64_t *end)
{
	if (!len || !aligned(addr) || addr < SIO_MM_MIN_ADDR ||
	    len > SIO_MM_TASK_SIZE)
		return -EINVAL;
	*end = addr + ((len + PAGE - 1) & ~(PAGE - 1));
	return *end > SIO_MM_TASK_SIZE ? -EINVAL : 0;
}

static void reap_page(struct mm_reap *r, void *page)
{
	if (r->npages == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		void **p = sio_realloc(r->pages, cap * sizeof(*p));

		if (!p) {
			/* Better a leak than a device reading freed memory. */
			return;
		}
		r->pages = p;
		r->cap = cap;
	}
	r->pages[r->npages++] = page;
}

void mm_unmap_pages(struct sio_mm *mm, uint64_t start, uint64_t end,
		    struct mm_reap *r)
{
	for (uint64_t va = start; va < end; va += PAGE) {
		struct sio_xlate x;

		if (sio_pt_lookup(mm->pages, va, &x))
			continue;
		sio_pt_unmap_pages(mm->pt, va, PAGE, 1, &r->pt_gather);
		sio_pt_unmap_pages(mm->pages, va, PAGE, 1, &r->pages_gather);
		reap_page(r, (void *)(uintptr_t)x.phys);
		mm->stats.pages--;
	}
}

/* Make addr a VMA boundary: split the VMA that straddles it. */
static int split_at(struct sio_mm *mm, uint64_t addr)
{
	struct sio_itree_node *n = sio_itree_iter_first(&mm->vmas, addr, addr);
	struct mm_vma *tail;

	if (!n || n->start == addr)
		return 0;
	tail = sio_malloc(sizeof(*tail));
	if (!tail)
		return -ENOMEM;
	tail->prot = vma_of(n)->prot;
	tail->node.start = addr;
	tail->node.last = n->last;
	sio_itree_remove(&mm->vmas, n);
	n->last = addr - 1;
	sio_itree_insert(&mm->vmas, n);
	sio_itree_insert(&mm->vmas, &tail->node);
	mm->stats.vmas++;
	return 0;
}

static int split_edges(struct sio_mm *mm, uint64_t start, uint64_t end)
{
	int rc = split_at(mm, start);

	return rc ? rc : split_at(mm, end);
}

/* munmap with the lock held: only splitting can fail (-ENOMEM). */
static int unmap_locked(struct sio_mm *mm, uint64_t start, uint64_t end,
			struct mm_reap *r)
{
	struct sio_itree_node *n;
	int rc = split_edges(mm, start, end);

	if (rc)
		return rc;
	if (!sio_itree_iter_first(&mm->vmas, start, end - 1))
		return 0;
	while ((n = sio_itree_iter_first(&mm->vmas, start, end - 1))) {
		mm_unmap_pages(mm, n->start, n->last + 1, r);
		sio_itree_remove(&mm->vmas, n);
		free(vma_of(n));
		mm->stats.vmas--;
	}
	mm_invalidate(mm, start, end);
	return 0;
}

/* The lowest free range of len bytes at or above hint. */
static int find_gap(struct sio_mm *mm, uint64_t hint, uint64_t len,
		    uint64_t *out)
{
	uint64_t cur = hint < SIO_MM_MIN_ADDR ? SIO_MM_MIN_ADDR :
						(hint + PAGE - 1) & ~(PAGE - 1);
	struct sio_itree_node *n;

	if (hint >= SIO_MM_TASK_SIZE)
		return -ENOMEM;

	sio_itree_for_each(n, &mm->vmas, cur, SIO_MM_TASK_SIZE - 1) {
		if (n->start >= cur && n->start - cur >= len)
			break;
		if (n->last + 1 > cur)
			cur = n->last + 1;
	}
	if (cur > SIO_MM_TASK_SIZE || SIO_MM_TASK_SIZE - cur < len)
		return -ENOMEM;
	*out = cur;
	return 0;
}

SIO_API int sio_mm_mmap(struct sio_mm *mm, uint64_t addr, uint64_t len,
			unsigned int prot, unsigned int flags, uint64_t *out)
{
	struct mm_vma *vma;
	struct mm_reap r;
	uint64_t start = addr, end;
	int rc;

	if (!mm || !out || !len || len > SIO_MM_TASK_SIZE ||
	    (flags & ~(SIO_MM_MAP_FIXED | SIO_MM_MAP_POPULATE)) ||
	    (prot & ~(SIO_PROT_READ | SIO_PROT_WRITE)))
		return sio_err(-EINVAL, "mmap: bad length, flags or rights");
	len = (len + PAGE - 1) & ~(PAGE - 1);
	if ((flags & SIO_MM_MAP_FIXED) && user_range(addr, len, &end))
		return sio_err(-EINVAL, "mmap: fixed address %#llx outside user space",
			       (unsigned long long)addr);
	vma = sio_malloc(sizeof(*vma));
	if (!vma)
		return sio_err(-ENOMEM, "mmap: out of memory");
	mm_reap_init(&r);
	pthread_mutex_lock(&mm->lock);
	if (mm->exited) {
		rc = sio_err(-ESRCH, "mmap: the mm has exited");
	} else if (flags & SIO_MM_MAP_FIXED) {
		rc = unmap_locked(mm, start, start + len, &r);
		if (rc)
			rc = sio_err(rc, "mmap: out of memory");
	} else {
		rc = find_gap(mm, addr, len, &start);
		if (rc)
			rc = sio_err(rc, "mmap: no free range of %#llx bytes",
				     (unsigned long long)len);
	}
	if (!rc) {
		vma->node.start = start;
		vma->node.last = start + len - 1;
		vma->prot = prot;
		sio_itree_insert(&mm->vmas, &vma->node);
		mm->stats.vmas++;
		vma = NULL;
	}
	pthread_mutex_unlock(&mm->lock);
	free(vma);
	mm_reap(mm, &r);
	if (rc)
		return rc;
	*out = start;
	if (!(flags & SIO_MM_MAP_POPULATE) || !mm_leaf_prot(prot))
		return 0;
	for (uint64_t va = start; va < start + len; va += PAGE) {
		rc = sio_mm_fault(mm, va, prot);
		if (rc)
			return rc;
	}
	return 0;
}

SIO_API int sio_mm_munmap(struct sio_mm *mm, uint64_t addr, uint64_t len)
{
	struct mm_reap r;
	uint64_t end;
	int rc;

	if (!mm || user_range(addr, len, &end))
		return sio_err(-EINVAL, "munmap: bad range %#llx + %#llx",
			       (unsigned long long)addr, (unsigned long long)len);
	mm_reap_init(&r);
	pthread_mutex_lock(&mm->lock);
	if (mm->exited)
		rc = sio_err(-ESRCH, "munmap: the mm has exited");
	else if ((rc = unmap_locked(mm, addr, end, &r)))
		rc = sio_err(rc, "munmap: out of memory");
	pthread_mutex_unlock(&mm->lock);
	mm_reap(mm, &r);
	return rc;
}

/* Does a run of VMAs cover [start, end) without a hole? */
static bool covered(struct sio_mm *mm, uint64_t start, uint64_t end)
{
	struct sio_itree_node *n;
	uint64_t cur = start;

	sio_itree_for_each(n, &mm->vmas, start, end - 1) {
		if (n->start > cur)
			return false;
		cur = n->last + 1;
		if (cur >= end)
			return true;
	}
	return false;
}

/* Give the populated pages of [start, end) the rights prot in the CPU
 * table: remove each leaf, then map it again if prot lets the CPU in. */
static void reprotect(struct sio_mm *mm, uint64_t start, uint64_t end,
		      unsigned int prot, struct mm_reap *r)
{
	unsigned int leaf = mm_leaf_prot(prot);

	for (uint64_t va = start; va < end; va += PAGE) {
		struct sio_xlate x;
		size_t mapped;

		if (sio_pt_lookup(mm->pages, va, &x))
			continue;
		sio_pt_unmap_pages(mm->pt, va, PAGE, 1, &r->pt_gather);
		if (leaf)
			sio_pt_map_pages(mm->pt, va, x.phys, PAGE, 1, leaf, &mapped);
	}
}

SIO_API int sio_mm_mprotect(struct sio_mm *mm, uint64_t addr, uint64_t len,
			    unsigned int prot)
{
	struct sio_itree_node *n;
	struct mm_reap r;
	uint64_t end;
	int rc = 0;

	if (!mm || user_range(addr, len, &end) ||
	    (prot & ~(SIO_PROT_READ | SIO_PROT_WRITE)))
		return sio_err(-EINVAL, "mprotect: bad range or rights");
	mm_reap_init(&r);
	pthread_mutex_lock(&mm->lock);
	if (mm->exited) {
		rc = sio_err(-ESRCH, "mprotect: the mm has exited");
	} else if (!covered(mm, addr, end)) {
		rc = sio_err(-ENOMEM, "mprotect: [%#llx, %#llx) is not all mapped",
			     (unsigned long long)addr, (unsigned long long)end);
	} else if (split_edges(mm, addr, end)) {
		rc = sio_err(-ENOMEM, "mprotect: out of memory");
	} else {
		sio_itree_for_each(n, &mm->vmas, addr, end - 1) {
			vma_of(n)->prot = prot;
			reprotect(mm, n->start, n->last + 1, prot, &r);
		}
		mm_invalidate(mm, addr, end);
	}
	pthread_mutex_unlock(&mm->lock);
	mm_reap(mm, &r);
	return rc;
}
