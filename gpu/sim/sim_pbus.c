/*
 * PBUS: the PRAMIN window onto physical VRAM, the BAR1/BAR3/peephole
 * bindings and the BAR flush register.  BAR data accesses themselves are in
 * sim_core.c (they go through sim_xlate like any engine access).
 */
#include "sim_internal.h"

bool sim_pbus_rd(struct gpusim *sim, uint32_t addr, uint32_t *val)
{
	switch (addr) {
	case NV_PBUS_PRAMIN_BASE: *val = sim->pramin_base; return true;
	case NV_PBUS_BAR1_INST: *val = sim->bar1_inst; return true;
	case NV_PBUS_BAR3_INST: *val = sim->bar3_inst; return true;
	case NV_PBUS_PEEPHOLE_INST: *val = sim->peephole_inst; return true;
	case NV_BAR_FLUSH: *val = 0; return true;   /* flushes complete at once */
	}
	return false;
}

bool sim_pbus_wr(struct gpusim *sim, uint32_t addr, uint32_t val)
{
	switch (addr) {
	case NV_PBUS_PRAMIN_BASE: sim->pramin_base = val; return true;
	case NV_PBUS_BAR1_INST: sim->bar1_inst = val; return true;
	case NV_PBUS_BAR3_INST: sim->bar3_inst = val; return true;
	case NV_PBUS_PEEPHOLE_INST: sim->peephole_inst = val; return true;
	case NV_BAR_FLUSH: return true;
	}
	return false;
}

/* Physical address behind a PRAMIN offset, or false if it reaches no VRAM. */
static bool sim_pramin_phys(struct gpusim *sim, uint32_t addr, uint64_t *phys)
{
	uint32_t target = (sim->pramin_base >> 24) & 3;

	*phys = ((uint64_t)(sim->pramin_base & NV_PBUS_PRAMIN_ADDR_MASK) << NV_PBUS_PRAMIN_SHIFT) +
		(addr - NV_PRAMIN_WINDOW);
	if (target != 0 || !sim_vram_ok(sim, *phys, 4)) {
		stat_add(&sim->st_bad_pramin, 1);
		return false;
	}
	return true;
}

bool sim_pramin_rd(struct gpusim *sim, uint32_t addr, uint32_t *val)
{
	uint64_t phys;

	*val = sim_pramin_phys(sim, addr, &phys) ? sim_vram_rd32(sim, phys) : 0;
	return true;
}

bool sim_pramin_wr(struct gpusim *sim, uint32_t addr, uint32_t val)
{
	uint64_t phys;

	if (sim_pramin_phys(sim, addr, &phys))
		sim_vram_wr32(sim, phys, val);
	return true;
}
