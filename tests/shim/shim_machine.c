/*
 * The emulated machine's host namespace end to end: a plain program, built
 * without softiommu, run under `softiommu run`.  For each BDF given on the
 * command line (default 0100:00:01.0) it reads the function's sysfs, checks
 * that open, stat, lstat, statx, readlink, realpath, access, opendir,
 * scandir and fopen agree on every path, follows iommu_group to
 * /dev/vfio/<group>, finds vfio-dev/vfio<N>, opens /dev/vfio/devices/vfio<N>
 * and binds it to an iommufd, maps 4 KiB and 2 MiB and reads the debugfs
 * dump back as the kernel's vfio_dma_mapping_test does.  It also checks
 * that the host's own paths are untouched, that host directories list
 * emulated entries beside their own, and that a fork child and an exec'd
 * program of the same run see the same namespace.  Prints
 * "N passed, M failed"; exits non-zero when anything failed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/vfio.h"
#include "shim_check.h"

/* The first line of a file through open/read (what the VFIO selftests
 * do), "" if it cannot be read. */
static const char *read_line(const char *path)
{
	static char buf[512];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	buf[0] = '\0';
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void pathf(char *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void pathf(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
}

/* The name the kernel's sysfs shows at the end of a link. */
static const char *link_base(const char *path, char *buf)
{
	ssize_t n = readlink(path, buf, PATH_MAX - 1);

	if (n < 0)
		return "";
	buf[n] = '\0';
	return strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
}

/* ------------------------------------------------------------------ */

static void check_sysfs(const char *bdf, int *group, int *cdev)
{
	char p[PATH_MAX], q[PATH_MAX], buf[PATH_MAX], *rp;
	struct stat st, st2;
	struct statx stx;
	DIR *d;
	struct dirent *e;
	FILE *f;

	pathf(p, "/sys/bus/pci/devices/%s/vendor", bdf);
	check(!strcmp(read_line(p), "0x8086\n"), "%s vendor '%s'", bdf, read_line(p));
	pathf(p, "/sys/bus/pci/devices/%s/device", bdf);
	check(!strcmp(read_line(p), "0x2021\n"), "%s device", bdf);
	pathf(p, "/sys/bus/pci/devices/%s/class", bdf);
	check(!strcmp(read_line(p), "0x088000\n"), "%s class", bdf);
	/* fopen and fgets: glibc's fopen opens internally. */
	pathf(p, "/sys/bus/pci/devices/%s/subsystem_vendor", bdf);
	f = fopen(p, "re");
	check(f && fgets(buf, sizeof(buf), f) && !strcmp(buf, "0x8086\n"),
	      "fopen %s", p);
	if (f)
		fclose(f);

	/* The bus's entry is a link to the device's directory. */
	pathf(p, "/sys/bus/pci/devices/%s", bdf);
	check(lstat(p, &st) == 0 && S_ISLNK(st.st_mode), "lstat %s", p);
	check(stat(p, &st) == 0 && S_ISDIR(st.st_mode), "stat %s", p);
	check(readlink(p, buf, sizeof(buf)) > 0, "readlink %s", p);
	pathf(q, "../../../devices/pci%.7s/%s", bdf, bdf);
	check(!strncmp(buf, q, strlen(q)), "%s -> %.*s", p, (int)strlen(q), buf);
	rp = realpath(p, NULL);
	pathf(q, "/sys/devices/pci%.7s/%s", bdf, bdf);
	check(rp && !strcmp(rp, q), "realpath %s = %s", p, rp ? rp : "(null)");
	check(rp && stat(rp, &st2) == 0 && st2.st_ino == st.st_ino,
	      "realpath and stat agree");
	free(rp);
	rp = canonicalize_file_name(p);
	check(rp && !strcmp(rp, q), "canonicalize_file_name %s", p);
	free(rp);
	check(statx(AT_FDCWD, p, 0, STATX_INO, &stx) == 0 && stx.stx_ino == st.st_ino,
	      "statx %s", p);
	check(fstatat(AT_FDCWD, p, &st2, AT_SYMLINK_NOFOLLOW) == 0 &&
	      S_ISLNK(st2.st_mode), "fstatat nofollow %s", p);
	check(access(p, R_OK | X_OK) == 0, "access %s", p);
	check(faccessat(AT_FDCWD, p, F_OK, 0) == 0, "faccessat %s", p);
	/* "." and repeated slashes are the same path. */
	pathf(q, "//sys/bus/./pci//devices/%s/./vendor", bdf);
	check(!strcmp(read_line(q), "0x8086\n"), "%s", q);
	/* A descriptor of an emulated directory is a real one. */
	{
		int dfd = open(p, O_RDONLY | O_DIRECTORY);
		int fd = dfd >= 0 ? openat(dfd, "revision", O_RDONLY) : -1;

		check(fd >= 0 && read(fd, buf, 5) == 5 && !memcmp(buf, "0x04\n", 5),
		      "openat relative to %s", p);
		if (fd >= 0)
			close(fd);
		if (dfd >= 0)
			close(dfd);
	}

	/* The group: link, its directory, its node. */
	pathf(p, "/sys/bus/pci/devices/%s/iommu_group", bdf);
	*group = atoi(link_base(p, buf));
	pathf(q, "../../../kernel/iommu_groups/%d", *group);
	check(!strcmp(buf, q), "%s -> %s", p, buf);
	rp = realpath(p, NULL);
	pathf(q, "/sys/kernel/iommu_groups/%d", *group);
	check(rp && !strcmp(rp, q), "realpath %s", p);
	free(rp);
	pathf(p, "/sys/kernel/iommu_groups/%d/devices/%s", *group, bdf);
	check(lstat(p, &st) == 0 && S_ISLNK(st.st_mode), "%s", p);
	pathf(p, "/sys/kernel/iommu_groups/%d/type", *group);
	check(!strcmp(read_line(p), "DMA\n"), "%s", p);
	pathf(p, "/sys/bus/pci/devices/%s/driver", bdf);
	check(!strcmp(link_base(p, buf), "vfio-pci"), "%s", p);
	pathf(p, "/dev/vfio/%d", *group);
	check(stat(p, &st) == 0 && S_ISCHR(st.st_mode) &&
	      major(st.st_rdev) == 243, "stat %s is a char device", p);

	/* vfio-dev/vfio<N>, as libvfio finds its cdev. */
	*cdev = -1;
	pathf(p, "/sys/bus/pci/devices/%s/vfio-dev/", bdf);
	d = opendir(p);
	check(d != NULL, "opendir %s", p);
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, "vfio", 4))
			*cdev = atoi(e->d_name + 4);
	if (d)
		closedir(d);
	check(*cdev >= 0, "vfio-dev/vfio<N> in %s", p);
	pathf(p, "/sys/bus/pci/devices/%s/vfio-dev/vfio%d/dev", bdf, *cdev);
	pathf(q, "242:%d\n", *cdev);
	check(!strcmp(read_line(p), q), "%s", p);
	pathf(p, "/dev/vfio/devices/vfio%d", *cdev);
	check(stat(p, &st) == 0 && S_ISCHR(st.st_mode) &&
	      st.st_rdev == makedev(242, (unsigned int)*cdev), "stat %s", p);
	check(statx(AT_FDCWD, p, 0, STATX_BASIC_STATS, &stx) == 0 &&
	      S_ISCHR(stx.stx_mode) && stx.stx_rdev_major == 242, "statx %s", p);

	/* config: the live config space. */
	pathf(p, "/sys/bus/pci/devices/%s/config", bdf);
	{
		int fd = open(p, O_RDONLY);
		unsigned char cfg[4] = { 0 };

		check(fd >= 0 && pread(fd, cfg, 4, 0) == 4 && cfg[0] == 0x86 &&
		      cfg[1] == 0x80 && cfg[2] == 0x21 && cfg[3] == 0x20,
		      "config of %s", bdf);
		if (fd >= 0)
			close(fd);
	}
	/* ls -l asks for the SELinux label: none, but the file is there. */
	pathf(p, "/sys/bus/pci/devices/%s/vendor", bdf);
	errno = 0;
	check(lgetxattr(p, "security.selinux", buf, sizeof(buf)) < 0 &&
	      errno != ENOENT, "lgetxattr %s", p);
	/* What is not there is not there. */
	pathf(p, "/sys/bus/pci/devices/%s/nonexistent", bdf);
	errno = 0;
	check(open(p, O_RDONLY) < 0 && errno == ENOENT, "%s", p);
	check(access(p, F_OK) < 0 && errno == ENOENT, "access %s", p);
}

