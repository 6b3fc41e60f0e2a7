/*
 * The shared mode's server: the launcher hosts the library and serves the
 * /dev/iommu files of every process of the run (docs/process-model.md).
 *
 * Files.  Each emulated file a client holds is the client end of a
 * SOCK_SEQPACKET socket pair whose other end the server keeps, with the
 * server's own descriptor of the library's file (an emulated file of this
 * process, softiommu/file.h).  fork, dup, exec and SCM_RIGHTS share the
 * client end as the kernel shares any file, so the kernel counts the
 * references: the server's end reads end-of-file exactly when the last
 * descriptor in any process is closed, and then the server closes its
 * descriptor of the library's file, which is the file's release.  A file
 * is named in requests by the inode of its client end.  One thread per
 * file waits for that end-of-file.
 *
 * Requests.  A client thread opens its own connection (the thread
 * connection, proto.h) and says HELLO with its /proc/self/mem descriptor:
 * the server makes one remote owner of user memory per client process
 * (the token in HELLO names the process; threads share it).  One server
 * thread serves each connection: it sets the client's owner as the
 * current owner (src/umem/remote.h) and a file proxy (src/file/file.h) and
 * calls the file's op with the program's argument pointer unchanged; the
 * library's copies reach the client's memory through the owner.  Files
 * the op creates (an access object's fd, ...) are installed in the client
 * through the same connection before the answer.
 *
 * VFIO.  The VFIO nodes open here too (sio_machine_open), and the VFIO
 * subsystem copies arguments through the dispatch owner as iommufd does.
 * Descriptor arguments go through the proxy: resolve for files of ours,
 * getfd (pidfd_getfd) for the client's eventfds, which the device then
 * signals directly.  A BAR mapping traps: the client maps trapping pages
 * of its own and sends each access it traps (MMIO), which is done here on
 * our mapping, named by an id that is never reused.
 *
 * Fault injection.  Each request carries the caller's fail-nth countdown:
 * it is armed for this thread around the op, and what remains goes back.
 *
 * Locks: server_lock protects the file and process lists and comes before
 * every library lock; it is never held while an op runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "softiommu/fault_inject.h"
#include "softiommu/file.h"
#include "softiommu/iommufd.h"
#include "softiommu/machine.h"
#include "softiommu/umem.h"
#include "file/file.h"
#include "iommufd/iommufd_vfio.h"
#include "machine/served.h"
#include "mmio/access.h"
#include "shared/proto.h"
#include "shared/server.h"
#include "umem/remote.h"
#include "umem/umem.h"
#include "util/error.h"
#include "util/sys.h"
#include "vfio/vfio_owner.h"

struct client_file {
	struct client_file *next;	/* server_lock */
	uint64_t ino;			/* the client end's inode */
	int sock;			/* our end */
	int fd;				/* our descriptor of the library's file */
	bool dying;			/* server_lock: end-of-file seen */
	/* Readiness: while the library's file is readable, the client end
	 * holds a byte (signaled, under server_lock), so poll, select and
	 * epoll in any process see it; the client drains it before each
	 * read or write, and the server decides again after.  kick (an
	 * eventfd) wakes the watcher to look at the file again. */
	bool signaled;
	int kick;
	/* server_lock: our descriptor of the library's file is closed, or
	 * being closed (by the watcher at end-of-file, or by proxy_close). */
	bool released;
};

/* A mapping of a served file made for a client (MMAP): the server's own
 * mapping holds the file and the region's owner object, as the client's
 * VMA would in the kernel, until the client unmaps or goes. */
struct map_hold {
	struct map_hold *next;		/* server_lock */
	void *addr;
	size_t len;
	uint64_t id;			/* a trapping mapping's name, never reused */
	/* A trapping mapping's holds (server_lock): a fork child's copy of
	 * the client's view takes one too (MAP_DUP), and the mapping goes
	 * with the last.  NULL for a memory mapping, which has one hold. */
	unsigned int *shared;
};

struct client_proc {
	struct client_proc *next;	/* server_lock */
	struct map_hold *holds;		/* server_lock */
	struct map_hold *set_aside;	/* server_lock: for fork children */
	uint64_t token;
	pid_t pid;
	unsigned int conns;		/* server_lock: live connections */
	struct sio_umem_owner *owner;	/* a reference */
};

/* One client thread's connection, while served. */
struct conn {
	int sock;
	int pidfd;
	struct client_proc *proc;
	struct sio_file_proxy proxy;
	unsigned int installs;		/* files installed in the client */
	int last_installed;		/* our descriptor of the latest one */
};

