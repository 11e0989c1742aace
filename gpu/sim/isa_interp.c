/*
 * Interpreter of the gpusim compute ISA (include/gpusim_isa.h,
 * docs/gpusim-isa.md).
 *
 * Execution model: blocks run one after another.  Within a block, one
 * instruction runs across a whole group of threads before the next one is
 * fetched, with registers stored structure-of-arrays (one row of
 * block-size words per register) so the per-thread loops are tight.
 *
 * Divergence: every thread has its own pc; a step runs the instruction at
 * the smallest pc among live, non-waiting threads, for exactly the threads
 * at that pc.  For structured code this reconverges at the join point,
 * loops included.  While the group holds every runnable thread and they
 * all move to the same pc (the usual case), the per-thread pcs are not
 * touched and no scan happens; while that group is the whole block the
 * handlers run dense loops over 0..n-1.
 *
 * Code is fetched through resolve() once per instruction per call and kept
 * decoded (operands resolved to register rows, handler chosen) for the rest
 * of the call.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gpusim_isa.h"
#include "isa.h"

#define MAX_THREADS     NV90C0_MAX_BLOCK_THREADS
#define PC_EXITED       UINT32_MAX
#define PAGE_SHIFT      12
#define ROW_ALIGN       16u        /* words; keeps rows 64-byte aligned */
#define CODE_CACHE_MIN  64u

/* Register-file rows beyond R0..R63. */
enum {
	ROW_ZERO = ISA_NUM_REGS,   /* two rows that stay zero: RZ as a value or a pair */
	ROW_SINK = ROW_ZERO + 2,   /* two rows that absorb writes to RZ */
	ROW_TID_X = ROW_SINK + 2,
	ROW_TID_Y,
	ROW_TID_Z,
	ROW_TID_LINEAR,
	ROW_LANEID,
	NUM_ROWS,
};

struct exec;
struct dinsn;

/* The threads one step runs: 0..count-1 when dense, else idx[0..count-1]. */
struct lanes {
	bool dense;
	unsigned count;
	const uint16_t *idx;
};

typedef enum isa_status (*op_fn)(struct exec *x, const struct dinsn *in, const struct lanes *ln);

enum insn_kind { K_UNDECODED = 0, K_OP, K_NOP, K_BRA, K_BRZ, K_BRNZ, K_EXIT, K_BAR };

/* A decoded instruction: operands already turned into register rows. */
struct dinsn {
	op_fn fn;                 /* for K_OP */
	uint32_t *d, *d1;         /* destination (d1: high half of a pair) */
	const uint32_t *a, *a1;   /* source A (a1: high half of a pair) */
	const uint32_t *b, *b1;   /* source B, or the stored value */
	const uint32_t *c;        /* third source */
	uint32_t imm;             /* B immediate, offset, scale or branch target */
	uint8_t kind;             /* enum insn_kind */
	uint8_t aux;              /* constant bank or special-register dimension */
};

/* Scheduling state of the running block. */
struct sched {
	struct lanes g;     /* the group the next step runs */
	uint32_t pc;        /* where the group is */
	bool valid;         /* g and pc are current; else regroup from pcs[] */
	bool all;           /* g holds every live thread that is not at a barrier */
	unsigned live;      /* threads that have not exited */
	unsigned waiting;   /* live threads held at a barrier */
};

struct exec {
	const struct isa_launch *l;
	struct isa_result *res;
	unsigned nthreads;
	size_t stride;               /* words per register row */
	uint32_t *regs;              /* NUM_ROWS rows */
	uint8_t *shared;
	uint32_t shared_size;
	bool shared_dirty;           /* an STS ran since shared memory was last cleared */
	uint64_t written;            /* rows R0..R63 that decoded code may write */
	struct dinsn *code;          /* decode cache, indexed by pc */
	uint32_t code_cap;
	uint32_t ctaid[3];
	uint64_t clock_latch;        /* the latest CLOCK_LO sample */
	bool clock_latched;
	uint32_t pcs[MAX_THREADS];   /* per-thread pc; stale for the group while sched.all */
	uint8_t waiting[MAX_THREADS];
	uint16_t idx[MAX_THREADS];
};

/* ---- Small helpers ---------------------------------------------------------- */

static inline float f32(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static inline uint32_t bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static inline uint64_t pair(const uint32_t *lo, const uint32_t *hi, unsigned t)
{
	return (uint64_t)hi[t] << 32 | lo[t];
}

static inline void put_pair(uint32_t *lo, uint32_t *hi, unsigned t, uint64_t v)
{
	lo[t] = (uint32_t)v;
	hi[t] = (uint32_t)(v >> 32);
}

static inline uint32_t *row(struct exec *x, unsigned r)
{
	return x->regs + (size_t)r * x->stride;
}

static enum isa_status record_fault(struct exec *x, enum isa_status st, uint64_t va, bool write)
{
	x->res->fault_va = va;
	x->res->fault_write = write;
	return st;
}

static bool aborted(const struct exec *x)
{
	return x->l->abort && atomic_load_explicit(x->l->abort, memory_order_relaxed) != 0;
}

#define FOR_LANES(ln, t, ...)                                                    \
	do {                                                                     \
		if ((ln)->dense) {                                               \
			for (unsigned t = 0; t < (ln)->count; t++) {             \
				__VA_ARGS__                                      \
			}                                                        \
		} else {                                                         \
			for (unsigned k_ = 0; k_ < (ln)->count; k_++) {          \
				unsigned t = (ln)->idx[k_];                      \
				__VA_ARGS__                                      \
			}                                                        \
		}                                                                \
	} while (0)

/* ---- 32-bit ALU handlers ------------------------------------------------------
 * Each op is one expression over va (operand A) and vb (operand B); the macros
 * make the register-B (_rr) and immediate-B (_ri) handlers from it.
 */

#define DEF_BINARY(name, expr)                                                           \
	static enum isa_status op_##name##_rr(struct exec *x, const struct dinsn *in,     \
					      const struct lanes *ln)                     \
	{                                                                                \
		uint32_t *d = in->d;                                                     \
		const uint32_t *a = in->a, *b = in->b;                                   \
		(void)x;                                                                 \
		FOR_LANES(ln, t, uint32_t va = a[t]; uint32_t vb = b[t]; d[t] = (expr););\
		return ISA_OK;                                                           \
	}                                                                                \
	static enum isa_status op_##name##_ri(struct exec *x, const struct dinsn *in,     \
					      const struct lanes *ln)                     \
	{                                                                                \
		uint32_t *d = in->d;                                                     \
		const uint32_t *a = in->a;                                               \
		const uint32_t vb = in->imm;                                             \
		(void)x;                                                                 \
		FOR_LANES(ln, t, uint32_t va = a[t]; d[t] = (expr););                    \
		return ISA_OK;                                                           \
	}

