/*
 * The lock-free 20-bit ID map (see idmap.h).
 */
#include "pasid/idmap.h"

#include <errno.h>
#include <stdlib.h>

#include "util/rcu.h"
#include "util/fail.h"

void idmap_destroy(struct idmap *m)
{
	if (!m->dir)
		return;
	for (uint32_t i = 0; i < IDMAP_DIR_SLOTS; i++)
		free(m->dir[i]);
	free(m->dir);
	m->dir = NULL;
}

void *idmap_load(const struct idmap *m, uint32_t id)
{
	struct idmap_leaf **dir, *leaf;

	if (id >> 20)
		return NULL;
	dir = sio_rcu_deref(m->dir);
	if (!dir)
		return NULL;
	leaf = sio_rcu_deref(dir[id >> IDMAP_LEAF_BITS]);
	return leaf ? sio_rcu_deref(leaf->slot[id & (IDMAP_LEAF_SLOTS - 1)]) :
		      NULL;
}

int idmap_store(struct idmap *m, uint32_t id, void *value)
{
	struct idmap_leaf *leaf;

	if (id >> 20)
		return -EINVAL;
	if (!m->dir) {
		struct idmap_leaf **dir;

		if (!value)
			return 0;
		dir = sio_calloc(IDMAP_DIR_SLOTS, sizeof(*dir));
		if (!dir)
			return -ENOMEM;
		sio_rcu_assign(m->dir, dir);
	}
	leaf = m->dir[id >> IDMAP_LEAF_BITS];
	if (!leaf) {
		if (!value)
			return 0;
		leaf = sio_calloc(1, sizeof(*leaf));
		if (!leaf)
			return -ENOMEM;
		sio_rcu_assign(m->dir[id >> IDMAP_LEAF_BITS], leaf);
	}
	sio_rcu_assign(leaf->slot[id & (IDMAP_LEAF_SLOTS - 1)], value);
	return 0;
}

int idmap_store_id(struct idmap *m, uint32_t key, uint32_t id)
{
	return idmap_store(m, key, (void *)((uintptr_t)id + 1));
}

int idmap_lookup_id(const struct idmap *m, uint32_t key, uint32_t *id)
{
	void *v;

	sio_rcu_read_lock();
	v = idmap_load(m, key);
	sio_rcu_read_unlock();
	if (!v)
		return -ENOENT;
	*id = (uint32_t)((uintptr_t)v - 1);
	return 0;
}

void idmap_for_each(struct idmap *m, void (*fn)(uint32_t id, void *value,
						void *arg),
		    void *arg)
{
	if (!m->dir)
		return;
	for (uint32_t i = 0; i < IDMAP_DIR_SLOTS; i++) {
		struct idmap_leaf *leaf = m->dir[i];

		if (!leaf)
			continue;
		for (uint32_t j = 0; j < IDMAP_LEAF_SLOTS; j++)
			if (leaf->slot[j])
				fn(i << IDMAP_LEAF_BITS | j, leaf->slot[j], arg);
	}
}
