/*
 * Tests of the gpusim ISA interpreter (gpu/sim/isa_interp.c) and of the
 * assembler in include/gpusim_isa.h, run directly against a fake address
 * space (tests/isa/util_rig.c).
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "util_rig.h"

#define DATA RIG_DATA_VA

static int rig_setup(void **state)
{
	struct rig *r = rig_new();

	if (!r)
		return -1;
	*state = r;
	return 0;
}

static int rig_teardown(void **state)
{
	rig_free(*state);
	return 0;
}

/* ======================================================================
 * Element-wise instruction checks.
 *
 * Thread i loads A[i], B[i], C[i], D[i] into R4..R7, runs the instruction
 * under test (result in R10, high half in R11) and stores R10 and R11.  Each
 * case runs twice: with the block converged, and with odd and even threads
 * on different paths so the handlers' indexed loops run too.
 * ====================================================================== */

#define EW_LANES    64u
#define EW_A        0x0000u
#define EW_B        0x1000u
#define EW_C        0x2000u
#define EW_D        0x3000u
#define EW_LO       0x4000u
#define EW_HI       0x5000u

struct ew_case {
	const char *name;
	void (*emit)(struct isa_prog *p);
	uint64_t (*host)(uint32_t a, uint32_t b, uint32_t c, uint32_t d);
};

static const uint32_t int_edges[] = {
	0, 1, 2, 3, 31, 32, 33, 100, 0x7fffffffu, 0x80000000u, 0xffffffffu, 0xfffffffeu,
	0x12345678u, 0x0000ffffu, 0xffff0000u, 0xfffffff0u,
};

static const float float_edges[] = {
	0.0f, -0.0f, 1.0f, -1.0f, 2.5f, -2.5f, 0.5f, 1e10f, -3e9f, 3e9f, 123.456f, -7.25f,
	INFINITY, -INFINITY, NAN, 1e-40f,
};

#define N_EDGES 16u

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Every pair of edge values meets in some lane; the rest of the lanes are random. */
static void ew_fill_inputs(struct rig *r, bool floats)
{
	uint32_t seed = 0x9e3779b9u;

	for (unsigned i = 0; i < EW_LANES; i++) {
		uint32_t v[4];

		for (unsigned k = 0; k < 4; k++) {
			unsigned e = (i + k * (i / N_EDGES + 1) * 5) % N_EDGES;

			if (floats)
				v[k] = isa_f32_bits(float_edges[e]);
			else
				v[k] = int_edges[e];
			if (i >= 48)
				v[k] = floats ? isa_f32_bits((float)(int32_t)xorshift(&seed) / 1e5f)
					      : xorshift(&seed);
		}
		rig_put_u32(r, DATA + EW_A + 4 * i, v[0]);
		rig_put_u32(r, DATA + EW_B + 4 * i, v[1]);
		rig_put_u32(r, DATA + EW_C + 4 * i, v[2]);
		rig_put_u32(r, DATA + EW_D + 4 * i, v[3]);
	}
}

static void ew_build(struct rig *r, const struct ew_case *c, bool diverge)
{
	struct isa_prog *p = &r->p;

	isa_prog_init(p, r->code, RIG_CODE_CAP);
	isa_s2r(p, R(0), SR_TID_X);
	rig_param64(r, R(2), 0);
	isa_lea(p, R(8), R(2), R(0), 4);
	isa_ld(p, R(4), R(8), EW_A);
	isa_ld(p, R(5), R(8), EW_B);
	isa_ld(p, R(6), R(8), EW_C);
	isa_ld(p, R(7), R(8), EW_D);
	if (diverge) {
		isa_fixup to_even, to_join;

		isa_andi(p, R(12), R(0), 1);
		to_even = isa_brz(p, R(12), ISA_FORWARD);
		c->emit(p);
		to_join = isa_bra(p, ISA_FORWARD);
		isa_patch_here(p, to_even);
		c->emit(p);
		isa_patch_here(p, to_join);
	} else {
		c->emit(p);
	}
	isa_st(p, R(8), EW_LO, R(10));
	isa_st(p, R(8), EW_HI, R(11));
	isa_exit(p);
}

static void ew_run_cases(struct rig *r, const struct ew_case *cases, size_t n, bool floats)
{
	rig_cb_u64(r, 0, 0, DATA);
	ew_fill_inputs(r, floats);
	for (size_t i = 0; i < n; i++) {
		for (int diverge = 0; diverge < 2; diverge++) {
			ew_build(r, &cases[i], diverge);
			assert_true(isa_prog_ok(&r->p));
			if (rig_run(r, 1, 1, 1, EW_LANES, 1, 1) != ISA_OK) {
				print_error("%s: status %s\n", cases[i].name,
					    isa_status_name(r->res.status));
				fail();
			}
			for (unsigned t = 0; t < EW_LANES; t++) {
				uint32_t a = rig_u32(r, DATA + EW_A + 4 * t);
				uint32_t b = rig_u32(r, DATA + EW_B + 4 * t);
				uint32_t c = rig_u32(r, DATA + EW_C + 4 * t);
				uint32_t d = rig_u32(r, DATA + EW_D + 4 * t);
				uint64_t want = cases[i].host(a, b, c, d);
				uint64_t got = (uint64_t)rig_u32(r, DATA + EW_HI + 4 * t) << 32 |
					       rig_u32(r, DATA + EW_LO + 4 * t);

				if (got != want) {
					print_error("%s%s lane %u: a=%#x b=%#x c=%#x d=%#x: "
						    "got %#llx want %#llx\n", cases[i].name,
						    diverge ? " (divergent)" : "", t, a, b, c, d,
						    (unsigned long long)got,
						    (unsigned long long)want);
					fail();
				}
			}
		}
	}
}

