/*
 * The LD_PRELOAD shim: gives an unmodified program the emulated machine's
 * /dev/iommu, VFIO devices and the namespace around them.
 *
 * The opens (open, open64, openat, openat64 and their fortified __open*_2
 * forms) first ask the machine (vfs.c, which also holds the other path
 * calls): /dev/iommu, /dev/vfio/... and the machine's generated files are
 * its opens, each an emulated file (softiommu/file.h) or a memfd; other
 * emulated paths open the namespace's tree.  From then on
 * the calls that a program makes on a descriptor are routed by the file
 * table: ioctl, read/write and their vector, positioned and fortified
 * forms, mmap (and munmap of what it mapped), close,
 * close_range/closefrom, dup/dup2/dup3 and
 * fcntl(F_DUPFD[_CLOEXEC]) of an emulated descriptor go to the file layer;
 * everything else, and every call on any other descriptor, goes to the next
 * definition (dlsym(RTLD_NEXT)), untouched.  poll/select/epoll, fstat and
 * the other fcntl commands reach the backing eventfd; fstat of a
 * descriptor opened from a device node then reports that node (a
 * character device and its number, vfs.c), as the kernel's does.
 *
 * Errors are the kernel's: -1 with errno set to the library's negative
 * errno.  An ioctl argument is passed on as the unsigned long the program
 * gave; the shim never dereferences it.
 *
 * Reentrancy: the library linked into this object calls libc too, and its
 * calls to open/close/read bind to these interposers.  That is harmless:
 * paths the machine does not emulate pass straight through, the library's own
 * descriptors are not in the file table, and the file layer reaches its
 * eventfds through raw system calls (src/file/file.h).
 *
 * Fork: see softiommu/file.h and docs/launcher.md; the child keeps a
 * private copy of the iommufd state as it was at the fork.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "softiommu/file.h"
#include "softiommu/iommufd.h"
#include "softiommu/umem.h"
#include "file/private_fd.h"
#include "file/file.h"
#include "preload/interpose.h"
#include "preload/shared.h"
#include "preload/vfs.h"
#include "umem/self.h"

/* ------------------------------------------------------------------ */
/* The next definitions                                                 */
/* ------------------------------------------------------------------ */

/* What the fortified and 64-bit entry points are, for REAL(). */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __read_chk(int fd, void *buf, size_t nbytes, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t nbytes, off_t off,
		    size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t nbytes, off64_t off,
		      size_t buflen);
int fcntl64(int fd, int cmd, ...);
void __chk_fail(void) __attribute__((noreturn));
int close_range(unsigned int first, unsigned int last, int flags);
void closefrom(int lowfd);

/* -1 with errno, as a system call reports a negative errno. */
static long fail(long err)
{
	errno = (int)-err;
	return -1;
}

/* ------------------------------------------------------------------ */
/* open: the machine's paths first (vfs.c)                              */
/* ------------------------------------------------------------------ */

static mode_t open_mode(int flags, va_list ap)
{
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		return va_arg(ap, mode_t);
	return 0;
}

EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (sio_vfs_open(path, flags, mode, &fd))
		return fd;
	return REAL(open)(path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (sio_vfs_open(path, flags, mode, &fd))
		return fd;
	return REAL(open64)(path, flags, mode);
}

/* An absolute path ignores dirfd, as the kernel does. */
EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (sio_vfs_openat(dirfd, path, flags, mode, &fd))
		return fd;
	return REAL(openat)(dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (sio_vfs_openat(dirfd, path, flags, mode, &fd))
		return fd;
	return REAL(openat64)(dirfd, path, flags, mode);
}

