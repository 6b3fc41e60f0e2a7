/*
 * The PASID layer: the space (width, reserved values), global allocation in
 * a range, sets with quotas and tokens, private IDs both ways, ownership
 * checks, references held by bonds, the rule for freeing a set that still
 * has PASIDs, notifier order and filtering, and the example KVM-style
 * translation table.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "softiommu/softiommu.h"

static struct sio_pasid_space *space_of(unsigned int bits)
{
	struct sio_pasid_space *s = NULL;

	assert_int_equal(sio_pasid_space_create(bits, &s), 0);
	return s;
}

static sio_pasid_t alloc_ok(struct sio_pasid_space *s, struct sio_pasid_set *set,
			    sio_pasid_t min, sio_pasid_t max, sio_pasid_t priv)
{
	sio_pasid_t p = SIO_PASID_INVALID;

	assert_int_equal(sio_pasid_alloc(s, set, min, max, priv, NULL, &p), 0);
	return p;
}

static void test_space_width_and_reserved(void **state)
{
	struct sio_pasid_space *s, *bad = NULL;
	sio_pasid_t p;

	(void)state;
	assert_int_equal(sio_pasid_space_create(0, &bad), -EINVAL);
	assert_int_equal(sio_pasid_space_create(21, &bad), -EINVAL);
	assert_null(bad);

	s = space_of(4);			/* 16 values, 0 reserved */
	assert_int_equal(sio_pasid_space_bits(s), 4);
	assert_int_equal(sio_pasid_space_available(s), 15);
	/* Lowest first, never 0. */
	assert_int_equal(alloc_ok(s, NULL, 0, 100, SIO_PASID_INVALID), 1);
	assert_int_equal(sio_pasid_reserve(s, 1, 3), -EBUSY);	/* 1 in use */
	assert_int_equal(sio_pasid_reserve(s, 2, 3), 0);
	assert_int_equal(sio_pasid_reserve(s, 9, 16), -EINVAL);	/* beyond 4 bits */
	assert_int_equal(sio_pasid_space_available(s), 12);
	assert_int_equal(alloc_ok(s, NULL, 0, 15, SIO_PASID_INVALID), 4);
	/* [min, max] is honoured, also across reserved values. */
	assert_int_equal(alloc_ok(s, NULL, 2, 15, SIO_PASID_INVALID), 5);
	assert_int_equal(alloc_ok(s, NULL, 12, 15, SIO_PASID_INVALID), 12);
	assert_int_equal(sio_pasid_alloc(s, NULL, 7, 3, SIO_PASID_INVALID, NULL, &p),
			 -EINVAL);
	assert_int_equal(sio_pasid_alloc(s, NULL, 16, 30, SIO_PASID_INVALID, NULL, &p),
			 -ENOSPC);
	/* Narrowing below a PASID in use is refused, above it allowed. */
	assert_int_equal(sio_pasid_space_set_bits(s, 3), -EBUSY);
	assert_int_equal(sio_pasid_free(s, NULL, 12), 0);
	assert_int_equal(sio_pasid_space_set_bits(s, 3), 0);
	assert_int_equal(sio_pasid_space_available(s), 8 - 3 - 3);
	assert_int_equal(sio_pasid_alloc(s, NULL, 8, 15, SIO_PASID_INVALID, NULL, &p),
			 -ENOSPC);
	assert_int_equal(sio_pasid_space_set_bits(s, 21), -EINVAL);
	assert_int_equal(sio_pasid_space_set_bits(s, 20), 0);
	assert_int_equal(sio_pasid_space_available(s), (1u << 20) - 3 - 3);
	sio_pasid_space_put(s);
}

static void test_exhaust_and_reuse(void **state)
{
	struct sio_pasid_space *s = space_of(8);
	sio_pasid_t p;

	(void)state;
	for (sio_pasid_t i = 1; i < 256; i++)
		assert_int_equal(alloc_ok(s, NULL, 1, 255, SIO_PASID_INVALID), i);
	assert_int_equal(sio_pasid_alloc(s, NULL, 1, 255, SIO_PASID_INVALID, NULL, &p),
			 -ENOSPC);
	assert_int_equal(sio_pasid_free(s, NULL, 77), 0);
	assert_int_equal(sio_pasid_free(s, NULL, 77), -ENOENT);
	assert_int_equal(alloc_ok(s, NULL, 1, 255, SIO_PASID_INVALID), 77);
	sio_pasid_space_put(s);

	/* The full 20-bit space: the summary levels find the last value. */
	s = space_of(20);
	assert_int_equal(sio_pasid_reserve(s, 1, (1u << 20) - 2), 0);
	assert_int_equal(alloc_ok(s, NULL, 0, UINT32_MAX - 1, SIO_PASID_INVALID),
			 (1u << 20) - 1);
	assert_int_equal(sio_pasid_alloc(s, NULL, 0, (1u << 20) - 1,
					 SIO_PASID_INVALID, NULL, &p), -ENOSPC);
	sio_pasid_space_put(s);
}

