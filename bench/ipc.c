/*
 * What crossing a process boundary costs on this machine, beside the cost
 * of one plain system call (getppid): the figures the shared mode
 * (docs/process-model.md) and the system-call-free ioctl path
 * (docs/fast-path.md) are decided on.
 *
 * Each probe runs a bounded loop a few times and prints the median cost of
 * one call in microseconds and its ratio to the getppid floor.  A probe the
 * machine refuses prints one line saying why and the rest go on.  The
 * whole run takes a few seconds.  The far side of every cross-process
 * probe is a forked child of this program (the shape of `softiommu run`:
 * the server is an ancestor or a sibling of the same user).
 *
 *   build/bench/bench_ipc            all probes
 *   build/bench/bench_ipc -q         fewer iterations (a smoke run)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <linux/userfaultfd.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "bench_util.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1U
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

#define RUNS 5
static int scale = 1;			/* -q divides iteration counts */
static double floor_us;

static void report(const char *what, double us)
{
	printf("  %-58s %10.3f us  %8.1fx\n", what, us,
	       floor_us > 0 ? us / floor_us : 0.0);
	fflush(stdout);
}

static void skip(const char *what, const char *why)
{
	printf("  %-58s skipped: %s\n", what, why);
	fflush(stdout);
}

static void note(const char *what, const char *fact)
{
	printf("  %-58s %s\n", what, fact);
	fflush(stdout);
}

/* Median over RUNS of the per-call time of fn(arg) called n times. */
static double measure(void (*fn)(void *), void *arg, long n)
{
	double v[RUNS];

	n /= scale;
	if (n < 1)
		n = 1;
	for (int r = 0; r < RUNS; r++) {
		double t0 = bench_now_ns();

		for (long i = 0; i < n; i++)
			fn(arg);
		v[r] = (bench_now_ns() - t0) / 1e3 / (double)n;
	}
	return bench_median(v, RUNS);
}

/* ------------------------------------------------------------------ */
/* The floor and the per-call probes an ioctl makes today               */
/* ------------------------------------------------------------------ */

static void do_getppid(void *a)
{
	(void)a;
	syscall(SYS_getppid);
}

static void do_getpid(void *a)
{
	(void)a;
	syscall(SYS_getpid);
}

static void do_capget(void *a)
{
	struct __user_cap_header { uint32_t version; int pid; } h = {
		0x20080522, 0 };
	uint32_t d[6];

	(void)a;
	syscall(SYS_capget, &h, d);
}

static void do_prlimit(void *a)
{
	struct rlimit rl;

	(void)a;
	prlimit(0, RLIMIT_MEMLOCK, NULL, &rl);
}

static volatile uint64_t cached_value = 42;
static void do_cached(void *a)
{
	(void)a;
	(void)__atomic_load_n(&cached_value, __ATOMIC_ACQUIRE);
}

/* ------------------------------------------------------------------ */
/* A child that answers: the far side of the round-trip probes          */
/* ------------------------------------------------------------------ */

static pid_t child_pid;

static void child_reap(void)
{
	if (child_pid > 0) {
		kill(child_pid, SIGKILL);
		waitpid(child_pid, NULL, 0);
		child_pid = 0;
	}
}

