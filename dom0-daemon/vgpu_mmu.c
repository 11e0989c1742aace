/*
 * Shadow address spaces of a vGPU and the guest's TLB flushes.  One shadow
 * per guest page directory and kind (GPU tables for channels, software
 * tables for BAR1/BAR3), shared by every user of that directory.  A guest
 * flush brings the shadows of the flushed directory up to date and then
 * flushes the real TLB for the shadow directory.
 */
#include "log.h"
#include "vgpu_internal.h"

static int env_alloc(void *ctx, uint64_t size, uint64_t *addr)
{
	struct vgpu *v = ctx;

	return host_page_alloc(v->host, size, NV_SPAGE_SIZE, addr);
}

static void env_free(void *ctx, uint64_t addr, uint64_t size)
{
	struct vgpu *v = ctx;

	host_page_free(v->host, addr, size);
}

static void env_wr32(void *ctx, uint64_t addr, uint32_t val)
{
	struct vgpu *v = ctx;

	host_wr32_vram(v->host, addr, val);
}

static uint32_t env_rd32(void *ctx, uint64_t addr)
{
	struct vgpu *v = ctx;

	return host_rd32_vram(v->host, addr);
}

static bool env_is_daemon(void *ctx, uint64_t addr, uint64_t len)
{
	struct vgpu *v = ctx;

	return host_addr_reserved(v->host, addr, len);
}

static const struct shadow_host_ops vgpu_shadow_ops = {
	.alloc = env_alloc,
	.free = env_free,
	.wr32 = env_wr32,
	.rd32 = env_rd32,
	.is_daemon = env_is_daemon,
	.bar_changed = vgpu_remap_bar_changed,
};

void vgpu_env_init(struct vgpu *v)
{
	v->env = (struct shadow_env){
		.gmem = v->mem,
		.gsize = v->cfg.vram_size,
		.hbase = v->base,
		.track = &v->track,
		.ops = &vgpu_shadow_ops,
		.ctx = v,
	};
}

struct shadow_vm *vgpu_svm_get(struct vgpu *v, uint64_t gpd, enum shadow_kind kind, uint32_t bar_pages)
{
	int free_slot = -1;
	struct shadow_vm *s;

	for (int i = 0; i < VGPU_MAX_SVMS; i++) {
		s = v->svm[i];
		if (s && s->gpd == gpd && s->kind == kind && s->bar_pages == bar_pages) {
			s->refs++;
			return s;
		}
		if (!s && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0 || shadow_vm_create(&v->env, kind, gpd, bar_pages, &s)) {
		gpuvm_log(GPUVM_LOG_WARN, "vgpu %s: no room for another address space", v->cfg.name);
		return NULL;
	}
	shadow_vm_sync(s);
	/* The real TLB is tagged by page directory address: a new shadow PD at
	 * an address a freed one used would inherit its translations. */
	if (kind == SHADOW_GPU)
		host_tlb_flush(v->host, s->spd, NV_MMU_FLUSH_ALL_PAGES | NV_MMU_FLUSH_ALL_PDES);
	s->refs = 1;
	v->svm[free_slot] = s;
	return s;
}

void vgpu_svm_put(struct vgpu *v, struct shadow_vm *s)
{
	if (!s || --s->refs)
		return;
	for (int i = 0; i < VGPU_MAX_SVMS; i++)
		if (v->svm[i] == s)
			v->svm[i] = NULL;
	shadow_vm_destroy(s);
}

void vgpu_svm_written(struct vgpu *v, uint64_t g, unsigned size)
{
	for (int i = 0; i < VGPU_MAX_SVMS; i++)
		if (v->svm[i])
			shadow_vm_written(v->svm[i], g, size);
}

void vgpu_tlb_flush(struct vgpu *v, uint32_t trigger)
{
	uint64_t gpd = (uint64_t)(v->mmu_flush_pd & NV_PDE_ADDR_MASK) << 8;

	if (!(trigger & NV_MMU_FLUSH_GO))
		return;
	atomic_fetch_add_explicit(&v->st_tlb_flushes, 1, memory_order_relaxed);
	for (int i = 0; i < VGPU_MAX_SVMS; i++) {
		struct shadow_vm *s = v->svm[i];

		if (!s || s->gpd != gpd)
			continue;
		if (!v->opt_lazy)
			shadow_vm_mark_all_dirty(s);    /* no lazy shadowing: rebuild it all */
		/* A BAR shadow's sync updates the remap table as it goes. */
		shadow_vm_sync(s);
		if (s->kind == SHADOW_GPU)
			host_tlb_flush(v->host, s->spd, trigger & (NV_MMU_FLUSH_ALL_PAGES | NV_MMU_FLUSH_ALL_PDES));
	}
}
