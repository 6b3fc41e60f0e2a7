/*
 * Fault injection under `softiommu run`: the kernel's control files as a
 * plain program uses them (docs/fault-injection.md).
 *  - /proc/self/task/<tid>/fail-nth, /proc/thread-self/fail-nth,
 *    /proc/<pid>/task/<tid>/fail-nth: write N arms, read gives what is
 *    left ("0\n" once fired), bad writes get the kernel's errnos, pread and
 *    pwrite at 0 as iommufd_fail_nth does; another thread's file is EPERM;
 *  - the debugfs knobs opened relative to opendir("/sys/kernel/debug/"),
 *    as iommufd_fail_nth opens them, their formats and errnos, and readdir
 *    listing the fail* directories;
 *  - an armed countdown failing an iommufd ioctl once failslab counts;
 *  - with "env" as argv[1]: SOFTIOMMU_FAIL_NTH armed the main thread.
 * Prints "N passed, M failed"; exits non-zero when anything failed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "softiommu/uapi/iommufd.h"
#include "shim_check.h"

static pid_t tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static int nth_open(void)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/self/task/%d/fail-nth", (int)tid());
	return open(p, O_RDWR | O_CLOEXEC);
}

/* What the file says, as a number; -1 on a bad read. */
static long nth_read(int fd)
{
	char buf[32] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n < 2 || buf[n - 1] != '\n')
		return -1;
	return strtol(buf, NULL, 10);
}

static long wr(int fd, const char *s)
{
	errno = 0;
	return pwrite(fd, s, strlen(s), 0) < 0 ? -errno : 0;
}

static int ioas_alloc(int fd)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	return ioctl(fd, IOMMU_IOAS_ALLOC, &cmd) ? -errno : 0;
}

static void test_files(void)
{
	char p[96], buf[32];
	int fd = nth_open(), fd2;
	ssize_t n;

	check(fd >= 0, "open own fail-nth");
	check(nth_read(fd) == 0, "disarmed reads 0");
	check(!wr(fd, "5"), "write 5");
	check(nth_read(fd) == 5, "reads 5");
	check(!wr(fd, "7\n"), "write with newline");
	check(nth_read(fd) == 7, "reads 7");
	check(!wr(fd, "0x10"), "hex, as kstrtouint base 0");
	check(nth_read(fd) == 16, "reads 16");
	check(wr(fd, "abc") == -EINVAL, "non-number EINVAL");
	check(wr(fd, "-1") == -EINVAL, "negative EINVAL");
	check(wr(fd, "") == -EINVAL, "empty EINVAL");
	check(wr(fd, "4294967296") == -ERANGE, "above UINT_MAX ERANGE");
	check(nth_read(fd) == 16, "a bad write changes nothing");
	check(!wr(fd, "0"), "write 0 disarms");
	check(nth_read(fd) == 0, "reads 0");
	/* read() has a position, as simple_read_from_buffer's. */
	n = read(fd, buf, sizeof(buf));
	check(n == 2 && !memcmp(buf, "0\n", 2), "read");
	check(read(fd, buf, sizeof(buf)) == 0, "read at the end is EOF");

	fd2 = open("/proc/thread-self/fail-nth", O_RDWR);
	check(fd2 >= 0, "/proc/thread-self/fail-nth");
	check(!wr(fd2, "3") && nth_read(fd) == 3, "same countdown");
	close(fd2);
	snprintf(p, sizeof(p), "/proc/%d/task/%d/fail-nth", (int)getpid(),
		 (int)tid());
	fd2 = open(p, O_RDONLY);
	check(fd2 >= 0 && nth_read(fd2) == 3, "%s", p);
	check(fd2 >= 0 && wr(fd2, "1") == -EBADF, "read-only: write EBADF");
	close(fd2);
	check(!wr(fd, "0"), "disarm");
	close(fd);
	/* Not a thread of ours: the real /proc (no such file there). */
	fd2 = open("/proc/1/task/1/fail-nth", O_RDWR);
	check(fd2 < 0 || getpid() == 1, "another process's: not emulated");
	if (fd2 >= 0)
		close(fd2);
	/* Real /proc is untouched. */
	fd2 = open("/proc/self/status", O_RDONLY);
	check(fd2 >= 0 && read(fd2, buf, 5) == 5 && !memcmp(buf, "Name:", 5),
	      "/proc/self/status");
	close(fd2);
}

struct other {
	int fd;
	long rd, wr;
};

static void *other_thread(void *arg)
{
	struct other *o = arg;
	char buf[8];

	errno = 0;
	o->rd = pread(o->fd, buf, sizeof(buf), 0) < 0 ? -errno : 0;
	o->wr = wr(o->fd, "1");
	return NULL;
}

static void test_other_thread(void)
{
	struct other o = { .fd = nth_open() };
	pthread_t t;

	pthread_create(&t, NULL, other_thread, &o);
	pthread_join(t, NULL);
	check(o.rd == -EPERM && o.wr == -EPERM, "another thread's file EPERM");
	check(nth_read(o.fd) == 0, "own countdown untouched");
	close(o.fd);
}

