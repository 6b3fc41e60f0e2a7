/*
 * Access objects (the kernel's device.c, access half; seed 003): how an
 * emulated device without an IOMMU domain reaches an IOAS.  It pins ranges
 * of IOVA (each pin records the umem pins of the areas it covers, and
 * counts in area->num_accesses so UNMAP knows to ask) and reads/writes
 * through IOVA.
 *
 * The rules of seed 003 and ARCHITECTURE.md:
 *  - changing the IOAS first sets access->ioas to NULL, which blocks new
 *    pins (-ENOENT), then calls the access's unmap callback over the whole
 *    range so the device drops its pins (which unpin through ioas_unpin),
 *    then switches;
 *  - unmapping an area an access pins calls the unmap callback for the
 *    area (io_pagetable.c), which must unpin before it returns;
 *  - destroying an access after its device is closed never calls back:
 *    the destroy path only removes the access from its IOAS.
 * Internal accesses (a HW queue's, hw_queue.c) have no device to ask:
 * their pins lock the areas they cover, so UNMAP of those is -EBUSY.
 */
#include <stdlib.h>
#include <string.h>

#include "iommufd/iommufd_private.h"
#include "umem/remote.h"

struct access_piece {
	struct iopt_area *area;
	size_t first, last;		/* page indexes in area->pages */
	struct sio_umem_pin *pin;
};

struct access_pin {
	struct cds_list_head node;	/* in access->pins */
	uint64_t iova, length;
	size_t npieces;
	struct access_piece pieces[];
};

struct iommufd_access *iommufd_access_create(struct sio_iommufd *ictx,
					     const struct iommufd_access_ops *ops,
					     void *data, uint32_t *id, int *err)
{
	struct iommufd_access *access;
	struct iommufd_object *obj;

	obj = iommufd_object_alloc(ictx, sizeof(*access), IOMMUFD_OBJ_ACCESS,
				   err);
	if (!obj)
		return NULL;
	access = sio_container_of(obj, struct iommufd_access, obj);
	access->ictx = ictx;
	/* Until iommufd_access_destroy(); an internal access belongs to an
	 * object of the context, which must not keep it alive. */
	if (!ops->internal)
		iommufd_ctx_get(ictx);
	access->ops = ops;
	access->data = data;
	access->iova_alignment = ops->needs_pin_pages ? ictx->host->page_size
						      : 1;
	pthread_mutex_init(&access->ioas_lock, NULL);
	CDS_INIT_LIST_HEAD(&access->pins);
	/* The creating driver is a user until it destroys the access. */
	iommufd_obj_get(obj);
	iommufd_object_finalize(ictx, obj);
	*id = obj->id;
	return access;
}

static int change_ioas(struct iommufd_access *access,
		       struct iommufd_ioas *new_ioas)
{
	struct iommufd_ioas *cur = access->ioas;
	struct iopt_access_link *new_link = NULL;
	int rc;

	if (cur != access->ioas_unpin)
		/* racing with another change */
		return sio_err(-EBUSY, "access: IOAS change already in progress");
	if (cur == new_ioas)
		return 0;
	/* Block new pins; unpins go on through ioas_unpin. */
	access->ioas = NULL;
	if (new_ioas) {
		rc = iopt_add_access(&new_ioas->iopt, access, &new_link);
		if (rc) {
			access->ioas = cur;
			return rc;
		}
		iommufd_obj_get(&new_ioas->obj);
	}
	if (cur) {
		if (access->ops->unmap) {
			pthread_mutex_unlock(&access->ioas_lock);
			access->ops->unmap(access->data, 0, UINT64_MAX);
			pthread_mutex_lock(&access->ioas_lock);
		}
		iopt_remove_access(&cur->iopt, access->iopt_link);
		iommufd_obj_put(&cur->obj);
	}
	access->iopt_link = new_link;
	access->ioas = new_ioas;
	access->ioas_unpin = new_ioas;
	return 0;
}

static int change_ioas_id(struct iommufd_access *access, uint32_t id)
{
	struct iommufd_ioas *ioas;
	int rc;

	ioas = iommufd_get_ioas(access->ictx, id, &rc);
	if (!ioas)
		return rc;
	rc = change_ioas(access, ioas);
	iommufd_put_object(access->ictx, &ioas->obj);
	return rc;
}

