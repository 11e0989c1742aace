/*
 * Runtime API: contexts, allocations and synchronisation (gpuvm_guest.h).
 * Copies are in runtime_memcpy.c, modules and launches in runtime_module.c.
 */
#include <stdlib.h>

#include "runtime_priv.h"

void gpuvm_phase_add(struct gpuvm_timing *t, enum gpuvm_phase p, uint64_t t0)
{
	if (!t)
		return;
	t->ns[p] += gpuvm_now_ns() - t0;
	t->calls[p]++;
}

int gpuvm_ctx_check(struct gpuvm_ctx *ctx)
{
	if (!ctx || ctx->magic != GPUVM_CTX_MAGIC)
		return gpuvm_fail(GPUVM_ERR_BAD_HANDLE, "not a live context");
	if (ctx->chan.fault_err)
		return nvc0_channel_check(&ctx->chan);
	return GPUVM_OK;
}

struct gpuvm_alloc *gpuvm_ctx_find(struct gpuvm_ctx *ctx, gpuvm_devptr ptr, uint64_t n)
{
	for (struct gpuvm_alloc *a = ctx->allocs; a; a = a->next)
		if (ptr >= a->bo.va && ptr - a->bo.va < a->size) {
			if (n > a->size - (ptr - a->bo.va)) {
				gpuvm_fail(GPUVM_ERR_INVALID, "range 0x%llx+%llu runs past the end of "
					   "its %llu-byte allocation", (unsigned long long)ptr,
					   (unsigned long long)n, (unsigned long long)a->size);
				return NULL;
			}
			return a;
		}
	gpuvm_fail(GPUVM_ERR_INVALID, "0x%llx is not inside an allocation of this context",
		   (unsigned long long)ptr);
	return NULL;
}

static unsigned timeout_from_env(void)
{
	const char *s = getenv("GPUVM_TIMEOUT_MS");
	char *end;
	unsigned long v;

	if (!s || !*s)
		return GPUVM_DEFAULT_TIMEOUT_MS;
	v = strtoul(s, &end, 10);
	return *end || v == 0 || v > 86400000ul ? GPUVM_DEFAULT_TIMEOUT_MS : (unsigned)v;
}

static void ctx_apply_options(struct gpuvm_ctx *ctx, const struct gpuvm_ctx_options *opts)
{
	if (opts)
		ctx->opts = *opts;
	if (!ctx->opts.timeout_ms)
		ctx->opts.timeout_ms = timeout_from_env();
	if (!ctx->opts.bar1_copy_max)
		ctx->opts.bar1_copy_max = GPUVM_DEFAULT_BAR1_COPY_MAX;
}

/*
 * The constant buffer for parameters and the zero page used for fills.
 * The zero page is written at the first fill: a context that never needs
 * one skips the write, and by then a vGPU that batches mappings has sent
 * its BAR1 mapping with other requests instead of in a batch of its own.
 */
static int ctx_small_buffers(struct gpuvm_ctx *ctx)
{
	int err = nvc0_bo_new(ctx->dev, GPUVM_PARAM_MAX_BYTES, &ctx->params);

	if (!err)
		err = nvc0_bo_map(&ctx->params, &ctx->vm, false);
	if (!err)
		err = nvc0_bo_new(ctx->dev, NV_SPAGE_SIZE, &ctx->zero);
	if (!err)
		err = nvc0_bo_map(&ctx->zero, &ctx->vm, true);
	if (!err)
		err = nvc0_bo_map_bar1(&ctx->zero);
	return err;
}

static int zero_page_write(struct gpuvm_ctx *ctx)
{
	static const uint8_t zero[NV_SPAGE_SIZE];
	int err;

	if (ctx->zero_written)
		return GPUVM_OK;
	err = nvc0_bar1_write(ctx->dev, ctx->zero.bar1, zero, sizeof(zero));
	if (!err)
		nvc0_bar_flush(ctx->dev);
	ctx->zero_written = !err;
	return err;
}

int gpuvm_ctx_create(struct gpuvm_device *dev, const struct gpuvm_ctx_options *opts,
		     struct gpuvm_ctx **out)
{
	uint64_t t0 = gpuvm_now_ns();
	struct gpuvm_ctx *ctx;
	int err;

