/*
 * Host<->device copies.
 *
 *   BAR1 path   the CPU reads or writes the buffer through its BAR1 mapping
 *               (made on first use, kept until free).  Cheapest for small
 *               copies; it waits for earlier GPU work first.
 *   M2MF path   the CPU fills (or drains) one of two 1 MiB BAR1 staging
 *               buffers while M2MF moves the other one, as Gdev pipelines
 *               its DMA bounce buffers.  The copies are ordered in the
 *               channel, so earlier work needs no explicit wait.
 *
 * GPUVM_COPY_AUTO takes BAR1 up to bar1_copy_max bytes, M2MF beyond, and
 * M2MF whenever BAR1 has no room for the buffer.
 *
 * A new allocation's zero fill (runtime_priv.h) is settled here: a copy
 * that writes all of it makes the fill unnecessary, any other copy into it
 * queues the fill ahead of itself, and a copy out of it before anything
 * wrote it is zeros without asking the GPU.
 */
#include <string.h>

#include "runtime_priv.h"

static int staging_ready(struct gpuvm_ctx *ctx)
{
	int err = GPUVM_OK;

	for (unsigned i = 0; i < 2 && !err; i++) {
		if (ctx->staging[i].dev)
			continue;
		err = nvc0_bo_new(ctx->dev, GPUVM_STAGING_SIZE, &ctx->staging[i]);
		if (!err)
			err = nvc0_bo_map(&ctx->staging[i], &ctx->vm, false);
		if (!err)
			err = nvc0_bo_map_bar1(&ctx->staging[i]);
		if (err)
			nvc0_bo_del(&ctx->staging[i]);
		ctx->staging_seq[i] = ctx->chan.seq_done;   /* unused yet: no wait */
	}
	return err;
}

void gpuvm_staging_free(struct gpuvm_ctx *ctx)
{
	for (unsigned i = 0; i < 2; i++)
		nvc0_bo_del(&ctx->staging[i]);
}

static bool use_bar1(struct gpuvm_ctx *ctx, struct nvc0_bo *bo, uint64_t n)
{
	switch (ctx->opts.copy_path) {
	case GPUVM_COPY_BAR1:
		return true;
	case GPUVM_COPY_M2MF:
		return false;
	case GPUVM_COPY_AUTO:
		break;
	}
	if (n > ctx->opts.bar1_copy_max)
		return false;
	/* No BAR1 room for the buffer: fall back to staging quietly. */
	return nvc0_bo_map_bar1(bo) == GPUVM_OK;
}

/* The mapping is asked for before the wait, so that a vGPU that batches it
 * can send it with the submission the wait may make. */
static int bar1_to_bo(struct gpuvm_ctx *ctx, struct nvc0_bo *bo, uint64_t off, const void *src,
		      uint64_t n)
{
	int err = nvc0_bo_map_bar1(bo);

	if (!err)
		err = nvc0_channel_sync(&ctx->chan);
	if (!err)
		err = nvc0_bar1_write(ctx->dev, bo->bar1 + off, src, (size_t)n);
	if (!err)
		nvc0_bar_flush(ctx->dev);
	return err;
}

/* Zeros through BAR1: the part of a buffer's last page no copy writes. */
static int bar1_zero(struct gpuvm_ctx *ctx, struct nvc0_bo *bo, uint64_t off, uint64_t n)
{
	static const uint8_t zero[NV_SPAGE_SIZE];
	int err = GPUVM_OK;

	for (uint64_t len; n && !err; off += len, n -= len) {
		len = n < sizeof(zero) ? n : sizeof(zero);
		err = nvc0_bar1_write(ctx->dev, bo->bar1 + off, zero, (size_t)len);
	}
	return err;
}

static int bar1_from_bo(struct gpuvm_ctx *ctx, void *dst, struct nvc0_bo *bo, uint64_t off,
			uint64_t n)
{
	int err = nvc0_bo_map_bar1(bo);

	if (!err)
		err = nvc0_channel_sync(&ctx->chan);
	if (!err)
		err = nvc0_bar1_read(ctx->dev, bo->bar1 + off, dst, (size_t)n);
	return err;
}