#define DEF_UNARY(name, expr)                                                            \
	static enum isa_status op_##name##_rr(struct exec *x, const struct dinsn *in,     \
					      const struct lanes *ln)                     \
	{                                                                                \
		uint32_t *d = in->d;                                                     \
		const uint32_t *b = in->b;                                               \
		(void)x;                                                                 \
		FOR_LANES(ln, t, uint32_t vb = b[t]; d[t] = (expr););                    \
		return ISA_OK;                                                           \
	}                                                                                \
	static enum isa_status op_##name##_ri(struct exec *x, const struct dinsn *in,     \
					      const struct lanes *ln)                     \
	{                                                                                \
		uint32_t *d = in->d;                                                     \
		const uint32_t vb = in->imm;                                             \
		(void)x;                                                                 \
		FOR_LANES(ln, t, d[t] = (expr););                                        \
		return ISA_OK;                                                           \
	}

#define DEF_TERNARY(name, expr)                                                          \
	static enum isa_status op_##name##_rr(struct exec *x, const struct dinsn *in,     \
					      const struct lanes *ln)                     \
	{                                                                                \
		uint32_t *d = in->d;                                                     \
		const uint32_t *a = in->a, *b = in->b, *c = in->c;                       \
		(void)x;                                                                 \
		FOR_LANES(ln, t, uint32_t va = a[t]; uint32_t vb = b[t];                 \
			  uint32_t vc = c[t]; d[t] = (expr););                           \
		return ISA_OK;                                                           \
	}

#define S32(v) ((int32_t)(v))
#define I64(v) ((int64_t)(int32_t)(v))

/* Shifts saturate instead of taking the count modulo 32: a count >= 32 moves every bit out. */
static inline uint32_t shl32(uint32_t v, uint32_t n) { return n >= 32 ? 0 : v << n; }
static inline uint32_t shr32(uint32_t v, uint32_t n) { return n >= 32 ? 0 : v >> n; }
static inline uint32_t sar32(uint32_t v, uint32_t n)
{
	return (uint32_t)(S32(v) >> (n >= 32 ? 31 : n));
}

DEF_UNARY(mov, vb)
DEF_UNARY(not, ~vb)
DEF_BINARY(add, va + vb)
DEF_BINARY(sub, va - vb)
DEF_BINARY(mul, va * vb)
DEF_BINARY(mulhi_u, (uint32_t)(((uint64_t)va * vb) >> 32))
DEF_BINARY(mulhi_s, (uint32_t)((uint64_t)(I64(va) * I64(vb)) >> 32))
DEF_BINARY(shl, shl32(va, vb))
DEF_BINARY(shr, shr32(va, vb))
DEF_BINARY(sar, sar32(va, vb))
DEF_BINARY(and, va & vb)
DEF_BINARY(or, va | vb)
DEF_BINARY(xor, va ^ vb)
DEF_BINARY(min, S32(va) < S32(vb) ? va : vb)
DEF_BINARY(max, S32(va) > S32(vb) ? va : vb)
DEF_BINARY(minu, va < vb ? va : vb)
DEF_BINARY(maxu, va > vb ? va : vb)
DEF_BINARY(iset_eq, va == vb)
DEF_BINARY(iset_ne, va != vb)
DEF_BINARY(iset_lt, S32(va) < S32(vb))
DEF_BINARY(iset_le, S32(va) <= S32(vb))
DEF_BINARY(iset_gt, S32(va) > S32(vb))
DEF_BINARY(iset_ge, S32(va) >= S32(vb))
DEF_BINARY(iset_ltu, va < vb)
DEF_BINARY(iset_leu, va <= vb)
DEF_BINARY(iset_gtu, va > vb)
DEF_BINARY(iset_geu, va >= vb)
DEF_TERNARY(mad, va * vb + vc)
DEF_TERNARY(sel, vc ? va : vb)

/* ---- f32 handlers ------------------------------------------------------------- */

/* A NaN operand loses to a number, as in IEEE 754 minNum/maxNum. */
static inline uint32_t fmin32(uint32_t a, uint32_t b)
{
	return (f32(a) < f32(b) || f32(b) != f32(b)) ? a : b;
}

static inline uint32_t fmax32(uint32_t a, uint32_t b)
{
	return (f32(a) > f32(b) || f32(b) != f32(b)) ? a : b;
}

/* Conversions to integers truncate and saturate; NaN gives 0. */
static inline uint32_t f2i32(uint32_t v)
{
	float f = f32(v);

	if (f != f)
		return 0;
	if (f >= 2147483648.0f)
		return (uint32_t)INT32_MAX;
	if (f < -2147483648.0f)
		return (uint32_t)INT32_MIN;
	return (uint32_t)(int32_t)f;
}

static inline uint32_t f2u32(uint32_t v)
{
	float f = f32(v);

	if (!(f > -1.0f))   /* also NaN */
		return 0;
	if (f >= 4294967296.0f)
		return UINT32_MAX;
	return (uint32_t)f;
}

DEF_BINARY(fadd, bits(f32(va) + f32(vb)))
DEF_BINARY(fsub, bits(f32(va) - f32(vb)))
DEF_BINARY(fmul, bits(f32(va) * f32(vb)))
DEF_BINARY(fmin, fmin32(va, vb))
DEF_BINARY(fmax, fmax32(va, vb))
DEF_BINARY(fset_eq, f32(va) == f32(vb))
DEF_BINARY(fset_ne, f32(va) != f32(vb))
DEF_BINARY(fset_lt, f32(va) < f32(vb))
DEF_BINARY(fset_le, f32(va) <= f32(vb))
DEF_BINARY(fset_gt, f32(va) > f32(vb))
DEF_BINARY(fset_ge, f32(va) >= f32(vb))
DEF_UNARY(fneg, vb ^ 0x80000000u)
DEF_UNARY(fabs, vb & 0x7fffffffu)
DEF_UNARY(i2f, bits((float)S32(vb)))
DEF_UNARY(u2f, bits((float)vb))
DEF_UNARY(f2i, f2i32(vb))
DEF_UNARY(f2u, f2u32(vb))
DEF_TERNARY(ffma, bits(fmaf(f32(va), f32(vb), f32(vc))))

