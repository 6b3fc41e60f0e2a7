/*
 * bench/iopf: I/O page faults end to end, for two handlers.
 *
 *  fault-fd  a user-space handler (a VMM thread) on an iommufd fault queue:
 *            poll() the fault fd, read() the iommu_hwpt_pgfault records,
 *            write() SUCCESS responses; the device is a mock device on a
 *            fault-capable nested HWPT.
 *  sva       the library's SVA handler: each request faults a page of the
 *            mm in through the mm's fault handler on the handler's thread.
 *
 * Round trip, one request at a time: the device's DMA misses, it sends a
 * page request, the handler answers, the device model's page_response
 * wakes it, and it retries the DMA, which must now succeed (for fault-fd
 * the page is mapped in the IOAS beforehand, as after a VMM's fix-up; for
 * sva the handler makes it present).  Median of the per-run medians.
 * Throughput: up to WINDOW requests outstanding, groups answered per
 * second, median over runs.  The device waits for a response by spinning
 * briefly, then sleeping on a futex (the device model below).
 *
 * Beside each round trip: the futex ping-pong between two threads
 * (floors.h), measured in each run just before its round trips, and the
 * median of the per-run ratios; the target is a round trip of at most
 * TARGET_RATIO times that floor, since a page fault answered by another
 * thread is at heart one wake-up each way.
 *
 * The bench arms the library's fault-safe copies (sio_usercopy_arm()), as
 * the shim does under `softiommu run`: the fault fd's read() and write()
 * copy their records with memcpy, not process_vm_readv/writev.
 *
 * Usage: bench_iopf [runs]   (default 7)
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench_util.h"
#include "floors.h"
#include "softiommu/file.h"
#include "softiommu/iommufd.h"
#include "softiommu/mm.h"
#include "softiommu/mmio.h"
#include "softiommu/softiommu.h"
#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/iommufd_test.h"

#define ITERS 2000		/* round trips per run */
#define TPUT 10000		/* groups per throughput run */
#define WINDOW 64		/* outstanding groups in a throughput run */
#define MAXRUNS 64
#define IOVA 0x1000000ull	/* in the mock aperture */
#define PG 4096ull
#define TARGET_RATIO 1.5

/*
 * The device model: counts the responses it got.  A device thread that
 * waits for a response spins for up to SPIN_NS (the answer of a handler
 * that is running comes within a few microseconds), then sleeps on the
 * count; the response (its wake op, once the layer dropped the device's
 * lock) wakes it only when it sleeps.  "sleeping" and
 * "answered" are a store-then-load pair on each side (sequentially
 * consistent), so a response either sees the sleeper or is seen by it.
 * A spin that times out means the CPUs are oversubscribed (it kept the
 * handler from running): the next 2^misses - 1 waits (misses up to 10)
 * sleep at once.
 */
#define SPIN_NS 5000.0

struct devmodel {
	uint32_t answered;		/* atomic; the futex word */
	uint32_t sleeping;		/* atomic: the device waits on answered */
	unsigned long failed;		/* atomic: not SUCCESS */
	unsigned int spin_misses;	/* the device thread's own */
	unsigned int spin_skip;
};

static void on_response(struct sio_device *dev, void *arg,
			const struct sio_page_response *resp)
{
	struct devmodel *m = arg;

	(void)dev;
	if (resp->code != SIO_PAGE_RESP_SUCCESS)
		__atomic_add_fetch(&m->failed, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&m->answered, 1, __ATOMIC_SEQ_CST);
}

