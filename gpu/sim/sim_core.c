/*
 * gpusim core: creation and teardown, the struct gpu_hw operations, and the
 * BAR0 decode table that hands each register range to the unit owning it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "sim_internal.h"

struct sim_reg_range {
	uint32_t first, last;
	bool (*rd)(struct gpusim *sim, uint32_t addr, uint32_t *val);
	bool (*wr)(struct gpusim *sim, uint32_t addr, uint32_t val);
};

/* Sorted, non-overlapping; anything outside is unmodeled. */
static const struct sim_reg_range sim_regs[] = {
	{ 0x000000, 0x000fff, sim_pmc_rd, sim_pmc_wr },
	{ 0x001700, 0x0017ff, sim_pbus_rd, sim_pbus_wr },
	{ 0x002000, 0x003fff, sim_fifo_rd, sim_fifo_wr },
	{ 0x009000, 0x009fff, sim_misc_rd, sim_misc_wr },      /* PTIMER */
	{ 0x022438, 0x022438, sim_misc_rd, sim_misc_wr },      /* PFB partitions */
	{ 0x040000, 0x041fff, sim_pbdma_rd, sim_pbdma_wr },
	{ 0x070000, 0x070000, sim_pbus_rd, sim_pbus_wr },      /* BAR flush */
	{ 0x10f20c, 0x10f20c, sim_misc_rd, sim_misc_wr },      /* PFB MiB per partition */
	{ 0x100c80, 0x100cff, sim_mmu_rd, sim_mmu_wr },
	{ 0x400000, 0x400fff, sim_pgraph_rd, sim_pgraph_wr },
	{ NV_PRAMIN_WINDOW, NV_PRAMIN_WINDOW + NV_PRAMIN_WINDOW_SIZE - 1, sim_pramin_rd, sim_pramin_wr },
};

static const struct sim_reg_range *sim_reg_find(uint32_t addr)
{
	for (size_t i = 0; i < sizeof(sim_regs) / sizeof(sim_regs[0]); i++)
		if (addr >= sim_regs[i].first && addr <= sim_regs[i].last)
			return &sim_regs[i];
	return NULL;
}

static void sim_count_unmodeled(struct gpusim *sim, uint32_t addr, bool write)
{
	stat_add(write ? &sim->st_unmodeled_writes : &sim->st_unmodeled_reads, 1);
	sim->last_unmodeled = addr;
}

static uint32_t sim_rd32(struct gpu_hw *hw, uint32_t addr)
{
	struct gpusim *sim = sim_of(hw);
	const struct sim_reg_range *r = (addr & 3) ? NULL : sim_reg_find(addr);
	uint32_t val = 0;

	pthread_mutex_lock(&sim->lock);
	if (!r || !r->rd(sim, addr, &val)) {
		val = 0;
		sim_count_unmodeled(sim, addr, false);
	}
	pthread_mutex_unlock(&sim->lock);
	return val;
}

static void sim_wr32(struct gpu_hw *hw, uint32_t addr, uint32_t val)
{
	struct gpusim *sim = sim_of(hw);
	const struct sim_reg_range *r = (addr & 3) ? NULL : sim_reg_find(addr);

	pthread_mutex_lock(&sim->lock);
	if (!r || !r->wr(sim, addr, val))
		sim_count_unmodeled(sim, addr, true);
	pthread_mutex_unlock(&sim->lock);
}

static uint64_t sim_bar_size(struct gpu_hw *hw, enum gpu_bar bar)
{
	struct gpusim *sim = sim_of(hw);

	switch (bar) {
	case GPU_BAR0: return NV_BAR0_SIZE;
	case GPU_BAR1: return sim->cfg.bar1_size;
	case GPU_BAR3: return sim->cfg.bar3_size;
	}
	return 0;
}