/* Unix socket: 64-byte request, 64-byte answer. */
static int sock_fd;
static void do_sock_rtt(void *a)
{
	char buf[64] = { 0 };

	(void)a;
	if (write(sock_fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) ||
	    read(sock_fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		abort();
}

static void probe_socket(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		skip("unix socket round trip", strerror(errno));
		return;
	}
	child_pid = fork();
	if (child_pid == 0) {
		char buf[64];

		close(sv[0]);
		while (read(sv[1], buf, sizeof(buf)) == (ssize_t)sizeof(buf))
			if (write(sv[1], buf, sizeof(buf)) != (ssize_t)sizeof(buf))
				break;
		_exit(0);
	}
	close(sv[1]);
	sock_fd = sv[0];
	report("unix socket round trip to a server (64 B each way)",
	       measure(do_sock_rtt, NULL, 4000));
	close(sv[0]);
	child_reap();
}

/* A shared-memory slot: sequence numbers, a bounded spin, then a futex. */
struct slot {
	_Atomic uint32_t req, resp;
	_Atomic uint32_t srv_waiting, cli_waiting;
	int spin;
	char payload[64];
};
static struct slot *slot;

static void futex_wait(_Atomic uint32_t *w, uint32_t val)
{
	syscall(SYS_futex, w, FUTEX_WAIT, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* Wait until *w differs from old: spin first, then sleep on the futex. */
static void slot_wait(_Atomic uint32_t *w, uint32_t old,
		      _Atomic uint32_t *waiting, int spin)
{
	for (int i = 0; i < spin; i++) {
		if (atomic_load(w) != old)
			return;
		__builtin_ia32_pause();
	}
	while (atomic_load(w) == old) {
		atomic_store(waiting, 1);
		if (atomic_load(w) != old)
			break;
		futex_wait(w, old);
	}
	atomic_store(waiting, 0);
}

static void slot_post(_Atomic uint32_t *w, _Atomic uint32_t *waiting)
{
	atomic_fetch_add(w, 1);
	if (atomic_load(waiting))
		futex_wake(w);
}

static void do_slot_rtt(void *a)
{
	uint32_t r;

	(void)a;
	r = atomic_load(&slot->resp);
	memset(slot->payload, 1, sizeof(slot->payload));
	slot_post(&slot->req, &slot->srv_waiting);
	slot_wait(&slot->resp, r, &slot->cli_waiting, slot->spin);
}

static void probe_slot(int spin, const char *what)
{
	slot = mmap(NULL, sizeof(*slot), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (slot == MAP_FAILED) {
		skip(what, strerror(errno));
		return;
	}
	slot->spin = spin;
	child_pid = fork();
	if (child_pid == 0) {
		uint32_t seen = 0;

		for (;;) {
			slot_wait(&slot->req, seen, &slot->srv_waiting, spin);
			seen = atomic_load(&slot->req);
			slot->payload[0]++;
			slot_post(&slot->resp, &slot->cli_waiting);
		}
	}
	report(what, measure(do_slot_rtt, NULL, spin ? 20000 : 4000));
	child_reap();
	munmap(slot, sizeof(*slot));
}

/* ------------------------------------------------------------------ */
/* Seccomp user notification                                            */
/* ------------------------------------------------------------------ */

/* Which variant the target times: shared with the supervisor. */
static _Atomic int *seccomp_mode;

#define TRAP_FD 1000		/* ioctl(TRAP_FD, ...) is the trapped call */
#define TRAP_FD_ADDFD 1001	/* answered by installing a descriptor */

static int send_fd(int sock, int fd)
{
	char c = 0;
	struct iovec iov = { &c, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	memset(u.buf, 0, sizeof(u.buf));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char c;
	struct iovec iov = { &c, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* The target: installs the filter, hands the listener over, then times
 * its own trapped calls and writes the figures back. */
static void seccomp_target(int sock, long n)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TRAP_FD, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TRAP_FD_ADDFD, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	double res[3] = { -1, -1, -1 };
	char arg[64] = { 0 };
	int lfd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		res[0] = -errno;
		goto out;
	}
	lfd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			   SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (lfd < 0) {
		res[0] = -errno;
		goto out;
	}
	if (send_fd(sock, lfd))
		_exit(1);
	close(lfd);
	for (int v = 0; v < 3; v++) {
		double runs[RUNS];
		int fdno = v == 2 ? TRAP_FD_ADDFD : TRAP_FD;
		long m = v == 2 ? n / 4 : n;

		/* v 0: answer only; v 1: the server reads 64 B of the
		 * argument (process_vm_readv); v 2: it installs a fd */
		atomic_store(seccomp_mode, v);
		for (int r = 0; r < RUNS; r++) {
			double t0 = bench_now_ns();

			for (long i = 0; i < m; i++) {
				long rc = syscall(SYS_ioctl, fdno, 0x1234, arg);

				if (v == 2 && rc >= 0)
					close((int)rc);
				else if (rc != 0) {
					res[v] = -errno;
					goto out;
				}
			}
			runs[r] = (bench_now_ns() - t0) / 1e3 / (double)m;
		}
		res[v] = bench_median(runs, RUNS);
	}
out:
	if (write(sock, res, sizeof(res)) != sizeof(res))
		_exit(1);
	_exit(0);
}

static void seccomp_supervise(int lfd, int sock, pid_t pid)
{
	struct seccomp_notif_sizes sz;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	int plain;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz))
		return;
	req = calloc(1, sz.seccomp_notif > sizeof(*req) ?
			sz.seccomp_notif : sizeof(*req));
	resp = calloc(1, sz.seccomp_notif_resp > sizeof(*resp) ?
			 sz.seccomp_notif_resp : sizeof(*resp));
	plain = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!req || !resp || plain < 0)
		abort();
	(void)sock;
	for (;;) {
		int mode = atomic_load(seccomp_mode);
		char arg[64];

		memset(req, 0, sz.seccomp_notif);
		if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, req)) {
			siginfo_t si = { 0 };

			/* ENOENT: a notification went before we took it;
			 * only the target's exit ends the loop */
			if (errno == EINTR ||
			    (errno == ENOENT &&
			     !waitid(P_PID, (id_t)pid, &si,
				     WEXITED | WNOHANG | WNOWAIT) &&
			     si.si_pid == 0))
				continue;
			break;		/* the target is gone */
		}
		if (mode == 1) {
			struct iovec l = { arg, sizeof(arg) };
			struct iovec r = { (void *)(uintptr_t)req->data.args[2],
					   sizeof(arg) };

			if (process_vm_readv(pid, &l, 1, &r, 1, 0) < 0)
				abort();
		}
		if (req->data.args[0] == TRAP_FD_ADDFD) {
			struct seccomp_notif_addfd af = {
				.id = req->id,
				.flags = SECCOMP_ADDFD_FLAG_SEND,
				.srcfd = (uint32_t)plain,
				.newfd_flags = O_CLOEXEC,
			};

			if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_ADDFD, &af) >= 0)
				continue;
		}
		memset(resp, 0, sz.seccomp_notif_resp);
		resp->id = req->id;
		ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, resp);
	}
	free(req);
	free(resp);
	close(plain);
}

