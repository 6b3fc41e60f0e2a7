/*
 * Writes the seed corpus of fuzz_iommufd (tests/fuzz/corpus/) in the input
 * format of fuzz_format.h: a few hand-written sequences that reach deep
 * into the library (IOAS_ALLOC -> MOCK_DOMAIN -> IOAS_MAP of the arena ->
 * MD_CHECK_MAP -> IOAS_COPY -> UNMAP -> DESTROY, access objects, nested
 * HWPTs, IOVA ranges) plus one of every command at every size mode.
 *
 *   fuzz_gen_corpus DIR     (writes DIR/seed-*.bin, overwriting)
 *
 * Pointer fields are written encoded: the arena offset itself (top byte 0)
 * or one of the FZ_PTR_* bad addresses.  IDs are the small numbers the
 * library hands out in order (1, 2, ...); access fds are indexes into the
 * fds the input holds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/iommufd_test.h"
#include "softiommu/uapi/vfio_compat.h"

#include "fuzz_format.h"

#define PG 4096ull
#define IOVA ((uint64_t)MOCK_APERTURE_START)
#define RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define PTR_BAD(kind, low) ((uint64_t)(kind) << 56 | (low))

static uint8_t buf[65536];
static size_t len;

static void put(const void *p, size_t n)
{
	if (len + n > sizeof(buf)) {
		fprintf(stderr, "gen_corpus: seed too long\n");
		exit(1);
	}
	memcpy(buf + len, p, n);
	len += n;
}

static void u8(uint8_t v)
{
	put(&v, 1);
}

/* One struct command: kind, mode, param, the structure. */
static void cmd(unsigned int kind, uint8_t mode, uint8_t param, const void *s,
		size_t n)
{
	u8((uint8_t)kind);
	u8(mode);
	u8(param);
	put(s, n);
}
#define CMD(kind, s) cmd(kind, 0, 0, &(s), sizeof(s))

static void fill(uint16_t off, const void *p, uint8_t n)
{
	u8(FZ_FILL);
	put(&off, 2);
	u8(n);
	put(p, n);
}

static void pattern(uint16_t off, uint8_t n, uint8_t seed)
{
	uint8_t tmp[255];

	for (unsigned int i = 0; i < n; i++)
		tmp[i] = (uint8_t)(seed + i * 7);
	fill(off, tmp, n);
}

static void emit(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%s.bin", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
	len = 0;
}

static void ioas_alloc(void)
{
	struct iommu_ioas_alloc c = { 0 };

	CMD(FZ_IOAS_ALLOC, c);
}

static void mock_domain(uint32_t pt)
{
	struct iommu_test_cmd c = { .op = IOMMU_TEST_OP_MOCK_DOMAIN, .id = pt };

	CMD(FZ_TEST_CMD, c);
}

static void map(uint32_t ioas, uint64_t off, uint64_t length, uint64_t iova,
		uint32_t flags)
{
	struct iommu_ioas_map c = { .ioas_id = ioas, .flags = flags,
				    .user_va = off, .length = length,
				    .iova = iova };

	CMD(FZ_IOAS_MAP, c);
}

static void unmap(uint32_t ioas, uint64_t iova, uint64_t length)
{
	struct iommu_ioas_unmap c = { .ioas_id = ioas, .iova = iova,
				      .length = length };

	CMD(FZ_IOAS_UNMAP, c);
}

static void check_map(uint32_t id, uint64_t iova, uint64_t length,
		      uint64_t off)
{
	struct iommu_test_cmd c = { .op = IOMMU_TEST_OP_MD_CHECK_MAP, .id = id,
				    .check_map = { .iova = iova,
						   .length = length,
						   .uptr = off } };

	CMD(FZ_TEST_CMD, c);
}

static void check_refs(uint64_t off, uint64_t length, uint32_t refs)
{
	struct iommu_test_cmd c = { .op = IOMMU_TEST_OP_MD_CHECK_REFS,
				    .check_refs = { .length = length,
						    .uptr = off,
						    .refs = refs } };

	CMD(FZ_TEST_CMD, c);
}

