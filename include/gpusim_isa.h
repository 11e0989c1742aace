/*
 * The gpusim compute ISA: public encoding and a header-only assembler.
 *
 * gpusim cannot run Fermi machine code, so its COMPUTE engine runs kernels
 * written in this small instruction set instead.  docs/gpusim-isa.md is the
 * reference for the semantics; this header is the encoding plus emitters
 * that let C code build kernels:
 *
 *     uint64_t code[64];
 *     struct isa_prog p;
 *     isa_prog_init(&p, code, 64);
 *     isa_s2r(&p, R(0), SR_TID_X);
 *     isa_ldc(&p, R(2), 0, 0x0);
 *     ...
 *     isa_exit(&p);
 *     if (!isa_prog_ok(&p)) ...;
 *     upload isa_prog_size(&p) bytes of code, launch at their address.
 *
 * Instruction word (64 bits, stored little-endian in GPU memory):
 *
 *     bits  0..6   opcode (enum isa_opcode)
 *     bit   7      ISA_BIMM: operand B is the immediate, not register rb
 *     bits  8..15  rd
 *     bits 16..23  ra
 *     bits 24..31  rb
 *     bits 32..63  imm (32 bits)
 *
 * Registers R0..R63 are 32 bits; a 64-bit value lives in an even/odd pair
 * (Rn holds the low half, Rn+1 the high half).  Register number 255 is RZ:
 * it reads as zero (as a pair too) and writes to it are discarded.
 * Instructions with a third source register (MAD, FFMA, SEL) carry it in
 * imm bits 0..7 (bits 8..31 must be zero) and take no immediate B.
 *
 * Define ISA_NO_SHORT_NAMES before including to suppress the short aliases
 * R(), RZ and SR_* at the end of this file.
 */
#ifndef GPUSIM_ISA_H
#define GPUSIM_ISA_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define ISA_INSN_BYTES   8u
#define ISA_NUM_REGS     64u
#define ISA_REG_ZERO     255u     /* RZ */
#define ISA_MAX_INSNS    65536u   /* a pc at or past this is ISA_BAD_INSN */
#define ISA_BIMM         0x80u    /* opcode flag: B operand is imm */
#define ISA_OPCODE_MASK  0x7fu

/* Where a forward branch points until isa_patch() gives it a target. */
#define ISA_FORWARD      0xffffffffu

enum isa_opcode {
	/* control (opcode 0 is invalid: running into zeroed memory stops at once) */
	ISA_OP_EXIT     = 0x01,
	ISA_OP_BRA      = 0x02,   /* pc = imm */
	ISA_OP_BRZ      = 0x03,   /* if (ra == 0) pc = imm */
	ISA_OP_BRNZ     = 0x04,   /* if (ra != 0) pc = imm */
	ISA_OP_BAR      = 0x05,   /* bar.sync: wait for every live thread of the block */
	ISA_OP_NOP      = 0x06,

	/* moves */
	ISA_OP_MOV      = 0x08,   /* rd = B */
	ISA_OP_S2R      = 0x09,   /* rd = special register imm */
	ISA_OP_SEL      = 0x0a,   /* rd = rc ? ra : rb */

	/* 32-bit integer */
	ISA_OP_ADD      = 0x10,
	ISA_OP_SUB      = 0x11,   /* rd = ra - B */
	ISA_OP_MUL      = 0x12,   /* low 32 bits */
	ISA_OP_MAD      = 0x13,   /* rd = ra * rb + rc, low 32 bits */
	ISA_OP_MULHI_U  = 0x14,   /* high 32 bits of the unsigned product */
	ISA_OP_MULHI_S  = 0x15,   /* high 32 bits of the signed product */
	ISA_OP_SHL      = 0x16,   /* shift counts >= 32 give 0 */
	ISA_OP_SHR      = 0x17,   /* logical */
	ISA_OP_SAR      = 0x18,   /* arithmetic; counts >= 32 give 0 or -1 */
	ISA_OP_AND      = 0x19,
	ISA_OP_OR       = 0x1a,
	ISA_OP_XOR      = 0x1b,
	ISA_OP_NOT      = 0x1c,   /* rd = ~B */
	ISA_OP_MIN      = 0x1d,   /* signed */
	ISA_OP_MAX      = 0x1e,
	ISA_OP_MINU     = 0x1f,   /* unsigned */
	ISA_OP_MAXU     = 0x20,
	ISA_OP_ISET     = 0x28,   /* + enum isa_cond (10 opcodes): rd = (ra cond B) */

