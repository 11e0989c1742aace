/*
 * busy: one block of SIZE threads that spin on the clock special register
 * until MS milliseconds have passed, for scheduler tests that need GPU
 * work of a known length.  Thread 0 stores the 64-bit elapsed nanoseconds
 * it measured; the run is verified when that is at least MS ms.
 * Parameters: out (64-bit address), target nanoseconds (64-bit).
 *
 * gpusim runs one launch to completion, so a busy kernel holds the GPU for
 * its whole length: exactly what a scheduler test wants to see.
 */
#include "workload_priv.h"

struct busy_params {
	uint64_t out;
	uint64_t target_ns;
};

/* R2:3 start, R4:5 -start, R6:7 target, R8:9 now, R10:11 elapsed, R12-R14 flags. */
static void busy_kernel(struct isa_prog *p)
{
	isa_label loop;
	isa_fixup skip;

	isa_s2r(p, R(0), SR_TID_LINEAR);
	isa_s2r(p, R(2), SR_CLOCK_LO);
	isa_s2r(p, R(3), SR_CLOCK_HI);
	isa_not(p, R(4), R(2));
	isa_not(p, R(5), R(3));
	isa_add64i(p, R(4), R(4), 1);                  /* two's complement of start */
	isa_ldc(p, R(6), 0, 8);
	isa_ldc(p, R(7), 0, 12);
	loop = isa_here(p);
	isa_s2r(p, R(8), SR_CLOCK_LO);
	isa_s2r(p, R(9), SR_CLOCK_HI);
	isa_add64(p, R(10), R(8), R(4));               /* elapsed = now - start */
	/* done = hi > target_hi || (hi == target_hi && lo >= target_lo) */
	isa_iset(p, ISA_CMP_GTU, R(12), R(11), R(7));
	isa_iset(p, ISA_CMP_EQ, R(13), R(11), R(7));
	isa_iset(p, ISA_CMP_GEU, R(14), R(10), R(6));
	isa_and(p, R(13), R(13), R(14));
	isa_or(p, R(12), R(12), R(13));
	isa_brz(p, R(12), loop);
	skip = isa_brnz(p, R(0), ISA_FORWARD);
	isa_ldc(p, R(16), 0, 0);
	isa_ldc(p, R(17), 0, 4);
	isa_st64(p, R(16), 0, R(10));
	isa_patch_here(p, skip);
	isa_exit(p);
}

static int busy_gpu(struct gpuvm_ctx *ctx, uint32_t threads, uint64_t target_ns, unsigned iters,
		    uint64_t *elapsed, double *secs)
{
	uint64_t code[64];
	struct isa_prog prog;
	struct gpuvm_module *mod;
	struct busy_params prm;
	struct gpuvm_launch l = {
		.grid = { 1, 1, 1 },
		.block = { threads, 1, 1 },
		.params = &prm,
		.param_bytes = sizeof(prm),
	};
	gpuvm_devptr out;
	double t0;
	int err;

	isa_prog_init(&prog, code, 64);
	busy_kernel(&prog);
	err = wl_load(ctx, &prog, &mod);
	if (err)
		return err;
	err = gpuvm_mem_alloc(ctx, sizeof(*elapsed), &out);
	if (err)
		goto out_mod;
	prm = (struct busy_params){ out, target_ns };
	t0 = wl_seconds();
	for (unsigned i = 0; i < iters && !err; i++)
		err = gpuvm_launch(mod, &l);
	if (!err)
		err = gpuvm_ctx_synchronize(ctx);
	*secs = wl_seconds() - t0;
	if (!err)
		err = gpuvm_memcpy_dtoh(ctx, elapsed, out, sizeof(*elapsed));
	gpuvm_mem_free(ctx, out);
out_mod:
	gpuvm_module_unload(mod);
	return err;
}

static int busy_run(struct gpuvm_ctx *ctx, const struct gpuvm_workload_params *p,
		    struct gpuvm_workload_result *r)
{
	uint64_t threads = p->size ? p->size : gpuvm_wl_busy.default_size;
	unsigned iters = p->iters ? p->iters : 1;
	unsigned ms = p->ms ? p->ms : 100;
	uint64_t target = (uint64_t)ms * 1000000ull, elapsed = 0;
	double secs = 0;
	int err;

	if (threads > 1024)
		return gpuvm_fail(GPUVM_ERR_INVALID, "busy: --size is threads of one block, at most 1024");
	err = busy_gpu(ctx, (uint32_t)threads, target, iters, &elapsed, &secs);
	if (err)
		return err;
	return wl_report(r, elapsed >= target, secs, secs * 1e3 / iters, "ms",
			 "busy %u ms x %u (%llu threads): kernel measured %.3f ms, wall %.3f ms "
			 "per launch", ms, iters, (unsigned long long)threads, elapsed / 1e6,
			 secs * 1e3 / iters);
}

const struct gpuvm_workload gpuvm_wl_busy = {
	.name = "busy",
	.summary = "one block spinning on the clock register for --ms milliseconds",
	.size_meaning = "threads in the block (<= 1024)",
	.default_size = 1,
	.run = busy_run,
};
