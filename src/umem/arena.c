/*
 * The arena: memory files the library maps once each, and the program
 * ranges known to map them (design in arena.h and docs/umem.md).
 *
 * Two interval trees: entries by program address, files' views by library
 * address (pin_source in iommufd pins from an alias, which is a view
 * address).  Both are only touched under self_lock.  A file lives while an
 * entry or a pin chunk refers to it; when the last goes its view is
 * unmapped and its descriptor closed.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "file/private_fd.h"
#include "umem/arena.h"
#include "umem/umem.h"
#include "util/fail.h"
#include "util/sys.h"

static struct sio_itree arena_entries = SIO_ITREE_INIT;
static struct sio_itree arena_views = SIO_ITREE_INIT;
static struct sio_itree arena_slots = SIO_ITREE_INIT;
static size_t arena_nfiles;

unsigned long arena_seq;

/* Files whose last reference went, for the next new one: a file's struct
 * is never given back to malloc, so that a pin without self_lock
 * (self.c) may try to take a reference on one that went meanwhile. */
static struct arena_file *arena_free_files;

void arena_changed(void)
{
	/* Sequentially consistent: before the change it announces, which
	 * for the watch is the queue emptied (watch.c). */
	__atomic_store_n(&arena_seq, arena_seq + 2, __ATOMIC_SEQ_CST);
}

struct arena_file *arena_file_new(int fd, dev_t dev, uint64_t ino,
				  void *view, uint64_t view_off,
				  size_t view_len, size_t hsize, bool unshared)
{
	struct arena_file *f = arena_free_files;

	/* Not while fault injection is armed: the allocation site counts. */
	if (f && !sio_fail_nth_left) {
		arena_free_files = f->next_free;
		/* All but refs, which a pin may still read (atomic). */
		memset((char *)f + offsetof(struct arena_file, fd), 0,
		       sizeof(*f) - offsetof(struct arena_file, fd));
	} else {
		f = sio_calloc(1, sizeof(*f));
		if (!f)
			return NULL;
	}
	__atomic_store_n(&f->refs, 1, __ATOMIC_RELAXED);
	f->fd = fd;
	f->dev = dev;
	f->ino = ino;
	f->view = view;
	f->view_off = view_off;
	f->view_len = view_len;
	f->hsize = hsize;
	f->unshared = unshared;
	f->vnode.start = (uint64_t)(uintptr_t)view;
	f->vnode.last = f->vnode.start + view_len - 1;
	sio_itree_insert(&arena_views, &f->vnode);
	arena_nfiles++;
	return f;
}

void arena_file_get(struct arena_file *f)
{
	__atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
}

