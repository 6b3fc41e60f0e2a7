/*
 * The free-value finder of a PASID space: which of the 2^20 values are in
 * use, and the lowest free one at or above a bound, in constant time.
 *
 * A bitmap of 2^20 bits (1 = in use or reserved) with two summary levels
 * above it: bit w of the middle level says word w of the bitmap is full,
 * bit m of the top level says word m of the middle level is full.  Finding
 * the next free value looks at one word per level, plus at most four top
 * words.  Reserved values are also kept in a flat bitmap of their own, so
 * that "in use" and "reserved" can be told apart.  No lock: the space's
 * lock serializes every call.
 */
#ifndef SIO_PASID_IDALLOC_H
#define SIO_PASID_IDALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "softiommu/common.h"

#define IDALLOC_BITS SIO_PASID_MAX_BITS
#define IDALLOC_WORDS ((1u << IDALLOC_BITS) / 64)	/* 16384 */
#define IDALLOC_MID_WORDS (IDALLOC_WORDS / 64)		/* 256 */
#define IDALLOC_TOP_WORDS (IDALLOC_MID_WORDS / 64)	/* 4 */

struct idalloc {
	uint64_t *used;		/* IDALLOC_WORDS: in use or reserved */
	uint64_t *reserved;	/* IDALLOC_WORDS: reserved only */
	uint64_t mid[IDALLOC_MID_WORDS];
	uint64_t top[IDALLOC_TOP_WORDS];
};

int idalloc_init(struct idalloc *a);
void idalloc_destroy(struct idalloc *a);

/* The lowest value >= from that is neither in use nor reserved, or -1. */
int64_t idalloc_next_free(const struct idalloc *a, uint32_t from);
void idalloc_set(struct idalloc *a, uint32_t id);
void idalloc_clear(struct idalloc *a, uint32_t id);
void idalloc_reserve(struct idalloc *a, uint32_t id);

/* Scans, for the rare width and reservation changes: values in use (not
 * reserved) in [first, last], and reserved values below limit. */
bool idalloc_any_used(const struct idalloc *a, uint32_t first, uint32_t last);
uint32_t idalloc_count_reserved(const struct idalloc *a, uint32_t first,
				uint32_t last);

#endif
