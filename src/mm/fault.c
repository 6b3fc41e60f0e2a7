/*
 * The fault handler, the CPU's loads and stores, and the lock-free walk.
 *
 * Memory is populated on demand: a mapping starts with no pages, and the
 * first access to a page (a CPU load or store here, later a device's page
 * request) takes a zeroed one from the mm's page pool (pool.c) and maps
 * it with the mapping's rights.
 * The walk is the page-table layer's lock-free lookup on the CPU table;
 * callers run it inside an RCU read-side section and copy before leaving
 * it, which is what makes munmap's grace period sufficient.
 */
#include <stdlib.h>
#include <string.h>

#include "mm/mm_private.h"

#define PAGE SIO_MM_PAGE_SIZE

unsigned int mm_leaf_prot(unsigned int prot)
{
	if (prot & SIO_PROT_WRITE)
		return SIO_PROT_READ | SIO_PROT_WRITE;
	return prot & SIO_PROT_READ;
}

static bool allows(unsigned int leaf, unsigned int access)
{
	return leaf && !(access & ~leaf);
}

/* Map a zeroed page from the pool at va (mm->lock held). */
static int populate(struct sio_mm *mm, uint64_t va, unsigned int prot)
{
	void *page = mm_page_alloc(mm);
	size_t mapped;
	int rc;

	if (!page)
		return -ENOMEM;
	rc = sio_pt_map_pages(mm->pages, va, (uintptr_t)page, PAGE, 1,
			      SIO_PROT_READ | SIO_PROT_WRITE, &mapped);
	if (rc) {
		mm_page_unused(mm, page);
		return rc;
	}
	rc = sio_pt_map_pages(mm->pt, va, (uintptr_t)page, PAGE, 1,
			      mm_leaf_prot(prot), &mapped);
	if (rc) {
		/* No walker can have seen a page that was never in the CPU
		 * table; the gather-less unmap leaves its table pages for
		 * later, which is safe. */
		sio_pt_unmap_pages(mm->pages, va, PAGE, 1, NULL);
		mm_page_unused(mm, page);
		return rc;
	}
	mm->stats.pages++;
	mm->stats.faults++;
	return 0;
}

SIO_API int sio_mm_fault(struct sio_mm *mm, uint64_t addr, unsigned int access)
{
	struct sio_itree_node *n;
	struct sio_xlate x;
	unsigned int prot;
	int rc = 0;

	if (!mm)
		return sio_err(-EINVAL, "mm fault: no mm");
	access &= SIO_PROT_READ | SIO_PROT_WRITE;
	pthread_mutex_lock(&mm->lock);
	if (mm->exited) {
		rc = sio_err(-ESRCH, "mm fault: the mm has exited");
		goto out;
	}
	n = sio_itree_iter_first(&mm->vmas, addr, addr);
	if (!n) {
		rc = sio_err(-EFAULT, "mm fault: nothing mapped at %#llx",
			     (unsigned long long)addr);
		goto out;
	}
	prot = sio_container_of(n, struct mm_vma, node)->prot;
	if (!allows(mm_leaf_prot(prot), access ? access : SIO_PROT_READ)) {
		rc = sio_err(-EACCES, "mm fault: %s of %#llx not allowed",
			     access & SIO_PROT_WRITE ? "write" : "read",
			     (unsigned long long)addr);
		goto out;
	}
	if (sio_pt_lookup(mm->pages, addr, &x)) {
		rc = populate(mm, addr & ~(PAGE - 1), prot);
		if (rc)
			rc = sio_err(rc, "mm fault: populating %#llx",
				     (unsigned long long)addr);
	}
out:
	pthread_mutex_unlock(&mm->lock);
	return rc;
}

SIO_API int sio_mm_lookup(struct sio_mm *mm, uint64_t addr, struct sio_xlate *out)
{
	return sio_pt_lookup(mm->pt, addr, out);
}

/* Copy between buf and the mm one page at a time, faulting pages in. */
static int cpu_copy(struct sio_mm *mm, uint64_t addr, void *buf, size_t len,
		    unsigned int access)
{
	unsigned char *p = buf;

	if (!mm || (len && !buf))
		return sio_err(-EINVAL, "mm access: missing argument");
	while (len) {
		size_t chunk = PAGE - (addr & (PAGE - 1));
		struct sio_xlate x;
		bool done = false;
		int rc;

		if (chunk > len)
			chunk = len;
		sio_rcu_read_lock();
		if (!sio_pt_lookup(mm->pt, addr, &x) && allows(x.prot, access)) {
			void *host = (void *)(uintptr_t)x.phys;

			if (access & SIO_PROT_WRITE)
				memcpy(host, p, chunk);
			else
				memcpy(p, host, chunk);
			done = true;
		}
		sio_rcu_read_unlock();
		if (!done) {
			rc = sio_mm_fault(mm, addr, access);
			if (rc)
				return rc;
			continue;
		}
		p += chunk;
		addr += chunk;
		len -= chunk;
	}
	return 0;
}

SIO_API int sio_mm_read(struct sio_mm *mm, uint64_t addr, void *buf, size_t len)
{
	return cpu_copy(mm, addr, buf, len, SIO_PROT_READ);
}

SIO_API int sio_mm_write(struct sio_mm *mm, uint64_t addr, const void *buf,
			 size_t len)
{
	return cpu_copy(mm, addr, (void *)buf, len, SIO_PROT_WRITE);
}
