/*
 * softiommu-vmm-demo: what a VMM does with /dev/iommu, told step by step.
 *
 * This is an ordinary program: it opens /dev/iommu and issues iommufd
 * ioctls from the Linux uAPI (through our byte-compatible headers), with
 * no call into the softiommu library.  `softiommu demo` runs it under
 * `softiommu run`, which gives it the emulated /dev/iommu; on a kernel
 * built with the iommufd selftest it would run unchanged.
 *
 * The story: guest RAM is mapped into an IOAS, a mock device is attached,
 * an emulated device DMAs into guest RAM through an access object, the
 * VMM unmaps its own view of the RAM and DMA through the pinned pages
 * still reaches it (only the kernel's shortcut through that view fails),
 * the mapping is copied into a second IOAS for a second device, and
 * finally unmapped, after which DMA fails.  Each step checks its result.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/iommufd_test.h"

#define GUEST_RAM_SIZE (1u << 20)
#define GUEST_IOVA ((__u64)MOCK_APERTURE_START)	/* 16 MiB */
#define COPY_IOVA (GUEST_IOVA + (16u << 20))

static int fd;

static void die(const char *what)
{
	fprintf(stderr, "vmm-demo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void step(const char *title)
{
	printf("\n== %s\n", title);
}

static __u32 ioas_alloc(void)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	if (ioctl(fd, IOMMU_IOAS_ALLOC, &cmd))
		die("IOMMU_IOAS_ALLOC");
	return cmd.out_ioas_id;
}

static void mock_device(__u32 ioas, __u32 *stdev, __u32 *hwpt, __u32 *idev)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd), .op = IOMMU_TEST_OP_MOCK_DOMAIN, .id = ioas,
	};

	if (ioctl(fd, IOMMU_TEST_CMD, &cmd))
		die("IOMMU_TEST_OP_MOCK_DOMAIN");
	*stdev = cmd.mock_domain.out_stdev_id;
	*hwpt = cmd.mock_domain.out_hwpt_id;
	*idev = cmd.mock_domain.out_idev_id;
}

static int create_access(__u32 ioas)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd), .op = IOMMU_TEST_OP_CREATE_ACCESS, .id = ioas,
	};

	if (ioctl(fd, IOMMU_TEST_CMD, &cmd))
		die("IOMMU_TEST_OP_CREATE_ACCESS");
	return (int)cmd.create_access.out_access_fd;
}

/*
 * An emulated device's DMA: read or write len bytes at iova.  The fast path
 * copies through the VMM's own mapping of the memory (as the kernel's does,
 * ignoring pins); the slow path goes through the pinned pages, as real DMA.
 */
static int access_rw(int access_fd, __u64 iova, void *buf, size_t len,
		     bool write, bool slow)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd), .op = IOMMU_TEST_OP_ACCESS_RW,
		.id = (__u32)access_fd,
		.access_rw = { .iova = iova, .length = len,
			       .uptr = (__u64)(uintptr_t)buf,
			       .flags = (write ? MOCK_ACCESS_RW_WRITE : 0) |
					(slow ? MOCK_ACCESS_RW_SLOW_PATH : 0) },
	};

	return ioctl(fd, IOMMU_TEST_CMD, &cmd);
}

static void destroy(__u32 id, const char *what)
{
	struct iommu_destroy cmd = { .size = sizeof(cmd), .id = id };

	if (ioctl(fd, IOMMU_DESTROY, &cmd))
		die(what);
}

static void print_ranges(__u32 ioas)
{
	struct iommu_iova_range ranges[8];
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd), .ioas_id = ioas, .num_iovas = 8,
		.allowed_iovas = (__u64)(uintptr_t)ranges,
	};

	if (ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &cmd))
		die("IOMMU_IOAS_IOVA_RANGES");
	for (__u32 i = 0; i < cmd.num_iovas && i < 8; i++)
		printf("  usable IOVA [%#llx, %#llx]\n",
		       (unsigned long long)ranges[i].start,
		       (unsigned long long)ranges[i].last);
	printf("  IOVA alignment %llu bytes\n",
	       (unsigned long long)cmd.out_iova_alignment);
}

