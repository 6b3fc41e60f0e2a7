/*
 * Object lookups without obj_lock against DESTROY, table growth and the
 * close of the iommufd descriptor (src/iommufd/object.c, "Lookups").
 *
 * A lookup reads the table with no lock, holds the object it found in its
 * thread's hazard slot while it takes its counts, and a destroyed object
 * waits in the context's limbo until no slot holds it.  These tests race
 * lookups with what changes the table and check the kernel's answers:
 * a lookup finds a whole object or -ENOENT, DESTROY of an object an ioctl
 * holds is -EBUSY, an ID that DESTROY freed is -ENOENT for every lookup
 * that starts after it, and a table that grows never loses an object.
 * Run under AddressSanitizer and ThreadSanitizer as well.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "iommufd_helpers.h"
#include "iommufd/iommufd_private.h"
#include "softiommu/file.h"

#define READERS 2

/* ------------------------------------------------------------------ */
/* DESTROY against lookups                                              */
/* ------------------------------------------------------------------ */

struct race {
	struct fx *f;
	atomic_int stop;
	atomic_uint gen;	/* bumped after each DESTROY that succeeded */
	atomic_uint dead;	/* the ID that DESTROY freed in gen */
	atomic_uint acks;	/* readers that checked dead in gen */
	atomic_uint lo, hi;	/* IDs readers look up */
	atomic_long found, missing, bad;
};

static void *lookup_thread(void *arg)
{
	struct race *r = arg;
	unsigned int seen = 0, n = 0;

	while (!atomic_load(&r->stop)) {
		unsigned int gen = atomic_load(&r->gen);
		uint32_t lo = atomic_load(&r->lo), hi = atomic_load(&r->hi);
		uint32_t id = lo + n++ % (hi - lo + 1);
		struct iommufd_object *obj;
		int err = 0;

		if (gen != seen) {
			/* Started after DESTROY returned: -ENOENT. */
			uint32_t dead = atomic_load(&r->dead);

			obj = iommufd_get_object(r->f->ictx, dead,
						 IOMMUFD_OBJ_ANY, &err);
			if (obj || err != -ENOENT) {
				atomic_fetch_add(&r->bad, 1);
				if (obj)
					iommufd_put_object(r->f->ictx, obj);
			}
			seen = gen;
			atomic_fetch_add(&r->acks, 1);
		}
		obj = iommufd_get_object(r->f->ictx, id, IOMMUFD_OBJ_IOAS, &err);
		if (obj) {
			/* A whole IOAS: its counts hold this lookup. */
			if (obj->id != id || obj->type != IOMMUFD_OBJ_IOAS ||
			    iommufd_obj_users(__atomic_load_n(&obj->refs,
							      __ATOMIC_RELAXED)) < 2)
				atomic_fetch_add(&r->bad, 1);
			atomic_fetch_add(&r->found, 1);
			iommufd_put_object(r->f->ictx, obj);
		} else if (err == -ENOENT) {
			atomic_fetch_add(&r->missing, 1);
		} else {
			atomic_fetch_add(&r->bad, 1);
		}
	}
	return NULL;
}

/* Allocate and destroy IOASes while readers look them up: DESTROY is 0
 * or -EBUSY (a reader holds it), never anything else; once it is 0, the
 * ID is gone for every reader that looks after. */
static void test_destroy_races_lookups(void **state)
{
	struct fx *f = *state;
	struct race r = { .f = f };
	pthread_t t[READERS];
	unsigned int busy = 0;
	uint32_t keep = ioas_alloc(f), id;

	atomic_store(&r.lo, keep);
	atomic_store(&r.hi, keep + 4);
	for (int i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, lookup_thread, &r), 0);
	for (int i = 0; i < 300; i++) {
		long rc;

		id = ioas_alloc(f);
		assert_true(id > keep && id <= keep + 4);
		while ((rc = destroy(f, id)) == -EBUSY)
			busy++;
		assert_int_equal(rc, 0);
		assert_int_equal(destroy(f, id), -ENOENT);
		/* Every reader checks the freed ID once before the next
		 * allocation can take it again. */
		atomic_store(&r.acks, 0);
		atomic_store(&r.dead, id);
		atomic_fetch_add(&r.gen, 1);
		while (atomic_load(&r.acks) < READERS)
			sched_yield();
	}
	atomic_store(&r.stop, 1);
	for (int i = 0; i < READERS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&r.bad), 0);
	/* The kept IOAS was found throughout. */
	assert_true(atomic_load(&r.found) > 0);
	(void)busy;
	assert_int_equal(destroy(f, keep), 0);
}

