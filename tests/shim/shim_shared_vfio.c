/*
 * VFIO in the shared mode end to end: the emulated I/OAT DMA engine
 * (0100:00:01.0) opened through its VFIO cdev and bound to an iommufd by a
 * parent, then driven by a fork child through the descriptors and the BAR
 * mapping it inherited, as a kernel VFIO device would be
 * (docs/process-model.md).
 *
 *   shim_shared_vfio           under `softiommu run --shared`: the device
 *                              fd is the server's; the child sets the MSI-X
 *                              eventfd, programs a DMA copy through the
 *                              parent's BAR mapping and its own, and gets
 *                              the interrupt; the parent sees the copy and
 *                              the child's config writes; errors
 *   shim_shared_vfio --bench   the cost of one BAR load, one BAR store and
 *                              one config pread (either mode)
 *
 * Ends with "N passed, M failed".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/vfio.h"
#include "shim_check.h"

#define BDF		"0100:00:01.0"
#define IOAT_VER	0x08
#define IOAT_INTRCTRL	0x03
#define IOAT_CHAN	0x80
#define IOAT_CHANCTRL	0x00
#define IOAT_CHANCMD	0x04
#define IOAT_DMACOUNT	0x06
#define IOAT_CHANSTS	0x08
#define IOAT_CHAINADDR	0x10
#define IOAT_CHANERR	0x28
#define STS_DONE	0x1
#define STS_HALTED	0x3

struct ioat_desc {
	uint32_t size, ctl;
	uint64_t src, dst, next;
	uint64_t rsvd[4];
};

#define BUF_SIZE	(1u << 20)
#define BUF_IOVA	0x10000000ull
#define COPY		(16u << 10)

struct dev {
	int iommufd, fd;
	uint32_t ioas;
	volatile uint8_t *bar0;
	uint64_t bar_off, bar_size, cfg_off;
};

static int cdev_open(void)
{
	char path[300];
	struct dirent *e;
	DIR *d = opendir("/sys/bus/pci/devices/" BDF "/vfio-dev");
	int fd = -1;

	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, "vfio", 4)) {
			snprintf(path, sizeof(path), "/dev/vfio/devices/%s",
				 e->d_name);
			fd = open(path, O_RDWR);
			break;
		}
	if (d)
		closedir(d);
	return fd;
}

static uint32_t cfg_read(struct dev *d, uint32_t off, size_t size)
{
	uint32_t v = 0;

	if (pread(d->fd, &v, size, (off_t)(d->cfg_off + off)) != (ssize_t)size)
		return ~0u;
	return v;
}

static int cfg_write(struct dev *d, uint32_t off, size_t size, uint32_t v)
{
	return pwrite(d->fd, &v, size, (off_t)(d->cfg_off + off)) ==
	       (ssize_t)size ? 0 : -1;
}

static uint64_t sts(volatile uint8_t *bar)
{
	return *(volatile uint64_t *)(bar + IOAT_CHAN + IOAT_CHANSTS) & 7;
}

static uint64_t wait_channel(volatile uint8_t *bar)
{
	for (int i = 0; i < 100000; i++) {
		uint64_t s = sts(bar);

		if (s == STS_DONE || s == STS_HALTED)
			return s;
	}
	return ~0ull;
}

static int reset_channel(volatile uint8_t *bar)
{
	volatile uint32_t *err = (volatile uint32_t *)(bar + IOAT_CHAN + IOAT_CHANERR);

	*err = *err;
	bar[IOAT_CHAN + IOAT_CHANCMD] = 0x20;
	for (int i = 0; i < 100000 && (bar[IOAT_CHAN + IOAT_CHANCMD] & 0x20); i++)
		;
	return sts(bar) == STS_HALTED ? 0 : -1;
}

static int dev_setup(struct dev *d)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	struct sio_vfio_region_info bar = { .argsz = sizeof(bar),
					    .index = SIO_VFIO_PCI_BAR0_REGION_INDEX };
	struct sio_vfio_region_info cfg = { .argsz = sizeof(cfg),
					    .index = SIO_VFIO_PCI_CONFIG_REGION_INDEX };
	struct sio_vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct sio_vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };

	d->iommufd = open("/dev/iommu", O_RDWR);
	d->fd = cdev_open();
	if (d->iommufd < 0 || d->fd < 0 ||
	    ioctl(d->iommufd, IOMMU_IOAS_ALLOC, &a))
		return -1;
	d->ioas = a.out_ioas_id;
	bind.iommufd = d->iommufd;
	at.pt_id = d->ioas;
	if (ioctl(d->fd, SIO_VFIO_DEVICE_BIND_IOMMUFD, &bind) ||
	    ioctl(d->fd, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at) ||
	    ioctl(d->fd, SIO_VFIO_DEVICE_GET_REGION_INFO, &bar) ||
	    ioctl(d->fd, SIO_VFIO_DEVICE_GET_REGION_INFO, &cfg))
		return -1;
	d->bar_off = bar.offset;
	d->bar_size = bar.size;
	d->cfg_off = cfg.offset;
	d->bar0 = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       d->fd, (off_t)bar.offset);
	return d->bar0 == MAP_FAILED ? -1 : 0;
}

static int set_msix(int fd, int efd)
{
	char buf[sizeof(struct sio_vfio_irq_set) + sizeof(int)];
	struct sio_vfio_irq_set *set = (void *)buf;

	*set = (struct sio_vfio_irq_set){
		.argsz = sizeof(buf),
		.flags = SIO_VFIO_IRQ_SET_DATA_EVENTFD |
			 SIO_VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = SIO_VFIO_PCI_MSIX_IRQ_INDEX,
		.count = 1,
	};
	memcpy(set->data, &efd, sizeof(efd));
	return ioctl(fd, SIO_VFIO_DEVICE_SET_IRQS, set);
}

/* The child: everything through what it inherited, plus a mapping of its
 * own; exit status 0 when all held. */
