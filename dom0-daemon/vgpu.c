/*
 * vGPU lifecycle: creation with a VRAM partition from the host's free list,
 * attach/detach of the guest, reset to power-on state, destruction (every
 * physical channel stopped and freed, the partition scrubbed and returned),
 * and what the control socket and the backends read: info and export.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "vgpu_internal.h"

static const char *const mode_names[] = {
	[VGPU_MODE_FULL] = "full",
	[VGPU_MODE_PV_NAIVE] = "pv-naive",
	[VGPU_MODE_PV] = "pv",
};

const char *vgpu_mode_name(enum vgpu_mode m)
{
	return (unsigned)m < sizeof(mode_names) / sizeof(mode_names[0]) ? mode_names[m] : "?";
}

int vgpu_mode_parse(const char *s)
{
	for (unsigned i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (!strcmp(s, mode_names[i]))
			return (int)i;
	return -1;
}

int vgpu_core_init(void)
{
	return vgpu_regs_init();
}

static bool name_ok(const char *name)
{
	size_t n = strnlen(name, VGPU_NAME_MAX);

	if (n == 0 || n >= VGPU_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

static int check_config(const struct vgpu_config *cfg, char *err, size_t errlen)
{
	if (!name_ok(cfg->name)) {
		snprintf(err, errlen, "bad vGPU name (1-31 of A-Z a-z 0-9 _ . -)");
		return -EINVAL;
	}
	if (!cfg->vram_size || cfg->vram_size % VGPU_VRAM_ALIGN) {
		snprintf(err, errlen, "bad VRAM size: a non-zero multiple of 16 MiB");
		return -EINVAL;
	}
	if (cfg->channels < 1 || cfg->channels > VGPU_MAX_CHANNELS) {
		snprintf(err, errlen, "bad channel count %u (1-%u)", cfg->channels, VGPU_MAX_CHANNELS);
		return -EINVAL;
	}
	if ((unsigned)cfg->mode > VGPU_MODE_PV) {
		snprintf(err, errlen, "unknown mode %d", (int)cfg->mode);
		return -EINVAL;
	}
	return 0;
}

/* Take a partition and a slot in the host's table. */
static int claim_host_resources(struct vgpu *v, char *err, size_t errlen)
{
	struct gpuvm_host *h = v->host;
	int slot = -1, ret;

	pthread_mutex_lock(&h->lock);
	for (int i = 0; i < HOST_MAX_VGPUS && slot < 0; i++)
		if (!h->vgpus[i])
			slot = i;
	ret = slot < 0 ? -ENOSPC : host_ranges_alloc(&h->parts, v->cfg.vram_size, VGPU_VRAM_ALIGN, &v->base);
	if (!ret) {
		h->vgpus[slot] = v;
		v->id = ++h->next_vgpu_id;
	}
	pthread_mutex_unlock(&h->lock);
	if (ret == -ENOSPC)
		snprintf(err, errlen, "too many vGPUs (at most %d)", HOST_MAX_VGPUS);
	else if (ret)
		snprintf(err, errlen, "not enough free VRAM for %llu MiB",
			 (unsigned long long)(v->cfg.vram_size >> 20));
	return ret;
}

static void release_host_resources(struct vgpu *v)
{
	struct gpuvm_host *h = v->host;

	pthread_mutex_lock(&h->lock);
	for (int i = 0; i < HOST_MAX_VGPUS; i++)
		if (h->vgpus[i] == v)
			h->vgpus[i] = NULL;
	host_ranges_free(&h->parts, v->base, v->cfg.vram_size);
	pthread_mutex_unlock(&h->lock);
}

static void reset_registers(struct vgpu *v)
{
	v->pmc_enable = NV_PMC_UNIT_PCOPY0 | NV_PMC_UNIT_PCOPY1 | NV_PMC_UNIT_PFIFO |
			NV_PMC_UNIT_PGRAPH | NV_PMC_UNIT_PTIMER;
	v->fifo_enable = 1;
	v->pramin_base = v->peephole = v->userd_base = 0;
	v->runlist_base = v->runlist_submit = v->preempt = 0;
	v->mmu_ctrl = v->mmu_flush_pd = 0;
	v->bar1.bind = v->bar3.bind = 0;
	vgpu_irq_reset(v);
}

