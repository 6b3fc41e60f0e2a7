/*
 * The user-memory layer: fault-safe copies, pins whose alias survives what
 * the program does to its own view, RLIMIT_MEMLOCK accounting, fork, and
 * pins of a file by offset through a reference to it.
 *
 * Every test checks that it leaves no file descriptor and no charge
 * behind.  Huge-page cases run only when the machine has free 2 MiB pages.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "softiommu/umem.h"

static size_t PG;

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

struct fixture {
	struct sio_umem_owner *owner;
	int nfds;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	PG = (size_t)sysconf(_SC_PAGESIZE);
	f->nfds = count_fds();
	assert_int_equal(sio_umem_owner_self(&f->owner), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct sio_umem_stats st;

	sio_umem_owner_stats(f->owner, &st);
	assert_int_equal(st.pinned, 0);
	assert_int_equal(st.locked_mm, 0);
	assert_int_equal(sio_umem_user_locked(getuid()), 0);
	sio_umem_owner_put(f->owner);
	assert_int_equal(count_fds(), f->nfds);
	free(f);
	return 0;
}

static uint64_t ua(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static void *hp(uint64_t host)
{
	return (void *)(uintptr_t)host;
}

static void *map_anon(size_t len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS,
		       -1, 0);

	assert_ptr_not_equal(p, MAP_FAILED);
	return p;
}

static void fill(void *p, size_t len, unsigned int seed)
{
	unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i++)
		c[i] = (unsigned char)(seed + i * 7 + i / 4096);
}

static bool filled(const void *p, size_t len, unsigned int seed)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (c[i] != (unsigned char)(seed + i * 7 + i / 4096))
			return false;
	return true;
}

/* The alias of the whole pin, when it is one piece. */
static unsigned char *alias_of(struct sio_umem_pin *pin, size_t len)
{
	size_t contig = 0;
	uint64_t h = sio_umem_pin_host(pin, 0, &contig);

	assert_true(h != 0);
	assert_true(contig >= len);
	return hp(h);
}

/* ------------------------------------------------------------------ */

static void test_read_write(void **state)
{
	struct fixture *f = *state;
	unsigned char buf[64], out[64];
	unsigned char *m, *ro;

	fill(buf, sizeof(buf), 3);
	memset(out, 0, sizeof(out));
	assert_int_equal(sio_umem_read(f->owner, out, ua(buf), sizeof(buf)), 0);
	assert_memory_equal(out, buf, sizeof(buf));
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(sio_umem_write(f->owner, ua(buf), out, sizeof(out)), 0);
	assert_memory_equal(out, buf, sizeof(buf));
	assert_int_equal(sio_umem_read(f->owner, out, 0, 0), 0);

	/* Bad pointers: EFAULT, not SIGSEGV. */
	assert_int_equal(sio_umem_read(f->owner, out, 0, 8), -EFAULT);
	assert_true(strlen(sio_last_error()) > 0);
	assert_int_equal(sio_umem_write(f->owner, 16, out, 8), -EFAULT);
	assert_int_equal(sio_umem_read(f->owner, out, UINT64_MAX - 3, 8), -EFAULT);
	assert_int_equal(sio_umem_read(f->owner, out, 1ull << 63, 8), -EFAULT);

	/* Half unmapped: the copy fails, whatever part came first. */
	m = map_anon(2 * PG, MAP_PRIVATE);
	assert_int_equal(munmap(m + PG, PG), 0);
	assert_int_equal(sio_umem_read(f->owner, out, ua(m + PG - 32), 64), -EFAULT);
	assert_int_equal(sio_umem_write(f->owner, ua(m + PG - 32), out, 64), -EFAULT);
	assert_int_equal(sio_umem_read(f->owner, out, ua(m + PG - 64), 64), 0);
	assert_int_equal(munmap(m, PG), 0);

	/* A read-only page can be read, not written; PROT_NONE neither. */
	ro = map_anon(PG, MAP_PRIVATE);
	ro[0] = 9;
	assert_int_equal(mprotect(ro, PG, PROT_READ), 0);
	assert_int_equal(sio_umem_read(f->owner, out, ua(ro), 1), 0);
	assert_int_equal(out[0], 9);
	assert_int_equal(sio_umem_write(f->owner, ua(ro), out, 1), -EFAULT);
	assert_int_equal(ro[0], 9);
	assert_int_equal(mprotect(ro, PG, PROT_NONE), 0);
	assert_int_equal(sio_umem_read(f->owner, out, ua(ro), 1), -EFAULT);
	assert_int_equal(munmap(ro, PG), 0);
}

static void test_pin_shared_anon(void **state)
{
	struct fixture *f = *state;
	size_t len = 4 * PG;
	unsigned char *buf = map_anon(len, MAP_SHARED);
	struct sio_umem_pin *pin, *pin2;
	struct sio_umem_stats st;
	unsigned char *a, *a2;

	fill(buf, len, 1);
	assert_int_equal(sio_umem_pin(f->owner, ua(buf), len, SIO_UMEM_PIN_WRITE,
				      SIO_UMEM_ACCT_NONE, &pin), 0);
	assert_int_equal(sio_umem_pin(f->owner, ua(buf), len, 0,
				      SIO_UMEM_ACCT_NONE, &pin2), 0);
	assert_int_equal(sio_umem_pin_npages(pin), 4);
	assert_int_equal(sio_umem_pin_nr_ranges(pin), 1);
	sio_umem_owner_stats(f->owner, &st);
	assert_int_equal(st.pinned, 8);
	a = alias_of(pin, len);
	a2 = alias_of(pin2, len);
	assert_ptr_not_equal(a, buf);
	/* One view of the memory for every pin of it (the arena). */
	assert_ptr_equal(a, a2);
	assert_true(filled(a, len, 1));

	/* Shared memory: the program's view is left as it was. */
	buf[5] = 0x55;
	assert_int_equal(a[5], 0x55);

	/* The program drops its view; both aliases keep the pages. */
	assert_int_equal(munmap(buf, len), 0);
	a[5] = 5 * 7 + 1;
	assert_true(filled(a, len, 1));
	memset(a + PG, 0x77, PG);
	assert_int_equal(a2[PG + 10], 0x77);
	/* ... even when something else is mapped where the view was. */
	sio_umem_unpin(pin);
	assert_int_equal(a2[PG], 0x77);
	sio_umem_unpin(pin2);
	sio_umem_owner_stats(f->owner, &st);
	assert_int_equal(st.pinned, 0);
}

