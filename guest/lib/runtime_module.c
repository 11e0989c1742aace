/*
 * Modules and launches.  A module is gpusim ISA code (64-bit instruction
 * words, little-endian, as include/gpusim_isa.h's assembler emits them)
 * uploaded once through BAR1 and mapped read-only into the context, so a
 * kernel cannot overwrite code.  A launch names an entry instruction; its
 * parameters ride in the pushbuffer into constant bank 0.
 */
#include <stdlib.h>

#include "runtime_priv.h"

#define INSN_BYTES       8u
#define MAX_INSNS        65536u     /* gpusim executes no pc beyond this */
#define MAX_GRID_DIM     65535u     /* 16-bit fields of GRIDDIM_YX / _Z */
#define CB_ALIGN         16u

int gpuvm_module_load(struct gpuvm_ctx *ctx, const uint64_t *code, size_t n,
		      struct gpuvm_module **out)
{
	uint64_t t0 = gpuvm_now_ns();
	struct gpuvm_module *mod;
	int err = gpuvm_ctx_check(ctx);

	if (err)
		return err;
	if (!code || !out || n == 0 || n > MAX_INSNS)
		return gpuvm_fail(GPUVM_ERR_INVALID, "module load: need 1..%u instructions and a "
				  "result pointer", MAX_INSNS);
	mod = calloc(1, sizeof(*mod));
	if (!mod)
		return gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "module load: out of host memory");
	err = nvc0_bo_new(ctx->dev, n * INSN_BYTES, &mod->bo);
	if (err)
		goto err_free;
	/* No wait for the GPU first: memory comes back to the allocator only
	 * once the GPU is done with it (unload and free synchronise). */
	err = nvc0_bo_map(&mod->bo, &ctx->vm, true);
	if (!err)
		err = nvc0_bo_map_bar1(&mod->bo);
	if (!err)
		err = nvc0_bar1_write(ctx->dev, mod->bo.bar1, code, n * INSN_BYTES);
	if (err)
		goto err_bo;
	nvc0_bar_flush(ctx->dev);
	mod->magic = GPUVM_MOD_MAGIC;
	mod->ctx = ctx;
	mod->insns = (uint32_t)n;
	mod->next = ctx->modules;
	ctx->modules = mod;
	*out = mod;
	gpuvm_phase_add(ctx->opts.timing, GPUVM_PHASE_ALLOC, t0);
	return GPUVM_OK;

err_bo:
	nvc0_bo_del(&mod->bo);
err_free:
	free(mod);
	return err;
}

static void module_destroy(struct gpuvm_module *mod)
{
	mod->magic = 0;
	nvc0_bo_del(&mod->bo);
	free(mod);
}

int gpuvm_module_unload(struct gpuvm_module *mod)
{
	struct gpuvm_module **p;
	struct gpuvm_ctx *ctx;
	uint64_t t0 = gpuvm_now_ns();
	int err;

	if (!mod || mod->magic != GPUVM_MOD_MAGIC)
		return gpuvm_fail(GPUVM_ERR_BAD_HANDLE, "module unload: not a loaded module");
	ctx = mod->ctx;
	/* Launches still queued may run this code. */
	err = ctx->chan.fault_err ? GPUVM_OK : nvc0_channel_sync(&ctx->chan);
	if (err)
		return err;
	for (p = &ctx->modules; *p && *p != mod; p = &(*p)->next)
		;
	if (*p)
		*p = mod->next;
	module_destroy(mod);
	gpuvm_phase_add(ctx->opts.timing, GPUVM_PHASE_ALLOC, t0);
	return GPUVM_OK;
}

void gpuvm_modules_free(struct gpuvm_ctx *ctx)
{
	while (ctx->modules) {
		struct gpuvm_module *mod = ctx->modules;

		ctx->modules = mod->next;
		module_destroy(mod);
	}
}