static void destroy(uint32_t id)
{
	struct iommu_destroy c = { .id = id };

	CMD(FZ_DESTROY, c);
}

static void copy(uint32_t dst, uint32_t src, uint64_t src_iova,
		 uint64_t length, uint64_t dst_iova, uint32_t flags)
{
	struct iommu_ioas_copy c = { .dst_ioas_id = dst, .src_ioas_id = src,
				     .src_iova = src_iova, .length = length,
				     .dst_iova = dst_iova, .flags = flags };

	CMD(FZ_IOAS_COPY, c);
}

static void test_op(uint32_t op, uint32_t id, const void *u, size_t n)
{
	struct iommu_test_cmd c = { .op = op, .id = id };

	memcpy((uint8_t *)&c + offsetof(struct iommu_test_cmd, add_reserved), u,
	       n);
	CMD(FZ_TEST_CMD, c);
}

/* IOAS_ALLOC -> MOCK_DOMAIN -> MAP -> CHECK_MAP -> COPY -> UNMAP -> DESTROY */
static void seed_deep(const char *dir)
{
	pattern(0, 255, 1);
	pattern(8 * PG - 255, 255, 3);
	ioas_alloc();			/* 1 */
	mock_domain(1);			/* stdev 2, idev 3, hwpt 4 */
	map(1, 0, 8 * PG, IOVA, RW | IOMMU_IOAS_MAP_FIXED_IOVA);
	check_map(4, IOVA, 8 * PG, 0);
	check_map(1, IOVA, 8 * PG, 0);
	check_refs(0, 8 * PG, 1);
	ioas_alloc();			/* 5 */
	mock_domain(5);			/* stdev 6, idev 7, hwpt 8 */
	copy(5, 1, IOVA, 8 * PG, IOVA + 64 * PG, RW | IOMMU_IOAS_MAP_FIXED_IOVA);
	copy(5, 1, IOVA, 8 * PG, 0, RW);
	check_map(8, IOVA + 64 * PG, 8 * PG, 0);
	map(5, 8 * PG, 4 * PG, 0, IOMMU_IOAS_MAP_READABLE);
	unmap(1, IOVA, 8 * PG);
	check_map(8, IOVA + 64 * PG, 8 * PG, 0);
	unmap(5, 0, UINT64_MAX);
	destroy(2);
	destroy(6);
	destroy(5);
	destroy(1);
	emit(dir, "deep");

	/* The same, torn down by release with everything still mapped. */
	ioas_alloc();
	mock_domain(1);
	map(1, 0, 8 * PG, IOVA, RW | IOMMU_IOAS_MAP_FIXED_IOVA);
	ioas_alloc();
	copy(5, 1, IOVA, 8 * PG, 0, RW);
	mock_domain(5);
	emit(dir, "deep-release");
}

