/*
 * The shim's side of the shared mode (shared.c): /dev/iommu and VFIO
 * files served by the launcher for the whole process tree
 * (docs/process-model.md).
 */
#ifndef SIO_PRELOAD_SHARED_H
#define SIO_PRELOAD_SHARED_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Whether this process runs in shared mode (the launcher said so). */
bool sio_shared_on(void);
/* open of a device node through the server: node 0 is /dev/iommu, node
 * id + 1 the machine's node (a VFIO container, group or cdev).  A
 * descriptor or -errno. */
int sio_shared_open(uint64_t node, dev_t rdev, int flags);
/* fstat of fd gave st: for a file of the server opened from a device
 * node, make st show the node (a character device), as in-process. */
void sio_shared_fix_stat(int fd, struct stat *st);
/* If fd is a file of the server, forward the ioctl: true and *rc (>= 0 or
 * -errno).  false: not one of ours. */
bool sio_shared_ioctl(int fd, unsigned long request, unsigned long arg,
		      long *rc);
/* read(2)/write(2) of a file of the server: true and *rc (bytes or
 * -errno); a blocking read waits outside the request.  false: not ours. */
bool sio_shared_rw(int fd, bool write, void *buf, size_t len, ssize_t *rc);
/* pread(2)/pwrite(2) of a file of the server (VFIO regions; a stream file
 * at position 0 reads or writes).  false: not ours. */
bool sio_shared_prw(int fd, bool write, void *buf, size_t len, off_t off,
		    ssize_t *rc);
/* mmap(2) of a file of the server: true and *out (MAP_FAILED with errno
 * set on failure); the mapping is real_mmap of the memory file the
 * server hands over.  false: not ours. */
bool sio_shared_mmap(void *addr, size_t len, int prot, int flags, int fd,
		     off_t off, void *(*real_mmap)(void *, size_t, int, int,
						   int, off_t),
		     void **out);
/* munmap(2) of [addr, addr + len) succeeded: mappings of served files
 * wholly inside it are gone. */
void sio_shared_munmap(void *addr, size_t len);
/* Whether fd is a file of the server that this process has used (the
 * cheap test read and write make). */
bool sio_shared_served(int fd);
/* newfd is a copy of oldfd (dup, dup2, dup3, F_DUPFD). */
void sio_shared_dup_note(int oldfd, int newfd);
/* close(2) of fd: with real_close, then, for a file of the server, wait
 * until a last close has released it.  Returns what real_close did. */
int sio_shared_close(int fd, int (*real_close)(int));
/*
 * Descriptors that dup2/dup3 replace or close_range/closefrom close are
 * closed like close(2) closes them: begin notes the served files among
 * [first, last] (those this process has used), end, after the real call
 * (done: it succeeded), waits for the releases that were last closes.
 */
struct sio_shared_closing {
	uint64_t *inos;
	size_t n;
};
void sio_shared_closing_begin(struct sio_shared_closing *sc,
			      unsigned int first, unsigned int last);
void sio_shared_closing_end(struct sio_shared_closing *sc, bool done);
/* Pages pinned by pid (VmPin) and charged to its mm (VmLck): 0 or -errno. */
int sio_shared_status(pid_t pid, uint64_t *pinned, uint64_t *locked);

#endif
