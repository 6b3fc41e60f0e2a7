/*
 * The shared mode end to end: a plain program run under
 * `softiommu run --shared` (docs/process-model.md).  One /dev/iommu
 * context is shared by fork children, by a program exec'd with the fd
 * inherited and by a process that receives the fd over a unix socket, as
 * the kernel's is; memory one process mapped stays reachable by DMA after
 * it unmapped its view and exited; a client killed in the middle of its
 * ioctls disturbs nobody.
 *
 *   shim_shared                 the cases above
 *   shim_shared --kill-server   kill the server (the launcher), then every
 *                               ioctl must fail with EIO, promptly
 *   shim_shared --send-warning  send an emulated fd: in-process, one line
 *                               on stderr says it is not shared
 *   shim_shared --exec-child FD IOAS   (internal) destroy IOAS through FD
 *
 * Ends with "N passed, M failed".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/iommufd_test.h"
#include "shim_check.h"

static int ioas_alloc(int fd, uint32_t *id)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	int rc = ioctl(fd, IOMMU_IOAS_ALLOC, &a);

	*id = a.out_ioas_id;
	return rc;
}

static int destroy(int fd, uint32_t id)
{
	struct iommu_destroy d = { .size = sizeof(d), .id = id };

	return ioctl(fd, IOMMU_DESTROY, &d);
}

static int map_fixed(int fd, uint32_t ioas, void *buf, size_t len,
		     uint64_t iova)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)buf,
		.length = len,
		.iova = iova,
	};

	return ioctl(fd, IOMMU_IOAS_MAP, &m);
}

static int mock_domain(int fd, uint32_t ioas)
{
	struct iommu_test_cmd c = { .size = sizeof(c),
				    .op = IOMMU_TEST_OP_MOCK_DOMAIN,
				    .id = ioas };

	return ioctl(fd, IOMMU_TEST_CMD, &c);
}

static int create_access(int fd, uint32_t ioas)
{
	struct iommu_test_cmd c = { .size = sizeof(c),
				    .op = IOMMU_TEST_OP_CREATE_ACCESS,
				    .id = ioas };

	if (ioctl(fd, IOMMU_TEST_CMD, &c))
		return -1;
	return (int)c.create_access.out_access_fd;
}

/* Read len bytes at iova through the access object (DMA, as a device). */
static int access_read(int fd, int access, uint64_t iova, void *buf,
		       size_t len)
{
	struct iommu_test_cmd c = { .size = sizeof(c),
				    .op = IOMMU_TEST_OP_ACCESS_RW,
				    .id = (uint32_t)access };

	c.access_rw.iova = iova;
	c.access_rw.length = len;
	c.access_rw.uptr = (uintptr_t)buf;
	return ioctl(fd, IOMMU_TEST_CMD, &c);
}

static int wait_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The kernel's example: one IOAS, destroyed once, whoever does it. */
static void test_fork_shares(void)
{
	uint32_t ioas, other;
	pid_t pid;
	int fd = open("/dev/iommu", O_RDWR);

	check(fd >= 0, "open /dev/iommu");
	check(ioas_alloc(fd, &ioas) == 0, "IOAS_ALLOC");
	pid = fork();
	if (pid == 0)
		_exit(destroy(fd, ioas) == 0 ? 0 : 1);
	check(wait_status(pid) == 0, "the child destroys the parent's IOAS");
	errno = 0;
	check(destroy(fd, ioas) == -1 && errno == ENOENT,
	      "the parent's second destroy is ENOENT");
	/* And the child's objects are the parent's. */
	pid = fork();
	if (pid == 0) {
		uint32_t id;

		_exit(ioas_alloc(fd, &id) == 0 ? (int)id : 255);
	}
	other = (uint32_t)wait_status(pid);
	check(other != 255 && destroy(fd, other) == 0,
	      "the parent destroys an IOAS its child made");
	/* The context outlives the parent's close while the child holds it. */
	check(ioas_alloc(fd, &ioas) == 0, "IOAS_ALLOC again");
	pid = fork();
	if (pid == 0) {
		usleep(100000);
		_exit(destroy(fd, ioas) == 0 ? 0 : 1);
	}
	check(close(fd) == 0, "the parent closes first");
	check(wait_status(pid) == 0, "the child still reaches the context");
}

