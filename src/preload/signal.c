/*
 * The shim's signal-disposition interposers: the program's own handlers
 * for SIGSEGV and SIGBUS are recorded by the MMIO trap, never installed.
 *
 * A trapped MMIO access arrives as SIGSEGV, so the library's handler must
 * stay the one the kernel runs; a program that installs its own (a
 * runtime's stack-overflow guard, a test's fault catcher, a crash
 * reporter) must still get every fault that is not an MMIO access.  Every
 * libc entry point that sets a disposition is interposed here: for SIGSEGV
 * and SIGBUS it goes to sio_trap_sigaction() (softiommu/mmio.h), which
 * records the handler to chain to and reports the previous one; for every
 * other signal it goes to the next definition (dlsym(RTLD_NEXT)),
 * untouched.
 *
 * signal() and its aliases (bsd_signal, ssignal), sysv_signal,
 * sigset/sigignore and siginterrupt are built here from sigaction the way
 * glibc builds them, because glibc's own versions call its internal
 * sigaction directly, past any interposer.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "softiommu/mmio.h"
#include "preload/interpose.h"
#include "util/safecopy.h"

/* sigset, sigignore and siginterrupt are deprecated, and still in libc:
 * a program that calls them must be served like any other. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

typedef void (*handler_t)(int);

/* glibc's names for the same functions, which the headers do not all
 * declare. */
int __sigaction(int sig, const struct sigaction *act, struct sigaction *oldact);
handler_t bsd_signal(int sig, handler_t handler);
handler_t ssignal(int sig, handler_t handler);
handler_t sysv_signal(int sig, handler_t handler);
handler_t __sysv_signal(int sig, handler_t handler);
handler_t sigset(int sig, handler_t disp);
int sigignore(int sig);
int siginterrupt(int sig, int flag);

/* Signals whose handlers siginterrupt() made interrupting, for signal()
 * (glibc keeps the same set for its own signal()). */
static bool interrupting[2];

static bool trapped(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS;
}