/* ------------------------------------------------------------------ */
/* Holds (IOAS_MAP and IOAS_UNMAP's lookups) against DESTROY              */
/* ------------------------------------------------------------------ */

struct holdr {
	struct fx *f;
	uint32_t id;
	atomic_int phase;	/* 1: holding; 2: let it go */
	atomic_int released;	/* the hold is gone */
	atomic_int stop;
	atomic_long missing, found;
};

static void *hold_thread(void *arg)
{
	struct holdr *h = arg;
	struct iommufd_object *obj;
	bool held = false;
	int err = 0;

	/* The first lookup gives the thread its slots; then it holds. */
	obj = iommufd_get_object(h->f->ictx, h->id, IOMMUFD_OBJ_IOAS, &err);
	assert_non_null(obj);
	iommufd_put_object(h->f->ictx, obj);
	obj = iommufd_hold_object(h->f->ictx, h->id, IOMMUFD_OBJ_IOAS, &held,
				  &err);
	assert_non_null(obj);
	assert_true(held);
	atomic_store(&h->phase, 1);
	while (atomic_load(&h->phase) != 2)
		sched_yield();
	atomic_store(&h->released, 1);
	iommufd_unhold_object(h->f->ictx, obj, held);
	return NULL;
}

/* Counted lookups while DESTROY keeps failing on the hold: the 0 that
 * DESTROY writes and undoes is never an answer. */
static void *counted_lookups(void *arg)
{
	struct holdr *h = arg;

	while (!atomic_load(&h->stop)) {
		int err = 0;
		struct iommufd_object *obj = iommufd_get_object(
			h->f->ictx, h->id, IOMMUFD_OBJ_IOAS, &err);

		if (!obj) {
			atomic_fetch_add(&h->missing, 1);
			continue;
		}
		atomic_fetch_add(&h->found, 1);
		iommufd_put_object(h->f->ictx, obj);
	}
	return NULL;
}

static void test_hold_is_a_user(void **state)
{
	struct fx *f = *state;
	struct holdr h = { .f = f, .id = ioas_alloc(f) };
	pthread_t holder, looker;

	assert_int_equal(pthread_create(&holder, NULL, hold_thread, &h), 0);
	while (atomic_load(&h.phase) != 1)
		sched_yield();
	assert_int_equal(pthread_create(&looker, NULL, counted_lookups, &h), 0);
	/* Held: DESTROY is -EBUSY however often it is tried, and lookups
	 * meanwhile (at least a thousand, however the threads run) always
	 * find the IOAS. */
	for (int i = 0; i < 2000 || atomic_load(&h.found) < 1000; i++)
		assert_int_equal(destroy(f, h.id), -EBUSY);
	atomic_store(&h.stop, 1);
	pthread_join(looker, NULL);
	assert_int_equal(atomic_load(&h.missing), 0);
	atomic_store(&h.phase, 2);
	pthread_join(holder, NULL);
	assert_int_equal(destroy(f, h.id), 0);
	assert_int_equal(destroy(f, h.id), -ENOENT);
}

