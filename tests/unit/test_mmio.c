/*
 * MMIO by trap and emulate: every decoded instruction form against a
 * region whose ops record each access and answer reads from a register
 * file; the chaining to the program's SIGSEGV handlers (flags, masks,
 * SA_RESETHAND, oldact, re-taking the signal, default and ignored
 * actions); fork; regions replaced by MAP_FIXED; the decoder on encodings.
 *
 * The instruction tests run each snippet twice from the same register
 * state: once on ordinary memory, where the CPU executes it, and once on a
 * trapping region, where the library emulates it.  Registers, RFLAGS, XMM
 * registers and memory must come out identical; the access log says what
 * the model saw.
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "softiommu/mmio.h"
#include "mmio/access.h"
#include "mmio/decode.h"

#define PG 4096
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000	/* glibc reports it in oldact */
#endif
#define REGS_SIZE (2 * PG)	/* what the instruction tests map */
#define DEV_SIZE (4 * PG)	/* a model's register file */

/* ------------------------------------------------------------------ */
/* A device: a register file and a log of accesses                      */
/* ------------------------------------------------------------------ */

struct access {
	char dir;		/* 'r' or 'w' */
	unsigned int size;
	uint64_t off, val;
};

struct dev {
	uint8_t regs[DEV_SIZE];
	struct access log[64];
	unsigned int n;
	unsigned int reads_counted;	/* reads of the counter register */
};

/* Offset 0xF00 is a counter: each read returns one more. */
#define COUNTER_OFF 0xF00

static uint64_t dev_read(void *opaque, uint64_t off, unsigned int size)
{
	struct dev *d = opaque;
	uint64_t v = 0;

	if (off == COUNTER_OFF)
		return ++d->reads_counted;
	memcpy(&v, d->regs + off, size);
	if (d->n < 64)
		d->log[d->n] = (struct access){ 'r', size, off, v };
	d->n++;
	return v;
}

static void dev_write(void *opaque, uint64_t off, unsigned int size,
		      uint64_t val)
{
	struct dev *d = opaque;

	memcpy(d->regs + off, &val, size);
	if (d->n < 64)
		d->log[d->n] = (struct access){ 'w', size, off, val };
	d->n++;
}

static const struct sio_mmio_ops dev_ops = { dev_read, dev_write };

/*
 * A driver's accessors: one volatile access each, and a compiler barrier,
 * because the model's memory changes behind the compiler's back (in the
 * trap), as the kernel's readl/writel say with their "memory" clobber.
 */
#define MMIO_ACCESSORS(sfx, T)						\
	static inline __attribute__((unused)) T read##sfx(const void *p) \
	{								\
		T v = *(const volatile T *)p;				\
		__asm__ volatile("" ::: "memory");			\
		return v;						\
	}								\
	static inline __attribute__((unused)) void write##sfx(void *p, T v) \
	{								\
		*(volatile T *)p = v;					\
		__asm__ volatile("" ::: "memory");			\
	}
MMIO_ACCESSORS(b, uint8_t)
MMIO_ACCESSORS(w, uint16_t)
MMIO_ACCESSORS(l, uint32_t)
MMIO_ACCESSORS(q, uint64_t)

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 37 + 11);
}

static struct dev *dev_new(void)
{
	struct dev *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	for (size_t i = 0; i < DEV_SIZE; i++)
		d->regs[i] = pattern(i);
	return d;
}

static uint8_t *map_dev(struct dev *d, size_t len, struct sio_mmio_region **r)
{
	void *addr = NULL;

	assert_int_equal(sio_mmio_map(&addr, len, 0, &dev_ops, d, r), 0);
	assert_non_null(addr);
	return addr;
}

static void unmap_dev(void *addr, size_t len, struct sio_mmio_region *r)
{
	assert_int_equal(munmap(addr, len), 0);
	sio_mmio_unregister(r);
}

/* ------------------------------------------------------------------ */
/* The snippet harness                                                  */
/* ------------------------------------------------------------------ */

struct cpu {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t flags;
	uint8_t xmm0[16], xmm1[16];
};

/* run_snip(cpu, fn): load every register of cpu, call fn, store them
 * back.  rbp and rsp are left alone. */
void run_snip(struct cpu *c, void (*fn)(void));
__asm__(".text\n"
	".type run_snip, @function\n"
	"run_snip:\n"
	"\tpush %rbp\n\tpush %rbx\n\tpush %r12\n\tpush %r13\n"
	"\tpush %r14\n\tpush %r15\n"
	"\tpush %rdi\n\tpush %rsi\n"
	"\tmovdqu 120(%rdi), %xmm0\n\tmovdqu 136(%rdi), %xmm1\n"
	"\tpushq 112(%rdi)\n\tpopfq\n"
	"\tmov 0(%rdi), %rax\n\tmov 8(%rdi), %rbx\n\tmov 16(%rdi), %rcx\n"
	"\tmov 24(%rdi), %rdx\n\tmov 32(%rdi), %rsi\n"
	"\tmov 48(%rdi), %r8\n\tmov 56(%rdi), %r9\n\tmov 64(%rdi), %r10\n"
	"\tmov 72(%rdi), %r11\n\tmov 80(%rdi), %r12\n\tmov 88(%rdi), %r13\n"
	"\tmov 96(%rdi), %r14\n\tmov 104(%rdi), %r15\n"
	"\tmov 40(%rdi), %rdi\n"
	"\tcall *(%rsp)\n"
	"\tpush %rdi\n"
	"\tmov 16(%rsp), %rdi\n"
	"\tmov %rax, 0(%rdi)\n\tmov %rbx, 8(%rdi)\n\tmov %rcx, 16(%rdi)\n"
	"\tmov %rdx, 24(%rdi)\n\tmov %rsi, 32(%rdi)\n"
	"\tmov %r8, 48(%rdi)\n\tmov %r9, 56(%rdi)\n\tmov %r10, 64(%rdi)\n"
	"\tmov %r11, 72(%rdi)\n\tmov %r12, 80(%rdi)\n\tmov %r13, 88(%rdi)\n"
	"\tmov %r14, 96(%rdi)\n\tmov %r15, 104(%rdi)\n"
	"\tpopq 40(%rdi)\n"
	"\tpushfq\n\tpopq 112(%rdi)\n"
	"\tmovdqu %xmm0, 120(%rdi)\n\tmovdqu %xmm1, 136(%rdi)\n"
	"\tadd $16, %rsp\n"
	"\tpop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbx\n"
	"\tpop %rbp\n"
	"\tret\n"
	".size run_snip, .-run_snip\n");