static int attr_fd(DIR *d, const char *name, int flags)
{
	return openat(dirfd(d), name, flags);
}

static void attr_text(DIR *d, const char *name, const char *want)
{
	char buf[32] = "";
	int fd = attr_fd(d, name, O_RDONLY);

	check(fd >= 0 && read(fd, buf, sizeof(buf) - 1) > 0 && !strcmp(buf, want),
	      "%s reads '%s' (got '%s')", name, want, buf);
	close(fd);
}

static long attr_write(DIR *d, const char *name, const char *v)
{
	int fd = attr_fd(d, name, O_WRONLY);
	long rc;

	if (fd < 0)
		return -errno;
	errno = 0;
	rc = write(fd, v, strlen(v)) == (ssize_t)strlen(v) ? 0 : -errno;
	close(fd);
	return rc;
}

static void test_debugfs(void)
{
	DIR *d = opendir("/sys/kernel/debug/");
	struct dirent *e;
	int seen = 0, iommu_fd, nth, enomem = 0;
	long sites_y, sites_n;

	check(d != NULL, "opendir /sys/kernel/debug/");
	if (!d)
		return;
	while ((e = readdir(d)))
		if (!strcmp(e->d_name, "failslab") ||
		    !strcmp(e->d_name, "fail_page_alloc") ||
		    !strcmp(e->d_name, "fail_usercopy"))
			seen++;
	check(seen == 3, "readdir lists the three fail* directories");
	attr_text(d, "failslab/ignore-gfp-wait", "Y\n");
	attr_text(d, "fail_page_alloc/ignore-gfp-highmem", "Y\n");
	attr_text(d, "failslab/verbose", "2\n");
	attr_text(d, "fail_usercopy/times", "1\n");
	attr_text(d, "failslab/probability", "0\n");
	check(attr_write(d, "failslab/verbose", "0") == 0, "verbose 0");
	attr_text(d, "failslab/verbose", "0\n");
	check(attr_write(d, "failslab/verbose", "x") == -EINVAL, "verbose x");
	check(attr_write(d, "fail_usercopy/times", "-1") == 0, "times -1");
	attr_text(d, "fail_usercopy/times", "-1\n");
	check(attr_write(d, "failslab/ignore-gfp-wait", "maybe") == -EINVAL,
	      "bool: bad value EINVAL");
	check(attr_fd(d, "fail_usercopy/ignore-gfp-wait", O_RDONLY) < 0,
	      "fail_usercopy has no ignore-gfp-wait");

	/* While failslab ignores waits, only the user copies count. */
	iommu_fd = open("/dev/iommu", O_RDWR);
	check(iommu_fd >= 0, "open /dev/iommu");
	nth = nth_open();
	check(!wr(nth, "1") && ioas_alloc(iommu_fd) == -EFAULT &&
	      nth_read(nth) == 0, "usercopy counts: the copy-in fails");
	check(!wr(nth, "1000") && !ioas_alloc(iommu_fd), "far: succeeds");
	sites_y = 1000 - nth_read(nth);
	check(attr_write(d, "failslab/ignore-gfp-wait", "N") == 0, "write N");
	attr_text(d, "failslab/ignore-gfp-wait", "N\n");
	check(!wr(nth, "1000") && !ioas_alloc(iommu_fd), "far: succeeds");
	sites_n = 1000 - nth_read(nth);
	/* iommufd's own allocations are sites once it uses the wrappers;
	 * the machine's creation shows them failing (the "env" run). */
	check(sites_y >= 1 && sites_n >= sites_y,
	      "allocations count with N (%ld sites, %ld with Y)", sites_n, sites_y);
	for (long i = 1; i <= sites_n; i++) {
		char v[24];
		int rc;

		snprintf(v, sizeof(v), "%ld", i);
		wr(nth, v);
		rc = ioas_alloc(iommu_fd);
		enomem += rc == -ENOMEM;
		check(rc == -ENOMEM || rc == -EFAULT, "site %ld fails (%d)", i, rc);
		check(nth_read(nth) == 0, "site %ld fired", i);
	}
	check(enomem == sites_n - sites_y, "the extra sites are allocations");
	check(!wr(nth, "0") && !ioas_alloc(iommu_fd), "disarmed: succeeds");
	check(attr_write(d, "failslab/ignore-gfp-wait", "Y") == 0, "write Y");
	close(nth);
	close(iommu_fd);
	closedir(d);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "env")) {
		/* SOFTIOMMU_FAIL_NTH=1: allocations count, and the first
		 * site of the main thread, in the machine's creation at the
		 * first /dev path, fails. */
		int nth = nth_open(), fd;

		check(nth >= 0 && nth_read(nth) == 1, "armed at 1 before main");
		fd = open("/dev/iommu", O_RDWR);
		check(fd < 0 && errno == ENOMEM, "the machine's creation failed");
		check(nth_read(nth) == 0, "and the countdown is spent");
		if (fd >= 0)
			close(fd);
		close(nth);
	} else {
		test_files();
		test_other_thread();
		test_debugfs();
	}
	return shim_check_done();
}
