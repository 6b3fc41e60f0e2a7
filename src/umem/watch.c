/*
 * The watch: the kernel tells the library when a program range the arena
 * knows is unmapped or moved, whoever asked for it (libc, a raw system
 * call, brk, mmap MAP_FIXED over it).  With it a pin of a watched range
 * trusts the arena without asking the kernel: no system call.
 *
 * The mechanism is userfaultfd's non-cooperative events.  A known range is
 * registered in write-protect mode, which never write-protects anything by
 * itself (no fault ever reaches us), with UFFD_FEATURE_EVENT_UNMAP and
 * _REMAP: the kernel then queues an event for every unmap or move of the
 * range and holds the thread that made it until the event is read.  A
 * monitor thread reads events and queues the ranges they name; the next
 * pin forgets them (arena_forget) before it looks anything up.
 *
 * Why it cannot pin stale pages: the monitor raises watch_reading before
 * it reads (which is what lets the unmapping thread go on) and lowers it
 * only after the ranges are queued.  A pin made after the unmap returned
 * therefore sees either watch_reading raised (it then asks the kernel, as
 * without the watch) or the range queued (it forgets it first).  The
 * monitor never takes self_lock, so a pin that itself causes an event (an
 * mremap of a watched range) cannot deadlock with it.
 *
 * What it does not see: protections changed by a raw mprotect (a pin then
 * reaches the right pages where the kernel would say EFAULT; the shim's
 * mprotect interposer tells umem), a SysV segment detached by shmdt (those
 * are never watched), remap_file_pages.  A process whose userfaultfd is
 * refused (seccomp, vm.unprivileged_userfaultfd with an old kernel),
 * SOFTIOMMU_PIN_WATCH=0, a range the program registered itself, or a
 * file the kernel cannot watch (a regular file system's shared mapping)
 * pins with one PROCMAP_QUERY instead.  A fork child has no watch: the
 * kernel drops registrations in the child (no UFFD_FEATURE_EVENT_FORK).
 *
 * The watch starts with the first range registered and stops (the monitor
 * is cancelled and the descriptor closed) when the last owner of the
 * process goes, like the arena's files.
 *
 * Locks: watch_qlock (a leaf below self_lock: no system call and no other
 * lock under it) protects the queue; watch_reading is an atomic; the rest
 * is under self_lock.
 */
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "file/private_fd.h"
#include "umem/arena.h"
#include "umem/umem.h"
#include "util/sys.h"

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

#define WATCH_QLEN 256

static int watch_fd = -1;		/* self_lock */
static pthread_t watch_thread;		/* self_lock, while watch_fd >= 0 */
static bool watch_tried;		/* self_lock */
static bool watch_off;			/* self_lock: fork child, or failed */
static unsigned int watch_reading;	/* atomic: the monitor is reading */

static pthread_mutex_t watch_qlock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	uint64_t start, end;
} watch_q[WATCH_QLEN];			/* watch_qlock */
static unsigned int watch_qn;		/* watch_qlock */
static bool watch_qlost;		/* watch_qlock: the queue overflowed */

static void watch_push(uint64_t start, uint64_t end)
{
	pthread_mutex_lock(&watch_qlock);
	if (watch_qn == WATCH_QLEN) {
		__atomic_store_n(&watch_qlost, true, __ATOMIC_RELEASE);
	} else {
		watch_q[watch_qn].start = start;
		watch_q[watch_qn].end = end;
		__atomic_store_n(&watch_qn, watch_qn + 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&watch_qlock);
}

static void watch_monitor_exit(void *arg)
{
	sio_fd_private_close((int)(intptr_t)arg);
}

/* The monitor owns its own descriptor of the userfaultfd and closes it on
 * its way out (cancelled by sio_watch_stop), before anything else its
 * thread's exit may do: the last descriptor closed unregisters every range,
 * so nothing can then wait for an event nobody reads. */
static void *watch_monitor(void *arg)
{
	int fd = (int)(intptr_t)arg;

	pthread_cleanup_push(watch_monitor_exit, arg);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct uffd_msg msg[16];
		ssize_t n;

		if (poll(&p, 1, -1) < 0)
			continue;
		__atomic_add_fetch(&watch_reading, 1, __ATOMIC_SEQ_CST);
		while ((n = sio_sys_read(fd, msg, sizeof(msg))) > 0) {
			size_t i, cnt = (size_t)n / sizeof(msg[0]);

			for (i = 0; i < cnt; i++) {
				if (msg[i].event == UFFD_EVENT_UNMAP)
					watch_push(msg[i].arg.remove.start,
						   msg[i].arg.remove.end);
				else if (msg[i].event == UFFD_EVENT_REMAP)
					watch_push(msg[i].arg.remap.from,
						   msg[i].arg.remap.from +
							   msg[i].arg.remap.len);
			}
		}
		__atomic_sub_fetch(&watch_reading, 1, __ATOMIC_SEQ_CST);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			break;
	}
	pthread_cleanup_pop(1);
	return NULL;
}

