/*
 * The shim's path interposers: the host namespace of the emulated machine
 * (softiommu/machine.h, docs/host-namespace.md) as programs see it.
 *
 * The machine is created on the first path that may be emulated (one
 * under /sys or /dev) and kept for the process's lifetime; a fork child
 * keeps its copy.  Its namespace is the tree `softiommu run` built
 * ($SOFTIOMMU_MACHINE_DIR), checked to describe the same machine, or else
 * a private tree this process builds and removes at exit.
 *
 * Every call that takes a path asks the machine to resolve it: a path under
 * one of the namespace's roots is replaced by the tree's path and the call
 * goes on to libc with it, so stat, readlink, realpath, opendir and open
 * agree as they do on one filesystem; everything else reaches libc as
 * given.  On top of that:
 *  - an open or fopen of a device node (/dev/vfio/..., /dev/iommu) or of a
 *    generated file (the debugfs page-table dump, config) is the machine's
 *    open, found by the placeholder's inode, so any name of it works;
 *  - stat of a device node reports a character device with its number;
 *  - realpath maps the tree's answer back into the program's namespace;
 *  - opendir/readdir of a host directory above the roots (a union, e.g.
 *    /sys/bus/pci/devices) lists the host's entries, then the tree's that
 *    the host lacks.
 *
 * glibc's fopen, opendir, scandir and realpath reach the kernel through
 * internal calls, not through open/stat/readlink, so they are interposed
 * here themselves.  Relative paths are never emulated (a cwd inside the
 * tree is out of scope), but a descriptor opened on a tree directory is a
 * real one, so openat() relative to it works.
 *
 * Reentrancy: the library calls libc too (creating the machine checks the
 * host's /sys, writes and reads the tree); a thread-local depth makes
 * every interposer pass straight through while the machine is being
 * created, and the tree's own paths are under $TMPDIR, never emulated.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "softiommu/common.h"
#include "softiommu/file.h"
#include "softiommu/machine.h"
#include "file/fail_files.h"
#include "file/file.h"
#include "preload/interpose.h"
#include "preload/shared.h"
#include "machine/served.h"
#include "preload/vfs.h"
#include "machine/namespace.h"

/* glibc's other names for what is interposed, for REAL(). */
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st,
		 int flags);
ssize_t __readlink_chk(const char *path, char *buf, size_t len, size_t buflen);
ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t len,
			 size_t buflen);
char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen);
void __chk_fail(void) __attribute__((noreturn));

static long fail(long err)
{
	errno = (int)-err;
	return -1;
}

/* ------------------------------------------------------------------ */
/* The machine                                                          */
/* ------------------------------------------------------------------ */

/* machine_lock protects creating the machine (machine, machine_err); it
 * is taken inside the fork gate, so a fork never copies it held.  The
 * machine never changes once published, so readers load the pointer. */
static pthread_mutex_t machine_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sio_machine *machine;
static int machine_err;
/* Non-zero while this thread creates the machine: pass everything. */
static _Thread_local int vfs_busy;

/* The private tree's owner removes it at exit (not a fork child). */
static pid_t private_owner;
static char private_dir[PATH_MAX];

static void remove_private(void)
{
	if (private_owner == getpid())
		sio_machine_namespace_remove(private_dir);
}

static int machine_create(struct sio_machine **out)
{
	struct sio_machine_config cfg = { .devices = getenv("SOFTIOMMU_DEVICES") };
	const char *dir = getenv("SOFTIOMMU_MACHINE_DIR");
	struct sio_machine *m;
	int rc;

	rc = sio_machine_create(&cfg, &m);
	if (rc)
		return rc;
	if (!dir || !*dir || sio_machine_namespace_attach(m, dir)) {
		rc = sio_machine_namespace_private(m);
		if (rc) {
			sio_machine_destroy(m);
			return rc;
		}
		snprintf(private_dir, sizeof(private_dir), "%s",
			 sio_machine_namespace_dir(m));
		private_owner = getpid();
		atexit(remove_private);
	}
	*out = m;
	return 0;
}

struct sio_machine *sio_vfs_machine_created(void)
{
	return __atomic_load_n(&machine, __ATOMIC_ACQUIRE);
}

/* The machine, created on first use; NULL if it could not be (the reason
 * in machine_err, told once on stderr) or while it is being created. */
static struct sio_machine *vfs_machine(void)
{
	struct sio_machine *m = __atomic_load_n(&machine, __ATOMIC_ACQUIRE);

	if (m || vfs_busy)
		return m;
	vfs_busy++;
	sio_file_gate_enter();
	pthread_mutex_lock(&machine_lock);
	if (!machine && !machine_err) {
		machine_err = machine_create(&m);
		if (machine_err)
			fprintf(stderr, "softiommu: the emulated machine: %s\n",
				sio_last_error());
		else
			__atomic_store_n(&machine, m, __ATOMIC_RELEASE);
	}
	m = machine;
	pthread_mutex_unlock(&machine_lock);
	sio_file_gate_exit();
	vfs_busy--;
	return m;
}