static float fl(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static uint32_t fb(float f)
{
	return isa_f32_bits(f);
}

#define S(v) ((int32_t)(v))
#define W(v) ((int64_t)(int32_t)(v))

/* A case whose instruction takes register operands in some order, and one with an immediate B. */
#define EW(name, emit_stmt, host_expr)                                                  \
	static void emit_##name(struct isa_prog *p) { emit_stmt; }                       \
	static uint64_t host_##name(uint32_t a, uint32_t b, uint32_t c, uint32_t d)      \
	{                                                                                \
		(void)a; (void)b; (void)c; (void)d;                                      \
		return (host_expr);                                                      \
	}
#define CASE(name) { #name, emit_##name, host_##name }

/* ---- 32-bit integer -------------------------------------------------------- */

static uint32_t ref_shl(uint32_t a, uint32_t n) { return n > 31 ? 0 : a << n; }
static uint32_t ref_shr(uint32_t a, uint32_t n) { return n > 31 ? 0 : a >> n; }
static uint32_t ref_sar(uint32_t a, uint32_t n)
{
	if (n > 31)
		return S(a) < 0 ? 0xffffffffu : 0;
	return S(a) < 0 ? ~(~a >> n) : a >> n;
}

EW(add, isa_add(p, R(10), R(4), R(5)), (uint32_t)(a + b))
EW(sub, isa_sub(p, R(10), R(4), R(5)), (uint32_t)(a - b))
EW(mul, isa_mul(p, R(10), R(4), R(5)), (uint32_t)(a * b))
EW(mulhi_u, isa_mulhi_u(p, R(10), R(4), R(5)), (uint32_t)(((uint64_t)a * b) >> 32))
EW(mulhi_s, isa_mulhi_s(p, R(10), R(4), R(5)), (uint32_t)((uint64_t)(W(a) * W(b)) >> 32))
EW(shl, isa_shl(p, R(10), R(4), R(5)), ref_shl(a, b))
EW(shr, isa_shr(p, R(10), R(4), R(5)), ref_shr(a, b))
EW(sar, isa_sar(p, R(10), R(4), R(5)), ref_sar(a, b))
EW(and, isa_and(p, R(10), R(4), R(5)), a & b)
EW(or, isa_or(p, R(10), R(4), R(5)), a | b)
EW(xor, isa_xor(p, R(10), R(4), R(5)), a ^ b)
EW(not, isa_not(p, R(10), R(5)), (uint32_t)~b)
EW(min, isa_min(p, R(10), R(4), R(5)), S(a) < S(b) ? a : b)
EW(max, isa_max(p, R(10), R(4), R(5)), S(a) > S(b) ? a : b)
EW(minu, isa_minu(p, R(10), R(4), R(5)), a < b ? a : b)
EW(maxu, isa_maxu(p, R(10), R(4), R(5)), a > b ? a : b)
EW(mov, isa_mov(p, R(10), R(6)), c)
EW(movi, isa_movi(p, R(10), 0xdeadbeefu), 0xdeadbeefu)
EW(mad, isa_mad(p, R(10), R(4), R(5), R(6)), (uint32_t)(a * b + c))
EW(mad_inplace, (isa_mov(p, R(10), R(6)), isa_mad(p, R(10), R(4), R(5), R(10))),
   (uint32_t)(a * b + c))
EW(sel, isa_sel(p, R(10), R(6), R(4), R(5)), c ? a : b)
EW(addi, isa_addi(p, R(10), R(4), 0xfffffff0u), (uint32_t)(a - 16))
EW(subi, isa_subi(p, R(10), R(4), 7), (uint32_t)(a - 7))
EW(muli, isa_muli(p, R(10), R(4), 0x10001u), (uint32_t)(a * 0x10001u))
EW(mulhi_ui, isa_mulhi_ui(p, R(10), R(4), 0x80000001u),
   (uint32_t)(((uint64_t)a * 0x80000001u) >> 32))
EW(mulhi_si, isa_mulhi_si(p, R(10), R(4), (uint32_t)-3), (uint32_t)((uint64_t)(W(a) * -3) >> 32))
EW(shli4, isa_shli(p, R(10), R(4), 4), (uint32_t)(a << 4))
EW(shli32, isa_shli(p, R(10), R(4), 32), 0)
EW(shri31, isa_shri(p, R(10), R(4), 31), a >> 31)
EW(sari3, isa_sari(p, R(10), R(4), 3), ref_sar(a, 3))
EW(sari40, isa_sari(p, R(10), R(4), 40), ref_sar(a, 40))
EW(andi, isa_andi(p, R(10), R(4), 0xff00ff00u), a & 0xff00ff00u)
EW(ori, isa_ori(p, R(10), R(4), 0x0f0f0f0fu), a | 0x0f0f0f0fu)
EW(xori, isa_xori(p, R(10), R(4), 0xffffffffu), (uint32_t)~a)
EW(mini, isa_mini(p, R(10), R(4), (uint32_t)-5), S(a) < -5 ? a : (uint32_t)-5)
EW(maxi, isa_maxi(p, R(10), R(4), (uint32_t)-5), S(a) > -5 ? a : (uint32_t)-5)
EW(minui, isa_minui(p, R(10), R(4), 100), a < 100 ? a : 100)
EW(maxui, isa_maxui(p, R(10), R(4), 100), a > 100 ? a : 100)
/* RZ reads as zero and swallows writes. */
EW(rz_source, isa_add(p, R(10), RZ, R(4)), a)
EW(rz_dest, (isa_movi(p, RZ, 9), isa_mov(p, R(10), RZ)), 0)

static void test_int_alu(void **state)
{
	static const struct ew_case cases[] = {
		CASE(add), CASE(sub), CASE(mul), CASE(mulhi_u), CASE(mulhi_s), CASE(shl),
		CASE(shr), CASE(sar), CASE(and), CASE(or), CASE(xor), CASE(not), CASE(min),
		CASE(max), CASE(minu), CASE(maxu), CASE(mov), CASE(movi), CASE(mad),
		CASE(mad_inplace), CASE(sel), CASE(addi), CASE(subi), CASE(muli),
		CASE(mulhi_ui), CASE(mulhi_si), CASE(shli4), CASE(shli32), CASE(shri31),
		CASE(sari3), CASE(sari40), CASE(andi), CASE(ori), CASE(xori), CASE(mini),
		CASE(maxi), CASE(minui), CASE(maxui), CASE(rz_source), CASE(rz_dest),
	};

	ew_run_cases(*state, cases, sizeof(cases) / sizeof(cases[0]), false);
}

/* ---- Comparisons --------------------------------------------------------------- */

EW(iset_eq, isa_iset(p, ISA_CMP_EQ, R(10), R(4), R(5)), a == b)
EW(iset_ne, isa_iset(p, ISA_CMP_NE, R(10), R(4), R(5)), a != b)
EW(iset_lt, isa_iset(p, ISA_CMP_LT, R(10), R(4), R(5)), S(a) < S(b))
EW(iset_le, isa_iset(p, ISA_CMP_LE, R(10), R(4), R(5)), S(a) <= S(b))
EW(iset_gt, isa_iset(p, ISA_CMP_GT, R(10), R(4), R(5)), S(a) > S(b))
EW(iset_ge, isa_iset(p, ISA_CMP_GE, R(10), R(4), R(5)), S(a) >= S(b))
EW(iset_ltu, isa_iset(p, ISA_CMP_LTU, R(10), R(4), R(5)), a < b)
EW(iset_leu, isa_iset(p, ISA_CMP_LEU, R(10), R(4), R(5)), a <= b)
EW(iset_gtu, isa_iset(p, ISA_CMP_GTU, R(10), R(4), R(5)), a > b)
EW(iset_geu, isa_iset(p, ISA_CMP_GEU, R(10), R(4), R(5)), a >= b)
EW(iseti_eq, isa_iseti(p, ISA_CMP_EQ, R(10), R(4), 32), a == 32)
EW(iseti_ne, isa_iseti(p, ISA_CMP_NE, R(10), R(4), 32), a != 32)
EW(iseti_lt, isa_iseti(p, ISA_CMP_LT, R(10), R(4), (uint32_t)-1), S(a) < -1)
EW(iseti_le, isa_iseti(p, ISA_CMP_LE, R(10), R(4), (uint32_t)-1), S(a) <= -1)
EW(iseti_gt, isa_iseti(p, ISA_CMP_GT, R(10), R(4), 32), S(a) > 32)
EW(iseti_ge, isa_iseti(p, ISA_CMP_GE, R(10), R(4), 32), S(a) >= 32)
EW(iseti_ltu, isa_iseti(p, ISA_CMP_LTU, R(10), R(4), 32), a < 32)
EW(iseti_leu, isa_iseti(p, ISA_CMP_LEU, R(10), R(4), 32), a <= 32)
EW(iseti_gtu, isa_iseti(p, ISA_CMP_GTU, R(10), R(4), 0x80000000u), a > 0x80000000u)
EW(iseti_geu, isa_iseti(p, ISA_CMP_GEU, R(10), R(4), 0x80000000u), a >= 0x80000000u)

static void test_int_compare(void **state)
{
	static const struct ew_case cases[] = {
		CASE(iset_eq), CASE(iset_ne), CASE(iset_lt), CASE(iset_le), CASE(iset_gt),
		CASE(iset_ge), CASE(iset_ltu), CASE(iset_leu), CASE(iset_gtu), CASE(iset_geu),
		CASE(iseti_eq), CASE(iseti_ne), CASE(iseti_lt), CASE(iseti_le), CASE(iseti_gt),
		CASE(iseti_ge), CASE(iseti_ltu), CASE(iseti_leu), CASE(iseti_gtu),
		CASE(iseti_geu),
	};

	ew_run_cases(*state, cases, sizeof(cases) / sizeof(cases[0]), false);
}

/* ---- f32 ------------------------------------------------------------------------- */

/* minNum/maxNum: a NaN operand loses; on a tie (e.g. -0 vs +0) B is returned. */
static uint32_t ref_fmin(uint32_t a, uint32_t b)
{
	if (isnan(fl(a)))
		return b;
	if (isnan(fl(b)))
		return a;
	return fl(a) < fl(b) ? a : b;
}

static uint32_t ref_fmax(uint32_t a, uint32_t b)
{
	if (isnan(fl(a)))
		return b;
	if (isnan(fl(b)))
		return a;
	return fl(a) > fl(b) ? a : b;
}

EW(fadd, isa_fadd(p, R(10), R(4), R(5)), fb(fl(a) + fl(b)))
EW(fsub, isa_fsub(p, R(10), R(4), R(5)), fb(fl(a) - fl(b)))
EW(fmul, isa_fmul(p, R(10), R(4), R(5)), fb(fl(a) * fl(b)))
EW(ffma, isa_ffma(p, R(10), R(4), R(5), R(6)), fb(fmaf(fl(a), fl(b), fl(c))))
EW(fmin, isa_fmin(p, R(10), R(4), R(5)), ref_fmin(a, b))
EW(fmax, isa_fmax(p, R(10), R(4), R(5)), ref_fmax(a, b))
EW(fneg, isa_fneg(p, R(10), R(5)), b ^ 0x80000000u)
EW(fabs, isa_fabs(p, R(10), R(5)), b & 0x7fffffffu)
EW(faddi, isa_faddi(p, R(10), R(4), 1.5f), fb(fl(a) + 1.5f))
EW(fsubi, isa_fsubi(p, R(10), R(4), 1.5f), fb(fl(a) - 1.5f))
EW(fmuli, isa_fmuli(p, R(10), R(4), -2.0f), fb(fl(a) * -2.0f))
EW(fmini, isa_fmini(p, R(10), R(4), 0.0f), ref_fmin(a, fb(0.0f)))
EW(fmaxi, isa_fmaxi(p, R(10), R(4), 0.0f), ref_fmax(a, fb(0.0f)))
EW(fset_eq, isa_fset(p, ISA_CMP_EQ, R(10), R(4), R(5)), fl(a) == fl(b))
EW(fset_ne, isa_fset(p, ISA_CMP_NE, R(10), R(4), R(5)), !(fl(a) == fl(b)))
EW(fset_lt, isa_fset(p, ISA_CMP_LT, R(10), R(4), R(5)), fl(a) < fl(b))
EW(fset_le, isa_fset(p, ISA_CMP_LE, R(10), R(4), R(5)), fl(a) <= fl(b))
EW(fset_gt, isa_fset(p, ISA_CMP_GT, R(10), R(4), R(5)), fl(a) > fl(b))
EW(fset_ge, isa_fset(p, ISA_CMP_GE, R(10), R(4), R(5)), fl(a) >= fl(b))
EW(fseti_lt, isa_fseti(p, ISA_CMP_LT, R(10), R(4), 1.0f), fl(a) < 1.0f)
EW(fseti_ge, isa_fseti(p, ISA_CMP_GE, R(10), R(4), -2.5f), fl(a) >= -2.5f)

static void test_float_alu(void **state)
{
	static const struct ew_case cases[] = {
		CASE(fadd), CASE(fsub), CASE(fmul), CASE(ffma), CASE(fmin), CASE(fmax),
		CASE(fneg), CASE(fabs), CASE(faddi), CASE(fsubi), CASE(fmuli), CASE(fmini),
		CASE(fmaxi), CASE(fset_eq), CASE(fset_ne), CASE(fset_lt), CASE(fset_le),
		CASE(fset_gt), CASE(fset_ge), CASE(fseti_lt), CASE(fseti_ge),
	};

	ew_run_cases(*state, cases, sizeof(cases) / sizeof(cases[0]), true);
}

/* FFMA rounds once: 1 + 2^-23 squared minus (1 + 2^-22) is exactly 2^-46, lost if rounded twice. */
static void test_ffma_is_fused(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;
	const float x = 1.0f + 0x1p-23f;

	rig_cb_u64(r, 0, 0, DATA);
	isa_movf(p, R(4), x);
	isa_movf(p, R(5), -(1.0f + 0x1p-22f));
	isa_ffma(p, R(6), R(4), R(4), R(5));
	isa_fmul(p, R(7), R(4), R(4));
	isa_fadd(p, R(7), R(7), R(5));
	rig_param64(r, R(2), 0);
	isa_st(p, R(2), 0, R(6));
	isa_st(p, R(2), 4, R(7));
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_OK);
	assert_true(rig_f32(r, DATA) == 0x1p-46f);
	assert_true(rig_f32(r, DATA + 4) == 0.0f);
}

