/*
 * The shim's side of the shared mode (docs/process-model.md): in a
 * `softiommu run --shared` tree, /dev/iommu and the VFIO files live in the
 * launcher, and this process holds the client end of a unix socket for
 * each.  A VFIO BAR mapping is trapping pages of this process whose
 * accesses are forwarded one by one; pread/pwrite of regions are
 * positioned requests; the fail-nth countdown travels with each request.
 *
 * Nothing here keeps a table of those descriptors: fork, dup, exec and
 * SCM_RIGHTS copy them as the kernel copies any file, so an ioctl on a
 * descriptor asks the kernel what it is (fstat, then SO_PEERCRED: a socket
 * whose peer is the server) and names the file by its inode.  That is how
 * a descriptor inherited across exec, or received from another process of
 * the tree, is adopted; and a close needs no hook, since the server sees
 * the last one as end-of-file on its end.
 *
 * Each thread talks to the server on its own connection, made at its
 * first request: HELLO carries this process's /proc/self/mem (opened on
 * ourselves, so no ptrace permission is involved) and a token that names
 * the process (new after fork and exec).  The ioctl's argument pointer is
 * sent as it is: the server reads and writes the argument struct, and
 * whatever it points to, through that descriptor (one pread or pwrite,
 * 0.3 us, beside a 3 us or longer round trip: cheaper than teaching the
 * shim every command's layout).  Before IOMMU_IOAS_MAP (and the VFIO
 * compatibility MAP_DMA) the range is made memfd-backed here, as the
 * in-process pin does (src/umem/self.c: private memory is unshared into a
 * memfd), and the files and offsets travel with the request, so the
 * server can map the same pages (the pinning promise).
 *
 * If the server has gone, every request fails with EIO (one line on
 * stderr per process); nothing waits for it.
 *
 * Locks: conns_lock protects the list of this process's connection
 * descriptors (closed in a fork child); fork holds it across the fork.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "softiommu/uapi/iommufd.h"
#include "softiommu/uapi/vfio_compat.h"
#include "softiommu/fault_inject.h"
#include "softiommu/mmio.h"
#include "softiommu/umem.h"
#include "file/private_fd.h"
#include "preload/shared.h"
#include "shared/proto.h"
#include "umem/self.h"
#include "umem/umem.h"
#include "util/sys.h"

static pthread_once_t shared_once = PTHREAD_ONCE_INIT;
static bool shared_enabled;
static pid_t server_pid;
static struct sockaddr_un server_addr;
static socklen_t server_addr_len;

/* The process's token and generation: new in a fork child. */
static uint64_t proc_token;
static unsigned int proc_gen;

static _Thread_local int conn_fd = -1;
static _Thread_local unsigned int conn_gen;

#define MAX_CONNS 256
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static int conns[MAX_CONNS];		/* conns_lock */
static unsigned int nconns;		/* conns_lock */
static pthread_key_t conn_key;

static bool server_gone_told;

/* Descriptors this process has seen to be files of the server: read and
 * write check this bit before asking the kernel what the fd is, so other
 * descriptors pay one load.  A set bit is a hint, checked every time. */
#define MARK_MAX 65536
static uint64_t marks[MARK_MAX / 64];	/* atomic */

static void mark(int fd, bool on)
{
	if (fd < 0 || fd >= MARK_MAX)
		return;
	if (on)
		__atomic_or_fetch(&marks[fd / 64], 1ull << (fd % 64),
				  __ATOMIC_RELAXED);
	else
		__atomic_and_fetch(&marks[fd / 64], ~(1ull << (fd % 64)),
				   __ATOMIC_RELAXED);
}

static bool marked(int fd)
{
	return fd >= 0 && fd < MARK_MAX &&
	       (__atomic_load_n(&marks[fd / 64], __ATOMIC_RELAXED) >>
		(fd % 64)) & 1;
}

static void new_token(void)
{
	if (getrandom(&proc_token, sizeof(proc_token), GRND_NONBLOCK) !=
	    sizeof(proc_token))
		proc_token ^= ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&proc_token;
}

