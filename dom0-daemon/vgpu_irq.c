/*
 * Virtual interrupt state of a vGPU.  The host's interrupt thread delivers
 * faults, PBDMA errors and notifies of the VM's own channels here, already
 * translated to virtual channel ids; the guest reads and acknowledges them
 * through the usual PMC/PFIFO/PBDMA/PGRAPH registers.
 */
#include "vgpu_internal.h"

void vgpu_deliver_fault(struct vgpu *v, unsigned unit, unsigned vchid, uint64_t va, uint32_t flags)
{
	struct vgpu_fault_rec *rec = &v->irq.fault[unit % NV_FAULT_UNITS];
	uint64_t ginst = __atomic_load_n(&v->chan[vchid % VGPU_MAX_CHANNELS].ginst, __ATOMIC_RELAXED);

	pthread_mutex_lock(&v->irq_lock);
	rec->w[0] = (uint32_t)(ginst >> 12);
	rec->w[1] = (uint32_t)va;
	rec->w[2] = (uint32_t)(va >> 32);
	rec->w[3] = (flags & ~(0x7fu << 8)) | (vchid & 0x7f) << 8;
	v->irq.fault_units |= 1u << (unit % NV_FAULT_UNITS);
	v->irq.fifo_intr |= NV_PFIFO_INTR_VM_FAULT;
	pthread_mutex_unlock(&v->irq_lock);
	atomic_fetch_add_explicit(&v->st_faults, 1, memory_order_relaxed);
}

void vgpu_deliver_pbdma(struct vgpu *v, unsigned vchid, uint32_t bits, uint32_t info)
{
	pthread_mutex_lock(&v->irq_lock);
	v->irq.pbdma_intr |= bits;
	v->irq.pbdma_chid = vchid;
	v->irq.pbdma_info = info;
	v->irq.fifo_intr |= NV_PFIFO_INTR_PBDMA;
	pthread_mutex_unlock(&v->irq_lock);
	atomic_fetch_add_explicit(&v->st_faults, 1, memory_order_relaxed);
}

void vgpu_deliver_notify(struct vgpu *v, unsigned vchid)
{
	pthread_mutex_lock(&v->irq_lock);
	v->irq.notify[(vchid / 32) % 4] |= 1u << (vchid % 32);
	v->irq.pgraph_intr |= NV_PGRAPH_INTR_NOTIFY;
	pthread_mutex_unlock(&v->irq_lock);
}

static uint32_t pmc_summary(const struct vgpu_irq_state *s)
{
	uint32_t v = 0;

	if (s->fifo_intr & s->fifo_intr_en)
		v |= NV_PMC_INTR_PFIFO;
	if (s->pgraph_intr & s->pgraph_intr_en)
		v |= NV_PMC_INTR_PGRAPH;
	return v;
}

static bool irq_read_locked(struct vgpu_irq_state *s, uint32_t reg, uint32_t *val)
{
	if (reg >= NV_PFIFO_FAULT(0) && reg < NV_PFIFO_FAULT(NV_FAULT_UNITS)) {
		*val = s->fault[(reg - NV_PFIFO_FAULT(0)) / 0x10].w[(reg & 0xf) / 4];
		return true;
	}
	if (reg >= NV_PGRAPH_NOTIFY_CHANS(0) && reg <= NV_PGRAPH_NOTIFY_CHANS(3)) {
		*val = s->notify[(reg - NV_PGRAPH_NOTIFY_CHANS(0)) / 4];
		return true;
	}
	switch (reg) {
	case NV_PMC_INTR: *val = pmc_summary(s); return true;
	case NV_PMC_INTR_EN: *val = s->pmc_intr_en; return true;
	case NV_PFIFO_INTR: *val = s->fifo_intr; return true;
	case NV_PFIFO_INTR_EN: *val = s->fifo_intr_en; return true;
	case NV_PFIFO_FAULT_UNITS: *val = s->fault_units; return true;
	case NV_PBDMA_INTR: *val = s->pbdma_intr; return true;
	case NV_PBDMA_INTR_EN: *val = s->pbdma_intr_en; return true;
	case NV_PBDMA_ERR_CHID: *val = s->pbdma_chid; return true;
	case NV_PBDMA_ERR_INFO: *val = s->pbdma_info; return true;
	case NV_PGRAPH_INTR: *val = s->pgraph_intr; return true;
	case NV_PGRAPH_INTR_EN: *val = s->pgraph_intr_en; return true;
	}
	return false;
}

bool vgpu_irq_read(struct vgpu *v, uint32_t reg, uint32_t *val)
{
	bool ok;

	pthread_mutex_lock(&v->irq_lock);
	ok = irq_read_locked(&v->irq, reg, val);
	pthread_mutex_unlock(&v->irq_lock);
	return ok;
}

static void clear_fault_units(struct vgpu_irq_state *s, uint32_t bits)
{
	for (unsigned u = 0; u < NV_FAULT_UNITS; u++)
		if (bits & s->fault_units & (1u << u))
			s->fault[u].w[3] &= ~NV_FAULT_FLAGS_VALID;
	s->fault_units &= ~bits;
}

static bool irq_write_locked(struct vgpu_irq_state *s, uint32_t reg, uint32_t val)
{
	if (reg >= NV_PGRAPH_NOTIFY_CHANS(0) && reg <= NV_PGRAPH_NOTIFY_CHANS(3)) {
		s->notify[(reg - NV_PGRAPH_NOTIFY_CHANS(0)) / 4] &= ~val;
		return true;
	}
	switch (reg) {
	case NV_PMC_INTR_EN: s->pmc_intr_en = val & (NV_PMC_INTR_EN_HW | NV_PMC_INTR_EN_SW); return true;
	case NV_PFIFO_INTR: s->fifo_intr &= ~val; return true;
	case NV_PFIFO_INTR_EN: s->fifo_intr_en = val; return true;
	case NV_PFIFO_FAULT_UNITS: clear_fault_units(s, val); return true;
	case NV_PBDMA_INTR: s->pbdma_intr &= ~val; return true;
	case NV_PBDMA_INTR_EN: s->pbdma_intr_en = val; return true;
	case NV_PGRAPH_INTR: s->pgraph_intr &= ~val; return true;
	case NV_PGRAPH_INTR_EN: s->pgraph_intr_en = val; return true;
	}
	return false;
}

bool vgpu_irq_write(struct vgpu *v, uint32_t reg, uint32_t val)
{
	bool ok;

	pthread_mutex_lock(&v->irq_lock);
	ok = irq_write_locked(&v->irq, reg, val);
	pthread_mutex_unlock(&v->irq_lock);
	return ok;
}

void vgpu_irq_reset(struct vgpu *v)
{
	pthread_mutex_lock(&v->irq_lock);
	v->irq = (struct vgpu_irq_state){ 0 };
	pthread_mutex_unlock(&v->irq_lock);
}
