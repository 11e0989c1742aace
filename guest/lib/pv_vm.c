/*
 * Channel VMs and channels in the pv modes: the page tables belong to
 * gpuvmd.  Creating a VM asks for an address space, a map or unmap becomes
 * one request for the whole range, and binding a channel asks the daemon to
 * put the instance block on a channel with that space.  The driver never
 * writes a page table or the channel table, so nothing is trapped or
 * shadowed.  In pv, page-table requests are sent in one batch before the
 * next submission (before_kick).
 */
#include <errno.h>

#include "gpuvm_pv.h"
#include "nvc0_driver.h"

static int pv_vm_create(struct nvc0_vm *vm)
{
	struct gpuvm_pv_req r = { .op = GPUVM_PV_OP_AS_CREATE, .size = vm->limit };
	int err;

	nvc0_lock(vm->dev);
	err = nvc0_pv_call(vm->dev, &r, &vm->pv_handle);
	nvc0_unlock(vm->dev);
	return err;
}

static void pv_vm_destroy(struct nvc0_vm *vm)
{
	struct gpuvm_pv_req r = { .op = GPUVM_PV_OP_AS_DESTROY, .handle = vm->pv_handle };

	nvc0_lock(vm->dev);
	nvc0_pv_call(vm->dev, &r, NULL);
	nvc0_unlock(vm->dev);
}

/* The daemon puts its own directory into the channel's instance block. */
static int pv_vm_bind_inst(struct nvc0_vm *vm, const struct nvc0_kobj *inst)
{
	GPUVM_UNUSED(vm);
	GPUVM_UNUSED(inst);
	return GPUVM_OK;
}

static int pv_vm_range(struct nvc0_vm *vm, uint32_t op, uint64_t va, uint64_t phys, uint64_t size,
		       unsigned page_shift, bool read_only)
{
	struct gpuvm_pv_req r = {
		.op = op, .handle = vm->pv_handle, .va = va, .addr = phys, .size = size,
		.flags = (page_shift == NV_LPAGE_SHIFT ? GPUVM_PV_MAP_LARGE : 0) |
			 (read_only ? GPUVM_PV_MAP_RO : 0),
	};
	struct gpuvm_pv_req f = { .op = GPUVM_PV_OP_FLUSH, .handle = vm->pv_handle };
	int err = nvc0_vm_check_range(vm, va, size, page_shift);

	if (err)
		return err;
	nvc0_lock(vm->dev);
	err = nvc0_pv_queue(vm->dev, &r);
	if (!err)
		err = nvc0_pv_queue(vm->dev, &f);
	nvc0_unlock(vm->dev);
	return err;
}

static int pv_vm_map(struct nvc0_vm *vm, uint64_t va, uint64_t phys, uint64_t size,
		     unsigned page_shift, bool read_only)
{
	return pv_vm_range(vm, GPUVM_PV_OP_MAP, va, phys, size, page_shift, read_only);
}

static int pv_vm_unmap(struct nvc0_vm *vm, uint64_t va, uint64_t size, unsigned page_shift)
{
	return pv_vm_range(vm, GPUVM_PV_OP_UNMAP, va, 0, size, page_shift, false);
}

static int pv_vm_flush(struct nvc0_vm *vm)
{
	struct gpuvm_pv_req f = { .op = GPUVM_PV_OP_FLUSH, .handle = vm->pv_handle };
	int err;

	nvc0_lock(vm->dev);
	err = nvc0_pv_queue(vm->dev, &f);
	nvc0_unlock(vm->dev);
	return err;
}

static int chan_bind(struct nvc0_channel *chan, uint32_t run)
{
	struct gpuvm_pv_req r = { .op = GPUVM_PV_OP_CHAN_BIND, .handle = chan->vm->pv_handle,
				  .flags = (uint32_t)chan->chid | run, .addr = chan->inst.phys };
	int err;

	nvc0_lock(chan->dev);
	err = nvc0_pv_call(chan->dev, &r, NULL);
	chan->pv_bound = !err;
	nvc0_unlock(chan->dev);
	return err;
}

static int pv_chan_bind(struct nvc0_channel *chan)
{
	return chan_bind(chan, 0);
}

/*
 * Bound, runnable and on the runlist in one request (GPUVM_PV_F_CHAN_RUN),
 * queued: it goes with the channel's first submission (the driver binds
 * its engine objects at once).  A failure is reported by that submission,
 * and the unbind of the failed channel then finds nothing to do.
 */
