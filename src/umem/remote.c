/*
 * The remote owner: user memory of a client process of the shared mode's
 * server, and the dispatch owner that forwards to the client being served
 * (remote.h, docs/process-model.md#memory-across-processes).
 *
 * Copies are pread/pwrite of the client's /proc/self/mem descriptor.  A
 * read of 0 bytes (the address space is gone: exit or exec) or an error
 * (an unmapped page: EIO) is -EFAULT, as a fault in copy_from_user.
 *
 * Pins map memory files the client recorded at IOAS_MAP.  Records are an
 * address-ordered list of (uaddr range, file, offset); the files are
 * reference counted because a record split by a newer one shares its file
 * with the other piece.  Before any pin the address space must still
 * exist: the kernel pins from the mm, and a pin from an mm whose process
 * has gone fails with -EFAULT (the selftest's fork_gone).  Once made, a
 * pin is the server's own mapping of the file: it outlives the client's
 * view and the client itself.
 *
 * Locks: rec_lock (one per owner) protects the record list; it is taken
 * by pins and by new records, never while calling another layer.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <stdio.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "umem/remote.h"
#include "util/sys.h"
#include "util/fail.h"

struct remote_file {
	unsigned int refs;		/* under rec_lock */
	int fd;
	size_t hsize;			/* hugetlbfs page size, 0 if none */
};

struct remote_rec {
	struct remote_rec *next;	/* address order */
	uint64_t start, end;		/* [start, end) of the client */
	struct remote_file *file;
	uint64_t offset;		/* file offset of start */
};

struct remote {
	int mem_fd;
	int pidfd;
	pid_t pid;
	uint64_t memlock;		/* atomic: the latest request's */
	unsigned int cap_ipc_lock;	/* atomic */
	uint64_t caps;			/* atomic: effective capabilities */
	pthread_mutex_t rec_lock;	/* protects recs and file refs */
	struct remote_rec *recs;
};

static struct remote *to_remote(struct sio_umem_owner *owner)
{
	return owner->priv;
}

/* ------------------------------------------------------------------ */
/* Copies                                                               */
/* ------------------------------------------------------------------ */