static void test_pin_private_anon(void **state)
{
	struct fixture *f = *state;
	size_t len = 3 * PG;
	unsigned char *buf = map_anon(len, MAP_PRIVATE);
	unsigned char *other, *a;
	struct sio_umem_pin *pin;

	fill(buf, len, 2);
	assert_int_equal(sio_umem_pin(f->owner, ua(buf), len, SIO_UMEM_PIN_WRITE,
				      SIO_UMEM_ACCT_USER, &pin), 0);
	a = alias_of(pin, len);
	assert_true(filled(a, len, 2));

	/* Unshared: program writes reach the alias and the other way. */
	buf[PG + 3] = 0xee;
	assert_int_equal(a[PG + 3], 0xee);
	a[2 * PG + 1] = 0xdd;
	assert_int_equal(buf[2 * PG + 1], 0xdd);
	buf[PG + 3] = (unsigned char)(2 + (PG + 3) * 7 + (PG + 3) / 4096);
	a[2 * PG + 1] = (unsigned char)(2 + (2 * PG + 1) * 7 + (2 * PG + 1) / 4096);

	/* munmap, then map something else there: the alias keeps its data. */
	assert_int_equal(munmap(buf, len), 0);
	other = mmap(buf, len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	assert_ptr_equal(other, buf);
	memset(other, 0, len);
	assert_true(filled(a, len, 2));
	sio_umem_unpin(pin);
	assert_int_equal(munmap(other, len), 0);
}

static void test_pin_mremap_view(void **state)
{
	struct fixture *f = *state;
	size_t len = 2 * PG;
	unsigned char *buf = map_anon(len, MAP_PRIVATE);
	unsigned char *moved, *a;
	struct sio_umem_pin *pin;

	fill(buf, len, 4);
	assert_int_equal(sio_umem_pin(f->owner, ua(buf), len, SIO_UMEM_PIN_WRITE,
				      SIO_UMEM_ACCT_NONE, &pin), 0);
	a = alias_of(pin, len);
	moved = mremap(buf, len, 8 * PG, MREMAP_MAYMOVE);
	assert_ptr_not_equal(moved, MAP_FAILED);
	assert_true(filled(a, len, 4));
	/* The moved view still shares the pages (it is the same mapping). */
	moved[1] = 0x42;
	assert_int_equal(a[1], 0x42);
	assert_int_equal(munmap(moved, 8 * PG), 0);
	assert_int_equal(a[1], 0x42);
	sio_umem_unpin(pin);
}

static void test_pin_memfd(void **state)
{
	struct fixture *f = *state;
	size_t len = 4 * PG;
	int fd = memfd_create("test-umem", MFD_CLOEXEC);
	unsigned char *buf, *a;
	struct sio_umem_pin *pin;
	unsigned char c = 0x31;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(8 * PG)), 0);
	/* Map from a file offset, and pin from the middle of a page. */
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   (off_t)(2 * PG));
	assert_ptr_not_equal(buf, MAP_FAILED);
	fill(buf, len, 5);
	assert_int_equal(sio_umem_pin(f->owner, ua(buf + 100), len - 200,
				      SIO_UMEM_PIN_WRITE, SIO_UMEM_ACCT_NONE,
				      &pin), 0);
	assert_int_equal(sio_umem_pin_npages(pin), 4);
	a = alias_of(pin, len - 200);
	assert_int_equal((uintptr_t)a & (PG - 1), 100);
	assert_true(filled(a - 100, len, 5));
	assert_int_equal(munmap(buf, len), 0);
	/* The file and the alias are the same pages. */
	assert_int_equal(pwrite(fd, &c, 1, (off_t)(2 * PG + 100)), 1);
	assert_int_equal(a[0], 0x31);
	a[1] = 0x32;
	assert_int_equal(pread(fd, &c, 1, (off_t)(2 * PG + 101)), 1);
	assert_int_equal(c, 0x32);
	assert_int_equal(sio_umem_pin_host(pin, len - 200, NULL), 0);
	sio_umem_unpin(pin);
	close(fd);
}

/* The selftest's ro_unshare: a read-only pin of a private file mapping
 * must keep seeing what the program writes afterwards. */
