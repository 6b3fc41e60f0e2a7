/*
 * softiommu-vfio-demo: a userspace driver for an Intel I/OAT DMA engine,
 * told step by step.
 *
 * This is an ordinary program: it finds the device in sysfs, opens its
 * VFIO device cdev, binds it to an iommufd, maps a buffer, programs a copy
 * through the device's mmap'd registers with plain loads and stores, waits
 * for the MSI-X interrupt on an eventfd, and finally shows the IOMMU
 * stopping a DMA to an IOVA that is no longer mapped.  It issues Linux uAPI
 * ioctls (through softiommu's byte-compatible headers) and makes no call
 * into the softiommu library: `softiommu demo --vfio` runs it under
 * `softiommu run`, which gives it the emulated device; on a machine with a
 * real I/OAT bound to vfio-pci it would run unchanged.
 *
 * Usage: softiommu-vfio-demo [BDF]   (default: the first I/OAT bound to
 * vfio-pci that sysfs shows)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/vfio.h"

/* The device, as its documentation describes it. */
#define IOAT_VENDOR		0x8086
#define IOAT_DEVICE_SKX		0x2021
#define IOAT_VER		0x08	/* 8-bit */
#define IOAT_XFERCAP		0x01	/* 8-bit: log2 of the largest copy */
#define IOAT_INTRCTRL		0x03	/* 8-bit */
#define  IOAT_INTRCTRL_MSIX_VECTOR_CONTROL 0x08
#define IOAT_CHAN		0x80	/* the channel's registers */
#define IOAT_CHANCTRL		0x00	/* 16-bit */
#define  IOAT_CHANCTRL_INT_REARM	0x0001
#define  IOAT_CHANCTRL_ANY_ERR_ABORT	0x0008
#define IOAT_CHANCMD		0x04	/* 8-bit */
#define  IOAT_CHANCMD_RESET		0x20
#define IOAT_DMACOUNT		0x06	/* 16-bit */
#define IOAT_CHANSTS		0x08	/* 64-bit */
#define  IOAT_CHANSTS_STATUS		0x7
#define  IOAT_CHANSTS_DONE		0x1
#define  IOAT_CHANSTS_HALTED		0x3
#define IOAT_CHAINADDR		0x10	/* 64-bit */
#define IOAT_CHANERR		0x28	/* 32-bit, write 1 to clear */
#define  IOAT_CHANERR_WRITE_DATA_ERR	0x0200
#define IOAT_CFG_CHANERR_INT	0x180	/* config space, write 1 to clear */

struct ioat_desc {			/* a memcpy descriptor: 64 bytes */
	uint32_t size;
	uint32_t ctl;			/* bit 0: interrupt on completion */
	uint64_t src, dst, next;
	uint64_t rsvd[4];
};

#define BUF_SIZE	(2u << 20)
#define BUF_IOVA	0x10000000ull
#define COPY_SIZE	(64u << 10)

static void die(const char *what)
{
	fprintf(stderr, "vfio-demo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *what)
{
	fprintf(stderr, "vfio-demo: %s\n", what);
	exit(1);
}

static void step(const char *title)
{
	printf("\n== %s\n", title);
}

static unsigned long read_hex(const char *bdf, const char *file)
{
	char path[PATH_MAX], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, file);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		die(path);
	fclose(f);
	return strtoul(buf, NULL, 16);
}

static bool is_ioat(const char *bdf)
{
	return read_hex(bdf, "vendor") == IOAT_VENDOR &&
	       read_hex(bdf, "device") == IOAT_DEVICE_SKX;
}

/* The first I/OAT the vfio-pci driver directory links to. */
static bool find_device(char *bdf, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/drivers/vfio-pci");
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		unsigned int s, b, dv, fn;

		if (sscanf(e->d_name, "%x:%x:%x.%x", &s, &b, &dv, &fn) == 4 &&
		    strlen(e->d_name) < len && is_ioat(e->d_name)) {
			memcpy(bdf, e->d_name, strlen(e->d_name) + 1);
			found = true;
		}
	}
	closedir(d);
	return found;
}

