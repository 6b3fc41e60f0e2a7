/*
 * User memory of the calling process (in-process emulation).
 *
 * Copies (self_copy.c) and the limits the accounting reads (self_limits.c)
 * live in files of their own (self.h).
 *
 * A pin makes a second mapping of the pinned pages, the alias, owned by the
 * library (docs/pinning.md, docs/umem.md).  The range is split at VMA
 * boundaries, read from /proc/self/maps, and each piece is aliased by what
 * it is:
 *  - shared, not hugetlb: mremap(piece, 0, len, MREMAP_MAYMOVE), which
 *    duplicates a shared mapping onto the same pages;
 *  - shared hugetlb: the kernel refuses that mremap for hugetlb, so the
 *    file is opened through /proc/self/map_files (or its own path when it
 *    lives on a mounted hugetlbfs) and mapped again;
 *  - private (anonymous or file): "unshare on pin", the copy the kernel's
 *    FOLL_LONGTERM pin makes when it breaks COW: the piece is copied into a
 *    new memfd, the memfd is mapped MAP_SHARED|MAP_FIXED over the
 *    program's view with the same protections, and the library keeps a
 *    second mapping of the memfd as the alias.
 *
 * Unsharing turns private memory into shared memory, which fork would then
 * share with the child.  The kernel instead gives the child its own copy of
 * pinned anonymous pages at fork.  To match, every view we unshared is
 * remembered (self_views), and a pthread_atfork child handler copies each
 * one still in place back into private anonymous memory in the child.
 * Views are remembered past unpin, as long as the program's view still maps
 * our memfd, because unpinned memory must fork copy-on-write too.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "file/private_fd.h"
#include "umem/self.h"
#include "util/sys.h"
#include "util/fail.h"

#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT 26
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif

/* A private range we replaced by a shared memfd view: [start, end) maps the
 * memfd (dev, ino) from offset 0. */
struct self_view {
	struct self_view *next;
	uint64_t start, end;
	dev_t dev;
	uint64_t ino;
	size_t hsize;		/* hugetlb page size, 0 if none */
};

/*
 * self_lock protects self_views and serialises every pin of this process:
 * two pins that both found a range private must not both replace it, or
 * the first pin's alias would no longer be the program's pages.  fork takes
 * it too (prepare handler), so a child never sees a half-made pin.
 */
static pthread_mutex_t self_lock = PTHREAD_MUTEX_INITIALIZER;
static struct self_view *self_views;

#define SELF_MAX_HSTATES 4

/* What the pin path must recognise, learnt once (self_once). */
static struct {
	size_t page_size;
	dev_t shm_dev;			/* memfd and MAP_SHARED anonymous */
	bool have_shm_dev;
	unsigned int nhuge;
	struct {
		dev_t dev;		/* hugetlbfs internal mount */
		size_t size;
	} huge[SELF_MAX_HSTATES];
} self_info;

static pthread_once_t self_once = PTHREAD_ONCE_INIT;

/* ------------------------------------------------------------------ */
/* Fork                                                                 */
/* ------------------------------------------------------------------ */

static unsigned int log2_size(size_t s)
{
	return (unsigned int)__builtin_ctzl(s);
}

/*
 * In the child: give [a, b) of the view back private pages with the same
 * contents and protections.  Only async-signal-safe calls: a multithreaded
 * parent may have forked with other locks held.  On failure the range stays
 * shared with the parent, the documented in-process behaviour.
 */
static void reprivatise(uint64_t a, uint64_t b, unsigned int prot, size_t hsize)
{
	size_t len = (size_t)(b - a);
	int mflags = MAP_PRIVATE | MAP_ANONYMOUS;
	void *tmp;

	if (hsize)
		mflags |= MAP_HUGETLB | (int)(log2_size(hsize) << MAP_HUGE_SHIFT);
	tmp = sio_sys_mmap(NULL, len, PROT_READ | PROT_WRITE, mflags, -1, 0);
	if (tmp == MAP_FAILED)
		return;
	if (!(prot & PROT_READ))
		mprotect((void *)(uintptr_t)a, len, PROT_READ);
	memcpy(tmp, (void *)(uintptr_t)a, len);
	if (prot != (PROT_READ | PROT_WRITE))
		mprotect(tmp, len, (int)prot);
	if (sio_sys_mremap(tmp, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
			   (void *)(uintptr_t)a) == MAP_FAILED)
		sio_sys_munmap(tmp, len);
}

