/*
 * The library's error messages: sio_err() keeps the format and its
 * arguments and sio_last_error() formats them when asked, so the text must
 * be what printf gives for every conversion the library uses, with the
 * caller's strings copied (they may be gone by then), and " (strerror)"
 * after.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "softiommu/common.h"
#include "util/error.h"

static void expect_text(const char *want_fmt, ...)
	__attribute__((format(printf, 1, 2)));

static char want[512];

static void expect_text(const char *want_fmt, ...)
{
	va_list ap;

	va_start(ap, want_fmt);
	vsnprintf(want, sizeof(want), want_fmt, ap);
	va_end(ap);
}

static void test_conversions(void **state)
{
	char name[32];
	const char *path = "/dev/iommu-and-more";

	(void)state;
	strcpy(name, "ioas");
	assert_int_equal(sio_err(-ENOENT, "id %u (%s) at %#llx+%zx, %d %x %#x %04x %lu %#lx %p %.*s%%",
				 7u, name, 0x1000ull, (size_t)0x20, -3, 0xabu,
				 0x10u, 0x7u, 99ul, 0x40ul, (void *)0x1234,
				 4, path), -ENOENT);
	/* The caller's buffer changes: the message keeps what it was. */
	strcpy(name, "XXXX");
	expect_text("id %u (%s) at %#llx+%zx, %d %x %#x %04x %lu %#lx %p %.*s%% (%s)",
		    7u, "ioas", 0x1000ull, (size_t)0x20, -3, 0xabu, 0x10u, 0x7u,
		    99ul, 0x40ul, (void *)0x1234, 4, path, strerror(ENOENT));
	assert_string_equal(sio_last_error(), want);
	/* Asked twice: the same text. */
	assert_string_equal(sio_last_error(), want);
}

static void test_clear_and_plain(void **state)
{
	(void)state;
	sio_err(-EINVAL, "plain");
	sio_err_clear();
	assert_string_equal(sio_last_error(), "");
	/* A positive or zero err has no errno text. */
	sio_err(0, "nothing %d", 5);
	assert_string_equal(sio_last_error(), "nothing 5");
	{
		const char *volatile null_str = NULL;

		sio_err(-EFAULT, "%s", null_str);
	}
	expect_text("(null) (%s)", strerror(EFAULT));
	assert_string_equal(sio_last_error(), want);
}

/* What the capture cannot hold is formatted at once, the same text. */
static void test_fallbacks(void **state)
{
	char big[400];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sio_err(-ENOMEM, "%s", big);
	assert_int_equal(strlen(sio_last_error()), 255);
	assert_memory_equal(sio_last_error(), big, 255);
	sio_err(-EIO, "%d %d %d %d %d %d %d %d %d %d %d %d", 1, 2, 3, 4, 5, 6,
		7, 8, 9, 10, 11, 12);
	expect_text("1 2 3 4 5 6 7 8 9 10 11 12 (%s)", strerror(EIO));
	assert_string_equal(sio_last_error(), want);
	sio_err(-EIO, "%8.3f|%-6s|%5d", 1.5, "ab", 42);
	expect_text("%8.3f|%-6s|%5d (%s)", 1.5, "ab", 42, strerror(EIO));
	assert_string_equal(sio_last_error(), want);
	/* A message longer than the buffer is cut, not overrun. */
	sio_err(-EIO, "%s%s", big + 200, big + 200);
	assert_int_equal(strlen(sio_last_error()), 255);
}

/* The ioctl's name goes in front, once, unless the reason names it. */
static void test_prefix(void **state)
{
	(void)state;
	sio_err_clear();
	sio_err_prefix(-ENOTTY, "IOMMU_FOO", "FOO");
	expect_text("IOMMU_FOO (%s)", strerror(ENOTTY));
	assert_string_equal(sio_last_error(), want);

	sio_err(-ENOENT, "object %u not found", 9u);
	sio_err_prefix(-ENOENT, "IOMMU_DESTROY", "DESTROY");
	expect_text("IOMMU_DESTROY: object 9 not found (%s)", strerror(ENOENT));
	assert_string_equal(sio_last_error(), want);
	assert_string_equal(sio_last_error(), want);

	sio_err(-EINVAL, "IOMMU_DESTROY: bad %s", "flags");
	sio_err_prefix(-EINVAL, "IOMMU_DESTROY", "DESTROY");
	expect_text("IOMMU_DESTROY: bad flags (%s)", strerror(EINVAL));
	assert_string_equal(sio_last_error(), want);

	/* A message formatted at once (a double) gets it at once. */
	sio_err(-EIO, "%.1f", 2.5);
	sio_err_prefix(-EIO, "IOMMU_X", "X");
	expect_text("IOMMU_X: 2.5 (%s)", strerror(EIO));
	assert_string_equal(sio_last_error(), want);
}

/* A format seen before takes the arguments it learnt, every time. */
/* sio_err_uint: the one-argument recorder of expected answers gives the
 * text sio_err would, prefixed the same way, and a later sio_err with
 * another format replaces it whole. */
static void test_uint(void **state)
{
	char want2[128];

	(void)state;
	assert_int_equal(sio_err_uint(-ENOENT, "no object %u", 4000000000u),
			 -ENOENT);
	sio_err_prefix(-ENOENT, "IOMMU_DESTROY", "DESTROY");
	snprintf(want2, sizeof(want2), "IOMMU_DESTROY: no object 4000000000 (%s)",
		 strerror(ENOENT));
	assert_string_equal(sio_last_error(), want2);
	sio_err_uint(-EBUSY, "id %#x", 255u);
	sio_err(-EINVAL, "%s and %d", "words", -3);
	snprintf(want2, sizeof(want2), "words and -3 (%s)", strerror(EINVAL));
	assert_string_equal(sio_last_error(), want2);
	sio_err_uint(-EBUSY, "id %#x", 255u);
	snprintf(want2, sizeof(want2), "id 0xff (%s)", strerror(EBUSY));
	assert_string_equal(sio_last_error(), want2);
}

static void test_same_format_again(void **state)
{
	static const char *const names[] = { "first", "second one", "" };

	(void)state;
	for (unsigned int i = 0; i < 3; i++) {
		sio_err(-ENOENT, "%s #%u of %.*s at %#llx", names[i], i, 3,
			names[(i + 1) % 3], 0x1000ull << i);
		expect_text("%s #%u of %.*s at %#llx (%s)", names[i], i, 3,
			    names[(i + 1) % 3], 0x1000ull << i,
			    strerror(ENOENT));
		assert_string_equal(sio_last_error(), want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conversions),
		cmocka_unit_test(test_clear_and_plain),
		cmocka_unit_test(test_fallbacks),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_same_format_again),
		cmocka_unit_test(test_uint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
