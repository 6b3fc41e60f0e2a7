/*
 * The preload shim and the program's own SIGSEGV/SIGBUS handlers: a plain
 * program, built without softiommu, run under `softiommu run`.  Its
 * sigaction()/signal() calls for SIGSEGV and SIGBUS are recorded by the
 * library's trap, which stays the kernel's handler (checked with the raw
 * system call), and its faults still reach its handlers with their
 * semantics: siginfo, one-shot, the default action, a handler that fixes
 * the page and returns.  Other signals are untouched.  Prints
 * "N passed, M failed"; exits non-zero when anything failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "shim_check.h"

/* What the kernel has installed, past any interposer. */
static void *kernel_handler(int sig)
{
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		uint64_t mask;
	} k;

	if (syscall(SYS_rt_sigaction, sig, NULL, &k, 8))
		return NULL;
	return k.handler;
}

static sigjmp_buf jb;
static volatile int calls, last_sig;
static void *volatile last_addr;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	calls++;
	last_sig = sig;
	last_addr = si->si_addr;
	siglongjmp(jb, 1);
}

static void on_fault_plain(int sig)
{
	calls++;
	last_sig = sig;
	siglongjmp(jb, 1);
}

/* Touch p; 1 if a handler caught a fault. */
static int touch(volatile char *p)
{
	calls = 0;
	last_addr = NULL;
	if (sigsetjmp(jb, 1))
		return 1;
	(void)*p;
	return 0;
}

static char *fix_page;

static void on_fault_fix(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	calls++;
	last_addr = si->si_addr;
	mprotect(fix_page, 4096, PROT_READ | PROT_WRITE);
}

static void test_sigaction(char *page)
{
	struct sigaction act, old, cur, before;

	memset(&act, 0, sizeof(act));
	act.sa_sigaction = on_fault;
	act.sa_flags = SA_SIGINFO;
	sigemptyset(&act.sa_mask);
	/* SIG_DFL, or a sanitizer runtime's handler installed at start. */
	check(sigaction(SIGSEGV, NULL, &before) == 0, "sigaction(SIGSEGV) query");
	check(sigaction(SIGSEGV, &act, &old) == 0, "sigaction(SIGSEGV)");
	check(old.sa_handler == before.sa_handler,
	      "the previous handler is the one reported before");
	check(kernel_handler(SIGSEGV) != NULL &&
	      kernel_handler(SIGSEGV) != (void *)on_fault,
	      "the kernel still runs the library's handler (shim loaded?)");
	check(touch(page + 12) == 1 && calls == 1, "the program's handler ran");
	check(last_sig == SIGSEGV && last_addr == page + 12,
	      "with the fault's siginfo");
	check(sigaction(SIGSEGV, NULL, &cur) == 0 &&
	      cur.sa_sigaction == on_fault && (cur.sa_flags & SA_SIGINFO),
	      "sigaction reports the program's handler");
	check(sigaction(SIGSEGV + 0x1000, &act, NULL) == -1 && errno == EINVAL,
	      "a bad signal number is EINVAL");
}

static void test_signal(char *page)
{
	void (*prev)(int);

	prev = signal(SIGSEGV, on_fault_plain);
	check(prev == (void (*)(int))(void *)on_fault, "signal() returns the previous handler");
	check(touch(page) == 1 && calls == 1 && last_sig == SIGSEGV,
	      "a signal() handler runs");
	check(signal(SIGSEGV, SIG_ERR) == SIG_ERR && errno == EINVAL,
	      "signal(SIG_ERR) is EINVAL");

	/* sysv_signal: one-shot. */
	sysv_signal(SIGSEGV, on_fault_plain);
	check(touch(page) == 1 && calls == 1, "a sysv_signal handler runs");
	check(signal(SIGSEGV, on_fault_plain) == SIG_DFL,
	      "and was reset to SIG_DFL by its delivery");
}

static void test_handler_returns(void)
{
	struct sigaction act, old;

	fix_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	memset(&act, 0, sizeof(act));
	act.sa_sigaction = on_fault_fix;
	act.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &act, &old);
	calls = 0;
	*(volatile int *)(fix_page + 8) = 5;
	check(calls == 1 && last_addr == fix_page + 8 &&
	      *(int *)(fix_page + 8) == 5,
	      "a handler that fixes the page and returns: the store is retried");
	sigaction(SIGSEGV, &old, NULL);
	munmap(fix_page, 4096);
}

static void test_sigbus(void)
{
	struct sigaction act;
	int fd = memfd_create("shim_signal", 0);
	char *p;

	/* A page of a file with nothing behind it: SIGBUS. */
	check(fd >= 0 && ftruncate(fd, 0) == 0, "memfd");
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	check(p != MAP_FAILED, "mmap of an empty file");
	memset(&act, 0, sizeof(act));
	act.sa_sigaction = on_fault;
	act.sa_flags = SA_SIGINFO;
	check(sigaction(SIGBUS, &act, NULL) == 0, "sigaction(SIGBUS)");
	check(kernel_handler(SIGBUS) != (void *)on_fault,
	      "SIGBUS stays the library's in the kernel");
	check(touch(p) == 1 && last_sig == SIGBUS && last_addr == p,
	      "the program's SIGBUS handler ran");
	munmap(p, 4096);
	close(fd);
}

static volatile int usr1;

static void on_usr1(int sig)
{
	(void)sig;
	usr1++;
}

static void test_other_signals(void)
{
	struct sigaction act;

	memset(&act, 0, sizeof(act));
	act.sa_handler = on_usr1;
	check(sigaction(SIGUSR1, &act, NULL) == 0, "sigaction(SIGUSR1)");
	check(kernel_handler(SIGUSR1) == (void *)on_usr1,
	      "other signals reach the kernel unchanged");
	raise(SIGUSR1);
	check(usr1 == 1, "SIGUSR1 delivered");
	check(signal(SIGUSR1, SIG_DFL) == on_usr1, "signal(SIGUSR1)");
}

static void test_default_kills(char *page)
{
	int status = 0;
	pid_t pid = fork();

	if (!pid) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core);
		signal(SIGSEGV, SIG_DFL);
		(void)*(volatile char *)page;
		_exit(0);
	}
	check(pid > 0 && waitpid(pid, &status, 0) == pid, "fork, wait");
	check(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
	      "with SIG_DFL a fault kills with SIGSEGV (status %#x)", status);
}

int main(void)
{
	char *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);

	if (page == MAP_FAILED)
		return 2;
	test_sigaction(page);
	test_signal(page);
	test_handler_returns();
	test_sigbus();
	test_other_signals();
	test_default_kills(page);
	return shim_check_done();
}
