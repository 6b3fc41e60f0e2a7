/*
 * A copy that survives a fault: sio_safe_memcpy() returns -EFAULT instead
 * of dying when the source or destination is not there any more (a
 * truncated file's page, SIGBUS; an unmapped page, SIGSEGV).
 *
 * The copy is an assembly routine of its own, so the instructions that
 * can fault on the caller's memory sit in a known range of addresses.  The routine itself takes no signal: whoever owns the process's
 * SIGSEGV/SIGBUS handler (the MMIO trap, src/mmio/trap.c) asks
 * sio_safecopy_fixup() whether a faulting RIP is in that range and, if
 * so, resumes the thread at the address it returns, where the routine
 * returns -EFAULT.  Without that handler installed a fault here kills the
 * process as a plain memcpy would; docs/umem.md says who installs it.
 * x86-64 only.
 */
#ifndef SIO_UTIL_SAFECOPY_H
#define SIO_UTIL_SAFECOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copy len bytes from src to dst (which do not overlap): 0, or -EFAULT
 * when an access faulted (some of the bytes may have been copied). */
int sio_safe_memcpy(void *dst, const void *src, size_t len);

/* Where a fault at rip resumes: the routine's fix-up when rip is inside
 * its copy, else 0.  Async-signal-safe. */
uintptr_t sio_safecopy_fixup(uintptr_t rip);

/*
 * Whether a fault inside sio_safe_memcpy() is sure to resume at its
 * fix-up, for good: the handler that resumes it (the MMIO trap's) is in
 * place and nothing can displace it unseen.  Layers below the trap
 * (umem's copies of ioctl arguments) ask before copying with
 * sio_safe_memcpy() and copy by system call (process_vm_readv/writev)
 * while it is not armed.  Installing the handler is not enough: a program
 * that links the library may replace it with a direct sigaction() (a test
 * framework does so around every test), and a copy fault would then reach
 * that handler.  The preload shim arms it at start-up, after installing
 * the trap, because its interposers route every libc sigaction() for
 * SIGSEGV and SIGBUS to the trap.  One acquire load; armed stays armed.
 */
void sio_safecopy_arm(void);

/*
 * Whether the calling thread has SIGSEGV or SIGBUS blocked: the kernel
 * kills a thread whose synchronous fault is blocked, handler or not, so
 * such a thread copies by system call even when armed.  Read from the
 * kernel at a thread's first copy (a new thread inherits its creator's
 * mask), then kept by the shim's sigprocmask/pthread_sigmask interposers
 * through sio_safecopy_set_thread_blocked().
 */
enum {
	SIO_SAFECOPY_MASK_UNKNOWN,
	SIO_SAFECOPY_MASK_OPEN,
	SIO_SAFECOPY_MASK_BLOCKED,
};
void sio_safecopy_set_thread_blocked(bool blocked);
bool sio_safecopy_thread_mask_open(void);

static inline bool sio_safecopy_armed(void)
{
	extern bool sio_safecopy_is_armed;
	extern __thread unsigned char sio_safecopy_thread_mask
		__attribute__((tls_model("initial-exec")));

	if (!__atomic_load_n(&sio_safecopy_is_armed, __ATOMIC_ACQUIRE))
		return false;
	if (__builtin_expect(sio_safecopy_thread_mask == SIO_SAFECOPY_MASK_OPEN, 1))
		return true;
	return sio_safecopy_thread_mask_open();
}

#endif
