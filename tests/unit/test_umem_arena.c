/*
 * The arena behind in-process pins: many live pins keep the process's
 * mapping count small, a pin of known memory asks the kernel one VMA
 * (PROCMAP_QUERY) and never reads the whole maps file, and what the arena
 * knows can never make a pin reach pages the program no longer maps there:
 * raw system calls (bypassing any shim) that unmap and map something else,
 * move the view, map over it, change its protections, fork, or truncate
 * its file.  Each piece also says which file and offset it is.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "softiommu/umem.h"
#include "umem/umem.h"

static size_t PG;

struct fixture {
	struct sio_umem_owner *owner;
	struct sio_umem_arena_stats start;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	PG = (size_t)sysconf(_SC_PAGESIZE);
	assert_int_equal(sio_umem_owner_self(&f->owner), 0);
	sio_umem_arena_stats(&f->start);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct sio_umem_arena_stats st;
	struct sio_umem_stats us;

	sio_umem_owner_stats(f->owner, &us);
	assert_int_equal(us.pinned, 0);
	/* Where the kernel answers PROCMAP_QUERY, no pin read the maps. */
	sio_umem_arena_stats(&st);
	if (st.queries > f->start.queries)
		assert_int_equal(st.maps_reads, f->start.maps_reads);
	sio_umem_owner_put(f->owner);
	free(f);
	return 0;
}

static uint64_t ua(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static unsigned char *host_of(struct sio_umem_pin *pin)
{
	size_t contig = 0;
	uint64_t h = sio_umem_pin_host(pin, 0, &contig);

	assert_true(h != 0);
	return (unsigned char *)(uintptr_t)h;
}

/* The raw calls: no interposer and no libc wrapper sees these. */
static void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, 0L);
}

