/*
 * User memory of the calling process (in-process emulation).
 *
 * Copies (self_copy.c) and the limits the accounting reads (self_limits.c)
 * live in files of their own (self.h).
 *
 * A pin reaches the pinned pages through the arena (arena.h): memory
 * files the library maps once each, its views, and the program ranges
 * known to map them (docs/pinning.md, docs/umem.md).  A range the arena
 * knows and the watch (watch.c) covers is a tree lookup and a reference:
 * no system call, no mapping.  Otherwise one PROCMAP_QUERY (vma.c) says
 * what is mapped, and a range first seen gets a file by what it is:
 *  - shared, not hugetlb: its own file, viewed through
 *    mremap(vma, 0, vma_len, MREMAP_MAYMOVE), which duplicates a shared
 *    mapping onto the same pages;
 *  - shared hugetlb: the kernel refuses that mremap for hugetlb, so the
 *    file is opened through /proc/self/map_files (or its own path when it
 *    lives on a mounted hugetlbfs) and mapped again;
 *  - private (anonymous or file): "unshare on pin", the copy the kernel's
 *    FOLL_LONGTERM pin makes when it breaks COW: the pinned pages are
 *    copied into their region's memfd (its slot, arena.h), which is mapped
 *    MAP_SHARED|MAP_FIXED over them with the same
 *    protections, and the library's view of the memfd reaches the pages.
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
#include "umem/arena.h"
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
 * self_lock (docs/locking.md, 270) protects self_views, the arena
 * (arena.c), the PROCMAP_QUERY descriptor (vma.c) and the watch's
 * registrations (watch.c), and serialises every pin and unpin of this
 * process: two pins that both found a range private must not both replace
 * it, or the first pin's view would no longer be the program's pages.
 * fork takes it too (prepare handler), so a child never sees a half-made
 * pin.
 */
static pthread_mutex_t self_lock = PTHREAD_MUTEX_INITIALIZER;
static struct self_view *self_views;
/* Whether the arena or self_views may know a program range: set under
 * self_lock, read without it by sio_umem_notify_unmap so that the shim's
 * every munmap and mprotect costs nothing in a process that pins nothing. */
static bool self_known;

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
		sio_sys_mprotect((void *)(uintptr_t)a, len, PROT_READ);
	memcpy(tmp, (void *)(uintptr_t)a, len);
	if (prot != (PROT_READ | PROT_WRITE))
		sio_sys_mprotect(tmp, len, (int)prot);
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
	sio_vma_fork_child();
	sio_watch_fork_child();
	pthread_mutex_unlock(&self_lock);
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
 * Private memory is unshared exactly (the pinned pages, whole huge pages
 * for hugetlb): other code may be writing right next to a pinned buffer,
 * and adjacent anonymous mappings merge into one VMA, so a VMA says
 * nothing about who owns its other pages.  Pieces of one region share a
 * memfd, its slot (arena.h), at offsets equal to their distance from the
 * slot's base: neighbouring pieces are then contiguous in one file and the
 * kernel merges them into one VMA, so pinning a mapping page by page adds
 * one VMA, not one per page, and the library maps the slot once.
 */

enum piece_kind {
	PIECE_VIEW,		/* a library view address (an alias) */
	PIECE_KNOWN,		/* an arena entry the kernel confirmed */
	PIECE_SHARED,		/* a shared VMA: give its file a view */
	PIECE_UNSHARE,		/* a private VMA: copy the pages into a slot */
};

struct piece {
	uint64_t start, end;	/* the pin's part */
	enum piece_kind kind;
	struct arena_file *file;	/* VIEW, KNOWN */
	const struct arena_entry *entry;	/* KNOWN */
	uint64_t foff;			/* VIEW, KNOWN: file offset at start */
	uint64_t wstart, wend;		/* UNSHARE: the pages replaced */
	size_t hsize;			/* SHARED, UNSHARE */
	bool memory;			/* SHARED: shmem, hugetlbfs, ramfs */
	bool sysv;			/* SHARED: a SysV shared memory segment */
	/* Last: not cleared for a new piece, only SHARED and UNSHARE read
	 * it, and plan_piece() sets it for them. */
	struct sio_vma vma;		/* SHARED, UNSHARE (path not kept) */
};

