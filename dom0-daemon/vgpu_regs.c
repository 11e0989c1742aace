/*
 * The vGPU's BAR0: one table entry per register or register range, each with
 * its handler.  The table is checked once at start-up (overlapping or
 * duplicate registrations fail); an access to anything not in it is denied:
 * reads return 0, writes are dropped, and each such register is logged once
 * per vGPU.  Nothing is passed through to the hardware unless a handler does
 * it on purpose.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "log.h"
#include "vgpu_internal.h"

struct vgpu_reg {
	uint32_t first, last;       /* inclusive, 4-byte aligned */
	const char *name;
	uint32_t (*read)(struct vgpu *v, uint32_t reg);
	void (*write)(struct vgpu *v, uint32_t reg, uint32_t val);
};

/* ---- small handlers ------------------------------------------------------------ */

static uint32_t rd_boot0(struct vgpu *v, uint32_t reg) { (void)v; (void)reg; return NV_PMC_BOOT0_GF100; }
static uint32_t rd_zero(struct vgpu *v, uint32_t reg) { (void)v; (void)reg; return 0; }
static void wr_ignore(struct vgpu *v, uint32_t reg, uint32_t val) { (void)v; (void)reg; (void)val; }

static uint32_t rd_pmc_enable(struct vgpu *v, uint32_t reg) { (void)reg; return v->pmc_enable; }
static void wr_pmc_enable(struct vgpu *v, uint32_t reg, uint32_t val) { (void)reg; v->pmc_enable = val; }

static uint32_t rd_pramin_base(struct vgpu *v, uint32_t reg) { (void)reg; return v->pramin_base; }
static void wr_pramin_base(struct vgpu *v, uint32_t reg, uint32_t val) { (void)reg; v->pramin_base = val; }

static uint32_t rd_bar(struct vgpu *v, uint32_t reg)
{
	return reg == NV_PBUS_BAR1_INST ? v->bar1.bind : v->bar3.bind;
}

static void wr_bar(struct vgpu *v, uint32_t reg, uint32_t val)
{
	vgpu_bar_bind(v, reg == NV_PBUS_BAR1_INST ? &v->bar1 : &v->bar3, val);
}

/* No peephole window is modelled: remember the value, map nothing. */
static uint32_t rd_peephole(struct vgpu *v, uint32_t reg) { (void)reg; return v->peephole; }
static void wr_peephole(struct vgpu *v, uint32_t reg, uint32_t val) { (void)reg; v->peephole = val; }

static uint32_t rd_fifo_enable(struct vgpu *v, uint32_t reg) { (void)reg; return v->fifo_enable; }
static void wr_fifo_enable(struct vgpu *v, uint32_t reg, uint32_t val) { (void)reg; v->fifo_enable = val & 1; }

static uint32_t rd_userd_base(struct vgpu *v, uint32_t reg) { (void)reg; return v->userd_base; }
static void wr_userd_base(struct vgpu *v, uint32_t reg, uint32_t val) { (void)reg; v->userd_base = val; }

static uint32_t rd_runlist_base(struct vgpu *v, uint32_t reg) { (void)reg; return v->runlist_base; }
static void wr_runlist_base(struct vgpu *v, uint32_t reg, uint32_t val) { (void)reg; v->runlist_base = val; }
static uint32_t rd_runlist_submit(struct vgpu *v, uint32_t reg) { (void)reg; return v->runlist_submit; }
static void wr_runlist_submit(struct vgpu *v, uint32_t reg, uint32_t val) { (void)reg; vgpu_runlist_submit(v, val); }

static uint32_t rd_preempt(struct vgpu *v, uint32_t reg) { (void)reg; return vgpu_preempt_read(v); }
static void wr_preempt(struct vgpu *v, uint32_t reg, uint32_t val) { (void)reg; vgpu_preempt_write(v, val); }

static uint32_t rd_chan(struct vgpu *v, uint32_t reg) { return vgpu_chan_read(v, reg); }
static void wr_chan(struct vgpu *v, uint32_t reg, uint32_t val) { vgpu_chan_write(v, reg, val); }

