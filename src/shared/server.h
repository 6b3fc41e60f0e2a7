/*
 * The shared mode's server (server.c): one softiommu instance serving
 * every process of a `softiommu run --shared` tree (docs/process-model.md).
 */
#ifndef SIO_SHARED_SERVER_H
#define SIO_SHARED_SERVER_H

#include <stddef.h>

struct sio_machine;

/*
 * Serve machine m: listen on a new abstract unix socket (its name, without
 * the leading NUL, into addr) and answer on threads of this process from
 * now on.  The machine's iommufd host gets the server's dispatch owner of
 * user memory.  0 or a negative errno.
 */
int sio_shared_server_start(struct sio_machine *m, char *addr, size_t size);

/*
 * Wait, at most timeout_ms, until every served file has been released
 * (the run's processes have exited and their last closes have been
 * served): the launcher does so before it reports the IOMMU's counts.
 * 0, or -ETIMEDOUT while a process outside the wait (an orphan) still
 * holds files.
 */
int sio_shared_server_drain(int timeout_ms);

#endif