/*
 * Whether the file still has the pages [foff, foff + len): a program may
 * shrink a shared file it mapped, and a pin of pages past the end fails
 * (the kernel's fault there is SIGBUS, and GUP says EFAULT).  Memfds the
 * library made are never truncated.  By size when the library holds a
 * descriptor, else by a fault-safe read of the last page through the view.
 */
static int check_file_pages(const struct arena_file *f, uint64_t foff,
			    uint64_t len, uint64_t uaddr)
{
	struct stat st;
	char c;

	if (f->unshared)
		return 0;
	if (f->fd >= 0 ? fstat(f->fd, &st) == 0 &&
				 (uint64_t)st.st_size >= foff + len :
			 sio_umem_self_copy(false, &c, (uint64_t)(uintptr_t)f->view +
					      (foff + len - 1 - f->view_off),
				   1) == 0)
		return 0;
	return sio_err(-EFAULT, "umem: 0x%llx is past the end of its file",
		       (unsigned long long)uaddr);
}

/* Whether VMA v (which holds a) maps entry e's file at e's offsets. */
static bool entry_matches(const struct arena_entry *e, const struct sio_vma *v,
			  uint64_t a)
{
	return v->shared && v->ino == e->file->ino && v->dev == e->file->dev &&
	       v->offset + (a - v->start) == e->off + (a - e->node.start);
}

