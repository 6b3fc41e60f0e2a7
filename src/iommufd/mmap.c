/*
 * Memory a driver offers for mmap() on the iommufd fd (the kernel's
 * mt_mmap and iommufd_fops_mmap): a vIOMMU's page of registers, say.
 *
 * Each region belongs to an owner object and sits at an offset of the fd
 * that the context hands out, lowest free first and never the first page,
 * so that 0 is never a valid answer.  The program learns offset and length
 * from the owner's ALLOC and may map exactly that: another offset inside
 * the region, another length, or no region there is -ENXIO; a private
 * mapping -EINVAL and an executable one -EPERM, as the kernel's checks.
 *
 * Each live mapping holds a user reference on the owner, so DESTROY of
 * the owner is -EBUSY until the program unmaps (the kernel's vma ops do
 * the same).  The region is a memory file of the driver's: a mapping of
 * it is a real shared mapping of that file, which reaches the very bytes
 * the driver sees.  The file layer tells when a mapping is gone
 * (sio_iommufd_munmap, through the fd's munmap op).
 *
 * Locking: ictx->mmap_lock protects ictx->mmaps; ictx->obj_lock is taken
 * inside it.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "iommufd/iommufd_private.h"
#include "util/sys.h"

struct iommufd_mmap {
	struct cds_list_head node;	/* in ictx->mmaps, by offset */
	struct iommufd_object *owner;
	uint64_t offset;
	size_t length;
	int fd;				/* the driver's, borrowed */
	uint64_t fd_offset;
};

/* The region holding offset; mmap_lock held. */
static struct iommufd_mmap *find_region(struct sio_iommufd *ictx,
					uint64_t offset)
{
	struct iommufd_mmap *m;

	cds_list_for_each_entry(m, &ictx->mmaps, node)
		if (offset >= m->offset && offset - m->offset < m->length)
			return m;
	return NULL;
}

int iommufd_mmap_alloc(struct sio_iommufd *ictx, struct iommufd_object *owner,
		       int fd, uint64_t fd_offset, size_t length,
		       uint64_t *offset)
{
	uint64_t ps = ictx->host->page_size, start = ps;
	struct cds_list_head *pos;
	struct iommufd_mmap *m, *cur;

	if (!length || length % ps || fd_offset % ps || fd < 0)
		return sio_err(-EINVAL, "mmap region: length %#zx at fd %d "
			       "offset %#llx is not whole pages", length, fd,
			       (unsigned long long)fd_offset);
	m = sio_calloc(1, sizeof(*m));
	if (!m)
		return sio_err(-ENOMEM, "mmap region: no memory");
	m->owner = owner;
	m->length = length;
	m->fd = fd;
	m->fd_offset = fd_offset;
	pthread_mutex_lock(&ictx->mmap_lock);
	/* First fit in the sorted list, from the second page on. */
	pos = &ictx->mmaps;
	cds_list_for_each_entry(cur, &ictx->mmaps, node) {
		if (cur->offset - start >= length) {
			pos = &cur->node;
			break;
		}
		start = cur->offset + cur->length;
	}
	if (start > UINT64_MAX - length || start > (uint64_t)INT64_MAX) {
		pthread_mutex_unlock(&ictx->mmap_lock);
		free(m);
		return sio_err(-ENOSPC, "mmap region: no room for %#zx bytes "
			       "of mmap offsets", length);
	}
	m->offset = start;
	cds_list_add_tail(&m->node, pos);
	pthread_mutex_unlock(&ictx->mmap_lock);
	*offset = m->offset;
	return 0;
}

void iommufd_mmap_destroy(struct sio_iommufd *ictx,
			  struct iommufd_object *owner, uint64_t offset)
{
	struct iommufd_mmap *m;

	pthread_mutex_lock(&ictx->mmap_lock);
	m = find_region(ictx, offset);
	if (m && m->offset == offset && m->owner == owner)
		cds_list_del(&m->node);
	else
		m = NULL;
	pthread_mutex_unlock(&ictx->mmap_lock);
	free(m);
}

/* A user reference on obj unless it is being destroyed (users 0): under
 * obj_lock, where DESTROY decides that it is the only user. */
static bool get_live(struct sio_iommufd *ictx, struct iommufd_object *obj)
{
	bool live;

	pthread_mutex_lock(&ictx->obj_lock);
	live = iommufd_obj_users(__atomic_load_n(&obj->refs, __ATOMIC_RELAXED)) != 0;
	if (live)
		iommufd_obj_get(obj);
	pthread_mutex_unlock(&ictx->obj_lock);
	return live;
}

SIO_API int sio_iommufd_mmap(struct sio_iommufd *ictx, void **addr,
			     size_t len, int prot, int flags, off_t off)
{
	uint64_t ps, span;
	struct iommufd_mmap *m;
	void *p;
	int rc = 0;

	sio_err_clear();
	if (!ictx || !addr)
		return sio_err(-EINVAL, "iommufd mmap: NULL argument");
	if (!(flags & MAP_SHARED))
		return sio_err(-EINVAL, "iommufd mmap: flags %#x without "
			       "MAP_SHARED", flags);
	if (prot & PROT_EXEC)
		return sio_err(-EPERM, "iommufd mmap: PROT_EXEC");
	ps = ictx->host->page_size;
	if (off < 0 || (uint64_t)off % ps || !len)
		return sio_err(-EINVAL, "iommufd mmap: offset %#llx length "
			       "%#zx", (unsigned long long)off, len);
	/* The mapping covers whole pages, as a VMA does. */
	span = (len + ps - 1) / ps * ps;
	pthread_mutex_lock(&ictx->mmap_lock);
	m = find_region(ictx, (uint64_t)off);
	/* Only the exact region, whole: offset and length cannot change. */
	if (!m || m->offset != (uint64_t)off || m->length != span ||
	    !get_live(ictx, m->owner)) {
		rc = sio_err(-ENXIO, "iommufd mmap: offset %#llx length %#llx "
			     "is no whole region of a live object",
			     (unsigned long long)off, (unsigned long long)span);
		goto out;
	}
	p = sio_sys_mmap(*addr, span, prot, flags, m->fd, (off_t)m->fd_offset);
	if (p == MAP_FAILED) {
		rc = sio_err(-errno, "iommufd mmap: mmap of offset %#llx "
			     "failed", (unsigned long long)off);
		iommufd_obj_put(m->owner);
		goto out;
	}
	*addr = p;
out:
	pthread_mutex_unlock(&ictx->mmap_lock);
	return rc;
}

SIO_API void sio_iommufd_munmap(struct sio_iommufd *ictx, void *addr,
				size_t len, off_t off)
{
	struct iommufd_mmap *m;

	(void)addr, (void)len;
	if (!ictx || off < 0)
		return;
	pthread_mutex_lock(&ictx->mmap_lock);
	/* The owner cannot have gone: this mapping holds it. */
	m = find_region(ictx, (uint64_t)off);
	if (m && m->offset == (uint64_t)off)
		iommufd_obj_put(m->owner);
	pthread_mutex_unlock(&ictx->mmap_lock);
}
