/*
 * What the in-process owner (self.c) takes from its neighbours: the copies
 * (self_copy.c) and the per-call probes of the process (self_limits.c),
 * plus the calls the preload shim makes to keep the probes' cache current.
 *
 * The probes (pid, RLIMIT_MEMLOCK, CAP_IPC_LOCK) are cached with a
 * generation that fork and the shim's interposers of the calls that change
 * them (setrlimit, prlimit, capset, the setuid and setgid families, prctl)
 * bump; docs/umem.md says which reads use the cache.
 */
#ifndef SIO_UMEM_SELF_H
#define SIO_UMEM_SELF_H

#include "umem/umem.h"

/* Copy len bytes between local and the calling process's uaddr: 0 or
 * -EFAULT (a bad or half-unmapped range), never a signal. */
int sio_umem_self_copy(bool to_user, void *local, uint64_t uaddr, size_t len);

/* The owner ops built on it. */
int sio_umem_self_read(struct sio_umem_owner *owner, void *dst, uint64_t uaddr,
		       size_t len);
int sio_umem_self_write(struct sio_umem_owner *owner, uint64_t uaddr,
			const void *src, size_t len);
int sio_umem_self_limits(struct sio_umem_owner *owner, bool fresh,
			 struct sio_umem_limits *out);

/* The process's pid, from the cache (refreshed at fork). */
pid_t sio_umem_self_pid(void);

/*
 * The shim calls sio_umem_self_probes_watch() once at start-up: from then
 * on the cache is trusted, because every libc call that changes a probe
 * ends in sio_umem_self_probes_changed().  Without it (the library used
 * directly) every limits read asks the kernel.  Both async-signal-safe.
 */
void sio_umem_self_probes_watch(void);
void sio_umem_self_probes_changed(void);

#endif