static pthread_mutex_t server_lock = PTHREAD_MUTEX_INITIALIZER;
/* Signalled (with server_lock) when a file has been released. */
static pthread_cond_t released_cv = PTHREAD_COND_INITIALIZER;
static struct client_file *files;
static struct client_proc *procs;
static uint64_t hold_ids;		/* server_lock: the last map_hold id */
static int listen_sock = -1;

/* ------------------------------------------------------------------ */
/* Messages                                                             */
/* ------------------------------------------------------------------ */

/* The record format and its checks are shared with the client (msg.c). */
static int send_msg(int sock, const struct sio_shared_msg *m, const int *fds,
		    unsigned int nfds)
{
	return sio_shared_send(sock, m, fds, nfds);
}

static int recv_msg(int sock, struct sio_shared_msg *m, int *fds,
		    unsigned int max, unsigned int *nfds)
{
	return sio_shared_recv(sock, m, fds, max, nfds, true);
}

/* ------------------------------------------------------------------ */
/* Files                                                                */
/* ------------------------------------------------------------------ */

/* The live file of ino, or with dying, also one being released. */
static struct client_file *file_find_locked(uint64_t ino, bool dying)
{
	struct client_file *f;

	for (f = files; f; f = f->next)
		if (f->ino == ino && (dying || (!f->dying && !f->released)))
			return f;
	return NULL;
}

static void file_unlink(struct client_file *f)
{
	struct client_file **pp;

	pthread_mutex_lock(&server_lock);
	for (pp = &files; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	pthread_mutex_unlock(&server_lock);
}

/* The library's file became readable: a byte for the client end.
 * server_lock held. */
static void file_signal_locked(struct client_file *f)
{
	if (f->signaled)
		return;
	f->signaled = true;
	send(f->sock, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Wait for the last close of the client end, then release the file;
 * meanwhile pass the file's readiness on to the client end. */
static void *file_watch(void *arg)
{
	struct client_file *f = arg;
	bool released;
	char b[64];

	for (;;) {
		struct pollfd p[3] = {
			{ .fd = f->sock, .events = POLLIN | POLLRDHUP },
			{ .fd = f->kick, .events = POLLIN },
			{ .fd = f->fd, .events = POLLIN },
		};
		bool sig;
		ssize_t n;

		pthread_mutex_lock(&server_lock);
		sig = f->signaled;
		pthread_mutex_unlock(&server_lock);
		if (poll(p, sig ? 2 : 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents & (POLLHUP | POLLRDHUP | POLLERR))
			break;
		if (p[0].revents & POLLIN) {
			n = recv(f->sock, b, sizeof(b), MSG_DONTWAIT);
			if (n == 0)
				break;
		}
		if (p[1].revents & POLLIN) {
			uint64_t v;

			if (read(f->kick, &v, sizeof(v)) < 0)
				continue;
		}
		if (!sig && (p[2].revents & POLLIN)) {
			pthread_mutex_lock(&server_lock);
			file_signal_locked(f);
			pthread_mutex_unlock(&server_lock);
		}
	}
	pthread_mutex_lock(&server_lock);
	f->dying = true;
	released = f->released;
	f->released = true;
	pthread_mutex_unlock(&server_lock);
	if (!released)
		sio_file_close(f->fd);
	sio_sys_close(f->sock);
	sio_sys_close(f->kick);
	file_unlink(f);
	pthread_mutex_lock(&server_lock);
	pthread_cond_broadcast(&released_cv);
	pthread_mutex_unlock(&server_lock);
	free(f);
	return NULL;
}

static int start_thread(void *(*fn)(void *), void *arg)
{
	pthread_attr_t a;
	pthread_t t;
	int rc;

	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&a, 256 * 1024);
	rc = pthread_create(&t, &a, fn, arg);
	pthread_attr_destroy(&a);
	return -rc;
}

/* ------------------------------------------------------------------ */
/* The proxy: descriptor numbers are the client's                       */
/* ------------------------------------------------------------------ */

static uint64_t fd_ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) || !S_ISSOCK(st.st_mode) ? 0 : st.st_ino;
}

static int proxy_resolve(void *ctx, int client_fd)
{
	struct conn *c = ctx;
	struct client_file *f;
	uint64_t ino;
	int fd, rc = -EBADF;

	if (client_fd < 0 || c->pidfd < 0)
		return -EBADF;
	fd = (int)syscall(SYS_pidfd_getfd, c->pidfd, client_fd, 0);
	if (fd < 0)
		return -EBADF;
	ino = fd_ino(fd);
	sio_sys_close(fd);
	pthread_mutex_lock(&server_lock);
	f = ino ? file_find_locked(ino, false) : NULL;
	if (f)
		rc = f->fd;
	pthread_mutex_unlock(&server_lock);
	return rc;
}

static int proxy_install(void *ctx, int fd, bool cloexec)
{
	struct conn *c = ctx;
	struct sio_shared_msg m = { .op = SIO_SHARED_INSTALL, .cmd = cloexec };
	struct client_file *f;
	int sv[2], rc;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		rc = -errno;
		free(f);
		return rc;
	}
	f->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (f->kick < 0) {
		rc = -errno;
		sio_sys_close(sv[0]);
		sio_sys_close(sv[1]);
		free(f);
		return rc;
	}
	f->sock = sv[0];
	f->fd = fd;
	f->ino = fd_ino(sv[1]);
	pthread_mutex_lock(&server_lock);
	f->next = files;
	files = f;
	pthread_mutex_unlock(&server_lock);
	rc = send_msg(c->sock, &m, &sv[1], 1);
	sio_sys_close(sv[1]);
	if (!rc)
		rc = recv_msg(c->sock, &m, NULL, 0, NULL);
	if (!rc && m.op != SIO_SHARED_INSTALLED)
		rc = -EIO;
	if (!rc)
		rc = (int)m.rc;
	/* The file is the client's from here on, or, on failure, nobody's:
	 * the watcher releases it at end-of-file either way.  On failure the
	 * caller closes fd itself, so the watcher must not. */
	if (rc < 0) {
		file_unlink(f);
		sio_sys_close(f->sock);
		sio_sys_close(f->kick);
		free(f);
		return rc;
	}
	if (start_thread(file_watch, f)) {
		file_unlink(f);
		shutdown(f->sock, SHUT_RDWR);
		sio_sys_close(f->sock);
		sio_sys_close(f->kick);
		free(f);
		return -ENOMEM;
	}
	c->installs++;
	c->last_installed = fd;
	return rc;
}

