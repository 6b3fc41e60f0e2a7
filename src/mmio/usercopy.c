/*
 * sio_usercopy_arm(): a program that links the library gets the copies a
 * program under `softiommu run` gets.  The trap owns the SIGSEGV/SIGBUS
 * handler that resumes a faulting fault-safe copy (util/safecopy.h); once
 * it is installed and the program promised to keep it (mmio.h), the
 * copies may use it, which is what arming says.  The preload shim does
 * the same two steps from its constructor, where its sigaction
 * interposers keep the promise for the program.
 */
#include "mmio/mmio_private.h"
#include "softiommu/mmio.h"
#include "util/safecopy.h"

SIO_API int sio_usercopy_arm(void)
{
	int rc = sio_trap_install();

	if (rc)
		return rc;
	sio_safecopy_arm();
	return 0;
}
