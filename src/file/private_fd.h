/*
 * The library's private descriptors (private_fd.c): descriptors the
 * library opens for itself and the program never sees in the kernel's
 * model (the file pins of src/umem, VFIO's eventfd copies).  The shim's
 * close, close_range and closefrom answer for them as the kernel answers
 * for descriptors a process does not have: close(fd) is EBADF, the ranges
 * skip them.
 */
#ifndef SIO_FILE_PRIVATE_FD_H
#define SIO_FILE_PRIVATE_FD_H

#include <stdbool.h>

/* Register fd as the library's: 0, or -ENOMEM (the caller closes fd and
 * fails), -EBADF for a negative fd. */
int sio_fd_private_add(int fd);
/* Unregister fd and close it (the raw call). */
void sio_fd_private_close(int fd);
bool sio_fd_private(int fd);
/* The lowest private descriptor in [first, last], or -1. */
int sio_fd_private_next(unsigned int first, unsigned int last);

#endif