/* ---- Conversions: explicit expectations, including rounding and saturation ---- */

struct conv_case {
	uint32_t in;
	uint32_t out;
};

static void run_conversion(struct rig *r, void (*emit)(struct isa_prog *, struct isa_reg,
							struct isa_reg),
			   const struct conv_case *cases, unsigned n, const char *name)
{
	struct isa_prog *p = &r->p;

	isa_prog_init(p, r->code, RIG_CODE_CAP);
	rig_cb_u64(r, 0, 0, DATA);
	isa_s2r(p, R(0), SR_TID_X);
	rig_param64(r, R(2), 0);
	isa_lea(p, R(2), R(2), R(0), 4);
	isa_ld(p, R(4), R(2), 0);
	emit(p, R(5), R(4));
	isa_st(p, R(2), 0x100, R(5));
	isa_exit(p);
	for (unsigned i = 0; i < n; i++)
		rig_put_u32(r, DATA + 4 * i, cases[i].in);
	assert_int_equal(rig_run(r, 1, 1, 1, n, 1, 1), ISA_OK);
	for (unsigned i = 0; i < n; i++) {
		uint32_t got = rig_u32(r, DATA + 0x100 + 4 * i);

		if (got != cases[i].out) {
			print_error("%s(%#x): got %#x want %#x\n", name, cases[i].in, got,
				    cases[i].out);
			fail();
		}
	}
}

static void test_conversions(void **state)
{
	static const struct conv_case i2f[] = {
		{ 0, 0 }, { (uint32_t)-1, 0xbf800000u }, { 16777217, 0x4b800000u },
		{ 0x7fffffffu, 0x4f000000u }, { 0x80000000u, 0xcf000000u }, { 3, 0x40400000u },
	};
	static const struct conv_case u2f[] = {
		{ 0xffffffffu, 0x4f800000u }, { 16777219, 0x4b800002u }, { 0x80000000u, 0x4f000000u },
		{ 7, 0x40e00000u },
	};
	static const struct conv_case f2i[] = {
		{ 0x402ccccdu /* 2.7 */, 2 }, { 0xc02ccccdu /* -2.7 */, (uint32_t)-2 },
		{ 0x4f32d05eu /* 3e9 */, 0x7fffffffu }, { 0xcf32d05eu /* -3e9 */, 0x80000000u },
		{ 0x7fc00000u /* NaN */, 0 }, { 0x7f800000u /* inf */, 0x7fffffffu },
		{ 0xff800000u /* -inf */, 0x80000000u }, { 0xbf000000u /* -0.5 */, 0 },
		{ 0x4effffffu /* 2147483520 */, 2147483520u },
		{ 0xcf000000u /* -2^31 */, 0x80000000u }, { 0x4f000000u /* 2^31 */, 0x7fffffffu },
	};
	static const struct conv_case f2u[] = {
		{ 0x402ccccdu /* 2.7 */, 2 }, { 0xc02ccccdu /* -2.7 */, 0 },
		{ 0xbf000000u /* -0.5 */, 0 }, { 0x4f9502f9u /* 5e9 */, 0xffffffffu },
		{ 0x4f7fffffu /* 4294967040 */, 4294967040u }, { 0x7fc00000u /* NaN */, 0 },
		{ 0x7f800000u /* inf */, 0xffffffffu }, { 0xff800000u /* -inf */, 0 },
		{ 0x4f32d05eu /* 3e9 */, 3000000000u },
	};
	struct rig *r = *state;

	run_conversion(r, isa_i2f, i2f, sizeof(i2f) / sizeof(i2f[0]), "i2f");
	run_conversion(r, isa_u2f, u2f, sizeof(u2f) / sizeof(u2f[0]), "u2f");
	run_conversion(r, isa_f2i, f2i, sizeof(f2i) / sizeof(f2i[0]), "f2i");
	run_conversion(r, isa_f2u, f2u, sizeof(f2u) / sizeof(f2u[0]), "f2u");
}

/* ---- 64-bit: R4:R5 and R6:R7 are pairs, R6 alone is a 32-bit operand ------------- */

#define P(lo, hi) ((uint64_t)(hi) << 32 | (lo))

EW(add64, isa_add64(p, R(10), R(4), R(6)), P(a, b) + P(c, d))
EW(add64i_neg, isa_add64i(p, R(10), R(4), -5), P(a, b) - 5)
EW(add64i_big, isa_add64i(p, R(10), R(4), 0x7fffffff), P(a, b) + 0x7fffffffu)
EW(add64u, isa_add64u(p, R(10), R(4), R(6)), P(a, b) + c)
EW(add64s, isa_add64s(p, R(10), R(4), R(6)), P(a, b) + (uint64_t)W(c))
EW(add64_inplace, (isa_add64(p, R(10), R(4), RZ), isa_add64(p, R(10), R(10), R(6))),
   P(a, b) + P(c, d))
EW(mulwide_u, isa_mulwide_u(p, R(10), R(4), R(6)), (uint64_t)a * c)
EW(mulwide_ui, isa_mulwide_ui(p, R(10), R(4), 0xfffffff0u), (uint64_t)a * 0xfffffff0u)
EW(mulwide_s, isa_mulwide_s(p, R(10), R(4), R(6)), (uint64_t)(W(a) * W(c)))
EW(mulwide_si, isa_mulwide_si(p, R(10), R(4), -7), (uint64_t)(W(a) * -7))
EW(lea, isa_lea(p, R(10), R(4), R(6), 12), P(a, b) + (uint64_t)c * 12)
EW(leas, isa_leas(p, R(10), R(4), R(6), -8), P(a, b) + (uint64_t)(W(c) * -8))
EW(lea_rz_base, isa_lea(p, R(10), RZ, R(6), 0x10000), (uint64_t)c * 0x10000)

static void test_wide_alu(void **state)
{
	static const struct ew_case cases[] = {
		CASE(add64), CASE(add64i_neg), CASE(add64i_big), CASE(add64u), CASE(add64s),
		CASE(add64_inplace), CASE(mulwide_u), CASE(mulwide_ui), CASE(mulwide_s),
		CASE(mulwide_si), CASE(lea), CASE(leas), CASE(lea_rz_base),
	};

	ew_run_cases(*state, cases, sizeof(cases) / sizeof(cases[0]), false);
}

/* ======================================================================
 * Special registers
 * ====================================================================== */

#define SR_RECORD_WORDS 16u

/* Each thread takes a slot with an atomic add and writes every special register into it. */
static void test_special_registers(void **state)
{
	static const enum isa_special_reg srs[] = {
		ISA_SR_TID_X, ISA_SR_TID_Y, ISA_SR_TID_Z, ISA_SR_NTID_X, ISA_SR_NTID_Y,
		ISA_SR_NTID_Z, ISA_SR_CTAID_X, ISA_SR_CTAID_Y, ISA_SR_CTAID_Z, ISA_SR_NCTAID_X,
		ISA_SR_NCTAID_Y, ISA_SR_NCTAID_Z, ISA_SR_LANEID, ISA_SR_TID_LINEAR,
	};
	const uint32_t grid[3] = { 3, 2, 2 }, block[3] = { 8, 5, 2 };
	const unsigned per_block = 80, blocks = 12;
	struct rig *r = *state;
	struct isa_prog *p = &r->p;
	uint8_t *seen = calloc(blocks * per_block, 1);

	assert_non_null(seen);
	rig_cb_u64(r, 0, 0, DATA);            /* counter */
	rig_cb_u64(r, 0, 8, DATA + 0x100);    /* records */
	rig_param64(r, R(2), 0);
	rig_param64(r, R(4), 8);
	isa_movi(p, R(6), 1);
	isa_atom_add(p, R(7), R(2), 0, R(6));
	isa_lea(p, R(4), R(4), R(7), SR_RECORD_WORDS * 4);
	for (unsigned i = 0; i < sizeof(srs) / sizeof(srs[0]); i++) {
		isa_s2r(p, R(8), srs[i]);
		isa_st(p, R(4), (int32_t)(4 * i), R(8));
	}
	isa_exit(p);
	assert_int_equal(rig_run(r, grid[0], grid[1], grid[2], block[0], block[1], block[2]),
			 ISA_OK);
	assert_int_equal(rig_u32(r, DATA), blocks * per_block);
	for (unsigned i = 0; i < blocks * per_block; i++) {
		const uint32_t *rec = rig_data(r, DATA + 0x100 + i * SR_RECORD_WORDS * 4);
		unsigned linear = rec[0] + 8 * rec[1] + 40 * rec[2];
		unsigned block_id = rec[6] + 3 * rec[7] + 6 * rec[8];

		assert_true(rec[0] < 8 && rec[1] < 5 && rec[2] < 2);
		assert_int_equal(rec[3], 8);
		assert_int_equal(rec[4], 5);
		assert_int_equal(rec[5], 2);
		assert_true(rec[6] < 3 && rec[7] < 2 && rec[8] < 2);
		assert_int_equal(rec[9], 3);
		assert_int_equal(rec[10], 2);
		assert_int_equal(rec[11], 2);
		assert_int_equal(rec[12], linear % 32);
		assert_int_equal(rec[13], linear);
		assert_int_equal(seen[block_id * per_block + linear], 0);
		seen[block_id * per_block + linear] = 1;
	}
	free(seen);
}

