/*
 * Mappings of emulated files: which parts of the address space are mmap()s
 * of which file, so that a file whose mmap op hands out memory with strings
 * attached (a region whose owner must not go while mapped) hears when the
 * program lets go of it, as a driver's vm_ops close does in the kernel.
 *
 * sio_file_mmap() records a mapping made by a file with a munmap op; the
 * record holds a reference on the file, as a VMA holds its vm_file, so the
 * file outlives its descriptors while mapped.  The shim reports every
 * munmap() and every MAP_FIXED mmap() that replaces memory
 * (sio_file_munmap); a mapping unmapped piece by piece is gone when its
 * last page is, and only then does its file's munmap op run, with the
 * address, length and offset it was mapped with.  mremap() of such a
 * mapping is not followed: the record keeps the old range.
 *
 * Locking: maps_lock protects maps and every record; the munmap ops and
 * file references are dropped after it is released, because they may
 * unmap memory themselves (which comes back here).  nmaps lets the shim's
 * every munmap() skip the lock while no emulated file is mapped.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <urcu/list.h>

#include "softiommu/file.h"
#include "file/file.h"
#include "util/error.h"
#include "util/fail.h"

/* One mmap() of a file. */
struct file_map {
	struct sio_file *file;		/* a reference */
	void *addr;
	size_t len;
	off_t off;
	unsigned int pieces;		/* live pieces; under maps_lock */
};

/* A still-mapped range of one. */
struct file_map_piece {
	struct cds_list_head node;	/* in maps */
	uintptr_t start, end;		/* [start, end), page aligned */
	struct file_map *map;
};

static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
static CDS_LIST_HEAD(maps);
static unsigned int nmaps;		/* pieces in maps; atomic */

static uintptr_t page_up(uintptr_t v)
{
	uintptr_t ps = (uintptr_t)sysconf(_SC_PAGESIZE);

	return (v + ps - 1) & ~(ps - 1);
}

int sio_file_map_add(struct sio_file *file, void *addr, size_t len, off_t off)
{
	struct file_map *m = sio_calloc(1, sizeof(*m));
	struct file_map_piece *p = sio_calloc(1, sizeof(*p));

	if (!m || !p) {
		free(m);
		free(p);
		return sio_err(-ENOMEM, "file: mapping record");
	}
	sio_file_hold(file);
	m->file = file;
	m->addr = addr;
	m->len = len;
	m->off = off;
	m->pieces = 1;
	p->start = (uintptr_t)addr;
	p->end = page_up((uintptr_t)addr + len);
	p->map = m;
	pthread_mutex_lock(&maps_lock);
	cds_list_add(&p->node, &maps);
	__atomic_add_fetch(&nmaps, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&maps_lock);
	return 0;
}

/* Cut [start, end) out of p; maps_lock held.  Returns p's map if that was
 * its last piece, else NULL. */
static struct file_map *cut_piece(struct file_map_piece *p, uintptr_t start,
				  uintptr_t end)
{
	struct file_map *m = p->map;

	if (start <= p->start && end >= p->end) {
		cds_list_del(&p->node);
		free(p);
		__atomic_sub_fetch(&nmaps, 1, __ATOMIC_RELAXED);
		return --m->pieces ? NULL : m;
	}
	if (start <= p->start) {
		p->start = end;
	} else if (end >= p->end) {
		p->end = start;
	} else {
		/* A hole in the middle: two pieces of one mapping.  Without
		 * memory for the second, the tail is forgotten, which only
		 * makes the mapping end early. */
		struct file_map_piece *tail = sio_malloc(sizeof(*tail));

		if (tail) {
			tail->start = end;
			tail->end = p->end;
			tail->map = m;
			m->pieces++;
			cds_list_add(&tail->node, &maps);
			__atomic_add_fetch(&nmaps, 1, __ATOMIC_RELAXED);
		}
		p->end = start;
	}
	return NULL;
}

SIO_API void sio_file_munmap(void *addr, size_t len)
{
	uintptr_t start = (uintptr_t)addr, end = page_up(start + len);
	struct file_map_piece *p, *tmp;
	struct file_map **gone = NULL;
	size_t ngone = 0, cap = 0;

	if (!__atomic_load_n(&nmaps, __ATOMIC_ACQUIRE) || !len || end < start)
		return;
	pthread_mutex_lock(&maps_lock);
	cds_list_for_each_entry_safe(p, tmp, &maps, node) {
		struct file_map *m;

		if (p->end <= start || p->start >= end)
			continue;
		m = cut_piece(p, start, end);
		if (!m)
			continue;
		if (ngone == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct file_map **n = realloc(gone, ncap * sizeof(*n));

			if (!n) {
				/* Keep the record: a leak, never a use after
				 * free. */
				continue;
			}
			gone = n;
			cap = ncap;
		}
		gone[ngone++] = m;
	}
	pthread_mutex_unlock(&maps_lock);

	for (size_t i = 0; i < ngone; i++) {
		struct file_map *m = gone[i];
		const struct sio_file_ops *ops = sio_file_ops(m->file);

		sio_file_gate_enter();
		ops->munmap(m->file, m->addr, m->len, m->off);
		sio_file_gate_exit();
		sio_file_put(m->file);
		free(m);
	}
	free(gone);
}