/* ---- 64-bit handlers -------------------------------------------------------------
 * va is the A pair; vb the B operand already widened to 64 bits.
 */

#define DEF_WIDE(name, b_reg, b_imm, expr)                                               \
	static enum isa_status op_##name##_rr(struct exec *x, const struct dinsn *in,     \
					      const struct lanes *ln)                     \
	{                                                                                \
		uint32_t *d = in->d, *d1 = in->d1;                                       \
		const uint32_t *a = in->a, *a1 = in->a1, *b = in->b, *b1 = in->b1;       \
		(void)x;                                                                 \
		(void)a1;                                                                \
		(void)b1;                                                                \
		FOR_LANES(ln, t, uint64_t va = pair(a, a1, t); uint64_t vb = (b_reg);    \
			  put_pair(d, d1, t, (expr)););                                  \
		return ISA_OK;                                                           \
	}                                                                                \
	static enum isa_status op_##name##_ri(struct exec *x, const struct dinsn *in,     \
					      const struct lanes *ln)                     \
	{                                                                                \
		uint32_t *d = in->d, *d1 = in->d1;                                       \
		const uint32_t *a = in->a, *a1 = in->a1;                                 \
		const uint32_t imm = in->imm;                                            \
		const uint64_t vb = (b_imm);                                             \
		(void)x;                                                                 \
		(void)a1;                                                                \
		FOR_LANES(ln, t, uint64_t va = pair(a, a1, t); put_pair(d, d1, t, (expr)););\
		return ISA_OK;                                                           \
	}

/* For MULWIDE, A is one 32-bit register: decode points a1 at a zero row. */
DEF_WIDE(add64, pair(b, b1, t), (uint64_t)I64(imm), va + vb)
DEF_WIDE(add64u, (uint64_t)b[t], (uint64_t)imm, va + vb)
DEF_WIDE(add64s, (uint64_t)I64(b[t]), (uint64_t)I64(imm), va + vb)
DEF_WIDE(mulwide_u, (uint64_t)b[t], (uint64_t)imm, va * vb)
DEF_WIDE(mulwide_s, (uint64_t)I64(b[t]), (uint64_t)I64(imm),
	 (uint64_t)(I64(va) * (int64_t)vb))

static enum isa_status op_lea(struct exec *x, const struct dinsn *in, const struct lanes *ln)
{
	uint32_t *d = in->d, *d1 = in->d1;
	const uint32_t *a = in->a, *a1 = in->a1, *b = in->b;
	const uint64_t scale = in->imm;

	(void)x;
	FOR_LANES(ln, t, put_pair(d, d1, t, pair(a, a1, t) + (uint64_t)b[t] * scale););
	return ISA_OK;
}

static enum isa_status op_leas(struct exec *x, const struct dinsn *in, const struct lanes *ln)
{
	uint32_t *d = in->d, *d1 = in->d1;
	const uint32_t *a = in->a, *a1 = in->a1, *b = in->b;
	const int64_t scale = I64(in->imm);

	(void)x;
	FOR_LANES(ln, t, put_pair(d, d1, t, pair(a, a1, t) + (uint64_t)(I64(b[t]) * scale)););
	return ISA_OK;
}

/* ---- Special registers -------------------------------------------------------
 * Per-thread ids decode to a MOV from a precomputed row, launch-wide sizes to a
 * MOV of an immediate; only the block id and the clock need handlers.
 */

static void fill(const struct lanes *ln, uint32_t *d, uint32_t v)
{
	FOR_LANES(ln, t, d[t] = v;);
}

static enum isa_status op_ctaid(struct exec *x, const struct dinsn *in, const struct lanes *ln)
{
	fill(ln, in->d, x->ctaid[in->aux]);
	return ISA_OK;
}

static uint64_t sample_clock(struct exec *x)
{
	x->clock_latch = x->l->clock_ns ? x->l->clock_ns() : 0;
	x->clock_latched = true;
	return x->clock_latch;
}

static enum isa_status op_clock_lo(struct exec *x, const struct dinsn *in, const struct lanes *ln)
{
	fill(ln, in->d, (uint32_t)sample_clock(x));
	return ISA_OK;
}

/* The high half of the latest low-half sample, so "lo then hi" reads one consistent value. */
static enum isa_status op_clock_hi(struct exec *x, const struct dinsn *in, const struct lanes *ln)
{
	uint64_t now = x->clock_latched ? x->clock_latch : sample_clock(x);

	fill(ln, in->d, (uint32_t)(now >> 32));
	return ISA_OK;
}

/* ---- Global memory ------------------------------------------------------------
 * One page translation is reused for the following threads of the same step
 * (same 4 KiB page, same direction), as resolve() allows; never across steps.
 */

struct page_cache {
	uint64_t va;
	uint8_t *host;   /* NULL: nothing cached */
};

static inline uint8_t *global_ptr(struct exec *x, struct page_cache *pc, uint64_t va,
				  unsigned size, bool write, enum isa_status *st)
{
	uint8_t *p;

	if (va & (size - 1)) {
		*st = record_fault(x, ISA_BAD_ACCESS, va, write);
		return NULL;
	}
	if (pc->host && (va >> PAGE_SHIFT) == (pc->va >> PAGE_SHIFT))
		return va >= pc->va ? pc->host + (va - pc->va) : pc->host - (pc->va - va);
	p = x->l->mem.resolve(x->l->mem.ctx, va, size, write);
	if (!p) {
		*st = record_fault(x, ISA_FAULT, va, write);
		return NULL;
	}
	pc->va = va;
	pc->host = p;
	return p;
}

static inline uint32_t load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t global_va(const struct dinsn *in, unsigned t)
{
	return pair(in->a, in->a1, t) + (uint64_t)I64(in->imm);
}

static enum isa_status op_ld(struct exec *x, const struct dinsn *in, const struct lanes *ln)
{
	struct page_cache pc = { 0, NULL };
	enum isa_status st = ISA_OK;
	uint32_t *d = in->d;

