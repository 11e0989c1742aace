/*
 * Raw access to a device for tests and tools: its registers, BARs and VRAM,
 * beside (not through) the driver.  Open the device with gpuvm_device_open()
 * (which does not touch the GPU) or take it from a context.
 *
 * VRAM access goes through the PRAMIN window, sharing the driver's lock and
 * its idea of where the window points, so raw reads and the driver do not
 * disturb each other.  Moving the window with a raw write of 0x1700 is
 * allowed; the driver notices.
 */
#ifndef GPUVM_RAW_H
#define GPUVM_RAW_H

#include <stddef.h>
#include <stdint.h>

#include "gpuvm_guest.h"
#include "gpuvm_transport.h"

uint32_t gpuvm_raw_rd32(struct gpuvm_device *dev, uint32_t reg);
void gpuvm_raw_wr32(struct gpuvm_device *dev, uint32_t reg, uint32_t val);

/* BAR1/BAR3 access; GPUVM_OK or GPUVM_ERR_INVALID / GPUVM_ERR_FAULTED (unmapped). */
int gpuvm_raw_bar_read(struct gpuvm_device *dev, enum gpuvm_bar bar, uint64_t off,
		       void *buf, size_t len);
int gpuvm_raw_bar_write(struct gpuvm_device *dev, enum gpuvm_bar bar, uint64_t off,
			const void *buf, size_t len);
uint64_t gpuvm_raw_bar_size(struct gpuvm_device *dev, enum gpuvm_bar bar);

/* VRAM size from the size registers (0x022438 x 0x10f20c MiB). */
uint64_t gpuvm_raw_vram_size(struct gpuvm_device *dev);
/* Physical VRAM through PRAMIN; addr and len multiples of 4, inside VRAM. */
int gpuvm_raw_vram_read(struct gpuvm_device *dev, uint64_t addr, void *buf, size_t len);
int gpuvm_raw_vram_write(struct gpuvm_device *dev, uint64_t addr, const void *buf, size_t len);

/* PTIMER nanoseconds (high, low, high). */
uint64_t gpuvm_raw_ptimer(struct gpuvm_device *dev);

struct gpuvm_transport *gpuvm_raw_transport(struct gpuvm_device *dev);

/*
 * Driver facts about a context, for tests that check the hardware state
 * (page tables, instance block) the driver built.
 */
struct gpuvm_ctx_layout {
	int chid;
	uint64_t inst;            /* instance block, VRAM physical */
	uint64_t pd;              /* page directory, VRAM physical */
	uint64_t userd;           /* USERD page, VRAM physical */
	uint64_t userd_bar1;      /* USERD page in BAR1 */
	uint64_t fence_va;        /* fence semaphore, GPU virtual */
	uint64_t fence_bar1;      /* the same in BAR1 */
};

int gpuvm_raw_ctx_layout(struct gpuvm_ctx *ctx, struct gpuvm_ctx_layout *out);
/* Physical VRAM address behind ptr (GPUVM_ERR_INVALID when not allocated). */
int gpuvm_raw_ctx_phys(struct gpuvm_ctx *ctx, gpuvm_devptr ptr, uint64_t *phys);

#endif