	/* f32 */
	ISA_OP_FADD     = 0x38,
	ISA_OP_FSUB     = 0x39,
	ISA_OP_FMUL     = 0x3a,
	ISA_OP_FFMA     = 0x3b,   /* rd = ra * rb + rc, one rounding */
	ISA_OP_FMIN     = 0x3c,
	ISA_OP_FMAX     = 0x3d,
	ISA_OP_FNEG     = 0x3e,   /* rd = -B */
	ISA_OP_FABS     = 0x3f,   /* rd = |B| */
	ISA_OP_I2F      = 0x40,   /* signed int -> f32, round to nearest even */
	ISA_OP_U2F      = 0x41,
	ISA_OP_F2I      = 0x42,   /* truncate, saturate, NaN -> 0 */
	ISA_OP_F2U      = 0x43,
	ISA_OP_FSET     = 0x48,   /* + ISA_CMP_EQ..ISA_CMP_GE (6 opcodes) */

	/* 64-bit (rd, ra pairs) */
	ISA_OP_ADD64    = 0x50,   /* rd = ra + rb pair, or + sign-extended imm */
	ISA_OP_ADD64U   = 0x51,   /* rd = ra + zero-extended B */
	ISA_OP_ADD64S   = 0x52,   /* rd = ra + sign-extended B */
	ISA_OP_MULWIDE_U = 0x53,  /* rd = (u64)ra * (u64)B */
	ISA_OP_MULWIDE_S = 0x54,  /* rd = (s64)ra * (s64)B */
	ISA_OP_LEA      = 0x55,   /* rd = ra + (u64)rb * (u32)imm */
	ISA_OP_LEAS     = 0x56,   /* rd = ra + (s64)rb * (s32)imm */

	/* memory: global addresses are ra pair + sign-extended imm */
	ISA_OP_LD       = 0x60,   /* rd = u32 [ra + imm] */
	ISA_OP_LD64     = 0x61,   /* rd pair = u64 [ra + imm] */
	ISA_OP_ST       = 0x62,   /* u32 [ra + imm] = rb */
	ISA_OP_ST64     = 0x63,   /* u64 [ra + imm] = rb pair */
	ISA_OP_ATOM_ADD = 0x64,   /* rd = u32 [ra + imm]; [ra + imm] += rb */
	ISA_OP_LDS      = 0x68,   /* rd = shared u32 [ra + imm] */
	ISA_OP_STS      = 0x69,   /* shared u32 [ra + imm] = rb */
	ISA_OP_LDC      = 0x6c,   /* rd = constant bank rb, u32 [ra + imm] */
};

/* Comparisons: ISA_OP_ISET + cond (all ten), ISA_OP_FSET + cond (EQ..GE). */
enum isa_cond {
	ISA_CMP_EQ = 0, ISA_CMP_NE, ISA_CMP_LT, ISA_CMP_LE, ISA_CMP_GT, ISA_CMP_GE,
	ISA_CMP_LTU, ISA_CMP_LEU, ISA_CMP_GTU, ISA_CMP_GEU,
	ISA_CMP_COUNT,
	ISA_FCMP_COUNT = ISA_CMP_LTU,
};

enum isa_special_reg {
	ISA_SR_TID_X = 0, ISA_SR_TID_Y, ISA_SR_TID_Z,
	ISA_SR_NTID_X, ISA_SR_NTID_Y, ISA_SR_NTID_Z,
	ISA_SR_CTAID_X, ISA_SR_CTAID_Y, ISA_SR_CTAID_Z,
	ISA_SR_NCTAID_X, ISA_SR_NCTAID_Y, ISA_SR_NCTAID_Z,
	ISA_SR_CLOCK_LO,      /* samples PTIMER ns; latches the high half */
	ISA_SR_CLOCK_HI,      /* high half of the latest CLOCK_LO sample */
	ISA_SR_LANEID,        /* linear thread id % 32 */
	ISA_SR_TID_LINEAR,    /* x + y * ntid.x + z * ntid.x * ntid.y */
	ISA_SR_COUNT,
};

