/*
 * io_pagetable (io_pagetable.c) and iopt_pages (pages.c, dmabuf.c): the
 * IOVA space of an IOAS, its areas, allowed and reserved ranges, the
 * domains and accesses it serves, and the ranges of user memory (or of a
 * file, or of a dmabuf) its areas map, with their pin counts.  The
 * kernel's io_pagetable.h.  Locks: iopt->lock, host->lock, pages->mutex,
 * in the order of docs/locking.md (iommufd_private.h sums it up).
 */
#ifndef SIO_IOMMUFD_IO_PAGETABLE_H
#define SIO_IOMMUFD_IO_PAGETABLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <urcu/list.h>

#include "softiommu/domain.h"
#include "softiommu/umem.h"
#include "util/interval_tree.h"
#include "util/biaslock.h"

struct sio_iommufd_host;
struct sio_iommufd;
struct iommu_iova_range;


struct io_pagetable {
	struct sio_iommufd_host *host;
	/* Protects everything below; rank 230 of docs/locking.md (after
	 * access->ioas_lock and igroup->lock, before host->lock).  A lock
	 * biased to the thread that maps (util/biaslock.h), taken through
	 * iopt_lock()/iopt_unlock(): every IOAS_MAP and IOAS_UNMAP takes it
	 * once, and it is never waited on with a condition variable. */
	struct sio_biaslock lock;
	struct sio_itree area_itree;	/* iopt_area.node */
	struct sio_itree allowed_itree;	/* iopt_allowed.node */
	struct sio_itree reserved_itree;	/* iopt_reserved.node */
	struct sio_domain **domains;
	unsigned int ndomains, domains_cap;
	struct cds_list_head accesses;	/* struct iopt_access_link.node */
	uint64_t iova_alignment;
	/* Areas unmapped and kept for the next map, linked through their
	 * pages pointer, at most IOPT_AREA_CACHE of them (io_pagetable.c,
	 * "Area cache"); USER ranges unmapped and kept for the next IOAS_MAP,
	 * linked through cache_next, at most IOPT_PAGES_CACHE (pages.c,
	 * "Pages cache"). */
	struct iopt_area *area_cache;
	struct iopt_pages *pages_cache;
	unsigned int area_cached, pages_cached;
	/* [free_start, free_last] holds no area and no reserved range while
	 * free_valid (io_pagetable.c, "Free-range hint"). */
	uint64_t free_start, free_last;
	bool free_valid;
	/* The area inserted last while it is in area_itree, or NULL
	 * (io_pagetable.c, "Area hint"). */
	struct iopt_area *area_hint;
	bool disable_large_pages;
};

#define IOPT_PAGES_CACHE 8

static inline void iopt_lock(struct io_pagetable *iopt)
{
	sio_biaslock_lock(&iopt->lock);
}

static inline void iopt_unlock(struct io_pagetable *iopt)
{
	sio_biaslock_unlock(&iopt->lock);
}

struct iopt_area {
	struct sio_itree_node node;	/* IOVA range; under iopt->lock */
	struct io_pagetable *iopt;
	struct iopt_pages *pages;	/* a reference */
	uint64_t start_byte;		/* offset of iova start in pages */
	unsigned int iommu_prot;	/* SIO_PROT_* */
	/* While the IOAS has domains: the pin of the area's pages whose
	 * alias is mapped into them.  Under iopt->lock. */
	struct sio_umem_pin *dom_pin;
	uint64_t dom_pin_first;		/* page index of dom_pin's start */
	unsigned int num_accesses;	/* access pins inside; under iopt->lock */
	/* Pins of internal accesses (HW queues) inside: UNMAP is -EBUSY
	 * rather than a request to let go.  Under iopt->lock. */
	unsigned int num_locks;
	bool prevent_access;		/* an unmap is waiting for accesses */
};

struct iopt_allowed {
	struct sio_itree_node node;
};

struct iopt_reserved {
	struct sio_itree_node node;
	const void *owner;		/* a domain, a device or NULL */
};

/* What an iopt_pages is a range of (the kernel's IOPT_ADDRESS_*). */
enum iopt_pages_kind {
	IOPT_PAGES_USER,	/* the program's addresses from uptr (MAP) */
	IOPT_PAGES_FILE,	/* a memory file from offset start (MAP_FILE) */
	IOPT_PAGES_DMABUF,	/* a dmabuf's memory from start (dmabuf.c) */
};

struct iommufd_dmabuf;

/*
 * A linear range of the program's memory (iopt_pages): shared by the areas
 * that map it (MAP and MAP_FILE make one, COPY shares it).  Pages are pinned by users
 * (an area's domain pin, an access pin), each holding its own umem pin;
 * per-page counts make each page charged and counted once however many
 * users pin it, as the kernel's npinned does.  The counts are kept as the
 * set of live pins, not as an array over the range: a range may be huge
 * (the kernel accepts any length up to SIZE_MAX) while its pins are few.
 */