EXPORT int __open_2(const char *path, int flags)
{
	int fd;

	if (sio_vfs_open(path, flags, 0, &fd))
		return fd;
	return REAL(__open_2)(path, flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
	int fd;

	if (sio_vfs_open(path, flags, 0, &fd))
		return fd;
	return REAL(__open64_2)(path, flags);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	int fd;

	if (sio_vfs_openat(dirfd, path, flags, 0, &fd))
		return fd;
	return REAL(__openat_2)(dirfd, path, flags);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	int fd;

	if (sio_vfs_openat(dirfd, path, flags, 0, &fd))
		return fd;
	return REAL(__openat64_2)(dirfd, path, flags);
}

/* ------------------------------------------------------------------ */
/* ioctl and mmap                                                       */
/* ------------------------------------------------------------------ */

/* The requests the kernel answers for every file before the driver's
 * ioctl: so does the eventfd. */
static bool ioctl_generic(unsigned long request)
{
	return request == FIOCLEX || request == FIONCLEX ||
	       request == FIONBIO || request == FIOASYNC;
}

/* Every ioctl but an emulated file's own: out of line, so that the
 * emulated ones pay for none of it. */
static __attribute__((noinline)) int ioctl_other(int fd, unsigned long request,
						 unsigned long arg)
{
	struct sio_file *file;
	long rc;

	if (ioctl_generic(request)) {
		file = sio_file_lookup(fd);
		if (file) {
			sio_file_put(file);
			return REAL(ioctl)(fd, request, arg);
		}
	}
	/* Shared mode: a file of the server (shared.c). */
	if (sio_shared_ioctl(fd, request, arg, &rc))
		return rc < 0 ? (int)fail(rc) : (int)rc;
	return REAL(ioctl)(fd, request, arg);
}

EXPORT int ioctl(int fd, unsigned long request, ...)
{
	unsigned long arg;
	va_list ap;
	long rc;

	va_start(ap, request);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	/* Lookup, op and put in one call of the file layer. */
	if (__builtin_expect(!ioctl_generic(request), 1) &&
	    sio_file_ioctl_fd(fd, (unsigned int)request, arg, &rc))
		return rc < 0 ? (int)fail(rc) : (int)rc;
	return ioctl_other(fd, request, arg);
}

static void *file_mmap(struct sio_file *file, void *addr, size_t len,
		       int prot, int flags, off_t off)
{
	int rc = sio_file_mmap(file, &addr, len, prot, flags, off);

	sio_file_put(file);
	if (rc < 0) {
		errno = -rc;
		return MAP_FAILED;
	}
	return addr;
}

/* A MAP_FIXED mapping replaces what was there: the file layer forgets
 * mappings of emulated files in that range, and user memory what it knew
 * of the range (umem.h: a pin checks anyway, this spares it a stale
 * lookup). */
static void *fixed_mapped(void *p, size_t len, int flags)
{
	if (p != MAP_FAILED && (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))) {
		sio_file_munmap(p, len);
		sio_umem_notify_unmap((uintptr_t)p, len);
	}
	return p;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off)
{
	struct sio_file *file;

	void *p;

	if (!(flags & MAP_ANONYMOUS) && (file = sio_file_lookup(fd)))
		return file_mmap(file, addr, len, prot, flags, off);
	if (!(flags & MAP_ANONYMOUS) &&
	    sio_shared_mmap(addr, len, prot, flags, fd, off, REAL(mmap), &p))
		return fixed_mapped(p, len, flags);
	return fixed_mapped(REAL(mmap)(addr, len, prot, flags, fd, off), len,
			    flags);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
		    off64_t off)
{
	struct sio_file *file;

	void *p;

	if (!(flags & MAP_ANONYMOUS) && (file = sio_file_lookup(fd)))
		return file_mmap(file, addr, len, prot, flags, off);
	if (!(flags & MAP_ANONYMOUS) &&
	    sio_shared_mmap(addr, len, prot, flags, fd, off, REAL(mmap64), &p))
		return fixed_mapped(p, len, flags);
	return fixed_mapped(REAL(mmap64)(addr, len, prot, flags, fd, off), len,
			    flags);
}