/* The client's descriptor itself (an eventfd for VFIO_DEVICE_SET_IRQS):
 * ours on the same open file description, so signalling it reaches the
 * client's waiters. */
static int proxy_getfd(void *ctx, int client_fd)
{
	struct conn *c = ctx;
	int fd;

	if (client_fd < 0 || c->pidfd < 0)
		return -EBADF;
	fd = (int)syscall(SYS_pidfd_getfd, c->pidfd, client_fd, 0);
	return fd < 0 ? -EBADF : fd;
}

/* An op undoes a file it installed (its copy-out failed): our end goes,
 * so the client's descriptor reads end-of-file, and the file is released
 * here and now, as the op expects of a close (it may free what the
 * file's release still reads right after); the watcher then only cleans
 * up. */
static int proxy_close(void *ctx, int client_fd)
{
	struct conn *c = ctx;
	struct client_file *f;
	int fd = proxy_resolve(c, client_fd), rc = -EBADF;

	if (fd < 0)
		return fd;
	pthread_mutex_lock(&server_lock);
	for (f = files; f; f = f->next)
		if (f->fd == fd && !f->dying && !f->released) {
			f->released = true;
			shutdown(f->sock, SHUT_RDWR);
			rc = 0;
			break;
		}
	pthread_mutex_unlock(&server_lock);
	if (!rc) {
		const struct sio_file_proxy *proxy = sio_file_proxy_get();

		/* Our own descriptor: closed without the proxy. */
		sio_file_proxy_set(NULL);
		sio_file_close(fd);
		sio_file_proxy_set(proxy);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Processes                                                            */
/* ------------------------------------------------------------------ */

static struct client_proc *proc_get(uint64_t token, pid_t pid, uid_t uid,
				    int mem_fd, int pidfd, int *err)
{
	struct client_proc *p;
	int rc;

	pthread_mutex_lock(&server_lock);
	for (p = procs; p; p = p->next)
		if (p->token == token && p->pid == pid) {
			p->conns++;
			pthread_mutex_unlock(&server_lock);
			sio_sys_close(mem_fd);
			if (pidfd >= 0)
				sio_sys_close(pidfd);
			return p;
		}
	p = calloc(1, sizeof(*p));
	rc = p ? sio_umem_owner_remote(mem_fd, pidfd, pid, uid, &p->owner) :
		 -ENOMEM;
	if (rc) {
		if (!p) {
			sio_sys_close(mem_fd);
			if (pidfd >= 0)
				sio_sys_close(pidfd);
		}
		free(p);
		pthread_mutex_unlock(&server_lock);
		*err = rc;
		return NULL;
	}
	p->token = token;
	p->pid = pid;
	p->conns = 1;
	p->next = procs;
	procs = p;
	pthread_mutex_unlock(&server_lock);
	return p;
}

/* Drop a hold taken off its list: our mapping goes with its last hold. */
static void hold_drop(struct map_hold *h)
{
	bool last = true;

	if (h->shared) {
		pthread_mutex_lock(&server_lock);
		last = --*h->shared == 0;
		pthread_mutex_unlock(&server_lock);
	}
	if (last) {
		free(h->shared);
		sio_sys_munmap(h->addr, h->len);
		sio_file_munmap(h->addr, h->len);
	}
	free(h);
}

/* A connection ends; the process's entry goes with its last one (exit or
 * exec).  Its owner lives on while pins hold it. */
static void proc_put(struct client_proc *p)
{
	struct client_proc **pp;

	pthread_mutex_lock(&server_lock);
	if (--p->conns) {
		pthread_mutex_unlock(&server_lock);
		return;
	}
	for (pp = &procs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	pthread_mutex_unlock(&server_lock);
	while (p->holds) {
		struct map_hold *h = p->holds;

		p->holds = h->next;
		hold_drop(h);
	}
	while (p->set_aside) {
		struct map_hold *h = p->set_aside;

		p->set_aside = h->next;
		hold_drop(h);
	}
	sio_umem_owner_put(p->owner);
	free(p);
}

/* VmPin and the MM-mode charge of pid's owners, in pages. */
static void proc_status(pid_t pid, uint64_t *pinned, uint64_t *locked)
{
	struct client_proc *p;

	*pinned = *locked = 0;
	pthread_mutex_lock(&server_lock);
	for (p = procs; p; p = p->next) {
		struct sio_umem_stats st;

		if (p->pid != pid)
			continue;
		sio_umem_owner_stats(p->owner, &st);
		*pinned += st.pinned;
		*locked += st.locked_mm;
	}
	pthread_mutex_unlock(&server_lock);
}

/* ------------------------------------------------------------------ */
/* Requests                                                             */
/* ------------------------------------------------------------------ */

static struct sio_machine *server_machine;

/* An open of a device node installs the new file in the client (the
 * proxy).  A generated file (a page-table dump, a config file) is a memfd
 * of ours holding its text as of now: it goes to the client with the
 * answer (*fd_out), rc 0. */
static long serve_open(struct conn *c, const struct sio_shared_msg *m,
		       int *fd_out)
{
	struct sio_machine_node node = { 0 };
	unsigned int before = c->installs;
	long rc;

	if (!m->arg) {
		rc = sio_iommufd_open_fd(sio_machine_host(server_machine),
					 (int)m->cmd);
	} else {
		if (m->arg > UINT32_MAX || (m->cmd & O_PATH) ||
		    !sio_machine_node_served(server_machine,
					     (unsigned int)(m->arg - 1)))
			return -ENODEV;
		node.id = (unsigned int)(m->arg - 1);
		rc = sio_machine_open(server_machine, &node, (int)m->cmd);
		if (rc >= 0 && c->installs == before) {
			*fd_out = (int)rc;
			return 0;
		}
	}
	if (rc >= 0 && c->installs != before && m->v[0]) {
		/* fstat of the client's descriptor shows the node (FSTAT). */
		const struct sio_file_proxy *proxy = sio_file_proxy_get();
		struct sio_file *file;

		sio_file_proxy_set(NULL);
		file = sio_file_lookup(c->last_installed);
		sio_file_proxy_set(proxy);
		if (file) {
			sio_file_set_rdev(file, (dev_t)m->v[0]);
			sio_file_put(file);
		}
	}
	return rc;
}

/* FSTAT: the device number the file's node has. */
static long serve_fstat(struct sio_shared_msg *m)
{
	struct client_file *cf;
	struct sio_file *file = NULL;

	pthread_mutex_lock(&server_lock);
	cf = file_find_locked(m->ino, false);
	if (cf)
		file = sio_file_lookup(cf->fd);
	pthread_mutex_unlock(&server_lock);
	if (!file)
		return -EBADF;
	m->v[0] = (uint64_t)sio_file_rdev(file);
	sio_file_put(file);
	return 0;
}

/* After a read or write: the client drained its byte first, so say
 * again whether the file is readable, and let the watcher look again. */
static void file_rearm(uint64_t ino)
{
	struct client_file *f;

	pthread_mutex_lock(&server_lock);
	f = file_find_locked(ino, false);
	if (f) {
		struct pollfd p = { .fd = f->fd, .events = POLLIN };
		uint64_t one = 1;

		f->signaled = false;
		if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN))
			file_signal_locked(f);
		if (write(f->kick, &one, sizeof(one)) < 0) {
			/* The counter is full: the watcher wakes anyway. */
		}
	}
	pthread_mutex_unlock(&server_lock);
}

/* A reference to the library's file behind the client file ino, or NULL.
 * The descriptor is the server's own, so it is looked up without the
 * client's proxy. */
static struct sio_file *file_get(uint64_t ino)
{
	const struct sio_file_proxy *proxy = sio_file_proxy_get();
	struct sio_file *file = NULL;
	struct client_file *cf;

	sio_file_proxy_set(NULL);
	pthread_mutex_lock(&server_lock);
	cf = file_find_locked(ino, false);
	if (cf)
		file = sio_file_lookup(cf->fd);
	pthread_mutex_unlock(&server_lock);
	sio_file_proxy_set(proxy);
	return file;
}

static long serve_ioctl(const struct sio_shared_msg *m)
{
	struct sio_file *file = file_get(m->ino);
	long rc;

	if (!file)
		return -EBADF;
	if (m->op != SIO_SHARED_IOCTL && m->cmd == SIO_SHARED_RW_POS) {
		/* pread/pwrite: a file without positioned ops is a stream. */
		void *buf = (void *)(uintptr_t)m->arg;
		size_t len = (size_t)m->v[0];
		off_t off = (off_t)m->v[1];
		const struct sio_file_ops *ops = sio_file_ops(file);
		bool write = m->op == SIO_SHARED_WRITE;

		if (write ? ops->pwrite != NULL : ops->pread != NULL) {
			rc = write ? sio_file_pwrite(file, buf, len, off) :
				     sio_file_pread(file, buf, len, off);
			sio_file_put(file);
			return rc;
		}
		if (off) {
			sio_file_put(file);
			return -ESPIPE;
		}
		/* Position 0 of a stream: its read or write. */
	}
	switch (m->op) {
	case SIO_SHARED_READ:
		rc = sio_file_read(file, (void *)(uintptr_t)m->arg,
				   (size_t)m->v[0]);
		break;
	case SIO_SHARED_WRITE:
		rc = sio_file_write(file, (const void *)(uintptr_t)m->arg,
				    (size_t)m->v[0]);
		break;
	default:
		rc = sio_file_ioctl(file, m->cmd, (unsigned long)m->arg);
	}
	sio_file_put(file);
	if (m->op != SIO_SHARED_IOCTL)
		file_rearm(m->ino);
	return rc;
}

/*
 * The client closed a descriptor of file ino.  If that was the last one
 * anywhere, our end has hung up, and the close returns only when the
 * release has run, as the kernel's last fput does before close returns
 * (programs count on it: a new open right after sees no leftover pins).
 */
static long serve_close(uint64_t ino)
{
	struct timespec until;
	struct client_file *f;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&server_lock);
	while ((f = file_find_locked(ino, true))) {
		struct pollfd p = { .fd = f->sock, .events = POLLRDHUP };

		if (!f->dying && (poll(&p, 1, 0) != 1 ||
				  !(p.revents & (POLLHUP | POLLRDHUP))))
			break;
		if (pthread_cond_timedwait(&released_cv, &server_lock, &until))
			break;
	}
	pthread_mutex_unlock(&server_lock);
	return 0;
}

