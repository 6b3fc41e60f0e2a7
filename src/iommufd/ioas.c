/*
 * IOAS objects and their ioctls (the kernel's ioas.c): ALLOC, IOVA_RANGES,
 * ALLOW_IOVAS, MAP, MAP_FILE, COPY, UNMAP and the per-IOAS option
 * HUGE_PAGES, and CHANGE_PROCESS.
 *
 * An IOAS is an io_pagetable plus the list of its paging HWPTs (whose
 * domains the table keeps filled).  The handlers only check arguments in
 * the kernel's order and translate flags; io_pagetable.c does the work.
 */
#include <stdlib.h>

#include "iommufd/iommufd_private.h"
#include "umem/remote.h"

struct iommufd_ioas *iommufd_get_ioas(struct sio_iommufd *ictx, uint32_t id,
				      int *err)
{
	struct iommufd_object *obj = iommufd_get_object(ictx, id,
							IOMMUFD_OBJ_IOAS, err);

	return obj ? to_ioas(obj) : NULL;
}

struct iommufd_ioas *iommufd_hold_ioas(struct sio_iommufd *ictx, uint32_t id,
				       bool *held, int *err)
{
	struct iommufd_object *obj = iommufd_hold_object(ictx, id,
							 IOMMUFD_OBJ_IOAS,
							 held, err);

	return obj ? to_ioas(obj) : NULL;
}

struct iommufd_ioas *iommufd_ioas_alloc(struct sio_iommufd *ictx, int *err)
{
	struct iommufd_object *obj;
	struct iommufd_ioas *ioas;

	obj = iommufd_object_alloc(ictx, sizeof(*ioas), IOMMUFD_OBJ_IOAS, err);
	if (!obj)
		return NULL;
	ioas = to_ioas(obj);
	iopt_init_table(&ioas->iopt, ictx->host);
	pthread_mutex_init(&ioas->mutex, NULL);
	CDS_INIT_LIST_HEAD(&ioas->hwpt_list);
	return ioas;
}

void iommufd_ioas_destroy(struct iommufd_object *obj)
{
	struct iommufd_ioas *ioas = to_ioas(obj);

	iopt_unmap_all(&ioas->iopt, NULL);
	iopt_destroy_table(&ioas->iopt);
	pthread_mutex_destroy(&ioas->mutex);
}

int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_alloc *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->flags)
		return sio_err(-EOPNOTSUPP,
			       "IOMMU_IOAS_ALLOC: unknown flags %#x", cmd->flags);
	ioas = iommufd_ioas_alloc(ucmd->ictx, &rc);
	if (!ioas)
		return rc;
	cmd->out_ioas_id = ioas->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		iommufd_object_abort_and_destroy(ucmd->ictx, &ioas->obj);
		return rc;
	}
	iommufd_object_finalize(ucmd->ictx, &ioas->obj);
	return 0;
}

struct ranges_out {
	struct sio_umem_owner *owner;
	uint64_t uptr;
	uint32_t max, num;
};

static int put_range(uint64_t start, uint64_t last, void *arg)
{
	struct ranges_out *o = arg;

	if (o->num < o->max) {
		struct iommu_iova_range elm = { .start = start, .last = last };

		if (sio_umem_write(o->owner,
				   o->uptr + (uint64_t)o->num * sizeof(elm),
				   &elm, sizeof(elm)))
			return sio_err(-EFAULT,
				       "IOMMU_IOAS_IOVA_RANGES: allowed_iovas not writable");
	}
	o->num++;
	return 0;
}

int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_iova_ranges *cmd = ucmd->cmd;
	struct ranges_out o = { 0 };
	struct iommufd_ioas *ioas;
	uint64_t align;
	int rc;

	if (cmd->__reserved)
		return sio_err(-EOPNOTSUPP,
			       "IOMMU_IOAS_IOVA_RANGES: reserved field set");
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id, &rc);
	if (!ioas)
		return rc;
	o.owner = ucmd->ictx->host->owner;
	o.uptr = cmd->allowed_iovas;
	o.max = cmd->num_iovas;
	rc = iopt_for_each_iova_range(&ioas->iopt, put_range, &o, &align);
	if (rc)
		goto out_put;
	cmd->num_iovas = o.num;
	cmd->out_iova_alignment = align;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_put;
	/* Too small an array: the count is out, the call fails. */
	if (o.num > o.max)
		rc = sio_err(-EMSGSIZE,
			     "IOMMU_IOAS_IOVA_RANGES: %u ranges, room for %u", o.num, o.max);
