/*
 * GPU virtual memory (NVC0 MMU): page directories, page tables, virtual
 * address allocation, map/unmap and TLB flushes.  The same code serves
 * channel address spaces and the BAR1/BAR3 VMs.
 *
 * Tables are kernel objects (nvc0_instmem.c), allocated when a PDE is first
 * used and kept until the VM dies.  Every change of a PTE or PDE is followed
 * by a TLB flush of the VM's page directory: gpusim, like the hardware,
 * keeps using a cached translation until flushed, and a hypervisor
 * shadowing the tables syncs them at the flush.
 */
#include <stdlib.h>

#include "nvc0_driver.h"

#define PTE_BATCH      512           /* PTEs written per transport call */
#define FLUSH_WAIT_MS  1000

static int hw_vm_flush(struct nvc0_vm *vm);

/* ---- the public interface: dispatch to the VM's ops ---------------------------- */

static int vm_init_once(struct gpuvm_device *dev, struct nvc0_vm *vm, const char *name,
			uint64_t va_base, uint64_t limit, bool bar_vm)
{
	const struct nvc0_vm_ops *pv = bar_vm ? nvc0_pv_bar_vm_ops() : nvc0_pv_vm_ops(dev);
	int err;

	memset(vm, 0, sizeof(*vm));
	vm->dev = dev;
	vm->name = name;
	vm->limit = limit;
	vm->flush_type = bar_vm ? NV_MMU_FLUSH_HUB_ONLY : 0;
	vm->ops = pv ? pv : &nvc0_vm_hw_ops;
	if (range_init(&vm->va, va_base, limit - va_base))
		return gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "%s VM: out of host memory", name);
	err = vm->ops->create(vm);
	if (err) {
		range_fini(&vm->va);
		memset(vm, 0, sizeof(*vm));
	}
	return err;
}

int nvc0_vm_init(struct gpuvm_device *dev, struct nvc0_vm *vm, const char *name,
		 uint64_t va_base, uint64_t limit, bool bar_vm)
{
	int err = vm_init_once(dev, vm, name, va_base, limit, bar_vm);

	/* A mode switch can apply between reading MODE and the first request
	 * (nothing of ours was live yet): the daemon refused it, ask again. */
	if (err && !bar_vm && nvc0_pv_switched(dev))
		err = vm_init_once(dev, vm, name, va_base, limit, bar_vm);
	return err;
}

void nvc0_vm_fini(struct nvc0_vm *vm)
{
	if (!vm->dev)
		return;
	vm->ops->destroy(vm);
	range_fini(&vm->va);
	memset(vm, 0, sizeof(*vm));
}

int nvc0_vm_bind_inst(struct nvc0_vm *vm, const struct nvc0_kobj *inst)
{
	return vm->ops->bind_inst(vm, inst);
}

int nvc0_vm_map(struct nvc0_vm *vm, uint64_t va, uint64_t phys, uint64_t size,
		unsigned page_shift, bool read_only)
{
	return vm->ops->map(vm, va, phys, size, page_shift, read_only);
}

int nvc0_vm_unmap(struct nvc0_vm *vm, uint64_t va, uint64_t size, unsigned page_shift)
{
	return vm->ops->unmap(vm, va, size, page_shift);
}

int nvc0_vm_flush(struct nvc0_vm *vm)
{
	return vm->ops->flush(vm);
}

/* ---- page tables written by the driver (native, full virtualisation) ----------- */

static int hw_vm_create(struct nvc0_vm *vm)
{
	int err = nvc0_kobj_new(vm->dev, NV_PD_SIZE, NV_SPAGE_SIZE, &vm->pd);

	if (err)
		return err;
	/* The PD may reuse memory of a dead VM: drop whatever the TLB remembers of it. */
	err = hw_vm_flush(vm);
	if (err)
		nvc0_kobj_del(vm->dev, &vm->pd);
	return err;
}

static void hw_vm_destroy(struct nvc0_vm *vm)
{
	for (unsigned i = 0; i < NV_PDE_COUNT; i++) {
		if (!vm->pgt[i])
			continue;
		nvc0_kobj_del(vm->dev, &vm->pgt[i]->spt);
		nvc0_kobj_del(vm->dev, &vm->pgt[i]->lpt);
		free(vm->pgt[i]);
	}
	if (vm->pd.size) {
		hw_vm_flush(vm);
		nvc0_kobj_del(vm->dev, &vm->pd);
	}
}