#define SNIP(name, text)						\
	void name(void);						\
	__asm__(".text\n.type " #name ", @function\n" #name ":\n\t"	\
		text "\n\tret\n.size " #name ", .-" #name "\n")

/* Loads: size, extension, merge and zero-extension rules. */
SNIP(s_load8, "movb (%rdi), %al");
SNIP(s_load8_ah, "movb 1(%rdi), %ah");
SNIP(s_load8_bh_sib, "movb 3(%rdi,%rcx,2), %bh");
SNIP(s_load8_sil, "movb (%rdi), %sil");
SNIP(s_load8_r11b, "movb (%rdi), %r11b");
SNIP(s_load16, "movw 2(%rdi), %ax");
SNIP(s_load16_r9w, "movw (%rdi), %r9w");
SNIP(s_load32, "movl 4(%rdi), %eax");
SNIP(s_load32_r12d, "movl 0x100(%rdi), %r12d");
SNIP(s_load64, "movq 8(%rdi), %rdx");
SNIP(s_load64_r15_sib, "movq 0x10(%rdi,%rcx,8), %r15");
SNIP(s_load64_idx_r13, "movq (%rdi,%r13,1), %r8");
SNIP(s_load64_base_r12, "movq 0x18(%r12), %r10");
SNIP(s_movzbl, "movzbl 5(%rdi), %ecx");
SNIP(s_movzbw, "movzbw 5(%rdi), %cx");
SNIP(s_movzwl, "movzwl 6(%rdi), %r14d");
SNIP(s_movzbq, "movzbq 7(%rdi), %rbx");
SNIP(s_movsbl, "movsbl 9(%rdi), %edx");
SNIP(s_movsbq, "movsbq 9(%rdi), %r8");
SNIP(s_movswl, "movswl 10(%rdi), %esi");
SNIP(s_movswq, "movswq 10(%rdi), %rax");
SNIP(s_movswl_pos, "movswl 12(%rdi), %eax");
SNIP(s_movslq, "movslq 12(%rdi), %r9");
SNIP(s_movsxd_neg, "movslq 0x1c(%rdi), %rax");
/* Stores. */
SNIP(s_store8, "movb %al, 1(%rdi)");
SNIP(s_store8_ah, "movb %ah, 2(%rdi)");
SNIP(s_store8_dh, ".byte 0x88, 0x37");		/* mov %dh, (%rdi) */
SNIP(s_store8_sil, ".byte 0x40, 0x88, 0x37");	/* mov %sil, (%rdi) */
SNIP(s_store8_r10b, "movb %r10b, 3(%rdi)");
SNIP(s_store16, "movw %cx, 6(%rdi)");
SNIP(s_store16_r13w, "movw %r13w, 0x20(%rdi,%rcx,4)");
SNIP(s_store32, "movl %edx, 8(%rdi)");
SNIP(s_store32_r8d, "movl %r8d, -4(%rdi)");
SNIP(s_store64, "movq %rbx, 16(%rdi)");
SNIP(s_store64_r14, "movq %r14, (%rdi,%rcx,8)");
SNIP(s_movnti32, "movnti %eax, 4(%rdi)");
SNIP(s_movnti64, "movnti %r9, 8(%rdi)");
/* Immediates. */
SNIP(s_imm8, "movb $0x5a, 3(%rdi)");
SNIP(s_imm16, "movw $0xbeef, 2(%rdi)");
SNIP(s_imm32, "movl $0xdeadbeef, 4(%rdi)");
SNIP(s_imm64_neg, "movq $-2, 8(%rdi)");
SNIP(s_imm64_pos, "movq $0x12345678, 0x30(%rdi)");
/* Redundant and odd prefixes. */
SNIP(s_cs_load, ".byte 0x2e, 0x8b, 0x07");	/* cs mov (%rdi), %eax */
SNIP(s_ds_rex_store, ".byte 0x3e, 0x4c, 0x89, 0x47, 0x08"); /* ds mov %r8,8(%rdi) */
SNIP(s_rex_ignored, ".byte 0x48, 0x66, 0x8b, 0x07"); /* REX then 66: 16-bit */
SNIP(s_rex40_load8, ".byte 0x40, 0x8a, 0x37");	/* mov (%rdi), %sil */
SNIP(s_load8_dh, ".byte 0x8a, 0x37");		/* mov (%rdi), %dh */
SNIP(s_addr32, ".byte 0x67, 0x8b, 0x47, 0x04");	/* mov 4(%edi), %eax */
/* Read-modify-write. */
SNIP(s_add_mem, "addl %eax, (%rdi)");
SNIP(s_add_mem_carry, "addq %rax, 8(%rdi)");
SNIP(s_or_imm8, "orb $0x80, 1(%rdi)");
SNIP(s_or_imm_sib, "orl $1, 0x10(%rdi,%rcx,4)");
SNIP(s_and_imm, "andq $-16, 8(%rdi)");
SNIP(s_sub16, "subw %cx, 2(%rdi)");
SNIP(s_xor_to_reg, "xorl (%rdi), %edx");
SNIP(s_add_to_r9, "addq 8(%rdi), %r9");
SNIP(s_or_to_ah, "orb 3(%rdi), %ah");
SNIP(s_cmp_imm, "cmpl $5, 4(%rdi)");
SNIP(s_cmp_reg8, "cmpb %al, (%rdi)");
SNIP(s_cmp_reg_mem, "cmpq 8(%rdi), %rbx");
SNIP(s_test_imm, "testl $0x10, (%rdi)");
SNIP(s_test_bh, "testb %bh, 2(%rdi)");
SNIP(s_adc, "adcl %eax, (%rdi)");
SNIP(s_sbb, "sbbq 8(%rdi), %rdx");
SNIP(s_not, "notl (%rdi)");
SNIP(s_neg, "negq 8(%rdi)");
SNIP(s_inc16, "incw 2(%rdi)");
SNIP(s_dec8, "decb 3(%rdi)");
SNIP(s_lock_or, "lock orl $0x100, 4(%rdi)");
SNIP(s_xadd, "lock xaddl %eax, (%rdi)");
SNIP(s_xchg, "xchgl %ecx, 4(%rdi)");
SNIP(s_xchg8_ah, "xchgb %ah, 1(%rdi)");
SNIP(s_cmpxchg, "lock cmpxchgl %ecx, (%rdi)");
SNIP(s_cmpxchg16, "cmpxchgw %r10w, 2(%rdi)");
SNIP(s_cmpxchg64, "lock cmpxchgq %rbx, 8(%rdi)");
/* SSE. */
SNIP(s_movdqu_load, "movdqu (%rdi), %xmm0");
SNIP(s_movdqu_store, "movdqu %xmm1, 0x10(%rdi)");
SNIP(s_movdqa_load, "movdqa 0x20(%rdi), %xmm1");
SNIP(s_movdqa_store, "movdqa %xmm0, 0x30(%rdi)");
SNIP(s_movups_load, "movups 4(%rdi), %xmm0");
SNIP(s_movaps_store, "movaps %xmm1, (%rdi)");
SNIP(s_movupd_store, "movupd %xmm0, 8(%rdi)");
SNIP(s_movapd_load, "movapd 0x10(%rdi), %xmm0");
SNIP(s_movq_load, "movq 8(%rdi), %xmm0");		/* F3 0F 7E */
SNIP(s_movq_store, "movq %xmm1, 8(%rdi)");		/* 66 0F D6 */
SNIP(s_movq_66w_load, ".byte 0x66, 0x48, 0x0f, 0x6e, 0x07"); /* movq (%rdi),%xmm0 */
SNIP(s_movq_66w_store, ".byte 0x66, 0x48, 0x0f, 0x7e, 0x4f, 0x08");
SNIP(s_movd_load, "movd 4(%rdi), %xmm1");
SNIP(s_movd_store, "movd %xmm0, 12(%rdi)");
SNIP(s_movss_load, "movss 4(%rdi), %xmm0");
SNIP(s_movss_store, "movss %xmm1, 8(%rdi)");
SNIP(s_movsd_load, "movsd 8(%rdi), %xmm1");
SNIP(s_movsd_store, "movsd %xmm0, 16(%rdi)");
SNIP(s_movlps_load, "movlps 8(%rdi), %xmm0");
SNIP(s_movhps_load, "movhps 8(%rdi), %xmm1");
SNIP(s_movlpd_store, "movlpd %xmm1, 0x18(%rdi)");
SNIP(s_movhpd_store, "movhpd %xmm0, 0x20(%rdi)");
SNIP(s_movntdq, "movntdq %xmm1, 0x20(%rdi)");
SNIP(s_movntps, "movntps %xmm0, 0x30(%rdi)");
SNIP(s_movntdqa, "movntdqa 0x10(%rdi), %xmm0");
SNIP(s_movdqu_xmm9, "movdqu (%rdi), %xmm9; movdqa %xmm9, %xmm1");
/* String instructions (rsi/rdi: the other side is ordinary memory). */
SNIP(s_rep_movsb_from, "rep movsb");
SNIP(s_rep_movsq_from, "rep movsq");
SNIP(s_rep_movsl_to, "rep movsl");
SNIP(s_rep_stosl, "rep stosl");
SNIP(s_rep_stosb, "rep stosb");
SNIP(s_movsw, "movsw");
SNIP(s_lodsq, "lodsq");
SNIP(s_std_movsb, "std; rep movsb; cld");

/* AVX (run only when the CPU has it). */
SNIP(s_vmovdqu_load128, "vmovdqu (%rdi), %xmm0");
SNIP(s_vmovdqu_store256, "vpcmpeqd %ymm1, %ymm1, %ymm1; vpaddd %ymm1, %ymm1, %ymm1; vmovdqu %ymm1, (%rdi)");
SNIP(s_vmovdqu_load256, "vmovdqu (%rdi), %ymm0; vmovdqu %ymm0, (%rsi)");
SNIP(s_vex_zero_upper, "vpcmpeqd %ymm0, %ymm0, %ymm0; vmovdqu 0x10(%rdi), %xmm0; vmovdqu %ymm0, (%rsi)");
SNIP(s_sse_keeps_upper, "vpcmpeqd %ymm0, %ymm0, %ymm0; movdqu 0x10(%rdi), %xmm0; vmovdqu %ymm0, (%rsi); vzeroupper");
SNIP(s_vmovq_load, "vpcmpeqd %ymm0, %ymm0, %ymm0; vmovq 8(%rdi), %xmm0; vmovdqu %ymm0, (%rsi)");
SNIP(s_vmovd_store, "vmovd %xmm1, 4(%rdi)");
SNIP(s_vmovaps_store256, "vpcmpeqd %ymm1, %ymm1, %ymm1; vmovaps %ymm1, 0x20(%rdi)");
SNIP(s_vmovntdqa256, "vmovntdqa 0x20(%rdi), %ymm0; vmovdqu %ymm0, (%rsi)");
/* AVX-512: a VEX load clears the ZMM register above its bytes. */
SNIP(s_vex_zero_zmm, "vpternlogd $0xff, %zmm0, %zmm0, %zmm0; vmovdqu 0x10(%rdi), %xmm0; vmovdqu64 %zmm0, (%rsi); vzeroupper");

/* Where a register of a case points. */
enum area { NONE, TARGET, PLAIN };

struct snip_case {
	const char *name;
	void (*fn)(void);
	enum area rdi, rsi, r12;
	uint64_t rdi_off, rsi_off, r12_off;
	uint64_t rcx;		/* also the count of string instructions */
	uint64_t flags;		/* status flags before */
	int cmp_eq;		/* CMPXCHG: rAX equals the dword at target+N */
	int cpu;		/* 0, 1: needs AVX, 2: needs AVX-512 */
};

/* Cases override the defaults of T() with designated initializers. */
#ifdef __clang__
#pragma clang diagnostic ignored "-Winitializer-overrides"
#else
#pragma GCC diagnostic ignored "-Woverride-init"
#endif
#define T(fn_, ...) { .name = #fn_, .fn = fn_, .rdi = TARGET, .rdi_off = 0x40, \
		      .rcx = 3, __VA_ARGS__ }

