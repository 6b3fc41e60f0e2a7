/*
 * The copies of ioctl arguments under `softiommu run`: a plain program
 * (built without softiommu) hands /dev/iommu arguments that are bad in
 * every way the kernel's copy_from_user/copy_to_user answer with EFAULT,
 * and the library, which copies them without a system call through its
 * fault-safe copy, must answer the same and never crash:
 *  - NULL, a small integer, a kernel address, a non-canonical address;
 *  - an unmapped page, a PROT_NONE page, a structure that straddles into
 *    a guard page, a read-only page for an ioctl that writes its answer;
 *  - a page another thread unmaps and maps again while the ioctls run;
 * with the program's own SIGSEGV handler installed before and after the
 * first ioctl: its own faults still reach it, the library's copy faults
 * never do.  Then the per-call probes the library caches: setrlimit and
 * capset (through libc, which the shim watches) are seen by the next
 * IOAS_MAP, which pins and charges RLIMIT_MEMLOCK, in the default USER
 * mode and in MM mode, and so is a fork child's own setrlimit.  Prints
 * "N passed, M failed"; exits non-zero when anything failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/iommufd_test.h"
#include "shim_check.h"

#define PG 4096UL

int capget(cap_user_header_t hdr, cap_user_data_t data);
int capset(cap_user_header_t hdr, const cap_user_data_t data);

static int fd;

/* ------------------------------------------------------------------ */
/* The program's own handler                                            */
/* ------------------------------------------------------------------ */

static sigjmp_buf jb;
static volatile int handler_calls;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	handler_calls++;
	siglongjmp(jb, 1);
}

static void install_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/* A fault of the program's own reaches its handler. */
static void check_own_fault(const char *when)
{
	volatile char *p = (volatile char *)mmap(NULL, PG, PROT_NONE,
						 MAP_PRIVATE | MAP_ANONYMOUS,
						 -1, 0);
	int before = handler_calls;

	if (sigsetjmp(jb, 1) == 0)
		(void)*p;
	check(handler_calls == before + 1,
	      "%s: the program's own fault reaches its handler (%d calls)",
	      when, handler_calls - before);
	munmap((void *)p, PG);
}

/* ------------------------------------------------------------------ */
/* Bad pointers                                                         */
/* ------------------------------------------------------------------ */

static int option_get_at(void *arg)
{
	return ioctl(fd, IOMMU_OPTION, arg);
}

static void fill_option(struct iommu_option *o)
{
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->option_id = IOMMU_OPTION_RLIMIT_MODE;
	o->op = IOMMU_OPTION_OP_GET;
}

static void expect_efault(const char *what, int rc)
{
	check(rc == -1 && errno == EFAULT, "%s: EFAULT (rc %d)", what, rc);
}

/* Not a constant the compiler can see through. */
static volatile uintptr_t bad_iov = 8;