static void test_errors(void)
{
	int fd = open("/dev/iommu", O_RDWR);
	struct iommu_destroy d = { .size = 4, .id = 0 };

	errno = 0;
	check(ioctl(fd, _IO(IOMMUFD_TYPE, 0x7f), 0) == -1 && errno == ENOTTY,
	      "an unknown command is ENOTTY");
	errno = 0;
	check(ioctl(fd, IOMMU_IOAS_ALLOC, (void *)8) == -1 && errno == EFAULT,
	      "a bad pointer is EFAULT");
	errno = 0;
	check(ioctl(fd, IOMMU_DESTROY, &d) == -1 && errno == EINVAL,
	      "a short size is EINVAL");
	errno = 0;
	check(destroy(fd, 12345) == -1 && errno == ENOENT,
	      "an unknown id is ENOENT");
	check(ioctl(fd, FIOCLEX) == 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC),
	      "FIOCLEX reaches the descriptor");
	close(fd);
}

static int send_fd(int sock, int fd)
{
	char c = 0, cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &c, 1 };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&h);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	return sendmsg(sock, &h, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &h, 0) != 1 || !(cm = CMSG_FIRSTHDR(&h)))
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

/*
 * An unrelated process (a child that opened nothing) receives the fd over
 * a unix socket, maps private memory of its own, reads it back through an
 * access object of its own, unmaps its view and exits; the parent's device
 * (mock domain, access object) still reads the same bytes.
 */
static void test_scm_rights_dma(void)
{
	const size_t len = 4 * 4096;
	uint64_t iova = MOCK_APERTURE_START;
	unsigned char got[4 * 4096];
	uint32_t ioas;
	int sv[2], fd, access;
	bool same = true;
	pid_t pid;

	check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	pid = fork();
	if (pid == 0) {
		uint32_t id;
		unsigned char *buf;
		int rfd;

		close(sv[0]);
		rfd = recv_fd(sv[1]);
		if (rfd < 0 || read(sv[1], &id, sizeof(id)) != sizeof(id))
			_exit(1);
		/* Private anonymous memory: unshared into a memfd. */
		buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		for (size_t i = 0; i < len; i++)
			buf[i] = (unsigned char)(i * 7 + 3);
		if (map_fixed(rfd, id, buf, len, iova))
			_exit(2);
		/* Its own device (an access object) reads what it mapped. */
		{
			unsigned char mine[64];
			int acc = create_access(rfd, id);

			if (acc < 0 || access_read(rfd, acc, iova, mine,
						   sizeof(mine)))
				_exit(3);
			for (size_t i = 0; i < sizeof(mine); i++)
				if (mine[i] != (unsigned char)(i * 7 + 3))
					_exit(4);
			close(acc);
		}
		munmap(buf, len);
		_exit(0);
	}
	close(sv[1]);
	fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	check(ioas_alloc(fd, &ioas) == 0, "IOAS_ALLOC");
	check(mock_domain(fd, ioas) == 0, "a mock domain on the IOAS");
	access = create_access(fd, ioas);
	check(access >= 0, "an access object");
	check(send_fd(sv[0], fd) == 0 &&
	      write(sv[0], &ioas, sizeof(ioas)) == sizeof(ioas),
	      "the fd goes to the other process");
	check(wait_status(pid) == 0, "the other process maps through it");
	memset(got, 0, sizeof(got));
	check(access_read(fd, access, iova, got, len) == 0,
	      "DMA after the mapping process unmapped its view and exited");
	for (size_t i = 0; i < len; i++)
		if (got[i] != (unsigned char)(i * 7 + 3))
			same = false;
	check(same, "the device reads the bytes the other process wrote");
	close(sv[0]);
	close(access);
	close(fd);
}

/* read, write and poll reach the server's files: /dev/iommu is always
 * readable and its read and write are EINVAL, as the kernel's; a fault
 * queue with nothing queued is not readable and reads 0 bytes. */
