/*
 * The library's SIGSEGV/SIGBUS handler: installation, trap clients, and
 * chaining to the program's own handlers.
 *
 * Installation.  The handler is installed with the raw rt_sigaction system
 * call (under the preload shim, sigaction() is an interposer that would
 * come back here) and so brings its own restorer, the rt_sigreturn stub
 * the kernel returns through; its bytes are the ones debuggers and
 * unwinders recognise as a signal trampoline.  Whatever was installed
 * before becomes the program's handler to chain to.  sio_trap_install()
 * also re-takes the signal when something replaced the handler behind the
 * library's back (a direct sigaction outside the shim): what it finds
 * becomes the program's handler, and the library's goes back in place.
 *
 * The handler runs with every signal blocked, so that an emulated access
 * is as indivisible for the thread as the instruction it stands for; it
 * asks each trap client in turn (the MMIO registry is one; the table has
 * room for a few), then the fault-safe copy (util/safecopy.h), and, when
 * none handles the fault, delivers it to the program
 * the way the kernel would have: the recorded handler is called with the
 * thread's mask at the fault plus its sa_mask (and the signal itself
 * unless SA_NODEFER), with or without siginfo, SA_RESETHAND resetting it
 * first; SIG_DFL, and SIG_IGN for a fault, restore the default action and
 * return, so the instruction faults again and the process dies of the
 * right signal (with its core dump) as it would have without us.  The
 * library's handler uses the alternate signal stack exactly when the
 * program's handler asked for it (SA_ONSTACK), as the kernel would.
 *
 * The program's handlers.  sio_trap_sigaction(), which the shim calls for
 * the program's sigaction()/signal() on SIGSEGV and SIGBUS, records the
 * program's action instead of installing it; a later call reports it back
 * as oldact, with the kernel's rules (unknown flags dropped, SIGKILL and
 * SIGSTOP never in the mask, SA_RESTORER set as glibc's sigaction sets it).
 * A record is read by the handler without a lock: it is a sequence-counted
 * copy (a seqlock), written under the trap lock.  Writers can be signal
 * handlers too (sigaction is async-signal-safe, and SA_RESETHAND is
 * applied inside our handler), so the trap lock is a spinlock taken with
 * every signal blocked: a thread never spins on a lock it holds itself,
 * and nothing inside touches the program's memory, which could fault.
 *
 * Locks: trap_lock protects the records' writes, the client table's
 * additions and the kernel's dispositions of SIGSEGV and SIGBUS.
 * It is last in the MMIO trap's order (after region.c's reg_lock) and is a
 * leaf: nothing is taken while it is held.
 *
 * Fork: the dispositions, the records and the client table are inherited
 * as they are; pthread_atfork takes the trap lock around the fork, so the
 * child never inherits it held.
 *
 * The fault-safe copy.  sio_safe_memcpy() lives in the bottom layer so
 * that the DMA data path, which sits below this one, can use it; this
 * layer knows it by name and asks it after the table's clients, whatever
 * they answered: an MMIO region a DMA copies from or to is still emulated
 * by its client when it can be, and a fault inside the copy never reaches
 * the program (it resumes at the copy's fix-up, which returns -EFAULT).
 *
 * Two copies of the library in one process (a program linked with
 * libsoftiommu running under the preload shim) each install their handler:
 * the later one chains to the earlier.  Should each have recorded the
 * other, a fault neither handles would go round forever; the handler
 * notices being re-entered for the same fault from its own chaining and
 * takes the default action instead.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/uio.h>

#include "softiommu/mmio.h"
#include "mmio/mmio_private.h"
#include "util/error.h"
#include "util/safecopy.h"

/* rt_sigreturn, encoded as "movq $15, %rax; syscall" byte for byte: the
 * sequence gdb and the unwinder look for at a signal frame's return
 * address. */
__asm__(".text\n"
	".p2align 4\n"
	".type sio_trap_restorer, @function\n"
	"sio_trap_restorer:\n"
	"\t.byte 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00\n"
	"\tsyscall\n"
	"\thlt\n"
	".size sio_trap_restorer, .-sio_trap_restorer\n");
void sio_trap_restorer(void) __attribute__((visibility("hidden")));

