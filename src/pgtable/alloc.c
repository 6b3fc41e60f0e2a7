/*
 * The accounted allocator for I/O page-table pages.
 *
 * Every table page of every table in the process comes from here, so
 * sio_pt_mem_stats() can say how much table memory exists (benchmarks
 * report bytes of tables per mapped page; tests check it returns to zero).
 * Pages are zeroed and aligned to their own size, like the pages hardware
 * walks, which is what lets an entry hold a table's address in the
 * format's address field.
 *
 * Freeing has two speeds.  pt_page_free() frees at once (destroy, or a
 * table that was never published).  Pages unlinked while readers may still
 * walk them go on a deferred list (pt_page_defer) and are released by
 * sio_pt_free_deferred() after the caller's RCU grace period.  The list
 * lives in separate nodes holding many page pointers, never inside the
 * dead pages: a reader that loaded a pointer before the unlink may still
 * read the page and must find the entries it expects, not list links.
 */
#include "pgtable/pt_format.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "util/fail.h"

/* Global counters; relaxed atomics because they are statistics. */
static uint64_t pt_mem_pages;
static uint64_t pt_mem_bytes;

/* Page pointers per deferred-free node (node is 16 + 62*16 = 1008 bytes). */
#define PT_DEAD_PER_NODE 62

/* Fault injection for tests: -1 off, else the number of allocations that
 * still succeed before every further one fails. */
static int pt_fail_countdown = -1;

void sio_pt_test_fail_alloc(int after)
{
	__atomic_store_n(&pt_fail_countdown, after, __ATOMIC_RELAXED);
}

static bool pt_inject_failure(void)
{
	int c = __atomic_load_n(&pt_fail_countdown, __ATOMIC_RELAXED);

	while (c > 0 && !__atomic_compare_exchange_n(&pt_fail_countdown, &c,
						     c - 1, false,
						     __ATOMIC_RELAXED,
						     __ATOMIC_RELAXED))
		;
	return c == 0;
}

void *pt_page_alloc(unsigned int lg2)
{
	size_t size = (size_t)1 << lg2;
	void *p;

	if (__builtin_expect(pt_inject_failure(), 0) ||
	    sio_should_fail(SIO_FAIL_PAGE))
		return NULL;

	/* aligned_alloc wants the alignment to be a multiple of the pointer
	 * size; table pages are at least 8 bytes, and we round tiny top
	 * tables up to 64 bytes (a cache line, which hardware also wants). */
	if (size < 64)
		size = 64;
	p = aligned_alloc(size, size);
	if (!p)
		return NULL;
	memset(p, 0, size);
	__atomic_fetch_add(&pt_mem_pages, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&pt_mem_bytes, size, __ATOMIC_RELAXED);
	return p;
}

void pt_page_free(void *page, unsigned int lg2)
{
	size_t size = (size_t)1 << lg2;

	if (!page)
		return;
	if (size < 64)
		size = 64;
	free(page);
	__atomic_fetch_sub(&pt_mem_pages, 1, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&pt_mem_bytes, size, __ATOMIC_RELAXED);
}

int pt_page_defer(struct sio_pt_page **list, void *page, unsigned int lg2)
{
	struct sio_pt_page *n = *list;

	if (!n || n->count == n->cap) {
		n = sio_malloc(sizeof(*n) +
			   PT_DEAD_PER_NODE * sizeof(struct pt_dead_page));
		if (!n)
			return -ENOMEM;
		n->count = 0;
		n->cap = PT_DEAD_PER_NODE;
		n->next = *list;
		*list = n;
	}
	n->pages[n->count].page = page;
	n->pages[n->count].lg2 = lg2;
	n->count++;
	return 0;
}

void pt_defer_splice(struct sio_pt_page **to, struct sio_pt_page *from)
{
	struct sio_pt_page *last;

	if (!from)
		return;
	/* Keep a partly filled node of *to at the head so pt_page_defer goes
	 * on filling it: append "from" behind the last node of *to. */
	if (!*to) {
		*to = from;
		return;
	}
	for (last = *to; last->next; last = last->next)
		;
	last->next = from;
}

SIO_API void sio_pt_free_deferred(struct sio_pt_page *freelist)
{
	while (freelist) {
		struct sio_pt_page *next = freelist->next;

		for (unsigned int i = 0; i < freelist->count; i++)
			pt_page_free(freelist->pages[i].page,
				     freelist->pages[i].lg2);
		free(freelist);
		freelist = next;
	}
}

SIO_API void sio_pt_mem_stats(struct sio_pt_mem_stats *out)
{
	out->pages = __atomic_load_n(&pt_mem_pages, __ATOMIC_RELAXED);
	out->bytes = __atomic_load_n(&pt_mem_bytes, __ATOMIC_RELAXED);
}
