/*
 * The real system calls, for library code that means them.
 *
 * Under `softiommu run` the library lives inside the LD_PRELOAD shim, whose
 * interposers own the libc names open, close, read, write, fcntl, mmap,
 * munmap, dup and friends: a library call through those names would come
 * back into the shim's file table (and, for paths, into its view of the
 * host namespace).  When the library opens /proc/self/maps, maps a memory
 * file it made, or closes a descriptor of its own, it wants the kernel, so
 * it goes through syscall(2) here.  Each wrapper has the libc calling
 * convention: -1 (MAP_FAILED for the maps) with errno set on failure.
 *
 * ThreadSanitizer builds are the exception for the calls that make or drop
 * memory and descriptors (mmap, munmap, open, close, dup3, fcntl): TSan
 * sees them only through the libc calls it intercepts, so pages one thread
 * gave back with a raw munmap and another got again from a raw mmap (the
 * SVA page pool does exactly that), or a descriptor number closed raw and
 * reused by a raw open, would look shared without synchronisation.  Those
 * builds call libc, which TSan intercepts; the shim cannot load into a
 * program there anyway.
 */
#ifndef SIO_UTIL_SYS_H
#define SIO_UTIL_SYS_H

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__)
#define SIO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SIO_TSAN 1
#endif
#endif

static inline int sio_sys_open(const char *path, int flags)
{
	/* Never O_CREAT: no mode argument. */
#ifdef SIO_TSAN
	return open(path, flags);
#else
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags);
#endif
}

static inline int sio_sys_close(int fd)
{
#ifdef SIO_TSAN
	return close(fd);
#else
	return (int)syscall(SYS_close, fd);
#endif
}

static inline int sio_sys_dup3(int oldfd, int newfd, int flags)
{
#ifdef SIO_TSAN
	/* dup3 needs _GNU_SOURCE, which not every includer defines. */
	int fd;

	if (oldfd == newfd) {
		errno = EINVAL;
		return -1;
	}
	fd = dup2(oldfd, newfd);
	if (fd >= 0 && (flags & O_CLOEXEC))
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
#else
	return (int)syscall(SYS_dup3, oldfd, newfd, flags);
#endif
}

static inline int sio_sys_fcntl(int fd, int cmd, long arg)
{
#ifdef SIO_TSAN
	return fcntl(fd, cmd, arg);
#else
	return (int)syscall(SYS_fcntl, fd, cmd, arg);
#endif
}

static inline ssize_t sio_sys_read(int fd, void *buf, size_t len)
{
	return syscall(SYS_read, fd, buf, len);
}

static inline ssize_t sio_sys_write(int fd, const void *buf, size_t len)
{
	return syscall(SYS_write, fd, buf, len);
}

static inline void *sio_sys_mmap(void *addr, size_t len, int prot, int flags,
				 int fd, off_t off)
{
#ifdef SIO_TSAN
	return mmap(addr, len, prot, flags, fd, off);
#else
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
#endif
}

static inline int sio_sys_munmap(void *addr, size_t len)
{
#ifdef SIO_TSAN
	return munmap(addr, len);
#else
	return (int)syscall(SYS_munmap, addr, len);
#endif
}

static inline int sio_sys_mprotect(void *addr, size_t len, int prot)
{
	return (int)syscall(SYS_mprotect, addr, len, prot);
}

/* new_addr is used only with MREMAP_FIXED (pass NULL otherwise). */
static inline void *sio_sys_mremap(void *old, size_t old_len, size_t new_len,
				   int flags, void *new_addr)
{
	return (void *)syscall(SYS_mremap, old, old_len, new_len, flags,
			       new_addr);
}

#endif