static int check_prot(const struct sio_vma *v, uint64_t cur, bool write)
{
	if (!(v->prot & PROT_READ) || (write && !(v->prot & PROT_WRITE)))
		return sio_err(-EFAULT, "umem: 0x%llx is mapped %s%s, the pin needs %s",
			       (unsigned long long)cur,
			       v->prot & PROT_READ ? "r" : "-",
			       v->prot & PROT_WRITE ? "w" : "-",
			       write ? "read and write" : "read");
	return 0;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* The piece at p->start (< end) is entry e's, whose VMA v the caller
 * trusts: check the access and the file's pages, and fill p. */
static int plan_known(struct piece *p, const struct arena_entry *e,
		      const struct sio_vma *v, uint64_t end, bool write)
{
	uint64_t cur = p->start;
	int rc = check_prot(v, cur, write);

	if (rc)
		return rc;
	if (write && e->file->writeback)
		return sio_err(-EFAULT, "umem: no writable long-term pin of a shared file mapping at 0x%llx",
			       (unsigned long long)cur);
	p->kind = PIECE_KNOWN;
	p->entry = e;
	p->file = e->file;
	p->foff = e->off + (cur - e->node.start);
	p->end = min_u64(end, e->node.last + 1);
	return check_file_pages(p->file, p->foff, p->end - cur, cur);
}

/*
 * Plan the piece at p->start (< end), changing nothing but forgetting
 * stale entries: a pin that fails leaves the address space as it was.
 */
static int plan_piece(struct piece *p, uint64_t end, bool write,
		      bool watching)
{
	uint64_t cur = p->start;
	struct arena_entry *e;
	struct arena_file *f;
	char name[4096];
	struct sio_vma v;
	int rc;

	f = arena_view_find(cur);
	if (f) {
		/* An alias the library handed out: its own mapping, which
		 * the program does not change. */
		p->kind = PIECE_VIEW;
		p->file = f;
		p->foff = f->view_off + (cur - f->vnode.start);
		p->end = min_u64(end, f->vnode.last + 1);
		return 0;
	}
	e = arena_entry_find(cur);
	if (e && e->watched && watching) {
		/* The kernel would have told the watch of an unmap or move
		 * of this range: the entry is what is mapped there. */
		v.prot = e->prot;
		return plan_known(p, e, &v, end, write);
	}
	/* Unknown: one query, with the name the checks below need. */
	rc = sio_vma_query(cur, &v, e ? NULL : name, e ? 0 : sizeof(name));
	if (rc == -EFAULT)
		return sio_err(-EFAULT, "umem: 0x%llx is not mapped",
			       (unsigned long long)cur);
	if (rc)
		return sio_err(rc, "umem: cannot look up 0x%llx",
			       (unsigned long long)cur);
	p->end = min_u64(v.end, end);
	if (e && entry_matches(e, &v, cur))
		return plan_known(p, e, &v, p->end, write);
	/* What the arena knew of this VMA's range is stale (unmapped,
	 * replaced or moved behind the shim's back): the kernel pins what
	 * is mapped now. */
	if (e) {
		if (arena_forget(v.start, v.end))
			return sio_err(-ENOMEM, "umem: out of memory");
		rc = sio_vma_query(cur, &v, name, sizeof(name));
		if (rc)
			return sio_err(rc, "umem: 0x%llx is not mapped",
				       (unsigned long long)cur);
		p->end = min_u64(v.end, end);
	}
	if (vma_special(&v))
		return sio_err(-EFAULT, "umem: 0x%llx is in a special mapping (%.*s)",
			       (unsigned long long)cur, (int)v.path_len, v.path);
	rc = check_prot(&v, cur, write);
	if (rc)
		return rc;
	p->hsize = vma_hugetlb_size(&v);
	if (p->hsize && ((v.start | v.end) & (p->hsize - 1)))
		return sio_err(-EOPNOTSUPP, "umem: hugetlb mapping at 0x%llx is not aligned to its page size",
			       (unsigned long long)v.start);
	if (v.shared) {
		p->memory = vma_memory_backed(&v, p->hsize);
		p->sysv = v.path_len >= 5 && !memcmp(v.path, "/SYSV", 5);
		if (write && !p->memory)
			return sio_err(-EFAULT, "umem: no writable long-term pin of a shared file mapping (%.*s)",
				       (int)v.path_len, v.path);
		p->kind = PIECE_SHARED;
	} else {
		uint64_t w = p->hsize ? p->hsize : self_info.page_size;

		p->kind = PIECE_UNSHARE;
		p->wstart = max_u64(v.start, p->start & ~(w - 1));
		p->wend = min_u64(v.end, (p->end + w - 1) & ~(w - 1));
		/* Whatever the arena knew there is stale (the range is
		 * private now); forgetting it retires its slot, whose offsets
		 * here may hold pages a pin still uses. */
		if (arena_forget(p->wstart, p->wend))
			return sio_err(-ENOMEM, "umem: out of memory");
	}
	v.path = NULL;
	v.path_len = 0;
	p->vma = v;
	return 0;
}

/* Protections of a view: what the program may do, never execute. */
static int view_prot(const struct sio_vma *v)
{
	return (int)(v->prot & (PROT_READ | PROT_WRITE));
}

/* A descriptor of the file behind VMA v (map_files needs CAP_SYS_ADMIN or
 * CAP_CHECKPOINT_RESTORE), checked to be that file; -1 if none. */
static int vma_open_file(const struct sio_vma *v, int oflags)
{
	struct statfs sfs;
	struct stat st;
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/map_files/%llx-%llx",
		 (unsigned long long)v->start, (unsigned long long)v->end);
	fd = sio_sys_open(path, oflags);
	if (fd < 0 && v->path_len && vma_file(v, &st, &sfs)) {
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
	if (fd >= 0)
		fd = sio_umem_fd_keep(fd);
	if (fd < 0)
		fd = -1;
	return fd;
}

/*
 * A view of the whole shared VMA v: mremap(start, 0, len) makes a second
 * mapping of the same pages; the kernel refuses that for hugetlb, whose
 * file is mapped again instead.
 */
static int make_shared(const struct piece *p, struct arena_file **out)
{
	const struct sio_vma *v = &p->vma;
	int oflags = O_CLOEXEC | ((v->prot & PROT_WRITE) ? O_RDWR : O_RDONLY);
	size_t len = (size_t)(v->end - v->start);
	struct arena_entry *e = NULL;
	struct arena_file *f;
	void *a;
	int fd;

	fd = vma_open_file(v, oflags);
	if (p->hsize) {
		if (fd < 0)
			return sio_err(-EOPNOTSUPP, "umem: cannot alias shared hugetlb memory at 0x%llx: its file is not reachable (needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE, or a hugetlbfs path)",
				       (unsigned long long)p->start);
		a = sio_sys_mmap(NULL, len, view_prot(v), MAP_SHARED, fd,
				 (off_t)v->offset);
	} else {
		a = sio_sys_mremap((void *)(uintptr_t)v->start, 0, len,
				   MREMAP_MAYMOVE, NULL);
		if (a != MAP_FAILED && (v->prot & PROT_EXEC))
			sio_sys_mprotect(a, len, view_prot(v));
	}
	if (a == MAP_FAILED) {
		int rc = -errno;

		if (fd >= 0)
			sio_fd_private_close(fd);
		return sio_err(rc, "umem: cannot alias shared memory at 0x%llx",
			       (unsigned long long)p->start);
	}
	f = arena_file_new(fd, v->dev, v->ino, a, v->offset, len, p->hsize,
			   false);
	if (f)
		f->writeback = !p->memory;
	if (!f || !(e = arena_entry_add(v->start, v->end, f, v->offset,
					 v->prot))) {
		if (f) {
			arena_file_put(f);
		} else {
			sio_sys_munmap(a, len);
			if (fd >= 0)
				sio_fd_private_close(fd);
		}
		return sio_err(-ENOMEM, "umem: out of memory");
	}
	/* SysV segments are never watched: shmdt sends no event. */
	e->watched = !p->sysv && sio_watch_add(v->start, v->end);
	arena_file_put(f);	/* the entry holds it */
	*out = f;
	return 0;
}

/*
 * Copy the program's pages into the slot.  In anonymous memory, pages
 * that were never touched (neither present nor swapped out, by
 * /proc/self/pagemap) read as zeros, which the memfd's holes already are:
 * a large piece skips them, so that a pin of untouched memory (a VMM's
 * guest memory when it is first mapped) costs no copy and no memory until
 * someone writes it.  Small pieces, and without pagemap, copy everything.
 */
#define PM_PRESENT (1ull << 63)
#define PM_SWAP (1ull << 62)

/*
 * A small piece of a regular memfd is written with pwrite(), not copied
 * through the view: the kernel fills a new page of the file without
 * zeroing it first and without the view's page fault, a third of the
 * cost of the first pin of a page.  Short (a page of the program's gone
 * meanwhile), it is copied through the view, whose copy says -EFAULT.
 */
static int copy_small(const struct piece *p, int memfd, uint64_t off,
		      void *view, size_t len)
{
	if (!p->hsize && memfd >= 0 &&
	    syscall(SYS_pwrite64, memfd, (const void *)(uintptr_t)p->wstart,
		    len, (off_t)off) == (long)len)
		return 0;
	return sio_umem_self_copy(false, view, p->wstart, len);
}

static int copy_window(const struct piece *p, int memfd, uint64_t off,
		       void *view, size_t len)
{
	size_t ps = self_info.page_size, npages = len / ps, i = 0;
	uint64_t ent[512];
	int fd = -1, rc = 0;

	if (!p->vma.ino && !p->hsize && npages > 16)
		fd = sio_sys_open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return copy_small(p, memfd, off, view, len);
	while (i < npages && !rc) {
		size_t n = npages - i < 512 ? npages - i : 512, j, run;
		ssize_t got = pread(fd, ent, n * sizeof(ent[0]),
				    (off_t)((p->wstart / ps + i) * sizeof(ent[0])));

		if (got != (ssize_t)(n * sizeof(ent[0]))) {
			/* Not answered: copy the rest whole. */
			rc = sio_umem_self_copy(false, (char *)view + i * ps,
				       p->wstart + i * ps, (npages - i) * ps);
			break;
		}
		for (j = 0; j < n && !rc; j += run) {
			bool used = ent[j] & (PM_PRESENT | PM_SWAP);

			for (run = 1; j + run < n &&
				      !!(ent[j + run] & (PM_PRESENT | PM_SWAP)) == used;
			     run++)
				;
			if (used)
				rc = sio_umem_self_copy(false, (char *)view + (i + j) * ps,
					       p->wstart + (i + j) * ps, run * ps);
		}
		i += n;
	}
	sio_sys_close(fd);
	return rc;
}

/* A new slot for the private VMA v: a memfd of its size (of its huge page
 * size for private hugetlb), mapped whole as the view, remembered for
 * fork.  Holes cost nothing until pages are copied in. */
static int slot_new(const struct piece *p, struct arena_file **out)
{
	const struct sio_vma *v = &p->vma;
	size_t len = (size_t)(v->end - v->start);
	unsigned int mflags = MFD_CLOEXEC;
	bool exec = v->prot & PROT_EXEC;
	struct arena_file *f;
	struct self_view *w;
	struct stat st;
	int fd, rc;
	void *a;

	w = sio_calloc(1, sizeof(*w));
	if (!w)
		return sio_err(-ENOMEM, "umem: out of memory");
	if (p->hsize)
		mflags |= MFD_HUGETLB | (log2_size(p->hsize) << MFD_HUGE_SHIFT);
	/* Say whether the memfd may be executed (kernels since 6.3 warn when
	 * neither is given); older kernels reject both, so retry bare. */
	fd = memfd_create("softiommu-pin", mflags |
			  (exec ? MFD_EXEC : MFD_NOEXEC_SEAL));
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create("softiommu-pin", mflags);
	if (fd < 0) {
		rc = p->hsize ? -EOPNOTSUPP : -errno;
		sio_err(rc, "umem: memfd_create for private %s memory at 0x%llx",
			p->hsize ? "hugetlb" : "", (unsigned long long)p->start);
		goto err_free;
	}
	fd = sio_umem_fd_keep(fd);
	if (fd < 0) {
		rc = sio_err(-ENOMEM, "umem: out of memory");
		goto err_free;
	}
	if (ftruncate(fd, (off_t)len) || fstat(fd, &st)) {
		rc = sio_err(-errno, "umem: sizing the memfd of a pin");
		goto err_close;
	}
	/* A hugetlb view of the whole region would reserve huge pages for
	 * all of it: MAP_NORESERVE leaves that to the pieces' faults. */
	a = sio_sys_mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | (p->hsize ? MAP_NORESERVE : 0), fd, 0);
	if (a == MAP_FAILED) {
		rc = sio_err(-errno, "umem: mapping the memfd of a pin%s",
			     p->hsize ? " (no free huge pages?)" : "");
		goto err_close;
	}
	f = arena_file_new(fd, st.st_dev, st.st_ino, a, 0, len, p->hsize, true);
	if (!f) {
		sio_sys_munmap(a, len);
		rc = sio_err(-ENOMEM, "umem: out of memory");
		goto err_close;
	}
	f->exec = exec;
	f->snode.start = v->start;
	f->snode.last = v->end - 1;
	arena_slot_add(f);
	w->start = v->start;
	w->end = v->end;
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	w->hsize = p->hsize;
	w->next = self_views;
	self_views = w;
	*out = f;		/* the caller's reference */
	return 0;

err_close:
	sio_fd_private_close(fd);
err_free:
	free(w);
	return rc;
}

