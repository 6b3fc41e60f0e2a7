/*
 * Emulated files and the process-wide file table.
 *
 * The table maps a descriptor number to the struct sio_file behind it.  It
 * is read on every read/write/ioctl/close of every descriptor of the
 * program, so a lookup takes no lock: two acquire loads (a chunk of the
 * two-level array, then the slot) and, only when the slot is set, a
 * reference taken with inc-not-zero followed by a re-check of the slot.
 *
 * That re-check is safe without RCU because files are type-stable: a
 * struct sio_file is never given back to malloc, only recycled through a
 * free list, so a lookup that raced with the last close may increment the
 * count of a file that is being (or has been) reused, sees that the slot
 * no longer points at it, and drops the reference again.  A count of zero
 * is never raised, so a released file is never resurrected.  Keeping RCU
 * off this path also keeps it off fork's way (see file.h: a thread inside
 * a read-side section at fork would stall the child's grace periods).
 *
 * Lookups without a reference.  An emulated ioctl is a lookup, the op and
 * a put, and the count's two atomic read-modify-writes cost about 2 ns of
 * the cheapest ioctl's 25 (bench_ioctl, docs/fast-path.md).  So a lookup
 * made outside any op (the shim's, in front of every op) by a thread whose
 * hazard slot is empty holds the file through that slot instead, a field
 * of the thread's fork-gate slot (gate.c): the thread stores the file
 * there (a plain store), fences as the fork gate's readers do
 * (file.h) and checks that the table still maps fd to it; the matching
 * put empties the slot.  The release side pays instead: when refs reaches
 * zero, the thread that took it there forces a barrier on every thread
 * (membarrier, as fork does) and reads every slot; if one still holds the
 * file, it sets release_pending and leaves the release to the holder,
 * which after emptying its slot takes the flag and decides again.  refs
 * only reaches zero once the table no longer maps the file, and a reader
 * publishes its slot before it reads the table, so either the release
 * side sees the slot or the reader sees the file gone.  A second lookup
 * by the same thread, a lookup inside an op (which may be kept, or put by
 * another thread: a dmabuf, an access's fd) and the dup paths (whose
 * lookup becomes a descriptor's reference) take a counted reference.
 * References of one thread are interchangeable: a put of a file its slot
 * holds empties the slot.  A hazard reference must be put by the thread
 * that took it, which the shim's lookups are; so hazard lookups are used
 * while the shim runs (the fault-safe copy armed), and by tests that ask.
 *
 * Each file is one eventfd description; every descriptor of the file is a
 * dup of it.  Readiness is written to any of them, so the file keeps the
 * list of its descriptor numbers, and every change to that list happens
 * under the file's lock together with the system call that changes the
 * kernel's fd table and the table slot.  So set_readable never writes into
 * a number that has meanwhile become some other file of the program.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <urcu/list.h>

#include "softiommu/file.h"
#include "file/file.h"
#include "util/error.h"
#include "util/fail.h"
#include "util/safecopy.h"
#include "util/sys.h"

#define FILE_CHUNK_SHIFT 10
#define FILE_CHUNK (1 << FILE_CHUNK_SHIFT)
#define FILE_NCHUNKS 4096
/* Descriptors at or above this number cannot be emulated (-EMFILE).  The
 * usual hard RLIMIT_NOFILE (524288 under systemd) is far below. */
#define FILE_MAX_FD (FILE_CHUNK * FILE_NCHUNKS)

struct sio_file {
	/* First: sio_file_priv_of() (file.h) reads it inline.  Set before
	 * refs is published, constant until release. */
	void *priv;
	/* One per descriptor, mapping and counted lookup.  Atomic.  The
	 * release op runs once it is zero and no hazard slot holds the
	 * file ("Lookups without a reference" above). */
	unsigned int refs;
	/* Atomic: refs reached zero while a hazard slot held the file; the
	 * thread that clears its slot and takes this flag (1 -> 0) decides
	 * the release again. */
	unsigned int release_pending;
	/* Set before refs is published, constant until release. */
	const struct sio_file_ops *ops;
	/*
	 * lock protects the descriptor set: fds[0..nfds), the table slots
	 * that point at this file, what the kernel's fd table holds at those
	 * numbers, and readable together with the eventfd's counter.
	 * Order: fork gate, then files_lock (fork prepare only), then file
	 * locks; two file locks are taken in address order.
	 */
	pthread_mutex_t lock;
	int *fds;
	unsigned int nfds;
	unsigned int cap;
	bool readable;
	/* The device node it was opened as (sio_file_set_rdev), 0 for none.
	 * Atomic: set once by the opener, read by any stat. */
	dev_t rdev;
	/* files_lock: on live_files while in use, else on free_files. */
	struct cds_list_head node;
};