/* /dev/vfio/devices/vfioN from the device's vfio-dev directory. */
static void cdev_path(const char *bdf, char *out, size_t len)
{
	char dir[PATH_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	d = opendir(dir);
	if (!d)
		die(dir);
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "vfio", 4)) {
			snprintf(out, len, "/dev/vfio/devices/%s", e->d_name);
			closedir(d);
			return;
		}
	fail("no vfio-dev entry");
}

struct dev {
	int fd;
	volatile uint8_t *bar0;
	uint64_t cfg_off;
};

static inline uint64_t rd64(struct dev *d, uint32_t off)
{
	return *(volatile uint64_t *)(d->bar0 + off);
}

static inline uint32_t rd32(struct dev *d, uint32_t off)
{
	return *(volatile uint32_t *)(d->bar0 + off);
}

static inline uint8_t rd8(struct dev *d, uint32_t off)
{
	return d->bar0[off];
}

static inline void wr64(struct dev *d, uint32_t off, uint64_t v)
{
	*(volatile uint64_t *)(d->bar0 + off) = v;
}

static inline void wr32(struct dev *d, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(d->bar0 + off) = v;
}

static inline void wr16(struct dev *d, uint32_t off, uint16_t v)
{
	*(volatile uint16_t *)(d->bar0 + off) = v;
}

static inline void wr8(struct dev *d, uint32_t off, uint8_t v)
{
	d->bar0[off] = v;
}

static uint32_t cfg_read(struct dev *d, uint32_t off, size_t size)
{
	uint32_t v = 0;

	if (pread(d->fd, &v, size, (off_t)(d->cfg_off + off)) != (ssize_t)size)
		die("config read");
	return v;
}

static void cfg_write(struct dev *d, uint32_t off, size_t size, uint32_t v)
{
	if (pwrite(d->fd, &v, size, (off_t)(d->cfg_off + off)) != (ssize_t)size)
		die("config write");
}

static uint64_t chan_status(struct dev *d)
{
	return rd64(d, IOAT_CHAN + IOAT_CHANSTS) & IOAT_CHANSTS_STATUS;
}

/* Wait until the channel leaves ACTIVE: DONE or HALTED. */
static uint64_t wait_channel(struct dev *d)
{
	for (int i = 0; i < 10000000; i++) {
		uint64_t st = chan_status(d);

		if (st == IOAT_CHANSTS_DONE || st == IOAT_CHANSTS_HALTED)
			return st;
	}
	fail("the channel never completed");
	return 0;
}

static void reset_channel(struct dev *d)
{
	uint32_t err = cfg_read(d, IOAT_CFG_CHANERR_INT, 4);

	cfg_write(d, IOAT_CFG_CHANERR_INT, 4, err);
	wr32(d, IOAT_CHAN + IOAT_CHANERR, rd32(d, IOAT_CHAN + IOAT_CHANERR));
	wr8(d, IOAT_CHAN + IOAT_CHANCMD, IOAT_CHANCMD_RESET);
	while (rd8(d, IOAT_CHAN + IOAT_CHANCMD) & IOAT_CHANCMD_RESET)
		;
	if (chan_status(d) != IOAT_CHANSTS_HALTED)
		fail("the channel is not halted after reset");
}

/* One descriptor, interrupt on completion; returns the channel status. */
static uint64_t ioat_copy(struct dev *d, struct ioat_desc *desc,
			  uint64_t desc_iova, uint64_t src, uint64_t dst,
			  uint32_t size)
{
	*desc = (struct ioat_desc){
		.size = size, .ctl = 1, .src = src, .dst = dst, .next = desc_iova,
	};
	wr64(d, IOAT_CHAN + IOAT_CHAINADDR, desc_iova);
	wr16(d, IOAT_CHAN + IOAT_CHANCTRL,
	     IOAT_CHANCTRL_INT_REARM | IOAT_CHANCTRL_ANY_ERR_ABORT);
	wr16(d, IOAT_CHAN + IOAT_DMACOUNT, 1);	/* the doorbell */
	return wait_channel(d);
}

static void ioas_map(int iommufd, uint32_t ioas, void *va, uint64_t iova,
		     uint64_t len)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	if (ioctl(iommufd, IOMMU_IOAS_MAP, &map))
		die("IOMMU_IOAS_MAP");
}