/* Copy between buf and a BAR aperture, one page at a time through its VM. */
static int sim_bar_access(struct gpusim *sim, enum gpu_bar bar, uint64_t off,
			  uint8_t *buf, size_t len, bool write)
{
	uint32_t bind;
	unsigned unit;
	struct sim_xlate x;
	struct sim_vm vm = { 0 };
	int ret = 0;

	if ((bar != GPU_BAR1 && bar != GPU_BAR3) || off > sim_bar_size(&sim->hw, bar) ||
	    len > sim_bar_size(&sim->hw, bar) - off)
		return -EINVAL;
	pthread_mutex_lock(&sim->lock);
	bind = bar == GPU_BAR1 ? sim->bar1_inst : sim->bar3_inst;
	pthread_mutex_unlock(&sim->lock);
	unit = bar == GPU_BAR1 ? NV_FAULT_UNIT_BAR1 : NV_FAULT_UNIT_BAR3;
	if ((bind & NV_PBUS_BAR_VM) && NV_PBUS_BAR_TARGET(bind) == 0)
		vm = sim_vm_from_inst(sim, (uint64_t)(bind & NV_PBUS_BAR_INST_MASK) << 12);
	sim_xlate_init(&x, sim, &vm, NULL, unit);
	while (len) {
		size_t chunk = NV_SPAGE_SIZE - (off & (NV_SPAGE_SIZE - 1));
		uint8_t *p = sim_xlate(&x, off & ~(uint64_t)(NV_SPAGE_SIZE - 1), 1, write);

		if (chunk > len)
			chunk = len;
		if (!p) {
			ret = -EFAULT;
			if (!write)
				memset(buf, 0xff, chunk);
		} else {
			p += off & (NV_SPAGE_SIZE - 1);
			if (write)
				memcpy(p, buf, chunk);
			else
				memcpy(buf, p, chunk);
		}
		buf += chunk;
		off += chunk;
		len -= chunk;
	}
	return ret;
}

static int sim_bar_read(struct gpu_hw *hw, enum gpu_bar bar, uint64_t off, void *buf, size_t len)
{
	return sim_bar_access(sim_of(hw), bar, off, buf, len, false);
}

static int sim_bar_write(struct gpu_hw *hw, enum gpu_bar bar, uint64_t off, const void *buf, size_t len)
{
	struct gpusim *sim = sim_of(hw);
	int ret = sim_bar_access(sim, bar, off, (uint8_t *)buf, len, true);

	/* The write may have been a GP_PUT: let an idle GPU thread look now. */
	atomic_fetch_add(&sim->kicks, 1);
	sim_gpu_wake(sim);
	return ret;
}

static int sim_vram_fd(struct gpu_hw *hw, uint64_t addr, uint64_t *fd_off, uint64_t *len)
{
	return sim_vram_chunk_fd(sim_of(hw), addr, fd_off, len);
}

static uint64_t sim_vram_size(struct gpu_hw *hw)
{
	return sim_of(hw)->vram_size;
}

static void sim_set_irq_handler(struct gpu_hw *hw, gpu_irq_fn fn, void *arg)
{
	struct gpusim *sim = sim_of(hw);

	pthread_mutex_lock(&sim->lock);
	sim->irq_fn = fn;
	sim->irq_arg = arg;
	sim->pmc_intr_seen = 0;
	sim_irq_update(sim);
	pthread_mutex_unlock(&sim->lock);
}

static void sim_hw_destroy(struct gpu_hw *hw)
{
	gpusim_destroy(sim_of(hw));
}

static const struct gpu_hw_ops sim_hw_ops = {
	.rd32 = sim_rd32,
	.wr32 = sim_wr32,
	.bar_read = sim_bar_read,
	.bar_write = sim_bar_write,
	.bar_size = sim_bar_size,
	.vram_fd = sim_vram_fd,
	.vram_size = sim_vram_size,
	.set_irq_handler = sim_set_irq_handler,
	.destroy = sim_hw_destroy,
};