static int pv_chan_bind_run(struct nvc0_channel *chan)
{
	struct gpuvm_pv_req r = { .op = GPUVM_PV_OP_CHAN_BIND, .handle = chan->vm->pv_handle,
				  .flags = (uint32_t)chan->chid | GPUVM_PV_CHAN_RUN, .addr = chan->inst.phys };
	int err;

	nvc0_lock(chan->dev);
	err = nvc0_pv_queue(chan->dev, &r);
	chan->pv_bound = !err;
	nvc0_unlock(chan->dev);
	return err;
}

/* Called twice when a channel is killed; the second has nothing to do. */
static void pv_chan_unbind(struct nvc0_channel *chan)
{
	struct gpuvm_pv_req r = { .op = GPUVM_PV_OP_CHAN_UNBIND, .flags = (uint32_t)chan->chid };

	nvc0_lock(chan->dev);
	if (chan->pv_bound)
		nvc0_pv_call(chan->dev, &r, NULL);
	chan->pv_bound = false;
	nvc0_unlock(chan->dev);
}

/*
 * A channel torn down, not killed: the unbind goes with the next batch
 * (with the address space's destroy, as a context ends).  Its memory may be
 * reused meanwhile only through a BAR access, which sends the batch first,
 * or through GPU work submitted behind it in the same batch.
 */
static void pv_chan_unbind_deferred(struct nvc0_channel *chan)
{
	struct gpuvm_pv_req r = { .op = GPUVM_PV_OP_CHAN_UNBIND, .flags = (uint32_t)chan->chid };
	struct gpuvm_device *dev = chan->dev;

	nvc0_lock(dev);
	if (chan->pv_bound && nvc0_pv_queue(dev, &r) == GPUVM_OK)
		dev->pv.unbind_queued = dev->pv.queued > 0;
	chan->pv_bound = false;
	nvc0_unlock(dev);
}

static int pv_chan_before_kick(struct nvc0_channel *chan)
{
	int err;

	nvc0_lock(chan->dev);
	err = nvc0_pv_send(chan->dev);
	nvc0_unlock(chan->dev);
	return err;
}

/* With SUBMIT, queued page-table work goes in the same batch as the submission. */
static int pv_chan_nothing_before_kick(struct nvc0_channel *chan)
{
	GPUVM_UNUSED(chan);
	return GPUVM_OK;
}

static int pv_chan_submit(struct nvc0_channel *chan, uint32_t put)
{
	struct gpuvm_pv_req r = { .op = GPUVM_PV_OP_SUBMIT, .flags = (uint32_t)chan->chid, .va = put };
	int err;

	nvc0_lock(chan->dev);
	err = nvc0_pv_call(chan->dev, &r, NULL);
	nvc0_unlock(chan->dev);
	return err;
}

static const struct nvc0_chan_ops pv_chan_ops = {
	.bind = pv_chan_bind,
	.unbind = pv_chan_unbind,
	.before_kick = pv_chan_before_kick,
};

/* pv with the version 1 extensions (GPUVM_PV_F_CHAN_RUN and GPUVM_PV_F_SUBMIT). */
static const struct nvc0_chan_ops pv_fast_chan_ops = {
	.bind = pv_chan_bind_run,
	.unbind = pv_chan_unbind,
	.before_kick = pv_chan_nothing_before_kick,
	.submit = pv_chan_submit,
	.bind_runs = true,
	.unbind_deferred = pv_chan_unbind_deferred,
};

static const struct nvc0_vm_ops pv_fast_vm_ops = {
	.name = "pv",
	.create = pv_vm_create,
	.destroy = pv_vm_destroy,
	.bind_inst = pv_vm_bind_inst,
	.map = pv_vm_map,
	.unmap = pv_vm_unmap,
	.flush = pv_vm_flush,
	.chan = &pv_fast_chan_ops,
};

static const struct nvc0_vm_ops pv_vm_ops = {
	.name = "pv",
	.create = pv_vm_create,
	.destroy = pv_vm_destroy,
	.bind_inst = pv_vm_bind_inst,
	.map = pv_vm_map,
	.unmap = pv_vm_unmap,
	.flush = pv_vm_flush,
	.chan = &pv_chan_ops,
};

/* ---- BAR VMs: the driver's tables, PTEs written by gpuvmd in the pv modes ------------ */

static unsigned bar_of(struct nvc0_vm *vm)
{
	return vm == &vm->dev->bar1.vm ? 1 : 3;
}

static bool bar_pv_usable(struct gpuvm_device *dev)
{
	return dev->pv.area_ready && dev->pv.mode != GPUVM_PV_MODE_FULL;
}

