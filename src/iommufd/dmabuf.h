/*
 * A dmabuf between its exporter and iommufd as its importer (the part of
 * the kernel's struct dma_buf and dma_buf_attachment the two share).
 *
 * The only exporter is the selftest's mock (selftest/dmabuf.c,
 * IOMMU_TEST_OP_DMABUF_GET/REVOKE); the importer is IOAS_MAP_FILE of a
 * dmabuf fd (dmabuf.c).  The exporter owns the buffer and its file; each
 * importing iopt_pages holds a reference on the file and is on the
 * buffer's attachments.  Lock order: dmabuf->lock, then pages->mutex.
 */
#ifndef SIO_IOMMUFD_DMABUF_H
#define SIO_IOMMUFD_DMABUF_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <urcu/list.h>

struct sio_file;
struct sio_umem_file;

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

/* Exporter (selftest/dmabuf.c): the dmabuf open at the program's fd, with
 * a reference on its file, or NULL; the reference's put. */
struct iommufd_dmabuf *iommufd_dmabuf_get(int fd);
void iommufd_dmabuf_put(struct iommufd_dmabuf *d);

/* Importer (dmabuf.c): every attachment loses its mappings for good, as
 * dma_buf_invalidate_mappings(); under d->lock, by the exporter. */
void iommufd_dmabuf_invalidate_mappings(struct iommufd_dmabuf *d);

#endif
