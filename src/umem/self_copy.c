/*
 * Copies to and from the calling process (the in-process owner's read and
 * write ops).
 *
 * Two ways, chosen per copy:
 *  - sio_safe_memcpy() (util/safecopy.h), a plain copy whose faults the
 *    library's SIGSEGV/SIGBUS handler (the MMIO trap) resumes at its
 *    fix-up, which returns -EFAULT.  No system call: a few ns for an ioctl
 *    argument.  Only a bad pointer pays, the signal (about 1.3 us).  Used
 *    when the handler is in place (sio_safecopy_armed()), which the preload
 *    shim makes sure of at start-up.
 *  - process_vm_readv/process_vm_writev on our own pid: the kernel walks
 *    the page tables and reports a bad pointer as EFAULT.  About 0.4 us.
 *    Used while no handler is in place, as when a program links the
 *    library and never maps a file or registers an MMIO region; this layer
 *    is below the trap and cannot install it.
 * Both give -EFAULT for an unmapped page, PROT_NONE, and a write to a
 * read-only page, as copy_from_user/copy_to_user do; the data the caller
 * gets on failure is unspecified, as the kernel's.
 */
#include <errno.h>
#include <sys/uio.h>

#include "umem/self.h"
#include "util/safecopy.h"

/* Out of line: inlined, its register saves would be paid by every
 * fault-safe copy too. */
static __attribute__((noinline)) int copy_by_syscall(bool to_user, void *local,
						     uint64_t uaddr, size_t len)
{
	pid_t pid = sio_umem_self_pid();
	char *l = local;

	while (len) {
		struct iovec liov = { .iov_base = l, .iov_len = len };
		struct iovec riov = { .iov_base = (void *)(uintptr_t)uaddr,
				      .iov_len = len };
		ssize_t n;

		n = to_user ? process_vm_writev(pid, &liov, 1, &riov, 1, 0) :
			      process_vm_readv(pid, &liov, 1, &riov, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		/* A short count means the next page faults: asking again
		 * gives EFAULT, or more bytes if it was a transient stop. */
		if (n == 0)
			return -EFAULT;
		l += n;
		uaddr += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int sio_umem_self_copy(bool to_user, void *local, uint64_t uaddr, size_t len)
{
	void *u = (void *)(uintptr_t)uaddr;

	if (__builtin_expect(sio_safecopy_armed(), 1))
		return to_user ? sio_safe_memcpy(u, local, len) :
				 sio_safe_memcpy(local, u, len);
	return copy_by_syscall(to_user, local, uaddr, len);
}

int sio_umem_self_read(struct sio_umem_owner *owner, void *dst, uint64_t uaddr,
		       size_t len)
{
	int rc = sio_umem_self_copy(false, dst, uaddr, len);

	(void)owner;
	if (rc)
		return sio_err(rc, "umem: cannot read user memory 0x%llx+0x%zx",
			       (unsigned long long)uaddr, len);
	return 0;
}

int sio_umem_self_write(struct sio_umem_owner *owner, uint64_t uaddr,
			const void *src, size_t len)
{
	int rc = sio_umem_self_copy(true, (void *)src, uaddr, len);

	(void)owner;
	if (rc)
		return sio_err(rc, "umem: cannot write user memory 0x%llx+0x%zx",
			       (unsigned long long)uaddr, len);
	return 0;
}