	FOR_LANES(ln, t,
		const uint8_t *p = global_ptr(x, &pc, global_va(in, t), 4, false, &st);
		if (!p)
			return st;
		d[t] = load32(p););
	return ISA_OK;
}

static enum isa_status op_ld64(struct exec *x, const struct dinsn *in, const struct lanes *ln)
{
	struct page_cache pc = { 0, NULL };
	enum isa_status st = ISA_OK;

	FOR_LANES(ln, t,
		const uint8_t *p = global_ptr(x, &pc, global_va(in, t), 8, false, &st);
		if (!p)
			return st;
		put_pair(in->d, in->d1, t, load64(p)););
	return ISA_OK;
}

static enum isa_status op_st(struct exec *x, const struct dinsn *in, const struct lanes *ln)
{
	struct page_cache pc = { 0, NULL };
	enum isa_status st = ISA_OK;
	const uint32_t *v = in->b;

	FOR_LANES(ln, t,
		uint8_t *p = global_ptr(x, &pc, global_va(in, t), 4, true, &st);
		if (!p)
			return st;
		memcpy(p, &v[t], 4););
	return ISA_OK;
}

static enum isa_status op_st64(struct exec *x, const struct dinsn *in, const struct lanes *ln)
{
	struct page_cache pc = { 0, NULL };
	enum isa_status st = ISA_OK;

	FOR_LANES(ln, t,
		uint8_t *p = global_ptr(x, &pc, global_va(in, t), 8, true, &st);
		uint64_t v;
		if (!p)
			return st;
		v = pair(in->b, in->b1, t);
		memcpy(p, &v, 8););
	return ISA_OK;
}

/* Threads of a step apply their additions one after another, so this is atomic. */
static enum isa_status op_atom_add(struct exec *x, const struct dinsn *in, const struct lanes *ln)
{
	struct page_cache pc = { 0, NULL };
	enum isa_status st = ISA_OK;

	FOR_LANES(ln, t,
		uint8_t *p = global_ptr(x, &pc, global_va(in, t), 4, true, &st);
		uint32_t old, sum;
		if (!p)
			return st;
		old = load32(p);
		sum = old + in->b[t];
		memcpy(p, &sum, 4);
		in->d[t] = old;);
	return ISA_OK;
}

/* ---- Shared and constant memory -------------------------------------------------- */

/* A 4-byte access at off is aligned and ends within size bytes. */
static inline bool word_in_bounds(uint32_t off, uint32_t size)
{
	return (off & 3u) == 0 && (uint64_t)off + 4 <= size;
}

static enum isa_status op_lds(struct exec *x, const struct dinsn *in, const struct lanes *ln)
{
	const uint32_t *a = in->a;
	uint32_t *d = in->d;

	FOR_LANES(ln, t,
		uint32_t off = a[t] + in->imm;
		if (!word_in_bounds(off, x->shared_size))
			return record_fault(x, ISA_BAD_ACCESS, off, false);
		d[t] = load32(x->shared + off););
	return ISA_OK;
}

static enum isa_status op_sts(struct exec *x, const struct dinsn *in, const struct lanes *ln)
{
	const uint32_t *a = in->a, *v = in->b;

	x->shared_dirty = true;
	FOR_LANES(ln, t,
		uint32_t off = a[t] + in->imm;
		if (!word_in_bounds(off, x->shared_size))
			return record_fault(x, ISA_BAD_ACCESS, off, true);
		memcpy(x->shared + off, &v[t], 4););
	return ISA_OK;
}

static enum isa_status op_ldc(struct exec *x, const struct dinsn *in, const struct lanes *ln)
{
	const uint8_t *bank = x->l->cbuf[in->aux];
	const uint32_t size = x->l->cbuf_size[in->aux];
	const uint32_t *a = in->a;
	uint32_t *d = in->d;

	FOR_LANES(ln, t,
		uint32_t off = a[t] + in->imm;
		if (!word_in_bounds(off, size))
			return record_fault(x, ISA_BAD_ACCESS, (uint64_t)in->aux << 32 | off, false);
		d[t] = load32(bank + off););
	return ISA_OK;
}

/* The common parameter load, c[bank][imm] with no register: check once, then broadcast. */
static enum isa_status op_ldc_imm(struct exec *x, const struct dinsn *in, const struct lanes *ln)
{
	const uint32_t off = in->imm;

	if (!word_in_bounds(off, x->l->cbuf_size[in->aux]))
		return record_fault(x, ISA_BAD_ACCESS, (uint64_t)in->aux << 32 | off, false);
	fill(ln, in->d, load32(x->l->cbuf[in->aux] + off));
	return ISA_OK;
}

/* ---- Decoding -------------------------------------------------------------------- */

/* Operand layouts; see the table in docs/gpusim-isa.md. */
enum insn_format {
	F_INVALID = 0,
	F_NONE,     /* no operands: every field zero */
	F_BRA,      /* imm = target */
	F_BRC,      /* ra = condition, imm = target */
	F_UNARY,    /* rd, B */
	F_BINARY,   /* rd, ra, B */
	F_TERNARY,  /* rd, ra, rb, rc = imm[7:0] */
	F_S2R,      /* rd, imm = special register */
	F_WIDE_P,   /* rd pair, ra pair, B pair (imm: sign-extended) */
	F_WIDE_W,   /* rd pair, ra pair, B word */
	F_MULWIDE,  /* rd pair, ra word, B word */
	F_LEA,      /* rd pair, ra pair, rb word, imm = scale */
	F_LD,       /* rd, [ra pair + imm] */
	F_LD64,     /* rd pair, [ra pair + imm] */
	F_ST,       /* [ra pair + imm], rb */
	F_ST64,     /* [ra pair + imm], rb pair */
	F_ATOM,     /* rd, [ra pair + imm], rb */
	F_LDS,      /* rd, [ra + imm] */
	F_STS,      /* [ra + imm], rb */
	F_LDC,      /* rd, bank rb, [ra + imm] */
};

struct op_info {
	uint8_t format;
	uint8_t kind;
	op_fn reg_b;   /* handler when B is a register (or B is unused) */
	op_fn imm_b;   /* handler when ISA_BIMM is set; NULL: the flag is invalid */
};

#define OP_RI(opc, fmt, name) [opc] = { fmt, K_OP, op_##name##_rr, op_##name##_ri }
#define OP_R(opc, fmt, fn) [opc] = { fmt, K_OP, fn, NULL }
#define OP_CTL(opc, fmt, kind) [opc] = { fmt, kind, NULL, NULL }

