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

struct sio_file;

void sio_file_gate_enter(void);
void sio_file_gate_exit(void);
/* Whether this thread is inside the gate (gate.c). */
bool sio_file_gate_inside(void);
/* fork's side, from file.c's atfork handlers: close waits for the ops in
 * flight and holds new ones (false, doing nothing, when called from inside
 * an op); open reopens after the fork, in the parent or the child, given
 * what close returned. */
bool sio_file_gate_close(void);
void sio_file_gate_open(bool closed, bool child);

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