/* Unpin every piece of one pin of the access and forget it; called with
 * access->ioas_lock held. */
static void release_pin(struct iommufd_access *access, struct access_pin *p)
{
	struct io_pagetable *iopt = &access->ioas_unpin->iopt;

	iopt_lock(iopt);
	for (size_t i = 0; i < p->npieces; i++) {
		iopt_pages_unpin(p->pieces[i].area->pages, p->pieces[i].first,
				 p->pieces[i].last, p->pieces[i].pin);
		p->pieces[i].area->num_accesses--;
		if (access->ops->internal)
			p->pieces[i].area->num_locks--;
	}
	iopt_unlock(iopt);
	cds_list_del(&p->node);
	free(p);
}

/* Pins left behind by a device that did not unpin: drop them silently. */
static void drop_pins(struct iommufd_access *access)
{
	struct access_pin *p, *tmp;

	cds_list_for_each_entry_safe(p, tmp, &access->pins, node)
		release_pin(access, p);
}

void iommufd_access_destroy_object(struct iommufd_object *obj)
{
	struct iommufd_access *access =
		sio_container_of(obj, struct iommufd_access, obj);

	/* Never call back: the device may be gone (seed 003). */
	pthread_mutex_lock(&access->ioas_lock);
	if (access->ioas_unpin) {
		drop_pins(access);
		iopt_remove_access(&access->ioas_unpin->iopt, access->iopt_link);
		access->iopt_link = NULL;
		iommufd_obj_put(&access->ioas_unpin->obj);
		access->ioas = access->ioas_unpin = NULL;
	}
	pthread_mutex_unlock(&access->ioas_lock);
	pthread_mutex_destroy(&access->ioas_lock);
}

void iommufd_access_destroy(struct iommufd_access *access)
{
	struct sio_iommufd *ictx = access->ictx;

	iommufd_object_remove(ictx, &access->obj, access->obj.id,
			      IOMMUFD_REMOVE_WAIT);
	/* The context was kept for the access: its release may run now. */
	iommufd_ctx_put(ictx);
}

static const struct iommufd_access_ops internal_access_ops = {
	.needs_pin_pages = true,
	.internal = true,
};

struct iommufd_access *iommufd_access_create_internal(struct sio_iommufd *ictx,
						      int *err)
{
	uint32_t id;

	return iommufd_access_create(ictx, &internal_access_ops, NULL, &id,
				     err);
}

void iommufd_access_destroy_internal(struct iommufd_access *access)
{
	iommufd_object_remove(access->ictx, &access->obj, access->obj.id,
			      IOMMUFD_REMOVE_WAIT);
}

int iommufd_access_attach(struct iommufd_access *access, uint32_t ioas_id)
{
	int rc;

	pthread_mutex_lock(&access->ioas_lock);
	if (access->ioas)
		rc = sio_err(-EINVAL, "access: already attached to IOAS %u",
			     access->ioas->obj.id);
	else
		rc = change_ioas_id(access, ioas_id);
	pthread_mutex_unlock(&access->ioas_lock);
	return rc;
}

int iommufd_access_replace(struct iommufd_access *access, uint32_t ioas_id)
{
	int rc;

	pthread_mutex_lock(&access->ioas_lock);
	if (!access->ioas)
		rc = sio_err(-ENOENT, "access: replace with no IOAS attached");
	else
		rc = change_ioas_id(access, ioas_id);
	pthread_mutex_unlock(&access->ioas_lock);
	return rc;
}

void iommufd_access_notify_unmap(struct io_pagetable *iopt, uint64_t iova,
				 uint64_t length)
{
	struct iommufd_access **list = NULL;
	struct iopt_access_link *link;
	size_t n = 0, cap = 0;

	/* Collect with references, call back without the table lock. */
	iopt_lock(iopt);
	cds_list_for_each_entry(link, &iopt->accesses, node) {
		if (n == cap) {
			struct iommufd_access **nl;

			cap = cap ? cap * 2 : 4;
			nl = sio_realloc(list, cap * sizeof(*nl));
			if (!nl)
				break;
			list = nl;
		}
		iommufd_obj_get(&link->access->obj);
		list[n++] = link->access;
	}
	iopt_unlock(iopt);
	for (size_t i = 0; i < n; i++) {
		if (list[i]->ops->unmap)
			list[i]->ops->unmap(list[i]->data, iova, length);
		iommufd_obj_put(&list[i]->obj);
	}
	free(list);
}

