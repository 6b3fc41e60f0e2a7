/*
 * The interval tree (util/interval_tree.c): after every insert and remove
 * of random workloads the tree must be an AVL tree (each node's height one
 * more than its taller child's, children's heights at most 1 apart), in
 * order (by start, then by node address), with each node's cached maximum
 * the largest "last" of its subtree, and holding exactly the live nodes.
 * Insert and remove stop walking up once a subtree keeps its height and
 * maximum; the workloads below make that stop happen on most operations
 * (large trees, removes of leaves and of inner nodes, of the node holding
 * the maximum, of a node whose successor is deep) and every invariant is
 * checked each time, so a stop that leaves a stale height or maximum above
 * it fails here.  Lookups are checked against a plain scan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/interval_tree.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible from the seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

struct item {
	struct sio_itree_node node;
	bool live;
};

/* Checks the subtree of n; returns its node count, sets *h and *max. */
static size_t check_subtree(const struct sio_itree_node *n,
			    const struct sio_itree_node *lo,
			    const struct sio_itree_node *hi, int *h,
			    uint64_t *max)
{
	int hl = 0, hr = 0;
	uint64_t ml = 0, mr = 0, m;
	size_t cnt;

	if (!n) {
		*h = 0;
		*max = 0;
		return 0;
	}
	assert_true(n->start <= n->last);
	/* In order: strictly between lo and hi in (start, address). */
	if (lo)
		assert_true(lo->start < n->start ||
			    (lo->start == n->start &&
			     (uintptr_t)lo < (uintptr_t)n));
	if (hi)
		assert_true(n->start < hi->start ||
			    (n->start == hi->start &&
			     (uintptr_t)n < (uintptr_t)hi));
	cnt = 1 + check_subtree(n->left, lo, n, &hl, &ml) +
	      check_subtree(n->right, n, hi, &hr, &mr);
	assert_int_equal(n->height, (hl > hr ? hl : hr) + 1);
	assert_true(hl - hr <= 1 && hr - hl <= 1);
	m = n->last;
	if (n->left && ml > m)
		m = ml;
	if (n->right && mr > m)
		m = mr;
	assert_true(n->subtree_last == m);
	*h = n->height;
	*max = m;
	return cnt;
}

static void check_tree(const struct sio_itree *t, size_t live)
{
	int h;
	uint64_t m;

	assert_int_equal(check_subtree(t->root, NULL, NULL, &h, &m), live);
	assert_int_equal(t->count, live);
	assert_int_equal(sio_itree_empty(t), live == 0);
}

/* Every intersecting live item, in tree order, and only those. */
static void check_lookup(const struct sio_itree *t, struct item *items,
			 size_t n, uint64_t start, uint64_t last)
{
	struct sio_itree_node *pos, *prev = NULL;
	size_t want = 0, got = 0;

	for (size_t i = 0; i < n; i++)
		if (items[i].live && items[i].node.start <= last &&
		    items[i].node.last >= start)
			want++;
	sio_itree_for_each(pos, t, start, last) {
		struct item *it = (struct item *)((char *)pos -
						  offsetof(struct item, node));

		assert_true(it->live);
		assert_true(pos->start <= last && pos->last >= start);
		if (prev)
			assert_true(prev->start < pos->start ||
				    (prev->start == pos->start &&
				     (uintptr_t)prev < (uintptr_t)pos));
		prev = pos;
		got++;
	}
	assert_int_equal(got, want);
}

/*
 * n items over [0, span): random inserts and removes with every invariant
 * checked after each; len_max bounds an interval's length, so a few long
 * ones hold the maxima and removing them changes maxima far up.
 */