/* The memory file behind our mapping at addr and the offset there. */
static int mapped_file(void *addr, size_t len, uint64_t *offset)
{
	uint64_t a = (uint64_t)(uintptr_t)addr;
	struct sio_maps m;
	struct sio_vma v;
	size_t pos = 0;
	char path[96];
	int fd = -EIO;

	if (sio_maps_read("/proc/self/maps", &m))
		return -EIO;
	while (sio_maps_next(&m, &pos, &v)) {
		if (a < v.start || a >= v.end)
			continue;
		*offset = v.offset + (a - v.start);
		snprintf(path, sizeof(path), "/proc/self/map_files/%llx-%llx",
			 (unsigned long long)v.start, (unsigned long long)v.end);
		fd = sio_sys_open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
		break;
	}
	sio_maps_free(&m);
	(void)len;
	return fd;
}

/* MMAP: map in the server (the file's op checks offset, length, flags
 * and takes the hold), then hand the client the file behind it. */
static long serve_mmap(struct conn *c, struct sio_shared_msg *m, int *fd_out)
{
	size_t len = (size_t)m->rec[0].len;
	struct sio_file *file;
	struct map_hold *h;
	void *addr = NULL;
	uint64_t off;
	long rc;
	int fd;

	file = file_get(m->ino);
	if (!file)
		return -EBADF;
	h = calloc(1, sizeof(*h));
	rc = h ? sio_file_mmap(file, &addr, len, (int)m->cmd,
			       (int)(m->arg & ~(uint64_t)MAP_FIXED),
			       (off_t)m->rec[0].offset) : -ENOMEM;
	sio_file_put(file);
	if (rc) {
		free(h);
		return rc;
	}
	h->addr = addr;
	h->len = len;
	if (sio_mmio_registered((uintptr_t)addr)) {
		/* Pages that trap (a VFIO BAR): the client traps on pages of
		 * its own and sends each access here (MMIO). */
		h->shared = calloc(1, sizeof(*h->shared));
		if (!h->shared) {
			sio_sys_munmap(addr, len);
			sio_file_munmap(addr, len);
			free(h);
			return -ENOMEM;
		}
		*h->shared = 1;
		pthread_mutex_lock(&server_lock);
		h->id = ++hold_ids;
		h->next = c->proc->holds;
		c->proc->holds = h;
		pthread_mutex_unlock(&server_lock);
		m->v[0] = h->id;
		m->v[1] = (uint64_t)(uintptr_t)addr;
		return SIO_SHARED_MMAP_TRAP;
	}
	fd = mapped_file(addr, len, &off);
	if (fd < 0) {
		sio_sys_munmap(addr, len);
		sio_file_munmap(addr, len);
		free(h);
		return fd;
	}
	h->addr = addr;
	h->len = len;
	pthread_mutex_lock(&server_lock);
	h->next = c->proc->holds;
	c->proc->holds = h;
	pthread_mutex_unlock(&server_lock);
	m->v[0] = off;
	m->v[1] = (uint64_t)(uintptr_t)addr;
	*fd_out = fd;
	return 0;
}

