/*
 * gpusim benchmark: how fast the simulated GPU is, measured through the
 * guest library on the native transport.
 *
 *   interpreter  thread-instructions per second (gpusim_get_stats
 *                thread_insns over the launch+sync time) on a vector add
 *                and on a 512 x 512 f32 matrix multiply
 *   M2MF         device-to-device copy bandwidth of 64 MiB copies, next to
 *                host memcpy of the same size
 *
 * Prints one markdown table.  Usage: gpusim [--quick]
 * (--quick: smaller sizes, for a smoke run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpusim.h"
#include "gpuvm_guest.h"
#include "gpuvm_raw.h"
#include "gpuvm_workloads.h"

struct bench_cfg {
	uint64_t vadd_elems;
	unsigned vadd_iters;
	uint64_t mmul_size;
	uint64_t copy_bytes;
	unsigned copy_iters;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t thread_insns(struct gpuvm_ctx *ctx)
{
	struct gpusim_stats st;

	gpusim_get_stats(gpuvm_transport_gpusim(gpuvm_raw_transport(gpuvm_ctx_device(ctx))), &st);
	return st.thread_insns;
}

/* Run a workload; *rate = thread-instructions per second of its launches. */
static int interp_rate(struct gpuvm_ctx *ctx, const char *name, uint64_t size, unsigned iters,
		       double *rate, double *secs, uint64_t *insns)
{
	struct gpuvm_workload_params p = { .size = size, .iters = iters };
	struct gpuvm_workload_result r = { 0 };
	uint64_t before = thread_insns(ctx);
	int err = gpuvm_workload_find(name)->run(ctx, &p, &r);

	if (err)
		return err;
	*insns = thread_insns(ctx) - before;
	*secs = r.seconds;
	*rate = (double)*insns / r.seconds;
	return GPUVM_OK;
}

static int m2mf_bandwidth(struct gpuvm_ctx *ctx, uint64_t bytes, unsigned iters, double *gbs)
{
	gpuvm_devptr a, b;
	double t0;
	int err = gpuvm_mem_alloc(ctx, bytes, &a);

	if (err)
		return err;
	err = gpuvm_mem_alloc(ctx, bytes, &b);
	if (err)
		goto out_a;
	/* Warm-up: the first copy also faults in gpusim's VRAM pages. */
	err = gpuvm_memcpy_dtod(ctx, b, a, bytes);
	if (!err)
		err = gpuvm_ctx_synchronize(ctx);
	t0 = now_s();
	for (unsigned i = 0; i < iters && !err; i++)
		err = gpuvm_memcpy_dtod(ctx, (i & 1) ? a : b, (i & 1) ? b : a, bytes);
	if (!err)
		err = gpuvm_ctx_synchronize(ctx);
	*gbs = (double)bytes * iters / (now_s() - t0) / 1e9;
	gpuvm_mem_free(ctx, b);
out_a:
	gpuvm_mem_free(ctx, a);
	return err;
}

static int host_bandwidth(uint64_t bytes, unsigned iters, double *gbs)
{
	uint8_t *a = malloc(bytes), *b = malloc(bytes);
	double t0;

	if (!a || !b) {
		free(a);
		free(b);
		return GPUVM_ERR_NO_HOST_MEMORY;
	}
	memset(a, 1, bytes);
	memset(b, 2, bytes);
	t0 = now_s();
	for (unsigned i = 0; i < iters; i++)
		memcpy((i & 1) ? a : b, (i & 1) ? b : a, bytes);
	*gbs = (double)bytes * iters / (now_s() - t0) / 1e9;
	/* Keep the copies observable so they are not optimised away. */
	if (a[bytes / 2] != b[bytes / 2])
		*gbs = -*gbs;
	free(a);
	free(b);
	return GPUVM_OK;
}

static int run(const struct bench_cfg *c)
{
	struct gpuvm_ctx *ctx;
	double vadd_rate, vadd_s, mmul_rate, mmul_s, m2mf_gbs, host_gbs;
	uint64_t vadd_insns, mmul_insns;
	int err = gpuvm_ctx_open("native", NULL, &ctx);

	if (err)
		return err;
	err = interp_rate(ctx, "vadd", c->vadd_elems, c->vadd_iters, &vadd_rate, &vadd_s, &vadd_insns);
	if (!err)
		err = interp_rate(ctx, "mmul", c->mmul_size, 1, &mmul_rate, &mmul_s, &mmul_insns);
	if (!err)
		err = m2mf_bandwidth(ctx, c->copy_bytes, c->copy_iters, &m2mf_gbs);
	gpuvm_ctx_destroy(ctx);
	if (!err)
		err = host_bandwidth(c->copy_bytes, c->copy_iters, &host_gbs);
	if (err)
		return err;
	printf("| figure | value | detail |\n|---|---|---|\n");
	printf("| interpreter, vadd | %.1f M thread-insn/s | %llu u32 x %u launches, %llu thread-insns "
	       "in %.3f s |\n", vadd_rate / 1e6, (unsigned long long)c->vadd_elems, c->vadd_iters,
	       (unsigned long long)vadd_insns, vadd_s);
	printf("| interpreter, mmul %llux%llu f32 | %.1f M thread-insn/s | %llu thread-insns in "
	       "%.3f s (%.3f GFLOP/s) |\n", (unsigned long long)c->mmul_size,
	       (unsigned long long)c->mmul_size, mmul_rate / 1e6, (unsigned long long)mmul_insns,
	       mmul_s, 2.0 * c->mmul_size * c->mmul_size * c->mmul_size / mmul_s / 1e9);
	printf("| M2MF copy, %llu MiB | %.2f GB/s | device to device, %u copies |\n",
	       (unsigned long long)(c->copy_bytes >> 20), m2mf_gbs, c->copy_iters);
	printf("| host memcpy, %llu MiB | %.2f GB/s | same size, %u copies |\n",
	       (unsigned long long)(c->copy_bytes >> 20), host_gbs, c->copy_iters);
	printf("| M2MF / host memcpy | %.2f | |\n", m2mf_gbs / host_gbs);
	return GPUVM_OK;
}

int main(int argc, char **argv)
{
	struct bench_cfg cfg = { 16u << 20, 5, 512, 64ull << 20, 10 };
	int err;

	if (argc == 2 && !strcmp(argv[1], "--quick")) {
		cfg = (struct bench_cfg){ 1u << 20, 2, 128, 8ull << 20, 4 };
	} else if (argc != 1) {
		fprintf(stderr, "usage: gpusim [--quick]\n");
		return 2;
	}
	err = run(&cfg);
	if (err) {
		fprintf(stderr, "gpusim bench: %s (%s)\n", gpuvm_last_error(), gpuvm_strerror(err));
		return 1;
	}
	return 0;
}