/* Whether VMA v maps view w's memfd at the offsets the view gave it. */
static bool vma_is_view(const struct sio_vma *v, const struct self_view *w)
{
	return v->dev == w->dev && v->ino == w->ino && v->start < w->end &&
	       v->end > w->start && v->offset == v->start - w->start;
}

static void self_fork_prepare(void)
{
	pthread_mutex_lock(&self_lock);
}

static void self_fork_parent(void)
{
	pthread_mutex_unlock(&self_lock);
}

static void self_fork_child(void)
{
	struct sio_maps m;
	struct sio_vma v;
	size_t pos = 0;

	if (self_views && sio_maps_read("/proc/self/maps", &m) == 0) {
		while (sio_maps_next(&m, &pos, &v)) {
			struct self_view *w;

			for (w = self_views; w; w = w->next) {
				if (!vma_is_view(&v, w))
					continue;
				reprivatise(v.start > w->start ? v.start : w->start,
					    v.end < w->end ? v.end : w->end,
					    v.prot, w->hsize);
			}
		}
		sio_maps_free(&m);
	}
	pthread_mutex_unlock(&self_lock);
}

/* Drop the views the program no longer maps (it unmapped or replaced
 * them).  Called under self_lock with a fresh read of the maps. */
static void prune_views(const struct sio_maps *m)
{
	struct self_view **pw = &self_views;

	while (*pw) {
		struct self_view *w = *pw;
		struct sio_vma v;
		size_t pos = 0;
		bool live = false;

		while (!live && sio_maps_next(m, &pos, &v))
			live = vma_is_view(&v, w);
		if (live) {
			pw = &w->next;
		} else {
			*pw = w->next;
			free(w);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Setup                                                                */
/* ------------------------------------------------------------------ */

static bool memfd_dev(unsigned int flags, dev_t *dev)
{
	struct stat st;
	int fd = memfd_create("softiommu-probe", MFD_CLOEXEC | flags);
	bool ok;

	if (fd < 0)
		return false;
	ok = fstat(fd, &st) == 0;
	if (ok)
		*dev = st.st_dev;
	sio_sys_close(fd);
	return ok;
}

/*
 * Learn the device numbers of the kernel's internal shmem mount and of its
 * hugetlbfs mounts (one per huge page size): /proc/self/maps names them
 * only by device, and hugetlb mappings need different aliasing.  A memfd
 * of each kind is made and looked at; no huge page is allocated for it.
 */
static void self_setup(void)
{
	static const size_t sizes[] = { 2ul << 20, 1ul << 30, 32ul << 20,
					64ul << 10 };
	unsigned int i;

	self_info.page_size = (size_t)sysconf(_SC_PAGESIZE);
	self_info.have_shm_dev = memfd_dev(0, &self_info.shm_dev);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char path[96];
		dev_t dev;

		snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%zukB",
			 sizes[i] >> 10);
		if (access(path, F_OK))
			continue;
		if (!memfd_dev(MFD_HUGETLB | (log2_size(sizes[i]) << MFD_HUGE_SHIFT),
			       &dev))
			continue;
		self_info.huge[self_info.nhuge].dev = dev;
		self_info.huge[self_info.nhuge].size = sizes[i];
		self_info.nhuge++;
	}
	pthread_atfork(self_fork_prepare, self_fork_parent, self_fork_child);
}

/* ------------------------------------------------------------------ */
/* Pin                                                                  */
/* ------------------------------------------------------------------ */

enum piece_kind {
	PIECE_REMAP,		/* shared: mremap(…, 0, …) */
	PIECE_MAP_FILE,		/* shared hugetlb: map the file again */
	PIECE_UNSHARE,		/* private: copy into a memfd */
};

struct piece {
	uint64_t start, end;	/* the pin's part of the VMA */
	uint64_t rstart, rend;	/* aliased: start/end rounded to hsize */
	enum piece_kind kind;
	size_t hsize;		/* hugetlb page size, 0 if none */
	struct sio_vma vma;
};

/* The VMA's backing file by its path, if the path still names the same
 * inode: st and sfs describe it. */
static bool vma_file(const struct sio_vma *v, struct stat *st, struct statfs *sfs)
{
	char path[4096];

	if (!v->path_len || v->path[0] != '/' || v->path_len >= sizeof(path))
		return false;
	memcpy(path, v->path, v->path_len);
	path[v->path_len] = '\0';
	if (stat(path, st) || st->st_dev != v->dev || st->st_ino != v->ino)
		return false;
	return statfs(path, sfs) == 0;
}

static size_t vma_hugetlb_size(const struct sio_vma *v)
{
	struct statfs sfs;
	struct stat st;
	unsigned int i;

	for (i = 0; i < self_info.nhuge; i++)
		if (v->dev == self_info.huge[i].dev)
			return self_info.huge[i].size;
	if (vma_file(v, &st, &sfs) && sfs.f_type == HUGETLBFS_MAGIC)
		return (size_t)sfs.f_bsize;
	return 0;
}

/* Whether a shared mapping is of memory (shmem, hugetlbfs, ramfs) rather
 * than of a file system with writeback, where the kernel refuses long-term
 * writable pins (check_vma_flags: writable_file_mapping_allowed). */
static bool vma_memory_backed(const struct sio_vma *v, size_t hsize)
{
	struct statfs sfs;
	struct stat st;

	if (hsize || (self_info.have_shm_dev && v->dev == self_info.shm_dev))
		return true;
	return vma_file(v, &st, &sfs) &&
	       (sfs.f_type == TMPFS_MAGIC || sfs.f_type == RAMFS_MAGIC);
}

/* Special mappings the kernel will not pin (VM_IO/VM_PFNMAP or not normal
 * memory): [vvar], [vdso], [vsyscall], [uprobes]...  [heap], [stack] and
 * named anonymous memory are ordinary. */
static bool vma_special(const struct sio_vma *v)
{
	static const char *const ok_prefix[] = { "[heap]", "[stack]", "[anon:",
						 "[anon_shmem:" };
	unsigned int i;

	if (!v->path_len || v->path[0] != '[')
		return false;
	for (i = 0; i < sizeof(ok_prefix) / sizeof(ok_prefix[0]); i++) {
		size_t n = strlen(ok_prefix[i]);

		if (v->path_len >= n && !memcmp(v->path, ok_prefix[i], n))
			return false;
	}
	return true;
}

/*
 * Split [start, end) into VMA pieces and decide how to alias each, before
 * changing anything: a pin that fails with EFAULT leaves the address space
 * as it was.  Returns the number of pieces or a negative errno.
 */
static long plan_pieces(const struct sio_maps *m, uint64_t start, uint64_t end,
			unsigned int flags, struct piece **out)
{
	bool write = flags & SIO_UMEM_PIN_WRITE;
	struct piece *pieces = NULL;
	size_t n = 0, cap = 0;
	uint64_t cur = start;
	struct sio_vma v;
	size_t pos = 0;
	int rc;

	while (cur < end && sio_maps_next(m, &pos, &v)) {
		struct piece *p;

		if (v.end <= cur)
			continue;
		if (v.start > cur)
			break;		/* a hole at cur */
		if (vma_special(&v)) {
			rc = sio_err(-EFAULT, "umem: 0x%llx is in a special mapping (%.*s)",
				     (unsigned long long)cur, (int)v.path_len,
				     v.path);
			goto err;
		}
		if (!(v.prot & PROT_READ) || (write && !(v.prot & PROT_WRITE))) {
			rc = sio_err(-EFAULT, "umem: 0x%llx is mapped %s%s, the pin needs %s",
				     (unsigned long long)cur,
				     v.prot & PROT_READ ? "r" : "-",
				     v.prot & PROT_WRITE ? "w" : "-",
				     write ? "read and write" : "read");
			goto err;
		}
		if (n == cap) {
			struct piece *np;

			cap = cap ? cap * 2 : 4;
			np = sio_realloc(pieces, cap * sizeof(*np));
			if (!np) {
				rc = sio_err(-ENOMEM, "umem: out of memory");
				goto err;
			}
			pieces = np;
		}
		p = &pieces[n++];
		p->vma = v;
		p->start = cur;
		p->end = v.end < end ? v.end : end;
		p->hsize = vma_hugetlb_size(&v);
		p->rstart = p->start;
		p->rend = p->end;
		if (p->hsize) {
			p->rstart = p->start & ~(uint64_t)(p->hsize - 1);
			p->rend = (p->end + p->hsize - 1) & ~(uint64_t)(p->hsize - 1);
			if (p->rstart < v.start || p->rend > v.end) {
				rc = sio_err(-EOPNOTSUPP, "umem: hugetlb mapping at 0x%llx is not aligned to its page size",
					     (unsigned long long)v.start);
				goto err;
			}
		}
		if (v.shared) {
			if (write && !vma_memory_backed(&v, p->hsize)) {
				rc = sio_err(-EFAULT, "umem: no writable long-term pin of a shared file mapping (%.*s)",
					     (int)v.path_len, v.path);
				goto err;
			}
			p->kind = p->hsize ? PIECE_MAP_FILE : PIECE_REMAP;
		} else {
			p->kind = PIECE_UNSHARE;
		}
		cur = p->end;
	}
	if (cur < end) {
		rc = sio_err(-EFAULT, "umem: 0x%llx is not mapped",
			     (unsigned long long)cur);
		goto err;
	}
	*out = pieces;
	return (long)n;

err:
	free(pieces);
	return rc;
}

/* Protections of an alias: what the program may do, never execute. */
static int alias_prot(const struct sio_vma *v)
{
	return (int)(v->prot & (PROT_READ | PROT_WRITE));
}

static int alias_remap(const struct piece *p, void **base)
{
	size_t len = (size_t)(p->end - p->start);
	void *a = sio_sys_mremap((void *)(uintptr_t)p->start, 0, len,
				 MREMAP_MAYMOVE, NULL);

	if (a == MAP_FAILED)
		return sio_err(-errno, "umem: cannot alias shared memory at 0x%llx",
			       (unsigned long long)p->start);
	if ((p->vma.prot & PROT_EXEC) && mprotect(a, len, alias_prot(&p->vma))) {
		int rc = -errno;

		sio_sys_munmap(a, len);
		return sio_err(rc, "umem: mprotect of an alias");
	}
	*base = a;
	return 0;
}

static int alias_map_file(const struct piece *p, void **base)
{
	const struct sio_vma *v = &p->vma;
	int oflags = O_CLOEXEC | ((v->prot & PROT_WRITE) ? O_RDWR : O_RDONLY);
	size_t len = (size_t)(p->rend - p->rstart);
	struct statfs sfs;
	struct stat st;
	char path[96];
	void *a;
	int fd;

	/* map_files needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE. */
	snprintf(path, sizeof(path), "/proc/self/map_files/%llx-%llx",
		 (unsigned long long)v->start, (unsigned long long)v->end);
	fd = sio_sys_open(path, oflags);
	if (fd < 0 && vma_file(v, &st, &sfs)) {
		char fpath[4096];

		memcpy(fpath, v->path, v->path_len);
		fpath[v->path_len] = '\0';
		fd = sio_sys_open(fpath, oflags);
	}
	if (fd >= 0 && (fstat(fd, &st) || st.st_dev != v->dev ||
			st.st_ino != v->ino)) {
		sio_sys_close(fd);
		fd = -1;
	}
	if (fd < 0)
		return sio_err(-EOPNOTSUPP, "umem: cannot alias shared hugetlb memory at 0x%llx: its file is not reachable (needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE, or a hugetlbfs path)",
			       (unsigned long long)p->start);
	a = sio_sys_mmap(NULL, len, alias_prot(v), MAP_SHARED, fd,
			 (off_t)(v->offset + (p->rstart - v->start)));
	sio_sys_close(fd);
	if (a == MAP_FAILED)
		return sio_err(-errno, "umem: cannot map shared hugetlb memory at 0x%llx again",
			       (unsigned long long)p->start);
	*base = a;
	return 0;
}

static int alias_unshare(const struct piece *p, void **base, int *fd_out)
{
	const struct sio_vma *v = &p->vma;
	size_t len = (size_t)(p->rend - p->rstart);
	unsigned int mflags = MFD_CLOEXEC;
	struct self_view *w;
	struct stat st;
	void *a, *view;
	int fd, rc;

	w = sio_calloc(1, sizeof(*w));
	if (!w)
		return sio_err(-ENOMEM, "umem: out of memory");
	if (p->hsize)
		mflags |= MFD_HUGETLB | (log2_size(p->hsize) << MFD_HUGE_SHIFT);
	/* Say whether the memfd may be executed (kernels since 6.3 warn when
	 * neither is given); older kernels reject both, so retry bare. */
	fd = memfd_create("softiommu-pin", mflags |
			  ((v->prot & PROT_EXEC) ? MFD_EXEC : MFD_NOEXEC_SEAL));
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("softiommu-pin", mflags);
	if (fd < 0) {
		rc = p->hsize ? -EOPNOTSUPP : -errno;
		sio_err(rc, "umem: memfd_create for private %s memory at 0x%llx",
			p->hsize ? "hugetlb" : "", (unsigned long long)p->start);
		goto err_free;
	}
	if (ftruncate(fd, (off_t)len) || fstat(fd, &st)) {
		rc = sio_err(-errno, "umem: sizing the memfd of a pin");
		goto err_close;
	}
	a = sio_sys_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (a == MAP_FAILED) {
		rc = sio_err(-errno, "umem: mapping the memfd of a pin%s",
			     p->hsize ? " (no free huge pages?)" : "");
		goto err_close;
	}
	/* The copy is fault-safe: the program may change its view under us. */
	rc = sio_umem_self_copy(false, a, p->rstart, len);
	if (rc) {
		sio_err(rc, "umem: cannot read private memory at 0x%llx to unshare it",
			(unsigned long long)p->rstart);
		goto err_unmap;
	}
	view = sio_sys_mmap((void *)(uintptr_t)p->rstart, len, (int)v->prot,
			    MAP_SHARED | MAP_FIXED, fd, 0);
	if (view == MAP_FAILED) {
		rc = sio_err(-errno, "umem: cannot replace private memory at 0x%llx by a shared copy",
			     (unsigned long long)p->rstart);
		goto err_unmap;
	}
	if (alias_prot(v) != (PROT_READ | PROT_WRITE))
		mprotect(a, len, alias_prot(v));
	/* The memfd stays with the chunk until unpin (chunk.fd). */
	if (sio_fd_private_add(fd))
		sio_sys_close(fd);
	else
		*fd_out = fd;
	w->start = p->rstart;
	w->end = p->rend;
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	w->hsize = p->hsize;
	w->next = self_views;
	self_views = w;
	*base = a;
	return 0;

err_unmap:
	sio_sys_munmap(a, len);
err_close:
	sio_sys_close(fd);
err_free:
	free(w);
	return rc;
}

static void self_unpin(struct sio_umem_owner *owner,
		       struct sio_umem_chunk *chunks, size_t nchunks)
{
	size_t i;

	for (i = 0; i < nchunks; i++) {
		sio_sys_munmap(chunks[i].map_base, chunks[i].map_len);
		if (chunks[i].fd >= 0)
			sio_fd_private_close(chunks[i].fd);
	}
	free(chunks);
}

static int self_pin(struct sio_umem_owner *owner, uint64_t start, size_t len,
		    unsigned int flags, struct sio_umem_chunk **out,
		    size_t *nout)
{
	struct sio_umem_chunk *chunks = NULL;
	struct piece *pieces = NULL;
	struct sio_maps m;
	long n, i;
	int rc;

	pthread_mutex_lock(&self_lock);
	rc = sio_maps_read("/proc/self/maps", &m);
	if (rc) {
		sio_err(rc, "umem: cannot read /proc/self/maps");
		goto out_unlock;
	}
	prune_views(&m);
	n = plan_pieces(&m, start, start + len, flags, &pieces);
	if (n < 0) {
		rc = (int)n;
		goto out_maps;
	}
	chunks = sio_calloc((size_t)n, sizeof(*chunks));
	if (!chunks) {
		rc = sio_err(-ENOMEM, "umem: out of memory");
		goto out_pieces;
	}
	for (i = 0; i < n; i++) {
		const struct piece *p = &pieces[i];
		void *base = NULL;
		int fd = -1;

		switch (p->kind) {
		case PIECE_REMAP:
			rc = alias_remap(p, &base);
			break;
		case PIECE_MAP_FILE:
			rc = alias_map_file(p, &base);
			break;
		case PIECE_UNSHARE:
			rc = alias_unshare(p, &base, &fd);
			break;
		}
		if (rc)
			break;
		chunks[i].uaddr = p->start;
		chunks[i].len = (size_t)(p->end - p->start);
		chunks[i].map_base = base;
		chunks[i].map_len = (size_t)(p->rend - p->rstart);
		chunks[i].host = (uint64_t)(uintptr_t)base + (p->start - p->rstart);
		chunks[i].fd = fd;
		chunks[i].fd_offset = fd >= 0 ? p->start - p->rstart : 0;
	}
	if (rc) {
		/* Pieces already unshared stay shared views of their memfds,
		 * which is harmless: same contents, and fork still copies. */
		self_unpin(owner, chunks, (size_t)i);
		goto out_pieces;
	}
	*out = chunks;
	*nout = (size_t)n;
out_pieces:
	free(pieces);
out_maps:
	sio_maps_free(&m);
out_unlock:
	pthread_mutex_unlock(&self_lock);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Files                                                                */
/* ------------------------------------------------------------------ */

/*
 * Our own descriptor of the file at the program's fd.  A dup shares the
 * open file description, so it has fd's mode; the kernel pins a file for
 * writing whatever mode it was opened in, so a read-only descriptor is
 * reopened read-write through /proc/self/fd when the file allows (a memfd
 * always does), and kept as it is otherwise.  O_PATH is -EBADF, as fget()
 * does not see such descriptors.
 */
static int self_file_get(struct sio_umem_owner *owner, int fd, int *out)
{
	int fl = sio_sys_fcntl(fd, F_GETFL, 0);
	struct stat st;
	int nfd;

	(void)owner;
	if (fl < 0 || (fl & O_PATH))
		return sio_err(-EBADF, "umem: %d is not an open file descriptor",
			       fd);
	/* Only regular files are reopened: opening a device or a FIFO again
	 * could have effects of its own. */
	if ((fl & O_ACCMODE) != O_RDWR && fstat(fd, &st) == 0 &&
	    S_ISREG(st.st_mode)) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		nfd = sio_sys_open(path, O_RDWR | O_CLOEXEC);
		if (nfd >= 0) {
			*out = nfd;
			return 0;
		}
	}
	nfd = sio_sys_fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (nfd < 0)
		return sio_err(-errno, "umem: cannot duplicate descriptor %d", fd);
	*out = nfd;
	return 0;
}

static int self_backing(struct sio_umem_owner *owner, uint64_t uaddr,
			dev_t *dev, uint64_t *ino, uint64_t *offset)
{
	struct sio_maps m;
	struct sio_vma v;
	size_t pos = 0;
	int rc;

	(void)owner;
	rc = sio_maps_read("/proc/self/maps", &m);
	if (rc)
		return sio_err(rc, "umem: cannot read /proc/self/maps");
	rc = -EFAULT;
	while (sio_maps_next(&m, &pos, &v)) {
		if (uaddr < v.start || uaddr >= v.end)
			continue;
		/* Shared and backed by an inode (ino 0: anonymous). */
		rc = -ENOENT;
		if (v.shared && v.ino) {
			*dev = v.dev;
			*ino = v.ino;
			*offset = v.offset + (uaddr - v.start);
			rc = 0;
		}
		break;
	}
	sio_maps_free(&m);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Owner                                                                */
/* ------------------------------------------------------------------ */

static void self_release(struct sio_umem_owner *owner)
{
	free(owner);
}

static const struct sio_umem_owner_ops self_ops = {
	.name = "self",
	.read = sio_umem_self_read,
	.write = sio_umem_self_write,
	.pin = self_pin,
	.unpin = self_unpin,
	.limits = sio_umem_self_limits,
	.release = self_release,
	.file_get = self_file_get,
	.backing = self_backing,
};

SIO_API int sio_umem_owner_self(struct sio_umem_owner **out)
{
	struct sio_umem_owner *owner;
	int rc;

	sio_err_clear();
	pthread_once(&self_once, self_setup);
	owner = sio_calloc(1, sizeof(*owner));
	if (!owner)
		return sio_err(-ENOMEM, "umem: out of memory");
	rc = sio_umem_owner_init(owner, &self_ops, getuid(),
				 self_info.page_size);
	if (rc) {
		free(owner);
		return rc;
	}
	*out = owner;
	return 0;
}
