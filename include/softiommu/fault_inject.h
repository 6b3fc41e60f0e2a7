/*
 * Fault injection: make the library fail where the kernel's fault
 * injection framework would, to test error paths from outside.
 *
 * The mechanism is the kernel's fail-nth: a per-thread countdown armed
 * with sio_fail_nth_set(N) makes the N-th fault-injection site that this
 * thread reaches from then on fail (an allocation returns -ENOMEM, a page
 * pin or page-table page fails, a copy from or to the program returns
 * -EFAULT); sio_fail_nth_get() says how many sites are left before it
 * fires, 0 once it has fired (or when nothing is armed).  Which kinds of
 * site count is set per kind, as the kernel's debugfs knobs do
 * (failslab/ignore-gfp-wait, fail_page_alloc/ignore-gfp-wait: counted when
 * "N"; fail_usercopy always).  Under `softiommu run` the same controls are
 * the files /proc/self/task/<tid>/fail-nth and /sys/kernel/debug/fail*
 * (docs/fault-injection.md).
 */
#ifndef SOFTIOMMU_FAULT_INJECT_H
#define SOFTIOMMU_FAULT_INJECT_H

#include "softiommu/common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sio_fail_kind {
	SIO_FAIL_SLAB,		/* memory allocations (failslab) */
	SIO_FAIL_PAGE,		/* page-table pages, page pins (fail_page_alloc) */
	SIO_FAIL_USERCOPY,	/* copies from and to the program (fail_usercopy) */
	SIO_FAIL_NR_KINDS,
};

/* Arm (n > 0) or disarm (0) this thread's countdown. */
SIO_API void sio_fail_nth_set(unsigned int n);
SIO_API unsigned int sio_fail_nth_get(void);
/* Whether sites of kind count (process-wide).  By default, as in the
 * kernel, allocations and pages do not (ignore-gfp-wait is "Y") and user
 * copies do. */
SIO_API void sio_fail_kind_enable(enum sio_fail_kind kind, bool counts);
SIO_API bool sio_fail_kind_enabled(enum sio_fail_kind kind);
/* How many faults were injected in this process, of every kind. */
SIO_API unsigned long sio_fail_injected(void);

#ifdef __cplusplus
}
#endif
#endif
