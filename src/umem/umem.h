/*
 * Private definitions of the user-memory layer: owners and their ops, pins
 * and the pieces they are made of, file references, and the VMA lookups
 * (PROCMAP_QUERY, or the /proc/<pid>/maps reader) the in-process
 * implementation uses.
 *
 * The common code (owner.c) owns reference counting, argument checks and
 * RLIMIT_MEMLOCK accounting; an implementation (self.c: the calling
 * process) only moves bytes and makes or drops aliases.  A server mode adds
 * another ops table and a constructor, nothing else.  File pins (file_pin.c)
 * are the library's own mappings of a file it holds a descriptor of, so
 * the owner's ops only hand over that descriptor (a dup in-process;
 * pidfd_getfd() would do for another process).
 *
 * Locks (none is held while calling into another layer):
 *   self_lock   (self.c)  the arena (arena.h: files, views, the program
 *                         ranges known to map them), the slots' fork list,
 *                         the PROCMAP_QUERY descriptor (vma.c) and the
 *                         watch's registrations (watch.c); pins and unpins
 *                         run under it and fork waits for it;
 *   watch_qlock (watch.c) a leaf under self_lock: the ranges the watch's
 *                         monitor thread read from the kernel;
 *   users_lock  (owner.c) the list of per-uid counters (insertion only; the
 *                         counters themselves are atomics).
 * self_lock and users_lock are never nested.
 */
#ifndef SIO_UMEM_UMEM_H
#define SIO_UMEM_UMEM_H

#include <stdbool.h>
#include <sys/types.h>

#include "softiommu/umem.h"
#include "util/error.h"

struct arena_file;

/* One contiguous piece of a pin: the owner's [uaddr, uaddr + len) is
 * reached at host.  fd/fd_offset is the file behind the piece and the
 * offset of uaddr in it, for a process that must map the same pages (the
 * shared mode's server): the descriptor is the library's, valid until
 * unpin, -1 if the piece has no file the library could open.  An address
 * pin's piece holds a reference to the arena file whose view host is in
 * (afile); a file pin's piece is its own mapping, map_base/map_len, which
 * covers the piece and may be larger (whole huge pages). */
struct sio_umem_chunk {
	uint64_t uaddr;
	size_t len;
	uint64_t host;
	int fd;
	uint64_t fd_offset;
	struct arena_file *afile;
	void *map_base;
	size_t map_len;
};

/* A pin flag for implementations, beside the public ones: the pages are
 * pinned already by another pin of the same range, so an owner whose
 * address space may have gone (remote.c) pins them from what it recorded
 * without asking that address space. */
#define SIO_UMEM_PIN_HELD (1u << 31)

/* What an implementation needs to know to charge its owner. */
struct sio_umem_limits {
	uint64_t memlock_bytes;		/* RLIMIT_MEMLOCK soft limit */
	bool cap_ipc_lock;		/* CAP_IPC_LOCK in the effective set */
};

struct sio_umem_owner_ops {
	const char *name;
	int (*read)(struct sio_umem_owner *owner, void *dst, uint64_t uaddr,
		    size_t len);
	int (*write)(struct sio_umem_owner *owner, uint64_t uaddr,
		     const void *src, size_t len);
	/* Alias the page-aligned [start, start + len): pieces in address
	 * order covering it exactly.  On entry *chunks is room for one piece,
	 * the pin's own: a pin of one piece may fill it and leave *chunks as
	 * it is; otherwise *chunks becomes a malloc'd array.  Nothing is left
	 * aliased on failure. */
	int (*pin)(struct sio_umem_owner *owner, uint64_t start, size_t len,
		   unsigned int flags, struct sio_umem_chunk **chunks,
		   size_t *nchunks);
	/* Drop the aliases of pin(); the caller frees a malloc'd array. */
	void (*unpin)(struct sio_umem_owner *owner,
		      struct sio_umem_chunk *chunks, size_t nchunks);
	/* The owner's RLIMIT_MEMLOCK and CAP_IPC_LOCK: fresh when charging
	 * (read now, as the kernel does), else possibly from a cache the
	 * implementation keeps current. */
	int (*limits)(struct sio_umem_owner *owner, bool fresh,
		      struct sio_umem_limits *out);
	/* Free implementation state when the last reference goes. */
	void (*release)(struct sio_umem_owner *owner);
	/* A descriptor of the library's (close-on-exec) for the file open at
	 * the owner's fd: -EBADF if there is none.  Opened for reading and
	 * writing when the file allows it, whatever fd's mode, since the
	 * kernel pins a file without looking at the mode it was opened in. */
	int (*file_get)(struct sio_umem_owner *owner, int fd, int *out);
	/* The file mapped shared at the owner's uaddr and the byte offset
	 * there: -ENOENT if uaddr is mapped otherwise, -EFAULT if not. */
	int (*backing)(struct sio_umem_owner *owner, uint64_t uaddr,
		       dev_t *dev, uint64_t *ino, uint64_t *offset);
};

struct sio_umem_user;

struct sio_umem_owner {
	unsigned int refcount;		/* atomic */
	const struct sio_umem_owner_ops *ops;
	size_t page_size;		/* power of two */
	unsigned int page_shift;
	uid_t uid;			/* charged in USER mode, fixed at creation */
	struct sio_umem_user *user;	/* uid's counter, lives for ever */
	uint64_t pinned;		/* atomic: pages charged in any mode */
	uint64_t locked_mm;		/* atomic: pages charged in MM mode */
	/* A freed pin kept for the next one (owner.c); atomic exchange. */
	struct sio_umem_pin *spare_pin;
	void *priv;			/* implementation state */
};