static void random_workload(uint64_t seed, size_t n, uint64_t span,
			    uint64_t len_max, size_t ops, size_t check_every)
{
	struct sio_itree t = SIO_ITREE_INIT;
	struct item *items = calloc(n, sizeof(*items));
	size_t live = 0;

	assert_non_null(items);
	rng_state = seed;
	for (size_t op = 0; op < ops; op++) {
		struct item *it = &items[rnd() % n];

		if (it->live) {
			sio_itree_remove(&t, &it->node);
			it->live = false;
			live--;
		} else {
			it->node.start = rnd() % span;
			it->node.last = it->node.start + rnd() % len_max;
			sio_itree_insert(&t, &it->node);
			it->live = true;
			live++;
		}
		if (op % check_every == 0) {
			uint64_t s = rnd() % span;

			check_tree(&t, live);
			check_lookup(&t, items, n, s, s + rnd() % (len_max * 2));
		}
	}
	check_tree(&t, live);
	/* Empty it, checking as it shrinks. */
	for (size_t i = 0; i < n; i++) {
		if (!items[i].live)
			continue;
		sio_itree_remove(&t, &items[i].node);
		items[i].live = false;
		live--;
		if (i % check_every == 0)
			check_tree(&t, live);
	}
	check_tree(&t, 0);
	assert_null(t.root);
	free(items);
}

static void test_small_trees(void **state)
{
	(void)state;
	/* Small trees, every op checked: all shapes of rotations. */
	for (uint64_t seed = 1; seed <= 200; seed++)
		random_workload(seed, 1 + seed % 24, 64, 16, 400, 1);
}

static void test_duplicates(void **state)
{
	(void)state;
	/* Many equal starts and equal intervals: the address breaks ties. */
	for (uint64_t seed = 1; seed <= 50; seed++)
		random_workload(seed * 7919, 64, 4, 3, 2000, 1);
}

static void test_large_tree(void **state)
{
	(void)state;
	/* Deep trees, where most walks stop early. */
	random_workload(0x5eed, 4096, 1u << 20, 64, 40000, 1);
	random_workload(0xfeed, 20000, 1ull << 40, 1ull << 30, 60000, 97);
}

/*
 * Removing the node that holds the maximum, from the middle of a tree
 * whose heights do not change: the walk must still carry the new maximum
 * up to the root.
 */
static void test_remove_max_holder(void **state)
{
	struct sio_itree t = SIO_ITREE_INIT;
	struct item items[255];

	(void)state;
	memset(items, 0, sizeof(items));
	for (size_t i = 0; i < 255; i++) {
		items[i].node.start = i * 16;
		items[i].node.last = i * 16 + 15;
		sio_itree_insert(&t, &items[i].node);
		items[i].live = true;
	}
	check_tree(&t, 255);
	for (size_t k = 0; k < 255; k += 17) {
		/* Give item k the largest last, then remove it: the root's
		 * maximum must fall back. */
		sio_itree_remove(&t, &items[k].node);
		items[k].node.last = UINT64_MAX - k;
		sio_itree_insert(&t, &items[k].node);
		check_tree(&t, 255);
		assert_true(t.root->subtree_last == UINT64_MAX - k);
		sio_itree_remove(&t, &items[k].node);
		check_tree(&t, 254);
		assert_true(t.root->subtree_last < UINT64_MAX - 255);
		items[k].node.last = items[k].node.start + 15;
		sio_itree_insert(&t, &items[k].node);
		check_tree(&t, 255);
	}
	/* An inner node with two children, removed: its successor takes its
	 * place and must not keep its maximum. */
	for (int round = 0; round < 8; round++) {
		struct sio_itree_node *r = t.root;

		assert_non_null(r->left);
		assert_non_null(r->right);
		sio_itree_remove(&t, r);
		r->last = UINT64_MAX;
		sio_itree_insert(&t, r);
		check_tree(&t, 255);
		assert_true(t.root->subtree_last == UINT64_MAX);
		sio_itree_remove(&t, r);
		check_tree(&t, 254);
		assert_true(t.root->subtree_last != UINT64_MAX);
		r->last = r->start + 15;
		sio_itree_insert(&t, r);
		check_tree(&t, 255);
	}
	/* Removing a node that is not in the tree changes nothing. */
	{
		struct sio_itree_node stray = { .start = 40, .last = 41 };

		sio_itree_remove(&t, &stray);
		check_tree(&t, 255);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_trees),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_large_tree),
		cmocka_unit_test(test_remove_max_holder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
