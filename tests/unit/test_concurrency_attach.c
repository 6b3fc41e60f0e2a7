/*
 * Concurrency of the core: attach / replace / detach on one group (RID and
 * PASIDs) racing DMA, device probe and removal; domain allocation racing
 * device removal; map/unmap racing DMA readers.
 *
 * Worker threads never call cmocka asserts (they longjmp to the test's
 * stack); they count unexpected results in the shared state instead, and
 * the test asserts on the counts once they are joined.  Every loop is
 * bounded by an iteration count; DMA readers run until the bounded control
 * threads are done.  The suite runs under TSan and ASan.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#include "helpers.h"

struct errs {
	int count;		/* atomic */
	char first[160];	/* the first one, for the report */
	pthread_mutex_t lock;
};

static void err_init(struct errs *e)
{
	memset(e, 0, sizeof(*e));
	pthread_mutex_init(&e->lock, NULL);
}

static void err_record(struct errs *e, int line, const char *what, long v)
{
	if (__atomic_fetch_add(&e->count, 1, __ATOMIC_RELAXED) == 0) {
		pthread_mutex_lock(&e->lock);
		snprintf(e->first, sizeof(e->first), "line %d: %s (%ld)", line,
			 what, v);
		pthread_mutex_unlock(&e->lock);
	}
}

static void err_assert_none(struct errs *e)
{
	if (__atomic_load_n(&e->count, __ATOMIC_RELAXED))
		print_error("%d unexpected results, first: %s\n", e->count, e->first);
	assert_int_equal(__atomic_load_n(&e->count, __ATOMIC_RELAXED), 0);
	pthread_mutex_destroy(&e->lock);
}

