/*
 * mmul: C = A x B for SIZE x SIZE f32 matrices.  The kernel is the classic
 * shared-memory tiled multiply: each 32 x 32 block stages one tile of A and
 * one of B in shared memory per step, then every thread runs a fully
 * unrolled 32-term FFMA chain over them.  Matrices are padded with zeros to
 * a multiple of 32, so the kernel needs no bounds checks; the zero terms
 * leave the sums unchanged.
 *
 * The host checks every element against a double-precision product, with
 * the error bound of an N-term f32 dot product (2 N eps sum |a b|).
 * Parameters: A, B, C (64-bit addresses), padded n.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "workload_priv.h"

#define TILE       32u
#define TILE_BYTES (TILE * TILE * 4u)

/* Per-thread setup: tile pointers and shared-memory addresses. */
static void mmul_prologue(struct isa_prog *p)
{
	isa_s2r(p, R(0), SR_TID_X);
	isa_s2r(p, R(1), SR_TID_Y);
	isa_s2r(p, R(23), SR_CTAID_Y);
	isa_s2r(p, R(24), SR_CTAID_X);
	for (unsigned i = 0; i < 7; i++)
		isa_ldc(p, R(4 + i), 0, 4 * i);           /* R4 A, R6 B, R8 C, R10 n */
	isa_shli(p, R(2), R(23), 5);
	isa_add(p, R(2), R(2), R(1));                  /* row */
	isa_shli(p, R(3), R(24), 5);
	isa_add(p, R(3), R(3), R(0));                  /* col */
	isa_mad(p, R(23), R(2), R(10), R(0));
	isa_lea(p, R(12), R(4), R(23), 4);             /* aptr = &A[row][tx] */
	isa_mad(p, R(23), R(1), R(10), R(3));
	isa_lea(p, R(14), R(6), R(23), 4);             /* bptr = &B[ty][col] */
	isa_shli(p, R(16), R(1), 5);
	isa_add(p, R(16), R(16), R(0));
	isa_shli(p, R(16), R(16), 2);                  /* sA slot = (ty * 32 + tx) * 4 */
	isa_addi(p, R(17), R(16), TILE_BYTES);         /* sB slot */
	isa_shli(p, R(18), R(1), 7);                   /* sA row ty */
	isa_shli(p, R(19), R(0), 2);
	isa_addi(p, R(19), R(19), TILE_BYTES);         /* sB column tx */
	isa_shli(p, R(22), R(10), 7);                  /* B advances 32 rows per tile */
	isa_movi(p, R(20), 0);                         /* sum = 0.0f */
	isa_shri(p, R(21), R(10), 5);                  /* tiles */
}

static void mmul_kernel(struct isa_prog *p)
{
	isa_label loop;

	mmul_prologue(p);
	loop = isa_here(p);
	isa_ld(p, R(28), R(12), 0);
	isa_sts(p, R(16), 0, R(28));
	isa_ld(p, R(29), R(14), 0);
	isa_sts(p, R(17), 0, R(29));
	isa_bar(p);
	for (unsigned k = 0; k < TILE; k++) {
		isa_lds(p, R(28), R(18), (int32_t)(4 * k));
		isa_lds(p, R(29), R(19), (int32_t)(TILE * 4 * k));
		isa_ffma(p, R(20), R(28), R(29), R(20));
	}
	isa_bar(p);
	isa_add64i(p, R(12), R(12), TILE * 4);
	isa_add64u(p, R(14), R(14), R(22));
	isa_subi(p, R(21), R(21), 1);
	isa_brnz(p, R(21), loop);
	isa_mad(p, R(23), R(2), R(10), R(3));
	isa_lea(p, R(26), R(8), R(23), 4);
	isa_st(p, R(26), 0, R(20));
	isa_exit(p);
}

/* Row i of the reference product and of the error bound, in double. */
static void mmul_ref_row(const float *a, const float *b, uint32_t np, uint32_t n, uint32_t i,
			 double *ref, double *mag)
{
	memset(ref, 0, n * sizeof(*ref));
	memset(mag, 0, n * sizeof(*mag));
	for (uint32_t k = 0; k < n; k++) {
		double aik = a[(uint64_t)i * np + k];
		const float *brow = &b[(uint64_t)k * np];

		for (uint32_t j = 0; j < n; j++) {
			ref[j] += aik * brow[j];
			mag[j] += fabs(aik * brow[j]);
		}
	}
}