/* Whether path may be emulated at all: absolute, under /sys or /dev.  The
 * cheap test every call makes before anything else. */
static bool candidate(const char *path)
{
	if (!path || path[0] != '/' || vfs_busy)
		return false;
	while (*path == '/')
		path++;
	return (!strncmp(path, "sys", 3) || !strncmp(path, "dev", 3)) &&
	       (path[3] == '/' || !path[3]);
}

/* Resolve path: the machine's answer in *p, kind NONE if not emulated. */
static enum sio_machine_path_kind resolve(const char *path,
					  struct sio_machine_path *p)
{
	struct sio_machine *m;

	p->kind = SIO_MACHINE_PATH_NONE;
	if (!candidate(path) || !(m = vfs_machine()))
		return p->kind;
	return sio_machine_resolve(m, path, p);
}

/* The path a call should use: the tree's for a redirected path. */
static const char *vfs_path(const char *path, struct sio_machine_path *p)
{
	return resolve(path, p) == SIO_MACHINE_PATH_REDIRECT ? p->path : path;
}

/* The node a stat of the tree's file found, if it is one. */
static bool vfs_node(const struct stat *st, struct sio_machine_node *node)
{
	struct sio_machine *m = __atomic_load_n(&machine, __ATOMIC_ACQUIRE);

	return m && sio_machine_lookup_node(m, st, node) == 1;
}

static int node_open(const struct sio_machine_node *node, int flags)
{
	int rc;

	/* Shared mode: /dev/iommu, the VFIO nodes and the files that show
	 * their state are the server's (shared.c). */
	if (sio_shared_on() && sio_machine_node_served(machine, node->id))
		return sio_shared_open(node->rdev == makedev(SIO_NS_MISC_MAJOR,
							     SIO_NS_IOMMU_MINOR) ?
				       0 : (uint64_t)node->id + 1,
				       node->device ? node->rdev : 0, flags);

	sio_file_gate_enter();
	rc = sio_machine_open(machine, node, flags);
	if (rc >= 0 && node->device) {
		/* fstat of the descriptor shows the node (see fix_fd_stat). */
		struct sio_file *f = sio_file_lookup(rc);

		if (f) {
			sio_file_set_rdev(f, node->rdev);
			sio_file_put(f);
		}
	}
	sio_file_gate_exit();
	return rc;
}

/* ------------------------------------------------------------------ */
/* open and fopen                                                       */
/* ------------------------------------------------------------------ */

/* A redirected path that names a node: open it through the machine. */
/* The file dirfd and path name, if it is a node: its open. */
static bool open_node_at(int dirfd, const char *path, int flags, int *fd)
{
	struct sio_machine_node node;
	struct stat st;

	if (flags & O_PATH)
		return false;
	if (REAL(fstatat)(dirfd, path, &st,
			  (flags & O_NOFOLLOW) ? AT_SYMLINK_NOFOLLOW : 0) ||
	    !vfs_node(&st, &node))
		return false;
	if ((flags & O_CREAT) && (flags & O_EXCL))
		*fd = (int)fail(-EEXIST);
	else if ((*fd = node_open(&node, flags)) < 0)
		*fd = (int)fail(*fd);
	return true;
}

static bool open_node(const char *tree_path, int flags, int *fd)
{
	return open_node_at(AT_FDCWD, tree_path, flags, fd);
}

/* ------------------------------------------------------------------ */
/* /proc/.../fail-nth                                                   */
/* ------------------------------------------------------------------ */

/* A decimal number component of path at *s, moving *s past it. */
static bool proc_number(const char **s, long *out)
{
	char *end;

	if (**s < '0' || **s > '9')
		return false;
	errno = 0;
	*out = strtol(*s, &end, 10);
	if (errno || *end != '/' || *out <= 0 || *out > INT_MAX)
		return false;
	*s = end + 1;
	return true;
}

/* The thread whose fail-nth file path names, if it is a thread of this
 * process: /proc/thread-self/fail-nth, /proc/{self,<pid>}/fail-nth (the
 * main thread, as the kernel's thread-group entry names the leader),
 * /proc/{self,<pid>}/task/<tid>/fail-nth.  0 for any other path. */
static pid_t proc_fail_nth_tid(const char *path)
{
	pid_t pid = getpid();
	const char *s = path + 6;
	char task[64];
	struct stat st;
	long n, tid;

	if (strncmp(path, "/proc/", 6))
		return 0;
	if (!strcmp(s, "thread-self/fail-nth"))
		return (pid_t)syscall(SYS_gettid);
	if (!strncmp(s, "self/", 5))
		s += 5;
	else if (!proc_number(&s, &n) || n != pid)
		return 0;
	if (!strcmp(s, "fail-nth"))
		return pid;
	if (strncmp(s, "task/", 5))
		return 0;
	s += 5;
	if (!proc_number(&s, &tid) || strcmp(s, "fail-nth"))
		return 0;
	/* A thread of this process has its directory under our task/. */
	snprintf(task, sizeof(task), "/proc/%d/task/%ld", (int)pid, tid);
	if (REAL(stat)(task, &st))
		return 0;
	return (pid_t)tid;
}

