/*
 * The shim's paths (vfs.c): what preload.c's open interposers ask before
 * they open a path themselves.
 */
#ifndef SIO_PRELOAD_VFS_H
#define SIO_PRELOAD_VFS_H

#include <stdbool.h>
#include <sys/types.h>

/* Whether the emulated machine answers this open (a device node, a
 * generated file, or a file of the namespace's tree): then true with *fd
 * the descriptor, or -1 with errno.  False: open path as given. */
bool sio_vfs_open(const char *path, int flags, mode_t mode, int *fd);
/* The same for openat: a relative path against a union directory's
 * descriptor is its full path's open; one that reaches a node of the
 * namespace's tree through a tree directory's descriptor is the node's
 * open.  Also the emulated /proc/.../fail-nth files. */
bool sio_vfs_openat(int dirfd, const char *path, int flags, mode_t mode,
		    int *fd);

/* The machine this process made, or NULL if no path or open needed it. */
struct sio_machine *sio_vfs_machine_created(void);

#endif
