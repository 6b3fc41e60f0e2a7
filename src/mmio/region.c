/*
 * The registry of trapping regions, and the MMIO client of the trap.
 *
 * sio_mmio_map() maps pages with no access rights and registers them; the
 * trap handler's MMIO client looks the fault address up, decodes the
 * instruction and performs it through the region's ops (emulate.c).
 *
 * The table.  Registered address ranges live in an immutable, sorted array
 * of [start, end) -> region entries; a writer builds a new array, publishes
 * it with one pointer store and frees the old one after a grace period.
 * MAP_FIXED (or the kernel reusing addresses a program unmapped without
 * unregistering first) can put a new region over part of an old one: the
 * new mapping wins, the old region's entries are trimmed to what is left
 * of it, and the old region stays allocated until its owner unregisters it.
 *
 * Readers and grace periods.  The reader is the signal handler, on any
 * thread of the program, which may never have met liburcu: registering a
 * thread with liburcu takes a mutex and allocates, which a signal handler
 * must not do (the interrupted code may hold them).  So the readers use a
 * grace-period scheme of their own that needs no per-thread state, only
 * atomics, in the manner of sleepable RCU:
 *   - a reader increments readers[epoch & 1], loads the table pointer,
 *     works, and decrements the same counter;
 *   - a writer publishes the new table, waits until readers[old ^ 1] is
 *     zero, flips the epoch, waits until readers[old] is zero, then frees.
 * The increment, the table load, the publication and the writer's checks
 * are sequentially consistent.  So a reader either incremented a counter
 * before the writer checked it (the writer waits for its decrement) or
 * loaded the table after it was published (it never saw the old one).
 * The flip is only for progress: new readers go to the other counter, so
 * each wait is for readers already inside, never for a stream of new ones.
 * Cost to a reader: two atomic operations on one shared cache line, small
 * against the trap itself.
 *
 * Locks: reg_lock (a mutex) serialises writers: it protects the table
 * pointer's updates, the epoch and every region's entries.  It is first in
 * the MMIO trap's order, before the trap lock of trap.c; it is never taken
 * in the handler.  A grace period is waited for with reg_lock held, so an
 * op (which runs inside a reader) must not map or unregister regions.
 *
 * Fork: the child has a copy of the table and the regions, and the
 * mappings themselves; pthread_atfork takes reg_lock around the fork so the
 * table is consistent in the child, and the child's reader counts restart
 * from zero (the threads that were inside the handler do not exist there).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>

#include "softiommu/mmio.h"
#include "mmio/access.h"
#include "mmio/mmio_private.h"
#include "util/error.h"
#include "util/fail.h"

struct sio_mmio_region {
	uintptr_t start;
	size_t len;
	struct sio_mmio_ops ops;
	void *opaque;
};

struct mmio_entry {
	uintptr_t start, end;
	struct sio_mmio_region *region;
};

struct mmio_table {
	size_t n;
	struct mmio_entry e[];
};

/* reg_lock serialises writers: it protects updates of table, epoch and
 * the regions' entries.  First in the MMIO trap's lock order (before
 * trap.c's trap_lock); never taken in the handler. */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mmio_table *table;	/* published; NULL when empty */
static unsigned int epoch;		/* written under reg_lock */
static unsigned long readers[2];	/* handlers inside, by epoch parity */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* ------------------------------------------------------------------ */
/* Readers and grace periods                                            */
/* ------------------------------------------------------------------ */

static unsigned int reader_enter(void)
{
	unsigned int e = __atomic_load_n(&epoch, __ATOMIC_RELAXED) & 1;

	__atomic_fetch_add(&readers[e], 1, __ATOMIC_SEQ_CST);
	return e;
}

static void reader_exit(unsigned int e)
{
	__atomic_fetch_sub(&readers[e], 1, __ATOMIC_RELEASE);
}

