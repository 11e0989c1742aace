/*
 * Channels: instance block (RAMFC + VM words), USERD page, GPFIFO ring,
 * pushbuffer and fence page; registration with PFIFO and the runlist; and
 * teardown in the order the hardware wants (off the runlist, preempted,
 * unbound, then freed).
 */
#include <stdlib.h>

#include "nvc0_driver.h"

/* RAMFC words drivers set to fixed values (nvc0.md section 5). */
static const struct {
	uint32_t off, val;
} ramfc_fixed[] = {
	{ 0x10, 0x0000face }, { 0x30, 0xfffff902 }, { 0x54, 0x00000002 },
	{ 0x84, 0x20400000 }, { 0x94, 0x30000001 }, { 0x9c, 0x00000100 },
	{ 0xa4, 0x1f1f1f1f }, { 0xa8, 0x1f1f1f1f }, { 0xac, 0x0000001f },
	{ 0xb8, 0xf8000000 }, { 0xf8, 0x10003080 }, { 0xfc, 0x10000010 },
};

static int chan_ramfc_write(struct nvc0_channel *chan)
{
	struct gpuvm_device *dev = chan->dev;
	uint32_t ramfc[64] = { 0 };
	uint64_t userd = nvc0_fifo_userd_phys(dev, chan->chid);

	for (size_t i = 0; i < sizeof(ramfc_fixed) / sizeof(ramfc_fixed[0]); i++)
		ramfc[ramfc_fixed[i].off / 4] = ramfc_fixed[i].val;
	ramfc[NV_RAMFC_USERD_LO / 4] = (uint32_t)userd;
	ramfc[NV_RAMFC_USERD_HI / 4] = (uint32_t)(userd >> 32);
	ramfc[NV_RAMFC_GP_BASE_LO / 4] = (uint32_t)chan->gpfifo.va;
	ramfc[NV_RAMFC_GP_BASE_HI / 4] = (uint32_t)(chan->gpfifo.va >> 32) |
					 (uint32_t)NVC0_GPFIFO_ORDER << 16;
	return nvc0_kobj_write(dev, &chan->inst, 0, ramfc, sizeof(ramfc));
}

/* A buffer the GPU reaches through the channel VM and the CPU through BAR1. */
static int chan_shared_bo(struct nvc0_channel *chan, uint64_t size, struct nvc0_bo *bo)
{
	int err = nvc0_bo_new(chan->dev, size, bo);

	if (err)
		return err;
	err = nvc0_bo_map(bo, chan->vm, false);
	if (!err)
		err = nvc0_bo_map_bar1(bo);
	if (err)
		nvc0_bo_del(bo);
	return err;
}

/*
 * Ring and fence start zeroed; the pushbuffer is always written before use.
 * Done once all three are mapped, so that a vGPU that batches BAR1 maps
 * gets them in one batch.
 */
static int chan_zero_ring_and_fence(struct nvc0_channel *chan)
{
	static const uint8_t zero[NV_SPAGE_SIZE];
	int err = GPUVM_OK;

	for (uint64_t off = 0; off < chan->gpfifo.size && !err; off += sizeof(zero))
		err = nvc0_bar1_write(chan->dev, chan->gpfifo.bar1 + off, zero, sizeof(zero));
	if (!err)
		err = nvc0_bar1_write(chan->dev, chan->sem.bar1, zero, sizeof(zero));
	return err;
}

static int chan_userd_reset(struct nvc0_channel *chan)
{
	static const uint8_t zero[NV_USERD_SIZE];

	chan->userd_bar1 = nvc0_fifo_userd_bar1(chan->dev, chan->chid);
	return nvc0_bar1_write(chan->dev, chan->userd_bar1, zero, sizeof(zero));
}

static int chan_alloc_memory(struct nvc0_channel *chan)
{
	int err = nvc0_kobj_new(chan->dev, NV_INST_SIZE, NV_INST_SIZE, &chan->inst);

	if (!err)
		err = chan_shared_bo(chan, (1u << NVC0_GPFIFO_ORDER) * NV_GPFIFO_ENTRY_SIZE, &chan->gpfifo);
	if (!err)
		err = chan_shared_bo(chan, NVC0_PUSHBUF_SIZE, &chan->pushbuf);
	if (!err)
		err = chan_shared_bo(chan, NV_SPAGE_SIZE, &chan->sem);
	if (!err)
		err = chan_zero_ring_and_fence(chan);
	if (!err) {
		chan->cmd = malloc(NVC0_SEGMENT_WORDS * sizeof(uint32_t));
		if (!chan->cmd)
			err = gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "channel: out of host memory");
	}
	return err;
}