static bool proc_open(const char *path, int flags, int *fd)
{
	pid_t tid = proc_fail_nth_tid(path);

	if (!tid)
		return false;
	sio_file_gate_enter();
	*fd = sio_fail_nth_open(tid, flags);
	sio_file_gate_exit();
	if (*fd < 0)
		*fd = (int)fail(*fd);
	return true;
}

/* ------------------------------------------------------------------ */
/* /proc/<pid>/status in shared mode                                   */
/* ------------------------------------------------------------------ */

/* The pid whose status file path names (/proc/self/status,
 * /proc/<pid>/status), or 0. */
static pid_t proc_status_pid(const char *path)
{
	const char *s = path + 6;
	long n;

	if (!strcmp(s, "self/status"))
		return getpid();
	if (proc_number(&s, &n) && !strcmp(s, "status"))
		return (pid_t)n;
	return 0;
}

/* Add pages (in kB) to the figure of the line that starts with tag. */
static size_t status_add(char *out, size_t cap, size_t len, const char *line,
			 size_t llen, const char *tag, uint64_t pages)
{
	unsigned long kb;

	if (strncmp(line, tag, strlen(tag)) ||
	    sscanf(line + strlen(tag), "%lu", &kb) != 1)
		return 0;
	kb += (unsigned long)(pages * ((uint64_t)sysconf(_SC_PAGESIZE) / 1024));
	(void)llen;
	return (size_t)snprintf(out + len, cap - len, "%s\t%8lu kB\n", tag, kb);
}

/*
 * VmPin and VmLck are the kernel's mm->pinned_vm and mm->locked_vm.  In
 * shared mode the pins of a process of the run are in the server, so a
 * read-only open of its status file gives the real file with the
 * server's figures for that pid added: a memfd made at open, as the
 * kernel makes the text at read.
 */
