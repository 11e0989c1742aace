/*
 * PFIFO registers: enable, interrupts, the channel table, runlist commit,
 * preemption, fault records and PBDMA error reporting.  The GPU thread that
 * serves the channels is in sim_gpu_thread.c.
 */
#include "sim_internal.h"

/* Host changed what may run: make the GPU thread re-pick at once. */
static void sim_resched(struct gpusim *sim)
{
	atomic_store(&sim->resched, 1);
	sim_gpu_wake(sim);
}

static void sim_chan_reset(struct gpusim *sim, struct sim_chan *chan)
{
	chan->faulted = false;
	atomic_fetch_add(&chan->epoch, 1);
	atomic_store(&chan->abort, 1);
	sim_resched(sim);
}

void sim_chan_unload_all(struct gpusim *sim)
{
	for (unsigned i = 0; i < NV_PFIFO_CHANNELS; i++)
		sim_chan_reset(sim, &sim->chan[i]);
}

static void sim_runlist_commit(struct gpusim *sim, uint32_t submit)
{
	uint64_t base = (uint64_t)(sim->runlist_base & NV_CHAN_INST_ADDR_MASK) << 12;
	unsigned count = NV_PFIFO_RUNLIST_COUNT(submit);

	for (unsigned i = 0; i < NV_PFIFO_CHANNELS; i++)
		sim->chan[i].on_runlist = false;
	sim->runlist_len = 0;
	for (unsigned i = 0; i < count; i++) {
		uint64_t at = base + (uint64_t)i * NV_RUNLIST_ENTRY_SIZE;
		uint32_t chid = sim_vram_rd32(sim, at);

		/* Bad ids and duplicates are skipped; entries beyond VRAM read 0. */
		if (!sim_vram_ok(sim, at, NV_RUNLIST_ENTRY_SIZE) || chid >= NV_PFIFO_CHANNELS ||
		    sim->chan[chid].on_runlist)
			continue;
		sim->chan[chid].on_runlist = true;
		sim->runlist[sim->runlist_len++] = (int)chid;
	}
	sim->runlist_submit = submit;
	sim->fifo_intr |= NV_PFIFO_INTR_RUNLIST;
	sim_irq_update(sim);
	sim_resched(sim);
}

/* GP_GET != GP_PUT, read from the channel's USERD as the driver sees it. */
static bool sim_chan_pending(struct gpusim *sim, const struct sim_chan *chan)
{
	uint64_t inst = (uint64_t)(chan->inst_reg & NV_CHAN_INST_ADDR_MASK) << 12;
	uint64_t userd;

	if (!(chan->inst_reg & NV_CHAN_INST_VALID) || !sim_vram_ok(sim, inst, NV_INST_SIZE))
		return false;
	userd = (uint64_t)sim_vram_rd32(sim, inst + NV_RAMFC_USERD_HI) << 32 |
		sim_vram_rd32(sim, inst + NV_RAMFC_USERD_LO);
	return sim_vram_rd32(sim, userd + NV_USERD_GP_GET) != sim_vram_rd32(sim, userd + NV_USERD_GP_PUT);
}

static uint32_t sim_chan_ctrl(struct gpusim *sim, struct sim_chan *chan)
{
	uint32_t v = chan->ctrl_reg & NV_CHAN_CTRL_RUNNABLE;

	if (atomic_load(&sim->current) == (int)chan->chid)
		v |= NV_CHAN_CTRL_LOADED;
	if (chan->faulted)
		v |= NV_CHAN_CTRL_FAULTED;
	if (sim_chan_pending(sim, chan))
		v |= NV_CHAN_CTRL_PENDING;
	return v;
}

static bool sim_chan_table_rd(struct gpusim *sim, uint32_t addr, uint32_t *val)
{
	struct sim_chan *chan = &sim->chan[(addr - NV_PFIFO_CHAN_INST(0)) / 8];

	*val = (addr & 4) ? sim_chan_ctrl(sim, chan) : chan->inst_reg;
	return true;
}

static bool sim_chan_table_wr(struct gpusim *sim, uint32_t addr, uint32_t val)
{
	struct sim_chan *chan = &sim->chan[(addr - NV_PFIFO_CHAN_INST(0)) / 8];

	if (addr & 4) {
		chan->ctrl_reg = val & NV_CHAN_CTRL_RUNNABLE;
		sim_resched(sim);
	} else {
		chan->inst_reg = val;
		sim_chan_reset(sim, chan);
	}
	return true;
}

static bool sim_fault_rec_rd(struct gpusim *sim, uint32_t addr, uint32_t *val)
{
	unsigned unit = (addr - NV_PFIFO_FAULT(0)) / 0x10;

	*val = sim->fault[unit].w[(addr & 0xf) / 4];
	return true;
}