/* ---- Field access (shared by the assembler and the interpreter) -------- */

static inline uint64_t isa_encode(unsigned op, unsigned rd, unsigned ra, unsigned rb,
				  uint32_t imm)
{
	return (uint64_t)(op & 0xffu) | (uint64_t)(rd & 0xffu) << 8 |
	       (uint64_t)(ra & 0xffu) << 16 | (uint64_t)(rb & 0xffu) << 24 |
	       (uint64_t)imm << 32;
}

static inline unsigned isa_word_op(uint64_t w)   { return (unsigned)(w & ISA_OPCODE_MASK); }
static inline bool isa_word_bimm(uint64_t w)     { return (w & ISA_BIMM) != 0; }
static inline unsigned isa_word_rd(uint64_t w)   { return (unsigned)(w >> 8) & 0xffu; }
static inline unsigned isa_word_ra(uint64_t w)   { return (unsigned)(w >> 16) & 0xffu; }
static inline unsigned isa_word_rb(uint64_t w)   { return (unsigned)(w >> 24) & 0xffu; }
static inline uint32_t isa_word_imm(uint64_t w)  { return (uint32_t)(w >> 32); }

static inline uint32_t isa_f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

/* ---- Assembler ----------------------------------------------------------- */

/* A register operand; a struct so that a register and an immediate cannot be swapped silently. */
struct isa_reg {
	uint8_t n;
};

#define ISA_R(n) ((struct isa_reg){ (uint8_t)(n) })
#define ISA_RZ   ISA_R(ISA_REG_ZERO)

typedef uint32_t isa_label;   /* an instruction index, as isa_here() returns */
typedef uint32_t isa_fixup;   /* the index of a branch whose target is patched later */

struct isa_prog {
	uint64_t *buf;     /* words in GPU (little-endian) byte order */
	uint32_t cap;      /* capacity in instructions */
	uint32_t len;      /* instructions emitted (or attempted, if overflow) */
	bool overflow;     /* an instruction did not fit; buf holds only the first cap */
	bool invalid;      /* an emitter got a bad operand (odd pair, bad cond or bank) */
};

static inline void isa_prog_init(struct isa_prog *p, uint64_t *buf, uint32_t cap_insns)
{
	p->buf = buf;
	p->cap = buf ? cap_insns : 0;
	p->len = 0;
	p->overflow = false;
	p->invalid = false;
}

static inline bool isa_prog_ok(const struct isa_prog *p)
{
	return !p->overflow && !p->invalid;
}

/* Bytes of code to upload. */
static inline uint32_t isa_prog_size(const struct isa_prog *p)
{
	return (p->len < p->cap ? p->len : p->cap) * ISA_INSN_BYTES;
}

static inline isa_label isa_here(const struct isa_prog *p)
{
	return p->len;
}

static inline void isa_store_word(uint64_t *slot, uint64_t w)
{
	uint8_t b[8];

	for (unsigned i = 0; i < 8; i++)
		b[i] = (uint8_t)(w >> (8 * i));
	memcpy(slot, b, sizeof(b));
}

static inline uint64_t isa_load_word(const uint64_t *slot)
{
	uint8_t b[8];
	uint64_t w = 0;

	memcpy(b, slot, sizeof(b));
	for (unsigned i = 0; i < 8; i++)
		w |= (uint64_t)b[i] << (8 * i);
	return w;
}

/* Append one raw instruction; returns its index.  Never writes past cap. */
static inline uint32_t isa_emit(struct isa_prog *p, unsigned op, unsigned rd, unsigned ra,
				unsigned rb, uint32_t imm)
{
	uint32_t at = p->len;

	if (at >= p->cap)
		p->overflow = true;
	else
		isa_store_word(&p->buf[at], isa_encode(op, rd, ra, rb, imm));
	if (p->len < UINT32_MAX)
		p->len++;
	return at;
}

