/*
 * Channels of a vGPU.  A virtual channel id maps to a physical channel
 * allocated when the guest binds it; the physical channel runs on a shadow
 * instance block in daemon VRAM: the guest's RAMFC with USERD pointing at a
 * shadow USERD page and the page directory replaced by the shadow one.  The
 * guest's runlist writes are merged into the one physical runlist, and its
 * GP_PUT writes (the submission doorbell) are forwarded to the shadow USERD.
 */
#include <errno.h>

#include "log.h"
#include "vgpu_internal.h"

#define RAMFC_SIZE          0x200
#define INST_COPY_END       0x400

static struct vgpu_chan *chan_of(struct vgpu *v, uint32_t reg, unsigned *vchid)
{
	*vchid = (reg - NV_PFIFO_CHAN_INST(0)) / 8;
	return *vchid < v->cfg.channels ? &v->chan[*vchid] : NULL;
}

static uint64_t gmem_rd64(struct vgpu *v, uint64_t g)
{
	return vgpu_gmem_rd32(v, g) | (uint64_t)vgpu_gmem_rd32(v, g + 4) << 32;
}

static void chan_track_userd(struct vgpu *v, struct vgpu_chan *c, uint64_t guserd)
{
	if (c->userd_tracked && c->guserd == guserd)
		return;
	if (c->userd_tracked)
		page_track_put(&v->track, c->guserd >> NV_SPAGE_SHIFT, PAGE_USERD);
	c->userd_tracked = false;
	c->guserd = guserd;
	if (vgpu_gphys_ok(v, guserd, NV_USERD_GP_PUT + 4) &&
	    !page_track_get(&v->track, guserd >> NV_SPAGE_SHIFT, PAGE_USERD))
		c->userd_tracked = true;
}

static void chan_set_vm(struct vgpu *v, struct vgpu_chan *c, uint64_t gpd)
{
	if (c->svm && c->svm->gpd == gpd)
		return;
	vgpu_svm_put(v, c->svm);
	c->svm = vgpu_svm_get(v, gpd, SHADOW_GPU, 0);
}

/* Rebuild the shadow instance block from the guest's. */
static void chan_sync_inst(struct vgpu *v, struct vgpu_chan *c)
{
	struct gpuvm_host *h = v->host;
	uint64_t pd_words = gmem_rd64(v, c->ginst + NV_INST_PD_LO);

	uint32_t gp_lo, gp_hi;
	unsigned vchid = (unsigned)(c - v->chan);

	for (uint32_t off = 0; off < INST_COPY_END; off += 4)
		host_wr32_vram(h, c->shadow_inst + off, vgpu_gmem_rd32(v, c->ginst + off));
	chan_track_userd(v, c, gmem_rd64(v, c->ginst + NV_RAMFC_USERD_LO) & ~(uint64_t)0xff);
	host_wr32_vram(h, c->shadow_inst + NV_RAMFC_USERD_LO, (uint32_t)c->shadow_userd);
	host_wr32_vram(h, c->shadow_inst + NV_RAMFC_USERD_HI, (uint32_t)(c->shadow_userd >> 32));
	/* The GPU fetches from the daemon's shadow ring, never the guest's. */
	vgpu_submit_ramfc(v, vchid, &gp_lo, &gp_hi);
	host_wr32_vram(h, c->shadow_inst + NV_RAMFC_GP_BASE_LO, gp_lo);
	host_wr32_vram(h, c->shadow_inst + NV_RAMFC_GP_BASE_HI, gp_hi);
	if (c->pv_pd) {
		/* PV channel: the daemon's own tables, nothing shadowed. */
		host_wr32_vram(h, c->shadow_inst + NV_INST_PD_LO, (uint32_t)c->pv_pd);
		host_wr32_vram(h, c->shadow_inst + NV_INST_PD_HI, (uint32_t)(c->pv_pd >> 32));
		host_wr32_vram(h, c->shadow_inst + NV_INST_LIMIT_LO, (uint32_t)(NV_VA_LIMIT - 1));
		host_wr32_vram(h, c->shadow_inst + NV_INST_LIMIT_HI, (uint32_t)((NV_VA_LIMIT - 1) >> 32));
		return;
	}
	/* Only a VRAM page directory can be shadowed; anything else runs with none. */
	if ((pd_words & NV_INST_PD_TARGET_MASK) == 0)
		chan_set_vm(v, c, pd_words & 0xfffffffff000ull);
	else
		chan_set_vm(v, c, ~0ull);
	host_wr32_vram(h, c->shadow_inst + NV_INST_PD_LO, c->svm ? (uint32_t)c->svm->spd : 0);
	host_wr32_vram(h, c->shadow_inst + NV_INST_PD_HI, c->svm ? (uint32_t)(c->svm->spd >> 32) : 0);
}