out_put:
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_allow_iovas *cmd = ucmd->cmd;
	struct iommu_iova_range *ranges = NULL;
	struct sio_itree seen = SIO_ITREE_INIT;
	struct sio_itree_node *node;
	struct iommufd_ioas *ioas;
	uint32_t cap = 0;
	int rc = 0;

	if (cmd->__reserved)
		return sio_err(-EOPNOTSUPP,
			       "IOMMU_IOAS_ALLOW_IOVAS: reserved field set");
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id, &rc);
	if (!ioas)
		return rc;
	/* Loaded one by one as the kernel does: the first fault, empty or
	 * overlapping range stops the load.  Memory grows with what was
	 * read, never with what num_iovas claims (a huge count with a short
	 * array is -EFAULT, as in the kernel, not a huge allocation). */
	for (uint32_t i = 0; i < cmd->num_iovas; i++) {
		struct iommu_iova_range range;

		if (sio_umem_read(ucmd->ictx->host->owner, &range,
				  cmd->allowed_iovas + (uint64_t)i * sizeof(range),
				  sizeof(range))) {
			rc = sio_err(-EFAULT,
				     "IOMMU_IOAS_ALLOW_IOVAS: allowed_iovas[%u] not readable", i);
			goto out_free;
		}
		if (range.start >= range.last ||
		    sio_itree_iter_first(&seen, range.start, range.last)) {
			rc = sio_err(-EINVAL,
				     "IOMMU_IOAS_ALLOW_IOVAS: range %u empty or overlapping", i);
			goto out_free;
		}
		if (i == cap) {
			uint32_t ncap = cap ? cap * 2 : 16;
			struct iommu_iova_range *n;

			if (ncap > cmd->num_iovas)
				ncap = cmd->num_iovas;
			n = sio_realloc(ranges, (size_t)ncap * sizeof(*ranges));
			if (!n) {
				rc = sio_err(-ENOMEM,
					     "IOMMU_IOAS_ALLOW_IOVAS: out of memory");
				goto out_free;
			}
			ranges = n;
			cap = ncap;
		}
		node = sio_calloc(1, sizeof(*node));
		if (!node) {
			rc = sio_err(-ENOMEM,
				     "IOMMU_IOAS_ALLOW_IOVAS: out of memory");
			goto out_free;
		}
		node->start = range.start;
		node->last = range.last;
		sio_itree_insert(&seen, node);
		ranges[i] = range;
	}
	rc = iopt_set_allow_iova(&ioas->iopt, ranges, cmd->num_iovas);
out_free:
	while ((node = sio_itree_iter_first(&seen, 0, UINT64_MAX))) {
		sio_itree_remove(&seen, node);
		free(node);
	}
	free(ranges);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

/* The domain protection of map flags: always cache coherent. */
static unsigned int conv_iommu_prot(uint32_t map_flags)
{
	unsigned int prot = SIO_PROT_CACHE;

	if (map_flags & IOMMU_IOAS_MAP_WRITEABLE)
		prot |= SIO_PROT_WRITE;
	if (map_flags & IOMMU_IOAS_MAP_READABLE)
		prot |= SIO_PROT_READ;
	return prot;
}

#define MAP_FLAGS (IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | \
		   IOMMU_IOAS_MAP_READABLE)

