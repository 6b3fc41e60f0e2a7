/*
 * File references and file pins: how the library pins a file by offset
 * (iommufd's IOMMU_IOAS_MAP_FILE) rather than an owner's address range.
 *
 * A reference (struct sio_umem_file) is a descriptor of the library's for
 * the file the owner had open at some fd, the kernel's fget(): the owner
 * may close its fd, or never map the file at all, and the file stays
 * reachable.  A pin is the library's own MAP_SHARED mapping of the pinned
 * pages of that file, so, as for an address pin's alias, nothing the owner
 * does to its mappings afterwards can take the pages from the device.
 *
 * What may be pinned follows memfd_pin_folios() in mm/gup.c: only memory
 * files, shmem (memfd, tmpfs, MAP_SHARED anonymous memory) and hugetlbfs;
 * only pages that lie wholly before the end of the file; holes are filled
 * (MAP_POPULATE does that for us, and it is where a hugetlbfs file without
 * free huge pages fails).  A hugetlbfs file is mapped in whole huge pages,
 * as mmap wants, and the pin still counts and charges CPU pages.
 *
 * Known gaps, documented in docs/pinning.md: a file the program shrinks
 * after it was pinned loses the truncated pages from our mapping too (the
 * kernel keeps its pinned folios; a userspace mapping cannot), and our
 * descriptor is a number in the program's fd table, which a program that
 * closes descriptors it did not open can take away (the next pin then says
 * -EBADF, never pins another file: the file's identity is checked first).
 *
 * No lock: a reference is immutable after creation but for its count.
 */
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "file/private_fd.h"
#include "umem/umem.h"
#include "util/sys.h"
#include "util/fail.h"

enum file_kind {
	FILE_OTHER,		/* not pinnable: -EINVAL at pin time */
	FILE_SHMEM,
	FILE_HUGETLB,
};

struct sio_umem_file {
	unsigned int refcount;		/* atomic */
	struct sio_umem_owner *owner;	/* a reference */
	int fd;				/* the library's descriptor */
	dev_t dev;			/* identity, checked before each pin */
	uint64_t ino;
	enum file_kind kind;
	size_t hsize;			/* FILE_HUGETLB: the huge page size */
};

/* Wrap the library's descriptor fd; closes it on failure. */
static int file_wrap(struct sio_umem_owner *owner, int fd,
		     struct sio_umem_file **out)
{
	struct sio_umem_file *file;
	struct statfs sfs;
	struct stat st;

	if (fstat(fd, &st) || fstatfs(fd, &sfs)) {
		int rc = -errno;

		sio_sys_close(fd);
		return sio_err(rc, "umem: cannot look at a file to pin");
	}
	file = sio_calloc(1, sizeof(*file));
	if (!file) {
		sio_sys_close(fd);
		return sio_err(-ENOMEM, "umem: out of memory");
	}
	/* The program's close_range/closefrom must not take it away. */
	if (sio_fd_private_add(fd)) {
		sio_sys_close(fd);
		free(file);
		return sio_err(-ENOMEM, "umem: out of memory");
	}
	file->refcount = 1;
	file->owner = sio_umem_owner_get(owner);
	file->fd = fd;
	file->dev = st.st_dev;
	file->ino = st.st_ino;
	/* shmem_file() || is_file_hugepages(): memfds, tmpfs files and
	 * shared anonymous memory are shmem (TMPFS_MAGIC), ramfs is not. */
	if (S_ISREG(st.st_mode) && (uint64_t)sfs.f_type == TMPFS_MAGIC) {
		file->kind = FILE_SHMEM;
	} else if (S_ISREG(st.st_mode) &&
		   (uint64_t)sfs.f_type == HUGETLBFS_MAGIC) {
		file->kind = FILE_HUGETLB;
		file->hsize = (size_t)sfs.f_bsize;
	}
	*out = file;
	return 0;
}

SIO_API int sio_umem_file_get(struct sio_umem_owner *owner, int fd,
			      struct sio_umem_file **out)
{
	int libfd, rc;

	sio_err_clear();
	if (fd < 0)
		return sio_err(-EBADF, "umem: bad file descriptor %d", fd);
	rc = owner->ops->file_get(owner, fd, &libfd);
	if (rc)
		return rc;
	return file_wrap(owner, libfd, out);
}

SIO_API int sio_umem_file_adopt(struct sio_umem_owner *owner, int fd,
				struct sio_umem_file **out)
{
	sio_err_clear();
	if (fd < 0)
		return sio_err(-EBADF, "umem: bad file descriptor %d", fd);
	return file_wrap(owner, fd, out);
}

SIO_API struct sio_umem_file *sio_umem_file_ref(struct sio_umem_file *file)
{
	__atomic_add_fetch(&file->refcount, 1, __ATOMIC_RELAXED);
	return file;
}

SIO_API void sio_umem_file_put(struct sio_umem_file *file)
{
	if (!file || __atomic_sub_fetch(&file->refcount, 1, __ATOMIC_ACQ_REL))
		return;
	sio_fd_private_close(file->fd);
	sio_umem_owner_put(file->owner);
	free(file);
}

