/*
 * The x86-64 instruction decoder of the MMIO trap (see decode.h).
 *
 * An instruction is, in order: legacy prefixes (66 operand size, 67
 * address size, F2/F3, F0 LOCK, segment overrides), an optional REX byte
 * (it counts only directly before the opcode), or a two- or three-byte VEX
 * prefix instead of both; the opcode (one byte, or 0F and one byte, or
 * 0F 38 and one byte); ModRM, an optional SIB byte and a displacement; an
 * immediate.  The decoder walks those fields and fills struct sio_insn for
 * the opcodes that reach memory in the ways listed in docs/mmio.md;
 * everything else answers -1.
 *
 * Operand sizes: REX.W makes an operand 8 bytes, else the 66 prefix 2,
 * else 4.  Byte registers 4-7 are AH, CH, DH, BH unless a REX prefix is
 * present, when they are SPL, BPL, SIL, DIL.  In 64-bit mode 67 makes the
 * address 32 bits wide with the same ModRM/SIB encodings, and the segment
 * prefixes other than FS and GS have no effect.
 */
#include "mmio/decode.h"

#include <string.h>

#define REX_W 8
#define REX_R 4
#define REX_X 2
#define REX_B 1

struct cursor {
	const uint8_t *code;
	unsigned int n;
};

struct prefixes {
	bool opsize, addr32, lock;
	uint8_t rep;		/* 0, 0xF2 or 0xF3: the last one wins */
	uint8_t seg;		/* 0, 0x64 or 0x65 */
	uint8_t rex;		/* REX.WRXB bits (or VEX's equivalents) */
	bool rex_present;
	bool vex;
	bool vex_l;		/* VEX.L: 256-bit */
	uint8_t vex_vvvv;	/* decoded (un-inverted) */
	uint8_t vex_pp;		/* the implied 66/F3/F2 */
};

/* One more byte of the instruction, if the length limit allows it. */
static bool fetch(struct cursor *c, uint8_t *b)
{
	if (c->n >= SIO_INSN_MAX_LEN)
		return false;
	*b = c->code[c->n++];
	return true;
}

/* A little-endian immediate or displacement of n bytes, sign-extended. */
static bool fetch_signed(struct cursor *c, unsigned int n, int64_t *v)
{
	uint64_t x = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint8_t b;

		if (!fetch(c, &b))
			return false;
		x |= (uint64_t)b << (8 * i);
	}
	if (n < 8 && (x >> (8 * n - 1)) & 1)
		x |= ~0ull << (8 * n);
	*v = (int64_t)x;
	return true;
}

/* The operand size of a "v" operand: 2, 4 or 8 bytes. */
static uint8_t osize(const struct prefixes *p)
{
	if (p->rex & REX_W)
		return 8;
	return p->opsize ? 2 : 4;
}

/* The register operand of ModRM.reg at size bytes. */
static void set_reg(struct sio_insn *in, const struct prefixes *p,
		    uint8_t modrm, unsigned int size)
{
	uint8_t reg = ((modrm >> 3) & 7) | ((p->rex & REX_R) ? 8 : 0);

	if (size == 1 && !p->rex_present && !p->vex && reg >= 4 && reg < 8) {
		in->high8 = true;
		reg -= 4;
	}
	in->reg = reg;
}

/* The memory operand of ModRM (and SIB, displacement).  -1 for a register
 * operand: such an instruction does not access memory there. */
static int memory_operand(struct cursor *c, const struct prefixes *p,
			  uint8_t modrm, struct sio_insn *in)
{
	uint8_t mod = modrm >> 6, rm = modrm & 7;
	int64_t disp = 0;

	in->base = -1;
	in->index = -1;
	in->scale = 1;
	if (mod == 3)
		return -1;
	if (rm == 4) {
		uint8_t sib, index, base;

		if (!fetch(c, &sib))
			return -1;
		index = ((sib >> 3) & 7) | ((p->rex & REX_X) ? 8 : 0);
		base = sib & 7;
		in->scale = (uint8_t)(1u << (sib >> 6));
		if (index != 4)		/* 100 without REX.X: no index */
			in->index = (int8_t)index;
		if (base == 5 && mod == 0) {
			if (!fetch_signed(c, 4, &disp))
				return -1;
		} else {
			in->base = (int8_t)(base | ((p->rex & REX_B) ? 8 : 0));
		}
	} else if (rm == 5 && mod == 0) {
		in->rip_rel = true;
		if (!fetch_signed(c, 4, &disp))
			return -1;
	} else {
		in->base = (int8_t)(rm | ((p->rex & REX_B) ? 8 : 0));
	}
	if (mod == 1 && !fetch_signed(c, 1, &disp))
		return -1;
	if (mod == 2 && !fetch_signed(c, 4, &disp))
		return -1;
	in->disp = (int32_t)disp;
	return 0;
}