struct sio_umem_pin {
	struct sio_umem_owner *owner;	/* holds a reference */
	struct sio_umem_file *file;	/* a file pin's file (a reference),
					 * NULL for an address range */
	uint64_t uaddr;			/* as asked (a file offset for a file) */
	size_t len;
	uint64_t start;			/* uaddr rounded down to a page */
	size_t npages;
	unsigned int flags;
	bool charged;			/* false with SIO_UMEM_PIN_NOCHARGE */
	enum sio_umem_acct acct;	/* mode charged in, if charged */
	size_t nchunks;
	struct sio_umem_chunk *chunks;	/* address order: &one, or malloc'd */
	struct sio_umem_chunk one;	/* a pin of one piece needs no array */
};

/* Set up the common part of a new owner; the caller fills ops and priv. */
int sio_umem_owner_init(struct sio_umem_owner *owner,
			const struct sio_umem_owner_ops *ops, uid_t uid,
			size_t page_size);

/*
 * The steps every kind of pin shares (owner.c).  prepare checks the
 * arguments as iopt_alloc_pages() does and makes a pin of the pages
 * covering [addr, addr + len), not yet charged nor mapped; charge charges
 * it unless flags say SIO_UMEM_PIN_NOCHARGE; discard uncharges and frees a
 * pin whose chunks were never made.
 */
int sio_umem_pin_prepare(struct sio_umem_owner *owner, uint64_t addr,
			 size_t len, unsigned int flags,
			 enum sio_umem_acct acct, struct sio_umem_pin **out);
int sio_umem_pin_charge(struct sio_umem_pin *pin, enum sio_umem_acct acct);
void sio_umem_pin_discard(struct sio_umem_pin *pin);

/*
 * sio_umem_pin() and sio_umem_unpin() for a caller that keeps the struct
 * of its last unpin for its next pin, under a lock of its own (iommufd's
 * pages->mutex): no atomic exchange with the owner's spare.
 * sio_umem_unpin_keep() unpins and hands the struct back, still holding
 * a reference to the pin's owner (NULL when fault injection is armed: it
 * is freed then); sio_umem_pin_in() pins into room (NULL: a new struct),
 * keeping room's owner reference when the owner is the same.  On failure
 * room is still the caller's.  sio_umem_pin_kept_free() frees a kept
 * struct and its owner reference.
 */
int sio_umem_pin_in(struct sio_umem_owner *owner, struct sio_umem_pin *room,
		    uint64_t uaddr, size_t len, unsigned int flags,
		    enum sio_umem_acct acct, struct sio_umem_pin **out);
struct sio_umem_pin *sio_umem_unpin_keep(struct sio_umem_pin *pin);
void sio_umem_pin_kept_free(struct sio_umem_pin *pin);

/* Drop the mappings of a file pin and its file reference (file_pin.c). */
void sio_umem_file_unpin(struct sio_umem_pin *pin);

/* ------------------------------------------------------------------ */
/* /proc/<pid>/maps                                                     */
/* ------------------------------------------------------------------ */

/*
 * The whole maps file in one buffer.  Reading and parsing allocate with
 * mmap only and take no lock, so they are safe in a fork child handler.
 */
struct sio_maps {
	char *buf;
	size_t len;
	size_t cap;
	/* The whole allocation, guards included: hidden from what is parsed
	 * (see maps.c). */
	uint64_t own_start, own_end;
};

struct sio_vma {
	uint64_t start, end;
	unsigned int prot;		/* PROT_READ/WRITE/EXEC */
	bool shared;			/* 's' */
	uint64_t offset;
	dev_t dev;
	uint64_t ino;
	const char *path;		/* into the buffer, not terminated */
	size_t path_len;		/* 0: anonymous */
};

int sio_maps_read(const char *file, struct sio_maps *m);
void sio_maps_free(struct sio_maps *m);
/* Next VMA from *pos (start at 0); false at the end. */
bool sio_maps_next(const struct sio_maps *m, size_t *pos, struct sio_vma *out);
/* Whether the VMA's path equals s. */
bool sio_vma_path_is(const struct sio_vma *v, const char *s);

/*
 * The VMA holding addr (vma.c): PROCMAP_QUERY, or one read of the maps
 * file where the kernel refuses it.  name (may be NULL) receives the
 * VMA's path, which v->path then points at.  -EFAULT if addr is not
 * mapped.  Caller holds self_lock.
 */
int sio_vma_query(uint64_t addr, struct sio_vma *v, char *name, size_t namesz);
/* How many sio_vma_query() calls PROCMAP_QUERY answered, and how many a
 * read of the whole maps file (under self_lock). */
extern uint64_t sio_vma_nqueries, sio_vma_nreads;
/* Keep fd as one of the library's own (fd.c): moved out of the program's
 * way and registered private.  The new number, or -ENOMEM (fd closed). */
int sio_umem_fd_keep(int fd);
/* In a fork child: the query descriptor names the parent; reopen it. */
void sio_vma_fork_child(void);
/* Close the query descriptor (the last owner of the process went). */
void sio_vma_close(void);

#endif