static void test_pin_ro_unshare(void **state)
{
	struct fixture *f = *state;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	unsigned char *buf, *a, *ro;
	struct sio_umem_pin *pin;

	assert_true(fd >= 0);
	buf = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_ptr_not_equal(buf, MAP_FAILED);
	assert_int_equal(sio_umem_pin(f->owner, ua(buf), PG, 0,
				      SIO_UMEM_ACCT_USER, &pin), 0);
	a = alias_of(pin, PG);
	assert_memory_equal(a, "\177ELF", 4);
	memset(buf, 1, PG);
	assert_int_equal(a[0], 1);
	assert_int_equal(a[PG - 1], 1);
	sio_umem_unpin(pin);
	assert_int_equal(munmap(buf, PG), 0);

	/* Read-only private mapping: a read pin works, a write pin is EFAULT
	 * (FOLL_WRITE without FOLL_FORCE on a !VM_WRITE VMA). */
	ro = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	assert_ptr_not_equal(ro, MAP_FAILED);
	assert_int_equal(sio_umem_pin(f->owner, ua(ro), PG, SIO_UMEM_PIN_WRITE,
				      SIO_UMEM_ACCT_USER, &pin), -EFAULT);
	assert_int_equal(sio_umem_pin(f->owner, ua(ro), PG, 0,
				      SIO_UMEM_ACCT_USER, &pin), 0);
	a = alias_of(pin, PG);
	assert_memory_equal(a, "\177ELF", 4);
	assert_memory_equal(a, ro, PG);
	sio_umem_unpin(pin);
	assert_int_equal(munmap(ro, PG), 0);
	close(fd);
}