static int child(struct dev *d, uint8_t *buf)
{
	struct ioat_desc *desc = (struct ioat_desc *)buf;
	volatile uint8_t *bar = d->bar0, *own;
	struct pollfd p;
	uint64_t n = 0;
	int efd, bad = 0;

	own = mmap(NULL, d->bar_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   d->fd, (off_t)d->bar_off);
	if (own == MAP_FAILED || own[IOAT_VER] != bar[IOAT_VER] ||
	    own[IOAT_VER] != 0x33)
		bad |= 1;
	/* Bus mastering, through the config space of the inherited fd. */
	if (cfg_write(d, 0x04, 2, cfg_read(d, 0x04, 2) | 0x6))
		bad |= 2;
	if (reset_channel(own))
		bad |= 4;
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0 || set_msix(d->fd, efd))
		bad |= 8;
	bar[IOAT_INTRCTRL] = 0x08;
	for (unsigned int i = 0; i < COPY; i++)
		buf[4096 + i] = (uint8_t)(i * 7 + 1);
	*desc = (struct ioat_desc){ .size = COPY, .ctl = 1,
				    .src = BUF_IOVA + 4096,
				    .dst = BUF_IOVA + 4096 + COPY,
				    .next = BUF_IOVA };
	*(volatile uint64_t *)(bar + IOAT_CHAN + IOAT_CHAINADDR) = BUF_IOVA;
	*(volatile uint16_t *)(bar + IOAT_CHAN + IOAT_CHANCTRL) = 0x0009;
	*(volatile uint16_t *)(bar + IOAT_CHAN + IOAT_DMACOUNT) = 1;
	n = wait_channel(bar);
	if (n != STS_DONE) {
		fprintf(stderr, "child: channel status %#llx, CHANERR %#x\n",
			(unsigned long long)n,
			*(volatile uint32_t *)(bar + IOAT_CHAN + IOAT_CHANERR));
		bad |= 16;
	}
	n = 0;
	if (memcmp(buf + 4096, buf + 4096 + COPY, COPY))
		bad |= 32;
	p = (struct pollfd){ .fd = efd, .events = POLLIN };
	if (poll(&p, 1, 5000) != 1 || read(efd, &n, sizeof(n)) != sizeof(n) ||
	    n != 1)
		bad |= 64;
	if (own != MAP_FAILED && munmap((void *)own, d->bar_size))
		bad |= 128;
	if (bad)
		fprintf(stderr, "child: failures %#x\n", bad);
	return bad ? 1 : 0;
}