static void wait_readers(unsigned int e)
{
	unsigned int spins = 0;

	while (__atomic_load_n(&readers[e], __ATOMIC_SEQ_CST)) {
		if (++spins < 64) {
			sched_yield();
		} else {
			struct timespec ts = { 0, 50000 };

			nanosleep(&ts, NULL);
		}
	}
	/* Pairs with reader_exit: what readers did happens before the free. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}

/* Called with reg_lock held, after publishing a new table. */
static void synchronize(void)
{
	unsigned int e = __atomic_load_n(&epoch, __ATOMIC_RELAXED);

	wait_readers((e & 1) ^ 1);
	__atomic_store_n(&epoch, e + 1, __ATOMIC_SEQ_CST);
	wait_readers(e & 1);
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&reg_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&reg_lock);
}

static void atfork_child(void)
{
	__atomic_store_n(&readers[0], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&readers[1], 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&reg_lock);
}

static void atfork_init(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* ------------------------------------------------------------------ */
/* Lookup (readers)                                                     */
/* ------------------------------------------------------------------ */

/* The entry containing addr, or NULL. */
static const struct mmio_entry *lookup(const struct mmio_table *t,
				       uintptr_t addr)
{
	size_t lo = 0, hi;

	if (!t)
		return NULL;
	hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < t->e[mid].start)
			hi = mid;
		else if (addr >= t->e[mid].end)
			lo = mid + 1;
		else
			return &t->e[mid];
	}
	return NULL;
}

static enum sio_reach reach(void *ctx, uintptr_t addr, size_t len)
{
	const struct mmio_table *t = ctx;
	const struct mmio_entry *e = lookup(t, addr);
	size_t i;

	if (!len || addr + len < addr)
		return SIO_REACH_NONE;
	if (e) {
		/* Adjacent entries belong to different regions (a region's
		 * pieces are split only around a newer one): one entry must
		 * hold the whole operand. */
		return addr + len <= e->end ? SIO_REACH_MMIO : SIO_REACH_NONE;
	}
	/* No entry holds addr: does one start inside the range? */
	for (i = 0; t && i < t->n; i++) {
		if (t->e[i].start >= addr + len)
			break;
		if (t->e[i].start > addr)
			return SIO_REACH_NONE;
	}
	return SIO_REACH_MEMORY;
}

static uint64_t region_read(void *ctx, uintptr_t addr, unsigned int size)
{
	const struct mmio_entry *e = lookup(ctx, addr);
	struct sio_mmio_region *r = e->region;

	return r->ops.read(r->opaque, addr - r->start, size);
}

static void region_write(void *ctx, uintptr_t addr, unsigned int size,
			 uint64_t val)
{
	const struct mmio_entry *e = lookup(ctx, addr);
	struct sio_mmio_region *r = e->region;

	r->ops.write(r->opaque, addr - r->start, size, val);
}

/* Hexadecimal digits of v into p (which has room for 16). */
static char *hex(char *p, uint64_t v, int min_digits)
{
	char tmp[16];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v || n < min_digits);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

/* Up to n code bytes at rip, read without faulting: beyond what the
 * decoder read, the instruction's bytes are not known to be mapped. */
static unsigned int code_bytes(const uint8_t *rip, uint8_t *buf, unsigned int n)
{
	struct iovec local = { buf, n }, remote = { (void *)rip, n };
	long got = syscall(SYS_process_vm_readv, syscall(SYS_getpid), &local,
			   1L, &remote, 1L, 0L);

	return got > 0 ? (unsigned int)got : 0;
}

/* The one line that says why a trapped access was not emulated: the
 * bytes the decoder read and a few more. */
static void refuse(const char *why, uintptr_t addr, ucontext_t *uc,
		   unsigned int len)
{
	const uint8_t *rip = (const uint8_t *)uc->uc_mcontext.gregs[REG_RIP];
	uint8_t code[SIO_INSN_MAX_LEN];
	char line[256], *p = line;
	unsigned int n;

	n = code_bytes(rip, code, len + 4 < SIO_INSN_MAX_LEN ?
				  len + 4 : SIO_INSN_MAX_LEN);
	p = str(p, "softiommu: MMIO access at 0x");
	p = hex(p, addr, 1);
	p = str(p, " not emulated (");
	p = str(p, why);
	p = str(p, "): rip 0x");
	p = hex(p, (uint64_t)(uintptr_t)rip, 1);
	p = str(p, " bytes");
	for (unsigned int i = 0; i < n; i++) {
		*p++ = ' ';
		p = hex(p, code[i], 2);
	}
	*p = 0;
	sio_trap_say(line);
}

