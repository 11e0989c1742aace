/*
 * The host NVC0 driver inside gpuvmd: the only code that touches physical
 * registers.  It owns the physical GPU through struct gpu_hw and hands the
 * vGPU core what vGPUs share: VRAM (the daemon's reserved area and the
 * partitions), physical channels, the physical runlist, TLB flushes and the
 * interrupt thread that routes faults to the owning vGPU.
 */
#ifndef GPUVM_HOST_H
#define GPUVM_HOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "gpu_hw.h"
#include "nvc0/regs.h"
#include "range_alloc.h"
#include "vgpu.h"

#define HOST_DEFAULT_RESERVED   (64ull << 20)
#define HOST_MAX_VGPUS          64

/* Host-side routing information for one physical channel. */
struct host_chan {
	struct vgpu *owner;     /* NULL when free */
	unsigned vchid;         /* the owner's virtual channel id */
	uint64_t inst;          /* shadow instance block */
	bool listed;            /* on the physical runlist */
};

struct gpuvm_host {
	struct gpu_hw *hw;
	pthread_mutex_t lock;           /* everything below but the VRAM mapping */
	uint8_t *vram;                  /* CPU mapping of VRAM, NULL if none */
	uint64_t vram_size;
	struct host_ranges reserved;    /* daemon-owned pages */
	struct host_ranges parts;       /* VM partitions */
	uint64_t reserved_size;
	uint64_t scratch;               /* a zeroed page no guest can reach */
	uint64_t runlist[2];            /* double-buffered physical runlist */
	unsigned runlist_cur;
	uint64_t bar1_inst;             /* host BAR1 VM: identity over the reserved area */
	struct host_chan chan[NV_PFIFO_CHANNELS];
	struct vgpu *vgpus[HOST_MAX_VGPUS];
	unsigned next_vgpu_id;
	struct sched *sched;            /* whose work reaches the GPU */
	/* interrupts */
	int irq_fd;                     /* eventfd written by the hw callback */
	pthread_t irq_thread;
	bool irq_running;
};

/* ---- VRAM (host_vram.c) ----------------------------------------------------- */
int host_vram_map(struct gpuvm_host *host);
void host_vram_unmap(struct gpuvm_host *host);
uint32_t host_rd32_vram(struct gpuvm_host *host, uint64_t addr);
void host_wr32_vram(struct gpuvm_host *host, uint64_t addr, uint32_t val);
void host_vram_zero(struct gpuvm_host *host, uint64_t addr, uint64_t len);
/* Scrub a partition: zero it and let its backing pages go. */
void host_vram_scrub(struct gpuvm_host *host, uint64_t addr, uint64_t len);
/* Daemon pages: zeroed on allocation.  Host lock taken inside. */
int host_page_alloc(struct gpuvm_host *host, uint64_t size, uint64_t align, uint64_t *addr);
void host_page_free(struct gpuvm_host *host, uint64_t addr, uint64_t size);
bool host_addr_reserved(const struct gpuvm_host *host, uint64_t addr, uint64_t len);

/* ---- Channels and runlist (host_fifo.c); host lock taken inside ------------- */
int host_fifo_init(struct gpuvm_host *host);
int host_chan_alloc(struct gpuvm_host *host, struct vgpu *owner, unsigned vchid);
/* Point the physical channel at a shadow instance block and set RUNNABLE. */
void host_chan_bind(struct gpuvm_host *host, int pchid, uint64_t inst, bool runnable,
		    struct vgpu *owner);
void host_chan_set_runnable(struct gpuvm_host *host, int pchid, bool runnable);
/* Stop (preempt, unbind) and free the channel. */
void host_chan_free(struct gpuvm_host *host, int pchid);
uint32_t host_chan_ctrl(struct gpuvm_host *host, int pchid);
void host_chan_set_listed(struct gpuvm_host *host, int pchid, bool listed);
int host_runlist_commit(struct gpuvm_host *host);
void host_chan_preempt(struct gpuvm_host *host, int pchid);
/* Write GP_PUT of a shadow USERD through the host BAR1 (kicks the GPU). */
void host_userd_put(struct gpuvm_host *host, uint64_t userd, uint32_t put);

/* ---- MMU (host_mmu.c) --------------------------------------------------------- */
int host_bar1_init(struct gpuvm_host *host);
int host_tlb_flush(struct gpuvm_host *host, uint64_t pd, uint32_t type);

/* ---- Interrupts (host_irq.c) -------------------------------------------------- */
int host_irq_start(struct gpuvm_host *host);
void host_irq_stop(struct gpuvm_host *host);
/* Process pending interrupts now (also used by tests). */
void host_irq_service(struct gpuvm_host *host);

/* PTIMER in nanoseconds (high, low, high: retried if the high word moved). */
uint64_t host_ptimer_ns(struct gpuvm_host *host);

/* ---- Delivery into a vGPU (implemented by the vGPU core) ---------------------- */
/* The physical VRAM a vGPU's channels may touch: partition and hole. */
unsigned vgpu_dma_ranges(struct vgpu *v, uint64_t base[2], uint64_t size[2]);
void vgpu_deliver_fault(struct vgpu *v, unsigned unit, unsigned vchid, uint64_t va,
			uint32_t flags);
void vgpu_deliver_pbdma(struct vgpu *v, unsigned vchid, uint32_t bits, uint32_t info);
void vgpu_deliver_notify(struct vgpu *v, unsigned vchid);

#endif
