/*
 * Submissions of a vGPU through the scheduler.
 *
 * Each physical channel fetches from a shadow GPFIFO ring the daemon owns,
 * in the vGPU's "hole": the top 128 MiB of GPU virtual space, where every
 * shadow page directory of the vGPU maps this vGPU's channel areas and
 * nothing else.  A guest GP_PUT write queues [old put, new put) with the
 * scheduler.  When the policy releases it (at once, in the thread that
 * trapped the write, if the policy would let it go now; else later, from
 * the scheduler's thread), the daemon copies the guest's GPFIFO entries
 * into the shadow ring between two stubs of its own, each a long semaphore
 * release: the GPU stamps PTIMER into the slot's records before and after
 * the guest's work, and that difference is the GPU time the VM is charged.
 * The guest sees GP_GET advance as its work retires.
 *
 * Channel area (VGPU_CHAN_AREA bytes per virtual channel):
 *   0x0000  shadow ring, VGPU_SRING_ENTRIES entries
 *   0x8000  stubs, two per slot (begin, end), VGPU_STUB_SIZE bytes each
 *   0x9000  records, two per slot, 16 bytes each {token, 0, ptimer lo, hi}
 */
#include <errno.h>

#include "log.h"
#include "vgpu_internal.h"

static uint64_t chan_area(const struct vgpu *v, unsigned vchid)
{
	return v->hole + (uint64_t)vchid * VGPU_CHAN_AREA;
}

static uint64_t chan_area_va(unsigned vchid)
{
	return VGPU_HOLE_VA + (uint64_t)vchid * VGPU_CHAN_AREA;
}

static uint64_t stub_off(unsigned slot, bool end)
{
	return VGPU_STUBS_OFF + (uint64_t)(slot * 2 + end) * VGPU_STUB_SIZE;
}

static uint64_t rec_off(unsigned slot, bool end)
{
	return VGPU_RECS_OFF + (uint64_t)(slot * 2 + end) * 16;
}

/* ---- the hole -------------------------------------------------------------------- */

int vgpu_submit_init(struct vgpu *v)
{
	struct gpuvm_host *h = v->host;
	uint64_t pages;
	int err;

	v->hole_size = (uint64_t)v->cfg.channels * VGPU_CHAN_AREA;
	err = host_page_alloc(h, v->hole_size, NV_SPAGE_SIZE, &v->hole);
	if (!err)
		err = host_page_alloc(h, NV_SPT_SIZE, NV_SPAGE_SIZE, &v->hole_spt);
	if (err)
		return err;
	pages = v->hole_size / NV_SPAGE_SIZE;
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t pte = nv_pte_vram(v->hole + i * NV_SPAGE_SIZE, 0);

		host_wr32_vram(h, v->hole_spt + i * 8, (uint32_t)pte);
		host_wr32_vram(h, v->hole_spt + i * 8 + 4, (uint32_t)(pte >> 32));
	}
	v->env.hole_pde = VGPU_HOLE_PDE;
	v->env.hole_table = v->hole_spt;
	v->env.hole_base = v->hole;
	v->env.hole_size = v->hole_size;
	return 0;
}

void vgpu_submit_fini(struct vgpu *v)
{
	if (v->hole_spt)
		host_page_free(v->host, v->hole_spt, NV_SPT_SIZE);
	if (v->hole)
		host_page_free(v->host, v->hole, v->hole_size);
	v->hole = v->hole_spt = 0;
}

/* ---- binding ------------------------------------------------------------------------ */

void vgpu_submit_ramfc(struct vgpu *v, unsigned vchid, uint32_t *gp_lo, uint32_t *gp_hi)
{
	uint64_t va = chan_area_va(vchid);

	(void)v;
	*gp_lo = (uint32_t)va;
	*gp_hi = (uint32_t)(va >> 32) | (uint32_t)VGPU_SRING_ORDER << 16;
}

void vgpu_submit_bind(struct vgpu *v, unsigned vchid)
{
	struct vgpu_chan *c = &v->chan[vchid];
	uint32_t gp_hi = vgpu_gmem_rd32(v, c->ginst + NV_RAMFC_GP_BASE_HI);

	c->gen++;
	c->gring_va = (uint64_t)(gp_hi & 0xff) << 32 | vgpu_gmem_rd32(v, c->ginst + NV_RAMFC_GP_BASE_LO);
	c->gring_order = NV_RAMFC_GP_ORDER(gp_hi);
	if (c->gring_order > 20)
		c->gring_order = 20;
	c->guest_put = c->userd_tracked ? vgpu_gmem_rd32(v, c->guserd + NV_USERD_GP_PUT) : 0;
	c->guest_put &= (1u << c->gring_order) - 1;
	c->guest_get = c->guest_put;
	c->sput = 0;
	c->inflight = 0;
	c->killed = false;
	host_vram_zero(v->host, chan_area(v, vchid), VGPU_CHAN_AREA);
}