static enum sio_trap_verdict mmio_fault(int sig, siginfo_t *si,
					ucontext_t *uc)
{
	const uint8_t *code = (const uint8_t *)uc->uc_mcontext.gregs[REG_RIP];
	uintptr_t addr = (uintptr_t)si->si_addr;
	enum sio_trap_verdict verdict = SIO_TRAP_RESUME;
	enum sio_emulate_result rc;
	struct sio_mmio_access acc;
	struct sio_insn insn;
	unsigned int e;

	/* Only the no-access faults of our pages: an unmapped page
	 * (SEGV_MAPERR) faults as it would without us. */
	if (sig != SIGSEGV || si->si_code != SEGV_ACCERR)
		return SIO_TRAP_PASS;
	e = reader_enter();
	acc.ctx = __atomic_load_n(&table, __ATOMIC_SEQ_CST);
	if (!lookup(acc.ctx, addr)) {
		reader_exit(e);
		return SIO_TRAP_PASS;
	}
	acc.reach = reach;
	acc.read = region_read;
	acc.write = region_write;
	if (sio_insn_decode(code, &insn))
		rc = SIO_EMU_UNDECODED;
	else
		rc = sio_mmio_emulate(&insn, uc, addr, &acc);
	reader_exit(e);

	switch (rc) {
	case SIO_EMU_DONE:
	case SIO_EMU_RETRY:
		break;
	case SIO_EMU_UNDECODED:
		refuse("instruction not decoded", addr, uc, insn.len);
		verdict = SIO_TRAP_CHAIN;
		break;
	case SIO_EMU_OPERAND:
		refuse("operand not wholly inside one region", addr, uc,
		       insn.len);
		verdict = SIO_TRAP_CHAIN;
		break;
	case SIO_EMU_NOSTATE:
		refuse("no vector register state in the signal frame", addr,
		       uc, insn.len);
		verdict = SIO_TRAP_CHAIN;
		break;
	}
	return verdict;
}

static const struct sio_trap_client mmio_client = { .fault = mmio_fault };

/* ------------------------------------------------------------------ */
/* Writers                                                              */
/* ------------------------------------------------------------------ */

/*
 * A new table: the current one with [start, end) cut out of every entry,
 * then add (if not NULL) inserted over [start, end), and every entry of
 * drop (if not NULL) left out.  NULL on allocation failure.
 */
static struct mmio_table *rebuild(const struct mmio_table *old,
				  uintptr_t start, uintptr_t end,
				  struct sio_mmio_region *add,
				  const struct sio_mmio_region *drop)
{
	size_t n_old = old ? old->n : 0, n = 0;
	struct mmio_table *t;

	/* Each old entry gives at most two pieces. */
	t = sio_malloc(sizeof(*t) + (2 * n_old + 1) * sizeof(t->e[0]));
	if (!t)
		return NULL;
	for (size_t i = 0; i < n_old; i++) {
		struct mmio_entry x = old->e[i];

		if (x.region == drop)
			continue;
		if (!add || x.end <= start || x.start >= end) {
			t->e[n++] = x;
			continue;
		}
		/* The new region covers part of x: keep the rest. */
		if (x.start < start)
			t->e[n++] = (struct mmio_entry){ x.start, start, x.region };
		if (x.end > end)
			t->e[n++] = (struct mmio_entry){ end, x.end, x.region };
	}
	if (add) {
		size_t at = 0;

		while (at < n && t->e[at].start < start)
			at++;
		memmove(&t->e[at + 1], &t->e[at], (n - at) * sizeof(t->e[0]));
		t->e[at] = (struct mmio_entry){ start, end, add };
		n++;
	}
	t->n = n;
	return t;
}

/* Publish t (reg_lock held) and free the table it replaces. */
static void publish(struct mmio_table *t)
{
	struct mmio_table *old = table;

	if (t && !t->n) {
		free(t);
		t = NULL;
	}
	__atomic_store_n(&table, t, __ATOMIC_SEQ_CST);
	synchronize();
	free(old);
}