/* Access objects: pin, read/write through IOVA, unmap under a pin. */
static void seed_access(const char *dir)
{
	struct {
		__u32 out_access_fd, flags;
	} create = { .flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES };
	struct {
		__u32 flags, out_id;
		__aligned_u64 iova, length, uptr;
	} pages = { .flags = MOCK_FLAGS_ACCESS_WRITE, .iova = IOVA + PG,
		    .length = 2 * PG, .uptr = PG };
	struct {
		__aligned_u64 iova, length, uptr;
		__u32 flags;
	} rw = { .iova = IOVA + 100, .length = 3 * PG, .uptr = 9 * PG,
		 .flags = MOCK_ACCESS_RW_WRITE };
	struct {
		__u32 v;
	} id0 = { 0 }, ioas2 = { 2 };

	pattern(0, 200, 9);
	ioas_alloc();						/* 1 */
	map(1, 0, 8 * PG, IOVA, RW | IOMMU_IOAS_MAP_FIXED_IOVA);
	test_op(IOMMU_TEST_OP_CREATE_ACCESS, 1, &create, sizeof(create));
	test_op(IOMMU_TEST_OP_ACCESS_PAGES, 0, &pages, sizeof(pages));
	check_refs(PG, 2 * PG, 1);
	test_op(IOMMU_TEST_OP_ACCESS_RW, 0, &rw, sizeof(rw));
	rw.flags = MOCK_ACCESS_RW_SLOW_PATH;
	test_op(IOMMU_TEST_OP_ACCESS_RW, 0, &rw, sizeof(rw));
	rw.flags = 0;
	rw.uptr = PTR_BAD(FZ_PTR_GUARD_HI, 0);
	test_op(IOMMU_TEST_OP_ACCESS_RW, 0, &rw, sizeof(rw));
	test_op(IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, 0, &id0, sizeof(id0));
	test_op(IOMMU_TEST_OP_ACCESS_PAGES, 0, &pages, sizeof(pages));
	unmap(1, IOVA, 8 * PG);		/* calls the access back */
	map(1, 0, 8 * PG, IOVA, RW | IOMMU_IOAS_MAP_FIXED_IOVA);
	test_op(IOMMU_TEST_OP_ACCESS_PAGES, 0, &pages, sizeof(pages));
	ioas_alloc();						/* 3 */
	ioas2.v = 3;
	test_op(IOMMU_TEST_OP_ACCESS_REPLACE_IOAS, 0, &ioas2, sizeof(ioas2));
	u8(FZ_DUP);
	u8(0);
	destroy(1);
	u8(FZ_CLOSE);
	u8(0);
	destroy(1);
	create.flags = 0;
	test_op(IOMMU_TEST_OP_CREATE_ACCESS, 3, &create, sizeof(create));
	map(3, 0, 4 * PG, 0, RW);
	rw.uptr = 12 * PG;
	rw.flags = 0;
	rw.length = 64;
	test_op(IOMMU_TEST_OP_ACCESS_RW, 0, &rw, sizeof(rw));
	emit(dir, "access");
}

/* Nested HWPTs, replace, HW info, ranges, reserved and allowed IOVAs. */
static void seed_hwpt(const char *dir)
{
	struct iommu_hwpt_selftest sdata = { .iotlb = 0x1234 };
	struct iommu_iova_range ranges[2] = {
		{ .start = IOVA, .last = IOVA + 256 * PG - 1 },
		{ .start = 1ull << 30, .last = (1ull << 31) - 1 },
	};
	struct iommu_hwpt_alloc parent = {
		.dev_id = 3, .pt_id = 1, .flags = IOMMU_HWPT_ALLOC_NEST_PARENT,
	};
	struct iommu_hwpt_alloc nested = {
		.dev_id = 3, .pt_id = 5, .data_type = 1 /* -> SELFTEST */,
		.data_len = sizeof(sdata), .data_uptr = 4 * PG,
	};
	struct iommu_hw_info info = { .dev_id = 3, .data_len = 64,
				      .data_uptr = 5 * PG };
	struct iommu_ioas_iova_ranges rq = { .ioas_id = 1, .num_iovas = 4,
					     .allowed_iovas = 6 * PG };
	struct iommu_ioas_allow_iovas allow = { .ioas_id = 1, .num_iovas = 2,
						.allowed_iovas = 7 * PG };
	struct iommu_option opt = { .option_id = 1 /* HUGE_PAGES */,
				    .op = IOMMU_OPTION_OP_SET, .object_id = 1 };
	struct iommu_hwpt_invalidate inv = { .hwpt_id = 6, .data_uptr = 4 * PG,
					     .data_type = 0, .entry_len = 8,
					     .entry_num = 1 };
	struct {
		__aligned_u64 start, length;
	} resv = { .start = IOVA + 512 * PG, .length = 16 * PG };
	struct {
		__u32 pt_id;
	} repl = { 6 };

	fill(4 * PG, &sdata, sizeof(sdata));
	fill(7 * PG, ranges, sizeof(ranges));
	ioas_alloc();					/* 1 */
	mock_domain(1);					/* 2, 3, 4 */
	CMD(FZ_HWPT_ALLOC, parent);			/* 5 */
	CMD(FZ_HWPT_ALLOC, nested);			/* 6 */
	CMD(FZ_GET_HW_INFO, info);
	info.flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE;
	info.in_data_type = 1;				/* -> SELFTEST */
	CMD(FZ_GET_HW_INFO, info);
	CMD(FZ_IOAS_IOVA_RANGES, rq);
	CMD(FZ_IOAS_ALLOW_IOVAS, allow);
	CMD(FZ_IOAS_IOVA_RANGES, rq);
	test_op(IOMMU_TEST_OP_ADD_RESERVED, 1, &resv, sizeof(resv));
	CMD(FZ_OPTION, opt);
	opt.op = IOMMU_OPTION_OP_GET;
	CMD(FZ_OPTION, opt);
	map(1, 0, 8 * PG, 0, RW);
	test_op(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, 2, &repl, sizeof(repl));
	CMD(FZ_HWPT_INVALIDATE, inv);
	repl.pt_id = 5;
	test_op(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, 2, &repl, sizeof(repl));
	repl.pt_id = 1;
	test_op(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, 2, &repl, sizeof(repl));
	destroy(6);
	destroy(5);
	allow.num_iovas = 0;
	CMD(FZ_IOAS_ALLOW_IOVAS, allow);
	emit(dir, "hwpt");
}

