/*
 * The object table: IDs run out as the kernel's xarray does (xa_alloc with
 * xa_limit_31b answers -EBUSY), not as memory does.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_id_exhaustion_is_ebusy,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_limit_default,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