static void conns_remove(int fd)
{
	pthread_mutex_lock(&conns_lock);
	for (unsigned int i = 0; i < nconns; i++)
		if (conns[i] == fd) {
			conns[i] = conns[--nconns];
			break;
		}
	pthread_mutex_unlock(&conns_lock);
}

/* A thread ends: its connection goes. */
static void conn_destroy(void *p)
{
	int fd = (int)(intptr_t)p - 1;

	if (fd >= 0 && conn_gen == proc_gen) {
		conns_remove(fd);
		sio_fd_private_close(fd);
	}
	conn_fd = -1;
}

static void maps_lock_fork(bool lock);
static void maps_fork_prepare(void);
static void maps_fork_child(uint64_t parent_token);

static void fork_prepare(void)
{
	maps_fork_prepare();
	pthread_mutex_lock(&conns_lock);
	maps_lock_fork(true);
}

static void fork_parent(void)
{
	maps_lock_fork(false);
	pthread_mutex_unlock(&conns_lock);
}

/* The child is a new client process: its copies of the parent's
 * connections go, and so does its token. */
static void fork_child(void)
{
	static int parent_conns[MAX_CONNS];
	unsigned int n = nconns;
	uint64_t parent_token = proc_token;

	memcpy(parent_conns, conns, sizeof(conns[0]) * n);
	nconns = 0;
	proc_gen++;
	conn_fd = -1;
	pthread_setspecific(conn_key, NULL);
	new_token();
	maps_lock_fork(false);
	pthread_mutex_unlock(&conns_lock);
	/* The parent's connections go after the child has taken its holds:
	 * while our copies are open, the parent's record lives on in the
	 * server, with the holds it set aside for us. */
	maps_fork_child(parent_token);
	for (unsigned int i = 0; i < n; i++)
		sio_fd_private_close(parent_conns[i]);
}

static void shared_init(void)
{
	const char *addr = getenv(SIO_SHARED_ADDR_ENV);
	const char *pid = getenv(SIO_SHARED_PID_ENV);
	size_t len;

	if (!addr || !*addr || !pid || !*pid)
		return;
	len = strlen(addr);
	if (len + 1 >= sizeof(server_addr.sun_path))
		return;
	server_addr.sun_family = AF_UNIX;
	memcpy(server_addr.sun_path + 1, addr, len);
	server_addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				      1 + len);
	server_pid = (pid_t)atol(pid);
	new_token();
	pthread_key_create(&conn_key, conn_destroy);
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	shared_enabled = server_pid > 0;
}

bool sio_shared_on(void)
{
	pthread_once(&shared_once, shared_init);
	return shared_enabled;
}

/* ------------------------------------------------------------------ */
/* Messages                                                             */
/* ------------------------------------------------------------------ */

static int send_msg(int sock, const struct sio_shared_msg *m, const int *fds,
		    unsigned int nfds)
{
	return sio_shared_send(sock, m, fds, nfds);
}

/* A message and at most one descriptor (*fd, or -1). */
static int recv_msg(int sock, struct sio_shared_msg *m, int *fd, bool cloexec)
{
	*fd = -1;
	return sio_shared_recv(sock, m, fd, 1, NULL, cloexec);
}

static long server_gone(void)
{
	if (!__atomic_exchange_n(&server_gone_told, true, __ATOMIC_RELAXED))
		fprintf(stderr, "softiommu: the shared /dev/iommu server exited\n");
	return -EIO;
}

/* This thread's connection, made (with HELLO) on first use. */
static int conn_get(void)
{
	struct sio_shared_msg m = { .op = SIO_SHARED_HELLO };
	int s, mem;

	if (conn_fd >= 0 && conn_gen == proc_gen)
		return conn_fd;
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&server_addr, server_addr_len)) {
		sio_sys_close(s);
		return -EIO;
	}
	mem = sio_sys_open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	if (mem < 0) {
		sio_sys_close(s);
		return -EIO;
	}
	m.token = proc_token;
	if (send_msg(s, &m, &mem, 1)) {
		sio_sys_close(mem);
		sio_sys_close(s);
		return -EIO;
	}
	sio_sys_close(mem);
	/* The program's close_range/closefrom must not take it away. */
	if (sio_fd_private_add(s)) {
		sio_sys_close(s);
		return -ENOMEM;
	}
	pthread_mutex_lock(&conns_lock);
	if (nconns < MAX_CONNS)
		conns[nconns++] = s;
	pthread_mutex_unlock(&conns_lock);
	conn_fd = s;
	conn_gen = proc_gen;
	pthread_setspecific(conn_key, (void *)(intptr_t)(s + 1));
	return s;
}