static void watch_start(void)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_EVENT_UNMAP | UFFD_FEATURE_EVENT_REMAP |
			    UFFD_FEATURE_WP_HUGETLBFS_SHMEM,
	};
	const char *env = getenv("SOFTIOMMU_PIN_WATCH");
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t t;
	int fd, mfd;

	watch_tried = true;
	if (env && !strcmp(env, "0"))
		return;
	fd = (int)syscall(SYS_userfaultfd,
			  O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd < 0)
		return;
	if (ioctl(fd, UFFDIO_API, &api)) {
		sio_sys_close(fd);
		return;
	}
	fd = sio_umem_fd_keep(fd);
	if (fd < 0)
		return;
	mfd = sio_umem_fd_keep(sio_sys_fcntl(fd, F_DUPFD_CLOEXEC, 0));
	if (mfd < 0) {
		sio_fd_private_close(fd);
		return;
	}
	/* The monitor takes none of the program's signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	if (pthread_create(&t, &attr, watch_monitor, (void *)(intptr_t)mfd)) {
		sio_fd_private_close(mfd);
		sio_fd_private_close(fd);
		fd = -1;
	}
	watch_thread = t;
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	watch_fd = fd;
}

bool sio_watch_add(uint64_t start, uint64_t end)
{
	struct uffdio_register r = {
		.range = { .start = start, .len = end - start },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};

	if (watch_off)
		return false;
	if (!watch_tried)
		watch_start();
	if (watch_fd < 0)
		return false;
	return ioctl(watch_fd, UFFDIO_REGISTER, &r) == 0;
}

bool sio_watch_sync(void)
{
	bool lost;
	unsigned int i, n;
	struct {
		uint64_t start, end;
	} q[WATCH_QLEN];

	if (watch_fd < 0 || watch_off)
		return false;
	/* Read before the queue: a range is queued before the monitor lowers
	 * watch_reading. */
	if (__atomic_load_n(&watch_reading, __ATOMIC_SEQ_CST))
		return false;
	/* Nothing queued: no lock either (a push is stored before the
	 * monitor lowers watch_reading). */
	if (!__atomic_load_n(&watch_qn, __ATOMIC_ACQUIRE) &&
	    !__atomic_load_n(&watch_qlost, __ATOMIC_ACQUIRE))
		return true;
	/* Before the queue empties: a pin without self_lock that finds it
	 * empty then finds the arena changed (self.c). */
	arena_changed();
	pthread_mutex_lock(&watch_qlock);
	n = watch_qn;
	memcpy(q, watch_q, n * sizeof(q[0]));
	__atomic_store_n(&watch_qn, 0, __ATOMIC_RELEASE);
	lost = watch_qlost;
	__atomic_store_n(&watch_qlost, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&watch_qlock);
	if (lost) {
		arena_unwatch_all();
		return true;
	}
	for (i = 0; i < n; i++)
		arena_forget(q[i].start, q[i].end);
	return true;
}

bool sio_watch_quiet(void)
{
	return !__atomic_load_n(&watch_reading, __ATOMIC_SEQ_CST) &&
	       !__atomic_load_n(&watch_qn, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&watch_qlost, __ATOMIC_ACQUIRE);
}

void sio_watch_stop(void)
{
	arena_changed();
	if (watch_fd >= 0) {
		/* The monitor is in poll(), a cancellation point, whenever it
		 * is not reading: it takes no lock and makes no raw call that
		 * cancellation could interrupt half-way.  Its own descriptor,
		 * the last one, goes first thing on its way out. */
		sio_fd_private_close(watch_fd);
		pthread_cancel(watch_thread);
		pthread_join(watch_thread, NULL);
		watch_fd = -1;
	}
	watch_tried = false;
	__atomic_store_n(&watch_qn, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&watch_qlost, false, __ATOMIC_RELEASE);
	__atomic_store_n(&watch_reading, 0, __ATOMIC_SEQ_CST);
}

void sio_watch_fork_child(void)
{
	/* The child's mappings are not registered, nobody reads its copy of
	 * the descriptor's events (they are the parent's), and the monitor
	 * may have held the queue lock at the fork. */
	arena_changed();
	watch_off = true;
	watch_fd = -1;		/* no monitor here; the copy stays open */
	pthread_mutex_init(&watch_qlock, NULL);
	__atomic_store_n(&watch_qn, 0, __ATOMIC_RELEASE);
}