static void test_pin_two_vmas(void **state)
{
	struct fixture *f = *state;
	size_t len = 6 * PG;
	unsigned char *buf = map_anon(len, MAP_PRIVATE);
	struct sio_umem_range r0, r1, r2;
	struct sio_umem_pin *pin;
	unsigned char *p;
	size_t contig, off;

	/* Pages 3..5 become shared: two VMAs of different kinds. */
	p = mmap(buf + 3 * PG, 3 * PG, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	assert_ptr_equal(p, buf + 3 * PG);
	fill(buf, len, 6);
	assert_int_equal(sio_umem_pin(f->owner, ua(buf + 10), len - 20,
				      SIO_UMEM_PIN_WRITE, SIO_UMEM_ACCT_MM,
				      &pin), 0);
	assert_int_equal(sio_umem_pin_nr_ranges(pin), 2);
	assert_int_equal(sio_umem_pin_range(pin, 0, &r0), 0);
	assert_int_equal(sio_umem_pin_range(pin, 1, &r1), 0);
	assert_int_equal(sio_umem_pin_range(pin, 2, &r2), -ENOENT);
	assert_int_equal(r0.uaddr, ua(buf));
	assert_int_equal(r0.len, 3 * PG);
	assert_int_equal(r1.uaddr, ua(buf + 3 * PG));
	assert_int_equal(r1.len, 3 * PG);
	assert_int_equal(sio_umem_pin_host(pin, 0, &contig), r0.host + 10);
	assert_int_equal(contig, 3 * PG - 10);
	off = 3 * PG - 10;
	assert_int_equal(sio_umem_pin_host(pin, off, &contig), r1.host);
	assert_int_equal(contig, 3 * PG - 10);

	assert_int_equal(munmap(buf, len), 0);
	assert_true(filled(hp(r0.host), 3 * PG, 6));
	for (off = 0; off < 3 * PG; off++)
		assert_int_equal(((unsigned char *)hp(r1.host))[off],
				 (unsigned char)(6 + (off + 3 * PG) * 7 +
						 (off + 3 * PG) / 4096));
	sio_umem_unpin(pin);
}

static void test_pin_efault(void **state)
{
	struct fixture *f = *state;
	unsigned char *m = map_anon(4 * PG, MAP_PRIVATE);
	struct sio_umem_pin *pin = NULL;
	unsigned char *sro;
	struct sio_umem_stats st;

	fill(m, 4 * PG, 7);
	/* A hole in the middle: EFAULT "half way through", nothing pinned,
	 * nothing charged, the private memory before the hole not unshared
	 * (a later program write is not seen by anything). */
	assert_int_equal(munmap(m + 2 * PG, PG), 0);
	assert_int_equal(sio_umem_pin(f->owner, ua(m), 4 * PG, 0,
				      SIO_UMEM_ACCT_USER, &pin), -EFAULT);
	assert_null(pin);
	sio_umem_owner_stats(f->owner, &st);
	assert_int_equal(st.pinned, 0);
	assert_int_equal(st.locked_user, 0);
	/* Fully unmapped. */
	assert_int_equal(sio_umem_pin(f->owner, ua(m + 2 * PG), PG, 0,
				      SIO_UMEM_ACCT_USER, &pin), -EFAULT);
	/* PROT_NONE. */
	assert_int_equal(mprotect(m + 3 * PG, PG, PROT_NONE), 0);
	assert_int_equal(sio_umem_pin(f->owner, ua(m + 3 * PG), 1, 0,
				      SIO_UMEM_ACCT_USER, &pin), -EFAULT);
	/* Bad arguments. */
	assert_int_equal(sio_umem_pin(f->owner, ua(m), 0, 0,
				      SIO_UMEM_ACCT_USER, &pin), -EINVAL);
	assert_int_equal(sio_umem_pin(f->owner, ua(m), PG, 1u << 7,
				      SIO_UMEM_ACCT_USER, &pin), -EINVAL);
	assert_int_equal(sio_umem_pin(f->owner, ua(m), PG, 0,
				      (enum sio_umem_acct)9, &pin), -EINVAL);
	assert_int_equal(sio_umem_pin(f->owner, UINT64_MAX - PG, 2 * PG, 0,
				      SIO_UMEM_ACCT_USER, &pin), -EOVERFLOW);
	assert_int_equal(sio_umem_pin(f->owner, 0, PG, 0,
				      SIO_UMEM_ACCT_USER, &pin), -EFAULT);
	/* A special mapping. */
	{
		unsigned long vdso = 0;
		FILE *fp = fopen("/proc/self/maps", "r");
		char line[512];

		assert_non_null(fp);
		while (fgets(line, sizeof(line), fp))
			if (strstr(line, "[vdso]"))
				vdso = strtoul(line, NULL, 16);
		fclose(fp);
		if (vdso)
			assert_int_equal(sio_umem_pin(f->owner, vdso, 1, 0,
						      SIO_UMEM_ACCT_USER, &pin),
					 -EFAULT);
	}
	assert_int_equal(munmap(m, 2 * PG), 0);
	assert_int_equal(munmap(m + 3 * PG, PG), 0);

	/* Write pin of a read-only shared mapping. */
	sro = mmap(NULL, PG, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_ptr_not_equal(sro, MAP_FAILED);
	assert_int_equal(sio_umem_pin(f->owner, ua(sro), PG, SIO_UMEM_PIN_WRITE,
				      SIO_UMEM_ACCT_USER, &pin), -EFAULT);
	assert_int_equal(sio_umem_pin(f->owner, ua(sro), PG, 0,
				      SIO_UMEM_ACCT_USER, &pin), 0);
	sio_umem_unpin(pin);
	assert_int_equal(munmap(sro, PG), 0);
}

/* Writable shared mapping of a file on a file system with writeback: the
 * kernel refuses a long-term writable pin, a read pin is fine. */
static void test_pin_shared_file(void **state)
{
	struct fixture *f = *state;
	char path[] = "/var/tmp/test_umem.XXXXXX";
	struct sio_umem_pin *pin = NULL;
	unsigned char *buf;
	int fd = mkstemp(path);
	struct statfs sfs;

	assert_true(fd >= 0);
	assert_int_equal(fstatfs(fd, &sfs), 0);
	unlink(path);
	assert_int_equal(ftruncate(fd, (off_t)PG), 0);
	buf = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_ptr_not_equal(buf, MAP_FAILED);
	close(fd);
	buf[0] = 0x61;
	assert_int_equal(sio_umem_pin(f->owner, ua(buf), PG, 0,
				      SIO_UMEM_ACCT_NONE, &pin), 0);
	assert_int_equal(*alias_of(pin, PG), 0x61);
	buf[0] = 0x62;
	assert_int_equal(*alias_of(pin, PG), 0x62);
	sio_umem_unpin(pin);
	/* Unless /var/tmp is a tmpfs, where the write pin is allowed. */
	if (sfs.f_type == TMPFS_MAGIC) {
		assert_int_equal(sio_umem_pin(f->owner, ua(buf), PG,
					      SIO_UMEM_PIN_WRITE,
					      SIO_UMEM_ACCT_NONE, &pin), 0);
		sio_umem_unpin(pin);
	} else {
		assert_int_equal(sio_umem_pin(f->owner, ua(buf), PG,
					      SIO_UMEM_PIN_WRITE,
					      SIO_UMEM_ACCT_NONE, &pin), -EFAULT);
	}
	assert_int_equal(munmap(buf, PG), 0);
}

/* ------------------------------------------------------------------ */
/* Accounting                                                           */
/* ------------------------------------------------------------------ */

static bool cap_ipc_lock(bool set, bool on)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	unsigned int i = CAP_TO_INDEX(CAP_IPC_LOCK);
	uint32_t bit = CAP_TO_MASK(CAP_IPC_LOCK);

	memset(d, 0, sizeof(d));
	assert_int_equal(syscall(SYS_capget, &hdr, d), 0);
	if (!set)
		return d[i].effective & bit;
	if (on)
		d[i].effective |= bit;
	else
		d[i].effective &= ~bit;
	return syscall(SYS_capset, &hdr, d) == 0;
}

static void check_limits(struct fixture *f, enum sio_umem_acct mode,
			 unsigned char *buf)
{
	struct sio_umem_owner *o2;
	struct sio_umem_pin *p1, *p2, *p3 = NULL;
	struct sio_umem_stats st;

	assert_int_equal(sio_umem_owner_self(&o2), 0);
	/* 4 pages allowed: 3 fit, 2 more do not. */
	assert_int_equal(sio_umem_pin(f->owner, ua(buf), 3 * PG, 0, mode, &p1), 0);
	assert_int_equal(sio_umem_pin_acct(p1), mode);
	assert_int_equal(sio_umem_pin(f->owner, ua(buf), 2 * PG, 0, mode, &p3),
			 -ENOMEM);
	assert_null(p3);
	sio_umem_owner_stats(f->owner, &st);
	assert_int_equal(st.pinned, 3);
	assert_int_equal(st.locked_mm, mode == SIO_UMEM_ACCT_MM ? 3 : 0);
	assert_int_equal(st.locked_user, mode == SIO_UMEM_ACCT_USER ? 3 : 0);
	assert_int_equal(sio_umem_user_locked(getuid()),
			 mode == SIO_UMEM_ACCT_USER ? 3 : 0);

	/* Another owner: USER shares the uid's counter, MM has its own. */
	if (mode == SIO_UMEM_ACCT_USER) {
		assert_int_equal(sio_umem_pin(o2, ua(buf), 2 * PG, 0, mode, &p2),
				 -ENOMEM);
		assert_int_equal(sio_umem_pin(o2, ua(buf), PG, 0, mode, &p2), 0);
	} else {
		assert_int_equal(sio_umem_pin(o2, ua(buf), 4 * PG, 0, mode, &p2), 0);
		assert_int_equal(sio_umem_charge(o2, mode, 1), -ENOMEM);
	}
	/* An unaligned 2-byte pin across a page boundary is 2 pages. */
	assert_int_equal(sio_umem_pin(f->owner, ua(buf + PG - 1), 2, 0, mode, &p3),
			 -ENOMEM);
	sio_umem_unpin(p1);
	assert_int_equal(sio_umem_pin(f->owner, ua(buf + PG - 1), 2, 0, mode, &p3), 0);
	assert_int_equal(sio_umem_pin_npages(p3), 2);
	sio_umem_unpin(p3);
	sio_umem_unpin(p2);
	sio_umem_owner_stats(o2, &st);
	assert_int_equal(st.pinned, 0);
	assert_int_equal(st.locked_mm, 0);
	sio_umem_owner_put(o2);
}

static void test_accounting(void **state)
{
	struct fixture *f = *state;
	unsigned char *buf = map_anon(8 * PG, MAP_SHARED);
	bool had_cap = cap_ipc_lock(false, false);
	struct sio_umem_pin *pin;
	struct sio_umem_stats st;
	struct rlimit old, rl;

	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &old), 0);
	rl = old;
	rl.rlim_cur = 4 * PG;
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	if (had_cap)
		assert_true(cap_ipc_lock(true, false));
	assert_false(cap_ipc_lock(false, false));
	assert_int_equal(sio_umem_acct_effective(f->owner, SIO_UMEM_ACCT_USER),
			 SIO_UMEM_ACCT_USER);

	check_limits(f, SIO_UMEM_ACCT_USER, buf);
	check_limits(f, SIO_UMEM_ACCT_MM, buf);

	/* NONE: charged nowhere but "pinned", never limited. */
	assert_int_equal(sio_umem_pin(f->owner, ua(buf), 8 * PG, 0,
				      SIO_UMEM_ACCT_NONE, &pin), 0);
	sio_umem_owner_stats(f->owner, &st);
	assert_int_equal(st.pinned, 8);
	assert_int_equal(st.locked_user + st.locked_mm, 0);
	sio_umem_unpin(pin);

	/* NOCHARGE, and explicit charges as the iommufd layer may use. */
	assert_int_equal(sio_umem_pin(f->owner, ua(buf), 8 * PG,
				      SIO_UMEM_PIN_NOCHARGE, SIO_UMEM_ACCT_USER,
				      &pin), 0);
	sio_umem_owner_stats(f->owner, &st);
	assert_int_equal(st.pinned, 0);
	assert_int_equal(sio_umem_charge(f->owner, SIO_UMEM_ACCT_USER, 4), 0);
	assert_int_equal(sio_umem_charge(f->owner, SIO_UMEM_ACCT_USER, 1), -ENOMEM);
	assert_int_equal(sio_umem_charge(f->owner, SIO_UMEM_ACCT_MM, 4), 0);
	sio_umem_owner_stats(f->owner, &st);
	assert_int_equal(st.pinned, 8);
	assert_int_equal(st.locked_user, 4);
	assert_int_equal(st.locked_mm, 4);
	sio_umem_uncharge(f->owner, SIO_UMEM_ACCT_USER, 4);
	sio_umem_uncharge(f->owner, SIO_UMEM_ACCT_MM, 4);
	sio_umem_unpin(pin);

	/* With CAP_IPC_LOCK the same pins are not charged (iommufd makes the
	 * pages ACCOUNT_NONE), and unpin after dropping the capability takes
	 * back nothing. */
	if (had_cap) {
		assert_true(cap_ipc_lock(true, true));
		assert_int_equal(sio_umem_pin(f->owner, ua(buf), 8 * PG, 0,
					      SIO_UMEM_ACCT_MM, &pin), 0);
		assert_int_equal(sio_umem_pin_acct(pin), SIO_UMEM_ACCT_NONE);
		assert_true(cap_ipc_lock(true, false));
		sio_umem_owner_stats(f->owner, &st);
		assert_int_equal(st.pinned, 8);
		assert_int_equal(st.locked_mm, 0);
		sio_umem_unpin(pin);
		assert_true(cap_ipc_lock(true, true));
	}
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &old), 0);
	assert_int_equal(munmap(buf, 8 * PG), 0);
}