static const struct snip_case cases[] = {
	T(s_load8), T(s_load8_ah), T(s_load8_bh_sib), T(s_load8_sil),
	T(s_load8_r11b), T(s_load16), T(s_load16_r9w), T(s_load32),
	T(s_load32_r12d), T(s_load64), T(s_load64_r15_sib),
	T(s_load64_idx_r13), T(s_load64_base_r12, .r12 = TARGET, .r12_off = 0x80),
	T(s_movzbl), T(s_movzbw), T(s_movzwl), T(s_movzbq), T(s_movsbl),
	T(s_movsbq), T(s_movswl), T(s_movswq), T(s_movswl_pos), T(s_movslq),
	T(s_movsxd_neg),
	T(s_store8), T(s_store8_ah), T(s_store8_dh), T(s_store8_sil),
	T(s_store8_r10b), T(s_store16), T(s_store16_r13w), T(s_store32),
	T(s_store32_r8d), T(s_store64), T(s_store64_r14), T(s_movnti32),
	T(s_movnti64),
	T(s_imm8), T(s_imm16), T(s_imm32), T(s_imm64_neg), T(s_imm64_pos),
	T(s_cs_load), T(s_ds_rex_store), T(s_rex_ignored), T(s_rex40_load8),
	T(s_load8_dh),
	T(s_add_mem), T(s_add_mem_carry), T(s_or_imm8), T(s_or_imm_sib),
	T(s_and_imm), T(s_sub16), T(s_xor_to_reg), T(s_add_to_r9),
	T(s_or_to_ah), T(s_cmp_imm), T(s_cmp_reg8), T(s_cmp_reg_mem),
	T(s_test_imm), T(s_test_bh), T(s_adc, .flags = 1), T(s_adc),
	T(s_sbb, .flags = 1), T(s_not), T(s_neg), T(s_inc16, .flags = 1),
	T(s_dec8), T(s_lock_or), T(s_xadd), T(s_xchg), T(s_xchg8_ah),
	T(s_cmpxchg), T(s_cmpxchg, .cmp_eq = 1), T(s_cmpxchg16),
	T(s_cmpxchg64),
	T(s_movdqu_load), T(s_movdqu_store), T(s_movdqa_load),
	T(s_movdqa_store), T(s_movups_load), T(s_movaps_store),
	T(s_movupd_store), T(s_movapd_load), T(s_movq_load), T(s_movq_store),
	T(s_movq_66w_load), T(s_movq_66w_store), T(s_movd_load),
	T(s_movd_store), T(s_movss_load), T(s_movss_store), T(s_movsd_load),
	T(s_movsd_store), T(s_movlps_load), T(s_movhps_load),
	T(s_movlpd_store), T(s_movhpd_store), T(s_movntdq), T(s_movntps),
	T(s_movntdqa), T(s_movdqu_xmm9),
	T(s_rep_movsb_from, .rsi = TARGET, .rsi_off = 0x43, .rdi = PLAIN,
	  .rdi_off = 5, .rcx = 37),
	T(s_rep_movsq_from, .rsi = TARGET, .rsi_off = 0x40, .rdi = PLAIN,
	  .rdi_off = 8, .rcx = 5),
	T(s_rep_movsl_to, .rsi = PLAIN, .rsi_off = 0x10, .rcx = 9),
	T(s_rep_stosl, .rcx = 9),
	T(s_rep_stosb, .rcx = 300),
	T(s_movsw, .rsi = PLAIN, .rsi_off = 0x20),
	T(s_lodsq, .rsi = TARGET, .rsi_off = 0x48, .rdi = NONE),
	T(s_std_movsb, .rsi = TARGET, .rsi_off = 0x60, .rdi = PLAIN,
	  .rdi_off = 0x30, .rcx = 20),
	T(s_vmovdqu_load128, .cpu = 1),
	T(s_vmovdqu_store256, .cpu = 1),
	T(s_vmovdqu_load256, .rsi = PLAIN, .cpu = 1),
	T(s_vex_zero_upper, .rsi = PLAIN, .cpu = 1),
	T(s_sse_keeps_upper, .rsi = PLAIN, .cpu = 1),
	T(s_vmovq_load, .rsi = PLAIN, .cpu = 1),
	T(s_vmovd_store, .cpu = 1),
	T(s_vmovaps_store256, .cpu = 1),
	T(s_vmovntdqa256, .rsi = PLAIN, .cpu = 2),
	T(s_vex_zero_zmm, .rsi = PLAIN, .cpu = 2),
};

static bool cpu_has(int need)
{
	__builtin_cpu_init();
	if (need == 1)
		return __builtin_cpu_supports("avx2");
	if (need == 2)
		return __builtin_cpu_supports("avx512f");
	return true;
}

static uint64_t area_addr(enum area a, uint64_t off, uint8_t *target,
			  uint8_t *plain)
{
	if (a == TARGET)
		return (uint64_t)(uintptr_t)(target + off);
	if (a == PLAIN)
		return (uint64_t)(uintptr_t)(plain + off);
	return 0x1234;
}

static void init_cpu(const struct snip_case *c, struct cpu *s, uint8_t *target,
		     uint8_t *plain)
{
	uint64_t *g = &s->rax;

	for (int i = 0; i < 14; i++)
		g[i] = 0x8877665544332211ull * (uint64_t)(i + 3) ^ 0xf0e1d2c3b4a59687ull;
	for (int i = 0; i < 16; i++) {
		s->xmm0[i] = (uint8_t)(0xa0 + i);
		s->xmm1[i] = (uint8_t)(0x50 + 3 * i);
	}
	s->rcx = c->rcx;
	s->r13 = 0x21;		/* an index register */
	s->flags = 0x202 | c->flags;
	s->rdi = area_addr(c->rdi, c->rdi_off, target, plain);
	if (c->rsi != NONE)
		s->rsi = area_addr(c->rsi, c->rsi_off, target, plain);
	if (c->r12 != NONE)
		s->r12 = area_addr(c->r12, c->r12_off, target, plain);
	if (c->fn == s_load64_idx_r13)
		s->rdi = area_addr(TARGET, 0x40 - 0x21, target, plain);
	if (c->fn == s_addr32 && c->rdi == TARGET)
		s->rdi |= 0xdead000000000000ull;	/* 67: ignored */
	if (c->cmp_eq)
		memcpy(&s->rax, target + 0x40, 4);
}

/* Registers that held an address: compare them as offsets. */
static void relativize(const struct snip_case *c, struct cpu *s,
		       uint8_t *target, uint8_t *plain)
{
	if (c->rdi != NONE)
		s->rdi -= area_addr(c->rdi, 0, target, plain);
	if (c->rsi != NONE)
		s->rsi -= area_addr(c->rsi, 0, target, plain);
	if (c->r12 != NONE)
		s->r12 -= area_addr(c->r12, 0, target, plain);
}