static bool proc_status_open(const char *path, int flags, int *fd)
{
	pid_t pid = proc_status_pid(path);
	char in[16384], out[16640];
	size_t len = 0, olen = 0;
	uint64_t pinned, locked;
	int rfd;

	if (!pid || (flags & O_ACCMODE) != O_RDONLY || !sio_shared_on() ||
	    sio_shared_status(pid, &pinned, &locked))
		return false;
	rfd = REAL(open)(path, O_RDONLY | O_CLOEXEC);
	if (rfd < 0) {
		*fd = -1;
		return true;	/* errno is open's */
	}
	for (;;) {
		ssize_t n = REAL(read)(rfd, in + len, sizeof(in) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	REAL(close)(rfd);
	in[len] = '\0';
	for (char *line = in; *line && olen < sizeof(out) - 1;) {
		char *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line + 1) : strlen(line);
		size_t w = status_add(out, sizeof(out), olen, line, ll,
				      "VmPin:", pinned);

		if (!w)
			w = status_add(out, sizeof(out), olen, line, ll,
				       "VmLck:", locked);
		if (!w) {
			w = ll < sizeof(out) - 1 - olen ? ll : sizeof(out) - 1 - olen;
			memcpy(out + olen, line, w);
		}
		olen += w;
		line += ll;
	}
	*fd = memfd_create("status", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	if (*fd < 0)
		return true;
	if (REAL(write)(*fd, out, olen) != (ssize_t)olen ||
	    lseek(*fd, 0, SEEK_SET) != 0) {
		int err = errno;

		REAL(close)(*fd);
		errno = err;
		*fd = -1;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Opens relative to a directory descriptor                             */
/* ------------------------------------------------------------------ */

static bool union_dir_path(int fd, char *buf, size_t size);

bool sio_vfs_openat(int dirfd, const char *path, int flags, mode_t mode,
		    int *fd)
{
	char full[PATH_MAX];

	if (!path || path[0] == '/' || dirfd == AT_FDCWD || vfs_busy)
		return sio_vfs_open(path, flags, mode, fd);
	if (!__atomic_load_n(&machine, __ATOMIC_ACQUIRE))
		return false;
	/* A union directory's descriptor (opendir's, dirfd(3)) is the host's
	 * directory: its emulated entries are reached by their full path. */
	if (union_dir_path(dirfd, full, sizeof(full)) &&
	    strlen(full) + 1 + strlen(path) < sizeof(full)) {
		strcat(full, "/");
		strcat(full, path);
		if (sio_vfs_open(full, flags, mode, fd))
			return true;
	}
	/* A tree directory's descriptor reaches the tree's placeholders: a
	 * node among them is the machine's open. */
	return open_node_at(dirfd, path, flags, fd);
}

bool sio_vfs_open(const char *path, int flags, mode_t mode, int *fd)
{
	struct sio_machine_path p;

	if (path && !vfs_busy && !strncmp(path, "/proc/", 6))
		return proc_open(path, flags, fd) ||
		       proc_status_open(path, flags, fd);
	if (!candidate(path))
		return false;
	if (!vfs_machine()) {
		/* Without a machine, /dev/iommu fails as its creation did. */
		if (strcmp(path, "/dev/iommu"))
			return false;
		*fd = (int)fail(machine_err);
		return true;
	}
	if (resolve(path, &p) != SIO_MACHINE_PATH_REDIRECT)
		return false;
	if (open_node(p.path, flags, fd))
		return true;
	*fd = REAL(openat)(AT_FDCWD, p.path, flags, mode);
	return true;
}

/* fopen(3)'s mode as open(2)'s flags. */
static int mode_flags(const char *mode)
{
	int flags;

	switch (mode[0]) {
	case 'r':
		flags = 0;
		break;
	case 'w':
		flags = O_CREAT | O_TRUNC;
		break;
	case 'a':
		flags = O_CREAT | O_APPEND;
		break;
	default:
		return -1;
	}
	flags |= strchr(mode, '+') ? O_RDWR : mode[0] == 'r' ? O_RDONLY : O_WRONLY;
	if (strchr(mode, 'e'))
		flags |= O_CLOEXEC;
	if (strchr(mode, 'x'))
		flags |= O_EXCL;
	return flags;
}

/* fopen of a node: its descriptor as a stream. */
static bool fopen_node(const char *tree_path, const char *mode, FILE **out)
{
	int flags = mode ? mode_flags(mode) : -1;
	int fd;

	if (flags < 0 || !open_node(tree_path, flags, &fd))
		return false;
	*out = NULL;
	if (fd >= 0 && !(*out = fdopen(fd, mode))) {
		int err = errno;

		close(fd);
		errno = err;
	}
	return true;
}

/* fopen and fopen64, with next the libc one: a /proc status file of ours,
 * a generated node, or the path as it resolves. */
static FILE *do_fopen(FILE *(*next)(const char *, const char *),
		      const char *path, const char *mode)
{
	struct sio_machine_path p;
	FILE *f;
	int fd, flags;

	if (path && mode && !vfs_busy && !strncmp(path, "/proc/", 6) &&
	    (flags = mode_flags(mode)) >= 0 &&
	    proc_status_open(path, flags, &fd)) {
		if (fd < 0)
			return NULL;
		if (!(f = fdopen(fd, mode)))
			REAL(close)(fd);
		return f;
	}

	if (resolve(path, &p) != SIO_MACHINE_PATH_REDIRECT)
		return next(path, mode);
	if (fopen_node(p.path, mode, &f))
		return f;
	return next(p.path, mode);
}

EXPORT FILE *fopen(const char *path, const char *mode)
{
	return do_fopen(REAL(fopen), path, mode);
}

EXPORT FILE *fopen64(const char *path, const char *mode)
{
	return do_fopen(REAL(fopen64), path, mode);
}

/* freopen onto a generated file reopens its memfd by /proc/self/fd; a
 * device node cannot take over a stream (ENXIO). */
static FILE *do_freopen(FILE *(*next)(const char *, const char *, FILE *),
			const char *path, const char *mode, FILE *stream)
{
	struct sio_machine_path p;
	struct sio_machine_node node;
	char proc[64];
	struct stat st;
	FILE *f;
	int fd;

	if (resolve(path, &p) != SIO_MACHINE_PATH_REDIRECT)
		return next(path, mode, stream);
	if (REAL(fstatat)(AT_FDCWD, p.path, &st, 0) || !vfs_node(&st, &node))
		return next(p.path, mode, stream);
	if (node.device) {
		fclose(stream);
		errno = ENXIO;
		return NULL;
	}
	fd = node_open(&node, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fclose(stream);
		errno = -fd;
		return NULL;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	f = next(proc, mode, stream);
	close(fd);
	return f;
}

EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream)
{
	return do_freopen(REAL(freopen), path, mode, stream);
}

EXPORT FILE *freopen64(const char *path, const char *mode, FILE *stream)
{
	return do_freopen(REAL(freopen64), path, mode, stream);
}

/* ------------------------------------------------------------------ */
/* stat                                                                 */
/* ------------------------------------------------------------------ */

/* A device node's placeholder is a character device with its number. */
static void fix_stat(const struct sio_machine_path *p, struct stat *st)
{
	struct sio_machine_node node;

	if (p->kind != SIO_MACHINE_PATH_REDIRECT || !vfs_node(st, &node) ||
	    !node.device)
		return;
	st->st_mode = S_IFCHR | (st->st_mode & 07777);
	st->st_rdev = node.rdev;
	st->st_size = 0;
	st->st_blocks = 0;
}

_Static_assert(sizeof(struct stat) == sizeof(struct stat64),
	       "stat64 is stat on this ABI");

/* A descriptor opened from a device node stats as that node, as the
 * kernel's does: a character device with the node's number.  Its backing
 * eventfd would say "anonymous inode", which programs that check what they
 * opened refuse (QEMU's open_cdev for /dev/vfio/devices/vfioN). */
static void fix_fd_stat(int fd, struct stat *st)
{
	struct sio_file *f = sio_file_lookup(fd);
	dev_t rdev;

	if (!f) {
		/* Shared mode: a file of the server. */
		sio_shared_fix_stat(fd, st);
		return;
	}
	rdev = sio_file_rdev(f);
	sio_file_put(f);
	if (!rdev)
		return;
	st->st_mode = S_IFCHR | (st->st_mode & 07777);
	st->st_rdev = rdev;
	st->st_size = 0;
	st->st_blocks = 0;
}

/* fstatat(fd, "", AT_EMPTY_PATH) is fstat(fd). */
static bool stats_fd(const char *path, int flags)
{
	return path && !*path && (flags & AT_EMPTY_PATH);
}

EXPORT int fstat(int fd, struct stat *st)
{
	int rc = REAL(fstat)(fd, st);

	if (!rc)
		fix_fd_stat(fd, st);
	return rc;
}

EXPORT int fstat64(int fd, struct stat64 *st)
{
	int rc = REAL(fstat64)(fd, st);

	if (!rc)
		fix_fd_stat(fd, (struct stat *)st);
	return rc;
}

/* The name programs built against glibc before 2.33 call. */
EXPORT int __fxstat(int ver, int fd, struct stat *st)
{
	int rc = REAL(__fxstat)(ver, fd, st);

	if (!rc)
		fix_fd_stat(fd, st);
	return rc;
}

EXPORT int __fxstat64(int ver, int fd, struct stat64 *st)
{
	int rc = REAL(__fxstat64)(ver, fd, st);

	if (!rc)
		fix_fd_stat(fd, (struct stat *)st);
	return rc;
}

#define STAT_BODY(call, st)						\
	do {								\
		struct sio_machine_path p;				\
		int rc = call;						\
									\
		if (!rc)						\
			fix_stat(&p, (struct stat *)(st));		\
		return rc;						\
	} while (0)

EXPORT int stat(const char *path, struct stat *st)
{
	STAT_BODY(REAL(stat)(vfs_path(path, &p), st), st);
}

EXPORT int stat64(const char *path, struct stat64 *st)
{
	STAT_BODY(REAL(stat64)(vfs_path(path, &p), st), st);
}

EXPORT int lstat(const char *path, struct stat *st)
{
	STAT_BODY(REAL(lstat)(vfs_path(path, &p), st), st);
}

EXPORT int lstat64(const char *path, struct stat64 *st)
{
	STAT_BODY(REAL(lstat64)(vfs_path(path, &p), st), st);
}

/* An absolute path ignores dirfd, as the kernel does. */
EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	if (stats_fd(path, flags)) {
		int rc = REAL(fstatat)(dirfd, path, st, flags);

		if (!rc)
			fix_fd_stat(dirfd, st);
		return rc;
	}
	STAT_BODY(REAL(fstatat)(dirfd, vfs_path(path, &p), st, flags), st);
}

EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	if (stats_fd(path, flags)) {
		int rc = REAL(fstatat64)(dirfd, path, st, flags);

		if (!rc)
			fix_fd_stat(dirfd, (struct stat *)st);
		return rc;
	}
	STAT_BODY(REAL(fstatat64)(dirfd, vfs_path(path, &p), st, flags), st);
}

/* The names programs built against glibc before 2.33 call. */
EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
	STAT_BODY(REAL(__xstat)(ver, vfs_path(path, &p), st), st);
}

EXPORT int __xstat64(int ver, const char *path, struct stat64 *st)
{
	STAT_BODY(REAL(__xstat64)(ver, vfs_path(path, &p), st), st);
}

EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
	STAT_BODY(REAL(__lxstat)(ver, vfs_path(path, &p), st), st);
}

EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st)
{
	STAT_BODY(REAL(__lxstat64)(ver, vfs_path(path, &p), st), st);
}

EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
		      int flags)
{
	STAT_BODY(REAL(__fxstatat)(ver, dirfd, vfs_path(path, &p), st, flags), st);
}

EXPORT int __fxstatat64(int ver, int dirfd, const char *path,
			struct stat64 *st, int flags)
{
	STAT_BODY(REAL(__fxstatat64)(ver, dirfd, vfs_path(path, &p), st, flags),
		  st);
}

EXPORT int statx(int dirfd, const char *path, int flags, unsigned int mask,
		 struct statx *stx)
{
	struct sio_machine_path p;
	struct sio_machine_node node;
	struct stat st;
	int rc;

	if (stats_fd(path, flags)) {
		rc = REAL(statx)(dirfd, path, flags, mask, stx);
		if (rc)
			return rc;
		memset(&st, 0, sizeof(st));
		st.st_mode = stx->stx_mode;
		fix_fd_stat(dirfd, &st);
		if (S_ISCHR(st.st_mode)) {
			stx->stx_mode = (uint16_t)st.st_mode;
			stx->stx_rdev_major = major(st.st_rdev);
			stx->stx_rdev_minor = minor(st.st_rdev);
			stx->stx_size = 0;
			stx->stx_blocks = 0;
		}
		return rc;
	}
	rc = REAL(statx)(dirfd, vfs_path(path, &p), flags, mask, stx);
	if (rc || p.kind != SIO_MACHINE_PATH_REDIRECT)
		return rc;
	st.st_dev = makedev(stx->stx_dev_major, stx->stx_dev_minor);
	st.st_ino = stx->stx_ino;
	if (vfs_node(&st, &node) && node.device) {
		stx->stx_mode = (uint16_t)(S_IFCHR | (stx->stx_mode & 07777));
		stx->stx_rdev_major = major(node.rdev);
		stx->stx_rdev_minor = minor(node.rdev);
		stx->stx_size = 0;
		stx->stx_blocks = 0;
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* access, readlink, xattrs, realpath                                   */
/* ------------------------------------------------------------------ */

EXPORT int access(const char *path, int mode)
{
	struct sio_machine_path p;

	return REAL(access)(vfs_path(path, &p), mode);
}

EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
	struct sio_machine_path p;

	return REAL(faccessat)(dirfd, vfs_path(path, &p), mode, flags);
}

EXPORT int eaccess(const char *path, int mode)
{
	struct sio_machine_path p;

	return REAL(eaccess)(vfs_path(path, &p), mode);
}

EXPORT int euidaccess(const char *path, int mode)
{
	struct sio_machine_path p;

	return REAL(euidaccess)(vfs_path(path, &p), mode);
}

EXPORT ssize_t readlink(const char *path, char *buf, size_t len)
{
	struct sio_machine_path p;

	return REAL(readlink)(vfs_path(path, &p), buf, len);
}

EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t len)
{
	struct sio_machine_path p;

	return REAL(readlinkat)(dirfd, vfs_path(path, &p), buf, len);
}