static void *let_go_later(void *arg)
{
	struct holdr *h = arg;

	/* Long enough that the removal below is waiting. */
	struct timespec ts = { 0, 30 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	atomic_store(&h->phase, 2);
	return NULL;
}

/* A removal that waits (a driver's: REMOVE_WAIT) sleeps until the hold
 * is let go, and the holder's unhold wakes it. */
static void test_remove_wait_waits_for_hold(void **state)
{
	struct fx *f = *state;
	struct holdr h = { .f = f, .id = ioas_alloc(f) };
	pthread_t holder, waker;

	assert_int_equal(pthread_create(&holder, NULL, hold_thread, &h), 0);
	while (atomic_load(&h.phase) != 1)
		sched_yield();
	assert_int_equal(pthread_create(&waker, NULL, let_go_later, &h), 0);
	assert_int_equal(iommufd_object_remove(f->ictx, NULL, h.id,
					       IOMMUFD_REMOVE_WAIT), 0);
	assert_int_equal(atomic_load(&h.released), 1);
	pthread_join(waker, NULL);
	pthread_join(holder, NULL);
	assert_int_equal(destroy(f, h.id), -ENOENT);
}

/* A thread holds one object at a time: a second hold, by the same
 * thread, is a counted reference, and each lets go of its own. */
static void test_second_hold_is_counted(void **state)
{
	struct fx *f = *state;
	uint32_t a = ioas_alloc(f), b = ioas_alloc(f);
	struct iommufd_object *oa, *ob, *oa2;
	bool ha = false, hb = true, ha2 = true;
	int err = 0;

	/* This thread's slots exist after one lookup. */
	oa = iommufd_get_object(f->ictx, a, IOMMUFD_OBJ_IOAS, &err);
	assert_non_null(oa);
	iommufd_put_object(f->ictx, oa);
	oa = iommufd_hold_object(f->ictx, a, IOMMUFD_OBJ_IOAS, &ha, &err);
	ob = iommufd_hold_object(f->ictx, b, IOMMUFD_OBJ_IOAS, &hb, &err);
	oa2 = iommufd_hold_object(f->ictx, a, IOMMUFD_OBJ_IOAS, &ha2, &err);
	assert_non_null(oa);
	assert_non_null(ob);
	assert_ptr_equal(oa2, oa);
	assert_true(ha);
	assert_false(hb);
	assert_false(ha2);
	/* A wrong type is -ENOENT, holding nothing. */
	assert_null(iommufd_hold_object(f->ictx, a, IOMMUFD_OBJ_DEVICE, &hb,
					&err));
	assert_int_equal(err, -ENOENT);
	assert_int_equal(destroy(f, a), -EBUSY);
	assert_int_equal(destroy(f, b), -EBUSY);
	iommufd_unhold_object(f->ictx, oa, ha);
	assert_int_equal(destroy(f, a), -EBUSY);	/* the counted one */
	iommufd_unhold_object(f->ictx, oa2, ha2);
	iommufd_unhold_object(f->ictx, ob, false);
	assert_int_equal(destroy(f, a), 0);
	assert_int_equal(destroy(f, b), 0);
}

/* ------------------------------------------------------------------ */
/* Table growth against lookups                                         */
/* ------------------------------------------------------------------ */

struct grow {
	struct fx *f;
	uint32_t live;
	atomic_int stop;
	atomic_long lost, found;
};

static void *grow_reader(void *arg)
{
	struct grow *g = arg;

	while (!atomic_load(&g->stop)) {
		struct iommufd_object *obj;
		int err = 0;

		obj = iommufd_get_object(g->f->ictx, g->live, IOMMUFD_OBJ_IOAS,
					 &err);
		if (!obj) {
			atomic_fetch_add(&g->lost, 1);
			continue;
		}
		atomic_fetch_add(&g->found, 1);
		iommufd_put_object(g->f->ictx, obj);
	}
	return NULL;
}

/* The table is copied into a larger one several times and objects go to
 * the limbo and are reaped while readers look up a live object: it is
 * never missing. */
static void test_growth_keeps_objects(void **state)
{
	struct fx *f = *state;
	struct grow g = { .f = f };
	pthread_t t[READERS];
	uint32_t ids[300];

	g.live = ioas_alloc(f);
	for (int i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, grow_reader, &g), 0);
	for (int round = 0; round < 3; round++) {
		long seen = atomic_load(&g.found);

		/* The readers are looking while the table grows and the
		 * limbo is reaped (the machine may be busy: wait for them). */
		while (atomic_load(&g.found) < seen + READERS)
			sched_yield();
		for (int i = 0; i < 300; i++) {
			ids[i] = ioas_alloc(f);
			if (i % 64 == 0)
				sched_yield();
		}
		for (int i = 0; i < 300; i++) {
			assert_int_equal(destroy(f, ids[i]), 0);
			if (i % 64 == 0)
				sched_yield();
		}
	}
	atomic_store(&g.stop, 1);
	for (int i = 0; i < READERS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&g.lost), 0);
	assert_true(atomic_load(&g.found) > 0);
	for (int i = 0; i < 300; i++)
		assert_int_equal(destroy(f, ids[i]), -ENOENT);
	assert_int_equal(destroy(f, g.live), 0);
}

