/* The remap table recomputed from the guest's own tables (see remap_ref.h). */
#include <stdio.h>
#include <string.h>

#include "nvc0/mem.h"
#include "nvc0/regs.h"
#include "remap_ref.h"
#include "vgpu_internal.h"

static bool ref_inside(const struct vgpu *v, uint64_t g, uint64_t len)
{
	return g < v->cfg.vram_size && len <= v->cfg.vram_size - g;
}

static uint64_t ref_rd64(const struct vgpu *v, uint64_t g)
{
	uint64_t x;

	memcpy(&x, v->mem + g, sizeof(x));
	return x;
}

static uint32_t ref_rd32(const struct vgpu *v, uint64_t g)
{
	uint32_t x;

	memcpy(&x, v->mem + g, sizeof(x));
	return x;
}

/* The table a PDE word points at, if it is a VRAM table inside the partition. */
static bool ref_table(const struct vgpu *v, uint32_t word, uint64_t size, uint64_t *table)
{
	*table = nv_pde_word_addr(word);
	return (word & NV_PDE_APER_MASK) == NV_APER_VRAM && ref_inside(v, *table, size);
}

/* A valid VRAM PTE whose page of psize bytes lies in the partition: its guest address. */
static bool ref_pte(const struct vgpu *v, uint64_t pte, uint64_t psize, uint64_t *g)
{
	*g = nv_pte_addr(pte) & ~(psize - 1);
	return (pte & NV_PTE_VALID) && nv_pte_aper(pte) == 0 && ref_inside(v, *g, psize);
}

/* Guest page + 1 behind BAR page p of the VM with directory pd, or 0. */
static uint32_t ref_translate(const struct vgpu *v, uint64_t pd, uint32_t p)
{
	uint64_t pde = ref_rd64(v, pd + (uint64_t)(p / NV_SPT_ENTRIES) * 8), table, g;
	uint32_t in = p % NV_SPT_ENTRIES, per_large = NV_LPAGE_SIZE / NV_SPAGE_SIZE;

	if (ref_table(v, (uint32_t)(pde >> 32), NV_SPT_SIZE, &table) &&
	    ref_pte(v, ref_rd64(v, table + (uint64_t)in * 8), NV_SPAGE_SIZE, &g))
		return (uint32_t)(g >> NV_SPAGE_SHIFT) + 1;
	if (ref_table(v, (uint32_t)pde, NV_LPT_SIZE, &table) &&
	    ref_pte(v, ref_rd64(v, table + (uint64_t)(in / per_large) * 8), NV_LPAGE_SIZE, &g))
		return (uint32_t)(g >> NV_SPAGE_SHIFT) + in % per_large + 1;
	return 0;
}

/* The directory a BAR binding value selects, if the BAR is bound to a VM in the partition. */
static bool ref_bar_pd(const struct vgpu *v, const struct vgpu_bar *bar, uint64_t *pd)
{
	uint64_t inst = (uint64_t)(bar->bind & NV_PBUS_BAR_INST_MASK) << 12;
	uint64_t pdes = (bar->pages + NV_SPT_ENTRIES - 1) / NV_SPT_ENTRIES;

	if (!(bar->bind & NV_PBUS_BAR_VM) || NV_PBUS_BAR_TARGET(bar->bind) != 0 ||
	    !ref_inside(v, inst, NV_INST_SIZE))
		return false;
	*pd = ((uint64_t)ref_rd32(v, inst + NV_INST_PD_HI) << 32 | ref_rd32(v, inst + NV_INST_PD_LO)) &
	      ~(uint64_t)(NV_SPAGE_SIZE - 1);
	return ref_inside(v, *pd, pdes * 8);
}

static int ref_check_bar(struct vgpu *v, const struct vgpu_bar *bar, const char *name, char *why, size_t len)
{
	uint64_t pd;
	bool bound = ref_bar_pd(v, bar, &pd);

	for (uint32_t p = 0; p < bar->pages; p++) {
		uint32_t want = bound ? ref_translate(v, pd, p) : 0;
		uint32_t have = __atomic_load_n(&bar->remap[p], __ATOMIC_ACQUIRE);

		/* Only untracked pages, and only with remapping on. */
		if (want && (!v->opt_remap || page_track_kinds(&v->track, want - 1)))
			want = 0;
		if (have != want) {
			snprintf(why, len, "%s page 0x%x: remap entry %u, the guest's tables give %u", name, p,
				 have, want);
			return -1;
		}
	}
	return 0;
}

int remap_ref_check(struct vgpu *v, char *why, size_t len)
{
	int ret;

	/* The scheduler thread may be changing tracking under the lock. */
	pthread_mutex_lock(&v->lock);
	ret = ref_check_bar(v, &v->bar1, "BAR1", why, len);
	if (!ret)
		ret = ref_check_bar(v, &v->bar3, "BAR3", why, len);
	pthread_mutex_unlock(&v->lock);
	return ret;
}