static uint32_t dim_or_one(uint32_t v)
{
	return v ? v : 1;
}

static int launch_check(const struct gpuvm_module *mod, const struct gpuvm_launch *l,
			struct nvc0_launch *out)
{
	uint64_t threads;

	if (l->entry >= mod->insns)
		return gpuvm_fail(GPUVM_ERR_INVALID, "launch: entry %u beyond the module's %u "
				  "instructions", l->entry, mod->insns);
	out->grid[0] = dim_or_one(l->grid.x);
	out->grid[1] = dim_or_one(l->grid.y);
	out->grid[2] = dim_or_one(l->grid.z);
	out->block[0] = dim_or_one(l->block.x);
	out->block[1] = dim_or_one(l->block.y);
	out->block[2] = dim_or_one(l->block.z);
	threads = (uint64_t)out->block[0] * out->block[1] * out->block[2];
	for (unsigned i = 0; i < 3; i++)
		if (out->grid[i] > MAX_GRID_DIM)
			return gpuvm_fail(GPUVM_ERR_INVALID, "launch: grid dimension %u is %u (max %u)",
					  i, out->grid[i], MAX_GRID_DIM);
	if (threads > NV90C0_MAX_BLOCK_THREADS)
		return gpuvm_fail(GPUVM_ERR_INVALID, "launch: %llu threads per block (max %u)",
				  (unsigned long long)threads, NV90C0_MAX_BLOCK_THREADS);
	if (l->shared_bytes > NV90C0_MAX_SHARED)
		return gpuvm_fail(GPUVM_ERR_INVALID, "launch: %u bytes of shared memory (max %u)",
				  l->shared_bytes, NV90C0_MAX_SHARED);
	if (l->param_bytes % 4 || l->param_bytes > GPUVM_PARAM_MAX_BYTES ||
	    (l->param_bytes && !l->params))
		return gpuvm_fail(GPUVM_ERR_INVALID, "launch: parameters must be a multiple of 4 "
				  "bytes, at most %u", GPUVM_PARAM_MAX_BYTES);
	return GPUVM_OK;
}

int gpuvm_launch(struct gpuvm_module *mod, const struct gpuvm_launch *l)
{
	uint32_t params[GPUVM_PARAM_MAX_BYTES / 4];
	struct nvc0_launch nl = { 0 };
	struct gpuvm_ctx *ctx;
	uint64_t t0 = gpuvm_now_ns();
	int err;

	if (!mod || mod->magic != GPUVM_MOD_MAGIC)
		return gpuvm_fail(GPUVM_ERR_BAD_HANDLE, "launch: not a loaded module");
	ctx = mod->ctx;
	err = gpuvm_ctx_check(ctx);
	if (!err && !l)
		err = gpuvm_fail(GPUVM_ERR_INVALID, "launch: NULL launch description");
	if (!err)
		err = launch_check(mod, l, &nl);
	if (err)
		return err;
	if (l->param_bytes)
		memcpy(params, l->params, l->param_bytes);
	nl.code_va = mod->bo.va;
	nl.entry_offset = l->entry * INSN_BYTES;
	nl.shared_bytes = l->shared_bytes;
	nl.cb_va = ctx->params.va;
	/* Only the bytes passed are bound: gpusim copies the bound size at every launch. */
	nl.cb_size = (uint32_t)nvc0_align_up(l->param_bytes ? l->param_bytes : CB_ALIGN, CB_ALIGN);
	nl.params = params;
	nl.param_words = (uint32_t)(l->param_bytes / 4);
	/* The kernel may touch any allocation: clear the new ones first. */
	err = gpuvm_allocs_fill(ctx);
	if (!err)
		err = nvc0_compute_launch(&ctx->chan, &nl);
	if (err)
		nvc0_pb_discard(&ctx->chan);
	gpuvm_phase_add(ctx->opts.timing, GPUVM_PHASE_LAUNCH_SYNC, t0);
	return err;
}