/* ------------------------------------------------------------------ */
/* MAP/UNMAP and DESTROY through the descriptor against its close       */
/* ------------------------------------------------------------------ */

struct closer {
	int fd;
	uint32_t ioas;
	void *buf;
	atomic_int go;
	atomic_long ok, ebadf, bad;
};

static void *ioctl_thread(void *arg)
{
	struct closer *c = arg;

	while (!atomic_load(&c->go))
		sched_yield();
	for (int i = 0; i < 2000; i++) {
		struct iommu_ioas_map m = {
			.size = sizeof(m),
			.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = c->ioas,
			.user_va = (uintptr_t)c->buf,
			.length = PAGE,
		};
		struct iommu_destroy d = { .size = sizeof(d), .id = 0x7fffff00 };
		struct sio_file *file = sio_file_lookup(c->fd);
		long rc;

		if (!file) {
			atomic_fetch_add(&c->ebadf, 1);
			continue;
		}
		/* The descriptor's number may be another file by now
		 * (the test opens nothing else, but check the kind). */
		rc = sio_file_ioctl(file, IOMMU_IOAS_MAP, (unsigned long)&m);
		if (rc == 0) {
			struct iommu_ioas_unmap u = { .size = sizeof(u),
						      .ioas_id = c->ioas,
						      .iova = m.iova,
						      .length = PAGE };

			rc = sio_file_ioctl(file, IOMMU_IOAS_UNMAP,
					    (unsigned long)&u);
		}
		if (rc)
			atomic_fetch_add(&c->bad, 1);
		if (sio_file_ioctl(file, IOMMU_DESTROY, (unsigned long)&d) !=
		    -ENOENT)
			atomic_fetch_add(&c->bad, 1);
		sio_file_put(file);
		atomic_fetch_add(&c->ok, 1);
	}
	return NULL;
}

/* Ioctls in flight when the descriptor is closed finish on a whole
 * context; later ones find no file.  The context goes with the last of
 * them (AddressSanitizer checks that nothing is touched after). */
static void test_close_races_ioctls(void **state)
{
	struct fx *f = *state;
	struct closer c = { .buf = f->buf };
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	pthread_t t[READERS];

	c.fd = sio_iommufd_open_fd(f->host, O_CLOEXEC);
	assert_true(c.fd >= 0);
	{
		struct sio_file *file = sio_file_lookup(c.fd);

		assert_non_null(file);
		assert_int_equal(sio_file_ioctl(file, IOMMU_IOAS_ALLOC,
						(unsigned long)&a), 0);
		sio_file_put(file);
	}
	c.ioas = a.out_ioas_id;
	for (int i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, ioctl_thread, &c), 0);
	atomic_store(&c.go, 1);
	while (atomic_load(&c.ok) < 200)
		sched_yield();
	assert_int_equal(sio_file_close(c.fd), 0);
	for (int i = 0; i < READERS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&c.bad), 0);
	assert_true(atomic_load(&c.ok) >= 200);
	assert_int_equal(atomic_load(&c.ok) + atomic_load(&c.ebadf),
			 READERS * 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_destroy_races_lookups,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_is_a_user, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_remove_wait_waits_for_hold,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_hold_is_counted,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_growth_keeps_objects,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_races_ioctls,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