/* ------------------------------------------------------------------ */

/* The dump's line for iova, read as vfio_dma_mapping_test reads it. */
struct mapping {
	unsigned long pgd, p4d, pud, pmd, pte;
};

static void next_value(char **rest, unsigned long *v)
{
	char *tok = strtok_r(*rest, " \t|\n", rest);

	if (tok)
		sscanf(tok, "0x%lx", v);
}

static int mapping_get(const char *bdf, unsigned long iova, struct mapping *m)
{
	char path[PATH_MAX], line[PATH_MAX], *rest;
	unsigned long line_iova = -1;
	int ret = -ENOENT;
	FILE *f;

	pathf(path, "/sys/kernel/debug/iommu/intel/%s/domain_translation_struct",
	      bdf);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		rest = line;
		next_value(&rest, &line_iova);
		if (line_iova != iova / (unsigned long)getpagesize())
			continue;
		memset(m, 0, sizeof(*m));
		next_value(&rest, &m->pgd);
		next_value(&rest, &m->p4d);
		next_value(&rest, &m->pud);
		next_value(&rest, &m->pmd);
		next_value(&rest, &m->pte);
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

static long xioctl(int fd, unsigned long cmd, void *arg)
{
	errno = 0;
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

/*
 * A descriptor opened from a device node stats as the node, through every
 * form of fstat (QEMU 10 opens /dev/vfio/devices/vfioN and refuses it
 * unless fstat says S_ISCHR with the number in vfio-dev/vfioN/dev); so
 * does its dup.  rdev 0: any character device.
 */
static void check_fd_stat(int fd, dev_t rdev, const char *what)
{
	struct statx stx;
	struct stat st;
	int d;

	check(fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	      (!rdev || st.st_rdev == rdev), "fstat of %s", what);
	check(fstatat(fd, "", &st, AT_EMPTY_PATH) == 0 && S_ISCHR(st.st_mode) &&
	      (!rdev || st.st_rdev == rdev), "fstatat(AT_EMPTY_PATH) of %s", what);
	check(statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) == 0 &&
	      S_ISCHR(stx.stx_mode) &&
	      (!rdev || makedev(stx.stx_rdev_major, stx.stx_rdev_minor) == rdev),
	      "statx(AT_EMPTY_PATH) of %s", what);
	d = dup(fd);
	check(d >= 0 && fstat(d, &st) == 0 && S_ISCHR(st.st_mode) &&
	      (!rdev || st.st_rdev == rdev), "fstat of a dup of %s", what);
	if (d >= 0)
		close(d);
	/* A descriptor of the program's own is left alone. */
	d = open("/proc/self/status", O_RDONLY);
	check(d >= 0 && fstat(d, &st) == 0 && S_ISREG(st.st_mode),
	      "fstat of an ordinary file");
	if (d >= 0)
		close(d);
}

static void check_vfio(const char *bdf, int cdev)
{
	char p[PATH_MAX];
	struct sio_vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct sio_vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	struct sio_vfio_device_info info = { .argsz = sizeof(info) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct mapping m;
	int iommufd, dev, memfd;
	void *buf4k, *area, *buf2m;
	const unsigned long i4k = 0x100000, i2m = 0x400000, sz2m = 0x200000;

	access("/sys/kernel/debug/iommu/intel", F_OK);
	check(access("/sys/kernel/debug/iommu/intel", F_OK) == 0,
	      "access /sys/kernel/debug/iommu/intel");
	pathf(p, "/dev/vfio/devices/vfio%d", cdev);
	dev = open(p, O_RDWR);
	check(dev >= 0, "open %s", p);
	iommufd = open("/dev/iommu", O_RDWR);
	check(iommufd >= 0, "open /dev/iommu");
	if (dev < 0 || iommufd < 0)
		return;
	check_fd_stat(dev, makedev(242, (unsigned int)cdev), p);
	check_fd_stat(iommufd, 0, "/dev/iommu");
	bind.iommufd = iommufd;
	check(xioctl(dev, SIO_VFIO_DEVICE_BIND_IOMMUFD, &bind) == 0,
	      "VFIO_DEVICE_BIND_IOMMUFD");
	check(xioctl(dev, SIO_VFIO_DEVICE_GET_INFO, &info) == 0 &&
	      (info.flags & SIO_VFIO_DEVICE_FLAGS_PCI), "VFIO_DEVICE_GET_INFO");
	check(xioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc) == 0, "IOAS_ALLOC");
	attach.pt_id = alloc.out_ioas_id;
	check(xioctl(dev, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach) == 0,
	      "VFIO_DEVICE_ATTACH_IOMMUFD_PT");

	/* 4 KiB and 2 MiB (2 MiB aligned shared memory, as the kernel's
	 * tests map), at fixed IOVAs. */
	memfd = memfd_create("shim-machine", 0);
	check(memfd >= 0 && ftruncate(memfd, 2 * sz2m) == 0, "memfd");
	area = mmap(NULL, 3 * sz2m, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	buf2m = (void *)(((unsigned long)area + sz2m - 1) & ~(sz2m - 1));
	buf2m = mmap(buf2m, sz2m, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		     memfd, 0);
	buf4k = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, sz2m);
	check(buf2m != MAP_FAILED && buf4k != MAP_FAILED, "mmap");
	{
		struct iommu_ioas_map map = {
			.size = sizeof(map), .ioas_id = alloc.out_ioas_id,
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.user_va = (unsigned long)buf4k, .length = 4096, .iova = i4k,
		};

		check(xioctl(iommufd, IOMMU_IOAS_MAP, &map) == 0, "IOAS_MAP 4K");
		map.user_va = (unsigned long)buf2m;
		map.length = sz2m;
		map.iova = i2m;
		check(xioctl(iommufd, IOMMU_IOAS_MAP, &map) == 0, "IOAS_MAP 2M");
	}
	check(mapping_get(bdf, i4k, &m) == 0, "dump has IOVA 0x%lx", i4k);
	check(m.pte != 0 && m.pmd != 0 && m.pud != 0 && m.p4d != 0 && m.pgd == 0,
	      "4K: pgd %lx p4d %lx pud %lx pmd %lx pte %lx", m.pgd, m.p4d, m.pud,
	      m.pmd, m.pte);
	check(mapping_get(bdf, i2m, &m) == 0, "dump has IOVA 0x%lx", i2m);
	check(m.pmd != 0 && ((m.pte == 0 && (m.pmd & 0x80)) ||
			     (m.pte != 0 && !(m.pmd & 0x80))),
	      "2M: pmd %lx pte %lx", m.pmd, m.pte);
	if (m.pte)
		printf("note: the 2 MiB mapping is made of 4 KiB leaves\n");
	{
		struct iommu_ioas_unmap unmap = {
			.size = sizeof(unmap), .ioas_id = alloc.out_ioas_id,
			.iova = i4k, .length = 4096,
		};

		check(xioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap) == 0, "IOAS_UNMAP");
		check(mapping_get(bdf, i4k, &m) == -ENOENT, "unmapped IOVA gone");
	}
	close(dev);
	close(iommufd);
}