/* Every command once at every size and argument mode. */
static void seed_sizes(const char *dir)
{
	static const unsigned int kinds[] = {
		FZ_DESTROY, FZ_IOAS_ALLOC, FZ_IOAS_ALLOW_IOVAS, FZ_IOAS_COPY,
		FZ_IOAS_IOVA_RANGES, FZ_IOAS_MAP, FZ_IOAS_UNMAP, FZ_OPTION,
		FZ_VFIO_IOAS, FZ_HWPT_ALLOC, FZ_GET_HW_INFO,
		FZ_HWPT_SET_DIRTY_TRACKING, FZ_HWPT_GET_DIRTY_BITMAP,
		FZ_HWPT_INVALIDATE, FZ_FAULT_QUEUE_ALLOC, FZ_IOAS_MAP_FILE,
		FZ_VIOMMU_ALLOC, FZ_VDEVICE_ALLOC, FZ_IOAS_CHANGE_PROCESS,
		FZ_VEVENTQ_ALLOC, FZ_HW_QUEUE_ALLOC, FZ_IOAS_NOIOMMU_GET_PA,
		FZ_TEST_CMD, FZ_VFIO_IOMMU_GET_INFO, FZ_VFIO_IOMMU_MAP_DMA,
		FZ_VFIO_IOMMU_UNMAP_DMA, FZ_VFIO_IOMMU_DIRTY_PAGES,
	};
	static const uint8_t modes[] = {
		0x00, FZ_SZ_MIN, FZ_SZ_SHORT, FZ_SZ_LONG_ZERO,
		FZ_SZ_LONG_DIRTY, FZ_SZ_ZERO, FZ_SZ_HUGE,
		FZ_ARG_END << 4 | FZ_SZ_LONG_ZERO, FZ_ARG_NULL << 4,
		FZ_ARG_GUARD << 4, FZ_ARG_KERNEL << 4,
	};
	uint8_t zero[128] = { 0 };
	size_t sizes[FZ_NKINDS] = {
		[FZ_DESTROY] = sizeof(struct iommu_destroy),
		[FZ_IOAS_ALLOC] = sizeof(struct iommu_ioas_alloc),
		[FZ_IOAS_ALLOW_IOVAS] = sizeof(struct iommu_ioas_allow_iovas),
		[FZ_IOAS_COPY] = sizeof(struct iommu_ioas_copy),
		[FZ_IOAS_IOVA_RANGES] = sizeof(struct iommu_ioas_iova_ranges),
		[FZ_IOAS_MAP] = sizeof(struct iommu_ioas_map),
		[FZ_IOAS_UNMAP] = sizeof(struct iommu_ioas_unmap),
		[FZ_OPTION] = sizeof(struct iommu_option),
		[FZ_VFIO_IOAS] = sizeof(struct iommu_vfio_ioas),
		[FZ_HWPT_ALLOC] = sizeof(struct iommu_hwpt_alloc),
		[FZ_GET_HW_INFO] = sizeof(struct iommu_hw_info),
		[FZ_HWPT_SET_DIRTY_TRACKING] =
			sizeof(struct iommu_hwpt_set_dirty_tracking),
		[FZ_HWPT_GET_DIRTY_BITMAP] =
			sizeof(struct iommu_hwpt_get_dirty_bitmap),
		[FZ_HWPT_INVALIDATE] = sizeof(struct iommu_hwpt_invalidate),
		[FZ_FAULT_QUEUE_ALLOC] = sizeof(struct iommu_fault_alloc),
		[FZ_IOAS_MAP_FILE] = sizeof(struct iommu_ioas_map_file),
		[FZ_VIOMMU_ALLOC] = sizeof(struct iommu_viommu_alloc),
		[FZ_VDEVICE_ALLOC] = sizeof(struct iommu_vdevice_alloc),
		[FZ_IOAS_CHANGE_PROCESS] =
			sizeof(struct iommu_ioas_change_process),
		[FZ_VEVENTQ_ALLOC] = sizeof(struct iommu_veventq_alloc),
		[FZ_HW_QUEUE_ALLOC] = sizeof(struct iommu_hw_queue_alloc),
		[FZ_IOAS_NOIOMMU_GET_PA] =
			sizeof(struct iommu_ioas_noiommu_get_pa),
		[FZ_TEST_CMD] = sizeof(struct iommu_test_cmd),
		[FZ_VFIO_IOMMU_GET_INFO] =
			sizeof(struct sio_vfio_iommu_type1_info),
		[FZ_VFIO_IOMMU_MAP_DMA] =
			sizeof(struct sio_vfio_iommu_type1_dma_map),
		[FZ_VFIO_IOMMU_UNMAP_DMA] =
			sizeof(struct sio_vfio_iommu_type1_dma_unmap) +
			sizeof(struct sio_vfio_bitmap),
		[FZ_VFIO_IOMMU_DIRTY_PAGES] =
			sizeof(struct sio_vfio_iommu_type1_dirty_bitmap) +
			sizeof(struct sio_vfio_iommu_type1_dirty_bitmap_get),
	};
	static const unsigned int ints[] = {
		FZ_VFIO_GET_API_VERSION, FZ_VFIO_CHECK_EXTENSION,
		FZ_VFIO_SET_IOMMU, FZ_VFIO_IOMMU_ENABLE, FZ_VFIO_IOMMU_DISABLE,
	};

	ioas_alloc();
	mock_domain(1);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
			cmd(kinds[k], modes[m], (uint8_t)(m * 37 + 5), zero,
			    sizes[kinds[k]]);
	emit(dir, "sizes");

	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		for (uint64_t v = 0; v < 4; v++) {
			uint64_t arg = v == 3 ? PTR_BAD(0x80, 0) : v;

			u8((uint8_t)ints[i]);
			u8(0);
			u8(0);
			put(&arg, sizeof(arg));
		}
	}
	for (unsigned int nr = 0; nr < 40; nr++) {
		uint32_t num = (uint32_t)IOMMUFD_TYPE << 8 | (0x7c + nr);
		uint64_t words[8] = { 16 };

		u8(FZ_RAW);
		u8(0);
		u8((uint8_t)(nr & 2));
		put(&num, sizeof(num));
		put(words, sizeof(words));
	}
	u8(FZ_SWITCH);
	u8(1);
	ioas_alloc();
	mock_domain(1);
	emit(dir, "vfio-raw");
}