/* A mapping of an emulated file ends when all of it is unmapped. */
EXPORT int munmap(void *addr, size_t len)
{
	int rc = REAL(munmap)(addr, len);

	if (!rc) {
		sio_file_munmap(addr, len);
		sio_shared_munmap(addr, len);
		sio_umem_notify_unmap((uintptr_t)addr, len);
	}
	return rc;
}

/* New protections: user memory trusts the protections it learnt for a
 * range it watches, so it forgets the range and learns them again. */
EXPORT int mprotect(void *addr, size_t len, int prot)
{
	int rc = REAL(mprotect)(addr, len, prot);

	if (!rc)
		sio_umem_notify_unmap((uintptr_t)addr, len);
	return rc;
}

/* mremap: the pages left the old range (moved, or its tail dropped), and
 * MREMAP_FIXED replaced what was at the new one. */
EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *want = NULL, *p;
	va_list ap;

	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		want = va_arg(ap, void *);
		va_end(ap);
	}
	p = REAL(mremap)(old, old_len, new_len, flags, want);
	if (p == MAP_FAILED)
		return p;
	if (p != old && old_len && !(flags & MREMAP_DONTUNMAP))
		sio_umem_notify_unmap((uintptr_t)old, old_len);
	else if (p == old && new_len < old_len)
		sio_umem_notify_unmap((uintptr_t)old + new_len,
				      old_len - new_len);
	if (p != old)
		sio_umem_notify_unmap((uintptr_t)p, new_len);
	return p;
}

/* ------------------------------------------------------------------ */
/* read and write                                                       */
/* ------------------------------------------------------------------ */

/* A read op answers -EAGAIN when nothing is queued; a blocking descriptor
 * then waits for the eventfd, outside the op (file.h: ops never block). */
static ssize_t file_read(int fd, struct sio_file *file, void *buf, size_t len)
{
	ssize_t rc;

	for (;;) {
		int fl;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		rc = sio_file_read(file, buf, len);
		if (rc != -EAGAIN)
			break;
		fl = sio_sys_fcntl(fd, F_GETFL, 0);
		if (fl < 0 || (fl & O_NONBLOCK))
			break;
		if (poll(&p, 1, -1) < 0) {
			rc = -errno;
			break;
		}
	}
	sio_file_put(file);
	return rc < 0 ? fail(rc) : rc;
}

static ssize_t file_write(struct sio_file *file, const void *buf, size_t len)
{
	ssize_t rc = sio_file_write(file, buf, len);

	sio_file_put(file);
	return rc < 0 ? fail(rc) : rc;
}

EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	struct sio_file *file = sio_file_lookup(fd);
	ssize_t rc;

	if (file)
		return file_read(fd, file, buf, len);
	if (sio_shared_rw(fd, false, buf, len, &rc))
		return rc < 0 ? fail(rc) : rc;
	return REAL(read)(fd, buf, len);
}

EXPORT ssize_t __read_chk(int fd, void *buf, size_t nbytes, size_t buflen)
{
	struct sio_file *file;
	ssize_t rc;

	if (nbytes > buflen)
		__chk_fail();
	file = sio_file_lookup(fd);
	if (file)
		return file_read(fd, file, buf, nbytes);
	if (sio_shared_rw(fd, false, buf, nbytes, &rc))
		return rc < 0 ? fail(rc) : rc;
	return REAL(__read_chk)(fd, buf, nbytes, buflen);
}

EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	struct sio_file *file = sio_file_lookup(fd);
	ssize_t rc;

	if (file)
		return file_write(file, buf, len);
	if (sio_shared_rw(fd, true, (void *)buf, len, &rc))
		return rc < 0 ? fail(rc) : rc;
	return REAL(write)(fd, buf, len);
}

/* A file with positioned ops gets them; the others are streams: a
 * position other than 0 is -ESPIPE. */