static void sim_reset_state(struct gpusim *sim)
{
	sim->pmc_enable = NV_PMC_UNIT_PCOPY0 | NV_PMC_UNIT_PCOPY1 | NV_PMC_UNIT_PFIFO |
			  NV_PMC_UNIT_PGRAPH | NV_PMC_UNIT_PTIMER;
	sim->fifo_enable = 1;
	sim->mmu_ctrl = NV_MMU_CTRL_SPACE | NV_MMU_CTRL_FLUSH_DONE;
	atomic_init(&sim->current, SIM_NO_CHANNEL);
	for (unsigned i = 0; i < NV_PFIFO_CHANNELS; i++) {
		sim->chan[i].chid = i;
		atomic_init(&sim->chan[i].epoch, 1);
	}
}

static int sim_config_defaults(struct gpusim_config *cfg)
{
	if (!cfg->vram_size)
		cfg->vram_size = GPUSIM_DEFAULT_VRAM;
	if (!cfg->bar1_size)
		cfg->bar1_size = GPUSIM_DEFAULT_BAR1;
	if (!cfg->bar3_size)
		cfg->bar3_size = GPUSIM_DEFAULT_BAR3;
	if (!cfg->timeslice_us)
		cfg->timeslice_us = 1000;
	/* The size registers count whole MiB; PRAMIN reaches 16 GiB at most. */
	if (cfg->vram_size & ((1u << 20) - 1) || cfg->vram_size > (1ull << 36))
		return -EINVAL;
	if (cfg->bar1_size & (NV_SPAGE_SIZE - 1) || cfg->bar3_size & (NV_SPAGE_SIZE - 1))
		return -EINVAL;
	return 0;
}

struct gpusim *gpusim_create(const struct gpusim_config *cfg)
{
	struct gpusim *sim = calloc(1, sizeof(*sim));
	int err;

	if (!sim)
		return NULL;
	if (cfg)
		sim->cfg = *cfg;
	err = sim_config_defaults(&sim->cfg);
	if (err)
		goto err_free;
	sim->hw.ops = &sim_hw_ops;
	sim->hw.name = "gpusim";
	pthread_mutex_init(&sim->lock, NULL);
	pthread_mutex_init(&sim->tlb_lock, NULL);
	pthread_mutex_init(&sim->audit_lock, NULL);
	pthread_cond_init(&sim->wake, NULL);
	sim_reset_state(sim);
	err = sim_vram_init(sim, sim->cfg.vram_size);
	if (err)
		goto err_locks;
	atomic_store(&sim->audit_mode, sim->cfg.audit);
	err = sim_gpu_thread_start(sim);
	if (err)
		goto err_vram;
	return sim;

err_vram:
	sim_vram_fini(sim);
err_locks:
	pthread_cond_destroy(&sim->wake);
	pthread_mutex_destroy(&sim->audit_lock);
	pthread_mutex_destroy(&sim->tlb_lock);
	pthread_mutex_destroy(&sim->lock);
err_free:
	free(sim);
	errno = -err;
	return NULL;
}

struct gpu_hw *gpusim_hw(struct gpusim *sim)
{
	return &sim->hw;
}

struct gpusim *gpusim_from_hw(struct gpu_hw *hw)
{
	return hw && hw->ops == &sim_hw_ops ? sim_of(hw) : NULL;
}

void gpusim_destroy(struct gpusim *sim)
{
	if (!sim)
		return;
	sim_gpu_thread_stop(sim);
	sim_vram_fini(sim);
	pthread_cond_destroy(&sim->wake);
	pthread_mutex_destroy(&sim->audit_lock);
	pthread_mutex_destroy(&sim->tlb_lock);
	pthread_mutex_destroy(&sim->lock);
	free(sim);
}