/* This thread's fail-nth countdown moves into the request (the work runs
 * in the server), with the kinds that count; the answer brings back what
 * remains. */
static void fail_take(struct sio_shared_msg *m)
{
	unsigned int n = sio_fail_nth_get();

	if (!n || m->fail_nth)
		return;
	sio_fail_nth_set(0);
	m->fail_nth = n;
	m->fail_kinds = 0;
	for (int k = 0; k < SIO_FAIL_NR_KINDS; k++)
		if (sio_fail_kind_enabled((enum sio_fail_kind)k))
			m->fail_kinds |= 1u << k;
}

/* Send a request, install the files the server hands over meanwhile, and
 * return its answer; -EIO if the server is gone.  A descriptor that comes
 * with the answer is *fd_out's (closed if fd_out is NULL). */
static long request_fd(struct sio_shared_msg *m, const int *fds,
		       unsigned int nfds, int *fd_out)
{
	bool armed;
	int s;

	fail_take(m);
	armed = m->fail_nth != 0;
	s = conn_get();

	if (s == -ENOMEM)
		return s;
	if (s < 0 || send_msg(s, m, fds, nfds))
		return server_gone();
	for (;;) {
		struct sio_shared_msg a;
		int fd;

		/* An INSTALL's cloexec is in its cmd; read it first. */
		if (recv(s, &a, sizeof(a), MSG_PEEK) != (ssize_t)sizeof(a) ||
		    recv_msg(s, &a, &fd, a.op == SIO_SHARED_INSTALL && a.cmd))
			return server_gone();
		if (a.op == SIO_SHARED_REPLY) {
			if (armed)
				sio_fail_nth_set(a.fail_nth);
			if (fd_out)
				*fd_out = fd;
			else if (fd >= 0)
				sio_sys_close(fd);
			*m = a;
			return (long)a.rc;
		}
		if (a.op != SIO_SHARED_INSTALL)
			return server_gone();
		a.op = SIO_SHARED_INSTALLED;
		a.rc = fd >= 0 ? fd : -EIO;
		mark(fd, true);
		if (send_msg(s, &a, NULL, 0))
			return server_gone();
	}
}

static long request(struct sio_shared_msg *m, const int *fds, unsigned int nfds)
{
	return request_fd(m, fds, nfds, NULL);
}

/* The caller's RLIMIT_MEMLOCK and capabilities, sent with each request
 * (the server checks CAP_SYS_RESOURCE, CAP_IPC_LOCK... of the caller). */
static void limits(struct sio_shared_msg *m)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { { 0 } };
	struct rlimit rl;

	m->memlock = getrlimit(RLIMIT_MEMLOCK, &rl) ? 0 :
		     rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
	if (syscall(SYS_capget, &h, d))
		memset(d, 0, sizeof(d));
	m->caps = d[0].effective | (uint64_t)d[1].effective << 32;
	m->cap_ipc_lock = (m->caps >> CAP_IPC_LOCK) & 1;
}

/* ------------------------------------------------------------------ */
/* Memory for IOAS_MAP                                                  */
/* ------------------------------------------------------------------ */

static struct sio_umem_owner *self_owner(void)
{
	static struct sio_umem_owner *self;
	struct sio_umem_owner *o = __atomic_load_n(&self, __ATOMIC_ACQUIRE);

	if (!o && !sio_umem_owner_self(&o)) {
		struct sio_umem_owner *old = NULL;

		if (!__atomic_compare_exchange_n(&self, &old, o, false,
						 __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE)) {
			sio_umem_owner_put(o);
			o = old;
		}
	}
	return o;
}