static const struct op_info op_table[ISA_OPCODE_MASK + 1] = {
	OP_CTL(ISA_OP_EXIT, F_NONE, K_EXIT),
	OP_CTL(ISA_OP_BRA, F_BRA, K_BRA),
	OP_CTL(ISA_OP_BRZ, F_BRC, K_BRZ),
	OP_CTL(ISA_OP_BRNZ, F_BRC, K_BRNZ),
	OP_CTL(ISA_OP_BAR, F_NONE, K_BAR),
	OP_CTL(ISA_OP_NOP, F_NONE, K_NOP),
	OP_RI(ISA_OP_MOV, F_UNARY, mov),
	OP_R(ISA_OP_S2R, F_S2R, NULL),
	OP_R(ISA_OP_SEL, F_TERNARY, op_sel_rr),
	OP_RI(ISA_OP_ADD, F_BINARY, add),
	OP_RI(ISA_OP_SUB, F_BINARY, sub),
	OP_RI(ISA_OP_MUL, F_BINARY, mul),
	OP_R(ISA_OP_MAD, F_TERNARY, op_mad_rr),
	OP_RI(ISA_OP_MULHI_U, F_BINARY, mulhi_u),
	OP_RI(ISA_OP_MULHI_S, F_BINARY, mulhi_s),
	OP_RI(ISA_OP_SHL, F_BINARY, shl),
	OP_RI(ISA_OP_SHR, F_BINARY, shr),
	OP_RI(ISA_OP_SAR, F_BINARY, sar),
	OP_RI(ISA_OP_AND, F_BINARY, and),
	OP_RI(ISA_OP_OR, F_BINARY, or),
	OP_RI(ISA_OP_XOR, F_BINARY, xor),
	OP_RI(ISA_OP_NOT, F_UNARY, not),
	OP_RI(ISA_OP_MIN, F_BINARY, min),
	OP_RI(ISA_OP_MAX, F_BINARY, max),
	OP_RI(ISA_OP_MINU, F_BINARY, minu),
	OP_RI(ISA_OP_MAXU, F_BINARY, maxu),
	OP_RI(ISA_OP_ISET + ISA_CMP_EQ, F_BINARY, iset_eq),
	OP_RI(ISA_OP_ISET + ISA_CMP_NE, F_BINARY, iset_ne),
	OP_RI(ISA_OP_ISET + ISA_CMP_LT, F_BINARY, iset_lt),
	OP_RI(ISA_OP_ISET + ISA_CMP_LE, F_BINARY, iset_le),
	OP_RI(ISA_OP_ISET + ISA_CMP_GT, F_BINARY, iset_gt),
	OP_RI(ISA_OP_ISET + ISA_CMP_GE, F_BINARY, iset_ge),
	OP_RI(ISA_OP_ISET + ISA_CMP_LTU, F_BINARY, iset_ltu),
	OP_RI(ISA_OP_ISET + ISA_CMP_LEU, F_BINARY, iset_leu),
	OP_RI(ISA_OP_ISET + ISA_CMP_GTU, F_BINARY, iset_gtu),
	OP_RI(ISA_OP_ISET + ISA_CMP_GEU, F_BINARY, iset_geu),
	OP_RI(ISA_OP_FADD, F_BINARY, fadd),
	OP_RI(ISA_OP_FSUB, F_BINARY, fsub),
	OP_RI(ISA_OP_FMUL, F_BINARY, fmul),
	OP_R(ISA_OP_FFMA, F_TERNARY, op_ffma_rr),
	OP_RI(ISA_OP_FMIN, F_BINARY, fmin),
	OP_RI(ISA_OP_FMAX, F_BINARY, fmax),
	OP_RI(ISA_OP_FNEG, F_UNARY, fneg),
	OP_RI(ISA_OP_FABS, F_UNARY, fabs),
	OP_RI(ISA_OP_I2F, F_UNARY, i2f),
	OP_RI(ISA_OP_U2F, F_UNARY, u2f),
	OP_RI(ISA_OP_F2I, F_UNARY, f2i),
	OP_RI(ISA_OP_F2U, F_UNARY, f2u),
	OP_RI(ISA_OP_FSET + ISA_CMP_EQ, F_BINARY, fset_eq),
	OP_RI(ISA_OP_FSET + ISA_CMP_NE, F_BINARY, fset_ne),
	OP_RI(ISA_OP_FSET + ISA_CMP_LT, F_BINARY, fset_lt),
	OP_RI(ISA_OP_FSET + ISA_CMP_LE, F_BINARY, fset_le),
	OP_RI(ISA_OP_FSET + ISA_CMP_GT, F_BINARY, fset_gt),
	OP_RI(ISA_OP_FSET + ISA_CMP_GE, F_BINARY, fset_ge),
	OP_RI(ISA_OP_ADD64, F_WIDE_P, add64),
	OP_RI(ISA_OP_ADD64U, F_WIDE_W, add64u),
	OP_RI(ISA_OP_ADD64S, F_WIDE_W, add64s),
	OP_RI(ISA_OP_MULWIDE_U, F_MULWIDE, mulwide_u),
	OP_RI(ISA_OP_MULWIDE_S, F_MULWIDE, mulwide_s),
	OP_R(ISA_OP_LEA, F_LEA, op_lea),
	OP_R(ISA_OP_LEAS, F_LEA, op_leas),
	OP_R(ISA_OP_LD, F_LD, op_ld),
	OP_R(ISA_OP_LD64, F_LD64, op_ld64),
	OP_R(ISA_OP_ST, F_ST, op_st),
	OP_R(ISA_OP_ST64, F_ST64, op_st64),
	OP_R(ISA_OP_ATOM_ADD, F_ATOM, op_atom_add),
	OP_R(ISA_OP_LDS, F_LDS, op_lds),
	OP_R(ISA_OP_STS, F_STS, op_sts),
	OP_R(ISA_OP_LDC, F_LDC, op_ldc),
};

/* Operand checkers: each turns a register field into rows, or says it is invalid. */

static bool src_reg(struct exec *x, unsigned r, const uint32_t **out)
{
	if (r == ISA_REG_ZERO)
		*out = row(x, ROW_ZERO);
	else if (r < ISA_NUM_REGS)
		*out = row(x, r);
	else
		return false;
	return true;
}