static void chan_unbind(struct vgpu *v, struct vgpu_chan *c)
{
	if (c->pchid >= 0) {
		vgpu_submit_unbind(v, (unsigned)(c - v->chan));
		host_chan_free(v->host, c->pchid);
	}
	c->pchid = -1;
	if (c->shadow_inst)
		host_page_free(v->host, c->shadow_inst, NV_INST_SIZE);
	if (c->shadow_userd)
		host_page_free(v->host, c->shadow_userd, NV_USERD_SIZE);
	c->shadow_inst = c->shadow_userd = 0;
	if (c->ginst)
		page_track_put(&v->track, c->ginst >> NV_SPAGE_SHIFT, PAGE_INST);
	if (c->userd_tracked)
		page_track_put(&v->track, c->guserd >> NV_SPAGE_SHIFT, PAGE_USERD);
	c->userd_tracked = false;
	c->ginst = c->guserd = 0;
	vgpu_svm_put(v, c->svm);
	c->svm = NULL;
	c->pv_pd = 0;
}

static int chan_bind(struct vgpu *v, struct vgpu_chan *c, unsigned vchid, uint64_t ginst)
{
	struct gpuvm_host *h = v->host;
	int err;

	if (!vgpu_gphys_ok(v, ginst, NV_INST_SIZE))
		return -EFAULT;
	v->fresh = false;       /* the GPU may write the partition from now */
	err = host_page_alloc(h, NV_INST_SIZE, NV_SPAGE_SIZE, &c->shadow_inst);
	if (!err)
		err = host_page_alloc(h, NV_USERD_SIZE, NV_SPAGE_SIZE, &c->shadow_userd);
	if (err)
		return err;
	c->pchid = host_chan_alloc(h, v, vchid);
	if (c->pchid < 0)
		return c->pchid;
	c->ginst = ginst;
	page_track_get(&v->track, ginst >> NV_SPAGE_SHIFT, PAGE_INST);
	chan_sync_inst(v, c);
	vgpu_submit_bind(v, vchid);
	host_chan_bind(h, c->pchid, c->shadow_inst, c->ctrl_reg & NV_CHAN_CTRL_RUNNABLE, v);
	if (c->listed) {
		host_chan_set_listed(h, c->pchid, true);
		host_runlist_commit(h);
	}
	return 0;
}

/* Undo what GPUVM_PV_CHAN_RUN did, so that the channel id starts clean again. */
static void chan_pv_run_clear(struct vgpu_chan *c)
{
	if (!c->pv_run)
		return;
	c->pv_run = false;
	c->listed = false;
	c->ctrl_reg = 0;
}

int vgpu_chan_bind_pv(struct vgpu *v, unsigned vchid, uint64_t ginst, uint64_t pd, bool run)
{
	struct vgpu_chan *c = &v->chan[vchid];
	int err;

	chan_unbind(v, c);
	c->inst_reg = NV_CHAN_INST_VALID | (uint32_t)(ginst >> 12);
	c->pv_pd = pd;
	if (run) {
		/* What the guest's CHAN_CTRL write and runlist update would do,
		 * with one runlist update on the GPU instead of two traps' worth. */
		c->pv_run = true;
		c->listed = true;
		c->ctrl_reg = NV_CHAN_CTRL_RUNNABLE;
	}
	err = chan_bind(v, c, vchid, ginst);
	if (err) {
		chan_unbind(v, c);
		chan_pv_run_clear(c);
		c->inst_reg = 0;
	}
	return err;
}

