/*
 * GPGPU workloads of libgpuvm-guest: small programs on the runtime API that
 * check their results on the host and report time and throughput.  Used by
 * gpuvm-run, the benchmarks and the scheduler tests.
 *
 *   memcpy  HtoD, DtoD, DtoH of SIZE bytes            bit-exact
 *   vadd    c = a + b, SIZE u32 elements               bit-exact
 *   madd    C = A + B, SIZE x SIZE f32                 tolerance
 *   mmul    C = A x B, SIZE x SIZE f32 (tiled, shared) tolerance
 *   busy    a kernel spinning on the clock for MS ms   elapsed >= MS
 */
#ifndef GPUVM_WORKLOADS_H
#define GPUVM_WORKLOADS_H

#include <stdbool.h>
#include <stdint.h>

#include "gpuvm_guest.h"

struct gpuvm_workload_params {
	uint64_t size;        /* 0: the workload's default */
	unsigned iters;       /* repetitions of the measured part; 0: 1 */
	unsigned ms;          /* busy: kernel duration; 0: 100 */
};

struct gpuvm_workload_result {
	bool verified;
	double seconds;       /* the measured part, all iterations */
	double rate;          /* throughput, in unit */
	const char *unit;     /* "GB/s", "GFLOP/s", "Melem/s", ... */
	char detail[256];     /* one human-readable line */
};

struct gpuvm_workload {
	const char *name;
	const char *summary;
	const char *size_meaning;
	uint64_t default_size;
	/*
	 * Run on ctx.  GPUVM_OK when verified; GPUVM_ERR_VERIFY (result filled,
	 * verified false) when the GPU's answer is wrong; another code when
	 * the run failed.
	 */
	int (*run)(struct gpuvm_ctx *ctx, const struct gpuvm_workload_params *p,
		   struct gpuvm_workload_result *r);
};

/* By name, or NULL (message in gpuvm_last_error()). */
const struct gpuvm_workload *gpuvm_workload_find(const char *name);
/* The i-th workload, NULL past the end. */
const struct gpuvm_workload *gpuvm_workload_at(unsigned i);

#endif
