/*
 * MMU: page-table walks, the TLB (which only the flush registers empty),
 * per-engine translation cursors and fault records.
 */
#include "sim_internal.h"

struct sim_vm sim_vm_from_inst(struct gpusim *sim, uint64_t inst)
{
	struct sim_vm vm = { .inst = inst };
	uint32_t pd_lo = sim_vram_rd32(sim, inst + NV_INST_PD_LO);

	vm.pd = ((uint64_t)sim_vram_rd32(sim, inst + NV_INST_PD_HI) << 32 | pd_lo) &
		~(uint64_t)(NV_SPAGE_SIZE - 1);
	vm.limit = (uint64_t)(sim_vram_rd32(sim, inst + NV_INST_LIMIT_HI) & 0xff) << 32 |
		   sim_vram_rd32(sim, inst + NV_INST_LIMIT_LO);
	/* Only a VRAM page directory inside VRAM is usable. */
	vm.valid = sim_vram_ok(sim, inst, NV_INST_SIZE) &&
		   (pd_lo & NV_INST_PD_TARGET_MASK) == 0 && sim_vram_ok(sim, vm.pd, NV_PD_SIZE);
	return vm;
}

static unsigned sim_tlb_index(uint64_t pd, uint64_t vpn)
{
	return (unsigned)((vpn ^ (vpn >> 12) ^ (pd >> 12) * 0x9e3779b1u) & (SIM_TLB_ENTRIES - 1));
}

/* Look up one PTE in a table word of a PDE; false if the table is absent. */
static bool sim_walk_table(struct gpusim *sim, uint32_t pde_word, uint64_t index,
			   unsigned entries, uint64_t *pte)
{
	uint64_t table = nv_pde_word_addr(pde_word);

	if ((pde_word & NV_PDE_APER_MASK) != NV_APER_VRAM || index >= entries ||
	    !sim_vram_ok(sim, table, (uint64_t)entries * 8))
		return false;
	*pte = sim_vram_rd64(sim, table + index * 8);
	return true;
}

/* Walk the tables for va; small pages win over large ones. */
static int sim_walk(struct gpusim *sim, const struct sim_vm *vm, uint64_t va,
		    struct sim_tlb_entry *out)
{
	uint64_t pde = sim_vram_rd64(sim, vm->pd + (va >> NV_PDE_SHIFT) * 8);
	uint64_t in_pde = va & ((1ull << NV_PDE_SHIFT) - 1);
	uint64_t pte = 0, phys;
	bool have_small, have_large, large = false;

	have_small = sim_walk_table(sim, (uint32_t)(pde >> 32), in_pde >> NV_SPAGE_SHIFT,
				    NV_SPT_ENTRIES, &pte);
	if (!have_small || !(pte & NV_PTE_VALID)) {
		uint64_t lpte = 0;

		have_large = sim_walk_table(sim, (uint32_t)pde, in_pde >> NV_LPAGE_SHIFT,
					    NV_LPT_ENTRIES, &lpte);
		if (!have_small && !have_large)
			return NV_FAULT_PDE;
		if (have_large && (lpte & NV_PTE_VALID)) {
			pte = lpte;
			large = true;
		}
	}
	if (!(pte & NV_PTE_VALID))
		return NV_FAULT_PTE;
	if (nv_pte_aper(pte) != 0)
		return NV_FAULT_APERTURE;
	phys = nv_pte_addr(pte);
	if (large)
		phys = (phys & ~(uint64_t)(NV_LPAGE_SIZE - 1)) + (va & (NV_LPAGE_SIZE - 1));
	phys &= ~(uint64_t)(NV_SPAGE_SIZE - 1);
	if (!sim_vram_ok(sim, phys, NV_SPAGE_SIZE))
		return NV_FAULT_APERTURE;
	out->phys = phys;
	out->read_only = pte & NV_PTE_READ_ONLY;
	return 0;
}

/* Translate through the TLB; *read_only tells whether the page refuses writes. */
static int sim_mmu_lookup(struct gpusim *sim, const struct sim_vm *vm, uint64_t va,
			  uint64_t *phys, bool *read_only)
{
	uint64_t vpn = va >> NV_SPAGE_SHIFT;
	struct sim_tlb_entry *e;
	int reason = 0;

	if (!vm->valid)
		return NV_FAULT_PDE;
	if (va > vm->limit || va >= NV_VA_LIMIT)
		return NV_FAULT_LIMIT;
	pthread_mutex_lock(&sim->tlb_lock);
	e = &sim->tlb[sim_tlb_index(vm->pd, vpn)];
	if (!e->valid || e->pd != vm->pd || e->vpn != vpn) {
		struct sim_tlb_entry fresh = { .pd = vm->pd, .vpn = vpn, .valid = true };

		reason = sim_walk(sim, vm, va, &fresh);
		if (!reason)
			*e = fresh;
	}
	if (!reason) {
		*read_only = e->read_only;
		*phys = e->phys | (va & (NV_SPAGE_SIZE - 1));
	}
	pthread_mutex_unlock(&sim->tlb_lock);
	return reason;
}

int sim_mmu_translate(struct gpusim *sim, const struct sim_vm *vm, uint64_t va,
		      bool write, uint64_t *phys)
{
	bool read_only = false;
	int reason = sim_mmu_lookup(sim, vm, va, phys, &read_only);

	if (!reason && write && read_only)
		reason = NV_FAULT_RO;
	return reason;
}