/* The checks of MAP and MAP_FILE, in the kernel's order. */
static int check_map_args(uint32_t flags, uint64_t iova, uint64_t length)
{
	if (flags & ~MAP_FLAGS)
		return sio_err(-EOPNOTSUPP, "unknown flags %#x", flags);
	if (iova >= UINT64_MAX || length >= UINT64_MAX)
		return sio_err(-EOVERFLOW, "iova or length overflows");
	if (!(flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return sio_err(-EINVAL, "neither readable nor writeable");
	return 0;
}

static unsigned int conv_iopt_flags(uint32_t map_flags)
{
	return map_flags & IOMMU_IOAS_MAP_FIXED_IOVA ? 0 : IOPT_ALLOC_IOVA;
}

/*
 * MAP and MAP_FILE: the checks, the IOAS held for the map, and the IOVA
 * given back.  The IOAS goes back before the answer is copied out, as in
 * the kernel.
 */
int iommufd_ioas_map(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_map *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	uint64_t iova = cmd->iova;
	bool held;
	int rc;

	if (cmd->__reserved)
		return sio_err(-EOPNOTSUPP,
			       "IOMMU_IOAS_MAP: reserved field set");
	rc = check_map_args(cmd->flags, iova, cmd->length);
	if (rc)
		return rc;
	ioas = iommufd_hold_ioas(ucmd->ictx, cmd->ioas_id, &held, &rc);
	if (!ioas)
		return rc;
	rc = iopt_map_user_pages(ucmd->ictx, &ioas->iopt, &iova, cmd->user_va,
				 cmd->length, conv_iommu_prot(cmd->flags),
				 conv_iopt_flags(cmd->flags));
	iommufd_unhold_object(ucmd->ictx, &ioas->obj, held);
	if (rc)
		return rc;
	cmd->iova = iova;
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
}

int iommufd_ioas_map_file(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_map_file *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	uint64_t iova = cmd->iova;
	bool held;
	int rc;

	rc = check_map_args(cmd->flags, iova, cmd->length);
	if (rc)
		return rc;
	ioas = iommufd_hold_ioas(ucmd->ictx, cmd->ioas_id, &held, &rc);
	if (!ioas)
		return rc;
	rc = iopt_map_file_pages(ucmd->ictx, &ioas->iopt, &iova, cmd->fd,
				 cmd->start, cmd->length,
				 conv_iommu_prot(cmd->flags),
				 conv_iopt_flags(cmd->flags));
	iommufd_unhold_object(ucmd->ictx, &ioas->obj, held);
	if (rc)
		return rc;
	cmd->iova = iova;
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
}

int iommufd_ioas_copy(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_copy *cmd = ucmd->cmd;
	struct iommufd_ioas *src, *dst;
	unsigned int flags;
	uint64_t iova;
	int rc;

	if (cmd->flags & ~MAP_FLAGS)
		return sio_err(-EOPNOTSUPP,
			       "IOMMU_IOAS_COPY: unknown flags %#x", cmd->flags);
	if (cmd->length >= UINT64_MAX || cmd->src_iova >= UINT64_MAX ||
	    cmd->dst_iova >= UINT64_MAX)
		return sio_err(-EOVERFLOW,
			       "IOMMU_IOAS_COPY: iova or length overflows");
	if (!(cmd->flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return sio_err(-EINVAL,
			       "IOMMU_IOAS_COPY: neither readable nor writeable");
	src = iommufd_get_ioas(ucmd->ictx, cmd->src_ioas_id, &rc);
	if (!src)
		return rc;
	dst = iommufd_get_ioas(ucmd->ictx, cmd->dst_ioas_id, &rc);
	if (!dst) {
		iommufd_put_object(ucmd->ictx, &src->obj);
		return rc;
	}
	flags = conv_iopt_flags(cmd->flags);
	iova = cmd->dst_iova;
	rc = iopt_copy(&src->iopt, &dst->iopt, cmd->src_iova, cmd->length,
		       &iova, conv_iommu_prot(cmd->flags), flags);
	if (!rc) {
		cmd->dst_iova = iova;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iommufd_put_object(ucmd->ictx, &dst->obj);
	iommufd_put_object(ucmd->ictx, &src->obj);
	return rc;
}

int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_unmap *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	uint64_t unmapped = 0;
	bool held;
	int rc;

	ioas = iommufd_hold_ioas(ucmd->ictx, cmd->ioas_id, &held, &rc);
	if (!ioas)
		return rc;
	if (cmd->iova == 0 && cmd->length == UINT64_MAX) {
		rc = iopt_unmap_all(&ioas->iopt, &unmapped);
		if (rc)
			goto out_put;
	} else {
		if (cmd->iova >= UINT64_MAX || cmd->length >= UINT64_MAX) {
			rc = sio_err(-EOVERFLOW,
				     "IOMMU_IOAS_UNMAP: iova or length overflows");
			goto out_put;
		}
		rc = iopt_unmap_iova(&ioas->iopt, cmd->iova, cmd->length,
				     &unmapped);
		if (rc)
			goto out_put;
		if (!unmapped) {
			rc = sio_err(-ENOENT,
				     "IOMMU_IOAS_UNMAP: nothing mapped in the range");
			goto out_put;
		}
	}
	cmd->length = unmapped;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out_put:
	iommufd_unhold_object(ucmd->ictx, &ioas->obj, held);
	return rc;
}

int iommufd_ioas_option(struct iommufd_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	int rc = 0;

	if (cmd->__reserved)
		return sio_err(-EOPNOTSUPP, "IOMMU_OPTION: reserved field set");
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->object_id, &rc);
	if (!ioas)
		return rc;
	if (cmd->option_id != IOMMU_OPTION_HUGE_PAGES) {
		rc = sio_err(-EOPNOTSUPP,
			     "IOMMU_OPTION: unknown IOAS option %u", cmd->option_id);
	} else if (cmd->op == IOMMU_OPTION_OP_GET) {
		cmd->val64 = !ioas->iopt.disable_large_pages;
	} else if (cmd->op == IOMMU_OPTION_OP_SET) {
		if (cmd->val64 == 0)
			rc = iopt_disable_large_pages(&ioas->iopt);
		else if (cmd->val64 == 1)
			iopt_enable_large_pages(&ioas->iopt);
		else
			rc = sio_err(-EINVAL,
				     "IOMMU_OPTION: HUGE_PAGES takes 0 or 1, not %llu", (unsigned long long)cmd->val64);
	} else {
		rc = sio_err(-EOPNOTSUPP,
			     "IOMMU_OPTION: unknown op %u", cmd->op);
	}
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

/*
 * IOMMU_IOAS_CHANGE_PROCESS: the pages of every IOAS of the context are
 * charged to the calling process from now on (the kernel's
 * iommufd_ioas_change_process).  Only file mappings can move: any other
 * mapping is -EINVAL, since its memory is the old process's addresses.
 * In-process the caller is always the process that mapped, so nothing
 * moves; in the shared mode's server the caller is the client being
 * served (sio_umem_owner_resolve).  The new owner is charged first, so a
 * charge over RLIMIT_MEMLOCK (-ENOMEM) changes nothing.
 */
int iommufd_ioas_change_process(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_change_process *cmd = ucmd->cmd;
	struct sio_iommufd *ictx = ucmd->ictx;
	struct iommufd_ioas **ioas = NULL;
	struct iopt_pages **moved = NULL;
	size_t nioas = 0, nmoved = 0, cap_moved = 0;
	size_t charge[3] = { 0 };
	struct sio_umem_owner *to;
	struct sio_itree_node *n;
	uint32_t cap, id;
	int rc = 0, err;
	size_t i, m;

	if (cmd->__reserved)
		return sio_err(-EOPNOTSUPP,
			       "IOMMU_IOAS_CHANGE_PROCESS: reserved field set");
	pthread_mutex_lock(&ictx->obj_lock);
	cap = ictx->table ? ictx->table->cap : 0;
	pthread_mutex_unlock(&ictx->obj_lock);
	ioas = sio_calloc(cap ? cap : 1, sizeof(*ioas));
	if (!ioas)
		return sio_err(-ENOMEM, "IOMMU_IOAS_CHANGE_PROCESS: out of memory");
	for (id = 1; id < cap; id++) {
		struct iommufd_ioas *a = iommufd_get_ioas(ictx, id, &err);

		if (a)
			ioas[nioas++] = a;
	}
	sio_err_clear();
	/* Every table locked, in ID order, as the kernel takes every
	 * iova_rwsem: no map or unmap runs meanwhile. */
	for (i = 0; i < nioas; i++)
		iopt_lock(&ioas[i]->iopt);
	to = sio_umem_owner_resolve(ictx->host->owner);
	for (i = 0; i < nioas && !rc; i++) {
		sio_itree_for_each(n, &ioas[i]->iopt.area_itree, 0, UINT64_MAX) {
			struct iopt_area *area =
				sio_container_of(n, struct iopt_area, node);
			struct iopt_pages *p = area->pages;
			bool seen = false;

			if (!p) {
				rc = sio_err(-EBUSY, "IOMMU_IOAS_CHANGE_PROCESS: "
					     "a mapping is being made");
				break;
			}
			if (p->kind != IOPT_PAGES_FILE) {
				rc = sio_err(-EINVAL, "IOMMU_IOAS_CHANGE_PROCESS: "
					     "a mapping of process memory exists");
				break;
			}
			for (m = 0; m < nmoved; m++)
				seen |= moved[m] == p;
			if (seen || p->owner == to)
				continue;
			if (nmoved == cap_moved) {
				struct iopt_pages **nm;

				cap_moved = cap_moved ? cap_moved * 2 : 8;
				nm = sio_realloc(moved, cap_moved * sizeof(*nm));
				if (!nm) {
					rc = sio_err(-ENOMEM, "IOMMU_IOAS_CHANGE_PROCESS: out of memory");
					break;
				}
				moved = nm;
			}
			moved[nmoved++] = p;
		}
	}
	/* Charge the caller first: a failure leaves everything as it was. */
	for (m = 0; m < nmoved && !rc; m++) {
		pthread_mutex_lock(&moved[m]->mutex);
		charge[moved[m]->acct] += moved[m]->npinned;
		pthread_mutex_unlock(&moved[m]->mutex);
	}
	for (i = 0; i < 3 && !rc; i++) {
		rc = sio_umem_charge(to, (enum sio_umem_acct)i, charge[i]);
		if (rc) {
			while (i--)
				sio_umem_uncharge(to, (enum sio_umem_acct)i,
						  charge[i]);
			break;
		}
	}
	for (m = 0; m < nmoved && !rc; m++) {
		struct iopt_pages *p = moved[m];
		struct sio_umem_owner *old;

		pthread_mutex_lock(&p->mutex);
		old = p->owner;
		sio_umem_uncharge(old, p->acct, p->npinned);
		p->owner = sio_umem_owner_get(to);
		pthread_mutex_unlock(&p->mutex);
		sio_umem_owner_put(old);
	}
	sio_umem_owner_put(to);
	for (i = nioas; i--;) {
		iopt_unlock(&ioas[i]->iopt);
		iommufd_put_object(ictx, &ioas[i]->obj);
	}
	free(moved);
	free(ioas);
	return rc;
}