static void probe_seccomp(void)
{
	int sv[2], lfd;
	double res[3];
	const char *names[3] = {
		"seccomp-trapped ioctl, answered at once",
		"seccomp-trapped ioctl, server reads 64 B of its argument",
		"seccomp-trapped ioctl, server installs a fd (ADDFD)",
	};

	seccomp_mode = mmap(NULL, sizeof(*seccomp_mode), PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (seccomp_mode == MAP_FAILED ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		skip(names[0], strerror(errno));
		return;
	}
	child_pid = fork();
	if (child_pid == 0) {
		close(sv[0]);
		seccomp_target(sv[1], 3000 / scale);
	}
	close(sv[1]);
	lfd = recv_fd(sv[0]);
	if (lfd >= 0) {
		seccomp_supervise(lfd, sv[0], child_pid);
		close(lfd);
	}
	if (read(sv[0], res, sizeof(res)) != sizeof(res)) {
		skip(names[0], "the target died");
	} else {
		for (int v = 0; v < 3; v++) {
			if (res[v] >= 0)
				report(names[v], res[v]);
			else if (res[v] == -1)
				skip(names[v], "not reached");
			else
				skip(names[v], strerror((int)-res[v]));
		}
	}
	close(sv[0]);
	waitpid(child_pid, NULL, 0);
	child_pid = 0;
	munmap(seccomp_mode, sizeof(*seccomp_mode));
}

/* ------------------------------------------------------------------ */
/* Reaching another process's memory                                    */
/* ------------------------------------------------------------------ */

static char *remote_buf;		/* same address in the child */
static int mem_fd;
static size_t xfer_len;
static char local_buf[4096];

static void do_pvr_remote(void *a)
{
	struct iovec l = { local_buf, xfer_len }, r = { remote_buf, xfer_len };

	(void)a;
	if (process_vm_readv(child_pid, &l, 1, &r, 1, 0) != (ssize_t)xfer_len)
		abort();
}

static void do_pvw_remote(void *a)
{
	struct iovec l = { local_buf, xfer_len }, r = { remote_buf, xfer_len };

	(void)a;
	if (process_vm_writev(child_pid, &l, 1, &r, 1, 0) != (ssize_t)xfer_len)
		abort();
}

static void do_mem_read(void *a)
{
	(void)a;
	if (pread(mem_fd, local_buf, xfer_len, (off_t)(uintptr_t)remote_buf) !=
	    (ssize_t)xfer_len)
		abort();
}

static void do_mem_write(void *a)
{
	(void)a;
	if (pwrite(mem_fd, local_buf, xfer_len, (off_t)(uintptr_t)remote_buf) !=
	    (ssize_t)xfer_len)
		abort();
}

static int pidfd;
static int remote_fd_no;
static void do_pidfd_getfd(void *a)
{
	int fd = (int)syscall(SYS_pidfd_getfd, pidfd, remote_fd_no, 0);

	(void)a;
	if (fd < 0)
		abort();
	close(fd);
}

static void probe_remote_memory(void)
{
	static const size_t sizes[] = { 8, 64, 4096 };
	char path[64], what[96];
	int pfd[2];

	remote_buf = aligned_alloc(4096, 4096);
	memset(remote_buf, 7, 4096);
	if (pipe2(pfd, O_CLOEXEC))
		return;
	child_pid = fork();
	if (child_pid == 0) {
		char c;

		close(pfd[1]);
		if (read(pfd[0], &c, 1) == 1) {
			/* exec something that lingers: the mem fd opened
			 * before must now read nothing */
			execl("/bin/sleep", "sleep", "2", (char *)NULL);
		}
		_exit(0);
	}
	close(pfd[0]);

	for (size_t i = 0; i < 3; i++) {
		struct iovec l = { local_buf, 8 }, r = { remote_buf, 8 };

		xfer_len = sizes[i];
		if (i == 0 && process_vm_readv(child_pid, &l, 1, &r, 1, 0) < 0) {
			skip("process_vm_readv to another process",
			     strerror(errno));
			break;
		}
		snprintf(what, sizeof(what),
			 "process_vm_readv of another process, %zu B", xfer_len);
		report(what, measure(do_pvr_remote, NULL, 20000));
		snprintf(what, sizeof(what),
			 "process_vm_writev to another process, %zu B", xfer_len);
		report(what, measure(do_pvw_remote, NULL, 20000));
	}

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)child_pid);
	mem_fd = open(path, O_RDWR | O_CLOEXEC);
	if (mem_fd < 0) {
		skip("/proc/<pid>/mem", strerror(errno));
	} else {
		for (size_t i = 0; i < 3; i++) {
			xfer_len = sizes[i];
			snprintf(what, sizeof(what),
				 "/proc/<pid>/mem pread, %zu B", xfer_len);
			report(what, measure(do_mem_read, NULL, 20000));
			snprintf(what, sizeof(what),
				 "/proc/<pid>/mem pwrite, %zu B", xfer_len);
			report(what, measure(do_mem_write, NULL, 20000));
		}
	}

	pidfd = (int)syscall(SYS_pidfd_open, child_pid, 0);
	if (pidfd < 0) {
		skip("pidfd_open", strerror(errno));
	} else {
		int fd;

		remote_fd_no = 0;	/* the child's stdin */
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, remote_fd_no, 0);
		if (fd < 0) {
			skip("pidfd_getfd", strerror(errno));
		} else {
			close(fd);
			report("pidfd_getfd + close of one of its fds",
			       measure(do_pidfd_getfd, NULL, 20000));
		}
	}

	/* Exec, then exit: what a server holding the mem fd sees. */
	if (mem_fd >= 0) {
		char c = 'x';
		ssize_t n;

		if (write(pfd[1], &c, 1) != 1)
			abort();
		close(pfd[1]);
		usleep(200000);	/* the exec happens meanwhile */
		n = pread(mem_fd, local_buf, 8, (off_t)(uintptr_t)remote_buf);
		snprintf(what, sizeof(what), "%zd bytes (%s)", n,
			 n < 0 ? strerror(errno) : "the old mm is gone");
		note("/proc/<pid>/mem opened before, read after exec", what);
		kill(child_pid, SIGKILL);
		waitpid(child_pid, NULL, 0);
		n = pread(mem_fd, local_buf, 8, (off_t)(uintptr_t)remote_buf);
		snprintf(what, sizeof(what), "%zd bytes%s%s", n,
			 n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
		note("/proc/<pid>/mem read after the process exited", what);
		close(mem_fd);
	} else {
		close(pfd[1]);
	}
	if (pidfd >= 0) {
		int fd = (int)syscall(SYS_pidfd_getfd, pidfd, 0, 0);

		snprintf(what, sizeof(what), "%s",
			 fd < 0 ? strerror(errno) : "works");
		note("pidfd_getfd after the process exited", what);
		if (fd >= 0)
			close(fd);
		close(pidfd);
	}
	child_reap();
	free(remote_buf);
}

