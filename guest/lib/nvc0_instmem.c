/*
 * Instance memory: the driver's kernel objects (instance blocks, page
 * directories and tables, runlists).  As drivers do on NVC0, a VRAM heap is
 * mapped linearly into BAR3 and objects allocated from it are written with
 * plain BAR3 writes (one transport call per range instead of one per word).
 * Objects that do not fit in the heap, and the BAR3 VM's own tables (which
 * must exist before BAR3 works), are written through PRAMIN.
 */
#include "nvc0_driver.h"

#define HEAP_MAX        (16ull << 20)
#define ZERO_CHUNK      (64u << 10)

static const uint8_t zero_chunk[ZERO_CHUNK];

/* Heap size: what BAR3 can map, at most 16 MiB and 1/8 of VRAM, in large pages. */
static uint64_t instmem_heap_size(struct gpuvm_device *dev)
{
	uint64_t size = dev->tp->ops->bar_size(dev->tp, GPUVM_BAR3);

	if (size > HEAP_MAX)
		size = HEAP_MAX;
	if (size > dev->vram_size / 8)
		size = dev->vram_size / 8;
	return size & ~(uint64_t)(NV_LPAGE_SIZE - 1);
}

/* Write through BAR3, read back through PRAMIN: proves the BAR3 VM works. */
static int instmem_selftest(struct gpuvm_device *dev)
{
	const uint32_t pattern = 0x5a3cc3a5u;
	uint32_t back = 0;
	int err;

	if (dev->tp->ops->bar_write(dev->tp, GPUVM_BAR3, 0, &pattern, 4))
		return gpuvm_fail(GPUVM_ERR_DEVICE, "BAR3 write to the kernel heap faulted");
	nvc0_bar_flush(dev);
	err = nvc0_pramin_read(dev, dev->imem.heap_phys, &back, 4);
	if (err)
		return err;
	if (back != pattern)
		return gpuvm_fail(GPUVM_ERR_DEVICE,
				  "BAR3 write landed elsewhere (read 0x%08x through PRAMIN)", back);
	/* The heap is handed out from here: leave it as it was (zero if fresh). */
	back = 0;
	if (dev->tp->ops->bar_write(dev->tp, GPUVM_BAR3, 0, &back, 4))
		return gpuvm_fail(GPUVM_ERR_DEVICE, "BAR3 write to the kernel heap faulted");
	return GPUVM_OK;
}

int nvc0_instmem_init(struct gpuvm_device *dev)
{
	struct nvc0_instmem *im = &dev->imem;
	uint64_t size = instmem_heap_size(dev);
	int err;

	if (!size)   /* no usable BAR3: everything goes through PRAMIN */
		return GPUVM_OK;
	err = nvc0_vram_get(dev, size, NV_LPAGE_SIZE, &im->heap_phys);
	if (err)
		return err;
	im->heap_size = size;
	err = nvc0_bar3_init(dev, im->heap_phys, size);
	if (err)
		goto err_vram;
	if (range_init(&im->heap, im->heap_phys, size)) {
		err = gpuvm_fail(GPUVM_ERR_NO_HOST_MEMORY, "instmem: out of host memory");
		goto err_bar3;
	}
	err = instmem_selftest(dev);
	if (err)
		goto err_heap;
	/* Fresh at bring-up: the whole heap is zero until handed out. */
	im->clean_valid = dev->vram_fresh && !range_init(&im->clean, im->heap_phys, size);
	im->bar3_ready = true;
	return GPUVM_OK;

err_heap:
	range_fini(&im->heap);
err_bar3:
	nvc0_bar_fini(dev, &dev->bar3, NV_PBUS_BAR3_INST);
err_vram:
	nvc0_vram_put(dev, im->heap_phys, size);
	im->heap_size = 0;
	return err;
}

void nvc0_instmem_fini(struct gpuvm_device *dev)
{
	struct nvc0_instmem *im = &dev->imem;

	if (!im->heap_size)
		return;
	im->bar3_ready = false;
	range_fini(&im->heap);
	if (im->clean_valid)
		range_fini(&im->clean);
	im->clean_valid = false;
	nvc0_bar_fini(dev, &dev->bar3, NV_PBUS_BAR3_INST);
	nvc0_vram_put(dev, im->heap_phys, im->heap_size);
	im->heap_size = 0;
}

static int kobj_fill_zero(struct gpuvm_device *dev, const struct nvc0_kobj *obj)
{
	for (uint64_t off = 0; off < obj->size; off += ZERO_CHUNK) {
		uint64_t n = obj->size - off < ZERO_CHUNK ? obj->size - off : ZERO_CHUNK;
		int err = nvc0_kobj_write(dev, obj, off, zero_chunk, (size_t)n);

		if (err)
			return err;
	}
	return GPUVM_OK;
}