#define STATUS_FLAGS 0x8D5ull

static void run_case(const struct snip_case *c, uint8_t *mmio, struct dev *d,
		     uint8_t *ram)
{
	uint8_t plain_r[512], plain_m[512];
	struct cpu sr, sm;

	for (size_t i = 0; i < sizeof(plain_r); i++)
		plain_r[i] = plain_m[i] = (uint8_t)(0x33 ^ i);
	for (size_t i = 0; i < REGS_SIZE; i++)
		ram[i] = d->regs[i] = pattern(i);
	d->n = 0;

	init_cpu(c, &sr, ram, plain_r);
	init_cpu(c, &sm, mmio, plain_m);
	run_snip(&sr, c->fn);
	run_snip(&sm, c->fn);
	relativize(c, &sr, ram, plain_r);
	relativize(c, &sm, mmio, plain_m);

	if (d->n == 0)
		fail_msg("%s: the model saw no access", c->name);
	sr.flags &= STATUS_FLAGS | 0x400;
	sm.flags &= STATUS_FLAGS | 0x400;
	if (memcmp(&sr, &sm, sizeof(sr))) {
		const uint64_t *a = &sr.rax, *b = &sm.rax;

		for (int i = 0; i < 15; i++)
			if (a[i] != b[i])
				print_error("%s: word %d: cpu %#llx, emulated %#llx\n",
					    c->name, i, (unsigned long long)a[i],
					    (unsigned long long)b[i]);
		fail_msg("%s: registers differ", c->name);
	}
	if (memcmp(ram, d->regs, REGS_SIZE)) {
		for (size_t i = 0; i < REGS_SIZE; i++)
			if (ram[i] != d->regs[i]) {
				print_error("%s: byte %#zx: cpu %#x, emulated %#x\n",
					    c->name, i, ram[i], d->regs[i]);
				break;
			}
		fail_msg("%s: register file differs", c->name);
	}
	if (memcmp(plain_r, plain_m, sizeof(plain_r)))
		fail_msg("%s: ordinary memory differs", c->name);
}

static void test_instructions(void **state)
{
	struct sio_mmio_region *r;
	struct dev *d = dev_new();
	uint8_t *mmio = map_dev(d, REGS_SIZE, &r);
	uint8_t *ram = aligned_alloc(PG, REGS_SIZE);
	int skipped = 0;

	(void)state;
	assert_non_null(ram);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!cpu_has(cases[i].cpu)) {
			skipped++;
			continue;
		}
		run_case(&cases[i], mmio, d, ram);
	}
	if (skipped)
		print_message("%d AVX cases skipped: the CPU lacks the extension\n",
			      skipped);
	unmap_dev(mmio, REGS_SIZE, r);
	free(ram);
	free(d);
}

/* 67: a 32-bit address.  The region must lie below 4 GiB. */
static void test_addr32(void **state)
{
	struct sio_mmio_region *r;
	struct dev *d = dev_new();
	void *addr = NULL;
	uint8_t *ram;
	const struct snip_case c = T(s_addr32);

	(void)state;
	assert_int_equal(sio_mmio_map(&addr, PG, MAP_32BIT, &dev_ops, d, &r), 0);
	assert_true((uintptr_t)addr < (1ull << 32));
	ram = mmap((void *)0x10000000, REGS_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	assert_true(ram != MAP_FAILED && (uintptr_t)ram < (1ull << 32));
	/* A one-page register file is enough for this case. */
	run_case(&c, addr, d, ram);
	munmap(ram, REGS_SIZE);
	unmap_dev(addr, PG, r);
	free(d);
}

/* ------------------------------------------------------------------ */
/* What the model sees                                                  */
/* ------------------------------------------------------------------ */

static void expect(const struct dev *d, unsigned int i, char dir,
		   unsigned int size, uint64_t off)
{
	assert_true(i < d->n);
	assert_int_equal(d->log[i].dir, dir);
	assert_int_equal(d->log[i].size, size);
	assert_int_equal(d->log[i].off, off);
}

static void test_access_log(void **state)
{
	struct sio_mmio_region *r;
	struct dev *d = dev_new();
	uint8_t *p = map_dev(d, PG, &r);
	uint64_t v;

	(void)state;
	/* A doorbell store is one write of its size, seen at once. */
	d->n = 0;
	writel(p + 0x10, 0xcafef00d);
	assert_int_equal(d->n, 1);
	expect(d, 0, 'w', 4, 0x10);
	assert_int_equal(d->log[0].val, 0xcafef00d);
	/* Neighbours untouched. */
	assert_int_equal(d->regs[0x0f], pattern(0x0f));
	assert_int_equal(d->regs[0x14], pattern(0x14));

	d->n = 0;
	writew(p + 0x22, 0x1234);
	expect(d, 0, 'w', 2, 0x22);
	assert_int_equal(d->regs[0x21], pattern(0x21));
	assert_int_equal(d->regs[0x24], pattern(0x24));

	d->n = 0;
	writeq(p + 0x28, 0x1122334455667788ull);
	v = readq(p + 0x28);
	assert_int_equal(d->n, 2);
	expect(d, 0, 'w', 8, 0x28);
	expect(d, 1, 'r', 8, 0x28);
	assert_int_equal(v, 0x1122334455667788ull);

	d->n = 0;
	v = readb(p + 0x31);
	expect(d, 0, 'r', 1, 0x31);
	assert_int_equal(v, pattern(0x31));

	/* A read-modify-write is a read then a write. */
	d->n = 0;
	__asm__ volatile("orl $4, (%0)" : : "r"(p + 0x40) : "memory", "cc");
	assert_int_equal(d->n, 2);
	expect(d, 0, 'r', 4, 0x40);
	expect(d, 1, 'w', 4, 0x40);

	/* 16 bytes: two 8-byte accesses in address order. */
	d->n = 0;
	__asm__ volatile("movdqu %%xmm0, (%0)" : : "r"(p + 0x50) : "memory");
	assert_int_equal(d->n, 2);
	expect(d, 0, 'w', 8, 0x50);
	expect(d, 1, 'w', 8, 0x58);
	d->n = 0;
	__asm__ volatile("movdqu (%0), %%xmm0" : : "r"(p + 0x50) : "xmm0", "memory");
	expect(d, 0, 'r', 8, 0x50);
	expect(d, 1, 'r', 8, 0x58);

	if (cpu_has(1)) {
		d->n = 0;
		__asm__ volatile("vmovdqu %%ymm0, (%0); vzeroupper"
				 : : "r"(p + 0x60) : "memory");
		assert_int_equal(d->n, 4);
		for (unsigned int i = 0; i < 4; i++)
			expect(d, i, 'w', 8, 0x60 + 8 * i);
	}

	/* A string store: one access per element, in order. */
	d->n = 0;
	{
		uint64_t dst = (uint64_t)(uintptr_t)(p + 0x100), cnt = 3;

		__asm__ volatile("rep stosl"
				 : "+D"(dst), "+c"(cnt)
				 : "a"(0x01020304)
				 : "memory");
		assert_int_equal(cnt, 0);
		assert_int_equal(dst, (uint64_t)(uintptr_t)(p + 0x10c));
	}
	assert_int_equal(d->n, 3);
	for (unsigned int i = 0; i < 3; i++)
		expect(d, i, 'w', 4, 0x100 + 4 * i);

	unmap_dev(p, PG, r);
	free(d);
}

/* Reads are the model's answer at the time of the access. */
static void test_reads_are_current(void **state)
{
	struct sio_mmio_region *r;
	struct dev *d = dev_new();
	uint8_t *p = map_dev(d, PG, &r);
	uint32_t a, b;

	(void)state;
	a = readl(p + COUNTER_OFF);
	b = readl(p + COUNTER_OFF);
	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	unmap_dev(p, PG, r);
	free(d);
}

/* MOV moffs (A0-A3): the address is in the instruction, so the code is
 * generated at run time. */
static void *jit(const uint8_t *code, size_t len)
{
	void *p = mmap(NULL, PG, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memcpy(p, code, len);
	return p;
}

static void test_moffs(void **state)
{
	struct sio_mmio_region *r, *r32;
	struct dev *d = dev_new();
	uint8_t *p = map_dev(d, PG, &r);
	uint64_t a = (uint64_t)(uintptr_t)(p + 0x48);
	uint8_t load[] = { 0x48, 0xA1, 0, 0, 0, 0, 0, 0, 0, 0, 0xC3 };
	uint8_t store[] = { 0x89, 0xF8, 0xA3, 0, 0, 0, 0, 0, 0, 0, 0, 0xC3 };
	uint8_t load8[] = { 0xB8, 0x11, 0x22, 0x33, 0x44, 0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 0xC3 };
	uint8_t load32[] = { 0x67, 0xA1, 0, 0, 0, 0, 0xC3 };
	uint64_t (*fn)(uint64_t);
	void *low = NULL;

	(void)state;
	memcpy(load + 2, &a, 8);
	fn = jit(load, sizeof(load));
	if (!fn)
		skip();
	assert_int_equal(fn(0), *(uint64_t *)(d->regs + 0x48));
	munmap((void *)fn, PG);

	memcpy(store + 3, &a, 8);
	fn = jit(store, sizeof(store));
	d->n = 0;
	fn(0x55aa33cc);
	expect(d, 0, 'w', 4, 0x48);
	assert_int_equal(d->log[0].val, 0x55aa33cc);
	munmap((void *)fn, PG);

	/* mov moffs8, %al merges into EAX. */
	memcpy(load8 + 6, &a, 8);
	fn = jit(load8, sizeof(load8));
	assert_int_equal(fn(0), 0x44332200u | d->regs[0x48]);
	munmap((void *)fn, PG);

	/* 67 A1: a 32-bit offset; needs a region below 4 GiB. */
	assert_int_equal(sio_mmio_map(&low, PG, MAP_32BIT, &dev_ops, d, &r32), 0);
	a = (uint64_t)(uintptr_t)low + 0x10;
	memcpy(load32 + 2, &a, 4);
	fn = jit(load32, sizeof(load32));
	assert_int_equal(fn(0), *(uint32_t *)(d->regs + 0x10));
	munmap((void *)fn, PG);
	unmap_dev(low, PG, r32);

	unmap_dev(p, PG, r);
	free(d);
}

/* An FS override adds the FS base. */
SNIP(s_fs_load, ".byte 0x64, 0x8b, 0x07");	/* mov %fs:(%rdi), %eax */

static void test_segment_override(void **state)
{
	struct sio_mmio_region *r;
	struct dev *d = dev_new();
	uint8_t *p = map_dev(d, PG, &r);
	unsigned long fs = 0;
	struct cpu s;

	(void)state;
	assert_int_equal(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), 0);
	memset(&s, 0, sizeof(s));
	s.flags = 0x202;
	s.rdi = (uint64_t)(uintptr_t)(p + 0x20) - fs;
	run_snip(&s, s_fs_load);
	assert_int_equal(s.rax, *(uint32_t *)(d->regs + 0x20));
	unmap_dev(p, PG, r);
	free(d);
}

/* ------------------------------------------------------------------ */
/* The program's handlers                                               */
/* ------------------------------------------------------------------ */

static sigjmp_buf jb;
static volatile int caught_sig, caught_code, caught_plain;
static void *volatile caught_addr;
static volatile uint64_t caught_mask;

static uint64_t current_mask(void)
{
	sigset_t s;
	uint64_t m;

	sigprocmask(SIG_BLOCK, NULL, &s);
	memcpy(&m, &s, sizeof(m));
	return m;
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	caught_sig = sig;
	caught_code = si->si_code;
	caught_addr = si->si_addr;
	caught_mask = current_mask();
	siglongjmp(jb, 1);
}

/* Where the handler's stack was. */
static void *volatile caught_sp;

static void on_fault_sp(int sig, siginfo_t *si, void *uc)
{
	int local;

	caught_sp = &local;
	on_fault(sig, si, uc);
}

static void on_fault_plain(int sig)
{
	caught_sig = sig;
	caught_plain = 1;
	caught_mask = current_mask();
	siglongjmp(jb, 1);
}

static void set_handler(void (*fn)(int, siginfo_t *, void *), int flags,
			struct sigaction *old)
{
	struct sigaction act;

	memset(&act, 0, sizeof(act));
	act.sa_sigaction = fn;
	act.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&act.sa_mask);
	assert_int_equal(sio_trap_sigaction(SIGSEGV, &act, old), 0);
}

