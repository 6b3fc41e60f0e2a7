/*
 * Emulated files: the library's side of a file descriptor.
 *
 * /dev/iommu and the fds its ioctls create (fault queues, event queues,
 * access objects, dmabufs) are objects of the library that the program sees
 * as file descriptors.  Each struct sio_file is backed by one real eventfd
 * whose descriptors hold the file's numbers in the process's fd table; the
 * library keeps the eventfd's readiness equal to the file's (readable while
 * records are queued), so poll/select/epoll work on it unchanged.  The
 * process-wide file table maps descriptor numbers to files; the preload
 * shim consults it to route read/write/ioctl/mmap/close/dup of emulated
 * fds, and passes every other fd through untouched.
 *
 * Reference counting follows the kernel's struct file: each descriptor
 * holds a reference, and so does each sio_file_lookup() until its
 * sio_file_put(); dup adds a descriptor that refers to the same file; the
 * release op runs when the last reference goes (normally the last close).
 *
 * Fork (in-process emulation shares no state across fork): the child keeps
 * a private copy of every file as it was at the fork, and its descriptors
 * are moved to private eventfds so that readiness in the child never
 * changes the parent's.  Ops never run while a fork copies the process
 * (docs/launcher.md).
 */
#ifndef SOFTIOMMU_FILE_H
#define SOFTIOMMU_FILE_H

#include <sys/types.h>

#include "softiommu/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sio_file;

struct sio_file_ops {
	const char *name;	/* e.g. "iommufd", "iommufd-fault" */
	/* Each returns >= 0 or a negative errno.  NULL: -EINVAL (read/write),
	 * -ENOTTY (ioctl), -ENODEV (mmap).  buf and arg are the program's
	 * pointers: copy through fault-safe paths.  A read that finds nothing
	 * may return -EAGAIN: the shim then waits for readiness when the
	 * descriptor is blocking.  Ops must not block themselves. */
	ssize_t (*read)(struct sio_file *file, void *buf, size_t len);
	ssize_t (*write)(struct sio_file *file, const void *buf, size_t len);
	/* Optional: positioned I/O at file offset off (>= 0), for files
	 * that have positions (a VFIO device's regions).  A file without
	 * them is a stream: pread/pwrite at an offset other than 0 is
	 * -ESPIPE (the shim's rule), at 0 they are read/write. */
	ssize_t (*pread)(struct sio_file *file, void *buf, size_t len,
			 off_t off);
	ssize_t (*pwrite)(struct sio_file *file, const void *buf, size_t len,
			  off_t off);
	long (*ioctl)(struct sio_file *file, unsigned int cmd, unsigned long arg);
	/* Map len bytes at file offset off; *addr in: hint, out: address. */
	int (*mmap)(struct sio_file *file, void **addr, size_t len, int prot,
		    int flags, off_t off);
	/* Optional: a mapping the mmap op made is all unmapped now; addr,
	 * len and off are the mmap's.  With it, each mapping holds a
	 * reference on the file (as a VMA holds its file) until then. */
	void (*munmap)(struct sio_file *file, void *addr, size_t len,
		       off_t off);
	/* The last reference went away; the file is recycled on return. */
	void (*release)(struct sio_file *file);
};

/*
 * Create a file and its descriptor (O_CLOEXEC if cloexec); *fd_out is the
 * number the program sees, and that descriptor holds the only reference.
 * *out (may be NULL) is a borrowed pointer, valid until the release op
 * returns: a creator that keeps it (to set readiness) must stop using it
 * in its release op, under a lock it also holds around its other uses.
 */
SIO_API int sio_file_create(const struct sio_file_ops *ops, void *priv,
			    bool cloexec, struct sio_file **out, int *fd_out);
SIO_API void *sio_file_priv(const struct sio_file *file);
/* The ops the file was created with: how a caller checks that a looked-up
 * descriptor is one of its own kind (the kernel's file->f_op check)
 * before it trusts sio_file_priv(). */
SIO_API const struct sio_file_ops *sio_file_ops(const struct sio_file *file);

/* The device number that a stat of the descriptor reports (fstat, and
 * fstatat or statx on the descriptor with AT_EMPTY_PATH): set by whoever
 * opened the file for a device node, before handing the descriptor out,
 * so that a program that checks what it opened (S_ISCHR and st_rdev, as
 * QEMU's open_cdev does) sees the node.  0, the default, for files that
 * are no device node. */
SIO_API void sio_file_set_rdev(struct sio_file *file, dev_t rdev);
SIO_API dev_t sio_file_rdev(const struct sio_file *file);

/* Readiness, kept in the backing eventfd: readable while set. */
SIO_API void sio_file_set_readable(struct sio_file *file, bool readable);

/* The file behind descriptor fd with a reference taken, or NULL when fd is
 * not an emulated file.  Cheap and lock-free: the shim calls it on every
 * read/write of every fd.  Must be paired with sio_file_put(). */
SIO_API struct sio_file *sio_file_lookup(int fd);
SIO_API void sio_file_put(struct sio_file *file);

/* Call the file's ops with their defaults (see struct sio_file_ops). */
SIO_API ssize_t sio_file_read(struct sio_file *file, void *buf, size_t len);
SIO_API ssize_t sio_file_write(struct sio_file *file, const void *buf,
			       size_t len);
/* The positioned ops: -ESPIPE for a file without them, -EINVAL for a
 * negative off. */
SIO_API ssize_t sio_file_pread(struct sio_file *file, void *buf, size_t len,
			       off_t off);
SIO_API ssize_t sio_file_pwrite(struct sio_file *file, const void *buf,
				size_t len, off_t off);
SIO_API long sio_file_ioctl(struct sio_file *file, unsigned int cmd,
			    unsigned long arg);
SIO_API int sio_file_mmap(struct sio_file *file, void **addr, size_t len,
			  int prot, int flags, off_t off);

/*
 * The shim's hooks for descriptor operations.  They work on any
 * descriptor, emulated or not, and keep the file table right.
 *
 * sio_file_dup: flags is O_CLOEXEC and/or SIO_FILE_DUP_EXACT.  Without
 * EXACT it is fcntl(F_DUPFD[_CLOEXEC], newfd): the lowest free number >=
 * newfd (dup() is newfd 0).  With EXACT it is dup3(oldfd, newfd, flags):
 * exactly newfd, atomically replacing what newfd was, emulated or not (an
 * emulated newfd drops its reference as close would); oldfd == newfd is
 * -EINVAL, as dup3 says (dup2's same-fd case is the caller's).  Returns the
 * new descriptor or a negative errno.
 */
#define SIO_FILE_DUP_EXACT 0x1
SIO_API int sio_file_dup(int oldfd, int newfd, int flags);
/* The shim's hook for munmap(2) and for mmap(2) with MAP_FIXED: the
 * program's [addr, addr + len) is no longer what it was.  Mappings of
 * emulated files inside it end there (their munmap op runs when none of
 * their pages is left).  Cheap when no emulated file is mapped. */
SIO_API void sio_file_munmap(void *addr, size_t len);
/* Close an emulated descriptor: 0, or -EBADF when fd is not emulated (the
 * caller closes it itself).  The library closes descriptors of its files
 * with this, never with close(2), so that the table stays right. */
SIO_API int sio_file_close(int fd);

#ifdef __cplusplus
}
#endif
#endif
