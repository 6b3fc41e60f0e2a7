/*
 * The augmented AVL interval tree of interval_tree.h.
 *
 * Order: by start, then by node address, so equal intervals may coexist and
 * a node is always found again by its own key.  Every node caches the
 * largest "last" in its subtree, which lets a search skip any subtree that
 * ends before the range it looks for.  Insert and remove walk down once,
 * keeping the path on the stack, then rebalance and recompute back up the
 * path only while something changes: once a subtree keeps the height and
 * the maximum its place had, the nodes above it are left untouched (an
 * insert stops at its one rotation at the latest; at random places in a
 * large tree most inserts and removes rewrite a few nodes, not the whole
 * path, but at either end of a tree every node of the path changes
 * height).
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

/*
 * The path from the root down to a change: node[i] is the node at depth i.
 * An AVL tree of n nodes is at most ~1.44 log2(n + 2) deep, under 96 for
 * any n an address space can hold.
 */
#define ITREE_MAX_DEPTH 96

struct itree_path {
	struct sio_itree_node *node[ITREE_MAX_DEPTH];
	int depth;			/* entries in node[] */
};

/* Put n where old was, at depth i of the path. */
static void link_at(struct sio_itree *t, struct itree_path *p, int i,
		    const struct sio_itree_node *old, struct sio_itree_node *n)
{
	if (i == 0)
		t->root = n;
	else if (p->node[i - 1]->left == old)
		p->node[i - 1]->left = n;
	else
		p->node[i - 1]->right = n;
}

/*
 * Rebalance and recompute the path's nodes from the deepest up.  The nodes
 * above a subtree read only its height and its maximum, so once a subtree
 * (rotated or not) ends with the height and maximum its position had
 * before, nothing above it changes and the walk stops.  must_reach is a
 * depth the walk goes up to whatever it finds below it (a node whose own
 * interval changed, see sio_itree_remove), or -1.
 */
static void fix_path(struct sio_itree *t, struct itree_path *p, int must_reach)
{
	/* Once a subtree's maximum came out unchanged, no maximum above it
	 * changes either (each reads only its one changed child's), except
	 * at must_reach, whose own interval changed: the maxima are then
	 * read back rather than recomputed, while the heights go on up. */
	bool max_fixed = false;

	for (int i = p->depth - 1; i >= 0; i--) {
		struct sio_itree_node *n = p->node[i], *l = n->left,
				      *r = n->right, *nn;
		int hl = l ? l->height : 0, hr = r ? r->height : 0, h;
		uint64_t m;

		if (__builtin_expect(hl - hr > 1 || hr - hl > 1, 0)) {
			int old_h = n->height;
			uint64_t old_m = n->subtree_last;

			nn = balance(n);
			link_at(t, p, i, n, nn);
			/* The rotation recomputed the place's maximum (at
			 * must_reach too, against the one the place had). */
			max_fixed = nn->subtree_last == old_m;
			if (nn->height != old_h || nn->subtree_last != old_m ||
			    (i > must_reach && must_reach >= 0))
				continue;
			return;
		}
		/* Balanced: recompute in place, written only if it changed. */
		h = (hl > hr ? hl : hr) + 1;
		if (i == must_reach)
			max_fixed = false;
		if (max_fixed) {
			m = n->subtree_last;
		} else {
			m = n->last;
			if (l && l->subtree_last > m)
				m = l->subtree_last;
			if (r && r->subtree_last > m)
				m = r->subtree_last;
			max_fixed = m == n->subtree_last;
		}
		if (h != n->height || m != n->subtree_last) {
			n->height = h;
			n->subtree_last = m;
			continue;
		}
		if (i <= must_reach || must_reach < 0)
			return;
		/* Unchanged up to must_reach: only it is left. */
		i = must_reach + 1;
	}
}

static void insert_walk(struct sio_itree *t, struct sio_itree_node *node);

void sio_itree_insert(struct sio_itree *t, struct sio_itree_node *node)
{
	node->left = node->right = NULL;
	node->height = 1;
	node->subtree_last = node->last;
	/* Into an empty tree: no walk, and none of its stack to set up. */
	if (!t->root) {
		t->root = node;
		t->count++;
		return;
	}
	insert_walk(t, node);
}

static __attribute__((noinline)) void insert_walk(struct sio_itree *t,
						   struct sio_itree_node *node)
{
	struct itree_path p;
	struct sio_itree_node *n = t->root, **link = &t->root;

	p.depth = 0;
	/* Branches, not a select: a path that repeats (maps at the same
	 * place) is predicted and its loads start ahead. */
	while (n) {
		p.node[p.depth++] = n;
		link = less(node, n) ? &n->left : &n->right;
		n = *link;
	}
	*link = node;
	t->count++;
	fix_path(t, &p, -1);
}

static void remove_walk(struct sio_itree *t, struct sio_itree_node *node);

void sio_itree_remove(struct sio_itree *t, struct sio_itree_node *node)
{
	/* The root alone (a table with one mapping): nothing to walk, and
	 * none of the walk's stack to set up. */
	if (t->root == node && !node->left && !node->right) {
		t->root = NULL;
		t->count--;
		return;
	}
	remove_walk(t, node);
}

static __attribute__((noinline)) void remove_walk(struct sio_itree *t,
						   struct sio_itree_node *node)
{
	struct itree_path p;
	struct sio_itree_node *n = t->root, *s;
	int k;

	p.depth = 0;
	while (n && n != node) {
		p.node[p.depth++] = n;
		n = less(node, n) ? n->left : n->right;
	}
	if (!n)
		return;
	t->count--;
	k = p.depth;
	if (!node->left || !node->right) {
		/* Its one child's subtree is whole: it takes node's place. */
		link_at(t, &p, k, node, node->left ? node->left : node->right);
		if (k)
			fix_path(t, &p, -1);
		return;
	}
	/*
	 * Two children: the successor s (the leftmost of the right subtree)
	 * takes node's place, with node's height and maximum as the values
	 * that place had, so the walk compares against them.  s's own
	 * interval is not node's, so the walk must reach depth k even when
	 * the subtree below stopped changing.
	 */
	p.node[p.depth++] = node;
	for (s = node->right; s->left; s = s->left)
		p.node[p.depth++] = s;
	link_at(t, &p, p.depth, s, s->right);
	s->left = node->left;
	s->right = node->right;
	s->height = node->height;
	s->subtree_last = node->subtree_last;
	p.node[k] = s;
	link_at(t, &p, k, node, s);
	fix_path(t, &p, k);
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

/*
 * The first lookup walks down without recursion.  At each node: when the
 * left subtree holds an interval ending at or after start, the answer (if
 * any) is there, since either that interval intersects the range or it
 * starts after last, and then so does everything after it in tree order.
 * Otherwise the node itself, then its right subtree, are the candidates.
 */
struct sio_itree_node *sio_itree_iter_first(const struct sio_itree *t,
					    uint64_t start, uint64_t last)
{
	struct sio_itree_node *n = t->root;

	if (!n || n->subtree_last < start)
		return NULL;
	for (;;) {
		struct sio_itree_node *l = n->left;

		if (l && l->subtree_last >= start) {
			n = l;
			continue;
		}
		if (n->start > last)
			return NULL;
		if (n->last >= start)
			return n;
		n = n->right;
		if (!n || n->subtree_last < start)
			return NULL;
	}
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
