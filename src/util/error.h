/*
 * Error reporting inside the library: every failure path returns a negative
 * errno and records a human-readable message in a thread-local buffer, which
 * sio_last_error() hands to the caller.  Keeping the message per thread means
 * no lock and no global state is shared between contexts.
 */
#ifndef SIO_UTIL_ERROR_H
#define SIO_UTIL_ERROR_H

#include <errno.h>

/* Record "fmt" as this thread's last error and return err (a negative errno). */
int sio_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clear the thread's message; used at the start of public entry points. */
void sio_err_clear(void);

#endif