static int hw_vm_bind_inst(struct nvc0_vm *vm, const struct nvc0_kobj *inst)
{
	uint64_t last = vm->limit - 1;
	uint32_t words[4] = {
		(uint32_t)vm->pd.phys | NV_APER_NONE,   /* target 0: VRAM */
		(uint32_t)(vm->pd.phys >> 32),
		(uint32_t)last,
		(uint32_t)(last >> 32),
	};

	return nvc0_kobj_write(vm->dev, inst, NV_INST_PD_LO, words, sizeof(words));
}

int nvc0_vm_get_va(struct nvc0_vm *vm, uint64_t size, unsigned page_shift, uint64_t *va)
{
	int ret;

	nvc0_lock(vm->dev);
	ret = range_take(&vm->va, size, 1ull << page_shift, va);
	nvc0_unlock(vm->dev);
	if (ret == -ENOSPC)
		return gpuvm_fail(GPUVM_ERR_NO_RESOURCE, "%s VM: no free range of %llu bytes",
				  vm->name, (unsigned long long)size);
	if (ret)
		return gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "%s VM: out of host memory", vm->name);
	return GPUVM_OK;
}

void nvc0_vm_put_va(struct nvc0_vm *vm, uint64_t va, uint64_t size)
{
	nvc0_lock(vm->dev);
	range_give(&vm->va, va, size);
	nvc0_unlock(vm->dev);
}

static int vm_write_pde(struct nvc0_vm *vm, unsigned pde)
{
	const struct nvc0_pgt *t = vm->pgt[pde];
	uint32_t words[2] = {
		t->lpt.size ? nv_pde_word(t->lpt.phys, NV_APER_VRAM) : 0,
		t->spt.size ? nv_pde_word(t->spt.phys, NV_APER_VRAM) : 0,
	};

	return nvc0_kobj_write(vm->dev, &vm->pd, (uint64_t)pde * 8, words, sizeof(words));
}

/* The page table of this PDE for this page size, created on first use. */
static int vm_table(struct nvc0_vm *vm, unsigned pde, bool large, struct nvc0_kobj **out)
{
	struct nvc0_kobj *tab;
	int err;

	if (!vm->pgt[pde]) {
		vm->pgt[pde] = calloc(1, sizeof(*vm->pgt[pde]));
		if (!vm->pgt[pde])
			return gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "%s VM: out of host memory", vm->name);
	}
	tab = large ? &vm->pgt[pde]->lpt : &vm->pgt[pde]->spt;
	if (!tab->size) {
		err = nvc0_kobj_new(vm->dev, large ? NV_LPT_SIZE : NV_SPT_SIZE, NV_SPAGE_SIZE, tab);
		if (err)
			return err;
		err = vm_write_pde(vm, pde);
		if (err) {
			nvc0_kobj_del(vm->dev, tab);
			return err;
		}
	}
	*out = tab;
	return GPUVM_OK;
}

int nvc0_vm_table(struct nvc0_vm *vm, unsigned pde, bool large)
{
	struct nvc0_kobj *tab;

	return vm_table(vm, pde, large, &tab);
}

int nvc0_vm_check_range(struct nvc0_vm *vm, uint64_t va, uint64_t size, unsigned page_shift)
{
	uint64_t mask = (1ull << page_shift) - 1;

	if ((va | size) & mask || va >= vm->limit || size > vm->limit - va)
		return gpuvm_fail(GPUVM_ERR_INVALID, "%s VM: bad range 0x%llx+0x%llx for %u-bit pages",
				  vm->name, (unsigned long long)va, (unsigned long long)size, page_shift);
	return GPUVM_OK;
}

/*
 * Write PTEs for [va, va + size): phys-backed when valid, else zero.  Runs
 * of PTEs inside one PDE are written in batches of PTE_BATCH.
 */
static int vm_write_ptes(struct nvc0_vm *vm, uint64_t va, uint64_t phys, uint64_t size,
			 unsigned page_shift, bool valid, bool read_only)
{
	const bool large = page_shift == NV_LPAGE_SHIFT;
	const uint64_t page = 1ull << page_shift;
	uint64_t ptes[PTE_BATCH];
	int err;

	while (size) {
		unsigned pde = (unsigned)(va >> NV_PDE_SHIFT);
		uint64_t pde_end = ((uint64_t)pde + 1) << NV_PDE_SHIFT;
		uint64_t n = (pde_end - va) >> page_shift;
		uint64_t index = (va & ((1ull << NV_PDE_SHIFT) - 1)) >> page_shift;
		struct nvc0_kobj *tab = NULL;

		if (n > size >> page_shift)
			n = size >> page_shift;
		if (n > PTE_BATCH)
			n = PTE_BATCH;
		err = vm_table(vm, pde, large, &tab);
		if (err)
			return err;
		for (uint64_t i = 0; i < n; i++)
			ptes[i] = valid ? nv_pte_vram(phys + i * page, read_only) : 0;
		err = nvc0_kobj_write(vm->dev, tab, index * 8, ptes, (size_t)n * 8);
		if (err)
			return err;
		va += n * page;
		phys += n * page;
		size -= n * page;
	}
	return GPUVM_OK;
}

