/*
 * vGPU internals shared by the files of the vGPU core:
 *   vgpu.c          lifecycle, attach/detach, info, export
 *   vgpu_regs.c     the BAR0 register table and the MMIO entry point
 *   vgpu_mem.c      guest-physical memory: PRAMIN, BAR1/BAR3, tracked pages
 *   vgpu_mmu.c      shadow address spaces and guest TLB flushes
 *   vgpu_channel.c  channel table, shadow instance blocks, USERD, runlist
 *   vgpu_irq.c      virtual interrupt state and fault delivery
 *   vgpu_check.c    the isolation checker
 *
 * Locking: v->lock serialises the trap path and lifecycle calls of one vGPU;
 * v->irq_lock (a leaf) guards the virtual interrupt state, which the host's
 * interrupt thread updates while holding the host lock.
 */
#ifndef GPUVM_VGPU_INTERNAL_H
#define GPUVM_VGPU_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "host.h"
#include "nvc0/classes.h"
#include "nvc0/mem.h"
#include "nvc0/regs.h"
#include "page_track.h"
#include "shadow_vm.h"
#include "gpu_sched.h"
#include "vgpu.h"
#include "gpuvm_pv.h"

#define VGPU_MAX_SVMS       32      /* shadow address spaces per vGPU */
#define VGPU_DENY_LOG_MAX   64      /* distinct denied registers logged */
#define VGPU_BAR1_SIZE      (256ull << 20)
#define VGPU_BAR3_SIZE      (16ull << 20)

struct vgpu_chan {
	uint32_t inst_reg;          /* guest's channel table words */
	uint32_t ctrl_reg;
	bool listed;                /* on the guest's runlist */
	int pchid;                  /* physical channel, -1 if none */
	uint64_t ginst;             /* guest instance block (guest physical) */
	uint64_t guserd;            /* guest USERD (guest physical), from RAMFC */
	bool userd_tracked;
	uint64_t shadow_inst;       /* host physical, reserved area */
	uint64_t shadow_userd;
	struct shadow_vm *svm;
	uint64_t pv_pd;             /* PV channel: the daemon's page directory, else 0 */
	bool pv_run;                /* bound with GPUVM_PV_CHAN_RUN: listed and runnable by the bind */
	/* submission (vgpu_submit.c) */
	uint32_t gen;               /* bumped at every bind: stale work is dropped */
	uint64_t gring_va;          /* the guest's GPFIFO ring (GPU virtual) */
	unsigned gring_order;
	uint32_t guest_put;         /* last GP_PUT the guest wrote */
	uint32_t guest_get;         /* GP_GET the guest sees: end of retired work */
	uint32_t sput;              /* shadow ring put index */
	uint32_t token;             /* fence value of the last release */
	unsigned inflight;          /* releases not yet retired */
	bool killed;                /* stopped by the watchdog: reads FAULTED */
};

/* The daemon's per-channel area in the hole (host VRAM, GPU VA HOLE_VA + vchid * size). */
#define VGPU_HOLE_PDE           (NV_PDE_COUNT - 1)
#define VGPU_HOLE_VA            ((uint64_t)VGPU_HOLE_PDE << NV_PDE_SHIFT)
#define VGPU_CHAN_AREA          0x10000u        /* 64 KiB per channel */
#define VGPU_SRING_ORDER        12              /* 4096 entries, 32 KiB */
#define VGPU_SRING_ENTRIES      (1u << VGPU_SRING_ORDER)
#define VGPU_STUBS_OFF          0x8000u
#define VGPU_STUB_SIZE          0x40u           /* 16 words per stub */
#define VGPU_RECS_OFF           0x9000u
#define VGPU_SLOTS              8               /* releases in flight per channel */

struct vgpu_fault_rec {
	uint32_t w[4];
};

/* Virtual interrupt state: written by the interrupt thread, read by traps. */
struct vgpu_irq_state {
	uint32_t fifo_intr, fifo_intr_en;
	uint32_t fault_units;
	struct vgpu_fault_rec fault[NV_FAULT_UNITS];
	uint32_t pbdma_intr, pbdma_intr_en, pbdma_chid, pbdma_info;
	uint32_t pgraph_intr, pgraph_intr_en;
	uint32_t notify[4];
	uint32_t pmc_intr_en;
};

/* A guest BAR VM (BAR1 or BAR3), emulated with a software shadow. */
struct vgpu_bar {
	uint32_t bind;              /* guest's 0x1704 / 0x1714 value */
	uint64_t ginst;
	struct shadow_vm *svm;
	uint32_t pages;
	uint32_t *remap;            /* this BAR's part of the exported table */
};

/* A PV address space (vgpu_pv_space.c): tables owned by the daemon. */
#define VGPU_PV_SPACES          32
#define VGPU_PV_TABLE_QUOTA     (32ull << 20)   /* daemon VRAM for one vGPU's PV tables */

struct vgpu_pv_space {
	uint32_t handle;            /* 0 = free slot */
	uint64_t pd;                /* host physical, reserved area */
	uint64_t limit;
	uint64_t *spt, *lpt;        /* per PDE: host physical table, 0 = none */
};