/* A pair operand must be even (or RZ); remember misuse instead of emitting garbage quietly. */
static inline unsigned isa_pair(struct isa_prog *p, struct isa_reg r)
{
	if (r.n != ISA_REG_ZERO && (r.n & 1u))
		p->invalid = true;
	return r.n;
}

/* Point the branch at index f to label l. */
static inline void isa_patch(struct isa_prog *p, isa_fixup f, isa_label l)
{
	uint64_t w;

	if (f >= p->cap || f >= p->len)
		return;   /* the branch itself overflowed; overflow is already set */
	w = isa_load_word(&p->buf[f]);
	w = (w & 0xffffffffu) | (uint64_t)l << 32;
	isa_store_word(&p->buf[f], w);
}

static inline void isa_patch_here(struct isa_prog *p, isa_fixup f)
{
	isa_patch(p, f, isa_here(p));
}

/* ---- Emitters: control ---------------------------------------------------- */

static inline void isa_nop(struct isa_prog *p)  { isa_emit(p, ISA_OP_NOP, 0, 0, 0, 0); }
static inline void isa_exit(struct isa_prog *p) { isa_emit(p, ISA_OP_EXIT, 0, 0, 0, 0); }
static inline void isa_bar(struct isa_prog *p)  { isa_emit(p, ISA_OP_BAR, 0, 0, 0, 0); }

/* Branches return a fixup; pass ISA_FORWARD and isa_patch_here() later for forward jumps. */
static inline isa_fixup isa_bra(struct isa_prog *p, isa_label target)
{
	return isa_emit(p, ISA_OP_BRA, 0, 0, 0, target);
}

static inline isa_fixup isa_brz(struct isa_prog *p, struct isa_reg a, isa_label target)
{
	return isa_emit(p, ISA_OP_BRZ, 0, a.n, 0, target);
}

static inline isa_fixup isa_brnz(struct isa_prog *p, struct isa_reg a, isa_label target)
{
	return isa_emit(p, ISA_OP_BRNZ, 0, a.n, 0, target);
}

/* ---- Emitters: 32-bit ALU ------------------------------------------------- */

/* name(p, d, a, b) with register B and name##i(p, d, a, imm) with immediate B. */
#define ISA__BINARY(name, opcode)                                                        \
	static inline void isa_##name(struct isa_prog *p, struct isa_reg d, struct isa_reg a, \
				      struct isa_reg b)                                  \
	{                                                                                \
		isa_emit(p, (opcode), d.n, a.n, b.n, 0);                                 \
	}                                                                                \
	static inline void isa_##name##i(struct isa_prog *p, struct isa_reg d, struct isa_reg a, \
					 uint32_t imm)                                   \
	{                                                                                \
		isa_emit(p, (opcode) | ISA_BIMM, d.n, a.n, 0, imm);                      \
	}

/* f32 flavour: the immediate is a float. */
#define ISA__FBINARY(name, opcode)                                                       \
	static inline void isa_##name(struct isa_prog *p, struct isa_reg d, struct isa_reg a, \
				      struct isa_reg b)                                  \
	{                                                                                \
		isa_emit(p, (opcode), d.n, a.n, b.n, 0);                                 \
	}                                                                                \
	static inline void isa_##name##i(struct isa_prog *p, struct isa_reg d, struct isa_reg a, \
					 float imm)                                      \
	{                                                                                \
		isa_emit(p, (opcode) | ISA_BIMM, d.n, a.n, 0, isa_f32_bits(imm));        \
	}

/* rd = op(B), register source only. */
#define ISA__UNARY(name, opcode)                                                         \
	static inline void isa_##name(struct isa_prog *p, struct isa_reg d, struct isa_reg b) \
	{                                                                                \
		isa_emit(p, (opcode), d.n, 0, b.n, 0);                                   \
	}