/* CLOCK_LO samples once per step and latches the high half for CLOCK_HI. */
static void test_clock(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;

	r->clock_now = 0x1fffffff0ull;
	r->clock_step = 0x20;
	rig_cb_u64(r, 0, 0, DATA);
	rig_param64(r, R(2), 0);
	isa_s2r(p, R(0), SR_TID_X);
	isa_lea(p, R(2), R(2), R(0), 16);
	isa_s2r(p, R(4), SR_CLOCK_LO);
	isa_s2r(p, R(5), SR_CLOCK_HI);     /* the clock has moved to 0x200000010 by now */
	isa_s2r(p, R(6), SR_CLOCK_LO);
	isa_s2r(p, R(7), SR_CLOCK_HI);
	isa_st64(p, R(2), 0, R(4));
	isa_st64(p, R(2), 8, R(6));
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 32, 1, 1), ISA_OK);
	assert_int_equal(r->clock_calls, 2);
	for (unsigned t = 0; t < 32; t++) {
		const uint64_t *v = rig_data(r, DATA + 16 * t);

		assert_int_equal(v[0], 0x1fffffff0ull);
		assert_int_equal(v[1], 0x200000010ull);
	}
}

static void test_clock_hi_alone_and_no_clock(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;

	r->clock_now = 0x700000005ull;
	rig_cb_u64(r, 0, 0, DATA);
	rig_param64(r, R(2), 0);
	isa_s2r(p, R(4), SR_CLOCK_HI);
	isa_st(p, R(2), 0, R(4));
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_OK);
	assert_int_equal(rig_u32(r, DATA), 7);

	r->l.clock_ns = NULL;
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_OK);
	assert_int_equal(rig_u32(r, DATA), 0);
}

/* ======================================================================
 * Constant banks
 * ====================================================================== */

static void test_ldc(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;

	for (unsigned i = 0; i < 16; i++)
		rig_cb_u32(r, 5, 4 * i, 1000 + i);
	r->l.cbuf[5] = r->cbuf[5];
	r->l.cbuf_size[5] = 64;
	rig_cb_u64(r, 0, 0, DATA);
	rig_cb_u32(r, 0, 8, 0xabcd);
	rig_param64(r, R(2), 0);
	isa_s2r(p, R(0), SR_TID_X);
	isa_lea(p, R(2), R(2), R(0), 8);
	isa_shli(p, R(1), R(0), 2);
	isa_ldc_r(p, R(4), 5, R(1), 0);       /* bank 5, per-thread offset */
	isa_ldc(p, R(5), 0, 8);
	isa_st64(p, R(2), 0, R(4));
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 16, 1, 1), ISA_OK);
	for (unsigned t = 0; t < 16; t++) {
		assert_int_equal(rig_u32(r, DATA + 8 * t), 1000 + t);
		assert_int_equal(rig_u32(r, DATA + 8 * t + 4), 0xabcd);
	}
}

/* Out of bounds, unbound and misaligned constant loads stop with ISA_BAD_ACCESS. */
static void test_ldc_bad_access(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;

	r->l.cbuf[5] = r->cbuf[5];
	r->l.cbuf_size[5] = 64;

	/* thread 3 reads offset 60 + 4 = 64: one word past the end */
	isa_s2r(p, R(0), SR_TID_X);
	isa_shli(p, R(1), R(0), 2);
	isa_ldc_r(p, R(4), 5, R(1), 52);
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 8, 1, 1), ISA_BAD_ACCESS);
	assert_int_equal(r->res.fault_va, 5ull << 32 | 64);
	assert_false(r->res.fault_write);
	assert_int_equal(r->res.pc, 2);

	isa_prog_init(p, r->code, RIG_CODE_CAP);
	isa_ldc(p, R(4), 7, 0);                /* bank 7 is not bound */
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_BAD_ACCESS);
	assert_int_equal(r->res.fault_va, 7ull << 32);

	isa_prog_init(p, r->code, RIG_CODE_CAP);
	isa_ldc(p, R(4), 0, 6);                /* misaligned */
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_BAD_ACCESS);
	assert_int_equal(r->res.fault_va, 6);

	isa_prog_init(p, r->code, RIG_CODE_CAP);
	isa_ldc(p, R(4), 0, RIG_CBUF_SIZE - 4); /* the last word is fine */
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_OK);
}

/* ======================================================================
 * Global memory
 * ====================================================================== */

/* 32- and 64-bit loads and stores, with addresses that carry into the high word. */
static void test_global_ld_st(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;
	const uint64_t src = 0x1ffffffc0ull;   /* 64 words: crosses 0x200000000 */
	const uint64_t dst = DATA + 0x8000;

	assert_true(src >= DATA && src + 0x200 < DATA + RIG_DATA_SIZE);
	for (unsigned i = 0; i < 64; i++) {
		rig_put_u32(r, src + 4 * i, 0x1000 + i);
		rig_put_u32(r, src + 0x100 + 4 * i, 0xa0000000u + i);
	}
	rig_cb_u64(r, 0, 0, src);
	rig_cb_u64(r, 0, 8, dst);
	isa_s2r(p, R(0), SR_TID_X);
	rig_param64(r, R(2), 0);
	rig_param64(r, R(4), 8);
	isa_lea(p, R(2), R(2), R(0), 4);
	isa_lea(p, R(4), R(4), R(0), 16);
	isa_ld(p, R(6), R(2), 0);
	isa_ld(p, R(7), R(2), 0x100);
	isa_ld(p, R(8), R(2), -4);            /* negative offset: the previous word */
	isa_st64(p, R(4), 0, R(6));
	isa_st(p, R(4), 8, R(8));
	isa_ld64(p, R(10), R(4), 0);
	isa_add64i(p, R(10), R(10), 1);
	isa_st64(p, R(4), 0x1000, R(10));
	isa_exit(p);
	rig_put_u32(r, src - 4, 0x5eed);
	assert_int_equal(rig_run(r, 1, 1, 1, 64, 1, 1), ISA_OK);
	for (unsigned i = 0; i < 64; i++) {
		const uint64_t *pair_out = rig_data(r, dst + 16 * i);
		const uint64_t *plus_one = rig_data(r, dst + 0x1000 + 16 * i);

		assert_int_equal(*pair_out, P(0x1000 + i, 0xa0000000u + i));
		assert_int_equal(rig_u32(r, dst + 16 * i + 8), i ? 0x1000 + i - 1 : 0x5eed);
		assert_int_equal(*plus_one, P(0x1000 + i, 0xa0000000u + i) + 1);
	}
}

/* Every thread of two blocks adds its id + 1 to one counter: old values form the prefix sums. */
static void test_atom_add(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;
	const unsigned n = 256;
	uint32_t total = 0;
	uint32_t *old_by_addend = calloc(n + 1, sizeof(uint32_t));

	assert_non_null(old_by_addend);
	rig_cb_u64(r, 0, 0, DATA);
	rig_param64(r, R(2), 0);
	rig_global_x(r, R(0), R(1));
	isa_addi(p, R(6), R(0), 1);
	isa_atom_add(p, R(7), R(2), 0, R(6));
	isa_lea(p, R(4), R(2), R(0), 8);
	isa_st64(p, R(4), 8, R(6));           /* {addend, old} per thread */
	isa_exit(p);
	assert_int_equal(rig_run(r, 2, 1, 1, 128, 1, 1), ISA_OK);
	for (unsigned i = 0; i < n; i++) {
		uint32_t addend = rig_u32(r, DATA + 8 + 8 * i);

		assert_int_equal(addend, i + 1);
		old_by_addend[addend] = rig_u32(r, DATA + 12 + 8 * i);
		total += i + 1;
	}
	assert_int_equal(rig_u32(r, DATA), total);
	/* the interpreter applies them in thread order, so each old value is the sum before it */
	for (unsigned a = 1; a <= n; a++)
		assert_int_equal(old_by_addend[a], (a - 1) * a / 2);
	free(old_by_addend);
}

/* One translation per page per step, and a new one at every step. */
static void test_resolve_per_step(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;
	const uint64_t base = DATA + 0x10000;   /* page aligned */

	rig_cb_u64(r, 0, 0, base);
	isa_s2r(p, R(0), SR_TID_X);
	rig_param64(r, R(2), 0);
	isa_lea(p, R(4), R(2), R(0), 128);      /* 64 threads * 128 bytes: two pages */
	isa_ld(p, R(6), R(2), 0);               /* one page for the whole block */
	isa_ld(p, R(7), R(2), 0);               /* same page, next step: resolved again */
	isa_st(p, R(4), 0, R(6));               /* two pages */
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 64, 1, 1), ISA_OK);
	assert_int_equal(r->data_resolves, 4);
	assert_int_equal(r->code_resolves, isa_prog_size(p) / ISA_INSN_BYTES);
}