/*
 * Whether a new object's memory is zero already: fresh VRAM during the
 * bring-up of a scrubbed vGPU, or heap memory not handed out since then
 * (freed objects are not clean again).  Each zero fill a vGPU guest avoids
 * is thousands of trapped writes.  Called with the device locked.
 */
static bool kobj_known_zero(struct gpuvm_device *dev, const struct nvc0_kobj *obj)
{
	struct nvc0_instmem *im = &dev->imem;
	int claimed;

	if (!obj->in_heap || !im->clean_valid)
		return dev->vram_fresh;
	/* Claimed even while fresh: the object will not be zero once used. */
	claimed = range_claim(&im->clean, obj->phys, obj->size);
	if (claimed < 0) {      /* bookkeeping failed: trust nothing from now on */
		range_fini(&im->clean);
		im->clean_valid = false;
	}
	return dev->vram_fresh || claimed == 1;
}

int nvc0_kobj_new(struct gpuvm_device *dev, uint64_t size, uint64_t align, struct nvc0_kobj *obj)
{
	struct nvc0_instmem *im = &dev->imem;
	bool known_zero;
	int err;

	memset(obj, 0, sizeof(*obj));
	size = nvc0_align_up(size, NV_SPAGE_SIZE);
	nvc0_lock(dev);
	if (im->bar3_ready && !range_take(&im->heap, size, align, &obj->phys)) {
		obj->in_heap = true;
	} else {
		err = nvc0_vram_get(dev, size, align, &obj->phys);
		if (err) {
			nvc0_unlock(dev);
			return err;
		}
	}
	obj->size = size;
	known_zero = kobj_known_zero(dev, obj);
	nvc0_unlock(dev);
	err = known_zero ? GPUVM_OK : kobj_fill_zero(dev, obj);
	if (err)
		nvc0_kobj_del(dev, obj);
	return err;
}

void nvc0_kobj_del(struct gpuvm_device *dev, struct nvc0_kobj *obj)
{
	if (!obj->size)
		return;
	nvc0_lock(dev);
	dev->vram_fresh = false;        /* handed out again later: no longer known zero */
	if (obj->in_heap)
		range_give(&dev->imem.heap, obj->phys, obj->size);
	else
		nvc0_vram_put(dev, obj->phys, obj->size);
	nvc0_unlock(dev);
	memset(obj, 0, sizeof(*obj));
}

static int kobj_range_check(const struct nvc0_kobj *obj, uint64_t off, size_t len)
{
	if (off > obj->size || len > obj->size - off)
		return gpuvm_fail(GPUVM_ERR_INVALID, "kernel object access 0x%llx+%zu beyond its %llu bytes",
				  (unsigned long long)off, len, (unsigned long long)obj->size);
	return GPUVM_OK;
}

int nvc0_kobj_write(struct gpuvm_device *dev, const struct nvc0_kobj *obj, uint64_t off,
		    const void *buf, size_t len)
{
	int err = kobj_range_check(obj, off, len);

	if (err)
		return err;
	err = obj->in_heap ? nvc0_pv_bar_sync(dev, 3, obj->phys - dev->imem.heap_phys + off, len)
			   : nvc0_pv_bar_sync(dev, 0, obj->phys + off, len);
	if (err)
		return err;
	if (!obj->in_heap)
		return nvc0_pramin_write(dev, obj->phys + off, buf, len);
	if (dev->tp->ops->bar_write(dev->tp, GPUVM_BAR3, obj->phys - dev->imem.heap_phys + off, buf, len))
		return gpuvm_fail(GPUVM_ERR_DEVICE, "BAR3 write to a kernel object at 0x%llx faulted",
				  (unsigned long long)(obj->phys + off));
	return GPUVM_OK;
}

int nvc0_kobj_read(struct gpuvm_device *dev, const struct nvc0_kobj *obj, uint64_t off,
		   void *buf, size_t len)
{
	int err = kobj_range_check(obj, off, len);

	if (err)
		return err;
	err = obj->in_heap ? nvc0_pv_bar_sync(dev, 3, obj->phys - dev->imem.heap_phys + off, len)
			   : nvc0_pv_bar_sync(dev, 0, obj->phys + off, len);
	if (err)
		return err;
	if (!obj->in_heap)
		return nvc0_pramin_read(dev, obj->phys + off, buf, len);
	if (dev->tp->ops->bar_read(dev->tp, GPUVM_BAR3, obj->phys - dev->imem.heap_phys + off, buf, len))
		return gpuvm_fail(GPUVM_ERR_DEVICE, "BAR3 read of a kernel object at 0x%llx faulted",
				  (unsigned long long)(obj->phys + off));
	return GPUVM_OK;
}

int nvc0_kobj_wr32(struct gpuvm_device *dev, const struct nvc0_kobj *obj, uint64_t off, uint32_t v)
{
	return nvc0_kobj_write(dev, obj, off, &v, 4);
}