EXPORT ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	struct sio_file *file = sio_file_lookup(fd);
	ssize_t rc;

	if (!file) {
		/* A served file: positioned ops in the server (VFIO
		 * regions), or a stream's position 0. */
		if (sio_shared_prw(fd, false, (void *)buf, len, off, &rc))
			return rc < 0 ? fail(rc) : rc;
		return REAL(pread)(fd, buf, len, off);
	}
	if (sio_file_ops(file)->pread) {
		rc = sio_file_pread(file, buf, len, off);
		sio_file_put(file);
		return rc < 0 ? fail(rc) : rc;
	}
	if (off) {
		sio_file_put(file);
		return fail(-ESPIPE);
	}
	return file_read(fd, file, buf, len);
}

EXPORT ssize_t pread64(int fd, void *buf, size_t len, off64_t off)
{
	struct sio_file *file = sio_file_lookup(fd);
	ssize_t rc;

	if (!file) {
		/* A served file: positioned ops in the server (VFIO
		 * regions), or a stream's position 0. */
		if (sio_shared_prw(fd, false, (void *)buf, len, off, &rc))
			return rc < 0 ? fail(rc) : rc;
		return REAL(pread64)(fd, buf, len, off);
	}
	if (sio_file_ops(file)->pread) {
		rc = sio_file_pread(file, buf, len, off);
		sio_file_put(file);
		return rc < 0 ? fail(rc) : rc;
	}
	if (off) {
		sio_file_put(file);
		return fail(-ESPIPE);
	}
	return file_read(fd, file, buf, len);
}

/* The fortified forms that programs built with _FORTIFY_SOURCE call (QEMU
 * reads VFIO config space with them): the size check, then pread. */
EXPORT ssize_t __pread_chk(int fd, void *buf, size_t nbytes, off_t off,
			   size_t buflen)
{
	if (nbytes > buflen)
		__chk_fail();
	return pread(fd, buf, nbytes, off);
}

EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t nbytes, off64_t off,
			     size_t buflen)
{
	if (nbytes > buflen)
		__chk_fail();
	return pread64(fd, buf, nbytes, off);
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	struct sio_file *file = sio_file_lookup(fd);
	ssize_t rc;

	if (!file) {
		/* A served file: positioned ops in the server (VFIO
		 * regions), or a stream's position 0. */
		if (sio_shared_prw(fd, true, (void *)buf, len, off, &rc))
			return rc < 0 ? fail(rc) : rc;
		return REAL(pwrite)(fd, buf, len, off);
	}
	if (sio_file_ops(file)->pwrite) {
		rc = sio_file_pwrite(file, buf, len, off);
		sio_file_put(file);
		return rc < 0 ? fail(rc) : rc;
	}
	if (off) {
		sio_file_put(file);
		return fail(-ESPIPE);
	}
	return file_write(file, buf, len);
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	struct sio_file *file = sio_file_lookup(fd);
	ssize_t rc;

	if (!file) {
		/* A served file: positioned ops in the server (VFIO
		 * regions), or a stream's position 0. */
		if (sio_shared_prw(fd, true, (void *)buf, len, off, &rc))
			return rc < 0 ? fail(rc) : rc;
		return REAL(pwrite64)(fd, buf, len, off);
	}
	if (sio_file_ops(file)->pwrite) {
		rc = sio_file_pwrite(file, buf, len, off);
		sio_file_put(file);
		return rc < 0 ? fail(rc) : rc;
	}
	if (off) {
		sio_file_put(file);
		return fail(-ESPIPE);
	}
	return file_write(file, buf, len);
}

/*
 * The vector forms on an emulated file go through one bounce buffer.  The
 * program's iovec array and buffers are reached with umem's copy of the
 * calling process (a fault-safe copy once the library's SIGSEGV handler is
 * in, process_vm_readv/writev before), so a bad pointer is EFAULT, never
 * a crash of the shim.
 */