SIO_API int sio_umem_file_offset(struct sio_umem_file *file, uint64_t uaddr,
				 uint64_t *offset)
{
	struct sio_umem_owner *owner = file->owner;
	uint64_t ino, off;
	dev_t dev;
	int rc;

	rc = owner->ops->backing(owner, uaddr, &dev, &ino, &off);
	if (rc)
		return rc;
	if (dev != file->dev || ino != file->ino)
		return -ENOENT;
	*offset = off;
	return 0;
}

/*
 * Whether the file can give the pages [start, end): still the file the
 * reference was made for, memory, and long enough (memfd_pin_folios():
 * the last byte of the last page must be below i_size).
 */
static int file_check(const struct sio_umem_file *file, uint64_t start,
		      uint64_t end)
{
	struct stat st;

	if (fstat(file->fd, &st) || st.st_dev != file->dev ||
	    st.st_ino != file->ino)
		return sio_err(-EBADF, "umem: the library's descriptor %d of a pinned file was closed or replaced behind its back",
			       file->fd);
	if (file->kind == FILE_OTHER)
		return sio_err(-EINVAL, "umem: only memfd, shmem and hugetlbfs files can be pinned");
	if (end > (uint64_t)st.st_size)
		return sio_err(-EINVAL, "umem: pages 0x%llx-0x%llx pass the end of the file (0x%llx bytes)",
			       (unsigned long long)start,
			       (unsigned long long)end,
			       (unsigned long long)st.st_size);
	return 0;
}

/* Map the pin's pages of the file: one chunk, in whole huge pages for a
 * hugetlbfs file. */
static int file_map(struct sio_umem_file *file, struct sio_umem_pin *pin)
{
	size_t len = pin->npages << pin->owner->page_shift;
	uint64_t rstart = pin->start, rend = pin->start + len;
	int prot = PROT_READ;
	struct sio_umem_chunk *c;
	void *base;
	int rc;

	if (pin->flags & SIO_UMEM_PIN_WRITE)
		prot |= PROT_WRITE;
	if (file->kind == FILE_HUGETLB) {
		rstart &= ~(uint64_t)(file->hsize - 1);
		rend = (rend + file->hsize - 1) & ~(uint64_t)(file->hsize - 1);
	}
	c = sio_calloc(1, sizeof(*c));
	if (!c)
		return sio_err(-ENOMEM, "umem: out of memory");
	c->fd = -1;
	base = sio_sys_mmap(NULL, (size_t)(rend - rstart), prot,
			    MAP_SHARED | MAP_POPULATE, file->fd, (off_t)rstart);
	if (base == MAP_FAILED) {
		rc = -errno;
		free(c);
		return sio_err(rc, "umem: cannot map file pages 0x%llx-0x%llx%s",
			       (unsigned long long)rstart,
			       (unsigned long long)rend,
			       file->kind == FILE_HUGETLB ?
				       " (no free huge pages?)" : "");
	}
	c->uaddr = pin->start;
	c->len = len;
	c->map_base = base;
	c->map_len = (size_t)(rend - rstart);
	c->host = (uint64_t)(uintptr_t)base + (pin->start - rstart);
	/* The "user address" of a file pin is the file offset. */
	c->fd = file->fd;
	c->fd_offset = pin->start;
	pin->chunks = c;
	pin->nchunks = 1;
	/* The owner may have shrunk the file since file_check(): pages past
	 * the end are not pinned, they fault.  Refuse rather than pin them. */
	rc = file_check(file, pin->start, pin->start + len);
	if (rc) {
		sio_sys_munmap(base, c->map_len);
		free(c);
		pin->chunks = NULL;
		pin->nchunks = 0;
	}
	return rc;
}

SIO_API int sio_umem_pin_file(struct sio_umem_file *file, uint64_t offset,
			      size_t len, unsigned int flags,
			      enum sio_umem_acct acct, struct sio_umem_pin **out)
{
	struct sio_umem_owner *owner = file->owner;
	struct sio_umem_pin *pin;
	int rc;

	sio_err_clear();
	if (sio_should_fail(SIO_FAIL_PAGE))
		return sio_err(-ENOMEM, "umem: file pin failed (injected)");
	rc = sio_umem_pin_prepare(owner, offset, len, flags, acct, &pin);
	if (rc)
		return rc;
	/* A file offset is a loff_t: memfd_pin_folios() refuses start < 0. */
	if (pin->start + (pin->npages << owner->page_shift) > (uint64_t)INT64_MAX) {
		rc = sio_err(-EINVAL, "umem: file offset 0x%llx+0x%zx is out of range",
			     (unsigned long long)offset, len);
		goto err;
	}
	/* The kernel finds the file unpinnable before it charges. */
	rc = file_check(file, pin->start,
			pin->start + (pin->npages << owner->page_shift));
	if (rc)
		goto err;
	rc = sio_umem_pin_charge(pin, acct);
	if (rc)
		goto err;
	rc = file_map(file, pin);
	if (rc)
		goto err;
	pin->file = sio_umem_file_ref(file);
	sio_umem_owner_get(owner);
	*out = pin;
	return 0;
err:
	sio_umem_pin_discard(pin);
	return rc;
}

void sio_umem_file_unpin(struct sio_umem_pin *pin)
{
	sio_sys_munmap(pin->chunks[0].map_base, pin->chunks[0].map_len);
	free(pin->chunks);
	sio_umem_file_put(pin->file);
}
