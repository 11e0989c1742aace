/*
 * vadd: c[i] = a[i] + b[i] over SIZE 32-bit integers, checked bit-exactly.
 * Parameters: a, b, c (64-bit addresses), n.
 */
#include <stdlib.h>

#include "workload_priv.h"

/* Registers: R0 index, R2-R3 scratch, R4/R6/R8 pointers, R10 n, R12 address, R14-R15 values. */
static void vadd_kernel(struct isa_prog *p)
{
	isa_fixup out;

	wl_emit_linear_index(p, 0, 2);
	isa_ldc(p, R(10), 0, 24);
	isa_iset(p, ISA_CMP_GEU, R(2), R(0), R(10));
	out = isa_brnz(p, R(2), ISA_FORWARD);
	for (unsigned i = 0; i < 6; i++)
		isa_ldc(p, R(4 + i), 0, 4 * i);
	isa_lea(p, R(12), R(4), R(0), 4);
	isa_ld(p, R(14), R(12), 0);
	isa_lea(p, R(12), R(6), R(0), 4);
	isa_ld(p, R(15), R(12), 0);
	isa_add(p, R(14), R(14), R(15));
	isa_lea(p, R(12), R(8), R(0), 4);
	isa_st(p, R(12), 0, R(14));
	isa_patch_here(p, out);
	isa_exit(p);
}

static uint64_t vadd_check(const uint32_t *a, const uint32_t *b, const uint32_t *c, uint64_t n)
{
	uint64_t bad = 0;

	for (uint64_t i = 0; i < n; i++)
		bad += c[i] != a[i] + b[i];
	return bad;
}

static int vadd_gpu(struct gpuvm_ctx *ctx, const uint32_t *a, const uint32_t *b, uint32_t *c,
		    uint64_t n, unsigned iters, double *secs)
{
	uint64_t code[64];
	struct isa_prog prog;
	struct gpuvm_launch l = { 0 };

	isa_prog_init(&prog, code, 64);
	vadd_kernel(&prog);
	wl_grid_1d(n, &l);
	return wl_run_abc(ctx, &prog, &l, (uint32_t)n, a, b, c, n * 4, iters, secs);
}

static int vadd_run(struct gpuvm_ctx *ctx, const struct gpuvm_workload_params *p,
		    struct gpuvm_workload_result *r)
{
	uint64_t n = p->size ? p->size : gpuvm_wl_vadd.default_size;
	unsigned iters = p->iters ? p->iters : 1;
	uint32_t *a = malloc(n * 4), *b = malloc(n * 4), *c = calloc(n, 4);
	double secs = 0;
	uint64_t bad;
	int err = GPUVM_ERR_NO_HOST_MEMORY;

	if (n > UINT32_MAX / 4) {
		err = gpuvm_fail(GPUVM_ERR_INVALID, "vadd: at most %u elements", UINT32_MAX / 4);
		goto out;
	}
	if (!a || !b || !c) {
		err = gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "vadd: out of host memory");
		goto out;
	}
	wl_fill_u32(a, n, 11);
	wl_fill_u32(b, n, 23);
	err = vadd_gpu(ctx, a, b, c, n, iters, &secs);
	if (err)
		goto out;
	bad = vadd_check(a, b, c, n);
	err = wl_report(r, bad == 0, secs, (double)n * iters / secs / 1e6, "Melem/s",
			"vadd %llu u32 x %u: %.3f ms per launch, %.1f Melem/s, %llu wrong",
			(unsigned long long)n, iters, secs * 1e3 / iters,
			(double)n * iters / secs / 1e6, (unsigned long long)bad);
out:
	free(a);
	free(b);
	free(c);
	return err;
}

const struct gpuvm_workload gpuvm_wl_vadd = {
	.name = "vadd",
	.summary = "vector add of 32-bit integers, bit-exact check",
	.size_meaning = "elements",
	.default_size = 1u << 20,
	.run = vadd_run,
};
