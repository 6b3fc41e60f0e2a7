/*
 * dmabufs: the selftest's dmabuf exporter (IOMMU_TEST_OP_DMABUF_GET and
 * IOMMU_TEST_OP_DMABUF_REVOKE) and iommufd as a dmabuf importer
 * (IOMMU_IOAS_MAP_FILE of a dmabuf fd), after Linux 7.3's selftest.c and
 * pages.c.
 *
 * The mock exporter's buffer is zeroed memory of whole pages, at most 512
 * of them, that the program cannot mmap (the mock has no mmap op: -EINVAL).
 * Here it is a memfd of the library's, so a domain reaches it through an
 * ordinary file pin (sio_umem_pin_file) like any other area; it is never
 * charged to RLIMIT_MEMLOCK, as the kernel does not account dmabufs.  The
 * fd is an emulated file whose references are the kernel's dma_buf_get():
 * each iopt_pages made from the dmabuf holds one, so the buffer outlives
 * the program's close for as long as an area maps it.
 *
 * Revocation is the exporter taking its memory back: REVOKE sets the
 * buffer's state and, whether it revokes or restores, invalidates every
 * attachment, as dma_buf_invalidate_mappings() does.  An invalidated
 * iopt_pages is revoked for good: its areas are unmapped from every domain
 * at once (DMA through them faults from then on), later domains get
 * nothing mapped for it, and unmapping the area later unmaps nothing more.
 * Only a new IOAS_MAP_FILE after the buffer was restored maps it again;
 * while it is revoked MAP_FILE fails with -ENODEV.  Access objects never
 * reach a dmabuf: pinning or reading one is -EINVAL (pages.c, access.c).
 *
 * To unmap on revocation, each dmabuf iopt_pages tracks the (area, domain)
 * pairs it is mapped in; an area is put into a domain and the track made
 * under pages->mutex, which a revocation takes too, so a revocation never
 * misses a mapping being made.  Lock order: dmabuf->lock, then
 * pages->mutex (iommufd_private.h).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iommufd/iommufd_private.h"
#include "softiommu/file.h"

/* The mock exporter's limit (iommufd_test_dmabuf_get). */
#define DMABUF_MAX_PAGES 512

struct iommufd_dmabuf {
	/* The program's file; borrowed, valid until the release op.  Every
	 * attached iopt_pages holds a reference on it. */
	struct sio_file *file;
	struct sio_umem_file *mem;	/* a memfd of length bytes */
	size_t length;
	pthread_mutex_t lock;		/* protects revoked, attachments */
	bool revoked;
	struct cds_list_head attachments;	/* iopt_pages.dmabuf_node */
};

/* One (area, domain) pair the pages are mapped in; under pages->mutex. */
struct dmabuf_track {
	struct cds_list_head node;	/* in pages->dmabuf_tracks */
	struct iopt_area *area;
	struct sio_domain *domain;
	iopt_area_unmap_fn unmap;
};

/* ------------------------------------------------------------------ */
/* The exporter                                                         */
/* ------------------------------------------------------------------ */

static void dmabuf_release(struct sio_file *file)
{
	struct iommufd_dmabuf *d = sio_file_priv(file);

	/* Each importer held a reference: none is attached any more. */
	sio_umem_file_put(d->mem);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* dma_buf_mmap_internal(): an exporter without an mmap op. */
static int dmabuf_mmap(struct sio_file *file, void **addr, size_t len,
		       int prot, int flags, off_t off)
{
	(void)file, (void)addr, (void)len, (void)prot, (void)flags, (void)off;
	return sio_err(-EINVAL, "mock dmabuf: mmap not supported");
}

static const struct sio_file_ops dmabuf_fops = {
	.name = "dmabuf",
	.mmap = dmabuf_mmap,
	.release = dmabuf_release,
};

struct iommufd_dmabuf *iommufd_dmabuf_get(int fd)
{
	struct sio_file *file = sio_file_lookup(fd);

	if (!file)
		return NULL;
	if (sio_file_ops(file) != &dmabuf_fops) {
		sio_file_put(file);
		return NULL;
	}
	return sio_file_priv(file);
}

static void dmabuf_put(struct iommufd_dmabuf *d)
{
	sio_file_put(d->file);
}

/* Returns the new fd: the selftest takes it from the ioctl's return value
 * (the 7.3 kernel itself returns 0 here, a bug the test exposes). */
int iommufd_test_dmabuf_get(struct iommufd_ucmd *ucmd, unsigned int open_flags,
			    size_t len)
{
	struct sio_iommufd_host *host = ucmd->ictx->host;
	size_t ps = host->page_size;
	struct iommufd_dmabuf *d;
	int memfd, fd, rc;

	len = (len + ps - 1) & ~(ps - 1);
	if (len == 0 || len > ps * DMABUF_MAX_PAGES)
		return sio_err(-EINVAL,
			       "IOMMU_TEST_OP_DMABUF_GET: length 0 or above %u pages", DMABUF_MAX_PAGES);
	d = sio_calloc(1, sizeof(*d));
	if (!d)
		return sio_err(-ENOMEM,
			       "IOMMU_TEST_OP_DMABUF_GET: out of memory");
	d->length = len;
	pthread_mutex_init(&d->lock, NULL);
	CDS_INIT_LIST_HEAD(&d->attachments);
	memfd = memfd_create("softiommu-dmabuf", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, (off_t)len)) {
		rc = sio_err(-errno, "iommufd: cannot make a dmabuf's memory");
		if (memfd >= 0)
			close(memfd);
		goto err_free;
	}
	rc = sio_umem_file_adopt(host->owner, memfd, &d->mem);
	if (rc)
		goto err_free;
	rc = sio_file_create(&dmabuf_fops, d, open_flags & O_CLOEXEC, &d->file,
			     &fd);
	if (rc)
		goto err_mem;
	return fd;

err_mem:
	sio_umem_file_put(d->mem);
err_free:
	pthread_mutex_destroy(&d->lock);
	free(d);
	return rc;
}