/* ------------------------------------------------------------------ */

/* A directory's entries as the kernel lists them (no libc in between). */
static int raw_names(const char *path, char names[][64], int max)
{
	char buf[16384];
	int n = 0, fd = (int)syscall(SYS_openat, AT_FDCWD, path,
				     O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long len;

	if (fd < 0)
		return 0;
	while ((len = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < len;) {
			struct dirent64 *e = (struct dirent64 *)(buf + off);

			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
			    n < max)
				snprintf(names[n++], 64, "%.63s", e->d_name);
			off += e->d_reclen;
		}
	}
	syscall(SYS_close, fd);
	return n;
}

static int count_in_dir(const char *path, const char *name)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += !strcmp(e->d_name, name);
	if (d)
		closedir(d);
	return n;
}

static void check_host(const char *bdf)
{
	char names[256][64], p[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
	int n = raw_names("/sys/bus/pci/devices", names, 256);
	struct dirent **list;
	struct stat st;
	int m, found = 0;

	/* The host's devices and the emulated one, each once. */
	for (int i = 0; i < n; i++)
		check(count_in_dir("/sys/bus/pci/devices", names[i]) == 1,
		      "host device %s listed once", names[i]);
	check(count_in_dir("/sys/bus/pci/devices", bdf) == 1, "%s listed", bdf);
	check(count_in_dir("/sys/bus/pci/devices/", bdf) == 1, "%s listed", bdf);
	check(count_in_dir("/dev", "vfio") == 1, "/dev lists vfio");
	check(count_in_dir("/dev", "null") == 1, "/dev lists null");
	m = scandir("/sys/bus/pci/devices", &list, NULL, alphasort);
	check(m >= n + 1, "scandir lists %d of %d", m, n + 1);
	for (int i = 0; i < m; i++) {
		found += !strcmp(list[i]->d_name, bdf);
		check(!i || strcmp(list[i - 1]->d_name, list[i]->d_name) < 0,
		      "scandir sorted");
	}
	for (int i = 0; i < m; i++)
		free(list[i]);
	if (m >= 0)
		free(list);
	check(found == 1, "scandir lists %s", bdf);
	/* A rewound union lists it all again. */
	{
		DIR *d = opendir("/sys/kernel/iommu_groups");
		struct dirent *e;
		int first = 0, second = 0;

		while (d && readdir(d))
			first++;
		if (d)
			rewinddir(d);
		while (d && (e = readdir(d)))
			second++;
		if (d)
			closedir(d);
		check(first > 2 && first == second, "rewinddir %d %d", first, second);
	}

	/* A host device is the host's (the kernel's answer, untouched). */
	if (n > 0 && strncmp(names[0], "0100:", 5)) {
		ssize_t la, lb;

		pathf(p, "/sys/bus/pci/devices/%s", names[0]);
		la = readlink(p, a, sizeof(a));
		lb = syscall(SYS_readlinkat, AT_FDCWD, p, b, sizeof(b));
		check(la > 0 && la == lb && !memcmp(a, b, (size_t)la),
		      "readlink of host %s", p);
		pathf(p, "/sys/bus/pci/devices/%s/vendor", names[0]);
		check(stat(p, &st) == 0 && st.st_size == 4096,
		      "host %s is sysfs's", p);
		check(read_line(p)[0] == '0', "host vendor");
	}
	check(!strncmp(read_line("/proc/self/status"), "Name:", 5),
	      "/proc/self/status");
	check(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) &&
	      st.st_rdev == makedev(1, 3), "/dev/null");
	check(stat("/dev/vfio/vfio", &st) == 0 && S_ISCHR(st.st_mode) &&
	      st.st_rdev == makedev(10, 196), "/dev/vfio/vfio is 10:196");
	check(stat("/dev/iommu", &st) == 0 && S_ISCHR(st.st_mode),
	      "/dev/iommu is a char device");
	errno = 0;
	check(open("/dev/vfio/99", O_RDWR) < 0 && errno == ENOENT, "/dev/vfio/99");
	/* fopen of a device node: its stream works. */
	{
		FILE *f = fopen("/dev/vfio/vfio", "r+");

		check(f && ioctl(fileno(f), SIO_VFIO_GET_API_VERSION) ==
				   SIO_VFIO_API_VERSION, "fopen /dev/vfio/vfio");
	}
}