static void test_set_quota(void **state)
{
	struct sio_pasid_space *s = space_of(6);	/* 63 usable */
	struct sio_pasid_set *a = NULL, *b = NULL, *c = NULL;
	int vm_a, vm_b;
	sio_pasid_t p;

	(void)state;
	assert_int_equal(sio_pasid_set_alloc(s, 0, &vm_a, &a), -EINVAL);
	assert_int_equal(sio_pasid_set_alloc(s, 64, &vm_a, &a), -ENOSPC);
	assert_int_equal(sio_pasid_set_alloc(s, 3, &vm_a, &a), 0);
	assert_int_equal(sio_pasid_set_alloc(s, 3, &vm_a, &c), -EEXIST);
	assert_null(c);
	assert_int_equal(sio_pasid_set_alloc(s, 60, &vm_b, &b), 0);
	assert_ptr_equal(sio_pasid_set_token(a), &vm_a);
	assert_int_equal(sio_pasid_set_quota(a), 3);
	/* The quotas promised everything: no global PASID, no third set. */
	assert_int_equal(sio_pasid_space_available(s), 0);
	assert_int_equal(sio_pasid_alloc(s, NULL, 1, 63, SIO_PASID_INVALID, NULL, &p),
			 -ENOSPC);
	assert_int_equal(sio_pasid_set_alloc(s, 1, NULL, &c), -ENOSPC);

	for (int i = 0; i < 3; i++)
		alloc_ok(s, a, 1, 63, SIO_PASID_INVALID);
	assert_int_equal(sio_pasid_set_count(a), 3);
	assert_int_equal(sio_pasid_alloc(s, a, 1, 63, SIO_PASID_INVALID, NULL, &p),
			 -ENOSPC);
	/* b's quota is not touched by a's exhaustion. */
	assert_int_equal(alloc_ok(s, b, 1, 63, SIO_PASID_INVALID), 4);
	sio_pasid_set_free(b);
	assert_int_equal(sio_pasid_space_available(s), 60);
	assert_int_equal(sio_pasid_set_alloc(s, 60, &vm_b, &b), 0);
	sio_pasid_set_free(b);
	sio_pasid_set_free(a);
	assert_int_equal(sio_pasid_space_available(s), 63);
	sio_pasid_space_put(s);
}

static void test_private_ids_and_ownership(void **state)
{
	struct sio_pasid_space *s = space_of(20), *other = space_of(20);
	struct sio_pasid_set *a, *b;
	struct sio_pasid_info info;
	int vm_a, vm_b, cookie;
	sio_pasid_t pa, pb, g, out;

	(void)state;
	assert_int_equal(sio_pasid_set_alloc(s, 8, &vm_a, &a), 0);
	assert_int_equal(sio_pasid_set_alloc(s, 8, &vm_b, &b), 0);
	assert_int_equal(sio_pasid_alloc(s, a, 100, 200, 5, &cookie, &pa), 0);
	assert_int_equal(pa, 100);
	/* Private IDs are per set: b may use 5 too, a may not again. */
	assert_int_equal(sio_pasid_alloc(s, a, 1, 200, 5, NULL, &out), -EEXIST);
	pb = alloc_ok(s, b, 1, 200, 5);
	g = alloc_ok(s, NULL, 1, 200, SIO_PASID_INVALID);
	assert_int_equal(sio_pasid_alloc(s, NULL, 1, 200, 9, NULL, &out), -EINVAL);
	assert_int_equal(sio_pasid_alloc(s, a, 1, 200, 1u << 20, NULL, &out), -EINVAL);
	assert_int_equal(sio_pasid_alloc(other, a, 1, 200, SIO_PASID_INVALID,
					 NULL, &out), -EINVAL);

	/* Both directions. */
	assert_int_equal(sio_pasid_find_private(a, 5, &out), 0);
	assert_int_equal(out, pa);
	assert_int_equal(sio_pasid_find_private(b, 5, &out), 0);
	assert_int_equal(out, pb);
	assert_int_equal(sio_pasid_find_private(a, 6, &out), -ENOENT);
	assert_int_equal(sio_pasid_find(s, a, pa, &info), 0);
	assert_int_equal(info.private_id, 5);
	assert_ptr_equal(info.token, &vm_a);
	assert_ptr_equal(info.data, &cookie);
	assert_int_equal(info.binds, 0);
	/* The system view sees everything. */
	assert_int_equal(sio_pasid_find(s, NULL, pb, &info), 0);
	assert_ptr_equal(info.token, &vm_b);

	/* A set cannot look up or free another owner's PASIDs. */
	assert_int_equal(sio_pasid_find(s, a, pb, &info), -EACCES);
	assert_int_equal(sio_pasid_find(s, a, g, &info), -EACCES);
	assert_int_equal(sio_pasid_free(s, a, pb), -EACCES);
	assert_int_equal(sio_pasid_free(s, a, g), -EACCES);
	assert_int_equal(sio_pasid_free(s, NULL, pa), -EACCES);
	assert_int_equal(sio_pasid_free(s, a, 4000), -ENOENT);
	assert_int_equal(sio_pasid_find(s, NULL, 4000, &info), -ENOENT);

	assert_int_equal(sio_pasid_free(s, a, pa), 0);
	assert_int_equal(sio_pasid_find_private(a, 5, &out), -ENOENT);
	assert_int_equal(sio_pasid_find(s, NULL, pa, &info), -ENOENT);
	assert_int_equal(sio_pasid_free(s, NULL, g), 0);
	sio_pasid_set_free(a);
	sio_pasid_set_free(b);
	sio_pasid_space_put(other);
	sio_pasid_space_put(s);
}