ISA__BINARY(add, ISA_OP_ADD)
ISA__BINARY(sub, ISA_OP_SUB)
ISA__BINARY(mul, ISA_OP_MUL)
ISA__BINARY(mulhi_u, ISA_OP_MULHI_U)
ISA__BINARY(mulhi_s, ISA_OP_MULHI_S)
ISA__BINARY(shl, ISA_OP_SHL)
ISA__BINARY(shr, ISA_OP_SHR)
ISA__BINARY(sar, ISA_OP_SAR)
ISA__BINARY(and, ISA_OP_AND)
ISA__BINARY(or, ISA_OP_OR)
ISA__BINARY(xor, ISA_OP_XOR)
ISA__BINARY(min, ISA_OP_MIN)
ISA__BINARY(max, ISA_OP_MAX)
ISA__BINARY(minu, ISA_OP_MINU)
ISA__BINARY(maxu, ISA_OP_MAXU)
ISA__UNARY(not, ISA_OP_NOT)

ISA__FBINARY(fadd, ISA_OP_FADD)
ISA__FBINARY(fsub, ISA_OP_FSUB)
ISA__FBINARY(fmul, ISA_OP_FMUL)
ISA__FBINARY(fmin, ISA_OP_FMIN)
ISA__FBINARY(fmax, ISA_OP_FMAX)
ISA__UNARY(fneg, ISA_OP_FNEG)
ISA__UNARY(fabs, ISA_OP_FABS)
ISA__UNARY(i2f, ISA_OP_I2F)
ISA__UNARY(u2f, ISA_OP_U2F)
ISA__UNARY(f2i, ISA_OP_F2I)
ISA__UNARY(f2u, ISA_OP_F2U)

static inline void isa_mov(struct isa_prog *p, struct isa_reg d, struct isa_reg b)
{
	isa_emit(p, ISA_OP_MOV, d.n, 0, b.n, 0);
}

static inline void isa_movi(struct isa_prog *p, struct isa_reg d, uint32_t imm)
{
	isa_emit(p, ISA_OP_MOV | ISA_BIMM, d.n, 0, 0, imm);
}

static inline void isa_movf(struct isa_prog *p, struct isa_reg d, float imm)
{
	isa_movi(p, d, isa_f32_bits(imm));
}

static inline void isa_s2r(struct isa_prog *p, struct isa_reg d, enum isa_special_reg sr)
{
	isa_emit(p, ISA_OP_S2R, d.n, 0, 0, (uint32_t)sr);
}

/* Three-source forms: rc rides in imm bits 0..7. */
static inline void isa_mad(struct isa_prog *p, struct isa_reg d, struct isa_reg a,
			   struct isa_reg b, struct isa_reg c)
{
	isa_emit(p, ISA_OP_MAD, d.n, a.n, b.n, c.n);
}

static inline void isa_ffma(struct isa_prog *p, struct isa_reg d, struct isa_reg a,
			    struct isa_reg b, struct isa_reg c)
{
	isa_emit(p, ISA_OP_FFMA, d.n, a.n, b.n, c.n);
}

/* d = cond ? a : b */
static inline void isa_sel(struct isa_prog *p, struct isa_reg d, struct isa_reg cond,
			   struct isa_reg a, struct isa_reg b)
{
	isa_emit(p, ISA_OP_SEL, d.n, a.n, b.n, cond.n);
}

/* d = (a cond b) ? 1 : 0 */
static inline void isa_iset(struct isa_prog *p, enum isa_cond c, struct isa_reg d,
			    struct isa_reg a, struct isa_reg b)
{
	if ((unsigned)c >= ISA_CMP_COUNT)
		p->invalid = true;
	isa_emit(p, ISA_OP_ISET + ((unsigned)c % ISA_CMP_COUNT), d.n, a.n, b.n, 0);
}

static inline void isa_iseti(struct isa_prog *p, enum isa_cond c, struct isa_reg d,
			     struct isa_reg a, uint32_t imm)
{
	if ((unsigned)c >= ISA_CMP_COUNT)
		p->invalid = true;
	isa_emit(p, (ISA_OP_ISET + ((unsigned)c % ISA_CMP_COUNT)) | ISA_BIMM, d.n, a.n, 0, imm);
}