void vgpu_submit_unbind(struct vgpu *v, unsigned vchid)
{
	struct vgpu_chan *c = &v->chan[vchid];

	if (v->sc)
		sched_cancel_chan(v->host->sched, v->sc, vchid);
	c->gen++;
	c->inflight = 0;
}

/* ---- the guest's doorbell ----------------------------------------------------------------- */

int vgpu_submit_put(struct vgpu *v, unsigned vchid, uint32_t put)
{
	struct vgpu_chan *c = &v->chan[vchid];
	uint32_t mask = (1u << c->gring_order) - 1;

	put &= mask;
	if (c->killed)
		return -EIO;
	if (put == c->guest_put)
		return 0;
	if (sched_submit(v->host->sched, v->sc, vchid, c->gen, c->guest_put, put)) {
		gpuvm_log(GPUVM_LOG_WARN, "vgpu %s: channel %u: submission queue full, GP_PUT %u dropped",
			  v->cfg.name, vchid, put);
		return -EAGAIN;
	}
	c->guest_put = put;
	atomic_fetch_add_explicit(&v->st_submissions, 1, memory_order_relaxed);
	return 0;
}

/* ---- release ------------------------------------------------------------------------------- */

/* A stub: long semaphore release of token at the slot's record. */
static void write_stub(struct vgpu *v, unsigned vchid, unsigned slot, bool end, uint32_t token)
{
	uint64_t at = chan_area(v, vchid) + stub_off(slot, end);
	uint64_t rec = chan_area_va(vchid) + rec_off(slot, end);
	const uint32_t words[5] = {
		nv_pb_hdr(NV_PB_OP_INC, 0, NV906F_SEMAPHORE_HI, 4),
		(uint32_t)(rec >> 32), (uint32_t)rec, token, NV906F_SEM_RELEASE,
	};

	host_wr32_vram(v->host, chan_area(v, vchid) + rec_off(slot, end), 0);
	for (unsigned i = 0; i < 5; i++)
		host_wr32_vram(v->host, at + i * 4, words[i]);
}

static void ring_write(struct vgpu *v, unsigned vchid, uint32_t idx, uint32_t e0, uint32_t e1)
{
	uint64_t at = chan_area(v, vchid) + (uint64_t)(idx % VGPU_SRING_ENTRIES) * NV_GPFIFO_ENTRY_SIZE;

	host_wr32_vram(v->host, at, e0);
	host_wr32_vram(v->host, at + 4, e1);
}

static void ring_write_stub(struct vgpu *v, unsigned vchid, uint32_t idx, unsigned slot, bool end)
{
	uint32_t e[2];

	nv_gp_entry(e, chan_area_va(vchid) + stub_off(slot, end), 5);
	ring_write(v, vchid, idx, e[0], e[1]);
}

/* Guest physical address behind a channel's VA: PV tables or the guest's own. */
static bool chan_translate(struct vgpu *v, struct vgpu_chan *c, uint64_t va, uint64_t *g)
{
	if (c->pv_pd)
		return vgpu_pv_translate(v, c->pv_pd, va, g);
	return c->svm && shadow_vm_guest_translate(c->svm, va, g);
}

/* Copy guest entry gidx; one the guest's tables do not map becomes a
 * zero-length entry, which stops the channel as a bad fetch would. */
static void ring_copy_entry(struct vgpu *v, struct vgpu_chan *c, unsigned vchid, uint32_t idx, uint32_t gidx)
{
	uint64_t g;
	uint32_t e0 = 0, e1 = 0;

	if (chan_translate(v, c, c->gring_va + (uint64_t)gidx * 8, &g) &&
	    vgpu_gphys_ok(v, g, 8) && !(g & 7)) {
		e0 = vgpu_gmem_rd32(v, g);
		e1 = vgpu_gmem_rd32(v, g + 4);
	}
	ring_write(v, vchid, idx, e0, e1);
}