bool arena_file_get_live(struct arena_file *f)
{
	unsigned int cur = __atomic_load_n(&f->refs, __ATOMIC_RELAXED);

	while (cur)
		if (__atomic_compare_exchange_n(&f->refs, &cur, cur + 1, true,
						__ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
			return true;
	return false;
}

bool arena_file_put_unlocked(struct arena_file *f)
{
	unsigned int cur = __atomic_load_n(&f->refs, __ATOMIC_RELAXED);

	while (cur > 1)
		if (__atomic_compare_exchange_n(&f->refs, &cur, cur - 1, true,
						__ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
			return true;
	return false;
}

void arena_file_put(struct arena_file *f)
{
	if (__atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL))
		return;
	sio_itree_remove(&arena_views, &f->vnode);
	if (f->slot_live)
		sio_itree_remove(&arena_slots, &f->snode);
	arena_nfiles--;
	sio_sys_munmap(f->view, f->view_len);
	if (f->fd >= 0)
		sio_fd_private_close(f->fd);
	f->next_free = arena_free_files;
	arena_free_files = f;
}

static void slot_retire(struct arena_file *f)
{
	if (!f->slot_live)
		return;
	sio_itree_remove(&arena_slots, &f->snode);
	f->slot_live = false;
}

struct arena_file *arena_slot_find(uint64_t start, uint64_t end, size_t hsize,
				   bool exec)
{
	struct sio_itree_node *n;

	sio_itree_for_each(n, &arena_slots, start, end - 1) {
		struct arena_file *f = sio_container_of(n, struct arena_file,
							snode);

		if (n->start <= start && n->last >= end - 1 &&
		    f->hsize == hsize && f->exec == exec)
			return f;
	}
	return NULL;
}

void arena_slot_add(struct arena_file *f)
{
	sio_itree_insert(&arena_slots, &f->snode);
	f->slot_live = true;
}

struct arena_file *arena_view_find(uint64_t a)
{
	struct sio_itree_node *n = sio_itree_iter_first(&arena_views, a, a);

	return n ? sio_container_of(n, struct arena_file, vnode) : NULL;
}

struct arena_entry *arena_entry_find(uint64_t a)
{
	struct sio_itree_node *n = sio_itree_iter_first(&arena_entries, a, a);

	return n ? sio_container_of(n, struct arena_entry, node) : NULL;
}

static void entry_free(struct arena_entry *e)
{
	sio_itree_remove(&arena_entries, &e->node);
	arena_file_put(e->file);
	free(e);
}

int arena_forget(uint64_t start, uint64_t end)
{
	struct sio_itree_node *n;

	if (end <= start)
		return 0;
	arena_changed();
	while ((n = sio_itree_iter_first(&arena_entries, start, end - 1))) {
		struct arena_entry *e = sio_container_of(n, struct arena_entry,
							 node);
		uint64_t es = n->start, el = n->last;

		slot_retire(e->file);
		/* Keep the parts of e outside [start, end): a right part
		 * needs a new entry, a left part is e shortened. */
		if (el >= end) {
			struct arena_entry *r = sio_calloc(1, sizeof(*r));

			if (!r)
				return -ENOMEM;
			r->node.start = end;
			r->node.last = el;
			r->file = e->file;
			r->off = e->off + (end - es);
			r->prot = e->prot;
			r->watched = e->watched;
			arena_file_get(r->file);
			sio_itree_insert(&arena_entries, &r->node);
		}
		if (es < start) {
			sio_itree_remove(&arena_entries, &e->node);
			e->node.last = start - 1;
			sio_itree_insert(&arena_entries, &e->node);
		} else {
			entry_free(e);
		}
	}
	return 0;
}

struct arena_entry *arena_entry_add(uint64_t start, uint64_t end,
				    struct arena_file *f, uint64_t off,
				    unsigned int prot)
{
	struct arena_entry *e = sio_calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	arena_changed();
	if (arena_forget(start, end)) {
		free(e);
		return NULL;
	}
	e->node.start = start;
	e->node.last = end - 1;
	e->file = f;
	e->off = off;
	e->prot = prot;
	arena_file_get(f);
	sio_itree_insert(&arena_entries, &e->node);
	return e;
}

/* Whether b continues a: same file at following offsets, same facts. */
static bool entries_join(const struct arena_entry *a,
			 const struct arena_entry *b)
{
	return a->node.last + 1 == b->node.start && a->file == b->file &&
	       a->off + (a->node.last - a->node.start + 1) == b->off &&
	       a->prot == b->prot && a->watched == b->watched;
}

struct arena_entry *arena_entry_merge(struct arena_entry *e)
{
	struct arena_entry *l = NULL, *r = NULL;

	arena_changed();
	if (e->node.start)
		l = arena_entry_find(e->node.start - 1);
	if (l && entries_join(l, e)) {
		uint64_t last = e->node.last;

		entry_free(e);
		sio_itree_remove(&arena_entries, &l->node);
		l->node.last = last;
		sio_itree_insert(&arena_entries, &l->node);
		e = l;
	}
	if (e->node.last != UINT64_MAX)
		r = arena_entry_find(e->node.last + 1);
	if (r && entries_join(e, r)) {
		uint64_t last = r->node.last;

		entry_free(r);
		sio_itree_remove(&arena_entries, &e->node);
		e->node.last = last;
		sio_itree_insert(&arena_entries, &e->node);
	}
	return e;
}

void arena_forget_all(void)
{
	struct sio_itree_node *n;

	arena_changed();
	while ((n = sio_itree_iter_first(&arena_entries, 0, UINT64_MAX)))
		entry_free(sio_container_of(n, struct arena_entry, node));
}

void arena_unwatch_all(void)
{
	struct sio_itree_node *n;

	arena_changed();
	sio_itree_for_each(n, &arena_entries, 0, UINT64_MAX)
		sio_container_of(n, struct arena_entry, node)->watched = false;
}

void arena_counts(size_t *files, size_t *entries, size_t *watched)
{
	struct sio_itree_node *n;

	*files = arena_nfiles;
	*entries = arena_entries.count;
	*watched = 0;
	sio_itree_for_each(n, &arena_entries, 0, UINT64_MAX)
		*watched += sio_container_of(n, struct arena_entry, node)->watched;
}