static uint32_t rd_irq(struct vgpu *v, uint32_t reg)
{
	uint32_t val = 0;

	vgpu_irq_read(v, reg, &val);
	return val;
}

static void wr_irq(struct vgpu *v, uint32_t reg, uint32_t val) { vgpu_irq_write(v, reg, val); }

/* The clock is global and harmless to share. */
static uint32_t rd_ptimer(struct vgpu *v, uint32_t reg) { return gpu_rd32(v->host->hw, reg); }

static uint32_t rd_fb_parts(struct vgpu *v, uint32_t reg) { (void)v; (void)reg; return 1; }
static uint32_t rd_fb_mib(struct vgpu *v, uint32_t reg) { (void)reg; return (uint32_t)(v->cfg.vram_size >> 20); }

/* Bypass (bit 31) is host only; flushes complete before the write returns. */
static uint32_t rd_mmu_ctrl(struct vgpu *v, uint32_t reg) { (void)reg; return v->mmu_ctrl | NV_MMU_CTRL_SPACE | NV_MMU_CTRL_FLUSH_DONE; }
static void wr_mmu_ctrl(struct vgpu *v, uint32_t reg, uint32_t val) { (void)reg; v->mmu_ctrl = val & NV_MMU_CTRL_LARGE_64K; }
static uint32_t rd_flush_pd(struct vgpu *v, uint32_t reg) { (void)reg; return v->mmu_flush_pd; }
static void wr_flush_pd(struct vgpu *v, uint32_t reg, uint32_t val) { (void)reg; v->mmu_flush_pd = val; }
static void wr_flush(struct vgpu *v, uint32_t reg, uint32_t val) { (void)reg; vgpu_tlb_flush(v, val); }

static uint32_t rd_pgraph_status(struct vgpu *v, uint32_t reg) { (void)reg; return vgpu_engine_status(v); }

static uint32_t rd_pv(struct vgpu *v, uint32_t reg) { return vgpu_pv_read(v, reg - GPUVM_PV_BAR0_BASE); }
static void wr_pv(struct vgpu *v, uint32_t reg, uint32_t val) { vgpu_pv_write(v, reg - GPUVM_PV_BAR0_BASE, val); }

static uint32_t rd_pramin(struct vgpu *v, uint32_t reg) { return vgpu_pramin_read(v, reg); }
static void wr_pramin(struct vgpu *v, uint32_t reg, uint32_t val) { vgpu_pramin_write(v, reg, val); }

#define REG(a, n, r, w)          { a, a, n, r, w }
#define RANGE(a, b, n, r, w)     { a, b, n, r, w }

