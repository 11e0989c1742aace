/*
 * PV page-table writes for the guest's BAR1/BAR3 VMs.  The BAR VMs stay the
 * guest's own (its directory and tables in its partition, shadowed in
 * software as in full mode), but in a pv mode the guest does not write their
 * PTEs through trapped BAR3 accesses and flush: it asks for a range to be
 * mapped or unmapped, and the daemon writes the PTEs into the guest's table,
 * which it found through the guest's directory, then brings the BAR shadow
 * and the remap table up to date.  One request replaces a trapped write per
 * PTE, a BAR flush and a TLB flush.
 */
#include <errno.h>

#include "vgpu_internal.h"

/* The guest's table for va's PDE: guest physical, or 0 if it has none in VRAM. */
static uint64_t guest_table(struct vgpu *v, const struct shadow_vm *s, uint64_t va, bool large)
{
	uint64_t at = s->gpd + (va >> NV_PDE_SHIFT) * 8 + (large ? 0 : 4);
	uint32_t w = vgpu_gmem_rd32(v, at);
	uint64_t t = nv_pde_word_addr(w);

	if ((w & NV_PDE_APER_MASK) != NV_APER_VRAM || !vgpu_gphys_ok(v, t, large ? NV_LPT_SIZE : NV_SPT_SIZE))
		return 0;
	return t;
}

static int check_bar_range(struct vgpu *v, const struct gpuvm_pv_req *r, struct vgpu_bar **barp,
			   uint64_t *page)
{
	struct vgpu_bar *bar = r->handle == 1 ? &v->bar1 : r->handle == 3 ? &v->bar3 : NULL;

	if (!bar)
		return -EINVAL;
	if (!bar->svm || !bar->svm->gpd_ok)
		return -ENODEV;
	if (r->flags & ~GPUVM_PV_MAP_FLAGS)
		return -EINVAL;
	*page = (r->flags & GPUVM_PV_MAP_LARGE) ? NV_LPAGE_SIZE : NV_SPAGE_SIZE;
	if (!r->size || ((r->va | r->size) & (*page - 1)))
		return -EINVAL;
	if (r->va >= (uint64_t)bar->pages << NV_SPAGE_SHIFT ||
	    r->size > ((uint64_t)bar->pages << NV_SPAGE_SHIFT) - r->va)
		return -ERANGE;
	*barp = bar;
	return 0;
}

/* Every PDE the range spans must have the guest's table of this page size. */
static int check_tables(struct vgpu *v, const struct shadow_vm *s, uint64_t va, uint64_t size, bool large)
{
	for (uint64_t a = va; a < va + size; a = ((a >> NV_PDE_SHIFT) + 1) << NV_PDE_SHIFT)
		if (!guest_table(v, s, a, large))
			return -ENXIO;
	return 0;
}

int vgpu_pv_bar_map(struct vgpu *v, const struct gpuvm_pv_req *r, bool map)
{
	struct vgpu_bar *bar;
	uint64_t page;
	bool large = r->flags & GPUVM_PV_MAP_LARGE;
	int err = check_bar_range(v, r, &bar, &page);

	if (err)
		return err;
	if (map && ((r->addr & (page - 1)) || !vgpu_gphys_ok(v, r->addr, r->size)))
		return -EFAULT;
	if (!map && (r->flags & GPUVM_PV_MAP_RO))
		return -EINVAL;
	err = check_tables(v, bar->svm, r->va, r->size, large);
	if (err)
		return err;
	for (uint64_t off = 0; off < r->size; off += page) {
		uint64_t va = r->va + off;
		uint64_t in = (va & ((1ull << NV_PDE_SHIFT) - 1)) / page;
		uint64_t pte = map ? nv_pte_vram(r->addr + off, (r->flags & GPUVM_PV_MAP_RO) != 0) : 0;

		/* Through the tracked-write path: the shadow sees the change. */
		vgpu_gmem_write(v, guest_table(v, bar->svm, va, large) + in * 8, pte, 8);
	}
	/* Re-translates the PTEs just written (and anything else pending); the
	 * remap entries of the BAR pages that changed follow through its hook. */
	shadow_vm_sync(bar->svm);
	return 0;
}
