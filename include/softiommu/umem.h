/*
 * User memory: the one interface through which softiommu touches memory
 * that belongs to a program (an "owner" address space).
 *
 * Four operations, all by (owner, user address): fault-safe read and write,
 * pin and unpin.  A pin gives the library its own host mapping of the
 * pinned pages (the "alias", see docs/pinning.md and docs/umem.md): device
 * DMA goes through the alias, so it keeps reaching the same pages whatever
 * the owner does to its own view afterwards (munmap, mremap, mmap over it).
 * Pinned pages are charged to RLIMIT_MEMLOCK in one of the modes of
 * iommufd's IOMMU_OPTION_RLIMIT_MODE.
 *
 * A file can be pinned too (iommufd's IOMMU_IOAS_MAP_FILE): the pin goes
 * through a reference to the file (sio_umem_file_get()), by file offset, so
 * it does not depend on any mapping of the owner's; the rest of the pin
 * interface is the same for both kinds.
 *
 * The owner is opaque.  sio_umem_owner_self() makes one for the calling
 * process (in-process emulation); a server mode will make owners for other
 * processes behind the same calls, so nothing that uses this header may
 * assume the owner is the caller.
 *
 * Every function returning int returns 0 or a negative errno and leaves a
 * message for sio_last_error().  All functions are thread safe.
 */
#ifndef SOFTIOMMU_UMEM_H
#define SOFTIOMMU_UMEM_H

#include <sys/types.h>

#include "softiommu/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sio_umem_owner;
struct sio_umem_pin;
struct sio_umem_file;

/*
 * How pinned pages are charged to RLIMIT_MEMLOCK, as iommufd's account
 * modes (IOPT_PAGES_ACCOUNT_*):
 *  NONE  nothing is charged (the kernel's choice when the pinning process
 *        has CAP_IPC_LOCK);
 *  USER  a per-uid counter shared by every owner of that uid in this
 *        process (the kernel's user->locked_vm, iommufd's default);
 *  MM    a per-owner counter (the kernel's mm->locked_vm; iommufd's
 *        IOMMU_OPTION_RLIMIT_MODE = 1, VFIO's mode).
 * A charge fails with -ENOMEM when the counter would exceed the owner's
 * RLIMIT_MEMLOCK soft limit.
 */
enum sio_umem_acct {
	SIO_UMEM_ACCT_NONE = 0,
	SIO_UMEM_ACCT_USER = 1,
	SIO_UMEM_ACCT_MM = 2,
};

/* Pin flags. */
#define SIO_UMEM_PIN_WRITE (1u << 0)	/* the device may write: FOLL_WRITE */
/* Charge nothing, not even the pinned count: the caller accounts itself
 * with sio_umem_charge() (e.g. per page as its domains fill, as the
 * kernel's iopt_pages do). acct is ignored. */
#define SIO_UMEM_PIN_NOCHARGE (1u << 1)

/* ------------------------------------------------------------------ */
/* Owners                                                               */
/* ------------------------------------------------------------------ */

/*
 * A new reference to an owner standing for the calling process.  Each call
 * makes a distinct owner (its own MM-mode counter); USER-mode charges of
 * all of them meet in the per-uid counter.  The kernel's MM counter is per
 * process, so a caller that wants its behaviour uses one owner for all its
 * contexts in the process.
 */
SIO_API int sio_umem_owner_self(struct sio_umem_owner **out);

/* Take another reference; returns owner. */
SIO_API struct sio_umem_owner *sio_umem_owner_get(struct sio_umem_owner *owner);

/* Drop a reference; the last one frees the owner.  Live pins hold their
 * own reference, so an owner outlives its pins.  NULL is ignored. */
SIO_API void sio_umem_owner_put(struct sio_umem_owner *owner);

/* The owner's page size in bytes: the granule of pins and accounting. */
SIO_API size_t sio_umem_page_size(const struct sio_umem_owner *owner);

/* ------------------------------------------------------------------ */
/* Fault-safe copies                                                    */
/* ------------------------------------------------------------------ */

/*
 * Copy len bytes from the owner's uaddr to dst.  A bad or partly unmapped
 * user range gives -EFAULT (never a signal); nothing is guaranteed about
 * how much of dst was written then.  len 0 succeeds.
 */
SIO_API int sio_umem_read(struct sio_umem_owner *owner, void *dst,
			  uint64_t uaddr, size_t len);

/* Copy len bytes from src to the owner's uaddr; -EFAULT as for read (a
 * read-only user page is a fault too).  A prefix may have been written
 * when it fails. */
SIO_API int sio_umem_write(struct sio_umem_owner *owner, uint64_t uaddr,
			   const void *src, size_t len);

/* ------------------------------------------------------------------ */
/* Pins                                                                 */
/* ------------------------------------------------------------------ */

