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

/*
 * Name the failure: "prefix: " goes in front of the thread's message unless
 * the message holds unless already; with no message, the message is prefix
 * alone, with err's text.  Applied when the message is read, like the
 * formatting, so both strings must outlive it (string literals).
 */
void sio_err_prefix(int err, const char *prefix, const char *unless);

/* Clear the thread's message; used at the start of public entry points. */
void sio_err_clear(void);

#endif
