/*
 * The copies of ioctl arguments, decided inline by the layers above (the
 * iommufd dispatcher reads every argument and writes back every answer).
 *
 * sio_umem_read() and sio_umem_write() are the public entries: they clear
 * the thread's message, check the range, count a fault-injection site and
 * call the owner's op, which for the calling process's own memory
 * (self_copy.c) checks that the fault-safe copy is armed and calls it:
 * five calls, one of them indirect, around a copy of a few dozen bytes.
 * sio_umem_copy_direct() says, with a few loads, whether a copy for an
 * owner is the common case: the in-process owner, the fault-safe copy
 * armed for this thread, no fault injection armed (whose copies are
 * counted sites), a range that does not wrap.  Then the caller may copy
 * with sio_safe_memcpy() itself; a fault there is -EFAULT, as the owner's
 * op would answer, and the caller leaves its own message.  In any other
 * case it calls the public entry.
 */
#ifndef SIO_UMEM_COPY_H
#define SIO_UMEM_COPY_H

#include "softiommu/umem.h"
#include "umem/self.h"
#include "umem/umem.h"
#include "util/fail.h"
#include "util/safecopy.h"

static inline bool sio_umem_copy_direct(const struct sio_umem_owner *owner,
					uint64_t uaddr, size_t len)
{
	uint64_t end;

	return owner->ops->read == sio_umem_self_read && !sio_fail_nth_left &&
	       !__builtin_add_overflow(uaddr, (uint64_t)len, &end) &&
	       sio_safecopy_armed();
}

#endif