	if (!dev || !out)
		return gpuvm_fail(GPUVM_ERR_INVALID, "context create: NULL argument");
	*out = NULL;
	if (opts && opts->copy_path > GPUVM_COPY_M2MF)
		return gpuvm_fail(GPUVM_ERR_INVALID, "context create: bad copy path %d", opts->copy_path);
	err = nvc0_device_up(dev);
	if (err)
		return err;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "context create: out of host memory");
	ctx_apply_options(ctx, opts);
	nvc0_device_ref(dev);
	ctx->dev = dev;
	err = nvc0_vm_init(dev, &ctx->vm, "channel", GPUVM_VA_BASE, NV_VA_LIMIT, false);
	if (err)
		goto err_dev;
	err = nvc0_channel_new(dev, &ctx->vm, &ctx->chan);
	if (err)
		goto err_vm;
	ctx->chan.timeout_ms = ctx->opts.timeout_ms;
	err = ctx_small_buffers(ctx);
	if (err)
		goto err_buffers;
	ctx->magic = GPUVM_CTX_MAGIC;
	*out = ctx;
	gpuvm_phase_add(ctx->opts.timing, GPUVM_PHASE_INIT, t0);
	return GPUVM_OK;

err_buffers:
	nvc0_channel_del(&ctx->chan);
	nvc0_bo_del(&ctx->zero);
	nvc0_bo_del(&ctx->params);
err_vm:
	nvc0_vm_fini(&ctx->vm);
err_dev:
	gpuvm_device_close(dev);
	free(ctx);
	return err;
}

int gpuvm_ctx_open(const char *spec, const struct gpuvm_ctx_options *opts, struct gpuvm_ctx **out)
{
	uint64_t t0 = gpuvm_now_ns(), opened;
	struct gpuvm_device *dev;
	int err;

	if (!out)
		return gpuvm_fail(GPUVM_ERR_INVALID, "context open: NULL result pointer");
	*out = NULL;
	err = gpuvm_device_open(spec, &dev);
	if (err)
		return err;
	opened = gpuvm_now_ns();
	err = gpuvm_ctx_create(dev, opts, out);
	gpuvm_device_close(dev);   /* the context holds its own reference */
	if (!err && opts && opts->timing)   /* opening the device is part of init too */
		opts->timing->ns[GPUVM_PHASE_INIT] += opened - t0;
	return err;
}

static void ctx_free_allocs(struct gpuvm_ctx *ctx)
{
	while (ctx->allocs) {
		struct gpuvm_alloc *a = ctx->allocs;

		ctx->allocs = a->next;
		nvc0_bo_del(&a->bo);
		free(a);
	}
}

int gpuvm_ctx_destroy(struct gpuvm_ctx *ctx)
{
	uint64_t t0 = gpuvm_now_ns();
	struct gpuvm_timing *timing;
	struct gpuvm_device *dev;
	int err;

	if (!ctx || ctx->magic != GPUVM_CTX_MAGIC)
		return gpuvm_fail(GPUVM_ERR_BAD_HANDLE, "context destroy: not a live context");
	timing = ctx->opts.timing;
	dev = ctx->dev;
	err = ctx->chan.fault_err ? GPUVM_OK : nvc0_channel_sync(&ctx->chan);
	ctx->magic = 0;
	/* Off the GPU first, so nothing it still does can touch freed memory. */
	nvc0_channel_del(&ctx->chan);
	gpuvm_modules_free(ctx);
	ctx_free_allocs(ctx);
	gpuvm_staging_free(ctx);
	nvc0_bo_del(&ctx->zero);
	nvc0_bo_del(&ctx->params);
	nvc0_vm_fini(&ctx->vm);
	free(ctx);
	gpuvm_device_close(dev);
	gpuvm_phase_add(timing, GPUVM_PHASE_CLOSE, t0);
	return err;
}

struct gpuvm_device *gpuvm_ctx_device(struct gpuvm_ctx *ctx)
{
	return ctx && ctx->magic == GPUVM_CTX_MAGIC ? ctx->dev : NULL;
}

int gpuvm_ctx_channel(struct gpuvm_ctx *ctx)
{
	return ctx && ctx->magic == GPUVM_CTX_MAGIC ? ctx->chan.chid : -1;
}

int gpuvm_ctx_set_copy_path(struct gpuvm_ctx *ctx, enum gpuvm_copy_path path)
{
	if (!ctx || ctx->magic != GPUVM_CTX_MAGIC)
		return gpuvm_fail(GPUVM_ERR_BAD_HANDLE, "set copy path: not a live context");
	if (path > GPUVM_COPY_M2MF)
		return gpuvm_fail(GPUVM_ERR_INVALID, "set copy path: bad path %d", path);
	ctx->opts.copy_path = path;
	return GPUVM_OK;
}

int gpuvm_ctx_set_timeout(struct gpuvm_ctx *ctx, unsigned timeout_ms)
{
	if (!ctx || ctx->magic != GPUVM_CTX_MAGIC)
		return gpuvm_fail(GPUVM_ERR_BAD_HANDLE, "set timeout: not a live context");
	ctx->opts.timeout_ms = timeout_ms ? timeout_ms : timeout_from_env();
	ctx->chan.timeout_ms = ctx->opts.timeout_ms;
	return GPUVM_OK;
}