/* Queue an M2MF copy and submit it; returns the fence that covers it. */
static int m2mf_submit(struct gpuvm_ctx *ctx, uint64_t dst, uint64_t src, uint64_t n, uint32_t *seq)
{
	int err = nvc0_m2mf_copy(&ctx->chan, dst, src, n);

	if (!err)
		err = nvc0_pb_kick(&ctx->chan);
	if (err) {
		nvc0_pb_discard(&ctx->chan);
		return err;
	}
	*seq = ctx->chan.seq_emitted;
	return GPUVM_OK;
}

static uint64_t chunk_len(uint64_t n, uint64_t index)
{
	uint64_t at = index * GPUVM_STAGING_SIZE;

	return n - at < GPUVM_STAGING_SIZE ? n - at : GPUVM_STAGING_SIZE;
}

static int m2mf_to_bo(struct gpuvm_ctx *ctx, struct nvc0_bo *bo, uint64_t off, const uint8_t *src,
		      uint64_t n)
{
	int err = staging_ready(ctx);

	for (uint64_t done = 0, k = 0; !err && done < n; k++) {
		struct nvc0_bo *stage = &ctx->staging[k % 2];
		uint64_t len = chunk_len(n, k);

		err = nvc0_fence_wait(&ctx->chan, ctx->staging_seq[k % 2]);
		if (!err)
			err = nvc0_bar1_write(ctx->dev, stage->bar1, src + done, (size_t)len);
		if (!err) {
			nvc0_bar_flush(ctx->dev);
			err = m2mf_submit(ctx, bo->va + off + done, stage->va, len,
					  &ctx->staging_seq[k % 2]);
		}
		done += len;
	}
	if (!err)
		err = nvc0_fence_wait(&ctx->chan, ctx->chan.seq_emitted);
	return err;
}

static int m2mf_from_bo(struct gpuvm_ctx *ctx, uint8_t *dst, struct nvc0_bo *bo, uint64_t off,
			uint64_t n)
{
	uint64_t chunks = (n + GPUVM_STAGING_SIZE - 1) / GPUVM_STAGING_SIZE;
	uint64_t submitted = 0, drained = 0;
	int err = staging_ready(ctx);

	while (!err && drained < chunks) {
		/* Keep both staging buffers busy, then drain the oldest. */
		for (; !err && submitted < chunks && submitted - drained < 2; submitted++)
			err = m2mf_submit(ctx, ctx->staging[submitted % 2].va,
					  bo->va + off + submitted * GPUVM_STAGING_SIZE,
					  chunk_len(n, submitted), &ctx->staging_seq[submitted % 2]);
		if (!err)
			err = nvc0_fence_wait(&ctx->chan, ctx->staging_seq[drained % 2]);
		if (!err)
			err = nvc0_bar1_read(ctx->dev, ctx->staging[drained % 2].bar1,
					     dst + drained * GPUVM_STAGING_SIZE,
					     (size_t)chunk_len(n, drained));
		drained++;
	}
	return err;
}

int gpuvm_copy_to_bo(struct gpuvm_ctx *ctx, struct nvc0_bo *bo, uint64_t off,
		     const void *src, uint64_t n)
{
	if (use_bar1(ctx, bo, n))
		return bar1_to_bo(ctx, bo, off, src, n);
	return m2mf_to_bo(ctx, bo, off, src, n);
}

int gpuvm_copy_from_bo(struct gpuvm_ctx *ctx, void *dst, struct nvc0_bo *bo, uint64_t off,
		       uint64_t n)
{
	if (use_bar1(ctx, bo, n))
		return bar1_from_bo(ctx, dst, bo, off, n);
	return m2mf_from_bo(ctx, dst, bo, off, n);
}

/*
 * Host to a whole allocation whose fill is pending: the fill is dropped.
 * The rest of its last page is cleared with the data on the BAR1 path; on
 * the M2MF path only an allocation that fills its pages skips the fill.
 */