static void ioas_unmap(int iommufd, uint32_t ioas, uint64_t iova, uint64_t len)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap), .ioas_id = ioas, .iova = iova, .length = len,
	};

	if (ioctl(iommufd, IOMMU_IOAS_UNMAP, &unmap))
		die("IOMMU_IOAS_UNMAP");
}

static void msix_eventfd(struct dev *d, int efd)
{
	char buf[sizeof(struct sio_vfio_irq_set) + sizeof(int)];
	struct sio_vfio_irq_set *set = (void *)buf;

	*set = (struct sio_vfio_irq_set){
		.argsz = sizeof(buf),
		.flags = SIO_VFIO_IRQ_SET_DATA_EVENTFD |
			 SIO_VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = SIO_VFIO_PCI_MSIX_IRQ_INDEX,
		.start = 0,
		.count = 1,
	};
	memcpy(set->data, &efd, sizeof(efd));
	if (ioctl(d->fd, SIO_VFIO_DEVICE_SET_IRQS, set))
		die("VFIO_DEVICE_SET_IRQS (MSI-X)");
}

static uint64_t wait_irq(int efd)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t n = 0;

	if (poll(&p, 1, 5000) != 1)
		fail("no interrupt within 5 s");
	if (read(efd, &n, sizeof(n)) != sizeof(n))
		die("read eventfd");
	return n;
}