/* Everything back to power-on; the partition is zeroed.  Lock held. */
static void reset_state(struct vgpu *v)
{
	vgpu_channels_reset(v);
	vgpu_pv_reset(v);
	vgpu_mode_maybe_switch(v);
	vgpu_bar_unbind(v, &v->bar1);
	vgpu_bar_unbind(v, &v->bar3);
	for (int i = 0; i < VGPU_MAX_SVMS; i++) {
		shadow_vm_destroy(v->svm[i]);
		v->svm[i] = NULL;
	}
	page_track_reset(&v->track);
	reset_registers(v);
	host_vram_scrub(v->host, v->base, v->cfg.vram_size);
	v->fresh = true;
	vgpu_remap_rebuild(v);
}

struct vgpu *vgpu_create(struct gpuvm_host *host, const struct vgpu_config *cfg,
			 char *err, size_t errlen)
{
	struct vgpu *v;

	if (check_config(cfg, err, errlen))
		return NULL;
	if (!host->vram) {
		snprintf(err, errlen, "this GPU's VRAM cannot be mapped by the daemon");
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	v->host = host;
	v->cfg = *cfg;
	v->pending_mode = cfg->mode;
	v->opt_lazy = v->opt_remap = true;
	v->remap_fd = -1;
	pthread_mutex_init(&v->lock, NULL);
	pthread_mutex_init(&v->irq_lock, NULL);
	if (claim_host_resources(v, err, errlen))
		goto err_free;
	v->mem = host->vram + v->base;
	v->bar1.pages = (uint32_t)(VGPU_BAR1_SIZE >> NV_SPAGE_SHIFT);
	v->bar3.pages = (uint32_t)(VGPU_BAR3_SIZE >> NV_SPAGE_SHIFT);
	if (page_track_init(&v->track) || vgpu_remap_init(v)) {
		snprintf(err, errlen, "out of memory");
		goto err_release;
	}
	vgpu_env_init(v);
	if (vgpu_submit_init(v) ||
	    !(v->sc = sched_client_add(host->sched, cfg->name, cfg->channels, &vgpu_sched_ops, v))) {
		snprintf(err, errlen, "out of reserved VRAM or scheduler slots");
		goto err_submit;
	}
	for (unsigned i = 0; i < VGPU_MAX_CHANNELS; i++)
		v->chan[i].pchid = -1;
	reset_registers(v);
	host_vram_scrub(host, v->base, cfg->vram_size);
	v->fresh = true;
	gpuvm_log(GPUVM_LOG_INFO, "vgpu %s: created, %llu MiB at 0x%llx, %u channels", cfg->name,
		  (unsigned long long)(cfg->vram_size >> 20), (unsigned long long)v->base, cfg->channels);
	return v;

err_submit:
	vgpu_submit_fini(v);
err_release:
	vgpu_remap_fini(v);
	page_track_fini(&v->track);
	release_host_resources(v);
err_free:
	pthread_mutex_destroy(&v->irq_lock);
	pthread_mutex_destroy(&v->lock);
	free(v);
	return NULL;
}

/* Make the backend let go of its guest, outside our lock (it may be inside
 * vgpu_mmio waiting for it). */
static void drop_guest(struct vgpu *v)
{
	void (*hook)(void *) = NULL;
	void *arg = NULL;

	pthread_mutex_lock(&v->lock);
	if (v->attached) {
		hook = v->detach_hook;
		arg = v->detach_arg;
	}
	pthread_mutex_unlock(&v->lock);
	if (hook)
		hook(arg);
	pthread_mutex_lock(&v->lock);
	v->attached = false;
	v->detach_hook = NULL;
	v->detach_arg = NULL;
	pthread_mutex_unlock(&v->lock);
}

void vgpu_destroy(struct vgpu *v)
{
	if (!v)
		return;
	drop_guest(v);
	pthread_mutex_lock(&v->lock);
	reset_state(v);
	pthread_mutex_unlock(&v->lock);
	/* Outside our lock: the scheduler may be inside one of our callbacks. */
	sched_client_remove(v->host->sched, v->sc);
	vgpu_submit_fini(v);
	release_host_resources(v);
	vgpu_remap_fini(v);
	page_track_fini(&v->track);
	gpuvm_log(GPUVM_LOG_INFO, "vgpu %s: destroyed", v->cfg.name);
	pthread_mutex_destroy(&v->irq_lock);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

void vgpu_reset(struct vgpu *v)
{
	drop_guest(v);
	pthread_mutex_lock(&v->lock);
	reset_state(v);
	pthread_mutex_unlock(&v->lock);
	gpuvm_log(GPUVM_LOG_INFO, "vgpu %s: reset", v->cfg.name);
}

/*
 * The guest asks for a reset (PV RESET register; called with v->lock held
 * from its trapped write).  Only an idle vGPU is reset, so a guest cannot
 * pull the ground from under GPU work in flight; the partition is scrubbed
 * by punching holes, so asking again and again costs the daemon little.
 */
int vgpu_guest_reset(struct vgpu *v)
{
	if (vgpu_channels_bound(v) || vgpu_pv_spaces_live(v))
		return -EBUSY;
	reset_state(v);
	atomic_fetch_add_explicit(&v->st_guest_resets, 1, memory_order_relaxed);
	return 0;
}

int vgpu_attach(struct vgpu *v, void (*detach_hook)(void *arg), void *arg)
{
	int ret = 0;

	pthread_mutex_lock(&v->lock);
	if (v->attached) {
		ret = -EBUSY;
	} else {
		v->attached = true;
		v->detach_hook = detach_hook;
		v->detach_arg = arg;
	}
	pthread_mutex_unlock(&v->lock);
	return ret;
}

void vgpu_detach(struct vgpu *v)
{
	pthread_mutex_lock(&v->lock);
	v->attached = false;
	v->detach_hook = NULL;
	v->detach_arg = NULL;
	reset_state(v);
	pthread_mutex_unlock(&v->lock);
	gpuvm_log(GPUVM_LOG_INFO, "vgpu %s: guest detached, state reset", v->cfg.name);
}

const char *vgpu_name(const struct vgpu *v)
{
	return v->cfg.name;
}

void vgpu_get_info(struct vgpu *v, struct vgpu_info *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&v->lock);
	memcpy(out->name, v->cfg.name, VGPU_NAME_MAX);
	out->id = v->id;
	out->mode = v->cfg.mode;
	out->pending_mode = v->pending_mode;
	out->vram_size = v->cfg.vram_size;
	out->vram_base = v->base;
	out->channels = v->cfg.channels;
	out->channels_bound = vgpu_channels_bound(v);
	out->attached = v->attached;
	for (int i = 0; i < VGPU_MAX_SVMS; i++) {
		if (v->svm[i]) {
			out->pte_rejected += v->svm[i]->rejected;
			out->reshadows += v->svm[i]->units;
		}
	}
	pthread_mutex_unlock(&v->lock);
	out->mmio_reads = v->st_reads;
	out->mmio_writes = v->st_writes;
	out->denied = v->st_denied;
	out->tlb_flushes = v->st_tlb_flushes;
	out->submissions = v->st_submissions;
	out->faults = v->st_faults;
	out->pv_doorbells = v->st_pv_doorbells;
	out->pv_requests = v->st_pv_requests;
	out->pv_errors = v->st_pv_errors;
	out->mode_switches = v->st_mode_switches;
	out->guest_resets = v->st_guest_resets;
	out->opt_lazy = v->opt_lazy;
	out->opt_remap = v->opt_remap;
}

int vgpu_export(struct vgpu *v, struct vgpu_export *out)
{
	struct gpu_hw *hw = v->host->hw;
	uint64_t at = v->base, end = v->base + v->cfg.vram_size;

	memset(out, 0, sizeof(*out));
	out->vram_size = v->cfg.vram_size;
	while (at < end) {
		uint64_t off, len;
		int fd = hw->ops->vram_fd(hw, at, &off, &len);

		if (fd < 0)
			return fd;
		if (out->nparts == VGPU_MAX_PARTS)
			return -E2BIG;
		if (len > end - at)
			len = end - at;
		out->part[out->nparts].fd = fd;
		out->part[out->nparts].fd_off = off;
		out->part[out->nparts].len = len;
		out->nparts++;
		at += len;
	}
	out->remap_fd = v->remap_fd;
	out->bar1_size = VGPU_BAR1_SIZE;
	out->bar3_size = VGPU_BAR3_SIZE;
	out->bar1_pages = v->bar1.pages;
	out->bar3_pages = v->bar3.pages;
	return 0;
}

unsigned vgpu_dma_ranges(struct vgpu *v, uint64_t base[2], uint64_t size[2])
{
	base[0] = v->base;
	size[0] = v->cfg.vram_size;
	base[1] = v->hole;
	size[1] = v->hole_size;
	return 2;
}

int vgpu_sched_set(struct vgpu *v, int weight, int cap)
{
	return sched_client_set(v->host->sched, v->sc, weight, cap);
}

void vgpu_sched_stats(struct vgpu *v, struct sched_vm_stats *out)
{
	sched_client_stats(v->host->sched, v->sc, out);
}