static long count_maps(void)
{
	FILE *fp = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;

	assert_non_null(fp);
	while ((c = fgetc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return n;
}

static struct sio_umem_pin *pin_ok(struct fixture *f, const void *p, size_t len,
				   unsigned int flags)
{
	struct sio_umem_pin *pin = NULL;

	assert_int_equal(sio_umem_pin(f->owner, ua(p), len, flags,
				      SIO_UMEM_ACCT_NONE, &pin), 0);
	return pin;
}

/* ------------------------------------------------------------------ */

#define MANY 100000

/* 100,000 live 4 KiB pins of distinct pages: the process gains mappings
 * per memory file, not per pin, and stays far below vm.max_map_count. */
static void test_many_pins(void **state)
{
	struct fixture *f = *state;
	size_t len = (size_t)MANY * PG;
	struct sio_umem_pin **pins = calloc(MANY, sizeof(*pins));
	unsigned char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				  -1, 0);
	struct sio_umem_arena_stats st;
	long before = count_maps(), after;
	uint64_t q0;
	size_t i;

	assert_non_null(pins);
	assert_ptr_not_equal(mem, MAP_FAILED);
	for (i = 0; i < MANY; i += 97)
		mem[i * PG + 5] = (unsigned char)i;
	for (i = 0; i < MANY; i++)
		pins[i] = pin_ok(f, mem + i * PG, PG, SIO_UMEM_PIN_WRITE);
	after = count_maps();
	/* The pieces of one mapping share a memfd at their own offsets and
	 * merge into one VMA; the library maps the memfd once. */
	assert_true(after - before < 16);
	sio_umem_arena_stats(&st);
	assert_true(st.files < 8);
	/* Pages unshared next to each other join one entry: the lookup of
	 * a pin does not grow with the pins. */
	assert_true(st.entries - f->start.entries < 16);
	/* Watched: pins of known pages ask the kernel nothing. */
	q0 = st.queries;
	for (i = 0; i < MANY; i += 101)
		sio_umem_unpin(pin_ok(f, mem + i * PG, PG, 0));
	sio_umem_arena_stats(&st);
	if (st.watched)
		assert_int_equal(st.queries, q0);
	for (i = 0; i < MANY; i += 97) {
		unsigned char *h = host_of(pins[i]);

		assert_int_equal(h[5], (unsigned char)i);
		/* The pin and the program reach the same page. */
		h[6] = 0x5a;
		assert_int_equal(mem[i * PG + 6], 0x5a);
	}
	/* Untouched pages (not copied: holes of the memfd) read as zeros
	 * and are shared from then on. */
	assert_int_equal(host_of(pins[1])[0], 0);
	host_of(pins[1])[0] = 9;
	assert_int_equal(mem[PG], 9);
	mem[PG + 1] = 10;
	assert_int_equal(host_of(pins[1])[1], 10);
	/* A second pin of a known page is the same view address. */
	{
		struct sio_umem_pin *again = pin_ok(f, mem + 7 * PG, PG, 0);

		assert_ptr_equal(host_of(again), host_of(pins[7]));
		sio_umem_unpin(again);
	}
	for (i = 0; i < MANY; i++)
		sio_umem_unpin(pins[i]);
	free(pins);
	assert_int_equal(munmap(mem, len), 0);
}

/* Pages pinned out of order join into one entry from both sides; a page
 * unmapped in the middle splits it again, and pins on either side still
 * reach the program's pages. */
static void test_entries_join(void **state)
{
	struct fixture *f = *state;
	unsigned char *mem = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sio_umem_pin *p0, *p1, *p2, *again;
	struct sio_umem_arena_stats st;

	assert_ptr_not_equal(mem, MAP_FAILED);
	for (int i = 0; i < 4; i++)
		mem[i * PG] = (unsigned char)(0x10 + i);
	p0 = pin_ok(f, mem, PG, SIO_UMEM_PIN_WRITE);
	p2 = pin_ok(f, mem + 2 * PG, PG, SIO_UMEM_PIN_WRITE);
	sio_umem_arena_stats(&st);
	assert_int_equal(st.entries - f->start.entries, 2);
	p1 = pin_ok(f, mem + PG, PG, SIO_UMEM_PIN_WRITE);
	sio_umem_arena_stats(&st);
	assert_int_equal(st.entries - f->start.entries, 1);
	assert_int_equal(host_of(p0)[0], 0x10);
	assert_int_equal(host_of(p1)[0], 0x11);
	assert_int_equal(host_of(p2)[0], 0x12);
	/* One pin over the joined pages: contiguous in the view. */
	again = pin_ok(f, mem, 3 * PG, 0);
	assert_int_equal(sio_umem_pin_nr_ranges(again), 1);
	assert_int_equal(host_of(again)[2 * PG], 0x12);
	sio_umem_unpin(again);
	/* The middle page goes and something else comes there. */
	assert_int_equal(munmap(mem + PG, PG), 0);
	assert_ptr_equal(mmap(mem + PG, PG, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
			 mem + PG);
	mem[PG] = 0x77;
	again = pin_ok(f, mem + PG, PG, 0);
	assert_int_equal(host_of(again)[0], 0x77);
	/* The old pin keeps the old page; the sides are the program's. */
	assert_int_equal(host_of(p1)[0], 0x11);
	host_of(p0)[1] = 0x5a;
	assert_int_equal(mem[1], 0x5a);
	host_of(p2)[1] = 0x5b;
	assert_int_equal(mem[2 * PG + 1], 0x5b);
	sio_umem_unpin(again);
	sio_umem_unpin(p0);
	sio_umem_unpin(p1);
	sio_umem_unpin(p2);
	assert_int_equal(munmap(mem, 4 * PG), 0);
}

/* munmap and mmap of something else at the same address, by raw system
 * calls: the next pin reaches the new pages, the old pin keeps the old. */
static void test_stale_unmap_map(void **state)
{
	struct fixture *f = *state;
	size_t len = 4 * PG;
	unsigned char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sio_umem_pin *p1, *p2;
	unsigned char *h1, *h2;

	assert_ptr_not_equal(buf, MAP_FAILED);
	memset(buf, 0xaa, len);
	p1 = pin_ok(f, buf, len, SIO_UMEM_PIN_WRITE);
	h1 = host_of(p1);
	assert_int_equal(syscall(SYS_munmap, buf, len), 0);
	assert_ptr_equal(raw_mmap(buf, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1),
			 buf);
	memset(buf, 0xbb, len);
	p2 = pin_ok(f, buf, len, SIO_UMEM_PIN_WRITE);
	h2 = host_of(p2);
	assert_ptr_not_equal(h1, h2);
	assert_int_equal(h1[0], 0xaa);
	assert_int_equal(h2[0], 0xbb);
	h2[1] = 0xcc;
	assert_int_equal(buf[1], 0xcc);
	assert_int_equal(h1[1], 0xaa);
	sio_umem_unpin(p1);
	sio_umem_unpin(p2);

	/* The same after unpin, with a shared mapping this time. */
	p1 = pin_ok(f, buf, PG, 0);
	sio_umem_unpin(p1);
	assert_int_equal(syscall(SYS_munmap, buf, len), 0);
	assert_ptr_equal(raw_mmap(buf, len, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1),
			 buf);
	buf[0] = 0x11;
	p2 = pin_ok(f, buf, PG, 0);
	assert_int_equal(host_of(p2)[0], 0x11);
	buf[0] = 0x12;
	assert_int_equal(host_of(p2)[0], 0x12);
	sio_umem_unpin(p2);
	assert_int_equal(munmap(buf, len), 0);
}

/* mremap moves a known view: the old address holds other pages, the new
 * one the pinned pages. */
static void test_stale_mremap(void **state)
{
	struct fixture *f = *state;
	size_t len = 2 * PG;
	unsigned char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned char *dst = mmap(NULL, len, PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sio_umem_pin *p1, *p2, *p3;

	assert_ptr_not_equal(buf, MAP_FAILED);
	assert_ptr_not_equal(dst, MAP_FAILED);
	buf[0] = 0x21;
	p1 = pin_ok(f, buf, len, SIO_UMEM_PIN_WRITE);
	assert_ptr_equal((void *)syscall(SYS_mremap, buf, len, len,
					 MREMAP_MAYMOVE | MREMAP_FIXED, dst),
			 dst);
	assert_ptr_equal(raw_mmap(buf, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1),
			 buf);
	buf[0] = 0x22;
	p2 = pin_ok(f, buf, len, 0);
	assert_int_equal(host_of(p2)[0], 0x22);
	p3 = pin_ok(f, dst, len, 0);
	assert_int_equal(host_of(p3)[0], 0x21);
	dst[0] = 0x23;
	assert_int_equal(host_of(p1)[0], 0x23);
	assert_int_equal(host_of(p3)[0], 0x23);
	assert_int_equal(host_of(p2)[0], 0x22);
	sio_umem_unpin(p1);
	sio_umem_unpin(p2);
	sio_umem_unpin(p3);
	assert_int_equal(munmap(buf, len), 0);
	assert_int_equal(munmap(dst, len), 0);
}

/* MAP_FIXED of another memfd over a pinned view; each piece names its
 * file and offset. */
static void test_stale_map_fixed_and_fd(void **state)
{
	struct fixture *f = *state;
	int fa = memfd_create("arena-a", MFD_CLOEXEC);
	int fb = memfd_create("arena-b", MFD_CLOEXEC);
	struct sio_umem_pin *p1, *p2;
	struct stat sa, sb, sc;
	unsigned char *buf, c;

	assert_true(fa >= 0 && fb >= 0);
	assert_int_equal(ftruncate(fa, (off_t)(4 * PG)), 0);
	assert_int_equal(ftruncate(fb, (off_t)(4 * PG)), 0);
	buf = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fa,
		   (off_t)PG);
	assert_ptr_not_equal(buf, MAP_FAILED);
	buf[PG + 9] = 0x31;
	p1 = pin_ok(f, buf + PG, PG, SIO_UMEM_PIN_WRITE);
	assert_ptr_equal(raw_mmap(buf, 2 * PG, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_FIXED, fb),
			 buf);
	buf[PG + 9] = 0x32;
	p2 = pin_ok(f, buf + PG, PG, SIO_UMEM_PIN_WRITE);
	assert_int_equal(host_of(p1)[9], 0x31);
	assert_int_equal(host_of(p2)[9], 0x32);

	/* Where the library can open the file (map_files needs
	 * CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE), fd/fd_offset are it. */
	assert_int_equal(fstat(fa, &sa), 0);
	assert_int_equal(fstat(fb, &sb), 0);
	assert_int_equal(p1->nchunks, 1);
	assert_int_equal(p2->nchunks, 1);
	if (p1->chunks[0].fd >= 0) {
		assert_int_equal(fstat(p1->chunks[0].fd, &sc), 0);
		assert_true(sc.st_ino == sa.st_ino);
		assert_int_equal(p1->chunks[0].fd_offset, 2 * PG);
		assert_int_equal(pread(p1->chunks[0].fd, &c, 1,
				       (off_t)(p1->chunks[0].fd_offset + 9)), 1);
		assert_int_equal(c, 0x31);
	}
	if (p2->chunks[0].fd >= 0) {
		assert_int_equal(fstat(p2->chunks[0].fd, &sc), 0);
		assert_true(sc.st_ino == sb.st_ino);
		assert_int_equal(p2->chunks[0].fd_offset, PG);
	}
	sio_umem_unpin(p1);
	sio_umem_unpin(p2);
	assert_int_equal(munmap(buf, 2 * PG), 0);
	close(fa);
	close(fb);
}

/* Unshared private memory always has its memfd behind each piece. */
static void test_fd_of_unshared(void **state)
{
	struct fixture *f = *state;
	unsigned char *buf = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sio_umem_pin *pin;
	unsigned char c = 0;

	assert_ptr_not_equal(buf, MAP_FAILED);
	buf[2 * PG + 4] = 0x44;
	pin = pin_ok(f, buf + 2 * PG, PG, 0);
	assert_int_equal(pin->nchunks, 1);
	assert_true(pin->chunks[0].fd >= 0);
	assert_int_equal(pread(pin->chunks[0].fd, &c, 1,
			       (off_t)(pin->chunks[0].fd_offset + 4)), 1);
	assert_int_equal(c, 0x44);
	sio_umem_unpin(pin);
	assert_int_equal(munmap(buf, 3 * PG), 0);
}

/* Protections changed (through the shim, which tells umem: here the test
 * tells it) are seen by the next pin; a raw unmap is seen by itself. */
static void test_stale_prot(void **state)
{
	struct fixture *f = *state;
	unsigned char *buf = mmap(NULL, PG, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sio_umem_pin *pin = NULL;

	assert_ptr_not_equal(buf, MAP_FAILED);
	sio_umem_unpin(pin_ok(f, buf, PG, SIO_UMEM_PIN_WRITE));
	assert_int_equal(syscall(SYS_mprotect, buf, PG, PROT_NONE), 0);
	sio_umem_notify_unmap(ua(buf), PG);
	assert_int_equal(sio_umem_pin(f->owner, ua(buf), PG, 0,
				      SIO_UMEM_ACCT_NONE, &pin), -EFAULT);
	assert_int_equal(syscall(SYS_mprotect, buf, PG, PROT_READ), 0);
	sio_umem_notify_unmap(ua(buf), PG);
	assert_int_equal(sio_umem_pin(f->owner, ua(buf), PG, SIO_UMEM_PIN_WRITE,
				      SIO_UMEM_ACCT_NONE, &pin), -EFAULT);
	sio_umem_unpin(pin_ok(f, buf, PG, 0));
	assert_int_equal(syscall(SYS_munmap, buf, PG), 0);
	assert_int_equal(sio_umem_pin(f->owner, ua(buf), PG, 0,
				      SIO_UMEM_ACCT_NONE, &pin), -EFAULT);
	assert_null(pin);
}

/* A shared file shrunk after a pin: the next pin of the lost pages is
 * EFAULT, as GUP's fault there is. */
static void test_stale_truncated(void **state)
{
	struct fixture *f = *state;
	int fd = memfd_create("arena-trunc", MFD_CLOEXEC);
	struct sio_umem_pin *pin = NULL, *p1;
	unsigned char *buf;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(2 * PG)), 0);
	buf = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_ptr_not_equal(buf, MAP_FAILED);
	buf[PG] = 1;
	p1 = pin_ok(f, buf, 2 * PG, 0);
	sio_umem_unpin(p1);
	assert_int_equal(ftruncate(fd, (off_t)PG), 0);
	assert_int_equal(sio_umem_pin(f->owner, ua(buf + PG), PG, 0,
				      SIO_UMEM_ACCT_NONE, &pin), -EFAULT);
	assert_null(pin);
	/* The page still inside the file pins. */
	sio_umem_unpin(pin_ok(f, buf, PG, 0));
	assert_int_equal(munmap(buf, 2 * PG), 0);
	close(fd);
}

/* fork: the child gets private copies; its pins reach its own pages, even
 * after it replaces them by raw system calls (its VMA lookups are its own,
 * not its parent's). */
/* Pins of a page the last pin used (the pin hint, without self_lock):
 * the same pages again, still a reference each (the view outlives the
 * entry while a pin holds it), and never the old pages once the range is
 * unmapped and mapped again by raw calls, nor a write pin of a range
 * whose entry says read-only. */
static void test_hint_repin(void **state)
{
	struct fixture *f = *state;
	size_t len = 8 * PG;
	unsigned char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sio_umem_pin *p1, *p2, *p3;
	struct sio_umem_pin *bad = NULL;
	unsigned char *h1, *other = mmap(NULL, PG, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_ptr_not_equal(buf, MAP_FAILED);
	assert_ptr_not_equal(other, MAP_FAILED);
	other[0] = 1;
	memset(buf, 0x5a, len);
	p1 = pin_ok(f, buf, len, SIO_UMEM_PIN_WRITE);
	h1 = host_of(p1);
	/* Inside the entry the first pin recorded: the same pages. */
	p2 = pin_ok(f, buf + PG, PG, SIO_UMEM_PIN_WRITE);
	p3 = pin_ok(f, buf + PG, PG, 0);
	assert_ptr_equal(host_of(p2), h1 + PG);
	assert_ptr_equal(host_of(p3), h1 + PG);
	host_of(p2)[0] = 0x77;
	assert_int_equal(buf[PG], 0x77);
	sio_umem_unpin(p1);
	sio_umem_unpin(p3);
	/* Unmapped and mapped again behind the library's back: p2 keeps the
	 * old pages, a new pin gets the new ones. */
	assert_int_equal(syscall(SYS_munmap, buf, len), 0);
	assert_ptr_equal(raw_mmap(buf, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1),
			 buf);
	memset(buf, 0x3c, len);
	/* A pin elsewhere applies the unmap the kernel reported first: the
	 * hint must not outlive it. */
	p3 = pin_ok(f, other, PG, 0);
	sio_umem_unpin(p3);
	p1 = pin_ok(f, buf + PG, PG, SIO_UMEM_PIN_WRITE);
	assert_int_equal(host_of(p1)[0], 0x3c);
	assert_int_equal(host_of(p2)[0], 0x77);
	host_of(p1)[1] = 0x11;
	assert_int_equal(buf[PG + 1], 0x11);
	sio_umem_unpin(p1);
	sio_umem_unpin(p2);
	/* A read-only range learnt by a read pin refuses a write pin. */
	assert_int_equal(mprotect(buf, len, PROT_READ), 0);
	sio_umem_notify_unmap(ua(buf), len);
	p1 = pin_ok(f, buf, PG, 0);
	assert_int_equal(sio_umem_pin(f->owner, ua(buf), PG,
				      SIO_UMEM_PIN_WRITE, SIO_UMEM_ACCT_NONE,
				      &bad), -EFAULT);
	assert_null(bad);
	sio_umem_unpin(p1);
	assert_int_equal(munmap(buf, len), 0);
	assert_int_equal(munmap(other, PG), 0);
}

static void test_fork(void **state)
{
	struct fixture *f = *state;
	size_t len = 2 * PG;
	unsigned char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sio_umem_pin *pin;
	int status;
	pid_t child;

	assert_ptr_not_equal(buf, MAP_FAILED);
	memset(buf, 0x41, len);
	pin = pin_ok(f, buf, len, SIO_UMEM_PIN_WRITE);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct sio_umem_pin *cp;
		int bad = 0;

		memset(buf, 0x42, len);		/* private to the child */
		if (sio_umem_pin(f->owner, ua(buf), len, SIO_UMEM_PIN_WRITE,
				 SIO_UMEM_ACCT_NONE, &cp))
			_exit(3);
		bad |= host_of(cp)[0] != 0x42;
		sio_umem_unpin(cp);
		syscall(SYS_munmap, buf, len);
		if (raw_mmap(buf, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1) != buf)
			_exit(4);
		buf[0] = 0x43;
		if (sio_umem_pin(f->owner, ua(buf), len, 0, SIO_UMEM_ACCT_NONE,
				 &cp))
			_exit(5);
		bad |= host_of(cp)[0] != 0x43;
		sio_umem_unpin(cp);
		_exit(bad ? 2 : 0);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(buf[0], 0x41);
	assert_int_equal(host_of(pin)[0], 0x41);
	sio_umem_unpin(pin);
	assert_int_equal(munmap(buf, len), 0);
}

/* A pin of a library alias (iommufd pins a second domain from the first
 * pin's alias) is the same view, whatever the program did meanwhile. */
static void test_pin_of_alias(void **state)
{
	struct fixture *f = *state;
	unsigned char *buf = mmap(NULL, PG, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sio_umem_pin *p1, *p2;

	assert_ptr_not_equal(buf, MAP_FAILED);
	buf[0] = 0x51;
	p1 = pin_ok(f, buf, PG, SIO_UMEM_PIN_WRITE);
	assert_int_equal(syscall(SYS_munmap, buf, PG), 0);
	p2 = pin_ok(f, host_of(p1), PG, SIO_UMEM_PIN_WRITE);
	assert_ptr_equal(host_of(p2), host_of(p1));
	sio_umem_unpin(p1);
	assert_int_equal(host_of(p2)[0], 0x51);
	sio_umem_unpin(p2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stale_unmap_map, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_mremap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_map_fixed_and_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_of_unshared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_prot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hint_repin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_of_alias, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_pins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entries_join, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