struct vgpu_pv {
	uint64_t area, area_size;   /* request area (guest physical), 0 = none */
	uint32_t first;
	int32_t status;
	uint32_t result;
	uint32_t gen;               /* handle generations: stale handles never match */
	uint64_t table_bytes;
	struct vgpu_pv_space space[VGPU_PV_SPACES];
};

struct vgpu {
	struct gpuvm_host *host;
	struct vgpu_config cfg;
	unsigned id;
	pthread_mutex_t lock;
	uint64_t base;              /* partition, host physical */
	uint8_t *mem;               /* CPU view of the partition */

	/* virtual registers (under lock) */
	uint32_t pmc_enable;
	uint32_t pramin_base;
	uint32_t peephole;
	uint32_t fifo_enable;
	uint32_t userd_base;
	uint32_t runlist_base, runlist_submit;
	uint32_t preempt;
	uint32_t mmu_ctrl, mmu_flush_pd;

	pthread_mutex_t irq_lock;
	struct vgpu_irq_state irq;

	struct vgpu_chan chan[VGPU_MAX_CHANNELS];
	/* the hole: this vGPU's daemon pages reachable by its channels */
	uint64_t hole;              /* host physical base of the channel areas */
	uint64_t hole_size;
	uint64_t hole_spt;          /* small-page table installed at VGPU_HOLE_PDE */
	struct sched_client *sc;
	struct vgpu_bar bar1, bar3;
	struct shadow_vm *svm[VGPU_MAX_SVMS];
	struct shadow_env env;
	struct page_track track;

	int remap_fd;
	uint32_t *remap;            /* BAR1 pages then BAR3 pages */
	size_t remap_bytes;

	uint32_t denied_logged[VGPU_DENY_LOG_MAX];
	unsigned denied_logged_n;

	struct vgpu_pv pv;
	/* The partition is still all zero from its last scrub: no guest write,
	 * no BAR binding (direct access) and no channel (GPU access) since. */
	bool fresh;
	enum vgpu_mode pending_mode;    /* applied at the next quiescent point */
	bool opt_lazy, opt_remap;       /* full-virtualisation optimisations (vgpu_set_opts) */

	bool attached;
	void (*detach_hook)(void *arg);
	void *detach_arg;

	/* statistics */
	atomic_uint_fast64_t st_reads, st_writes, st_denied, st_tlb_flushes;
	atomic_uint_fast64_t st_submissions, st_faults;
	atomic_uint_fast64_t st_pv_doorbells, st_pv_requests, st_pv_errors, st_mode_switches;
	atomic_uint_fast64_t st_guest_resets;
};

/* ---- register table (vgpu_regs.c) --------------------------------------------- */
int vgpu_regs_init(void);
void vgpu_deny(struct vgpu *v, uint32_t reg, bool write);

/* ---- guest memory (vgpu_mem.c) -------------------------------------------------- */
static inline bool vgpu_gphys_ok(const struct vgpu *v, uint64_t g, uint64_t len)
{
	return g < v->cfg.vram_size && len <= v->cfg.vram_size - g;
}
uint32_t vgpu_gmem_rd32(struct vgpu *v, uint64_t g);
/* A guest write of size bytes (1..8): stored, then tracked-page handlers run. */
void vgpu_gmem_write(struct vgpu *v, uint64_t g, uint64_t val, unsigned size);
uint64_t vgpu_gmem_read(struct vgpu *v, uint64_t g, unsigned size);
uint32_t vgpu_pramin_read(struct vgpu *v, uint32_t reg);
void vgpu_pramin_write(struct vgpu *v, uint32_t reg, uint32_t val);
void vgpu_bar_access(struct vgpu *v, struct vgpu_io *io);
void vgpu_bar_bind(struct vgpu *v, struct vgpu_bar *bar, uint32_t val);
void vgpu_bar_unbind(struct vgpu *v, struct vgpu_bar *bar);
/*
 * The exported remap table is kept current entry by entry, as things
 * change: a bound BAR shadow reports each BAR page whose translation changed
 * (vgpu_remap_bar_changed, its shadow_host_ops hook), and page tracking
 * reports each guest page that starts or stops being tracked, whose BAR
 * pages the shadows' reverse maps give.  Binding a BAR fills in the pages
 * its shadow maps and unbinding clears them.  So no entry ever exposes a
 * tracked page, even before v->lock is released.
 */
int vgpu_remap_init(struct vgpu *v);
void vgpu_remap_fini(struct vgpu *v);
void vgpu_remap_bar_changed(void *ctx, const struct shadow_vm *s, uint32_t page);
/* Recompute every entry (rare: optimisation switch, reset). */
void vgpu_remap_rebuild(struct vgpu *v);
/* Tests: every entry as a recomputation from scratch gives it; 0, or -1 with why. */
int vgpu_remap_verify(struct vgpu *v, char *why, size_t len);