/* A descriptor of the file a shared mapping at uaddr maps, and the
 * offset there, through /proc/self/map_files (the pin had no memfd at
 * hand: a mapping that was shared already). */
static int map_file_of(const struct sio_maps *maps, uint64_t uaddr,
		       uint64_t *offset)
{
	struct sio_vma v;
	size_t pos = 0;
	char path[96];

	while (sio_maps_next(maps, &pos, &v)) {
		if (uaddr < v.start || uaddr >= v.end)
			continue;
		snprintf(path, sizeof(path), "/proc/self/map_files/%llx-%llx",
			 (unsigned long long)v.start, (unsigned long long)v.end);
		*offset = v.offset + (uaddr - v.start);
		return sio_sys_open(path, O_RDWR | O_CLOEXEC);
	}
	return -1;
}

/* Records that fill a message before the request is sent travel ahead in
 * RECORDS messages of their own (one round trip per SIO_SHARED_MAX_REC). */
static void records_flush(struct sio_shared_msg *m, int *fds, unsigned int *n)
{
	struct sio_shared_msg r = { .op = SIO_SHARED_RECORDS, .nrec = *n };

	memcpy(r.rec, m->rec, sizeof(r.rec[0]) * *n);
	request(&r, fds, *n);
	while (*n)
		sio_sys_close(fds[--*n]);
}

/* fd opened again read-only (through /proc/self/fd): a record the server
 * cannot map for writing.  Closes fd. */
static int reopen_rdonly(int fd)
{
	char path[40];
	int ro;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = sio_sys_open(path, O_RDONLY | O_CLOEXEC);
	sio_sys_close(fd);
	return ro;
}

/*
 * Make [va, va + len) memfd-backed and put its files in the request: a pin
 * of our own (not charged: the server charges when it pins) does exactly
 * that and gives each piece's memfd.  The pin is dropped after the answer
 * (*pin); the range stays a shared view of its memfds.  A writable
 * mapping of memory that cannot be written here (mapped read-only) sends
 * its files opened read-only: the server's writable pin then fails, as the
 * kernel's does, with EFAULT (at once with a domain, else at the first
 * pin).  Nothing is sent when the range is not pinnable at all.
 */
static unsigned int map_prepare(uint64_t va, uint64_t len, bool write,
				struct sio_shared_msg *m, int *fds,
				struct sio_umem_pin **pin)
{
	struct sio_umem_owner *self = self_owner();
	struct sio_maps maps = { 0 };
	bool have_maps = false, rdonly = false;
	unsigned int n = 0;

	*pin = NULL;
	if (!self || !len)
		return 0;
	if (write)
		rdonly = sio_umem_pin(self, va, (size_t)len,
				      SIO_UMEM_PIN_NOCHARGE | SIO_UMEM_PIN_WRITE,
				      SIO_UMEM_ACCT_NONE, pin) != 0;
	if ((!write || rdonly) &&
	    sio_umem_pin(self, va, (size_t)len, SIO_UMEM_PIN_NOCHARGE,
			 SIO_UMEM_ACCT_NONE, pin))
		return 0;
	for (size_t i = 0; i < (*pin)->nchunks; i++) {
		const struct sio_umem_chunk *c = &(*pin)->chunks[i];
		uint64_t off = 0;
		int fd;

		if (c->fd >= 0) {
			fd = sio_sys_fcntl(c->fd, F_DUPFD_CLOEXEC, 0);
			off = c->fd_offset;
		} else {
			if (!have_maps &&
			    sio_maps_read("/proc/self/maps", &maps) == 0)
				have_maps = true;
			fd = have_maps ? map_file_of(&maps, c->uaddr, &off) : -1;
		}
		if (fd >= 0 && rdonly)
			fd = reopen_rdonly(fd);
		if (fd < 0)
			continue;
		if (n == SIO_SHARED_MAX_REC)
			records_flush(m, fds, &n);
		m->rec[n].uaddr = c->uaddr;
		m->rec[n].len = c->len;
		m->rec[n].offset = off;
		fds[n++] = fd;
	}
	if (have_maps)
		sio_maps_free(&maps);
	m->nrec = n;
	return n;
}

