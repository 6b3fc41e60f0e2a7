/*
 * Whose memory the VFIO files' argument copies reach.  The subsystem takes
 * its host's owner of user memory when it is created; the shared mode's
 * server (src/shared/server.c), which serves other processes with a
 * machine it built for itself, replaces it with the dispatch owner (the
 * client whose request is being served) before any file is open.
 */
#ifndef SIO_VFIO_OWNER_H
#define SIO_VFIO_OWNER_H

struct sio_vfio;
struct sio_umem_owner;

/* Takes a reference of owner for the subsystem, each group and each
 * device, and drops the old ones.  No file may be open. */
void sio_vfio_set_owner(struct sio_vfio *vfio, struct sio_umem_owner *owner);

#endif