static bool check_area_prot(struct iopt_area *area, unsigned int flags)
{
	if (flags & IOMMUFD_ACCESS_RW_WRITE)
		return area->iommu_prot & SIO_PROT_WRITE;
	return area->iommu_prot & SIO_PROT_READ;
}

static struct iopt_area *area_at(struct io_pagetable *iopt, uint64_t iova)
{
	struct sio_itree_node *n = sio_itree_iter_first(&iopt->area_itree,
							iova, iova);

	return n ? sio_container_of(n, struct iopt_area, node) : NULL;
}

int iommufd_access_pin_pages(struct iommufd_access *access, uint64_t iova,
			     uint64_t length, bool write)
{
	uint64_t ps = access->ictx->host->page_size, last, cur;
	struct io_pagetable *iopt;
	struct access_pin *p;
	size_t cap = 4;
	int rc = 0;

	if (!length)
		return sio_err(-EINVAL, "access: pin of zero length at %#llx",
			       (unsigned long long)iova);
	if (__builtin_add_overflow(iova, length - 1, &last))
		return sio_err(-EOVERFLOW, "access: pin of %#llx+%#llx wraps",
			       (unsigned long long)iova,
			       (unsigned long long)length);
	p = sio_calloc(1, sizeof(*p) + cap * sizeof(p->pieces[0]));
	if (!p)
		return sio_err(-ENOMEM, "access: no memory for a pin");
	p->iova = iova;
	p->length = length;

	pthread_mutex_lock(&access->ioas_lock);
	if (!access->ioas) {
		pthread_mutex_unlock(&access->ioas_lock);
		free(p);
		return sio_err(-ENOENT, "access: pin with no IOAS attached");
	}
	iopt = &access->ioas->iopt;
	iopt_lock(iopt);
	for (cur = iova;;) {
		struct iopt_area *area = area_at(iopt, cur);
		uint64_t end, sb, eb;
		struct access_piece *pc;

		if (!area) {
			rc = sio_err(-ENOENT, "access: IOVA %#llx is not in the "
				     "IOAS", (unsigned long long)cur);
			break;
		}
		end = area->node.last < last ? area->node.last : last;
		sb = area->start_byte + (cur - area->node.start);
		eb = area->start_byte + (end - area->node.start);
		/* Pieces must start and (unless last) end on page borders. */
		if (area->prevent_access) {
			rc = sio_err(-EINVAL, "access: IOVA %#llx is in an area "
				     "closed to accesses",
				     (unsigned long long)cur);
			break;
		}
		if (sb % ps || (end != last && eb % ps != ps - 1)) {
			rc = sio_err(-EINVAL, "access: pin at %#llx does not "
				     "fall on page borders",
				     (unsigned long long)cur);
			break;
		}
		if (!check_area_prot(area, write ? IOMMUFD_ACCESS_RW_WRITE : 0)) {
			rc = sio_err(-EPERM, "access: IOVA %#llx is not mapped "
				     "%s", (unsigned long long)cur,
				     write ? "writable" : "readable");
			break;
		}
		if (write && !area->pages->writable) {
			rc = sio_err(-EPERM, "access: IOVA %#llx is backed by "
				     "read-only memory",
				     (unsigned long long)cur);
			break;
		}
		if (p->npieces == cap) {
			struct access_pin *np;

			cap *= 2;
			np = sio_realloc(p, sizeof(*p) + cap * sizeof(p->pieces[0]));
			if (!np) {
				rc = sio_err(-ENOMEM, "access: no memory for a "
					     "pin of %zu pieces", cap);
				break;
			}
			p = np;
		}
		pc = &p->pieces[p->npieces];
		pc->area = area;
		pc->first = sb / ps;
		pc->last = eb / ps;
		rc = iopt_pages_pin(area->pages, pc->first, pc->last, write,
				    &pc->pin);
		if (rc)
			break;
		area->num_accesses++;
		if (access->ops->internal)
			area->num_locks++;
		p->npieces++;
		if (end == last)
			break;
		cur = end + 1;
	}
	if (rc) {
		for (size_t i = 0; i < p->npieces; i++) {
			iopt_pages_unpin(p->pieces[i].area->pages,
					 p->pieces[i].first, p->pieces[i].last,
					 p->pieces[i].pin);
			p->pieces[i].area->num_accesses--;
			if (access->ops->internal)
				p->pieces[i].area->num_locks--;
		}
		free(p);
	} else {
		cds_list_add_tail(&p->node, &access->pins);
	}
	iopt_unlock(iopt);
	pthread_mutex_unlock(&access->ioas_lock);
	return rc;
}

