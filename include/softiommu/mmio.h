/*
 * MMIO by plain loads and stores: memory that traps every access to a
 * device model.
 *
 * A userspace driver programs a device through its mmap'd BAR with plain
 * instructions (readl/writeq, MOV to and from memory).  sio_mmio_map()
 * gives such a mapping: pages with no access rights, registered in a
 * lock-free table.  A load or store there raises SIGSEGV; the library's
 * handler finds the region, decodes the faulting x86-64 instruction,
 * performs the access through the region's ops (a read returns the
 * register's current value, a store reaches the model at once, so a
 * doorbell is seen before the next instruction) and resumes after it.
 * docs/mmio.md says why this mechanism was chosen and what it costs.
 *
 * Faults anywhere else go to the program's own handler, or to the default
 * action: the library keeps its handler first and chains.  Under
 * `softiommu run` the shim forwards the program's sigaction()/signal()
 * calls for SIGSEGV and SIGBUS to sio_trap_sigaction(), so a program that
 * installs handlers later keeps them working without displacing ours.  A
 * program that links the library itself should do the same, or call
 * sio_trap_install() after installing its handlers directly.
 *
 * The ops run inside the signal handler, on the thread that made the
 * access, with every signal blocked: they must not fault themselves (a
 * fault there kills the process), must not map or unregister regions
 * (unregister waits for running ops), and must not take a lock that the
 * accessing thread may hold.  An access while the thread blocks SIGSEGV
 * (inside the program's own SIGSEGV handler, for instance) cannot be
 * trapped: the kernel kills the process, as docs/mmio.md explains.
 * x86-64 only.
 */
#ifndef SOFTIOMMU_MMIO_H
#define SOFTIOMMU_MMIO_H

#include <signal.h>
#include <sys/types.h>

#include "softiommu/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sio_mmio_region;

struct sio_mmio_ops {
	/* off is from the region's start; size 1, 2, 4 or 8 (a wider access,
	 * e.g. a 16- or 64-byte store, is split into 8-byte ones in order). */
	uint64_t (*read)(void *opaque, uint64_t off, unsigned int size);
	void (*write)(void *opaque, uint64_t off, unsigned int size,
		      uint64_t val);
};

/*
 * Map len bytes (a multiple of the page size) that trap to ops.  *addr in:
 * a hint, or with MAP_FIXED in flags the address to replace; out: the
 * mapping.  flags may hold MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_32BIT,
 * MAP_NORESERVE and MAP_POPULATE; the mapping is always private and
 * anonymous.  A region mapped over part of a registered one takes that
 * part over; the older region keeps the rest until it is unregistered.
 * The caller unmaps it with munmap(2) and then calls
 * sio_mmio_unregister() (or the other way round: an access in between
 * faults as on any unmapped page).  Errors: -EINVAL (arguments), the
 * kernel's mmap errors, -ENOMEM.
 */
SIO_API int sio_mmio_map(void **addr, size_t len, int flags,
			 const struct sio_mmio_ops *ops, void *opaque,
			 struct sio_mmio_region **out);
/* Stop trapping the region and free it; returns after no handler uses
 * it any more.  Does not unmap. */
SIO_API void sio_mmio_unregister(struct sio_mmio_region *region);

/* Install the library's SIGSEGV/SIGBUS handler (done by sio_mmio_map and
 * sio_trap_sigaction).  Idempotent; if something replaced the handler
 * behind the library's back (sigaction(2) called directly, outside the
 * shim), what it finds becomes the program's handler to chain to and the
 * library's is installed again. */
SIO_API int sio_trap_install(void);
/* The program's sigaction(2) for SIGSEGV or SIGBUS: records act as the
 * handler to chain to and returns the previous one in oldact, as the
 * kernel would (unknown flags dropped, SIGKILL and SIGSTOP never in the
 * mask, SA_RESTORER set as glibc reports it), without displacing the
 * library's.  act and oldact may be NULL.  Async-signal-safe, like
 * sigaction, once the library's handler is installed (the first call
 * installs it; errors then leave no message).  A fault delivered to the recorded handler gets the kernel's
 * semantics: its flags (SA_SIGINFO, SA_RESETHAND, SA_NODEFER, SA_ONSTACK)
 * and sa_mask; SIG_DFL and, for a fault, SIG_IGN end the process with the
 * signal.  Other signals: -EINVAL (the caller passes them to the
 * kernel). */
SIO_API int sio_trap_sigaction(int sig, const struct sigaction *act,
			       struct sigaction *oldact);

/*
 * Make the library's copies from and to the calling process (ioctl
 * arguments, fault-fd read()/write() records, a VFIO region's buffers)
 * plain memory copies instead of process_vm_readv/writev system calls,
 * as they are under `softiommu run`: installs the library's SIGSEGV/SIGBUS
 * handler (sio_trap_install()) and arms the fault-safe copy, whose faults
 * that handler turns into -EFAULT.  For a program that links the library.
 *
 * The program promises to keep the library's handler in place for good:
 * from then on it installs its own SIGSEGV and SIGBUS handlers only
 * through sio_trap_sigaction(), never with sigaction(2) or signal(3)
 * directly (a test framework that does, around every test, must not call
 * this).  A handler installed behind the library's back would receive a
 * bad copy's fault instead of the copy failing with -EFAULT.  A thread
 * that blocks SIGSEGV or SIGBUS keeps copying by system call.  There is
 * no way back: armed stays armed.  0, or the negative errno of
 * sio_trap_install().
 */
SIO_API int sio_usercopy_arm(void);

#ifdef __cplusplus
}
#endif
#endif
