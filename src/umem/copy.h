/*
 * The copies of ioctl arguments, inline, for the layers above (the iommufd
 * dispatcher reads every argument and writes back every answer).
 *
 * sio_umem_read() and sio_umem_write() are the public entries: they clear
 * the thread's message, check the range, count a fault-injection site and
 * call the owner's op, which for the calling process's own memory
 * (self_copy.c) checks that the fault-safe copy is armed and calls it.
 * That is five calls, one of them indirect, around a copy of a few dozen
 * bytes.  The common case (the in-process owner, the copy armed, no fault
 * injection armed, a range that does not wrap) is decided here with a few
 * loads and goes straight to sio_safe_memcpy(); a fault there leaves the
 * message the owner's op would (sio_umem_self_copy_failed()).  Everything
 * else takes the public entry, so fault injection counts these copies as
 * sites exactly as before.  The caller clears the thread's message
 * itself, as an ioctl entry point does.
 */
#ifndef SIO_UMEM_COPY_H
#define SIO_UMEM_COPY_H

#include "softiommu/umem.h"
#include "umem/self.h"
#include "umem/umem.h"
#include "util/fail.h"
#include "util/safecopy.h"

/* err (-EFAULT for a fault) with the message of a failed copy of the
 * in-process owner (self_copy.c). */
int sio_umem_self_copy_failed(int err, bool to_user, uint64_t uaddr,
			      size_t len);

/* Whether the copy of [uaddr, uaddr + len) for owner can be the plain
 * fault-safe one. */
static inline bool sio_umem_copy_direct(const struct sio_umem_owner *owner,
					uint64_t uaddr, size_t len)
{
	uint64_t end;

	return owner->ops->read == sio_umem_self_read && !sio_fail_nth_left &&
	       !__builtin_add_overflow(uaddr, (uint64_t)len, &end) &&
	       sio_safecopy_armed();
}

/* sio_umem_read() of an ioctl's argument. */
static inline int sio_umem_copy_in(struct sio_umem_owner *owner, void *dst,
				   uint64_t uaddr, size_t len)
{
	if (__builtin_expect(sio_umem_copy_direct(owner, uaddr, len), 1)) {
		if (__builtin_expect(sio_safe_memcpy(dst, (void *)(uintptr_t)uaddr,
						     len) == 0, 1))
			return 0;
		return sio_umem_self_copy_failed(-EFAULT, false, uaddr,
						 len);
	}
	return sio_umem_read(owner, dst, uaddr, len);
}

/* sio_umem_write() of an ioctl's answer. */
static inline int sio_umem_copy_out(struct sio_umem_owner *owner,
				    uint64_t uaddr, const void *src, size_t len)
{
	if (__builtin_expect(sio_umem_copy_direct(owner, uaddr, len), 1)) {
		if (__builtin_expect(sio_safe_memcpy((void *)(uintptr_t)uaddr,
						     src, len) == 0, 1))
			return 0;
		return sio_umem_self_copy_failed(-EFAULT, true, uaddr,
						 len);
	}
	return sio_umem_write(owner, uaddr, src, len);
}

#endif