/* ------------------------------------------------------------------ */

static int run_checks(int nbdf, char **bdfs)
{
	for (int i = 0; i < nbdf; i++) {
		int group = -1, cdev = -1;

		check_sysfs(bdfs[i], &group, &cdev);
		if (cdev >= 0)
			check_vfio(bdfs[i], cdev);
		check_host(bdfs[i]);
	}
	return failed;
}

int main(int argc, char **argv)
{
	static char *dflt[] = { "0100:00:01.0" };
	char **bdfs = argc > 1 ? argv + 1 : dflt;
	int nbdf = argc > 1 ? argc - 1 : 1;
	int status = -1;
	pid_t pid;

	/* An exec'd program of the run: a short look, its result as status. */
	if (argc > 2 && !strcmp(argv[1], "--exec-child")) {
		char p[PATH_MAX];

		pathf(p, "/sys/bus/pci/devices/%s/device", argv[2]);
		return strcmp(read_line(p), "0x2021\n") ? 1 : 0;
	}
	run_checks(nbdf, bdfs);

	/* A fork child sees and opens the same. */
	pid = fork();
	if (pid == 0) {
		passed = failed = 0;
		run_checks(nbdf, bdfs);
		_exit(failed ? 1 : 0);
	}
	check(pid > 0 && waitpid(pid, &status, 0) == pid &&
	      WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork child");
	/* So does a program the run execs. */
	pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", argv[0], "--exec-child", bdfs[0], (char *)NULL);
		_exit(127);
	}
	check(pid > 0 && waitpid(pid, &status, 0) == pid &&
	      WIFEXITED(status) && WEXITSTATUS(status) == 0, "exec'd program");

	return shim_check_done();
}
