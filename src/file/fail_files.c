/*
 * Fault injection's files: what a program reads and writes to drive the
 * library's fail-nth (util/fail.h) the way it drives the kernel's.
 *
 * fail-nth (fs/proc/base.c): a write of an unsigned number (the kernel's
 * kstrtouint: decimal, 0x hex or 0 octal, an optional trailing newline;
 * -EINVAL for anything else, -ERANGE above UINT_MAX) arms the thread's
 * countdown, 0 disarms it; a read gives "%u\n" of what is left, 0 once it
 * fired.  The kernel's file reaches the task it names from any thread;
 * ours cannot reach another thread's thread-local countdown, so the file
 * of thread T acts only when T itself reads or writes it, and answers
 * -EPERM to every other thread (docs/fault-injection.md).
 *
 * The debugfs knobs (lib/fault-inject.c, mm/failslab.c,
 * mm/fail_page_alloc.c): probability, interval, verbose ("%llu\n"), times,
 * space ("%lld\n", stored as int), ignore-gfp-wait and ignore-gfp-highmem
 * ("Y\n"/"N\n", written as kstrtobool reads).  They are stored
 * process-wide with the kernel's defaults; only ignore-gfp-wait changes
 * anything: it says whether allocations (failslab) or pages
 * (fail_page_alloc) count for fail-nth (sio_fail_kind_enable()).  The
 * random-failure knobs (probability, interval, times, space) are kept and
 * shown but inject nothing: only fail-nth does.
 *
 * Reads are positioned as simple_read_from_buffer's: read() moves a
 * per-descriptor-set position, pread() reads at its offset.  Writes are
 * whole values: the text is parsed from offset 0 whatever the position.
 * The program's buffers are reached with fault-safe copies (EFAULT).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "softiommu/file.h"
#include "file/fail_files.h"
#include "util/error.h"
#include "util/fail.h"

/* The program's bytes, fault-safely: in (to dst) or out (from src). */
static int copy_user(bool out, void *dst, const void *src, size_t len)
{
	struct iovec local = { out ? (void *)src : dst, len };
	struct iovec remote = { out ? dst : (void *)src, len };
	long n;

	if (!len)
		return 0;
	n = syscall(out ? SYS_process_vm_writev : SYS_process_vm_readv,
		    (long)getpid(), &local, 1L, &remote, 1L, 0L);
	return n == (long)len ? 0 : -EFAULT;
}

/* simple_read_from_buffer: text from off, at most len bytes. */
static ssize_t read_text(const char *text, void *buf, size_t len, off_t off)
{
	size_t tlen = strlen(text);
	size_t n;
	int rc;

	if ((size_t)off >= tlen)
		return 0;
	n = tlen - (size_t)off;
	if (n > len)
		n = len;
	rc = copy_user(true, buf, text + off, n);
	return rc ? rc : (ssize_t)n;
}

/* The program's text, at most max - 1 bytes of it (as the kernel's
 * kstrto*_from_user and simple_attr_write cut it), NUL-terminated. */
static int text_in(char *dst, size_t max, const void *buf, size_t len)
{
	int rc;

	if (len > max - 1)
		len = max - 1;
	rc = copy_user(false, dst, buf, len);
	dst[rc ? 0 : len] = '\0';
	return rc;
}