#define CHECK(e, cond, v)                                            \
	do {                                                         \
		if (!(cond))                                         \
			err_record((e), __LINE__, #cond, (long)(v)); \
	} while (0)

static unsigned int rnd(unsigned int *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 16;
}

/* ------------------------------------------------------------------ */
/* Attach / replace / detach racing DMA and probe / remove             */
/* ------------------------------------------------------------------ */

enum {
	NDOM = 4,
	NRID_THREADS = 2,
	NPASID_THREADS = 2,
	PASIDS_PER_THREAD = 2,
	NPASIDS = NPASID_THREADS * PASIDS_PER_THREAD,
	NDMA_THREADS = 2,
	CTL_ITERS = 400,
	PROBE_ITERS = 100,
	ALIAS = 0x77,
	PASID_WIDTH = 8,
};

struct aworld {
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_device *stable;	/* never removed */
	struct sio_group *group;
	struct sio_domain *def;
	struct sio_domain *dom[NDOM];
	unsigned char *buf[NDOM];	/* dom[i]: T_IOVA -> buf[i], all i + 1 */

	/* RID: what the last operation set, under ctl (which serializes RID
	 * operations so "last" is well defined; they still race everything
	 * else on the group mutex). */
	pthread_mutex_t ctl;
	struct sio_domain *rid_expect;	/* NULL: the default domain */
	struct t_handle *rid_handle;
	/* PASIDs: slot i belongs to PASID thread i / PASIDS_PER_THREAD. */
	struct sio_domain *pasid_expect[NPASIDS];
	struct t_handle *pasid_handle[NPASIDS];

	int stop;			/* atomic */
	unsigned long dma_ok;		/* atomic */
	struct errs errs;
};

static sio_pasid_t slot_pasid(int slot)
{
	return (sio_pasid_t)(10 + slot * 3);
}

static int dom_index(struct aworld *w, struct sio_domain *d)
{
	for (int i = 0; i < NDOM; i++)
		if (w->dom[i] == d)
			return i;
	return -1;
}

static struct t_handle *new_handle(unsigned int cookie)
{
	struct t_handle *h = calloc(1, sizeof(*h));

	h->magic = 0xabcdef;
	h->cookie = cookie;
	return h;
}

/* One read through (dev, pasid): a whole pattern or a fault. */
static void check_dma(struct aworld *w, struct sio_device *dev,
		      sio_pasid_t pasid, unsigned int off, bool removed)
{
	unsigned char out[64];
	struct sio_dma_fault f;
	int rc = sio_dma_read(dev, pasid, T_IOVA + off, out, sizeof(out), &f);

	if (removed) {
		CHECK(&w->errs, rc == -ENODEV && f.reason == SIO_FAULT_DEVICE_GONE,
		      rc);
		return;
	}
	if (rc == 0) {
		CHECK(&w->errs, out[0] >= 1 && out[0] <= NDOM, out[0]);
		for (size_t i = 1; i < sizeof(out); i++)
			CHECK(&w->errs, out[i] == out[0], out[i]);
		__atomic_add_fetch(&w->dma_ok, 1, __ATOMIC_RELAXED);
	} else if (pasid == SIO_NO_PASID) {
		CHECK(&w->errs, rc == -EPERM && f.reason == SIO_FAULT_BLOCKED, rc);
	} else {
		CHECK(&w->errs, rc == -ENOENT && f.reason == SIO_FAULT_NO_PASID, rc);
	}
}

static void *rid_thread(void *arg)
{
	struct aworld *w = arg;
	unsigned int seed = (unsigned int)(uintptr_t)&seed;

	for (int i = 0; i < CTL_ITERS; i++) {
		struct sio_domain *d = w->dom[rnd(&seed) % NDOM];
		struct t_handle *h = new_handle((unsigned int)i), *old;
		unsigned int op = rnd(&seed) % 3;
		int rc;

		pthread_mutex_lock(&w->ctl);
		old = w->rid_handle;
		if (op == 0) {
			rc = sio_attach_group(d, w->group, &h->handle);
			if (w->rid_expect) {
				CHECK(&w->errs, rc == -EBUSY, rc);
				free(h);
			} else {
				CHECK(&w->errs, rc == 0, rc);
				w->rid_expect = d;
				w->rid_handle = h;
				free(old);	/* NULL: detached before */
			}
		} else if (op == 1) {
			rc = sio_replace_group(w->group, d, &h->handle);
			CHECK(&w->errs, rc == 0, rc);
			CHECK(&w->errs, h->handle.domain == d, 0);
			w->rid_expect = d;
			w->rid_handle = h;
			free(old);	/* no fault-path user once it returned */
		} else {
			sio_detach_group(w->group);
			w->rid_expect = NULL;
			w->rid_handle = NULL;
			free(old);
			free(h);
		}
		CHECK(&w->errs, sio_group_domain(w->group) ==
				(w->rid_expect ? w->rid_expect : w->def), op);
		pthread_mutex_unlock(&w->ctl);
	}
	return NULL;
}

struct pasid_arg {
	struct aworld *w;
	int first_slot;
};

static void *pasid_thread(void *arg)
{
	struct pasid_arg *pa = arg;
	struct aworld *w = pa->w;
	unsigned int seed = (unsigned int)pa->first_slot * 7919u + 1;

	for (int i = 0; i < CTL_ITERS; i++) {
		int slot = pa->first_slot + (int)(rnd(&seed) % PASIDS_PER_THREAD);
		sio_pasid_t pasid = slot_pasid(slot);
		struct sio_domain *d = w->dom[rnd(&seed) % NDOM];
		struct sio_domain *cur = w->pasid_expect[slot];
		struct t_handle *h = new_handle((unsigned int)slot);
		struct t_handle *old = w->pasid_handle[slot];
		unsigned int op = rnd(&seed) % 3;
		int rc;

		if (op == 0) {
			rc = sio_attach_device_pasid(d, w->stable, pasid, &h->handle);
			if (cur) {
				CHECK(&w->errs, rc == -EBUSY, rc);
				free(h);
			} else {
				CHECK(&w->errs, rc == 0, rc);
				w->pasid_expect[slot] = d;
				w->pasid_handle[slot] = h;
			}
		} else if (op == 1) {
			rc = sio_replace_device_pasid(d, w->stable, pasid, &h->handle);
			if (cur) {
				CHECK(&w->errs, rc == 0, rc);
				w->pasid_expect[slot] = d;
				w->pasid_handle[slot] = h;
				free(old);
			} else {
				CHECK(&w->errs, rc == -EINVAL, rc);
				free(h);
			}
		} else {
			if (cur)
				sio_detach_device_pasid(cur, w->stable, pasid);
			w->pasid_expect[slot] = NULL;
			w->pasid_handle[slot] = NULL;
			free(old);
			free(h);
		}
		CHECK(&w->errs, sio_device_pasid_domain(w->stable, pasid) ==
				w->pasid_expect[slot], op);
	}
	return NULL;
}

static void *dma_thread(void *arg)
{
	struct aworld *w = arg;
	unsigned int seed = (unsigned int)(uintptr_t)&seed;

	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		unsigned int r = rnd(&seed);
		sio_pasid_t pasid = r % (NPASIDS + 1) == NPASIDS ?
			SIO_NO_PASID : slot_pasid((int)(r % (NPASIDS + 1)));
		struct sio_dma_xlate x;
		int rc;

		check_dma(w, w->stable, pasid, (r >> 8) % (T_PG - 64), false);
		rc = sio_dma_translate(w->stable, pasid, T_IOVA, SIO_DMA_READ, &x,
				       NULL);
		CHECK(&w->errs, rc == 0 || rc == -EPERM || rc == -ENOENT, rc);
		/* Lookups the fault path would make; handles are not
		 * dereferenced (their owners free them after detach). */
		sio_device_pasid_domain(w->stable, pasid);
	}
	return NULL;
}

