/*
 * Thread-local error messages (see error.h for why they are per thread).
 */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "softiommu/common.h"

static _Thread_local char last_error[256];

int sio_err(int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(last_error) - 16 && err < 0)
		snprintf(last_error + n, sizeof(last_error) - (size_t)n, " (%s)",
			 strerror(-err));
	return err;
}

void sio_err_clear(void)
{
	last_error[0] = '\0';
}

SIO_API const char *sio_last_error(void)
{
	return last_error;
}

SIO_API const char *sio_version(void)
{
	return SIO_VERSION_STRING;
}