static ssize_t copy_self(bool to_prog, void *local, void *prog, size_t len)
{
	if (!len)
		return 0;
	return sio_umem_self_copy(to_prog, local, (uint64_t)(uintptr_t)prog,
				  len) ? -EFAULT : 0;
}

/* Fetch the program's iovec array and its total length. */
static ssize_t iov_fetch(const struct iovec *prog, int cnt, struct iovec **out,
			 size_t *total)
{
	struct iovec *v;
	size_t sum = 0;

	if (cnt < 0 || cnt > IOV_MAX)
		return -EINVAL;
	v = malloc((size_t)(cnt ? cnt : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (copy_self(false, v, (void *)prog, (size_t)cnt * sizeof(*v))) {
		free(v);
		return -EFAULT;
	}
	for (int i = 0; i < cnt; i++) {
		if (v[i].iov_len > SSIZE_MAX - sum) {
			free(v);
			return -EINVAL;
		}
		sum += v[i].iov_len;
	}
	*out = v;
	*total = sum;
	return 0;
}

static ssize_t file_readv(int fd, struct sio_file *file,
			  const struct iovec *iov, int cnt)
{
	struct iovec *v = NULL;
	size_t total, done = 0;
	char *bounce = NULL;
	ssize_t rc;

	rc = iov_fetch(iov, cnt, &v, &total);
	if (!rc && !(bounce = malloc(total ? total : 1)))
		rc = -ENOMEM;
	if (rc) {
		sio_file_put(file);
		free(v);
		return fail(rc);
	}
	rc = file_read(fd, file, bounce, total);	/* drops the reference */
	for (int i = 0; rc > 0 && i < cnt && done < (size_t)rc; i++) {
		size_t n = v[i].iov_len < (size_t)rc - done ? v[i].iov_len :
							      (size_t)rc - done;

		if (copy_self(true, bounce + done, v[i].iov_base, n)) {
			rc = fail(-EFAULT);
			break;
		}
		done += n;
	}
	free(bounce);
	free(v);
	return rc;
}

static ssize_t file_writev(struct sio_file *file, const struct iovec *iov,
			   int cnt)
{
	struct iovec *v = NULL;
	size_t total, done = 0;
	char *bounce = NULL;
	ssize_t rc;

	rc = iov_fetch(iov, cnt, &v, &total);
	if (!rc && !(bounce = malloc(total ? total : 1)))
		rc = -ENOMEM;
	for (int i = 0; !rc && i < cnt; i++) {
		rc = copy_self(false, bounce + done, v[i].iov_base, v[i].iov_len);
		done += v[i].iov_len;
	}
	if (rc) {
		sio_file_put(file);
		rc = fail(rc);
	} else {
		rc = file_write(file, bounce, total);
	}
	free(bounce);
	free(v);
	return rc;
}

/* The vector forms on a file of the shared mode's server: one bounce
 * buffer here, read or written by the server through our memory. */
static ssize_t shared_rwv(int fd, bool write_op, const struct iovec *iov,
			  int cnt)
{
	struct iovec *v = NULL;
	size_t total, done = 0;
	char *bounce = NULL;
	ssize_t rc, n = 0;

	rc = iov_fetch(iov, cnt, &v, &total);
	if (!rc && !(bounce = malloc(total ? total : 1)))
		rc = -ENOMEM;
	for (int i = 0; !rc && write_op && i < cnt; i++) {
		rc = copy_self(false, bounce + done, v[i].iov_base, v[i].iov_len);
		done += v[i].iov_len;
	}
	if (!rc && !sio_shared_rw(fd, write_op, bounce, total, &n))
		n = -EBADF;
	if (rc)
		n = rc;
	for (int i = 0, off = 0; !write_op && n > 0 && i < cnt && off < n; i++) {
		size_t k = v[i].iov_len < (size_t)(n - off) ? v[i].iov_len :
							      (size_t)(n - off);

		if (copy_self(true, bounce + off, v[i].iov_base, k)) {
			n = -EFAULT;
			break;
		}
		off += (int)k;
	}
	free(bounce);
	free(v);
	return n < 0 ? fail(n) : n;
}

EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	struct sio_file *file = sio_file_lookup(fd);

	if (file)
		return file_readv(fd, file, iov, cnt);
	if (sio_shared_served(fd))
		return shared_rwv(fd, false, iov, cnt);
	return REAL(readv)(fd, iov, cnt);
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct sio_file *file = sio_file_lookup(fd);

	if (file)
		return file_writev(file, iov, cnt);
	if (sio_shared_served(fd))
		return shared_rwv(fd, true, iov, cnt);
	return REAL(writev)(fd, iov, cnt);
}

/* ------------------------------------------------------------------ */
/* Emulated fds sent to another process (in-process mode)              */
/* ------------------------------------------------------------------ */

/*
 * In-process, an emulated fd is an eventfd to any other process: the
 * state stays here.  The first time one leaves by SCM_RIGHTS, say so in
 * one line, pointing at --shared.  Only a process that has emulated files
 * looks; the program's msghdr and control data are read fault-safely
 * (a bad pointer is the kernel's EFAULT to report, not a crash here).
 */
static bool is_emulated(int fd);

static void warn_sent(const struct msghdr *prog_msg)
{
	static bool told;
	char cbuf[1024];
	struct msghdr h;
	struct cmsghdr *c;

	if (__atomic_load_n(&told, __ATOMIC_RELAXED) || !sio_file_any() ||
	    sio_shared_on() || !prog_msg ||
	    copy_self(false, &h, (void *)prog_msg, sizeof(h)) ||
	    !h.msg_control || h.msg_controllen < sizeof(struct cmsghdr))
		return;
	if (h.msg_controllen > sizeof(cbuf))
		h.msg_controllen = sizeof(cbuf);
	if (copy_self(false, cbuf, h.msg_control, h.msg_controllen))
		return;
	h.msg_control = cbuf;
	for (c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (!is_emulated(fd) ||
			    __atomic_exchange_n(&told, true, __ATOMIC_RELAXED))
				continue;
			fprintf(stderr, "softiommu: emulated fd %d sent to another "
				"process; it is not emulated there (run with "
				"--shared to share /dev/iommu)\n", fd);
			return;
		}
	}
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	warn_sent(msg);
	return REAL(sendmsg)(fd, msg, flags);
}

