/*
 * One VMA of the calling process, by address: what a pin asks the kernel
 * about the program's memory.
 *
 * PROCMAP_QUERY (an ioctl on an open /proc/self/maps, Linux 6.11 and
 * later) answers for one address without formatting the whole file: its
 * cost does not grow with the number of mappings (about 1.6 ioctl(FIONREAD)
 * on Linux 6.18, where the whole file costs 250 to 50,000 getppid()).
 * Where the kernel refuses the ioctl (older kernels: ENOTTY), the same
 * answer comes from one read of the whole file, as before.
 *
 * The descriptor is the library's (registered private, so the program's
 * closefrom does not take it) and opened on first use.  /proc/self is
 * resolved when it is opened, so after fork the child's copy still names
 * the parent: the fork child handler marks it stale and the next query
 * opens the child's own.  A query that fails for another reason (the
 * program dup2()ed over the number) reopens once before giving up on the
 * ioctl.
 *
 * State: vma_fd and vma_fd_stale are touched under self_lock (self.c), or
 * by the fork child handler while it holds it.
 */
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>

#include "file/private_fd.h"
#include "umem/umem.h"
#include "util/sys.h"

#ifndef PROCMAP_QUERY
/* Linux 6.11 uAPI (include/uapi/linux/fs.h), for older headers. */
struct procmap_query {
	__u64 size;
	__u64 query_flags;
	__u64 query_addr;
	__u64 vma_start;
	__u64 vma_end;
	__u64 vma_flags;
	__u64 vma_page_size;
	__u64 vma_offset;
	__u64 inode;
	__u32 dev_major;
	__u32 dev_minor;
	__u32 vma_name_size;
	__u32 build_id_size;
	__u64 vma_name_addr;
	__u64 build_id_addr;
};
#define PROCMAP_QUERY _IOWR('f', 17, struct procmap_query)
#define PROCMAP_QUERY_VMA_READABLE 0x01
#define PROCMAP_QUERY_VMA_WRITABLE 0x02
#define PROCMAP_QUERY_VMA_EXECUTABLE 0x04
#define PROCMAP_QUERY_VMA_SHARED 0x08
#endif

static int vma_fd = -1;
static bool vma_fd_stale;	/* opened by the parent of a fork */
static bool vma_no_ioctl;	/* the kernel refused PROCMAP_QUERY */
uint64_t sio_vma_nqueries, sio_vma_nreads;	/* answered by each way */

void sio_vma_fork_child(void)
{
	vma_fd_stale = vma_fd >= 0;
}

void sio_vma_close(void)
{
	if (vma_fd >= 0)
		sio_fd_private_close(vma_fd);
	vma_fd = -1;
	vma_fd_stale = false;
}

static int vma_open(void)
{
	int fd;

	if (vma_fd >= 0 && vma_fd_stale) {
		sio_fd_private_close(vma_fd);
		vma_fd = -1;
	}
	vma_fd_stale = false;
	if (vma_fd >= 0)
		return 0;
	fd = sio_sys_open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	fd = sio_umem_fd_keep(fd);
	if (fd < 0)
		return fd;
	vma_fd = fd;
	return 0;
}

static int vma_ioctl(uint64_t addr, struct procmap_query *q, char *name,
		     size_t namesz)
{
	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	q->query_addr = addr;
	if (name && namesz) {
		q->vma_name_size = (__u32)namesz;
		q->vma_name_addr = (uint64_t)(uintptr_t)name;
	}
	return ioctl(vma_fd, PROCMAP_QUERY, q) ? -errno : 0;
}

/* The answer from one read of the whole maps file. */
static int vma_from_maps(uint64_t addr, struct sio_vma *v, char *name,
			 size_t namesz)
{
	struct sio_maps m;
	size_t pos = 0;
	int rc;

	rc = sio_maps_read("/proc/self/maps", &m);
	if (rc)
		return rc;
	rc = -EFAULT;
	while (sio_maps_next(&m, &pos, v)) {
		if (addr < v->start)
			break;
		if (addr >= v->end)
			continue;
		if (name && namesz) {
			size_t n = v->path_len < namesz ? v->path_len : 0;

			memcpy(name, v->path, n);
			v->path = name;
			v->path_len = n;
		} else {
			v->path = NULL;
			v->path_len = 0;
		}
		rc = 0;
		break;
	}
	sio_maps_free(&m);
	return rc;
}

int sio_vma_query(uint64_t addr, struct sio_vma *v, char *name, size_t namesz)
{
	struct procmap_query q;
	int rc = -ENOTTY, tries;

	for (tries = 0; !vma_no_ioctl && tries < 2; tries++) {
		rc = vma_open();
		if (rc)
			break;
		rc = vma_ioctl(addr, &q, name, namesz);
		if (rc == -E2BIG && name) {
			/* A name longer than the buffer: answer without it
			 * (special mappings have short names). */
			name = NULL;
			rc = vma_ioctl(addr, &q, NULL, 0);
		}
		if (rc == 0 || rc == -ENOENT)
			break;
		/* Not our maps file any more, or an old kernel: reopen once,
		 * then give up on the ioctl. */
		sio_fd_private_close(vma_fd);
		vma_fd = -1;
	}
	if (rc == -ENOENT)
		return -EFAULT;
	if (rc) {
		vma_no_ioctl = true;
		sio_vma_nreads++;
		return vma_from_maps(addr, v, name, namesz);
	}
	sio_vma_nqueries++;
	v->start = q.vma_start;
	v->end = q.vma_end;
	v->prot = ((q.vma_flags & PROCMAP_QUERY_VMA_READABLE) ? PROT_READ : 0) |
		  ((q.vma_flags & PROCMAP_QUERY_VMA_WRITABLE) ? PROT_WRITE : 0) |
		  ((q.vma_flags & PROCMAP_QUERY_VMA_EXECUTABLE) ? PROT_EXEC : 0);
	v->shared = q.vma_flags & PROCMAP_QUERY_VMA_SHARED;
	v->offset = q.vma_offset;
	v->dev = makedev(q.dev_major, q.dev_minor);
	v->ino = q.inode;
	v->path = name;
	/* The size counts the terminating NUL; 0 when there is no name. */
	v->path_len = name && q.vma_name_size ? q.vma_name_size - 1 : 0;
	return 0;
}