/* ------------------------------------------------------------------ */
/* Fork                                                                 */
/* ------------------------------------------------------------------ */

static void test_fork(void **state)
{
	struct fixture *f = *state;
	size_t len = 2 * PG;
	unsigned char *priv = map_anon(len, MAP_PRIVATE);
	unsigned char *shr = map_anon(len, MAP_SHARED);
	struct sio_umem_pin *pp, *ps;
	unsigned char *a;
	int status;
	pid_t child;

	fill(priv, len, 8);
	fill(shr, len, 9);
	assert_int_equal(sio_umem_pin(f->owner, ua(priv), len, SIO_UMEM_PIN_WRITE,
				      SIO_UMEM_ACCT_NONE, &pp), 0);
	assert_int_equal(sio_umem_pin(f->owner, ua(shr), len, SIO_UMEM_PIN_WRITE,
				      SIO_UMEM_ACCT_NONE, &ps), 0);
	a = alias_of(pp, len);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		/* The child has its own copy of private memory, as the kernel
		 * gives it pinned anonymous pages; shared stays shared. */
		int bad = !filled(priv, len, 8);

		memset(priv, 0xcc, len);
		memset(shr, 0xcc, PG);
		_exit(bad ? 2 : 0);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(filled(priv, len, 8));
	assert_true(filled(a, len, 8));
	assert_int_equal(shr[0], 0xcc);
	assert_int_equal(*alias_of(ps, len), 0xcc);
	/* The parent's view and alias still share. */
	priv[3] = 1;
	assert_int_equal(a[3], 1);
	sio_umem_unpin(pp);
	sio_umem_unpin(ps);

	/* After unpin the range still forks copy-on-write. */
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		memset(priv, 0xbb, len);
		_exit(0);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(priv[3], 1);
	assert_int_equal(priv[4], (unsigned char)(8 + 4 * 7));
	assert_int_equal(munmap(priv, len), 0);
	assert_int_equal(munmap(shr, len), 0);
}