bool sim_fifo_rd(struct gpusim *sim, uint32_t addr, uint32_t *val)
{
	switch (addr) {
	case NV_PFIFO_INTR: *val = sim->fifo_intr; return true;
	case NV_PFIFO_INTR_EN: *val = sim->fifo_intr_en; return true;
	case NV_PFIFO_ENABLE: *val = sim->fifo_enable; return true;
	case NV_PFIFO_USERD_BASE: *val = sim->userd_base; return true;
	case NV_PFIFO_RUNLIST_BASE: *val = sim->runlist_base; return true;
	case NV_PFIFO_RUNLIST_SUBMIT: *val = sim->runlist_submit; return true;
	case NV_PFIFO_RUNLIST_STATUS: *val = 0; return true;   /* commits complete at once */
	case NV_PFIFO_FAULT_UNITS: *val = sim->fault_units; return true;
	case NV_PFIFO_PREEMPT:
		*val = sim->preempt_chid;
		if (atomic_load(&sim->current) == (int)sim->preempt_chid)
			*val |= NV_PFIFO_PREEMPT_PENDING;
		return true;
	}
	if (addr >= NV_PFIFO_FAULT(0) && addr < NV_PFIFO_FAULT(NV_FAULT_UNITS))
		return sim_fault_rec_rd(sim, addr, val);
	if (addr >= NV_PFIFO_CHAN_INST(0) && addr < NV_PFIFO_CHAN_INST(NV_PFIFO_CHANNELS))
		return sim_chan_table_rd(sim, addr, val);
	return false;
}

static void sim_fault_units_clear(struct gpusim *sim, uint32_t bits)
{
	for (unsigned u = 0; u < NV_FAULT_UNITS; u++)
		if (bits & sim->fault_units & (1u << u))
			sim->fault[u].w[3] &= ~NV_FAULT_FLAGS_VALID;
	sim->fault_units &= ~bits;
}

bool sim_fifo_wr(struct gpusim *sim, uint32_t addr, uint32_t val)
{
	switch (addr) {
	case NV_PFIFO_INTR:
		sim->fifo_intr &= ~val;
		sim_irq_update(sim);
		return true;
	case NV_PFIFO_INTR_EN:
		sim->fifo_intr_en = val;
		sim_irq_update(sim);
		return true;
	case NV_PFIFO_ENABLE:
		sim->fifo_enable = val & 1;
		sim_resched(sim);
		return true;
	case NV_PFIFO_USERD_BASE: sim->userd_base = val; return true;
	case NV_PFIFO_RUNLIST_BASE: sim->runlist_base = val; return true;
	case NV_PFIFO_RUNLIST_SUBMIT: sim_runlist_commit(sim, val); return true;
	case NV_PFIFO_RUNLIST_STATUS: return true;
	case NV_PFIFO_FAULT_UNITS: sim_fault_units_clear(sim, val); return true;
	case NV_PFIFO_PREEMPT:
		sim->preempt_chid = val & (NV_PFIFO_CHANNELS - 1);
		sim_resched(sim);
		return true;
	}
	if (addr >= NV_PFIFO_FAULT(0) && addr < NV_PFIFO_FAULT(NV_FAULT_UNITS))
		return true;    /* records are read-only */
	if (addr >= NV_PFIFO_CHAN_INST(0) && addr < NV_PFIFO_CHAN_INST(NV_PFIFO_CHANNELS))
		return sim_chan_table_wr(sim, addr, val);
	return false;
}

bool sim_pbdma_rd(struct gpusim *sim, uint32_t addr, uint32_t *val)
{
	switch (addr) {
	case NV_PBDMA_INTR: *val = sim->pbdma_intr; return true;
	case NV_PBDMA_INTR_EN: *val = sim->pbdma_intr_en; return true;
	case NV_PBDMA_ERR_CHID: *val = sim->pbdma_err_chid; return true;
	case NV_PBDMA_ERR_INFO: *val = sim->pbdma_err_info; return true;
	}
	return false;
}

bool sim_pbdma_wr(struct gpusim *sim, uint32_t addr, uint32_t val)
{
	switch (addr) {
	case NV_PBDMA_INTR: sim->pbdma_intr &= ~val; return true;
	case NV_PBDMA_INTR_EN: sim->pbdma_intr_en = val; return true;
	case NV_PBDMA_ERR_CHID:
	case NV_PBDMA_ERR_INFO:
		return true;
	}
	return false;
}

void sim_pbdma_error(struct gpusim *sim, struct sim_chan *chan, uint32_t bits, uint32_t info)
{
	pthread_mutex_lock(&sim->lock);
	sim->pbdma_intr |= bits;
	sim->pbdma_err_chid = chan->chid;
	sim->pbdma_err_info = info;
	sim->fifo_intr |= NV_PFIFO_INTR_PBDMA;
	if (chan->run.epoch == atomic_load(&chan->epoch))
		chan->faulted = true;
	stat_add(&sim->st_pbdma_errors, 1);
	sim_irq_update(sim);
	pthread_mutex_unlock(&sim->lock);
}