static void test_read_write_poll(void)
{
	struct iommu_fault_alloc fa = { .size = sizeof(fa) };
	int fd = open("/dev/iommu", O_RDWR), dfd;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct iommu_hwpt_pgfault pf;
	char b[64];

	errno = 0;
	check(read(fd, b, sizeof(b)) == -1 && errno == EINVAL,
	      "read of /dev/iommu is EINVAL");
	errno = 0;
	check(write(fd, b, sizeof(b)) == -1 && errno == EINVAL,
	      "write of /dev/iommu is EINVAL");
	check(poll(&p, 1, 1000) == 1 && (p.revents & POLLIN),
	      "/dev/iommu polls readable");
	errno = 0;
	check(pread(fd, b, sizeof(b), 8) == -1 && errno == ESPIPE,
	      "pread at a position is ESPIPE");
	errno = 0;
	check(pread(fd, b, sizeof(b), 0) == -1 && errno == EINVAL,
	      "pread at 0 is a read: EINVAL");
	{
		struct iovec v[2] = { { b, 8 }, { b + 8, 8 } };

		errno = 0;
		check(readv(fd, v, 2) == -1 && errno == EINVAL,
		      "readv is a read: EINVAL");
		errno = 0;
		check(writev(fd, v, 2) == -1 && errno == EINVAL,
		      "writev is a write: EINVAL");
	}
	dfd = dup(fd);
	errno = 0;
	check(dfd >= 0 && read(dfd, b, 1) == -1 && errno == EINVAL,
	      "read of a dup is the same file's");
	close(dfd);
	check(ioctl(fd, IOMMU_FAULT_QUEUE_ALLOC, &fa) == 0,
	      "IOMMU_FAULT_QUEUE_ALLOC");
	p.fd = (int)fa.out_fault_fd;
	check(poll(&p, 1, 50) == 0, "an empty fault queue is not readable");
	check(read(p.fd, &pf, sizeof(pf)) == 0,
	      "a read of an empty fault queue gives 0 bytes");
	errno = 0;
	check(read(p.fd, b, sizeof(pf) + 1) == -1 && errno == ESPIPE,
	      "a read of part of a record is ESPIPE");
	close(p.fd);
	close(fd);
}

/* A program exec'd with the fd inherited uses the same context. */
static void test_exec_inherited(const char *self)
{
	char fdarg[16], idarg[16];
	uint32_t ioas;
	pid_t pid;
	int fd = open("/dev/iommu", O_RDWR);	/* no O_CLOEXEC */

	check(ioas_alloc(fd, &ioas) == 0, "IOAS_ALLOC");
	snprintf(fdarg, sizeof(fdarg), "%d", fd);
	snprintf(idarg, sizeof(idarg), "%u", ioas);
	pid = fork();
	if (pid == 0) {
		execl(self, self, "--exec-child", fdarg, idarg, (char *)NULL);
		_exit(127);
	}
	check(wait_status(pid) == 0, "the exec'd program destroys the IOAS");
	errno = 0;
	check(destroy(fd, ioas) == -1 && errno == ENOENT,
	      "the IOAS is gone for the parent too");
	close(fd);
}

/* VmPin in /proc/<pid>/status, as the kernel shows it: kB pinned by that
 * process's mappings, whoever reads it. */
static long vm_pinned_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void test_vm_pin(void)
{
	const size_t len = 4 * 4096;
	pid_t parent = getpid(), pid;
	unsigned char *buf;
	long before;
	uint32_t ioas;
	int fd = open("/dev/iommu", O_RDWR);

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(buf, 1, len);
	check(ioas_alloc(fd, &ioas) == 0 && mock_domain(fd, ioas) == 0,
	      "an IOAS with a mock domain");
	before = vm_pinned_kb(parent);
	check(before >= 0, "VmPin is there");
	check(map_fixed(fd, ioas, buf, len, MOCK_APERTURE_START) == 0,
	      "map 16 KiB (pinned by the domain)");
	check(vm_pinned_kb(parent) == before + 16,
	      "VmPin grows by 16 kB (%ld -> %ld)", before,
	      vm_pinned_kb(parent));
	pid = fork();
	if (pid == 0)
		_exit(vm_pinned_kb(parent) == before + 16 &&
		      vm_pinned_kb(getpid()) == 0 ? 0 : 1);
	check(wait_status(pid) == 0,
	      "a child sees the parent's VmPin, and none of its own");
	{
		struct iommu_ioas_unmap u = { .size = sizeof(u), .ioas_id = ioas,
					      .iova = MOCK_APERTURE_START,
					      .length = len };

		check(ioctl(fd, IOMMU_IOAS_UNMAP, &u) == 0, "unmap");
	}
	check(vm_pinned_kb(parent) == before, "VmPin back to %ld", before);
	munmap(buf, len);
	close(fd);
}

/* A context with 16 KiB pinned, as fd; VmPin before it in *before. */
static int pinned_context(unsigned char *buf, size_t len, long *before)
{
	int fd = open("/dev/iommu", O_RDWR);
	uint32_t ioas;

	*before = vm_pinned_kb(getpid());
	if (fd < 0 || ioas_alloc(fd, &ioas) || mock_domain(fd, ioas) ||
	    map_fixed(fd, ioas, buf, len, MOCK_APERTURE_START))
		return -1;
	return fd;
}

