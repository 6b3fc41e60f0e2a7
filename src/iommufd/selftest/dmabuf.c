/*
 * The selftest's dmabuf exporter: IOMMU_TEST_OP_DMABUF_GET and
 * IOMMU_TEST_OP_DMABUF_REVOKE, after Linux 7.3's selftest.c.
 *
 * The mock exporter's buffer is zeroed memory of whole pages, at most 512
 * of them, that the program cannot mmap (the mock has no mmap op: -EINVAL).
 * Here it is a memfd of the library's, so a domain reaches it through an
 * ordinary file pin (sio_umem_pin_file) like any other area; it is never
 * charged to RLIMIT_MEMLOCK, as the kernel does not account dmabufs.  The
 * fd is an emulated file whose references are the kernel's dma_buf_get():
 * each importing iopt_pages holds one, so the buffer outlives the
 * program's close for as long as an area maps it.
 *
 * Revocation is the exporter taking its memory back: REVOKE sets the
 * buffer's state and, whether it revokes or restores, invalidates every
 * attachment (the importer's iommufd_dmabuf_invalidate_mappings).  While
 * it is revoked a new IOAS_MAP_FILE of it fails with -ENODEV.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iommufd/dmabuf.h"
#include "iommufd/iommufd_private.h"
#include "iommufd/selftest/selftest.h"
#include "softiommu/file.h"
#include "util/sys.h"

/* The mock exporter's limit (iommufd_test_dmabuf_get). */
#define DMABUF_MAX_PAGES 512

/* ------------------------------------------------------------------ */
/* The exporter's file                                                  */
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
			sio_sys_close(memfd);
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

void iommufd_dmabuf_put(struct iommufd_dmabuf *d)
{
	sio_file_put(d->file);
}

int iommufd_test_dmabuf_revoke(struct iommufd_ucmd *ucmd, int fd, bool revoked)
{
	struct iommufd_dmabuf *d = iommufd_dmabuf_get(fd);

	(void)ucmd;
	if (!d) {
		/* dma_buf_get(): no file is -EBADF, another file -EINVAL. */
		return sio_sys_fcntl(fd, F_GETFD, 0) < 0 ? -EBADF : -EINVAL;
	}
	pthread_mutex_lock(&d->lock);
	d->revoked = revoked;
	iommufd_dmabuf_invalidate_mappings(d);
	pthread_mutex_unlock(&d->lock);
	iommufd_dmabuf_put(d);
	return 0;
}