/* After the layer dropped the device's lock (see iopf.h). */
static void on_wake(struct sio_device *dev, void *arg)
{
	struct devmodel *m = arg;

	(void)dev;
	if (__atomic_load_n(&m->sleeping, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &m->answered, FUTEX_WAKE_PRIVATE, 1, NULL,
			NULL, 0);
}

static const struct sio_iopf_device_ops model_ops = {
	.page_response = on_response,
	.wake = on_wake,
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ volatile("" ::: "memory");
#endif
}

static bool answered_by(struct devmodel *m, uint32_t n)
{
	return (int32_t)(__atomic_load_n(&m->answered, __ATOMIC_SEQ_CST) - n) >= 0;
}

/* Until at least n responses came (counts wrap: compare differences). */
static void wait_answered(struct devmodel *m, uint32_t n)
{
	uint32_t v;

	if (answered_by(m, n))
		return;
	if (m->spin_skip) {
		m->spin_skip--;
	} else {
		double t0 = bench_now_ns();

		for (int i = 1;; i++) {
			if (answered_by(m, n)) {
				m->spin_misses = 0;
				return;
			}
			if (!(i & 63) && bench_now_ns() - t0 > SPIN_NS)
				break;
			cpu_relax();
		}
		if (m->spin_misses < 10)
			m->spin_misses++;
		m->spin_skip = (1u << m->spin_misses) - 1;
	}
	__atomic_store_n(&m->sleeping, 1, __ATOMIC_SEQ_CST);
	while ((int32_t)((v = __atomic_load_n(&m->answered, __ATOMIC_SEQ_CST)) - n) < 0)
		syscall(SYS_futex, &m->answered, FUTEX_WAIT_PRIVATE, v, NULL,
			NULL, 0);
	__atomic_store_n(&m->sleeping, 0, __ATOMIC_RELAXED);
}

struct target {
	const char *name;
	struct sio_device *dev;
	sio_pasid_t pasid;
	struct devmodel model;
	bool premapped;			/* the page is there before asking */
	/* The address of request i of a run's round trips (phase 0) or
	 * throughput (phase 1); reset() prepares the next run. */
	uint64_t (*addr)(struct target *t, int phase, long i);
	void (*reset)(struct target *t);
	uint64_t base;
	struct sio_mm *mm;
};

/* Round trips: median ns of one run. */
static double round_trips(struct target *t)
{
	static double lat[ITERS];
	struct sio_page_request req = { .pasid = t->pasid, .flags = SIO_PRQ_LAST,
					.perm = SIO_DMA_READ };
	char byte;
	int rc;

	for (long i = 0; i < ITERS; i++) {
		uint32_t before = __atomic_load_n(&t->model.answered,
						  __ATOMIC_ACQUIRE);
		double t0 = bench_now_ns();

		req.addr = t->addr(t, 0, i);
		req.grpid = (uint32_t)i & 0x1ff;
		rc = sio_dma_read(t->dev, t->pasid, req.addr, &byte, 1, NULL);
		if (rc == 0 && !t->premapped) {
			fprintf(stderr, "bench_iopf: %s: page present before the request\n",
				t->name);
			exit(1);
		}
		/* -EAGAIN: the DMA itself sent the request (a fault-capable
		 * domain); otherwise the device model reports it. */
		if (rc != -EAGAIN && sio_iopf_report(t->dev, &req)) {
			fprintf(stderr, "bench_iopf: %s: report: %s\n", t->name,
				sio_last_error());
			exit(1);
		}
		wait_answered(&t->model, before + 1);
		if (sio_dma_read(t->dev, t->pasid, req.addr, &byte, 1, NULL)) {
			fprintf(stderr, "bench_iopf: %s: DMA still fails after the response\n",
				t->name);
			exit(1);
		}
		lat[i] = bench_now_ns() - t0;
	}
	return bench_median(lat, ITERS);
}

/* Throughput: groups per second with WINDOW outstanding. */
static double throughput(struct target *t)
{
	uint32_t start = __atomic_load_n(&t->model.answered, __ATOMIC_ACQUIRE);
	struct sio_page_request req = { .pasid = t->pasid, .flags = SIO_PRQ_LAST,
					.perm = SIO_DMA_READ };
	double t0 = bench_now_ns();

	for (long sent = 0; sent < TPUT; sent++) {
		if (sent >= WINDOW)
			wait_answered(&t->model,
				      start + (uint32_t)(sent - WINDOW + 1));
		req.addr = t->addr(t, 1, sent);
		req.grpid = (uint32_t)sent & 0x1ff;
		if (sio_iopf_report(t->dev, &req)) {
			fprintf(stderr, "bench_iopf: %s: report: %s\n", t->name,
				sio_last_error());
			exit(1);
		}
	}
	wait_answered(&t->model, start + TPUT);
	return TPUT / ((bench_now_ns() - t0) / 1e9);
}

/* Worst ratio of the targets run, for the target line. */
static double worst_ratio;

static void run_target(struct target *t, int runs)
{
	double lat[MAXRUNS], tput[MAXRUNS], floor[MAXRUNS], ratio[MAXRUNS];
	double r_med;

	for (int r = 0; r < runs; r++) {
		if (t->reset)
			t->reset(t);
		floor[r] = bench_floor_futex_rtt_ns();
		lat[r] = round_trips(t);
		ratio[r] = floor[r] > 0 ? lat[r] / floor[r] : 0;
		tput[r] = throughput(t);
	}
	if (__atomic_load_n(&t->model.failed, __ATOMIC_RELAXED)) {
		fprintf(stderr, "bench_iopf: %s: %lu responses were not SUCCESS\n",
			t->name, t->model.failed);
		exit(1);
	}
	r_med = bench_median(ratio, runs);
	if (r_med > worst_ratio)
		worst_ratio = r_med;
	printf("%-9s round trip %8.2f us   futex ping-pong %6.2f us   ratio %5.2f"
	       "   throughput %10.0f groups/s   (%d runs, median)\n", t->name,
	       bench_median(lat, runs) / 1e3, bench_median(floor, runs) / 1e3,
	       r_med, bench_median(tput, runs), runs);
}

/* ------------------------------------------------------------------ */
/* fault-fd: a VMM thread on the fault fd                              */
/* ------------------------------------------------------------------ */

struct vmm {
	int fd;
	struct sio_file *file;
	bool stop;			/* atomic */
};

static void *vmm_thread(void *arg)
{
	struct vmm *v = arg;
	struct iommu_hwpt_pgfault rec[WINDOW];
	struct iommu_hwpt_page_response resp[WINDOW];

	while (!__atomic_load_n(&v->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd p = { .fd = v->fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 50) != 1)
			continue;
		n = sio_file_read(v->file, rec, sizeof(rec));
		if (n < 0) {
			fprintf(stderr, "bench_iopf: read: %zd\n", n);
			exit(1);
		}
		n /= (ssize_t)sizeof(rec[0]);
		for (ssize_t i = 0; i < n; i++)
			resp[i] = (struct iommu_hwpt_page_response){
				.cookie = rec[i].cookie,
				.code = IOMMUFD_PAGE_RESP_SUCCESS };
		if (n && sio_file_write(v->file, resp, n * sizeof(resp[0])) !=
				 n * (ssize_t)sizeof(resp[0])) {
			fprintf(stderr, "bench_iopf: write failed\n");
			exit(1);
		}
	}
	return NULL;
}

static uint64_t mapped_addr(struct target *t, int phase, long i)
{
	(void)phase;
	return t->base + (uint64_t)(i % 256) * PG;
}

static long ioc(struct sio_iommufd *ictx, unsigned int cmd, void *arg)
{
	long rc = sio_iommufd_ioctl(ictx, cmd, (unsigned long)arg);

	if (rc < 0) {
		fprintf(stderr, "bench_iopf: ioctl %#x: %ld %s\n", cmd, rc,
			sio_last_error());
		exit(1);
	}
	return rc;
}

static void bench_fault_fd(int runs)
{
	struct iommu_hwpt_selftest data = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };
	struct sio_iommufd_host *host;
	struct sio_iommufd *ictx;
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct iommu_test_cmd md = { .size = sizeof(md),
				     .op = IOMMU_TEST_OP_MOCK_DOMAIN };
	struct iommu_fault_alloc fa = { .size = sizeof(fa) };
	struct iommu_hwpt_alloc parent = { .size = sizeof(parent),
					   .flags = IOMMU_HWPT_ALLOC_NEST_PARENT };
	struct iommu_hwpt_alloc nested = {
		.size = sizeof(nested), .flags = IOMMU_HWPT_FAULT_ID_VALID,
		.data_type = IOMMU_HWPT_DATA_SELFTEST, .data_len = sizeof(data),
		.data_uptr = (uintptr_t)&data,
	};
	struct iommu_test_cmd rep = { .size = sizeof(rep),
				      .op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE };
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.length = 256 * PG, .iova = IOVA,
	};
	struct target t = { .name = "fault-fd", .pasid = SIO_NO_PASID,
			    .premapped = true, .addr = mapped_addr, .base = IOVA };
	struct vmm v = { 0 };
	pthread_t thr;
	void *mem = mmap(NULL, 256 * PG, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (mem == MAP_FAILED || sio_iommufd_host_create(&host) ||
	    sio_iommufd_open(host, &ictx)) {
		fprintf(stderr, "bench_iopf: setup: %s\n", sio_last_error());
		exit(1);
	}
	memset(mem, 1, 256 * PG);
	ioc(ictx, IOMMU_IOAS_ALLOC, &ioas);
	md.id = ioas.out_ioas_id;
	ioc(ictx, IOMMU_TEST_CMD, &md);
	ioc(ictx, IOMMU_FAULT_QUEUE_ALLOC, &fa);
	parent.dev_id = nested.dev_id = md.mock_domain.out_idev_id;
	parent.pt_id = ioas.out_ioas_id;
	ioc(ictx, IOMMU_HWPT_ALLOC, &parent);
	nested.pt_id = parent.out_hwpt_id;
	nested.fault_id = fa.out_fault_id;
	ioc(ictx, IOMMU_HWPT_ALLOC, &nested);
	rep.id = md.mock_domain.out_stdev_id;
	rep.mock_domain_replace.pt_id = nested.out_hwpt_id;
	ioc(ictx, IOMMU_TEST_CMD, &rep);
	map.ioas_id = ioas.out_ioas_id;
	map.user_va = (uintptr_t)mem;
	ioc(ictx, IOMMU_IOAS_MAP, &map);

	/* The bench is the device model: it takes the responses. */
	if (sio_iommufd_device_get(ictx, md.mock_domain.out_idev_id, &t.dev)) {
		fprintf(stderr, "bench_iopf: device: %s\n", sio_last_error());
		exit(1);
	}
	sio_iopf_device_disable(t.dev);
	if (sio_iopf_device_enable(t.dev, &model_ops, &t.model, NULL)) {
		fprintf(stderr, "bench_iopf: enable: %s\n", sio_last_error());
		exit(1);
	}
	v.fd = (int)fa.out_fault_fd;
	v.file = sio_file_lookup(v.fd);
	pthread_create(&thr, NULL, vmm_thread, &v);
	run_target(&t, runs);
	__atomic_store_n(&v.stop, true, __ATOMIC_RELEASE);
	pthread_join(thr, NULL);

	sio_iopf_device_disable(t.dev);
	sio_device_put(t.dev);
	sio_file_put(v.file);
	sio_file_close(v.fd);
	sio_iommufd_release(ictx);
	sio_iommufd_host_destroy(host);
	munmap(mem, 256 * PG);
}

