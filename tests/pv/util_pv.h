/*
 * A PV guest driven in-process: a gpusim, a host, one vGPU, and helpers
 * that write requests straight into the vGPU's partition (as a guest does
 * through its mapping) and ring the doorbell through vgpu_mmio() on BAR4.
 */
#ifndef TEST_UTIL_PV_H
#define TEST_UTIL_PV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpusim.h"
#include "gpuvm_pv.h"
#include "host.h"
#include "vgpu.h"

#define PVG_AREA        0x100000ull     /* request area, guest physical */
#define PVG_AREA_SIZE   (256u << 10)    /* 4096 entries */

struct pvg {
	struct gpusim *sim;
	struct gpuvm_host *host;
	struct vgpu *v;
	uint64_t area;
};

int pvg_setup(struct pvg *g, enum vgpu_mode mode, unsigned vram_mib);
void pvg_teardown(struct pvg *g);
uint32_t pvg_rd(struct pvg *g, uint32_t off);
void pvg_wr(struct pvg *g, uint32_t off, uint32_t val);
void pvg_arm(struct pvg *g, uint64_t area, uint32_t size);
struct gpuvm_pv_req *pvg_entry(struct pvg *g, unsigned i);
/* Doorbell for [first, first + count); returns STATUS. */
int32_t pvg_ring(struct pvg *g, uint32_t first, uint32_t count);
/* One request in entry 0: the batch status if refused, else the entry's. */
int32_t pvg_one(struct pvg *g, const struct gpuvm_pv_req *r, uint32_t *handle);
/* A new address space with a 1 TiB limit; 0 on failure. */
uint32_t pvg_space(struct pvg *g);
bool pvg_isolated(struct pvg *g, char *why, size_t len);
/*
 * A guest BAR1 VM as a driver builds it (instance block PVG_BAR_INST, page
 * directory PVG_BAR_PD, one small-page table for PDE 0 at PVG_BAR_SPT),
 * written straight into the partition, then bound through 0x1704.
 */
#define PVG_BAR_INST    0x008000ull
#define PVG_BAR_PD      0x010000ull
#define PVG_BAR_SPT     0x040000ull
void pvg_bind_bar1(struct pvg *g);
uint64_t pvg_bar_read(struct pvg *g, unsigned bar, uint64_t off);

#endif