#define NSIGS 2			/* SIGSEGV, SIGBUS */
#define MAX_CLIENTS 4
#define KERNEL_ONLY_SIGS ((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)))
/* The flags the kernel keeps (UAPI_SA_FLAGS on x86). */
#define KNOWN_SA_FLAGS (SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | \
			SA_ONSTACK | SA_RESTART | SA_NODEFER | SA_RESETHAND | \
			0x800 /* SA_EXPOSE_TAGBITS */ | SA_RESTORER)
#define RECORD_WORDS (sizeof(struct sigaction) / sizeof(unsigned long))

struct record {
	unsigned long seq;	/* odd while a writer is inside */
	unsigned long w[RECORD_WORDS];	/* a struct sigaction */
};

static struct record records[NSIGS];
static const struct sio_trap_client *clients[MAX_CLIENTS];
/* trap_lock, a spinlock taken with every signal blocked, protects the
 * records' writes, the client table's additions and the kernel's SIGSEGV
 * and SIGBUS dispositions.  Last in the MMIO trap's lock order (after
 * region.c's reg_lock); a leaf. */
static int trap_lock;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static uint64_t fork_mask;	/* the forking thread's mask, under trap_lock */

/* The handler's re-entry check (see the top of the file). */
static __thread ucontext_t *chain_uc __attribute__((tls_model("initial-exec")));
static __thread uintptr_t chain_sp __attribute__((tls_model("initial-exec")));

static void trap_entry(int sig, siginfo_t *si, void *ucv);

static int sig_index(int sig)
{
	return sig == SIGSEGV ? 0 : sig == SIGBUS ? 1 : -1;
}

static int index_sig(int i)
{
	return i ? SIGBUS : SIGSEGV;
}

static uint64_t sigbit(int sig)
{
	return 1ull << (sig - 1);
}

/* ------------------------------------------------------------------ */
/* The trap lock                                                        */
/* ------------------------------------------------------------------ */

