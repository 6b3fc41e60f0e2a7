/*
 * User-memory owners, pins and RLIMIT_MEMLOCK accounting: the part of the
 * layer that does not depend on whose address space it is.
 *
 * Accounting follows iommufd (drivers/iommu/iommufd/pages.c):
 *  - USER mode charges a counter per uid, as the kernel charges
 *    user->locked_vm; every owner of that uid in this process shares it.
 *  - MM mode charges the owner itself, as the kernel charges mm->locked_vm.
 *  - Either fails with -ENOMEM when the counter would pass the owner's
 *    RLIMIT_MEMLOCK soft limit, checked at charge time.
 *  - Every charge, NONE included, counts in the owner's "pinned" (the
 *    kernel's mm->pinned_vm, VmPin in /proc/<pid>/status).
 *  - Whether CAP_IPC_LOCK turns a charge into NONE is decided once, when a
 *    pin is made (as iommufd decides when it creates an iopt_pages), and
 *    remembered so that unpin takes back exactly what was charged.
 * Counters are atomics updated by compare-and-swap, so charging takes no
 * lock and two racing charges cannot both slip under the limit.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "umem/umem.h"
#include "util/fail.h"

/* Per-uid USER-mode counters.  Entries are few (one per uid that ever
 * charged) and are never freed, so a pin or owner can point at one without
 * a reference. */
struct sio_umem_user {
	struct sio_umem_user *next;	/* under users_lock */
	uid_t uid;
	uint64_t locked;		/* atomic: pages */
};

static pthread_mutex_t users_lock = PTHREAD_MUTEX_INITIALIZER; /* protects users */
static struct sio_umem_user *users;

static struct sio_umem_user *user_lookup(uid_t uid, bool create)
{
	struct sio_umem_user *u;

	pthread_mutex_lock(&users_lock);
	for (u = users; u; u = u->next)
		if (u->uid == uid)
			break;
	if (!u && create) {
		u = sio_calloc(1, sizeof(*u));
		if (u) {
			u->uid = uid;
			u->next = users;
			users = u;
		}
	}
	pthread_mutex_unlock(&users_lock);
	return u;
}

int sio_umem_owner_init(struct sio_umem_owner *owner,
			const struct sio_umem_owner_ops *ops, uid_t uid,
			size_t page_size)
{
	if (!page_size || (page_size & (page_size - 1)))
		return sio_err(-EINVAL, "umem: page size %zu is not a power of two",
			       page_size);
	owner->refcount = 1;
	owner->spare_pin = NULL;
	owner->ops = ops;
	owner->page_size = page_size;
	owner->page_shift = (unsigned int)__builtin_ctzl(page_size);
	owner->uid = uid;
	owner->user = user_lookup(uid, true);
	if (!owner->user)
		return sio_err(-ENOMEM, "umem: out of memory");
	return 0;
}

SIO_API struct sio_umem_owner *sio_umem_owner_get(struct sio_umem_owner *owner)
{
	__atomic_add_fetch(&owner->refcount, 1, __ATOMIC_RELAXED);
	return owner;
}

SIO_API void sio_umem_owner_put(struct sio_umem_owner *owner)
{
	if (!owner || __atomic_sub_fetch(&owner->refcount, 1, __ATOMIC_ACQ_REL))
		return;
	/* Pins hold references, so nothing can still be charged here except
	 * explicit charges a caller forgot to take back. */
	if (__atomic_load_n(&owner->pinned, __ATOMIC_RELAXED))
		fprintf(stderr, "softiommu: umem owner freed with %llu pages "
			"still charged\n",
			(unsigned long long)owner->pinned);
	free(owner->spare_pin);
	owner->ops->release(owner);
}

SIO_API size_t sio_umem_page_size(const struct sio_umem_owner *owner)
{
	return owner->page_size;
}

/* ------------------------------------------------------------------ */
/* Copies                                                               */
/* ------------------------------------------------------------------ */

static int check_range(uint64_t uaddr, size_t len)
{
	uint64_t end;

	if (__builtin_add_overflow(uaddr, (uint64_t)len, &end))
		return sio_err(-EFAULT, "umem: range 0x%llx+0x%zx wraps",
			       (unsigned long long)uaddr, len);
	return 0;
}

