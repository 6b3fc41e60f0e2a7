/*
 * The floors the benchmarks compare against, measured in the same run as
 * the figure they divide (the machines are shared VMs whose speed moves
 * from minute to minute, so a floor from another run means nothing):
 *
 *   getppid        one plain system call;
 *   FIONREAD       one ioctl on a pipe, the cheapest real ioctl;
 *   futex          a round trip between two threads woken by futexes;
 *   hash hit       a lookup that hits in a 4,096-entry open-addressing
 *                  table of 64-bit keys, the cost a cache of translations
 *                  cannot beat by much;
 *   memcpy         GB/s of memcpy between two buffers of a given size;
 *   socket         a 64-byte round trip over a SOCK_SEQPACKET socket pair
 *                  to a thread that echoes it, what any request to another
 *                  process costs at least (the shared mode's floor).
 *
 * Each returns the median of several timed batches, in ns per operation
 * (GB/s for memcpy).  Header-only so each benchmark stays one file.
 */
#ifndef SIO_BENCH_FLOORS_H
#define SIO_BENCH_FLOORS_H

#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench_util.h"

#define BENCH_FLOOR_BATCHES 7

static inline double bench_floor_getppid_ns(void)
{
	double v[BENCH_FLOOR_BATCHES];
	const int n = 20000;

	for (int b = 0; b < BENCH_FLOOR_BATCHES; b++) {
		double t0 = bench_now_ns();

		for (int i = 0; i < n; i++)
			(void)syscall(SYS_getppid);
		v[b] = (bench_now_ns() - t0) / n;
	}
	return bench_median(v, BENCH_FLOOR_BATCHES);
}

static inline double bench_floor_fionread_ns(void)
{
	double v[BENCH_FLOOR_BATCHES];
	const int n = 20000;
	int p[2], avail;

	if (pipe(p))
		return 0;
	for (int b = 0; b < BENCH_FLOOR_BATCHES; b++) {
		double t0 = bench_now_ns();

		for (int i = 0; i < n; i++)
			(void)ioctl(p[0], FIONREAD, &avail);
		v[b] = (bench_now_ns() - t0) / n;
	}
	close(p[0]);
	close(p[1]);
	return bench_median(v, BENCH_FLOOR_BATCHES);
}

/* The ping-pong: each side waits for its word to change, then flips the
 * other's and wakes it.  No spinning, so each leg is a real wake-up. */
struct bench_futex_pp {
	_Atomic uint32_t ping, pong;
	int rounds;
};

static inline void bench_futex_wait(_Atomic uint32_t *w, uint32_t old)
{
	while (atomic_load(w) == old)
		syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, old, NULL, NULL, 0);
}

static inline void bench_futex_wake(_Atomic uint32_t *w)
{
	atomic_fetch_add(w, 1);
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static inline void *bench_futex_ponger(void *arg)
{
	struct bench_futex_pp *pp = arg;

	for (int i = 0; i < pp->rounds; i++) {
		bench_futex_wait(&pp->ping, (uint32_t)i);
		bench_futex_wake(&pp->pong);
	}
	return NULL;
}

static inline double bench_floor_futex_rtt_ns(void)
{
	double v[BENCH_FLOOR_BATCHES];
	const int n = 2000;

	for (int b = 0; b < BENCH_FLOOR_BATCHES; b++) {
		struct bench_futex_pp pp = { .rounds = n };
		pthread_t t;
		double t0;

		if (pthread_create(&t, NULL, bench_futex_ponger, &pp))
			return 0;
		t0 = bench_now_ns();
		for (int i = 0; i < n; i++) {
			bench_futex_wake(&pp.ping);
			bench_futex_wait(&pp.pong, (uint32_t)i);
		}
		v[b] = (bench_now_ns() - t0) / n;
		pthread_join(t, NULL);
	}
	return bench_median(v, BENCH_FLOOR_BATCHES);
}

#define BENCH_HASH_SLOTS 8192	/* 4,096 entries at half load */

static inline uint64_t bench_hash64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

static inline double bench_floor_hash_hit_ns(void)
{
	static uint64_t keys[BENCH_HASH_SLOTS], vals[BENCH_HASH_SLOTS];
	double v[BENCH_FLOOR_BATCHES];
	const int n = 1000000;
	volatile uint64_t sink = 0;

	memset(keys, 0, sizeof(keys));
	for (uint64_t i = 1; i <= 4096; i++) {
		uint64_t k = i << 12, h = bench_hash64(k) & (BENCH_HASH_SLOTS - 1);

		while (keys[h])
			h = (h + 1) & (BENCH_HASH_SLOTS - 1);
		keys[h] = k;
		vals[h] = k ^ 0x5a5a;
	}
	for (int b = 0; b < BENCH_FLOOR_BATCHES; b++) {
		uint64_t acc = 0;
		double t0 = bench_now_ns();

		for (int i = 0; i < n; i++) {
			/* The key depends on the last value so lookups do not
			 * overlap, as a translation feeding a copy would not. */
			uint64_t k = ((((uint64_t)i + (acc & 1)) & 4095) + 1) << 12;
			uint64_t h = bench_hash64(k) & (BENCH_HASH_SLOTS - 1);

			while (keys[h] != k)
				h = (h + 1) & (BENCH_HASH_SLOTS - 1);
			acc += vals[h];
		}
		v[b] = (bench_now_ns() - t0) / n;
		sink += acc;
	}
	(void)sink;
	return bench_median(v, BENCH_FLOOR_BATCHES);
}

static inline double bench_floor_memcpy_gbps(size_t bytes)
{
	double v[BENCH_FLOOR_BATCHES];
	long iters = (long)((256UL << 20) / bytes);
	char *src, *dst;

	if (iters < 4)
		iters = 4;
	src = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED || dst == MAP_FAILED)
		return 0;
	memset(src, 1, bytes);
	memset(dst, 2, bytes);
	for (int b = 0; b < BENCH_FLOOR_BATCHES; b++) {
		double t0 = bench_now_ns();

		for (long i = 0; i < iters; i++) {
			memcpy(dst, src, bytes);
			__asm__ volatile("" : : "r"(dst) : "memory");
		}
		v[b] = (double)bytes * (double)iters / (bench_now_ns() - t0);
	}
	munmap(src, bytes);
	munmap(dst, bytes);
	return bench_median(v, BENCH_FLOOR_BATCHES);
}

static inline void *bench_socket_echo(void *arg)
{
	int fd = *(int *)arg;
	char buf[64];

	while (recv(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf))
		if (send(fd, buf, sizeof(buf), MSG_NOSIGNAL) != (ssize_t)sizeof(buf))
			break;
	return NULL;
}

static inline double bench_floor_socket_rtt_ns(void)
{
	double v[BENCH_FLOOR_BATCHES];
	const int n = 500;
	char buf[64] = { 0 };
	pthread_t t;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return 0;
	if (pthread_create(&t, NULL, bench_socket_echo, &sv[1])) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	for (int b = 0; b < BENCH_FLOOR_BATCHES; b++) {
		double t0 = bench_now_ns();

		for (int i = 0; i < n; i++)
			if (send(sv[0], buf, sizeof(buf), 0) != (ssize_t)sizeof(buf) ||
			    recv(sv[0], buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
				break;
		v[b] = (bench_now_ns() - t0) / n;
	}
	shutdown(sv[0], SHUT_RDWR);
	pthread_join(t, NULL);
	close(sv[0]);
	close(sv[1]);
	return bench_median(v, BENCH_FLOOR_BATCHES);
}

#endif