static void lock(uint64_t *saved)
{
	uint64_t all = ~0ull;

	sio_sys_sigprocmask(SIG_BLOCK, &all, saved);
	while (__atomic_exchange_n(&trap_lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&trap_lock, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
}

static void unlock(const uint64_t *saved)
{
	__atomic_store_n(&trap_lock, 0, __ATOMIC_RELEASE);
	sio_sys_sigprocmask(SIG_SETMASK, saved, NULL);
}

static void atfork_prepare(void)
{
	lock(&fork_mask);
}

static void atfork_release(void)
{
	uint64_t saved = fork_mask;

	unlock(&saved);
}

static void trap_init(void)
{
	sio_mmio_emulate_init();
	pthread_atfork(atfork_prepare, atfork_release, atfork_release);
}

/* ------------------------------------------------------------------ */
/* Records of the program's actions                                     */
/* ------------------------------------------------------------------ */

static void record_read(int i, struct sigaction *out)
{
	unsigned long w[RECORD_WORDS], s1, s2;

	do {
		while ((s1 = __atomic_load_n(&records[i].seq,
					     __ATOMIC_ACQUIRE)) & 1)
			__builtin_ia32_pause();
		for (size_t k = 0; k < RECORD_WORDS; k++)
			w[k] = __atomic_load_n(&records[i].w[k],
					       __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&records[i].seq, __ATOMIC_RELAXED);
	} while (s1 != s2);
	memcpy(out, w, sizeof(*out));
}

/* trap_lock held. */
static void record_write(int i, const struct sigaction *act)
{
	unsigned long w[RECORD_WORDS];
	unsigned long s = records[i].seq;

	memcpy(w, act, sizeof(w));
	__atomic_store_n(&records[i].seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (size_t k = 0; k < RECORD_WORDS; k++)
		__atomic_store_n(&records[i].w[k], w[k], __ATOMIC_RELAXED);
	__atomic_store_n(&records[i].seq, s + 2, __ATOMIC_RELEASE);
}

/* What the kernel keeps of a program's action, as glibc reports it. */
static void normalize(struct sigaction *act)
{
	uint64_t mask;

	act->sa_flags = (int)((unsigned int)act->sa_flags & KNOWN_SA_FLAGS);
	act->sa_flags |= SA_RESTORER;
	act->sa_restorer = sio_trap_restorer;
	memcpy(&mask, &act->sa_mask, sizeof(mask));
	mask &= ~KERNEL_ONLY_SIGS;
	memcpy(&act->sa_mask, &mask, sizeof(mask));
}

static void from_kernel(const struct sio_ksigaction *k, struct sigaction *act)
{
	memset(act, 0, sizeof(*act));
	act->sa_handler = (void (*)(int))k->handler;
	act->sa_flags = (int)k->flags;
	act->sa_restorer = k->restorer;
	memcpy(&act->sa_mask, &k->mask, sizeof(k->mask));
}

/* ------------------------------------------------------------------ */
/* Installation                                                         */
/* ------------------------------------------------------------------ */

/* The library's action for signal i, given the program's record. */
static void ours(int i, struct sio_ksigaction *k)
{
	struct sigaction prog;

	record_read(i, &prog);
	k->handler = (void *)trap_entry;
	k->flags = SA_SIGINFO | SA_RESTORER | (prog.sa_flags & SA_ONSTACK);
	k->restorer = sio_trap_restorer;
	k->mask = ~0ull;
}

/* Make sure the kernel runs our handler for signal i (trap_lock held). */
static int install_locked(int i)
{
	struct sio_ksigaction cur, want;
	int sig = index_sig(i);

	if (sio_sys_rt_sigaction(sig, NULL, &cur))
		return -errno;
	if (cur.handler != (void *)trap_entry) {
		/* Installed before us, or since, behind our back. */
		struct sigaction prog;

		from_kernel(&cur, &prog);
		record_write(i, &prog);
	}
	ours(i, &want);
	if (cur.handler == want.handler && cur.flags == want.flags &&
	    cur.restorer == want.restorer &&
	    cur.mask == (want.mask & ~KERNEL_ONLY_SIGS))
		return 0;
	if (sio_sys_rt_sigaction(sig, &want, NULL))
		return -errno;
	return 0;
}

int sio_trap_install(void)
{
	uint64_t saved;
	int rc = 0;

	pthread_once(&init_once, trap_init);
	lock(&saved);
	for (int i = 0; i < NSIGS && !rc; i++)
		rc = install_locked(i);
	unlock(&saved);
	if (rc)
		return sio_err(rc, "sio_trap_install: rt_sigaction failed");
	return 0;
}

int sio_trap_client_add(const struct sio_trap_client *client)
{
	uint64_t saved;
	int i, rc = -ENOSPC;

	lock(&saved);
	for (i = 0; i < MAX_CLIENTS; i++) {
		const struct sio_trap_client *c =
			__atomic_load_n(&clients[i], __ATOMIC_RELAXED);

		if (c == client) {
			rc = 0;
			break;
		}
		if (!c) {
			__atomic_store_n(&clients[i], client, __ATOMIC_RELEASE);
			rc = 0;
			break;
		}
	}
	unlock(&saved);
	if (rc)
		return sio_err(rc, "the trap's client table is full");
	return sio_trap_install();
}

int sio_trap_sigaction(int sig, const struct sigaction *act,
		       struct sigaction *oldact)
{
	int i = sig_index(sig), rc = 0;
	struct sigaction copy, old;
	uint64_t saved;

	if (i < 0)
		return -EINVAL;
	/* The program's memory is read and written outside the lock: a bad
	 * pointer faults here as it would in libc's sigaction. */
	if (act) {
		copy = *act;
		normalize(&copy);
		/* Our own handler, read with a direct sigaction and handed
		 * back: chaining to it would be a loop. */
		if ((void *)copy.sa_handler == (void *)trap_entry)
			copy.sa_handler = SIG_DFL;
	}
	pthread_once(&init_once, trap_init);
	lock(&saved);
	rc = install_locked(i);
	if (!rc) {
		record_read(i, &old);
		if (act) {
			struct sio_ksigaction want;

			record_write(i, &copy);
			/* SA_ONSTACK follows the program's handler. */
			ours(i, &want);
			if (sio_sys_rt_sigaction(sig, &want, NULL))
				rc = -errno;
		}
	}
	unlock(&saved);
	if (rc)
		return rc;
	if (oldact)
		*oldact = old;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The handler                                                          */
/* ------------------------------------------------------------------ */

void sio_trap_say(const char *msg)
{
	struct iovec v[2] = {
		{ (void *)msg, strlen(msg) },
		{ (void *)"\n", 1 },
	};

	syscall(SYS_writev, 2L, v, 2L);
}

/* The default action, so that returning re-raises the fault into it. */
static void restore_default(int sig, siginfo_t *si)
{
	struct sio_ksigaction dfl = { .handler = SIG_DFL };
	uint64_t saved;

	/* (The next sio_trap_install puts ours back, should the process
	 * survive.) */
	lock(&saved);
	sio_sys_rt_sigaction(sig, &dfl, NULL);
	unlock(&saved);
	/* A signal that was sent, not a fault, would not come back by
	 * itself: queue it again; it arrives when the handler returns. */
	if (si->si_code <= 0)
		syscall(SYS_rt_tgsigqueueinfo, syscall(SYS_getpid),
			syscall(SYS_gettid), (long)sig, si);
}

/* SA_RESETHAND: the kernel resets the action as it delivers the signal. */
static void reset_hand(int sig)
{
	int i = sig_index(sig);
	struct sio_ksigaction want;
	struct sigaction act;
	uint64_t saved;

	lock(&saved);
	record_read(i, &act);
	act.sa_handler = SIG_DFL;
	record_write(i, &act);
	ours(i, &want);
	sio_sys_rt_sigaction(sig, &want, NULL);
	unlock(&saved);
}

/* Deliver to the program what none of the clients handled. */
static void chain(int sig, siginfo_t *si, ucontext_t *uc)
{
	ucontext_t *prev_uc = chain_uc;
	uintptr_t prev_sp = chain_sp;
	struct sigaction act;
	uint64_t mask;

	record_read(sig_index(sig), &act);
	if (act.sa_handler == SIG_DFL ||
	    (act.sa_handler == SIG_IGN && si->si_code > 0)) {
		/* An ignored fault kills, as the kernel's forced signal
		 * does. */
		restore_default(sig, si);
		return;
	}
	if (act.sa_handler == SIG_IGN)
		return;
	if (act.sa_flags & SA_RESETHAND)
		reset_hand(sig);

	memcpy(&mask, &uc->uc_sigmask, sizeof(mask));
	mask |= *(const uint64_t *)(const void *)&act.sa_mask;
	if (!(act.sa_flags & SA_NODEFER))
		mask |= sigbit(sig);
	sio_sys_sigprocmask(SIG_SETMASK, &mask, NULL);

	chain_uc = uc;
	chain_sp = (uintptr_t)__builtin_frame_address(0);
	if (act.sa_flags & SA_SIGINFO)
		act.sa_sigaction(sig, si, uc);
	else
		act.sa_handler(sig);
	chain_uc = prev_uc;
	chain_sp = prev_sp;
}

/* The fault-safe copy's client: a fault on its copying instruction
 * resumes at its fix-up. */
static enum sio_trap_verdict safecopy_fault(int sig, siginfo_t *si,
					    ucontext_t *uc)
{
	uintptr_t fixup = sio_safecopy_fixup(uc->uc_mcontext.gregs[REG_RIP]);

	(void)sig;
	(void)si;
	if (!fixup)
		return SIO_TRAP_PASS;
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t)fixup;
	return SIO_TRAP_RESUME;
}

static const struct sio_trap_client safecopy_client = {
	.fault = safecopy_fault,
};

static void trap_entry(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	int saved_errno = errno;

	/* Our own chaining brought the same fault back (through another
	 * copy of the library that chains to us): nobody handles it. */
	if (uc == chain_uc && (uintptr_t)__builtin_frame_address(0) < chain_sp) {
		restore_default(sig, si);
		return;
	}
	for (int i = 0; i < MAX_CLIENTS; i++) {
		const struct sio_trap_client *c =
			__atomic_load_n(&clients[i], __ATOMIC_ACQUIRE);
		enum sio_trap_verdict v;

		if (!c)
			break;
		v = c->fault(sig, si, uc);
		if (v == SIO_TRAP_RESUME) {
			errno = saved_errno;
			return;
		}
		if (v == SIO_TRAP_CHAIN)
			break;
	}
	if (safecopy_client.fault(sig, si, uc) == SIO_TRAP_RESUME) {
		errno = saved_errno;
		return;
	}
	errno = saved_errno;
	chain(sig, si, uc);
}
