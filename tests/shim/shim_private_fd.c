/*
 * The library's private descriptors under `softiommu run`: a program that
 * closes descriptors it did not open (a loop over /proc/self/fd,
 * close_range, closefrom) must not take the library's away.  After
 * IOMMU_IOAS_MAP_FILE the library holds its own descriptor of the memfd
 * (the file pin); the program's close of it is EBADF, the ranges skip it,
 * and the mapping still works afterwards (unmap, map again).
 * Prints "N passed, M failed"; exits non-zero when anything failed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "softiommu/uapi/iommufd.h"
#include "shim_check.h"

/* Whether fd is open, asked of the kernel itself. */
static int fd_open(int fd)
{
	return syscall(SYS_fcntl, fd, F_GETFD) >= 0;
}

/* The descriptors /proc/self/fd lists that are not keep[0..n). */
static int others(int *out, int max, const int *keep, int n)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int cnt = 0;

	while (d && (e = readdir(d))) {
		int fd = atoi(e->d_name), skip = e->d_name[0] == '.' ||
						   fd <= 2 || fd == dirfd(d);

		for (int i = 0; i < n; i++)
			skip |= fd == keep[i];
		if (!skip && cnt < max)
			out[cnt++] = fd;
	}
	if (d)
		closedir(d);
	return cnt;
}

static int map_file(int ifd, __u32 ioas, int mfd, __u64 iova)
{
	struct iommu_ioas_map_file c = {
		.size = sizeof(c), .flags = IOMMU_IOAS_MAP_FIXED_IOVA |
			IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas, .fd = mfd, .start = 0, .length = 4096,
		.iova = iova,
	};

	return ioctl(ifd, IOMMU_IOAS_MAP_FILE, &c) ? -errno : 0;
}

int main(void)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	int ifd = open("/dev/iommu", O_RDWR), mfd, keep[2], fds[64], n, priv = 0;

	mfd = memfd_create("shim-private-fd", 0);
	check(ifd >= 0 && mfd >= 0 && !ftruncate(mfd, 4096), "set up");
	check(!ioctl(ifd, IOMMU_IOAS_ALLOC, &a), "IOAS_ALLOC");
	check(!map_file(ifd, a.out_ioas_id, mfd, 0x100000), "MAP_FILE");
	keep[0] = ifd;
	keep[1] = mfd;
	n = others(fds, 64, keep, 2);
	/* The close loop: the library's descriptors answer EBADF. */
	for (int i = 0; i < n; i++) {
		errno = 0;
		if (close(fds[i]) && errno == EBADF && fd_open(fds[i]))
			priv++;
	}
	check(priv >= 1, "a library descriptor refused the close (%d of %d)",
	      priv, n);
	n = others(fds, 64, keep, 2);
	check(n == priv, "and only those remain (%d)", n);
	/* The ranges skip them (above the program's own two, which keep
	 * the mapping alive: closing /dev/iommu would end it). */
	check(!close_range((unsigned int)mfd + 1, ~0u, 0), "close_range");
	for (int i = 0; i < n; i++)
		check(fd_open(fds[i]), "close_range skipped %d", fds[i]);
	closefrom(mfd + 1);
	for (int i = 0; i < n; i++)
		check(fd_open(fds[i]), "closefrom skipped %d", fds[i]);
	check(!map_file(ifd, a.out_ioas_id, mfd, 0x200000),
	      "MAP_FILE again after the program's closes");
	return shim_check_done();
}