void gpusim_get_stats(struct gpusim *sim, struct gpusim_stats *out)
{
	out->unmodeled_reads = sim->st_unmodeled_reads;
	out->unmodeled_writes = sim->st_unmodeled_writes;
	out->bad_pramin = sim->st_bad_pramin;
	out->methods = sim->st_methods;
	out->unknown_methods = sim->st_unknown_methods;
	out->launches = sim->st_launches;
	out->thread_insns = sim->st_thread_insns;
	out->copy_bytes = sim->st_copy_bytes;
	out->faults = sim->st_faults;
	out->pbdma_errors = sim->st_pbdma_errors;
	out->tlb_flushes = sim->st_tlb_flushes;
	out->channel_switches = sim->st_switches;
}

uint32_t gpusim_last_unmodeled(struct gpusim *sim)
{
	uint32_t addr;

	pthread_mutex_lock(&sim->lock);
	addr = sim->st_unmodeled_reads + sim->st_unmodeled_writes ? sim->last_unmodeled : ~0u;
	pthread_mutex_unlock(&sim->lock);
	return addr;
}

/* "256M", "1G", "65536" -> bytes; returns -1 on junk or overflow. */
static int parse_size(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	size_t i = 0;

	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		return -1;
	if (i + 1 == n) {
		switch (s[i] | 0x20) {
		case 'k': mul = 1ull << 10; break;
		case 'm': mul = 1ull << 20; break;
		case 'g': mul = 1ull << 30; break;
		default: return -1;
		}
	} else if (i != n) {
		return -1;
	}
	if (v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int parse_spec_option(const char *opt, size_t n, struct gpusim_config *cfg,
			     char *err, size_t errlen)
{
	uint64_t v;

	if (n > 5 && !strncmp(opt, "vram=", 5)) {
		if (parse_size(opt + 5, n - 5, &v) || v < (16u << 20) || v & ((1u << 20) - 1) ||
		    v > (1ull << 36)) {
			snprintf(err, errlen, "bad vram size '%.*s' (a multiple of 1M, 16M..64G)",
				 (int)(n - 5), opt + 5);
			return -EINVAL;
		}
		cfg->vram_size = v;
		return 0;
	}
	if (n > 10 && !strncmp(opt, "timeslice=", 10)) {
		if (parse_size(opt + 10, n - 10, &v) || v == 0 || v > 1000000) {
			snprintf(err, errlen, "bad timeslice '%.*s' (microseconds, 1..1000000)",
				 (int)(n - 10), opt + 10);
			return -EINVAL;
		}
		cfg->timeslice_us = (uint32_t)v;
		return 0;
	}
	if (n > 6 && !strncmp(opt, "audit=", 6)) {
		if (n == 11 && !strncmp(opt + 6, "count", 5)) {
			cfg->audit = GPUSIM_AUDIT_COUNT;
			return 0;
		}
		if (n == 13 && !strncmp(opt + 6, "enforce", 7)) {
			cfg->audit = GPUSIM_AUDIT_ENFORCE;
			return 0;
		}
		snprintf(err, errlen, "bad audit mode '%.*s' (count or enforce)", (int)(n - 6), opt + 6);
		return -EINVAL;
	}
	snprintf(err, errlen, "unknown gpusim option '%.*s' (known: vram=SIZE, timeslice=US, "
		 "audit=count|enforce)", (int)n, opt);
	return -EINVAL;
}

int gpusim_parse_spec(const char *spec, struct gpusim_config *cfg, char *err, size_t errlen)
{
	const char *p;

	memset(cfg, 0, sizeof(*cfg));
	if (strncmp(spec, "sim", 3) || (spec[3] && spec[3] != ',')) {
		snprintf(err, errlen, "unknown GPU '%s' (expected sim[,vram=SIZE][,timeslice=US]"
			 "[,audit=count|enforce])", spec);
		return -EINVAL;
	}
	for (p = spec + 3; *p == ',';) {
		const char *opt = p + 1;
		size_t n = strcspn(opt, ",");
		int ret = parse_spec_option(opt, n, cfg, err, errlen);

		if (ret)
			return ret;
		p = opt + n;
	}
	return 0;
}