static int bar_tables(struct nvc0_vm *vm, uint64_t va, uint64_t size, bool large)
{
	int err = GPUVM_OK;

	for (uint64_t a = va; a < va + size && !err; a = ((a >> NV_PDE_SHIFT) + 1) << NV_PDE_SHIFT)
		err = nvc0_vm_table(vm, (unsigned)(a >> NV_PDE_SHIFT), large);
	return err;
}

/*
 * One request; -1 if the mode changed.  An unmap may wait for the next
 * batch, as nothing uses the range meanwhile and later requests on it are
 * queued after it.  A map may wait too, but only until the CPU next touches
 * those BAR pages (nvc0_pv_bar_sync): a channel's ring, pushbuffer and fence page
 * are then mapped in one batch.
 */
static int bar_request(struct nvc0_vm *vm, uint32_t op, uint64_t va, uint64_t phys, uint64_t size,
		       unsigned page_shift, bool read_only)
{
	struct gpuvm_pv_req r = {
		.op = op, .handle = bar_of(vm), .va = va, .addr = phys, .size = size,
		.flags = (page_shift == NV_LPAGE_SHIFT ? GPUVM_PV_MAP_LARGE : 0) |
			 (read_only ? GPUVM_PV_MAP_RO : 0),
	};
	int err = nvc0_vm_check_range(vm, va, size, page_shift);

	if (!err)
		err = bar_tables(vm, va, size, page_shift == NV_LPAGE_SHIFT);
	if (!err)
		err = nvc0_pv_queue(vm->dev, &r);
	if (!err && op == GPUVM_PV_OP_BAR_MAP)
		nvc0_pv_note_mapping(vm->dev, bar_of(vm), va, size);
	if (err && vm->dev->pv.last_status == -EPERM) {
		vm->dev->pv.mode = GPUVM_PV_MODE_FULL;  /* switched to full meanwhile */
		return -1;
	}
	return err;
}

static int pv_bar_map(struct nvc0_vm *vm, uint64_t va, uint64_t phys, uint64_t size,
		      unsigned page_shift, bool read_only)
{
	int err = -1;

	nvc0_lock(vm->dev);
	if (bar_pv_usable(vm->dev))
		err = bar_request(vm, GPUVM_PV_OP_BAR_MAP, va, phys, size, page_shift, read_only);
	if (err < 0)
		err = nvc0_vm_hw_map(vm, va, phys, size, page_shift, read_only);
	nvc0_unlock(vm->dev);
	return err;
}

static int pv_bar_unmap(struct nvc0_vm *vm, uint64_t va, uint64_t size, unsigned page_shift)
{
	int err = -1;

	nvc0_lock(vm->dev);
	if (bar_pv_usable(vm->dev))
		err = bar_request(vm, GPUVM_PV_OP_BAR_UNMAP, va, 0, size, page_shift, false);
	if (err < 0)
		err = nvc0_vm_hw_unmap(vm, va, size, page_shift);
	nvc0_unlock(vm->dev);
	return err;
}

static int bar_create(struct nvc0_vm *vm) { return nvc0_vm_hw_ops.create(vm); }
static void bar_destroy(struct nvc0_vm *vm) { nvc0_vm_hw_ops.destroy(vm); }
static int bar_flush(struct nvc0_vm *vm) { return nvc0_vm_hw_ops.flush(vm); }

static int bar_bind_inst(struct nvc0_vm *vm, const struct nvc0_kobj *inst)
{
	return nvc0_vm_hw_ops.bind_inst(vm, inst);
}

static const struct nvc0_vm_ops pv_bar_vm_ops = {
	.name = "bar",
	.create = bar_create,
	.destroy = bar_destroy,
	.bind_inst = bar_bind_inst,
	.map = pv_bar_map,
	.unmap = pv_bar_unmap,
	.flush = bar_flush,
	.chan = NULL,       /* no channel runs on a BAR VM */
};

const struct nvc0_vm_ops *nvc0_pv_bar_vm_ops(void)
{
	return &pv_bar_vm_ops;
}

const struct nvc0_vm_ops *nvc0_pv_vm_ops(struct gpuvm_device *dev)
{
	const struct nvc0_vm_ops *ops;

	const uint32_t fast = GPUVM_PV_F_CHAN_RUN | GPUVM_PV_F_SUBMIT;

	nvc0_lock(dev);
	if (nvc0_pv_mode(dev) == GPUVM_PV_MODE_FULL)
		ops = NULL;
	else
		ops = (dev->pv.features & fast) == fast ? &pv_fast_vm_ops : &pv_vm_ops;
	nvc0_unlock(dev);
	return ops;
}