static void test_bind_references(void **state)
{
	struct sio_pasid_space *s = space_of(3);	/* 1..7 */
	struct sio_pasid_set *set;
	struct sio_pasid_info info;
	int dev1, dev2, vm;
	sio_pasid_t p, q;

	(void)state;
	assert_int_equal(sio_pasid_set_alloc(s, 2, &vm, &set), 0);
	p = alloc_ok(s, set, 1, 7, SIO_PASID_INVALID);
	assert_int_equal(sio_pasid_bind(s, set, p, &dev1), 0);
	assert_int_equal(sio_pasid_bind(s, NULL, p, &dev2), 0);
	assert_int_equal(sio_pasid_bind(s, set, 6, &dev2), -ENOENT);
	assert_int_equal(sio_pasid_find(s, set, p, &info), 0);
	assert_int_equal(info.binds, 2);

	/* Freed while bound: gone from lookups, value not reused. */
	assert_int_equal(sio_pasid_free(s, set, p), 0);
	assert_int_equal(sio_pasid_find(s, NULL, p, &info), -ENOENT);
	assert_int_equal(sio_pasid_bind(s, set, p, &dev1), -ENOENT);
	assert_int_equal(sio_pasid_set_count(set), 1);
	q = alloc_ok(s, set, 1, 7, SIO_PASID_INVALID);
	assert_int_not_equal(q, p);
	/* The quota still counts the bound one. */
	assert_int_equal(sio_pasid_alloc(s, set, 1, 7, SIO_PASID_INVALID, NULL, &q),
			 -ENOSPC);
	sio_pasid_unbind(s, p, &dev1);
	assert_int_equal(sio_pasid_set_count(set), 2);
	sio_pasid_unbind(s, p, &dev2);
	assert_int_equal(sio_pasid_set_count(set), 1);
	assert_int_equal(alloc_ok(s, set, 1, 7, SIO_PASID_INVALID), p);
	sio_pasid_unbind(s, p, &dev2);		/* not bound: nothing */
	sio_pasid_set_free(set);
	sio_pasid_space_put(s);
}

static void test_set_free_with_pasids(void **state)
{
	struct sio_pasid_space *s = space_of(4);	/* 15 usable */
	struct sio_pasid_set *set;
	struct sio_pasid_info info;
	sio_pasid_t a, b;
	int vm, dev;

	(void)state;
	assert_int_equal(sio_pasid_set_alloc(s, 10, &vm, &set), 0);
	a = alloc_ok(s, set, 1, 15, 1);
	b = alloc_ok(s, set, 1, 15, 2);
	assert_int_equal(sio_pasid_bind(s, set, b, &dev), 0);
	sio_pasid_set_free(set);
	/* Both freed; b is an orphan until its bond goes. */
	assert_int_equal(sio_pasid_find(s, NULL, a, &info), -ENOENT);
	assert_int_equal(sio_pasid_find(s, NULL, b, &info), -ENOENT);
	assert_int_equal(sio_pasid_space_available(s), 14);
	assert_int_equal(alloc_ok(s, NULL, 1, 15, SIO_PASID_INVALID), a);
	assert_int_equal(alloc_ok(s, NULL, 1, 15, SIO_PASID_INVALID), 3);
	sio_pasid_unbind(s, b, &dev);
	assert_int_equal(sio_pasid_space_available(s), 13);
	assert_int_equal(alloc_ok(s, NULL, 1, 15, SIO_PASID_INVALID), b);
	sio_pasid_space_put(s);		/* frees the global PASIDs left */
}

