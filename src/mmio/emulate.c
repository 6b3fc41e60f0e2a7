/*
 * Performing a decoded instruction on a faulting thread's saved state.
 *
 * The handler's ucontext holds what the thread will resume with: the
 * general registers and RFLAGS in uc_mcontext.gregs, the SSE registers in
 * the FXSAVE image that uc_mcontext.fpregs points to and, when the kernel
 * saved extended state (the frame's sw_reserved bytes carry
 * FP_XSTATE_MAGIC1), the upper halves of the YMM and ZMM registers in the
 * standard-format XSAVE area that follows.  Whatever this file writes
 * there is what the thread sees after sigreturn.
 *
 * The memory operand is reached only through struct sio_mmio_access, in
 * accesses of 1, 2, 4 or 8 bytes; wider vector operands are split into
 * 8-byte accesses at increasing addresses.  The register rules are the
 * architecture's: a load into a 32-bit register clears bits 63:32, into an
 * 8- or 16-bit register keeps the others; a VEX load clears the vector
 * register above the bytes it writes, a legacy SSE load does not.
 *
 * Arithmetic (the read-modify-write forms, CMPXCHG, XADD) runs the same
 * instruction on the host CPU with the thread's status flags loaded, so
 * the flags it leaves, including those the SDM calls undefined, are
 * exactly what the instruction would have left.
 *
 * The effective address is computed from the registers and checked
 * against the fault address: the whole operand must lie in one trapping
 * region (an access that straddles a region's edge is refused).
 */
#include <asm/prctl.h>
#include <cpuid.h>
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "mmio/mmio_private.h"

#define STATUS_FLAGS 0x8D5ull	/* CF PF AF ZF SF OF */
#define FLAG_DF 0x400ull

/* gregs[] index of each x86 register number. */
static const int greg_index[16] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

/* ------------------------------------------------------------------ */
/* General registers                                                    */
/* ------------------------------------------------------------------ */

static uint64_t *gpr(ucontext_t *uc, unsigned int reg)
{
	return (uint64_t *)&uc->uc_mcontext.gregs[greg_index[reg & 15]];
}

