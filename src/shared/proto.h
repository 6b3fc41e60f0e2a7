/*
 * The shared mode's wire protocol between the shim in each process of a
 * `softiommu run --shared` tree (src/preload/shared.c) and the server in
 * the launcher (server.c).  docs/process-model.md has the design.
 *
 * Every message is one SOCK_SEQPACKET record: struct sio_shared_msg,
 * possibly with descriptors (SCM_RIGHTS).  A client thread talks to the
 * server on its own connection (the "thread connection"), so an answer
 * can only reach the thread that asked:
 *
 *   HELLO    client -> server, first on a connection: the process's token
 *            (new at each exec and fork) and its /proc/self/mem.
 *   OPEN     open of a device node: cmd = open flags, arg = 0 for
 *            /dev/iommu, or the machine's node id + 1 (a VFIO container,
 *            group or cdev: sio_machine_open in the server); v[0] = the
 *            node's device number, which fstat of the file shows.
 *   FSTAT    ino: v[0] = the file's device number (0: none).
 *   MAP_DUP  ino = a trapping mapping's id, for a fork child, which
 *            inherits the view and holds the server's mapping too (until
 *            MUNMAP or its exit), as its VMA would: v[1] = 1, the parent
 *            before the fork sets a hold aside; v[1] = 2, the child claims
 *            one set aside by the parent whose token is arg.
 *   IOCTL    ino = inode of the client's socket (the emulated fd), cmd,
 *            arg = the program's argument as given; memlock, caps and
 *            cap_ipc_lock the caller's limits and capabilities; nrec memory records (IOAS_MAP: the
 *            files behind the range, one descriptor each).
 *   READ, WRITE  ino, arg = the program's buffer, v[0] = its length: the
 *            file's read or write op (fault queues, event queues).  A
 *            file that is readable has a byte queued on the client end
 *            for poll; the client drains it before asking.  With
 *            cmd = SIO_SHARED_RW_POS the op is positioned (pread/pwrite of
 *            a VFIO device's regions) at v[1], and nothing is drained.
 *   MMAP     ino, rec[0] = { length, offset }, cmd = prot, arg = flags:
 *            the file's mmap op, made in the server, which keeps that
 *            mapping while the client maps the same pages: the answer
 *            brings the memory file (one descriptor), v[0] = the offset
 *            in it, v[1] = the server's address (the mapping's name).
 *            A mapping that traps (a VFIO BAR) brings no descriptor:
 *            rc = SIO_SHARED_MMAP_TRAP, and the client maps trapping
 *            pages of its own whose accesses it forwards (MMIO).
 *   RECORDS  nrec memory records ahead of an IOCTL whose range has more
 *            pieces than one message carries; answered with rc = 0.
 *   MMIO     arg = the server's address of a trapped access, cmd = its
 *            size, v[1] = 1 for a store of v[0]; a load answers v[0].
 *   MUNMAP   arg = that address, v[0] = length: the client unmapped it.
 *   STATUS   arg = a pid: v[0] = pages pinned (VmPin), v[1] = pages
 *            charged in MM mode (VmLck's share) by that process's owners.
 *   CLOSE    ino: the client has just closed a descriptor of that file;
 *            if it was the last anywhere, the answer waits for the
 *            release (the kernel's close is synchronous).
 *   INSTALL  server -> client while serving a request: a new file's
 *            client end (one descriptor); cmd = 1 for close-on-exec.  The
 *            client answers INSTALLED with rc = its descriptor number.
 *   REPLY    server -> client: rc = the result (>= 0 or -errno).
 *
 * Fault injection: fail_nth is the caller thread's fail-nth countdown
 * (src/util/fail.h) and fail_kinds the kinds that count (bit per
 * enum sio_fail_kind); the server thread arms them around the op, and the
 * answer brings back what remains, so a countdown armed in the client
 * fails a site of the op in the server.
 */
#ifndef SIO_SHARED_PROTO_H
#define SIO_SHARED_PROTO_H

#include <stdbool.h>
#include <stdint.h>

/* The launcher sets these for every process of a shared run. */
#define SIO_SHARED_ADDR_ENV "SOFTIOMMU_SHARED_ADDR"	/* abstract name */
#define SIO_SHARED_PID_ENV "SOFTIOMMU_SHARED_PID"	/* the server's pid */

enum sio_shared_op {
	SIO_SHARED_HELLO = 1,
	SIO_SHARED_OPEN,
	SIO_SHARED_IOCTL,
	SIO_SHARED_READ,
	SIO_SHARED_WRITE,
	SIO_SHARED_MMAP,
	SIO_SHARED_MUNMAP,
	SIO_SHARED_STATUS,
	SIO_SHARED_CLOSE,
	SIO_SHARED_INSTALL,
	SIO_SHARED_INSTALLED,
	SIO_SHARED_REPLY,
	SIO_SHARED_MMIO,
	SIO_SHARED_RECORDS,
	SIO_SHARED_FSTAT,
	SIO_SHARED_MAP_DUP,
};

/* READ and WRITE at a position (cmd). */
#define SIO_SHARED_RW_POS 1
/* MMAP's answer for a mapping that traps. */
#define SIO_SHARED_MMAP_TRAP 1

/* At most this many memory records travel with one message. */
#define SIO_SHARED_MAX_REC 16

struct sio_shared_rec {
	uint64_t uaddr;
	uint64_t len;
	uint64_t offset;		/* in the record's file */
};

struct sio_shared_msg {
	uint32_t op;
	uint32_t cmd;
	int64_t rc;
	uint64_t ino;
	uint64_t arg;
	uint64_t token;
	uint64_t memlock;
	uint32_t cap_ipc_lock;
	uint32_t nrec;
	uint64_t caps;			/* the caller's effective capabilities */
	uint64_t v[2];
	uint32_t fail_nth;		/* the caller's fail-nth countdown */
	uint32_t fail_kinds;		/* the kinds that count, 1 << kind */
	struct sio_shared_rec rec[SIO_SHARED_MAX_REC];
};

/* Send m with nfds (at most SIO_SHARED_MAX_REC) descriptors: 0 or -EIO
 * (msg.c). */
int sio_shared_send(int sock, const struct sio_shared_msg *m, const int *fds,
		    unsigned int nfds);
/* Receive one message and up to max descriptors (more are closed), their
 * number in *nfds if nfds is not NULL: 0, or -EIO at end-of-file or on a
 * malformed message, with no descriptor left open. */
int sio_shared_recv(int sock, struct sio_shared_msg *m, int *fds,
		    unsigned int max, unsigned int *nfds, bool cloexec);

#endif
