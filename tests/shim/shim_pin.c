/*
 * Pins under the shim, end to end: a program maps memory into an IOAS
 * with a mock domain, then changes its own view through libc (the shim's
 * munmap, mmap and mremap interposers tell user memory) and through raw
 * system calls (nobody tells it).  Either way the domain keeps the pages
 * it mapped, and the next IOAS_MAP of the address maps what is there now
 * (IOMMU_TEST_OP_MD_CHECK_MAP compares the domain's bytes with the
 * program's).  Many live pins add few mappings to the process.
 *
 *   softiommu run -- shim_pin
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/iommufd_test.h"
#include "shim_check.h"

#define PG 4096ul

static int fd;
static uint32_t ioas, hwpt;

static int map(void *p, size_t len, uint64_t iova)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m), .ioas_id = ioas, .user_va = (uintptr_t)p,
		.length = len, .iova = iova,
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
	};

	return ioctl(fd, IOMMU_IOAS_MAP, &m);
}

static int check_map(uint64_t iova, size_t len, void *p)
{
	struct iommu_test_cmd c = {
		.size = sizeof(c), .op = IOMMU_TEST_OP_MD_CHECK_MAP, .id = hwpt,
		.check_map = { .iova = iova, .length = len, .uptr = (uintptr_t)p },
	};

	return ioctl(fd, IOMMU_TEST_CMD, &c);
}

static long count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;

	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Replace buf's pages by new private ones, through libc or raw calls. */
static void *replace(void *buf, size_t len, int raw)
{
	if (raw) {
		syscall(SYS_munmap, buf, len);
		return (void *)syscall(SYS_mmap, buf, len, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				       -1, 0L);
	}
	munmap(buf, len);
	return mmap(buf, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

static void stale_view(int raw, uint64_t iova)
{
	size_t len = 2 * PG;
	unsigned char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const char *how = raw ? "raw" : "libc";

	memset(buf, 0xa1, len);
	check(map(buf, len, iova) == 0, "%s: IOAS_MAP", how);
	check(check_map(iova, len, buf) == 0, "%s: domain maps the view", how);
	check(replace(buf, len, raw) == buf, "%s: replace the view", how);
	memset(buf, 0xb2, len);
	check(check_map(iova, len, buf) != 0,
	      "%s: the domain kept the old pages", how);
	check(map(buf, len, iova + len) == 0, "%s: IOAS_MAP of the new view",
	      how);
	check(check_map(iova + len, len, buf) == 0,
	      "%s: the new map reaches the new pages", how);
	buf[7] = 0xb3;
	check(check_map(iova + len, len, buf) == 0,
	      "%s: ... and keeps reaching them", how);
	/* Move the view away: its old address is unmapped now. */
	{
		void *dst = mmap(NULL, len, PROT_NONE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		void *moved = raw ? (void *)syscall(SYS_mremap, buf, len, len,
						    MREMAP_MAYMOVE | MREMAP_FIXED,
						    dst) :
				    mremap(buf, len, len,
					   MREMAP_MAYMOVE | MREMAP_FIXED, dst);

		check(moved == dst, "%s: mremap", how);
		errno = 0;
		check(map(buf, len, iova + 2 * len) != 0 && errno == EFAULT,
		      "%s: IOAS_MAP of the moved-away view is EFAULT", how);
		check(map(dst, len, iova + 2 * len) == 0 &&
		      check_map(iova + 2 * len, len, dst) == 0,
		      "%s: the moved view maps its pages", how);
		munmap(dst, len);
	}
}

int main(void)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	struct iommu_test_cmd mock = { .size = sizeof(mock),
				       .op = IOMMU_TEST_OP_MOCK_DOMAIN };
	const long n = 10000;
	unsigned char *mem;
	long before, i;

	fd = open("/dev/iommu", O_RDWR);
	check(fd >= 0, "open /dev/iommu");
	check(ioctl(fd, IOMMU_IOAS_ALLOC, &a) == 0, "IOAS_ALLOC");
	ioas = a.out_ioas_id;
	mock.id = ioas;
	check(ioctl(fd, IOMMU_TEST_CMD, &mock) == 0, "mock domain");
	hwpt = mock.mock_domain.out_hwpt_id;
	if (failed)
		return shim_check_done();

	stale_view(0, MOCK_APERTURE_START);
	stale_view(1, MOCK_APERTURE_START + (1ul << 20));

	/* mprotect through libc: a known range made PROT_NONE is EFAULT. */
	{
		unsigned char *b = mmap(NULL, PG, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint64_t iova = MOCK_APERTURE_START + (3ul << 19);

		b[0] = 1;
		check(map(b, PG, iova) == 0, "map before mprotect");
		check(mprotect(b, PG, PROT_NONE) == 0, "mprotect");
		errno = 0;
		check(map(b, PG, iova + PG) != 0 && errno == EFAULT,
		      "IOAS_MAP of a PROT_NONE range is EFAULT");
		check(mprotect(b, PG, PROT_READ | PROT_WRITE) == 0 &&
		      map(b, PG, iova + PG) == 0,
		      "IOAS_MAP of it once writable again");
	}

	/* Many live pins of distinct pages: mappings per memfd, not pin. */
	mem = mmap(NULL, n * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	before = count_maps();
	for (i = 0; i < n; i++)
		if (map(mem + i * PG, PG, MOCK_APERTURE_START + (2ul << 20) +
						  i * PG))
			break;
	check(i == n, "%ld live pins (stopped at %ld)", n, i);
	check(count_maps() - before < 64, "%ld live pins add %ld mappings", n,
	      count_maps() - before);
	mem[5 * PG] = 0x77;
	check(check_map(MOCK_APERTURE_START + (2ul << 20) + 5 * PG, PG,
			mem + 5 * PG) == 0, "a pin among many reaches its page");
	close(fd);
	return shim_check_done();
}
