/*
 * The PV register page and request service (include/gpuvm_pv.h,
 * docs/pv-protocol.md), and per-vGPU mode switching.
 *
 * A doorbell runs a batch of requests from the guest's request area.  The
 * batch as a whole is checked first (area armed, mode allows it, size within
 * the mode's limit, entries inside the area); a refused batch changes
 * nothing.  Each entry is then copied out of guest memory once, validated
 * and executed on its own: a bad entry gets an error status and changes
 * nothing, the others still run.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "log.h"
#include "vgpu_internal.h"

static bool mode_is_pv(const struct vgpu *v)
{
	return v->cfg.mode != VGPU_MODE_FULL;
}

static uint32_t max_batch(const struct vgpu *v)
{
	switch (v->cfg.mode) {
	case VGPU_MODE_PV: return GPUVM_PV_BATCH_MAX;
	case VGPU_MODE_PV_NAIVE: return 1;
	default: return 0;
	}
}

/* pv-naive stays the plain one-request-per-doorbell interface it is measured as. */
#define PV_FAST_PATHS (GPUVM_PV_F_RUN | GPUVM_PV_F_CHAN_RUN | GPUVM_PV_F_SUBMIT | GPUVM_PV_F_BAR_COHERENT)

/* FRESH is about the partition, not the interface: every mode has it. */
static uint32_t features(const struct vgpu *v)
{
	/* FRESH and RESET concern the partition, not the requests: every mode. */
	const uint32_t partition = GPUVM_PV_F_FRESH | GPUVM_PV_F_RESET;

	if (v->cfg.mode == VGPU_MODE_PV)
		return GPUVM_PV_F_OPS | GPUVM_PV_F_BATCH | GPUVM_PV_F_DAEMON_PT | PV_FAST_PATHS |
		       partition;
	if (v->cfg.mode == VGPU_MODE_PV_NAIVE)
		return GPUVM_PV_F_OPS | GPUVM_PV_F_DAEMON_PT | partition;
	return partition;
}

/* ---- one request --------------------------------------------------------------- */

static int req_reserved_zero(const struct gpuvm_pv_req *r)
{
	return (r->reserved[0] | r->reserved[1] | r->reserved[2]) ? -EINVAL : 0;
}

static int do_chan_bind(struct vgpu *v, const struct gpuvm_pv_req *r)
{
	struct vgpu_pv_space *s = vgpu_pv_space_find(v, r->handle);
	bool run = r->flags & GPUVM_PV_CHAN_RUN;
	uint32_t vchid = r->flags & ~GPUVM_PV_CHAN_RUN;

	if (!s)
		return -ENOENT;
	if (vchid >= v->cfg.channels || (run && !(features(v) & GPUVM_PV_F_CHAN_RUN)))
		return -EINVAL;
	if (v->chan[vchid].pchid >= 0)
		return -EBUSY;
	if ((r->addr & (NV_INST_SIZE - 1)) || !vgpu_gphys_ok(v, r->addr, NV_INST_SIZE))
		return -EFAULT;
	return vgpu_chan_bind_pv(v, vchid, r->addr, s->pd, run);
}

/* The PV channel vchid names, or NULL. */
static struct vgpu_chan *pv_chan(struct vgpu *v, uint32_t vchid)
{
	if (vchid >= v->cfg.channels || v->chan[vchid].pchid < 0 || !v->chan[vchid].pv_pd)
		return NULL;
	return &v->chan[vchid];
}

static int do_chan_unbind(struct vgpu *v, const struct gpuvm_pv_req *r)
{
	if (r->flags >= v->cfg.channels)
		return -EINVAL;
	if (!pv_chan(v, r->flags))
		return -ENOENT;
	vgpu_chan_unbind_pv(v, r->flags);
	return 0;
}

/* GP_PUT through a request: the same path as the guest's USERD write, the scheduler's. */
static int do_submit(struct vgpu *v, const struct gpuvm_pv_req *r)
{
	struct vgpu_chan *c;

	if (!(features(v) & GPUVM_PV_F_SUBMIT) || r->handle || r->addr || r->size ||
	    r->flags >= v->cfg.channels)
		return -EINVAL;
	c = pv_chan(v, r->flags);
	if (!c)
		return -ENOENT;
	if (r->va >= (1ull << c->gring_order))
		return -EINVAL;
	return vgpu_submit_put(v, r->flags, (uint32_t)r->va);
}

