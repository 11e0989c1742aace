/*
 * Shared helpers of the workloads: kernel-building snippets, launch
 * geometry, deterministic input data, timing and result reporting.
 */
#ifndef GPUVM_WORKLOAD_PRIV_H
#define GPUVM_WORKLOAD_PRIV_H

#include <stdarg.h>
#include <stdio.h>

#include "gpusim_isa.h"
#include "gpuvm_workloads.h"

#define WL_BLOCK_THREADS 1024u    /* big blocks amortise the interpreter's per-step cost */
#define WL_MAX_GRID_X    65535u

extern const struct gpuvm_workload gpuvm_wl_memcpy;
extern const struct gpuvm_workload gpuvm_wl_vadd;
extern const struct gpuvm_workload gpuvm_wl_madd;
extern const struct gpuvm_workload gpuvm_wl_mmul;
extern const struct gpuvm_workload gpuvm_wl_busy;

/* error.c's recorder: the workloads report through the library's message slot. */
int gpuvm_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* dst = (ctaid.y * nctaid.x + ctaid.x) * ntid.x + tid.x; clobbers tmp and tmp+1. */
void wl_emit_linear_index(struct isa_prog *p, unsigned dst, unsigned tmp);
/* 1-D launch over n threads in blocks of WL_BLOCK_THREADS (grid folded into y). */
void wl_grid_1d(uint64_t n, struct gpuvm_launch *l);
/* Load an assembled kernel; fails cleanly if the assembler overflowed. */
int wl_load(struct gpuvm_ctx *ctx, const struct isa_prog *p, struct gpuvm_module **mod);

/* Deterministic inputs (xorshift), the same on every run. */
void wl_fill_u32(uint32_t *v, uint64_t n, uint32_t seed);
void wl_fill_f32(float *v, uint64_t n, uint32_t seed);   /* in [-1, 1) */

double wl_seconds(void);
/* Fill the result; returns GPUVM_OK or GPUVM_ERR_VERIFY with a message. */
int wl_report(struct gpuvm_workload_result *r, bool verified, double seconds, double rate,
	      const char *unit, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Allocation helper that frees what it got on failure: n buffers of size bytes. */
int wl_alloc(struct gpuvm_ctx *ctx, gpuvm_devptr *ptrs, unsigned n, uint64_t size);
void wl_free(struct gpuvm_ctx *ctx, gpuvm_devptr *ptrs, unsigned n);

/*
 * The parameters of the kernels that read two buffers and write a third
 * (vadd, madd, mmul): constant bank 0 from offset 0.
 */
struct wl_abc_params {
	uint64_t a, b, c;
	uint32_t n, pad;
};

/*
 * Load the kernel, copy a and b (bytes each) in, launch it iters times with
 * {A, B, C, n} as parameters, synchronise and copy c out.  *secs is the time
 * of the launches and the synchronisation.  l gives the launch geometry.
 */
int wl_run_abc(struct gpuvm_ctx *ctx, const struct isa_prog *prog, struct gpuvm_launch *l,
	       uint32_t n, const void *a, const void *b, void *c, uint64_t bytes,
	       unsigned iters, double *secs);

#endif
