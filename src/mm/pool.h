/*
 * The mm layer's page pool (pool.c): zeroed pages for the fault handler,
 * batches from the kernel, and reaped pages zeroed after their grace
 * period and kept for the next faults.
 */
#ifndef SIO_MM_POOL_H
#define SIO_MM_POOL_H

#include <stddef.h>
#include <stdint.h>

struct sio_mm;

/* Pages mapped from the kernel at a time. */
#define MM_POOL_BATCH 64
/* Free pages an mm keeps at most (4 MiB); reaped pages beyond go back. */
#define MM_POOL_MAX 1024

struct mm_pool {
	void *head;		/* free pages, linked through their first word */
	size_t count;		/* pages on the list; see pool.c */
};

/* A page that reads as zero, or NULL when the kernel has no memory
 * (mm->lock held). */
void *mm_page_alloc(struct sio_mm *mm);
/* Give back a page mm_page_alloc() returned and nobody wrote or mapped
 * (mm->lock held). */
void mm_page_unused(struct sio_mm *mm, void *page);
/* Take back pages no walker can reach any more (after a grace period,
 * mm->lock not held): zeroed and kept, or returned to the kernel. */
void mm_pool_put(struct sio_mm *mm, void **pages, size_t n);
/* Return every pooled page to the kernel (the mm structure is freed). */
void mm_pool_destroy(struct sio_mm *mm);
/* Pages the mm layer holds from the kernel, process-wide: in page tables,
 * waiting for a grace period, or pooled. */
uint64_t mm_pool_mapped_pages(void);

#endif