/* ------------------------------------------------------------------ */
/* sva: the library's handler through the mm                           */
/* ------------------------------------------------------------------ */

#define SVA_PAGES ((uint64_t)ITERS + TPUT)

/* A page never asked for in this run. */
static uint64_t fresh_addr(struct target *t, int phase, long i)
{
	return t->base + ((phase ? ITERS : 0) + (uint64_t)i) * PG;
}

/* Map the range again, empty: its pages were freed with the old one. */
static void sva_reset(struct target *t)
{
	if (sio_mm_munmap(t->mm, t->base, SVA_PAGES * PG) ||
	    sio_mm_mmap(t->mm, t->base, SVA_PAGES * PG,
			SIO_PROT_READ | SIO_PROT_WRITE, SIO_MM_MAP_FIXED,
			&t->base)) {
		fprintf(stderr, "bench_iopf: sva: remap: %s\n", sio_last_error());
		exit(1);
	}
}

static void bench_sva(int runs)
{
	struct sio_soft_config cfg = { .format = SIO_PT_X86_64, .pasid_bits = 20 };
	struct sio_device_desc desc = { .name = "sva-dev", .pasid_bits = 20 };
	struct sio_attach_handle h = { 0 };
	struct target t = { .name = "sva", .pasid = 5, .addr = fresh_addr,
			    .reset = sva_reset };
	struct sio_system *sys;
	struct sio_iommu *iommu;
	struct sio_domain *sva;
	struct sio_iopf_sva *q;
	struct sio_mm *mm;

	if (sio_system_create(&sys) ||
	    sio_soft_iommu_create(sys, "soft", &cfg, &iommu) ||
	    sio_device_probe(iommu, &desc, &t.dev) || sio_mm_create(&mm) ||
	    sio_mm_mmap(mm, 0, SVA_PAGES * PG, SIO_PROT_READ | SIO_PROT_WRITE,
			0, &t.base) ||
	    sio_iopf_sva_create(1, &q) ||
	    sio_domain_alloc_sva(t.dev, mm, &sva) ||
	    sio_domain_set_iopf_handler(sva, sio_iopf_sva_handler(q)) ||
	    sio_attach_device_pasid(sva, t.dev, t.pasid, &h) ||
	    sio_iopf_device_enable(t.dev, &model_ops, &t.model, NULL)) {
		fprintf(stderr, "bench_iopf: sva setup: %s\n", sio_last_error());
		exit(1);
	}
	t.mm = mm;
	run_target(&t, runs);
	sio_detach_device_pasid(sva, t.dev, t.pasid);
	sio_iopf_device_disable(t.dev);
	sio_domain_free(sva);
	sio_iopf_sva_destroy(q);
	sio_mm_put(mm);
	sio_device_remove(t.dev);
	sio_device_put(t.dev);
	sio_system_destroy(sys);
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 7;

	if (runs < 1 || runs > MAXRUNS)
		runs = 7;
	/* Copy the fault fd's records as a program under `softiommu run`
	 * does: by memcpy, not by system call.  The bench installs no
	 * SIGSEGV/SIGBUS handler of its own, so the library's stays. */
	if (sio_usercopy_arm()) {
		fprintf(stderr, "bench_iopf: arming the copies: %s\n",
			sio_last_error());
		return 1;
	}
	bench_fault_fd(runs);
	bench_sva(runs);
	printf("target    round trip <= %.1fx the futex ping-pong of the same run:"
	       " worst ratio %.2f, %s\n", TARGET_RATIO, worst_ratio,
	       worst_ratio <= TARGET_RATIO ? "met" : "not met");
	return 0;
}
