/*
 * I/O page tables: one generic interface over real hardware formats.
 *
 * This is the bottom layer: pure data-structure code with no knowledge of
 * devices or domains.  A table is created for a configuration (format,
 * input/output address bits, granule, features) chosen at run time; drivers
 * map and unmap through it and the device data path looks addresses up in
 * it.  Table pages come from one accounted allocator, so table memory is
 * measurable and returns to zero when every table is freed.
 *
 * Concurrency: map and unmap on one table are serialized by the caller
 * (different ranges may not race either).  sio_pt_lookup() and
 * sio_pt_iova_to_phys() may run concurrently with map/unmap from any thread
 * inside an RCU read-side section: a reader sees either the old or the new
 * entry, never a torn one, and never a freed table page, because unmap puts
 * the table pages it frees on the gather's freelist and the caller releases
 * them with sio_pt_free_deferred() only after a grace period.
 */
#ifndef SOFTIOMMU_PGTABLE_H
#define SOFTIOMMU_PGTABLE_H

#include "softiommu/common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum sio_pt_format {
	SIO_PT_MOCK = 1,	/* AMD v1 encoding with a 2 KiB granule (selftest) */
	SIO_PT_ARM_LPAE_S1,	/* Arm VMSAv8-64 stage 1 (4K/16K/64K granule) */
	SIO_PT_ARM_LPAE_S2,	/* Arm VMSAv8-64 stage 2 */
	SIO_PT_X86_64,		/* x86-64 4/5-level: VT-d first stage, AMD v2, CPU */
	SIO_PT_VTD_SS,		/* Intel VT-d second stage */
	SIO_PT_AMD_V1,		/* AMD IOMMU v1 host page table */
	SIO_PT_RISCV_SV39,
	SIO_PT_RISCV_SV48,
	SIO_PT_RISCV_SV57,
};

enum sio_pt_feature {
	SIO_PT_FEAT_DIRTY = 1u << 0,	/* track dirty bits in the leaves */
};

/* The range an unmap touched, for one batched IOTLB flush, and the table
 * pages it freed, to release after no walker can still see them. */
struct sio_pt_page;
struct sio_iotlb_gather {
	uint64_t start;	/* inclusive; start > end means empty */
	uint64_t end;	/* inclusive */
	size_t pgsize;	/* the page size of the unmapped leaves, 0 if mixed */
	struct sio_pt_page *freelist;
};

static inline void sio_iotlb_gather_init(struct sio_iotlb_gather *g)
{
	g->start = UINT64_MAX;
	g->end = 0;
	g->pgsize = 0;
	g->freelist = NULL;
}

static inline void sio_iotlb_gather_add_range(struct sio_iotlb_gather *g,
					      uint64_t iova, uint64_t size)
{
	uint64_t last = iova + size - 1;

	if (iova < g->start)
		g->start = iova;
	if (last > g->end)
		g->end = last;
}

/* Callbacks a driver gives a table so it can batch its flushes. */
struct sio_pt_flush_ops {
	void (*tlb_flush_all)(void *cookie);
	/* Intermediate tables under [iova, iova+size) changed. */
	void (*tlb_flush_walk)(uint64_t iova, size_t size, size_t granule,
			       void *cookie);
	/* A leaf was removed: add it to the gather (or flush it now). */
	void (*tlb_add_page)(struct sio_iotlb_gather *gather, uint64_t iova,
			     size_t granule, void *cookie);
};

struct sio_pt_cfg {
	enum sio_pt_format format;
	unsigned int ias;	/* input (IOVA) address bits */
	unsigned int oas;	/* output address bits */
	unsigned int granule_lg2;	/* ARM: 12, 14 or 16; 0 = format default */
	unsigned int levels;	/* x86-64: 4 or 5; 0 = derived from ias */
	uint32_t features;	/* SIO_PT_FEAT_* */
	const struct sio_pt_flush_ops *flush;	/* may be NULL */
	void *cookie;
};

/* The result of a lookup of one IOVA. */
struct sio_xlate {
	uint64_t phys;		/* host address the IOVA translates to */
	uint64_t page_size;	/* size of the leaf that maps it */
	unsigned int prot;	/* SIO_PROT_* of the leaf */
};

struct sio_pt;

SIO_API int sio_pt_create(const struct sio_pt_cfg *cfg, struct sio_pt **out);
/* Frees the table and every table page; the caller guarantees no walker. */
SIO_API void sio_pt_destroy(struct sio_pt *pt);

/* Page sizes this table can map, and the IOVA range it covers. */
SIO_API uint64_t sio_pt_pgsize_bitmap(const struct sio_pt *pt);
SIO_API uint64_t sio_pt_iova_last(const struct sio_pt *pt);
SIO_API const struct sio_pt_cfg *sio_pt_config(const struct sio_pt *pt);