/* Code is fetched once per instruction per launch, however often it runs. */
static void test_code_fetched_once(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;
	isa_label loop;

	isa_movi(p, R(1), 10);
	loop = isa_here(p);
	isa_subi(p, R(1), R(1), 1);
	isa_brnz(p, R(1), loop);
	isa_exit(p);
	assert_int_equal(rig_run(r, 5, 1, 1, 32, 1, 1), ISA_OK);
	assert_int_equal(r->code_resolves, 4);
	assert_int_equal(r->res.thread_insns, 5ull * 32 * (1 + 10 * 2 + 1));
}

/* ======================================================================
 * Shared memory and barriers
 * ====================================================================== */

/* Reverse each block's slice through shared memory; shared memory starts zeroed per block. */
static void test_shared_reverse(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;
	const unsigned bs = 64, blocks = 3;

	for (unsigned i = 0; i < bs * blocks; i++)
		rig_put_u32(r, DATA + 4 * i, 7 * i + 1);
	r->l.shared_size = bs * 4;
	rig_cb_u64(r, 0, 0, DATA);
	rig_param64(r, R(2), 0);
	rig_global_x(r, R(0), R(1));
	isa_s2r(p, R(1), SR_TID_X);
	isa_lea(p, R(2), R(2), R(0), 4);
	isa_shli(p, R(9), R(1), 2);
	isa_lds(p, R(8), R(9), 0);
	isa_st(p, R(2), 0x2000, R(8));
	isa_ld(p, R(4), R(2), 0);
	isa_sts(p, R(9), 0, R(4));
	isa_bar(p);
	isa_subi(p, R(5), R(1), bs - 1);
	isa_sub(p, R(5), RZ, R(5));
	isa_shli(p, R(5), R(5), 2);
	isa_lds(p, R(6), R(5), 0);
	isa_st(p, R(2), 0x1000, R(6));
	isa_exit(p);
	assert_int_equal(rig_run(r, blocks, 1, 1, bs, 1, 1), ISA_OK);
	for (unsigned b = 0; b < blocks; b++) {
		for (unsigned t = 0; t < bs; t++) {
			unsigned i = b * bs + t, mirror = b * bs + (bs - 1 - t);

			assert_int_equal(rig_u32(r, DATA + 0x1000 + 4 * i), 7 * mirror + 1);
			assert_int_equal(rig_u32(r, DATA + 0x2000 + 4 * i), 0);
		}
	}
}

static void test_shared_bad_access(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;

	r->l.shared_size = 256;
	isa_s2r(p, R(0), SR_TID_X);
	isa_shli(p, R(1), R(0), 2);
	isa_lds(p, R(2), R(1), 240);          /* thread 4 reads 256: past the end */
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 8, 1, 1), ISA_BAD_ACCESS);
	assert_int_equal(r->res.fault_va, 256);
	assert_false(r->res.fault_write);

	isa_prog_init(p, r->code, RIG_CODE_CAP);
	isa_movi(p, R(1), 2);
	isa_sts(p, R(1), 0, R(1));            /* misaligned store */
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_BAD_ACCESS);
	assert_int_equal(r->res.fault_va, 2);
	assert_true(r->res.fault_write);

	isa_prog_init(p, r->code, RIG_CODE_CAP);
	isa_lds(p, R(2), RZ, -4);             /* wraps to 0xfffffffc */
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_BAD_ACCESS);
	assert_int_equal(r->res.fault_va, 0xfffffffcu);

	r->l.shared_size = 10;                 /* the word at 8 would end past 10 */
	isa_prog_init(p, r->code, RIG_CODE_CAP);
	isa_lds(p, R(2), RZ, 4);
	isa_lds(p, R(2), RZ, 8);
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_BAD_ACCESS);
	assert_int_equal(r->res.fault_va, 8);
	assert_int_equal(r->res.pc, 1);

	r->l.shared_size = 0;
	isa_prog_init(p, r->code, RIG_CODE_CAP);
	isa_lds(p, R(2), RZ, 0);
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_BAD_ACCESS);
}

/* Threads that exited before a barrier do not hold it up. */
static void test_barrier_after_exit(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;
	const unsigned live = 20;
	isa_fixup skip;

	r->l.shared_size = 128;
	rig_cb_u64(r, 0, 0, DATA);
	isa_s2r(p, R(0), SR_TID_X);
	isa_iseti(p, ISA_CMP_LTU, R(1), R(0), live);
	skip = isa_brnz(p, R(1), ISA_FORWARD);
	isa_exit(p);
	isa_patch_here(p, skip);
	rig_param64(r, R(2), 0);
	isa_shli(p, R(4), R(0), 2);
	isa_muli(p, R(5), R(0), 3);
	isa_sts(p, R(4), 0, R(5));
	isa_bar(p);
	isa_addi(p, R(6), R(0), 1);           /* neighbour (tid + 1) % live */
	isa_iseti(p, ISA_CMP_EQ, R(7), R(6), live);
	isa_sel(p, R(6), R(7), RZ, R(6));
	isa_shli(p, R(6), R(6), 2);
	isa_lds(p, R(8), R(6), 0);
	isa_lea(p, R(2), R(2), R(0), 4);
	isa_st(p, R(2), 0, R(8));
	isa_exit(p);
	for (unsigned t = 0; t < 32; t++)
		rig_put_u32(r, DATA + 4 * t, 0xeeeeeeeeu);
	assert_int_equal(rig_run(r, 1, 1, 1, 32, 1, 1), ISA_OK);
	for (unsigned t = 0; t < 32; t++)
		assert_int_equal(rig_u32(r, DATA + 4 * t),
				 t < live ? 3 * ((t + 1) % live) : 0xeeeeeeeeu);
}

/*
 * Odd threads reach a barrier inside the if, even threads another one in the
 * else: like the hardware barrier, arrivals count wherever they are, so both
 * sides are released together and the even side sees the odd side's stores.
 */
static void test_barrier_in_both_branches(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;
	isa_fixup to_even, to_join;

	r->l.shared_size = 256;
	rig_cb_u64(r, 0, 0, DATA);
	isa_s2r(p, R(0), SR_TID_X);
	rig_param64(r, R(2), 0);
	isa_lea(p, R(2), R(2), R(0), 4);
	isa_shli(p, R(4), R(0), 2);
	isa_andi(p, R(1), R(0), 1);
	to_even = isa_brz(p, R(1), ISA_FORWARD);
	isa_addi(p, R(5), R(0), 1000);          /* odd: publish, then wait */
	isa_sts(p, R(4), 0, R(5));
	isa_bar(p);
	isa_mov(p, R(6), R(5));
	to_join = isa_bra(p, ISA_FORWARD);
	isa_patch_here(p, to_even);
	isa_bar(p);                             /* even: wait, then read the odd neighbour */
	isa_lds(p, R(6), R(4), 4);
	isa_patch_here(p, to_join);
	isa_st(p, R(2), 0, R(6));
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 64, 1, 1), ISA_OK);
	for (unsigned t = 0; t < 64; t++)
		assert_int_equal(rig_u32(r, DATA + 4 * t), (t | 1) + 1000);
}

/* ======================================================================
 * Divergence and reconvergence
 * ====================================================================== */

static void test_if_else_reconverges(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;
	const unsigned n = 50;
	isa_fixup to_else, to_join;

	rig_cb_u64(r, 0, 0, DATA);
	rig_cb_u64(r, 0, 8, DATA + 0x3000);        /* ticket counter */
	isa_s2r(p, R(0), SR_TID_X);                /* 0 */
	rig_param64(r, R(2), 0);                   /* 1, 2 */
	rig_param64(r, R(8), 8);                   /* 3, 4 */
	isa_lea(p, R(2), R(2), R(0), 4);           /* 5 */
	isa_andi(p, R(1), R(0), 1);                /* 6 */
	to_else = isa_brz(p, R(1), ISA_FORWARD);   /* 7 */
	isa_muli(p, R(4), R(0), 3);                /* 8: odd */
	to_join = isa_bra(p, ISA_FORWARD);         /* 9 */
	isa_patch_here(p, to_else);
	isa_addi(p, R(4), R(0), 100);              /* 10: even */
	isa_patch_here(p, to_join);
	isa_st(p, R(2), 0, R(4));                  /* 11: everyone */
	isa_movi(p, R(5), 1);                      /* 12 */
	isa_atom_add(p, R(6), R(8), 0, R(5));      /* 13 */
	isa_st(p, R(2), 0x1000, R(6));             /* 14 */
	isa_exit(p);                               /* 15 */
	assert_int_equal(rig_run(r, 1, 1, 1, n, 1, 1), ISA_OK);
	for (unsigned t = 0; t < n; t++) {
		assert_int_equal(rig_u32(r, DATA + 4 * t), (t & 1) ? 3 * t : t + 100);
		/* one step ran the atomic for all threads, in thread order: they had reconverged */
		assert_int_equal(rig_u32(r, DATA + 0x1000 + 4 * t), t);
	}
	/* 8 common + odd 2 (8, 9) or even 1 (10) + 5 common after the join */
	assert_int_equal(r->res.thread_insns, n * 13 + (n / 2) * 2 + (n / 2) * 1);
}