/* ---- shadow address spaces (vgpu_mmu.c) ------------------------------------------- */
void vgpu_env_init(struct vgpu *v);
struct shadow_vm *vgpu_svm_get(struct vgpu *v, uint64_t gpd, enum shadow_kind kind, uint32_t bar_pages);
void vgpu_svm_put(struct vgpu *v, struct shadow_vm *s);
/* A guest write of size bytes at g, a page some shadow may depend on. */
void vgpu_svm_written(struct vgpu *v, uint64_t g, unsigned size);
void vgpu_tlb_flush(struct vgpu *v, uint32_t trigger);

/* ---- channels (vgpu_channel.c) ----------------------------------------------------- */
uint32_t vgpu_chan_read(struct vgpu *v, uint32_t reg);
void vgpu_chan_write(struct vgpu *v, uint32_t reg, uint32_t val);
void vgpu_runlist_submit(struct vgpu *v, uint32_t val);
uint32_t vgpu_preempt_read(struct vgpu *v);
void vgpu_preempt_write(struct vgpu *v, uint32_t val);
void vgpu_inst_written(struct vgpu *v, uint64_t gpfn);
/* A write to a USERD page; returns true if it was a submission. */
void vgpu_userd_written(struct vgpu *v, uint64_t g, uint32_t val);
bool vgpu_userd_read(struct vgpu *v, uint64_t g, uint32_t *val);
void vgpu_channels_reset(struct vgpu *v);
unsigned vgpu_channels_bound(struct vgpu *v);
/* Reset an idle vGPU at its guest's request (v->lock held): 0 or -EBUSY. */
int vgpu_guest_reset(struct vgpu *v);
uint32_t vgpu_engine_status(struct vgpu *v);

/* ---- submission (vgpu_submit.c) ------------------------------------------------------------ */
int vgpu_submit_init(struct vgpu *v);
void vgpu_submit_fini(struct vgpu *v);
/* Channel (re)bound: shadow ring empty, guest ring taken from its RAMFC. */
void vgpu_submit_bind(struct vgpu *v, unsigned vchid);
void vgpu_submit_unbind(struct vgpu *v, unsigned vchid);
/* RAMFC words the shadow instance block gets instead of the guest's GP_BASE. */
void vgpu_submit_ramfc(struct vgpu *v, unsigned vchid, uint32_t *gp_lo, uint32_t *gp_hi);
/* 0, -EIO if the channel was killed, -EAGAIN if the scheduler's queue is full. */
int vgpu_submit_put(struct vgpu *v, unsigned vchid, uint32_t put);
extern const struct sched_owner_ops vgpu_sched_ops;

/* ---- para-virtual interface (vgpu_pv.c, vgpu_pv_space.c) ---------------------------- */
uint32_t vgpu_pv_read(struct vgpu *v, uint32_t off);
void vgpu_pv_write(struct vgpu *v, uint32_t off, uint32_t val);
void vgpu_pv_access(struct vgpu *v, struct vgpu_io *io);
/* Drop every PV space and the request area (reset, destroy, mode switch). */
void vgpu_pv_reset(struct vgpu *v);
/* Apply a pending mode if the vGPU is quiescent (no bound channel, no PV space). */
void vgpu_mode_maybe_switch(struct vgpu *v);
int vgpu_pv_space_create(struct vgpu *v, uint64_t limit, uint32_t *handle);
int vgpu_pv_space_destroy(struct vgpu *v, uint32_t handle);
int vgpu_pv_space_map(struct vgpu *v, const struct gpuvm_pv_req *r);
int vgpu_pv_space_unmap(struct vgpu *v, const struct gpuvm_pv_req *r);
int vgpu_pv_space_flush(struct vgpu *v, uint32_t handle);
struct vgpu_pv_space *vgpu_pv_space_find(struct vgpu *v, uint32_t handle);
unsigned vgpu_pv_spaces_live(struct vgpu *v);
void vgpu_pv_spaces_free(struct vgpu *v);
/* Guest physical address behind va in the PV space whose directory is pd. */
bool vgpu_pv_translate(struct vgpu *v, uint64_t pd, uint64_t va, uint64_t *gphys);
bool vgpu_pv_owns_pd(struct vgpu *v, uint64_t pd);
int vgpu_pv_check(struct vgpu *v, char *why, size_t len);
/* PTE writes on the guest's own BAR1/BAR3 tables, validated (vgpu_pv_bar.c). */
int vgpu_pv_bar_map(struct vgpu *v, const struct gpuvm_pv_req *r, bool map);
/* Bind a virtual channel on a PV space (vgpu_channel.c). */
/* run: also make it runnable and put it on the vGPU's runlist (GPUVM_PV_CHAN_RUN). */
int vgpu_chan_bind_pv(struct vgpu *v, unsigned vchid, uint64_t ginst, uint64_t pd, bool run);
/* Off the GPU and unbound; a GPUVM_PV_CHAN_RUN channel also leaves the vGPU's runlist. */
void vgpu_chan_unbind_pv(struct vgpu *v, unsigned vchid);

/* ---- interrupts (vgpu_irq.c) ---------------------------------------------------------- */
bool vgpu_irq_read(struct vgpu *v, uint32_t reg, uint32_t *val);
bool vgpu_irq_write(struct vgpu *v, uint32_t reg, uint32_t val);
void vgpu_irq_reset(struct vgpu *v);

#endif