void vgpu_chan_unbind_pv(struct vgpu *v, unsigned vchid)
{
	struct vgpu_chan *c = &v->chan[vchid];

	chan_unbind(v, c);      /* takes it off the GPU: runlist, stop, preempt */
	chan_pv_run_clear(c);
	c->inst_reg = 0;
}

uint32_t vgpu_chan_read(struct vgpu *v, uint32_t reg)
{
	unsigned vchid;
	struct vgpu_chan *c = chan_of(v, reg, &vchid);
	uint32_t val;

	if (!c) {
		vgpu_deny(v, reg, false);
		return 0;
	}
	if (!(reg & 4))
		return c->inst_reg;
	val = c->ctrl_reg & NV_CHAN_CTRL_RUNNABLE;
	if (c->pchid >= 0)
		val |= host_chan_ctrl(v->host, c->pchid) &
		       (NV_CHAN_CTRL_LOADED | NV_CHAN_CTRL_FAULTED | NV_CHAN_CTRL_PENDING);
	if (c->killed)
		val |= NV_CHAN_CTRL_FAULTED;
	/* Work the scheduler still holds is pending work as far as the guest knows. */
	if (c->pchid >= 0 && (c->guest_get != c->guest_put || sched_chan_busy(v->host->sched, v->sc, vchid)))
		val |= NV_CHAN_CTRL_PENDING;
	return val;
}

void vgpu_chan_write(struct vgpu *v, uint32_t reg, uint32_t val)
{
	unsigned vchid;
	struct vgpu_chan *c = chan_of(v, reg, &vchid);
	int err;

	if (!c) {
		vgpu_deny(v, reg, true);
		return;
	}
	if (reg & 4) {
		c->ctrl_reg = val & NV_CHAN_CTRL_RUNNABLE;
		if (c->pchid >= 0)
			host_chan_set_runnable(v->host, c->pchid, c->ctrl_reg);
		return;
	}
	chan_unbind(v, c);
	c->inst_reg = val;
	if (!(val & NV_CHAN_INST_VALID))
		return;
	err = chan_bind(v, c, vchid, (uint64_t)(val & NV_CHAN_INST_ADDR_MASK) << 12);
	if (err) {
		gpuvm_log(GPUVM_LOG_WARN, "vgpu %s: channel %u not bound (instance 0x%08x): %s",
			  v->cfg.name, vchid, val, err == -EFAULT ? "outside the partition" : "no resources");
		chan_unbind(v, c);
	}
}

void vgpu_runlist_submit(struct vgpu *v, uint32_t val)
{
	uint64_t base = (uint64_t)(v->runlist_base & NV_CHAN_INST_ADDR_MASK) << 12;
	unsigned count = NV_PFIFO_RUNLIST_COUNT(val);

	v->runlist_submit = val;
	for (unsigned i = 0; i < v->cfg.channels; i++)
		v->chan[i].listed = false;
	for (unsigned i = 0; i < count; i++) {
		uint64_t e = base + (uint64_t)i * NV_RUNLIST_ENTRY_SIZE;
		uint32_t chid = vgpu_gmem_rd32(v, e);

		if (!vgpu_gphys_ok(v, e, NV_RUNLIST_ENTRY_SIZE) || chid >= v->cfg.channels) {
			/* A foreign or bogus id: this entry is dropped, the rest stands. */
			vgpu_deny(v, NV_PFIFO_RUNLIST_SUBMIT, true);
			continue;
		}
		v->chan[chid].listed = true;
	}
	for (unsigned i = 0; i < v->cfg.channels; i++)
		if (v->chan[i].pchid >= 0)
			host_chan_set_listed(v->host, v->chan[i].pchid, v->chan[i].listed);
	host_runlist_commit(v->host);
	pthread_mutex_lock(&v->irq_lock);
	v->irq.fifo_intr |= NV_PFIFO_INTR_RUNLIST;
	pthread_mutex_unlock(&v->irq_lock);
}