void iommufd_access_unpin_pages(struct iommufd_access *access, uint64_t iova,
				uint64_t length)
{
	struct access_pin *p;

	pthread_mutex_lock(&access->ioas_lock);
	if (!access->ioas_unpin) {
		pthread_mutex_unlock(&access->ioas_lock);
		return;
	}
	cds_list_for_each_entry(p, &access->pins, node) {
		if (p->iova == iova && p->length == length) {
			release_pin(access, p);
			break;
		}
	}
	pthread_mutex_unlock(&access->ioas_lock);
}

uint64_t iommufd_access_pinned_host(struct iommufd_access *access,
				    uint64_t iova, size_t *contig)
{
	uint64_t ps = access->ictx->host->page_size, host = 0;
	struct access_pin *p;

	*contig = 0;
	pthread_mutex_lock(&access->ioas_lock);
	cds_list_for_each_entry(p, &access->pins, node) {
		uint64_t off = iova - p->iova;

		if (iova < p->iova || off >= p->length)
			continue;
		/* The piece holding iova, then the byte within its pin. */
		for (size_t i = 0; i < p->npieces && !host; i++) {
			const struct access_piece *pc = &p->pieces[i];
			struct iopt_area *area = pc->area;
			uint64_t first = area->node.start +
					 pc->first * ps - area->start_byte;
			uint64_t last = first +
					(pc->last - pc->first + 1) * ps - 1;

			if (iova >= first && iova <= last)
				host = sio_umem_pin_host(pc->pin, iova - first,
							 contig);
		}
		break;
	}
	pthread_mutex_unlock(&access->ioas_lock);
	return host;
}

/* Copy length bytes at byte off of pin's alias, in the direction flags say. */
static int rw_pin(struct sio_umem_pin *pin, uint64_t off, void *data,
		  size_t length, unsigned int flags)
{
	while (length) {
		size_t contig = 0;
		uint64_t host = sio_umem_pin_host(pin, off, &contig);
		size_t n = contig < length ? contig : length;

		if (!host || !n)
			return sio_err(-EINVAL, "access: pinned page at offset "
				       "%#llx has no host address",
				       (unsigned long long)off);
		if (flags & IOMMUFD_ACCESS_RW_WRITE)
			memcpy((void *)(uintptr_t)host, data, n);
		else
			memcpy(data, (void *)(uintptr_t)host, n);
		data = (char *)data + n;
		off += n;
		length -= n;
	}
	return 0;
}

/*
 * Copy through pinned pages, as real DMA does.  Pages the area already has
 * pinned for its domains are used as they are (the kernel's pfn reader
 * takes them from the domain first): they stay reachable after the program
 * unmaps its own view.  Otherwise the pages are pinned for the copy.
 */
static int rw_slow(struct iopt_area *area, uint64_t start_byte, void *data,
		   size_t length, unsigned int flags)
{
	struct iopt_pages *pages = area->pages;
	uint64_t ps = pages->host->page_size;
	size_t first = start_byte / ps, last = (start_byte + length - 1) / ps;
	struct sio_umem_pin *pin;
	int rc;

	if (area->dom_pin)
		return rw_pin(area->dom_pin,
			      start_byte - area->dom_pin_first * ps, data,
			      length, flags);
	rc = iopt_pages_pin(pages, first, last, flags & IOMMUFD_ACCESS_RW_WRITE,
			    &pin);
	if (rc)
		return rc;
	rc = rw_pin(pin, start_byte - first * ps, data, length, flags);
	iopt_pages_unpin(pages, first, last, pin);
	return rc;
}