/*
 * Unshare the pages of a private piece into its region's slot: a
 * fault-safe copy of the program's pages into the slot at their offset,
 * then the slot mapped MAP_SHARED|MAP_FIXED over those pages with the
 * VMA's protections.
 */
static int make_unshared(const struct piece *p, struct arena_file **out)
{
	const struct sio_vma *v = &p->vma;
	size_t len = (size_t)(p->wend - p->wstart);
	struct arena_entry *e;
	struct arena_file *f;
	uint64_t off;
	void *view;
	int rc;

	f = arena_slot_find(p->wstart, p->wend, p->hsize, v->prot & PROT_EXEC);
	if (f) {
		arena_file_get(f);
	} else {
		rc = slot_new(p, &f);
		if (rc)
			return rc;
	}
	off = p->wstart - f->snode.start;
	/* The copy is fault-safe: the program may change its view under us. */
	rc = copy_window(p, f->fd, off, (char *)f->view + off, len);
	if (rc) {
		sio_err(rc, "umem: cannot read private memory at 0x%llx to unshare it",
			(unsigned long long)p->wstart);
		goto out_put;
	}
	view = sio_sys_mmap((void *)(uintptr_t)p->wstart, len, (int)v->prot,
			    MAP_SHARED | MAP_FIXED, f->fd, (off_t)off);
	if (view == MAP_FAILED) {
		rc = sio_err(-errno, "umem: cannot replace private memory at 0x%llx by a shared copy",
			     (unsigned long long)p->wstart);
		goto out_put;
	}
	e = arena_entry_add(p->wstart, p->wend, f, off, v->prot);
	if (!e) {
		/* The program keeps a shared view of the copy: harmless, and
		 * fork still copies it (the slot is in self_views). */
		rc = sio_err(-ENOMEM, "umem: out of memory");
		goto out_put;
	}
	e->watched = sio_watch_add(p->wstart, p->wend);
	arena_entry_merge(e);
	*out = f;
out_put:
	arena_file_put(f);	/* the entry holds it */
	return rc;
}