/* ------------------------------------------------------------------ */
/* Sharing memory                                                       */
/* ------------------------------------------------------------------ */

static int memfd_sock;
static int memfd_one;
static void do_memfd_send(void *a)
{
	char c;

	(void)a;
	if (send_fd(memfd_sock, memfd_one) || read(memfd_sock, &c, 1) != 1)
		abort();
}

static void probe_memfd_send(void)
{
	int sv[2];

	memfd_one = memfd_create("bench", MFD_CLOEXEC);
	if (memfd_one < 0 || ftruncate(memfd_one, 4096)) {
		skip("memfd + SCM_RIGHTS", strerror(errno));
		return;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return;
	child_pid = fork();
	if (child_pid == 0) {
		close(sv[0]);
		for (;;) {
			int fd = recv_fd(sv[1]);
			char *p;

			if (fd < 0)
				_exit(0);
			p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				 MAP_SHARED, fd, 0);
			if (p == MAP_FAILED)
				_exit(1);
			p[0]++;
			munmap(p, 4096);
			close(fd);
			if (write(sv[1], "k", 1) != 1)
				_exit(1);
		}
	}
	close(sv[1]);
	memfd_sock = sv[0];
	report("memfd sent by SCM_RIGHTS, mapped, touched, unmapped",
	       measure(do_memfd_send, NULL, 3000));
	close(sv[0]);
	close(memfd_one);
	child_reap();
}