/* Bad user pointers in every pointer field. */
static void seed_bad_pointers(const char *dir)
{
	static const uint64_t bad[] = {
		PTR_BAD(FZ_PTR_NULL, 0), PTR_BAD(FZ_PTR_GUARD_LO, 8),
		PTR_BAD(FZ_PTR_GUARD_HI, 0), PTR_BAD(FZ_PTR_KERNEL, 0),
		PTR_BAD(FZ_PTR_NONCANON, 0), PTR_BAD(FZ_PTR_LOW, 0x100),
		PTR_BAD(FZ_PTR_STRADDLE, 8), PTR_BAD(FZ_PTR_VSYSCALL, 0),
	};

	ioas_alloc();
	mock_domain(1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct iommu_ioas_iova_ranges rq = { .ioas_id = 1,
						     .num_iovas = 4,
						     .allowed_iovas = bad[i] };
		struct iommu_ioas_allow_iovas allow = { .ioas_id = 1,
							.num_iovas = 2,
							.allowed_iovas = bad[i] };
		struct iommu_hw_info info = { .dev_id = 3, .data_len = 64,
					      .data_uptr = bad[i] };

		map(1, bad[i], 2 * PG, 0, RW);
		check_map(4, IOVA, 2 * PG, bad[i]);
		check_refs(bad[i], PG, 0);
		CMD(FZ_IOAS_IOVA_RANGES, rq);
		CMD(FZ_IOAS_ALLOW_IOVAS, allow);
		CMD(FZ_GET_HW_INFO, info);
	}
	map(1, 14 * PG, 4 * PG, 0, RW);		/* runs into the guard */
	emit(dir, "bad-pointers");
}