SIO_API int sio_umem_read(struct sio_umem_owner *owner, void *dst,
			  uint64_t uaddr, size_t len)
{
	int rc;

	sio_err_clear();
	if (!len)
		return 0;
	rc = check_range(uaddr, len);
	if (rc)
		return rc;
	if (sio_should_fail(SIO_FAIL_USERCOPY))
		return sio_err(-EFAULT, "umem: read of %#llx failed (injected)",
			       (unsigned long long)uaddr);
	return owner->ops->read(owner, dst, uaddr, len);
}

SIO_API int sio_umem_write(struct sio_umem_owner *owner, uint64_t uaddr,
			   const void *src, size_t len)
{
	int rc;

	sio_err_clear();
	if (!len)
		return 0;
	rc = check_range(uaddr, len);
	if (rc)
		return rc;
	if (sio_should_fail(SIO_FAIL_USERCOPY))
		return sio_err(-EFAULT, "umem: write to %#llx failed (injected)",
			       (unsigned long long)uaddr);
	return owner->ops->write(owner, uaddr, src, len);
}

/* ------------------------------------------------------------------ */
/* Accounting                                                           */
/* ------------------------------------------------------------------ */

/* Add n to *ctr unless the result passes limit (the kernel's
 * incr_user_locked_vm and __account_locked_vm). */