static void test_bad_pointers(void)
{
	static void *const bad[] = {
		NULL, (void *)1, (void *)0xfff,
		(void *)0xffff800000000000ul,	/* the kernel's half */
		(void *)0x8000000000000000ul,	/* not canonical */
		(void *)-8l,
	};
	int before = handler_calls;
	char *p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char what[64];

		snprintf(what, sizeof(what), "OPTION at %p", bad[i]);
		expect_efault(what, option_get_at(bad[i]));
		snprintf(what, sizeof(what), "DESTROY at %p", bad[i]);
		expect_efault(what, ioctl(fd, IOMMU_DESTROY, bad[i]));
		snprintf(what, sizeof(what), "IOAS_ALLOC at %p", bad[i]);
		expect_efault(what, ioctl(fd, IOMMU_IOAS_ALLOC, bad[i]));
	}

	/* An unmapped page. */
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	munmap(p, PG);
	expect_efault("OPTION in an unmapped page", option_get_at(p));

	/* PROT_NONE. */
	p = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	expect_efault("OPTION in a PROT_NONE page", option_get_at(p));
	munmap(p, PG);

	/* A structure whose size field is readable and whose rest is in the
	 * guard page: the size is read, the structure is not. */
	p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(p + PG, PG, PROT_NONE);
	{
		struct iommu_option o;
		char *at = p + PG - 8;

		fill_option(&o);
		memcpy(at, &o, 8);
		expect_efault("OPTION straddling into a guard page",
			      option_get_at(at));
		/* The same 8 bytes end a readable structure: IOMMU_DESTROY's
		 * is 8 bytes and fits, so it is read and answers ENOENT. */
		{
			struct iommu_destroy d = { .size = sizeof(d),
						   .id = 0x7ffffff0 };

			memcpy(at, &d, sizeof(d));
			check(ioctl(fd, IOMMU_DESTROY, at) == -1 &&
			      errno == ENOENT,
			      "DESTROY ending at a guard page is read");
		}
	}

	/* Read-only: readable, so the ioctl runs; its answer cannot be
	 * written back. */
	{
		struct iommu_option o;
		struct iommu_ioas_alloc a = { .size = sizeof(a) };

		fill_option(&o);
		memcpy(p, &o, sizeof(o));
		mprotect(p, PG, PROT_READ);
		expect_efault("OPTION get into a read-only page",
			      option_get_at(p));
		mprotect(p, PG, PROT_READ | PROT_WRITE);
		memcpy(p, &a, sizeof(a));
		mprotect(p, PG, PROT_READ);
		expect_efault("IOAS_ALLOC into a read-only page",
			      ioctl(fd, IOMMU_IOAS_ALLOC, p));
		mprotect(p, PG, PROT_READ | PROT_WRITE);
		/* The good one still works. */
		check(option_get_at(&o) == 0 && o.val64 == 0,
		      "OPTION get of the same arguments, writable");
	}
	munmap(p, 2 * PG);

	/* The vector forms' own copies: a bad iovec array. */
	check(readv(fd, (const struct iovec *)(uintptr_t)bad_iov, 1) == -1 &&
	      errno == EFAULT,
	      "readv with a bad iovec array: EFAULT");
	check(handler_calls == before,
	      "no copy fault reached the program's handler (%d did)",
	      handler_calls - before);
}

/* ------------------------------------------------------------------ */
/* A page unmapped under the ioctls                                     */
/* ------------------------------------------------------------------ */

static char *volatile race_page;
static atomic_int race_stop;

/* Unmap the page, then move a filled one into its place (mremap), so that
 * the ioctl finds either no page (EFAULT) or a whole valid argument,
 * whenever this thread is preempted.  The new page is made while the old
 * one is still mapped, so the kernel cannot place it in the hole. */