/* dup2 over the last descriptor of a context, and close_range of it,
 * release it before they return, as close does (the kernel's last fput). */
static void test_release_on_replace(void)
{
	const size_t len = 4 * 4096;
	unsigned char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int null = open("/dev/null", O_RDONLY);
	long before;
	int fd;

	memset(buf, 2, len);
	fd = pinned_context(buf, len, &before);
	check(fd >= 0 && vm_pinned_kb(getpid()) == before + 16,
	      "a context pinning 16 KiB");
	check(dup2(null, fd) == fd, "dup2 over it");
	check(vm_pinned_kb(getpid()) == before,
	      "released when dup2 returns (%ld kB pinned)",
	      vm_pinned_kb(getpid()));
	close(fd);
	fd = pinned_context(buf, len, &before);
	check(fd >= 0 && close_range((unsigned int)fd, (unsigned int)fd, 0) == 0,
	      "close_range of it");
	check(vm_pinned_kb(getpid()) == before,
	      "released when close_range returns");
	close(null);
	munmap(buf, len);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

struct worker {
	pthread_t t;
	int fd;
	int failures;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 200; i++) {
		uint32_t id;

		if (ioas_alloc(w->fd, &id) || destroy(w->fd, id))
			w->failures++;
	}
	return NULL;
}

/* Threads share the context, each on its own connection, which goes when
 * the thread ends. */
static void test_threads(void)
{
	struct worker w[4];
	int fd = open("/dev/iommu", O_RDWR), before, failures = 0;
	uint32_t id;

	check(ioas_alloc(fd, &id) == 0 && destroy(fd, id) == 0,
	      "this thread's connection first");
	before = count_fds();
	for (int i = 0; i < 4; i++) {
		w[i].fd = fd;
		w[i].failures = 0;
		pthread_create(&w[i].t, NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(w[i].t, NULL);
		failures += w[i].failures;
	}
	check(failures == 0, "4 threads x 200 IOAS_ALLOC + DESTROY (%d failed)",
	      failures);
	check(count_fds() == before,
	      "the threads' connections went with them (%d fds, %d before)",
	      count_fds(), before);
	close(fd);
}

/* A client killed while it runs ioctls: the others carry on. */
static void test_kill_client(void)
{
	int fd = open("/dev/iommu", O_RDWR);
	uint32_t ioas;
	pid_t pid = fork();

	if (pid == 0) {
		for (;;) {
			uint32_t id;

			if (ioas_alloc(fd, &id) == 0)
				destroy(fd, id);
		}
	}
	usleep(50000);
	kill(pid, SIGKILL);
	check(wait_status(pid) == 128 + SIGKILL, "the client was killed");
	check(ioas_alloc(fd, &ioas) == 0 && destroy(fd, ioas) == 0,
	      "the context still works after a client died in it");
	close(fd);
}

/* The server goes: every ioctl fails with EIO, none hangs. */
static int kill_server(void)
{
	int fd = open("/dev/iommu", O_RDWR);
	const char *spid = getenv("SOFTIOMMU_SHARED_PID");
	uint32_t ioas;

	check(fd >= 0 && ioas_alloc(fd, &ioas) == 0, "IOAS_ALLOC");
	check(spid && kill((pid_t)atoi(spid), SIGKILL) == 0, "kill the server");
	usleep(100000);
	alarm(10);
	errno = 0;
	check(ioas_alloc(fd, &ioas) == -1 && errno == EIO, "ioctl: EIO");
	errno = 0;
	check(open("/dev/iommu", O_RDWR) == -1 && errno == EIO, "open: EIO");
	return shim_check_done();
}

/* In-process (plain softiommu run): sending an emulated fd says once on
 * stderr that it is not shared; a bad msghdr is still the kernel's EFAULT.
 * The caller counts the lines. */
static int send_warning(void)
{
	int sv[2], fd = open("/dev/iommu", O_RDWR);

	check(fd >= 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0,
	      "an fd and a socket pair");
	check(send_fd(sv[0], fd) == 0 && send_fd(sv[0], fd) == 0,
	      "the fd sent twice");
	errno = 0;
	check(sendmsg(sv[0], (const struct msghdr *)8, 0) == -1 &&
	      errno == EFAULT, "a bad msghdr is EFAULT");
	return shim_check_done();
}

/* A map of more pieces than one message carries (40 VMAs of alternating
 * protections), pinned at once by a mock domain and read back through the
 * pins by a child; a writable map of read-only memory is refused at pin
 * time, as the kernel refuses it. */
static void test_many_pieces(void)
{
	const size_t page = 4096, npages = 40, len = npages * page;
	struct iommu_ioas_map m = { .size = sizeof(m),
				    .flags = IOMMU_IOAS_MAP_FIXED_IOVA |
					     IOMMU_IOAS_MAP_READABLE,
				    .length = len, .iova = MOCK_APERTURE_START };
	unsigned char *buf;
	uint32_t ioas;
	int fd = open("/dev/iommu", O_RDWR), ok = 1;
	pid_t pid;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fd < 0 || buf == MAP_FAILED || ioas_alloc(fd, &ioas) ||
	    mock_domain(fd, ioas)) {
		check(0, "many pieces: setup");
		return;
	}
	for (size_t i = 0; i < npages; i++)
		memset(buf + i * page, (int)(i + 1), page);
	for (size_t i = 1; i < npages; i += 2)
		ok &= !mprotect(buf + i * page, page, PROT_READ);
	check(ok, "mprotect every other page");
	m.ioas_id = ioas;
	m.user_va = (uintptr_t)buf;
	check(ioctl(fd, IOMMU_IOAS_MAP, &m) == 0,
	      "a map of %zu pieces pins at once", npages);
	m.flags |= IOMMU_IOAS_MAP_WRITEABLE;
	m.iova = MOCK_APERTURE_START + 0x800000;
	errno = 0;
	check(ioctl(fd, IOMMU_IOAS_MAP, &m) == -1 && errno == EFAULT,
	      "a writable map of read-only pages: EFAULT");
	pid = fork();
	if (pid == 0) {
		unsigned char *back = malloc(len);
		int access = create_access(fd, ioas), bad = 0;

		if (!back || access < 0 ||
		    access_read(fd, access, MOCK_APERTURE_START, back, len))
			_exit(2);
		for (size_t i = 0; i < npages; i++)
			bad |= back[i * page] != i + 1 ||
			       back[i * page + page - 1] != i + 1;
		_exit(bad);
	}
	check(wait_status(pid) == 0, "the child reads all the pieces back");
	close(fd);
	munmap(buf, len);
}

