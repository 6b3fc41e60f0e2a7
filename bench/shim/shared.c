/*
 * The cost of one /dev/iommu ioctl as a program sees it, in whichever mode
 * it runs: in-process (`softiommu run`) or served by the launcher
 * (`softiommu run --shared`, docs/process-model.md).  Printed beside a
 * plain getppid(), a FIONREAD ioctl and a 64-byte socket round trip
 * between two threads, measured in the same run (../floors.h); the last is
 * what any request to another process costs at least:
 *
 *   IOMMU_OPTION get        the cheapest command: a struct in and out;
 *   IOAS_MAP + IOAS_UNMAP   of 4 KiB of private memory, on an IOAS with
 *                           no domain (nothing pinned: the cost of the
 *                           calls, plus, in shared mode, the memfd the
 *                           map sends);
 *   the same with a mock domain, so every map pins and every unmap
 *                           unpins (the selftest ABI).
 *
 *   softiommu run [--shared] -- build/bench/bench_shared
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/iommufd_test.h"
#include "floors.h"

#define BATCHES 7

static int fd;
static uint32_t ioas_plain, ioas_domain;
static void *buf;

static int option_get(void)
{
	struct iommu_option o = {
		.size = sizeof(o),
		.option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = IOMMU_OPTION_OP_GET,
	};

	return ioctl(fd, IOMMU_OPTION, &o);
}

static int map_unmap(uint32_t ioas)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)buf,
		.length = 4096,
		.iova = MOCK_APERTURE_START,
	};
	struct iommu_ioas_unmap u = {
		.size = sizeof(u),
		.ioas_id = ioas,
		.iova = MOCK_APERTURE_START,
		.length = 4096,
	};

	if (ioctl(fd, IOMMU_IOAS_MAP, &m))
		return -1;
	return ioctl(fd, IOMMU_IOAS_UNMAP, &u);
}

static int map_unmap_plain(void)
{
	return map_unmap(ioas_plain);
}

static int map_unmap_domain(void)
{
	return map_unmap(ioas_domain);
}

/* Median ns per call of fn over BATCHES batches of n; -1 on failure. */
static double per_call(int (*fn)(void), int n)
{
	double v[BATCHES];

	for (int b = 0; b < BATCHES; b++) {
		double t0 = bench_now_ns();

		for (int i = 0; i < n; i++)
			if (fn())
				return -1;
		v[b] = (bench_now_ns() - t0) / n;
	}
	return bench_median(v, BATCHES);
}

static uint32_t ioas_alloc(void)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	if (ioctl(fd, IOMMU_IOAS_ALLOC, &a)) {
		perror("IOMMU_IOAS_ALLOC");
		exit(1);
	}
	return a.out_ioas_id;
}

static void row(const char *what, double ns, double floor, double sock)
{
	printf("%-38s %10.3f %10.1f %10.2f\n", what, ns / 1e3, ns / floor,
	       sock > 0 ? ns / sock : 0.0);
}

int main(void)
{
	const char *shared = getenv("SOFTIOMMU_SHARED_ADDR");
	struct iommu_test_cmd md = { .size = sizeof(md),
				     .op = IOMMU_TEST_OP_MOCK_DOMAIN };
	double floor, fion, sock, opt, mu, mud;

	fd = open("/dev/iommu", O_RDWR);
	if (fd < 0) {
		perror("/dev/iommu (run under softiommu run)");
		return 1;
	}
	buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(buf, 1, 4096);
	ioas_plain = ioas_alloc();
	ioas_domain = ioas_alloc();
	md.id = ioas_domain;
	if (ioctl(fd, IOMMU_TEST_CMD, &md)) {
		perror("IOMMU_TEST_OP_MOCK_DOMAIN");
		return 1;
	}
	floor = bench_floor_getppid_ns();
	fion = bench_floor_fionread_ns();
	sock = bench_floor_socket_rtt_ns();
	opt = per_call(option_get, 2000);
	mu = per_call(map_unmap_plain, 500);
	mud = per_call(map_unmap_domain, 500);
	printf("mode: %s\n", shared && *shared ? "shared (softiommu run --shared)" :
						"in-process (softiommu run)");
	printf("%-38s %10s %10s %10s\n", "", "us/call", "x getppid",
	       "x socket");
	row("getppid (floor)", floor, floor, sock);
	row("FIONREAD on a pipe", fion, floor, sock);
	row("socket round trip, 64 B (floor)", sock, floor, sock);
	row("IOMMU_OPTION get", opt, floor, sock);
	row("IOAS_MAP+UNMAP 4 KiB, no domain", mu, floor, sock);
	row("IOAS_MAP+UNMAP 4 KiB, mock domain", mud, floor, sock);
	return opt < 0 || mu < 0 || mud < 0;
}
