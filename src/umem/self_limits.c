/*
 * The calling process's per-call probes: its pid, its RLIMIT_MEMLOCK soft
 * limit and whether the calling thread has CAP_IPC_LOCK in its effective
 * set (the in-process owner's limits op, and the pid the copies by system
 * call need).
 *
 * Asking the kernel costs a system call each (getpid, prlimit, capget:
 * about 0.25 us together), on every ioctl that decides an accounting mode.
 * So the answers are cached, per thread (capabilities are per thread), and
 * tagged with the generation they were read in.  The generation is one
 * process-wide counter, bumped by whatever may have changed a probe:
 *  - the fork child (a new pid), through pthread_atfork;
 *  - the preload shim's interposers of setrlimit/prlimit, capset, the
 *    setuid and setgid families and prctl, after the real call.
 * A thread whose cached tag is not the current generation asks the kernel
 * again.  The tag written is the generation read before asking, so a
 * change that races a refresh leaves the entry stale, never wrong.
 *
 * The cache is only trusted once the shim said it watches those calls
 * (sio_umem_self_probes_watch()).  Without the shim (the library used
 * directly) only the pid is cached; the limit and the capability are read
 * every time.  A charge (fresh) always reads the kernel: the kernel checks
 * the limit at charge time, a pin makes system calls of its own anyway,
 * and so a change made by a raw system call the shim cannot see is still
 * honoured where it matters (docs/umem.md, "Accounting").
 *
 * No lock: the generation is an atomic, the entry is the thread's own.  A
 * signal handler that interrupts a refresh on the same thread finds the
 * entry invalid (its tag is cleared first) and reads for itself.
 */
#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "umem/self.h"

struct probes {
	uint64_t tag;		/* generation read in; 0: never read */
	pid_t pid;
	uint64_t memlock_bytes;
	bool cap_ipc_lock;
};

/* Starts at 1 so that a zeroed entry is stale. */
static uint64_t probes_gen = 1;		/* atomic */
static bool probes_watched;		/* atomic: the shim keeps gen current */
static __thread struct probes self_probes
	__attribute__((tls_model("initial-exec")));
static pthread_once_t probes_once = PTHREAD_ONCE_INIT;

void sio_umem_self_probes_changed(void)
{
	__atomic_add_fetch(&probes_gen, 1, __ATOMIC_RELEASE);
}

void sio_umem_self_probes_watch(void)
{
	__atomic_store_n(&probes_watched, true, __ATOMIC_RELEASE);
	sio_umem_self_probes_changed();
}

static void probes_fork_child(void)
{
	sio_umem_self_probes_changed();
}

static void probes_setup(void)
{
	pthread_atfork(NULL, NULL, probes_fork_child);
}

static int ask_limits(uint64_t *memlock, bool *cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,	/* the calling thread: capable() checks current */
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl))
		return sio_err(-errno, "umem: getrlimit(RLIMIT_MEMLOCK)");
	*memlock = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX :
						  (uint64_t)rl.rlim_cur;
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return sio_err(-errno, "umem: capget");
	*cap = data[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &
	       CAP_TO_MASK(CAP_IPC_LOCK);
	return 0;
}

/* Read everything for this thread and tag it with gen.  A failed read
 * leaves the entry stale. */
static int refresh(uint64_t gen)
{
	struct probes *p = &self_probes;
	uint64_t memlock = 0;
	bool cap = false;
	pid_t pid;
	int rc;

	pthread_once(&probes_once, probes_setup);
	__atomic_store_n(&p->tag, 0, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	pid = (pid_t)syscall(SYS_getpid);
	rc = ask_limits(&memlock, &cap);
	if (rc)
		return rc;
	p->pid = pid;
	p->memlock_bytes = memlock;
	p->cap_ipc_lock = cap;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&p->tag, gen, __ATOMIC_RELAXED);
	return 0;
}

/* This thread's entry, current for the generation. */
static int probes_get(const struct probes **out)
{
	uint64_t gen = __atomic_load_n(&probes_gen, __ATOMIC_ACQUIRE);
	int rc;

	if (__builtin_expect(
		    __atomic_load_n(&self_probes.tag, __ATOMIC_RELAXED) != gen, 0)) {
		rc = refresh(gen);
		if (rc)
			return rc;
	}
	*out = &self_probes;
	return 0;
}

pid_t sio_umem_self_pid(void)
{
	const struct probes *p;

	if (probes_get(&p))
		return (pid_t)syscall(SYS_getpid);
	return p->pid;
}

int sio_umem_self_limits(struct sio_umem_owner *owner, bool fresh,
			 struct sio_umem_limits *out)
{
	const struct probes *p;
	int rc;

	(void)owner;
	if (fresh || !__atomic_load_n(&probes_watched, __ATOMIC_ACQUIRE)) {
		/* Also brings this thread's entry up to date. */
		rc = refresh(__atomic_load_n(&probes_gen, __ATOMIC_ACQUIRE));
		if (rc)
			return rc;
		p = &self_probes;
	} else {
		rc = probes_get(&p);
		if (rc)
			return rc;
	}
	out->memlock_bytes = p->memlock_bytes;
	out->cap_ipc_lock = p->cap_ipc_lock;
	return 0;
}
