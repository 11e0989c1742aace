/*
 * PV address spaces: GPU page tables that the daemon owns.  A guest in a pv
 * mode never writes a page table; it asks for a space (a page directory in
 * the daemon's reserved VRAM), then for mappings of guest-physical ranges of
 * its partition, each validated before a single PTE is written.  Nothing is
 * shadowed: these are the tables the GPU walks.  The hole PDE carries the
 * daemon's per-channel area, as in every shadow directory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "vgpu_internal.h"

#define SPACE_FLUSH  (NV_MMU_FLUSH_ALL_PAGES | NV_MMU_FLUSH_ALL_PDES)

static unsigned space_slot(uint32_t handle)
{
	return (handle & 0xff) - 1;
}

struct vgpu_pv_space *vgpu_pv_space_find(struct vgpu *v, uint32_t handle)
{
	unsigned i = space_slot(handle);

	if (!handle || i >= VGPU_PV_SPACES || v->pv.space[i].handle != handle)
		return NULL;
	return &v->pv.space[i];
}

unsigned vgpu_pv_spaces_live(struct vgpu *v)
{
	unsigned n = 0;

	for (unsigned i = 0; i < VGPU_PV_SPACES; i++)
		n += v->pv.space[i].handle != 0;
	return n;
}

static int table_alloc(struct vgpu *v, uint64_t size, uint64_t *addr)
{
	int err;

	if (v->pv.table_bytes + size > VGPU_PV_TABLE_QUOTA)
		return -ENOSPC;
	err = host_page_alloc(v->host, size, NV_SPAGE_SIZE, addr);
	if (!err)
		v->pv.table_bytes += size;
	return err ? -ENOSPC : 0;
}

static void table_free(struct vgpu *v, uint64_t addr, uint64_t size)
{
	host_page_free(v->host, addr, size);
	v->pv.table_bytes -= size;
}

static void space_release(struct vgpu *v, struct vgpu_pv_space *s)
{
	for (unsigned i = 0; s->spt && i < NV_PDE_COUNT; i++) {
		if (s->spt[i])
			table_free(v, s->spt[i], NV_SPT_SIZE);
		if (s->lpt[i])
			table_free(v, s->lpt[i], NV_LPT_SIZE);
	}
	if (s->pd) {
		/* Nothing may keep walking the freed tables through a stale TLB. */
		host_tlb_flush(v->host, s->pd, SPACE_FLUSH);
		table_free(v, s->pd, NV_PD_SIZE);
	}
	free(s->spt);
	free(s->lpt);
	*s = (struct vgpu_pv_space){ 0 };
}

int vgpu_pv_space_create(struct vgpu *v, uint64_t limit, uint32_t *handle)
{
	struct vgpu_pv_space *s = NULL;
	unsigned i;

	if (!limit || limit > GPUVM_PV_VA_MAX || (limit & (NV_SPAGE_SIZE - 1)))
		return -EINVAL;
	for (i = 0; i < VGPU_PV_SPACES && !s; i++)
		if (!v->pv.space[i].handle)
			s = &v->pv.space[i];
	if (!s)
		return -ENOSPC;
	s->spt = calloc(NV_PDE_COUNT, sizeof(*s->spt));
	s->lpt = calloc(NV_PDE_COUNT, sizeof(*s->lpt));
	if (!s->spt || !s->lpt || table_alloc(v, NV_PD_SIZE, &s->pd)) {
		space_release(v, s);
		return -ENOSPC;
	}
	s->limit = limit;
	if (v->env.hole_table)
		host_wr32_vram(v->host, s->pd + (uint64_t)v->env.hole_pde * 8 + 4,
			       nv_pde_word(v->env.hole_table, NV_APER_VRAM));
	v->pv.gen = (v->pv.gen + 1) & 0xffffff;
	s->handle = v->pv.gen << 8 | (uint32_t)(s - v->pv.space + 1);
	host_tlb_flush(v->host, s->pd, SPACE_FLUSH);
	*handle = s->handle;
	return 0;
}

static bool space_in_use(struct vgpu *v, const struct vgpu_pv_space *s)
{
	for (unsigned i = 0; i < VGPU_MAX_CHANNELS; i++)
		if (v->chan[i].pchid >= 0 && v->chan[i].pv_pd == s->pd)
			return true;
	return false;
}

int vgpu_pv_space_destroy(struct vgpu *v, uint32_t handle)
{
	struct vgpu_pv_space *s = vgpu_pv_space_find(v, handle);

	if (!s)
		return -ENOENT;
	if (space_in_use(v, s))
		return -EBUSY;
	space_release(v, s);
	return 0;
}

void vgpu_pv_spaces_free(struct vgpu *v)
{
	for (unsigned i = 0; i < VGPU_PV_SPACES; i++)
		if (v->pv.space[i].handle || v->pv.space[i].pd)
			space_release(v, &v->pv.space[i]);
	v->pv.table_bytes = 0;
}