static bool dst_reg(struct exec *x, unsigned r, uint32_t **out)
{
	if (r == ISA_REG_ZERO) {
		*out = row(x, ROW_SINK);
	} else if (r < ISA_NUM_REGS) {
		*out = row(x, r);
		x->written |= 1ull << r;
	} else {
		return false;
	}
	return true;
}

static bool src_pair(struct exec *x, unsigned r, const uint32_t **lo, const uint32_t **hi)
{
	if (r != ISA_REG_ZERO && (r & 1u))
		return false;
	return src_reg(x, r, lo) && src_reg(x, r == ISA_REG_ZERO ? r : r + 1, hi);
}

static bool dst_pair(struct exec *x, unsigned r, uint32_t **lo, uint32_t **hi)
{
	if (r == ISA_REG_ZERO) {
		*lo = row(x, ROW_SINK);
		*hi = row(x, ROW_SINK + 1);
		return true;
	}
	return !(r & 1u) && dst_reg(x, r, lo) && dst_reg(x, r + 1, hi);
}

/* Operand B: the immediate (rb must be 0) or a register (imm must be 0). */
static bool src_b(struct exec *x, bool bimm, unsigned rb, uint32_t imm, const uint32_t **out)
{
	if (bimm)
		return rb == 0;
	return imm == 0 && src_reg(x, rb, out);
}

static bool src_b_pair(struct exec *x, bool bimm, unsigned rb, uint32_t imm,
		       const uint32_t **lo, const uint32_t **hi)
{
	if (bimm)
		return rb == 0;
	return imm == 0 && src_pair(x, rb, lo, hi);
}

static bool decode_s2r(struct exec *x, uint32_t sr, struct dinsn *in)
{
	static const uint8_t thread_rows[ISA_SR_COUNT] = {
		[ISA_SR_TID_X] = ROW_TID_X, [ISA_SR_TID_Y] = ROW_TID_Y, [ISA_SR_TID_Z] = ROW_TID_Z,
		[ISA_SR_TID_LINEAR] = ROW_TID_LINEAR, [ISA_SR_LANEID] = ROW_LANEID,
	};
	const struct isa_launch *l = x->l;

	if (sr >= ISA_SR_COUNT)
		return false;
	if (thread_rows[sr]) {
		in->fn = op_mov_rr;
		in->b = row(x, thread_rows[sr]);
	} else if (sr >= ISA_SR_NTID_X && sr <= ISA_SR_NTID_Z) {
		in->fn = op_mov_ri;
		in->imm = l->block[sr - ISA_SR_NTID_X];
	} else if (sr >= ISA_SR_NCTAID_X && sr <= ISA_SR_NCTAID_Z) {
		in->fn = op_mov_ri;
		in->imm = l->grid[sr - ISA_SR_NCTAID_X];
	} else if (sr >= ISA_SR_CTAID_X && sr <= ISA_SR_CTAID_Z) {
		in->fn = op_ctaid;
		in->aux = (uint8_t)(sr - ISA_SR_CTAID_X);
	} else {
		in->fn = sr == ISA_SR_CLOCK_LO ? op_clock_lo : op_clock_hi;
	}
	return true;
}

/* Fill *in from an instruction word; false if the word is not a valid instruction. */
static bool decode(struct exec *x, uint64_t w, struct dinsn *in)
{
	const struct op_info *oi = &op_table[isa_word_op(w)];
	const bool bimm = isa_word_bimm(w);
	const unsigned rd = isa_word_rd(w), ra = isa_word_ra(w), rb = isa_word_rb(w);
	const uint32_t imm = isa_word_imm(w);

	memset(in, 0, sizeof(*in));
	in->kind = oi->kind;
	in->fn = bimm ? oi->imm_b : oi->reg_b;
	in->imm = imm;
	if (oi->format == F_INVALID || (bimm && !oi->imm_b))
		return false;

	switch ((enum insn_format)oi->format) {
	case F_NONE:
		return (rd | ra | rb | imm) == 0;
	case F_BRA:
		return (rd | ra | rb) == 0 && imm < ISA_MAX_INSNS;
	case F_BRC:
		return (rd | rb) == 0 && imm < ISA_MAX_INSNS && src_reg(x, ra, &in->a);
	case F_UNARY:
		return ra == 0 && dst_reg(x, rd, &in->d) && src_b(x, bimm, rb, imm, &in->b);
	case F_BINARY:
		return dst_reg(x, rd, &in->d) && src_reg(x, ra, &in->a) &&
		       src_b(x, bimm, rb, imm, &in->b);
	case F_TERNARY:
		return (imm >> 8) == 0 && dst_reg(x, rd, &in->d) && src_reg(x, ra, &in->a) &&
		       src_reg(x, rb, &in->b) && src_reg(x, imm & 0xffu, &in->c);
	case F_S2R:
		return (ra | rb) == 0 && dst_reg(x, rd, &in->d) && decode_s2r(x, imm, in);
	case F_WIDE_P:
		return dst_pair(x, rd, &in->d, &in->d1) && src_pair(x, ra, &in->a, &in->a1) &&
		       src_b_pair(x, bimm, rb, imm, &in->b, &in->b1);
	case F_WIDE_W:
		return dst_pair(x, rd, &in->d, &in->d1) && src_pair(x, ra, &in->a, &in->a1) &&
		       src_b(x, bimm, rb, imm, &in->b);
	case F_MULWIDE:
		in->a1 = row(x, ROW_ZERO);
		return dst_pair(x, rd, &in->d, &in->d1) && src_reg(x, ra, &in->a) &&
		       src_b(x, bimm, rb, imm, &in->b);
	case F_LEA:
		return dst_pair(x, rd, &in->d, &in->d1) && src_pair(x, ra, &in->a, &in->a1) &&
		       src_reg(x, rb, &in->b);
	case F_LD:
		return rb == 0 && dst_reg(x, rd, &in->d) && src_pair(x, ra, &in->a, &in->a1);
	case F_LD64:
		return rb == 0 && dst_pair(x, rd, &in->d, &in->d1) &&
		       src_pair(x, ra, &in->a, &in->a1);
	case F_ST:
		return rd == 0 && src_pair(x, ra, &in->a, &in->a1) && src_reg(x, rb, &in->b);
	case F_ST64:
		return rd == 0 && src_pair(x, ra, &in->a, &in->a1) &&
		       src_pair(x, rb, &in->b, &in->b1);
	case F_ATOM:
		return dst_reg(x, rd, &in->d) && src_pair(x, ra, &in->a, &in->a1) &&
		       src_reg(x, rb, &in->b);
	case F_LDS:
		return rb == 0 && dst_reg(x, rd, &in->d) && src_reg(x, ra, &in->a);
	case F_STS:
		return rd == 0 && src_reg(x, ra, &in->a) && src_reg(x, rb, &in->b);
	case F_LDC:
		in->aux = (uint8_t)rb;
		if (ra == ISA_REG_ZERO)
			in->fn = op_ldc_imm;
		return rb < NV90C0_CB_BANKS && dst_reg(x, rd, &in->d) && src_reg(x, ra, &in->a);
	case F_INVALID:
		break;
	}
	return false;
}

