/*
 * The step checks the library-API demos share: every step's result is
 * checked, and the first failure prints what failed, the errno and the
 * library's message and makes the demo exit non-zero.  That is what lets
 * the demos double as smoke tests.
 */
#ifndef SIO_TOOLS_DEMO_STEP_H
#define SIO_TOOLS_DEMO_STEP_H

#include <stdio.h>

#include "softiommu/common.h"

static inline int failed(const char *step, int rc)
{
	fprintf(stderr, "demo: %s failed: %d (%s)\n", step, rc, sio_last_error());
	return 1;
}

/* Run call; on a negative result return failed(what) from the caller. */
#define STEP(call, what)                          \
	do {                                      \
		int rc_ = (call);                 \
		if (rc_ < 0)                      \
			return failed(what, rc_); \
	} while (0)

#endif