/* ------------------------------------------------------------------ */
/* Descriptors                                                          */
/* ------------------------------------------------------------------ */

static bool is_emulated(int fd)
{
	struct sio_file *file = sio_file_lookup(fd);

	sio_file_put(file);
	return file != NULL;
}

static int ret_fd(int rc)
{
	return rc < 0 ? (int)fail(rc) : rc;
}

EXPORT int close(int fd)
{
	int rc;

	/* The library's own descriptors are not the program's to close. */
	if (sio_fd_private(fd)) {
		errno = EBADF;
		return -1;
	}
	rc = sio_file_close(fd);
	if (rc == -EBADF)
		return sio_shared_close(fd, REAL(close));
	return ret_fd(rc);
}

/* close_range(2) over [first, last] around the library's private
 * descriptors, which it skips as the kernel skips numbers a process does
 * not have. */
static int close_range_around(unsigned int first, unsigned int last, int flags)
{
	while (first <= last) {
		int p = sio_fd_private_next(first, last);
		int rc;

		if (p < 0)
			return (int)syscall(SYS_close_range, first, last, flags);
		if ((unsigned int)p > first) {
			rc = (int)syscall(SYS_close_range, first,
					  (unsigned int)p - 1, flags);
			if (rc)
				return rc;
		}
		if ((unsigned int)p == ~0u)
			break;
		first = (unsigned int)p + 1;
	}
	return 0;
}

EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	struct sio_shared_closing sc = { 0 };
	int rc;

	/* CLOSE_RANGE_CLOEXEC only marks descriptors: nothing closes. */
	if (!(flags & 4 /* CLOSE_RANGE_CLOEXEC */) && first <= last) {
		sio_file_close_range(first, last);
		sio_shared_closing_begin(&sc, first, last);
	}
	if (first <= last && sio_fd_private_next(first, last) >= 0)
		rc = close_range_around(first, last, flags);
	else
		rc = REAL(close_range)(first, last, flags);
	sio_shared_closing_end(&sc, rc == 0);
	return rc;
}

EXPORT void closefrom(int lowfd)
{
	struct sio_shared_closing sc = { 0 };

	if (lowfd >= 0) {
		sio_file_close_range((unsigned int)lowfd, ~0u);
		sio_shared_closing_begin(&sc, (unsigned int)lowfd, ~0u);
	}
	if (lowfd >= 0 && sio_fd_private_next((unsigned int)lowfd, ~0u) >= 0)
		close_range_around((unsigned int)lowfd, ~0u, 0);
	else
		REAL(closefrom)(lowfd);
	sio_shared_closing_end(&sc, true);
}

EXPORT int dup(int fd)
{
	if (!is_emulated(fd)) {
		int nfd = REAL(dup)(fd);

		sio_shared_dup_note(fd, nfd);
		return nfd;
	}
	return ret_fd(sio_file_dup(fd, 0, 0));
}

/* dup2 (or dup3 with flags) of descriptors that are not emulated here:
 * the kernel's, with the shared mode told of the descriptor it replaces
 * (a last close of one of its files) and of the copy. */
static int dup_real(int oldfd, int newfd, bool three, int flags)
{
	struct sio_shared_closing sc = { 0 };
	int nfd;

	if (oldfd != newfd && newfd >= 0)
		sio_shared_closing_begin(&sc, (unsigned int)newfd,
					 (unsigned int)newfd);
	nfd = three ? REAL(dup3)(oldfd, newfd, flags) : REAL(dup2)(oldfd, newfd);
	sio_shared_closing_end(&sc, nfd >= 0);
	sio_shared_dup_note(oldfd, nfd);
	return nfd;
}

EXPORT int dup2(int oldfd, int newfd)
{
	if (!is_emulated(oldfd) && !is_emulated(newfd))
		return dup_real(oldfd, newfd, false, 0);
	if (oldfd == newfd)	/* valid, since it is emulated */
		return newfd;
	return ret_fd(sio_file_dup(oldfd, newfd, SIO_FILE_DUP_EXACT));
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	if (!is_emulated(oldfd) && !is_emulated(newfd))
		return dup_real(oldfd, newfd, true, flags);
	if (flags & ~O_CLOEXEC)
		return (int)fail(-EINVAL);
	return ret_fd(sio_file_dup(oldfd, newfd, SIO_FILE_DUP_EXACT | flags));
}

/* fcntl's third argument is an int or a pointer by command: read it as a
 * pointer, as glibc does, and pass it on unchanged. */
static int do_fcntl(int (*real)(int, int, ...), int fd, int cmd, void *arg)
{
	if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && is_emulated(fd)) {
		long min = (long)(intptr_t)arg;

		if (min < 0 || min > INT_MAX)
			return (int)fail(-EINVAL);
		return ret_fd(sio_file_dup(fd, (int)min,
					   cmd == F_DUPFD_CLOEXEC ? O_CLOEXEC : 0));
	}
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
		int nfd = real(fd, cmd, arg);

		sio_shared_dup_note(fd, nfd);
		return nfd;
	}
	return real(fd, cmd, arg);
}

EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return do_fcntl(REAL(fcntl), fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return do_fcntl(REAL(fcntl64), fd, cmd, arg);
}