_Static_assert(offsetof(struct sio_file, priv) == 0,
	       "sio_file_priv_of() reads priv as the first member");

/* The table: chunks are allocated on first use and never freed, except
 * the first, which is static: descriptors below FILE_CHUNK, every
 * program's usual ones, are found with one load and no test of a chunk
 * (every read, write and ioctl of the program looks its fd up). */
static struct sio_file *file_chunk0[FILE_CHUNK];
static struct sio_file **file_table[FILE_NCHUNKS] = { [0] = file_chunk0 };

/* files_lock protects live_files (every file not yet released: the fork
 * handlers walk it) and free_files (released files, for reuse). */
static pthread_mutex_t files_lock = PTHREAD_MUTEX_INITIALIZER;
static CDS_LIST_HEAD(live_files);
/* How many files are on live_files (atomic; read without the lock). */
static unsigned long nlive;
static CDS_LIST_HEAD(free_files);

/* Whether the prepare handler closed the fork gate (gate.c); fork from
 * inside an op does not.  files_lock. */
static bool fork_gated;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* The table slot of fd; with alloc, its chunk is created if missing. */
static inline __attribute__((always_inline)) struct sio_file **
file_slot(int fd, bool alloc)
{
	struct sio_file **chunk, **fresh, **expected = NULL;

	if (__builtin_expect((unsigned int)fd < FILE_CHUNK, 1))
		return &file_chunk0[fd];
	if (fd < 0 || fd >= FILE_MAX_FD)
		return NULL;
	chunk = __atomic_load_n(&file_table[fd >> FILE_CHUNK_SHIFT],
				__ATOMIC_ACQUIRE);
	if (!chunk && alloc) {
		fresh = sio_calloc(FILE_CHUNK, sizeof(*fresh));
		if (!fresh)
			return NULL;
		if (__atomic_compare_exchange_n(&file_table[fd >> FILE_CHUNK_SHIFT],
						&expected, fresh, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			chunk = fresh;
		} else {
			free(fresh);
			chunk = expected;
		}
	}
	return chunk ? &chunk[fd & (FILE_CHUNK - 1)] : NULL;
}

static struct sio_file *slot_load(struct sio_file **slot)
{
	return __atomic_load_n(slot, __ATOMIC_ACQUIRE);
}

static void slot_store(struct sio_file **slot, struct sio_file *f)
{
	__atomic_store_n(slot, f, __ATOMIC_RELEASE);
}

static void lock2(struct sio_file *a, struct sio_file *b)
{
	if (a && b && a != b && (uintptr_t)b < (uintptr_t)a) {
		struct sio_file *t = a;

		a = b;
		b = t;
	}
	if (a)
		pthread_mutex_lock(&a->lock);
	if (b && b != a)
		pthread_mutex_lock(&b->lock);
}

static void unlock2(struct sio_file *a, struct sio_file *b)
{
	if (a)
		pthread_mutex_unlock(&a->lock);
	if (b && b != a)
		pthread_mutex_unlock(&b->lock);
}

/* Room for one more descriptor, so that recording a dup the kernel has
 * already made cannot fail.  f->lock held. */
static int fds_reserve(struct sio_file *f)
{
	int *n;

	if (f->nfds < f->cap)
		return 0;
	n = sio_realloc(f->fds, (f->cap * 2) * sizeof(*n));
	if (!n)
		return sio_err(-ENOMEM, "file: out of memory");
	f->fds = n;
	f->cap *= 2;
	return 0;
}

/* f->lock held; fds_reserve() succeeded. */
static void fds_add(struct sio_file *f, int fd)
{
	f->fds[f->nfds++] = fd;
}

/* f->lock held. */
static void fds_remove(struct sio_file *f, int fd)
{
	for (unsigned int i = 0; i < f->nfds; i++) {
		if (f->fds[i] == fd) {
			f->fds[i] = f->fds[--f->nfds];
			return;
		}
	}
}

static void file_release(struct sio_file *f)
{
	/* Decided once: whoever set refs to 0 or took release_pending. */
	sio_file_gate_enter();
	if (f->ops->release)
		f->ops->release(f);
	sio_file_gate_exit();

	/* No reference is left, hence no descriptor; only the fork handlers,
	 * which walk live_files, may still take the lock. */
	pthread_mutex_lock(&f->lock);
	free(f->fds);
	f->fds = NULL;
	f->nfds = f->cap = 0;
	pthread_mutex_unlock(&f->lock);
	pthread_mutex_lock(&files_lock);
	cds_list_del(&f->node);
	cds_list_add(&f->node, &free_files);
	__atomic_sub_fetch(&nlive, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&files_lock);
}

bool sio_file_any(void)
{
	return __atomic_load_n(&nlive, __ATOMIC_RELAXED) != 0;
}

/* -1: hazard lookups while the fault-safe copy is armed (the shim). */
static int hazard_mode = -1;
/* Atomic: some thread turned hazard lookups on.  Until then a release
 * needs no barrier.  Set with a full barrier (exchange) before that
 * thread's first slot store, so a release that reads it clear cannot miss
 * a slot whose reader found the file still in the table. */
static bool hazards_used;

void sio_file_set_hazard_lookups(int mode)
{
	__atomic_store_n(&hazard_mode, mode, __ATOMIC_RELAXED);
}

/* This thread's hazard slot, if hazard lookups are on: set up once per
 * thread (sio_file_hazard), NULL while they are off. */
static struct sio_file **hazard_setup(void)
{
	int mode = __atomic_load_n(&hazard_mode, __ATOMIC_RELAXED);
	struct sio_file **hz;

	if (mode == 0 || (mode < 0 && !sio_safecopy_armed()))
		return NULL;
	hz = sio_file_hazard_slot();
	if (!hz)
		return NULL;
	if (!__atomic_load_n(&hazards_used, __ATOMIC_RELAXED))
		(void)__atomic_exchange_n(&hazards_used, true, __ATOMIC_SEQ_CST);
	sio_file_hazard = hz;
	return hz;
}

/* refs is 0 (this thread took it there, or took release_pending): release
 * f unless a hazard slot still holds it, whose holder then decides. */
static void release_decide(struct sio_file *f)
{
	if (!__atomic_load_n(&hazards_used, __ATOMIC_SEQ_CST)) {
		file_release(f);
		return;
	}
	for (;;) {
		unsigned int one = 1;

		sio_file_hazard_barrier();
		if (!sio_file_hazard_held(f)) {
			/* A holder may have taken a mapping's reference
			 * (sio_file_hold) before it let go: its put decides. */
			if (__atomic_load_n(&f->refs, __ATOMIC_ACQUIRE) == 0)
				file_release(f);
			return;
		}
		__atomic_store_n(&f->release_pending, 1, __ATOMIC_SEQ_CST);
		sio_file_hazard_barrier();
		/* Still held: its holder sees the flag when it lets go. */
		if (sio_file_hazard_held(f))
			return;
		/* It let go meanwhile; decide again unless it took the
		 * flag itself. */
		if (!__atomic_compare_exchange_n(&f->release_pending, &one, 0,
						 false, __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			return;
	}
}

/* Empty this thread's hazard slot, which holds f. */
static inline __attribute__((always_inline)) void
hazard_drop(struct sio_file **hz, struct sio_file *f)
{
	unsigned int one = 1;

	__atomic_store_n(hz, NULL, __ATOMIC_RELEASE);
	sio_file_hazard_fence();
	if (__builtin_expect(__atomic_load_n(&f->release_pending,
					     __ATOMIC_RELAXED), 0) &&
	    __atomic_compare_exchange_n(&f->release_pending, &one, 0, false,
					__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		release_decide(f);
}

static inline __attribute__((always_inline)) void
file_put(struct sio_file *file)
{
	struct sio_file **hz = sio_file_hazard;

	/* The slot holds file only if this thread's lookup put it there. */
	if (hz && __atomic_load_n(hz, __ATOMIC_RELAXED) == file) {
		hazard_drop(hz, file);
		return;
	}
	if (__atomic_sub_fetch(&file->refs, 1, __ATOMIC_ACQ_REL) == 0)
		release_decide(file);
}

SIO_API void sio_file_put(struct sio_file *file)
{
	if (file)
		file_put(file);
}

static bool ref_inc_not_zero(unsigned int *ref)
{
	unsigned int old = __atomic_load_n(ref, __ATOMIC_RELAXED);

	do {
		if (old == 0)
			return false;
	} while (!__atomic_compare_exchange_n(ref, &old, old + 1, true,
					      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
	return true;
}

/* The shared mode's server: see file.h.  Initial-exec: every lookup
 * reads it. */
static _Thread_local const struct sio_file_proxy *file_proxy
	__attribute__((tls_model("initial-exec")));
/* A file whose install in a client failed: no op runs at its close. */
static const struct sio_file_ops dropped_ops = { .name = "dropped" };

void sio_file_proxy_set(const struct sio_file_proxy *proxy)
{
	file_proxy = proxy;
}

const struct sio_file_proxy *sio_file_proxy_get(void)
{
	return file_proxy;
}

/* A descriptor number as the table knows it: the shared mode's server
 * names a client's descriptor through its proxy.  -1 if there is none. */
static int proxy_resolve(int fd)
{
	if (__builtin_expect(file_proxy != NULL, 0))
		return file_proxy->resolve(file_proxy->ctx, fd);
	return fd;
}

/* A lookup that takes a counted reference, one that may be kept, of the
 * file in slot. */
static struct sio_file *lookup_slot_counted(struct sio_file **slot)
{
	struct sio_file *f;

	for (;;) {
		f = slot_load(slot);
		if (!f)
			return NULL;
		/* A count of zero means f was released, so its slot has been
		 * cleared since we loaded it: load again. */
		if (ref_inc_not_zero(&f->refs)) {
			if (slot_load(slot) == f)
				return f;
			sio_file_put(f);
		}
	}
}

/* The same for a descriptor number. */
static struct sio_file *lookup_counted(int fd)
{
	struct sio_file **slot = file_slot(proxy_resolve(fd), false);

	return slot ? lookup_slot_counted(slot) : NULL;
}

static inline __attribute__((always_inline)) struct sio_file *
file_lookup(int fd)
{
	struct sio_file **slot = file_slot(proxy_resolve(fd), false);
	struct sio_file **hz, *f, *again;

	if (!slot)
		return NULL;
	f = slot_load(slot);
	if (!f)
		return NULL;
	/* Inside an op a lookup may be kept: counted. */
	if (sio_file_gate_depth)
		return lookup_slot_counted(slot);
	hz = sio_file_hazard;
	if (__builtin_expect(!hz, 0) && !(hz = hazard_setup()))
		return lookup_slot_counted(slot);
	if (__atomic_load_n(hz, __ATOMIC_RELAXED))
		return lookup_slot_counted(slot);	/* this thread holds one */
	for (;;) {
		__atomic_store_n(hz, f, __ATOMIC_RELAXED);
		sio_file_hazard_fence();
		again = slot_load(slot);
		if (again == f)
			return f;
		/* Closed or replaced meanwhile: let go, look again. */
		hazard_drop(hz, f);
		if (!again)
			return NULL;
		f = again;
	}
}

SIO_API struct sio_file *sio_file_lookup(int fd)
{
	return file_lookup(fd);
}

/* The kernel gave out fd again, so the file that the table still names
 * there lost that descriptor behind our back (closed by a raw system call,
 * close_range, ...): forget it. */
static void drop_stale(struct sio_file *stale, int fd)
{
	pthread_mutex_lock(&stale->lock);
	fds_remove(stale, fd);
	pthread_mutex_unlock(&stale->lock);
	sio_file_put(stale);
}

/* Give the child private eventfds (see file.h).  Single-threaded child:
 * every lock is ours.  A failure leaves that file sharing its eventfd with
 * the parent, which only costs spurious readiness, never correctness of
 * the program's other descriptors. */
static void file_rebind_child(struct sio_file *f)
{
	int efd, fl;

	if (!f->nfds)
		return;
	efd = eventfd(f->readable ? 1 : 0, EFD_CLOEXEC);
	if (efd < 0)
		return;
	fl = sio_sys_fcntl(f->fds[0], F_GETFL, 0);
	if (fl >= 0 && (fl & O_NONBLOCK))
		sio_sys_fcntl(efd, F_SETFL, O_NONBLOCK);
	for (unsigned int i = 0; i < f->nfds; i++) {
		int fdflags = sio_sys_fcntl(f->fds[i], F_GETFD, 0);

		sio_sys_dup3(efd, f->fds[i],
			     fdflags >= 0 && (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0);
	}
	sio_sys_close(efd);
}

static void atfork_prepare(void)
{
	struct sio_file *f;
	bool gated = sio_file_gate_close();

	pthread_mutex_lock(&files_lock);
	fork_gated = gated;
	cds_list_for_each_entry(f, &live_files, node)
		pthread_mutex_lock(&f->lock);
}

static void atfork_parent(void)
{
	struct sio_file *f;
	bool gated = fork_gated;

	cds_list_for_each_entry(f, &live_files, node)
		pthread_mutex_unlock(&f->lock);
	pthread_mutex_unlock(&files_lock);
	sio_file_gate_open(gated, false);
}

static void atfork_child(void)
{
	struct sio_file *f;

	cds_list_for_each_entry(f, &live_files, node) {
		file_rebind_child(f);
		pthread_mutex_unlock(&f->lock);
	}
	pthread_mutex_unlock(&files_lock);
	sio_file_gate_open(fork_gated, true);
}

static void atfork_register(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static struct sio_file *file_alloc(void)
{
	struct sio_file *f = NULL;

	pthread_mutex_lock(&files_lock);
	if (!cds_list_empty(&free_files)) {
		f = cds_list_first_entry(&free_files, struct sio_file, node);
		cds_list_del(&f->node);
	}
	pthread_mutex_unlock(&files_lock);
	if (!f) {
		f = sio_calloc(1, sizeof(*f));
		if (!f)
			return NULL;
		pthread_mutex_init(&f->lock, NULL);
	}
	f->fds = sio_malloc(4 * sizeof(*f->fds));
	if (!f->fds) {
		pthread_mutex_lock(&files_lock);
		cds_list_add(&f->node, &free_files);
		pthread_mutex_unlock(&files_lock);
		return NULL;
	}
	f->cap = 4;
	f->nfds = 0;
	f->readable = false;
	__atomic_store_n(&f->release_pending, 0, __ATOMIC_RELAXED);
	return f;
}

SIO_API int sio_file_create(const struct sio_file_ops *ops, void *priv,
			    bool cloexec, struct sio_file **out, int *fd_out)
{
	struct sio_file **slot, *f, *stale;
	int efd;

	if (!ops || !fd_out)
		return sio_err(-EINVAL, "file: no ops");
	pthread_once(&atfork_once, atfork_register);
	efd = eventfd(0, cloexec ? EFD_CLOEXEC : 0);
	if (efd < 0)
		return sio_err(-errno, "file: eventfd: %d", errno);
	slot = file_slot(efd, true);
	f = slot ? file_alloc() : NULL;
	if (!f) {
		sio_sys_close(efd);
		if (efd >= FILE_MAX_FD)
			return sio_err(-EMFILE, "file: descriptor %d beyond the table", efd);
		return sio_err(-ENOMEM, "file: out of memory");
	}
	f->ops = ops;
	f->priv = priv;
	f->rdev = 0;
	fds_add(f, efd);
	pthread_mutex_lock(&files_lock);
	cds_list_add_tail(&f->node, &live_files);
	__atomic_add_fetch(&nlive, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&files_lock);
	__atomic_store_n(&f->refs, 1, __ATOMIC_RELEASE);

	pthread_mutex_lock(&f->lock);
	stale = __atomic_exchange_n(slot, f, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&f->lock);
	if (stale)
		drop_stale(stale, efd);
	if (out)
		*out = f;
	*fd_out = efd;
	if (__builtin_expect(file_proxy != NULL, 0)) {
		const struct sio_file_proxy *p = file_proxy;
		int cfd;

		file_proxy = NULL;
		cfd = p->install(p->ctx, efd, cloexec);
		if (cfd < 0) {
			/* The creator undoes its own state on failure: the
			 * file goes without its release op. */
			f->ops = &dropped_ops;
			sio_file_close(efd);
		}
		file_proxy = p;
		if (cfd < 0)
			return cfd;
		*fd_out = cfd;
	}
	return 0;
}

SIO_API void *sio_file_priv(const struct sio_file *file)
{
	return file->priv;
}

SIO_API void sio_file_set_rdev(struct sio_file *file, dev_t rdev)
{
	if (file)
		__atomic_store_n(&file->rdev, rdev, __ATOMIC_RELEASE);
}

SIO_API dev_t sio_file_rdev(const struct sio_file *file)
{
	return file ? __atomic_load_n(&file->rdev, __ATOMIC_ACQUIRE) : 0;
}

SIO_API const struct sio_file_ops *sio_file_ops(const struct sio_file *file)
{
	return file->ops;
}

SIO_API void sio_file_set_readable(struct sio_file *file, bool readable)
{
	uint64_t v = 1;

	pthread_mutex_lock(&file->lock);
	if (file->readable != readable && file->nfds) {
		if (readable) {
			sio_sys_write(file->fds[0], &v, sizeof(v));
		} else {
			/* Only we write the counter, but the program may have
			 * cleared O_NONBLOCK on the description: never block.
			 * RWF_NOWAIT does that in one system call; a kernel
			 * whose eventfd lacks it gets poll() first. */
			struct iovec iov = { .iov_base = &v, .iov_len = sizeof(v) };
			struct pollfd p = { .fd = file->fds[0], .events = POLLIN };

			if (syscall(SYS_preadv2, file->fds[0], &iov, 1, -1L, -1L,
				    RWF_NOWAIT) < 0 && errno != EAGAIN &&
			    poll(&p, 1, 0) == 1 && (p.revents & POLLIN))
				sio_sys_read(file->fds[0], &v, sizeof(v));
		}
	}
	file->readable = readable;
	pthread_mutex_unlock(&file->lock);
}

SIO_API ssize_t sio_file_read(struct sio_file *file, void *buf, size_t len)
{
	ssize_t rc = -EINVAL;

	sio_file_gate_enter();
	if (file->ops->read)
		rc = file->ops->read(file, buf, len);
	sio_file_gate_exit();
	return rc;
}

SIO_API ssize_t sio_file_write(struct sio_file *file, const void *buf,
			       size_t len)
{
	ssize_t rc = -EINVAL;

	sio_file_gate_enter();
	if (file->ops->write)
		rc = file->ops->write(file, buf, len);
	sio_file_gate_exit();
	return rc;
}

SIO_API ssize_t sio_file_pread(struct sio_file *file, void *buf, size_t len,
			       off_t off)
{
	ssize_t rc = -ESPIPE;

	if (off < 0)
		return -EINVAL;
	sio_file_gate_enter();
	if (file->ops->pread)
		rc = file->ops->pread(file, buf, len, off);
	sio_file_gate_exit();
	return rc;
}

SIO_API ssize_t sio_file_pwrite(struct sio_file *file, const void *buf,
				size_t len, off_t off)
{
	ssize_t rc = -ESPIPE;

	if (off < 0)
		return -EINVAL;
	sio_file_gate_enter();
	if (file->ops->pwrite)
		rc = file->ops->pwrite(file, buf, len, off);
	sio_file_gate_exit();
	return rc;
}

static inline long file_ioctl(struct sio_file *file, unsigned int cmd,
			      unsigned long arg)
{
	long rc = -ENOTTY;

	sio_file_gate_enter();
	if (file->ops->ioctl)
		rc = file->ops->ioctl(file, cmd, arg);
	sio_file_gate_exit();
	return rc;
}

SIO_API long sio_file_ioctl(struct sio_file *file, unsigned int cmd,
			    unsigned long arg)
{
	return file_ioctl(file, cmd, arg);
}

/* sio_file_ioctl_fd() step by step, as the public entries do it. */
static __attribute__((noinline)) bool ioctl_fd_general(int fd, unsigned int cmd,
						       unsigned long arg,
						       long *rc)
{
	struct sio_file *file = file_lookup(fd);

	if (!file)
		return false;
	*rc = file_ioctl(file, cmd, arg);
	file_put(file);
	return true;
}

/*
 * The shim's ioctl: sio_file_lookup(), sio_file_ioctl() and
 * sio_file_put() in one call, as every ioctl of the program comes this
 * way.  The common case is a thread outside any op, with its hazard slot
 * on and empty and a fork-gate slot of its own: it holds the file through
 * the hazard slot and enters the gate with two plain stores to its own
 * thread's slot, then one fence (file.h) serves both protocols, each of
 * which asks only that the reader's store comes before its load: then it
 * checks that the table still maps fd to the file (the lookup's check)
 * and that no fork closed the gate (the gate's).  If either fails, it
 * undoes both and takes the steps one by one, which wait for the fork or
 * look again.  Every other case (a lookup inside an op, the shared mode's
 * proxy, a thread's first ioctl, which sets its slots up) takes them too.
 */
bool sio_file_ioctl_fd(int fd, unsigned int cmd, unsigned long arg, long *rc)
{
	struct sio_file **slot, **hz, *f;
	unsigned int *busy;

	if (__builtin_expect(file_proxy != NULL || sio_file_gate_depth, 0))
		return ioctl_fd_general(fd, cmd, arg, rc);
	slot = file_slot(fd, false);
	if (!slot)
		return false;
	f = slot_load(slot);
	if (!f)
		return false;
	hz = sio_file_hazard;
	busy = sio_file_gate_busy;
	if (__builtin_expect(!hz || !busy || __atomic_load_n(hz, __ATOMIC_RELAXED),
			     0))
		return ioctl_fd_general(fd, cmd, arg, rc);
	__atomic_store_n(hz, f, __ATOMIC_RELAXED);
	sio_file_gate_depth = 1;
	__atomic_store_n(busy, 1, __ATOMIC_RELAXED);
	sio_file_hazard_fence();
	if (__builtin_expect(slot_load(slot) != f ||
			     __atomic_load_n(&sio_file_gate_closed,
					     __ATOMIC_ACQUIRE), 0)) {
		__atomic_store_n(busy, 0, __ATOMIC_RELEASE);
		sio_file_gate_depth = 0;
		hazard_drop(hz, f);
		return ioctl_fd_general(fd, cmd, arg, rc);
	}
	*rc = f->ops->ioctl ? f->ops->ioctl(f, cmd, arg) : -ENOTTY;
	/* Out of the gate (the op's own entries and exits balanced). */
	sio_file_gate_depth = 0;
	__atomic_store_n(busy, 0, __ATOMIC_RELEASE);
	/* The op may have put a counted reference of f, which emptied the
	 * hazard slot instead (references of one thread are
	 * interchangeable): file_put() looks. */
	file_put(f);
	return true;
}

SIO_API int sio_file_mmap(struct sio_file *file, void **addr, size_t len,
			  int prot, int flags, off_t off)
{
	int rc = -ENODEV;

	sio_file_gate_enter();
	if (file->ops->mmap)
		rc = file->ops->mmap(file, addr, len, prot, flags, off);
	/* What a MAP_FIXED mapping replaced is gone. */
	if (!rc && (flags & MAP_FIXED))
		sio_file_munmap(*addr, len);
	/* The new one is followed until it is unmapped (mapping.c). */
	if (!rc && file->ops->munmap) {
		rc = sio_file_map_add(file, *addr, len, off);
		if (rc) {
			sio_sys_munmap(*addr, len);
			file->ops->munmap(file, *addr, len, off);
		}
	}
	sio_file_gate_exit();
	return rc;
}

void sio_file_hold(struct sio_file *file)
{
	__atomic_add_fetch(&file->refs, 1, __ATOMIC_RELAXED);
}

SIO_API int sio_file_close(int fd)
{
	struct sio_file *f;
	struct sio_file **slot;

	if (__builtin_expect(file_proxy != NULL, 0))
		return file_proxy->close(file_proxy->ctx, fd);
	f = sio_file_lookup(fd);
	if (!f)
		return -EBADF;
	sio_file_gate_enter();
	pthread_mutex_lock(&f->lock);
	slot = file_slot(fd, false);
	if (slot_load(slot) != f) {
		/* Closed or replaced by another thread since the lookup. */
		pthread_mutex_unlock(&f->lock);
		sio_file_put(f);
		sio_file_gate_exit();
		return -EBADF;
	}
	slot_store(slot, NULL);
	fds_remove(f, fd);
	sio_sys_close(fd);
	pthread_mutex_unlock(&f->lock);
	sio_file_put(f);	/* the descriptor's reference */
	sio_file_put(f);	/* the lookup's */
	sio_file_gate_exit();
	return 0;
}

void sio_file_close_range(unsigned int first, unsigned int last)
{
	if (first >= FILE_MAX_FD)
		return;
	if (last >= FILE_MAX_FD)
		last = FILE_MAX_FD - 1;
	for (unsigned int fd = first; fd <= last; fd++) {
		struct sio_file **chunk =
			__atomic_load_n(&file_table[fd >> FILE_CHUNK_SHIFT],
					__ATOMIC_ACQUIRE);

		if (!chunk) {	/* skip to the next chunk */
			fd |= FILE_CHUNK - 1;
			continue;
		}
		if (slot_load(&chunk[fd & (FILE_CHUNK - 1)]))
			sio_file_close((int)fd);
	}
}

/* fcntl(F_DUPFD[_CLOEXEC]) of an emulated oldfd. */
static int file_dup_min(struct sio_file *f, int oldfd, int minfd, bool cloexec)
{
	struct sio_file **slot, *stale = NULL;
	int nfd, rc;

	pthread_mutex_lock(&f->lock);
	rc = fds_reserve(f);
	if (rc)
		goto out;
	nfd = sio_sys_fcntl(oldfd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, minfd);
	if (nfd < 0) {
		rc = -errno;
		goto out;
	}
	slot = file_slot(nfd, true);
	if (!slot) {
		sio_sys_close(nfd);
		rc = nfd >= FILE_MAX_FD ? sio_err(-EMFILE, "file: fd %d beyond the table", nfd) :
					  sio_err(-ENOMEM, "file: out of memory");
		goto out;
	}
	fds_add(f, nfd);
	stale = __atomic_exchange_n(slot, f, __ATOMIC_ACQ_REL);
	rc = nfd;	/* the lookup's reference is now the descriptor's */
out:
	pthread_mutex_unlock(&f->lock);
	if (stale)
		drop_stale(stale, nfd);
	if (rc < 0)
		sio_file_put(f);
	return rc;
}

/* dup3 where oldfd or newfd (or both) is emulated.  Sets *retry when
 * another thread changed either slot since the lookups.  Consumes both
 * lookup references. */
static int file_dup_exact(struct sio_file *fold, struct sio_file *fnew,
			  int oldfd, int newfd, bool cloexec, bool *retry)
{
	struct sio_file **oslot = file_slot(oldfd, false);
	struct sio_file **nslot = file_slot(newfd, fold != NULL);
	bool kept = false;
	int rc;

	lock2(fold, fnew);
	if ((fold && slot_load(oslot) != fold) ||
	    (fnew && slot_load(nslot) != fnew)) {
		*retry = true;
		rc = -EAGAIN;
		goto out;
	}
	if (fold && !nslot) {
		rc = newfd >= FILE_MAX_FD ? -EBADF : sio_err(-ENOMEM, "file: out of memory");
		goto out;
	}
	if (fold) {
		rc = fds_reserve(fold);
		if (rc)
			goto out;
	}
	rc = sio_sys_dup3(oldfd, newfd, cloexec ? O_CLOEXEC : 0);
	if (rc < 0) {
		rc = -errno;
		goto out;
	}
	if (fnew)
		fds_remove(fnew, newfd);
	if (fold) {
		fds_add(fold, newfd);
		kept = true;	/* the lookup's reference is the descriptor's */
	}
	if (nslot)
		slot_store(nslot, fold);
out:
	unlock2(fold, fnew);
	if (fnew && rc >= 0)
		sio_file_put(fnew);	/* its replaced descriptor */
	sio_file_put(fnew);
	if (!kept)
		sio_file_put(fold);
	return rc;
}

SIO_API int sio_file_dup(int oldfd, int newfd, int flags)
{
	bool cloexec = flags & O_CLOEXEC;
	struct sio_file *fold, *fnew;
	bool retry;
	int rc;

	if (flags & ~(O_CLOEXEC | SIO_FILE_DUP_EXACT))
		return -EINVAL;
	if (!(flags & SIO_FILE_DUP_EXACT)) {
		fold = lookup_counted(oldfd);
		if (!fold) {
			rc = sio_sys_fcntl(oldfd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD,
					   newfd);
			return rc < 0 ? -errno : rc;
		}
		sio_file_gate_enter();
		rc = file_dup_min(fold, oldfd, newfd, cloexec);
		sio_file_gate_exit();
		return rc;
	}
	if (oldfd == newfd)
		return -EINVAL;
	if (newfd < 0)
		return -EBADF;
	do {
		retry = false;
		fold = lookup_counted(oldfd);
		fnew = lookup_counted(newfd);
		if (!fold && !fnew) {
			rc = sio_sys_dup3(oldfd, newfd, cloexec ? O_CLOEXEC : 0);
			return rc < 0 ? -errno : rc;
		}
		sio_file_gate_enter();
		rc = file_dup_exact(fold, fnew, oldfd, newfd, cloexec, &retry);
		sio_file_gate_exit();
	} while (retry);
	return rc;
}
