/*
 * An augmented interval tree: closed intervals [start, last] of uint64_t,
 * overlapping allowed, kept in an AVL tree ordered by start (ties broken by
 * node address) with each node caching the largest "last" of its subtree.
 * Lookups of the first interval intersecting a range, and the next one after
 * a given node, take O(log n + k); insert and remove O(log n).
 *
 * This is the one interval tree of the library (the kernel's
 * <linux/interval_tree.h>).  Nodes are embedded in the caller's structures
 * (sio_container_of gets back to them); the tree never allocates.  It has no
 * lock: the owner of the tree serializes every call.
 *
 * The span iterator walks a range and reports it as alternating "used"
 * (covered by at least one interval of any of up to two trees) and "hole"
 * pieces, as the kernel's interval_tree_span_iter and double_span iter do.
 */
#ifndef SIO_UTIL_INTERVAL_TREE_H
#define SIO_UTIL_INTERVAL_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sio_itree_node {
	uint64_t start;
	uint64_t last;			/* inclusive */
	/* private */
	uint64_t subtree_last;
	struct sio_itree_node *left, *right;
	int height;
};

struct sio_itree {
	struct sio_itree_node *root;
	size_t count;
};

#define SIO_ITREE_INIT { NULL, 0 }

static inline bool sio_itree_empty(const struct sio_itree *t)
{
	return t->root == NULL;
}

/* node->start and node->last must be set; start <= last. */
void sio_itree_insert(struct sio_itree *t, struct sio_itree_node *node);
void sio_itree_remove(struct sio_itree *t, struct sio_itree_node *node);

/* The intersecting interval with the lowest start, or NULL. */
struct sio_itree_node *sio_itree_iter_first(const struct sio_itree *t,
					    uint64_t start, uint64_t last);
/* The next intersecting interval after node (in tree order), or NULL. */
struct sio_itree_node *sio_itree_iter_next(const struct sio_itree *t,
					   const struct sio_itree_node *node,
					   uint64_t start, uint64_t last);

#define sio_itree_for_each(pos, tree, s, l)                                  \
	for ((pos) = sio_itree_iter_first((tree), (s), (l)); (pos);          \
	     (pos) = sio_itree_iter_next((tree), (pos), (s), (l)))

/*
 * Span iteration over [first, last] of the union of one or two trees:
 *   for (sio_itree_span_first(&sp, a, b, first, last);
 *        !sio_itree_span_done(&sp); sio_itree_span_next(&sp))
 *       sp.is_hole ? [sp.start, sp.last] is a hole : ... is used
 * b may be NULL.
 */
struct sio_itree_span {
	const struct sio_itree *trees[2];
	uint64_t first_index, last_index;
	uint64_t start, last;		/* the current piece */
	bool is_hole;
	bool done;
};

void sio_itree_span_first(struct sio_itree_span *sp, const struct sio_itree *a,
			  const struct sio_itree *b, uint64_t first,
			  uint64_t last);
void sio_itree_span_next(struct sio_itree_span *sp);
static inline bool sio_itree_span_done(const struct sio_itree_span *sp)
{
	return sp->done;
}

#endif