uint32_t vgpu_preempt_read(struct vgpu *v)
{
	return v->preempt;
}

void vgpu_preempt_write(struct vgpu *v, uint32_t val)
{
	unsigned vchid = val & (NV_PFIFO_CHANNELS - 1);

	if (vchid >= v->cfg.channels) {
		vgpu_deny(v, NV_PFIFO_PREEMPT, true);
		return;
	}
	v->preempt = vchid;
	if (v->chan[vchid].pchid >= 0)
		host_chan_preempt(v->host, v->chan[vchid].pchid);
}

void vgpu_inst_written(struct vgpu *v, uint64_t gpfn)
{
	for (unsigned i = 0; i < v->cfg.channels; i++) {
		struct vgpu_chan *c = &v->chan[i];

		if (c->pchid >= 0 && (c->ginst >> NV_SPAGE_SHIFT) == gpfn)
			chan_sync_inst(v, c);
	}
	if (v->bar1.ginst && ((v->bar1.ginst - 1) >> NV_SPAGE_SHIFT) == gpfn)
		vgpu_bar_bind(v, &v->bar1, v->bar1.bind);
	if (v->bar3.ginst && ((v->bar3.ginst - 1) >> NV_SPAGE_SHIFT) == gpfn)
		vgpu_bar_bind(v, &v->bar3, v->bar3.bind);
}

void vgpu_userd_written(struct vgpu *v, uint64_t g, uint32_t val)
{
	for (unsigned i = 0; i < v->cfg.channels; i++) {
		struct vgpu_chan *c = &v->chan[i];

		if (c->pchid >= 0 && c->userd_tracked && g == c->guserd + NV_USERD_GP_PUT)
			(void)vgpu_submit_put(v, i, val);   /* a dropped GP_PUT is logged there */
	}
}

bool vgpu_userd_read(struct vgpu *v, uint64_t g, uint32_t *val)
{
	for (unsigned i = 0; i < v->cfg.channels; i++) {
		struct vgpu_chan *c = &v->chan[i];
		uint64_t off = g - c->guserd;

		if (c->pchid < 0 || !c->userd_tracked || g < c->guserd || off >= NV_USERD_SIZE)
			continue;
		/* Ring progress is the daemon's view of the guest ring; REF comes
		 * from the GPU; the rest is the guest's own memory. */
		if (off == NV_USERD_GP_GET || off == NV_USERD_GP_PUT) {
			*val = off == NV_USERD_GP_GET ? c->guest_get : c->guest_put;
			return true;
		}
		if (off == NV_USERD_REF) {
			*val = host_rd32_vram(v->host, c->shadow_userd + off);
			return true;
		}
	}
	return false;
}

void vgpu_channels_reset(struct vgpu *v)
{
	bool listed = false;

	for (unsigned i = 0; i < VGPU_MAX_CHANNELS; i++) {
		listed |= v->chan[i].listed && v->chan[i].pchid >= 0;
		chan_unbind(v, &v->chan[i]);
		v->chan[i] = (struct vgpu_chan){ .pchid = -1 };
	}
	if (listed)
		host_runlist_commit(v->host);
}

unsigned vgpu_channels_bound(struct vgpu *v)
{
	unsigned n = 0;

	for (unsigned i = 0; i < v->cfg.channels; i++)
		n += v->chan[i].pchid >= 0;
	return n;
}

uint32_t vgpu_engine_status(struct vgpu *v)
{
	for (unsigned i = 0; i < v->cfg.channels; i++)
		if (v->chan[i].pchid >= 0 &&
		    (host_chan_ctrl(v->host, v->chan[i].pchid) & (NV_CHAN_CTRL_LOADED | NV_CHAN_CTRL_PENDING)))
			return 1;
	return 0;
}
