/*
 * User memory of another process (remote.c): the owner the shared mode's
 * server (src/shared/server.c, docs/process-model.md) gives the library
 * for each client process, and the "current" owner that stands for
 * whichever client the calling server thread is serving.
 *
 * A remote owner reads and writes through the client's /proc/self/mem
 * descriptor, which the client opened on itself and sent: bound to that
 * address space, it reads 0 bytes once the process has exited or exec'd,
 * which is -EFAULT here, so a reused pid never reaches another process.
 * It cannot alias the client's pages by address, so the client sends,
 * with IOAS_MAP, the memory files behind the range (memfds; private
 * memory is unshared into one first) and their offsets: records.  A pin
 * maps the recorded files into the server, and that mapping keeps the
 * pages whatever the client does to its view afterwards.
 */
#ifndef SIO_UMEM_REMOTE_H
#define SIO_UMEM_REMOTE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "umem/umem.h"

/*
 * An owner for a client process.  mem_fd (its /proc/self/mem, read-write)
 * and pidfd (for file_get; -1 if none) become the owner's and are closed
 * at release.
 */
int sio_umem_owner_remote(int mem_fd, int pidfd, pid_t pid, uid_t uid,
			  struct sio_umem_owner **out);
/* Whether owner is a remote owner. */
bool sio_umem_owner_is_remote(const struct sio_umem_owner *owner);
pid_t sio_umem_remote_pid(const struct sio_umem_owner *owner);

/* The effective capabilities the client sent with its latest request:
 * set, and read (false for an owner that is not remote). */
void sio_umem_remote_set_caps(struct sio_umem_owner *owner, uint64_t caps);
bool sio_umem_remote_caps(const struct sio_umem_owner *owner, uint64_t *caps);

/* The limits the client sent with its latest request. */
void sio_umem_remote_set_limits(struct sio_umem_owner *owner,
				const struct sio_umem_limits *lim);

/*
 * Record that the client's [uaddr, uaddr + len) (page aligned) is fd from
 * offset on.  fd becomes the owner's (closed when no record uses it, also
 * on failure).  Older records of the range are replaced.
 */
int sio_umem_remote_record(struct sio_umem_owner *owner, uint64_t uaddr,
			   uint64_t len, int fd, uint64_t offset);

/*
 * The current owner: what a server thread serving a client sets around
 * the request (NULL after).  The dispatch owner (one per server) forwards
 * every op to the calling thread's current owner (-EFAULT when none), so
 * code that holds one owner for everything (the iommufd host) reaches the
 * client being served.  sio_umem_owner_resolve() is what code that must
 * remember whose memory it was (an IOAS mapping, as the kernel keeps the
 * mapping's mm) calls: a reference to the current owner if owner is the
 * dispatch owner and one is set, else to owner itself.
 */
void sio_umem_current_set(struct sio_umem_owner *owner);
/* The current owner's capabilities, if it is a remote owner. */
bool sio_umem_remote_caps_current(uint64_t *caps);
struct sio_umem_owner *sio_umem_current(void);
int sio_umem_owner_dispatch(struct sio_umem_owner **out);
struct sio_umem_owner *sio_umem_owner_resolve(struct sio_umem_owner *owner);
/* The owner sio_umem_owner_resolve() would return, without a reference:
 * to compare with one already held. */
struct sio_umem_owner *sio_umem_owner_peek(struct sio_umem_owner *owner);

#endif