/*
 * The pin hint: the arena entry the last pin of one known piece used, for
 * the next pin inside it without self_lock, the arena lookups or the
 * checks (a map and unmap of the same buffer in a loop, a VMM's guest
 * memory mapped piece by piece).  Only a watched entry of a memfd the
 * library made is recorded: the kernel reports any unmap or move of the
 * range, and the file is never truncated.
 *
 * A seqlock on arena_seq (arena.h).  The writer (self_lock held) makes it
 * odd, writes the fields, and makes it even again, the hint's seq being
 * that value.  A pin uses the hint only if it reads arena_seq even and
 * equal to the hint's before it reads the fields, finds the watch quiet
 * (sio_watch_quiet), takes a reference on the file while it has one
 * (arena_file_get_live), and reads arena_seq unchanged after.  Then no
 * entry changed from its first read to its last (every change advances
 * arena_seq first), so the entry the hint names was in the arena all
 * along and still maps the file: the kernel reported no unmap of it that
 * a pin made now would have to apply, as with the lock (watch.c: the
 * queue is emptied only after arena_seq advanced).  The file, which the
 * entry held, is the one the reference was taken on.  Otherwise the
 * reference, if taken, is dropped and the pin takes self_lock.
 */
static struct {
	unsigned long seq;		/* arena_seq the fields are valid at */
	uint64_t start, last;		/* the entry's program range */
	uint64_t off;			/* file offset at start */
	uint64_t host;			/* view address of offset off */
	struct arena_file *file;
	int fd;
	unsigned int prot;
} pin_hint;				/* atomics, written under self_lock */