EXPORT ssize_t __readlink_chk(const char *path, char *buf, size_t len,
			      size_t buflen)
{
	struct sio_machine_path p;

	return REAL(__readlink_chk)(vfs_path(path, &p), buf, len, buflen);
}

EXPORT ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf,
				size_t len, size_t buflen)
{
	struct sio_machine_path p;

	return REAL(__readlinkat_chk)(dirfd, vfs_path(path, &p), buf, len,
				      buflen);
}

/* The extended attributes ls -l asks for (SELinux label, ACLs): the
 * tree's files have none, as sysfs and device nodes mostly do. */
EXPORT ssize_t getxattr(const char *path, const char *name, void *value,
			size_t size)
{
	struct sio_machine_path p;

	return REAL(getxattr)(vfs_path(path, &p), name, value, size);
}

EXPORT ssize_t lgetxattr(const char *path, const char *name, void *value,
			 size_t size)
{
	struct sio_machine_path p;

	return REAL(lgetxattr)(vfs_path(path, &p), name, value, size);
}

EXPORT ssize_t listxattr(const char *path, char *list, size_t size)
{
	struct sio_machine_path p;

	return REAL(listxattr)(vfs_path(path, &p), list, size);
}

EXPORT ssize_t llistxattr(const char *path, char *list, size_t size)
{
	struct sio_machine_path p;

	return REAL(llistxattr)(vfs_path(path, &p), list, size);
}

/* realpath of a redirected path: the tree's answer without the tree's
 * directory, which is what the program's namespace calls it. */
static char *vfs_realpath(const char *path, char *resolved)
{
	struct sio_machine_path p;
	char buf[PATH_MAX];
	const char *dir, *out;
	size_t dlen;

	if (resolve(path, &p) != SIO_MACHINE_PATH_REDIRECT)
		return REAL(realpath)(path, resolved);
	if (!REAL(realpath)(p.path, buf))
		return NULL;
	dir = sio_machine_namespace_dir(machine);
	dlen = strlen(dir);
	out = buf;
	if (!strncmp(buf, dir, dlen) && buf[dlen] == '/')
		out = buf + dlen;
	if (!resolved)
		return strdup(out);
	memmove(resolved, out, strlen(out) + 1);
	return resolved;
}

EXPORT char *realpath(const char *path, char *resolved)
{
	return vfs_realpath(path, resolved);
}

EXPORT char *__realpath_chk(const char *path, char *resolved,
			    size_t resolvedlen)
{
	if (resolvedlen < PATH_MAX)
		__chk_fail();
	return vfs_realpath(path, resolved);
}

EXPORT char *canonicalize_file_name(const char *path)
{
	return vfs_realpath(path, NULL);
}

/* ------------------------------------------------------------------ */
/* Directories                                                          */
/* ------------------------------------------------------------------ */

_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64),
	       "dirent64 is dirent on this ABI");

/*
 * A union directory stream: the host's DIR (the program's handle) and the
 * tree's entries of the same directory, returned after the host's, those
 * the host had left out.  union_lock protects the list and each stream's
 * state; it is the innermost lock, and taken in the fork handlers so a
 * child never inherits it held.  nunion lets readdir skip the lock while
 * no union stream is open.
 */
struct union_ent {
	char name[256];
	unsigned char type;
	ino_t ino;
	bool seen;
};

struct union_dir {
	DIR *dirp;
	char *path;		/* the program's name of the directory */
	struct union_ent *ents;
	size_t n, next;
	struct dirent64 out;
	struct union_dir *link;
};

static pthread_mutex_t union_lock = PTHREAD_MUTEX_INITIALIZER;
static struct union_dir *union_dirs;
static unsigned int nunion;

