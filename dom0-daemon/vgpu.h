/*
 * The vGPU: what gpuvmd gives one VM.  This is the interface between the
 * vGPU core (register table, channel and VRAM virtualisation, shadow page
 * tables) and its users: the control socket (lifecycle), the trap backends
 * (MMIO), and the tests (isolation checker).
 *
 * Threads: vgpu_mmio() is called by the one backend thread serving the
 * vGPU; lifecycle calls come from the control thread; interrupts from the
 * host's interrupt thread.  Each vGPU has its own lock; calls on different
 * vGPUs never wait on each other except for short host-wide operations
 * (channel table, runlist, TLB flush).
 */
#ifndef GPUVM_VGPU_H
#define GPUVM_VGPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpu_hw.h"
#include "vgpu_io.h"
#include "gpu_sched.h"

#define VGPU_NAME_MAX       32          /* including the NUL */
#define VGPU_MAX_CHANNELS   64
#define VGPU_DEFAULT_VRAM   (256ull << 20)
#define VGPU_DEFAULT_CHANNELS 8
#define VGPU_VRAM_ALIGN     (16ull << 20)   /* partitions are multiples of this */
#define VGPU_MAX_PARTS      64              /* backing files of one partition */

enum vgpu_mode {
	VGPU_MODE_FULL = 0,
	VGPU_MODE_PV_NAIVE,
	VGPU_MODE_PV,
};

const char *vgpu_mode_name(enum vgpu_mode m);
/* "full", "pv-naive", "pv" -> mode; -1 if unknown. */
int vgpu_mode_parse(const char *s);

struct vgpu_config {
	char name[VGPU_NAME_MAX];   /* [A-Za-z0-9_.-]{1,31} */
	uint64_t vram_size;         /* multiple of VGPU_VRAM_ALIGN */
	unsigned channels;          /* 1..VGPU_MAX_CHANNELS */
	enum vgpu_mode mode;
};

/* Counters and state for `gpuvmctl list/info`. */
struct vgpu_info {
	char name[VGPU_NAME_MAX];
	unsigned id;
	enum vgpu_mode mode;
	uint64_t vram_size;
	uint64_t vram_base;         /* host physical base of the partition */
	unsigned channels;          /* virtual channels the VM may use */
	unsigned channels_bound;    /* of which backed by a physical channel now */
	bool attached;              /* a guest is connected */
	uint64_t mmio_reads, mmio_writes;
	uint64_t denied;            /* accesses to registers with no handler */
	uint64_t pte_rejected;      /* guest PTEs pointing outside the partition */
	uint64_t reshadows;         /* page-table units rebuilt */
	uint64_t tlb_flushes;
	uint64_t submissions;       /* GP_PUT writes forwarded */
	uint64_t faults;            /* GPU faults routed to this VM */
	enum vgpu_mode pending_mode;    /* == mode unless a switch waits for quiescence */
	uint64_t pv_doorbells;      /* PV doorbells rung */
	uint64_t pv_requests;       /* PV requests run */
	uint64_t pv_errors;         /* PV requests or batches refused */
	uint64_t mode_switches;
	uint64_t guest_resets;          /* resets the guest asked for (PV RESET) */
	bool opt_lazy;              /* full mode: shadows rebuilt only where the guest wrote */
	bool opt_remap;             /* BAR pages without tracked structures are mapped, not trapped */
};

struct gpuvm_host;
struct vgpu;

/* ---- Host: the physical GPU and what is shared between vGPUs ------------ */
struct host_config {
	uint64_t reserved_vram;     /* daemon-owned VRAM for shadows; 0 = 64 MiB */
	const char *sched;          /* policy name; NULL = "credit" */
	struct sched_params sched_params;   /* zeros = defaults */
};

/* Takes ownership of hw on success. */
struct gpuvm_host *host_create(struct gpu_hw *hw, const struct host_config *cfg,
			       char *err, size_t errlen);
void host_destroy(struct gpuvm_host *host);
struct gpu_hw *host_hw(struct gpuvm_host *host);
/* VRAM left for partitions, and the largest partition that fits now. */
void host_vram_free(struct gpuvm_host *host, uint64_t *total_free, uint64_t *largest);
/* Check every vGPU and the physical channel table; 0 = clean, else -1 and why. */
int host_check_isolation(struct gpuvm_host *host, char *why, size_t len);