static int trap_action(int sig, const struct sigaction *act,
		       struct sigaction *oldact)
{
	int rc = sio_trap_sigaction(sig, act, oldact);

	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

/* Install handler with flags and, when mask_self, the signal blocked. */
static handler_t set_handler(int sig, handler_t handler, int flags,
			     bool mask_self)
{
	struct sigaction act, old;

	if (handler == SIG_ERR) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = handler;
	sigemptyset(&act.sa_mask);
	if (mask_self)
		sigaddset(&act.sa_mask, sig);
	act.sa_flags = flags;
	if (trap_action(sig, &act, &old))
		return SIG_ERR;
	return old.sa_handler;
}

EXPORT int sigaction(int sig, const struct sigaction *act,
		     struct sigaction *oldact)
{
	if (!trapped(sig))
		return REAL(sigaction)(sig, act, oldact);
	return trap_action(sig, act, oldact);
}

EXPORT int __sigaction(int sig, const struct sigaction *act,
		       struct sigaction *oldact)
{
	if (!trapped(sig))
		return REAL(__sigaction)(sig, act, oldact);
	return trap_action(sig, act, oldact);
}

/* BSD semantics: restarting (unless siginterrupt said otherwise), the
 * signal blocked while its handler runs. */
static handler_t bsd(int sig, handler_t handler)
{
	return set_handler(sig, handler,
			   interrupting[sig == SIGBUS] ? 0 : SA_RESTART, true);
}

EXPORT handler_t signal(int sig, handler_t handler)
{
	if (!trapped(sig))
		return REAL(signal)(sig, handler);
	return bsd(sig, handler);
}

EXPORT handler_t bsd_signal(int sig, handler_t handler)
{
	if (!trapped(sig))
		return REAL(signal)(sig, handler);
	return bsd(sig, handler);
}

EXPORT handler_t ssignal(int sig, handler_t handler)
{
	if (!trapped(sig))
		return REAL(signal)(sig, handler);
	return bsd(sig, handler);
}

/* System V semantics: one-shot, not blocked while it runs. */
EXPORT handler_t sysv_signal(int sig, handler_t handler)
{
	if (!trapped(sig))
		return REAL(sysv_signal)(sig, handler);
	return set_handler(sig, handler, SA_RESETHAND | SA_NODEFER, false);
}

EXPORT handler_t __sysv_signal(int sig, handler_t handler)
{
	if (!trapped(sig))
		return REAL(__sysv_signal)(sig, handler);
	return set_handler(sig, handler, SA_RESETHAND | SA_NODEFER, false);
}

/* SIG_HOLD blocks the signal and keeps the handler; anything else sets
 * the handler and unblocks.  Returns SIG_HOLD if it was blocked. */
EXPORT handler_t sigset(int sig, handler_t disp)
{
	struct sigaction act, old;
	sigset_t set, oset;

	if (!trapped(sig))
		return REAL(sigset)(sig, disp);
	sigemptyset(&set);
	sigaddset(&set, sig);
	if (disp == SIG_HOLD) {
		if (sigprocmask(SIG_BLOCK, &set, &oset) < 0)
			return SIG_ERR;
		if (sigismember(&oset, sig))
			return SIG_HOLD;
		if (trap_action(sig, NULL, &old))
			return SIG_ERR;
		return old.sa_handler;
	}
	if (disp == SIG_ERR) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = disp;
	sigemptyset(&act.sa_mask);
	if (trap_action(sig, &act, &old))
		return SIG_ERR;
	if (sigprocmask(SIG_UNBLOCK, &set, &oset) < 0)
		return SIG_ERR;
	return sigismember(&oset, sig) ? SIG_HOLD : old.sa_handler;
}

EXPORT int sigignore(int sig)
{
	struct sigaction act;

	if (!trapped(sig))
		return REAL(sigignore)(sig);
	memset(&act, 0, sizeof(act));
	act.sa_handler = SIG_IGN;
	sigemptyset(&act.sa_mask);
	return trap_action(sig, &act, NULL);
}

/* Whether a system call interrupted by the signal fails with EINTR:
 * SA_RESTART off or on, in the current action and for later signal(). */
EXPORT int siginterrupt(int sig, int flag)
{
	struct sigaction act;

	if (!trapped(sig))
		return REAL(siginterrupt)(sig, flag);
	if (trap_action(sig, NULL, &act))
		return -1;
	interrupting[sig == SIGBUS] = flag != 0;
	if (flag)
		act.sa_flags &= ~SA_RESTART;
	else
		act.sa_flags |= SA_RESTART;
	return trap_action(sig, &act, NULL);
}

/*
 * The thread's mask: the kernel kills a thread whose synchronous SIGSEGV
 * or SIGBUS is blocked, handler or not, so while the program keeps either
 * blocked in a thread, the library copies that thread's ioctl arguments by
 * system call (util/safecopy.h).  The mask itself is the program's: the
 * call goes to libc unchanged, with a mask of ours for the old one when
 * the program passed none.
 */
static int mask_call(int (*real)(int, const sigset_t *, sigset_t *), int how,
		     const sigset_t *set, sigset_t *oldset)
{
	sigset_t old, now;
	int rc;

	rc = real(how, set, oldset ? oldset : &old);
	if (rc || !set)
		return rc;
	if (!oldset)
		oldset = &old;
	if (how == SIG_SETMASK) {
		now = *set;
	} else {
		now = *oldset;
		for (int sig = SIGBUS; sig <= SIGSEGV; sig += SIGSEGV - SIGBUS)
			if (sigismember(set, sig)) {
				if (how == SIG_BLOCK)
					sigaddset(&now, sig);
				else
					sigdelset(&now, sig);
			}
	}
	sio_safecopy_set_thread_blocked(sigismember(&now, SIGSEGV) ||
					sigismember(&now, SIGBUS));
	return rc;
}

EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *oldset)
{
	return mask_call(REAL(sigprocmask), how, set, oldset);
}

/* pthread_sigmask returns the error instead of setting errno. */
EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *oldset)
{
	return mask_call(REAL(pthread_sigmask), how, set, oldset);
}

/*
 * The library's handler goes in at start-up, before the program's code
 * runs, so a program's own handlers set through the interposers above are
 * recorded from the first one on.  Since those interposers keep it in
 * place, the fault-safe copy is armed (util/safecopy.h): the copies of
 * ioctl arguments then make no system call (docs/umem.md, "Copies").
 */
__attribute__((constructor)) static void signal_init(void)
{
	if (sio_trap_install() == 0)
		sio_safecopy_arm();
}