int main(void)
{
	struct iommu_test_hw_info info = { 0 };
	__u32 ioas, ioas2, stdev, hwpt, idev, stdev2, hwpt2, idev2;
	char msg[64] = { 0 };
	int access, access2;
	char *ram;

	/* Lines in order with errors, also when the output is a file. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	step("open /dev/iommu and make an I/O address space");
	fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open /dev/iommu (run me with: softiommu run -- softiommu-vmm-demo)");
	ioas = ioas_alloc();
	printf("  /dev/iommu is fd %d; IOAS %u\n", fd, ioas);

	step("attach a device");
	mock_device(ioas, &stdev, &hwpt, &idev);
	printf("  mock device bound as device %u, attached through HW page table %u\n",
	       idev, hwpt);
	{
		struct iommu_hw_info cmd = {
			.size = sizeof(cmd), .dev_id = idev,
			.data_len = sizeof(info), .data_uptr = (__u64)(uintptr_t)&info,
		};

		if (ioctl(fd, IOMMU_GET_HW_INFO, &cmd))
			die("IOMMU_GET_HW_INFO");
		printf("  its IOMMU: hw_info type %#x, test register %#x\n",
		       cmd.out_data_type, info.test_reg);
	}
	print_ranges(ioas);

	step("map 1 MiB of guest RAM");
	ram = mmap(NULL, GUEST_RAM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		die("mmap guest RAM");
	strcpy(ram + 0x2000, "boot sector of the guest");
	{
		struct iommu_ioas_map cmd = {
			.size = sizeof(cmd), .ioas_id = ioas,
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.user_va = (__u64)(uintptr_t)ram, .length = GUEST_RAM_SIZE,
			.iova = GUEST_IOVA,
		};

		if (ioctl(fd, IOMMU_IOAS_MAP, &cmd))
			die("IOMMU_IOAS_MAP");
		printf("  guest RAM at %p is IOVA [%#llx, %#llx]\n", (void *)ram,
		       (unsigned long long)GUEST_IOVA,
		       (unsigned long long)(GUEST_IOVA + GUEST_RAM_SIZE - 1));
	}
	{
		struct iommu_test_cmd cmd = {
			.size = sizeof(cmd), .op = IOMMU_TEST_OP_MD_CHECK_MAP, .id = hwpt,
			.check_map = { .iova = GUEST_IOVA, .length = GUEST_RAM_SIZE,
				       .uptr = (__u64)(uintptr_t)ram },
		};

		if (ioctl(fd, IOMMU_TEST_CMD, &cmd))
			die("IOMMU_TEST_OP_MD_CHECK_MAP");
		printf("  the device's page table maps every page of it (MD_CHECK_MAP)\n");
	}

	step("an emulated device DMAs through an access object");
	access = create_access(ioas);
	if (access_rw(access, GUEST_IOVA + 0x1000, "virtio ring: 3 buffers",
		      23, true, false))
		die("ACCESS_RW write");
	printf("  device wrote at IOVA %#llx; the VMM reads \"%s\" in guest RAM\n",
	       (unsigned long long)(GUEST_IOVA + 0x1000), ram + 0x1000);
	if (access_rw(access, GUEST_IOVA + 0x2000, msg, 25, false, false))
		die("ACCESS_RW read");
	printf("  device read IOVA %#llx: \"%s\"\n",
	       (unsigned long long)(GUEST_IOVA + 0x2000), msg);

	step("the VMM unmaps its own view of guest RAM; DMA still reaches it");
	if (munmap(ram, GUEST_RAM_SIZE))
		die("munmap");
	memset(msg, 0, sizeof(msg));
	if (access_rw(access, GUEST_IOVA + 0x1000, msg, 23, false, false) == 0) {
		fprintf(stderr, "vmm-demo: the fast path read an unmapped view\n");
		return 1;
	}
	printf("  the fast path through the VMM's own view fails: %s\n",
	       strerror(errno));
	if (access_rw(access, GUEST_IOVA + 0x1000, msg, 23, false, true))
		die("ACCESS_RW (pinned pages) after munmap");
	printf("  DMA through the pinned pages reads IOVA %#llx: \"%s\"\n"
	       "  (the pages stay pinned until IOAS_UNMAP)\n",
	       (unsigned long long)(GUEST_IOVA + 0x1000), msg);

	step("copy the mapping into a second IOAS for a second device");
	ioas2 = ioas_alloc();
	mock_device(ioas2, &stdev2, &hwpt2, &idev2);
	{
		struct iommu_ioas_copy cmd = {
			.size = sizeof(cmd),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.dst_ioas_id = ioas2, .src_ioas_id = ioas,
			.length = GUEST_RAM_SIZE, .dst_iova = COPY_IOVA,
			.src_iova = GUEST_IOVA,
		};

		if (ioctl(fd, IOMMU_IOAS_COPY, &cmd))
			die("IOMMU_IOAS_COPY");
	}
	access2 = create_access(ioas2);
	memset(msg, 0, sizeof(msg));
	if (access_rw(access2, COPY_IOVA + 0x2000, msg, 25, false, true))
		die("ACCESS_RW through the copy");
	printf("  IOAS %u maps the same pages at %#llx: second device reads \"%s\"\n",
	       ioas2, (unsigned long long)COPY_IOVA, msg);

	step("unmap guest RAM from the first IOAS");
	{
		struct iommu_ioas_unmap cmd = {
			.size = sizeof(cmd), .ioas_id = ioas,
			.iova = GUEST_IOVA, .length = GUEST_RAM_SIZE,
		};

		if (ioctl(fd, IOMMU_IOAS_UNMAP, &cmd))
			die("IOMMU_IOAS_UNMAP");
		printf("  unmapped %llu bytes\n", (unsigned long long)cmd.length);
	}
	if (access_rw(access, GUEST_IOVA + 0x1000, msg, 4, false, true) == 0) {
		fprintf(stderr, "vmm-demo: DMA after unmap succeeded\n");
		return 1;
	}
	printf("  first device's DMA now fails: %s\n", strerror(errno));
	memset(msg, 0, sizeof(msg));
	if (access_rw(access2, COPY_IOVA + 0x1000, msg, 23, false, true))
		die("ACCESS_RW through the copy after unmap");
	printf("  the copy keeps the pages: second device still reads \"%s\"\n", msg);

	step("tear down");
	close(access);
	close(access2);
	destroy(stdev2, "destroy device 2");
	destroy(stdev, "destroy device 1");
	destroy(ioas2, "destroy IOAS 2");
	destroy(ioas, "destroy IOAS 1");
	close(fd);
	printf("  devices, address spaces and /dev/iommu closed\n");
	return 0;
}
