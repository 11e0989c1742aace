/*
 * Raw device access for tests and tools (gpuvm_raw.h): registers, BARs and
 * VRAM beside the driver, sharing its lock and PRAMIN window bookkeeping.
 */
#include "runtime_priv.h"
#include "gpuvm_raw.h"

uint32_t gpuvm_raw_rd32(struct gpuvm_device *dev, uint32_t reg)
{
	uint32_t v;

	nvc0_lock(dev);
	v = nvc0_rd32(dev, reg);
	nvc0_unlock(dev);
	return v;
}

void gpuvm_raw_wr32(struct gpuvm_device *dev, uint32_t reg, uint32_t val)
{
	nvc0_lock(dev);
	dev->raw_written = true;
	nvc0_wr32(dev, reg, val);
	if (reg == NV_PBUS_PRAMIN_BASE)
		dev->pramin_known = false;   /* the driver re-seeks before its next access */
	nvc0_unlock(dev);
}

static int raw_bar_check(enum gpuvm_bar bar)
{
	if (bar != GPUVM_BAR1 && bar != GPUVM_BAR3)
		return gpuvm_fail(GPUVM_ERR_INVALID, "raw BAR access: BAR%d is not a memory aperture",
				  (int)bar);
	return GPUVM_OK;
}

static int raw_bar_result(int ret, const char *what, enum gpuvm_bar bar, uint64_t off, size_t len)
{
	if (!ret)
		return GPUVM_OK;
	if (ret == -EFAULT)
		return gpuvm_fail(GPUVM_ERR_FAULTED, "raw BAR%d %s at 0x%llx+%zu: not mapped by the "
				  "BAR's VM", (int)bar, what, (unsigned long long)off, len);
	return gpuvm_fail(GPUVM_ERR_INVALID, "raw BAR%d %s at 0x%llx+%zu: outside the BAR",
			  (int)bar, what, (unsigned long long)off, len);
}

int gpuvm_raw_bar_read(struct gpuvm_device *dev, enum gpuvm_bar bar, uint64_t off,
		       void *buf, size_t len)
{
	int err = raw_bar_check(bar);

	if (!err)
		err = nvc0_pv_bar_sync(dev, (unsigned)bar, off, len);
	if (err)
		return err;
	return raw_bar_result(dev->tp->ops->bar_read(dev->tp, bar, off, buf, len), "read", bar,
			      off, len);
}

int gpuvm_raw_bar_write(struct gpuvm_device *dev, enum gpuvm_bar bar, uint64_t off,
			const void *buf, size_t len)
{
	int err = raw_bar_check(bar);

	if (!err)
		err = nvc0_pv_bar_sync(dev, (unsigned)bar, off, len);
	if (err)
		return err;
	return raw_bar_result(dev->tp->ops->bar_write(dev->tp, bar, off, buf, len), "write", bar,
			      off, len);
}

uint64_t gpuvm_raw_bar_size(struct gpuvm_device *dev, enum gpuvm_bar bar)
{
	return dev->tp->ops->bar_size(dev->tp, bar);
}

uint64_t gpuvm_raw_vram_size(struct gpuvm_device *dev)
{
	return nvc0_vram_size_from_regs(dev->tp);
}

/* PRAMIN helpers check against the driver's size, known before bring-up too. */
static void raw_vram_size_known(struct gpuvm_device *dev)
{
	nvc0_lock(dev);
	if (!dev->vram_size)
		dev->vram_size = nvc0_vram_size_from_regs(dev->tp);
	nvc0_unlock(dev);
}

int gpuvm_raw_vram_read(struct gpuvm_device *dev, uint64_t addr, void *buf, size_t len)
{
	raw_vram_size_known(dev);
	return nvc0_pramin_read(dev, addr, buf, len);
}

int gpuvm_raw_vram_write(struct gpuvm_device *dev, uint64_t addr, const void *buf, size_t len)
{
	dev->raw_written = true;
	raw_vram_size_known(dev);
	return nvc0_pramin_write(dev, addr, buf, len);
}

uint64_t gpuvm_raw_ptimer(struct gpuvm_device *dev)
{
	uint32_t hi, lo, hi2;

	nvc0_lock(dev);
	do {
		hi = nvc0_rd32(dev, NV_PTIMER_TIME_HIGH);
		lo = nvc0_rd32(dev, NV_PTIMER_TIME_LOW);
		hi2 = nvc0_rd32(dev, NV_PTIMER_TIME_HIGH);
	} while (hi != hi2);
	nvc0_unlock(dev);
	return (uint64_t)hi << 32 | lo;
}

struct gpuvm_transport *gpuvm_raw_transport(struct gpuvm_device *dev)
{
	return dev->tp;
}

int gpuvm_raw_ctx_layout(struct gpuvm_ctx *ctx, struct gpuvm_ctx_layout *out)
{
	if (!ctx || ctx->magic != GPUVM_CTX_MAGIC || !out)
		return gpuvm_fail(GPUVM_ERR_BAD_HANDLE, "ctx layout: not a live context");
	out->chid = ctx->chan.chid;
	out->inst = ctx->chan.inst.phys;
	out->pd = ctx->vm.pd.phys;
	out->userd = nvc0_fifo_userd_phys(ctx->dev, ctx->chan.chid);
	out->userd_bar1 = ctx->chan.userd_bar1;
	out->fence_va = ctx->chan.sem.va;
	out->fence_bar1 = ctx->chan.sem.bar1;
	return GPUVM_OK;
}

int gpuvm_raw_ctx_phys(struct gpuvm_ctx *ctx, gpuvm_devptr ptr, uint64_t *phys)
{
	struct gpuvm_alloc *a;

	if (!ctx || ctx->magic != GPUVM_CTX_MAGIC || !phys)
		return gpuvm_fail(GPUVM_ERR_BAD_HANDLE, "ctx phys: not a live context");
	a = gpuvm_ctx_find(ctx, ptr, 1);
	if (!a)
		return GPUVM_ERR_INVALID;
	/* Whoever asks means to look at the memory: it must hold zeros by then. */
	if (a->fill_pending) {
		int err = gpuvm_alloc_fill(ctx, a);

		if (!err)
			err = nvc0_channel_sync(&ctx->chan);
		if (err)
			return err;
	}
	*phys = a->bo.phys + (ptr - a->bo.va);
	return GPUVM_OK;
}