static uint64_t size_mask(unsigned int size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static uint64_t reg_read(ucontext_t *uc, unsigned int reg, unsigned int size,
			 bool high8)
{
	uint64_t v = *gpr(uc, reg);

	if (high8)
		return (v >> 8) & 0xFF;
	return v & size_mask(size);
}

/* The architecture's write rules: 8/16 bits merge, 32 zero-extend. */
static void reg_write(ucontext_t *uc, unsigned int reg, unsigned int size,
		      bool high8, uint64_t val)
{
	uint64_t *r = gpr(uc, reg);

	if (high8)
		*r = (*r & ~0xFF00ull) | ((val & 0xFF) << 8);
	else if (size < 4)
		*r = (*r & ~size_mask(size)) | (val & size_mask(size));
	else
		*r = val & size_mask(size);
}

static uint64_t sign_extend(uint64_t v, unsigned int size)
{
	unsigned int shift = 64 - 8 * size;

	return size >= 8 ? v : (uint64_t)((int64_t)(v << shift) >> shift);
}

/* ------------------------------------------------------------------ */
/* Arithmetic on the host CPU                                           */
/* ------------------------------------------------------------------ */

/*
 * One instruction between loading the thread's status flags and reading
 * them back.  The stack pointer steps over the 128-byte red zone first,
 * because pushfq/popfq write below it where the compiler may keep data.
 */
#define ALU_ASM(text, T)						\
	do {								\
		T d_ = (T)a, s_ = (T)b;					\
		__asm__ volatile("lea -128(%%rsp), %%rsp\n\t"		\
				 "pushq %[f]\n\t"			\
				 "popfq\n\t"				\
				 text "\n\t"				\
				 "pushfq\n\t"				\
				 "popq %[f]\n\t"			\
				 "lea 128(%%rsp), %%rsp"		\
				 : [d] "+r"(d_), [f] "+r"(fl)		\
				 : [s] "r"(s_)				\
				 : "cc");				\
		(void)s_;						\
		r = d_;							\
	} while (0)

#define BY_SIZE(mn, ops)						\
	switch (size) {							\
	case 1: ALU_ASM(mn "b " ops, uint8_t); break;			\
	case 2: ALU_ASM(mn "w " ops, uint16_t); break;			\
	case 4: ALU_ASM(mn "l " ops, uint32_t); break;			\
	default: ALU_ASM(mn "q " ops, uint64_t); break;			\
	}

#define TWO "%[s], %[d]"
#define ONE "%[d]"

/* a op b (a is the destination), or op a for the unary ones; *flags is
 * RFLAGS before and after. */
static uint64_t alu(enum sio_alu op, unsigned int size, uint64_t a, uint64_t b,
		    uint64_t *flags)
{
	/* Only the status flags come from the thread: TF or AC would trap
	 * here.  Bit 1 is always set, IF cannot change in user mode. */
	uint64_t fl = 0x202 | (*flags & STATUS_FLAGS), r = a;

	switch (op) {
	case SIO_ALU_ADD: BY_SIZE("add", TWO); break;
	case SIO_ALU_OR:  BY_SIZE("or", TWO); break;
	case SIO_ALU_ADC: BY_SIZE("adc", TWO); break;
	case SIO_ALU_SBB: BY_SIZE("sbb", TWO); break;
	case SIO_ALU_AND: BY_SIZE("and", TWO); break;
	case SIO_ALU_SUB: BY_SIZE("sub", TWO); break;
	case SIO_ALU_XOR: BY_SIZE("xor", TWO); break;
	case SIO_ALU_CMP: BY_SIZE("cmp", TWO); break;
	case SIO_ALU_TEST: BY_SIZE("test", TWO); break;
	case SIO_ALU_NOT: BY_SIZE("not", ONE); break;
	case SIO_ALU_NEG: BY_SIZE("neg", ONE); break;
	case SIO_ALU_INC: BY_SIZE("inc", ONE); break;
	case SIO_ALU_DEC: BY_SIZE("dec", ONE); break;
	}
	*flags = (*flags & ~STATUS_FLAGS) | (fl & STATUS_FLAGS);
	return r & size_mask(size);
}

static bool alu_writes(enum sio_alu op)
{
	return op != SIO_ALU_CMP && op != SIO_ALU_TEST;
}

/* ------------------------------------------------------------------ */
/* Vector registers                                                     */
/* ------------------------------------------------------------------ */

/* Offsets in the FXSAVE/XSAVE image (Intel SDM vol. 1, 13.4). */
#define FX_XMM 160
#define FX_SW_MAGIC1 464
#define FX_SW_XFEATURES 472
#define FX_SW_XSTATE_SIZE 480
#define XSAVE_HEADER 512
#ifndef FP_XSTATE_MAGIC1
#define FP_XSTATE_MAGIC1 0x46505853u
#endif

#define XFEATURE_YMM 2		/* YMM_Hi128: bits 255:128 of YMM0-15 */
#define XFEATURE_ZMM_HI256 6	/* bits 511:256 of ZMM0-15 */

/* Standard-format offsets of the two components, from CPUID leaf 0xD
 * (0 when the CPU does not have them).  Written once before the handler
 * is installed. */
static uint32_t ymm_offset, zmm_hi_offset;

void sio_mmio_emulate_init(void)
{
	unsigned int a, b, c, d;

	if (__get_cpuid_max(0, NULL) < 0xD)
		return;
	__cpuid_count(0xD, XFEATURE_YMM, a, b, c, d);
	if (a == 256)
		ymm_offset = b;
	__cpuid_count(0xD, XFEATURE_ZMM_HI256, a, b, c, d);
	if (a == 512)
		zmm_hi_offset = b;
}

struct vstate {
	uint8_t *fx;		/* the FXSAVE image */
	bool xsave;		/* an XSAVE area follows */
	uint64_t xfeatures;	/* components present in the frame */
	uint32_t xsize;		/* its size */
};

static bool vstate_get(ucontext_t *uc, struct vstate *vs)
{
	uint32_t magic;

	vs->fx = (uint8_t *)uc->uc_mcontext.fpregs;
	if (!vs->fx)
		return false;
	memcpy(&magic, vs->fx + FX_SW_MAGIC1, 4);
	vs->xsave = magic == FP_XSTATE_MAGIC1;
	vs->xfeatures = 0;
	vs->xsize = 0;
	if (vs->xsave) {
		memcpy(&vs->xfeatures, vs->fx + FX_SW_XFEATURES, 8);
		memcpy(&vs->xsize, vs->fx + FX_SW_XSTATE_SIZE, 4);
	}
	return true;
}

/*
 * The bytes of one register in XSAVE component comp (each register has
 * width bytes), or NULL when the frame does not hold that component.
 * *live says whether the component is in use (its XSTATE_BV bit): when it
 * is not, its content is zero whatever the memory holds.
 */
static uint8_t *xcomp(const struct vstate *vs, unsigned int comp,
		      uint32_t offset, unsigned int width, unsigned int reg,
		      bool *live)
{
	uint64_t bv;

	if (!vs->xsave || !offset || !(vs->xfeatures & (1ull << comp)) ||
	    offset + 16 * width > vs->xsize)
		return NULL;
	memcpy(&bv, vs->fx + XSAVE_HEADER, 8);
	*live = bv & (1ull << comp);
	return vs->fx + offset + reg * width;
}

/* Make component comp live so that sigreturn restores what is written:
 * the bytes of the other registers, in init state until now, become
 * explicit zeroes. */
static void xcomp_set_live(const struct vstate *vs, unsigned int comp,
			   uint32_t offset, unsigned int width)
{
	uint64_t bv;

	memcpy(&bv, vs->fx + XSAVE_HEADER, 8);
	if (bv & (1ull << comp))
		return;
	memset(vs->fx + offset, 0, 16 * width);
	bv |= 1ull << comp;
	memcpy(vs->fx + XSAVE_HEADER, &bv, 8);
}

/* Copy the operand's bytes out of the register (store). */
static bool vec_get(const struct vstate *vs, const struct sio_insn *in,
		    uint8_t *out)
{
	uint8_t *xmm = vs->fx + FX_XMM + 16 * in->reg;
	unsigned int low = in->size > 16 ? 16 : in->size;
	bool live;

	memcpy(out, xmm + in->vpos, low);
	if (in->size > 16) {
		uint8_t *hi = xcomp(vs, XFEATURE_YMM, ymm_offset, 16, in->reg,
				    &live);

		if (!hi)
			return false;
		if (live)
			memcpy(out + 16, hi, 16);
		else
			memset(out + 16, 0, 16);
	}
	return true;
}

/* Put the operand's bytes into the register (load), with the zeroing
 * rules of the encoding. */
static bool vec_put(const struct vstate *vs, const struct sio_insn *in,
		    const uint8_t *val)
{
	uint8_t *xmm = vs->fx + FX_XMM + 16 * in->reg;
	unsigned int low = in->size > 16 ? 16 : in->size;
	uint8_t *ymm_hi = NULL, *zmm_hi = NULL;
	bool ymm_live = false, zmm_live = false;

	if (in->vex) {
		/* Check the frame before changing anything. */
		ymm_hi = xcomp(vs, XFEATURE_YMM, ymm_offset, 16, in->reg,
			       &ymm_live);
		if (!ymm_hi)
			return false;
		zmm_hi = xcomp(vs, XFEATURE_ZMM_HI256, zmm_hi_offset, 32,
			       in->reg, &zmm_live);
	}
	memcpy(xmm + in->vpos, val, low);
	if (in->vzero16)
		memset(xmm + in->vpos + low, 0, 16 - in->vpos - low);
	if (!in->vex)
		return true;
	if (in->size > 16) {
		xcomp_set_live(vs, XFEATURE_YMM, ymm_offset, 16);
		memcpy(ymm_hi, val + 16, 16);
	} else if (ymm_live) {
		memset(ymm_hi, 0, 16);
	}
	/* A VEX instruction clears the register up to its full width. */
	if (zmm_hi && zmm_live)
		memset(zmm_hi, 0, 32);
	return true;
}

/* ------------------------------------------------------------------ */
/* Memory operands                                                      */
/* ------------------------------------------------------------------ */

static uint64_t segment_base(uint8_t seg)
{
	unsigned long base = 0;

	if (seg)
		syscall(SYS_arch_prctl,
			(long)(seg == 0x64 ? ARCH_GET_FS : ARCH_GET_GS), &base);
	return base;
}

static uintptr_t effective_address(const struct sio_insn *in, ucontext_t *uc)
{
	uint64_t a;

	if (in->has_moffs) {
		a = in->moffs;
	} else if (in->rip_rel) {
		a = (uint64_t)uc->uc_mcontext.gregs[REG_RIP] + in->len +
		    (int64_t)in->disp;
	} else {
		a = (uint64_t)(int64_t)in->disp;
		if (in->base >= 0)
			a += *gpr(uc, (unsigned int)in->base);
		if (in->index >= 0)
			a += *gpr(uc, (unsigned int)in->index) * in->scale;
	}
	if (in->addr32)
		a = (uint32_t)a;
	return (uintptr_t)(a + segment_base(in->seg));
}

/* An operand of up to 32 bytes: one access when it is 1-8 bytes, else
 * 8-byte accesses in increasing address order. */
static void mem_read(const struct sio_mmio_access *acc, uintptr_t ea,
		     unsigned int size, uint8_t *buf)
{
	if (size <= 8) {
		uint64_t v = acc->read(acc->ctx, ea, size);

		memcpy(buf, &v, size);
		return;
	}
	for (unsigned int i = 0; i < size; i += 8) {
		uint64_t v = acc->read(acc->ctx, ea + i, 8);

		memcpy(buf + i, &v, 8);
	}
}

static void mem_write(const struct sio_mmio_access *acc, uintptr_t ea,
		      unsigned int size, const uint8_t *buf)
{
	for (unsigned int i = 0; i < size; i += 8) {
		unsigned int n = size - i < 8 ? size - i : 8;
		uint64_t v = 0;

		memcpy(&v, buf + i, n);
		acc->write(acc->ctx, ea + i, n, v);
	}
}

static uint64_t read_val(const struct sio_mmio_access *acc, uintptr_t ea,
			 unsigned int size)
{
	return acc->read(acc->ctx, ea, size) & size_mask(size);
}

static void write_val(const struct sio_mmio_access *acc, uintptr_t ea,
		      unsigned int size, uint64_t v)
{
	acc->write(acc->ctx, ea, size, v & size_mask(size));
}

/* ------------------------------------------------------------------ */
/* String instructions                                                  */
/* ------------------------------------------------------------------ */

/* Copy len bytes of ordinary memory without faulting: the kernel reports
 * a bad address as an error instead of a signal. */
static bool copy_plain(bool to_plain, uintptr_t plain, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)plain, len };
	pid_t self = (pid_t)syscall(SYS_getpid);
	ssize_t n;

	n = to_plain ? syscall(SYS_process_vm_writev, (long)self, &local, 1L,
			       &remote, 1L, 0L)
		     : syscall(SYS_process_vm_readv, (long)self, &local, 1L,
			       &remote, 1L, 0L);
	return n == (ssize_t)len;
}