#define HINT_LD(x) __atomic_load_n(&pin_hint.x, __ATOMIC_RELAXED)
#define HINT_ST(x, v) __atomic_store_n(&pin_hint.x, (v), __ATOMIC_RELAXED)

/* Record e (watched, of a memfd the library made); self_lock held. */
static void hint_set(const struct arena_entry *e)
{
	const struct arena_file *f = e->file;
	unsigned long s = arena_seq;

	__atomic_store_n(&arena_seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	HINT_ST(start, e->node.start);
	HINT_ST(last, e->node.last);
	HINT_ST(off, e->off);
	HINT_ST(host, (uint64_t)(uintptr_t)f->view + (e->off - f->view_off));
	HINT_ST(file, e->file);
	HINT_ST(fd, f->fd);
	HINT_ST(prot, e->prot);
	HINT_ST(seq, s + 2);
	__atomic_store_n(&arena_seq, s + 2, __ATOMIC_RELEASE);
}

static void file_put_any(struct arena_file *f)
{
	if (arena_file_put_unlocked(f))
		return;
	pthread_mutex_lock(&self_lock);
	arena_file_put(f);
	pthread_mutex_unlock(&self_lock);
}

/* The pin of [start, end) as one piece through the hint, into c; false if
 * the hint does not vouch for it (the caller pins with self_lock then). */
static bool pin_hinted(uint64_t start, uint64_t end, bool write,
		       struct sio_umem_chunk *c)
{
	unsigned long s = __atomic_load_n(&arena_seq, __ATOMIC_ACQUIRE);
	uint64_t hstart, hlast, off, host;
	struct arena_file *f;
	unsigned int prot;
	int fd;

	if ((s & 1) || HINT_LD(seq) != s)
		return false;
	hstart = HINT_LD(start);
	hlast = HINT_LD(last);
	off = HINT_LD(off);
	host = HINT_LD(host);
	f = HINT_LD(file);
	fd = HINT_LD(fd);
	prot = HINT_LD(prot);
	if (start < hstart || end - 1 > hlast || !(prot & PROT_READ) ||
	    (write && !(prot & PROT_WRITE)) || !sio_watch_quiet() ||
	    !arena_file_get_live(f))
		return false;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&arena_seq, __ATOMIC_RELAXED) != s) {
		file_put_any(f);
		return false;
	}
	c->uaddr = start;
	c->len = (size_t)(end - start);
	c->host = host + (start - hstart);
	c->afile = f;
	c->fd = fd;
	c->fd_offset = off + (start - hstart);
	return true;
}