/*
 * A buffer small enough for the BAR1 copy path gets its BAR1 mapping now
 * rather than at its first copy: a vGPU that batches mappings then sends
 * the mappings of all the buffers made so far in one batch, at the first
 * copy or launch, instead of one batch per buffer.  No room in BAR1 is no
 * error: the copy falls back to M2MF.
 */
static void alloc_map_bar1_early(struct gpuvm_ctx *ctx, struct gpuvm_alloc *a)
{
	if (ctx->opts.copy_path != GPUVM_COPY_M2MF && a->size <= ctx->opts.bar1_copy_max)
		(void)nvc0_bo_map_bar1(&a->bo);
}

/* Queue the clearing of an allocation (M2MF repeating the zero page); no kick. */
int gpuvm_alloc_fill(struct gpuvm_ctx *ctx, struct gpuvm_alloc *a)
{
	int err;

	if (!a->fill_pending)
		return GPUVM_OK;
	err = zero_page_write(ctx);
	if (err)
		return err;
	err = nvc0_m2mf_fill_page(&ctx->chan, a->bo.va, ctx->zero.va, a->bo.size);
	if (err)
		nvc0_pb_discard(&ctx->chan);
	else
		a->fill_pending = false;
	return err;
}

/* Every fill still pending, ahead of work that may touch any allocation. */
int gpuvm_allocs_fill(struct gpuvm_ctx *ctx)
{
	int err = GPUVM_OK;

	for (struct gpuvm_alloc *a = ctx->allocs; a && !err; a = a->next)
		err = gpuvm_alloc_fill(ctx, a);
	return err;
}

int gpuvm_mem_alloc(struct gpuvm_ctx *ctx, size_t size, gpuvm_devptr *out)
{
	uint64_t t0 = gpuvm_now_ns();
	struct gpuvm_alloc *a;
	int err = gpuvm_ctx_check(ctx);

	if (err)
		return err;
	if (!out || !size)
		return gpuvm_fail(GPUVM_ERR_INVALID, "mem alloc: %s", out ? "zero size" : "NULL result");
	a = calloc(1, sizeof(*a));
	if (!a)
		return gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "mem alloc: out of host memory");
	a->size = size;
	err = nvc0_bo_new(ctx->dev, size, &a->bo);
	if (err)
		goto err_free;
	err = nvc0_bo_map(&a->bo, &ctx->vm, false);
	if (!err)
		alloc_map_bar1_early(ctx, a);
	if (err)
		goto err_bo;
	a->fill_pending = !ctx->opts.no_zero_fill;
	a->next = ctx->allocs;
	ctx->allocs = a;
	*out = a->bo.va;
	gpuvm_phase_add(ctx->opts.timing, GPUVM_PHASE_ALLOC, t0);
	return GPUVM_OK;

err_bo:
	nvc0_bo_del(&a->bo);
err_free:
	free(a);
	return err;
}

int gpuvm_mem_free(struct gpuvm_ctx *ctx, gpuvm_devptr ptr)
{
	uint64_t t0 = gpuvm_now_ns();
	struct gpuvm_alloc **p, *a;
	int err;

	/* A context with a sticky fault or timeout may still free: its channel is stopped. */
	if (!ctx || ctx->magic != GPUVM_CTX_MAGIC)
		return gpuvm_fail(GPUVM_ERR_BAD_HANDLE, "mem free: not a live context");
	for (p = &ctx->allocs; *p && (*p)->bo.va != ptr; p = &(*p)->next)
		;
	if (!*p)
		return gpuvm_fail(GPUVM_ERR_BAD_HANDLE, "mem free: 0x%llx is not an allocation of "
				  "this context", (unsigned long long)ptr);
	/* The GPU may still use the buffer: free only what it has finished with. */
	err = ctx->chan.fault_err ? GPUVM_OK : nvc0_channel_sync(&ctx->chan);
	if (err)
		return err;
	a = *p;
	*p = a->next;
	nvc0_bo_del(&a->bo);
	free(a);
	gpuvm_phase_add(ctx->opts.timing, GPUVM_PHASE_ALLOC, t0);
	return GPUVM_OK;
}

int gpuvm_ctx_synchronize(struct gpuvm_ctx *ctx)
{
	uint64_t t0 = gpuvm_now_ns();
	int err = gpuvm_ctx_check(ctx);

	if (err)
		return err;
	err = nvc0_channel_sync(&ctx->chan);
	gpuvm_phase_add(ctx->opts.timing, GPUVM_PHASE_LAUNCH_SYNC, t0);
	return err;
}
