/*
 * bench_mmio: what an MMIO access costs when it traps to a device model,
 * against the floors and the alternatives docs/mmio.md compares.
 *
 *   floors      a plain 4- and 8-byte load from ordinary memory, one
 *               system call (getppid), and a fault whose handler only
 *               skips the instruction (the kernel's signal delivery and
 *               return, with the library's handler chaining to it),
 *               measured in the same run;
 *   trap        4- and 8-byte reads and writes of a region mapped by
 *               sio_mmio_map(), and the delay from the start of a store
 *               to the model's write op;
 *   polling     a device thread spinning on a shared register page: the
 *               delay from a store to the thread seeing it, and the CPU
 *               the thread burns while the driver is idle; also a thread
 *               that sleeps 50 us between looks;
 *   uffd-wp     userfaultfd write protection on a shared page (if the
 *               kernel lets this process have one): the delay from a store
 *               to the handler thread's notification, and the cost of the
 *               store until it completes.
 *
 * Figures are medians of several runs (bench_util.h).  Usage:
 *   bench_mmio [scale]     (scale multiplies the iteration counts, 1)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "softiommu/mmio.h"
#include "bench_util.h"

#define RUNS 7
#define PG 4096

static int scale = 1;

/* Driver accessors: compiler barriers on both sides, as readl/writel. */
static inline uint32_t read32(const void *p)
{
	uint32_t v;

	__asm__ volatile("" ::: "memory");
	v = *(const volatile uint32_t *)p;

	__asm__ volatile("" ::: "memory");
	return v;
}

static inline uint64_t read64(const void *p)
{
	uint64_t v;

	__asm__ volatile("" ::: "memory");
	v = *(const volatile uint64_t *)p;

	__asm__ volatile("" ::: "memory");
	return v;
}

static inline void write32(void *p, uint32_t v)
{
	__asm__ volatile("" ::: "memory");
	*(volatile uint32_t *)p = v;
	__asm__ volatile("" ::: "memory");
}

static inline void write64(void *p, uint64_t v)
{
	__asm__ volatile("" ::: "memory");
	*(volatile uint64_t *)p = v;
	__asm__ volatile("" ::: "memory");
}

/* ------------------------------------------------------------------ */
/* The model behind the trapped region                                  */
/* ------------------------------------------------------------------ */

static uint64_t regs[PG / 8];
static double store_t0;		/* when the measured store began */
static double seen_sum;		/* sum of store-to-op delays */

static uint64_t m_read(void *opaque, uint64_t off, unsigned int size)
{
	uint64_t v = 0;

	(void)opaque;
	memcpy(&v, (uint8_t *)regs + off, size);
	return v;
}

static void m_write(void *opaque, uint64_t off, unsigned int size,
		    uint64_t val)
{
	(void)opaque;
	if (store_t0)
		seen_sum += bench_now_ns() - store_t0;
	memcpy((uint8_t *)regs + off, &val, size);
}

static const struct sio_mmio_ops model_ops = { m_read, m_write };

/* ------------------------------------------------------------------ */
/* Timing loops                                                         */
/* ------------------------------------------------------------------ */

enum op { LOAD32, LOAD64, STORE32, STORE64, GETPPID };

static double per_op(enum op op, void *p, long n)
{
	double t0 = bench_now_ns();
	uint64_t sink = 0;

	for (long i = 0; i < n; i++) {
		switch (op) {
		case LOAD32: sink += read32(p); break;
		case LOAD64: sink += read64(p); break;
		case STORE32: write32(p, (uint32_t)i); break;
		case STORE64: write64(p, (uint64_t)i); break;
		case GETPPID: sink += (uint64_t)syscall(SYS_getppid); break;
		}
	}
	__asm__ volatile("" : : "r"(sink));
	return (bench_now_ns() - t0) / (double)n;
}

static double median_of(enum op op, void *p, long n)
{
	double v[RUNS];

	per_op(op, p, n / 10 + 1);	/* warm up */
	for (int r = 0; r < RUNS; r++)
		v[r] = per_op(op, p, n);
	return bench_median(v, RUNS);
}