#undef HINT_LD
#undef HINT_ST

static void self_unpin(struct sio_umem_owner *owner,
		       struct sio_umem_chunk *chunks, size_t nchunks)
{
	size_t i;

	(void)owner;
	/* A file the arena still knows (its entry holds it) loses a
	 * reference without the lock: unpinning a known page takes none. */
	for (i = 0; i < nchunks; i++)
		if (!arena_file_put_unlocked(chunks[i].afile))
			break;
	if (i < nchunks) {
		pthread_mutex_lock(&self_lock);
		for (; i < nchunks; i++)
			arena_file_put(chunks[i].afile);
		pthread_mutex_unlock(&self_lock);
	}
}

static int self_pin(struct sio_umem_owner *owner, uint64_t start, size_t len,
		    unsigned int flags, struct sio_umem_chunk **out,
		    size_t *nout)
{
	bool write = flags & SIO_UMEM_PIN_WRITE;
	uint64_t end = start + len, cur = start;
	struct sio_umem_chunk *chunks = NULL, *room = *out;
	struct piece one, *pieces = &one;
	size_t n = 0, cap = 1, i;
	bool watching;
	int rc = 0;

	(void)owner;
	/* One piece into the pin's own room: the hint first (not with fault
	 * injection armed, so that the sites below count as they would). */
	if (room && !sio_fail_nth_left && pin_hinted(start, end, write, room)) {
		*nout = 1;
		return 0;
	}
	pthread_mutex_lock(&self_lock);
	watching = sio_watch_sync();
	/* First every piece is planned and checked, then made. */
	while (cur < end) {
		struct piece *p;

		if (n == cap) {
			struct piece *np;

			cap *= 4;
			np = sio_malloc(cap * sizeof(*np));
			if (!np) {
				rc = sio_err(-ENOMEM, "umem: out of memory");
				goto out;
			}
			memcpy(np, pieces, n * sizeof(*np));
			if (pieces != &one)
				free(pieces);
			pieces = np;
		}
		p = &pieces[n++];
		memset(p, 0, offsetof(struct piece, vma));
		p->start = cur;
		rc = plan_piece(p, end, write, watching);
		if (rc)
			goto out;
		cur = p->end;
	}
	/* One piece (a pin of a known page) goes in the pin's own room,
	 * unless fault injection is armed: then the allocation site counts. */
	if (n == 1 && room && !sio_fail_nth_left)
		chunks = room;
	else
		chunks = sio_calloc(n, sizeof(*chunks));
	if (!chunks) {
		rc = sio_err(-ENOMEM, "umem: out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct piece *p = &pieces[i];
		struct sio_umem_chunk *c = &chunks[i];
		struct arena_file *f = p->file;
		uint64_t foff = p->foff;

		if (p->kind == PIECE_SHARED) {
			foff = p->vma.offset + (p->start - p->vma.start);
			rc = make_shared(p, &f);
			if (!rc)
				rc = check_file_pages(f, foff, p->end - p->start,
						      p->start);
		} else if (p->kind == PIECE_UNSHARE) {
			rc = make_unshared(p, &f);
			if (!rc)
				foff = p->start - f->snode.start;
		}
		if (rc)
			break;
		arena_file_get(f);
		c->uaddr = p->start;
		c->len = (size_t)(p->end - p->start);
		c->host = (uint64_t)(uintptr_t)f->view + (foff - f->view_off);
		c->afile = f;
		c->fd = f->fd;
		c->fd_offset = foff;
	}
	if (rc) {
		/* Pieces already unshared stay shared views of their memfds,
		 * which is harmless: same contents, and fork still copies. */
		while (i--)
			arena_file_put(chunks[i].afile);
		if (chunks != room)
			free(chunks);
		goto out;
	}
	*out = chunks;
	*nout = n;
	if (n == 1 && pieces[0].kind == PIECE_KNOWN && watching &&
	    pieces[0].entry->watched && pieces[0].file->unshared)
		hint_set(pieces[0].entry);
out:
	__atomic_store_n(&self_known, true, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&self_lock);
	if (pieces != &one)
		free(pieces);
	return rc;
}

/* The shim saw [addr, addr + len) unmapped or replaced (munmap, mmap
 * MAP_FIXED, mremap's old range, shmdt): forget what the arena knew of
 * it.  Pins are unaffected (their views stay); this only saves the next
 * pin there a lookup that would find the entry stale. */
SIO_API void sio_umem_notify_unmap(uint64_t addr, uint64_t len)
{
	struct self_view **pw;
	uint64_t end;

	if (!__atomic_load_n(&self_known, __ATOMIC_RELAXED))
		return;
	if (!len || __builtin_add_overflow(addr, len, &end))
		end = UINT64_MAX;
	pthread_mutex_lock(&self_lock);
	arena_forget(addr, end);
	/* Views wholly gone need no copy at fork any more. */
	for (pw = &self_views; *pw;) {
		struct self_view *w = *pw;

		if (w->start >= addr && w->end <= end) {
			*pw = w->next;
			free(w);
		} else {
			pw = &w->next;
		}
	}
	pthread_mutex_unlock(&self_lock);
}

SIO_API void sio_umem_arena_stats(struct sio_umem_arena_stats *out)
{
	pthread_mutex_lock(&self_lock);
	arena_counts(&out->files, &out->entries, &out->watched);
	out->queries = sio_vma_nqueries;
	out->maps_reads = sio_vma_nreads;
	pthread_mutex_unlock(&self_lock);
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
	struct sio_vma v;
	int rc;

	(void)owner;
	pthread_mutex_lock(&self_lock);
	rc = sio_vma_query(uaddr, &v, NULL, 0);
	pthread_mutex_unlock(&self_lock);
	if (rc)
		return rc;
	/* Shared and backed by an inode (ino 0: anonymous). */
	if (!v.shared || !v.ino)
		return -ENOENT;
	*dev = v.dev;
	*ino = v.ino;
	*offset = v.offset + (uaddr - v.start);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Owner                                                                */
/* ------------------------------------------------------------------ */

/* Owners of this process alive; the arena keeps what it learnt while
 * there is one (under self_lock). */
static unsigned long self_owners;

static void self_release(struct sio_umem_owner *owner)
{
	free(owner);
	pthread_mutex_lock(&self_lock);
	/* No owner, so no pin: the arena's files are only cache now. */
	if (!--self_owners) {
		arena_forget_all();
		sio_watch_stop();
		sio_vma_close();
	}
	pthread_mutex_unlock(&self_lock);
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
	pthread_mutex_lock(&self_lock);
	self_owners++;
	pthread_mutex_unlock(&self_lock);
	*out = owner;
	return 0;
}
