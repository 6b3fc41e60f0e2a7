/*
 * The fortified reads that programs built with _FORTIFY_SOURCE call
 * (__pread_chk, __pread64_chk) reach an emulated VFIO device fd under
 * `softiommu run` as pread does: QEMU reads config space with them.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "softiommu/uapi/vfio.h"

ssize_t __pread_chk(int fd, void *buf, size_t nbytes, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t nbytes, off_t off,
		      size_t buflen);

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "shim_fortify: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			return 1;					\
		}							\
	} while (0)

int main(void)
{
	struct sio_vfio_region_info cfg = {
		.argsz = sizeof(cfg), .index = SIO_VFIO_PCI_CONFIG_REGION_INDEX,
	};
	int container = open("/dev/vfio/vfio", O_RDWR);
	char group_path[64], link[256];
	int group, dev, container_fd;
	uint16_t ids[2] = { 0, 0 };
	ssize_t n;

	CHECK(container >= 0);
	n = readlink("/sys/bus/pci/devices/0100:00:01.0/iommu_group", link,
		     sizeof(link) - 1);
	CHECK(n > 0);
	link[n] = '\0';
	snprintf(group_path, sizeof(group_path), "/dev/vfio/%s",
		 strrchr(link, '/') + 1);
	group = open(group_path, O_RDWR);
	CHECK(group >= 0);
	container_fd = container;
	CHECK(ioctl(group, SIO_VFIO_GROUP_SET_CONTAINER, &container_fd) == 0);
	CHECK(ioctl(container, SIO_VFIO_SET_IOMMU, SIO_VFIO_TYPE1v2_IOMMU) == 0);
	dev = ioctl(group, SIO_VFIO_GROUP_GET_DEVICE_FD, "0100:00:01.0");
	CHECK(dev >= 0);
	CHECK(ioctl(dev, SIO_VFIO_DEVICE_GET_REGION_INFO, &cfg) == 0);
	CHECK(__pread64_chk(dev, &ids[0], 2, (off_t)cfg.offset, 2) == 2);
	CHECK(__pread_chk(dev, &ids[1], 2, (off_t)cfg.offset + 2, 2) == 2);
	CHECK(ids[0] == 0x8086 && ids[1] == 0x2021);
	close(dev);
	close(group);
	close(container);
	puts("shim_fortify: ok");
	return 0;
}