static void test_fork(void)
{
	/* The DMA buffer is a memfd both processes map shared (the kernel
	 * gives a fork child its own copy of pinned private memory). */
	struct iommu_ioas_map_file map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.length = BUF_SIZE,
		.iova = BUF_IOVA,
	};
	int mfd;
	struct stat st;
	struct dev d;
	uint8_t *buf;
	int status = -1;
	pid_t pid;

	if (dev_setup(&d)) {
		check(0, "open, bind and map the I/OAT");
		return;
	}
	{
		struct stat node;

		/* The fd is the server's (a socket underneath), but fstat
		 * shows the cdev, as the kernel's and the in-process fds. */
		check(fstat(d.fd, &st) == 0 && S_ISCHR(st.st_mode) &&
		      stat("/dev/vfio/devices/vfio0", &node) == 0 &&
		      st.st_rdev == node.st_rdev,
		      "fstat of the device fd shows the cdev");
		check(fstat(d.iommufd, &st) == 0 && S_ISCHR(st.st_mode) &&
		      stat("/dev/iommu", &node) == 0 &&
		      st.st_rdev == node.st_rdev,
		      "fstat of the iommufd shows /dev/iommu");
	}
	check(cfg_read(&d, 0, 2) == 0x8086 && cfg_read(&d, 2, 2) == 0x2021,
	      "config space by pread");
	check(d.bar0[IOAT_VER] == 0x33, "BAR0 load through the trap");
	mfd = memfd_create("dma", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, BUF_SIZE)) {
		check(0, "memfd");
		return;
	}
	buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	map.ioas_id = d.ioas;
	map.fd = mfd;
	check(buf != MAP_FAILED &&
	      ioctl(d.iommufd, IOMMU_IOAS_MAP_FILE, &map) == 0,
	      "IOAS_MAP_FILE");
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(child(&d, buf));
	if (pid > 0 && waitpid(pid, &status, 0) != pid)
		fprintf(stderr, "waitpid: %s\n", strerror(errno));
	check(pid > 0 &&
	      WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the child drove the parent's device (status %#x)", status);
	/* The child's work is the parent's: same device, same memory. */
	check(buf[4096 + COPY + 5] == (uint8_t)(5 * 7 + 1) &&
	      !memcmp(buf + 4096, buf + 4096 + COPY, COPY),
	      "the copy is in the parent's view");
	check(cfg_read(&d, 0x04, 2) & 0x4, "the child's bus master bit");
	check(sts(d.bar0) == STS_DONE, "the channel status the child left");

	/* Errors cross as the kernel's. */
	errno = 0;
	check(pread(d.fd, &status, 4, (off_t)(d.cfg_off + 4096)) < 0 &&
	      errno == EFAULT, "config read past its end: EFAULT");
	errno = 0;
	check(set_msix(d.fd, d.iommufd) < 0 && errno == EINVAL,
	      "an iommufd as the MSI-X eventfd: EINVAL");
	errno = 0;
	check(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, d.fd,
		   (off_t)d.bar_off) == MAP_FAILED && errno == EINVAL,
	      "a private BAR mapping: EINVAL");
	{
		struct sio_vfio_device_bind_iommufd bind = {
			.argsz = sizeof(bind), .iommufd = d.iommufd };

		errno = 0;
		check(ioctl(d.fd, SIO_VFIO_DEVICE_BIND_IOMMUFD, &bind) < 0,
		      "a second bind fails");
	}
	/* A child's inherited view of BAR0 outlives the parent's mapping,
	 * as a VMA does in the kernel. */
	{
		int go[2];
		char b = 0;

		check(pipe(go) == 0, "pipe");
		pid = fork();
		if (pid == 0) {
			close(go[1]);
			if (read(go[0], &b, 1) != 1)
				_exit(2);
			if (d.bar0[IOAT_VER] != 0x33 || sts(d.bar0) != STS_DONE) {
				fprintf(stderr, "child: VER %#x, status %#llx\n",
					d.bar0[IOAT_VER],
					(unsigned long long)sts(d.bar0));
				_exit(1);
			}
			_exit(0);
		}
		close(go[0]);
		check(munmap((void *)d.bar0, d.bar_size) == 0, "munmap BAR0");
		check(write(go[1], &b, 1) == 1, "tell the child");
		close(go[1]);
		status = -1;
		if (pid > 0 && waitpid(pid, &status, 0) != pid)
			fprintf(stderr, "pid %d waitpid: %s\n", (int)pid, strerror(errno));
		check(pid > 0 &&
		      WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "the child's view works after the parent's munmap (%#x)",
		      status);
	}
	check(close(d.fd) == 0 && close(d.iommufd) == 0, "close");
	munmap(buf, BUF_SIZE);
	close(mfd);
}

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void bench(void)
{
	const int n = 20000;
	volatile uint64_t sink = 0;
	struct dev d;
	double t0, t1, t2, t3;

	if (dev_setup(&d)) {
		check(0, "open, bind and map the I/OAT");
		return;
	}
	t0 = now_us();
	for (int i = 0; i < n; i++)
		sink += d.bar0[IOAT_VER];
	t1 = now_us();
	for (int i = 0; i < n; i++)
		*(volatile uint64_t *)(d.bar0 + IOAT_CHAN + IOAT_CHAINADDR) =
			(uint64_t)i << 6;
	t2 = now_us();
	for (int i = 0; i < n; i++)
		sink += cfg_read(&d, 0, 4);
	t3 = now_us();
	printf("BAR load %.2f us, BAR store %.2f us, config pread %.2f us\n",
	       (t1 - t0) / n, (t2 - t1) / n, (t3 - t2) / n);
	check(sink != 0, "the loads read the device");
	munmap((void *)d.bar0, d.bar_size);
	close(d.fd);
	close(d.iommufd);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "--bench"))
		bench();
	else
		test_fork();
	return shim_check_done();
}