/*
 * A trapped access of a client (MMIO): ino names the mapping (its id), arg
 * the address.  The id is checked against the live mappings of every
 * process (a fork child uses its parent's), so an access from a view
 * whose mapping has gone can never reach another mapping made later at
 * the same address; it reads all ones.  The access itself runs without
 * server_lock: the trap registry keeps a region alive while it is used.
 */
static long serve_mmio(struct sio_shared_msg *m)
{
	struct client_proc *p;
	struct map_hold *h;
	bool live = false;

	pthread_mutex_lock(&server_lock);
	for (p = procs; p && !live; p = p->next)
		for (h = p->holds; h; h = h->next)
			if (h->id && h->id == m->ino &&
			    m->arg >= (uint64_t)(uintptr_t)h->addr &&
			    m->arg - (uint64_t)(uintptr_t)h->addr < h->len) {
				live = true;
				break;
			}
	pthread_mutex_unlock(&server_lock);
	if (!live)
		return -EFAULT;
	return sio_mmio_access((uintptr_t)m->arg, m->cmd, m->v[1] != 0,
			       &m->v[0]);
}

static long serve_munmap(struct conn *c, const struct sio_shared_msg *m)
{
	struct map_hold **pp, *h = NULL;

	pthread_mutex_lock(&server_lock);
	for (pp = &c->proc->holds; *pp; pp = &(*pp)->next)
		if ((uint64_t)(uintptr_t)(*pp)->addr == m->arg &&
		    (*pp)->len == m->v[0]) {
			h = *pp;
			*pp = h->next;
			break;
		}
	pthread_mutex_unlock(&server_lock);
	if (!h)
		return -EINVAL;
	hold_drop(h);
	return 0;
}