static const struct vgpu_reg vgpu_reg_table[] = {
	REG(NV_PMC_BOOT0, "PMC.BOOT0", rd_boot0, wr_ignore),
	REG(NV_PMC_ENDIAN, "PMC.ENDIAN", rd_zero, wr_ignore),
	REG(NV_PMC_INTR, "PMC.INTR", rd_irq, wr_ignore),
	REG(NV_PMC_INTR_EN, "PMC.INTR_EN", rd_irq, wr_irq),
	REG(NV_PMC_ENABLE, "PMC.ENABLE", rd_pmc_enable, wr_pmc_enable),
	REG(NV_PBUS_PRAMIN_BASE, "PBUS.PRAMIN", rd_pramin_base, wr_pramin_base),
	REG(NV_PBUS_BAR1_INST, "PBUS.BAR1", rd_bar, wr_bar),
	REG(NV_PBUS_BAR3_INST, "PBUS.BAR3", rd_bar, wr_bar),
	REG(NV_PBUS_PEEPHOLE_INST, "PBUS.PEEPHOLE", rd_peephole, wr_peephole),
	REG(NV_PFIFO_INTR, "PFIFO.INTR", rd_irq, wr_irq),
	REG(NV_PFIFO_INTR_EN, "PFIFO.INTR_EN", rd_irq, wr_irq),
	REG(NV_PFIFO_ENABLE, "PFIFO.ENABLE", rd_fifo_enable, wr_fifo_enable),
	REG(NV_PFIFO_USERD_BASE, "PFIFO.USERD", rd_userd_base, wr_userd_base),
	REG(NV_PFIFO_RUNLIST_BASE, "PFIFO.RUNLIST_BASE", rd_runlist_base, wr_runlist_base),
	REG(NV_PFIFO_RUNLIST_SUBMIT, "PFIFO.RUNLIST_SUBMIT", rd_runlist_submit, wr_runlist_submit),
	REG(NV_PFIFO_RUNLIST_STATUS, "PFIFO.RUNLIST_STATUS", rd_zero, wr_ignore),
	REG(NV_PFIFO_FAULT_UNITS, "PFIFO.FAULT_UNITS", rd_irq, wr_irq),
	REG(NV_PFIFO_PREEMPT, "PFIFO.PREEMPT", rd_preempt, wr_preempt),
	RANGE(NV_PFIFO_FAULT(0), NV_PFIFO_FAULT(NV_FAULT_UNITS) - 4, "PFIFO.FAULT", rd_irq, wr_ignore),
	RANGE(NV_PFIFO_CHAN_INST(0), NV_PFIFO_CHAN_CTRL(NV_PFIFO_CHANNELS - 1), "PFIFO.CHAN", rd_chan, wr_chan),
	REG(NV_PTIMER_TIME_LOW, "PTIMER.TIME_LOW", rd_ptimer, wr_ignore),
	REG(NV_PTIMER_TIME_HIGH, "PTIMER.TIME_HIGH", rd_ptimer, wr_ignore),
	REG(NV_PFB_PARTS, "PFB.PARTS", rd_fb_parts, wr_ignore),
	REG(NV_PFB_PART_MIB, "PFB.PART_MIB", rd_fb_mib, wr_ignore),
	REG(NV_PBDMA_INTR, "PBDMA.INTR", rd_irq, wr_irq),
	REG(NV_PBDMA_INTR_EN, "PBDMA.INTR_EN", rd_irq, wr_irq),
	REG(NV_PBDMA_ERR_CHID, "PBDMA.ERR_CHID", rd_irq, wr_ignore),
	REG(NV_PBDMA_ERR_INFO, "PBDMA.ERR_INFO", rd_irq, wr_ignore),
	REG(NV_BAR_FLUSH, "PBUS.BAR_FLUSH", rd_zero, wr_ignore),
	REG(NV_MMU_CTRL, "MMU.CTRL", rd_mmu_ctrl, wr_mmu_ctrl),
	REG(NV_MMU_FLUSH_PD, "MMU.FLUSH_PD", rd_flush_pd, wr_flush_pd),
	REG(NV_MMU_FLUSH_TRIGGER, "MMU.FLUSH", rd_zero, wr_flush),
	REG(NV_PGRAPH_INTR, "PGRAPH.INTR", rd_irq, wr_irq),
	RANGE(NV_PGRAPH_NOTIFY_CHANS(0), NV_PGRAPH_NOTIFY_CHANS(3), "PGRAPH.NOTIFY", rd_irq, wr_irq),
	REG(NV_PGRAPH_INTR_EN, "PGRAPH.INTR_EN", rd_irq, wr_irq),
	REG(NV_PGRAPH_STATUS, "PGRAPH.STATUS", rd_pgraph_status, wr_ignore),
	RANGE(NV_PRAMIN_WINDOW, NV_PRAMIN_WINDOW + NV_PRAMIN_WINDOW_SIZE - 4, "PRAMIN", rd_pramin, wr_pramin),
	RANGE(GPUVM_PV_BAR0_BASE, GPUVM_PV_BAR0_BASE + GPUVM_PV_REGS_SIZE - 4, "PV", rd_pv, wr_pv),
};

#define VGPU_NREGS (sizeof(vgpu_reg_table) / sizeof(vgpu_reg_table[0]))

/* Sorted view of the table, built once by vgpu_regs_init(). */
static const struct vgpu_reg *vgpu_regs_sorted[VGPU_NREGS];
static int vgpu_regs_status = -EAGAIN;
static pthread_once_t vgpu_regs_once = PTHREAD_ONCE_INIT;