static inline void isa_fset(struct isa_prog *p, enum isa_cond c, struct isa_reg d,
			    struct isa_reg a, struct isa_reg b)
{
	if ((unsigned)c >= ISA_FCMP_COUNT)
		p->invalid = true;
	isa_emit(p, ISA_OP_FSET + ((unsigned)c % ISA_FCMP_COUNT), d.n, a.n, b.n, 0);
}

static inline void isa_fseti(struct isa_prog *p, enum isa_cond c, struct isa_reg d,
			     struct isa_reg a, float imm)
{
	if ((unsigned)c >= ISA_FCMP_COUNT)
		p->invalid = true;
	isa_emit(p, (ISA_OP_FSET + ((unsigned)c % ISA_FCMP_COUNT)) | ISA_BIMM, d.n, a.n, 0,
		 isa_f32_bits(imm));
}

/* ---- Emitters: 64-bit (d and a are pairs) --------------------------------- */

/* d = a + b, all pairs */
static inline void isa_add64(struct isa_prog *p, struct isa_reg d, struct isa_reg a,
			     struct isa_reg b)
{
	isa_emit(p, ISA_OP_ADD64, isa_pair(p, d), isa_pair(p, a), isa_pair(p, b), 0);
}

/* d = a + sign-extended imm */
static inline void isa_add64i(struct isa_prog *p, struct isa_reg d, struct isa_reg a, int32_t imm)
{
	isa_emit(p, ISA_OP_ADD64 | ISA_BIMM, isa_pair(p, d), isa_pair(p, a), 0, (uint32_t)imm);
}

/* d = a + zero-extended 32-bit b */
static inline void isa_add64u(struct isa_prog *p, struct isa_reg d, struct isa_reg a,
			      struct isa_reg b)
{
	isa_emit(p, ISA_OP_ADD64U, isa_pair(p, d), isa_pair(p, a), b.n, 0);
}

/* d = a + sign-extended 32-bit b */
static inline void isa_add64s(struct isa_prog *p, struct isa_reg d, struct isa_reg a,
			      struct isa_reg b)
{
	isa_emit(p, ISA_OP_ADD64S, isa_pair(p, d), isa_pair(p, a), b.n, 0);
}

/* d pair = a * b, 32 x 32 -> 64; a and b are 32-bit registers */
static inline void isa_mulwide_u(struct isa_prog *p, struct isa_reg d, struct isa_reg a,
				 struct isa_reg b)
{
	isa_emit(p, ISA_OP_MULWIDE_U, isa_pair(p, d), a.n, b.n, 0);
}

static inline void isa_mulwide_ui(struct isa_prog *p, struct isa_reg d, struct isa_reg a,
				  uint32_t imm)
{
	isa_emit(p, ISA_OP_MULWIDE_U | ISA_BIMM, isa_pair(p, d), a.n, 0, imm);
}

static inline void isa_mulwide_s(struct isa_prog *p, struct isa_reg d, struct isa_reg a,
				 struct isa_reg b)
{
	isa_emit(p, ISA_OP_MULWIDE_S, isa_pair(p, d), a.n, b.n, 0);
}

static inline void isa_mulwide_si(struct isa_prog *p, struct isa_reg d, struct isa_reg a,
				  int32_t imm)
{
	isa_emit(p, ISA_OP_MULWIDE_S | ISA_BIMM, isa_pair(p, d), a.n, 0, (uint32_t)imm);
}

/* d pair = base pair + (u64)index * scale: the address of element index */
static inline void isa_lea(struct isa_prog *p, struct isa_reg d, struct isa_reg base,
			   struct isa_reg index, uint32_t scale)
{
	isa_emit(p, ISA_OP_LEA, isa_pair(p, d), isa_pair(p, base), index.n, scale);
}

/* Same with a signed index and scale. */
static inline void isa_leas(struct isa_prog *p, struct isa_reg d, struct isa_reg base,
			    struct isa_reg index, int32_t scale)
{
	isa_emit(p, ISA_OP_LEAS, isa_pair(p, d), isa_pair(p, base), index.n, (uint32_t)scale);
}