static void chan_free_memory(struct nvc0_channel *chan)
{
	free(chan->cmd);
	chan->cmd = NULL;
	nvc0_bo_del(&chan->sem);
	nvc0_bo_del(&chan->pushbuf);
	nvc0_bo_del(&chan->gpfifo);
	nvc0_kobj_del(chan->dev, &chan->inst);
}

/* Point PFIFO's channel table at the instance block, make it runnable, list it. */
static int chan_register(struct nvc0_channel *chan)
{
	struct gpuvm_device *dev = chan->dev;
	int err;

	nvc0_bar_flush(dev);
	err = chan->ops->bind(chan);
	if (err)
		return err;
	if (!chan->ops->bind_runs)
		nvc0_wr32(dev, NV_PFIFO_CHAN_CTRL(chan->chid), 0x001f0000u | NV_CHAN_CTRL_RUNNABLE);
	nvc0_lock(dev);    /* other threads' runlist updates read the flag */
	chan->registered = true;
	nvc0_unlock(dev);
	return chan->ops->bind_runs ? GPUVM_OK : nvc0_fifo_runlist_update(dev);
}

/*
 * Off the runlist, not runnable, preempted, unbound.  An idle channel is
 * preempted before the unbind, as drivers do; a channel being killed is
 * unbound first, which aborts a kernel still running, so that the preempt
 * does not wait for a kernel that may never end.
 */
static void chan_unregister(struct nvc0_channel *chan, bool kill)
{
	struct gpuvm_device *dev = chan->dev;

	nvc0_lock(dev);
	if (!chan->registered) {
		nvc0_unlock(dev);
		return;
	}
	chan->registered = false;
	nvc0_unlock(dev);
	if (chan->ops->bind_runs) {
		/* The unbind takes it off the runlist, stops and preempts it, and
		 * unbinds it before the preempt, so a running kernel is aborted. */
		if (!kill && chan->ops->unbind_deferred)
			chan->ops->unbind_deferred(chan);
		else
			chan->ops->unbind(chan);
		return;
	}
	nvc0_fifo_runlist_update(dev);
	nvc0_wr32(dev, NV_PFIFO_CHAN_CTRL(chan->chid), 0);
	if (kill)
		chan->ops->unbind(chan);
	nvc0_fifo_kick(dev, chan->chid);
	chan->ops->unbind(chan);
}

int nvc0_channel_new(struct gpuvm_device *dev, struct nvc0_vm *vm, struct nvc0_channel *chan)
{
	int err;

	memset(chan, 0, sizeof(*chan));
	chan->dev = dev;
	chan->vm = vm;
	chan->ops = vm->ops->chan;
	chan->timeout_ms = 60000;
	err = nvc0_fifo_chid_get(dev, chan, &chan->chid);
	if (err)
		return err;
	err = chan_alloc_memory(chan);
	if (!err)
		err = chan_userd_reset(chan);
	if (!err)
		err = chan_ramfc_write(chan);
	if (!err)
		err = nvc0_vm_bind_inst(vm, &chan->inst);
	if (err)
		goto err_memory;
	err = chan_register(chan);
	if (err)
		goto err_registered;
	err = nvc0_compute_bind(chan);
	if (err)
		goto err_registered;
	return GPUVM_OK;

err_registered:
	chan_unregister(chan, false);
err_memory:
	chan_free_memory(chan);
	nvc0_fifo_chid_put(dev, chan->chid);
	return err;
}

void nvc0_channel_kill(struct nvc0_channel *chan)
{
	chan_unregister(chan, true);
}

void nvc0_channel_del(struct nvc0_channel *chan)
{
	if (!chan->dev)
		return;
	chan_unregister(chan, false);
	chan_free_memory(chan);
	nvc0_fifo_chid_put(chan->dev, chan->chid);
	memset(chan, 0, sizeof(*chan));
}