/*
 * Pin the pages covering [uaddr, uaddr + len) and charge them in mode acct.
 *
 * The pages are those the owner maps there now; from here on they are
 * reached through the pin's alias (sio_umem_pin_host()), which keeps them
 * whatever the owner later does to its view.  Private memory is "unshared"
 * on pin: the owner's view is replaced by a shared mapping of a copy, so
 * the owner and the alias see each other's writes from then on.
 *
 * Errors, as the kernel's pin_user_pages(FOLL_LONGTERM) and iommufd:
 *   -EINVAL     len is 0, flags has unknown bits or acct is unknown;
 *   -EOVERFLOW  uaddr + len wraps;
 *   -EFAULT     some page is not mapped, is PROT_NONE, is a special
 *               mapping ([vvar], I/O), or the pin asks for write and the
 *               mapping is read-only, or is a shared writable mapping of a
 *               file system with writeback (the kernel refuses long-term
 *               writable pins there);
 *   -ENOMEM     the charge would exceed RLIMIT_MEMLOCK, or no memory;
 *   -EOPNOTSUPP a hugetlb mapping this process cannot alias (see
 *               docs/umem.md).
 * The effective accounting mode is NONE when the owner has CAP_IPC_LOCK at
 * pin time, as iommufd decides when it creates its iopt_pages; the pin
 * remembers what it charged and unpin takes exactly that back.
 * Pinning the same range twice gives two pins of the same pages.
 */
SIO_API int sio_umem_pin(struct sio_umem_owner *owner, uint64_t uaddr,
			 size_t len, unsigned int flags, enum sio_umem_acct acct,
			 struct sio_umem_pin **out);

/* Drop the alias and uncharge.  The caller must have stopped every use of
 * the alias addresses.  NULL is ignored. */
SIO_API void sio_umem_unpin(struct sio_umem_pin *pin);

/*
 * The alias host address of uaddr + offset (offset < the pinned length,
 * counted from the uaddr given to sio_umem_pin()), or 0 when offset is out
 * of range.  If contig is not NULL it receives how many bytes from there on
 * are contiguous in the alias (up to the end of the pin).
 */
SIO_API uint64_t sio_umem_pin_host(const struct sio_umem_pin *pin,
				   uint64_t offset, size_t *contig);

/* A contiguous piece of a pin: len bytes of the owner from uaddr (page
 * aligned) reached through the alias at host. */
struct sio_umem_range {
	uint64_t uaddr;
	uint64_t host;
	size_t len;
};

/* Number of contiguous alias pieces of the pin (>= 1). */
SIO_API size_t sio_umem_pin_nr_ranges(const struct sio_umem_pin *pin);

/* Piece idx (0-based, in address order); -ENOENT past the last one.  The
 * pieces cover the pinned pages exactly: the first starts at uaddr rounded
 * down to a page, the last ends at uaddr + len rounded up. */
SIO_API int sio_umem_pin_range(const struct sio_umem_pin *pin, size_t idx,
			       struct sio_umem_range *out);

/*
 * The calling process's [addr, addr + len) was unmapped or replaced
 * (munmap, mmap with MAP_FIXED, the old range of mremap, shmdt): the
 * in-process owner forgets what it knew of the range.  The /dev/iommu shim
 * calls it from its interposers; nothing depends on it for correctness
 * (a pin checks what it knows against the kernel), it only spares the next
 * pin there a stale lookup.  len 0 means to the end of the address space.
 */
SIO_API void sio_umem_notify_unmap(uint64_t addr, uint64_t len);

/* What the in-process owner's arena holds and how it asked the kernel. */
struct sio_umem_arena_stats {
	size_t files;		/* memory files, each mapped once by the library */
	size_t entries;		/* program ranges known to map them */
	size_t watched;		/* of which the kernel reports unmaps */
	uint64_t queries;	/* VMA lookups answered by PROCMAP_QUERY */
	uint64_t maps_reads;	/* VMA lookups that read all of the maps file */
};
SIO_API void sio_umem_arena_stats(struct sio_umem_arena_stats *out);

/* Pages the pin covers (and charged, unless its mode is NONE). */
SIO_API size_t sio_umem_pin_npages(const struct sio_umem_pin *pin);

/* The accounting mode the pin was charged in (after the CAP_IPC_LOCK
 * rule). */
SIO_API enum sio_umem_acct sio_umem_pin_acct(const struct sio_umem_pin *pin);

/* ------------------------------------------------------------------ */
/* Accounting                                                           */
/* ------------------------------------------------------------------ */

/*
 * The mode a new charge of owner would actually use: NONE if the owner has
 * CAP_IPC_LOCK now, else acct.  Callers that charge explicitly record this
 * and pass it back to sio_umem_uncharge(), since the capability may change
 * in between.
 */
SIO_API enum sio_umem_acct sio_umem_acct_effective(struct sio_umem_owner *owner,
						   enum sio_umem_acct acct);