/* A loop whose trip count is the thread id, with a branch inside it. */
static void test_loop_trip_count_per_thread(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;
	const unsigned n = 40;
	isa_label top;
	isa_fixup done, to_odd, to_next;

	rig_cb_u64(r, 0, 0, DATA);
	isa_s2r(p, R(0), SR_TID_X);
	rig_param64(r, R(2), 0);
	isa_lea(p, R(2), R(2), R(0), 4);
	isa_movi(p, R(4), 0);                      /* i */
	isa_movi(p, R(5), 0);                      /* sum */
	top = isa_here(p);
	isa_iset(p, ISA_CMP_LTU, R(6), R(4), R(0));
	done = isa_brz(p, R(6), ISA_FORWARD);
	isa_andi(p, R(7), R(4), 1);
	to_odd = isa_brnz(p, R(7), ISA_FORWARD);
	isa_addi(p, R(5), R(5), 1);                /* even i: + 1 */
	to_next = isa_bra(p, ISA_FORWARD);
	isa_patch_here(p, to_odd);
	isa_shli(p, R(8), R(4), 1);                /* odd i: + 2i */
	isa_add(p, R(5), R(5), R(8));
	isa_patch_here(p, to_next);
	isa_addi(p, R(4), R(4), 1);
	isa_bra(p, top);
	isa_patch_here(p, done);
	isa_st(p, R(2), 0, R(5));
	rig_param64(r, R(10), 8);
	isa_movi(p, R(9), 1);
	isa_atom_add(p, R(9), R(10), 0, R(9));
	isa_st(p, R(2), 0x1000, R(9));
	isa_exit(p);
	rig_cb_u64(r, 0, 8, DATA + 0x3000);
	assert_int_equal(rig_run(r, 1, 1, 1, n, 1, 1), ISA_OK);
	for (unsigned t = 0; t < n; t++) {
		uint32_t want = 0;

		for (unsigned i = 0; i < t; i++)
			want += (i & 1) ? 2 * i : 1;
		assert_int_equal(rig_u32(r, DATA + 4 * t), want);
		/* threads that left the loop early waited for the rest at the exit */
		assert_int_equal(rig_u32(r, DATA + 0x1000 + 4 * t), t);
	}
}

/* Threads that exit inside a branch stop; the others carry on and their writes land. */
static void test_exit_inside_branch(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;
	isa_fixup stay;

	rig_cb_u64(r, 0, 0, DATA);
	isa_s2r(p, R(0), SR_TID_X);
	rig_param64(r, R(2), 0);
	isa_lea(p, R(2), R(2), R(0), 4);
	isa_andi(p, R(1), R(0), 3);
	stay = isa_brnz(p, R(1), ISA_FORWARD);
	isa_movi(p, R(4), 0xdead);
	isa_st(p, R(2), 0, R(4));
	isa_exit(p);
	isa_patch_here(p, stay);
	isa_addi(p, R(4), R(0), 1);
	isa_st(p, R(2), 0, R(4));
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 32, 1, 1), ISA_OK);
	for (unsigned t = 0; t < 32; t++)
		assert_int_equal(rig_u32(r, DATA + 4 * t), (t & 3) ? t + 1 : 0xdead);
}

/* Registers start at zero in every block, whatever the previous block left. */
static void test_registers_zero_per_block(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;

	rig_cb_u64(r, 0, 0, DATA);
	rig_param64(r, R(2), 0);
	rig_global_x(r, R(0), R(1));
	isa_lea(p, R(2), R(2), R(0), 8);
	isa_st(p, R(2), 0, R(20));
	isa_st(p, R(2), 4, R(63));
	isa_movi(p, R(20), 77);                    /* left behind for the next block */
	isa_movi(p, R(63), 78);
	isa_exit(p);
	for (unsigned i = 0; i < 64; i++)
		rig_put_u32(r, DATA + 4 * i, 0x11111111u);
	assert_int_equal(rig_run(r, 4, 1, 1, 8, 1, 1), ISA_OK);
	for (unsigned i = 0; i < 32; i++) {
		assert_int_equal(rig_u32(r, DATA + 8 * i), 0);
		assert_int_equal(rig_u32(r, DATA + 8 * i + 4), 0);
	}
}

/* ======================================================================
 * Whole kernels checked against the host
 * ====================================================================== */

/* c[i] = a[i] + b[i] for i < n; params: a, b, c at c0[0, 8, 16], n at c0[24] */
static void emit_vadd(struct isa_prog *p)
{
	isa_fixup out;

	isa_s2r(p, R(0), SR_CTAID_X);
	isa_s2r(p, R(1), SR_NTID_X);
	isa_s2r(p, R(2), SR_TID_X);
	isa_mad(p, R(0), R(0), R(1), R(2));        /* i */
	isa_ldc(p, R(1), 0, 24);
	isa_iset(p, ISA_CMP_GEU, R(1), R(0), R(1));
	out = isa_brnz(p, R(1), ISA_FORWARD);
	isa_ldc(p, R(2), 0, 0);
	isa_ldc(p, R(3), 0, 4);
	isa_ldc(p, R(4), 0, 8);
	isa_ldc(p, R(5), 0, 12);
	isa_ldc(p, R(6), 0, 16);
	isa_ldc(p, R(7), 0, 20);
	isa_lea(p, R(2), R(2), R(0), 4);
	isa_lea(p, R(4), R(4), R(0), 4);
	isa_lea(p, R(6), R(6), R(0), 4);
	isa_ld(p, R(8), R(2), 0);
	isa_ld(p, R(9), R(4), 0);
	isa_fadd(p, R(8), R(8), R(9));
	isa_st(p, R(6), 0, R(8));
	isa_patch_here(p, out);
	isa_exit(p);
}

static void test_vector_add(void **state)
{
	struct rig *r = *state;
	const unsigned n = 1000, cap = 1024;
	const uint64_t a = DATA, b = DATA + 0x1000, c = DATA + 0x2000;

	for (unsigned i = 0; i < cap; i++) {
		rig_put_f32(r, a + 4 * i, (float)i * 0.5f);
		rig_put_f32(r, b + 4 * i, 1000.0f - (float)i * 0.25f);
		rig_put_u32(r, c + 4 * i, 0xcccccccc);
	}
	rig_cb_u64(r, 0, 0, a);
	rig_cb_u64(r, 0, 8, b);
	rig_cb_u64(r, 0, 16, c);
	rig_cb_u32(r, 0, 24, n);
	emit_vadd(&r->p);
	assert_true(isa_prog_ok(&r->p));
	assert_int_equal(rig_run(r, 8, 1, 1, 128, 1, 1), ISA_OK);
	for (unsigned i = 0; i < cap; i++) {
		if (i < n)
			assert_true(rig_f32(r, c + 4 * i) ==
				    (float)i * 0.5f + (1000.0f - (float)i * 0.25f));
		else
			assert_int_equal(rig_u32(r, c + 4 * i), 0xcccccccc);
	}
	/* 8 instructions (7 + EXIT) for every thread, 13 more for the n threads in range */
	assert_int_equal(r->res.thread_insns, 8 * 128 * 8ull + n * 13ull);
}

/*
 * C[M x N] = A[M x K] * B[K x N], one thread per element of C, 2-D grid.
 * params: A, B, C at c0[0, 8, 16]; M, N, K at c0[24, 28, 32].
 */
static void emit_mmul(struct isa_prog *p)
{
	isa_fixup out, empty;
	isa_label loop;

	isa_s2r(p, R(0), SR_CTAID_X);
	isa_s2r(p, R(1), SR_NTID_X);
	isa_s2r(p, R(2), SR_TID_X);
	isa_mad(p, R(0), R(0), R(1), R(2));        /* col */
	isa_s2r(p, R(1), SR_CTAID_Y);
	isa_s2r(p, R(2), SR_NTID_Y);
	isa_s2r(p, R(3), SR_TID_Y);
	isa_mad(p, R(1), R(1), R(2), R(3));        /* row */
	isa_ldc(p, R(8), 0, 24);                   /* M */
	isa_ldc(p, R(9), 0, 28);                   /* N */
	isa_ldc(p, R(10), 0, 32);                  /* K */
	isa_iset(p, ISA_CMP_GEU, R(11), R(1), R(8));
	isa_iset(p, ISA_CMP_GEU, R(12), R(0), R(9));
	isa_or(p, R(11), R(11), R(12));
	out = isa_brnz(p, R(11), ISA_FORWARD);
	isa_ldc(p, R(2), 0, 0);
	isa_ldc(p, R(3), 0, 4);
	isa_ldc(p, R(4), 0, 8);
	isa_ldc(p, R(5), 0, 12);
	isa_mul(p, R(12), R(1), R(10));
	isa_lea(p, R(2), R(2), R(12), 4);          /* &A[row][0] */
	isa_lea(p, R(4), R(4), R(0), 4);           /* &B[0][col] */
	isa_shli(p, R(13), R(9), 2);               /* row pitch of B */
	isa_movf(p, R(14), 0.0f);
	isa_movi(p, R(15), 0);
	empty = isa_brz(p, R(10), ISA_FORWARD);
	loop = isa_here(p);
	isa_ld(p, R(16), R(2), 0);
	isa_ld(p, R(17), R(4), 0);
	isa_ffma(p, R(14), R(16), R(17), R(14));
	isa_add64i(p, R(2), R(2), 4);
	isa_add64u(p, R(4), R(4), R(13));
	isa_addi(p, R(15), R(15), 1);
	isa_iset(p, ISA_CMP_LTU, R(18), R(15), R(10));
	isa_brnz(p, R(18), loop);
	isa_patch_here(p, empty);
	isa_ldc(p, R(6), 0, 16);
	isa_ldc(p, R(7), 0, 20);
	isa_mad(p, R(12), R(1), R(9), R(0));
	isa_lea(p, R(6), R(6), R(12), 4);
	isa_st(p, R(6), 0, R(14));
	isa_patch_here(p, out);
	isa_exit(p);
}