/* ------------------------------------------------------------------ */
/* Concurrency and huge pages                                          */
/* ------------------------------------------------------------------ */

struct race {
	struct sio_umem_owner *owner;
	unsigned char *buf;
	size_t len;
	int failures;
};

static void *race_thread(void *arg)
{
	struct race *r = arg;
	int i;

	for (i = 0; i < 50; i++) {
		struct sio_umem_pin *pin;
		unsigned char *a;

		if (sio_umem_pin(r->owner, ua(r->buf), r->len, SIO_UMEM_PIN_WRITE,
				 SIO_UMEM_ACCT_NONE, &pin)) {
			__atomic_add_fetch(&r->failures, 1, __ATOMIC_RELAXED);
			continue;
		}
		a = hp(sio_umem_pin_host(pin, 0, NULL));
		/* Whoever unshared first, every pin aliases the view. */
		if (memcmp(a, r->buf, r->len))
			__atomic_add_fetch(&r->failures, 1, __ATOMIC_RELAXED);
		sio_umem_unpin(pin);
	}
	return NULL;
}

static void test_concurrent_pins(void **state)
{
	struct fixture *f = *state;
	struct race r = { .owner = f->owner, .len = 4 * PG };
	pthread_t t[4];
	int i;

	r.buf = map_anon(r.len, MAP_PRIVATE);
	fill(r.buf, r.len, 10);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, race_thread, &r), 0);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(r.failures, 0);
	assert_true(filled(r.buf, r.len, 10));
	assert_int_equal(munmap(r.buf, r.len), 0);
}

static long free_huge_2m(void)
{
	FILE *fp = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
	long n = 0;

	if (!fp)
		return 0;
	if (fscanf(fp, "%ld", &n) != 1)
		n = 0;
	fclose(fp);
	return n;
}

