/*
 * Guest-physical VRAM of a vGPU and the paths that reach it: the PRAMIN
 * window, and BAR1/BAR3 through the guest's own BAR VMs (emulated with
 * software shadows).  Every guest write lands here first, so this is where
 * writes to tracked pages (page tables, instance blocks, USERD) are noticed.
 * The exported remap table tells the guest which BAR pages it may touch
 * directly: mapped plain data, never a tracked page.
 */
#include <errno.h>
#include <stdio.h>
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
		vgpu_svm_written(v, g, size);
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

static void remap_bar_clear(struct vgpu *v, struct vgpu_bar *bar, const struct shadow_vm *s);
static void remap_bar_fill(struct vgpu *v, struct vgpu_bar *bar);

void vgpu_bar_unbind(struct vgpu *v, struct vgpu_bar *bar)
{
	struct shadow_vm *s = bar->svm;

	/* Detached first: the shadow's teardown untracks pages, and the remap
	 * hooks must not look at a BAR shadow going away. */
	bar->svm = NULL;
	if (s) {
		remap_bar_clear(v, bar, s);
		vgpu_svm_put(v, s);
	}
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
	remap_bar_fill(v, bar);
}

/* ---- the exported remap table ------------------------------------------------------- */

static void remap_tracking_changed(void *ctx, uint64_t gpfn);

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
	page_track_set_hook(&v->track, remap_tracking_changed, v);
	return 0;
err:
	close(v->remap_fd);
	v->remap_fd = -1;
	return -errno;
}

void vgpu_remap_fini(struct vgpu *v)
{
	page_track_set_hook(&v->track, NULL, NULL);
	if (v->remap)
		munmap(v->remap, v->remap_bytes);
	if (v->remap_fd >= 0)
		close(v->remap_fd);
	v->remap = NULL;
	v->remap_fd = -1;
}

/* What the guest may reach directly for one BAR page: mapped inside the
 * partition, never a tracked page. */
static uint32_t remap_entry(struct vgpu *v, const struct vgpu_bar *bar, uint32_t page)
{
	uint32_t e = bar->svm ? bar->svm->bar_xlate[page] : 0;

	if (!e || !v->opt_remap || !vgpu_gphys_ok(v, (uint64_t)(e - 1) << NV_SPAGE_SHIFT, NV_SPAGE_SIZE) ||
	    page_track_kinds(&v->track, e - 1))
		return 0;
	return e;
}

static void remap_store(struct vgpu_bar *bar, uint32_t page, uint32_t e)
{
	if (__atomic_load_n(&bar->remap[page], __ATOMIC_RELAXED) != e)
		__atomic_store_n(&bar->remap[page], e, __ATOMIC_RELEASE);
}

static void remap_page(struct vgpu *v, struct vgpu_bar *bar, uint32_t page)
{
	remap_store(bar, page, remap_entry(v, bar, page));
}

/* Every BAR page of bar that maps guest page gpfn. */
static void remap_gpfn(struct vgpu *v, struct vgpu_bar *bar, uint64_t gpfn)
{
	uint32_t p;

	if (!bar->svm || !v->remap)
		return;
	for (bool more = shadow_vm_bar_first(bar->svm, gpfn, &p); more; more = shadow_vm_bar_next(bar->svm, &p))
		remap_page(v, bar, p);
}

/* Page tracking hook: only BAR pages mapping gpfn can change. */
static void remap_tracking_changed(void *ctx, uint64_t gpfn)
{
	struct vgpu *v = ctx;

	remap_gpfn(v, &v->bar1, gpfn);
	remap_gpfn(v, &v->bar3, gpfn);
}

void vgpu_remap_bar_changed(void *ctx, const struct shadow_vm *s, uint32_t page)
{
	struct vgpu *v = ctx;

	if (!v->remap)
		return;
	if (v->bar1.svm == s && page < v->bar1.pages)
		remap_page(v, &v->bar1, page);
	if (v->bar3.svm == s && page < v->bar3.pages)
		remap_page(v, &v->bar3, page);
}

/* A newly bound shadow: only the pages it maps can be non-zero. */
static void remap_bar_fill(struct vgpu *v, struct vgpu_bar *bar)
{
	size_t it = 0;
	uint64_t gpfn;

	while (bar->svm && shadow_vm_bar_next_gpfn(bar->svm, &it, &gpfn))
		remap_gpfn(v, bar, gpfn);
}

/* An unbound shadow s: the pages it mapped are the only non-zero ones. */
static void remap_bar_clear(struct vgpu *v, struct vgpu_bar *bar, const struct shadow_vm *s)
{
	size_t it = 0;
	uint64_t gpfn;
	uint32_t p;

	while (v->remap && shadow_vm_bar_next_gpfn(s, &it, &gpfn))
		for (bool more = shadow_vm_bar_first(s, gpfn, &p); more; more = shadow_vm_bar_next(s, &p))
			if (p < bar->pages)
				remap_store(bar, p, 0);
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

static void remap_pages(struct vgpu *v, struct vgpu_bar *bar, uint32_t first, uint32_t end)
{
	for (uint32_t p = first; p < end; p++)
		remap_page(v, bar, p);
}

/* The whole BAR; most of it is unmapped, so empty chunks are skipped cheaply. */
static void remap_bar_all(struct vgpu *v, struct vgpu_bar *bar)
{
	const uint32_t *xlate = bar->svm ? bar->svm->bar_xlate : NULL;
	uint32_t p = 0;

	for (; p + REMAP_CHUNK <= bar->pages; p += REMAP_CHUNK)
		if (!chunk_empty(xlate ? xlate + p : NULL, bar->remap + p))
			remap_pages(v, bar, p, p + REMAP_CHUNK);
	remap_pages(v, bar, p, bar->pages);
}

void vgpu_remap_rebuild(struct vgpu *v)
{
	if (!v->remap)
		return;
	remap_bar_all(v, &v->bar1);
	remap_bar_all(v, &v->bar3);
}

static int verify_bar(struct vgpu *v, struct vgpu_bar *bar, const char *name, char *why, size_t len)
{
	for (uint32_t p = 0; p < bar->pages; p++) {
		uint32_t want = remap_entry(v, bar, p), have = __atomic_load_n(&bar->remap[p], __ATOMIC_RELAXED);

		if (have != want) {
			snprintf(why, len, "vgpu %s: %s page %u has remap entry %u, expected %u",
				 v->cfg.name, name, p, have, want);
			return -1;
		}
	}
	return 0;
}

int vgpu_remap_verify(struct vgpu *v, char *why, size_t len)
{
	int ret;

	pthread_mutex_lock(&v->lock);
	ret = !v->remap ? 0 : verify_bar(v, &v->bar1, "BAR1", why, len) ? -1 :
	      verify_bar(v, &v->bar3, "BAR3", why, len);
	pthread_mutex_unlock(&v->lock);
	return ret;
}