/* ---- Fetch --------------------------------------------------------------------- */

static bool grow_code_cache(struct exec *x, uint32_t pc)
{
	uint32_t cap = x->code_cap ? x->code_cap : CODE_CACHE_MIN;
	struct dinsn *code;

	while (cap <= pc)
		cap *= 2;
	if (cap > ISA_MAX_INSNS)
		cap = ISA_MAX_INSNS;
	code = realloc(x->code, (size_t)cap * sizeof(*code));
	if (!code)
		return false;
	memset(code + x->code_cap, 0, (size_t)(cap - x->code_cap) * sizeof(*code));
	x->code = code;
	x->code_cap = cap;
	return true;
}

/* First execution of pc in this call: read the word through resolve() and decode it. */
static enum isa_status fetch_slow(struct exec *x, uint32_t pc, const struct dinsn **out)
{
	uint64_t va = x->l->code_va + (uint64_t)pc * ISA_INSN_BYTES;
	const uint8_t *p;
	uint64_t w = 0;

	if (pc >= ISA_MAX_INSNS)
		return ISA_BAD_INSN;
	if (pc >= x->code_cap && !grow_code_cache(x, pc))
		return ISA_BAD_INSN;   /* no memory to hold the code: refuse it rather than crash */
	p = x->l->mem.resolve(x->l->mem.ctx, va, ISA_INSN_BYTES, false);
	if (!p)
		return record_fault(x, ISA_FAULT, va, false);
	for (unsigned i = 0; i < ISA_INSN_BYTES; i++)
		w |= (uint64_t)p[i] << (8 * i);
	if (!decode(x, w, &x->code[pc])) {
		x->code[pc].kind = K_UNDECODED;
		return ISA_BAD_INSN;
	}
	*out = &x->code[pc];
	return ISA_OK;
}

static inline enum isa_status fetch(struct exec *x, uint32_t pc, const struct dinsn **out)
{
	if (pc < x->code_cap && x->code[pc].kind != K_UNDECODED) {
		*out = &x->code[pc];
		return ISA_OK;
	}
	return fetch_slow(x, pc, out);
}

/* ---- Scheduling within a block ------------------------------------------------------ */

/* Write the group's pcs back to the per-thread array and forget the group. */
static void commit_group(struct exec *x, struct sched *s, uint32_t pc)
{
	FOR_LANES(&s->g, t, x->pcs[t] = pc;);
	s->valid = false;
}

/* Move the whole group to pc; it stays the group only if nobody else can run. */
static void advance(struct exec *x, struct sched *s, uint32_t pc)
{
	if (s->all)
		s->pc = pc;
	else
		commit_group(x, s, pc);
}

/* A taken jump; a backward one is where an endless loop would spin, so check abort there. */
static enum isa_status jump(struct exec *x, struct sched *s, uint32_t target)
{
	if (target <= s->pc && aborted(x))
		return ISA_ABORTED;
	advance(x, s, target);
	return ISA_OK;
}

static enum isa_status branch(struct exec *x, struct sched *s, const struct dinsn *in)
{
	const uint32_t *cond = in->a;
	const bool want_zero = in->kind == K_BRZ;
	const uint32_t next = s->pc + 1;
	unsigned taken = 0;

	FOR_LANES(&s->g, t, taken += (cond[t] == 0) == want_zero;);
	if (taken == s->g.count)
		return jump(x, s, in->imm);
	if (taken == 0) {
		advance(x, s, next);
		return ISA_OK;
	}
	if (in->imm <= s->pc && aborted(x))
		return ISA_ABORTED;
	FOR_LANES(&s->g, t, x->pcs[t] = ((cond[t] == 0) == want_zero) ? in->imm : next;);
	s->valid = false;
	return ISA_OK;
}

static void exit_group(struct exec *x, struct sched *s)
{
	if (s->all && s->waiting == 0) {
		s->live = 0;   /* every live thread exits: the block is done */
	} else {
		commit_group(x, s, PC_EXITED);
		s->live -= s->g.count;
	}
	s->valid = false;
}

/* Threads that exited count as arrived; the last runnable thread to arrive releases all. */
static void barrier(struct exec *x, struct sched *s)
{
	if (s->all && s->waiting == 0) {
		advance(x, s, s->pc + 1);
		return;
	}
	commit_group(x, s, s->pc + 1);
	FOR_LANES(&s->g, t, x->waiting[t] = 1;);
	s->waiting += s->g.count;
}

/* Pick the next group: the runnable threads at the smallest pc.  False when the block is done. */
static bool regroup(struct exec *x, struct sched *s)
{
	const unsigned n = x->nthreads;
	uint32_t min_pc = PC_EXITED;
	unsigned count = 0;

	if (s->live == 0)
		return false;
	if (s->waiting == s->live) {
		memset(x->waiting, 0, n);
		s->waiting = 0;
	}
	for (unsigned t = 0; t < n; t++)
		if (!x->waiting[t] && x->pcs[t] < min_pc)
			min_pc = x->pcs[t];
	for (unsigned t = 0; t < n; t++)
		if (!x->waiting[t] && x->pcs[t] == min_pc)
			x->idx[count++] = (uint16_t)t;
	s->pc = min_pc;
	s->g.count = count;
	s->g.dense = count == n;
	s->all = count == s->live - s->waiting;
	s->valid = true;
	return true;
}

static enum isa_status step(struct exec *x, struct sched *s, const struct dinsn *in)
{
	enum isa_status st = ISA_OK;