/* Map count pages of pgsize: -EINVAL unaligned or pgsize unsupported or
 * beyond the table, -EEXIST over an existing mapping, -ENOMEM.  *mapped
 * counts the bytes mapped even on failure (the caller unmaps them). */
SIO_API int sio_pt_map_pages(struct sio_pt *pt, uint64_t iova, uint64_t pa,
			     size_t pgsize, size_t count, unsigned int prot,
			     size_t *mapped);
/* Unmap count pages of pgsize; returns bytes unmapped, stopping at the first
 * hole.  Unmapping part of a large page follows the format's rule (see
 * docs/pgtable.md): a range starting inside a leaf unmaps nothing there, a
 * range ending inside a leaf removes the whole leaf (the return value is
 * then larger than asked).  Table pages the unmap frees (and any a map
 * replaced) go on gather->freelist; release them with
 * sio_pt_free_deferred() after a grace period.  gather may be NULL: the
 * pages then wait in the table for the next unmap with a gather, or
 * destroy.  Calls flush->tlb_add_page per removed leaf and
 * flush->tlb_flush_walk once if tables were freed; the gather's range and
 * pgsize are updated either way. */
SIO_API size_t sio_pt_unmap_pages(struct sio_pt *pt, uint64_t iova,
				  size_t pgsize, size_t count,
				  struct sio_iotlb_gather *gather);
/* Lock-free lookup: 0 and *out, or -ENOENT. */
SIO_API int sio_pt_lookup(const struct sio_pt *pt, uint64_t iova,
			  struct sio_xlate *out);
SIO_API uint64_t sio_pt_iova_to_phys(const struct sio_pt *pt, uint64_t iova);

/* Dirty tracking: report dirty leaves that intersect [iova, iova+size) to
 * record() (each as its whole leaf: start and size of the page, which may
 * extend beyond the range) and clear them unless SIO_PT_DIRTY_NO_CLEAR;
 * calls flush->tlb_flush_all once if anything was cleared.  -EOPNOTSUPP
 * for Arm tables created without SIO_PT_FEAT_DIRTY. */
enum { SIO_PT_DIRTY_NO_CLEAR = 1u << 0 };
SIO_API int sio_pt_read_and_clear_dirty(struct sio_pt *pt, uint64_t iova,
					size_t size, unsigned int flags,
					void (*record)(void *arg, uint64_t iova,
						       uint64_t len),
					void *arg);
/* Mark the leaf that maps iova write-dirty, as the hardware does when a
 * device writes through it with dirty tracking on (the device data path and
 * the selftest's IOMMU_TEST_OP_DIRTY use it).  Lock-free like a lookup:
 * call it inside an RCU read section.  0, -ENOENT if iova is not mapped,
 * -EPERM if the leaf cannot become dirty (Arm: not writable with DBM),
 * -EOPNOTSUPP if the format has no dirty state. */
SIO_API int sio_pt_set_dirty(struct sio_pt *pt, uint64_t iova);

/* A read-only walk over every leaf, in IOVA order, for tools that show a
 * table as the hardware holds it.  Each leaf comes with the raw entries on
 * its path: entry[levels - 1] is the root's, entry[level] the leaf's, and
 * the entries below the leaf's level are 0.  Levels count from 0, the
 * smallest pages.  Lock-free like a lookup (inside an RCU read section
 * when map or unmap may run).  Stops at the first non-zero return of fn
 * and returns it; 0 after the last leaf. */
#define SIO_PT_MAX_LEVELS 6
struct sio_pt_leaf {
	uint64_t iova;		/* first IOVA the leaf maps */
	uint64_t size;		/* bytes it maps */
	unsigned int level;	/* level of the leaf entry */
	unsigned int levels;	/* levels of the table */
	uint64_t entry[SIO_PT_MAX_LEVELS];
};
SIO_API int sio_pt_for_each_leaf(const struct sio_pt *pt,
				 int (*fn)(void *arg,
					   const struct sio_pt_leaf *leaf),
				 void *arg);
/* The address of the root table (what a context or PASID entry holds). */
SIO_API uint64_t sio_pt_root_address(const struct sio_pt *pt);

/* Release table pages an unmap put on a gather, after a grace period. */
SIO_API void sio_pt_free_deferred(struct sio_pt_page *freelist);

/* The accounted allocator's counters, over all tables of the process. */
struct sio_pt_mem_stats {
	uint64_t pages;		/* table pages allocated now */
	uint64_t bytes;		/* bytes of table memory allocated now */
};
SIO_API void sio_pt_mem_stats(struct sio_pt_mem_stats *out);

#ifdef __cplusplus
}
#endif
#endif
