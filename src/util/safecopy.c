/*
 * sio_safe_memcpy() and its fix-up (safecopy.h).
 *
 * The routine is written in assembly so that every instruction that
 * touches the caller's memory lies between its entry and its fix-up, at
 * addresses a compiler cannot move: a fault at any RIP in that range
 * resumes at the fix-up, which returns -EFAULT (-14).  Nothing is pushed
 * between entry and return, so resuming there with the faulting frame's
 * registers is a plain return to the caller.  A copy of 128 bytes or more
 * is one `rep movsb` (fast on every CPU with ERMS); a shorter one, the
 * device models' usual descriptor or register-sized access, moves 16 bytes
 * at a time (SSE2, which every x86-64 has), then 8, 4, 2 and 1, because `rep movsb` costs more to start
 * than such a copy takes.  A faulting copy may have moved part of the
 * bytes; which part is not specified.
 */
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

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
	"\tcmpq $128, %rcx\n"
	"\tjae 4f\n"
	"\tcmpq $16, %rcx\n"
	"\tjb 6f\n"
	"7:\tmovdqu (%rsi), %xmm0\n"
	"\tmovdqu %xmm0, (%rdi)\n"
	"\taddq $16, %rsi\n"
	"\taddq $16, %rdi\n"
	"\tsubq $16, %rcx\n"
	"\tcmpq $16, %rcx\n"
	"\tjae 7b\n"
	"6:\tcmpq $8, %rcx\n"
	"\tjb 2f\n"
	"1:\tmovq (%rsi), %rax\n"
	"\tmovq %rax, (%rdi)\n"
	"\taddq $8, %rsi\n"
	"\taddq $8, %rdi\n"
	"\tsubq $8, %rcx\n"
	"\tcmpq $8, %rcx\n"
	"\tjae 1b\n"
	/* Then 4, then 2: a 4-byte argument (an ioctl's size field) is
	 * read back at once, and a load of it from bytes stored one by one
	 * would stall on store forwarding. */
	"2:\tcmpq $4, %rcx\n"
	"\tjb 8f\n"
	"\tmovl (%rsi), %eax\n"
	"\tmovl %eax, (%rdi)\n"
	"\taddq $4, %rsi\n"
	"\taddq $4, %rdi\n"
	"\tsubq $4, %rcx\n"
	"8:\tcmpq $2, %rcx\n"
	"\tjb 9f\n"
	"\tmovw (%rsi), %ax\n"
	"\tmovw %ax, (%rdi)\n"
	"\taddq $2, %rsi\n"
	"\taddq $2, %rdi\n"
	"\tsubq $2, %rcx\n"
	"9:\ttestq %rcx, %rcx\n"
	"\tjz 3f\n"
	"5:\tmovb (%rsi), %al\n"
	"\tmovb %al, (%rdi)\n"
	"\tincq %rsi\n"
	"\tincq %rdi\n"
	"\tdecq %rcx\n"
	"\tjnz 5b\n"
	"3:\txorl %eax, %eax\n"
	"\tret\n"
	"4:\trep movsb\n"
	"\txorl %eax, %eax\n"
	"\tret\n"
	"\t.globl sio_safecopy_fixup_addr\n"
	"\t.hidden sio_safecopy_fixup_addr\n"
	"sio_safecopy_fixup_addr:\n"
	"\tmovl $-14, %eax\n"
	"\tret\n"
	"\t.cfi_endproc\n"
	".size sio_safe_memcpy, .-sio_safe_memcpy\n");

/* The fix-up, a label inside the routine (declared as a function only to
 * take its address). */
void sio_safecopy_fixup_addr(void) __attribute__((visibility("hidden")));

uintptr_t sio_safecopy_fixup(uintptr_t rip)
{
	if (rip >= (uintptr_t)sio_safe_memcpy &&
	    rip < (uintptr_t)sio_safecopy_fixup_addr)
		return (uintptr_t)sio_safecopy_fixup_addr;
	return 0;
}

bool sio_safecopy_is_armed;
__thread unsigned char sio_safecopy_thread_mask
	__attribute__((tls_model("initial-exec")));

void sio_safecopy_set_thread_blocked(bool blocked)
{
	sio_safecopy_thread_mask = blocked ? SIO_SAFECOPY_MASK_BLOCKED :
					     SIO_SAFECOPY_MASK_OPEN;
}

/* The slow path of sio_safecopy_armed(): ask the kernel once per thread. */
bool sio_safecopy_thread_mask_open(void)
{
	uint64_t mask;

	if (sio_safecopy_thread_mask == SIO_SAFECOPY_MASK_UNKNOWN) {
		if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &mask,
			    sizeof(mask)))
			return false;
		sio_safecopy_set_thread_blocked(
			mask & ((1ull << (SIGSEGV - 1)) | (1ull << (SIGBUS - 1))));
	}
	return sio_safecopy_thread_mask == SIO_SAFECOPY_MASK_OPEN;
}

void sio_safecopy_arm(void)
{
	__atomic_store_n(&sio_safecopy_is_armed, true, __ATOMIC_RELEASE);
}