	switch ((enum insn_kind)in->kind) {
	case K_OP:
		st = in->fn(x, in, &s->g);
		if (st == ISA_OK)
			advance(x, s, s->pc + 1);
		return st;
	case K_NOP:
		advance(x, s, s->pc + 1);
		return ISA_OK;
	case K_BRA:
		return jump(x, s, in->imm);
	case K_BRZ:
	case K_BRNZ:
		return branch(x, s, in);
	case K_EXIT:
		exit_group(x, s);
		return ISA_OK;
	case K_BAR:
		barrier(x, s);
		return ISA_OK;
	case K_UNDECODED:
		break;
	}
	return ISA_BAD_INSN;
}

static enum isa_status run_block(struct exec *x)
{
	struct sched s = {
		.g = { .dense = true, .count = x->nthreads, .idx = x->idx },
		.pc = 0, .valid = true, .all = true, .live = x->nthreads, .waiting = 0,
	};

	for (;;) {
		const struct dinsn *in;
		enum isa_status st;
		unsigned count;

		if (!s.valid && !regroup(x, &s))
			return ISA_OK;
		count = s.g.count;
		st = fetch(x, s.pc, &in);
		if (st == ISA_OK)
			st = step(x, &s, in);
		if (st != ISA_OK) {
			x->res->pc = s.pc;
			return st;
		}
		x->res->thread_insns += count;
	}
}

/* ---- Launch ---------------------------------------------------------------------- */

/* Registers and shared memory start at zero in every block. */
static void reset_block(struct exec *x)
{
	for (uint64_t m = x->written; m; m &= m - 1)
		memset(row(x, (unsigned)__builtin_ctzll(m)), 0, x->nthreads * sizeof(uint32_t));
	if (x->shared_dirty) {
		memset(x->shared, 0, x->shared_size);
		x->shared_dirty = false;
	}
	memset(x->waiting, 0, x->nthreads);
}

static enum isa_status run_grid(struct exec *x)
{
	const uint32_t *grid = x->l->grid;

	for (uint32_t z = 0; z < grid[2]; z++) {
		for (uint32_t y = 0; y < grid[1]; y++) {
			for (uint32_t bx = 0; bx < grid[0]; bx++) {
				enum isa_status st;

				if (aborted(x))
					return ISA_ABORTED;
				x->ctaid[0] = bx;
				x->ctaid[1] = y;
				x->ctaid[2] = z;
				reset_block(x);
				st = run_block(x);
				if (st != ISA_OK)
					return st;
			}
		}
	}
	return ISA_OK;
}

static enum isa_status check_launch(const struct isa_launch *l)
{
	uint64_t threads = 1;

	for (unsigned i = 0; i < 3; i++) {
		if (l->grid[i] == 0 || l->block[i] == 0)
			return ISA_BAD_LAUNCH;
		threads *= l->block[i];
	}
	if (l->grid[0] > INT32_MAX || l->grid[1] > 65535 || l->grid[2] > 65535)
		return ISA_BAD_LAUNCH;
	if (threads > MAX_THREADS || l->shared_size > NV90C0_MAX_SHARED || !l->mem.resolve)
		return ISA_BAD_LAUNCH;
	for (unsigned b = 0; b < NV90C0_CB_BANKS; b++)
		if (l->cbuf_size[b] > NV90C0_CB_MAX_SIZE || (l->cbuf_size[b] && !l->cbuf[b]))
			return ISA_BAD_LAUNCH;
	return ISA_OK;
}

static void fill_thread_ids(struct exec *x)
{
	const uint32_t bx = x->l->block[0], by = x->l->block[1];

	for (unsigned t = 0; t < x->nthreads; t++) {
		row(x, ROW_TID_X)[t] = t % bx;
		row(x, ROW_TID_Y)[t] = (t / bx) % by;
		row(x, ROW_TID_Z)[t] = t / (bx * by);
		row(x, ROW_TID_LINEAR)[t] = t;
		row(x, ROW_LANEID)[t] = t % 32;
	}
}

static void exec_destroy(struct exec *x)
{
	if (!x)
		return;
	free(x->regs);
	free(x->shared);
	free(x->code);
	free(x);
}

static struct exec *exec_create(const struct isa_launch *l, struct isa_result *res)
{
	struct exec *x = calloc(1, sizeof(*x));
	size_t bytes;

	if (!x)
		return NULL;
	x->l = l;
	x->res = res;
	x->nthreads = l->block[0] * l->block[1] * l->block[2];
	x->stride = (x->nthreads + ROW_ALIGN - 1) / ROW_ALIGN * ROW_ALIGN;
	bytes = NUM_ROWS * x->stride * sizeof(uint32_t);
	x->regs = aligned_alloc(64, bytes);
	x->shared_size = l->shared_size;
	x->shared = l->shared_size ? calloc(1, l->shared_size) : NULL;
	if (!x->regs || (l->shared_size && !x->shared) || !grow_code_cache(x, 0)) {
		exec_destroy(x);
		return NULL;
	}
	memset(x->regs, 0, bytes);
	fill_thread_ids(x);
	return x;
}

int isa_execute(const struct isa_launch *l, struct isa_result *res)
{
	struct exec *x;
	enum isa_status st;

	if (!res)
		return -1;
	memset(res, 0, sizeof(*res));
	st = l ? check_launch(l) : ISA_BAD_LAUNCH;
	if (st == ISA_OK && (l->code_va & (ISA_INSN_BYTES - 1))) {
		res->fault_va = l->code_va;   /* instructions are 8-byte aligned words */
		st = ISA_BAD_ACCESS;
	}
	if (st != ISA_OK) {
		res->status = st;
		return -1;
	}
	x = exec_create(l, res);
	if (!x) {
		res->status = ISA_BAD_LAUNCH;   /* out of host memory: the launch cannot run */
		return -1;
	}
	st = run_grid(x);
	exec_destroy(x);
	res->status = st;
	return st == ISA_OK ? 0 : -1;
}

const char *isa_status_name(enum isa_status s)
{
	switch (s) {
	case ISA_OK:         return "ok";
	case ISA_FAULT:      return "fault";
	case ISA_BAD_INSN:   return "bad instruction";
	case ISA_BAD_ACCESS: return "bad access";
	case ISA_ABORTED:    return "aborted";
	case ISA_BAD_LAUNCH: return "bad launch";
	}
	return "unknown";
}
