/*
 * Guest-physical VRAM of a vGPU and the paths that reach it: the PRAMIN
 * window, and BAR1/BAR3 through the guest's own BAR VMs (emulated with
 * software shadows).  Every guest write lands here first, so this is where
 * writes to tracked pages (page tables, instance blocks, USERD) are noticed.
 * The exported remap table tells the guest which BAR pages it may touch
 * directly: mapped plain data, never a tracked page.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <fcntl.h>

#include "log.h"
#include "vgpu_internal.h"

uint32_t vgpu_gmem_rd32(struct vgpu *v, uint64_t g)
{
	if ((g & 3) || !vgpu_gphys_ok(v, g, 4))
		return 0;
	return __atomic_load_n((uint32_t *)(void *)(v->mem + g), __ATOMIC_ACQUIRE);
}

uint64_t vgpu_gmem_read(struct vgpu *v, uint64_t g, unsigned size)
{
	uint64_t val = 0;
	uint32_t over;

	if (!vgpu_gphys_ok(v, g, size))
		return 0;
	if (size == 4 && !(g & 3) && (page_track_kinds(&v->track, g >> NV_SPAGE_SHIFT) & (1u << PAGE_USERD)) &&
	    vgpu_userd_read(v, g, &over))
		return over;
	memcpy(&val, v->mem + g, size);
	return val;
}

static void vgpu_tracked_write(struct vgpu *v, uint64_t g, uint64_t val, unsigned size, unsigned kinds)
{
	uint64_t gpfn = g >> NV_SPAGE_SHIFT;

	if (kinds & (1u << PAGE_PT))
		vgpu_svm_page_written(v, gpfn);
	if (kinds & (1u << PAGE_INST))
		vgpu_inst_written(v, gpfn);
	if (kinds & (1u << PAGE_USERD)) {
		if (size >= 4 && !(g & 3))
			vgpu_userd_written(v, g, (uint32_t)val);
		if (size == 8 && !(g & 3))
			vgpu_userd_written(v, g + 4, (uint32_t)(val >> 32));
	}
}

void vgpu_gmem_write(struct vgpu *v, uint64_t g, uint64_t val, unsigned size)
{
	unsigned kinds;

	if (!vgpu_gphys_ok(v, g, size))
		return;
	v->fresh = false;
	if (size == 4 && !(g & 3))
		__atomic_store_n((uint32_t *)(void *)(v->mem + g), (uint32_t)val, __ATOMIC_RELEASE);
	else
		memcpy(v->mem + g, &val, size);
	kinds = page_track_kinds(&v->track, g >> NV_SPAGE_SHIFT);
	if (kinds)
		vgpu_tracked_write(v, g, val, size, kinds);
}

/* ---- PRAMIN ------------------------------------------------------------------- */

static bool vgpu_pramin_gphys(struct vgpu *v, uint32_t reg, uint64_t *g)
{
	*g = ((uint64_t)(v->pramin_base & NV_PBUS_PRAMIN_ADDR_MASK) << NV_PBUS_PRAMIN_SHIFT) +
	     (reg - NV_PRAMIN_WINDOW);
	/* Only VRAM, and only this VM's part of it. */
	return ((v->pramin_base >> 24) & 3) == 0 && vgpu_gphys_ok(v, *g, 4);
}

uint32_t vgpu_pramin_read(struct vgpu *v, uint32_t reg)
{
	uint64_t g;

	if (!vgpu_pramin_gphys(v, reg, &g)) {
		vgpu_deny(v, NV_PBUS_PRAMIN_BASE, false);
		return 0;
	}
	return (uint32_t)vgpu_gmem_read(v, g, 4);
}

void vgpu_pramin_write(struct vgpu *v, uint32_t reg, uint32_t val)
{
	uint64_t g;

	if (!vgpu_pramin_gphys(v, reg, &g)) {
		vgpu_deny(v, NV_PBUS_PRAMIN_BASE, true);
		return;
	}
	vgpu_gmem_write(v, g, val, 4);
}

/* ---- BAR1 / BAR3 ------------------------------------------------------------------ */

void vgpu_bar_access(struct vgpu *v, struct vgpu_io *io)
{
	struct vgpu_bar *bar = io->bar == 1 ? &v->bar1 : &v->bar3;
	uint64_t g;
	bool ok = io->size && io->size <= 8 && (io->offset & (io->size - 1)) == 0 && bar->svm &&
		  shadow_vm_bar_lookup(bar->svm, io->offset, &g);

	if (!ok) {
		/* Unmapped BAR pages read as all ones, like a bus error. */
		vgpu_deny(v, (uint32_t)(io->bar << 28 | (io->offset & 0x0fffffff)), io->dir == VGPU_IO_WRITE);
		io->data = io->dir == VGPU_IO_READ ? ~0ull : io->data;
		return;
	}
	if (io->dir == VGPU_IO_READ)
		io->data = vgpu_gmem_read(v, g, io->size);
	else
		vgpu_gmem_write(v, g, io->data, io->size);
}

void vgpu_bar_unbind(struct vgpu *v, struct vgpu_bar *bar)
{
	if (bar->svm)
		vgpu_svm_put(v, bar->svm);
	bar->svm = NULL;
	if (bar->ginst)
		page_track_put(&v->track, (bar->ginst - 1) >> NV_SPAGE_SHIFT, PAGE_INST);
	bar->ginst = 0;
}