static int run_request(struct vgpu *v, struct gpuvm_pv_req *r)
{
	if (req_reserved_zero(r))
		return -EINVAL;
	switch (r->op) {
	case GPUVM_PV_OP_NOP:
		return 0;
	case GPUVM_PV_OP_AS_CREATE: {
		int err = vgpu_pv_space_create(v, r->size, &r->handle);

		if (!err)
			v->pv.result = r->handle;
		return err;
	}
	case GPUVM_PV_OP_AS_DESTROY:
		return vgpu_pv_space_destroy(v, r->handle);
	case GPUVM_PV_OP_MAP:
		return vgpu_pv_space_map(v, r);
	case GPUVM_PV_OP_UNMAP:
		return vgpu_pv_space_unmap(v, r);
	case GPUVM_PV_OP_FLUSH:
		return vgpu_pv_space_flush(v, r->handle);
	case GPUVM_PV_OP_CHAN_BIND:
		return do_chan_bind(v, r);
	case GPUVM_PV_OP_CHAN_UNBIND:
		return do_chan_unbind(v, r);
	case GPUVM_PV_OP_BAR_MAP:
		return vgpu_pv_bar_map(v, r, true);
	case GPUVM_PV_OP_BAR_UNMAP:
		return vgpu_pv_bar_map(v, r, false);
	case GPUVM_PV_OP_SUBMIT:
		return do_submit(v, r);
	default:
		return -EOPNOTSUPP;
	}
}

/* ---- a batch ------------------------------------------------------------------- */

/* A batch may not lie on a page the daemon tracks (page table, instance, USERD). */
static bool batch_overlaps_tracked(struct vgpu *v, uint32_t count)
{
	uint64_t start = v->pv.area + (uint64_t)v->pv.first * GPUVM_PV_REQ_SIZE;
	uint64_t end = start + (uint64_t)count * GPUVM_PV_REQ_SIZE;

	for (uint64_t g = start & ~(uint64_t)(NV_SPAGE_SIZE - 1); g < end; g += NV_SPAGE_SIZE)
		if (page_track_kinds(&v->track, g >> NV_SPAGE_SHIFT))
			return true;
	return false;
}

static int32_t batch_check(struct vgpu *v, uint32_t count)
{
	uint64_t entries = v->pv.area_size / GPUVM_PV_REQ_SIZE;

	if (!mode_is_pv(v))
		return -EPERM;
	if (!v->pv.area_size)
		return -ENXIO;
	if (!count || count > max_batch(v))
		return -E2BIG;
	if (v->pv.first >= entries || count > entries - v->pv.first)
		return -EOVERFLOW;
	return batch_overlaps_tracked(v, count) ? -EBUSY : 0;
}

/*
 * The RUN register: the batch is the entries from FIRST still marked
 * GPUVM_PV_ST_NEW, so that one trapped read both rings and answers.  Only
 * the status words are looked at here; the batch is then checked and run
 * exactly as a doorbell of that count (each entry copied once).
 */
static uint32_t new_entries(struct vgpu *v)
{
	uint64_t entries = v->pv.area_size / GPUVM_PV_REQ_SIZE;
	uint32_t n = 0;

	if (!mode_is_pv(v) || v->pv.first >= entries)
		return 0;
	for (uint64_t i = v->pv.first; i < entries && n < max_batch(v); i++, n++) {
		uint64_t at = v->pv.area + i * GPUVM_PV_REQ_SIZE + offsetof(struct gpuvm_pv_req, status);

		if ((int32_t)vgpu_gmem_rd32(v, at) != GPUVM_PV_ST_NEW)
			break;
	}
	return n;
}

static void doorbell(struct vgpu *v, uint32_t count);

static uint32_t run_read(struct vgpu *v)
{
	if (!(features(v) & GPUVM_PV_F_RUN)) {
		v->pv.status = mode_is_pv(v) ? -EOPNOTSUPP : -EPERM;
		atomic_fetch_add_explicit(&v->st_pv_errors, 1, memory_order_relaxed);
		return (uint32_t)v->pv.status;
	}
	doorbell(v, new_entries(v));
	return (uint32_t)v->pv.status;
}

static void doorbell(struct vgpu *v, uint32_t count)
{
	int32_t failed = 0;
	uint64_t at = v->pv.area + (uint64_t)v->pv.first * GPUVM_PV_REQ_SIZE;

	atomic_fetch_add_explicit(&v->st_pv_doorbells, 1, memory_order_relaxed);
	v->fresh = false;       /* requests may write tables or start channels */
	v->pv.status = batch_check(v, count);
	if (v->pv.status) {
		atomic_fetch_add_explicit(&v->st_pv_errors, 1, memory_order_relaxed);
		return;
	}
	for (uint32_t i = 0; i < count; i++, at += GPUVM_PV_REQ_SIZE) {
		struct gpuvm_pv_req r;

		/* The guest may rewrite the entry meanwhile: look only at this copy. */
		memcpy(&r, v->mem + at, sizeof(r));
		r.status = run_request(v, &r);
		failed += r.status != 0;
		memcpy(v->mem + at + offsetof(struct gpuvm_pv_req, status), &r.status, sizeof(r.status));
		memcpy(v->mem + at + offsetof(struct gpuvm_pv_req, handle), &r.handle, sizeof(r.handle));
	}
	atomic_fetch_add_explicit(&v->st_pv_requests, count, memory_order_relaxed);
	if (failed)
		atomic_fetch_add_explicit(&v->st_pv_errors, (uint64_t)failed, memory_order_relaxed);
	v->pv.status = failed;
}

/* ---- the register page ----------------------------------------------------------- */