static int remote_copy(struct remote *r, bool to_user, void *local,
		       uint64_t uaddr, size_t len)
{
	char *p = local;

	if (uaddr > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - uaddr)
		return sio_err(-EFAULT, "umem: address %#llx of process %d "
			       "is not mappable", (unsigned long long)uaddr,
			       (int)r->pid);
	while (len) {
		ssize_t n = to_user ? pwrite(r->mem_fd, p, len, (off_t)uaddr) :
				      pread(r->mem_fd, p, len, (off_t)uaddr);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return sio_err(-EFAULT, "umem: %s %#llx of process %d: %s",
				       to_user ? "write to" : "read of",
				       (unsigned long long)uaddr, (int)r->pid,
				       n == 0 ? "its address space is gone" :
						"not mapped");
		p += n;
		uaddr += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int remote_read(struct sio_umem_owner *owner, void *dst, uint64_t uaddr,
		       size_t len)
{
	return remote_copy(to_remote(owner), false, dst, uaddr, len);
}

static int remote_write(struct sio_umem_owner *owner, uint64_t uaddr,
			const void *src, size_t len)
{
	return remote_copy(to_remote(owner), true, (void *)src, uaddr, len);
}

/* The figures come with each request, so they are always as fresh as the
 * request being served. */
static int remote_limits(struct sio_umem_owner *owner, bool fresh,
			 struct sio_umem_limits *out)
{
	struct remote *r = to_remote(owner);

	(void)fresh;
	out->memlock_bytes = __atomic_load_n(&r->memlock, __ATOMIC_RELAXED);
	out->cap_ipc_lock = __atomic_load_n(&r->cap_ipc_lock, __ATOMIC_RELAXED);
	return 0;
}

void sio_umem_remote_set_limits(struct sio_umem_owner *owner,
				const struct sio_umem_limits *lim)
{
	struct remote *r = to_remote(owner);

	__atomic_store_n(&r->memlock, lim->memlock_bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&r->cap_ipc_lock, lim->cap_ipc_lock ? 1u : 0u,
			 __ATOMIC_RELAXED);
}

void sio_umem_remote_set_caps(struct sio_umem_owner *owner, uint64_t caps)
{
	__atomic_store_n(&to_remote(owner)->caps, caps, __ATOMIC_RELAXED);
}

bool sio_umem_remote_caps(const struct sio_umem_owner *owner, uint64_t *caps)
{
	if (!sio_umem_owner_is_remote(owner))
		return false;
	*caps = __atomic_load_n(&((struct remote *)owner->priv)->caps,
				__ATOMIC_RELAXED);
	return true;
}

/* ------------------------------------------------------------------ */
/* Records                                                              */
/* ------------------------------------------------------------------ */

static void file_put_locked(struct remote_file *f)
{
	if (--f->refs == 0) {
		sio_sys_close(f->fd);
		free(f);
	}
}

/* Cut [start, end) out of the list; pieces left of and right of it stay.
 * rec_lock held.  -ENOMEM only when a record must be split. */
static int recs_cut(struct remote *r, uint64_t start, uint64_t end)
{
	struct remote_rec **pp = &r->recs, *c;

	while ((c = *pp)) {
		if (c->end <= start || c->start >= end) {
			pp = &c->next;
			continue;
		}
		if (c->start < start && c->end > end) {
			/* Split: keep [c->start, start) and [end, c->end). */
			struct remote_rec *right = malloc(sizeof(*right));

			if (!right)
				return -ENOMEM;
			*right = *c;
			right->start = end;
			right->offset = c->offset + (end - c->start);
			c->file->refs++;
			c->end = start;
			right->next = c->next;
			c->next = right;
			return 0;
		}
		if (c->start < start) {
			c->end = start;
			pp = &c->next;
		} else if (c->end > end) {
			c->offset += end - c->start;
			c->start = end;
			pp = &c->next;
		} else {
			*pp = c->next;
			file_put_locked(c->file);
			free(c);
		}
	}
	return 0;
}

int sio_umem_remote_record(struct sio_umem_owner *owner, uint64_t uaddr,
			   uint64_t len, int fd, uint64_t offset)
{
	struct remote *r = to_remote(owner);
	struct remote_rec *rec, **pp;
	struct remote_file *f;
	struct statfs sfs;
	int rc;

	if (!len || (uaddr | len | offset) & (owner->page_size - 1) ||
	    uaddr + len < uaddr) {
		sio_sys_close(fd);
		return sio_err(-EINVAL, "umem: bad memory record %#llx+%#llx",
			       (unsigned long long)uaddr,
			       (unsigned long long)len);
	}
	rec = malloc(sizeof(*rec));
	f = malloc(sizeof(*f));
	if (!rec || !f) {
		free(rec);
		free(f);
		sio_sys_close(fd);
		return sio_err(-ENOMEM, "umem: out of memory");
	}
	f->refs = 1;
	f->fd = fd;
	/* A hugetlbfs file is mapped in whole huge pages. */
	f->hsize = fstatfs(fd, &sfs) == 0 &&
		   (uint64_t)sfs.f_type == HUGETLBFS_MAGIC ?
			   (size_t)sfs.f_bsize : 0;
	rec->start = uaddr;
	rec->end = uaddr + len;
	rec->file = f;
	rec->offset = offset;
	pthread_mutex_lock(&r->rec_lock);
	rc = recs_cut(r, rec->start, rec->end);
	if (rc) {
		file_put_locked(f);
		pthread_mutex_unlock(&r->rec_lock);
		free(rec);
		return sio_err(rc, "umem: out of memory");
	}
	for (pp = &r->recs; *pp && (*pp)->start < rec->start; pp = &(*pp)->next)
		;
	rec->next = *pp;
	*pp = rec;
	pthread_mutex_unlock(&r->rec_lock);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Pins                                                                 */
/* ------------------------------------------------------------------ */

static void remote_unpin(struct sio_umem_owner *owner,
			 struct sio_umem_chunk *chunks, size_t nchunks)
{
	(void)owner;
	for (size_t i = 0; i < nchunks; i++) {
		sio_sys_munmap(chunks[i].map_base, chunks[i].map_len);
		if (chunks[i].fd >= 0)
			sio_sys_close(chunks[i].fd);
	}
}

/* Whether the client's address space still exists: a byte of start reads
 * (0 bytes once the process has exited or exec'd). */
static bool remote_alive(struct remote *r, uint64_t start)
{
	char b;

	return start <= (uint64_t)INT64_MAX &&
	       pread(r->mem_fd, &b, 1, (off_t)start) == 1;
}

static int remote_pin(struct sio_umem_owner *owner, uint64_t start, size_t len,
		      unsigned int flags, struct sio_umem_chunk **out,
		      size_t *nout)
{
	int prot = PROT_READ | ((flags & SIO_UMEM_PIN_WRITE) ? PROT_WRITE : 0);
	struct remote *r = to_remote(owner);
	uint64_t cur = start, end = start + len;
	struct sio_umem_chunk *chunks = NULL;
	size_t n = 0, cap = 0;
	struct remote_rec *c;
	int rc = 0;

	if (!(flags & SIO_UMEM_PIN_HELD) && !remote_alive(r, start))
		return sio_err(-EFAULT, "umem: pin of %#llx: the address space "
			       "of process %d is gone",
			       (unsigned long long)start, (int)r->pid);
	pthread_mutex_lock(&r->rec_lock);
	for (c = r->recs; c && cur < end; c = c->next) {
		uint64_t piece_end, foff, delta, mlen;
		void *base;

		if (c->end <= cur)
			continue;
		if (c->start > cur)
			break;
		piece_end = c->end < end ? c->end : end;
		if (n == cap) {
			struct sio_umem_chunk *nc;

			cap = cap ? cap * 2 : 4;
			nc = sio_realloc(chunks, cap * sizeof(*nc));
			if (!nc) {
				rc = sio_err(-ENOMEM, "umem: out of memory");
				break;
			}
			chunks = nc;
		}
		foff = c->offset + (cur - c->start);
		delta = c->file->hsize ? foff % c->file->hsize : 0;
		mlen = delta + (piece_end - cur);
		if (c->file->hsize)
			mlen = (mlen + c->file->hsize - 1) &
			       ~(uint64_t)(c->file->hsize - 1);
		base = sio_sys_mmap(NULL, (size_t)mlen, prot,
				    MAP_SHARED | MAP_POPULATE, c->file->fd,
				    (off_t)(foff - delta));
		if (base == MAP_FAILED) {
			rc = sio_err(errno == EACCES ? -EFAULT : -errno,
				     "umem: cannot map the memory of process "
				     "%d at %#llx", (int)r->pid,
				     (unsigned long long)cur);
			break;
		}
		chunks[n].uaddr = cur;
		chunks[n].len = (size_t)(piece_end - cur);
		chunks[n].host = (uint64_t)(uintptr_t)base + delta;
		chunks[n].map_base = base;
		chunks[n].map_len = (size_t)mlen;
		chunks[n].fd = -1;
		chunks[n].fd_offset = 0;
		n++;
		cur = piece_end;
	}
	pthread_mutex_unlock(&r->rec_lock);
	if (!rc && cur < end)
		rc = sio_err(-EFAULT, "umem: %#llx of process %d is not memory "
			     "it sent with a mapping", (unsigned long long)cur,
			     (int)r->pid);
	if (rc) {
		remote_unpin(owner, chunks, n);
		free(chunks);
		return rc;
	}
	*out = chunks;
	*nout = n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Files                                                                */
/* ------------------------------------------------------------------ */

/* The client's descriptor, by pidfd_getfd (same open file description). */
static int remote_file_get(struct sio_umem_owner *owner, int fd, int *out)
{
	struct remote *r = to_remote(owner);
	int nfd;

	if (r->pidfd < 0)
		return sio_err(-EBADF, "umem: no way to reach fd %d of process %d",
			       fd, (int)r->pid);
	nfd = (int)syscall(SYS_pidfd_getfd, r->pidfd, fd, 0);
	if (nfd < 0)
		return sio_err(-EBADF, "umem: fd %d of process %d: %d", fd,
			       (int)r->pid, errno);
	*out = nfd;
	return 0;
}

/*
 * What the client maps at uaddr, from its maps file, for addresses it sent
 * no record of (a memfd it maps itself and names in IOAS_MAP_FILE).  The
 * address space must still be the one the owner stands for: checked on
 * the mem descriptor before and after reading the file by pid.
 */
static int maps_backing(struct remote *r, uint64_t uaddr, dev_t *dev,
			uint64_t *ino, uint64_t *offset)
{
	struct sio_maps m;
	struct sio_vma v;
	char path[48];
	size_t pos = 0;
	int rc = -EFAULT;

	if (!remote_alive(r, uaddr))
		return -EFAULT;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)r->pid);
	if (sio_maps_read(path, &m))
		return -EFAULT;
	while (sio_maps_next(&m, &pos, &v)) {
		if (uaddr < v.start || uaddr >= v.end)
			continue;
		if (!v.shared || !v.ino) {
			rc = -ENOENT;
			break;
		}
		*dev = v.dev;
		*ino = v.ino;
		*offset = v.offset + (uaddr - v.start);
		rc = 0;
		break;
	}
	sio_maps_free(&m);
	if (!rc && !remote_alive(r, uaddr))
		rc = -EFAULT;
	return rc;
}

static int remote_backing(struct sio_umem_owner *owner, uint64_t uaddr,
			  dev_t *dev, uint64_t *ino, uint64_t *offset)
{
	struct remote *r = to_remote(owner);
	struct remote_rec *c;
	struct stat st;
	int rc = -ENOENT;

	pthread_mutex_lock(&r->rec_lock);
	for (c = r->recs; c; c = c->next) {
		if (uaddr < c->start || uaddr >= c->end)
			continue;
		if (fstat(c->file->fd, &st) == 0) {
			*dev = st.st_dev;
			*ino = st.st_ino;
			*offset = c->offset + (uaddr - c->start);
			rc = 0;
		}
		break;
	}
	pthread_mutex_unlock(&r->rec_lock);
	if (rc == -ENOENT && !c)
		rc = maps_backing(r, uaddr, dev, ino, offset);
	return rc;
}

static void remote_release(struct sio_umem_owner *owner)
{
	struct remote *r = to_remote(owner);

	while (r->recs) {
		struct remote_rec *c = r->recs;

		r->recs = c->next;
		file_put_locked(c->file);
		free(c);
	}
	sio_sys_close(r->mem_fd);
	if (r->pidfd >= 0)
		sio_sys_close(r->pidfd);
	pthread_mutex_destroy(&r->rec_lock);
	free(r);
	free(owner);
}

static const struct sio_umem_owner_ops remote_ops = {
	.name = "remote",
	.read = remote_read,
	.write = remote_write,
	.pin = remote_pin,
	.unpin = remote_unpin,
	.limits = remote_limits,
	.release = remote_release,
	.file_get = remote_file_get,
	.backing = remote_backing,
};

int sio_umem_owner_remote(int mem_fd, int pidfd, pid_t pid, uid_t uid,
			  struct sio_umem_owner **out)
{
	struct sio_umem_owner *o = calloc(1, sizeof(*o));
	struct remote *r = calloc(1, sizeof(*r));
	int rc;

	if (!o || !r) {
		rc = sio_err(-ENOMEM, "umem: out of memory");
		goto err;
	}
	rc = sio_umem_owner_init(o, &remote_ops, uid,
				 (size_t)sysconf(_SC_PAGESIZE));
	if (rc)
		goto err;
	r->mem_fd = mem_fd;
	r->pidfd = pidfd;
	r->pid = pid;
	r->memlock = UINT64_MAX;
	pthread_mutex_init(&r->rec_lock, NULL);
	o->priv = r;
	*out = o;
	return 0;
err:
	free(o);
	free(r);
	sio_sys_close(mem_fd);
	if (pidfd >= 0)
		sio_sys_close(pidfd);
	return rc;
}

bool sio_umem_owner_is_remote(const struct sio_umem_owner *owner)
{
	return owner && owner->ops == &remote_ops;
}

pid_t sio_umem_remote_pid(const struct sio_umem_owner *owner)
{
	return ((struct remote *)owner->priv)->pid;
}

/* ------------------------------------------------------------------ */
/* The current owner and the dispatch owner                            */
/* ------------------------------------------------------------------ */

/* Initial-exec: the dispatch owner's every copy and peek reads it (no
 * call to __tls_get_addr). */
static _Thread_local struct sio_umem_owner *current_owner
	__attribute__((tls_model("initial-exec")));

void sio_umem_current_set(struct sio_umem_owner *owner)
{
	current_owner = owner;
}

struct sio_umem_owner *sio_umem_current(void)
{
	return current_owner;
}

bool sio_umem_remote_caps_current(uint64_t *caps)
{
	return current_owner && sio_umem_remote_caps(current_owner, caps);
}

static struct sio_umem_owner *cur_or_err(void)
{
	if (!current_owner)
		sio_err(-EFAULT, "umem: no client is being served");
	return current_owner;
}

static int disp_read(struct sio_umem_owner *owner, void *dst, uint64_t uaddr,
		     size_t len)
{
	struct sio_umem_owner *c = cur_or_err();

	(void)owner;
	return c ? c->ops->read(c, dst, uaddr, len) : -EFAULT;
}

static int disp_write(struct sio_umem_owner *owner, uint64_t uaddr,
		      const void *src, size_t len)
{
	struct sio_umem_owner *c = cur_or_err();

	(void)owner;
	return c ? c->ops->write(c, uaddr, src, len) : -EFAULT;
}

static int disp_pin(struct sio_umem_owner *owner, uint64_t start, size_t len,
		    unsigned int flags, struct sio_umem_chunk **chunks,
		    size_t *nchunks)
{
	struct sio_umem_owner *c = cur_or_err();

	(void)owner;
	return c ? c->ops->pin(c, start, len, flags, chunks, nchunks) : -EFAULT;
}

/* Every implementation's chunks are plain mappings plus an optional
 * descriptor: the remote unpin drops both, whoever pinned. */
static void disp_unpin(struct sio_umem_owner *owner,
		       struct sio_umem_chunk *chunks, size_t nchunks)
{
	remote_unpin(owner, chunks, nchunks);
}

static int disp_limits(struct sio_umem_owner *owner, bool fresh,
		       struct sio_umem_limits *out)
{
	struct sio_umem_owner *c = current_owner;

	(void)owner;
	if (!c) {
		out->memlock_bytes = UINT64_MAX;
		out->cap_ipc_lock = false;
		return 0;
	}
	return c->ops->limits(c, fresh, out);
}

static int disp_file_get(struct sio_umem_owner *owner, int fd, int *out)
{
	struct sio_umem_owner *c = cur_or_err();

	(void)owner;
	return c ? c->ops->file_get(c, fd, out) : -EBADF;
}

static int disp_backing(struct sio_umem_owner *owner, uint64_t uaddr,
			dev_t *dev, uint64_t *ino, uint64_t *offset)
{
	struct sio_umem_owner *c = cur_or_err();

	(void)owner;
	return c ? c->ops->backing(c, uaddr, dev, ino, offset) : -EFAULT;
}

static void disp_release(struct sio_umem_owner *owner)
{
	free(owner);
}

static const struct sio_umem_owner_ops dispatch_ops = {
	.name = "dispatch",
	.read = disp_read,
	.write = disp_write,
	.pin = disp_pin,
	.unpin = disp_unpin,
	.limits = disp_limits,
	.release = disp_release,
	.file_get = disp_file_get,
	.backing = disp_backing,
};

int sio_umem_owner_dispatch(struct sio_umem_owner **out)
{
	struct sio_umem_owner *o = calloc(1, sizeof(*o));
	int rc;

	if (!o)
		return sio_err(-ENOMEM, "umem: out of memory");
	rc = sio_umem_owner_init(o, &dispatch_ops, getuid(),
				 (size_t)sysconf(_SC_PAGESIZE));
	if (rc) {
		free(o);
		return rc;
	}
	*out = o;
	return 0;
}

struct sio_umem_owner *sio_umem_owner_peek(struct sio_umem_owner *owner)
{
	if (owner->ops == &dispatch_ops && current_owner)
		return current_owner;
	return owner;
}

struct sio_umem_owner *sio_umem_owner_resolve(struct sio_umem_owner *owner)
{
	return sio_umem_owner_get(sio_umem_owner_peek(owner));
}
