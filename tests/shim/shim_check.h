/*
 * The shim test programs' checks: count a passed or failed condition, and
 * say on stderr what failed with errno.  main prints "N passed, M failed"
 * with shim_check_done() and exits with its value.
 */
#ifndef SIO_TEST_SHIM_CHECK_H
#define SIO_TEST_SHIM_CHECK_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int passed, failed;

static void check(int ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr, "FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (errno %d %s)\n", errno, strerror(errno));
}

static inline int shim_check_done(void)
{
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#endif