/* iopt_revoke_notify(): cut the pages off every domain, for good. */
static void pages_invalidate(struct iopt_pages *pages)
{
	struct dmabuf_track *t;

	pthread_mutex_lock(&pages->mutex);
	if (!pages->revoked) {
		cds_list_for_each_entry(t, &pages->dmabuf_tracks, node)
			t->unmap(t->area, t->domain);
		pages->revoked = true;
	}
	pthread_mutex_unlock(&pages->mutex);
}

int iommufd_test_dmabuf_revoke(struct iommufd_ucmd *ucmd, int fd, bool revoked)
{
	struct iommufd_dmabuf *d = iommufd_dmabuf_get(fd);
	struct iopt_pages *pages;

	(void)ucmd;
	if (!d) {
		/* dma_buf_get(): no file is -EBADF, another file -EINVAL. */
		return fcntl(fd, F_GETFD) < 0 ? -EBADF : -EINVAL;
	}
	pthread_mutex_lock(&d->lock);
	d->revoked = revoked;
	cds_list_for_each_entry(pages, &d->attachments, dmabuf_node)
		pages_invalidate(pages);
	pthread_mutex_unlock(&d->lock);
	dmabuf_put(d);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The importer                                                         */
/* ------------------------------------------------------------------ */

struct iopt_pages *iopt_alloc_dmabuf_pages(struct sio_iommufd_host *host,
					   struct iommufd_dmabuf *d,
					   uint64_t start, uint64_t length,
					   bool writable, int *err)
{
	struct iopt_pages *pages;

	/* The caller checked that start + length - 1 does not wrap. */
	if (d->length <= start + length - 1) {
		*err = -EINVAL;
		goto err_put;
	}
	pages = iopt_pages_alloc_dmabuf(host, start, length, writable, err);
	if (!pages)
		goto err_put;
	pthread_mutex_lock(&d->lock);
	if (d->revoked) {
		/* The mock exporter refuses to hand out revoked memory. */
		pthread_mutex_unlock(&d->lock);
		iopt_pages_put(pages);
		*err = -ENODEV;
		goto err_put;
	}
	pages->dmabuf = d;
	pages->file = sio_umem_file_ref(d->mem);
	cds_list_add_tail(&pages->dmabuf_node, &d->attachments);
	pthread_mutex_unlock(&d->lock);
	return pages;

err_put:
	dmabuf_put(d);
	return NULL;
}

void iopt_dmabuf_release_pages(struct iopt_pages *pages)
{
	struct iommufd_dmabuf *d = pages->dmabuf;

	pthread_mutex_lock(&d->lock);
	cds_list_del(&pages->dmabuf_node);
	pthread_mutex_unlock(&d->lock);
	if (!cds_list_empty(&pages->dmabuf_tracks))
		sio_err(-EBUSY, "iommufd: dmabuf pages freed while mapped");
	pages->dmabuf = NULL;
	dmabuf_put(d);
}

int iopt_dmabuf_fill_domain(struct iopt_area *area, struct sio_domain *domain,
			    iopt_area_map_fn map, iopt_area_unmap_fn unmap)
{
	struct iopt_pages *pages = area->pages;
	struct dmabuf_track *t = sio_malloc(sizeof(*t));
	int rc = 0;

	if (!t)
		return sio_err(-ENOMEM,
			       "IOMMU_IOAS_MAP_FILE: out of memory to track the dmabuf");
	t->area = area;
	t->domain = domain;
	t->unmap = unmap;
	pthread_mutex_lock(&pages->mutex);
	/* A revoked buffer is tracked but maps nothing. */
	if (!pages->revoked)
		rc = map(area, domain);
	if (!rc)
		cds_list_add_tail(&t->node, &pages->dmabuf_tracks);
	pthread_mutex_unlock(&pages->mutex);
	if (rc)
		free(t);
	return rc;
}

void iopt_dmabuf_unfill_domain(struct iopt_area *area,
			       struct sio_domain *domain,
			       iopt_area_unmap_fn unmap)
{
	struct iopt_pages *pages = area->pages;
	struct dmabuf_track *t, *found = NULL;

	pthread_mutex_lock(&pages->mutex);
	cds_list_for_each_entry(t, &pages->dmabuf_tracks, node) {
		if (t->area == area && t->domain == domain) {
			found = t;
			break;
		}
	}
	if (found)
		cds_list_del(&found->node);
	/* Revoked: already unmapped. */
	if (!pages->revoked)
		unmap(area, domain);
	pthread_mutex_unlock(&pages->mutex);
	free(found);
}
