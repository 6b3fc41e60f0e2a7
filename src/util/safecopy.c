/*
 * sio_safe_memcpy() and its fix-up (safecopy.h).
 *
 * The routine is written in assembly so that its faulting instruction and
 * the fix-up have addresses a compiler cannot move: the copy is a single
 * `rep movsb` (fast on every CPU with ERMS, and restartable by design: a
 * fault stops it with RSI, RDI and RCX saying how far it got, which the
 * fix-up ignores).  The fix-up returns -EFAULT (-14) through the same
 * epilogue as the success path.  Nothing is on the stack between entry and
 * return, so resuming at the fix-up with the faulting frame's registers is
 * a plain return to the caller.
 */
#include <errno.h>

#include "util/safecopy.h"

#if !defined(__x86_64__)
#error "sio_safe_memcpy is written for x86-64"
#endif

_Static_assert(EFAULT == 14, "the fix-up returns -14");

__asm__(".text\n"
	".p2align 4\n"
	".globl sio_safe_memcpy\n"
	".hidden sio_safe_memcpy\n"
	".type sio_safe_memcpy, @function\n"
	"sio_safe_memcpy:\n"
	"\t.cfi_startproc\n"
	"\tmovq %rdx, %rcx\n"
	"\t.globl sio_safecopy_insn\n"
	"\t.hidden sio_safecopy_insn\n"
	"sio_safecopy_insn:\n"
	"\trep movsb\n"
	"\txorl %eax, %eax\n"
	"\tret\n"
	"\t.globl sio_safecopy_fixup_addr\n"
	"\t.hidden sio_safecopy_fixup_addr\n"
	"sio_safecopy_fixup_addr:\n"
	"\tmovl $-14, %eax\n"
	"\tret\n"
	"\t.cfi_endproc\n"
	".size sio_safe_memcpy, .-sio_safe_memcpy\n");

/* Labels inside the routine (declared as functions only to take their
 * addresses). */
void sio_safecopy_insn(void) __attribute__((visibility("hidden")));
void sio_safecopy_fixup_addr(void) __attribute__((visibility("hidden")));

uintptr_t sio_safecopy_fixup(uintptr_t rip)
{
	if (rip == (uintptr_t)sio_safecopy_insn)
		return (uintptr_t)sio_safecopy_fixup_addr;
	return 0;
}
