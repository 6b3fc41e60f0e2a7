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
 * device models' usual descriptor or register-sized access, avoids it,
 * because `rep movsb` costs more to start than such a copy takes:
 *  - 16 to 64 bytes: two or four 16-byte SSE2 loads of the head and the
 *    tail (overlapping) before any store;
 *  - 65 to 127: 16 bytes at a time, then the rest as below;
 *  - under 16: the head and the tail as two overlapping 8-, 4- or 2-byte
 *    moves, or one byte.
 * Loading everything before storing matters when the source is cold: a
 * loop that stores between its loads made a 64-byte DMA read of a new page
 * each time 10-20 ns slower than memcpy (bench_dma, "walking").  Whole
 * 4- and 8-byte moves matter because an ioctl's 4-byte size field is read
 * back at once, and a load of bytes stored one by one stalls on store
 * forwarding.  A faulting copy may have moved part of the bytes; which
 * part is not specified.
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
	/* The sizes of ioctl arguments (16..64) take the fewest tests. */
	"\tmovq %rdx, %rcx\n"
	"\tcmpq $64, %rcx\n"
	"\tja 10f\n"
	"\tcmpq $16, %rcx\n"
	"\tjb 6f\n"
	"\tcmpq $32, %rcx\n"
	"\tjb 8f\n"
	/* 32..64: four loads (head and tail, overlapping), then the stores */
	"\tmovdqu (%rsi), %xmm0\n"
	"\tmovdqu 16(%rsi), %xmm1\n"
	"\tmovdqu -32(%rsi,%rcx), %xmm2\n"
	"\tmovdqu -16(%rsi,%rcx), %xmm3\n"
	"\tmovdqu %xmm0, (%rdi)\n"
	"\tmovdqu %xmm1, 16(%rdi)\n"
	"\tmovdqu %xmm2, -32(%rdi,%rcx)\n"
	"\tmovdqu %xmm3, -16(%rdi,%rcx)\n"
	"\txorl %eax, %eax\n"
	"\tret\n"
	/* 16..31: two loads, then two stores */
	"8:\tmovdqu (%rsi), %xmm0\n"
	"\tmovdqu -16(%rsi,%rcx), %xmm1\n"
	"\tmovdqu %xmm0, (%rdi)\n"
	"\tmovdqu %xmm1, -16(%rdi,%rcx)\n"
	"\txorl %eax, %eax\n"
	"\tret\n"
	/* over 64: 128 and up with rep movsb */
	"10:\tcmpq $128, %rcx\n"
	"\tjae 4f\n"
	/* 65..127: 16 at a time, the rest (0..15) below */
	"7:\tmovdqu (%rsi), %xmm0\n"
	"\tmovdqu %xmm0, (%rdi)\n"
	"\taddq $16, %rsi\n"
	"\taddq $16, %rdi\n"
	"\tsubq $16, %rcx\n"
	"\tcmpq $16, %rcx\n"
	"\tjae 7b\n"
	/* 8..15: head and tail, 8 bytes each */
	"6:\tcmpq $8, %rcx\n"
	"\tjb 2f\n"
	"\tmovq (%rsi), %rax\n"
	"\tmovq -8(%rsi,%rcx), %rdx\n"
	"\tmovq %rax, (%rdi)\n"
	"\tmovq %rdx, -8(%rdi,%rcx)\n"
	"\txorl %eax, %eax\n"
	"\tret\n"
	/* 4..7 */
	"2:\tcmpq $4, %rcx\n"
	"\tjb 9f\n"
	"\tmovl (%rsi), %eax\n"
	"\tmovl -4(%rsi,%rcx), %edx\n"
	"\tmovl %eax, (%rdi)\n"
	"\tmovl %edx, -4(%rdi,%rcx)\n"
	"\txorl %eax, %eax\n"
	"\tret\n"
	/* 2..3 */
	"9:\tcmpq $2, %rcx\n"
	"\tjb 5f\n"
	"\tmovzwl (%rsi), %eax\n"
	"\tmovzwl -2(%rsi,%rcx), %edx\n"
	"\tmovw %ax, (%rdi)\n"
	"\tmovw %dx, -2(%rdi,%rcx)\n"
	"\txorl %eax, %eax\n"
	"\tret\n"
	/* 0..1 */
	"5:\ttestq %rcx, %rcx\n"
	"\tjz 3f\n"
	"\tmovb (%rsi), %al\n"
	"\tmovb %al, (%rdi)\n"
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