#define STRING_CHUNK 256

/*
 * MOVS, STOS, LODS with or without REP.  Elements are done in chunks whose
 * trapping side lies in one region; the ordinary-memory side is copied
 * fault-safely.  An element whose sides are both ordinary memory, or that
 * cannot be reached, ends the emulation: the registers say how far it
 * got and the CPU resumes the instruction there (a REP instruction is
 * restartable by design).  If not even the first element can be done,
 * nothing changes and the fault goes to the program.
 */
static enum sio_emulate_result string_op(const struct sio_insn *in,
					 ucontext_t *uc,
					 const struct sio_mmio_access *acc)
{
	uint64_t *rsi = gpr(uc, SIO_RSI), *rdi = gpr(uc, SIO_RDI);
	uint64_t *rcx = gpr(uc, SIO_RCX);
	uint64_t count = in->rep ? *rcx : 1;
	bool down = uc->uc_mcontext.gregs[REG_EFL] & FLAG_DF;
	bool reads = in->kind != SIO_INSN_STOS, writes = in->kind != SIO_INSN_LODS;
	unsigned int size = in->size;
	uint8_t buf[STRING_CHUNK];
	uint64_t done = 0;

	/* 32-bit addressing and FS/GS sources are not emulated. */
	if (in->addr32 || in->seg)
		return SIO_EMU_UNDECODED;
	while (done < count) {
		uint64_t n = down ? 1 : STRING_CHUNK / size;
		enum sio_reach src = SIO_REACH_NONE, dst = SIO_REACH_NONE;
		uintptr_t s, d;

		if (n > count - done)
			n = count - done;
		for (;;) {
			/* Descending, the chunk of one element starts at
			 * the current address too. */
			s = (uintptr_t)*rsi;
			d = (uintptr_t)*rdi;
			if (reads)
				src = acc->reach(acc->ctx, s, n * size);
			if (writes)
				dst = acc->reach(acc->ctx, d, n * size);
			if ((!reads || src != SIO_REACH_NONE) &&
			    (!writes || dst != SIO_REACH_NONE))
				break;
			if (n == 1)
				goto stop;
			n = 1;
		}
		if (src != SIO_REACH_MMIO && dst != SIO_REACH_MMIO)
			goto stop;	/* ordinary memory: the CPU's job */

		if (in->kind == SIO_INSN_STOS) {
			for (uint64_t i = 0; i < n; i++)
				memcpy(buf + i * size, gpr(uc, SIO_RAX), size);
		} else if (src == SIO_REACH_MMIO) {
			for (uint64_t i = 0; i < n; i++) {
				uint64_t v = read_val(acc, s + i * size, size);

				memcpy(buf + i * size, &v, size);
			}
		} else if (!copy_plain(false, s, buf, n * size)) {
			goto stop;
		}

		if (in->kind == SIO_INSN_LODS) {
			uint64_t v = 0;

			memcpy(&v, buf + (n - 1) * size, size);
			reg_write(uc, SIO_RAX, size, false, v);
		} else if (dst == SIO_REACH_MMIO) {
			for (uint64_t i = 0; i < n; i++) {
				uint64_t v = 0;

				memcpy(&v, buf + i * size, size);
				write_val(acc, d + i * size, size, v);
			}
		} else if (!copy_plain(true, d, buf, n * size)) {
			goto stop;
		}

		done += n;
		if (reads)
			*rsi += down ? -(n * size) : n * size;
		if (writes)
			*rdi += down ? -(n * size) : n * size;
		if (in->rep)
			*rcx -= n;
	}
	uc->uc_mcontext.gregs[REG_RIP] += in->len;
	return SIO_EMU_DONE;
stop:
	return done ? SIO_EMU_RETRY : SIO_EMU_OPERAND;
}