/* Fault injection reaches the ops in the server: the copy-in and the
 * copy-out of FAULT_QUEUE_ALLOC fail in turn (fail-nth counts user copies
 * by default); the queue whose fd the program never learnt is released
 * before the ioctl returns, and the server serves on. */
static void test_fail_nth(void)
{
	struct iommu_fault_alloc fa = { .size = sizeof(fa) };
	char path[64], v[16];
	int fd = open("/dev/iommu", O_RDWR), nth, n, rc, efault = 0;
	uint32_t ioas;

	snprintf(path, sizeof(path), "/proc/self/task/%d/fail-nth", gettid());
	nth = open(path, O_RDWR);
	if (fd < 0 || nth < 0) {
		check(0, "fail-nth: open");
		return;
	}
	for (n = 1; n < 20; n++) {
		snprintf(v, sizeof(v), "%d", n);
		if (pwrite(nth, v, strlen(v), 0) < 0)
			break;
		rc = ioctl(fd, IOMMU_FAULT_QUEUE_ALLOC, &fa);
		if (rc == 0)
			break;
		efault += errno == EFAULT;
		memset(v, 0, sizeof(v));
		check(pread(nth, v, sizeof(v) - 1, 0) > 0 && v[0] == '0',
		      "fail-nth %d: the countdown came back spent", n);
	}
	check(n >= 3 && efault == n - 1,
	      "the copies in the server fail in turn (%d sites)", n - 1);
	check(pwrite(nth, "0", 1, 0) == 1 && ioas_alloc(fd, &ioas) == 0,
	      "the server serves on");
	close((int)fa.out_fault_fd);
	close(nth);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--exec-child"))
		return destroy(atoi(argv[2]), (uint32_t)atoi(argv[3])) ? 1 : 0;
	if (argc == 2 && !strcmp(argv[1], "--kill-server"))
		return kill_server();
	if (argc == 2 && !strcmp(argv[1], "--send-warning"))
		return send_warning();
	alarm(60);
	test_fork_shares();
	test_errors();
	test_scm_rights_dma();
	test_read_write_poll();
	test_vm_pin();
	test_release_on_replace();
	test_many_pieces();
	test_fail_nth();
	test_threads();
	test_exec_inherited(argv[0]);
	test_kill_client();
	return shim_check_done();
}
