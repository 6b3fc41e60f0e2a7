/*
 * Private to the MMIO trap: the interfaces between its files.
 *
 *   trap.c     the SIGSEGV/SIGBUS handler, its installation, the program's
 *              recorded handlers and the chaining to them, the table of
 *              trap clients;
 *   region.c   the registry of trapping regions (sio_mmio_map/unregister)
 *              and the MMIO client of the trap;
 *   decode.c   the x86-64 instruction decoder (decode.h);
 *   emulate.c  performs a decoded instruction on a thread's saved
 *              registers, reaching memory through an access table.
 *
 * Everything reachable from the handler is async-signal-safe: no locks
 * that a thread could hold when it faults, no malloc, no stdio, only raw
 * system calls and atomics.
 */
#ifndef SIO_MMIO_PRIVATE_H
#define SIO_MMIO_PRIVATE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "mmio/decode.h"

#if !defined(__x86_64__)
#error "the MMIO trap decodes and emulates x86-64 instructions only"
#endif

/* ------------------------------------------------------------------ */
/* Trap clients (trap.c)                                                */
/* ------------------------------------------------------------------ */

/* What a client answers for a fault. */
enum sio_trap_verdict {
	SIO_TRAP_PASS,		/* not this client's: ask the next one */
	SIO_TRAP_RESUME,	/* handled: the thread resumes from uc */
	SIO_TRAP_CHAIN,		/* this client's, but it cannot handle it:
				 * deliver to the program's handler now */
};

/*
 * A user of the fault handler.  fault() runs inside the handler, on the
 * faulting thread, with every signal blocked; it must be async-signal-safe.
 * It may change uc (registers, RIP) before answering SIO_TRAP_RESUME: a
 * fault-safe copy routine, for example, resumes at its own fix-up address.
 */
struct sio_trap_client {
	enum sio_trap_verdict (*fault)(int sig, siginfo_t *si, ucontext_t *uc);
};

/* Add a client (idempotent for the same pointer) and install the handler.
 * Clients are asked in the order they were added and are never removed.
 * 0, or -ENOSPC when the small table is full. */
int sio_trap_client_add(const struct sio_trap_client *client);

/* One line on stderr by a raw write(2): usable inside the handler. */
void sio_trap_say(const char *msg);

/* ------------------------------------------------------------------ */
/* Emulation (emulate.c)                                                */
/* ------------------------------------------------------------------ */

/* Where an address range lies, for the emulator. */
enum sio_reach {
	SIO_REACH_NONE,		/* straddles regions, or unknown */
	SIO_REACH_MMIO,		/* wholly inside one trapping region */
	SIO_REACH_MEMORY,	/* touches no trapping region */
};

/*
 * How the emulator reaches memory.  read/write take 1, 2, 4 or 8 bytes at
 * addr of a range that reach() classified SIO_REACH_MMIO; plain memory
 * (the other side of a string move) is copied by the emulator itself,
 * fault-safely.
 */
struct sio_mmio_access {
	enum sio_reach (*reach)(void *ctx, uintptr_t addr, size_t len);
	uint64_t (*read)(void *ctx, uintptr_t addr, unsigned int size);
	void (*write)(void *ctx, uintptr_t addr, unsigned int size,
		      uint64_t val);
	void *ctx;
};

/* Why an instruction was not emulated (for the message). */
enum sio_emulate_result {
	SIO_EMU_DONE = 0,
	SIO_EMU_UNDECODED,	/* not an instruction the decoder knows */
	SIO_EMU_OPERAND,	/* its operand is not wholly in one region */
	SIO_EMU_NOSTATE,	/* no vector register state in the frame */
	SIO_EMU_RETRY,		/* a string op stopped early: the CPU
				 * resumes it at the current element */
};

/* Performs insn (decoded at uc's RIP) for the fault at fault_addr.  On
 * SIO_EMU_DONE the registers and RIP are updated; on SIO_EMU_RETRY the
 * registers reflect the elements done and RIP is unchanged; otherwise
 * nothing was accessed and uc is unchanged. */
enum sio_emulate_result sio_mmio_emulate(const struct sio_insn *insn,
					 ucontext_t *uc, uintptr_t fault_addr,
					 const struct sio_mmio_access *acc);

/* Read the layout of the extended register state in signal frames (the
 * offsets of the upper YMM and ZMM halves); called when the handler is
 * installed, before any fault. */
void sio_mmio_emulate_init(void);

/* ------------------------------------------------------------------ */
/* Raw system calls                                                     */
/* ------------------------------------------------------------------ */

/* Raw system calls pass every argument as a long: syscall() reads whole
 * words, and the upper half of an int argument is undefined. */

/* The kernel's struct sigaction on x86-64 (not glibc's). */
struct sio_ksigaction {
	void *handler;
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

static inline int sio_sys_rt_sigaction(int sig, const struct sio_ksigaction *act,
				       struct sio_ksigaction *old)
{
	return (int)syscall(SYS_rt_sigaction, (long)sig, act, old,
			    (long)sizeof(uint64_t));
}

static inline int sio_sys_sigprocmask(int how, const uint64_t *set,
				      uint64_t *old)
{
	return (int)syscall(SYS_rt_sigprocmask, (long)how, set, old,
			    (long)sizeof(uint64_t));
}

#endif
