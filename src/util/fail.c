/*
 * Fault injection: the per-thread fail-nth countdown and the allocation
 * wrappers that make every allocation a site (fail.h).
 */
#include <stdlib.h>
#include <string.h>

#include "util/fail.h"

__thread unsigned int sio_fail_nth_left SIO_TLS_IE;

/* Which kinds count; atomics, process-wide like the debugfs knobs. */
static bool kind_counts[SIO_FAIL_NR_KINDS] = {
	[SIO_FAIL_USERCOPY] = true,
};
static unsigned long injected;

bool sio_fail_hit(enum sio_fail_kind kind)
{
	if (kind >= SIO_FAIL_NR_KINDS ||
	    !__atomic_load_n(&kind_counts[kind], __ATOMIC_RELAXED))
		return false;
	if (--sio_fail_nth_left)
		return false;
	__atomic_add_fetch(&injected, 1, __ATOMIC_RELAXED);
	return true;
}

SIO_API void sio_fail_nth_set(unsigned int n)
{
	sio_fail_nth_left = n;
}

SIO_API unsigned int sio_fail_nth_get(void)
{
	return sio_fail_nth_left;
}

SIO_API void sio_fail_kind_enable(enum sio_fail_kind kind, bool counts)
{
	if (kind < SIO_FAIL_NR_KINDS)
		__atomic_store_n(&kind_counts[kind], counts, __ATOMIC_RELAXED);
}

SIO_API bool sio_fail_kind_enabled(enum sio_fail_kind kind)
{
	return kind < SIO_FAIL_NR_KINDS &&
	       __atomic_load_n(&kind_counts[kind], __ATOMIC_RELAXED);
}

SIO_API unsigned long sio_fail_injected(void)
{
	return __atomic_load_n(&injected, __ATOMIC_RELAXED);
}

void *sio_malloc(size_t size)
{
	if (sio_should_fail(SIO_FAIL_SLAB))
		return NULL;
	return malloc(size);
}

void *sio_calloc(size_t n, size_t size)
{
	if (sio_should_fail(SIO_FAIL_SLAB))
		return NULL;
	return calloc(n, size);
}

void *sio_realloc(void *p, size_t size)
{
	if (sio_should_fail(SIO_FAIL_SLAB))
		return NULL;
	return realloc(p, size);
}

char *sio_strdup(const char *s)
{
	if (sio_should_fail(SIO_FAIL_SLAB))
		return NULL;
	return strdup(s);
}