/*
 * Charge or uncharge npages in exactly mode acct (no capability rule: pass
 * what sio_umem_acct_effective() returned).  These let the iommufd layer
 * account page by page as the kernel's iopt_pages do (pinning with
 * SIO_UMEM_PIN_NOCHARGE), and move a charge between owners (IOMMU_IOAS_CHANGE_PROCESS).
 * sio_umem_charge() fails with -ENOMEM over RLIMIT_MEMLOCK; uncharging more
 * than was charged is a caller bug, reported on stderr and clamped.
 */
SIO_API int sio_umem_charge(struct sio_umem_owner *owner,
			    enum sio_umem_acct acct, size_t npages);
SIO_API void sio_umem_uncharge(struct sio_umem_owner *owner,
			       enum sio_umem_acct acct, size_t npages);

/* ------------------------------------------------------------------ */
/* Files                                                                */
/* ------------------------------------------------------------------ */

/*
 * A reference to the file open at the owner's descriptor fd (the kernel's
 * fget()).  From here on the file is reached through the reference,
 * whatever the owner does with fd afterwards (close it, dup2 over it), and
 * the file stays alive until the last reference and pin are gone.  -EBADF
 * if fd is not an open descriptor (O_PATH descriptors included, as fget()
 * refuses them).  Nothing else is checked here: whether the file can be
 * pinned is decided by sio_umem_pin_file(), as the kernel decides when it
 * pins.
 */
SIO_API int sio_umem_file_get(struct sio_umem_owner *owner, int fd,
			      struct sio_umem_file **out);

/* The same for a descriptor the library opened itself (memory it exports
 * to devices, e.g. a dmabuf's): fd is the library's, not the owner's, and
 * the reference takes it over (it is closed with the last reference, and
 * on failure). */
SIO_API int sio_umem_file_adopt(struct sio_umem_owner *owner, int fd,
				struct sio_umem_file **out);

/* Take another reference; returns file. */
SIO_API struct sio_umem_file *sio_umem_file_ref(struct sio_umem_file *file);

/* Drop a reference.  Pins hold their own.  NULL is ignored. */
SIO_API void sio_umem_file_put(struct sio_umem_file *file);

/*
 * Whether the owner's address uaddr is in a shared mapping of file, and at
 * which byte offset of the file: 0, -ENOENT when uaddr maps something else
 * (another file, private or anonymous memory), -EFAULT when it is not
 * mapped.  How the selftest's MD_CHECK_REFS finds the file page behind a
 * program's address.
 */
SIO_API int sio_umem_file_offset(struct sio_umem_file *file, uint64_t uaddr,
				 uint64_t *offset);

/*
 * Pin the pages of file covering the bytes [offset, offset + len) and
 * charge them in mode acct, as sio_umem_pin() does for an address range
 * (flags and accounting are the same).  The pin is the library's own
 * shared mapping of the file, so it does not depend on the owner ever
 * having mapped it; like the kernel's memfd_pin_folios() it allocates
 * pages in holes of the file.  Offsets given to sio_umem_pin_host() count
 * from offset, and sio_umem_range.uaddr is a file offset.
 *
 * Errors, as memfd_pin_folios() and iommufd:
 *   -EINVAL     len is 0, flags or acct unknown, offset + len beyond what a
 *               file offset can hold; the file is not memory (shmem:
 *               memfd, tmpfs, shared anonymous; or hugetlbfs), or the
 *               pinned pages (whole CPU pages) pass the end of the file,
 *               also when the owner shrinks it while the pin is made;
 *   -EOVERFLOW  offset + len wraps;
 *   -ENOMEM     the charge would exceed RLIMIT_MEMLOCK, or no memory (no
 *               free huge pages for a hugetlbfs file);
 *   -EBADF      the library's descriptor of the file was closed or
 *               replaced behind its back (see docs/umem.md);
 *   -EACCES, -EPERM  a write pin of a file the library can only open
 *               read-only, or that is write-sealed (the kernel pins those
 *               anyway; docs/pinning.md).
 */
SIO_API int sio_umem_pin_file(struct sio_umem_file *file, uint64_t offset,
			      size_t len, unsigned int flags,
			      enum sio_umem_acct acct, struct sio_umem_pin **out);

/* Counters, in pages. */
struct sio_umem_stats {
	uint64_t pinned;	/* charged in any mode, NONE too (VmPin) */
	uint64_t locked_mm;	/* charged in MM mode to this owner (VmLck) */
	uint64_t locked_user;	/* the USER-mode counter of the owner's uid */
};

SIO_API void sio_umem_owner_stats(struct sio_umem_owner *owner,
				  struct sio_umem_stats *out);

/* The USER-mode counter of uid in this process (0 if never charged). */
SIO_API uint64_t sio_umem_user_locked(uid_t uid);

#ifdef __cplusplus
}
#endif
#endif