static void sim_tlb_flush(struct gpusim *sim, uint64_t pd)
{
	pthread_mutex_lock(&sim->tlb_lock);
	for (unsigned i = 0; i < SIM_TLB_ENTRIES; i++)
		if (sim->tlb[i].pd == pd)
			sim->tlb[i].valid = false;
	pthread_mutex_unlock(&sim->tlb_lock);
	atomic_fetch_add(&sim->tlb_gen, 1);
	stat_add(&sim->st_tlb_flushes, 1);
}

void sim_xlate_init(struct sim_xlate *x, struct gpusim *sim, const struct sim_vm *vm,
		    struct sim_chan *chan, unsigned unit)
{
	memset(x, 0, sizeof(*x));
	x->sim = sim;
	x->vm = *vm;
	x->chan = chan;
	x->unit = unit;
	x->gen = atomic_load(&sim->tlb_gen);
}

static void sim_xlate_fill(struct sim_xlate *x, unsigned s, uint64_t vpn, uint64_t phys)
{
	x->slot[s].vpn = vpn;
	x->slot[s].host = x->sim->vram + phys;
	x->slot[s].valid = true;
	x->slot[s].audit_bad = x->chan && !sim_audit_page_ok(x->sim, x->chan, phys);
}

uint8_t *sim_xlate(struct sim_xlate *x, uint64_t va, unsigned size, bool write)
{
	struct gpusim *sim = x->sim;
	uint64_t vpn = va >> NV_SPAGE_SHIFT;
	unsigned s = (unsigned)(vpn & (SIM_XLATE_SLOTS - 1));
	unsigned gen = atomic_load_explicit(&sim->tlb_gen, memory_order_acquire);
	int reason = 0;

	if (va & (size - 1)) {
		reason = NV_FAULT_ALIGN;
		goto fault;
	}
	if (gen != x->gen) {
		for (unsigned i = 0; i < SIM_XLATE_SLOTS; i++)
			x->slot[i].valid = false;
		x->gen = gen;
	}
	if (!x->slot[s].valid || x->slot[s].vpn != vpn) {
		uint64_t phys;
		bool read_only;

		reason = sim_mmu_lookup(sim, &x->vm, va, &phys, &read_only);
		if (reason)
			goto fault;
		sim_xlate_fill(x, s, vpn, phys & ~(uint64_t)(NV_SPAGE_SIZE - 1));
		x->slot[s].read_only = read_only;
	}
	if (write && x->slot[s].read_only) {
		reason = NV_FAULT_RO;
		goto fault;
	}
	if (x->slot[s].audit_bad) {
		atomic_fetch_add(&x->chan->violations, 1);
		atomic_fetch_add(&sim->audit_total, 1);
		if (atomic_load(&sim->audit_mode) == GPUSIM_AUDIT_ENFORCE) {
			reason = NV_FAULT_AUDIT;
			goto fault;
		}
	}
	return x->slot[s].host + (va & (NV_SPAGE_SIZE - 1));

fault:
	sim_fault(sim, x->chan, x->unit, x->vm.inst, va, write, reason);
	return NULL;
}

void sim_fault(struct gpusim *sim, struct sim_chan *chan, unsigned unit,
	       uint64_t inst, uint64_t va, bool write, int reason)
{
	struct sim_fault_rec *rec = &sim->fault[unit % NV_FAULT_UNITS];

	pthread_mutex_lock(&sim->lock);
	rec->w[0] = (uint32_t)(inst >> 12);
	rec->w[1] = (uint32_t)va;
	rec->w[2] = (uint32_t)(va >> 32);
	rec->w[3] = NV_FAULT_FLAGS_VALID | (uint32_t)reason | (write ? NV_FAULT_FLAGS_WRITE : 0) |
		    (chan ? chan->chid << 8 : 0);
	sim->fault_units |= 1u << (unit % NV_FAULT_UNITS);
	sim->fifo_intr |= NV_PFIFO_INTR_VM_FAULT;
	/* A fault of work from before a re-bind must not stop the new binding. */
	if (chan && chan->run.epoch == atomic_load(&chan->epoch))
		chan->faulted = true;
	stat_add(&sim->st_faults, 1);
	sim_irq_update(sim);
	pthread_mutex_unlock(&sim->lock);
}

bool sim_mmu_rd(struct gpusim *sim, uint32_t addr, uint32_t *val)
{
	switch (addr) {
	case NV_MMU_CTRL: *val = sim->mmu_ctrl; return true;
	case NV_MMU_FLUSH_PD: *val = sim->mmu_flush_pd; return true;
	case NV_MMU_FLUSH_TRIGGER: *val = 0; return true;
	}
	return false;
}

bool sim_mmu_wr(struct gpusim *sim, uint32_t addr, uint32_t val)
{
	switch (addr) {
	case NV_MMU_CTRL:
		/* Status bits stay as the model reports them. */
		sim->mmu_ctrl = (val & (NV_MMU_CTRL_LARGE_64K | NV_MMU_CTRL_BYPASS)) |
				NV_MMU_CTRL_SPACE | NV_MMU_CTRL_FLUSH_DONE;
		return true;
	case NV_MMU_FLUSH_PD:
		sim->mmu_flush_pd = val;
		return true;
	case NV_MMU_FLUSH_TRIGGER:
		if (val & NV_MMU_FLUSH_GO)
			sim_tlb_flush(sim, (uint64_t)(sim->mmu_flush_pd & NV_PDE_ADDR_MASK) << 8);
		return true;
	}
	return false;
}