/*
 * MAP_DUP: a fork child gets its parent's view of trapping mapping ino,
 * and holds the mapping too, as its VMA would in the kernel.  v[1] = 1:
 * the parent, before the fork, sets a hold aside; v[1] = 2: the child
 * claims one of those of the parent whose token is arg.
 */
static long serve_map_dup(struct conn *c, const struct sio_shared_msg *m)
{
	struct map_hold *n = NULL, *h = NULL, **pp;
	struct client_proc *p;
	long rc = -ENOENT;

	if (m->v[1] == 1 && !(n = calloc(1, sizeof(*n))))
		return -ENOMEM;
	pthread_mutex_lock(&server_lock);
	if (m->v[1] == 1) {
		for (h = c->proc->holds; h; h = h->next)
			if (h->id == m->ino && h->shared)
				break;
		if (h) {
			++*h->shared;
			n->addr = h->addr;
			n->len = h->len;
			n->id = h->id;
			n->shared = h->shared;
			n->next = c->proc->set_aside;
			c->proc->set_aside = n;
			n = NULL;
			rc = 0;
		}
	} else if (m->v[1] == 2) {
		for (p = procs; p && rc; p = p->next) {
			if (p->token != m->arg || p == c->proc)
				continue;
			for (pp = &p->set_aside; *pp; pp = &(*pp)->next)
				if ((*pp)->id == m->ino) {
					h = *pp;
					*pp = h->next;
					h->next = c->proc->holds;
					c->proc->holds = h;
					rc = 0;
					break;
				}
		}
	}
	pthread_mutex_unlock(&server_lock);
	free(n);
	return rc;
}

