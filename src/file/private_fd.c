/*
 * The registry of the library's private descriptors (private_fd.h).
 *
 * A two-level table of flags indexed by descriptor number, as the file
 * table: chunks of 1024 flags allocated on first use and never freed, so
 * a lookup is two acquire loads and takes no lock.  The shim asks on every
 * close of every descriptor; while no private descriptor exists (nprivate
 * is 0) it costs one load.  chunk_lock serializes the allocation of
 * chunks only (a leaf lock; nothing is taken under it).
 *
 * What is not covered: dup2/dup3 onto a private number replaces it, and a
 * close_range racing with the library's own registration of a new
 * descriptor may close it; the next use of such a descriptor then fails
 * with an error (the pins and eventfd copies check what they hold).
 */
#include <errno.h>
#include <pthread.h>

#include "file/private_fd.h"
#include "util/fail.h"
#include "util/sys.h"

#define PFD_CHUNK_SHIFT 10
#define PFD_CHUNK (1u << PFD_CHUNK_SHIFT)
#define PFD_NCHUNKS 4096u
#define PFD_MAX (PFD_CHUNK * PFD_NCHUNKS)

static unsigned char *pfd_table[PFD_NCHUNKS];
static pthread_mutex_t chunk_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int nprivate;

static unsigned char *pfd_flag(unsigned int fd, bool alloc)
{
	unsigned char **slot = &pfd_table[fd >> PFD_CHUNK_SHIFT];
	unsigned char *c = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (!c && alloc) {
		pthread_mutex_lock(&chunk_lock);
		c = *slot;
		if (!c) {
			c = sio_calloc(PFD_CHUNK, 1);
			if (c)
				__atomic_store_n(slot, c, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&chunk_lock);
	}
	return c ? &c[fd & (PFD_CHUNK - 1)] : NULL;
}

int sio_fd_private_add(int fd)
{
	unsigned char *f;

	if (fd < 0)
		return -EBADF;
	if ((unsigned int)fd >= PFD_MAX)
		return -EMFILE;
	f = pfd_flag((unsigned int)fd, true);
	if (!f)
		return -ENOMEM;
	if (!__atomic_exchange_n(f, 1, __ATOMIC_ACQ_REL))
		__atomic_add_fetch(&nprivate, 1, __ATOMIC_RELEASE);
	return 0;
}

void sio_fd_private_close(int fd)
{
	unsigned char *f;

	if (fd < 0)
		return;
	f = (unsigned int)fd < PFD_MAX ? pfd_flag((unsigned int)fd, false) : NULL;
	if (f && __atomic_exchange_n(f, 0, __ATOMIC_ACQ_REL))
		__atomic_sub_fetch(&nprivate, 1, __ATOMIC_RELEASE);
	sio_sys_close(fd);
}

bool sio_fd_private(int fd)
{
	unsigned char *f;

	if (fd < 0 || (unsigned int)fd >= PFD_MAX ||
	    !__atomic_load_n(&nprivate, __ATOMIC_ACQUIRE))
		return false;
	f = pfd_flag((unsigned int)fd, false);
	return f && __atomic_load_n(f, __ATOMIC_ACQUIRE);
}

int sio_fd_private_next(unsigned int first, unsigned int last)
{
	if (!__atomic_load_n(&nprivate, __ATOMIC_ACQUIRE) || first >= PFD_MAX)
		return -1;
	if (last >= PFD_MAX)
		last = PFD_MAX - 1;
	for (unsigned int fd = first; fd <= last; fd++) {
		unsigned char *c = __atomic_load_n(&pfd_table[fd >> PFD_CHUNK_SHIFT],
						   __ATOMIC_ACQUIRE);

		if (!c) {	/* skip to the next chunk */
			fd |= PFD_CHUNK - 1;
			continue;
		}
		if (__atomic_load_n(&c[fd & (PFD_CHUNK - 1)], __ATOMIC_ACQUIRE))
			return (int)fd;
	}
	return -1;
}
