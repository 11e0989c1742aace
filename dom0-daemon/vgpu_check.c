/*
 * The isolation checker of one vGPU.  It reads the real shadow structures
 * in VRAM and the physical channel table rather than trusting bookkeeping:
 * every valid shadow PTE and every remapped BAR page must lie inside the
 * VM's partition, every physical channel it uses must be its own and run on
 * its own shadow instance block and shadow page directory.
 */
#include <stdio.h>

#include "vgpu_internal.h"

static int check_channel(struct vgpu *v, unsigned vchid, char *why, size_t len)
{
	struct vgpu_chan *c = &v->chan[vchid];
	struct gpuvm_host *h = v->host;
	uint32_t inst_reg;
	uint64_t pd;

	if (c->pchid < 0)
		return 0;
	pthread_mutex_lock(&h->lock);
	if (h->chan[c->pchid].owner != v || h->chan[c->pchid].vchid != vchid) {
		pthread_mutex_unlock(&h->lock);
		snprintf(why, len, "vgpu %s: channel %u's physical channel %d is owned by someone else",
			 v->cfg.name, vchid, c->pchid);
		return -1;
	}
	pthread_mutex_unlock(&h->lock);
	inst_reg = gpu_rd32(h->hw, NV_PFIFO_CHAN_INST(c->pchid));
	if ((uint64_t)(inst_reg & NV_CHAN_INST_ADDR_MASK) << 12 != c->shadow_inst ||
	    !host_addr_reserved(h, c->shadow_inst, NV_INST_SIZE)) {
		snprintf(why, len, "vgpu %s: physical channel %d runs on 0x%08x, not its shadow instance block",
			 v->cfg.name, c->pchid, inst_reg);
		return -1;
	}
	pd = host_rd32_vram(h, c->shadow_inst + NV_INST_PD_LO) |
	     (uint64_t)host_rd32_vram(h, c->shadow_inst + NV_INST_PD_HI) << 32;
	if (pd && c->pv_pd && pd == c->pv_pd && vgpu_pv_owns_pd(v, pd))
		return 0;
	if (pd && (!c->svm || pd != c->svm->spd)) {
		snprintf(why, len, "vgpu %s: channel %u's page directory 0x%llx is not its shadow",
			 v->cfg.name, vchid, (unsigned long long)pd);
		return -1;
	}
	return 0;
}

static int check_remap(struct vgpu *v, char *why, size_t len)
{
	size_t n = v->remap_bytes / sizeof(uint32_t);

	for (size_t i = 0; i < n; i++) {
		uint32_t e = v->remap[i];

		if (!e)
			continue;
		if (!vgpu_gphys_ok(v, (uint64_t)(e - 1) << NV_SPAGE_SHIFT, NV_SPAGE_SIZE) ||
		    page_track_kinds(&v->track, e - 1)) {
			snprintf(why, len, "vgpu %s: remapped BAR page %zu exposes guest page %u "
				 "(outside the partition or a tracked structure)", v->cfg.name, i, e - 1);
			return -1;
		}
	}
	return 0;
}

int vgpu_check_isolation(struct vgpu *v, char *why, size_t len)
{
	int ret = 0;

	pthread_mutex_lock(&v->lock);
	for (int i = 0; i < VGPU_MAX_SVMS && !ret; i++)
		if (v->svm[i])
			ret = shadow_vm_check(v->svm[i], why, len);
	for (unsigned i = 0; i < v->cfg.channels && !ret; i++)
		ret = check_channel(v, i, why, len);
	if (!ret)
		ret = check_remap(v, why, len);
	if (!ret)
		ret = vgpu_pv_check(v, why, len);
	pthread_mutex_unlock(&v->lock);
	return ret;
}
