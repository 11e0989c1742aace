/*
 * Physical MMU work: the host's own BAR1 VM (identity over the reserved
 * area, so the daemon writes GP_PUT through BAR1 as a driver must for the GPU
 * to notice at once) and TLB flushes of shadow page directories.
 */
#include <errno.h>
#include <time.h>

#include "host.h"
#include "nvc0/mem.h"

static bool host_mmu_wait(struct gpuvm_host *host, uint32_t mask)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (gpu_rd32(host->hw, NV_MMU_CTRL) & mask)
			return true;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < 2);
	return false;
}

int host_tlb_flush(struct gpuvm_host *host, uint64_t pd, uint32_t type)
{
	int err = 0;

	/* The flush is two writes and a poll: one flush at a time, host-wide. */
	pthread_mutex_lock(&host->lock);
	if (!host_mmu_wait(host, NV_MMU_CTRL_SPACE)) {
		err = -ETIMEDOUT;
		goto out;
	}
	gpu_wr32(host->hw, NV_MMU_FLUSH_PD, (uint32_t)(pd >> 8) | 0 /* VRAM */);
	gpu_wr32(host->hw, NV_MMU_FLUSH_TRIGGER, NV_MMU_FLUSH_GO | type);
	if (!host_mmu_wait(host, NV_MMU_CTRL_FLUSH_DONE))
		err = -ETIMEDOUT;
out:
	pthread_mutex_unlock(&host->lock);
	return err;
}

/* Map BAR1 [0, reserved) onto VRAM [0, reserved) with small pages. */
int host_bar1_init(struct gpuvm_host *host)
{
	uint64_t pages = host->reserved_size / NV_SPAGE_SIZE;
	uint64_t inst, pd, spt;
	int err;

	if (host->reserved_size > (1ull << NV_PDE_SHIFT))
		return -EINVAL;
	err = host_page_alloc(host, NV_INST_SIZE, NV_SPAGE_SIZE, &inst);
	if (!err)
		err = host_page_alloc(host, NV_PD_SIZE, NV_SPAGE_SIZE, &pd);
	if (!err)
		err = host_page_alloc(host, NV_SPT_SIZE, NV_SPAGE_SIZE, &spt);
	if (err)
		return err;
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t pte = nv_pte_vram(i * NV_SPAGE_SIZE, 0);

		host_wr32_vram(host, spt + i * 8, (uint32_t)pte);
		host_wr32_vram(host, spt + i * 8 + 4, (uint32_t)(pte >> 32));
	}
	host_wr32_vram(host, pd + 4, nv_pde_word(spt, NV_APER_VRAM));
	host_wr32_vram(host, inst + NV_INST_PD_LO, (uint32_t)pd);
	host_wr32_vram(host, inst + NV_INST_PD_HI, (uint32_t)(pd >> 32));
	host_wr32_vram(host, inst + NV_INST_LIMIT_LO, (uint32_t)(host->reserved_size - 1));
	host_wr32_vram(host, inst + NV_INST_LIMIT_HI, 0);
	host->bar1_inst = inst;
	gpu_wr32(host->hw, NV_PBUS_BAR1_INST, NV_PBUS_BAR_VM | (uint32_t)(inst >> 12));
	return host_tlb_flush(host, pd, NV_MMU_FLUSH_ALL_PAGES | NV_MMU_FLUSH_HUB_ONLY);
}