static void *probe_thread(void *arg)
{
	struct aworld *w = arg;
	unsigned int seed = 99;

	for (int i = 0; i < PROBE_ITERS; i++) {
		struct sio_device_desc desc = {
			.name = "transient", .alias = ALIAS, .flags = PASID_WIDTH,
		};
		struct sio_device *dev = NULL;
		struct sio_domain *d;
		int rc = sio_device_probe(w->iommu, &desc, &dev);

		CHECK(&w->errs, rc == 0, rc);
		if (rc)
			continue;
		/* It joined the group on whatever the group has now. */
		d = sio_device_pasid_domain(dev, SIO_NO_PASID);
		CHECK(&w->errs, d == w->def || dom_index(w, d) >= 0, 0);
		for (int j = 0; j < 4; j++) {
			unsigned int s = rnd(&seed) % (NPASIDS + 1);

			check_dma(w, dev, s == NPASIDS ? SIO_NO_PASID :
				  slot_pasid((int)s), 0, false);
		}
		sio_device_remove(dev);
		check_dma(w, dev, SIO_NO_PASID, 0, true);
		check_dma(w, dev, slot_pasid(0), 0, true);
		sio_device_put(dev);
	}
	return NULL;
}

static void test_attach_race(void **state)
{
	struct aworld *w = calloc(1, sizeof(*w));
	pthread_t rid[NRID_THREADS], pas[NPASID_THREADS], dma[NDMA_THREADS], prb;
	struct pasid_arg pargs[NPASID_THREADS];
	uint64_t pt_before = t_pt_bytes();

	err_init(&w->errs);
	pthread_mutex_init(&w->ctl, NULL);
	w->sys = t_system();
	w->iommu = t_tdrv(w->sys, "race", SIO_DOMAIN_BLOCKED);
	w->stable = t_tdev(w->iommu, "stable", ALIAS, PASID_WIDTH);
	w->group = t_group(w->stable);
	w->def = sio_group_default_domain(w->group);
	for (int i = 0; i < NDOM; i++) {
		w->dom[i] = t_paging(w->stable, 0);
		w->buf[i] = t_buf(T_PG, T_PG);
		memset(w->buf[i], i + 1, T_PG);
		assert_int_equal(sio_map(w->dom[i], T_IOVA, t_pa(w->buf[i]), T_PG,
					 SIO_PROT_READ), 0);
	}

	for (int i = 0; i < NDMA_THREADS; i++)
		assert_int_equal(pthread_create(&dma[i], NULL, dma_thread, w), 0);
	for (int i = 0; i < NRID_THREADS; i++)
		assert_int_equal(pthread_create(&rid[i], NULL, rid_thread, w), 0);
	for (int i = 0; i < NPASID_THREADS; i++) {
		pargs[i].w = w;
		pargs[i].first_slot = i * PASIDS_PER_THREAD;
		assert_int_equal(pthread_create(&pas[i], NULL, pasid_thread,
						&pargs[i]), 0);
	}
	assert_int_equal(pthread_create(&prb, NULL, probe_thread, w), 0);

	for (int i = 0; i < NRID_THREADS; i++)
		pthread_join(rid[i], NULL);
	for (int i = 0; i < NPASID_THREADS; i++)
		pthread_join(pas[i], NULL);
	pthread_join(prb, NULL);
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < NDMA_THREADS; i++)
		pthread_join(dma[i], NULL);
	err_assert_none(&w->errs);

	/* The state is what the last operations set. */
	struct sio_attach_handle *got = NULL;

	assert_int_equal(sio_group_device_count(w->group), 1);
	assert_ptr_equal(sio_group_domain(w->group),
			 w->rid_expect ? w->rid_expect : w->def);
	if (w->rid_handle) {
		assert_int_equal(sio_attach_handle_get(w->group, SIO_NO_PASID, 0,
						       &got), 0);
		assert_ptr_equal(got, &w->rid_handle->handle);
	} else {
		assert_int_equal(sio_attach_handle_get(w->group, SIO_NO_PASID, 0,
						       &got), -ENOENT);
	}
	for (int s = 0; s < NPASIDS; s++) {
		assert_ptr_equal(sio_device_pasid_domain(w->stable, slot_pasid(s)),
				 w->pasid_expect[s]);
		if (w->pasid_handle[s]) {
			assert_int_equal(sio_attach_handle_get(w->group, slot_pasid(s),
							       SIO_DOMAIN_PAGING,
							       &got), 0);
			assert_int_equal(sio_container_of(got, struct t_handle,
							  handle)->cookie,
					 (unsigned int)s);
		}
	}
	/* DMA goes where the state says. */
	for (int s = 0; s <= NPASIDS; s++) {
		sio_pasid_t pasid = s == NPASIDS ? SIO_NO_PASID : slot_pasid(s);
		struct sio_domain *d = s == NPASIDS ? w->rid_expect :
						      w->pasid_expect[s];
		unsigned char out[16] = { 0 };
		int rc = sio_dma_read(w->stable, pasid, T_IOVA, out, sizeof(out),
				      NULL);

		if (d) {
			assert_int_equal(rc, 0);
			assert_int_equal(out[15], dom_index(w, d) + 1);
		} else {
			assert_int_equal(rc, s == NPASIDS ? -EPERM : -ENOENT);
		}
	}
	/* Attach counts equal the places each domain is attached. */
	for (int i = 0; i < NDOM; i++) {
		unsigned int n = w->rid_expect == w->dom[i];

		for (int s = 0; s < NPASIDS; s++)
			n += w->pasid_expect[s] == w->dom[i];
		assert_int_equal(sio_domain_attach_count(w->dom[i]), n);
	}

	/* Detach everything: every domain is freeable. */
	sio_detach_group(w->group);
	free(w->rid_handle);
	for (int s = 0; s < NPASIDS; s++) {
		if (w->pasid_expect[s])
			sio_detach_device_pasid(w->pasid_expect[s], w->stable,
						slot_pasid(s));
		free(w->pasid_handle[s]);
	}
	for (int i = 0; i < NDOM; i++) {
		assert_int_equal(sio_domain_attach_count(w->dom[i]), 0);
		assert_int_equal(sio_domain_free(w->dom[i]), 0);
		free(w->buf[i]);
	}
	sio_group_put(w->group);
	t_unprobe(w->stable);
	assert_int_equal(sio_system_destroy(w->sys), 0);
	assert_int_equal(t_pt_bytes(), pt_before);
	pthread_mutex_destroy(&w->ctl);
	free(w);
}