/* Store to model op, through the trap. */
static double trap_seen(void *p, long n)
{
	double v[RUNS];

	for (int r = 0; r < RUNS; r++) {
		seen_sum = 0;
		for (long i = 0; i < n; i++) {
			store_t0 = bench_now_ns();
			write32(p, (uint32_t)i);
		}
		v[r] = seen_sum / (double)n;
	}
	store_t0 = 0;
	return bench_median(v, RUNS);
}

/* A fault on a page that is not a region, to a handler that skips the
 * 2-byte "mov (%rdi), %eax": signal delivery and return, no emulation. */
static void skip_insn(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)sig;
	(void)si;
	uc->uc_mcontext.gregs[REG_RIP] += 2;
}

static double bare_fault(long n)
{
	void *page = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	struct sigaction act, old;
	double v[RUNS];

	memset(&act, 0, sizeof(act));
	act.sa_sigaction = skip_insn;
	act.sa_flags = SA_SIGINFO;
	sio_trap_sigaction(SIGSEGV, &act, &old);
	for (int r = 0; r < RUNS; r++) {
		double t0 = bench_now_ns();

		for (long i = 0; i < n; i++) {
			uint32_t x;

			__asm__ volatile("mov (%%rdi), %%eax"
					 : "=a"(x) : "D"(page) : "memory");
		}
		v[r] = (bench_now_ns() - t0) / (double)n;
	}
	sio_trap_sigaction(SIGSEGV, &old, NULL);
	munmap(page, PG);
	return bench_median(v, RUNS);
}

/* ------------------------------------------------------------------ */
/* A polling device thread                                              */
/* ------------------------------------------------------------------ */

struct poll_page {
	_Alignas(64) uint64_t doorbell;	/* the driver's store: a timestamp */
	_Alignas(64) uint64_t ack;	/* the device's answer */
	_Alignas(64) int stop;
	long sleep_ns;			/* 0: spin */
	double cpu_ns, wall_ns;		/* the device thread's, when idle */
	int idle;			/* measuring idle burn */
	double *lat;
	long nlat, maxlat;
};

static double thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *poller(void *arg)
{
	struct poll_page *pp = arg;
	uint64_t last = 0;
	double c0 = thread_cpu_ns(), w0 = bench_now_ns();

	while (!__atomic_load_n(&pp->stop, __ATOMIC_ACQUIRE)) {
		uint64_t v = __atomic_load_n(&pp->doorbell, __ATOMIC_ACQUIRE);

		if (v != last) {
			double now = bench_now_ns();

			if (pp->nlat < pp->maxlat)
				pp->lat[pp->nlat++] = now - (double)v;
			last = v;
			__atomic_store_n(&pp->ack, v, __ATOMIC_RELEASE);
		} else if (pp->sleep_ns) {
			struct timespec ts = { 0, pp->sleep_ns };

			nanosleep(&ts, NULL);
		} else {
			__builtin_ia32_pause();
		}
	}
	pp->cpu_ns = thread_cpu_ns() - c0;
	pp->wall_ns = bench_now_ns() - w0;
	return NULL;
}

static void percentile(double *v, long n, double *med, double *p99)
{
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	*med = v[n / 2];
	*p99 = v[(n * 99) / 100];
}

