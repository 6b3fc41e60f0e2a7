/*
 * Run a test body under every fault-injection point it reaches, in turn:
 * the loop of the kernel's iommufd_fail_nth, on the library's fail-nth
 * (softiommu/fault_inject.h, docs/fault-injection.md).
 *
 * For n = 1, 2, ...: arm this thread's countdown at n, run the body, read
 * what is left and disarm, then undo what the body built.  A body returns
 * 0 or a negative errno, and must never assert that a library call
 * succeeded (it propagates the first error).  When the countdown fired
 * (nothing left), the body may have failed (a negative errno in the
 * kernel's range) or have absorbed the failure and succeeded; when it did
 * not fire, the body ran past every site of this path, must have
 * succeeded, and the sweep ends.  The undo must leave the library as it
 * was, so the next iteration starts afresh; leaks show under ASan's leak
 * checker.  Allocations and pages count during the sweep (failslab and
 * fail_page_alloc ignore-gfp-wait "N"), as the kernel's test sets them.
 *
 * Returns the number of sites swept.
 */
#ifndef SIO_TEST_FAIL_SWEEP_H
#define SIO_TEST_FAIL_SWEEP_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "softiommu/fault_inject.h"

#define FAIL_SWEEP_MAX 100000u

static inline unsigned int fail_sweep(int (*body)(void *ctx),
				      void (*undo)(void *ctx), void *ctx)
{
	bool slab = sio_fail_kind_enabled(SIO_FAIL_SLAB);
	bool page = sio_fail_kind_enabled(SIO_FAIL_PAGE);
	unsigned int n;

	sio_fail_kind_enable(SIO_FAIL_SLAB, true);
	sio_fail_kind_enable(SIO_FAIL_PAGE, true);
	for (n = 1; n < FAIL_SWEEP_MAX; n++) {
		unsigned int left;
		int rc;

		sio_fail_nth_set(n);
		rc = body(ctx);
		left = sio_fail_nth_get();
		sio_fail_nth_set(0);
		if (undo)
			undo(ctx);
		if (rc > 0 || rc < -4095)
			fail_msg("fail_sweep: site %u: the body returned %d", n, rc);
		if (left) {
			/* Past every site: the whole path worked. */
			if (rc)
				fail_msg("fail_sweep: without a fault the body failed: %d",
					 rc);
			break;
		}
	}
	assert_true(n < FAIL_SWEEP_MAX);
	sio_fail_kind_enable(SIO_FAIL_SLAB, slab);
	sio_fail_kind_enable(SIO_FAIL_PAGE, page);
	return n - 1;
}

/*
 * The whole check a sweep test makes: sweep body under every failure
 * point, say how many sites it visited (which must be more than
 * min_sites: a sweep that reaches none cannot fail), then run it once
 * more unarmed, where it must succeed, and undo.
 */
static inline unsigned int fail_sweep_check(const char *what,
					    int (*body)(void *ctx),
					    void (*undo)(void *ctx), void *ctx,
					    unsigned int min_sites)
{
	unsigned int sites = fail_sweep(body, undo, ctx);

	print_message("%s: %u sites\n", what, sites);
	assert_true(sites > min_sites);
	assert_int_equal(body(ctx), 0);
	if (undo)
		undo(ctx);
	return sites;
}

#endif
