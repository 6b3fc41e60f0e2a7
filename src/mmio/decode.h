/*
 * The x86-64 instruction decoder of the MMIO trap.
 *
 * It decodes the instructions a program uses to reach memory-mapped
 * registers: what the access is (load, store, read-modify-write, vector
 * move, string move), its memory operand's size and addressing, the
 * register or immediate on the other side and the instruction's length.
 * Written from the encoding rules of the Intel SDM, volume 2 (prefixes,
 * REX, VEX, ModRM/SIB, displacements, immediates); it knows 64-bit mode
 * only.  An encoding outside the list in docs/mmio.md is refused, never
 * guessed.
 *
 * The decoder reads the instruction bytes one at a time and never past
 * the end of the instruction (or past 15 bytes, the architectural limit),
 * so it is safe on the code of a faulting thread: the CPU has just fetched
 * those bytes.  It is pure: no state, async-signal-safe.
 */
#ifndef SIO_MMIO_DECODE_H
#define SIO_MMIO_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#define SIO_INSN_MAX_LEN 15

enum sio_insn_kind {
	SIO_INSN_LOAD,		/* GPR <- mem (MOV, MOVZX/MOVSX, MOVSXD) */
	SIO_INSN_STORE,		/* mem <- GPR (MOV, MOVNTI) */
	SIO_INSN_STORE_IMM,	/* mem <- imm (MOV) */
	SIO_INSN_ALU_MEM,	/* mem = mem op src (src: GPR or imm);
				 * CMP and TEST only set flags */
	SIO_INSN_ALU_REG,	/* GPR = GPR op mem; CMP only sets flags */
	SIO_INSN_UNARY,		/* mem = op mem: NOT, NEG, INC, DEC */
	SIO_INSN_XCHG,		/* swap mem and GPR */
	SIO_INSN_XADD,		/* mem += GPR, GPR = old mem */
	SIO_INSN_CMPXCHG,	/* compare rAX with mem, exchange */
	SIO_INSN_VLOAD,		/* vector register <- mem */
	SIO_INSN_VSTORE,	/* mem <- vector register */
	SIO_INSN_MOVS,		/* [rDI] <- [rSI], REP */
	SIO_INSN_STOS,		/* [rDI] <- rAX, REP */
	SIO_INSN_LODS,		/* rAX <- [rSI], REP */
};

/* The arithmetic of ALU and UNARY instructions, in the order of the
 * opcode's 3-bit field for the first eight. */
enum sio_alu {
	SIO_ALU_ADD, SIO_ALU_OR, SIO_ALU_ADC, SIO_ALU_SBB,
	SIO_ALU_AND, SIO_ALU_SUB, SIO_ALU_XOR, SIO_ALU_CMP,
	SIO_ALU_TEST, SIO_ALU_NOT, SIO_ALU_NEG, SIO_ALU_INC, SIO_ALU_DEC,
};

enum sio_insn_ext {
	SIO_EXT_NONE,		/* operand and register are the same size */
	SIO_EXT_ZERO,		/* MOVZX */
	SIO_EXT_SIGN,		/* MOVSX, MOVSXD */
};

/* x86 register numbers (ModRM order); GPR operands use these. */
enum sio_gpr {
	SIO_RAX, SIO_RCX, SIO_RDX, SIO_RBX, SIO_RSP, SIO_RBP, SIO_RSI, SIO_RDI,
	SIO_R8, SIO_R9, SIO_R10, SIO_R11, SIO_R12, SIO_R13, SIO_R14, SIO_R15,
};

struct sio_insn {
	uint8_t len;		/* bytes; on a refusal, the bytes read */
	uint8_t kind;		/* enum sio_insn_kind */
	uint8_t size;		/* memory operand: 1, 2, 4, 8, 16 or 32 */
	uint8_t alu;		/* enum sio_alu */

	/* The register operand: a GPR (0-15) or a vector register (0-15). */
	uint8_t reg;
	uint8_t reg_size;	/* GPR destination of a LOAD: 1, 2, 4, 8 */
	uint8_t ext;		/* enum sio_insn_ext, for LOAD */
	bool high8;		/* reg is AH, CH, DH or BH (reg holds 0-3) */
	bool src_imm;		/* ALU_MEM: the source is imm, not reg */
	int64_t imm;		/* sign-extended to 64 bits */

	/* Vector moves: the bytes [vpos, vpos + size) of the register are
	 * moved; a load then zeroes the register's bytes [vpos + size, 16)
	 * when vzero16, and everything above bit 127 when vex. */
	uint8_t vpos;
	bool vzero16;
	bool vex;

	/* The memory operand.  base/index: a GPR or -1; the address is
	 * base + index * scale + disp, or next RIP + disp when rip_rel, or
	 * moffs, truncated to 32 bits when addr32; fs/gs name a segment
	 * override whose base is added. */
	int8_t base, index;
	uint8_t scale;
	bool rip_rel, has_moffs, addr32;
	uint8_t seg;		/* 0, or the prefix byte 0x64 (FS) / 0x65 (GS) */
	int32_t disp;
	uint64_t moffs;

	bool rep, lock;
};

/*
 * Decode the instruction at code.  0 with *insn filled, or -1 when it is
 * not one of the forms the trap emulates (insn->len then says how many
 * bytes were read).
 */
int sio_insn_decode(const uint8_t *code, struct sio_insn *insn);

#endif
