/*
 * The PASID space's free-value finder (see idalloc.h for the layout).
 */
#include "pasid/idalloc.h"

#include <errno.h>
#include <stdlib.h>
#include "util/fail.h"

/* Bits below n set (n < 64). */
static uint64_t below(unsigned int n)
{
	return n ? (1ull << n) - 1 : 0;
}

int idalloc_init(struct idalloc *a)
{
	*a = (struct idalloc){ 0 };
	a->used = sio_calloc(IDALLOC_WORDS, sizeof(uint64_t));
	a->reserved = sio_calloc(IDALLOC_WORDS, sizeof(uint64_t));
	if (!a->used || !a->reserved) {
		idalloc_destroy(a);
		return -ENOMEM;
	}
	return 0;
}

void idalloc_destroy(struct idalloc *a)
{
	free(a->used);
	free(a->reserved);
	a->used = a->reserved = NULL;
}

/* The first free value inside bitmap word w (which is not full). */
static int64_t first_in_word(const struct idalloc *a, uint32_t w)
{
	return (int64_t)w * 64 + __builtin_ctzll(~a->used[w]);
}

/* The first word that is not full inside middle word m (not full). */
static uint32_t first_word_in_mid(const struct idalloc *a, uint32_t m)
{
	return m * 64 + (uint32_t)__builtin_ctzll(~a->mid[m]);
}

int64_t idalloc_next_free(const struct idalloc *a, uint32_t from)
{
	uint32_t w, m;
	uint64_t x;

	if (from >> IDALLOC_BITS)
		return -1;
	/* The word of from itself, ignoring the values below from. */
	w = from / 64;
	x = a->used[w] | below(from % 64);
	if (~x)
		return (int64_t)w * 64 + __builtin_ctzll(~x);
	/* The next word that is not full, in the same middle word... */
	if (++w == IDALLOC_WORDS)
		return -1;
	m = w / 64;
	x = a->mid[m] | below(w % 64);
	if (~x)
		return first_in_word(a, m * 64 + (uint32_t)__builtin_ctzll(~x));
	/* ...or in a later middle word that the top level says is not full. */
	if (++m == IDALLOC_MID_WORDS)
		return -1;
	for (uint32_t t = m / 64; t < IDALLOC_TOP_WORDS; t++) {
		x = a->top[t] | (t == m / 64 ? below(m % 64) : 0);
		if (~x) {
			uint32_t mm = t * 64 + (uint32_t)__builtin_ctzll(~x);

			return first_in_word(a, first_word_in_mid(a, mm));
		}
	}
	return -1;
}

void idalloc_set(struct idalloc *a, uint32_t id)
{
	uint32_t w = id / 64, m = w / 64;

	a->used[w] |= 1ull << (id % 64);
	if (~a->used[w])
		return;
	a->mid[m] |= 1ull << (w % 64);
	if (~a->mid[m])
		return;
	a->top[m / 64] |= 1ull << (m % 64);
}

void idalloc_clear(struct idalloc *a, uint32_t id)
{
	uint32_t w = id / 64, m = w / 64;

	a->used[w] &= ~(1ull << (id % 64));
	a->mid[m] &= ~(1ull << (w % 64));
	a->top[m / 64] &= ~(1ull << (m % 64));
}

void idalloc_reserve(struct idalloc *a, uint32_t id)
{
	a->reserved[id / 64] |= 1ull << (id % 64);
	idalloc_set(a, id);
}

/* The bits of word w that lie inside [first, last]. */
static uint64_t range_mask(uint32_t w, uint32_t first, uint32_t last)
{
	uint64_t mask = ~0ull;

	if (w == first / 64)
		mask &= ~below(first % 64);
	if (w == last / 64 && last % 64 != 63)
		mask &= below(last % 64 + 1);
	return mask;
}

bool idalloc_any_used(const struct idalloc *a, uint32_t first, uint32_t last)
{
	for (uint32_t w = first / 64; w <= last / 64; w++)
		if (a->used[w] & ~a->reserved[w] & range_mask(w, first, last))
			return true;
	return false;
}

uint32_t idalloc_count_reserved(const struct idalloc *a, uint32_t first,
				uint32_t last)
{
	uint32_t n = 0;

	for (uint32_t w = first / 64; w <= last / 64; w++)
		n += (uint32_t)__builtin_popcountll(a->reserved[w] &
						    range_mask(w, first, last));
	return n;
}