static void test_matrix_multiply(void **state)
{
	struct rig *r = *state;
	const unsigned M = 24, N = 36, K = 40;
	const uint64_t a = DATA, b = DATA + 0x10000, c = DATA + 0x20000;
	uint32_t seed = 12345;

	for (unsigned i = 0; i < M * K; i++)
		rig_put_f32(r, a + 4 * i, (float)(int32_t)(xorshift(&seed) % 2001) / 37.0f - 27.0f);
	for (unsigned i = 0; i < K * N; i++)
		rig_put_f32(r, b + 4 * i, (float)(int32_t)(xorshift(&seed) % 1001) / 13.0f - 38.0f);
	rig_cb_u64(r, 0, 0, a);
	rig_cb_u64(r, 0, 8, b);
	rig_cb_u64(r, 0, 16, c);
	rig_cb_u32(r, 0, 24, M);
	rig_cb_u32(r, 0, 28, N);
	rig_cb_u32(r, 0, 32, K);
	emit_mmul(&r->p);
	assert_true(isa_prog_ok(&r->p));
	assert_int_equal(rig_run(r, (N + 7) / 8, (M + 7) / 8, 1, 8, 8, 1), ISA_OK);
	for (unsigned i = 0; i < M; i++) {
		for (unsigned j = 0; j < N; j++) {
			float acc = 0.0f;

			for (unsigned k = 0; k < K; k++)
				acc = fmaf(rig_f32(r, a + 4 * (i * K + k)),
					   rig_f32(r, b + 4 * (k * N + j)), acc);
			assert_true(rig_f32(r, c + 4 * (i * N + j)) == acc);
		}
	}
}

/* ======================================================================
 * Faults and errors
 * ====================================================================== */

/* Thread 5 of 8 steps off the end of the data region. */
static void test_fault_load(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;
	const uint64_t end = DATA + RIG_DATA_SIZE;

	rig_cb_u64(r, 0, 0, end - 20);
	isa_s2r(p, R(0), SR_TID_X);
	rig_param64(r, R(2), 0);
	isa_lea(p, R(2), R(2), R(0), 4);
	isa_ld(p, R(4), R(2), 0);
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 8, 1, 1), ISA_FAULT);
	assert_int_equal(r->res.fault_va, end);
	assert_false(r->res.fault_write);
	assert_int_equal(r->res.pc, 4);
	assert_int_equal(r->res.thread_insns, 4 * 8);
	assert_int_equal(rig_run(r, 1, 1, 1, 5, 1, 1), ISA_OK);
}

static void test_fault_store(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;

	rig_cb_u64(r, 0, 0, RIG_CODE_VA);        /* code is mapped read-only */
	rig_param64(r, R(2), 0);
	isa_st64(p, R(2), 0x100, R(4));
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_FAULT);
	assert_int_equal(r->res.fault_va, RIG_CODE_VA + 0x100);
	assert_true(r->res.fault_write);

	isa_prog_init(p, r->code, RIG_CODE_CAP);
	rig_cb_u64(r, 0, 0, 0xffffffffffff0000ull);
	rig_param64(r, R(2), 0);
	isa_atom_add(p, R(4), R(2), 8, R(5));
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_FAULT);
	assert_int_equal(r->res.fault_va, 0xffffffffffff0008ull);
	assert_true(r->res.fault_write);
}

/* An unmapped entry point, and a jump past the end of the mapped code. */
static void test_fault_fetch(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;

	isa_exit(p);
	r->l.code_va = 0x8000;
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_FAULT);
	assert_int_equal(r->res.fault_va, 0x8000);
	assert_false(r->res.fault_write);
	assert_int_equal(r->res.pc, 0);

	r->l.code_va = RIG_CODE_VA;
	isa_prog_init(p, r->code, RIG_CODE_CAP);
	isa_bra(p, RIG_CODE_SIZE / ISA_INSN_BYTES);
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_FAULT);
	assert_int_equal(r->res.fault_va, RIG_CODE_VA + RIG_CODE_SIZE);
	assert_int_equal(r->res.pc, RIG_CODE_SIZE / ISA_INSN_BYTES);
}

static void test_misaligned(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;

	rig_cb_u64(r, 0, 0, DATA);
	rig_param64(r, R(2), 0);
	isa_ld(p, R(4), R(2), 2);
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_BAD_ACCESS);
	assert_int_equal(r->res.fault_va, DATA + 2);
	assert_false(r->res.fault_write);
	assert_int_equal(r->res.pc, 2);

	isa_prog_init(p, r->code, RIG_CODE_CAP);
	rig_param64(r, R(2), 0);
	isa_ld64(p, R(4), R(2), 12);             /* 4-aligned is not enough for 64 bits */
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_BAD_ACCESS);
	assert_int_equal(r->res.fault_va, DATA + 12);

	isa_prog_init(p, r->code, RIG_CODE_CAP);
	rig_param64(r, R(2), 0);
	isa_st(p, R(2), 1, R(4));
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_BAD_ACCESS);
	assert_int_equal(r->res.fault_va, DATA + 1);
	assert_true(r->res.fault_write);

	isa_prog_init(p, r->code, RIG_CODE_CAP);
	isa_exit(p);
	r->l.code_va = RIG_CODE_VA + 4;
	r->data_resolves = r->code_resolves = 0;
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_BAD_ACCESS);
	assert_int_equal(r->res.fault_va, RIG_CODE_VA + 4);
	assert_int_equal(r->data_resolves + r->code_resolves, 0);
}

/* Each word is placed after a NOP, so the stop must name pc 1. */
static void test_bad_instructions(void **state)
{
	const struct {
		const char *what;
		uint64_t word;
	} bad[] = {
		{ "all-zero word", 0 },
		{ "unknown opcode 0x7f", 0x7f },
		{ "unknown opcode 0x07", 0x07 },
		{ "rd out of range", isa_encode(ISA_OP_ADD, 64, 1, 2, 0) },
		{ "ra out of range", isa_encode(ISA_OP_ADD, 1, 200, 2, 0) },
		{ "rb out of range", isa_encode(ISA_OP_ADD, 1, 2, 64, 0) },
		{ "rc out of range", isa_encode(ISA_OP_MAD, 1, 2, 3, 64) },
		{ "rc field has high bits", isa_encode(ISA_OP_FFMA, 1, 2, 3, 0x104) },
		{ "immediate on MAD", isa_encode(ISA_OP_MAD | ISA_BIMM, 1, 2, 0, 3) },
		{ "odd pair destination", isa_encode(ISA_OP_LD64, 5, 2, 0, 0) },
		{ "odd pair address", isa_encode(ISA_OP_LD, 4, 3, 0, 0) },
		{ "immediate flag on a load", isa_encode(ISA_OP_LD | ISA_BIMM, 4, 2, 0, 0) },
		{ "stray rb with immediate B", isa_encode(ISA_OP_ADD | ISA_BIMM, 1, 2, 3, 5) },
		{ "stray imm with register B", isa_encode(ISA_OP_ADD, 1, 2, 3, 5) },
		{ "EXIT with an operand", isa_encode(ISA_OP_EXIT, 0, 0, 0, 1) },
		{ "unpatched forward branch", isa_encode(ISA_OP_BRA, 0, 0, 0, ISA_FORWARD) },
		{ "branch past the code limit", isa_encode(ISA_OP_BRZ, 0, 1, 0, ISA_MAX_INSNS) },
		{ "constant bank 16", isa_encode(ISA_OP_LDC, 1, ISA_REG_ZERO, 16, 0) },
		{ "special register 16", isa_encode(ISA_OP_S2R, 1, 0, 0, ISA_SR_COUNT) },
		{ "store with rd set", isa_encode(ISA_OP_ST, 1, 2, 3, 0) },
	};
	struct rig *r = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct isa_prog *p = &r->p;

		isa_prog_init(p, r->code, RIG_CODE_CAP);
		isa_nop(p);
		isa_emit(p, isa_word_op(bad[i].word) | (isa_word_bimm(bad[i].word) ? ISA_BIMM : 0),
			 isa_word_rd(bad[i].word), isa_word_ra(bad[i].word),
			 isa_word_rb(bad[i].word), isa_word_imm(bad[i].word));
		isa_exit(p);
		if (rig_run(r, 1, 1, 1, 4, 1, 1) != ISA_BAD_INSN || r->res.pc != 1) {
			print_error("%s: status %s pc %u\n", bad[i].what,
				    isa_status_name(r->res.status), r->res.pc);
			fail();
		}
		assert_int_equal(r->res.thread_insns, 4);
	}
}

/* Running into zeroed memory past the last instruction stops at once. */
static void test_fall_off_the_end(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;

	memset(r->code_host, 0, RIG_CODE_SIZE);
	isa_movi(p, R(1), 1);
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_BAD_INSN);
	assert_int_equal(r->res.pc, 1);
}