struct iopt_pages {
	unsigned int refcount;		/* atomic: areas + list users */
	struct sio_iommufd_host *host;
	/* Whose memory (a reference): the owner standing for the caller of
	 * the map, as the kernel keeps the mapping's mm.  Pins and charges
	 * go to it, whoever causes them later. */
	struct sio_umem_owner *owner;
	enum iopt_pages_kind kind;	/* constant */
	uint64_t uptr;			/* USER: page aligned */
	/* FILE: a reference to the program's file; DMABUF: to the dmabuf's
	 * memory.  Pins go through it, never through a program's mapping. */
	struct sio_umem_file *file;
	uint64_t start;			/* FILE, DMABUF: offset of page 0 */
	size_t npages;
	bool writable;
	enum sio_umem_acct acct;	/* effective mode, fixed at map */
	/* DMABUF (dmabuf.c): the buffer (its file held by a reference), the
	 * node in its attachments (under dmabuf->lock); revoked and the
	 * (area, domain) tracks a revocation unmaps are under mutex. */
	struct iommufd_dmabuf *dmabuf;
	struct cds_list_head dmabuf_node;
	bool revoked;
	struct cds_list_head dmabuf_tracks;
	pthread_mutex_t mutex;		/* protects npinned, pins */
	size_t npinned;			/* pages some pin covers */
	/* Live pins (struct pages_pin_rec) by page-index range: a page's
	 * pin count is the number of them covering it.  Pages pinned once
	 * are taken from an existing pin, never read again from the
	 * program's view. */
	struct sio_itree pins;
	/* A pin record (pages.c) kept from the last unpin for the next pin;
	 * under mutex. */
	void *spare_rec;
	/* In host->pages_list (under host->lock) once something pinned it;
	 * listed is written under host->lock, read without it. */
	struct cds_list_head host_node;
	bool listed;
	struct iopt_pages *cache_next;	/* in iopt->pages_cache */
};

struct iopt_pages *iopt_alloc_user_pages(struct sio_iommufd_host *host,
					 uint64_t uptr, uint64_t length,
					 bool writable, enum sio_umem_acct acct,
					 int *err);
/* MAP_FILE of a file that is not a dmabuf: fd is the program's. */
struct iopt_pages *iopt_alloc_file_pages(struct sio_iommufd_host *host, int fd,
					 uint64_t start, uint64_t length,
					 bool writable, enum sio_umem_acct acct,
					 int *err);
/* The same for IOAS_MAP into iopt, from its pages cache when it has one
 * (iopt->lock held). */
struct iopt_pages *iopt_user_pages_get(struct io_pagetable *iopt,
				       uint64_t uptr, uint64_t length,
				       bool writable, enum sio_umem_acct acct,
				       int *err);
/* An area of iopt drops its reference (iopt->lock held): the pages go to
 * iopt's cache when nothing else holds or pins them. */
void iopt_pages_release(struct io_pagetable *iopt, struct iopt_pages *pages);
/* Free iopt's cached pages (the table is going). */
void iopt_pages_cache_drain(struct io_pagetable *iopt);
void iopt_pages_get(struct iopt_pages *pages);
void iopt_pages_put(struct iopt_pages *pages);
/* Where page 0 is (uptr or start): what guides IOVA alignment. */
uint64_t iopt_pages_base(const struct iopt_pages *pages);
/* Pin pages [first, last] (indexes), charging newly pinned pages, for an
 * access object or a copy: -EINVAL for a dmabuf, as in the kernel. */
int iopt_pages_pin(struct iopt_pages *pages, size_t first, size_t last,
		   bool write, struct sio_umem_pin **out);
/* The same for the pin whose alias an area maps into its domains. */
int iopt_pages_pin_domain(struct iopt_pages *pages, size_t first, size_t last,
			  struct sio_umem_pin **out);
void iopt_pages_unpin(struct iopt_pages *pages, size_t first, size_t last,
		      struct sio_umem_pin *pin);
/* Make pin of [first, last] two pins, [first, mid - 1] and [mid, last],
 * sharing its alias (the VFIO type1 cut). */
int iopt_pages_split_pin(struct iopt_pages *pages, size_t first, size_t last,
			 size_t mid, struct sio_umem_pin *pin);
/* How many live iopt_pages of the host pin the page at user address
 * uaddr (MD_CHECK_REFS); a file's pages count for the program's shared
 * mappings of that file. */
unsigned int iopt_host_page_refs(struct sio_iommufd_host *host,
				 uint64_t uaddr);

/*
 * Putting an area's pages into one domain and taking them out: map/unmap
 * do it (io_pagetable.c); the pages decide whether they run.  A dmabuf
 * runs them under pages->mutex and remembers (area, domain, unmap) so that
 * a revocation can unmap it; a revoked dmabuf maps nothing.
 */
typedef int (*iopt_area_map_fn)(struct iopt_area *area,
				struct sio_domain *domain);