/* ---- PTEs ---------------------------------------------------------------------- */

static uint64_t rd64(struct vgpu *v, uint64_t a)
{
	return host_rd32_vram(v->host, a) | (uint64_t)host_rd32_vram(v->host, a + 4) << 32;
}

static void wr64(struct vgpu *v, uint64_t a, uint64_t val)
{
	host_wr32_vram(v->host, a, (uint32_t)val);
	host_wr32_vram(v->host, a + 4, (uint32_t)(val >> 32));
}

/* Address of the PTE for va in the table of this page size, 0 if no table. */
static uint64_t pte_addr(const struct vgpu_pv_space *s, uint64_t va, bool large)
{
	unsigned pde = (unsigned)(va >> NV_PDE_SHIFT);
	uint64_t in = va & ((1ull << NV_PDE_SHIFT) - 1);
	uint64_t tab = large ? s->lpt[pde] : s->spt[pde];

	if (!tab)
		return 0;
	return tab + (in >> (large ? NV_LPAGE_SHIFT : NV_SPAGE_SHIFT)) * 8;
}

static bool pte_valid(struct vgpu *v, const struct vgpu_pv_space *s, uint64_t va, bool large)
{
	uint64_t a = pte_addr(s, va, large);

	return a && (rd64(v, a) & NV_PTE_VALID);
}

static void write_pde(struct vgpu *v, const struct vgpu_pv_space *s, unsigned pde)
{
	uint64_t at = s->pd + (uint64_t)pde * 8;

	host_wr32_vram(v->host, at, s->lpt[pde] ? nv_pde_word(s->lpt[pde], NV_APER_VRAM) : 0);
	host_wr32_vram(v->host, at + 4, s->spt[pde] ? nv_pde_word(s->spt[pde], NV_APER_VRAM) : 0);
}

static int ensure_table(struct vgpu *v, struct vgpu_pv_space *s, unsigned pde, bool large)
{
	uint64_t *slot = large ? &s->lpt[pde] : &s->spt[pde];
	int err;

	if (*slot)
		return 0;
	err = table_alloc(v, large ? NV_LPT_SIZE : NV_SPT_SIZE, slot);
	if (!err)
		write_pde(v, s, pde);
	return err;
}

/* Checks shared by MAP and UNMAP; sets the page size. */
static int check_range(struct vgpu *v, const struct gpuvm_pv_req *r, struct vgpu_pv_space **sp,
		       uint64_t *page)
{
	struct vgpu_pv_space *s = vgpu_pv_space_find(v, r->handle);

	if (!s)
		return -ENOENT;
	if (r->flags & ~GPUVM_PV_MAP_FLAGS)
		return -EINVAL;
	*page = (r->flags & GPUVM_PV_MAP_LARGE) ? NV_LPAGE_SIZE : NV_SPAGE_SIZE;
	if (!r->size || ((r->va | r->size) & (*page - 1)))
		return -EINVAL;
	if (r->va >= s->limit || r->size > s->limit - r->va)
		return -ERANGE;
	/* The hole belongs to the daemon. */
	if (v->env.hole_table && r->va + r->size > ((uint64_t)v->env.hole_pde << NV_PDE_SHIFT))
		return -ERANGE;
	*sp = s;
	return 0;
}

/* Any valid PTE of either page size inside [va, va + size)? */
static bool range_mapped(struct vgpu *v, const struct vgpu_pv_space *s, uint64_t va, uint64_t size)
{
	for (uint64_t a = va & ~(uint64_t)(NV_LPAGE_SIZE - 1); a < va + size; a += NV_LPAGE_SIZE)
		if (pte_valid(v, s, a, true))
			return true;
	for (uint64_t a = va; a < va + size; a += NV_SPAGE_SIZE) {
		if (!s->spt[a >> NV_PDE_SHIFT]) {
			/* No small table for this PDE: skip to the next one. */
			a = ((a >> NV_PDE_SHIFT) + 1) << NV_PDE_SHIFT;
			a -= NV_SPAGE_SIZE;
			continue;
		}
		if (pte_valid(v, s, a, false))
			return true;
	}
	return false;
}

int vgpu_pv_space_map(struct vgpu *v, const struct gpuvm_pv_req *r)
{
	struct vgpu_pv_space *s;
	uint64_t page;
	bool large = r->flags & GPUVM_PV_MAP_LARGE;
	int err = check_range(v, r, &s, &page);

	if (err)
		return err;
	if ((r->addr & (page - 1)) || !vgpu_gphys_ok(v, r->addr, r->size))
		return -EFAULT;
	if (range_mapped(v, s, r->va, r->size))
		return -EEXIST;
	for (uint64_t a = r->va; a < r->va + r->size; a = ((a >> NV_PDE_SHIFT) + 1) << NV_PDE_SHIFT) {
		err = ensure_table(v, s, (unsigned)(a >> NV_PDE_SHIFT), large);
		if (err)
			return err;
	}
	for (uint64_t off = 0; off < r->size; off += page)
		wr64(v, pte_addr(s, r->va + off, large),
		     nv_pte_vram(v->base + r->addr + off, (r->flags & GPUVM_PV_MAP_RO) != 0));
	return 0;
}

