/*
 * The data path's IOTLB: per device, a direct-mapped cache of
 * (IOVA leaf, PASID) -> host address of the leaf, its size and
 * permissions, filled by a translation that walked the table and consulted
 * before the next one walks.
 *
 * Invalidation is by tag, not by search.  Each entry carries the tag of
 * the domain it was filled from (domain->iotlb_gen) and, for a nested
 * domain, its parent's.  Tags come from one global clock (iotlb.c): every
 * domain gets a fresh one at init, and every unmap and every invalidation
 * of the domain's caches (cache_invalidate_user, a vIOMMU invalidation,
 * sio_domain_iotlb_invalidate) takes a new one.  So an entry matches only
 * the domain it was filled from, in the state it was filled in:
 *  - unmap: the domain's new tag makes every entry of it miss, and the walk
 *    that follows sees the cleared entries;
 *  - attach, replace, detach, PASID detach, device removal: the data path
 *    finds the domain now attached first and compares with its tag, which
 *    no entry of another domain carries, even one allocated at a freed
 *    domain's address;
 *  - a parent's unmap makes its nested domains' entries miss (the parent
 *    tag).
 * A hit is one tag compare and no walk.  An entry also records what was
 * attached at (device, PASID) when it was filled, with the group's
 * attach_gen read before that lookup; sio_dma_translate() that finds the
 * group's attach_gen unchanged takes the domain from the entry instead of
 * resolving the RID or the PASID table again (a PASID costs four dependent
 * loads there): every attach, replace, detach and PASID change stores a
 * new attach_gen after publishing, so an unchanged one means the domain
 * in the entry is still the one attached.  Only paging and nested domains
 * are cached; SVA domains have their driver's own cache keyed by the mm.
 *
 * Entries are written by whichever DMA thread missed, so several threads
 * may fill one slot at once: each entry is a sequence lock (odd while
 * written), a filler that finds it odd or loses the race gives up, and a
 * reader that sees it change treats the entry as a miss.  Every field is
 * an atomic; no lock is taken.  Negative results are never cached, so a
 * map needs no invalidation.  The driver's own IOTLB semantics (the mock's
 * MD_CHECK_IOTLB entries) are the driver's and are not this cache.
 */
#ifndef SIO_CORE_IOTLB_H
#define SIO_CORE_IOTLB_H

#include <stdbool.h>
#include <stdint.h>

#include "softiommu/common.h"

#define SIO_IOTLB_ENTRIES 1024u	/* a power of two */
#define SIO_IOTLB_SHIFT 12	/* slots are chosen by the 4 KiB page */

struct sio_domain;

struct sio_iotlb_entry {
	uint32_t seq;		/* even: stable; odd: being written */
	uint32_t pasid;
	uint64_t base;		/* IOVA of the leaf */
	uint64_t host;		/* host address of the leaf */
	uint64_t tag;		/* the domain's iotlb_gen when filled */
	uint64_t ptag;		/* the parent's, nested; else 0 */
	uint64_t agen;		/* the group's attach_gen, read before the
				 * domain was looked up */
	struct sio_domain *domain;	/* what was attached at (dev, pasid) */
	uint32_t lg2_prot;	/* log2 of the leaf size | SIO_PROT_* << 8 */
	uint32_t pad;
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct sio_iotlb_entry) == 64, "one entry, one line");

struct sio_iotlb {
	struct sio_iotlb_entry e[SIO_IOTLB_ENTRIES];
};

/* What a hit gives: the translation, and the domain and tags it was made
 * with, for the caller to check against the domain's tags now. */
struct sio_iotlb_hit {
	uint64_t host;		/* host address of iova */
	uint64_t len;		/* bytes from there to the leaf's end */
	unsigned int prot;
	uint64_t tag, ptag, agen;
	struct sio_domain *domain;
};

static inline struct sio_iotlb_entry *
sio_iotlb_slot(struct sio_iotlb *t, sio_pasid_t pasid, uint64_t iova)
{
	uint64_t h = (iova >> SIO_IOTLB_SHIFT) ^ ((uint64_t)pasid * 0x9e3779b1u);

	return &t->e[h & (SIO_IOTLB_ENTRIES - 1)];
}

#define SIO_LD(p) __atomic_load_n(&(p), __ATOMIC_RELAXED)
#define SIO_ST(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELAXED)

/* A consistent read of the entry for (pasid, iova), if it covers iova;
 * the tags are the caller's to compare. */
static inline bool sio_iotlb_read(struct sio_iotlb *t, sio_pasid_t pasid,
				  uint64_t iova, struct sio_iotlb_hit *out)
{
	struct sio_iotlb_entry *e = sio_iotlb_slot(t, pasid, iova);
	uint32_t s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
	uint64_t base, host;
	uint32_t epasid, lg2p, lg2;

	if (s & 1)
		return false;
	epasid = SIO_LD(e->pasid);
	base = SIO_LD(e->base);
	host = SIO_LD(e->host);
	out->tag = SIO_LD(e->tag);
	out->ptag = SIO_LD(e->ptag);
	out->agen = SIO_LD(e->agen);
	out->domain = SIO_LD(e->domain);
	lg2p = SIO_LD(e->lg2_prot);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	lg2 = lg2p & 0xff;
	if (SIO_LD(e->seq) != s || epasid != pasid || lg2 >= 64 ||
	    ((iova ^ base) >> lg2))
		return false;
	out->host = host + (iova - base);
	out->len = (1ull << lg2) - (iova - base);
	out->prot = lg2p >> 8;
	return true;
}

/* A hit for a caller that knows the domain and its tags. */
static inline bool sio_iotlb_lookup(struct sio_iotlb *t, sio_pasid_t pasid,
				    uint64_t iova, const struct sio_domain *d,
				    uint64_t tag, uint64_t ptag,
				    struct sio_iotlb_hit *out)
{
	return sio_iotlb_read(t, pasid, iova, out) && out->domain == d &&
	       out->tag == tag && out->ptag == ptag;
}

/* Record a translation a walk made with the tags read before it. */
static inline void sio_iotlb_fill(struct sio_iotlb *t, sio_pasid_t pasid,
				  uint64_t iova, struct sio_domain *d,
				  uint64_t agen, uint64_t tag, uint64_t ptag,
				  uint64_t phys, uint64_t page_size,
				  unsigned int prot)
{
	struct sio_iotlb_entry *e = sio_iotlb_slot(t, pasid, iova);
	uint32_t s = SIO_LD(e->seq);
	uint64_t off = iova & (page_size - 1);

	if ((s & 1) ||
	    !__atomic_compare_exchange_n(&e->seq, &s, s + 1, false,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;		/* another thread is filling it */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	SIO_ST(e->pasid, pasid);
	SIO_ST(e->base, iova - off);
	SIO_ST(e->host, phys - off);
	SIO_ST(e->tag, tag);
	SIO_ST(e->ptag, ptag);
	SIO_ST(e->agen, agen);
	SIO_ST(e->domain, d);
	SIO_ST(e->lg2_prot, (uint32_t)__builtin_ctzll(page_size) | prot << 8);
	__atomic_store_n(&e->seq, s + 2, __ATOMIC_RELEASE);
}

#undef SIO_LD
#undef SIO_ST

#endif