static void *unmapper(void *arg)
{
	(void)arg;
	while (!atomic_load(&race_stop)) {
		struct iommu_option o;
		char *n = mmap(NULL, PG, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (n == MAP_FAILED)
			break;
		fill_option(&o);
		memcpy(n, &o, sizeof(o));
		munmap(race_page, PG);
		sched_yield();
		if (mremap(n, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED,
			   race_page) == MAP_FAILED)
			break;
	}
	return NULL;
}

static void test_unmap_race(void)
{
	int ok = 0, efault = 0, other = 0, before = handler_calls;
	pthread_t t;

	race_page = mmap(NULL, PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	{
		struct iommu_option o;

		fill_option(&o);
		memcpy(race_page, &o, sizeof(o));
	}
	atomic_store(&race_stop, 0);
	pthread_create(&t, NULL, unmapper, NULL);
	for (int i = 0; i < 200000; i++) {
		int rc = option_get_at(race_page);

		if (rc == 0)
			ok++;
		else if (errno == EFAULT)
			efault++;
		else
			other++;
	}
	atomic_store(&race_stop, 1);
	pthread_join(t, NULL);
	munmap(race_page, PG);
	printf("racing unmap: %d ok, %d EFAULT\n", ok, efault);
	/* The page is either absent or holds a whole valid argument. */
	check(other == 0 && ok + efault == 200000,
	      "racing unmap: %d ok, %d EFAULT, %d other", ok, efault, other);
	check(handler_calls == before,
	      "racing unmap: no fault reached the program's handler");
}

/* ------------------------------------------------------------------ */
/* A thread that blocks every signal                                    */
/* ------------------------------------------------------------------ */

/* The kernel kills a thread whose synchronous SIGSEGV is blocked: the
 * library must not fault in such a thread, and still answers EFAULT. */
static void *all_blocked(void *arg)
{
	struct iommu_option o;
	sigset_t all;
	int *res = arg;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	fill_option(&o);
	res[0] = option_get_at(NULL) == -1 && errno == EFAULT;
	res[1] = option_get_at(&o) == 0;
	return NULL;
}

static void *inherited_mask(void *arg)
{
	struct iommu_option o;
	int *res = arg;

	fill_option(&o);
	res[0] = option_get_at(NULL) == -1 && errno == EFAULT;
	res[1] = option_get_at(&o) == 0;
	return NULL;
}

static void test_blocked_thread(void)
{
	int res[2] = { 0, 0 };
	pthread_t t;
	sigset_t segv, old;

	pthread_create(&t, NULL, all_blocked, res);
	pthread_join(t, NULL);
	check(res[0], "a thread with every signal blocked: EFAULT, alive");
	check(res[1], "a thread with every signal blocked: a good call works");

	sigemptyset(&segv);
	sigaddset(&segv, SIGSEGV);
	sigprocmask(SIG_BLOCK, &segv, &old);
	expect_efault("OPTION at NULL with SIGSEGV blocked", option_get_at(NULL));
	/* A thread made now inherits the mask and has not told the shim. */
	res[0] = res[1] = 0;
	pthread_create(&t, NULL, inherited_mask, res);
	pthread_join(t, NULL);
	check(res[0], "a thread that inherited SIGSEGV blocked: EFAULT, alive");
	check(res[1], "a thread that inherited SIGSEGV blocked: a good call works");
	sigprocmask(SIG_SETMASK, &old, NULL);
	expect_efault("OPTION at NULL, unblocked again", option_get_at(NULL));
}

/* ------------------------------------------------------------------ */
/* Probes: RLIMIT_MEMLOCK and CAP_IPC_LOCK as the library caches them   */
/* ------------------------------------------------------------------ */

static bool cap_ipc_lock_set(bool on)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (capget(&h, d))
		return false;
	if (on)
		d[0].effective |= 1u << CAP_IPC_LOCK;
	else
		d[0].effective &= ~(1u << CAP_IPC_LOCK);
	return capset(&h, d) == 0;
}

static int set_memlock(rlim_t bytes)
{
	struct rlimit rl;

	getrlimit(RLIMIT_MEMLOCK, &rl);
	rl.rlim_cur = bytes;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < bytes)
		rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_MEMLOCK, &rl);
}

static int map_pages(uint32_t ioas, void *buf, size_t npages, uint64_t iova)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m), .ioas_id = ioas,
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.user_va = (uintptr_t)buf, .length = npages * PG, .iova = iova,
	};

	return ioctl(fd, IOMMU_IOAS_MAP, &m);
}

static int unmap_all(uint32_t ioas)
{
	struct iommu_ioas_unmap u = { .size = sizeof(u), .ioas_id = ioas,
				      .length = UINT64_MAX };

	return ioctl(fd, IOMMU_IOAS_UNMAP, &u);
}

/* An IOAS with a mock domain, so that a map pins and charges at once. */
static uint32_t ioas_with_domain(void)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	struct iommu_test_cmd mock = { .size = sizeof(mock),
				       .op = IOMMU_TEST_OP_MOCK_DOMAIN };

	if (ioctl(fd, IOMMU_IOAS_ALLOC, &a))
		return 0;
	mock.id = a.out_ioas_id;
	if (ioctl(fd, IOMMU_TEST_CMD, &mock))
		return 0;
	return a.out_ioas_id;
}

static int set_rlimit_mode(uint64_t mode)
{
	struct iommu_option o = { .size = sizeof(o),
				  .option_id = IOMMU_OPTION_RLIMIT_MODE,
				  .op = IOMMU_OPTION_OP_SET, .val64 = mode };

	return ioctl(fd, IOMMU_OPTION, &o);
}

/* With a limit of 4 pages: 8 do not fit, 2 do; a raised limit is seen by
 * the next map. */