/* The caller's fail-nth countdown, and the kinds that count, for this
 * thread while it serves the op.  The kinds are the server's settings
 * (global, as the kernel's debugfs knobs are): the caller's arrive with
 * each armed request. */
static void fail_arm(const struct sio_shared_msg *m)
{
	for (int k = 0; k < SIO_FAIL_NR_KINDS; k++) {
		bool on = (m->fail_kinds >> k) & 1;

		if (sio_fail_kind_enabled((enum sio_fail_kind)k) != on)
			sio_fail_kind_enable((enum sio_fail_kind)k, on);
	}
	sio_fail_nth_set(m->fail_nth);
}

/* Serve one request: the client's owner and the proxy are set around the
 * op, and the records that came with it are the owner's first. */
static long serve(struct conn *c, struct sio_shared_msg *m, int *fds,
		  unsigned int nfds, int *fd_out)
{
	struct sio_umem_limits lim = {
		.memlock_bytes = m->memlock,
		.cap_ipc_lock = m->cap_ipc_lock != 0,
	};
	struct sio_umem_owner *o = c->proc->owner;
	long rc;

	if (m->op == SIO_SHARED_STATUS) {
		proc_status((pid_t)m->arg, &m->v[0], &m->v[1]);
		return 0;
	}
	if (m->op == SIO_SHARED_CLOSE)
		return serve_close(m->ino);
	if (m->op == SIO_SHARED_MUNMAP)
		return serve_munmap(c, m);
	if (m->op == SIO_SHARED_MAP_DUP)
		return serve_map_dup(c, m);
	if (m->op == SIO_SHARED_MMIO)
		return serve_mmio(m);
	if (m->op == SIO_SHARED_FSTAT)
		return serve_fstat(m);
	if (m->op != SIO_SHARED_OPEN && m->op != SIO_SHARED_IOCTL &&
	    m->op != SIO_SHARED_READ && m->op != SIO_SHARED_WRITE &&
	    m->op != SIO_SHARED_MMAP && m->op != SIO_SHARED_RECORDS)
		return -EINVAL;
	sio_umem_remote_set_limits(o, &lim);
	sio_umem_remote_set_caps(o, m->caps);
	for (unsigned int i = 0; i < nfds; i++) {
		if (i < m->nrec)
			sio_umem_remote_record(o, m->rec[i].uaddr,
					       m->rec[i].len, fds[i],
					       m->rec[i].offset);
		else
			sio_sys_close(fds[i]);
	}
	if (m->op == SIO_SHARED_RECORDS)
		return 0;
	sio_umem_current_set(o);
	sio_file_proxy_set(&c->proxy);
	if (m->fail_nth)
		fail_arm(m);
	if (m->op == SIO_SHARED_OPEN)
		rc = serve_open(c, m, fd_out);
	else if (m->op == SIO_SHARED_MMAP)
		rc = serve_mmap(c, m, fd_out);
	else
		rc = serve_ioctl(m);
	/* What remains of the countdown goes back to the caller. */
	m->fail_nth = sio_fail_nth_get();
	sio_fail_nth_set(0);
	sio_file_proxy_set(NULL);
	sio_umem_current_set(NULL);
	return rc;
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;
	struct sio_shared_msg m;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	int fds[SIO_SHARED_MAX_REC];
	unsigned int nfds;
	int err = 0;

	if (recv_msg(c->sock, &m, fds, 1, &nfds) || m.op != SIO_SHARED_HELLO ||
	    nfds != 1 ||
	    getsockopt(c->sock, SOL_SOCKET, SO_PEERCRED, &cred, &cl)) {
		if (nfds == 1)
			sio_sys_close(fds[0]);
		goto out;
	}
	/* The connection's pidfd resolves the client's descriptor numbers;
	 * the owner has its own copy for file pins. */
	c->pidfd = (int)syscall(SYS_pidfd_open, cred.pid, 0);
	c->proc = proc_get(m.token, cred.pid, cred.uid, fds[0],
			   c->pidfd >= 0 ? sio_sys_fcntl(c->pidfd, F_DUPFD_CLOEXEC, 0) : -1,
			   &err);
	if (!c->proc)
		goto out;
	for (;;) {
		if (recv_msg(c->sock, &m, fds, SIO_SHARED_MAX_REC, &nfds))
			break;
		int out = -1, sent;

		m.rc = serve(c, &m, fds, nfds, &out);
		m.op = SIO_SHARED_REPLY;
		/* A client killed meanwhile: the answer has nowhere to go. */
		sent = send_msg(c->sock, &m, &out, out >= 0 ? 1 : 0);
		if (out >= 0)
			sio_sys_close(out);
		if (sent)
			break;
	}
	proc_put(c->proc);
out:
	if (c->pidfd >= 0)
		sio_sys_close(c->pidfd);
	sio_sys_close(c->sock);
	free(c);
	return NULL;
}