static int mmul_check(const float *a, const float *b, const float *c, uint32_t np, uint32_t n,
		      uint64_t *bad, double *max_err)
{
	double *ref = malloc(n * sizeof(*ref)), *mag = malloc(n * sizeof(*mag));

	if (!ref || !mag) {
		free(ref);
		free(mag);
		return gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "mmul: out of host memory");
	}
	*bad = 0;
	*max_err = 0;
	for (uint32_t i = 0; i < n; i++) {
		mmul_ref_row(a, b, np, n, i, ref, mag);
		for (uint32_t j = 0; j < n; j++) {
			double err = fabs(c[(uint64_t)i * np + j] - ref[j]);
			double tol = 2.0 * n * FLT_EPSILON * mag[j] + FLT_MIN;

			*bad += !(err <= tol);
			if (err > *max_err)
				*max_err = err;
		}
	}
	free(ref);
	free(mag);
	return GPUVM_OK;
}

static int mmul_gpu(struct gpuvm_ctx *ctx, const float *a, const float *b, float *c, uint32_t np,
		    unsigned iters, double *secs)
{
	uint64_t code[256];
	struct isa_prog prog;
	struct gpuvm_launch l = {
		.grid = { np / TILE, np / TILE, 1 },
		.block = { TILE, TILE, 1 },
		.shared_bytes = 2 * TILE_BYTES,
	};

	isa_prog_init(&prog, code, 256);
	mmul_kernel(&prog);
	return wl_run_abc(ctx, &prog, &l, np, a, b, c, (uint64_t)np * np * 4, iters, secs);
}

/* n x n random values in the top-left of an np x np zero matrix. */
static void mmul_fill_padded(float *m, uint32_t np, uint32_t n, uint32_t seed)
{
	memset(m, 0, (uint64_t)np * np * 4);
	for (uint32_t i = 0; i < n; i++)
		wl_fill_f32(&m[(uint64_t)i * np], n, seed + i);
}

static int mmul_run(struct gpuvm_ctx *ctx, const struct gpuvm_workload_params *p,
		    struct gpuvm_workload_result *r)
{
	uint64_t n = p->size ? p->size : gpuvm_wl_mmul.default_size;
	unsigned iters = p->iters ? p->iters : 1;
	uint32_t np = (uint32_t)((n + TILE - 1) / TILE * TILE);
	uint64_t count = (uint64_t)np * np, bad = 0;
	float *a = NULL, *b = NULL, *c = NULL;
	double secs = 0, max_err = 0, gflops;
	int err = GPUVM_ERR_INVALID;

	if (n > 16384) {
		err = gpuvm_fail(GPUVM_ERR_INVALID, "mmul: matrix side at most 16384");
		goto out;
	}
	err = GPUVM_ERR_NO_HOST_MEMORY;
	a = malloc(count * 4);
	b = malloc(count * 4);
	c = calloc(count, 4);
	if (!a || !b || !c) {
		err = gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "mmul: out of host memory");
		goto out;
	}
	mmul_fill_padded(a, np, (uint32_t)n, 100);
	mmul_fill_padded(b, np, (uint32_t)n, 7000);
	err = mmul_gpu(ctx, a, b, c, np, iters, &secs);
	if (!err)
		err = mmul_check(a, b, c, np, (uint32_t)n, &bad, &max_err);
	if (err)
		goto out;
	gflops = 2.0 * (double)n * n * n * iters / secs / 1e9;
	err = wl_report(r, bad == 0, secs, gflops, "GFLOP/s",
			"mmul %llux%llu f32 x %u: %.3f s per launch, %.3f GFLOP/s, max error %.2g, "
			"%llu outside tolerance", (unsigned long long)n, (unsigned long long)n, iters,
			secs / iters, gflops, max_err, (unsigned long long)bad);
out:
	free(a);
	free(b);
	free(c);
	return err;
}

const struct gpuvm_workload gpuvm_wl_mmul = {
	.name = "mmul",
	.summary = "f32 matrix multiply (shared-memory tiles), checked to an f32 error bound",
	.size_meaning = "matrix side (N x N)",
	.default_size = 256,
	.run = mmul_run,
};