static void check_limit(const char *mode, uint32_t ioas, char *buf)
{
	uint64_t iova = MOCK_APERTURE_START;

	check(set_memlock(4 * PG) == 0, "%s: setrlimit to 4 pages", mode);
	check(map_pages(ioas, buf, 8, iova) == -1 && errno == ENOMEM,
	      "%s: 8 pages over a 4-page RLIMIT_MEMLOCK: ENOMEM", mode);
	check(map_pages(ioas, buf, 2, iova) == 0,
	      "%s: 2 pages under it", mode);
	check(unmap_all(ioas) == 0, "%s: unmap", mode);
	check(set_memlock(64 * PG) == 0, "%s: setrlimit to 64 pages", mode);
	check(map_pages(ioas, buf, 8, iova) == 0,
	      "%s: 8 pages under the raised limit", mode);
	check(unmap_all(ioas) == 0, "%s: unmap", mode);
}

static void test_probes(void)
{
	char *buf = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint32_t ioas = ioas_with_domain();
	struct rlimit saved;
	pid_t pid;
	int st = 0;

	getrlimit(RLIMIT_MEMLOCK, &saved);
	check(ioas != 0, "an IOAS with a mock domain");
	memset(buf, 1, 8 * PG);
	/* Root has CAP_IPC_LOCK, which makes every pin unaccounted: the
	 * cache must see it dropped. */
	if (geteuid() == 0) {
		check(set_memlock(4 * PG) == 0, "setrlimit to 4 pages");
		check(map_pages(ioas, buf, 8, MOCK_APERTURE_START) == 0,
		      "with CAP_IPC_LOCK the limit does not apply");
		check(unmap_all(ioas) == 0, "unmap");
		check(cap_ipc_lock_set(false), "capset drops CAP_IPC_LOCK");
	}
	check_limit("USER mode", ioas, buf);
	/* MM mode: set on a new context before its first object; needs
	 * CAP_SYS_RESOURCE, which a container may lack. */
	{
		int user_fd = fd;

		fd = open("/dev/iommu", O_RDWR);
		if (set_rlimit_mode(1) == 0) {
			uint32_t mm_ioas = ioas_with_domain();

			check(mm_ioas != 0, "MM mode: an IOAS with a domain");
			check_limit("MM mode", mm_ioas, buf);
		} else {
			check(errno == EPERM, "RLIMIT_MODE set: EPERM if not allowed");
			printf("MM mode skipped: no CAP_SYS_RESOURCE\n");
		}
		close(fd);
		fd = user_fd;
	}

	/* A fork child's own setrlimit, and its copies. */
	set_memlock(64 * PG);
	pid = fork();
	if (pid == 0) {
		struct iommu_option o;
		int bad = 0;

		fill_option(&o);
		bad |= option_get_at(&o) != 0;
		bad |= !(option_get_at(NULL) == -1 && errno == EFAULT) << 1;
		bad |= set_memlock(4 * PG) << 2;
		bad |= !(map_pages(ioas, buf, 8, MOCK_APERTURE_START) == -1 &&
			 errno == ENOMEM) << 3;
		bad |= (map_pages(ioas, buf, 2, MOCK_APERTURE_START) != 0) << 4;
		_exit(bad);
	}
	check(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	      WEXITSTATUS(st) == 0,
	      "fork child: copies, EFAULT and its own setrlimit (status %#x)",
	      st);
	/* The parent's limit is its own. */
	check(map_pages(ioas, buf, 8, MOCK_APERTURE_START) == 0,
	      "parent: 8 pages under its own 64-page limit");
	unmap_all(ioas);

	if (geteuid() == 0)
		cap_ipc_lock_set(true);
	setrlimit(RLIMIT_MEMLOCK, &saved);
	munmap(buf, 8 * PG);
}

int main(int argc, char **argv)
{
	/* "early": the program's handler is in before anything else. */
	if (argc > 1 && !strcmp(argv[1], "early")) {
		install_handler();
		check_own_fault("handler installed before the first ioctl");
	}
	fd = open("/dev/iommu", O_RDWR);
	if (fd < 0) {
		perror("open /dev/iommu");
		return 1;
	}
	/* Without a handler of the program's (or with the early one). */
	test_bad_pointers();
	install_handler();
	check_own_fault("handler installed after the first ioctl");
	test_bad_pointers();
	check_own_fault("after copy faults");
	test_unmap_race();
	check_own_fault("after the race");
	test_blocked_thread();
	test_probes();
	close(fd);
	return shim_check_done();
}