/* Touch p; 1 if the program's handler caught a fault. */
static int touch(volatile uint32_t *p)
{
	caught_sig = 0;
	caught_plain = 0;
	caught_addr = NULL;
	if (sigsetjmp(jb, 1))
		return 1;
	(void)*p;
	return 0;
}

static uint64_t bit(int sig)
{
	return 1ull << (sig - 1);
}

static void test_unregistered_goes_to_program(void **state)
{
	struct sio_mmio_region *r;
	struct dev *d = dev_new();
	uint8_t *p = map_dev(d, PG, &r);
	struct sigaction old;

	(void)state;
	set_handler(on_fault, 0, &old);
	assert_int_equal(touch((uint32_t *)(p + 8)), 0);
	sio_mmio_unregister(r);
	assert_int_equal(touch((uint32_t *)(p + 8)), 1);
	assert_int_equal(caught_sig, SIGSEGV);
	assert_int_equal(caught_code, SEGV_ACCERR);
	assert_ptr_equal(caught_addr, p + 8);
	/* Inside the handler the signal was blocked (no SA_NODEFER). */
	assert_true(caught_mask & bit(SIGSEGV));
	munmap(p, PG);
	/* Unmapped: SEGV_MAPERR, to the program as well. */
	assert_int_equal(touch((uint32_t *)(p + 8)), 1);
	assert_int_equal(caught_code, SEGV_MAPERR);
	assert_int_equal(sio_trap_sigaction(SIGSEGV, &old, NULL), 0);
	free(d);
}

static void test_handler_flags(void **state)
{
	uint8_t *page = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1, 0);
	struct sigaction act, old, cur;

	(void)state;
	assert_int_equal(sio_trap_install(), 0);
	assert_true(page != MAP_FAILED);

	/* SA_NODEFER and sa_mask. */
	memset(&act, 0, sizeof(act));
	act.sa_sigaction = on_fault;
	act.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, SIGUSR1);
	assert_int_equal(sio_trap_sigaction(SIGSEGV, &act, &old), 0);
	assert_int_equal(touch((uint32_t *)page), 1);
	assert_int_equal(caught_sig, SIGSEGV);
	assert_ptr_equal(caught_addr, page);
	assert_false(caught_mask & bit(SIGSEGV));
	assert_true(caught_mask & bit(SIGUSR1));
	/* The mask the thread had is back. */
	assert_false(current_mask() & (bit(SIGSEGV) | bit(SIGUSR1)));

	/* A handler without SA_SIGINFO. */
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_fault_plain;
	sigemptyset(&act.sa_mask);
	assert_int_equal(sio_trap_sigaction(SIGSEGV, &act, NULL), 0);
	assert_int_equal(touch((uint32_t *)page), 1);
	assert_true(caught_plain);
	assert_true(caught_mask & bit(SIGSEGV));

	/* SA_ONSTACK: the alternate stack, for the program's handler and
	 * so for the library's. */
	{
		stack_t ss = { .ss_size = 1 << 16 }, none = { .ss_flags = SS_DISABLE };
		char *alt = malloc(ss.ss_size);

		ss.ss_sp = alt;
		assert_int_equal(sigaltstack(&ss, NULL), 0);
		set_handler(on_fault_sp, SA_ONSTACK, NULL);
		assert_int_equal(touch((uint32_t *)page), 1);
		assert_true((char *)caught_sp > alt &&
			    (char *)caught_sp < alt + ss.ss_size);
		set_handler(on_fault_sp, 0, NULL);
		assert_int_equal(touch((uint32_t *)page), 1);
		assert_false((char *)caught_sp > alt &&
			     (char *)caught_sp < alt + ss.ss_size);
		assert_int_equal(sigaltstack(&none, NULL), 0);
		free(alt);
	}

	/* SA_RESETHAND: the next query says SIG_DFL. */
	set_handler(on_fault, SA_RESETHAND, NULL);
	assert_int_equal(touch((uint32_t *)page), 1);
	assert_int_equal(sio_trap_sigaction(SIGSEGV, NULL, &cur), 0);
	assert_ptr_equal(cur.sa_handler, SIG_DFL);

	assert_int_equal(sio_trap_sigaction(SIGSEGV, &old, NULL), 0);
	munmap(page, PG);
}

/* A handler that fixes the page and returns: the access is retried. */
static uint8_t *fix_page;