/* The range an IOAS_MAP-like command maps, read from the program's
 * struct (false if it is not one, or unreadable: the server answers), and
 * whether the device may write it. */
static bool map_range(unsigned long request, unsigned long arg, uint64_t *va,
		      uint64_t *len, bool *write)
{
	if (request == IOMMU_IOAS_MAP) {
		struct iommu_ioas_map cmd;

		if (sio_umem_self_copy(false, &cmd, arg, sizeof(cmd)))
			return false;
		*va = cmd.user_va;
		*len = cmd.length;
		*write = cmd.flags & IOMMU_IOAS_MAP_WRITEABLE;
		return true;
	}
	if (request == SIO_VFIO_IOMMU_MAP_DMA) {
		struct sio_vfio_iommu_type1_dma_map cmd;

		if (sio_umem_self_copy(false, &cmd, arg, sizeof(cmd)))
			return false;
		*va = cmd.vaddr;
		*len = cmd.size;
		*write = cmd.flags & SIO_VFIO_DMA_MAP_FLAG_WRITE;
		return true;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Entry points                                                         */
/* ------------------------------------------------------------------ */

int sio_shared_open(uint64_t node, dev_t rdev, int flags)
{
	struct sio_shared_msg m = { .op = SIO_SHARED_OPEN, .cmd = (uint32_t)flags,
				    .arg = node, .v = { (uint64_t)rdev } };
	int fd, file = -1;

	limits(&m);
	fd = (int)request_fd(&m, NULL, 0, &file);
	if (fd == 0 && file >= 0) {
		/* A generated file's text, as the server has it now. */
		if (flags & O_CLOEXEC)
			sio_sys_fcntl(file, F_SETFD, FD_CLOEXEC);
		return file;
	}
	if (file >= 0)
		sio_sys_close(file);
	mark(fd, true);
	if (fd >= 0 && (flags & O_NONBLOCK))
		sio_sys_fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Whether fd is a socket whose peer is the server: its inode. */
static uint64_t server_file(int fd)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct stat st;

	if (syscall(SYS_fstat, fd, &st) || !S_ISSOCK(st.st_mode) ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) ||
	    cred.pid != server_pid)
		return 0;
	return st.st_ino;
}

bool sio_shared_ioctl(int fd, unsigned long request_nr, unsigned long arg,
		      long *rc)
{
	struct sio_shared_msg m = { .op = SIO_SHARED_IOCTL };
	int fds[SIO_SHARED_MAX_REC];
	struct sio_umem_pin *pin = NULL;
	unsigned int nfds = 0;
	uint64_t ino, va, len;
	bool write;

	if (!sio_shared_on() || !(ino = server_file(fd)))
		return false;
	mark(fd, true);
	switch (request_nr) {
	case FIOCLEX:
	case FIONCLEX:
	case FIONBIO:
	case FIOASYNC:
		return false;	/* the kernel answers these for any file */
	}
	m.ino = ino;
	m.cmd = (uint32_t)request_nr;
	m.arg = arg;
	limits(&m);
	fail_take(&m);
	if (map_range(request_nr, arg, &va, &len, &write))
		nfds = map_prepare(va, len, write, &m, fds, &pin);
	*rc = request(&m, fds, nfds);
	while (nfds)
		sio_sys_close(fds[--nfds]);
	sio_umem_unpin(pin);
	return true;
}

void sio_shared_fix_stat(int fd, struct stat *st)
{
	struct sio_shared_msg m = { .op = SIO_SHARED_FSTAT };

	if (!marked(fd) || !(m.ino = server_file(fd)) ||
	    request(&m, NULL, 0) < 0 || !m.v[0])
		return;
	st->st_mode = S_IFCHR | (st->st_mode & 07777);
	st->st_rdev = (dev_t)m.v[0];
	st->st_size = 0;
	st->st_blocks = 0;
}

bool sio_shared_served(int fd)
{
	if (!marked(fd))
		return false;
	if (server_file(fd))
		return true;
	mark(fd, false);
	return false;
}

void sio_shared_dup_note(int oldfd, int newfd)
{
	if (newfd >= 0 && marked(oldfd))
		mark(newfd, true);
}

/* Drop the readiness bytes queued on our end (the server queues one while
 * the file is readable, and decides again after each read or write). */
static void drain(int fd)
{
	char b[16];

	while (recv(fd, b, sizeof(b), MSG_DONTWAIT) > 0)
		;
}

bool sio_shared_rw(int fd, bool write, void *buf, size_t len, ssize_t *rc)
{
	struct sio_shared_msg m = {
		.op = write ? SIO_SHARED_WRITE : SIO_SHARED_READ,
		.arg = (uintptr_t)buf,
		.v = { len },
	};

	if (!marked(fd))
		return false;
	if (!(m.ino = server_file(fd))) {
		mark(fd, false);
		return false;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int fl;

		drain(fd);
		limits(&m);
		*rc = request(&m, NULL, 0);
		m.op = write ? SIO_SHARED_WRITE : SIO_SHARED_READ;
		if (*rc != -EAGAIN)
			return true;
		fl = sio_sys_fcntl(fd, F_GETFL, 0);
		if (fl < 0 || (fl & O_NONBLOCK))
			return true;
		/* Blocking: wait for the server's byte (or its hang-up). */
		if (poll(&p, 1, -1) < 0 && errno != EINTR) {
			*rc = -errno;
			return true;
		}
	}
}

bool sio_shared_prw(int fd, bool write, void *buf, size_t len, off_t off,
		    ssize_t *rc)
{
	struct sio_shared_msg m = {
		.op = write ? SIO_SHARED_WRITE : SIO_SHARED_READ,
		.cmd = SIO_SHARED_RW_POS,
		.arg = (uintptr_t)buf,
		.v = { len, (uint64_t)off },
	};

	if (!marked(fd))
		return false;
	if (!(m.ino = server_file(fd))) {
		mark(fd, false);
		return false;
	}
	if (off < 0) {
		*rc = -EINVAL;
		return true;
	}
	/* Position 0 of a stream file is its read: its byte goes first. */
	if (!off)
		drain(fd);
	limits(&m);
	*rc = request(&m, NULL, 0);
	return true;
}

/* Our mappings of served files: the server holds its own mapping (and
 * the region's owner) for each until we unmap it.  maps_lock protects
 * the list.  A fork child's list is the parent's copy: its requests name
 * the server's mappings of the parent, and it takes holds of its own on
 * the trapping ones (maps_fork_child). */
struct client_map {
	struct client_map *next;
	uint64_t addr, len;
	uint64_t server_addr;
	struct sio_mmio_region *region;	/* pages that trap, or NULL */
	uint64_t id;			/* the server's name of a trapping one */
};
static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct client_map *client_maps;

static void maps_lock_fork(bool lock)
{
	if (lock)
		pthread_mutex_lock(&maps_lock);
	else
		pthread_mutex_unlock(&maps_lock);
}

/* Record the client's mapping cm of [p, p + len), the server's at
 * saddr; returns p. */
static void *client_map_add(struct client_map *cm, void *p, size_t len,
			    uint64_t saddr)
{
	cm->addr = (uint64_t)(uintptr_t)p;
	cm->len = len;
	cm->server_addr = saddr;
	pthread_mutex_lock(&maps_lock);
	cm->next = client_maps;
	client_maps = cm;
	pthread_mutex_unlock(&maps_lock);
	return p;
}

/*
 * A fork child's copies of trapping mappings hold the server's mapping as
 * the parent's do, so they keep working after the parent unmaps its own or
 * exits, as VMAs copied by fork do.  Before the fork the parent sets a hold
 * aside for the child (MAP_DUP, v[1] = 1); the child claims it (v[1] = 2,
 * arg = the parent's token) before it lets the parent's connections go.
 * One round trip per trapping mapping on each side; a fork that fails
 * leaves the parent's set-aside holds until the parent goes.
 */
static void maps_fork_prepare(void)
{
	if (!__atomic_load_n(&client_maps, __ATOMIC_RELAXED))
		return;
	/* The connection first: its making takes conns_lock, which must not
	 * be taken under maps_lock (fork_prepare takes them the other way). */
	if (conn_get() < 0)
		return;
	pthread_mutex_lock(&maps_lock);
	for (struct client_map *cm = client_maps; cm; cm = cm->next) {
		struct sio_shared_msg m = { .op = SIO_SHARED_MAP_DUP,
					    .ino = cm->id, .v = { 0, 1 } };

		if (cm->region)
			request(&m, NULL, 0);
	}
	pthread_mutex_unlock(&maps_lock);
}

static void maps_fork_child(uint64_t parent_token)
{
	for (struct client_map *cm = client_maps; cm; cm = cm->next) {
		struct sio_shared_msg m = { .op = SIO_SHARED_MAP_DUP,
					    .ino = cm->id, .arg = parent_token,
					    .v = { 0, 2 } };

		if (cm->region)
			request(&m, NULL, 0);
	}
}

static void unmap_notify(uint64_t saddr, uint64_t len)
{
	struct sio_shared_msg m = { .op = SIO_SHARED_MUNMAP,
				    .arg = saddr, .v = { len } };

	request(&m, NULL, 0);
}

/*
 * A mapping that traps (a VFIO BAR): each load or store the trap decodes
 * here is one MMIO request, done by the server on its own mapping, so the
 * device's registers, its MSI-X table and the kernel's checks all stay in
 * the server.  These run in the trap handler, on the thread's connection:
 * a send and a receive, no lock.  A thread whose first request this is
 * makes its connection here, which allocates and takes conns_lock
 * (docs/process-model.md says why that is safe in practice).
 */
static uint64_t trap_access(struct client_map *cm, uint64_t off,
			    unsigned int size, bool write, uint64_t val)
{
	struct sio_shared_msg m = { .op = SIO_SHARED_MMIO, .cmd = size,
				    .ino = cm->id,
				    .arg = cm->server_addr + off,
				    .v = { val, write } };
	int err = errno;
	long rc = request(&m, NULL, 0);

	errno = err;
	return rc < 0 ? ~0ull : m.v[0];
}

static uint64_t trap_read(void *opaque, uint64_t off, unsigned int size)
{
	uint64_t v = trap_access(opaque, off, size, false, 0);

	return size < 8 ? v & ((1ull << (8 * size)) - 1) : v;
}

static void trap_write(void *opaque, uint64_t off, unsigned int size,
		       uint64_t val)
{
	trap_access(opaque, off, size, true, val);
}

static const struct sio_mmio_ops trap_ops = {
	.read = trap_read,
	.write = trap_write,
};

bool sio_shared_mmap(void *addr, size_t len, int prot, int flags, int fd,
		     off_t off, void *(*real_mmap)(void *, size_t, int, int,
						   int, off_t),
		     void **out)
{
	struct sio_shared_msg m = { .op = SIO_SHARED_MMAP };
	struct client_map *cm;
	int mfd = -1;
	long rc;
	void *p;

	if (!marked(fd) || !(m.ino = server_file(fd)))
		return false;
	m.cmd = (uint32_t)prot;
	m.arg = (uint64_t)(unsigned int)flags;
	m.rec[0].len = len;
	m.rec[0].offset = (uint64_t)off;
	limits(&m);
	rc = request_fd(&m, NULL, 0, &mfd);
	if (rc == SIO_SHARED_MMAP_TRAP && mfd < 0) {
		long page = sysconf(_SC_PAGESIZE);
		size_t plen = (len + (size_t)page - 1) & ~((size_t)page - 1);
		int err;

		cm = calloc(1, sizeof(*cm));
		p = addr;
		err = cm ? -sio_mmio_map(&p, plen, flags & (MAP_FIXED |
							    MAP_FIXED_NOREPLACE),
					 &trap_ops, cm, &cm->region) : ENOMEM;
		if (err) {
			free(cm);
			unmap_notify(m.v[1], len);
			errno = err;
			*out = MAP_FAILED;
			return true;
		}
		cm->id = m.v[0];
		*out = client_map_add(cm, p, len, m.v[1]);
		return true;
	}
	if (rc < 0 || mfd < 0) {
		if (mfd >= 0)
			sio_sys_close(mfd);
		errno = rc < 0 ? (int)-rc : EIO;
		*out = MAP_FAILED;
		return true;
	}
	p = real_mmap(addr, len, prot, flags, mfd, (off_t)m.v[0]);
	sio_sys_close(mfd);
	cm = p != MAP_FAILED ? calloc(1, sizeof(*cm)) : NULL;
	if (!cm) {
		int err = p == MAP_FAILED ? errno : ENOMEM;

		if (p != MAP_FAILED)
			sio_sys_munmap(p, len);
		unmap_notify(m.v[1], len);
		errno = err;
		*out = MAP_FAILED;
		return true;
	}
	*out = client_map_add(cm, p, len, m.v[1]);
	return true;
}

void sio_shared_munmap(void *addr, size_t len)
{
	uint64_t a = (uint64_t)(uintptr_t)addr, end = a + len;
	struct client_map **pp, *gone = NULL;

	if (!__atomic_load_n(&client_maps, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&maps_lock);
	for (pp = &client_maps; *pp;) {
		struct client_map *cm = *pp;

		if (cm->addr >= a && cm->addr + cm->len <= end) {
			*pp = cm->next;
			cm->next = gone;
			gone = cm;
		} else {
			pp = &cm->next;
		}
	}
	pthread_mutex_unlock(&maps_lock);
	while (gone) {
		struct client_map *cm = gone;

		gone = cm->next;
		sio_mmio_unregister(cm->region);
		unmap_notify(cm->server_addr, cm->len);
		free(cm);
	}
}

void sio_shared_closing_begin(struct sio_shared_closing *sc,
			      unsigned int first, unsigned int last)
{
	size_t cap = 0;

	sc->inos = NULL;
	sc->n = 0;
	if (!shared_enabled)
		return;
	if (last >= MARK_MAX)
		last = MARK_MAX - 1;
	for (unsigned int fd = first; fd <= last; fd++) {
		uint64_t ino, *ni;

		if (!(fd % 64) && !__atomic_load_n(&marks[fd / 64],
						   __ATOMIC_RELAXED)) {
			fd += 63;
			continue;
		}
		if (!marked((int)fd) || !(ino = server_file((int)fd)))
			continue;
		mark((int)fd, false);
		if (sc->n == cap) {
			cap = cap ? cap * 2 : 8;
			ni = realloc(sc->inos, cap * sizeof(*ni));
			if (!ni)
				break;
			sc->inos = ni;
		}
		sc->inos[sc->n++] = ino;
	}
}

void sio_shared_closing_end(struct sio_shared_closing *sc, bool done)
{
	int err = errno;

	for (size_t i = 0; done && i < sc->n; i++) {
		struct sio_shared_msg m = { .op = SIO_SHARED_CLOSE,
					    .ino = sc->inos[i] };

		request(&m, NULL, 0);
	}
	free(sc->inos);
	sc->inos = NULL;
	sc->n = 0;
	errno = err;
}

int sio_shared_close(int fd, int (*real_close)(int))
{
	struct sio_shared_msg m = { .op = SIO_SHARED_CLOSE };
	uint64_t ino;
	int rc;

	if (!sio_shared_on() || !(ino = server_file(fd)))
		return real_close(fd);
	mark(fd, false);
	rc = real_close(fd);
	if (rc == 0) {
		int err = errno;

		m.ino = ino;
		request(&m, NULL, 0);
		errno = err;
	}
	return rc;
}

int sio_shared_status(pid_t pid, uint64_t *pinned, uint64_t *locked)
{
	struct sio_shared_msg m = { .op = SIO_SHARED_STATUS,
				    .arg = (uint64_t)pid };
	long rc;

	if (!sio_shared_on())
		return -ENODEV;
	rc = request(&m, NULL, 0);
	if (rc < 0)
		return (int)rc;
	*pinned = m.v[0];
	*locked = m.v[1];
	return 0;
}
