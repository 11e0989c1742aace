/*
 * madd: C = A + B for SIZE x SIZE f32 matrices, one thread per element in
 * 32 x 32 blocks, checked against the host to half an ulp.
 * Parameters: A, B, C (64-bit addresses), n.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "workload_priv.h"

#define MADD_TILE 32u

/* R0 col, R1 row, R2-R3 scratch, R4/R6/R8 pointers, R10 n, R12 address, R14-R15 values. */
static void madd_kernel(struct isa_prog *p)
{
	isa_fixup out;

	isa_s2r(p, R(2), SR_CTAID_X);
	isa_s2r(p, R(0), SR_TID_X);
	isa_shli(p, R(2), R(2), 5);
	isa_add(p, R(0), R(0), R(2));                  /* col = ctaid.x * 32 + tid.x */
	isa_s2r(p, R(2), SR_CTAID_Y);
	isa_s2r(p, R(1), SR_TID_Y);
	isa_shli(p, R(2), R(2), 5);
	isa_add(p, R(1), R(1), R(2));                  /* row = ctaid.y * 32 + tid.y */
	isa_ldc(p, R(10), 0, 24);
	isa_maxu(p, R(2), R(0), R(1));
	isa_iset(p, ISA_CMP_GEU, R(2), R(2), R(10));
	out = isa_brnz(p, R(2), ISA_FORWARD);
	for (unsigned i = 0; i < 6; i++)
		isa_ldc(p, R(4 + i), 0, 4 * i);
	isa_mad(p, R(3), R(1), R(10), R(0));           /* index = row * n + col */
	isa_lea(p, R(12), R(4), R(3), 4);
	isa_ld(p, R(14), R(12), 0);
	isa_lea(p, R(12), R(6), R(3), 4);
	isa_ld(p, R(15), R(12), 0);
	isa_fadd(p, R(14), R(14), R(15));
	isa_lea(p, R(12), R(8), R(3), 4);
	isa_st(p, R(12), 0, R(14));
	isa_patch_here(p, out);
	isa_exit(p);
}

static uint64_t madd_check(const float *a, const float *b, const float *c, uint64_t count)
{
	uint64_t bad = 0;

	for (uint64_t i = 0; i < count; i++) {
		float want = a[i] + b[i];

		bad += !(fabsf(c[i] - want) <= FLT_EPSILON * 0.5f * fabsf(want));
	}
	return bad;
}

static int madd_gpu(struct gpuvm_ctx *ctx, const float *a, const float *b, float *c, uint32_t n,
		    unsigned iters, double *secs)
{
	uint64_t code[64];
	uint32_t blocks = (n + MADD_TILE - 1) / MADD_TILE;
	struct isa_prog prog;
	struct gpuvm_launch l = {
		.grid = { blocks, blocks, 1 },
		.block = { MADD_TILE, MADD_TILE, 1 },
	};

	isa_prog_init(&prog, code, 64);
	madd_kernel(&prog);
	return wl_run_abc(ctx, &prog, &l, n, a, b, c, (uint64_t)n * n * 4, iters, secs);
}

static int madd_run(struct gpuvm_ctx *ctx, const struct gpuvm_workload_params *p,
		    struct gpuvm_workload_result *r)
{
	uint64_t n = p->size ? p->size : gpuvm_wl_madd.default_size;
	unsigned iters = p->iters ? p->iters : 1;
	uint64_t count = n * n;
	float *a = NULL, *b = NULL, *c = NULL;
	double secs = 0;
	uint64_t bad;
	int err = GPUVM_ERR_INVALID;

	if (n > 32768) {
		err = gpuvm_fail(GPUVM_ERR_INVALID, "madd: matrix side at most 32768");
		goto out;
	}
	err = GPUVM_ERR_NO_HOST_MEMORY;
	a = malloc(count * 4);
	b = malloc(count * 4);
	c = calloc(count, 4);
	if (!a || !b || !c) {
		err = gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "madd: out of host memory");
		goto out;
	}
	wl_fill_f32(a, count, 5);
	wl_fill_f32(b, count, 7);
	err = madd_gpu(ctx, a, b, c, (uint32_t)n, iters, &secs);
	if (err)
		goto out;
	bad = madd_check(a, b, c, count);
	err = wl_report(r, bad == 0, secs, (double)count * iters / secs / 1e9, "GFLOP/s",
			"madd %llux%llu f32 x %u: %.3f ms per launch, %.3f GFLOP/s, %llu wrong",
			(unsigned long long)n, (unsigned long long)n, iters, secs * 1e3 / iters,
			(double)count * iters / secs / 1e9, (unsigned long long)bad);
out:
	free(a);
	free(b);
	free(c);
	return err;
}

const struct gpuvm_workload gpuvm_wl_madd = {
	.name = "madd",
	.summary = "f32 matrix add, checked to half an ulp",
	.size_meaning = "matrix side (N x N)",
	.default_size = 1024,
	.run = madd_run,
};