static void union_prepare(void)
{
	pthread_mutex_lock(&union_lock);
}

static void union_release(void)
{
	pthread_mutex_unlock(&union_lock);
}

/* SOFTIOMMU_FAIL_NTH=N (softiommu run --fail-nth N): allocations and
 * pages count, and the main thread's countdown is N from before main. */
static void fail_nth_env(void)
{
	const char *v = getenv("SOFTIOMMU_FAIL_NTH");
	unsigned int n;

	if (!v || !*v)
		return;
	if (sio_fail_parse_uint(v, strlen(v), &n)) {
		fprintf(stderr, "softiommu: SOFTIOMMU_FAIL_NTH='%s' is not a number\n",
			v);
		return;
	}
	sio_fail_kind_enable(SIO_FAIL_SLAB, true);
	sio_fail_kind_enable(SIO_FAIL_PAGE, true);
	sio_fail_nth_set(n);
}

__attribute__((constructor)) static void vfs_init(void)
{
	pthread_atfork(union_prepare, union_release, union_release);
	fail_nth_env();
}

/* The tree's entries of a union directory. */
static int union_read_tree(const char *tree_dir, struct union_dir *u)
{
	DIR *d = REAL(opendir)(tree_dir);
	struct dirent64 *e;
	size_t cap = 0;

	if (!d)
		return -errno;
	while ((e = (struct dirent64 *)REAL(readdir64)(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (u->n == cap) {
			struct union_ent *v = realloc(u->ents,
						      (cap = cap ? 2 * cap : 8) *
							      sizeof(*v));

			if (!v) {
				REAL(closedir)(d);
				return -ENOMEM;
			}
			u->ents = v;
		}
		snprintf(u->ents[u->n].name, sizeof(u->ents[u->n].name), "%s",
			 e->d_name);
		u->ents[u->n].type = e->d_type;
		u->ents[u->n].ino = e->d_ino;
		u->ents[u->n].seen = false;
		u->n++;
	}
	REAL(closedir)(d);
	return 0;
}

static DIR *union_open(const char *path, const struct sio_machine_path *p)
{
	DIR *dirp = REAL(opendir)(path);
	struct union_dir *u;

	if (!dirp)
		return NULL;
	u = calloc(1, sizeof(*u));
	if (!u || union_read_tree(p->path, u)) {
		/* The host's listing alone, as without the machine. */
		if (u)
			free(u->ents);
		free(u);
		return dirp;
	}
	u->dirp = dirp;
	u->path = strdup(path);
	pthread_mutex_lock(&union_lock);
	u->link = union_dirs;
	union_dirs = u;
	__atomic_add_fetch(&nunion, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&union_lock);
	return dirp;
}

static struct union_dir **union_find(DIR *dirp)
{
	struct union_dir **pp = &union_dirs;

	while (*pp && (*pp)->dirp != dirp)
		pp = &(*pp)->link;
	return *pp ? pp : NULL;
}

EXPORT DIR *opendir(const char *path)
{
	struct sio_machine_path p;

	switch (resolve(path, &p)) {
	case SIO_MACHINE_PATH_REDIRECT:
		return REAL(opendir)(p.path);
	case SIO_MACHINE_PATH_UNION:
		return union_open(path, &p);
	default:
		return REAL(opendir)(path);
	}
}

/* The program's name of the union directory whose stream has descriptor
 * dirfd, if one has. */
static bool union_dir_path(int fd, char *buf, size_t size)
{
	bool found = false;

	if (!__atomic_load_n(&nunion, __ATOMIC_ACQUIRE))
		return false;
	pthread_mutex_lock(&union_lock);
	for (struct union_dir *u = union_dirs; u && !found; u = u->link)
		if (u->path && dirfd(u->dirp) == fd) {
			snprintf(buf, size, "%s", u->path);
			found = true;
		}
	pthread_mutex_unlock(&union_lock);
	return found;
}

static struct dirent64 *union_next(struct union_dir *u)
{
	struct dirent64 *e = (struct dirent64 *)REAL(readdir64)(u->dirp);

	if (e) {
		for (size_t i = 0; i < u->n; i++)
			if (!u->ents[i].seen && !strcmp(u->ents[i].name, e->d_name))
				u->ents[i].seen = true;
		return e;
	}
	while (u->next < u->n && u->ents[u->next].seen)
		u->next++;
	if (u->next == u->n)
		return NULL;
	memset(&u->out, 0, sizeof(u->out));
	u->out.d_ino = u->ents[u->next].ino;
	u->out.d_off = (off64_t)(u->next + 1);
	u->out.d_reclen = sizeof(u->out);
	u->out.d_type = u->ents[u->next].type;
	snprintf(u->out.d_name, sizeof(u->out.d_name), "%s",
		 u->ents[u->next].name);
	u->ents[u->next++].seen = true;
	return &u->out;
}

static struct dirent64 *vfs_readdir(DIR *dirp, bool *handled)
{
	struct union_dir **pp;
	struct dirent64 *e = NULL;

	*handled = false;
	if (!__atomic_load_n(&nunion, __ATOMIC_ACQUIRE))
		return NULL;
	pthread_mutex_lock(&union_lock);
	pp = union_find(dirp);
	if (pp) {
		*handled = true;
		e = union_next(*pp);
	}
	pthread_mutex_unlock(&union_lock);
	return e;
}

EXPORT struct dirent *readdir(DIR *dirp)
{
	bool handled;
	struct dirent64 *e = vfs_readdir(dirp, &handled);

	return handled ? (struct dirent *)e : REAL(readdir)(dirp);
}

EXPORT struct dirent64 *readdir64(DIR *dirp)
{
	bool handled;
	struct dirent64 *e = vfs_readdir(dirp, &handled);

	return handled ? e : REAL(readdir64)(dirp);
}

EXPORT void rewinddir(DIR *dirp)
{
	struct union_dir **pp;

	if (__atomic_load_n(&nunion, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&union_lock);
		pp = union_find(dirp);
		if (pp) {
			(*pp)->next = 0;
			for (size_t i = 0; i < (*pp)->n; i++)
				(*pp)->ents[i].seen = false;
		}
		pthread_mutex_unlock(&union_lock);
	}
	REAL(rewinddir)(dirp);
}

EXPORT int closedir(DIR *dirp)
{
	struct union_dir **pp, *u = NULL;

	if (__atomic_load_n(&nunion, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&union_lock);
		pp = union_find(dirp);
		if (pp) {
			u = *pp;
			*pp = u->link;
			__atomic_sub_fetch(&nunion, 1, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&union_lock);
	}
	if (u) {
		free(u->path);
		free(u->ents);
		free(u);
	}
	return REAL(closedir)(dirp);
}

/* scandir of a union: read it through the streams above, then filter and
 * sort as glibc does.  The callbacks are the program's, of either entry
 * type (the same layout on this ABI). */
struct scan_fns {
	int (*filter)(const struct dirent *);
	int (*compar)(const struct dirent **, const struct dirent **);
	int (*filter64)(const struct dirent64 *);
	int (*compar64)(const struct dirent64 **, const struct dirent64 **);
};

static int scan_compar(const void *a, const void *b, void *arg)
{
	const struct scan_fns *fns = arg;

	if (fns->compar64)
		return fns->compar64((const struct dirent64 **)a,
				     (const struct dirent64 **)b);
	return fns->compar((const struct dirent **)a,
			   (const struct dirent **)b);
}

static bool scan_keep(const struct scan_fns *fns, const struct dirent64 *e)
{
	if (fns->filter64)
		return fns->filter64(e);
	return !fns->filter || fns->filter((const struct dirent *)e);
}

static int union_scandir(const char *path, struct dirent64 ***list,
			 const struct scan_fns *fns)
{
	DIR *d = opendir(path);
	struct dirent64 **v = NULL, *e;
	size_t n = 0, cap = 0;
	int err = 0;

	if (!d)
		return -1;
	while ((e = readdir64(d))) {
		struct dirent64 *copy;

		if (!scan_keep(fns, e))
			continue;
		if (n == cap) {
			struct dirent64 **nv = realloc(v, (cap = cap ? 2 * cap : 16) *
							  sizeof(*nv));

			if (!nv) {
				err = ENOMEM;
				break;
			}
			v = nv;
		}
		copy = malloc(sizeof(*copy));
		if (!copy) {
			err = ENOMEM;
			break;
		}
		memcpy(copy, e, sizeof(*copy));
		v[n++] = copy;
	}
	closedir(d);
	if (err) {
		while (n)
			free(v[--n]);
		free(v);
		errno = err;
		return -1;
	}
	if ((fns->compar || fns->compar64) && n)
		qsort_r(v, n, sizeof(*v), scan_compar, (void *)fns);
	*list = v;
	return (int)n;
}

EXPORT int scandir(const char *path, struct dirent ***list,
		   int (*filter)(const struct dirent *),
		   int (*compar)(const struct dirent **, const struct dirent **))
{
	struct scan_fns fns = { .filter = filter, .compar = compar };
	struct sio_machine_path p;

	switch (resolve(path, &p)) {
	case SIO_MACHINE_PATH_REDIRECT:
		return REAL(scandir)(p.path, list, filter, compar);
	case SIO_MACHINE_PATH_UNION:
		return union_scandir(path, (struct dirent64 ***)list, &fns);
	default:
		return REAL(scandir)(path, list, filter, compar);
	}
}

EXPORT int scandir64(const char *path, struct dirent64 ***list,
		     int (*filter)(const struct dirent64 *),
		     int (*compar)(const struct dirent64 **,
				   const struct dirent64 **))
{
	struct scan_fns fns = { .filter64 = filter, .compar64 = compar };
	struct sio_machine_path p;

	switch (resolve(path, &p)) {
	case SIO_MACHINE_PATH_REDIRECT:
		return REAL(scandir64)(p.path, list, filter, compar);
	case SIO_MACHINE_PATH_UNION:
		return union_scandir(path, list, &fns);
	default:
		return REAL(scandir64)(path, list, filter, compar);
	}
}