static void area_arm(struct vgpu *v, uint32_t size)
{
	uint64_t a = v->pv.area;

	if (!size || (size & (NV_SPAGE_SIZE - 1)) || size > GPUVM_PV_AREA_MAX ||
	    (a & (NV_SPAGE_SIZE - 1)) || !vgpu_gphys_ok(v, a, size)) {
		v->pv.area_size = 0;
		v->pv.status = size ? -EFAULT : 0;
		return;
	}
	v->pv.area_size = size;
	v->pv.status = 0;
}

uint32_t vgpu_pv_read(struct vgpu *v, uint32_t off)
{
	switch (off) {
	case GPUVM_PV_ID: return GPUVM_PV_MAGIC;
	case GPUVM_PV_VER: return GPUVM_PV_VERSION;
	case GPUVM_PV_MODE: return (uint32_t)v->cfg.mode;
	case GPUVM_PV_PENDING: return (uint32_t)v->pending_mode;
	case GPUVM_PV_FEATURES: return features(v);
	case GPUVM_PV_MAX_BATCH: return max_batch(v);
	case GPUVM_PV_AREA_LO: return (uint32_t)v->pv.area;
	case GPUVM_PV_AREA_HI: return (uint32_t)(v->pv.area >> 32);
	case GPUVM_PV_AREA_SIZE: return (uint32_t)v->pv.area_size;
	case GPUVM_PV_FIRST: return v->pv.first;
	case GPUVM_PV_STATUS: return (uint32_t)v->pv.status;
	case GPUVM_PV_RESULT: return v->pv.result;
	case GPUVM_PV_RUN: return run_read(v);
	case GPUVM_PV_FRESH: return v->fresh;
	default: return 0;
	}
}

void vgpu_pv_write(struct vgpu *v, uint32_t off, uint32_t val)
{
	switch (off) {
	case GPUVM_PV_AREA_LO:
		v->pv.area = (v->pv.area & ~0xffffffffull) | val;
		v->pv.area_size = 0;
		break;
	case GPUVM_PV_AREA_HI:
		v->pv.area = (v->pv.area & 0xffffffffull) | (uint64_t)val << 32;
		v->pv.area_size = 0;
		break;
	case GPUVM_PV_AREA_SIZE: area_arm(v, val); break;
	case GPUVM_PV_FIRST: v->pv.first = val; break;
	case GPUVM_PV_DOORBELL: doorbell(v, val); break;
	case GPUVM_PV_SWITCH:
		if (val == GPUVM_PV_SWITCH_NOW && v->pending_mode != v->cfg.mode) {
			vgpu_channels_reset(v);
			vgpu_pv_spaces_free(v);
			vgpu_mode_maybe_switch(v);
		}
		break;
	case GPUVM_PV_RESET:
		/* Another magic value is a stray write: it must not cost the guest its state. */
		if (val == GPUVM_PV_RESET_NOW)
			v->pv.status = vgpu_guest_reset(v);
		break;
	default:
		break;
	}
}

/* The page as its own BAR (vgpu_io bar 4): 32-bit aligned accesses only. */
void vgpu_pv_access(struct vgpu *v, struct vgpu_io *io)
{
	uint32_t off = (uint32_t)io->offset;

	if (io->size != 4 || (off & 3) || io->offset >= GPUVM_PV_REGS_SIZE) {
		vgpu_deny(v, off, io->dir == VGPU_IO_WRITE);
		io->data = 0;
		return;
	}
	if (io->dir == VGPU_IO_READ)
		io->data = vgpu_pv_read(v, off);
	else
		vgpu_pv_write(v, off, (uint32_t)io->data);
}

void vgpu_pv_reset(struct vgpu *v)
{
	vgpu_pv_spaces_free(v);
	v->pv.area = v->pv.area_size = 0;
	v->pv.first = v->pv.result = 0;
	v->pv.status = 0;
}

/* ---- modes --------------------------------------------------------------------- */

void vgpu_mode_maybe_switch(struct vgpu *v)
{
	if (v->pending_mode == v->cfg.mode || vgpu_channels_bound(v) || vgpu_pv_spaces_live(v))
		return;
	gpuvm_log(GPUVM_LOG_INFO, "vgpu %s: mode %s -> %s", v->cfg.name, vgpu_mode_name(v->cfg.mode),
		  vgpu_mode_name(v->pending_mode));
	v->cfg.mode = v->pending_mode;
	atomic_fetch_add_explicit(&v->st_mode_switches, 1, memory_order_relaxed);
}

int vgpu_set_mode(struct vgpu *v, enum vgpu_mode mode)
{
	if ((unsigned)mode > VGPU_MODE_PV)
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	v->pending_mode = mode;
	vgpu_mode_maybe_switch(v);
	pthread_mutex_unlock(&v->lock);
	return 0;
}

void vgpu_set_opts(struct vgpu *v, int lazy, int remap)
{
	pthread_mutex_lock(&v->lock);
	if (lazy >= 0)
		v->opt_lazy = lazy;
	if (remap >= 0)
		v->opt_remap = remap;
	vgpu_remap_rebuild(v);
	pthread_mutex_unlock(&v->lock);
}