static int copy_to_new_alloc(struct gpuvm_ctx *ctx, struct gpuvm_alloc *a, const void *src)
{
	struct nvc0_bo *bo = &a->bo;
	int err;

	if (!use_bar1(ctx, bo, a->size)) {
		/* A fill is queued before the copy in the channel: no wait. */
		err = a->size == bo->size ? GPUVM_OK : gpuvm_alloc_fill(ctx, a);
		if (!err)
			err = m2mf_to_bo(ctx, bo, 0, src, a->size);
		if (!err)
			a->fill_pending = false;    /* else a later use still clears it */
		return err;
	}
	/* No GPU work has touched it yet, so none needs waiting for. */
	err = nvc0_bo_map_bar1(bo);
	if (!err)
		err = bar1_zero(ctx, bo, a->size, bo->size - a->size);
	if (!err)
		err = nvc0_bar1_write(ctx->dev, bo->bar1, src, (size_t)a->size);
	if (err)
		return err;
	nvc0_bar_flush(ctx->dev);
	a->fill_pending = false;
	return GPUVM_OK;
}

static int copy_to_alloc(struct gpuvm_ctx *ctx, struct gpuvm_alloc *a, uint64_t off, const void *src,
			 uint64_t n)
{
	int err;

	if (a->fill_pending && off == 0 && n == a->size)
		return copy_to_new_alloc(ctx, a, src);
	err = gpuvm_alloc_fill(ctx, a);
	return err ? err : gpuvm_copy_to_bo(ctx, &a->bo, off, src, n);
}

int gpuvm_memcpy_htod(struct gpuvm_ctx *ctx, gpuvm_devptr dst, const void *src, size_t n)
{
	uint64_t t0 = gpuvm_now_ns();
	struct gpuvm_alloc *a;
	int err = gpuvm_ctx_check(ctx);

	if (err || !n)
		return err;
	if (!src)
		return gpuvm_fail(GPUVM_ERR_INVALID, "memcpy HtoD: NULL source");
	a = gpuvm_ctx_find(ctx, dst, n);
	if (!a)
		return GPUVM_ERR_INVALID;
	err = copy_to_alloc(ctx, a, dst - a->bo.va, src, n);
	gpuvm_phase_add(ctx->opts.timing, GPUVM_PHASE_HTOD, t0);
	return err;
}

int gpuvm_memcpy_dtoh(struct gpuvm_ctx *ctx, void *dst, gpuvm_devptr src, size_t n)
{
	uint64_t t0 = gpuvm_now_ns();
	struct gpuvm_alloc *a;
	int err = gpuvm_ctx_check(ctx);

	if (err || !n)
		return err;
	if (!dst)
		return gpuvm_fail(GPUVM_ERR_INVALID, "memcpy DtoH: NULL destination");
	a = gpuvm_ctx_find(ctx, src, n);
	if (!a)
		return GPUVM_ERR_INVALID;
	if (a->fill_pending)
		memset(dst, 0, n);      /* nothing has written it since it was made */
	else
		err = gpuvm_copy_from_bo(ctx, dst, &a->bo, src - a->bo.va, n);
	gpuvm_phase_add(ctx->opts.timing, GPUVM_PHASE_DTOH, t0);
	return err;
}

int gpuvm_memcpy_dtod(struct gpuvm_ctx *ctx, gpuvm_devptr dst, gpuvm_devptr src, size_t n)
{
	uint64_t t0 = gpuvm_now_ns();
	struct gpuvm_alloc *d, *s;
	uint32_t seq;
	int err = gpuvm_ctx_check(ctx);

	if (err || !n)
		return err;
	d = gpuvm_ctx_find(ctx, dst, n);
	s = d ? gpuvm_ctx_find(ctx, src, n) : NULL;
	if (!s)
		return GPUVM_ERR_INVALID;
	err = gpuvm_alloc_fill(ctx, d);
	if (!err)
		err = gpuvm_alloc_fill(ctx, s);
	if (!err)
		err = m2mf_submit(ctx, dst, src, n, &seq);
	gpuvm_phase_add(ctx->opts.timing, GPUVM_PHASE_LAUNCH_SYNC, t0);
	return err;
}