static void on_fault_fix(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	caught_addr = si->si_addr;
	mprotect(fix_page, PG, PROT_READ | PROT_WRITE);
}

static void test_handler_returns(void **state)
{
	struct sigaction old;

	(void)state;
	assert_int_equal(sio_trap_install(), 0);
	fix_page = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(fix_page != MAP_FAILED);
	set_handler(on_fault_fix, 0, &old);
	writel(fix_page + 4, 77);
	assert_ptr_equal(caught_addr, fix_page + 4);
	assert_int_equal(*(uint32_t *)(fix_page + 4), 77);
	assert_int_equal(sio_trap_sigaction(SIGSEGV, &old, NULL), 0);
	munmap(fix_page, PG);
}

static void on_other(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
}

static void test_oldact_round_trip(void **state)
{
	struct sigaction a, b, old, got, orig;

	(void)state;
	assert_int_equal(sio_trap_sigaction(SIGINT, NULL, &got), -EINVAL);
	assert_int_equal(sio_trap_sigaction(SIGSEGV, NULL, &orig), 0);

	memset(&a, 0, sizeof(a));
	a.sa_sigaction = on_fault;
	a.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
	sigemptyset(&a.sa_mask);
	sigaddset(&a.sa_mask, SIGUSR2);
	sigaddset(&a.sa_mask, SIGKILL);		/* the kernel drops it */
	assert_int_equal(sio_trap_sigaction(SIGSEGV, &a, &old), 0);
	assert_ptr_equal(old.sa_handler, orig.sa_handler);

	memset(&b, 0, sizeof(b));
	b.sa_handler = SIG_IGN;
	assert_int_equal(sio_trap_sigaction(SIGSEGV, &b, &got), 0);
	assert_ptr_equal(got.sa_sigaction, on_fault);
	assert_int_equal(got.sa_flags & ~SA_RESTORER,
			 SA_SIGINFO | SA_NODEFER | SA_ONSTACK);
	assert_true(sigismember(&got.sa_mask, SIGUSR2));
	assert_false(sigismember(&got.sa_mask, SIGKILL));
	assert_false(sigismember(&got.sa_mask, SIGUSR1));

	assert_int_equal(sio_trap_sigaction(SIGSEGV, NULL, &got), 0);
	assert_ptr_equal(got.sa_handler, SIG_IGN);

	/* SIGBUS is recorded separately. */
	memset(&a, 0, sizeof(a));
	a.sa_sigaction = on_other;
	a.sa_flags = SA_SIGINFO;
	assert_int_equal(sio_trap_sigaction(SIGBUS, &a, &old), 0);
	assert_int_equal(sio_trap_sigaction(SIGBUS, &old, &got), 0);
	assert_ptr_equal(got.sa_sigaction, on_other);
	assert_int_equal(sio_trap_sigaction(SIGSEGV, NULL, &got), 0);
	assert_ptr_equal(got.sa_handler, SIG_IGN);

	assert_int_equal(sio_trap_sigaction(SIGSEGV, &orig, NULL), 0);
}

/* What the kernel has installed for sig, past any interposer. */
static void *kernel_handler(int sig)
{
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		uint64_t mask;
	} k;

	assert_int_equal(syscall(SYS_rt_sigaction, (long)sig, NULL, &k, 8L), 0);
	return k.handler;
}

/* A handler installed with sigaction(2) directly, outside the library,
 * is taken over by the next sio_trap_install and chained to. */
static void test_retake(void **state)
{
	struct sigaction act, got, orig;
	struct sio_mmio_region *r;
	struct dev *d = dev_new();
	uint8_t *p = map_dev(d, PG, &r);
	uint8_t *page = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1, 0);
	void *ours = kernel_handler(SIGSEGV);

	(void)state;
	assert_int_equal(sio_trap_sigaction(SIGSEGV, NULL, &orig), 0);
	memset(&act, 0, sizeof(act));
	act.sa_sigaction = on_fault;
	act.sa_flags = SA_SIGINFO;
	sigemptyset(&act.sa_mask);
	assert_int_equal(sigaction(SIGSEGV, &act, NULL), 0);
	/* Now the kernel runs the program's handler for everything. */
	assert_true(kernel_handler(SIGSEGV) != ours);
	assert_int_equal(touch((uint32_t *)p), 1);
	assert_ptr_equal(caught_addr, p);

	assert_int_equal(sio_trap_install(), 0);
	assert_ptr_equal(kernel_handler(SIGSEGV), ours);
	assert_int_equal(sio_trap_sigaction(SIGSEGV, NULL, &got), 0);
#ifndef SIO_SANITIZE_THREAD
	/* (ThreadSanitizer's sigaction installs a wrapper of its own.) */
	assert_ptr_equal(got.sa_sigaction, on_fault);
#endif
	assert_int_equal(touch((uint32_t *)p), 0);	/* emulated again */
	assert_int_equal(touch((uint32_t *)page), 1);	/* chained */
	assert_ptr_equal(caught_addr, page);

	/* The library's own handler handed back (read with a direct
	 * sigaction) is recorded as SIG_DFL, never as a loop. */
	memset(&act, 0, sizeof(act));
	act.sa_handler = (void (*)(int))ours;
	assert_int_equal(sio_trap_sigaction(SIGSEGV, &act, NULL), 0);
	assert_int_equal(sio_trap_sigaction(SIGSEGV, &orig, &got), 0);
	assert_ptr_equal(got.sa_handler, SIG_DFL);
	munmap(page, PG);
	unmap_dev(p, PG, r);
	free(d);
}

/* Runs fn in a child; returns its wait status. */
static int in_child(void (*fn)(void *), void *arg, int err_fd)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core);
		if (err_fd >= 0)
			dup2(err_fd, 2);
		fn(arg);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void child_default(void *arg)
{
	struct sigaction act;

	memset(&act, 0, sizeof(act));
	act.sa_handler = SIG_DFL;
	sio_trap_sigaction(SIGSEGV, &act, NULL);
	(void)*(volatile uint32_t *)arg;
	_exit(3);
}

static void child_ignore(void *arg)
{
	struct sigaction act;

	memset(&act, 0, sizeof(act));
	act.sa_handler = SIG_IGN;
	sio_trap_sigaction(SIGSEGV, &act, NULL);
	(void)*(volatile uint32_t *)arg;
	_exit(3);
}

static void child_kill_self(void *arg)
{
	struct sigaction act;

	(void)arg;
	memset(&act, 0, sizeof(act));
	act.sa_handler = SIG_DFL;
	sio_trap_sigaction(SIGSEGV, &act, NULL);
	raise(SIGSEGV);
	_exit(3);
}

static void test_default_and_ignored_kill(void **state)
{
	uint8_t *page = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1, 0);
	int st;

	(void)state;
	assert_int_equal(sio_trap_install(), 0);
	st = in_child(child_default, page, -1);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSEGV);
	st = in_child(child_ignore, page, -1);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSEGV);
	/* A sent SIGSEGV (not a fault) with SIG_DFL kills too. */
	st = in_child(child_kill_self, NULL, -1);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSEGV);
	munmap(page, PG);
}

/* x87 FLD m64: a load the decoder does not know. */
SNIP(s_fld, "fldl (%rdi); fstp %st(0)");

static void child_undecoded(void *arg)
{
	struct sigaction act;
	struct cpu s;

	memset(&act, 0, sizeof(act));
	act.sa_handler = SIG_DFL;
	sio_trap_sigaction(SIGSEGV, &act, NULL);
	memset(&s, 0, sizeof(s));
	s.flags = 0x202;
	s.rdi = (uint64_t)(uintptr_t)arg;
	run_snip(&s, s_fld);
	_exit(3);
}