int main(int argc, char **argv)
{
	char bdf[NAME_MAX + 1], cdev[PATH_MAX], link[PATH_MAX], group[PATH_MAX];
	struct sio_vfio_region_info bar = { .argsz = sizeof(bar) };
	struct sio_vfio_region_info cfg = { .argsz = sizeof(cfg) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct dev d;
	int iommufd, efd;
	uint8_t *buf;
	uint64_t st, irqs;
	ssize_t n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	step("Finding the device in sysfs");
	if (argc > 1)
		snprintf(bdf, sizeof(bdf), "%s", argv[1]);
	else if (!find_device(bdf, sizeof(bdf)))
		fail("no I/OAT bound to vfio-pci in /sys/bus/pci/drivers/vfio-pci");
	if (!is_ioat(bdf))
		fail("not an Intel I/OAT (8086:2021)");
	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(link, group, sizeof(group) - 1);
	if (n < 0)
		die("iommu_group link");
	group[n] = '\0';
	cdev_path(bdf, cdev, sizeof(cdev));
	printf("  %s: Intel I/OAT 8086:2021, IOMMU group %s, %s\n", bdf,
	       strrchr(group, '/') + 1, cdev);

	step("Binding the device to an iommufd and attaching it to an IOAS");
	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0)
		die("/dev/iommu");
	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc))
		die("IOMMU_IOAS_ALLOC");
	d.fd = open(cdev, O_RDWR);
	if (d.fd < 0)
		die(cdev);
	{
		struct sio_vfio_device_bind_iommufd bind = {
			.argsz = sizeof(bind), .iommufd = iommufd,
		};
		struct sio_vfio_device_attach_iommufd_pt at = {
			.argsz = sizeof(at), .pt_id = alloc.out_ioas_id,
		};

		if (ioctl(d.fd, SIO_VFIO_DEVICE_BIND_IOMMUFD, &bind))
			die("VFIO_DEVICE_BIND_IOMMUFD");
		if (ioctl(d.fd, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
			die("VFIO_DEVICE_ATTACH_IOMMUFD_PT");
		printf("  bound as iommufd device %u, attached to IOAS %u "
		       "(HWPT %u)\n", bind.out_devid, alloc.out_ioas_id, at.pt_id);
	}

	step("Mapping the registers (BAR0) and a 2 MiB buffer for DMA");
	bar.index = SIO_VFIO_PCI_BAR0_REGION_INDEX;
	cfg.index = SIO_VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(d.fd, SIO_VFIO_DEVICE_GET_REGION_INFO, &bar) ||
	    ioctl(d.fd, SIO_VFIO_DEVICE_GET_REGION_INFO, &cfg))
		die("VFIO_DEVICE_GET_REGION_INFO");
	d.cfg_off = cfg.offset;
	d.bar0 = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, d.fd,
		      (off_t)bar.offset);
	if (d.bar0 == MAP_FAILED)
		die("mmap BAR0");
	buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap buffer");
	memset(buf, 0, BUF_SIZE);
	/* Two areas: descriptors and source in the first MiB, the
	 * destination in the second, so that it can be unmapped alone. */
	ioas_map(iommufd, alloc.out_ioas_id, buf, BUF_IOVA, 1u << 20);
	ioas_map(iommufd, alloc.out_ioas_id, buf + (1u << 20),
		 BUF_IOVA + (1u << 20), 1u << 20);
	printf("  BAR0: %llu KiB mmap'd at %p; buffer at IOVA %#llx\n",
	       (unsigned long long)bar.size >> 10, (void *)d.bar0,
	       (unsigned long long)BUF_IOVA);
	printf("  I/OAT version %u.%u, largest copy %u KiB\n",
	       rd8(&d, IOAT_VER) >> 4, rd8(&d, IOAT_VER) & 0xf,
	       (1u << rd8(&d, IOAT_XFERCAP)) >> 10);

	step("Enabling bus mastering and the MSI-X interrupt");
	cfg_write(&d, 0x04, 2, cfg_read(&d, 0x04, 2) | 0x6);	/* MEM | MASTER */
	reset_channel(&d);
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		die("eventfd");
	msix_eventfd(&d, efd);
	wr8(&d, IOAT_INTRCTRL, IOAT_INTRCTRL_MSIX_VECTOR_CONTROL);
	printf("  channel reset (HALTED), MSI-X vector 0 -> eventfd %d\n", efd);

	step("Copying 64 KiB through the IOMMU with the DMA engine");
	for (size_t i = 0; i < COPY_SIZE; i++)
		buf[4096 + i] = (uint8_t)(i * 7 + 3);
	st = ioat_copy(&d, (struct ioat_desc *)buf, BUF_IOVA, BUF_IOVA + 4096,
		       BUF_IOVA + (1u << 20), COPY_SIZE);
	if (st != IOAT_CHANSTS_DONE)
		fail("the copy did not complete");
	if (memcmp(buf + 4096, buf + (1u << 20), COPY_SIZE))
		fail("the destination differs from the source");
	irqs = wait_irq(efd);
	printf("  CHANSTS DONE, destination equals source, %llu interrupt on "
	       "the eventfd\n", (unsigned long long)irqs);

	step("Unmapping the destination: the IOMMU stops the next DMA");
	ioas_unmap(iommufd, alloc.out_ioas_id, BUF_IOVA + (1u << 20), 1u << 20);
	memset(buf + (1u << 20), 0, COPY_SIZE);
	st = ioat_copy(&d, (struct ioat_desc *)buf, BUF_IOVA, BUF_IOVA + 4096,
		       BUF_IOVA + (1u << 20), COPY_SIZE);
	if (st != IOAT_CHANSTS_HALTED)
		fail("a DMA to an unmapped IOVA was not stopped");
	/* The engine sees the IOMMU's refusal as a failed write. */
	if (!(rd32(&d, IOAT_CHAN + IOAT_CHANERR) & IOAT_CHANERR_WRITE_DATA_ERR))
		fail("CHANERR does not report the failed write");
	for (size_t i = 0; i < COPY_SIZE; i++)
		if (buf[(1u << 20) + i])
			fail("memory behind the unmapped IOVA was written");
	printf("  CHANSTS HALTED, CHANERR %#x (write data error), "
	       "CHANERR_INT %#x; no byte written\n",
	       rd32(&d, IOAT_CHAN + IOAT_CHANERR),
	       cfg_read(&d, IOAT_CFG_CHANERR_INT, 4));
	reset_channel(&d);
	printf("  channel reset, ready again\n");

	step("Closing");
	munmap((void *)d.bar0, bar.size);
	close(d.fd);
	close(efd);
	close(iommufd);
	munmap(buf, BUF_SIZE);
	printf("  device fd, eventfd and iommufd closed\n\nvfio-demo: OK\n");
	return 0;
}