/* A recording subscriber. */
struct rec {
	struct sio_pasid_notifier nb;
	char name;
	char *log;			/* shared by all subscribers */
};

static void rec_notify(struct sio_pasid_notifier *nb,
		       const struct sio_pasid_event *ev)
{
	struct rec *r = sio_container_of(nb, struct rec, nb);
	static const char type[] = "?AFBU";
	char buf[16];

	snprintf(buf, sizeof(buf), "%c%c%u ", r->name, type[ev->type], ev->pasid);
	strcat(r->log, buf);
}

static void test_notifier_order_and_filter(void **state)
{
	struct sio_pasid_space *s = space_of(8);
	struct sio_pasid_set *a, *b;
	char log[512] = "";
	int vm_a, vm_b, dev;
	struct rec all = { .nb.notify = rec_notify, .name = 'x', .log = log };
	struct rec by_set = { .nb.notify = rec_notify, .name = 's', .log = log };
	struct rec by_token = { .nb.notify = rec_notify, .name = 't', .log = log };
	struct rec bad = { .name = 'z', .log = log };
	sio_pasid_t pa, pb, g;

	(void)state;
	assert_int_equal(sio_pasid_set_alloc(s, 4, &vm_a, &a), 0);
	by_set.nb.set = a;
	by_token.nb.token = &vm_b;	/* before b exists */
	assert_int_equal(sio_pasid_notifier_register(s, &all.nb), 0);
	assert_int_equal(sio_pasid_notifier_register(s, &by_set.nb), 0);
	assert_int_equal(sio_pasid_notifier_register(s, &by_token.nb), 0);
	assert_int_equal(sio_pasid_notifier_register(s, &all.nb), -EBUSY);
	assert_int_equal(sio_pasid_notifier_register(s, &bad.nb), -EINVAL);
	assert_int_equal(sio_pasid_set_alloc(s, 4, &vm_b, &b), 0);

	pa = alloc_ok(s, a, 1, 255, SIO_PASID_INVALID);
	pb = alloc_ok(s, b, 1, 255, SIO_PASID_INVALID);
	g = alloc_ok(s, NULL, 1, 255, SIO_PASID_INVALID);
	assert_int_equal(sio_pasid_bind(s, a, pa, &dev), 0);
	assert_int_equal(sio_pasid_bind(s, b, pb, &dev), 0);
	sio_pasid_unbind(s, pa, &dev);
	assert_int_equal(sio_pasid_free(s, a, pa), 0);
	assert_int_equal(sio_pasid_free(s, NULL, g), 0);
	/* Free while bound: FREE now, the UNBIND still comes after. */
	assert_int_equal(sio_pasid_free(s, b, pb), 0);
	sio_pasid_unbind(s, pb, &dev);
	(void)pb;
	assert_string_equal(log,
			    "xA1 sA1 xA2 tA2 xA3 "
			    "xB1 sB1 xB2 tB2 "
			    "xU1 sU1 xF1 sF1 xF3 "
			    "xF2 tF2 xU2 tU2 ");

	/* Unregistered: silent from then on. */
	sio_pasid_notifier_unregister(&all.nb);
	sio_pasid_notifier_unregister(&all.nb);		/* harmless twice */
	log[0] = '\0';
	pa = alloc_ok(s, a, 1, 255, SIO_PASID_INVALID);
	assert_string_equal(log, "sA1 ");
	/* Freeing a set frees its PASIDs with their events. */
	sio_pasid_set_free(a);
	assert_string_equal(log, "sA1 sF1 ");
	sio_pasid_notifier_unregister(&by_set.nb);
	sio_pasid_notifier_unregister(&by_token.nb);
	sio_pasid_set_free(b);
	sio_pasid_space_put(s);
}