static int hw_vm_map(struct nvc0_vm *vm, uint64_t va, uint64_t phys, uint64_t size,
		     unsigned page_shift, bool read_only)
{
	int err = nvc0_vm_check_range(vm, va, size, page_shift);

	if (err)
		return err;
	nvc0_lock(vm->dev);
	err = vm_write_ptes(vm, va, phys, size, page_shift, true, read_only);
	if (!err)
		err = hw_vm_flush(vm);
	nvc0_unlock(vm->dev);
	return err;
}

static int hw_vm_unmap(struct nvc0_vm *vm, uint64_t va, uint64_t size, unsigned page_shift)
{
	int err = nvc0_vm_check_range(vm, va, size, page_shift);
	int flush_err;

	if (err)
		return err;
	nvc0_lock(vm->dev);
	err = vm_write_ptes(vm, va, 0, size, page_shift, false, false);
	/* Flush even after a partial write: some PTEs may have changed. */
	flush_err = hw_vm_flush(vm);
	nvc0_unlock(vm->dev);
	return err ? err : flush_err;
}

/*
 * TLB flush of this VM's page directory: wait for room in the flush queue,
 * name the PD, trigger, wait for completion.  Posted BAR writes to the
 * tables are pushed out first.
 */
static int hw_vm_flush(struct nvc0_vm *vm)
{
	struct gpuvm_device *dev = vm->dev;
	uint32_t type = NV_MMU_FLUSH_GO | NV_MMU_FLUSH_ALL_PAGES | NV_MMU_FLUSH_ALL_PDES |
			vm->flush_type;
	int err;

	nvc0_lock(dev);
	nvc0_bar_flush(dev);
	err = nvc0_wait_reg_any(dev, NV_MMU_CTRL, NV_MMU_CTRL_SPACE, FLUSH_WAIT_MS,
				"TLB flush queue space");
	if (!err) {
		nvc0_wr32(dev, NV_MMU_FLUSH_PD, (uint32_t)(vm->pd.phys >> 8) | 0 /* VRAM */);
		nvc0_wr32(dev, NV_MMU_FLUSH_TRIGGER, type);
		err = nvc0_wait_reg(dev, NV_MMU_CTRL, NV_MMU_CTRL_FLUSH_DONE, NV_MMU_CTRL_FLUSH_DONE,
				    FLUSH_WAIT_MS, "TLB flush completion");
	}
	nvc0_unlock(dev);
	return err;
}

/* ---- channels bound by the driver itself --------------------------------------- */

static int hw_chan_bind(struct nvc0_channel *chan)
{
	nvc0_wr32(chan->dev, NV_PFIFO_CHAN_INST(chan->chid),
		  NV_CHAN_INST_VALID | NV_CHAN_INST_POLL | (uint32_t)(chan->inst.phys >> 12));
	return GPUVM_OK;
}

static void hw_chan_unbind(struct nvc0_channel *chan)
{
	nvc0_wr32(chan->dev, NV_PFIFO_CHAN_INST(chan->chid), 0);
}

static int hw_chan_before_kick(struct nvc0_channel *chan)
{
	GPUVM_UNUSED(chan);
	return GPUVM_OK;
}

static const struct nvc0_chan_ops hw_chan_ops = {
	.bind = hw_chan_bind,
	.unbind = hw_chan_unbind,
	.before_kick = hw_chan_before_kick,
};

/* For pv_vm.c's BAR ops: the driver's own map and unmap, used outside the pv modes. */
int nvc0_vm_hw_map(struct nvc0_vm *vm, uint64_t va, uint64_t phys, uint64_t size,
		   unsigned page_shift, bool read_only)
{
	return hw_vm_map(vm, va, phys, size, page_shift, read_only);
}

int nvc0_vm_hw_unmap(struct nvc0_vm *vm, uint64_t va, uint64_t size, unsigned page_shift)
{
	return hw_vm_unmap(vm, va, size, page_shift);
}

const struct nvc0_vm_ops nvc0_vm_hw_ops = {
	.name = "driver",
	.create = hw_vm_create,
	.destroy = hw_vm_destroy,
	.bind_inst = hw_vm_bind_inst,
	.map = hw_vm_map,
	.unmap = hw_vm_unmap,
	.flush = hw_vm_flush,
	.chan = &hw_chan_ops,
};