static int release_locked(struct vgpu *v, struct sched_item *it)
{
	struct vgpu_chan *c = &v->chan[it->chan];
	uint32_t gmask = (1u << c->gring_order) - 1, n, used, sget, idx;
	unsigned slot;

	if (c->pchid < 0 || c->gen != it->gen || c->killed)
		return -ENOENT;
	n = (it->to - it->from) & gmask;
	if (!n)
		return -ENODATA;
	if (it->max_entries && n > it->max_entries)
		n = it->max_entries;        /* the scheduler keeps the rest queued */
	sget = host_rd32_vram(v->host, c->shadow_userd + NV_USERD_GP_GET);
	used = (c->sput - sget) % VGPU_SRING_ENTRIES;
	if (c->inflight >= VGPU_SLOTS || used + n + 2 >= VGPU_SRING_ENTRIES)
		return -EAGAIN;
	it->to = (it->from + n) & gmask;
	slot = c->token % VGPU_SLOTS;
	c->token++;
	write_stub(v, it->chan, slot, false, c->token);
	write_stub(v, it->chan, slot, true, c->token);
	idx = c->sput;
	ring_write_stub(v, it->chan, idx++, slot, false);
	for (uint32_t i = 0; i < n; i++)
		ring_copy_entry(v, c, it->chan, idx++, (it->from + i) & gmask);
	ring_write_stub(v, it->chan, idx++, slot, true);
	c->sput = idx % VGPU_SRING_ENTRIES;
	c->inflight++;
	it->slot = c->token << 8 | slot;
	it->pchid = c->pchid;
	/* Page tables the guest changed without a flush are picked up now. */
	if (c->svm && (c->svm->dirty.used || c->svm->need_full)) {
		shadow_vm_sync(c->svm);
		host_tlb_flush(v->host, c->svm->spd, NV_MMU_FLUSH_ALL_PAGES);
	}
	host_userd_put(v->host, c->shadow_userd, c->sput);
	return 0;
}

static int sched_release(void *owner, struct sched_item *it)
{
	struct vgpu *v = owner;
	int err;

	pthread_mutex_lock(&v->lock);
	err = release_locked(v, it);
	pthread_mutex_unlock(&v->lock);
	return err;
}

/* From vgpu_submit_put (v->lock held), when the policy lets the new work go
 * at once: the GPU starts it without a hand-off to the scheduler thread. */
static int sched_release_locked(void *owner, struct sched_item *it)
{
	return release_locked(owner, it);
}

/* Called under the scheduler's lock: reads VRAM and one register, no locks. */
static enum sched_poll sched_poll(void *owner, const struct sched_item *it, uint64_t *begin, uint64_t *end)
{
	struct vgpu *v = owner;
	unsigned slot = it->slot & 0xff;
	uint32_t token = it->slot >> 8;
	uint64_t area = chan_area(v, it->chan);
	uint64_t b = area + rec_off(slot, false), e = area + rec_off(slot, true);

	if ((host_rd32_vram(v->host, e) & 0xffffff) == (token & 0xffffff)) {
		*begin = host_rd32_vram(v->host, b + 8) | (uint64_t)host_rd32_vram(v->host, b + 12) << 32;
		*end = host_rd32_vram(v->host, e + 8) | (uint64_t)host_rd32_vram(v->host, e + 12) << 32;
		return SCHED_DONE;
	}
	if (host_chan_ctrl(v->host, it->pchid) & NV_CHAN_CTRL_FAULTED)
		return SCHED_DEAD;
	return SCHED_PENDING;
}

static void sched_retire(void *owner, const struct sched_item *it, bool completed)
{
	struct vgpu *v = owner;
	struct vgpu_chan *c = &v->chan[it->chan];

	(void)completed;
	pthread_mutex_lock(&v->lock);
	if (c->gen == it->gen) {
		if (c->inflight)
			c->inflight--;
		c->guest_get = it->to & ((1u << c->gring_order) - 1);
	}
	pthread_mutex_unlock(&v->lock);
}

/* A submission ran past the watchdog: the kernel cannot be preempted, so
 * the channel is taken off the GPU (which aborts it) and the guest sees it
 * faulted until it binds the channel again. */
static void sched_kill(void *owner, const struct sched_item *it)
{
	struct vgpu *v = owner;
	struct vgpu_chan *c = &v->chan[it->chan];

	pthread_mutex_lock(&v->lock);
	if (c->gen == it->gen && c->pchid >= 0) {
		gpuvm_log(GPUVM_LOG_WARN, "vgpu %s: channel %u ran past the %llu s watchdog; stopped",
			  v->cfg.name, it->chan, (unsigned long long)(SCHED_WATCHDOG_NS / 1000000000ull));
		sched_cancel_chan(v->host->sched, v->sc, it->chan);
		host_chan_set_runnable(v->host, c->pchid, false);
		/* Re-writing the binding aborts the kernel; then it leaves the GPU. */
		gpu_wr32(v->host->hw, NV_PFIFO_CHAN_INST(c->pchid),
			 gpu_rd32(v->host->hw, NV_PFIFO_CHAN_INST(c->pchid)));
		host_chan_preempt(v->host, c->pchid);
		c->killed = true;
		vgpu_deliver_pbdma(v, it->chan, NV_PBDMA_INTR_METHOD, 0xdead0001u);
	}
	pthread_mutex_unlock(&v->lock);
}

const struct sched_owner_ops vgpu_sched_ops = {
	.release = sched_release,
	.release_locked = sched_release_locked,
	.poll = sched_poll,
	.retire = sched_retire,
	.kill = sched_kill,
};