/* ModRM, then the memory operand. */
static int modrm_mem(struct cursor *c, const struct prefixes *p,
		     uint8_t *modrm, struct sio_insn *in)
{
	if (!fetch(c, modrm))
		return -1;
	return memory_operand(c, p, *modrm, in);
}

/* An immediate of size bytes (an Iz immediate is at most 4). */
static int immediate(struct cursor *c, unsigned int size, struct sio_insn *in)
{
	return fetch_signed(c, size > 4 ? 4 : size, &in->imm) ? 0 : -1;
}

/* The mandatory prefix of an SSE opcode: F2/F3 (the last) over 66. */
static uint8_t mandatory(const struct prefixes *p)
{
	if (p->vex)
		return p->vex_pp;
	if (p->rep)
		return p->rep;
	return p->opsize ? 0x66 : 0;
}

/* Register-to-memory moves, loads and stores of the SSE/AVX registers. */
static int vector_move(struct cursor *c, const struct prefixes *p, uint8_t op,
		       struct sio_insn *in)
{
	uint8_t mp = mandatory(p), modrm = 0;
	bool full = false;	/* a 16-byte form that VEX.L widens to 32 */
	bool scalar = false;	/* VEX.L is ignored */

	in->vex = p->vex;
	switch (op) {
	case 0x10: case 0x11:	/* MOVUPS/MOVUPD, MOVSS, MOVSD */
		in->kind = op == 0x10 ? SIO_INSN_VLOAD : SIO_INSN_VSTORE;
		if (mp == 0 || mp == 0x66) {
			full = true;
		} else {
			in->size = mp == 0xF3 ? 4 : 8;
			in->vzero16 = true;
			scalar = true;
		}
		break;
	case 0x12: case 0x16:	/* MOVLPS/MOVLPD, MOVHPS/MOVHPD loads */
		if ((mp != 0 && mp != 0x66) || p->vex)
			return -1;	/* (VEX forms merge from vvvv) */
		in->kind = SIO_INSN_VLOAD;
		in->size = 8;
		in->vpos = op == 0x16 ? 8 : 0;
		break;
	case 0x13: case 0x17:	/* MOVLPS/MOVLPD, MOVHPS/MOVHPD stores */
		if (mp != 0 && mp != 0x66)
			return -1;
		in->kind = SIO_INSN_VSTORE;
		in->size = 8;
		in->vpos = op == 0x17 ? 8 : 0;
		break;
	case 0x28: case 0x29:	/* MOVAPS/MOVAPD */
		if (mp != 0 && mp != 0x66)
			return -1;
		in->kind = op == 0x28 ? SIO_INSN_VLOAD : SIO_INSN_VSTORE;
		full = true;
		break;
	case 0x2B:		/* MOVNTPS/MOVNTPD */
		if (mp != 0 && mp != 0x66)
			return -1;
		in->kind = SIO_INSN_VSTORE;
		full = true;
		break;
	case 0x6E:		/* MOVD/MOVQ xmm, r/m */
		if (mp != 0x66)
			return -1;
		in->kind = SIO_INSN_VLOAD;
		in->size = (p->rex & REX_W) ? 8 : 4;
		in->vzero16 = true;
		break;
	case 0x7E:		/* MOVD/MOVQ r/m, xmm; MOVQ xmm, m64 */
		if (mp == 0x66) {
			in->kind = SIO_INSN_VSTORE;
			in->size = (p->rex & REX_W) ? 8 : 4;
		} else if (mp == 0xF3) {
			in->kind = SIO_INSN_VLOAD;
			in->size = 8;
			in->vzero16 = true;
		} else {
			return -1;
		}
		break;
	case 0x6F: case 0x7F:	/* MOVDQA, MOVDQU */
		if (mp != 0x66 && mp != 0xF3)
			return -1;
		in->kind = op == 0x6F ? SIO_INSN_VLOAD : SIO_INSN_VSTORE;
		full = true;
		break;
	case 0xD6:		/* MOVQ m64, xmm */
		if (mp != 0x66)
			return -1;
		in->kind = SIO_INSN_VSTORE;
		in->size = 8;
		break;
	case 0xE7:		/* MOVNTDQ */
		if (mp != 0x66)
			return -1;
		in->kind = SIO_INSN_VSTORE;
		full = true;
		break;
	default:
		return -1;
	}
	if (full)
		in->size = (p->vex && p->vex_l) ? 32 : 16;
	else if (p->vex && p->vex_l && !scalar)
		return -1;
	/* These VEX forms have no second source: vvvv must be 1111. */
	if (p->vex && p->vex_vvvv)
		return -1;
	if (modrm_mem(c, p, &modrm, in))
		return -1;
	in->reg = ((modrm >> 3) & 7) | ((p->rex & REX_R) ? 8 : 0);
	return 0;
}

