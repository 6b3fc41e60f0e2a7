/*
 * Private to the file layer and the preload shim.
 *
 * The fork gate: every op on an emulated file, and the shim's creation of
 * the /dev/iommu context, runs inside the gate (a reader); fork() takes it
 * as the writer from a pthread_atfork prepare handler.  So no thread is
 * inside the library's iommufd code (holding its locks, or inside an RCU
 * read-side section) when the process is copied, and the child's private
 * copy of that state is consistent.  Nesting is counted per thread, so an
 * op that drops the last reference of another file (whose release runs
 * inside the gate too) does not take the lock twice.
 *
 * Raw system calls: the file layer reads, writes, dups and closes its
 * eventfds through syscall(2) (util/sys.h), never through the libc
 * symbols, because in the preload shim those symbols are the shim's own
 * interposers and would route the call back into the file table.
 */
#ifndef SIO_FILE_FILE_H
#define SIO_FILE_FILE_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/sys.h"
#include "util/thread_slot.h"

struct sio_file;

/* sio_file_gate_enter() and sio_file_gate_exit(): inline, below. */
/* Whether this thread is inside the gate (gate.c). */
bool sio_file_gate_inside(void);
/* fork's side, from file.c's atfork handlers: close waits for the ops in
 * flight and holds new ones (false, doing nothing, when called from inside
 * an op); open reopens after the fork, in the parent or the child, given
 * what close returned. */
bool sio_file_gate_close(void);
void sio_file_gate_open(bool closed, bool child);

/*
 * Hazard slots (gate.c): a lookup made outside any op may hold its file
 * through its thread's slot instead of a reference (file.c says when).
 *  - sio_file_gate_depth: this thread's nesting in the gate (0: no op);
 *  - sio_file_hazard: this thread's slot once file.c turned hazard
 *    lookups on for it, else NULL; cleared when the thread exits;
 *  - sio_file_hazard_slot: the slot, allocated if need be (NULL: none);
 *  - sio_file_hazard_fence: between a reader's store to its slot and its
 *    next load (a compiler barrier once membarrier is registered);
 *  - sio_file_hazard_barrier: the other side's barrier, before it reads
 *    the slots (membarrier, or a full fence where readers fence);
 *  - sio_file_hazard_held: whether some thread's slot holds file.
 */
extern _Thread_local unsigned int sio_file_gate_depth
	__attribute__((tls_model("initial-exec")));
extern _Thread_local struct sio_file **sio_file_hazard
	__attribute__((tls_model("initial-exec")));
struct sio_file **sio_file_hazard_slot(void);
static inline void sio_file_hazard_fence(void)
{
	sio_slot_fence();
}
void sio_file_hazard_barrier(void);
bool sio_file_hazard_held(const struct sio_file *file);

/*
 * Enter and leave the gate, inline: every op does, so the common case
 * (a thread with a slot, no fork under way) is a store to the thread's
 * slot, the fence above and a load of the gate, with no call.  The rest
 * (the first entry of a thread, a thread without a slot, waiting for a
 * fork) is gate.c's: sio_file_gate_enter_slow() runs with the depth
 * already counted.
 *  - sio_file_gate_busy: &busy of this thread's slot, NULL until it has
 *    one (and for a thread counted in the overflow instead);
 *  - sio_file_gate_closed: set while a fork is under way.
 */
extern _Thread_local unsigned int *sio_file_gate_busy
	__attribute__((tls_model("initial-exec")));
extern unsigned int sio_file_gate_closed;
void sio_file_gate_enter_slow(void);
void sio_file_gate_exit_slow(void);

static inline void sio_file_gate_enter(void)
{
	unsigned int *busy;

	if (sio_file_gate_depth++)
		return;
	busy = sio_file_gate_busy;
	if (__builtin_expect(busy != NULL, 1)) {
		__atomic_store_n(busy, 1, __ATOMIC_RELAXED);
		sio_file_hazard_fence();
		if (__builtin_expect(!__atomic_load_n(&sio_file_gate_closed,
						      __ATOMIC_ACQUIRE), 1))
			return;
		__atomic_store_n(busy, 0, __ATOMIC_RELEASE);
	}
	sio_file_gate_enter_slow();
}

static inline void sio_file_gate_exit(void)
{
	unsigned int *busy;

	if (--sio_file_gate_depth)
		return;
	busy = sio_file_gate_busy;
	if (__builtin_expect(busy != NULL, 1))
		__atomic_store_n(busy, 0, __ATOMIC_RELEASE);
	else
		sio_file_gate_exit_slow();
}

/* Whether lookups outside an op may use the hazard slots: the default
 * (-1) is while the preload shim runs (file.c); tests force it on (1) or
 * off (0) before their threads look files up. */
void sio_file_set_hazard_lookups(int mode);

/* sio_file_priv(), inline for the ops that run on every call: priv is
 * the first member of struct sio_file (file.c asserts it), and a pointer
 * to a struct converted to a pointer to its first member points at it. */
static inline void *sio_file_priv_of(const struct sio_file *file)
{
	return *(void *const *)file;
}

/* The shim's ioctl() on fd: false if fd is not an emulated file, else
 * true with the op's answer in *rc (sio_file_ioctl()). */
bool sio_file_ioctl_fd(int fd, unsigned int cmd, unsigned long arg, long *rc);

/* Another reference on a file (a mapping's, mapping.c). */
void sio_file_hold(struct sio_file *file);
/* Record a mapping made by the file's mmap op, which has a munmap op
 * (mapping.c): it holds a reference until it is all unmapped. */
int sio_file_map_add(struct sio_file *file, void *addr, size_t len, off_t off);

/* Close every emulated descriptor in [first, last] (close_range and
 * closefrom, before the real call closes the rest). */
void sio_file_close_range(unsigned int first, unsigned int last);

/*
 * The shared mode's server (src/shared/server.c) serves requests of other
 * processes with this process's file table.  While it serves one, a
 * thread sets a proxy: descriptor numbers the library is given (an access
 * object's id is its fd) and returns (a new access or fault queue fd) are
 * the client's, so lookup, create and close translate through it.
 *   resolve: the client's fd to this process's descriptor of the same
 *            file, or a negative errno;
 *   install: give the client a descriptor of the new file at our fd: the
 *            client's number, or a negative errno;
 *   close:   undo an install (the client's number): 0 or -EBADF.
 *   getfd:   a descriptor of this process on the open file description
 *            of the client's fd (an eventfd given to VFIO_DEVICE_SET_IRQS),
 *            or a negative errno.
 * Per thread; NULL (the default) means no translation.
 */
struct sio_file_proxy {
	void *ctx;
	int (*resolve)(void *ctx, int client_fd);
	int (*install)(void *ctx, int fd, bool cloexec);
	int (*close)(void *ctx, int client_fd);
	int (*getfd)(void *ctx, int client_fd);
};
void sio_file_proxy_set(const struct sio_file_proxy *proxy);

/* Whether this process has any emulated file (cheap: one load). */
bool sio_file_any(void);
const struct sio_file_proxy *sio_file_proxy_get(void);

#endif
