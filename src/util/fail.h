/*
 * Fault injection inside the library: the kernel's fail-nth, per thread.
 *
 * Every place where the kernel's iommufd can be made to fail by its fault
 * injection framework has a site here of the same kind: allocations
 * (failslab), pages (fail_page_alloc: page-table pages and page pins) and
 * copies from and to the program (fail_usercopy).  A thread arms a
 * countdown with sio_fail_nth_set(N) (what writing N to
 * /proc/self/task/<tid>/fail-nth does under `softiommu run`); each site of
 * a kind that counts then decrements it, and the site that brings it to
 * zero fails as if the resource were not there.  Which kinds count follows
 * the kernel's debugfs knobs: failslab and fail_page_alloc count only when
 * their ignore-gfp-wait is off (the library's allocations may all sleep,
 * as GFP_KERNEL ones do), fail_usercopy always counts.
 *
 * The fast path when nothing is armed is one thread-local load.  Library
 * code never calls malloc/calloc/realloc/strdup by name: it calls the
 * sio_* wrappers below, one per allocator kind, so that every allocation
 * is a site.
 */
#ifndef SIO_UTIL_FAIL_H
#define SIO_UTIL_FAIL_H

#include <stdbool.h>
#include <stddef.h>

#include "softiommu/fault_inject.h"

/* The countdown of this thread; 0: nothing armed. */
/* Initial-exec: one load from the thread pointer on every site, not a
 * call to __tls_get_addr (4 bytes of the static TLS surplus). */
#define SIO_TLS_IE __attribute__((tls_model("initial-exec")))
extern __thread unsigned int sio_fail_nth_left SIO_TLS_IE;

bool sio_fail_hit(enum sio_fail_kind kind);

/* Whether this site of kind fails now (and counts it). */
static inline bool sio_should_fail(enum sio_fail_kind kind)
{
	if (__builtin_expect(!sio_fail_nth_left, 1))
		return false;
	return sio_fail_hit(kind);
}

void *sio_malloc(size_t size);
void *sio_calloc(size_t n, size_t size);
void *sio_realloc(void *p, size_t size);
char *sio_strdup(const char *s);

#endif
