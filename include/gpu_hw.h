/*
 * struct gpu_hw: the one interface through which gpuvm reaches a physical
 * NVC0 GPU.  gpusim implements it in-process; gpu/pci maps a real board with
 * libpciaccess.  Code above this line cannot tell which one it has.
 */
#ifndef GPU_HW_H
#define GPU_HW_H

#include <stddef.h>
#include <stdint.h>

struct gpu_hw;

enum gpu_bar {
	GPU_BAR0 = 0,   /* registers */
	GPU_BAR1 = 1,   /* VRAM aperture through the BAR1 VM */
	GPU_BAR3 = 3,   /* RAMIN aperture through the BAR3 VM */
};

typedef void (*gpu_irq_fn)(void *arg);

struct gpu_hw_ops {
	uint32_t (*rd32)(struct gpu_hw *hw, uint32_t addr);
	void (*wr32)(struct gpu_hw *hw, uint32_t addr, uint32_t val);
	/*
	 * Access len bytes at off in BAR1 or BAR3.  Returns 0, or -EFAULT when
	 * part of the range is not mapped by the BAR's VM (reads then fill the
	 * unmapped part with 0xff, writes to it are dropped), -EINVAL for a bad
	 * BAR or a range outside the aperture.
	 */
	int (*bar_read)(struct gpu_hw *hw, enum gpu_bar bar, uint64_t off, void *buf, size_t len);
	int (*bar_write)(struct gpu_hw *hw, enum gpu_bar bar, uint64_t off, const void *buf, size_t len);
	uint64_t (*bar_size)(struct gpu_hw *hw, enum gpu_bar bar);
	/*
	 * A file descriptor through which the CPU reaches VRAM at addr, so
	 * that a partition can be mmapped elsewhere (by the daemon, or handed
	 * to a guest process).  The fd is owned by the hw: do not close it.
	 * *fd_off is addr's offset in that file and *len how many bytes from
	 * addr it backs contiguously (VRAM may be split over several files,
	 * so that a guest can be given exactly its partition and nothing
	 * else).  The files allow sealing (F_SEAL_SHRINK/GROW), so a daemon
	 * can stop a guest from resizing them.  Returns the fd, -EINVAL beyond
	 * VRAM, or -ENOTSUP when VRAM cannot be reached that way.
	 */
	int (*vram_fd)(struct gpu_hw *hw, uint64_t addr, uint64_t *fd_off, uint64_t *len);
	uint64_t (*vram_size)(struct gpu_hw *hw);
	/*
	 * Called (from a GPU-side thread) whenever an enabled interrupt becomes
	 * pending in NV_PMC_INTR.  The handler must not call back into hw.
	 */
	void (*set_irq_handler)(struct gpu_hw *hw, gpu_irq_fn fn, void *arg);
	void (*destroy)(struct gpu_hw *hw);
};

struct gpu_hw {
	const struct gpu_hw_ops *ops;
	const char *name;
};

static inline uint32_t gpu_rd32(struct gpu_hw *hw, uint32_t addr)
{
	return hw->ops->rd32(hw, addr);
}

static inline void gpu_wr32(struct gpu_hw *hw, uint32_t addr, uint32_t val)
{
	hw->ops->wr32(hw, addr, val);
}

static inline int gpu_bar_read(struct gpu_hw *hw, enum gpu_bar bar, uint64_t off, void *buf, size_t len)
{
	return hw->ops->bar_read(hw, bar, off, buf, len);
}

static inline int gpu_bar_write(struct gpu_hw *hw, enum gpu_bar bar, uint64_t off, const void *buf, size_t len)
{
	return hw->ops->bar_write(hw, bar, off, buf, len);
}

static inline void gpu_hw_destroy(struct gpu_hw *hw)
{
	if (hw)
		hw->ops->destroy(hw);
}

#endif