/* (V)MOVNTDQA, 66 0F 38 2A: the only opcode of the 0F 38 map that is a
 * move; the cursor is at the byte after the 0F 38 escape (or VEX). */
static int map_0f38(struct cursor *c, const struct prefixes *p,
		    struct sio_insn *in)
{
	uint8_t op, modrm;

	if (!fetch(c, &op) || op != 0x2A || mandatory(p) != 0x66)
		return -1;
	if (p->vex && p->vex_vvvv)
		return -1;
	in->kind = SIO_INSN_VLOAD;
	in->vex = p->vex;
	in->size = (p->vex && p->vex_l) ? 32 : 16;
	if (modrm_mem(c, p, &modrm, in))
		return -1;
	in->reg = ((modrm >> 3) & 7) | ((p->rex & REX_R) ? 8 : 0);
	return 0;
}

/* The two-byte opcode map: 0F xx, or VEX with the 0F map. */
static int map_0f(struct cursor *c, const struct prefixes *p, struct sio_insn *in)
{
	uint8_t op, modrm = 0;

	if (!fetch(c, &op))
		return -1;
	if (op == 0x38 && !p->vex)
		return map_0f38(c, p, in);
	if (p->vex)
		return vector_move(c, p, op, in);
	switch (op) {
	case 0xB6: case 0xB7: case 0xBE: case 0xBF:	/* MOVZX, MOVSX */
		in->kind = SIO_INSN_LOAD;
		in->size = (op & 1) ? 2 : 1;
		in->reg_size = osize(p);
		in->ext = op >= 0xBE ? SIO_EXT_SIGN : SIO_EXT_ZERO;
		if (modrm_mem(c, p, &modrm, in))
			return -1;
		set_reg(in, p, modrm, in->reg_size);
		return 0;
	case 0xC3:					/* MOVNTI */
		if (p->opsize || p->rep)
			return -1;
		in->kind = SIO_INSN_STORE;
		in->size = (p->rex & REX_W) ? 8 : 4;
		break;
	case 0xB0: case 0xB1:				/* CMPXCHG */
		in->kind = SIO_INSN_CMPXCHG;
		in->size = op == 0xB0 ? 1 : osize(p);
		break;
	case 0xC0: case 0xC1:				/* XADD */
		in->kind = SIO_INSN_XADD;
		in->size = op == 0xC0 ? 1 : osize(p);
		break;
	default:
		return vector_move(c, p, op, in);
	}
	if (modrm_mem(c, p, &modrm, in))
		return -1;
	set_reg(in, p, modrm, in->size);
	return 0;
}

/* The one-byte opcode map. */
static int map_1(struct cursor *c, const struct prefixes *p, uint8_t op,
		 struct sio_insn *in)
{
	uint8_t modrm = 0, sub;
	unsigned int size = (op & 1) ? osize(p) : 1;