static void test_pin_hugetlb(void **state)
{
	struct fixture *f = *state;
	size_t hs = 2ul << 20;
	struct sio_umem_pin *pin;
	unsigned char *buf, *a;
	int rc;

	if (free_huge_2m() < 3) {
		skip();
		return;
	}
	/* Shared: aliased by mapping the hugetlb file again (needs
	 * CAP_SYS_ADMIN for /proc/self/map_files; else EOPNOTSUPP). */
	buf = mmap(NULL, hs, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	assert_ptr_not_equal(buf, MAP_FAILED);
	fill(buf, hs, 11);
	rc = sio_umem_pin(f->owner, ua(buf + PG), PG, SIO_UMEM_PIN_WRITE,
			  SIO_UMEM_ACCT_NONE, &pin);
	assert_true(rc == 0 || rc == -EOPNOTSUPP);
	if (rc == 0) {
		a = alias_of(pin, PG);
		assert_int_equal(sio_umem_pin_npages(pin), 1);
		assert_true(filled(a - PG, hs, 11));
		assert_int_equal(munmap(buf, hs), 0);
		a[0] = 0;
		a[0] = (unsigned char)(11 + PG * 7 + PG / 4096);
		assert_true(filled(a - PG, hs, 11));
		sio_umem_unpin(pin);
	} else {
		assert_int_equal(munmap(buf, hs), 0);
	}

	/* Private: unshared into a hugetlb memfd. */
	buf = mmap(NULL, hs, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	assert_ptr_not_equal(buf, MAP_FAILED);
	fill(buf, hs, 12);
	assert_int_equal(sio_umem_pin(f->owner, ua(buf + 3 * PG), 2 * PG,
				      SIO_UMEM_PIN_WRITE, SIO_UMEM_ACCT_NONE,
				      &pin), 0);
	a = alias_of(pin, 2 * PG);
	assert_true(filled(a - 3 * PG, hs, 12));
	buf[3 * PG] = 0x99;
	assert_int_equal(a[0], 0x99);
	assert_int_equal(munmap(buf, hs), 0);
	assert_int_equal(a[0], 0x99);
	sio_umem_unpin(pin);
}

/*
 * A range the program has just unmapped is a hole, even when the pin's own
 * reading of /proc/self/maps lands its buffer exactly there (the kernel
 * reuses the most recent gap first).  Before the reader hid its buffer, the
 * pin took its own buffer for the program's memory and succeeded.  The
 * holes are made in sizes the reader's buffer can fill.
 */
static void test_pin_fresh_hole(void **state)
{
	struct fixture *f = *state;
	static const size_t sizes[] = { 64 * 1024, 192 * 1024, 256 * 1024 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct sio_umem_pin *pin = NULL;
		char *p = mmap(NULL, sizes[i], PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		assert_ptr_not_equal(p, MAP_FAILED);
		assert_int_equal(munmap(p, sizes[i]), 0);
		assert_int_equal(sio_umem_pin(f->owner, ua(p), 8 * PG, 0,
					      SIO_UMEM_ACCT_NONE, &pin), -EFAULT);
		assert_null(pin);
		/* And nothing of ours was left mapped there. */
		assert_int_equal(msync(p, PG, MS_ASYNC), -1);
		assert_int_equal(errno, ENOMEM);
	}
}

/* ------------------------------------------------------------------ */
/* File pins                                                            */
/* ------------------------------------------------------------------ */

/* A memfd of len bytes filled by write(2), never mapped. */
static int memfd_filled(size_t len, unsigned int seed, unsigned int mflags)
{
	unsigned char *tmp = malloc(len);
	int fd = memfd_create("test-umem-file", MFD_CLOEXEC | mflags);

	assert_true(fd >= 0);
	assert_non_null(tmp);
	fill(tmp, len, seed);
	assert_int_equal(pwrite(fd, tmp, len, 0), (ssize_t)len);
	free(tmp);
	return fd;
}

/*
 * A memfd the owner never maps, pinned by offset through a reference: the
 * pin reaches the file's pages (reads and writes both ways), survives the
 * owner closing its descriptor, and is charged like an address pin.
 */
static void test_pin_file_memfd(void **state)
{
	struct fixture *f = *state;
	int fd = memfd_filled(8 * PG, 21, 0), check = dup(fd);
	struct sio_umem_file *file;
	struct sio_umem_pin *pin;
	struct sio_umem_range r;
	struct sio_umem_stats st;
	unsigned char *a, b;

	assert_int_equal(sio_umem_file_get(f->owner, fd, &file), 0);
	assert_int_equal(close(fd), 0);
	/* Unaligned: the pin covers pages 1..3 of the file. */
	assert_int_equal(sio_umem_pin_file(file, PG + 100, 2 * PG, 0,
					   SIO_UMEM_ACCT_USER, &pin), 0);
	assert_int_equal(sio_umem_pin_npages(pin), 3);
	assert_int_equal(sio_umem_pin_nr_ranges(pin), 1);
	assert_int_equal(sio_umem_pin_range(pin, 0, &r), 0);
	assert_int_equal(r.uaddr, PG);
	assert_int_equal(r.len, 3 * PG);
	assert_int_equal(sio_umem_pin_range(pin, 1, &r), -ENOENT);
	assert_int_equal(sio_umem_pin_host(pin, 2 * PG, NULL), 0);
	sio_umem_owner_stats(f->owner, &st);
	assert_int_equal(st.pinned, 3);
	assert_int_equal(sio_umem_user_locked(getuid()),
			 cap_ipc_lock(false, false) ? 0 : 3);
	a = alias_of(pin, 2 * PG);
	{
		unsigned char *want = malloc(3 * PG);

		assert_non_null(want);
		assert_int_equal(pread(check, want, 3 * PG, (off_t)PG),
				 (ssize_t)(3 * PG));
		assert_memory_equal(a - 100, want, 3 * PG);
		free(want);
	}
	sio_umem_unpin(pin);

	/* A writable pin: the alias and the file are the same pages. */
	assert_int_equal(sio_umem_pin_file(file, 0, 8 * PG, SIO_UMEM_PIN_WRITE,
					   SIO_UMEM_ACCT_NONE, &pin), 0);
	a = alias_of(pin, 8 * PG);
	a[5 * PG] = 0xab;
	assert_int_equal(pread(check, &b, 1, (off_t)(5 * PG)), 1);
	assert_int_equal(b, 0xab);
	b = 0xcd;
	assert_int_equal(pwrite(check, &b, 1, 7), 1);
	assert_int_equal(a[7], 0xcd);
	sio_umem_unpin(pin);
	sio_umem_file_put(file);
	assert_int_equal(close(check), 0);
}

/* What memfd_pin_folios() refuses, and bad descriptors. */
static void test_pin_file_errors(void **state)
{
	struct fixture *f = *state;
	int fd = memfd_filled(4 * PG + 1, 3, 0), pfd[2], opath, exe;
	struct sio_umem_pin *pin = NULL;
	struct sio_umem_file *file;

	assert_int_equal(sio_umem_file_get(f->owner, -1, &file), -EBADF);
	assert_int_equal(sio_umem_file_get(f->owner, 1000000, &file), -EBADF);
	opath = open("/proc/self/exe", O_PATH | O_CLOEXEC);
	assert_true(opath >= 0);
	assert_int_equal(sio_umem_file_get(f->owner, opath, &file), -EBADF);
	close(opath);

	assert_int_equal(sio_umem_file_get(f->owner, fd, &file), 0);
	assert_int_equal(sio_umem_pin_file(file, 0, 0, 0, SIO_UMEM_ACCT_NONE,
					   &pin), -EINVAL);
	assert_int_equal(sio_umem_pin_file(file, UINT64_MAX - 10, 100, 0,
					   SIO_UMEM_ACCT_NONE, &pin), -EOVERFLOW);
	assert_int_equal(sio_umem_pin_file(file, 1ull << 63, PG, 0,
					   SIO_UMEM_ACCT_NONE, &pin), -EINVAL);
	assert_int_equal(sio_umem_pin_file(file, 0, PG, 0x80,
					   SIO_UMEM_ACCT_NONE, &pin), -EINVAL);
	/* The whole last page must be inside the file: 4 pages + 1 byte
	 * holds 4 whole pages. */
	assert_int_equal(sio_umem_pin_file(file, 0, 4 * PG, 0,
					   SIO_UMEM_ACCT_NONE, &pin), 0);
	sio_umem_unpin(pin);
	pin = NULL;
	assert_int_equal(sio_umem_pin_file(file, 0, 4 * PG + 1, 0,
					   SIO_UMEM_ACCT_NONE, &pin), -EINVAL);
	assert_int_equal(sio_umem_pin_file(file, 8 * PG, 1, 0,
					   SIO_UMEM_ACCT_NONE, &pin), -EINVAL);
	/* Truncated: nothing is left to pin. */
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(sio_umem_pin_file(file, 0, PG, 0,
					   SIO_UMEM_ACCT_NONE, &pin), -EINVAL);
	sio_umem_file_put(file);

	/* The library's descriptor replaced behind its back (it is the lowest
	 * free number, as dup gives): the pin never reaches the other file. */
	{
		int probe = dup(fd), other = memfd_filled(PG, 1, 0);

		assert_int_equal(ftruncate(fd, 4 * PG), 0);
		assert_int_equal(close(probe), 0);
		assert_int_equal(sio_umem_file_get(f->owner, fd, &file), 0);
		assert_int_equal(dup3(other, probe, O_CLOEXEC), probe);
		assert_int_equal(sio_umem_pin_file(file, 0, PG, 0,
						   SIO_UMEM_ACCT_NONE, &pin),
				 -EBADF);
		sio_umem_file_put(file);	/* closes probe */
		close(other);
	}
	close(fd);

	/* Not memory: a pipe, a file on a disk file system. */
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	assert_int_equal(sio_umem_file_get(f->owner, pfd[0], &file), 0);
	assert_int_equal(sio_umem_pin_file(file, 0, PG, 0, SIO_UMEM_ACCT_NONE,
					   &pin), -EINVAL);
	sio_umem_file_put(file);
	close(pfd[0]);
	close(pfd[1]);
	exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	assert_true(exe >= 0);
	assert_int_equal(sio_umem_file_get(f->owner, exe, &file), 0);
	assert_int_equal(sio_umem_pin_file(file, 0, PG, 0, SIO_UMEM_ACCT_NONE,
					   &pin), -EINVAL);
	sio_umem_file_put(file);
	close(exe);
	assert_null(pin);
}

/*
 * A read-only descriptor of a memfd still gives a writable pin (the kernel
 * pins a file whatever mode it was opened in); the owner's shared mapping
 * of the file says where a file page is; the RLIMIT applies.
 */
static void test_pin_file_ro_fd_and_offset(void **state)
{
	struct fixture *f = *state;
	int fd = memfd_filled(4 * PG, 5, 0), ro;
	struct sio_umem_file *file;
	struct sio_umem_pin *pin;
	unsigned char *view, *priv, *a;
	struct rlimit old, rl;
	char path[64];
	uint64_t off;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(ro >= 0);
	assert_int_equal(sio_umem_file_get(f->owner, ro, &file), 0);
	close(ro);
	assert_int_equal(sio_umem_pin_file(file, 0, PG, SIO_UMEM_PIN_WRITE,
					   SIO_UMEM_ACCT_NONE, &pin), 0);
	a = alias_of(pin, PG);
	a[1] = 0x42;

	view = mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED, fd, (off_t)(2 * PG));
	assert_ptr_not_equal(view, MAP_FAILED);
	priv = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 0);
	assert_ptr_not_equal(priv, MAP_FAILED);
	assert_int_equal(sio_umem_file_offset(file, ua(view + PG + 9), &off), 0);
	assert_int_equal(off, 3 * PG + 9);
	assert_int_equal(sio_umem_file_offset(file, ua(priv), &off), -ENOENT);
	assert_int_equal(sio_umem_file_offset(file, ua(&off), &off), -ENOENT);
	assert_int_equal(priv[1], 0x42);
	assert_int_equal(munmap(priv, PG), 0);
	assert_int_equal(munmap(view, 2 * PG), 0);
	assert_int_equal(sio_umem_file_offset(file, ua(view), &off), -EFAULT);
	sio_umem_unpin(pin);

	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &old), 0);
	rl = old;
	rl.rlim_cur = 2 * PG;
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	if (!cap_ipc_lock(false, false))
		assert_int_equal(sio_umem_pin_file(file, 0, 3 * PG, 0,
						   SIO_UMEM_ACCT_MM, &pin),
				 -ENOMEM);
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &old), 0);
	sio_umem_file_put(file);
	close(fd);
}

