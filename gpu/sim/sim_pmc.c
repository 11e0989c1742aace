/*
 * PMC (identification, engine enables, the interrupt summary), PTIMER and
 * the PFB size registers.
 */
#include <time.h>

#include "sim_internal.h"

uint64_t sim_ptimer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t sim_pmc_intr(const struct gpusim *sim)
{
	uint32_t v = 0;

	if (sim->fifo_intr & sim->fifo_intr_en)
		v |= NV_PMC_INTR_PFIFO;
	if (sim->pgraph_intr & sim->pgraph_intr_en)
		v |= NV_PMC_INTR_PGRAPH;
	return v;
}

/*
 * Deliver an interrupt to the host when a unit bit becomes pending while
 * delivery is enabled: an edge, so a handler that has not cleared the cause
 * yet is not called again for it.
 */
void sim_irq_update(struct gpusim *sim)
{
	uint32_t now = sim_pmc_intr(sim);
	uint32_t rising = now & ~sim->pmc_intr_seen;

	sim->pmc_intr_seen = now;
	if (rising && (sim->pmc_intr_en & NV_PMC_INTR_EN_HW) && sim->irq_fn)
		sim->irq_fn(sim->irq_arg);
}

bool sim_pmc_rd(struct gpusim *sim, uint32_t addr, uint32_t *val)
{
	switch (addr) {
	case NV_PMC_BOOT0: *val = NV_PMC_BOOT0_GF100; return true;
	case NV_PMC_ENDIAN: *val = 0; return true;
	case NV_PMC_INTR: *val = sim_pmc_intr(sim); return true;
	case NV_PMC_INTR_EN: *val = sim->pmc_intr_en; return true;
	case NV_PMC_ENABLE: *val = sim->pmc_enable; return true;
	}
	return false;
}

bool sim_pmc_wr(struct gpusim *sim, uint32_t addr, uint32_t val)
{
	switch (addr) {
	case NV_PMC_BOOT0:
	case NV_PMC_ENDIAN:
	case NV_PMC_INTR:
		return true;    /* read-only */
	case NV_PMC_INTR_EN:
		sim->pmc_intr_en = val & (NV_PMC_INTR_EN_HW | NV_PMC_INTR_EN_SW);
		sim->pmc_intr_seen = 0;
		sim_irq_update(sim);
		return true;
	case NV_PMC_ENABLE:
		if ((sim->pmc_enable & NV_PMC_UNIT_PFIFO) && !(val & NV_PMC_UNIT_PFIFO))
			sim_chan_unload_all(sim);
		sim->pmc_enable = val;
		atomic_store(&sim->resched, 1);
		sim_gpu_wake(sim);
		return true;
	}
	return false;
}

/* PTIMER and the PFB size registers. */
bool sim_misc_rd(struct gpusim *sim, uint32_t addr, uint32_t *val)
{
	switch (addr) {
	case NV_PTIMER_TIME_LOW: *val = (uint32_t)sim_ptimer_now(); return true;
	case NV_PTIMER_TIME_HIGH: *val = (uint32_t)(sim_ptimer_now() >> 32); return true;
	case NV_PFB_PARTS: *val = 1; return true;
	case NV_PFB_PART_MIB: *val = (uint32_t)(sim->vram_size >> 20); return true;
	}
	return false;
}

bool sim_misc_wr(struct gpusim *sim, uint32_t addr, uint32_t val)
{
	(void)sim;
	(void)val;
	/* The clock and the sizes are not programmable here. */
	return addr == NV_PTIMER_TIME_LOW || addr == NV_PTIMER_TIME_HIGH ||
	       addr == NV_PFB_PARTS || addr == NV_PFB_PART_MIB;
}

bool sim_pgraph_rd(struct gpusim *sim, uint32_t addr, uint32_t *val)
{
	switch (addr) {
	case NV_PGRAPH_INTR: *val = sim->pgraph_intr; return true;
	case NV_PGRAPH_INTR_EN: *val = sim->pgraph_intr_en; return true;
	case NV_PGRAPH_STATUS: *val = atomic_load(&sim->engine_busy) ? 1 : 0; return true;
	}
	if (addr >= NV_PGRAPH_NOTIFY_CHANS(0) && addr <= NV_PGRAPH_NOTIFY_CHANS(3)) {
		*val = sim->notify_chans[(addr - NV_PGRAPH_NOTIFY_CHANS(0)) / 4];
		return true;
	}
	return false;
}

bool sim_pgraph_wr(struct gpusim *sim, uint32_t addr, uint32_t val)
{
	switch (addr) {
	case NV_PGRAPH_INTR:
		sim->pgraph_intr &= ~val;
		sim_irq_update(sim);
		return true;
	case NV_PGRAPH_INTR_EN:
		sim->pgraph_intr_en = val;
		sim_irq_update(sim);
		return true;
	case NV_PGRAPH_STATUS:
		return true;
	}
	if (addr >= NV_PGRAPH_NOTIFY_CHANS(0) && addr <= NV_PGRAPH_NOTIFY_CHANS(3)) {
		sim->notify_chans[(addr - NV_PGRAPH_NOTIFY_CHANS(0)) / 4] &= ~val;
		return true;
	}
	return false;
}