	/* ADD OR ADC SBB AND SUB XOR CMP, r/m and r in both directions */
	if (op < 0x40 && (op & 7) < 4) {
		in->alu = op >> 3;
		in->kind = (op & 2) ? SIO_INSN_ALU_REG : SIO_INSN_ALU_MEM;
		in->size = (uint8_t)size;
		if (modrm_mem(c, p, &modrm, in))
			return -1;
		set_reg(in, p, modrm, size);
		return 0;
	}
	switch (op) {
	case 0x63:		/* MOVSXD (a plain 32- or 16-bit MOV without W) */
		in->kind = SIO_INSN_LOAD;
		in->size = (p->opsize && !(p->rex & REX_W)) ? 2 : 4;
		in->reg_size = osize(p);
		in->ext = (p->rex & REX_W) ? SIO_EXT_SIGN : SIO_EXT_NONE;
		if (modrm_mem(c, p, &modrm, in))
			return -1;
		set_reg(in, p, modrm, in->reg_size);
		return 0;
	case 0x80: case 0x81: case 0x83:	/* group 1: ALU r/m, imm */
		in->kind = SIO_INSN_ALU_MEM;
		in->src_imm = true;
		in->size = op == 0x80 ? 1 : osize(p);
		if (modrm_mem(c, p, &modrm, in))
			return -1;
		in->alu = (modrm >> 3) & 7;
		return immediate(c, op == 0x81 ? in->size : 1, in);
	case 0x84: case 0x85:	/* TEST r/m, r */
		in->kind = SIO_INSN_ALU_MEM;
		in->alu = SIO_ALU_TEST;
		break;
	case 0x86: case 0x87:	/* XCHG r/m, r */
		in->kind = SIO_INSN_XCHG;
		break;
	case 0x88: case 0x89:	/* MOV r/m, r */
		in->kind = SIO_INSN_STORE;
		break;
	case 0x8A: case 0x8B:	/* MOV r, r/m */
		in->kind = SIO_INSN_LOAD;
		in->reg_size = (uint8_t)size;
		break;
	case 0xA0: case 0xA1: case 0xA2: case 0xA3: {	/* MOV moffs */
		int64_t lo = 0, hi = 0;

		in->kind = op < 0xA2 ? SIO_INSN_LOAD : SIO_INSN_STORE;
		in->size = (uint8_t)size;
		in->reg_size = (uint8_t)size;
		in->reg = SIO_RAX;
		in->base = in->index = -1;
		in->has_moffs = true;
		if (!fetch_signed(c, 4, &lo))
			return -1;
		if (!p->addr32 && !fetch_signed(c, 4, &hi))
			return -1;
		in->moffs = (uint32_t)lo | ((uint64_t)hi << 32);
		return 0;
	}
	case 0xA4: case 0xA5:	/* MOVS */
	case 0xAA: case 0xAB:	/* STOS */
	case 0xAC: case 0xAD:	/* LODS */
		in->kind = op < 0xAA ? SIO_INSN_MOVS :
			   op < 0xAC ? SIO_INSN_STOS : SIO_INSN_LODS;
		in->size = (uint8_t)size;
		in->reg = SIO_RAX;
		in->rep = p->rep != 0;
		in->base = in->index = -1;
		return 0;
	case 0xC6: case 0xC7:	/* MOV r/m, imm */
		in->kind = SIO_INSN_STORE_IMM;
		in->size = (uint8_t)size;
		if (modrm_mem(c, p, &modrm, in) || ((modrm >> 3) & 7))
			return -1;
		return immediate(c, size, in);
	case 0xF6: case 0xF7:	/* group 3: TEST imm, NOT, NEG */
		in->size = (uint8_t)size;
		if (modrm_mem(c, p, &modrm, in))
			return -1;
		sub = (modrm >> 3) & 7;
		if (sub <= 1) {
			in->kind = SIO_INSN_ALU_MEM;
			in->alu = SIO_ALU_TEST;
			in->src_imm = true;
			return immediate(c, size, in);
		}
		if (sub > 3)
			return -1;	/* MUL, IMUL, DIV, IDIV */
		in->kind = SIO_INSN_UNARY;
		in->alu = sub == 2 ? SIO_ALU_NOT : SIO_ALU_NEG;
		return 0;
	case 0xFE: case 0xFF:	/* groups 4 and 5: INC, DEC */
		in->size = (uint8_t)size;
		if (modrm_mem(c, p, &modrm, in))
			return -1;
		sub = (modrm >> 3) & 7;
		if (sub > 1)
			return -1;	/* CALL, JMP, PUSH */
		in->kind = SIO_INSN_UNARY;
		in->alu = sub ? SIO_ALU_DEC : SIO_ALU_INC;
		return 0;
	default:
		return -1;
	}
	in->size = (uint8_t)size;
	if (modrm_mem(c, p, &modrm, in))
		return -1;
	set_reg(in, p, modrm, size);
	return 0;
}