static int reg_cmp(const void *a, const void *b)
{
	const struct vgpu_reg *x = *(const struct vgpu_reg *const *)a;
	const struct vgpu_reg *y = *(const struct vgpu_reg *const *)b;

	return x->first < y->first ? -1 : x->first > y->first;
}

static void vgpu_regs_build(void)
{
	for (size_t i = 0; i < VGPU_NREGS; i++)
		vgpu_regs_sorted[i] = &vgpu_reg_table[i];
	qsort(vgpu_regs_sorted, VGPU_NREGS, sizeof(vgpu_regs_sorted[0]), reg_cmp);
	vgpu_regs_status = 0;
	for (size_t i = 0; i < VGPU_NREGS; i++) {
		const struct vgpu_reg *r = vgpu_regs_sorted[i];

		if ((r->first & 3) || r->last < r->first || !r->read || !r->write ||
		    (i && vgpu_regs_sorted[i - 1]->last >= r->first)) {
			gpuvm_log(GPUVM_LOG_ERR, "register table: %s (0x%06x) overlaps %s or is malformed",
				  r->name, r->first, i ? vgpu_regs_sorted[i - 1]->name : "nothing");
			vgpu_regs_status = -EEXIST;
		}
	}
}

int vgpu_regs_init(void)
{
	pthread_once(&vgpu_regs_once, vgpu_regs_build);
	return vgpu_regs_status;
}

static const struct vgpu_reg *vgpu_reg_find(uint32_t reg)
{
	size_t lo = 0, hi = VGPU_NREGS;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct vgpu_reg *r = vgpu_regs_sorted[mid];

		if (reg < r->first)
			hi = mid;
		else if (reg > r->last)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

void vgpu_deny(struct vgpu *v, uint32_t reg, bool write)
{
	atomic_fetch_add_explicit(&v->st_denied, 1, memory_order_relaxed);
	for (unsigned i = 0; i < v->denied_logged_n; i++)
		if (v->denied_logged[i] == reg)
			return;
	if (v->denied_logged_n == VGPU_DENY_LOG_MAX)
		return;
	v->denied_logged[v->denied_logged_n++] = reg;
	gpuvm_log(GPUVM_LOG_WARN, "vgpu %s: denied %s of BAR0 0x%06x%s", v->cfg.name,
		  write ? "write" : "read", reg,
		  v->denied_logged_n == VGPU_DENY_LOG_MAX ? " (further denials not logged)" : "");
}

static void vgpu_bar0_access(struct vgpu *v, struct vgpu_io *io)
{
	uint32_t reg = (uint32_t)io->offset;
	const struct vgpu_reg *r = NULL;

	if (io->size == 4 && !(reg & 3) && io->offset < NV_BAR0_SIZE)
		r = vgpu_reg_find(reg);
	if (!r) {
		vgpu_deny(v, reg, io->dir == VGPU_IO_WRITE);
		io->data = 0;
		return;
	}
	if (io->dir == VGPU_IO_READ)
		io->data = r->read(v, reg);
	else
		r->write(v, reg, (uint32_t)io->data);
}

void vgpu_mmio(struct vgpu *v, struct vgpu_io *io)
{
	pthread_mutex_lock(&v->lock);
	atomic_fetch_add_explicit(io->dir == VGPU_IO_READ ? &v->st_reads : &v->st_writes, 1,
				  memory_order_relaxed);
	if (io->bar == 0)
		vgpu_bar0_access(v, io);
	else if (io->bar == 1 || io->bar == 3)
		vgpu_bar_access(v, io);
	else if (io->bar == GPUVM_PV_BAR)
		vgpu_pv_access(v, io);
	else {
		vgpu_deny(v, (uint32_t)io->offset, io->dir == VGPU_IO_WRITE);
		io->data = 0;
	}
	if (v->pending_mode != v->cfg.mode)
		vgpu_mode_maybe_switch(v);
	pthread_mutex_unlock(&v->lock);
}
