/*
 * The PASID layer under every fault-injection point (fail_sweep.h): a set
 * allocated with a quota and a token, PASIDs allocated in it with private
 * IDs and found by them, one bound and unbound, one freed and allocated
 * again, a global PASID beside them, and the set freed.  Each iteration
 * either fails with an errno or completes; the undo frees what is left,
 * after which the space has as many PASIDs available as before and the
 * token names no set (no leak under ASan).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "softiommu/softiommu.h"
#include "fail_sweep.h"

#define NPRIV 3

struct pflow {
	struct sio_pasid_space *space;
	uint32_t available;		/* before the sweep */
	int token;			/* its address names the set */
	/* What one iteration built. */
	struct sio_pasid_set *set;
	sio_pasid_t global;
};

static int pflow_setup(void **state)
{
	struct pflow *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(sio_pasid_space_create(10, &f->space), 0);
	assert_int_equal(sio_pasid_reserve(f->space, 1, 15), 0);
	f->available = sio_pasid_space_available(f->space);
	f->global = SIO_PASID_INVALID;
	*state = f;
	return 0;
}

static int pflow_teardown(void **state)
{
	struct pflow *f = *state;

	sio_pasid_space_put(f->space);
	free(f);
	return 0;
}

static int pflow_body(void *arg)
{
	struct pflow *f = arg;
	sio_pasid_t p[NPRIV], got = SIO_PASID_INVALID, again;
	struct sio_pasid_info info;
	int rc;

	rc = sio_pasid_set_alloc(f->space, 4, &f->token, &f->set);
	if (rc)
		return rc;
	/* Private IDs 100, 101, 102, the set's own names. */
	for (unsigned int i = 0; i < NPRIV; i++) {
		rc = sio_pasid_alloc(f->space, f->set, 0, 1023, 100 + i, &f->token,
				     &p[i]);
		if (rc)
			return rc;
	}
	rc = sio_pasid_find_private(f->set, 101, &got);
	if (rc)
		return rc;
	if (got != p[1])
		return -EIO;
	rc = sio_pasid_bind(f->space, f->set, p[2], f);
	if (rc)
		return rc;
	rc = sio_pasid_find(f->space, f->set, p[2], &info);
	sio_pasid_unbind(f->space, p[2], f);
	if (rc)
		return rc;
	if (info.private_id != 102 || info.binds != 1 || info.token != &f->token)
		return -EIO;
	/* Free one and take its private ID again. */
	rc = sio_pasid_free(f->space, f->set, p[0]);
	if (rc)
		return rc;
	rc = sio_pasid_alloc(f->space, f->set, 0, 1023, 100, NULL, &again);
	if (rc)
		return rc;
	if (sio_pasid_set_count(f->set) != NPRIV)
		return -EIO;
	/* A global PASID beside the set. */
	rc = sio_pasid_alloc(f->space, NULL, 0, 1023, SIO_PASID_INVALID, NULL,
			     &f->global);
	if (rc)
		return rc;
	rc = sio_pasid_free(f->space, NULL, f->global);
	if (rc)
		return rc;
	f->global = SIO_PASID_INVALID;
	/* The set goes with its PASIDs. */
	sio_pasid_set_free(f->set);
	f->set = NULL;
	return 0;
}

static void pflow_undo(void *arg)
{
	struct pflow *f = arg;
	struct sio_pasid_set *other = NULL;

	if (f->global != SIO_PASID_INVALID)
		assert_int_equal(sio_pasid_free(f->space, NULL, f->global), 0);
	f->global = SIO_PASID_INVALID;
	if (f->set)
		sio_pasid_set_free(f->set);
	f->set = NULL;
	/* As it was: every PASID back, the token free for a new set. */
	assert_int_equal(sio_pasid_space_available(f->space), f->available);
	assert_int_equal(sio_pasid_set_alloc(f->space, 1, &f->token, &other), 0);
	sio_pasid_set_free(other);
}

static void pasid_sweep(void **state)
{
	struct pflow *f = *state;
	/* The set, each PASID, its private ID and the bond have sites. */
	fail_sweep_check("pasid", pflow_body, pflow_undo, f, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(pasid_sweep, pflow_setup,
						pflow_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