typedef void (*iopt_area_unmap_fn)(struct iopt_area *area,
				   struct sio_domain *domain);
int iopt_pages_fill_domain(struct iopt_area *area, struct sio_domain *domain,
			   iopt_area_map_fn map, iopt_area_unmap_fn unmap);
void iopt_pages_unfill_domain(struct iopt_area *area,
			      struct sio_domain *domain,
			      iopt_area_unmap_fn unmap);

/* dmabuf.c: the importer side (the exporter is the selftest's; the
 * buffer they share is in dmabuf.h). */
/* The iopt_pages part of a dmabuf's pages (pages.c): not accounted. */
struct iopt_pages *iopt_pages_alloc_dmabuf(struct sio_iommufd_host *host,
					   uint64_t start, uint64_t length,
					   bool writable, int *err);
/* MAP_FILE of a dmabuf: consumes the reference of dmabuf. */
struct iopt_pages *iopt_alloc_dmabuf_pages(struct sio_iommufd_host *host,
					   struct iommufd_dmabuf *dmabuf,
					   uint64_t start, uint64_t length,
					   bool writable, int *err);
/* Called once by iopt_pages_put(): detach and drop the reference. */
void iopt_dmabuf_release_pages(struct iopt_pages *pages);
int iopt_dmabuf_fill_domain(struct iopt_area *area, struct sio_domain *domain,
			    iopt_area_map_fn map, iopt_area_unmap_fn unmap);
void iopt_dmabuf_unfill_domain(struct iopt_area *area,
			       struct sio_domain *domain,
			       iopt_area_unmap_fn unmap);

void iopt_init_table(struct io_pagetable *iopt, struct sio_iommufd_host *host);
void iopt_destroy_table(struct io_pagetable *iopt);

#define IOPT_ALLOC_IOVA 1u

int iopt_map_user_pages(struct sio_iommufd *ictx, struct io_pagetable *iopt,
			uint64_t *iova, uint64_t uptr, uint64_t length,
			unsigned int iommu_prot, unsigned int flags);
/* MAP_FILE: fd is the program's; a dmabuf or a memory file. */
int iopt_map_file_pages(struct sio_iommufd *ictx, struct io_pagetable *iopt,
			uint64_t *iova, int fd, uint64_t start, uint64_t length,
			unsigned int iommu_prot, unsigned int flags);
/* COPY: map [src_iova, +length) of src into dst. */
int iopt_copy(struct io_pagetable *src, struct io_pagetable *dst,
	      uint64_t src_iova, uint64_t length, uint64_t *dst_iova,
	      unsigned int iommu_prot, unsigned int flags);
int iopt_unmap_iova(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		    uint64_t *unmapped);
int iopt_unmap_all(struct io_pagetable *iopt, uint64_t *unmapped);
/* VFIO type1: split the areas holding each iova so that it ends one. */
int iopt_cut_iova(struct io_pagetable *iopt, const uint64_t *iovas,
		  size_t num_iovas);
/* Replace the allowed ranges with the given ones (already validated). */
int iopt_set_allow_iova(struct io_pagetable *iopt,
			const struct iommu_iova_range *ranges, uint32_t num);
int iopt_reserve_iova(struct io_pagetable *iopt, uint64_t start,
		      uint64_t last, const void *owner);
void iopt_remove_reserved_iova(struct io_pagetable *iopt, const void *owner);
int iopt_table_enforce_dev_resv_regions(struct io_pagetable *iopt,
					struct sio_device *dev);
int iopt_table_add_domain(struct io_pagetable *iopt, struct sio_domain *domain);
void iopt_table_remove_domain(struct io_pagetable *iopt,
			      struct sio_domain *domain);
int iopt_disable_large_pages(struct io_pagetable *iopt);
void iopt_enable_large_pages(struct io_pagetable *iopt);
/* IOAS_IOVA_RANGES: calls fn for each allowed hole of reserved ranges. */
int iopt_for_each_iova_range(struct io_pagetable *iopt,
			     int (*fn)(uint64_t start, uint64_t last, void *arg),
			     void *arg, uint64_t *alignment);

/*
 * Accesses (access.c) as the iopt sees them.  An access belongs to an IOAS
 * through a link of its own, not a node embedded in the access: while it
 * changes IOAS it is briefly in both, as in the kernel (which keeps an ID
 * per membership in an xarray for the same reason).
 */
struct iommufd_access;
struct iopt_access_link {
	struct cds_list_head node;	/* in iopt->accesses, under iopt->lock */
	struct iommufd_access *access;
};
int iopt_add_access(struct io_pagetable *iopt, struct iommufd_access *access,
		    struct iopt_access_link **out);
void iopt_remove_access(struct io_pagetable *iopt,
			struct iopt_access_link *link);
void iommufd_access_notify_unmap(struct io_pagetable *iopt, uint64_t iova,
				 uint64_t length);

#endif
