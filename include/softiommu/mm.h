/*
 * Process address spaces ("mm"): what SVA shares between a CPU and devices.
 *
 * An mm is a CPU page table in the x86-64 4-level format (48-bit virtual
 * addresses, 4 KiB pages) over anonymous memory, with the calls a process
 * makes on its own address space: mmap, munmap, mprotect, and a fault
 * handler that populates a page on first touch.  sio_mm_read/write are the
 * CPU's loads and stores: they fault pages in on demand.  The leaves of the
 * page table hold host addresses the library may dereference (the project's
 * memory model), so a device translating through the table reaches the very
 * pages the CPU sees.
 *
 * Two reference counts, as in Linux: users (mmget/mmput: the process is
 * alive) and count (mmgrab/mmdrop: the structure is).  When the last user
 * goes the mm exits: notifiers hear release(), every mapping is torn down
 * and its memory freed; the structure and its (now empty) page table stay
 * until the last count.  Calls that change an exited mm return -ESRCH.
 *
 * Notifiers (MMU notifiers) let secondary TLBs follow the page table:
 * invalidate() is called for a range after its entries changed or went and
 * before munmap or mprotect return, and before the old pages are freed.
 * Callbacks run under the mm's lock: they must not call back into the mm.
 *
 * Concurrency: mmap, munmap, mprotect, faults and notifier registration are
 * serialized by the mm's lock.  Page-table lookups (sio_mm_lookup, and the
 * device data path) take no lock and are safe against all of them: freed
 * pages and table pages are released only after an RCU grace period.
 * mprotect replaces each populated leaf (remove, then map with the new
 * rights), so a device access racing with it may fault, as one racing with
 * munmap may.
 */
#ifndef SOFTIOMMU_MM_H
#define SOFTIOMMU_MM_H

#include "softiommu/common.h"
#include "softiommu/pgtable.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sio_mm;

#define SIO_MM_PAGE_SIZE 4096ull
/* User addresses: [SIO_MM_MIN_ADDR, SIO_MM_TASK_SIZE) as on x86-64. */
#define SIO_MM_MIN_ADDR 0x10000ull
#define SIO_MM_TASK_SIZE (1ull << 47)

/* mmap flags. */
enum {
	SIO_MM_MAP_FIXED = 1u << 0,	/* at addr exactly, replacing what is there */
	SIO_MM_MAP_POPULATE = 1u << 1,	/* fault every page in now */
};

/* A new, empty mm: one user (the caller's). */
SIO_API int sio_mm_create(struct sio_mm **out);

/* Users: the last sio_mm_put() makes the mm exit. */
SIO_API void sio_mm_get(struct sio_mm *mm);
SIO_API bool sio_mm_get_not_zero(struct sio_mm *mm);
SIO_API void sio_mm_put(struct sio_mm *mm);
/* The structure: the last drop frees it (users hold one count together). */
SIO_API void sio_mm_grab(struct sio_mm *mm);
SIO_API void sio_mm_drop(struct sio_mm *mm);
SIO_API bool sio_mm_exited(struct sio_mm *mm);

/*
 * Map len bytes (rounded up to pages) of zeroed anonymous memory with prot
 * (SIO_PROT_READ/WRITE; 0 is PROT_NONE); without SIO_MM_MAP_FIXED addr is a
 * hint and the lowest free range at or above it is taken.  *out: the
 * address.  -EINVAL for len 0, an unaligned or out-of-range FIXED address,
 * or unknown flags; -ENOMEM when no range is free; -ESRCH once exited.
 */
SIO_API int sio_mm_mmap(struct sio_mm *mm, uint64_t addr, uint64_t len,
			unsigned int prot, unsigned int flags, uint64_t *out);
/* Unmap [addr, addr + len) (unmapped parts are fine): -EINVAL for an
 * unaligned addr, len 0 or a range beyond the task size. */
SIO_API int sio_mm_munmap(struct sio_mm *mm, uint64_t addr, uint64_t len);
/* Change the rights of [addr, addr + len): -ENOMEM if part of it is not
 * mapped (nothing changes then), -EINVAL as for munmap. */
SIO_API int sio_mm_mprotect(struct sio_mm *mm, uint64_t addr, uint64_t len,
			    unsigned int prot);

/*
 * The fault handler: make addr present for access (SIO_PROT_READ and/or
 * SIO_PROT_WRITE), populating a zeroed page on first touch.  -EFAULT if no
 * mapping covers addr, -EACCES if the mapping does not allow the access,
 * -ESRCH once exited, -ENOMEM.
 */
SIO_API int sio_mm_fault(struct sio_mm *mm, uint64_t addr, unsigned int access);

/* CPU loads and stores through the page table, faulting pages in; errors
 * as for sio_mm_fault, nothing copied past the failing page. */
SIO_API int sio_mm_read(struct sio_mm *mm, uint64_t addr, void *buf, size_t len);
SIO_API int sio_mm_write(struct sio_mm *mm, uint64_t addr, const void *buf,
			 size_t len);

/* Lock-free page-table walk of addr (0 and *out, or -ENOENT), for the
 * device data path: call it inside the library's RCU read-side section
 * (driver lookup ops run in one). */
SIO_API int sio_mm_lookup(struct sio_mm *mm, uint64_t addr, struct sio_xlate *out);

/* Counters, for tests and demos. */
struct sio_mm_stats {
	uint64_t vmas;			/* mappings */
	uint64_t pages;			/* populated pages */
	uint64_t faults;		/* pages populated by the fault handler */
	uint64_t invalidations;		/* notifier invalidate() rounds */
	uint64_t pool;			/* zeroed free pages kept for faults */
};
SIO_API void sio_mm_stats(struct sio_mm *mm, struct sio_mm_stats *out);

/* An MMU notifier: embed it, fill ops, register. */
struct sio_mm_notifier;
struct sio_mm_notifier_ops {
	/* [start, end) changed or went away: drop cached translations. */
	void (*invalidate)(struct sio_mm_notifier *mn, uint64_t start,
			   uint64_t end);
	/* The mm is exiting: stop reaching its memory.  Pages are freed
	 * after every release() returned and a grace period passed. */
	void (*release)(struct sio_mm_notifier *mn);
};

struct sio_mm_notifier {
	const struct sio_mm_notifier_ops *ops;
	/* private */
	struct sio_mm *mm;
	struct sio_mm_notifier *next;
};

/* -ESRCH once the mm exited, -EBUSY if mn is registered. */
SIO_API int sio_mm_notifier_register(struct sio_mm *mm,
				     struct sio_mm_notifier *mn);
/* When it returns, no callback of mn runs or will run. */
SIO_API void sio_mm_notifier_unregister(struct sio_mm_notifier *mn);

#ifdef __cplusplus
}
#endif
#endif