int vgpu_pv_space_unmap(struct vgpu *v, const struct gpuvm_pv_req *r)
{
	struct vgpu_pv_space *s;
	uint64_t page;
	bool large = r->flags & GPUVM_PV_MAP_LARGE;
	int err = check_range(v, r, &s, &page);

	if (err)
		return err;
	if (r->flags & GPUVM_PV_MAP_RO)
		return -EINVAL;
	for (uint64_t off = 0; off < r->size; off += page) {
		uint64_t a = pte_addr(s, r->va + off, large);

		if (a)
			wr64(v, a, 0);
	}
	return 0;
}

int vgpu_pv_space_flush(struct vgpu *v, uint32_t handle)
{
	struct vgpu_pv_space *s = vgpu_pv_space_find(v, handle);

	if (!s)
		return -ENOENT;
	host_tlb_flush(v->host, s->pd, SPACE_FLUSH);
	return 0;
}

/* ---- lookups for the submission path and the checker ------------------------------ */

static struct vgpu_pv_space *space_of_pd(struct vgpu *v, uint64_t pd)
{
	for (unsigned i = 0; i < VGPU_PV_SPACES; i++)
		if (v->pv.space[i].handle && v->pv.space[i].pd == pd)
			return &v->pv.space[i];
	return NULL;
}

bool vgpu_pv_owns_pd(struct vgpu *v, uint64_t pd)
{
	return pd && space_of_pd(v, pd) != NULL;
}

bool vgpu_pv_translate(struct vgpu *v, uint64_t pd, uint64_t va, uint64_t *gphys)
{
	struct vgpu_pv_space *s = space_of_pd(v, pd);

	if (!s || va >= s->limit)
		return false;
	for (int large = 1; large >= 0; large--) {
		uint64_t a = pte_addr(s, va, large), pte, page = large ? NV_LPAGE_SIZE : NV_SPAGE_SIZE;

		if (!a || !((pte = rd64(v, a)) & NV_PTE_VALID))
			continue;
		*gphys = (nv_pte_addr(pte) & ~(page - 1)) - v->base + (va & (page - 1));
		return true;
	}
	return false;
}

static int check_table(struct vgpu *v, const struct vgpu_pv_space *s, uint64_t tab, bool large,
		       char *why, size_t len)
{
	unsigned n = large ? NV_LPT_ENTRIES : NV_SPT_ENTRIES;
	uint64_t page = large ? NV_LPAGE_SIZE : NV_SPAGE_SIZE;

	if (!host_addr_reserved(v->host, tab, large ? NV_LPT_SIZE : NV_SPT_SIZE)) {
		snprintf(why, len, "vgpu %s: PV space %#x has a table outside the reserved area",
			 v->cfg.name, s->handle);
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		uint64_t pte = rd64(v, tab + (uint64_t)i * 8), a = nv_pte_addr(pte);

		if (!(pte & NV_PTE_VALID))
			continue;
		if (nv_pte_aper(pte) || a < v->base || a + page > v->base + v->cfg.vram_size) {
			snprintf(why, len, "vgpu %s: PV space %#x maps 0x%llx, outside the partition",
				 v->cfg.name, s->handle, (unsigned long long)a);
			return -1;
		}
	}
	return 0;
}

static int check_space(struct vgpu *v, const struct vgpu_pv_space *s, char *why, size_t len)
{
	int ret = 0;

	for (unsigned i = 0; i < NV_PDE_COUNT && !ret; i++) {
		uint64_t at = s->pd + (uint64_t)i * 8;
		uint32_t lw = host_rd32_vram(v->host, at), sw = host_rd32_vram(v->host, at + 4);
		uint64_t want_s = s->spt[i];

		if (v->env.hole_table && i == v->env.hole_pde)
			want_s = v->env.hole_table;
		if ((lw ? nv_pde_word_addr(lw) : 0) != s->lpt[i] || (sw ? nv_pde_word_addr(sw) : 0) != want_s) {
			snprintf(why, len, "vgpu %s: PV space %#x PDE %u is not the daemon's", v->cfg.name,
				 s->handle, i);
			return -1;
		}
		if (s->lpt[i])
			ret = check_table(v, s, s->lpt[i], true, why, len);
		if (!ret && s->spt[i])
			ret = check_table(v, s, s->spt[i], false, why, len);
	}
	return ret;
}

int vgpu_pv_check(struct vgpu *v, char *why, size_t len)
{
	int ret = 0;

	for (unsigned i = 0; i < VGPU_PV_SPACES && !ret; i++)
		if (v->pv.space[i].handle)
			ret = check_space(v, &v->pv.space[i], why, len);
	return ret;
}
