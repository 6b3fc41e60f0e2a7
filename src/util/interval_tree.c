/*
 * The augmented AVL interval tree of interval_tree.h.
 *
 * Order: by start, then by node address, so equal intervals may coexist and
 * a node is always found again by its own key.  Every node caches the
 * largest "last" in its subtree, which lets a search skip any subtree that
 * ends before the range it looks for.  Insert and remove are recursive
 * (the depth of an AVL tree is at most ~1.44 log2 n) and rebalance on the
 * way back up, fixing the cached maximum of every node they pass.
 */
#include "util/interval_tree.h"

static int height(const struct sio_itree_node *n)
{
	return n ? n->height : 0;
}

static void update(struct sio_itree_node *n)
{
	int hl = height(n->left), hr = height(n->right);
	uint64_t m = n->last;

	n->height = (hl > hr ? hl : hr) + 1;
	if (n->left && n->left->subtree_last > m)
		m = n->left->subtree_last;
	if (n->right && n->right->subtree_last > m)
		m = n->right->subtree_last;
	n->subtree_last = m;
}

static struct sio_itree_node *rot_right(struct sio_itree_node *n)
{
	struct sio_itree_node *l = n->left;

	n->left = l->right;
	l->right = n;
	update(n);
	update(l);
	return l;
}

static struct sio_itree_node *rot_left(struct sio_itree_node *n)
{
	struct sio_itree_node *r = n->right;

	n->right = r->left;
	r->left = n;
	update(n);
	update(r);
	return r;
}

static struct sio_itree_node *balance(struct sio_itree_node *n)
{
	int bf;

	update(n);
	bf = height(n->left) - height(n->right);
	if (bf > 1) {
		if (height(n->left->left) < height(n->left->right))
			n->left = rot_left(n->left);
		return rot_right(n);
	}
	if (bf < -1) {
		if (height(n->right->right) < height(n->right->left))
			n->right = rot_right(n->right);
		return rot_left(n);
	}
	return n;
}

/* a < b in tree order */
static bool less(const struct sio_itree_node *a, const struct sio_itree_node *b)
{
	if (a->start != b->start)
		return a->start < b->start;
	return (uintptr_t)a < (uintptr_t)b;
}

static struct sio_itree_node *insert(struct sio_itree_node *root,
				     struct sio_itree_node *node)
{
	if (!root)
		return node;
	if (less(node, root))
		root->left = insert(root->left, node);
	else
		root->right = insert(root->right, node);
	return balance(root);
}

void sio_itree_insert(struct sio_itree *t, struct sio_itree_node *node)
{
	node->left = node->right = NULL;
	node->height = 1;
	node->subtree_last = node->last;
	t->root = insert(t->root, node);
	t->count++;
}

/* Detach the minimum of a subtree into *min; returns the new subtree. */
static struct sio_itree_node *remove_min(struct sio_itree_node *n,
					 struct sio_itree_node **min)
{
	if (!n->left) {
		*min = n;
		return n->right;
	}
	n->left = remove_min(n->left, min);
	return balance(n);
}

static struct sio_itree_node *remove_node(struct sio_itree_node *root,
					  struct sio_itree_node *node,
					  bool *found)
{
	if (!root)
		return NULL;
	if (root == node) {
		struct sio_itree_node *min;

		*found = true;
		if (!root->right)
			return root->left;
		root->right = remove_min(root->right, &min);
		min->left = root->left;
		min->right = root->right;
		return balance(min);
	}
	if (less(node, root))
		root->left = remove_node(root->left, node, found);
	else
		root->right = remove_node(root->right, node, found);
	return balance(root);
}

void sio_itree_remove(struct sio_itree *t, struct sio_itree_node *node)
{
	bool found = false;

	t->root = remove_node(t->root, node, &found);
	if (found)
		t->count--;
}

/*
 * The first node in tree order that intersects [start, last] and, when
 * after is not NULL, comes strictly after it.
 */
static struct sio_itree_node *first_from(struct sio_itree_node *n,
					 const struct sio_itree_node *after,
					 uint64_t start, uint64_t last)
{
	struct sio_itree_node *res;

	if (!n || n->subtree_last < start)
		return NULL;
	if (after && !less(after, n))
		/* n and its left subtree are not after "after". */
		return first_from(n->right, after, start, last);
	res = first_from(n->left, after, start, last);
	if (res)
		return res;
	if (n->start > last)
		return NULL;
	if (n->last >= start)
		return n;
	return first_from(n->right, after, start, last);
}

struct sio_itree_node *sio_itree_iter_first(const struct sio_itree *t,
					    uint64_t start, uint64_t last)
{
	return first_from(t->root, NULL, start, last);
}

struct sio_itree_node *sio_itree_iter_next(const struct sio_itree *t,
					   const struct sio_itree_node *node,
					   uint64_t start, uint64_t last)
{
	return first_from(t->root, node, start, last);
}

/* Spans ---------------------------------------------------------------- */

static bool point_max_last(const struct sio_itree *t, uint64_t pos,
			   uint64_t *max)
{
	struct sio_itree_node *n;
	bool any = false;

	if (!t)
		return false;
	sio_itree_for_each(n, t, pos, pos) {
		if (!any || n->last > *max)
			*max = n->last;
		any = true;
	}
	return any;
}

static void span_fill(struct sio_itree_span *sp, uint64_t pos)
{
	uint64_t end, m;
	bool covered = false;

	sp->start = pos;
	end = pos;
	/* Extend the used piece while some interval covers its next byte. */
	for (;;) {
		bool any = false;
		uint64_t best = 0;

		for (int i = 0; i < 2; i++) {
			if (point_max_last(sp->trees[i], pos, &m)) {
				if (!any || m > best)
					best = m;
				any = true;
			}
		}
		if (!any)
			break;
		covered = true;
		end = best;
		if (end >= sp->last_index || end == UINT64_MAX)
			break;
		pos = end + 1;
	}
	if (covered) {
		sp->is_hole = false;
		sp->last = end < sp->last_index ? end : sp->last_index;
		return;
	}
	/* A hole: up to the next interval that starts in the range. */
	sp->is_hole = true;
	sp->last = sp->last_index;
	for (int i = 0; i < 2; i++) {
		struct sio_itree_node *n;

		if (!sp->trees[i])
			continue;
		n = sio_itree_iter_first(sp->trees[i], sp->start, sp->last_index);
		if (n && n->start - 1 < sp->last)
			sp->last = n->start - 1;
	}
}

void sio_itree_span_first(struct sio_itree_span *sp, const struct sio_itree *a,
			  const struct sio_itree *b, uint64_t first,
			  uint64_t last)
{
	sp->trees[0] = a;
	sp->trees[1] = b;
	sp->first_index = first;
	sp->last_index = last;
	sp->done = first > last;
	if (!sp->done)
		span_fill(sp, first);
}

void sio_itree_span_next(struct sio_itree_span *sp)
{
	if (sp->done)
		return;
	if (sp->last >= sp->last_index) {
		sp->done = true;
		return;
	}
	span_fill(sp, sp->last + 1);
}