/* Whether the caller is the address space that mapped pages: always
 * in-process; in the shared mode's server, the client being served. */
static bool pages_owner_is_caller(struct iopt_pages *pages)
{
	struct sio_umem_owner *cur = sio_umem_current();

	return !cur || cur == pages->owner;
}

static int pages_rw(struct iopt_area *area, uint64_t start_byte, void *data,
		    size_t length, unsigned int flags)
{
	struct iopt_pages *pages = area->pages;
	struct sio_umem_owner *owner = pages->owner;

	if ((flags & IOMMUFD_ACCESS_RW_WRITE) && !pages->writable)
		return sio_err(-EPERM, "access: write to read-only memory");
	if (pages->kind == IOPT_PAGES_DMABUF)
		return sio_err(-EINVAL, "access: read/write of dma-buf "
			       "memory");
	/* Only the program's addresses have a view to copy through. */
	/* ... and only in the address space that mapped them (the kernel
	 * checks current->mm against the mapping's mm). */
	if ((flags & IOMMUFD_ACCESS_RW_SLOW_PATH) ||
	    pages->kind != IOPT_PAGES_USER || !pages_owner_is_caller(pages))
		return rw_slow(area, start_byte, data, length, flags);
	/* The fast path copies through the program's own view, ignoring
	 * pins, as the kernel's copy_to_user() shortcut does. */
	if (flags & IOMMUFD_ACCESS_RW_WRITE) {
		if (sio_umem_write(owner, pages->uptr + start_byte, data,
				   length))
			return sio_err(-EFAULT, "access: program memory at "
				       "%#llx not writable",
				       (unsigned long long)(pages->uptr +
							    start_byte));
		return 0;
	}
	if (sio_umem_read(owner, data, pages->uptr + start_byte, length))
		return sio_err(-EFAULT, "access: program memory at %#llx not "
			       "readable",
			       (unsigned long long)(pages->uptr + start_byte));
	return 0;
}

int iommufd_access_rw(struct iommufd_access *access, uint64_t iova,
		      void *data, size_t length, unsigned int flags)
{
	struct io_pagetable *iopt;
	uint64_t last, cur;
	int rc = 0;

	if (!length)
		return sio_err(-EINVAL, "access: read/write of zero length at "
			       "%#llx", (unsigned long long)iova);
	if (__builtin_add_overflow(iova, length - 1, &last))
		return sio_err(-EOVERFLOW, "access: read/write of %#llx+%#zx "
			       "wraps", (unsigned long long)iova, length);
	pthread_mutex_lock(&access->ioas_lock);
	if (!access->ioas) {
		pthread_mutex_unlock(&access->ioas_lock);
		return sio_err(-ENOENT, "access: read/write with no IOAS "
			       "attached");
	}
	iopt = &access->ioas->iopt;
	iopt_lock(iopt);
	for (cur = iova;;) {
		struct iopt_area *area = area_at(iopt, cur);
		uint64_t end, bytes;

		if (!area) {
			rc = sio_err(-ENOENT, "access: IOVA %#llx is not in the "
				     "IOAS", (unsigned long long)cur);
			break;
		}
		if (area->prevent_access) {
			rc = sio_err(-EINVAL, "access: IOVA %#llx is in an area "
				     "closed to accesses",
				     (unsigned long long)cur);
			break;
		}
		if (!check_area_prot(area, flags)) {
			rc = sio_err(-EPERM, "access: IOVA %#llx is not mapped "
				     "%s", (unsigned long long)cur,
				     flags & IOMMUFD_ACCESS_RW_WRITE ?
				     "writable" : "readable");
			break;
		}
		end = area->node.last < last ? area->node.last : last;
		bytes = end - cur + 1;
		rc = pages_rw(area, area->start_byte + (cur - area->node.start),
			      data, bytes, flags);
		if (rc)
			break;
		data = (char *)data + bytes;
		if (end == last)
			break;
		cur = end + 1;
	}
	iopt_unlock(iopt);
	pthread_mutex_unlock(&access->ioas_lock);
	return rc;
}