/* ------------------------------------------------------------------ */
/* Domain allocation racing device removal                             */
/* ------------------------------------------------------------------ */

/* Allocators run until they have seen the removal ALLOC_AFTER times (at
 * most ALLOC_MAX_ITERS, a bound that is never reached in practice). */
enum {
	NALLOC_THREADS = 3,
	ALLOC_AFTER = 10,
	ALLOC_MAX_ITERS = 100000,
	ALLOC_ROUNDS = 8,
};

struct rworld {
	struct sio_device *dev;
	struct sio_group *group;
	unsigned int ok;		/* atomic */
	unsigned int enodev;		/* atomic */
	unsigned int want;		/* allocations to let through first */
	int removed;			/* atomic: removal has returned */
	int threads_done;		/* atomic */
	struct errs errs;
};

static void *alloc_thread(void *arg)
{
	struct rworld *w = arg;

	for (int i = 0, seen = 0; i < ALLOC_MAX_ITERS && seen < ALLOC_AFTER; i++) {
		struct sio_domain *d = NULL;
		bool after = __atomic_load_n(&w->removed, __ATOMIC_ACQUIRE);
		int rc = (i & 1) ?
			sio_group_domain_alloc_paging(w->group, 0, NULL, &d) :
			sio_domain_alloc_paging(w->dev, 0, NULL, &d);

		if (rc == 0) {
			CHECK(&w->errs, !after, i);
			CHECK(&w->errs, d != NULL, 0);
			if (d)
				CHECK(&w->errs, sio_domain_free(d) == 0, 0);
			__atomic_add_fetch(&w->ok, 1, __ATOMIC_RELAXED);
		} else {
			CHECK(&w->errs, rc == -ENODEV, rc);
			CHECK(&w->errs, d == NULL, 0);
			__atomic_add_fetch(&w->enodev, 1, __ATOMIC_RELAXED);
		}
		seen += after;
	}
	__atomic_add_fetch(&w->threads_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *remove_thread(void *arg)
{
	struct rworld *w = arg;
	/* Let some allocations through first (bounded by the allocators). */
	while (__atomic_load_n(&w->ok, __ATOMIC_RELAXED) < w->want &&
	       __atomic_load_n(&w->threads_done, __ATOMIC_ACQUIRE) < NALLOC_THREADS)
		sched_yield();
	sio_device_remove(w->dev);
	__atomic_store_n(&w->removed, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_alloc_vs_remove(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_mock(sys, NULL);
	uint64_t pt_before = t_pt_bytes();
	unsigned int total_ok = 0, total_enodev = 0;

	for (int round = 0; round < ALLOC_ROUNDS; round++) {
		struct rworld w = { 0 };
		pthread_t al[NALLOC_THREADS], rm;
		struct sio_domain *d = NULL;

		err_init(&w.errs);
		w.want = (unsigned int)round * 13 % 50;
		w.dev = t_probe(iommu, "victim", 0, 0, 0);
		w.group = t_group(w.dev);
		for (int i = 0; i < NALLOC_THREADS; i++)
			assert_int_equal(pthread_create(&al[i], NULL, alloc_thread,
							&w), 0);
		assert_int_equal(pthread_create(&rm, NULL, remove_thread, &w), 0);
		for (int i = 0; i < NALLOC_THREADS; i++)
			pthread_join(al[i], NULL);
		pthread_join(rm, NULL);
		err_assert_none(&w.errs);
		/* Every thread saw the removal: its last allocations failed. */
		assert_true(w.enodev >= NALLOC_THREADS * ALLOC_AFTER);
		assert_true(w.ok >= w.want);
		total_ok += w.ok;
		total_enodev += w.enodev;

		/* Removed for good. */
		assert_int_equal(sio_domain_alloc_paging(w.dev, 0, NULL, &d), -ENODEV);
		assert_int_equal(sio_group_domain_alloc_paging(w.group, 0, NULL, &d),
				 -ENODEV);
		assert_null(d);
		sio_group_put(w.group);
		sio_device_put(w.dev);
	}
	/* Across the rounds both outcomes happened. */
	assert_true(total_ok > 0);
	assert_true(total_enodev > 0);
	assert_int_equal(t_pt_bytes(), pt_before);
	assert_int_equal(sio_system_destroy(sys), 0);
}

/* ------------------------------------------------------------------ */
/* Map / unmap racing DMA readers                                      */
/* ------------------------------------------------------------------ */

enum {
	MAP_ITERS = 300,
	NREADERS = 3,
	RANGE = 8 * SIO_MOCK_PAGE_SIZE,
	PAT_C = 0xc3,
	POISON = 0xee,
};

struct mworld {
	struct sio_device *dev;
	struct sio_domain *dom;
	/* One buffer per remap of IOVA1, filled before the threads start,
	 * so the only writes racing DMA are the poison after each unmap. */
	unsigned char *bufs[MAP_ITERS];	/* RANGE bytes each */
	unsigned char *c;		/* 4 pages for IOVA2 */
	int stop;			/* atomic */
	unsigned long reads_ok;		/* atomic */
	struct errs errs;
};

#define IOVA1 (T_IOVA + (1u << 20))
#define IOVA2 (T_IOVA + (8u << 20))

static unsigned char buf_pattern(int i)
{
	return (unsigned char)(1 + i % 200);
}

/*
 * Map IOVA1 to a new buffer each time.  Once an unmap has returned no DMA
 * can reach the old buffer any more, so the mapper scribbles over it: a
 * reader that ever sees the poison read through a mapping already gone
 * (and TSan sees the race, since nothing but the grace period orders the
 * reader's copy before the poison).
 */
static void *mapper_thread(void *arg)
{
	struct mworld *w = arg;

	for (int i = 0; i < MAP_ITERS; i++) {
		int rc = sio_map(w->dom, IOVA1, t_pa(w->bufs[i]), RANGE,
				 SIO_PROT_READ | SIO_PROT_WRITE);
		ssize_t n;

		CHECK(&w->errs, rc == 0, rc);
		n = sio_unmap(w->dom, IOVA1, RANGE);
		CHECK(&w->errs, n == RANGE, n);
		memset(w->bufs[i], POISON, RANGE);
	}
	return NULL;
}

/* Another range of the same domain, in pieces. */
static void *mapper2_thread(void *arg)
{
	struct mworld *w = arg;

	for (int i = 0; i < MAP_ITERS; i++) {
		for (int p = 0; p < 4; p++)
			CHECK(&w->errs, sio_map(w->dom, IOVA2 + p * T_PG,
						t_pa(w->c) + p * T_PG, T_PG,
						SIO_PROT_READ) == 0, p);
		CHECK(&w->errs, sio_map(w->dom, IOVA2, t_pa(w->c), T_PG,
					SIO_PROT_READ) == -EEXIST, 0);
		CHECK(&w->errs, sio_unmap(w->dom, IOVA2, 4 * T_PG) == 4 * T_PG, 0);
	}
	return NULL;
}

static void *reader_thread(void *arg)
{
	struct mworld *w = arg;
	unsigned int seed = (unsigned int)(uintptr_t)&seed;
	unsigned char out[300];

	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		unsigned int r = rnd(&seed);
		bool second = r & 1;
		uint64_t iova = second ? IOVA2 + (r >> 4) % (4 * T_PG - sizeof(out)) :
					 IOVA1 + (r >> 4) % (RANGE - sizeof(out));
		struct sio_dma_fault f;
		int rc = sio_dma_read(w->dev, SIO_NO_PASID, iova, out, sizeof(out),
				      &f);

		if (rc) {
			CHECK(&w->errs, rc == -EFAULT &&
				       f.reason == SIO_FAULT_NOT_MAPPED, rc);
			continue;
		}
		if (second) {
			for (size_t i = 0; i < sizeof(out); i++)
				CHECK(&w->errs, out[i] == PAT_C, out[i]);
		} else {
			CHECK(&w->errs, out[0] != POISON && out[0] >= 1 &&
				       out[0] <= buf_pattern(199), out[0]);
			for (size_t i = 1; i < sizeof(out); i++)
				CHECK(&w->errs, out[i] == out[0], out[i]);
		}
		__atomic_add_fetch(&w->reads_ok, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_map_vs_dma(void **state)
{
	struct sio_system *sys = t_system();
	struct sio_iommu *iommu = t_mock(sys, NULL);
	struct mworld w = { 0 };
	pthread_t m1, m2, rd[NREADERS];
	struct sio_group *group;
	uint64_t pt_before = t_pt_bytes();

	err_init(&w.errs);
	w.dev = t_probe(iommu, "dev", 0, 0, 0);
	group = t_group(w.dev);
	w.dom = t_paging(w.dev, 0);
	assert_int_equal(sio_attach_group(w.dom, group, NULL), 0);
	for (int i = 0; i < MAP_ITERS; i++) {
		w.bufs[i] = t_buf(RANGE, T_PG);
		memset(w.bufs[i], buf_pattern(i), RANGE);
	}
	w.c = t_buf(4 * T_PG, T_PG);
	memset(w.c, PAT_C, 4 * T_PG);

	for (int i = 0; i < NREADERS; i++)
		assert_int_equal(pthread_create(&rd[i], NULL, reader_thread, &w), 0);
	assert_int_equal(pthread_create(&m1, NULL, mapper_thread, &w), 0);
	assert_int_equal(pthread_create(&m2, NULL, mapper2_thread, &w), 0);
	pthread_join(m1, NULL);
	pthread_join(m2, NULL);
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(rd[i], NULL);
	err_assert_none(&w.errs);

	/* Everything was unmapped again. */
	assert_int_equal(sio_iova_to_phys(w.dom, IOVA1), 0);
	assert_int_equal(sio_iova_to_phys(w.dom, IOVA2), 0);
	sio_detach_group(group);
	assert_int_equal(sio_domain_free(w.dom), 0);
	sio_group_put(group);
	t_unprobe(w.dev);
	assert_int_equal(sio_system_destroy(sys), 0);
	assert_int_equal(t_pt_bytes(), pt_before);
	for (int i = 0; i < MAP_ITERS; i++)
		free(w.bufs[i]);
	free(w.c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_race),
		cmocka_unit_test(test_alloc_vs_remove),
		cmocka_unit_test(test_map_vs_dma),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