/* ---- Scheduling ------------------------------------------------------------- */
/* Switch the policy ("direct", "fifo", "credit", "band") at run time. */
int host_set_sched(struct gpuvm_host *host, const char *policy, char *err, size_t errlen);
const char *host_sched_name(struct gpuvm_host *host);
int host_set_sched_params(struct gpuvm_host *host, const struct sched_params *p);
void host_get_sched_params(struct gpuvm_host *host, struct sched_params *p);
void host_sched_stats(struct gpuvm_host *host, struct sched_stats *out);
/* weight/cap < 0: leave unchanged.  -EINVAL for out-of-range values. */
int vgpu_sched_set(struct vgpu *v, int weight, int cap);
void vgpu_sched_stats(struct vgpu *v, struct sched_vm_stats *out);

/* ---- vGPU lifecycle (control thread) --------------------------------------- */
/* Build the register table once; fails on a duplicate or overlapping entry. */
int vgpu_core_init(void);
struct vgpu *vgpu_create(struct gpuvm_host *host, const struct vgpu_config *cfg,
			 char *err, size_t errlen);
/* Stops and frees every physical channel, scrubs and returns the partition. */
void vgpu_destroy(struct vgpu *v);
/* Back to power-on state: channels stopped and freed, partition scrubbed. */
void vgpu_reset(struct vgpu *v);
void vgpu_get_info(struct vgpu *v, struct vgpu_info *out);
/*
 * Ask for another mode.  It applies at the vGPU's next quiescent point: at
 * once if no channel is bound and no PV address space is live, else when the
 * last goes, at a reset, or when the guest writes GPUVM_PV_SWITCH.
 */
int vgpu_set_mode(struct vgpu *v, enum vgpu_mode mode);
/*
 * The full-virtualisation optimisations, on by default (1 on, 0 off, -1
 * unchanged).  Off, every guest TLB flush rebuilds the flushed directory's
 * shadows completely, and every BAR1/BAR3 page traps.  For measurements.
 */
void vgpu_set_opts(struct vgpu *v, int lazy, int remap);
const char *vgpu_name(const struct vgpu *v);

/*
 * A backend claims the vGPU for one guest.  detach_hook is called (from the
 * control thread) when the daemon destroys or resets the vGPU, so the
 * backend can drop its guest first; it must return only once the backend
 * no longer calls vgpu_mmio().  Returns -EBUSY if a guest is attached.
 */
int vgpu_attach(struct vgpu *v, void (*detach_hook)(void *arg), void *arg);
/* The guest is gone (backend side): reset the vGPU and release the claim. */
void vgpu_detach(struct vgpu *v);

/* ---- Trap path (backend thread) -------------------------------------------- */
/* Handle one access.  Never fails: a bad access is denied (reads 0). */
void vgpu_mmio(struct vgpu *v, struct vgpu_io *io);

/*
 * What a backend may map for its guest without trapping (BAR remapping):
 * the partition's backing files in guest-physical order, and a table with
 * one uint32_t per BAR1 page then per BAR3 page: 0 = the page must trap,
 * else (guest physical address >> 12) + 1 of the page it maps.  The table
 * is kept current by the vGPU; a guest reads it before each direct access.
 */
struct vgpu_export {
	uint64_t vram_size;
	unsigned nparts;
	struct {
		int fd;             /* owned by the hw: do not close */
		uint64_t fd_off;
		uint64_t len;
	} part[VGPU_MAX_PARTS];
	int remap_fd;               /* memfd of the table, owned by the vGPU */
	uint64_t bar1_size, bar3_size;
	uint32_t bar1_pages, bar3_pages;
};
int vgpu_export(struct vgpu *v, struct vgpu_export *out);

/* ---- Isolation checker ------------------------------------------------------- */
/* Every shadow PTE and BAR mapping inside the partition (or the scratch page). */
int vgpu_check_isolation(struct vgpu *v, char *why, size_t len);

#endif