static char *shared_area;
static void do_mremap_alias(void *a)
{
	void *p = mremap(shared_area, 0, 4096, MREMAP_MAYMOVE);

	(void)a;
	if (p == MAP_FAILED)
		abort();
	munmap(p, 4096);
}

static void probe_aliases(void)
{
	int fd = memfd_create("bench", MFD_CLOEXEC);
	void *p;
	char what[96];

	if (fd < 0 || ftruncate(fd, 4096)) {
		skip("mremap(old_size=0)", strerror(errno));
		return;
	}
	shared_area = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
			   fd, 0);
	if (shared_area == MAP_FAILED)
		return;
	p = mremap(shared_area, 0, 4096, MREMAP_MAYMOVE);
	if (p == MAP_FAILED) {
		skip("mremap(old_size=0) alias", strerror(errno));
	} else {
		munmap(p, 4096);
		report("mremap(old_size=0) alias of shared memory + munmap",
		       measure(do_mremap_alias, NULL, 20000));
	}
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED_VALIDATE, fd, 0);
	snprintf(what, sizeof(what), "%s",
		 p == MAP_FAILED ? strerror(errno) : "accepted");
	note("MAP_SHARED_VALIDATE of a memfd", what);
	if (p != MAP_FAILED)
		munmap(p, 4096);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED_VALIDATE | 0x800000, fd, 0);
	snprintf(what, sizeof(what), "%s",
		 p == MAP_FAILED ? strerror(errno) : "accepted (!)");
	note("MAP_SHARED_VALIDATE with an unknown flag", what);
	if (p != MAP_FAILED)
		munmap(p, 4096);
	snprintf(what, sizeof(what), "%d mappings per process",
		 (int)sysconf(_SC_PAGESIZE) > 0 ? 65530 : 0);
	{
		FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
		int mc = 0;

		if (f) {
			if (fscanf(f, "%d", &mc) != 1)
				mc = 0;
			fclose(f);
		}
		snprintf(what, sizeof(what), "%d mappings per process", mc);
	}
	note("vm.max_map_count", what);
	munmap(shared_area, 4096);
	close(fd);
}

static void probe_userfaultfd(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	struct uffdio_api api = { .api = UFFD_API };
	char what[96];

	if (fd < 0) {
		snprintf(what, sizeof(what), "refused: %s", strerror(errno));
	} else if (ioctl(fd, UFFDIO_API, &api)) {
		snprintf(what, sizeof(what), "UFFDIO_API refused: %s",
			 strerror(errno));
	} else {
		snprintf(what, sizeof(what), "available, features 0x%llx",
			 (unsigned long long)api.features);
	}
	note("userfaultfd(UFFD_USER_MODE_ONLY)", what);
	if (fd >= 0)
		close(fd);
	note("/dev/cuse", access("/dev/cuse", F_OK) ? "absent" : "present");
}