void vgpu_bar_bind(struct vgpu *v, struct vgpu_bar *bar, uint32_t val)
{
	uint64_t ginst = (uint64_t)(val & NV_PBUS_BAR_INST_MASK) << 12;
	uint32_t pd_lo;

	vgpu_bar_unbind(v, bar);
	bar->bind = val;
	v->fresh = false;       /* remapped pages may be written directly from now */
	if ((val & NV_PBUS_BAR_VM) && NV_PBUS_BAR_TARGET(val) == 0 && vgpu_gphys_ok(v, ginst, NV_INST_SIZE)) {
		pd_lo = vgpu_gmem_rd32(v, ginst + NV_INST_PD_LO);
		bar->svm = vgpu_svm_get(v, ((uint64_t)vgpu_gmem_rd32(v, ginst + NV_INST_PD_HI) << 32 | pd_lo) &
					~(uint64_t)(NV_SPAGE_SIZE - 1), SHADOW_BAR, bar->pages);
		/* Rebinding on instance-block writes keeps the PD pointer current. */
		if (bar->svm && !page_track_get(&v->track, ginst >> NV_SPAGE_SHIFT, PAGE_INST))
			bar->ginst = ginst + 1;
	}
	vgpu_remap_refresh(v, true);
}

/* ---- the exported remap table ------------------------------------------------------- */

int vgpu_remap_init(struct vgpu *v)
{
	size_t entries = (size_t)v->bar1.pages + v->bar3.pages;
	void *p;

	v->remap_bytes = entries * sizeof(uint32_t);
	v->remap_fd = memfd_create("gpuvm-remap", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (v->remap_fd < 0)
		return -errno;
	if (ftruncate(v->remap_fd, (off_t)v->remap_bytes) < 0)
		goto err;
	p = mmap(NULL, v->remap_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, v->remap_fd, 0);
	if (p == MAP_FAILED)
		goto err;
	/* From now on nobody else can map it writable: guests get a read-only view. */
	if (fcntl(v->remap_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE) < 0)
		gpuvm_log(GPUVM_LOG_WARN, "vgpu %s: cannot seal the remap table", v->cfg.name);
	v->remap = p;
	v->bar1.remap = v->remap;
	v->bar3.remap = v->remap + v->bar1.pages;
	return 0;
err:
	close(v->remap_fd);
	v->remap_fd = -1;
	return -errno;
}

void vgpu_remap_fini(struct vgpu *v)
{
	if (v->remap)
		munmap(v->remap, v->remap_bytes);
	if (v->remap_fd >= 0)
		close(v->remap_fd);
	v->remap = NULL;
	v->remap_fd = -1;
}

/* What the guest may reach directly for one BAR page: mapped, never a tracked page. */
static uint32_t remap_entry(struct vgpu *v, const struct vgpu_bar *bar, uint32_t page)
{
	uint32_t e = bar->svm ? bar->svm->bar_xlate[page] : 0;

	if (e && (!v->opt_remap || page_track_kinds(&v->track, e - 1)))
		return 0;
	return e;
}

static void remap_pages(struct vgpu *v, struct vgpu_bar *bar, uint32_t first, uint32_t end)
{
	for (uint32_t p = first; p < end; p++) {
		uint32_t e = remap_entry(v, bar, p);

		if (__atomic_load_n(&bar->remap[p], __ATOMIC_RELAXED) != e)
			__atomic_store_n(&bar->remap[p], e, __ATOMIC_RELEASE);
	}
}

#define REMAP_CHUNK 16u     /* pages compared at once when looking for mapped ones */

/* Whether a chunk is unmapped in the shadow and in the table: nothing to do there. */
static bool chunk_empty(const uint32_t *xlate, const uint32_t *remap)
{
	uint32_t any = 0;

	for (unsigned i = 0; i < REMAP_CHUNK; i++)
		any |= (xlate ? xlate[i] : 0) | __atomic_load_n(&remap[i], __ATOMIC_RELAXED);
	return !any;
}

/* The whole BAR; most of it is unmapped, so empty chunks are skipped cheaply. */
static void vgpu_remap_bar(struct vgpu *v, struct vgpu_bar *bar)
{
	const uint32_t *xlate = bar->svm ? bar->svm->bar_xlate : NULL;
	uint32_t p = 0;

	for (; p + REMAP_CHUNK <= bar->pages; p += REMAP_CHUNK)
		if (!chunk_empty(xlate ? xlate + p : NULL, bar->remap + p))
			remap_pages(v, bar, p, p + REMAP_CHUNK);
	remap_pages(v, bar, p, bar->pages);
}

void vgpu_remap_refresh(struct vgpu *v, bool force)
{
	if (!v->remap || (!force && v->track.changes == v->remap_changes))
		return;
	vgpu_remap_bar(v, &v->bar1);
	vgpu_remap_bar(v, &v->bar3);
	v->remap_changes = v->track.changes;
}

void vgpu_remap_refresh_range(struct vgpu *v, struct vgpu_bar *bar, uint64_t first, uint64_t n)
{
	if (!v->remap)
		return;
	if (v->track.changes != v->remap_changes || first >= bar->pages) {
		vgpu_remap_refresh(v, true);
		return;
	}
	remap_pages(v, bar, (uint32_t)first, (uint32_t)(n < bar->pages - first ? first + n : bar->pages));
}