#define MMIO_MAP_FLAGS (MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_32BIT | \
			MAP_NORESERVE | MAP_POPULATE)

int sio_mmio_map(void **addr, size_t len, int flags,
		 const struct sio_mmio_ops *ops, void *opaque,
		 struct sio_mmio_region **out)
{
	long page = sysconf(_SC_PAGESIZE);
	struct sio_mmio_region *r;
	struct mmio_table *t;
	long p;
	int rc;

	sio_err_clear();
	if (!addr || !out || !ops || !ops->read || !ops->write)
		return sio_err(-EINVAL, "sio_mmio_map: addr, ops (read and write) and out are required");
	if (!len || len % (size_t)page)
		return sio_err(-EINVAL, "sio_mmio_map: length %zu is not a positive multiple of the page size", len);
	if (flags & ~MMIO_MAP_FLAGS)
		return sio_err(-EINVAL, "sio_mmio_map: unsupported flags 0x%x", flags & ~MMIO_MAP_FLAGS);
	if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) &&
	    (uintptr_t)*addr % (uintptr_t)page)
		return sio_err(-EINVAL, "sio_mmio_map: fixed address %p is not page aligned", *addr);
	rc = sio_trap_client_add(&mmio_client);
	if (rc)
		return rc;
	pthread_once(&atfork_once, atfork_init);

	r = sio_calloc(1, sizeof(*r));
	if (!r)
		return sio_err(-ENOMEM, "sio_mmio_map: out of memory");
	r->len = len;
	r->ops = *ops;
	r->opaque = opaque;

	pthread_mutex_lock(&reg_lock);
	/* The raw system call: under the preload shim mmap() is an
	 * interposer of the library's own files. */
	p = syscall(SYS_mmap, *addr, len, (long)PROT_NONE,
		    (long)(MAP_PRIVATE | MAP_ANONYMOUS | flags), -1L, 0L);
	if (p < 0) {
		rc = -errno;
		pthread_mutex_unlock(&reg_lock);
		free(r);
		return sio_err(rc, "sio_mmio_map: mmap of %zu bytes failed", len);
	}
	r->start = (uintptr_t)p;
	t = rebuild(table, r->start, r->start + len, r, NULL);
	if (!t) {
		pthread_mutex_unlock(&reg_lock);
		syscall(SYS_munmap, p, len);
		free(r);
		return sio_err(-ENOMEM, "sio_mmio_map: out of memory");
	}
	publish(t);
	pthread_mutex_unlock(&reg_lock);
	*addr = (void *)p;
	*out = r;
	return 0;
}

int sio_mmio_access(uintptr_t addr, unsigned int size, bool write,
		    uint64_t *val)
{
	const struct mmio_entry *e;
	unsigned int ep;
	int rc = -EFAULT;

	if (size != 1 && size != 2 && size != 4 && size != 8)
		return -EFAULT;
	ep = reader_enter();
	e = lookup(__atomic_load_n(&table, __ATOMIC_ACQUIRE), addr);
	if (e && addr + size <= e->end && addr + size > addr) {
		struct sio_mmio_region *r = e->region;

		if (write)
			r->ops.write(r->opaque, addr - r->start, size, *val);
		else
			*val = r->ops.read(r->opaque, addr - r->start, size);
		rc = 0;
	}
	reader_exit(ep);
	return rc;
}

bool sio_mmio_registered(uintptr_t addr)
{
	unsigned int ep = reader_enter();
	bool rc = lookup(__atomic_load_n(&table, __ATOMIC_ACQUIRE), addr);

	reader_exit(ep);
	return rc;
}

void sio_mmio_unregister(struct sio_mmio_region *region)
{
	if (!region)
		return;
	pthread_mutex_lock(&reg_lock);
	for (;;) {
		struct mmio_table *t = rebuild(table, 0, 0, NULL, region);

		if (t) {
			publish(t);
			break;
		}
		/* No memory for the smaller table: an op must never reach a
		 * freed region, so wait rather than fail. */
		pthread_mutex_unlock(&reg_lock);
		sched_yield();
		pthread_mutex_lock(&reg_lock);
	}
	pthread_mutex_unlock(&reg_lock);
	free(region);
}