static void test_undecoded(void **state)
{
	struct sio_mmio_region *r;
	struct dev *d = dev_new();
	uint8_t *p = map_dev(d, PG, &r);
	struct sigaction old;
	char buf[512] = "";
	int fds[2], st;
	ssize_t n;
	struct cpu s;

	(void)state;
	/* Without a handler: one line on stderr, then death by SIGSEGV. */
	assert_int_equal(pipe(fds), 0);
	st = in_child(child_undecoded, p + 0x18, fds[1]);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	assert_true(n > 0);
	buf[n] = 0;
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSEGV);
	assert_non_null(strstr(buf, "not emulated (instruction not decoded)"));
	assert_non_null(strstr(buf, "bytes dd 07 dd d8 c3"));	/* fldl; fstp; ret */
	{
		char want[64];

		snprintf(want, sizeof(want), "access at %p", (void *)(p + 0x18));
		assert_non_null(strstr(buf, want));
	}

	/* With one: the program's handler gets the fault. */
	set_handler(on_fault, 0, &old);
	memset(&s, 0, sizeof(s));
	s.flags = 0x202;
	s.rdi = (uint64_t)(uintptr_t)(p + 0x18);
	caught_addr = NULL;
	{
		int saved = dup(2), devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, 2);
		if (!sigsetjmp(jb, 1))
			run_snip(&s, s_fld);
		dup2(saved, 2);
		close(saved);
		close(devnull);
	}
	assert_ptr_equal(caught_addr, p + 0x18);
	assert_int_equal(sio_trap_sigaction(SIGSEGV, &old, NULL), 0);
	/* The x87 stack was left with one value by the aborted snippet. */
	__asm__ volatile("fninit");
	unmap_dev(p, PG, r);
	free(d);
}

/* ------------------------------------------------------------------ */
/* Fork                                                                 */
/* ------------------------------------------------------------------ */

struct fork_arg {
	uint8_t *p;
	struct dev *d;
};

static void child_fork(void *arg)
{
	struct fork_arg *a = arg;
	struct sio_mmio_region *r2;
	struct dev *d2 = dev_new();
	void *addr = NULL;

	if (readl(a->p + 0x20) != *(uint32_t *)(a->d->regs + 0x20))
		_exit(10);
	writeq(a->p + 0x30, 0xc0ffee);
	if (*(uint64_t *)(a->d->regs + 0x30) != 0xc0ffee)
		_exit(11);
	/* The registry's locks are usable in the child. */
	if (sio_mmio_map(&addr, PG, 0, &dev_ops, d2, &r2))
		_exit(12);
	writeb(addr, 9);
	if (d2->regs[0] != 9)
		_exit(13);
	munmap(addr, PG);
	sio_mmio_unregister(r2);
	_exit(0);
}

static void test_fork(void **state)
{
	struct sio_mmio_region *r;
	struct dev *d = dev_new();
	uint8_t *p = map_dev(d, PG, &r);
	struct fork_arg a = { p, d };
	int st;

	(void)state;
	st = in_child(child_fork, &a, -1);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* The child's model was its own copy. */
	assert_int_equal(d->regs[0x30], pattern(0x30));
	assert_int_equal(readl(p + 0x20),
			 *(uint32_t *)(d->regs + 0x20));
	unmap_dev(p, PG, r);
	free(d);
}

/* ------------------------------------------------------------------ */
/* Regions                                                              */
/* ------------------------------------------------------------------ */

static void test_map_fixed_replaces(void **state)
{
	struct sio_mmio_region *r1, *r2;
	struct dev *d1 = dev_new(), *d2 = dev_new();
	uint8_t *p = map_dev(d1, 3 * PG, &r1);
	void *mid = p + PG;
	struct sigaction old;

	(void)state;
	memset(d2->regs, 0, sizeof(d2->regs));
	assert_int_equal(sio_mmio_map(&mid, PG, MAP_FIXED, &dev_ops, d2, &r2), 0);
	assert_ptr_equal(mid, p + PG);

	/* Before, in and after the new region. */
	writel(p + 4, 1);
	writel(p + PG + 4, 2);
	writel(p + 2 * PG + 4, 3);
	assert_int_equal(*(uint32_t *)(d1->regs + 4), 1);
	assert_int_equal(*(uint32_t *)(d2->regs + 4), 2);
	assert_int_equal(*(uint32_t *)(d1->regs + 2 * PG + 4), 3);
	/* The middle page's write did not reach d1. */
	assert_int_equal(d1->regs[PG + 4], pattern(PG + 4));
	/* Offsets stay relative to each region's start. */
	d1->n = 0;
	writel(p + 2 * PG + 8, 4);
	expect(d1, 0, 'w', 4, 2 * PG + 8);

	/* Gone with its registration; the old region's rest remains. */
	set_handler(on_fault, 0, &old);
	sio_mmio_unregister(r2);
	assert_int_equal(touch((uint32_t *)(p + PG + 4)), 1);
	assert_int_equal(touch((uint32_t *)(p + 4)), 0);
	assert_int_equal(sio_trap_sigaction(SIGSEGV, &old, NULL), 0);

	unmap_dev(p, 3 * PG, r1);
	free(d1);
	free(d2);
}

/* An operand that runs past the region's end is refused. */
static void test_straddle(void **state)
{
	struct sio_mmio_region *r;
	struct dev *d = dev_new();
	uint8_t *p = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *addr = p;
	struct sigaction old;

	(void)state;
	assert_true(p != MAP_FAILED);
	assert_int_equal(sio_mmio_map(&addr, PG, MAP_FIXED, &dev_ops, d, &r), 0);
	set_handler(on_fault, 0, &old);
	{
		int saved = dup(2), devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, 2);
		d->n = 0;
		assert_int_equal(touch((uint32_t *)(p + PG - 2)), 1);
		dup2(saved, 2);
		close(saved);
		close(devnull);
	}
	assert_int_equal(d->n, 0);
	assert_int_equal(sio_trap_sigaction(SIGSEGV, &old, NULL), 0);
	sio_mmio_unregister(r);
	munmap(p, 2 * PG);
	free(d);
}

static void test_map_errors(void **state)
{
	struct sio_mmio_region *r = NULL;
	struct sio_mmio_ops no_write = { dev_read, NULL };
	void *addr = NULL, *odd = (void *)0x10001;
	struct dev d;

	(void)state;
	assert_int_equal(sio_mmio_map(&addr, 0, 0, &dev_ops, &d, &r), -EINVAL);
	assert_true(strlen(sio_last_error()) > 0);
	assert_int_equal(sio_mmio_map(&addr, 100, 0, &dev_ops, &d, &r), -EINVAL);
	assert_int_equal(sio_mmio_map(&addr, PG, 0, NULL, &d, &r), -EINVAL);
	assert_int_equal(sio_mmio_map(&addr, PG, 0, &no_write, &d, &r), -EINVAL);
	assert_int_equal(sio_mmio_map(NULL, PG, 0, &dev_ops, &d, &r), -EINVAL);
	assert_int_equal(sio_mmio_map(&addr, PG, 0, &dev_ops, &d, NULL), -EINVAL);
	assert_int_equal(sio_mmio_map(&addr, PG, MAP_SHARED, &dev_ops, &d, &r),
			 -EINVAL);
	assert_int_equal(sio_mmio_map(&odd, PG, MAP_FIXED, &dev_ops, &d, &r),
			 -EINVAL);
	assert_null(r);
	/* MAP_FIXED_NOREPLACE over a mapping: the kernel's -EEXIST. */
	addr = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_int_equal(sio_mmio_map(&addr, PG, MAP_FIXED_NOREPLACE, &dev_ops,
				      &d, &r), -EEXIST);
	munmap(addr, PG);
	sio_mmio_unregister(NULL);
}

/* ------------------------------------------------------------------ */
/* The decoder on encodings                                             */
/* ------------------------------------------------------------------ */

struct enc {
	const char *name;
	uint8_t bytes[16];
	int ok;
	uint8_t len, kind, size, reg;
};