static void *accept_thread(void *arg)
{
	(void)arg;
	for (;;) {
		int s = accept4(listen_sock, NULL, NULL, SOCK_CLOEXEC);
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		struct conn *c;

		if (s < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		/* Only processes of our own user (or root) are served. */
		if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &cl) ||
		    (cred.uid != getuid() && cred.uid != 0) ||
		    !(c = calloc(1, sizeof(*c)))) {
			sio_sys_close(s);
			continue;
		}
		c->sock = s;
		c->pidfd = -1;
		c->proxy.ctx = c;
		c->proxy.resolve = proxy_resolve;
		c->proxy.install = proxy_install;
		c->proxy.close = proxy_close;
		c->proxy.getfd = proxy_getfd;
		if (start_thread(conn_thread, c)) {
			sio_sys_close(s);
			free(c);
		}
	}
}

int sio_shared_server_drain(int timeout_ms)
{
	struct timespec until;
	bool left;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&server_lock);
	while (files && !rc)
		rc = pthread_cond_timedwait(&released_cv, &server_lock, &until);
	left = files != NULL;
	pthread_mutex_unlock(&server_lock);
	return left ? -ETIMEDOUT : 0;
}

int sio_shared_server_start(struct sio_machine *m, char *addr, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sio_umem_owner *disp;
	uint64_t rnd = 0;
	socklen_t len;
	int rc;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull;
	snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1,
		 "softiommu-%d-%016llx", (int)getpid(), (unsigned long long)rnd);
	if ((size_t)snprintf(addr, size, "%s", sa.sun_path + 1) >= size)
		return sio_err(-ENAMETOOLONG, "shared: address too long");
	rc = sio_umem_owner_dispatch(&disp);
	if (rc)
		return rc;
	iommufd_host_set_owner(sio_machine_host(m), disp);
	if (sio_machine_vfio(m))
		sio_vfio_set_owner(sio_machine_vfio(m), disp);
	server_machine = m;
	listen_sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (listen_sock < 0)
		return sio_err(-errno, "shared: socket: %s", strerror(errno));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			  strlen(sa.sun_path + 1));
	if (bind(listen_sock, (struct sockaddr *)&sa, len) ||
	    listen(listen_sock, 64)) {
		rc = -errno;
		sio_sys_close(listen_sock);
		return sio_err(rc, "shared: listening on @%s: %s", addr,
			       strerror(-rc));
	}
	rc = start_thread(accept_thread, NULL);
	if (rc)
		return sio_err(rc, "shared: cannot start the server thread");
	return 0;
}
