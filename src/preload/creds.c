/*
 * The shim's interposers of the calls that change what the library caches
 * about the process: RLIMIT_MEMLOCK (setrlimit, prlimit) and the
 * capabilities (capset, the setuid and setgid families, which drop or
 * restore them, and prctl's capability options).
 *
 * Each calls the next definition and then tells umem its per-call probes
 * may have changed (sio_umem_self_probes_changed(), umem/self.h): one
 * atomic increment, so every thread reads the kernel again at its next
 * use.  That is what lets an ioctl that does not pin take the limit and
 * CAP_IPC_LOCK from the cache instead of two system calls; the start-up
 * code below tells umem the cache is watched.  A raw system call that
 * bypasses libc is not seen here; a charge reads the kernel anyway
 * (docs/umem.md, "Accounting").
 */
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "preload/interpose.h"
#include "umem/self.h"

/* The capability calls glibc exports without declaring them in a header
 * this file includes. */
struct __user_cap_header_struct;
struct __user_cap_data_struct;
int capset(struct __user_cap_header_struct *hdr,
	   const struct __user_cap_data_struct *data);

static int changed(int rc)
{
	sio_umem_self_probes_changed();
	return rc;
}

EXPORT int setrlimit(__rlimit_resource_t res, const struct rlimit *rl)
{
	return changed(REAL(setrlimit)(res, rl));
}

EXPORT int setrlimit64(__rlimit_resource_t res, const struct rlimit64 *rl)
{
	return changed(REAL(setrlimit64)(res, rl));
}

EXPORT int prlimit(pid_t pid, __rlimit_resource_t res,
		   const struct rlimit *rl, struct rlimit *old)
{
	int rc = REAL(prlimit)(pid, res, rl, old);

	/* Another process's limit is not ours; a read changes nothing. */
	return rl ? changed(rc) : rc;
}

EXPORT int prlimit64(pid_t pid, __rlimit_resource_t res,
		     const struct rlimit64 *rl, struct rlimit64 *old)
{
	int rc = REAL(prlimit64)(pid, res, rl, old);

	return rl ? changed(rc) : rc;
}

EXPORT int capset(struct __user_cap_header_struct *hdr,
		  const struct __user_cap_data_struct *data)
{
	return changed(REAL(capset)(hdr, data));
}

EXPORT int setuid(uid_t uid)
{
	return changed(REAL(setuid)(uid));
}

EXPORT int seteuid(uid_t uid)
{
	return changed(REAL(seteuid)(uid));
}

EXPORT int setreuid(uid_t r, uid_t e)
{
	return changed(REAL(setreuid)(r, e));
}

EXPORT int setresuid(uid_t r, uid_t e, uid_t s)
{
	return changed(REAL(setresuid)(r, e, s));
}

EXPORT int setgid(gid_t gid)
{
	return changed(REAL(setgid)(gid));
}

EXPORT int setegid(gid_t gid)
{
	return changed(REAL(setegid)(gid));
}

EXPORT int setregid(gid_t r, gid_t e)
{
	return changed(REAL(setregid)(r, e));
}

EXPORT int setresgid(gid_t r, gid_t e, gid_t s)
{
	return changed(REAL(setresgid)(r, e, s));
}

/* prctl's arguments are read as glibc passes them on: four unsigned
 * longs, whatever the option uses. */
EXPORT int prctl(int option, ...)
{
	unsigned long a[4];
	va_list ap;
	int rc;

	va_start(ap, option);
	for (int i = 0; i < 4; i++)
		a[i] = va_arg(ap, unsigned long);
	va_end(ap);
	rc = REAL(prctl)(option, a[0], a[1], a[2], a[3]);
	switch (option) {
	case PR_CAPBSET_DROP:
	case PR_CAP_AMBIENT:
	case PR_SET_SECUREBITS:
	case PR_SET_KEEPCAPS:
		sio_umem_self_probes_changed();
		break;
	}
	return rc;
}

/* From here on the probes' cache is kept current by the interposers
 * above. */
__attribute__((constructor)) static void creds_init(void)
{
	sio_umem_self_probes_watch();
}