/* ---- Emitters: memory ----------------------------------------------------- */

/* d = u32 global [addr pair + off] */
static inline void isa_ld(struct isa_prog *p, struct isa_reg d, struct isa_reg addr, int32_t off)
{
	isa_emit(p, ISA_OP_LD, d.n, isa_pair(p, addr), 0, (uint32_t)off);
}

static inline void isa_ld64(struct isa_prog *p, struct isa_reg d, struct isa_reg addr,
			    int32_t off)
{
	isa_emit(p, ISA_OP_LD64, isa_pair(p, d), isa_pair(p, addr), 0, (uint32_t)off);
}

/* u32 global [addr pair + off] = v */
static inline void isa_st(struct isa_prog *p, struct isa_reg addr, int32_t off, struct isa_reg v)
{
	isa_emit(p, ISA_OP_ST, 0, isa_pair(p, addr), v.n, (uint32_t)off);
}

static inline void isa_st64(struct isa_prog *p, struct isa_reg addr, int32_t off,
			    struct isa_reg v)
{
	isa_emit(p, ISA_OP_ST64, 0, isa_pair(p, addr), isa_pair(p, v), (uint32_t)off);
}

/* d = old u32 [addr pair + off]; [addr + off] = old + v */
static inline void isa_atom_add(struct isa_prog *p, struct isa_reg d, struct isa_reg addr,
				int32_t off, struct isa_reg v)
{
	isa_emit(p, ISA_OP_ATOM_ADD, d.n, isa_pair(p, addr), v.n, (uint32_t)off);
}

/* d = shared u32 [a + off] */
static inline void isa_lds(struct isa_prog *p, struct isa_reg d, struct isa_reg a, int32_t off)
{
	isa_emit(p, ISA_OP_LDS, d.n, a.n, 0, (uint32_t)off);
}

/* shared u32 [a + off] = v */
static inline void isa_sts(struct isa_prog *p, struct isa_reg a, int32_t off, struct isa_reg v)
{
	isa_emit(p, ISA_OP_STS, 0, a.n, v.n, (uint32_t)off);
}

/* d = constant bank[off] */
static inline void isa_ldc(struct isa_prog *p, struct isa_reg d, unsigned bank, uint32_t off)
{
	if (bank >= 16)
		p->invalid = true;
	isa_emit(p, ISA_OP_LDC, d.n, ISA_REG_ZERO, bank & 0xfu, off);
}

/* d = constant bank[a + off] */
static inline void isa_ldc_r(struct isa_prog *p, struct isa_reg d, unsigned bank,
			     struct isa_reg a, uint32_t off)
{
	if (bank >= 16)
		p->invalid = true;
	isa_emit(p, ISA_OP_LDC, d.n, a.n, bank & 0xfu, off);
}

#undef ISA__BINARY
#undef ISA__FBINARY
#undef ISA__UNARY

#ifndef ISA_NO_SHORT_NAMES
#define R(n) ISA_R(n)
#define RZ   ISA_RZ
#define SR_TID_X      ISA_SR_TID_X
#define SR_TID_Y      ISA_SR_TID_Y
#define SR_TID_Z      ISA_SR_TID_Z
#define SR_NTID_X     ISA_SR_NTID_X
#define SR_NTID_Y     ISA_SR_NTID_Y
#define SR_NTID_Z     ISA_SR_NTID_Z
#define SR_CTAID_X    ISA_SR_CTAID_X
#define SR_CTAID_Y    ISA_SR_CTAID_Y
#define SR_CTAID_Z    ISA_SR_CTAID_Z
#define SR_NCTAID_X   ISA_SR_NCTAID_X
#define SR_NCTAID_Y   ISA_SR_NCTAID_Y
#define SR_NCTAID_Z   ISA_SR_NCTAID_Z
#define SR_CLOCK_LO   ISA_SR_CLOCK_LO
#define SR_CLOCK_HI   ISA_SR_CLOCK_HI
#define SR_LANEID     ISA_SR_LANEID
#define SR_TID_LINEAR ISA_SR_TID_LINEAR
#endif

#endif
