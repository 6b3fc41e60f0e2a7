/*
 * The descriptors the in-process owner keeps for itself (the maps query
 * descriptor, the watch's userfaultfd, memfds and files of the arena) live
 * as long as its caches, not as long as a call.  The kernel's pins hold no
 * descriptor at all, so a program must not find these in its way: they
 * are moved to the upper half of the descriptor table (open() and dup()
 * return the lowest free number, which stays the program's), and
 * registered as private, so that the shim's close and closefrom leave
 * them alone.
 */
#include <fcntl.h>
#include <sys/resource.h>

#include "file/private_fd.h"
#include "umem/umem.h"
#include "util/sys.h"

int sio_umem_fd_keep(int fd)
{
	struct rlimit rl;
	long base = 512;
	int nfd;

	if (fd < 0)
		return -EBADF;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		base = (long)(rl.rlim_cur / 2);
	if (base > fd) {
		nfd = sio_sys_fcntl(fd, F_DUPFD_CLOEXEC, base);
		if (nfd >= 0) {
			sio_sys_close(fd);
			fd = nfd;
		}
	}
	if (sio_fd_private_add(fd)) {
		sio_sys_close(fd);
		return -ENOMEM;
	}
	return fd;
}