/* ------------------------------------------------------------------ */
/* The instruction                                                      */
/* ------------------------------------------------------------------ */

static enum sio_emulate_result vector_op(const struct sio_insn *in,
					 ucontext_t *uc, uintptr_t ea,
					 const struct sio_mmio_access *acc)
{
	struct vstate vs;
	uint8_t buf[32];

	if (!vstate_get(uc, &vs))
		return SIO_EMU_NOSTATE;
	if (in->kind == SIO_INSN_VSTORE) {
		if (!vec_get(&vs, in, buf))
			return SIO_EMU_NOSTATE;
		mem_write(acc, ea, in->size, buf);
		return SIO_EMU_DONE;
	}
	/* A load must be able to update the register before it reads. */
	if (in->vex && !xcomp(&vs, XFEATURE_YMM, ymm_offset, 16, in->reg,
			      &(bool){ false }))
		return SIO_EMU_NOSTATE;
	mem_read(acc, ea, in->size, buf);
	vec_put(&vs, in, buf);
	return SIO_EMU_DONE;
}

enum sio_emulate_result sio_mmio_emulate(const struct sio_insn *in,
					 ucontext_t *uc, uintptr_t fault_addr,
					 const struct sio_mmio_access *acc)
{
	uint64_t *efl = (uint64_t *)&uc->uc_mcontext.gregs[REG_EFL];
	unsigned int size = in->size;
	uint64_t m, r, v;
	uintptr_t ea;

	if (in->kind == SIO_INSN_MOVS || in->kind == SIO_INSN_STOS ||
	    in->kind == SIO_INSN_LODS)
		return string_op(in, uc, acc);

	ea = effective_address(in, uc);
	if (fault_addr < ea || fault_addr - ea >= size ||
	    acc->reach(acc->ctx, ea, size) != SIO_REACH_MMIO)
		return SIO_EMU_OPERAND;

	switch (in->kind) {
	case SIO_INSN_LOAD:
		v = read_val(acc, ea, size);
		if (in->ext == SIO_EXT_SIGN)
			v = sign_extend(v, size);
		reg_write(uc, in->reg, in->reg_size, in->high8, v);
		break;
	case SIO_INSN_STORE:
		write_val(acc, ea, size, reg_read(uc, in->reg, size, in->high8));
		break;
	case SIO_INSN_STORE_IMM:
		write_val(acc, ea, size, (uint64_t)in->imm);
		break;
	case SIO_INSN_ALU_MEM:
		m = read_val(acc, ea, size);
		v = in->src_imm ? (uint64_t)in->imm :
				  reg_read(uc, in->reg, size, in->high8);
		r = alu(in->alu, size, m, v, efl);
		if (alu_writes(in->alu))
			write_val(acc, ea, size, r);
		break;
	case SIO_INSN_ALU_REG:
		m = read_val(acc, ea, size);
		v = reg_read(uc, in->reg, size, in->high8);
		r = alu(in->alu, size, v, m, efl);
		if (alu_writes(in->alu))
			reg_write(uc, in->reg, size, in->high8, r);
		break;
	case SIO_INSN_UNARY:
		m = read_val(acc, ea, size);
		write_val(acc, ea, size, alu(in->alu, size, m, 0, efl));
		break;
	case SIO_INSN_XCHG:
		m = read_val(acc, ea, size);
		write_val(acc, ea, size, reg_read(uc, in->reg, size, in->high8));
		reg_write(uc, in->reg, size, in->high8, m);
		break;
	case SIO_INSN_XADD:
		m = read_val(acc, ea, size);
		v = reg_read(uc, in->reg, size, in->high8);
		write_val(acc, ea, size, alu(SIO_ALU_ADD, size, m, v, efl));
		reg_write(uc, in->reg, size, in->high8, m);
		break;
	case SIO_INSN_CMPXCHG:
		/* Flags of rAX - mem.  On a mismatch the memory is not
		 * written (the CPU writes its old value back; a register
		 * with write side effects must not see that). */
		m = read_val(acc, ea, size);
		v = reg_read(uc, SIO_RAX, size, false);
		alu(SIO_ALU_CMP, size, v, m, efl);
		if (v == m)
			write_val(acc, ea, size,
				  reg_read(uc, in->reg, size, in->high8));
		else
			reg_write(uc, SIO_RAX, size, false, m);
		break;
	case SIO_INSN_VLOAD:
	case SIO_INSN_VSTORE: {
		enum sio_emulate_result rc = vector_op(in, uc, ea, acc);

		if (rc != SIO_EMU_DONE)
			return rc;
		break;
	}
	default:
		return SIO_EMU_UNDECODED;
	}
	uc->uc_mcontext.gregs[REG_RIP] += in->len;
	return SIO_EMU_DONE;
}