/* A hugetlbfs memfd is mapped in whole huge pages, counted in CPU pages. */
static void test_pin_file_hugetlb(void **state)
{
	struct fixture *f = *state;
	size_t hs = 2ul << 20;
	struct sio_umem_file *file;
	struct sio_umem_pin *pin;
	unsigned char *a, b;
	int fd;

	if (free_huge_2m() < 2) {
		skip();
		return;
	}
	fd = memfd_create("test-umem-huge", MFD_CLOEXEC | MFD_HUGETLB);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(2 * hs)), 0);
	assert_int_equal(sio_umem_file_get(f->owner, fd, &file), 0);
	assert_int_equal(sio_umem_pin_file(file, hs + PG + 3, PG,
					   SIO_UMEM_PIN_WRITE,
					   SIO_UMEM_ACCT_NONE, &pin), 0);
	assert_int_equal(sio_umem_pin_npages(pin), 2);
	a = alias_of(pin, PG);
	a[0] = 0x77;
	{
		unsigned char *view = mmap(NULL, 2 * hs, PROT_READ, MAP_SHARED,
					   fd, 0);

		assert_ptr_not_equal(view, MAP_FAILED);
		b = view[hs + PG + 3];
		assert_int_equal(munmap(view, 2 * hs), 0);
	}
	assert_int_equal(b, 0x77);
	sio_umem_unpin(pin);
	assert_int_equal(sio_umem_pin_file(file, hs, hs + 1, 0,
					   SIO_UMEM_ACCT_NONE, &pin), -EINVAL);
	sio_umem_file_put(file);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pin_fresh_hole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_shared_anon, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_private_anon, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_mremap_view, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_memfd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_ro_unshare, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_two_vmas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_efault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_shared_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_pins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_hugetlb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_file_memfd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_file_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_file_ro_fd_and_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_file_hugetlb, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