static void test_kvm_style_table(void **state)
{
	struct sio_pasid_space *s = space_of(20);
	struct sio_pasid_xlate *xl = NULL, *other = NULL;
	struct sio_pasid_set *vm_set, *other_set;
	int vm, vm2, dev1, dev2;
	sio_pasid_t h1, h2, h3, host;

	(void)state;
	assert_int_equal(sio_pasid_xlate_create(s, NULL, &xl), -EINVAL);
	/* The table exists before the VMM makes the VM's set. */
	assert_int_equal(sio_pasid_xlate_create(s, &vm, &xl), 0);
	assert_int_equal(sio_pasid_xlate_create(s, &vm2, &other), 0);
	assert_int_equal(sio_pasid_set_alloc(s, 16, &vm, &vm_set), 0);
	assert_int_equal(sio_pasid_set_alloc(s, 16, &vm2, &other_set), 0);
	assert_int_equal(sio_pasid_reserve(s, 1, 999), 0);

	h1 = alloc_ok(s, vm_set, 1, 4000, 7);	/* guest PASID 7 */
	h2 = alloc_ok(s, vm_set, 1, 4000, 8);
	h3 = alloc_ok(s, other_set, 1, 4000, 7);	/* another VM's guest 7 */
	assert_int_equal(sio_pasid_xlate_lookup(xl, 7, &host), -ENOENT);
	assert_int_equal(sio_pasid_bind(s, vm_set, h1, &dev1), 0);
	assert_int_equal(sio_pasid_bind(s, vm_set, h1, &dev2), 0);
	assert_int_equal(sio_pasid_bind(s, vm_set, h2, &dev1), 0);
	assert_int_equal(sio_pasid_bind(s, other_set, h3, &dev1), 0);
	assert_int_equal(sio_pasid_xlate_lookup(xl, 7, &host), 0);
	assert_int_equal(host, h1);
	assert_int_equal(sio_pasid_xlate_lookup(xl, 8, &host), 0);
	assert_int_equal(host, h2);
	assert_int_equal(sio_pasid_xlate_count(xl), 2);
	assert_int_equal(sio_pasid_xlate_lookup(other, 7, &host), 0);
	assert_int_equal(host, h3);
	assert_int_equal(sio_pasid_xlate_count(other), 1);

	/* The translation lasts while any bond holds the PASID. */
	sio_pasid_unbind(s, h1, &dev1);
	assert_int_equal(sio_pasid_xlate_lookup(xl, 7, &host), 0);
	sio_pasid_unbind(s, h1, &dev2);
	assert_int_equal(sio_pasid_xlate_lookup(xl, 7, &host), -ENOENT);
	/* Freed while bound: withdrawn at once. */
	assert_int_equal(sio_pasid_free(s, vm_set, h2), 0);
	assert_int_equal(sio_pasid_xlate_lookup(xl, 8, &host), -ENOENT);
	assert_int_equal(sio_pasid_xlate_count(xl), 0);
	sio_pasid_unbind(s, h2, &dev1);
	sio_pasid_unbind(s, h3, &dev1);
	assert_int_equal(sio_pasid_xlate_count(other), 0);
	sio_pasid_xlate_destroy(xl);
	sio_pasid_xlate_destroy(other);
	sio_pasid_set_free(vm_set);
	sio_pasid_set_free(other_set);
	sio_pasid_space_put(s);
}

static void test_system_space(void **state)
{
	struct sio_system *sys;
	struct sio_pasid_space *s;
	sio_pasid_t p;

	(void)state;
	assert_int_equal(sio_system_create(&sys), 0);
	s = sio_system_pasid_space(sys);
	assert_non_null(s);
	assert_int_equal(sio_pasid_space_bits(s), SIO_PASID_MAX_BITS);
	/* A user's reference keeps the space after the system is gone. */
	sio_pasid_space_get(s);
	assert_int_equal(sio_system_destroy(sys), 0);
	p = alloc_ok(s, NULL, 0, 10, SIO_PASID_INVALID);
	assert_int_equal(p, 1);
	sio_pasid_space_put(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_space_width_and_reserved),
		cmocka_unit_test(test_exhaust_and_reuse),
		cmocka_unit_test(test_set_quota),
		cmocka_unit_test(test_private_ids_and_ownership),
		cmocka_unit_test(test_bind_references),
		cmocka_unit_test(test_set_free_with_pasids),
		cmocka_unit_test(test_notifier_order_and_filter),
		cmocka_unit_test(test_kvm_style_table),
		cmocka_unit_test(test_system_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