/* map_files needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN: try as we are
 * and, when we are root, in a child that dropped to nobody. */
static void probe_map_files(void)
{
	int fd = memfd_create("bench", MFD_CLOEXEC);
	char *p, path[96], what[96];
	int r;

	if (fd < 0 || ftruncate(fd, 4096))
		return;
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return;
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
		 (unsigned long)(uintptr_t)p, (unsigned long)(uintptr_t)p + 4096);
	r = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(what, sizeof(what), "%s", r < 0 ? strerror(errno) : "opens");
	note("/proc/self/map_files open, as this user", what);
	if (r >= 0)
		close(r);
	if (geteuid() == 0) {
		pid_t c = fork();
		int st;

		if (c == 0) {
			if (setgid(65534) || setuid(65534))
				_exit(2);
			r = open(path, O_RDONLY | O_CLOEXEC);
			_exit(r < 0 ? 1 : 0);
		}
		waitpid(c, &st, 0);
		note("/proc/self/map_files open, as nobody",
		     WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "opens" :
		     WIFEXITED(st) && WEXITSTATUS(st) == 1 ? "refused" :
		     "could not drop to nobody");
	}
	munmap(p, 4096);
	close(fd);
}

/* ------------------------------------------------------------------ */
/* Fault-safe copies: a fix-up copy against process_vm_readv on self    */
/* ------------------------------------------------------------------ */

#ifdef __x86_64__
/* rep movsb whose fault resumes at the fix-up, returning -EFAULT. */
__asm__(".text\n"
	".p2align 4\n"
	".type bench_fs_copy, @function\n"
	"bench_fs_copy:\n"
	"\tmovq %rdx, %rcx\n"
	".globl bench_fs_copy_insn\n"
	"bench_fs_copy_insn:\n"
	"\trep movsb\n"
	"\txorl %eax, %eax\n"
	"\tret\n"
	".globl bench_fs_copy_fixup\n"
	"bench_fs_copy_fixup:\n"
	"\tmovl $-14, %eax\n"
	"\tret\n"
	".size bench_fs_copy, .-bench_fs_copy\n");
int bench_fs_copy(void *dst, const void *src, size_t n);
extern const char bench_fs_copy_insn[], bench_fs_copy_fixup[];

static void fixup_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)si;
	if (uc->uc_mcontext.gregs[REG_RIP] ==
	    (greg_t)(uintptr_t)bench_fs_copy_insn) {
		uc->uc_mcontext.gregs[REG_RIP] =
			(greg_t)(uintptr_t)bench_fs_copy_fixup;
		return;
	}
	signal(sig, SIG_DFL);
}

static char copy_src[4096], copy_dst[4096];
static char *bad_page;

static void do_fs_copy(void *a)
{
	(void)a;
	if (bench_fs_copy(copy_dst, copy_src, xfer_len))
		abort();
}

static void do_fs_copy_fault(void *a)
{
	(void)a;
	if (bench_fs_copy(copy_dst, bad_page, 8) != -EFAULT)
		abort();
}

static void do_memcpy(void *a)
{
	(void)a;
	memcpy(copy_dst, copy_src, xfer_len);
	__asm__ volatile("" ::: "memory");
}

static void do_pvr_self(void *a)
{
	struct iovec l = { copy_dst, xfer_len }, r = { copy_src, xfer_len };

	(void)a;
	if (process_vm_readv(getpid(), &l, 1, &r, 1, 0) != (ssize_t)xfer_len)
		abort();
}