static bool counter_add_limited(uint64_t *ctr, uint64_t n, uint64_t limit)
{
	uint64_t cur = __atomic_load_n(ctr, __ATOMIC_RELAXED);
	uint64_t next;

	do {
		if (__builtin_add_overflow(cur, n, &next) || next > limit)
			return false;
	} while (!__atomic_compare_exchange_n(ctr, &cur, next, true,
					      __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return true;
}

static void counter_sub(uint64_t *ctr, uint64_t n, const char *what)
{
	uint64_t cur = __atomic_load_n(ctr, __ATOMIC_RELAXED);
	uint64_t next;

	do {
		if (cur < n) {
			/* A caller bug (the kernel WARNs); clamp rather than
			 * wrap so one bug does not block every later pin. */
			fprintf(stderr, "softiommu: umem: uncharging %llu pages "
				"from %s holding %llu\n", (unsigned long long)n,
				what, (unsigned long long)cur);
			next = 0;
		} else {
			next = cur - n;
		}
	} while (!__atomic_compare_exchange_n(ctr, &cur, next, true,
					      __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
}

SIO_API enum sio_umem_acct sio_umem_acct_effective(struct sio_umem_owner *owner,
						   enum sio_umem_acct acct)
{
	struct sio_umem_limits lim;

	if (acct == SIO_UMEM_ACCT_NONE)
		return acct;
	/* If the capability cannot be read, charging is the safe side. */
	if (owner->ops->limits(owner, false, &lim) == 0 && lim.cap_ipc_lock)
		return SIO_UMEM_ACCT_NONE;
	return acct;
}

SIO_API int sio_umem_charge(struct sio_umem_owner *owner,
			    enum sio_umem_acct acct, size_t npages)
{
	struct sio_umem_limits lim;
	uint64_t limit;
	int rc;

	sio_err_clear();
	if (acct != SIO_UMEM_ACCT_NONE && acct != SIO_UMEM_ACCT_USER &&
	    acct != SIO_UMEM_ACCT_MM)
		return sio_err(-EINVAL, "umem: unknown accounting mode %d",
			       (int)acct);
	if (!npages)
		return 0;
	if (acct != SIO_UMEM_ACCT_NONE) {
		rc = owner->ops->limits(owner, true, &lim);
		if (rc)
			return rc;
		limit = lim.memlock_bytes >> owner->page_shift;
		if (!counter_add_limited(acct == SIO_UMEM_ACCT_USER ?
						 &owner->user->locked :
						 &owner->locked_mm,
					 npages, limit))
			return sio_err(-ENOMEM,
				       "umem: pinning %zu pages passes "
				       "RLIMIT_MEMLOCK (%llu pages, %s mode)",
				       npages, (unsigned long long)limit,
				       acct == SIO_UMEM_ACCT_USER ? "user" :
								    "mm");
	}
	__atomic_add_fetch(&owner->pinned, npages, __ATOMIC_RELAXED);
	return 0;
}

SIO_API void sio_umem_uncharge(struct sio_umem_owner *owner,
			       enum sio_umem_acct acct, size_t npages)
{
	if (!npages)
		return;
	if (acct == SIO_UMEM_ACCT_USER)
		counter_sub(&owner->user->locked, npages, "the user counter");
	else if (acct == SIO_UMEM_ACCT_MM)
		counter_sub(&owner->locked_mm, npages, "the mm counter");
	counter_sub(&owner->pinned, npages, "the pinned counter");
}

SIO_API void sio_umem_owner_stats(struct sio_umem_owner *owner,
				  struct sio_umem_stats *out)
{
	out->pinned = __atomic_load_n(&owner->pinned, __ATOMIC_RELAXED);
	out->locked_mm = __atomic_load_n(&owner->locked_mm, __ATOMIC_RELAXED);
	out->locked_user = __atomic_load_n(&owner->user->locked,
					   __ATOMIC_RELAXED);
}

SIO_API uint64_t sio_umem_user_locked(uid_t uid)
{
	struct sio_umem_user *u = user_lookup(uid, false);

	return u ? __atomic_load_n(&u->locked, __ATOMIC_RELAXED) : 0;
}

/* ------------------------------------------------------------------ */
/* Pins                                                                 */
/* ------------------------------------------------------------------ */

/*
 * A pin's struct: each owner keeps the last one freed for the next pin (a
 * map and unmap in a loop allocates nothing), taken and given back by one
 * atomic exchange each.  A caller that pins and unpins under a lock of its
 * own may keep the struct of its last unpin instead (sio_umem_unpin_keep,
 * sio_umem_pin_in): no atomic at all, and the struct keeps its owner
 * reference for the next pin of the same owner.  Not while fault
 * injection is armed: then the allocation site counts.
 */
static struct sio_umem_pin *pin_alloc(struct sio_umem_owner *owner)
{
	struct sio_umem_pin *pin = NULL;

	if (!sio_fail_nth_left &&
	    __atomic_load_n(&owner->spare_pin, __ATOMIC_RELAXED))
		pin = __atomic_exchange_n(&owner->spare_pin, NULL,
					  __ATOMIC_ACQUIRE);
	if (!pin)
		return sio_calloc(1, sizeof(*pin));
	memset(pin, 0, sizeof(*pin));
	return pin;
}

static void pin_free(struct sio_umem_owner *owner, struct sio_umem_pin *pin)
{
	struct sio_umem_pin *none = NULL;

	if (!__atomic_compare_exchange_n(&owner->spare_pin, &none, pin, false,
					 __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		free(pin);
}

/* The checks of a pin's arguments (iopt_alloc_pages()'s errnos). */
static int pin_check(struct sio_umem_owner *owner, uint64_t addr, size_t len,
		     unsigned int flags, enum sio_umem_acct acct,
		     uint64_t *end)
{
	if (flags & ~(SIO_UMEM_PIN_WRITE | SIO_UMEM_PIN_NOCHARGE |
		      SIO_UMEM_PIN_HELD))
		return sio_err(-EINVAL, "umem: unknown pin flags 0x%x", flags);
	if (acct != SIO_UMEM_ACCT_NONE && acct != SIO_UMEM_ACCT_USER &&
	    acct != SIO_UMEM_ACCT_MM)
		return sio_err(-EINVAL, "umem: unknown accounting mode %d",
			       (int)acct);
	/* iopt_alloc_pages(): a zero length, or one whose page count would
	 * overflow, is EINVAL; a range that wraps is EOVERFLOW. */
	if (!len || len > SIZE_MAX - owner->page_size)
		return sio_err(-EINVAL, "umem: bad pin length 0x%zx", len);
	if (__builtin_add_overflow(addr, (uint64_t)len, end) ||
	    *end > UINT64_MAX - (owner->page_size - 1))
		return sio_err(-EOVERFLOW, "umem: range 0x%llx+0x%zx wraps",
			       (unsigned long long)addr, len);
	return 0;
}

/* Every field of a pin that prepare does not set, as calloc left them. */
static void pin_fill(struct sio_umem_pin *pin, struct sio_umem_owner *owner,
		     uint64_t addr, size_t len, uint64_t end,
		     unsigned int flags)
{
	uint64_t pmask = owner->page_size - 1;

	pin->owner = owner;
	pin->uaddr = addr;
	pin->len = len;
	pin->start = addr & ~pmask;
	pin->npages = (size_t)(((end + pmask) & ~pmask) - pin->start) >>
		      owner->page_shift;
	pin->flags = flags;
}

int sio_umem_pin_prepare(struct sio_umem_owner *owner, uint64_t addr,
			 size_t len, unsigned int flags,
			 enum sio_umem_acct acct, struct sio_umem_pin **out)
{
	struct sio_umem_pin *pin;
	uint64_t end;
	int rc;

	rc = pin_check(owner, addr, len, flags, acct, &end);
	if (rc)
		return rc;
	pin = pin_alloc(owner);
	if (!pin)
		return sio_err(-ENOMEM, "umem: out of memory");
	pin_fill(pin, owner, addr, len, end, flags);
	*out = pin;
	return 0;
}

int sio_umem_pin_charge(struct sio_umem_pin *pin, enum sio_umem_acct acct)
{
	int rc;

	if (pin->flags & SIO_UMEM_PIN_NOCHARGE)
		return 0;
	pin->acct = sio_umem_acct_effective(pin->owner, acct);
	rc = sio_umem_charge(pin->owner, pin->acct, pin->npages);
	if (rc)
		return rc;
	pin->charged = true;
	return 0;
}

void sio_umem_pin_discard(struct sio_umem_pin *pin)
{
	if (pin->charged)
		sio_umem_uncharge(pin->owner, pin->acct, pin->npages);
	pin_free(pin->owner, pin);
}

/* Charge pin, alias its pages and, unless it has it already (a kept
 * struct of the same owner), take its owner reference; on failure the
 * pin is uncharged and still the caller's. */
static int pin_make(struct sio_umem_owner *owner, struct sio_umem_pin *pin,
		    unsigned int flags, enum sio_umem_acct acct, bool has_ref)
{
	/* Charge before aliasing: a pin over the limit then costs nothing. */
	int rc = sio_umem_pin_charge(pin, acct);

	pin->chunks = &pin->one;
	if (!rc)
		rc = owner->ops->pin(owner, pin->start,
				     pin->npages << owner->page_shift, flags,
				     &pin->chunks, &pin->nchunks);
	if (rc) {
		if (pin->charged)
			sio_umem_uncharge(owner, pin->acct, pin->npages);
		pin->charged = false;
		return rc;
	}
	if (!has_ref)
		sio_umem_owner_get(owner);
	return 0;
}

SIO_API int sio_umem_pin(struct sio_umem_owner *owner, uint64_t uaddr,
			 size_t len, unsigned int flags, enum sio_umem_acct acct,
			 struct sio_umem_pin **out)
{
	return sio_umem_pin_in(owner, NULL, uaddr, len, flags, acct, out);
}

int sio_umem_pin_in(struct sio_umem_owner *owner, struct sio_umem_pin *room,
		    uint64_t uaddr, size_t len, unsigned int flags,
		    enum sio_umem_acct acct, struct sio_umem_pin **out)
{
	struct sio_umem_pin *pin;
	struct sio_umem_owner *had = NULL;
	uint64_t end;
	int rc;

	sio_err_clear();
	if (sio_should_fail(SIO_FAIL_PAGE))
		return sio_err(-ENOMEM, "umem: pin of %#llx failed (injected)",
			       (unsigned long long)uaddr);
	rc = pin_check(owner, uaddr, len, flags, acct, &end);
	if (rc)
		return rc;
	/* A kept struct, unless fault injection is armed (the allocation
	 * site counts then).  It holds a reference to the owner it last
	 * pinned for, kept when that is this one. */
	if (room && !sio_fail_nth_left) {
		pin = room;	/* as sio_umem_unpin_keep() left it */
		had = pin->owner;
	} else {
		pin = pin_alloc(owner);
		if (!pin)
			return sio_err(-ENOMEM, "umem: out of memory");
	}
	pin_fill(pin, owner, uaddr, len, end, flags);
	rc = pin_make(owner, pin, flags, acct, had == owner);
	if (rc) {
		pin->owner = had;
		if (pin != room)
			pin_free(owner, pin);
		return rc;
	}
	if (had && had != owner)
		sio_umem_owner_put(had);
	*out = pin;
	return 0;
}

/* Drop the aliases and the charge of a pin; its struct and owner
 * reference stay. */
static void pin_drop(struct sio_umem_pin *pin)
{
	struct sio_umem_owner *owner = pin->owner;

	if (pin->file)
		sio_umem_file_unpin(pin);
	else {
		owner->ops->unpin(owner, pin->chunks, pin->nchunks);
		if (pin->chunks != &pin->one)
			free(pin->chunks);
	}
	if (pin->charged)
		sio_umem_uncharge(owner, pin->acct, pin->npages);
}

SIO_API void sio_umem_unpin(struct sio_umem_pin *pin)
{
	struct sio_umem_owner *owner;

	if (!pin)
		return;
	owner = pin->owner;
	pin_drop(pin);
	pin_free(owner, pin);
	sio_umem_owner_put(owner);
}

struct sio_umem_pin *sio_umem_unpin_keep(struct sio_umem_pin *pin)
{
	if (!pin)
		return NULL;
	if (sio_fail_nth_left) {
		sio_umem_unpin(pin);
		return NULL;
	}
	pin_drop(pin);
	/* What the next pin does not set again (pin_fill) is as a new
	 * struct has it; the owner and its reference stay. */
	pin->file = NULL;
	pin->charged = false;
	pin->acct = SIO_UMEM_ACCT_NONE;
	pin->chunks = NULL;
	pin->nchunks = 0;
	return pin;
}

void sio_umem_pin_kept_free(struct sio_umem_pin *pin)
{
	if (!pin)
		return;
	sio_umem_owner_put(pin->owner);
	free(pin);
}

/* The chunk holding user address a (which must be inside the pin). */
static const struct sio_umem_chunk *find_chunk(const struct sio_umem_pin *pin,
					       uint64_t a)
{
	size_t lo = 0, hi = pin->nchunks;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (pin->chunks[mid].uaddr <= a)
			lo = mid;
		else
			hi = mid;
	}
	return &pin->chunks[lo];
}

SIO_API uint64_t sio_umem_pin_host(const struct sio_umem_pin *pin,
				   uint64_t offset, size_t *contig)
{
	const struct sio_umem_chunk *c;
	uint64_t a;

	if (offset >= pin->len) {
		if (contig)
			*contig = 0;
		return 0;
	}
	a = pin->uaddr + offset;
	c = find_chunk(pin, a);
	if (contig) {
		uint64_t cend = c->uaddr + c->len;
		uint64_t pend = pin->uaddr + pin->len;

		*contig = (size_t)((cend < pend ? cend : pend) - a);
	}
	return c->host + (a - c->uaddr);
}

SIO_API size_t sio_umem_pin_nr_ranges(const struct sio_umem_pin *pin)
{
	return pin->nchunks;
}

SIO_API int sio_umem_pin_range(const struct sio_umem_pin *pin, size_t idx,
			       struct sio_umem_range *out)
{
	if (idx >= pin->nchunks)
		return -ENOENT;
	out->uaddr = pin->chunks[idx].uaddr;
	out->host = pin->chunks[idx].host;
	out->len = pin->chunks[idx].len;
	return 0;
}

SIO_API size_t sio_umem_pin_npages(const struct sio_umem_pin *pin)
{
	return pin->npages;
}

SIO_API enum sio_umem_acct sio_umem_pin_acct(const struct sio_umem_pin *pin)
{
	return pin->acct;
}