/* One-way store-to-seen delay and the thread's CPU share while idle. */
static void bench_polling(long sleep_ns, long n)
{
	struct poll_page *pp = aligned_alloc(64, sizeof(*pp));
	double med, p99, idle_share;
	pthread_t th;

	memset(pp, 0, sizeof(*pp));
	pp->sleep_ns = sleep_ns;
	pp->maxlat = n;
	pp->lat = calloc((size_t)n, sizeof(double));
	pthread_create(&th, NULL, poller, pp);
	for (long i = 0; i < n; i++) {
		uint64_t t = (uint64_t)bench_now_ns();

		__atomic_store_n(&pp->doorbell, t, __ATOMIC_RELEASE);
		while (__atomic_load_n(&pp->ack, __ATOMIC_ACQUIRE) != t)
			__builtin_ia32_pause();
	}
	percentile(pp->lat, pp->nlat, &med, &p99);
	__atomic_store_n(&pp->stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);

	/* The same thread with nothing to do, for 200 ms. */
	pp->stop = 0;
	pp->nlat = pp->maxlat;
	pthread_create(&th, NULL, poller, pp);
	usleep(200000);
	__atomic_store_n(&pp->stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	idle_share = 100.0 * pp->cpu_ns / pp->wall_ns;

	if (sleep_ns)
		printf("poll, sleeping %ld us: store seen after %8.0f ns median, %8.0f ns p99; idle thread uses %5.1f%% of a CPU\n",
		       sleep_ns / 1000, med, p99, idle_share);
	else
		printf("poll, spinning:         store seen after %8.0f ns median, %8.0f ns p99; idle thread uses %5.1f%% of a CPU\n",
		       med, p99, idle_share);
	free(pp->lat);
	free(pp);
}

/* ------------------------------------------------------------------ */
/* userfaultfd write protection                                         */
/* ------------------------------------------------------------------ */

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

struct uffd_bench {
	int fd;
	uint8_t *page;
	volatile double t0;	/* when the store began */
	double *notify;
	long n, done;
	int stop;
};

static void *uffd_handler(void *arg)
{
	struct uffd_bench *u = arg;
	struct pollfd pfd = { .fd = u->fd, .events = POLLIN };

	while (!__atomic_load_n(&u->stop, __ATOMIC_ACQUIRE)) {
		struct uffd_msg msg;
		struct uffdio_writeprotect wp;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (read(u->fd, &msg, sizeof(msg)) != sizeof(msg))
			continue;
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		if (u->done < u->n)
			u->notify[u->done++] = bench_now_ns() - u->t0;
		/* Let the store through: unprotect and wake the thread. */
		wp.range.start = (uintptr_t)u->page;
		wp.range.len = PG;
		wp.mode = 0;
		ioctl(u->fd, UFFDIO_WRITEPROTECT, &wp);
	}
	return NULL;
}

static void bench_uffd(long n)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	struct uffdio_writeprotect wp;
	struct uffd_bench u = { 0 };
	const char *kind = "shared memfd";
	double *cost, med, p99, cmed, cp99;
	int memfd = -1, sysctl = -1;
	FILE *f = fopen("/proc/sys/vm/unprivileged_userfaultfd", "r");
	pthread_t th;

	if (f) {
		if (fscanf(f, "%d", &sysctl) != 1)
			sysctl = -1;
		fclose(f);
	}
	u.fd = (int)syscall(SYS_userfaultfd, (long)(O_CLOEXEC | O_NONBLOCK));
	if (u.fd < 0)
		u.fd = (int)syscall(SYS_userfaultfd,
				    (long)(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY));
	if (u.fd < 0) {
		printf("uffd-wp: no userfaultfd for this process (%s; vm.unprivileged_userfaultfd=%d)\n",
		       strerror(errno), sysctl);
		return;
	}
	api.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_WP_HUGETLBFS_SHMEM;
	if (ioctl(u.fd, UFFDIO_API, &api)) {
		/* Retry without shmem write protection: anonymous memory. */
		close(u.fd);
		u.fd = (int)syscall(SYS_userfaultfd,
				    (long)(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY));
		api = (struct uffdio_api){ .api = UFFD_API,
					   .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };
		if (u.fd < 0 || ioctl(u.fd, UFFDIO_API, &api)) {
			printf("uffd-wp: UFFDIO_API refused write protection (%s)\n",
			       strerror(errno));
			return;
		}
		kind = "private anonymous";
	}
	if (api.features & UFFD_FEATURE_WP_HUGETLBFS_SHMEM)
		memfd = memfd_create("bench_uffd", MFD_CLOEXEC);
	if (memfd >= 0 && ftruncate(memfd, PG) == 0)
		u.page = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			      memfd, 0);
	else {
		kind = "private anonymous";
		u.page = mmap(NULL, PG, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	u.page[0] = 1;		/* populated: write protection needs a page */
	reg.range.start = (uintptr_t)u.page;
	reg.range.len = PG;
	reg.mode = UFFDIO_REGISTER_MODE_WP;
	if (ioctl(u.fd, UFFDIO_REGISTER, &reg)) {
		printf("uffd-wp: UFFDIO_REGISTER (WP) on %s memory failed: %s\n",
		       kind, strerror(errno));
		close(u.fd);
		return;
	}
	u.n = n;
	u.notify = calloc((size_t)n, sizeof(double));
	cost = calloc((size_t)n, sizeof(double));
	pthread_create(&th, NULL, uffd_handler, &u);
	for (long i = 0; i < n; i++) {
		double t0;

		wp.range.start = (uintptr_t)u.page;
		wp.range.len = PG;
		wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
		if (ioctl(u.fd, UFFDIO_WRITEPROTECT, &wp)) {
			printf("uffd-wp: UFFDIO_WRITEPROTECT failed: %s\n",
			       strerror(errno));
			break;
		}
		t0 = bench_now_ns();
		u.t0 = t0;
		write32(u.page + 8, (uint32_t)i);
		cost[i] = bench_now_ns() - t0;
	}
	__atomic_store_n(&u.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	if (u.done > 0) {
		percentile(u.notify, u.done, &med, &p99);
		percentile(cost, u.done, &cmed, &cp99);
		printf("uffd-wp (%s): handler notified %8.0f ns median, %8.0f ns p99; store completes after %8.0f ns median, %8.0f ns p99\n",
		       kind, med, p99, cmed, cp99);
	}
	free(u.notify);
	free(cost);
	munmap(u.page, PG);
	close(u.fd);
	if (memfd >= 0)
		close(memfd);
}

int main(int argc, char **argv)
{
	struct sio_mmio_region *r;
	void *mmio = NULL;
	uint64_t *plain;
	double l4, l8, sc, bare, tr4, tr8, tw4, tw8, seen;

	if (argc > 1)
		scale = atoi(argv[1]) > 0 ? atoi(argv[1]) : 1;
	plain = aligned_alloc(64, 64);
	plain[0] = 1;
	if (sio_mmio_map(&mmio, PG, 0, &model_ops, NULL, &r)) {
		fprintf(stderr, "sio_mmio_map: %s\n", sio_last_error());
		return 1;
	}

	l4 = median_of(LOAD32, plain, 10000000L * scale);
	l8 = median_of(LOAD64, plain, 10000000L * scale);
	sc = median_of(GETPPID, NULL, 200000L * scale);
	bare = bare_fault(50000L * scale);
	tr4 = median_of(LOAD32, (uint8_t *)mmio + 0x10, 50000L * scale);
	tr8 = median_of(LOAD64, (uint8_t *)mmio + 0x18, 50000L * scale);
	tw4 = median_of(STORE32, (uint8_t *)mmio + 0x10, 50000L * scale);
	tw8 = median_of(STORE64, (uint8_t *)mmio + 0x18, 50000L * scale);
	seen = trap_seen((uint8_t *)mmio + 0x20, 50000L * scale);

	printf("plain load 4 B:          %8.2f ns\n", l4);
	printf("plain load 8 B:          %8.2f ns\n", l8);
	printf("getppid() system call:   %8.1f ns\n", sc);
	printf("fault, handler skips it: %8.1f ns  (%5.1f x the system call)\n",
	       bare, bare / sc);
	printf("trapped read 4 B:        %8.1f ns  (%5.1f x the system call, %6.0f x a plain load)\n",
	       tr4, tr4 / sc, tr4 / l4);
	printf("trapped read 8 B:        %8.1f ns  (%5.1f x the system call, %6.0f x a plain load)\n",
	       tr8, tr8 / sc, tr8 / l8);
	printf("trapped write 4 B:       %8.1f ns  (%5.1f x the system call)\n",
	       tw4, tw4 / sc);
	printf("trapped write 8 B:       %8.1f ns  (%5.1f x the system call)\n",
	       tw8, tw8 / sc);
	printf("trap, store seen by the model after %8.0f ns (inside the store)\n",
	       seen);

	bench_polling(0, 20000L * scale);
	bench_polling(50000, 2000L * scale);
	bench_uffd(20000L * scale);

	munmap(mmio, PG);
	sio_mmio_unregister(r);
	free(plain);
	return 0;
}