static void probe_copies(void)
{
	static const size_t sizes[] = { 8, 64, 4096 };
	struct sigaction sa, old_segv, old_bus;
	char what[96];

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fixup_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	for (size_t i = 0; i < 3; i++) {
		xfer_len = sizes[i];
		snprintf(what, sizeof(what), "memcpy, %zu B (no fault safety)",
			 xfer_len);
		report(what, measure(do_memcpy, NULL, 200000));
		snprintf(what, sizeof(what), "fix-up copy (rep movsb), %zu B",
			 xfer_len);
		report(what, measure(do_fs_copy, NULL, 200000));
		snprintf(what, sizeof(what), "process_vm_readv on self, %zu B",
			 xfer_len);
		report(what, measure(do_pvr_self, NULL, 20000));
	}
	bad_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (bad_page != MAP_FAILED) {
		report("fix-up copy that faults (SIGSEGV, fix-up, -EFAULT)",
		       measure(do_fs_copy_fault, NULL, 5000));
		munmap(bad_page, 4096);
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
}
#else
static void probe_copies(void)
{
	skip("fix-up copy", "the fix-up routine is written for x86-64");
}
#endif

/* ------------------------------------------------------------------ */
/* Reading /proc/self/maps with N mappings                              */
/* ------------------------------------------------------------------ */

static char *maps_buf;
static size_t maps_cap;
static void do_read_maps(void *a)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	size_t len = 0;

	(void)a;
	if (fd < 0)
		abort();
	while ((n = read(fd, maps_buf + len, maps_cap - len)) > 0)
		len += (size_t)n;
	close(fd);
}

#ifdef PROCMAP_QUERY
/* One VMA by address, without reading the whole file (Linux 6.11+). */
static int maps_fd;
static uint64_t query_addr;
static int do_query_once(void)
{
	struct procmap_query q = { .size = sizeof(q),
				   .query_addr = query_addr };

	return ioctl(maps_fd, PROCMAP_QUERY, &q);
}

static void do_query(void *a)
{
	(void)a;
	if (do_query_once())
		abort();
}
#endif

static void probe_maps(void)
{
	static const long counts[] = { 64, 1024, 16384 };
	long page = sysconf(_SC_PAGESIZE);
	char what[96];

	maps_cap = 64 << 20;
	maps_buf = mmap(NULL, maps_cap, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (maps_buf == MAP_FAILED)
		return;
	for (size_t i = 0; i < 3; i++) {
		long n = counts[i];
		size_t len = (size_t)(2 * n * page);
		char *area = mmap(NULL, len, PROT_READ,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		long made = 0;

		if (area == MAP_FAILED)
			break;
		/* every other page writable: n extra mappings that cannot
		 * merge */
		for (long k = 0; k < n; k++, made++)
			if (mprotect(area + 2 * k * page, (size_t)page,
				     PROT_READ | PROT_WRITE))
				break;
		snprintf(what, sizeof(what),
			 "read /proc/self/maps with ~%ld extra mappings", made);
		report(what, measure(do_read_maps, NULL, n > 4096 ? 20 : 400));
#ifdef PROCMAP_QUERY
		query_addr = (uint64_t)(uintptr_t)(area + n * page);
		maps_fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
		if (maps_fd >= 0 && do_query_once() == 0) {
			snprintf(what, sizeof(what),
				 "PROCMAP_QUERY of one address, ~%ld mappings",
				 made);
			report(what, measure(do_query, NULL, 20000));
		} else {
			skip("PROCMAP_QUERY", strerror(errno));
		}
		if (maps_fd >= 0)
			close(maps_fd);
#else
		skip("PROCMAP_QUERY", "not in this system's <linux/fs.h>");
#endif
		munmap(area, len);
	}
	munmap(maps_buf, maps_cap);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "-q"))
		scale = 10;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("bench_ipc: cost of one call (median of %d runs), and its ratio "
	       "to one getppid()\n", RUNS);
	floor_us = measure(do_getppid, NULL, 200000);
	report("getppid() system call (the floor)", floor_us);

	printf("per-call probes of an ioctl, and a cached value\n");
	report("getpid() (raw system call)", measure(do_getpid, NULL, 200000));
	report("capget()", measure(do_capget, NULL, 200000));
	report("prlimit(RLIMIT_MEMLOCK)", measure(do_prlimit, NULL, 200000));
	report("a cached value (acquire load)",
	       measure(do_cached, NULL, 2000000));

	printf("a request to a server process\n");
	probe_socket();
	probe_slot(20000, "shared-memory slot, spin then futex");
	probe_slot(0, "shared-memory slot, futex only (no spin)");
	probe_seccomp();

	printf("reaching another process\n");
	probe_remote_memory();

	printf("sharing memory\n");
	probe_memfd_send();
	probe_aliases();
	probe_map_files();
	probe_userfaultfd();

	printf("fault-safe copies in-process\n");
	probe_copies();

	printf("the maps file\n");
	probe_maps();
	return 0;
}
