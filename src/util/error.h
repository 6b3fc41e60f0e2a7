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
 * The same for a format whose only conversion takes one unsigned int (%u,
 * %x, ...): the argument is kept as it is, without learning the format.
 * For expected answers on fast paths (an object ID that is gone).
 */
int sio_err_uint(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Name the failure: "prefix: " goes in front of the thread's message unless
 * the message holds unless already; with no message, the message is prefix
 * alone, with err's text.  Applied when the message is read, like the
 * formatting, so both strings must outlive it (string literals).
 */
void sio_err_prefix(int err, const char *prefix, const char *unless);

/* Clear the thread's message; used at the start of public entry points.
 * Inline: every ioctl clears at entry and on success, and most find
 * nothing to clear (sio_err_dirty is one load from the thread pointer). */
extern _Thread_local _Bool sio_err_dirty
	__attribute__((tls_model("initial-exec")));
void sio_err_clear_dirty(void);
static inline void sio_err_clear(void)
{
	if (__builtin_expect(sio_err_dirty, 0))
		sio_err_clear_dirty();
}

#endif
