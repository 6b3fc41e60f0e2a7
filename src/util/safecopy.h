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

#include <stddef.h>
#include <stdint.h>

/* Copy len bytes from src to dst (which do not overlap): 0, or -EFAULT
 * when an access faulted (some of the bytes may have been copied). */
int sio_safe_memcpy(void *dst, const void *src, size_t len);

/* Where a fault at rip resumes: the routine's fix-up when rip is inside
 * its copy, else 0.  Async-signal-safe. */
uintptr_t sio_safecopy_fixup(uintptr_t rip);

#endif