/* kstrtoull's rules: an optional '+', base 0, one trailing newline. */
static int parse_ull(const char *s, size_t len, unsigned long long *out)
{
	unsigned long long v = 0;
	unsigned int base = 10;
	size_t i = 0, digits = 0;

	if (len && s[len - 1] == '\n')
		len--;
	if (i < len && s[i] == '+')
		i++;
	if (i + 1 < len && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') &&
	    i + 2 < len) {
		base = 16;
		i += 2;
	} else if (i < len && s[i] == '0') {
		base = 8;
	}
	for (; i < len; i++, digits++) {
		unsigned int d;
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned int)(c - 'A' + 10);
		else
			return -EINVAL;
		if (d >= base)
			return -EINVAL;
		if (v > (ULLONG_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	if (!digits)
		return -EINVAL;
	*out = v;
	return 0;
}

int sio_fail_parse_uint(const char *s, size_t len, unsigned int *out)
{
	unsigned long long v;
	int rc = parse_ull(s, len, &v);

	if (rc)
		return rc;
	if (v > UINT_MAX)
		return -ERANGE;
	*out = (unsigned int)v;
	return 0;
}

/* kstrtoll's rules: kstrtoull with an optional '-'. */
static int parse_ll(const char *s, size_t len, long long *out)
{
	unsigned long long v;
	bool neg = len && s[0] == '-';
	int rc = parse_ull(s + neg, len - neg, &v);

	if (rc)
		return rc;
	if (neg ? v > (unsigned long long)LLONG_MAX + 1 : v > LLONG_MAX)
		return -ERANGE;
	*out = neg ? (long long)(0 - v) : (long long)v;
	return 0;
}

/* kstrtobool: the first character (and "on"/"off"). */
int sio_fail_parse_bool(const char *s, size_t len, bool *out)
{
	if (!len)
		return -EINVAL;
	switch (s[0]) {
	case 'y': case 'Y': case 't': case 'T': case '1':
		*out = true;
		return 0;
	case 'n': case 'N': case 'f': case 'F': case '0':
		*out = false;
		return 0;
	case 'o': case 'O':
		if (len < 2)
			return -EINVAL;
		if (s[1] == 'n' || s[1] == 'N') {
			*out = true;
			return 0;
		}
		if (s[1] == 'f' || s[1] == 'F') {
			*out = false;
			return 0;
		}
		return -EINVAL;
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* The common file                                                      */
/* ------------------------------------------------------------------ */

struct fail_file {
	int acc;		/* O_RDONLY, O_WRONLY or O_RDWR */
	off_t pos;		/* read()'s position; atomic */
	pid_t tid;		/* fail-nth: the thread */
	enum sio_fail_kind kind;	/* knobs */
	enum sio_fail_attr attr;
};

static ssize_t fail_read_at(struct fail_file *f, void *buf, size_t len,
			    off_t off);
static ssize_t fail_write_text(struct fail_file *f, const void *buf,
			       size_t len);

static ssize_t ff_pread(struct sio_file *file, void *buf, size_t len, off_t off)
{
	struct fail_file *f = sio_file_priv(file);

	if (f->acc == O_WRONLY)
		return -EBADF;
	return fail_read_at(f, buf, len, off);
}

static ssize_t ff_read(struct sio_file *file, void *buf, size_t len)
{
	struct fail_file *f = sio_file_priv(file);
	off_t pos = __atomic_load_n(&f->pos, __ATOMIC_RELAXED);
	ssize_t n;

	if (f->acc == O_WRONLY)
		return -EBADF;
	n = fail_read_at(f, buf, len, pos);
	if (n > 0)
		__atomic_add_fetch(&f->pos, n, __ATOMIC_RELAXED);
	return n;
}

static ssize_t ff_pwrite(struct sio_file *file, const void *buf, size_t len,
			 off_t off)
{
	struct fail_file *f = sio_file_priv(file);

	(void)off;
	if (f->acc == O_RDONLY)
		return -EBADF;
	return fail_write_text(f, buf, len);
}

static ssize_t ff_write(struct sio_file *file, const void *buf, size_t len)
{
	return ff_pwrite(file, buf, len, 0);
}

static void ff_release(struct sio_file *file)
{
	free(sio_file_priv(file));
}

/* One kind of file for both: fail-nth files have a thread, knobs none. */
static const struct sio_file_ops fail_ops = {
	.name = "fault-injection",
	.read = ff_read,
	.write = ff_write,
	.pread = ff_pread,
	.pwrite = ff_pwrite,
	.release = ff_release,
};

static int fail_open(struct fail_file *tmpl, int flags)
{
	struct fail_file *f;
	unsigned int saved;
	int fd, rc;

	if (flags & O_DIRECTORY)
		return sio_err(-ENOTDIR, "fault injection: not a directory");
	if ((flags & O_CREAT) && (flags & O_EXCL))
		return sio_err(-EEXIST, "fault injection: the file exists");
	/* Opening the control files is never a site, or a countdown armed
	 * for the library would fire on its own controls: plain malloc. */
	f = malloc(sizeof(*f));
	if (!f)
		return sio_err(-ENOMEM, "fault injection: out of memory");
	*f = *tmpl;
	f->acc = flags & O_ACCMODE;
	f->pos = 0;
	/* The file's own allocations are sites too: hold the countdown. */
	saved = sio_fail_nth_get();
	sio_fail_nth_set(0);
	rc = sio_file_create(&fail_ops, f, flags & O_CLOEXEC, NULL, &fd);
	sio_fail_nth_set(saved);
	if (rc) {
		free(f);
		return rc;
	}
	return fd;
}

/* ------------------------------------------------------------------ */
/* fail-nth                                                             */
/* ------------------------------------------------------------------ */

int sio_fail_nth_open(pid_t tid, int flags)
{
	struct fail_file t = { .tid = tid };

	return fail_open(&t, flags);
}

static bool own_thread(const struct fail_file *f)
{
	return (pid_t)syscall(SYS_gettid) == f->tid;
}

/* ------------------------------------------------------------------ */
/* The debugfs knobs                                                    */
/* ------------------------------------------------------------------ */

/* Each kind's attributes, with the kernel's defaults
 * (FAULT_ATTR_INITIALIZER; ignore-gfp-* true for failslab and
 * fail_page_alloc).  Atomic loads and stores: process-wide. */
static long long knobs[SIO_FAIL_NR_KINDS][SIO_FAIL_NR_ATTRS] = {
	[SIO_FAIL_SLAB] = { [SIO_FAIL_ATTR_INTERVAL] = 1,
			    [SIO_FAIL_ATTR_TIMES] = 1,
			    [SIO_FAIL_ATTR_VERBOSE] = 2,
			    [SIO_FAIL_ATTR_IGNORE_GFP_WAIT] = 1 },
	[SIO_FAIL_PAGE] = { [SIO_FAIL_ATTR_INTERVAL] = 1,
			    [SIO_FAIL_ATTR_TIMES] = 1,
			    [SIO_FAIL_ATTR_VERBOSE] = 2,
			    [SIO_FAIL_ATTR_IGNORE_GFP_WAIT] = 1,
			    [SIO_FAIL_ATTR_IGNORE_GFP_HIGHMEM] = 1 },
	[SIO_FAIL_USERCOPY] = { [SIO_FAIL_ATTR_INTERVAL] = 1,
				[SIO_FAIL_ATTR_TIMES] = 1,
				[SIO_FAIL_ATTR_VERBOSE] = 2 },
};

static const char *const dir_names[SIO_FAIL_NR_KINDS] = {
	[SIO_FAIL_SLAB] = "failslab",
	[SIO_FAIL_PAGE] = "fail_page_alloc",
	[SIO_FAIL_USERCOPY] = "fail_usercopy",
};

static const char *const attr_names[SIO_FAIL_NR_ATTRS] = {
	[SIO_FAIL_ATTR_PROBABILITY] = "probability",
	[SIO_FAIL_ATTR_INTERVAL] = "interval",
	[SIO_FAIL_ATTR_TIMES] = "times",
	[SIO_FAIL_ATTR_SPACE] = "space",
	[SIO_FAIL_ATTR_VERBOSE] = "verbose",
	[SIO_FAIL_ATTR_IGNORE_GFP_WAIT] = "ignore-gfp-wait",
	[SIO_FAIL_ATTR_IGNORE_GFP_HIGHMEM] = "ignore-gfp-highmem",
};

const char *sio_fail_dir_name(enum sio_fail_kind kind)
{
	return kind < SIO_FAIL_NR_KINDS ? dir_names[kind] : NULL;
}

const char *sio_fail_attr_name(enum sio_fail_kind kind, enum sio_fail_attr attr)
{
	if (kind >= SIO_FAIL_NR_KINDS || attr >= SIO_FAIL_NR_ATTRS)
		return NULL;
	if (attr == SIO_FAIL_ATTR_IGNORE_GFP_WAIT && kind == SIO_FAIL_USERCOPY)
		return NULL;
	if (attr == SIO_FAIL_ATTR_IGNORE_GFP_HIGHMEM && kind != SIO_FAIL_PAGE)
		return NULL;
	return attr_names[attr];
}

static bool attr_is_bool(enum sio_fail_attr attr)
{
	return attr == SIO_FAIL_ATTR_IGNORE_GFP_WAIT ||
	       attr == SIO_FAIL_ATTR_IGNORE_GFP_HIGHMEM;
}

static bool attr_is_signed(enum sio_fail_attr attr)
{
	return attr == SIO_FAIL_ATTR_TIMES || attr == SIO_FAIL_ATTR_SPACE;
}

int sio_fail_attr_open(enum sio_fail_kind kind, enum sio_fail_attr attr,
		       int flags)
{
	struct fail_file t = { .kind = kind, .attr = attr };

	if (!sio_fail_attr_name(kind, attr))
		return sio_err(-ENOENT, "fault injection: no such attribute");
	return fail_open(&t, flags);
}

/* ------------------------------------------------------------------ */
/* Reads and writes of both                                             */
/* ------------------------------------------------------------------ */

static ssize_t fail_read_at(struct fail_file *f, void *buf, size_t len,
			    off_t off)
{
	char text[32];

	if (f->tid) {
		if (!own_thread(f))
			return sio_err(-EPERM, "fail-nth: another thread's");
		snprintf(text, sizeof(text), "%u\n", sio_fail_nth_get());
	} else {
		long long v = __atomic_load_n(&knobs[f->kind][f->attr],
					      __ATOMIC_RELAXED);

		/* The C API may have changed it (sio_fail_kind_enable). */
		if (f->attr == SIO_FAIL_ATTR_IGNORE_GFP_WAIT)
			v = !sio_fail_kind_enabled(f->kind);

		if (attr_is_bool(f->attr))
			snprintf(text, sizeof(text), "%c\n", v ? 'Y' : 'N');
		else if (attr_is_signed(f->attr))
			snprintf(text, sizeof(text), "%lld\n", v);
		else
			snprintf(text, sizeof(text), "%llu\n",
				 (unsigned long long)v);
	}
	return read_text(text, buf, len, off);
}

static ssize_t write_knob(struct fail_file *f, const char *text, size_t len)
{
	long long v;
	int rc;

	if (attr_is_bool(f->attr)) {
		bool b = false;	/* not set when the text is not a bool */

		rc = sio_fail_parse_bool(text, len, &b);
		v = b;
	} else if (attr_is_signed(f->attr)) {
		rc = parse_ll(text, len, &v);
		v = (int)v;	/* an atomic_t */
	} else {
		unsigned long long u;

		rc = parse_ull(text, len, &u);
		v = (long long)u;
	}
	if (rc)
		return rc;
	__atomic_store_n(&knobs[f->kind][f->attr], v, __ATOMIC_RELAXED);
	/* Sites count when the knob does not ignore them. */
	if (f->attr == SIO_FAIL_ATTR_IGNORE_GFP_WAIT)
		sio_fail_kind_enable(f->kind, !v);
	return 0;
}

static ssize_t fail_write_text(struct fail_file *f, const void *buf, size_t len)
{
	char text[68];
	int rc;

	if (f->tid && !own_thread(f))
		return sio_err(-EPERM, "fail-nth: another thread's");
	/* kstrto*_from_user reads up to 66 bytes, simple_attr_write 23. */
	rc = text_in(text, f->tid || attr_is_bool(f->attr) ? 67 : 24, buf, len);
	if (rc)
		return rc;
	if (f->tid) {
		unsigned int n;

		rc = sio_fail_parse_uint(text, strlen(text), &n);
		if (rc)
			return rc;
		sio_fail_nth_set(n);
	} else {
		rc = (int)write_knob(f, text, strlen(text));
		if (rc)
			return rc;
	}
	return (ssize_t)len;
}
