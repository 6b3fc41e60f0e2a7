/*
 * The page pool: where an address space's anonymous pages come from and
 * where they go back.
 *
 * A fault must hand out a page that reads as zero.  Taking it from malloc
 * made every fault pay for a CPU page fault in which the kernel allocated
 * and zeroed the page (malloc's arena had given the memory back), an
 * occasional mprotect as the arena grew, and a second zeroing by memset:
 * half the cost of an SVA page-request round trip.  The pool keeps that
 * work off the fault path:
 *
 *  - fresh pages come from the kernel MM_POOL_BATCH at a time, mapped with
 *    MAP_POPULATE, so one system call faults in and zeroes a whole batch
 *    (and no later access of them traps);
 *  - pages munmap or mprotect-less unmapping frees are zeroed by mm_reap()
 *    after its grace period, outside every lock, and kept for the next
 *    faults, up to MM_POOL_MAX per mm; the rest go back to the kernel.
 *
 * Every page in the pool reads as zero except its first word, the link of
 * the free list; taking a page clears that word, so a page handed out is
 * all zero, and a page is on the list or in a page table, never both.
 * The pool is per mm and protected by mm->lock (pages are taken inside
 * the fault handler, which holds it; reaped pages are put back under it).
 * After exit nothing faults any more, so reaped pages go straight back to
 * the kernel, and the last sio_mm_drop returns what the pool holds.
 *
 * Pages are mapped with raw system calls (util/sys.h): under the preload
 * shim, libc's mmap/munmap are the shim's interposers.
 * mm_pool_mapped_pages() counts the pages mapped and not yet returned,
 * process-wide, so tests can check that teardown returns every one.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mm/mm_private.h"
#include "mm/pool.h"
#include "util/sys.h"

#define PAGE SIO_MM_PAGE_SIZE

static uint64_t mapped_pages;	/* atomic, process-wide */

uint64_t mm_pool_mapped_pages(void)
{
	return __atomic_load_n(&mapped_pages, __ATOMIC_RELAXED);
}

/* Written under mm->lock, read without it by mm_pool_put's estimate. */
static void pool_count_add(struct sio_mm *mm, long delta)
{
	__atomic_store_n(&mm->pool.count, mm->pool.count + (size_t)delta,
			 __ATOMIC_RELAXED);
}

static void **link_of(void *page)
{
	return (void **)page;
}

/* Map and chain a batch of zeroed pages (mm->lock held). */
static int refill(struct sio_mm *mm)
{
	unsigned char *p = sio_sys_mmap(NULL, MM_POOL_BATCH * PAGE,
					PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
					-1, 0);

	if (p == MAP_FAILED)
		return -ENOMEM;
	__atomic_add_fetch(&mapped_pages, MM_POOL_BATCH, __ATOMIC_RELAXED);
	for (size_t i = MM_POOL_BATCH; i--;) {
		*link_of(p + i * PAGE) = mm->pool.head;
		mm->pool.head = p + i * PAGE;
	}
	pool_count_add(mm, MM_POOL_BATCH);
	return 0;
}

void *mm_page_alloc(struct sio_mm *mm)
{
	void *page;

	if (!mm->pool.head && refill(mm))
		return NULL;
	page = mm->pool.head;
	mm->pool.head = *link_of(page);
	*link_of(page) = NULL;
	pool_count_add(mm, -1);
	return page;
}

void mm_page_unused(struct sio_mm *mm, void *page)
{
	/* Never written: zero but for the link set here. */
	*link_of(page) = mm->pool.head;
	mm->pool.head = page;
	pool_count_add(mm, 1);
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;

	return x < y ? -1 : x > y;
}

/* Return pages to the kernel, one munmap per run of adjacent ones. */
static void unmap_pages(void **pages, size_t n)
{
	size_t i = 0;

	qsort(pages, n, sizeof(*pages), cmp_ptr);
	while (i < n) {
		size_t j = i + 1;

		while (j < n && (unsigned char *)pages[j] ==
				(unsigned char *)pages[j - 1] + PAGE)
			j++;
		sio_sys_munmap(pages[i], (j - i) * PAGE);
		i = j;
	}
	__atomic_sub_fetch(&mapped_pages, n, __ATOMIC_RELAXED);
}

void mm_pool_put(struct sio_mm *mm, void **pages, size_t n)
{
	void *head = NULL, *tail = NULL;
	size_t keep, room;

	if (!n)
		return;
	/* How many to keep is decided without the lock and may overshoot
	 * by what a racing reap keeps: a bound, not an exact limit. */
	room = MM_POOL_MAX - __atomic_load_n(&mm->pool.count, __ATOMIC_RELAXED);
	if (__atomic_load_n(&mm->exited, __ATOMIC_ACQUIRE) ||
	    room > MM_POOL_MAX)
		room = 0;
	keep = n < room ? n : room;
	for (size_t i = 0; i < keep; i++) {
		memset(pages[i], 0, PAGE);
		if (!tail)
			tail = pages[i];
		*link_of(pages[i]) = head;
		head = pages[i];
	}
	if (keep) {
		pthread_mutex_lock(&mm->lock);
		if (mm->exited) {
			pthread_mutex_unlock(&mm->lock);
			keep = 0;	/* all of them go back below */
		} else {
			*link_of(tail) = mm->pool.head;
			mm->pool.head = head;
			pool_count_add(mm, (long)keep);
			pthread_mutex_unlock(&mm->lock);
		}
	}
	if (n > keep)
		unmap_pages(pages + keep, n - keep);
}

void mm_pool_destroy(struct sio_mm *mm)
{
	void **pages;
	size_t n = 0;

	if (!mm->pool.count)
		return;
	pages = malloc(mm->pool.count * sizeof(*pages));
	if (!pages) {
		/* Without room to sort, one call per page. */
		while (mm->pool.head) {
			void *p = mm->pool.head;

			mm->pool.head = *link_of(p);
			sio_sys_munmap(p, PAGE);
			__atomic_sub_fetch(&mapped_pages, 1, __ATOMIC_RELAXED);
		}
		mm->pool.count = 0;
		return;
	}
	for (void *p = mm->pool.head; p; p = *link_of(p))
		pages[n++] = p;
	mm->pool.head = NULL;
	mm->pool.count = 0;
	unmap_pages(pages, n);
	free(pages);
}