static void test_bad_launch(void **state)
{
	struct rig *r = *state;
	struct isa_result res;

	isa_exit(&r->p);
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_OK);
	assert_int_equal(rig_run(r, 0, 1, 1, 1, 1, 1), ISA_BAD_LAUNCH);
	assert_int_equal(rig_run(r, 1, 0, 1, 1, 1, 1), ISA_BAD_LAUNCH);
	assert_int_equal(rig_run(r, 1, 1, 0, 1, 1, 1), ISA_BAD_LAUNCH);
	assert_int_equal(rig_run(r, 1, 1, 1, 0, 1, 1), ISA_BAD_LAUNCH);
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 0), ISA_BAD_LAUNCH);
	assert_int_equal(rig_run(r, 1, 1, 1, 1025, 1, 1), ISA_BAD_LAUNCH);
	assert_int_equal(rig_run(r, 1, 1, 1, 32, 32, 2), ISA_BAD_LAUNCH);
	assert_int_equal(rig_run(r, 1, 1, 1, 65536, 65536, 1), ISA_BAD_LAUNCH);
	assert_int_equal(rig_run(r, 1, 65536, 1, 1, 1, 1), ISA_BAD_LAUNCH);
	assert_int_equal(rig_run(r, 1, 1, 65536, 1, 1, 1), ISA_BAD_LAUNCH);
	assert_int_equal(rig_run(r, 0x80000000u, 1, 1, 1, 1, 1), ISA_BAD_LAUNCH);
	assert_int_equal(r->code_resolves, 1);
	assert_int_equal(rig_run(r, 1, 1, 1, 32, 32, 1), ISA_OK);

	r->l.shared_size = NV90C0_MAX_SHARED + 4;
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_BAD_LAUNCH);
	r->l.shared_size = NV90C0_MAX_SHARED;
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_OK);

	r->l.cbuf_size[3] = 16;                  /* size without a buffer */
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_BAD_LAUNCH);
	r->l.cbuf_size[3] = 0;

	r->l.mem.resolve = NULL;
	assert_int_equal(rig_run(r, 1, 1, 1, 1, 1, 1), ISA_BAD_LAUNCH);

	assert_int_equal(isa_execute(NULL, &res), -1);
	assert_int_equal(res.status, ISA_BAD_LAUNCH);
	assert_int_equal(isa_execute(&r->l, NULL), -1);
}

/* ======================================================================
 * Abort
 * ====================================================================== */

static void test_abort_before_launch(void **state)
{
	struct rig *r = *state;

	isa_exit(&r->p);
	atomic_store(&r->abort, 1);
	assert_int_equal(rig_run(r, 4, 1, 1, 32, 1, 1), ISA_ABORTED);
	assert_int_equal(r->res.thread_insns, 0);
}

/* The clock read raises the abort flag; the endless loop after it must notice. */
static void test_abort_stops_endless_loop(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;
	isa_label spin;

	r->abort_on_clock = 1;
	isa_s2r(p, R(0), SR_CLOCK_LO);
	spin = isa_here(p);
	isa_addi(p, R(1), R(1), 1);
	isa_bra(p, spin);
	assert_int_equal(rig_run(r, 1, 1, 1, 64, 1, 1), ISA_ABORTED);
	assert_int_equal(r->res.pc, 2);
}

/* Only the odd threads spin, so the loop runs on the divergent path. */
static void test_abort_stops_divergent_loop(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;
	isa_fixup leave;
	isa_label spin;

	r->abort_on_clock = 1;
	isa_s2r(p, R(0), SR_TID_X);
	isa_andi(p, R(0), R(0), 1);
	leave = isa_brz(p, R(0), ISA_FORWARD);
	isa_s2r(p, R(1), SR_CLOCK_LO);
	spin = isa_here(p);
	isa_bra(p, spin);
	isa_patch_here(p, leave);
	isa_exit(p);
	assert_int_equal(rig_run(r, 1, 1, 1, 64, 1, 1), ISA_ABORTED);
}

static void *raise_abort_later(void *arg)
{
	struct rig *r = arg;
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	atomic_store(&r->abort, 1);
	return NULL;
}

/* Another thread raises the flag while the kernel spins (the channel-kill path). */
static void test_abort_from_another_thread(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;
	pthread_t killer;
	isa_label spin;

	spin = isa_here(p);
	isa_bra(p, spin);
	assert_int_equal(pthread_create(&killer, NULL, raise_abort_later, r), 0);
	assert_int_equal(rig_run(r, 1000, 1, 1, 256, 1, 1), ISA_ABORTED);
	pthread_join(killer, NULL);
	assert_true(r->res.thread_insns > 0);
}

/* ======================================================================
 * Instruction counting
 * ====================================================================== */

static void test_thread_insns_exact(void **state)
{
	struct rig *r = *state;
	struct isa_prog *p = &r->p;

	isa_s2r(p, R(0), SR_TID_X);
	isa_addi(p, R(0), R(0), 1);
	isa_nop(p);
	isa_bar(p);
	isa_exit(p);
	assert_int_equal(rig_run(r, 3, 1, 1, 7, 1, 1), ISA_OK);
	assert_int_equal(r->res.thread_insns, 3 * 7 * 5);
	assert_int_equal(rig_run(r, 2, 2, 1, 3, 2, 1), ISA_OK);
	assert_int_equal(r->res.thread_insns, 4 * 6 * 5);
}

/* ======================================================================
 * Assembler
 * ====================================================================== */

static void test_encoding_layout(void **state)
{
	uint64_t buf[4];
	struct isa_prog p;
	uint8_t bytes[8];

	(void)state;
	isa_prog_init(&p, buf, 4);
	isa_addi(&p, R(3), R(4), 0x12345678u);
	isa_st64(&p, R(6), -8, R(10));
	memcpy(bytes, &buf[0], 8);                /* little-endian words in memory */
	assert_int_equal(bytes[0], ISA_OP_ADD | ISA_BIMM);
	assert_int_equal(bytes[1], 3);
	assert_int_equal(bytes[2], 4);
	assert_int_equal(bytes[3], 0);
	assert_int_equal(bytes[4], 0x78);
	assert_int_equal(bytes[7], 0x12);
	assert_int_equal(isa_word_op(isa_load_word(&buf[1])), ISA_OP_ST64);
	assert_int_equal(isa_word_ra(isa_load_word(&buf[1])), 6);
	assert_int_equal(isa_word_rb(isa_load_word(&buf[1])), 10);
	assert_int_equal(isa_word_imm(isa_load_word(&buf[1])), 0xfffffff8u);
	assert_int_equal(isa_prog_size(&p), 16);
	assert_true(isa_prog_ok(&p));
}

static void test_overflow_flag(void **state)
{
	uint64_t buf[3] = { 0, 0, 0x5a5a5a5a5a5a5a5aull };
	struct isa_prog p;
	isa_fixup f;

	(void)state;
	isa_prog_init(&p, buf, 2);
	isa_nop(&p);
	isa_nop(&p);
	assert_true(isa_prog_ok(&p));
	f = isa_bra(&p, ISA_FORWARD);              /* does not fit */
	assert_true(p.overflow);
	assert_false(isa_prog_ok(&p));
	isa_patch_here(&p, f);                     /* must not write either */
	assert_int_equal(buf[2], 0x5a5a5a5a5a5a5a5aull);
	assert_int_equal(isa_prog_size(&p), 16);
	assert_int_equal(isa_here(&p), 3);
}

static void test_labels_and_invalid_operands(void **state)
{
	uint64_t buf[8];
	struct isa_prog p;
	isa_fixup fwd;
	isa_label back;

	(void)state;
	isa_prog_init(&p, buf, 8);
	back = isa_here(&p);
	isa_nop(&p);
	fwd = isa_brz(&p, R(1), ISA_FORWARD);
	isa_bra(&p, back);
	isa_patch_here(&p, fwd);
	assert_int_equal(isa_word_imm(isa_load_word(&buf[1])), 3);
	assert_int_equal(isa_word_imm(isa_load_word(&buf[2])), 0);
	assert_true(isa_prog_ok(&p));

	isa_ld64(&p, R(3), R(4), 0);               /* odd pair */
	assert_true(p.invalid);
	isa_prog_init(&p, buf, 8);
	isa_ldc(&p, R(1), 16, 0);
	assert_true(p.invalid);
	isa_prog_init(&p, buf, 8);
	isa_fset(&p, ISA_CMP_LTU, R(1), R(2), R(3));
	assert_true(p.invalid);
	isa_prog_init(&p, buf, 8);
	isa_add64(&p, R(2), RZ, RZ);               /* RZ is a fine pair */
	assert_true(isa_prog_ok(&p));
}

static void test_status_names(void **state)
{
	const char *names[6];

	(void)state;
	for (int s = ISA_OK; s <= ISA_BAD_LAUNCH; s++) {
		names[s] = isa_status_name((enum isa_status)s);
		assert_non_null(names[s]);
		for (int o = 0; o < s; o++)
			assert_string_not_equal(names[s], names[o]);
	}
	assert_string_equal(isa_status_name(ISA_FAULT), "fault");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, rig_setup, rig_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_int_alu),
		T(test_int_compare),
		T(test_float_alu),
		T(test_ffma_is_fused),
		T(test_conversions),
		T(test_wide_alu),
		T(test_special_registers),
		T(test_clock),
		T(test_clock_hi_alone_and_no_clock),
		T(test_ldc),
		T(test_ldc_bad_access),
		T(test_global_ld_st),
		T(test_atom_add),
		T(test_resolve_per_step),
		T(test_code_fetched_once),
		T(test_shared_reverse),
		T(test_shared_bad_access),
		T(test_barrier_after_exit),
		T(test_barrier_in_both_branches),
		T(test_if_else_reconverges),
		T(test_loop_trip_count_per_thread),
		T(test_exit_inside_branch),
		T(test_registers_zero_per_block),
		T(test_vector_add),
		T(test_matrix_multiply),
		T(test_fault_load),
		T(test_fault_store),
		T(test_fault_fetch),
		T(test_misaligned),
		T(test_bad_instructions),
		T(test_fall_off_the_end),
		T(test_bad_launch),
		T(test_abort_before_launch),
		T(test_abort_stops_endless_loop),
		T(test_abort_stops_divergent_loop),
		T(test_abort_from_another_thread),
		T(test_thread_insns_exact),
		cmocka_unit_test(test_encoding_layout),
		cmocka_unit_test(test_overflow_flag),
		cmocka_unit_test(test_labels_and_invalid_operands),
		cmocka_unit_test(test_status_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