/* The VEX prefix: C5 (two bytes, map 0F) or C4 (three bytes). */
static int vex_prefix(struct cursor *c, struct prefixes *p, uint8_t first)
{
	uint8_t b1, b2, map = 1;

	/* REX, 66, F2, F3 and LOCK before VEX are #UD. */
	if (p->rex_present || p->opsize || p->rep || p->lock)
		return -1;
	if (!fetch(c, &b1))
		return -1;
	p->vex = true;
	if (first == 0xC5) {
		b2 = b1;
		p->rex = (b1 & 0x80) ? 0 : REX_R;
	} else {
		p->rex = (uint8_t)(((b1 & 0x80) ? 0 : REX_R) |
				   ((b1 & 0x40) ? 0 : REX_X) |
				   ((b1 & 0x20) ? 0 : REX_B));
		map = b1 & 0x1F;
		if (!fetch(c, &b2))
			return -1;
		if (b2 & 0x80)
			p->rex |= REX_W;
	}
	p->vex_vvvv = (uint8_t)((~b2 >> 3) & 0xF);
	p->vex_l = (b2 >> 2) & 1;
	p->vex_pp = (const uint8_t[]){ 0, 0x66, 0xF3, 0xF2 }[b2 & 3];
	return map;
}

int sio_insn_decode(const uint8_t *code, struct sio_insn *in)
{
	struct cursor c = { .code = code };
	struct prefixes p = { 0 };
	uint8_t b;
	int rc;

	memset(in, 0, sizeof(*in));
	in->base = in->index = -1;
	in->scale = 1;
	for (;;) {
		if (!fetch(&c, &b)) {
			in->len = (uint8_t)c.n;
			return -1;
		}
		if (b >= 0x40 && b <= 0x4F) {
			p.rex = b & 0xF;
			p.rex_present = true;
			continue;
		}
		if (b == 0x66 || b == 0x67 || b == 0xF0 || b == 0xF2 ||
		    b == 0xF3 || b == 0x26 || b == 0x2E || b == 0x36 ||
		    b == 0x3E || b == 0x64 || b == 0x65) {
			/* A REX followed by a legacy prefix is ignored. */
			p.rex = 0;
			p.rex_present = false;
			if (b == 0x66)
				p.opsize = true;
			else if (b == 0x67)
				p.addr32 = true;
			else if (b == 0xF0)
				p.lock = true;
			else if (b == 0xF2 || b == 0xF3)
				p.rep = b;
			else if (b == 0x64 || b == 0x65)
				p.seg = b;
			continue;
		}
		break;
	}
	if (b == 0xC4 || b == 0xC5) {
		int map = vex_prefix(&c, &p, b);

		if (map == 1)
			rc = map_0f(&c, &p, in);
		else if (map == 2)
			rc = map_0f38(&c, &p, in);
		else
			rc = -1;
	} else if (b == 0x0F) {
		rc = map_0f(&c, &p, in);
	} else {
		rc = map_1(&c, &p, b, in);
	}
	in->len = (uint8_t)c.n;
	if (rc)
		return -1;
	in->addr32 = p.addr32;
	in->seg = p.seg;
	in->lock = p.lock;
	return 0;
}
