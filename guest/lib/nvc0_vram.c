/*
 * VRAM: the physical allocator (device-wide) and buffer objects.
 *
 * The driver manages VRAM [0, size) with size read from the PFB registers,
 * never assuming more: under gpuvm a VM sees only its partition.  The first
 * 64 KiB stay unused so that physical address 0 never names a live object
 * (a zeroed PTE or instance pointer then points at nothing of ours).
 */
#include "nvc0_driver.h"

#define VRAM_RESERVED_LOW (64u << 10)

int nvc0_vram_init(struct gpuvm_device *dev)
{
	if (dev->vram_size <= VRAM_RESERVED_LOW)
		return gpuvm_fail(GPUVM_ERR_DEVICE, "VRAM of %llu bytes is too small",
				  (unsigned long long)dev->vram_size);
	if (range_init(&dev->vram, VRAM_RESERVED_LOW, dev->vram_size - VRAM_RESERVED_LOW))
		return gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "VRAM allocator: out of host memory");
	return GPUVM_OK;
}

void nvc0_vram_fini(struct gpuvm_device *dev)
{
	range_fini(&dev->vram);
}

int nvc0_vram_get(struct gpuvm_device *dev, uint64_t size, uint64_t align, uint64_t *phys)
{
	int ret;

	nvc0_lock(dev);
	ret = range_take(&dev->vram, size, align, phys);
	nvc0_unlock(dev);
	if (ret == -ENOSPC)
		return gpuvm_fail(GPUVM_ERR_NO_VRAM,
				  "out of VRAM: %llu bytes requested, %llu of %llu MiB in use",
				  (unsigned long long)size,
				  (unsigned long long)(dev->vram.in_use >> 20),
				  (unsigned long long)(dev->vram_size >> 20));
	if (ret)
		return gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "VRAM allocator: out of host memory");
	return GPUVM_OK;
}

void nvc0_vram_put(struct gpuvm_device *dev, uint64_t phys, uint64_t size)
{
	nvc0_lock(dev);
	dev->vram_fresh = false;        /* handed out again later: no longer known zero */
	range_give(&dev->vram, phys, size);
	nvc0_unlock(dev);
}

/* Large pages cut page-table writes (and, virtualised, traps) by 32 for big buffers. */
unsigned nvc0_bo_page_shift(uint64_t size)
{
	return size >= NV_LPAGE_SIZE ? NV_LPAGE_SHIFT : NV_SPAGE_SHIFT;
}

int nvc0_bo_new(struct gpuvm_device *dev, uint64_t size, struct nvc0_bo *bo)
{
	int err;

	memset(bo, 0, sizeof(*bo));
	if (!size)
		return gpuvm_fail(GPUVM_ERR_INVALID, "zero-sized buffer");
	if (size > dev->vram_size)
		return gpuvm_fail(GPUVM_ERR_NO_VRAM, "buffer of %llu bytes exceeds VRAM (%llu MiB)",
				  (unsigned long long)size, (unsigned long long)(dev->vram_size >> 20));
	bo->page_shift = nvc0_bo_page_shift(size);
	bo->size = nvc0_align_up(size, 1ull << bo->page_shift);
	err = nvc0_vram_get(dev, bo->size, 1ull << bo->page_shift, &bo->phys);
	if (err) {
		memset(bo, 0, sizeof(*bo));
		return err;
	}
	bo->dev = dev;
	return GPUVM_OK;
}

int nvc0_bo_map(struct nvc0_bo *bo, struct nvc0_vm *vm, bool read_only)
{
	uint64_t va;
	int err = nvc0_vm_get_va(vm, bo->size, bo->page_shift, &va);

	if (err)
		return err;
	err = nvc0_vm_map(vm, va, bo->phys, bo->size, bo->page_shift, read_only);
	if (err) {
		nvc0_vm_put_va(vm, va, bo->size);
		return err;
	}
	bo->vm = vm;
	bo->va = va;
	return GPUVM_OK;
}

int nvc0_bo_map_bar1(struct nvc0_bo *bo)
{
	struct gpuvm_device *dev = bo->dev;
	uint64_t off;
	int err;

	if (bo->bar1_mapped)
		return GPUVM_OK;
	nvc0_lock(dev);
	/* Kept with the mapping: the unmap must clear PTEs of the same size,
	 * whichever path (PV or the driver's own) it takes then. */
	bo->bar1_shift = nvc0_pv_bar1_shift(dev, bo->page_shift);
	err = nvc0_vm_get_va(&dev->bar1.vm, bo->size, bo->page_shift, &off);
	if (!err) {
		err = nvc0_vm_map(&dev->bar1.vm, off, bo->phys, bo->size, bo->bar1_shift, false);
		if (err)
			nvc0_vm_put_va(&dev->bar1.vm, off, bo->size);
	}
	nvc0_unlock(dev);
	if (err)
		return err;
	bo->bar1 = off;
	bo->bar1_mapped = true;
	return GPUVM_OK;
}

static void bo_unmap_bar1(struct nvc0_bo *bo)
{
	struct gpuvm_device *dev = bo->dev;

	nvc0_lock(dev);
	nvc0_vm_unmap(&dev->bar1.vm, bo->bar1, bo->size, bo->bar1_shift);
	nvc0_vm_put_va(&dev->bar1.vm, bo->bar1, bo->size);
	nvc0_unlock(dev);
	bo->bar1_mapped = false;
}

void nvc0_bo_del(struct nvc0_bo *bo)
{
	if (!bo->dev)
		return;
	if (bo->bar1_mapped)
		bo_unmap_bar1(bo);
	if (bo->vm) {
		nvc0_vm_unmap(bo->vm, bo->va, bo->size, bo->page_shift);
		nvc0_vm_put_va(bo->vm, bo->va, bo->size);
	}
	nvc0_vram_put(bo->dev, bo->phys, bo->size);
	memset(bo, 0, sizeof(*bo));
}
