/*
 * The object table: IDs run out as the kernel's xarray does (xa_alloc with
 * xa_limit_31b answers -EBUSY), not as memory does; and what a failed
 * ioctl leaves for sio_last_error().
 */
#include "iommufd_helpers.h"
#include "iommufd/iommufd_private.h"

static long ioas_alloc_rc(struct fx *f, uint32_t *id)
{
	struct iommu_ioas_alloc c = { .size = sizeof(c) };
	long rc = io(f, IOMMU_IOAS_ALLOC, &c);

	*id = c.out_ioas_id;
	return rc;
}

static void test_id_exhaustion_is_ebusy(void **state)
{
	struct fx *f = *state;
	uint32_t ids[4], id = 0;

	iommufd_ctx_set_id_limit(f->ictx, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ioas_alloc_rc(f, &ids[i]), 0);
		assert_int_equal(ids[i], (uint32_t)i + 1);
	}
	assert_int_equal(ioas_alloc_rc(f, &id), -EBUSY);
	assert_non_null(strstr(sio_last_error(), "IOAS_ALLOC"));
	/* A freed ID is the next one given. */
	assert_int_equal(destroy(f, ids[2]), 0);
	assert_int_equal(ioas_alloc_rc(f, &id), 0);
	assert_int_equal(id, ids[2]);
	assert_int_equal(ioas_alloc_rc(f, &id), -EBUSY);
	/* Objects made inside other ioctls see the same limit. */
	{
		uint32_t stdev, hwpt, idev;

		assert_int_equal(destroy(f, ids[3]), 0);
		assert_int_equal(mock_domain(f, ids[0], &stdev, &hwpt, &idev),
				 -EBUSY);
		/* Nothing half-made is left: the freed ID is still free. */
		assert_int_equal(ioas_alloc_rc(f, &id), 0);
		assert_int_equal(id, ids[3]);
	}
}

/* The limit cannot go beyond the kernel's 31 bits. */
static void test_id_limit_default(void **state)
{
	struct fx *f = *state;
	uint32_t id;

	iommufd_ctx_set_id_limit(f->ictx, UINT32_MAX);
	assert_int_equal(f->ictx->id_limit, 0x7fffffffu);
	assert_int_equal(ioas_alloc_rc(f, &id), 0);
	assert_int_equal(id, 1);
}

/* The message of the last failure names the ioctl and holds a reason. */
static void assert_msg(const char *a, const char *b)
{
	const char *m = sio_last_error();

	if (!strstr(m, a) || (b && !strstr(m, b)))
		fail_msg("message \"%s\" lacks \"%s\" / \"%s\"", m, a,
			 b ? b : "");
}

static void test_failed_ioctls_say_why(void **state)
{
	struct fx *f = *state;
	struct iommu_ioas_alloc a = { .size = sizeof(a), .flags = 1 };
	struct iommu_ioas_map m = {
		.size = sizeof(m), .ioas_id = 999,
		.flags = IOMMU_IOAS_MAP_READABLE,
		.user_va = (uintptr_t)f->buf, .length = PAGE,
	};
	struct iommu_destroy d = { .size = sizeof(d), .id = 4242 };
	struct iommu_hw_info h = { .size = sizeof(h), .dev_id = 77 };

	/* Bad flags. */
	assert_int_equal(io(f, IOMMU_IOAS_ALLOC, &a), -EOPNOTSUPP);
	assert_msg("IOMMU_IOAS_ALLOC", "flags");
	/* Bad IDs. */
	assert_int_equal(io(f, IOMMU_IOAS_MAP, &m), -ENOENT);
	assert_msg("IOMMU_IOAS_MAP", "999");
	assert_int_equal(io(f, IOMMU_DESTROY, &d), -ENOENT);
	assert_msg("IOMMU_DESTROY", "4242");
	assert_int_equal(io(f, IOMMU_GET_HW_INFO, &h), -ENOENT);
	assert_msg("IOMMU_GET_HW_INFO", "77");
	/* Short size. */
	a.size = 4;
	a.flags = 0;
	assert_int_equal(io(f, IOMMU_IOAS_ALLOC, &a), -EINVAL);
	assert_msg("IOMMU_IOAS_ALLOC", "size 4");
	/* A long size with bytes the library does not know. */
	{
		struct { struct iommu_ioas_alloc c; uint32_t extra; } big = {
			.c = { .size = sizeof(big) }, .extra = 1,
		};

		assert_int_equal(io(f, IOMMU_IOAS_ALLOC, &big), -E2BIG);
		assert_msg("IOMMU_IOAS_ALLOC", "non-zero");
	}
	/* Bad pointer. */
	assert_int_equal(sio_iommufd_ioctl(f->ictx, IOMMU_IOAS_ALLOC, 8),
			 -EFAULT);
	assert_msg("IOMMU_IOAS_ALLOC", "not readable");
	/* Unknown command: a known number with another size. */
	a.size = sizeof(a);
	assert_int_equal(io(f, _IOWR(IOMMUFD_TYPE, _IOC_NR(IOMMU_IOAS_ALLOC),
				     uint64_t), &a), -ENOTTY);
	assert_msg("unknown ioctl", NULL);
	/* A success leaves no message. */
	assert_int_equal(io(f, IOMMU_IOAS_ALLOC, &a), 0);
	assert_string_equal(sio_last_error(), "");
}

/* A host without the selftest ABI answers IOMMU_TEST_CMD as a kernel
 * without CONFIG_IOMMUFD_TEST: -ENOTTY; the uAPI works. */
static void test_no_selftest_abi(void **state)
{
	struct sio_iommufd_host_opts opts = { .flags = 0 };
	struct sio_iommufd_host *host;
	struct sio_iommufd *ictx;
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	struct iommu_test_cmd t = {
		.size = sizeof(t), .op = IOMMU_TEST_OP_MOCK_DOMAIN, .id = 1,
	};

	(void)state;
	opts.flags = 0x80;
	assert_int_equal(sio_iommufd_host_create_opts(&opts, &host), -EINVAL);
	opts.flags = 0;
	assert_int_equal(sio_iommufd_host_create_opts(&opts, &host), 0);
	assert_int_equal(sio_iommufd_open(host, &ictx), 0);
	assert_int_equal(sio_iommufd_ioctl(ictx, IOMMU_IOAS_ALLOC,
					   (unsigned long)&a), 0);
	t.id = a.out_ioas_id;
	assert_int_equal(sio_iommufd_ioctl(ictx, IOMMU_TEST_CMD,
					   (unsigned long)&t), -ENOTTY);
	assert_non_null(strstr(sio_last_error(), "IOMMU_TEST_CMD"));
	sio_iommufd_release(ictx);
	sio_iommufd_host_destroy(host);
	/* NULL options: no selftest ABI either. */
	assert_int_equal(sio_iommufd_host_create_opts(NULL, &host), 0);
	assert_int_equal(sio_iommufd_open(host, &ictx), 0);
	assert_int_equal(sio_iommufd_ioctl(ictx, IOMMU_TEST_CMD,
					   (unsigned long)&t), -ENOTTY);
	sio_iommufd_release(ictx);
	sio_iommufd_host_destroy(host);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_id_exhaustion_is_ebusy,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_limit_default,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_ioctls_say_why,
						setup, teardown),
		cmocka_unit_test(test_no_selftest_abi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