static const struct enc encodings[] = {
	{ "mov eax,[rip+d32]", { 0x8B, 0x05, 1, 2, 3, 4 }, 1, 6, SIO_INSN_LOAD, 4, 0 },
	{ "mov r9,[rsp+d8]", { 0x4C, 0x8B, 0x4C, 0x24, 0x08 }, 1, 5, SIO_INSN_LOAD, 8, 9 },
	{ "mov [rbp+0],ecx", { 0x89, 0x4D, 0x00 }, 1, 3, SIO_INSN_STORE, 4, 1 },
	{ "mov [d32] (sib no base)", { 0x89, 0x04, 0x25, 0, 0x10, 0, 0 }, 1, 7, SIO_INSN_STORE, 4, 0 },
	{ "mov [r13+d32]", { 0x41, 0x89, 0x85, 0, 1, 0, 0 }, 1, 7, SIO_INSN_STORE, 4, 0 },
	{ "mov [rax+r12*1]", { 0x42, 0x8B, 0x04, 0x20 }, 1, 4, SIO_INSN_LOAD, 4, 0 },
	{ "movw imm16 with disp32", { 0x66, 0xC7, 0x80, 0, 1, 0, 0, 0x34, 0x12 }, 1, 9, SIO_INSN_STORE_IMM, 2, 0 },
	{ "movq imm32 sx", { 0x48, 0xC7, 0x00, 0xFE, 0xFF, 0xFF, 0xFF }, 1, 7, SIO_INSN_STORE_IMM, 8, 0 },
	{ "or [rax],imm8 sx", { 0x83, 0x08, 0x80 }, 1, 3, SIO_INSN_ALU_MEM, 4, 0 },
	{ "mov rax,moffs64", { 0x48, 0xA1, 1, 2, 3, 4, 5, 6, 7, 8 }, 1, 10, SIO_INSN_LOAD, 8, 0 },
	{ "mov moffs32 (67),al", { 0x67, 0xA2, 1, 2, 3, 4 }, 1, 6, SIO_INSN_STORE, 1, 0 },
	{ "vmovdqu ymm8,[rdi] (C4)", { 0xC4, 0x61, 0x7E, 0x6F, 0x07 }, 1, 5, SIO_INSN_VLOAD, 32, 8 },
	{ "vmovdqu [rdi],xmm1 (C5)", { 0xC5, 0xFA, 0x7F, 0x0F }, 1, 4, SIO_INSN_VSTORE, 16, 1 },
	{ "vmovntdqa ymm0 (map 2)", { 0xC4, 0xE2, 0x7D, 0x2A, 0x07 }, 1, 5, SIO_INSN_VLOAD, 32, 0 },
	{ "movntdqa xmm0", { 0x66, 0x0F, 0x38, 0x2A, 0x07 }, 1, 5, SIO_INSN_VLOAD, 16, 0 },
	{ "rep movsq", { 0xF3, 0x48, 0xA5 }, 1, 3, SIO_INSN_MOVS, 8, 0 },
	{ "lock cmpxchg16b: refused", { 0xF0, 0x48, 0x0F, 0xC7, 0x0F }, 0, 0, 0, 0, 0 },
	{ "register operand: refused", { 0x89, 0xC0 }, 0, 0, 0, 0, 0 },
	{ "mul [rdi]: refused", { 0xF7, 0x27 }, 0, 0, 0, 0, 0 },
	{ "call [rdi]: refused", { 0xFF, 0x17 }, 0, 0, 0, 0, 0 },
	{ "EVEX: refused", { 0x62, 0xF1, 0xFE, 0x48, 0x6F, 0x07 }, 0, 0, 0, 0, 0 },
	{ "VEX with vvvv: refused", { 0xC5, 0xF2, 0x7F, 0x0F }, 0, 0, 0, 0, 0 },
	{ "VEX after 66: refused", { 0x66, 0xC5, 0xFA, 0x7F, 0x0F }, 0, 0, 0, 0, 0 },
	{ "mov r/m,imm with /1: refused", { 0xC7, 0x08, 0, 0, 0, 0 }, 0, 0, 0, 0, 0 },
	{ "15 prefixes: refused", { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
				     0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
				     0x8B, 0x07 }, 0, 0, 0, 0, 0 },
};

static void test_decoder(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(encodings) / sizeof(encodings[0]); i++) {
		const struct enc *e = &encodings[i];
		struct sio_insn in;
		int rc = sio_insn_decode(e->bytes, &in);

		if (!e->ok) {
			if (rc != -1)
				fail_msg("%s: decoded", e->name);
			assert_true(in.len <= SIO_INSN_MAX_LEN);
			continue;
		}
		if (rc)
			fail_msg("%s: refused", e->name);
		if (in.len != e->len || in.kind != e->kind ||
		    in.size != e->size || in.reg != e->reg)
			fail_msg("%s: len %u kind %u size %u reg %u", e->name,
				 in.len, in.kind, in.size, in.reg);
	}
}

static void test_decoder_fields(void **state)
{
	struct sio_insn in;
	const uint8_t sib[] = { 0x4B, 0x8B, 0x44, 0xE5, 0xF0 };	/* mov rax,[r13+r12*8-16] */
	const uint8_t rip[] = { 0x8B, 0x05, 0x10, 0, 0, 0 };
	const uint8_t ah[] = { 0x8A, 0x67, 0x01 };		/* mov ah,[rdi+1] */
	const uint8_t spl[] = { 0x40, 0x8A, 0x67, 0x01 };	/* mov spl,[rdi+1] */
	const uint8_t movsx[] = { 0x48, 0x0F, 0xBF, 0x07 };

	(void)state;
	assert_int_equal(sio_insn_decode(sib, &in), 0);
	assert_int_equal(in.base, SIO_R13);
	assert_int_equal(in.index, SIO_R12);
	assert_int_equal(in.scale, 8);
	assert_int_equal(in.disp, -16);
	assert_int_equal(sio_insn_decode(rip, &in), 0);
	assert_true(in.rip_rel);
	assert_int_equal(in.disp, 0x10);
	assert_int_equal(sio_insn_decode(ah, &in), 0);
	assert_true(in.high8);
	assert_int_equal(in.reg, SIO_RAX);
	assert_int_equal(sio_insn_decode(spl, &in), 0);
	assert_false(in.high8);
	assert_int_equal(in.reg, SIO_RSP);
	assert_int_equal(sio_insn_decode(movsx, &in), 0);
	assert_int_equal(in.ext, SIO_EXT_SIGN);
	assert_int_equal(in.size, 2);
	assert_int_equal(in.reg_size, 8);
}

/* Loads and stores by address, outside the handler (what the shared
 * mode's server does for its clients' trapped accesses): the same ops at
 * the same offsets; nothing outside a registered region is reached. */
static void test_access_by_address(void **state)
{
	struct sio_mmio_region *r;
	struct dev *d = dev_new();
	uint8_t *p = map_dev(d, 2 * PG, &r);
	uintptr_t a = (uintptr_t)p;
	uint64_t v = 0x1122334455667788ull;

	(void)state;
	assert_true(sio_mmio_registered(a));
	assert_true(sio_mmio_registered(a + 2 * PG - 1));
	assert_false(sio_mmio_registered(a + 2 * PG));
	d->n = 0;
	assert_int_equal(sio_mmio_access(a + PG + 8, 4, true, &v), 0);
	expect(d, 0, 'w', 4, PG + 8);
	assert_int_equal(*(uint32_t *)(d->regs + PG + 8), 0x55667788u);
	v = 0;
	assert_int_equal(sio_mmio_access(a + PG + 8, 2, false, &v), 0);
	expect(d, 1, 'r', 2, PG + 8);
	assert_int_equal(v, 0x7788);
	/* The counter register: each load is one read of the model. */
	assert_int_equal(sio_mmio_access(a + COUNTER_OFF, 8, false, &v), 0);
	assert_int_equal(sio_mmio_access(a + COUNTER_OFF, 8, false, &v), 0);
	assert_int_equal(v, 2);
	/* Outside, across the end, or an odd size: nothing is reached. */
	d->n = 0;
	v = 1;
	assert_int_equal(sio_mmio_access(a + 2 * PG, 4, true, &v), -EFAULT);
	assert_int_equal(sio_mmio_access(a + 2 * PG - 2, 4, true, &v), -EFAULT);
	assert_int_equal(sio_mmio_access(a + 8, 3, true, &v), -EFAULT);
	assert_int_equal(sio_mmio_access(UINTPTR_MAX - 1, 4, false, &v), -EFAULT);
	assert_int_equal(d->n, 0);
	unmap_dev(p, 2 * PG, r);
	assert_false(sio_mmio_registered(a));
	assert_int_equal(sio_mmio_access(a + 8, 4, false, &v), -EFAULT);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decoder),
		cmocka_unit_test(test_decoder_fields),
		cmocka_unit_test(test_instructions),
		cmocka_unit_test(test_addr32),
		cmocka_unit_test(test_access_log),
		cmocka_unit_test(test_reads_are_current),
		cmocka_unit_test(test_moffs),
		cmocka_unit_test(test_segment_override),
		cmocka_unit_test(test_unregistered_goes_to_program),
		cmocka_unit_test(test_handler_flags),
		cmocka_unit_test(test_handler_returns),
		cmocka_unit_test(test_oldact_round_trip),
		cmocka_unit_test(test_retake),
		cmocka_unit_test(test_default_and_ignored_kill),
		cmocka_unit_test(test_undecoded),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_map_fixed_replaces),
		cmocka_unit_test(test_straddle),
		cmocka_unit_test(test_map_errors),
		cmocka_unit_test(test_access_by_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
