/*
 * A minimal guest driver that talks to a vGPU by calling vgpu_mmio()
 * directly, for unit tests of the vGPU core without a trap backend.  It
 * builds page tables and channels in guest-physical VRAM the way nvc0.md
 * says a driver must, so each test can then misbehave on purpose.
 */
#ifndef TEST_UTIL_VGUEST_H
#define TEST_UTIL_VGUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "gpusim.h"
#include "host.h"
#include "vgpu.h"

/* Guest-physical layout used by the helpers (all inside a 64 MiB partition). */
#define VG_PD           0x010000ull     /* 64 KiB page directory */
#define VG_SPT          0x100000ull     /* small-page table for PDE 0 (256 KiB) */
#define VG_INST(c)      (0x040000ull + (c) * 0x1000)
#define VG_USERD(c)     (0x060000ull + (c) * 0x1000)
#define VG_RUNLIST      0x080000ull
#define VG_BAR_INST     0x090000ull
#define VG_DATA         0x200000ull     /* data pages start here */
#define VG_VA_BASE      0x0ull          /* VA == guest physical for data pages */
#define VG_RING_VA      0x300000ull     /* GPFIFO ring (mapped), 512 entries */
#define VG_PB_VA        0x310000ull     /* pushbuffer */
#define VG_SEM_VA       0x320000ull

struct vguest {
	struct gpusim *sim;
	struct gpuvm_host *host;
	struct vgpu *v;
	uint32_t put[8];
	uint32_t pb_words;
};

/* A gpusim, a host on it, and one vGPU of vram MiB named name. */
int vg_setup(struct vguest *g, const char *name, unsigned vram_mib);
void vg_teardown(struct vguest *g);
/* A second vGPU on the same host. */
int vg_add(struct vguest *g, struct vguest *other, const char *name, unsigned vram_mib);

uint32_t vg_rd32(struct vgpu *v, uint32_t reg);
void vg_wr32(struct vgpu *v, uint32_t reg, uint32_t val);
uint64_t vg_bar_rd(struct vgpu *v, unsigned bar, uint64_t off, unsigned size);
void vg_bar_wr(struct vgpu *v, unsigned bar, uint64_t off, uint64_t val, unsigned size);
void vg_pwr32(struct vgpu *v, uint64_t g, uint32_t val);    /* through PRAMIN */
uint32_t vg_prd32(struct vgpu *v, uint64_t g);

/* Map VA [va, va+len) -> guest physical [gphys, ...) with small pages in VG_SPT. */
void vg_map(struct vgpu *v, uint64_t va, uint64_t gphys, uint64_t len);
void vg_map_raw(struct vgpu *v, uint64_t va, uint64_t pte);
void vg_flush(struct vgpu *v, uint64_t pd);
/* Page directory + identity map of the first 4 MiB; BAR1 bound to the same PD. */
void vg_init_vm(struct vgpu *v);
/* Bind channel c (instance, USERD, ring, pushbuffer) and put it on the runlist. */
void vg_chan_init(struct vgpu *v, unsigned c, unsigned nchans_on_runlist);
/* Push a semaphore release of seq to VG_SEM_VA + 16*c and submit it. */
void vg_release(struct vguest *g, unsigned c, uint32_t seq);
/* Wait until (reg & mask) == want, or a BAR word reads want; false after 20 s. */
bool vg_poll_reg(struct vgpu *v, uint32_t reg, uint32_t mask, uint32_t want);
bool vg_poll_bar(struct vgpu *v, unsigned bar, uint64_t off, uint32_t want);
/* Wait until the semaphore of channel c reads seq; false after 20 s. */
bool vg_wait(struct vgpu *v, unsigned c, uint32_t seq);

#endif
