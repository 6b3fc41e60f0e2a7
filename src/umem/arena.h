/*
 * The arena (arena.c): the memory files the library reaches the calling
 * process's pinned pages through, and which program ranges map them.
 *
 * A file (struct arena_file) is a memfd the library made when it unshared
 * private memory, or the file behind a shared mapping of the program's
 * (memfd, MAP_SHARED anonymous memory, tmpfs, hugetlbfs...).  The library
 * maps each file once, its view, and every pin of its pages is an address
 * in that view: the number of library mappings is the number of files,
 * not of pins.
 *
 * An entry (struct arena_entry) says that the program range [start, last]
 * mapped the file from offset off when the library last looked.  Entries
 * are a cache: a pin checks one against the kernel (sio_vma_query) before
 * it trusts it, and the view, which nothing the program does can take
 * away, is what keeps the pinning promise.
 *
 * Everything here is under self_lock (self.c; docs/locking.md row 270),
 * but for two things a pin of a known piece reads without it: arena_seq,
 * which every change of the entries (and of the watch) advances by 2
 * before it is made (arena_changed), so that a reader that finds it
 * unchanged knows no entry changed meanwhile; and files' reference counts,
 * whose structs are kept for reuse rather than freed.
 */
#ifndef SIO_UMEM_ARENA_H
#define SIO_UMEM_ARENA_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/interval_tree.h"

struct arena_file {
	/* Entries + pin chunks; atomic.  Taken under self_lock; dropped
	 * under it, or without it while others remain
	 * (arena_file_put_unlocked), so that it reaches 0 only under the
	 * lock and a file is never found after it is freed. */
	unsigned int refs;		/* first: see arena_file_new */
	int fd;				/* the library's descriptor, -1 if none */
	dev_t dev;			/* identity of the file */
	uint64_t ino;
	uint64_t view_off;		/* file offset at the start of the view */
	size_t view_len;
	void *view;			/* the library's mapping of the file */
	size_t hsize;			/* hugetlb page size, 0 if none */
	bool unshared;			/* a memfd made from private memory */
	bool writeback;			/* a file system with writeback: no
					 * writable long-term pin */
	struct sio_itree_node vnode;	/* [view, view + view_len - 1] */
	/* An unshared file is a slot: program address snode.start is file
	 * offset 0, and new private pieces of [snode.start, snode.last] are
	 * unshared into it at their own offsets, so that neighbouring pieces
	 * merge into one VMA.  A slot is retired (no new piece) as soon as
	 * one of its pieces is found unmapped or stale: its offsets may hold
	 * pinned pages the program no longer maps. */
	struct sio_itree_node snode;
	bool slot_live;			/* in the slot tree */
	bool exec;			/* MFD_EXEC rather than sealed */
	struct arena_file *next_free;	/* in the free list, refs 0 */
};

struct arena_entry {
	struct sio_itree_node node;	/* program range [start, last] */
	struct arena_file *file;	/* a reference */
	uint64_t off;			/* file offset at node.start */
	unsigned int prot;		/* the VMA's, when it was learnt */
	bool watched;			/* the kernel reports its unmap (watch.c) */
};

/* A new file holding one reference (the caller's); takes ownership of fd
 * and view.  NULL on allocation failure (nothing is freed then). */
struct arena_file *arena_file_new(int fd, dev_t dev, uint64_t ino,
				  void *view, uint64_t view_off,
				  size_t view_len, size_t hsize, bool unshared);
void arena_file_get(struct arena_file *f);
/* Take a reference without self_lock unless the file has none left (its
 * struct is then free or reused: never unmapped memory). */
bool arena_file_get_live(struct arena_file *f);
/* Drop a reference: the last one unmaps the view and closes the fd. */
void arena_file_put(struct arena_file *f);
/* Drop a reference without self_lock if it is not the last: false (and
 * nothing done) if it is, then arena_file_put() under the lock. */
bool arena_file_put_unlocked(struct arena_file *f);

/* A live slot covering [start, end) with huge page size hsize and the
 * given exec-ness, or NULL; arena_slot_add makes f one (f->snode set). */
struct arena_file *arena_slot_find(uint64_t start, uint64_t end, size_t hsize,
				   bool exec);
void arena_slot_add(struct arena_file *f);

/* The file whose view holds the library address a, or NULL. */
struct arena_file *arena_view_find(uint64_t a);

/* The entry holding program address a, or NULL. */
struct arena_entry *arena_entry_find(uint64_t a);
/* Record that [start, end) maps f from off with protections prot;
 * forgets what overlapped.  NULL when out of memory. */
struct arena_entry *arena_entry_add(uint64_t start, uint64_t end,
				    struct arena_file *f, uint64_t off,
				    unsigned int prot);
/* Join e with the entries just before and after it when they continue
 * it (same file at following offsets, same protections, both watched or
 * not): pages pinned one by one make one entry, so a lookup does not grow
 * with the number of pins.  Returns the entry that now holds e's range. */
struct arena_entry *arena_entry_merge(struct arena_entry *e);
/* Forget what [start, end) mapped (the parts outside stay), retiring the
 * slots of the pieces forgotten. */
int arena_forget(uint64_t start, uint64_t end);
/* Forget every entry (the last owner of the process went). */
void arena_forget_all(void);
/* Trust no entry without asking the kernel (the watch lost events). */
void arena_unwatch_all(void);
/* The arena's change count: even, written under self_lock, read with
 * atomics (self.c's pin hint makes it odd while it writes the hint). */
extern unsigned long arena_seq;
void arena_changed(void);
/* Counters for tests: files, entries, watched entries. */
void arena_counts(size_t *files, size_t *entries, size_t *watched);

/*
 * The watch (watch.c), all under self_lock.  sio_watch_add registers a
 * known program range, false if it cannot be watched.  sio_watch_sync
 * applies the unmaps the kernel reported and says whether watched entries
 * may be trusted now.  sio_watch_fork_child turns the watch off in a fork
 * child.
 */
bool sio_watch_add(uint64_t start, uint64_t end);
bool sio_watch_sync(void);
/* Without self_lock: whether no unmap the kernel reported waits to be
 * applied (nothing read, nothing queued), as sio_watch_sync's first test;
 * the caller knows the watch is on. */
bool sio_watch_quiet(void);
void sio_watch_fork_child(void);
void sio_watch_stop(void);

#endif