/* What the fuzzer found (docs/fuzzing.md), one seed each. */
static void seed_regressions(const char *dir)
{
	struct iommu_iova_range ranges[2] = {
		{ .start = IOVA, .last = IOVA + 16 * PG - 1 },
		{ .start = IOVA + 64 * PG, .last = IOVA + 128 * PG - 1 },
	};
	struct iommu_ioas_allow_iovas allow = {
		.ioas_id = 1, .num_iovas = 0x7fffffff,
		.allowed_iovas = FZ_ARENA_PAGES * PG - sizeof(ranges),
	};
	struct {
		__u32 out_access_fd, flags;
	} create = { .flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES };
	struct {
		__u32 flags, out_id;
		__aligned_u64 iova, length, uptr;
	} pages = { .iova = IOVA + PG, .length = PG, .uptr = PG };

	/* ALLOW_IOVAS allocated num_iovas entries before reading them. */
	fill(FZ_ARENA_PAGES * PG - sizeof(ranges), ranges, sizeof(ranges));
	ioas_alloc();
	CMD(FZ_IOAS_ALLOW_IOVAS, allow);
	emit(dir, "regress-allow-iovas-huge-count");

	/* The first pin of a huge area allocated a count per page. */
	ioas_alloc();
	map(1, 0, PTR_BAD(0x80, 0) /* 1 << 63 */, IOVA,
	    RW | IOMMU_IOAS_MAP_FIXED_IOVA);
	test_op(IOMMU_TEST_OP_CREATE_ACCESS, 1, &create, sizeof(create));
	test_op(IOMMU_TEST_OP_ACCESS_PAGES, 0, &pages, sizeof(pages));
	check_refs(PG, PG, 1);
	emit(dir, "regress-pin-in-huge-area");

	/* Release the context while an access fd made on it is open (and
	 * pins pages), then use and close the fd: the access keeps the
	 * context alive until then, as in the kernel. */
	pattern(0, 64, 5);
	ioas_alloc();
	map(1, 0, 4 * PG, IOVA, RW | IOMMU_IOAS_MAP_FIXED_IOVA);
	test_op(IOMMU_TEST_OP_CREATE_ACCESS, 1, &create, sizeof(create));
	test_op(IOMMU_TEST_OP_ACCESS_PAGES, 0, &pages, sizeof(pages));
	u8(FZ_SWITCH);
	u8(2);			/* release context 0 now */
	u8(FZ_SWITCH);
	u8(1);			/* and work on context 1 */
	test_op(IOMMU_TEST_OP_ACCESS_PAGES, 0, &pages, sizeof(pages));
	check_refs(PG, PG, 1);
	u8(FZ_CLOSE);
	u8(0);
	check_refs(PG, PG, 0);
	emit(dir, "regress-release-before-access-close");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	seed_deep(argv[1]);
	seed_access(argv[1]);
	seed_hwpt(argv[1]);
	seed_sizes(argv[1]);
	seed_bad_pointers(argv[1]);
	seed_regressions(argv[1]);
	return 0;
}
